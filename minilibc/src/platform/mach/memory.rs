//! mmap and brk through the memory server (`memory.defs`, on the process's
//! address-space port, `AT_MACH_MEMORY`). A file mapping hands the server
//! the descriptor's port; the server asks the file server for the file's
//! memory object and keeps the file open while the mapping lasts.
//!
//! A task started by the bootstrap task directly (no memory server port)
//! maps anonymous memory with the kernel's VM traps on its own task.

use super::{call, done, files::descriptor_port, uninterrupted, Failure, MEMORY_PORT};
use crate::errno_table::{EINVAL, ENODEV, ENOMEM};
use crate::platform::Errno;
use core::sync::atomic::Ordering;
use libmach::abi::PortName;

const PAGE: u64 = 4096;
const MAP_FIXED: i32 = 0x10;
const MAP_ANONYMOUS: i32 = 0x20;

fn space() -> Option<PortName> {
    match MEMORY_PORT.load(Ordering::Relaxed) {
        0 => None,
        port => Some(port),
    }
}

/// # Safety
/// The usual `mmap` contract.
pub unsafe fn mmap(
    address: *mut u8,
    length: usize,
    protection: i32,
    flags: i32,
    fd: i32,
    offset: i64,
) -> Result<usize, Errno> {
    if length == 0 || offset < 0 || !(offset as u64).is_multiple_of(PAGE) {
        return Err(Errno(EINVAL));
    }
    let (address, length) = (address as u64, length as u64);
    let Some(space) = space() else {
        return kernel_mmap(address, length, protection, flags);
    };
    if flags & MAP_ANONYMOUS != 0 {
        return uninterrupted(|| {
            call!(memory, space, |client| client.allocate(address, length, protection as u32, flags as u32))
        })
        .map(|mapped| mapped as usize);
    }
    let file = done(descriptor_port(fd))?;
    let file = super::borrowed(file);
    uninterrupted(|| {
        call!(memory, space, |client| client.map(
            &file,
            offset as u64,
            address,
            length,
            protection as u32,
            flags as u32
        ))
    })
    .map(|mapped| mapped as usize)
}

/// Anonymous memory for a task that is no process: the kernel's
/// `vm_allocate` on the task itself (zero-filled, private).
fn kernel_mmap(address: u64, length: u64, protection: i32, flags: i32) -> Result<usize, Errno> {
    if flags & MAP_ANONYMOUS == 0 {
        return Err(Errno(ENODEV));
    }
    let task = libmach::trap::task_self();
    let (at, placement) = if flags & MAP_FIXED != 0 {
        let _ = libmach::trap::vm_deallocate(task, address, length);
        (address, libmach::abi::VM_FLAGS_FIXED)
    } else {
        (0, libmach::abi::VM_FLAGS_ANYWHERE)
    };
    let mapped = libmach::trap::vm_allocate(task, at, length, placement).map_err(|_| Errno(ENOMEM))?;
    if protection & 7 != 3 {
        libmach::trap::vm_protect(task, mapped, length, false, protection as u32 & 7).map_err(|_| Errno(EINVAL))?;
    }
    Ok(mapped as usize)
}

/// # Safety
/// The range must not hold live Rust objects.
pub unsafe fn munmap(address: *mut u8, length: usize) -> Result<usize, Errno> {
    let (address, length) = (address as u64, length as u64);
    if !address.is_multiple_of(PAGE) || length == 0 {
        return Err(Errno(EINVAL));
    }
    match space() {
        Some(space) => uninterrupted(|| call!(memory, space, |client| client.deallocate(address, length))).map(|()| 0),
        None => libmach::trap::vm_deallocate(libmach::trap::task_self(), address, length)
            .map(|()| 0)
            .map_err(|_| Errno(EINVAL)),
    }
}

/// # Safety
/// The usual `mremap` contract.
pub unsafe fn mremap(
    address: *mut u8,
    old_length: usize,
    new_length: usize,
    flags: i32,
    new_address: *mut u8,
) -> Result<usize, Errno> {
    let space = space().ok_or(Errno(ENOMEM))?;
    let (address, old_length, new_length, new_address) =
        (address as u64, old_length as u64, new_length as u64, new_address as u64);
    uninterrupted(|| {
        call!(memory, space, |client| client.remap(address, old_length, new_length, flags as u32, new_address))
    })
    .map(|mapped| mapped as usize)
}

/// # Safety
/// The usual `mprotect` contract.
pub unsafe fn mprotect(address: *mut u8, length: usize, protection: i32) -> Result<usize, Errno> {
    let (address, length) = (address as u64, length as u64);
    if !address.is_multiple_of(PAGE) {
        return Err(Errno(EINVAL));
    }
    match space() {
        Some(space) => {
            uninterrupted(|| call!(memory, space, |client| client.protect(address, length, protection as u32)))
                .map(|()| 0)
        }
        None => libmach::trap::vm_protect(libmach::trap::task_self(), address, length, false, protection as u32 & 7)
            .map(|()| 0)
            .map_err(|_| Errno(EINVAL)),
    }
}

/// msync: the range's shared file mappings reach their files.
///
/// # Safety
/// The usual `msync` contract.
pub unsafe fn msync(address: *mut u8, length: usize, flags: i32) -> Result<usize, Errno> {
    let space = space().ok_or(Errno(ENOMEM))?;
    let (address, length) = (address as u64, length as u64);
    uninterrupted(|| call!(memory, space, |client| client.sync(address, length, flags as u32))).map(|()| 0)
}

/// Returns the new break (the old one when `address` is refused), as Linux does.
pub fn brk(address: usize) -> usize {
    let Some(space) = space() else {
        // A task that is no process has no break.
        return 0;
    };
    let result: Result<u64, Failure> = {
        let _section = super::Critical::enter();
        call!(memory, space, |client| client.set_break(address as u64))
    };
    result.map(|current| current as usize).unwrap_or(0)
}
