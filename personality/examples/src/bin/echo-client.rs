//! A client that survives its server's restart: it looks `raw-echo` up,
//! makes calls until one fails (the kernel test kills the server), then
//! looks the name up again until the restarted server answers.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, MachMsgReturn, PortName, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG};
use libmach::trap::{mach_msg, mach_reply_port, thread_sleep, MessageBuffer};
use mach_examples::{name_service, names, println};
use mach_usertests::message;

libmach::entry!(main);

#[derive(Debug)]
#[allow(dead_code)] // the fields are read through Debug in the report
enum CallError {
    Transport(MachMsgReturn),
    WrongReply(i32),
}

fn call(server: PortName, reply: PortName, value: u32) -> Result<u32, CallError> {
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(
        &mut buffer,
        server,
        Disposition::CopySend as u32,
        reply,
        Disposition::MakeSendOnce as u32,
        7,
        &[value],
    );
    mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, size, reply, 2000)
        .map_err(CallError::Transport)?;
    // A dead server's queued request comes back as a send-once notification.
    match message::id(&buffer) {
        107 if message::word(&buffer, 7) == value => Ok(value),
        other => Err(CallError::WrongReply(other)),
    }
}

/// Looks the server up, retrying while the name is unknown (restarting).
fn find_server(names: &mut names::Client) -> Option<PortName> {
    for _ in 0..2000 {
        if let Ok(server) = names.lookup("raw-echo") {
            return Some(server.into_name());
        }
        let _ = thread_sleep(5);
    }
    None
}

fn main(bootstrap_port: u64) {
    let Ok(mut names) = name_service(bootstrap_port) else { return };
    let reply = mach_reply_port();
    let Some(first) = find_server(&mut names) else {
        println!("echo-client: raw-echo never registered");
        return;
    };
    let answered = (0..10).filter(|&value| call(first, reply, value).is_ok()).count();
    println!("echo-client: {answered} calls answered");
    let mut value = 100;
    let error = loop {
        match call(first, reply, value) {
            Ok(_) => value += 1,
            Err(error) => break error,
        }
        let _ = thread_sleep(5);
    };
    println!("echo-client: call failed ({error:?}); looking the name up again");
    let Some(second) = find_server(&mut names) else {
        println!("echo-client: raw-echo never came back");
        return;
    };
    // The reply port may hold nothing stale: each call waits for its own reply.
    let mut answered = 0;
    for attempt in 0..2000u32 {
        if call(second, reply, attempt).is_ok() {
            answered += 1;
            if answered == 10 {
                break;
            }
        } else {
            let _ = thread_sleep(5);
        }
    }
    println!("echo-client: {answered} calls answered by the new server (a new name: {})", second != first);
}
