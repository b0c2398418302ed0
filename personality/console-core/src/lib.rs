//! The console server's portable core: everything it decides, with no I/O
//! and no Mach in it, tested on the host.
//!
//! - [`uart`]: the 16550 UART driven by interrupts, over a [`uart::Registers`]
//!   trait (I/O ports in the server, a simulated UART in the tests);
//! - [`console::Console`]: the terminal (the line discipline of the `tty`
//!   crate, the transmit queue, the session and its foreground group, the
//!   window size) and the files open on it: reads, writes and the terminal
//!   requests, waiting requests answered later and taken only once
//!   delivered, `VMIN`/`VTIME` timers, job control decided with the
//!   caller's credential, the requests it makes of the process server;
//! - [`screen`]: where kernel log lines may appear on the screen;
//! - [`simulation`]: a simulated 16550, for host tests of the driver and
//!   the server;
//! - [`caller::Caller`], [`errno::Errno`], [`signal::Signal`]: what the
//!   decisions are made with and end in.
//!
//! The server program (`personality/console`) is the thin shell around it:
//! it owns the I/O ports, the interrupt, the kernel log traps and the
//! ports, and turns messages into calls here. docs/console.md has the whole
//! design.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod caller;
pub mod console;
pub mod errno;
pub mod pl011;
pub mod screen;
pub mod signal;
pub mod simulation;
pub mod uart;

pub use caller::Caller;
pub use console::{Answer, Completion, Console, Handle, Offer, Outgoing, Unit, WaitId};
pub use errno::Errno;
pub use signal::Signal;
