//! Messages: every disposition, queue limits, port sets, out-of-line data,
//! the handoff path, and the receive-side rules.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::*;

/// A server with a receive right and a client with a send right to it.
fn client_server(ipc: &mut Ipc) -> (SpaceId, PortName, SpaceId, PortName) {
    let server = new_space(ipc, 10);
    let client = new_space(ipc, 20);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    let send_name = 0x1100;
    ipc.insert_right(client, send_name, server, port, Disposition::MakeSend as u32).unwrap();
    check(ipc);
    (server, port, client, send_name)
}

#[test]
fn simple_message_header_swap_and_trailer() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let reply = ipc.allocate(client, PortRight::Receive).unwrap();
    let bytes = message((send_name, Disposition::CopySend), Some((reply, Disposition::MakeSendOnce)), &[], b"ping");
    let outcome = send(&mut ipc, client, &bytes).unwrap();
    assert_eq!(outcome.port, ipc.port_of(server, port).unwrap());
    assert_eq!(outcome.receiver, Receiver::Space { space: server, name: port });
    let request = receive(&mut ipc, server, port).unwrap();
    assert_eq!(request.header.local_port, port);
    assert_eq!(msgh_bits_local(request.header.bits), MACH_MSG_TYPE_PORT_SEND);
    assert_eq!(msgh_bits_remote(request.header.bits), MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(ipc.port_type(server, request.header.remote_port), Ok(MACH_PORT_TYPE_SEND_ONCE));
    assert_eq!(request.data, b"ping");
    assert_eq!(request.header.id, 1000);
    assert_eq!(request.trailer, MachMsgTrailer::new(0, 20));
    // The reply through the send-once right consumes it.
    let answer = message((request.header.remote_port, Disposition::MoveSendOnce), None, &[], b"pong");
    send(&mut ipc, server, &answer).unwrap();
    assert_eq!(ipc.port_type(server, request.header.remote_port), Err(KernReturn::InvalidName));
    let answer = receive(&mut ipc, client, reply).unwrap();
    assert_eq!(answer.data, b"pong");
    assert_eq!(answer.header.remote_port, MACH_PORT_NULL);
    assert_eq!(msgh_bits_local(answer.header.bits), MACH_MSG_TYPE_PORT_SEND_ONCE);
    let reply_port = ipc.port(ipc.port_of(client, reply).unwrap()).unwrap();
    assert_eq!(reply_port.send_once_rights(), 0);
    // Sequence numbers count per port.
    send(&mut ipc, client, &message((send_name, Disposition::CopySend), None, &[], &[])).unwrap();
    assert_eq!(receive(&mut ipc, server, port).unwrap().trailer.seqno, 1);
}

#[test]
fn every_disposition_in_a_descriptor() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let owned = ipc.allocate(client, PortRight::Receive).unwrap();
    let sent_receive = ipc.allocate(client, PortRight::Receive).unwrap();
    let once_port = ipc.allocate(client, PortRight::Receive).unwrap();
    let once = 0x3300;
    ipc.insert_right(client, once, client, once_port, Disposition::MakeSendOnce as u32).unwrap();
    ipc.insert_right(client, owned, client, owned, Disposition::MakeSend as u32).unwrap();
    ipc.mod_refs(client, owned, PortRight::Send, 1).unwrap();
    let descriptors = [
        port_descriptor(owned, Disposition::MakeSend),
        port_descriptor(owned, Disposition::CopySend),
        port_descriptor(owned, Disposition::MoveSend),
        port_descriptor(owned, Disposition::MakeSendOnce),
        port_descriptor(once, Disposition::MoveSendOnce),
        port_descriptor(sent_receive, Disposition::MoveReceive),
        port_descriptor(MACH_PORT_NULL, Disposition::CopySend),
    ];
    let bytes = message((send_name, Disposition::CopySend), None, &descriptors, &[]);
    send(&mut ipc, client, &bytes).unwrap();
    // Sender side: one send reference moved, the send-once and receive gone.
    assert_eq!(ipc.get_refs(client, owned, PortRight::Send), Ok(1));
    assert_eq!(ipc.port_type(client, once), Err(KernReturn::InvalidName));
    assert_eq!(ipc.port_type(client, sent_receive), Err(KernReturn::InvalidName));
    let received = receive(&mut ipc, server, port).unwrap();
    assert!(msgh_bits_is_complex(received.header.bits));
    let names: Vec<(PortName, Disposition)> = received
        .descriptors
        .iter()
        .map(|descriptor| match descriptor {
            Descriptor::Port { name, disposition } => (*name, *disposition),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // The three send rights to `owned` share one name with three references.
    assert_eq!(names[0].0, names[1].0);
    assert_eq!(names[1].0, names[2].0);
    assert_eq!(names[0].1 as u32, MACH_MSG_TYPE_PORT_SEND);
    assert_eq!(ipc.get_refs(server, names[0].0, PortRight::Send), Ok(3));
    // Each send-once right has its own name.
    assert_ne!(names[3].0, names[4].0);
    assert_eq!(names[3].1 as u32, MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(ipc.port_type(server, names[4].0), Ok(MACH_PORT_TYPE_SEND_ONCE));
    assert_eq!(names[5].1 as u32, MACH_MSG_TYPE_PORT_RECEIVE);
    assert_eq!(ipc.port_type(server, names[5].0), Ok(MACH_PORT_TYPE_RECEIVE));
    assert_eq!(names[6].0, MACH_PORT_NULL);
    let moved = ipc.port_of(server, names[5].0).unwrap();
    assert_eq!(ipc.port(moved).unwrap().receiver(), Receiver::Space { space: server, name: names[5].0 });
}

#[test]
fn failed_send_changes_nothing() {
    let mut ipc = Ipc::new();
    let (_server, _port, client, send_name) = client_server(&mut ipc);
    let owned = ipc.allocate(client, PortRight::Receive).unwrap();
    let before: Vec<_> = ipc.space(client).unwrap().entries().map(|(name, entry)| (name, *entry)).collect();
    // The receive right moves, then the second descriptor is invalid.
    let descriptors = [port_descriptor(owned, Disposition::MoveReceive), port_descriptor(owned, Disposition::MakeSend)];
    let bytes = message((send_name, Disposition::CopySend), None, &descriptors, &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidRight)));
    let after: Vec<_> = ipc.space(client).unwrap().entries().map(|(name, entry)| (name, *entry)).collect();
    assert_eq!(before, after);
    // MOVE_SEND twice of a name holding one reference.
    let descriptors =
        [port_descriptor(send_name, Disposition::MoveSend), port_descriptor(send_name, Disposition::MoveSend)];
    let bytes = message((send_name, Disposition::CopySend), None, &descriptors, &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidRight)));
    assert_eq!(ipc.get_refs(client, send_name, PortRight::Send), Ok(1));
    // Bad destination, bad reply.
    let bytes = message((0x7777, Disposition::CopySend), None, &[], &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidDest)));
    let bytes = message((MACH_PORT_NULL, Disposition::CopySend), None, &[], &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidDest)));
    let bytes = message((send_name, Disposition::CopySend), Some((0x7777, Disposition::MakeSendOnce)), &[], &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidReply)));
    let bytes = message((send_name, Disposition::MakeSend), None, &[], &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidDest)));
    // Malformed bytes.
    assert_eq!(send(&mut ipc, client, &[0u8; 8]), Err(SendError::Failed(MachMsgReturn::SendMsgTooSmall)));
    let after: Vec<_> = ipc.space(client).unwrap().entries().map(|(name, entry)| (name, *entry)).collect();
    assert_eq!(before, after);
}

#[test]
fn moving_the_last_send_reference_as_destination() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let bytes = message((send_name, Disposition::MoveSend), None, &[], &[]);
    send(&mut ipc, client, &bytes).unwrap();
    assert_eq!(ipc.port_type(client, send_name), Err(KernReturn::InvalidName));
    receive(&mut ipc, server, port).unwrap();
    assert_eq!(ipc.port(ipc.port_of(server, port).unwrap()).unwrap().send_rights(), 0);
}

#[test]
fn queue_limit_and_send_once_bypass() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    ipc.set_attributes(server, port, PortFlavor::LimitsInfo as u32, &[2]).unwrap();
    let bytes = message((send_name, Disposition::CopySend), None, &[], b"x");
    send(&mut ipc, client, &bytes).unwrap();
    send(&mut ipc, client, &bytes).unwrap();
    let port_id = ipc.port_of(server, port).unwrap();
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::QueueFull { port: port_id }));
    // A send-once right is never blocked by the limit.
    ipc.insert_right(client, 0x4400, server, port, Disposition::MakeSendOnce as u32).unwrap();
    send(&mut ipc, client, &message((0x4400, Disposition::MoveSendOnce), None, &[], b"y")).unwrap();
    assert_eq!(ipc.port(port_id).unwrap().message_count(), 3);
    receive(&mut ipc, server, port).unwrap();
    receive(&mut ipc, server, port).unwrap();
    assert_eq!(receive(&mut ipc, server, port).unwrap().data, b"y\0\0\0", "inline data is padded to 4 bytes");
    assert!(matches!(receive(&mut ipc, server, port), Err(ReceiveError::Empty)));
    send(&mut ipc, client, &bytes).unwrap();
}

#[test]
fn queued_message_bound_per_space() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = ipc.create_space(2, SpaceLimits { max_entries: 100, max_queued_messages: 2 });
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    let bytes = message((0x100, Disposition::CopySend), None, &[], &[]);
    send(&mut ipc, client, &bytes).unwrap();
    send(&mut ipc, client, &bytes).unwrap();
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendNoBuffer)));
    receive(&mut ipc, server, port).unwrap();
    assert_eq!(ipc.space(client).unwrap().queued_messages(), 1);
    send(&mut ipc, client, &bytes).unwrap();
}

#[test]
fn receive_errors() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let failed = |code| -> Result<(), ReceiveError> { Err(ReceiveError::Failed(code)) };
    assert_eq!(receive(&mut ipc, server, 0x9999).err(), failed(MachMsgReturn::ReceiveInvalidName).err());
    assert_eq!(receive(&mut ipc, client, send_name).err(), failed(MachMsgReturn::ReceiveInvalidName).err());
    let dead = ipc.allocate(client, PortRight::DeadName).unwrap();
    assert_eq!(receive(&mut ipc, client, dead).err(), failed(MachMsgReturn::ReceivePortDied).err());
    // Too large: with MACH_RCV_LARGE the message stays; without, it is destroyed.
    let bytes = message((send_name, Disposition::CopySend), None, &[], &[7u8; 100]);
    send(&mut ipc, client, &bytes).unwrap();
    let needed = 24 + 100 + MACH_MSG_TRAILER_SIZE;
    let large = ReceiveOptions { large: true, ..ReceiveOptions::default() };
    let mut memory = FakeMemory::default();
    assert_eq!(ipc.receive(server, port, needed - 1, large, &mut memory), Err(ReceiveError::TooLarge { needed }));
    assert!(ipc.receive(server, port, needed, large, &mut memory).is_ok());
    send(&mut ipc, client, &bytes).unwrap();
    assert_eq!(
        ipc.receive(server, port, 64, ReceiveOptions::default(), &mut memory),
        Err(ReceiveError::TooLarge { needed })
    );
    check(&ipc);
    assert_eq!(receive(&mut ipc, server, port).err(), Some(ReceiveError::Empty));
}

#[test]
fn port_set_receives_in_arrival_order() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let set = ipc.allocate(server, PortRight::PortSet).unwrap();
    let mut ports = Vec::new();
    for index in 0..3u32 {
        let port = ipc.allocate(server, PortRight::Receive).unwrap();
        ipc.move_member(server, port, set).unwrap();
        ipc.insert_right(client, 0x100 * (index + 1), server, port, Disposition::MakeSend as u32).unwrap();
        ports.push(port);
    }
    for (order, index) in [2u32, 0, 1, 2].iter().enumerate() {
        let outcome =
            send(&mut ipc, client, &message((0x100 * (index + 1), Disposition::CopySend), None, &[], &[order as u8]))
                .unwrap();
        assert_eq!(outcome.port_set.map(|s| ipc.port_set(s).unwrap().owner()), Some((server, set)));
    }
    for (order, index) in [2usize, 0, 1, 2].iter().enumerate() {
        let received = receive(&mut ipc, server, set).unwrap();
        assert_eq!(received.data[0], order as u8);
        assert_eq!(received.header.local_port, ports[*index]);
    }
    assert_eq!(receive(&mut ipc, server, set).err(), Some(ReceiveError::Empty));
}

/// A receive on a set looks only at its members with messages, in the
/// order their queue heads arrived: a server with thousands of ports in its
/// set (one per open file) pays neither for the quiet ones nor for a crowd
/// of waiting ones. Joining with messages queued, receiving a port's last
/// message and leaving keep the set's ready members exact.
#[test]
fn port_set_receives_look_only_at_members_with_messages() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let set = ipc.allocate(server, PortRight::PortSet).unwrap();
    let mut ports = Vec::new();
    for index in 0..2_000u32 {
        let port = ipc.allocate(server, PortRight::Receive).unwrap();
        ipc.move_member(server, port, set).unwrap();
        ipc.insert_right(client, 0x100 * (index + 1), server, port, Disposition::MakeSend as u32).unwrap();
        ports.push(port);
    }
    let outside = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100 * 3_000, server, outside, Disposition::MakeSend as u32).unwrap();
    let mut set_id = None;
    for (order, index) in [1_500u32, 7, 1_500].iter().enumerate() {
        let outcome =
            send(&mut ipc, client, &message((0x100 * (index + 1), Disposition::CopySend), None, &[], &[order as u8]))
                .unwrap();
        set_id = outcome.port_set;
    }
    let set_id = set_id.unwrap();
    let ready = |ipc: &Ipc| ipc.port_set(set_id).unwrap().ready_members().count();
    assert_eq!(ready(&ipc), 2);
    // A port joining with a message queued can be received from at once.
    send(&mut ipc, client, &message((0x100 * 3_000, Disposition::CopySend), None, &[], &[3])).unwrap();
    ipc.move_member(server, outside, set).unwrap();
    assert_eq!(ready(&ipc), 3);
    check(&ipc);
    for (order, port) in [(0u8, ports[1_500]), (1, ports[7]), (2, ports[1_500]), (3, outside)] {
        let received = receive(&mut ipc, server, set).unwrap();
        assert_eq!((received.data[0], received.header.local_port), (order, port));
        check(&ipc);
    }
    assert_eq!(ready(&ipc), 0);
    assert_eq!(receive(&mut ipc, server, set).err(), Some(ReceiveError::Empty));
    // A member leaving with messages queued takes them out of the set.
    send(&mut ipc, client, &message((0x100 * 8, Disposition::CopySend), None, &[], &[4])).unwrap();
    assert_eq!(ready(&ipc), 1);
    ipc.move_member(server, ports[7], MACH_PORT_NULL).unwrap();
    assert_eq!(ready(&ipc), 0);
    check(&ipc);
    assert_eq!(receive(&mut ipc, server, set).err(), Some(ReceiveError::Empty));
    assert_eq!(receive(&mut ipc, server, ports[7]).unwrap().data[0], 4);
}

#[test]
fn out_of_line_memory_and_ports() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let carried = port_with_send(&mut ipc, client);
    let mut sender_memory = FakeMemory::default();
    sender_memory.name_arrays.insert(0x8000, vec![carried, MACH_PORT_NULL, carried]);
    ipc.mod_refs(client, carried, PortRight::Send, 1).unwrap();
    let descriptors = [
        Descriptor::OutOfLineMemory { address: 0x5000, size: 8192, deallocate: true, copy: CopyOption::VirtualCopy },
        Descriptor::OutOfLinePorts {
            address: 0x8000,
            count: 3,
            disposition: Disposition::MoveSend,
            deallocate: false,
            copy: CopyOption::PhysicalCopy,
        },
        Descriptor::OutOfLineMemory { address: 0x6000, size: 0, deallocate: false, copy: CopyOption::PhysicalCopy },
    ];
    let bytes = message((send_name, Disposition::CopySend), None, &descriptors, &[]);
    ipc.send(client, &bytes, &mut sender_memory).unwrap();
    check(&ipc);
    assert_eq!(sender_memory.deallocated, vec![(0x5000, 8192)]);
    assert_eq!(ipc.port_type(client, carried), Ok(MACH_PORT_TYPE_RECEIVE));
    // Hand the captured regions over as the kernel's VM would.
    let mut receiver_memory =
        FakeMemory { regions: std::mem::take(&mut sender_memory.regions), next: 100, ..Default::default() };
    let received = ipc.receive(server, port, 4096, ReceiveOptions::default(), &mut receiver_memory).unwrap();
    check(&ipc);
    assert_eq!(received.lost, 0);
    let decoded = decode(&received);
    let Descriptor::OutOfLineMemory { address, size: 8192, .. } = decoded.descriptors[0] else { panic!("memory") };
    assert_eq!(receiver_memory.mapped[&address], vec![0u8; 8192]);
    let Descriptor::OutOfLinePorts { address, count: 3, disposition, .. } = decoded.descriptors[1] else {
        panic!("ports")
    };
    assert_eq!(disposition as u32, MACH_MSG_TYPE_PORT_SEND);
    let names = &receiver_memory.name_arrays[&address];
    assert_eq!(names[1], MACH_PORT_NULL);
    assert_eq!(names[0], names[2]);
    assert_eq!(ipc.get_refs(server, names[0], PortRight::Send), Ok(2));
    assert_eq!(
        decoded.descriptors[2],
        Descriptor::OutOfLineMemory { address: 0, size: 0, deallocate: false, copy: CopyOption::PhysicalCopy }
    );
}

#[test]
fn out_of_line_failures() {
    let mut ipc = Ipc::new();
    let (_server, _port, client, send_name) = client_server(&mut ipc);
    let descriptors =
        [Descriptor::OutOfLineMemory { address: 0x5000, size: 10, deallocate: true, copy: CopyOption::PhysicalCopy }];
    let bytes = message((send_name, Disposition::CopySend), None, &descriptors, &[]);
    let mut memory = FakeMemory { fail_capture: true, ..Default::default() };
    assert_eq!(ipc.send(client, &bytes, &mut memory), Err(SendError::Failed(MachMsgReturn::SendInvalidMemory)));
    assert!(memory.deallocated.is_empty());
    let descriptors = [Descriptor::OutOfLinePorts {
        address: 0x1,
        count: 2,
        disposition: Disposition::CopySend,
        deallocate: false,
        copy: CopyOption::PhysicalCopy,
    }];
    let bytes = message((send_name, Disposition::CopySend), None, &descriptors, &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidMemory)));
    check(&ipc);
}

#[test]
fn destroyed_queue_releases_rights_recursively() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    // A chain: port A's receive right queued on port B's queue, B's receive
    // right queued on the server port, each with a send right to a watcher.
    let watcher = ipc.allocate(client, PortRight::Receive).unwrap();
    let mut inner = None;
    for _ in 0..50 {
        let next = port_with_send(&mut ipc, client);
        let mut descriptors = vec![port_descriptor(watcher, Disposition::MakeSend)];
        if let Some(previous) = inner {
            descriptors.push(port_descriptor(previous, Disposition::MoveReceive));
        }
        send(&mut ipc, client, &message((next, Disposition::MakeSend), None, &descriptors, &[])).unwrap();
        ipc.deallocate(client, next).unwrap();
        inner = Some(next);
    }
    let bytes = message(
        (send_name, Disposition::CopySend),
        None,
        &[port_descriptor(inner.unwrap(), Disposition::MoveReceive)],
        &[],
    );
    send(&mut ipc, client, &bytes).unwrap();
    let watcher_id = ipc.port_of(client, watcher).unwrap();
    assert_eq!(ipc.port(watcher_id).unwrap().send_rights(), 50);
    let ports_before = ipc.port_count();
    assert_eq!(ports_before, 52, "server port, watcher, 50 in the chain");
    ipc.destroy(server, port).unwrap();
    check(&ipc);
    assert_eq!(ipc.port(watcher_id).unwrap().send_rights(), 0);
    assert_eq!(ipc.port_count(), 1, "only the watcher is left");
    assert_eq!(ipc.port_type(client, send_name), Ok(MACH_PORT_TYPE_DEAD_NAME));
}

#[test]
fn circular_receive_right_is_refused() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let port = port_with_send(&mut ipc, space);
    let bytes = message((port, Disposition::CopySend), None, &[port_descriptor(port, Disposition::MoveReceive)], &[]);
    assert_eq!(send(&mut ipc, space, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidRight)));
    // Longer cycle: B queued on A, then A sent to B.
    let a = port_with_send(&mut ipc, space);
    let b = port_with_send(&mut ipc, space);
    ipc.mod_refs(space, b, PortRight::Send, 1).unwrap();
    send(
        &mut ipc,
        space,
        &message((a, Disposition::CopySend), None, &[port_descriptor(b, Disposition::MoveReceive)], &[]),
    )
    .unwrap();
    let bytes = message((b, Disposition::CopySend), None, &[port_descriptor(a, Disposition::MoveReceive)], &[]);
    assert_eq!(send(&mut ipc, space, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidRight)));
    ipc.destroy_space(space).unwrap();
    deliver(&mut ipc);
    assert_eq!(ipc.port_count(), 0);
}

#[test]
fn space_destruction_frees_everything() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let reply = ipc.allocate(client, PortRight::Receive).unwrap();
    let set = ipc.allocate(server, PortRight::PortSet).unwrap();
    ipc.move_member(server, port, set).unwrap();
    for _ in 0..3 {
        let bytes = message(
            (send_name, Disposition::CopySend),
            Some((reply, Disposition::MakeSendOnce)),
            &[port_descriptor(reply, Disposition::MakeSend)],
            &[],
        );
        send(&mut ipc, client, &bytes).unwrap();
    }
    ipc.destroy_space(server).unwrap();
    check(&ipc);
    assert_eq!(ipc.port_type(client, send_name), Ok(MACH_PORT_TYPE_DEAD_NAME));
    let reply_id = ipc.port_of(client, reply).unwrap();
    assert_eq!(ipc.port(reply_id).unwrap().send_rights(), 0);
    // The three reply send-once rights were destroyed: send-once notifications.
    assert_eq!(deliver(&mut ipc), 3);
    for _ in 0..3 {
        assert_eq!(receive(&mut ipc, client, reply).unwrap().header.id, NotifyId::SendOnce as i32);
    }
    ipc.destroy_space(client).unwrap();
    check(&ipc);
    assert_eq!(ipc.port_count(), 0);
    assert_eq!(ipc.destroy_space(client), Err(KernReturn::InvalidTask));
}

#[test]
fn direct_handoff() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let reply = ipc.allocate(client, PortRight::Receive).unwrap();
    let bytes = message((send_name, Disposition::CopySend), Some((reply, Disposition::MakeSendOnce)), &[], b"rpc");
    let mut memory = FakeMemory::default();
    // The kernel finds the destination and what the receiver waits on.
    let port_id = ipc.port_of(server, port).unwrap();
    assert_eq!(ipc.destination_of(client, &bytes), Some(port_id));
    assert_eq!(ipc.destination_of(client, &[0; 4]), None);
    assert_eq!(ipc.receive_source(server, port), Ok(ReceiveSource::Port(port_id)));
    assert_eq!(ipc.receive_source(client, send_name), Err(MachMsgReturn::ReceiveInvalidName));
    let received = ipc
        .send_direct(
            client,
            &bytes,
            &mut FakeMemory::default(),
            server,
            port,
            1024,
            ReceiveOptions::default(),
            &mut memory,
        )
        .unwrap();
    check(&ipc);
    let decoded = decode(&received);
    assert_eq!(decoded.data, b"rpc\0");
    assert_eq!(decoded.trailer.seqno, 0);
    assert_eq!(ipc.port_type(server, decoded.header.remote_port), Ok(MACH_PORT_TYPE_SEND_ONCE));
    let port_id = ipc.port_of(server, port).unwrap();
    assert_eq!(ipc.port(port_id).unwrap().message_count(), 0);
    assert_eq!(ipc.port(port_id).unwrap().seqno(), 1);
    // Not receiving on that port: no handoff, nothing changed.
    let other = ipc.allocate(server, PortRight::Receive).unwrap();
    assert_eq!(
        ipc.send_direct(
            client,
            &bytes,
            &mut FakeMemory::default(),
            server,
            other,
            1024,
            ReceiveOptions::default(),
            &mut memory
        ),
        Err(SendError::HandoffNotPossible)
    );
    // Messages queued ahead: no handoff (order is kept).
    send(&mut ipc, client, &message((send_name, Disposition::CopySend), None, &[], &[])).unwrap();
    assert_eq!(
        ipc.send_direct(
            client,
            &bytes,
            &mut FakeMemory::default(),
            server,
            port,
            1024,
            ReceiveOptions::default(),
            &mut memory
        ),
        Err(SendError::HandoffNotPossible)
    );
    check(&ipc);
    // A receive buffer too small for the message: no handoff, nothing sent.
    receive(&mut ipc, server, port).unwrap();
    assert_eq!(
        ipc.send_direct(
            client,
            &bytes,
            &mut FakeMemory::default(),
            server,
            port,
            24,
            ReceiveOptions::default(),
            &mut memory
        ),
        Err(SendError::HandoffNotPossible)
    );
    assert_eq!(ipc.port(port_id).unwrap().message_count(), 0);
    check(&ipc);
    // Through a port set.
    let set = ipc.allocate(server, PortRight::PortSet).unwrap();
    ipc.move_member(server, port, set).unwrap();
    let received = ipc
        .send_direct(
            client,
            &bytes,
            &mut FakeMemory::default(),
            server,
            set,
            1024,
            ReceiveOptions::default(),
            &mut memory,
        )
        .unwrap();
    assert_eq!(decode(&received).header.local_port, port);
    check(&ipc);
}

#[test]
fn received_rights_lost_when_space_is_full() {
    let mut ipc = Ipc::new();
    let server = ipc.create_space(1, SpaceLimits { max_entries: 1, max_queued_messages: 10 });
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    let carried = port_with_send(&mut ipc, client);
    let bytes = message((0x100, Disposition::CopySend), None, &[port_descriptor(carried, Disposition::CopySend)], &[]);
    send(&mut ipc, client, &bytes).unwrap();
    let received = ipc.receive(server, port, 1024, ReceiveOptions::default(), &mut FakeMemory::default()).unwrap();
    check(&ipc);
    assert_eq!(received.lost, MACH_MSG_IPC_SPACE);
    assert_eq!(decode(&received).descriptors[0], port_descriptor(MACH_PORT_NULL, Disposition::MoveSend));
    let carried_id = ipc.port_of(client, carried).unwrap();
    assert_eq!(ipc.port(carried_id).unwrap().send_rights(), 1);
}

#[test]
fn dead_rights_travel_as_dead() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    let victim = port_with_send(&mut ipc, client);
    ipc.mod_refs(client, victim, PortRight::Send, 1).unwrap();
    // Queue a send right to `victim`, then kill `victim`.
    send(
        &mut ipc,
        client,
        &message((send_name, Disposition::CopySend), None, &[port_descriptor(victim, Disposition::CopySend)], &[]),
    )
    .unwrap();
    ipc.mod_refs(client, victim, PortRight::Receive, -1).unwrap();
    assert_eq!(ipc.port_type(client, victim), Ok(MACH_PORT_TYPE_DEAD_NAME));
    check(&ipc);
    // A dead name sent with MOVE_SEND travels as MACH_PORT_DEAD.
    send(
        &mut ipc,
        client,
        &message((send_name, Disposition::CopySend), None, &[port_descriptor(victim, Disposition::MoveSend)], &[]),
    )
    .unwrap();
    assert_eq!(ipc.get_refs(client, victim, PortRight::DeadName), Ok(1));
    for _ in 0..2 {
        let received = receive(&mut ipc, server, port).unwrap();
        assert_eq!(received.descriptors[0], port_descriptor(MACH_PORT_DEAD, Disposition::MoveSend));
    }
    assert_eq!(ipc.port_count(), 1, "the victim is freed with its last dead right");
}

#[test]
fn kernel_server_round_trip() {
    let mut ipc = Ipc::new();
    let task = new_space(&mut ipc, 5);
    let task_port = ipc.allocate_kernel_port(42);
    let right = ipc.make_send(task_port).unwrap();
    let task_name = ipc.insert_carried(task, right).unwrap();
    let reply = ipc.allocate(task, PortRight::Receive).unwrap();
    let carried = port_with_send(&mut ipc, task);
    let bytes = message(
        (task_name, Disposition::CopySend),
        Some((reply, Disposition::MakeSendOnce)),
        &[port_descriptor(carried, Disposition::CopySend)],
        b"info",
    );
    let outcome = send(&mut ipc, task, &bytes).unwrap();
    assert_eq!(outcome.receiver, Receiver::Kernel);
    let mut request = ipc.receive_kernel_message(task_port).unwrap();
    check(&ipc);
    assert_eq!(request.inline_data(), b"info");
    assert_eq!(request.id(), 1000);
    assert!(matches!(request.items()[0], MessageItem::Port(Some(CarriedRight::Port { kind: RightKind::Send, .. }))));
    let reply_right = request.take_reply().unwrap();
    // The kernel drops the rest of the request.
    let MessageItem::Port(Some(_)) = &request.items()[0] else { panic!("port item") };
    let carried_id = ipc.port_of(task, carried).unwrap();
    assert_eq!(ipc.port(carried_id).unwrap().send_rights(), 2);
    // Too much data is refused and the reply right comes back.
    let refused = KernelMessage::from_kernel(reply_right, 1100, None, vec![0; MACH_MSG_SIZE_MAX]).unwrap_err();
    assert!(refused.reply.is_none());
    let reply_right = refused.destination;
    // Data is padded to 4 bytes.
    let answer = KernelMessage::from_kernel(reply_right, 1100, None, b"done!".to_vec()).unwrap();
    ipc.send_kernel_message(answer).unwrap();
    check(&ipc);
    let received = receive(&mut ipc, task, reply).unwrap();
    assert_eq!(received.header.id, 1100);
    assert_eq!(received.data, b"done!\0\0\0");
    assert_eq!(received.trailer.sender, 0);
    // Not a kernel port: nothing to take.
    let user_port = ipc.port_of(task, reply).unwrap();
    assert!(ipc.receive_kernel_message(user_port).is_none());
    ipc.release_kernel_message(request);
    check(&ipc);
    assert_eq!(ipc.port(carried_id).unwrap().send_rights(), 1);
}

#[test]
fn destroying_a_very_long_chain_does_not_recurse() {
    // 5000 ports, each one's receive right queued on the next: destroying
    // the outermost must walk the chain with the work list, not the stack.
    let mut ipc = Ipc::new();
    let space = ipc.create_space(1, SpaceLimits { max_entries: 8, max_queued_messages: 10_000 });
    let mut inner = ipc.allocate(space, PortRight::Receive).unwrap();
    for _ in 0..5000 {
        let outer = ipc.allocate(space, PortRight::Receive).unwrap();
        let bytes =
            message((outer, Disposition::MakeSend), None, &[port_descriptor(inner, Disposition::MoveReceive)], &[]);
        ipc.send(space, &bytes, &mut FakeMemory::default()).unwrap();
        inner = outer;
    }
    assert_eq!(ipc.port_count(), 5001);
    // Messages inside ports in transit still count against their sender.
    assert_eq!(ipc.space(space).unwrap().queued_messages(), 5000);
    check(&ipc);
    ipc.destroy(space, inner).unwrap();
    check(&ipc);
    assert_eq!(ipc.port_count(), 0);
    assert_eq!(ipc.space(space).unwrap().queued_messages(), 0);
}

#[test]
fn received_send_right_saturates_at_the_reference_limit() {
    let mut ipc = Ipc::new();
    let (server, port, client, send_name) = client_server(&mut ipc);
    // The server already holds the maximum references to `watched`.
    let watched = ipc.allocate(client, PortRight::Receive).unwrap();
    ipc.insert_right(server, 0x9900, client, watched, Disposition::MakeSend as u32).unwrap();
    ipc.mod_refs(server, 0x9900, PortRight::Send, USER_REFERENCES_MAX as i32 - 1).unwrap();
    let bytes =
        message((send_name, Disposition::CopySend), None, &[port_descriptor(watched, Disposition::MakeSend)], &[]);
    send(&mut ipc, client, &bytes).unwrap();
    let received = receive(&mut ipc, server, port).unwrap();
    assert_eq!(received.descriptors[0], port_descriptor(0x9900, Disposition::MoveSend));
    assert_eq!(ipc.get_refs(server, 0x9900, PortRight::Send), Ok(USER_REFERENCES_MAX));
    let watched_id = ipc.port_of(client, watched).unwrap();
    assert_eq!(ipc.port(watched_id).unwrap().send_rights(), 1);
    assert_eq!(ipc.port(watched_id).unwrap().make_send_count(), 2);
}
