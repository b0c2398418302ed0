//! Test helpers: a fake task memory, message building, decoding received
//! messages, and an invariant-checking wrapper.

#![allow(dead_code)]

use std::collections::BTreeMap;

use mach_abi::*;
use mach_ipc::*;

/// Task memory for tests: regions are byte vectors behind tokens; port-name
/// arrays live at fake addresses.
#[derive(Default)]
pub struct FakeMemory {
    pub regions: BTreeMap<u64, Vec<u8>>,
    pub mapped: BTreeMap<u64, Vec<u8>>,
    pub name_arrays: BTreeMap<u64, Vec<PortName>>,
    pub deallocated: Vec<(u64, u64)>,
    pub next: u64,
    /// Make every capture fail (to test MACH_SEND_INVALID_MEMORY).
    pub fail_capture: bool,
}

impl TaskMemory for FakeMemory {
    fn capture_region(&mut self, address: u64, size: u32, _copy: CopyOption) -> Result<u64, MachMsgReturn> {
        if self.fail_capture || address == 0 {
            return Err(MachMsgReturn::SendInvalidMemory);
        }
        self.next += 1;
        self.regions.insert(self.next, vec![(address & 0xff) as u8; size as usize]);
        Ok(self.next)
    }
    fn read_port_names(&mut self, address: u64, count: u32) -> Result<Vec<PortName>, MachMsgReturn> {
        let names = self.name_arrays.get(&address).ok_or(MachMsgReturn::SendInvalidMemory)?;
        Ok(names.iter().copied().take(count as usize).collect())
    }
    fn deallocate(&mut self, address: u64, size: u64) {
        self.deallocated.push((address, size));
    }
    fn map_region(&mut self, token: u64, _size: u32) -> Result<u64, MachMsgReturn> {
        let bytes = self.regions.remove(&token).ok_or(MachMsgReturn::ReceiveInvalidData)?;
        let address = 0x1000_0000 + token * 0x1000;
        self.mapped.insert(address, bytes);
        Ok(address)
    }
    fn write_port_names(&mut self, names: &[PortName]) -> Result<u64, MachMsgReturn> {
        self.next += 1;
        let address = 0x2000_0000 + self.next * 0x1000;
        self.name_arrays.insert(address, names.to_vec());
        Ok(address)
    }
}

/// Builds a message: destination (name, disposition), reply, descriptors, data.
pub fn message(
    destination: (PortName, Disposition),
    reply: Option<(PortName, Disposition)>,
    descriptors: &[Descriptor],
    data: &[u8],
) -> Vec<u8> {
    let (reply_name, reply_disposition) =
        reply.map_or((MACH_PORT_NULL, 0), |(name, disposition)| (name, disposition as u32));
    let header = MachMsgHeader {
        bits: msgh_bits(destination.1 as u32, reply_disposition),
        remote_port: destination.0,
        local_port: reply_name,
        id: 1000,
        ..Default::default()
    };
    let mut buffer = vec![0u8; MACH_MSG_SIZE_MAX];
    let mut encoder = MessageEncoder::new(&mut buffer, header, false);
    for descriptor in descriptors {
        encoder.descriptor(*descriptor).unwrap();
    }
    encoder.inline_data(data).unwrap();
    let length = encoder.finish().unwrap();
    buffer.truncate(length);
    buffer
}

pub fn port_descriptor(name: PortName, disposition: Disposition) -> Descriptor {
    Descriptor::Port { name, disposition }
}

/// A received message, decoded.
pub struct Decoded {
    pub header: MachMsgHeader,
    pub descriptors: Vec<Descriptor>,
    pub data: Vec<u8>,
    pub trailer: MachMsgTrailer,
}

pub fn decode(received: &Received) -> Decoded {
    let (view, trailer) = parse_received(&received.bytes).expect("a received message parses");
    assert_eq!(view.header.size as usize + MACH_MSG_TRAILER_SIZE, received.bytes.len());
    Decoded { header: view.header, descriptors: view.descriptors().collect(), data: view.inline_data.to_vec(), trailer }
}

/// Asserts the invariants hold.
pub fn check(ipc: &Ipc) {
    if let Err(violation) = ipc.check_invariants() {
        panic!("invariant violated: {}", violation.0);
    }
}

pub fn new_space(ipc: &mut Ipc, task_id: u32) -> SpaceId {
    ipc.create_space(task_id, SpaceLimits::default())
}

/// Sends with fresh fake memory.
pub fn send(ipc: &mut Ipc, space: SpaceId, bytes: &[u8]) -> Result<SendOutcome, SendError> {
    let result = ipc.send(space, bytes, &mut FakeMemory::default());
    check(ipc);
    result
}

/// Receives into a large buffer with fresh fake memory.
pub fn receive(ipc: &mut Ipc, space: SpaceId, name: PortName) -> Result<Decoded, ReceiveError> {
    let result = ipc.receive(
        space,
        name,
        MACH_MSG_SIZE_MAX + MACH_MSG_TRAILER_SIZE,
        ReceiveOptions::default(),
        &mut FakeMemory::default(),
    );
    check(ipc);
    result.map(|received| decode(&received))
}

/// Delivers notifications and returns (receiving space's view) nothing; use
/// `receive` on the notify port afterwards.
pub fn deliver(ipc: &mut Ipc) -> usize {
    let count = ipc.deliver_notifications().len();
    check(ipc);
    count
}

/// A receive right with a send right under the same name.
pub fn port_with_send(ipc: &mut Ipc, space: SpaceId) -> PortName {
    let name = ipc.allocate(space, PortRight::Receive).unwrap();
    ipc.insert_right(space, name, space, name, Disposition::MakeSend as u32).unwrap();
    check(ipc);
    name
}
