//! RPC client of `ipc-echo`: the argument's low 32 bits name a send right to
//! the service; bits 32..63 give the number of calls. Checks every reply and
//! prints the time-stamp-counter ticks per call (instructions, under
//! `-icount shift=0`). Bit 63 says the server dies without answering: then
//! every call must end with the send-once notification of its destroyed
//! reply right instead of a reply.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, NotifyId, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, mach_reply_port, MessageBuffer};
use mach_usertests::{message, println, Checks};

libmach::entry!(main);

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
}

fn main(argument: u64) {
    let service = argument as u32;
    let calls = ((argument >> 32) & 0x7fff_ffff).max(1);
    let server_dies = argument & 1 << 63 != 0;
    let reply = mach_reply_port();
    let mut checks = Checks::new("ipc-client");
    let mut buffer = MessageBuffer::<256>::new();
    let mut wrong = 0u64;
    let mut notifications = 0u64;
    let start = ticks();
    for call in 0..calls {
        let size = message::write(
            &mut buffer,
            service,
            Disposition::CopySend as u32,
            reply,
            Disposition::MakeSendOnce as u32,
            7,
            &[call as u32, !(call as u32)],
        );
        match mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0) {
            Ok(()) if message::id(&buffer) == NotifyId::SendOnce as i32 => notifications += 1,
            Ok(()) => {
                if message::id(&buffer) != 107
                    || message::word(&buffer, 6) != call as u32
                    || message::word(&buffer, 7) != !(call as u32)
                {
                    wrong += 1;
                }
            }
            Err(error) => {
                checks.equal("rpc", Err(error), Ok(()));
                break;
            }
        }
    }
    let elapsed = ticks() - start;
    checks.equal("wrong replies", wrong, 0);
    let expected_notifications = if server_dies { calls } else { 0 };
    checks.equal("send-once notifications instead of replies", notifications, expected_notifications);
    println!("rpc round trip: {} calls, {} ticks per call", calls, elapsed / calls);
    checks.finish();
}
