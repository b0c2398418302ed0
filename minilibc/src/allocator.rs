//! The `malloc` allocator: segregated size classes with free lists, carved
//! from large regions a [`PageSource`] provides (mmap on Linux, the memory
//! server on Mach_R); blocks above [`LARGEST_CLASS`] are mapped directly and
//! unmapped on free.
//!
//! Every block has a 16-byte header just before the payload, so payloads are
//! 16-byte aligned: word 0 is the payload capacity with flag bits, word 1 is,
//! for an over-aligned view (`memalign`), the distance back to the real
//! payload. Freed small blocks go on their class's list and are reused; the
//! regions themselves are never returned (as with most size-class mallocs).
//! Not thread-safe: the C edge serialises calls.

use core::ptr;

/// Memory provider for the allocator.
pub trait PageSource {
    /// Maps `bytes` (a multiple of 4096) of zeroed read-write memory; null on failure.
    fn map(&mut self, bytes: usize) -> *mut u8;
    /// Returns a mapping made by `map`.
    ///
    /// # Safety
    /// `address`/`bytes` must be exactly one earlier mapping, no longer used.
    unsafe fn unmap(&mut self, address: *mut u8, bytes: usize);
    /// Resizes a mapping, possibly moving it, keeping its contents; null when
    /// the source cannot (the allocator then copies).
    ///
    /// # Safety
    /// `address`/`bytes` must be exactly one earlier mapping.
    unsafe fn remap(&mut self, address: *mut u8, bytes: usize, new_bytes: usize) -> *mut u8 {
        let _ = (address, bytes, new_bytes);
        ptr::null_mut()
    }
    /// Zeroed memory the program already has (its own bss), carved before
    /// the first `map` and never unmapped: a program's first allocations
    /// (a Mach_R process's descriptor table and standard streams, at start)
    /// then cost no request. Asked once; `None`: none.
    fn first_region(&mut self) -> Option<(*mut u8, usize)> {
        None
    }
}

const HEADER: usize = 16;
const DIRECT_FLAG: usize = 1;
const ALIGNED_VIEW_FLAG: usize = 2;
const FLAG_MASK: usize = 15;
const PAGE: usize = 4096;
const REGION: usize = 1 << 20;
/// The largest payload served from size classes.
pub const LARGEST_CLASS: usize = 256 * 1024;
const SMALL_CLASSES: usize = 32;
/// 16..=512 in steps of 16, then 768, 1024, 1536, ... up to LARGEST_CLASS.
const CLASS_COUNT: usize = SMALL_CLASSES + 18;

fn class_capacity(class: usize) -> usize {
    if class < SMALL_CLASSES {
        16 * (class + 1)
    } else {
        let step = class - SMALL_CLASSES; // 0 -> 768, 1 -> 1024, 2 -> 1536 ...
        let power = 512usize << (step / 2 + 1);
        if step.is_multiple_of(2) {
            power / 4 * 3
        } else {
            power
        }
    }
}

fn class_for(size: usize) -> Option<usize> {
    if size <= 512 {
        return Some(size.max(1).div_ceil(16) - 1);
    }
    (SMALL_CLASSES..CLASS_COUNT).find(|&class| class_capacity(class) >= size)
}

/// A size-class allocator over a page source.
pub struct Allocator<S: PageSource> {
    source: S,
    free_lists: [*mut u8; CLASS_COUNT],
    cursor: usize,
    end: usize,
    /// Whether the source's first region was asked for.
    first_asked: bool,
}

fn round_up(value: usize, to: usize) -> Option<usize> {
    value.checked_add(to - 1).map(|v| v & !(to - 1))
}

impl<S: PageSource> Allocator<S> {
    pub const fn new(source: S) -> Self {
        Allocator { source, free_lists: [ptr::null_mut(); CLASS_COUNT], cursor: 0, end: 0, first_asked: false }
    }

    /// # Safety
    /// `payload` must be a live payload of this allocator.
    unsafe fn header(payload: *mut u8) -> (usize, usize) {
        // SAFETY: live payloads are preceded by their 16-byte header.
        unsafe { (*(payload.sub(HEADER) as *const usize), *(payload.sub(HEADER - 8) as *const usize)) }
    }

    /// # Safety
    /// `payload - 16` must be writable.
    unsafe fn set_header(payload: *mut u8, word0: usize, word1: usize) {
        // SAFETY: guaranteed by the caller.
        unsafe {
            *(payload.sub(HEADER) as *mut usize) = word0;
            *(payload.sub(HEADER - 8) as *mut usize) = word1;
        }
    }

    /// Allocates `size` bytes, 16-byte aligned; null when out of memory.
    pub fn allocate(&mut self, size: usize) -> *mut u8 {
        match class_for(size) {
            Some(class) => self.allocate_class(class),
            None => self.allocate_direct(size),
        }
    }

    fn allocate_class(&mut self, class: usize) -> *mut u8 {
        let head = self.free_lists[class];
        if !head.is_null() {
            // SAFETY: free-list entries are free payloads of this class whose
            // first word links to the next entry.
            unsafe {
                self.free_lists[class] = *(head as *const *mut u8);
                Self::set_header(head, class_capacity(class), 0);
            }
            return head;
        }
        let capacity = class_capacity(class);
        let block = HEADER + capacity;
        if self.end - self.cursor < block {
            let first = if self.first_asked { None } else { self.source.first_region() };
            self.first_asked = true;
            let (region, size) = match first {
                Some((region, size)) if !region.is_null() && size >= block => (region, size),
                _ => (self.source.map(REGION), REGION),
            };
            if region.is_null() {
                return ptr::null_mut();
            }
            self.cursor = region as usize;
            self.end = self.cursor + size;
        }
        let payload = (self.cursor + HEADER) as *mut u8;
        self.cursor += block;
        // SAFETY: the block lies inside the current region.
        unsafe { Self::set_header(payload, capacity, 0) };
        payload
    }

    fn allocate_direct(&mut self, size: usize) -> *mut u8 {
        let Some(total) = size.checked_add(HEADER).and_then(|t| round_up(t, PAGE)) else {
            return ptr::null_mut();
        };
        if total > isize::MAX as usize {
            return ptr::null_mut();
        }
        let mapping = self.source.map(total);
        if mapping.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: the mapping is at least HEADER + size bytes.
        unsafe {
            let payload = mapping.add(HEADER);
            Self::set_header(payload, (total - HEADER) | DIRECT_FLAG, 0);
            payload
        }
    }

    /// Bytes usable at `payload`.
    ///
    /// # Safety
    /// `payload` must be a live allocation of this allocator.
    pub unsafe fn usable_size(&self, payload: *mut u8) -> usize {
        // SAFETY: live allocation, per the contract.
        unsafe { Self::header(payload).0 & !FLAG_MASK }
    }

    /// Frees `payload` (null is ignored).
    ///
    /// # Safety
    /// `payload` must be null or a live allocation of this allocator.
    pub unsafe fn free(&mut self, payload: *mut u8) {
        if payload.is_null() {
            return;
        }
        // SAFETY: live allocation, per the contract.
        let (word0, word1) = unsafe { Self::header(payload) };
        if word0 & ALIGNED_VIEW_FLAG != 0 {
            // SAFETY: an aligned view points `word1` bytes past its real payload.
            unsafe { self.free(payload.sub(word1)) };
            return;
        }
        let capacity = word0 & !FLAG_MASK;
        if word0 & DIRECT_FLAG != 0 {
            // SAFETY: direct blocks are whole mappings starting at the header.
            unsafe { self.source.unmap(payload.sub(HEADER), capacity + HEADER) };
            return;
        }
        let Some(class) = class_for(capacity) else {
            return;
        };
        // SAFETY: the payload is at least 16 bytes and no longer in use.
        unsafe { *(payload as *mut *mut u8) = self.free_lists[class] };
        self.free_lists[class] = payload;
    }

    /// Resizes like `realloc`: keeps the block when it already fits.
    ///
    /// # Safety
    /// `payload` must be null or a live allocation of this allocator.
    pub unsafe fn reallocate(&mut self, payload: *mut u8, size: usize) -> *mut u8 {
        if payload.is_null() {
            return self.allocate(size);
        }
        // SAFETY: live allocation.
        let (word0, _) = unsafe { Self::header(payload) };
        let capacity = word0 & !FLAG_MASK;
        let shrinks_a_lot = word0 & DIRECT_FLAG != 0 && size < capacity / 2;
        if size <= capacity && word0 & ALIGNED_VIEW_FLAG == 0 && !shrinks_a_lot {
            return payload;
        }
        if word0 & DIRECT_FLAG != 0 && word0 & ALIGNED_VIEW_FLAG == 0 && size > LARGEST_CLASS {
            // A large block grows or shrinks in place (or moves) without copying.
            if let Some(total) =
                size.checked_add(HEADER).and_then(|t| round_up(t, PAGE)).filter(|&t| t <= isize::MAX as usize)
            {
                // SAFETY: direct blocks are whole mappings starting at the header.
                let mapping = unsafe { self.source.remap(payload.sub(HEADER), capacity + HEADER, total) };
                if !mapping.is_null() {
                    // SAFETY: the new mapping holds the header and `size` bytes.
                    unsafe {
                        let moved = mapping.add(HEADER);
                        Self::set_header(moved, (total - HEADER) | DIRECT_FLAG, 0);
                        return moved;
                    }
                }
            }
        }
        let fresh = self.allocate(size);
        if fresh.is_null() {
            return fresh;
        }
        // SAFETY: both blocks are live and distinct; we copy what both hold.
        unsafe {
            ptr::copy_nonoverlapping(payload, fresh, capacity.min(size));
            self.free(payload);
        }
        fresh
    }

    /// Allocates with `alignment` (a power of two); null when invalid or out of memory.
    pub fn allocate_aligned(&mut self, alignment: usize, size: usize) -> *mut u8 {
        if !alignment.is_power_of_two() {
            return ptr::null_mut();
        }
        if alignment <= HEADER {
            return self.allocate(size);
        }
        let Some(padded) = size.checked_add(alignment + HEADER) else {
            return ptr::null_mut();
        };
        let raw = self.allocate(padded);
        if raw.is_null() {
            return raw;
        }
        let address = raw as usize;
        if address.is_multiple_of(alignment) {
            return raw;
        }
        let aligned = (address + HEADER).next_multiple_of(alignment);
        let offset = aligned - address;
        // SAFETY: `aligned - 16 >= raw` and the view lies inside the block.
        unsafe {
            let capacity = Self::header(raw).0 & !FLAG_MASK;
            Self::set_header(aligned as *mut u8, (capacity - offset) | ALIGNED_VIEW_FLAG, offset);
        }
        aligned as *mut u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{alloc_zeroed, dealloc, Layout};
    use std::vec::Vec;

    struct HostPages {
        live: usize,
    }
    impl PageSource for HostPages {
        fn map(&mut self, bytes: usize) -> *mut u8 {
            self.live += bytes;
            // SAFETY: nonzero size, valid alignment.
            unsafe { alloc_zeroed(Layout::from_size_align(bytes, PAGE).unwrap()) }
        }
        unsafe fn unmap(&mut self, address: *mut u8, bytes: usize) {
            self.live -= bytes;
            // SAFETY: same layout as in `map`.
            unsafe { dealloc(address, Layout::from_size_align(bytes, PAGE).unwrap()) }
        }
        unsafe fn remap(&mut self, address: *mut u8, bytes: usize, new_bytes: usize) -> *mut u8 {
            self.live = self.live - bytes + new_bytes;
            // SAFETY: same layout as in `map`; realloc keeps the alignment.
            unsafe { std::alloc::realloc(address, Layout::from_size_align(bytes, PAGE).unwrap(), new_bytes) }
        }
    }

    /// Host pages with a first region of `FIRST` bytes.
    struct FirstRegionPages {
        first: Vec<u8>,
        maps: usize,
        live: HostPages,
    }
    const FIRST: usize = 64 * 1024;
    impl PageSource for FirstRegionPages {
        fn map(&mut self, bytes: usize) -> *mut u8 {
            self.maps += 1;
            self.live.map(bytes)
        }
        unsafe fn unmap(&mut self, address: *mut u8, bytes: usize) {
            let first = self.first.as_mut_ptr() as usize;
            assert!(!(first..first + FIRST).contains(&(address as usize)), "the first region is never unmapped");
            // SAFETY: the caller's mapping.
            unsafe { self.live.unmap(address, bytes) }
        }
        fn first_region(&mut self) -> Option<(*mut u8, usize)> {
            Some((self.first.as_mut_ptr(), FIRST))
        }
    }

    #[test]
    fn the_first_region_serves_small_blocks_before_any_mapping() {
        let source = FirstRegionPages { first: std::vec![0u8; FIRST], maps: 0, live: HostPages { live: 0 } };
        let mut allocator = Allocator::new(source);
        let first = allocator.source.first.as_ptr() as usize;
        let mut blocks = Vec::new();
        // 48 bytes a block with its header: well within 64 KiB.
        for _ in 0..1000 {
            let block = allocator.allocate(32);
            assert!((first..first + FIRST).contains(&(block as usize)));
            blocks.push(block);
        }
        assert_eq!(allocator.source.maps, 0);
        // Past it, regions are mapped as before; large blocks always are.
        for _ in 0..1000 {
            blocks.push(allocator.allocate(32));
        }
        assert_eq!(allocator.source.maps, 1);
        let large = allocator.allocate(LARGEST_CLASS + 1);
        assert_eq!(allocator.source.maps, 2);
        for block in blocks {
            // SAFETY: live blocks of this allocator.
            unsafe { allocator.free(block) };
        }
        // SAFETY: a live block.
        unsafe { allocator.free(large) };
        assert_eq!(allocator.source.live.live, REGION);
    }

    #[test]
    fn classes_are_monotonic() {
        for class in 1..CLASS_COUNT {
            assert!(class_capacity(class) > class_capacity(class - 1));
        }
        assert_eq!(class_capacity(CLASS_COUNT - 1), LARGEST_CLASS);
        assert_eq!(class_for(0), Some(0));
        assert_eq!(class_for(LARGEST_CLASS + 1), None);
    }

    #[test]
    fn huge_requests_fail_cleanly() {
        let mut allocator = Allocator::new(HostPages { live: 0 });
        assert!(allocator.allocate(usize::MAX).is_null());
        assert!(allocator.allocate_aligned(3, 10).is_null());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
        #[test]
        fn stress(operations in proptest::collection::vec((0u8..4, 0usize..600_000, 0usize..64), 1..300)) {
            let mut allocator = Allocator::new(HostPages { live: 0 });
            let mut live: Vec<(*mut u8, usize, u8)> = Vec::new();
            for (step, (kind, size, pick)) in operations.into_iter().enumerate() {
                let size = if step % 3 == 0 { size } else { size % 2000 };
                let fill = step as u8;
                match kind {
                    0 | 1 => {
                        let block = if kind == 0 { allocator.allocate(size) } else { allocator.allocate_aligned(64 << (pick % 4), size) };
                        proptest::prop_assert!(!block.is_null());
                        proptest::prop_assert_eq!(block as usize % if kind == 0 { 16 } else { 64 << (pick % 4) }, 0);
                        // SAFETY: fresh block of `size` bytes.
                        unsafe { core::ptr::write_bytes(block, fill, size) };
                        live.push((block, size, fill));
                    }
                    2 if !live.is_empty() => {
                        let (block, size, fill) = live.swap_remove(pick % live.len());
                        // SAFETY: live block of `size` bytes.
                        let contents = unsafe { core::slice::from_raw_parts(block, size) };
                        proptest::prop_assert!(contents.iter().all(|&b| b == fill));
                        // SAFETY: live block.
                        unsafe { allocator.free(block) };
                    }
                    _ if !live.is_empty() => {
                        let index = pick % live.len();
                        let (block, old_size, fill) = live[index];
                        // SAFETY: live block.
                        let grown = unsafe { allocator.reallocate(block, size) };
                        proptest::prop_assert!(!grown.is_null());
                        // SAFETY: the first min(old, new) bytes were preserved.
                        let contents = unsafe { core::slice::from_raw_parts(grown, old_size.min(size)) };
                        proptest::prop_assert!(contents.iter().all(|&b| b == fill));
                        // SAFETY: the block has `size` bytes now.
                        unsafe { core::ptr::write_bytes(grown, fill, size) };
                        live[index] = (grown, size, fill);
                    }
                    _ => {}
                }
            }
            for (block, _, _) in live {
                // SAFETY: live blocks.
                unsafe { allocator.free(block) };
            }
        }
    }
}
