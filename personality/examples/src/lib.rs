//! Example servers and clients that the bootstrap task starts from boot
//! modules, and the check programs its kernel tests boot
//! (`mach/kernel/src/usertest.rs`, cases at the end).
//!
//! Every program here is started by the bootstrap task with one right: a
//! send right to its bootstrap port, whose name is the first argument
//! (`docs/bootstrap.md`). [`name_service`] makes the generated name-service
//! client on it; [`serve_under`] makes a port and registers it. Output goes
//! through `debug_print`, one line per event, which the kernel tests read.
#![no_std]

pub use mach_bootstrap_core::names;
pub use mach_usertests::{println, Checks};

use libmach::abi::PortName;
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

/// A new receive right, registered under `name` with the name service.
pub fn serve_under(names: &mut names::Client, name: &str) -> Result<ReceiveRight, ServeError> {
    let port = ReceiveRight::allocate(&SystemKernel).map_err(ServeError::Port)?;
    let right = port.make_send().map_err(ServeError::Port)?;
    names.register_name(name, &right).map_err(ServeError::Register)?;
    Ok(port)
}
