//! An echo server: receives on the receive right named by its argument and
//! answers each request on its reply port with the same words and id + 100.
//! Each reply goes out with the next receive in one `mach_msg`, the shape
//! of libmach's server loop (`libmach::server::run`), and the words are
//! answered where they arrived: only the header is rewritten.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, MessageBuffer};
use mach_usertests::{message, println};

libmach::entry!(main);

fn main(argument: u64) {
    let service = argument as u32;
    let mut buffer = MessageBuffer::<2048>::new();
    let mut served = 0u64;
    let mut reply: Option<usize> = None;
    loop {
        let received = match reply.take() {
            Some(size) => match mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, service, 0) {
                Err(error) if error.is_send_error() => {
                    println!("echo: reply failed: {error:?}");
                    mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0)
                }
                result => result,
            },
            None => mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0),
        };
        if let Err(error) = received {
            println!("echo: receive failed: {error:?}");
            return;
        }
        let size = (message::word(&buffer, 1) as usize).min(message::HEADER + 400 * 4);
        let reply_port = message::word(&buffer, 2);
        let id = message::id(&buffer) + 100;
        reply = Some(message::write_header(&mut buffer, reply_port, Disposition::MoveSendOnce as u32, 0, 0, id, size));
        served += 1;
        if served.is_multiple_of(1000) {
            println!("echo: served {served}");
        }
    }
}
