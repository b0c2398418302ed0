//! Property test without a model: random sequences of every operation the
//! crate offers (send-once rights, notification requests, port sets, kernel
//! ports, handoff, task exit...), with `check_invariants` after every step
//! and a full teardown that must leave nothing allocated.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::right::EntryRights;
use mach_ipc::*;
use proptest::prelude::*;

const SPACES: usize = 3;

#[derive(Clone, Debug)]
enum Operation {
    Allocate {
        space: usize,
        right: u8,
    },
    Insert {
        to: usize,
        from: usize,
        pick: usize,
        target: usize,
        disposition: u8,
    },
    Deallocate {
        space: usize,
        pick: usize,
    },
    Destroy {
        space: usize,
        pick: usize,
    },
    ModRefs {
        space: usize,
        pick: usize,
        right: u8,
        delta: i8,
    },
    MoveMember {
        space: usize,
        member: usize,
        set: usize,
    },
    Request {
        space: usize,
        pick: usize,
        kind: u8,
        sync: u8,
        notify: usize,
        disposition: bool,
    },
    Send {
        space: usize,
        destination: usize,
        destination_disposition: u8,
        reply: Option<(usize, u8)>,
        body: Vec<(usize, u8)>,
        ool_ports: bool,
    },
    Receive {
        space: usize,
        pick: usize,
        size: u16,
    },
    Handoff {
        from: usize,
        to: usize,
        destination: usize,
        disposition: u8,
        pick: usize,
        audit: bool,
    },
    QueueLimit {
        space: usize,
        pick: usize,
        limit: u8,
    },
    ExtractAndInsert {
        from: usize,
        to: usize,
        pick: usize,
        disposition: u8,
        keep: bool,
    },
    KernelPort {
        space: usize,
        destroy_after: bool,
    },
    Credential {
        space: usize,
        uid: u8,
    },
    Allowance {
        space: usize,
        names: u8,
    },
    Inherit {
        from: usize,
        to: usize,
    },
    Deliver,
    Exit {
        space: usize,
    },
}

fn operation() -> impl Strategy<Value = Operation> {
    let space = 0..SPACES;
    let pick = 0..10usize;
    // Values below 8 choose a disposition that suits the picked entry
    // (most operations should succeed); 8 and above pick one at random.
    let disposition = 0..11u8;
    prop_oneof![
        4 => (space.clone(), 0..3u8).prop_map(|(space, right)| Operation::Allocate { space, right }),
        3 => (space.clone(), space.clone(), pick.clone(), pick.clone(), disposition.clone())
            .prop_map(|(to, from, pick, target, disposition)| Operation::Insert { to, from, pick, target, disposition }),
        2 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::Deallocate { space, pick }),
        1 => (space.clone(), pick.clone()).prop_map(|(space, pick)| Operation::Destroy { space, pick }),
        2 => (space.clone(), pick.clone(), 0..5u8, -1..=1i8).prop_map(|(space, pick, right, delta)| Operation::ModRefs { space, pick, right, delta }),
        2 => (space.clone(), pick.clone(), pick.clone()).prop_map(|(space, member, set)| Operation::MoveMember { space, member, set }),
        3 => (space.clone(), pick.clone(), 0..3u8, 0..3u8, pick.clone(), any::<bool>())
            .prop_map(|(space, pick, kind, sync, notify, disposition)| Operation::Request { space, pick, kind, sync, notify, disposition }),
        6 => (space.clone(), pick.clone(), disposition.clone(), prop::option::of((pick.clone(), disposition.clone())),
              prop::collection::vec((pick.clone(), disposition.clone()), 0..3), any::<bool>())
            .prop_map(|(space, destination, destination_disposition, reply, body, ool_ports)| Operation::Send { space, destination, destination_disposition, reply, body, ool_ports }),
        5 => (space.clone(), pick.clone(), 0..200u16).prop_map(|(space, pick, size)| Operation::Receive { space, pick, size }),
        2 => (space.clone(), space.clone(), pick.clone(), disposition.clone(), pick.clone(), any::<bool>())
            .prop_map(|(from, to, destination, disposition, pick, audit)| Operation::Handoff { from, to, destination, disposition, pick, audit }),
        1 => (space.clone(), pick.clone(), 0..3u8).prop_map(|(space, pick, limit)| Operation::QueueLimit { space, pick, limit }),
        2 => (space.clone(), space.clone(), pick.clone(), disposition, any::<bool>())
            .prop_map(|(from, to, pick, disposition, keep)| Operation::ExtractAndInsert { from, to, pick, disposition, keep }),
        1 => (space.clone(), any::<bool>()).prop_map(|(space, destroy_after)| Operation::KernelPort { space, destroy_after }),
        1 => (space.clone(), any::<u8>()).prop_map(|(space, uid)| Operation::Credential { space, uid }),
        1 => (space.clone(), 0..30u8).prop_map(|(space, names)| Operation::Allowance { space, names }),
        1 => (space.clone(), space.clone()).prop_map(|(from, to)| Operation::Inherit { from, to }),
        3 => Just(Operation::Deliver),
        1 => space.prop_map(|space| Operation::Exit { space }),
    ]
}

struct World {
    ipc: Ipc,
    spaces: Vec<SpaceId>,
    kernel_ports: Vec<PortId>,
}

impl World {
    fn name(&self, space: usize, pick: usize) -> PortName {
        let names: Vec<PortName> =
            self.ipc.space(self.spaces[space]).unwrap().entries().map(|(name, _)| name).collect();
        match names.get(pick % (names.len() + 2)) {
            Some(name) => *name,
            None if pick.is_multiple_of(2) => 0x7fff_ff00,
            None => MACH_PORT_NULL,
        }
    }

    fn disposition(value: u8) -> Disposition {
        Disposition::ALL[value as usize % Disposition::ALL.len()]
    }

    /// A name of `space` whose entry satisfies `wanted`, or any name.
    fn name_where(&self, space: usize, pick: usize, wanted: impl Fn(&EntryRights) -> bool) -> PortName {
        let names: Vec<PortName> = self
            .ipc
            .space(self.spaces[space])
            .unwrap()
            .entries()
            .filter(|(_, entry)| wanted(&entry.rights))
            .map(|(name, _)| name)
            .collect();
        if names.is_empty() {
            return self.name(space, pick);
        }
        names[pick % names.len()]
    }

    /// A name and a disposition that suits it (for values below 8), or a
    /// random name and disposition.
    fn right_to_send(&self, space: usize, pick: usize, value: u8, allow_receive: bool) -> (PortName, Disposition) {
        if value >= 8 {
            return (self.name(space, pick), Self::disposition(value));
        }
        let name = self.name_where(space, pick, |rights| !matches!(rights, EntryRights::PortSet { .. }));
        let disposition = match self.ipc.space(self.spaces[space]).unwrap().entry(name).map(|entry| entry.rights) {
            Some(EntryRights::Port { receive: true, .. }) if allow_receive && value == 0 => Disposition::MoveReceive,
            Some(EntryRights::Port { receive: true, .. }) if value.is_multiple_of(2) => Disposition::MakeSendOnce,
            Some(EntryRights::Port { receive: true, .. }) => Disposition::MakeSend,
            Some(EntryRights::Port { .. }) if value.is_multiple_of(3) => Disposition::MoveSend,
            Some(EntryRights::SendOnce { .. }) => Disposition::MoveSendOnce,
            _ => Disposition::CopySend,
        };
        (name, disposition)
    }

    fn receivable(&self, space: usize, pick: usize) -> PortName {
        if pick % 5 == 4 {
            return self.name(space, pick);
        }
        self.name_where(space, pick, |rights| {
            matches!(rights, EntryRights::Port { receive: true, .. } | EntryRights::PortSet { .. })
        })
    }

    fn run(&mut self, operation: &Operation) {
        let limits = SpaceLimits { max_entries: 24, max_queued_messages: 6 };
        match *operation {
            Operation::Allocate { space, right } => {
                let right = [PortRight::Receive, PortRight::PortSet, PortRight::DeadName][right as usize];
                let _ = self.ipc.allocate(self.spaces[space], right);
            }
            Operation::Insert { to, from, pick, target, disposition } => {
                let (name, disposition) = self.right_to_send(from, pick, disposition, true);
                let target = match self.name(to, target) {
                    MACH_PORT_NULL | 0x7fff_ff00 => 0x6000 + (pick as u32) * 0x100,
                    existing => existing,
                };
                let _ = self.ipc.insert_right(self.spaces[to], target, self.spaces[from], name, disposition as u32);
            }
            Operation::Deallocate { space, pick } => {
                let _ = self.ipc.deallocate(self.spaces[space], self.name(space, pick));
            }
            Operation::Destroy { space, pick } => {
                let _ = self.ipc.destroy(self.spaces[space], self.name(space, pick));
            }
            Operation::ModRefs { space, pick, right, delta } => {
                let right = PortRight::ALL[right as usize];
                let _ = self.ipc.mod_refs(self.spaces[space], self.name(space, pick), right, delta as i32);
            }
            Operation::MoveMember { space, member, set } => {
                let _ = self.ipc.move_member(self.spaces[space], self.name(space, member), self.name(space, set));
            }
            Operation::Request { space, pick, kind, sync, notify, disposition } => {
                let kind = [NotifyId::DeadName, NotifyId::NoSenders, NotifyId::PortDestroyed][kind as usize] as u32;
                let disposition =
                    if disposition { Disposition::MakeSendOnce } else { Disposition::MoveSendOnce } as u32;
                let name = if kind == NotifyId::DeadName as u32 {
                    self.name_where(space, pick, |rights| {
                        matches!(rights, EntryRights::Port { send_references: 1.., .. } | EntryRights::SendOnce { .. })
                    })
                } else {
                    self.name_where(space, pick, |rights| matches!(rights, EntryRights::Port { receive: true, .. }))
                };
                let notify = if disposition == Disposition::MakeSendOnce as u32 {
                    self.name_where(space, notify, |rights| matches!(rights, EntryRights::Port { receive: true, .. }))
                } else {
                    self.name_where(space, notify, |rights| matches!(rights, EntryRights::SendOnce { .. }))
                };
                let _ = self.ipc.request_notification(self.spaces[space], name, kind, sync as u32, notify, disposition);
            }
            Operation::Send { space, destination, destination_disposition, reply, ref body, ool_ports } => {
                let destination = self.right_to_send(space, destination, destination_disposition.max(1), false);
                let reply = reply.map(|(pick, disposition)| self.right_to_send(space, pick, disposition.max(1), false));
                let mut memory = FakeMemory::default();
                let mut descriptors: Vec<Descriptor> = body
                    .iter()
                    .map(|(pick, disposition)| {
                        let (name, disposition) = self.right_to_send(space, *pick, *disposition, true);
                        port_descriptor(name, disposition)
                    })
                    .collect();
                if ool_ports {
                    let names: Vec<PortName> = body.iter().map(|(pick, _)| self.name(space, pick + 1)).collect();
                    memory.name_arrays.insert(0x9000, names.clone());
                    descriptors.push(Descriptor::OutOfLinePorts {
                        address: 0x9000,
                        count: names.len() as u32,
                        disposition: Self::disposition(body.first().map_or(3, |(_, d)| *d)),
                        deallocate: false,
                        copy: CopyOption::PhysicalCopy,
                    });
                    descriptors.push(Descriptor::OutOfLineMemory {
                        address: 0x4000,
                        size: 64,
                        deallocate: true,
                        copy: CopyOption::VirtualCopy,
                    });
                }
                let bytes = message(destination, reply, &descriptors, b"chaos");
                let _ = self.ipc.send(self.spaces[space], &bytes, &mut memory);
            }
            Operation::Receive { space, pick, size } => {
                let mut options = ReceiveOptions { large: size % 2 == 0, audit: size % 3 == 0, allowance_final: false };
                let size = if size < 100 { 4096 } else { size as usize };
                let name = self.receivable(space, pick);
                let mut result = self.ipc.receive(self.spaces[space], name, size, options, &mut FakeMemory::default());
                if let Err(ReceiveError::NamesNeeded { names }) = result {
                    // What the kernel does when it cannot charge for more names.
                    let space_object = self.ipc.space(self.spaces[space]).unwrap();
                    assert!(names > space_object.name_allowance(), "{names} names fit the allowance");
                    options.allowance_final = true;
                    result = self.ipc.receive(self.spaces[space], name, size, options, &mut FakeMemory::default());
                }
                if let Ok(received) = result {
                    let trailer_size = if options.audit { MACH_MSG_AUDIT_TRAILER_SIZE } else { MACH_MSG_TRAILER_SIZE };
                    let (_, trailer) = parse_received(&received.bytes).unwrap();
                    assert_eq!(trailer.trailer_size as usize, trailer_size);
                    assert_eq!(received.bytes.len(), read_u32(&received.bytes, 4).unwrap() as usize + trailer_size);
                }
            }
            Operation::Handoff { from, to, destination, disposition, pick, audit } => {
                let bytes =
                    message(self.right_to_send(from, destination, disposition.max(1), false), None, &[], b"direct");
                let _ = self.ipc.send_direct(
                    self.spaces[from],
                    &bytes,
                    &mut FakeMemory::default(),
                    self.spaces[to],
                    self.receivable(to, pick),
                    256,
                    ReceiveOptions { audit, ..ReceiveOptions::default() },
                    &mut FakeMemory::default(),
                );
            }
            Operation::QueueLimit { space, pick, limit } => {
                let _ = self.ipc.set_attributes(
                    self.spaces[space],
                    self.name(space, pick),
                    PortFlavor::LimitsInfo as u32,
                    &[limit as u32],
                );
            }
            Operation::ExtractAndInsert { from, to, pick, disposition, keep } => {
                let (name, disposition) = self.right_to_send(from, pick, disposition, true);
                if let Ok((right, _)) = self.ipc.extract_right(self.spaces[from], name, disposition as u32) {
                    self.ipc.check_invariants().unwrap_or_else(|violation| panic!("while held: {}", violation.0));
                    if keep {
                        if let Err((_, right)) = self.ipc.insert_carried(self.spaces[to], right) {
                            self.ipc.release(right);
                        }
                    } else {
                        self.ipc.release(right);
                    }
                }
            }
            Operation::KernelPort { space, destroy_after } => {
                let port = self.ipc.allocate_kernel_port(7);
                let right = self.ipc.make_send(port).unwrap();
                if let Err((_, right)) = self.ipc.insert_carried(self.spaces[space], right) {
                    self.ipc.release(right);
                }
                if destroy_after {
                    self.ipc.destroy_kernel_port(port).unwrap();
                } else {
                    self.kernel_ports.push(port);
                }
            }
            Operation::Credential { space, uid } => {
                let credential = TaskCredential { euid: uid as u32, ..TaskCredential::default() };
                self.ipc.set_credential(self.spaces[space], credential).unwrap();
            }
            Operation::Allowance { space, names } => {
                self.ipc.set_name_allowance(self.spaces[space], names as usize).unwrap();
            }
            Operation::Inherit { from, to } => {
                if from != to {
                    self.ipc.destroy_space(self.spaces[to]).unwrap();
                    self.spaces[to] = self.ipc.create_space(to as u32 + 1, limits);
                    let _ = self.ipc.inherit_send_rights(self.spaces[from], self.spaces[to]);
                }
            }
            Operation::Deliver => {
                self.ipc.deliver_notifications();
            }
            Operation::Exit { space } => {
                self.ipc.destroy_space(self.spaces[space]).unwrap();
                self.spaces[space] = self.ipc.create_space(space as u32 + 1, limits);
            }
        }
        let _ = self.ipc.take_released_regions();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(160)))]

    #[test]
    fn random_operations_keep_invariants_and_free_everything(operations in prop::collection::vec(operation(), 1..70)) {
        let mut ipc = Ipc::new();
        let limits = SpaceLimits { max_entries: 24, max_queued_messages: 6 };
        let spaces = (0..SPACES).map(|index| ipc.create_space(index as u32 + 1, limits)).collect();
        let mut world = World { ipc, spaces, kernel_ports: Vec::new() };
        for index in 0..SPACES {
            for _ in 0..2 {
                let port = world.ipc.allocate(world.spaces[index], PortRight::Receive).unwrap();
                for other in 0..SPACES {
                    let target = if other == index { port } else { 0x10_0000 * (index as u32 + 1) + port };
                    world.ipc.insert_right(world.spaces[other], target, world.spaces[index], port, Disposition::MakeSend as u32).unwrap();
                }
            }
        }
        for operation in &operations {
            world.run(operation);
            if let Err(violation) = world.ipc.check_invariants() {
                return Err(TestCaseError::fail(format!("after {operation:?}: {}", violation.0)));
            }
        }
        // Kernel-held messages on kernel ports are taken and released, as a
        // kernel server would.
        for port in world.kernel_ports.clone() {
            while let Some(message) = world.ipc.receive_kernel_message(port) {
                world.ipc.release_kernel_message(message);
            }
        }
        for space in world.spaces.clone() {
            world.ipc.destroy_space(space).unwrap();
            world.ipc.deliver_notifications();
            prop_assert!(world.ipc.check_invariants().is_ok(), "{:?}", world.ipc.check_invariants());
        }
        for port in world.kernel_ports.clone() {
            world.ipc.destroy_kernel_port(port).unwrap();
        }
        world.ipc.deliver_notifications();
        prop_assert!(world.ipc.check_invariants().is_ok(), "{:?}", world.ipc.check_invariants());
        prop_assert_eq!(world.ipc.port_count(), 0, "leaked ports");
        prop_assert_eq!(world.ipc.port_set_count(), 0, "leaked port sets");
        prop_assert_eq!(world.ipc.pending_notifications().count(), 0);
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}
