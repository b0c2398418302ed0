//! IPC behaviour checked from one task on its own ports: every error path
//! of `mach_msg`, queue limits and timeouts, right transitions, port sets,
//! and dead-name, no-senders and send-once notifications. Prints
//! `ipc-checks: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, MachMsgReturn, NotifyId, PortRight, MACH_PORT_NULL, MACH_PORT_TYPE_DEAD_NAME,
    MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND, MACH_RCV_LARGE, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};
use libmach::trap::*;
use mach_usertests::{message, Checks};

libmach::entry!(main);

const LIMITS_INFO: u32 = 1;
const RECEIVE_STATUS: u32 = 2;

fn send(
    service: u32,
    disposition: Disposition,
    id: i32,
    words: &[u32],
    option: u32,
    timeout: u32,
) -> Result<(), MachMsgReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(&mut buffer, service, disposition as u32, 0, 0, id, words);
    mach_msg(&mut buffer, MACH_SEND_MSG | option, size, 0, timeout)
}

fn receive<const N: usize>(
    buffer: &mut MessageBuffer<N>,
    name: u32,
    option: u32,
    timeout: u32,
) -> Result<(), MachMsgReturn> {
    mach_msg(buffer, MACH_RCV_MSG | option, 0, name, timeout)
}

fn new_port(task: u32) -> u32 {
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, port, port, Disposition::MakeSend as u32);
    port
}

fn main(_argument: u64) {
    let mut checks = Checks::new("ipc-checks");
    let task = task_self();
    checks.equal("task_self is a send right", port_type(task, task), Ok(MACH_PORT_TYPE_SEND));
    let port = new_port(task);
    checks.equal(
        "receive+send under one name",
        port_type(task, port),
        Ok(MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND),
    );

    // Send errors.
    checks.equal(
        "send to null",
        send(MACH_PORT_NULL, Disposition::CopySend, 1, &[], 0, 0),
        Err(MachMsgReturn::SendInvalidDest),
    );
    checks.equal(
        "send to a bogus name",
        send(0x0abc_de00, Disposition::CopySend, 1, &[], 0, 0),
        Err(MachMsgReturn::SendInvalidDest),
    );
    checks.equal(
        "send with a wrong disposition",
        send(port, Disposition::MoveSendOnce, 1, &[], 0, 0),
        Err(MachMsgReturn::SendInvalidDest),
    );
    let mut small = MessageBuffer::<256>::new();
    message::write(&mut small, port, Disposition::CopySend as u32, 0, 0, 1, &[]);
    checks.equal("send of 8 bytes", mach_msg(&mut small, MACH_SEND_MSG, 8, 0, 0), Err(MachMsgReturn::SendMsgTooSmall));
    checks.equal(
        "send of an unaligned size",
        mach_msg(&mut small, MACH_SEND_MSG, 26, 0, 0),
        Err(MachMsgReturn::SendMsgTooSmall),
    );
    // SAFETY: the kernel only reads from the (bad) buffer address and must refuse it.
    let bad_buffer = unsafe { raw_trap(libmach::abi::Trap::MachMsg as u64, [0x10, MACH_SEND_MSG as u64, 24, 0, 0, 0]) };
    checks.equal("send from an unmapped buffer", bad_buffer, MachMsgReturn::SendInvalidData as u64);
    // SAFETY: as above; an unknown option bit must fail before any access.
    let bad_option = unsafe { raw_trap(libmach::abi::Trap::MachMsg as u64, [0x10, 1 << 30, 24, 0, 0, 0]) };
    checks.equal("unknown option bit", bad_option, MachMsgReturn::SendInvalidHeader as u64);

    // Receive errors and timeouts.
    let mut buffer = MessageBuffer::<256>::new();
    checks.equal(
        "poll an empty port",
        receive(&mut buffer, port, MACH_RCV_TIMEOUT, 0),
        Err(MachMsgReturn::ReceiveTimedOut),
    );
    let before = clock_get_time().unwrap_or(0);
    checks.equal(
        "30 ms receive timeout",
        receive(&mut buffer, port, MACH_RCV_TIMEOUT, 30),
        Err(MachMsgReturn::ReceiveTimedOut),
    );
    let waited = (clock_get_time().unwrap_or(0) - before) / 1_000_000;
    checks.equal("waited at least 30 ms", waited >= 30, true);
    checks.equal(
        "receive on a bogus name",
        receive(&mut buffer, 0x0abc_de00, MACH_RCV_TIMEOUT, 0),
        Err(MachMsgReturn::ReceiveInvalidName),
    );
    checks.equal(
        "receive on a send right",
        receive(&mut buffer, task, MACH_RCV_TIMEOUT, 0),
        Err(MachMsgReturn::ReceiveInvalidName),
    );

    // A message round trip to ourselves, with the trailer.
    checks.equal("send to self", send(port, Disposition::CopySend, 42, &[1, 2, 3], 0, 0), Ok(()));
    checks.equal("receive it", receive(&mut buffer, port, 0, 0), Ok(()));
    checks.equal("id", message::id(&buffer), 42);
    checks.equal("size", message::word(&buffer, 1), 36);
    checks.equal("body", [message::word(&buffer, 6), message::word(&buffer, 7), message::word(&buffer, 8)], [1, 2, 3]);
    checks.equal("local port is the destination", message::word(&buffer, 3), port);
    checks.equal("trailer follows", message::word(&buffer, 10) >= 8, true);

    // Queue limits: full queue with a zero timeout, then a too-large message.
    checks.equal("set queue limit 1", port_set_attributes(task, port, LIMITS_INFO, &[1]), Ok(()));
    let mut limits = [0u32; 4];
    checks.equal(
        "get queue limit",
        port_get_attributes(task, port, LIMITS_INFO, &mut limits).map(|count| limits[..count][0]),
        Ok(1),
    );
    checks.equal("first send fits", send(port, Disposition::CopySend, 2, &[9; 20], 0, 0), Ok(()));
    checks.equal(
        "second send: full, poll",
        send(port, Disposition::CopySend, 3, &[], MACH_SEND_TIMEOUT, 0),
        Err(MachMsgReturn::SendTimedOut),
    );
    checks.equal(
        "second send: full, 20 ms",
        send(port, Disposition::CopySend, 3, &[], MACH_SEND_TIMEOUT, 20),
        Err(MachMsgReturn::SendTimedOut),
    );
    let mut status = [0u32; 16];
    let count = port_get_attributes(task, port, RECEIVE_STATUS, &mut status).unwrap_or(0);
    checks.equal("status: one queued message, limit 1", (count, status[4], status[3]), (10, 1, 1));
    let mut tiny = MessageBuffer::<64>::new();
    checks.equal(
        "too large, kept (RCV_LARGE)",
        receive(&mut tiny, port, MACH_RCV_LARGE, 0),
        Err(MachMsgReturn::ReceiveTooLarge),
    );
    checks.equal("needed size reported", message::word(&tiny, 1) as usize >= 24 + 80, true);
    checks.equal("then received whole", receive(&mut buffer, port, 0, 0).map(|()| message::id(&buffer)), Ok(2));
    checks.equal(
        "too large, dropped",
        send(port, Disposition::CopySend, 4, &[0; 20], 0, 0).and_then(|()| receive(&mut tiny, port, 0, 0)),
        Err(MachMsgReturn::ReceiveTooLarge),
    );
    checks.equal(
        "dropped message is gone",
        receive(&mut buffer, port, MACH_RCV_TIMEOUT, 0),
        Err(MachMsgReturn::ReceiveTimedOut),
    );

    // Regression (found by the adversary): a message to a kernel port (our
    // task port) carrying a right is destroyed by the kernel, and the right
    // it carried is given back properly. The kernel test then checks the
    // IPC invariants.
    let mut to_kernel = MessageBuffer::<256>::new();
    let size =
        message::write(&mut to_kernel, task, Disposition::CopySend as u32, port, Disposition::MakeSend as u32, 9, &[]);
    checks.equal("message with a right to a kernel port", mach_msg(&mut to_kernel, MACH_SEND_MSG, size, 0, 0), Ok(()));

    // Port sets.
    let set = port_allocate(task, PortRight::PortSet).unwrap_or(0);
    checks.equal("port set type", port_type(task, set), Ok(MACH_PORT_TYPE_PORT_SET));
    let member = new_port(task);
    checks.equal("move into set", port_move_member(task, member, set), Ok(()));
    checks.equal("send to member", send(member, Disposition::CopySend, 55, &[], 0, 0), Ok(()));
    checks.equal(
        "receive from set",
        receive(&mut buffer, set, 0, 0).map(|()| (message::id(&buffer), message::word(&buffer, 3))),
        Ok((55, member)),
    );

    // Rights: user references and their errors.
    checks.equal("add send references", port_mod_refs(task, port, PortRight::Send, 2), Ok(()));
    checks.equal("remove too many", port_mod_refs(task, port, PortRight::Send, -10), Err(KernReturn::InvalidValue));
    checks.equal("deallocate a bogus name", port_deallocate(task, 0x0abc_de00), Err(KernReturn::InvalidName));
    // SAFETY: the output pointer is null; the kernel must refuse right 9
    // (no such right) before writing anything.
    let bad_right = unsafe { raw_trap(libmach::abi::Trap::PortAllocate as u64, [task as u64, 9, 0, 0, 0, 0]) };
    checks.equal("allocate with a null output pointer", bad_right, KernReturn::InvalidAddress as u64);
    let mut out = 0u32;
    // SAFETY: `out` is ours; the kernel writes at most 4 bytes there.
    let bad_right =
        unsafe { raw_trap(libmach::abi::Trap::PortAllocate as u64, [task as u64, 9, &raw mut out as u64, 0, 0, 0]) };
    checks.equal("allocate a right that does not exist", bad_right, KernReturn::InvalidValue as u64);
    checks.equal("operate on a non-task port", port_allocate(port, PortRight::Receive), Err(KernReturn::InvalidTask));

    // Dead-name notification: our send right's receive right is moved into
    // a message queued on a carrier port, and the carrier destroyed.
    let notify = new_port(task);
    let target = new_port(task);
    let carrier = new_port(task);
    checks.equal("move the receive right away", send_right(carrier, target, Disposition::MoveReceive, 5), Ok(()));
    checks.equal("only the send right is left", port_type(task, target), Ok(MACH_PORT_TYPE_SEND));
    checks.equal(
        "request dead-name notification",
        port_request_notification(task, target, NotifyId::DeadName as u32, 0, notify, Disposition::MakeSendOnce as u32),
        Ok(MACH_PORT_NULL),
    );
    checks.equal("destroy the carrier and its queue", port_destroy(task, carrier), Ok(()));
    checks.equal("send right became a dead name", port_type(task, target), Ok(MACH_PORT_TYPE_DEAD_NAME));
    checks.equal(
        "dead-name notification arrives",
        receive(&mut buffer, notify, MACH_RCV_TIMEOUT, 100).map(|()| message::id(&buffer)),
        Ok(NotifyId::DeadName as i32),
    );
    checks.equal(
        "send to a dead name",
        send(target, Disposition::CopySend, 1, &[], 0, 0),
        Err(MachMsgReturn::SendInvalidDest),
    );

    // No-senders notification.
    let lonely = new_port(task);
    checks.equal(
        "request no-senders",
        port_request_notification(
            task,
            lonely,
            NotifyId::NoSenders as u32,
            0,
            notify,
            Disposition::MakeSendOnce as u32,
        ),
        Ok(MACH_PORT_NULL),
    );
    checks.equal("drop the only send right", port_mod_refs(task, lonely, PortRight::Send, -1), Ok(()));
    checks.equal(
        "no-senders notification arrives",
        receive(&mut buffer, notify, MACH_RCV_TIMEOUT, 100).map(|()| message::id(&buffer)),
        Ok(NotifyId::NoSenders as i32),
    );

    // Send-once notification: a send-once right destroyed unused.
    let once_target = new_port(task);
    let (once, _) = port_extract_right(task, once_target, Disposition::MakeSendOnce as u32).unwrap_or((0, 0));
    checks.equal("deallocate an unused send-once right", port_deallocate(task, once), Ok(()));
    checks.equal(
        "send-once notification arrives",
        receive(&mut buffer, once_target, MACH_RCV_TIMEOUT, 100).map(|()| message::id(&buffer)),
        Ok(NotifyId::SendOnce as i32),
    );

    // Rights in messages: a receive right moved through our own port.
    let moved = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let mut header_only = MessageBuffer::<256>::new();
    let size = message::write(
        &mut header_only,
        port,
        Disposition::CopySend as u32,
        moved,
        Disposition::MoveReceive as u32,
        77,
        &[],
    );
    checks.equal(
        "a receive right cannot be the reply port",
        mach_msg(&mut header_only, MACH_SEND_MSG, size, 0, 0),
        Err(MachMsgReturn::SendInvalidHeader),
    );
    checks.equal("send a receive right in a descriptor", send_right(port, moved, Disposition::MoveReceive, 77), Ok(()));
    checks.equal("the name is gone while in transit", port_type(task, moved), Err(KernReturn::InvalidName));
    checks.equal("receive it back", receive(&mut buffer, port, 0, 0).map(|()| message::id(&buffer)), Ok(77));
    // Header (6 words), descriptor count (1), then the port descriptor.
    let arrived = message::word(&buffer, 7);
    checks.equal("the receive right arrived", port_type(task, arrived), Ok(MACH_PORT_TYPE_RECEIVE));

    // Every send disposition in a descriptor, and the type it arrives as.
    let subject = new_port(task);
    let _ = port_mod_refs(task, subject, PortRight::Send, 3);
    let once_for_move =
        port_extract_right(task, subject, Disposition::MakeSendOnce as u32).map(|(name, _)| name).unwrap_or(0);
    for (disposition, carried, received_type) in [
        (Disposition::CopySend, subject, 17u8),
        (Disposition::MakeSend, subject, 17),
        (Disposition::MoveSend, subject, 17),
        (Disposition::MakeSendOnce, subject, 18),
        (Disposition::MoveSendOnce, once_for_move, 18),
    ] {
        let sent = send_right(port, carried, disposition, 60);
        let got =
            sent.and_then(|()| receive(&mut buffer, port, 0, 0)).map(|()| (buffer.0[38], message::word(&buffer, 6)));
        checks.equal("disposition arrives as its received type", got, Ok((received_type, 1)));
    }
    checks.equal(
        "moved a send reference away and back",
        port_type(task, subject),
        Ok(MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND),
    );

    // Limits: a task gets an error, never the kernel's memory. Names: the
    // space's limit is far above what fits here (many-names reaches it);
    // 4096 of them are bought step by step as they are named. Queued
    // messages: at most 64 sent by one task.
    let mut held = [0u32; 4096];
    let mut count = 0;
    let outcome = loop {
        if count == held.len() {
            break Ok(());
        }
        match port_allocate(task, PortRight::Receive) {
            Ok(name) => {
                held[count] = name;
                count += 1;
            }
            Err(error) => break Err(error),
        }
    };
    checks.equal("4096 names, bought as they are named", outcome, Ok(()));
    for name in &held[..count] {
        let _ = port_destroy(task, *name);
    }
    let sink = new_port(task);
    checks.equal("raise a queue limit", port_set_attributes(task, sink, LIMITS_INFO, &[1024]), Ok(()));
    let mut sent = 0;
    let outcome = loop {
        match send(sink, Disposition::CopySend, 1, &[0; 8], MACH_SEND_TIMEOUT, 0) {
            Ok(()) if sent < 1000 => sent += 1,
            other => break other,
        }
    };
    checks.equal(
        "the queued-message limit answers MACH_SEND_NO_BUFFER",
        (outcome, sent),
        (Err(MachMsgReturn::SendNoBuffer), 64),
    );
    checks.equal("destroy the full port", port_destroy(task, sink), Ok(()));
    checks.equal(
        "sending works again",
        send(port, Disposition::CopySend, 1, &[], 0, 0).and_then(|()| receive(&mut buffer, port, 0, 0)),
        Ok(()),
    );

    // Many port allocations and destructions leave nothing behind (the
    // kernel test compares its memory before and after this task).
    let mut cycles_ok = true;
    for _ in 0..10_000 {
        let Ok(name) = port_allocate(task, PortRight::Receive) else {
            cycles_ok = false;
            break;
        };
        cycles_ok &= port_destroy(task, name).is_ok();
    }
    checks.equal("10000 allocate/destroy cycles", cycles_ok, true);

    checks.finish();
}

/// Sends `carried` with `disposition` in a port descriptor to `destination`.
fn send_right(destination: u32, carried: u32, disposition: Disposition, id: i32) -> Result<(), MachMsgReturn> {
    use libmach::abi::{Descriptor, MachMsgHeader, MessageEncoder};
    let mut buffer = MessageBuffer::<256>::new();
    let header = MachMsgHeader {
        bits: libmach::abi::msgh_bits(Disposition::CopySend as u32, 0),
        size: 0,
        remote_port: destination,
        local_port: 0,
        voucher_port: 0,
        id,
    };
    let mut encoder = MessageEncoder::new(&mut buffer.0, header, true);
    if encoder.descriptor(Descriptor::Port { name: carried, disposition }).is_err() {
        return Err(MachMsgReturn::SendInvalidType);
    }
    let size = encoder.finish().map_err(|_| MachMsgReturn::SendInvalidType)?;
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)
}
