//! mach-abi: the Mach_R message and trap ABI, defined once.
//!
//! This crate is the single source of truth for everything the kernel and
//! user space (libmach, minilibc, generated server code) must agree on:
//!
//! - port names ([`PortName`], index + generation, `MACH_PORT_NULL` = 0,
//!   `MACH_PORT_DEAD` = !0), right kinds, port types and dispositions;
//! - return codes ([`KernReturn`], [`MachMsgReturn`]) with xnu's values;
//! - trap numbers ([`Trap`]) and the calling convention (see [`trap`]);
//! - the message layout ([`MachMsgHeader`], [`MachMsgBody`], 16-byte
//!   descriptors, [`MachMsgTrailer`]), options, timeouts and limits;
//! - notification ids and bodies, port attribute flavors;
//! - a safe validator [`parse`] and encoder [`MessageEncoder`];
//! - the C header `include/mach/mach_abi.h`, rendered by
//!   [`render_c_header`] and checked by a test to match the committed file.
//!
//! Invariants: every numeric value follows Mach (OSF/xnu) where Mach has
//! one; every structure is `#[repr(C, packed(4))]` or plain `#[repr(C)]`
//! with its size asserted at compile time; parsing untrusted bytes never
//! panics and never allocates. No `unsafe`, no dependencies, no allocation.
//!
//! Use: the kernel calls [`parse`] on a copied-in message and maps a
//! [`ParseError`] to the send's return code with
//! [`ParseError::to_mach_msg_return`]; user space builds requests with
//! [`MessageEncoder`] and C code includes `<mach/mach_abi.h>`.

#![no_std]
#![forbid(unsafe_code)]

mod code_enum;

pub mod bootstrap;
pub mod c_header;
pub mod exception;
pub mod message;
pub mod notify;
pub mod pager;
pub mod parse;
pub mod port;
pub mod return_code;
pub mod thread_state;
pub mod trap;
pub mod vm;

pub use bootstrap::*;
pub use c_header::{render_c_header, C_HEADER_PATH};
pub use exception::*;
pub use message::*;
pub use notify::*;
pub use pager::*;
pub use parse::{
    parse, parse_received, parse_received_audit, Descriptor, EncodeError, HeaderPort, MessageEncoder, MessageView,
    ParseError,
};
pub use port::*;
pub use return_code::*;
pub use thread_state::*;
pub use trap::*;
pub use vm::*;

/// A numeric value that names no variant of the enum it was converted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownValue(pub u32);
