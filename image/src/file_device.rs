//! A host file as an ext2 block device.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use ext2::{BlockDevice, DeviceError};

/// The image file being built; its length is the device size.
pub struct FileDevice {
    file: File,
    size: u64,
}

impl FileDevice {
    /// Creates (or truncates) `path` as a sparse file of `size` bytes.
    pub fn create(path: &Path, size: u64) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
        file.set_len(size)?;
        Ok(FileDevice { file, size })
    }

    /// Opens an existing image file to change it in place; its length is
    /// the device size.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(FileDevice { file, size })
    }
}

impl BlockDevice for FileDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        if offset.checked_add(buffer.len() as u64).is_none_or(|end| end > self.size) {
            return Err(DeviceError::OutOfRange);
        }
        self.file.read_exact_at(buffer, offset).map_err(|_| DeviceError::Io("read of the image file failed"))
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        if offset.checked_add(data.len() as u64).is_none_or(|end| end > self.size) {
            return Err(DeviceError::OutOfRange);
        }
        self.file.write_all_at(data, offset).map_err(|_| DeviceError::Io("write of the image file failed"))
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.file.sync_data().map_err(|_| DeviceError::Io("sync of the image file failed"))
    }
}
