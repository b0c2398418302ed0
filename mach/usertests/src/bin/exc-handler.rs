//! An exception server: receives `exception_raise` on the receive right its
//! argument names (low 32 bits), steps the faulting thread over the
//! instruction (by its marker register, the victim's convention:
//! `mach_usertests::faults`) and replies
//! KERN_SUCCESS — or, if bit 32 of the argument is set, KERN_FAILURE, which
//! makes the kernel terminate the victim.
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, ThreadState, EXCEPTION_RAISE_ID, EXCEPTION_RAISE_REPLY_ID, MACH_RCV_MSG, MACH_SEND_MSG,
};
use libmach::trap::{mach_msg, port_deallocate, task_self, MessageBuffer};
use mach_usertests::{message, println};

libmach::entry!(main);

fn main(argument: u64) {
    let service = argument as u32;
    let refuse = argument >> 32 != 0;
    let mut buffer = MessageBuffer::<256>::new();
    let mut handled = 0u64;
    loop {
        if mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0).is_err() {
            return;
        }
        if message::id(&buffer) != EXCEPTION_RAISE_ID {
            continue;
        }
        let reply_port = message::word(&buffer, 2);
        let thread = message::word(&buffer, 7);
        let task = message::word(&buffer, 11);
        let exception = message::word(&buffer, 15);
        let code = [
            message::word(&buffer, 17) as u64 | (message::word(&buffer, 18) as u64) << 32,
            message::word(&buffer, 19) as u64 | (message::word(&buffer, 20) as u64) << 32,
        ];
        // The tests read the first few; a benchmark raises hundreds.
        if handled < 16 {
            println!("exception {exception} code {:#x} {:#x}", code[0], code[1]);
        }
        handled += 1;
        let verdict = if refuse { KernReturn::Failure } else { step_over(thread) };
        let _ = port_deallocate(task_self(), thread);
        let _ = port_deallocate(task_self(), task);
        let size = message::write(
            &mut buffer,
            reply_port,
            Disposition::MoveSendOnce as u32,
            0,
            0,
            EXCEPTION_RAISE_REPLY_ID,
            &[verdict as u32],
        );
        let _ = mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0);
    }
}

/// Moves the thread's program counter forward by its marker register.
fn step_over(thread: u32) -> KernReturn {
    let Ok(mut state) = libmach::thread::get_state(thread) else { return KernReturn::Failure };
    state.set_pc(state.pc() + state.marker());
    match libmach::thread::set_state(thread, &state) {
        Ok(()) => KernReturn::Success,
        Err(_) => KernReturn::Failure,
    }
}
