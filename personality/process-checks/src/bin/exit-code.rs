//! `exit-code N`: exits at once with status N (0 without an argument):
//! the smallest process, for exec and spawn checks and the benchmark's
//! fork_exec (bench.c's exit0).
#![no_std]
#![no_main]

use mach_process_checks::Process;

libmach::entry!(main);

fn main(_bootstrap: u64) {
    let status = libmach::runtime::argument(1)
        .and_then(|argument| core::str::from_utf8(argument).ok())
        .and_then(|text| text.parse::<i32>().ok())
        .unwrap_or(0);
    match Process::new() {
        Some(mut process) => process.exit(status),
        None => libmach::println!("exit-code: not started as a process"),
    }
}
