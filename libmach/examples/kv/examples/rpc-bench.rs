//! Host figures for the generated code: a kv `get` through the generated
//! client, the fake kernel (the kernel's IPC core) and the generated
//! dispatch; and the dispatch alone on a prepared request (checks, decode,
//! server method, reply encoding). No traps, no scheduler: this measures the
//! code mach-idl generates and libmach, not the kernel path.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use libmach::fake::FakeSystem;
use libmach::message::MessageWriter;
use libmach::{ReceiveRight, SendRight};
use mach_kv_example::kv;
use mach_kv_example::kv::Server;
use mach_kv_example::store::Store;

fn per_iteration(iterations: u32, mut body: impl FnMut()) -> f64 {
    for _ in 0..iterations / 10 {
        body();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        body();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

fn main() {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).expect("allocate");
    let store = Rc::new(RefCell::new(Store::new(&server_task)));
    let (handler_store, handler_kernel) = (store.clone(), server_task.clone());
    system.attach_server(&server_task, service.name(), kv::BUFFER_SIZE, move |request, reply| {
        kv::dispatch(&mut *handler_store.borrow_mut(), &handler_kernel, request, reply)
    });
    let send = system.give_send_right(&server_task, service.name(), &client_task).expect("send right");
    let mut client = kv::Client::new(&client_task, SendRight::from_name(&client_task, send)).expect("client");
    client.put("key", &[7; 64]).expect("put");

    let rpc = per_iteration(100_000, || {
        let value = client.get("key").expect("get");
        std::hint::black_box(value);
    });
    println!("kv get, 64-byte value, client stub -> fake kernel -> dispatch -> reply: {rpc:.0} ns per call");

    let count = per_iteration(100_000, || {
        std::hint::black_box(client.count().expect("count"));
    });
    println!("kv count (no arguments, two results), same path: {count:.0} ns per call");

    // The dispatch alone, on a request as the kernel delivers it (header,
    // inline data, trailer) with a reply port name it never sends through.
    let mut request = vec![0u8; 256];
    let mut header = libmach::rpc::request_header(service.name(), 0, kv::id::GET);
    header.bits =
        libmach::abi::msgh_bits(libmach::abi::MACH_MSG_TYPE_PORT_SEND_ONCE, libmach::abi::MACH_MSG_TYPE_PORT_SEND);
    header.remote_port = 0x4400;
    let mut writer = MessageWriter::new(&mut request, header);
    writer.string("key", 64).expect("string");
    let length = writer.finish().expect("finish");
    request.truncate(length);
    request.extend_from_slice(&[0u8; 16]);
    let mut local_store = Store::new(&server_task);
    let received_header = libmach::abi::MachMsgHeader::read_from(&request).expect("header");
    let context = libmach::Context::new(&server_task, &received_header, &request);
    local_store.put(&context, "key", &[7; 64]).expect("put");
    let mut reply = vec![0u8; kv::BUFFER_SIZE];
    let dispatch = per_iteration(1_000_000, || {
        std::hint::black_box(kv::dispatch(&mut local_store, &server_task, &request, &mut reply));
    });
    println!("kv::dispatch of a get (parse, checks, decode, lookup, reply encoding): {dispatch:.0} ns per request");
}
