//! The driver's one thread: a loop over one port set holding every
//! device's port and the interrupt port.
//!
//! - A request (block.defs, random.defs: chosen by the port it came to) is
//!   checked; `info` and anything refused are answered at once; a read,
//!   write, flush or entropy request keeps its reply right (a deferred
//!   reply, `Pending<Routine>`) and becomes a held [`Request`] cut in
//!   pieces of at most [`SLOT_DATA`] bytes.
//! - Pieces start in arrival order whenever a DMA slot is free: the slot
//!   gets the request header, status byte and (for a write) the data, and
//!   the descriptor chain goes on the device's queue. So up to [`SLOTS`]
//!   pieces, from any requests of any clients, are on the devices at once.
//! - An interrupt message is acknowledged, then every finished piece is
//!   taken off the used ring: its status checked, a read's data copied out
//!   of the slot, the slot freed; a request whose last piece finished is
//!   answered through its kept reply right; waiting pieces start.
//! - At most [`REQUESTS_MAX`] requests are held (fewer with
//!   `--held-requests N`). At that many, the devices' ports leave the port
//!   set until half have been answered: new requests
//!   wait in the kernel's queues (and their senders, once a queue is full),
//!   so no client can make the driver hold more.
//!
//! Data is never inline in a message: a write's pages arrive out of line
//! and each piece is copied once into its slot; a read's pieces are copied
//! once from their slots into pages the answer moves to the client. (A
//! device DMAs only into memory whose physical address the driver knows,
//! which only the slots are; no client page is pinned for it.)

use crate::setup::{Device, DeviceState, Service};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use libmach::abi::{parse_received, MachMsgHeader, PortName, INTERRUPT_MESSAGE_ID};
use libmach::device::DeviceMemory;
use libmach::message::OutOfLineData;
use libmach::request::{Answer, Context};
use libmach::trap::MessageBuffer;
use libmach::{BoundedBytes, Dispatch, PortSet, SystemKernel};
use mach_usertests::println;
use mach_virtio_core::block::{self, BlockError, RequestBuffers, RequestKind, Run, MAX_TRANSFER, SECTOR_SIZE};
use mach_virtio_core::queue::{Buffer, QueueError, Used};
use personality_interfaces::{block as block_interface, random as random_interface};

/// Requests held (answered later) at most; `--held-requests N` on the
/// driver's manifest line lowers it (the tests do, to reach it).
pub const REQUESTS_MAX: usize = 64;
/// DMA slots: each carries one piece of a request while it is on a device.
pub const SLOTS: usize = 16;
/// Bytes of data one piece moves at most (a slot's size).
pub const SLOT_DATA: usize = 128 * 1024;
/// Slot `i`'s request header is at `i * HEADER_STRIDE` in the header page,
/// its status byte 16 bytes further.
const HEADER_STRIDE: usize = 32;
const STATUS_OFFSET: usize = 16;
/// Short answers the entropy device may give one request before it counts
/// as broken.
const ENTROPY_ATTEMPTS: u32 = 64;
/// The server loop's buffers: the larger interface's, which also holds an
/// interrupt message.
const BUFFER_SIZE: usize = if block_interface::BUFFER_SIZE > random_interface::BUFFER_SIZE {
    block_interface::BUFFER_SIZE
} else {
    random_interface::BUFFER_SIZE
};

const _: () = assert!(SLOTS * HEADER_STRIDE <= 4096);
const _: () = assert!(SLOT_DATA.is_multiple_of(SECTOR_SIZE as usize) && MAX_TRANSFER as usize >= SLOT_DATA);

/// A piece of a request on a device: which request, which slot, and where
/// its bytes go in the request's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub request: usize,
    pub slot: usize,
    pub offset: u32,
    pub length: u32,
}

/// What a held request does, and the reply right it answers through.
enum Work {
    Read { run: Run, data: OutOfLineData, reply: block_interface::PendingRead },
    Write { run: Run, data: OutOfLineData, reply: block_interface::PendingWrite },
    Flush { reply: block_interface::PendingFlush },
    Random { length: u32, have: u32, bytes: Box<[u8; 256]>, attempts: u32, reply: random_interface::PendingReadRandom },
}

struct Request {
    device: usize,
    work: Work,
    /// Pieces in all (an entropy request gains one per short answer).
    pieces: u32,
    /// Pieces put on the device so far.
    started: u32,
    /// Pieces on the device now.
    outstanding: u32,
    error: Option<BlockError>,
}

/// What one piece asks of the device: the request type, its sector, and
/// where its bytes are in the request's data.
struct Piece {
    kind: RequestKind,
    sector: u64,
    offset: u32,
    length: u32,
}

impl Request {
    fn piece(&self, index: u32) -> Piece {
        let of_run = |kind, run: &Run| {
            let offset = index * SLOT_DATA as u32;
            let length = (SLOT_DATA as u32).min(run.bytes - offset);
            Piece { kind, sector: run.first_sector + offset as u64 / SECTOR_SIZE, offset, length }
        };
        match &self.work {
            Work::Read { run, .. } => of_run(RequestKind::Read, run),
            Work::Write { run, .. } => of_run(RequestKind::Write, run),
            Work::Flush { .. } => Piece { kind: RequestKind::Flush, sector: 0, offset: 0, length: 0 },
            Work::Random { length, have, .. } => {
                Piece { kind: RequestKind::Read, sector: 0, offset: *have, length: length - have }
            }
        }
    }

    /// Answers the client. A client that went away (its reply port is
    /// gone) gets nothing: the send fails and what the answer carried is
    /// freed with it.
    fn answer(self) {
        let error = self.error;
        match self.work {
            Work::Read { data, reply, .. } => {
                let _ = reply.send(error.map_or(Ok(data), |error| Err(error.into())));
            }
            Work::Write { reply, .. } => {
                let _ = reply.send(error.map_or(Ok(()), |error| Err(error.into())));
            }
            Work::Flush { reply } => {
                let _ = reply.send(error.map_or(Ok(()), |error| Err(error.into())));
            }
            Work::Random { length, bytes, reply, .. } => {
                let result = match error {
                    None => {
                        BoundedBytes::from_slice(&bytes[..length as usize]).ok_or(random_interface::Error::DeviceError)
                    }
                    Some(_) => Err(random_interface::Error::DeviceError),
                };
                let _ = reply.send(result);
            }
        }
    }
}

pub struct Driver {
    host: PortName,
    port_set: PortSet,
    interrupt_port: PortName,
    pub devices: Vec<Device>,
    headers: DeviceMemory,
    slots: Vec<DeviceMemory>,
    free_slots: Vec<usize>,
    requests: Vec<Option<Request>>,
    held: usize,
    /// The most requests held before the ports leave the port set.
    held_max: usize,
    /// Requests with pieces still to start, oldest first.
    ready: VecDeque<usize>,
    /// Whether the devices' ports are in the port set.
    accepting: bool,
    limit_reported: bool,
}

impl Driver {
    /// The driver over `devices` (their ports already in `port_set`, with
    /// the interrupt port), with its DMA `headers` page and `slots`,
    /// holding at most `held_max` requests (1..=[`REQUESTS_MAX`]).
    pub fn new(
        host: PortName,
        port_set: PortSet,
        interrupt_port: PortName,
        devices: Vec<Device>,
        headers: DeviceMemory,
        slots: Vec<DeviceMemory>,
        held_max: usize,
    ) -> Self {
        let free_slots = (0..slots.len()).rev().collect();
        let requests = (0..REQUESTS_MAX).map(|_| None).collect();
        Driver {
            host,
            port_set,
            interrupt_port,
            devices,
            headers,
            slots,
            free_slots,
            requests,
            held: 0,
            held_max: held_max.clamp(1, REQUESTS_MAX),
            ready: VecDeque::new(),
            accepting: true,
            limit_reported: false,
        }
    }

    /// Serves requests and interrupts until the port set goes away.
    pub fn serve(&mut self) {
        let set = self.port_set.name();
        let mut request = MessageBuffer::<BUFFER_SIZE>::new();
        let mut reply = MessageBuffer::<BUFFER_SIZE>::new();
        let code = libmach::server::run(
            &SystemKernel,
            set,
            &mut request.0,
            &mut reply.0,
            &mut |request: &[u8], reply: &mut [u8]| self.handle(request, reply),
        );
        println!("virtio: stopped serving: {code:?}");
    }

    fn handle(&mut self, request: &[u8], reply: &mut [u8]) -> Dispatch {
        let Some(header) = MachMsgHeader::read_from(request) else { return Dispatch::NoReply };
        // The kernel puts the name of the port the message came to in the
        // local port field.
        let dispatched = if header.local_port == self.interrupt_port {
            self.interrupt(request);
            Dispatch::NoReply
        } else if let Some(index) = self.devices.iter().position(|device| device.port.name() == header.local_port) {
            match self.devices[index].service {
                Service::Block(_) => block_interface::dispatch(
                    &mut BlockServer { driver: self, device: index },
                    &SystemKernel,
                    request,
                    reply,
                ),
                Service::Entropy => random_interface::dispatch(
                    &mut RandomServer { driver: self, device: index },
                    &SystemKernel,
                    request,
                    reply,
                ),
            }
        } else {
            Dispatch::UnknownId
        };
        self.regulate();
        dispatched
    }

    /// Keeps the number of held requests bounded: the devices' ports leave
    /// the port set at `held_max` and come back at half of it.
    fn regulate(&mut self) {
        if self.accepting && self.held >= self.held_max {
            for device in &self.devices {
                let _ = device.port.leave_set();
            }
            self.accepting = false;
            self.report_limit();
        } else if !self.accepting && self.held <= self.held_max / 2 {
            for device in &self.devices {
                let _ = self.port_set.insert(&device.port);
            }
            self.accepting = true;
        }
    }

    /// Says once that the limit was reached (the tests look for it).
    fn report_limit(&mut self) {
        if !self.limit_reported {
            self.limit_reported = true;
            println!("virtio: holding {} requests: new ones wait in the ports' queues", self.held);
        }
    }

    /// Takes a request to answer later; `None` if no more can be held.
    fn hold(&mut self, device: usize, work: Work, pieces: u32) -> Result<(), Work> {
        let Some(index) = self.requests.iter().position(Option::is_none) else { return Err(work) };
        self.requests[index] = Some(Request { device, work, pieces, started: 0, outstanding: 0, error: None });
        self.held += 1;
        self.ready.push_back(index);
        self.start_ready();
        Ok(())
    }

    /// Puts waiting pieces on their devices while slots are free.
    fn start_ready(&mut self) {
        while let Some(&index) = self.ready.front() {
            let Some(request) = self.requests[index].as_mut() else {
                self.ready.pop_front();
                continue;
            };
            if request.started == request.pieces || request.error.is_some() {
                self.ready.pop_front();
                self.finish_if_done(index);
                continue;
            }
            let Some(&slot) = self.free_slots.last() else { return };
            let device = &mut self.devices[request.device];
            let piece = request.piece(request.started);
            let started = start_piece(&mut device.state, &self.headers, &self.slots[slot], slot, request, &piece);
            match started {
                Ok(head) => {
                    self.free_slots.pop();
                    request.started += 1;
                    request.outstanding += 1;
                    let state = &mut device.state;
                    state.in_flight[head as usize] =
                        Some(Chunk { request: index, slot, offset: piece.offset, length: piece.length });
                    state.in_flight_count += 1;
                    if state.in_flight_count > state.most_in_flight {
                        state.most_in_flight = state.in_flight_count;
                        if state.most_in_flight > 1 && state.most_in_flight.is_power_of_two() {
                            println!("virtio: {}: {} requests in flight", device.name, state.most_in_flight);
                        }
                    }
                }
                // Every slot's chain fits a queue of 128; a smaller queue
                // fills up: wait for completions.
                Err(StartError::QueueFull) => return,
                Err(StartError::Failed(error)) => {
                    request.error = Some(error);
                    self.ready.pop_front();
                    self.finish_if_done(index);
                }
            }
        }
    }

    /// Answers request `index` once nothing of it is on a device and
    /// nothing more will start.
    fn finish_if_done(&mut self, index: usize) {
        let done = self.requests[index].as_ref().is_some_and(|request| {
            request.outstanding == 0 && (request.started == request.pieces || request.error.is_some())
        });
        if done {
            if let Some(request) = self.requests[index].take() {
                self.held -= 1;
                request.answer();
            }
        }
    }

    /// An interrupt message: acknowledge, then finish what the devices did.
    fn interrupt(&mut self, message: &[u8]) {
        let Ok((view, _)) = parse_received(message) else { return };
        let number = <[u8; 4]>::try_from(view.inline_data).ok().map(u32::from_le_bytes);
        let Some(number) = number.filter(|_| view.header.id == INTERRUPT_MESSAGE_ID && view.descriptor_count() == 0)
        else {
            // Only the kernel sends here (the one other send right is our
            // own); whatever else arrives is released.
            libmach::message::release_received(&SystemKernel, &view);
            return;
        };
        // A device on a line (virtio-mmio) is acknowledged first, so its
        // line is down when the kernel unmasks it; whatever it finishes
        // after this raises the line again and is drained then.
        for device in self.devices.iter().filter(|device| device.interrupt == number) {
            let _ = device.state.transport.acknowledge_interrupt();
        }
        let _ = libmach::device::interrupt_acknowledge(self.host, number);
        for index in 0..self.devices.len() {
            if self.devices[index].interrupt == number {
                self.drain(index);
            }
        }
        self.start_ready();
    }

    /// Takes every finished piece off device `index`'s used ring.
    fn drain(&mut self, index: usize) {
        loop {
            let state = &mut self.devices[index].state;
            let DeviceState { rings, queue, .. } = state;
            match queue.complete(rings) {
                Ok(Some(used)) => self.complete(index, used),
                Ok(None) => return,
                Err(error) => {
                    self.fail_device(index, error);
                    return;
                }
            }
        }
    }

    /// The used ring made no sense: stop trusting the device, end what it
    /// holds with `device_error`.
    fn fail_device(&mut self, index: usize, error: QueueError) {
        let device = &mut self.devices[index];
        println!("virtio: {}: device misbehaved ({error:?}); marking it failed", device.name);
        device.state.broken = true;
        device.state.transport.fail();
        let chunks: Vec<Chunk> = device.state.in_flight.iter_mut().filter_map(Option::take).collect();
        device.state.in_flight_count = 0;
        for chunk in chunks {
            self.free_slots.push(chunk.slot);
            if let Some(request) = self.requests[chunk.request].as_mut() {
                request.outstanding -= 1;
                request.error = Some(BlockError::DeviceError);
            }
            self.finish_if_done(chunk.request);
        }
    }

    /// One piece finished on device `index`.
    fn complete(&mut self, index: usize, used: Used) {
        let state = &mut self.devices[index].state;
        // A head not in flight was refused by the queue already; a spurious
        // one here would be the queue's bug: ignore it.
        let Some(chunk) = state.in_flight.get_mut(used.head as usize).and_then(Option::take) else { return };
        state.in_flight_count -= 1;
        self.free_slots.push(chunk.slot);
        let Some(request) = self.requests[chunk.request].as_mut() else { return };
        request.outstanding -= 1;
        let slot = &self.slots[chunk.slot];
        let status =
            self.headers.read_u8(chunk.slot * HEADER_STRIDE + STATUS_OFFSET).map_err(|_| BlockError::DeviceError);
        match &mut request.work {
            Work::Read { data, .. } => {
                let target = &mut data.bytes_mut()[chunk.offset as usize..(chunk.offset + chunk.length) as usize];
                let copied = status
                    .and_then(block::status)
                    .and_then(|()| slot.read_bytes(0, target).map_err(|_| BlockError::DeviceError));
                if let Err(error) = copied {
                    request.error.get_or_insert(error);
                }
            }
            Work::Write { .. } | Work::Flush { .. } => {
                if let Err(error) = status.and_then(block::status) {
                    request.error.get_or_insert(error);
                }
            }
            Work::Random { length, have, bytes, attempts, .. } => {
                let written = used.written.min(*length - *have);
                let target = &mut bytes[*have as usize..(*have + written) as usize];
                if slot.read_bytes(0, target).is_err() {
                    request.error.get_or_insert(BlockError::DeviceError);
                }
                *have += written;
                *attempts += 1;
                if *have < *length && request.error.is_none() {
                    if *attempts >= ENTROPY_ATTEMPTS {
                        request.error = Some(BlockError::DeviceError);
                    } else {
                        request.pieces += 1;
                        self.ready.push_back(chunk.request);
                    }
                }
            }
        }
        self.finish_if_done(chunk.request);
    }
}

enum StartError {
    QueueFull,
    Failed(BlockError),
}

/// Fills `slot` for `piece` of `request` and puts its chain on the device.
fn start_piece(
    state: &mut DeviceState,
    headers: &DeviceMemory,
    slot_memory: &DeviceMemory,
    slot: usize,
    request: &Request,
    piece: &Piece,
) -> Result<u16, StartError> {
    if state.broken {
        return Err(StartError::Failed(BlockError::DeviceError));
    }
    let fault = |_| StartError::Failed(BlockError::DeviceError);
    let chain: ([Buffer; 3], usize) = match &request.work {
        Work::Random { .. } => {
            let buffer = Buffer { physical: slot_memory.physical(), length: piece.length, device_writes: true };
            ([buffer; 3], 1)
        }
        work => {
            if let Work::Write { data, .. } = work {
                let source = &data.bytes()[piece.offset as usize..(piece.offset + piece.length) as usize];
                slot_memory.write_bytes(0, source).map_err(fault)?;
            }
            let header = slot * HEADER_STRIDE;
            headers.write_bytes(header, &block::request_header(piece.kind, piece.sector)).map_err(fault)?;
            headers.write_u8(header + STATUS_OFFSET, 0xff).map_err(fault)?;
            let buffers = RequestBuffers {
                header: headers.physical() + header as u64,
                data: (piece.length > 0).then_some((slot_memory.physical(), piece.length)),
                status: headers.physical() + (header + STATUS_OFFSET) as u64,
            };
            block::request_chain(piece.kind, buffers)
        }
    };
    let DeviceState { transport, rings, queue, .. } = state;
    match queue.submit(transport, rings, &chain.0[..chain.1]) {
        Ok(head) => Ok(head),
        Err(QueueError::Full) => Err(StartError::QueueFull),
        Err(_) => {
            state.broken = true;
            state.transport.fail();
            Err(StartError::Failed(BlockError::DeviceError))
        }
    }
}

struct BlockServer<'a> {
    driver: &'a mut Driver,
    device: usize,
}

impl BlockServer<'_> {
    fn geometry(&self) -> Result<block::Geometry, block_interface::Error> {
        match self.driver.devices[self.device].service {
            Service::Block(geometry) => Ok(geometry),
            Service::Entropy => Err(block_interface::Error::DeviceError),
        }
    }

    fn usable(&self) -> Result<(), block_interface::Error> {
        match self.driver.devices[self.device].state.broken {
            true => Err(block_interface::Error::DeviceError),
            false => Ok(()),
        }
    }

    /// Holds `work` for later, or refuses it when nothing more can be held.
    fn defer<T>(&mut self, work: Work, pieces: u32) -> Result<Answer<T>, block_interface::Error> {
        match self.driver.hold(self.device, work, pieces) {
            Ok(()) => Ok(Answer::Later),
            Err(work) => {
                // Cannot happen while the ports leave the set at the limit;
                // answered at once through the kept right if it did.
                let request = Request {
                    device: self.device,
                    work,
                    pieces,
                    started: 0,
                    outstanding: 0,
                    error: Some(BlockError::DeviceError),
                };
                request.answer();
                Ok(Answer::Later)
            }
        }
    }
}

impl block_interface::Server for BlockServer<'_> {
    fn info(&mut self, _context: &Context<'_>) -> Result<block_interface::InfoReply, block_interface::Error> {
        let geometry = self.geometry()?;
        Ok(block_interface::InfoReply {
            block_size: geometry.block_size,
            block_count: geometry.block_count,
            read_only: geometry.read_only,
            max_transfer: MAX_TRANSFER,
        })
    }

    fn read(
        &mut self,
        context: &Context<'_>,
        first_block: u64,
        block_count: u32,
    ) -> Result<Answer<OutOfLineData>, block_interface::Error> {
        let run = self.geometry()?.run(first_block, block_count as u64)?;
        self.usable()?;
        let data = OutOfLineData::allocate(&SystemKernel, run.bytes).map_err(|_| block_interface::Error::NoMemory)?;
        let reply = block_interface::PendingRead::keep(context).ok_or(block_interface::Error::DeviceError)?;
        self.defer(Work::Read { run, data, reply }, run.bytes.div_ceil(SLOT_DATA as u32))
    }

    fn write(
        &mut self,
        context: &Context<'_>,
        first_block: u64,
        data: OutOfLineData,
    ) -> Result<Answer<()>, block_interface::Error> {
        let run = self.geometry()?.write_run(first_block, data.len())?;
        self.usable()?;
        let reply = block_interface::PendingWrite::keep(context).ok_or(block_interface::Error::DeviceError)?;
        self.defer(Work::Write { run, data, reply }, run.bytes.div_ceil(SLOT_DATA as u32))
    }

    fn flush(&mut self, context: &Context<'_>) -> Result<Answer<()>, block_interface::Error> {
        if !self.geometry()?.flush {
            return Err(block_interface::Error::Unsupported);
        }
        self.usable()?;
        let reply = block_interface::PendingFlush::keep(context).ok_or(block_interface::Error::DeviceError)?;
        self.defer(Work::Flush { reply }, 1)
    }
}

struct RandomServer<'a> {
    driver: &'a mut Driver,
    device: usize,
}

impl random_interface::Server for RandomServer<'_> {
    fn read_random(
        &mut self,
        context: &Context<'_>,
        length: u32,
    ) -> Result<Answer<BoundedBytes<256>>, random_interface::Error> {
        if length == 0 || length > 256 {
            return Err(random_interface::Error::BadRequest);
        }
        if self.driver.devices[self.device].state.broken {
            return Err(random_interface::Error::DeviceError);
        }
        let reply = random_interface::PendingReadRandom::keep(context).ok_or(random_interface::Error::DeviceError)?;
        let work = Work::Random { length, have: 0, bytes: Box::new([0; 256]), attempts: 0, reply };
        match self.driver.hold(self.device, work, 1) {
            Ok(()) => Ok(Answer::Later),
            Err(work) => {
                let request = Request {
                    device: self.device,
                    work,
                    pieces: 1,
                    started: 0,
                    outstanding: 0,
                    error: Some(BlockError::DeviceError),
                };
                request.answer();
                Ok(Answer::Later)
            }
        }
    }
}
