//! Behaviour of single operations: errors, edge cases, counts, state flag.

use ext2::{
    format, BlockDevice, DeviceError, Error, FileKind, Filesystem, FormatOptions, MemoryDevice, MountOptions,
    SetAttributes, ROOT_INODE,
};

fn fresh(block_size: u32) -> Filesystem<MemoryDevice> {
    let mut device = MemoryDevice::new(8 << 20);
    format(&mut device, &FormatOptions { block_size, time: 100, ..FormatOptions::default() }).unwrap();
    Filesystem::mount(device, MountOptions { time: 101, ..MountOptions::default() }).unwrap()
}

#[test]
fn format_makes_root_and_lost_and_found() {
    let mut filesystem = fresh(1024);
    let entries = filesystem.read_directory(ROOT_INODE).unwrap();
    let names: Vec<&[u8]> = entries.iter().map(|entry| entry.name.as_slice()).collect();
    assert_eq!(names, [&b"."[..], b"..", b"lost+found"]);
    let lost_and_found = filesystem.lookup(ROOT_INODE, b"lost+found").unwrap();
    assert_eq!(lost_and_found, 11);
    let metadata = filesystem.metadata(lost_and_found).unwrap();
    assert_eq!((metadata.size, metadata.permissions), (16384, 0o700));
    assert_eq!(filesystem.metadata(ROOT_INODE).unwrap().links, 3);
    filesystem.verify_free_counts().unwrap();
}

#[test]
fn holes_read_as_zeros_and_truncate_zeroes_the_tail() {
    let mut filesystem = fresh(1024);
    let file = filesystem.create(ROOT_INODE, b"f", 0o644, 0, 0, 1).unwrap();
    filesystem.write(file, 10_000, b"abc", 2).unwrap();
    let mut buffer = vec![0xAAu8; 10_003];
    assert_eq!(filesystem.read(file, 0, &mut buffer).unwrap(), 10_003);
    assert!(buffer[..10_000].iter().all(|&byte| byte == 0));
    assert_eq!(&buffer[10_000..], b"abc");
    assert_eq!(filesystem.metadata(file).unwrap().sectors, 2, "one data block only");
    filesystem.write(file, 0, &[9u8; 5000], 3).unwrap();
    filesystem.truncate(file, 100, 4).unwrap();
    filesystem.truncate(file, 5000, 5).unwrap();
    let mut buffer = vec![0xAAu8; 5000];
    filesystem.read(file, 0, &mut buffer).unwrap();
    assert!(buffer[..100].iter().all(|&byte| byte == 9));
    assert!(buffer[100..].iter().all(|&byte| byte == 0), "bytes past a truncation must read as zero");
    assert_eq!(filesystem.read(file, 5000, &mut buffer).unwrap(), 0);
}

#[test]
fn free_counts_stay_exact() {
    let mut filesystem = fresh(1024);
    let before = filesystem.statistics();
    let file = filesystem.create(ROOT_INODE, b"f", 0o644, 0, 0, 1).unwrap();
    // 12 direct + 1 indirect + 20 more data blocks.
    filesystem.write(file, 0, &[1u8; 32 * 1024], 2).unwrap();
    let during = filesystem.statistics();
    assert_eq!(before.free_blocks - during.free_blocks, 33);
    assert_eq!(before.free_inodes - during.free_inodes, 1);
    filesystem.verify_free_counts().unwrap();
    filesystem.unlink(ROOT_INODE, b"f", 3).unwrap();
    assert_eq!(filesystem.statistics(), before);
    filesystem.verify_free_counts().unwrap();
}

#[test]
fn files_are_contiguous_with_their_indirect_blocks() {
    // Regression: indirect blocks were allocated after the data block they
    // map, splitting every file at block 12.
    let mut filesystem = fresh(1024);
    let file = filesystem.create(ROOT_INODE, b"f", 0o644, 0, 0, 1).unwrap();
    filesystem.write(file, 0, &[1u8; 300 * 1024], 2).unwrap();
    let device = filesystem.unmount().unwrap();
    let metadata_sectors = {
        let mut filesystem = Filesystem::mount(device, MountOptions::default()).unwrap();
        filesystem.metadata(file).unwrap().sectors
    };
    // 300 data blocks, 1 indirect, 1 double indirect, 1 second-level indirect.
    assert_eq!(metadata_sectors, 2 * 303);
}

#[test]
fn directory_rules() {
    let mut filesystem = fresh(2048);
    let a = filesystem.make_directory(ROOT_INODE, b"a", 0o755, 0, 0, 1).unwrap();
    let b = filesystem.make_directory(a, b"b", 0o755, 0, 0, 1).unwrap();
    assert_eq!(filesystem.rename(ROOT_INODE, b"a", b, b"inside", 2), Err(Error::RenameIntoSubtree));
    assert_eq!(filesystem.rename(ROOT_INODE, b"a", a, b"self", 2), Err(Error::RenameIntoSubtree));
    assert_eq!(filesystem.unlink(ROOT_INODE, b"a", 2), Err(Error::IsADirectory));
    assert_eq!(filesystem.remove_directory(ROOT_INODE, b"a", 2), Err(Error::DirectoryNotEmpty));
    assert_eq!(filesystem.make_directory(a, b"b", 0o755, 0, 0, 1), Err(Error::AlreadyExists));
    assert_eq!(filesystem.create(a, &[b'x'; 256], 0o644, 0, 0, 1), Err(Error::NameTooLong));
    assert_eq!(filesystem.create(a, b"x/y", 0o644, 0, 0, 1), Err(Error::InvalidName));
    assert_eq!(filesystem.create(a, b"..", 0o644, 0, 0, 1), Err(Error::InvalidName));
    assert_eq!(filesystem.link(a, ROOT_INODE, b"hard", 1), Err(Error::IsADirectory));
    let file = filesystem.create(b, b"file", 0o644, 0, 0, 1).unwrap();
    assert_eq!(filesystem.lookup(file, b"x"), Err(Error::NotADirectory));
    assert_eq!(filesystem.read_directory(file), Err(Error::NotADirectory));
    // Moving b up changes both parents' link counts and b's "..".
    filesystem.rename(a, b"b", ROOT_INODE, b"b", 3).unwrap();
    assert_eq!(filesystem.metadata(a).unwrap().links, 2);
    assert_eq!(filesystem.metadata(ROOT_INODE).unwrap().links, 5);
    assert_eq!(filesystem.lookup(b, b"..").unwrap(), ROOT_INODE);
    filesystem.remove_directory(ROOT_INODE, b"a", 4).unwrap();
    assert_eq!(filesystem.metadata(ROOT_INODE).unwrap().links, 4);
    assert_eq!(filesystem.lookup(ROOT_INODE, b"a"), Err(Error::NotFound));
}

#[test]
fn deleting_entries_coalesces_directory_space() {
    let mut filesystem = fresh(1024);
    let directory = filesystem.make_directory(ROOT_INODE, b"d", 0o755, 0, 0, 1).unwrap();
    for index in 0..200 {
        filesystem.create(directory, format!("file-number-{index}").as_bytes(), 0o644, 0, 0, 1).unwrap();
    }
    let grown = filesystem.metadata(directory).unwrap().size;
    for index in 0..200 {
        filesystem.unlink(directory, format!("file-number-{index}").as_bytes(), 2).unwrap();
    }
    // The freed space is reused: the directory does not grow again.
    for index in 0..200 {
        filesystem.create(directory, format!("other-name-{index:05}").as_bytes(), 0o644, 0, 0, 3).unwrap();
    }
    assert_eq!(filesystem.metadata(directory).unwrap().size, grown);
    assert_eq!(filesystem.read_directory(directory).unwrap().len(), 202);
}

#[test]
fn symlinks_and_path_resolution() {
    let mut filesystem = fresh(1024);
    let directory = filesystem.make_directory(ROOT_INODE, b"usr", 0o755, 0, 0, 1).unwrap();
    let file = filesystem.create(directory, b"file", 0o644, 0, 0, 1).unwrap();
    filesystem.symlink(ROOT_INODE, b"relative", b"usr/file", 0, 0, 1).unwrap();
    filesystem.symlink(directory, b"absolute", b"/usr/file", 0, 0, 1).unwrap();
    let long_target = format!("/{}usr/file", "./".repeat(60));
    let slow = filesystem.symlink(ROOT_INODE, b"slow", long_target.as_bytes(), 0, 0, 1).unwrap();
    filesystem.symlink(ROOT_INODE, b"loop1", b"loop2", 0, 0, 1).unwrap();
    filesystem.symlink(ROOT_INODE, b"loop2", b"loop1", 0, 0, 1).unwrap();
    filesystem.symlink(ROOT_INODE, b"dir-link", b"usr", 0, 0, 1).unwrap();
    assert_eq!(filesystem.resolve(b"/relative").unwrap(), file);
    assert_eq!(filesystem.resolve(b"/usr/absolute").unwrap(), file);
    assert_eq!(filesystem.resolve(b"/slow").unwrap(), file);
    assert_eq!(filesystem.resolve(b"/dir-link/file").unwrap(), file);
    assert_eq!(filesystem.resolve(b"/usr/../usr/./file").unwrap(), file);
    assert_eq!(filesystem.resolve(b"/loop1"), Err(Error::SymlinkLoop));
    assert_eq!(filesystem.resolve(b"/usr/file/x"), Err(Error::NotADirectory));
    assert_eq!(filesystem.read_link(slow).unwrap(), long_target.as_bytes());
    assert_eq!(filesystem.metadata(slow).unwrap().sectors, 2);
    let relative = filesystem.resolve_no_follow(b"/relative").unwrap();
    assert_eq!(filesystem.metadata(relative).unwrap().kind, FileKind::Symlink);
    assert_eq!(filesystem.metadata(relative).unwrap().sectors, 0, "short targets are fast symlinks");
    assert_eq!(filesystem.read_link(file), Err(Error::NotASymlink));
    let (parent, name) = filesystem.resolve_parent(b"/usr/new-name/").unwrap();
    assert_eq!((parent, name.as_slice()), (directory, &b"new-name"[..]));
    let before = filesystem.statistics();
    filesystem.unlink(ROOT_INODE, b"slow", 2).unwrap();
    assert_eq!(filesystem.statistics().free_blocks, before.free_blocks + 1);
}

#[test]
fn special_files_and_attributes() {
    let mut filesystem = fresh(4096);
    let tty =
        filesystem.make_node_of_kind(ROOT_INODE, b"tty", FileKind::CharacterDevice, 0o620, (4, 1), 0, 5, 1).unwrap();
    let disk =
        filesystem.make_node_of_kind(ROOT_INODE, b"vda", FileKind::BlockDevice, 0o660, (254, 300), 0, 6, 1).unwrap();
    let fifo = filesystem.make_node_of_kind(ROOT_INODE, b"fifo", FileKind::Fifo, 0o600, (0, 0), 0, 0, 1).unwrap();
    assert_eq!(filesystem.metadata(tty).unwrap().device, Some((4, 1)));
    assert_eq!(filesystem.metadata(disk).unwrap().device, Some((254, 300)));
    assert_eq!(filesystem.metadata(fifo).unwrap().kind, FileKind::Fifo);
    assert!(filesystem.read(fifo, 0, &mut [0u8; 4]).is_err());
    let attributes = SetAttributes {
        permissions: Some(0o4711),
        uid: Some(70_000),
        gid: Some(80_000),
        modification_time: Some(42),
        ..SetAttributes::default()
    };
    filesystem.set_attributes(tty, attributes).unwrap();
    let metadata = filesystem.metadata(tty).unwrap();
    assert_eq!(
        (metadata.permissions, metadata.uid, metadata.gid, metadata.modification_time),
        (0o4711, 70_000, 80_000, 42)
    );
    assert_eq!(metadata.kind, FileKind::CharacterDevice);
    let before = filesystem.statistics();
    filesystem.unlink(ROOT_INODE, b"vda", 2).unwrap();
    assert_eq!(filesystem.statistics().free_inodes, before.free_inodes + 1);
    assert_eq!(filesystem.statistics().free_blocks, before.free_blocks);
}

#[test]
fn hard_links_count_and_the_last_unlink_frees() {
    let mut filesystem = fresh(1024);
    let before = filesystem.statistics();
    let file = filesystem.create(ROOT_INODE, b"one", 0o644, 0, 0, 1).unwrap();
    filesystem.write(file, 0, b"shared", 1).unwrap();
    filesystem.link(file, ROOT_INODE, b"two", 2).unwrap();
    assert_eq!(filesystem.link(file, ROOT_INODE, b"two", 2), Err(Error::AlreadyExists));
    assert_eq!(filesystem.metadata(file).unwrap().links, 2);
    filesystem.unlink(ROOT_INODE, b"one", 3).unwrap();
    let mut buffer = [0u8; 6];
    let two = filesystem.lookup(ROOT_INODE, b"two").unwrap();
    filesystem.read(two, 0, &mut buffer).unwrap();
    assert_eq!(&buffer, b"shared");
    filesystem.unlink(ROOT_INODE, b"two", 4).unwrap();
    assert_eq!(filesystem.statistics(), before);
}

#[test]
fn rename_replaces_targets_atomically() {
    let mut filesystem = fresh(1024);
    let first = filesystem.create(ROOT_INODE, b"first", 0o644, 0, 0, 1).unwrap();
    filesystem.create(ROOT_INODE, b"second", 0o644, 0, 0, 1).unwrap();
    let directory = filesystem.make_directory(ROOT_INODE, b"dir", 0o755, 0, 0, 1).unwrap();
    let empty = filesystem.make_directory(ROOT_INODE, b"empty", 0o755, 0, 0, 1).unwrap();
    assert_eq!(filesystem.rename(ROOT_INODE, b"first", ROOT_INODE, b"dir", 2), Err(Error::IsADirectory));
    assert_eq!(filesystem.rename(ROOT_INODE, b"dir", ROOT_INODE, b"second", 2), Err(Error::NotADirectory));
    let before = filesystem.statistics();
    filesystem.rename(ROOT_INODE, b"first", ROOT_INODE, b"second", 2).unwrap();
    assert_eq!(filesystem.lookup(ROOT_INODE, b"second").unwrap(), first);
    assert_eq!(filesystem.statistics().free_inodes, before.free_inodes + 1);
    filesystem.rename(ROOT_INODE, b"dir", ROOT_INODE, b"empty", 3).unwrap();
    assert_eq!(filesystem.lookup(ROOT_INODE, b"empty").unwrap(), directory);
    assert!(filesystem.metadata(empty).is_err(), "the replaced directory is freed");
    assert_eq!(filesystem.metadata(ROOT_INODE).unwrap().links, 4);
    filesystem.rename(ROOT_INODE, b"second", ROOT_INODE, b"second", 4).unwrap();
}

#[test]
fn read_only_mounts_refuse_changes_and_leave_the_image_alone() {
    let filesystem = fresh(1024);
    let device = filesystem.unmount().unwrap();
    let image = device.bytes().to_vec();
    let mut filesystem =
        Filesystem::mount(device, MountOptions { read_only: true, ..MountOptions::default() }).unwrap();
    assert_eq!(filesystem.create(ROOT_INODE, b"f", 0o644, 0, 0, 1), Err(Error::ReadOnly));
    assert_eq!(filesystem.unlink(ROOT_INODE, b"lost+found", 1), Err(Error::ReadOnly));
    assert_eq!(filesystem.unmount().unwrap().bytes(), &image[..]);
}

#[test]
fn the_state_flag_marks_mounted_and_clean() {
    let filesystem = fresh(1024);
    let mut device = filesystem.unmount().unwrap();
    assert_eq!(device.bytes()[1024 + 58] & 1, 1, "clean after unmount");
    {
        let mut filesystem = Filesystem::mount(&mut device, MountOptions::default()).unwrap();
        filesystem.create(ROOT_INODE, b"f", 0o644, 0, 0, 1).unwrap();
        filesystem.sync().unwrap();
    }
    assert_eq!(device.bytes()[1024 + 58] & 1, 0, "not clean while mounted");
}

#[test]
fn write_through_and_write_back_give_the_same_image() {
    let run = |write_through: bool| {
        let mut device = MemoryDevice::new(4 << 20);
        format(&mut device, &FormatOptions { time: 1, ..FormatOptions::default() }).unwrap();
        let mut filesystem = Filesystem::mount(
            device,
            MountOptions { write_through, cache_blocks: 16, time: 2, ..MountOptions::default() },
        )
        .unwrap();
        for index in 0..50u32 {
            let file = filesystem.create(ROOT_INODE, format!("f{index}").as_bytes(), 0o644, 0, 0, 3).unwrap();
            filesystem.write(file, index as u64 * 1000, &[index as u8; 3000], 4).unwrap();
        }
        filesystem.unmount().unwrap().into_bytes()
    };
    assert!(run(true) == run(false));
}

#[test]
fn bad_superblocks_are_refused_with_a_clear_error() {
    let filesystem = fresh(1024);
    let image = filesystem.unmount().unwrap().into_bytes();
    let mount_with = |change: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = image.clone();
        change(&mut bytes);
        Filesystem::mount(MemoryDevice::from_bytes(bytes), MountOptions::default()).err()
    };
    assert_eq!(mount_with(&|bytes| bytes[1024 + 56] = 0), Some(Error::BadMagic));
    assert_eq!(mount_with(&|bytes| bytes[1024 + 76] = 2), Some(Error::UnsupportedRevision(2)));
    assert_eq!(mount_with(&|bytes| bytes[1024 + 24] = 3), Some(Error::UnsupportedBlockSize(8192)));
    assert_eq!(mount_with(&|bytes| bytes[1024 + 96] |= 0x40), Some(Error::UnsupportedFeature("extent")));
    assert_eq!(mount_with(&|bytes| bytes[1024 + 96] |= 0x80), Some(Error::UnsupportedFeature("64bit")));
    assert_eq!(mount_with(&|bytes| bytes[1024 + 93] |= 0x02), Some(Error::UnsupportedFeature("sparse_super2")));
    assert_eq!(mount_with(&|bytes| bytes[1024 + 96] |= 0x04), Some(Error::UnsupportedFeature("needs_recovery")));
    assert!(matches!(
        mount_with(&|bytes| bytes[1024 + 4..1024 + 8].copy_from_slice(&u32::MAX.to_le_bytes())),
        Some(Error::Corrupt(_))
    ));
    assert_eq!(mount_with(&|bytes| bytes.truncate(1500)), Some(Error::BadMagic));
    // An unknown read-only-compatible feature mounts, read-only.
    let mut bytes = image.clone();
    bytes[1024 + 103] |= 0x40;
    let mut filesystem = Filesystem::mount(MemoryDevice::from_bytes(bytes), MountOptions::default()).unwrap();
    assert!(filesystem.is_read_only());
    assert_eq!(filesystem.create(ROOT_INODE, b"f", 0o644, 0, 0, 1), Err(Error::ReadOnly));
}

/// A device that fails every write after a number of them.
struct FailingDevice {
    inner: MemoryDevice,
    writes_left: usize,
}

impl BlockDevice for FailingDevice {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.inner.read_at(offset, buffer)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        if self.writes_left == 0 {
            return Err(DeviceError::Io("injected failure"));
        }
        self.writes_left -= 1;
        self.inner.write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

#[test]
fn device_errors_are_reported() {
    let image = fresh(1024).unmount().unwrap();
    let device = FailingDevice { inner: image, writes_left: 3 };
    let mut filesystem =
        Filesystem::mount(device, MountOptions { write_through: true, ..MountOptions::default() }).unwrap();
    let mut failed = false;
    for index in 0..10 {
        if let Err(error) = filesystem.create(ROOT_INODE, format!("f{index}").as_bytes(), 0o644, 0, 0, 1) {
            assert_eq!(error, Error::Device(DeviceError::Io("injected failure")));
            failed = true;
            break;
        }
    }
    assert!(failed);
}

#[test]
fn directories_can_be_read_in_pieces_with_positions() {
    let mut filesystem = fresh(1024);
    let directory = filesystem.make_directory(ROOT_INODE, b"d", 0o755, 0, 0, 1).unwrap();
    for index in 0..150 {
        filesystem.create(directory, format!("name-{index}").as_bytes(), 0o644, 0, 0, 1).unwrap();
    }
    let whole = filesystem.read_directory(directory).unwrap();
    assert_eq!(whole.len(), 152);
    let mut pieces = Vec::new();
    let mut position = Some(0);
    let mut calls = 0;
    while let Some(at) = position {
        let (mut batch, next) = filesystem.read_directory_from(directory, at, 7).unwrap();
        assert!(batch.len() <= 7);
        pieces.append(&mut batch);
        position = next;
        calls += 1;
    }
    assert_eq!(pieces, whole);
    assert_eq!(calls, 152usize.div_ceil(7));
}

#[test]
fn unlinked_open_files_live_until_the_last_close() {
    let mut filesystem = fresh(1024);
    let before = filesystem.statistics();
    let file = filesystem.create(ROOT_INODE, b"open", 0o644, 0, 0, 1).unwrap();
    filesystem.write(file, 0, &[3u8; 5000], 1).unwrap();
    filesystem.open_inode(file).unwrap();
    filesystem.open_inode(file).unwrap();
    filesystem.unlink(ROOT_INODE, b"open", 2).unwrap();
    assert_eq!(filesystem.lookup(ROOT_INODE, b"open"), Err(Error::NotFound));
    let mut buffer = [0u8; 5000];
    assert_eq!(filesystem.read(file, 0, &mut buffer).unwrap(), 5000);
    filesystem.write(file, 5000, b"more", 3).unwrap();
    assert_eq!(filesystem.metadata(file).unwrap().links, 0);
    filesystem.close_inode(file, 4).unwrap();
    assert!(filesystem.read(file, 0, &mut buffer).is_ok(), "still open once");
    filesystem.close_inode(file, 5).unwrap();
    assert!(filesystem.metadata(file).is_err(), "freed at the last close");
    assert_eq!(filesystem.statistics(), before);
    assert!(filesystem.close_inode(file, 6).is_err());

    // A replacing rename and unmount release orphans too.
    let victim = filesystem.create(ROOT_INODE, b"victim", 0o644, 0, 0, 7).unwrap();
    filesystem.write(victim, 0, &[1u8; 3000], 7).unwrap();
    filesystem.create(ROOT_INODE, b"winner", 0o644, 0, 0, 7).unwrap();
    filesystem.open_inode(victim).unwrap();
    filesystem.rename(ROOT_INODE, b"winner", ROOT_INODE, b"victim", 8).unwrap();
    assert_eq!(filesystem.read(victim, 0, &mut buffer).unwrap(), 3000);
    let expected_free = filesystem.statistics().free_blocks + 3;
    let device = filesystem.unmount().unwrap();
    let filesystem = Filesystem::mount(device, MountOptions::default()).unwrap();
    assert_eq!(filesystem.statistics().free_blocks, expected_free);
}
