//! A write-back block cache, sized in blocks, with clock (second-chance)
//! replacement and ordered write-back.
//!
//! Ordering rule: every dirty block remembers when it was first dirtied since
//! it was last written. Write-back (on [`BlockCache::sync`] or when a dirty
//! block is evicted) writes dirty blocks in that order, and evicting a dirty
//! block first writes every block dirtied before it. Since the file system
//! dirties data and bitmaps before the inode, and the inode before the
//! directory entry, the device sees them in that order. In write-through mode
//! each change goes to the device at once, in exactly the order made.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::error::Error;

struct Slot {
    block: u64,
    data: Vec<u8>,
    referenced: bool,
    dirty: bool,
    dirty_sequence: u64,
}

/// Counters for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStatistics {
    pub hits: u64,
    pub misses: u64,
    pub blocks_written: u64,
}

/// The cache. Holds at most `capacity` blocks of `block_size` bytes.
pub struct BlockCache {
    block_size: usize,
    capacity: usize,
    write_through: bool,
    slots: Vec<Slot>,
    index: BTreeMap<u64, usize>,
    hand: usize,
    sequence: u64,
    statistics: CacheStatistics,
    /// The last block read from the device (sequential readers read ahead).
    last_miss: u64,
    /// Dirty slots by the sequence number of their first change: write-back
    /// takes them in order without scanning the whole cache.
    dirty_order: BTreeMap<u64, usize>,
}

/// Most blocks one device write carries when write-back finds a run.
const WRITE_RUN_MAX: usize = 256;
/// Most blocks a sequential reader's miss loads at once.
const READ_AHEAD_MAX: usize = 64;

impl BlockCache {
    /// A cache of `capacity` blocks (at least 16 are kept, so an operation's
    /// working set of indirect blocks always fits).
    pub fn new(block_size: usize, capacity: usize, write_through: bool) -> Self {
        BlockCache {
            block_size,
            capacity: capacity.max(16),
            write_through,
            slots: Vec::new(),
            index: BTreeMap::new(),
            hand: 0,
            sequence: 0,
            statistics: CacheStatistics::default(),
            last_miss: u64::MAX,
            dirty_order: BTreeMap::new(),
        }
    }

    /// The block size in bytes.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Hit, miss and write counters.
    pub fn statistics(&self) -> CacheStatistics {
        self.statistics
    }

    /// The block's contents.
    pub fn read<D: BlockDevice>(&mut self, device: &mut D, block: u64) -> Result<&[u8], Error> {
        let slot = self.slot_for(device, block, true)?;
        Ok(&self.slots[slot].data)
    }

    /// Changes the block's contents through `change` and marks it dirty.
    pub fn update<D: BlockDevice, R>(
        &mut self,
        device: &mut D,
        block: u64,
        change: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, Error> {
        let slot = self.slot_for(device, block, true)?;
        let result = change(&mut self.slots[slot].data);
        self.mark_dirty(device, slot)?;
        Ok(result)
    }

    /// Replaces the whole block without reading it first: `fill` receives a
    /// zeroed buffer.
    pub fn overwrite<D: BlockDevice>(
        &mut self,
        device: &mut D,
        block: u64,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), Error> {
        let slot = self.slot_for(device, block, false)?;
        self.slots[slot].data.fill(0);
        fill(&mut self.slots[slot].data);
        self.mark_dirty(device, slot)
    }

    /// Writes every dirty block, oldest change first, then flushes the device.
    pub fn sync<D: BlockDevice>(&mut self, device: &mut D) -> Result<(), Error> {
        self.write_dirty_up_to(device, u64::MAX)?;
        device.flush()?;
        Ok(())
    }

    /// Bytes of block data the cache holds now.
    pub fn cached_bytes(&self) -> usize {
        self.slots.len() * self.block_size
    }

    /// Gives memory back: writes every dirty block (oldest change first),
    /// then keeps at most `keep` blocks (at least 16, as at creation),
    /// preferring the recently used ones. Returns the bytes freed. The
    /// capacity is unchanged: the cache grows again as blocks are used.
    pub fn shrink<D: BlockDevice>(&mut self, device: &mut D, keep: usize) -> Result<usize, Error> {
        let keep = keep.max(16);
        if self.slots.len() <= keep {
            return Ok(0);
        }
        self.write_dirty_up_to(device, u64::MAX)?;
        // Recently referenced slots first, so the ones kept are the warm ones.
        let mut slots = core::mem::take(&mut self.slots);
        slots.sort_by_key(|slot| !slot.referenced);
        let freed = (slots.len() - keep) * self.block_size;
        slots.truncate(keep);
        self.index = slots.iter().enumerate().map(|(position, slot)| (slot.block, position)).collect();
        // A slot parked after a failed read is not a block: do not index it.
        self.index.remove(&u64::MAX);
        // Everything was written above: no slot is dirty.
        self.dirty_order.clear();
        self.slots = slots;
        self.hand = 0;
        Ok(freed)
    }

    /// Forgets every cached block without writing (after the device was
    /// changed behind the cache's back).
    pub fn discard(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.dirty_order.clear();
        self.hand = 0;
    }

    fn mark_dirty<D: BlockDevice>(&mut self, device: &mut D, slot: usize) -> Result<(), Error> {
        if self.write_through {
            let offset = self.slots[slot].block * self.block_size as u64;
            device.write_at(offset, &self.slots[slot].data)?;
            self.statistics.blocks_written += 1;
            return Ok(());
        }
        if !self.slots[slot].dirty {
            self.sequence += 1;
            self.slots[slot].dirty = true;
            self.slots[slot].dirty_sequence = self.sequence;
            self.dirty_order.insert(self.sequence, slot);
        }
        Ok(())
    }

    fn write_dirty_up_to<D: BlockDevice>(&mut self, device: &mut D, limit: u64) -> Result<(), Error> {
        let order: Vec<(u64, usize)> =
            self.dirty_order.range(..=limit).map(|(sequence, position)| (*sequence, *position)).collect();

        // Blocks next to each other both in change order and on the device
        // (a file written sequentially: its data blocks were allocated in a
        // row) go in one device write: the order of changes is kept, and a
        // driver behind messages gets one request per run, not per block.
        let mut first = 0;
        let mut run = Vec::new();
        while first < order.len() {
            let start_block = self.slots[order[first].1].block;
            let mut end = first + 1;
            while end < order.len()
                && end - first < WRITE_RUN_MAX
                && self.slots[order[end].1].block == start_block + (end - first) as u64
            {
                end += 1;
            }
            let offset = start_block * self.block_size as u64;
            if end - first == 1 {
                device.write_at(offset, &self.slots[order[first].1].data)?;
            } else {
                run.clear();
                for (_, position) in &order[first..end] {
                    run.extend_from_slice(&self.slots[*position].data);
                }
                device.write_at(offset, &run)?;
            }
            for (sequence, position) in &order[first..end] {
                self.slots[*position].dirty = false;
                self.dirty_order.remove(sequence);
            }
            self.statistics.blocks_written += (end - first) as u64;
            first = end;
        }
        Ok(())
    }

    /// How many blocks from `block` (which is not cached) to read at once:
    /// more than one only when the previous miss was the block before (a
    /// sequential reader), then the run of uncached blocks that follows,
    /// bounded by [`READ_AHEAD_MAX`], the cache's capacity and the device.
    fn read_ahead_count<D: BlockDevice>(&self, device: &D, block: u64) -> usize {
        if self.last_miss.checked_add(1) != Some(block) {
            return 1;
        }
        let device_blocks = device.size() / self.block_size as u64;
        let limit = READ_AHEAD_MAX.min(self.capacity / 4).max(1) as u64;
        let mut count = 1u64;
        while count < limit && block + count < device_blocks && !self.index.contains_key(&(block + count)) {
            count += 1;
        }
        count as usize
    }

    /// Loads `count` blocks from `block` with one device read: every block
    /// after the first goes in the cache (marked used: the reader is about
    /// to need it, and the blocks loaded with it must not push each other
    /// out), then the first is loaded and its slot returned.
    fn read_ahead<D: BlockDevice>(&mut self, device: &mut D, block: u64, count: usize) -> Result<usize, Error> {
        let size = self.block_size;
        let mut buffer = vec![0u8; count * size];
        device.read_at(block * size as u64, &mut buffer)?;
        for index in 1..count {
            let slot = self.slot_for(device, block + index as u64, false)?;
            self.slots[slot].data.copy_from_slice(&buffer[index * size..(index + 1) * size]);
        }
        self.last_miss = block + count as u64 - 1;
        let slot = self.slot_for(device, block, false)?;
        self.slots[slot].data.copy_from_slice(&buffer[..size]);
        Ok(slot)
    }

    fn slot_for<D: BlockDevice>(&mut self, device: &mut D, block: u64, load: bool) -> Result<usize, Error> {
        if let Some(&slot) = self.index.get(&block) {
            self.statistics.hits += 1;
            self.slots[slot].referenced = true;
            return Ok(slot);
        }
        if load {
            let count = self.read_ahead_count(device, block);
            if count > 1 {
                if let Ok(slot) = self.read_ahead(device, block, count) {
                    return Ok(slot);
                }
                // A failed run (past a bad sector?) falls back to this block alone.
            }
            self.last_miss = block;
        }
        self.statistics.misses += 1;
        let offset =
            block.checked_mul(self.block_size as u64).ok_or(Error::Corrupt("block number overflows the device"))?;
        let slot = if self.slots.len() < self.capacity {
            self.slots.push(Slot {
                block,
                data: vec![0; self.block_size],
                referenced: true,
                dirty: false,
                dirty_sequence: 0,
            });
            self.slots.len() - 1
        } else {
            let victim = self.choose_victim();
            if self.slots[victim].dirty {
                let limit = self.slots[victim].dirty_sequence;
                self.write_dirty_up_to(device, limit)?;
            }
            self.index.remove(&self.slots[victim].block);
            self.slots[victim].block = block;
            self.slots[victim].referenced = true;
            victim
        };
        if load {
            if let Err(error) = device.read_at(offset, &mut self.slots[slot].data) {
                // The slot holds no valid block now: park it on an impossible
                // block number so it is reused first and never found.
                self.slots[slot].block = u64::MAX;
                self.slots[slot].referenced = false;
                return Err(error.into());
            }
        }
        self.index.insert(block, slot);
        Ok(slot)
    }

    /// Clock: skip (and clear) referenced slots; at most two sweeps.
    fn choose_victim(&mut self) -> usize {
        for _ in 0..2 * self.slots.len() {
            let position = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            if self.slots[position].referenced {
                self.slots[position].referenced = false;
            } else {
                return position;
            }
        }
        self.hand
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::MemoryDevice;

    #[test]
    fn evicting_a_dirty_block_writes_older_dirty_blocks_first() {
        let mut device = MemoryDevice::new(64 * 1024);
        let mut cache = BlockCache::new(1024, 16, false);
        // Backwards, so that no read-ahead loads a 17th block meanwhile.
        for block in (0..16u64).rev() {
            cache.update(&mut device, block, |data| data[0] = block as u8 + 1).unwrap();
        }
        assert_eq!(device.bytes()[0], 0, "write-back must not write before eviction");
        // Touch 16 more blocks: evictions must write blocks 0..16 in order.
        for block in 16..32u64 {
            cache.read(&mut device, block).unwrap();
        }
        for block in 0..16usize {
            assert_eq!(device.bytes()[block * 1024], block as u8 + 1);
        }
    }

    #[test]
    fn sync_writes_everything_and_reads_see_updates() {
        let mut device = MemoryDevice::new(64 * 1024);
        let mut cache = BlockCache::new(1024, 16, false);
        cache.overwrite(&mut device, 3, |data| data[5] = 9).unwrap();
        assert_eq!(cache.read(&mut device, 3).unwrap()[5], 9);
        cache.sync(&mut device).unwrap();
        assert_eq!(device.bytes()[3 * 1024 + 5], 9);
    }

    #[test]
    fn shrinking_writes_back_and_keeps_the_warm_blocks() {
        let mut device = MemoryDevice::new(128 * 1024);
        let mut cache = BlockCache::new(1024, 64, false);
        for block in 0..64u64 {
            cache.update(&mut device, block, |data| data[0] = block as u8 + 1).unwrap();
        }
        assert_eq!(cache.cached_bytes(), 64 * 1024);
        // Reading one more block sweeps the clock (it clears every
        // referenced bit): then only it and the 15 blocks read next are warm.
        cache.read(&mut device, 64).unwrap();
        for block in 41..56u64 {
            cache.read(&mut device, block).unwrap();
        }
        let before = cache.statistics();
        assert_eq!(cache.shrink(&mut device, 16).unwrap(), 48 * 1024);
        assert_eq!(cache.cached_bytes(), 16 * 1024);
        for block in 0..64usize {
            assert_eq!(device.bytes()[block * 1024], block as u8 + 1, "every dirty block was written");
        }
        for block in 41..56u64 {
            assert_eq!(cache.read(&mut device, block).unwrap()[0], block as u8 + 1);
        }
        assert_eq!(cache.statistics().misses, before.misses, "the warm blocks stayed");
        assert_eq!(cache.shrink(&mut device, 16).unwrap(), 0);
    }

    /// A memory device that counts the transfers it is asked for.
    struct CountingDevice {
        inner: MemoryDevice,
        reads: Vec<(u64, usize)>,
        writes: Vec<(u64, usize)>,
    }

    impl BlockDevice for CountingDevice {
        fn size(&self) -> u64 {
            self.inner.size()
        }
        fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), crate::device::DeviceError> {
            self.reads.push((offset, buffer.len()));
            self.inner.read_at(offset, buffer)
        }
        fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), crate::device::DeviceError> {
            self.writes.push((offset, data.len()));
            self.inner.write_at(offset, data)
        }
        fn flush(&mut self) -> Result<(), crate::device::DeviceError> {
            Ok(())
        }
    }

    #[test]
    fn write_back_joins_runs_in_change_order() {
        let mut device = CountingDevice { inner: MemoryDevice::new(256 * 1024), reads: Vec::new(), writes: Vec::new() };
        let mut cache = BlockCache::new(1024, 64, false);
        // Changed in this order: 10, 11, 12, then 3 (a bitmap), then 13, 14.
        for block in [10u64, 11, 12, 3, 13, 14] {
            cache.overwrite(&mut device, block, |data| data[0] = block as u8).unwrap();
        }
        cache.sync(&mut device).unwrap();
        assert_eq!(device.writes, [(10 * 1024, 3 * 1024), (3 * 1024, 1024), (13 * 1024, 2 * 1024)]);
        for block in [3usize, 10, 11, 12, 13, 14] {
            assert_eq!(device.inner.bytes()[block * 1024], block as u8);
        }
        assert_eq!(cache.statistics().blocks_written, 6);
    }

    #[test]
    fn sequential_readers_read_ahead_in_one_transfer() {
        let mut memory = MemoryDevice::new(256 * 1024);
        for block in 0..256usize {
            memory.bytes_mut()[block * 1024] = block as u8;
        }
        let mut device = CountingDevice { inner: memory, reads: Vec::new(), writes: Vec::new() };
        let mut cache = BlockCache::new(1024, 128, false);
        for block in 0..100u64 {
            assert_eq!(cache.read(&mut device, block).unwrap()[0], block as u8);
        }
        // The first miss finds no pattern; from then on runs of 32 (a
        // quarter of the cache) come in one read each.
        assert_eq!(device.reads.len(), 1 + 99usize.div_ceil(32), "{:?}", device.reads);
        // A random reader reads one block at a time.
        let before = device.reads.len();
        for block in [200u64, 150, 230] {
            assert_eq!(cache.read(&mut device, block).unwrap()[0], block as u8);
        }
        assert_eq!(device.reads.len(), before + 3);
    }

    #[test]
    fn read_past_the_device_is_an_error_and_leaves_no_stale_entry() {
        let mut device = MemoryDevice::new(4 * 1024);
        let mut cache = BlockCache::new(1024, 16, false);
        assert!(cache.read(&mut device, 10).is_err());
        assert!(cache.read(&mut device, 10).is_err());
    }
}
