//! Runs the generated kv client against the generated dispatch and the
//! example store, through the fake kernel (the kernel's IPC core): every
//! routine, every error path, and the rights each one moves.

use std::cell::RefCell;
use std::rc::Rc;

use libmach::abi::{
    parse_received, Descriptor, Disposition, MachMsgHeader, PortName, PortRight, MACH_PORT_TYPE_RECEIVE,
    MACH_PORT_TYPE_SEND,
};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::{InlineReader, MessageWriter};
use libmach::mig::{MIG_BAD_ARGUMENTS, MIG_BAD_ID};
use libmach::{CallError, PortKernel, ReceiveRight, RpcError, SendRight, WriteError};
use mach_kv_example::kv;
use mach_kv_example::store::{Store, CAPACITY};

struct Fixture {
    system: FakeSystem,
    client_task: FakeKernel,
    server_task: FakeKernel,
    store: Rc<RefCell<Store<FakeKernel>>>,
    /// The client task's send right to the service port (raw, for hand-made messages).
    service_send: PortName,
    _service: ReceiveRight<FakeKernel>,
}

impl Fixture {
    fn new() -> Fixture {
        let system = FakeSystem::new();
        let server_task = system.task();
        let client_task = system.task();
        let service = ReceiveRight::allocate(&server_task).unwrap();
        let store = Rc::new(RefCell::new(Store::new(&server_task)));
        let handler_store = store.clone();
        let handler_kernel = server_task.clone();
        system.attach_server(&server_task, service.name(), kv::BUFFER_SIZE, move |request, reply| {
            kv::dispatch(&mut *handler_store.borrow_mut(), &handler_kernel, request, reply)
        });
        let service_send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
        Fixture { system, client_task, server_task, store, service_send, _service: service }
    }

    /// A client with its own send right (one more reference).
    fn client(&self) -> kv::Client<FakeKernel> {
        self.client_task.port_mod_refs(self.service_send, PortRight::Send, 1).unwrap();
        kv::Client::new(&self.client_task, SendRight::from_name(&self.client_task, self.service_send)).unwrap()
    }

    fn check(&self) {
        self.system.check_invariants().unwrap();
    }

    /// Sends a hand-built request with id `id` and a reply port; returns the
    /// reply's return code, or `None` if no reply came.
    fn raw_call(&self, id: i32, build: impl FnOnce(&mut MessageWriter)) -> Option<i32> {
        let mut reply_port = ReceiveRight::allocate(&self.client_task).unwrap();
        let mut buffer = vec![0u8; 8192];
        let header = libmach::rpc::request_header(self.service_send, reply_port.name(), id);
        let mut writer = MessageWriter::new(&mut buffer, header);
        build(&mut writer);
        let length = writer.finish().unwrap();
        match libmach::rpc::call(&self.client_task, &mut reply_port, &mut buffer, length, None) {
            Ok(()) => {
                let (view, _) = parse_received(&buffer).unwrap();
                assert_eq!(view.header.id, id + 100);
                assert_eq!(view.descriptor_count(), 0);
                let mut reader = InlineReader::new(view.inline_data);
                let code = reader.i32().unwrap();
                reader.finish().unwrap();
                Some(code)
            }
            Err(RpcError::Receive(_)) => None,
            Err(other) => panic!("raw call failed: {other:?}"),
        }
    }

    /// Sends a hand-built request without a reply port.
    fn raw_send(&self, id: i32, build: impl FnOnce(&mut MessageWriter)) {
        let mut buffer = vec![0u8; 8192];
        let mut writer = MessageWriter::new(&mut buffer, libmach::rpc::one_way_header(self.service_send, id));
        build(&mut writer);
        let length = writer.finish().unwrap();
        libmach::rpc::send(&self.client_task, &mut buffer, length, None).unwrap();
        self.system.run_servers();
    }
}

#[test]
fn put_then_get_returns_the_value() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    client.put("colour", b"blue").unwrap();
    assert_eq!(client.get("colour").unwrap().as_slice(), b"blue");
    client.put("colour", b"green").unwrap();
    assert_eq!(client.get("colour").unwrap().as_slice(), b"green");
    fixture.check();
}

#[test]
fn get_of_a_missing_key_is_not_found() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    assert_eq!(client.get("absent").unwrap_err(), CallError::Interface(kv::Error::NotFound));
    assert_eq!(kv::Error::NotFound.description(), "no value is stored under the key");
    fixture.check();
}

#[test]
fn remove_returns_the_old_value_and_forgets_it() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    client.put("k", &[1, 2, 3]).unwrap();
    assert_eq!(client.remove("k").unwrap().as_slice(), &[1, 2, 3]);
    assert_eq!(client.remove("k").unwrap_err(), CallError::Interface(kv::Error::NotFound));
    fixture.check();
}

#[test]
fn count_returns_two_results() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    client.put("a", &[0; 10]).unwrap();
    client.put("b", &[0; 500]).unwrap();
    let count = client.count().unwrap();
    assert_eq!((count.keys, count.bytes), (2, 510));
}

#[test]
fn add_carries_signed_64_bit_integers() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    assert_eq!(client.add("counter", -5).unwrap(), -5);
    assert_eq!(client.add("counter", i64::MAX).unwrap(), i64::MAX - 5);
    assert_eq!(client.get("counter").unwrap().as_slice(), &(i64::MAX - 5).to_le_bytes());
}

#[test]
fn a_full_store_answers_store_full() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    for index in 0..CAPACITY {
        client.put(&format!("key{index}"), b"v").unwrap();
    }
    assert_eq!(client.put("one-more", b"v").unwrap_err(), CallError::Interface(kv::Error::StoreFull));
    client.put("key3", b"replaced").unwrap();
    fixture.check();
}

#[test]
fn arguments_over_their_bound_are_refused_before_sending() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    let long_key = "k".repeat(65);
    assert_eq!(
        client.put(&long_key, b"v").unwrap_err(),
        CallError::Rpc(RpcError::Write(WriteError::TooLong { length: 65, bound: 64 }))
    );
    assert_eq!(
        client.put("k", &[0; 513]).unwrap_err(),
        CallError::Rpc(RpcError::Write(WriteError::TooLong { length: 513, bound: 512 }))
    );
    client.put(&"k".repeat(64), &[7; 512]).unwrap();
    assert_eq!(client.get(&"k".repeat(64)).unwrap().as_slice(), &[7; 512]);
}

#[test]
fn watch_moves_a_send_right_to_the_server_and_unwatch_moves_it_back() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    let events = ReceiveRight::allocate(&fixture.client_task).unwrap();
    let watcher = events.make_send().unwrap();
    assert_eq!(fixture.system.references(&fixture.client_task, events.name(), PortRight::Send), 1);
    client.watch(watcher).unwrap();
    // The reference left the client with the request: only the receive right remains.
    assert_eq!(fixture.system.references(&fixture.client_task, events.name(), PortRight::Send), 0);
    let held = fixture.store.borrow().watcher_name().unwrap();
    assert_eq!(fixture.server_task.port_type(held).unwrap(), MACH_PORT_TYPE_SEND);
    let back = client.unwatch().unwrap();
    // The right comes back under the receive right's name, as Mach names one port once per space.
    assert_eq!(back.name(), events.name());
    assert_eq!(fixture.system.references(&fixture.client_task, events.name(), PortRight::Send), 1);
    assert!(fixture.store.borrow().watcher_name().is_none());
    assert!(fixture.server_task.port_type(held).is_err());
    assert_eq!(client.unwatch().unwrap_err(), CallError::Interface(kv::Error::NoWatcher));
    drop(back);
    assert_eq!(fixture.system.references(&fixture.client_task, events.name(), PortRight::Send), 0);
    fixture.check();
}

#[test]
fn a_failed_send_keeps_the_moved_right_with_the_caller_and_releases_it_once() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    let events = ReceiveRight::allocate(&fixture.client_task).unwrap();
    let watcher = events.make_send().unwrap();
    fixture.system.end_task(&fixture.server_task);
    let error = client.watch(watcher).unwrap_err();
    assert_eq!(error, CallError::Rpc(RpcError::Send(libmach::abi::MachMsgReturn::SendInvalidDest)));
    // The send failed, so the right was not moved; the dropped value released it.
    assert_eq!(fixture.system.references(&fixture.client_task, events.name(), PortRight::Send), 0);
    assert_eq!(fixture.client_task.port_type(events.name()).unwrap(), MACH_PORT_TYPE_RECEIVE);
    fixture.check();
}

#[test]
fn open_session_gives_the_client_a_send_right_to_a_server_port() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    let session = client.open_session("first").unwrap();
    assert_eq!(fixture.client_task.port_type(session.name()).unwrap(), MACH_PORT_TYPE_SEND);
    let server_names: Vec<PortName> = fixture.store.borrow().session_names().collect();
    assert_eq!(server_names.len(), 1);
    // The server's name holds the receive right; the send right it made went to the client.
    assert_eq!(fixture.server_task.port_type(server_names[0]).unwrap(), MACH_PORT_TYPE_RECEIVE);
    drop(session);
    fixture.check();
}

#[test]
fn digest_reads_out_of_line_memory_and_the_server_frees_it() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    let data: Vec<u8> = (0..200_000u32).map(|index| (index * 7) as u8).collect();
    let expected = data.iter().fold(0u32, |sum, &byte| sum.wrapping_add(byte as u32));
    let digest = client.digest(&data).unwrap();
    assert_eq!((digest.checksum, digest.length), (expected, 200_000));
    assert_eq!(fixture.system.live_regions(), 0);
    let empty = client.digest(&[]).unwrap();
    assert_eq!((empty.checksum, empty.length), (0, 0));
    let too_large = vec![0u8; 1_048_577];
    assert!(matches!(client.digest(&too_large), Err(CallError::Rpc(RpcError::Write(WriteError::TooLong { .. })))));
    fixture.check();
}

#[test]
fn a_simpleroutine_is_one_way() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    client.log(3, "hello").unwrap();
    assert_eq!(fixture.store.borrow().log_lines, 0, "nothing ran yet: no reply was awaited");
    fixture.system.run_servers();
    assert_eq!(fixture.store.borrow().log_lines, 1);
    assert_eq!(fixture.store.borrow().last_log.1.as_str(), "hello");
    assert_eq!(fixture.store.borrow().last_log.0, 3);
}

#[test]
fn dropping_the_client_releases_its_rights() {
    let fixture = Fixture::new();
    let before = fixture.system.name_count(&fixture.client_task);
    let mut client = fixture.client();
    client.put("a", b"b").unwrap();
    drop(client);
    assert_eq!(fixture.system.name_count(&fixture.client_task), before);
    assert_eq!(fixture.system.references(&fixture.client_task, fixture.service_send, PortRight::Send), 1);
    fixture.check();
}

// ---- Malformed requests: an error reply, nothing leaks, the server goes on ----

fn server_is_still_serving(fixture: &Fixture) {
    let mut client = fixture.client();
    client.put("after", b"ok").unwrap();
    assert_eq!(client.get("after").unwrap().as_slice(), b"ok");
    fixture.check();
}

#[test]
fn an_unknown_id_is_answered_with_mig_bad_id() {
    let fixture = Fixture::new();
    assert_eq!(fixture.raw_call(9999, |writer| writer.u32(1).unwrap()), Some(MIG_BAD_ID));
    assert_eq!(fixture.raw_call(kv::SUBSYSTEM_BASE - 1, |_| {}), Some(MIG_BAD_ID));
    server_is_still_serving(&fixture);
}

#[test]
fn a_short_body_is_answered_with_bad_arguments() {
    let fixture = Fixture::new();
    // `put` without its value.
    let code = fixture.raw_call(kv::id::PUT, |writer| writer.string("key", 64).unwrap());
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    // `add` with half of its i64.
    let code = fixture.raw_call(kv::id::ADD, |writer| {
        writer.string("key", 64).unwrap();
        writer.u32(1).unwrap();
    });
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    assert_eq!(fixture.raw_call(kv::id::GET, |_| {}), Some(MIG_BAD_ARGUMENTS));
    server_is_still_serving(&fixture);
}

#[test]
fn trailing_bytes_are_answered_with_bad_arguments() {
    let fixture = Fixture::new();
    let code = fixture.raw_call(kv::id::GET, |writer| {
        writer.string("key", 64).unwrap();
        writer.u32(0).unwrap();
    });
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    server_is_still_serving(&fixture);
}

#[test]
fn a_string_over_its_bound_or_not_utf8_is_answered_with_bad_arguments() {
    let fixture = Fixture::new();
    let code = fixture.raw_call(kv::id::GET, |writer| writer.string(&"x".repeat(65), 100).unwrap());
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    let code = fixture.raw_call(kv::id::GET, |writer| writer.bytes(&[0xff, 0xfe], 64).unwrap());
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    // A length field larger than the message.
    let code = fixture.raw_call(kv::id::GET, |writer| writer.u32(60).unwrap());
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    server_is_still_serving(&fixture);
}

#[test]
fn a_bad_small_integer_or_bool_encoding_is_refused() {
    let fixture = Fixture::new();
    // `log`'s level is a u8: 256 does not fit. One-way, so no reply: the log stays empty.
    fixture.raw_send(kv::id::LOG, |writer| {
        writer.u32(256).unwrap();
        writer.string("x", 120).unwrap();
    });
    assert_eq!(fixture.store.borrow().log_lines, 0);
    server_is_still_serving(&fixture);
}

#[test]
fn a_wrong_descriptor_type_is_answered_with_bad_arguments_and_released() {
    let fixture = Fixture::new();
    let events = ReceiveRight::allocate(&fixture.client_task).unwrap();
    let server_names = fixture.system.name_count(&fixture.server_task);
    // `watch` wants a send right; give it a send-once right.
    let code = fixture.raw_call(kv::id::WATCH, |writer| writer.descriptor(events.descriptor_make_send_once()).unwrap());
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    // And out-of-line memory instead of a port.
    let data = [1u8; 64];
    let code = fixture.raw_call(kv::id::WATCH, |writer| {
        writer.descriptor(libmach::message::out_of_line_descriptor(&data, 64).unwrap()).unwrap()
    });
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    // Rights and memory that came with the refused requests were released.
    assert_eq!(fixture.system.name_count(&fixture.server_task), server_names);
    assert_eq!(fixture.system.live_regions(), 0);
    assert!(fixture.store.borrow().watcher_name().is_none());
    server_is_still_serving(&fixture);
}

#[test]
fn an_extra_descriptor_is_answered_with_bad_arguments_and_released() {
    let fixture = Fixture::new();
    let events = ReceiveRight::allocate(&fixture.client_task).unwrap();
    let server_names = fixture.system.name_count(&fixture.server_task);
    let code = fixture.raw_call(kv::id::GET, |writer| {
        writer.descriptor(events.descriptor_make_send()).unwrap();
        writer.string("key", 64).unwrap();
    });
    assert_eq!(code, Some(MIG_BAD_ARGUMENTS));
    assert_eq!(fixture.system.name_count(&fixture.server_task), server_names);
    server_is_still_serving(&fixture);
}

#[test]
fn a_request_without_reply_port_is_dropped_and_its_rights_released() {
    let fixture = Fixture::new();
    let events = ReceiveRight::allocate(&fixture.client_task).unwrap();
    let server_names = fixture.system.name_count(&fixture.server_task);
    fixture.raw_send(kv::id::WATCH, |writer| writer.descriptor(events.descriptor_make_send()).unwrap());
    assert!(fixture.store.borrow().watcher_name().is_none(), "a routine without a reply port is not run");
    assert_eq!(fixture.system.name_count(&fixture.server_task), server_names);
    fixture.raw_send(kv::id::PUT, |writer| {
        writer.string("k", 64).unwrap();
        writer.bytes(b"v", 512).unwrap();
    });
    let mut client = fixture.client();
    assert_eq!(client.get("k").unwrap_err(), CallError::Interface(kv::Error::NotFound));
    server_is_still_serving(&fixture);
}

#[test]
fn garbage_bytes_given_to_dispatch_never_panic() {
    let system = FakeSystem::new();
    let task = system.task();
    let mut store = Store::new(&task);
    let mut reply = vec![0u8; kv::BUFFER_SIZE];
    for length in 0..200usize {
        let request: Vec<u8> = (0..length).map(|index| (index * 31 + length) as u8).collect();
        let _ = kv::dispatch(&mut store, &task, &request, &mut reply);
    }
    // A header-only request with a kv id but a size that does not match the buffer.
    let mut request = vec![0u8; 40];
    MachMsgHeader { bits: 0x12, size: 1000, remote_port: 0, local_port: 0, voucher_port: 0, id: kv::id::GET }
        .write_to(&mut request)
        .unwrap();
    assert_eq!(kv::dispatch(&mut store, &task, &request, &mut reply), libmach::Dispatch::NoReply);
}

#[test]
fn ids_and_codes_are_as_defined() {
    assert_eq!(kv::SUBSYSTEM_BASE, 4200);
    assert_eq!(kv::id::PUT, 4200);
    assert_eq!(kv::id::LOG, 4209);
    assert_eq!(kv::ID_COUNT, 12);
    assert_eq!(kv::id::SESSION_LABEL, 4211);
    assert_eq!(kv::Error::from_code(2), Some(kv::Error::StoreFull));
    assert_eq!(kv::Error::from_code(0), None);
    assert_eq!(kv::Error::NoWatcher.code(), 3);
    let _ = Disposition::MoveSend;
    let _ = Descriptor::Port { name: 0, disposition: Disposition::MoveSend };
}

#[test]
fn serve_answers_queued_requests_with_reply_and_receive_combined() {
    // No attached server here: requests are queued first, then `kv::serve`
    // runs until the fake kernel would have to block.
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    let reply_ports: Vec<ReceiveRight<FakeKernel>> =
        (0..3).map(|_| ReceiveRight::allocate(&client_task).unwrap()).collect();
    let requests: [(i32, &str); 3] = [(kv::id::PUT, "a"), (kv::id::GET, "a"), (kv::id::GET, "missing")];
    for ((id, key), reply_port) in requests.iter().zip(&reply_ports) {
        let mut buffer = vec![0u8; 256];
        let mut writer = MessageWriter::new(&mut buffer, libmach::rpc::request_header(send, reply_port.name(), *id));
        writer.string(key, 64).unwrap();
        if *id == kv::id::PUT {
            writer.bytes(b"value", 512).unwrap();
        }
        let length = writer.finish().unwrap();
        client_task.mach_msg(&mut buffer, libmach::abi::MACH_SEND_MSG, length, 0, 0).unwrap();
    }
    let mut store = Store::new(&server_task);
    let stopped = kv::serve(&mut store, &server_task, service.name());
    assert_eq!(stopped, libmach::abi::MachMsgReturn::ReceiveTimedOut);
    let mut codes = Vec::new();
    for ((id, _), reply_port) in requests.iter().zip(&reply_ports) {
        let mut buffer = vec![0u8; 1024];
        let option = libmach::abi::MACH_RCV_MSG | libmach::abi::MACH_RCV_TIMEOUT;
        client_task.mach_msg(&mut buffer, option, 0, reply_port.name(), 0).unwrap();
        codes.push(match libmach::rpc::read_reply(&client_task, &buffer, *id) {
            Ok(_) => 0,
            Err(Ok(code)) => code,
            Err(Err(error)) => panic!("{error:?}"),
        });
    }
    assert_eq!(codes, vec![0, 0, kv::Error::NotFound.code()]);
    // The combined reply + receive traps.
    let combined = libmach::abi::MACH_SEND_MSG | libmach::abi::MACH_SEND_TIMEOUT | libmach::abi::MACH_RCV_MSG;
    let traps = system.calls(&server_task);
    let combined_count = traps
        .iter()
        .filter(|call| matches!(call, libmach::fake::Call::MachMsg { option, .. } if *option == combined))
        .count();
    assert_eq!(combined_count, 3);
    system.check_invariants().unwrap();
}

#[test]
fn export_moves_out_of_line_memory_from_the_server_to_the_client() {
    let fixture = Fixture::new();
    let mut client = fixture.client();
    client.put("a", b"one").unwrap();
    client.put("bb", &[2; 300]).unwrap();
    let data = client.export().unwrap();
    let bytes = data.bytes();
    assert_eq!(bytes.len(), (8 + 1 + 3) + (8 + 2 + 300));
    assert_eq!(&bytes[..12], &[1, 0, 0, 0, b'a', 3, 0, 0, 0, b'o', b'n', b'e']);
    // The server's region moved (deallocated on its side by the send); the
    // client's copy is the only live one, and dropping it frees it.
    assert_eq!(fixture.system.live_regions(), 1);
    drop(data);
    assert_eq!(fixture.system.live_regions(), 0);
    let empty_store = Fixture::new().client().export().unwrap();
    assert!(empty_store.is_empty());
    fixture.check();
}

#[test]
fn a_server_that_drops_the_reply_right_is_reported_as_died() {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let handler_kernel = server_task.clone();
    // A careless server: takes every request and gives the reply right back unanswered.
    system.attach_server(&server_task, service.name(), kv::BUFFER_SIZE, move |request, _reply| {
        let header = MachMsgHeader::read_from(request).unwrap();
        libmach::server::discard_reply_port(&handler_kernel, &header);
        libmach::Dispatch::NoReply
    });
    let send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    let mut client = kv::Client::new(&client_task, SendRight::from_name(&client_task, send)).unwrap();
    assert_eq!(client.put("a", b"b").unwrap_err(), CallError::Rpc(RpcError::ServerDied));
    system.check_invariants().unwrap();
}
