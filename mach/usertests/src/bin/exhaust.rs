//! An unprivileged task that takes as much of one kind of kernel object as
//! the kernel lets it, then holds it. The kernel test runs one per kind at
//! once, checks that other tasks still work, then terminates them and
//! checks that everything came back (mach/kernel/src/usertest.rs,
//! `no_task_can_exhaust_the_kernel`).
//!
//! The argument names the kind: 1 receive rights in child tasks (as many
//! children as it may create, each filled with ports: the way the kernel
//! was once brought down), 2 tasks, 3 threads, 4 port sets, 5 queued
//! messages. It prints `exhaust KIND: N then ERROR` and `exhaust: holding`,
//! then sleeps until terminated. Kind 6 is not exhaustion: it creates 100
//! child tasks and drops its right to each (the kernel must free them),
//! then prints `exhaust: dropped 100 children` and holds.
#![no_std]
#![no_main]

use libmach::abi::{msgh_bits, Disposition, KernReturn, MachMsgReturn, PortRight, MACH_SEND_MSG, MACH_SEND_TIMEOUT};
use libmach::trap::*;
use mach_usertests::println;

libmach::entry!(main);

/// Bounds on the loops, far above what the kernel allows one task.
const CHILDREN_MAX: usize = 4096;
const OBJECTS_MAX: usize = 1 << 20;

/// Allocates receive rights in `task` until refused.
fn fill_with_ports(task: u32) -> (usize, KernReturn) {
    for count in 0..OBJECTS_MAX {
        if let Err(error) = port_allocate(task, PortRight::Receive) {
            return (count, error);
        }
    }
    (OBJECTS_MAX, KernReturn::Success)
}

fn ports_in_children() {
    let (mut children, mut ports) = (0, 0);
    let mut last = KernReturn::Success;
    while children < CHILDREN_MAX {
        let child = match task_create(task_self()) {
            Ok(child) => child,
            Err(error) => {
                last = error;
                break;
            }
        };
        children += 1;
        let (count, error) = fill_with_ports(child);
        ports += count;
        if count == 0 {
            last = error;
            break;
        }
    }
    println!("exhaust ports: {ports} in {children} children then {last:?}");
}

fn tasks() {
    let mut count = 0;
    let error = loop {
        if count == CHILDREN_MAX {
            break KernReturn::Success;
        }
        match task_create(task_self()) {
            Ok(_) => count += 1,
            Err(error) => break error,
        }
    };
    println!("exhaust tasks: {count} then {error:?}");
}

fn threads() {
    let mut count = 0;
    let error = loop {
        if count == OBJECTS_MAX {
            break KernReturn::Success;
        }
        // Suspended (as every new thread): it holds its kernel stack.
        match thread_create(task_self()) {
            Ok(_) => count += 1,
            Err(error) => break error,
        }
    };
    println!("exhaust threads: {count} then {error:?}");
}

fn port_sets() {
    let mut count = 0;
    let error = loop {
        if count == OBJECTS_MAX {
            break KernReturn::Success;
        }
        match port_allocate(task_self(), PortRight::PortSet) {
            Ok(_) => count += 1,
            Err(error) => break error,
        }
    };
    println!("exhaust port sets: {count} then {error:?}");
}

/// Queues the largest inline messages it may on ports of its own (a fresh
/// port whenever one's queue is full) until the kernel refuses.
fn queued_messages() {
    const SIZE: usize = 64 * 1024;
    let buffer = vm_allocate(task_self(), 0, SIZE as u64, libmach::abi::VM_FLAGS_ANYWHERE).unwrap_or(0);
    if buffer == 0 {
        println!("exhaust messages: no buffer");
        return;
    }
    // SAFETY: vm_allocate gave us SIZE zeroed, writable bytes nothing else uses.
    let buffer = unsafe { core::slice::from_raw_parts_mut(buffer as *mut u8, SIZE) };
    let (mut count, mut ports) = (0, 0);
    let error = 'outer: loop {
        let port = match port_allocate(task_self(), PortRight::Receive) {
            Ok(port) => port,
            Err(error) => {
                println!("exhaust messages: {count} on {ports} ports then port_allocate {error:?}");
                return;
            }
        };
        ports += 1;
        let mut on_this_port = 0;
        loop {
            let words = [msgh_bits(Disposition::MakeSend as u32, 0), SIZE as u32, port, 0, 0, 7];
            for (index, word) in words.iter().enumerate() {
                buffer[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
            }
            match mach_msg_bytes(buffer, MACH_SEND_MSG | MACH_SEND_TIMEOUT, SIZE, 0, 0) {
                Ok(()) => {
                    count += 1;
                    on_this_port += 1;
                }
                Err(MachMsgReturn::SendTimedOut) if on_this_port > 0 => break,
                Err(error) => break 'outer error,
            }
        }
    };
    println!("exhaust messages: {count} of {} KiB on {ports} ports then {error:?}", SIZE / 1024);
}

fn drop_children() {
    let mut dropped = 0;
    for _ in 0..100 {
        let Ok(child) = task_create(task_self()) else { break };
        if port_deallocate(task_self(), child).is_ok() {
            dropped += 1;
        }
    }
    println!("exhaust: dropped {dropped} children");
}

fn main(argument: u64) {
    match argument {
        1 => ports_in_children(),
        2 => tasks(),
        3 => threads(),
        4 => port_sets(),
        5 => queued_messages(),
        6 => drop_children(),
        _ => println!("exhaust: unknown kind {argument}"),
    }
    println!("exhaust: holding");
    loop {
        let _ = thread_sleep(1000);
    }
}
