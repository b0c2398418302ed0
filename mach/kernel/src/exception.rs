//! What happens when user code faults.
//!
//! Until exception ports exist (they turn a fault into a message to the
//! thread's or task's exception server), a fault in user mode terminates the
//! faulting task with a clear log line; the kernel and every other task go on.

use crate::scheduler::{self, with_kernel};

/// A CPU exception raised by user code, in architecture-neutral terms.
#[derive(Clone, Copy, Debug)]
pub struct UserFault {
    pub name: &'static str,
    pub instruction_pointer: u64,
    /// The address the access went to, for memory faults.
    pub address: Option<u64>,
    pub error_code: u64,
}

/// Terminates the current task for `fault` and runs something else. Never
/// returns to the faulting thread.
pub fn user_fault(fault: UserFault) {
    with_kernel(|kernel| {
        let thread = kernel.current_thread();
        let Some(task) = kernel.current_task() else {
            panic!("user fault {fault:?} in a thread without a task");
        };
        let name = kernel.tasks.get(task).map(|task| task.name.clone()).unwrap_or_default();
        match fault.address {
            Some(address) => log::warn!(
                "task {name} (thread {thread:?}) killed: {} at {address:#x}, rip {:#x}, error code {:#x}",
                fault.name,
                fault.instruction_pointer,
                fault.error_code
            ),
            None => log::warn!(
                "task {name} (thread {thread:?}) killed: {}, rip {:#x}, error code {:#x}",
                fault.name,
                fault.instruction_pointer,
                fault.error_code
            ),
        }
        kernel.terminate_task(task);
    });
    scheduler::reschedule();
    unreachable!("a terminated thread was scheduled again");
}
