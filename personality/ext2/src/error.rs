//! The error type of the library.

use core::fmt;

use crate::device::DeviceError;

/// Why an operation failed. Corruption is reported with a static description
/// of the check that failed, so a log line says what was wrong on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The block device failed.
    Device(DeviceError),
    /// No ext2 superblock magic (0xEF53) at byte 1024.
    BadMagic,
    /// The superblock's revision level is not 0 or 1.
    UnsupportedRevision(u32),
    /// The block size is not 1, 2 or 4 KiB.
    UnsupportedBlockSize(u64),
    /// An incompatible feature this library does not implement is set; the
    /// name is the one `mke2fs -O` and `dumpe2fs` use.
    UnsupportedFeature(&'static str),
    /// A check of an on-disk value failed: the image is corrupt or hostile.
    Corrupt(&'static str),
    /// The file system is mounted read-only (asked for, or forced by an
    /// unknown read-only-compatible feature or a journal).
    ReadOnly,
    /// No directory entry of that name.
    NotFound,
    /// A directory was expected.
    NotADirectory,
    /// A directory was given where one is not allowed.
    IsADirectory,
    /// rmdir, or rename over, a directory that has entries.
    DirectoryNotEmpty,
    /// The name already exists in the directory.
    AlreadyExists,
    /// A name longer than 255 bytes.
    NameTooLong,
    /// An empty name, ".", "..", or one holding '/' or NUL where a new entry is made.
    InvalidName,
    /// No free block left.
    NoSpace,
    /// No free inode left.
    NoInodes,
    /// The link count would pass the ext2 limit (32000).
    TooManyLinks,
    /// The file would be larger than the block map or the revision allows.
    FileTooLarge,
    /// The inode number is 0 or above the superblock's inode count.
    InvalidInode(u32),
    /// The operation needs a symbolic link.
    NotASymlink,
    /// Too many symbolic links while resolving a path (more than 40).
    SymlinkLoop,
    /// rename of a directory into its own subtree.
    RenameIntoSubtree,
    /// An argument is out of range; the text says which.
    InvalidArgument(&'static str),
}

impl From<DeviceError> for Error {
    fn from(error: DeviceError) -> Self {
        Error::Device(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Device(error) => write!(formatter, "block device error: {error}"),
            Error::BadMagic => write!(formatter, "not an ext2 file system (bad superblock magic)"),
            Error::UnsupportedRevision(revision) => {
                write!(formatter, "unsupported ext2 revision {revision}")
            }
            Error::UnsupportedBlockSize(size) => {
                write!(formatter, "unsupported block size {size} (1024, 2048 or 4096 only)")
            }
            Error::UnsupportedFeature(name) => {
                write!(formatter, "unsupported incompatible feature '{name}'")
            }
            Error::Corrupt(what) => write!(formatter, "corrupt file system: {what}"),
            Error::ReadOnly => write!(formatter, "file system is read-only"),
            Error::NotFound => write!(formatter, "no such file or directory"),
            Error::NotADirectory => write!(formatter, "not a directory"),
            Error::IsADirectory => write!(formatter, "is a directory"),
            Error::DirectoryNotEmpty => write!(formatter, "directory not empty"),
            Error::AlreadyExists => write!(formatter, "file exists"),
            Error::NameTooLong => write!(formatter, "file name too long"),
            Error::InvalidName => write!(formatter, "invalid file name"),
            Error::NoSpace => write!(formatter, "no space left on device"),
            Error::NoInodes => write!(formatter, "no free inodes left"),
            Error::TooManyLinks => write!(formatter, "too many links"),
            Error::FileTooLarge => write!(formatter, "file too large"),
            Error::InvalidInode(number) => write!(formatter, "invalid inode number {number}"),
            Error::NotASymlink => write!(formatter, "not a symbolic link"),
            Error::SymlinkLoop => write!(formatter, "too many levels of symbolic links"),
            Error::RenameIntoSubtree => {
                write!(formatter, "cannot move a directory into its own subtree")
            }
            Error::InvalidArgument(what) => write!(formatter, "invalid argument: {what}"),
        }
    }
}
