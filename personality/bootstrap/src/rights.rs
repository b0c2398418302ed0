//! Releasing the rights and memory a message brought, when the message is
//! refused: a malformed request must not leave rights behind in this task's
//! space, or a client could fill it.

use libmach::abi::{Descriptor, MessageView, PortName, PortRight, MACH_PORT_DEAD, MACH_PORT_NULL};
use libmach::trap::{port_deallocate, port_destroy, task_self, vm_deallocate};

fn release_name(name: PortName, right: PortRight) {
    if name == MACH_PORT_NULL || name == MACH_PORT_DEAD {
        return;
    }
    let _ = match right {
        PortRight::Receive => port_destroy(task_self(), name),
        _ => port_deallocate(task_self(), name),
    };
}

/// Releases every right and out-of-line region the received message holds
/// in its descriptors (the header's reply right is the caller's).
pub fn release_descriptors(view: &MessageView) {
    for descriptor in view.descriptors() {
        match descriptor {
            Descriptor::Port { name, disposition } => release_name(name, disposition.received_right()),
            Descriptor::OutOfLineMemory { address, size, .. } => {
                if size > 0 {
                    let _ = vm_deallocate(task_self(), address, size as u64);
                }
            }
            Descriptor::OutOfLinePorts { address, count, disposition, .. } => {
                if count == 0 {
                    continue;
                }
                let right = disposition.received_right();
                for index in 0..count as u64 {
                    // SAFETY: the kernel mapped `count` received names at
                    // `address` in this task for this message; they stay
                    // mapped until the vm_deallocate below.
                    let name = unsafe { core::ptr::read_unaligned((address + index * 4) as *const PortName) };
                    release_name(name, right);
                }
                let _ = vm_deallocate(task_self(), address, count as u64 * 4);
            }
        }
    }
}

/// Releases the reply right of a request that gets no answer.
pub fn release_reply(view: &MessageView) {
    release_name(view.header.remote_port, PortRight::SendOnce);
}
