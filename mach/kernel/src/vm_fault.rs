//! Resolving page faults: the VM map serves anonymous memory (zero fill on
//! first touch, copy-on-write, private copies of object pages), a memory
//! object serves object pages (a kernel object at once, a pager's object
//! after a message and a wait). A fault nothing resolves becomes an
//! exception (`exception::user_fault`) whose code says why
//! ([`take_failure`]).
//!
//! The kernel's own copies to and from user memory resolve pages the same
//! way, except that a trap cannot wait for a pager half way: a copy that
//! meets an object page it cannot have yet records it in the map
//! (`VmMap::want_page`) and fails the trap, which changed nothing (traps
//! check everything before they change anything); the trap layer then
//! waits for that page like a fault would and runs the trap again
//! ([`wait_for_wanted_page`]). A wait on a pager ends early when the
//! thread is aborted (`thread_abort` wakes it with `WaitResult::Aborted`):
//! a fault then returns to the faulting instruction, which faults again
//! when the thread next runs; a trap returns `KERN_ABORTED`
//! (`MACH_SEND_INTERRUPTED` / `MACH_RCV_INTERRUPTED` for `mach_msg`).
#![forbid(unsafe_code)]

use crate::kernel::{with_kernel, Kernel};
use crate::memory_object::{self, ObjectFault};
use crate::scheduler;
use crate::task::TaskId;
use crate::thread::{ThreadId, WaitResult};
use crate::vm::VmError;
use mach_abi::KernReturn;

const PAGE: u64 = crate::memory::PAGE_SIZE as u64;

/// What resolving a page came to.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The page is there with the access asked for: the access can be
    /// retried.
    Resolved,
    /// `thread_abort` ended the wait for a pager: a fault retries its
    /// instruction (and faults again); a trap returns at once (the abort
    /// has written its result).
    Aborted,
    /// Nothing can bring the page (why: [`take_failure`] after a fault).
    Unresolvable,
}

/// How resolving came out, with the reason a page cannot be had when it
/// is more than a bad address or protection: `KERN_RESOURCE_SHORTAGE`
/// (the task's limit, or the machine's memory), `KERN_MEMORY_ERROR` (the
/// object's pager failed, died or refused the page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Resolved,
    Aborted,
    Failed(Option<KernReturn>),
}

impl Outcome {
    fn resolution(self) -> Resolution {
        match self {
            Outcome::Resolved => Resolution::Resolved,
            Outcome::Aborted => Resolution::Aborted,
            Outcome::Failed(_) => Resolution::Unresolvable,
        }
    }
}

/// What one attempt came to.
enum Attempt {
    Resolved,
    /// The pager was asked; wait, then try again.
    Wait,
    Unresolvable(Option<KernReturn>),
}

/// Resolves `task`'s page at `address` for `access` (`VM_PROT_*`) for the
/// current thread, waiting for a pager if need be.
pub fn resolve_in(task: TaskId, address: u64, access: u32) -> Resolution {
    resolve_for(Some(task), address, access).resolution()
}

/// `resolve_in` for `task`, or the current thread's task (found under the
/// same lock as the first attempt: a fault costs one lock round).
#[inline(always)]
fn resolve_for(task: Option<TaskId>, address: u64, access: u32) -> Outcome {
    loop {
        // A wait for the pager blocks and switches (to the pager thread the
        // request was handed to, normally) in the same lock section.
        let attempted = scheduler::with_kernel_then_switch(|kernel| {
            let attempted = match task.or_else(|| kernel.current_task()) {
                Some(task) => attempt(kernel, task, address & !(PAGE - 1), access),
                None => Attempt::Unresolvable(None),
            };
            let wait = matches!(attempted, Attempt::Wait);
            (attempted, wait)
        });
        match attempted {
            Attempt::Resolved => return Outcome::Resolved,
            Attempt::Unresolvable(code) => return Outcome::Failed(code),
            Attempt::Wait => {
                let woke = with_kernel(|kernel| {
                    let current = kernel.current_thread();
                    kernel.threads.get_mut(current).and_then(|thread| thread.wait_result.take())
                });
                if woke.unwrap_or(WaitResult::Woken) != WaitResult::Woken {
                    // `thread_abort` forgets the waiter too; a wake-up for
                    // any other reason must not leave it behind either.
                    with_kernel(|kernel| {
                        let thread = kernel.current_thread();
                        memory_object::forget_waiter(kernel, thread);
                    });
                    return Outcome::Aborted;
                }
            }
        }
    }
}

/// `resolve` for the architecture's user page faults (`arch::Handlers`):
/// true if the thread may retry the instruction (resolved, or an aborted
/// wait for a pager: it faults again if the page is still not there).
pub fn resolve_user_page_fault(address: u64, access: u32) -> bool {
    !matches!(resolve(address, access), Resolution::Unresolvable)
}

/// Resolves the current thread's page fault at `address` wanting
/// `access`. `Resolved` and `Aborted` let the faulting instruction run
/// again (an aborted wait's instruction faults anew when the thread next
/// runs); `Unresolvable` makes the fault an exception, with the code
/// `take_failure` gives.
#[inline(always)]
pub fn resolve(address: u64, access: u32) -> Resolution {
    let outcome = resolve_for(None, address, access);
    if let Outcome::Failed(Some(code)) = outcome {
        record_failure(code);
    }
    outcome.resolution()
}

#[cold]
fn record_failure(code: KernReturn) {
    let thread = with_kernel(|kernel| kernel.current_thread());
    *FAILURE.lock() = Some((thread, code));
}

/// Why the current thread's last page fault could not be resolved, if the
/// reason is more than a bad address (for the exception's code). Taken
/// once.
pub fn take_failure() -> Option<KernReturn> {
    let thread = with_kernel(|kernel| kernel.current_thread());
    let mut failure = FAILURE.lock();
    match *failure {
        Some((failed, code)) if failed == thread => {
            *failure = None;
            Some(code)
        }
        _ => None,
    }
}

/// The reason the last unresolvable fault gave, by thread. One slot is
/// enough: the exception that reads it is raised by the same thread right
/// after the fault failed, with no switch in between (interrupts are off
/// in the fault handler); keyed by thread so a stale one is never misread.
static FAILURE: spin::Mutex<Option<(ThreadId, KernReturn)>> = spin::Mutex::new(None);

fn attempt(kernel: &mut Kernel, task: TaskId, page: u64, access: u32) -> Attempt {
    let Some(object) = kernel.tasks.get_mut(task) else { return Attempt::Unresolvable(None) };
    let Some(tables) = object.page_tables.as_mut() else { return Attempt::Unresolvable(None) };
    match object.vm.touch(tables, page, access) {
        Ok(_) => Attempt::Resolved,
        Err(VmError::ObjectPage { object, offset, private }) => {
            match memory_object::fault(kernel, task, page, access, object, offset, private) {
                ObjectFault::Resolved => Attempt::Resolved,
                ObjectFault::Wait => Attempt::Wait,
                ObjectFault::Fail(code) => Attempt::Unresolvable(Some(code)),
            }
        }
        Err(VmError::OutOfMemory) => Attempt::Unresolvable(Some(KernReturn::ResourceShortage)),
        // A mapped page the access is not allowed on, present or not yet:
        // the exception says protection (SEGV_ACCERR), not a bad address,
        // which the CPU's error code alone cannot tell for a page never
        // touched (a write to fresh read-only memory).
        Err(VmError::ProtectionFailure) => Attempt::Unresolvable(Some(KernReturn::ProtectionFailure)),
        Err(_) => Attempt::Unresolvable(None),
    }
}

/// After a trap failed with `KERN_MEMORY_FAILURE`: if a kernel copy in it
/// wanted an object page it could not have without waiting, waits for that
/// page (in whichever task it is) and answers `Ok` to run the trap again,
/// or the error the trap should return instead. `None`: no page was
/// wanted, the trap's own error stands.
pub fn wait_for_wanted_page() -> Option<Result<(), KernReturn>> {
    let wanted = with_kernel(|kernel| {
        let mut first = None;
        for (task, object) in kernel.tasks.iter_mut() {
            if let Some((page, access)) = object.vm.take_wanted_page() {
                first.get_or_insert((task, page, access));
            }
        }
        first
    })?;
    let (task, page, access) = wanted;
    Some(match resolve_for(Some(task), page, access) {
        Outcome::Resolved => Ok(()),
        Outcome::Failed(code) => Err(code.unwrap_or(KernReturn::InvalidAddress)),
        Outcome::Aborted => Err(KernReturn::Aborted),
    })
}
