//! Resolving a user task's page fault: the VM map serves anonymous memory
//! (zero fill on first touch, copy-on-write), a memory object's pager
//! serves object pages. A fault nothing resolves becomes an exception
//! (`exception::user_fault`).

use crate::memory_object::{self, ObjectFault};
use crate::scheduler::{self, with_kernel};
use crate::vm::VmError;

const PAGE: u64 = crate::memory::PAGE_SIZE as u64;

/// What one attempt came to.
enum Attempt {
    Resolved,
    /// The pager was asked; wait, then try again.
    Wait,
    Unresolvable,
}

/// What resolving a fault came to.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The page is there: the faulting access can be retried.
    Resolved,
    /// `thread_abort` ended the wait for a pager: a fault retries its
    /// instruction (and faults again); a trap returns at once (the abort
    /// has written its result).
    Aborted,
    /// Nothing can bring the page.
    Unresolvable,
}

/// Resolves the current thread's fault at `address` wanting `access`
/// (`VM_PROT_*`), waiting for a pager if need be.
pub fn resolve(address: u64, access: u32) -> Resolution {
    loop {
        match with_kernel(|kernel| attempt(kernel, address & !(PAGE - 1), access)) {
            Attempt::Resolved => return Resolution::Resolved,
            Attempt::Unresolvable => return Resolution::Unresolvable,
            Attempt::Wait => {
                if scheduler::finish_block() == crate::thread::WaitResult::Aborted {
                    return Resolution::Aborted;
                }
            }
        }
    }
}

fn attempt(kernel: &mut scheduler::Kernel, page: u64, access: u32) -> Attempt {
    let Some(task) = kernel.current_task() else { return Attempt::Unresolvable };
    let Some(object) = kernel.tasks.get_mut(task) else { return Attempt::Unresolvable };
    let Some(tables) = object.page_tables.as_mut() else { return Attempt::Unresolvable };
    match object.vm.touch(tables, page, access) {
        Ok(_) => Attempt::Resolved,
        Err(VmError::ObjectPage { object, offset }) => {
            match memory_object::fault(kernel, task, page, access, object, offset) {
                ObjectFault::Resolved => Attempt::Resolved,
                ObjectFault::Wait => Attempt::Wait,
                ObjectFault::Fail => Attempt::Unresolvable,
            }
        }
        Err(_) => Attempt::Unresolvable,
    }
}
