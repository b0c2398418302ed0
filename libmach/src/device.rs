//! What a user-space driver needs from the kernel: device registers and DMA
//! memory as bounds-checked [`DeviceMemory`], interrupts as messages
//! (I/O APIC lines and message-signalled interrupts), and I/O ports.
//!
//! Every call takes `device`, the name of a send right to the privileged
//! host port; any other right gets `KERN_INVALID_CAPABILITY` (docs/vm.md,
//! "Devices", and docs/block-driver.md for how a driver uses them).
//!
//! Device and DMA memory is shared with hardware, which reads and writes it
//! behind the compiler's back: every access is volatile, through
//! [`DeviceMemory`]'s checked offsets, so a driver needs no `unsafe` of its
//! own. Regions stay mapped for the life of the task (a device may still be
//! writing into DMA memory, so there is deliberately no `Drop`).

use crate::trap::{raw_trap, to_result};
use mach_abi::{KernReturn, PortName, Trap};

/// Registers or DMA memory mapped into this task.
#[derive(Debug)]
pub struct DeviceMemory {
    address: u64,
    size: usize,
    physical: u64,
}

impl DeviceMemory {
    /// Where the region is in this task.
    pub fn address(&self) -> u64 {
        self.address
    }

    /// Its length in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The physical address of its first byte (what a device is given for
    /// DMA memory, which is physically contiguous).
    pub fn physical(&self) -> u64 {
        self.physical
    }

    /// The address of `offset..offset + length`, which must lie inside the
    /// region and start on a multiple of `alignment`.
    fn pointer(&self, offset: usize, length: usize, alignment: usize) -> Result<u64, KernReturn> {
        let end = offset.checked_add(length).ok_or(KernReturn::InvalidAddress)?;
        if end > self.size || !offset.is_multiple_of(alignment) {
            return Err(KernReturn::InvalidAddress);
        }
        Ok(self.address + offset as u64)
    }

    pub fn read_u8(&self, offset: usize) -> Result<u8, KernReturn> {
        let pointer = self.pointer(offset, 1, 1)? as *const u8;
        // SAFETY: `pointer` lies inside the region the kernel mapped for
        // this value (checked above) and stays mapped for the task's life.
        Ok(unsafe { pointer.read_volatile() })
    }

    pub fn read_u16(&self, offset: usize) -> Result<u16, KernReturn> {
        let pointer = self.pointer(offset, 2, 2)? as *const u16;
        // SAFETY: inside the mapped region and 2-byte aligned (checked).
        Ok(unsafe { pointer.read_volatile() })
    }

    pub fn read_u32(&self, offset: usize) -> Result<u32, KernReturn> {
        let pointer = self.pointer(offset, 4, 4)? as *const u32;
        // SAFETY: inside the mapped region and 4-byte aligned (checked).
        Ok(unsafe { pointer.read_volatile() })
    }

    pub fn read_u64(&self, offset: usize) -> Result<u64, KernReturn> {
        let pointer = self.pointer(offset, 8, 8)? as *const u64;
        // SAFETY: inside the mapped region and 8-byte aligned (checked).
        Ok(unsafe { pointer.read_volatile() })
    }

    pub fn write_u8(&self, offset: usize, value: u8) -> Result<(), KernReturn> {
        let pointer = self.pointer(offset, 1, 1)? as *mut u8;
        // SAFETY: inside the mapped, writable region (checked); device
        // memory is not Rust memory, so no reference aliases it.
        unsafe { pointer.write_volatile(value) };
        Ok(())
    }

    pub fn write_u16(&self, offset: usize, value: u16) -> Result<(), KernReturn> {
        let pointer = self.pointer(offset, 2, 2)? as *mut u16;
        // SAFETY: as for `write_u8`, and 2-byte aligned.
        unsafe { pointer.write_volatile(value) };
        Ok(())
    }

    pub fn write_u32(&self, offset: usize, value: u32) -> Result<(), KernReturn> {
        let pointer = self.pointer(offset, 4, 4)? as *mut u32;
        // SAFETY: as for `write_u8`, and 4-byte aligned.
        unsafe { pointer.write_volatile(value) };
        Ok(())
    }

    pub fn write_u64(&self, offset: usize, value: u64) -> Result<(), KernReturn> {
        let pointer = self.pointer(offset, 8, 8)? as *mut u64;
        // SAFETY: as for `write_u8`, and 8-byte aligned.
        unsafe { pointer.write_volatile(value) };
        Ok(())
    }

    /// Copies `bytes` into the region at `offset`.
    pub fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<(), KernReturn> {
        let pointer = self.pointer(offset, bytes.len(), 1)? as *mut u8;
        // SAFETY: `offset..offset + len` lies inside the mapped region
        // (checked); the source is a Rust slice, which cannot overlap
        // device memory no reference points into.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), pointer, bytes.len()) };
        Ok(())
    }

    /// Copies `bytes.len()` bytes of the region at `offset` into `bytes`.
    pub fn read_bytes(&self, offset: usize, bytes: &mut [u8]) -> Result<(), KernReturn> {
        let pointer = self.pointer(offset, bytes.len(), 1)? as *const u8;
        // SAFETY: as for `write_bytes`, in the other direction.
        unsafe { core::ptr::copy_nonoverlapping(pointer, bytes.as_mut_ptr(), bytes.len()) };
        Ok(())
    }
}

/// `device_map_memory`: maps `size` bytes of device registers at
/// `physical` (both page aligned; RAM is refused) uncached into this task.
pub fn map_memory(device: PortName, physical: u64, size: u64) -> Result<DeviceMemory, KernReturn> {
    let mut address = 0u64;
    // SAFETY: the kernel writes the 8 bytes of `address`, ours.
    to_result(unsafe {
        raw_trap(Trap::DeviceMapMemory as u64, [device as u64, physical, size, &raw mut address as u64, 0, 0])
    })?;
    let size = usize::try_from(size).map_err(|_| KernReturn::InvalidArgument)?;
    Ok(DeviceMemory { address, size, physical })
}

/// `device_dma_allocate`: `size` bytes (rounded up to pages, at most
/// 4 MiB) of zeroed, physically contiguous memory.
pub fn dma_allocate(device: PortName, size: u64) -> Result<DeviceMemory, KernReturn> {
    let (mut address, mut physical) = (0u64, 0u64);
    // SAFETY: the kernel writes the 8 bytes of `address` and of `physical`.
    to_result(unsafe {
        raw_trap(
            Trap::DeviceDmaAllocate as u64,
            [device as u64, size, &raw mut address as u64, &raw mut physical as u64, 0, 0],
        )
    })?;
    let size = usize::try_from(size.div_ceil(4096) * 4096).map_err(|_| KernReturn::InvalidArgument)?;
    Ok(DeviceMemory { address, size, physical })
}

/// The address and data a device sends to raise a message-signalled
/// interrupt, and the interrupt number its messages carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsiBinding {
    pub address: u64,
    pub data: u32,
    /// What `INTERRUPT_MESSAGE_ID` messages carry and
    /// [`interrupt_acknowledge`] takes (the vector: the data's low byte).
    pub interrupt: u32,
}

/// `interrupt_bind_msi`: a new message-signalled interrupt whose messages
/// go to `port` (a send right this task names).
pub fn interrupt_bind_msi(device: PortName, port: PortName) -> Result<MsiBinding, KernReturn> {
    let (mut address, mut data) = (0u64, 0u32);
    // SAFETY: the kernel writes 8 bytes into `address` and 4 into `data`.
    to_result(unsafe {
        raw_trap(
            Trap::InterruptBindMsi as u64,
            [device as u64, port as u64, &raw mut address as u64, &raw mut data as u64, 0, 0],
        )
    })?;
    Ok(MsiBinding { address, data, interrupt: data & 0xff })
}

/// `interrupt_bind`: an I/O APIC line (0..24) to `port`, or a
/// message-signalled interrupt this task bound to another port;
/// `MACH_PORT_NULL` unbinds (and frees a message-signalled vector).
pub fn interrupt_bind(device: PortName, interrupt: u32, port: PortName) -> Result<(), KernReturn> {
    // SAFETY: no pointer arguments.
    to_result(unsafe { raw_trap(Trap::InterruptBind as u64, [device as u64, interrupt as u64, port as u64, 0, 0, 0]) })
}

/// `interrupt_acknowledge`: the line is unmasked, or the message-signalled
/// interrupt may send its next message.
pub fn interrupt_acknowledge(device: PortName, interrupt: u32) -> Result<(), KernReturn> {
    // SAFETY: no pointer arguments.
    to_result(unsafe { raw_trap(Trap::InterruptAcknowledge as u64, [device as u64, interrupt as u64, 0, 0, 0, 0]) })
}

/// `io_port_access`: this task may use `in`/`out` on `first..first + count`.
pub fn io_port_access(device: PortName, first: u16, count: u32) -> Result<(), KernReturn> {
    // SAFETY: no pointer arguments.
    to_result(unsafe { raw_trap(Trap::IoPortAccess as u64, [device as u64, first as u64, count as u64, 0, 0, 0]) })
}

/// `in` of 32 bits from I/O port `port`. A port this task was not granted
/// faults (the kernel kills the task), which touches no memory. x86_64
/// only: aarch64 has no port I/O (its kernel refuses `io_port_access`).
#[cfg(target_arch = "x86_64")]
pub fn port_read_u32(port: u16) -> u32 {
    let value: u32;
    // SAFETY: `in` reads a device register into a general register; it
    // cannot touch this program's memory.
    unsafe { core::arch::asm!("in eax, dx", in("dx") port, out("eax") value, options(nostack, preserves_flags)) };
    value
}

/// `out` of 32 bits to I/O port `port` (see [`port_read_u32`]).
#[cfg(target_arch = "x86_64")]
pub fn port_write_u32(port: u16, value: u32) {
    // SAFETY: as for `port_read_u32`; the device effect is the caller's
    // business, memory is untouched.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack, preserves_flags)) };
}

/// `in` of 8 bits from I/O port `port` (a UART's registers, for one).
#[cfg(target_arch = "x86_64")]
pub fn port_read_u8(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as for `port_read_u32`: `in` reads a device register into a
    // general register and cannot touch this program's memory.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") value, options(nostack, preserves_flags)) };
    value
}

/// `out` of 8 bits to I/O port `port` (see [`port_read_u8`]).
#[cfg(target_arch = "x86_64")]
pub fn port_write_u8(port: u16, value: u8) {
    // SAFETY: as for `port_write_u32`; memory is untouched.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags)) };
}
