//! The high-priority client of the priority-inheritance case
//! (`usertest.rs`): its argument's low 32 bits name a send right to
//! `prio-server`, the high 32 bits one to `prio-busy`'s stop port.
//!
//! 1. A call (send and receive in one `mach_msg`, a send-once reply right):
//!    the server must answer at this client's priority, and `prio-busy`,
//!    which outranks the server's own priority, must still be spinning
//!    when the answer comes (the client then stops it; `prio-busy` prints
//!    which came first).
//! 2. The same request sent alone, the reply received by a second trap:
//!    a client that does not wait in the trap that sends lends nothing, so
//!    the server answers at its own priority.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, mach_reply_port, thread_basic_info, thread_self, MessageBuffer};
use mach_usertests::{message, println, Checks};

libmach::entry!(main);

fn main(argument: u64) {
    let (service, stop) = (argument as u32, (argument >> 32) as u32);
    let own = thread_basic_info(thread_self()).map_or(0, |info| info.priority);
    let reply = mach_reply_port();
    let mut checks = Checks::new("prio-client");
    let mut buffer = MessageBuffer::<256>::new();

    let size = message::write(
        &mut buffer,
        service,
        Disposition::CopySend as u32,
        reply,
        Disposition::MakeSendOnce as u32,
        1,
        &[],
    );
    let called = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0);
    checks.equal("call", called, Ok(()));
    checks.equal("reply id", message::id(&buffer), 101);
    checks.equal("the server's priority while serving the call", message::word(&buffer, 6), own);
    println!("prio-client: call answered");
    let size = message::write(&mut buffer, stop, Disposition::CopySend as u32, 0, 0, 2, &[]);
    checks.equal("stop prio-busy", mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0), Ok(()));

    let size = message::write(
        &mut buffer,
        service,
        Disposition::CopySend as u32,
        reply,
        Disposition::MakeSendOnce as u32,
        3,
        &[],
    );
    checks.equal("one-way request", mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0), Ok(()));
    checks.equal("its reply", mach_msg(&mut buffer, MACH_RCV_MSG, 0, reply, 0), Ok(()));
    checks.equal("reply id", message::id(&buffer), 103);
    println!("prio-client: one-way request answered at priority {}", message::word(&buffer, 6));
    checks.finish();
}
