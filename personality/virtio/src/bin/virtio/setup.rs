//! Bringing one virtio PCI function up: memory space and bus mastering on,
//! its BARs mapped, MSI-X on with entry 0 aimed at a vector the kernel
//! bound to the driver's interrupt port, its ring memory from DMA, then
//! `mach_virtio_core::device::start` (which resets the device first).

use crate::driver::Chunk;
use alloc::string::String;
use alloc::vec::Vec;
use libmach::abi::{KernReturn, PortName};
use libmach::device::{self, DeviceMemory};
use mach_virtio_core::block::{self, Geometry};
use mach_virtio_core::device::{rings_size, start, MessageSignal};
use mach_virtio_core::pci::{self, Function, PortConfigurationAccess};
use mach_virtio_core::queue::DeviceQueue;
use mach_virtio_core::transport::{self, DeviceKind, Transport, TransportError};

/// The most entries a queue gets (the device may offer fewer).
pub const QUEUE_SIZE_LIMIT: u16 = 128;

/// What a device serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Block(Geometry),
    Entropy,
}

/// A running device: its registers, its queue, and what is in flight.
pub struct DeviceState {
    pub transport: Transport<DeviceMemory>,
    pub rings: DeviceMemory,
    pub queue: DeviceQueue,
    /// The piece of a request each descriptor chain in flight carries, by
    /// head descriptor.
    pub in_flight: Vec<Option<Chunk>>,
    pub in_flight_count: usize,
    pub most_in_flight: usize,
    /// The device misbehaved (its used ring made no sense): it was marked
    /// FAILED and every request gets `device_error` from now on.
    pub broken: bool,
}

/// A device the driver serves.
pub struct Device {
    /// The name it is registered under.
    pub name: String,
    /// The interrupt number its messages carry.
    pub interrupt: u32,
    pub service: Service,
    /// The port clients send to (a receive right, in the driver's port set).
    pub port: libmach::ReceiveRight,
    pub state: DeviceState,
}

#[derive(Debug)]
#[allow(dead_code)] // the fields are read through Debug in the log line
pub enum SetupError {
    Kernel(KernReturn),
    Transport(TransportError),
    NoQueue,
}

impl From<KernReturn> for SetupError {
    fn from(error: KernReturn) -> Self {
        SetupError::Kernel(error)
    }
}

impl From<TransportError> for SetupError {
    fn from(error: TransportError) -> Self {
        SetupError::Transport(error)
    }
}

/// Brings `function` (a virtio device of `kind`) up, its interrupts going
/// to `interrupt_port` (a name with a send right).
pub fn bring_up(
    host: PortName,
    function: &Function,
    kind: DeviceKind,
    interrupt_port: PortName,
) -> Result<(Service, u32, DeviceState), SetupError> {
    let access = PortConfigurationAccess;
    let address = function.address;
    pci::enable(&access, address, pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
    let layout = transport::layout(&access, address)?;
    let spans = transport::bar_spans(&access, address, &layout)?;
    let mut regions = Vec::new();
    for span in &spans {
        regions.push(device::map_memory(host, span.base + span.start, span.end - span.start)?);
    }
    let transport = Transport::new(&layout, &spans, regions)?;
    // Quiet first: a device a previous driver left running stops using
    // that driver's memory before MSI-X points anywhere new.
    transport.reset()?;
    transport::enable_msix(&access, address, &layout.msix);
    let binding = device::interrupt_bind_msi(host, interrupt_port)?;
    let brought_up = start_device(host, &transport, kind, binding);
    match brought_up {
        Ok((service, rings, queue)) => {
            let in_flight = alloc::vec![None; queue.queue().size() as usize];
            let state = DeviceState {
                transport,
                rings,
                queue,
                in_flight,
                in_flight_count: 0,
                most_in_flight: 0,
                broken: false,
            };
            Ok((service, binding.interrupt, state))
        }
        Err(error) => {
            let _ = device::interrupt_bind(host, binding.interrupt, libmach::abi::MACH_PORT_NULL);
            Err(error)
        }
    }
}

fn start_device(
    host: PortName,
    transport: &Transport<DeviceMemory>,
    kind: DeviceKind,
    binding: device::MsiBinding,
) -> Result<(Service, DeviceMemory, DeviceQueue), SetupError> {
    let rings = device::dma_allocate(host, rings_size(&[QUEUE_SIZE_LIMIT]) as u64)?;
    let wanted = match kind {
        DeviceKind::Block => block::WANTED_FEATURES,
        _ => 0,
    };
    let signal = MessageSignal { address: binding.address, data: binding.data };
    let started = start(transport, &rings, rings.physical(), wanted, &[QUEUE_SIZE_LIMIT], signal)?;
    let service = match kind {
        DeviceKind::Block => Service::Block(Geometry::read(transport, started.features)?),
        _ => Service::Entropy,
    };
    let queue = started.queues.into_iter().next().ok_or(SetupError::NoQueue)?;
    Ok((service, rings, queue))
}
