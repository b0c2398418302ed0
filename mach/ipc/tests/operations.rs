//! The port-management traps: every operation's success and error cases.

mod common;

use common::*;
use mach_abi::*;
use mach_ipc::*;

#[test]
fn allocate_each_right() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let receive = ipc.allocate(space, PortRight::Receive).unwrap();
    let set = ipc.allocate(space, PortRight::PortSet).unwrap();
    let dead = ipc.allocate(space, PortRight::DeadName).unwrap();
    assert_eq!(ipc.port_type(space, receive), Ok(MACH_PORT_TYPE_RECEIVE));
    assert_eq!(ipc.port_type(space, set), Ok(MACH_PORT_TYPE_PORT_SET));
    assert_eq!(ipc.port_type(space, dead), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.allocate(space, PortRight::Send), Err(KernReturn::InvalidValue));
    assert_eq!(ipc.allocate(space, PortRight::SendOnce), Err(KernReturn::InvalidValue));
    assert!(port_name_is_valid(receive) && receive != set && set != dead);
    check(&ipc);
}

#[test]
fn names_carry_generations_and_stale_names_fail() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let first = ipc.allocate(space, PortRight::Receive).unwrap();
    ipc.destroy(space, first).unwrap();
    let second = ipc.allocate(space, PortRight::Receive).unwrap();
    assert_eq!(port_index(first), port_index(second));
    assert_ne!(first, second);
    assert_eq!(ipc.port_type(space, first), Err(KernReturn::InvalidName));
    assert_eq!(ipc.deallocate(space, first), Err(KernReturn::InvalidName));
    check(&ipc);
}

#[test]
fn entry_limit_gives_no_space() {
    let mut ipc = Ipc::new();
    let space = ipc.create_space(1, SpaceLimits { max_entries: 3, max_queued_messages: 10 });
    for _ in 0..3 {
        ipc.allocate(space, PortRight::Receive).unwrap();
    }
    assert_eq!(ipc.allocate(space, PortRight::Receive), Err(KernReturn::NoSpace));
    assert_eq!(ipc.allocate(space, PortRight::DeadName), Err(KernReturn::NoSpace));
    check(&ipc);
}

#[test]
fn make_send_and_references() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let name = port_with_send(&mut ipc, space);
    assert_eq!(ipc.port_type(space, name), Ok(MACH_PORT_TYPE_SEND_RECEIVE));
    assert_eq!(ipc.get_refs(space, name, PortRight::Send), Ok(1));
    ipc.mod_refs(space, name, PortRight::Send, 4).unwrap();
    assert_eq!(ipc.get_refs(space, name, PortRight::Send), Ok(5));
    let port = ipc.port_of(space, name).unwrap();
    assert_eq!(ipc.port(port).unwrap().send_rights(), 1);
    assert_eq!(ipc.port(port).unwrap().make_send_count(), 1);
    assert_eq!(ipc.mod_refs(space, name, PortRight::Send, -6), Err(KernReturn::InvalidValue));
    assert_eq!(ipc.mod_refs(space, name, PortRight::Send, USER_REFERENCES_MAX as i32), Err(KernReturn::UrefsOverflow));
    ipc.mod_refs(space, name, PortRight::Send, -5).unwrap();
    assert_eq!(ipc.port_type(space, name), Ok(MACH_PORT_TYPE_RECEIVE));
    assert_eq!(ipc.port(port).unwrap().send_rights(), 0);
    assert_eq!(ipc.mod_refs(space, name, PortRight::Send, 1), Err(KernReturn::InvalidRight));
    check(&ipc);
}

#[test]
fn mod_refs_on_every_right() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let receive = ipc.allocate(space, PortRight::Receive).unwrap();
    assert_eq!(ipc.mod_refs(space, receive, PortRight::Receive, 1), Err(KernReturn::InvalidValue));
    assert_eq!(ipc.mod_refs(space, receive, PortRight::Receive, 0), Ok(()));
    assert_eq!(ipc.mod_refs(space, receive, PortRight::DeadName, 1), Err(KernReturn::InvalidRight));
    ipc.mod_refs(space, receive, PortRight::Receive, -1).unwrap();
    assert_eq!(ipc.port_type(space, receive), Err(KernReturn::InvalidName));
    let dead = ipc.allocate(space, PortRight::DeadName).unwrap();
    ipc.mod_refs(space, dead, PortRight::DeadName, 2).unwrap();
    assert_eq!(ipc.get_refs(space, dead, PortRight::DeadName), Ok(3));
    assert_eq!(ipc.mod_refs(space, dead, PortRight::Send, 1), Err(KernReturn::InvalidRight));
    ipc.mod_refs(space, dead, PortRight::DeadName, -3).unwrap();
    assert_eq!(ipc.port_type(space, dead), Err(KernReturn::InvalidName));
    let set = ipc.allocate(space, PortRight::PortSet).unwrap();
    assert_eq!(ipc.mod_refs(space, set, PortRight::PortSet, 1), Err(KernReturn::InvalidValue));
    ipc.mod_refs(space, set, PortRight::PortSet, -1).unwrap();
    assert_eq!(ipc.port_type(space, set), Err(KernReturn::InvalidName));
    assert_eq!(ipc.mod_refs(space, 0x12345, PortRight::Send, 1), Err(KernReturn::InvalidName));
    assert_eq!(ipc.mod_refs(space, MACH_PORT_NULL, PortRight::Send, 0), Ok(()));
    check(&ipc);
}

#[test]
fn deallocate_each_kind() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    assert_eq!(ipc.deallocate(space, MACH_PORT_NULL), Ok(()));
    assert_eq!(ipc.deallocate(space, MACH_PORT_DEAD), Ok(()));
    let receive = ipc.allocate(space, PortRight::Receive).unwrap();
    assert_eq!(ipc.deallocate(space, receive), Err(KernReturn::InvalidRight));
    let set = ipc.allocate(space, PortRight::PortSet).unwrap();
    assert_eq!(ipc.deallocate(space, set), Err(KernReturn::InvalidRight));
    ipc.insert_right(space, receive, space, receive, Disposition::MakeSend as u32).unwrap();
    ipc.deallocate(space, receive).unwrap();
    assert_eq!(ipc.port_type(space, receive), Ok(MACH_PORT_TYPE_RECEIVE));
    let dead = ipc.allocate(space, PortRight::DeadName).unwrap();
    ipc.deallocate(space, dead).unwrap();
    assert_eq!(ipc.port_type(space, dead), Err(KernReturn::InvalidName));
    check(&ipc);
}

#[test]
fn send_once_deallocated_sends_a_send_once_notification() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    let once = 0x7_7700;
    ipc.insert_right(client, once, server, port, Disposition::MakeSendOnce as u32).unwrap();
    assert_eq!(ipc.port_type(client, once), Ok(MACH_PORT_TYPE_SEND_ONCE));
    assert_eq!(ipc.port(ipc.port_of(server, port).unwrap()).unwrap().send_once_rights(), 1);
    ipc.deallocate(client, once).unwrap();
    check(&ipc);
    assert_eq!(deliver(&mut ipc), 1);
    let notification = receive(&mut ipc, server, port).unwrap();
    assert_eq!(notification.header.id, NotifyId::SendOnce as i32);
    assert_eq!(msgh_bits_local(notification.header.bits), MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(notification.header.local_port, port);
    assert_eq!(ipc.port(ipc.port_of(server, port).unwrap()).unwrap().send_once_rights(), 0);
}

#[test]
fn insert_right_rules() {
    let mut ipc = Ipc::new();
    let a = new_space(&mut ipc, 1);
    let b = new_space(&mut ipc, 2);
    let port = ipc.allocate(a, PortRight::Receive).unwrap();
    // Unknown disposition, bad names.
    assert_eq!(ipc.insert_right(b, 0x500, a, port, 99), Err(KernReturn::InvalidValue));
    assert_eq!(
        ipc.insert_right(b, MACH_PORT_NULL, a, port, Disposition::MakeSend as u32),
        Err(KernReturn::InvalidValue)
    );
    assert_eq!(ipc.insert_right(b, 0x500, a, 0x999, Disposition::MakeSend as u32), Err(KernReturn::InvalidName));
    assert_eq!(ipc.insert_right(b, 0x500, a, port, Disposition::MoveSend as u32), Err(KernReturn::InvalidRight));
    ipc.insert_right(b, 0x500, a, port, Disposition::MakeSend as u32).unwrap();
    // Same port under the same name: merges references.
    ipc.insert_right(b, 0x500, a, port, Disposition::MakeSend as u32).unwrap();
    assert_eq!(ipc.get_refs(b, 0x500, PortRight::Send), Ok(2));
    // Same port under another name: RIGHT_EXISTS; another right at the name: NAME_EXISTS.
    assert_eq!(ipc.insert_right(b, 0x600, a, port, Disposition::MakeSend as u32), Err(KernReturn::RightExists));
    let other = ipc.allocate(a, PortRight::Receive).unwrap();
    assert_eq!(ipc.insert_right(b, 0x500, a, other, Disposition::MakeSend as u32), Err(KernReturn::NameExists));
    // Nothing changed by the failures.
    let port_id = ipc.port_of(a, port).unwrap();
    assert_eq!(ipc.port(port_id).unwrap().make_send_count(), 2);
    assert_eq!(ipc.port(port_id).unwrap().send_rights(), 1);
    // Moving the receive right into b under its send name merges.
    ipc.insert_right(b, 0x500, a, port, Disposition::MoveReceive as u32).unwrap();
    assert_eq!(ipc.port_type(b, 0x500), Ok(MACH_PORT_TYPE_SEND_RECEIVE));
    assert_eq!(ipc.port_type(a, port), Err(KernReturn::InvalidName));
    assert_eq!(ipc.port(port_id).unwrap().receiver(), Receiver::Space { space: b, name: 0x500 });
    check(&ipc);
}

#[test]
fn insert_right_urefs_overflow() {
    let mut ipc = Ipc::new();
    let a = new_space(&mut ipc, 1);
    let name = port_with_send(&mut ipc, a);
    ipc.mod_refs(a, name, PortRight::Send, USER_REFERENCES_MAX as i32 - 1).unwrap();
    assert_eq!(ipc.insert_right(a, name, a, name, Disposition::MakeSend as u32), Err(KernReturn::UrefsOverflow));
    assert_eq!(ipc.get_refs(a, name, PortRight::Send), Ok(USER_REFERENCES_MAX));
    check(&ipc);
}

#[test]
fn extract_and_insert_carried() {
    let mut ipc = Ipc::new();
    let a = new_space(&mut ipc, 1);
    let b = new_space(&mut ipc, 2);
    let name = port_with_send(&mut ipc, a);
    let (right, received_type) = ipc.extract_right(a, name, Disposition::CopySend as u32).unwrap();
    assert_eq!(received_type, MACH_MSG_TYPE_PORT_SEND);
    check(&ipc);
    let in_b = ipc.insert_carried(b, right).unwrap();
    assert_eq!(ipc.port_type(b, in_b), Ok(MACH_PORT_TYPE_SEND));
    let (receive, received_type) = ipc.extract_right(a, name, Disposition::MoveReceive as u32).unwrap();
    assert_eq!(received_type, MACH_MSG_TYPE_PORT_RECEIVE);
    assert_eq!(ipc.port_type(a, name), Ok(MACH_PORT_TYPE_SEND));
    check(&ipc);
    // Given to b, the receive right joins b's send name for the port.
    assert_eq!(ipc.insert_carried(b, receive), Ok(in_b));
    assert_eq!(ipc.port_type(b, in_b), Ok(MACH_PORT_TYPE_SEND_RECEIVE));
    assert_eq!(ipc.extract_right(a, 0x4242, Disposition::CopySend as u32).err(), Some(KernReturn::InvalidName));
    assert_eq!(ipc.extract_right(a, name, Disposition::MakeSend as u32).err(), Some(KernReturn::InvalidRight));
    check(&ipc);
}

#[test]
fn kernel_ports_and_released_rights() {
    let mut ipc = Ipc::new();
    let task = new_space(&mut ipc, 1);
    let kernel_port = ipc.allocate_kernel_port(0xdead_beef);
    assert_eq!(ipc.port(kernel_port).unwrap().kernel_object(), 0xdead_beef);
    let right = ipc.make_send(kernel_port).unwrap();
    check(&ipc);
    let name = ipc.insert_carried(task, right).unwrap();
    assert_eq!(ipc.port_type(task, name), Ok(MACH_PORT_TYPE_SEND));
    let again = ipc.make_send(kernel_port).unwrap();
    assert_eq!(ipc.insert_carried(task, again), Ok(name));
    assert_eq!(ipc.get_refs(task, name, PortRight::Send), Ok(2));
    let extra = ipc.make_send_once(kernel_port).unwrap();
    check(&ipc);
    ipc.release(extra);
    check(&ipc);
    ipc.destroy_kernel_port(kernel_port).unwrap();
    assert_eq!(ipc.port_type(task, name), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(task, name, PortRight::DeadName), Ok(2));
    check(&ipc);
    // The send-once notification of the released right still refers to the
    // port; delivering it (to a dead port) destroys it and frees the port.
    assert_eq!(ipc.pending_notifications().count(), 1);
    assert_eq!(deliver(&mut ipc), 0);
    assert_eq!(ipc.port_count(), 0);
}

#[test]
fn port_sets_membership() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let set = ipc.allocate(space, PortRight::PortSet).unwrap();
    let other_set = ipc.allocate(space, PortRight::PortSet).unwrap();
    let port = port_with_send(&mut ipc, space);
    assert_eq!(ipc.move_member(space, port, MACH_PORT_NULL), Err(KernReturn::NotInSet));
    assert_eq!(ipc.move_member(space, set, set), Err(KernReturn::InvalidRight));
    assert_eq!(ipc.move_member(space, port, port), Err(KernReturn::InvalidRight));
    ipc.move_member(space, port, set).unwrap();
    check(&ipc);
    let status = ipc.get_attributes(space, port, PortFlavor::ReceiveStatus as u32).unwrap();
    let PortAttributes::Status(status) = status else { panic!("status flavor") };
    assert_eq!(status.port_set, set);
    ipc.move_member(space, port, other_set).unwrap();
    check(&ipc);
    // Destroying the set leaves the member outside any set.
    ipc.destroy(space, other_set).unwrap();
    assert_eq!(ipc.move_member(space, port, MACH_PORT_NULL), Err(KernReturn::NotInSet));
    check(&ipc);
}

use mach_ipc::space::PortAttributes;

#[test]
fn attributes() {
    let mut ipc = Ipc::new();
    let space = new_space(&mut ipc, 1);
    let port = port_with_send(&mut ipc, space);
    assert_eq!(
        ipc.get_attributes(space, port, PortFlavor::LimitsInfo as u32),
        Ok(PortAttributes::Limits(PortLimits { queue_limit: MACH_PORT_QLIMIT_DEFAULT }))
    );
    ipc.set_attributes(space, port, PortFlavor::LimitsInfo as u32, &[7]).unwrap();
    assert_eq!(ipc.get_attributes(space, port, PortFlavor::LimitsInfo as u32).unwrap().to_words(), vec![7]);
    assert_eq!(
        ipc.set_attributes(space, port, PortFlavor::LimitsInfo as u32, &[MACH_PORT_QLIMIT_MAX + 1]),
        Err(KernReturn::InvalidValue)
    );
    assert_eq!(ipc.set_attributes(space, port, PortFlavor::LimitsInfo as u32, &[]), Err(KernReturn::InvalidArgument));
    assert_eq!(
        ipc.set_attributes(space, port, PortFlavor::ReceiveStatus as u32, &[0; 10]),
        Err(KernReturn::InvalidArgument)
    );
    assert_eq!(ipc.get_attributes(space, port, 77), Err(KernReturn::InvalidArgument));
    let words = ipc.get_attributes(space, port, PortFlavor::ReceiveStatus as u32).unwrap().to_words();
    assert_eq!(words.len(), PORT_RECEIVE_STATUS_COUNT as usize);
    assert_eq!(words[2], 1, "make-send count");
    assert_eq!(words[3], 7, "queue limit");
    assert_eq!(words[6], 1, "send rights exist");
    let dead = ipc.allocate(space, PortRight::DeadName).unwrap();
    assert_eq!(ipc.get_attributes(space, dead, PortFlavor::LimitsInfo as u32), Err(KernReturn::InvalidRight));
    check(&ipc);
}

#[test]
fn destroy_receive_turns_senders_into_dead_names() {
    let mut ipc = Ipc::new();
    let server = new_space(&mut ipc, 1);
    let client = new_space(&mut ipc, 2);
    let port = ipc.allocate(server, PortRight::Receive).unwrap();
    ipc.insert_right(client, 0x900, server, port, Disposition::MakeSend as u32).unwrap();
    ipc.mod_refs(client, 0x900, PortRight::Send, 2).unwrap();
    let once = 0xa00;
    ipc.insert_right(client, once, server, port, Disposition::MakeSendOnce as u32).unwrap();
    ipc.destroy(server, port).unwrap();
    assert_eq!(ipc.port_type(client, 0x900), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(client, 0x900, PortRight::DeadName), Ok(3));
    assert_eq!(ipc.port_type(client, once), Ok(MACH_PORT_TYPE_DEAD_NAME));
    check(&ipc);
    assert_eq!(ipc.port_count(), 0, "no right left: the port is freed");
    // A dead name used as a destination is an invalid destination.
    let bytes = message((0x900, Disposition::CopySend), None, &[], &[]);
    assert_eq!(send(&mut ipc, client, &bytes), Err(SendError::Failed(MachMsgReturn::SendInvalidDest)));
}

#[test]
fn insert_carried_into_a_full_space_hands_the_right_back() {
    let mut ipc = Ipc::new();
    let full = ipc.create_space(1, SpaceLimits { max_entries: 1, max_queued_messages: 1 });
    ipc.allocate(full, PortRight::DeadName).unwrap();
    let kernel_port = ipc.allocate_kernel_port(1);
    let right = ipc.make_send(kernel_port).unwrap();
    let (error, right) = ipc.insert_carried(full, right).unwrap_err();
    assert_eq!(error, KernReturn::NoSpace);
    check(&ipc);
    ipc.release(right);
    assert_eq!(ipc.port(kernel_port).unwrap().send_rights(), 0);
    check(&ipc);
}
