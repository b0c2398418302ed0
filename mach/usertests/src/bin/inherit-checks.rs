//! `task_create` with `TASK_CREATE_INHERIT_SEND_RIGHTS` (what fork uses for
//! descriptors) and the no-senders notification a file server relies on:
//! the child holds every send right (with its references) and dead name
//! under the same names, and nothing else; no-senders waits for the child
//! too, and arrives through a port set after the requests sent before the
//! last close and before those sent after it — whether the last right goes
//! by `port_deallocate` or by its task ending. Prints
//! `inherit-checks: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, NotifyId, PortRight, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_SEND, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, MACH_SEND_MSG, TASK_CREATE_INHERIT_MEMORY, TASK_CREATE_INHERIT_SEND_RIGHTS,
};
use libmach::trap::*;
use mach_usertests::{message, Checks};

libmach::entry!(main);

/// A port with a send right under the same name.
fn new_port(task: u32) -> u32 {
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, port, port, Disposition::MakeSend as u32);
    port
}

fn request(port: u32, id: i32) -> Result<(), libmach::abi::MachMsgReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(&mut buffer, port, Disposition::CopySend as u32, 0, 0, id, &[]);
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)
}

/// The ids of every message waiting on `set`, in the order received.
fn drain(set: u32) -> [i32; 4] {
    let mut ids = [0; 4];
    for id in ids.iter_mut() {
        let mut buffer = MessageBuffer::<256>::new();
        if mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, set, 0).is_err() {
            break;
        }
        *id = message::id(&buffer);
    }
    ids
}

/// The user references of `name` in `task`, counted by taking them away
/// one at a time (the name is gone afterwards).
fn take_references(task: u32, name: u32, right: PortRight) -> u32 {
    let mut count = 0;
    while port_mod_refs(task, name, right, -1).is_ok() {
        count += 1;
        if port_type(task, name).is_err() {
            break;
        }
    }
    count
}

const NO_SENDERS: i32 = NotifyId::NoSenders as i32;

fn main(_argument: u64) {
    let mut checks = Checks::new("inherit-checks");
    let task = task_self();

    // What the parent holds.
    let file = new_port(task);
    checks.equal("two more references", port_mod_refs(task, file, PortRight::Send, 2), Ok(()));
    let dead = port_allocate(task, PortRight::DeadName).unwrap_or(0);
    checks.equal("a second dead-name reference", port_mod_refs(task, dead, PortRight::DeadName, 1), Ok(()));
    let receive_only = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let set = port_allocate(task, PortRight::PortSet).unwrap_or(0);
    let send_once = port_extract_right(task, file, Disposition::MakeSendOnce as u32).map(|(name, _)| name).unwrap_or(0);
    // A send right to another task's port.
    let elsewhere = task_create(task).unwrap_or(0);
    let remote = port_allocate(elsewhere, PortRight::Receive).unwrap_or(0);
    let send_only =
        port_extract_right(elsewhere, remote, Disposition::MakeSend as u32).map(|(name, _)| name).unwrap_or(0);

    checks.equal("unknown flags", task_create_with(task, 1 << 5), Err(KernReturn::InvalidArgument));
    // Fork's flags: memory and send rights in one trap.
    let forked = task_create_with(task, TASK_CREATE_INHERIT_MEMORY | TASK_CREATE_INHERIT_SEND_RIGHTS);
    checks.equal(
        "memory and send rights together",
        forked.and_then(|child| port_type(child, file).map(|kind| (child, kind))).map(|(_, kind)| kind),
        Ok(MACH_PORT_TYPE_SEND),
    );
    if let Ok(forked) = forked {
        let _ = task_terminate(forked);
        let _ = port_deallocate(task, forked);
    }
    let child = task_create_with(task, TASK_CREATE_INHERIT_SEND_RIGHTS);
    checks.equal("task_create inheriting send rights", child.is_ok(), true);
    let child = child.unwrap_or(0);
    checks.equal("a send right, same name", port_type(child, file), Ok(MACH_PORT_TYPE_SEND));
    checks.equal("a send-only right, same name", port_type(child, send_only), Ok(MACH_PORT_TYPE_SEND));
    checks.equal("a send right to the parent task port too", port_type(child, task), Ok(MACH_PORT_TYPE_SEND));
    checks.equal("a dead name", port_type(child, dead), Ok(MACH_PORT_TYPE_DEAD_NAME));
    checks.equal("no receive right", port_type(child, receive_only), Err(KernReturn::InvalidName));
    checks.equal("no port set", port_type(child, set), Err(KernReturn::InvalidName));
    checks.equal("no send-once right", port_type(child, send_once), Err(KernReturn::InvalidName));
    checks.equal("the send references", take_references(child, file, PortRight::Send), 3);
    checks.equal("the dead-name references", take_references(child, dead, PortRight::DeadName), 2);
    checks.equal(
        "the parent keeps its own",
        port_type(task, file).map(|kind| kind & MACH_PORT_TYPE_SEND),
        Ok(MACH_PORT_TYPE_SEND),
    );
    checks.equal("child terminated", task_terminate(child), Ok(()));

    // The file server's side: a file port and a directory port in a set,
    // no-senders on the file delivered to the file port itself.
    let directory = new_port(task);
    let watch = |file: u32| -> Result<u32, KernReturn> {
        port_move_member(task, file, set)?;
        port_request_notification(task, file, NotifyId::NoSenders as u32, 1, file, Disposition::MakeSendOnce as u32)
    };
    checks.equal("directory in the set", port_move_member(task, directory, set), Ok(()));

    // The last close in the task.
    let first = new_port(task);
    checks.equal("no-senders requested", watch(first), Ok(0));
    checks.equal("request before the close", request(first, 1), Ok(()));
    checks.equal("close", port_deallocate(task, first), Ok(()));
    checks.equal("request after the close", request(directory, 2), Ok(()));
    checks.equal("order after a close", drain(set), [1, NO_SENDERS, 2, 0]);

    // A child holds the file too: the parent's close is not the last one;
    // the child's end is.
    let second = new_port(task);
    checks.equal("no-senders requested", watch(second), Ok(0));
    let child = task_create_with(task, TASK_CREATE_INHERIT_SEND_RIGHTS).unwrap_or(0);
    checks.equal("request before the closes", request(second, 3), Ok(()));
    checks.equal("parent closes", port_deallocate(task, second), Ok(()));
    checks.equal("nothing yet: the child holds it", drain(set), [3, 0, 0, 0]);
    checks.equal(
        "another request before the child ends",
        request(second, 4),
        Err(libmach::abi::MachMsgReturn::SendInvalidDest),
    );
    checks.equal("the child ends", task_terminate(child), Ok(()));
    checks.equal("request after the child ended", request(directory, 5), Ok(()));
    checks.equal("order after the child ended", drain(set), [NO_SENDERS, 5, 0, 0]);

    // A request still queued when the child (the last holder) ends.
    let third = new_port(task);
    checks.equal("no-senders requested", watch(third), Ok(0));
    let child = task_create_with(task, TASK_CREATE_INHERIT_SEND_RIGHTS).unwrap_or(0);
    checks.equal("request queued", request(third, 6), Ok(()));
    checks.equal("parent closes", port_deallocate(task, third), Ok(()));
    checks.equal("the child ends", task_terminate(child), Ok(()));
    checks.equal("request after", request(directory, 7), Ok(()));
    checks.equal("queued request, notification, later request", drain(set), [6, NO_SENDERS, 7, 0]);

    let _ = task_terminate(elsewhere);
    checks.finish();
}
