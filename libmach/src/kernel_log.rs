//! The kernel log: reading its numbered lines (`kernel_log_read`, trap 52)
//! and taking the serial line over from the kernel (`kernel_log_handover`,
//! trap 53). Both need a send right to the privileged host port.
//!
//! ```ignore
//! let mut sequence = 0;
//! let mut buffer = [0u8; 4096];
//! loop {
//!     let read = libmach::kernel_log::read(host, &mut buffer, sequence)?;
//!     if read.lost(sequence) > 0 { /* lines overwritten before we came */ }
//!     show(&buffer[..read.length]);          // whole lines, each ending in '\n'
//!     if read.length == 0 { break; }
//!     sequence = read.next;
//! }
//! ```
//!
//! docs/console.md has the whole protocol.

use crate::trap::{raw_trap, to_result};
use mach_abi::{KernReturn, PortName, Trap, MACH_PORT_NULL};

/// What [`read`] copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRead {
    /// Sequence of the first line copied (when nothing was copied: `next`).
    pub first: u64,
    /// Sequence to ask for next: one past the last line copied.
    pub next: u64,
    /// Bytes copied: whole lines, each ending in `\n`.
    pub length: usize,
}

impl LogRead {
    /// Lines between `asked` and the first copied that the ring had
    /// overwritten already.
    pub fn lost(&self, asked: u64) -> u64 {
        self.first.saturating_sub(asked)
    }
}

/// Copies the kernel log's lines from `sequence` on into `buffer`: as many
/// whole lines as fit. A buffer of `KERNEL_LOG_LINE_MAX` bytes always takes
/// one line when there is one; a smaller one may get `KERN_NO_SPACE`.
/// Nothing copied (`length` 0) means there is no newer line yet.
pub fn read(host: PortName, buffer: &mut [u8], sequence: u64) -> Result<LogRead, KernReturn> {
    if buffer.is_empty() {
        return Err(KernReturn::InvalidArgument);
    }
    let mut next = sequence;
    let mut length = 0u64;
    // SAFETY: the kernel writes at most `buffer.len()` bytes into `buffer`
    // and 8 bytes each into `next` and `length`, all ours to overwrite.
    to_result(unsafe {
        raw_trap(
            Trap::KernelLogRead as u64,
            [
                host as u64,
                buffer.as_mut_ptr() as u64,
                buffer.len() as u64,
                &raw mut next as u64,
                &raw mut length as u64,
                0,
            ],
        )
    })?;
    let length = (length as usize).min(buffer.len());
    let lines = buffer[..length].iter().filter(|&&byte| byte == b'\n').count() as u64;
    Ok(LogRead { first: next - lines, next, length })
}

/// Bytes the lines from `sequence` on take: how large a buffer [`read`]
/// needs to get them all now.
pub fn size_from(host: PortName, sequence: u64) -> Result<usize, KernReturn> {
    let mut next = sequence;
    let mut length = 0u64;
    // SAFETY: with size 0 the kernel copies no line; it writes 8 bytes each
    // into `next` and `length`, ours.
    to_result(unsafe {
        raw_trap(Trap::KernelLogRead as u64, [host as u64, 0, 0, &raw mut next as u64, &raw mut length as u64, 0])
    })?;
    Ok(length as usize)
}

/// Takes the serial line from the kernel: it stops writing its log there
/// and sends a `KERNEL_LOG_MESSAGE_ID` notice to `port` (a send right this
/// task names) when new lines come, one at a time until the next [`read`].
/// Returns the sequence of the first line the caller must show.
pub fn handover(host: PortName, port: PortName) -> Result<u64, KernReturn> {
    if port == MACH_PORT_NULL {
        return Err(KernReturn::InvalidName);
    }
    handover_trap(host, port)
}

/// Gives the serial line back to the kernel, which first writes the lines
/// the holder had not read. Returns the sequence of the next line.
pub fn give_back(host: PortName) -> Result<u64, KernReturn> {
    handover_trap(host, MACH_PORT_NULL)
}

fn handover_trap(host: PortName, port: PortName) -> Result<u64, KernReturn> {
    let mut sequence = 0u64;
    // SAFETY: the kernel writes 8 bytes into `sequence`, ours.
    to_result(unsafe {
        raw_trap(Trap::KernelLogHandover as u64, [host as u64, port as u64, &raw mut sequence as u64, 0, 0, 0])
    })?;
    Ok(sequence)
}
