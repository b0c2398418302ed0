//! Example servers and clients that the bootstrap task starts from boot
//! modules, and the check programs its kernel tests boot
//! (`mach/kernel/src/usertest.rs`, cases at the end).
//!
//! Every program here is started by the bootstrap task with one right: a
//! send right to its bootstrap port, whose name is the first argument
//! (`docs/bootstrap.md`). Output goes through `debug_print`, one line per
//! event, which the kernel tests read.
#![no_std]

pub use mach_usertests::{println, Checks};
