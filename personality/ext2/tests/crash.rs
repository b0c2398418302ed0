//! Crash consistency: record every device write of a workload, cut the
//! sequence at many points (a crash), and check that `e2fsck -fy` repairs
//! every prefix, after which `e2fsck -fn` finds the file system clean.
#![cfg(feature = "interop")]

mod support;

use ext2::{format, BlockDevice, DeviceError, Filesystem, FormatOptions, MemoryDevice, MountOptions, ROOT_INODE};
use support::{assert_e2fsck_clean, run_tool, scratch, Random};

/// Applies writes and remembers them in order.
struct RecordingDevice {
    inner: MemoryDevice,
    writes: Vec<(u64, Vec<u8>)>,
}

impl BlockDevice for RecordingDevice {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.inner.read_at(offset, buffer)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        self.writes.push((offset, data.to_vec()));
        self.inner.write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

fn base_image() -> Vec<u8> {
    let mut device = MemoryDevice::new(8 << 20);
    format(&mut device, &FormatOptions { block_size: 1024, time: 10, ..FormatOptions::default() }).unwrap();
    let mut filesystem = Filesystem::mount(device, MountOptions { time: 11, ..MountOptions::default() }).unwrap();
    let directory = filesystem.make_directory(ROOT_INODE, b"old", 0o755, 0, 0, 11).unwrap();
    for index in 0..20 {
        let file = filesystem.create(directory, format!("f{index}").as_bytes(), 0o644, 0, 0, 11).unwrap();
        filesystem.write(file, 0, &vec![index as u8; 1000 * index], 11).unwrap();
    }
    filesystem.unmount().unwrap().into_bytes()
}

fn workload(filesystem: &mut Filesystem<RecordingDevice>, sync_between: bool) {
    let mut random = Random::new(3);
    let old = filesystem.lookup(ROOT_INODE, b"old").unwrap();
    let new = filesystem.make_directory(ROOT_INODE, b"new", 0o755, 0, 0, 20).unwrap();
    for index in 0..10u32 {
        let file = filesystem.create(new, format!("n{index}").as_bytes(), 0o644, 0, 0, 21).unwrap();
        let length = random.below(300_000) as usize;
        filesystem.write(file, 0, &random.bytes(length), 21).unwrap();
        if sync_between {
            filesystem.sync().unwrap();
        }
    }
    filesystem.rename(old, b"f3", new, b"moved", 22).unwrap();
    filesystem.rename(ROOT_INODE, b"new", old, b"nested", 22).unwrap();
    filesystem.unlink(old, b"f5", 23).unwrap();
    let file = filesystem.lookup(old, b"f19").unwrap();
    filesystem.truncate(file, 100, 23).unwrap();
    filesystem.link(file, ROOT_INODE, b"hard", 23).unwrap();
    filesystem.symlink(ROOT_INODE, b"link", &[b'z'; 200], 0, 0, 23).unwrap();
    filesystem.remove_directory(ROOT_INODE, b"lost+found", 24).unwrap();
}

fn check_every_prefix(
    base: Vec<u8>,
    work: impl Fn(&mut Filesystem<RecordingDevice>, bool),
    write_through: bool,
    name: &str,
) {
    let device = RecordingDevice { inner: MemoryDevice::from_bytes(base.clone()), writes: Vec::new() };
    let options = MountOptions { write_through, cache_blocks: 64, time: 20, ..MountOptions::default() };
    let mut filesystem = Filesystem::mount(device, options).unwrap();
    work(&mut filesystem, !write_through);
    let device = filesystem.unmount().unwrap();
    let writes = device.writes;
    let directory = scratch(&format!("crash-{name}"));
    let image = directory.join("image");
    let cuts = 60usize;
    let mut checked = 0;
    for cut in (0..=cuts).map(|step| step * writes.len() / cuts) {
        let mut bytes = base.clone();
        for (offset, data) in &writes[..cut] {
            bytes[*offset as usize..*offset as usize + data.len()].copy_from_slice(data);
        }
        std::fs::write(&image, &bytes).unwrap();
        let output = std::process::Command::new("e2fsck")
            .args(["-fy", image.to_str().unwrap()])
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .expect("e2fsck");
        let code = output.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "{name}: crash after {cut} of {} writes: e2fsck -fy exit {code}:\n{}",
            writes.len(),
            String::from_utf8_lossy(&output.stdout)
        );
        assert_e2fsck_clean(&image);
        checked += 1;
    }
    assert!(checked > 10);
    let (clean, _) = run_tool("e2fsck", &["-fn", image.to_str().unwrap()]);
    assert!(clean);
}

#[test]
fn a_crash_at_any_write_is_repairable_write_through() {
    check_every_prefix(base_image(), workload, true, "write-through");
}

#[test]
fn a_crash_at_any_write_is_repairable_write_back() {
    check_every_prefix(base_image(), workload, false, "write-back");
}

/// An image made by mke2fs whose /indexed directory e2fsck -D indexed.
fn indexed_base_image() -> Vec<u8> {
    let directory = scratch("crash-htree-base");
    let tree = directory.join("tree");
    std::fs::create_dir_all(tree.join("indexed")).unwrap();
    for index in 0..400 {
        std::fs::write(tree.join("indexed").join(format!("entry-{index:05}")), b"").unwrap();
    }
    let image = directory.join("image");
    let (success, output) = run_tool(
        "mke2fs",
        &[
            "-q",
            "-F",
            "-t",
            "ext2",
            "-b",
            "1024",
            "-N",
            "8192",
            "-d",
            tree.to_str().unwrap(),
            image.to_str().unwrap(),
            "16M",
        ],
    );
    assert!(success, "{output}");
    let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
    std::fs::read(&image).unwrap()
}

/// Insertions that split htree leaves and grow the index, and removals.
fn indexed_workload(filesystem: &mut Filesystem<RecordingDevice>, sync_between: bool) {
    let indexed = filesystem.resolve(b"/indexed").unwrap();
    for index in 0..3000 {
        filesystem
            .create(indexed, format!("added-{index}-{}", "q".repeat(index % 25)).as_bytes(), 0o644, 0, 0, 30)
            .unwrap();
        if sync_between && index % 500 == 0 {
            filesystem.sync().unwrap();
        }
    }
    for index in (0..400).step_by(3) {
        filesystem.unlink(indexed, format!("entry-{index:05}").as_bytes(), 31).unwrap();
    }
    assert_ne!(filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "the index must stay");
}

#[test]
fn a_crash_while_an_htree_index_grows_is_repairable() {
    check_every_prefix(indexed_base_image(), indexed_workload, true, "htree-write-through");
    check_every_prefix(indexed_base_image(), indexed_workload, false, "htree-write-back");
}
