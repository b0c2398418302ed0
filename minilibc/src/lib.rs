//! minilibc: Mach_R's C library, a `no_std` Rust static library with a C ABI.
//!
//! Layout (see `docs/minilibc.md`):
//! - the **portable core** (`format`, `scan`, `number`, `sort`, `calendar`,
//!   `errno_table`, `allocator`, `account`, `mount_table`, `process_table`):
//!   pure logic with no system calls, tested on the host with `cargo test`;
//! - the **platform layer** (`platform`): the one fixed set of POSIX primitives
//!   (open, read, fork, mmap, ...) everything above it uses. Today it has a Linux
//!   back end (raw x86_64 system calls); the Mach_R back end (messages to the
//!   personality servers) will implement the same function set;
//! - the **C ABI edge** (`c_abi`, feature `c-abi`): `#[no_mangle] extern "C"`
//!   functions, the process entry called by crt0, the panic handler and the
//!   global allocator. It is off by default so that host Rust programs and unit
//!   tests can link the rlib without shadowing their own C library;
//!   `scripts/mcc` builds it on, with `-C panic=abort`.
//!
//! Invariants: nothing above the platform layer issues a system call; the C
//! edge never panics on bad C input (it sets `errno` and returns the documented
//! C error value); the library is single-threaded (errno is one global).
// Without the C edge the crate is an ordinary std library (so `cargo test`
// and host tools can build its staticlib/rlib with the default unwinding
// profile). The C edge needs panic=abort (a no_std staticlib cannot unwind
// on stable Rust), so `c-abi` takes effect only in such builds (scripts/mcc
// makes them); elsewhere, e.g. a workspace-wide `--all-features` check, the
// crate still builds, as the std library without the C edge.
#![cfg_attr(all(feature = "c-abi", panic = "abort"), no_std)]

extern crate alloc;

pub mod account;
pub mod allocator;
pub mod calendar;
pub mod errno_table;
pub mod format;
pub mod mach;
pub mod mount_table;
pub mod number;
pub mod process_table;
pub mod scan;
pub mod sort;

#[cfg(any(all(target_os = "linux", target_arch = "x86_64"), feature = "mach"))]
pub mod platform;

#[cfg(all(feature = "c-abi", panic = "abort"))]
pub mod c_abi;
