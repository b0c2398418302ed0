//! The values the file server's requests carry: open flags, `stat` and
//! `statfs` records, directory entries in `getdents` form, lock requests.
//! Numbers and layouts are Linux's x86_64 ones, which minilibc uses.

use alloc::vec::Vec;

use crate::errno::Errno;
use crate::lock::{ByteRange, LockKind};
use crate::node::{Attributes, FileSystemStatistics, NodeKind};

/// `open` flags (Linux's values).
pub mod open_flags {
    pub const ACCESS_MODE: u32 = 0o3;
    pub const READ_ONLY: u32 = 0o0;
    pub const WRITE_ONLY: u32 = 0o1;
    pub const READ_WRITE: u32 = 0o2;
    pub const CREATE: u32 = 0o100;
    pub const EXCLUSIVE: u32 = 0o200;
    pub const NO_CONTROLLING_TERMINAL: u32 = 0o400;
    pub const TRUNCATE: u32 = 0o1000;
    pub const APPEND: u32 = 0o2000;
    pub const NON_BLOCKING: u32 = 0o4000;
    pub const DATA_SYNC: u32 = 0o10000;
    pub const DIRECTORY: u32 = 0o200000;
    pub const NO_FOLLOW: u32 = 0o400000;
    pub const CLOSE_ON_EXEC: u32 = 0o2000000;
    pub const SYNC: u32 = 0o4010000;
    /// What `fcntl(F_SETFL)` may change.
    pub const STATUS_CHANGEABLE: u32 = APPEND | NON_BLOCKING;
    /// Every flag the server understands; any other bit is `EINVAL`.
    pub const KNOWN: u32 = ACCESS_MODE
        | CREATE
        | EXCLUSIVE
        | NO_CONTROLLING_TERMINAL
        | TRUNCATE
        | APPEND
        | NON_BLOCKING
        | DATA_SYNC
        | DIRECTORY
        | NO_FOLLOW
        | CLOSE_ON_EXEC
        | SYNC
        | 0o100000; // O_LARGEFILE: every file is large here.
}

/// `poll` events (Linux's values).
pub mod poll_events {
    pub const INPUT: u32 = 0x001;
    pub const PRIORITY: u32 = 0x002;
    pub const OUTPUT: u32 = 0x004;
    pub const ERROR: u32 = 0x008;
    pub const HANG_UP: u32 = 0x010;
    pub const INVALID: u32 = 0x020;
    pub const READ_NORMAL: u32 = 0x040;
    pub const WRITE_NORMAL: u32 = 0x100;
    /// Reported whether asked for or not.
    pub const ALWAYS: u32 = ERROR | HANG_UP | INVALID;
}

/// `lseek` whence.
pub mod whence {
    pub const SET: u32 = 0;
    pub const CURRENT: u32 = 1;
    pub const END: u32 = 2;
}

/// `struct stat` as the server reports it (the fields of minilibc's
/// `<sys/stat.h>`, in order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub device: u64,
    pub node: u64,
    pub links: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub special_device: u64,
    pub size: i64,
    pub block_size: i64,
    pub blocks: i64,
    pub access_seconds: i64,
    pub access_nanoseconds: i64,
    pub modification_seconds: i64,
    pub modification_nanoseconds: i64,
    pub change_seconds: i64,
    pub change_nanoseconds: i64,
}

impl Stat {
    pub fn from_attributes(attributes: &Attributes) -> Self {
        Stat {
            device: attributes.device,
            node: attributes.node,
            links: attributes.links as u64,
            mode: attributes.mode(),
            uid: attributes.uid,
            gid: attributes.gid,
            special_device: attributes.special.encoded(),
            size: attributes.size as i64,
            block_size: attributes.block_size as i64,
            blocks: attributes.blocks as i64,
            access_seconds: attributes.access_time.seconds,
            access_nanoseconds: attributes.access_time.nanoseconds as i64,
            modification_seconds: attributes.modification_time.seconds,
            modification_nanoseconds: attributes.modification_time.nanoseconds as i64,
            change_seconds: attributes.change_time.seconds,
            change_nanoseconds: attributes.change_time.nanoseconds as i64,
        }
    }

    pub fn kind(&self) -> Option<NodeKind> {
        NodeKind::from_mode(self.mode)
    }
}

/// `struct statfs` figures (Linux's `f_*` fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileSystemStat {
    pub kind: u64,
    pub block_size: u64,
    pub blocks: u64,
    pub free_blocks: u64,
    pub available_blocks: u64,
    pub files: u64,
    pub free_files: u64,
    pub file_system_id: u64,
    pub name_max: u64,
    pub flags: u64,
}

/// `ST_RDONLY` in `f_flags`.
pub const STATFS_READ_ONLY: u64 = 1;

impl FileSystemStat {
    pub fn from_statistics(statistics: &FileSystemStatistics, device: u64, read_only: bool) -> Self {
        FileSystemStat {
            kind: statistics.kind_magic,
            block_size: statistics.block_size,
            blocks: statistics.blocks,
            free_blocks: statistics.free_blocks,
            available_blocks: statistics.available_blocks,
            files: statistics.files,
            free_files: statistics.free_files,
            file_system_id: device,
            name_max: statistics.name_max as u64,
            flags: if read_only { STATFS_READ_ONLY } else { 0 },
        }
    }
}

/// One `struct dirent` (Linux's `linux_dirent64`): `d_ino` u64, `d_off`
/// i64 (where the next entry is), `d_reclen` u16, `d_type` u8, the name and
/// a NUL, padded to 8 bytes. Returns false (writing nothing) when it does
/// not fit in `out`'s remaining `budget`.
pub fn push_directory_entry(out: &mut Vec<u8>, budget: usize, node: u64, next: u64, kind: u8, name: &[u8]) -> bool {
    let length = (19 + name.len() + 1).next_multiple_of(8);
    if out.len() + length > budget {
        return false;
    }
    let start = out.len();
    out.extend_from_slice(&node.to_le_bytes());
    out.extend_from_slice(&(next.min(i64::MAX as u64)).to_le_bytes());
    out.extend_from_slice(&(length as u16).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(name);
    out.resize(start + length, 0);
    true
}

/// A record-lock request as `fcntl` gives it (`struct flock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockRequest {
    /// `F_RDLCK` 0, `F_WRLCK` 1, `F_UNLCK` 2.
    pub kind: u32,
    pub whence: u32,
    pub start: i64,
    pub length: i64,
}

pub const F_RDLCK: u32 = 0;
pub const F_WRLCK: u32 = 1;
pub const F_UNLCK: u32 = 2;

impl LockRequest {
    /// The lock kind (`None` for an unlock); `EINVAL` for another value.
    pub fn lock_kind(&self) -> Result<Option<LockKind>, Errno> {
        match self.kind {
            F_RDLCK => Ok(Some(LockKind::Shared)),
            F_WRLCK => Ok(Some(LockKind::Exclusive)),
            F_UNLCK => Ok(None),
            _ => Err(Errno::InvalidArgument),
        }
    }

    /// The byte range, given the open file's offset and the file's size
    /// for `SEEK_CUR` / `SEEK_END` (POSIX: a negative length locks the
    /// bytes before `start`; zero reaches past any end).
    pub fn range(&self, offset: u64, size: u64) -> Result<ByteRange, Errno> {
        let base = match self.whence {
            whence::SET => 0i128,
            whence::CURRENT => offset as i128,
            whence::END => size as i128,
            _ => return Err(Errno::InvalidArgument),
        };
        let mut start = base + self.start as i128;
        let mut end = if self.length == 0 { i128::MAX } else { start + self.length as i128 };
        if self.length < 0 {
            end = start;
            start += self.length as i128;
        }
        if start < 0 {
            return Err(Errno::InvalidArgument);
        }
        let start = u64::try_from(start).map_err(|_| Errno::Overflow)?;
        let end = if end > u64::MAX as i128 { u64::MAX } else { end as u64 };
        Ok(ByteRange { start, end })
    }
}

/// What `F_GETLK` answers: the conflicting lock, or `F_UNLCK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockReport {
    pub kind: u32,
    pub start: i64,
    /// 0: to the end of the file and beyond.
    pub length: i64,
    pub pid: u32,
}

impl LockReport {
    pub const UNLOCKED: LockReport = LockReport { kind: F_UNLCK, start: 0, length: 0, pid: 0 };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_entries_have_linux_layout() {
        let mut out = Vec::new();
        assert!(push_directory_entry(&mut out, 64, 12, 3, 8, b"hello"));
        assert_eq!(out.len(), 32, "19 + 5 + NUL = 25, padded to 32");
        assert_eq!(&out[0..8], &12u64.to_le_bytes());
        assert_eq!(&out[8..16], &3u64.to_le_bytes());
        assert_eq!(&out[16..18], &32u16.to_le_bytes());
        assert_eq!(out[18], 8);
        assert_eq!(&out[19..25], b"hello\0");
        assert!(!push_directory_entry(&mut out, 64, 13, 4, 8, b"a-much-longer-name-than-fits"));
        assert_eq!(out.len(), 32);
    }

    #[test]
    fn lock_ranges_follow_posix() {
        let request = |whence, start, length| LockRequest { kind: F_WRLCK, whence, start, length };
        assert_eq!(request(whence::SET, 10, 5).range(0, 0), Ok(ByteRange { start: 10, end: 15 }));
        assert_eq!(request(whence::SET, 10, 0).range(0, 0), Ok(ByteRange { start: 10, end: u64::MAX }));
        assert_eq!(request(whence::SET, 10, -4).range(0, 0), Ok(ByteRange { start: 6, end: 10 }));
        assert_eq!(request(whence::CURRENT, 1, 1).range(100, 0), Ok(ByteRange { start: 101, end: 102 }));
        assert_eq!(request(whence::END, -10, 10).range(0, 50), Ok(ByteRange { start: 40, end: 50 }));
        assert_eq!(request(whence::SET, 2, -4).range(0, 0), Err(Errno::InvalidArgument));
        assert_eq!(request(7, 0, 0).range(0, 0), Err(Errno::InvalidArgument));
    }
}
