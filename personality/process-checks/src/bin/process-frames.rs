//! `process-frames CYCLES [MIB...]`: the frame counts of the process and
//! memory servers, measured by the kernel test that starts it
//! (mach/kernel/src/usertest_process.rs) as the process server's first
//! process. At each step it prints `process-frames: WHAT gate ADDRESS step
//! N` and waits until the kernel, having counted the free frames, writes N
//! at ADDRESS:
//!
//! 1. `cycles warm` after a warm-up batch of fork+exit+wait, then `cycles
//!    done` after CYCLES more: every frame is back;
//! 2. for each MIB, that much private memory written: `resident N
//!    before fork`, then `resident N forked PID` once the child runs (it
//!    sets a flag in shared memory, then sleeps until killed): what the fork
//!    took, page tables aside, is the same for every size.
//!
//! Then `process-frames: done`; it never ends (as the first process, its
//! end would power the machine off).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use mach_process_checks::{println, Process};

libmach::entry!(main);

const PRIVATE_ANONYMOUS: u32 = 0x22;
const SHARED_ANONYMOUS: u32 = 0x21;
const READ_WRITE: u32 = 3;
const PAGE: u64 = 4096;
const SIGKILL: i32 = 9;

/// The step the kernel has measured (written by the kernel test).
static GATE: AtomicU32 = AtomicU32::new(0);

/// Says what is ready and waits for the kernel to have counted.
fn handshake(step: u32, what: core::fmt::Arguments<'_>) {
    println!("process-frames: {what} gate {:#x} step {step}", GATE.as_ptr() as u64);
    while GATE.load(Ordering::Acquire) < step {
        let _ = libmach::trap::thread_sleep(5);
    }
}

fn number(index: usize, default: u64) -> u64 {
    libmach::runtime::argument(index)
        .and_then(|text| core::str::from_utf8(text).ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn fork_exit(process: &mut Process) -> bool {
    match process.fork() {
        Ok(0) => process.exit(0),
        Ok(pid) => process.wait(pid, 0).is_ok_and(|(child, status)| child == pid && status == 0),
        Err(_) => false,
    }
}

fn write_word(address: u64, value: u64) {
    // SAFETY: callers pass addresses in memory this process mapped
    // read-write, 8-byte aligned.
    unsafe { (address as *mut u64).write_volatile(value) }
}

fn read_word(address: u64) -> u64 {
    // SAFETY: as for `write_word`.
    unsafe { (address as *const u64).read_volatile() }
}

fn main(_bootstrap: u64) {
    let Some(mut process) = Process::new() else {
        println!("process-frames: not started as a process");
        return;
    };
    let cycles = number(1, 10_000);
    let mut failed = 0;
    for _ in 0..200 {
        failed += u32::from(!fork_exit(&mut process));
    }
    handshake(1, format_args!("cycles warm"));
    for _ in 0..cycles {
        failed += u32::from(!fork_exit(&mut process));
    }
    handshake(2, format_args!("cycles done ({failed} failed)"));

    let Ok(flag) = process.memory.allocate(0, PAGE, READ_WRITE, SHARED_ANONYMOUS) else {
        println!("process-frames: no shared page");
        libmach::runtime::park()
    };
    let mut step = 3;
    for index in 2..libmach::runtime::argument_count() {
        let mib = number(index, 1);
        let size = mib << 20;
        let region = match process.memory.allocate(0, size, READ_WRITE, PRIVATE_ANONYMOUS) {
            Ok(region) => region,
            Err(error) => {
                println!("process-frames: no {mib} MiB: {error:?}");
                libmach::runtime::park()
            }
        };
        for page in 0..size / PAGE {
            write_word(region + page * PAGE, page + 1);
        }
        // The servers' and the kernel's heaps settle on a fork of this shape.
        for _ in 0..3 {
            failed += u32::from(!fork_exit(&mut process));
        }
        write_word(flag, 0);
        handshake(step, format_args!("resident {mib} before fork"));
        let pid = match process.fork() {
            Ok(0) => {
                write_word(flag, 1);
                loop {
                    let _ = libmach::trap::thread_sleep(1000);
                }
            }
            Ok(pid) => pid,
            Err(error) => {
                println!("process-frames: fork failed: {error:?}");
                libmach::runtime::park()
            }
        };
        while read_word(flag) == 0 {
            let _ = libmach::trap::thread_sleep(1);
        }
        handshake(step + 1, format_args!("resident {mib} forked {pid}"));
        let _ = process.proc.kill(pid, SIGKILL);
        let _ = process.wait(pid, 0);
        let _ = process.memory.deallocate(region, size);
        step += 2;
    }
    println!("process-frames: done ({failed} failed)");
    libmach::runtime::park()
}
