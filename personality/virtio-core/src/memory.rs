//! Memory shared with a device: registers and DMA buffers, read and written
//! at byte offsets with bounds checked.
//!
//! The driver's code is written against [`Memory`], so it runs on the real
//! mapped memory (`libmach::device::DeviceMemory`, volatile accesses) and,
//! in the host tests, on plain vectors behind a simulated device.

/// An offset outside the region, or misaligned for the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError;

/// A region of device registers or DMA memory.
pub trait Memory {
    /// Its length in bytes.
    fn size(&self) -> usize;
    fn read_u8(&self, offset: usize) -> Result<u8, AccessError>;
    fn read_u16(&self, offset: usize) -> Result<u16, AccessError>;
    fn read_u32(&self, offset: usize) -> Result<u32, AccessError>;
    fn write_u8(&self, offset: usize, value: u8) -> Result<(), AccessError>;
    fn write_u16(&self, offset: usize, value: u16) -> Result<(), AccessError>;
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), AccessError>;
    fn read_bytes(&self, offset: usize, bytes: &mut [u8]) -> Result<(), AccessError>;
    fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<(), AccessError>;

    /// Two 32-bit accesses, low half first (virtio allows 64-bit fields to
    /// be written that way, and not every bus takes 64-bit accesses).
    fn read_u64(&self, offset: usize) -> Result<u64, AccessError> {
        let low = self.read_u32(offset)? as u64;
        let high = self.read_u32(offset + 4)? as u64;
        Ok(low | high << 32)
    }

    fn write_u64(&self, offset: usize, value: u64) -> Result<(), AccessError> {
        self.write_u32(offset, value as u32)?;
        self.write_u32(offset + 4, (value >> 32) as u32)
    }

    /// Zeroes `length` bytes from `offset`.
    fn zero(&self, offset: usize, length: usize) -> Result<(), AccessError> {
        let zeros = [0u8; 256];
        let mut done = 0;
        while done < length {
            let piece = (length - done).min(zeros.len());
            self.write_bytes(offset + done, &zeros[..piece])?;
            done += piece;
        }
        Ok(())
    }
}

/// Part of a region shared with others: `size` bytes from `start` of
/// `memory` (virtio-mmio's transports sit 0x200 apart, several to a page,
/// and device memory is mapped by pages).
pub struct Part<M: Memory> {
    memory: alloc::rc::Rc<M>,
    start: usize,
    size: usize,
}

impl<M: Memory> Part<M> {
    /// `None` if the part does not lie inside `memory`.
    pub fn new(memory: alloc::rc::Rc<M>, start: usize, size: usize) -> Option<Self> {
        let end = start.checked_add(size)?;
        (end <= memory.size()).then_some(Self { memory, start, size })
    }

    /// `offset` in the whole region, if `length` bytes from it lie inside
    /// the part.
    fn at(&self, offset: usize, length: usize) -> Result<usize, AccessError> {
        match offset.checked_add(length) {
            Some(end) if end <= self.size => Ok(self.start + offset),
            _ => Err(AccessError),
        }
    }
}

impl<M: Memory> Memory for Part<M> {
    fn size(&self) -> usize {
        self.size
    }
    fn read_u8(&self, offset: usize) -> Result<u8, AccessError> {
        self.memory.read_u8(self.at(offset, 1)?)
    }
    fn read_u16(&self, offset: usize) -> Result<u16, AccessError> {
        self.memory.read_u16(self.at(offset, 2)?)
    }
    fn read_u32(&self, offset: usize) -> Result<u32, AccessError> {
        self.memory.read_u32(self.at(offset, 4)?)
    }
    fn write_u8(&self, offset: usize, value: u8) -> Result<(), AccessError> {
        self.memory.write_u8(self.at(offset, 1)?, value)
    }
    fn write_u16(&self, offset: usize, value: u16) -> Result<(), AccessError> {
        self.memory.write_u16(self.at(offset, 2)?, value)
    }
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), AccessError> {
        self.memory.write_u32(self.at(offset, 4)?, value)
    }
    fn read_bytes(&self, offset: usize, bytes: &mut [u8]) -> Result<(), AccessError> {
        self.memory.read_bytes(self.at(offset, bytes.len())?, bytes)
    }
    fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<(), AccessError> {
        self.memory.write_bytes(self.at(offset, bytes.len())?, bytes)
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod device_memory {
    use super::{AccessError, Memory};
    use libmach::device::DeviceMemory;

    impl Memory for DeviceMemory {
        fn size(&self) -> usize {
            DeviceMemory::size(self)
        }
        fn read_u8(&self, offset: usize) -> Result<u8, AccessError> {
            DeviceMemory::read_u8(self, offset).map_err(|_| AccessError)
        }
        fn read_u16(&self, offset: usize) -> Result<u16, AccessError> {
            DeviceMemory::read_u16(self, offset).map_err(|_| AccessError)
        }
        fn read_u32(&self, offset: usize) -> Result<u32, AccessError> {
            DeviceMemory::read_u32(self, offset).map_err(|_| AccessError)
        }
        fn write_u8(&self, offset: usize, value: u8) -> Result<(), AccessError> {
            DeviceMemory::write_u8(self, offset, value).map_err(|_| AccessError)
        }
        fn write_u16(&self, offset: usize, value: u16) -> Result<(), AccessError> {
            DeviceMemory::write_u16(self, offset, value).map_err(|_| AccessError)
        }
        fn write_u32(&self, offset: usize, value: u32) -> Result<(), AccessError> {
            DeviceMemory::write_u32(self, offset, value).map_err(|_| AccessError)
        }
        fn read_bytes(&self, offset: usize, bytes: &mut [u8]) -> Result<(), AccessError> {
            DeviceMemory::read_bytes(self, offset, bytes).map_err(|_| AccessError)
        }
        fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<(), AccessError> {
            DeviceMemory::write_bytes(self, offset, bytes).map_err(|_| AccessError)
        }
    }
}

/// Host memory standing in for device or DMA memory in tests.
#[cfg(test)]
pub mod fake {
    use super::{AccessError, Memory};
    use core::cell::RefCell;
    use std::vec::Vec;

    #[derive(Debug)]
    pub struct FakeMemory {
        pub bytes: RefCell<Vec<u8>>,
    }

    impl FakeMemory {
        pub fn new(size: usize) -> Self {
            Self { bytes: RefCell::new(std::vec![0; size]) }
        }

        fn range(&self, offset: usize, length: usize) -> Result<core::ops::Range<usize>, AccessError> {
            let end = offset.checked_add(length).ok_or(AccessError)?;
            if end > self.bytes.borrow().len() || !offset.is_multiple_of(length.clamp(1, 8)) {
                return Err(AccessError);
            }
            Ok(offset..end)
        }

        fn read<const N: usize>(&self, offset: usize) -> Result<[u8; N], AccessError> {
            let range = self.range(offset, N)?;
            Ok(self.bytes.borrow()[range].try_into().expect("N bytes"))
        }

        fn write(&self, offset: usize, value: &[u8]) -> Result<(), AccessError> {
            let range = self.range(offset, value.len())?;
            self.bytes.borrow_mut()[range].copy_from_slice(value);
            Ok(())
        }
    }

    impl Memory for FakeMemory {
        fn size(&self) -> usize {
            self.bytes.borrow().len()
        }
        fn read_u8(&self, offset: usize) -> Result<u8, AccessError> {
            Ok(self.read::<1>(offset)?[0])
        }
        fn read_u16(&self, offset: usize) -> Result<u16, AccessError> {
            Ok(u16::from_le_bytes(self.read(offset)?))
        }
        fn read_u32(&self, offset: usize) -> Result<u32, AccessError> {
            Ok(u32::from_le_bytes(self.read(offset)?))
        }
        fn write_u8(&self, offset: usize, value: u8) -> Result<(), AccessError> {
            self.write(offset, &[value])
        }
        fn write_u16(&self, offset: usize, value: u16) -> Result<(), AccessError> {
            self.write(offset, &value.to_le_bytes())
        }
        fn write_u32(&self, offset: usize, value: u32) -> Result<(), AccessError> {
            self.write(offset, &value.to_le_bytes())
        }
        fn read_bytes(&self, offset: usize, bytes: &mut [u8]) -> Result<(), AccessError> {
            let end = offset.checked_add(bytes.len()).ok_or(AccessError)?;
            let source = self.bytes.borrow();
            bytes.copy_from_slice(source.get(offset..end).ok_or(AccessError)?);
            Ok(())
        }
        fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<(), AccessError> {
            let end = offset.checked_add(bytes.len()).ok_or(AccessError)?;
            let mut target = self.bytes.borrow_mut();
            target.get_mut(offset..end).ok_or(AccessError)?.copy_from_slice(bytes);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeMemory;
    use super::{AccessError, Memory, Part};
    use alloc::rc::Rc;

    #[test]
    fn a_part_reaches_only_its_own_bytes() {
        let whole = Rc::new(FakeMemory::new(0x1000));
        assert!(Part::new(whole.clone(), 0xf00, 0x200).is_none());
        assert!(Part::new(whole.clone(), usize::MAX, 2).is_none());
        let part = Part::new(whole.clone(), 0x200, 0x200).unwrap();
        assert_eq!(part.size(), 0x200);
        part.write_u32(0x1fc, 0xdead_beef).unwrap();
        assert_eq!(whole.read_u32(0x3fc), Ok(0xdead_beef));
        assert_eq!(part.read_u16(0x1fe), Ok(0xdead));
        assert_eq!(part.read_u32(0x1fd), Err(AccessError));
        assert_eq!(part.write_bytes(0x1ff, &[1, 2]), Err(AccessError));
        assert_eq!(part.read_u8(usize::MAX), Err(AccessError));
        let mut bytes = [0u8; 4];
        part.read_bytes(0x1fc, &mut bytes).unwrap();
        assert_eq!(bytes, 0xdead_beefu32.to_le_bytes());
    }
}
