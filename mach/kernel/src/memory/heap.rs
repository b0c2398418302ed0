//! The kernel heap: a buddy allocator that grows from the frame allocator.
//!
//! It starts empty; the first allocation and every one that does not fit
//! calls [`grow`], which takes a physically contiguous run of frames (at
//! least [`GROWTH_CHUNK`]) and hands it to the buddy allocator through the
//! direct map. Memory given to the heap stays there: the buddy allocator
//! keeps it for reuse rather than returning frames.

use super::{frame, PAGE_SIZE};
use buddy_system_allocator::{Heap, LockedHeapWithRescue};
use core::alloc::Layout;

/// Smallest amount the heap grows by, so growth is rare.
const GROWTH_CHUNK: usize = 256 * 1024;

#[global_allocator]
static HEAP: LockedHeapWithRescue<33> = LockedHeapWithRescue::new(grow);

fn grow(heap: &mut Heap<33>, layout: &Layout) {
    // The buddy allocator serves a request from a block of its size rounded
    // up to a power of two, aligned to that size. A request of at most half
    // a chunk always finds such a block in any chunk; a larger one gets a run
    // of exactly its block, aligned like it (asking twice the size instead
    // needs a run that a 32 MiB machine with boot modules may not have).
    let block = layout.size().max(layout.align()).next_power_of_two();
    let (bytes, align) = if block * 2 <= GROWTH_CHUNK {
        (GROWTH_CHUNK, PAGE_SIZE)
    } else {
        (block.max(PAGE_SIZE), block.max(PAGE_SIZE))
    };
    let Ok(first) = frame::allocate_contiguous(bytes / PAGE_SIZE, align / PAGE_SIZE) else {
        // The allocation then fails and the caller sees the error (or the
        // alloc error handler panics for infallible allocations).
        return;
    };
    let start = crate::arch::paging::direct_map_address(first.start());
    // SAFETY: the frames were just taken from the frame allocator, so no one
    // else uses them, and the direct map covers all RAM read-write; the heap
    // now owns `start..start + bytes` for the kernel's lifetime.
    unsafe { heap.add_to_heap(start, start + bytes) };
}

/// Bytes currently allocated from the heap and bytes the heap holds in all.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.lock();
    (heap.stats_alloc_actual(), heap.stats_total_bytes())
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
                blocks.push(alloc::vec![index as u8; *size]);
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

        fn large_allocation_grows_the_heap() {
            // 3 MiB, or less where earlier cases left the heap holding
            // most of a small machine (it keeps what it grew to): still
            // many growth chunks, and an error rather than a panic if the
            // frames for it are not there.
            let (_, total_before) = super::usage();
            let free_bytes = crate::memory::frame::statistics().free * crate::memory::PAGE_SIZE;
            let size = (3 * 1024 * 1024).min(free_bytes / 8).max(4 * super::GROWTH_CHUNK);
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
