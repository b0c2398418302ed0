//! The request context a server method gets: the port the request came in
//! on, the sender, and — when the loop asks for the audit trailer — the
//! sender's credential as the kernel stamped it. What a client writes in
//! the body about itself changes nothing.

mod common;

use common::fixture_with;
use libmach::abi::{MachMsgReturn, TaskCredential};
use libmach::{ReceiveRight, ServeOptions};
use mach_kv_example::echo;

fn credential(uid: u32, groups: &[u32]) -> TaskCredential {
    let mut credential = TaskCredential {
        pid: 42,
        ruid: uid,
        euid: uid,
        rgid: 100,
        egid: 100,
        group_count: groups.len() as u32,
        ..Default::default()
    };
    credential.groups[..groups.len()].copy_from_slice(groups);
    credential
}

#[test]
fn the_method_sees_the_port_and_the_sender() {
    let mut fixture = fixture_with(ServeOptions::default());
    let reply = fixture.client.whoami(0).unwrap();
    assert_eq!(reply.port, fixture.service.name(), "the server's name for the port the request came in on");
    assert_eq!(reply.sender, fixture.client_task.task_id());
    assert!(!reply.audited, "no credential unless the loop asks for it");
    fixture.system.check_invariants().unwrap();
}

#[test]
fn an_audited_loop_sees_the_senders_credential_and_not_what_the_body_claims() {
    let mut fixture = fixture_with(ServeOptions { audit: true });
    fixture.system.set_credential(&fixture.client_task, credential(1000, &[20, 30]));
    let reply = fixture.client.whoami(0).unwrap();
    assert!(reply.audited);
    assert_eq!((reply.euid, reply.groups.as_slice()), (1000, &[20u32, 30][..]));
    // A client claiming to be root in the body is still uid 1000.
    let reply = fixture.client.whoami(0).unwrap();
    assert_eq!(reply.euid, 1000);
    let reply = fixture.client.whoami(1000).unwrap();
    assert_eq!(reply.euid, 1000);
    fixture.system.set_credential(&fixture.client_task, credential(7, &[]));
    let reply = fixture.client.whoami(0).unwrap();
    assert_eq!((reply.euid, reply.groups.len()), (7, 0));
    fixture.system.check_invariants().unwrap();
}

#[test]
fn a_kernel_without_credentials_stops_an_audited_loop_loudly() {
    let fixture = fixture_with(ServeOptions::default());
    fixture.system.refuse_audit_trailers();
    let port = ReceiveRight::allocate(&fixture.server_task).unwrap();
    let mut server = common::Echo::new(&fixture.server_task);
    let error = echo::serve_with(&mut server, &fixture.server_task, port.name(), ServeOptions { audit: true });
    assert_eq!(error, MachMsgReturn::SendInvalidHeader, "the loop does not serve without the credentials it asked for");
    // Without the option the same loop runs (and here ends: the fake cannot block).
    let error = echo::serve(&mut server, &fixture.server_task, port.name());
    assert_eq!(error, MachMsgReturn::ReceiveTimedOut);
}

#[test]
fn the_generated_buffers_hold_the_largest_request_with_the_audit_trailer() {
    // `records` with four records is echo's largest message: an audited
    // receive into BUFFER_SIZE still takes it (else the kernel would
    // refuse it as too large and the call would get no answer).
    let mut fixture = fixture_with(ServeOptions { audit: true });
    let many = [echo::Record { half: 9, ..Default::default() }; 4];
    let reply = fixture.client.records(&many[0], &many).unwrap();
    assert_eq!(reply.rmany.len(), 4);
    fixture.system.check_invariants().unwrap();
}
