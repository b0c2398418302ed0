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

/// An exception port: which exceptions it takes, the kernel-held send
/// right the messages go through, and what they carry (`behavior`:
/// `EXCEPTION_DEFAULT`, `EXCEPTION_STATE` or `EXCEPTION_STATE_IDENTITY`).
#[derive(Debug)]
pub struct Handler {
    pub mask: u32,
    pub right: mach_ipc::CarriedRight,
    pub behavior: u32,
}

/// A thread waiting for an exception reply (`Kernel::exception_waits`, by
/// the kernel reply port): the reply must have the id of the behaviour it
/// was raised with, and a state reply's registers go to the thread.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub thread: crate::thread::ThreadId,
    pub behavior: u32,
}

/// Whether a handler of `behavior` gets the thread's and task's ports and
/// the thread's registers.
fn carries(behavior: u32) -> (bool, bool) {
    use mach_abi::{EXCEPTION_STATE, EXCEPTION_STATE_IDENTITY};
    (behavior != EXCEPTION_STATE, behavior == EXCEPTION_STATE || behavior == EXCEPTION_STATE_IDENTITY)
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

/// Sends the exception message to the handler at `level`, if it takes
/// this exception, and blocks the thread on the reply. False: no such
/// handler, or it could not be sent to (its port is dead).
fn raise(kernel: &mut crate::kernel::Kernel, level: Level, exception: u32, code: [i64; 2]) -> bool {
    use mach_abi::ExceptionRaiseBody;
    let thread = kernel.current_thread();
    let Some(task) = kernel.current_task() else { return false };
    let handler = match level {
        Level::Thread => kernel.threads.get(thread).and_then(|thread| thread.exception_handler.as_ref()),
        Level::Task => kernel.tasks.get(task).and_then(|task| task.exception_handler.as_ref()),
    }
    .filter(|handler| handler.mask & (1 << exception) != 0)
    .and_then(|handler| Some((handler.right.port()?.0, handler.behavior)));
    let Some((handler_port, behavior)) = handler else { return false };
    let Some((request_id, _)) = mach_abi::exception_ids(behavior) else { return false };
    let (with_ports, with_state) = carries(behavior);
    let (Some(thread_port), Some(task_port)) =
        (kernel.threads.get(thread).and_then(|thread| thread.port), kernel.tasks.get(task).and_then(|task| task.port))
    else {
        return false;
    };
    let body = ExceptionRaiseBody { exception, code_count: 2, code };
    let mut bytes = [0u8; STATE_REQUEST_BODY];
    bytes[0..4].copy_from_slice(&body.exception.to_le_bytes());
    bytes[4..8].copy_from_slice(&body.code_count.to_le_bytes());
    for (index, value) in code.into_iter().enumerate() {
        bytes[8 + index * 8..16 + index * 8].copy_from_slice(&value.to_le_bytes());
    }
    let length = if with_state { STATE_REQUEST_BODY } else { 24 };
    if with_state && !write_state(kernel, thread, &mut bytes[24..]) {
        return false;
    }
    let inline = &bytes[..length];
    if !with_ports {
        // The usual shape (no port descriptors): written straight into a
        // waiting handler thread's buffer, no message built.
        let reply_port = kernel.ipc.allocate_kernel_port(0);
        let request = mach_ipc::KernelRequest {
            destination: handler_port,
            id: request_id,
            reply: Some(reply_port),
            port: None,
            data: inline,
        };
        if crate::ipc::kernel_handoff::send_request(kernel, request) {
            kernel.exception_waits.insert(reply_port, Wait { thread, behavior });
            kernel.prepare_block(None, None);
            if kernel.ipc.has_pending_work() {
                crate::ipc::settle(kernel);
            }
            return true;
        }
        let _ = kernel.ipc.destroy_kernel_port(reply_port);
    }
    let inline = inline.to_vec();
    let reply_port = kernel.ipc.allocate_kernel_port(0);
    let destination = kernel.ipc.make_send(handler_port);
    let reply = kernel.ipc.make_send_once(reply_port);
    let identity = with_ports.then(|| (kernel.ipc.make_send(thread_port), kernel.ipc.make_send(task_port)));
    let message = match (destination, reply, identity) {
        (Ok(destination), Ok(reply), None) => {
            mach_ipc::KernelMessage::from_kernel(destination, request_id, Some(reply), inline)
        }
        (Ok(destination), Ok(reply), Some((Ok(thread_right), Ok(task_right)))) => {
            mach_ipc::KernelMessage::from_kernel_with_ports(
                destination,
                request_id,
                Some(reply),
                alloc::vec![thread_right, task_right],
                inline,
            )
        }
        (destination, reply, identity) => {
            let (thread_right, task_right) = identity.map_or((None, None), |(a, b)| (a.ok(), b.ok()));
            for right in [destination.ok(), reply.ok(), thread_right, task_right].into_iter().flatten() {
                kernel.ipc.release(right);
            }
            let _ = kernel.ipc.destroy_kernel_port(reply_port);
            return false;
        }
    }
    .expect("an exception message is far below the size limit");
    kernel.exception_waits.insert(reply_port, Wait { thread, behavior });
    // Handed straight to a handler thread waiting in its receive, which the
    // caller then switches to (`offer_to_handlers`).
    if !crate::ipc::kernel_handoff::send(kernel, message) {
        // The handler's port died: the message was destroyed, its reply
        // right with it (a send-once notification will not come either,
        // the reply port being ours).
        kernel.exception_waits.remove(&reply_port);
        let _ = kernel.ipc.destroy_kernel_port(reply_port);
        crate::ipc::settle(kernel);
        return false;
    }
    kernel.prepare_block(None, None);
    if kernel.ipc.has_pending_work() {
        crate::ipc::settle(kernel);
    }
    true
}

/// Bytes of a state request's inline part: the body, the flavor and count,
/// the registers.
const STATE_REQUEST_BODY: usize = 24 + 8 + THREAD_STATE_BYTES;
const THREAD_STATE_BYTES: usize = crate::arch::context::THREAD_STATE_COUNT as usize * 4;

/// Writes the flavor, the count and `thread`'s user registers (as
/// `thread_get_state` gives them) into `out` (`8 + THREAD_STATE_BYTES`
/// long). False if the thread has none (a kernel thread).
fn write_state(kernel: &crate::kernel::Kernel, thread: crate::thread::ThreadId, out: &mut [u8]) -> bool {
    use crate::arch::context;
    let words = kernel
        .threads
        .get(thread)
        .and_then(|thread| thread.kernel_stack.as_ref())
        .and_then(|stack| stack.inspect_user_registers(context::thread_state_words));
    let Some(words) = words else { return false };
    out[0..4].copy_from_slice(&context::THREAD_STATE_FLAVOR.to_le_bytes());
    out[4..8].copy_from_slice(&context::THREAD_STATE_COUNT.to_le_bytes());
    for (bytes, word) in out[8..8 + THREAD_STATE_BYTES].chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    true
}

/// The verdict of a reply to an exception raised with `behavior` whose
/// inline data (after the header) is `data`, its new registers installed
/// in `thread` for a state reply that succeeds. A reply of the wrong id, too
/// short, or (for a state reply) with a flavor, count or registers
/// `thread_set_state` would refuse is a failure, with nothing changed.
fn verdict_of(
    kernel: &mut crate::kernel::Kernel,
    thread: crate::thread::ThreadId,
    behavior: u32,
    id: i32,
    data: &[u8],
) -> mach_abi::KernReturn {
    use crate::arch::context;
    use mach_abi::KernReturn;
    let word = |index: usize| {
        let bytes = data.get(index * 4..index * 4 + 4)?;
        Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    if mach_abi::exception_ids(behavior).map(|(_, reply)| reply) != Some(id) {
        return KernReturn::Failure;
    }
    let Some(code) = word(0).and_then(KernReturn::from_u32) else { return KernReturn::Failure };
    let (_, with_state) = carries(behavior);
    if code != KernReturn::Success || !with_state {
        return code;
    }
    if word(1) != Some(context::THREAD_STATE_FLAVOR) || word(2) != Some(context::THREAD_STATE_COUNT) {
        return KernReturn::Failure;
    }
    let Some(state) = data.get(12..12 + THREAD_STATE_BYTES) else { return KernReturn::Failure };
    let mut words = [0u32; context::THREAD_STATE_COUNT as usize];
    for (word, bytes) in words.iter_mut().zip(state.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let installed = kernel
        .threads
        .get_mut(thread)
        .and_then(|thread| thread.kernel_stack.as_mut())
        .and_then(|stack| stack.change_user_registers(|frame| context::set_thread_state_words(frame, &words)));
    if installed == Some(true) {
        KernReturn::Success
    } else {
        KernReturn::Failure
    }
}

/// A message arrived on an exception reply port: the handler's reply, or
/// the send-once notification of a handler that died without replying.
/// Records the verdict in the waiting thread and wakes it.
pub fn take_reply(kernel: &mut crate::kernel::Kernel, port: mach_ipc::PortId) {
    let Some(wait) = kernel.exception_waits.remove(&port) else { return };
    let mut verdict = mach_abi::KernReturn::Failure;
    while let Some(message) = kernel.ipc.receive_kernel_message(port) {
        // The send-once notification of a handler that died has another id.
        verdict = verdict_of(kernel, wait.thread, wait.behavior, message.id(), message.inline_data());
        kernel.ipc.release_kernel_message(message);
    }
    finish_wait(kernel, port, wait.thread, verdict, None);
}

/// The reply leg of the call fast path (`ipc::mach_msg`'s handoff): a
/// handler's inline message `bytes`, sent from `space` to `port`, the reply
/// port of an exception a thread waits on, is taken at once instead of
/// being queued there, its verdict (and a state reply's registers) given
/// to the thread, which becomes the next to run (`direct` as for
/// `Kernel::wake_for_handoff`). `None`: not such a message (it takes the
/// general path, which queues it and comes to [`take_reply`]); a send the
/// general path would refuse fails with its code, nothing changed.
pub fn take_reply_in_place(
    kernel: &mut crate::kernel::Kernel,
    space: mach_ipc::SpaceId,
    bytes: &[u8],
    port: mach_ipc::PortId,
    direct: bool,
) -> Option<mach_abi::MachMsgReturn> {
    let wait = *kernel.exception_waits.get(&port)?;
    // A reply's usual shape: its right consumed, its words read in place.
    if kernel.ipc.send_reply_to_kernel(space, bytes).is_some() {
        kernel.exception_waits.remove(&port);
        let id = mach_abi::MachMsgHeader::read_from(bytes).map_or(0, |header| header.id);
        let data = bytes.get(mach_abi::MACH_MSG_HEADER_SIZE..).unwrap_or_default();
        let verdict = verdict_of(kernel, wait.thread, wait.behavior, id, data);
        finish_wait(kernel, port, wait.thread, verdict, Some(direct));
        return Some(mach_abi::MachMsgReturn::Success);
    }
    let message = match kernel.ipc.send_to_kernel(space, bytes) {
        Ok(message) => message,
        Err(mach_ipc::SendError::Failed(code)) => {
            crate::ipc::settle(kernel);
            return Some(code);
        }
        Err(_) => return None,
    };
    kernel.exception_waits.remove(&port);
    let verdict = verdict_of(kernel, wait.thread, wait.behavior, message.id(), message.inline_data());
    kernel.ipc.release_kernel_message(message);
    finish_wait(kernel, port, wait.thread, verdict, Some(direct));
    Some(mach_abi::MachMsgReturn::Success)
}

/// Ends `thread`'s wait on the exception reply port `port` with `verdict`:
/// woken, or with `handoff`, made the next to run as a thread a message
/// was handed to (`Kernel::wake_for_handoff`, its `direct`).
fn finish_wait(
    kernel: &mut crate::kernel::Kernel,
    port: mach_ipc::PortId,
    thread: crate::thread::ThreadId,
    verdict: mach_abi::KernReturn,
    handoff: Option<bool>,
) {
    let _ = kernel.ipc.destroy_kernel_port(port);
    if let Some(object) = kernel.threads.get_mut(thread) {
        object.exception_reply = Some(verdict);
    }
    match handoff {
        // The handler answers: it lends nothing (the faulting thread's loan
        // to it, if any, ends as the thread wakes).
        Some(direct) => kernel.wake_for_handoff(thread, direct, false),
        None => kernel.wake(thread, crate::thread::WaitResult::Woken),
    }
    if kernel.ipc.has_pending_work() {
        crate::ipc::settle(kernel);
    }
}

/// Offers `fault` to the thread's then the task's exception handler. True
/// if one handled it (the thread resumes, perhaps with new registers), or
/// `thread_abort` ended the wait (the faulting instruction runs again).
fn offer_to_handlers(fault: &UserFault) -> bool {
    let (exception, code) = classify(fault);
    for level in [Level::Thread, Level::Task] {
        // Raised, the thread blocks and the switch (to the handler the
        // message was handed to, normally) happens in the same lock section.
        let raised = scheduler::with_kernel_then_switch(|kernel| {
            let raised = raise(kernel, level, exception, code);
            (raised, raised)
        });
        if !raised {
            continue;
        }
        let (woke, verdict) = with_kernel(|kernel| {
            let thread = kernel.current_thread();
            let object = kernel.threads.get_mut(thread);
            object.map_or((crate::thread::WaitResult::Woken, None), |thread| {
                (thread.wait_result.take().unwrap_or(crate::thread::WaitResult::Woken), thread.exception_reply.take())
            })
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
        kernel.exception_waits.iter().filter(|(_, wait)| wait.thread == thread).map(|(&port, _)| port).collect();
    for port in ports {
        kernel.exception_waits.remove(&port);
        let _ = kernel.ipc.destroy_kernel_port(port);
    }
    crate::ipc::settle(kernel);
}
