//! The bootstrap task's portable logic: the name registry of its name
//! service and the restart budget of its supervisor.
//!
//! Both are plain, allocation-free data structures with no traps, so they are tested on the
//! host; the bootstrap task (`personality/bootstrap`) wires them to ports.
//!
//! - [`registry::Registry`]: names (1 to [`registry::NAME_LENGTH_MAX`]
//!   bytes, no NUL) mapped to the send right a server registered, at most
//!   [`registry::ENTRIES_MAX`] of them. A name is registered once; a second
//!   registration is refused until the first right is removed (the
//!   bootstrap task removes it when the right becomes a dead name).
//! - [`protocol`] and [`client`]: the name service's messages and client
//!   calls (interim hand-written code until the interface generator lands).
//! - [`restart::RestartBudget`]: how many restarts a server may have in a
//!   sliding time window before the supervisor gives up on it.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate alloc;

pub mod client;
pub mod protocol;
pub mod registry;
pub mod restart;
