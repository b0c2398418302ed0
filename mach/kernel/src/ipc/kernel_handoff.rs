//! Messages the kernel originates (an exception raise, a pager's data
//! request) delivered the way the call fast path delivers a task's
//! request: when a thread already waits to receive from the destination
//! (or its port set), the message goes straight into that thread's buffer
//! (`mach_ipc::Ipc::send_kernel_into`), never queued, and that thread is
//! made the next to run, so the thread that faulted and now blocks on the
//! answer switches straight to its handler or pager. Otherwise the message
//! is queued and a receiver woken as for any kernel message.
#![forbid(unsafe_code)]

use super::mach_msg::ReceiveTarget;
use super::wait::WaitKey;
use super::{deliver_outcome, settle};
use crate::kernel::Kernel;
use crate::memory::user::{self, UserBuffer};
use crate::task::TaskId;
use crate::thread::ThreadId;
use mach_abi::{MachMsgReturn, MACH_MSG_AUDIT_TRAILER_SIZE};
use mach_ipc::{KernelMessage, KernelRequest, PortId, ReceiveOptions};

/// Kernel messages handed off are at most this long (an exception message
/// with the thread state is about 330 bytes on aarch64); a longer one is
/// queued.
const HANDOFF_MESSAGE: usize = 512;

/// Sends `message`, built by the kernel: handed to a waiting receiver
/// (made the next thread to run: the caller blocks and switches in this
/// lock section, or calls `Kernel::queue_handoff`, as for
/// `Kernel::wake_for_handoff`'s `direct`), else queued with a receiver
/// woken. False if its destination is dead (the message is destroyed,
/// its rights released).
pub fn send(kernel: &mut Kernel, message: KernelMessage) -> bool {
    let message = match hand_off(kernel, message) {
        Ok(()) => return true,
        Err(message) => message,
    };
    match kernel.ipc.send_kernel_message(message) {
        Some(outcome) => {
            deliver_outcome(kernel, outcome);
            true
        }
        None => false,
    }
}

/// A kernel request of the usual shapes (`mach_ipc::KernelRequest`: an
/// exception raise with its registers and a reply right, a pager's data
/// request with its right to the object) written straight into a waiting
/// receiver's buffer, no message built (`Ipc::send_kernel_request_into`),
/// the receiver made the next thread to run as by [`send`]. False, with
/// nothing changed, if no waiting receiver can take it now: the caller
/// builds the message and calls [`send`].
pub fn send_request(kernel: &mut Kernel, request: KernelRequest<'_>) -> bool {
    let Some((receiver, pending, receiver_task)) = waiting_receiver(kernel, request.destination) else {
        return false;
    };
    let Kernel { ipc, tasks, threads, .. } = &mut *kernel;
    let checked = threads.get_mut(receiver).and_then(|thread| thread.pending_receive.as_mut()?.buffer.take());
    let Some(task) = tasks.get_mut(receiver_task) else { return false };
    let receiver_space = task.space;
    let Some(mut memory) = task.user_space() else { return false };
    let Some(buffer) = receiver_buffer(checked, &mut memory, pending) else { return false };
    let options = ReceiveOptions { audit: pending.audit, ..ReceiveOptions::default() };
    let mut out = [0u8; HANDOFF_MESSAGE + MACH_MSG_AUDIT_TRAILER_SIZE];
    let Some(received) =
        ipc.send_kernel_request_into(request, receiver_space, pending.name, pending.size, options, &mut out)
    else {
        return false;
    };
    let code = write_received(&mut memory, buffer, &out[..received.length], received.lost);
    deliver(kernel, receiver, code);
    true
}

/// The thread waiting longest to receive from `port` (or its set), with
/// where its message goes and its task.
#[inline]
fn waiting_receiver(kernel: &Kernel, port: PortId) -> Option<(ThreadId, ReceiveTarget, TaskId)> {
    let set = kernel.ipc.port(port).and_then(|port| port.port_set());
    let receiver = [Some(WaitKey::Receive(port)), set.map(WaitKey::ReceiveSet)]
        .into_iter()
        .flatten()
        .find_map(|key| kernel.wait_queues.first(key))?;
    let thread = kernel.threads.get(receiver)?;
    Some((receiver, thread.pending_receive.as_ref()?.target, thread.task?))
}

/// The receiver's buffer, checked writable: the check its receive made if
/// its page tables are as they were then (taken: the first handoff that
/// looks at it uses it), else a new one.
#[inline]
fn receiver_buffer(
    checked: Option<user::WritableBuffer>,
    memory: &mut user::UserSpace<'_, crate::vm::VmMap>,
    pending: ReceiveTarget,
) -> Option<user::WritableBuffer> {
    match checked.filter(|buffer| buffer.is_current(memory)) {
        Some(buffer) => Some(buffer),
        None => user::writable(memory, UserBuffer::new(pending.address, pending.size)).ok(),
    }
}

/// Writes a received message into the receiver's checked buffer; the
/// code its `mach_msg` returns. The receiver's page tables are as checked
/// (nothing since maps or unmaps), so the write cannot fail; if it did,
/// the receiver would learn its message was lost.
#[inline]
fn write_received(
    memory: &mut user::UserSpace<'_, crate::vm::VmMap>,
    buffer: user::WritableBuffer,
    bytes: &[u8],
    lost: u32,
) -> MachMsgReturn {
    match buffer.write(memory, bytes) {
        Ok(()) if lost == 0 => MachMsgReturn::Success,
        Ok(()) => MachMsgReturn::ReceiveBodyError,
        Err(_) => MachMsgReturn::ReceiveInvalidData,
    }
}

/// The receiver's `mach_msg` is done (`code`): it runs next, with the
/// running thread's priority lent to it (`Kernel::wake_for_handoff`'s
/// `lends`): the running thread waits for the answer (a fault's raise or
/// data request), and the loan ends as it wakes.
#[inline]
fn deliver(kernel: &mut Kernel, receiver: ThreadId, code: MachMsgReturn) {
    if let Some(thread) = kernel.threads.get_mut(receiver) {
        thread.delivered = Some(code);
        thread.pending_receive = None;
    }
    kernel.wake_for_handoff(receiver, true, true);
    if kernel.ipc.has_pending_work() {
        settle(kernel);
    }
}

/// The handoff of [`send`]; the message back if no waiting receiver can
/// take it now.
fn hand_off(kernel: &mut Kernel, message: KernelMessage) -> Result<(), KernelMessage> {
    let Some(port) = message.destination_port() else { return Err(message) };
    let Some((receiver, pending, receiver_task)) = waiting_receiver(kernel, port) else { return Err(message) };
    let Kernel { ipc, tasks, threads, .. } = &mut *kernel;
    let checked = threads.get_mut(receiver).and_then(|thread| thread.pending_receive.as_mut()?.buffer.take());
    let Some(task) = tasks.get_mut(receiver_task) else { return Err(message) };
    let receiver_space = task.space;
    let Some(mut memory) = task.user_space() else { return Err(message) };
    let Some(buffer) = receiver_buffer(checked, &mut memory, pending) else { return Err(message) };
    let options = ReceiveOptions { audit: pending.audit, ..ReceiveOptions::default() };
    let mut out = [0u8; HANDOFF_MESSAGE + MACH_MSG_AUDIT_TRAILER_SIZE];
    let received = ipc.send_kernel_into(message, receiver_space, pending.name, pending.size, options, &mut out)?;
    let code = write_received(&mut memory, buffer, &out[..received.length], received.lost);
    deliver(kernel, receiver, code);
    Ok(())
}
