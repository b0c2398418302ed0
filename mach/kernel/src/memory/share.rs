//! Frames held by more than one owner: copy-on-write pages shared between
//! VM maps and queued messages, and memory-object pages mapped by several
//! regions.
//!
//! Most frames have exactly one owner, so only the *extra* references are
//! recorded, in a table keyed by frame number: an unshared frame costs
//! nothing and `release` of it frees it at once. Every owner of a user frame
//! gives it up with [`release`], never `frame::free`, so the last owner is
//! the one that frees it.
//!
//! Locking: its own spin lock, never held while calling the frame allocator
//! (the heap may take the frame lock while this table grows).

use super::{frame, Frame};
use alloc::collections::BTreeMap;
use spin::Mutex;

/// Extra owners by frame number (an entry `n` means `n + 1` owners).
static EXTRA_OWNERS: Mutex<BTreeMap<usize, u32>> = Mutex::new(BTreeMap::new());

/// Records one more owner of `frame`.
pub fn share(frame: Frame) {
    *EXTRA_OWNERS.lock().entry(frame.number()).or_insert(0) += 1;
}

/// Gives up one owner's hold on `frame`, freeing it if that was the last.
pub fn release(frame: Frame) {
    let last = {
        let mut table = EXTRA_OWNERS.lock();
        match table.get_mut(&frame.number()) {
            Some(1) => {
                table.remove(&frame.number());
                false
            }
            Some(extra) => {
                *extra -= 1;
                false
            }
            None => true,
        }
    };
    if last {
        if let Err(error) = frame::free(frame) {
            log::error!("releasing a user frame: {error:?}");
        }
    }
}

/// True if more than one owner holds `frame`.
pub fn is_shared(frame: Frame) -> bool {
    EXTRA_OWNERS.lock().contains_key(&frame.number())
}

/// How many frames have more than one owner (for leak checks).
pub fn shared_frame_count() -> usize {
    EXTRA_OWNERS.lock().len()
}
