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
    let mut blocks = 0;
    for function in pci::enumerate(&PortConfigurationAccess) {
        let Some(kind) = mach_virtio_core::transport::device_kind(&function) else { continue };
        let Some(name) = name_for(kind, &devices, &mut blocks) else { continue };
        let brought_up = setup::bring_up(host, &function, kind, interrupt_port);
        add_device(&mut devices, name, &function.address, brought_up);
    }
    devices
}

/// QEMU's virt board: 32 virtio-mmio transports of 0x200 bytes from
/// 0x0a00_0000, transport `i` on line 16 + `i` (hw/arm/virt.c; the
/// kernel's device tree says the same). The first `-device` on the
/// command line takes the highest address, so the driver probes from the
/// top down: the disks are numbered in command-line order, as on x86_64.
#[cfg(target_arch = "aarch64")]
mod board {
    pub const VIRTIO_MMIO_BASE: u64 = 0x0a00_0000;
    pub const VIRTIO_MMIO_COUNT: usize = 32;
    pub const VIRTIO_MMIO_FIRST_LINE: u32 = 16;
}

/// Finds and starts every block device and the first entropy device
/// behind the board's virtio-mmio transports.
#[cfg(target_arch = "aarch64")]
fn bring_up_devices(host: PortName, interrupt_port: PortName) -> Vec<Device> {
    use alloc::rc::Rc;
    use mach_virtio_core::memory::Part;
    use mach_virtio_core::transport::{mmio, MmioProbe, Transport};
    let mut devices = Vec::new();
    let size = (board::VIRTIO_MMIO_COUNT * mmio::WINDOW) as u64;
    let windows = match libmach::device::map_memory(host, board::VIRTIO_MMIO_BASE, size) {
        Ok(windows) => Rc::new(windows),
        Err(error) => {
            println!("virtio: cannot map the virtio-mmio windows at {:#x}: {error:?}", board::VIRTIO_MMIO_BASE);
            return devices;
        }
    };
    let mut blocks = 0;
    for index in (0..board::VIRTIO_MMIO_COUNT).rev() {
        let physical = board::VIRTIO_MMIO_BASE + (index * mmio::WINDOW) as u64;
        let place = format!("virtio-mmio {physical:#x}");
        let Some(window) = Part::new(windows.clone(), index * mmio::WINDOW, mmio::WINDOW) else { continue };
        let (transport, kind) = match Transport::new_mmio(window) {
            Ok((_, MmioProbe::Empty)) => continue,
            Ok((transport, MmioProbe::Device(kind))) => (transport, kind),
            Err(error) => {
                println!("virtio: {place}: not a transport the driver takes: {error:?}");
                continue;
            }
        };
        let Some(name) = name_for(kind, &devices, &mut blocks) else { continue };
        let line = board::VIRTIO_MMIO_FIRST_LINE + index as u32;
        let brought_up = setup::bring_up_mmio(host, transport, kind, line, interrupt_port);
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
