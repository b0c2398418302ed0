//! An exception server: receives exception messages on the receive right
//! its argument names (low 32 bits), steps the faulting thread over the
//! instruction (by its marker register, the victim's convention:
//! `mach_usertests::faults`) and replies KERN_SUCCESS, together with its
//! next receive in one `mach_msg`. Every behaviour is served:
//! `exception_raise` (the thread's registers through `thread_get_state` and
//! `thread_set_state`, then the port rights the message carried
//! deallocated), `exception_raise_state` (the registers come in the request
//! and go back in the reply) and `exception_raise_state_identity` (both).
//! Bit 32 of the argument: reply KERN_FAILURE instead, which makes the
//! kernel terminate the victim. Bit 33: answer a state request with a
//! malformed state (a wrong count), which the kernel must refuse as a
//! failure, not install.
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, NativeThreadState, ThreadState, EXCEPTION_RAISE_ID, EXCEPTION_RAISE_REPLY_ID,
    EXCEPTION_RAISE_STATE_ID, EXCEPTION_RAISE_STATE_IDENTITY_ID, EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID,
    EXCEPTION_RAISE_STATE_REPLY_ID, MACH_RCV_MSG, MACH_SEND_MSG,
};
use libmach::trap::{mach_msg, port_deallocate, task_self, MessageBuffer};
use mach_usertests::{message, println};

libmach::entry!(main);

/// Words of the architecture's thread state.
const STATE_WORDS: usize = NativeThreadState::COUNT as usize;

fn main(argument: u64) {
    let service = argument as u32;
    let refuse = argument >> 32 & 1 != 0;
    let malformed = argument >> 33 & 1 != 0;
    let mut buffer = MessageBuffer::<512>::new();
    let mut handled = 0u64;
    let mut reply: Option<usize> = None;
    loop {
        let received = match reply.take() {
            Some(size) => match mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, service, 0) {
                Err(error) if error.is_send_error() => {
                    println!("exc-handler: reply failed: {error:?}");
                    mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0)
                }
                result => result,
            },
            None => mach_msg(&mut buffer, MACH_RCV_MSG, 0, service, 0),
        };
        if received.is_err() {
            return;
        }
        let id = message::id(&buffer);
        // Where the body starts: after the two port descriptors of the
        // behaviours that carry the thread and task ports.
        let body = match id {
            EXCEPTION_RAISE_ID | EXCEPTION_RAISE_STATE_IDENTITY_ID => 15,
            EXCEPTION_RAISE_STATE_ID => 6,
            _ => continue,
        };
        let reply_port = message::word(&buffer, 2);
        let exception = message::word(&buffer, body);
        let code = [
            message::word(&buffer, body + 2) as u64 | (message::word(&buffer, body + 3) as u64) << 32,
            message::word(&buffer, body + 4) as u64 | (message::word(&buffer, body + 5) as u64) << 32,
        ];
        // The tests read the first few; a benchmark raises hundreds.
        if handled < 16 {
            println!("exception {exception} code {:#x} {:#x}", code[0], code[1]);
        }
        handled += 1;
        reply = Some(match id {
            EXCEPTION_RAISE_ID => {
                let (thread, task) = (message::word(&buffer, 7), message::word(&buffer, 11));
                let verdict = if refuse { KernReturn::Failure } else { step_over_by_calls(thread) };
                let _ = port_deallocate(task_self(), thread);
                let _ = port_deallocate(task_self(), task);
                message::write(
                    &mut buffer,
                    reply_port,
                    Disposition::MoveSendOnce as u32,
                    0,
                    0,
                    EXCEPTION_RAISE_REPLY_ID,
                    &[verdict as u32],
                )
            }
            _ => {
                if id == EXCEPTION_RAISE_STATE_IDENTITY_ID {
                    let _ = port_deallocate(task_self(), message::word(&buffer, 7));
                    let _ = port_deallocate(task_self(), message::word(&buffer, 11));
                }
                let reply_id = if id == EXCEPTION_RAISE_STATE_ID {
                    EXCEPTION_RAISE_STATE_REPLY_ID
                } else {
                    EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID
                };
                state_reply(&mut buffer, body + 6, reply_port, reply_id, refuse, malformed)
            }
        });
    }
}

/// Moves the thread's program counter forward by its marker register,
/// through `thread_get_state` and `thread_set_state`.
fn step_over_by_calls(thread: u32) -> KernReturn {
    let Ok(mut state) = libmach::thread::get_state(thread) else { return KernReturn::Failure };
    state.set_pc(state.pc() + state.marker());
    match libmach::thread::set_state(thread, &state) {
        Ok(()) => KernReturn::Success,
        Err(_) => KernReturn::Failure,
    }
}

/// Writes the reply to a state request whose flavor word is at `at` in
/// `buffer`: the return code, then the flavor, the count and the state
/// moved over the instruction. Returns the reply's size.
fn state_reply(
    buffer: &mut MessageBuffer<512>,
    at: usize,
    reply_port: u32,
    reply_id: i32,
    refuse: bool,
    malformed: bool,
) -> usize {
    let state_bytes = STATE_WORDS * 4;
    let (request_at, reply_at) = ((at + 2) * 4, message::HEADER + 12);
    let mut state_words = [0u32; STATE_WORDS];
    for (word, bytes) in state_words.iter_mut().zip(buffer.0[request_at..request_at + state_bytes].chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let count = message::word(buffer, at + 1);
    let verdict = match NativeThreadState::load_words(&state_words) {
        Some(mut state) if !refuse && count == NativeThreadState::COUNT => {
            state.set_pc(state.pc() + state.marker());
            state.store_words(&mut state_words);
            KernReturn::Success
        }
        _ => KernReturn::Failure,
    };
    let count = if malformed { NativeThreadState::COUNT - 1 } else { NativeThreadState::COUNT };
    for (index, word) in [verdict as u32, NativeThreadState::FLAVOR, count].into_iter().enumerate() {
        buffer.0[message::HEADER + index * 4..message::HEADER + index * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    for (bytes, word) in buffer.0[reply_at..reply_at + state_bytes].chunks_exact_mut(4).zip(state_words) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    let size = reply_at + state_bytes;
    message::write_header(buffer, reply_port, Disposition::MoveSendOnce as u32, 0, 0, reply_id, size)
}
