//! The worked example's Rust client, started by the bootstrap task beside
//! `kv-server`: it finds the server by name and calls every routine through
//! the generated stubs, then sends malformed requests (the server must
//! answer each with an error and go on). Prints `kv-client: N passed, N
//! failed`. Then it keeps calling; when a call fails (the kernel test kills
//! the server) it looks `kv` up again and checks that the restarted server,
//! with an empty store, answers: `kv-client: restarted server: N passed, N
//! failed`.
#![no_std]
#![no_main]

use libmach::abi::{CopyOption, Descriptor, Disposition, PortName};
use libmach::mig::{MIG_BAD_ARGUMENTS, MIG_BAD_ID};
use libmach::trap::thread_sleep;
use libmach::{CallError, ReceiveRight, SendRight, SystemKernel};
use mach_examples::{name_service, names, raw_call, Checks};
use mach_kv_example::kv::{self, id, Error};

libmach::entry!(main);

/// Looks `kv` up, waiting up to 20 s for it to be registered (a restarted
/// server registers it again).
fn connect(names: &mut names::Client) -> Option<kv::Client> {
    let server = names.lookup_wait("kv", 20_000).ok()?;
    kv::Client::new(&SystemKernel, server).ok()
}

fn code<T>(result: Result<T, CallError<Error>>) -> Result<T, i32> {
    result.map_err(|error| match error {
        CallError::Interface(error) => error.code(),
        CallError::Rpc(libmach::RpcError::Server(code)) => code,
        CallError::Rpc(_) => i32::MIN,
    })
}

fn every_routine(checks: &mut Checks, client: &mut kv::Client) {
    checks.equal("put", code(client.put("greeting", b"hello")), Ok(()));
    checks.equal("get", code(client.get("greeting")).map(|value| value.as_slice() == b"hello"), Ok(true));
    checks.equal("get of a missing key", code(client.get("missing")).map(|_| ()), Err(Error::NotFound.code()));
    checks.equal("add", code(client.add("counter", 5)), Ok(5));
    checks.equal("add again", code(client.add("counter", -2)), Ok(3));
    // Other clients (the C one) may share the store: at least our two keys.
    checks.equal("count", code(client.count()).map(|reply| reply.keys >= 2), Ok(true));
    checks.equal("remove", code(client.remove("greeting")).map(|value| value.as_slice() == b"hello"), Ok(true));
    checks.equal("remove again", code(client.remove("greeting")).map(|_| ()), Err(Error::NotFound.code()));
    checks.equal("a value over its bound", code(client.put("big", &[0; 513])).is_err(), true);
    let data = [3u8; 10_000];
    checks.equal(
        "digest of out-of-line data",
        code(client.digest(&data)).map(|reply| (reply.checksum, reply.length)),
        Ok((30_000, 10_000)),
    );
    checks.equal("unwatch with no watcher", code(client.unwatch()).map(|_| ()), Err(Error::NoWatcher.code()));
    if let Ok(watcher) = ReceiveRight::allocate(&SystemKernel) {
        if let Ok(send) = watcher.make_send() {
            checks.equal("watch", code(client.watch(send)), Ok(()));
            checks.equal(
                "unwatch gives the right back",
                code(client.unwatch()).map(|right| right.name()),
                Ok(watcher.name()),
            );
        }
    }
    let session = code(client.open_session("mine"));
    checks.equal("open_session gives a send right", session.as_ref().map(|right| right.is_dead()), Ok(false));
    if let Ok(session) = session {
        // A request sent to the session's port: the server finds the session by it.
        let label = kv::Client::new(&SystemKernel, session).map(|mut session| code(session.session_label()));
        checks.equal(
            "session_label on the session's port",
            label.map(|label| label.map(|label| label.as_str() == "mine")),
            Ok(Ok(true)),
        );
    }
    checks.equal(
        "session_label on the service port",
        code(client.session_label()).map(|_| ()),
        Err(Error::NotFound.code()),
    );
    // The server holds four sessions at most: opening and dropping more
    // works only if each one's no-senders notification freed it.
    let reopened = (0..6).all(|_| {
        code(client.open_session("short"))
            .and_then(|session| kv::Client::new(&SystemKernel, session).map_err(|_| i32::MIN))
            .and_then(|mut session| code(session.session_label()))
            .is_ok_and(|label| label.as_str() == "short")
    });
    checks.equal("dropped sessions are freed by their no-senders notification", reopened, true);
    checks.equal("log (one-way)", client.log(1, "kv-client says hello").is_ok(), true);
}

fn malformed_requests(checks: &mut Checks, server: &SendRight) {
    let server = server.name();
    let mut key = [0u8; 8];
    key[..4].copy_from_slice(&3u32.to_le_bytes());
    key[4..7].copy_from_slice(b"key");
    checks.equal("wrong id", raw_call(server, 4300, None, &key, true), Some(MIG_BAD_ID));
    checks.equal("short body", raw_call(server, id::GET, None, &[], true), Some(MIG_BAD_ARGUMENTS));
    let mut trailing = [0u8; 12];
    trailing[..8].copy_from_slice(&key);
    checks.equal("get with trailing bytes", raw_call(server, id::GET, None, &trailing, true), Some(MIG_BAD_ARGUMENTS));
    let memory = Descriptor::OutOfLineMemory {
        address: key.as_ptr() as u64,
        size: key.len() as u32,
        deallocate: false,
        copy: CopyOption::PhysicalCopy,
    };
    checks.equal(
        "watch with memory instead of a right",
        raw_call(server, id::WATCH, Some(memory), &[], true),
        Some(MIG_BAD_ARGUMENTS),
    );
    let port = Descriptor::Port { name: server, disposition: Disposition::CopySend };
    checks.equal(
        "digest with a right instead of memory",
        raw_call(server, id::DIGEST, Some(port), &[], true),
        Some(MIG_BAD_ARGUMENTS),
    );
    checks.equal("get with an extra right", raw_call(server, id::GET, Some(port), &key, true), Some(MIG_BAD_ARGUMENTS));
    checks.equal("no reply port: no answer", raw_call(server, id::PUT, None, &key, false), None);
}

fn main(bootstrap_port: u64) {
    let mut checks = Checks::new("kv-client");
    let Ok(mut names) = name_service(bootstrap_port) else { return checks.finish() };
    let Some(mut client) = connect(&mut names) else {
        checks.equal("kv registered", false, true);
        return checks.finish();
    };
    every_routine(&mut checks, &mut client);
    malformed_requests(&mut checks, client.server());
    checks.equal("still serving after all that", code(client.count()).is_ok(), true);
    checks.finish();

    // Wait for the server to die (the kernel test kills it), then find the
    // new one by name.
    let first: PortName = client.server().name();
    client.set_timeout(Some(2000));
    while client.count().is_ok() {
        let _ = thread_sleep(20);
    }
    let mut checks = Checks::new("kv-client: restarted server");
    drop(client);
    let Some(mut client) = connect(&mut names) else {
        checks.equal("kv registered again", false, true);
        return checks.finish();
    };
    // The dead name of the old server may linger; a new port gets a new name.
    checks.equal("a different port", client.server().name() != first, true);
    checks.equal(
        "its store is new: the counter is gone",
        code(client.get("counter")).map(|_| ()),
        Err(Error::NotFound.code()),
    );
    checks.equal("and it works", code(client.add("counter", 1)), Ok(1));
    checks.finish();
}
