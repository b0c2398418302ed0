//! Directory blocks: linear lists of variable-length entries.
//!
//! Each entry is `inode u32, record_length u16, name_length u8, file_type u8,
//! name` (without the filetype feature `name_length` is a u16 and there is no
//! type). Record lengths chain the entries and always reach the block's end;
//! an entry with inode 0 is unused space. htree index blocks look like one
//! unused entry spanning the block, so a linear reader reads them correctly.

use alloc::vec::Vec;

use crate::bytes::{read_u16, read_u32, read_u8, write_u16, write_u32};
use crate::error::Error;

/// Smallest record: the 8-byte header.
pub const HEADER_SIZE: usize = 8;
/// Longest name.
pub const NAME_MAX: usize = 255;

/// An entry as a directory listing returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// Byte position of the entry's record in the directory: listing from
    /// it (`read_directory_from`) starts with this entry.
    pub position: u64,
    pub inode: u32,
    pub name: Vec<u8>,
    /// The entry's file type byte (0 when the filetype feature is off).
    pub file_type: u8,
}

/// The header of one entry inside a block, at `offset`.
#[derive(Debug, Clone, Copy)]
pub struct EntryHeader {
    pub offset: usize,
    pub inode: u32,
    pub record_length: usize,
    pub name_length: usize,
    pub file_type: u8,
}

impl EntryHeader {
    /// The bytes this entry needs; the rest of its record is slack.
    pub fn used_length(&self) -> usize {
        if self.inode == 0 {
            0
        } else {
            record_length_for(self.name_length)
        }
    }

    pub fn name<'a>(&self, block: &'a [u8]) -> &'a [u8] {
        &block[self.offset + HEADER_SIZE..self.offset + HEADER_SIZE + self.name_length]
    }
}

/// Record length needed for a name of `name_length` bytes.
pub fn record_length_for(name_length: usize) -> usize {
    (HEADER_SIZE + name_length + 3) & !3
}

/// Parses every entry of a directory block, checking each record against the
/// block bounds (so a hostile record length cannot loop or overrun).
pub fn parse_block(block: &[u8], has_file_type: bool) -> Result<Vec<EntryHeader>, Error> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < block.len() {
        if offset + HEADER_SIZE > block.len() {
            return Err(Error::Corrupt("directory entry header crosses the block end"));
        }
        let inode = read_u32(block, offset);
        let record_length = read_u16(block, offset + 4) as usize;
        let (name_length, file_type) = if has_file_type {
            (read_u8(block, offset + 6) as usize, read_u8(block, offset + 7))
        } else {
            (read_u16(block, offset + 6) as usize, 0)
        };
        if record_length < HEADER_SIZE || !record_length.is_multiple_of(4) {
            return Err(Error::Corrupt("directory entry record length is not a multiple of 4 of at least 8"));
        }
        if offset + record_length > block.len() {
            return Err(Error::Corrupt("directory entry record length crosses the block end"));
        }
        if inode != 0 && (name_length == 0 || name_length > NAME_MAX || HEADER_SIZE + name_length > record_length) {
            return Err(Error::Corrupt("directory entry name length does not fit its record"));
        }
        // An unused record's name is never read, but its length must not
        // point past the record either: a hostile one reads as no name.
        let name_length = if HEADER_SIZE + name_length > record_length { 0 } else { name_length };
        entries.push(EntryHeader { offset, inode, record_length, name_length, file_type });
        offset += record_length;
    }
    Ok(entries)
}

/// Writes an entry header and name at `offset`.
pub fn write_entry(
    block: &mut [u8],
    offset: usize,
    inode: u32,
    record_length: usize,
    name: &[u8],
    file_type: u8,
    has_file_type: bool,
) {
    write_u32(block, offset, inode);
    write_u16(block, offset + 4, record_length as u16);
    if has_file_type {
        block[offset + 6] = name.len() as u8;
        block[offset + 7] = file_type;
    } else {
        write_u16(block, offset + 6, name.len() as u16);
    }
    block[offset + HEADER_SIZE..offset + HEADER_SIZE + name.len()].copy_from_slice(name);
}

/// Sets an entry's record length.
pub fn set_record_length(block: &mut [u8], offset: usize, record_length: usize) {
    write_u16(block, offset + 4, record_length as u16);
}

/// Points an existing entry at another inode (and type).
pub fn set_entry_inode(block: &mut [u8], offset: usize, inode: u32, file_type: u8, has_file_type: bool) {
    write_u32(block, offset, inode);
    if has_file_type {
        block[offset + 7] = file_type;
    }
}

/// Validates a name for a new entry.
pub fn check_new_name(name: &[u8]) -> Result<(), Error> {
    if name.len() > NAME_MAX {
        return Err(Error::NameTooLong);
    }
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&byte| byte == b'/' || byte == 0) {
        return Err(Error::InvalidName);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_record_lengths_are_errors() {
        let mut block = alloc::vec![0u8; 1024];
        write_entry(&mut block, 0, 2, 0, b".", 2, true);
        assert!(parse_block(&block, true).is_err(), "zero record length would loop");
        write_entry(&mut block, 0, 2, 2048, b".", 2, true);
        assert!(parse_block(&block, true).is_err());
        write_entry(&mut block, 0, 2, 10, b".", 2, true);
        assert!(parse_block(&block, true).is_err());
        write_entry(&mut block, 0, 2, 1024, b".", 2, true);
        block[6] = 200;
        assert!(parse_block(&block, true).is_ok());
        set_record_length(&mut block, 0, 12);
        assert!(parse_block(&block, true).is_err(), "name longer than its record");
    }

    #[test]
    fn an_unused_record_with_a_hostile_name_length_has_no_name() {
        // Regression: rmdir's emptiness check sliced such a name out of the
        // block (found by the long fuzz run).
        let mut block = alloc::vec![0u8; 1024];
        write_entry(&mut block, 0, 0, 1024, b"", 0, false);
        crate::bytes::write_u16(&mut block, 6, 0xFFFF);
        let entries = parse_block(&block, false).unwrap();
        assert_eq!(entries[0].name_length, 0);
        assert_eq!(entries[0].name(&block), b"");
    }

    #[test]
    fn a_block_of_entries_parses() {
        let mut block = alloc::vec![0u8; 1024];
        write_entry(&mut block, 0, 2, 12, b".", 2, true);
        write_entry(&mut block, 12, 2, 1012, b"..", 2, true);
        let entries = parse_block(&block, true).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name(&block), b"..");
        assert_eq!(entries[1].used_length(), 12);
    }
}
