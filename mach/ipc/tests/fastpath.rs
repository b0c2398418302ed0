//! The fast path against the general one: the same world built twice, the
//! same message handed to a waiting receiver by `send_fast_into` in one and
//! by `send_direct_into` in the other; every accepted message must give the
//! same result, the same bytes and the same spaces, ports and
//! notifications, and a declined one must change nothing.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::*;
use proptest::prelude::*;

/// How a world is set up before the message: a client and a server space,
/// the server's receive right (its service), the client's reply port.
#[derive(Clone, Debug)]
struct Scenario {
    /// What the client holds to the service: 0 a send right, 1 a send-once
    /// right, 2 both, 3 nothing (and the name stays unknown), 4 a send
    /// right to a port that then died (a dead name).
    client_holds: u8,
    /// The destination disposition, as a raw header value (valid or not).
    destination_disposition: u32,
    /// Which name the header names: 0 the send right, 1 the send-once
    /// right, 2 the reply port, 3 NULL, 4 a bogus name.
    destination_pick: u8,
    /// Reply: (name pick as above plus 5 = the reply port, disposition).
    reply_pick: u8,
    reply_disposition: u32,
    words: usize,
    extra_bits: u32,
    voucher: bool,
    /// The receiver waits on a set holding the service (not the port).
    in_set: bool,
    /// A message is already queued on the service.
    queued: bool,
    audit: bool,
    /// Receive buffer size: 0 exactly the message and trailer, 1 less, 2 plenty.
    buffer: u8,
    /// The receiver's name allowance is exhausted.
    allowance_full: bool,
    credential: bool,
    /// The header's size field is off by 4.
    bad_size: bool,
    /// Most cases: the header is an RPC's (the destination the right the
    /// client holds, with its disposition; a reply port made send-once or
    /// none), so the fast path's own conditions are what decide.
    coherent: bool,
    /// The receiver's space is at its hard limit (its names are exactly
    /// the ones the set-up gives it): a reply right finds no name.
    at_limit: bool,
    /// The client asked for a dead-name notification on its send-once
    /// right to the service (consuming it sends a port-deleted one).
    dead_name_request: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (0u8..5, prop_oneof![Just(19u32), Just(18), Just(17), Just(21), Just(20), 0u32..32], 0u8..5),
        (0u8..6, prop_oneof![Just(21u32), Just(0), Just(20), 0u32..32], 0usize..40),
        (prop_oneof![4 => Just(0u32), 1 => Just(MACH_MSGH_BITS_COMPLEX), 1 => Just(1u32 << 16)], any::<bool>()),
        (prop::bool::weighted(0.15), prop::bool::weighted(0.15), any::<bool>(), 0u8..3),
        (
            prop::bool::weighted(0.15),
            any::<bool>(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.7),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.3),
        ),
    )
        .prop_map(
            |(
                (client_holds, destination_disposition, destination_pick),
                (reply_pick, reply_disposition, words),
                (extra_bits, voucher),
                (in_set, queued, audit, buffer),
                (allowance_full, credential, bad_size, coherent, at_limit, dead_name_request),
            )| Scenario {
                client_holds,
                destination_disposition,
                destination_pick,
                reply_pick,
                reply_disposition,
                words,
                extra_bits,
                voucher: voucher && extra_bits == 0 && words % 7 == 3,
                in_set,
                queued,
                audit,
                buffer,
                allowance_full,
                credential,
                bad_size,
                coherent,
                at_limit,
                dead_name_request,
            },
        )
}

struct World {
    ipc: Ipc,
    client: SpaceId,
    server: SpaceId,
    /// The name the receiver waits on (the service or the set).
    receive_name: PortName,
    bytes: Vec<u8>,
    receive_size: usize,
    options: ReceiveOptions,
}

fn build(scenario: &Scenario) -> World {
    let mut ipc = Ipc::new();
    let client = new_space(&mut ipc, 7);
    let server = if scenario.at_limit {
        let names = 1 + usize::from(scenario.client_holds == 4 || scenario.in_set);
        ipc.create_space(9, SpaceLimits { max_entries: names, ..SpaceLimits::default() })
    } else {
        new_space(&mut ipc, 9)
    };
    if scenario.credential {
        let credential = TaskCredential { pid: 42, pgid: 42, sid: 1, ruid: 1000, euid: 1000, ..Default::default() };
        ipc.set_credential(client, credential).unwrap();
    }
    let service = ipc.allocate(server, PortRight::Receive).unwrap();
    let reply = ipc.allocate(client, PortRight::Receive).unwrap();
    let mut send_name = 0x0bad_0000;
    let mut send_once_name = 0x0bad_0100;
    if matches!(scenario.client_holds, 0 | 2 | 4) {
        send_name = 0x1000;
        ipc.insert_right(client, send_name, server, service, Disposition::MakeSend as u32).unwrap();
    }
    if matches!(scenario.client_holds, 1 | 2) {
        send_once_name = 0x1100;
        ipc.insert_right(client, send_once_name, server, service, Disposition::MakeSendOnce as u32).unwrap();
        if scenario.dead_name_request {
            let dead_name = NotifyId::DeadName as u32;
            let make_send_once = Disposition::MakeSendOnce as u32;
            ipc.request_notification(client, send_once_name, dead_name, 0, reply, make_send_once).unwrap();
        }
    }
    let mut receive_name = service;
    if scenario.client_holds == 4 {
        // The service dies; the server waits on a fresh port.
        ipc.destroy(server, service).unwrap();
        receive_name = ipc.allocate(server, PortRight::Receive).unwrap();
    } else if scenario.in_set {
        let set = ipc.allocate(server, PortRight::PortSet).unwrap();
        ipc.move_member(server, service, set).unwrap();
        receive_name = set;
    }
    if scenario.queued && scenario.client_holds != 4 {
        let other = new_space(&mut ipc, 11);
        ipc.insert_right(other, 0x2000, server, service, Disposition::MakeSend as u32).unwrap();
        send(&mut ipc, other, &message((0x2000, Disposition::CopySend), None, &[], &[1, 2, 3, 4])).unwrap();
    }
    deliver(&mut ipc);
    let pick = |pick: u8| match pick {
        0 => send_name,
        1 => send_once_name,
        2 | 5 => reply,
        3 => MACH_PORT_NULL,
        _ => 0x7777_0001,
    };
    let data: Vec<u8> = (0..scenario.words * 4).map(|index| index as u8 ^ 0x5a).collect();
    let mut bytes = message((pick(scenario.destination_pick), Disposition::CopySend), None, &[], &data);
    let mut header = MachMsgHeader::read_from(&bytes).unwrap();
    let (destination, reply) = if scenario.coherent {
        let destination = match scenario.client_holds {
            1 => (send_once_name, Disposition::MoveSendOnce as u32),
            _ => (send_name, Disposition::CopySend as u32),
        };
        let reply = match scenario.reply_pick % 2 {
            0 => (reply, Disposition::MakeSendOnce as u32),
            _ => (MACH_PORT_NULL, 0),
        };
        (destination, reply)
    } else {
        (
            (pick(scenario.destination_pick), scenario.destination_disposition),
            (pick(scenario.reply_pick), scenario.reply_disposition),
        )
    };
    header.remote_port = destination.0;
    header.local_port = reply.0;
    header.bits = msgh_bits(destination.1, reply.1) | scenario.extra_bits;
    header.voucher_port = if scenario.voucher { 0x3000 } else { 0 };
    if scenario.bad_size {
        header.size += 4;
    }
    header.write_to(&mut bytes).unwrap();
    let options = ReceiveOptions { audit: scenario.audit, ..ReceiveOptions::default() };
    let needed = bytes.len() + options.trailer_size();
    let receive_size = match scenario.buffer {
        0 => needed,
        1 => needed - 4,
        _ => MACH_MSG_SIZE_MAX + MACH_MSG_AUDIT_TRAILER_SIZE,
    };
    if scenario.allowance_full {
        let count = ipc.space(server).unwrap().name_count();
        ipc.set_name_allowance(server, count).unwrap();
    }
    World { ipc, client, server, receive_name, bytes, receive_size, options }
}

/// Everything observable of a world: each space's entries and counters,
/// each port they name (its queue and rights counts), the notifications
/// waiting.
fn snapshot(world: &World) -> String {
    let mut text = String::new();
    let mut ports = std::collections::BTreeSet::new();
    for space in [world.client, world.server] {
        let object = world.ipc.space(space).unwrap();
        text += &format!(
            "space {space:?} names {} allowance {} queued {} {}\n",
            object.name_count(),
            object.name_allowance(),
            object.queued_messages(),
            object.queued_bytes()
        );
        for (name, entry) in object.entries() {
            text += &format!("  {name:#x} {entry:?}\n");
            if let right::EntryRights::Port { port, .. } | right::EntryRights::SendOnce { port } = entry.rights {
                ports.insert(port);
            }
        }
    }
    for port in ports {
        text += &format!("{port:?} {:?}\n", world.ipc.port(port));
    }
    for notification in world.ipc.pending_notifications() {
        text += &format!("notification {notification:?}\n");
    }
    text += &format!("pending work {}\n", world.ipc.has_pending_work());
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn fast_and_general_paths_agree(scenario in scenario()) {
        let mut fast = build(&scenario);
        let mut general = build(&scenario);
        prop_assert_eq!(snapshot(&fast), snapshot(&general));
        let before = snapshot(&fast);
        let mut fast_out = vec![0xeeu8; MACH_MSG_SIZE_MAX + MACH_MSG_AUDIT_TRAILER_SIZE];
        let mut general_out = fast_out.clone();
        let fast_result = fast.ipc.send_fast_into(
            fast.client, &fast.bytes, fast.server, fast.receive_name, fast.receive_size, fast.options, &mut fast_out,
        );
        check(&fast.ipc);
        let Some(fast_result) = fast_result else {
            // Declined: nothing changed.
            prop_assert_eq!(snapshot(&fast), before);
            return Ok(());
        };
        let general_result = general.ipc.send_direct_into(
            general.client,
            &general.bytes,
            &mut FakeMemory::default(),
            general.server,
            general.receive_name,
            general.receive_size,
            general.options,
            &mut FakeMemory::default(),
            &mut general_out,
        );
        check(&general.ipc);
        prop_assert_eq!(Ok(&fast_result), general_result.as_ref());
        prop_assert_eq!(&fast_out[..], &general_out[..]);
        prop_assert_eq!(snapshot(&fast), snapshot(&general));
        // And both go on alike: notifications delivered, the reply right used.
        prop_assert_eq!(deliver(&mut fast.ipc), deliver(&mut general.ipc));
        prop_assert_eq!(snapshot(&fast), snapshot(&general));
    }
}

/// The common shapes are taken by the fast path (so the property above
/// compares something): a request with a reply port, and its reply.
#[test]
fn request_and_reply_take_the_fast_path() {
    let mut ipc = Ipc::new();
    let client = new_space(&mut ipc, 7);
    let server = new_space(&mut ipc, 9);
    let service = ipc.allocate(server, PortRight::Receive).unwrap();
    let reply = ipc.allocate(client, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x1000, server, service, Disposition::MakeSend as u32).unwrap();
    let request = message((0x1000, Disposition::CopySend), Some((reply, Disposition::MakeSendOnce)), &[], &[9; 8]);
    let mut out = vec![0u8; 256];
    let received = ipc
        .send_fast_into(client, &request, server, service, out.len(), ReceiveOptions::default(), &mut out)
        .expect("a request takes the fast path");
    check(&ipc);
    assert_eq!(received.length, request.len() + MACH_MSG_TRAILER_SIZE);
    let (view, trailer) = parse_received(&out[..received.length]).unwrap();
    assert_eq!(view.header.local_port, service);
    assert_eq!(view.inline_data, &[9; 8]);
    assert_eq!(trailer.sender, 7);
    let reply_right = view.header.remote_port;
    let reply_port = ipc.port_of(client, reply).unwrap();
    assert_eq!(
        ipc.space(server).unwrap().entry(reply_right).map(|entry| entry.rights),
        Some(right::EntryRights::SendOnce { port: reply_port }),
        "the server holds a send-once right to the reply port"
    );
    let answer = message((reply_right, Disposition::MoveSendOnce), None, &[], &[1; 4]);
    let received = ipc
        .send_fast_into(
            server,
            &answer,
            client,
            reply,
            out.len(),
            ReceiveOptions { audit: true, ..Default::default() },
            &mut out,
        )
        .expect("a reply takes the fast path");
    check(&ipc);
    let (view, _) = parse_received_audit(&out[..received.length]).unwrap();
    assert_eq!(view.header.remote_port, MACH_PORT_NULL);
    assert_eq!(view.header.local_port, reply);
    assert!(ipc.space(server).unwrap().entry(reply_right).is_none(), "the send-once right was used up");
}
