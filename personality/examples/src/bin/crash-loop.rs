//! A server that dies at once, every time: it registers `crash-loop`, then
//! writes to address 8. The bootstrap task sees the exception, restarts it
//! within its restart budget, and then gives up on it.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, PortName, PortRight};
use libmach::trap::{port_allocate, port_insert_right, task_self};
use mach_bootstrap_core::client::register;
use mach_examples::println;

libmach::entry!(main);

fn main(service: u64) {
    let me = task_self();
    let Ok(port) = port_allocate(me, PortRight::Receive) else { return };
    let _ = port_insert_right(me, port, port, Disposition::MakeSend as u32);
    println!("crash-loop: registered: {:?}", register(service as PortName, b"crash-loop", port));
    // SAFETY: deliberately not sound: the write faults (nothing is mapped
    // at address 8), which is the point of this program.
    unsafe { core::ptr::write_volatile(8 as *mut u64, 1) };
    println!("crash-loop: still alive");
}
