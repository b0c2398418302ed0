//! The file-server operations of the cross-system benchmark
//! (/work/shared/bench/bench.c), made by a Rust client over the generated
//! stubs until minilibc runs on Mach_R: `file_cwu`, `read_1m`, `pipe_64k`,
//! `pipe_pingpong` (the pipes go to `fs-bench-peer`, another task, through
//! FIFOs). Time-stamp-counter ticks per operation, guest instructions under
//! `-icount shift=0`: prints `bench <name> <ticks>` lines and `bench done`
//! (scripts/benches/file-server).
#![no_std]
#![no_main]

use libmach::abi::{PortName, VM_FLAGS_ANYWHERE};
use libmach::trap::{task_self, thread_sleep, vm_allocate};
use libmach::{CallError, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use personality_interfaces::{fs, io};

libmach::entry!(main);

const CREATE_TRUNCATE_WRITE: u32 = 0o100 | 0o1000 | 0o1;
const BLOCK: usize = 4096;
const MEGABYTE: usize = 1 << 20;
const CHUNK: usize = 64 * 1024;

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
}

fn open(root: &mut fs::Client, path: &[u8], flags: u32) -> Result<io::Client, CallError<fs::Error>> {
    let reply = root.open(path, flags, 0o644)?;
    io::Client::new(&SystemKernel, reply.file).map_err(CallError::Rpc)
}

/// Ticks per operation of `operation` run `count` times after a warm-up.
fn measure(count: u64, mut operation: impl FnMut() -> bool) -> Option<u64> {
    for _ in 0..count / 10 + 1 {
        if !operation() {
            return None;
        }
    }
    let start = ticks();
    for _ in 0..count {
        if !operation() {
            return None;
        }
    }
    Some((ticks() - start) / count)
}

fn report(name: &str, result: Option<u64>) {
    match result {
        Some(value) => println!("bench {name} {value}"),
        None => println!("bench {name} failed"),
    }
}

fn main(bootstrap_port: u64) {
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        return;
    };
    let mut server = None;
    for _ in 0..400 {
        if let Ok(right) = names.lookup("fs") {
            server = Some(right);
            break;
        }
        let _ = thread_sleep(50);
    }
    let Some(server) = server else { return };
    let Ok(mut root) = fs::Client::new(&SystemKernel, server) else { return };
    let Ok(address) = vm_allocate(task_self(), 0, CHUNK as u64, VM_FLAGS_ANYWHERE) else { return };
    // SAFETY: `vm_allocate` just gave this task CHUNK bytes of zeroed
    // read-write memory at `address`, used only through this slice.
    let big: &mut [u8] = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, CHUNK) };
    let block = [7u8; BLOCK];

    // Parts, for the analysis: a bare io round trip, reads without data,
    // one 4 KiB read inline and out of line.
    if let Ok(mut null) = open(&mut root, b"/dev/null", 2) {
        report("part_fstat", measure(500, || null.stat().is_ok()));
        report("part_read_null", measure(500, || null.read(4096).is_ok()));
    }
    if let Ok(mut file) = open(&mut root, b"/tmp/bench-part", 0o100 | 0o1000 | 0o2) {
        let _ = file.write(&block);
        report("part_pread_4k", measure(500, || matches!(file.read_at(0, 4096), Ok(data) if data.len() == 4096)));
        report(
            "part_pread_4k_large",
            measure(500, || matches!(file.read_at_large(0, 4096), Ok(data) if data.len() == 4096)),
        );
        report("part_open_close", measure(300, || open(&mut root, b"/tmp/bench-part", 0).is_ok()));
        report("part_stat_path", measure(300, || root.stat(b"/tmp/bench-part", true).is_ok()));
    }

    // file_cwu: open(O_CREAT|O_TRUNC) + write 4 KiB + close + unlink.
    report(
        "file_cwu",
        measure(300, || {
            let Ok(mut file) = open(&mut root, b"/tmp/bench-cwu", CREATE_TRUNCATE_WRITE) else { return false };
            let written = matches!(file.write(&block), Ok(4096));
            drop(file);
            written && root.unlink(b"/tmp/bench-cwu", false).is_ok()
        }),
    );

    // read_1m: open + 256 reads of 4 KiB (and the end) of a cached 1 MiB file + close.
    if let Ok(mut file) = open(&mut root, b"/tmp/bench-1m", CREATE_TRUNCATE_WRITE) {
        for _ in 0..MEGABYTE / BLOCK {
            let _ = file.write(&block);
        }
    }
    report(
        "read_1m",
        measure(30, || {
            let Ok(mut file) = open(&mut root, b"/tmp/bench-1m", 0) else { return false };
            let mut got = 0;
            loop {
                match file.read(BLOCK as u32) {
                    Ok(data) if !data.is_empty() => got += data.len(),
                    Ok(_) => break,
                    Err(_) => return false,
                }
            }
            got == MEGABYTE
        }),
    );
    let _ = root.unlink(b"/tmp/bench-1m", false);

    // The pipes: FIFOs to fs-bench-peer.
    for path in [&b"/tmp/bench-data"[..], b"/tmp/bench-ack", b"/tmp/bench-ping", b"/tmp/bench-pong"] {
        let _ = root.unlink(path, false);
        let _ = root.make_node(path, 0o010666, 0);
    }
    let (Ok(mut data), Ok(mut acknowledge)) =
        (open(&mut root, b"/tmp/bench-data", 0o1), open(&mut root, b"/tmp/bench-ack", 0))
    else {
        println!("bench pipes failed: no peer");
        return;
    };
    // pipe_64k: per round the peer is told how many chunks come, reads them
    // all, and answers one byte.
    const ROUNDS: u64 = 8;
    const PER_ROUND: u64 = 32;
    let mut total = 0u64;
    let mut ok = true;
    for round in 0..ROUNDS + 1 {
        let count = (PER_ROUND as u32).to_le_bytes();
        let start = ticks();
        ok &= data.write(&count).is_ok();
        for _ in 0..PER_ROUND {
            ok &= matches!(data.write_large(big), Ok(count) if count as usize == CHUNK);
        }
        ok &= matches!(acknowledge.read(1), Ok(byte) if byte.len() == 1);
        if round > 0 {
            total += ticks() - start;
        }
    }
    report("pipe_64k", ok.then_some(total / (ROUNDS * PER_ROUND)));
    let _ = data.write(&0u32.to_le_bytes());
    drop(data);
    drop(acknowledge);

    // pipe_pingpong: one byte there and back.
    let (Ok(mut ping), Ok(mut pong)) =
        (open(&mut root, b"/tmp/bench-ping", 0o1), open(&mut root, b"/tmp/bench-pong", 0))
    else {
        println!("bench pingpong failed: no peer");
        return;
    };
    report(
        "pipe_pingpong",
        measure(500, || ping.write(b"x").is_ok() && matches!(pong.read(1), Ok(byte) if byte.len() == 1)),
    );
    println!("bench done");
}
