//! dmesg: prints the kernel log (klogctl: the console server keeps it on
//! Mach_R) without the "<N>" priority prefixes (-r keeps them); -c clears
//! it after printing, -C clears it only.

use crate::common::{output, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[options]\nDisplay or control the kernel ring buffer.\n  -C, --clear       clear the kernel ring buffer\n  -c, --read-clear  read and clear all messages\n  -r, --raw         print the raw message buffer\n",
    specs: &[Spec::flag(b'C', "clear"), Spec::flag(b'c', "read-clear"), Spec::flag(b'r', "raw")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// The log as printed: each line without its "<N>" prefix (unless `raw`).
pub fn lines(log: &[u8], raw: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(log.len());
    for line in log.split_inclusive(|&byte| byte == b'\n') {
        let mut text = line;
        if !raw && text.first() == Some(&b'<') {
            if let Some(close) = text.iter().position(|&byte| byte == b'>') {
                if close > 1 && text[1..close].iter().all(u8::is_ascii_digit) {
                    text = &text[close + 1..];
                }
            }
        }
        out.extend_from_slice(text);
    }
    if !out.is_empty() && out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    out
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if !parsed.has(b'C') {
        match posix::system::kernel_log() {
            Ok(log) => output(&lines(&log, parsed.has(b'r'))),
            Err(error) => {
                complain!("read kernel buffer failed: {}", error);
                return 1;
            }
        }
    }
    if parsed.has(b'C') || parsed.has(b'c') {
        if let Err(error) = posix::system::clear_kernel_log() {
            complain!("clear kernel buffer failed: {}", error);
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_stripped() {
        assert_eq!(lines(b"<6>[    0.000000] one\n<12>two\nplain\n", false), b"[    0.000000] one\ntwo\nplain\n");
        assert_eq!(lines(b"<6>x", true), b"<6>x\n");
        assert_eq!(lines(b"<x>not a priority\n", false), b"<x>not a priority\n");
    }
}
