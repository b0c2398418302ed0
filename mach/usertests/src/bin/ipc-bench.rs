//! Kernel micro-benchmarks, in time-stamp-counter ticks per operation
//! (guest instructions under `-icount shift=0`). The argument names a send
//! right to an `ipc-echo` server; a `yielder` task of the same priority
//! runs beside it. Prints `bench <name> <ticks per op>` lines and `bench done`.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, PortRight, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::*;
use mach_usertests::{message, println};

libmach::entry!(main);

fn ticks() -> u64 {
    // SAFETY: rdtsc only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn measure(name: &str, rounds: u64, mut operation: impl FnMut()) {
    for _ in 0..rounds / 10 {
        operation(); // warm caches and tables
    }
    let start = ticks();
    for _ in 0..rounds {
        operation();
    }
    println!("bench {name} {}", (ticks() - start) / rounds);
}

fn main(argument: u64) {
    let service = argument as u32;
    let task = task_self();
    // SAFETY: an unknown trap number does nothing but return an error.
    measure("null_trap", 20_000, || unsafe {
        raw_trap(9999, [0; 6]);
    });
    measure("port_allocate_deallocate", 5_000, || {
        if let Ok(name) = port_allocate(task, PortRight::Receive) {
            let _ = port_destroy(task, name);
        }
    });
    let own = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, own, own, Disposition::MakeSend as u32);
    let mut buffer = MessageBuffer::<2048>::new();
    measure("send_receive_one_way", 5_000, || {
        let size = message::write(&mut buffer, own, Disposition::CopySend as u32, 0, 0, 1, &[0; 4]);
        let _ = mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0);
        let _ = mach_msg(&mut buffer, MACH_RCV_MSG, 0, own, 0);
    });
    let reply = mach_reply_port();
    let rpc = |words: &[u32], buffer: &mut MessageBuffer<2048>| {
        let size = message::write(buffer, service, Disposition::CopySend as u32, reply, Disposition::MakeSendOnce as u32, 1, words);
        let _ = mach_msg(buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0);
    };
    measure("rpc_round_trip", 5_000, || rpc(&[], &mut buffer));
    let kilobyte = [0x5a5a_5a5au32; 256];
    measure("rpc_round_trip_1k_inline", 2_000, || rpc(&kilobyte, &mut buffer));
    // Each yield runs the yielder once: two switches through the scheduler.
    let start = ticks();
    for _ in 0..5_000 {
        let _ = thread_yield();
    }
    println!("bench thread_switch_via_scheduler {}", (ticks() - start) / 10_000);
    println!("bench done");
}
