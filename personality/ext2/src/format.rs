//! `format`: make an empty ext2 file system (what `mke2fs -t ext2` does),
//! with a root directory and a preallocated lost+found.
//!
//! Layout of each group `g` (starting at block `first_data_block + g *
//! blocks_per_group`): a superblock copy and the descriptor table when the
//! group carries one (groups 0, 1 and powers of 3, 5, 7: sparse_super), the
//! block bitmap, the inode bitmap, the inode table, then data. No blocks are
//! reserved for online resizing (no resize_inode).

use alloc::vec;

use crate::device::BlockDevice;
use crate::error::Error;
use crate::filesystem::{check_geometry, Filesystem, MountOptions};
use crate::group::{GroupDescriptor, DESCRIPTOR_SIZE};
use crate::superblock::{
    Superblock, INCOMPAT_FILETYPE, MAGIC, ROOT_INODE, RO_COMPAT_LARGE_FILE, RO_COMPAT_SPARSE_SUPER, STATE_CLEAN,
    SUPERBLOCK_OFFSET,
};
use crate::Result;

/// Size e2fsck expects of lost+found, so it never has to grow it.
const LOST_AND_FOUND_SIZE: u64 = 16 * 1024;
/// Smallest last group worth keeping beyond its own metadata (mke2fs's rule).
const MINIMUM_LAST_GROUP_DATA_BLOCKS: u64 = 50;
const FIRST_INODE: u32 = 11;

/// How to format.
#[derive(Debug, Clone, Copy)]
pub struct FormatOptions {
    /// 1024, 2048 or 4096.
    pub block_size: u32,
    /// 128 or 256.
    pub inode_size: u32,
    /// One inode per this many bytes of device (mke2fs's inode ratio);
    /// `inode_count`, when larger, wins.
    pub bytes_per_inode: u64,
    /// At least this many inodes in total.
    pub inode_count: u32,
    /// Percentage of blocks reserved for the superuser.
    pub reserved_percent: u32,
    /// Blocks per group (a multiple of 8, at most 8 × block size); 0 means
    /// the largest, as mke2fs chooses. Small groups make small test images
    /// with many groups (`mke2fs -g`).
    pub blocks_per_group: u32,
    pub volume_name: [u8; 16],
    pub uuid: [u8; 16],
    /// Creation time, seconds since the epoch.
    pub time: u32,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            block_size: 1024,
            inode_size: 256,
            bytes_per_inode: 4096,
            inode_count: 0,
            reserved_percent: 5,
            blocks_per_group: 0,
            volume_name: [0; 16],
            uuid: [0; 16],
            time: 0,
        }
    }
}

/// Formats the whole device as an empty ext2 file system: root directory
/// (mode 0755, owner 0) and lost+found (0700) preallocated to 16 KiB.
pub fn format<D: BlockDevice>(device: &mut D, options: &FormatOptions) -> Result<()> {
    let block_size = options.block_size as u64;
    if !matches!(block_size, 1024 | 2048 | 4096) {
        return Err(Error::UnsupportedBlockSize(block_size));
    }
    if !matches!(options.inode_size, 128 | 256) || options.inode_size as u64 > block_size {
        return Err(Error::InvalidArgument("inode size must be 128 or 256"));
    }
    if options.reserved_percent > 50 {
        return Err(Error::InvalidArgument("reserved percentage above 50"));
    }
    let first_data_block: u64 = if block_size == 1024 { 1 } else { 0 };
    let blocks_per_group = match options.blocks_per_group as u64 {
        0 => 8 * block_size,
        chosen if chosen % 8 == 0 && chosen >= 256 && chosen <= 8 * block_size => chosen,
        _ => return Err(Error::InvalidArgument("blocks per group must be a multiple of 8 from 256 to 8 x block size")),
    };
    let mut blocks = (device.size() / block_size).min(u32::MAX as u64);
    let inodes_per_block = block_size / options.inode_size as u64;

    // Settle the group count: drop a last group too small for its metadata.
    let (group_count, inodes_per_group) = loop {
        if blocks <= first_data_block + 1 {
            return Err(Error::InvalidArgument("device too small for an ext2 file system"));
        }
        let group_count = (blocks - first_data_block).div_ceil(blocks_per_group);
        let wanted_inodes = (blocks * block_size / options.bytes_per_inode.max(1024)).max(options.inode_count as u64);
        let mut inodes_per_group = wanted_inodes.div_ceil(group_count).max(16);
        let rounding = inodes_per_block.max(8);
        inodes_per_group = inodes_per_group.div_ceil(rounding) * rounding;
        inodes_per_group = inodes_per_group.min(8 * block_size).min(65528 / rounding * rounding);
        let descriptor_blocks = (group_count * DESCRIPTOR_SIZE as u64).div_ceil(block_size);
        let first_overhead =
            group_overhead(0, descriptor_blocks, inodes_per_group, options.inode_size as u64, block_size);
        if first_overhead + MINIMUM_LAST_GROUP_DATA_BLOCKS > blocks_per_group {
            return Err(Error::InvalidArgument(
                "groups too small for their inode tables: fewer inodes or larger groups",
            ));
        }
        let last = group_count - 1;
        let last_size = blocks - first_data_block - last * blocks_per_group;
        let overhead = group_overhead(last, descriptor_blocks, inodes_per_group, options.inode_size as u64, block_size);
        if last_size < overhead + MINIMUM_LAST_GROUP_DATA_BLOCKS {
            if group_count == 1 {
                return Err(Error::InvalidArgument("device too small for an ext2 file system"));
            }
            blocks -= last_size;
            continue;
        }
        break (group_count, inodes_per_group);
    };
    let inodes_count = group_count * inodes_per_group;
    if inodes_count > u32::MAX as u64 {
        return Err(Error::InvalidArgument("too many inodes"));
    }
    if (options.inode_count as u64) > inodes_count {
        return Err(Error::InvalidArgument("inode count does not fit the device"));
    }

    let mut superblock = Superblock::zeroed();
    superblock.set_inodes_count(inodes_count as u32);
    superblock.set_blocks_count(blocks as u32);
    superblock.set_reserved_blocks_count((blocks * options.reserved_percent as u64 / 100) as u32);
    superblock.set_first_data_block(first_data_block as u32);
    let log = block_size.trailing_zeros() - 10;
    superblock.set_log_block_size(log);
    superblock.set_log_fragment_size(log);
    superblock.set_blocks_per_group(blocks_per_group as u32);
    superblock.set_fragments_per_group(blocks_per_group as u32);
    superblock.set_inodes_per_group(inodes_per_group as u32);
    superblock.set_write_time(options.time);
    superblock.set_max_mount_count(0xFFFF);
    superblock.set_magic(MAGIC);
    superblock.set_state(STATE_CLEAN);
    superblock.set_errors_behaviour(1);
    superblock.set_last_check(options.time);
    superblock.set_revision(1);
    superblock.set_first_inode(FIRST_INODE);
    superblock.set_inode_size(options.inode_size as u16);
    superblock.set_feature_incompatible(INCOMPAT_FILETYPE);
    superblock.set_feature_read_only_compatible(RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE);
    superblock.set_uuid(options.uuid);
    superblock.set_volume_name(&options.volume_name);
    superblock.set_mkfs_time(options.time);
    if options.inode_size > 128 {
        superblock.set_min_extra_inode_size(32);
        superblock.set_want_extra_inode_size(32);
    }
    let geometry = check_geometry(&superblock, block_size, device.size())?;
    let descriptor_blocks = geometry.descriptor_blocks as u64;
    let inode_table_blocks = geometry.inode_table_blocks as u64;

    let mut groups = vec![GroupDescriptor::zeroed(); group_count as usize];
    let mut free_blocks_total = 0u64;
    let mut bitmap = vec![0u8; block_size as usize];
    for group in 0..group_count {
        let base = first_data_block + group * blocks_per_group;
        let group_blocks = (blocks - base).min(blocks_per_group);
        let mut position = base;
        if superblock.group_has_superblock(group as u32) {
            position += 1 + descriptor_blocks;
        }
        let descriptor = &mut groups[group as usize];
        descriptor.set_block_bitmap(position as u32);
        descriptor.set_inode_bitmap(position as u32 + 1);
        descriptor.set_inode_table(position as u32 + 2);
        let used = position + 2 + inode_table_blocks - base;
        descriptor.set_free_blocks((group_blocks - used) as u32);
        free_blocks_total += group_blocks - used;
        let reserved_inodes = if group == 0 { FIRST_INODE as u64 - 1 } else { 0 };
        descriptor.set_free_inodes((inodes_per_group - reserved_inodes) as u32);

        // Block bitmap: metadata in use, and the bits past a short last
        // group set, as e2fsck expects.
        bitmap.fill(0);
        set_bits(&mut bitmap, 0, used);
        set_bits(&mut bitmap, group_blocks, 8 * block_size);
        device.write_at(position * block_size, &bitmap)?;
        bitmap.fill(0);
        set_bits(&mut bitmap, 0, reserved_inodes);
        set_bits(&mut bitmap, inodes_per_group, 8 * block_size);
        device.write_at((position + 1) * block_size, &bitmap)?;
        zero_blocks(device, position + 2, inode_table_blocks, block_size)?;
    }
    superblock.set_free_blocks_count(free_blocks_total as u32);
    superblock.set_free_inodes_count((inodes_count - (FIRST_INODE as u64 - 1)) as u32);

    let mut table = vec![0u8; (descriptor_blocks * block_size) as usize];
    for (group, descriptor) in groups.iter().enumerate() {
        table[group * DESCRIPTOR_SIZE..(group + 1) * DESCRIPTOR_SIZE].copy_from_slice(descriptor.as_bytes());
    }
    for group in 0..group_count {
        if !superblock.group_has_superblock(group as u32) {
            continue;
        }
        let base = first_data_block + group * blocks_per_group;
        superblock.set_block_group_number(group as u16);
        let offset = if group == 0 { SUPERBLOCK_OFFSET } else { base * block_size };
        device.write_at(offset, superblock.as_bytes())?;
        device.write_at((base + 1) * block_size, &table)?;
    }
    device.flush()?;

    let mount = MountOptions { read_only: false, cache_blocks: 256, write_through: false, time: options.time };
    let mut filesystem = Filesystem::mount(&mut *device, mount)?;
    filesystem.create_root_directory(0o755, options.time)?;
    filesystem.set_directory_spreading(false);
    let lost_and_found = filesystem.make_directory(ROOT_INODE, b"lost+found", 0o700, 0, 0, options.time)?;
    filesystem.set_directory_spreading(true);
    filesystem.preallocate_directory(lost_and_found, LOST_AND_FOUND_SIZE.max(2 * block_size))?;
    filesystem.unmount()?;
    Ok(())
}

fn group_overhead(group: u64, descriptor_blocks: u64, inodes_per_group: u64, inode_size: u64, block_size: u64) -> u64 {
    let mut probe = Superblock::zeroed();
    probe.set_revision(1);
    probe.set_feature_read_only_compatible(RO_COMPAT_SPARSE_SUPER);
    let copy = if probe.group_has_superblock(group as u32) { 1 + descriptor_blocks } else { 0 };
    copy + 2 + (inodes_per_group * inode_size).div_ceil(block_size)
}

fn set_bits(bitmap: &mut [u8], from: u64, to: u64) {
    for bit in from..to.min(bitmap.len() as u64 * 8) {
        bitmap[(bit / 8) as usize] |= 1 << (bit % 8);
    }
}

fn zero_blocks<D: BlockDevice>(device: &mut D, first: u64, count: u64, block_size: u64) -> Result<()> {
    let chunk_blocks = (65536 / block_size).max(1);
    let zeros = vec![0u8; (chunk_blocks * block_size) as usize];
    let mut done = 0;
    while done < count {
        let blocks = chunk_blocks.min(count - done);
        device.write_at((first + done) * block_size, &zeros[..(blocks * block_size) as usize])?;
        done += blocks;
    }
    Ok(())
}
