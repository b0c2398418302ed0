//! Shared helpers of the integration tests: tree snapshots of an image and
//! of a host directory, and drivers for Debian's e2fsprogs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use ext2::{BlockDevice, FileKind, Filesystem, ROOT_INODE};

/// One file of a tree snapshot (paths relative to the root, '/'-joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Directory { permissions: u16 },
    File { permissions: u16, links: u32, contents: Vec<u8> },
    Symlink { target: Vec<u8> },
    Special { kind: FileKind, permissions: u16, device: Option<(u32, u32)> },
}

/// A tree snapshot: path → node.
pub type Tree = BTreeMap<String, Node>;

/// Snapshot of a mounted image, lost+found left out; every loop is bounded
/// by the visited set, so a corrupt image cannot make it spin.
pub fn image_tree<D: BlockDevice>(filesystem: &mut Filesystem<D>) -> Result<Tree, ext2::Error> {
    let mut tree = Tree::new();
    let mut pending = vec![(ROOT_INODE, String::new())];
    let mut visited = std::collections::HashSet::new();
    while let Some((directory, path)) = pending.pop() {
        if !visited.insert(directory) {
            return Err(ext2::Error::Corrupt("directory reached twice"));
        }
        for entry in filesystem.read_directory(directory)? {
            let name = String::from_utf8_lossy(&entry.name).into_owned();
            if name == "." || name == ".." || (path.is_empty() && name == "lost+found") {
                continue;
            }
            let child_path = if path.is_empty() { name } else { format!("{path}/{name}") };
            let metadata = filesystem.metadata(entry.inode)?;
            let node = match metadata.kind {
                FileKind::Directory => {
                    pending.push((entry.inode, child_path.clone()));
                    Node::Directory { permissions: metadata.permissions }
                }
                FileKind::RegularFile => {
                    let size = metadata.size.min(256 << 20) as usize;
                    let mut contents = vec![0; size];
                    let count = filesystem.read(entry.inode, 0, &mut contents)?;
                    contents.truncate(count);
                    Node::File { permissions: metadata.permissions, links: metadata.links, contents }
                }
                FileKind::Symlink => Node::Symlink { target: filesystem.read_link(entry.inode)? },
                kind => Node::Special { kind, permissions: metadata.permissions, device: metadata.device },
            };
            tree.insert(child_path, node);
        }
    }
    Ok(tree)
}

/// Snapshot of a host directory, in the same form.
pub fn host_tree(root: &Path) -> Tree {
    let mut tree = Tree::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((directory, path)) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let entry = entry.unwrap();
            let name = String::from_utf8_lossy(entry.file_name().as_bytes()).into_owned();
            if path.is_empty() && name == "lost+found" {
                continue;
            }
            let child_path = if path.is_empty() { name } else { format!("{path}/{name}") };
            let metadata = std::fs::symlink_metadata(entry.path()).unwrap();
            let permissions = (metadata.mode() & 0o7777) as u16;
            let file_type = metadata.file_type();
            let node = if file_type.is_dir() {
                pending.push((entry.path(), child_path.clone()));
                Node::Directory { permissions }
            } else if file_type.is_file() {
                Node::File {
                    permissions,
                    links: metadata.nlink() as u32,
                    contents: std::fs::read(entry.path()).unwrap(),
                }
            } else if file_type.is_symlink() {
                Node::Symlink { target: std::fs::read_link(entry.path()).unwrap().as_os_str().as_bytes().to_vec() }
            } else {
                let kind = if file_type.is_char_device() {
                    FileKind::CharacterDevice
                } else if file_type.is_block_device() {
                    FileKind::BlockDevice
                } else if file_type.is_fifo() {
                    FileKind::Fifo
                } else {
                    FileKind::Socket
                };
                let device = matches!(kind, FileKind::CharacterDevice | FileKind::BlockDevice).then(|| {
                    let raw = metadata.rdev();
                    (((raw >> 8) & 0xFFF) as u32, ((raw & 0xFF) | ((raw >> 12) & 0xFFF00)) as u32)
                });
                Node::Special { kind, permissions, device }
            };
            tree.insert(child_path, node);
        }
    }
    tree
}

/// Asserts two snapshots are equal, naming the first difference.
pub fn assert_same_tree(expected: &Tree, actual: &Tree, context: &str) {
    for (path, node) in expected {
        match actual.get(path) {
            None => panic!("{context}: {path} missing"),
            Some(other) if other != node => {
                panic!("{context}: {path} differs:\nexpected {}\nactual   {}", describe(node), describe(other))
            }
            _ => {}
        }
    }
    for path in actual.keys() {
        assert!(expected.contains_key(path), "{context}: unexpected {path}");
    }
}

/// The tree with set-user-id, set-group-id and sticky bits cleared.
pub fn without_set_id_bits(tree: &Tree) -> Tree {
    tree.iter()
        .map(|(path, node)| {
            let mut node = node.clone();
            match &mut node {
                Node::Directory { permissions }
                | Node::File { permissions, .. }
                | Node::Special { permissions, .. } => *permissions &= 0o777,
                Node::Symlink { .. } => {}
            }
            (path.clone(), node)
        })
        .collect()
}

fn describe(node: &Node) -> String {
    match node {
        Node::File { permissions, links, contents } => {
            format!("file {permissions:o} links {links} size {} checksum {:x}", contents.len(), checksum(contents))
        }
        other => format!("{other:?}"),
    }
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |state, &byte| (state ^ byte as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A scratch directory, removed when dropped unless the test is failing
/// (so a failure's images stay for inspection).
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> Scratch {
    let path = std::env::temp_dir().join(format!("ext2-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    Scratch(path)
}

/// Runs an e2fsprogs tool (from /sbin too) and returns (success, output).
pub fn run_tool(tool: &str, arguments: &[&str]) -> (bool, String) {
    let output = Command::new(tool)
        .args(arguments)
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap_or_else(|error| panic!("cannot run {tool} (install e2fsprogs): {error}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// `e2fsck -fn` must find nothing to fix.
pub fn assert_e2fsck_clean(image: &Path) {
    let (clean, output) = run_tool("e2fsck", &["-fn", image.to_str().unwrap()]);
    assert!(clean, "e2fsck -fn {} is not clean:\n{output}", image.display());
}

/// A deterministic pseudo-random generator (xorshift64*), so every test
/// and fuzz case is reproducible from its seed.
#[derive(Clone)]
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, limit: u64) -> u64 {
        if limit == 0 {
            0
        } else {
            self.next() % limit
        }
    }
    pub fn bytes(&mut self, length: usize) -> Vec<u8> {
        (0..length).map(|_| self.next() as u8).collect()
    }
}
