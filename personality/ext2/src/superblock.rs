//! The superblock: geometry, counts, state and feature flags.

use alloc::vec::Vec;

use crate::bytes::{read_u16, read_u32, read_u8, write_u16, write_u32};
use crate::error::Error;

/// Byte offset of the primary superblock on the device.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Size of the superblock structure on disk.
pub const SUPERBLOCK_SIZE: usize = 1024;
/// The ext2 magic number.
pub const MAGIC: u16 = 0xEF53;
/// The root directory's inode number.
pub const ROOT_INODE: u32 = 2;
/// First non-reserved inode of a revision 0 file system.
pub const REVISION_0_FIRST_INODE: u32 = 11;
/// `s_state` bit: cleanly unmounted.
pub const STATE_CLEAN: u16 = 1;
/// `s_state` bit: errors were detected.
pub const STATE_ERRORS: u16 = 2;

/// Compatible features (safe to ignore for reading and writing).
pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub const COMPAT_RESIZE_INODE: u32 = 0x10;
pub const COMPAT_DIR_INDEX: u32 = 0x20;
pub const COMPAT_SPARSE_SUPER2: u32 = 0x200;

/// Incompatible features.
pub const INCOMPAT_FILETYPE: u32 = 0x2;
pub const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_NAMES: [(u32, &str); 15] = [
    (0x1, "compression"),
    (0x4, "needs_recovery"),
    (0x8, "journal_dev"),
    (0x10, "meta_bg"),
    (0x40, "extent"),
    (0x80, "64bit"),
    (0x100, "mmp"),
    (0x400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
    (0x800, "unknown incompatible feature 0x800"),
];
/// Incompatible features this library implements.
pub const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG;

/// Read-only-compatible features.
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const RO_COMPAT_LARGE_FILE: u32 = 0x2;
/// Read-only-compatible features this library maintains when writing.
pub const RO_COMPAT_SUPPORTED: u32 = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE;

/// The three feature words of a revision 1 superblock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    pub compatible: u32,
    pub incompatible: u32,
    pub read_only_compatible: u32,
}

impl Features {
    /// The first incompatible feature this library cannot handle, by name.
    pub fn first_unsupported_incompatible(&self) -> Option<&'static str> {
        let unsupported = self.incompatible & !INCOMPAT_SUPPORTED;
        if unsupported == 0 {
            return None;
        }
        for (bit, name) in INCOMPAT_NAMES {
            if unsupported & bit != 0 {
                return Some(name);
            }
        }
        Some("unknown incompatible feature")
    }

    /// A compatible feature that changes the layout this library assumes:
    /// sparse_super2 keeps superblock copies only in the groups
    /// `s_backup_bgs` names, which the metadata checks do not model.
    pub fn unsupported_compatible(&self) -> Option<&'static str> {
        if self.compatible & COMPAT_SPARSE_SUPER2 != 0 {
            Some("sparse_super2")
        } else {
            None
        }
    }

    /// Whether a feature forces a read-only mount: an unknown
    /// read-only-compatible feature, or a journal (see docs/ext2.md).
    pub fn forces_read_only(&self) -> bool {
        self.read_only_compatible & !RO_COMPAT_SUPPORTED != 0 || self.compatible & COMPAT_HAS_JOURNAL != 0
    }
}

macro_rules! field_u32 {
    ($get:ident, $set:ident, $offset:expr) => {
        #[allow(dead_code)]
        pub fn $get(&self) -> u32 {
            read_u32(&self.raw, $offset)
        }
        #[allow(dead_code)]
        pub fn $set(&mut self, value: u32) {
            write_u32(&mut self.raw, $offset, value)
        }
    };
}

macro_rules! field_u16 {
    ($get:ident, $set:ident, $offset:expr) => {
        #[allow(dead_code)]
        pub fn $get(&self) -> u16 {
            read_u16(&self.raw, $offset)
        }
        #[allow(dead_code)]
        pub fn $set(&mut self, value: u16) {
            write_u16(&mut self.raw, $offset, value)
        }
    };
}

/// The superblock, kept as its raw bytes so unknown fields survive writes.
#[derive(Clone)]
pub struct Superblock {
    raw: Vec<u8>,
}

impl Superblock {
    /// A zeroed superblock (for `format`).
    pub fn zeroed() -> Self {
        Superblock { raw: alloc::vec![0; SUPERBLOCK_SIZE] }
    }

    /// Wraps raw bytes read from the device.
    pub fn from_bytes(raw: &[u8]) -> Self {
        Superblock { raw: raw[..SUPERBLOCK_SIZE].to_vec() }
    }

    /// The raw bytes to write.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    field_u32!(inodes_count, set_inodes_count, 0);
    field_u32!(blocks_count, set_blocks_count, 4);
    field_u32!(reserved_blocks_count, set_reserved_blocks_count, 8);
    field_u32!(free_blocks_count, set_free_blocks_count, 12);
    field_u32!(free_inodes_count, set_free_inodes_count, 16);
    field_u32!(first_data_block, set_first_data_block, 20);
    field_u32!(log_block_size, set_log_block_size, 24);
    field_u32!(log_fragment_size, set_log_fragment_size, 28);
    field_u32!(blocks_per_group, set_blocks_per_group, 32);
    field_u32!(fragments_per_group, set_fragments_per_group, 36);
    field_u32!(inodes_per_group, set_inodes_per_group, 40);
    field_u32!(mount_time, set_mount_time, 44);
    field_u32!(write_time, set_write_time, 48);
    field_u16!(mount_count, set_mount_count, 52);
    field_u16!(max_mount_count, set_max_mount_count, 54);
    field_u16!(magic, set_magic, 56);
    field_u16!(state, set_state, 58);
    field_u16!(errors_behaviour, set_errors_behaviour, 60);
    field_u32!(last_check, set_last_check, 64);
    field_u32!(check_interval, set_check_interval, 68);
    field_u32!(creator_os, set_creator_os, 72);
    field_u32!(revision, set_revision, 76);
    field_u32!(first_inode_raw, set_first_inode, 84);
    field_u16!(inode_size_raw, set_inode_size, 88);
    field_u16!(block_group_number, set_block_group_number, 90);
    field_u32!(feature_compatible, set_feature_compatible, 92);
    field_u32!(feature_incompatible, set_feature_incompatible, 96);
    field_u32!(feature_read_only_compatible, set_feature_read_only_compatible, 100);
    field_u16!(reserved_gdt_blocks_raw, set_reserved_gdt_blocks, 206);
    field_u32!(mkfs_time, set_mkfs_time, 264);
    field_u16!(min_extra_inode_size, set_min_extra_inode_size, 348);
    field_u32!(flags, set_flags, 352);

    /// The htree hash seed (`s_hash_seed`).
    pub fn hash_seed(&self) -> [u32; 4] {
        [read_u32(&self.raw, 236), read_u32(&self.raw, 240), read_u32(&self.raw, 244), read_u32(&self.raw, 248)]
    }
    field_u16!(want_extra_inode_size, set_want_extra_inode_size, 350);

    /// Sets the 16-byte UUID.
    pub fn set_uuid(&mut self, uuid: [u8; 16]) {
        self.raw[104..120].copy_from_slice(&uuid);
    }

    /// Sets the volume label (truncated to 16 bytes).
    pub fn set_volume_name(&mut self, name: &[u8]) {
        let length = name.len().min(16);
        self.raw[120..136].fill(0);
        self.raw[120..120 + length].copy_from_slice(&name[..length]);
    }

    /// The feature words (all zero for revision 0).
    pub fn features(&self) -> Features {
        if self.revision() == 0 {
            return Features::default();
        }
        Features {
            compatible: self.feature_compatible(),
            incompatible: self.feature_incompatible(),
            read_only_compatible: self.feature_read_only_compatible(),
        }
    }

    /// Block size in bytes, if `log_block_size` is sane.
    pub fn block_size(&self) -> Result<u64, Error> {
        let log = self.log_block_size();
        if log > 2 {
            return Err(Error::UnsupportedBlockSize(1024u64.checked_shl(log.min(40)).unwrap_or(u64::MAX)));
        }
        Ok(1024 << log)
    }

    /// Inode size in bytes (128 for revision 0).
    pub fn inode_size(&self) -> u32 {
        if self.revision() == 0 {
            128
        } else {
            self.inode_size_raw() as u32
        }
    }

    /// First inode number available to files.
    pub fn first_inode(&self) -> u32 {
        if self.revision() == 0 {
            REVISION_0_FIRST_INODE
        } else {
            self.first_inode_raw()
        }
    }

    /// Reserved GDT blocks after each group descriptor table copy.
    pub fn reserved_gdt_blocks(&self) -> u32 {
        if self.features().compatible & COMPAT_RESIZE_INODE != 0 {
            self.reserved_gdt_blocks_raw() as u32
        } else {
            0
        }
    }

    /// The `s_prealloc_dir_blocks` byte (kept for completeness of the layout).
    #[allow(dead_code)]
    pub fn prealloc_directory_blocks(&self) -> u8 {
        read_u8(&self.raw, 205)
    }

    /// Number of block groups.
    pub fn group_count(&self) -> u32 {
        let data_blocks = self.blocks_count().saturating_sub(self.first_data_block());
        let per_group = self.blocks_per_group().max(1);
        data_blocks.div_ceil(per_group)
    }

    /// Whether group `group` holds a superblock and descriptor table copy.
    pub fn group_has_superblock(&self, group: u32) -> bool {
        if self.features().read_only_compatible & RO_COMPAT_SPARSE_SUPER == 0 {
            return true;
        }
        group <= 1 || is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7)
    }
}

fn is_power_of(mut number: u32, base: u32) -> bool {
    while number > 1 && number.is_multiple_of(base) {
        number /= base;
    }
    number == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_superblock_groups_are_zero_one_and_powers_of_three_five_seven() {
        let mut superblock = Superblock::zeroed();
        superblock.set_revision(1);
        superblock.set_feature_read_only_compatible(RO_COMPAT_SPARSE_SUPER);
        let groups: Vec<u32> = (0..60).filter(|&group| superblock.group_has_superblock(group)).collect();
        assert_eq!(groups, [0, 1, 3, 5, 7, 9, 25, 27, 49]);
    }

    #[test]
    fn unsupported_incompatible_features_are_named() {
        let features = Features { incompatible: 0x40 | INCOMPAT_FILETYPE, ..Features::default() };
        assert_eq!(features.first_unsupported_incompatible(), Some("extent"));
        let features = Features { incompatible: 0x4, ..Features::default() };
        assert_eq!(features.first_unsupported_incompatible(), Some("needs_recovery"));
    }
}
