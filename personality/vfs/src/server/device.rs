//! Device nodes: what opening a character or block device node reaches.
//!
//! A device node is an inode like any other (on ext2 or the `/dev` tmpfs);
//! its device number picks the device in the [`DeviceTable`]:
//!
//! | number | device | served by |
//! |---|---|---|
//! | 1:3 | `null` | here: reads end of file, writes vanish |
//! | 1:5 | `zero` | here: reads zeros, writes vanish |
//! | 1:7 | `full` | here: reads zeros, writes `ENOSPC` |
//! | 1:8, 1:9 | `random`, `urandom` | here: [`RandomGenerator`] |
//! | 254:16·n | `vda`, `vdb`... | here: disk `n` as bytes (pread/pwrite) |
//! | 4:*, 5:* | `ttyS*`, `tty`, `console` | the console server (`device.defs`) |
//!
//! A number the table does not know opens with `ENXIO`.

use alloc::collections::BTreeMap;

use crate::node::DeviceNumber;

/// A device the file server serves itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalDevice {
    Null,
    Zero,
    Full,
    Random,
    /// Disk `n` of the block driver, as raw bytes.
    Disk(u32),
}

/// What a device number stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Local(LocalDevice),
    /// Another server's: opened through `device.defs` on the service
    /// registered under this name.
    Remote {
        service: &'static str,
    },
}

/// Major number of the virtio disks (Linux gives virtio-blk a dynamic
/// major; 254 is what it usually gets); minor = 16 × disk index.
pub const DISK_MAJOR: u32 = 254;
/// Minors per disk (Linux's virtio-blk: 16, for partitions we do not serve).
pub const DISK_MINORS: u32 = 16;

/// The device number of disk `index` (`vda` is 0).
pub const fn disk_number(index: u32) -> DeviceNumber {
    DeviceNumber::new(DISK_MAJOR, index * DISK_MINORS)
}

/// Device numbers and what they reach.
#[derive(Clone, Debug)]
pub struct DeviceTable {
    exact: BTreeMap<DeviceNumber, DeviceKind>,
    /// Every minor of a major (ttys).
    by_major: BTreeMap<u32, DeviceKind>,
}

impl Default for DeviceTable {
    /// The standard table: memory devices, disks, the console server's ttys.
    fn default() -> Self {
        let mut exact = BTreeMap::new();
        exact.insert(DeviceNumber::new(1, 3), DeviceKind::Local(LocalDevice::Null));
        exact.insert(DeviceNumber::new(1, 5), DeviceKind::Local(LocalDevice::Zero));
        exact.insert(DeviceNumber::new(1, 7), DeviceKind::Local(LocalDevice::Full));
        exact.insert(DeviceNumber::new(1, 8), DeviceKind::Local(LocalDevice::Random));
        exact.insert(DeviceNumber::new(1, 9), DeviceKind::Local(LocalDevice::Random));
        let mut by_major = BTreeMap::new();
        by_major.insert(4, DeviceKind::Remote { service: "console" });
        by_major.insert(5, DeviceKind::Remote { service: "console" });
        DeviceTable { exact, by_major }
    }
}

impl DeviceTable {
    /// What `number` reaches, if anything.
    pub fn lookup(&self, number: DeviceNumber) -> Option<DeviceKind> {
        if let Some(kind) = self.exact.get(&number) {
            return Some(*kind);
        }
        if number.major == DISK_MAJOR && number.minor.is_multiple_of(DISK_MINORS) {
            return Some(DeviceKind::Local(LocalDevice::Disk(number.minor / DISK_MINORS)));
        }
        self.by_major.get(&number.major).copied()
    }

    /// Routes every minor of `major` to the service registered as `service`.
    pub fn route_major(&mut self, major: u32, service: &'static str) {
        self.by_major.insert(major, DeviceKind::Remote { service });
    }
}

/// `/dev/urandom`: ChaCha20 as a keystream generator (D. J. Bernstein's
/// cipher; RFC 8439's block function), keyed from the `random` server's
/// bytes. Every 64-byte block advances the counter; after each read the key
/// is replaced by fresh output (fast key erasure), so a later compromise of
/// the server's memory does not reveal earlier output. Writes to the device
/// are mixed into the key.
#[derive(Clone)]
pub struct RandomGenerator {
    key: [u32; 8],
    counter: u64,
}

impl core::fmt::Debug for RandomGenerator {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str("RandomGenerator")
    }
}

fn quarter_round(state: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    state[a] = state[a].wrapping_add(state[b]);
    state[d] = (state[d] ^ state[a]).rotate_left(16);
    state[c] = state[c].wrapping_add(state[d]);
    state[b] = (state[b] ^ state[c]).rotate_left(12);
    state[a] = state[a].wrapping_add(state[b]);
    state[d] = (state[d] ^ state[a]).rotate_left(8);
    state[c] = state[c].wrapping_add(state[d]);
    state[b] = (state[b] ^ state[c]).rotate_left(7);
}

/// The ChaCha20 block function: 64 bytes of keystream.
pub fn chacha20_block(key: &[u32; 8], counter: u32, nonce: &[u32; 3]) -> [u8; 64] {
    let mut initial = [0u32; 16];
    initial[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    initial[4..12].copy_from_slice(key);
    initial[12] = counter;
    initial[13..16].copy_from_slice(nonce);
    let mut state = initial;
    for _ in 0..10 {
        quarter_round(&mut state, 0, 4, 8, 12);
        quarter_round(&mut state, 1, 5, 9, 13);
        quarter_round(&mut state, 2, 6, 10, 14);
        quarter_round(&mut state, 3, 7, 11, 15);
        quarter_round(&mut state, 0, 5, 10, 15);
        quarter_round(&mut state, 1, 6, 11, 12);
        quarter_round(&mut state, 2, 7, 8, 13);
        quarter_round(&mut state, 3, 4, 9, 14);
    }
    let mut output = [0u8; 64];
    for (index, word) in state.iter().enumerate() {
        let value = word.wrapping_add(initial[index]);
        output[index * 4..index * 4 + 4].copy_from_slice(&value.to_le_bytes());
    }
    output
}

impl RandomGenerator {
    /// A generator keyed from `seed` (any length; 32 bytes of real
    /// randomness are what it needs).
    pub fn new(seed: &[u8]) -> Self {
        let mut generator = RandomGenerator { key: [0; 8], counter: 0 };
        generator.mix(seed);
        generator
    }

    fn next_block(&mut self) -> [u8; 64] {
        let nonce = [(self.counter >> 32) as u32, 0x6d61_6368, 0x2d72_6e67];
        let block = chacha20_block(&self.key, self.counter as u32, &nonce);
        self.counter = self.counter.wrapping_add(1);
        block
    }

    /// Fills `buffer` with random bytes.
    pub fn fill(&mut self, buffer: &mut [u8]) {
        for chunk in buffer.chunks_mut(64) {
            let block = self.next_block();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        self.rekey();
    }

    fn rekey(&mut self) {
        let block = self.next_block();
        for (index, word) in self.key.iter_mut().enumerate() {
            *word = u32::from_le_bytes([
                block[index * 4],
                block[index * 4 + 1],
                block[index * 4 + 2],
                block[index * 4 + 3],
            ]);
        }
    }

    /// Mixes `input` into the key (seeding, writes to `/dev/urandom`).
    pub fn mix(&mut self, input: &[u8]) {
        for chunk in input.chunks(32) {
            let mut words = [0u32; 8];
            for (index, byte) in chunk.iter().enumerate() {
                words[index / 4] |= (*byte as u32) << (8 * (index % 4));
            }
            for (key, word) in self.key.iter_mut().zip(words) {
                *key ^= word;
            }
            self.rekey();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chacha20_matches_rfc_8439() {
        // RFC 8439, 2.3.2: key 00..1f, counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00.
        let mut key = [0u32; 8];
        for (index, word) in key.iter_mut().enumerate() {
            let base = (index * 4) as u8;
            *word = u32::from_le_bytes([base, base + 1, base + 2, base + 3]);
        }
        let nonce = [0x0900_0000, 0x4a00_0000, 0];
        let block = chacha20_block(&key, 1, &nonce);
        assert_eq!(
            &block[..16],
            &[0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4]
        );
        assert_eq!(
            &block[48..],
            &[0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e]
        );
    }

    #[test]
    fn the_generator_never_repeats_and_depends_on_its_seed() {
        let mut one = RandomGenerator::new(b"seed one");
        let mut two = RandomGenerator::new(b"seed two");
        let (mut a, mut b, mut c) = ([0u8; 100], [0u8; 100], [0u8; 100]);
        one.fill(&mut a);
        one.fill(&mut b);
        two.fill(&mut c);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().any(|byte| *byte != 0));
    }

    #[test]
    fn the_table_knows_the_standard_devices() {
        let table = DeviceTable::default();
        assert_eq!(table.lookup(DeviceNumber::new(1, 3)), Some(DeviceKind::Local(LocalDevice::Null)));
        assert_eq!(table.lookup(disk_number(1)), Some(DeviceKind::Local(LocalDevice::Disk(1))));
        assert_eq!(table.lookup(DeviceNumber::new(DISK_MAJOR, 1)), None, "partitions are not served");
        assert_eq!(table.lookup(DeviceNumber::new(5, 1)), Some(DeviceKind::Remote { service: "console" }));
        assert_eq!(table.lookup(DeviceNumber::new(99, 0)), None);
    }
}
