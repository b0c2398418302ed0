//! Notification requests and the notifications they produce.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::*;

const DEAD_NAME: u32 = NotifyId::DeadName as u32;
const NO_SENDERS: u32 = NotifyId::NoSenders as u32;
const PORT_DESTROYED: u32 = NotifyId::PortDestroyed as u32;
const MAKE_SEND_ONCE: u32 = Disposition::MakeSendOnce as u32;

fn name_in(data: &[u8]) -> u32 {
    u32::from_le_bytes(data[..4].try_into().unwrap())
}

#[test]
fn dead_name_notification_adds_a_reference() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    let notify = ipc.allocate(client, PortRight::Receive).unwrap();
    assert_eq!(ipc.request_notification(client, 0x100, DEAD_NAME, 0, notify, MAKE_SEND_ONCE), Ok(MACH_PORT_NULL));
    assert_eq!(ipc.port_type(client, 0x100), Ok(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST));
    check(&ipc);
    ipc.destroy(server, port).unwrap();
    check(&ipc);
    assert_eq!(ipc.get_refs(client, 0x100, PortRight::DeadName), Ok(2));
    assert_eq!(deliver(&mut ipc), 1);
    let notification = receive(&mut ipc, client, notify).unwrap();
    assert_eq!(notification.header.id, NotifyId::DeadName as i32);
    assert_eq!(name_in(&notification.data), 0x100);
    assert_eq!(notification.trailer.sender, 0, "sent by the kernel");
}

#[test]
fn port_deleted_when_the_watched_right_goes_away() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    let notify = ipc.allocate(client, PortRight::Receive).unwrap();
    ipc.request_notification(client, 0x100, DEAD_NAME, 0, notify, MAKE_SEND_ONCE).unwrap();
    ipc.deallocate(client, 0x100).unwrap();
    check(&ipc);
    assert_eq!(deliver(&mut ipc), 1);
    let notification = receive(&mut ipc, client, notify).unwrap();
    assert_eq!(notification.header.id, NotifyId::PortDeleted as i32);
    assert_eq!(name_in(&notification.data), 0x100);
    // The server port died afterwards: no dead-name notification any more.
    ipc.destroy(server, port).unwrap();
    assert_eq!(deliver(&mut ipc), 0);
}

#[test]
fn dead_name_request_on_a_dead_name_fires_at_once() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let dead = ipc.allocate(space, PortRight::DeadName).unwrap();
    let notify = ipc.allocate(space, PortRight::Receive).unwrap();
    ipc.request_notification(space, dead, DEAD_NAME, 0, notify, MAKE_SEND_ONCE).unwrap();
    assert_eq!(ipc.get_refs(space, dead, PortRight::DeadName), Ok(2));
    assert_eq!(deliver(&mut ipc), 1);
    assert_eq!(name_in(&receive(&mut ipc, space, notify).unwrap().data), dead);
}

#[test]
fn no_senders_fires_when_the_last_send_right_goes() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    ipc.request_notification(server, port, NO_SENDERS, 0, port, MAKE_SEND_ONCE).unwrap();
    let status = ipc.get_attributes(server, port, PortFlavor::ReceiveStatus as u32).unwrap().to_words();
    assert_eq!(status[8], 1, "no-senders request registered");
    ipc.deallocate(client, 0x100).unwrap();
    assert_eq!(deliver(&mut ipc), 0, "one reference left");
    ipc.deallocate(client, 0x100).unwrap();
    assert_eq!(deliver(&mut ipc), 1);
    let notification = receive(&mut ipc, server, port).unwrap();
    assert_eq!(notification.header.id, NotifyId::NoSenders as i32);
    assert_eq!(name_in(&notification.data), 2, "make-send count");
}

#[test]
fn no_senders_immediate_and_sync() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    // sync 1 > make-send count 0: waits for a make-send first.
    ipc.request_notification(server, port, NO_SENDERS, 1, port, MAKE_SEND_ONCE).unwrap();
    assert_eq!(deliver(&mut ipc), 0);
    ipc.insert_right(server, port, server, port, Disposition::MakeSend as u32).unwrap();
    ipc.deallocate(server, port).unwrap();
    assert_eq!(deliver(&mut ipc), 1);
    // sync 0 with no senders: fires at once.
    ipc.request_notification(server, port, NO_SENDERS, 0, port, MAKE_SEND_ONCE).unwrap();
    assert_eq!(deliver(&mut ipc), 1);
    assert_eq!(receive(&mut ipc, server, port).unwrap().header.id, NotifyId::NoSenders as i32);
}

#[test]
fn port_destroyed_returns_the_receive_right() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let backup = ipc.allocate(server, PortRight::Receive).unwrap();
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    ipc.request_notification(server, port, PORT_DESTROYED, 0, backup, MAKE_SEND_ONCE).unwrap();
    assert_eq!(
        ipc.request_notification(server, port, PORT_DESTROYED, 5, backup, MAKE_SEND_ONCE),
        Err(KernReturn::InvalidValue)
    );
    let port_id = ipc.port_of(server, port).unwrap();
    ipc.destroy(server, port).unwrap();
    check(&ipc);
    assert_eq!(ipc.port_type(client, 0x100), Ok(MACH_PORT_TYPE_SEND), "the port did not die");
    assert_eq!(deliver(&mut ipc), 1);
    let notification = receive(&mut ipc, server, backup).unwrap();
    assert_eq!(notification.header.id, NotifyId::PortDestroyed as i32);
    let Descriptor::Port { name, disposition } = notification.descriptors[0] else { panic!("port descriptor") };
    assert_eq!(disposition as u32, MACH_MSG_TYPE_PORT_RECEIVE);
    assert_eq!(ipc.port_of(server, name), Ok(port_id));
    // Without a request the second destruction kills it.
    ipc.destroy(server, name).unwrap();
    assert_eq!(ipc.port_type(client, 0x100), Ok(MACH_PORT_TYPE_DEAD_NAME));
    check(&ipc);
}

#[test]
fn port_destroyed_to_itself_does_not_loop() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let port = ipc.allocate(space, PortRight::Receive).unwrap();
    ipc.request_notification(space, port, PORT_DESTROYED, 0, port, MAKE_SEND_ONCE).unwrap();
    ipc.destroy(space, port).unwrap();
    deliver(&mut ipc);
    assert_eq!(ipc.port_count(), 0);
}

#[test]
fn previous_request_is_returned_and_cancel_works() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let port = ipc.allocate(space, PortRight::Receive).unwrap();
    ipc.insert_right(space, port, space, port, Disposition::MakeSend as u32).unwrap();
    let first = ipc.allocate(space, PortRight::Receive).unwrap();
    let second = ipc.allocate(space, PortRight::Receive).unwrap();
    assert_eq!(ipc.request_notification(space, port, NO_SENDERS, 0, first, MAKE_SEND_ONCE), Ok(MACH_PORT_NULL));
    let previous = ipc.request_notification(space, port, NO_SENDERS, 0, second, MAKE_SEND_ONCE).unwrap();
    assert_eq!(ipc.port_of(space, previous), ipc.port_of(space, first));
    assert_eq!(ipc.port_type(space, previous), Ok(MACH_PORT_TYPE_SEND_ONCE));
    let cancelled = ipc.request_notification(space, port, NO_SENDERS, 0, MACH_PORT_NULL, 0).unwrap();
    assert_eq!(ipc.port_of(space, cancelled), ipc.port_of(space, second));
    check(&ipc);
}

#[test]
fn request_errors() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let port = ipc.allocate(space, PortRight::Receive).unwrap();
    let notify = ipc.allocate(space, PortRight::Receive).unwrap();
    assert_eq!(
        ipc.request_notification(space, port, NotifyId::SendOnce as u32, 0, notify, MAKE_SEND_ONCE),
        Err(KernReturn::InvalidValue)
    );
    assert_eq!(ipc.request_notification(space, port, 12345, 0, notify, MAKE_SEND_ONCE), Err(KernReturn::InvalidValue));
    assert_eq!(
        ipc.request_notification(space, port, DEAD_NAME, 0, notify, MAKE_SEND_ONCE),
        Err(KernReturn::InvalidRight)
    );
    assert_eq!(
        ipc.request_notification(space, 0x4242, NO_SENDERS, 0, notify, MAKE_SEND_ONCE),
        Err(KernReturn::InvalidName)
    );
    assert_eq!(
        ipc.request_notification(space, port, NO_SENDERS, 0, notify, Disposition::MakeSend as u32),
        Err(KernReturn::InvalidValue)
    );
    assert_eq!(
        ipc.request_notification(space, port, NO_SENDERS, 0, 0x4242, MAKE_SEND_ONCE),
        Err(KernReturn::InvalidCapability)
    );
    let set = ipc.allocate(space, PortRight::PortSet).unwrap();
    assert_eq!(
        ipc.request_notification(space, set, NO_SENDERS, 0, notify, MAKE_SEND_ONCE),
        Err(KernReturn::InvalidRight)
    );
    check(&ipc);
}

#[test]
fn space_destruction_cancels_requests_with_port_deleted() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x100, server, port, Disposition::MakeSend as u32).unwrap();
    let notify = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x200, server, notify, Disposition::MakeSend as u32).unwrap();
    // The client asks for dead-name notifications on its right, sent to the server's notify port.
    ipc.request_notification(client, 0x100, DEAD_NAME, 0, 0x200, Disposition::MakeSendOnce as u32).unwrap_err();
    let once = 0x300;
    ipc.insert_right(client, once, server, notify, MAKE_SEND_ONCE).unwrap();
    ipc.request_notification(client, 0x100, DEAD_NAME, 0, once, Disposition::MoveSendOnce as u32).unwrap();
    ipc.request_notification(server, port, NO_SENDERS, 0, notify, MAKE_SEND_ONCE).unwrap();
    ipc.destroy_space(client).unwrap();
    check(&ipc);
    assert_eq!(deliver(&mut ipc), 2);
    let mut ids = vec![
        receive(&mut ipc, server, notify).unwrap().header.id,
        receive(&mut ipc, server, notify).unwrap().header.id,
    ];
    ids.sort();
    assert_eq!(ids, vec![NotifyId::PortDeleted as i32, NotifyId::NoSenders as i32]);
}
