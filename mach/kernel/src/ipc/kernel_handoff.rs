//! Messages the kernel originates (an exception raise, a pager's data
//! request) delivered the way the call fast path delivers a task's
//! request: when a thread already waits to receive from the destination
//! (or its port set), the message goes straight into that thread's buffer
//! (`mach_ipc::Ipc::send_kernel_into`), never queued, and that thread is
//! made the next to run, so the thread that faulted and now blocks on the
//! answer switches straight to its handler or pager. Otherwise the message
//! is queued and a receiver woken as for any kernel message.
#![deny(unsafe_code)]

use super::wait::WaitKey;
use super::{deliver_outcome, settle};
use crate::kernel::Kernel;
use crate::memory::user::{self, UserBuffer};
use mach_abi::{MachMsgReturn, MACH_MSG_AUDIT_TRAILER_SIZE};
use mach_ipc::{KernelMessage, ReceiveOptions};

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

/// The handoff of [`send`]; the message back if no waiting receiver can
/// take it now.
fn hand_off(kernel: &mut Kernel, message: KernelMessage) -> Result<(), KernelMessage> {
    let Some(port) = message.destination_port() else { return Err(message) };
    let set = kernel.ipc.port(port).and_then(|port| port.port_set());
    let waiting = [Some(WaitKey::Receive(port)), set.map(WaitKey::ReceiveSet)]
        .into_iter()
        .flatten()
        .find_map(|key| kernel.wait_queues.first(key));
    let Some(receiver) = waiting else { return Err(message) };
    let Some(thread) = kernel.threads.get(receiver) else { return Err(message) };
    let (Some(pending), Some(receiver_task)) = (thread.pending_receive, thread.task) else { return Err(message) };
    let Kernel { ipc, tasks, .. } = &mut *kernel;
    let Some(task) = tasks.get_mut(receiver_task) else { return Err(message) };
    let receiver_space = task.space;
    let Some(mut memory) = task.user_space() else { return Err(message) };
    let Ok(buffer) = user::writable(&mut memory, UserBuffer::new(pending.address, pending.size)) else {
        return Err(message);
    };
    let options = ReceiveOptions { audit: pending.audit, ..ReceiveOptions::default() };
    let mut out = [0u8; HANDOFF_MESSAGE + MACH_MSG_AUDIT_TRAILER_SIZE];
    let received = ipc.send_kernel_into(message, receiver_space, pending.name, pending.size, options, &mut out)?;
    // The receiver's page tables are as checked (nothing since maps or
    // unmaps), so the write cannot fail; if it did, the receiver would
    // learn its message was lost.
    let code = match buffer.write(&mut memory, &out[..received.length]) {
        Ok(()) if received.lost == 0 => MachMsgReturn::Success,
        Ok(()) => MachMsgReturn::ReceiveBodyError,
        Err(_) => MachMsgReturn::ReceiveInvalidData,
    };
    if let Some(thread) = kernel.threads.get_mut(receiver) {
        thread.delivered = Some(code);
        thread.pending_receive = None;
    }
    kernel.wake_for_handoff(receiver, true);
    if kernel.ipc.has_pending_work() {
        settle(kernel);
    }
    Ok(())
}
