//! `memory-hog`: maps 1 GiB of anonymous memory and touches it a page at a
//! time until the kernel stops it for lack of memory (the process server
//! kills it with SIGKILL); prints how far it got every 8 MiB.
#![no_std]
#![no_main]

use mach_process_checks::Process;

libmach::entry!(main);

fn main(_bootstrap: u64) {
    let Some(mut process) = Process::new() else { return };
    const SIZE: u64 = 1 << 30;
    let Ok(start) = process.memory.allocate(0, SIZE, 3, 0x22) else { process.exit(3) };
    let mut touched = 0u64;
    while touched < SIZE {
        // SAFETY: [start, start + SIZE) was just mapped read-write for this
        // process; each write touches one byte of it.
        unsafe { ((start + touched) as *mut u8).write_volatile(1) };
        touched += 4096;
        if touched.is_multiple_of(8 << 20) {
            libmach::println!("memory-hog: {} MiB touched", touched >> 20);
        }
    }
    process.exit(0);
}
