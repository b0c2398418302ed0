//! Spins without ever yielding, printing a progress line every 2^20 rounds:
//! only preemption takes the processor from it.
#![no_std]
#![no_main]

use mach_usertests::println;

libmach::entry!(main);

fn main(_argument: u64) {
    let mut rounds: u64 = 0;
    loop {
        rounds = core::hint::black_box(rounds + 1);
        if rounds.is_multiple_of(1 << 20) {
            println!("spun {}", rounds >> 20);
        }
    }
}
