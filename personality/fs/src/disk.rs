//! The block driver's disks as ext2 sees them: byte offsets turned into
//! runs of the device's blocks, carried out of line (`block.defs`).
//!
//! A driver that dies (and is restarted by the bootstrap task) fails the
//! requests it had: the send fails, or the reply right comes back as a
//! send-once notification. Each such request is tried again on the new
//! driver, looked up again by name, until [`RETRIES`] attempts have failed
//! (reads and writes of whole blocks can be repeated safely). Errors the
//! driver answers (out of range, a device error) are not retried.

use alloc::boxed::Box;
use alloc::string::String;

use ext2::{BlockDevice, DeviceError};
use libmach::{CallError, PortKernel, RpcError, SendRight};
use mach_vfs::Errno;
use personality_interfaces::{block, random};

/// How many times a request goes to a driver that keeps failing it.
pub const RETRIES: u32 = 8;

/// Finds a server by name (the bootstrap task's name service), waiting a
/// while for it to be registered again.
pub trait ServiceLookup<K: PortKernel> {
    fn lookup(&mut self, name: &str) -> Result<SendRight<K>, Errno>;
}

/// One disk of the block driver.
pub struct DriverDisk<K: PortKernel> {
    kernel: K,
    service: String,
    names: Box<dyn ServiceLookup<K>>,
    client: Option<block::Client<K>>,
    block_size: u64,
    block_count: u64,
    max_transfer: u64,
    read_only: bool,
    /// Requests that had to be sent again (a restarted driver).
    pub retried: u64,
}

/// Whether a failed call is worth sending again to a new driver.
fn driver_gone<E>(error: &CallError<E>) -> bool {
    matches!(error, CallError::Rpc(RpcError::Send(_) | RpcError::Receive(_) | RpcError::ServerDied))
}

impl<K: PortKernel> DriverDisk<K> {
    /// The disk served under `service` (`block`, `block1`...).
    pub fn open(kernel: &K, service: &str, names: Box<dyn ServiceLookup<K>>) -> Result<Self, Errno> {
        let mut disk = DriverDisk {
            kernel: kernel.clone(),
            service: String::from(service),
            names,
            client: None,
            block_size: 0,
            block_count: 0,
            max_transfer: 0,
            read_only: false,
            retried: 0,
        };
        let info = disk.call(|client| client.info())?;
        if info.block_size == 0 || !info.block_size.is_power_of_two() || info.max_transfer < info.block_size {
            return Err(Errno::InputOutput);
        }
        disk.block_size = info.block_size as u64;
        disk.block_count = info.block_count;
        disk.max_transfer = (info.max_transfer as u64 / info.block_size as u64).max(1) * info.block_size as u64;
        disk.max_transfer = disk.max_transfer.min(1 << 20);
        disk.read_only = info.read_only;
        Ok(disk)
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The client, looking the driver up (again) if needed.
    fn client(&mut self) -> Result<&mut block::Client<K>, Errno> {
        if self.client.is_none() {
            let server = self.names.lookup(&self.service)?;
            let client = block::Client::new(&self.kernel, server).map_err(|_| Errno::OutOfMemory)?;
            self.client = Some(client);
        }
        self.client.as_mut().ok_or(Errno::NoSuchDevice)
    }

    /// Runs `request`, again on a new driver when the driver went away.
    fn call<T>(
        &mut self,
        mut request: impl FnMut(&mut block::Client<K>) -> Result<T, CallError<block::Error>>,
    ) -> Result<T, Errno> {
        for attempt in 0..RETRIES {
            let result = request(self.client()?);
            match result {
                Ok(value) => return Ok(value),
                Err(error) if driver_gone(&error) => {
                    // Looked up again on the next attempt.
                    self.client = None;
                    if attempt + 1 < RETRIES {
                        self.retried += 1;
                        libmach::println!("fs: the driver of {} went away; sending the request again", self.service);
                    }
                }
                Err(CallError::Interface(block::Error::OutOfRange)) => return Err(Errno::NoSpace),
                Err(CallError::Interface(block::Error::ReadOnly)) => return Err(Errno::ReadOnlyFileSystem),
                Err(_) => return Err(Errno::InputOutput),
            }
        }
        Err(Errno::InputOutput)
    }

    fn check_range(&self, offset: u64, length: usize) -> Result<(u64, u64), DeviceError> {
        let length = length as u64;
        if !offset.is_multiple_of(self.block_size) || !length.is_multiple_of(self.block_size) {
            return Err(DeviceError::Io("transfer not aligned to the device's blocks"));
        }
        let end = offset.checked_add(length).ok_or(DeviceError::OutOfRange)?;
        if end > self.size() {
            return Err(DeviceError::OutOfRange);
        }
        Ok((offset / self.block_size, length / self.block_size))
    }
}

impl<K: PortKernel> BlockDevice for DriverDisk<K> {
    fn size(&self) -> u64 {
        self.block_count.saturating_mul(self.block_size)
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.check_range(offset, buffer.len())?;
        let mut done = 0usize;
        while done < buffer.len() {
            let chunk = (buffer.len() - done).min(self.max_transfer as usize);
            let first_block = (offset + done as u64) / self.block_size;
            let blocks = (chunk as u64 / self.block_size) as u32;
            let data = self
                .call(|client| client.read(first_block, blocks))
                .map_err(|_| DeviceError::Io("disk read failed"))?;
            if data.len() != chunk {
                return Err(DeviceError::Io("the driver answered the wrong length"));
            }
            buffer[done..done + chunk].copy_from_slice(data.bytes());
            done += chunk;
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        self.check_range(offset, data.len())?;
        let mut done = 0usize;
        while done < data.len() {
            let chunk = (data.len() - done).min(self.max_transfer as usize);
            let first_block = (offset + done as u64) / self.block_size;
            let piece = &data[done..done + chunk];
            self.call(|client| client.write(first_block, piece)).map_err(|_| DeviceError::Io("disk write failed"))?;
            done += chunk;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        // A device without a write cache has nothing to flush.
        let flushed = self.call(|client| match client.flush() {
            Err(CallError::Interface(block::Error::Unsupported)) => Ok(()),
            other => other,
        });
        match flushed {
            Ok(()) => Ok(()),
            Err(_) => Err(DeviceError::Io("disk flush failed")),
        }
    }
}

/// 32 bytes from the `random` server (virtio-rng), to key `/dev/urandom`.
pub fn random_seed<K: PortKernel>(kernel: &K, server: SendRight<K>) -> Result<[u8; 32], Errno> {
    let mut client = random::Client::new(kernel, server).map_err(|_| Errno::OutOfMemory)?;
    client.set_timeout(Some(5000));
    let data = client.read_random(32).map_err(|_| Errno::InputOutput)?;
    let mut seed = [0u8; 32];
    if data.len() != seed.len() {
        return Err(Errno::InputOutput);
    }
    seed.copy_from_slice(data.as_slice());
    Ok(seed)
}
