//! Unit tests of the safe layer against a recording kernel: what each
//! owned right does when dropped or cloned, what the RPC call and the server
//! loop ask the kernel, and the message reader's bounds.

extern crate std;

use std::cell::RefCell;
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

use mach_abi::{
    Descriptor, Disposition, KernReturn, MachMsgHeader, MachMsgOption, MachMsgReturn, MachMsgTimeout, PortName,
    PortRight, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};

use crate::kernel::PortKernel;
use crate::message::{BoundedBytes, BoundedString, DecodeError, InlineReader, MessageWriter, WriteError};
use crate::rights::{PortSet, ReceiveRight, SendOnceRight, SendRight};
use crate::rpc::{self, RpcError};
use crate::server::{self, Dispatch, Handled};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Allocate(PortRight),
    Deallocate(PortName),
    Destroy(PortName),
    ModRefs(PortName, PortRight, i32),
    InsertRight(PortName, PortName, u32),
    MoveMember(PortName, PortName),
    RequestNotification(PortName, u32, u32, PortName, u32),
    ReplyPort,
    MachMsg(MachMsgOption, usize, PortName),
    VmDeallocate(u64, u64),
}

/// A scripted `mach_msg` outcome: the result and the bytes it delivers.
type ScriptedAnswer = (Result<(), MachMsgReturn>, Vec<u8>);

/// A kernel that records every call and answers `mach_msg` from a script.
#[derive(Clone, Debug, Default)]
struct RecordingKernel {
    calls: Rc<RefCell<Vec<Call>>>,
    next_name: Rc<RefCell<PortName>>,
    /// Results (and bytes to deliver) for the next `mach_msg` calls.
    script: Rc<RefCell<Vec<ScriptedAnswer>>>,
    /// What was sent.
    sent: Rc<RefCell<Vec<Vec<u8>>>>,
}

impl RecordingKernel {
    fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    fn clear(&self) {
        self.calls.borrow_mut().clear();
    }

    fn new_name(&self) -> PortName {
        let mut next = self.next_name.borrow_mut();
        *next += 0x100;
        *next
    }

    fn answer(&self, result: Result<(), MachMsgReturn>, bytes: Vec<u8>) {
        self.script.borrow_mut().push((result, bytes));
    }
}

impl PortKernel for RecordingKernel {
    fn port_allocate(&self, right: PortRight) -> Result<PortName, KernReturn> {
        self.calls.borrow_mut().push(Call::Allocate(right));
        Ok(self.new_name())
    }
    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
        self.calls.borrow_mut().push(Call::Deallocate(name));
        Ok(())
    }
    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
        self.calls.borrow_mut().push(Call::Destroy(name));
        Ok(())
    }
    fn port_mod_refs(&self, name: PortName, right: PortRight, delta: i32) -> Result<(), KernReturn> {
        self.calls.borrow_mut().push(Call::ModRefs(name, right, delta));
        Ok(())
    }
    fn port_insert_right(&self, name: PortName, right_name: PortName, disposition: u32) -> Result<(), KernReturn> {
        self.calls.borrow_mut().push(Call::InsertRight(name, right_name, disposition));
        Ok(())
    }
    fn port_move_member(&self, member: PortName, set: PortName) -> Result<(), KernReturn> {
        self.calls.borrow_mut().push(Call::MoveMember(member, set));
        Ok(())
    }
    fn port_type(&self, _name: PortName) -> Result<u32, KernReturn> {
        Err(KernReturn::InvalidName)
    }
    fn port_request_notification(
        &self,
        name: PortName,
        message_id: u32,
        sync: u32,
        notify: PortName,
        notify_disposition: u32,
    ) -> Result<PortName, KernReturn> {
        self.calls.borrow_mut().push(Call::RequestNotification(name, message_id, sync, notify, notify_disposition));
        Ok(0)
    }
    fn reply_port(&self) -> Result<PortName, KernReturn> {
        self.calls.borrow_mut().push(Call::ReplyPort);
        Ok(self.new_name())
    }
    fn mach_msg(
        &self,
        buffer: &mut [u8],
        option: MachMsgOption,
        send_size: usize,
        receive_name: PortName,
        _timeout: MachMsgTimeout,
    ) -> Result<(), MachMsgReturn> {
        self.calls.borrow_mut().push(Call::MachMsg(option, send_size, receive_name));
        if option & MACH_SEND_MSG != 0 {
            self.sent.borrow_mut().push(buffer[..send_size].to_vec());
        }
        let (result, bytes) = if self.script.borrow().is_empty() {
            (Err(MachMsgReturn::ReceiveTimedOut), Vec::new())
        } else {
            self.script.borrow_mut().remove(0)
        };
        buffer[..bytes.len()].copy_from_slice(&bytes);
        result
    }
    fn vm_deallocate(&self, address: u64, size: u64) -> Result<(), KernReturn> {
        self.calls.borrow_mut().push(Call::VmDeallocate(address, size));
        Ok(())
    }
    fn vm_allocate(&self, _size: u64) -> Result<u64, KernReturn> {
        Err(KernReturn::NoSpace)
    }
    fn out_of_line_bytes(&self, _address: u64, _size: u32) -> Option<&[u8]> {
        None
    }
    fn out_of_line_pointer(&self, _address: u64, _size: u32) -> Option<*mut u8> {
        None
    }
}

#[test]
fn dropping_each_right_releases_it_the_way_mach_wants() {
    let kernel = RecordingKernel::default();
    let receive = ReceiveRight::allocate(&kernel).unwrap();
    let name = receive.name();
    let send = receive.make_send().unwrap();
    assert_eq!(send.name(), name);
    let clone = send.try_clone().unwrap();
    let set = PortSet::allocate(&kernel).unwrap();
    set.insert(&receive).unwrap();
    let set_name = set.name();
    let once = SendOnceRight::from_name(&kernel, 0x7700);
    kernel.clear();
    drop(clone);
    drop(send);
    drop(once);
    drop(set);
    drop(receive);
    assert_eq!(
        kernel.calls(),
        vec![
            Call::Deallocate(name),
            Call::Deallocate(name),
            Call::Deallocate(0x7700),
            Call::Destroy(set_name),
            Call::ModRefs(name, PortRight::Receive, -1),
        ]
    );
}

#[test]
fn make_send_clone_and_set_membership_are_single_kernel_calls() {
    let kernel = RecordingKernel::default();
    let receive = ReceiveRight::allocate(&kernel).unwrap();
    let set = PortSet::allocate(&kernel).unwrap();
    kernel.clear();
    let send = receive.make_send().unwrap();
    let clone = send.try_clone().unwrap();
    receive.join(&set).unwrap();
    receive.leave_set().unwrap();
    let name = receive.name();
    assert_eq!(
        kernel.calls(),
        vec![
            Call::InsertRight(name, name, Disposition::MakeSend as u32),
            Call::ModRefs(name, PortRight::Send, 1),
            Call::MoveMember(name, set.name()),
            Call::MoveMember(name, 0),
        ]
    );
    core::mem::forget((send, clone, receive, set));
}

#[test]
fn moved_and_into_name_give_up_ownership_without_a_call() {
    let kernel = RecordingKernel::default();
    let receive = ReceiveRight::allocate(&kernel).unwrap();
    let send = SendRight::from_name(&kernel, 0x900);
    let once = SendOnceRight::from_name(&kernel, 0xa00);
    assert_eq!(send.descriptor_move_send(), Descriptor::Port { name: 0x900, disposition: Disposition::MoveSend });
    assert_eq!(send.descriptor_copy_send(), Descriptor::Port { name: 0x900, disposition: Disposition::CopySend });
    assert_eq!(
        once.descriptor_move_send_once().clone(),
        Descriptor::Port { name: 0xa00, disposition: Disposition::MoveSendOnce }
    );
    let name = receive.name();
    assert_eq!(receive.descriptor_make_send_once(), Descriptor::Port { name, disposition: Disposition::MakeSendOnce });
    kernel.clear();
    send.moved();
    once.moved();
    assert_eq!(receive.into_name(), name);
    assert!(kernel.calls().is_empty());
}

#[test]
fn a_dead_send_right_clones_without_a_call_and_null_does_not_clone() {
    let kernel = RecordingKernel::default();
    let dead = SendRight::from_received(&kernel, mach_abi::MACH_PORT_DEAD);
    assert!(dead.is_dead());
    let copy = dead.try_clone().unwrap();
    assert!(kernel.calls().is_empty());
    core::mem::forget(copy);
    let null = SendRight::from_name(&kernel, 0);
    assert_eq!(null.try_clone().unwrap_err(), KernReturn::InvalidName);
}

fn reply_bytes(id: i32, code: i32, extra: &[u8]) -> Vec<u8> {
    let mut buffer = vec![0u8; 256];
    let header = MachMsgHeader { bits: 0x12, id, ..Default::default() };
    let mut writer = MessageWriter::new(&mut buffer, header);
    writer.i32(code).unwrap();
    if !extra.is_empty() {
        writer.bytes(extra, 64).unwrap();
    }
    let length = writer.finish().unwrap();
    buffer.truncate(length);
    buffer.extend_from_slice(&[0u8; 16]);
    buffer
}

#[test]
fn a_call_is_one_mach_msg_with_send_and_receive_on_the_reply_port() {
    let kernel = RecordingKernel::default();
    let mut reply_port = ReceiveRight::allocate(&kernel).unwrap();
    let reply_name = reply_port.name();
    let mut buffer = vec![0u8; 256];
    let mut writer = MessageWriter::new(&mut buffer, rpc::request_header(0x500, reply_name, 77));
    writer.u32(5).unwrap();
    let length = writer.finish().unwrap();
    kernel.answer(Ok(()), reply_bytes(177, 0, b"abc"));
    kernel.clear();
    rpc::call(&kernel, &mut reply_port, &mut buffer, length, Some(30)).unwrap();
    let option = MACH_SEND_MSG | MACH_RCV_MSG | MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT;
    assert_eq!(kernel.calls(), vec![Call::MachMsg(option, length, reply_name)]);
    let sent = kernel.sent.borrow()[0].clone();
    let header = MachMsgHeader::read_from(&sent).unwrap();
    assert_eq!(header.bits, mach_abi::msgh_bits(Disposition::CopySend as u32, Disposition::MakeSendOnce as u32));
    assert_eq!((header.remote_port, header.local_port, header.id), (0x500, reply_name, 77));
    let (_, mut reader) = rpc::read_reply(&kernel, &buffer, 77).unwrap();
    assert_eq!(reader.bytes(64).unwrap(), b"abc");
    assert_eq!(reply_port.name(), reply_name);
}

#[test]
fn a_receive_failure_replaces_the_reply_port_and_a_send_failure_does_not() {
    let kernel = RecordingKernel::default();
    let mut reply_port = ReceiveRight::allocate(&kernel).unwrap();
    let first = reply_port.name();
    let mut buffer = vec![0u8; 64];
    kernel.answer(Err(MachMsgReturn::SendInvalidDest), Vec::new());
    assert_eq!(
        rpc::call(&kernel, &mut reply_port, &mut buffer, 24, None),
        Err(RpcError::Send(MachMsgReturn::SendInvalidDest))
    );
    assert!(!rpc::request_was_sent(&Err(RpcError::Send(MachMsgReturn::SendInvalidDest))));
    assert_eq!(reply_port.name(), first);
    kernel.answer(Err(MachMsgReturn::ReceiveTimedOut), Vec::new());
    kernel.clear();
    let result = rpc::call(&kernel, &mut reply_port, &mut buffer, 24, Some(5));
    assert_eq!(result, Err(RpcError::Receive(MachMsgReturn::ReceiveTimedOut)));
    assert!(rpc::request_was_sent(&result));
    assert_ne!(reply_port.name(), first);
    // The old reply port was destroyed, so a late reply dies with it.
    assert!(kernel.calls().contains(&Call::ModRefs(first, PortRight::Receive, -1)));
}

#[test]
fn an_interrupted_call_takes_a_reply_that_already_arrived() {
    let kernel = RecordingKernel::default();
    let mut reply_port = ReceiveRight::allocate(&kernel).unwrap();
    let first = reply_port.name();
    let mut buffer = vec![0u8; 256];
    kernel.answer(Err(MachMsgReturn::ReceiveInterrupted), Vec::new());
    kernel.answer(Ok(()), reply_bytes(177, 0, b"late"));
    kernel.clear();
    assert_eq!(rpc::call(&kernel, &mut reply_port, &mut buffer, 24, None), Ok(()));
    // The second look is a receive alone, without waiting, on the same port.
    assert_eq!(
        kernel.calls(),
        vec![
            Call::MachMsg(MACH_SEND_MSG | MACH_RCV_MSG, 24, first),
            Call::MachMsg(MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, first)
        ]
    );
    assert_eq!(reply_port.name(), first);
    let (_, mut reader) = rpc::read_reply(&kernel, &buffer, 77).unwrap();
    assert_eq!(reader.bytes(64).unwrap(), b"late");
}

#[test]
fn an_interrupted_call_without_a_reply_destroys_the_reply_port() {
    let kernel = RecordingKernel::default();
    let mut reply_port = ReceiveRight::allocate(&kernel).unwrap();
    let first = reply_port.name();
    let mut buffer = vec![0u8; 256];
    kernel.answer(Err(MachMsgReturn::ReceiveInterrupted), Vec::new());
    kernel.answer(Err(MachMsgReturn::ReceiveTimedOut), Vec::new());
    kernel.clear();
    let result = rpc::call(&kernel, &mut reply_port, &mut buffer, 24, None);
    assert_eq!(result, Err(RpcError::Receive(MachMsgReturn::ReceiveInterrupted)));
    assert!(rpc::request_was_sent(&result));
    assert_ne!(reply_port.name(), first);
    // A server answering later finds a dead reply right and keeps its data.
    assert!(kernel.calls().contains(&Call::ModRefs(first, PortRight::Receive, -1)));
    // An interrupted send sent nothing: no second look, the port stays.
    let second = reply_port.name();
    kernel.answer(Err(MachMsgReturn::SendInterrupted), Vec::new());
    kernel.clear();
    let result = rpc::call(&kernel, &mut reply_port, &mut buffer, 24, None);
    assert_eq!(result, Err(RpcError::Send(MachMsgReturn::SendInterrupted)));
    assert_eq!(kernel.calls().len(), 1);
    assert_eq!(reply_port.name(), second);
}

#[test]
fn a_reply_with_the_wrong_id_or_a_nonzero_code_is_reported() {
    let kernel = RecordingKernel::default();
    let wrong = reply_bytes(999, 0, b"");
    assert!(matches!(
        rpc::read_reply(&kernel, &wrong, 77),
        Err(Err(RpcError::Reply(DecodeError::WrongReplyId { expected: 177, found: 999 })))
    ));
    let failed = reply_bytes(177, 4, b"");
    assert!(matches!(rpc::read_reply(&kernel, &failed, 77), Err(Ok(4))));
    assert!(matches!(rpc::code_error::<()>(-304, |_| None), crate::CallError::Rpc(RpcError::Server(-304))));
    assert!(matches!(rpc::code_error::<()>(12345, |_| None), crate::CallError::Rpc(RpcError::UnknownCode(12345))));
    assert!(matches!(rpc::code_error(3, |code| (code == 3).then_some("three")), crate::CallError::Interface("three")));
}

fn request_bytes(id: i32, with_reply_port: bool, descriptors: &[Descriptor]) -> Vec<u8> {
    let mut buffer = vec![0u8; 256];
    let mut header = MachMsgHeader { id, local_port: 0x100, ..Default::default() };
    if with_reply_port {
        header.bits = mach_abi::msgh_bits(mach_abi::MACH_MSG_TYPE_PORT_SEND_ONCE, mach_abi::MACH_MSG_TYPE_PORT_SEND);
        header.remote_port = 0x4400;
    } else {
        header.bits = mach_abi::msgh_bits(0, mach_abi::MACH_MSG_TYPE_PORT_SEND);
    }
    let mut writer = MessageWriter::new(&mut buffer, header);
    for descriptor in descriptors {
        writer.descriptor(*descriptor).unwrap();
    }
    writer.u32(1).unwrap();
    let length = writer.finish().unwrap();
    buffer.truncate(length);
    buffer.extend_from_slice(&[0u8; 16]);
    buffer
}

#[test]
fn the_server_loop_answers_an_unknown_id_with_bad_id_and_releases_what_came() {
    let kernel = RecordingKernel::default();
    let port = Descriptor::Port { name: 0x5500, disposition: Disposition::MoveSend };
    kernel.answer(Ok(()), request_bytes(42, true, &[port]));
    kernel.answer(Ok(()), Vec::new());
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut handler = |_: &[u8], _: &mut [u8]| Dispatch::UnknownId;
    let handled = server::handle_one(&kernel, 0x100, &mut request, &mut reply, None, &mut handler).unwrap();
    assert_eq!(handled, Handled::UnknownId);
    let calls = kernel.calls();
    assert_eq!(calls[0], Call::MachMsg(MACH_RCV_MSG, 0, 0x100));
    assert_eq!(calls[1], Call::Deallocate(0x5500));
    assert!(matches!(calls[2], Call::MachMsg(option, 28, 0) if option & MACH_SEND_MSG != 0));
    let sent = kernel.sent.borrow()[0].clone();
    let header = MachMsgHeader::read_from(&sent).unwrap();
    assert_eq!((header.remote_port, header.id), (0x4400, 142));
    assert_eq!(header.bits, mach_abi::MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(i32::from_le_bytes(sent[24..28].try_into().unwrap()), crate::mig::MIG_BAD_ID);
}

#[test]
fn the_server_loop_does_not_answer_without_a_reply_port_and_survives_a_failed_reply() {
    let kernel = RecordingKernel::default();
    kernel.answer(Ok(()), request_bytes(42, false, &[]));
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut unknown = |_: &[u8], _: &mut [u8]| Dispatch::UnknownId;
    assert_eq!(
        server::handle_one(&kernel, 0x100, &mut request, &mut reply, None, &mut unknown),
        Ok(Handled::UnknownId)
    );
    assert_eq!(kernel.sent.borrow().len(), 0);

    // A reply moving a send right, whose send fails: the right and the reply right are released.
    kernel.answer(Ok(()), request_bytes(42, true, &[]));
    kernel.answer(Err(MachMsgReturn::SendInvalidDest), Vec::new());
    kernel.clear();
    let mut moving = |request: &[u8], reply: &mut [u8]| {
        let header = MachMsgHeader::read_from(request).unwrap();
        let mut writer = MessageWriter::new(reply, server::reply_header(&header));
        writer.descriptor(Descriptor::Port { name: 0x6600, disposition: Disposition::MoveSend }).unwrap();
        writer.i32(0).unwrap();
        Dispatch::Reply(writer.finish().unwrap())
    };
    let handled = server::handle_one(&kernel, 0x100, &mut request, &mut reply, None, &mut moving).unwrap();
    assert_eq!(handled, Handled::ReplyFailed(MachMsgReturn::SendInvalidDest));
    let calls = kernel.calls();
    assert!(calls.contains(&Call::Deallocate(0x6600)));
    assert!(calls.contains(&Call::Deallocate(0x4400)));
    // A receive error ends `run`; an empty script answers MACH_RCV_TIMED_OUT, which is not retried.
    kernel.answer(Err(MachMsgReturn::ReceiveInvalidName), Vec::new());
    assert_eq!(server::run(&kernel, 0x100, &mut request, &mut reply, &mut moving), MachMsgReturn::ReceiveInvalidName);
}

#[test]
fn the_loop_sends_each_reply_and_receives_the_next_request_in_one_trap() {
    let kernel = RecordingKernel::default();
    let port = Descriptor::Port { name: 0x5500, disposition: Disposition::MoveSend };
    kernel.answer(Ok(()), request_bytes(42, true, &[port]));
    kernel.answer(Ok(()), request_bytes(43, true, &[]));
    kernel.answer(Err(MachMsgReturn::ReceivePortDied), Vec::new());
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut unknown = |_: &[u8], _: &mut [u8]| Dispatch::UnknownId;
    assert_eq!(server::run(&kernel, 0x100, &mut request, &mut reply, &mut unknown), MachMsgReturn::ReceivePortDied);
    let combined = MACH_SEND_MSG | MACH_SEND_TIMEOUT | MACH_RCV_MSG;
    assert_eq!(
        kernel.calls(),
        vec![
            Call::MachMsg(MACH_RCV_MSG, 0, 0x100),
            Call::Deallocate(0x5500),
            Call::MachMsg(combined, 28, 0x100),
            Call::MachMsg(combined, 28, 0x100),
        ]
    );
    let sent = kernel.sent.borrow().clone();
    assert_eq!(MachMsgHeader::read_from(&sent[0]).unwrap().id, 142);
    assert_eq!(MachMsgHeader::read_from(&sent[1]).unwrap().id, 143);
}

#[test]
fn a_reply_that_cannot_be_sent_is_released_and_the_loop_receives_again() {
    let kernel = RecordingKernel::default();
    kernel.answer(Ok(()), request_bytes(42, true, &[]));
    kernel.answer(Err(MachMsgReturn::SendInvalidDest), Vec::new());
    kernel.answer(Err(MachMsgReturn::ReceiveInvalidName), Vec::new());
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut unknown = |_: &[u8], _: &mut [u8]| Dispatch::UnknownId;
    assert_eq!(server::run(&kernel, 0x100, &mut request, &mut reply, &mut unknown), MachMsgReturn::ReceiveInvalidName);
    let calls = kernel.calls();
    assert_eq!(calls[2], Call::Deallocate(0x4400), "the reply right is given back");
    assert_eq!(calls[3], Call::MachMsg(MACH_RCV_MSG, 0, 0x100));
}

#[test]
fn the_server_loop_sends_each_reply_with_the_next_receive_and_flushes_the_last() {
    let kernel = RecordingKernel::default();
    kernel.answer(Ok(()), request_bytes(42, true, &[]));
    kernel.answer(Ok(()), request_bytes(43, true, &[]));
    kernel.answer(Ok(()), Vec::new());
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut unknown = |_: &[u8], _: &mut [u8]| Dispatch::UnknownId;
    let mut serving = server::ServerLoop::new(&mut request, &mut reply);
    let options = server::ServeOptions::default();
    assert_eq!(serving.handle_one(&kernel, 0x100, options, None, &mut unknown), Ok(Handled::UnknownId));
    assert_eq!(kernel.sent.borrow().len(), 0, "the reply waits for the next receive");
    assert_eq!(serving.handle_one(&kernel, 0x100, options, Some(5), &mut unknown), Ok(Handled::UnknownId));
    serving.flush(&kernel).unwrap();
    serving.flush(&kernel).unwrap();
    let combined = MACH_SEND_MSG | MACH_SEND_TIMEOUT | MACH_RCV_MSG | MACH_RCV_TIMEOUT;
    assert_eq!(
        kernel.calls(),
        vec![
            Call::MachMsg(MACH_RCV_MSG, 0, 0x100),
            Call::MachMsg(combined, 28, 0x100),
            Call::MachMsg(MACH_SEND_MSG | MACH_SEND_TIMEOUT, 28, 0),
        ],
        "one trap per request, the last reply sent alone by flush (once)"
    );
    let sent = kernel.sent.borrow().clone();
    assert_eq!(MachMsgHeader::read_from(&sent[0]).unwrap().id, 142);
    assert_eq!(MachMsgHeader::read_from(&sent[1]).unwrap().id, 143);
}

#[test]
fn the_server_loop_releases_a_reply_it_cannot_send_and_receives_alone() {
    let kernel = RecordingKernel::default();
    kernel.answer(Ok(()), request_bytes(42, true, &[]));
    kernel.answer(Err(MachMsgReturn::SendInvalidDest), Vec::new());
    kernel.answer(Err(MachMsgReturn::ReceiveInvalidName), Vec::new());
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut unknown = |_: &[u8], _: &mut [u8]| Dispatch::UnknownId;
    let mut serving = server::ServerLoop::new(&mut request, &mut reply);
    let options = server::ServeOptions::default();
    assert_eq!(serving.handle_one(&kernel, 0x100, options, None, &mut unknown), Ok(Handled::UnknownId));
    assert_eq!(serving.handle_one(&kernel, 0x100, options, None, &mut unknown), Err(MachMsgReturn::ReceiveInvalidName));
    assert_eq!(serving.take_reply_failure(), Some(MachMsgReturn::SendInvalidDest));
    assert_eq!(serving.take_reply_failure(), None);
    let calls = kernel.calls();
    assert_eq!(calls[2], Call::Deallocate(0x4400), "the reply right is given back");
    assert_eq!(calls[3], Call::MachMsg(MACH_RCV_MSG, 0, 0x100));
    serving.flush(&kernel).unwrap();
    assert_eq!(kernel.calls().len(), 4, "nothing left to send");
}

#[test]
fn a_too_large_request_is_skipped() {
    let kernel = RecordingKernel::default();
    kernel.answer(Err(MachMsgReturn::ReceiveTooLarge), Vec::new());
    let mut request = vec![0u8; 64];
    let mut reply = vec![0u8; 64];
    let mut handler = |_: &[u8], _: &mut [u8]| Dispatch::NoReply;
    assert_eq!(
        server::handle_one(&kernel, 0x100, &mut request, &mut reply, Some(0), &mut handler),
        Ok(Handled::RequestTooLarge)
    );
    assert_eq!(kernel.calls()[0], Call::MachMsg(MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 0x100));
}

#[test]
fn received_memory_is_deallocated_when_refused() {
    let kernel = RecordingKernel::default();
    let memory = Descriptor::OutOfLineMemory {
        address: 0x1000_0000,
        size: 8192,
        deallocate: false,
        copy: mach_abi::CopyOption::VirtualCopy,
    };
    let receive = Descriptor::Port { name: 0x7100, disposition: Disposition::MoveReceive };
    let bytes = request_bytes(1, true, &[memory, receive]);
    let (view, _) = mach_abi::parse_received(&bytes).unwrap();
    let mut reply = vec![0u8; 64];
    assert_eq!(server::error_reply(&kernel, &view, -304, &mut reply), Dispatch::Reply(28));
    assert_eq!(
        kernel.calls(),
        vec![Call::VmDeallocate(0x1000_0000, 8192), Call::ModRefs(0x7100, PortRight::Receive, -1)]
    );
}

#[test]
fn out_of_line_data_is_deallocated_once_unless_moved() {
    let kernel = RecordingKernel::default();
    let region = crate::message::OutOfLineData::from_received(&kernel, 0x2000_0000, 300);
    assert_eq!(
        region.descriptor_move(299),
        Err(WriteError::TooLong { length: 300, bound: 299 }),
        "a region over the routine's bound is refused"
    );
    assert_eq!(
        region.descriptor_move(300).unwrap(),
        Descriptor::OutOfLineMemory {
            address: 0x2000_0000,
            size: 300,
            deallocate: true,
            copy: mach_abi::CopyOption::VirtualCopy
        }
    );
    drop(region);
    assert_eq!(kernel.calls(), vec![Call::VmDeallocate(0x2000_0000, 300)]);
    kernel.clear();
    let moved = crate::message::OutOfLineData::from_received(&kernel, 0x3000_0000, 10);
    moved.moved();
    let empty = crate::message::OutOfLineData::allocate(&kernel, 0).unwrap();
    assert!(empty.bytes().is_empty());
    drop(empty);
    assert!(kernel.calls().is_empty(), "moved and empty regions make no call");
    // The recording kernel cannot allocate: the error comes back.
    assert_eq!(crate::message::OutOfLineData::allocate(&kernel, 5).unwrap_err(), KernReturn::NoSpace);
}

#[test]
fn the_writer_and_reader_agree_on_every_field() {
    let mut buffer = vec![0u8; 512];
    let mut writer = MessageWriter::new(&mut buffer, MachMsgHeader { bits: 0x13, ..Default::default() });
    writer.u32(200).unwrap();
    writer.i32(-100).unwrap();
    writer.u64(u64::MAX - 1).unwrap();
    writer.i64(i64::MIN).unwrap();
    writer.bool(true).unwrap();
    writer.bytes(&[1, 2, 3], 3).unwrap();
    writer.string("héllo", 10).unwrap();
    assert_eq!(writer.bytes(&[0; 5], 4), Err(WriteError::TooLong { length: 5, bound: 4 }));
    let length = writer.finish().unwrap();
    let data = &buffer[24..length];
    let mut reader = InlineReader::new(data);
    assert_eq!(reader.u8().unwrap(), 200);
    assert_eq!(reader.i8().unwrap(), -100);
    assert_eq!(reader.u64().unwrap(), u64::MAX - 1);
    assert_eq!(reader.i64().unwrap(), i64::MIN);
    assert!(reader.bool().unwrap());
    assert_eq!(reader.bounded_bytes::<3>().unwrap(), BoundedBytes::<3>::from_slice(&[1, 2, 3]).unwrap());
    assert_eq!(reader.bounded_string::<10>().unwrap().as_str(), "héllo");
    reader.finish().unwrap();
}

#[test]
fn the_reader_refuses_what_does_not_fit_its_type() {
    assert_eq!(InlineReader::new(&256u32.to_le_bytes()).u8(), Err(DecodeError::BadInteger { offset: 0 }));
    assert_eq!(InlineReader::new(&70000u32.to_le_bytes()).u16(), Err(DecodeError::BadInteger { offset: 0 }));
    assert_eq!(InlineReader::new(&200u32.to_le_bytes()).i8(), Err(DecodeError::BadInteger { offset: 0 }));
    assert_eq!(InlineReader::new(&2u32.to_le_bytes()).bool(), Err(DecodeError::BadBool { offset: 0 }));
    assert_eq!(InlineReader::new(&[1, 2]).u32(), Err(DecodeError::Truncated { offset: 0 }));
    assert_eq!(InlineReader::new(&9u32.to_le_bytes()).bytes(8), Err(DecodeError::TooLong { length: 9, bound: 8 }));
    assert_eq!(InlineReader::new(&4u32.to_le_bytes()).bytes(8), Err(DecodeError::Truncated { offset: 4 }));
    let mut not_utf8 = 2u32.to_le_bytes().to_vec();
    not_utf8.extend_from_slice(&[0xc3, 0x28, 0, 0]);
    assert_eq!(InlineReader::new(&not_utf8).string(8), Err(DecodeError::NotUtf8 { offset: 0 }));
    let mut with_nul = 2u32.to_le_bytes().to_vec();
    with_nul.extend_from_slice(&[b'a', 0, 0, 0]);
    assert_eq!(InlineReader::new(&with_nul).string(8), Err(DecodeError::NulInString { offset: 0 }));
    let mut buffer = [0u8; 64];
    let mut writer = MessageWriter::new(&mut buffer, MachMsgHeader::default());
    assert_eq!(writer.string("a\0b", 8), Err(WriteError::NulInString));
    let mut reader = InlineReader::new(&[0; 8]);
    reader.u32().unwrap();
    assert_eq!(reader.finish(), Err(DecodeError::TrailingBytes { extra: 4 }));
    assert_eq!(InlineReader::new(&u32::MAX.to_le_bytes()).bytes(usize::MAX), Err(DecodeError::Truncated { offset: 4 }));
}

#[test]
fn bounded_containers_hold_at_most_their_bound() {
    assert!(BoundedBytes::<4>::from_slice(&[0; 5]).is_none());
    assert_eq!(BoundedBytes::<4>::from_slice(&[9; 4]).unwrap().len(), 4);
    assert!(BoundedString::<3>::try_from_str("four").is_none());
    assert_eq!(std::format!("{}", BoundedString::<8>::try_from_str("ab").unwrap()), "ab");
    assert!(BoundedString::<8>::new().is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: cases(256), ..Default::default() })]

    #[test]
    fn reading_arbitrary_bytes_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
        let mut reader = InlineReader::new(&data);
        let _ = reader.u8();
        let _ = reader.string(16);
        let _ = reader.bytes(1 << 20);
        let _ = reader.i64();
        let _ = reader.bool();
        let _ = reader.finish();
    }

    #[test]
    fn byte_arrays_round_trip(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100), number: u64) {
        let mut buffer = vec![0u8; 256];
        let mut writer = MessageWriter::new(&mut buffer, MachMsgHeader { bits: 0x13, ..Default::default() });
        writer.bytes(&data, 100).unwrap();
        writer.u64(number).unwrap();
        let length = writer.finish().unwrap();
        proptest::prop_assert_eq!(length % 4, 0);
        let mut reader = InlineReader::new(&buffer[24..length]);
        proptest::prop_assert_eq!(reader.bytes(100).unwrap(), data.as_slice());
        proptest::prop_assert_eq!(reader.u64().unwrap(), number);
        proptest::prop_assert!(reader.finish().is_ok());
    }
}

/// Cases per property: `MACH_PROPTEST_CASES` (set by `scripts/fuzz.d/idl`),
/// else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}

#[test]
fn the_system_kernel_refuses_every_call_on_a_host_operating_system() {
    // On a host there is no Mach kernel: no `syscall` may be issued (the
    // host would read it as one of its own), every call is an error.
    let kernel = crate::SystemKernel;
    assert_eq!(kernel.port_allocate(PortRight::Receive), Err(KernReturn::NotSupported));
    assert_eq!(kernel.reply_port(), Err(KernReturn::NotSupported));
    assert_eq!(kernel.vm_allocate(4096), Err(KernReturn::NotSupported));
    let mut buffer = [0u8; 64];
    assert_eq!(kernel.mach_msg(&mut buffer, MACH_RCV_MSG, 0, 0x100, 0), Err(MachMsgReturn::SendInvalidDest));
    assert!(kernel.out_of_line_bytes(0x1000, 4).is_none());
    // Dropping a right over the system kernel is therefore harmless here.
    drop(SendRight::from_name(&kernel, 0x100));
}

/// A received request with `trailer` (its raw bytes) after the message.
fn request_with_trailer(id: i32, trailer: &[u8]) -> Vec<u8> {
    let mut bytes = request_bytes(id, true, &[]);
    bytes.truncate(bytes.len() - 16);
    bytes.extend_from_slice(trailer);
    bytes
}

fn plain_trailer(seqno: u32, sender: u32) -> Vec<u8> {
    mach_abi::MachMsgTrailer::new(seqno, sender).to_bytes().to_vec()
}

fn audit_trailer(seqno: u32, sender: u32, credential: &mach_abi::TaskCredential) -> Vec<u8> {
    use core::mem::offset_of;
    use mach_abi::TaskCredential;
    let mut trailer = plain_trailer(seqno, sender);
    trailer[4..8].copy_from_slice(&(mach_abi::MACH_MSG_AUDIT_TRAILER_SIZE as u32).to_le_bytes());
    let mut bytes = vec![0u8; mach_abi::TASK_CREDENTIAL_SIZE];
    let mut put = |offset: usize, value: u32| bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    put(offset_of!(TaskCredential, pid), credential.pid);
    put(offset_of!(TaskCredential, pgid), credential.pgid);
    put(offset_of!(TaskCredential, sid), credential.sid);
    put(offset_of!(TaskCredential, ruid), credential.ruid);
    put(offset_of!(TaskCredential, euid), credential.euid);
    put(offset_of!(TaskCredential, rgid), credential.rgid);
    put(offset_of!(TaskCredential, egid), credential.egid);
    put(offset_of!(TaskCredential, group_count), credential.group_count);
    for (index, group) in credential.groups.iter().enumerate() {
        put(offset_of!(TaskCredential, groups) + 4 * index, *group);
    }
    trailer.extend_from_slice(&bytes);
    trailer
}

#[test]
fn the_context_gives_the_port_the_sender_and_an_audited_credential() {
    use crate::request::Context;
    let kernel = RecordingKernel::default();
    let mut sent = mach_abi::TaskCredential {
        pid: 100,
        pgid: 90,
        sid: 80,
        ruid: 1000,
        euid: 1001,
        rgid: 2000,
        egid: 2001,
        group_count: 2,
        ..Default::default()
    };
    sent.groups[..2].copy_from_slice(&[3000, 3001]);
    let bytes = request_with_trailer(7, &audit_trailer(5, 42, &sent));
    let header = MachMsgHeader::read_from(&bytes).unwrap();
    let context = Context::new(&kernel, &header, &bytes);
    assert_eq!(
        (context.port(), context.id(), context.sender(), context.sequence_number()),
        (0x100, 7, Some(42), Some(5))
    );
    assert!(!context.is_from_kernel());
    assert_eq!(context.credential(), Some(sent));

    // A plain trailer carries no credential, even if stale bytes after it
    // look like one: only `trailer_size` says what the kernel wrote.
    let mut stale = plain_trailer(1, 9);
    stale.extend_from_slice(&audit_trailer(0, 0, &sent)[16..]);
    let bytes = request_with_trailer(7, &stale);
    let context = Context::new(&kernel, &header, &bytes);
    assert_eq!(context.sender(), Some(9));
    assert!(context.credential().is_none());

    // An audit trailer cut short, one with too many groups, and no trailer.
    let truncated = audit_trailer(0, 1, &sent);
    let bytes = request_with_trailer(7, &truncated[..60]);
    assert!(Context::new(&kernel, &header, &bytes).credential().is_none());
    let too_many = mach_abi::TaskCredential { group_count: 17, ..Default::default() };
    let bytes = request_with_trailer(7, &audit_trailer(0, 1, &too_many));
    assert!(Context::new(&kernel, &header, &bytes).credential().is_none());
    let bytes = request_with_trailer(7, &[]);
    let context = Context::new(&kernel, &header, &bytes);
    assert_eq!((context.sender(), context.is_from_kernel()), (None, false));
}

#[test]
fn a_reply_right_is_kept_once_for_its_own_routine_and_released_unless_sent() {
    use crate::request::Context;
    let kernel = RecordingKernel::default();
    let bytes = request_bytes(7, true, &[]);
    let header = MachMsgHeader::read_from(&bytes).unwrap();
    let context = Context::new(&kernel, &header, &bytes);
    assert!(context.keep_reply(8).is_none(), "not the request's routine");
    assert!(!context.reply_was_kept());
    let kept = context.keep_reply(7).unwrap();
    assert!(context.reply_was_kept());
    assert!(context.keep_reply(7).is_none(), "the right is handed out once");
    assert_eq!((kept.name(), kept.request_id(), kept.reply_header().id), (0x4400, 7, 107));
    assert!(kept.is_abandoned(), "the recording kernel knows no name: the client is gone");
    drop(kept);
    assert_eq!(kernel.calls(), vec![Call::Deallocate(0x4400)]);

    // Sent: the right left with the answer; a failed send releases it.
    kernel.clear();
    let context = Context::new(&kernel, &header, &bytes);
    let kept = context.keep_reply(7).unwrap();
    let mut buffer = vec![0u8; 64];
    let length = {
        let mut writer = MessageWriter::new(&mut buffer, kept.reply_header());
        writer.i32(0).unwrap();
        writer.finish().unwrap()
    };
    kernel.answer(Ok(()), Vec::new());
    kept.send(&mut buffer, length).unwrap();
    assert_eq!(kernel.calls(), vec![Call::MachMsg(MACH_SEND_MSG | MACH_SEND_TIMEOUT, 28, 0)]);
    kernel.clear();
    let context = Context::new(&kernel, &header, &bytes);
    let kept = context.keep_reply(7).unwrap();
    kernel.answer(Err(MachMsgReturn::SendInvalidDest), Vec::new());
    assert_eq!(kept.send(&mut buffer, length), Err(MachMsgReturn::SendInvalidDest));
    assert_eq!(kernel.calls()[1], Call::Deallocate(0x4400));

    // No reply port: nothing to keep.
    let bytes = request_bytes(7, false, &[]);
    let header = MachMsgHeader::read_from(&bytes).unwrap();
    assert!(Context::new(&kernel, &header, &bytes).keep_reply(7).is_none());
}

/// A notification as the kernel delivers it: from sender 0 (or `sender`).
fn notification_bytes(id: mach_abi::NotifyId, sender: u32, descriptors: &[Descriptor], words: &[u32]) -> Vec<u8> {
    let mut buffer = vec![0u8; 128];
    let header = MachMsgHeader {
        bits: mach_abi::msgh_bits(0, mach_abi::MACH_MSG_TYPE_PORT_SEND_ONCE),
        local_port: 0x100,
        id: id.as_u32() as i32,
        ..Default::default()
    };
    let mut writer = MessageWriter::new(&mut buffer, header);
    for descriptor in descriptors {
        writer.descriptor(*descriptor).unwrap();
    }
    for word in words {
        writer.u32(*word).unwrap();
    }
    let length = writer.finish().unwrap();
    buffer.truncate(length);
    buffer.extend_from_slice(&plain_trailer(0, sender));
    buffer
}

#[test]
fn notifications_reach_the_handler_with_the_port_they_are_about() {
    use crate::notify::{dispatch, Notification};
    use mach_abi::NotifyId;
    let kernel = RecordingKernel::default();
    let mut seen = Vec::new();
    let bytes = notification_bytes(NotifyId::NoSenders, 0, &[], &[3]);
    let result = dispatch(&kernel, &bytes, |notification| seen.push(std::format!("{notification:?}")));
    assert_eq!(result, Dispatch::NoReply);
    assert_eq!(seen, vec!["NoSenders { port: 256, make_send_count: 3 }"]);

    // A dead name: the handler sees it, then the notification's reference goes.
    let bytes = notification_bytes(NotifyId::DeadName, 0, &[], &[0x900]);
    let mut dead = None;
    dispatch(&kernel, &bytes, |notification| {
        if let Notification::DeadName { name } = notification {
            dead = Some(name);
        }
    });
    assert_eq!(dead, Some(0x900));
    assert_eq!(kernel.calls(), vec![Call::Deallocate(0x900)]);

    // A returned receive right is adopted: dropped by the handler, released.
    kernel.clear();
    let right = Descriptor::Port { name: 0x700, disposition: Disposition::MoveReceive };
    let bytes = notification_bytes(NotifyId::PortDestroyed, 0, &[right], &[]);
    dispatch(&kernel, &bytes, drop);
    assert_eq!(kernel.calls(), vec![Call::ModRefs(0x700, PortRight::Receive, -1)]);

    // From a task, a notification id is not a notification; nor is another id.
    kernel.clear();
    let forged = notification_bytes(NotifyId::NoSenders, 12, &[], &[3]);
    let mut called = false;
    assert_eq!(dispatch(&kernel, &forged, |_| called = true), Dispatch::UnknownId);
    assert_eq!(dispatch(&kernel, &request_bytes(5000, true, &[]), |_| called = true), Dispatch::UnknownId);
    assert!(!called);
    // The kernel's notification of the wrong shape is dropped, its right released.
    let bytes = notification_bytes(NotifyId::NoSenders, 0, &[right], &[]);
    assert_eq!(dispatch(&kernel, &bytes, |_| called = true), Dispatch::NoReply);
    assert!(!called);
    assert_eq!(kernel.calls(), vec![Call::ModRefs(0x700, PortRight::Receive, -1)]);
}

#[test]
fn a_receive_right_asks_for_no_senders_on_itself() {
    let kernel = RecordingKernel::default();
    let port = ReceiveRight::from_name(&kernel, 0x300);
    port.request_no_senders(1).unwrap();
    let send = SendRight::from_name(&kernel, 0x400);
    send.request_dead_name(&port).unwrap();
    let make_send_once = Disposition::MakeSendOnce as u32;
    let (no_senders, dead_name) = (mach_abi::NotifyId::NoSenders.as_u32(), mach_abi::NotifyId::DeadName.as_u32());
    assert_eq!(
        kernel.calls(),
        vec![
            Call::RequestNotification(0x300, no_senders, 1, 0x300, make_send_once),
            Call::RequestNotification(0x400, dead_name, 0, 0x300, make_send_once),
        ]
    );
    std::mem::forget((port, send));
}

#[test]
fn the_loop_asks_for_the_audit_trailer_when_told_and_chains_handlers() {
    let kernel = RecordingKernel::default();
    kernel.answer(Ok(()), request_bytes(42, true, &[]));
    kernel.answer(Err(MachMsgReturn::ReceiveInvalidName), Vec::new());
    let mut request = vec![0u8; 256];
    let mut reply = vec![0u8; 256];
    let mut order = Vec::new();
    let mut handler = |_: &[u8], _: &mut [u8]| {
        order.push(1);
        Dispatch::UnknownId.or_else(|| {
            order.push(2);
            Dispatch::NoReply
        })
    };
    let options = server::ServeOptions { audit: true };
    assert_eq!(
        server::run_with(&kernel, 0x100, options, &mut request, &mut reply, &mut handler),
        MachMsgReturn::ReceiveInvalidName
    );
    assert_eq!(order, vec![1, 2]);
    let audit = MACH_RCV_MSG | mach_abi::MACH_RCV_TRAILER_AUDIT;
    assert_eq!(kernel.calls(), vec![Call::MachMsg(audit, 0, 0x100), Call::MachMsg(audit, 0, 0x100)]);
    assert_eq!(Dispatch::Reply(4).or_else(|| Dispatch::NoReply), Dispatch::Reply(4));
}

#[test]
fn arrays_pack_their_integers_and_structures_go_field_by_field() {
    use crate::message::{BoundedArray, Record};
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Pair {
        small: u8,
        flags: [bool; 3],
    }
    impl Record for Pair {
        fn write(&self, writer: &mut MessageWriter<'_>) -> Result<(), WriteError> {
            writer.u32(self.small as u32)?;
            writer.packed(&self.flags)
        }
        fn read(reader: &mut InlineReader<'_>) -> Result<Self, DecodeError> {
            Ok(Pair { small: reader.u8()?, flags: reader.packed()? })
        }
    }
    let mut buffer = vec![0u8; 512];
    let mut writer = MessageWriter::new(&mut buffer, MachMsgHeader { bits: 0x13, ..Default::default() });
    writer.packed_array(&[1u16, 2, 3], 4).unwrap();
    writer.packed_array::<u64>(&[], 4).unwrap();
    writer.record_array(&[Pair { small: 9, flags: [true, false, true] }], 2).unwrap();
    writer.packed(&[0x55u8; 70]).unwrap();
    assert_eq!(writer.packed_array(&[0u8; 5], 4), Err(WriteError::TooLong { length: 5, bound: 4 }));
    let length = writer.finish().unwrap();
    let data = &buffer[24..length];
    // Count 3, then three 2-byte elements padded to 8 bytes.
    assert_eq!(&data[..12], &[3, 0, 0, 0, 1, 0, 2, 0, 3, 0, 0, 0]);
    assert_eq!(data.len(), 12 + 4 + (4 + 4 + 4) + 72);
    let mut reader = InlineReader::new(data);
    assert_eq!(reader.packed_array::<u16, 4>().unwrap().as_slice(), &[1, 2, 3]);
    assert!(reader.packed_array::<u64, 4>().unwrap().is_empty());
    let pairs = reader.record_array::<Pair, 2>().unwrap();
    assert_eq!(pairs.as_slice(), &[Pair { small: 9, flags: [true, false, true] }]);
    assert_eq!(reader.packed::<u8, 70>().unwrap(), [0x55; 70]);
    reader.finish().unwrap();
    // The same, decoded in place (a server's request arrays): an array
    // that held more before holds exactly what was read.
    let mut reader = InlineReader::new(data);
    let mut numbers = BoundedArray::<u16, 4>::from_slice(&[7, 7, 7, 7]).unwrap();
    reader.packed_array_into(&mut numbers).unwrap();
    assert_eq!(numbers.as_slice(), &[1, 2, 3]);
    reader.packed_array_into(&mut numbers).unwrap();
    assert!(numbers.is_empty());
    let mut pairs = BoundedArray::<Pair, 2>::new();
    reader.record_array_into(&mut pairs).unwrap();
    assert_eq!(pairs.as_slice(), &[Pair { small: 9, flags: [true, false, true] }]);

    // Over the bound, a bool that is not 0 or 1, too few bytes.
    let mut over = 5u32.to_le_bytes().to_vec();
    over.extend_from_slice(&[0; 8]);
    assert_eq!(InlineReader::new(&over).packed_array::<u8, 4>(), Err(DecodeError::TooLong { length: 5, bound: 4 }));
    assert_eq!(InlineReader::new(&[1, 2, 0, 0]).packed::<bool, 2>(), Err(DecodeError::BadBool { offset: 1 }));
    assert_eq!(InlineReader::new(&[1, 0]).packed::<u8, 2>(), Err(DecodeError::Truncated { offset: 2 }));
    let mut array = BoundedArray::<u8, 2>::new();
    assert_eq!((array.push(1), array.push(2), array.push(3)), (Ok(()), Ok(()), Err(3)));
    assert_eq!(array, BoundedArray::from_slice(&[1, 2]).unwrap());
    assert!(BoundedArray::<u8, 2>::from_slice(&[0; 3]).is_none());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: cases(256), ..Default::default() })]

    #[test]
    fn packed_arrays_round_trip_and_arbitrary_bytes_never_panic_their_reader(
        values in proptest::collection::vec(proptest::prelude::any::<i16>(), 0..40),
        flags in proptest::collection::vec(proptest::prelude::any::<bool>(), 0..9),
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
    ) {
        let mut buffer = vec![0u8; 512];
        let mut writer = MessageWriter::new(&mut buffer, MachMsgHeader { bits: 0x13, ..Default::default() });
        writer.packed_array(&values, 40).unwrap();
        writer.packed_array(&flags, 9).unwrap();
        let length = writer.finish().unwrap();
        let mut reader = InlineReader::new(&buffer[24..length]);
        let (read_values, read_flags) = (reader.packed_array::<i16, 40>().unwrap(), reader.packed_array::<bool, 9>().unwrap());
        proptest::prop_assert_eq!(read_values.as_slice(), values.as_slice());
        proptest::prop_assert_eq!(read_flags.as_slice(), flags.as_slice());
        proptest::prop_assert!(reader.finish().is_ok());
        let mut reader = InlineReader::new(&noise);
        let _ = reader.packed_array::<u64, 3>();
        let _ = reader.packed::<bool, 5>();
        let _ = reader.packed_array::<u8, 100>();
    }
}
