//! Charging tasks for their IPC names.
//!
//! A space may hold up to `TASK_IPC_LIMITS.max_entries` (65,536) names, and
//! the kernel memory behind them (the entry, the reverse map, the port for a
//! receive right: about [`NAME_CHARGE_BYTES`] for a receive right, less for
//! a send right) comes from the kernel heap. So that one task filling its
//! space cannot starve the others, that memory counts against the task's
//! page limit like its own pages (`VmMap::charge_held`): names are bought in
//! steps of [`NAMES_PER_STEP`], and `mach_ipc` stops the space at what was
//! bought (its *name allowance*). Where a space reaches its allowance:
//!
//! - an allocation or insertion fails with `KERN_NO_SPACE`; [`with_room`]
//!   buys another step and tries once more;
//! - a receive answers `ReceiveError::NamesNeeded` before taking the
//!   message; the receive path buys what it needs ([`reserve`]) and
//!   retries, or, if the task is at its limit, receives losing the rights
//!   that find no name (`MACH_MSG_IPC_SPACE`), as at the hard limit;
//! - a handoff into it is declined (the queued path then does the above).
//!
//! Steps a space no longer needs are given back after the traps that free
//! names ([`release_spare`]). A task's memory and charges go with it.
#![forbid(unsafe_code)]

use crate::kernel::Kernel;
use crate::task::TaskId;
use mach_abi::KernReturn;
use mach_ipc::SpaceId;

/// What one name is charged, in bytes: what a receive right costs the
/// kernel heap (its port's slot, 224 bytes in a 16 KiB block of 64, so 256;
/// its entry; its reverse-map slot), measured at about 330 bytes once the
/// port table's chunks were counted (they used to stay allocated for good
/// and the measure missed their rounding), with a margin.
pub const NAME_CHARGE_BYTES: usize = 352;
/// Names bought at a time.
pub const NAMES_PER_STEP: usize = 256;
/// Pages one step charges.
pub const PAGES_PER_STEP: usize = (NAMES_PER_STEP * NAME_CHARGE_BYTES).div_ceil(crate::memory::PAGE_SIZE);

/// Makes room for `count` more names in `task`'s space by charging the task
/// for more steps. Fails (changing nothing) when the task's page limit or
/// the kernel's memory reserve does not allow it, or the space is at its
/// hard limit.
pub fn reserve(kernel: &mut Kernel, task: TaskId, count: usize) -> Result<(), KernReturn> {
    let object = kernel.tasks.get_mut(task).ok_or(KernReturn::InvalidTask)?;
    let space = kernel.ipc.space(object.space).ok_or(KernReturn::InvalidTask)?;
    let (needed, allowance, limit) = (space.name_count() + count, space.name_allowance(), space.limits().max_entries);
    if needed <= allowance {
        return Ok(());
    }
    if needed > limit {
        return Err(KernReturn::NoSpace);
    }
    let steps = (needed - allowance).div_ceil(NAMES_PER_STEP);
    let pages = steps * PAGES_PER_STEP;
    if !crate::memory::can_spare(pages * crate::memory::PAGE_SIZE) {
        return Err(KernReturn::NoSpace);
    }
    let tables = object.page_tables.as_ref().ok_or(KernReturn::InvalidTask)?;
    object.vm.charge_held(tables, pages).map_err(|_| KernReturn::NoSpace)?;
    object.name_pages += pages;
    let space = object.space;
    kernel.ipc.set_name_allowance(space, allowance + steps * NAMES_PER_STEP)
}

/// Gives back the steps `task`'s space no longer needs, keeping one spare.
pub fn release_spare(kernel: &mut Kernel, task: TaskId) {
    let Some(object) = kernel.tasks.get_mut(task) else { return };
    let Some(space) = kernel.ipc.space(object.space) else { return };
    let (count, allowance) = (space.name_count(), space.name_allowance());
    let spare_steps = allowance.saturating_sub(count) / NAMES_PER_STEP;
    if spare_steps < 2 {
        return;
    }
    let steps = (spare_steps - 1).min(object.name_pages / PAGES_PER_STEP);
    object.vm.uncharge_held(steps * PAGES_PER_STEP);
    object.name_pages -= steps * PAGES_PER_STEP;
    let space = object.space;
    let _ = kernel.ipc.set_name_allowance(space, allowance - steps * NAMES_PER_STEP);
}

/// [`release_spare`] for the task that owns `space`: the slow search runs
/// only when the space has spare steps to give back.
pub fn release_spare_of(kernel: &mut Kernel, space: SpaceId) {
    let spare = kernel.ipc.space(space).is_some_and(|space_object| {
        space_object.name_allowance().saturating_sub(space_object.name_count()) >= 2 * NAMES_PER_STEP
    });
    if let Some(task) = spare.then(|| owner_of(kernel, space)).flatten() {
        release_spare(kernel, task);
    }
}

/// The task whose space `space` is (a search: used at allowance boundaries only).
fn owner_of(kernel: &Kernel, space: SpaceId) -> Option<TaskId> {
    kernel.tasks.iter().find(|(_, task)| task.space == space).map(|(id, _)| id)
}

/// Buys room for `count` more names in `space` if its allowance does not
/// have it (best effort: a task at its limit keeps its allowance, and the
/// operation that follows fails with `KERN_NO_SPACE`). For operations that
/// cannot simply be retried (making a send right counts a make-send).
pub fn make_room(kernel: &mut Kernel, space: SpaceId, count: usize) {
    let short = kernel.ipc.space(space).is_some_and(|space_object| {
        space_object.name_count() + count > space_object.name_allowance()
            && space_object.name_allowance() < space_object.limits().max_entries
    });
    if let Some(task) = short.then(|| owner_of(kernel, space)).flatten() {
        let _ = reserve(kernel, task, count);
    }
}

/// Runs `operation`, which may give `space` up to `count` new names; if it
/// fails with `KERN_NO_SPACE` because the space reached its allowance (not
/// its hard limit), buys room for the names and runs it once more. The
/// operation must change nothing when it fails with `KERN_NO_SPACE`.
pub fn with_room<T>(
    kernel: &mut Kernel,
    space: SpaceId,
    count: usize,
    mut operation: impl FnMut(&mut Kernel) -> Result<T, KernReturn>,
) -> Result<T, KernReturn> {
    match operation(kernel) {
        Err(KernReturn::NoSpace) => {
            let below_limit = kernel
                .ipc
                .space(space)
                .is_some_and(|space_object| space_object.name_allowance() < space_object.limits().max_entries);
            let task = below_limit.then(|| owner_of(kernel, space)).flatten().ok_or(KernReturn::NoSpace)?;
            reserve(kernel, task, count)?;
            operation(kernel)
        }
        other => other,
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::kernel::with_kernel;
    use crate::{ensure, ktest};

    ktest! {
        fn the_charge_per_name_covers_what_a_receive_right_costs_the_heap() {
            // A space of its own, filled with receive rights, twice (the
            // first may grow tables that stay, the space arena's say). The
            // port table's chunks go when their last port does, so each
            // time the heap's growth is the whole cost: the port's slot,
            // the entry and the reverse map.
            const NAMES: usize = 8192;
            let mut growth = 0;
            for _ in 0..2 {
                growth = with_kernel(|kernel| {
                    let space = kernel.ipc.create_space(0xffff_fff0, crate::kernel::TASK_IPC_LIMITS);
                    let (before, _) = crate::memory::heap::usage();
                    let mut names = 0;
                    for _ in 0..NAMES {
                        names += kernel.ipc.allocate(space, mach_abi::PortRight::Receive).is_ok() as usize;
                    }
                    let (after, _) = crate::memory::heap::usage();
                    let _ = kernel.ipc.destroy_space(space);
                    crate::ipc::settle(kernel);
                    (names == NAMES).then(|| after.saturating_sub(before))
                })
                .ok_or("a space refused 8192 names")?;
            }
            let per_name = growth / NAMES;
            log::info!("a receive right costs about {per_name} bytes of kernel heap (charged {NAME_CHARGE_BYTES})");
            ensure!(per_name <= NAME_CHARGE_BYTES, "a name costs {per_name} bytes, charged {NAME_CHARGE_BYTES}");
            Ok(())
        }
    }
}
