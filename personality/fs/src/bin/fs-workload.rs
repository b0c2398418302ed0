//! A client the kernel tests kill servers under (mach/kernel/src/usertest_fs.rs).
//!
//! - `fs-workload restart`: works on files, then keeps working while the
//!   test kills the file server: calls on the dead server's ports must
//!   fail (never hang), the restarted server (looked up again) serves a new
//!   round, and a file opened before the crash answers an error there too.
//! - `fs-workload disk`: writes, fsyncs and reads back files on the root
//!   disk for a while, the test killing the block driver meanwhile: every
//!   round must complete (the file server sends its requests again to the
//!   restarted driver).
//!
//! Prints `fs-workload: <what>: N passed, N failed` lines.
#![no_std]
#![no_main]

use libmach::abi::{PortName, VM_FLAGS_ANYWHERE};
use libmach::trap::{task_self, thread_sleep, vm_allocate};
use libmach::{CallError, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_usertests::{println, Checks};
use personality_interfaces::{fs, io};

libmach::entry!(main);

const CREATE_TRUNCATE_READ_WRITE: u32 = 0o100 | 0o1000 | 0o2;

fn file_server(names: &mut names::Client) -> Option<fs::Client> {
    let server = names.lookup_wait("fs", 30_000).ok()?;
    let mut client = fs::Client::new(&SystemKernel, server).ok()?;
    // A dead server's calls fail at once; a live one answers well within this.
    client.set_timeout(Some(20_000));
    Some(client)
}

fn open(root: &mut fs::Client, path: &[u8], flags: u32) -> Result<io::Client, CallError<fs::Error>> {
    let reply = root.open(path, flags, 0o644)?;
    let mut file = io::Client::new(&SystemKernel, reply.file).map_err(CallError::Rpc)?;
    file.set_timeout(Some(20_000));
    Ok(file)
}

/// One round of small operations in /tmp: true when all went well.
fn round(root: &mut fs::Client, index: u32) -> bool {
    let Ok(mut file) = open(root, b"/tmp/workload", CREATE_TRUNCATE_READ_WRITE) else { return false };
    let data = index.to_le_bytes();
    file.write(&data).is_ok()
        && file.seek(0, 0).is_ok()
        && matches!(file.read(4), Ok(back) if back.as_slice() == data)
        && root.stat(b"/tmp/workload", true).is_ok()
}

fn restart(names: &mut names::Client) {
    let mut checks = Checks::new("fs-workload: first server");
    let Some(mut root) = file_server(names) else {
        println!("fs-workload: no file server");
        return;
    };
    for index in 0..20 {
        checks.equal("round", round(&mut root, index), true);
    }
    let mut kept = open(&mut root, b"/tmp/kept", CREATE_TRUNCATE_READ_WRITE).ok();
    checks.finish();
    println!("fs-workload: working");
    // Work until the server goes away.
    let mut index = 0;
    let failure = loop {
        index += 1;
        match root.stat(b"/tmp/workload", true) {
            Ok(_) => {
                let _ = thread_sleep(5);
            }
            Err(error) => break error,
        }
        if index > 200_000 {
            println!("fs-workload: the server never went away");
            return;
        }
    };
    let mut checks = Checks::new("fs-workload: restarted server");
    checks.equal("the dead server's call failed with an RPC error", matches!(failure, CallError::Rpc(_)), true);
    if let Some(file) = kept.as_mut() {
        checks.equal("a file opened before the crash fails", file.stat().is_err(), true);
    }
    let Some(mut root) = file_server(names) else {
        checks.equal("a new file server", false, true);
        checks.finish();
        return;
    };
    for index in 0..20 {
        checks.equal("round", round(&mut root, index), true);
    }
    checks.finish();
}

fn disk(names: &mut names::Client) {
    let mut checks = Checks::new("fs-workload: disk");
    let Some(mut root) = file_server(names) else {
        println!("fs-workload: no file server");
        return;
    };
    const SIZE: usize = 64 * 1024;
    let Ok(address) = vm_allocate(task_self(), 0, SIZE as u64, VM_FLAGS_ANYWHERE) else { return };
    // SAFETY: `vm_allocate` just gave this task SIZE bytes of zeroed
    // read-write memory at `address`, used only through this slice.
    let buffer: &mut [u8] = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, SIZE) };
    let _ = root.make_directory(b"/workload", 0o755);
    println!("fs-workload: working");
    for index in 0..60u32 {
        for (position, byte) in buffer.iter_mut().enumerate() {
            *byte = (position as u32 ^ index) as u8;
        }
        let ok = open(&mut root, b"/workload/data", CREATE_TRUNCATE_READ_WRITE).is_ok_and(|mut file| {
            matches!(file.write_large(buffer), Ok(count) if count as usize == SIZE)
                && file.sync(false).is_ok()
                && file.seek(0, 0).is_ok()
                && matches!(file.read_large(SIZE as u32), Ok(back) if back.bytes() == &buffer[..])
        });
        checks.equal("a written, synced, read-back file", ok, true);
    }
    checks.finish();
}

fn main(bootstrap_port: u64) {
    let Ok(mut names) =
        names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
    else {
        return;
    };
    match libmach::runtime::argument(1) {
        Some(b"restart") => restart(&mut names),
        Some(b"disk") => disk(&mut names),
        _ => println!("fs-workload: usage: fs-workload restart|disk"),
    }
}
