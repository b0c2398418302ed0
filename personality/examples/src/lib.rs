//! Example servers and clients that the bootstrap task starts from boot
//! modules, and the check programs its kernel tests boot
//! (`mach/kernel/src/usertest.rs`, cases at the end).
//!
//! Every program here is started by the bootstrap task from a boot
//! manifest line, with a send right to its bootstrap port, whose name is
//! the first argument, and whatever else its line grants
//! (`docs/bootstrap.md`). [`name_service`] makes the generated name-service
//! client on it; [`register_service`] and [`serve_under`] make a port and
//! register it. Output goes through `libmach::println!`, one line per
//! event, which the kernel tests read.
#![no_std]
#![forbid(unsafe_code)]

pub use mach_bootstrap_core::names;

/// The benchmark's interface (`ping.defs`): one routine echoing a `u32`.
pub mod ping {
    include!(concat!(env!("OUT_DIR"), "/ping.rs"));
}
pub use libmach::println;
pub use mach_usertests::Checks;

use libmach::abi::{
    msgh_bits, Descriptor, Disposition, MachMsgHeader, MessageEncoder, PortName, MACH_RCV_MSG, MACH_RCV_TIMEOUT,
    MACH_SEND_MSG,
};
use libmach::trap::{mach_msg, mach_reply_port, port_destroy, task_self, MessageBuffer};
use libmach::{CallError, ReceiveRight, RpcError, SendRight, SystemKernel};

/// The name-service client on the bootstrap port named by the program's
/// first argument.
pub fn name_service(bootstrap_port: u64) -> Result<names::Client, RpcError> {
    names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
}

/// Why [`serve_under`] failed.
#[derive(Debug)]
pub enum ServeError {
    Port(libmach::abi::KernReturn),
    Register(CallError<names::Error>),
}

/// For a server: a new receive right registered under `name` with the name
/// service on the bootstrap port named by the program's first argument.
pub fn register_service(bootstrap_port: u64, name: &str) -> Result<ReceiveRight, ServeError> {
    let mut names = name_service(bootstrap_port).map_err(|error| ServeError::Register(error.into()))?;
    serve_under(&mut names, name)
}

/// A new receive right, registered under `name` with the name service.
pub fn serve_under(names: &mut names::Client, name: &str) -> Result<ReceiveRight, ServeError> {
    let port = ReceiveRight::allocate(&SystemKernel).map_err(ServeError::Port)?;
    let right = port.make_send().map_err(ServeError::Port)?;
    names.register_name(name, &right).map_err(ServeError::Register)?;
    Ok(port)
}

/// For the malformed-request checks: sends a hand-made request and returns the reply's code (or `None` when
/// no reply came within a second).
pub fn raw_call(
    service: PortName,
    id: i32,
    descriptor: Option<Descriptor>,
    data: &[u8],
    with_reply: bool,
) -> Option<i32> {
    let reply = mach_reply_port();
    let mut buffer = MessageBuffer::<256>::new();
    let local = if with_reply { Disposition::MakeSendOnce as u32 } else { 0 };
    let header = MachMsgHeader {
        bits: msgh_bits(Disposition::CopySend as u32, local),
        size: 0,
        remote_port: service,
        local_port: if with_reply { reply } else { 0 },
        voucher_port: 0,
        id,
    };
    let mut encoder = MessageEncoder::new(&mut buffer.0, header, false);
    if let Some(descriptor) = descriptor {
        encoder.descriptor(descriptor).ok()?;
    }
    encoder.inline_data(data).ok()?;
    let length = encoder.finish().ok()?;
    let code = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, length, reply, 1000)
        .ok()
        .map(|()| i32::from_le_bytes(buffer.0[24..28].try_into().unwrap_or([0; 4])));
    let _ = port_destroy(task_self(), reply);
    code
}
