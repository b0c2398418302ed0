//! Prints a greeting, reads the clock, then sleeps and counts forever.
#![no_std]
#![no_main]

use mach_usertests::println;

libmach::entry!(main);

fn main(argument: u64) {
    println!("hello from user mode, argument {argument:#x}");
    let start = libmach::trap::clock_get_time().unwrap_or(0);
    for round in 1.. {
        let _ = libmach::trap::thread_sleep(10);
        let now = libmach::trap::clock_get_time().unwrap_or(0);
        println!("tick {round} after {} ms", (now - start) / 1_000_000);
    }
}
