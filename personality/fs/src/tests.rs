//! The file server's transport on libmach's fake kernel (the kernel's own
//! IPC core): generated clients in other tasks open, read, write, pipe,
//! rename through ports; credentials come from the audit trailer; closing
//! is the no-senders notification; waits are kept reply rights answered
//! later; malformed and forged messages are refused.

use std::boxed::Box;
use std::cell::RefCell;
use std::rc::Rc;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use crate::{device, fs, io, Clock, FileService, RemoteDevices};
use libmach::abi::{MachMsgReturn, PortName, TaskCredential, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::MessageWriter;
use libmach::server::ServeOptions;
use libmach::{CallError, PortKernel, PortSet, ReceiveRight, RpcError, SendRight};
use mach_vfs::node::{Creation, Timestamp};
use mach_vfs::server::{Disks, FileServer, ServerOptions};
use mach_vfs::tmpfs::MemoryFileSystem;
use mach_vfs::Errno;

const TIME: Timestamp = Timestamp { seconds: 1_700_000_000, nanoseconds: 0 };

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        TIME
    }
}

struct NoDisks;

impl Disks for NoDisks {
    fn open(&mut self, _index: u32) -> Result<Box<dyn ext2::BlockDevice>, Errno> {
        Err(Errno::NoSuchDeviceOrAddress)
    }
}

/// What the console was asked: service, device, flags, opener.
type Asked = Rc<RefCell<Vec<(String, u64, u32, device::Opener)>>>;

/// The console's side of `device.defs`, for opening /dev/tty: records what
/// was asked and answers a port of the console task.
struct FakeConsole {
    server_task: FakeKernel,
    console_port: PortName,
    asked: Asked,
    system: FakeSystem,
    console_task: FakeKernel,
}

impl RemoteDevices<FakeKernel> for FakeConsole {
    fn open(
        &mut self,
        service: &str,
        device: u64,
        flags: u32,
        opener: &device::Opener,
    ) -> Result<SendRight<FakeKernel>, Errno> {
        self.asked.borrow_mut().push((service.to_string(), device, flags, *opener));
        let name = self
            .system
            .give_send_right(&self.console_task, self.console_port, &self.server_task)
            .map_err(|_| Errno::NoSuchDevice)?;
        Ok(SendRight::from_name(&self.server_task, name))
    }
}

struct World {
    system: FakeSystem,
    server_task: FakeKernel,
    service: Rc<RefCell<FileService<FakeKernel>>>,
    root_name: PortName,
    console_task: FakeKernel,
    console_port: ReceiveRight<FakeKernel>,
    asked: Asked,
    _set: PortSet<FakeKernel>,
}

fn credential(pid: u32, uid: u32, gid: u32) -> TaskCredential {
    TaskCredential { pid, ruid: uid, euid: uid, rgid: gid, egid: gid, ..TaskCredential::default() }
}

fn world() -> World {
    let system = FakeSystem::new();
    let server_task = system.task();
    let console_task = system.task();
    let console_port = ReceiveRight::allocate(&console_task).unwrap();
    let set = PortSet::allocate(&server_task).unwrap();
    let root = MemoryFileSystem::new(16 << 20, 10_000, &Creation { permissions: 0o755, uid: 0, gid: 0, time: TIME });
    let mut core = FileServer::new(Box::new(root), b"tmpfs", 1, Box::new(NoDisks), b"seed", ServerOptions::default());
    core.mount_standard(0, TIME).unwrap();
    let asked = Rc::new(RefCell::new(Vec::new()));
    let console = FakeConsole {
        server_task: server_task.clone(),
        console_port: console_port.name(),
        asked: asked.clone(),
        system: system.clone(),
        console_task: console_task.clone(),
    };
    let service = Rc::new(RefCell::new(FileService::new(
        &server_task,
        core,
        set.name(),
        Box::new(FixedClock),
        Box::new(console),
    )));
    let root_send = service.borrow_mut().root_port().unwrap();
    let root_name = root_send.into_name();
    let (handler_service, kernel) = (service.clone(), server_task.clone());
    let buffer_size = io::BUFFER_SIZE.max(fs::BUFFER_SIZE);
    system.attach_server_with(
        &server_task,
        set.name(),
        ServeOptions { audit: true },
        buffer_size,
        move |request, reply| {
            let mut service = handler_service.borrow_mut();
            let dispatch = service
                .serve_read_now(&kernel, request, reply)
                .or_else(|| io::dispatch(&mut *service, &kernel, request, reply))
                .or_else(|| fs::dispatch(&mut *service, &kernel, request, reply))
                .or_else(|| libmach::notify::dispatch(&kernel, request, |notification| service.notified(notification)));
            service.deliver_ready();
            dispatch
        },
    );
    World { system, server_task, service, root_name, console_task, console_port, asked, _set: set }
}

impl World {
    /// A client task acting as `credential`, with the root directory.
    fn client(&self, credential: TaskCredential) -> (FakeKernel, fs::Client<FakeKernel>) {
        let task = self.system.task();
        self.system.set_credential(&task, credential);
        let root = self.system.give_send_right(&self.server_task, self.root_name, &task).unwrap();
        let client = fs::Client::new(&task, SendRight::from_name(&task, root)).unwrap();
        (task, client)
    }

    fn open_files(&self) -> usize {
        self.service.borrow().open_count()
    }
}

fn open(
    task: &FakeKernel,
    root: &mut fs::Client<FakeKernel>,
    path: &str,
    flags: u32,
    mode: u32,
) -> Result<io::Client<FakeKernel>, CallError<fs::Error>> {
    let reply = root.open(path.as_bytes(), flags, mode)?;
    Ok(io::Client::new(task, reply.file).unwrap())
}

const CREATE_WRITE: u32 = 0o100 | 0o2;

#[test]
fn files_are_ports_and_close_is_no_senders() {
    let world = world();
    let (task, mut root) = world.client(credential(10, 0, 0));
    let before = world.open_files();
    let mut file = open(&task, &mut root, "/tmp/hello", CREATE_WRITE, 0o644).unwrap();
    assert_eq!(world.open_files(), before + 1);
    assert_eq!(file.write(b"hello, world").unwrap(), 12);
    assert_eq!(file.seek(0, 0).unwrap(), 0);
    assert_eq!(file.read(5).unwrap().as_slice(), b"hello");
    assert_eq!(file.read_at(7, 100).unwrap().as_slice(), b"world");
    let stat = file.stat().unwrap();
    assert_eq!((stat.file_size, stat.mode & 0o777, stat.uid), (12, 0o644, 0));
    // Large transfers go out of line.
    let big: Vec<u8> = (0..100_000u32).map(|value| value as u8).collect();
    assert_eq!(file.write_at_large(0, &big).unwrap(), 100_000);
    let back = file.read_at_large(0, 200_000).unwrap();
    assert_eq!(back.bytes(), &big[..]);
    // Close: the last send right goes, the notification ends the open file.
    drop(file);
    world.system.run_servers();
    assert_eq!(world.open_files(), before);
    world.system.check_invariants().unwrap();
}

#[test]
fn reads_that_answer_at_once_bypass_the_generated_dispatch_with_the_same_answers() {
    let world = world();
    let (task, mut root) = world.client(credential(10, 0, 0));
    let mut file = open(&task, &mut root, "/tmp/data", CREATE_WRITE, 0o644).unwrap();
    let data: Vec<u8> = (0..20_000u32).map(|value| (value * 7) as u8).collect();
    assert_eq!(file.write_at_large(0, &data).unwrap(), 20_000);
    // From the offset, which each read advances; a count over the inline
    // bound gives the bound; the end gives nothing.
    let mut offset = 0;
    for count in [0u32, 1, 4096, 100_000, 8192, 8192] {
        let got = file.read(count).unwrap();
        let expected = (count as usize).min(8192).min(data.len() - offset);
        assert_eq!(got.as_slice(), &data[offset..offset + expected], "count {count}");
        assert_eq!(file.read_at(offset as u64, count).unwrap().as_slice(), got.as_slice());
        offset += expected;
    }
    assert_eq!(offset, data.len());
    assert_eq!(file.seek(0, 1).unwrap(), data.len() as u64);
    // A device served here, and an error from the core.
    let mut zero = open(&task, &mut root, "/dev/zero", 0, 0).unwrap();
    assert_eq!(zero.read(100).unwrap().as_slice(), &[0u8; 100][..]);
    let mut writer_only = open(&task, &mut root, "/tmp/data", 0o1, 0).unwrap();
    assert_eq!(writer_only.read(10).err(), Some(CallError::Interface(io::Error::BadDescriptor)));
    // A read request carrying a descriptor is the generated dispatch's to refuse.
    let mut reply_port = ReceiveRight::allocate(&task).unwrap();
    let mut buffer = vec![0u8; 256];
    let mut writer = MessageWriter::new(
        &mut buffer,
        libmach::rpc::request_header(file.server().name(), reply_port.name(), io::id::READ),
    );
    writer.descriptor(file.server().descriptor_copy_send()).unwrap();
    writer.u32(10).unwrap();
    let length = writer.finish().unwrap();
    libmach::rpc::call(&task, &mut reply_port, &mut buffer, length, None).unwrap();
    assert!(matches!(libmach::rpc::read_reply(&task, &buffer, io::id::READ).err(), Some(Ok(code)) if code < 0));
    world.system.check_invariants().unwrap();
}

#[test]
fn permissions_come_from_the_trailer_not_the_body() {
    let world = world();
    let (root_task, mut root) = world.client(credential(10, 0, 0));
    let mut secret = open(&root_task, &mut root, "/tmp/secret", CREATE_WRITE, 0o600).unwrap();
    secret.write(b"root only").unwrap();
    let (alice_task, mut alice) = world.client(credential(20, 1000, 1000));
    assert_eq!(
        open(&alice_task, &mut alice, "/tmp/secret", 0, 0).err(),
        Some(CallError::Interface(fs::Error::AccessDenied))
    );
    assert_eq!(
        alice.change_owner(b"/tmp/secret", 1000, 1000, true),
        Err(CallError::Interface(fs::Error::NotPermitted))
    );
    assert_eq!(alice.process_exited(10), Err(CallError::Interface(fs::Error::NotPermitted)));
    // A request claiming to be root in its body: extra words after the
    // arguments are not part of the routine and the request is refused
    // before the server sees it.
    let mut buffer = vec![0u8; 256];
    let reply_port = ReceiveRight::allocate(&alice_task).unwrap();
    let header = libmach::rpc::request_header(alice.server().name(), reply_port.name(), fs::id::PROCESS_EXITED);
    let mut writer = MessageWriter::new(&mut buffer, header);
    writer.u32(10).unwrap();
    for word in [0u32, 0, 0, 0, 0] {
        writer.u32(word).unwrap(); // "pid 0, uid 0, gid 0..."
    }
    let length = writer.finish().unwrap();
    let mut reply_port = reply_port;
    libmach::rpc::call(&alice_task, &mut reply_port, &mut buffer, length, None).unwrap();
    assert_eq!(
        libmach::rpc::read_reply(&alice_task, &buffer, fs::id::PROCESS_EXITED).err(),
        Some(Ok(libmach::mig::MIG_BAD_ARGUMENTS))
    );
    // The superuser may.
    assert_eq!(root.process_exited(20), Ok(()));
}

#[test]
fn name_operations_go_to_directory_ports() {
    let world = world();
    let (task, mut root) = world.client(credential(10, 0, 0));
    root.make_directory(b"/tmp/a", 0o755).unwrap();
    root.make_directory(b"/tmp/b", 0o755).unwrap();
    drop(open(&task, &mut root, "/tmp/a/file", CREATE_WRITE, 0o644).unwrap());
    let directory_b = root.open(b"/tmp/b", 0o200000, 0).unwrap().file;
    // rename from the root's port to b's port.
    root.rename(b"/tmp/a/file", &directory_b, b"moved").unwrap();
    assert!(root.stat(b"/tmp/b/moved", true).is_ok());
    // A port that is not one of the server's: another file system.
    let foreign = ReceiveRight::allocate(&task).unwrap();
    let foreign_send = foreign.make_send().unwrap();
    assert_eq!(root.rename(b"/tmp/b/moved", &foreign_send, b"x"), Err(CallError::Interface(fs::Error::CrossDevice)));
    // Relative paths from an open directory.
    let mut b = fs::Client::new(&task, directory_b).unwrap();
    assert_eq!(b.stat(b"moved", true).unwrap().file_size, 0);
    b.symlink(b"moved", b"link").unwrap();
    assert_eq!(b.read_link(b"link").unwrap().as_slice(), b"moved");
    b.unlink(b"link", false).unwrap();
    assert_eq!(b.access(b"moved", 4, false, true), Ok(()));
    assert_eq!(root.unlink(b"/tmp/b", true), Err(CallError::Interface(fs::Error::DirectoryNotEmpty)));
    world.system.check_invariants().unwrap();
}

/// Sends a `read` of `count` bytes on `file` without waiting; the answer
/// comes on the returned port.
fn send_read(task: &FakeKernel, file: PortName, count: u32) -> ReceiveRight<FakeKernel> {
    let reply_port = ReceiveRight::allocate(task).unwrap();
    let mut buffer = vec![0u8; io::buffer_size::READ];
    let mut writer =
        MessageWriter::new(&mut buffer, libmach::rpc::request_header(file, reply_port.name(), io::id::READ));
    writer.u32(count).unwrap();
    let length = writer.finish().unwrap();
    task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
    reply_port
}

/// The data answered on `reply_port`, if an answer came.
fn read_answer(task: &FakeKernel, reply_port: &ReceiveRight<FakeKernel>) -> Option<Vec<u8>> {
    let mut buffer = vec![0u8; io::buffer_size::READ];
    match task.mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0) {
        Ok(()) => {}
        Err(MachMsgReturn::ReceiveTimedOut) => return None,
        Err(other) => panic!("receive: {other:?}"),
    }
    let (_, mut reader) = libmach::rpc::read_reply(task, &buffer, io::id::READ).ok()?;
    Some(reader.bytes(8192).unwrap().to_vec())
}

#[test]
fn a_pipe_read_waits_and_an_abandoned_one_loses_nothing() {
    let world = world();
    let (reader_task, mut root) = world.client(credential(10, 0, 0));
    let pipe = root.pipe(0).unwrap();
    let read_end = pipe.read_end.into_name();
    let writer_task = world.system.task();
    let mut writer = {
        // The write end moves to another task, as across a fork.
        let name = world.system.give_send_right(&reader_task, 0, &writer_task).err();
        let _ = name;
        io::Client::new(&reader_task, pipe.write_end).unwrap()
    };
    // A reader waits: the server keeps its reply right.
    let waiting = send_read(&reader_task, read_end, 100);
    world.system.run_servers();
    assert_eq!(world.service.borrow().waiting_count(), 1);
    assert_eq!(read_answer(&reader_task, &waiting), None);
    assert_eq!(writer.write(b"ping").unwrap(), 4);
    assert_eq!(read_answer(&reader_task, &waiting).as_deref(), Some(&b"ping"[..]));
    // A reader that gives up (its reply port destroyed): the next write
    // stays in the pipe for the next reader.
    let abandoned = send_read(&reader_task, read_end, 100);
    world.system.run_servers();
    drop(abandoned);
    assert_eq!(writer.write(b"kept").unwrap(), 4);
    world.system.run_servers();
    let again = send_read(&reader_task, read_end, 100);
    // A receive with a zero timeout only looks (libmach's fake kernel): the
    // server runs first, as its thread would.
    world.system.run_servers();
    assert_eq!(read_answer(&reader_task, &again).as_deref(), Some(&b"kept"[..]));
    // The periodic sweep drops waits whose client went before anything came.
    let gone = send_read(&reader_task, read_end, 100);
    world.system.run_servers();
    drop(gone);
    world.service.borrow_mut().tick();
    assert_eq!(world.service.borrow().waiting_count(), 0);
    // End of file once the write end's last right goes.
    let last = send_read(&reader_task, read_end, 100);
    world.system.run_servers();
    drop(writer);
    world.system.run_servers();
    assert_eq!(read_answer(&reader_task, &last).as_deref(), Some(&b""[..]));
    let _ = writer_task;
    world.system.check_invariants().unwrap();
}

/// Sends a `read_large` of `count` bytes on `file` without waiting; the
/// answer comes on the returned port.
fn send_read_large(task: &FakeKernel, file: PortName, count: u32) -> ReceiveRight<FakeKernel> {
    let reply_port = ReceiveRight::allocate(task).unwrap();
    let mut buffer = vec![0u8; io::buffer_size::READ_LARGE];
    let mut writer =
        MessageWriter::new(&mut buffer, libmach::rpc::request_header(file, reply_port.name(), io::id::READ_LARGE));
    writer.u32(count).unwrap();
    let length = writer.finish().unwrap();
    task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
    reply_port
}

/// The out-of-line data answered on `reply_port`, if an answer came.
fn read_large_answer(task: &FakeKernel, reply_port: &ReceiveRight<FakeKernel>) -> Option<Vec<u8>> {
    let mut buffer = vec![0u8; io::buffer_size::READ_LARGE];
    match task.mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0) {
        Ok(()) => {}
        Err(MachMsgReturn::ReceiveTimedOut) => return None,
        Err(other) => panic!("receive: {other:?}"),
    }
    let (view, reader) = libmach::rpc::read_reply(task, &buffer, io::id::READ_LARGE).ok()?;
    reader.finish().unwrap();
    let (address, size) = libmach::message::expect_out_of_line(&view, 0, 1 << 30).unwrap();
    let data = libmach::message::OutOfLineData::from_received(task, address, size);
    Some(data.bytes().to_vec())
}

#[test]
fn large_pipe_writes_reach_the_reader_as_the_pages_written_and_an_abandoned_read_loses_none() {
    let world = world();
    let (task, mut root) = world.client(credential(10, 0, 0));
    let pipe = root.pipe(0).unwrap();
    let read_end = pipe.read_end.into_name();
    let mut writer = io::Client::new(&task, pipe.write_end).unwrap();
    let pattern = |seed: u8| -> Vec<u8> { (0..65536u32).map(|index| (index as u8).wrapping_mul(7) ^ seed).collect() };
    // A reader waits; the write's pages are its answer.
    let waiting = send_read_large(&task, read_end, 65536);
    world.system.run_servers();
    assert_eq!(world.service.borrow().waiting_count(), 1);
    assert_eq!(writer.write_large(&pattern(1)).unwrap(), 65536);
    world.system.run_servers();
    assert!(read_large_answer(&task, &waiting) == Some(pattern(1)));
    // A reader that gave up: the run stays whole for the next one.
    let abandoned = send_read_large(&task, read_end, 65536);
    world.system.run_servers();
    drop(abandoned);
    assert_eq!(writer.write_large(&pattern(2)).unwrap(), 65536);
    world.system.run_servers();
    let mut reader = io::Client::new(&task, SendRight::from_name(&task, read_end)).unwrap();
    let mut file_stat = reader.stat().unwrap();
    assert_eq!(file_stat.file_size, 65536, "the abandoned read took nothing");
    // The pipe is full: the next write waits with its pages kept, and goes
    // in when the queued run is read (at once, as the pages queued).
    let third = send_write_large(&task, writer_port(&writer), &pattern(3));
    world.system.run_servers();
    assert_eq!(world.service.borrow().waiting_count(), 1);
    assert!(reader.read_large(65536).unwrap().bytes() == &pattern(2)[..]);
    world.system.run_servers();
    assert_eq!(write_answer(&task, &third), Some(65536));
    // A shorter read copies part of a run; the rest follows in order.
    assert!(reader.read_large(10_000).unwrap().bytes() == &pattern(3)[..10_000]);
    assert!(reader.read_large(65536).unwrap().bytes() == &pattern(3)[10_000..]);
    file_stat = reader.stat().unwrap();
    assert_eq!(file_stat.file_size, 0);
    drop(writer);
    drop(reader);
    world.system.run_servers();
    world.system.check_invariants().unwrap();
}

/// The name of the port behind `client`.
fn writer_port(client: &io::Client<FakeKernel>) -> PortName {
    client.server().name()
}

/// Sends a `write_large` of `data` on `file` without waiting.
fn send_write_large(task: &FakeKernel, file: PortName, data: &[u8]) -> ReceiveRight<FakeKernel> {
    let reply_port = ReceiveRight::allocate(task).unwrap();
    let mut region = libmach::message::OutOfLineData::allocate(task, data.len() as u32).unwrap();
    region.bytes_mut().copy_from_slice(data);
    let mut buffer = vec![0u8; io::buffer_size::WRITE_LARGE];
    let mut writer =
        MessageWriter::new(&mut buffer, libmach::rpc::request_header(file, reply_port.name(), io::id::WRITE_LARGE));
    writer.descriptor(region.descriptor_move(1 << 30).unwrap()).unwrap();
    let length = writer.finish().unwrap();
    task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
    region.moved();
    reply_port
}

/// The count a `write_large` answered on `reply_port`, if an answer came.
fn write_answer(task: &FakeKernel, reply_port: &ReceiveRight<FakeKernel>) -> Option<u32> {
    let mut buffer = vec![0u8; io::buffer_size::WRITE_LARGE];
    match task.mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0) {
        Ok(()) => {}
        Err(MachMsgReturn::ReceiveTimedOut) => return None,
        Err(other) => panic!("receive: {other:?}"),
    }
    let (_, mut reader) = libmach::rpc::read_reply(task, &buffer, io::id::WRITE_LARGE).ok()?;
    Some(reader.u32().unwrap())
}

#[test]
fn a_tty_opens_at_the_console_server() {
    let world = world();
    let (task, mut root) = world.client(TaskCredential { pgid: 30, sid: 30, ..credential(30, 1000, 1000) });
    let reply = root.open(b"/dev/tty", 2, 0).unwrap();
    assert_eq!(reply.kind, 0o020000);
    let asked = world.asked.borrow();
    assert_eq!(asked.len(), 1);
    let (service, device, flags, opener) = &asked[0];
    assert_eq!((service.as_str(), *device, *flags), ("console", 0x500, 2));
    assert_eq!((opener.pid, opener.process_group, opener.session, opener.uid), (30, 30, 30, 1000));
    // The port the client got is the console's, not the file server's.
    let _ = (&task, &world.console_task, &world.console_port);
    assert!(world.open_files() <= 2, "nothing opened here");
}

#[test]
fn malformed_and_forged_messages_are_refused_and_the_server_goes_on() {
    let world = world();
    let (task, mut root) = world.client(credential(10, 0, 0));
    let server = root.server().name();
    // Unknown ids, short bodies, wrong descriptors.
    for (id, words) in [(3050, 0), (fs::id::OPEN, 1), (io::id::READ, 0), (fs::id::RENAME, 3), (0o106, 1)] {
        let mut reply_port = ReceiveRight::allocate(&task).unwrap();
        let mut buffer = vec![0u8; 128];
        let mut writer = MessageWriter::new(&mut buffer, libmach::rpc::request_header(server, reply_port.name(), id));
        for _ in 0..words {
            writer.u32(7).unwrap();
        }
        let length = writer.finish().unwrap();
        libmach::rpc::call(&task, &mut reply_port, &mut buffer, length, None).unwrap();
        let code = libmach::rpc::read_reply(&task, &buffer, id).err();
        assert!(matches!(code, Some(Ok(code)) if code < 0), "id {id}: {code:?}");
    }
    // A no-senders "notification" from a task is not the kernel's: the root stays.
    let before = world.open_files();
    let mut buffer = vec![0u8; 64];
    let mut writer = MessageWriter::new(&mut buffer, libmach::rpc::one_way_header(server, 0o106));
    writer.u32(1).unwrap();
    let length = writer.finish().unwrap();
    task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
    world.system.run_servers();
    assert_eq!(world.open_files(), before);
    assert!(root.stat(b"/", true).is_ok(), "still serving");
    // A read through a directory, a write through a read-only file.
    let mut directory = io::Client::new(&task, root.open(b"/tmp", 0, 0).unwrap().file).unwrap();
    assert_eq!(directory.read(10).err(), Some(CallError::Interface(io::Error::IsADirectory)));
    assert_eq!(directory.get_terminal_attributes().err(), Some(CallError::Interface(io::Error::NotATerminal)));
    let _ = RpcError::ServerDied;
    world.system.check_invariants().unwrap();
}

mod hostile {
    //! Random requests with well-formed shapes and hostile values (huge
    //! counts and offsets, random flags and modes, odd paths, ports of
    //! closed files): every answer is a value or an error, the server never
    //! panics and the kernel's accounting stays consistent.
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Call {
        Open(u8, u32, u32),
        Read(u8, u32),
        ReadLarge(u8, u32),
        Write(u8, u16),
        Seek(u8, i64, u32),
        Truncate(u8, u64),
        Lock(u8, u32, u32, i64, i64, bool),
        Flock(u8, u32),
        Poll(u8, u32),
        Directory(u8, u32),
        Close(u8),
        Name(u8, u8, u8),
        Pipe(u32),
        Mount(u8, u8),
    }

    const PATHS: [&[u8]; 10] = [
        b"/tmp/a",
        b"/tmp/b",
        b"/tmp",
        b"/",
        b"/dev/null",
        b"/dev/zero",
        b"/tmp/a/",
        b"..",
        b"/tmp/../tmp/c",
        b"\xff\xfe",
    ];

    fn call() -> impl Strategy<Value = Call> {
        prop_oneof![
            (any::<u8>(), any::<u32>(), any::<u32>()).prop_map(|(p, f, m)| Call::Open(p, f, m)),
            (any::<u8>(), any::<u32>()).prop_map(|(h, c)| Call::Read(h, c)),
            (any::<u8>(), 0u32..200_000).prop_map(|(h, c)| Call::ReadLarge(h, c)),
            (any::<u8>(), any::<u16>()).prop_map(|(h, l)| Call::Write(h, l)),
            (any::<u8>(), any::<i64>(), any::<u32>()).prop_map(|(h, o, w)| Call::Seek(h, o, w)),
            (any::<u8>(), any::<u64>()).prop_map(|(h, l)| Call::Truncate(h, l)),
            (any::<u8>(), 0u32..4, 0u32..4, any::<i64>(), any::<i64>(), any::<bool>())
                .prop_map(|(h, k, w, s, l, b)| Call::Lock(h, k, w, s, l, b)),
            (any::<u8>(), any::<u32>()).prop_map(|(h, o)| Call::Flock(h, o)),
            (any::<u8>(), any::<u32>()).prop_map(|(h, e)| Call::Poll(h, e)),
            (any::<u8>(), any::<u32>()).prop_map(|(h, b)| Call::Directory(h, b)),
            any::<u8>().prop_map(Call::Close),
            (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(o, a, b)| Call::Name(o, a, b)),
            any::<u32>().prop_map(Call::Pipe),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Call::Mount(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn hostile_requests_get_answers_not_crashes(calls in proptest::collection::vec(call(), 1..60), uid in prop_oneof![Just(0u32), Just(1000u32)]) {
            let world = world();
            let (task, mut root) = world.client(credential(50, uid, uid));
            let mut files: Vec<Option<io::Client<FakeKernel>>> = Vec::new();
            for call in calls {
                let pick = |files: &mut Vec<Option<io::Client<FakeKernel>>>, index: u8| -> Option<usize> {
                    if files.is_empty() { None } else { Some(index as usize % files.len()) }
                };
                match call {
                    Call::Open(path, flags, mode) => {
                        // Non-blocking, so a FIFO-less open never waits.
                        let flags = flags | 0o4000;
                        if let Ok(reply) = root.open(PATHS[path as usize % PATHS.len()], flags, mode) {
                            files.push(io::Client::new(&task, reply.file).ok());
                        }
                    }
                    Call::Read(index, count) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.read(count); }
                    },
                    Call::ReadLarge(index, count) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.read_large(count); }
                    },
                    Call::Write(index, length) => if let Some(i) = pick(&mut files, index) {
                        let data = vec![7u8; length as usize % 9000];
                        if let Some(file) = files[i].as_mut() { let _ = file.write(&data); }
                    },
                    Call::Seek(index, offset, whence) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.seek(offset, whence); }
                    },
                    Call::Truncate(index, length) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.truncate(length % (1 << 24)); }
                    },
                    Call::Lock(index, kind, whence, start, length, _wait) => if let Some(i) = pick(&mut files, index) {
                        // Never wait: the fake kernel cannot block the caller.
                        let lock = io::Lock { kind, whence, start, length };
                        if let Some(file) = files[i].as_mut() { let _ = file.set_lock(&lock, false); let _ = file.test_lock(&lock); }
                    },
                    Call::Flock(index, operation) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.flock(operation | 4); }
                    },
                    Call::Poll(index, events) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.poll(events, false, 1); }
                    },
                    Call::Directory(index, budget) => if let Some(i) = pick(&mut files, index) {
                        if let Some(file) = files[i].as_mut() { let _ = file.read_directory(budget); }
                    },
                    Call::Close(index) => if let Some(i) = pick(&mut files, index) { files[i] = None; },
                    Call::Name(operation, a, b) => {
                        let (a, b) = (PATHS[a as usize % PATHS.len()], PATHS[b as usize % PATHS.len()]);
                        let _ = match operation % 6 {
                            0 => root.make_directory(a, 0o755),
                            1 => root.unlink(a, operation & 8 != 0),
                            2 => root.symlink(b, a),
                            3 => root.make_node(a, 0o010644, 0),
                            4 => root.change_mode(a, operation as u32, true),
                            _ => root.truncate(a, 3),
                        };
                        let directory = root.open(b"/tmp", 0o200000, 0).map(|reply| reply.file);
                        if let Ok(directory) = directory { let _ = root.rename(a, &directory, b"x"); }
                    }
                    Call::Pipe(flags) => {
                        if let Ok(pipe) = root.pipe(flags) {
                            files.push(io::Client::new(&task, pipe.read_end).ok());
                            files.push(io::Client::new(&task, pipe.write_end).ok());
                        }
                    }
                    Call::Mount(a, b) => {
                        let _ = root.mount(PATHS[a as usize % PATHS.len()], PATHS[b as usize % PATHS.len()], "tmpfs", a & 1 == 0);
                        let _ = root.unmount(PATHS[b as usize % PATHS.len()]);
                    }
                }
            }
            prop_assert!(root.stat(b"/", true).is_ok(), "still serving");
            drop(files);
            world.system.run_servers();
            prop_assert!(world.system.check_invariants().is_ok());
        }
    }
}
