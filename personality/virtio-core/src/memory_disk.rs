//! A block device in memory, served through block.defs exactly as the
//! virtio driver serves a disk: the same geometry checks (`block::Geometry`),
//! the same errors, data out of line both ways (answered at once, where
//! the driver answers when the device is done). For host tests of block
//! clients (the file server on the fake kernel), and the protocol's own
//! tests (`tests/block_interface.rs`).

use crate::block::{Geometry, MAX_TRANSFER};
use alloc::vec::Vec;
use libmach::message::OutOfLineData;
use libmach::request::Answer;
use libmach::{Context, PortKernel};
use personality_interfaces::block::{Error, InfoReply, Server};

/// A disk of `geometry.block_count` blocks held in a vector.
pub struct MemoryDisk<K: PortKernel> {
    kernel: K,
    pub geometry: Geometry,
    pub bytes: Vec<u8>,
    /// Blocks whose reads and writes fail with `device_error`.
    pub failing_blocks: Vec<u64>,
    /// Flushes answered.
    pub flushes: u32,
}

impl<K: PortKernel> MemoryDisk<K> {
    /// A zeroed disk of `block_count` blocks of `block_size` bytes.
    pub fn new(kernel: &K, block_size: u32, block_count: u64) -> Self {
        let geometry = Geometry { block_size, block_count, read_only: false, flush: true };
        Self {
            kernel: kernel.clone(),
            geometry,
            bytes: alloc::vec![0; block_size as usize * block_count as usize],
            failing_blocks: Vec::new(),
            flushes: 0,
        }
    }

    fn range(&self, first_block: u64, bytes: u32) -> Result<core::ops::Range<usize>, Error> {
        let start = first_block as usize * self.geometry.block_size as usize;
        let blocks = first_block..first_block + (bytes / self.geometry.block_size) as u64;
        if self.failing_blocks.iter().any(|block| blocks.contains(block)) {
            return Err(Error::DeviceError);
        }
        Ok(start..start + bytes as usize)
    }
}

impl<K: PortKernel> Server<K> for MemoryDisk<K> {
    fn info(&mut self, _context: &Context<'_, K>) -> Result<InfoReply, Error> {
        Ok(InfoReply {
            block_size: self.geometry.block_size,
            block_count: self.geometry.block_count,
            read_only: self.geometry.read_only,
            max_transfer: MAX_TRANSFER,
        })
    }

    fn read(
        &mut self,
        _context: &Context<'_, K>,
        first_block: u64,
        block_count: u32,
    ) -> Result<Answer<OutOfLineData<K>>, Error> {
        let run = self.geometry.run(first_block, block_count as u64)?;
        let range = self.range(first_block, run.bytes)?;
        let mut data = OutOfLineData::allocate(&self.kernel, run.bytes).map_err(|_| Error::NoMemory)?;
        data.bytes_mut().copy_from_slice(&self.bytes[range]);
        Ok(Answer::Now(data))
    }

    fn write(
        &mut self,
        _context: &Context<'_, K>,
        first_block: u64,
        data: OutOfLineData<K>,
    ) -> Result<Answer<()>, Error> {
        let run = self.geometry.write_run(first_block, data.len())?;
        let range = self.range(first_block, run.bytes)?;
        self.bytes[range].copy_from_slice(data.bytes());
        Ok(Answer::Now(()))
    }

    fn flush(&mut self, _context: &Context<'_, K>) -> Result<Answer<()>, Error> {
        if !self.geometry.flush {
            return Err(Error::Unsupported);
        }
        self.flushes += 1;
        Ok(Answer::Now(()))
    }
}
