//! Reads the device tree QEMU passes (x0 at entry) into a [`BootInfo`] and
//! the addresses of the devices the kernel drives.
//!
//! Everything is copied out while the boot tables' direct map of the first
//! 8 GiB is up; the blob's memory is then reserved in the memory map along
//! with the initrd, whose boot-module archive (`boot_info::read_module_archive`)
//! gives the modules. Every address is checked to lie in that early map and
//! every size to fit, so a bad tree stops the boot with an error.

use super::interrupts::Controller;
use super::paging::{self, EARLY_DIRECT_MAP_END};
use crate::boot_info::{self, bounded_string, BootInfo, MemoryRegion, RegionKind};
use crate::memory::{PhysicalAddress, PhysicalRange};

/// The devices the kernel uses or hands on, from the tree.
#[derive(Clone, Debug)]
pub struct Devices {
    pub uart: PhysicalAddress,
    /// The UART's shared peripheral interrupt, if the tree gives one.
    pub uart_line: Option<u32>,
    pub interrupt_controller: Controller,
    pub rtc: Option<PhysicalAddress>,
    /// virtio-mmio transports: register page and device line (SPI).
    pub virtio: heapless::Vec<(PhysicalAddress, u32), 32>,
    /// How to call PSCI (the firmware interface that powers off), if the
    /// tree has it.
    pub psci: Option<PsciConduit>,
}

/// The instruction that reaches PSCI (the `/psci` node's `method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    Hypervisor,
    SecureMonitor,
}

#[derive(Debug)]
#[allow(dead_code)] // the fields are read through Debug in the boot error report
pub enum BootError {
    /// No device tree where x0 points, or not a valid one.
    BadDeviceTree(u64),
    /// A range the tree names lies outside the early direct map.
    OutOfReach(u64),
    NoMemory,
    NoUart,
    NoInterruptController,
    /// The initrd (the boot-module archive) is malformed.
    Modules(boot_info::ArchiveError),
}

const MAX_TREE_SIZE: u64 = 2 << 20;

fn bytes_at(address: u64, size: u64) -> Result<&'static [u8], BootError> {
    let end = address.checked_add(size).ok_or(BootError::OutOfReach(address))?;
    if end > EARLY_DIRECT_MAP_END.0 || address < paging::RAM_BASE {
        return Err(BootError::OutOfReach(address));
    }
    // SAFETY: `address..end` is RAM below 8 GiB, which the boot tables map
    // at the direct-map base; the loader's blob is only read, and the
    // kernel reserves its frames before the frame allocator hands any out.
    Ok(unsafe {
        core::slice::from_raw_parts(paging::direct_map_address(PhysicalAddress(address)) as *const u8, size as usize)
    })
}

fn first_reg(node: &fdt::node::FdtNode) -> Option<(u64, u64)> {
    let region = node.reg()?.next()?;
    Some((region.starting_address as u64, region.size.unwrap_or(0) as u64))
}

pub fn parse(address: u64) -> Result<(BootInfo, Devices), BootError> {
    let header = bytes_at(address, 8).map_err(|_| BootError::BadDeviceTree(address))?;
    let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as u64;
    if !(40..=MAX_TREE_SIZE).contains(&size) {
        return Err(BootError::BadDeviceTree(address));
    }
    let blob = bytes_at(address, size)?;
    let tree = fdt::Fdt::new(blob).map_err(|_| BootError::BadDeviceTree(address))?;

    let mut boot = BootInfo {
        kernel_image: paging::kernel_image_physical_range(),
        loader_name: bounded_string("QEMU (arm64 Image, device tree)"),
        ..BootInfo::default()
    };
    if let Some(arguments) = tree.chosen().bootargs() {
        boot.command_line = bounded_string(arguments);
    }
    for node in tree.all_nodes().filter(|node| node.name.starts_with("memory")) {
        for region in node.reg().into_iter().flatten() {
            let start = region.starting_address as u64;
            let end = start.saturating_add(region.size.unwrap_or(0) as u64);
            let entry = MemoryRegion { range: PhysicalRange::new(start, end), kind: RegionKind::Usable };
            if boot.memory_map.push(entry).is_err() {
                log::warn!("device tree memory map has more than {} entries; ignoring the rest", boot.memory_map.len());
            }
        }
    }
    if boot.memory_map.is_empty() {
        return Err(BootError::NoMemory);
    }
    let reserve = |boot: &mut BootInfo, start: u64, end: u64| {
        let _ =
            boot.memory_map.push(MemoryRegion { range: PhysicalRange::new(start, end), kind: RegionKind::Reserved });
    };
    reserve(&mut boot, address, address + size);

    let chosen = tree.find_node("/chosen");
    let initrd = chosen.as_ref().and_then(|node| {
        let start = node.property("linux,initrd-start")?.as_usize()? as u64;
        let end = node.property("linux,initrd-end")?.as_usize()? as u64;
        Some((start, end))
    });
    if let Some((start, end)) = initrd.filter(|(start, end)| end > start) {
        let archive = bytes_at(start, end - start)?;
        boot_info::read_module_archive(archive, start, &mut boot.modules).map_err(BootError::Modules)?;
        // The archive's header pages: the modules themselves are reserved
        // as modules.
        reserve(&mut boot, start, end);
    }

    let uart_node = tree.find_compatible(&["arm,pl011"]).ok_or(BootError::NoUart)?;
    let uart = first_reg(&uart_node).map(|(start, _)| PhysicalAddress(start)).ok_or(BootError::NoUart)?;
    let uart_line = spi_of(&uart_node);
    let interrupt_controller = if let Some(node) = tree.find_compatible(&["arm,gic-v3"]) {
        let mut regions = node.reg().ok_or(BootError::NoInterruptController)?;
        let distributor = regions.next().ok_or(BootError::NoInterruptController)?.starting_address as u64;
        let redistributor = regions.next().ok_or(BootError::NoInterruptController)?.starting_address as u64;
        Controller::Version3 {
            distributor: PhysicalAddress(distributor),
            redistributor: PhysicalAddress(redistributor),
        }
    } else if let Some(node) = tree.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400"]) {
        let mut regions = node.reg().ok_or(BootError::NoInterruptController)?;
        let distributor = regions.next().ok_or(BootError::NoInterruptController)?.starting_address as u64;
        let cpu_interface = regions.next().ok_or(BootError::NoInterruptController)?.starting_address as u64;
        Controller::Version2 {
            distributor: PhysicalAddress(distributor),
            cpu_interface: PhysicalAddress(cpu_interface),
        }
    } else {
        return Err(BootError::NoInterruptController);
    };
    let rtc =
        tree.find_compatible(&["arm,pl031"]).and_then(|node| first_reg(&node)).map(|(start, _)| PhysicalAddress(start));
    let mut virtio = heapless::Vec::new();
    for node in tree
        .all_nodes()
        .filter(|node| node.compatible().is_some_and(|compatible| compatible.all().any(|name| name == "virtio,mmio")))
    {
        let (Some((start, _)), Some(line)) = (first_reg(&node), spi_of(&node)) else { continue };
        let _ = virtio.push((PhysicalAddress(start), line));
    }
    // The tree lists transports from the highest address down; drivers
    // number them from the lowest.
    virtio.sort_unstable_by_key(|(address, _)| address.0);
    let psci = tree.find_node("/psci").and_then(|node| node.property("method")).and_then(|method| {
        match method.value.strip_suffix(&[0]).unwrap_or(method.value) {
            b"hvc" => Some(PsciConduit::Hypervisor),
            b"smc" => Some(PsciConduit::SecureMonitor),
            _ => None,
        }
    });
    Ok((boot, Devices { uart, uart_line, interrupt_controller, rtc, virtio, psci }))
}

/// The SPI number of a node's first interrupt (`<0 N flags>`).
fn spi_of(node: &fdt::node::FdtNode) -> Option<u32> {
    let cells = node.property("interrupts")?.value;
    if cells.len() < 8 || cells[0..4] != [0, 0, 0, 0] {
        return None;
    }
    Some(u32::from_be_bytes([cells[4], cells[5], cells[6], cells[7]]))
}

static DEVICES: spin::Once<Devices> = spin::Once::new();

/// Keeps the device list (for the boot log and the device traps).
pub fn record_devices(devices: Devices) {
    let devices = DEVICES.call_once(|| devices);
    log::info!("devices: PL011 at {:#x}, {} virtio-mmio transport(s)", devices.uart, devices.virtio.len());
}

/// The devices user space drives, for the bootstrap task's device list
/// (`mach_abi::BootDevice`): the UART, the RTC and every virtio-mmio
/// transport, at most `mach_abi::BOOTSTRAP_DEVICES_MAX` of them.
pub fn boot_devices() -> alloc::vec::Vec<mach_abi::BootDevice> {
    use mach_abi::{BootDevice, BOOT_DEVICE_NO_LINE, BOOT_DEVICE_RTC, BOOT_DEVICE_UART, BOOT_DEVICE_VIRTIO_MMIO};
    let Some(devices) = DEVICES.get() else { return alloc::vec::Vec::new() };
    let uart = BootDevice {
        kind: BOOT_DEVICE_UART,
        line: devices.uart_line.unwrap_or(BOOT_DEVICE_NO_LINE),
        address: devices.uart.0,
    };
    let rtc =
        devices.rtc.map(|address| BootDevice { kind: BOOT_DEVICE_RTC, line: BOOT_DEVICE_NO_LINE, address: address.0 });
    let virtio = devices.virtio.iter().map(|&(address, line)| BootDevice {
        kind: BOOT_DEVICE_VIRTIO_MMIO,
        line,
        address: address.0,
    });
    core::iter::once(uart).chain(rtc).chain(virtio).take(mach_abi::BOOTSTRAP_DEVICES_MAX).collect()
}

/// PSCI's SYSTEM_OFF function (PSCI 0.2+, SMC32 calling convention).
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

/// Asks the firmware to power the machine off; returns only if the tree
/// names no PSCI conduit or the call came back.
pub fn psci_system_off() {
    let Some(conduit) = DEVICES.get().and_then(|devices| devices.psci) else {
        log::warn!("no PSCI in the device tree: the machine cannot power itself off");
        return;
    };
    // SAFETY: SYSTEM_OFF takes no arguments and does not return on success;
    // if it does, x0 holds its error code and x1..x17 may have changed
    // (SMC Calling Convention 1.0), which the C ABI's clobbers cover.
    unsafe {
        match conduit {
            PsciConduit::Hypervisor => {
                core::arch::asm!("hvc #0", in("x0") PSCI_SYSTEM_OFF, clobber_abi("C"), options(nomem, nostack))
            }
            PsciConduit::SecureMonitor => {
                core::arch::asm!("smc #0", in("x0") PSCI_SYSTEM_OFF, clobber_abi("C"), options(nomem, nostack))
            }
        }
    }
    log::warn!("PSCI's SYSTEM_OFF came back: the machine stays on");
}

/// The virtio-mmio transports the board has: register page and line.
pub fn virtio_transports() -> &'static [(PhysicalAddress, u32)] {
    DEVICES.get().map(|devices| devices.virtio.as_slice()).unwrap_or(&[])
}
