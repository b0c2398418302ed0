//! Reads the Multiboot (v1) boot information into a [`BootInfo`].
//!
//! The loader's structures are read through the early direct map, each
//! access checked to lie inside it, and copied: after this the kernel never
//! looks at them again and their memory may be reused.

use super::paging::{self, EARLY_DIRECT_MAP_END};
use crate::boot_info::{
    bounded_string, BootInfo, MemoryRegion, Module, ModuleNameError, ModuleNameReader, RegionKind, MAX_MODULES,
    MAX_MODULE_NAME,
};
use crate::memory::{PhysicalAddress, PhysicalRange};

const BOOTLOADER_MAGIC: u32 = 0x2bad_b002;

// Flags saying which fields of the information structure are valid.
const HAS_COMMAND_LINE: u32 = 1 << 2;
const HAS_MODULES: u32 = 1 << 3;
const HAS_MEMORY_MAP: u32 = 1 << 6;
const HAS_LOADER_NAME: u32 = 1 << 9;

// Byte offsets of the fields in the information structure.
const FLAGS: u64 = 0;
const COMMAND_LINE: u64 = 16;
const MODULE_COUNT: u64 = 20;
const MODULE_ADDRESS: u64 = 24;
const MEMORY_MAP_LENGTH: u64 = 44;
const MEMORY_MAP_ADDRESS: u64 = 48;
const LOADER_NAME: u64 = 64;

const MEMORY_MAP_AVAILABLE: u32 = 1;

#[derive(Debug)]
#[allow(dead_code)] // the fields are read through Debug in the boot error report
pub enum BootError {
    /// Not entered by a Multiboot loader.
    BadMagic(u32),
    /// The loader gave no memory map.
    NoMemoryMap,
    /// A pointer in the boot information points outside the mapped first GiB.
    OutOfReach(u64),
    /// More boot modules than the kernel takes (`BOOT_MODULES_MAX` in
    /// mach-abi): refused rather than starting a system with some missing.
    TooManyModules { count: u32, limit: usize },
    /// A module's file name is longer than the kernel keeps
    /// (`BOOTSTRAP_MODULE_NAME_MAX`) or not UTF-8: refused rather than cut.
    BadModuleName { index: u64, error: ModuleNameError, limit: usize },
    /// A module's command line has no end within `MAX_MODULE_COMMAND_LINE` bytes.
    ModuleCommandLineTooLong { index: u64 },
}

/// Reads a `T` at a physical address inside the early direct map.
fn read<T: Copy>(address: u64) -> Result<T, BootError> {
    let end = address.checked_add(size_of::<T>() as u64).ok_or(BootError::OutOfReach(address))?;
    if end > EARLY_DIRECT_MAP_END.0 {
        return Err(BootError::OutOfReach(address));
    }
    let pointer = paging::direct_map_address(PhysicalAddress(address)) as *const T;
    // SAFETY: `address..end` lies in the first GiB, which the boot page
    // tables map at the direct-map base; the loader's structures are plain
    // integers, so any bit pattern is a valid `T`, and `read_unaligned`
    // tolerates the loader's packing.
    Ok(unsafe { pointer.read_unaligned() })
}

/// Reads a NUL-terminated string of at most `N` bytes (longer ones are cut).
fn read_string<const N: usize>(address: u64) -> Result<heapless::String<N>, BootError> {
    let mut bytes = heapless::Vec::<u8, N>::new();
    for offset in 0..N as u64 {
        let byte: u8 = read(address + offset)?;
        if byte == 0 {
            break;
        }
        let _ = bytes.push(byte);
    }
    Ok(bounded_string(core::str::from_utf8(&bytes).unwrap_or("<not UTF-8>")))
}

/// Longest module command line read (path and arguments).
const MAX_MODULE_COMMAND_LINE: u64 = 4096;

/// The name of module `index`, whose NUL-terminated command line is at `address`.
fn read_module_name(index: u64, address: u64) -> Result<heapless::String<MAX_MODULE_NAME>, BootError> {
    let mut reader = ModuleNameReader::default();
    for offset in 0..MAX_MODULE_COMMAND_LINE {
        let byte: u8 = read(address + offset)?;
        if byte == 0 || reader.push(byte) {
            return reader.finish().map_err(|error| BootError::BadModuleName { index, error, limit: MAX_MODULE_NAME });
        }
    }
    Err(BootError::ModuleCommandLineTooLong { index })
}

pub fn parse(magic: u32, info: u32) -> Result<BootInfo, BootError> {
    if magic != BOOTLOADER_MAGIC {
        return Err(BootError::BadMagic(magic));
    }
    let info = info as u64;
    let flags: u32 = read(info + FLAGS)?;
    let mut boot = BootInfo { kernel_image: paging::kernel_image_physical_range(), ..BootInfo::default() };

    if flags & HAS_LOADER_NAME != 0 {
        boot.loader_name = read_string(read::<u32>(info + LOADER_NAME)? as u64)?;
    }
    if flags & HAS_COMMAND_LINE != 0 {
        boot.command_line = read_string(read::<u32>(info + COMMAND_LINE)? as u64)?;
    }
    if flags & HAS_MEMORY_MAP == 0 {
        return Err(BootError::NoMemoryMap);
    }
    read_memory_map(info, &mut boot)?;
    if flags & HAS_MODULES != 0 {
        read_modules(info, &mut boot)?;
    }
    Ok(boot)
}

fn read_memory_map(info: u64, boot: &mut BootInfo) -> Result<(), BootError> {
    let length: u32 = read(info + MEMORY_MAP_LENGTH)?;
    let start: u32 = read(info + MEMORY_MAP_ADDRESS)?;
    let end = start as u64 + length as u64;
    let mut entry = start as u64;
    // Each entry: size (u32, not counting itself), base (u64), length (u64), type (u32).
    while entry + 24 <= end {
        let size: u32 = read(entry)?;
        let base: u64 = read(entry + 4)?;
        let bytes: u64 = read(entry + 12)?;
        let kind: u32 = read(entry + 20)?;
        let region = MemoryRegion {
            range: PhysicalRange::new(base, base.saturating_add(bytes)),
            kind: if kind == MEMORY_MAP_AVAILABLE { RegionKind::Usable } else { RegionKind::Reserved },
        };
        if boot.memory_map.push(region).is_err() {
            log::warn!("boot memory map has more than {} entries; ignoring the rest", boot.memory_map.len());
            break;
        }
        entry += size.max(20) as u64 + 4;
    }
    Ok(())
}

fn read_modules(info: u64, boot: &mut BootInfo) -> Result<(), BootError> {
    let count: u32 = read(info + MODULE_COUNT)?;
    if count as usize > MAX_MODULES {
        return Err(BootError::TooManyModules { count, limit: MAX_MODULES });
    }
    let table: u32 = read(info + MODULE_ADDRESS)?;
    for index in 0..count as u64 {
        // Each entry: start (u32), end (u32), command line (u32), reserved (u32).
        let entry = table as u64 + index * 16;
        let start: u32 = read(entry)?;
        let end: u32 = read(entry + 4)?;
        let command_line: u32 = read(entry + 8)?;
        let name = read_module_name(index, command_line as u64)?;
        let module = Module { range: PhysicalRange::new(start as u64, (end as u64).max(start as u64)), name };
        // Cannot fail: the count was checked against the capacity above.
        let _ = boot.modules.push(module);
    }
    Ok(())
}
