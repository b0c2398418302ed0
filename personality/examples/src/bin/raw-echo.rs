//! The baseline for the stub benchmark: an RPC server written with raw
//! `mach_msg` and no generated code. It registers `raw-echo` with the name
//! service and answers each request on its reply port with id + 100 and
//! two words, a return code 0 and the request's first inline word (0 if
//! none): the shape of a generated reply to `ping`, so the benchmark
//! compares like with like.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, MessageBuffer};
use mach_examples::{println, register_service};
use mach_usertests::message;

libmach::entry!(main);

fn main(bootstrap_port: u64) {
    let registered = register_service(bootstrap_port, "raw-echo");
    let port = match registered {
        Ok(port) => port.into_name(),
        Err(error) => {
            println!("raw-echo: cannot register: {error:?}");
            return;
        }
    };
    println!("raw-echo: serving");
    let mut buffer = MessageBuffer::<256>::new();
    loop {
        if mach_msg(&mut buffer, MACH_RCV_MSG, 0, port, 0).is_err() {
            continue;
        }
        let size = message::word(&buffer, 1) as usize;
        let value = if size > message::HEADER { message::word(&buffer, 6) } else { 0 };
        let body = [0, value];
        let reply_port = message::word(&buffer, 2);
        let id = message::id(&buffer) + 100;
        let size = message::write(&mut buffer, reply_port, Disposition::MoveSendOnce as u32, 0, 0, id, &body);
        let _ = mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0);
    }
}
