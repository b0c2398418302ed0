//! ext2 behind the VFS: the `ext2` library's operations as a [`FileSystem`].
//!
//! Node numbers are inode numbers. ext2 keeps whole seconds in 32 bits, so
//! nanoseconds are dropped and times are clamped to 1970..2106. The block
//! cache is ext2's own (bounded, write-back); [`FileSystem::shrink_cache`]
//! writes it back and keeps only [`CACHE_BLOCKS_KEPT_ON_SHRINK`] blocks.

use alloc::vec::Vec;

use ext2::{BlockDevice, Filesystem, MountOptions, SetAttributes, ROOT_INODE};

use crate::errno::Errno;
use crate::filesystem::FileSystem;
use crate::node::{
    magic, AttributeChanges, Attributes, Creation, DeviceNumber, DirectoryEntry, FileSystemStatistics, NewNode, NodeId,
    Timestamp,
};

/// Blocks the cache keeps when asked to give memory back.
pub const CACHE_BLOCKS_KEPT_ON_SHRINK: usize = 64;

/// A mounted ext2 file system on device `D`.
pub struct Ext2FileSystem<D: BlockDevice> {
    /// `None` once unmounted: every operation then answers `ESTALE`.
    filesystem: Option<Filesystem<D>>,
    read_only: bool,
}

fn inode(node: NodeId) -> Result<u32, Errno> {
    u32::try_from(node).map_err(|_| Errno::Stale)
}

impl<D: BlockDevice> Ext2FileSystem<D> {
    /// Mounts the file system on `device` (`EINVAL` if it is not ext2,
    /// `EOPNOTSUPP` for a feature we lack, `EIO` for a corrupt image).
    pub fn mount(device: D, options: MountOptions) -> Result<Self, Errno> {
        let filesystem = Filesystem::mount(device, options)?;
        let read_only = filesystem.is_read_only();
        Ok(Ext2FileSystem { filesystem: Some(filesystem), read_only })
    }

    /// The library's file system, for tests and statistics.
    pub fn inner(&mut self) -> Option<&mut Filesystem<D>> {
        self.filesystem.as_mut()
    }

    /// Unmounts and gives the device back.
    pub fn into_device(mut self) -> Result<D, Errno> {
        let filesystem = self.filesystem.take().ok_or(Errno::Stale)?;
        Ok(filesystem.unmount()?)
    }

    fn mounted(&mut self) -> Result<&mut Filesystem<D>, Errno> {
        self.filesystem.as_mut().ok_or(Errno::Stale)
    }
}

impl<D: BlockDevice> FileSystem for Ext2FileSystem<D> {
    fn kind_name(&self) -> &'static str {
        "ext2"
    }

    fn root(&self) -> NodeId {
        ROOT_INODE as NodeId
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn attributes(&mut self, node: NodeId) -> Result<Attributes, Errno> {
        let filesystem = self.mounted()?;
        let block_size = filesystem.block_size() as u32;
        let metadata = filesystem.metadata(inode(node)?)?;
        let (major, minor) = metadata.device.unwrap_or((0, 0));
        Ok(Attributes {
            node,
            kind: metadata.kind.into(),
            permissions: metadata.permissions as u32,
            links: metadata.links,
            uid: metadata.uid,
            gid: metadata.gid,
            size: metadata.size,
            blocks: metadata.sectors,
            block_size,
            special: DeviceNumber::new(major, minor),
            device: 0,
            access_time: Timestamp::from_seconds(metadata.access_time as i64),
            modification_time: Timestamp::from_seconds(metadata.modification_time as i64),
            change_time: Timestamp::from_seconds(metadata.change_time as i64),
        })
    }

    fn change_attributes(&mut self, node: NodeId, changes: &AttributeChanges, time: Timestamp) -> Result<(), Errno> {
        let attributes = SetAttributes {
            permissions: changes.permissions.map(|bits| (bits & 0o7777) as u16),
            uid: changes.uid,
            gid: changes.gid,
            access_time: changes.access_time.map(Timestamp::ext2_seconds),
            modification_time: changes.modification_time.map(Timestamp::ext2_seconds),
            change_time: Some(time.ext2_seconds()),
        };
        Ok(self.mounted()?.set_attributes(inode(node)?, attributes)?)
    }

    fn lookup(&mut self, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        Ok(self.mounted()?.lookup(inode(directory)?, name)? as NodeId)
    }

    fn create(
        &mut self,
        directory: NodeId,
        name: &[u8],
        node: NewNode<'_>,
        creation: &Creation,
    ) -> Result<NodeId, Errno> {
        let filesystem = self.mounted()?;
        let directory = inode(directory)?;
        let permissions = (creation.permissions & 0o7777) as u16;
        let (uid, gid, time) = (creation.uid, creation.gid, creation.time.ext2_seconds());
        let number = match node {
            NewNode::RegularFile => filesystem.create(directory, name, permissions, uid, gid, time)?,
            NewNode::Directory => filesystem.make_directory(directory, name, permissions, uid, gid, time)?,
            NewNode::Symlink(target) => {
                if target.is_empty() {
                    return Err(Errno::NoSuchEntry);
                }
                filesystem.symlink(directory, name, target, uid, gid, time)?
            }
            NewNode::CharacterDevice(number) | NewNode::BlockDevice(number) => {
                let kind = if matches!(node, NewNode::CharacterDevice(_)) {
                    ext2::FileKind::CharacterDevice
                } else {
                    ext2::FileKind::BlockDevice
                };
                let device = (number.major, number.minor);
                filesystem.make_node_of_kind(directory, name, kind, permissions, device, uid, gid, time)?
            }
            NewNode::Fifo => filesystem.make_node_of_kind(
                directory,
                name,
                ext2::FileKind::Fifo,
                permissions,
                (0, 0),
                uid,
                gid,
                time,
            )?,
            NewNode::Socket => filesystem.make_node_of_kind(
                directory,
                name,
                ext2::FileKind::Socket,
                permissions,
                (0, 0),
                uid,
                gid,
                time,
            )?,
        };
        Ok(number as NodeId)
    }

    fn link(&mut self, node: NodeId, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno> {
        let filesystem = self.mounted()?;
        let number = inode(node)?;
        if filesystem.metadata(number)?.links == 0 {
            // An unlinked open file cannot get a name back (Linux: ENOENT).
            return Err(Errno::NoSuchEntry);
        }
        match filesystem.link(number, inode(directory)?, name, time.ext2_seconds()) {
            Err(ext2::Error::IsADirectory) => Err(Errno::NotPermitted),
            other => Ok(other?),
        }
    }

    fn unlink(&mut self, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno> {
        Ok(self.mounted()?.unlink(inode(directory)?, name, time.ext2_seconds())?)
    }

    fn remove_directory(&mut self, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno> {
        match self.mounted()?.remove_directory(inode(directory)?, name, time.ext2_seconds()) {
            Err(ext2::Error::InvalidName) if name == b".." => Err(Errno::DirectoryNotEmpty),
            other => Ok(other?),
        }
    }

    fn rename(
        &mut self,
        from_directory: NodeId,
        from_name: &[u8],
        to_directory: NodeId,
        to_name: &[u8],
        time: Timestamp,
    ) -> Result<(), Errno> {
        let result = self.mounted()?.rename(
            inode(from_directory)?,
            from_name,
            inode(to_directory)?,
            to_name,
            time.ext2_seconds(),
        );
        Ok(result?)
    }

    fn read(&mut self, node: NodeId, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.mounted()?.read(inode(node)?, offset, buffer)?)
    }

    fn write(&mut self, node: NodeId, offset: u64, data: &[u8], time: Timestamp) -> Result<usize, Errno> {
        Ok(self.mounted()?.write(inode(node)?, offset, data, time.ext2_seconds())?)
    }

    fn truncate(&mut self, node: NodeId, size: u64, time: Timestamp) -> Result<(), Errno> {
        Ok(self.mounted()?.truncate(inode(node)?, size, time.ext2_seconds())?)
    }

    fn read_link(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        Ok(self.mounted()?.read_link(inode(node)?)?)
    }

    fn read_directory(
        &mut self,
        directory: NodeId,
        position: u64,
        limit: usize,
    ) -> Result<(Vec<DirectoryEntry>, Option<u64>), Errno> {
        let (entries, next) = self.mounted()?.read_directory_from(inode(directory)?, position, limit)?;
        let entries = entries
            .into_iter()
            .map(|entry| DirectoryEntry {
                position: entry.position,
                node: entry.inode as NodeId,
                kind: match entry.file_type {
                    1 => Some(ext2::FileKind::RegularFile),
                    2 => Some(ext2::FileKind::Directory),
                    3 => Some(ext2::FileKind::CharacterDevice),
                    4 => Some(ext2::FileKind::BlockDevice),
                    5 => Some(ext2::FileKind::Fifo),
                    6 => Some(ext2::FileKind::Socket),
                    7 => Some(ext2::FileKind::Symlink),
                    _ => None,
                }
                .map(Into::into),
                name: entry.name,
            })
            .collect();
        Ok((entries, next))
    }

    fn statistics(&mut self) -> Result<FileSystemStatistics, Errno> {
        let statistics = self.mounted()?.statistics();
        Ok(FileSystemStatistics {
            kind_magic: magic::EXT2,
            block_size: statistics.block_size,
            blocks: statistics.blocks,
            free_blocks: statistics.free_blocks,
            available_blocks: statistics.available_blocks,
            files: statistics.inodes,
            free_files: statistics.free_inodes,
            name_max: statistics.name_max,
        })
    }

    fn open_node(&mut self, node: NodeId) -> Result<(), Errno> {
        Ok(self.mounted()?.open_inode(inode(node)?)?)
    }

    fn close_node(&mut self, node: NodeId, time: Timestamp) -> Result<(), Errno> {
        Ok(self.mounted()?.close_inode(inode(node)?, time.ext2_seconds())?)
    }

    fn sync(&mut self) -> Result<(), Errno> {
        Ok(self.mounted()?.sync()?)
    }

    fn shrink_cache(&mut self) -> Result<usize, Errno> {
        Ok(self.mounted()?.shrink_cache(CACHE_BLOCKS_KEPT_ON_SHRINK)?)
    }

    fn cached_bytes(&self) -> usize {
        self.filesystem.as_ref().map_or(0, Filesystem::cached_bytes)
    }

    fn unmount(&mut self) -> Result<(), Errno> {
        let filesystem = self.filesystem.take().ok_or(Errno::Stale)?;
        filesystem.unmount()?;
        Ok(())
    }
}
