//! The physical frame allocator: one bit per 4 KiB frame, set when free.
//!
//! Built once from the boot memory map. Frames that are not usable RAM, the
//! first MiB (firmware and real-mode leftovers), the kernel image, the boot
//! modules and the bitmap itself are never marked free, so they can never be
//! handed out. A bitmap rather than a free list because it detects a double
//! free, finds physically contiguous runs (DMA buffers, heap growth) and costs
//! 32 KiB per GiB.
//!
//! Single-frame allocation scans from a moving hint, so it is O(1) amortised
//! while memory is plentiful. Contiguous runs (a thread's kernel stack, heap
//! growth, DMA buffers) are searched a word at a time from a hint of their
//! own, where the last run was freed or taken: every fork makes a thread,
//! and a search from frame 0 that tested frame by frame cost about 79,000
//! instructions of a fork+exit+wait's 451,000 once memory filled up; the
//! stack a thread that ended gave back is found at once.
//!
//! Locking: one spin lock. Nothing takes it in interrupt context.

use super::{Frame, PhysicalAddress, PhysicalRange, PAGE_SIZE};
use crate::boot_info::{BootInfo, RegionKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No free frame (or no free run of the size asked for) is left.
    OutOfMemory,
    /// The frame was already free: a double free, a kernel bug.
    AlreadyFree(Frame),
    /// The frame lies outside the memory the allocator manages.
    OutOfRange(Frame),
    /// A contiguous request of zero frames or with an alignment that is not
    /// a power of two.
    InvalidRequest,
}

/// Frame counts for the banner and for leak checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Frames of usable RAM that the allocator manages.
    pub usable: usize,
    /// Frames free now.
    pub free: usize,
}

pub struct FrameBitmap {
    /// Bit `n % 64` of word `n / 64` is set when frame `n` is free.
    words: &'static mut [u64],
    frame_count: usize,
    statistics: Statistics,
    /// Word index where the next single-frame search starts.
    search_hint: usize,
    /// Frame where the next contiguous search starts.
    contiguous_hint: usize,
}

impl FrameBitmap {
    /// A bitmap covering `frame_count` frames, all of them allocated.
    fn new(words: &'static mut [u64], frame_count: usize) -> Self {
        words.fill(0);
        Self { words, frame_count, statistics: Statistics::default(), search_hint: 0, contiguous_hint: 0 }
    }

    fn is_free(&self, number: usize) -> bool {
        self.words[number / 64] & (1 << (number % 64)) != 0
    }

    fn set_free(&mut self, number: usize, free: bool) {
        let bit = 1u64 << (number % 64);
        if free {
            self.words[number / 64] |= bit;
        } else {
            self.words[number / 64] &= !bit;
        }
    }

    /// Marks usable frames free at initialisation.
    fn add_usable(&mut self, first: usize, count: usize) {
        for number in first..(first + count).min(self.frame_count) {
            if !self.is_free(number) {
                self.set_free(number, true);
                self.statistics.usable += 1;
                self.statistics.free += 1;
            }
        }
    }

    /// Takes frames back out of the usable set at initialisation.
    fn remove_usable(&mut self, first: usize, count: usize) {
        for number in first..(first + count).min(self.frame_count) {
            if self.is_free(number) {
                self.set_free(number, false);
                self.statistics.usable -= 1;
                self.statistics.free -= 1;
            }
        }
    }

    fn allocate(&mut self) -> Result<Frame, FrameError> {
        let word_count = self.words.len();
        for step in 0..word_count {
            let index = (self.search_hint + step) % word_count;
            let word = self.words[index];
            if word != 0 {
                let number = index * 64 + word.trailing_zeros() as usize;
                self.set_free(number, false);
                self.statistics.free -= 1;
                self.search_hint = index;
                return Ok(Frame::from_number(number));
            }
        }
        Err(FrameError::OutOfMemory)
    }

    /// The first frame at or after `from` whose free bit is `free`, below
    /// `end`: whole words of the other kind are skipped at once.
    fn next_with(&self, from: usize, end: usize, free: bool) -> Option<usize> {
        let end = end.min(self.frame_count);
        if from >= end {
            return None;
        }
        let bits = |index: usize| if free { self.words[index] } else { !self.words[index] };
        let mut index = from / 64;
        let mut word = bits(index) & (u64::MAX << (from % 64));
        loop {
            if word != 0 {
                let number = index * 64 + word.trailing_zeros() as usize;
                return (number < end).then_some(number);
            }
            index += 1;
            if index * 64 >= end {
                return None;
            }
            word = bits(index);
        }
    }

    /// The first run of `count` free frames in `[from, end)` starting at a
    /// multiple of `align`.
    fn find_run(&self, from: usize, end: usize, count: usize, align: usize) -> Option<usize> {
        let end = end.min(self.frame_count);
        let mut first = from;
        loop {
            first = self.next_with(first, end, true)?.next_multiple_of(align);
            if first.checked_add(count)? > end {
                return None;
            }
            match self.next_with(first, first + count, false) {
                None => return Some(first),
                // Restart past the busy frame.
                Some(busy) => first = busy + 1,
            }
        }
    }

    /// Finds `count` free frames in a row, the first a multiple of `align`
    /// frames, and allocates them all: from the hint to the end, then from
    /// the start.
    fn allocate_contiguous(&mut self, count: usize, align: usize) -> Result<Frame, FrameError> {
        if count == 0 || !align.is_power_of_two() {
            return Err(FrameError::InvalidRequest);
        }
        let hint = self.contiguous_hint.min(self.frame_count);
        let first = self
            .find_run(hint, self.frame_count, count, align)
            .or_else(|| self.find_run(0, hint.saturating_add(count), count, align))
            .ok_or(FrameError::OutOfMemory)?;
        for number in first..first + count {
            self.set_free(number, false);
        }
        self.statistics.free -= count;
        self.contiguous_hint = first + count;
        Ok(Frame::from_number(first))
    }

    fn free(&mut self, frame: Frame) -> Result<(), FrameError> {
        let number = frame.number();
        if number >= self.frame_count {
            return Err(FrameError::OutOfRange(frame));
        }
        if self.is_free(number) {
            return Err(FrameError::AlreadyFree(frame));
        }
        self.set_free(number, true);
        self.statistics.free += 1;
        Ok(())
    }
}

static FRAMES: spin::Mutex<Option<FrameBitmap>> = spin::Mutex::new(None);

/// The first MiB holds the real-mode IVT, the BIOS data area, the EBDA and
/// option ROMs; nothing there is handed out.
const LOW_MEMORY_END: u64 = 0x10_0000;

/// Builds the allocator from the boot memory map. `reachable_end` bounds where
/// the bitmap itself may be placed (the part of memory the boot page tables
/// already map).
pub fn init(boot: &BootInfo, reachable_end: PhysicalAddress) {
    let highest = boot
        .memory_map
        .iter()
        .filter(|region| region.kind == RegionKind::Usable)
        .map(|region| region.range.end.0)
        .max()
        .expect("the boot memory map has no usable RAM");
    let frame_count = (highest / PAGE_SIZE as u64) as usize;
    let bitmap_bytes = (frame_count.div_ceil(64) * 8) as u64;

    let mut reserved: heapless::Vec<PhysicalRange, { crate::boot_info::MAX_MODULES + 4 }> = heapless::Vec::new();
    let _ = reserved.push(PhysicalRange::new(0, LOW_MEMORY_END));
    let _ = reserved.push(boot.kernel_image.page_aligned_outward());
    for module in &boot.modules {
        let _ = reserved.push(module.range.page_aligned_outward());
    }
    let bitmap_range = find_free_space(boot, &reserved, bitmap_bytes, reachable_end)
        .expect("no room for the frame bitmap in low memory");
    let _ = reserved.push(bitmap_range.page_aligned_outward());
    // Beside it, the owner counts of shared frames (`share`): 4 bytes a frame.
    let owner_words = frame_count.div_ceil(2);
    let owners_range = find_free_space(boot, &reserved, owner_words as u64 * 8, reachable_end)
        .expect("no room for the frame owner counts in low memory");
    let _ = reserved.push(owners_range.page_aligned_outward());
    super::share::init(crate::arch::paging::direct_map_words(owners_range, owner_words));

    let words = crate::arch::paging::direct_map_words(bitmap_range, frame_count.div_ceil(64));
    let mut bitmap = FrameBitmap::new(words, frame_count);
    for region in boot.memory_map.iter().filter(|region| region.kind == RegionKind::Usable) {
        let start = region.range.start.align_up().0 as usize / PAGE_SIZE;
        let end = region.range.end.align_down().0 as usize / PAGE_SIZE;
        if end > start {
            bitmap.add_usable(start, end - start);
        }
    }
    // A reserved range may overlap usable RAM only partly: clip, then remove.
    for range in &reserved {
        let start = range.start.0 as usize / PAGE_SIZE;
        let end = range.end.0 as usize / PAGE_SIZE;
        bitmap.remove_usable(start, end.saturating_sub(start));
    }
    // Also never hand out anything a non-usable region touches.
    for region in boot.memory_map.iter().filter(|region| region.kind != RegionKind::Usable) {
        let range = region.range.page_aligned_outward();
        let start = range.start.0 as usize / PAGE_SIZE;
        let end = range.end.0 as usize / PAGE_SIZE;
        bitmap.remove_usable(start, end.saturating_sub(start));
    }
    log::info!(
        "{} frames of usable RAM ({} MiB), bitmap of {} bytes at {:#x}, owner counts at {:#x}",
        bitmap.statistics.usable,
        (bitmap.statistics.usable * PAGE_SIZE) >> 20,
        bitmap_bytes,
        bitmap_range.start,
        owners_range.start
    );
    USABLE_FRAMES.store(bitmap.statistics.usable, core::sync::atomic::Ordering::Relaxed);
    *FRAMES.lock() = Some(bitmap);
}

/// `Statistics::usable`, which never changes after `init`: read without
/// the allocator's lock (every page charged to a task checks its limit,
/// half of it by default).
static USABLE_FRAMES: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Frames of usable RAM the allocator manages.
pub fn usable_frames() -> usize {
    USABLE_FRAMES.load(core::sync::atomic::Ordering::Relaxed)
}

/// A page-aligned stretch of usable RAM of `bytes` below `reachable_end` that
/// overlaps none of `reserved`.
fn find_free_space(
    boot: &BootInfo,
    reserved: &[PhysicalRange],
    bytes: u64,
    reachable_end: PhysicalAddress,
) -> Option<PhysicalRange> {
    let size = bytes.next_multiple_of(PAGE_SIZE as u64);
    for region in boot.memory_map.iter().filter(|region| region.kind == RegionKind::Usable) {
        let mut start = region.range.start.align_up().0.max(LOW_MEMORY_END);
        let end = region.range.end.0.min(reachable_end.0);
        while start + size <= end {
            let candidate = PhysicalRange::new(start, start + size);
            match reserved.iter().find(|range| range.overlaps(&candidate)) {
                None => return Some(candidate),
                Some(range) => start = range.end.align_up().0,
            }
        }
    }
    None
}

fn with_allocator<T>(action: impl FnOnce(&mut FrameBitmap) -> T) -> T {
    let mut guard = FRAMES.lock();
    let allocator = guard.as_mut().expect("frame allocator used before init");
    action(allocator)
}

/// Allocates one frame. Its contents are whatever was there before.
pub fn allocate() -> Result<Frame, FrameError> {
    with_allocator(FrameBitmap::allocate)
}

/// Allocates `count` physically contiguous frames, the first aligned to
/// `align` frames (a power of two).
pub fn allocate_contiguous(count: usize, align: usize) -> Result<Frame, FrameError> {
    with_allocator(|allocator| allocator.allocate_contiguous(count, align))
}

/// Returns a frame to the allocator.
pub fn free(frame: Frame) -> Result<(), FrameError> {
    with_allocator(|allocator| allocator.free(frame))
}

/// Returns `count` contiguous frames starting at `first`.
pub fn free_contiguous(first: Frame, count: usize) -> Result<(), FrameError> {
    with_allocator(|allocator| {
        (0..count).try_for_each(|index| allocator.free(Frame::from_number(first.number() + index)))?;
        // The next run of this size (the next thread's stack) is here.
        allocator.contiguous_hint = first.number();
        Ok(())
    })
}

pub fn statistics() -> Statistics {
    FRAMES.lock().as_ref().map(|allocator| allocator.statistics).unwrap_or_default()
}

/// True if `address` lies in a frame the allocator manages and has handed out
/// or keeps reserved; used by tests to check reservations.
#[cfg(feature = "ktest")]
pub fn is_free(address: PhysicalAddress) -> bool {
    with_allocator(|allocator| {
        let number = (address.0 / PAGE_SIZE as u64) as usize;
        number < allocator.frame_count && allocator.is_free(number)
    })
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};
    use alloc::collections::BTreeSet;
    use alloc::vec::Vec;

    ktest! {
        fn allocate_and_free_one() {
            let before = statistics();
            let frame = allocate()?;
            ensure!(frame.start().is_page_aligned());
            ensure_eq!(statistics().free, before.free - 1);
            free(frame)?;
            ensure_eq!(statistics(), before);
            Ok(())
        }

        fn never_hands_out_a_frame_twice() {
            let mut seen = BTreeSet::new();
            let mut frames = Vec::new();
            for _ in 0..1000 {
                let frame = allocate()?;
                ensure!(seen.insert(frame), "frame {:#x} handed out twice", frame.start());
                frames.push(frame);
            }
            for frame in frames {
                free(frame)?;
            }
            Ok(())
        }

        fn double_free_is_detected() {
            let frame = allocate()?;
            free(frame)?;
            ensure_eq!(free(frame), Err(FrameError::AlreadyFree(frame)));
            Ok(())
        }

        fn free_out_of_range_is_refused() {
            let frame = Frame::from_number(usize::MAX / PAGE_SIZE / 2);
            ensure_eq!(free(frame), Err(FrameError::OutOfRange(frame)));
            Ok(())
        }

        fn reserved_regions_are_never_free() {
            let boot = crate::boot_info::get();
            ensure!(!is_free(PhysicalAddress(0)), "frame 0 is free");
            ensure!(!is_free(PhysicalAddress(0x9000)), "low memory is free");
            let kernel = boot.kernel_image;
            let mut address = kernel.start.align_down();
            while address < kernel.end {
                ensure!(!is_free(address), "kernel frame {address:#x} is free");
                address = PhysicalAddress(address.0 + PAGE_SIZE as u64);
            }
            for module in &boot.modules {
                ensure!(!is_free(module.range.start.align_down()), "module frame is free");
            }
            Ok(())
        }

        fn contiguous_runs_are_aligned_and_exclusive() {
            let before = statistics();
            let run = allocate_contiguous(16, 16)?;
            ensure_eq!(run.number() % 16, 0);
            let single = allocate()?;
            ensure!(single.number() < run.number() || single.number() >= run.number() + 16);
            free(single)?;
            free_contiguous(run, 16)?;
            ensure_eq!(statistics(), before);
            ensure_eq!(allocate_contiguous(0, 1), Err(FrameError::InvalidRequest));
            ensure_eq!(allocate_contiguous(1, 3), Err(FrameError::InvalidRequest));
            Ok(())
        }

        fn contiguous_search_from_the_hint_finds_what_a_search_from_zero_finds() {
            // A bitmap of its own (320 frames; its 40 bytes leaked, as the
            // allocator's words are 'static) with free runs of every length
            // at odd places: each request is served from the hint
            // on, else from the start, exactly as a frame-by-frame search
            // in that order would.
            let words = alloc::boxed::Box::leak(alloc::vec![0u64; 5].into_boxed_slice());
            let mut bitmap = FrameBitmap::new(words, 320);
            let mut state = 0x9e37_79b9_u32;
            for number in 0..320 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if !state.is_multiple_of(3) {
                    bitmap.add_usable(number, 1);
                }
            }
            let naive = |bitmap: &FrameBitmap, from: usize, end: usize, count: usize, align: usize| {
                (from..end)
                    .filter(|first| first % align == 0 && first + count <= end)
                    .find(|&first| (first..first + count).all(|number| bitmap.is_free(number)))
            };
            for (count, align) in [(1, 1), (2, 1), (3, 2), (4, 4), (5, 1), (8, 8), (2, 4)] {
                for hint in [0, 1, 63, 64, 65, 127, 200, 319, 320] {
                    let expected = naive(&bitmap, hint, 320, count, align)
                        .or_else(|| naive(&bitmap, 0, (hint + count).min(320), count, align));
                    bitmap.contiguous_hint = hint;
                    let before = bitmap.statistics;
                    match bitmap.allocate_contiguous(count, align) {
                        Ok(frame) => {
                            ensure!(
                                Some(frame.number()) == expected,
                                "count {} align {} hint {}: {} instead of {:?}",
                                count,
                                align,
                                hint,
                                frame.number(),
                                expected
                            );
                            for number in frame.number()..frame.number() + count {
                                bitmap.free(Frame::from_number(number))?;
                            }
                        }
                        Err(error) => ensure_eq!((error, expected), (FrameError::OutOfMemory, None)),
                    }
                    ensure_eq!(bitmap.statistics, before);
                }
            }
            ensure_eq!(bitmap.allocate_contiguous(321, 1), Err(FrameError::OutOfMemory));
            Ok(())
        }

        fn exhaustion_returns_out_of_memory() {
            // Reserve the list first: the heap may grow from frames for it.
            let mut frames = Vec::with_capacity(statistics().free);
            let before = statistics();
            let outcome = loop {
                match allocate() {
                    Ok(frame) => frames.push(frame),
                    Err(error) => break error,
                }
            };
            let handed_out = frames.len();
            // Drained, not dropped: freeing the list could give heap chunks
            // back to the allocator before the count below.
            for frame in frames.drain(..) {
                free(frame)?;
            }
            ensure_eq!(outcome, FrameError::OutOfMemory);
            ensure_eq!(statistics(), before);
            drop(frames);
            ensure_eq!(handed_out, before.free);
            ensure_eq!(allocate_contiguous(before.usable + 1, 1), Err(FrameError::OutOfMemory));
            Ok(())
        }
    }
}
