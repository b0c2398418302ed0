//! Property test: random sequences of operations (create, write at offsets,
//! truncate, mkdir, unlink, rmdir, rename, link, symlink) run against the
//! library and against a simple in-memory model must agree, results and
//! errors alike, and the trees must match after every few steps, across
//! remounts, with a cache small enough to evict constantly. Deleting
//! everything at the end must give back every block and inode.
//!
//! The seeds are fixed so a failure names a reproducible case. With the
//! `interop` feature a few cases also go through `e2fsck -fn`.

mod support;

use std::collections::BTreeMap;

use ext2::{format, Error, FileKind, Filesystem, FormatOptions, MemoryDevice, MountOptions, ROOT_INODE};
use support::Random;

#[derive(Debug, Clone)]
enum ModelNode {
    File(Vec<u8>),
    Directory(BTreeMap<Vec<u8>, usize>),
    Symlink(Vec<u8>),
}

/// The model: nodes by model id; `inode` maps a model id to the library's
/// inode number.
struct Model {
    nodes: BTreeMap<usize, ModelNode>,
    parents: BTreeMap<usize, usize>,
    inode: BTreeMap<usize, u32>,
    next_id: usize,
}

const ROOT: usize = 0;
const NAMES: [&str; 10] = [
    "a",
    "b",
    "c",
    "d",
    "e",
    "file",
    "dir",
    "x.txt",
    "lost+found",
    "a-rather-long-name-to-fill-directory-blocks-faster-0123456789",
];

impl Model {
    fn new() -> Self {
        let mut model = Model { nodes: BTreeMap::new(), parents: BTreeMap::new(), inode: BTreeMap::new(), next_id: 1 };
        model.nodes.insert(ROOT, ModelNode::Directory(BTreeMap::new()));
        model.parents.insert(ROOT, ROOT);
        model.inode.insert(ROOT, ROOT_INODE);
        model
    }

    fn directory(&self, id: usize) -> &BTreeMap<Vec<u8>, usize> {
        match &self.nodes[&id] {
            ModelNode::Directory(entries) => entries,
            _ => panic!("not a directory"),
        }
    }

    fn directory_mut(&mut self, id: usize) -> &mut BTreeMap<Vec<u8>, usize> {
        match self.nodes.get_mut(&id) {
            Some(ModelNode::Directory(entries)) => entries,
            _ => panic!("not a directory"),
        }
    }

    fn ids_where(&self, predicate: impl Fn(&ModelNode) -> bool) -> Vec<usize> {
        self.nodes.iter().filter(|(_, node)| predicate(node)).map(|(&id, _)| id).collect()
    }

    fn is_directory(&self, id: usize) -> bool {
        matches!(self.nodes[&id], ModelNode::Directory(_))
    }

    fn links(&self, id: usize) -> usize {
        self.nodes
            .values()
            .filter_map(|node| match node {
                ModelNode::Directory(entries) => Some(entries.values().filter(|&&child| child == id).count()),
                _ => None,
            })
            .sum()
    }

    fn is_ancestor_or_self(&self, ancestor: usize, mut id: usize) -> bool {
        for _ in 0..10_000 {
            if id == ancestor {
                return true;
            }
            if id == ROOT {
                return false;
            }
            id = self.parents[&id];
        }
        panic!("model parent loop")
    }

    fn add(&mut self, directory: usize, name: &[u8], node: ModelNode, inode: u32) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        if matches!(node, ModelNode::Directory(_)) {
            self.parents.insert(id, directory);
        }
        self.nodes.insert(id, node);
        self.inode.insert(id, inode);
        self.directory_mut(directory).insert(name.to_vec(), id);
        id
    }

    fn forget_if_unlinked(&mut self, id: usize) {
        if self.links(id) == 0 {
            self.nodes.remove(&id);
            self.inode.remove(&id);
            self.parents.remove(&id);
        }
    }
}

struct Harness {
    filesystem: Option<Filesystem<MemoryDevice>>,
    model: Model,
    random: Random,
    time: u32,
    cache_blocks: usize,
    block_size: u32,
    seed: u64,
}

impl Harness {
    fn fs(&mut self) -> &mut Filesystem<MemoryDevice> {
        self.filesystem.as_mut().unwrap()
    }

    fn pick(&mut self, ids: &[usize]) -> Option<usize> {
        (!ids.is_empty()).then(|| ids[self.random.below(ids.len() as u64) as usize])
    }

    fn name(&mut self) -> Vec<u8> {
        NAMES[self.random.below(NAMES.len() as u64) as usize].as_bytes().to_vec()
    }

    fn step(&mut self, step: usize) {
        self.time += 1;
        let time = self.time;
        let directories = self.model.ids_where(|node| matches!(node, ModelNode::Directory(_)));
        let files = self.model.ids_where(|node| matches!(node, ModelNode::File(_)));
        let context = format!("seed {} step {step}", self.seed);
        match self.random.below(11) {
            0 | 1 => {
                let directory = self.pick(&directories).unwrap();
                let name = self.name();
                let expected = if self.model.directory(directory).contains_key(&name) {
                    Err(Error::AlreadyExists)
                } else {
                    Ok(())
                };
                let inode = self.model.inode[&directory];
                let result = self.fs().create(inode, &name, 0o644, 1, 2, time);
                assert_eq!(result.map(|_| ()), expected, "{context}: create");
                if let Ok(()) = expected {
                    let number = self.fs().lookup(inode, &name).unwrap();
                    self.model.add(directory, &name, ModelNode::File(Vec::new()), number);
                }
            }
            2 | 3 => {
                let Some(file) = self.pick(&files) else {
                    return;
                };
                // Past the double indirect range of 1 KiB blocks: triple indirect.
                let far = self.block_size == 1024 && self.random.below(40) == 0;
                let offset = if far { 66_000 * 1024 + self.random.below(1 << 20) } else { self.random.below(300_000) };
                let length = self.random.below(if far { 3000 } else { 40_000 }) as usize;
                let data = self.random.bytes(length);
                let inode = self.model.inode[&file];
                let written = self
                    .fs()
                    .write(inode, offset, &data, time)
                    .unwrap_or_else(|error| panic!("{context}: write: {error}"));
                assert_eq!(written, length, "{context}: short write");
                if let ModelNode::File(contents) = self.model.nodes.get_mut(&file).unwrap() {
                    let end = offset as usize + length;
                    if contents.len() < end && length > 0 {
                        contents.resize(end, 0);
                    }
                    contents[offset as usize..offset as usize + length].copy_from_slice(&data);
                }
            }
            4 => {
                let Some(file) = self.pick(&files) else {
                    return;
                };
                let size = self.random.below(350_000);
                let inode = self.model.inode[&file];
                self.fs().truncate(inode, size, time).unwrap_or_else(|error| panic!("{context}: truncate: {error}"));
                if let ModelNode::File(contents) = self.model.nodes.get_mut(&file).unwrap() {
                    contents.resize(size as usize, 0);
                }
            }
            5 => {
                let directory = self.pick(&directories).unwrap();
                let name = self.name();
                let expected = if self.model.directory(directory).contains_key(&name) {
                    Err(Error::AlreadyExists)
                } else {
                    Ok(())
                };
                let inode = self.model.inode[&directory];
                let result = self.fs().make_directory(inode, &name, 0o755, 0, 0, time);
                assert_eq!(result.map(|_| ()), expected, "{context}: mkdir");
                if let Ok(number) = result {
                    self.model.add(directory, &name, ModelNode::Directory(BTreeMap::new()), number);
                }
            }
            6 => {
                let directory = self.pick(&directories).unwrap();
                let name = self.name();
                let target = self.model.directory(directory).get(&name).copied();
                let expected = match target {
                    None => Err(Error::NotFound),
                    Some(id) if self.model.is_directory(id) => Err(Error::IsADirectory),
                    Some(_) => Ok(()),
                };
                let inode = self.model.inode[&directory];
                let result = self.fs().unlink(inode, &name, time);
                assert_eq!(result, expected, "{context}: unlink");
                if let (Ok(()), Some(id)) = (expected, target) {
                    self.model.directory_mut(directory).remove(&name);
                    self.model.forget_if_unlinked(id);
                }
            }
            7 => {
                let directory = self.pick(&directories).unwrap();
                let name = self.name();
                let target = self.model.directory(directory).get(&name).copied();
                let expected = match target {
                    None => Err(Error::NotFound),
                    Some(id) if !self.model.is_directory(id) => Err(Error::NotADirectory),
                    Some(id) if !self.model.directory(id).is_empty() => Err(Error::DirectoryNotEmpty),
                    Some(_) => Ok(()),
                };
                let inode = self.model.inode[&directory];
                let result = self.fs().remove_directory(inode, &name, time);
                assert_eq!(result, expected, "{context}: rmdir");
                if let (Ok(()), Some(id)) = (expected, target) {
                    self.model.directory_mut(directory).remove(&name);
                    self.model.forget_if_unlinked(id);
                }
            }
            8 | 9 => {
                let source_directory = self.pick(&directories).unwrap();
                let destination = self.pick(&directories).unwrap();
                let name = self.name();
                let new_name = self.name();
                let source = self.model.directory(source_directory).get(&name).copied();
                let existing = self.model.directory(destination).get(&new_name).copied();
                let expected = match (source, existing) {
                    (None, _) => Err(Error::NotFound),
                    (Some(id), _)
                        if self.model.is_directory(id)
                            && source_directory != destination
                            && self.model.is_ancestor_or_self(id, destination) =>
                    {
                        Err(Error::RenameIntoSubtree)
                    }
                    (Some(id), Some(other)) if id == other => Ok(()),
                    (Some(id), Some(other)) => match (self.model.is_directory(id), self.model.is_directory(other)) {
                        (false, true) => Err(Error::IsADirectory),
                        (true, false) => Err(Error::NotADirectory),
                        (true, true) if !self.model.directory(other).is_empty() => Err(Error::DirectoryNotEmpty),
                        _ => Ok(()),
                    },
                    (Some(_), None) => Ok(()),
                };
                let (from, to) = (self.model.inode[&source_directory], self.model.inode[&destination]);
                let result = self.fs().rename(from, &name, to, &new_name, time);
                assert_eq!(result, expected, "{context}: rename");
                if let (Ok(()), Some(id)) = (expected, source) {
                    if existing != Some(id) {
                        self.model.directory_mut(source_directory).remove(&name);
                        let replaced = self.model.directory_mut(destination).insert(new_name, id);
                        if self.model.is_directory(id) {
                            self.model.parents.insert(id, destination);
                        }
                        if let Some(replaced) = replaced {
                            self.model.forget_if_unlinked(replaced);
                        }
                    }
                }
            }
            _ => {
                let directory = self.pick(&directories).unwrap();
                let name = self.name();
                let exists = self.model.directory(directory).contains_key(&name);
                let inode = self.model.inode[&directory];
                if self.random.below(2) == 0 {
                    let Some(file) = self.pick(&files) else {
                        return;
                    };
                    let expected = if exists { Err(Error::AlreadyExists) } else { Ok(()) };
                    let file_inode = self.model.inode[&file];
                    assert_eq!(self.fs().link(file_inode, inode, &name, time), expected, "{context}: link");
                    if expected.is_ok() {
                        self.model.directory_mut(directory).insert(name, file);
                    }
                } else {
                    let limit = if self.random.below(2) == 0 { 50 } else { 900 };
                    let length = 1 + self.random.below(limit) as usize;
                    let target: Vec<u8> = (0..length).map(|index| b'a' + (index % 26) as u8).collect();
                    let expected = if exists { Err(Error::AlreadyExists) } else { Ok(()) };
                    let result = self.fs().symlink(inode, &name, &target, 0, 0, time);
                    assert_eq!(result.map(|_| ()), expected, "{context}: symlink");
                    if let Ok(number) = result {
                        self.model.add(directory, &name, ModelNode::Symlink(target), number);
                    }
                }
            }
        }
    }

    /// The library's tree must be the model's, node for node, and the
    /// free counts must match the bitmaps.
    fn compare(&mut self, context: &str) {
        self.fs().verify_free_counts().unwrap_or_else(|error| panic!("{context}: {error}"));
        let mut pending = vec![ROOT];
        while let Some(directory) = pending.pop() {
            let inode = self.model.inode[&directory];
            let mut listed: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
            for entry in self.fs().read_directory(inode).unwrap() {
                listed.insert(entry.name, entry.inode);
            }
            assert_eq!(listed.remove(b".".as_slice()), Some(inode), "{context}: '.'");
            let parent = self.model.inode[&self.model.parents[&directory]];
            assert_eq!(listed.remove(b"..".as_slice()), Some(parent), "{context}: '..'");
            let expected: BTreeMap<Vec<u8>, u32> =
                self.model.directory(directory).iter().map(|(name, id)| (name.clone(), self.model.inode[id])).collect();
            assert_eq!(listed, expected, "{context}: entries of a directory");
            let subdirectories =
                self.model.directory(directory).values().filter(|&&id| self.model.is_directory(id)).count();
            let metadata = self.fs().metadata(inode).unwrap();
            assert_eq!(metadata.links as usize, 2 + subdirectories, "{context}: directory link count");
            let children: Vec<usize> = self.model.directory(directory).values().copied().collect();
            for child in children {
                let number = self.model.inode[&child];
                let metadata = self.fs().metadata(number).unwrap();
                match self.model.nodes[&child].clone() {
                    ModelNode::Directory(_) => {
                        assert_eq!(metadata.kind, FileKind::Directory);
                        pending.push(child);
                    }
                    ModelNode::File(contents) => {
                        assert_eq!(metadata.kind, FileKind::RegularFile);
                        assert_eq!(metadata.size, contents.len() as u64, "{context}: size");
                        assert_eq!(metadata.links as usize, self.model.links(child), "{context}: file link count");
                        let mut buffer = vec![0u8; 1 << 16];
                        for (index, expected) in contents.chunks(1 << 16).enumerate() {
                            let count = self.fs().read(number, (index << 16) as u64, &mut buffer).unwrap();
                            assert_eq!(count, expected.len());
                            assert!(&buffer[..count] == expected, "{context}: contents of inode {number}");
                        }
                    }
                    ModelNode::Symlink(target) => {
                        assert_eq!(self.fs().read_link(number).unwrap(), target, "{context}: symlink");
                    }
                }
            }
        }
    }

    fn remount(&mut self) {
        let device = self.filesystem.take().unwrap().unmount().unwrap();
        let options = MountOptions { cache_blocks: self.cache_blocks, time: self.time, ..MountOptions::default() };
        self.filesystem = Some(Filesystem::mount(device, options).unwrap());
    }

    /// Removes every file and directory the model holds, deepest first.
    fn remove_everything(&mut self) {
        for _ in 0..10_000 {
            let Some((directory, name, id)) = self.model.nodes.iter().find_map(|(&directory, node)| match node {
                ModelNode::Directory(entries) => entries
                    .iter()
                    .find(|(_, &id)| !self.model.is_directory(id) || self.model.directory(id).is_empty())
                    .map(|(name, &id)| (directory, name.clone(), id)),
                _ => None,
            }) else {
                return;
            };
            self.time += 1;
            let (time, inode) = (self.time, self.model.inode[&directory]);
            if self.model.is_directory(id) {
                self.fs().remove_directory(inode, &name, time).unwrap();
            } else {
                self.fs().unlink(inode, &name, time).unwrap();
            }
            self.model.directory_mut(directory).remove(&name);
            self.model.forget_if_unlinked(id);
        }
        panic!("model did not empty");
    }
}

/// Runs one seeded case; returns the final device.
fn run_case(seed: u64, steps: usize) -> MemoryDevice {
    let geometries = [(1024u32, 128u32), (1024, 256), (2048, 256), (4096, 128)];
    let (block_size, inode_size) = geometries[(seed % 4) as usize];
    let mut device = MemoryDevice::new(12 << 20);
    format(&mut device, &FormatOptions { block_size, inode_size, time: 1000, ..FormatOptions::default() }).unwrap();
    run_case_on(seed, steps, device, block_size)
}

/// Runs one seeded case on a formatted device (ours or mke2fs's).
fn run_case_on(seed: u64, steps: usize, device: MemoryDevice, block_size: u32) -> MemoryDevice {
    let cache_blocks = [16, 64, 1024][(seed % 3) as usize];
    let options =
        MountOptions { cache_blocks, time: 1000, write_through: seed.is_multiple_of(5), ..MountOptions::default() };
    let filesystem = Filesystem::mount(device, options).unwrap();
    let initial = filesystem.statistics();
    let mut harness = Harness {
        filesystem: Some(filesystem),
        model: Model::new(),
        random: Random::new(seed),
        time: 1000,
        cache_blocks,
        block_size,
        seed,
    };
    let lost_and_found = harness.fs().lookup(ROOT_INODE, b"lost+found").unwrap();
    let lost_and_found_blocks = harness.fs().metadata(lost_and_found).unwrap().sectors * 512 / block_size as u64;
    harness.model.add(ROOT, b"lost+found", ModelNode::Directory(BTreeMap::new()), lost_and_found);
    for step in 0..steps {
        harness.step(step);
        if step % 50 == 49 {
            harness.compare(&format!("seed {seed} step {step}"));
        }
        if step % 120 == 119 {
            harness.remount();
        }
    }
    harness.compare(&format!("seed {seed} end"));
    let device_copy = {
        harness.remount();
        let device = harness.filesystem.take().unwrap().unmount().unwrap();
        let copy = device.clone();
        harness.filesystem =
            Some(Filesystem::mount(device, MountOptions { cache_blocks, ..MountOptions::default() }).unwrap());
        copy
    };
    harness.remove_everything();
    let statistics = harness.fs().statistics();
    // lost+found went too: its inode and blocks are the difference.
    assert_eq!(statistics.free_inodes, initial.free_inodes + 1, "seed {seed}: inodes leaked");
    assert_eq!(statistics.free_blocks, initial.free_blocks + lost_and_found_blocks, "seed {seed}: blocks leaked");
    harness.filesystem.take().unwrap().unmount().unwrap();
    device_copy
}

#[test]
fn random_operations_agree_with_the_model() {
    for seed in 1..=24 {
        run_case(seed, 300);
    }
}

#[cfg(feature = "interop")]
#[test]
fn random_operations_on_mke2fs_images_pass_e2fsck() {
    let directory = support::scratch("model-mke2fs");
    let configurations: [&[&str]; 3] = [&["-b", "1024"], &["-b", "4096", "-I", "128"], &["-b", "1024", "-r", "0"]];
    for (index, arguments) in configurations.iter().enumerate() {
        let image = directory.join(format!("mke2fs-{index}"));
        let mut all = vec!["-q", "-F", "-t", "ext2"];
        all.extend_from_slice(arguments);
        all.push(image.to_str().unwrap());
        all.push("12M");
        let (success, output) = support::run_tool("mke2fs", &all);
        assert!(success, "{output}");
        let block_size = if arguments[1] == "4096" { 4096 } else { 1024 };
        let device = MemoryDevice::from_bytes(std::fs::read(&image).unwrap());
        let device = run_case_on(200 + index as u64, 400, device, block_size);
        std::fs::write(&image, device.bytes()).unwrap();
        support::assert_e2fsck_clean(&image);
    }
}

#[cfg(feature = "interop")]
#[test]
fn random_operation_images_pass_e2fsck() {
    let directory = support::scratch("model-e2fsck");
    for seed in [101, 102, 103, 104] {
        let device = run_case(seed, 400);
        let image = directory.join(format!("seed-{seed}"));
        std::fs::write(&image, device.bytes()).unwrap();
        support::assert_e2fsck_clean(&image);
    }
}
