//! Inodes: the on-disk record of a file, and the metadata view of it.

use alloc::vec;
use alloc::vec::Vec;

use crate::bytes::{read_u16, read_u32, write_u16, write_u32};

/// Offset of `i_block` (12 direct, indirect, double, triple pointers).
pub const BLOCK_POINTERS_OFFSET: usize = 40;
/// Direct block pointers.
pub const DIRECT_BLOCKS: usize = 12;
/// Bytes of a fast symlink target kept in `i_block`.
pub const FAST_SYMLINK_MAX: usize = 60;
/// `i_flags` bit: the directory carries an htree index.
pub const FLAG_INDEX: u32 = 0x1000;
/// The ext2 link limit.
pub const LINK_MAX: u32 = 32000;

const MODE_TYPE_MASK: u16 = 0xF000;

/// What kind of file an inode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    RegularFile,
    Directory,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
    Symlink,
}

impl FileKind {
    /// The kind from the mode's type bits, if valid.
    pub fn from_mode(mode: u16) -> Option<FileKind> {
        Some(match mode & MODE_TYPE_MASK {
            0x8000 => FileKind::RegularFile,
            0x4000 => FileKind::Directory,
            0x2000 => FileKind::CharacterDevice,
            0x6000 => FileKind::BlockDevice,
            0x1000 => FileKind::Fifo,
            0xC000 => FileKind::Socket,
            0xA000 => FileKind::Symlink,
            _ => return None,
        })
    }

    /// The mode's type bits.
    pub fn mode_bits(self) -> u16 {
        match self {
            FileKind::RegularFile => 0x8000,
            FileKind::Directory => 0x4000,
            FileKind::CharacterDevice => 0x2000,
            FileKind::BlockDevice => 0x6000,
            FileKind::Fifo => 0x1000,
            FileKind::Socket => 0xC000,
            FileKind::Symlink => 0xA000,
        }
    }

    /// The directory entry file type byte (filetype feature).
    pub fn directory_entry_type(self) -> u8 {
        match self {
            FileKind::RegularFile => 1,
            FileKind::Directory => 2,
            FileKind::CharacterDevice => 3,
            FileKind::BlockDevice => 4,
            FileKind::Fifo => 5,
            FileKind::Socket => 6,
            FileKind::Symlink => 7,
        }
    }
}

/// A file's attributes, as `stat` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub inode: u32,
    pub kind: FileKind,
    /// Permission bits, set-id and sticky bits (mode & 0o7777).
    pub permissions: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub links: u32,
    pub access_time: u32,
    pub change_time: u32,
    pub modification_time: u32,
    /// Allocated space in 512-byte sectors (`i_blocks`).
    pub sectors: u64,
    /// (major, minor) of a device inode.
    pub device: Option<(u32, u32)>,
    pub flags: u32,
    pub generation: u32,
}

/// An inode, kept as its raw bytes (128 or 256...) so extra fields survive.
#[derive(Clone, Debug)]
pub struct Inode {
    pub number: u32,
    raw: Vec<u8>,
}

impl Inode {
    pub fn from_bytes(number: u32, bytes: &[u8]) -> Self {
        Inode { number, raw: bytes.to_vec() }
    }

    pub fn zeroed(number: u32, size: usize) -> Self {
        Inode { number, raw: vec![0; size] }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    pub fn mode(&self) -> u16 {
        read_u16(&self.raw, 0)
    }
    pub fn set_mode(&mut self, mode: u16) {
        write_u16(&mut self.raw, 0, mode)
    }
    pub fn kind(&self) -> Option<FileKind> {
        FileKind::from_mode(self.mode())
    }
    pub fn uid(&self) -> u32 {
        read_u16(&self.raw, 2) as u32 | (read_u16(&self.raw, 120) as u32) << 16
    }
    pub fn set_uid(&mut self, uid: u32) {
        write_u16(&mut self.raw, 2, uid as u16);
        write_u16(&mut self.raw, 120, (uid >> 16) as u16);
    }
    pub fn gid(&self) -> u32 {
        read_u16(&self.raw, 24) as u32 | (read_u16(&self.raw, 122) as u32) << 16
    }
    pub fn set_gid(&mut self, gid: u32) {
        write_u16(&mut self.raw, 24, gid as u16);
        write_u16(&mut self.raw, 122, (gid >> 16) as u16);
    }
    /// File size: `i_size_high` counts only for regular files (for a
    /// directory that word is `i_dir_acl` in ext2).
    pub fn size(&self) -> u64 {
        let low = read_u32(&self.raw, 4) as u64;
        if self.kind() == Some(FileKind::RegularFile) {
            low | (read_u32(&self.raw, 108) as u64) << 32
        } else {
            low
        }
    }
    pub fn set_size(&mut self, size: u64) {
        write_u32(&mut self.raw, 4, size as u32);
        if self.kind() == Some(FileKind::RegularFile) {
            write_u32(&mut self.raw, 108, (size >> 32) as u32);
        }
    }
    pub fn access_time(&self) -> u32 {
        read_u32(&self.raw, 8)
    }
    pub fn set_access_time(&mut self, time: u32) {
        write_u32(&mut self.raw, 8, time)
    }
    pub fn change_time(&self) -> u32 {
        read_u32(&self.raw, 12)
    }
    pub fn set_change_time(&mut self, time: u32) {
        write_u32(&mut self.raw, 12, time)
    }
    pub fn modification_time(&self) -> u32 {
        read_u32(&self.raw, 16)
    }
    pub fn set_modification_time(&mut self, time: u32) {
        write_u32(&mut self.raw, 16, time)
    }
    pub fn set_deletion_time(&mut self, time: u32) {
        write_u32(&mut self.raw, 20, time)
    }
    pub fn links(&self) -> u32 {
        read_u16(&self.raw, 26) as u32
    }
    pub fn set_links(&mut self, links: u32) {
        write_u16(&mut self.raw, 26, links as u16)
    }
    /// `i_blocks`: 512-byte sectors (the high half is only meaningful with
    /// huge_file, which forces read-only, so it is not read).
    pub fn sectors(&self) -> u64 {
        read_u32(&self.raw, 28) as u64
    }
    pub fn set_sectors(&mut self, sectors: u64) {
        write_u32(&mut self.raw, 28, sectors as u32)
    }
    pub fn flags(&self) -> u32 {
        read_u32(&self.raw, 32)
    }
    pub fn set_flags(&mut self, flags: u32) {
        write_u32(&mut self.raw, 32, flags)
    }
    pub fn block_pointer(&self, index: usize) -> u32 {
        read_u32(&self.raw, BLOCK_POINTERS_OFFSET + 4 * index)
    }
    pub fn set_block_pointer(&mut self, index: usize, block: u32) {
        write_u32(&mut self.raw, BLOCK_POINTERS_OFFSET + 4 * index, block)
    }
    /// The 60 bytes of `i_block` (fast symlink target, device numbers).
    pub fn block_area(&self) -> &[u8] {
        &self.raw[BLOCK_POINTERS_OFFSET..BLOCK_POINTERS_OFFSET + FAST_SYMLINK_MAX]
    }
    pub fn block_area_mut(&mut self) -> &mut [u8] {
        &mut self.raw[BLOCK_POINTERS_OFFSET..BLOCK_POINTERS_OFFSET + FAST_SYMLINK_MAX]
    }
    pub fn generation(&self) -> u32 {
        read_u32(&self.raw, 100)
    }
    pub fn set_generation(&mut self, generation: u32) {
        write_u32(&mut self.raw, 100, generation)
    }
    /// The extended-attribute block, if any.
    pub fn file_acl(&self) -> u32 {
        read_u32(&self.raw, 104)
    }
    pub fn set_file_acl(&mut self, block: u32) {
        write_u32(&mut self.raw, 104, block)
    }
    /// `i_extra_isize` of a large inode.
    pub fn set_extra_size(&mut self, size: u16) {
        if self.raw.len() > 130 {
            write_u16(&mut self.raw, 128, size)
        }
    }

    /// Device numbers: Linux keeps the old 8:8 encoding in `i_block[0]`, or
    /// the new 12:20 encoding in `i_block[1]`.
    pub fn device_number(&self) -> (u32, u32) {
        let old = self.block_pointer(0);
        if old != 0 {
            return ((old >> 8) & 0xFF, old & 0xFF);
        }
        let new = self.block_pointer(1);
        ((new & 0xFFF00) >> 8, (new & 0xFF) | ((new >> 12) & 0xFFF00))
    }

    pub fn set_device_number(&mut self, major: u32, minor: u32) {
        if major < 256 && minor < 256 {
            self.set_block_pointer(0, (major << 8) | minor);
            self.set_block_pointer(1, 0);
        } else {
            self.set_block_pointer(0, 0);
            self.set_block_pointer(1, (minor & 0xFF) | (major << 8) | ((minor & !0xFF) << 12));
        }
    }

    pub fn metadata(&self) -> Option<Metadata> {
        let kind = self.kind()?;
        let device = match kind {
            FileKind::CharacterDevice | FileKind::BlockDevice => Some(self.device_number()),
            _ => None,
        };
        Some(Metadata {
            inode: self.number,
            kind,
            permissions: self.mode() & 0o7777,
            uid: self.uid(),
            gid: self.gid(),
            size: self.size(),
            links: self.links(),
            access_time: self.access_time(),
            change_time: self.change_time(),
            modification_time: self.modification_time(),
            sectors: self.sectors(),
            device,
            flags: self.flags(),
            generation: self.generation(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_round_trip_in_both_encodings() {
        let mut inode = Inode::zeroed(12, 128);
        for (major, minor) in [(1, 3), (4, 64), (259, 1), (8, 300), (4095, 1_048_575)] {
            inode.set_device_number(major, minor);
            assert_eq!(inode.device_number(), (major, minor));
        }
    }
}
