//! A crash under the whole server: every disk write of a workload (files
//! created, written, fsync'd, renamed, removed, a 2 MiB file, many small
//! ones) is recorded, block by block, and cut at many points; each prefix
//! is an image as the disk would be after the machine died there. For every
//! one, `e2fsck -fy` must repair it (exit 0 or 1), `e2fsck -fn` must then
//! find it clean, and every file that was fsync'd and not changed since
//! must read back byte for byte. Needs e2fsprogs (scripts/tests/file-server
//! runs it with `--features interop`).
#![cfg(feature = "interop")]

mod support;

use std::cell::RefCell;
use std::process::Command;
use std::rc::Rc;

use ext2::{BlockDevice, DeviceError, Filesystem, MemoryDevice, MountOptions};
use mach_vfs::server::records::open_flags;
use mach_vfs::server::{Disks, FileServer, ServerOptions};
use mach_vfs::Errno;
use support::*;

/// One block written, in order.
type Log = Rc<RefCell<Vec<(u64, Vec<u8>)>>>;

#[derive(Clone)]
struct RecordingDevice {
    inner: SharedDevice,
    log: Log,
}

impl BlockDevice for RecordingDevice {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.inner.read_at(offset, buffer)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        // A run written at once may reach the disk only in part: log it
        // block by block, so a cut can fall inside it.
        for (index, block) in data.chunks(1024).enumerate() {
            self.log.borrow_mut().push((offset + index as u64 * 1024, block.to_vec()));
        }
        self.inner.write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

struct RecordingDisks(RecordingDevice);

impl Disks for RecordingDisks {
    fn open(&mut self, index: u32) -> Result<Box<dyn BlockDevice>, Errno> {
        if index == 0 {
            Ok(Box::new(self.0.clone()))
        } else {
            Err(Errno::NoSuchDeviceOrAddress)
        }
    }
}

/// A file known durable: its contents when its fsync returned, and the log
/// length then.
struct Synced {
    path: String,
    contents: Vec<u8>,
    after_write: usize,
}

fn bytes(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn workload(server: &mut FileServer, log: &Log) -> Vec<Synced> {
    let request = root_request();
    let root = 1;
    let mut synced = Vec::new();
    let mut handle = 100;
    let mut create = |server: &mut FileServer, path: &str, contents: &[u8]| -> u64 {
        handle += 1;
        let flags = open_flags::CREATE | open_flags::TRUNCATE | open_flags::READ_WRITE;
        server.open(&request, root, path.as_bytes(), flags, 0o644, handle).unwrap();
        let mut written = 0;
        while written < contents.len() {
            let end = (written + 8192).min(contents.len());
            match server.write(&request, handle, &contents[written..end]).unwrap() {
                mach_vfs::server::Answer::Now(count) => written += count,
                mach_vfs::server::Answer::Later(_) => unreachable!("files never wait"),
            }
        }
        handle
    };
    server.make_directory(&request, root, b"/work", 0o755).unwrap();
    server.make_directory(&request, root, b"/work/small", 0o755).unwrap();
    for index in 0..12u64 {
        let path = format!("/work/file{index}");
        let contents = bytes(index, (index as usize * 37_000) % 200_000 + 10);
        let file = create(server, &path, &contents);
        if index % 3 == 0 {
            server.sync_file(file, TIME).unwrap();
            synced.push(Synced { path, contents, after_write: log.borrow().len() });
        }
        server.release(file, TIME).unwrap();
        for small in 0..20 {
            let file = create(server, &format!("/work/small/s{index}-{small}"), b"tiny");
            server.release(file, TIME).unwrap();
        }
    }
    let big_contents = bytes(99, 2 << 20);
    let big = create(server, "/work/big", &big_contents);
    server.sync_file(big, TIME).unwrap();
    synced.push(Synced { path: "/work/big".into(), contents: big_contents, after_write: log.borrow().len() });
    server.release(big, TIME).unwrap();
    // Changes after the syncs, to files that were not synced.
    server.rename(&request, root, b"/work/file1", root, b"/work/renamed").unwrap();
    server.remove(&request, root, b"/work/file2", false).unwrap();
    for index in 0..10 {
        server.remove(&request, root, format!("/work/small/s3-{index}").as_bytes(), false).unwrap();
    }
    let file = create(server, "/work/late", &bytes(7, 90_000));
    server.truncate(&request, file, 1000).unwrap();
    server.release(file, TIME).unwrap();
    server.sync_all(TIME).unwrap();
    synced
}

fn e2fsck(arguments: &[&str]) -> (i32, String) {
    let output = Command::new("e2fsck")
        .args(arguments)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .expect("e2fsck (e2fsprogs) must be installed");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_crash_anywhere_in_a_server_workload_is_repairable_and_synced_files_survive() {
    let base = SharedDevice::formatted(16 << 20);
    let base_bytes = base.bytes();
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let device = RecordingDevice { inner: base.clone(), log: log.clone() };
    let mut server = FileServer::with_root_disk(
        Box::new(RecordingDisks(device)),
        0,
        b"seed",
        ServerOptions { cache_bytes: 256 << 10, ..ServerOptions::default() },
        TIME,
    )
    .unwrap();
    server.install_root(1).unwrap();
    let synced = workload(&mut server, &log);
    drop(server);
    let writes = log.borrow().clone();
    let directory = std::env::temp_dir().join(format!("mach-vfs-crash-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let image = directory.join("image");
    let cuts = 48;
    for cut in (0..=cuts).map(|step| step * writes.len() / cuts) {
        let mut bytes = base_bytes.clone();
        for (offset, data) in &writes[..cut] {
            bytes[*offset as usize..*offset as usize + data.len()].copy_from_slice(data);
        }
        std::fs::write(&image, &bytes).unwrap();
        let path = image.to_str().unwrap();
        let (code, output) = e2fsck(&["-fy", path]);
        assert!(
            code == 0 || code == 1,
            "crash after {cut} of {} writes: e2fsck -fy exit {code}:\n{output}",
            writes.len()
        );
        let (code, output) = e2fsck(&["-fn", path]);
        assert_eq!(code, 0, "crash after {cut} writes: not clean after repair:\n{output}");
        let repaired = std::fs::read(&image).unwrap();
        let mut filesystem = Filesystem::mount(MemoryDevice::from_bytes(repaired), MountOptions::default()).unwrap();
        for file in synced.iter().filter(|file| file.after_write <= cut) {
            let inode = filesystem
                .resolve(file.path.as_bytes())
                .unwrap_or_else(|error| panic!("crash after {cut} writes: synced {} lost: {error}", file.path));
            let mut contents = vec![0u8; file.contents.len() + 1];
            let length = filesystem.read(inode, 0, &mut contents).unwrap();
            assert_eq!(length, file.contents.len(), "crash after {cut} writes: {} size", file.path);
            assert!(contents[..length] == file.contents[..], "crash after {cut} writes: {} differs", file.path);
        }
    }
    let _ = std::fs::remove_dir_all(&directory);
}

#[test]
fn after_a_clean_shutdown_e2fsck_is_clean_and_debugfs_reads_what_was_written() {
    let disk = SharedDevice::formatted(16 << 20);
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let device = RecordingDevice { inner: disk.clone(), log: log.clone() };
    let mut server =
        FileServer::with_root_disk(Box::new(RecordingDisks(device)), 0, b"seed", ServerOptions::default(), TIME)
            .unwrap();
    server.install_root(1).unwrap();
    let synced = workload(&mut server, &log);
    server.shutdown(TIME).unwrap();
    drop(server);
    let directory = std::env::temp_dir().join(format!("mach-vfs-clean-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let image = directory.join("image");
    std::fs::write(&image, disk.bytes()).unwrap();
    let path = image.to_str().unwrap();
    let (code, output) = e2fsck(&["-fn", path]);
    assert_eq!(code, 0, "e2fsck -fn after a clean shutdown:\n{output}");
    for file in &synced {
        let dumped = directory.join("dumped");
        let _ = std::fs::remove_file(&dumped);
        let status = Command::new("debugfs")
            .args(["-R", &format!("dump {} {}", file.path, dumped.to_str().unwrap()), path])
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .expect("debugfs (e2fsprogs) must be installed");
        assert!(status.status.success());
        assert!(std::fs::read(&dumped).unwrap() == file.contents, "debugfs reads {} differently", file.path);
    }
    let listing = Command::new("debugfs")
        .args(["-R", "ls -l /work/small", path])
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listing.stdout);
    assert_eq!(text.matches(" s").count(), 12 * 20 - 10, "{text}");
    let _ = std::fs::remove_dir_all(&directory);
}
