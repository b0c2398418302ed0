//! The smallest interface (no errors, no results) generates code that runs.

use std::cell::RefCell;
use std::rc::Rc;

use libmach::fake::{FakeKernel, FakeSystem};
use libmach::{ReceiveRight, SendRight};
use mach_kv_example::minimal;

#[derive(Default)]
struct Counter {
    pings: u32,
    pokes: Vec<u32>,
}

impl minimal::Server<FakeKernel> for Counter {
    fn ping(&mut self, _context: &libmach::Context<'_, FakeKernel>) -> Result<(), minimal::Error> {
        self.pings += 1;
        Ok(())
    }

    fn poke(&mut self, _context: &libmach::Context<'_, FakeKernel>, value: u32) {
        self.pokes.push(value);
    }
}

#[test]
fn ping_and_poke() {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let counter = Rc::new(RefCell::new(Counter::default()));
    let (handler_counter, handler_kernel) = (counter.clone(), server_task.clone());
    system.attach_server(&server_task, service.name(), minimal::BUFFER_SIZE, move |request, reply| {
        minimal::dispatch(&mut *handler_counter.borrow_mut(), &handler_kernel, request, reply)
    });
    let send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    let mut client = minimal::Client::new(&client_task, SendRight::from_name(&client_task, send)).unwrap();
    client.ping().unwrap();
    client.poke(9).unwrap();
    client.ping().unwrap();
    assert_eq!(counter.borrow().pings, 2);
    assert_eq!(counter.borrow().pokes, vec![9]);
    assert_eq!(minimal::Error::from_code(1), None);
    system.check_invariants().unwrap();
}

#[test]
fn clients_can_share_one_reply_port() {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let counter = Rc::new(RefCell::new(Counter::default()));
    let (handler_counter, handler_kernel) = (counter.clone(), server_task.clone());
    system.attach_server(&server_task, service.name(), minimal::BUFFER_SIZE, move |request, reply| {
        minimal::dispatch(&mut *handler_counter.borrow_mut(), &handler_kernel, request, reply)
    });
    let send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    let mut server = SendRight::from_name(&client_task, send);
    let mut reply_port = ReceiveRight::allocate(&client_task).unwrap();
    let reply_name = reply_port.name();
    // Three clients in turn, each lent the same reply port and giving it back.
    for _ in 0..3 {
        let mut client = minimal::Client::with_reply_port(&client_task, server, reply_port);
        assert_eq!(client.reply_port().name(), reply_name);
        client.ping().unwrap();
        (server, reply_port) = client.into_parts();
    }
    assert_eq!(reply_port.name(), reply_name);
    assert_eq!(server.name(), send);
    assert_eq!(counter.borrow().pings, 3);
    drop((server, reply_port));
    system.check_invariants().unwrap();
}
