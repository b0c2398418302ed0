//! The terminal line discipline, as a state machine with no I/O.
//!
//! - [`termios`]: `struct termios` in minilibc's layout, its flags and
//!   control characters, and the console's initial settings;
//! - [`discipline::LineDiscipline`]: received bytes in (input conversions,
//!   canonical editing with erase, kill, word erase, reprint, literal next,
//!   ^D end of file, echo, ^C/^\/^Z as [`discipline::Signal`]s, ^S/^Q flow
//!   control), program output in (`OPOST`/`ONLCR`), reads out (lines in
//!   canonical mode, `VMIN`/`VTIME` otherwise).
//!
//! The console server wraps it around the UART: every received byte goes to
//! `receive`, the echo goes to the transmitter, signals go to the
//! foreground process group, waiting reads are retried after input or their
//! timer. Tested on the host against a model.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod discipline;
pub mod termios;

pub use discipline::{LineDiscipline, Output, ReadOutcome, ReadTimer, Signal, INPUT_LIMIT};
pub use termios::{Termios, WindowSize, TERMIOS_SIZE};
