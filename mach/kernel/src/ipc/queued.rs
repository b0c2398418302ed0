//! Charging senders for the messages they have queued.
//!
//! A queued message holds its inline bytes in the kernel heap until it is
//! received or destroyed (at most 64 messages of 64 KiB a task). Those
//! bytes are charged to the sending task, in pages, like the rest of what
//! the kernel holds for it, so its account bounds what all of its tasks
//! have queued (docs/resources.md): before a message is queued the sender
//! is charged up to what its space then has queued, rounded up to pages
//! ([`reserve`]); the kernel gives the charge back as `mach_ipc` reports
//! the messages leaving their queues ([`release_dequeued`], run by the
//! receive path and by `ipc::settle`). A task's charge leaves with it.
#![forbid(unsafe_code)]

use crate::kernel::Kernel;
use crate::memory::PAGE_SIZE;
use crate::task::TaskId;
use mach_ipc::SpaceId;

/// Charges `task` (whose space is `space`) for a message of `bytes` more
/// queued inline bytes. Fails, changing nothing, when its limit or its
/// account's does not allow it.
pub fn reserve(kernel: &mut Kernel, task: TaskId, space: SpaceId, bytes: usize) -> Result<(), ()> {
    let queued = kernel.ipc.space(space).map_or(0, |space_object| space_object.queued_bytes());
    let needed = (queued + bytes).div_ceil(PAGE_SIZE);
    let object = kernel.tasks.get_mut(task).ok_or(())?;
    if needed <= object.message_pages {
        return Ok(());
    }
    let tables = object.page_tables.as_ref().ok_or(())?;
    object.vm.charge_held(tables, needed - object.message_pages).map_err(|_| ())?;
    object.message_pages = needed;
    Ok(())
}

/// Gives back what the senders of messages that left their queues are
/// charged beyond what they still have queued.
pub fn release_dequeued(kernel: &mut Kernel) {
    while let Some(space) = kernel.ipc.pop_sender_of_dequeued() {
        if let Some(&task) = kernel.space_owners.get(&space) {
            trim(kernel, task, space);
        }
    }
}

/// Gives back what `task` is charged beyond what its space `space` has
/// queued (after a release, or a send that queued nothing).
pub fn trim(kernel: &mut Kernel, task: TaskId, space: SpaceId) {
    let queued = kernel.ipc.space(space).map_or(0, |space_object| space_object.queued_bytes());
    let Some(object) = kernel.tasks.get_mut(task) else { return };
    let needed = queued.div_ceil(PAGE_SIZE);
    if object.message_pages > needed {
        object.vm.uncharge_held(object.message_pages - needed);
        object.message_pages = needed;
    }
}
