//! The generator's overhead: the same RPC round trip (a `u32` there, a
//! return code and a `u32` back) made with raw `mach_msg` against
//! `raw-echo` and through the generated `ping.defs` stubs and dispatch
//! against `ping-server`; and, for scale, kv's `count` through its stubs
//! against `kv-server`. In time-stamp-counter ticks per call (guest
//! instructions under `-icount shift=0`). Prints `bench <name> <ticks>`
//! lines, the overhead in percent, and `bench done`
//! (scripts/benches/stubs).
#![no_std]
#![no_main]

use libmach::abi::{Disposition, PortName, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::trap::{mach_msg, mach_reply_port, MessageBuffer};
use libmach::SystemKernel;
use mach_examples::{name_service, names, ping, println};
use mach_kv_example::kv;
use mach_usertests::message;

libmach::entry!(main);

const ROUNDS: u64 = 2000;

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
}

/// Ticks per call of `operation`, after a warm-up; `None` if a call failed.
fn measure(mut operation: impl FnMut() -> bool) -> Option<u64> {
    for _ in 0..ROUNDS / 10 {
        if !operation() {
            return None;
        }
    }
    let start = ticks();
    for _ in 0..ROUNDS {
        if !operation() {
            return None;
        }
    }
    Some((ticks() - start) / ROUNDS)
}

fn find(names: &mut names::Client, name: &str) -> Option<libmach::SendRight> {
    names.lookup_wait(name, 20_000).ok()
}

fn main(bootstrap_port: u64) {
    let Ok(mut names) = name_service(bootstrap_port) else { return };
    let (Some(echo), Some(ping_server), Some(kv_server)) =
        (find(&mut names, "raw-echo"), find(&mut names, "ping"), find(&mut names, "kv"))
    else {
        println!("kv-bench: servers not found");
        return;
    };
    let echo: PortName = echo.into_name();
    let reply = mach_reply_port();
    let mut buffer = MessageBuffer::<256>::new();
    let raw = measure(|| {
        let size = message::write(
            &mut buffer,
            echo,
            Disposition::CopySend as u32,
            reply,
            Disposition::MakeSendOnce as u32,
            1,
            &[7],
        );
        mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0).is_ok()
            && message::id(&buffer) == 101
            && message::word(&buffer, 7) == 7
    });
    let Ok(mut pinger) = ping::Client::new(&SystemKernel, ping_server) else { return };
    let generated = measure(|| matches!(pinger.ping(7), Ok(7)));
    let Ok(mut kv_client) = kv::Client::new(&SystemKernel, kv_server) else { return };
    let kv_count = measure(|| kv_client.count().is_ok());
    match (raw, generated, kv_count) {
        (Some(raw), Some(generated), Some(kv_count)) => {
            println!("bench rpc_raw_round_trip {raw}");
            println!("bench rpc_generated_round_trip {generated}");
            println!("bench rpc_generated_overhead_percent {}", (generated.saturating_sub(raw)) * 100 / raw.max(1));
            println!("bench rpc_generated_kv_count_round_trip {kv_count}");
        }
        _ => println!("kv-bench: a call failed (raw {raw:?}, generated {generated:?}, kv count {kv_count:?})"),
    }
    println!("bench done");
}
