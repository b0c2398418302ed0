//! One server task serving two interfaces on two ports gathered in a port
//! set, with their dispatch functions chained: the shape of a personality
//! server that answers several protocols.

use std::cell::RefCell;
use std::rc::Rc;

use libmach::fake::FakeSystem;
use libmach::{Dispatch, PortSet, ReceiveRight, SendRight};
use mach_kv_example::store::Store;
use mach_kv_example::{echo, kv};

struct Halver;

impl echo::Server<libmach::fake::FakeKernel> for Halver {
    fn integers(
        &mut self,
        _context: &libmach::Context<'_, libmach::fake::FakeKernel>,
        _: u8,
        _: u16,
        _: u32,
        _: u64,
        _: i8,
        _: i16,
        _: i32,
        _: i64,
        _: bool,
    ) -> Result<echo::IntegersReply, echo::Error> {
        Err(echo::Error::Refused)
    }
    fn texts(
        &mut self,
        _context: &libmach::Context<'_, libmach::fake::FakeKernel>,
        _: &str,
        _: &[u8],
    ) -> Result<echo::TextsReply, echo::Error> {
        Err(echo::Error::Refused)
    }
    fn nothing(&mut self, _context: &libmach::Context<'_, libmach::fake::FakeKernel>) -> Result<(), echo::Error> {
        Ok(())
    }
    fn rights(
        &mut self,
        _context: &libmach::Context<'_, libmach::fake::FakeKernel>,
        _: SendRight<libmach::fake::FakeKernel>,
        _: SendRight<libmach::fake::FakeKernel>,
        _: libmach::SendOnceRight<libmach::fake::FakeKernel>,
        _: libmach::SendOnceRight<libmach::fake::FakeKernel>,
        _: ReceiveRight<libmach::fake::FakeKernel>,
    ) -> Result<echo::RightsReply<libmach::fake::FakeKernel>, echo::Error> {
        Err(echo::Error::Refused)
    }
    fn even(
        &mut self,
        _context: &libmach::Context<'_, libmach::fake::FakeKernel>,
        number: u32,
    ) -> Result<u32, echo::Error> {
        if number % 2 == 1 {
            return Err(echo::Error::Odd);
        }
        Ok(number / 2)
    }
    fn after_skip(&mut self, _context: &libmach::Context<'_, libmach::fake::FakeKernel>) -> Result<i32, echo::Error> {
        Ok(0)
    }
    fn note(&mut self, _context: &libmach::Context<'_, libmach::fake::FakeKernel>, _: u64) {}
    fn reflect(
        &mut self,
        _context: &libmach::Context<'_, libmach::fake::FakeKernel>,
        _: libmach::message::OutOfLineData<libmach::fake::FakeKernel>,
    ) -> Result<libmach::message::OutOfLineData<libmach::fake::FakeKernel>, echo::Error> {
        Err(echo::Error::Refused)
    }
}

#[test]
fn two_interfaces_on_one_port_set() {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let kv_port = ReceiveRight::allocate(&server_task).unwrap();
    let echo_port = ReceiveRight::allocate(&server_task).unwrap();
    let set = PortSet::allocate(&server_task).unwrap();
    set.insert(&kv_port).unwrap();
    set.insert(&echo_port).unwrap();

    let store = Rc::new(RefCell::new(Store::new(&server_task)));
    let handler_store = store.clone();
    let handler_kernel = server_task.clone();
    let mut halver = Halver;
    let buffer_size = kv::BUFFER_SIZE.max(echo::BUFFER_SIZE);
    system.attach_server(&server_task, set.name(), buffer_size, move |request, reply| {
        // Each dispatch leaves ids outside its interface untouched.
        match kv::dispatch(&mut *handler_store.borrow_mut(), &handler_kernel, request, reply) {
            Dispatch::UnknownId => echo::dispatch(&mut halver, &handler_kernel, request, reply),
            handled => handled,
        }
    });
    let kv_send = system.give_send_right(&server_task, kv_port.name(), &client_task).unwrap();
    let echo_send = system.give_send_right(&server_task, echo_port.name(), &client_task).unwrap();
    let mut kv_client = kv::Client::new(&client_task, SendRight::from_name(&client_task, kv_send)).unwrap();
    let mut echo_client = echo::Client::new(&client_task, SendRight::from_name(&client_task, echo_send)).unwrap();

    kv_client.put("n", b"1").unwrap();
    assert_eq!(echo_client.even(8).unwrap(), 4);
    assert_eq!(kv_client.get("n").unwrap().as_slice(), b"1");
    assert_eq!(echo_client.even(3).unwrap_err(), libmach::CallError::Interface(echo::Error::Odd));
    // A message id neither interface knows, through either port, is answered MIG_BAD_ID by the loop.
    let mut reply_port = ReceiveRight::allocate(&client_task).unwrap();
    let mut buffer = vec![0u8; 64];
    let writer = libmach::message::MessageWriter::new(
        &mut buffer,
        libmach::rpc::request_header(echo_send, reply_port.name(), 1),
    );
    let length = writer.finish().unwrap();
    libmach::rpc::call(&client_task, &mut reply_port, &mut buffer, length, None).unwrap();
    assert!(matches!(libmach::rpc::read_reply(&client_task, &buffer, 1), Err(Ok(libmach::mig::MIG_BAD_ID))));
    system.check_invariants().unwrap();
}
