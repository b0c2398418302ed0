//! The virtio driver task: serves every virtio block device as `block`,
//! `block1`, ... (in PCI order on x86_64, in QEMU command-line order of
//! the virtio-mmio devices on aarch64) and the first entropy device as
//! `random`.
//!
//! The bootstrap task starts it from the boot manifest's line
//! (`virtio registers=block,block1,...,random host-port`): its first
//! argument names its bootstrap port, the auxiliary vector the host port
//! (`libmach::runtime::host_port`). It
//!
//! 1. x86_64: takes PCI configuration space (I/O ports 0xcf8..0xd00) for
//!    itself and enumerates the buses; aarch64: maps the virt board's
//!    virtio-mmio windows and probes each;
//! 2. brings each device up (`setup.rs`): BARs mapped, MSI-X aimed at a
//!    vector the kernel bound to the driver's interrupt port (PCI), or the
//!    transport's line bound to that port (virtio-mmio), rings in DMA
//!    memory, and a reset first, so a restarted driver starts clean;
//! 3. registers the names, then serves the devices' ports and the
//!    interrupt port from one port set on its one thread (`driver.rs`):
//!    requests are answered later, through their kept reply rights, when
//!    the device has done them, so many are in flight at once.
//!
//! docs/block-driver.md has the protocol, the device setup and the
//! interrupt handshake.
#![no_std]
#![no_main]

extern crate alloc;

mod driver;
mod heap;
mod setup;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use driver::{Driver, REQUESTS_MAX, SLOTS, SLOT_DATA};
use libmach::abi::{Disposition, PortName};
use libmach::trap::{port_insert_right, task_self};
use libmach::{PortSet, ReceiveRight, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use mach_virtio_core::transport::DeviceKind;
use setup::{Device, Service};

libmach::entry!(main);

/// A new receive right with a send right under the same name.
fn port_with_send_right() -> Result<PortName, libmach::abi::KernReturn> {
    let port = ReceiveRight::allocate(&SystemKernel)?.into_name();
    port_insert_right(task_self(), port, port, Disposition::MakeSend as u32)?;
    Ok(port)
}

fn main(bootstrap_port: u64) {
    let bootstrap = bootstrap_port as PortName;
    let Some(host) = libmach::runtime::host_port() else {
        println!("virtio: no host port: its boot manifest line needs `host-port`");
        return;
    };
    if !heap::init() {
        println!("virtio: no memory for a heap");
        return;
    }
    let Ok(interrupt_port) = port_with_send_right() else {
        println!("virtio: no interrupt port");
        return;
    };
    let devices = bring_up_devices(host, interrupt_port);
    if devices.is_empty() {
        println!("virtio: no virtio block or entropy device to serve");
        return;
    }
    let Some(held_max) = held_requests() else { return };
    let Some(mut driver) = prepare(host, interrupt_port, devices, held_max) else { return };
    register_names(bootstrap, &driver);
    driver.serve();
}

/// The most requests to hold: `REQUESTS_MAX`, or `--held-requests N`
/// (1..=`REQUESTS_MAX`) from the arguments; `None` for arguments it does
/// not understand (said on the console).
fn held_requests() -> Option<usize> {
    let mut arguments = libmach::runtime::arguments().skip(1);
    let mut held = REQUESTS_MAX;
    while let Some(argument) = arguments.next() {
        let value = arguments.next().and_then(|value| core::str::from_utf8(value).ok()?.parse::<usize>().ok());
        match (argument, value) {
            (b"--held-requests", Some(value)) if (1..=REQUESTS_MAX).contains(&value) => held = value,
            _ => {
                println!("virtio: arguments: --held-requests N (1..={REQUESTS_MAX}), nothing else");
                return None;
            }
        }
    }
    Some(held)
}

/// The name the next device of `kind` is served under, if it is served:
/// every block device, the first entropy device.
fn name_for(kind: DeviceKind, devices: &[Device], blocks: &mut usize) -> Option<String> {
    let name = match kind {
        DeviceKind::Block if *blocks == 0 => "block".into(),
        DeviceKind::Block => format!("block{blocks}"),
        DeviceKind::Entropy if !devices.iter().any(|device| device.service == Service::Entropy) => "random".into(),
        _ => return None,
    };
    if kind == DeviceKind::Block {
        *blocks += 1;
    }
    Some(name)
}

/// Adds the device brought up as `name` (found at `place`) to `devices`,
/// or says why it cannot be.
fn add_device(
    devices: &mut Vec<Device>,
    name: String,
    place: &dyn core::fmt::Display,
    brought_up: Result<(Service, u32, setup::DeviceState), setup::SetupError>,
) {
    let port = ReceiveRight::allocate(&SystemKernel);
    match (brought_up, port) {
        (Ok((service, interrupt, state)), Ok(port)) => {
            match service {
                Service::Block(geometry) => println!(
                    "virtio: {name}: virtio-blk at {place}, {} blocks of {} bytes{}, interrupt {interrupt}",
                    geometry.block_count,
                    geometry.block_size,
                    if geometry.read_only { ", read-only" } else { "" }
                ),
                Service::Entropy => println!("virtio: {name}: virtio-rng at {place}, interrupt {interrupt}"),
            }
            devices.push(Device { name, interrupt, service, port, state });
        }
        (Err(error), _) => println!("virtio: {name}: cannot drive the device at {place}: {error:?}"),
        (_, Err(error)) => println!("virtio: {name}: no port: {error:?}"),
    }
}

/// Finds and starts every block device and the first entropy device on
/// the PCI buses.
#[cfg(target_arch = "x86_64")]
fn bring_up_devices(host: PortName, interrupt_port: PortName) -> Vec<Device> {
    use mach_virtio_core::pci::{self, PortConfigurationAccess, CONFIGURATION_PORTS};
    let mut devices = Vec::new();
    if let Err(error) = libmach::device::io_port_access(host, CONFIGURATION_PORTS.0, CONFIGURATION_PORTS.1) {
        println!("virtio: cannot take PCI configuration space (I/O ports 0xcf8..0xd00): {error:?}");
        return devices;
    }
    let functions = pci::enumerate(&PortConfigurationAccess);
    place_unassigned_bars(&functions);
    let mut blocks = 0;
    for function in functions {
        let Some(kind) = mach_virtio_core::transport::device_kind(&function) else { continue };
        let Some(name) = name_for(kind, &devices, &mut blocks) else { continue };
        let brought_up = setup::bring_up(host, &function, kind, interrupt_port);
        add_device(&mut devices, name, &function.address, brought_up);
    }
    devices
}

/// QEMU q35's 32-bit PCI hole: its RAM below 4 GiB ends by 0xb000_0000,
/// PCI Express configuration space (MMCONFIG) takes the next 256 MiB, and
/// the I/O APIC starts at 0xfec0_0000. The board describes this window
/// only in ACPI (the host bridge's _CRS), which nothing here reads.
#[cfg(target_arch = "x86_64")]
const PCI_MEMORY_WINDOW: mach_virtio_core::bar_assignment::Window =
    mach_virtio_core::bar_assignment::Window { start: 0xc000_0000, end: 0xfec0_0000 };

/// Gives an address to every memory BAR a minimal firmware (qboot) left
/// empty, before any device is set up (docs/block-driver.md).
#[cfg(target_arch = "x86_64")]
fn place_unassigned_bars(functions: &[mach_virtio_core::pci::Function]) {
    use mach_virtio_core::bar_assignment::{assign_unassigned, Placement};
    use mach_virtio_core::pci::PortConfigurationAccess;
    for placement in assign_unassigned(&PortConfigurationAccess, functions, PCI_MEMORY_WINDOW) {
        match placement {
            Placement::Placed(bar) => {
                println!(
                    "virtio: {} BAR {}: {} KiB placed at {:#x}",
                    bar.function,
                    bar.index,
                    bar.size / 1024,
                    bar.base
                )
            }
            Placement::NoRoom(bar) => {
                println!(
                    "virtio: {} BAR {}: no room for {} KiB: left unassigned",
                    bar.function,
                    bar.index,
                    bar.size / 1024
                )
            }
            Placement::BehindBridge(bar) | Placement::OutOfReach(bar) => {
                println!("virtio: {} BAR {}: behind a bridge or out of reach: left unassigned", bar.function, bar.index)
            }
        }
    }
}

/// The virtio-mmio transports the kernel found in the device tree (the
/// bootstrap task tells us each one's address and line, `AT_MACH_DEVICE`;
/// on QEMU's virt board 32 of 0x200 bytes from 0x0a00_0000, transport `i`
/// on line 16 + `i`). The first `-device` on the command line takes the
/// highest address, so the driver probes from the top down: the disks are
/// numbered in command-line order, as on x86_64.
#[cfg(target_arch = "aarch64")]
fn mmio_transports() -> Vec<libmach::abi::BootDevice> {
    use libmach::abi::{BOOT_DEVICE_NO_LINE, BOOT_DEVICE_VIRTIO_MMIO};
    let mut transports: Vec<_> = libmach::runtime::devices()
        .filter(|device| device.kind == BOOT_DEVICE_VIRTIO_MMIO)
        .filter(|device| {
            let usable = device.line != BOOT_DEVICE_NO_LINE;
            if !usable {
                println!("virtio: the virtio-mmio transport at {:#x} has no interrupt line: skipped", device.address);
            }
            usable
        })
        .collect();
    transports.sort_unstable_by_key(|device| core::cmp::Reverse(device.address));
    transports
}

/// Finds and starts every block device and the first entropy device
/// behind the board's virtio-mmio transports.
#[cfg(target_arch = "aarch64")]
fn bring_up_devices(host: PortName, interrupt_port: PortName) -> Vec<Device> {
    use alloc::rc::Rc;
    use mach_virtio_core::memory::Part;
    use mach_virtio_core::transport::{mmio, MmioProbe, Transport};
    const PAGE: u64 = 4096;
    let mut devices = Vec::new();
    let transports = mmio_transports();
    if transports.is_empty() {
        println!("virtio: the bootstrap task names no virtio-mmio transport (none in the device tree?)");
        return devices;
    }
    // Each register page is mapped once, however many transports share it.
    let mut pages: Vec<(u64, Rc<libmach::device::DeviceMemory>)> = Vec::new();
    let mut blocks = 0;
    for transport in transports {
        let physical = transport.address;
        let place = format!("virtio-mmio {physical:#x}");
        let page = physical - physical % PAGE;
        let offset = (physical - page) as usize;
        if offset + mmio::WINDOW > PAGE as usize {
            println!("virtio: {place}: its registers cross a page boundary: skipped");
            continue;
        }
        let memory = match pages.iter().find(|(address, _)| *address == page) {
            Some((_, memory)) => memory.clone(),
            None => match libmach::device::map_memory(host, page, PAGE) {
                Ok(memory) => {
                    let memory = Rc::new(memory);
                    pages.push((page, memory.clone()));
                    memory
                }
                Err(error) => {
                    println!("virtio: {place}: cannot map its registers: {error:?}");
                    continue;
                }
            },
        };
        let Some(window) = Part::new(memory, offset, mmio::WINDOW) else { continue };
        let (transport_registers, kind) = match Transport::new_mmio(window) {
            Ok((_, MmioProbe::Empty)) => continue,
            Ok((transport_registers, MmioProbe::Device(kind))) => (transport_registers, kind),
            Err(error) => {
                println!("virtio: {place}: not a transport the driver takes: {error:?}");
                continue;
            }
        };
        let Some(name) = name_for(kind, &devices, &mut blocks) else { continue };
        let brought_up = setup::bring_up_mmio(host, transport_registers, kind, transport.line, interrupt_port);
        add_device(&mut devices, name, &place, brought_up);
    }
    devices
}

/// The port set (every device's port and the interrupt port) and the DMA
/// memory of the request headers and slots; `None` if the kernel refuses
/// them.
fn prepare(host: PortName, interrupt_port: PortName, devices: Vec<Device>, held_max: usize) -> Option<Driver> {
    let port_set = match PortSet::allocate(&SystemKernel) {
        Ok(set) => set,
        Err(error) => {
            println!("virtio: no port set: {error:?}");
            return None;
        }
    };
    let joined = devices
        .iter()
        .try_for_each(|device| port_set.insert(&device.port))
        .and_then(|()| libmach::trap::port_move_member(task_self(), interrupt_port, port_set.name()));
    if let Err(error) = joined {
        println!("virtio: cannot serve the ports: {error:?}");
        return None;
    }
    let headers = libmach::device::dma_allocate(host, 4096);
    let slots: Result<Vec<_>, _> = (0..SLOTS).map(|_| libmach::device::dma_allocate(host, SLOT_DATA as u64)).collect();
    match (headers, slots) {
        (Ok(headers), Ok(slots)) => {
            Some(Driver::new(host, port_set, interrupt_port, devices, headers, slots, held_max))
        }
        (Err(error), _) | (_, Err(error)) => {
            println!("virtio: no DMA memory for requests: {error:?}");
            None
        }
    }
}

/// Registers each device's port under its name.
fn register_names(bootstrap: PortName, driver: &Driver) {
    let mut names = match names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap)) {
        Ok(client) => client,
        Err(error) => {
            println!("virtio: no name service: {error:?}");
            return;
        }
    };
    for device in &driver.devices {
        let registered = device
            .port
            .make_send()
            .map_err(|error| format!("{error:?}"))
            .and_then(|right| names.register_name(&device.name, &right).map_err(|error| format!("{error:?}")));
        match registered {
            Ok(()) => println!("virtio: serving {}", device.name),
            Err(error) => println!("virtio: cannot register {}: {error}", device.name),
        }
    }
}
