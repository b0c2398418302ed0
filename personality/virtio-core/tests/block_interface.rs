//! block.defs end to end on the host: the generated client, the generated
//! dispatch and `MemoryDisk` (which answers as the driver does) through the
//! fake kernel: every routine, every error, malformed requests, and the
//! out-of-line memory of both directions freed.

use std::cell::RefCell;
use std::rc::Rc;

use libmach::abi::{PortName, PortRight};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::message::{InlineReader, MessageWriter};
use libmach::mig::{MIG_BAD_ARGUMENTS, MIG_BAD_ID};
use libmach::{CallError, PortKernel, ReceiveRight, RpcError, SendRight};
use mach_virtio_core::memory_disk::MemoryDisk;
use personality_interfaces::block;

struct Fixture {
    system: FakeSystem,
    client_task: FakeKernel,
    disk: Rc<RefCell<MemoryDisk<FakeKernel>>>,
    service_send: PortName,
    _service: ReceiveRight<FakeKernel>,
}

impl Fixture {
    fn new(block_size: u32, block_count: u64) -> Fixture {
        let system = FakeSystem::new();
        let server_task = system.task();
        let client_task = system.task();
        let service = ReceiveRight::allocate(&server_task).unwrap();
        let disk = Rc::new(RefCell::new(MemoryDisk::new(&server_task, block_size, block_count)));
        let handler_disk = disk.clone();
        let handler_kernel = server_task.clone();
        system.attach_server(&server_task, service.name(), block::BUFFER_SIZE, move |request, reply| {
            block::dispatch(&mut *handler_disk.borrow_mut(), &handler_kernel, request, reply)
        });
        let service_send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
        Fixture { system, client_task, disk, service_send, _service: service }
    }

    fn client(&self) -> block::Client<FakeKernel> {
        self.client_task.port_mod_refs(self.service_send, PortRight::Send, 1).unwrap();
        block::Client::new(&self.client_task, SendRight::from_name(&self.client_task, self.service_send)).unwrap()
    }

    /// A hand-built request; the reply's code, or `None` without a reply
    /// (none came, or the reply right came back unanswered).
    fn raw_call(&self, id: i32, build: impl FnOnce(&mut MessageWriter)) -> Option<i32> {
        let mut reply_port = ReceiveRight::allocate(&self.client_task).unwrap();
        let mut buffer = vec![0u8; 4096];
        let header = libmach::rpc::request_header(self.service_send, reply_port.name(), id);
        let mut writer = MessageWriter::new(&mut buffer, header);
        build(&mut writer);
        let length = writer.finish().unwrap();
        match libmach::rpc::call(&self.client_task, &mut reply_port, &mut buffer, length, None) {
            Ok(()) => {
                let (view, _) = libmach::abi::parse_received(&buffer).unwrap();
                if view.header.id != id + 100 {
                    assert_eq!(view.header.id, libmach::abi::NotifyId::SendOnce.as_u32() as i32);
                    return None;
                }
                Some(InlineReader::new(view.inline_data).i32().unwrap())
            }
            Err(RpcError::Receive(_)) => None,
            Err(other) => panic!("raw call failed: {other:?}"),
        }
    }

    fn check(&self) {
        self.system.check_invariants().unwrap();
        assert_eq!(self.system.live_regions(), 0, "out-of-line memory left mapped");
    }
}

fn error<T: std::fmt::Debug>(result: Result<T, CallError<block::Error>>) -> block::Error {
    match result {
        Err(CallError::Interface(error)) => error,
        other => panic!("expected an interface error, got {other:?}"),
    }
}

#[test]
fn info_read_write_flush() {
    let fixture = Fixture::new(512, 64);
    let mut client = fixture.client();
    let info = client.info().unwrap();
    assert_eq!((info.block_size, info.block_count, info.read_only, info.max_transfer), (512, 64, false, 1 << 20));
    let data: Vec<u8> = (0..1536).map(|index| (index * 7) as u8).collect();
    client.write(10, &data).unwrap();
    assert_eq!(fixture.disk.borrow().bytes[10 * 512..13 * 512], data[..]);
    let back = client.read(10, 3).unwrap();
    assert_eq!(back.bytes(), &data[..]);
    drop(back);
    client.flush().unwrap();
    assert_eq!(fixture.disk.borrow().flushes, 1);
    fixture.check();
}

#[test]
fn a_whole_mebibyte_each_way() {
    let fixture = Fixture::new(4096, 1024);
    let mut client = fixture.client();
    let data: Vec<u8> = (0..1 << 20).map(|index: usize| (index / 4096) as u8 ^ index as u8).collect();
    client.write(7, &data).unwrap();
    let back = client.read(7, 256).unwrap();
    assert_eq!(back.len(), 1 << 20);
    assert!(back.bytes() == &data[..]);
    drop(back);
    fixture.check();
}

#[test]
fn errors_come_back_as_errors() {
    let fixture = Fixture::new(512, 64);
    let mut client = fixture.client();
    assert_eq!(error(client.read(63, 2)), block::Error::OutOfRange);
    assert_eq!(error(client.read(u64::MAX, 1)), block::Error::OutOfRange);
    assert_eq!(error(client.read(0, 0)), block::Error::BadRequest);
    assert_eq!(error(client.read(0, 2049)), block::Error::BadRequest);
    assert_eq!(error(client.write(64, &[0; 512])), block::Error::OutOfRange);
    assert_eq!(error(client.write(0, &[0; 100])), block::Error::BadRequest);
    // Over the interface's bound: refused by the client before sending.
    let too_long = vec![0u8; (1 << 20) + 512];
    assert!(matches!(client.write(0, &too_long), Err(CallError::Rpc(RpcError::Write(_)))));
    fixture.disk.borrow_mut().failing_blocks.push(5);
    assert_eq!(error(client.read(4, 2)), block::Error::DeviceError);
    assert_eq!(error(client.write(5, &[0; 512])), block::Error::DeviceError);
    fixture.disk.borrow_mut().geometry.read_only = true;
    assert_eq!(error(client.write(0, &[0; 512])), block::Error::ReadOnly);
    fixture.disk.borrow_mut().geometry.flush = false;
    assert_eq!(error(client.flush()), block::Error::Unsupported);
    assert!(client.info().unwrap().read_only);
    fixture.check();
}

#[test]
fn malformed_requests_are_refused_and_release_what_they_carried() {
    let fixture = Fixture::new(512, 64);
    // read with a short body; write without its data; write with the data
    // inline instead; trailing bytes; an id past the interface.
    assert_eq!(fixture.raw_call(block::id::READ, |writer| writer.u32(1).unwrap()), Some(MIG_BAD_ARGUMENTS));
    assert_eq!(fixture.raw_call(block::id::WRITE, |writer| writer.u64(0).unwrap()), Some(MIG_BAD_ARGUMENTS));
    let bytes = [0u8; 512];
    // Data inline: larger than any block request, so the kernel destroys it
    // at the server's receive, and the reply right comes back unanswered.
    let inline = fixture.raw_call(block::id::WRITE, |writer| {
        writer.u64(0).unwrap();
        writer.bytes(&bytes, 512).unwrap();
    });
    assert_eq!(inline, None);
    let short_inline = fixture.raw_call(block::id::WRITE, |writer| {
        writer.u64(0).unwrap();
        writer.bytes(&bytes[..16], 16).unwrap();
    });
    assert_eq!(short_inline, Some(MIG_BAD_ARGUMENTS));
    assert_eq!(fixture.raw_call(block::id::FLUSH, |writer| writer.u32(0).unwrap()), Some(MIG_BAD_ARGUMENTS));
    assert_eq!(fixture.raw_call(block::SUBSYSTEM_BASE + 50, |_| {}), Some(MIG_BAD_ID));
    // An out-of-line region sent to info is released.
    let descriptor = libmach::message::out_of_line_descriptor(&bytes, 512).unwrap();
    let with_region = fixture.raw_call(block::id::INFO, |writer| writer.descriptor(descriptor).unwrap());
    assert_eq!(with_region, Some(MIG_BAD_ARGUMENTS));
    assert_eq!(fixture.client().info().unwrap().block_count, 64);
    fixture.check();
}

#[test]
fn several_clients_share_the_disk() {
    let fixture = Fixture::new(512, 64);
    let mut clients: Vec<_> = (0..4).map(|_| fixture.client()).collect();
    for (index, client) in clients.iter_mut().enumerate() {
        client.write(index as u64 * 8, &[index as u8 + 1; 4096]).unwrap();
    }
    for (index, client) in clients.iter_mut().enumerate().rev() {
        let block = client.read(index as u64 * 8, 8).unwrap();
        assert!(block.bytes().iter().all(|&byte| byte == index as u8 + 1));
    }
    drop(clients);
    fixture.check();
}
