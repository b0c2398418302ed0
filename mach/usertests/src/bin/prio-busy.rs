//! The medium-priority busy thread of the priority-inheritance case
//! (`usertest.rs`): spins without blocking, looking every 2^16 rounds
//! (a receive that does not wait) for the message `prio-client` sends once
//! its call was answered, on the receive right its argument names. It
//! prints whether that message stopped it (the call was answered while it
//! spun: the server ran before it, at the client's priority) or whether it
//! gave up first, after 2^28 rounds (the server could only run after it: no
//! inheritance). Nothing but its bound depends on time, and that bound only
//! ends the run of a failing kernel.
#![no_std]
#![no_main]

use libmach::abi::{MACH_RCV_MSG, MACH_RCV_TIMEOUT};
use libmach::trap::{mach_msg, MessageBuffer};
use mach_usertests::println;

libmach::entry!(main);

const ROUNDS_BETWEEN_LOOKS: u64 = 1 << 16;
const ROUNDS_BEFORE_GIVING_UP: u64 = 1 << 28;

fn main(argument: u64) {
    let stop = argument as u32;
    let mut buffer = MessageBuffer::<256>::new();
    println!("prio-busy: spinning");
    let mut rounds: u64 = 0;
    while rounds < ROUNDS_BEFORE_GIVING_UP {
        rounds = core::hint::black_box(rounds + 1);
        if rounds.is_multiple_of(ROUNDS_BETWEEN_LOOKS)
            && mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, stop, 0).is_ok()
        {
            println!("prio-busy: stopped by the client after {rounds} rounds");
            return;
        }
    }
    println!("prio-busy: gave up after {rounds} rounds, never stopped by the client");
}
