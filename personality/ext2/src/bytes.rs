//! Little-endian field access into on-disk structures kept as raw bytes.
//!
//! The on-disk structures (superblock, group descriptor, inode) are kept as
//! their raw bytes so that fields this crate does not interpret survive a
//! read-modify-write unchanged. Callers only pass constant offsets that lie
//! inside the structure's fixed size.

pub fn read_u8(buffer: &[u8], offset: usize) -> u8 {
    buffer[offset]
}

pub fn read_u16(buffer: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([buffer[offset], buffer[offset + 1]])
}

pub fn read_u32(buffer: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes([buffer[offset], buffer[offset + 1], buffer[offset + 2], buffer[offset + 3]])
}

pub fn write_u16(buffer: &mut [u8], offset: usize, value: u16) {
    buffer[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}

pub fn write_u32(buffer: &mut [u8], offset: usize, value: u32) {
    buffer[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}
