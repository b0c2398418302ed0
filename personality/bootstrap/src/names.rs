//! The name service: requests that arrive on a child's bootstrap port.
//!
//! A registered right stays valid only while its port lives: on register,
//! the bootstrap task asks for a dead-name notification on it (sent to the
//! supervisor port), and the supervisor removes the names when it fires. A
//! name whose right is already dead is free again even before that.

use crate::rights::{release_descriptors, release_reply};
use libmach::abi::{
    Disposition, MessageView, NotifyId, PortName, MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_TYPE_DEAD_NAME,
    MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};
use libmach::trap::{mach_msg, port_deallocate, port_request_notification, port_type, task_self, MessageBuffer};
use mach_bootstrap_core::protocol::{code_of, decode_request, encode_reply, Request, BAD_ARGUMENTS};
use mach_bootstrap_core::registry::Registry;

/// What a request did, for the supervisor's bookkeeping.
pub enum Outcome {
    Registered,
    Other,
}

/// Serves one request received on a bootstrap port and replies to it.
pub fn serve(registry: &mut Registry<PortName>, view: &MessageView, supervisor_port: PortName) -> Outcome {
    let reply = view.header.remote_port;
    let request = match decode_request(view) {
        Ok(request) => request,
        Err(error) => {
            release_descriptors(view);
            answer(reply, view.header.id, error.code(), None);
            return Outcome::Other;
        }
    };
    match request {
        Request::Lookup { name } => {
            match registry.lookup(name) {
                Ok(right) => answer(reply, view.header.id, 0, Some(right)),
                Err(error) => answer(reply, view.header.id, code_of(error), None),
            }
            Outcome::Other
        }
        Request::Register { name, right } => {
            let code = match register(registry, name, right, supervisor_port) {
                Ok(()) => 0,
                Err(code) => {
                    release_descriptors(view);
                    code
                }
            };
            answer(reply, view.header.id, code, None);
            if code == 0 {
                Outcome::Registered
            } else {
                Outcome::Other
            }
        }
    }
}

fn is_dead(name: PortName) -> bool {
    port_type(task_self(), name).is_ok_and(|kind| kind & MACH_PORT_TYPE_DEAD_NAME != 0)
}

fn register(
    registry: &mut Registry<PortName>,
    name: &[u8],
    right: PortName,
    supervisor_port: PortName,
) -> Result<(), i32> {
    if right == MACH_PORT_NULL || right == MACH_PORT_DEAD || is_dead(right) {
        return Err(BAD_ARGUMENTS);
    }
    // A dead server's name is free even before its notification is read.
    if let Ok(existing) = registry.lookup(name) {
        if is_dead(existing) {
            registry.remove_right(existing);
        }
    }
    let watched = registry.contains_right(right);
    registry.register(name, right).map_err(code_of)?;
    if !watched {
        let requested = port_request_notification(
            task_self(),
            right,
            NotifyId::DeadName.as_u32(),
            0,
            supervisor_port,
            Disposition::MakeSendOnce as u32,
        );
        match requested {
            Ok(previous) if previous != MACH_PORT_NULL => {
                let _ = port_deallocate(task_self(), previous);
            }
            Ok(_) => {}
            Err(_) => {
                // Without the request the name would outlive its server.
                registry.remove_right(right);
                return Err(BAD_ARGUMENTS);
            }
        }
    }
    Ok(())
}

/// Replies `code` (and a copy of `right`) on the send-once right `reply`;
/// a request without a reply port gets nothing.
fn answer(reply: PortName, request_id: i32, code: i32, right: Option<PortName>) {
    if reply == MACH_PORT_NULL {
        return;
    }
    let mut buffer = MessageBuffer::<128>::new();
    let Ok(length) = encode_reply(&mut buffer.0, reply, request_id, code, right) else {
        return;
    };
    // A send-once reply never waits on a full queue; the timeout only keeps
    // a broken client from stalling the name service.
    if mach_msg(&mut buffer, MACH_SEND_MSG | MACH_SEND_TIMEOUT, length, 0, 0).is_err() {
        let _ = port_deallocate(task_self(), reply);
    }
}

/// A request that cannot be decoded at all still gives back what it holds.
pub fn drop_request(view: &MessageView) {
    release_descriptors(view);
    release_reply(view);
}
