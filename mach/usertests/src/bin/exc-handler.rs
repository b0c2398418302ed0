//! An exception server: receives `exception_raise` on the receive right its
//! argument names (low 32 bits), steps the faulting thread over the
//! instruction (r12 bytes, the victim's convention) and replies
//! KERN_SUCCESS — or, if bit 32 of the argument is set, KERN_FAILURE, which
//! makes the kernel terminate the victim.
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, Trap, EXCEPTION_RAISE_ID, EXCEPTION_RAISE_REPLY_ID, MACH_RCV_MSG, MACH_SEND_MSG,
    X86_THREAD_STATE64,
};
use libmach::trap::{mach_msg, port_deallocate, raw_trap, task_self, MessageBuffer};
use mach_usertests::{message, println};

libmach::entry!(main);

const R12: usize = 12;
const RIP: usize = 16;

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

/// Moves the thread's rip forward by its r12.
fn step_over(thread: u32) -> KernReturn {
    let mut state = [0u32; 42];
    let mut count = 42u32;
    // SAFETY: the kernel writes at most 42 words into `state` and one into `count`.
    let got = unsafe {
        raw_trap(
            Trap::ThreadGetState as u64,
            [thread as u64, X86_THREAD_STATE64 as u64, state.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    if got != 0 {
        return KernReturn::Failure;
    }
    let field = |state: &[u32; 42], index: usize| state[index * 2] as u64 | (state[index * 2 + 1] as u64) << 32;
    let rip = field(&state, RIP) + field(&state, R12);
    state[RIP * 2] = rip as u32;
    state[RIP * 2 + 1] = (rip >> 32) as u32;
    // SAFETY: the kernel only reads `state`.
    let set = unsafe {
        raw_trap(
            Trap::ThreadSetState as u64,
            [thread as u64, X86_THREAD_STATE64 as u64, state.as_ptr() as u64, 42, 0, 0],
        )
    };
    if set == 0 {
        KernReturn::Success
    } else {
        KernReturn::Failure
    }
}
