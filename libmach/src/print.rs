//! Formatted output for programs: `libmach::print!` and `libmach::println!`.
//!
//! Text goes through [`write_text`]: the kernel's `debug_print`, which puts
//! it in the kernel log (each line prefixed with the task's name), shown on
//! the console by the console server (docs/console.md), and keeps what
//! each task printed for the kernel tests. Formatting uses a fixed buffer: no
//! allocation, so it works in any program, before any heap.
//!
//! ```ignore
//! libmach::println!("kv-server: serving {} keys", count);
//! libmach::print!("no newline");
//! ```

use core::fmt::{self, Write};

/// Bytes formatted before they are written out.
const BUFFER_SIZE: usize = 512;

/// Writes `text` out: the kernel's `debug_print`.
pub fn write_text(text: &str) {
    let _ = crate::trap::debug_print(text);
}

/// Collects formatted text and hands it to `sink` in pieces of up to
/// [`BUFFER_SIZE`] bytes, each ending on a character boundary.
struct Output<F: FnMut(&str)> {
    bytes: [u8; BUFFER_SIZE],
    length: usize,
    sink: F,
}

impl<F: FnMut(&str)> Output<F> {
    fn new(sink: F) -> Self {
        Self { bytes: [0; BUFFER_SIZE], length: 0, sink }
    }

    fn flush(&mut self) {
        if self.length > 0 {
            // Only whole `&str`s were copied in, so this is UTF-8.
            (self.sink)(core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("<not UTF-8>"));
            self.length = 0;
        }
    }
}

impl<F: FnMut(&str)> Write for Output<F> {
    fn write_str(&mut self, mut text: &str) -> fmt::Result {
        while !text.is_empty() {
            if self.length == BUFFER_SIZE {
                self.flush();
            }
            let mut take = text.len().min(BUFFER_SIZE - self.length);
            while !text.is_char_boundary(take) {
                take -= 1;
            }
            if take == 0 {
                // A character that does not fit what is left: start afresh.
                self.flush();
                continue;
            }
            self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
            self.length += take;
            text = &text[take..];
        }
        Ok(())
    }
}

/// Formats `arguments` and writes them out (what [`print!`](crate::print!) expands to).
pub fn print(arguments: fmt::Arguments) {
    let mut output = Output::new(write_text);
    let _ = output.write_fmt(arguments);
    output.flush();
}

/// Prints formatted text, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => { $crate::print::print(format_args!($($argument)*)) };
}

/// Prints formatted text and a newline, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => { $crate::print::print(format_args!("\n")) };
    ($($argument:tt)*) => { $crate::print::print(format_args!("{}\n", format_args!($($argument)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_only_at_character_boundaries_and_nothing_is_lost() {
        let mut received = [0u8; 8192];
        let mut length = 0;
        let mut pieces = 0;
        {
            let mut output = Output::new(|piece: &str| {
                assert!(piece.len() <= BUFFER_SIZE);
                received[length..length + piece.len()].copy_from_slice(piece.as_bytes());
                length += piece.len();
                pieces += 1;
            });
            for _ in 0..300 {
                output.write_str("aé€😀").unwrap(); // 1 + 2 + 3 + 4 bytes
            }
            output.flush();
        }
        assert_eq!(length, 3000);
        assert!(pieces >= 6, "{pieces} pieces");
        let text = core::str::from_utf8(&received[..length]).unwrap();
        assert_eq!(text.chars().count(), 1200, "every character arrived whole");
    }
}
