//! The Mach_R kernel's core: the bottom layer, and the only kernel code
//! allowed `unsafe` (docs/kernel.md, "Layers, and unsafe in one place").
//!
//! - `arch/<name>/`: everything specific to one architecture, behind the
//!   interface of `arch/mod.rs` (CPU registers, page-table formats, trap
//!   entry, context switches, device ports);
//! - `memory/`: physical frames and their bytes, the kernel heap,
//!   shared-frame counts, user copies;
//! - `klog`: the kernel log (its ring, its channels, `print!`), which works
//!   from the first line of the boot and from a dying kernel;
//! - the plain `boot_info` (what the boot loader told us), `command_line`
//!   and `time` (uptime, ticks);
//! - `entry`: the one way up. The crate cannot name the kernel crate
//!   (Cargo builds it first), so the entry point, the system-call
//!   dispatcher and the handlers of faults, ticks and interrupts are
//!   symbols the kernel crate defines with [`kernel_entry!`], which checks
//!   their types;
//! - `test_case` (feature `ktest`): how a kernel test case registers
//!   itself (`ktest!`, `ensure!`), used by this crate's cases and the
//!   kernel crate's; the kernel crate runs them.
//!
//! Every `unsafe` has its `// SAFETY:` comment; what the safe interfaces
//! promise is in each module's documentation.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
// Interfaces built ahead of their callers, and each build (normal, test)
// leaves some of the other's code unused, as in the kernel crate.
#![allow(dead_code)]

extern crate alloc;

pub mod arch;
pub mod boot_info;
pub mod command_line;
pub mod entry;
pub mod klog;
pub mod memory;
#[cfg(feature = "ktest")]
pub mod test_case;
pub mod time;
