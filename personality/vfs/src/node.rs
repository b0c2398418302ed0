//! What every file system reports about its nodes: kinds, attributes,
//! directory entries, time stamps.

use alloc::vec::Vec;

/// A file system's own number for one of its nodes (an inode number).
pub type NodeId = u64;

/// A point in time: seconds and nanoseconds since the epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanoseconds: u32,
}

impl Timestamp {
    pub const fn from_seconds(seconds: i64) -> Self {
        Timestamp { seconds, nanoseconds: 0 }
    }

    /// Seconds as ext2 stores them (32 bits, clamped: ext2 cannot say
    /// more, and a time before 1970 is stored as 0).
    pub fn ext2_seconds(self) -> u32 {
        self.seconds.clamp(0, u32::MAX as i64) as u32
    }
}

/// What kind of object a node is (the type bits of `st_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    RegularFile,
    Directory,
    Symlink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl NodeKind {
    /// The `S_IF*` bits of `st_mode`.
    pub const fn mode_bits(self) -> u32 {
        match self {
            NodeKind::RegularFile => 0o100000,
            NodeKind::Directory => 0o040000,
            NodeKind::Symlink => 0o120000,
            NodeKind::CharacterDevice => 0o020000,
            NodeKind::BlockDevice => 0o060000,
            NodeKind::Fifo => 0o010000,
            NodeKind::Socket => 0o140000,
        }
    }

    /// The kind of a `st_mode`'s type bits (`mknod`'s argument).
    pub const fn from_mode(mode: u32) -> Option<NodeKind> {
        Some(match mode & 0o170000 {
            0o100000 => NodeKind::RegularFile,
            0o040000 => NodeKind::Directory,
            0o120000 => NodeKind::Symlink,
            0o020000 => NodeKind::CharacterDevice,
            0o060000 => NodeKind::BlockDevice,
            0o010000 => NodeKind::Fifo,
            0o140000 => NodeKind::Socket,
            _ => return None,
        })
    }

    /// `d_type` of a `struct dirent` (`DT_*`).
    pub const fn directory_entry_type(self) -> u8 {
        match self {
            NodeKind::Fifo => 1,
            NodeKind::CharacterDevice => 2,
            NodeKind::Directory => 4,
            NodeKind::BlockDevice => 6,
            NodeKind::RegularFile => 8,
            NodeKind::Symlink => 10,
            NodeKind::Socket => 12,
        }
    }
}

impl From<ext2::FileKind> for NodeKind {
    fn from(kind: ext2::FileKind) -> Self {
        match kind {
            ext2::FileKind::RegularFile => NodeKind::RegularFile,
            ext2::FileKind::Directory => NodeKind::Directory,
            ext2::FileKind::Symlink => NodeKind::Symlink,
            ext2::FileKind::CharacterDevice => NodeKind::CharacterDevice,
            ext2::FileKind::BlockDevice => NodeKind::BlockDevice,
            ext2::FileKind::Fifo => NodeKind::Fifo,
            ext2::FileKind::Socket => NodeKind::Socket,
        }
    }
}

/// A device number as `(major, minor)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceNumber {
    pub major: u32,
    pub minor: u32,
}

impl DeviceNumber {
    pub const fn new(major: u32, minor: u32) -> Self {
        DeviceNumber { major, minor }
    }

    /// Linux's `dev_t` encoding (glibc's `makedev`), as `st_rdev` carries it.
    pub const fn encoded(self) -> u64 {
        let (major, minor) = (self.major as u64, self.minor as u64);
        ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
    }

    /// The inverse of [`DeviceNumber::encoded`].
    pub const fn decode(value: u64) -> Self {
        let major = ((value >> 32) & 0xffff_f000) | ((value >> 8) & 0xfff);
        let minor = ((value >> 12) & 0xffff_ff00) | (value & 0xff);
        DeviceNumber { major: major as u32, minor: minor as u32 }
    }
}

/// A node's attributes: what `stat` reports (the VFS fills in `device`,
/// the number of the mount the node belongs to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub node: NodeId,
    pub kind: NodeKind,
    /// Permission, set-id and sticky bits (`mode & 0o7777`).
    pub permissions: u32,
    pub links: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Space used, in 512-byte units.
    pub blocks: u64,
    /// The preferred I/O size.
    pub block_size: u32,
    /// What a device node stands for.
    pub special: DeviceNumber,
    /// The file system's device number (`st_dev`).
    pub device: u64,
    pub access_time: Timestamp,
    pub modification_time: Timestamp,
    pub change_time: Timestamp,
}

impl Attributes {
    /// `st_mode`: type and permission bits.
    pub fn mode(&self) -> u32 {
        self.kind.mode_bits() | (self.permissions & 0o7777)
    }
}

/// Changes to a node's attributes; `None` keeps a value. The change time
/// is set by the file system whenever anything changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttributeChanges {
    pub permissions: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub access_time: Option<Timestamp>,
    pub modification_time: Option<Timestamp>,
}

impl AttributeChanges {
    pub fn is_empty(&self) -> bool {
        *self == AttributeChanges::default()
    }
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// Where the entry is: listing from this position starts with it.
    pub position: u64,
    pub node: NodeId,
    pub name: Vec<u8>,
    /// `None` when the file system does not record it in the entry
    /// (ext2 without `filetype`).
    pub kind: Option<NodeKind>,
}

/// `statfs` figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileSystemStatistics {
    /// `f_type`, Linux's magic number for the kind of file system.
    pub kind_magic: u64,
    pub block_size: u64,
    pub blocks: u64,
    pub free_blocks: u64,
    pub available_blocks: u64,
    pub files: u64,
    pub free_files: u64,
    pub name_max: u32,
}

/// Linux's `f_type` values for the file systems served here.
pub mod magic {
    pub const EXT2: u64 = 0xEF53;
    pub const TMPFS: u64 = 0x0102_1994;
}

/// What a new node is made as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewNode<'a> {
    RegularFile,
    Directory,
    Symlink(&'a [u8]),
    CharacterDevice(DeviceNumber),
    BlockDevice(DeviceNumber),
    Fifo,
    Socket,
}

impl NewNode<'_> {
    pub fn kind(&self) -> NodeKind {
        match self {
            NewNode::RegularFile => NodeKind::RegularFile,
            NewNode::Directory => NodeKind::Directory,
            NewNode::Symlink(_) => NodeKind::Symlink,
            NewNode::CharacterDevice(_) => NodeKind::CharacterDevice,
            NewNode::BlockDevice(_) => NodeKind::BlockDevice,
            NewNode::Fifo => NodeKind::Fifo,
            NewNode::Socket => NodeKind::Socket,
        }
    }
}

/// Who makes a node, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creation {
    /// Permission bits, after the caller's umask.
    pub permissions: u32,
    pub uid: u32,
    pub gid: u32,
    pub time: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_encode_as_linux_does() {
        assert_eq!(DeviceNumber::new(1, 3).encoded(), 0x103);
        assert_eq!(DeviceNumber::new(254, 16).encoded(), 0xfe10);
        let large = DeviceNumber::new(0x1234, 0x56789);
        assert_eq!(DeviceNumber::decode(large.encoded()), large);
    }

    #[test]
    fn kinds_round_trip_through_mode_bits() {
        for kind in [
            NodeKind::RegularFile,
            NodeKind::Directory,
            NodeKind::Symlink,
            NodeKind::CharacterDevice,
            NodeKind::BlockDevice,
            NodeKind::Fifo,
            NodeKind::Socket,
        ] {
            assert_eq!(NodeKind::from_mode(kind.mode_bits() | 0o644), Some(kind));
        }
        assert_eq!(NodeKind::from_mode(0o644), None);
    }
}
