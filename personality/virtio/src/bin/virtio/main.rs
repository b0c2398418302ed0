//! The virtio driver task: serves every virtio block device as `block`,
//! `block1`, ... (in PCI order) and the first entropy device as `random`.
//!
//! The bootstrap task starts it from the boot manifest's line
//! (`virtio registers=block,block1,...,random host-port`): its first
//! argument names its bootstrap port, the auxiliary vector the host port
//! (`libmach::runtime::host_port`). It
//!
//! 1. takes PCI configuration space (I/O ports 0xcf8..0xd00) for itself and
//!    enumerates the buses;
//! 2. brings each device up (`setup.rs`): BARs mapped, MSI-X aimed at a
//!    vector the kernel bound to the driver's interrupt port, rings in DMA
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
use alloc::vec::Vec;
use driver::{Driver, REQUESTS_MAX, SLOTS, SLOT_DATA};
use libmach::abi::{Disposition, PortName};
use libmach::trap::{port_insert_right, task_self};
use libmach::{PortSet, ReceiveRight, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use mach_virtio_core::pci::{self, PortConfigurationAccess, CONFIGURATION_PORTS};
use mach_virtio_core::transport::{self, DeviceKind};
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
    if let Err(error) = libmach::device::io_port_access(host, CONFIGURATION_PORTS.0, CONFIGURATION_PORTS.1) {
        println!("virtio: cannot take PCI configuration space (I/O ports 0xcf8..0xd00): {error:?}");
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

/// Finds and starts every block device and the first entropy device.
fn bring_up_devices(host: PortName, interrupt_port: PortName) -> Vec<Device> {
    let mut devices = Vec::new();
    let mut blocks = 0;
    for function in pci::enumerate(&PortConfigurationAccess) {
        let Some(kind) = transport::device_kind(&function) else { continue };
        let name = match kind {
            DeviceKind::Block if blocks == 0 => "block".into(),
            DeviceKind::Block => format!("block{blocks}"),
            DeviceKind::Entropy if !devices.iter().any(|device: &Device| device.service == Service::Entropy) => {
                "random".into()
            }
            _ => continue,
        };
        if kind == DeviceKind::Block {
            blocks += 1;
        }
        let brought_up = setup::bring_up(host, &function, kind, interrupt_port);
        let port = ReceiveRight::allocate(&SystemKernel);
        match (brought_up, port) {
            (Ok((service, interrupt, state)), Ok(port)) => {
                match service {
                    Service::Block(geometry) => println!(
                        "virtio: {name}: virtio-blk at {}, {} blocks of {} bytes{}, interrupt {interrupt}",
                        function.address,
                        geometry.block_count,
                        geometry.block_size,
                        if geometry.read_only { ", read-only" } else { "" }
                    ),
                    Service::Entropy => {
                        println!("virtio: {name}: virtio-rng at {}, interrupt {interrupt}", function.address)
                    }
                }
                devices.push(Device { name, interrupt, service, port, state });
            }
            (Err(error), _) => println!("virtio: {name}: cannot drive the device at {}: {error:?}", function.address),
            (_, Err(error)) => println!("virtio: {name}: no port: {error:?}"),
        }
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
