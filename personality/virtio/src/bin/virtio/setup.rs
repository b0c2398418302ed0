//! Bringing one virtio device up. On x86_64 a PCI function: memory space
//! and bus mastering on, its BARs mapped, MSI-X on with entry 0 aimed at a
//! vector the kernel bound to the driver's interrupt port. On aarch64 a
//! virtio-mmio transport of QEMU's virt board: its register window, its
//! interrupt line bound to the same port. Then its ring memory from DMA,
//! and `mach_virtio_core::device::start` (which resets the device first).

use crate::driver::Chunk;
use alloc::string::String;
use alloc::vec::Vec;
use libmach::abi::{KernReturn, PortName};
use libmach::device::{self, DeviceMemory};
use mach_virtio_core::block::{self, Geometry};
use mach_virtio_core::device::{rings_size, start, Interrupt};
use mach_virtio_core::queue::DeviceQueue;
use mach_virtio_core::transport::{DeviceKind, Transport, TransportError};

/// The memory a device's registers are reached through: its BARs' spans
/// (PCI), or its part of the page of virtio-mmio windows.
#[cfg(target_arch = "x86_64")]
pub type Registers = DeviceMemory;
#[cfg(target_arch = "aarch64")]
pub type Registers = mach_virtio_core::memory::Part<DeviceMemory>;

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
    pub transport: Transport<Registers>,
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
#[cfg(target_arch = "x86_64")]
pub fn bring_up(
    host: PortName,
    function: &mach_virtio_core::pci::Function,
    kind: DeviceKind,
    interrupt_port: PortName,
) -> Result<(Service, u32, DeviceState), SetupError> {
    use mach_virtio_core::device::MessageSignal;
    use mach_virtio_core::pci::{self, PortConfigurationAccess};
    use mach_virtio_core::transport;
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
    let signal = Interrupt::Message(MessageSignal { address: binding.address, data: binding.data });
    let brought_up = start_device(host, transport, kind, signal);
    if brought_up.is_err() {
        let _ = device::interrupt_bind(host, binding.interrupt, libmach::abi::MACH_PORT_NULL);
    }
    brought_up.map(|(service, state)| (service, binding.interrupt, state))
}

/// Brings up the device behind the virtio-mmio `transport` (already
/// probed), interrupting on `line`, its interrupts going to
/// `interrupt_port` (a name with a send right).
#[cfg(target_arch = "aarch64")]
pub fn bring_up_mmio(
    host: PortName,
    transport: Transport<Registers>,
    kind: DeviceKind,
    line: u32,
    interrupt_port: PortName,
) -> Result<(Service, u32, DeviceState), SetupError> {
    // Quiet first: a device a previous driver left running stops using its
    // memory (and interrupting) before the line is bound.
    transport.reset()?;
    transport.acknowledge_interrupt()?;
    device::interrupt_bind(host, line, interrupt_port)?;
    let brought_up = start_device(host, transport, kind, Interrupt::Line);
    if brought_up.is_err() {
        let _ = device::interrupt_bind(host, line, libmach::abi::MACH_PORT_NULL);
    }
    brought_up.map(|(service, state)| (service, line, state))
}

fn start_device(
    host: PortName,
    transport: Transport<Registers>,
    kind: DeviceKind,
    interrupt: Interrupt,
) -> Result<(Service, DeviceState), SetupError> {
    let rings = device::dma_allocate(host, rings_size(&[QUEUE_SIZE_LIMIT]) as u64)?;
    let wanted = match kind {
        DeviceKind::Block => block::WANTED_FEATURES,
        _ => 0,
    };
    let started = start(&transport, &rings, rings.physical(), wanted, &[QUEUE_SIZE_LIMIT], interrupt)?;
    let service = match kind {
        DeviceKind::Block => Service::Block(Geometry::read(&transport, started.features)?),
        _ => Service::Entropy,
    };
    let queue = started.queues.into_iter().next().ok_or(SetupError::NoQueue)?;
    let in_flight = alloc::vec![None; queue.queue().size() as usize];
    let state =
        DeviceState { transport, rings, queue, in_flight, in_flight_count: 0, most_in_flight: 0, broken: false };
    Ok((service, state))
}
