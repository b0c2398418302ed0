//! The workers: [`WORKERS`] threads, each serving the port set of every
//! device's port with the generated dispatch of block.defs or random.defs
//! (chosen by the port a request arrived on), each with a DMA slot of its
//! own for request headers, status and data.
//!
//! A worker serves one request at a time: it puts the request on the
//! device's queue, then waits on its wake port until the interrupt thread
//! (`interrupts.rs`) finds the request in the used ring and wakes it. So up
//! to [`WORKERS`] requests, from any clients, are in flight at once; a
//! request larger than a slot goes in slot-sized pieces.
//!
//! Data is never inline in a message: a write's pages arrive out of line
//! and are copied once into the slot for the device; a read's data is
//! copied once from the slot into fresh pages that the reply moves to the
//! client. (The device needs physically contiguous memory it may DMA into,
//! which only the slot is; no user-space pages are pinned for it.)

use crate::lock::Lock;
use crate::setup::{Device, DeviceState, Service};
use alloc::vec::Vec;
use libmach::abi::{
    msgh_bits, Disposition, MachMsgHeader, MachMsgReturn, PortName, MACH_RCV_MSG, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};
use libmach::device::DeviceMemory;
use libmach::message::{MessageWriter, OutOfLineData};
use libmach::trap::{mach_msg, thread_yield, MessageBuffer};
use libmach::{BoundedBytes, Context, Dispatch, PortSet, SystemKernel};
use mach_virtio_core::block::{self, BlockError, Geometry, RequestBuffers, RequestKind, MAX_TRANSFER};
use mach_virtio_core::queue::{Buffer, QueueError};
use personality_interfaces::{block as block_interface, random as random_interface};

/// Worker threads, hence requests in flight at most.
pub const WORKERS: usize = 8;
/// Bytes of data one request moves at most (a slot's data area).
pub const SLOT_DATA: usize = 128 * 1024;
/// A slot: the header at 0, the status byte at 16, data from 4 KiB.
pub const SLOT_SIZE: usize = 4096 + SLOT_DATA;
const SLOT_HEADER: usize = 0;
const SLOT_STATUS: usize = 16;
const SLOT_DATA_OFFSET: usize = 4096;
/// The id of the header-only message that wakes a worker.
const WAKE_ID: i32 = 3900;
/// The request and reply buffers of a worker's server loop.
const BUFFER_SIZE: usize = if block_interface::BUFFER_SIZE > random_interface::BUFFER_SIZE {
    block_interface::BUFFER_SIZE
} else {
    random_interface::BUFFER_SIZE
};

/// How a request ended, as the interrupt thread found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The device finished it, writing this many bytes into its buffers.
    Done(u32),
    /// The device broke before it finished.
    Failed,
}

/// What the interrupt thread shares with a worker.
pub struct WorkerShared {
    /// A receive right (and a send right under the same name).
    pub wake_port: PortName,
    pub completion: Lock<Option<Completion>>,
}

/// Everything the driver's threads share, set once before the workers start.
pub struct Driver {
    pub host: PortName,
    pub port_set: PortSet,
    pub devices: Vec<Device>,
    pub workers: Vec<WorkerShared>,
    pub slots: Vec<DeviceMemory>,
}

pub static DRIVER: spin::Once<Driver> = spin::Once::new();

/// A worker thread's entry: serves requests until its port set goes away.
pub fn worker(index: usize) {
    let Some(driver) = DRIVER.get() else { return };
    let Some(slot) = driver.slots.get(index) else { return };
    let worker = Worker { index, driver, slot };
    let mut request = MessageBuffer::<BUFFER_SIZE>::new();
    let mut reply = MessageBuffer::<BUFFER_SIZE>::new();
    let code = libmach::server::run(
        &SystemKernel,
        driver.port_set.name(),
        &mut request.0,
        &mut reply.0,
        &mut |request: &[u8], reply: &mut [u8]| worker.handle(request, reply),
    );
    mach_usertests::println!("virtio: worker {index} stopped: {code:?}");
}

struct Worker<'a> {
    index: usize,
    driver: &'a Driver,
    slot: &'a DeviceMemory,
}

impl Worker<'_> {
    fn handle(&self, request: &[u8], reply: &mut [u8]) -> Dispatch {
        let Some(header) = MachMsgHeader::read_from(request) else { return Dispatch::NoReply };
        // The kernel puts the name of the port the request came to in the
        // local port field.
        let Some(device) = self.driver.devices.iter().find(|device| device.port.name() == header.local_port) else {
            return Dispatch::UnknownId;
        };
        match device.service {
            Service::Block(geometry) => {
                let mut server = BlockServer { worker: self, device, geometry };
                block_interface::dispatch(&mut server, &SystemKernel, request, reply)
            }
            Service::Entropy => {
                let mut server = RandomServer { worker: self, device };
                random_interface::dispatch(&mut server, &SystemKernel, request, reply)
            }
        }
    }

    /// Puts `chain` on `device`'s queue and waits until the device is done
    /// with it; returns the bytes the device wrote.
    fn submit_and_wait(&self, device: &Device, chain: &[Buffer]) -> Result<u32, Completion> {
        let shared = &self.driver.workers[self.index];
        *shared.completion.lock() = None;
        let record = loop {
            let mut state = device.state.lock();
            if state.broken {
                return Err(Completion::Failed);
            }
            let DeviceState { transport, rings, queue, waiting, .. } = &mut *state;
            match queue.submit(transport, rings, chain) {
                Ok(token) => {
                    waiting[token as usize] = Some(self.index);
                    state.in_flight += 1;
                    let in_flight = state.in_flight;
                    let record = in_flight > state.most_in_flight;
                    state.most_in_flight = state.most_in_flight.max(in_flight);
                    break record.then_some(in_flight);
                }
                // Every worker has one request at most: only a device
                // with a tiny queue fills up. Let the others finish.
                Err(QueueError::Full) => {
                    drop(state);
                    let _ = thread_yield();
                }
                Err(_) => {
                    state.broken = true;
                    state.transport.fail();
                    return Err(Completion::Failed);
                }
            }
        };
        if let Some(in_flight) = record.filter(|count| count.is_power_of_two() && *count > 1) {
            mach_usertests::println!("virtio: {}: {in_flight} requests in flight", device.name);
        }
        self.wait();
        match shared.completion.lock().take() {
            Some(Completion::Done(written)) => Ok(written),
            _ => Err(Completion::Failed),
        }
    }

    /// Blocks until the interrupt thread wakes this worker.
    fn wait(&self) {
        let port = self.driver.workers[self.index].wake_port;
        let mut buffer = MessageBuffer::<64>::new();
        loop {
            match mach_msg(&mut buffer, MACH_RCV_MSG, 0, port, 0) {
                Err(MachMsgReturn::ReceiveInterrupted) => continue,
                // Anything else (the wake itself, or an error receiving,
                // which cannot happen on a port we own) ends the wait.
                _ => return,
            }
        }
    }

    /// One block request from this worker's slot: `length` bytes of data
    /// at sector `sector` (none for a flush).
    fn block_request(&self, device: &Device, kind: RequestKind, sector: u64, length: u32) -> Result<(), BlockError> {
        let slot = self.slot;
        let prepared = slot
            .write_bytes(SLOT_HEADER, &block::request_header(kind, sector))
            .and_then(|()| slot.write_u8(SLOT_STATUS, 0xff));
        prepared.map_err(|_| BlockError::DeviceError)?;
        let buffers = RequestBuffers {
            header: slot.physical() + SLOT_HEADER as u64,
            data: (length > 0).then_some((slot.physical() + SLOT_DATA_OFFSET as u64, length)),
            status: slot.physical() + SLOT_STATUS as u64,
        };
        let (chain, count) = block::request_chain(kind, buffers);
        self.submit_and_wait(device, &chain[..count]).map_err(|_| BlockError::DeviceError)?;
        block::status(slot.read_u8(SLOT_STATUS).map_err(|_| BlockError::DeviceError)?)
    }
}

/// Wakes worker `index` (the interrupt thread found its request done).
pub fn wake(driver: &Driver, index: usize, completion: Completion) {
    let Some(shared) = driver.workers.get(index) else { return };
    *shared.completion.lock() = Some(completion);
    let mut buffer = MessageBuffer::<64>::new();
    let header = MachMsgHeader {
        bits: msgh_bits(Disposition::CopySend as u32, 0),
        size: 0,
        remote_port: shared.wake_port,
        local_port: 0,
        voucher_port: 0,
        id: WAKE_ID,
    };
    if let Ok(length) = MessageWriter::new(&mut buffer.0, header).finish() {
        // Never waits: a worker has at most one wake outstanding.
        let _ = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_SEND_TIMEOUT, length, 0, 0);
    }
}

struct BlockServer<'a> {
    worker: &'a Worker<'a>,
    device: &'a Device,
    geometry: Geometry,
}

impl block_interface::Server for BlockServer<'_> {
    fn info(&mut self, _context: &Context<'_>) -> Result<block_interface::InfoReply, block_interface::Error> {
        Ok(block_interface::InfoReply {
            block_size: self.geometry.block_size,
            block_count: self.geometry.block_count,
            read_only: self.geometry.read_only,
            max_transfer: MAX_TRANSFER,
        })
    }

    fn read(
        &mut self,
        _context: &Context<'_>,
        first_block: u64,
        block_count: u32,
    ) -> Result<OutOfLineData, block_interface::Error> {
        let run = self.geometry.run(first_block, block_count as u64).map_err(block_interface::Error::from)?;
        let mut data =
            OutOfLineData::allocate(&SystemKernel, run.bytes).map_err(|_| block_interface::Error::NoMemory)?;
        for chunk in run.chunks(SLOT_DATA as u32) {
            self.worker
                .block_request(self.device, RequestKind::Read, chunk.sector, chunk.length)
                .map_err(block_interface::Error::from)?;
            let target = &mut data.bytes_mut()[chunk.offset as usize..(chunk.offset + chunk.length) as usize];
            self.worker.slot.read_bytes(SLOT_DATA_OFFSET, target).map_err(|_| block_interface::Error::DeviceError)?;
        }
        Ok(data)
    }

    fn write(
        &mut self,
        _context: &Context<'_>,
        first_block: u64,
        data: OutOfLineData,
    ) -> Result<(), block_interface::Error> {
        let run = self.geometry.write_run(first_block, data.len()).map_err(block_interface::Error::from)?;
        for chunk in run.chunks(SLOT_DATA as u32) {
            let source = &data.bytes()[chunk.offset as usize..(chunk.offset + chunk.length) as usize];
            self.worker.slot.write_bytes(SLOT_DATA_OFFSET, source).map_err(|_| block_interface::Error::DeviceError)?;
            self.worker
                .block_request(self.device, RequestKind::Write, chunk.sector, chunk.length)
                .map_err(block_interface::Error::from)?;
        }
        Ok(())
    }

    fn flush(&mut self, _context: &Context<'_>) -> Result<(), block_interface::Error> {
        if !self.geometry.flush {
            return Err(block_interface::Error::Unsupported);
        }
        self.worker.block_request(self.device, RequestKind::Flush, 0, 0).map_err(block_interface::Error::from)
    }
}

/// The most short answers the entropy device may give one request before
/// it counts as broken.
const ENTROPY_ATTEMPTS: u32 = 64;

struct RandomServer<'a> {
    worker: &'a Worker<'a>,
    device: &'a Device,
}

impl random_interface::Server for RandomServer<'_> {
    fn read_random(
        &mut self,
        _context: &Context<'_>,
        length: u32,
    ) -> Result<BoundedBytes<256>, random_interface::Error> {
        if length == 0 || length > 256 {
            return Err(random_interface::Error::BadRequest);
        }
        let mut bytes = [0u8; 256];
        let mut have = 0u32;
        for _ in 0..ENTROPY_ATTEMPTS {
            if have == length {
                break;
            }
            let want = length - have;
            let buffer = Buffer {
                physical: self.worker.slot.physical() + SLOT_DATA_OFFSET as u64,
                length: want,
                device_writes: true,
            };
            let written = self
                .worker
                .submit_and_wait(self.device, &[buffer])
                .map_err(|_| random_interface::Error::DeviceError)?
                .min(want);
            let target = &mut bytes[have as usize..(have + written) as usize];
            self.worker.slot.read_bytes(SLOT_DATA_OFFSET, target).map_err(|_| random_interface::Error::DeviceError)?;
            have += written;
        }
        if have != length {
            return Err(random_interface::Error::DeviceError);
        }
        BoundedBytes::from_slice(&bytes[..length as usize]).ok_or(random_interface::Error::BadRequest)
    }
}
