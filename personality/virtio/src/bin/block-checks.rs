//! A client of the virtio driver, for its kernel tests, started by the
//! bootstrap task (`block-checks needs=block1,random [-- restart]`). Its
//! argument (`argv[1]`) chooses what it does:
//!
//! - none: every check (prints `block-checks: N passed, N failed`): the test
//!   disk (`block1`, made by `build_test_disk`) read against its known
//!   contents, single blocks and long runs written and read back, four
//!   threads with requests in flight together, out-of-range, bad and
//!   malformed requests, `random`, the root disk (`block`) being ext2, and
//!   the read-only disk (`block2`: the root disk again) refusing writes.
//!   What it writes is checked on the host afterwards too
//!   (scripts/tests/block-driver);
//! - `concurrent`: only the four threads (prints `block-checks: concurrent:
//!   N passed, N failed`), for the case where the driver may hold fewer
//!   requests than the clients make;
//! - `restart`: a workload for the restart test: writes and reads back blocks,
//!   looking `block1` up again and retrying whenever the driver is gone,
//!   until it has seen the driver die at least once and done 200 more
//!   rounds (prints `block-checks: restart: N passed, N failed, N retried`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};
use libmach::abi::PortName;
use libmach::{CallError, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_examples::raw_call;
use mach_usertests::{println, Checks};
use mach_virtio::{lookup_until, test_disk_byte, written_byte};
use personality_interfaces::{block, random};

libmach::entry!(main);

/// The test disk: 64 MiB of 512-byte blocks (the upper half is
/// block-bench's).
const TEST_DISK_BLOCKS: u64 = 128 * 1024;
const BLOCK: usize = 512;
/// Regions written in mode 0 (first block, blocks, pass); the host checks
/// them (scripts/tests/block-driver, which knows the same numbers).
const WRITTEN: [(u64, u64, u8); 3] = [(16384, 1, 1), (16400, 2048, 1), (20000, 300, 1)];
/// Each of four threads writes its own region: 256 blocks from
/// 24000 + 1024 * thread, pass 2 + thread.
const THREAD_REGION: u64 = 24000;
const THREADS: usize = 4;
/// The restart workload's blocks.
const RESTART_REGION: u64 = 28000;

fn main(bootstrap_port: u64) {
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        println!("block-checks: no name service");
        return;
    };
    match libmach::runtime::argument(1) {
        None => checks(&mut names),
        Some(b"restart") => restart_workload(&mut names),
        Some(b"concurrent") => {
            let mut checks = Checks::new("block-checks: concurrent");
            concurrent(&mut names, &mut checks);
            checks.finish();
        }
        Some(other) => println!("block-checks: unknown mode {:?}", core::str::from_utf8(other)),
    }
}

fn disk(names: &mut names::Client, name: &str) -> Option<block::Client> {
    lookup_until(names, name, 10_000).and_then(|right| block::Client::new(&SystemKernel, right).ok())
}

fn pattern(first_block: u64, blocks: u64, pass: u8) -> alloc_free::Bytes {
    let mut bytes = alloc_free::Bytes::new((blocks as usize) * BLOCK);
    for (index, byte) in bytes.as_mut().iter_mut().enumerate() {
        *byte = written_byte(first_block * BLOCK as u64 + index as u64, pass);
    }
    bytes
}

/// Whether `data` is the test disk's original contents from `first_block` on.
fn is_original(data: &[u8], first_block: u64) -> bool {
    data.iter().enumerate().all(|(index, &byte)| byte == test_disk_byte(first_block * BLOCK as u64 + index as u64))
}

fn checks(names: &mut names::Client) {
    let mut checks = Checks::new("block-checks");
    let Some(mut disk) = disk(names, "block1") else {
        println!("block-checks: block1 never appeared");
        checks.equal("block1 registered", false, true);
        checks.finish();
        return;
    };

    let info = disk.info();
    checks.equal(
        "info",
        info.map(|info| (info.block_size, info.block_count, info.read_only, info.max_transfer)).ok(),
        Some((512, TEST_DISK_BLOCKS, false, 1 << 20)),
    );

    // Reads against the contents the host gave the disk.
    for (first, count) in [(0, 1), (7, 3), (TEST_DISK_BLOCKS - 1, 1), (100, 2048), (12345, 400)] {
        let read = disk.read(first, count as u32);
        let good = read.as_ref().is_ok_and(|data| data.len() == count * BLOCK && is_original(data.bytes(), first));
        checks.equal("read matches the disk", (first, count, good), (first, count, true));
    }

    // Writes: one block, a whole 1 MiB run, a run across slot boundaries;
    // each read back, then flushed.
    for (first, blocks, pass) in WRITTEN {
        let data = pattern(first, blocks, pass);
        checks.equal("write", (first, disk.write(first, data.as_ref()).is_ok()), (first, true));
        let back = disk.read(first, blocks as u32);
        checks.equal("read back", (first, back.is_ok_and(|back| back.bytes() == data.as_ref())), (first, true));
    }
    // Neighbours untouched.
    let before = disk.read(16383, 1);
    checks.equal("block before untouched", before.is_ok_and(|data| is_original(data.bytes(), 16383)), true);
    let after = disk.read(20300, 1);
    checks.equal("block after untouched", after.is_ok_and(|data| is_original(data.bytes(), 20300)), true);
    checks.equal("flush", disk.flush().is_ok(), true);

    concurrent(names, &mut checks);
    errors(&mut disk, &mut checks);
    malformed(&mut disk, &mut checks);
    entropy(names, &mut checks);

    // The root disk is `block`, an ext2 image: the superblock's magic.
    let root_superblock = match self::disk(names, "block") {
        Some(mut root) => {
            let superblock = root.read(2, 2).ok();
            let magic = superblock.as_ref().map(|data| u16::from_le_bytes([data.bytes()[56], data.bytes()[57]]));
            checks.equal("root disk is ext2", magic, Some(0xef53));
            superblock
        }
        None => {
            checks.equal("root disk registered", false, true);
            None
        }
    };
    // `block2` is the root disk again, read-only. Tests run before this one
    // may have mounted and written the root disk (a copy-on-write overlay),
    // so the superblocks are compared on what a mount never changes: the
    // block count and the file system's identity (magic and UUID).
    match self::disk(names, "block2") {
        Some(mut read_only) => {
            checks.equal("read-only disk says so", read_only.info().map(|info| info.read_only).ok(), Some(true));
            let identity = |superblock: &[u8]| {
                let mut fields = [0u8; 22];
                fields[..4].copy_from_slice(&superblock[4..8]);
                fields[4..6].copy_from_slice(&superblock[56..58]);
                fields[6..].copy_from_slice(&superblock[104..120]);
                fields
            };
            let same = read_only
                .read(2, 2)
                .ok()
                .zip(root_superblock)
                .is_some_and(|(a, b)| identity(a.bytes()) == identity(b.bytes()));
            checks.equal("read-only disk reads", same, true);
            let one = [0u8; BLOCK];
            checks.equal("write to it", interface_error(read_only.write(2, &one)), Some(block::Error::ReadOnly));
        }
        None => checks.equal("read-only disk registered", false, true),
    }
    checks.finish();
}

static THREAD_FAILURES: AtomicU32 = AtomicU32::new(0);
static THREAD_ROUNDS: AtomicU32 = AtomicU32::new(0);
/// A send right to the bootstrap port for each thread (moved to it).
static NAMES_PORTS: [AtomicU32; THREADS] = [const { AtomicU32::new(0) }; THREADS];

/// One of the concurrent clients: its own client (own reply port), its
/// own region; writes and reads back 16 times, reading a long run of the
/// untouched disk in between, so short and long requests overlap.
fn concurrent_client(thread: usize) {
    let names_port = NAMES_PORTS[thread].load(Ordering::SeqCst);
    let Ok(mut names) = names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, names_port)) else {
        THREAD_FAILURES.fetch_add(1, Ordering::SeqCst);
        return;
    };
    let Some(mut disk) = disk(&mut names, "block1") else {
        THREAD_FAILURES.fetch_add(1, Ordering::SeqCst);
        return;
    };
    let first = THREAD_REGION + 1024 * thread as u64;
    for round in 0..16u8 {
        let pass = if round == 15 { 2 + thread as u8 } else { 100 + round };
        let data = pattern(first, 256, pass);
        let written = disk.write(first, data.as_ref()).is_ok();
        let back = disk.read(first, 256).is_ok_and(|back| back.bytes() == data.as_ref());
        let long = disk
            .read(4096 + 512 * thread as u64, 1024)
            .is_ok_and(|run| is_original(run.bytes(), 4096 + 512 * thread as u64));
        if !(written && back && long) {
            THREAD_FAILURES.fetch_add(1, Ordering::SeqCst);
        }
        THREAD_ROUNDS.fetch_add(1, Ordering::SeqCst);
    }
}

fn concurrent(names: &mut names::Client, checks: &mut Checks) {
    for port in &NAMES_PORTS {
        port.store(names.server().try_clone().map_or(0, SendRight::into_name), Ordering::SeqCst);
    }
    let threads: [_; THREADS] =
        core::array::from_fn(|thread| libmach::thread::spawn(concurrent_client, thread, 64 * 1024));
    checks.equal("threads started", threads.iter().all(Result::is_ok), true);
    for thread in threads.into_iter().flatten() {
        thread.join();
    }
    checks.equal("concurrent rounds", THREAD_ROUNDS.load(Ordering::SeqCst), 16 * THREADS as u32);
    checks.equal("concurrent failures", THREAD_FAILURES.load(Ordering::SeqCst), 0);
}

fn interface_error<T>(result: Result<T, CallError<block::Error>>) -> Option<block::Error> {
    match result {
        Err(CallError::Interface(error)) => Some(error),
        _ => None,
    }
}

fn errors(disk: &mut block::Client, checks: &mut Checks) {
    let one = [0u8; BLOCK];
    checks.equal(
        "read past the end",
        interface_error(disk.read(TEST_DISK_BLOCKS - 1, 2)),
        Some(block::Error::OutOfRange),
    );
    checks.equal("read at block 2^64-1", interface_error(disk.read(u64::MAX, 1)), Some(block::Error::OutOfRange));
    checks.equal("read no blocks", interface_error(disk.read(0, 0)), Some(block::Error::BadRequest));
    checks.equal("read over 1 MiB", interface_error(disk.read(0, 2049)), Some(block::Error::BadRequest));
    checks.equal(
        "write past the end",
        interface_error(disk.write(TEST_DISK_BLOCKS, &one)),
        Some(block::Error::OutOfRange),
    );
    checks.equal("write part of a block", interface_error(disk.write(0, &one[..100])), Some(block::Error::BadRequest));
    checks.equal("write nothing", interface_error(disk.write(0, &[])), Some(block::Error::BadRequest));
    // Over the interface's bound: the generated client refuses to send it.
    let too_long = pattern(0, 2049, 9);
    let refused = matches!(disk.write(0, too_long.as_ref()), Err(CallError::Rpc(libmach::RpcError::Write(_))));
    checks.equal("write over 1 MiB refused by the client", refused, true);
    checks.equal("the disk still answers", disk.info().is_ok(), true);
}

fn malformed(disk: &mut block::Client, checks: &mut Checks) {
    const MIG_BAD_ARGUMENTS: i32 = -304;
    const MIG_BAD_ID: i32 = -303;
    let service = disk.server().name();
    // read with only 4 bytes of its 12.
    checks.equal(
        "short read request",
        raw_call(service, block::id::READ, None, &[0; 4], true),
        Some(MIG_BAD_ARGUMENTS),
    );
    // write without its out-of-line data.
    checks.equal(
        "write without data",
        raw_call(service, block::id::WRITE, None, &[0; 8], true),
        Some(MIG_BAD_ARGUMENTS),
    );
    checks.equal(
        "flush with trailing bytes",
        raw_call(service, block::id::FLUSH, None, &[1; 8], true),
        Some(MIG_BAD_ARGUMENTS),
    );
    checks.equal("an id of another interface", raw_call(service, 3099, None, &[], true), Some(MIG_BAD_ID));
    checks.equal("info without a reply port: no answer", raw_call(service, block::id::INFO, None, &[], false), None);
    checks.equal("served after all that", disk.info().map(|info| info.block_count).ok(), Some(TEST_DISK_BLOCKS));
}

fn entropy(names: &mut names::Client, checks: &mut Checks) {
    let Some(mut random) =
        lookup_until(names, "random", 10_000).and_then(|right| random::Client::new(&SystemKernel, right).ok())
    else {
        checks.equal("random registered", false, true);
        return;
    };
    let first = random.read_random(32);
    let second = random.read_random(32);
    checks.equal("32 bytes", first.as_ref().map(|bytes| bytes.len()).ok(), Some(32));
    let differ = matches!((&first, &second), (Ok(a), Ok(b)) if a.as_slice() != b.as_slice());
    checks.equal("two draws differ", differ, true);
    checks.equal("not all zero", first.is_ok_and(|bytes| bytes.as_slice().iter().any(|&byte| byte != 0)), true);
    checks.equal("256 bytes", random.read_random(256).map(|bytes| bytes.len()).ok(), Some(256));
    let bad = |result: Result<libmach::BoundedBytes<256>, CallError<random::Error>>| match result {
        Err(CallError::Interface(error)) => Some(error),
        _ => None,
    };
    checks.equal("zero bytes", bad(random.read_random(0)), Some(random::Error::BadRequest));
    checks.equal("257 bytes", bad(random.read_random(257)), Some(random::Error::BadRequest));
}

/// Mode 1: the restart test's client.
fn restart_workload(names: &mut names::Client) {
    let Some(mut disk) = disk(names, "block1") else {
        println!("block-checks: restart: block1 never appeared");
        return;
    };
    println!("block-checks: workload started");
    let (mut passed, mut failed, mut retried) = (0u32, 0u32, 0u32);
    let mut round = 0u64;
    let mut rounds_after_retry = 0;
    while rounds_after_retry < 200 && round < 20_000 {
        let first = RESTART_REGION + round % 64;
        let data = pattern(first, 1, (round % 251) as u8);
        let outcome = loop {
            let attempt = disk.write(first, data.as_ref()).and_then(|()| disk.read(first, 1));
            match attempt {
                Ok(back) => break Some(back.bytes() == data.as_ref()),
                Err(CallError::Interface(error)) => {
                    println!("block-checks: restart: round {round}: {error:?}");
                    break None;
                }
                Err(CallError::Rpc(error)) => {
                    // The driver died under us: find its successor.
                    retried += 1;
                    if retried == 1 {
                        println!("block-checks: restart: driver gone ({error:?}); looking it up again");
                    }
                    match self::disk(names, "block1") {
                        Some(again) => disk = again,
                        None => break None,
                    }
                }
            }
        };
        match outcome {
            Some(true) => passed += 1,
            _ => failed += 1,
        }
        if retried > 0 {
            rounds_after_retry += 1;
        }
        round += 1;
    }
    println!("block-checks: restart: {passed} passed, {failed} failed, {retried} retried");
}

mod alloc_free {
    //! A byte buffer without an allocator: memory from `vm_allocate`, freed
    //! on drop.
    use libmach::message::OutOfLineData;
    use libmach::SystemKernel;

    pub struct Bytes(OutOfLineData);

    impl Bytes {
        pub fn new(length: usize) -> Self {
            match OutOfLineData::allocate(&SystemKernel, length as u32) {
                Ok(data) => Bytes(data),
                Err(error) => panic!("block-checks: cannot allocate {length} bytes: {error:?}"),
            }
        }

        pub fn as_mut(&mut self) -> &mut [u8] {
            self.0.bytes_mut()
        }

        pub fn as_ref(&self) -> &[u8] {
            self.0.bytes()
        }
    }
}
