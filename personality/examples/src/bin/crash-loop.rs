//! A server that dies at once, every time: it registers `crash-loop`, then
//! writes to address 8. The bootstrap task sees the exception, restarts it
//! within its restart budget, and then gives up on it.
#![no_std]
#![no_main]

use mach_examples::{println, register_service};

libmach::entry!(main);

fn main(bootstrap_port: u64) {
    let registered = register_service(bootstrap_port, "crash-loop");
    println!("crash-loop: registered: {:?}", registered.as_ref().map(|_| ()));
    // SAFETY: deliberately not sound: the write faults (nothing is mapped
    // at address 8), which is the point of this program.
    unsafe { core::ptr::write_volatile(8 as *mut u64, 1) };
    println!("crash-loop: still alive");
}
