//! More than 65,536 names in one IPC space (a file server serves that many
//! open files at once, each a port, beside names of its own), charged to
//! the task.
//!
//! Argument 0: allocates receive rights until the space's hard limit
//! stops it, checks a few, destroys them all; prints `allocated N ports
//! (M names), then <error>`. Argument 1 (machines whose task limit cannot
//! pay for every name): fills the task's memory to its page limit, gives
//! 64 pages back, then allocates receive rights until the names' charge
//! reaches the limit; after destroying them, the memory can be used again;
//! prints `after filling memory: allocated N ports, then <error>`. Both
//! end with `many-names: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{KernReturn, PortRight, MACH_PORT_TYPE_RECEIVE, VM_FLAGS_ANYWHERE};
use libmach::trap::*;
use mach_usertests::{println, Checks};

libmach::entry!(main);

/// Room for more names than any space may hold.
const TARGET: usize = 131_072;
const MIB: u64 = 1 << 20;
const PAGE: u64 = 4096;

/// The names in `task`'s space (`task_info`).
fn task_port_names(task: u32) -> u32 {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most `count` words into `words` and one into `count`.
    unsafe {
        raw_trap(
            libmach::abi::Trap::TaskInfo as u64,
            [task as u64, libmach::abi::TASK_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    words[3]
}

/// Allocates receive rights into `names` until refused; returns how many
/// and the refusal.
fn allocate_until_refused(task: u32, names: &mut [u32]) -> (usize, KernReturn) {
    let mut count = 0;
    while count < names.len() {
        match port_allocate(task, PortRight::Receive) {
            Ok(name) => names[count] = name,
            Err(refused) => return (count, refused),
        }
        count += 1;
    }
    (count, KernReturn::Success)
}

/// Touches 1 MiB at `address` page by page (each page charged), or fails.
fn touch(task: u32, address: u64) -> Result<(), KernReturn> {
    for offset in (0..MIB).step_by(PAGE as usize) {
        vm_write(task, address + offset, &[0x5a; 8])?;
    }
    Ok(())
}

fn main(argument: u64) {
    let mut checks = Checks::new("many-names");
    let task = task_self();
    // The names, in memory of our own.
    let size = (TARGET * 4) as u64;
    let names = vm_allocate(task, 0, size, VM_FLAGS_ANYWHERE).unwrap_or(0);
    checks.equal("memory for the names", names != 0, true);
    // SAFETY: vm_allocate gave us `size` bytes of zeroed, writable memory at
    // `names`, which nothing else uses.
    let names = unsafe { core::slice::from_raw_parts_mut(names as *mut u32, TARGET) };
    let mut filled = [0u64; 2048];
    let mut filled_count = 0;
    let mut pages = [0u64; 512];
    let mut page_count = 0;
    if argument == 1 {
        // Fill memory 1 MiB at a time, then the rest a page at a time, up to
        // the limit; then give 64 pages back.
        while filled_count < filled.len() {
            let Ok(address) = vm_allocate(task, 0, MIB, VM_FLAGS_ANYWHERE) else { break };
            if touch(task, address).is_err() {
                let _ = vm_deallocate(task, address, MIB);
                break;
            }
            filled[filled_count] = address;
            filled_count += 1;
        }
        // Where the limit falls inside the last MiB depends on the sizes of
        // the program and the kernel's charges: giving one whole MiB back
        // leaves between 256 and 511 pages to fill one at a time, always
        // more than the 64 given back below.
        if filled_count > 0 {
            filled_count -= 1;
            let _ = vm_deallocate(task, filled[filled_count], MIB);
        }
        while page_count < pages.len() {
            let Ok(address) = vm_allocate(task, 0, PAGE, VM_FLAGS_ANYWHERE) else { break };
            if vm_write(task, address, &[0x5a; 8]).is_err() {
                let _ = vm_deallocate(task, address, PAGE);
                break;
            }
            pages[page_count] = address;
            page_count += 1;
        }
        println!("filled {filled_count} MiB and {page_count} pages");
        checks.equal(
            "memory filled to the limit",
            filled_count > 2 && page_count >= 256 && page_count < pages.len(),
            true,
        );
        for _ in 0..64.min(page_count) {
            page_count -= 1;
            let _ = vm_deallocate(task, pages[page_count], PAGE);
        }
    }
    let (count, error) = allocate_until_refused(task, names);
    let in_space = task_port_names(task);
    if argument == 1 {
        println!("after filling memory: allocated {count} ports, then {error:?}");
    } else {
        println!("allocated {count} ports ({in_space} names), then {error:?}");
    }
    checks.equal("refused with KERN_NO_SPACE", error, KernReturn::NoSpace);
    let allocated = &names[..count];
    let distinct = allocated.windows(2).all(|pair| pair[0] != pair[1]);
    checks.equal("names distinct", distinct, true);
    for &name in allocated.iter().step_by(4099) {
        checks.equal("a receive right", port_type(task, name), Ok(MACH_PORT_TYPE_RECEIVE));
    }
    let mut destroyed = 0;
    for &name in allocated {
        destroyed += port_destroy(task, name).is_ok() as usize;
    }
    checks.equal("all destroyed", destroyed, allocated.len());
    checks.equal(
        "room again",
        port_allocate(task, PortRight::Receive).map(|name| port_destroy(task, name)),
        Ok(Ok(())),
    );
    if argument == 1 {
        // The names' charge went back with them (but a spare step): memory
        // can be used again.
        let again = vm_allocate(task, 0, 32 * PAGE, VM_FLAGS_ANYWHERE);
        let touched = again.and_then(|address| {
            (0..32).try_for_each(|page| vm_write(task, address + page * PAGE, &[0x5a; 8]))?;
            vm_deallocate(task, address, 32 * PAGE)
        });
        checks.equal("memory again after the names went", touched, Ok(()));
        for &address in &filled[..filled_count] {
            let _ = vm_deallocate(task, address, MIB);
        }
        for &address in &pages[..page_count] {
            let _ = vm_deallocate(task, address, PAGE);
        }
    }
    checks.finish();
}
