//! Frames held by more than one owner: copy-on-write pages shared between
//! VM maps (after a fork or an out-of-line copy) and queued messages, and
//! memory-object pages held by an object's cache and by every mapping.
//!
//! Most frames have exactly one owner, so only the *extra* owners are
//! counted: one 32-bit count per frame of RAM, in a table the frame
//! allocator sets aside at boot (4 bytes per 4 KiB frame, 0.1% of RAM). An
//! unshared frame's count is 0 and `release` of it frees it at once. Every
//! owner of a user frame gives it up with [`release`], never `frame::free`,
//! so the last owner is the one that frees it. Sharing a page costs no
//! allocation at all: a fork of 64 MiB adds 16,384 owners and allocates
//! nothing but the child's page tables.
//!
//! Concurrency: the counts are atomics, changed with read-modify-write
//! operations, so the table needs no lock of its own (the kernel lock
//! serialises every user of a shared frame anyway).

use super::{frame, Frame};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Extra owners by frame number (`n` means `n + 1` owners).
static EXTRA_OWNERS: spin::Once<&'static [AtomicU32]> = spin::Once::new();
/// Frames whose count is not zero (for leak checks).
static SHARED_FRAMES: AtomicUsize = AtomicUsize::new(0);

/// Takes the table the frame allocator reserved: `counts` covers every
/// frame number the allocator manages. Called once, at boot.
pub fn init(counts: &'static mut [u64]) {
    counts.fill(0);
    let length = counts.len() * 2;
    let pointer = counts.as_mut_ptr() as *const AtomicU32;
    // SAFETY: `counts` is a reserved, exclusively owned run of zeroed u64
    // words that lives for the kernel's lifetime; it is reinterpreted as
    // twice as many `AtomicU32`s (same memory, alignment 8 ≥ 4, and
    // `AtomicU32` has the layout of `u32`), and the `&mut` is given up here.
    let table = unsafe { core::slice::from_raw_parts(pointer, length) };
    EXTRA_OWNERS.call_once(|| table);
}

fn count_of(frame: Frame) -> Option<&'static AtomicU32> {
    EXTRA_OWNERS.get()?.get(frame.number())
}

/// Records one more owner of `frame`.
pub fn share(frame: Frame) {
    let count = count_of(frame).expect("a shared frame is RAM the frame allocator manages");
    if count.fetch_add(1, Ordering::Relaxed) == 0 {
        SHARED_FRAMES.fetch_add(1, Ordering::Relaxed);
    }
}

/// Gives up one owner's hold on `frame`, freeing it if that was the last.
pub fn release(frame: Frame) {
    let previous = count_of(frame)
        .map(|count| count.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |extra| extra.checked_sub(1)));
    match previous {
        Some(Ok(1)) => {
            SHARED_FRAMES.fetch_sub(1, Ordering::Relaxed);
        }
        Some(Ok(_)) => {}
        Some(Err(_)) | None => {
            if let Err(error) = frame::free(frame) {
                log::error!("releasing a user frame: {error:?}");
            }
        }
    }
}

/// True if more than one owner holds `frame`.
pub fn is_shared(frame: Frame) -> bool {
    count_of(frame).is_some_and(|count| count.load(Ordering::Relaxed) != 0)
}

/// How many owners hold `frame` (1 for an unshared frame).
pub fn owners(frame: Frame) -> u32 {
    count_of(frame).map_or(1, |count| count.load(Ordering::Relaxed) + 1)
}

/// How many frames have more than one owner (for leak checks).
pub fn shared_frame_count() -> usize {
    SHARED_FRAMES.load(Ordering::Relaxed)
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};

    ktest! {
        fn the_last_owner_frees_a_shared_frame() {
            let before = (frame::statistics().free, shared_frame_count());
            let shared = frame::allocate()?;
            ensure!(!is_shared(shared));
            share(shared);
            share(shared);
            ensure_eq!((owners(shared), shared_frame_count()), (3, before.1 + 1));
            release(shared);
            release(shared);
            ensure_eq!((is_shared(shared), shared_frame_count()), (false, before.1));
            ensure_eq!(frame::statistics().free, before.0 - 1);
            release(shared);
            ensure_eq!((frame::statistics().free, shared_frame_count()), before);
            Ok(())
        }
    }
}
