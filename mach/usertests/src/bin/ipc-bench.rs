//! Kernel micro-benchmarks, in time-stamp-counter ticks per operation
//! (guest instructions under `-icount shift=0`). The argument names a send
//! right to an `ipc-echo` server; a `yielder` task of the same priority
//! runs beside it. Prints `bench <name> <ticks per op>` lines and `bench done`.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, PortRight, MACH_RCV_MSG, MACH_SEND_MSG, TASK_CREATE_INHERIT_SEND_RIGHTS};
use libmach::trap::*;
use mach_usertests::{message, println};

libmach::entry!(main);

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
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

/// `task_create` alone (the child is terminated outside the timed part),
/// with `flags`.
fn measure_task_create(name: &str, task: u32, flags: u64, rounds: u64) {
    let create = || {
        let start = ticks();
        let child = task_create_with(task, flags);
        let elapsed = ticks() - start;
        if let Ok(child) = child {
            let _ = task_terminate(child);
            let _ = port_deallocate(task, child);
        }
        elapsed
    };
    for _ in 0..rounds / 10 {
        create();
    }
    let total: u64 = (0..rounds).map(|_| create()).sum();
    println!("bench {name} {}", total / rounds);
}

/// One operation (`rpc`: a null RPC round trip to the echo server;
/// `allocate`: port_allocate + port_destroy), `rounds` times.
fn profile_only(profile: &str, task: u32, service: u32) {
    let (operation, rounds) = profile.split_once(':').unwrap_or((profile, "0"));
    let rounds: u64 = rounds.parse().unwrap_or(0);
    let reply = mach_reply_port();
    let mut buffer = MessageBuffer::<2048>::new();
    for _ in 0..rounds {
        match operation {
            "allocate" => {
                if let Ok(name) = port_allocate(task, PortRight::Receive) {
                    let _ = port_destroy(task, name);
                }
            }
            "rpc" => {
                let size = message::write(
                    &mut buffer,
                    service,
                    Disposition::CopySend as u32,
                    reply,
                    Disposition::MakeSendOnce as u32,
                    1,
                    &[],
                );
                let _ = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0);
            }
            _ => {
                // No "bench done": the profiling script reports the failure.
                println!("ipc-bench: unknown IPC_BENCH_PROFILE operation {operation}");
                return;
            }
        }
    }
    println!("bench done");
}

fn main(argument: u64) {
    let service = argument as u32;
    let task = task_self();
    // Built with IPC_BENCH_PROFILE=OPERATION:COUNT (scripts/profile-kernel-bench),
    // it runs only that operation COUNT times, untimed, so that two boots
    // (COUNT and 0) tell its instructions apart from everything else.
    if let Some(profile) = option_env!("IPC_BENCH_PROFILE") {
        profile_only(profile, task, service);
        return;
    }
    // Fork's cost in descriptors: a child inheriting this task's send
    // rights, now 3 (its task port, the echo service, the handler), then
    // 64 (61 more ports with a send right each).
    measure_task_create("task_create_empty", task, 0, 200);
    measure_task_create("task_create_inherit_3_send_rights", task, TASK_CREATE_INHERIT_SEND_RIGHTS, 200);
    let mut extra = [0u32; 61];
    for name in extra.iter_mut() {
        *name = port_allocate(task, PortRight::Receive).unwrap_or(0);
        let _ = port_insert_right(task, *name, *name, Disposition::MakeSend as u32);
    }
    measure_task_create("task_create_inherit_64_send_rights", task, TASK_CREATE_INHERIT_SEND_RIGHTS, 200);
    for name in extra {
        let _ = port_destroy(task, name);
    }
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
        let size = message::write(
            buffer,
            service,
            Disposition::CopySend as u32,
            reply,
            Disposition::MakeSendOnce as u32,
            1,
            words,
        );
        let _ = mach_msg(buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0);
    };
    measure("rpc_round_trip", 5_000, || rpc(&[], &mut buffer));
    let kilobyte = [0x5a5a_5a5au32; 256];
    measure("rpc_round_trip_1k_inline", 2_000, || rpc(&kilobyte, &mut buffer));
    // Out-of-line memory: 1 MiB to our own port and back out, by copy and by
    // move (the moved region is received, then handed back by the next move).
    let mib: u64 = 1 << 20;
    let mut region = vm_allocate(task, 0, mib, libmach::abi::VM_FLAGS_ANYWHERE).unwrap_or(0);
    let ool = |deallocate: bool, region: &mut u64, buffer: &mut MessageBuffer<2048>| {
        let header = libmach::abi::MachMsgHeader {
            bits: libmach::abi::msgh_bits(Disposition::CopySend as u32, 0),
            size: 0,
            remote_port: own,
            local_port: 0,
            voucher_port: 0,
            id: 1,
        };
        let mut encoder = libmach::abi::MessageEncoder::new(&mut buffer.0, header, true);
        let _ = encoder.descriptor(libmach::abi::Descriptor::OutOfLineMemory {
            address: *region,
            size: mib as u32,
            deallocate,
            copy: libmach::abi::CopyOption::VirtualCopy,
        });
        let size = encoder.finish().unwrap_or(0);
        let _ = mach_msg(buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, own, 0);
        let received = buffer.0[28..36].try_into().map(u64::from_le_bytes).unwrap_or(0);
        if deallocate {
            *region = received;
        } else {
            let _ = vm_deallocate(task, received, mib);
        }
    };
    measure("ool_1mib_copy", 50, || ool(false, &mut region, &mut buffer));
    measure("ool_1mib_move", 50, || ool(true, &mut region, &mut buffer));
    // Each yield runs the yielder once: two switches through the scheduler.
    let start = ticks();
    for _ in 0..5_000 {
        let _ = thread_yield();
    }
    println!("bench thread_switch_via_scheduler {}", (ticks() - start) / 10_000);
    // An exception round trip: fault, the exception message to the handler
    // task, its reply, resume (argument bits 32.. name the send right to the
    // handler's port, set as our task's exception port). With
    // EXCEPTION_STATE the registers travel in the messages; with
    // EXCEPTION_DEFAULT the handler calls thread_get_state and
    // thread_set_state and deallocates the thread and task rights.
    let handler = (argument >> 32) as u32;
    for (name, behavior) in [
        ("exception_round_trip", libmach::abi::EXCEPTION_STATE),
        ("exception_round_trip_default", libmach::abi::EXCEPTION_DEFAULT),
    ] {
        let _ = task_set_exception_port_with(task, libmach::abi::EXC_MASK_ALL, handler, behavior);
        measure(name, 500, || {
            // The handler steps over it (by the marker register).
            mach_usertests::faults::undefined_instruction();
        });
    }
    println!("bench done");
}
