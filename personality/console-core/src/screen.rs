//! What is on the terminal's current line, and how kernel log lines get onto
//! the screen without landing in the middle of what a person is typing.
//!
//! The rule (docs/console.md):
//!
//! 1. kernel lines are shown only in canonical mode (a program that switched
//!    canonical mode off draws the screen itself: an editor, a shell's own
//!    line editor; its screen is left alone until canonical mode is back);
//! 2. at the start of an empty line (the last byte out was a newline and
//!    nothing is being typed), they are written as they are;
//! 3. otherwise, if the current line is known (it holds at most
//!    [`SCREEN_LINE_MAX`] bytes since the last newline, none of them an
//!    escape sequence or a control character that moves the cursor up or
//!    clears), the line is erased (`CR`, `ESC [ K`), the kernel lines are
//!    written, and the line is written again: the prompt and what was typed
//!    so far reappear below them, and typing goes on where it was;
//! 4. otherwise they wait (the ring in the kernel keeps them) until 2 or 3
//!    applies.

use alloc::vec::Vec;

/// The most bytes of the current line kept for redrawing it.
pub const SCREEN_LINE_MAX: usize = 512;

/// Clears the line: back to its start, erase to its end (VT100).
pub const ERASE_LINE: &[u8] = b"\r\x1b[K";

/// The bytes sent since the last newline, as long as they can be replayed.
#[derive(Clone, Debug)]
pub struct ScreenLine {
    bytes: Vec<u8>,
    known: bool,
}

impl Default for ScreenLine {
    fn default() -> Self {
        ScreenLine { bytes: Vec::new(), known: true }
    }
}

impl ScreenLine {
    /// Follows one byte sent to the terminal.
    pub fn track(&mut self, byte: u8) {
        if byte == b'\n' {
            self.bytes.clear();
            self.known = true;
            return;
        }
        if !self.known {
            return;
        }
        let harmless = byte >= 0x20 && byte != 0x7f || matches!(byte, b'\r' | b'\t' | 0x08 | 0x07);
        if !harmless || self.bytes.len() == SCREEN_LINE_MAX {
            self.bytes.clear();
            self.known = false;
            return;
        }
        self.bytes.push(byte);
    }

    /// True right after a newline (or before any output).
    pub fn at_line_start(&self) -> bool {
        self.known && self.bytes.is_empty()
    }

    /// The bytes that redraw the current line, if it is known.
    pub fn replay(&self) -> Option<&[u8]> {
        self.known.then_some(self.bytes.as_slice())
    }
}

/// Writes kernel log text for the terminal: `\n` as `CR NL`, control
/// characters as `^X` (a log line cannot move the cursor or change the
/// terminal's state), preceded by a note when lines were lost.
pub fn format_kernel_lines(text: &[u8], lost: u64, out: &mut Vec<u8>) {
    if lost > 0 {
        let _ = core::fmt::write(
            &mut ByteWriter(out),
            format_args!("[console: {lost} kernel log lines were overwritten before they could be shown]\r\n"),
        );
    }
    for &byte in text {
        match byte {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\t' => out.push(b'\t'),
            byte if byte < 0x20 => out.extend_from_slice(&[b'^', byte ^ 0x40]),
            0x7f => out.extend_from_slice(b"^?"),
            byte => out.push(byte),
        }
    }
}

struct ByteWriter<'a>(&'a mut Vec<u8>);

impl core::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}
