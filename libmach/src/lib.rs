//! libmach: the user-space side of Mach_R's kernel interface.
//!
//! Today: the traps ([`trap`]), with the calling convention of
//! `docs/abi.md`, as safe functions where the arguments cannot hurt the
//! caller and as `unsafe` raw entry points otherwise; and with the `runtime`
//! feature, a program entry point and panic handler for Rust programs that
//! do not link minilibc ([`runtime`]). Ports as owned types, typed messages,
//! the interface generator and the server loop come next (issue 6).
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub use mach_abi as abi;

pub mod pager;
pub mod trap;

#[cfg(feature = "runtime")]
pub mod runtime;
