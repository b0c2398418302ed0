//! The file server in the normal system (scripts/tests/file-server part 4):
//! booted by `personality/system.manifest` beside the console server and
//! the virtio driver, on the root disk `scripts/run` makes, with only this
//! program added. It checks what the other system checks boot without:
//!
//! - `/` is ext2 from the block driver's disk (the root tree's
//!   `/etc/passwd` is there), `/dev` and `/tmp` are memory file systems;
//! - `/dev/console` opened through the file server is the console
//!   server's terminal (it answers TCGETS; a line written to it reaches
//!   the serial line, which the test reads);
//! - 65,536 files open at once, each its own port, all answering; then
//!   closed, and the server still serves;
//! - a file mapped through the file server as its pager: the mapping reads
//!   the file, a write to the mapping reaches the file on `msync`, a write
//!   to the file reaches the mapping;
//! - a second disk (`/dev/vdb`, which the test made and damaged on
//!   purpose: a directory block of garbage, a file whose block map points
//!   past the disk's end) mounted read-write at `/mnt`, written, unmounted,
//!   mounted read-only (changes refused), its damage answered `EIO` with
//!   the server going on; then its superblock wiped through `/dev/vdb`:
//!   the mount is refused (`EINVAL`), and once restored it mounts again;
//! - then `sync` and a clean shutdown; the test checks the root disk with
//!   `e2fsck -fn`, reads the mapped file back with debugfs, and the file
//!   written on the second disk.
//!
//! Prints `fs-system: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{PortName, VM_FLAGS_ANYWHERE};
use libmach::pager::vm_map;
use libmach::trap::{clock_get_time, port_deallocate, task_self, vm_allocate, vm_deallocate};
use libmach::{CallError, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::{println, Checks};
use personality_interfaces::{fs, io};

libmach::entry!(main);

const READ_ONLY: u32 = 0;
const WRITE_ONLY: u32 = 0o1;
const READ_WRITE: u32 = 0o2;
const CREATE: u32 = 0o100;
const NO_CONTROLLING_TERMINAL: u32 = 0o400;
const TRUNCATE: u32 = 0o1000;
const EXT2_MAGIC: u64 = 0xEF53;
const TMPFS_MAGIC: u64 = 0x0102_1994;
/// Files held open at once (the figure).
const OPEN_FILES: usize = 65_536;
const PAGE: usize = 4096;
const MAPPED_PAGES: usize = 3;
const MAPPED_WRITE: &[u8] = b"mapped write";
const SERVER_WRITE: &[u8] = b"server write";

/// Byte `index` of the mapped file as first written (the test computes it too).
fn pattern(index: usize) -> u8 {
    (index * 7 + 3) as u8
}

fn milliseconds() -> u64 {
    clock_get_time().unwrap_or(0) / 1_000_000
}

fn open(root: &mut fs::Client, path: &[u8], flags: u32) -> Result<io::Client, CallError<fs::Error>> {
    let reply = root.open(path, flags, 0o644)?;
    io::Client::new(&SystemKernel, reply.file).map_err(CallError::Rpc)
}

/// `pages` pages of fresh zeroed memory, never freed.
fn memory(pages: usize) -> Option<&'static mut [u8]> {
    let address = vm_allocate(task_self(), 0, (pages * PAGE) as u64, VM_FLAGS_ANYWHERE).ok()?;
    // SAFETY: `vm_allocate` just gave this task `pages` pages of zeroed
    // read-write memory at `address`, never freed, used only through this
    // slice.
    Some(unsafe { core::slice::from_raw_parts_mut(address as *mut u8, pages * PAGE) })
}

fn mounts(checks: &mut Checks, root: &mut fs::Client) {
    checks.equal("/ is ext2", root.statfs(b"/").map(|status| status.kind).map_err(|_| ()), Ok(EXT2_MAGIC));
    checks.equal("/tmp is a tmpfs", root.statfs(b"/tmp").map(|status| status.kind).map_err(|_| ()), Ok(TMPFS_MAGIC));
    checks.equal("/dev is a tmpfs", root.statfs(b"/dev").map(|status| status.kind).map_err(|_| ()), Ok(TMPFS_MAGIC));
    checks.equal(
        "/etc/mtab lists /, /dev, /tmp and /proc",
        mount_list(root).map(|list| {
            list.bytes().starts_with(b"/dev/vda / ext2 rw 0 0\ndevtmpfs /dev tmpfs rw 0 0\ntmpfs /tmp tmpfs rw 0 0\nproc /proc proc ro 0 0\n")
        }),
        Ok(true),
    );
    let passwd =
        open(root, b"/etc/passwd", READ_ONLY).map_err(|_| ()).and_then(|mut file| file.read(64).map_err(|_| ()));
    checks.equal(
        "/etc/passwd from the root disk",
        passwd.map(|data| data.as_slice().starts_with(b"root:x:0:0:")),
        Ok(true),
    );
}

/// The mount table as `/proc/mounts` (and `/etc/mtab`, a link to it) reads
/// (its first 1024 bytes).
struct MountList {
    text: [u8; 1024],
    length: usize,
}

impl MountList {
    fn bytes(&self) -> &[u8] {
        &self.text[..self.length]
    }

    fn contains(&self, part: &[u8]) -> bool {
        self.bytes().windows(part.len()).any(|window| window == part)
    }
}

fn mount_list(root: &mut fs::Client) -> Result<MountList, ()> {
    let mut file = open(root, b"/etc/mtab", READ_ONLY).map_err(|_| ())?;
    let mut list = MountList { text: [0; 1024], length: 0 };
    while list.length < list.text.len() {
        let data = file.read((list.text.len() - list.length) as u32).map_err(|_| ())?;
        if data.is_empty() {
            break;
        }
        list.text[list.length..list.length + data.len()].copy_from_slice(data.as_slice());
        list.length += data.len();
    }
    Ok(list)
}

fn console(checks: &mut Checks, root: &mut fs::Client) {
    match open(root, b"/dev/console", WRITE_ONLY | NO_CONTROLLING_TERMINAL) {
        Ok(mut terminal) => {
            checks.equal("/dev/console answers TCGETS", terminal.get_terminal_attributes().is_ok(), true);
            let line = b"fs-system: this line went through /dev/console\n";
            checks.equal("a write to /dev/console", terminal.write(line).map_err(|_| ()), Ok(line.len() as u32));
        }
        Err(error) => checks.equal("open /dev/console", Err::<(), _>(error), Ok(())),
    }
    // A file of the file server is no terminal.
    if let Ok(mut file) = open(root, b"/etc/passwd", READ_ONLY) {
        checks.equal(
            "a file answers ENOTTY to TCGETS",
            file.get_terminal_attributes().err(),
            Some(CallError::Interface(io::Error::NotATerminal)),
        );
    }
}

fn many_open_files(checks: &mut Checks, root: &mut fs::Client) {
    let Some(space) = memory(OPEN_FILES * 4 / PAGE) else {
        checks.equal("memory for the names", false, true);
        return;
    };
    // SAFETY: the slice is `OPEN_FILES * 4` bytes of page-aligned memory
    // this task owns and uses only through this view: `u32` has no
    // invalid values and needs 4-byte alignment, which a page gives.
    let files: &mut [PortName] =
        unsafe { core::slice::from_raw_parts_mut(space.as_mut_ptr().cast::<PortName>(), OPEN_FILES) };
    let start = milliseconds();
    let mut opened = 0;
    for slot in files.iter_mut() {
        match root.open(b"/etc/passwd", READ_ONLY, 0) {
            Ok(reply) => {
                *slot = reply.file.into_name();
                opened += 1;
            }
            Err(error) => {
                println!("fs-system: open number {} failed: {:?}", opened + 1, error);
                break;
            }
        }
    }
    let took = milliseconds() - start;
    checks.equal("65,536 files open at once", opened, OPEN_FILES);
    println!("fs-system: 65,536 files opened in {took} ms");
    let held = &mut files[..opened];
    // Each open is its own port: two equal names would be one port.
    held.sort_unstable();
    let distinct = held.windows(2).all(|pair| pair[0] != pair[1]);
    checks.equal("every open file is its own port", distinct, true);
    checks.equal(
        "the server still serves with them open",
        root.stat(b"/etc/passwd", true).map(|status| status.file_size > 0).map_err(|_| ()),
        Ok(true),
    );
    // Every one of them answers (its offset is its own: read one, the
    // next still starts at 0).
    let mut answering = 0;
    let mut own_offsets = true;
    let last = held.len().saturating_sub(1);
    for (index, name) in held.iter_mut().enumerate() {
        if index % 4096 != 0 && index != last {
            continue;
        }
        let Ok(mut file) = io::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, *name)) else {
            continue;
        };
        if let Ok(data) = file.read(5) {
            answering += 1;
            own_offsets &= data.as_slice() == b"root:";
        }
        // The client gives its right back when dropped: this file closes.
        *name = 0;
    }
    checks.equal("sampled open files answer", answering, held.len().div_ceil(4096) + 1);
    checks.equal("each open file has its own offset", own_offsets, true);
    let start = milliseconds();
    let mut released = 0;
    for name in held.iter().filter(|name| **name != 0) {
        if port_deallocate(task_self(), *name).is_ok() {
            released += 1;
        }
    }
    println!("fs-system: the rest closed in {} ms", milliseconds() - start);
    checks.equal("every other right released", released + answering, opened);
    let _ = vm_deallocate(task_self(), space.as_ptr() as u64, (OPEN_FILES * 4) as u64);
    checks.equal(
        "the server serves after 65,536 closes",
        open(root, b"/etc/passwd", READ_ONLY)
            .map_err(|_| ())
            .and_then(|mut file| file.read(5).map_err(|_| ()))
            .map(|data| data.as_slice() == b"root:"),
        Ok(true),
    );
}

fn mapped_file(checks: &mut Checks, root: &mut fs::Client) {
    let _ = root.make_directory(b"/fs-system", 0o755);
    let Ok(mut file) = open(root, b"/fs-system/mapped", CREATE | TRUNCATE | READ_WRITE) else {
        checks.equal("create the file to map", false, true);
        return;
    };
    let Some(contents) = memory(MAPPED_PAGES) else { return };
    for (index, byte) in contents.iter_mut().enumerate() {
        *byte = pattern(index);
    }
    checks.equal("the file written", file.write_large(contents).map_err(|_| ()), Ok((MAPPED_PAGES * PAGE) as u32));
    let Ok(reply) = file.map(true) else {
        checks.equal("io.map", false, true);
        return;
    };
    let size = (MAPPED_PAGES * PAGE) as u64;
    let Ok(address) = vm_map(task_self(), size, reply.object.name(), 0) else {
        checks.equal("vm_map of the file's object", false, true);
        return;
    };
    // SAFETY: `vm_map` just mapped `size` bytes of the file's memory
    // object read-write at `address` in this task; nothing else uses that
    // range, and it stays mapped until the `vm_deallocate` below, after
    // the last use of this slice.
    let mapping = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, size as usize) };
    checks.equal(
        "the mapping reads the file (pages from the file server)",
        mapping.iter().enumerate().all(|(index, byte)| *byte == pattern(index)),
        true,
    );
    mapping[PAGE..PAGE + MAPPED_WRITE.len()].copy_from_slice(MAPPED_WRITE);
    checks.equal("msync", file.map_sync(0, size, false).map_err(|_| ()), Ok(()));
    checks.equal(
        "a write to the mapping reaches the file",
        file.read_at(PAGE as u64, MAPPED_WRITE.len() as u32)
            .map(|data| data.as_slice() == MAPPED_WRITE)
            .map_err(|_| ()),
        Ok(true),
    );
    checks.equal(
        "a write to the file",
        file.write_at(2 * PAGE as u64, SERVER_WRITE).map_err(|_| ()),
        Ok(SERVER_WRITE.len() as u32),
    );
    checks.equal(
        "a write to the file reaches the mapping",
        &mapping[2 * PAGE..2 * PAGE + SERVER_WRITE.len()] == SERVER_WRITE,
        true,
    );
    checks.equal("the rest of the mapping unchanged", mapping[PAGE - 1] == pattern(PAGE - 1), true);
    let _ = vm_deallocate(task_self(), address, size);
    checks.equal("fsync", file.sync(false).map_err(|_| ()), Ok(()));
}

/// The second disk as the test made it: `/good.txt`, `/bad-directory`
/// (its block garbage), `/bad-map` (its first block pointer past the end).
fn second_disk(checks: &mut Checks, root: &mut fs::Client) {
    let error = |result: Result<(), CallError<fs::Error>>| result.err();
    let _ = root.make_directory(b"/mnt", 0o755);
    checks.equal("mount /dev/vdb read-write", root.mount(b"/dev/vdb", b"/mnt", "ext2", false), Ok(()));
    let good =
        open(root, b"/mnt/good.txt", READ_ONLY).map_err(|_| ()).and_then(|mut file| file.read(64).map_err(|_| ()));
    checks.equal("a file of the second disk", good.map(|data| data.as_slice() == b"a good file\n"), Ok(true));
    let line = b"written on the second disk\n";
    let written = open(root, b"/mnt/second.txt", CREATE | TRUNCATE | WRITE_ONLY)
        .map_err(|_| ())
        .and_then(|mut file| file.write(line).map_err(|_| ()));
    checks.equal("a file written on the second disk", written, Ok(line.len() as u32));
    checks.equal(
        "a garbage directory block is EIO",
        root.stat(b"/mnt/bad-directory/anything", true).err(),
        Some(CallError::Interface(fs::Error::InputOutput)),
    );
    let bad_map = open(root, b"/mnt/bad-map", READ_ONLY).map_err(|_| ()).and_then(|mut file| match file.read(64) {
        Err(CallError::Interface(io::Error::InputOutput)) => Ok(()),
        _ => Err(()),
    });
    checks.equal("a block map past the disk's end is EIO", bad_map, Ok(()));
    checks.equal(
        "the server goes on after the damage",
        root.stat(b"/mnt/good.txt", true).map(|status| status.file_size).map_err(|_| ()),
        Ok(12),
    );
    checks.equal(
        "/proc/mounts lists /dev/vdb on /mnt",
        mount_list(root).map(|list| list.contains(b"\n/dev/vdb /mnt ext2 rw 0 0\n")),
        Ok(true),
    );
    checks.equal("unmount /mnt", root.unmount(b"/mnt"), Ok(()));
    checks.equal("/proc/mounts no longer lists /mnt", mount_list(root).map(|list| list.contains(b" /mnt ")), Ok(false));
    checks.equal("mount /dev/vdb read-only", root.mount(b"/dev/vdb", b"/mnt", "ext2", true), Ok(()));
    checks.equal(
        "/proc/mounts says read-only",
        mount_list(root).map(|list| list.contains(b"\n/dev/vdb /mnt ext2 ro 0 0\n")),
        Ok(true),
    );
    checks.equal(
        "a read-only mount refuses changes",
        open(root, b"/mnt/refused", CREATE | WRITE_ONLY).err(),
        Some(CallError::Interface(fs::Error::ReadOnlyFileSystem)),
    );
    checks.equal(
        "the file written before is there",
        root.stat(b"/mnt/second.txt", true).map(|status| status.file_size).map_err(|_| ()),
        Ok(line.len() as i64),
    );
    checks.equal("unmount the read-only mount", root.unmount(b"/mnt"), Ok(()));
    // Wipe the superblock through the raw disk, then put it back.
    let Ok(mut disk) = open(root, b"/dev/vdb", READ_WRITE) else {
        checks.equal("open /dev/vdb", false, true);
        return;
    };
    let Ok(saved) = disk.read_at(1024, 1024) else {
        checks.equal("read the superblock", false, true);
        return;
    };
    checks.equal("wipe the superblock", disk.write_at(1024, &[0; 1024]).map_err(|_| ()), Ok(1024));
    checks.equal("sync /dev/vdb", disk.sync(false).map_err(|_| ()), Ok(()));
    drop(disk);
    checks.equal(
        "a disk without a superblock does not mount",
        error(root.mount(b"/dev/vdb", b"/mnt", "ext2", false)),
        Some(CallError::Interface(fs::Error::InvalidArgument)),
    );
    checks.equal("the server goes on after the refused mount", root.stat(b"/etc/passwd", true).is_ok(), true);
    let restored = open(root, b"/dev/vdb", READ_WRITE)
        .map_err(|_| ())
        .and_then(|mut disk| disk.write_at(1024, saved.as_slice()).map_err(|_| ()));
    checks.equal("the superblock restored", restored, Ok(1024));
    checks.equal("the restored disk mounts", root.mount(b"/dev/vdb", b"/mnt", "ext2", false), Ok(()));
    checks.equal("and unmounts", root.unmount(b"/mnt"), Ok(()));
}

fn main(bootstrap_port: u64) {
    let mut checks = Checks::new("fs-system");
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        return;
    };
    let Some(mut root) =
        names.lookup_wait("fs", 60_000).ok().and_then(|right| fs::Client::new(&SystemKernel, right).ok())
    else {
        checks.equal("file server found", false, true);
        checks.finish();
        return;
    };
    mounts(&mut checks, &mut root);
    console(&mut checks, &mut root);
    println!("fs-system: a mapped file");
    mapped_file(&mut checks, &mut root);
    println!("fs-system: a second disk, damaged");
    second_disk(&mut checks, &mut root);
    println!("fs-system: 65,536 open files");
    many_open_files(&mut checks, &mut root);
    checks.equal("sync", root.sync(), Ok(()));
    checks.equal("shutdown", root.shutdown(), Ok(()));
    checks.finish();
}
