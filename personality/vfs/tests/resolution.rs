//! Path resolution against a model.
//!
//! Random trees of directories, files and symbolic links, with tmpfs
//! mounts grafted on some directories, are built twice: in the VFS (one
//! tmpfs per mount, through its operations) and in a model that knows
//! nothing of mounts or file systems: one merged tree keyed by canonical
//! path. Random paths are then resolved by both, from random starting
//! directories and roots, with random credentials, following the last
//! link or not; the answers (the node reached, or the error) must agree.
//! The model resolves recursively over path strings; the VFS iteratively
//! over the FileSystem trait and the mount table.

use std::collections::BTreeMap;

use mach_vfs::mount::MountFlags;
use mach_vfs::node::{Creation, NewNode};
use mach_vfs::tmpfs::MemoryFileSystem;
use mach_vfs::vfs::{Caller, Follow, NewMount, Start, SYMLINK_LIMIT};
use mach_vfs::{Credential, Errno, NodeRef, Timestamp, Vfs};
use proptest::prelude::*;

type ModelPath = Vec<Vec<u8>>;

#[derive(Clone, Debug)]
enum ModelKind {
    Directory,
    File,
    Symlink(Vec<u8>),
}

#[derive(Clone, Debug)]
struct ModelNode {
    kind: ModelKind,
    permissions: u32,
    uid: u32,
}

struct Model {
    nodes: BTreeMap<ModelPath, ModelNode>,
}

impl Model {
    fn searchable(&self, path: &ModelPath, credential: &Credential) -> bool {
        let node = &self.nodes[path];
        if credential.is_superuser() {
            return true;
        }
        let bits = if node.uid == credential.effective_uid {
            node.permissions >> 6
        } else if credential.in_group(0) {
            node.permissions >> 3
        } else {
            node.permissions
        };
        bits & 1 != 0
    }

    fn resolve(
        &self,
        root: &ModelPath,
        cwd: &ModelPath,
        path: &[u8],
        follow: bool,
        credential: &Credential,
        links: &mut u32,
    ) -> Result<ModelPath, Errno> {
        if path.is_empty() {
            return Err(Errno::NoSuchEntry);
        }
        let mut current = if path[0] == b'/' { root.clone() } else { cwd.clone() };
        let components: Vec<&[u8]> = path.split(|byte| *byte == b'/').filter(|part| !part.is_empty()).collect();
        let trailing_slash = path.ends_with(b"/") && !components.is_empty();
        for (index, component) in components.iter().enumerate() {
            let last = index + 1 == components.len();
            match self.nodes[&current].kind {
                ModelKind::Directory => {}
                _ => return Err(Errno::NotADirectory),
            }
            if !self.searchable(&current, credential) {
                return Err(Errno::AccessDenied);
            }
            let next = match *component {
                b"." => current.clone(),
                b".." => {
                    if current == *root || current.is_empty() {
                        current.clone()
                    } else {
                        current[..current.len() - 1].to_vec()
                    }
                }
                name => {
                    let mut child = current.clone();
                    child.push(name.to_vec());
                    if !self.nodes.contains_key(&child) {
                        return Err(Errno::NoSuchEntry);
                    }
                    child
                }
            };
            let next = match &self.nodes[&next].kind {
                ModelKind::Symlink(target) if !last || follow || trailing_slash => {
                    *links += 1;
                    if *links > SYMLINK_LIMIT {
                        return Err(Errno::SymlinkLoop);
                    }
                    self.resolve(root, &current, target, true, credential, links)?
                }
                _ => next,
            };
            current = next;
        }
        if trailing_slash && !matches!(self.nodes[&current].kind, ModelKind::Directory) {
            return Err(Errno::NotADirectory);
        }
        Ok(current)
    }
}

#[derive(Clone, Debug)]
enum Operation {
    Directory { parent: usize, name: u8, permissions: u8, uid: u8 },
    File { parent: usize, name: u8 },
    Symlink { parent: usize, name: u8, target: Vec<u8>, absolute: bool },
    Mount { directory: usize, permissions: u8, uid: u8 },
}

#[derive(Clone, Debug)]
struct Query {
    root: usize,
    cwd: usize,
    path: Vec<u8>,
    absolute: bool,
    trailing_slash: bool,
    follow: bool,
    user: u8,
}

const NAMES: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
const PIECES: [&[u8]; 6] = [b"a", b"b", b"c", b"d", b".", b".."];
const PERMISSIONS: [u32; 4] = [0o755, 0o700, 0o711, 0o644];
const USERS: [u32; 3] = [0, 1000, 2000];

fn join(pieces: &[u8], absolute: bool, trailing_slash: bool) -> Vec<u8> {
    let mut path = Vec::new();
    if absolute {
        path.push(b'/');
    }
    for (index, piece) in pieces.iter().enumerate() {
        if index > 0 {
            path.push(b'/');
        }
        path.extend_from_slice(PIECES[*piece as usize % PIECES.len()]);
    }
    if trailing_slash {
        path.push(b'/');
    }
    path
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(parent, name, permissions, uid)| Operation::Directory { parent, name, permissions, uid }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(parent, name)| Operation::File { parent, name }),
        3 => (any::<usize>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 1..4), any::<bool>())
            .prop_map(|(parent, name, target, absolute)| Operation::Symlink { parent, name, target, absolute }),
        1 => (any::<usize>(), any::<u8>(), any::<u8>())
            .prop_map(|(directory, permissions, uid)| Operation::Mount { directory, permissions, uid }),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    (
        any::<usize>(),
        any::<usize>(),
        proptest::collection::vec(any::<u8>(), 0..6),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(root, cwd, path, absolute, trailing_slash, follow, user)| Query {
            root,
            cwd,
            path,
            absolute,
            trailing_slash,
            follow,
            user,
        })
}

struct World {
    vfs: Vfs,
    model: Model,
    references: BTreeMap<ModelPath, NodeRef>,
}

fn creation(permissions: u32, uid: u32) -> Creation {
    Creation { permissions, uid, gid: 0, time: Timestamp::default() }
}

fn build(operations: &[Operation]) -> World {
    let root_permissions = 0o755;
    let filesystem = MemoryFileSystem::new(1 << 24, 10_000, &creation(root_permissions, 0));
    let mut vfs = Vfs::new(Box::new(filesystem), MountFlags::default(), 1, b"tmpfs");
    let mut model = Model { nodes: BTreeMap::new() };
    model.nodes.insert(Vec::new(), ModelNode { kind: ModelKind::Directory, permissions: root_permissions, uid: 0 });
    let mut references = BTreeMap::new();
    references.insert(Vec::new(), vfs.root());
    let root = Credential::root();
    let caller = Caller { credential: &root, time: Timestamp::default() };
    for operation in operations {
        let directories: Vec<ModelPath> = model
            .nodes
            .iter()
            .filter(|(_, node)| matches!(node.kind, ModelKind::Directory))
            .map(|(path, _)| path.clone())
            .collect();
        let pick = |index: usize| directories[index % directories.len()].clone();
        match operation {
            Operation::Directory { parent, name, .. }
            | Operation::File { parent, name }
            | Operation::Symlink { parent, name, .. } => {
                let parent = pick(*parent);
                let mut path = parent.clone();
                path.push(NAMES[*name as usize % NAMES.len()].to_vec());
                if model.nodes.contains_key(&path) {
                    continue;
                }
                let parent_reference = references[&parent];
                let name = path.last().unwrap().clone();
                let (new_node, model_node, permissions, uid) = match operation {
                    Operation::Directory { permissions, uid, .. } => {
                        let permissions = PERMISSIONS[*permissions as usize % PERMISSIONS.len()];
                        let uid = USERS[*uid as usize % USERS.len()];
                        (NewNode::Directory, ModelKind::Directory, permissions, uid)
                    }
                    Operation::File { .. } => (NewNode::RegularFile, ModelKind::File, 0o644, 0),
                    Operation::Symlink { target, absolute, .. } => {
                        let target = join(target, *absolute, false);
                        let leaked: &'static [u8] = Box::leak(target.clone().into_boxed_slice());
                        (NewNode::Symlink(leaked), ModelKind::Symlink(target), 0o777, 0)
                    }
                    Operation::Mount { .. } => unreachable!(),
                };
                let created = vfs.create_in(parent_reference, &name, new_node, permissions, &caller).unwrap();
                vfs.change_owner(created, Some(uid), None, &caller).unwrap();
                if matches!(model_node, ModelKind::Directory) {
                    // chown clears nothing on a directory; set the mode again anyway.
                    vfs.change_mode(created, permissions, &caller).unwrap();
                }
                model.nodes.insert(path.clone(), ModelNode { kind: model_node, permissions, uid });
                references.insert(path, created);
            }
            Operation::Mount { directory, permissions, uid } => {
                let path = pick(*directory);
                let permissions = PERMISSIONS[*permissions as usize % PERMISSIONS.len()];
                let uid = USERS[*uid as usize % USERS.len()];
                let filesystem = MemoryFileSystem::new(1 << 20, 1000, &creation(permissions, uid));
                let mut text = Vec::new();
                for component in &path {
                    text.push(b'/');
                    text.extend_from_slice(component);
                }
                if text.is_empty() {
                    text.push(b'/');
                }
                let mount = NewMount {
                    filesystem: Box::new(filesystem),
                    flags: MountFlags::default(),
                    device: 100 + references.len() as u64,
                    source: b"tmpfs",
                };
                let id = vfs.mount(&vfs.root_start(), &text, mount, &root).unwrap();
                // The covered tree disappears from the merged namespace.
                let hidden: Vec<ModelPath> = model
                    .nodes
                    .keys()
                    .filter(|key| key.len() > path.len() && key.starts_with(&path))
                    .cloned()
                    .collect();
                for key in hidden {
                    model.nodes.remove(&key);
                    references.remove(&key);
                }
                model.nodes.insert(path.clone(), ModelNode { kind: ModelKind::Directory, permissions, uid });
                references.insert(path, vfs.mounts().mount_root(id).unwrap());
            }
        }
    }
    World { vfs, model, references }
}

fn check(world: &mut World, query: &Query) -> Result<(), TestCaseError> {
    let directories: Vec<ModelPath> = world
        .model
        .nodes
        .iter()
        .filter(|(_, node)| matches!(node.kind, ModelKind::Directory))
        .map(|(path, _)| path.clone())
        .collect();
    let root = directories[query.root % directories.len()].clone();
    let cwd = directories[query.cwd % directories.len()].clone();
    let path = join(&query.path, query.absolute, query.trailing_slash);
    let mut credential = Credential::new(1, USERS[query.user as usize % USERS.len()], 5, &[]);
    credential.set_groups(&[]);
    let mut links = 0;
    let expected = world.model.resolve(&root, &cwd, &path, query.follow, &credential, &mut links);
    let start = Start { root: world.references[&root], directory: world.references[&cwd] };
    let follow = if query.follow { Follow::Follow } else { Follow::NoFollow };
    let actual = world.vfs.resolve(&start, &path, follow, &credential);
    let expected = expected.map(|path| world.references[&path]);
    prop_assert_eq!(
        actual,
        expected,
        "path {:?} from {:?} under root {:?}, follow {}, uid {}",
        String::from_utf8_lossy(&path),
        cwd,
        root,
        query.follow,
        credential.effective_uid
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn resolution_agrees_with_the_model(
        operations in proptest::collection::vec(operation(), 1..40),
        queries in proptest::collection::vec(query(), 1..40),
    ) {
        let mut world = build(&operations);
        for query in &queries {
            check(&mut world, query)?;
        }
    }
}

fn simple_world() -> (Vfs, Credential) {
    let filesystem = MemoryFileSystem::new(1 << 20, 1000, &creation(0o755, 0));
    let vfs = Vfs::new(Box::new(filesystem), MountFlags::default(), 1, b"tmpfs");
    (vfs, Credential::root())
}

#[test]
fn long_paths_and_names_are_refused() {
    let (mut vfs, root) = simple_world();
    let start = vfs.root_start();
    let long_name = vec![b'x'; 256];
    assert_eq!(vfs.resolve(&start, &long_name, Follow::Follow, &root), Err(Errno::NameTooLong));
    let caller = Caller { credential: &root, time: Timestamp::default() };
    assert_eq!(vfs.make(&start, &long_name, NewNode::Directory, 0o755, &caller), Err(Errno::NameTooLong));
    let ok_name = vec![b'x'; 255];
    vfs.make(&start, &ok_name, NewNode::Directory, 0o755, &caller).unwrap();
    let mut long_path = Vec::new();
    while long_path.len() < 4096 {
        long_path.extend_from_slice(b"./");
    }
    assert_eq!(vfs.resolve(&start, &long_path, Follow::Follow, &root), Err(Errno::NameTooLong));
    long_path.truncate(4094);
    assert!(vfs.resolve(&start, &long_path, Follow::Follow, &root).is_ok());
    assert_eq!(vfs.resolve(&start, b"", Follow::Follow, &root), Err(Errno::NoSuchEntry));
    assert_eq!(vfs.resolve(&start, b"a\0b", Follow::Follow, &root), Err(Errno::InvalidArgument));
}

#[test]
fn symlink_loops_end_in_eloop_and_nofollow_stops_at_the_link() {
    let (mut vfs, root) = simple_world();
    let start = vfs.root_start();
    let caller = Caller { credential: &root, time: Timestamp::default() };
    vfs.make(&start, b"/loop1", NewNode::Symlink(b"loop2"), 0o777, &caller).unwrap();
    vfs.make(&start, b"/loop2", NewNode::Symlink(b"/loop1"), 0o777, &caller).unwrap();
    assert_eq!(vfs.resolve(&start, b"/loop1", Follow::Follow, &root), Err(Errno::SymlinkLoop));
    assert_eq!(vfs.resolve(&start, b"/loop1/x", Follow::NoFollow, &root), Err(Errno::SymlinkLoop));
    let link = vfs.resolve(&start, b"/loop1", Follow::NoFollow, &root).unwrap();
    assert_eq!(vfs.attributes(link).unwrap().kind, mach_vfs::NodeKind::Symlink);
    assert_eq!(vfs.read_link(&start, b"/loop1", &root).unwrap(), b"loop2");
    // A chain of exactly 40 links resolves; 41 does not.
    vfs.make(&start, b"/target", NewNode::Directory, 0o755, &caller).unwrap();
    let mut previous = b"target".to_vec();
    for index in 0..41 {
        let name = format!("chain{index}").into_bytes();
        let mut path = b"/".to_vec();
        path.extend_from_slice(&name);
        let leaked: &'static [u8] = Box::leak(previous.clone().into_boxed_slice());
        vfs.make(&start, &path, NewNode::Symlink(leaked), 0o777, &caller).unwrap();
        previous = name;
    }
    assert!(vfs.resolve(&start, b"/chain39", Follow::Follow, &root).is_ok());
    assert_eq!(vfs.resolve(&start, b"/chain40", Follow::Follow, &root), Err(Errno::SymlinkLoop));
}

#[test]
fn dot_dot_stops_at_the_root_and_crosses_mounts() {
    let (mut vfs, root) = simple_world();
    let start = vfs.root_start();
    let caller = Caller { credential: &root, time: Timestamp::default() };
    let jail = vfs.make(&start, b"/jail", NewNode::Directory, 0o755, &caller).unwrap();
    vfs.make(&start, b"/jail/inside", NewNode::Directory, 0o755, &caller).unwrap();
    vfs.make(&start, b"/outside", NewNode::RegularFile, 0o644, &caller).unwrap();
    let jailed = Start { root: jail, directory: jail };
    assert_eq!(vfs.resolve(&jailed, b"../../..", Follow::Follow, &root), Ok(jail));
    assert_eq!(vfs.resolve(&jailed, b"/../outside", Follow::Follow, &root), Err(Errno::NoSuchEntry));
    let mounted = MemoryFileSystem::new(1 << 20, 100, &creation(0o755, 0));
    let mount = NewMount { filesystem: Box::new(mounted), flags: MountFlags::default(), device: 9, source: b"tmpfs" };
    let id = vfs.mount(&start, b"/jail/inside", mount, &root).unwrap();
    let inside = vfs.resolve(&start, b"/jail/inside", Follow::Follow, &root).unwrap();
    assert_eq!(inside, vfs.mounts().mount_root(id).unwrap());
    assert_eq!(vfs.resolve(&Start { root: vfs.root(), directory: inside }, b"..", Follow::Follow, &root), Ok(jail));
    assert_eq!(vfs.attributes(inside).unwrap().device, 9);
    assert_eq!(vfs.path_of(vfs.root(), inside).unwrap(), b"/jail/inside");
    assert_eq!(vfs.path_of(jail, inside).unwrap(), b"/inside");
}

/// Resolution remembers which name leads to a covered directory (so paths
/// through `/tmp` skip the lookup in `/`): the name must go on meaning the
/// mount while it is covered, and be forgotten with the mount.
#[test]
fn a_mount_points_name_leads_to_the_mount_only_while_it_is_mounted() {
    let (mut vfs, root) = simple_world();
    let start = vfs.root_start();
    let caller = Caller { credential: &root, time: Timestamp::default() };
    vfs.make(&start, b"/a", NewNode::Directory, 0o755, &caller).unwrap();
    vfs.make(&start, b"/a/b", NewNode::Directory, 0o755, &caller).unwrap();
    vfs.make(&start, b"/a/other", NewNode::Directory, 0o755, &caller).unwrap();
    let under = vfs.make(&start, b"/a/b/under", NewNode::RegularFile, 0o644, &caller).unwrap();
    let mounted = MemoryFileSystem::new(1 << 20, 100, &creation(0o755, 0));
    let mount = NewMount { filesystem: Box::new(mounted), flags: MountFlags::default(), device: 9, source: b"tmpfs" };
    let id = vfs.mount(&start, b"/a/b", mount, &root).unwrap();
    let on_top = vfs.make(&start, b"/a/b/x", NewNode::RegularFile, 0o644, &caller).unwrap();
    for _ in 0..3 {
        assert_eq!(vfs.resolve(&start, b"/a/b/x", Follow::Follow, &root), Ok(on_top));
        assert_eq!(vfs.resolve(&start, b"/a/b", Follow::Follow, &root), Ok(vfs.mounts().mount_root(id).unwrap()));
        assert_eq!(vfs.resolve(&start, b"/a/b/under", Follow::Follow, &root), Err(Errno::NoSuchEntry));
    }
    // The name cannot change while covered.
    assert_eq!(vfs.remove_directory(&start, b"/a/b", &caller), Err(Errno::Busy));
    assert_eq!(vfs.rename(&start, b"/a/b", &start, b"/a/c", &caller), Err(Errno::Busy));
    assert_eq!(vfs.rename(&start, b"/a/other", &start, b"/a/b", &caller), Err(Errno::Busy));
    // Unmounted: the directory underneath again, and its name can change.
    vfs.unmount(id).unwrap();
    assert_eq!(vfs.resolve(&start, b"/a/b/under", Follow::Follow, &root), Ok(under));
    assert_eq!(vfs.resolve(&start, b"/a/b/x", Follow::Follow, &root), Err(Errno::NoSuchEntry));
    vfs.rename(&start, b"/a/b", &start, b"/a/c", &caller).unwrap();
    assert_eq!(vfs.resolve(&start, b"/a/b", Follow::Follow, &root), Err(Errno::NoSuchEntry));
    assert_eq!(vfs.resolve(&start, b"/a/c/under", Follow::Follow, &root), Ok(under));
    // Mounted again elsewhere: only the new name leads there.
    let again = MemoryFileSystem::new(1 << 20, 100, &creation(0o755, 0));
    let mount = NewMount { filesystem: Box::new(again), flags: MountFlags::default(), device: 10, source: b"tmpfs" };
    let second = vfs.mount(&start, b"/a/c", mount, &root).unwrap();
    assert_eq!(vfs.resolve(&start, b"/a/c", Follow::Follow, &root), Ok(vfs.mounts().mount_root(second).unwrap()));
    assert_eq!(vfs.resolve(&start, b"/a/b", Follow::Follow, &root), Err(Errno::NoSuchEntry));
    assert_eq!(vfs.resolve(&start, b"/a/other", Follow::Follow, &root).map(|node| node.mount), Ok(vfs.root().mount));
}
