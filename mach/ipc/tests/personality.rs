//! What the POSIX personality relies on: credentials in audit trailers,
//! send rights inherited by a new task, 65,536 names in one space under a
//! name allowance, and no-senders arriving in order on a port set.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::*;

const NO_SENDERS: u32 = NotifyId::NoSenders as u32;
const MAKE_SEND_ONCE: u32 = Disposition::MakeSendOnce as u32;

fn credential(pid: u32, euid: u32) -> TaskCredential {
    TaskCredential { pid, pgid: pid, sid: 1, ruid: euid, euid, rgid: 100, egid: 100, group_count: 1, groups: [100; 16] }
        .canonical()
}

fn audit() -> ReceiveOptions {
    ReceiveOptions { audit: true, ..ReceiveOptions::default() }
}

/// Receives with the audit trailer and returns the message id and trailer.
fn receive_audited(ipc: &mut Ipc, space: SpaceId, name: PortName) -> (i32, MachMsgAuditTrailer) {
    let received = ipc.receive(space, name, 4096, audit(), &mut FakeMemory::default()).unwrap();
    check(ipc);
    let (view, trailer) = parse_received_audit(&received.bytes).unwrap();
    assert_eq!(received.bytes.len(), view.header.size as usize + MACH_MSG_AUDIT_TRAILER_SIZE);
    (view.header.id, trailer)
}

#[test]
fn the_audit_trailer_carries_the_credential_of_the_moment_of_sending() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    assert_eq!(ipc.space(client).unwrap().credential(), TaskCredential::default());
    ipc.set_credential(client, credential(42, 1000)).unwrap();
    send(&mut ipc, client, &message((0x100, Disposition::CopySend), None, &[], b"first")).unwrap();
    // The credential changes while the first message waits in the queue.
    ipc.set_credential(client, credential(42, 0)).unwrap();
    send(&mut ipc, client, &message((0x100, Disposition::CopySend), None, &[], b"second")).unwrap();
    let (_, first) = receive_audited(&mut ipc, server, port);
    assert_eq!(first.credential, credential(42, 1000));
    assert_eq!(first.sender, 2);
    let (_, second) = receive_audited(&mut ipc, server, port);
    assert_eq!(second.credential, credential(42, 0));
    assert_eq!(second.seqno, first.seqno + 1);
}

#[test]
fn without_the_option_the_trailer_is_the_small_one() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let port = port_with_send(&mut ipc, server);
    ipc.set_credential(server, credential(1, 5)).unwrap();
    send(&mut ipc, server, &message((port, Disposition::CopySend), None, &[], b"data")).unwrap();
    let decoded = receive(&mut ipc, server, port).unwrap();
    assert_eq!(decoded.trailer.trailer_size as usize, MACH_MSG_TRAILER_SIZE);
}

#[test]
fn the_receive_size_rule_counts_the_audit_trailer() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let port = port_with_send(&mut ipc, server);
    let bytes = message((port, Disposition::CopySend), None, &[], &[7; 40]);
    send(&mut ipc, server, &bytes).unwrap();
    let fits_small_trailer = bytes.len() + MACH_MSG_TRAILER_SIZE;
    let large = ReceiveOptions { large: true, audit: true, allowance_final: false };
    assert_eq!(
        ipc.receive(server, port, fits_small_trailer, large, &mut FakeMemory::default()),
        Err(ReceiveError::TooLarge { needed: bytes.len() + MACH_MSG_AUDIT_TRAILER_SIZE })
    );
    check(&ipc);
    let received =
        ipc.receive(server, port, bytes.len() + MACH_MSG_AUDIT_TRAILER_SIZE, audit(), &mut FakeMemory::default());
    assert!(received.is_ok());
    check(&ipc);
}

#[test]
fn kernel_messages_and_notifications_carry_a_zero_credential() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    ipc.set_credential(server, credential(9, 9)).unwrap();
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    let notify = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.request_notification(server, port, NO_SENDERS, 0, notify, MAKE_SEND_ONCE).unwrap();
    assert_eq!(deliver(&mut ipc), 1);
    let (id, trailer) = receive_audited(&mut ipc, server, notify);
    assert_eq!(id, NotifyId::NoSenders as i32);
    assert_eq!((trailer.sender, trailer.credential), (0, TaskCredential::default()));
}

#[test]
fn a_handoff_asked_for_the_audit_trailer_gets_the_credential() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    ipc.set_credential(client, credential(3, 77)).unwrap();
    let bytes = message((0x100, Disposition::CopySend), None, &[], b"call");
    let mut memory = FakeMemory::default();
    let received =
        ipc.send_direct(client, &bytes, &mut FakeMemory::default(), server, port, 1024, audit(), &mut memory);
    let received = received.unwrap();
    check(&ipc);
    let (_, trailer) = parse_received_audit(&received.bytes).unwrap();
    assert_eq!(trailer.credential, credential(3, 77));
    // Too small for the audit trailer: no handoff, nothing changed.
    let tight = bytes.len() + MACH_MSG_TRAILER_SIZE;
    assert_eq!(
        ipc.send_direct(client, &bytes, &mut FakeMemory::default(), server, port, tight, audit(), &mut memory),
        Err(SendError::HandoffNotPossible)
    );
    check(&ipc);
}

#[test]
fn credentials_are_checked_and_shared_with_a_new_task() {
    let mut ipc = Ipc::new();
    let parent = new_space(&mut ipc, 1);
    let child = new_space(&mut ipc, 2);
    let mut bad = credential(1, 1);
    bad.group_count = CREDENTIAL_GROUPS_MAX as u32 + 1;
    assert_eq!(ipc.set_credential(parent, bad), Err(KernReturn::InvalidArgument));
    let mut untidy = credential(1, 1);
    untidy.groups[12] = 55;
    ipc.set_credential(parent, untidy).unwrap();
    assert_eq!(ipc.space(parent).unwrap().credential(), credential(1, 1));
    ipc.copy_credential(parent, child).unwrap();
    assert_eq!(ipc.space(child).unwrap().credential(), credential(1, 1));
    ipc.set_credential(parent, credential(1, 2)).unwrap();
    assert_eq!(ipc.space(child).unwrap().credential(), credential(1, 1), "the child keeps its own");
}

#[test]
fn a_new_task_inherits_send_rights_and_dead_names_under_the_same_names() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let parent = new_space(&mut ipc, 2);
    let file = ipc.allocate(server, PortRight::Receive).unwrap();
    let doomed = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(parent, 0x300, server, file, Disposition::MakeSend as u32).unwrap();
    ipc.mod_refs(parent, 0x300, PortRight::Send, 2).unwrap();
    ipc.insert_right(parent, 0x500, server, doomed, Disposition::MakeSend as u32).unwrap();
    ipc.destroy(server, doomed).unwrap();
    let own = ipc.allocate(parent, PortRight::Receive).unwrap();
    let own_with_send = port_with_send(&mut ipc, parent);
    let set = ipc.allocate(parent, PortRight::PortSet).unwrap();
    ipc.insert_right(parent, 0x700, server, file, Disposition::MakeSendOnce as u32).unwrap();
    deliver(&mut ipc);
    let child = new_space(&mut ipc, 3);
    assert_eq!(ipc.inherit_send_rights(parent, child), Ok(3));
    check(&ipc);
    assert_eq!(ipc.get_refs(child, 0x300, PortRight::Send), Ok(3));
    assert_eq!(ipc.get_refs(child, 0x500, PortRight::DeadName), Ok(1));
    assert_eq!(ipc.port_type(child, own_with_send), Ok(MACH_PORT_TYPE_SEND));
    for name in [own, set, 0x700] {
        assert_eq!(ipc.port_type(child, name), Err(KernReturn::InvalidName), "{name:#x}");
    }
    // The server sees one more sender: no-senders waits for both tasks.
    let notify = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.request_notification(server, file, NO_SENDERS, 0, notify, MAKE_SEND_ONCE).unwrap();
    ipc.destroy(parent, 0x300).unwrap();
    assert_eq!(deliver(&mut ipc), 0);
    ipc.destroy_space(child).unwrap();
    check(&ipc);
    assert_eq!(deliver(&mut ipc), 1);
    assert_eq!(receive(&mut ipc, server, notify).unwrap().header.id, NotifyId::NoSenders as i32);
}

#[test]
fn inheriting_is_all_or_nothing() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let parent = new_space(&mut ipc, 2);
    let mut ports = Vec::new();
    for index in 0..10 {
        let port = ipc.allocate(server, PortRight::Receive).unwrap();
        ipc.insert_right(parent, 0x1000 + index * 0x100, server, port, Disposition::MakeSend as u32).unwrap();
        ports.push(port);
    }
    let small = ipc.create_space(3, SpaceLimits { max_entries: 9, max_queued_messages: 4 });
    assert_eq!(ipc.inherit_send_rights(parent, small), Err(KernReturn::NoSpace));
    assert_eq!(ipc.space(small).unwrap().entries().count(), 0);
    let allowed = new_space(&mut ipc, 4);
    ipc.set_name_allowance(allowed, 9).unwrap();
    assert_eq!(ipc.inherit_send_rights(parent, allowed), Err(KernReturn::NoSpace));
    // A name the child already uses, or a port it already names.
    let taken = new_space(&mut ipc, 5);
    let other = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(taken, 0x1500, server, other, Disposition::MakeSend as u32).unwrap();
    assert_eq!(ipc.inherit_send_rights(parent, taken), Err(KernReturn::NameExists));
    let named = new_space(&mut ipc, 6);
    ipc.insert_right(named, 0x9900, server, ports[3], Disposition::MakeSend as u32).unwrap();
    assert_eq!(ipc.inherit_send_rights(parent, named), Err(KernReturn::RightExists));
    for space in [taken, named] {
        assert_eq!(ipc.space(space).unwrap().entries().count(), 1);
    }
    assert_eq!(ipc.inherit_send_rights(parent, parent), Err(KernReturn::InvalidArgument));
    check(&ipc);
}

#[test]
fn a_space_holds_65536_names_and_refuses_the_next() {
    let mut ipc = Ipc::new();
    let space = ipc.create_space(1, SpaceLimits { max_entries: 65_536, max_queued_messages: 64 });
    let names: Vec<PortName> = (0..65_536).map(|_| ipc.allocate(space, PortRight::Receive).unwrap()).collect();
    assert_eq!(ipc.allocate(space, PortRight::Receive), Err(KernReturn::NoSpace));
    check(&ipc);
    assert_eq!(ipc.port_count(), 65_536);
    assert!(names.iter().all(|&name| port_index(name) <= 65_537));
    for &name in names.iter().step_by(2) {
        ipc.destroy(space, name).unwrap();
    }
    for _ in 0..32_768 {
        ipc.allocate(space, PortRight::Receive).unwrap();
    }
    check(&ipc);
    ipc.destroy_space(space).unwrap();
    assert_eq!(ipc.port_count(), 0);
}

#[test]
fn the_name_allowance_stops_allocation_and_receives_until_raised() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.set_name_allowance(server, 2).unwrap();
    let second = ipc.allocate(server, PortRight::Receive).unwrap();
    assert_eq!(ipc.allocate(server, PortRight::Receive), Err(KernReturn::NoSpace));
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    let gift = ipc.allocate(client, PortRight::Receive).unwrap();
    let bytes = message((0x100, Disposition::CopySend), None, &[port_descriptor(gift, Disposition::MakeSend)], b"gift");
    send(&mut ipc, client, &bytes).unwrap();
    // A handoff into the server is declined: the right would need a name.
    assert_eq!(
        ipc.send_direct(
            client,
            &bytes,
            &mut FakeMemory::default(),
            server,
            second,
            4096,
            ReceiveOptions::default(),
            &mut FakeMemory::default()
        ),
        Err(SendError::HandoffNotPossible)
    );
    check(&ipc);
    assert_eq!(receive(&mut ipc, server, port).err(), Some(ReceiveError::NamesNeeded { names: 3 }));
    ipc.set_name_allowance(server, 3).unwrap();
    let decoded = receive(&mut ipc, server, port).unwrap();
    assert!(matches!(decoded.descriptors[0], Descriptor::Port { name, .. } if mach_abi::port_name_is_valid(name)));
    // At the allowance, with no room to grow: the right is lost, the
    // message delivered.
    let other = ipc.allocate(client, PortRight::Receive).unwrap();
    let bytes =
        message((0x100, Disposition::CopySend), None, &[port_descriptor(other, Disposition::MakeSend)], b"gift");
    send(&mut ipc, client, &bytes).unwrap();
    let options = ReceiveOptions { allowance_final: true, ..ReceiveOptions::default() };
    let received = ipc.receive(server, port, 4096, options, &mut FakeMemory::default()).unwrap();
    assert_eq!(received.lost, MACH_MSG_IPC_SPACE);
    check(&ipc);
}

/// A file port and a directory port in the server's port set; the client
/// holds a send right to each.
struct FileServer {
    ipc: Ipc,
    server: SpaceId,
    client: SpaceId,
    set: PortName,
    file: PortName,
}

const CLIENT_FILE: PortName = 0x300;
const CLIENT_DIRECTORY: PortName = 0x400;

impl FileServer {
    fn new() -> FileServer {
        let mut ipc = Ipc::new();
        let server = new_space(&mut ipc, 1);
        let client = new_space(&mut ipc, 2);
        let set = ipc.allocate(server, PortRight::PortSet).unwrap();
        let file = ipc.allocate(server, PortRight::Receive).unwrap();
        let directory = ipc.allocate(server, PortRight::Receive).unwrap();
        for port in [file, directory] {
            ipc.move_member(server, port, set).unwrap();
        }
        ipc.insert_right(client, CLIENT_FILE, server, file, Disposition::MakeSend as u32).unwrap();
        ipc.insert_right(client, CLIENT_DIRECTORY, server, directory, Disposition::MakeSend as u32).unwrap();
        // The server asks for no-senders on the file, delivered to the file
        // port itself (so it arrives through the set).
        ipc.request_notification(server, file, NO_SENDERS, 1, file, MAKE_SEND_ONCE).unwrap();
        check(&ipc);
        FileServer { ipc, server, client, set, file }
    }

    fn request(&mut self, port: PortName, disposition: Disposition, id: i32) {
        let mut bytes = message((port, disposition), None, &[], b"request");
        bytes[20..24].copy_from_slice(&id.to_le_bytes());
        send(&mut self.ipc, self.client, &bytes).unwrap();
        deliver(&mut self.ipc);
    }

    /// The ids the server receives from its set, in order.
    fn drain(&mut self) -> Vec<i32> {
        let mut ids = Vec::new();
        while let Ok(decoded) = receive(&mut self.ipc, self.server, self.set) {
            ids.push(decoded.header.id);
            deliver(&mut self.ipc);
        }
        ids
    }
}

const NOTIFICATION: i32 = NotifyId::NoSenders as i32;

#[test]
fn no_senders_after_the_last_close_comes_before_later_requests() {
    let mut world = FileServer::new();
    world.request(CLIENT_FILE, Disposition::CopySend, 1);
    world.ipc.deallocate(world.client, CLIENT_FILE).unwrap();
    deliver(&mut world.ipc);
    world.request(CLIENT_DIRECTORY, Disposition::CopySend, 2);
    assert_eq!(world.drain(), [1, NOTIFICATION, 2]);
}

#[test]
fn no_senders_when_the_last_right_leaves_as_a_destination() {
    let mut world = FileServer::new();
    world.request(CLIENT_FILE, Disposition::MoveSend, 1);
    world.request(CLIENT_DIRECTORY, Disposition::CopySend, 2);
    assert_eq!(world.drain(), [1, NOTIFICATION, 2]);
}

#[test]
fn no_senders_when_the_client_task_ends() {
    let mut world = FileServer::new();
    world.request(CLIENT_FILE, Disposition::CopySend, 1);
    world.request(CLIENT_FILE, Disposition::CopySend, 2);
    world.ipc.destroy_space(world.client).unwrap();
    deliver(&mut world.ipc);
    check(&world.ipc);
    // Another client's request, sent after the first client ended.
    let other = new_space(&mut world.ipc, 3);
    let directory = world.ipc.allocate(world.server, PortRight::Receive).unwrap();
    world.ipc.move_member(world.server, directory, world.set).unwrap();
    world.ipc.insert_right(other, 0x100, world.server, directory, Disposition::MakeSend as u32).unwrap();
    let mut bytes = message((0x100, Disposition::CopySend), None, &[], b"later");
    bytes[20..24].copy_from_slice(&3i32.to_le_bytes());
    send(&mut world.ipc, other, &bytes).unwrap();
    assert_eq!(world.drain(), [1, 2, NOTIFICATION, 3]);
}

#[test]
fn no_senders_waits_for_a_send_right_still_held_or_in_flight_elsewhere() {
    let mut world = FileServer::new();
    // A copy of the file right travels in a message to the directory: it
    // can still be received and used, so the file still has a sender.
    let bytes = message(
        (CLIENT_DIRECTORY, Disposition::CopySend),
        None,
        &[port_descriptor(CLIENT_FILE, Disposition::CopySend)],
        b"pass",
    );
    send(&mut world.ipc, world.client, &bytes).unwrap();
    world.ipc.deallocate(world.client, CLIENT_FILE).unwrap();
    assert_eq!(deliver(&mut world.ipc), 0);
    let received = receive(&mut world.ipc, world.server, world.set).unwrap();
    let Descriptor::Port { name, .. } = received.descriptors[0] else { panic!("no port") };
    assert_eq!(name, world.file);
    // The server's own send right (from the message) is the last one.
    world.ipc.deallocate(world.server, world.file).unwrap();
    assert_eq!(deliver(&mut world.ipc), 1);
    assert_eq!(world.drain(), [NOTIFICATION]);
}
