//! Memory objects and pagers (see `mach_abi::pager` and docs/vm.md): the
//! traps a pager uses to create objects and answer the kernel's requests,
//! and `vm_map` to map an object.

use crate::trap::{raw_trap, to_result};
use mach_abi::{KernReturn, PortName, Trap, VM_FLAGS_ANYWHERE};

/// A new memory object of `size` bytes whose pages `pager` (a port whose
/// receive right the caller holds, or a send right to one) will supply, or,
/// with `MACH_PORT_NULL`, a kernel object whose pages the kernel zero-fills
/// (anonymous shared memory); returns the name of a send right to the
/// object's port.
pub fn memory_object_create(pager: PortName, size: u64) -> Result<PortName, KernReturn> {
    let mut object = 0u32;
    // SAFETY: the kernel writes the object's name into `object`, ours.
    to_result(unsafe {
        raw_trap(Trap::MemoryObjectCreate as u64, [pager as u64, size, &raw mut object as u64, 0, 0, 0])
    })?;
    Ok(object)
}

/// Maps `[offset, offset + size)` of `object` into `task`, anywhere;
/// returns the address.
pub fn vm_map(task: PortName, size: u64, object: PortName, offset: u64) -> Result<u64, KernReturn> {
    let mut address = 0u64;
    // SAFETY: the kernel reads and writes `address`, ours.
    to_result(unsafe {
        raw_trap(
            Trap::VmMap as u64,
            [task as u64, &raw mut address as u64, size, VM_FLAGS_ANYWHERE as u64, object as u64, offset],
        )
    })?;
    Ok(address)
}

/// Maps `[offset, offset + size)` of `object` into `task` with `flags`
/// (`mach_abi::vm_map_flags`: anywhere or at `address`, shared or private
/// copy-on-write, the protection); returns the address.
pub fn vm_map_with(
    task: PortName,
    address: u64,
    size: u64,
    flags: u32,
    object: PortName,
    offset: u64,
) -> Result<u64, KernReturn> {
    let mut address = address;
    // SAFETY: the kernel reads and writes `address`, ours.
    to_result(unsafe {
        raw_trap(Trap::VmMap as u64, [task as u64, &raw mut address as u64, size, flags as u64, object as u64, offset])
    })?;
    Ok(address)
}

/// Answers a data request with `data` (whole pages), optionally
/// write-locked (`lock` = `VM_PROT_WRITE`).
pub fn data_supply(object: PortName, offset: u64, data: &[u8], lock: u32) -> Result<(), KernReturn> {
    // SAFETY: the kernel only reads `data`.
    to_result(unsafe {
        raw_trap(
            Trap::MemoryObjectDataSupply as u64,
            [object as u64, offset, data.as_ptr() as u64, data.len() as u64, lock as u64, 0],
        )
    })
}

/// Answers a data request with zero-filled pages.
pub fn data_unavailable(object: PortName, offset: u64, size: u64) -> Result<(), KernReturn> {
    // SAFETY: values only.
    to_result(unsafe { raw_trap(Trap::MemoryObjectDataUnavailable as u64, [object as u64, offset, size, 0, 0, 0]) })
}

/// Answers a data request with an error: threads touching the pages take
/// an `EXC_BAD_ACCESS` exception.
pub fn data_error(object: PortName, offset: u64, size: u64, error: KernReturn) -> Result<(), KernReturn> {
    // SAFETY: values only.
    to_result(unsafe {
        raw_trap(Trap::MemoryObjectDataError as u64, [object as u64, offset, size, error as u64, 0, 0])
    })
}

/// Sets the write lock of `[offset, offset + size)` (`lock`: `VM_PROT_WRITE`
/// or `VM_PROT_NONE`); with `MEMORY_OBJECT_RETURN_ALL` in `flags` the
/// resident pages are first copied into `returned` (which must be `size`
/// bytes), with `MEMORY_OBJECT_FLUSH` they are then dropped.
pub fn lock_request(
    object: PortName,
    offset: u64,
    size: u64,
    lock: u32,
    flags: u32,
    returned: Option<&mut [u8]>,
) -> Result<(), KernReturn> {
    let buffer = match returned {
        Some(buffer) if buffer.len() as u64 >= size => buffer.as_mut_ptr() as u64,
        Some(_) => return Err(KernReturn::InvalidArgument),
        None => 0,
    };
    // SAFETY: the kernel writes at most `size` bytes to `buffer`, which is
    // ours and at least that long (or 0, and then the kernel refuses a
    // return request).
    to_result(unsafe {
        raw_trap(Trap::MemoryObjectLockRequest as u64, [object as u64, offset, size, lock as u64, flags as u64, buffer])
    })
}

/// Destroys `object`: its pages leave every mapping.
pub fn memory_object_destroy(object: PortName) -> Result<(), KernReturn> {
    // SAFETY: values only.
    to_result(unsafe { raw_trap(Trap::MemoryObjectDestroy as u64, [object as u64, 0, 0, 0, 0, 0]) })
}
