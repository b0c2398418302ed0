//! Block group descriptors: where each group's bitmaps and inode table are,
//! and its free counts.

use crate::bytes::{read_u16, read_u32, write_u16, write_u32};

/// Size of one descriptor on disk (no 64bit feature).
pub const DESCRIPTOR_SIZE: usize = 32;

/// One group descriptor, kept raw so unknown fields survive.
#[derive(Clone, Copy)]
pub struct GroupDescriptor {
    raw: [u8; DESCRIPTOR_SIZE],
}

impl GroupDescriptor {
    pub fn zeroed() -> Self {
        GroupDescriptor { raw: [0; DESCRIPTOR_SIZE] }
    }

    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut raw = [0; DESCRIPTOR_SIZE];
        raw.copy_from_slice(&bytes[..DESCRIPTOR_SIZE]);
        GroupDescriptor { raw }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    pub fn block_bitmap(&self) -> u32 {
        read_u32(&self.raw, 0)
    }
    pub fn set_block_bitmap(&mut self, block: u32) {
        write_u32(&mut self.raw, 0, block)
    }
    pub fn inode_bitmap(&self) -> u32 {
        read_u32(&self.raw, 4)
    }
    pub fn set_inode_bitmap(&mut self, block: u32) {
        write_u32(&mut self.raw, 4, block)
    }
    pub fn inode_table(&self) -> u32 {
        read_u32(&self.raw, 8)
    }
    pub fn set_inode_table(&mut self, block: u32) {
        write_u32(&mut self.raw, 8, block)
    }
    pub fn free_blocks(&self) -> u32 {
        read_u16(&self.raw, 12) as u32
    }
    pub fn set_free_blocks(&mut self, count: u32) {
        write_u16(&mut self.raw, 12, count as u16)
    }
    pub fn free_inodes(&self) -> u32 {
        read_u16(&self.raw, 14) as u32
    }
    pub fn set_free_inodes(&mut self, count: u32) {
        write_u16(&mut self.raw, 14, count as u16)
    }
    pub fn used_directories(&self) -> u32 {
        read_u16(&self.raw, 16) as u32
    }
    pub fn set_used_directories(&mut self, count: u32) {
        write_u16(&mut self.raw, 16, count as u16)
    }
}
