//! Deferred replies: a `deferrable` routine's server keeps the reply right
//! and answers later through the generated `Pending*` value; the answer is
//! typed, sent once, and a client that gave up is noticed before any data
//! is taken for it (or, at the latest, when the answer fails to go and the
//! data comes back).

mod common;

use common::{fixture, Fixture, Misuse};
use libmach::abi::{MachMsgReturn, PortRight, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG};
use libmach::message::{expect_descriptor_count, expect_optional_port, ExpectedRight, MessageWriter};
use libmach::{CallError, PortKernel, ReceiveRight, RpcError};
use mach_kv_example::echo;

/// Sends a `wait` request without waiting for its answer; returns the
/// reply port it will come on.
fn send_wait(fixture: &Fixture, key: u32) -> ReceiveRight<libmach::fake::FakeKernel> {
    let task = &fixture.client_task;
    let reply_port = ReceiveRight::allocate(task).unwrap();
    let mut buffer = vec![0u8; echo::buffer_size::WAIT];
    let header = libmach::rpc::request_header(fixture.client.server().name(), reply_port.name(), echo::id::WAIT);
    let mut writer = MessageWriter::new(&mut buffer, header);
    writer.u32(key).unwrap();
    let length = writer.finish().unwrap();
    task.mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).unwrap();
    reply_port
}

/// The answer on `reply_port`, if one came: the value and whether a token right came with it.
fn answer(fixture: &Fixture, reply_port: &ReceiveRight<libmach::fake::FakeKernel>) -> Option<Result<(u64, bool), i32>> {
    let task = &fixture.client_task;
    let mut buffer = vec![0u8; echo::buffer_size::WAIT];
    match task.mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0) {
        Ok(()) => {}
        Err(MachMsgReturn::ReceiveTimedOut) => return None,
        Err(other) => panic!("receive: {other:?}"),
    }
    match libmach::rpc::read_reply(task, &buffer, echo::id::WAIT) {
        Ok((view, mut reader)) => {
            expect_descriptor_count(&view, 1).unwrap();
            let token = expect_optional_port(&view, 0, ExpectedRight::Send).unwrap();
            if let Some(name) = token {
                task.port_deallocate(name).unwrap();
            }
            let value = reader.u64().unwrap();
            reader.finish().unwrap();
            Some(Ok((value, token.is_some())))
        }
        Err(Ok(code)) => Some(Err(code)),
        Err(Err(RpcError::ServerDied)) => Some(Err(libmach::mig::MIG_SERVER_DIED)),
        Err(Err(other)) => panic!("reply: {other:?}"),
    }
}

#[test]
fn a_kept_request_is_answered_later_with_its_typed_results() {
    let mut fixture = fixture();
    let reply_port = send_wait(&fixture, 5);
    fixture.system.run_servers();
    assert_eq!(fixture.server.borrow().waiting.len(), 1, "the server kept the request");
    assert_eq!(answer(&fixture, &reply_port), None, "and has not answered");
    // Meanwhile the server goes on serving others.
    assert_eq!(fixture.client.even(6).unwrap(), 3);
    fixture.client.release(5, 99).unwrap();
    fixture.system.run_servers();
    assert_eq!(answer(&fixture, &reply_port), Some(Ok((99, true))));
    assert_eq!(answer(&fixture, &reply_port), None, "answered once");
    assert!(fixture.server.borrow().waiting.is_empty());
    // A value already waiting is answered at once, through the usual path.
    fixture.client.release(6, 7).unwrap();
    let reply = fixture.client.wait(6).unwrap();
    assert_eq!(reply.value, 7);
    assert!(reply.token.is_some());
    fixture.system.check_invariants().unwrap();
}

#[test]
fn a_client_that_gave_up_is_noticed_before_any_data_is_taken() {
    let mut fixture = fixture();
    // The generated client waits; the fake cannot block, so its receive
    // times out and the client destroys its reply port, as an interrupted
    // call does: the server's kept right becomes a dead name.
    assert_eq!(fixture.client.wait(8).unwrap_err(), CallError::Rpc(RpcError::Receive(MachMsgReturn::ReceiveTimedOut)));
    assert_eq!(fixture.server.borrow().waiting.len(), 1);
    assert!(fixture.server.borrow().waiting[0].1.is_abandoned());
    fixture.client.release(8, 1234).unwrap();
    fixture.system.run_servers();
    let server = fixture.server.borrow();
    assert_eq!((server.abandoned, server.failed_sends), (1, 0));
    assert_eq!(server.mailbox, vec![(8, 1234)], "the value was not consumed");
    drop(server);
    // The next waiter gets it.
    assert_eq!(fixture.client.wait(8).unwrap().value, 1234);
    fixture.system.check_invariants().unwrap();
}

#[test]
fn a_failed_answer_gives_the_results_back_with_their_rights() {
    let mut fixture = fixture();
    fixture.server.borrow_mut().check_abandoned = false;
    assert!(fixture.client.wait(3).is_err());
    let tokens_before = fixture.system.name_count(&fixture.server_task);
    fixture.client.release(3, 55).unwrap();
    fixture.system.run_servers();
    let server = fixture.server.borrow();
    assert_eq!((server.abandoned, server.failed_sends), (0, 1));
    assert_eq!(server.mailbox, vec![(3, 55)], "the value came back and was kept");
    // The token's send right came back in the result and was released; the
    // dead reply right was released with the pending value.
    let token_port = server.tokens.last().unwrap().name();
    assert_eq!(fixture.system.references(&fixture.server_task, token_port, PortRight::Send), 0);
    drop(server);
    assert_eq!(
        fixture.system.name_count(&fixture.server_task),
        tokens_before,
        "only the token's port was added, the dead reply right went"
    );
    fixture.system.check_invariants().unwrap();
}

#[test]
fn a_kept_right_dropped_unanswered_ends_the_call_with_server_died() {
    let fixture = fixture();
    let reply_port = send_wait(&fixture, 1);
    fixture.system.run_servers();
    fixture.server.borrow_mut().waiting.clear();
    assert_eq!(answer(&fixture, &reply_port), Some(Err(libmach::mig::MIG_SERVER_DIED)));
    fixture.system.check_invariants().unwrap();
}

#[test]
fn the_dispatch_guards_against_a_server_that_defers_wrongly() {
    // Later without keeping the right: nobody could answer, so the client hears at once.
    let mut fixture = fixture();
    fixture.server.borrow_mut().misuse = Misuse::LaterWithoutKeeping;
    assert_eq!(fixture.client.wait(1).unwrap_err(), CallError::Rpc(RpcError::ServerDied));

    // Kept and answered now: the kept value answers, the immediate answer is dropped.
    let mut fixture = common::fixture();
    fixture.server.borrow_mut().misuse = Misuse::KeepAndAnswerNow;
    let reply_port = send_wait(&fixture, 2);
    fixture.system.run_servers();
    assert_eq!(answer(&fixture, &reply_port), None, "the immediate answer was not sent");
    fixture.server.borrow_mut().misuse = Misuse::None;
    fixture.client.release(2, 77).unwrap();
    fixture.system.run_servers();
    assert_eq!(answer(&fixture, &reply_port), Some(Ok((77, true))));
    fixture.system.check_invariants().unwrap();
}

#[test]
fn a_kept_right_is_only_for_its_own_routine_and_taken_once() {
    use libmach::abi::MachMsgHeader;
    let fixture = fixture();
    let task = &fixture.server_task;
    let mut request = vec![0u8; 64];
    let mut header = libmach::rpc::request_header(0, 0, echo::id::EVEN);
    header.bits = libmach::abi::msgh_bits(libmach::abi::MACH_MSG_TYPE_PORT_SEND_ONCE, 0);
    header.remote_port = 0x4400;
    header.size = 24;
    header.write_to(&mut request).unwrap();
    request[28..32].copy_from_slice(&16u32.to_le_bytes());
    let header = MachMsgHeader::read_from(&request).unwrap();
    let context = libmach::Context::new(task, &header, &request);
    assert!(echo::PendingWait::keep(&context).is_none(), "an `even` request has no `wait` reply to keep");
}

#[test]
fn split_calls_wait_on_one_reply_port_for_several_requests() {
    let mut fixture = fixture();
    // Three requests outstanding at once, on the client's one reply port.
    for key in [21, 22, 23] {
        fixture.client.send_wait(key).unwrap();
    }
    fixture.system.run_servers();
    assert_eq!(fixture.server.borrow().waiting.len(), 3);
    assert_eq!(
        fixture.client.receive_wait(Some(0)).unwrap_err(),
        CallError::Rpc(RpcError::Receive(MachMsgReturn::ReceiveTimedOut)),
        "nothing answered yet"
    );
    let reply_name = fixture.client.reply_port().name();
    fixture.client.release(22, 220).unwrap();
    fixture.client.release(21, 210).unwrap();
    fixture.system.run_servers();
    // Replies come in the order they were sent, typed, on the same port.
    assert_eq!(fixture.client.receive_wait(Some(0)).unwrap().value, 220);
    assert_eq!(fixture.client.receive_wait(Some(0)).unwrap().value, 210);
    assert!(fixture.client.receive_wait(Some(0)).is_err());
    assert_eq!(fixture.client.reply_port().name(), reply_name, "a failed receive keeps the port");
    fixture.client.release(23, 230).unwrap();
    fixture.system.run_servers();
    assert_eq!(fixture.client.receive_wait(None).unwrap().value, 230);
    fixture.system.check_invariants().unwrap();
}
