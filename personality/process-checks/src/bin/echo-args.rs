//! `echo-args COUNT LENGTH ARGUMENT...`: exits 0 if it got exactly COUNT
//! arguments after these two, each LENGTH bytes of the letter `a + index %
//! 26`, and its environment holds `CHECK=yes`; 1 otherwise (exec's checks
//! of large argument lists).
#![no_std]
#![no_main]

use libmach::runtime::{argument, environment};
use mach_process_checks::Process;

libmach::entry!(main);

fn number(index: usize) -> Option<usize> {
    core::str::from_utf8(argument(index)?).ok()?.parse().ok()
}

fn main(_bootstrap: u64) {
    let Some(mut process) = Process::new() else {
        libmach::println!("echo-args: not started as a process");
        return;
    };
    let (Some(count), Some(length)) = (number(1), number(2)) else { process.exit(2) };
    let total = libmach::runtime::argument_count();
    let mut good = environment().any(|variable| variable == b"CHECK=yes");
    for index in 0..count {
        let expected = b'a' + (index % 26) as u8;
        good &=
            argument(3 + index).is_some_and(|text| text.len() == length && text.iter().all(|&byte| byte == expected));
    }
    good &= total == 3 + count;
    process.exit(if good { 0 } else { 1 });
}
