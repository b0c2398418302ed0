//! The kernel side of Mach IPC: where `mach_ipc`'s object model meets
//! threads, blocking and user memory.
//!
//! - [`mach_msg`]: the `mach_msg` trap: copy a message in, send it, block on
//!   a full queue or an empty one, copy a received message out;
//! - [`port_traps`]: the port-management traps and the task/thread traps
//!   that take a task or thread port as their authority;
//! - [`wait`]: wait queues of threads blocked in IPC;
//! - [`kernel_handoff`]: the kernel's own messages (exception raises, pager
//!   requests) handed straight to a waiting receiver;
//! - [`object`]: how kernel objects (tasks, threads) are tagged on ports.
//!
//! The IPC state (`Kernel::ipc`) never blocks: it answers "queue full" or
//! "empty" and this module decides to wait, and it reports which port got a
//! message so this module wakes the right thread. After every operation
//! that may destroy ports or queue notifications, [`settle`] delivers the
//! notifications and wakes threads whose wait can no longer succeed.
#![forbid(unsafe_code)]

pub mod kernel_handoff;
pub mod mach_msg;
pub mod names;
pub mod object;
pub mod ool;
pub mod port_traps;
pub mod queued;
pub mod wait;

use crate::kernel::Kernel;
use crate::thread::WaitResult;
use mach_ipc::{Receiver, SendOutcome};
use wait::WaitKey;

/// Wakes the first thread still waiting on `key`. True if one was woken.
pub fn wake_one(kernel: &mut Kernel, key: WaitKey) -> bool {
    while let Some(thread) = kernel.wait_queues.pop(key) {
        let waiting = kernel.threads.get_mut(thread).filter(|thread| thread.waiting_on == Some(key));
        if let Some(thread_object) = waiting {
            // Taken off the queue already; `wake` records what it waited for.
            thread_object.waiting_on = None;
            thread_object.woken_from = Some(key);
            kernel.wake(thread, WaitResult::Woken);
            return true;
        }
    }
    false
}

/// A message was queued: wake a receiver of its port (or of the port's set),
/// or, for a kernel port, take the message off the queue.
pub fn deliver_outcome(kernel: &mut Kernel, outcome: SendOutcome) {
    match outcome.receiver {
        Receiver::Space { .. } => {
            if !wake_one(kernel, WaitKey::Receive(outcome.port)) {
                if let Some(set) = outcome.port_set {
                    wake_one(kernel, WaitKey::ReceiveSet(set));
                }
            }
        }
        Receiver::Kernel if kernel.exception_waits.contains_key(&outcome.port) => {
            crate::exception::take_reply(kernel, outcome.port);
        }
        Receiver::Kernel => {
            // Task and thread ports are operated on through traps, not
            // messages (kernel-object RPCs come with the interface
            // generator). A message sent to one is destroyed, its rights
            // released, so a sender learns of its error by the reply port's
            // send-once notification rather than by waiting forever.
            while let Some(message) = kernel.ipc.receive_kernel_message(outcome.port) {
                log::debug!("message {} to a kernel port destroyed", message.id());
                kernel.ipc.release_kernel_message(message);
            }
        }
        Receiver::InTransit { .. } | Receiver::Dead => {}
    }
}

/// Delivers pending notifications and wakes every thread waiting on a port
/// or port set that is gone (or whose receive right left the space): its
/// retried `mach_msg` then reports the error.
pub fn settle(kernel: &mut Kernel) {
    // Terminating an unreachable task releases its rights, which may leave
    // others unreachable: a loop, not a recursion (a chain of a thousand
    // tasks would not fit on a kernel stack).
    loop {
        settle_once(kernel);
        let orphans = unreachable_tasks(kernel);
        if orphans.is_empty() {
            return;
        }
        for task in orphans {
            kernel.terminate_task_unsettled(task);
        }
    }
}

/// Tasks nobody can reach any more: no send right to their task port is
/// left and they have no thread (nothing can ever run in them or name
/// them again), found among the kernel ports that lost their last sender.
fn unreachable_tasks(kernel: &mut Kernel) -> alloc::vec::Vec<crate::task::TaskId> {
    use object::KernelObjectRef;
    let ports = kernel.ipc.take_kernel_ports_without_senders();
    ports
        .into_iter()
        .filter_map(|port| {
            let port = kernel.ipc.port(port).filter(|port| port.send_rights() == 0 && port.send_once_rights() == 0)?;
            match KernelObjectRef::from_tag(port.kernel_object()) {
                Some(KernelObjectRef::Task(task)) => Some(task),
                _ => None,
            }
        })
        .filter(|&task| kernel.tasks.get(task).is_some_and(|object| !object.terminated && object.threads.is_empty()))
        .collect()
}

fn settle_once(kernel: &mut Kernel) {
    queued::release_dequeued(kernel);
    crate::device::release_dead_bindings(kernel);
    for token in kernel.ipc.take_released_regions() {
        kernel.captured.release(token);
    }
    for outcome in kernel.ipc.deliver_notifications() {
        deliver_outcome(kernel, outcome);
    }
    // A wait becomes hopeless only when a receive right leaves its space or
    // a port set goes: between such events there is nothing to look for
    // (walking every waiter on each of the ~55 settles of a fork+exit+wait
    // cost a fifth of it).
    let receivers_changed = kernel.ipc.receivers_changed();
    if kernel.wait_queues.looked_at == Some(receivers_changed) {
        crate::memory_object::after_ipc_changes(kernel);
        return;
    }
    kernel.wait_queues.looked_at = Some(receivers_changed);
    let is_hopeless = |kernel: &Kernel, key: WaitKey| match key {
        WaitKey::Receive(port) | WaitKey::Send(port) => {
            !kernel.ipc.port(port).is_some_and(|port| matches!(port.receiver(), Receiver::Space { .. }))
        }
        WaitKey::ReceiveSet(set) => kernel.ipc.port_set(set).is_none(),
    };
    // Usually none is (a port nobody waited on went: port_destroy): looked
    // for first, so that case allocates no list.
    if !kernel.wait_queues.keys().any(|key| is_hopeless(kernel, key)) {
        crate::memory_object::after_ipc_changes(kernel);
        return;
    }
    let hopeless: alloc::vec::Vec<WaitKey> =
        kernel.wait_queues.keys().filter(|&key| is_hopeless(kernel, key)).collect();
    for key in hopeless {
        // (`keys` may list a key twice; the second round finds nobody.)
        while wake_one(kernel, key) {}
    }
    crate::memory_object::after_ipc_changes(kernel);
}
