//! Bringing a virtio device up, the same way for every device type: reset,
//! negotiate, point MSI-X entry 0 at the driver's interrupt (PCI), set the queues
//! up in one DMA region, DRIVER_OK. A restarted driver does exactly this
//! again: the reset makes the device forget everything its predecessor set
//! up (queues, features, requests in flight).

use crate::memory::Memory;
use crate::queue::{DeviceQueue, SplitQueue};
use crate::transport::{QueueAddresses, Transport, TransportError};
use alloc::vec::Vec;

/// The MSI-X table entry every queue of a device interrupts through (one
/// interrupt per device: the driver drains all its queues on each).
pub const QUEUE_VECTOR: u16 = 0;

/// Where the device's interrupt goes (from `interrupt_bind_msi`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageSignal {
    pub address: u64,
    pub data: u32,
}

/// How the device's queues interrupt the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// Through MSI-X entry [`QUEUE_VECTOR`], aimed here (PCI).
    Message(MessageSignal),
    /// Through the transport's own line, which the driver bound with
    /// `interrupt_bind` and acknowledges at the device
    /// (`Transport::acknowledge_interrupt`; virtio-mmio).
    Line,
}

/// A device that is running: its negotiated features and its queues.
pub struct Started {
    pub features: u64,
    pub queues: Vec<DeviceQueue>,
}

/// Bytes of ring memory `sizes` (one limit per queue) need at most.
pub fn rings_size(size_limits: &[u16]) -> usize {
    size_limits.iter().map(|&limit| SplitQueue::region_size(limit)).sum()
}

/// Resets the device and starts it with the features of `wanted` it
/// offers, queue `i` of at most `size_limits[i]` entries laid out one
/// after the other in `rings` (whose physical address is `rings_physical`,
/// at least [`rings_size`] bytes), all interrupting as `interrupt` says
/// (which must suit the transport: messages for PCI, the line for
/// virtio-mmio). On an error the device is marked FAILED.
pub fn start<M: Memory, R: Memory>(
    transport: &Transport<M>,
    rings: &R,
    rings_physical: u64,
    wanted: u64,
    size_limits: &[u16],
    interrupt: Interrupt,
) -> Result<Started, TransportError> {
    transport.reset()?;
    let started = (|| {
        let features = transport.negotiate(wanted)?;
        match interrupt {
            Interrupt::Message(signal) => transport.program_msix(QUEUE_VECTOR, signal.address, signal.data)?,
            // A PCI device here interrupts only by MSI-X (INTx is off).
            Interrupt::Line if transport.uses_msix() => return Err(TransportError::MissingCapability("INTx")),
            Interrupt::Line => {}
        }
        let mut queues = Vec::new();
        let mut offset = 0;
        for (index, &limit) in size_limits.iter().enumerate() {
            let index = index as u16;
            let size = transport.queue_size(index, limit)?;
            let queue = SplitQueue::new(rings, offset, rings_physical + offset as u64, size)
                .map_err(|_| TransportError::BadWindow)?;
            let addresses: QueueAddresses = queue.addresses();
            let notifier = transport.setup_queue(index, size, addresses, QUEUE_VECTOR)?;
            offset += SplitQueue::region_size(size);
            queues.push(DeviceQueue::new(queue, notifier));
        }
        transport.driver_ok()?;
        Ok(Started { features, queues })
    })();
    if started.is_err() {
        transport.fail();
    }
    started
}
