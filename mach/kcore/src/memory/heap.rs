//! The kernel heap: a buddy allocator that grows from the frame allocator
//! and gives whole free chunks back.
//!
//! It starts empty; the first allocation and every one that does not fit
//! calls [`grow`], which takes a physically contiguous run of frames (at
//! least [`GROWTH_CHUNK`], aligned to it where RAM allows) and hands it to
//! the buddy allocator through the direct map. When a free makes more than
//! [`KEEP_FREE`] of it free, whole free, aligned blocks of [`GROWTH_CHUNK`]
//! go back to the frame allocator ([`release_free_chunks`]): what a task
//! made the kernel allocate (a hundred thousand ports, say) returns to RAM
//! when it ends, instead of staying in the heap for the rest of the boot,
//! where user pages cannot have it (on a 32 MiB machine that was most of
//! memory).

use super::{frame, Frame, PhysicalAddress, PAGE_SIZE};
use buddy_system_allocator::Heap;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

/// Smallest amount the heap grows by, so growth is rare; also the unit it
/// gives back.
const GROWTH_CHUNK: usize = 256 * 1024;

/// Free bytes the heap keeps rather than give back, so that a loop
/// allocating and freeing around a chunk's worth does not take and return
/// frames each time.
const KEEP_FREE: usize = 2 * GROWTH_CHUNK;

struct KernelHeap {
    inner: spin::Mutex<Inner>,
}

struct Inner {
    heap: Heap<33>,
    /// Bytes given back to the frame allocator. The buddy allocator has no
    /// call to forget memory, so a block given back is one it sees as
    /// allocated for good (it never touches it again): its statistics
    /// count these bytes both in its total and as allocated.
    released: usize,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap { inner: spin::Mutex::new(Inner { heap: Heap::new(), released: 0 }) };

// SAFETY: every block handed out comes from `Heap::alloc` under the lock
// and goes back to `Heap::dealloc` with its layout; the blocks given back
// to the frame allocator stay allocated in the buddy allocator's view, so
// it never hands them out again.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut inner = self.inner.lock();
        if let Ok(block) = inner.heap.alloc(layout) {
            return block.as_ptr();
        }
        grow(&mut inner.heap, &layout);
        // Null if the frames were not there: the caller sees the error (or
        // the alloc error handler panics for infallible allocations).
        inner.heap.alloc(layout).map_or(core::ptr::null_mut(), |block| block.as_ptr())
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        let mut inner = self.inner.lock();
        // SAFETY: `pointer` came from `alloc` with this layout (the
        // `GlobalAlloc` contract), so it is non-null and the heap's.
        unsafe { inner.heap.dealloc(NonNull::new_unchecked(pointer), layout) };
        release_free_chunks(&mut inner);
    }
}

fn grow(heap: &mut Heap<33>, layout: &Layout) {
    // The buddy allocator serves a request from a block of its size rounded
    // up to a power of two, aligned to that size. A request of at most half
    // a chunk always finds such a block in any chunk; a larger one gets a run
    // of exactly its block, aligned like it (asking twice the size instead
    // needs a run that a 32 MiB machine with boot modules may not have).
    let block = layout.size().max(layout.align()).next_power_of_two();
    let (bytes, align) = if block * 2 <= GROWTH_CHUNK {
        (GROWTH_CHUNK, GROWTH_CHUNK)
    } else {
        (block.max(PAGE_SIZE), block.max(PAGE_SIZE))
    };
    // A chunk aligned to its size is one buddy block that can go back
    // whole once free; a page-aligned one if RAM has no aligned run left.
    let run = frame::allocate_contiguous(bytes / PAGE_SIZE, align / PAGE_SIZE)
        .or_else(|_| frame::allocate_contiguous(bytes / PAGE_SIZE, 1));
    let Ok(first) = run else { return };
    let start = crate::arch::paging::direct_map_address(first.start());
    // SAFETY: the frames were just taken from the frame allocator, so no one
    // else uses them, and the direct map covers all RAM read-write; the heap
    // owns `start..start + bytes` until it gives blocks of it back.
    unsafe { heap.add_to_heap(start, start + bytes) };
}

/// Gives free, aligned [`GROWTH_CHUNK`] blocks back to the frame allocator
/// while more than [`KEEP_FREE`] bytes would still be free. Taking such a
/// block with `alloc` finds one only where a whole aligned chunk's worth
/// is free (the buddy allocator merged it), and costs a look at a few empty
/// free lists otherwise.
fn release_free_chunks(inner: &mut Inner) {
    let chunk = Layout::from_size_align(GROWTH_CHUNK, GROWTH_CHUNK).expect("a power of two");
    while inner.heap.stats_total_bytes() - inner.heap.stats_alloc_actual() >= KEEP_FREE + GROWTH_CHUNK {
        let Ok(block) = inner.heap.alloc(chunk) else { return };
        let direct_map_base = crate::arch::paging::direct_map_address(PhysicalAddress(0));
        let first = Frame::containing(PhysicalAddress((block.as_ptr() as usize - direct_map_base) as u64));
        if frame::free_contiguous(first, GROWTH_CHUNK / PAGE_SIZE).is_err() {
            // Not frames the allocator handed out: cannot be, as every
            // block came from `grow`; the block stays allocated rather than
            // reuse memory whose owner is unknown (nothing is logged: the
            // log allocates, and the heap is locked).
            return;
        }
        inner.released += GROWTH_CHUNK;
    }
}

/// Bytes currently allocated from the heap and bytes the heap holds in all.
pub fn usage() -> (usize, usize) {
    let inner = HEAP.inner.lock();
    (inner.heap.stats_alloc_actual() - inner.released, inner.heap.stats_total_bytes() - inner.released)
}

/// Free frames plus the frames the heap holds, used or not: neither the
/// heap growing nor its giving chunks back changes it, so the cases that
/// check that frames came back compare this (the heap's own use they check
/// with [`usage`]).
pub fn frames_free_counting_the_heap() -> usize {
    frame::statistics().free + usage().1 / PAGE_SIZE
}

#[cfg(feature = "ktest")]
mod tests {
    use crate::{ensure, ensure_eq, ktest};
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use core::alloc::Layout;

    ktest! {
        fn many_sizes_are_distinct_and_keep_contents() {
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            for (index, size) in [1usize, 7, 8, 63, 64, 100, 4095, 4096, 4097, 65536, 300_000].iter().enumerate() {
                // Fallible: a machine short of frames fails the case, it
                // does not panic the kernel.
                let mut block = Vec::new();
                ensure!(block.try_reserve_exact(*size).is_ok(), "{size} bytes refused");
                block.resize(*size, index as u8);
                blocks.push(block);
            }
            for (index, block) in blocks.iter().enumerate() {
                ensure!(block.iter().all(|&byte| byte == index as u8), "block {index} was overwritten");
            }
            Ok(())
        }

        fn alignment_is_honoured() {
            for shift in 0..=16 {
                let align = 1usize << shift;
                let layout = Layout::from_size_align(24, align)?;
                let pointer = unsafe_free_alloc::allocate(layout);
                ensure!(!pointer.is_null(), "allocation aligned to {align} failed");
                ensure_eq!(pointer as usize % align, 0);
                unsafe_free_alloc::deallocate(pointer, layout);
            }
            Ok(())
        }

        fn freed_memory_is_reused() {
            // The heap keeps what earlier cases grew it to (the exhaustion
            // test's ports: 100 MiB in 4 GiB): measure growth, not size.
            let (before, total_before) = super::usage();
            for round in 0..1000u32 {
                let boxed = Box::new([round; 64]);
                ensure_eq!(boxed[63], round);
            }
            let (after, total) = super::usage();
            ensure_eq!(after, before);
            ensure!(total <= total_before + 256 * 1024, "heap grew from {total_before} to {total} bytes for 256-byte boxes");
            Ok(())
        }

        fn freed_chunks_go_back_to_the_frame_allocator() {
            // 2 MiB in 64 KiB blocks, then freed: the chunks the heap grew
            // by for them go back (all but `KEEP_FREE` and a chunk), and
            // every byte given back is a free frame again.
            let (_, total_before) = super::usage();
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            for _ in 0..32 {
                let mut block = Vec::new();
                ensure!(block.try_reserve_exact(64 * 1024).is_ok(), "64 KiB refused");
                block.resize(64 * 1024, 0x5a);
                blocks.push(block);
            }
            let (_, total_full) = super::usage();
            let counted = super::frames_free_counting_the_heap();
            drop(blocks);
            let (_, total_after) = super::usage();
            ensure!(
                total_after <= total_before + super::KEEP_FREE + super::GROWTH_CHUNK,
                "the heap held {total_before} bytes, {total_full} with 2 MiB allocated, still {total_after} once they were freed"
            );
            ensure_eq!(super::frames_free_counting_the_heap(), counted);
            Ok(())
        }

        fn large_allocation_grows_the_heap() {
            // 2 MiB, or less where earlier cases left the heap holding
            // most of a small machine (it keeps what it grew to): still
            // many growth chunks, and an error rather than a panic if the
            // frames for it are not there. Not more: a request is served
            // from one buddy block of its size rounded up to a power of
            // two, so 2.7 MiB needed 4 MiB of physically contiguous frames,
            // which a 32 MiB machine fragmented by its boot modules did not
            // always have (it failed as soon as three test programs were
            // added) although 22 MiB were free.
            let (_, total_before) = super::usage();
            let free_bytes = crate::memory::frame::statistics().free * crate::memory::PAGE_SIZE;
            let size = (2 * 1024 * 1024).min(free_bytes / 8).max(4 * super::GROWTH_CHUNK);
            let mut big: Vec<u8> = Vec::new();
            ensure!(big.try_reserve_exact(size).is_ok(), "{size} bytes refused with {free_bytes} bytes of frames free");
            big.resize(size, 0x5a);
            ensure!(big.iter().all(|&byte| byte == 0x5a));
            let (_, total_after) = super::usage();
            ensure!(total_after >= total_before, "heap shrank");
            Ok(())
        }
    }

    /// `GlobalAlloc` calls for the alignment test, which needs raw layouts.
    mod unsafe_free_alloc {
        use core::alloc::Layout;

        pub fn allocate(layout: Layout) -> *mut u8 {
            // SAFETY: `layout` has a non-zero size (the test uses 24 bytes).
            unsafe { alloc::alloc::alloc(layout) }
        }

        pub fn deallocate(pointer: *mut u8, layout: Layout) {
            // SAFETY: `pointer` came from `allocate` with this same layout.
            unsafe { alloc::alloc::dealloc(pointer, layout) }
        }
    }
}

#[cfg(feature = "ktest")]
mod stress {
    use crate::{ensure, ktest};
    use alloc::vec::Vec;

    ktest! {
        fn random_allocations_keep_their_contents() {
            // xorshift: a fixed, reproducible sequence of sizes and frees.
            let mut state = 0x2545_f491_4f6c_dd1du64;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let mut live: Vec<(u8, Vec<u8>)> = Vec::new();
            for round in 0..4000u32 {
                let random = next();
                if live.len() > 64 || (random & 3 == 0 && !live.is_empty()) {
                    let (tag, block) = live.swap_remove((random >> 8) as usize % live.len());
                    ensure!(block.iter().all(|&byte| byte == tag), "block tagged {tag} corrupted");
                } else {
                    let size = 1 + (random >> 16) as usize % if random & 0x100 != 0 { 64 } else { 20000 };
                    live.push((round as u8, alloc::vec![round as u8; size]));
                }
            }
            for (tag, block) in &live {
                ensure!(block.iter().all(|byte| byte == tag), "block tagged {tag} corrupted");
            }
            Ok(())
        }
    }
}
