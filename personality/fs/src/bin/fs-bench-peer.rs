//! fs-bench's other task: reads `pipe_64k`'s data (a chunk count, then the
//! chunks) from the FIFO /tmp/bench-data and answers one byte on
//! /tmp/bench-ack per round; then echoes `pipe_pingpong`'s bytes from
//! /tmp/bench-ping back on /tmp/bench-pong.
#![no_std]
#![no_main]

use libmach::abi::PortName;
use libmach::trap::thread_sleep;
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;
use personality_interfaces::{fs, io};

libmach::entry!(main);

const CHUNK: usize = 64 * 1024;

fn open(root: &mut fs::Client, path: &[u8], flags: u32) -> Option<io::Client> {
    for _ in 0..2000 {
        if let Ok(reply) = root.open(path, flags, 0) {
            return io::Client::new(&SystemKernel, reply.file).ok();
        }
        let _ = thread_sleep(20);
    }
    None
}

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
    let (Some(mut data), Some(mut acknowledge)) =
        (open(&mut root, b"/tmp/bench-data", 0), open(&mut root, b"/tmp/bench-ack", 1))
    else {
        return;
    };
    loop {
        let mut count = [0u8; 4];
        let Ok(bytes) = data.read(4) else { return };
        if bytes.len() != 4 {
            break;
        }
        count.copy_from_slice(bytes.as_slice());
        let mut want = u32::from_le_bytes(count) as usize * CHUNK;
        if want == 0 {
            break;
        }
        while want > 0 {
            match data.read_large(CHUNK as u32) {
                Ok(chunk) if !chunk.is_empty() => want = want.saturating_sub(chunk.len()),
                _ => return,
            }
        }
        if acknowledge.write(b"!").is_err() {
            return;
        }
    }
    drop(data);
    drop(acknowledge);
    let (Some(mut ping), Some(mut pong)) =
        (open(&mut root, b"/tmp/bench-ping", 0), open(&mut root, b"/tmp/bench-pong", 1))
    else {
        return;
    };
    loop {
        match ping.read(1) {
            Ok(byte) if byte.len() == 1 => {
                if pong.write(byte.as_slice()).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}
