//! Checks the name service from a child of the bootstrap task: register,
//! lookup, a duplicate name, an unknown name, a name its manifest line does
//! not list, waiting lookups, and malformed requests (wrong id, short body,
//! wrong descriptor type, no reply port), after each of which the service
//! must still answer. Its manifest line must be
//! `name-checks registers=checks.service,checks.other`.
#![no_std]
#![no_main]

use libmach::abi::{Descriptor, Disposition, PortName};
use libmach::mig::{MIG_BAD_ARGUMENTS, MIG_BAD_ID};
use libmach::trap::{mach_reply_port, port_destroy, task_self};
use libmach::{CallError, ReceiveRight, SystemKernel};
use mach_examples::names::{id, Error};
use mach_examples::{name_service, raw_call, Checks};

libmach::entry!(main);

/// The outcome of a call, as the port name it returned or the error code.
fn lookup(names: &mut mach_examples::names::Client, name: &str) -> Result<PortName, i32> {
    names.lookup(name).map(|right| right.into_name()).map_err(code)
}

fn code(error: CallError<Error>) -> i32 {
    match error {
        CallError::Interface(error) => error.code(),
        CallError::Rpc(libmach::RpcError::Server(code)) => code,
        CallError::Rpc(_) => i32::MIN,
    }
}

fn main(bootstrap_port: u64) {
    let service = bootstrap_port as PortName;
    let mut checks = Checks::new("name-checks");
    let Ok(mut names) = name_service(bootstrap_port) else {
        checks.equal("a name-service client", false, true);
        return checks.finish();
    };
    let (Ok(port), Ok(other)) = (ReceiveRight::allocate(&SystemKernel), ReceiveRight::allocate(&SystemKernel)) else {
        return checks.finish();
    };
    let (Ok(port_send), Ok(other_send)) = (port.make_send(), other.make_send()) else {
        return checks.finish();
    };
    let unknown = Error::UnknownName.code();

    checks.equal("lookup of an unknown name", lookup(&mut names, "checks.service"), Err(unknown));
    checks.equal("register", names.register_name("checks.service", &port_send).map_err(code), Ok(()));
    // The looked-up right joins our name for the same port.
    checks.equal("lookup finds the registered port", lookup(&mut names, "checks.service"), Ok(port.name()));
    checks.equal(
        "duplicate name refused",
        names.register_name("checks.service", &other_send).map_err(code),
        Err(Error::NameInUse.code()),
    );
    checks.equal("the first registration stands", lookup(&mut names, "checks.service"), Ok(port.name()));
    checks.equal("a second name", names.register_name("checks.other", &other_send).map_err(code), Ok(()));
    checks.equal("lookup of the second name", lookup(&mut names, "checks.other"), Ok(other.name()));
    checks.equal(
        "a name the manifest does not give us",
        names.register_name("checks.forbidden", &other_send).map_err(code),
        Err(Error::NotPermitted.code()),
    );
    checks.equal(
        "a waiting lookup of a registered name answers at once",
        names.lookup_wait("checks.service", 10_000).map(|right| right.into_name()).map_err(code),
        Ok(port.name()),
    );
    let before = libmach::trap::clock_get_time().unwrap_or(0);
    checks.equal(
        "a waiting lookup times out",
        names.lookup_wait("checks.never", 50).map(|_| ()).map_err(code),
        Err(Error::TimedOut.code()),
    );
    let waited = (libmach::trap::clock_get_time().unwrap_or(0) - before) / 1_000_000;
    // Never before its 50 ms; the upper bound only tells "woken by its own
    // timer" from "woken by something else much later": it is wide because
    // a loaded host holds QEMU off the processor for seconds while the
    // guest clock runs on (2 s failed so at load 11 on 2 cores).
    checks.equal("after its timeout, not long after", (50..30_000).contains(&waited), true);
    checks.equal(
        "no timeout: at once",
        names.lookup_wait("checks.never", 0).map(|_| ()).map_err(code),
        Err(Error::TimedOut.code()),
    );
    checks.equal("empty name refused", lookup(&mut names, ""), Err(Error::InvalidName.code()));
    // A `string<N>` never carries NUL: the generated stub refuses it before sending.
    checks.equal("name with NUL refused", lookup(&mut names, "a\0b"), Err(i32::MIN));

    // Malformed requests, hand-made: each gets an error reply (or, without
    // a reply port, nothing), and the service goes on.
    let mut name = [0u8; 8];
    name[..4].copy_from_slice(&2u32.to_le_bytes());
    name[4..6].copy_from_slice(b"kv");
    checks.equal("wrong id", raw_call(service, 999, None, &name, true), Some(MIG_BAD_ID));
    checks.equal("short body", raw_call(service, id::LOOKUP, None, &[], true), Some(MIG_BAD_ARGUMENTS));
    let mut long = name;
    long[..4].copy_from_slice(&4000u32.to_le_bytes());
    checks.equal("length beyond the body", raw_call(service, id::LOOKUP, None, &long, true), Some(MIG_BAD_ARGUMENTS));
    let mut invalid = name;
    invalid[4] = 0xff;
    checks.equal("a name not UTF-8", raw_call(service, id::LOOKUP, None, &invalid, true), Some(MIG_BAD_ARGUMENTS));
    let memory = Descriptor::OutOfLineMemory {
        address: name.as_ptr() as u64,
        size: name.len() as u32,
        deallocate: false,
        copy: libmach::abi::CopyOption::PhysicalCopy,
    };
    checks.equal(
        "register with memory instead of a right",
        raw_call(service, id::REGISTER_NAME, Some(memory), &name, true),
        Some(MIG_BAD_ARGUMENTS),
    );
    let receive = Descriptor::Port { name: mach_reply_port(), disposition: Disposition::MoveReceive };
    checks.equal(
        "register with a receive right",
        raw_call(service, id::REGISTER_NAME, Some(receive), &name, true),
        Some(MIG_BAD_ARGUMENTS),
    );
    checks.equal(
        "register without its right",
        raw_call(service, id::REGISTER_NAME, None, &name, true),
        Some(MIG_BAD_ARGUMENTS),
    );
    checks.equal("no reply port: no answer", raw_call(service, id::LOOKUP, None, &name, false), None);
    checks.equal("still serving after all that", lookup(&mut names, "checks.other"), Ok(other.name()));

    // A name whose port dies is free again.
    let other_name = other.name();
    drop(other_send);
    drop(other);
    let mut freed = false;
    for _ in 0..100 {
        if lookup(&mut names, "checks.other") == Err(unknown) {
            freed = true;
            break;
        }
        let _ = libmach::trap::thread_sleep(1);
    }
    checks.equal("a dead port's name is removed", freed, true);
    let _ = port_destroy(task_self(), other_name);
    let Ok(replacement) = ReceiveRight::allocate(&SystemKernel) else { return checks.finish() };
    let Ok(replacement_send) = replacement.make_send() else { return checks.finish() };
    checks.equal(
        "and can be registered again",
        names.register_name("checks.other", &replacement_send).map_err(code),
        Ok(()),
    );
    checks.equal("lookup finds the new port", lookup(&mut names, "checks.other"), Ok(replacement.name()));
    checks.finish();
}
