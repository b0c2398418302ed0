//! The name service's client calls (interim, replaced by generated stubs
//! with the protocol). Each call uses a fresh reply port and destroys it.

use crate::protocol::{decode_reply, encode_request, Request, LOOKUP_ID, REGISTER_ID};
use libmach::abi::{MachMsgReturn, PortName, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, mach_reply_port, port_destroy, task_self, MessageBuffer};

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The name service answered with this code (see `protocol`).
    Refused(i32),
    /// `mach_msg` failed (for example the service port is dead).
    Transport(MachMsgReturn),
    /// The name is empty, too long or contains NUL.
    InvalidName,
}

fn call(service: PortName, request: Request, request_id: i32) -> Result<Option<PortName>, ClientError> {
    let mut buffer = MessageBuffer::<256>::new();
    let reply = mach_reply_port();
    let result = (|| {
        let length = encode_request(&mut buffer.0, service, reply, request).map_err(|_| ClientError::InvalidName)?;
        mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, length, reply, 0).map_err(ClientError::Transport)?;
        decode_reply(&buffer.0, request_id).map_err(ClientError::Refused)
    })();
    let _ = port_destroy(task_self(), reply);
    result
}

/// Registers a copy of the send right `right` under `name`.
pub fn register(service: PortName, name: &[u8], right: PortName) -> Result<(), ClientError> {
    call(service, Request::Register { name, right }, REGISTER_ID).map(|_| ())
}

/// A send right to the port registered under `name`.
pub fn lookup(service: PortName, name: &[u8]) -> Result<PortName, ClientError> {
    call(service, Request::Lookup { name }, LOOKUP_ID)?.ok_or(ClientError::Refused(crate::protocol::BAD_ARGUMENTS))
}
