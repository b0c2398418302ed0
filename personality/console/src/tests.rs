//! The transport on libmach's fake kernel, with a simulated UART: terminals
//! as ports closed by no-senders, deferred reads answered through the kept
//! reply right, a client that gave up losing nothing (noticed by its dead
//! reply right, or by the failed answer), kernel log lines reaching the
//! wire, and messages that are not what they claim refused.

use super::*;
use core::cell::RefCell;
use libmach::abi::{MachMsgReturn, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::MessageWriter;
use mach_console_core::simulation::SimulatedUart;
use mach_console_core::uart::Registers;
use std::rc::Rc;
use std::string::String;
use std::vec::Vec;

/// The simulated machine: a 16550, the kernel log's lines, the reports,
/// and a process server if the test gives one.
#[derive(Default)]
struct TestMachine {
    uart: SimulatedUart,
    acknowledged: u32,
    log: Vec<u8>,
    reports: Vec<String>,
    process_server: Option<TestProcessServer>,
}

/// What the process server was asked, and how it answers.
struct TestProcessServer {
    /// (group, signal) of every signal_group.
    signals: Vec<(u32, u32)>,
    /// (pid, group, signal) of every job_control.
    job_control: Vec<(u32, u32, u32)>,
    job_control_answer: JobControlOutcome,
    /// (group, session): the groups there are.
    groups: Vec<(u32, u32)>,
}

impl Registers for TestMachine {
    fn read(&mut self, offset: u16) -> u8 {
        self.uart.read(offset)
    }

    fn write(&mut self, offset: u16, value: u8) {
        self.uart.write(offset, value);
    }
}

impl Machine for TestMachine {
    fn acknowledge_interrupt(&mut self) {
        self.acknowledged += 1;
    }

    /// Every line of `log` is numbered from 0; reads take whole lines.
    fn read_kernel_log(&mut self, buffer: &mut [u8], sequence: u64) -> Result<LogLines, KernReturn> {
        let lines: Vec<&[u8]> = self.log.split_inclusive(|&byte| byte == b'\n').collect();
        let mut length = 0;
        let mut next = sequence;
        for line in lines.iter().skip(sequence as usize) {
            if length + line.len() > buffer.len() {
                break;
            }
            buffer[length..length + line.len()].copy_from_slice(line);
            length += line.len();
            next += 1;
        }
        Ok(LogLines { first: sequence, next, length })
    }

    fn report(&mut self, line: core::fmt::Arguments) {
        self.reports.push(std::format!("{line}"));
    }

    fn signal_group(&mut self, group: u32, signal: u32) -> Option<bool> {
        let server = self.process_server.as_mut()?;
        server.signals.push((group, signal));
        // Only the groups it knows, as the test's process server; the real
        // one's ESRCH counts as delivered (the group ended).
        Some(server.groups.iter().any(|&(known, _)| known == group))
    }

    fn job_control(&mut self, pid: u32, group: u32, signal: u32) -> Option<JobControlOutcome> {
        let server = self.process_server.as_mut()?;
        server.job_control.push((pid, group, signal));
        Some(server.job_control_answer)
    }

    fn group_in_session(&mut self, group: u32, session: u32) -> Option<bool> {
        let server = self.process_server.as_ref()?;
        Some(server.groups.contains(&(group, session)))
    }
}

type Server = ConsoleServer<FakeKernel, TestMachine>;

struct Fixture {
    system: FakeSystem,
    client_task: FakeKernel,
    server: Rc<RefCell<Server>>,
    service: device::Client<FakeKernel>,
    server_task: FakeKernel,
    service_port: PortName,
    now: u64,
}

fn fixture() -> Fixture {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let set = PortSet::allocate(&server_task).unwrap();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    set.insert(&service).unwrap();
    let mut machine = TestMachine::default();
    let uart = Uart::start(&mut machine).unwrap();
    let set_name = set.name();
    let server = Rc::new(RefCell::new(ConsoleServer::new(server_task.clone(), set, uart, machine, 0).unwrap()));
    let handler_server = server.clone();
    // As the program's loop does: every message is followed by the
    // after-event step (which answers what can be answered now).
    // With the audit trailer, as the server receives once the kernel
    // stamps credentials: a task the test gives none is pid 0 (a server).
    let options = libmach::server::ServeOptions { audit: true };
    system.attach_server_with(&server_task, set_name, options, io::BUFFER_SIZE, move |request, reply| {
        let mut server = handler_server.borrow_mut();
        let dispatch = server.handle(request, reply);
        let now = server.core().now() + 1;
        server.after_event(now);
        dispatch
    });
    let service_port = service.name();
    let send = system.give_send_right(&server_task, service_port, &client_task).unwrap();
    core::mem::forget(service);
    let service = device::Client::new(&client_task, SendRight::from_name(&client_task, send)).unwrap();
    let mut fixture = Fixture { system, client_task, server, service, server_task, service_port, now: 0 };
    fixture.settle();
    fixture
}

impl Fixture {
    /// Lets the server handle what is queued, then run its after-event
    /// step, letting the simulated UART send and interrupt as hardware would.
    fn settle(&mut self) {
        for _ in 0..1000 {
            self.system.run_servers();
            self.now += 1;
            let mut server = self.server.borrow_mut();
            server.machine_mut().uart.send_to_wire();
            if server.machine_mut().uart.interrupt_line() {
                server.uart_interrupted();
            }
            server.after_event(self.now);
            if !server.machine_mut().uart.interrupt_line() && server.machine_mut().uart.transmit.is_empty() {
                drop(server);
                if self.system.run_servers() == 0 {
                    return;
                }
            }
        }
        panic!("the server never settled");
    }

    fn type_keys(&mut self, keys: &[u8]) {
        self.server.borrow_mut().machine_mut().uart.type_bytes(keys);
        self.server.borrow_mut().uart_interrupted();
        self.settle();
    }

    fn wire(&self) -> Vec<u8> {
        core::mem::take(&mut self.server.borrow_mut().machine_mut().uart.wire)
    }

    fn open(&mut self) -> io::Client<FakeKernel> {
        let terminal = self.service.open(0x501, 2, &device::Opener::default()).unwrap();
        io::Client::new(&self.client_task, terminal).unwrap()
    }

    /// Sends a `read` on `terminal` without waiting; returns its reply port.
    fn send_read(&mut self, terminal: &io::Client<FakeKernel>, count: u32) -> ReceiveRight<FakeKernel> {
        let reply_port = ReceiveRight::allocate(&self.client_task).unwrap();
        let mut buffer = std::vec![0u8; io::buffer_size::READ];
        let header = libmach::rpc::request_header(terminal.server().name(), reply_port.name(), io::id::READ);
        let mut writer = MessageWriter::new(&mut buffer, header);
        writer.u32(count).unwrap();
        let length = writer.finish().unwrap();
        self.client_task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
        self.settle();
        reply_port
    }

    /// The answer to a read on `reply_port`, if one came.
    fn read_answer(&self, reply_port: &ReceiveRight<FakeKernel>) -> Option<Result<Vec<u8>, i32>> {
        let mut buffer = std::vec![0u8; io::buffer_size::READ];
        match self.client_task.mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0) {
            Ok(()) => {}
            Err(MachMsgReturn::ReceiveTimedOut) => return None,
            Err(other) => panic!("receive: {other:?}"),
        }
        match libmach::rpc::read_reply(&self.client_task, &buffer, io::id::READ) {
            Ok((_, mut reader)) => {
                let data = reader.bytes(8192).unwrap().to_vec();
                reader.finish().unwrap();
                Some(Ok(data))
            }
            Err(Ok(code)) => Some(Err(code)),
            Err(Err(other)) => panic!("reply: {other:?}"),
        }
    }
}

#[test]
fn a_terminal_is_a_port_closed_by_its_last_send_right() {
    let mut fixture = fixture();
    let terminal = fixture.open();
    assert_eq!(fixture.server.borrow().core().open_count(), 1);
    assert_eq!(
        fixture.service.open(0x909, 2, &device::Opener::default()).unwrap_err(),
        libmach::CallError::Interface(device::Error::NoSuchDeviceOrAddress)
    );
    drop(terminal);
    fixture.settle();
    assert_eq!(fixture.server.borrow().core().open_count(), 0);
    fixture.system.check_invariants().unwrap();
}

#[test]
fn typed_keys_are_echoed_and_a_waiting_read_is_answered_later() {
    let mut fixture = fixture();
    let terminal = fixture.open();
    let reply_port = fixture.send_read(&terminal, 64);
    assert_eq!(fixture.read_answer(&reply_port), None, "no line yet");
    fixture.type_keys(b"hi\r");
    assert_eq!(fixture.read_answer(&reply_port), Some(Ok(b"hi\n".to_vec())));
    assert!(fixture.wire().ends_with(b"hi\r\n"));
    assert!(fixture.server.borrow().machine_mut_acknowledged() > 0);
    fixture.system.check_invariants().unwrap();
}

#[test]
fn a_reader_that_gave_up_is_forgotten_and_loses_nothing() {
    let mut fixture = fixture();
    let terminal = fixture.open();
    let gone = fixture.send_read(&terminal, 64);
    drop(gone);
    // Its reply right is now dead: the dead-name notice makes the server
    // forget the wait before any input comes.
    fixture.settle();
    assert_eq!(fixture.server.borrow().core().waiting_count(), 0);
    let waiting = fixture.send_read(&terminal, 64);
    fixture.type_keys(b"kept\r");
    assert_eq!(fixture.read_answer(&waiting), Some(Ok(b"kept\n".to_vec())));
    fixture.system.check_invariants().unwrap();
}

#[test]
fn an_answer_that_cannot_be_delivered_takes_nothing() {
    let mut fixture = fixture();
    let terminal = fixture.open();
    let first = fixture.send_read(&terminal, 64);
    let second = fixture.send_read(&terminal, 64);
    // The first client gives up just as the line comes: the line must go
    // to the second reader, whether the server learnt of it first or not.
    fixture.server.borrow_mut().machine_mut().uart.type_bytes(b"line\r");
    fixture.server.borrow_mut().uart_interrupted();
    drop(first);
    fixture.now += 1;
    let now = fixture.now;
    fixture.server.borrow_mut().after_event(now);
    fixture.settle();
    assert_eq!(fixture.read_answer(&second), Some(Ok(b"line\n".to_vec())));
    fixture.system.check_invariants().unwrap();
}

#[test]
fn the_plain_client_reads_and_writes() {
    let mut fixture = fixture();
    let mut terminal = fixture.open();
    fixture.server.borrow_mut().machine_mut().uart.type_bytes(b"ready\r");
    fixture.server.borrow_mut().uart_interrupted();
    fixture.settle();
    assert_eq!(terminal.read(16).unwrap().as_slice(), b"ready\n");
    assert_eq!(terminal.write(b"out\n").unwrap(), 4);
    fixture.settle();
    assert!(fixture.wire().ends_with(b"out\r\n"));
    assert_eq!(terminal.bytes_readable().unwrap(), 0);
    assert_eq!(terminal.get_terminal_attributes().unwrap().local_flags, ::tty::Termios::console().local_flags);
    let stat = terminal.stat().unwrap();
    assert_eq!((stat.mode, stat.special_device), (0o020620, 0x501));
    assert_eq!(terminal.path().unwrap().as_slice(), b"/dev/console");
    assert_eq!(terminal.seek(0, 0).unwrap_err(), libmach::CallError::Interface(io::Error::IllegalSeek));
    assert_eq!(terminal.read_directory(512).unwrap_err(), libmach::CallError::Interface(io::Error::NotADirectory));
    assert_eq!(terminal.flock(2).unwrap_err(), libmach::CallError::Interface(io::Error::NoLocks));
    // A request of an open terminal on the service port is no open file's.
    let mut service_as_file =
        io::Client::new(&fixture.client_task, fixture.service.server().try_clone().unwrap()).unwrap();
    assert_eq!(service_as_file.read(4).unwrap_err(), libmach::CallError::Interface(io::Error::BadDescriptor));
}

#[test]
fn large_reads_and_writes_move_pages() {
    let mut fixture = fixture();
    let mut terminal = fixture.open();
    fixture.type_keys(b"a line for a large read\r");
    let data = terminal.read_large(1 << 20).unwrap();
    assert_eq!(data.bytes(), b"a line for a large read\n");
    assert_eq!(terminal.write_large(b"from pages\n").unwrap(), 11);
    fixture.settle();
    assert!(fixture.wire().ends_with(b"from pages\r\n"));
    drop(data);
    fixture.system.check_invariants().unwrap();
}

#[test]
fn kernel_log_lines_reach_the_wire() {
    let mut fixture = fixture();
    fixture.server.borrow_mut().machine_mut().log.extend_from_slice(b"[fs] one\n[fs] two\n");
    fixture.server.borrow_mut().kernel_log_waiting();
    fixture.settle();
    assert_eq!(fixture.wire(), b"[fs] one\r\n[fs] two\r\n");
}

#[test]
fn a_task_cannot_pass_for_the_kernel() {
    let mut fixture = fixture();
    let terminal = fixture.open();
    // A forged interrupt and log notice from a task: answered MIG_BAD_ID,
    // nothing done.
    for id in [INTERRUPT_MESSAGE_ID, KERNEL_LOG_MESSAGE_ID] {
        let reply_port = ReceiveRight::allocate(&fixture.client_task).unwrap();
        let mut buffer = std::vec![0u8; 64];
        let header = libmach::rpc::request_header(terminal.server().name(), reply_port.name(), id);
        let length = MessageWriter::new(&mut buffer, header).finish().unwrap();
        fixture.client_task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
        fixture.settle();
        let mut answer = std::vec![0u8; 64];
        fixture.client_task.mach_msg(&mut answer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0).unwrap();
        assert_eq!(
            libmach::rpc::read_reply(&fixture.client_task, &answer, id).err(),
            Some(Ok(libmach::mig::MIG_BAD_ID))
        );
    }
    assert_eq!(fixture.server.borrow().machine_mut_acknowledged(), 0);
    fixture.system.check_invariants().unwrap();
}

impl Server {
    fn machine_mut_acknowledged(&self) -> u32 {
        self.machine.acknowledged
    }
}

fn process(pid: u32, pgid: u32, sid: u32) -> libmach::abi::TaskCredential {
    libmach::abi::TaskCredential {
        pid,
        pgid,
        sid,
        ruid: 1000,
        euid: 1000,
        rgid: 1000,
        egid: 1000,
        ..Default::default()
    }
}

impl Fixture {
    /// A client task with `credential`, and an open terminal of its own.
    fn process_opening(
        &mut self,
        credential: libmach::abi::TaskCredential,
        claimed: &device::Opener,
    ) -> (FakeKernel, io::Client<FakeKernel>) {
        let task = self.system.task();
        self.system.set_credential(&task, credential);
        let send = self.system.give_send_right(&self.server_task, self.service_port, &task).unwrap();
        let mut service = device::Client::new(&task, SendRight::from_name(&task, send)).unwrap();
        let terminal = service.open(0x501, 2, claimed).unwrap();
        let terminal = io::Client::new(&task, terminal).unwrap();
        (task, terminal)
    }

    fn reports(&self) -> Vec<String> {
        core::mem::take(&mut self.server.borrow_mut().machine_mut().reports)
    }
}

#[test]
fn the_opener_is_the_senders_credential_and_a_session_leader_gets_the_terminal() {
    let mut fixture = fixture();
    // A body claiming another identity, from a sender that is not the
    // superuser, counts for nothing.
    let claimed = device::Opener { pid: 1, process_group: 1, session: 1, uid: 0, gid: 0 };
    let (_task, mut terminal) = fixture.process_opening(process(42, 42, 42), &claimed);
    assert_eq!(fixture.server.borrow().core().session(), Some(42));
    assert_eq!(terminal.get_foreground_group().unwrap(), 42);
    fixture.type_keys(b"\x03");
    assert!(
        fixture
            .reports()
            .iter()
            .any(|line| line == "console: SIGINT (2) for process group 42 recorded (no process server yet)"),
        "no SIGINT record"
    );
}

#[test]
fn without_a_process_server_job_control_and_group_checks_are_refused_loudly() {
    let mut fixture = fixture();
    let (_leader_task, mut leader) = fixture.process_opening(process(42, 42, 42), &device::Opener::default());
    assert_eq!(leader.set_foreground_group(42).unwrap(), ());
    assert_eq!(leader.set_foreground_group(77).unwrap_err(), libmach::CallError::Interface(io::Error::NotPermitted));
    assert!(fixture.reports().iter().any(|line| line.contains("no process server to check process group 77")));
    // A process of the session in another group reads from the background.
    let (_task, mut background) = fixture.process_opening(process(43, 43, 42), &device::Opener::default());
    assert_eq!(background.read(16).unwrap_err(), libmach::CallError::Interface(io::Error::InputOutput));
    assert!(fixture.reports().iter().any(|line| line.contains("process 43 used its terminal from the background")));
    fixture.system.check_invariants().unwrap();
}

#[test]
fn with_a_process_server_signals_job_control_and_group_checks_go_to_it() {
    let mut fixture = fixture();
    fixture.server.borrow_mut().machine_mut().process_server = Some(TestProcessServer {
        signals: Vec::new(),
        job_control: Vec::new(),
        job_control_answer: JobControlOutcome::IgnoredOrBlocked,
        groups: std::vec![(42, 42), (77, 42), (90, 90)],
    });
    let (_leader_task, mut leader) = fixture.process_opening(process(42, 42, 42), &device::Opener::default());
    fixture.type_keys(b"\x03");
    // A group of the session gets the terminal; one of another session or
    // none does not.
    leader.set_foreground_group(77).unwrap();
    assert_eq!(leader.get_foreground_group().unwrap(), 77);
    assert_eq!(leader.set_foreground_group(90).unwrap_err(), libmach::CallError::Interface(io::Error::NotPermitted));
    assert_eq!(leader.set_foreground_group(91).unwrap_err(), libmach::CallError::Interface(io::Error::NotPermitted));
    fixture.type_keys(b"\x1a");
    // A reader outside the foreground group: the process server says it
    // ignores SIGTTIN, so the read fails with EIO.
    let (_task, mut background) = fixture.process_opening(process(43, 43, 42), &device::Opener::default());
    assert_eq!(background.read(16).unwrap_err(), libmach::CallError::Interface(io::Error::InputOutput));
    let mut server = fixture.server.borrow_mut();
    let process_server = server.machine_mut().process_server.as_ref().unwrap();
    assert_eq!(process_server.signals, [(42, 2), (77, 20)]);
    // The leader's tcsetpgrp calls from the background (77 had the
    // terminal) asked about SIGTTOU first: it ignores it (as shells do).
    assert_eq!(process_server.job_control, [(42, 42, 22), (42, 42, 22), (43, 43, 21)]);
    drop(server);
    let reports = fixture.reports();
    assert!(!reports.iter().any(|line| line.contains("no process server")), "{reports:?}");
    fixture.system.check_invariants().unwrap();
}

#[test]
fn the_kernel_log_is_the_superusers_to_read() {
    let fixture = fixture();
    fixture.server.borrow_mut().machine_mut().log.extend_from_slice(b"[kernel] one\n[kernel] two\n");
    // A task without a credential of its own acts as root (as servers do).
    let send =
        fixture.system.give_send_right(&fixture.server_task, fixture.service_port, &fixture.client_task).unwrap();
    let mut console = tty::Client::new(&fixture.client_task, SendRight::from_name(&fixture.client_task, send)).unwrap();
    let reply = console.read_kernel_log(1).unwrap();
    assert_eq!((reply.lines.as_slice(), reply.first, reply.next), (&b"[kernel] two\n"[..], 1, 2));
    let user = fixture.system.task();
    fixture.system.set_credential(&user, process(7, 7, 7));
    let send = fixture.system.give_send_right(&fixture.server_task, fixture.service_port, &user).unwrap();
    let mut console = tty::Client::new(&user, SendRight::from_name(&user, send)).unwrap();
    assert_eq!(console.read_kernel_log(0).unwrap_err(), libmach::CallError::Interface(tty::Error::Eperm));
    fixture.system.check_invariants().unwrap();
}
