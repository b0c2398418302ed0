//! Benchmarks of the virtio driver, for scripts/benches/block, started by
//! the bootstrap task (`block-bench needs=block1,random [-- quick]`; with
//! `quick`, a tenth of the rounds and 2 MiB sequential runs: the test suite
//! only checks that it completes). Prints `bench <name> <ticks>`
//! lines (time-stamp counter ticks: instructions under `-icount shift=0`,
//! wall time under plain TCG) and `bench done`.
//!
//! Wall figures (plain TCG):
//! - `block_info_request`: a request the driver answers without the
//!   device (the RPC and the driver's dispatch, for comparison);
//! - `block_read_512_request`, `block_read_4k_request`,
//!   `block_write_4k_request`, `block_flush_request`, `random_32_request`:
//!   one request, client to device and back, averaged over 200;
//! - `block_sequential_write_ticks_per_mib`, `block_sequential_read_ticks_per_mib`:
//!   16 MiB in 1 MiB requests from one client, over the upper half of
//!   `block1` (the test disk: no check reads that half back).
//!
//! Busy figures (`busy_*`, the same operations): the ticks the processor
//! spent on the request, without the time it waited for the device. A
//! spinner thread runs whenever nothing else is ready and counts the ticks
//! it spun; they are taken off. Under `-icount` the processor would
//! otherwise halt while QEMU does the I/O, and virtual time would jump to
//! the next timer tick, so only busy figures count instructions.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use libmach::abi::PortName;
use libmach::message::OutOfLineData;
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use mach_virtio::lookup_until;
use personality_interfaces::{block, random};

libmach::entry!(main);

const ROUNDS: u64 = 200;
const BUSY_ROUNDS: u64 = 50;
const MIB: u64 = 1 << 20;
const SEQUENTIAL_MIB: u64 = 16;
/// `quick` divides the rounds and sequential MiB by this.
const QUICK: u64 = 8;
/// Where on `block1` the benchmark reads and writes (32 MiB in).
const FIRST_BLOCK: u64 = 65536;
/// A spinner's step longer than this was another thread's time.
const GAP: u64 = 2000;

static SPINNING: AtomicBool = AtomicBool::new(false);
static SPUN: AtomicU64 = AtomicU64::new(0);

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
}

/// Runs while `SPINNING`, yielding each step so that any thread that
/// becomes ready runs at once, and counts the ticks it had the processor.
fn spinner(_: usize) {
    let mut last = ticks();
    while SPINNING.load(Ordering::SeqCst) {
        let _ = libmach::trap::thread_yield();
        let now = ticks();
        let step = now - last;
        if step < GAP {
            SPUN.fetch_add(step, Ordering::SeqCst);
        }
        last = now;
    }
}

/// Average ticks of `rounds` calls of `operation` after 10 unmeasured
/// ones (with `busy`, less what the spinner spun); `None` if any failed.
fn measure(rounds: u64, busy: bool, mut operation: impl FnMut(u64) -> bool) -> Option<u64> {
    for round in 0..10 {
        if !operation(round) {
            return None;
        }
    }
    let (start, spun) = (ticks(), SPUN.load(Ordering::SeqCst));
    for round in 0..rounds {
        if !operation(round) {
            return None;
        }
    }
    let elapsed = ticks() - start;
    let idle = if busy { SPUN.load(Ordering::SeqCst) - spun } else { 0 };
    Some(elapsed.saturating_sub(idle) / rounds)
}

fn report(prefix: &str, name: &str, figure: Option<u64>) {
    match figure {
        Some(value) => println!("bench {prefix}{name} {value}"),
        None => println!("block-bench: {prefix}{name} failed"),
    }
}

fn main(bootstrap_port: u64) {
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        println!("block-bench: no name service");
        return;
    };
    let Some(mut disk) =
        lookup_until(&mut names, "block1", 10_000).and_then(|right| block::Client::new(&SystemKernel, right).ok())
    else {
        println!("block-bench: no block1");
        return;
    };
    let Some(mut random) =
        lookup_until(&mut names, "random", 10_000).and_then(|right| random::Client::new(&SystemKernel, right).ok())
    else {
        println!("block-bench: no random");
        return;
    };
    let Ok(mut buffer) = OutOfLineData::allocate(&SystemKernel, MIB as u32) else {
        println!("block-bench: no memory");
        return;
    };
    for (index, byte) in buffer.bytes_mut().iter_mut().enumerate() {
        *byte = (index * 7) as u8;
    }
    let data = buffer.bytes();
    let blocks_per_mib = MIB / 512;
    let scale = if libmach::runtime::argument(1) == Some(b"quick") { QUICK } else { 1 };
    let sequential_mib = SEQUENTIAL_MIB / scale;
    for busy in [false, true] {
        let spinner = if busy {
            SPINNING.store(true, Ordering::SeqCst);
            match libmach::thread::spawn(spinner, 0, libmach::thread::DEFAULT_STACK_SIZE) {
                Ok(thread) => Some(thread),
                Err(error) => {
                    println!("block-bench: no spinner: {error:?}");
                    break;
                }
            }
        } else {
            None
        };
        let (prefix, rounds) = if busy { ("busy_", BUSY_ROUNDS / scale) } else { ("", ROUNDS / scale) };
        report(
            prefix,
            "block_read_512_request",
            measure(rounds, busy, |round| disk.read(FIRST_BLOCK + round % 64, 1).is_ok()),
        );
        report(
            prefix,
            "block_read_4k_request",
            measure(rounds, busy, |round| disk.read(FIRST_BLOCK + 8 * (round % 64), 8).is_ok()),
        );
        report(
            prefix,
            "block_write_4k_request",
            measure(rounds, busy, |round| disk.write(FIRST_BLOCK + 8 * (round % 64), &data[..4096]).is_ok()),
        );
        report(prefix, "block_info_request", measure(rounds, busy, |_| disk.info().is_ok()));
        report(prefix, "block_flush_request", measure(rounds, busy, |_| disk.flush().is_ok()));
        report(prefix, "random_32_request", measure(rounds, busy, |_| random.read_random(32).is_ok()));
        report(
            prefix,
            "block_sequential_write_ticks_per_mib",
            measure(sequential_mib, busy, |round| {
                disk.write(FIRST_BLOCK + (round % sequential_mib) * blocks_per_mib, data).is_ok()
            }),
        );
        report(
            prefix,
            "block_sequential_read_ticks_per_mib",
            measure(sequential_mib, busy, |round| {
                disk.read(FIRST_BLOCK + (round % sequential_mib) * blocks_per_mib, blocks_per_mib as u32).is_ok()
            }),
        );
        if let Some(thread) = spinner {
            SPINNING.store(false, Ordering::SeqCst);
            thread.join();
        }
    }
    println!("bench done");
}
