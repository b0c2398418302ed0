//! Checks waiting lookups and who may register what, from a child of the
//! bootstrap task. The kernel test boots it with
//!
//! ```text
//! register-names registers=late -- --delay 1000 late
//! wait-checks registers=wait-checks.own
//! ```
//!
//! `late` is registered about a second after the start. A second thread waits
//! for it with `lookup_wait` while the first shows the name service still
//! answers at once; a waiting lookup of a name nobody registers times out;
//! registering `late` (or any name not on its own manifest line) is refused
//! before and after the real server registered it. Prints
//! `wait-checks: N passed, N failed`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use libmach::abi::{PortName, PortRight};
use libmach::trap::clock_get_time;
use libmach::{CallError, PortKernel, ReceiveRight, SendRight, SystemKernel};
use mach_examples::names::{self, Error};
use mach_examples::{name_service, Checks};

libmach::entry!(main);

/// The waiting thread's result: 0 for a right, else the error code.
static WAITER_RESULT: AtomicI64 = AtomicI64::new(i64::MIN);
static WAITER_MILLISECONDS: AtomicU64 = AtomicU64::new(0);
static BOOTSTRAP_PORT: AtomicU32 = AtomicU32::new(0);

fn milliseconds() -> u64 {
    clock_get_time().unwrap_or(0) / 1_000_000
}

fn code<T>(result: Result<T, CallError<Error>>) -> Result<T, i32> {
    result.map_err(|error| match error {
        CallError::Interface(error) => error.code(),
        CallError::Rpc(libmach::RpcError::Server(code)) => code,
        CallError::Rpc(_) => i32::MIN,
    })
}

/// A second client on the same bootstrap port (its own reply port).
fn another_client() -> Option<names::Client> {
    let port = BOOTSTRAP_PORT.load(Ordering::Relaxed) as PortName;
    SystemKernel.port_mod_refs(port, PortRight::Send, 1).ok()?;
    names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, port)).ok()
}

fn wait_for_late(_: usize) {
    let Some(mut names) = another_client() else { return };
    let start = milliseconds();
    let result = code(names.lookup_wait("late", 10_000)).map(|_| ());
    WAITER_MILLISECONDS.store(milliseconds() - start, Ordering::Relaxed);
    WAITER_RESULT.store(result.map_or_else(i64::from, |()| 0), Ordering::Relaxed);
}

fn main(bootstrap_port: u64) {
    BOOTSTRAP_PORT.store(bootstrap_port as u32, Ordering::Relaxed);
    let mut checks = Checks::new("wait-checks");
    let Ok(mut names) = name_service(bootstrap_port) else { return checks.finish() };
    let (Ok(impostor), Ok(own)) = (ReceiveRight::allocate(&SystemKernel), ReceiveRight::allocate(&SystemKernel)) else {
        return checks.finish();
    };
    let (Ok(impostor_send), Ok(own_send)) = (impostor.make_send(), own.make_send()) else { return checks.finish() };
    checks.equal("late is not registered yet", code(names.lookup("late")).map(|_| ()), Err(Error::UnknownName.code()));
    checks.equal(
        "an impostor cannot take late while it is free",
        code(names.register_name("late", &impostor_send)),
        Err(Error::NotPermitted.code()),
    );
    let Ok(waiter) = libmach::thread::spawn(wait_for_late, 0, 64 * 1024) else {
        checks.equal("a waiting thread", false, true);
        return checks.finish();
    };
    let _ = libmach::trap::thread_sleep(20);
    // The waiting lookup is parked: the service answers us at once.
    let start = milliseconds();
    checks.equal("register our own name meanwhile", code(names.register_name("wait-checks.own", &own_send)), Ok(()));
    checks.equal(
        "and look it up",
        code(names.lookup("wait-checks.own")).map(|right| right.into_name()),
        Ok(own.name()),
    );
    let quick = milliseconds() - start;
    checks.equal("answered while another lookup waits (under 500 ms)", quick < 500, true);
    checks.equal("the waiter is still waiting", WAITER_RESULT.load(Ordering::Relaxed), i64::MIN);
    let start = milliseconds();
    checks.equal(
        "a waiting lookup of a name nobody registers times out",
        code(names.lookup_wait("nobody", 100)).map(|_| ()),
        Err(Error::TimedOut.code()),
    );
    let waited = milliseconds() - start;
    checks.equal("after 100 ms, not much later", (100..3000).contains(&waited), true);
    waiter.join();
    checks.equal("the waiter got late's right", WAITER_RESULT.load(Ordering::Relaxed), 0);
    checks.equal("after waiting for its registration", WAITER_MILLISECONDS.load(Ordering::Relaxed) >= 500, true);
    checks.equal(
        "an impostor cannot take late from its server",
        code(names.register_name("late", &impostor_send)),
        Err(Error::NotPermitted.code()),
    );
    checks.equal(
        "nor any name off its manifest line",
        code(names.register_name("kv", &impostor_send)),
        Err(Error::NotPermitted.code()),
    );
    checks.equal("late is there now", code(names.lookup_wait("late", 0)).is_ok(), true);
    checks.finish();
}
