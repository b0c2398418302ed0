//! A kernel-built message handed to a waiting receiver
//! (`Ipc::send_kernel_into`) against the same message queued
//! (`send_kernel_message`) and then received: the same world built twice
//! must end with the same bytes and the same spaces and ports; a message
//! the handoff declines comes back with nothing changed.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::*;

struct World {
    ipc: Ipc,
    server: SpaceId,
    /// The name the server receives on: its service port, or a set.
    receive_name: PortName,
    service: PortId,
    /// Kernel ports the message carries rights to (a thread's, a task's)
    /// and the kernel's reply port.
    carried: [PortId; 2],
    reply: PortId,
}

/// `in_set`: the server receives on a set holding the service; `queued`:
/// a message already waits on the service; `allowance`: the server's name
/// allowance has no room left.
fn world(in_set: bool, queued: bool, allowance_full: bool) -> World {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 7);
    let service_name = port_with_send(&mut ipc, server);
    let service = ipc.port_of(server, service_name).unwrap();
    let receive_name = if in_set {
        let set = ipc.allocate(server, PortRight::PortSet).unwrap();
        ipc.move_member(server, service_name, set).unwrap();
        set
    } else {
        service_name
    };
    if queued {
        let bytes = message((service_name, Disposition::CopySend), None, &[], &[1, 2, 3, 4]);
        send(&mut ipc, server, &bytes).unwrap();
    }
    let carried = [ipc.allocate_kernel_port(11), ipc.allocate_kernel_port(12)];
    let reply = ipc.allocate_kernel_port(13);
    if allowance_full {
        let count = ipc.space(server).unwrap().name_count();
        ipc.set_name_allowance(server, count).unwrap();
    }
    World { ipc, server, receive_name, service, carried, reply }
}

/// The message an exception raise builds: the destination, a send-once
/// reply right, send rights to the two carried ports (or none), inline data.
fn kernel_message(world: &mut World, with_ports: bool) -> KernelMessage {
    let destination = world.ipc.make_send(world.service).unwrap();
    let reply = world.ipc.make_send_once(world.reply).unwrap();
    let inline = (0u8..56).collect::<Vec<u8>>();
    if with_ports {
        let ports = world.carried.map(|port| world.ipc.make_send(port).unwrap());
        KernelMessage::from_kernel_with_ports(destination, 2401, Some(reply), ports.into(), inline).unwrap()
    } else {
        KernelMessage::from_kernel(destination, 2402, Some(reply), inline).unwrap()
    }
}

fn snapshot(world: &World) -> String {
    let mut text = String::new();
    let object = world.ipc.space(world.server).unwrap();
    text += &format!("names {} queued {}\n", object.name_count(), object.queued_messages());
    for (name, entry) in object.entries() {
        text += &format!("  {name:#x} {entry:?}\n");
    }
    for port in [world.service, world.carried[0], world.carried[1], world.reply] {
        text += &format!("{port:?} {:?}\n", world.ipc.port(port));
    }
    text += &format!("pending work {}\n", world.ipc.has_pending_work());
    text
}

#[test]
fn a_handed_off_kernel_message_is_what_a_queued_one_receives() {
    for (in_set, with_ports, audit) in
        [(false, true, false), (true, true, false), (false, false, true), (true, false, true), (false, false, false)]
    {
        let options = ReceiveOptions { audit, ..ReceiveOptions::default() };
        let size = MACH_MSG_SIZE_MAX + options.trailer_size();
        let mut handed = world(in_set, false, false);
        let message = kernel_message(&mut handed, with_ports);
        let mut out = vec![0u8; 512];
        let into = handed
            .ipc
            .send_kernel_into(message, handed.server, handed.receive_name, size, options, &mut out)
            .expect("a waiting receiver takes a kernel message");
        check(&handed.ipc);
        let mut queued = world(in_set, false, false);
        let message = kernel_message(&mut queued, with_ports);
        queued.ipc.send_kernel_message(message).expect("the service is alive");
        let received = queued
            .ipc
            .receive(queued.server, queued.receive_name, size, options, &mut FakeMemory::default())
            .expect("the queued message is received");
        check(&queued.ipc);
        assert_eq!(&out[..into.length], &received.bytes[..], "in set {in_set}, ports {with_ports}, audit {audit}");
        assert_eq!((into.port, into.lost), (received.port, received.lost));
        assert_eq!(snapshot(&handed), snapshot(&queued));
    }
}

#[test]
fn a_kernel_message_the_handoff_cannot_take_comes_back_unchanged() {
    let options = ReceiveOptions::default();
    // A message queued ahead, a buffer too small, no name left, `out` too
    // short, and a receive on a name that is not the destination.
    for case in 0..5 {
        let mut world = world(false, case == 0, case == 2);
        let message = kernel_message(&mut world, true);
        let before = snapshot(&world);
        let size = if case == 1 { 40 } else { 4096 };
        let mut out = vec![0u8; if case == 3 { 64 } else { 512 }];
        let receive_name = if case == 4 { 0x0bad_0b0b } else { world.receive_name };
        let server = world.server;
        let back = world.ipc.send_kernel_into(message, server, receive_name, size, options, &mut out);
        let message = back.expect_err("declined");
        assert_eq!(snapshot(&world), before, "case {case}");
        // It can still be queued as usual, and released.
        world.ipc.release_kernel_message(message);
        check(&world.ipc);
    }
}

#[test]
fn a_reply_taken_by_the_kernel_at_once_is_what_a_queued_one_gives() {
    // The server answers a kernel message through the send-once reply
    // right it carried: taken without a message (the reply's shape), taken
    // at once as a message, or queued on the kernel's reply port and
    // received there. Every way leaves the same world and the kernel reads
    // the same id and data.
    for state_words in [1usize, 45] {
        let mut worlds = [world(false, false, false), world(false, false, false), world(false, false, false)];
        let mut replies = Vec::new();
        for (index, world) in worlds.iter_mut().enumerate() {
            let message = kernel_message(world, true);
            world.ipc.send_kernel_message(message).unwrap();
            let request = receive(&mut world.ipc, world.server, world.receive_name).unwrap();
            let data: Vec<u8> = (0..state_words * 4).map(|byte| byte as u8).collect();
            let bytes = common::message((request.header.remote_port, Disposition::MoveSendOnce), None, &[], &data);
            let reply = match index {
                0 => {
                    assert_eq!(world.ipc.send_reply_to_kernel(world.server, &bytes), Some(world.reply));
                    let header = MachMsgHeader::read_from(&bytes).unwrap();
                    replies.push((header.id, bytes[MACH_MSG_HEADER_SIZE..].to_vec()));
                    check(&world.ipc);
                    continue;
                }
                1 => world.ipc.send_to_kernel(world.server, &bytes).expect("taken at once"),
                _ => {
                    send(&mut world.ipc, world.server, &bytes).unwrap();
                    world.ipc.receive_kernel_message(world.reply).expect("queued on the reply port")
                }
            };
            check(&world.ipc);
            replies.push((reply.id(), reply.inline_data().to_vec()));
            world.ipc.release_kernel_message(reply);
            check(&world.ipc);
        }
        assert_eq!(replies[0], replies[1]);
        assert_eq!(replies[1], replies[2]);
        assert_eq!(snapshot(&worlds[0]), snapshot(&worlds[1]));
        assert_eq!(snapshot(&worlds[1]), snapshot(&worlds[2]));
    }
}

#[test]
fn a_message_to_a_port_the_kernel_does_not_receive_is_not_taken() {
    let mut world = world(false, false, false);
    let service = world.receive_name;
    let bytes = common::message((service, Disposition::MakeSend), None, &[], &[0; 8]);
    let before = snapshot(&world);
    assert!(matches!(world.ipc.send_to_kernel(world.server, &bytes), Err(SendError::HandoffNotPossible)));
    assert_eq!(world.ipc.send_reply_to_kernel(world.server, &bytes), None);
    assert_eq!(snapshot(&world), before);
}

#[test]
fn a_kernel_request_written_without_a_message_is_what_the_message_gives() {
    for (in_set, audit, allowance_full, size) in [
        (false, false, false, 4096),
        (true, true, false, 4096),
        (false, true, true, 4096),
        (true, false, false, 4096),
        (false, false, false, 60),
    ] {
        let options = ReceiveOptions { audit, ..ReceiveOptions::default() };
        let data: Vec<u8> = (0u8..56).collect();
        let mut direct = world(in_set, false, allowance_full);
        let mut out = vec![0u8; 512];
        let (service, reply, server, name) = (direct.service, direct.reply, direct.server, direct.receive_name);
        let before = snapshot(&direct);
        let request = KernelRequest { destination: service, id: 2402, reply: Some(reply), port: None, data: &data };
        let written = direct.ipc.send_kernel_request_into(request, server, name, size, options, &mut out);
        check(&direct.ipc);
        let mut general = world(in_set, false, allowance_full);
        let message = kernel_message(&mut general, false);
        let mut general_out = vec![0u8; 512];
        let (server, name) = (general.server, general.receive_name);
        match general.ipc.send_kernel_into(message, server, name, size, options, &mut general_out) {
            Ok(into) => {
                let written = written.expect("the direct way takes what the message way takes");
                assert_eq!(&out[..written.length], &general_out[..into.length]);
                assert_eq!((written.port, written.lost), (into.port, into.lost));
            }
            Err(message) => {
                assert!(written.is_none(), "taken though the message way declines");
                assert_eq!(snapshot(&direct), before);
                general.ipc.release_kernel_message(message);
                // The direct way changed nothing; the message way made and
                // released its rights (a make-send and a send-once
                // notification): not compared.
                continue;
            }
        }
        check(&general.ipc);
        assert_eq!(snapshot(&direct), snapshot(&general), "in set {in_set}, audit {audit}, allowance {allowance_full}");
    }
}

#[test]
fn a_pager_request_written_without_a_message_is_what_the_message_gives() {
    // A pager's data request: no reply right, a send right to the object's
    // port as its one descriptor (the receiver already names the port, or
    // not yet).
    for (in_set, audit, named_before, allowance_full) in [
        (false, false, false, false),
        (true, false, true, false),
        (false, true, true, false),
        (true, true, false, false),
        (false, false, false, true),
    ] {
        let options = ReceiveOptions { audit, ..ReceiveOptions::default() };
        let data: Vec<u8> = (0u8..24).collect();
        let build = |named_before: bool| {
            let mut world = world(in_set, false, false);
            if named_before {
                let right = world.ipc.make_send(world.carried[0]).unwrap();
                let server = world.server;
                world.ipc.insert_carried(server, right).unwrap();
            }
            if allowance_full {
                let count = world.ipc.space(world.server).unwrap().name_count();
                world.ipc.set_name_allowance(world.server, count).unwrap();
            }
            world
        };
        let mut direct = build(named_before);
        let before = snapshot(&direct);
        let mut out = vec![0u8; 512];
        let (service, object, server, name) = (direct.service, direct.carried[0], direct.server, direct.receive_name);
        let request = KernelRequest { destination: service, id: 2200, reply: None, port: Some(object), data: &data };
        let written = direct.ipc.send_kernel_request_into(request, server, name, 4096, options, &mut out);
        check(&direct.ipc);
        let mut general = build(named_before);
        let destination = general.ipc.make_send(general.service).unwrap();
        let carried = general.ipc.make_send(general.carried[0]).unwrap();
        let message =
            KernelMessage::from_kernel_with_ports(destination, 2200, None, vec![carried], data.clone()).unwrap();
        let mut general_out = vec![0u8; 512];
        let (server, name) = (general.server, general.receive_name);
        match general.ipc.send_kernel_into(message, server, name, 4096, options, &mut general_out) {
            Ok(into) => {
                let written = written.expect("the direct way takes what the message way takes");
                assert_eq!(&out[..written.length], &general_out[..into.length]);
                assert_eq!((written.port, written.lost), (into.port, into.lost));
                check(&general.ipc);
                assert_eq!(
                    snapshot(&direct),
                    snapshot(&general),
                    "in set {in_set}, audit {audit}, named {named_before}"
                );
            }
            Err(message) => {
                assert!(written.is_none(), "taken though the message way declines");
                assert_eq!(snapshot(&direct), before);
                general.ipc.release_kernel_message(message);
            }
        }
    }
}
