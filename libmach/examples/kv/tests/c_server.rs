//! The generated C server side, RUN: `tests/c/kv_server.c` (the C kv store
//! of `c/kv_store.h` over `kv_dispatch`) serves generated Rust clients. The
//! fake kernel receives each request on the server task's port set and
//! pipes it to the C program, which dispatches it and pipes the reply back;
//! every kernel call the C side makes meanwhile is performed in the server's
//! fake task. Then the same requests, valid and damaged, go to the C server
//! and to the Rust one: their answers must be the same byte for byte, which
//! is what "the same checks on receipt" means.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::rc::Rc;

use libmach::abi::{parse_received, Descriptor, PortName, PortRight, MACH_RCV_MSG, MACH_RCV_TIMEOUT};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::{InlineReader, MessageWriter};
use libmach::mig::{MIG_BAD_ARGUMENTS, MIG_BAD_ID};
use libmach::{CallError, Dispatch, PortKernel, PortSet, ReceiveRight, RpcError, SendRight};
use mach_kv_example::kv;
use mach_kv_example::store::Store;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// Compiles the C server (with the sanitizers: no out-of-bounds access on
/// any request) once per test process.
fn c_server_program() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let directory = std::env::temp_dir().join(format!("mach-idl-c-server-{}", std::process::id()));
            std::fs::create_dir_all(&directory).unwrap();
            std::fs::write(directory.join("kv.h"), mach_kv_example::C_HEADER).unwrap();
            let program = directory.join("kv_server");
            let root = repository();
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            let output = Command::new("gcc")
                .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g"])
                .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
                .arg(format!("-I{}", directory.display()))
                .arg(format!("-I{}", manifest.join("c").display()))
                .arg(format!("-I{}", root.join("mach/abi/include").display()))
                .arg(format!("-I{}", root.join("libmach/include").display()))
                .arg(manifest.join("tests/c/kv_server.c"))
                .arg("-o")
                .arg(&program)
                .output()
                .expect("gcc is required for this test (apt-get install gcc)");
            assert!(output.status.success(), "gcc:\n{}", String::from_utf8_lossy(&output.stderr));
            program
        })
        .clone()
}

fn read_word(input: &mut impl Read) -> u32 {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes).expect("the C server answers");
    u32::from_le_bytes(bytes)
}

/// The C server process and what its replies' regions need kept alive.
struct CProcess {
    child: Child,
    /// Closed (taken) to end the program.
    input: Option<ChildStdin>,
    output: ChildStdout,
    /// The last reply's out-of-line regions, read until the fake sends it.
    regions: Vec<Vec<u8>>,
}

impl CProcess {
    fn start() -> CProcess {
        let mut child = Command::new(c_server_program())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        CProcess { child, input: Some(input), output, regions: Vec::new() }
    }

    fn send(&mut self, bytes: &[u8]) {
        let input = self.input.as_mut().expect("the C server runs");
        input.write_all(bytes).unwrap();
        input.flush().unwrap();
    }

    fn answer(&mut self, value: u32) {
        self.send(&value.to_le_bytes());
    }

    /// Pipes one received request to the C server and performs the kernel
    /// calls it makes in `task` until it has answered.
    fn dispatch(&mut self, task: &FakeKernel, set: PortName, request: &[u8], reply: &mut [u8]) -> Dispatch {
        self.regions.clear();
        let mut message = Vec::new();
        message.extend_from_slice(&10u32.to_le_bytes());
        message.extend_from_slice(&(request.len() as u32).to_le_bytes());
        message.extend_from_slice(request);
        // Regions the request brought go to the C side; this task's mapping goes.
        if let Ok((view, _)) = parse_received(request) {
            for descriptor in view.descriptors() {
                if let Descriptor::OutOfLineMemory { address, size, .. } = descriptor {
                    message.extend_from_slice(&size.to_le_bytes());
                    if size > 0 {
                        message.extend_from_slice(task.out_of_line_bytes(address, size).unwrap_or(&[]));
                        task.vm_deallocate(address, size as u64).unwrap();
                    }
                }
            }
        }
        self.send(&message);
        loop {
            match read_word(&mut self.output) {
                3 => {
                    let (name, right) = (read_word(&mut self.output), read_word(&mut self.output));
                    let result = if right == PortRight::Receive as u32 {
                        task.port_mod_refs(name, PortRight::Receive, -1)
                    } else {
                        task.port_deallocate(name)
                    };
                    self.answer(result.err().map_or(0, |code| code as u32));
                }
                6 => {
                    // A session port: receive right, a send right under the same name,
                    // no-senders on itself, in the set.
                    let port = ReceiveRight::allocate(task).unwrap();
                    port.make_send().unwrap().into_name();
                    port.request_no_senders(1).unwrap();
                    task.port_move_member(port.name(), set).unwrap();
                    self.answer(port.into_name());
                }
                7 => {
                    let name = read_word(&mut self.output);
                    task.port_mod_refs(name, PortRight::Receive, -1).unwrap();
                }
                11 => return self.finish_dispatch(reply),
                other => panic!("the C server sent operation {other}"),
            }
        }
    }

    fn finish_dispatch(&mut self, reply: &mut [u8]) -> Dispatch {
        let result = read_word(&mut self.output);
        let size = read_word(&mut self.output) as usize;
        self.output.read_exact(&mut reply[..size]).unwrap();
        match result {
            1 => {
                // Out-of-line results follow: point the reply at copies that live until it is sent.
                if let Ok(view) = libmach::abi::parse(&reply[..size]) {
                    let count = view.descriptor_count();
                    for index in 0..count {
                        let start = 28 + index * 16;
                        if reply[start + 11] != libmach::abi::DescriptorType::OutOfLineMemory as u8 {
                            continue;
                        }
                        let length = read_word(&mut self.output) as usize;
                        let mut region = vec![0u8; length];
                        self.output.read_exact(&mut region).unwrap();
                        let address = if length == 0 { 0 } else { region.as_ptr() as u64 };
                        reply[start..start + 8].copy_from_slice(&address.to_le_bytes());
                        self.regions.push(region);
                    }
                }
                Dispatch::Reply(size)
            }
            2 => Dispatch::NoReply,
            3 => Dispatch::UnknownId,
            other => panic!("dispatch result {other}"),
        }
    }

    /// Ends the process (its input closes); returns what it printed on stderr.
    fn finish(&mut self) -> String {
        drop(self.input.take());
        let status = self.child.wait().unwrap();
        let mut report = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut report).unwrap();
        assert!(status.success(), "the C server failed ({status}):\n{report}");
        report
    }
}

/// A server task receiving on a port set, its service port, a client task.
struct World {
    system: FakeSystem,
    server_task: FakeKernel,
    client_task: FakeKernel,
    service_send: PortName,
    _ports: (ReceiveRight<FakeKernel>, PortSet<FakeKernel>),
}

fn world() -> World {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let set = PortSet::allocate(&server_task).unwrap();
    set.insert(&service).unwrap();
    let service_send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    World { system, server_task, client_task, service_send, _ports: (service, set) }
}

impl World {
    fn set(&self) -> PortName {
        self._ports.1.name()
    }
}

/// The C server, serving kv and notifications on a port set.
fn c_world() -> (World, Rc<RefCell<CProcess>>) {
    let world = world();
    let process = Rc::new(RefCell::new(CProcess::start()));
    let (handler_process, kernel, set) = (process.clone(), world.server_task.clone(), world.set());
    world.system.attach_server(&world.server_task, set, kv::BUFFER_SIZE, move |request, reply| {
        handler_process.borrow_mut().dispatch(&kernel, set, request, reply)
    });
    (world, process)
}

/// The Rust server, the same way.
fn rust_world() -> World {
    let world = world();
    let store = Rc::new(RefCell::new(Store::new(&world.server_task)));
    store.borrow_mut().serve_sessions_in(world.set());
    let kernel = world.server_task.clone();
    world.system.attach_server(&world.server_task, world.set(), kv::BUFFER_SIZE, move |request, reply| {
        let mut store = store.borrow_mut();
        kv::dispatch(&mut *store, &kernel, request, reply)
            .or_else(|| libmach::notify::dispatch(&kernel, request, |notification| store.notified(notification)))
    });
    world
}

impl World {
    fn client(&self) -> kv::Client<FakeKernel> {
        self.client_task.port_mod_refs(self.service_send, PortRight::Send, 1).unwrap();
        kv::Client::new(&self.client_task, SendRight::from_name(&self.client_task, self.service_send)).unwrap()
    }

    /// Sends the request `build` writes (with a reply port unless
    /// `one_way`); returns the reply's inline data, or `None` if no reply came.
    fn raw(&self, id: i32, one_way: bool, build: impl FnOnce(&mut MessageWriter)) -> Option<Vec<u8>> {
        let task = &self.client_task;
        let reply_port = ReceiveRight::allocate(task).unwrap();
        let mut buffer = vec![0u8; 2048];
        let header = if one_way {
            libmach::rpc::one_way_header(self.service_send, id)
        } else {
            libmach::rpc::request_header(self.service_send, reply_port.name(), id)
        };
        let mut writer = MessageWriter::new(&mut buffer, header);
        build(&mut writer);
        let length = writer.finish().unwrap();
        task.mach_msg(&mut buffer, libmach::abi::MACH_SEND_MSG, length, 0, 0).unwrap();
        self.system.run_servers();
        match task.mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0) {
            Ok(()) => {
                let (view, trailer) = parse_received(&buffer).unwrap();
                if trailer.sender == 0 {
                    // The kernel's send-once notification: the server gave the right back.
                    return None;
                }
                assert_eq!(view.header.id, id + 100);
                libmach::message::release_received(task, &view);
                Some(view.inline_data.to_vec())
            }
            Err(_) => None,
        }
    }

    /// The reply's return code.
    fn code(&self, id: i32, build: impl FnOnce(&mut MessageWriter)) -> Option<i32> {
        self.raw(id, false, build).map(|data| InlineReader::new(&data).i32().unwrap())
    }
}

#[test]
fn the_c_server_serves_every_routine_to_the_rust_client() {
    let (world, process) = c_world();
    let mut client = world.client();
    client.put("colour", b"blue").unwrap();
    assert_eq!(client.get("colour").unwrap().as_slice(), b"blue");
    assert_eq!(client.get("absent").unwrap_err(), CallError::Interface(kv::Error::NotFound));
    assert_eq!(client.add("counter", -5).unwrap(), -5);
    assert_eq!(client.add("counter", 7).unwrap(), 2);
    let count = client.count().unwrap();
    assert_eq!((count.keys, count.bytes), (2, 12));
    assert_eq!(client.remove("colour").unwrap().as_slice(), b"blue");
    assert_eq!(client.remove("colour").unwrap_err(), CallError::Interface(kv::Error::NotFound));

    // Rights both ways: the C server keeps the watcher and gives it back.
    let events = ReceiveRight::allocate(&world.client_task).unwrap();
    client.watch(events.make_send().unwrap()).unwrap();
    assert_eq!(world.system.references(&world.client_task, events.name(), PortRight::Send), 0);
    let back = client.unwatch().unwrap();
    assert_eq!(back.name(), events.name());
    assert_eq!(client.unwatch().unwrap_err(), CallError::Interface(kv::Error::NoWatcher));
    drop(back);

    // Out-of-line memory both ways.
    let data: Vec<u8> = (0..100_000u32).map(|index| (index * 3) as u8).collect();
    let digest = client.digest(&data).unwrap();
    let expected = data.iter().fold(0u32, |sum, &byte| sum.wrapping_add(byte as u32));
    assert_eq!((digest.checksum, digest.length), (expected, 100_000));
    let export = client.export().unwrap();
    assert_eq!(
        export.bytes(),
        [7u32.to_le_bytes().as_slice(), b"counter", &8u32.to_le_bytes(), &2i64.to_le_bytes()].concat()
    );
    drop(export);

    // A session found by the port the request came in on, freed on no-senders.
    let names_before = world.system.name_count(&world.server_task);
    let session = client.open_session("from rust").unwrap();
    let mut session = kv::Client::new(&world.client_task, session).unwrap();
    assert_eq!(session.session_label().unwrap().as_str(), "from rust");
    assert_eq!(client.session_label().unwrap_err(), CallError::Interface(kv::Error::NotFound));
    assert_eq!(world.system.name_count(&world.server_task), names_before + 1);
    drop(session);
    world.system.run_servers();
    assert_eq!(world.system.name_count(&world.server_task), names_before, "the C server freed the session");

    client.log(2, "hello from rust").unwrap();
    world.system.run_servers();
    drop(client);
    assert_eq!(world.system.live_regions(), 0);
    world.system.check_invariants().unwrap();
    let report = process.borrow_mut().finish();
    assert!(report.contains("1 log lines, last \"hello from rust\""), "{report}");
}

#[test]
fn the_c_server_refuses_what_the_rust_server_refuses_and_releases_what_came() {
    let (world, _process) = c_world();
    let mut key = 3u32.to_le_bytes().to_vec();
    key.extend_from_slice(b"key\0");
    assert_eq!(world.code(4300, |writer| writer.u32(1).unwrap()), Some(MIG_BAD_ID));
    assert_eq!(world.code(kv::id::GET, |_| {}), Some(MIG_BAD_ARGUMENTS), "short body");
    let trailing = |writer: &mut MessageWriter| {
        writer.string("key", 64).unwrap();
        writer.u32(0).unwrap();
    };
    assert_eq!(world.code(kv::id::GET, trailing), Some(MIG_BAD_ARGUMENTS));
    assert_eq!(world.code(kv::id::GET, |writer| writer.bytes(&[0xc3, 0x28], 64).unwrap()), Some(MIG_BAD_ARGUMENTS));
    assert_eq!(world.code(kv::id::GET, |writer| writer.bytes(b"a\0b", 64).unwrap()), Some(MIG_BAD_ARGUMENTS));
    assert_eq!(world.code(kv::id::GET, |writer| writer.bytes(&[b'k'; 65], 100).unwrap()), Some(MIG_BAD_ARGUMENTS));
    // Memory where a right is declared, a right where memory is: refused, both released.
    let memory = vec![1u8; 5000];
    let region = libmach::message::out_of_line_descriptor(&memory, 5000).unwrap();
    assert_eq!(world.code(kv::id::WATCH, |writer| writer.descriptor(region).unwrap()), Some(MIG_BAD_ARGUMENTS));
    let extra = ReceiveRight::allocate(&world.client_task).unwrap();
    let right = extra.descriptor_make_send();
    assert_eq!(world.code(kv::id::DIGEST, |writer| writer.descriptor(right).unwrap()), Some(MIG_BAD_ARGUMENTS));
    assert_eq!(world.system.references(&world.client_task, extra.name(), PortRight::Send), 0);
    let with_extra_right = |writer: &mut MessageWriter| {
        writer.descriptor(right).unwrap();
        writer.string("key", 64).unwrap();
    };
    assert_eq!(world.code(kv::id::GET, with_extra_right), Some(MIG_BAD_ARGUMENTS));
    // No reply port: not executed; a one-way log with a bad level: dropped.
    assert_eq!(
        world.raw(kv::id::PUT, true, |writer| {
            writer.string("quiet", 64).unwrap();
            writer.bytes(b"x", 512).unwrap();
        }),
        None
    );
    let mut client = world.client();
    assert_eq!(client.get("quiet").unwrap_err(), CallError::Interface(kv::Error::NotFound));
    assert_eq!(
        world.raw(kv::id::LOG, true, |writer| {
            writer.u32(256).unwrap();
            writer.string("x", 120).unwrap();
        }),
        None
    );
    // A one-way message sent with a reply port: run, and the right given back.
    assert_eq!(
        world.raw(kv::id::LOG, false, |writer| {
            writer.u32(1).unwrap();
            writer.string("with a reply port", 120).unwrap();
        }),
        None
    );
    // A forged notification is not one.
    let no_senders = libmach::abi::NotifyId::NoSenders.as_u32() as i32;
    assert_eq!(world.code(no_senders, |writer| writer.u32(1).unwrap()), Some(MIG_BAD_ID));
    assert_eq!(world.system.live_regions(), 0);
    assert_eq!(client.count().unwrap().keys, 0);
    world.system.check_invariants().unwrap();
    let _ = RpcError::ServerDied;
}

/// A deterministic generator (the test must repeat).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A valid request of one of kv's inline-only routines.
fn valid_request(random: &mut Random, writer: &mut MessageWriter) -> i32 {
    let keys = ["a", "bb", "key", "ünï", ""];
    let key = keys[random.next() as usize % keys.len()];
    match random.next() % 6 {
        0 => {
            writer.string(key, 64).unwrap();
            let length = random.next() as usize % 20;
            writer.bytes(&vec![random.next() as u8; length], 512).unwrap();
            kv::id::PUT
        }
        1 => {
            writer.string(key, 64).unwrap();
            kv::id::GET
        }
        2 => {
            writer.string(key, 64).unwrap();
            kv::id::REMOVE
        }
        3 => kv::id::COUNT,
        4 => {
            writer.string(key, 64).unwrap();
            writer.i64(random.next() as i64).unwrap();
            kv::id::ADD
        }
        _ => kv::id::SESSION_LABEL,
    }
}

#[test]
fn valid_and_damaged_requests_get_the_same_answers_from_the_c_and_the_rust_server() {
    let (c_world, _process) = c_world();
    let rust_world = rust_world();
    let rounds: u64 = std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(300);
    let mut random = Random(0x5eed_1234_abcd_0001);
    let mut refused = 0;
    for round in 0..rounds {
        // A valid request of an inline-only routine, then (three rounds in
        // four) one byte damaged, and sometimes cut short.
        let mut scratch = vec![0u8; 1024];
        let mut writer = MessageWriter::new(&mut scratch, libmach::abi::MachMsgHeader::default());
        let id = valid_request(&mut random, &mut writer);
        let length = writer.finish().unwrap();
        let mut body = scratch[24..length].to_vec();
        if round % 4 != 0 && !body.is_empty() {
            let position = random.next() as usize % body.len();
            body[position] = random.next() as u8;
        }
        if round % 7 == 3 {
            body.truncate(random.next() as usize % (body.len() + 1));
        }
        let answers: Vec<Option<Vec<u8>>> = [&c_world, &rust_world]
            .iter()
            .map(|world| {
                world.raw(id, false, |writer| {
                    for chunk in body.chunks(4) {
                        let mut word = [0u8; 4];
                        word[..chunk.len()].copy_from_slice(chunk);
                        writer.u32(u32::from_le_bytes(word)).unwrap();
                    }
                })
            })
            .collect();
        assert_eq!(answers[0], answers[1], "round {round}: the C and Rust servers answered differently");
        if matches!(&answers[0], Some(data) if InlineReader::new(data).i32() == Ok(MIG_BAD_ARGUMENTS)) {
            refused += 1;
        }
    }
    assert!(refused > rounds / 10, "the damage reached the checks ({refused} of {rounds} refused)");
    c_world.system.check_invariants().unwrap();
    rust_world.system.check_invariants().unwrap();
}

#[test]
fn the_c_dispatch_survives_random_and_damaged_requests_under_the_sanitizers() {
    let directory = std::env::temp_dir().join(format!("mach-idl-fuzz-server-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    std::fs::write(directory.join("echo.h"), mach_kv_example::ECHO_C_HEADER).unwrap();
    let program = directory.join("fuzz_server");
    let root = repository();
    let output = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g"])
        .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
        .arg(format!("-I{}", directory.display()))
        .arg(format!("-I{}", root.join("mach/abi/include").display()))
        .arg(format!("-I{}", root.join("libmach/include").display()))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/fuzz_server.c"))
        .arg("-o")
        .arg(&program)
        .output()
        .expect("gcc is required for this test (apt-get install gcc)");
    assert!(output.status.success(), "gcc:\n{}", String::from_utf8_lossy(&output.stderr));
    let rounds = std::env::var("MACH_PROPTEST_CASES").unwrap_or_else(|_| "3000".into());
    let run = Command::new(&program).arg(&rounds).output().unwrap();
    let report = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the C dispatch misbehaved:\n{report}");
    // Both kinds of outcome happened, deferred answers included.
    let numbers: Vec<u64> = report.split(|c: char| !c.is_ascii_digit()).filter_map(|word| word.parse().ok()).collect();
    assert!(numbers.len() >= 5 && numbers[1] > 100 && numbers[2] > 100 && numbers[3] > 0, "{report}");
    let _ = std::fs::remove_dir_all(directory);
}
