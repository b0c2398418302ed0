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
//! 3. starts [`service::WORKERS`] worker threads serving the devices' ports
//!    (`service.rs`), then registers the names;
//! 4. becomes the interrupt thread (`interrupts.rs`).
//!
//! docs/block-driver.md has the protocol, the device setup and the
//! interrupt handshake.
#![no_std]
#![no_main]

extern crate alloc;

mod heap;
mod interrupts;
mod lock;
mod service;
mod setup;

use alloc::format;
use alloc::vec::Vec;
use libmach::abi::{Disposition, PortName};
use libmach::trap::{port_insert_right, task_self};
use libmach::{PortSet, ReceiveRight, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use mach_virtio_core::pci::{self, PortConfigurationAccess, CONFIGURATION_PORTS};
use mach_virtio_core::transport::{self, DeviceKind};
use service::{Driver, WorkerShared, DRIVER, SLOT_SIZE, WORKERS};
use setup::{Device, Service};

libmach::entry!(main);

/// Stack of each worker thread.
const WORKER_STACK: u64 = 64 * 1024;

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
    let Some(driver) = start_workers(host, devices) else { return };
    register_names(bootstrap, driver);
    interrupts::serve(driver, interrupt_port);
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
                devices.push(Device { name, interrupt, service, port, state: lock::Lock::new(state) });
            }
            (Err(error), _) => println!("virtio: {name}: cannot drive the device at {}: {error:?}", function.address),
            (_, Err(error)) => println!("virtio: {name}: no port: {error:?}"),
        }
    }
    devices
}

/// Builds the shared state and starts the workers; `None` if the kernel
/// refuses what they need.
fn start_workers(host: PortName, devices: Vec<Device>) -> Option<&'static Driver> {
    let port_set = match PortSet::allocate(&SystemKernel) {
        Ok(set) => set,
        Err(error) => {
            println!("virtio: no port set: {error:?}");
            return None;
        }
    };
    for device in &devices {
        if let Err(error) = port_set.insert(&device.port) {
            println!("virtio: {}: cannot serve its port: {error:?}", device.name);
            return None;
        }
    }
    let mut workers = Vec::new();
    let mut slots = Vec::new();
    for _ in 0..WORKERS {
        let wake_port = port_with_send_right();
        let slot = libmach::device::dma_allocate(host, SLOT_SIZE as u64);
        match (wake_port, slot) {
            (Ok(wake_port), Ok(slot)) => {
                workers.push(WorkerShared { wake_port, completion: lock::Lock::new(None) });
                slots.push(slot);
            }
            (Err(error), _) | (_, Err(error)) => {
                println!("virtio: cannot make a worker: {error:?}");
                return None;
            }
        }
    }
    let driver = DRIVER.call_once(|| Driver { host, port_set, devices, workers, slots });
    for index in 0..WORKERS {
        if let Err(error) = libmach::thread::spawn(service::worker, index, WORKER_STACK) {
            println!("virtio: cannot start worker {index}: {error:?}");
            return None;
        }
    }
    Some(driver)
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
