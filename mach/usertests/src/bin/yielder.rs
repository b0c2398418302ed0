//! Yields forever: the partner of the scheduler-switch benchmark.
#![no_std]
#![no_main]

libmach::entry!(main);

fn main(_argument: u64) {
    loop {
        let _ = libmach::trap::thread_yield();
    }
}
