//! fs-checks' partner in another task: while fs-checks waits on the FIFO
//! `/tmp/fs-fifo` (its open blocks until a writer comes), this task does
//! 500 file operations of its own, served meanwhile, then opens the FIFO
//! and writes a message saying so.
#![no_std]
#![no_main]

use libmach::abi::PortName;
use libmach::trap::thread_sleep;
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use personality_interfaces::{fs, io};

libmach::entry!(main);

const OPERATIONS: u32 = 500;

fn main(bootstrap_port: u64) {
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        return;
    };
    let mut server = None;
    for _ in 0..400 {
        if let Ok(right) = names.lookup("fs") {
            server = Some(right);
            break;
        }
        let _ = thread_sleep(50);
    }
    let Some(server) = server else { return };
    let Ok(mut root) = fs::Client::new(&SystemKernel, server) else { return };
    // Wait for fs-checks to make the FIFO (and be waiting on it): it does
    // its other checks first, which take a while on a slow machine.
    for _ in 0..60_000 {
        if root.stat(b"/tmp/fs-fifo", true).is_ok() {
            break;
        }
        let _ = thread_sleep(20);
    }
    let _ = root.make_directory(b"/tmp/peer", 0o755);
    let mut done = 0;
    for index in 0..OPERATIONS {
        let path: &[u8] = if index % 2 == 0 { b"/tmp/peer/a" } else { b"/tmp/peer/b" };
        let ok = match index % 4 {
            0 | 1 => root
                .open(path, 0o100 | 0o1 | 0o1000, 0o644)
                .ok()
                .and_then(|reply| io::Client::new(&SystemKernel, reply.file).ok())
                .is_some_and(|mut file| file.write(b"peer data").is_ok()),
            2 => root.stat(path, true).is_ok(),
            _ => root.unlink(path, false).is_ok(),
        };
        if ok {
            done += 1;
        }
    }
    let Ok(reply) = root.open(b"/tmp/fs-fifo", 0o1, 0) else {
        println!("fs-peer: cannot open the fifo");
        return;
    };
    let Ok(mut fifo) = io::Client::new(&SystemKernel, reply.file) else { return };
    let message: &[u8] = if done == OPERATIONS {
        b"fs-peer did 500 operations while fs-checks waited"
    } else {
        b"fs-peer: some of its operations failed"
    };
    let _ = fifo.write(message);
    println!("fs-peer: done ({done} operations)");
}
