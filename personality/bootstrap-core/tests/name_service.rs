//! The name service through its generated client and dispatch, on the fake
//! kernel (the kernel's own IPC core): a server task running
//! [`NameServer`] with one port per client (as the bootstrap task has one
//! bootstrap port per child), client tasks holding send rights to theirs.

use libmach::abi::{PortName, PortRight, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::{ExpectedRight, MessageWriter};
use libmach::{CallError, PortKernel, ReceiveRight, RpcError, SendRight};
use mach_bootstrap_core::names::{self, Error};
use mach_bootstrap_core::registry::ENTRIES_MAX;
use mach_bootstrap_core::server::{NameServer, Requester};
use mach_bootstrap_core::waiters::{WAITERS_MAX, WAITERS_PER_CLIENT_MAX};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Which names a client may register.
#[derive(Clone)]
enum May {
    Any,
    Only(&'static [&'static str]),
}

struct Machine {
    system: FakeSystem,
    server: FakeKernel,
    names: Rc<RefCell<NameServer<FakeKernel>>>,
    /// The name service's clock (ms).
    now: Rc<Cell<u64>>,
    /// Set when the last request registered a name.
    registered: Rc<Cell<bool>>,
    watch_succeeds: bool,
    clients: Cell<usize>,
}

struct Client {
    task: FakeKernel,
    names: names::Client<FakeKernel>,
    index: usize,
}

/// A name-service task; `watch_succeeds` is what its dead-name watch says.
fn machine(watch_succeeds: bool) -> Machine {
    let system = FakeSystem::new();
    let server = system.task();
    let names = Rc::new(RefCell::new(NameServer::new(server.clone())));
    Machine {
        system,
        server,
        names,
        now: Rc::new(Cell::new(0)),
        registered: Rc::new(Cell::new(false)),
        watch_succeeds,
        clients: Cell::new(0),
    }
}

impl Machine {
    /// A client task with its own port at the name service.
    fn client(&self, may: May) -> Client {
        let index = self.clients.get();
        self.clients.set(index + 1);
        let port = self.server.port_allocate(PortRight::Receive).unwrap();
        let (names, now, registered, watch) =
            (self.names.clone(), self.now.clone(), self.registered.clone(), self.watch_succeeds);
        self.system.attach_server(&self.server, port, names::BUFFER_SIZE, move |request, reply| {
            let allowed = |name: &str| match &may {
                May::Any => true,
                May::Only(list) => list.contains(&name),
            };
            let mut names = names.borrow_mut();
            let requester = Requester { client: index, may_register: &allowed };
            let (dispatch, did_register) = names.handle(&requester, request, reply, now.get(), |_| watch);
            registered.set(did_register);
            // As the bootstrap task does after every message.
            names.answer_waiting(now.get());
            dispatch
        });
        let task = self.system.task();
        let name = self.system.give_send_right(&self.server, port, &task).unwrap();
        let names = names::Client::new(&task, SendRight::from_name(&task, name)).unwrap();
        Client { task, names, index }
    }

    /// The bootstrap task's timer: answers what timed out by `now`.
    fn advance_to(&self, now: u64) -> usize {
        self.now.set(now);
        self.names.borrow_mut().answer_waiting(now)
    }
}

fn code<T>(result: Result<T, CallError<Error>>) -> Result<T, Error> {
    result.map_err(|error| match error {
        CallError::Interface(error) => error,
        other => panic!("transport failure: {other:?}"),
    })
}

/// Sends `lookup_wait(name, timeout)` without waiting for the answer (as
/// the generated stub writes it); returns the reply port to read it from.
fn send_lookup_wait(client: &Client, name: &str, timeout: u32) -> PortName {
    let task = &client.task;
    let reply = task.reply_port().unwrap();
    let mut buffer = libmach::trap::MessageBuffer::<{ names::BUFFER_SIZE }>::new();
    let header = libmach::rpc::request_header(client.names.server().name(), reply, names::id::LOOKUP_WAIT);
    let mut writer = MessageWriter::new(&mut buffer.0, header);
    writer.string(name, 64).unwrap();
    writer.u32(timeout).unwrap();
    let length = writer.finish().unwrap();
    task.mach_msg(&mut buffer.0, MACH_SEND_MSG, length, 0, 0).unwrap();
    reply
}

/// The answer waiting on `reply`, if any: the right's name or the error code.
fn answer(client: &Client, reply: PortName) -> Option<Result<PortName, i32>> {
    let task = &client.task;
    let mut buffer = libmach::trap::MessageBuffer::<{ names::BUFFER_SIZE }>::new();
    task.mach_msg(&mut buffer.0, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply, 0).ok()?;
    let _ = task.port_destroy(reply);
    Some(match libmach::rpc::read_reply(task, &buffer.0, names::id::LOOKUP_WAIT) {
        Ok((view, _)) => Ok(libmach::message::expect_port(&view, 0, ExpectedRight::Send).unwrap()),
        Err(Ok(code)) => Err(code),
        Err(Err(error)) => panic!("malformed answer: {error:?}"),
    })
}

#[test]
fn register_lookup_duplicate_unknown_invalid() {
    let machine = machine(true);
    let mut client = machine.client(May::Any);
    let port = ReceiveRight::allocate(&client.task).unwrap();
    let other = ReceiveRight::allocate(&client.task).unwrap();
    assert_eq!(code(client.names.lookup("kv")).map(|_| ()), Err(Error::UnknownName));
    assert!(!machine.registered.get());
    assert_eq!(code(client.names.register_name("kv", &port.make_send().unwrap())), Ok(()));
    assert!(machine.registered.get(), "the service notes that the requester registered");
    let found = code(client.names.lookup("kv")).unwrap();
    assert_eq!(found.name(), port.name(), "the right joins the client's name for its own port");
    assert_eq!(code(client.names.register_name("kv", &other.make_send().unwrap())), Err(Error::NameInUse));
    assert_eq!(code(client.names.lookup("kv")).unwrap().name(), port.name());
    assert_eq!(code(client.names.lookup("")).map(|_| ()), Err(Error::InvalidName));
    // A NUL never travels in a `string<N>`: the stub refuses it (and a dispatch would).
    assert!(
        matches!(client.names.lookup("a\0b"), Err(CallError::Rpc(RpcError::Write(libmach::WriteError::NulInString)))),
        "the stub refuses a NUL"
    );
    assert_eq!(code(client.names.register_name("", &other.make_send().unwrap())), Err(Error::InvalidName));
    let long = "x".repeat(65);
    assert!(matches!(client.names.lookup(&long), Err(CallError::Rpc(RpcError::Write(_)))), "the stub refuses it");
    machine.system.check_invariants().unwrap();
}

#[test]
fn another_client_finds_what_one_registered() {
    let machine = machine(true);
    let mut server = machine.client(May::Any);
    let mut other = machine.client(May::Any);
    let port = ReceiveRight::allocate(&server.task).unwrap();
    code(server.names.register_name("service", &port.make_send().unwrap())).unwrap();
    let right = code(other.names.lookup("service")).unwrap();
    assert!(!right.is_dead());
    // The server holds one reference per registration; each lookup made one more and moved it.
    assert_eq!(machine.names.borrow().registry().len(), 1);
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_dead_servers_name_is_free_again() {
    let machine = machine(true);
    let mut client = machine.client(May::Any);
    let port = ReceiveRight::allocate(&client.task).unwrap();
    code(client.names.register_name("kv", &port.make_send().unwrap())).unwrap();
    drop(port); // the server's port dies; the registry's right becomes a dead name
    let replacement = ReceiveRight::allocate(&client.task).unwrap();
    assert_eq!(code(client.names.register_name("kv", &replacement.make_send().unwrap())), Ok(()));
    assert_eq!(code(client.names.lookup("kv")).unwrap().name(), replacement.name());
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_dead_right_is_refused_and_an_unwatched_one_released() {
    let machine = machine(false);
    let mut client = machine.client(May::Any);
    let port = ReceiveRight::allocate(&client.task).unwrap();
    let send = port.make_send().unwrap();
    let names_before = machine.system.name_count(&machine.server);
    assert_eq!(code(client.names.register_name("kv", &send)), Err(Error::DeadRight), "a watch that fails refuses");
    assert_eq!(machine.system.name_count(&machine.server), names_before, "and the right is not kept");
    assert!(machine.names.borrow().registry().is_empty());
    drop(port);
    assert_eq!(code(client.names.register_name("kv", &send)), Err(Error::DeadRight), "a dead name is refused");
    machine.system.check_invariants().unwrap();
}

#[test]
fn the_registry_fills_up_and_says_so() {
    let machine = machine(true);
    let mut client = machine.client(May::Any);
    let port = ReceiveRight::allocate(&client.task).unwrap();
    let send = port.make_send().unwrap();
    for index in 0..ENTRIES_MAX {
        assert_eq!(code(client.names.register_name(&format!("name{index}"), &send)), Ok(()));
    }
    assert_eq!(code(client.names.register_name("one more", &send)), Err(Error::RegistryFull));
    // One port, many names: the service's one name for it holds a reference per name.
    assert_eq!(machine.names.borrow().registry().len(), ENTRIES_MAX);
    machine.system.check_invariants().unwrap();
}

#[test]
fn only_the_program_the_manifest_names_may_register_a_name() {
    let machine = machine(true);
    let mut file_server = machine.client(May::Only(&["fs"]));
    let mut impostor = machine.client(May::Only(&["other"]));
    let impostor_port = ReceiveRight::allocate(&impostor.task).unwrap();
    let impostor_right = impostor_port.make_send().unwrap();
    assert_eq!(code(impostor.names.register_name("fs", &impostor_right)), Err(Error::NotPermitted), "while free");
    let port = ReceiveRight::allocate(&file_server.task).unwrap();
    assert_eq!(code(file_server.names.register_name("fs", &port.make_send().unwrap())), Ok(()));
    assert_eq!(code(file_server.names.register_name("other", &port.make_send().unwrap())), Err(Error::NotPermitted));
    // The file server dies (its port with it): the name is free, but not to the impostor.
    drop(port);
    assert_eq!(code(impostor.names.register_name("fs", &impostor_right)), Err(Error::NotPermitted), "while restarting");
    let restarted = ReceiveRight::allocate(&file_server.task).unwrap();
    assert_eq!(code(file_server.names.register_name("fs", &restarted.make_send().unwrap())), Ok(()));
    assert_ne!(code(impostor.names.lookup("fs")).unwrap().name(), impostor_port.name());
    assert_eq!(code(impostor.names.register_name("", &impostor_right)), Err(Error::InvalidName), "checked first");
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_waiting_lookup_is_answered_when_the_name_is_registered() {
    let machine = machine(true);
    let waiter = machine.client(May::Only(&[]));
    let mut server = machine.client(May::Only(&["late"]));
    let mut bystander = machine.client(May::Only(&["quick"]));
    let reply = send_lookup_wait(&waiter, "late", 5000);
    machine.system.run_servers();
    assert_eq!(answer(&waiter, reply), None, "it waits");
    assert_eq!(machine.names.borrow().waiting(), 1);
    // The service goes on meanwhile.
    let quick = ReceiveRight::allocate(&bystander.task).unwrap();
    assert_eq!(code(bystander.names.register_name("quick", &quick.make_send().unwrap())), Ok(()));
    assert!(code(bystander.names.lookup("quick")).is_ok());
    assert_eq!(answer(&waiter, reply), None, "another name does not answer it");
    machine.advance_to(4999);
    assert_eq!(answer(&waiter, reply), None, "not yet timed out");
    let port = ReceiveRight::allocate(&server.task).unwrap();
    code(server.names.register_name("late", &port.make_send().unwrap())).unwrap();
    let right = answer(&waiter, reply).expect("answered at the registration").expect("with the right");
    assert_eq!(waiter.task.port_type(right), Ok(libmach::abi::MACH_PORT_TYPE_SEND));
    assert_eq!(machine.names.borrow().waiting(), 0);
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_waiting_lookup_times_out() {
    let machine = machine(true);
    let waiter = machine.client(May::Only(&[]));
    machine.advance_to(1000);
    let reply = send_lookup_wait(&waiter, "never", 50);
    machine.system.run_servers();
    assert_eq!(machine.names.borrow().next_deadline(), Some(1050));
    assert_eq!(machine.advance_to(1049), 0);
    assert_eq!(answer(&waiter, reply), None);
    assert_eq!(machine.advance_to(1050), 1);
    assert_eq!(answer(&waiter, reply), Some(Err(Error::TimedOut.code())));
    // No timeout: answered at once.
    let mut waiter = waiter;
    assert_eq!(code(waiter.names.lookup_wait("never", 0)).map(|_| ()), Err(Error::TimedOut));
    assert_eq!(code(waiter.names.lookup_wait("", 10)).map(|_| ()), Err(Error::InvalidName));
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_registered_name_is_answered_at_once() {
    let machine = machine(true);
    let mut server = machine.client(May::Only(&["here"]));
    let mut client = machine.client(May::Only(&[]));
    let port = ReceiveRight::allocate(&server.task).unwrap();
    code(server.names.register_name("here", &port.make_send().unwrap())).unwrap();
    assert!(code(client.names.lookup_wait("here", 1000)).is_ok());
    // A dead registration does not count: it waits for the restarted server.
    drop(port);
    let reply = send_lookup_wait(&client, "here", 1000);
    machine.system.run_servers();
    assert_eq!(answer(&client, reply), None);
    let restarted = ReceiveRight::allocate(&server.task).unwrap();
    code(server.names.register_name("here", &restarted.make_send().unwrap())).unwrap();
    assert!(matches!(answer(&client, reply), Some(Ok(_))));
    machine.system.check_invariants().unwrap();
}

#[test]
fn waiting_lookups_are_bounded_per_client_and_in_all() {
    let machine = machine(true);
    let mut greedy = machine.client(May::Only(&[]));
    let mut replies = Vec::new();
    for _ in 0..WAITERS_PER_CLIENT_MAX {
        replies.push(send_lookup_wait(&greedy, "never", 100));
    }
    machine.system.run_servers();
    assert_eq!(code(greedy.names.lookup_wait("never", 100)).map(|_| ()), Err(Error::TooManyWaiters));
    let mut others: Vec<Client> = Vec::new();
    while machine.names.borrow().waiting() < WAITERS_MAX {
        let other = machine.client(May::Only(&[]));
        for _ in 0..WAITERS_PER_CLIENT_MAX.min(WAITERS_MAX - machine.names.borrow().waiting()) {
            send_lookup_wait(&other, "never", 100);
        }
        machine.system.run_servers();
        others.push(other);
    }
    let mut late = machine.client(May::Only(&[]));
    assert_eq!(code(late.names.lookup_wait("never", 100)).map(|_| ()), Err(Error::TooManyWaiters), "full");
    assert_eq!(machine.advance_to(100), WAITERS_MAX, "every one times out");
    for reply in replies {
        assert_eq!(answer(&greedy, reply), Some(Err(Error::TimedOut.code())));
    }
    machine.system.check_invariants().unwrap();
}

#[test]
fn an_ended_clients_waiting_lookups_are_dropped_and_their_rights_released() {
    let machine = machine(true);
    let waiter = machine.client(May::Only(&[]));
    let names_before = machine.system.name_count(&machine.server);
    let reply = send_lookup_wait(&waiter, "never", 100);
    machine.system.run_servers();
    assert_eq!(machine.system.name_count(&machine.server), names_before + 1, "the kept reply right");
    assert_eq!(machine.names.borrow_mut().forget_client(waiter.index), 1);
    assert_eq!(machine.system.name_count(&machine.server), names_before);
    assert_eq!(machine.advance_to(1000), 0);
    // The reply port hears that nobody will answer (a send-once notification).
    assert_eq!(machine.system.queued_messages(&waiter.task, reply), 1);
    machine.system.check_invariants().unwrap();
}

#[test]
fn malformed_requests_get_mig_errors_and_the_service_goes_on() {
    use libmach::abi::{msgh_bits, Disposition, MachMsgHeader, MessageEncoder};
    let machine = machine(true);
    let mut client = machine.client(May::Any);
    let task = client.task.clone();
    let service = client.names.server().name();
    let call = |id: i32, data: &[u8]| -> i32 {
        let reply = task.reply_port().unwrap();
        let mut buffer = [0u8; 256];
        let header = MachMsgHeader {
            bits: msgh_bits(Disposition::CopySend as u32, Disposition::MakeSendOnce as u32),
            size: 0,
            remote_port: service,
            local_port: reply,
            voucher_port: 0,
            id,
        };
        let mut encoder = MessageEncoder::new(&mut buffer, header, false);
        encoder.inline_data(data).unwrap();
        let length = encoder.finish().unwrap();
        task.mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, length, reply, 0).unwrap();
        i32::from_le_bytes(buffer[24..28].try_into().unwrap())
    };
    assert_eq!(call(999, &[]), libmach::mig::MIG_BAD_ID);
    assert_eq!(call(names::id::LOOKUP, &[]), libmach::mig::MIG_BAD_ARGUMENTS);
    assert_eq!(call(names::id::LOOKUP, &[200, 0, 0, 0, b'k', b'v', 0, 0]), libmach::mig::MIG_BAD_ARGUMENTS);
    assert_eq!(call(names::id::REGISTER_NAME, &[2, 0, 0, 0, b'k', b'v', 0, 0]), libmach::mig::MIG_BAD_ARGUMENTS);
    assert_eq!(call(names::id::LOOKUP_WAIT, &[2, 0, 0, 0, b'k', b'v', 0, 0]), libmach::mig::MIG_BAD_ARGUMENTS);
    assert_eq!(machine.names.borrow().waiting(), 0, "a malformed waiting lookup is not kept");
    assert_eq!(code(client.names.lookup("kv")).map(|_| ()), Err(Error::UnknownName), "still serving");
    machine.system.check_invariants().unwrap();
}

mod model {
    //! Random register / lookup / waiting lookup / port-death / time
    //! sequences from three clients, against a model of what the service
    //! must answer and when.
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 4] = ["kv", "fs", "console", "x"];
    /// What each client may register (two may register "x": the
    /// manifest would refuse that, the service must still be consistent).
    const MAY: [&[&str]; 3] = [&["kv", "x"], &["fs"], &["console", "x"]];

    /// `MACH_PROPTEST_CASES` (scripts/fuzz.d/bootstrap) or `default`.
    fn cases(default: u32) -> u32 {
        std::env::var("MACH_PROPTEST_CASES").ok().and_then(|value| value.parse().ok()).unwrap_or(default)
    }

    #[derive(Clone, Debug)]
    enum Operation {
        Register { client: usize, name: usize, port: usize },
        Lookup { client: usize, name: usize },
        LookupWait { client: usize, name: usize, timeout: u32 },
        KillPort { client: usize, port: usize },
        Advance { milliseconds: u64 },
    }

    fn operation() -> impl Strategy<Value = Operation> {
        prop_oneof![
            (0..3usize, 0..NAMES.len(), 0..2usize).prop_map(|(client, name, port)| Operation::Register {
                client,
                name,
                port
            }),
            (0..3usize, 0..NAMES.len()).prop_map(|(client, name)| Operation::Lookup { client, name }),
            (0..3usize, 0..NAMES.len(), 0..40u32).prop_map(|(client, name, timeout)| Operation::LookupWait {
                client,
                name,
                timeout
            }),
            (0..3usize, 0..2usize).prop_map(|(client, port)| Operation::KillPort { client, port }),
            (0..30u64).prop_map(|milliseconds| Operation::Advance { milliseconds }),
        ]
    }

    /// A waiting lookup the model expects an answer to.
    struct Pending {
        client: usize,
        name: usize,
        deadline: u64,
        reply: PortName,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(64)))]
        #[test]
        fn the_service_answers_as_the_model_says(operations in proptest::collection::vec(operation(), 1..50)) {
            let machine = machine(true);
            let mut clients: Vec<Client> = MAY.iter().map(|may| machine.client(May::Only(may))).collect();
            // Each client's two ports; a killed one is replaced by a fresh port.
            let mut ports: Vec<Vec<ReceiveRight<FakeKernel>>> = clients
                .iter()
                .map(|client| (0..2).map(|_| ReceiveRight::allocate(&client.task).unwrap()).collect())
                .collect();
            let mut generation = vec![vec![0u32; 2]; 3];
            // name -> (client, port, generation) as registered.
            let mut model: std::collections::BTreeMap<usize, (usize, usize, u32)> = Default::default();
            let mut pending: Vec<Pending> = Vec::new();
            for operation in operations {
                let live = |model: &std::collections::BTreeMap<usize, (usize, usize, u32)>, generation: &Vec<Vec<u32>>, name: usize| {
                    model.get(&name).is_some_and(|&(c, p, g)| generation[c][p] == g)
                };
                match operation {
                    Operation::Register { client, name, port } => {
                        let right = ports[client][port].make_send().unwrap();
                        let got = code(clients[client].names.register_name(NAMES[name], &right));
                        if !MAY[client].contains(&NAMES[name]) {
                            prop_assert_eq!(got, Err(Error::NotPermitted));
                        } else if live(&model, &generation, name) {
                            prop_assert_eq!(got, Err(Error::NameInUse));
                        } else {
                            prop_assert_eq!(got, Ok(()));
                            model.insert(name, (client, port, generation[client][port]));
                        }
                    }
                    Operation::Lookup { client, name } => {
                        let got = code(clients[client].names.lookup(NAMES[name]));
                        match model.get(&name) {
                            Some(&(owner, port, registered)) if generation[owner][port] == registered => {
                                let right = got.map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
                                if owner == client {
                                    prop_assert_eq!(right.name(), ports[owner][port].name());
                                }
                            }
                            Some(_) => {} // a dead registration: the dead right or unknown
                            None => prop_assert_eq!(got.map(|_| ()), Err(Error::UnknownName)),
                        }
                    }
                    Operation::LookupWait { client, name, timeout } => {
                        let now = machine.now.get();
                        let mine = pending.iter().filter(|wait| wait.client == client).count();
                        let reply = send_lookup_wait(&clients[client], NAMES[name], timeout);
                        machine.system.run_servers();
                        let got = answer(&clients[client], reply);
                        if live(&model, &generation, name) {
                            prop_assert!(matches!(got, Some(Ok(_))), "{:?}", got);
                        } else if timeout == 0 {
                            prop_assert_eq!(got, Some(Err(Error::TimedOut.code())));
                        } else if mine >= WAITERS_PER_CLIENT_MAX {
                            prop_assert_eq!(got, Some(Err(Error::TooManyWaiters.code())));
                        } else {
                            prop_assert_eq!(got, None, "it waits");
                            pending.push(Pending { client, name, deadline: now + timeout as u64, reply });
                        }
                    }
                    Operation::KillPort { client, port } => {
                        let task = clients[client].task.clone();
                        ports[client][port] = ReceiveRight::allocate(&task).unwrap();
                        generation[client][port] += 1;
                    }
                    Operation::Advance { milliseconds } => {
                        machine.advance_to(machine.now.get() + milliseconds);
                    }
                }
                // Every waiting lookup is answered exactly when the model says.
                let now = machine.now.get();
                let mut still = Vec::new();
                for wait in pending.drain(..) {
                    let got = answer(&clients[wait.client], wait.reply);
                    if live(&model, &generation, wait.name) {
                        prop_assert!(matches!(got, Some(Ok(_))), "{} registered: {:?}", NAMES[wait.name], got);
                    } else if wait.deadline <= now {
                        prop_assert_eq!(got, Some(Err(Error::TimedOut.code())));
                    } else {
                        prop_assert_eq!(got, None);
                        still.push(wait);
                    }
                }
                pending = still;
                prop_assert_eq!(machine.names.borrow().waiting(), pending.len());
                machine.system.check_invariants().map_err(TestCaseError::fail)?;
            }
            drop(ports);
            for client in &clients {
                machine.names.borrow_mut().forget_client(client.index);
            }
            clients.clear();
            machine.system.check_invariants().map_err(TestCaseError::fail)?;
        }
    }
}
