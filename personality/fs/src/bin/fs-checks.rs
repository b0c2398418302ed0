//! The file server's system checks, as a client over the generated stubs
//! (started by the bootstrap task beside `fs`, `virtio` and `fs-peer`):
//! files created, read, written, renamed and removed; 10,000 files in one
//! directory; a 64 MiB file; the memory devices; a FIFO between this task
//! and `fs-peer`, read while the peer keeps working; then a clean shutdown
//! of every file system. Prints `fs-checks: N passed, N failed`; the
//! system test (scripts/tests/file-server) then checks the disk on the
//! host with e2fsck and debugfs, byte for byte.
#![no_std]
#![no_main]

use libmach::abi::{PortName, VM_FLAGS_ANYWHERE};
use libmach::trap::{task_self, thread_sleep, vm_allocate};
use libmach::{CallError, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::{println, Checks};
use personality_interfaces::{fs, io};

libmach::entry!(main);

const CREATE: u32 = 0o100;
const EXCLUSIVE: u32 = 0o200;
const TRUNCATE: u32 = 0o1000;
const WRITE_ONLY: u32 = 0o1;
const READ_WRITE: u32 = 0o2;
const DIRECTORY: u32 = 0o200000;
const MANY_FILES: u32 = 10_000;
const BIG_SIZE: u64 = 64 << 20;
const CHUNK: usize = 1 << 20;

/// Byte `index` of the 64 MiB file (scripts/tests/file-server computes it too).
fn pattern(index: u64) -> u8 {
    (index.wrapping_mul(131) ^ (index >> 12)) as u8
}

fn find(names: &mut names::Client, name: &str) -> Option<SendRight> {
    for _ in 0..400 {
        if let Ok(right) = names.lookup(name) {
            return Some(right);
        }
        let _ = thread_sleep(50);
    }
    None
}

fn open(root: &mut fs::Client, path: &str, flags: u32) -> Result<io::Client, CallError<fs::Error>> {
    let reply = root.open(path.as_bytes(), flags, 0o644)?;
    io::Client::new(&SystemKernel, reply.file).map_err(CallError::Rpc)
}

/// A 1 MiB buffer (the task's stack is too small for one).
fn buffer() -> &'static mut [u8] {
    let Ok(address) = vm_allocate(task_self(), 0, CHUNK as u64, VM_FLAGS_ANYWHERE) else { return &mut [] };
    // SAFETY: `vm_allocate` just gave this task CHUNK bytes of zeroed
    // read-write memory at `address`, never freed, used only through this
    // slice.
    unsafe { core::slice::from_raw_parts_mut(address as *mut u8, CHUNK) }
}

fn basic_files(checks: &mut Checks, root: &mut fs::Client) {
    let _ = root.make_directory(b"/fs-checks", 0o755);
    let text = b"hello from Mach_R\n";
    match open(root, "/fs-checks/hello.txt", CREATE | TRUNCATE | READ_WRITE) {
        Ok(mut file) => {
            checks.equal("write", file.write(text).map_err(|_| ()), Ok(text.len() as u32));
            checks.equal("seek", file.seek(0, 0).map_err(|_| ()), Ok(0));
            let read = file.read(100).map(|data| data.as_slice() == text);
            checks.equal("read back", read.map_err(|_| ()), Ok(true));
            checks.equal("stat size", file.stat().map(|stat| stat.file_size).map_err(|_| ()), Ok(text.len() as i64));
        }
        Err(error) => checks.equal("create", Err::<(), _>(error), Ok(())),
    }
    checks.equal(
        "create exclusive of an existing file",
        open(root, "/fs-checks/hello.txt", CREATE | EXCLUSIVE | WRITE_ONLY).err(),
        Some(CallError::Interface(fs::Error::Exists)),
    );
    let Ok(directory) = root.open(b"/fs-checks", DIRECTORY, 0) else { return };
    checks.equal("rename", root.rename(b"/fs-checks/hello.txt", &directory.file, b"greeting.txt"), Ok(()));
    checks.equal(
        "old name gone",
        root.stat(b"/fs-checks/hello.txt", true).err(),
        Some(CallError::Interface(fs::Error::NoSuchEntry)),
    );
    checks.equal(
        "new name",
        root.stat(b"/fs-checks/greeting.txt", true).map(|stat| stat.file_size),
        Ok(text.len() as i64),
    );
    checks.equal("symlink", root.symlink(b"greeting.txt", b"/fs-checks/link"), Ok(()));
    checks.equal(
        "readlink",
        root.read_link(b"/fs-checks/link").map(|target| target.as_slice() == b"greeting.txt"),
        Ok(true),
    );
    let temporary = open(root, "/fs-checks/doomed", CREATE | WRITE_ONLY).map(drop);
    checks.equal("create a file to remove", temporary.map_err(|_| ()), Ok(()));
    checks.equal("unlink", root.unlink(b"/fs-checks/doomed", false), Ok(()));
    checks.equal("mkdir", root.make_directory(b"/fs-checks/empty", 0o700), Ok(()));
    checks.equal("rmdir", root.unlink(b"/fs-checks/empty", true), Ok(()));
    checks.equal(
        "rmdir of a file",
        root.unlink(b"/fs-checks/greeting.txt", true),
        Err(CallError::Interface(fs::Error::NotADirectory)),
    );
}

fn many_files(checks: &mut Checks, root: &mut fs::Client) {
    let _ = root.make_directory(b"/fs-checks/many", 0o755);
    let mut created = 0;
    let mut name = *b"/fs-checks/many/file-00000";
    for index in 0..MANY_FILES {
        let mut value = index;
        for position in (21..26).rev() {
            name[position] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        let Ok(path) = core::str::from_utf8(&name) else { continue };
        if let Ok(mut file) = open(root, path, CREATE | TRUNCATE | WRITE_ONLY) {
            if file.write(&name[16..]).is_ok() {
                created += 1;
            }
        }
    }
    checks.equal("10,000 files created", created, MANY_FILES);
    // List them: every name once.
    let Ok(reply) = root.open(b"/fs-checks/many", DIRECTORY, 0) else { return };
    let Ok(mut directory) = io::Client::new(&SystemKernel, reply.file) else { return };
    let mut entries = 0u32;
    while let Ok(records) = directory.read_directory(8192) {
        let records = records.as_slice();
        if records.is_empty() {
            break;
        }
        let mut offset = 0;
        while offset + 19 < records.len() {
            let length = u16::from_le_bytes([records[offset + 16], records[offset + 17]]) as usize;
            if length == 0 {
                break;
            }
            if records[offset + 19] != b'.' {
                entries += 1;
            }
            offset += length;
        }
    }
    checks.equal("10,000 entries listed", entries, MANY_FILES);
    checks.equal(
        "a file among them",
        root.stat(b"/fs-checks/many/file-04321", true).map(|stat| stat.file_size),
        Ok(10),
    );
}

fn big_file(checks: &mut Checks, root: &mut fs::Client) {
    let data = buffer();
    if data.is_empty() {
        checks.equal("buffer", false, true);
        return;
    }
    let Ok(mut file) = open(root, "/fs-checks/big", CREATE | TRUNCATE | READ_WRITE) else {
        checks.equal("open the big file", false, true);
        return;
    };
    let mut written = 0u64;
    while written < BIG_SIZE {
        for (index, byte) in data.iter_mut().enumerate() {
            *byte = pattern(written + index as u64);
        }
        match file.write_large(data) {
            Ok(count) => written += count as u64,
            Err(_) => break,
        }
    }
    checks.equal("64 MiB written", written, BIG_SIZE);
    checks.equal("size", file.stat().map(|stat| stat.file_size).map_err(|_| ()), Ok(BIG_SIZE as i64));
    let _ = file.seek(0, 0);
    let mut read = 0u64;
    let mut matches = true;
    while read < BIG_SIZE {
        match file.read_large(CHUNK as u32) {
            Ok(chunk) if !chunk.is_empty() => {
                for (index, byte) in chunk.bytes().iter().enumerate() {
                    if *byte != pattern(read + index as u64) {
                        matches = false;
                    }
                }
                read += chunk.len() as u64;
            }
            _ => break,
        }
    }
    checks.equal("64 MiB read back", (read, matches), (BIG_SIZE, true));
}

fn devices(checks: &mut Checks, root: &mut fs::Client) {
    if let Ok(mut null) = open(root, "/dev/null", READ_WRITE) {
        checks.equal("null reads nothing", null.read(10).map(|data| data.len()).map_err(|_| ()), Ok(0));
        checks.equal("null takes everything", null.write(b"gone").map_err(|_| ()), Ok(4));
    }
    if let Ok(mut zero) = open(root, "/dev/zero", 0) {
        checks.equal("zero", zero.read(16).map(|data| data.as_slice() == [0u8; 16]).map_err(|_| ()), Ok(true));
    }
    if let Ok(mut random) = open(root, "/dev/urandom", 0) {
        let (first, second) = (random.read(32), random.read(32));
        let differ = match (first, second) {
            (Ok(first), Ok(second)) => first.as_slice() != second.as_slice(),
            _ => false,
        };
        checks.equal("urandom", differ, true);
    }
}

fn fifo_with_peer(checks: &mut Checks, root: &mut fs::Client) {
    let _ = root.unlink(b"/tmp/fs-fifo", false);
    checks.equal("mkfifo", root.make_node(b"/tmp/fs-fifo", 0o010666, 0), Ok(()));
    // The open waits until fs-peer opens the write end, which it does only
    // after 500 operations of its own: the server serves it meanwhile.
    let Ok(mut fifo) = open(root, "/tmp/fs-fifo", 0) else {
        checks.equal("open the fifo", false, true);
        return;
    };
    let mut message = [0u8; 64];
    let mut length = 0;
    while length < message.len() {
        match fifo.read(64) {
            Ok(data) if !data.is_empty() => {
                let take = data.len().min(message.len() - length);
                message[length..length + take].copy_from_slice(&data.as_slice()[..take]);
                length += take;
            }
            _ => break,
        }
    }
    checks.equal(
        "the peer's message came through the fifo after its own work",
        core::str::from_utf8(&message[..length]).ok(),
        Some("fs-peer did 500 operations while fs-checks waited"),
    );
}

fn main(bootstrap_port: u64) {
    let mut checks = Checks::new("fs-checks");
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        return;
    };
    let Some(server) = find(&mut names, "fs") else {
        println!("fs-checks: no file server");
        checks.equal("file server found", false, true);
        checks.finish();
        return;
    };
    let Ok(mut root) = fs::Client::new(&SystemKernel, server) else { return };
    let time = || libmach::trap::clock_get_time().unwrap_or(0) / 1_000_000;
    let start = time();
    basic_files(&mut checks, &mut root);
    many_files(&mut checks, &mut root);
    let many = time();
    big_file(&mut checks, &mut root);
    let big = time();
    devices(&mut checks, &mut root);
    fifo_with_peer(&mut checks, &mut root);
    println!("fs-checks: 10,000 files in {} ms, 64 MiB written and read in {} ms", many - start, big - many);
    checks.equal("sync", root.sync(), Ok(()));
    checks.equal("shutdown", root.shutdown(), Ok(()));
    checks.finish();
}
