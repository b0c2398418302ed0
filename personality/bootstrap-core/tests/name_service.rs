//! The name service through its generated client and dispatch, on the fake
//! kernel (the kernel's own IPC core): a server task holding the registry,
//! client tasks holding send rights to its port.

use libmach::abi::{PortName, PortRight};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::{CallError, PortKernel, ReceiveRight, RpcError, SendRight};
use mach_bootstrap_core::names::{self, Error};
use mach_bootstrap_core::registry::{Registry, ENTRIES_MAX};
use mach_bootstrap_core::service::NameService;
use std::cell::RefCell;
use std::rc::Rc;

struct Machine {
    system: FakeSystem,
    server: FakeKernel,
    registry: Rc<RefCell<Registry<PortName>>>,
    registered: Rc<RefCell<bool>>,
    service_port: PortName,
}

/// A name-service task; `watch_succeeds` is what its dead-name watch says.
fn machine(watch_succeeds: bool) -> Machine {
    let system = FakeSystem::new();
    let server = system.task();
    let service_port = server.port_allocate(PortRight::Receive).unwrap();
    let registry = Rc::new(RefCell::new(Registry::default()));
    let registered = Rc::new(RefCell::new(false));
    let (handler_registry, handler_registered, kernel) = (registry.clone(), registered.clone(), server.clone());
    system.attach_server(&server, service_port, names::BUFFER_SIZE, move |request, reply| {
        let mut registry = handler_registry.borrow_mut();
        let mut registered = handler_registered.borrow_mut();
        let mut service = NameService {
            kernel: &kernel,
            registry: &mut registry,
            registered: &mut registered,
            watch: |_| watch_succeeds,
        };
        names::dispatch(&mut service, &kernel, request, reply)
    });
    Machine { system, server, registry, registered, service_port }
}

impl Machine {
    fn client(&self) -> (FakeKernel, names::Client<FakeKernel>) {
        let task = self.system.task();
        let name = self.system.give_send_right(&self.server, self.service_port, &task).unwrap();
        let client = names::Client::new(&task, SendRight::from_name(&task, name)).unwrap();
        (task, client)
    }
}

fn code<T>(result: Result<T, CallError<Error>>) -> Result<T, Error> {
    result.map_err(|error| match error {
        CallError::Interface(error) => error,
        other => panic!("transport failure: {other:?}"),
    })
}

#[test]
fn register_lookup_duplicate_unknown_invalid() {
    let machine = machine(true);
    let (task, mut client) = machine.client();
    let port = ReceiveRight::allocate(&task).unwrap();
    let other = ReceiveRight::allocate(&task).unwrap();
    assert_eq!(code(client.lookup("kv")).map(|_| ()), Err(Error::UnknownName));
    assert!(!*machine.registered.borrow());
    assert_eq!(code(client.register_name("kv", &port.make_send().unwrap())), Ok(()));
    assert!(*machine.registered.borrow(), "the service notes that the requester registered");
    let found = code(client.lookup("kv")).unwrap();
    assert_eq!(found.name(), port.name(), "the right joins the client's name for its own port");
    assert_eq!(code(client.register_name("kv", &other.make_send().unwrap())), Err(Error::NameInUse));
    assert_eq!(code(client.lookup("kv")).unwrap().name(), port.name());
    assert_eq!(code(client.lookup("")).map(|_| ()), Err(Error::InvalidName));
    // A NUL never travels in a `string<N>`: the stub refuses it (and a dispatch would).
    assert!(
        matches!(client.lookup("a\0b"), Err(CallError::Rpc(RpcError::Write(libmach::WriteError::NulInString)))),
        "the stub refuses a NUL"
    );
    assert_eq!(code(client.register_name("", &other.make_send().unwrap())), Err(Error::InvalidName));
    let long = "x".repeat(65);
    assert!(matches!(client.lookup(&long), Err(CallError::Rpc(RpcError::Write(_)))), "the stub refuses it");
    machine.system.check_invariants().unwrap();
}

#[test]
fn another_client_finds_what_one_registered() {
    let machine = machine(true);
    let (server_task, mut server_client) = machine.client();
    let (_, mut other_client) = machine.client();
    let port = ReceiveRight::allocate(&server_task).unwrap();
    code(server_client.register_name("service", &port.make_send().unwrap())).unwrap();
    let right = code(other_client.lookup("service")).unwrap();
    assert!(!right.is_dead());
    // The server holds one reference per registration; each lookup made one more and moved it.
    assert_eq!(machine.registry.borrow().len(), 1);
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_dead_servers_name_is_free_again() {
    let machine = machine(true);
    let (task, mut client) = machine.client();
    let port = ReceiveRight::allocate(&task).unwrap();
    code(client.register_name("kv", &port.make_send().unwrap())).unwrap();
    drop(port); // the server's port dies; the registry's right becomes a dead name
    let replacement = ReceiveRight::allocate(&task).unwrap();
    assert_eq!(code(client.register_name("kv", &replacement.make_send().unwrap())), Ok(()));
    assert_eq!(code(client.lookup("kv")).unwrap().name(), replacement.name());
    machine.system.check_invariants().unwrap();
}

#[test]
fn a_dead_right_is_refused_and_an_unwatched_one_released() {
    let machine = machine(false);
    let (task, mut client) = machine.client();
    let port = ReceiveRight::allocate(&task).unwrap();
    let send = port.make_send().unwrap();
    let names_before = machine.system.name_count(&machine.server);
    assert_eq!(code(client.register_name("kv", &send)), Err(Error::DeadRight), "a watch that fails refuses");
    assert_eq!(machine.system.name_count(&machine.server), names_before, "and the right is not kept");
    assert!(machine.registry.borrow().is_empty());
    drop(port);
    assert_eq!(code(client.register_name("kv", &send)), Err(Error::DeadRight), "a dead name is refused");
    machine.system.check_invariants().unwrap();
}

#[test]
fn the_registry_fills_up_and_says_so() {
    let machine = machine(true);
    let (task, mut client) = machine.client();
    let port = ReceiveRight::allocate(&task).unwrap();
    let send = port.make_send().unwrap();
    for index in 0..ENTRIES_MAX {
        assert_eq!(code(client.register_name(&format!("name{index}"), &send)), Ok(()));
    }
    assert_eq!(code(client.register_name("one more", &send)), Err(Error::RegistryFull));
    // One port, many names: the service's one name for it holds a reference per name.
    assert_eq!(machine.registry.borrow().len(), ENTRIES_MAX);
    machine.system.check_invariants().unwrap();
}

#[test]
fn malformed_requests_get_mig_errors_and_the_service_goes_on() {
    use libmach::abi::{msgh_bits, Disposition, MachMsgHeader, MessageEncoder, MACH_RCV_MSG, MACH_SEND_MSG};
    let machine = machine(true);
    let (task, mut client) = machine.client();
    let service = client.server().name();
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
    assert_eq!(code(client.lookup("kv")).map(|_| ()), Err(Error::UnknownName), "still serving");
    machine.system.check_invariants().unwrap();
}

mod model {
    //! Random register / lookup / port-death sequences from three clients,
    //! against a model of what the service must answer.
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 4] = ["kv", "fs", "console", "x"];

    /// `MACH_PROPTEST_CASES` (scripts/fuzz.d/bootstrap) or `default`.
    fn cases(default: u32) -> u32 {
        std::env::var("MACH_PROPTEST_CASES").ok().and_then(|value| value.parse().ok()).unwrap_or(default)
    }

    #[derive(Clone, Debug)]
    enum Operation {
        Register { client: usize, name: usize, port: usize },
        Lookup { client: usize, name: usize },
        KillPort { client: usize, port: usize },
    }

    fn operation() -> impl Strategy<Value = Operation> {
        prop_oneof![
            (0..3usize, 0..NAMES.len(), 0..2usize).prop_map(|(client, name, port)| Operation::Register {
                client,
                name,
                port
            }),
            (0..3usize, 0..NAMES.len()).prop_map(|(client, name)| Operation::Lookup { client, name }),
            (0..3usize, 0..2usize).prop_map(|(client, port)| Operation::KillPort { client, port }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(64)))]
        #[test]
        fn the_service_answers_as_the_model_says(operations in proptest::collection::vec(operation(), 1..40)) {
            let machine = machine(true);
            let mut clients: Vec<(FakeKernel, names::Client<FakeKernel>)> = (0..3).map(|_| machine.client()).collect();
            // Each client's two ports; a killed one is replaced by a fresh port.
            let mut ports: Vec<Vec<ReceiveRight<FakeKernel>>> = clients
                .iter()
                .map(|(task, _)| (0..2).map(|_| ReceiveRight::allocate(task).unwrap()).collect())
                .collect();
            // name -> (client, port generation id) while the port lives.
            let mut generation = vec![vec![0u32; 2]; 3];
            let mut model: std::collections::BTreeMap<usize, (usize, usize, u32)> = Default::default();
            for operation in operations {
                match operation {
                    Operation::Register { client, name, port } => {
                        let right = ports[client][port].make_send().unwrap();
                        let live = model.get(&name).is_some_and(|&(c, p, g)| generation[c][p] == g);
                        let got = code(clients[client].1.register_name(NAMES[name], &right));
                        if live {
                            prop_assert_eq!(got, Err(Error::NameInUse));
                        } else {
                            prop_assert_eq!(got, Ok(()));
                            model.insert(name, (client, port, generation[client][port]));
                        }
                    }
                    Operation::Lookup { client, name } => {
                        let got = code(clients[client].1.lookup(NAMES[name]));
                        match model.get(&name) {
                            Some(&(owner, port, registered)) if generation[owner][port] == registered => {
                                let right = got.map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
                                if owner == client {
                                    prop_assert_eq!(right.name(), ports[owner][port].name());
                                }
                            }
                            _ => prop_assert_eq!(got.map(|_| ()), Err(Error::UnknownName)),
                        }
                    }
                    Operation::KillPort { client, port } => {
                        let task = clients[client].0.clone();
                        ports[client][port] = ReceiveRight::allocate(&task).unwrap();
                        generation[client][port] += 1;
                    }
                }
                machine.system.check_invariants().map_err(TestCaseError::fail)?;
            }
            drop(ports);
            clients.clear();
            machine.system.check_invariants().map_err(TestCaseError::fail)?;
        }
    }
}
