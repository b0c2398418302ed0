//! The interface every file system behind the VFS implements.
//!
//! A file system works by node number, like ext2's library: it knows
//! nothing of paths, mounts, permissions or open files (the VFS does those
//! once for all of them). It checks what only it can check: that names
//! exist, kinds fit (a directory where one is needed, an empty directory
//! to remove), its own space and limits. Errors are POSIX's.

use alloc::vec::Vec;

use crate::errno::Errno;
use crate::node::{
    AttributeChanges, Attributes, Creation, DirectoryEntry, FileSystemStatistics, NewNode, NodeId, Timestamp,
};

/// One mounted file system's operations.
pub trait FileSystem {
    /// A short name for logs and `statfs` (`"ext2"`, `"tmpfs"`).
    fn kind_name(&self) -> &'static str;

    /// The root directory's node.
    fn root(&self) -> NodeId;

    /// True when the file system refuses every change by its own nature
    /// (a journal it cannot write, a read-only image); the VFS adds the
    /// mount's own read-only flag.
    fn is_read_only(&self) -> bool;

    fn attributes(&mut self, node: NodeId) -> Result<Attributes, Errno>;

    /// Applies `changes` and sets the change time to `time`.
    fn change_attributes(&mut self, node: NodeId, changes: &AttributeChanges, time: Timestamp) -> Result<(), Errno>;

    /// The node `name` names in `directory` (`..` included: the parent,
    /// the root's own at the root).
    fn lookup(&mut self, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno>;

    /// Makes a new node `name` in `directory` (`EEXIST` if the name is taken).
    fn create(
        &mut self,
        directory: NodeId,
        name: &[u8],
        node: NewNode<'_>,
        creation: &Creation,
    ) -> Result<NodeId, Errno>;

    /// A new name for `node` (not a directory) in `directory`.
    fn link(&mut self, node: NodeId, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno>;

    /// Removes a name that is not a directory; the node goes with its last
    /// link unless it is open (then at its last [`FileSystem::close_node`]).
    fn unlink(&mut self, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno>;

    /// Removes an empty directory.
    fn remove_directory(&mut self, directory: NodeId, name: &[u8], time: Timestamp) -> Result<(), Errno>;

    /// POSIX rename within this file system: replaces a compatible target
    /// (a file by a non-directory, an empty directory by a directory),
    /// refuses to move a directory into its own subtree (`EINVAL`), and
    /// does nothing when both names are links to the same node.
    fn rename(
        &mut self,
        from_directory: NodeId,
        from_name: &[u8],
        to_directory: NodeId,
        to_name: &[u8],
        time: Timestamp,
    ) -> Result<(), Errno>;

    /// Reads a regular file from `offset`; returns the bytes read (0 at the end).
    fn read(&mut self, node: NodeId, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno>;

    /// Writes a regular file at `offset`, growing it; returns the bytes
    /// written (short only when space runs out part-way).
    fn write(&mut self, node: NodeId, offset: u64, data: &[u8], time: Timestamp) -> Result<usize, Errno>;

    /// Sets a regular file's size.
    fn truncate(&mut self, node: NodeId, size: u64, time: Timestamp) -> Result<(), Errno>;

    /// A symbolic link's target.
    fn read_link(&mut self, node: NodeId) -> Result<Vec<u8>, Errno>;

    /// Up to `limit` entries from `position` (0: the start; later
    /// positions come from earlier answers), and where to continue
    /// (`None`: the end). `.` and `..` are listed.
    fn read_directory(
        &mut self,
        directory: NodeId,
        position: u64,
        limit: usize,
    ) -> Result<(Vec<DirectoryEntry>, Option<u64>), Errno>;

    fn statistics(&mut self) -> Result<FileSystemStatistics, Errno>;

    /// An open file now refers to `node`: keep it while unlinked.
    fn open_node(&mut self, node: NodeId) -> Result<(), Errno>;

    /// One open of `node` ended; an unlinked node goes at its last close.
    fn close_node(&mut self, node: NodeId, time: Timestamp) -> Result<(), Errno>;

    /// Writes every change back to the storage and flushes it.
    fn sync(&mut self) -> Result<(), Errno>;

    /// Writes back and drops cached data to give memory back; returns the
    /// bytes freed (0 when the file system caches nothing it can drop).
    fn shrink_cache(&mut self) -> Result<usize, Errno>;

    /// Bytes of cached storage data held now (0 when nothing is cached).
    fn cached_bytes(&self) -> usize;

    /// The last step of an unmount: frees unlinked nodes, syncs, marks the
    /// storage clean. The file system is unusable afterwards.
    fn unmount(&mut self) -> Result<(), Errno>;
}
