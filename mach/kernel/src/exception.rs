//! What happens when user code faults.
//!
//! The fault becomes an `exception_raise` message to the thread's exception
//! port, else its task's (see `mach_abi::exception`); the thread waits for
//! the verdict and resumes on `KERN_SUCCESS`. With no handler, or no handler
//! that accepts, the task is terminated with a clear log line; the kernel
//! and every other task go on.
#![forbid(unsafe_code)]

use crate::kernel::with_kernel;
use crate::scheduler;

/// The fault types the architecture sorts CPU exceptions into live there
/// (the layer below names nothing above it).
pub use crate::arch::{FaultKind, UserFault};

/// Offers `fault` to the exception handlers; if none takes it, terminates
/// the current task and runs something else (never returning to the
/// faulting thread).
pub fn user_fault(fault: UserFault) {
    if offer_to_handlers(&fault) {
        return;
    }
    with_kernel(|kernel| {
        let thread = kernel.current_thread();
        let Some(task) = kernel.current_task() else {
            panic!("user fault {fault:?} in a thread without a task");
        };
        let name = kernel.tasks.get(task).map(|task| task.name.clone()).unwrap_or_default();
        match fault.address {
            Some(address) => log::warn!(
                "task {name} (thread {thread:?}) killed: {} at {address:#x}, pc {:#x}, error code {:#x}",
                fault.name,
                fault.instruction_pointer,
                fault.error_code
            ),
            None => log::warn!(
                "task {name} (thread {thread:?}) killed: {}, pc {:#x}, error code {:#x}",
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

/// An exception port: which exceptions it takes, and the kernel-held send
/// right the messages go through.
#[derive(Debug)]
pub struct Handler {
    pub mask: u32,
    pub right: mach_ipc::CarriedRight,
}

/// The Mach exception type of a CPU exception, and its two codes.
fn classify(fault: &UserFault) -> (u32, [i64; 2]) {
    use mach_abi::{KernReturn, EXC_ARITHMETIC, EXC_BAD_ACCESS, EXC_BAD_INSTRUCTION, EXC_BREAKPOINT};
    match fault.kind {
        FaultKind::PageFault { protection } => {
            // Why the VM could not give the page, when it is more than a bad
            // address or protection: KERN_RESOURCE_SHORTAGE (the task's
            // memory limit), KERN_MEMORY_ERROR (the object's pager failed).
            let code = crate::vm_fault::take_failure().unwrap_or(if protection {
                KernReturn::ProtectionFailure
            } else {
                KernReturn::InvalidAddress
            });
            (EXC_BAD_ACCESS, [code as i64, fault.address.unwrap_or(0) as i64])
        }
        FaultKind::Protection => {
            (EXC_BAD_ACCESS, [KernReturn::ProtectionFailure as i64, fault.instruction_pointer as i64])
        }
        FaultKind::Arithmetic => (EXC_ARITHMETIC, [fault.vector as i64, fault.instruction_pointer as i64]),
        FaultKind::Breakpoint => (EXC_BREAKPOINT, [fault.vector as i64, fault.instruction_pointer as i64]),
        FaultKind::BadInstruction => (EXC_BAD_INSTRUCTION, [fault.vector as i64, fault.instruction_pointer as i64]),
    }
}

/// Which handler a raise goes to.
#[derive(Clone, Copy)]
enum Level {
    Thread,
    Task,
}

/// Sends `exception_raise` to the handler at `level`, if it takes this
/// exception, and blocks the thread on the reply. False: no such handler,
/// or it could not be sent to (its port is dead).
fn raise(kernel: &mut crate::kernel::Kernel, level: Level, exception: u32, code: [i64; 2]) -> bool {
    use mach_abi::{ExceptionRaiseBody, EXCEPTION_RAISE_ID};
    let thread = kernel.current_thread();
    let Some(task) = kernel.current_task() else { return false };
    let handler_port = match level {
        Level::Thread => kernel.threads.get(thread).and_then(|thread| thread.exception_handler.as_ref()),
        Level::Task => kernel.tasks.get(task).and_then(|task| task.exception_handler.as_ref()),
    }
    .filter(|handler| handler.mask & (1 << exception) != 0)
    .and_then(|handler| handler.right.port())
    .map(|(port, _)| port);
    let (Some(handler_port), Some(thread_port), Some(task_port)) = (
        handler_port,
        kernel.threads.get(thread).and_then(|thread| thread.port),
        kernel.tasks.get(task).and_then(|task| task.port),
    ) else {
        return false;
    };
    let reply_port = kernel.ipc.allocate_kernel_port(0);
    let rights = (
        kernel.ipc.make_send(handler_port),
        kernel.ipc.make_send_once(reply_port),
        kernel.ipc.make_send(thread_port),
        kernel.ipc.make_send(task_port),
    );
    let (Ok(destination), Ok(reply), Ok(thread_right), Ok(task_right)) = rights else {
        for right in [rights.0, rights.1, rights.2, rights.3].into_iter().flatten() {
            kernel.ipc.release(right);
        }
        let _ = kernel.ipc.destroy_kernel_port(reply_port);
        return false;
    };
    let body = ExceptionRaiseBody { exception, code_count: 2, code };
    let mut inline = alloc::vec::Vec::with_capacity(24);
    inline.extend_from_slice(&body.exception.to_le_bytes());
    inline.extend_from_slice(&body.code_count.to_le_bytes());
    for value in code {
        inline.extend_from_slice(&value.to_le_bytes());
    }
    let message = mach_ipc::KernelMessage::from_kernel_with_ports(
        destination,
        EXCEPTION_RAISE_ID,
        Some(reply),
        alloc::vec![thread_right, task_right],
        inline,
    )
    .expect("an exception message is far below the size limit");
    kernel.exception_waits.insert(reply_port, thread);
    match kernel.ipc.send_kernel_message(message) {
        Some(outcome) => crate::ipc::deliver_outcome(kernel, outcome),
        None => {
            // The handler's port died: the message was destroyed, its reply
            // right with it (a send-once notification will not come either,
            // the reply port being ours).
            kernel.exception_waits.remove(&reply_port);
            let _ = kernel.ipc.destroy_kernel_port(reply_port);
            crate::ipc::settle(kernel);
            return false;
        }
    }
    kernel.prepare_block(None, None);
    crate::ipc::settle(kernel);
    true
}

/// A message arrived on an exception reply port: the handler's reply, or
/// the send-once notification of a handler that died without replying.
/// Records the verdict in the waiting thread and wakes it.
pub fn take_reply(kernel: &mut crate::kernel::Kernel, port: mach_ipc::PortId) {
    use mach_abi::{KernReturn, EXCEPTION_RAISE_REPLY_ID};
    let Some(thread) = kernel.exception_waits.remove(&port) else { return };
    let mut verdict = KernReturn::Failure;
    while let Some(message) = kernel.ipc.receive_kernel_message(port) {
        if message.id() == EXCEPTION_RAISE_REPLY_ID {
            let data = message.inline_data();
            if data.len() >= 4 {
                let code = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                verdict = KernReturn::from_u32(code).unwrap_or(KernReturn::Failure);
            }
        }
        kernel.ipc.release_kernel_message(message);
    }
    let _ = kernel.ipc.destroy_kernel_port(port);
    if let Some(object) = kernel.threads.get_mut(thread) {
        object.exception_reply = Some(verdict);
    }
    kernel.wake(thread, crate::thread::WaitResult::Woken);
}

/// Offers `fault` to the thread's then the task's exception handler. True
/// if one handled it (the thread resumes, perhaps with new registers), or
/// `thread_abort` ended the wait (the faulting instruction runs again).
fn offer_to_handlers(fault: &UserFault) -> bool {
    let (exception, code) = classify(fault);
    for level in [Level::Thread, Level::Task] {
        if !with_kernel(|kernel| raise(kernel, level, exception, code)) {
            continue;
        }
        let woke = scheduler::finish_block();
        let verdict = with_kernel(|kernel| {
            let thread = kernel.current_thread();
            kernel.threads.get_mut(thread).and_then(|thread| thread.exception_reply.take())
        });
        if woke == crate::thread::WaitResult::Aborted || verdict == Some(mach_abi::KernReturn::Success) {
            return true;
        }
    }
    false
}

/// `thread_abort` on a thread waiting for an exception reply: the wait is
/// dropped and its reply port destroyed (a handler replying later finds a
/// dead right; its message is destroyed).
pub fn forget_waiter(kernel: &mut crate::kernel::Kernel, thread: crate::thread::ThreadId) {
    let ports: alloc::vec::Vec<mach_ipc::PortId> =
        kernel.exception_waits.iter().filter(|(_, &waiter)| waiter == thread).map(|(&port, _)| port).collect();
    for port in ports {
        kernel.exception_waits.remove(&port);
        let _ = kernel.ipc.destroy_kernel_port(port);
    }
    crate::ipc::settle(kernel);
}
