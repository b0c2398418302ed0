//! Physical memory: addresses, frames, the frame allocator and the kernel heap.
//!
//! Virtual memory (page tables) is per architecture: see `arch::paging`.
//! All physical memory is also mapped at a fixed offset in the kernel half
//! (the direct map), so the kernel reaches any frame through
//! `arch::paging::direct_map`.
//!
//! # Frame bytes
//! Outside `arch` and this module (the kernel's only `unsafe` code), a
//! frame's bytes are reached only through [`Frame::zero`],
//! [`Frame::copy_from`], [`Frame::write`], [`Frame::read`] and the user
//! copies of [`user`]. They copy through raw pointers into the direct map
//! and never make a reference to a frame's bytes, so no Rust reference is
//! ever aliased by them. What keeps them sound is one rule of the two
//! unsafe layers: every frame that holds the kernel's own Rust values (the
//! heap, kernel stacks, page tables, the allocator's tables) is allocated
//! and kept inside `arch` or `memory` and never handed out as a `Frame`;
//! the frames the rest of the kernel names hold task data (anonymous
//! memory, object pages, images, message pages, DMA buffers), which is
//! only ever bytes. The kernel lock keeps a frame allocated while it is
//! copied.

pub mod frame;
pub mod heap;
pub mod share;
pub mod user;

/// What a failed user copy answers a trap (the kernel crate's traps use
/// `?`; here because Rust lets only the crate of `UserMemoryError` say it).
impl From<user::UserMemoryError> for mach_abi::KernReturn {
    fn from(error: user::UserMemoryError) -> Self {
        use mach_abi::KernReturn;
        use user::UserMemoryError;
        match error {
            UserMemoryError::OutOfRange | UserMemoryError::Unmapped(_) => KernReturn::InvalidAddress,
            UserMemoryError::Protection(_) => KernReturn::ProtectionFailure,
            UserMemoryError::TooLong => KernReturn::InvalidArgument,
            // The trap layer waits for the page and runs the trap again.
            UserMemoryError::NeedsPage(_) => KernReturn::MemoryFailure,
            UserMemoryError::ResourceShortage(_) => KernReturn::ResourceShortage,
        }
    }
}

pub const PAGE_SIZE: usize = 4096;

/// A physical address. Never dereferenced directly: the kernel reaches
/// physical memory through the direct map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysicalAddress(pub u64);

impl PhysicalAddress {
    pub const fn is_page_aligned(self) -> bool {
        self.0.is_multiple_of(PAGE_SIZE as u64)
    }

    pub const fn align_down(self) -> Self {
        Self(self.0 & !(PAGE_SIZE as u64 - 1))
    }

    pub const fn align_up(self) -> Self {
        Self((self.0 + PAGE_SIZE as u64 - 1) & !(PAGE_SIZE as u64 - 1))
    }
}

impl core::fmt::LowerHex for PhysicalAddress {
    fn fmt(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
        core::fmt::LowerHex::fmt(&self.0, formatter)
    }
}

/// A half-open range `[start, end)` of physical memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysicalRange {
    pub start: PhysicalAddress,
    pub end: PhysicalAddress,
}

impl PhysicalRange {
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start: PhysicalAddress(start), end: PhysicalAddress(end) }
    }

    pub const fn size(&self) -> u64 {
        self.end.0.saturating_sub(self.start.0)
    }

    pub fn overlaps(&self, other: &PhysicalRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The smallest page-aligned range that covers this one.
    pub const fn page_aligned_outward(&self) -> Self {
        Self { start: self.start.align_down(), end: self.end.align_up() }
    }
}

/// One page frame of physical memory, named by its start address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Frame(PhysicalAddress);

impl Frame {
    /// The frame starting at `address`, which must be page aligned.
    pub const fn containing(address: PhysicalAddress) -> Self {
        Self(address.align_down())
    }

    pub const fn from_number(number: usize) -> Self {
        Self(PhysicalAddress((number * PAGE_SIZE) as u64))
    }

    pub const fn start(self) -> PhysicalAddress {
        self.0
    }

    pub const fn number(self) -> usize {
        (self.0 .0 / PAGE_SIZE as u64) as usize
    }

    /// Where the kernel reaches the frame's bytes: its direct-map address.
    fn kernel_pointer(self) -> *mut u8 {
        crate::arch::paging::direct_map_address(self.start()) as *mut u8
    }

    /// Fills the frame with zeros.
    pub fn zero(self) {
        // SAFETY: see "Frame bytes" above: a whole frame of RAM in the
        // direct map, written through a raw pointer, no reference made.
        unsafe { core::ptr::write_bytes(self.kernel_pointer(), 0, PAGE_SIZE) }
    }

    /// Makes the frame a copy of `source`.
    pub fn copy_from(self, source: Frame) {
        if source == self {
            return;
        }
        // SAFETY: see "Frame bytes" above; two different frames are two
        // disjoint pages of the direct map.
        unsafe { core::ptr::copy_nonoverlapping(source.kernel_pointer(), self.kernel_pointer(), PAGE_SIZE) }
    }

    /// Copies `bytes` into the frame from `offset` on.
    ///
    /// # Panics
    /// If the bytes do not fit in the frame from `offset` (a kernel bug).
    pub fn write(self, offset: usize, bytes: &[u8]) {
        assert!(offset.checked_add(bytes.len()).is_some_and(|end| end <= PAGE_SIZE), "frame write past the page");
        // SAFETY: see "Frame bytes" above; the range stays in the frame
        // (checked) and `bytes` is kernel memory, not a frame's direct-map
        // view borrowed as a reference (none is ever made).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.kernel_pointer().add(offset), bytes.len()) }
    }

    /// Copies the frame's bytes from `offset` on into `buffer`.
    ///
    /// # Panics
    /// If `buffer` reaches past the frame from `offset` (a kernel bug).
    pub fn read(self, offset: usize, buffer: &mut [u8]) {
        assert!(offset.checked_add(buffer.len()).is_some_and(|end| end <= PAGE_SIZE), "frame read past the page");
        // SAFETY: as for `write`, in the other direction.
        unsafe { core::ptr::copy_nonoverlapping(self.kernel_pointer().add(offset), buffer.as_mut_ptr(), buffer.len()) }
    }
}

bitflags::bitflags! {
    /// Access rights of a mapping, in architecture-neutral terms; each
    /// architecture's page-table code translates them. Every mapping is
    /// readable; anything not granted here is refused.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PageFlags: u32 {
        const WRITABLE = 1 << 0;
        const EXECUTABLE = 1 << 1;
        /// Reachable from user mode.
        const USER = 1 << 2;
        /// Device registers: no caching.
        const UNCACHED = 1 << 3;
        /// Software only (the hardware ignores it): in a region that maps
        /// a memory object, the page is the map's own private copy, not
        /// the object's page (see `vm`).
        const PRIVATE = 1 << 4;
    }
}

/// Why a page-table operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The virtual address is not page aligned or not canonical.
    InvalidAddress,
    /// Something is already mapped there.
    AlreadyMapped,
    /// Nothing is mapped there.
    NotMapped,
    /// The address lies inside a large page, which these operations do not split.
    InsideLargePage,
    /// No frame was left for an intermediate page table.
    OutOfMemory,
}

/// Memory the kernel keeps back from requests made on behalf of tasks, so
/// a task that asks for too much gets an error while the kernel itself can
/// still allocate page tables, stacks and bookkeeping.
pub const KERNEL_RESERVE_BYTES: usize = 2 * 1024 * 1024;

/// True if `bytes` can be allocated for a task and leave the reserve.
pub fn can_spare(bytes: usize) -> bool {
    let frames_free = frame::statistics().free * PAGE_SIZE;
    // Free frames alone are enough almost always: the heap is asked (its
    // lock taken) only when memory runs low.
    if frames_free >= bytes + KERNEL_RESERVE_BYTES {
        return true;
    }
    let (used, total) = heap::usage();
    let heap_free = total.saturating_sub(used);
    heap_free + frames_free >= bytes + KERNEL_RESERVE_BYTES
}

/// Read-only view of physical memory the kernel keeps reserved for the
/// kernel's lifetime (boot modules), through the direct map.
pub fn physical_bytes(range: PhysicalRange) -> &'static [u8] {
    let start = crate::arch::paging::direct_map_address(range.start);
    // SAFETY: callers pass ranges the frame allocator never hands out (boot
    // modules are reserved at init), so nothing writes them; the direct map
    // covers all usable RAM, where the loader put them.
    unsafe { core::slice::from_raw_parts(start as *const u8, range.size() as usize) }
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::boot_info::RegionKind;
    use crate::{ensure, ktest};

    ktest! {
        fn all_usable_ram_is_managed() {
            let boot = crate::boot_info::get();
            let usable_pages: u64 = boot
                .memory_map
                .iter()
                .filter(|region| region.kind == RegionKind::Usable)
                .map(|region| (region.range.end.align_down().0.saturating_sub(region.range.start.align_up().0)) / PAGE_SIZE as u64)
                .sum();
            // The pages of usable RAM the kernel keeps for itself: low
            // memory, its image, the modules and the regions the loader
            // reserved (aarch64: the device tree blob, the module archive's
            // header pages), each page once.
            let mut reserved: alloc::vec::Vec<(u64, u64)> = alloc::vec![
                (0, 0x10_0000),
                (boot.kernel_image.page_aligned_outward().start.0, boot.kernel_image.page_aligned_outward().end.0),
            ];
            reserved.extend(boot.modules.iter().map(|module| {
                let range = module.range.page_aligned_outward();
                (range.start.0, range.end.0)
            }));
            reserved.extend(
                boot.memory_map
                    .iter()
                    .filter(|region| region.kind == RegionKind::Reserved)
                    .map(|region| (region.range.start.0 & !(PAGE_SIZE as u64 - 1), region.range.end.0.next_multiple_of(PAGE_SIZE as u64))),
            );
            reserved.sort_unstable();
            let mut merged: alloc::vec::Vec<(u64, u64)> = alloc::vec::Vec::new();
            for (start, end) in reserved {
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            let reserved_pages: u64 = boot
                .memory_map
                .iter()
                .filter(|region| region.kind == RegionKind::Usable)
                .flat_map(|region| merged.iter().map(move |&(start, end)| (region, start, end)))
                .map(|(region, start, end)| {
                    let low = start.max(region.range.start.align_up().0);
                    let high = end.min(region.range.end.align_down().0);
                    high.saturating_sub(low) / PAGE_SIZE as u64
                })
                .sum();
            let managed = frame::statistics().usable as u64;
            // The frame bitmap takes 1 page per 128 MiB and the owner counts
            // of shared frames 1 page per 4 MiB, of every frame number up to
            // the highest usable one; a few more pages at most.
            let highest = boot
                .memory_map
                .iter()
                .filter(|region| region.kind == RegionKind::Usable)
                .map(|region| region.range.end.0 / PAGE_SIZE as u64)
                .max()
                .unwrap_or(0);
            let bitmap_pages = highest.div_ceil(32768) + highest.div_ceil(1024) + 2;
            ensure!(
                managed <= usable_pages && managed + reserved_pages + bitmap_pages + 2 >= usable_pages,
                "{managed} pages managed of {usable_pages} usable ({reserved_pages} reserved)"
            );
            Ok(())
        }
    }
}
