//! Checks the name service from a child of the bootstrap task: register,
//! lookup, a duplicate name, an unknown name, and malformed requests (wrong
//! id, short body, wrong descriptor type, no reply port), after each of
//! which the service must still answer.
#![no_std]
#![no_main]

use libmach::abi::{
    msgh_bits, Descriptor, Disposition, MachMsgHeader, MessageEncoder, PortName, PortRight, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, MACH_SEND_MSG,
};
use libmach::trap::{mach_msg, mach_reply_port, port_allocate, port_destroy, task_self, MessageBuffer};
use mach_bootstrap_core::client::{lookup, register, ClientError};
use mach_bootstrap_core::protocol::{
    BAD_ARGUMENTS, BAD_ID, INVALID_NAME, LOOKUP_ID, NAME_IN_USE, REGISTER_ID, UNKNOWN_NAME,
};
use mach_examples::Checks;

libmach::entry!(main);

/// Sends a hand-made request and returns the reply's code (or `None` when
/// no reply came within a second).
fn raw_call(service: PortName, id: i32, descriptor: Option<Descriptor>, data: &[u8], with_reply: bool) -> Option<i32> {
    let reply = mach_reply_port();
    let mut buffer = MessageBuffer::<256>::new();
    let local = if with_reply { Disposition::MakeSendOnce as u32 } else { 0 };
    let header = MachMsgHeader {
        bits: msgh_bits(Disposition::CopySend as u32, local),
        size: 0,
        remote_port: service,
        local_port: if with_reply { reply } else { 0 },
        voucher_port: 0,
        id,
    };
    let mut encoder = MessageEncoder::new(&mut buffer.0, header, false);
    if let Some(descriptor) = descriptor {
        encoder.descriptor(descriptor).ok()?;
    }
    encoder.inline_data(data).ok()?;
    let length = encoder.finish().ok()?;
    let code = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, length, reply, 1000)
        .ok()
        .map(|()| i32::from_le_bytes(buffer.0[24..28].try_into().unwrap_or([0; 4])));
    let _ = port_destroy(task_self(), reply);
    code
}

fn main(service: u64) {
    let service = service as PortName;
    let mut checks = Checks::new("name-checks");
    let me = task_self();
    let port = port_allocate(me, PortRight::Receive).unwrap_or(0);
    let other = port_allocate(me, PortRight::Receive).unwrap_or(0);
    let _ = libmach::trap::port_insert_right(me, port, port, Disposition::MakeSend as u32);
    let _ = libmach::trap::port_insert_right(me, other, other, Disposition::MakeSend as u32);

    checks.equal(
        "lookup of an unknown name",
        lookup(service, b"checks.service"),
        Err(ClientError::Refused(UNKNOWN_NAME)),
    );
    checks.equal("register", register(service, b"checks.service", port), Ok(()));
    // The looked-up right joins our name for the same port.
    checks.equal("lookup finds the registered port", lookup(service, b"checks.service"), Ok(port));
    checks.equal(
        "duplicate name refused",
        register(service, b"checks.service", other),
        Err(ClientError::Refused(NAME_IN_USE)),
    );
    checks.equal("the first registration stands", lookup(service, b"checks.service"), Ok(port));
    checks.equal("a second name", register(service, b"checks.other", other), Ok(()));
    checks.equal("lookup of the second name", lookup(service, b"checks.other"), Ok(other));
    checks.equal("empty name refused by the client", lookup(service, b""), Err(ClientError::InvalidName));

    // Malformed requests, hand-made: each gets an error reply (or, without
    // a reply port, nothing), and the service goes on.
    let mut name = [0u8; 8];
    name[..4].copy_from_slice(&2u32.to_le_bytes());
    name[4..6].copy_from_slice(b"kv");
    checks.equal("wrong id", raw_call(service, 999, None, &name, true), Some(BAD_ID));
    checks.equal("short body", raw_call(service, LOOKUP_ID, None, &[], true), Some(BAD_ARGUMENTS));
    let mut long = name;
    long[..4].copy_from_slice(&4000u32.to_le_bytes());
    checks.equal("length beyond the body", raw_call(service, LOOKUP_ID, None, &long, true), Some(BAD_ARGUMENTS));
    let memory = Descriptor::OutOfLineMemory {
        address: name.as_ptr() as u64,
        size: name.len() as u32,
        deallocate: false,
        copy: libmach::abi::CopyOption::PhysicalCopy,
    };
    checks.equal(
        "register with memory instead of a right",
        raw_call(service, REGISTER_ID, Some(memory), &name, true),
        Some(BAD_ARGUMENTS),
    );
    let receive = Descriptor::Port { name: mach_reply_port(), disposition: Disposition::MoveReceive };
    checks.equal(
        "register with a receive right",
        raw_call(service, REGISTER_ID, Some(receive), &name, true),
        Some(BAD_ARGUMENTS),
    );
    let mut nul = name;
    nul[5] = 0;
    let send = Descriptor::Port { name: port, disposition: Disposition::CopySend };
    checks.equal(
        "register a name with NUL",
        raw_call(service, REGISTER_ID, Some(send), &nul, true),
        Some(INVALID_NAME),
    );
    checks.equal("no reply port: no answer", raw_call(service, LOOKUP_ID, None, &name, false), None);
    checks.equal("still serving after all that", lookup(service, b"checks.other"), Ok(other));

    // A name whose port dies is free again.
    let _ = port_destroy(me, other);
    let mut freed = false;
    for _ in 0..100 {
        if lookup(service, b"checks.other") == Err(ClientError::Refused(UNKNOWN_NAME)) {
            freed = true;
            break;
        }
        let _ = libmach::trap::thread_sleep(1);
    }
    checks.equal("a dead port's name is removed", freed, true);
    let replacement = port_allocate(me, PortRight::Receive).unwrap_or(0);
    let _ = libmach::trap::port_insert_right(me, replacement, replacement, Disposition::MakeSend as u32);
    checks.equal("and can be registered again", register(service, b"checks.other", replacement), Ok(()));
    checks.finish();
}
