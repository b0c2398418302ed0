//! The VFS: operations on names across every mounted file system, with
//! POSIX's permission checks and path rules.
//!
//! Every operation starts from a [`Start`]: the directory a relative path
//! begins at (the directory port the request arrived on) and the root an
//! absolute path, or `..` at the top, stops at (the root that directory
//! was opened under). Paths are walked one component at a time:
//!
//! - each directory walked through must be searchable (`EACCES`) and be a
//!   directory (`ENOTDIR`);
//! - `.` stays, `..` goes up, never above the start's root, and from a
//!   mount's root to the directory it covers first;
//! - a name that is a mount point reaches the root of what is mounted there;
//! - symbolic links in the middle are always followed, the last one only
//!   when asked (`O_NOFOLLOW`, `lstat`); a trailing `/` follows it too and
//!   requires a directory; at most [`SYMLINK_LIMIT`] links per resolution
//!   (`ELOOP`);
//! - a path of [`PATH_MAX`] bytes or more, or a component over
//!   [`NAME_MAX`] bytes, is `ENAMETOOLONG`; an empty path is `ENOENT`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::credential::{check_access, check_owner, check_sticky, Access, Credential};
use crate::errno::Errno;
use crate::filesystem::FileSystem;
use crate::mount::{MountFlags, MountId, MountInfo, MountTable, NodeRef};
use crate::node::{AttributeChanges, Attributes, Creation, FileSystemStatistics, NewNode, NodeKind, Timestamp};

/// Longest path a request may carry, NUL included (so 4095 bytes).
pub const PATH_MAX: usize = 4096;
/// Longest component.
pub const NAME_MAX: usize = 255;
/// Most symbolic links one resolution follows.
pub const SYMLINK_LIMIT: u32 = 40;

/// Where a path is resolved from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// Where `/` and the top of `..` are.
    pub root: NodeRef,
    /// Where a relative path begins.
    pub directory: NodeRef,
}

/// Who asks, and when (for the time stamps a change sets).
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub credential: &'a Credential,
    pub time: Timestamp,
}

/// Whether the last component, if a symbolic link, is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    Follow,
    NoFollow,
}

/// A path resolved up to its last component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    pub directory: NodeRef,
    /// The last component: empty for `/`, possibly `.` or `..`.
    pub name: Vec<u8>,
    /// The path ended in `/`.
    pub trailing_slash: bool,
}

/// What a name resolves to when it may have to be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// It exists (symbolic links followed as asked).
    Found(NodeRef),
    /// It does not; it would be made as `name` in `parent`.
    Missing { parent: NodeRef, name: Vec<u8>, trailing_slash: bool },
}

/// The changes `utimensat` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeChange {
    Keep,
    Now,
    Set(Timestamp),
}

/// A file system about to be mounted.
pub struct NewMount<'a> {
    pub filesystem: Box<dyn FileSystem>,
    pub flags: MountFlags,
    /// `st_dev` of its nodes.
    pub device: u64,
    /// What `mount` lists as its source (`/dev/vdb`, `tmpfs`).
    pub source: &'a [u8],
}

/// The mount table and the operations on names.
pub struct Vfs {
    mounts: MountTable,
}

fn split_component(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().position(|byte| *byte == b'/') {
        Some(slash) => (&path[..slash], &path[slash..]),
        None => (path, &[]),
    }
}

fn trim_leading_slashes(path: &[u8]) -> &[u8] {
    let first = path.iter().position(|byte| *byte != b'/').unwrap_or(path.len());
    &path[first..]
}

/// Refuses paths no resolution may take: empty, too long, holding NUL.
pub fn check_path(path: &[u8]) -> Result<(), Errno> {
    if path.is_empty() {
        return Err(Errno::NoSuchEntry);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::NameTooLong);
    }
    if path.contains(&0) {
        return Err(Errno::InvalidArgument);
    }
    Ok(())
}

impl Vfs {
    /// A VFS whose root is `filesystem`.
    pub fn new(filesystem: Box<dyn FileSystem>, flags: MountFlags, device: u64, source: &[u8]) -> Self {
        Vfs { mounts: MountTable::new(filesystem, flags, device, source) }
    }

    /// The root of the whole tree (the top of any mounts stacked on the
    /// root mount's root).
    pub fn root(&self) -> NodeRef {
        self.mounts.cross_down(self.mounts.root())
    }

    /// A start at the tree's root.
    pub fn root_start(&self) -> Start {
        let root = self.root();
        Start { root, directory: root }
    }

    pub fn mounts(&self) -> &MountTable {
        &self.mounts
    }

    pub fn mounts_mut(&mut self) -> &mut MountTable {
        &mut self.mounts
    }

    /// The file system a node lives on.
    pub fn filesystem(&mut self, node: NodeRef) -> Result<&mut dyn FileSystem, Errno> {
        self.mounts.filesystem(node.mount)
    }

    /// `stat` of a node (with its mount's device number).
    pub fn attributes(&mut self, node: NodeRef) -> Result<Attributes, Errno> {
        let device = self.mounts.device(node.mount)?;
        let mut attributes = self.filesystem(node)?.attributes(node.node)?;
        attributes.device = device;
        Ok(attributes)
    }

    // ----- resolution -------------------------------------------------------

    /// One step: `name` in `directory` (searchable, a directory), with `.`,
    /// `..` and mount crossings.
    fn step(
        &mut self,
        start: &Start,
        directory: NodeRef,
        name: &[u8],
        credential: &Credential,
    ) -> Result<NodeRef, Errno> {
        let attributes = self.attributes(directory)?;
        if attributes.kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        check_access(&attributes, credential, Access::EXECUTE)?;
        match name {
            b"." => Ok(directory),
            b".." => self.parent_of(start, directory),
            _ => {
                if name.len() > NAME_MAX {
                    return Err(Errno::NameTooLong);
                }
                if let Some(covered) = self.mounts.covered_child(directory, name) {
                    return Ok(self.mounts.cross_down(covered));
                }
                let child = self.filesystem(directory)?.lookup(directory.node, name)?;
                let child = NodeRef { mount: directory.mount, node: child };
                self.mounts.note_name(directory, name, child);
                Ok(self.mounts.cross_down(child))
            }
        }
    }

    /// `..` of `directory`: stays at the start's root; from a mount's root
    /// goes to the covered directory first.
    fn parent_of(&mut self, start: &Start, mut directory: NodeRef) -> Result<NodeRef, Errno> {
        for _ in 0..=crate::mount::MOUNTS_MAX {
            if directory == start.root {
                return Ok(directory);
            }
            match self.mounts.covered_by_root(directory) {
                Some(covered) => directory = covered,
                None => {
                    // The root mount's root is its own parent (and what
                    // a path reaches there is the top of its mount stack).
                    if self.mounts.is_mount_root(directory) {
                        return Ok(self.mounts.cross_down(directory));
                    }
                    let parent = self.filesystem(directory)?.lookup(directory.node, b"..")?;
                    return Ok(self.mounts.cross_down(NodeRef { mount: directory.mount, node: parent }));
                }
            }
        }
        Err(Errno::InputOutput)
    }

    /// Walks `path` up to its last component, following every symbolic
    /// link on the way (counted in `links`).
    fn walk_to_parent(
        &mut self,
        start: &Start,
        from: NodeRef,
        path: &[u8],
        credential: &Credential,
        links: &mut u32,
    ) -> Result<Parent, Errno> {
        let mut current = from;
        let mut remaining: Vec<u8> = path.to_vec();
        loop {
            if remaining.first() == Some(&b'/') {
                current = start.root;
            }
            let rest = trim_leading_slashes(&remaining);
            let (component, after) = split_component(rest);
            if component.len() > NAME_MAX {
                return Err(Errno::NameTooLong);
            }
            let after_trimmed = trim_leading_slashes(after);
            if after_trimmed.is_empty() {
                return Ok(Parent { directory: current, name: component.to_vec(), trailing_slash: !after.is_empty() });
            }
            let next = self.step(start, current, component, credential)?;
            if self.attributes(next)?.kind == NodeKind::Symlink {
                *links += 1;
                if *links > SYMLINK_LIMIT {
                    return Err(Errno::SymlinkLoop);
                }
                let target = self.filesystem(next)?.read_link(next.node)?;
                if target.is_empty() {
                    return Err(Errno::NoSuchEntry);
                }
                let mut expanded = target;
                expanded.push(b'/');
                expanded.extend_from_slice(after_trimmed);
                if expanded.len() >= PATH_MAX {
                    return Err(Errno::NameTooLong);
                }
                remaining = expanded;
                // A relative target is resolved from the link's directory:
                // `current` stays.
            } else {
                current = next;
                remaining = after_trimmed.to_vec();
            }
        }
    }

    /// Resolves `path` up to its last component (not looked up).
    pub fn resolve_parent(&mut self, start: &Start, path: &[u8], credential: &Credential) -> Result<Parent, Errno> {
        check_path(path)?;
        let mut links = 0;
        self.walk_to_parent(start, start.directory, path, credential, &mut links)
    }

    /// Looks a path up; if its last component is missing, says where it
    /// would be created. Symbolic links in last place are followed when
    /// `follow` says so (a dangling one then yields `Missing` for its
    /// target, as `open(O_CREAT)` wants).
    pub fn lookup(
        &mut self,
        start: &Start,
        path: &[u8],
        follow: Follow,
        credential: &Credential,
    ) -> Result<Lookup, Errno> {
        check_path(path)?;
        let mut links = 0;
        let mut from = start.directory;
        let mut path: Vec<u8> = path.to_vec();
        loop {
            let parent = self.walk_to_parent(start, from, &path, credential, &mut links)?;
            if parent.name.is_empty() {
                // "/" (or only slashes): the root itself.
                return Ok(Lookup::Found(parent.directory));
            }
            let node = match self.step(start, parent.directory, &parent.name, credential) {
                Ok(node) => node,
                Err(Errno::NoSuchEntry) => {
                    return Ok(Lookup::Missing {
                        parent: parent.directory,
                        name: parent.name,
                        trailing_slash: parent.trailing_slash,
                    })
                }
                Err(error) => return Err(error),
            };
            let attributes = self.attributes(node)?;
            if attributes.kind == NodeKind::Symlink && (follow == Follow::Follow || parent.trailing_slash) {
                links += 1;
                if links > SYMLINK_LIMIT {
                    return Err(Errno::SymlinkLoop);
                }
                let mut target = self.filesystem(node)?.read_link(node.node)?;
                if target.is_empty() {
                    return Err(Errno::NoSuchEntry);
                }
                if parent.trailing_slash {
                    target.push(b'/');
                }
                if target.len() >= PATH_MAX {
                    return Err(Errno::NameTooLong);
                }
                from = parent.directory;
                path = target;
                continue;
            }
            if parent.trailing_slash && attributes.kind != NodeKind::Directory {
                return Err(Errno::NotADirectory);
            }
            return Ok(Lookup::Found(node));
        }
    }

    /// Resolves a path that must exist.
    pub fn resolve(
        &mut self,
        start: &Start,
        path: &[u8],
        follow: Follow,
        credential: &Credential,
    ) -> Result<NodeRef, Errno> {
        match self.lookup(start, path, follow, credential)? {
            Lookup::Found(node) => Ok(node),
            Lookup::Missing { .. } => Err(Errno::NoSuchEntry),
        }
    }

    // ----- making and removing names ------------------------------------------

    /// Makes `name` in `parent` after the checks every creation shares:
    /// a writable mount, a searchable and writable directory, a name that
    /// is not `.` or `..` (`EEXIST`).
    pub fn create_in(
        &mut self,
        parent: NodeRef,
        name: &[u8],
        node: NewNode<'_>,
        permissions: u32,
        caller: &Caller<'_>,
    ) -> Result<NodeRef, Errno> {
        if name.is_empty() || name == b"." || name == b".." {
            return Err(Errno::Exists);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        let directory = self.attributes(parent)?;
        if directory.kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        check_access(&directory, caller.credential, Access::WRITE_SEARCH)?;
        self.mounts.check_writable(parent.mount)?;
        if matches!(node, NewNode::CharacterDevice(_) | NewNode::BlockDevice(_)) && !caller.credential.is_superuser() {
            return Err(Errno::NotPermitted);
        }
        // A set-group-id directory passes its group on (and the bit, to
        // directories), as on Linux; otherwise the creator's group.
        let inherits_group = directory.permissions & 0o2000 != 0;
        let gid = if inherits_group { directory.gid } else { caller.credential.effective_gid };
        let mut permissions = permissions & 0o7777;
        if inherits_group && matches!(node, NewNode::Directory) {
            permissions |= 0o2000;
        }
        let creation = Creation { permissions, uid: caller.credential.effective_uid, gid, time: caller.time };
        let created = self.filesystem(parent)?.create(parent.node, name, node, &creation)?;
        Ok(NodeRef { mount: parent.mount, node: created })
    }

    /// `mkdir`, `mknod`, `mkfifo`, `symlink` by path: the last component
    /// must not exist (`EEXIST`, even as a dangling symbolic link).
    pub fn make(
        &mut self,
        start: &Start,
        path: &[u8],
        node: NewNode<'_>,
        permissions: u32,
        caller: &Caller<'_>,
    ) -> Result<NodeRef, Errno> {
        let parent = self.resolve_parent(start, path, caller.credential)?;
        if parent.trailing_slash && !matches!(node, NewNode::Directory) {
            // "mknod x/" names a directory that does not exist.
            return match self.step(start, parent.directory, &parent.name, caller.credential) {
                Ok(_) => Err(Errno::Exists),
                Err(Errno::NoSuchEntry) => Err(Errno::NoSuchEntry),
                Err(error) => Err(error),
            };
        }
        if parent.name.is_empty() {
            return Err(Errno::Exists);
        }
        match self.step(start, parent.directory, &parent.name, caller.credential) {
            Ok(_) => return Err(Errno::Exists),
            Err(Errno::NoSuchEntry) => {}
            Err(error) => return Err(error),
        }
        self.create_in(parent.directory, &parent.name, node, permissions, caller)
    }

    /// The checks removing `name` (reached as `victim`) from `directory` needs.
    fn check_removal(
        &mut self,
        directory: NodeRef,
        victim: NodeRef,
        caller: &Caller<'_>,
    ) -> Result<(Attributes, Attributes), Errno> {
        let directory_attributes = self.attributes(directory)?;
        check_access(&directory_attributes, caller.credential, Access::WRITE_SEARCH)?;
        let victim_attributes = self.attributes(victim)?;
        check_sticky(&directory_attributes, &victim_attributes, caller.credential)?;
        if victim.mount != directory.mount || self.mounts.mounted_on(victim).is_some() {
            // The name is a mount point (we crossed into another mount).
            return Err(Errno::Busy);
        }
        self.mounts.check_writable(directory.mount)?;
        Ok((directory_attributes, victim_attributes))
    }

    /// `unlink`: removes a name that is not a directory.
    pub fn unlink(&mut self, start: &Start, path: &[u8], caller: &Caller<'_>) -> Result<(), Errno> {
        let parent = self.resolve_parent(start, path, caller.credential)?;
        if parent.name.is_empty() || parent.name == b"." || parent.name == b".." {
            return Err(Errno::IsADirectory);
        }
        let victim = self.step(start, parent.directory, &parent.name, caller.credential)?;
        let victim = self.uncrossed(parent.directory, &parent.name, victim)?;
        let (_, victim_attributes) = self.check_removal(parent.directory, victim, caller)?;
        if victim_attributes.kind == NodeKind::Directory {
            return Err(Errno::IsADirectory);
        }
        if parent.trailing_slash {
            return Err(Errno::NotADirectory);
        }
        self.filesystem(parent.directory)?.unlink(parent.directory.node, &parent.name, caller.time)
    }

    /// `rmdir`: removes an empty directory.
    pub fn remove_directory(&mut self, start: &Start, path: &[u8], caller: &Caller<'_>) -> Result<(), Errno> {
        let parent = self.resolve_parent(start, path, caller.credential)?;
        match parent.name.as_slice() {
            b"" => return Err(Errno::Busy),
            b"." => return Err(Errno::InvalidArgument),
            b".." => return Err(Errno::DirectoryNotEmpty),
            _ => {}
        }
        let victim = self.step(start, parent.directory, &parent.name, caller.credential)?;
        let victim = self.uncrossed(parent.directory, &parent.name, victim)?;
        let (_, victim_attributes) = self.check_removal(parent.directory, victim, caller)?;
        if victim_attributes.kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        if victim == start.root || victim == self.root() {
            return Err(Errno::Busy);
        }
        self.filesystem(parent.directory)?.remove_directory(parent.directory.node, &parent.name, caller.time)
    }

    /// The node a name denotes *in its own directory's file system*: a
    /// mount point is reported as the covered node (so removal sees
    /// `EBUSY`), everything else as reached.
    fn uncrossed(&mut self, directory: NodeRef, name: &[u8], reached: NodeRef) -> Result<NodeRef, Errno> {
        if reached.mount == directory.mount {
            return Ok(reached);
        }
        let node = self.filesystem(directory)?.lookup(directory.node, name)?;
        Ok(NodeRef { mount: directory.mount, node })
    }

    /// `rename` with every POSIX rule: both directories writable and
    /// searchable, the sticky bit, the same mount (`EXDEV`), no mount point
    /// on either side (`EBUSY`), not `.` or `..`, kinds compatible
    /// (`EISDIR`, `ENOTDIR`), an empty directory target (`ENOTEMPTY`), no
    /// directory into its own subtree (`EINVAL`), a directory moving to
    /// another parent must itself be writable (its `..` changes).
    pub fn rename(
        &mut self,
        from_start: &Start,
        from_path: &[u8],
        to_start: &Start,
        to_path: &[u8],
        caller: &Caller<'_>,
    ) -> Result<(), Errno> {
        let credential = caller.credential;
        let from = self.resolve_parent(from_start, from_path, credential)?;
        let to = self.resolve_parent(to_start, to_path, credential)?;
        for name in [&from.name, &to.name] {
            if name.is_empty() || name.as_slice() == b"." || name.as_slice() == b".." {
                return Err(Errno::Busy);
            }
        }
        let source = self.step(from_start, from.directory, &from.name, credential)?;
        let source = self.uncrossed(from.directory, &from.name, source)?;
        let (_, source_attributes) = self.check_removal(from.directory, source, caller)?;
        let source_is_directory = source_attributes.kind == NodeKind::Directory;
        if (from.trailing_slash || to.trailing_slash) && !source_is_directory {
            return Err(Errno::NotADirectory);
        }
        if from.directory.mount != to.directory.mount {
            return Err(Errno::CrossDevice);
        }
        let to_directory_attributes = self.attributes(to.directory)?;
        if to_directory_attributes.kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        check_access(&to_directory_attributes, credential, Access::WRITE_SEARCH)?;
        let target = match self.step(to_start, to.directory, &to.name, credential) {
            Ok(node) => Some(self.uncrossed(to.directory, &to.name, node)?),
            Err(Errno::NoSuchEntry) => None,
            Err(error) => return Err(error),
        };
        if let Some(target) = target {
            if target == source {
                return Ok(());
            }
            let (_, target_attributes) = self.check_removal(to.directory, target, caller)?;
            let target_is_directory = target_attributes.kind == NodeKind::Directory;
            if source_is_directory && !target_is_directory {
                return Err(Errno::NotADirectory);
            }
            if !source_is_directory && target_is_directory {
                return Err(Errno::IsADirectory);
            }
            if target == to_start.root || target == from_start.root || target == self.root() {
                return Err(Errno::Busy);
            }
        }
        if source_is_directory {
            if source == from_start.root || source == to_start.root || source == self.root() {
                return Err(Errno::Busy);
            }
            if self.is_ancestor_or_self(source, to.directory)? {
                return Err(Errno::InvalidArgument);
            }
            if from.directory != to.directory {
                check_access(&source_attributes, credential, Access::WRITE)?;
            }
        }
        self.filesystem(from.directory)?.rename(
            from.directory.node,
            &from.name,
            to.directory.node,
            &to.name,
            caller.time,
        )
    }

    /// True when `ancestor` is `node` or above it in the same mount (walked
    /// through `..`, bounded).
    fn is_ancestor_or_self(&mut self, ancestor: NodeRef, mut node: NodeRef) -> Result<bool, Errno> {
        const DEPTH_LIMIT: usize = 65536;
        for _ in 0..DEPTH_LIMIT {
            if node == ancestor {
                return Ok(true);
            }
            if node.mount != ancestor.mount || self.mounts.is_mount_root(node) {
                return Ok(false);
            }
            let parent = self.filesystem(node)?.lookup(node.node, b"..")?;
            if parent == node.node {
                return Ok(false);
            }
            node = NodeRef { mount: node.mount, node: parent };
        }
        Err(Errno::InputOutput)
    }

    /// `link`: a new name `to_path` for what `from_path` names (followed
    /// as `follow` says; `linkat` does not follow by default).
    pub fn link(
        &mut self,
        from_start: &Start,
        from_path: &[u8],
        follow: Follow,
        to_start: &Start,
        to_path: &[u8],
        caller: &Caller<'_>,
    ) -> Result<(), Errno> {
        let source = self.resolve(from_start, from_path, follow, caller.credential)?;
        if self.attributes(source)?.kind == NodeKind::Directory {
            return Err(Errno::NotPermitted);
        }
        let to = self.resolve_parent(to_start, to_path, caller.credential)?;
        if to.name.is_empty() || to.name == b"." || to.name == b".." {
            return Err(Errno::Exists);
        }
        if to.trailing_slash {
            return Err(Errno::NoSuchEntry);
        }
        match self.step(to_start, to.directory, &to.name, caller.credential) {
            Ok(_) => return Err(Errno::Exists),
            Err(Errno::NoSuchEntry) => {}
            Err(error) => return Err(error),
        }
        if source.mount != to.directory.mount {
            return Err(Errno::CrossDevice);
        }
        let directory = self.attributes(to.directory)?;
        check_access(&directory, caller.credential, Access::WRITE_SEARCH)?;
        self.mounts.check_writable(to.directory.mount)?;
        self.filesystem(source)?.link(source.node, to.directory.node, &to.name, caller.time)
    }

    /// `readlink`.
    pub fn read_link(&mut self, start: &Start, path: &[u8], credential: &Credential) -> Result<Vec<u8>, Errno> {
        let node = self.resolve(start, path, Follow::NoFollow, credential)?;
        if self.attributes(node)?.kind != NodeKind::Symlink {
            return Err(Errno::InvalidArgument);
        }
        self.filesystem(node)?.read_link(node.node)
    }

    // ----- attributes -------------------------------------------------------------

    /// `chmod`: the owner or the superuser; a non-superuser outside the
    /// file's group loses the set-group-id bit (POSIX).
    pub fn change_mode(&mut self, node: NodeRef, permissions: u32, caller: &Caller<'_>) -> Result<(), Errno> {
        let attributes = self.attributes(node)?;
        check_owner(&attributes, caller.credential)?;
        self.mounts.check_writable(node.mount)?;
        let mut permissions = permissions & 0o7777;
        if !caller.credential.is_superuser()
            && attributes.kind != NodeKind::Directory
            && !caller.credential.in_group(attributes.gid)
        {
            permissions &= !0o2000;
        }
        let changes = AttributeChanges { permissions: Some(permissions), ..AttributeChanges::default() };
        self.filesystem(node)?.change_attributes(node.node, &changes, caller.time)
    }

    /// `chown` (`None` keeps an id): only the superuser gives a file away;
    /// the owner may change the group to one of their own. A change by
    /// anyone clears set-user-id and set-group-id on a non-directory
    /// (Linux keeps set-group-id without group execute: a lock marker).
    pub fn change_owner(
        &mut self,
        node: NodeRef,
        uid: Option<u32>,
        gid: Option<u32>,
        caller: &Caller<'_>,
    ) -> Result<(), Errno> {
        let attributes = self.attributes(node)?;
        let credential = caller.credential;
        if !credential.is_superuser() {
            let uid_changes = uid.is_some_and(|uid| uid != attributes.uid);
            let gid_allowed = gid.is_none_or(|gid| gid == attributes.gid || credential.in_group(gid));
            if uid_changes || credential.effective_uid != attributes.uid || !gid_allowed {
                return Err(Errno::NotPermitted);
            }
        }
        self.mounts.check_writable(node.mount)?;
        let mut changes = AttributeChanges { uid, gid, ..AttributeChanges::default() };
        if attributes.kind != NodeKind::Directory && (uid.is_some() || gid.is_some()) {
            let mut permissions = attributes.permissions & !0o4000;
            if permissions & 0o010 != 0 {
                permissions &= !0o2000;
            }
            if permissions != attributes.permissions {
                changes.permissions = Some(permissions);
            }
        }
        self.filesystem(node)?.change_attributes(node.node, &changes, caller.time)
    }

    /// `utimensat`: setting both times to now needs ownership or write
    /// permission; any other change needs ownership.
    pub fn change_times(
        &mut self,
        node: NodeRef,
        access: TimeChange,
        modification: TimeChange,
        caller: &Caller<'_>,
    ) -> Result<(), Errno> {
        if access == TimeChange::Keep && modification == TimeChange::Keep {
            return Ok(());
        }
        let attributes = self.attributes(node)?;
        let only_now = matches!(access, TimeChange::Now | TimeChange::Keep)
            && matches!(modification, TimeChange::Now | TimeChange::Keep);
        if only_now {
            if check_owner(&attributes, caller.credential).is_err() {
                check_access(&attributes, caller.credential, Access::WRITE)?;
            }
        } else {
            check_owner(&attributes, caller.credential)?;
        }
        self.mounts.check_writable(node.mount)?;
        let resolve = |change: TimeChange| match change {
            TimeChange::Keep => None,
            TimeChange::Now => Some(caller.time),
            TimeChange::Set(time) => Some(time),
        };
        let changes = AttributeChanges {
            access_time: resolve(access),
            modification_time: resolve(modification),
            ..AttributeChanges::default()
        };
        self.filesystem(node)?.change_attributes(node.node, &changes, caller.time)
    }

    /// `truncate` by path (write permission; not a directory).
    pub fn truncate(&mut self, node: NodeRef, size: u64, caller: &Caller<'_>) -> Result<(), Errno> {
        let attributes = self.attributes(node)?;
        match attributes.kind {
            NodeKind::Directory => return Err(Errno::IsADirectory),
            NodeKind::RegularFile => {}
            _ => return Err(Errno::InvalidArgument),
        }
        check_access(&attributes, caller.credential, Access::WRITE)?;
        self.mounts.check_writable(node.mount)?;
        self.filesystem(node)?.truncate(node.node, size, caller.time)
    }

    /// `access`/`faccessat`: checks against the real ids unless asked for
    /// the effective ones; write access to a read-only mount is `EROFS`
    /// for files, directories and links.
    pub fn check_access_by(
        &mut self,
        node: NodeRef,
        wanted: Access,
        credential: &Credential,
        effective: bool,
    ) -> Result<(), Errno> {
        let attributes = self.attributes(node)?;
        let credential = if effective { *credential } else { credential.with_real_ids() };
        check_access(&attributes, &credential, wanted)?;
        if wanted.write && matches!(attributes.kind, NodeKind::RegularFile | NodeKind::Directory | NodeKind::Symlink) {
            self.mounts.check_writable(node.mount)?;
        }
        Ok(())
    }

    /// `statfs` of the file system a node is on.
    pub fn statistics(&mut self, node: NodeRef) -> Result<FileSystemStatistics, Errno> {
        self.filesystem(node)?.statistics()
    }

    // ----- mounts -------------------------------------------------------------------

    /// Mounts `filesystem` on the directory `target` resolves to (only the
    /// superuser: `EPERM`).
    pub fn mount(
        &mut self,
        start: &Start,
        target: &[u8],
        mount: NewMount<'_>,
        credential: &Credential,
    ) -> Result<MountId, Errno> {
        if !credential.is_superuser() {
            return Err(Errno::NotPermitted);
        }
        let node = self.resolve(start, target, Follow::Follow, credential)?;
        if self.attributes(node)?.kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        self.mounts.mount(node, mount.filesystem, mount.flags, mount.device, mount.source)
    }

    /// The mount whose root `target` resolves to (`EINVAL` if it is not a
    /// mount's root; `EPERM` for anyone but the superuser). The caller
    /// checks that nothing is open on it, then calls [`Vfs::unmount`].
    pub fn mount_at(&mut self, start: &Start, target: &[u8], credential: &Credential) -> Result<MountId, Errno> {
        if !credential.is_superuser() {
            return Err(Errno::NotPermitted);
        }
        let node = self.resolve(start, target, Follow::Follow, credential)?;
        if !self.mounts.is_mount_root(node) {
            return Err(Errno::InvalidArgument);
        }
        Ok(node.mount)
    }

    /// Unmounts `id` (see [`MountTable::unmount`]).
    pub fn unmount(&mut self, id: MountId) -> Result<(), Errno> {
        self.mounts.unmount(id)
    }

    /// Every mount.
    pub fn list_mounts(&self) -> Vec<MountInfo> {
        self.mounts.list()
    }

    /// Syncs every mounted file system; the first error is returned after
    /// all were tried.
    pub fn sync_all(&mut self) -> Result<(), Errno> {
        let mut first_error = None;
        for id in self.mounts.ids() {
            if let Err(error) = self.mounts.filesystem(id).and_then(|filesystem| filesystem.sync()) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The path of `node` from `root` (what `getcwd` answers), found by
    /// walking `..` and searching each parent for the child's name.
    /// `ENOENT` if `node` is not below `root` or was removed.
    pub fn path_of(&mut self, root: NodeRef, node: NodeRef) -> Result<Vec<u8>, Errno> {
        const DEPTH_LIMIT: usize = 4096;
        let start = Start { root, directory: root };
        let credential = Credential::root();
        let mut components: Vec<Vec<u8>> = Vec::new();
        let mut current = node;
        for _ in 0..DEPTH_LIMIT {
            if current == root {
                let mut path = Vec::new();
                for component in components.iter().rev() {
                    path.push(b'/');
                    path.extend_from_slice(component);
                }
                if path.is_empty() {
                    path.push(b'/');
                }
                if path.len() >= PATH_MAX {
                    return Err(Errno::NameTooLong);
                }
                return Ok(path);
            }
            let parent = self.parent_of(&start, current)?;
            if parent == current {
                return Err(Errno::NoSuchEntry);
            }
            // Within the parent's file system the child is the covered
            // node when `current` is a mount's root.
            let mut child = current;
            while child.mount != parent.mount {
                match self.mounts.covered_by_root(child) {
                    Some(covered) => child = covered,
                    None => return Err(Errno::NoSuchEntry),
                }
            }
            let name = self.name_in(parent, child, &credential)?;
            components.push(name);
            current = parent;
        }
        Err(Errno::NameTooLong)
    }

    /// The name `child` has in `directory` (a linear search).
    fn name_in(&mut self, directory: NodeRef, child: NodeRef, _credential: &Credential) -> Result<Vec<u8>, Errno> {
        let mut position = 0;
        loop {
            let (entries, next) = self.filesystem(directory)?.read_directory(directory.node, position, 256)?;
            for entry in entries {
                if entry.node == child.node && entry.name != b"." && entry.name != b".." {
                    return Ok(entry.name);
                }
            }
            match next {
                Some(next) => position = next,
                None => return Err(Errno::NoSuchEntry),
            }
        }
    }
}
