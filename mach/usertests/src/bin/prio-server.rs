//! The low-priority server of the priority-inheritance case
//! (`usertest.rs`, `a_server_serving_an_urgent_client_runs_at_its_priority`):
//! receives requests on the receive right its argument names and answers
//! each on its reply right, saying the priority it served the request at
//! (`thread_info` of itself while serving: a client waiting in a call lends
//! it its priority, one that does not wait lends nothing). Each reply goes
//! out with the next receive in one `mach_msg`, as libmach's server loop.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, thread_basic_info, thread_self, MessageBuffer};
use mach_usertests::{message, println};

libmach::entry!(main);

fn main(argument: u64) {
    let service = argument as u32;
    let thread = thread_self();
    let mut buffer = MessageBuffer::<256>::new();
    let mut reply: Option<usize> = None;
    let mut served = 0u32;
    loop {
        let received = match reply.take() {
            Some(size) => mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, service, 0),
            None => mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0),
        };
        if let Err(error) = received {
            println!("prio-server: receive failed: {error:?}");
            return;
        }
        served += 1;
        let priority = thread_basic_info(thread).map_or(u32::MAX, |info| info.priority);
        println!("prio-server: served request {served} at priority {priority}");
        let reply_port = message::word(&buffer, 2);
        let id = message::id(&buffer) + 100;
        reply = Some(message::write(&mut buffer, reply_port, Disposition::MoveSendOnce as u32, 0, 0, id, &[priority]));
    }
}
