//! `proc-bench [ROUNDS]`: the process server's figures, from a process
//! (scripts/benches/process runs it under `-icount shift=0,sleep=off`,
//! where a nanosecond of the kernel clock is one guest instruction). Prints
//! `bench NAME INSTRUCTIONS` per operation, each the median of ROUNDS (5)
//! timed rounds after a warm-up:
//!
//! - `getppid`: the process server's smallest request;
//! - `fork_exit`, `fork_exec`: bench.c's (fork, the child `_exit(0)` or
//!   execs `/bin/exit-code`, the parent waits);
//! - `fork_exit_64_descriptors`: fork_exit with 64 open descriptors;
//! - `spawn_wait`: posix_spawn of `/bin/exit-code` and wait;
//! - `cow_fault`: a write to a page shared copy-on-write with a child.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use libmach::trap::clock_get_time;
use mach_process_checks::{println, Process};

libmach::entry!(main);

fn now() -> u64 {
    clock_get_time().unwrap_or(0)
}

/// Runs `operation` `count` times per round; the median per operation.
fn measure(name: &str, rounds: usize, count: u64, mut operation: impl FnMut() -> bool) {
    for _ in 0..(count / 5).max(1) {
        if !operation() {
            println!("bench-error {name}");
            return;
        }
    }
    let mut per_operation: Vec<u64> = Vec::new();
    for _ in 0..rounds {
        let start = now();
        for _ in 0..count {
            if !operation() {
                println!("bench-error {name}");
                return;
            }
        }
        per_operation.push((now() - start) / count);
    }
    per_operation.sort_unstable();
    println!("bench {name} {}", per_operation[per_operation.len() / 2]);
}

fn fork_exit(process: &mut Process) -> bool {
    match process.fork() {
        Ok(0) => process.exit(0),
        Ok(pid) => process.wait(pid, 0).is_ok_and(|(child, status)| child == pid && status == 0),
        Err(_) => false,
    }
}

fn main(_bootstrap: u64) {
    let Some(mut process) = Process::new() else {
        println!("proc-bench: not started as a process");
        return;
    };
    let rounds = libmach::runtime::argument(1)
        .and_then(|text| core::str::from_utf8(text).ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or(5);
    measure("getppid", rounds, 2000, || process.proc.get_parent().is_ok());
    measure("fork_exit", rounds, 50, || fork_exit(&mut process));
    measure("fork_exec", rounds, 20, || match process.fork() {
        Ok(0) => {
            let _ = process.exec(b"/bin/exit-code", &[b"/bin/exit-code"], &[]);
            process.exit(127)
        }
        Ok(pid) => process.wait(pid, 0).is_ok_and(|(_, status)| status == 0),
        Err(_) => false,
    });
    measure("spawn_wait", rounds, 20, || {
        process
            .spawn(b"/bin/exit-code", &[b"/bin/exit-code"])
            .is_ok_and(|pid| process.wait(pid, 0).is_ok_and(|(_, status)| status == 0))
    });

    // With 64 open descriptors (61 more files open): fork copies the send
    // rights in one kernel step, whatever their number.
    let mut open = Vec::new();
    for _ in 0..61 {
        match process.open(b"/etc/passwd") {
            Ok(file) => open.push(file),
            Err(error) => {
                println!("bench-error fork_exit_64_descriptors: {error:?}");
                break;
            }
        }
    }
    measure("fork_exit_64_descriptors", rounds, 50, || fork_exit(&mut process));
    drop(open);

    // A copy-on-write fault: pages written by the parent while a child
    // holds them too (the child waits on a pipe-less sleep until killed).
    const PAGES: u64 = 256;
    if let Ok(region) = process.memory.allocate(0, PAGES * 4096, 3, 0x22) {
        let touch = |value: u64| {
            for page in 0..PAGES {
                // SAFETY: the region was just mapped read-write for us.
                unsafe { ((region + page * 4096) as *mut u64).write_volatile(value) };
            }
        };
        touch(1);
        let mut samples = Vec::new();
        for round in 0..rounds as u64 + 1 {
            let pid = match process.fork() {
                Ok(0) => loop {
                    let _ = libmach::trap::thread_sleep(1000);
                },
                Ok(pid) => pid,
                Err(_) => break,
            };
            let start = now();
            touch(round + 2);
            let elapsed = now() - start;
            let _ = process.proc.kill(pid, 9);
            let _ = process.wait(pid, 0);
            if round > 0 {
                samples.push(elapsed / PAGES);
            }
        }
        samples.sort_unstable();
        if let Some(median) = samples.get(samples.len() / 2) {
            println!("bench cow_fault {median}");
        }
    }
    println!("proc-bench: done");
    process.exit(0);
}
