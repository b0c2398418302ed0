//! htree (dir_index) name hashes and index-block parsing, for lookups in
//! indexed directories made by Linux or `e2fsck -D`.
//!
//! An indexed directory's block 0 holds "." and ".." records, then
//! `dx_root_info` (at byte 24: reserved u32 = 0, hash version u8, info length
//! u8 = 8, indirect levels u8, flags u8) and a table of `(hash, block)`
//! pairs at byte 32 whose first pair's hash slot holds `(limit u16, count
//! u16)`. Interior nodes are a fake empty record (8 bytes) and the same
//! table at byte 8. Leaves are ordinary directory blocks. Every number is
//! checked; any doubt makes the caller fall back to a linear scan, which is
//! always valid for ext2 directories.

use crate::bytes::{read_u16, read_u32, read_u8, write_u16, write_u32};

/// Hash versions, as stored in `dx_root_info` and `s_def_hash_version`.
pub const HASH_LEGACY: u8 = 0;
pub const HASH_HALF_MD4: u8 = 1;
pub const HASH_TEA: u8 = 2;
pub const HASH_LEGACY_UNSIGNED: u8 = 3;
pub const HASH_HALF_MD4_UNSIGNED: u8 = 4;
pub const HASH_TEA_UNSIGNED: u8 = 5;
/// `s_flags` bit: hashes treat name bytes as unsigned chars.
pub const SUPERBLOCK_FLAG_UNSIGNED_HASH: u32 = 0x2;

const HTREE_END_OF_FILE: u32 = 0x7FFF_FFFF;

/// The htree hash of `name` (the major hash, low bit clear), or `None` for
/// an unknown hash version.
pub fn name_hash(name: &[u8], version: u8, seed: [u32; 4]) -> Option<u32> {
    let mut buffer = if seed == [0; 4] { [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476] } else { seed };
    let hash = match version {
        HASH_LEGACY => legacy_hash(name, false),
        HASH_LEGACY_UNSIGNED => legacy_hash(name, true),
        HASH_HALF_MD4 | HASH_HALF_MD4_UNSIGNED => {
            let unsigned = version == HASH_HALF_MD4_UNSIGNED;
            let mut rest = name;
            loop {
                let mut input = [0u32; 8];
                string_to_hash_buffer(rest, &mut input, unsigned);
                half_md4_transform(&mut buffer, &input);
                if rest.len() <= 32 {
                    break;
                }
                rest = &rest[32..];
            }
            buffer[1]
        }
        HASH_TEA | HASH_TEA_UNSIGNED => {
            let unsigned = version == HASH_TEA_UNSIGNED;
            let mut rest = name;
            loop {
                let mut input = [0u32; 4];
                string_to_hash_buffer(rest, &mut input, unsigned);
                tea_transform(&mut buffer, &input);
                if rest.len() <= 16 {
                    break;
                }
                rest = &rest[16..];
            }
            buffer[0]
        }
        _ => return None,
    };
    let hash = hash & !1;
    Some(if hash == HTREE_END_OF_FILE << 1 { (HTREE_END_OF_FILE - 1) << 1 } else { hash })
}

fn character(byte: u8, unsigned: bool) -> u32 {
    if unsigned {
        byte as u32
    } else {
        byte as i8 as i32 as u32
    }
}

fn legacy_hash(name: &[u8], unsigned: bool) -> u32 {
    let (mut hash0, mut hash1) = (0x12A3_FE2Du32, 0x37AB_E8F9u32);
    for &byte in name {
        let mut hash = hash1.wrapping_add(hash0 ^ character(byte, unsigned).wrapping_mul(7_152_373));
        if hash & 0x8000_0000 != 0 {
            hash = hash.wrapping_sub(0x7FFF_FFFF);
        }
        hash1 = hash0;
        hash0 = hash;
    }
    hash0 << 1
}

/// Packs up to `4 * output.len()` name bytes into words, padded with the
/// length, as Linux's `str2hashbuf` does.
fn string_to_hash_buffer(name: &[u8], output: &mut [u32], unsigned: bool) {
    let mut padding = name.len() as u32 | (name.len() as u32) << 8;
    padding |= padding << 16;
    let mut value = padding;
    let used = name.len().min(output.len() * 4);
    let mut position = 0;
    for (index, &byte) in name[..used].iter().enumerate() {
        value = character(byte, unsigned).wrapping_add(value << 8);
        if index % 4 == 3 {
            output[position] = value;
            position += 1;
            value = padding;
        }
    }
    if position < output.len() {
        output[position] = value;
        position += 1;
    }
    for word in &mut output[position..] {
        *word = padding;
    }
}

fn half_md4_transform(buffer: &mut [u32; 4], input: &[u32; 8]) {
    fn f(x: u32, y: u32, z: u32) -> u32 {
        z ^ (x & (y ^ z))
    }
    fn g(x: u32, y: u32, z: u32) -> u32 {
        (x & y).wrapping_add((x ^ y) & z)
    }
    fn h(x: u32, y: u32, z: u32) -> u32 {
        x ^ y ^ z
    }
    const K2: u32 = 0o13240474631;
    const K3: u32 = 0o15666365641;
    let [mut a, mut b, mut c, mut d] = *buffer;
    let step = |function: fn(u32, u32, u32) -> u32, a: u32, b: u32, c: u32, d: u32, x: u32, shift: u32| {
        a.wrapping_add(function(b, c, d)).wrapping_add(x).rotate_left(shift)
    };
    // Round 1.
    for &(index, shift) in &[(0, 3), (1, 7), (2, 11), (3, 19), (4, 3), (5, 7), (6, 11), (7, 19)] {
        let x = input[index];
        match index % 4 {
            0 => a = step(f, a, b, c, d, x, shift),
            1 => d = step(f, d, a, b, c, x, shift),
            2 => c = step(f, c, d, a, b, x, shift),
            _ => b = step(f, b, c, d, a, x, shift),
        }
    }
    // Round 2.
    for (position, &(index, shift)) in
        [(1, 3), (3, 5), (5, 9), (7, 13), (0, 3), (2, 5), (4, 9), (6, 13)].iter().enumerate()
    {
        let x = input[index].wrapping_add(K2);
        match position % 4 {
            0 => a = step(g, a, b, c, d, x, shift),
            1 => d = step(g, d, a, b, c, x, shift),
            2 => c = step(g, c, d, a, b, x, shift),
            _ => b = step(g, b, c, d, a, x, shift),
        }
    }
    // Round 3.
    for (position, &(index, shift)) in
        [(3, 3), (7, 9), (2, 11), (6, 15), (1, 3), (5, 9), (0, 11), (4, 15)].iter().enumerate()
    {
        let x = input[index].wrapping_add(K3);
        match position % 4 {
            0 => a = step(h, a, b, c, d, x, shift),
            1 => d = step(h, d, a, b, c, x, shift),
            2 => c = step(h, c, d, a, b, x, shift),
            _ => b = step(h, b, c, d, a, x, shift),
        }
    }
    buffer[0] = buffer[0].wrapping_add(a);
    buffer[1] = buffer[1].wrapping_add(b);
    buffer[2] = buffer[2].wrapping_add(c);
    buffer[3] = buffer[3].wrapping_add(d);
}

fn tea_transform(buffer: &mut [u32; 4], input: &[u32; 4]) {
    const DELTA: u32 = 0x9E37_79B9;
    let (mut sum, mut first, mut second) = (0u32, buffer[0], buffer[1]);
    let [a, b, c, d] = *input;
    for _ in 0..16 {
        sum = sum.wrapping_add(DELTA);
        first = first
            .wrapping_add((second << 4).wrapping_add(a) ^ second.wrapping_add(sum) ^ (second >> 5).wrapping_add(b));
        second =
            second.wrapping_add((first << 4).wrapping_add(c) ^ first.wrapping_add(sum) ^ (first >> 5).wrapping_add(d));
    }
    buffer[0] = buffer[0].wrapping_add(first);
    buffer[1] = buffer[1].wrapping_add(second);
}

/// The root's header, if it looks like one this code understands.
pub struct RootInfo {
    pub hash_version: u8,
    pub levels: u8,
}

pub fn parse_root(block: &[u8]) -> Option<RootInfo> {
    if block.len() < 40 || read_u32(block, 24) != 0 || read_u8(block, 29) != 8 {
        return None;
    }
    let levels = read_u8(block, 30);
    if levels > 1 {
        return None;
    }
    Some(RootInfo { hash_version: read_u8(block, 28), levels })
}

/// In the index table at `table` of `block`, the entry to follow for `hash`
/// (its logical block), and the hashes of the entries after it (for hash
/// collisions that continue into the next leaf).
pub fn choose_entry(block: &[u8], table: usize, hash: u32) -> Option<(u32, IndexTail)> {
    if table + 8 > block.len() {
        return None;
    }
    let limit = read_u16(block, table) as usize;
    let count = read_u16(block, table + 2) as usize;
    if count == 0 || count > limit || table + limit * 8 > block.len() {
        return None;
    }
    let mut chosen = 0;
    for index in 1..count {
        if read_u32(block, table + index * 8) <= hash {
            chosen = index;
        } else {
            break;
        }
    }
    let logical = read_u32(block, table + chosen * 8 + 4) & 0x0FFF_FFFF;
    Some((logical, IndexTail { table, chosen, next: chosen + 1, count, limit }))
}

/// The index entries after the chosen one.
#[derive(Clone, Copy)]
pub struct IndexTail {
    table: usize,
    chosen: usize,
    next: usize,
    count: usize,
    limit: usize,
}

impl IndexTail {
    /// Whether a leaf split can add an entry to this table, and the split
    /// is plain: the chosen entry neither continues a hash-collision run
    /// nor is continued by the next one.
    pub fn can_add_after_chosen(&self, block: &[u8]) -> bool {
        let continues = |index: usize| index < self.count && read_u32(block, self.table + index * 8) & 1 != 0;
        self.count < self.limit && !(self.chosen > 0 && continues(self.chosen)) && !continues(self.chosen + 1)
    }

    /// Whether the table has no free entry.
    pub fn is_full(&self) -> bool {
        self.count >= self.limit
    }

    /// Inserts `(hash, logical)` right after the chosen entry.
    pub fn add_after_chosen(&self, block: &mut [u8], hash: u32, logical: u32) {
        let position = self.table + (self.chosen + 1) * 8;
        let end = self.table + self.count * 8;
        block.copy_within(position..end, position + 8);
        write_u32(block, position, hash);
        write_u32(block, position + 4, logical);
        write_u16(block, self.table + 2, (self.count + 1) as u16);
    }

    /// The next entry's leaf, if its hash (low bit masked: set, it marks a
    /// collision run spilling over) equals `hash`, so the name may be there
    /// too, as Linux's `ext4_htree_next_block` decides. `None` when the
    /// table ends first: a continuation may lie in the next interior node.
    pub fn continuation(&mut self, block: &[u8], hash: u32) -> Option<Option<u32>> {
        if self.next >= self.count {
            return None;
        }
        let entry_hash = read_u32(block, self.table + self.next * 8);
        if entry_hash & !1 != hash {
            return Some(None);
        }
        let logical = read_u32(block, self.table + self.next * 8 + 4) & 0x0FFF_FFFF;
        self.next += 1;
        Some(Some(logical))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_have_their_low_bit_clear_and_depend_on_the_name() {
        for version in 0..6 {
            let first = name_hash(b"hello", version, [0; 4]).unwrap();
            let second = name_hash(b"hellp", version, [0; 4]).unwrap();
            assert_eq!(first & 1, 0);
            assert_ne!(first, second, "version {version}");
        }
        assert_eq!(name_hash(b"x", 6, [0; 4]), None);
    }

    #[test]
    fn signedness_matters_only_for_high_bytes() {
        assert_eq!(name_hash(b"plain", HASH_TEA, [1, 2, 3, 4]), name_hash(b"plain", HASH_TEA_UNSIGNED, [1, 2, 3, 4]));
        assert_ne!(
            name_hash("caf\u{e9}".as_bytes(), HASH_HALF_MD4, [0; 4]),
            name_hash("caf\u{e9}".as_bytes(), HASH_HALF_MD4_UNSIGNED, [0; 4])
        );
    }
}
