//! virtio-blk (virtio 1.0, 5.2): the device's shape, checking a client's
//! run of blocks against it, cutting a run into requests, and the request
//! format (a 16-byte header the device reads, the data, a status byte the
//! device writes).

use crate::memory::Memory;
use crate::queue::Buffer;
use crate::transport::{Transport, TransportError};

/// virtio-blk counts in 512-byte sectors whatever its logical block size.
pub const SECTOR_SIZE: u64 = 512;
/// The most bytes one read or write moves (the `ool` bound in block.defs).
pub const MAX_TRANSFER: u32 = 1 << 20;

/// Feature bits the driver uses.
pub const FEATURE_READ_ONLY: u64 = 1 << 5;
pub const FEATURE_BLOCK_SIZE: u64 = 1 << 6;
pub const FEATURE_FLUSH: u64 = 1 << 9;
pub const WANTED_FEATURES: u64 = FEATURE_READ_ONLY | FEATURE_BLOCK_SIZE | FEATURE_FLUSH;

/// Device configuration offsets.
const CONFIGURATION_CAPACITY: usize = 0;
const CONFIGURATION_BLOCK_SIZE: usize = 20;

/// Request types.
const REQUEST_IN: u32 = 0;
const REQUEST_OUT: u32 = 1;
const REQUEST_FLUSH: u32 = 4;

/// Status byte values.
const STATUS_OK: u8 = 0;
const STATUS_UNSUPPORTED: u8 = 2;

/// Why a block request fails; each is an error of block.defs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    OutOfRange,
    DeviceError,
    ReadOnly,
    BadRequest,
    Unsupported,
}

impl From<BlockError> for personality_interfaces::block::Error {
    fn from(error: BlockError) -> Self {
        use personality_interfaces::block::Error;
        match error {
            BlockError::OutOfRange => Error::OutOfRange,
            BlockError::DeviceError => Error::DeviceError,
            BlockError::ReadOnly => Error::ReadOnly,
            BlockError::BadRequest => Error::BadRequest,
            BlockError::Unsupported => Error::Unsupported,
        }
    }
}

/// What the device looks like to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Logical block size in bytes: a power of two from 512 to 64 KiB.
    pub block_size: u32,
    pub block_count: u64,
    pub read_only: bool,
    /// The device has a write cache that `flush` empties.
    pub flush: bool,
}

impl Geometry {
    /// From the configuration and the negotiated features. A block size
    /// that is not a power of two in 512..=65536 is ignored (512 is used).
    pub fn new(capacity_sectors: u64, block_size: Option<u32>, features: u64) -> Self {
        let block_size = block_size
            .filter(|size| features & FEATURE_BLOCK_SIZE != 0 && size.is_power_of_two() && (512..=65536).contains(size))
            .unwrap_or(SECTOR_SIZE as u32);
        Self {
            block_size,
            block_count: capacity_sectors / (block_size as u64 / SECTOR_SIZE),
            read_only: features & FEATURE_READ_ONLY != 0,
            flush: features & FEATURE_FLUSH != 0,
        }
    }

    /// Reads the geometry from a device whose features were negotiated.
    pub fn read<M: Memory>(transport: &Transport<M>, features: u64) -> Result<Self, TransportError> {
        transport.read_configuration(|transport| {
            let capacity = transport.configuration_u64(CONFIGURATION_CAPACITY)?;
            let block_size = match features & FEATURE_BLOCK_SIZE {
                0 => None,
                _ => Some(transport.configuration_u32(CONFIGURATION_BLOCK_SIZE)?),
            };
            Ok(Self::new(capacity, block_size, features))
        })
    }

    /// Checks a run of `block_count` blocks from `first_block`: at least
    /// one, at most [`MAX_TRANSFER`] bytes, inside the device.
    pub fn run(&self, first_block: u64, block_count: u64) -> Result<Run, BlockError> {
        let bytes = block_count.checked_mul(self.block_size as u64).ok_or(BlockError::BadRequest)?;
        if block_count == 0 || bytes > MAX_TRANSFER as u64 {
            return Err(BlockError::BadRequest);
        }
        let end = first_block.checked_add(block_count).ok_or(BlockError::OutOfRange)?;
        if end > self.block_count {
            return Err(BlockError::OutOfRange);
        }
        Ok(Run { first_sector: first_block * (self.block_size as u64 / SECTOR_SIZE), bytes: bytes as u32 })
    }

    /// Checks a write of `length` bytes from `first_block`.
    pub fn write_run(&self, first_block: u64, length: usize) -> Result<Run, BlockError> {
        if !length.is_multiple_of(self.block_size as usize) {
            return Err(BlockError::BadRequest);
        }
        let run = self.run(first_block, (length / self.block_size as usize) as u64)?;
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        Ok(run)
    }
}

/// A checked run: where it starts on the device and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub first_sector: u64,
    pub bytes: u32,
}

/// A piece of a run moved by one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub sector: u64,
    /// Where its bytes are in the client's buffer.
    pub offset: u32,
    pub length: u32,
}

impl Run {
    /// The run in pieces of at most `limit` bytes (a multiple of the
    /// sector size), in order.
    pub fn chunks(self, limit: u32) -> impl Iterator<Item = Chunk> {
        let limit = (limit / SECTOR_SIZE as u32 * SECTOR_SIZE as u32).max(SECTOR_SIZE as u32);
        (0..self.bytes.div_ceil(limit)).map(move |index| {
            let offset = index * limit;
            Chunk {
                sector: self.first_sector + (offset as u64 / SECTOR_SIZE),
                offset,
                length: limit.min(self.bytes - offset),
            }
        })
    }
}

/// What a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    Read,
    Write,
    Flush,
}

/// The 16-byte request header (type, reserved, sector).
pub fn request_header(kind: RequestKind, sector: u64) -> [u8; 16] {
    let kind = match kind {
        RequestKind::Read => REQUEST_IN,
        RequestKind::Write => REQUEST_OUT,
        RequestKind::Flush => REQUEST_FLUSH,
    };
    let mut header = [0u8; 16];
    header[..4].copy_from_slice(&kind.to_le_bytes());
    header[8..].copy_from_slice(&sector.to_le_bytes());
    header
}

/// What the status byte the device wrote means. The driver sets it to
/// 0xff before submitting, so a device that wrote nothing is an error.
pub fn status(byte: u8) -> Result<(), BlockError> {
    match byte {
        STATUS_OK => Ok(()),
        STATUS_UNSUPPORTED => Err(BlockError::Unsupported),
        _ => Err(BlockError::DeviceError),
    }
}

/// Where one request's pieces are in DMA memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestBuffers {
    /// The 16-byte header.
    pub header: u64,
    /// The data (none for a flush).
    pub data: Option<(u64, u32)>,
    /// The status byte.
    pub status: u64,
}

/// The descriptor chain of a request: header, data (reads: written by the
/// device), status. Returns the buffers and how many of them are used.
pub fn request_chain(kind: RequestKind, buffers: RequestBuffers) -> ([Buffer; 3], usize) {
    let header = Buffer { physical: buffers.header, length: 16, device_writes: false };
    let status = Buffer { physical: buffers.status, length: 1, device_writes: true };
    match (kind, buffers.data) {
        (RequestKind::Flush, _) | (_, None) => ([header, status, status], 2),
        (kind, Some((physical, length))) => {
            ([header, Buffer { physical, length, device_writes: kind == RequestKind::Read }, status], 3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn disk(blocks: u64) -> Geometry {
        Geometry { block_size: 512, block_count: blocks, read_only: false, flush: true }
    }

    #[test]
    fn geometry_from_configuration() {
        let geometry = Geometry::new(2048, Some(4096), FEATURE_BLOCK_SIZE | FEATURE_FLUSH);
        assert_eq!(geometry, Geometry { block_size: 4096, block_count: 256, read_only: false, flush: true });
        // Block size ignored without the feature, or when nonsense.
        assert_eq!(Geometry::new(2048, Some(4096), 0).block_size, 512);
        assert_eq!(Geometry::new(2048, Some(1000), FEATURE_BLOCK_SIZE).block_size, 512);
        assert_eq!(Geometry::new(2048, Some(1 << 20), FEATURE_BLOCK_SIZE).block_size, 512);
        assert!(Geometry::new(8, None, FEATURE_READ_ONLY).read_only);
    }

    #[test]
    fn runs_are_checked() {
        let geometry = disk(100);
        assert_eq!(geometry.run(0, 1), Ok(Run { first_sector: 0, bytes: 512 }));
        assert_eq!(geometry.run(99, 1), Ok(Run { first_sector: 99, bytes: 512 }));
        assert_eq!(geometry.run(99, 2), Err(BlockError::OutOfRange));
        assert_eq!(geometry.run(100, 1), Err(BlockError::OutOfRange));
        assert_eq!(geometry.run(u64::MAX, 1), Err(BlockError::OutOfRange));
        assert_eq!(geometry.run(0, 0), Err(BlockError::BadRequest));
        assert_eq!(disk(1 << 30).run(0, 2049), Err(BlockError::BadRequest));
        assert_eq!(geometry.run(0, u64::MAX), Err(BlockError::BadRequest));
        assert_eq!(geometry.write_run(0, 513), Err(BlockError::BadRequest));
        assert_eq!(geometry.write_run(0, 0), Err(BlockError::BadRequest));
        assert_eq!(geometry.write_run(1, 1024), Ok(Run { first_sector: 1, bytes: 1024 }));
        let read_only = Geometry { read_only: true, ..geometry };
        assert_eq!(read_only.write_run(0, 512), Err(BlockError::ReadOnly));
        let big = Geometry { block_size: 4096, block_count: 10, read_only: false, flush: false };
        assert_eq!(big.run(3, 2), Ok(Run { first_sector: 24, bytes: 8192 }));
    }

    #[test]
    fn headers_and_status() {
        let header = request_header(RequestKind::Write, 0x1122_3344_5566);
        assert_eq!(header[..4], [1, 0, 0, 0]);
        assert_eq!(header[8..], 0x1122_3344_5566u64.to_le_bytes());
        assert_eq!(request_header(RequestKind::Flush, 0)[0], 4);
        assert_eq!(status(0), Ok(()));
        assert_eq!(status(1), Err(BlockError::DeviceError));
        assert_eq!(status(2), Err(BlockError::Unsupported));
        assert_eq!(status(0xff), Err(BlockError::DeviceError));
    }

    proptest! {
        /// Chunks cover the run exactly once, in order, each within the limit.
        #[test]
        fn chunks_tile_the_run(first in 0u64..1 << 40, sectors in 1u32..2049, limit in 1u32..300_000) {
            let run = Run { first_sector: first, bytes: sectors * 512 };
            let mut expected_offset = 0;
            for chunk in run.chunks(limit) {
                prop_assert_eq!(chunk.offset, expected_offset);
                prop_assert_eq!(chunk.sector, first + chunk.offset as u64 / 512);
                prop_assert!(chunk.length > 0 && chunk.length % 512 == 0);
                prop_assert!(chunk.length <= limit.max(512));
                expected_offset += chunk.length;
            }
            prop_assert_eq!(expected_offset, run.bytes);
        }
    }
}
