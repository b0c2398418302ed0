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
//!   physically contiguous, zeroed memory, with its physical address (at
//!   most [`DMA_REGIONS_PER_TASK`] allocations a task). When the task ends
//!   its frames are kept from reuse for [`DMA_QUARANTINE`]: a device it
//!   left running may still finish a request into them.
//! - `interrupt_bind(device, line, port)`: interrupts of the line come as
//!   `INTERRUPT_MESSAGE_ID` messages to `port` (a send right the caller
//!   names; `MACH_PORT_NULL` unbinds). After each one the line is masked
//!   until `interrupt_acknowledge(device, line)`.
//! - `interrupt_bind_msi(device, port, address_out, data_out)`: a free
//!   local-APIC vector bound to `port`, and the MSI address and data its
//!   device must send. Each interrupt comes as an `INTERRUPT_MESSAGE_ID`
//!   message carrying the vector (the binding's interrupt number); after
//!   one, the next waits for `interrupt_acknowledge(device, vector)`, and
//!   interrupts meanwhile are folded into one message sent at the
//!   acknowledgement (edge-triggered interrupts cannot be masked here, and
//!   none is lost). `interrupt_bind(device, vector, NULL)`, the port's
//!   death or the owner's end frees the vector. At most
//!   [`MSI_BINDINGS_PER_TASK`] per task, [`msi::VECTOR_COUNT`] in all.
//! - `io_port_access(device, first_port, count, task)`: the task may use
//!   `in`/`out` on those ports (at most 16 ranges per task). `task` names
//!   a task port the caller holds, or is `MACH_PORT_NULL` for the caller's
//!   own task: so the bootstrap task grants a driver its ports without
//!   handing it the host port. The grants live in the task and are loaded
//!   into the TSS's I/O permission bitmap when one of its threads is
//!   switched to; any other port still faults.
#![forbid(unsafe_code)]

use crate::arch::msi;
use crate::boot_info::RegionKind;
use crate::ipc::object::KernelObjectRef;
use crate::ipc::port_traps::caller;
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer};
use crate::memory::{frame, share, Frame, PhysicalRange, PAGE_SIZE};
use crate::task::TaskId;
use crate::vm;
use mach_abi::{KernReturn, PortName, INTERRUPT_MESSAGE_ID, VM_PROT_DEFAULT};
use mach_ipc::CarriedRight;

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
        let owned = kernel.devices.dma.iter().filter(|region| region.owner == caller.task).count();
        if owned >= DMA_REGIONS_PER_TASK {
            return Err(KernReturn::ResourceShortage);
        }
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
        // Wired: a device uses these frames by physical address, so they
        // are never shared copy-on-write (nor inherited by a child).
        let wired = vm::Backing::Wired;
        if let Err(error) = task.vm.insert_backed(start, start + size, VM_PROT_DEFAULT, mach_abi::VM_PROT_ALL, wired) {
            let _ = frame::free_contiguous(first, pages);
            task.vm.uncharge(pages);
            return Err(error.into());
        }
        for index in 0..pages {
            let frame = crate::memory::Frame::from_number(first.number() + index);
            frame.zero();
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
        // The record is the frames' second owner (see `DmaRegion`).
        for index in 0..pages {
            share::share(crate::memory::Frame::from_number(first.number() + index));
        }
        kernel.devices.dma.push(DmaRegion { owner: caller.task, first, pages, release_at: None });
        Ok(())
    })
}

/// Most message-signalled interrupts one task may have bound at once.
pub const MSI_BINDINGS_PER_TASK: usize = 8;

/// One message-signalled interrupt bound to a port.
struct MsiBinding {
    /// The task that bound it: the only one that may acknowledge, rebind
    /// or unbind it, and the one it counts against.
    owner: TaskId,
    /// A send right the kernel holds to the port its messages go to.
    port: CarriedRight,
    /// A message was sent and not yet acknowledged: further interrupts only
    /// set `missed`.
    pending: bool,
    /// The device fired while a message was pending: acknowledging sends
    /// one more message at once, so no edge is lost.
    missed: bool,
}

/// DMA memory a task allocated. Its frames have one more owner than the
/// task's region: this record. When the task ends, the region gives its
/// frames up but the record keeps them for [`DMA_QUARANTINE`], so a device
/// the dead driver left running that finishes a request meanwhile writes
/// into memory nobody else has yet (there is no IOMMU to stop it).
struct DmaRegion {
    owner: TaskId,
    first: Frame,
    pages: usize,
    /// When the frames may go (uptime, nanoseconds): set once the owner
    /// has ended.
    release_at: Option<u64>,
}

/// How long a dead driver's DMA frames are kept from reuse.
pub const DMA_QUARANTINE: core::time::Duration = core::time::Duration::from_millis(500);
/// Most DMA allocations one task may have (each is up to `DMA_LIMIT`).
pub const DMA_REGIONS_PER_TASK: usize = 64;

/// The device layer's state: where interrupts go (the I/O APIC lines and
/// the message-signalled vectors, each bound to a port through a
/// kernel-held send right) and the DMA memory handed out.
pub struct Devices {
    lines: [Option<CarriedRight>; crate::arch::interrupt_lines::LINE_COUNT as usize],
    msi: [Option<MsiBinding>; msi::VECTOR_COUNT],
    /// How many entries of both tables are bound (the sweep after IPC
    /// changes costs nothing while it is zero and no DMA memory is out).
    bound: usize,
    dma: alloc::vec::Vec<DmaRegion>,
    /// `Ipc::receivers_changed` at the last sweep of `release_dead_bindings`
    /// (None: never).
    swept_at: Option<u64>,
}

impl Default for Devices {
    fn default() -> Self {
        Self {
            lines: [const { None }; crate::arch::interrupt_lines::LINE_COUNT as usize],
            msi: [const { None }; msi::VECTOR_COUNT],
            bound: 0,
            dma: alloc::vec::Vec::new(),
            swept_at: None,
        }
    }
}

/// What an interrupt number (a trap argument) names.
#[derive(Clone, Copy)]
enum Interrupt {
    /// An I/O APIC line, 0..24.
    Line(u32),
    /// A message-signalled vector's slot.
    Msi(usize),
}

fn interrupt_of(number: u64) -> Result<Interrupt, KernReturn> {
    if number < crate::arch::interrupt_lines::LINE_COUNT as u64 {
        return Ok(Interrupt::Line(number as u32));
    }
    msi::index_of_vector(number).map(Interrupt::Msi).ok_or(KernReturn::InvalidArgument)
}

/// The port behind a kernel-held right, if it is still alive.
fn live_port(kernel: &Kernel, right: &CarriedRight) -> Option<mach_ipc::PortId> {
    let (port, _) = right.port()?;
    kernel.ipc.port(port).filter(|object| object.is_alive()).map(|_| port)
}

/// Queues an `INTERRUPT_MESSAGE_ID` message whose body is `number` on
/// `port`. A port that died meanwhile gets nothing.
fn send_interrupt_message(kernel: &mut Kernel, port: mach_ipc::PortId, number: u32) {
    let Ok(destination) = kernel.ipc.make_send(port) else { return };
    let message =
        mach_ipc::KernelMessage::from_kernel(destination, INTERRUPT_MESSAGE_ID, None, number.to_le_bytes().to_vec())
            .expect("an interrupt message is tiny");
    if let Some(outcome) = kernel.ipc.send_kernel_message(message) {
        crate::ipc::deliver_outcome(kernel, outcome);
    }
}

/// A copy of the send right `name` in the caller's space, refused unless
/// its port is alive.
fn copy_live_send_right(kernel: &mut Kernel, space: mach_ipc::SpaceId, name: u64) -> Result<CarriedRight, KernReturn> {
    let name = u32::try_from(name).map_err(|_| KernReturn::InvalidName)?;
    let (right, _) = kernel.ipc.extract_right(space, name, mach_abi::Disposition::CopySend as u32)?;
    if live_port(kernel, &right).is_none() {
        kernel.ipc.release(right);
        return Err(KernReturn::InvalidRight);
    }
    Ok(right)
}

/// `interrupt_bind(device, interrupt, port)`: binds an I/O APIC line
/// (0..24) to `port`, or rebinds a message-signalled interrupt the caller
/// owns; `MACH_PORT_NULL` unbinds either (masking the line, freeing the
/// vector).
pub fn interrupt_bind([device, number, port, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        let interrupt = interrupt_of(number)?;
        if let Interrupt::Msi(index) = interrupt {
            owned_binding(kernel, caller.task, index)?;
        }
        let handler = if port == 0 { None } else { Some(copy_live_send_right(kernel, caller.space, port)?) };
        match interrupt {
            Interrupt::Line(line) => {
                let bound = handler.is_some();
                let previous = core::mem::replace(&mut kernel.devices.lines[line as usize], handler);
                match (&previous, bound) {
                    (None, true) => kernel.devices.bound += 1,
                    (Some(_), false) => kernel.devices.bound -= 1,
                    _ => {}
                }
                if let Some(previous) = previous {
                    kernel.ipc.release(previous);
                }
                if bound {
                    crate::arch::interrupt_lines::unmask(line);
                } else {
                    crate::arch::interrupt_lines::mask(line);
                }
            }
            Interrupt::Msi(index) => match handler {
                Some(right) => {
                    let binding = kernel.devices.msi[index].as_mut().expect("owned_binding checked it");
                    let previous = core::mem::replace(&mut binding.port, right);
                    kernel.ipc.release(previous);
                }
                None => unbind_msi(kernel, index),
            },
        }
        crate::ipc::settle(kernel);
        Ok(())
    })
}

/// The binding in slot `index`, if `task` owns it.
fn owned_binding(kernel: &mut Kernel, task: TaskId, index: usize) -> Result<&mut MsiBinding, KernReturn> {
    match kernel.devices.msi[index].as_mut() {
        Some(binding) if binding.owner == task => Ok(binding),
        Some(_) => Err(KernReturn::NoAccess),
        None => Err(KernReturn::InvalidArgument),
    }
}

fn unbind_msi(kernel: &mut Kernel, index: usize) {
    if let Some(binding) = kernel.devices.msi[index].take() {
        kernel.devices.bound -= 1;
        kernel.ipc.release(binding.port);
    }
}

/// `interrupt_bind_msi(device, port, address_out, data_out)`: takes a free
/// vector, binds it to `port` for the caller, and writes the MSI address
/// (`u64`) and data (`u32`) its device must send. The interrupt number of
/// the binding is the data's low byte (its vector).
pub fn interrupt_bind_msi([device, port, address_out, data_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        if msi::VECTOR_COUNT == 0 {
            // An architecture whose devices interrupt through lines only
            // (aarch64's virt board: virtio-mmio): nothing to hand out.
            return Err(KernReturn::NotSupported);
        }
        if port == 0 {
            // Unbinding names the binding: interrupt_bind(device, interrupt, NULL).
            return Err(KernReturn::InvalidArgument);
        }
        {
            let mut space = kernel.user_space(caller.task)?;
            user::check_writable(&mut space, UserBuffer::new(address_out, 8))?;
            user::check_writable(&mut space, UserBuffer::new(data_out, 4))?;
        }
        // Bindings whose port died or whose owner ended are free again
        // (settle frees them and delivers what releasing them caused).
        crate::ipc::settle(kernel);
        let owned = kernel.devices.msi.iter().flatten().filter(|binding| binding.owner == caller.task).count();
        if owned >= MSI_BINDINGS_PER_TASK {
            return Err(KernReturn::ResourceShortage);
        }
        let index = kernel.devices.msi.iter().position(Option::is_none).ok_or(KernReturn::NoSpace)?;
        let right = copy_live_send_right(kernel, caller.space, port)?;
        let vector = msi::vector_of(index);
        let (address, data) = (msi::message_address(), msi::message_data(vector));
        let mut space = kernel.user_space(caller.task)?;
        let written = user::copy_to_user(&mut space, UserBuffer::new(address_out, 8), &address.to_le_bytes())
            .and_then(|()| user::copy_to_user(&mut space, UserBuffer::new(data_out, 4), &data.to_le_bytes()));
        if let Err(error) = written {
            kernel.ipc.release(right);
            crate::ipc::settle(kernel);
            return Err(error.into());
        }
        kernel.devices.msi[index] = Some(MsiBinding { owner: caller.task, port: right, pending: false, missed: false });
        kernel.devices.bound += 1;
        Ok(())
    })
}

/// `interrupt_acknowledge(device, interrupt)`: a line is unmasked; a
/// message-signalled interrupt may send its next message (at once, if the
/// device fired meanwhile).
pub fn interrupt_acknowledge([device, number, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, device)?;
        match interrupt_of(number)? {
            Interrupt::Line(line) => {
                if kernel.devices.lines[line as usize].is_none() {
                    return Err(KernReturn::InvalidArgument);
                }
                crate::arch::interrupt_lines::unmask(line);
            }
            Interrupt::Msi(index) => {
                let binding = owned_binding(kernel, caller.task, index)?;
                if !binding.missed {
                    binding.pending = false;
                    return Ok(());
                }
                binding.missed = false;
                if let Some(port) = live_port(kernel, &kernel.devices.msi[index].as_ref().expect("owned").port) {
                    send_interrupt_message(kernel, port, msi::vector_of(index) as u32);
                }
                crate::ipc::settle(kernel);
            }
        }
        Ok(())
    })
}

/// Called by the architecture for an interrupt of `line` (already masked):
/// sends the message to the bound port, or leaves the line masked.
pub fn interrupt(line: u32) {
    let delivered = with_kernel(|kernel| {
        let Some(port) =
            kernel.devices.lines.get(line as usize).and_then(Option::as_ref).and_then(|right| live_port(kernel, right))
        else {
            return false;
        };
        send_interrupt_message(kernel, port, line);
        crate::ipc::settle(kernel);
        true
    });
    if delivered {
        crate::scheduler::preempt_if_needed();
    }
}

/// Called by the architecture for a message-signalled interrupt on
/// `vector` (already acknowledged to the local APIC): one message per
/// acknowledgement, the rest remembered.
pub fn message_signalled_interrupt(vector: u8) {
    let delivered = with_kernel(|kernel| {
        let Some(index) = msi::index_of_vector(vector as u64) else { return false };
        let Some(binding) = kernel.devices.msi[index].as_mut() else {
            // A device still programmed with a freed vector: nobody to tell.
            return false;
        };
        if binding.pending {
            binding.missed = true;
            return false;
        }
        binding.pending = true;
        let Some(port) = live_port(kernel, &kernel.devices.msi[index].as_ref().expect("bound").port) else {
            return false;
        };
        send_interrupt_message(kernel, port, vector as u32);
        crate::ipc::settle(kernel);
        true
    });
    if delivered {
        crate::scheduler::preempt_if_needed();
    }
}

/// How many message-signalled interrupts are bound (the kernel tests
/// check that a driver's end frees its vectors).
pub fn message_signalled_bindings(kernel: &Kernel) -> usize {
    kernel.devices.msi.iter().flatten().count()
}

/// How many interrupts (lines and message-signalled vectors) are bound.
#[cfg(feature = "ktest")]
pub fn bound_interrupts(kernel: &Kernel) -> usize {
    kernel.devices.bound
}

/// How many frames of ended tasks' DMA memory are held back from reuse.
pub fn quarantined_frames(kernel: &Kernel) -> usize {
    kernel.devices.dma.iter().filter(|region| region.release_at.is_some()).map(|region| region.pages).sum()
}

fn owner_ended(kernel: &Kernel, owner: TaskId) -> bool {
    kernel.tasks.get(owner).is_none_or(|task| task.terminated)
}

/// Starts the quarantine of ended tasks' DMA memory and frees what has
/// served its time.
fn release_dead_dma(kernel: &mut Kernel) {
    let now = crate::time::uptime().as_nanos() as u64;
    let quarantine = DMA_QUARANTINE.as_nanos() as u64;
    for index in 0..kernel.devices.dma.len() {
        let region = &kernel.devices.dma[index];
        if region.release_at.is_none() && owner_ended(kernel, region.owner) {
            kernel.devices.dma[index].release_at = Some(now + quarantine);
        }
    }
    kernel.devices.dma.retain(|region| {
        let expired = region.release_at.is_some_and(|deadline| now >= deadline);
        if expired {
            for page in 0..region.pages {
                share::release(Frame::from_number(region.first.number() + page));
            }
        }
        !expired
    });
}

/// Frees every binding whose port died or whose owner task is gone (lines
/// are masked again, vectors become free), and ended tasks' DMA memory
/// after its quarantine. Run by `ipc::settle` after every change that may
/// destroy ports or end tasks; nothing to do while nothing is bound or
/// allocated.
pub fn release_dead_bindings(kernel: &mut Kernel) {
    // A binding dies with its port, DMA memory with its owner, whose task
    // port is destroyed as it ends: unless a port went since the last
    // sweep, only memory in quarantine may have something to do (the sweep
    // of every line and vector on each IPC change was a fifth of a
    // fork+exit+wait).
    let changed = kernel.ipc.receivers_changed();
    let quarantined = kernel.devices.dma.iter().any(|region| region.release_at.is_some());
    if kernel.devices.swept_at == Some(changed) && !quarantined {
        return;
    }
    kernel.devices.swept_at = Some(changed);
    if !kernel.devices.dma.is_empty() {
        release_dead_dma(kernel);
    }
    if kernel.devices.bound == 0 {
        return;
    }
    for line in 0..kernel.devices.lines.len() {
        let dead = kernel.devices.lines[line].as_ref().is_some_and(|right| live_port(kernel, right).is_none());
        if dead {
            let right = kernel.devices.lines[line].take().expect("checked");
            kernel.devices.bound -= 1;
            kernel.ipc.release(right);
            crate::arch::interrupt_lines::mask(line as u32);
        }
    }
    #[allow(clippy::reversed_empty_ranges)] // an architecture may have no vectors (aarch64)
    for index in 0..msi::VECTOR_COUNT {
        let dead = kernel.devices.msi[index]
            .as_ref()
            .is_some_and(|binding| live_port(kernel, &binding.port).is_none() || owner_ended(kernel, binding.owner));
        if dead {
            unbind_msi(kernel, index);
        }
    }
}

/// `host_power_off(host, status)`: the machine goes off (the holder of the
/// privileged host port: the bootstrap task when a critical program ends),
/// telling QEMU `status` where the board can (test kernels on aarch64:
/// semihosting; x86_64: isa-debug-exit). Returns only if it stayed on:
/// `KERN_FAILURE`.
pub fn host_power_off([host, status, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        check_device_port(kernel, caller.space, host)
    })?;
    let status = status as u8;
    log::info!("powering off (status {status}), as the holder of the host port asked");
    crate::arch::power_off(status);
    Err(KernReturn::Failure)
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
        if crate::arch::MAX_IO_RANGES == 0 {
            // No port I/O on this architecture (aarch64: every device is
            // memory mapped, see device_map_memory).
            return Err(KernReturn::NotSupported);
        }
        let task_id = match target {
            mach_abi::MACH_PORT_NULL => caller.task,
            name => crate::ipc::object::task_named(kernel, caller.space, name)?,
        };
        let task = kernel.tasks.get_mut(task_id).ok_or(KernReturn::InvalidTask)?;
        #[allow(clippy::absurd_extreme_comparisons)] // MAX_IO_RANGES is 0 where there is no port I/O
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
