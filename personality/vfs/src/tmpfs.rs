//! tmpfs: a file system held in memory (`/tmp`, `/dev`).
//!
//! Nodes live in a map by number; a regular file's data is a sparse map of
//! 4 KiB pages (a hole costs nothing and reads as zeros); a directory keeps
//! its entries both by name and by a position that never changes while the
//! entry lives, so a `getdents` cookie stays valid across changes. Space is
//! bounded (`capacity` bytes of pages, link targets and names) and so is
//! the node count: past either, `ENOSPC`.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::filesystem::FileSystem;
use crate::node::{
    magic, AttributeChanges, Attributes, Creation, DeviceNumber, DirectoryEntry, FileSystemStatistics, NewNode, NodeId,
    NodeKind, Timestamp,
};

/// The page size of file data.
const PAGE_SIZE: u64 = 4096;
/// Longest name.
pub const NAME_MAX: usize = 255;
/// Longest symbolic link target.
const SYMLINK_MAX: usize = 4095;
/// Largest file (keeps offsets + lengths far from overflow).
const FILE_SIZE_MAX: u64 = 1 << 40;
/// What each node and each entry is charged besides its data, so a flood
/// of empty files or long names also meets the capacity.
const NODE_COST: u64 = 256;
/// Link count limit (as ext2's).
const LINK_MAX: u32 = 32000;
/// Directory positions of `.` and `..`; entries start after them.
const FIRST_ENTRY_POSITION: u64 = 2;

/// A file's pages by index; a missing page is a hole.
type Pages = BTreeMap<u64, Box<[u8]>>;

enum Content {
    File {
        size: u64,
        pages: Pages,
    },
    Directory(Directory),
    Symlink(Vec<u8>),
    /// Devices, FIFOs, sockets: no data here.
    Special,
}

struct Directory {
    parent: NodeId,
    by_name: BTreeMap<Vec<u8>, u64>,
    by_position: BTreeMap<u64, (Vec<u8>, NodeId)>,
    next_position: u64,
}

impl Directory {
    fn new(parent: NodeId) -> Self {
        Directory {
            parent,
            by_name: BTreeMap::new(),
            by_position: BTreeMap::new(),
            next_position: FIRST_ENTRY_POSITION,
        }
    }

    fn get(&self, name: &[u8]) -> Option<NodeId> {
        let position = self.by_name.get(name)?;
        self.by_position.get(position).map(|(_, node)| *node)
    }

    fn insert(&mut self, name: &[u8], node: NodeId) {
        let position = self.next_position;
        self.next_position += 1;
        self.by_name.insert(name.to_vec(), position);
        self.by_position.insert(position, (name.to_vec(), node));
    }

    fn remove(&mut self, name: &[u8]) -> Option<NodeId> {
        let position = self.by_name.remove(name)?;
        self.by_position.remove(&position).map(|(_, node)| node)
    }

    /// Points an existing name at another node, keeping its position.
    fn replace(&mut self, name: &[u8], node: NodeId) {
        if let Some(position) = self.by_name.get(name) {
            if let Some(entry) = self.by_position.get_mut(position) {
                entry.1 = node;
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

struct MemoryNode {
    kind: NodeKind,
    permissions: u32,
    uid: u32,
    gid: u32,
    links: u32,
    special: DeviceNumber,
    access_time: Timestamp,
    modification_time: Timestamp,
    change_time: Timestamp,
    open_count: u32,
    content: Content,
}

/// A memory file system.
pub struct MemoryFileSystem {
    nodes: BTreeMap<NodeId, MemoryNode>,
    next_node: NodeId,
    capacity: u64,
    used: u64,
    node_limit: u64,
}

const ROOT: NodeId = 1;

impl MemoryFileSystem {
    /// An empty file system of at most `capacity` bytes and `node_limit`
    /// nodes, whose root directory has these permissions and owner.
    pub fn new(capacity: u64, node_limit: u64, root: &Creation) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT,
            MemoryNode {
                kind: NodeKind::Directory,
                permissions: root.permissions & 0o7777,
                uid: root.uid,
                gid: root.gid,
                links: 2,
                special: DeviceNumber::default(),
                access_time: root.time,
                modification_time: root.time,
                change_time: root.time,
                open_count: 0,
                content: Content::Directory(Directory::new(ROOT)),
            },
        );
        MemoryFileSystem { nodes, next_node: ROOT + 1, capacity, used: NODE_COST, node_limit: node_limit.max(1) }
    }

    /// Bytes charged against the capacity now.
    pub fn used_bytes(&self) -> u64 {
        self.used
    }

    fn node(&self, node: NodeId) -> Result<&MemoryNode, Errno> {
        self.nodes.get(&node).ok_or(Errno::Stale)
    }

    fn node_mut(&mut self, node: NodeId) -> Result<&mut MemoryNode, Errno> {
        self.nodes.get_mut(&node).ok_or(Errno::Stale)
    }

    fn directory(&self, node: NodeId) -> Result<&Directory, Errno> {
        match &self.node(node)?.content {
            Content::Directory(directory) => Ok(directory),
            _ => Err(Errno::NotADirectory),
        }
    }

    fn directory_mut(&mut self, node: NodeId) -> Result<&mut Directory, Errno> {
        match &mut self.node_mut(node)?.content {
            Content::Directory(directory) => Ok(directory),
            _ => Err(Errno::NotADirectory),
        }
    }

    fn charge(&mut self, bytes: u64) -> Result<(), Errno> {
        let total = self.used.checked_add(bytes).ok_or(Errno::NoSpace)?;
        if total > self.capacity {
            return Err(Errno::NoSpace);
        }
        self.used = total;
        Ok(())
    }

    fn refund(&mut self, bytes: u64) {
        self.used = self.used.saturating_sub(bytes);
    }

    fn check_new_name(name: &[u8]) -> Result<(), Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0) {
            return Err(Errno::InvalidArgument);
        }
        Ok(())
    }

    /// Touches a directory's modification and change times.
    fn touch_directory(&mut self, directory: NodeId, time: Timestamp) {
        if let Some(node) = self.nodes.get_mut(&directory) {
            node.modification_time = time;
            node.change_time = time;
        }
    }

    /// Frees `node` if nothing refers to it any more (no link, not open).
    fn release_if_unreferenced(&mut self, node: NodeId) {
        let Some(entry) = self.nodes.get(&node) else { return };
        if entry.links > 0 || entry.open_count > 0 {
            return;
        }
        if let Some(entry) = self.nodes.remove(&node) {
            let data = match &entry.content {
                Content::File { pages, .. } => pages.len() as u64 * PAGE_SIZE,
                Content::Symlink(target) => target.len() as u64,
                _ => 0,
            };
            self.refund(data + NODE_COST);
        }
    }

    /// True when `ancestor` is `node` or one of its parents.
    fn is_ancestor(&self, ancestor: NodeId, mut node: NodeId) -> Result<bool, Errno> {
        // Bounded by the node count: a parent chain cannot be longer.
        for _ in 0..=self.nodes.len() {
            if node == ancestor {
                return Ok(true);
            }
            let parent = self.directory(node)?.parent;
            if parent == node {
                return Ok(false);
            }
            node = parent;
        }
        Err(Errno::InputOutput)
    }

    fn file_mut(&mut self, node: NodeId) -> Result<(&mut u64, &mut Pages), Errno> {
        let entry = self.node_mut(node)?;
        match &mut entry.content {
            Content::File { size, pages } => Ok((size, pages)),
            Content::Directory(_) => Err(Errno::IsADirectory),
            _ => Err(Errno::InvalidArgument),
        }
    }
}

impl FileSystem for MemoryFileSystem {
    fn kind_name(&self) -> &'static str {
        "tmpfs"
    }

    fn root(&self) -> NodeId {
        ROOT
    }

    fn is_read_only(&self) -> bool {
        false
    }

    fn attributes(&mut self, node: NodeId) -> Result<Attributes, Errno> {
        let entry = self.node(node)?;
        let (size, blocks) = match &entry.content {
            Content::File { size, pages } => (*size, pages.len() as u64 * (PAGE_SIZE / 512)),
            Content::Directory(directory) => ((directory.by_name.len() as u64 + 2) * 32, 0),
            Content::Symlink(target) => (target.len() as u64, 0),
            Content::Special => (0, 0),
        };
        Ok(Attributes {
            node,
            kind: entry.kind,
            permissions: entry.permissions,
            links: entry.links,
            uid: entry.uid,
            gid: entry.gid,
            size,
            blocks,
            block_size: PAGE_SIZE as u32,
            special: entry.special,
            device: 0,
            access_time: entry.access_time,
            modification_time: entry.modification_time,
            change_time: entry.change_time,
        })
    }

    fn change_attributes(&mut self, node: NodeId, changes: &AttributeChanges, time: Timestamp) -> Result<(), Errno> {
        let entry = self.node_mut(node)?;
        if let Some(permissions) = changes.permissions {
            entry.permissions = permissions & 0o7777;
        }
        if let Some(uid) = changes.uid {
            entry.uid = uid;
        }
        if let Some(gid) = changes.gid {
            entry.gid = gid;
        }
        if let Some(access) = changes.access_time {
            entry.access_time = access;
        }
        if let Some(modification) = changes.modification_time {
            entry.modification_time = modification;
        }
        entry.change_time = time;
        Ok(())
    }

    fn lookup(&mut self, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let entries = self.directory(directory)?;
        match name {
            b"." => Ok(directory),
            b".." => Ok(entries.parent),
            _ => entries.get(name).ok_or(Errno::NoSuchEntry),
        }
    }

    fn create(
        &mut self,
        directory: NodeId,
        name: &[u8],
        node: NewNode<'_>,
        creation: &Creation,
    ) -> Result<NodeId, Errno> {
        Self::check_new_name(name)?;
        let parent = self.directory(directory)?;
        if parent.get(name).is_some() {
            return Err(Errno::Exists);
        }
        if self.nodes.len() as u64 >= self.node_limit {
            return Err(Errno::NoSpace);
        }
        let is_directory = matches!(node, NewNode::Directory);
        if is_directory && self.node(directory)?.links >= LINK_MAX {
            return Err(Errno::TooManyLinks);
        }
        let (content, special, data_cost) = match node {
            NewNode::RegularFile => (Content::File { size: 0, pages: BTreeMap::new() }, DeviceNumber::default(), 0),
            NewNode::Directory => (Content::Directory(Directory::new(directory)), DeviceNumber::default(), 0),
            NewNode::Symlink(target) => {
                if target.is_empty() {
                    return Err(Errno::NoSuchEntry);
                }
                if target.len() > SYMLINK_MAX {
                    return Err(Errno::NameTooLong);
                }
                (Content::Symlink(target.to_vec()), DeviceNumber::default(), target.len() as u64)
            }
            NewNode::CharacterDevice(number) | NewNode::BlockDevice(number) => (Content::Special, number, 0),
            NewNode::Fifo | NewNode::Socket => (Content::Special, DeviceNumber::default(), 0),
        };
        self.charge(NODE_COST + data_cost + name.len() as u64)?;
        let number = self.next_node;
        self.next_node += 1;
        let permissions = if matches!(node, NewNode::Symlink(_)) { 0o777 } else { creation.permissions & 0o7777 };
        self.nodes.insert(
            number,
            MemoryNode {
                kind: node.kind(),
                permissions,
                uid: creation.uid,
                gid: creation.gid,
                links: if is_directory { 2 } else { 1 },
                special,
                access_time: creation.time,
                modification_time: creation.time,
                change_time: creation.time,
                open_count: 0,
                content,
            },
        );
        self.directory_mut(directory)?.insert(name, number);
        if is_directory {
            self.node_mut(directory)?.links += 1;
        }
        self.touch_directory(directory, creation.time);
        Ok(number)
    }

    fn link(&mut self, node: NodeId, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno> {
        Self::check_new_name(name)?;
        let target = self.node(node)?;
        if target.kind == NodeKind::Directory {
            return Err(Errno::NotPermitted);
        }
        if target.links == 0 {
            // An unlinked open file cannot get a name back (Linux: ENOENT).
            return Err(Errno::NoSuchEntry);
        }
        if target.links >= LINK_MAX {
            return Err(Errno::TooManyLinks);
        }
        if self.directory(directory)?.get(name).is_some() {
            return Err(Errno::Exists);
        }
        self.charge(name.len() as u64)?;
        self.directory_mut(directory)?.insert(name, node);
        let target = self.node_mut(node)?;
        target.links += 1;
        target.change_time = time;
        self.touch_directory(directory, time);
        Ok(())
    }

    fn unlink(&mut self, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno> {
        let node = self.lookup(directory, name)?;
        if name == b"." || name == b".." {
            return Err(Errno::InvalidArgument);
        }
        if self.node(node)?.kind == NodeKind::Directory {
            return Err(Errno::IsADirectory);
        }
        self.directory_mut(directory)?.remove(name);
        self.refund(name.len() as u64);
        let target = self.node_mut(node)?;
        target.links = target.links.saturating_sub(1);
        target.change_time = time;
        self.touch_directory(directory, time);
        self.release_if_unreferenced(node);
        Ok(())
    }

    fn remove_directory(&mut self, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno> {
        if name == b"." {
            return Err(Errno::InvalidArgument);
        }
        if name == b".." {
            return Err(Errno::DirectoryNotEmpty);
        }
        let node = self.lookup(directory, name)?;
        if !self.directory(node)?.is_empty() {
            return Err(Errno::DirectoryNotEmpty);
        }
        self.directory_mut(directory)?.remove(name);
        self.refund(name.len() as u64);
        let target = self.node_mut(node)?;
        target.links = 0;
        target.change_time = time;
        let parent = self.node_mut(directory)?;
        parent.links = parent.links.saturating_sub(1).max(2);
        self.touch_directory(directory, time);
        self.release_if_unreferenced(node);
        Ok(())
    }

    fn rename(
        &mut self,
        from_directory: NodeId,
        from_name: &[u8],
        to_directory: NodeId,
        to_name: &[u8],
        time: Timestamp,
    ) -> Result<(), Errno> {
        if matches!(from_name, b"." | b"..") || matches!(to_name, b"." | b"..") {
            return Err(Errno::InvalidArgument);
        }
        Self::check_new_name(to_name)?;
        let source = self.directory(from_directory)?.get(from_name).ok_or(Errno::NoSuchEntry)?;
        let target_parent = self.directory(to_directory)?;
        let existing = target_parent.get(to_name);
        if existing == Some(source) {
            return Ok(());
        }
        let source_is_directory = self.node(source)?.kind == NodeKind::Directory;
        if source_is_directory && self.is_ancestor(source, to_directory)? {
            return Err(Errno::InvalidArgument);
        }
        if let Some(existing) = existing {
            let existing_is_directory = self.node(existing)?.kind == NodeKind::Directory;
            match (source_is_directory, existing_is_directory) {
                (false, true) => return Err(Errno::IsADirectory),
                (true, false) => return Err(Errno::NotADirectory),
                (true, true) if !self.directory(existing)?.is_empty() => return Err(Errno::DirectoryNotEmpty),
                _ => {}
            }
        }
        let moves = from_directory != to_directory;
        if source_is_directory && moves && existing.is_none() && self.node(to_directory)?.links >= LINK_MAX {
            return Err(Errno::TooManyLinks);
        }
        // Every check passed: from here on nothing fails.
        match existing {
            Some(existing) => {
                self.directory_mut(to_directory)?.replace(to_name, source);
                let victim = self.node_mut(existing)?;
                let victim_is_directory = victim.kind == NodeKind::Directory;
                victim.links = if victim_is_directory { 0 } else { victim.links.saturating_sub(1) };
                victim.change_time = time;
                if victim_is_directory {
                    let parent = self.node_mut(to_directory)?;
                    parent.links = parent.links.saturating_sub(1).max(2);
                }
                self.release_if_unreferenced(existing);
            }
            None => {
                self.charge(to_name.len() as u64)?;
                self.directory_mut(to_directory)?.insert(to_name, source);
            }
        }
        self.directory_mut(from_directory)?.remove(from_name);
        self.refund(from_name.len() as u64);
        if source_is_directory && moves {
            self.directory_mut(source)?.parent = to_directory;
            let old_parent = self.node_mut(from_directory)?;
            old_parent.links = old_parent.links.saturating_sub(1).max(2);
            self.node_mut(to_directory)?.links += 1;
        }
        self.node_mut(source)?.change_time = time;
        self.touch_directory(from_directory, time);
        self.touch_directory(to_directory, time);
        Ok(())
    }

    fn read(&mut self, node: NodeId, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno> {
        let (size, pages) = self.file_mut(node)?;
        let size = *size;
        if offset >= size {
            return Ok(0);
        }
        let length = (buffer.len() as u64).min(size - offset) as usize;
        let mut done = 0;
        while done < length {
            let position = offset + done as u64;
            let index = position / PAGE_SIZE;
            let within = (position % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - within).min(length - done);
            match pages.get(&index) {
                Some(page) => buffer[done..done + chunk].copy_from_slice(&page[within..within + chunk]),
                None => buffer[done..done + chunk].fill(0),
            }
            done += chunk;
        }
        Ok(length)
    }

    fn write(&mut self, node: NodeId, offset: u64, data: &[u8], time: Timestamp) -> Result<usize, Errno> {
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::FileTooLarge)?;
        if end > FILE_SIZE_MAX {
            return Err(Errno::FileTooLarge);
        }
        self.file_mut(node)?;
        let mut done = 0;
        let mut failure = None;
        while done < data.len() {
            let position = offset + done as u64;
            let index = position / PAGE_SIZE;
            let within = (position % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - within).min(data.len() - done);
            let present = self.file_mut(node)?.1.contains_key(&index);
            if !present {
                if let Err(error) = self.charge(PAGE_SIZE) {
                    failure = Some(error);
                    break;
                }
            }
            let (_, pages) = self.file_mut(node)?;
            let page = pages.entry(index).or_insert_with(|| vec![0u8; PAGE_SIZE as usize].into_boxed_slice());
            page[within..within + chunk].copy_from_slice(&data[done..done + chunk]);
            done += chunk;
        }
        if done == 0 {
            if let Some(error) = failure {
                return Err(error);
            }
        }
        let (size, _) = self.file_mut(node)?;
        *size = (*size).max(offset + done as u64);
        let entry = self.node_mut(node)?;
        entry.modification_time = time;
        entry.change_time = time;
        Ok(done)
    }

    fn truncate(&mut self, node: NodeId, new_size: u64, time: Timestamp) -> Result<(), Errno> {
        if new_size > FILE_SIZE_MAX {
            return Err(Errno::FileTooLarge);
        }
        let (size, pages) = self.file_mut(node)?;
        let mut freed = 0u64;
        if new_size < *size {
            let keep = new_size.div_ceil(PAGE_SIZE);
            let dropped: Vec<u64> = pages.range(keep..).map(|(index, _)| *index).collect();
            for index in dropped {
                pages.remove(&index);
                freed += PAGE_SIZE;
            }
            let within = (new_size % PAGE_SIZE) as usize;
            if within != 0 {
                if let Some(page) = pages.get_mut(&(new_size / PAGE_SIZE)) {
                    page[within..].fill(0);
                }
            }
        }
        *size = new_size;
        self.refund(freed);
        let entry = self.node_mut(node)?;
        entry.modification_time = time;
        entry.change_time = time;
        Ok(())
    }

    fn read_link(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        match &self.node(node)?.content {
            Content::Symlink(target) => Ok(target.clone()),
            _ => Err(Errno::InvalidArgument),
        }
    }

    fn read_directory(
        &mut self,
        directory: NodeId,
        position: u64,
        limit: usize,
    ) -> Result<(Vec<DirectoryEntry>, Option<u64>), Errno> {
        let entries = self.directory(directory)?;
        let mut listing = Vec::new();
        let push =
            |listing: &mut Vec<DirectoryEntry>, position: u64, node: NodeId, name: &[u8], kind: Option<NodeKind>| {
                listing.push(DirectoryEntry { position, node, name: name.to_vec(), kind });
            };
        for (dot_position, name, node) in [(0u64, &b"."[..], directory), (1, &b".."[..], entries.parent)] {
            if position <= dot_position {
                if listing.len() == limit {
                    return Ok((listing, Some(dot_position)));
                }
                push(&mut listing, dot_position, node, name, Some(NodeKind::Directory));
            }
        }
        for (entry_position, (name, node)) in entries.by_position.range(position.max(FIRST_ENTRY_POSITION)..) {
            if listing.len() == limit {
                return Ok((listing, Some(*entry_position)));
            }
            let kind = self.nodes.get(node).map(|entry| entry.kind);
            push(&mut listing, *entry_position, *node, name, kind);
        }
        Ok((listing, None))
    }

    fn statistics(&mut self) -> Result<FileSystemStatistics, Errno> {
        let free = self.capacity.saturating_sub(self.used) / PAGE_SIZE;
        Ok(FileSystemStatistics {
            kind_magic: magic::TMPFS,
            block_size: PAGE_SIZE,
            blocks: self.capacity / PAGE_SIZE,
            free_blocks: free,
            available_blocks: free,
            files: self.node_limit,
            free_files: self.node_limit.saturating_sub(self.nodes.len() as u64),
            name_max: NAME_MAX as u32,
        })
    }

    fn open_node(&mut self, node: NodeId) -> Result<(), Errno> {
        let entry = self.node_mut(node)?;
        entry.open_count = entry.open_count.checked_add(1).ok_or(Errno::TooManyOpenFiles)?;
        Ok(())
    }

    fn close_node(&mut self, node: NodeId, _time: Timestamp) -> Result<(), Errno> {
        let entry = self.node_mut(node)?;
        entry.open_count = entry.open_count.checked_sub(1).ok_or(Errno::InvalidArgument)?;
        self.release_if_unreferenced(node);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), Errno> {
        Ok(())
    }

    fn shrink_cache(&mut self) -> Result<usize, Errno> {
        // The data *is* the memory: nothing can be dropped without losing files.
        Ok(0)
    }

    fn cached_bytes(&self) -> usize {
        0
    }

    fn unmount(&mut self) -> Result<(), Errno> {
        self.nodes.clear();
        self.used = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creation(permissions: u32) -> Creation {
        Creation { permissions, uid: 0, gid: 0, time: Timestamp::from_seconds(1000) }
    }

    fn new_filesystem() -> MemoryFileSystem {
        MemoryFileSystem::new(1 << 20, 1000, &creation(0o1777))
    }

    #[test]
    fn files_grow_with_holes_and_shrink() {
        let mut filesystem = new_filesystem();
        let file = filesystem.create(ROOT, b"a", NewNode::RegularFile, &creation(0o644)).unwrap();
        assert_eq!(filesystem.write(file, 10_000, b"xyz", Timestamp::from_seconds(5)).unwrap(), 3);
        let attributes = filesystem.attributes(file).unwrap();
        assert_eq!(attributes.size, 10_003);
        assert_eq!(attributes.blocks, 8, "one page, the hole before it costs nothing");
        let mut buffer = [1u8; 16];
        assert_eq!(filesystem.read(file, 9_998, &mut buffer).unwrap(), 5);
        assert_eq!(&buffer[..5], b"\0\0xyz");
        filesystem.truncate(file, 10_001, Timestamp::from_seconds(6)).unwrap();
        filesystem.truncate(file, 10_003, Timestamp::from_seconds(6)).unwrap();
        assert_eq!(filesystem.read(file, 10_000, &mut buffer).unwrap(), 3);
        assert_eq!(&buffer[..3], b"x\0\0", "bytes past a shrink read back as zeros");
    }

    #[test]
    fn space_runs_out_with_enospc_and_comes_back() {
        let mut filesystem = MemoryFileSystem::new(64 * 1024, 100, &creation(0o755));
        let file = filesystem.create(ROOT, b"big", NewNode::RegularFile, &creation(0o644)).unwrap();
        let data = vec![7u8; 128 * 1024];
        let written = filesystem.write(file, 0, &data, Timestamp::default()).unwrap();
        assert!(written < data.len() && written > 0);
        assert_eq!(filesystem.write(file, written as u64, &data, Timestamp::default()), Err(Errno::NoSpace));
        filesystem.unlink(ROOT, b"big", Timestamp::default()).unwrap();
        assert_eq!(filesystem.used_bytes(), NODE_COST);
    }

    #[test]
    fn an_unlinked_open_file_lives_until_closed() {
        let mut filesystem = new_filesystem();
        let file = filesystem.create(ROOT, b"f", NewNode::RegularFile, &creation(0o644)).unwrap();
        filesystem.open_node(file).unwrap();
        filesystem.unlink(ROOT, b"f", Timestamp::default()).unwrap();
        assert_eq!(filesystem.write(file, 0, b"still here", Timestamp::default()), Ok(10));
        assert_eq!(filesystem.attributes(file).unwrap().links, 0);
        filesystem.close_node(file, Timestamp::default()).unwrap();
        assert_eq!(filesystem.attributes(file), Err(Errno::Stale));
    }

    #[test]
    fn rename_follows_posix() {
        let mut filesystem = new_filesystem();
        let time = Timestamp::default();
        let a = filesystem.create(ROOT, b"a", NewNode::Directory, &creation(0o755)).unwrap();
        let b = filesystem.create(a, b"b", NewNode::Directory, &creation(0o755)).unwrap();
        filesystem.create(ROOT, b"file", NewNode::RegularFile, &creation(0o644)).unwrap();
        assert_eq!(filesystem.rename(ROOT, b"a", b, b"inside", time), Err(Errno::InvalidArgument));
        assert_eq!(filesystem.rename(ROOT, b"a", a, b"self", time), Err(Errno::InvalidArgument));
        assert_eq!(filesystem.rename(ROOT, b"file", ROOT, b"a", time), Err(Errno::IsADirectory));
        assert_eq!(filesystem.rename(ROOT, b"a", ROOT, b"file", time), Err(Errno::NotADirectory));
        let empty = filesystem.create(ROOT, b"empty", NewNode::Directory, &creation(0o755)).unwrap();
        assert_eq!(filesystem.rename(ROOT, b"empty", ROOT, b"a", time), Err(Errno::DirectoryNotEmpty));
        // A directory over an empty directory: links follow.
        assert_eq!(filesystem.attributes(ROOT).unwrap().links, 4);
        filesystem.rename(a, b"b", ROOT, b"empty", time).unwrap();
        assert_eq!(filesystem.attributes(empty), Err(Errno::Stale));
        assert_eq!(filesystem.lookup(ROOT, b"empty").unwrap(), b);
        assert_eq!(filesystem.lookup(b, b"..").unwrap(), ROOT);
        assert_eq!(filesystem.attributes(ROOT).unwrap().links, 4);
        assert_eq!(filesystem.attributes(a).unwrap().links, 2);
        // Two links to one file: rename is a no-op.
        let file = filesystem.lookup(ROOT, b"file").unwrap();
        filesystem.link(file, ROOT, b"again", time).unwrap();
        filesystem.rename(ROOT, b"file", ROOT, b"again", time).unwrap();
        assert_eq!(filesystem.lookup(ROOT, b"file").unwrap(), file);
        assert_eq!(filesystem.attributes(file).unwrap().links, 2);
    }

    #[test]
    fn directory_positions_survive_changes() {
        let mut filesystem = new_filesystem();
        for name in [&b"one"[..], b"two", b"three", b"four"] {
            filesystem.create(ROOT, name, NewNode::RegularFile, &creation(0o644)).unwrap();
        }
        let (first, next) = filesystem.read_directory(ROOT, 0, 3).unwrap();
        assert_eq!(first.iter().map(|entry| entry.name.as_slice()).collect::<Vec<_>>(), [&b"."[..], b"..", b"one"]);
        filesystem.unlink(ROOT, b"one", Timestamp::default()).unwrap();
        filesystem.unlink(ROOT, b"two", Timestamp::default()).unwrap();
        filesystem.create(ROOT, b"five", NewNode::RegularFile, &creation(0o644)).unwrap();
        let (rest, end) = filesystem.read_directory(ROOT, next.unwrap(), 100).unwrap();
        assert_eq!(
            rest.iter().map(|entry| entry.name.as_slice()).collect::<Vec<_>>(),
            [&b"three"[..], b"four", b"five"]
        );
        assert_eq!(end, None);
    }
}
