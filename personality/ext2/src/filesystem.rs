//! A mounted file system: mount checks, allocation, block maps, and the
//! inode-number based operations the file server calls.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use crate::bytes::{read_u16, read_u32, write_u16, write_u32};
use crate::cache::{BlockCache, CacheStatistics};
use crate::device::BlockDevice;
use crate::directory::{self, DirectoryEntry, EntryHeader};
use crate::error::Error;
use crate::group::{GroupDescriptor, DESCRIPTOR_SIZE};
use crate::htree;
use crate::inode::{FileKind, Inode, Metadata, DIRECT_BLOCKS, FAST_SYMLINK_MAX, FLAG_INDEX, LINK_MAX};
use crate::superblock::{
    Superblock, COMPAT_DIR_INDEX, INCOMPAT_FILETYPE, MAGIC, ROOT_INODE, RO_COMPAT_LARGE_FILE, STATE_CLEAN,
    STATE_ERRORS, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE,
};
use crate::Result;

/// Largest file size a revision 0 file system can describe.
const REVISION_0_MAX_SIZE: u64 = (1 << 31) - 1;
/// Magic of an extended-attribute block header.
const EXTENDED_ATTRIBUTE_MAGIC: u32 = 0xEA02_0000;
/// Bound on the `..` walk that keeps a directory out of its own subtree.
const MAXIMUM_DIRECTORY_DEPTH: u32 = 65536;

/// How to mount.
#[derive(Debug, Clone, Copy)]
pub struct MountOptions {
    /// Refuse every change.
    pub read_only: bool,
    /// Block cache size, in blocks.
    pub cache_blocks: usize,
    /// Write every changed block to the device at once, in order.
    pub write_through: bool,
    /// Mount time, seconds since the epoch (there is no clock here).
    pub time: u32,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions { read_only: false, cache_blocks: 1024, write_through: false, time: 0 }
    }
}

/// `statfs`-style counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statistics {
    pub block_size: u64,
    pub blocks: u64,
    pub free_blocks: u64,
    /// Free blocks minus those reserved for the superuser.
    pub available_blocks: u64,
    pub inodes: u64,
    pub free_inodes: u64,
    pub name_max: u32,
}

/// Attribute changes for [`Filesystem::set_attributes`]; `None` keeps a value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetAttributes {
    pub permissions: Option<u16>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub access_time: Option<u32>,
    pub modification_time: Option<u32>,
    pub change_time: Option<u32>,
}

/// An htree walk from the root to the leaf a name hashes to.
struct IndexProbe {
    hash: u32,
    /// Hash version in effect (signedness folded in).
    version: u8,
    /// Logical block of the table that chose the leaf (0: the root).
    table_logical: u32,
    /// Logical block of the leaf the name hashes to.
    leaf: u32,
    two_levels: bool,
    root: Vec<u8>,
    root_tail: htree::IndexTail,
    /// The table (root or interior node) that chose the leaf.
    table_block: Vec<u8>,
    tail: htree::IndexTail,
    block_count: u64,
}

/// Where a named entry sits in a directory.
#[derive(Debug, Clone, Copy)]
struct EntryLocation {
    physical: u64,
    header: EntryHeader,
    previous_offset: Option<usize>,
}

/// A mounted ext2 file system on device `D`.
pub struct Filesystem<D: BlockDevice> {
    device: D,
    cache: BlockCache,
    superblock: Superblock,
    groups: Vec<GroupDescriptor>,
    block_size: u64,
    pointers_per_block: u64,
    descriptor_blocks: u32,
    read_only: bool,
    was_clean: bool,
    has_file_type: bool,
    /// Sorted, disjoint `[start, end)` ranges of superblock copies,
    /// descriptor tables, bitmaps and inode tables: never file data.
    metadata_ranges: Vec<(u64, u64)>,
    backups_dirty: bool,
    spread_directories: bool,
    /// Open counts the file server registered ([`Filesystem::open_inode`]).
    open_inodes: BTreeMap<u32, u32>,
    /// Inodes whose last link went while open: freed at the last close.
    orphans: BTreeSet<u32>,
    /// Lookups answered through an htree index, and those that fell back
    /// to a linear scan (for tests and benchmarks).
    index_lookups: u64,
    index_fallbacks: u64,
    latest_time: u32,
    next_generation: u32,
    /// Name indexes of large linear directories (see [`NameIndex`]).
    name_indexes: BTreeMap<u32, NameIndex>,
}

/// An in-memory index of a large directory without an htree index: which
/// block holds each name, and the most room a record of each block offers
/// a new entry. Lookups and insertions then read one block instead of
/// scanning the directory (10,000 entries: hundreds of blocks). Built on
/// first use of a directory of at least [`NAME_INDEX_MIN_BLOCKS`] blocks,
/// kept exact by the operations that change entries, and dropped whenever
/// something it does not follow happens (the directory freed, an
/// inconsistency); never written to disk.
struct NameIndex {
    blocks: BTreeMap<Vec<u8>, u64>,
    room: Vec<usize>,
}

/// Directories smaller than this are scanned: their index would not pay.
const NAME_INDEX_MIN_BLOCKS: u64 = 8;
/// Directories indexed at once (each costs its names in memory).
const NAME_INDEXES_MAX: usize = 8;
/// Directories with more entries than this are scanned (memory bound).
const NAME_INDEX_MAX_ENTRIES: usize = 200_000;

impl<D: BlockDevice> Filesystem<D> {
    /// Mounts the file system on `device`, checking the superblock and every
    /// group descriptor against the device before anything else is read.
    pub fn mount(mut device: D, options: MountOptions) -> Result<Self> {
        if device.size() < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE as u64 {
            return Err(Error::BadMagic);
        }
        let mut raw = vec![0u8; SUPERBLOCK_SIZE];
        device.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
        let mut superblock = Superblock::from_bytes(&raw);
        if superblock.magic() != MAGIC {
            return Err(Error::BadMagic);
        }
        if superblock.revision() > 1 {
            return Err(Error::UnsupportedRevision(superblock.revision()));
        }
        let block_size = superblock.block_size()?;
        let features = superblock.features();
        if let Some(name) = features.first_unsupported_incompatible() {
            return Err(Error::UnsupportedFeature(name));
        }
        if let Some(name) = features.unsupported_compatible() {
            return Err(Error::UnsupportedFeature(name));
        }
        let read_only = options.read_only || features.forces_read_only();
        let geometry = check_geometry(&superblock, block_size, device.size())?;

        let mut groups = Vec::with_capacity(geometry.group_count as usize);
        let mut table = vec![0u8; (geometry.descriptor_blocks as u64 * block_size) as usize];
        let table_block = superblock.first_data_block() as u64 + 1;
        device.read_at(table_block * block_size, &mut table)?;
        for group in 0..geometry.group_count as usize {
            groups.push(GroupDescriptor::from_bytes(&table[group * DESCRIPTOR_SIZE..]));
        }
        let metadata_ranges = metadata_ranges(&superblock, &groups, &geometry)?;
        check_group_counts(&superblock, &groups)?;

        // Summed wide: hostile counts (each at most a group's size) could
        // pass u32 on a huge device.
        let free_blocks: u64 = groups.iter().map(|group| group.free_blocks() as u64).sum();
        let free_inodes: u64 = groups.iter().map(|group| group.free_inodes() as u64).sum();
        if free_blocks > superblock.blocks_count() as u64 || free_inodes > superblock.inodes_count() as u64 {
            return Err(Error::Corrupt("group free counts exceed the file system's size"));
        }
        superblock.set_free_blocks_count(free_blocks as u32);
        superblock.set_free_inodes_count(free_inodes as u32);

        let state = superblock.state();
        let was_clean = state & STATE_CLEAN != 0 && state & STATE_ERRORS == 0;
        let mut filesystem = Filesystem {
            device,
            cache: BlockCache::new(block_size as usize, options.cache_blocks, options.write_through),
            has_file_type: features.incompatible & INCOMPAT_FILETYPE != 0,
            next_generation: superblock.write_time() ^ superblock.inodes_count(),
            superblock,
            groups,
            block_size,
            pointers_per_block: block_size / 4,
            descriptor_blocks: geometry.descriptor_blocks,
            read_only,
            was_clean,
            metadata_ranges,
            backups_dirty: false,
            spread_directories: true,
            open_inodes: BTreeMap::new(),
            orphans: BTreeSet::new(),
            index_lookups: 0,
            index_fallbacks: 0,
            latest_time: options.time,
            name_indexes: BTreeMap::new(),
        };
        if !read_only {
            // Mark the file system in use: a crash from here on leaves it
            // "not clean", so the next boot runs e2fsck.
            let superblock = &mut filesystem.superblock;
            superblock.set_state(state & !STATE_CLEAN);
            superblock.set_mount_count(superblock.mount_count().wrapping_add(1));
            superblock.set_mount_time(options.time);
            filesystem.write_superblock_and_descriptors()?;
            filesystem.device.flush()?;
        }
        Ok(filesystem)
    }

    /// Whether changes are refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Block size in bytes.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// How many lookups used an htree index, and how many found it unusable
    /// and scanned linearly.
    pub fn index_statistics(&self) -> (u64, u64) {
        (self.index_lookups, self.index_fallbacks)
    }

    /// Cache counters.
    pub fn cache_statistics(&self) -> CacheStatistics {
        self.cache.statistics()
    }

    /// Bytes of block data the cache holds now.
    pub fn cached_bytes(&self) -> usize {
        self.cache.cached_bytes()
    }

    /// Gives cache memory back: writes back every dirty block and keeps at
    /// most `keep_blocks` (at least 16). Returns the bytes freed.
    pub fn shrink_cache(&mut self, keep_blocks: usize) -> Result<usize> {
        self.cache.shrink(&mut self.device, keep_blocks)
    }

    /// `statfs`.
    pub fn statistics(&self) -> Statistics {
        let free_blocks = self.superblock.free_blocks_count() as u64;
        Statistics {
            block_size: self.block_size,
            blocks: self.superblock.blocks_count() as u64,
            free_blocks,
            available_blocks: free_blocks.saturating_sub(self.superblock.reserved_blocks_count() as u64),
            inodes: self.superblock.inodes_count() as u64,
            free_inodes: self.superblock.free_inodes_count() as u64,
            name_max: directory::NAME_MAX as u32,
        }
    }

    /// Writes back every cached change, the group descriptors and the
    /// superblock (in that order), then flushes the device.
    pub fn sync(&mut self) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        self.cache.sync(&mut self.device)?;
        self.superblock.set_write_time(self.latest_time);
        self.write_superblock_and_descriptors()?;
        self.device.flush()?;
        Ok(())
    }

    /// Syncs, marks the file system clean (unless it was not clean when
    /// mounted) and gives the device back.
    pub fn unmount(mut self) -> Result<D> {
        if !self.read_only {
            // Unmounting closes everything: orphans go now.
            let orphans: Vec<u32> = self.orphans.iter().copied().collect();
            for number in orphans {
                self.orphans.remove(&number);
                let inode = self.read_inode_raw(number)?;
                let time = self.latest_time;
                self.delete_inode(inode, time)?;
            }
            if self.was_clean {
                let state = self.superblock.state();
                self.superblock.set_state(state | STATE_CLEAN);
            }
            self.sync()?;
        }
        Ok(self.device)
    }

    /// Recounts every bitmap and checks the group descriptors and the
    /// superblock against it (what e2fsck's pass 5 checks for counts):
    /// `Corrupt` names the first disagreement. Reads every bitmap block.
    pub fn verify_free_counts(&mut self) -> Result<()> {
        let inodes_per_group = self.superblock.inodes_per_group() as usize;
        let (mut total_blocks, mut total_inodes) = (0u64, 0u64);
        for group in 0..self.groups.len() {
            let block_limit = self.blocks_in_group(group as u32) as usize;
            let descriptor = self.groups[group];
            let bitmap = self.cache.read(&mut self.device, descriptor.block_bitmap() as u64)?;
            let free_blocks = count_clear_bits(bitmap, block_limit);
            let bitmap = self.cache.read(&mut self.device, descriptor.inode_bitmap() as u64)?;
            let free_inodes = count_clear_bits(bitmap, inodes_per_group);
            if free_blocks != descriptor.free_blocks() as u64 {
                return Err(Error::Corrupt("a group's free block count disagrees with its bitmap"));
            }
            if free_inodes != descriptor.free_inodes() as u64 {
                return Err(Error::Corrupt("a group's free inode count disagrees with its bitmap"));
            }
            total_blocks += free_blocks;
            total_inodes += free_inodes;
        }
        if total_blocks != self.superblock.free_blocks_count() as u64
            || total_inodes != self.superblock.free_inodes_count() as u64
        {
            return Err(Error::Corrupt("superblock free counts disagree with the groups"));
        }
        Ok(())
    }

    // ----- attributes -------------------------------------------------------

    /// `stat` of an inode.
    pub fn metadata(&mut self, inode: u32) -> Result<Metadata> {
        let inode = self.load_inode(inode)?;
        inode.metadata().ok_or(Error::Corrupt("inode in use has an invalid mode"))
    }

    /// Changes permissions, owner and times.
    pub fn set_attributes(&mut self, inode: u32, attributes: SetAttributes) -> Result<()> {
        self.check_writable()?;
        let mut inode = self.load_inode(inode)?;
        if let Some(permissions) = attributes.permissions {
            inode.set_mode((inode.mode() & 0xF000) | (permissions & 0o7777));
        }
        if let Some(uid) = attributes.uid {
            inode.set_uid(uid);
        }
        if let Some(gid) = attributes.gid {
            inode.set_gid(gid);
        }
        if let Some(time) = attributes.access_time {
            inode.set_access_time(time);
        }
        if let Some(time) = attributes.modification_time {
            inode.set_modification_time(time);
        }
        if let Some(time) = attributes.change_time {
            inode.set_change_time(time);
            self.note_time(time);
        }
        self.write_inode(&inode)
    }

    // ----- directories ------------------------------------------------------

    /// The inode of `name` in directory `directory`.
    pub fn lookup(&mut self, directory: u32, name: &[u8]) -> Result<u32> {
        let directory = self.load_directory(directory)?;
        match self.find_entry(&directory, name)? {
            Some(location) => self.check_inode_number(location.header.inode).map(|_| location.header.inode),
            None => Err(Error::NotFound),
        }
    }

    /// Every entry of a directory, "." and ".." included, in disk order.
    pub fn read_directory(&mut self, directory: u32) -> Result<Vec<DirectoryEntry>> {
        let mut entries = Vec::new();
        let mut position = 0;
        loop {
            let (mut batch, next) = self.read_directory_from(directory, position, usize::MAX)?;
            entries.append(&mut batch);
            match next {
                Some(next) => position = next,
                None => return Ok(entries),
            }
        }
    }

    /// Up to `limit` entries from byte `position` of the directory (0 at
    /// the start), and the position to continue from (`None` at the end):
    /// what `getdents` with a `telldir` cookie needs. Positions are record
    /// offsets, stable while the directory does not change; one that does
    /// not fall on a record starts at the next record.
    pub fn read_directory_from(
        &mut self,
        directory: u32,
        position: u64,
        limit: usize,
    ) -> Result<(Vec<DirectoryEntry>, Option<u64>)> {
        let directory = self.load_directory(directory)?;
        let mut entries = Vec::new();
        let block_count = self.directory_block_count(&directory)?;
        let first_block = position / self.block_size;
        for index in first_block..block_count {
            let physical = self.directory_block(&directory, index)?;
            let block = self.cache.read(&mut self.device, physical)?;
            let skip_below = if index == first_block { (position % self.block_size) as usize } else { 0 };
            for header in directory::parse_block(block, self.has_file_type)? {
                if header.offset < skip_below || header.inode == 0 {
                    continue;
                }
                if entries.len() == limit {
                    return Ok((entries, Some(index * self.block_size + header.offset as u64)));
                }
                if header.inode > self.superblock.inodes_count() {
                    return Err(Error::InvalidInode(header.inode));
                }
                entries.push(DirectoryEntry {
                    position: index * self.block_size + header.offset as u64,
                    inode: header.inode,
                    name: header.name(block).to_vec(),
                    file_type: header.file_type,
                });
            }
        }
        Ok((entries, None))
    }

    /// Creates a regular file; returns its inode number.
    pub fn create(
        &mut self,
        directory: u32,
        name: &[u8],
        permissions: u16,
        uid: u32,
        gid: u32,
        time: u32,
    ) -> Result<u32> {
        self.make_node(directory, name, FileKind::RegularFile, permissions, uid, gid, time, NodeContent::Empty)
    }

    /// Creates a directory; returns its inode number.
    pub fn make_directory(
        &mut self,
        directory: u32,
        name: &[u8],
        permissions: u16,
        uid: u32,
        gid: u32,
        time: u32,
    ) -> Result<u32> {
        self.make_node(directory, name, FileKind::Directory, permissions, uid, gid, time, NodeContent::Empty)
    }

    /// Creates a symbolic link to `target`; returns its inode number.
    pub fn symlink(
        &mut self,
        directory: u32,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
        time: u32,
    ) -> Result<u32> {
        if target.is_empty() {
            return Err(Error::InvalidArgument("empty symlink target"));
        }
        if target.len() >= self.block_size as usize {
            return Err(Error::NameTooLong);
        }
        self.make_node(directory, name, FileKind::Symlink, 0o777, uid, gid, time, NodeContent::Symlink(target))
    }

    /// Creates a device, FIFO or socket inode. `device` is (major, minor) for
    /// character and block devices and ignored otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn make_node_of_kind(
        &mut self,
        directory: u32,
        name: &[u8],
        kind: FileKind,
        permissions: u16,
        device: (u32, u32),
        uid: u32,
        gid: u32,
        time: u32,
    ) -> Result<u32> {
        match kind {
            FileKind::CharacterDevice | FileKind::BlockDevice => {
                if device.0 > 0xFFF || device.1 > 0xF_FFFF {
                    return Err(Error::InvalidArgument("device number out of range"));
                }
                self.make_node(directory, name, kind, permissions, uid, gid, time, NodeContent::Device(device))
            }
            FileKind::Fifo | FileKind::Socket | FileKind::RegularFile => {
                self.make_node(directory, name, kind, permissions, uid, gid, time, NodeContent::Empty)
            }
            FileKind::Directory => self.make_directory(directory, name, permissions, uid, gid, time),
            FileKind::Symlink => Err(Error::InvalidArgument("use symlink() to make a symbolic link")),
        }
    }

    /// Adds a hard link `name` in `directory` to `inode` (not a directory).
    pub fn link(&mut self, inode: u32, directory: u32, name: &[u8], time: u32) -> Result<()> {
        self.check_writable()?;
        directory::check_new_name(name)?;
        let mut target = self.load_inode(inode)?;
        if target.kind() == Some(FileKind::Directory) {
            return Err(Error::IsADirectory);
        }
        if target.links() + 1 > LINK_MAX {
            return Err(Error::TooManyLinks);
        }
        let mut parent = self.load_directory(directory)?;
        if self.find_entry(&parent, name)?.is_some() {
            return Err(Error::AlreadyExists);
        }
        self.note_time(time);
        // The inode's count goes up before the entry exists: a crash between
        // leaves a count too high, which e2fsck fixes without data loss.
        target.set_links(target.links() + 1);
        target.set_change_time(time);
        self.write_inode(&target)?;
        let file_type = self.entry_type(&target);
        if let Err(error) = self.add_entry(&mut parent, name, inode, file_type) {
            target.set_links(target.links() - 1);
            self.write_inode(&target)?;
            return Err(error);
        }
        parent.set_modification_time(time);
        parent.set_change_time(time);
        self.write_inode(&parent)
    }

    /// Removes the entry `name` (not a directory) and, at the last link,
    /// frees the inode.
    pub fn unlink(&mut self, directory: u32, name: &[u8], time: u32) -> Result<()> {
        self.check_writable()?;
        if name == b"." || name == b".." {
            return Err(Error::InvalidName);
        }
        let mut parent = self.load_directory(directory)?;
        let location = self.find_entry(&parent, name)?.ok_or(Error::NotFound)?;
        let mut target = self.load_inode(location.header.inode)?;
        if target.kind() == Some(FileKind::Directory) {
            return Err(Error::IsADirectory);
        }
        self.note_time(time);
        self.remove_entry_at(&parent, name, &location)?;
        parent.set_modification_time(time);
        parent.set_change_time(time);
        self.write_inode(&parent)?;
        target.set_links(target.links().saturating_sub(1));
        target.set_change_time(time);
        if target.links() == 0 {
            self.drop_inode(target, time)
        } else {
            self.write_inode(&target)
        }
    }

    /// Registers one more open of `inode`: if its last link goes while it
    /// is open, it stays allocated (link count 0) until the matching
    /// [`Filesystem::close_inode`], as POSIX wants for unlinked open files.
    pub fn open_inode(&mut self, inode: u32) -> Result<()> {
        self.load_inode(inode)?;
        let count = self.open_inodes.entry(inode).or_insert(0);
        *count = count.checked_add(1).ok_or(Error::InvalidArgument("open count overflow"))?;
        Ok(())
    }

    /// Drops one open of `inode`; at the last close of an inode that has
    /// no links any more, frees it.
    pub fn close_inode(&mut self, inode: u32, time: u32) -> Result<()> {
        let count =
            self.open_inodes.get_mut(&inode).ok_or(Error::InvalidArgument("close of an inode that is not open"))?;
        *count -= 1;
        if *count > 0 {
            return Ok(());
        }
        self.open_inodes.remove(&inode);
        if self.orphans.remove(&inode) {
            self.check_writable()?;
            self.note_time(time);
            let orphan = self.read_inode_raw(inode)?;
            self.delete_inode(orphan, time)?;
        }
        Ok(())
    }

    /// Removes the empty directory `name`.
    pub fn remove_directory(&mut self, directory: u32, name: &[u8], time: u32) -> Result<()> {
        self.check_writable()?;
        if name == b"." || name == b".." {
            return Err(Error::InvalidName);
        }
        let mut parent = self.load_directory(directory)?;
        let location = self.find_entry(&parent, name)?.ok_or(Error::NotFound)?;
        let target = self.load_inode(location.header.inode)?;
        if target.kind() != Some(FileKind::Directory) {
            return Err(Error::NotADirectory);
        }
        if target.number == parent.number || target.number == ROOT_INODE {
            return Err(Error::Corrupt("directory entry names its own directory or the root"));
        }
        if !self.directory_is_empty(&target)? {
            return Err(Error::DirectoryNotEmpty);
        }
        self.note_time(time);
        self.remove_entry_at(&parent, name, &location)?;
        parent.set_links(parent.links().saturating_sub(1).max(2));
        parent.set_modification_time(time);
        parent.set_change_time(time);
        self.write_inode(&parent)?;
        let mut target = target;
        target.set_links(0);
        self.drop_inode(target, time)
    }

    /// Renames `old_name` in `old_directory` to `new_name` in
    /// `new_directory`, replacing a compatible target (a file by a file, an
    /// empty directory by a directory).
    pub fn rename(
        &mut self,
        old_directory: u32,
        old_name: &[u8],
        new_directory: u32,
        new_name: &[u8],
        time: u32,
    ) -> Result<()> {
        self.check_writable()?;
        if old_name == b"." || old_name == b".." {
            return Err(Error::InvalidName);
        }
        directory::check_new_name(new_name)?;
        let old_parent = self.load_directory(old_directory)?;
        let source_location = self.find_entry(&old_parent, old_name)?.ok_or(Error::NotFound)?;
        let mut source = self.load_inode(source_location.header.inode)?;
        let source_is_directory = source.kind() == Some(FileKind::Directory);
        let moves_between_directories = old_directory != new_directory;
        if source_is_directory && moves_between_directories {
            self.refuse_move_into_subtree(source.number, new_directory)?;
        }
        let mut new_parent = self.load_directory(new_directory)?;
        let existing = self.find_entry(&new_parent, new_name)?;
        if let Some(existing) = existing {
            if existing.header.inode == source.number {
                return Ok(());
            }
        }
        self.note_time(time);
        match existing {
            Some(existing) => self.replace_entry(&mut new_parent, &existing, &source, time)?,
            None => {
                if source_is_directory && moves_between_directories && new_parent.links() + 1 > LINK_MAX {
                    return Err(Error::TooManyLinks);
                }
                let file_type = self.entry_type(&source);
                self.add_entry(&mut new_parent, new_name, source.number, file_type)?;
                self.write_inode(&new_parent)?;
            }
        }
        // The old entry goes after the new one exists (reloaded: the new
        // entry may have changed the same directory).
        let mut old_parent = self.load_directory(old_directory)?;
        let source_location =
            self.find_entry(&old_parent, old_name)?.ok_or(Error::Corrupt("renamed entry vanished"))?;
        self.remove_entry_at(&old_parent, old_name, &source_location)?;
        old_parent.set_modification_time(time);
        old_parent.set_change_time(time);
        if source_is_directory && moves_between_directories {
            old_parent.set_links(old_parent.links().saturating_sub(1).max(2));
        }
        self.write_inode(&old_parent)?;
        if source_is_directory && moves_between_directories {
            self.set_parent_entry(&source, new_directory)?;
            let mut new_parent = self.load_directory(new_directory)?;
            new_parent.set_links(new_parent.links() + 1);
            self.write_inode(&new_parent)?;
        }
        let mut new_parent = self.load_directory(new_directory)?;
        new_parent.set_modification_time(time);
        new_parent.set_change_time(time);
        self.write_inode(&new_parent)?;
        source = self.load_inode(source.number)?;
        source.set_change_time(time);
        self.write_inode(&source)
    }

    /// rename's replacing half: points the existing entry at `source` (so
    /// the name never disappears) and drops the target's link; a directory
    /// target must be empty and takes its ".." link from the parent.
    fn replace_entry(&mut self, parent: &mut Inode, existing: &EntryLocation, source: &Inode, time: u32) -> Result<()> {
        let mut target = self.load_inode(existing.header.inode)?;
        let source_is_directory = source.kind() == Some(FileKind::Directory);
        let target_is_directory = target.kind() == Some(FileKind::Directory);
        if target_is_directory && !source_is_directory {
            return Err(Error::IsADirectory);
        }
        if !target_is_directory && source_is_directory {
            return Err(Error::NotADirectory);
        }
        if target_is_directory && !self.directory_is_empty(&target)? {
            return Err(Error::DirectoryNotEmpty);
        }
        let has_file_type = self.has_file_type;
        let file_type = self.entry_type(source);
        let offset = existing.header.offset;
        let number = source.number;
        self.cache.update(&mut self.device, existing.physical, |block| {
            directory::set_entry_inode(block, offset, number, file_type, has_file_type)
        })?;
        // Same name, same leaf: an htree index stays valid.
        if target_is_directory {
            parent.set_links(parent.links().saturating_sub(1).max(2));
            target.set_links(0);
        } else {
            target.set_links(target.links().saturating_sub(1));
            target.set_change_time(time);
        }
        self.write_inode(parent)?;
        if target.links() == 0 {
            self.drop_inode(target, time)
        } else {
            self.write_inode(&target)
        }
    }

    // ----- file contents ----------------------------------------------------

    /// Reads from `offset`; returns the bytes read (0 at or past the end).
    /// Holes read as zeros.
    pub fn read(&mut self, inode: u32, offset: u64, buffer: &mut [u8]) -> Result<usize> {
        let inode = self.load_inode(inode)?;
        match inode.kind() {
            Some(FileKind::RegularFile) => {}
            Some(FileKind::Directory) => return Err(Error::IsADirectory),
            _ => return Err(Error::InvalidArgument("read of a file that is not a regular file")),
        }
        let size = inode.size();
        if offset >= size {
            return Ok(0);
        }
        let length = (buffer.len() as u64).min(size - offset) as usize;
        let mut done = 0;
        while done < length {
            let position = offset + done as u64;
            let logical = position / self.block_size;
            let within = (position % self.block_size) as usize;
            let chunk = (self.block_size as usize - within).min(length - done);
            match self.lookup_block(&inode, logical)? {
                Some(physical) => {
                    let block = self.cache.read(&mut self.device, physical as u64)?;
                    buffer[done..done + chunk].copy_from_slice(&block[within..within + chunk]);
                }
                None => buffer[done..done + chunk].fill(0),
            }
            done += chunk;
        }
        Ok(length)
    }

    /// Writes `data` at `offset`, growing the file as needed; returns the
    /// bytes written (fewer than asked only when the disk fills up).
    pub fn write(&mut self, inode: u32, offset: u64, data: &[u8], time: u32) -> Result<usize> {
        self.check_writable()?;
        let mut inode = self.load_inode(inode)?;
        match inode.kind() {
            Some(FileKind::RegularFile) => {}
            Some(FileKind::Directory) => return Err(Error::IsADirectory),
            _ => return Err(Error::InvalidArgument("write to a file that is not a regular file")),
        }
        let end = offset.checked_add(data.len() as u64).ok_or(Error::FileTooLarge)?;
        self.check_file_size(end)?;
        self.note_time(time);
        let mut done = 0;
        let mut goal = 0u32;
        let mut failure = None;
        while done < data.len() {
            let position = offset + done as u64;
            let logical = position / self.block_size;
            let within = (position % self.block_size) as usize;
            let chunk = (self.block_size as usize - within).min(data.len() - done);
            let piece = &data[done..done + chunk];
            match self.write_block_piece(&mut inode, logical, within, piece, &mut goal) {
                Ok(()) => done += chunk,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let written_end = offset + done as u64;
        if written_end > inode.size() {
            self.set_file_size(&mut inode, written_end)?;
        }
        if done > 0 {
            inode.set_modification_time(time);
            inode.set_change_time(time);
        }
        self.write_inode(&inode)?;
        match failure {
            Some(error) if done == 0 => Err(error),
            _ => Ok(done),
        }
    }

    /// Sets a regular file's size: shrinking frees the blocks past the end
    /// and zeroes the tail of the last block; growing leaves a hole.
    pub fn truncate(&mut self, inode: u32, size: u64, time: u32) -> Result<()> {
        self.check_writable()?;
        let mut inode = self.load_inode(inode)?;
        match inode.kind() {
            Some(FileKind::RegularFile) => {}
            Some(FileKind::Directory) => return Err(Error::IsADirectory),
            _ => return Err(Error::InvalidArgument("truncate of a file that is not a regular file")),
        }
        self.check_file_size(size)?;
        self.note_time(time);
        if size < inode.size() {
            let keep = size.div_ceil(self.block_size);
            self.free_blocks_from(&mut inode, keep)?;
            let within = (size % self.block_size) as usize;
            if within != 0 {
                if let Some(physical) = self.lookup_block(&inode, size / self.block_size)? {
                    self.cache.update(&mut self.device, physical as u64, |block| block[within..].fill(0))?;
                }
            }
        }
        self.set_file_size(&mut inode, size)?;
        inode.set_modification_time(time);
        inode.set_change_time(time);
        self.write_inode(&inode)
    }

    /// A symbolic link's target.
    pub fn read_link(&mut self, inode: u32) -> Result<Vec<u8>> {
        let inode = self.load_inode(inode)?;
        if inode.kind() != Some(FileKind::Symlink) {
            return Err(Error::NotASymlink);
        }
        let size = inode.size() as usize;
        if size == 0 || size >= self.block_size as usize {
            return Err(Error::Corrupt("symlink size is zero or not below the block size"));
        }
        if self.is_fast_symlink(&inode) {
            if size >= FAST_SYMLINK_MAX {
                return Err(Error::Corrupt("fast symlink longer than the inode's block area"));
            }
            return Ok(inode.block_area()[..size].to_vec());
        }
        let physical = self.lookup_block(&inode, 0)?.ok_or(Error::Corrupt("slow symlink without a data block"))?;
        let block = self.cache.read(&mut self.device, physical as u64)?;
        Ok(block[..size].to_vec())
    }

    // ----- internals: inodes ------------------------------------------------

    fn check_writable(&self) -> Result<()> {
        if self.read_only {
            Err(Error::ReadOnly)
        } else {
            Ok(())
        }
    }

    fn note_time(&mut self, time: u32) {
        self.latest_time = self.latest_time.max(time);
    }

    fn check_inode_number(&self, number: u32) -> Result<()> {
        if number == 0 || number > self.superblock.inodes_count() {
            Err(Error::InvalidInode(number))
        } else {
            Ok(())
        }
    }

    fn inode_position(&self, number: u32) -> Result<(u64, usize)> {
        self.check_inode_number(number)?;
        let inodes_per_group = self.superblock.inodes_per_group();
        let group = ((number - 1) / inodes_per_group) as usize;
        let index = ((number - 1) % inodes_per_group) as u64;
        let inode_size = self.superblock.inode_size() as u64;
        let byte = index * inode_size;
        let block = self.groups[group].inode_table() as u64 + byte / self.block_size;
        Ok((block, (byte % self.block_size) as usize))
    }

    /// Reads an inode without judging its contents.
    fn read_inode_raw(&mut self, number: u32) -> Result<Inode> {
        let (block, offset) = self.inode_position(number)?;
        let size = self.superblock.inode_size() as usize;
        let data = self.cache.read(&mut self.device, block)?;
        Ok(Inode::from_bytes(number, &data[offset..offset + size]))
    }

    /// Reads an inode that must be in use.
    fn load_inode(&mut self, number: u32) -> Result<Inode> {
        let inode = self.read_inode_raw(number)?;
        let orphan = inode.links() == 0 && self.orphans.contains(&number);
        if inode.kind().is_none() || (inode.links() == 0 && !orphan) {
            return Err(Error::Corrupt("a referenced inode is free or has an invalid mode"));
        }
        Ok(inode)
    }

    fn load_directory(&mut self, number: u32) -> Result<Inode> {
        let inode = self.load_inode(number)?;
        if inode.kind() != Some(FileKind::Directory) {
            return Err(Error::NotADirectory);
        }
        Ok(inode)
    }

    fn write_inode(&mut self, inode: &Inode) -> Result<()> {
        let (block, offset) = self.inode_position(inode.number)?;
        let bytes = inode.as_bytes();
        self.cache.update(&mut self.device, block, |data| data[offset..offset + bytes.len()].copy_from_slice(bytes))
    }

    fn entry_type(&self, inode: &Inode) -> u8 {
        if self.has_file_type {
            inode.kind().map_or(0, FileKind::directory_entry_type)
        } else {
            0
        }
    }

    fn is_fast_symlink(&self, inode: &Inode) -> bool {
        let attribute_sectors = if inode.file_acl() != 0 { self.block_size / 512 } else { 0 };
        inode.sectors() == attribute_sectors
    }

    fn check_file_size(&self, size: u64) -> Result<()> {
        let per = self.pointers_per_block;
        let mapped_blocks = DIRECT_BLOCKS as u64 + per + per * per + per * per * per;
        // i_blocks is 32 bits of 512-byte sectors without huge_file.
        let sector_limit = (u32::MAX as u64 * 512) / self.block_size * self.block_size / 2;
        let mut limit = (mapped_blocks * self.block_size).min(sector_limit);
        if self.superblock.revision() == 0 {
            limit = limit.min(REVISION_0_MAX_SIZE);
        }
        if size > limit {
            Err(Error::FileTooLarge)
        } else {
            Ok(())
        }
    }

    fn set_file_size(&mut self, inode: &mut Inode, size: u64) -> Result<()> {
        if size > REVISION_0_MAX_SIZE {
            let features = self.superblock.feature_read_only_compatible();
            if features & RO_COMPAT_LARGE_FILE == 0 {
                self.superblock.set_feature_read_only_compatible(features | RO_COMPAT_LARGE_FILE);
                self.backups_dirty = true;
            }
        }
        inode.set_size(size);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn make_node(
        &mut self,
        directory: u32,
        name: &[u8],
        kind: FileKind,
        permissions: u16,
        uid: u32,
        gid: u32,
        time: u32,
        content: NodeContent<'_>,
    ) -> Result<u32> {
        self.check_writable()?;
        directory::check_new_name(name)?;
        let mut parent = self.load_directory(directory)?;
        if self.find_entry(&parent, name)?.is_some() {
            return Err(Error::AlreadyExists);
        }
        let is_directory = kind == FileKind::Directory;
        if is_directory && parent.links() + 1 > LINK_MAX {
            return Err(Error::TooManyLinks);
        }
        self.note_time(time);
        let number = self.allocate_inode(parent.number, is_directory)?;
        let mut inode = Inode::zeroed(number, self.superblock.inode_size() as usize);
        inode.set_mode(kind.mode_bits() | (permissions & 0o7777));
        inode.set_uid(uid);
        inode.set_gid(gid);
        inode.set_access_time(time);
        inode.set_change_time(time);
        inode.set_modification_time(time);
        inode.set_links(if is_directory { 2 } else { 1 });
        inode.set_generation(self.next_generation());
        if self.superblock.inode_size() > 128 {
            inode.set_extra_size(32);
        }
        // Contents and bitmaps first, then the inode, then the entry.
        if let Err(error) = self.fill_new_node(&mut inode, parent.number, content) {
            self.discard_new_inode(inode)?;
            return Err(error);
        }
        self.write_inode(&inode)?;
        let file_type = self.entry_type(&inode);
        if let Err(error) = self.add_entry(&mut parent, name, number, file_type) {
            self.discard_new_inode(inode)?;
            return Err(error);
        }
        if is_directory {
            parent.set_links(parent.links() + 1);
        }
        parent.set_modification_time(time);
        parent.set_change_time(time);
        self.write_inode(&parent)?;
        Ok(number)
    }

    fn fill_new_node(&mut self, inode: &mut Inode, parent: u32, content: NodeContent<'_>) -> Result<()> {
        match (inode.kind(), content) {
            (Some(FileKind::Directory), _) => {
                let physical = self.allocate_block(self.group_start_goal(inode.number))?;
                let block_size = self.block_size as usize;
                let has_file_type = self.has_file_type;
                let directory_type = if has_file_type { 2 } else { 0 };
                let number = inode.number;
                self.cache.overwrite(&mut self.device, physical as u64, |block| {
                    directory::write_entry(block, 0, number, 12, b".", directory_type, has_file_type);
                    directory::write_entry(block, 12, parent, block_size - 12, b"..", directory_type, has_file_type);
                })?;
                inode.set_block_pointer(0, physical);
                inode.set_sectors(self.block_size / 512);
                inode.set_size(self.block_size);
            }
            (_, NodeContent::Symlink(target)) => {
                if target.len() < FAST_SYMLINK_MAX {
                    inode.block_area_mut()[..target.len()].copy_from_slice(target);
                } else {
                    let physical = self.allocate_block(self.group_start_goal(inode.number))?;
                    self.cache.overwrite(&mut self.device, physical as u64, |block| {
                        block[..target.len()].copy_from_slice(target)
                    })?;
                    inode.set_block_pointer(0, physical);
                    inode.set_sectors(self.block_size / 512);
                }
                inode.set_size(target.len() as u64);
            }
            (_, NodeContent::Device((major, minor))) => inode.set_device_number(major, minor),
            (_, NodeContent::Empty) => {}
        }
        Ok(())
    }

    /// Undoes a half-made node: frees its blocks and its inode number.
    fn discard_new_inode(&mut self, mut inode: Inode) -> Result<()> {
        if inode.kind() != Some(FileKind::Symlink) || !self.is_fast_symlink(&inode) {
            self.free_blocks_from(&mut inode, 0)?;
        }
        let is_directory = inode.kind() == Some(FileKind::Directory);
        let cleared = Inode::zeroed(inode.number, self.superblock.inode_size() as usize);
        self.write_inode(&cleared)?;
        self.free_inode(inode.number, is_directory)
    }

    /// The last link of `inode` is gone: free it, or keep it as an orphan
    /// while it is open.
    fn drop_inode(&mut self, inode: Inode, time: u32) -> Result<()> {
        if self.open_inodes.contains_key(&inode.number) {
            self.write_inode(&inode)?;
            self.orphans.insert(inode.number);
            return Ok(());
        }
        self.delete_inode(inode, time)
    }

    /// Frees an inode whose last link is gone: its blocks, its attribute
    /// block, then its bitmap bit; the inode keeps its mode with a deletion
    /// time, as Linux leaves it.
    fn delete_inode(&mut self, mut inode: Inode, time: u32) -> Result<()> {
        let is_directory = inode.kind() == Some(FileKind::Directory);
        // Its number may name another directory later.
        self.name_indexes.remove(&inode.number);
        let has_blocks = match inode.kind() {
            Some(FileKind::Symlink) => !self.is_fast_symlink(&inode),
            Some(FileKind::CharacterDevice | FileKind::BlockDevice | FileKind::Fifo | FileKind::Socket) => false,
            _ => true,
        };
        if has_blocks {
            self.free_blocks_from(&mut inode, 0)?;
        }
        self.release_attribute_block(&mut inode)?;
        inode.set_links(0);
        inode.set_size(0);
        inode.set_sectors(0);
        inode.set_deletion_time(time);
        if !has_blocks {
            // Device numbers and fast symlink targets live in i_block.
            inode.block_area_mut().fill(0);
        }
        self.write_inode(&inode)?;
        self.free_inode(inode.number, is_directory)
    }

    fn release_attribute_block(&mut self, inode: &mut Inode) -> Result<()> {
        let block = inode.file_acl();
        if block == 0 {
            return Ok(());
        }
        self.check_data_block(block as u64)?;
        let data = self.cache.read(&mut self.device, block as u64)?;
        if read_u32(data, 0) != EXTENDED_ATTRIBUTE_MAGIC {
            return Err(Error::Corrupt("extended attribute block has a bad magic"));
        }
        let references = read_u32(data, 4);
        if references > 1 {
            self.cache.update(&mut self.device, block as u64, |data| write_u32(data, 4, references - 1))?;
        } else {
            self.free_block(block)?;
        }
        inode.set_file_acl(0);
        inode.set_sectors(inode.sectors().saturating_sub(self.block_size / 512));
        Ok(())
    }

    fn next_generation(&mut self) -> u32 {
        self.next_generation = self.next_generation.wrapping_mul(1_103_515_245).wrapping_add(12345);
        self.next_generation
    }

    // ----- internals: allocation --------------------------------------------

    fn group_of_inode(&self, number: u32) -> u32 {
        (number - 1) / self.superblock.inodes_per_group()
    }

    fn group_base(&self, group: u32) -> u64 {
        self.superblock.first_data_block() as u64 + group as u64 * self.superblock.blocks_per_group() as u64
    }

    fn blocks_in_group(&self, group: u32) -> u64 {
        let base = self.group_base(group);
        (self.superblock.blocks_count() as u64 - base).min(self.superblock.blocks_per_group() as u64)
    }

    fn group_start_goal(&self, inode: u32) -> u64 {
        self.group_base(self.group_of_inode(inode))
    }

    fn is_metadata(&self, block: u64) -> bool {
        let position = self.metadata_ranges.partition_point(|&(start, _)| start <= block);
        position > 0 && block < self.metadata_ranges[position - 1].1
    }

    /// A block number read from disk must name a data block of this file system.
    fn check_data_block(&self, block: u64) -> Result<()> {
        if block < self.superblock.first_data_block() as u64 || block >= self.superblock.blocks_count() as u64 {
            return Err(Error::Corrupt("block number outside the file system"));
        }
        if self.is_metadata(block) {
            return Err(Error::Corrupt("file block points into group metadata"));
        }
        Ok(())
    }

    /// Allocates a block, searching from `goal` (so files stay contiguous)
    /// through its group, then the following groups.
    fn allocate_block(&mut self, goal: u64) -> Result<u32> {
        if self.superblock.free_blocks_count() == 0 {
            return Err(Error::NoSpace);
        }
        let first = self.superblock.first_data_block() as u64;
        let goal = if goal >= first && goal < self.superblock.blocks_count() as u64 { goal } else { first };
        let blocks_per_group = self.superblock.blocks_per_group() as u64;
        let group_count = self.groups.len() as u32;
        let start_group = ((goal - first) / blocks_per_group) as u32;
        for step in 0..group_count {
            let group = (start_group + step) % group_count;
            if self.groups[group as usize].free_blocks() == 0 {
                continue;
            }
            let base = self.group_base(group);
            let limit = self.blocks_in_group(group) as usize;
            let start = if step == 0 { (goal - base) as usize } else { 0 };
            let bitmap = self.groups[group as usize].block_bitmap() as u64;
            if let Some(bit) = self.find_free_bit(bitmap, start, limit, base, true)? {
                self.cache.update(&mut self.device, bitmap, |data| data[bit / 8] |= 1 << (bit % 8))?;
                let descriptor = &mut self.groups[group as usize];
                descriptor.set_free_blocks(descriptor.free_blocks() - 1);
                let free = self.superblock.free_blocks_count();
                self.superblock.set_free_blocks_count(free - 1);
                return Ok((base + bit as u64) as u32);
            }
        }
        Err(Error::NoSpace)
    }

    /// First clear bit in `[start, limit)` then `[0, start)`, skipping
    /// metadata blocks when `skip_metadata` (a hostile bitmap may call an
    /// inode table free).
    fn find_free_bit(
        &mut self,
        bitmap: u64,
        start: usize,
        limit: usize,
        base: u64,
        skip_metadata: bool,
    ) -> Result<Option<usize>> {
        for (from, to) in [(start, limit), (0, start.min(limit))] {
            let mut bit = from;
            while bit < to {
                let candidate = {
                    let data = self.cache.read(&mut self.device, bitmap)?;
                    first_clear_bit(data, bit, to)
                };
                match candidate {
                    None => break,
                    Some(found) => {
                        if skip_metadata && self.is_metadata(base + found as u64) {
                            bit = found + 1;
                        } else {
                            return Ok(Some(found));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    fn free_block(&mut self, block: u32) -> Result<()> {
        self.check_data_block(block as u64)?;
        let relative = block as u64 - self.superblock.first_data_block() as u64;
        let blocks_per_group = self.superblock.blocks_per_group() as u64;
        let group = (relative / blocks_per_group) as usize;
        let bit = (relative % blocks_per_group) as usize;
        let bitmap = self.groups[group].block_bitmap() as u64;
        let was_set = self.cache.update(&mut self.device, bitmap, |data| {
            let was_set = data[bit / 8] & (1 << (bit % 8)) != 0;
            data[bit / 8] &= !(1 << (bit % 8));
            was_set
        })?;
        if !was_set {
            return Err(Error::Corrupt("a file block is already free in the bitmap (shared or freed twice)"));
        }
        let descriptor = &mut self.groups[group];
        descriptor.set_free_blocks(descriptor.free_blocks() + 1);
        let free = self.superblock.free_blocks_count();
        self.superblock.set_free_blocks_count(free.saturating_add(1));
        Ok(())
    }

    /// Picks a group for a new inode: files and nested directories go
    /// beside their parent; top-level directories go to a group with at
    /// least average free inodes and blocks and the fewest directories, to
    /// spread independent trees (Linux's Orlov allocator, simplified).
    fn allocate_inode(&mut self, parent: u32, is_directory: bool) -> Result<u32> {
        if self.superblock.free_inodes_count() == 0 {
            return Err(Error::NoInodes);
        }
        let group_count = self.groups.len() as u32;
        let mut start_group = self.group_of_inode(parent);
        if is_directory && self.spread_directories && group_count > 1 && parent == ROOT_INODE {
            let average_inodes = self.superblock.free_inodes_count() / group_count;
            let average_blocks = self.superblock.free_blocks_count() / group_count;
            let mut best: Option<(u32, u32)> = None;
            for step in 0..group_count {
                let group = (start_group + step) % group_count;
                let descriptor = &self.groups[group as usize];
                if descriptor.free_inodes() == 0
                    || descriptor.free_inodes() < average_inodes
                    || descriptor.free_blocks() < average_blocks
                {
                    continue;
                }
                if best.is_none_or(|(_, directories)| descriptor.used_directories() < directories) {
                    best = Some((group, descriptor.used_directories()));
                }
            }
            if let Some((group, _)) = best {
                start_group = group;
            }
        }
        let inodes_per_group = self.superblock.inodes_per_group();
        let first_inode = self.superblock.first_inode();
        for step in 0..group_count {
            let group = (start_group + step) % group_count;
            if self.groups[group as usize].free_inodes() == 0 {
                continue;
            }
            let bitmap = self.groups[group as usize].inode_bitmap() as u64;
            let group_first = group * inodes_per_group + 1;
            // Reserved inodes (below first_inode) are never handed out.
            let start = first_inode.saturating_sub(group_first) as usize;
            if start >= inodes_per_group as usize {
                continue;
            }
            let found = {
                let data = self.cache.read(&mut self.device, bitmap)?;
                first_clear_bit(data, start, inodes_per_group as usize)
            };
            if let Some(bit) = found {
                self.cache.update(&mut self.device, bitmap, |data| data[bit / 8] |= 1 << (bit % 8))?;
                let descriptor = &mut self.groups[group as usize];
                descriptor.set_free_inodes(descriptor.free_inodes() - 1);
                if is_directory {
                    descriptor.set_used_directories(descriptor.used_directories() + 1);
                }
                let free = self.superblock.free_inodes_count();
                self.superblock.set_free_inodes_count(free - 1);
                return Ok(group_first + bit as u32);
            }
        }
        Err(Error::NoInodes)
    }

    fn free_inode(&mut self, number: u32, is_directory: bool) -> Result<()> {
        self.check_inode_number(number)?;
        let inodes_per_group = self.superblock.inodes_per_group();
        let group = ((number - 1) / inodes_per_group) as usize;
        let bit = ((number - 1) % inodes_per_group) as usize;
        let bitmap = self.groups[group].inode_bitmap() as u64;
        let was_set = self.cache.update(&mut self.device, bitmap, |data| {
            let was_set = data[bit / 8] & (1 << (bit % 8)) != 0;
            data[bit / 8] &= !(1 << (bit % 8));
            was_set
        })?;
        if !was_set {
            return Err(Error::Corrupt("an inode in use is free in the bitmap"));
        }
        let descriptor = &mut self.groups[group];
        descriptor.set_free_inodes(descriptor.free_inodes() + 1);
        if is_directory {
            descriptor.set_used_directories(descriptor.used_directories().saturating_sub(1));
        }
        let free = self.superblock.free_inodes_count();
        self.superblock.set_free_inodes_count(free.saturating_add(1));
        Ok(())
    }

    // ----- internals: block maps --------------------------------------------

    /// Which `i_block` slot and which indices in the indirect blocks reach
    /// logical block `logical`.
    fn map_path(&self, logical: u64) -> Result<(usize, usize, [u64; 3])> {
        let per = self.pointers_per_block;
        if logical < DIRECT_BLOCKS as u64 {
            return Ok((logical as usize, 0, [0; 3]));
        }
        let mut rest = logical - DIRECT_BLOCKS as u64;
        if rest < per {
            return Ok((12, 1, [rest, 0, 0]));
        }
        rest -= per;
        if rest < per * per {
            return Ok((13, 2, [rest / per, rest % per, 0]));
        }
        rest -= per * per;
        if rest < per * per * per {
            return Ok((14, 3, [rest / (per * per), (rest / per) % per, rest % per]));
        }
        Err(Error::FileTooLarge)
    }

    /// The physical block of logical block `logical`, or `None` for a hole.
    fn lookup_block(&mut self, inode: &Inode, logical: u64) -> Result<Option<u32>> {
        let (slot, depth, indices) = self.map_path(logical)?;
        let mut block = inode.block_pointer(slot);
        for &index in &indices[..depth] {
            if block == 0 {
                return Ok(None);
            }
            self.check_data_block(block as u64)?;
            let data = self.cache.read(&mut self.device, block as u64)?;
            block = read_u32(data, index as usize * 4);
        }
        if block == 0 {
            return Ok(None);
        }
        self.check_data_block(block as u64)?;
        Ok(Some(block))
    }

    /// Makes logical block `logical` point at `physical`, allocating
    /// (zeroed) indirect blocks on the way, from `goal` on. The data block is
    /// already written. With `physical` 0 it only makes the indirect blocks.
    fn link_block(&mut self, inode: &mut Inode, logical: u64, physical: u32, goal: &mut u64) -> Result<()> {
        let (slot, depth, indices) = self.map_path(logical)?;
        if depth == 0 {
            inode.set_block_pointer(slot, physical);
            return Ok(());
        }
        let mut parent = inode.block_pointer(slot);
        if parent == 0 {
            parent = self.allocate_zeroed_block(inode, goal)?;
            inode.set_block_pointer(slot, parent);
        } else {
            self.check_data_block(parent as u64)?;
        }
        for (level, &index) in indices[..depth].iter().enumerate() {
            let offset = index as usize * 4;
            if level + 1 == depth {
                let current = read_u32(self.cache.read(&mut self.device, parent as u64)?, offset);
                if current != physical {
                    self.cache.update(&mut self.device, parent as u64, |data| write_u32(data, offset, physical))?;
                }
                return Ok(());
            }
            let child = read_u32(self.cache.read(&mut self.device, parent as u64)?, offset);
            let child = if child == 0 {
                let fresh = self.allocate_zeroed_block(inode, goal)?;
                self.cache.update(&mut self.device, parent as u64, |data| write_u32(data, offset, fresh))?;
                fresh
            } else {
                self.check_data_block(child as u64)?;
                child
            };
            parent = child;
        }
        Ok(())
    }

    fn allocate_zeroed_block(&mut self, inode: &mut Inode, goal: &mut u64) -> Result<u32> {
        let block = self.allocate_block(*goal)?;
        *goal = block as u64 + 1;
        self.cache.overwrite(&mut self.device, block as u64, |_| {})?;
        inode.set_sectors(inode.sectors() + self.block_size / 512);
        Ok(block)
    }

    /// Writes `piece` at byte `within` of logical block `logical`,
    /// allocating the block (data first, then the pointer to it).
    fn write_block_piece(
        &mut self,
        inode: &mut Inode,
        logical: u64,
        within: usize,
        piece: &[u8],
        goal: &mut u32,
    ) -> Result<()> {
        if let Some(physical) = self.lookup_block(inode, logical)? {
            self.cache.update(&mut self.device, physical as u64, |block| {
                block[within..within + piece.len()].copy_from_slice(piece)
            })?;
            *goal = physical + 1;
            return Ok(());
        }
        if *goal == 0 {
            *goal = match logical.checked_sub(1) {
                Some(previous) => self.lookup_block(inode, previous)?.map_or(0, |block| block + 1),
                None => 0,
            };
            if *goal == 0 {
                *goal = self.group_start_goal(inode.number) as u32;
            }
        }
        if logical >= DIRECT_BLOCKS as u64 {
            // Indirect blocks first, so they sit just before the data they
            // map and the file reads contiguously (e2fsck's measure too).
            let mut indirect_goal = *goal as u64;
            self.link_block(inode, logical, 0, &mut indirect_goal)?;
            *goal = indirect_goal as u32;
        }
        let physical = self.allocate_block(*goal as u64)?;
        self.cache.overwrite(&mut self.device, physical as u64, |block| {
            block[within..within + piece.len()].copy_from_slice(piece)
        })?;
        inode.set_sectors(inode.sectors() + self.block_size / 512);
        if let Err(error) = self.link_block(inode, logical, physical, &mut (physical as u64 + 1)) {
            self.free_block(physical)?;
            inode.set_sectors(inode.sectors().saturating_sub(self.block_size / 512));
            return Err(error);
        }
        *goal = physical + 1;
        Ok(())
    }

    /// Frees every block at logical index `keep` and beyond, indirect blocks
    /// included once nothing below them is kept.
    fn free_blocks_from(&mut self, inode: &mut Inode, keep: u64) -> Result<()> {
        let per = self.pointers_per_block;
        let mut freed = 0u64;
        let result = (|| {
            for slot in 0..DIRECT_BLOCKS {
                let block = inode.block_pointer(slot);
                if slot as u64 >= keep && block != 0 {
                    self.free_block(block)?;
                    freed += 1;
                    inode.set_block_pointer(slot, 0);
                }
            }
            let roots = [
                (12, 1, DIRECT_BLOCKS as u64),
                (13, 2, DIRECT_BLOCKS as u64 + per),
                (14, 3, DIRECT_BLOCKS as u64 + per + per * per),
            ];
            for (slot, depth, base) in roots {
                let block = inode.block_pointer(slot);
                let remaining = self.free_subtree(block, depth, base, keep, &mut freed)?;
                inode.set_block_pointer(slot, remaining);
            }
            Ok(())
        })();
        inode.set_sectors(inode.sectors().saturating_sub(freed * (self.block_size / 512)));
        result
    }

    /// Frees the part of the subtree rooted at `block` (of `depth` levels of
    /// indirection, covering logical blocks from `base`) that lies at or
    /// beyond `keep`; returns the pointer to keep (0 if the root was freed).
    /// Bounded: every freed block must be set in the bitmap, so a block met
    /// twice (a cycle or a shared block) stops the walk with an error.
    fn free_subtree(&mut self, block: u32, depth: u32, base: u64, keep: u64, freed: &mut u64) -> Result<u32> {
        if block == 0 {
            return Ok(0);
        }
        let per = self.pointers_per_block;
        let span = per.pow(depth);
        if base + span <= keep {
            return Ok(block);
        }
        self.check_data_block(block as u64)?;
        if depth == 0 {
            self.free_block(block)?;
            *freed += 1;
            return Ok(0);
        }
        let child_span = per.pow(depth - 1);
        let first_child = keep.saturating_sub(base) / child_span;
        for index in first_child..per {
            let offset = index as usize * 4;
            let child = read_u32(self.cache.read(&mut self.device, block as u64)?, offset);
            if child == 0 {
                continue;
            }
            let remaining = self.free_subtree(child, depth - 1, base + index * child_span, keep, freed)?;
            if remaining != child && base < keep {
                self.cache.update(&mut self.device, block as u64, |data| write_u32(data, offset, remaining))?;
            }
        }
        if base >= keep {
            self.free_block(block)?;
            *freed += 1;
            return Ok(0);
        }
        Ok(block)
    }

    // ----- internals: directory blocks --------------------------------------

    fn directory_block_count(&self, directory: &Inode) -> Result<u64> {
        let size = directory.size();
        if !size.is_multiple_of(self.block_size) {
            return Err(Error::Corrupt("directory size is not a multiple of the block size"));
        }
        let blocks = size / self.block_size;
        if blocks > self.superblock.blocks_count() as u64 {
            return Err(Error::Corrupt("directory larger than the file system"));
        }
        Ok(blocks)
    }

    fn directory_block(&mut self, directory: &Inode, index: u64) -> Result<u64> {
        self.lookup_block(directory, index)?.map(u64::from).ok_or(Error::Corrupt("hole in a directory"))
    }

    fn find_entry(&mut self, directory: &Inode, name: &[u8]) -> Result<Option<EntryLocation>> {
        let indexed =
            directory.flags() & FLAG_INDEX != 0 && self.superblock.features().compatible & COMPAT_DIR_INDEX != 0;
        if indexed {
            // Any doubt about the index (or an error on its path) falls back
            // to the linear scan, which is always valid.
            if let Ok(Some(found)) = self.find_entry_indexed(directory, name) {
                return Ok(found);
            }
            self.index_fallbacks += 1;
        }
        self.find_entry_linear(directory, name)
    }

    /// Walks the htree index of `directory` to the leaf where `name`
    /// belongs: `Ok(None)` when the index cannot be used.
    fn index_probe(&mut self, directory: &Inode, name: &[u8]) -> Result<Option<IndexProbe>> {
        let block_count = self.directory_block_count(directory)?;
        let root_physical = self.directory_block(directory, 0)?;
        let root = self.cache.read(&mut self.device, root_physical)?.to_vec();
        let Some(info) = htree::parse_root(&root) else {
            return Ok(None);
        };
        let mut version = info.hash_version;
        if version <= htree::HASH_TEA && self.superblock.flags() & htree::SUPERBLOCK_FLAG_UNSIGNED_HASH != 0 {
            version += 3;
        }
        let Some(hash) = htree::name_hash(name, version, self.superblock.hash_seed()) else {
            return Ok(None);
        };
        let Some((mut leaf, root_tail)) = htree::choose_entry(&root, 32, hash) else {
            return Ok(None);
        };
        let mut tail = root_tail;
        let mut table_block = root.clone();
        let mut node = None;
        if info.levels == 1 {
            if leaf == 0 || leaf as u64 >= block_count {
                return Ok(None);
            }
            let node_physical = self.directory_block(directory, leaf as u64)?;
            let node_block = self.cache.read(&mut self.device, node_physical)?.to_vec();
            let Some((node_leaf, node_tail)) = htree::choose_entry(&node_block, 8, hash) else {
                return Ok(None);
            };
            node = Some(leaf);
            leaf = node_leaf;
            tail = node_tail;
            table_block = node_block;
        }
        if leaf == 0 || leaf as u64 >= block_count || Some(leaf) == node {
            return Ok(None);
        }
        Ok(Some(IndexProbe {
            hash,
            version,
            table_logical: node.unwrap_or(0),
            leaf,
            two_levels: info.levels == 1,
            root,
            root_tail,
            table_block,
            tail,
            block_count,
        }))
    }

    /// Looks `name` up through the htree index: `Ok(None)` when the index
    /// cannot be used, else the definitive answer.
    fn find_entry_indexed(&mut self, directory: &Inode, name: &[u8]) -> Result<Option<Option<EntryLocation>>> {
        let Some(mut probe) = self.index_probe(directory, name)? else {
            return Ok(None);
        };
        let mut logical = probe.leaf;
        // The leaf, then any leaves a hash collision run spills into; the
        // run is bounded by the table's count.
        loop {
            if logical == 0 || logical as u64 >= probe.block_count {
                return Ok(None);
            }
            if let Some(found) = self.find_entry_in_block(directory, logical as u64, name)? {
                self.index_lookups += 1;
                return Ok(Some(Some(found)));
            }
            match probe.tail.continuation(&probe.table_block, probe.hash) {
                Some(Some(next)) => logical = next,
                Some(None) => {
                    self.index_lookups += 1;
                    return Ok(Some(None));
                }
                // The table ended: at the root that is the last leaf; in an
                // interior node the run could go on in the next node, which
                // only happens if the root's next hash continues ours.
                None => {
                    if probe.two_levels
                        && matches!(probe.root_tail.continuation(&probe.root, probe.hash), Some(Some(_)))
                    {
                        return Ok(None);
                    }
                    self.index_lookups += 1;
                    return Ok(Some(None));
                }
            }
        }
    }

    /// Splits the full leaf `probe.leaf` of an indexed directory: the upper
    /// half of its entries, by hash, moves to a new block appended to the
    /// directory and indexed right after the leaf. `false` (nothing
    /// changed) when the table is full (a node split or a new level would
    /// be needed), the leaf is part of a hash-collision run, or its entries
    /// share one hash. The new block is written before the index names it.
    fn split_leaf(&mut self, directory: &mut Inode, probe: &IndexProbe) -> Result<bool> {
        let table_physical = self.directory_block(directory, probe.table_logical as u64)?;
        let table = self.cache.read(&mut self.device, table_physical)?.to_vec();
        if !probe.tail.can_add_after_chosen(&table) {
            return Ok(false);
        }
        let block_count = self.directory_block_count(directory)?;
        if directory.size() + self.block_size > u32::MAX as u64 || block_count > 0x0FFF_FFFF {
            return Ok(false);
        }
        let leaf_physical = self.directory_block(directory, probe.leaf as u64)?;
        let seed = self.superblock.hash_seed();
        let mut entries = Vec::new();
        {
            let block = self.cache.read(&mut self.device, leaf_physical)?;
            for header in directory::parse_block(block, self.has_file_type)? {
                if header.inode == 0 {
                    continue;
                }
                let name = header.name(block).to_vec();
                let Some(hash) = htree::name_hash(&name, probe.version, seed) else {
                    return Ok(false);
                };
                entries.push((hash, header.inode, header.file_type, name));
            }
        }
        entries.sort_by_key(|entry| entry.0);
        // Split between two different hashes, as near the middle as can be.
        let middle = entries.len() / 2;
        let boundary = |index: usize| index > 0 && index < entries.len() && entries[index].0 != entries[index - 1].0;
        let Some(split) = (0..entries.len())
            .flat_map(|distance| [middle + distance, middle.wrapping_sub(distance)])
            .find(|&index| boundary(index))
        else {
            return Ok(false);
        };
        let split_hash = entries[split].0;
        let goal = self.directory_block(directory, block_count - 1)? + 1;
        let new_physical = self.allocate_block(goal)?;
        let has_file_type = self.has_file_type;
        self.cache.overwrite(&mut self.device, new_physical as u64, |block| {
            write_compact_entries(block, &entries[split..], has_file_type)
        })?;
        directory.set_sectors(directory.sectors() + self.block_size / 512);
        if let Err(error) = self.link_block(directory, block_count, new_physical, &mut (new_physical as u64 + 1)) {
            self.free_block(new_physical)?;
            directory.set_sectors(directory.sectors().saturating_sub(self.block_size / 512));
            return Err(error);
        }
        directory.set_size(directory.size() + self.block_size);
        self.cache.update(&mut self.device, leaf_physical, |block| {
            block.fill(0);
            write_compact_entries(block, &entries[..split], has_file_type)
        })?;
        let tail = probe.tail;
        self.cache.update(&mut self.device, table_physical, |block| {
            tail.add_after_chosen(block, split_hash, block_count as u32)
        })?;
        Ok(true)
    }

    /// Makes room in a full index table: a one-level index gets a second
    /// level (the root's entries move to a new interior node, which the
    /// root then points to); a full interior node is split in two, the
    /// upper half indexed from the root. `false` (nothing changed) when the
    /// root of a two-level index is full too (a third level is largedir's)
    /// or no split point avoids a hash-collision run.
    fn grow_index(&mut self, directory: &mut Inode, probe: &IndexProbe) -> Result<bool> {
        let block_count = self.directory_block_count(directory)?;
        if directory.size() + self.block_size > u32::MAX as u64 || block_count > 0x0FFF_FFFF {
            return Ok(false);
        }
        let block_size = self.block_size as usize;
        let node_limit = (block_size - 8) / 8;
        let root_physical = self.directory_block(directory, 0)?;
        let (moved, first_block, hashes_from) = if !probe.two_levels {
            let root = &probe.root;
            let count = read_u16(root, 34) as usize;
            if count > node_limit || 32 + count * 8 > block_size {
                return Ok(false);
            }
            (root[40..32 + count * 8].to_vec(), read_u32(root, 36), None)
        } else {
            if !probe.root_tail.can_add_after_chosen(&probe.root) {
                return Ok(false);
            }
            let node = &probe.table_block;
            let count = read_u16(node, 10) as usize;
            if count < 2 || 8 + count * 8 > block_size {
                return Ok(false);
            }
            // Split where the entry does not continue a collision run.
            let middle = count / 2;
            let plain = |index: usize| index >= 1 && index < count && read_u32(node, 8 + index * 8) & 1 == 0;
            let Some(split) = (0..count)
                .flat_map(|distance| [middle + distance, middle.wrapping_sub(distance)])
                .find(|&index| plain(index))
            else {
                return Ok(false);
            };
            let split_hash = read_u32(node, 8 + split * 8);
            let first = read_u32(node, 8 + split * 8 + 4);
            (node[8 + (split + 1) * 8..8 + count * 8].to_vec(), first, Some((split, split_hash)))
        };
        // The new interior node: a fake empty record, then the table.
        let goal = self.directory_block(directory, block_count - 1)? + 1;
        let node_physical = self.allocate_block(goal)?;
        let moved_count = moved.len() / 8 + 1;
        self.cache.overwrite(&mut self.device, node_physical as u64, |block| {
            directory::set_record_length(block, 0, block_size);
            write_u16(block, 8, node_limit as u16);
            write_u16(block, 10, moved_count as u16);
            write_u32(block, 12, first_block);
            block[16..16 + moved.len()].copy_from_slice(&moved);
        })?;
        directory.set_sectors(directory.sectors() + self.block_size / 512);
        if let Err(error) = self.link_block(directory, block_count, node_physical, &mut (node_physical as u64 + 1)) {
            self.free_block(node_physical)?;
            directory.set_sectors(directory.sectors().saturating_sub(self.block_size / 512));
            return Err(error);
        }
        directory.set_size(directory.size() + self.block_size);
        let new_logical = block_count as u32;
        match hashes_from {
            None => {
                // One entry left in the root, pointing at the new node.
                self.cache.update(&mut self.device, root_physical, |root| {
                    write_u16(root, 34, 1);
                    write_u32(root, 36, new_logical);
                    root[30] = 1;
                })?;
            }
            Some((split, split_hash)) => {
                let old_node = self.directory_block(directory, probe.table_logical as u64)?;
                self.cache.update(&mut self.device, old_node, |node| write_u16(node, 10, split as u16))?;
                let tail = probe.root_tail;
                self.cache.update(&mut self.device, root_physical, |root| {
                    tail.add_after_chosen(root, split_hash, new_logical)
                })?;
            }
        }
        Ok(true)
    }

    /// Puts an entry in the first record of directory block `index` with
    /// room for it; `false` when the block is full.
    fn insert_into_block(
        &mut self,
        directory: &Inode,
        index: u64,
        name: &[u8],
        inode: u32,
        file_type: u8,
    ) -> Result<bool> {
        let needed = directory::record_length_for(name.len());
        let has_file_type = self.has_file_type;
        let physical = self.directory_block(directory, index)?;
        let space = {
            let block = self.cache.read(&mut self.device, physical)?;
            directory::parse_block(block, has_file_type)?
                .into_iter()
                .find(|header| header.record_length - header.used_length() >= needed)
        };
        let Some(header) = space else {
            return Ok(false);
        };
        self.cache.update(&mut self.device, physical, |block| {
            let used = header.used_length();
            if used == 0 {
                directory::write_entry(
                    block,
                    header.offset,
                    inode,
                    header.record_length,
                    name,
                    file_type,
                    has_file_type,
                );
            } else {
                directory::set_record_length(block, header.offset, used);
                directory::write_entry(
                    block,
                    header.offset + used,
                    inode,
                    header.record_length - used,
                    name,
                    file_type,
                    has_file_type,
                );
            }
        })?;
        Ok(true)
    }

    fn find_entry_in_block(&mut self, directory: &Inode, index: u64, name: &[u8]) -> Result<Option<EntryLocation>> {
        let physical = self.directory_block(directory, index)?;
        let block = self.cache.read(&mut self.device, physical)?;
        let mut previous_offset = None;
        for header in directory::parse_block(block, self.has_file_type)? {
            if header.inode != 0 && header.name(block) == name {
                return Ok(Some(EntryLocation { physical, header, previous_offset }));
            }
            previous_offset = Some(header.offset);
        }
        Ok(None)
    }

    fn find_entry_linear(&mut self, directory: &Inode, name: &[u8]) -> Result<Option<EntryLocation>> {
        if self.name_index(directory)? {
            let block = self.name_indexes.get(&directory.number).and_then(|index| index.blocks.get(name).copied());
            let Some(logical) = block else { return Ok(None) };
            if let Some(found) = self.find_entry_in_block(directory, logical, name)? {
                return Ok(Some(found));
            }
            // The index and the disk disagree: trust the disk.
            self.name_indexes.remove(&directory.number);
        }
        for index in 0..self.directory_block_count(directory)? {
            let physical = self.directory_block(directory, index)?;
            let block = self.cache.read(&mut self.device, physical)?;
            let mut previous_offset = None;
            for header in directory::parse_block(block, self.has_file_type)? {
                if header.inode != 0 && header.name(block) == name {
                    return Ok(Some(EntryLocation { physical, header, previous_offset }));
                }
                previous_offset = Some(header.offset);
            }
        }
        Ok(None)
    }

    /// The most room a record of directory block `logical` offers a new
    /// entry (what `insert_into_block` looks for).
    fn block_room(&mut self, directory: &Inode, logical: u64) -> Result<usize> {
        let physical = self.directory_block(directory, logical)?;
        let block = self.cache.read(&mut self.device, physical)?;
        let headers = directory::parse_block(block, self.has_file_type)?;
        Ok(headers.iter().map(|header| header.record_length - header.used_length()).max().unwrap_or(0))
    }

    /// True when `directory` has a [`NameIndex`] (built now if it is a
    /// large linear directory without one).
    fn name_index(&mut self, directory: &Inode) -> Result<bool> {
        if directory.flags() & FLAG_INDEX != 0 && self.superblock.features().compatible & COMPAT_DIR_INDEX != 0 {
            return Ok(false);
        }
        let block_count = self.directory_block_count(directory)?;
        if let Some(index) = self.name_indexes.get(&directory.number) {
            if index.room.len() as u64 == block_count {
                return Ok(true);
            }
            // The directory grew or shrank behind it.
            self.name_indexes.remove(&directory.number);
        }
        if block_count < NAME_INDEX_MIN_BLOCKS {
            return Ok(false);
        }
        let mut index = NameIndex { blocks: BTreeMap::new(), room: Vec::with_capacity(block_count as usize) };
        for logical in 0..block_count {
            let physical = self.directory_block(directory, logical)?;
            let block = self.cache.read(&mut self.device, physical)?;
            let headers = directory::parse_block(block, self.has_file_type)?;
            let mut room = 0;
            for header in &headers {
                room = room.max(header.record_length - header.used_length());
                if header.inode != 0 {
                    index.blocks.entry(header.name(block).to_vec()).or_insert(logical);
                }
            }
            index.room.push(room);
            if index.blocks.len() > NAME_INDEX_MAX_ENTRIES {
                return Ok(false);
            }
        }
        if self.name_indexes.len() >= NAME_INDEXES_MAX {
            // Forget one (the lowest inode number: any will do).
            if let Some(first) = self.name_indexes.keys().next().copied() {
                self.name_indexes.remove(&first);
            }
        }
        self.name_indexes.insert(directory.number, index);
        Ok(true)
    }

    /// Keeps `directory`'s name index exact after `name` was added to or
    /// removed from its block `logical` (`None`: not known, drop the index).
    fn note_entry_change(&mut self, directory: &Inode, name: &[u8], logical: Option<u64>, added: bool) -> Result<()> {
        if !self.name_indexes.contains_key(&directory.number) {
            return Ok(());
        }
        let Some(logical) = logical else {
            self.name_indexes.remove(&directory.number);
            return Ok(());
        };
        let room = self.block_room(directory, logical)?;
        let Some(index) = self.name_indexes.get_mut(&directory.number) else { return Ok(()) };
        let known = index.room.len();
        match index.room.get_mut(logical as usize) {
            Some(slot) => *slot = room,
            None if logical as usize == known => index.room.push(room),
            None => {
                self.name_indexes.remove(&directory.number);
                return Ok(());
            }
        }
        if added {
            index.blocks.insert(name.to_vec(), logical);
        } else {
            index.blocks.remove(name);
        }
        Ok(())
    }

    fn directory_is_empty(&mut self, directory: &Inode) -> Result<bool> {
        for index in 0..self.directory_block_count(directory)? {
            let physical = self.directory_block(directory, index)?;
            let block = self.cache.read(&mut self.device, physical)?;
            for header in directory::parse_block(block, self.has_file_type)? {
                if header.inode == 0 {
                    continue;
                }
                let name = header.name(block);
                if name != b"." && name != b".." {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Writing to an htree directory drops its index: the blocks stay a valid
    /// linear directory, and e2fsck accepts an unindexed directory.
    fn clear_index_flag(directory: &mut Inode) {
        if directory.flags() & FLAG_INDEX != 0 {
            directory.set_flags(directory.flags() & !FLAG_INDEX);
        }
    }

    /// Adds an entry to `directory` (whose inode the caller writes after).
    fn add_entry(&mut self, directory: &mut Inode, name: &[u8], inode: u32, file_type: u8) -> Result<()> {
        let has_file_type = self.has_file_type;
        let block_count = self.directory_block_count(directory)?;
        if directory.flags() & FLAG_INDEX != 0 && self.superblock.features().compatible & COMPAT_DIR_INDEX != 0 {
            // Keep the index: the entry goes in the leaf its hash selects,
            // if that leaf has room. Otherwise (a leaf split would be
            // needed) the directory drops its index and goes linear.
            if let Ok(Some(mut probe)) = self.index_probe(directory, name) {
                // At most: grow the index (a new level or a node split),
                // split the leaf, insert.
                for _ in 0..3 {
                    if self.insert_into_block(directory, probe.leaf as u64, name, inode, file_type)? {
                        return Ok(());
                    }
                    let grown = if probe.tail.is_full() {
                        self.grow_index(directory, &probe)?
                    } else {
                        self.split_leaf(directory, &probe)?
                    };
                    if !grown {
                        break;
                    }
                    match self.index_probe(directory, name) {
                        Ok(Some(next)) => probe = next,
                        _ => break,
                    }
                }
            }
            Self::clear_index_flag(directory);
        }
        if self.name_index(directory)? {
            // The first block with room, as the scan below would find it.
            let needed = directory::record_length_for(name.len());
            let first = self
                .name_indexes
                .get(&directory.number)
                .and_then(|index| index.room.iter().position(|room| *room >= needed));
            if let Some(logical) = first {
                if self.insert_into_block(directory, logical as u64, name, inode, file_type)? {
                    self.note_entry_change(directory, name, Some(logical as u64), true)?;
                    return Ok(());
                }
                // The index was wrong about the room: scan.
                self.name_indexes.remove(&directory.number);
            }
        }
        let indexed = self.name_indexes.contains_key(&directory.number);
        let first_candidate = if indexed { block_count } else { 0 };
        for index in first_candidate..block_count {
            if self.insert_into_block(directory, index, name, inode, file_type)? {
                self.note_entry_change(directory, name, Some(index), true)?;
                return Ok(());
            }
        }
        // No room: append a block holding just this entry.
        let size = directory.size();
        if size + self.block_size > u32::MAX as u64 {
            return Err(Error::FileTooLarge);
        }
        let goal = match block_count.checked_sub(1) {
            Some(last) => self.directory_block(directory, last)? + 1,
            None => self.group_start_goal(directory.number),
        };
        let physical = self.allocate_block(goal)?;
        let block_size = self.block_size as usize;
        self.cache.overwrite(&mut self.device, physical as u64, |block| {
            directory::write_entry(block, 0, inode, block_size, name, file_type, has_file_type)
        })?;
        directory.set_sectors(directory.sectors() + self.block_size / 512);
        if let Err(error) = self.link_block(directory, block_count, physical, &mut (physical as u64 + 1)) {
            self.free_block(physical)?;
            directory.set_sectors(directory.sectors().saturating_sub(self.block_size / 512));
            return Err(error);
        }
        Self::clear_index_flag(directory);
        directory.set_size(size + self.block_size);
        self.note_entry_change(directory, name, Some(block_count), true)?;
        Ok(())
    }

    /// Removes an entry: merged into the previous record, or marked unused
    /// when it is the first of its block. An htree index stays valid: the
    /// remaining names keep their leaves.
    fn remove_entry_at(&mut self, directory: &Inode, name: &[u8], location: &EntryLocation) -> Result<()> {
        let logical = self.name_indexes.get(&directory.number).and_then(|index| index.blocks.get(name).copied());
        self.remove_entry_record(location)?;
        self.note_entry_change(directory, name, logical, false)
    }

    fn remove_entry_record(&mut self, location: &EntryLocation) -> Result<()> {
        let header = location.header;
        let previous = location.previous_offset;
        self.cache.update(&mut self.device, location.physical, |block| match previous {
            Some(previous_offset) => {
                let merged = header.offset + header.record_length - previous_offset;
                directory::set_record_length(block, previous_offset, merged);
            }
            None => write_u32(block, header.offset, 0),
        })
    }

    /// Points a directory's ".." at `parent`.
    fn set_parent_entry(&mut self, directory: &Inode, parent: u32) -> Result<()> {
        let location = self.find_entry(directory, b"..")?.ok_or(Error::Corrupt("directory without a '..' entry"))?;
        let has_file_type = self.has_file_type;
        let file_type = if has_file_type { 2 } else { 0 };
        self.cache.update(&mut self.device, location.physical, |block| {
            directory::set_entry_inode(block, location.header.offset, parent, file_type, has_file_type)
        })
    }

    /// Walks ".." from `destination` up to the root; meeting `source` means
    /// the move would put a directory inside itself.
    fn refuse_move_into_subtree(&mut self, source: u32, destination: u32) -> Result<()> {
        let mut current = destination;
        for _ in 0..MAXIMUM_DIRECTORY_DEPTH.min(self.superblock.inodes_count()) {
            if current == source {
                return Err(Error::RenameIntoSubtree);
            }
            if current == ROOT_INODE {
                return Ok(());
            }
            current = self.lookup(current, b"..")?;
        }
        Err(Error::Corrupt("'..' chain does not reach the root"))
    }

    // ----- internals: superblock --------------------------------------------

    fn write_superblock_and_descriptors(&mut self) -> Result<()> {
        let group_count = self.groups.len() as u32;
        let mut table = vec![0u8; (self.descriptor_blocks as u64 * self.block_size) as usize];
        for (group, descriptor) in self.groups.iter().enumerate() {
            table[group * DESCRIPTOR_SIZE..(group + 1) * DESCRIPTOR_SIZE].copy_from_slice(descriptor.as_bytes());
        }
        let first = self.superblock.first_data_block() as u64;
        self.device.write_at((first + 1) * self.block_size, &table)?;
        self.superblock.set_block_group_number(0);
        self.device.write_at(SUPERBLOCK_OFFSET, self.superblock.as_bytes())?;
        if self.backups_dirty {
            for group in 1..group_count {
                if !self.superblock.group_has_superblock(group) {
                    continue;
                }
                let base = self.group_base(group);
                let mut copy = self.superblock.clone();
                copy.set_block_group_number(group as u16);
                self.device.write_at(base * self.block_size, copy.as_bytes())?;
                self.device.write_at((base + 1) * self.block_size, &table)?;
            }
            self.backups_dirty = false;
        }
        Ok(())
    }

    // ----- used by format ---------------------------------------------------

    /// Makes the root directory (inode 2) on a freshly formatted file system.
    pub(crate) fn create_root_directory(&mut self, permissions: u16, time: u32) -> Result<()> {
        let mut root = Inode::zeroed(ROOT_INODE, self.superblock.inode_size() as usize);
        root.set_mode(FileKind::Directory.mode_bits() | permissions);
        root.set_access_time(time);
        root.set_change_time(time);
        root.set_modification_time(time);
        root.set_links(2);
        if self.superblock.inode_size() > 128 {
            root.set_extra_size(32);
        }
        self.fill_new_node(&mut root, ROOT_INODE, NodeContent::Empty)?;
        self.write_inode(&root)?;
        let descriptor = &mut self.groups[0];
        descriptor.set_used_directories(descriptor.used_directories() + 1);
        Ok(())
    }

    /// Turns the spreading of new directories across groups on or off
    /// (format keeps lost+found beside the root, as mke2fs does).
    pub(crate) fn set_directory_spreading(&mut self, spread: bool) {
        self.spread_directories = spread;
    }

    /// Grows a directory with empty blocks until it is at least `size`
    /// bytes (lost+found is preallocated so e2fsck never has to grow it).
    pub(crate) fn preallocate_directory(&mut self, directory: u32, size: u64) -> Result<()> {
        let mut inode = self.load_directory(directory)?;
        while inode.size() < size {
            let count = inode.size() / self.block_size;
            let goal = self.lookup_block(&inode, count - 1)?.map_or(0, |block| block as u64 + 1);
            let physical = self.allocate_block(goal)?;
            let block_size = self.block_size as usize;
            self.cache.overwrite(&mut self.device, physical as u64, |block| {
                directory::set_record_length(block, 0, block_size)
            })?;
            inode.set_sectors(inode.sectors() + self.block_size / 512);
            self.link_block(&mut inode, count, physical, &mut (physical as u64 + 1))?;
            inode.set_size(inode.size() + self.block_size);
        }
        self.write_inode(&inode)
    }
}

enum NodeContent<'a> {
    Empty,
    Symlink(&'a [u8]),
    Device((u32, u32)),
}

/// Writes `(hash, inode, file type, name)` entries packed from the start of
/// a directory block, the last record reaching the block's end.
fn write_compact_entries(block: &mut [u8], entries: &[(u32, u32, u8, Vec<u8>)], has_file_type: bool) {
    let mut offset = 0;
    for (index, (_, inode, file_type, name)) in entries.iter().enumerate() {
        let length =
            if index + 1 == entries.len() { block.len() - offset } else { directory::record_length_for(name.len()) };
        directory::write_entry(block, offset, *inode, length, name, *file_type, has_file_type);
        offset += length;
    }
}

/// Clear bits among the first `limit` bits of a bitmap.
fn count_clear_bits(bitmap: &[u8], limit: usize) -> u64 {
    let limit = limit.min(bitmap.len() * 8);
    let whole_bytes = limit / 8;
    let mut clear: u64 = bitmap[..whole_bytes].iter().map(|byte| byte.count_zeros() as u64).sum();
    for bit in whole_bytes * 8..limit {
        if bitmap[bit / 8] & (1 << (bit % 8)) == 0 {
            clear += 1;
        }
    }
    clear
}

/// First clear bit in `[from, to)` of a bitmap, skipping full bytes.
fn first_clear_bit(bitmap: &[u8], from: usize, to: usize) -> Option<usize> {
    let to = to.min(bitmap.len() * 8);
    let mut bit = from;
    while bit < to {
        if bit.is_multiple_of(8) && bitmap[bit / 8] == 0xFF {
            bit += 8;
            continue;
        }
        if bitmap[bit / 8] & (1 << (bit % 8)) == 0 {
            return Some(bit);
        }
        bit += 1;
    }
    None
}

pub(crate) struct Geometry {
    pub group_count: u32,
    pub descriptor_blocks: u32,
    pub inode_table_blocks: u32,
}

/// The superblock's numbers must agree with each other and fit the device;
/// everything later relies on these bounds.
pub(crate) fn check_geometry(superblock: &Superblock, block_size: u64, device_size: u64) -> Result<Geometry> {
    let blocks_per_group = superblock.blocks_per_group() as u64;
    let inodes_per_group = superblock.inodes_per_group() as u64;
    if blocks_per_group == 0 || blocks_per_group > 8 * block_size || !blocks_per_group.is_multiple_of(8) {
        return Err(Error::Corrupt("blocks per group is zero, not a multiple of 8, or more than a bitmap holds"));
    }
    if inodes_per_group == 0 || inodes_per_group > 8 * block_size {
        return Err(Error::Corrupt("inodes per group is zero or more than a bitmap holds"));
    }
    let expected_first = if block_size == 1024 { 1 } else { 0 };
    if superblock.first_data_block() != expected_first {
        return Err(Error::Corrupt("first data block does not match the block size"));
    }
    let blocks = superblock.blocks_count() as u64;
    if blocks <= expected_first as u64 + 1 {
        return Err(Error::Corrupt("block count too small"));
    }
    if blocks.checked_mul(block_size).is_none_or(|bytes| bytes > device_size) {
        return Err(Error::Corrupt("block count larger than the device"));
    }
    let group_count = superblock.group_count();
    if superblock.inodes_count() as u64 != inodes_per_group * group_count as u64 {
        return Err(Error::Corrupt("inode count is not inodes per group times the group count"));
    }
    let inode_size = superblock.inode_size() as u64;
    if inode_size < 128 || !inode_size.is_power_of_two() || inode_size > block_size {
        return Err(Error::Corrupt("inode size is not a power of two between 128 and the block size"));
    }
    let first_inode = superblock.first_inode();
    if first_inode < 11 || first_inode >= superblock.inodes_count() {
        return Err(Error::Corrupt("first non-reserved inode out of range"));
    }
    let descriptor_blocks = (group_count as u64 * DESCRIPTOR_SIZE as u64).div_ceil(block_size);
    if expected_first as u64 + 1 + descriptor_blocks > blocks {
        return Err(Error::Corrupt("group descriptor table larger than the file system"));
    }
    let inode_table_blocks = (inodes_per_group * inode_size).div_ceil(block_size);
    Ok(Geometry {
        group_count,
        descriptor_blocks: descriptor_blocks as u32,
        inode_table_blocks: inode_table_blocks as u32,
    })
}

/// Each group's superblock copy, descriptor table, bitmaps and inode table,
/// checked to lie inside the file system and not to overlap.
fn metadata_ranges(
    superblock: &Superblock,
    groups: &[GroupDescriptor],
    geometry: &Geometry,
) -> Result<Vec<(u64, u64)>> {
    let blocks = superblock.blocks_count() as u64;
    let first = superblock.first_data_block() as u64;
    let per_group = superblock.blocks_per_group() as u64;
    let reserved = superblock.reserved_gdt_blocks() as u64;
    let mut ranges = Vec::with_capacity(groups.len() * 4);
    for (group, descriptor) in groups.iter().enumerate() {
        let base = first + group as u64 * per_group;
        if superblock.group_has_superblock(group as u32) {
            let end = base + 1 + geometry.descriptor_blocks as u64 + reserved;
            ranges.push((base, end.min(blocks)));
        }
        let block_bitmap = descriptor.block_bitmap() as u64;
        let inode_bitmap = descriptor.inode_bitmap() as u64;
        let inode_table = descriptor.inode_table() as u64;
        let table_end = inode_table + geometry.inode_table_blocks as u64;
        if block_bitmap < first || block_bitmap >= blocks || inode_bitmap < first || inode_bitmap >= blocks {
            return Err(Error::Corrupt("a group's bitmap lies outside the file system"));
        }
        if inode_table < first || table_end > blocks {
            return Err(Error::Corrupt("a group's inode table lies outside the file system"));
        }
        ranges.push((block_bitmap, block_bitmap + 1));
        ranges.push((inode_bitmap, inode_bitmap + 1));
        ranges.push((inode_table, table_end));
    }
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if pair[1].0 < pair[0].1 {
            return Err(Error::Corrupt("group metadata blocks overlap"));
        }
    }
    Ok(ranges)
}

fn check_group_counts(superblock: &Superblock, groups: &[GroupDescriptor]) -> Result<()> {
    let per_group = superblock.blocks_per_group();
    let inodes_per_group = superblock.inodes_per_group();
    for descriptor in groups {
        if descriptor.free_blocks() > per_group || descriptor.free_inodes() > inodes_per_group {
            return Err(Error::Corrupt("a group's free count exceeds its size"));
        }
        if descriptor.used_directories() > inodes_per_group {
            return Err(Error::Corrupt("a group's directory count exceeds its inodes"));
        }
    }
    Ok(())
}
