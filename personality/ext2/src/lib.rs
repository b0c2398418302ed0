//! ext2: the Linux second extended file system, read and write, as a portable
//! `no_std` + `alloc` library over a small block-device trait.
//!
//! Mach_R's file server serves this library over Mach messages and the host tool
//! `mkimage` builds the root disk with it, so a disk made by Linux's `mke2fs`
//! mounts here and a disk written here passes Linux's `e2fsck`.
//!
//! # How to use it
//! 1. Implement [`BlockDevice`] (byte offsets; the library only ever transfers
//!    whole file-system blocks, so every offset and length is a multiple of 512),
//!    or use [`MemoryDevice`].
//! 2. [`format`] an empty device, or take one made by `mke2fs -t ext2`.
//! 3. [`Filesystem::mount`] it, then work by inode number: [`Filesystem::lookup`],
//!    [`Filesystem::create`], [`Filesystem::read`], [`Filesystem::write`],
//!    [`Filesystem::rename`]... or by path with [`Filesystem::resolve`].
//!    Time stamps come from the caller (`time` arguments): there is no clock here.
//!    A file server registers open files with [`Filesystem::open_inode`] and
//!    [`Filesystem::close_inode`], so an unlinked open file lives until its
//!    last close.
//! 4. [`Filesystem::sync`] writes back the block cache; [`Filesystem::unmount`]
//!    syncs, marks the file system clean and returns the device.
//!
//! Supported: revisions 0 and 1, 1/2/4 KiB blocks, any inode size, sparse
//! superblocks, `filetype`, `large_file`, `flex_bg`, htree directories
//! (looked up through the index and kept indexed as they grow). Other
//! incompatible features are refused by name; unknown read-only-compatible
//! features and journals mount read-only (see `docs/ext2.md`).
//!
//! # Invariants
//! - Every number read from the disk (block and inode numbers, record lengths,
//!   counts, sizes) is checked against the superblock before use; a corrupt or
//!   hostile image yields [`Error`], never a panic, an endless loop or unbounded
//!   memory. Every loop is bounded by a count that the superblock fixes and that
//!   was checked against the device size at mount.
//! - Free counts in the superblock always equal the sum of the group
//!   descriptors' counts, which follow the bitmaps exactly.
//! - Writes are issued data and bitmaps first, then the inode, then the
//!   directory entry (the reverse order on removal), so a crash leaves damage
//!   that `e2fsck` repairs. See `docs/ext2.md` for the cache's ordering rule.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod bytes;
mod cache;
mod device;
mod directory;
mod error;
mod filesystem;
mod format;
mod group;
mod htree;
mod inode;
mod path;
mod superblock;

pub use cache::{BlockCache, CacheStatistics};
pub use device::{BlockDevice, DeviceError, MemoryDevice};
pub use directory::DirectoryEntry;
pub use error::Error;
pub use filesystem::{Filesystem, MountOptions, SetAttributes, Statistics};
pub use format::{format, FormatOptions};
pub use inode::{FileKind, Metadata};
pub use superblock::{Features, ROOT_INODE};

/// Result type of every fallible operation of this crate.
pub type Result<T> = core::result::Result<T, Error>;
