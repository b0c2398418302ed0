//! Benchmarks of the virtio driver, for scripts/benches/block: the argument
//! names a send right to the name service. Prints `bench <name> <ticks>`
//! lines (time-stamp counter ticks: instructions under `-icount shift=0`,
//! wall time under plain TCG) and `bench done`:
//!
//! - `block_read_512_request`, `block_read_4k_request`,
//!   `block_write_4k_request`, `block_flush_request`: one request, client
//!   to device and back, averaged over 200;
//! - `block_sequential_write_ticks_per_mib`, `block_sequential_read_ticks_per_mib`:
//!   16 MiB in 1 MiB requests from one client, over the whole `block1`
//!   (a scratch disk: its contents are overwritten);
//! - `random_32_request`: 32 bytes from `random`.
#![no_std]
#![no_main]

use libmach::abi::PortName;
use libmach::message::OutOfLineData;
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use mach_virtio::lookup_until;
use personality_interfaces::{block, random};

libmach::entry!(main);

const ROUNDS: u64 = 200;
const MIB: u64 = 1 << 20;
const SEQUENTIAL_MIB: u64 = 16;

fn ticks() -> u64 {
    // SAFETY: rdtsc only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Average ticks of `rounds` calls of `operation` after 10 unmeasured
/// ones; `None` if any failed.
fn measure(rounds: u64, mut operation: impl FnMut(u64) -> bool) -> Option<u64> {
    for round in 0..10 {
        if !operation(round) {
            return None;
        }
    }
    let start = ticks();
    for round in 0..rounds {
        if !operation(round) {
            return None;
        }
    }
    Some((ticks() - start) / rounds)
}

fn report(name: &str, figure: Option<u64>) {
    match figure {
        Some(value) => println!("bench {name} {value}"),
        None => println!("block-bench: {name} failed"),
    }
}

fn main(names_port: u64) {
    let Ok(mut names) = names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, names_port as PortName))
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
    let Ok(mut buffer) = OutOfLineData::allocate(&SystemKernel, MIB as u32) else {
        println!("block-bench: no memory");
        return;
    };
    for (index, byte) in buffer.bytes_mut().iter_mut().enumerate() {
        *byte = (index * 7) as u8;
    }
    let data = buffer.bytes();
    report("block_read_512_request", measure(ROUNDS, |round| disk.read(round % 64, 1).is_ok()));
    report("block_read_4k_request", measure(ROUNDS, |round| disk.read(8 * (round % 64), 8).is_ok()));
    report("block_write_4k_request", measure(ROUNDS, |round| disk.write(8 * (round % 64), &data[..4096]).is_ok()));
    report("block_flush_request", measure(ROUNDS, |_| disk.flush().is_ok()));
    let blocks_per_mib = MIB / 512;
    report(
        "block_sequential_write_ticks_per_mib",
        measure(SEQUENTIAL_MIB, |round| disk.write((round % SEQUENTIAL_MIB) * blocks_per_mib, data).is_ok()),
    );
    report(
        "block_sequential_read_ticks_per_mib",
        measure(SEQUENTIAL_MIB, |round| {
            disk.read((round % SEQUENTIAL_MIB) * blocks_per_mib, blocks_per_mib as u32).is_ok()
        }),
    );
    match lookup_until(&mut names, "random", 10_000).and_then(|right| random::Client::new(&SystemKernel, right).ok()) {
        Some(mut random) => report("random_32_request", measure(ROUNDS, |_| random.read_random(32).is_ok())),
        None => println!("block-bench: no random"),
    }
    println!("bench done");
}
