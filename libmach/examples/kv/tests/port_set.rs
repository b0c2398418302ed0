//! One server task serving two interfaces and kernel notifications on one
//! port set, with a port per object: the shape of a personality server (a
//! file server answers `io` and `fs` requests on per-file ports and frees a
//! file when the no-senders notification of its port arrives).

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::MessageWriter;
use libmach::{CallError, PortSet, ReceiveRight, SendRight};
use mach_kv_example::store::Store;
use mach_kv_example::{echo, kv};

struct Server {
    system: FakeSystem,
    server_task: FakeKernel,
    client_task: FakeKernel,
    store: Rc<RefCell<Store<FakeKernel>>>,
    kv_send: libmach::abi::PortName,
    echo_send: libmach::abi::PortName,
    _ports: (ReceiveRight<FakeKernel>, ReceiveRight<FakeKernel>, PortSet<FakeKernel>),
}

fn server() -> Server {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let kv_port = ReceiveRight::allocate(&server_task).unwrap();
    let echo_port = ReceiveRight::allocate(&server_task).unwrap();
    let set = PortSet::allocate(&server_task).unwrap();
    set.insert(&kv_port).unwrap();
    set.insert(&echo_port).unwrap();

    let store = Rc::new(RefCell::new(Store::new(&server_task)));
    store.borrow_mut().serve_sessions_in(set.name());
    let handler_store = store.clone();
    let kernel = server_task.clone();
    let mut echo_server = common::Echo::new(&server_task);
    let buffer_size = kv::BUFFER_SIZE.max(echo::BUFFER_SIZE);
    system.attach_server(&server_task, set.name(), buffer_size, move |request, reply| {
        // Each dispatch leaves ids outside its interface untouched; kernel
        // notifications come last.
        let mut store = handler_store.borrow_mut();
        kv::dispatch(&mut *store, &kernel, request, reply)
            .or_else(|| echo::dispatch(&mut echo_server, &kernel, request, reply))
            .or_else(|| libmach::notify::dispatch(&kernel, request, |notification| store.notified(notification)))
    });
    let kv_send = system.give_send_right(&server_task, kv_port.name(), &client_task).unwrap();
    let echo_send = system.give_send_right(&server_task, echo_port.name(), &client_task).unwrap();
    Server { system, server_task, client_task, store, kv_send, echo_send, _ports: (kv_port, echo_port, set) }
}

impl Server {
    fn kv_client(&self, send: libmach::abi::PortName) -> kv::Client<FakeKernel> {
        kv::Client::new(&self.client_task, SendRight::from_name(&self.client_task, send)).unwrap()
    }

    /// Sends a bare message with `id` to `destination` and returns the reply's code.
    fn raw_call(&self, destination: libmach::abi::PortName, id: i32) -> Result<i32, libmach::RpcError> {
        let mut reply_port = ReceiveRight::allocate(&self.client_task).unwrap();
        let mut buffer = vec![0u8; 64];
        let writer = MessageWriter::new(&mut buffer, libmach::rpc::request_header(destination, reply_port.name(), id));
        let length = writer.finish().unwrap();
        libmach::rpc::call(&self.client_task, &mut reply_port, &mut buffer, length, None)?;
        match libmach::rpc::read_reply(&self.client_task, &buffer, id) {
            Err(Ok(code)) => Ok(code),
            Err(Err(error)) => panic!("no reply code: {error:?}"),
            Ok(_) => panic!("a success reply, not a code"),
        }
    }
}

#[test]
fn two_interfaces_and_notifications_on_one_port_set() {
    let server = server();
    let mut kv_client = server.kv_client(server.kv_send);
    let mut echo_client =
        echo::Client::new(&server.client_task, SendRight::from_name(&server.client_task, server.echo_send)).unwrap();

    kv_client.put("n", b"1").unwrap();
    assert_eq!(echo_client.even(8).unwrap(), 4);
    assert_eq!(kv_client.get("n").unwrap().as_slice(), b"1");
    assert_eq!(echo_client.even(3).unwrap_err(), CallError::Interface(echo::Error::Odd));
    // A message id neither interface knows, through either port, is answered MIG_BAD_ID by the loop.
    assert_eq!(server.raw_call(server.echo_send, 1), Ok(libmach::mig::MIG_BAD_ID));
    server.system.check_invariants().unwrap();
}

#[test]
fn a_request_finds_its_object_by_the_port_it_came_in_on_and_no_senders_frees_it() {
    let server = server();
    let mut kv_client = server.kv_client(server.kv_send);
    let first = kv_client.open_session("first").unwrap();
    let second = kv_client.open_session("second").unwrap();
    assert_eq!(server.store.borrow().session_names().count(), 2);
    let mut first = server.kv_client(first.into_name());
    let mut second = server.kv_client(second.into_name());
    assert_eq!(first.session_label().unwrap().as_str(), "first");
    assert_eq!(second.session_label().unwrap().as_str(), "second");
    // The service port is no session.
    assert_eq!(kv_client.session_label().unwrap_err(), CallError::Interface(kv::Error::NotFound));

    // A task cannot fake the kernel's notification: the session stays.
    let no_senders = libmach::abi::NotifyId::NoSenders.as_u32() as i32;
    assert_eq!(server.raw_call(first.server().name(), no_senders), Ok(libmach::mig::MIG_BAD_ID));
    assert_eq!(server.store.borrow().session_names().count(), 2);

    // The client's last send right to a session goes: the kernel's
    // no-senders notification arrives on that port, and the store frees it.
    drop(first);
    server.system.run_servers();
    let names: Vec<_> = server.store.borrow().session_names().collect();
    assert_eq!(names.len(), 1);
    assert_eq!(second.session_label().unwrap().as_str(), "second");
    drop(second);
    server.system.run_servers();
    assert_eq!(server.store.borrow().session_names().count(), 0);
    // Everything the sessions held is gone from the server's space.
    assert_eq!(server.system.name_count(&server.server_task), 3, "the kv and echo ports and their set");
    server.system.check_invariants().unwrap();
}
