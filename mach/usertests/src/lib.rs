//! Shared helpers for the user-mode test programs: formatting into a fixed
//! buffer and printing through the kernel's `debug_print`.
//!
//! Each program in `src/bin/` is a boot module for one kind of kernel test
//! (see `mach/kernel/src/usertest.rs`), which reads what the program prints.
#![no_std]

use core::fmt::Write;

/// Formats into a 512-byte buffer and prints it; longer text is cut.
pub fn print(arguments: core::fmt::Arguments) {
    let mut line = Line { bytes: [0; 512], length: 0 };
    let _ = line.write_fmt(arguments);
    let text = core::str::from_utf8(&line.bytes[..line.length]).unwrap_or("<not UTF-8>");
    let _ = libmach::trap::debug_print(text);
}

#[macro_export]
macro_rules! println {
    ($($argument:tt)*) => { $crate::print(format_args!("{}\n", format_args!($($argument)*))) };
}

struct Line {
    bytes: [u8; 512],
    length: usize,
}

impl Write for Line {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let take = text.len().min(self.bytes.len() - self.length);
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}
