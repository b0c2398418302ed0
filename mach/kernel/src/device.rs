//! Devices for user-space drivers: device memory, DMA memory and interrupts
//! as messages.
//!
//! Every device trap takes, as its first argument, a name of a send right
//! to the privileged host port (the bootstrap task holds one and hands it on
//! narrowly); any other right gets `KERN_INVALID_CAPABILITY`.
//!
//! - `device_map_memory(device, physical, size, address_out)`: maps device
//!   registers uncached into the caller. RAM is refused: only memory the
//!   boot memory map does not call usable may be mapped.
//! - `device_dma_allocate(device, size, address_out, physical_out)`:
//!   physically contiguous, zeroed memory, with its physical address.
//! - `interrupt_bind(device, line, port)`: interrupts of the line come as
//!   `INTERRUPT_MESSAGE_ID` messages to `port` (a send right the caller
//!   names; `MACH_PORT_NULL` unbinds). After each one the line is masked
//!   until `interrupt_acknowledge(device, line)`.
//! - `io_port_access(device, first_port, count, task)`: the task may use
//!   `in`/`out` on those ports (at most 16 ranges per task). `task` names
//!   a task port the caller holds, or is `MACH_PORT_NULL` for the caller's
//!   own task: so the bootstrap task grants a driver its ports without
//!   handing it the host port. The grants live in the task and are loaded
//!   into the TSS's I/O permission bitmap when one of its threads is
//!   switched to; any other port still faults.

use crate::boot_info::RegionKind;
use crate::ipc::object::KernelObjectRef;
use crate::ipc::port_traps::caller;
use crate::memory::user::{self, UserBuffer};
use crate::memory::{frame, PhysicalRange, PAGE_SIZE};
use crate::scheduler::{with_kernel, Kernel};
use crate::vm;
use mach_abi::{KernReturn, PortName, INTERRUPT_MESSAGE_ID, VM_PROT_DEFAULT};

const PAGE: u64 = PAGE_SIZE as u64;
/// Largest device mapping and DMA allocation in one call.
const DEVICE_MAP_LIMIT: u64 = 256 * 1024 * 1024;
const DMA_LIMIT: u64 = 4 * 1024 * 1024;

/// Checks that `device` names a send right to the privileged host port.
pub(crate) fn check_device_port(kernel: &Kernel, space: mach_ipc::SpaceId, device: u64) -> Result<(), KernReturn> {
    let port = kernel.ipc.port_of(space, device as PortName).map_err(|_| KernReturn::InvalidCapability)?;
    let object = kernel.ipc.port(port).map(|port| port.kernel_object()).unwrap_or(0);
    match KernelObjectRef::from_tag(object) {
        Some(KernelObjectRef::Host { privileged: true }) => Ok(()),
        _ => Err(KernReturn::InvalidCapability),
    }
}

fn overlaps_ram(range: PhysicalRange) -> bool {
    crate::boot_info::get()
        .memory_map
        .iter()
        .filter(|region| region.kind == RegionKind::Usable)
        .any(|region| region.range.overlaps(&range))
}

pub fn device_map_memory([device, physical, size, address_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        let end = physical.checked_add(size).ok_or(KernReturn::InvalidArgument)?;
        if size == 0 || size > DEVICE_MAP_LIMIT || physical % PAGE != 0 || size % PAGE != 0 || end > 1 << 52 {
            return Err(KernReturn::InvalidArgument);
        }
        if overlaps_ram(PhysicalRange::new(physical, end)) {
            return Err(KernReturn::InvalidAddress);
        }
        let task = kernel.tasks.get_mut(caller.task).ok_or(KernReturn::InvalidTask)?;
        let mut space = task.user_space().ok_or(KernReturn::InvalidTask)?;
        user::check_writable(&mut space, UserBuffer::new(address_out, 8))?;
        let start = space.vm.find_space(size, 0).ok_or(KernReturn::NoSpace)?;
        space.vm.insert_device(space.tables, start, physical, size / PAGE)?;
        user::copy_to_user(&mut space, UserBuffer::new(address_out, 8), &start.to_le_bytes())?;
        Ok(())
    })
}

pub fn device_dma_allocate([device, size, address_out, physical_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        let size = size.checked_next_multiple_of(PAGE).ok_or(KernReturn::InvalidArgument)?;
        if size == 0 || size > DMA_LIMIT {
            return Err(KernReturn::InvalidArgument);
        }
        if !crate::memory::can_spare(size as usize) {
            return Err(KernReturn::ResourceShortage);
        }
        let task = kernel.tasks.get_mut(caller.task).ok_or(KernReturn::InvalidTask)?;
        let mut space = task.user_space().ok_or(KernReturn::InvalidTask)?;
        user::check_writable(&mut space, UserBuffer::new(address_out, 8))?;
        user::check_writable(&mut space, UserBuffer::new(physical_out, 8))?;
        let tables = task.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
        let start = task.vm.find_space(size, 0).ok_or(KernReturn::NoSpace)?;
        let pages = (size / PAGE) as usize;
        task.vm.charge(tables, pages).map_err(|_| KernReturn::ResourceShortage)?;
        let Ok(first) = frame::allocate_contiguous(pages, 1) else {
            task.vm.uncharge(pages);
            return Err(KernReturn::ResourceShortage);
        };
        let flags = vm::page_flags(VM_PROT_DEFAULT).expect("read-write maps");
        if let Err(error) = task.vm.insert(start, start + size, VM_PROT_DEFAULT, mach_abi::VM_PROT_ALL) {
            let _ = frame::free_contiguous(first, pages);
            task.vm.uncharge(pages);
            return Err(error.into());
        }
        for index in 0..pages {
            let frame = crate::memory::Frame::from_number(first.number() + index);
            let address = crate::arch::paging::direct_map_address(frame.start());
            // SAFETY: a frame of the run just allocated, ours alone.
            unsafe { core::ptr::write_bytes(address as *mut u8, 0, PAGE_SIZE) };
            // The region now owns the frames: a failed mapping frees the
            // rest through the region's deallocation below.
            if tables.map(start + index as u64 * PAGE, frame, flags).is_err() {
                for rest in index..pages {
                    let _ = frame::free(crate::memory::Frame::from_number(first.number() + rest));
                }
                task.vm.uncharge(pages - index);
                task.vm.deallocate(tables, start, start + size);
                return Err(KernReturn::ResourceShortage);
            }
        }
        let mut space = task.user_space().ok_or(KernReturn::InvalidTask)?;
        user::copy_to_user(&mut space, UserBuffer::new(address_out, 8), &start.to_le_bytes())?;
        user::copy_to_user(&mut space, UserBuffer::new(physical_out, 8), &first.start().0.to_le_bytes())?;
        Ok(())
    })
}

/// An interrupt line number from a trap argument.
fn interrupt_line(line: u64) -> Result<u32, KernReturn> {
    u32::try_from(line).ok().filter(|&line| line < crate::arch::ioapic::LINE_COUNT).ok_or(KernReturn::InvalidArgument)
}

pub fn interrupt_bind([device, line, port, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        let line = interrupt_line(line)?;
        let handler = if port == 0 {
            None
        } else {
            Some(kernel.ipc.extract_right(caller.space, port as PortName, mach_abi::Disposition::CopySend as u32)?.0)
        };
        let bound = handler.is_some();
        if let Some(previous) = core::mem::replace(&mut kernel.interrupt_handlers[line as usize], handler) {
            kernel.ipc.release(previous);
        }
        crate::ipc::settle(kernel);
        if bound {
            crate::arch::ioapic::unmask(line);
        } else {
            crate::arch::ioapic::mask(line);
        }
        Ok(())
    })
}

pub fn interrupt_acknowledge([device, line, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        let line = interrupt_line(line)?;
        if kernel.interrupt_handlers[line as usize].is_none() {
            return Err(KernReturn::InvalidArgument);
        }
        crate::arch::ioapic::unmask(line);
        Ok(())
    })
}

/// Called by the architecture for an interrupt of `line` (already masked):
/// sends the message to the bound port, or leaves the line masked.
pub fn interrupt(line: u32) {
    let delivered = with_kernel(|kernel| {
        let Some(port) = kernel
            .interrupt_handlers
            .get(line as usize)
            .and_then(|right| right.as_ref())
            .and_then(|right| right.port())
            .map(|(port, _)| port)
        else {
            return false;
        };
        let Ok(destination) = kernel.ipc.make_send(port) else { return false };
        let message =
            mach_ipc::KernelMessage::from_kernel(destination, INTERRUPT_MESSAGE_ID, None, line.to_le_bytes().to_vec())
                .expect("an interrupt message is tiny");
        if let Some(outcome) = kernel.ipc.send_kernel_message(message) {
            crate::ipc::deliver_outcome(kernel, outcome);
        }
        crate::ipc::settle(kernel);
        true
    });
    if delivered {
        crate::scheduler::preempt_if_needed();
    }
}

/// `io_port_access(device, first_port, count)`.
pub fn io_port_access([device, first, count, target, ..]: [u64; 6]) -> Result<(), KernReturn> {
    let end = first.checked_add(count).ok_or(KernReturn::InvalidArgument)?;
    if count == 0 || end > 65536 {
        return Err(KernReturn::InvalidArgument);
    }
    let target = PortName::try_from(target).map_err(|_| KernReturn::InvalidTask)?;
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        let task_id = match target {
            mach_abi::MACH_PORT_NULL => caller.task,
            name => crate::ipc::object::task_named(kernel, caller.space, name)?,
        };
        let task = kernel.tasks.get_mut(task_id).ok_or(KernReturn::InvalidTask)?;
        if task.io_ports.len() >= crate::arch::MAX_IO_RANGES {
            return Err(KernReturn::ResourceShortage);
        }
        // `count` may be 65536 (every port), which does not fit a u16 count:
        // split it in two halves.
        let mut start = first;
        while start < end {
            let piece = (end - start).min(0x8000);
            task.io_ports.push((start as u16, piece as u16));
            start += piece;
        }
        task.io_ports.truncate(crate::arch::MAX_IO_RANGES);
        // Another task's grants load when its threads are next switched to.
        if task_id == caller.task {
            crate::arch::set_io_permissions(&task.io_ports);
        }
        Ok(())
    })
}
