//! The block-device trait the library runs on, and an in-memory device.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// A failure reported by a [`BlockDevice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// The transfer would pass the end of the device.
    OutOfRange,
    /// The device reported an I/O error; the text says what it was.
    Io(&'static str),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::OutOfRange => write!(formatter, "transfer past the end of the device"),
            DeviceError::Io(what) => write!(formatter, "I/O error: {what}"),
        }
    }
}

/// Storage addressed by byte offset. The library only transfers whole
/// file-system blocks (1, 2 or 4 KiB, aligned to their size), so a driver
/// over 512-byte sectors never sees a partial sector. The file server
/// implements this over virtio-blk messages; `mkimage` over a host file.
pub trait BlockDevice {
    /// The device's size in bytes.
    fn size(&self) -> u64;
    /// Fills `buffer` from the bytes starting at `offset`.
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError>;
    /// Stores `data` at `offset`.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError>;
    /// Makes every completed write durable.
    fn flush(&mut self) -> Result<(), DeviceError>;
}

/// A device held in memory: tests, benchmarks, and building an image before
/// writing it out.
#[derive(Debug, Clone)]
pub struct MemoryDevice {
    bytes: Vec<u8>,
}

impl MemoryDevice {
    /// A zero-filled device of `size` bytes.
    pub fn new(size: usize) -> Self {
        MemoryDevice { bytes: vec![0; size] }
    }

    /// A device holding these bytes (an image read from a file).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        MemoryDevice { bytes }
    }

    /// The device's contents.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The device's contents, mutable (tests corrupt images through this).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Gives the contents back.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn range(&self, offset: u64, length: usize) -> Result<core::ops::Range<usize>, DeviceError> {
        let start = usize::try_from(offset).map_err(|_| DeviceError::OutOfRange)?;
        let end = start.checked_add(length).ok_or(DeviceError::OutOfRange)?;
        if end > self.bytes.len() {
            return Err(DeviceError::OutOfRange);
        }
        Ok(start..end)
    }
}

impl BlockDevice for MemoryDevice {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        let range = self.range(offset, buffer.len())?;
        buffer.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        let range = self.range(offset, data.len())?;
        self.bytes[range].copy_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

/// A borrowed device is a device, so `format` and tests can mount a device
/// they keep owning.
impl<T: BlockDevice + ?Sized> BlockDevice for &mut T {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        (**self).read_at(offset, buffer)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        (**self).write_at(offset, data)
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        (**self).flush()
    }
}
