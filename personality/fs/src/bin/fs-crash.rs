//! A workload for the kill test (scripts/tests/file-server): files are
//! written and fsync'd one after the other (`fs-crash: synced N SIZE` once
//! file N is durable), while other files are created, grown, renamed and
//! removed around them, until QEMU is killed. The host then repairs the
//! disk with e2fsck and checks that every synced file reads back exactly:
//! byte J of file N is `(N * 31 + J * 7) & 0xff`.
#![no_std]
#![no_main]

use libmach::abi::{PortName, VM_FLAGS_ANYWHERE};
use libmach::trap::{task_self, thread_sleep, vm_allocate};
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::println;
use personality_interfaces::{fs, io};

libmach::entry!(main);

const CREATE_TRUNCATE_WRITE: u32 = 0o100 | 0o1000 | 0o1;
const BUFFER: usize = 128 * 1024;

fn byte(file: u64, index: u64) -> u8 {
    (file.wrapping_mul(31).wrapping_add(index.wrapping_mul(7)) & 0xff) as u8
}

fn size_of(file: u64) -> usize {
    (file as usize * 7919) % 100_000 + 1
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
    let Ok(address) = vm_allocate(task_self(), 0, BUFFER as u64, VM_FLAGS_ANYWHERE) else { return };
    // SAFETY: `vm_allocate` just gave this task BUFFER bytes of zeroed
    // read-write memory at `address`, used only through this slice.
    let buffer: &mut [u8] = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, BUFFER) };
    let _ = root.make_directory(b"/crash", 0o755);
    let _ = root.make_directory(b"/crash/churn", 0o755);
    println!("fs-crash: started");
    let mut path = *b"/crash/file-000000";
    for file in 0u64.. {
        let mut value = file;
        for position in (12..18).rev() {
            path[position] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        let size = size_of(file);
        let Ok(reply) = root.open(&path, CREATE_TRUNCATE_WRITE, 0o644) else { return };
        let Ok(mut handle) = io::Client::new(&SystemKernel, reply.file) else { return };
        for (index, slot) in buffer[..size].iter_mut().enumerate() {
            *slot = byte(file, index as u64);
        }
        if !matches!(handle.write_large(&buffer[..size]), Ok(written) if written as usize == size) {
            println!("fs-crash: write of file {file} failed");
            return;
        }
        if handle.sync(false).is_err() {
            println!("fs-crash: fsync of file {file} failed");
            return;
        }
        println!("fs-crash: synced {file} {size}");
        // Churn around it: unsynced files come and go.
        let churn_path: &[u8] = if file % 2 == 0 { b"/crash/churn/a" } else { b"/crash/churn/b" };
        if let Ok(reply) = root.open(churn_path, CREATE_TRUNCATE_WRITE, 0o644) {
            if let Ok(mut churn) = io::Client::new(&SystemKernel, reply.file) {
                let _ = churn.write_large(&buffer[..(size * 3) % BUFFER + 1]);
            }
        }
        if let Ok(churn) = root.open(b"/crash/churn", 0o200000, 0) {
            let _ = root.rename(churn_path, &churn.file, b"renamed");
        }
        let _ = root.unlink(b"/crash/churn/renamed", false);
    }
}
