//! The portable logic of the Mach_R back end (`platform/mach/`): plain Rust
//! with no system calls and no `unsafe`, compiled on every target so that
//! `cargo test` checks it on the host. The platform layer turns its
//! decisions into messages to the servers (docs/minilibc.md, "The Mach
//! back end").
//!
//! - [`descriptors`]: file descriptor numbers to send-right names;
//! - [`start`]: the start block (argv, envp, the auxiliary vector);
//! - [`exec`]: `#!` lines and the strings block of exec and spawn;
//! - [`signals`]: actions, masks, pending signals and what to do with one;
//! - [`frame`]: the signal frame a handler runs on (`siginfo_t`,
//!   `ucontext_t`), where it goes and the registers that enter the handler;
//!   [`frame_aarch64`] the same on aarch64, and the registers a handler's
//!   return resumes;
//! - [`readiness`]: poll's and select's requests and answers;
//! - [`kernel_log`]: which of the kernel log's lines klogctl hands out;
//! - [`mapped_reads`]: which open files are read from a mapping, their
//!   offsets, and what one such read does.
#![forbid(unsafe_code)]

pub mod descriptors;
pub mod exec;
pub mod frame;
pub mod frame_aarch64;
pub mod kernel_log;
pub mod mapped_reads;
pub mod readiness;
pub mod signals;
pub mod start;
