//! An echo server: receives on the receive right named by its argument and
//! answers each request on its reply port with the same words and id + 100.
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
    loop {
        if let Err(error) = mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0) {
            println!("echo: receive failed: {error:?}");
            return;
        }
        let size = message::word(&buffer, 1) as usize;
        let reply_port = message::word(&buffer, 2);
        let words = (size.saturating_sub(message::HEADER) / 4).min(400);
        let mut body = [0u32; 400];
        for (index, slot) in body.iter_mut().enumerate().take(words) {
            *slot = message::word(&buffer, 6 + index);
        }
        let id = message::id(&buffer) + 100;
        let reply = message::write(&mut buffer, reply_port, Disposition::MoveSendOnce as u32, 0, 0, id, &body[..words]);
        if let Err(error) = mach_msg(&mut buffer, MACH_SEND_MSG, reply, 0, 0) {
            println!("echo: reply failed: {error:?}");
        }
        served += 1;
        if served.is_multiple_of(1000) {
            println!("echo: served {served}");
        }
    }
}
