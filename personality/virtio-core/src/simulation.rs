//! A simulated virtio-pci device (block or entropy) behind a fake PCI
//! function, acting on its registers as QEMU's does, for testing the
//! transport, the device bring-up and whole requests on the host.

use crate::block::{self, Geometry, RequestBuffers, RequestKind};
use crate::device::{self, Interrupt, MessageSignal};
use crate::memory::fake::FakeMemory;
use crate::memory::{AccessError, Memory};
use crate::pci::fake::{header, FakeBus};
use crate::pci::{self, ConfigurationAccess, PciAddress};
use crate::queue::Buffer;
use crate::transport::{self, mmio, Transport, TransportError, FEATURE_VERSION_1};
use core::cell::RefCell;
use std::rc::Rc;
use std::vec::Vec;

/// Where the simulated DMA memory is "physically".
const DMA_BASE: u64 = 0x4000_0000;
const BAR_ADDRESS: u64 = 0xfe00_0000;
const COMMON: usize = 0;
const ISR: usize = 0x800;
const NOTIFY: usize = 0x1000;
const NOTIFY_MULTIPLIER: u32 = 4;
const CONFIGURATION: usize = 0x2000;
const MSIX_TABLE: usize = 0x3000;
const MSIX_ENTRIES: usize = 2;
const BAR_SIZE: usize = 0x4000;

#[derive(Clone, Debug, Default)]
struct QueueState {
    maximum: u16,
    size: u16,
    descriptors: u64,
    available: u64,
    used: u64,
    vector: u16,
    enabled: bool,
    seen: u16,
    used_index: u16,
}

enum Kind {
    Block { disk: Vec<u8>, failing_sector: Option<u64> },
    Entropy { next: u8, most_per_request: u32 },
}

struct State {
    kind: Kind,
    offered: u64,
    status: u8,
    device_feature_select: u32,
    driver_feature_select: u32,
    driver_features: u64,
    queue_select: u16,
    queues: Vec<QueueState>,
    msix: [u8; 16 * MSIX_ENTRIES],
    /// Completions are held back until `complete_held` (out of order).
    hold: bool,
    held: Vec<(u16, u16, u32)>,
    interrupts: u32,
    resets: u32,
    /// Behind a virtio-mmio window (not PCI): completions raise the
    /// interrupt status (and the line) instead of an MSI-X message.
    mmio: bool,
    mmio_version: u32,
    interrupt_status: u32,
}

/// The device's BAR 4 as the driver sees it, and its DMA view.
pub struct SimulatedDevice {
    state: RefCell<State>,
    dma: Rc<FakeMemory>,
}

impl SimulatedDevice {
    fn new(kind: Kind, offered: u64, dma: Rc<FakeMemory>) -> Self {
        let queues =
            std::vec![QueueState { maximum: 64, size: 64, vector: transport::NO_VECTOR, ..Default::default() }];
        Self {
            state: RefCell::new(State {
                kind,
                offered,
                status: 0,
                device_feature_select: 0,
                driver_feature_select: 0,
                driver_features: 0,
                queue_select: 0,
                queues,
                msix: [0; 16 * MSIX_ENTRIES],
                hold: false,
                held: Vec::new(),
                interrupts: 0,
                resets: 0,
                mmio: false,
                mmio_version: transport::mmio::MODERN_VERSION,
                interrupt_status: 0,
            }),
            dma,
        }
    }

    fn disk(&self) -> Vec<u8> {
        match &self.state.borrow().kind {
            Kind::Block { disk, .. } => disk.clone(),
            Kind::Entropy { .. } => Vec::new(),
        }
    }

    fn read_register(&self, offset: usize, length: usize) -> Result<u64, AccessError> {
        let state = self.state.borrow();
        let queue = state.queues.get(state.queue_select as usize);
        let value = match offset {
            0x04 => (state.offered >> (32 * state.device_feature_select.min(1))) as u32 as u64,
            0x0c => (state.driver_features >> (32 * state.driver_feature_select.min(1))) as u32 as u64,
            0x12 => state.queues.len() as u64,
            0x14 => state.status as u64,
            0x15 => 0,
            0x16 => state.queue_select as u64,
            0x18 => queue.map_or(0, |queue| queue.size as u64),
            0x1a => queue.map_or(transport::NO_VECTOR as u64, |queue| queue.vector as u64),
            0x1c => queue.map_or(0, |queue| queue.enabled as u64),
            0x1e => state.queue_select as u64,
            _ if (ISR..ISR + 4).contains(&offset) => 0,
            _ if (CONFIGURATION..CONFIGURATION + 0x40).contains(&offset) => match &state.kind {
                Kind::Block { disk, .. } => {
                    let configuration_offset = offset - CONFIGURATION;
                    let capacity = (disk.len() / 512) as u64;
                    match configuration_offset {
                        0 => capacity & 0xffff_ffff,
                        4 => capacity >> 32,
                        20 => 512,
                        _ => 0,
                    }
                }
                Kind::Entropy { .. } => 0,
            },
            _ if (MSIX_TABLE..MSIX_TABLE + 16 * MSIX_ENTRIES).contains(&offset) => {
                let at = offset - MSIX_TABLE;
                let mut bytes = [0u8; 8];
                bytes[..length].copy_from_slice(&state.msix[at..at + length]);
                u64::from_le_bytes(bytes)
            }
            _ => return Err(AccessError),
        };
        Ok(value)
    }

    fn write_register(&self, offset: usize, length: usize, value: u64) -> Result<(), AccessError> {
        if (NOTIFY..NOTIFY + 64).contains(&offset) {
            let queue = (offset - NOTIFY) / NOTIFY_MULTIPLIER as usize;
            self.process(queue as u16);
            return Ok(());
        }
        let mut state = self.state.borrow_mut();
        let select = state.queue_select as usize;
        let set_half = |field: &mut u64, high: bool| {
            let shift = if high { 32 } else { 0 };
            *field = (*field & !(0xffff_ffff << shift)) | (value & 0xffff_ffff) << shift;
        };
        match offset {
            0x00 => state.device_feature_select = value as u32,
            0x08 => state.driver_feature_select = value as u32,
            0x0c => {
                let high = state.driver_feature_select == 1;
                set_half(&mut state.driver_features, high)
            }
            0x10 => {}
            0x14 => {
                let value = value as u8;
                if value == 0 {
                    let resets = state.resets + 1;
                    let maximum = state.queues[0].maximum;
                    state.status = 0;
                    state.driver_features = 0;
                    state.queues = std::vec![QueueState {
                        maximum,
                        size: maximum,
                        vector: transport::NO_VECTOR,
                        ..Default::default()
                    }];
                    state.held.clear();
                    state.resets = resets;
                } else if value & transport::STATUS_FEATURES_OK != 0 && state.driver_features & !state.offered != 0 {
                    // Features it never offered: FEATURES_OK does not stick.
                    state.status = value & !transport::STATUS_FEATURES_OK;
                } else {
                    state.status = value;
                }
            }
            0x16 => state.queue_select = value as u16,
            0x18 => {
                if let Some(queue) = state.queues.get_mut(select) {
                    queue.size = (value as u16).min(queue.maximum);
                }
            }
            0x1a => {
                if let Some(queue) = state.queues.get_mut(select) {
                    // Like QEMU: a vector beyond the table reads back as NO_VECTOR.
                    queue.vector = if (value as usize) < MSIX_ENTRIES { value as u16 } else { transport::NO_VECTOR };
                }
            }
            0x1c => {
                if let Some(queue) = state.queues.get_mut(select) {
                    queue.enabled = value == 1;
                }
            }
            0x20 | 0x24 | 0x28 | 0x2c | 0x30 | 0x34 => {
                if let Some(queue) = state.queues.get_mut(select) {
                    let high = offset % 8 == 4;
                    match offset & !7 {
                        0x20 => set_half(&mut queue.descriptors, high),
                        0x28 => set_half(&mut queue.available, high),
                        _ => set_half(&mut queue.used, high),
                    }
                }
            }
            _ if (MSIX_TABLE..MSIX_TABLE + 16 * MSIX_ENTRIES).contains(&offset) => {
                let at = offset - MSIX_TABLE;
                state.msix[at..at + length].copy_from_slice(&value.to_le_bytes()[..length]);
            }
            _ => return Err(AccessError),
        }
        Ok(())
    }

    fn dma_offset(&self, physical: u64, length: u32) -> Option<usize> {
        let offset = physical.checked_sub(DMA_BASE)? as usize;
        (offset + length as usize <= self.dma.size()).then_some(offset)
    }

    /// Takes the new chains of `queue` off its available ring and serves them.
    fn process(&self, queue_index: u16) {
        let (queue, running) = {
            let state = self.state.borrow();
            (state.queues[queue_index as usize].clone(), state.status & transport::STATUS_DRIVER_OK != 0)
        };
        if !running || !queue.enabled {
            return;
        }
        let available = (queue.available - DMA_BASE) as usize;
        let index = self.dma.read_u16(available + 2).unwrap();
        let mut seen = queue.seen;
        while seen != index {
            let head = self.dma.read_u16(available + 4 + 2 * (seen % queue.size) as usize).unwrap();
            let chain = self.chain(&queue, head);
            let written = self.serve(&chain);
            if self.state.borrow().hold {
                self.state.borrow_mut().held.push((queue_index, head, written));
            } else {
                self.complete(queue_index, head, written);
            }
            seen = seen.wrapping_add(1);
        }
        self.state.borrow_mut().queues[queue_index as usize].seen = seen;
    }

    fn chain(&self, queue: &QueueState, head: u16) -> Vec<Buffer> {
        let table = (queue.descriptors - DMA_BASE) as usize;
        let mut chain = Vec::new();
        let mut descriptor = head;
        loop {
            let at = table + 16 * descriptor as usize;
            let flags = self.dma.read_u16(at + 12).unwrap();
            chain.push(Buffer {
                physical: self.dma.read_u64(at).unwrap(),
                length: self.dma.read_u32(at + 8).unwrap(),
                device_writes: flags & 2 != 0,
            });
            if flags & 1 == 0 || chain.len() > queue.size as usize {
                return chain;
            }
            descriptor = self.dma.read_u16(at + 14).unwrap();
        }
    }

    /// Does what the chain asks; returns the bytes written into it.
    fn serve(&self, chain: &[Buffer]) -> u32 {
        let mut state = self.state.borrow_mut();
        match &mut state.kind {
            Kind::Entropy { next, most_per_request } => {
                let buffer = chain[0];
                let length = buffer.length.min(*most_per_request);
                let offset = self.dma_offset(buffer.physical, length).expect("entropy buffer in DMA memory");
                for position in 0..length as usize {
                    self.dma.write_u8(offset + position, *next).unwrap();
                    *next = next.wrapping_add(1);
                }
                length
            }
            Kind::Block { disk, failing_sector } => {
                let header = self.dma_offset(chain[0].physical, 16).expect("header in DMA memory");
                let kind = self.dma.read_u32(header).unwrap();
                let sector = self.dma.read_u64(header + 8).unwrap();
                let status_buffer = chain[chain.len() - 1];
                let status_offset = self.dma_offset(status_buffer.physical, 1).expect("status in DMA memory");
                let mut written = 1;
                let status = match (kind, chain.len()) {
                    (4, 2) => 0,
                    (0 | 1, 3) => {
                        let data = chain[1];
                        let data_offset = self.dma_offset(data.physical, data.length).expect("data in DMA memory");
                        let start = sector as usize * 512;
                        let end = start + data.length as usize;
                        if end > disk.len()
                            || failing_sector.is_some_and(|bad| (start / 512..end / 512).contains(&(bad as usize)))
                        {
                            1
                        } else if kind == 0 {
                            assert!(data.device_writes, "a read's data must be device-writable");
                            self.dma.write_bytes(data_offset, &disk[start..end]).unwrap();
                            written += data.length;
                            0
                        } else {
                            assert!(!data.device_writes, "a write's data must be device-readable");
                            self.dma.read_bytes(data_offset, &mut disk[start..end]).unwrap();
                            0
                        }
                    }
                    _ => 2,
                };
                self.dma.write_u8(status_offset, status).unwrap();
                written
            }
        }
    }

    fn complete(&self, queue_index: u16, head: u16, written: u32) {
        let mut state = self.state.borrow_mut();
        let queue = &mut state.queues[queue_index as usize];
        let used = (queue.used - DMA_BASE) as usize;
        let element = used + 4 + 8 * (queue.used_index % queue.size) as usize;
        self.dma.write_u32(element, head as u32).unwrap();
        self.dma.write_u32(element + 4, written).unwrap();
        queue.used_index = queue.used_index.wrapping_add(1);
        self.dma.write_u16(used + 2, queue.used_index).unwrap();
        // MSI-X entry of the queue, unmasked: an interrupt; or the line.
        let entry = queue.vector as usize;
        if state.mmio {
            state.interrupt_status |= 1;
            state.interrupts += 1;
        } else if entry < MSIX_ENTRIES && state.msix[16 * entry + 12] & 1 == 0 {
            state.interrupts += 1;
        }
    }

    /// Completes every held request, last first.
    fn complete_held(&self) {
        let held: Vec<_> = self.state.borrow_mut().held.drain(..).rev().collect();
        for (queue, head, written) in held {
            self.complete(queue, head, written);
        }
    }
}

/// A handle to the shared device, as the region the transport maps.
#[derive(Clone)]
pub struct Bar(Rc<SimulatedDevice>);

impl Memory for Bar {
    fn size(&self) -> usize {
        BAR_SIZE
    }
    fn read_u8(&self, offset: usize) -> Result<u8, AccessError> {
        Ok(self.0.read_register(offset, 1)? as u8)
    }
    fn read_u16(&self, offset: usize) -> Result<u16, AccessError> {
        Ok(self.0.read_register(offset, 2)? as u16)
    }
    fn read_u32(&self, offset: usize) -> Result<u32, AccessError> {
        Ok(self.0.read_register(offset, 4)? as u32)
    }
    fn write_u8(&self, offset: usize, value: u8) -> Result<(), AccessError> {
        self.0.write_register(offset, 1, value as u64)
    }
    fn write_u16(&self, offset: usize, value: u16) -> Result<(), AccessError> {
        self.0.write_register(offset, 2, value as u64)
    }
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), AccessError> {
        self.0.write_register(offset, 4, value as u64)
    }
    fn read_bytes(&self, _offset: usize, _bytes: &mut [u8]) -> Result<(), AccessError> {
        Err(AccessError)
    }
    fn write_bytes(&self, _offset: usize, _bytes: &[u8]) -> Result<(), AccessError> {
        Err(AccessError)
    }
}

/// The device behind a virtio-mmio window, as QEMU's virt board has them:
/// each register mapped onto the PCI model's state.
#[derive(Clone)]
pub struct MmioWindow(Rc<SimulatedDevice>);

impl MmioWindow {
    fn read(&self, offset: usize) -> Result<u32, AccessError> {
        let device = &self.0;
        let pci = |register: usize| device.read_register(register, 4).map(|value| value as u32);
        let value = {
            let state = device.state.borrow();
            match offset {
                mmio::MAGIC_VALUE => Some(mmio::MAGIC),
                mmio::VERSION => Some(state.mmio_version),
                mmio::DEVICE_ID => Some(match state.kind {
                    Kind::Block { .. } => 2,
                    Kind::Entropy { .. } => 4,
                }),
                0x00c => Some(0x554d_4551), // "QEMU"
                mmio::QUEUE_SIZE_MAX => {
                    Some(state.queues.get(state.queue_select as usize).map_or(0, |queue| queue.maximum as u32))
                }
                mmio::INTERRUPT_STATUS => Some(state.interrupt_status),
                mmio::CONFIGURATION_GENERATION => Some(0),
                _ => None,
            }
        };
        match (value, offset) {
            (Some(value), _) => Ok(value),
            (None, mmio::DEVICE_FEATURES) => pci(0x04),
            (None, mmio::QUEUE_READY) => Ok(pci(0x1c)? & 0xffff),
            (None, mmio::STATUS) => Ok(pci(0x14)? & 0xff),
            (None, _) if (mmio::CONFIGURATION..mmio::WINDOW).contains(&offset) => {
                device.read_register(CONFIGURATION + offset - mmio::CONFIGURATION, 4).map(|value| value as u32)
            }
            _ => Err(AccessError),
        }
    }

    fn write(&self, offset: usize, value: u32) -> Result<(), AccessError> {
        let device = &self.0;
        let pci = |register: usize, length: usize| device.write_register(register, length, value as u64);
        match offset {
            mmio::DEVICE_FEATURES_SELECT => pci(0x00, 4),
            mmio::DRIVER_FEATURES => pci(0x0c, 4),
            mmio::DRIVER_FEATURES_SELECT => pci(0x08, 4),
            mmio::QUEUE_SELECT => pci(0x16, 2),
            mmio::QUEUE_SIZE => pci(0x18, 2),
            mmio::QUEUE_READY => pci(0x1c, 2),
            mmio::QUEUE_NOTIFY => {
                device.process(value as u16);
                Ok(())
            }
            mmio::INTERRUPT_ACKNOWLEDGE => {
                device.state.borrow_mut().interrupt_status &= !value;
                Ok(())
            }
            mmio::STATUS => pci(0x14, 1),
            0x080 | 0x084 | 0x090 | 0x094 | 0x0a0 | 0x0a4 => pci(0x20 + (offset - 0x080) / 0x10 * 8 + offset % 8, 4),
            _ => Err(AccessError),
        }
    }
}

impl Memory for MmioWindow {
    fn size(&self) -> usize {
        transport::mmio::WINDOW
    }
    fn read_u8(&self, offset: usize) -> Result<u8, AccessError> {
        Ok((self.read(offset & !3)? >> (8 * (offset % 4))) as u8)
    }
    fn read_u16(&self, offset: usize) -> Result<u16, AccessError> {
        Ok((self.read(offset & !3)? >> (8 * (offset % 4))) as u16)
    }
    fn read_u32(&self, offset: usize) -> Result<u32, AccessError> {
        self.read(offset)
    }
    // The driver writes virtio-mmio registers 32 bits at a time only.
    fn write_u8(&self, _offset: usize, _value: u8) -> Result<(), AccessError> {
        Err(AccessError)
    }
    fn write_u16(&self, _offset: usize, _value: u16) -> Result<(), AccessError> {
        Err(AccessError)
    }
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), AccessError> {
        self.write(offset, value)
    }
    fn read_bytes(&self, _offset: usize, _bytes: &mut [u8]) -> Result<(), AccessError> {
        Err(AccessError)
    }
    fn write_bytes(&self, _offset: usize, _bytes: &[u8]) -> Result<(), AccessError> {
        Err(AccessError)
    }
}

/// Configuration space of a transitional virtio function whose
/// capabilities put every structure in BAR 4 (QEMU's layout).
fn configuration_space(device_id: u16) -> [u8; 256] {
    let mut space = header(transport::VIRTIO_VENDOR_ID, device_id);
    space[0x06] = 0x10; // capability list
    space[0x20..0x24].copy_from_slice(&((BAR_ADDRESS as u32) | 0xc).to_le_bytes()); // BAR 4: 64-bit
    space[0x34] = 0x40;
    // MSI-X: 2 entries, table in BAR 4.
    space[0x40] = 0x11;
    space[0x41] = 0x50;
    space[0x42..0x44].copy_from_slice(&((MSIX_ENTRIES - 1) as u16).to_le_bytes());
    space[0x44..0x48].copy_from_slice(&((MSIX_TABLE as u32) | 4).to_le_bytes());
    let mut at = 0x50;
    for (kind, offset, length) in
        [(1u8, COMMON as u32, 0x38u32), (3, ISR as u32, 4), (4, CONFIGURATION as u32, 0x40), (2, NOTIFY as u32, 0x40)]
    {
        let next = if kind == 2 { 0 } else { at + 0x14 };
        space[at] = 0x09;
        space[at + 1] = next as u8;
        space[at + 2] = if kind == 2 { 20 } else { 16 };
        space[at + 3] = kind;
        space[at + 4] = 4;
        space[at + 8..at + 12].copy_from_slice(&offset.to_le_bytes());
        space[at + 12..at + 16].copy_from_slice(&length.to_le_bytes());
        if kind == 2 {
            space[at + 16..at + 20].copy_from_slice(&NOTIFY_MULTIPLIER.to_le_bytes());
        }
        at += 0x14;
    }
    space
}

struct Rig {
    bus: FakeBus,
    address: PciAddress,
    device: Rc<SimulatedDevice>,
    dma: Rc<FakeMemory>,
}

const BLOCK_FEATURES: u64 = FEATURE_VERSION_1 | block::FEATURE_FLUSH | block::FEATURE_BLOCK_SIZE;

fn rig(kind: Kind, device_id: u16, offered: u64) -> Rig {
    let bus = FakeBus::default();
    let address = PciAddress { bus: 0, device: 3, function: 0 };
    bus.add(address, configuration_space(device_id));
    let dma = Rc::new(FakeMemory::new(64 * 1024));
    let device = Rc::new(SimulatedDevice::new(kind, offered, dma.clone()));
    Rig { bus, address, device, dma }
}

fn block_rig(sectors: usize) -> Rig {
    let disk = (0..sectors * 512).map(|index| (index / 512) as u8 ^ (index % 251) as u8).collect();
    rig(Kind::Block { disk, failing_sector: None }, 0x1001, BLOCK_FEATURES)
}

fn transport_of(rig: &Rig) -> Result<Transport<Bar>, TransportError> {
    let layout = transport::layout(&rig.bus, rig.address)?;
    let spans = transport::bar_spans(&rig.bus, rig.address, &layout)?;
    assert_eq!(spans.len(), 1);
    assert_eq!((spans[0].base, spans[0].start, spans[0].end), (BAR_ADDRESS, 0, BAR_SIZE as u64));
    Transport::new(&layout, &spans, std::vec![Bar(rig.device.clone())])
}

const SIGNAL: Interrupt = Interrupt::Message(MessageSignal { address: 0xfee0_0000, data: 0x50 });
/// Ring memory at the start of DMA, request buffers from 32 KiB.
const REQUESTS: usize = 32 * 1024;

/// Writes a request's header and status byte into DMA at REQUESTS and
/// submits it; data at REQUESTS + 4096.
fn submit<M: Memory>(
    rig: &Rig,
    transport: &Transport<M>,
    queue: &mut crate::queue::DeviceQueue,
    kind: RequestKind,
    sector: u64,
    length: u32,
) -> u16 {
    rig.dma.write_bytes(REQUESTS, &block::request_header(kind, sector)).unwrap();
    rig.dma.write_u8(REQUESTS + 16, 0xff).unwrap();
    let buffers = RequestBuffers {
        header: DMA_BASE + REQUESTS as u64,
        data: (length > 0).then_some((DMA_BASE + REQUESTS as u64 + 4096, length)),
        status: DMA_BASE + REQUESTS as u64 + 16,
    };
    let (chain, count) = block::request_chain(kind, buffers);
    queue.submit(transport, &*rig.dma, &chain[..count]).unwrap()
}

#[test]
fn a_block_device_comes_up_and_reads_and_writes() {
    let rig = block_rig(64);
    let function = pci::enumerate(&rig.bus)[0];
    assert_eq!(transport::device_kind(&function), Some(transport::DeviceKind::Block));
    let transport = transport_of(&rig).unwrap();
    let layout = transport::layout(&rig.bus, rig.address).unwrap();
    transport::enable_msix(&rig.bus, rig.address, &layout.msix);
    assert_eq!(rig.bus.read_u16(rig.address, layout.msix.capability + 2) & 0xc000, 0x8000);
    let mut started = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[256], SIGNAL).unwrap();
    assert_eq!(started.features, BLOCK_FEATURES);
    assert_eq!(transport.status().unwrap(), 0x0f);
    assert_eq!(started.queues[0].queue().size(), 64, "the device's maximum, not our limit");
    let geometry = Geometry::read(&transport, started.features).unwrap();
    assert_eq!(geometry, Geometry { block_size: 512, block_count: 64, read_only: false, flush: true });
    let queue = &mut started.queues[0];

    // Read sector 5.
    let token = submit(&rig, &transport, queue, RequestKind::Read, 5, 512);
    let used = queue.complete(&*rig.dma).unwrap().unwrap();
    assert_eq!((used.head, used.written), (token, 513));
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Ok(()));
    let mut data = std::vec![0u8; 512];
    rig.dma.read_bytes(REQUESTS + 4096, &mut data).unwrap();
    assert_eq!(data, rig.device.disk()[5 * 512..6 * 512]);

    // Write two sectors at 10, read them back from the device's disk.
    let pattern: Vec<u8> = (0..1024).map(|index| (index * 7) as u8).collect();
    rig.dma.write_bytes(REQUESTS + 4096, &pattern).unwrap();
    submit(&rig, &transport, queue, RequestKind::Write, 10, 1024);
    assert!(queue.complete(&*rig.dma).unwrap().is_some());
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Ok(()));
    assert_eq!(rig.device.disk()[10 * 512..12 * 512], pattern[..]);

    // Flush; a read past the end is an I/O error from the device.
    submit(&rig, &transport, queue, RequestKind::Flush, 0, 0);
    assert!(queue.complete(&*rig.dma).unwrap().is_some());
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Ok(()));
    submit(&rig, &transport, queue, RequestKind::Read, 64, 512);
    assert!(queue.complete(&*rig.dma).unwrap().is_some());
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Err(block::BlockError::DeviceError));
    assert_eq!(rig.device.state.borrow().interrupts, 4, "one interrupt per completion through the MSI-X entry");
    assert_eq!(rig.device.state.borrow().msix[..12], [0x00, 0x00, 0xe0, 0xfe, 0, 0, 0, 0, 0x50, 0, 0, 0]);
}

#[test]
fn completions_out_of_order_find_their_requests() {
    let rig = block_rig(64);
    let transport = transport_of(&rig).unwrap();
    let mut started = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], SIGNAL).unwrap();
    let queue = &mut started.queues[0];
    rig.device.state.borrow_mut().hold = true;
    let tokens: Vec<u16> =
        (0..5).map(|sector| submit(&rig, &transport, queue, RequestKind::Read, sector, 512)).collect();
    assert_eq!(queue.queue().in_flight(), 5);
    assert_eq!(queue.complete(&*rig.dma).unwrap(), None);
    rig.device.complete_held();
    let mut finished = Vec::new();
    while let Some(used) = queue.complete(&*rig.dma).unwrap() {
        finished.push(used.head);
    }
    assert_eq!(finished, tokens.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(queue.queue().free_descriptors(), 16);
}

#[test]
fn a_restarted_driver_resets_the_device_and_starts_clean() {
    let rig = block_rig(16);
    let transport = transport_of(&rig).unwrap();
    let mut first = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], SIGNAL).unwrap();
    // The first driver dies with a request in flight.
    rig.device.state.borrow_mut().hold = true;
    submit(&rig, &transport, &mut first.queues[0], RequestKind::Read, 1, 512);
    drop(first);
    // Its successor (the same registers, new DMA contents) starts over.
    rig.device.state.borrow_mut().hold = false;
    rig.dma.zero(0, rig.dma.size()).unwrap();
    let transport = transport_of(&rig).unwrap();
    let mut second = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], SIGNAL).unwrap();
    assert_eq!(rig.device.state.borrow().resets, 2);
    assert!(rig.device.state.borrow().held.is_empty(), "the reset dropped the old request");
    let token = submit(&rig, &transport, &mut second.queues[0], RequestKind::Read, 2, 512);
    assert_eq!(second.queues[0].complete(&*rig.dma).unwrap().map(|used| used.head), Some(token));
    assert_eq!(second.queues[0].complete(&*rig.dma).unwrap(), None);
}

#[test]
fn a_device_without_version_1_or_msix_is_refused() {
    let rig = rig(Kind::Block { disk: std::vec![0; 512], failing_sector: None }, 0x1001, block::FEATURE_FLUSH);
    let transport = transport_of(&rig).unwrap();
    let result = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], SIGNAL);
    assert!(matches!(result, Err(TransportError::FeaturesRefused)));
    assert_ne!(transport.status().unwrap() & transport::STATUS_FAILED, 0);

    let bus = FakeBus::default();
    let address = PciAddress { bus: 0, device: 1, function: 0 };
    let mut space = configuration_space(0x1042);
    space[0x34] = 0x50; // skip the MSI-X capability
    bus.add(address, space);
    assert_eq!(transport::layout(&bus, address), Err(TransportError::MissingCapability("MSI-X")));
    space[0x34] = 0;
    space[0x06] = 0;
    bus.add(address, space);
    assert_eq!(transport::layout(&bus, address), Err(TransportError::MissingCapability("common configuration")));
}

#[test]
fn a_refused_msix_vector_fails_the_device() {
    let rig = block_rig(16);
    let transport = transport_of(&rig).unwrap();
    transport.reset().unwrap();
    transport.negotiate(block::WANTED_FEATURES).unwrap();
    let size = transport.queue_size(0, 16).unwrap();
    let queue = crate::queue::SplitQueue::new(&*rig.dma, 0, DMA_BASE, size).unwrap();
    let result = transport.setup_queue(0, size, queue.addresses(), 7);
    assert_eq!(result, Err(TransportError::VectorRefused));
    assert_eq!(transport.queue_size(1, 16), Err(TransportError::NoQueue(1)));
}

#[test]
fn a_failing_sector_is_a_device_error_and_the_queue_goes_on() {
    let rig = block_rig(16);
    if let Kind::Block { failing_sector, .. } = &mut rig.device.state.borrow_mut().kind {
        *failing_sector = Some(3);
    }
    let transport = transport_of(&rig).unwrap();
    let mut started = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], SIGNAL).unwrap();
    let queue = &mut started.queues[0];
    submit(&rig, &transport, queue, RequestKind::Read, 2, 1024);
    queue.complete(&*rig.dma).unwrap();
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Err(block::BlockError::DeviceError));
    submit(&rig, &transport, queue, RequestKind::Read, 4, 512);
    queue.complete(&*rig.dma).unwrap();
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Ok(()));
}

#[test]
fn an_entropy_device_fills_what_it_can() {
    let rig = rig(Kind::Entropy { next: 7, most_per_request: 40 }, 0x1005, FEATURE_VERSION_1);
    let function = pci::enumerate(&rig.bus)[0];
    assert_eq!(transport::device_kind(&function), Some(transport::DeviceKind::Entropy));
    let transport = transport_of(&rig).unwrap();
    let mut started = device::start(&transport, &*rig.dma, DMA_BASE, 0, &[8], SIGNAL).unwrap();
    assert_eq!(started.features, FEATURE_VERSION_1);
    let buffer = Buffer { physical: DMA_BASE + REQUESTS as u64, length: 64, device_writes: true };
    let token = started.queues[0].submit(&transport, &*rig.dma, &[buffer]).unwrap();
    let used = started.queues[0].complete(&*rig.dma).unwrap().unwrap();
    assert_eq!((used.head, used.written), (token, 40));
    let mut bytes = [0u8; 40];
    rig.dma.read_bytes(REQUESTS, &mut bytes).unwrap();
    assert_eq!(bytes[..3], [7, 8, 9]);
}

/// A block device behind a virtio-mmio window, as on QEMU's virt board.
fn mmio_block_rig(sectors: usize) -> (Rig, Transport<MmioWindow>) {
    let rig = block_rig(sectors);
    rig.device.state.borrow_mut().mmio = true;
    let (transport, probe) = Transport::new_mmio(MmioWindow(rig.device.clone())).unwrap();
    assert_eq!(probe, transport::MmioProbe::Device(transport::DeviceKind::Block));
    (rig, transport)
}

#[test]
fn a_virtio_mmio_block_device_comes_up_and_its_line_is_acknowledged() {
    let (rig, transport) = mmio_block_rig(64);
    assert!(!transport.uses_msix());
    let mut started =
        device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[256], Interrupt::Line).unwrap();
    assert_eq!(started.features, BLOCK_FEATURES);
    assert_eq!(transport.status().unwrap(), 0x0f);
    assert_eq!(transport.queue_count().unwrap(), 1);
    assert_eq!(started.queues[0].queue().size(), 64, "the device's maximum, not our limit");
    {
        let state = rig.device.state.borrow();
        let queue = &state.queues[0];
        assert!(queue.enabled);
        assert_eq!(queue.size, 64);
        assert_eq!(started.queues[0].queue().addresses().descriptors, queue.descriptors);
        assert_eq!(started.queues[0].queue().addresses().available, queue.available);
        assert_eq!(started.queues[0].queue().addresses().used, queue.used);
    }
    let geometry = Geometry::read(&transport, started.features).unwrap();
    assert_eq!(geometry, Geometry { block_size: 512, block_count: 64, read_only: false, flush: true });
    let queue = &mut started.queues[0];

    let token = submit(&rig, &transport, queue, RequestKind::Read, 5, 512);
    let used = queue.complete(&*rig.dma).unwrap().unwrap();
    assert_eq!((used.head, used.written), (token, 513));
    let mut data = std::vec![0u8; 512];
    rig.dma.read_bytes(REQUESTS + 4096, &mut data).unwrap();
    assert_eq!(data, rig.device.disk()[5 * 512..6 * 512]);
    // The line stays up until the driver acknowledges at the device.
    assert_eq!(rig.device.state.borrow().interrupt_status, 1);
    assert_eq!(transport.acknowledge_interrupt(), Ok(1));
    assert_eq!(rig.device.state.borrow().interrupt_status, 0);
    assert_eq!(transport.acknowledge_interrupt(), Ok(0));

    let pattern: Vec<u8> = (0..1024).map(|index| (index * 7) as u8).collect();
    rig.dma.write_bytes(REQUESTS + 4096, &pattern).unwrap();
    submit(&rig, &transport, queue, RequestKind::Write, 10, 1024);
    assert!(queue.complete(&*rig.dma).unwrap().is_some());
    assert_eq!(block::status(rig.dma.read_u8(REQUESTS + 16).unwrap()), Ok(()));
    assert_eq!(rig.device.disk()[10 * 512..12 * 512], pattern[..]);
    assert_eq!(rig.device.state.borrow().interrupts, 2);

    // A restarted driver resets it: queues forgotten, set up again.
    let again = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], Interrupt::Line).unwrap();
    assert_eq!(again.queues[0].queue().size(), 16);
    assert_eq!(rig.device.state.borrow().resets, 2);
}

#[test]
fn an_interrupt_that_does_not_suit_the_transport_fails_the_device() {
    let (rig, transport) = mmio_block_rig(8);
    let result = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], SIGNAL);
    assert_eq!(result.err(), Some(TransportError::NotPci));
    assert_ne!(transport.status().unwrap() & transport::STATUS_FAILED, 0);

    let rig = block_rig(8);
    let transport = transport_of(&rig).unwrap();
    let result = device::start(&transport, &*rig.dma, DMA_BASE, block::WANTED_FEATURES, &[16], Interrupt::Line);
    assert_eq!(result.err(), Some(TransportError::MissingCapability("INTx")));
    assert_ne!(transport.status().unwrap() & transport::STATUS_FAILED, 0);
    assert_eq!(transport.acknowledge_interrupt(), Ok(0), "MSI-X is not acknowledged at the device");
}

#[test]
fn virtio_mmio_windows_are_checked() {
    use crate::memory::fake::FakeMemory;
    let window = |magic: u32, version: u32, device: u32, size: usize| {
        let memory = FakeMemory::new(size);
        memory.write_u32(mmio::MAGIC_VALUE, magic).unwrap();
        memory.write_u32(mmio::VERSION, version).unwrap();
        memory.write_u32(mmio::DEVICE_ID, device).unwrap();
        Transport::new_mmio(memory).map(|(_, probe)| probe)
    };
    let probe = |device: u32| {
        let memory = FakeMemory::new(mmio::WINDOW);
        memory.write_u32(mmio::MAGIC_VALUE, mmio::MAGIC).unwrap();
        memory.write_u32(mmio::VERSION, 2).unwrap();
        memory.write_u32(mmio::DEVICE_ID, device).unwrap();
        Transport::new_mmio(memory).map(|(_, probe)| probe)
    };
    assert_eq!(probe(0), Ok(transport::MmioProbe::Empty));
    assert_eq!(probe(4), Ok(transport::MmioProbe::Device(transport::DeviceKind::Entropy)));
    assert_eq!(probe(1), Ok(transport::MmioProbe::Device(transport::DeviceKind::Other(1))));
    assert_eq!(window(0x1234_5678, 2, 2, mmio::WINDOW), Err(TransportError::NotVirtio));
    assert_eq!(window(mmio::MAGIC, 1, 2, mmio::WINDOW), Err(TransportError::LegacyMmio));
    assert_eq!(window(mmio::MAGIC, 3, 2, mmio::WINDOW), Err(TransportError::NotVirtio));
    assert_eq!(window(mmio::MAGIC, 2, 2, 0x100), Err(TransportError::BadWindow));
}
