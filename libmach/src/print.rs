//! Formatted output for programs: `print!`/`println!` (standard output),
//! `eprint!`/`eprintln!` (standard error) and `log!`/`logln!` (the kernel
//! log).
//!
//! Where text goes ([`Stream`], [`write_text`]):
//!
//! - the kernel log, through the kernel's `debug_print`, which prefixes
//!   each line with the task's name, keeps what each task printed for the
//!   kernel tests, and is shown on the console by the console server
//!   (docs/console.md): what `log!` always writes, and what a boot module
//!   (a server, a program of the boot manifest) prints;
//! - with the `runtime` feature, in a program the process server started
//!   (msh running it from /bin), descriptor 1 or 2 of the process
//!   (`io.write`): what a person at the shell expects, and what a pipe or
//!   a redirection takes. Text a descriptor refuses (none open, a pipe
//!   without reader) goes to the kernel log instead, so it is never lost
//!   silently.
//!
//! Formatting uses a fixed buffer: no allocation, so it works in any
//! program, before any heap.
//!
//! ```ignore
//! libmach::println!("kv-client: {} keys", count);
//! libmach::logln!("kv-server: serving");   // always the kernel log
//! ```

use core::fmt::{self, Write};

/// Bytes formatted before they are written out.
const BUFFER_SIZE: usize = 512;

/// Where formatted text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (descriptor 1) of a process, else the kernel log.
    Output,
    /// Standard error (descriptor 2) of a process, else the kernel log.
    Error,
    /// The kernel log.
    Log,
}

/// Writes `text` to `stream`.
pub fn write_text(stream: Stream, text: &str) {
    #[cfg(feature = "runtime")]
    {
        let descriptor = match stream {
            Stream::Output => Some(1),
            Stream::Error => Some(2),
            Stream::Log => None,
        };
        if let Some(number) = descriptor {
            if crate::runtime::write_descriptor(number, text.as_bytes()).is_ok() {
                return;
            }
        }
    }
    #[cfg(not(feature = "runtime"))]
    let _ = stream;
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

/// Formats `arguments` and writes them to `stream`.
pub fn print_to(stream: Stream, arguments: fmt::Arguments) {
    let mut output = Output::new(|text: &str| write_text(stream, text));
    let _ = output.write_fmt(arguments);
    output.flush();
}

/// Formats `arguments` to standard output (what [`print!`](crate::print!) expands to).
pub fn print(arguments: fmt::Arguments) {
    print_to(Stream::Output, arguments);
}

/// Formats `arguments` to the kernel log (what [`log!`](crate::log!) expands to).
pub fn log(arguments: fmt::Arguments) {
    print_to(Stream::Log, arguments);
}

/// Prints formatted text to standard output, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => { $crate::print::print(format_args!($($argument)*)) };
}

/// Prints formatted text and a newline to standard output, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => { $crate::print::print(format_args!("\n")) };
    ($($argument:tt)*) => { $crate::print::print(format_args!("{}\n", format_args!($($argument)*))) };
}

/// Prints formatted text to standard error, like `std::eprint!`.
#[macro_export]
macro_rules! eprint {
    ($($argument:tt)*) => { $crate::print::print_to($crate::print::Stream::Error, format_args!($($argument)*)) };
}

/// Prints formatted text and a newline to standard error, like `std::eprintln!`.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::print::print_to($crate::print::Stream::Error, format_args!("\n")) };
    ($($argument:tt)*) => {
        $crate::print::print_to($crate::print::Stream::Error, format_args!("{}\n", format_args!($($argument)*)))
    };
}

/// Writes formatted text to the kernel log, whoever started the program.
#[macro_export]
macro_rules! log {
    ($($argument:tt)*) => { $crate::print::log(format_args!($($argument)*)) };
}

/// Writes formatted text and a newline to the kernel log, whoever started the program.
#[macro_export]
macro_rules! logln {
    () => { $crate::print::log(format_args!("\n")) };
    ($($argument:tt)*) => { $crate::print::log(format_args!("{}\n", format_args!($($argument)*))) };
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
