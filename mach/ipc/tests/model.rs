//! Property tests: random right operations against a simple reference
//! model, with `check_invariants` after every step; and random messages
//! (valid-looking and garbage) that must never panic or break invariants.

mod common;

use std::collections::{BTreeMap, VecDeque};

use common::*;
use mach_abi::*;
use mach_ipc::*;
use proptest::prelude::*;

const SPACES: usize = 3;
const BOGUS_NAME: PortName = 0x7fff_ff00;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Carried {
    Send(usize),
    Receive(usize),
    Dead,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct ModelEntry {
    port: Option<usize>,
    receive: bool,
    send: u32,
    dead: u32,
}

impl ModelEntry {
    fn is_empty(&self) -> bool {
        !self.receive && self.send == 0 && self.dead == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ModelReceiver {
    Space,
    Queued(usize),
    Dead,
}

struct ModelPort {
    receiver: ModelReceiver,
    queue: VecDeque<Vec<Carried>>,
    real: PortId,
}

#[derive(Default)]
struct Model {
    spaces: Vec<BTreeMap<PortName, ModelEntry>>,
    ports: Vec<ModelPort>,
}

#[derive(Clone, Debug)]
enum Operation {
    Allocate {
        space: usize,
    },
    MakeSend {
        space: usize,
        pick: usize,
    },
    ModRefsSend {
        space: usize,
        pick: usize,
        delta: i32,
    },
    Deallocate {
        space: usize,
        pick: usize,
    },
    Destroy {
        space: usize,
        pick: usize,
    },
    DestroyReceive {
        space: usize,
        pick: usize,
    },
    Send {
        space: usize,
        pick: usize,
        destination: u8,
        carried: Vec<(usize, u8)>,
    },
    Receive {
        space: usize,
        pick: usize,
    },
    Grant {
        space: usize,
        pick: usize,
        to: usize,
    },
    /// `to`'s task ends and a new task replaces it, created from `from`
    /// with `TASK_CREATE_INHERIT_SEND_RIGHTS`.
    Inherit {
        from: usize,
        to: usize,
    },
}

fn operation_strategy() -> impl Strategy<Value = Operation> {
    let space = 0..SPACES;
    let pick = 0..8usize;
    prop_oneof![
        3 => space.clone().prop_map(|space| Operation::Allocate { space }),
        3 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::MakeSend { space, pick }),
        2 => (space.clone(), pick.clone(), -2..=2i32).prop_map(|(space, pick, delta)| Operation::ModRefsSend { space, pick, delta }),
        2 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::Deallocate { space, pick }),
        1 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::Destroy { space, pick }),
        1 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::DestroyReceive { space, pick }),
        5 => (space.clone(), pick.clone(), 0..3u8, prop::collection::vec((0..8usize, 0..4u8), 0..3))
            .prop_map(|(space, pick, destination, carried)| Operation::Send { space, pick, destination, carried }),
        6 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::Receive { space, pick }),
        3 => (space.clone(), pick, space.clone()).prop_map(|(space, pick, to)| Operation::Grant { space, pick, to }),
        1 => (space.clone(), space).prop_map(|(from, to)| Operation::Inherit { from, to }),
    ]
}

const DESTINATION_DISPOSITIONS: [Disposition; 3] =
    [Disposition::CopySend, Disposition::MakeSend, Disposition::MoveSend];
const BODY_DISPOSITIONS: [Disposition; 4] =
    [Disposition::MoveSend, Disposition::CopySend, Disposition::MakeSend, Disposition::MoveReceive];

impl Model {
    fn pick(&self, space: usize, pick: usize) -> PortName {
        // One slot past the names stands for a name the space does not have.
        let names: Vec<PortName> = self.spaces[space].keys().copied().collect();
        names.get(pick % (names.len() + 1)).copied().unwrap_or(BOGUS_NAME)
    }

    fn remove_if_empty(&mut self, space: usize, name: PortName) {
        if self.spaces[space].get(&name).is_some_and(ModelEntry::is_empty) {
            self.spaces[space].remove(&name);
        }
    }

    /// Port death with a work list, as the implementation must do it.
    fn kill(&mut self, port: usize) {
        let mut work = vec![port];
        while let Some(port) = work.pop() {
            self.ports[port].receiver = ModelReceiver::Dead;
            for space in self.spaces.iter_mut() {
                let names: Vec<PortName> =
                    space.iter().filter(|(_, e)| e.port == Some(port)).map(|(n, _)| *n).collect();
                for name in names {
                    let entry = space.get_mut(&name).unwrap();
                    if entry.send > 0 {
                        *entry = ModelEntry { port: None, receive: false, send: 0, dead: entry.send };
                    } else {
                        space.remove(&name);
                    }
                }
            }
            for message in std::mem::take(&mut self.ports[port].queue) {
                for carried in message {
                    if let Carried::Receive(inner) = carried {
                        work.push(inner);
                    }
                }
            }
        }
    }

    fn take(entry: &mut ModelEntry, disposition: Disposition) -> Option<Carried> {
        match disposition {
            Disposition::MoveReceive if entry.receive => {
                entry.receive = false;
                Some(Carried::Receive(entry.port.unwrap()))
            }
            Disposition::MoveSend if entry.send > 0 => {
                entry.send -= 1;
                Some(Carried::Send(entry.port.unwrap()))
            }
            Disposition::MoveSend if entry.dead > 0 => {
                entry.dead -= 1;
                Some(Carried::Dead)
            }
            Disposition::CopySend if entry.send > 0 => Some(Carried::Send(entry.port.unwrap())),
            Disposition::CopySend if entry.dead > 0 => Some(Carried::Dead),
            Disposition::MakeSend if entry.receive => Some(Carried::Send(entry.port.unwrap())),
            _ => None,
        }
    }

    fn is_circular(&self, destination: usize, carried: usize) -> bool {
        let mut current = destination;
        loop {
            if current == carried {
                return true;
            }
            match self.ports[current].receiver {
                ModelReceiver::Queued(next) => current = next,
                _ => return false,
            }
        }
    }
}

struct Harness {
    next_granted_name: u32,
    ipc: Ipc,
    spaces: Vec<SpaceId>,
    model: Model,
}

impl Harness {
    fn new() -> Harness {
        let mut ipc = Ipc::new();
        let spaces = (0..SPACES).map(|index| ipc.create_space(index as u32 + 1, SpaceLimits::default())).collect();
        Harness {
            next_granted_name: 0x10_0000,
            ipc,
            spaces,
            model: Model { spaces: vec![BTreeMap::new(); SPACES], ports: Vec::new() },
        }
    }

    fn run(&mut self, operation: &Operation) -> Result<(), TestCaseError> {
        match *operation {
            Operation::Allocate { space } => {
                let name = self.ipc.allocate(self.spaces[space], PortRight::Receive).unwrap();
                prop_assert!(!self.model.spaces[space].contains_key(&name), "fresh name reused");
                let real = self.ipc.port_of(self.spaces[space], name).unwrap();
                self.model.ports.push(ModelPort { receiver: ModelReceiver::Space, queue: VecDeque::new(), real });
                let port = self.model.ports.len() - 1;
                self.model.spaces[space]
                    .insert(name, ModelEntry { port: Some(port), receive: true, ..Default::default() });
            }
            Operation::MakeSend { space, pick } => {
                let name = self.model.pick(space, pick);
                let actual = self.ipc.insert_right(
                    self.spaces[space],
                    name,
                    self.spaces[space],
                    name,
                    Disposition::MakeSend as u32,
                );
                let expected = match self.model.spaces[space].get_mut(&name) {
                    None => Err(KernReturn::InvalidName),
                    Some(entry) if entry.receive => {
                        entry.send += 1;
                        Ok(())
                    }
                    Some(_) => Err(KernReturn::InvalidRight),
                };
                prop_assert_eq!(actual, expected);
            }
            Operation::ModRefsSend { space, pick, delta } => {
                let name = self.model.pick(space, pick);
                let actual = self.ipc.mod_refs(self.spaces[space], name, PortRight::Send, delta);
                let expected = match self.model.spaces[space].get_mut(&name) {
                    None => Err(KernReturn::InvalidName),
                    Some(entry) if entry.send > 0 => {
                        let updated = entry.send as i64 + delta as i64;
                        if updated < 0 {
                            Err(KernReturn::InvalidValue)
                        } else {
                            entry.send = updated as u32;
                            Ok(())
                        }
                    }
                    Some(_) => Err(KernReturn::InvalidRight),
                };
                self.model.remove_if_empty(space, name);
                prop_assert_eq!(actual, expected);
            }
            Operation::Deallocate { space, pick } => {
                let name = self.model.pick(space, pick);
                let actual = self.ipc.deallocate(self.spaces[space], name);
                let expected = match self.model.spaces[space].get_mut(&name) {
                    None => Err(KernReturn::InvalidName),
                    Some(entry) if entry.send > 0 => {
                        entry.send -= 1;
                        Ok(())
                    }
                    Some(entry) if entry.dead > 0 => {
                        entry.dead -= 1;
                        Ok(())
                    }
                    Some(_) => Err(KernReturn::InvalidRight),
                };
                self.model.remove_if_empty(space, name);
                prop_assert_eq!(actual, expected);
            }
            Operation::Destroy { space, pick } => {
                let name = self.model.pick(space, pick);
                let actual = self.ipc.destroy(self.spaces[space], name);
                let expected = match self.model.spaces[space].remove(&name) {
                    None => Err(KernReturn::InvalidName),
                    Some(entry) => {
                        if entry.receive {
                            self.model.kill(entry.port.unwrap());
                        }
                        Ok(())
                    }
                };
                prop_assert_eq!(actual, expected);
            }
            Operation::DestroyReceive { space, pick } => {
                let name = self.model.pick(space, pick);
                let actual = self.ipc.mod_refs(self.spaces[space], name, PortRight::Receive, -1);
                let expected = match self.model.spaces[space].get_mut(&name) {
                    None => Err(KernReturn::InvalidName),
                    Some(entry) if entry.receive => {
                        entry.receive = false;
                        let port = entry.port.unwrap();
                        self.model.remove_if_empty(space, name);
                        self.model.kill(port);
                        Ok(())
                    }
                    Some(_) => Err(KernReturn::InvalidRight),
                };
                prop_assert_eq!(actual, expected);
            }
            Operation::Send { space, pick, destination, ref carried } => {
                let destination_name = self.model.pick(space, pick);
                let destination_disposition = DESTINATION_DISPOSITIONS[destination as usize];
                let body: Vec<(PortName, Disposition)> = carried
                    .iter()
                    .map(|(pick, disposition)| {
                        (self.model.pick(space, *pick), BODY_DISPOSITIONS[*disposition as usize])
                    })
                    .collect();
                let descriptors: Vec<Descriptor> =
                    body.iter().map(|(name, disposition)| port_descriptor(*name, *disposition)).collect();
                let bytes = message((destination_name, destination_disposition), None, &descriptors, b"model");
                let actual = self.ipc.send(self.spaces[space], &bytes, &mut FakeMemory::default());
                let expected = self.model_send(space, destination_name, destination_disposition, &body);
                match (&actual, &expected) {
                    (Ok(outcome), Ok(port)) => {
                        prop_assert_eq!(outcome.port, self.model.ports[*port].real)
                    }
                    (Err(SendError::QueueFull { port: real }), Err(SendError::QueueFull { .. })) => {
                        prop_assert!(self.model.ports.iter().any(|p| p.real == *real))
                    }
                    _ => prop_assert_eq!(actual.map(|_| ()), expected.map(|_| ())),
                }
            }
            Operation::Grant { space, pick, to } => {
                // insert_right(to, name, space, name, MAKE_SEND): the name is
                // the one `to` already uses for the port, or a fresh one.
                let name = self.model.pick(space, pick);
                let entry = self.model.spaces[space].get(&name).copied();
                let target_name = match entry.and_then(|entry| entry.port) {
                    Some(port) => {
                        self.model.spaces[to].iter().find(|(_, entry)| entry.port == Some(port)).map(|(name, _)| *name)
                    }
                    None => None,
                };
                let target_name = target_name.unwrap_or_else(|| {
                    self.next_granted_name += 0x100;
                    self.next_granted_name
                });
                let actual = self.ipc.insert_right(
                    self.spaces[to],
                    target_name,
                    self.spaces[space],
                    name,
                    Disposition::MakeSend as u32,
                );
                let expected = match entry {
                    None => Err(KernReturn::InvalidName),
                    Some(entry) if entry.receive => {
                        let port = entry.port;
                        let target = self.model.spaces[to]
                            .entry(target_name)
                            .or_insert(ModelEntry { port, ..Default::default() });
                        target.send += 1;
                        Ok(())
                    }
                    Some(_) => Err(KernReturn::InvalidRight),
                };
                prop_assert_eq!(actual, expected);
            }
            Operation::Inherit { from, to } => {
                if from == to {
                    return Ok(());
                }
                self.ipc.destroy_space(self.spaces[to]).unwrap();
                self.ipc.deliver_notifications();
                for entry in std::mem::take(&mut self.model.spaces[to]).into_values() {
                    if entry.receive {
                        self.model.kill(entry.port.unwrap());
                    }
                }
                self.spaces[to] = self.ipc.create_space(to as u32 + 1, SpaceLimits::default());
                let copied = self.ipc.inherit_send_rights(self.spaces[from], self.spaces[to]);
                let inherited: BTreeMap<PortName, ModelEntry> = self.model.spaces[from]
                    .iter()
                    .filter(|(_, entry)| entry.send > 0 || entry.dead > 0)
                    .map(|(name, entry)| (*name, ModelEntry { receive: false, ..*entry }))
                    .collect();
                prop_assert_eq!(copied, Ok(inherited.len()));
                self.model.spaces[to] = inherited;
            }
            Operation::Receive { space, pick } => {
                let name = self.model.pick(space, pick);
                let actual = self.ipc.receive(
                    self.spaces[space],
                    name,
                    4096,
                    ReceiveOptions::default(),
                    &mut FakeMemory::default(),
                );
                let entry = self.model.spaces[space].get(&name).copied();
                match entry {
                    None => {
                        prop_assert_eq!(actual.err(), Some(ReceiveError::Failed(MachMsgReturn::ReceiveInvalidName)))
                    }
                    Some(entry) if !entry.receive && entry.dead > 0 => {
                        prop_assert_eq!(actual.err(), Some(ReceiveError::Failed(MachMsgReturn::ReceivePortDied)))
                    }
                    Some(entry) if !entry.receive => {
                        prop_assert_eq!(actual.err(), Some(ReceiveError::Failed(MachMsgReturn::ReceiveInvalidName)))
                    }
                    Some(entry) => {
                        let port = entry.port.unwrap();
                        match self.model.ports[port].queue.pop_front() {
                            None => prop_assert_eq!(actual.err(), Some(ReceiveError::Empty)),
                            Some(carried) => {
                                let received = actual.map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
                                let decoded = decode(&received);
                                prop_assert_eq!(decoded.header.local_port, name);
                                prop_assert_eq!(decoded.descriptors.len(), carried.len());
                                for (descriptor, carried) in decoded.descriptors.iter().zip(carried) {
                                    let Descriptor::Port { name: received_name, .. } = *descriptor else {
                                        return Err(TestCaseError::fail("not a port descriptor"));
                                    };
                                    self.model_copyout(space, carried, received_name)?;
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn model_send(
        &mut self,
        space: usize,
        destination_name: PortName,
        destination_disposition: Disposition,
        body: &[(PortName, Disposition)],
    ) -> Result<usize, SendError> {
        let mut simulated = self.model.spaces[space].clone();
        let destination = simulated
            .get_mut(&destination_name)
            .and_then(|entry| Model::take(entry, destination_disposition))
            .ok_or(SendError::Failed(MachMsgReturn::SendInvalidDest))?;
        let Carried::Send(destination_port) = destination else {
            return Err(SendError::Failed(MachMsgReturn::SendInvalidDest));
        };
        let mut carried = Vec::new();
        for (name, disposition) in body {
            let taken = simulated
                .get_mut(name)
                .and_then(|entry| Model::take(entry, *disposition))
                .ok_or(SendError::Failed(MachMsgReturn::SendInvalidRight))?;
            carried.push(taken);
        }
        if self.model.ports[destination_port].queue.len() >= MACH_PORT_QLIMIT_DEFAULT as usize {
            return Err(SendError::QueueFull { port: self.model.ports[destination_port].real });
        }
        for item in &carried {
            if let Carried::Receive(moved) = item {
                if self.model.is_circular(destination_port, *moved) {
                    return Err(SendError::Failed(MachMsgReturn::SendInvalidRight));
                }
            }
        }
        simulated.retain(|_, entry| !entry.is_empty());
        self.model.spaces[space] = simulated;
        for item in &carried {
            if let Carried::Receive(moved) = item {
                self.model.ports[*moved].receiver = ModelReceiver::Queued(destination_port);
            }
        }
        self.model.ports[destination_port].queue.push_back(carried);
        Ok(destination_port)
    }

    fn model_copyout(&mut self, space: usize, carried: Carried, received_name: PortName) -> Result<(), TestCaseError> {
        let existing = |model: &Model, port: usize| {
            model.spaces[space].iter().find(|(_, entry)| entry.port == Some(port)).map(|(name, _)| *name)
        };
        match carried {
            Carried::Dead => prop_assert_eq!(received_name, MACH_PORT_DEAD),
            Carried::Send(port) if self.model.ports[port].receiver == ModelReceiver::Dead => {
                prop_assert_eq!(received_name, MACH_PORT_DEAD)
            }
            Carried::Send(port) => match existing(&self.model, port) {
                Some(name) => {
                    prop_assert_eq!(received_name, name);
                    self.model.spaces[space].get_mut(&name).unwrap().send += 1;
                }
                None => {
                    prop_assert!(!self.model.spaces[space].contains_key(&received_name));
                    self.model.spaces[space]
                        .insert(received_name, ModelEntry { port: Some(port), send: 1, ..Default::default() });
                }
            },
            Carried::Receive(port) => {
                self.model.ports[port].receiver = ModelReceiver::Space;
                match existing(&self.model, port) {
                    Some(name) => {
                        prop_assert_eq!(received_name, name);
                        self.model.spaces[space].get_mut(&name).unwrap().receive = true;
                    }
                    None => {
                        prop_assert!(!self.model.spaces[space].contains_key(&received_name));
                        self.model.spaces[space].insert(
                            received_name,
                            ModelEntry { port: Some(port), receive: true, ..Default::default() },
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Every name of every space agrees with the model.
    fn compare(&self) -> Result<(), TestCaseError> {
        for (index, space) in self.spaces.iter().enumerate() {
            let actual: Vec<PortName> = self.ipc.space(*space).unwrap().entries().map(|(name, _)| name).collect();
            let expected: Vec<PortName> = self.model.spaces[index].keys().copied().collect();
            prop_assert_eq!(&actual, &expected, "names of space {}", index);
            for (name, entry) in &self.model.spaces[index] {
                let mut port_type = 0;
                if entry.receive {
                    port_type |= MACH_PORT_TYPE_RECEIVE;
                }
                if entry.send > 0 {
                    port_type |= MACH_PORT_TYPE_SEND;
                }
                if entry.dead > 0 {
                    port_type |= MACH_PORT_TYPE_DEAD_NAME;
                }
                prop_assert_eq!(self.ipc.port_type(*space, *name), Ok(port_type), "type of {:#x}", name);
                let refs = if entry.dead > 0 { entry.dead } else { entry.send };
                let right = if entry.dead > 0 { PortRight::DeadName } else { PortRight::Send };
                prop_assert_eq!(self.ipc.get_refs(*space, *name, right), Ok(refs), "references of {:#x}", name);
                if let Some(port) = entry.port {
                    prop_assert_eq!(self.ipc.port_of(*space, *name), Ok(self.model.ports[port].real));
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(192)))]

    #[test]
    fn random_right_operations_match_the_model(operations in prop::collection::vec(operation_strategy(), 1..80)) {
        let mut harness = Harness::new();
        for operation in &operations {
            harness.run(operation)?;
            if let Err(violation) = harness.ipc.check_invariants() {
                return Err(TestCaseError::fail(format!("after {operation:?}: {}", violation.0)));
            }
            harness.compare()?;
        }
        // Tearing everything down leaves nothing behind.
        for space in harness.spaces.clone() {
            harness.ipc.destroy_space(space).unwrap();
            harness.ipc.deliver_notifications();
            prop_assert!(harness.ipc.check_invariants().is_ok());
        }
        harness.ipc.deliver_notifications();
        prop_assert_eq!(harness.ipc.port_count(), 0, "leaked ports");
    }

    #[test]
    fn random_messages_never_panic(
        setup in prop::collection::vec(0..4u8, 1..8),
        header_words in prop::collection::vec(any::<u32>(), 6),
        descriptors in prop::collection::vec((any::<u32>(), 0..32u8, 0..4u8, any::<u32>()), 0..5),
        names_pick in prop::collection::vec(0..12usize, 8),
        garbage in prop::collection::vec(any::<u8>(), 0..64),
        use_garbage in any::<bool>(),
    ) {
        let mut ipc = Ipc::new();
        let sender = ipc.create_space(1, SpaceLimits { max_entries: 16, max_queued_messages: 4 });
        let receiver = ipc.create_space(2, SpaceLimits { max_entries: 6, max_queued_messages: 4 });
        let mut names = vec![MACH_PORT_NULL, MACH_PORT_DEAD, BOGUS_NAME];
        for kind in setup {
            let name = match kind {
                0 => ipc.allocate(sender, PortRight::Receive).unwrap(),
                1 => port_with_send(&mut ipc, sender),
                2 => ipc.allocate(sender, PortRight::DeadName).unwrap(),
                _ => {
                    // The receiver's space is kept small (to fill it on
                    // copyout); once it is full, set up nothing more there.
                    let Ok(port) = ipc.allocate(receiver, PortRight::Receive) else { continue };
                    let name = 0x5000 + names.len() as u32 * 0x100;
                    ipc.insert_right(sender, name, receiver, port, Disposition::MakeSendOnce as u32).unwrap();
                    name
                }
            };
            names.push(name);
        }
        let pick = |index: usize| names[names_pick[index % names_pick.len()] % names.len()];
        let bytes = if use_garbage {
            let mut bytes = garbage;
            bytes.truncate(bytes.len() / 4 * 4);
            bytes
        } else {
            let header = MachMsgHeader {
                bits: header_words[0] & (MACH_MSGH_BITS_USER | 0x1f1f),
                size: 0,
                remote_port: pick(0),
                local_port: if header_words[1] % 2 == 0 { pick(1) } else { MACH_PORT_NULL },
                voucher_port: 0,
                id: header_words[5] as i32,
            };
            let mut buffer = vec![0u8; 4096];
            let mut encoder = MessageEncoder::new(&mut buffer, header, header_words[2] % 3 == 0);
            for (index, (word, disposition, kind, count)) in descriptors.iter().enumerate() {
                let disposition = Disposition::from_u32(16 + *disposition as u32 % 8).unwrap_or(Disposition::CopySend);
                let descriptor = match kind {
                    0 | 1 => Descriptor::Port { name: pick(index + 2), disposition },
                    2 => Descriptor::OutOfLineMemory { address: *word as u64, size: count % 100, deallocate: word % 2 == 0, copy: CopyOption::PhysicalCopy },
                    _ => Descriptor::OutOfLinePorts { address: 0x9000, count: count % 4, disposition, deallocate: false, copy: CopyOption::VirtualCopy },
                };
                encoder.descriptor(descriptor).unwrap();
            }
            encoder.inline_data(&garbage).unwrap();
            let length = encoder.finish().unwrap();
            buffer.truncate(length);
            buffer
        };
        let mut memory = FakeMemory::default();
        memory.name_arrays.insert(0x9000, vec![pick(3), pick(4), pick(5), pick(6)]);
        let _ = ipc.send(sender, &bytes, &mut memory);
        prop_assert!(ipc.check_invariants().is_ok(), "{:?}", ipc.check_invariants());
        ipc.deliver_notifications();
        let mut receiver_memory = FakeMemory { regions: memory.regions, ..Default::default() };
        let candidates: Vec<PortName> = ipc.space(receiver).unwrap().entries().map(|(name, _)| name)
            .chain(ipc.space(sender).unwrap().entries().map(|(name, _)| name)).collect();
        for name in candidates {
            for space in [receiver, sender] {
                let _ = ipc.receive(space, name, 256, ReceiveOptions::default(), &mut receiver_memory);
                prop_assert!(ipc.check_invariants().is_ok(), "{:?}", ipc.check_invariants());
            }
        }
        ipc.destroy_space(sender).unwrap();
        ipc.destroy_space(receiver).unwrap();
        ipc.deliver_notifications();
        prop_assert!(ipc.check_invariants().is_ok(), "{:?}", ipc.check_invariants());
        prop_assert_eq!(ipc.port_count(), 0);
    }
}

/// Cases per property: `MACH_PROPTEST_CASES` (set by `scripts/fuzz.d/ipc`
/// for long runs) or the default that keeps `cargo test` quick.
fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}
