//! Credentials and the audit trailer, from a task holding the privileged
//! host port (named by its argument): who may set a credential, what the
//! trailer of a message received with `MACH_RCV_TRAILER_AUDIT` says on the
//! queued path, the handoff path and for the kernel's own messages, that a
//! credential change leaves queued messages alone, that an identity
//! written in a message body means nothing, and the receive-size rule with
//! the larger trailer. Leaves a child task named `credential-child` (it
//! must start with this task's credential) and prints
//! `credential-checks: N passed, N failed`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use libmach::abi::{
    parse_received, parse_received_audit, Disposition, KernReturn, MachMsgReturn, NotifyId, PortRight, TaskCredential,
    Trap, MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_TRAILER_SIZE, MACH_RCV_LARGE, MACH_RCV_MSG, MACH_RCV_TIMEOUT,
    MACH_RCV_TRAILER_AUDIT, MACH_SEND_MSG, THREAD_BASIC_INFO, TH_STATE_WAITING,
};
use libmach::trap::*;
use mach_usertests::{message, println, Checks};

libmach::entry!(main);

fn credential(pid: u32, euid: u32) -> TaskCredential {
    let mut groups = [0; 16];
    groups[..2].copy_from_slice(&[100, 27]);
    TaskCredential { pid, pgid: pid, sid: pid, ruid: 1000, euid, rgid: 100, egid: 100, group_count: 2, groups }
}

/// A port with a send right under the same name.
fn new_port(task: u32) -> u32 {
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, port, port, Disposition::MakeSend as u32);
    port
}

/// Sends `words` to `port` (a copied send right), with message id `id`.
fn send(port: u32, id: i32, words: &[u32]) -> Result<(), MachMsgReturn> {
    let mut buffer = MessageBuffer::<512>::new();
    let size = message::write(&mut buffer, port, Disposition::CopySend as u32, 0, 0, id, words);
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)
}

/// Receives with the audit trailer: (message id, first body word, trailer).
fn receive_audited(port: u32) -> Option<(i32, u32, libmach::abi::MachMsgAuditTrailer)> {
    let mut buffer = MessageBuffer::<512>::new();
    mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TRAILER_AUDIT | MACH_RCV_TIMEOUT, 0, port, 1000).ok()?;
    let (view, trailer) = parse_received_audit(&buffer.0).ok()?;
    let first = view.inline_data.get(..4).map_or(0, |word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
    Some((view.header.id, first, trailer))
}

/// Set by the receiving thread: the euid its audit trailer showed.
static HANDED_OFF_EUID: AtomicU32 = AtomicU32::new(u32::MAX);

fn receiver(port: usize) {
    let euid = receive_audited(port as u32).map_or(u32::MAX - 1, |(_, _, trailer)| trailer.credential.euid);
    HANDED_OFF_EUID.store(euid, Ordering::SeqCst);
}

fn thread_state(thread: u32) -> u32 {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most `count` words into `words` and one into `count`.
    unsafe {
        raw_trap(
            Trap::ThreadInfo as u64,
            [thread as u64, THREAD_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    words[0]
}

fn main(argument: u64) {
    let host_priv = argument as u32;
    let mut checks = Checks::new("credential-checks");
    let task = task_self();
    let mine = credential(42, 1000);

    // Who may set a credential.
    checks.equal(
        "the host name port is not enough",
        task_set_credential(host_self(), task, &mine),
        Err(KernReturn::InvalidHost),
    );
    checks.equal("nor a task port", task_set_credential(task, task, &mine), Err(KernReturn::InvalidHost));
    checks.equal("nor a bogus name", task_set_credential(0x0abc_de00, task, &mine), Err(KernReturn::InvalidName));
    checks.equal(
        "the target must be a task",
        task_set_credential(host_priv, host_priv, &mine),
        Err(KernReturn::InvalidTask),
    );
    let mut too_many = mine;
    too_many.group_count = 17;
    checks.equal(
        "at most 16 groups",
        task_set_credential(host_priv, task, &too_many),
        Err(KernReturn::InvalidArgument),
    );
    // SAFETY: the kernel only reads, and must refuse a kernel-half pointer.
    let refused = unsafe {
        raw_trap(Trap::TaskSetCredential as u64, [host_priv as u64, task as u64, 0xffff_8000_0000_0000, 0, 0, 0])
    };
    checks.equal("a bad pointer", refused, KernReturn::InvalidAddress as u64);
    checks.equal("set with the privileged host port", task_set_credential(host_priv, task, &mine), Ok(()));

    // A forged identity in the body: the trailer tells the truth.
    let port = new_port(task);
    let forged = credential(1, 0).to_bytes();
    let words: [u32; libmach::abi::TASK_CREDENTIAL_SIZE / 4] = core::array::from_fn(|index| {
        u32::from_le_bytes([forged[index * 4], forged[index * 4 + 1], forged[index * 4 + 2], forged[index * 4 + 3]])
    });
    // The body starts at the forged euid.
    let euid_word = core::mem::offset_of!(TaskCredential, euid) / 4;
    checks.equal("send claiming uid 0 in the body", send(port, 1, &words[euid_word..]), Ok(()));
    let received = receive_audited(port);
    checks.equal("the body says uid 0", received.map(|(_, body, _)| body), Some(0));
    checks.equal("the trailer says who sent it", received.map(|(_, _, trailer)| trailer.credential), Some(mine));
    checks.equal(
        "the trailer's size",
        received.map(|(_, _, trailer)| trailer.trailer_size),
        Some(MACH_MSG_AUDIT_TRAILER_SIZE as u32),
    );

    // A change after sending leaves a queued message's trailer alone.
    checks.equal("first message queued", send(port, 2, &[]), Ok(()));
    let later = credential(42, 2000);
    checks.equal("credential changed", task_set_credential(host_priv, task, &later), Ok(()));
    checks.equal("second message queued", send(port, 3, &[]), Ok(()));
    checks.equal(
        "the first shows the old credential",
        receive_audited(port).map(|(id, _, t)| (id, t.credential.euid)),
        Some((2, 1000)),
    );
    checks.equal(
        "the second the new one",
        receive_audited(port).map(|(id, _, t)| (id, t.credential.euid)),
        Some((3, 2000)),
    );

    // Without the option: the ordinary trailer.
    checks.equal("queued", send(port, 4, &[]), Ok(()));
    let mut plain = MessageBuffer::<512>::new();
    let _ = mach_msg(&mut plain, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, 1000);
    checks.equal(
        "the ordinary trailer",
        parse_received(&plain.0).map(|(_, trailer)| trailer.trailer_size),
        Ok(MACH_MSG_TRAILER_SIZE as u32),
    );

    // The receive-size rule counts the audit trailer.
    checks.equal("queued", send(port, 5, &[7; 10]), Ok(()));
    let mut tight = [0u8; 64 + MACH_MSG_TRAILER_SIZE];
    let option = MACH_RCV_MSG | MACH_RCV_TRAILER_AUDIT | MACH_RCV_LARGE | MACH_RCV_TIMEOUT;
    checks.equal(
        "room for the small trailer only",
        mach_msg_bytes(&mut tight, option, 0, port, 1000),
        Err(MachMsgReturn::ReceiveTooLarge),
    );
    checks.equal(
        "the size needed counts the audit trailer",
        u32::from_le_bytes([tight[4], tight[5], tight[6], tight[7]]),
        (64 + MACH_MSG_AUDIT_TRAILER_SIZE) as u32,
    );
    checks.equal("and the message is still there", receive_audited(port).map(|(id, _, _)| id), Some(5));

    // The handoff path: a thread already waiting gets the message directly.
    let waiting = libmach::thread::spawn(receiver, port as usize, libmach::thread::DEFAULT_STACK_SIZE);
    checks.equal("receiver thread started", waiting.is_ok(), true);
    if let Ok(thread) = waiting {
        let mut waited = 0;
        while thread_state(thread.port()) != TH_STATE_WAITING && waited < 100 {
            let _ = thread_sleep(1);
            waited += 1;
        }
        checks.equal("receiver is waiting", thread_state(thread.port()), TH_STATE_WAITING);
        checks.equal("send to the waiting receiver", send(port, 6, &[]), Ok(()));
        thread.join();
        checks.equal("its audit trailer", HANDED_OFF_EUID.load(Ordering::SeqCst), 2000);
    }

    // The kernel's own messages carry a zero credential.
    let watched = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let notify = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let requested = port_request_notification(
        task,
        watched,
        NotifyId::NoSenders as u32,
        0,
        notify,
        Disposition::MakeSendOnce as u32,
    );
    checks.equal("no-senders requested (fires at once)", requested, Ok(0));
    let notification = receive_audited(notify);
    checks.equal(
        "a notification's trailer",
        notification.map(|(id, _, trailer)| (id, trailer.sender, trailer.credential)),
        Some((NotifyId::NoSenders as i32, 0, TaskCredential::default())),
    );

    // A new task starts with its creator's credential (the kernel test
    // looks at it).
    let child = task_create(task);
    checks.equal("child created", child.is_ok(), true);
    checks.equal("child named", child.and_then(|child| task_set_name(child, "credential-child")), Ok(()));
    checks.finish();
    println!("credential-checks: child ready");
}
