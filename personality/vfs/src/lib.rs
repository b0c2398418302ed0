//! mach-vfs: the file server's portable core.
//!
//! A plain `no_std` + `alloc` library with no Mach in it, tested on the
//! host; `personality/fs` is the server task that runs it over Mach
//! messages (see `docs/file-server.md`).
//!
//! - [`vfs::Vfs`]: the mount table ([`mount`]) and every operation on names
//!   (open's lookups, mkdir, unlink, rename, link, symlink, chmod...), with
//!   POSIX path resolution and permission checks against a [`Credential`];
//! - file systems behind it ([`filesystem::FileSystem`]): ext2 on a block
//!   device ([`ext2fs`]) and memory ([`tmpfs`]);
//! - [`Errno`]: POSIX errors with Linux's numbers, which are also the
//!   error codes of the `io` and `fs` interfaces.
//!
//! Invariants: nothing here trusts its input (paths, names, offsets and
//! disk contents are checked and refused with an error, never a panic);
//! every loop is bounded (symbolic links by [`vfs::SYMLINK_LIMIT`],
//! mount crossings by [`mount::MOUNTS_MAX`], parent walks by fixed
//! depths); a reference to an unmounted file system is `ESTALE`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod clock;
pub mod credential;
pub mod errno;
pub mod ext2fs;
pub mod filesystem;
pub mod lock;
pub mod mount;
pub mod mount_list;
pub mod node;
pub mod pipe;
pub mod server;
pub mod tmpfs;
pub mod vfs;

pub use credential::{Access, Credential};
pub use errno::Errno;
pub use mount::{MountFlags, MountId, NodeRef};
pub use node::{Attributes, NodeId, NodeKind, Timestamp};
pub use vfs::{Caller, Follow, Lookup, Start, Vfs};
