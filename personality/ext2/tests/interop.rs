//! Interoperability with Debian's e2fsprogs, both directions: images made by
//! `mke2fs`/`debugfs` are read correctly, and images written by this library
//! pass `e2fsck -fn` and read back identically through `debugfs rdump`.
//!
//! Needs mke2fs, e2fsck, debugfs and dumpe2fs: `scripts/tests/ext2-interop`
//! installs e2fsprogs and runs `cargo test -p ext2 --features interop`.
#![cfg(feature = "interop")]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ext2::{format, Error, FileKind, Filesystem, FormatOptions, MemoryDevice, MountOptions, ROOT_INODE};
use support::{assert_e2fsck_clean, assert_same_tree, host_tree, image_tree, run_tool, scratch, Random};

const TIME: u32 = 1_700_000_000;

fn load(image: &Path) -> MemoryDevice {
    MemoryDevice::from_bytes(std::fs::read(image).unwrap())
}

fn mount(image: &Path, read_only: bool) -> Result<Filesystem<MemoryDevice>, Error> {
    Filesystem::mount(load(image), MountOptions { read_only, time: TIME, ..MountOptions::default() })
}

fn save(filesystem: Filesystem<MemoryDevice>, image: &Path) {
    let device = filesystem.unmount().unwrap();
    std::fs::write(image, device.bytes()).unwrap();
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A host tree exercising every size class of the block map (1 KiB
/// blocks: direct, indirect, double indirect), names of every length,
/// symlinks fast and slow, a hard link, a wide directory and a deep one.
fn build_host_tree(root: &Path) {
    let mut random = Random::new(7);
    for (name, size) in
        [("empty", 0usize), ("one", 1), ("block", 1024), ("odd", 5000), ("indirect", 70_000), ("double", 300_000)]
    {
        std::fs::write(root.join(name), random.bytes(size)).unwrap();
    }
    set_mode(&root.join("odd"), 0o600);
    set_mode(&root.join("one"), 0o4755);
    std::fs::hard_link(root.join("odd"), root.join("odd-link")).unwrap();
    std::os::unix::fs::symlink("odd", root.join("fast-link")).unwrap();
    std::os::unix::fs::symlink("x".repeat(200), root.join("slow-link")).unwrap();
    let wide = root.join("wide");
    std::fs::create_dir(&wide).unwrap();
    for index in 0..400 {
        let name = format!("entry-{index:04}-{}", "n".repeat(index % 60));
        std::fs::write(wide.join(name), format!("file {index}\n")).unwrap();
    }
    let mut deep = root.join("deep");
    for level in 0..20 {
        deep = deep.join(format!("level{level}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom"), b"bottom of the tree\n").unwrap();
    let name_max = root.join("n".repeat(255));
    std::fs::write(name_max, b"longest name").unwrap();
    set_mode(&root.join("wide"), 0o750);
}

fn mke2fs(image: &Path, size: &str, arguments: &[&str], from: Option<&Path>) {
    let mut all = vec!["-q", "-F", "-t", "ext2"];
    all.extend_from_slice(arguments);
    if let Some(from) = from {
        all.push("-d");
        all.push(from.to_str().unwrap());
    }
    all.push(image.to_str().unwrap());
    all.push(size);
    let (success, output) = run_tool("mke2fs", &all);
    assert!(success, "mke2fs {all:?} failed:\n{output}");
}

/// `debugfs rdump` of the whole image, as a tree snapshot.
fn debugfs_tree(image: &Path, name: &str) -> support::Tree {
    let out = scratch(&format!("rdump-{name}"));
    let (success, output) =
        run_tool("debugfs", &["-R", &format!("rdump / {}", out.display()), image.to_str().unwrap()]);
    assert!(success, "debugfs rdump failed:\n{output}");
    let tree = host_tree(&out);
    std::fs::remove_dir_all(&out).unwrap();
    tree
}

#[test]
fn reads_mke2fs_images_of_every_geometry() {
    let host = scratch("geometry-host");
    build_host_tree(&host);
    let expected = host_tree(&host);
    let configurations: [(&str, &[&str]); 8] = [
        ("1k-128", &["-b", "1024", "-I", "128"]),
        ("1k-256", &["-b", "1024", "-I", "256"]),
        ("2k-256", &["-b", "2048", "-I", "256"]),
        ("4k-256", &["-b", "4096", "-I", "256"]),
        ("4k-128-noresize", &["-b", "4096", "-I", "128", "-O", "^resize_inode"]),
        ("1k-noresize-nodirindex", &["-b", "1024", "-O", "^resize_inode,^dir_index"]),
        ("revision0", &["-b", "1024", "-r", "0"]),
        ("2k-nofiletype", &["-b", "2048", "-O", "^filetype"]),
    ];
    for (name, arguments) in configurations {
        let directory = scratch(&format!("geometry-{name}"));
        let image = directory.join("image");
        mke2fs(&image, "24M", arguments, Some(&host));
        let mut filesystem = mount(&image, true).unwrap_or_else(|error| panic!("{name}: mount: {error}"));
        let actual = image_tree(&mut filesystem).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_same_tree(&expected, &actual, name);
        let path = format!("/deep/{}bottom", (0..20).map(|level| format!("level{level}/")).collect::<String>());
        let bottom = filesystem.resolve(path.as_bytes()).unwrap();
        assert_eq!(filesystem.metadata(bottom).unwrap().size, 19);
        assert_eq!(filesystem.resolve(b"/fast-link").unwrap(), filesystem.resolve(b"/odd").unwrap());
    }
}

#[test]
fn reads_nodes_made_by_debugfs() {
    let directory = scratch("debugfs-nodes");
    let image = directory.join("image");
    mke2fs(&image, "8M", &["-b", "1024"], None);
    let source = image.with_file_name("source");
    std::fs::write(&source, b"written by debugfs\n").unwrap();
    let commands = format!(
        "mkdir dev\ncd dev\nmknod tty c 4 64\nmknod sda b 8 0\ncd /\nmknod fifo p\nwrite {} file\nsymlink link /file\n",
        source.display()
    );
    let script = image.with_file_name("commands");
    std::fs::write(&script, commands).unwrap();
    let (success, output) = run_tool("debugfs", &["-w", "-f", script.to_str().unwrap(), image.to_str().unwrap()]);
    assert!(success, "debugfs failed:\n{output}");
    let mut filesystem = mount(&image, true).unwrap();
    let tty = filesystem.resolve(b"/dev/tty").unwrap();
    let metadata = filesystem.metadata(tty).unwrap();
    assert_eq!((metadata.kind, metadata.device), (FileKind::CharacterDevice, Some((4, 64))));
    let disk = filesystem.resolve(b"/dev/sda").unwrap();
    let metadata = filesystem.metadata(disk).unwrap();
    assert_eq!((metadata.kind, metadata.device), (FileKind::BlockDevice, Some((8, 0))));
    let fifo = filesystem.resolve(b"/fifo").unwrap();
    assert_eq!(filesystem.metadata(fifo).unwrap().kind, FileKind::Fifo);
    let file = filesystem.resolve(b"/link").unwrap();
    let mut buffer = [0u8; 64];
    let count = filesystem.read(file, 0, &mut buffer).unwrap();
    assert_eq!(&buffer[..count], b"written by debugfs\n");
}

/// Applies every change to a host directory and to the image alike, so the
/// host directory is the model the image must match.
struct Mirror {
    host: PathBuf,
    filesystem: Filesystem<MemoryDevice>,
    time: u32,
}

impl Mirror {
    fn tick(&mut self) -> u32 {
        self.time += 1;
        self.time
    }
    fn parent(&mut self, path: &str) -> (u32, Vec<u8>) {
        self.filesystem.resolve_parent(path.as_bytes()).unwrap_or_else(|error| panic!("{path}: {error}"))
    }
    fn make_directory(&mut self, path: &str) {
        std::fs::create_dir(self.host.join(path)).unwrap();
        set_mode(&self.host.join(path), 0o755);
        let (parent, name) = self.parent(path);
        let time = self.tick();
        self.filesystem.make_directory(parent, &name, 0o755, 0, 0, time).unwrap();
    }
    fn write(&mut self, path: &str, offset: u64, data: &[u8]) {
        use std::io::{Seek, SeekFrom, Write};
        let host_path = self.host.join(path);
        let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&host_path).unwrap();
        set_mode(&host_path, 0o644);
        file.seek(SeekFrom::Start(offset)).unwrap();
        file.write_all(data).unwrap();
        let time = self.tick();
        let inode = match self.filesystem.resolve(path.as_bytes()) {
            Ok(inode) => inode,
            Err(Error::NotFound) => {
                let (parent, name) = self.parent(path);
                self.filesystem.create(parent, &name, 0o644, 0, 0, time).unwrap()
            }
            Err(error) => panic!("{path}: {error}"),
        };
        assert_eq!(self.filesystem.write(inode, offset, data, time).unwrap(), data.len());
    }
    fn truncate(&mut self, path: &str, size: u64) {
        std::fs::OpenOptions::new().write(true).open(self.host.join(path)).unwrap().set_len(size).unwrap();
        let inode = self.filesystem.resolve(path.as_bytes()).unwrap();
        let time = self.tick();
        self.filesystem.truncate(inode, size, time).unwrap();
    }
    fn symlink(&mut self, target: &str, path: &str) {
        std::os::unix::fs::symlink(target, self.host.join(path)).unwrap();
        let (parent, name) = self.parent(path);
        let time = self.tick();
        self.filesystem.symlink(parent, &name, target.as_bytes(), 0, 0, time).unwrap();
    }
    fn link(&mut self, existing: &str, path: &str) {
        std::fs::hard_link(self.host.join(existing), self.host.join(path)).unwrap();
        let inode = self.filesystem.resolve_no_follow(existing.as_bytes()).unwrap();
        let (parent, name) = self.parent(path);
        let time = self.tick();
        self.filesystem.link(inode, parent, &name, time).unwrap();
    }
    fn unlink(&mut self, path: &str) {
        std::fs::remove_file(self.host.join(path)).unwrap();
        let (parent, name) = self.parent(path);
        let time = self.tick();
        self.filesystem.unlink(parent, &name, time).unwrap();
    }
    fn remove_directory(&mut self, path: &str) {
        std::fs::remove_dir(self.host.join(path)).unwrap();
        let (parent, name) = self.parent(path);
        let time = self.tick();
        self.filesystem.remove_directory(parent, &name, time).unwrap();
    }
    fn rename(&mut self, from: &str, to: &str) {
        std::fs::rename(self.host.join(from), self.host.join(to)).unwrap();
        let (old_parent, old_name) = self.parent(from);
        let (new_parent, new_name) = self.parent(to);
        let time = self.tick();
        self.filesystem.rename(old_parent, &old_name, new_parent, &new_name, time).unwrap();
    }
}

/// Many files, a deep tree, large and sparse files (triple indirect on
/// 1 KiB blocks), renames within and across directories, replacing
/// targets, deletions, hard links, truncations.
fn exercise(mirror: &mut Mirror, block_size: u64) {
    let mut random = Random::new(block_size);
    mirror.make_directory("many");
    for index in 0..600 {
        let length = random.below(3000) as usize;
        let contents = random.bytes(length);
        mirror.write(&format!("many/file-{index}"), 0, &contents);
    }
    for index in (0..600).step_by(3) {
        mirror.unlink(&format!("many/file-{index}"));
    }
    let mut path = String::from("deeper");
    mirror.make_directory(&path);
    for level in 0..40 {
        path = format!("{path}/d{level}");
        mirror.make_directory(&path);
    }
    mirror.write(&format!("{path}/leaf"), 0, b"leaf\n");
    let large = random.bytes(3 << 20);
    mirror.write("large", 0, &large);
    mirror.write("large", 1_000_000, &random.bytes(10_000));
    // Past 12 + 256 + 65536 blocks of 1 KiB: the triple indirect tree.
    let triple = (12 + 256 + 65536 + 100) * block_size.min(1024) + 17;
    mirror.write("sparse", triple, b"far away");
    mirror.write("sparse", 5000, b"near");
    mirror.write("shrinking", 0, &random.bytes(400_000));
    mirror.truncate("shrinking", 70_001);
    mirror.truncate("shrinking", 100_000);
    mirror.write("shrinking", 99_000, b"tail");
    mirror.symlink("large", "fast");
    mirror.symlink(&"long/".repeat(30), "slow");
    mirror.link("large", "many/large-link");
    mirror.make_directory("a");
    mirror.make_directory("a/b");
    mirror.make_directory("c");
    mirror.write("a/b/file", 0, b"moving\n");
    mirror.rename("a/b", "c/b");
    mirror.rename("c/b/file", "c/renamed");
    mirror.write("c/target", 0, b"replaced\n");
    mirror.rename("c/renamed", "c/target");
    mirror.make_directory("c/empty");
    mirror.make_directory("a/dir-to-replace");
    mirror.rename("c/empty", "a/dir-to-replace");
    mirror.rename("many/file-1", "many/file-2");
    mirror.rename("fast", "c/fast-moved");
    mirror.make_directory("gone");
    mirror.write("gone/file", 0, b"x");
    mirror.unlink("gone/file");
    mirror.remove_directory("gone");
    mirror.unlink("large");
}

fn check_written_image(mirror: Mirror, image: &Path, name: &str) {
    let expected = host_tree(&mirror.host);
    let mut filesystem = mirror.filesystem;
    let from_library = image_tree(&mut filesystem).unwrap();
    assert_same_tree(&expected, &from_library, &format!("{name}: library"));
    save(filesystem, image);
    assert_e2fsck_clean(image);
    // rdump's chown after chmod drops set-id bits on the host: compare the rest.
    assert_same_tree(
        &support::without_set_id_bits(&expected),
        &support::without_set_id_bits(&debugfs_tree(image, name)),
        &format!("{name}: debugfs"),
    );
}

#[test]
fn images_we_format_and_write_pass_e2fsck_and_debugfs_sees_the_tree() {
    for (block_size, inode_size) in [(1024u32, 128u32), (1024, 256), (2048, 128), (2048, 256), (4096, 128), (4096, 256)]
    {
        let name = format!("ours-{block_size}-{inode_size}");
        let directory = scratch(&name);
        let image = directory.join("image");
        let host = directory.join("host");
        std::fs::create_dir(&host).unwrap();
        let mut device = MemoryDevice::new(48 << 20);
        let options = FormatOptions { block_size, inode_size, time: TIME, ..FormatOptions::default() };
        format(&mut device, &options).unwrap();
        std::fs::write(&image, device.bytes()).unwrap();
        assert_e2fsck_clean(&image);
        let filesystem = Filesystem::mount(device, MountOptions { time: TIME, ..MountOptions::default() }).unwrap();
        let mut mirror = Mirror { host, filesystem, time: TIME };
        exercise(&mut mirror, block_size as u64);
        check_written_image(mirror, &image, &name);
    }
}

#[test]
fn writes_to_mke2fs_images_pass_e2fsck() {
    let configurations: [(&str, &[&str]); 4] = [
        ("mke2fs-default-1k", &["-b", "1024"]),
        ("mke2fs-4k-256", &["-b", "4096", "-I", "256"]),
        ("mke2fs-revision0", &["-b", "1024", "-r", "0"]),
        ("mke2fs-nofiletype", &["-b", "2048", "-O", "^filetype"]),
    ];
    for (name, arguments) in configurations {
        let directory = scratch(name);
        let image = directory.join("image");
        let host = directory.join("host");
        std::fs::create_dir(&host).unwrap();
        build_host_tree(&host);
        mke2fs(&image, "64M", arguments, Some(&host));
        let filesystem = mount(&image, false).unwrap();
        let mut mirror = Mirror { host, filesystem, time: TIME };
        mirror.unlink("odd-link");
        mirror.rename("wide", "deep/wide");
        let deepest = (0..20).map(|level| format!("level{level}")).collect::<Vec<_>>().join("/");
        mirror.unlink(&format!("deep/{deepest}/bottom"));
        mirror.remove_directory(&format!("deep/{deepest}"));
        exercise(&mut mirror, if name == "mke2fs-4k-256" { 4096 } else { 1024 });
        check_written_image(mirror, &image, name);
    }
}

#[test]
fn indexed_directories_are_read_and_written() {
    let directory = scratch("htree");
    let host = directory.join("host");
    let image = directory.join("image");
    std::fs::create_dir_all(host.join("indexed")).unwrap();
    for index in 0..3000 {
        std::fs::write(host.join("indexed").join(format!("a-fairly-long-file-name-{index:05}")), index.to_string())
            .unwrap();
    }
    mke2fs(&image, "32M", &["-b", "1024"], Some(&host));
    // e2fsck -D builds htree indexes for large directories.
    let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
    assert_e2fsck_clean(&image);
    let mut filesystem = mount(&image, false).unwrap();
    let indexed = filesystem.resolve(b"/indexed").unwrap();
    assert_ne!(filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "e2fsck -D did not index the directory");
    assert_same_tree(&host_tree(&host), &image_tree(&mut filesystem).unwrap(), "htree read");
    let mut mirror = Mirror { host, filesystem, time: TIME };
    for index in 0..200 {
        mirror.unlink(&format!("indexed/a-fairly-long-file-name-{:05}", index * 7));
        mirror.write(&format!("indexed/new-{index}"), 0, b"new");
    }
    mirror.rename("indexed/a-fairly-long-file-name-00001", "indexed/renamed");
    // Many more names: leaves split, the index grows and stays.
    for index in 0..3000 {
        mirror.write(&format!("indexed/more-{index}"), 0, b"more");
    }
    let flags = {
        let inode = mirror.filesystem.resolve(b"/indexed").unwrap();
        mirror.filesystem.metadata(inode).unwrap().flags
    };
    assert_ne!(flags & 0x1000, 0, "the index must survive growth");
    check_written_image(mirror, &image, "htree");
}

#[test]
fn changes_that_fit_the_leaves_keep_the_htree_index() {
    let directory = scratch("htree-kept");
    let host = directory.join("host");
    let image = directory.join("image");
    std::fs::create_dir_all(host.join("indexed")).unwrap();
    for index in 0..3000 {
        std::fs::write(host.join("indexed").join(format!("entry-{index:05}")), b"").unwrap();
    }
    mke2fs(&image, "32M", &["-b", "1024"], Some(&host));
    let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
    let filesystem = mount(&image, false).unwrap();
    let mut mirror = Mirror { host, filesystem, time: TIME };
    // Every other name goes, so every leaf has room for a few new ones.
    for index in (0..3000).step_by(2) {
        mirror.unlink(&format!("indexed/entry-{index:05}"));
    }
    for index in 0..60 {
        mirror.write(&format!("indexed/new-{index}"), 0, b"new");
    }
    mirror.rename("indexed/entry-00001", "indexed/new-0");
    mirror.make_directory("indexed/subdirectory");
    let indexed = mirror.filesystem.resolve(b"/indexed").unwrap();
    assert_ne!(mirror.filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "index dropped");
    let before = mirror.filesystem.index_statistics();
    for index in (1..3000).step_by(2).skip(1) {
        mirror.filesystem.lookup(indexed, format!("entry-{index:05}").as_bytes()).unwrap();
    }
    for index in 0..60 {
        mirror.filesystem.lookup(indexed, format!("new-{index}").as_bytes()).unwrap();
    }
    let after = mirror.filesystem.index_statistics();
    assert_eq!(after.1, before.1, "no lookup fell back to a linear scan");
    assert_eq!(after.0 - before.0, 1499 + 60);
    check_written_image(mirror, &image, "htree-kept");
}

#[test]
fn files_past_two_gibibytes_set_large_file() {
    let directory = scratch("large-file");
    let image = directory.join("image");
    mke2fs(&image, "16M", &["-b", "1024", "-O", "^large_file"], None);
    let (_, before) = run_tool("dumpe2fs", &["-h", image.to_str().unwrap()]);
    assert!(!before.contains("large_file"), "mke2fs kept large_file:\n{before}");
    let mut filesystem = mount(&image, false).unwrap();
    let file = filesystem.create(ROOT_INODE, b"big", 0o644, 0, 0, TIME).unwrap();
    let offset = 3u64 << 30;
    filesystem.write(file, offset, b"beyond 2 GiB", TIME).unwrap();
    let mut buffer = [0u8; 12];
    filesystem.read(file, offset, &mut buffer).unwrap();
    assert_eq!(&buffer, b"beyond 2 GiB");
    save(filesystem, &image);
    assert_e2fsck_clean(&image);
    let (_, after) = run_tool("dumpe2fs", &["-h", image.to_str().unwrap()]);
    assert!(after.contains("large_file"), "large_file not set:\n{after}");
    let (_, stat) = run_tool("debugfs", &["-R", "stat /big", image.to_str().unwrap()]);
    assert!(stat.contains(&format!("Size: {}", offset + 12)), "debugfs stat:\n{stat}");
}

#[test]
fn unsupported_features_are_refused_by_name_and_journals_mount_read_only() {
    let directory = scratch("features");
    let ext4 = directory.join("ext4");
    let (success, output) = run_tool("mke2fs", &["-q", "-F", "-t", "ext4", ext4.to_str().unwrap(), "16M"]);
    assert!(success, "{output}");
    assert!(matches!(mount(&ext4, false), Err(Error::UnsupportedFeature(_))));
    let only_extents = directory.join("extents");
    mke2fs(&only_extents, "16M", &["-O", "extent"], None);
    assert_eq!(mount(&only_extents, false).err(), Some(Error::UnsupportedFeature("extent")));
    let flex = directory.join("flex");
    mke2fs(&flex, "16M", &["-O", "flex_bg"], None);
    let mut filesystem = mount(&flex, false).unwrap();
    let file = filesystem.create(ROOT_INODE, b"on-flex-bg", 0o644, 0, 0, TIME).unwrap();
    filesystem.write(file, 0, &[5u8; 100_000], TIME).unwrap();
    save(filesystem, &flex);
    assert_e2fsck_clean(&flex);

    let ext3 = directory.join("ext3");
    let host = directory.join("host");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("hello"), b"journalled\n").unwrap();
    let (success, output) =
        run_tool("mke2fs", &["-q", "-F", "-t", "ext3", "-d", host.to_str().unwrap(), ext3.to_str().unwrap(), "16M"]);
    assert!(success, "{output}");
    let mut filesystem = mount(&ext3, false).unwrap();
    assert!(filesystem.is_read_only());
    assert_same_tree(&host_tree(&host), &image_tree(&mut filesystem).unwrap(), "ext3");
    assert_eq!(filesystem.create(ROOT_INODE, b"new", 0o644, 0, 0, TIME), Err(Error::ReadOnly));
}

#[test]
fn the_state_flag_tracks_mounts() {
    let directory = scratch("state");
    let image = directory.join("image");
    mke2fs(&image, "8M", &["-b", "1024"], None);
    let mut device = load(&image);
    {
        let mut filesystem =
            Filesystem::mount(&mut device, MountOptions { time: TIME, ..MountOptions::default() }).unwrap();
        filesystem.create(ROOT_INODE, b"file", 0o644, 0, 0, TIME).unwrap();
        filesystem.sync().unwrap();
        // Dropped without unmount: a crash after the sync.
    }
    let crashed = image.with_file_name("crashed");
    std::fs::write(&crashed, device.bytes()).unwrap();
    assert_e2fsck_clean(&crashed);
    let (_, state) = run_tool("dumpe2fs", &["-h", crashed.to_str().unwrap()]);
    assert!(state.contains("not clean"), "{state}");
    let mut filesystem = mount(&crashed, false).unwrap();
    filesystem.create(ROOT_INODE, b"second", 0o644, 0, 0, TIME).unwrap();
    save(filesystem, &crashed);
    let (_, state) = run_tool("dumpe2fs", &["-h", crashed.to_str().unwrap()]);
    assert!(state.contains("not clean"), "a file system that was not clean must stay so:\n{state}");
    let mut filesystem = mount(&image, false).unwrap();
    filesystem.sync().unwrap();
    save(filesystem, &image);
    let (_, state) = run_tool("dumpe2fs", &["-h", image.to_str().unwrap()]);
    assert!(state.contains("Filesystem state:         clean"), "{state}");
}

#[test]
fn lookups_use_htree_indexes_of_every_hash_version() {
    // (hash, superblock flags: 1 signed / 2 unsigned chars, entries); 6000
    // entries of 1 KiB blocks need a two-level index.
    let configurations = [
        ("half_md4", 1, 3000),
        ("half_md4", 2, 3000),
        ("tea", 1, 3000),
        ("tea", 2, 3000),
        ("legacy", 1, 3000),
        ("legacy", 2, 3000),
        ("half_md4", 1, 6000),
    ];
    for (hash, flags, entries) in configurations {
        let context = format!("{hash} flags {flags} {entries} entries");
        let directory = scratch(&format!("htree-{hash}-{flags}-{entries}"));
        let host = directory.join("host");
        let image = directory.join("image");
        std::fs::create_dir_all(host.join("indexed")).unwrap();
        let names: Vec<String> = (0..entries).map(|index| format!("name-{index}-caf\u{e9}-\u{fc}")).collect();
        for name in &names {
            std::fs::write(host.join("indexed").join(name), b"").unwrap();
        }
        mke2fs(&image, "32M", &["-b", "1024", "-N", "8192"], Some(&host));
        for command in [format!("ssv def_hash_version {hash}"), format!("ssv flags {flags}")] {
            let (success, output) = run_tool("debugfs", &["-w", "-R", &command, image.to_str().unwrap()]);
            assert!(success, "{context}: {output}");
        }
        let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
        assert_e2fsck_clean(&image);
        if entries > 5000 {
            let (_, dump) = run_tool("debugfs", &["-R", "htree /indexed", image.to_str().unwrap()]);
            assert!(
                dump.contains("Indirect levels: 1"),
                "{context}: expected a two-level index:\n{}",
                &dump[..dump.len().min(600)]
            );
        }
        let mut filesystem = mount(&image, true).unwrap();
        let indexed = filesystem.resolve(b"/indexed").unwrap();
        assert_ne!(filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "{context}: not indexed");
        for name in &names {
            filesystem.lookup(indexed, name.as_bytes()).unwrap_or_else(|error| panic!("{context}: {name}: {error}"));
        }
        for index in 0..200 {
            let missing = format!("missing-{index}");
            assert_eq!(filesystem.lookup(indexed, missing.as_bytes()), Err(Error::NotFound), "{context}");
        }
        assert_eq!(
            filesystem.index_statistics(),
            (entries as u64 + 200, 0),
            "{context}: every lookup through the index"
        );
    }
}

#[test]
fn full_leaves_split_and_keep_the_htree_index() {
    let directory = scratch("htree-split");
    let host = directory.join("host");
    let image = directory.join("image");
    std::fs::create_dir_all(host.join("indexed")).unwrap();
    for index in 0..300 {
        std::fs::write(host.join("indexed").join(format!("entry-{index:05}")), b"").unwrap();
    }
    // A fixed UUID and hash seed: with mke2fs's random ones, how the 2,000
    // new names fall into leaves (and so how many splits the root sees)
    // varied from run to run.
    mke2fs(
        &image,
        "32M",
        &[
            "-b",
            "1024",
            "-U",
            "6d61636b-5f52-4d61-6368-5f52746573ff",
            "-E",
            "hash_seed=6d61636b-5f52-4d61-6368-5f5268617368",
        ],
        Some(&host),
    );
    let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
    let (_, index_before) = run_tool("debugfs", &["-R", "htree /indexed", image.to_str().unwrap()]);
    assert!(index_before.contains("Number of entries (count)"), "not indexed:\n{index_before}");
    let filesystem = mount(&image, false).unwrap();
    let mut mirror = Mirror { host, filesystem, time: TIME };
    for index in 0..2000 {
        mirror.write(&format!("indexed/added-{index}-{}", "x".repeat(index % 40)), 0, b"");
    }
    let indexed = mirror.filesystem.resolve(b"/indexed").unwrap();
    assert_ne!(mirror.filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "index dropped");
    assert!(mirror.filesystem.metadata(indexed).unwrap().size > 20 * 1024, "leaves were split");
    let before = mirror.filesystem.index_statistics();
    for index in 0..2000 {
        let name = format!("added-{index}-{}", "x".repeat(index % 40));
        mirror.filesystem.lookup(indexed, name.as_bytes()).unwrap();
    }
    for index in 0..300 {
        mirror.filesystem.lookup(indexed, format!("entry-{index:05}").as_bytes()).unwrap();
    }
    let after = mirror.filesystem.index_statistics();
    assert_eq!((after.0 - before.0, after.1 - before.1), (2300, 0), "every lookup through the index");
    // e2fsck -fn (inside) checks every leaf's hashes against the index.
    check_written_image(mirror, &image, "htree-split");
    let (_, after) = run_tool("debugfs", &["-R", "htree /indexed", image.to_str().unwrap()]);
    let count = |dump: &str| -> u32 {
        let line = dump.lines().find(|line| line.starts_with("Number of entries (count)")).unwrap();
        line.rsplit(' ').next().unwrap().trim().parse().unwrap()
    };
    assert!(count(&after) > count(&index_before) + 20, "the root indexes the new leaves");
}

#[test]
fn growing_an_index_adds_a_level_and_splits_nodes() {
    let directory = scratch("htree-grow");
    let host = directory.join("host");
    let image = directory.join("image");
    std::fs::create_dir_all(host.join("indexed")).unwrap();
    for index in 0..300 {
        std::fs::write(host.join("indexed").join(format!("entry-{index:05}")), b"").unwrap();
    }
    mke2fs(&image, "32M", &["-b", "1024", "-N", "16384"], Some(&host));
    let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
    let (_, index_before) = run_tool("debugfs", &["-R", "htree /indexed", image.to_str().unwrap()]);
    assert!(index_before.contains("Indirect levels: 0"), "{index_before}");
    let filesystem = mount(&image, false).unwrap();
    let mut mirror = Mirror { host, filesystem, time: TIME };
    // 1 KiB blocks: the root indexes at most 124 leaves and a node 127, so
    // this many names need a second level and then a node split.
    let names: Vec<String> = (0..9000).map(|index| format!("grown-{index}-{}", "y".repeat(index % 30))).collect();
    for name in &names {
        mirror.write(&format!("indexed/{name}"), 0, b"");
    }
    let indexed = mirror.filesystem.resolve(b"/indexed").unwrap();
    assert_ne!(mirror.filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "index dropped");
    let before = mirror.filesystem.index_statistics();
    for name in &names {
        mirror.filesystem.lookup(indexed, name.as_bytes()).unwrap();
    }
    let after = mirror.filesystem.index_statistics();
    assert_eq!((after.0 - before.0, after.1 - before.1), (9000, 0), "every lookup through the index");
    check_written_image(mirror, &image, "htree-grow");
    let (_, index_after) = run_tool("debugfs", &["-R", "htree /indexed", image.to_str().unwrap()]);
    assert!(
        index_after.contains("Indirect levels: 1"),
        "no second level:\n{}",
        &index_after[..index_after.len().min(800)]
    );
    let root_entries = index_after
        .lines()
        .find(|line| line.starts_with("Number of entries (count)"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|count| count.trim().parse::<u32>().ok())
        .unwrap();
    assert!(root_entries >= 2, "the interior node was never split");
}

#[test]
fn an_index_that_cannot_be_used_falls_back_and_is_dropped_on_write() {
    let directory = scratch("htree-unusable");
    let host = directory.join("host");
    let image = directory.join("image");
    std::fs::create_dir_all(host.join("indexed")).unwrap();
    for index in 0..500 {
        std::fs::write(host.join("indexed").join(format!("entry-{index:05}")), b"").unwrap();
    }
    mke2fs(&image, "16M", &["-b", "1024"], Some(&host));
    let _ = run_tool("e2fsck", &["-fyD", image.to_str().unwrap()]);
    // An unknown hash version in the index root (dx_root_info byte 4).
    let (_, blocks) = run_tool("debugfs", &["-R", "blocks /indexed", image.to_str().unwrap()]);
    let root_block: usize = blocks.split_whitespace().find_map(|word| word.parse().ok()).unwrap();
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[root_block * 1024 + 28] = 9;
    std::fs::write(&image, &bytes).unwrap();
    let filesystem = mount(&image, false).unwrap();
    let mut mirror = Mirror { host, filesystem, time: TIME };
    let indexed = mirror.filesystem.resolve(b"/indexed").unwrap();
    for index in (0..500).step_by(7) {
        mirror.filesystem.lookup(indexed, format!("entry-{index:05}").as_bytes()).unwrap();
    }
    let (indexed_lookups, fallbacks) = mirror.filesystem.index_statistics();
    assert_eq!(indexed_lookups, 0);
    assert!(fallbacks >= 72, "lookups must fall back to linear scans");
    mirror.write("indexed/new", 0, b"new");
    assert_eq!(mirror.filesystem.metadata(indexed).unwrap().flags & 0x1000, 0, "index not dropped");
    check_written_image(mirror, &image, "htree-unusable");
}
