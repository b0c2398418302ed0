//! Per-task memory limits (`task_set_memory_limit`, trap 69) from user
//! mode. The argument names a send right to the privileged host port.
//! Prints `limit-checks: N passed, N failed`.
//!
//! A kernel copy past the limit fails with `KERN_RESOURCE_SHORTAGE`; a
//! fault past it becomes `EXC_BAD_ACCESS` with code `KERN_RESOURCE_SHORTAGE`
//! (a child of this task touches memory past its limit; this task is its
//! exception port and keeps running).
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, PortRight, Trap, EXCEPTION_RAISE_ID, EXC_BAD_ACCESS, EXC_MASK_ALL, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, TASK_BASIC_INFO, TASK_CREATE_INHERIT_MEMORY, VM_FLAGS_ANYWHERE,
};
use libmach::trap::{
    mach_msg, port_allocate, port_deallocate, port_destroy, port_insert_right, raw_trap, task_create_with, task_self,
    task_set_exception_port, task_set_memory_limit, task_terminate, vm_allocate, vm_deallocate, vm_write,
    MessageBuffer,
};
use mach_usertests::{message, start_thread, Checks};

libmach::entry!(main);

const PAGE: u64 = 4096;

/// Pages resident in `task` (`task_info`).
fn resident(task: u32) -> u64 {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most 6 words and the count, both ours.
    unsafe {
        raw_trap(
            Trap::TaskInfo as u64,
            [task as u64, TASK_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    words[2] as u64
}

/// Writes one byte into each page of `[address, +pages)` through the
/// kernel (`vm_write`), so every page is brought in; returns how many
/// pages were written and the error that stopped it.
fn write_pages(task: u32, address: u64, pages: u64) -> (u64, Result<(), KernReturn>) {
    for page in 0..pages {
        if let Err(error) = vm_write(task, address + page * PAGE, &[1]) {
            return (page, Err(error));
        }
    }
    (pages, Ok(()))
}

/// A child's thread: touches one page after another from `address`.
extern "C" fn toucher(address: u64) -> ! {
    let mut page = address;
    loop {
        // SAFETY: `address` starts a large region of this task, read-write;
        // the walk ends at a fault long before its end.
        unsafe { core::ptr::write_volatile(page as *mut u8, 1) };
        page += PAGE;
    }
}

fn main(argument: u64) {
    let host = argument as u32;
    let mut checks = Checks::new("limit-checks");
    let task = task_self();

    checks.equal(
        "a limit needs the privileged host port",
        task_set_memory_limit(task, task, 100),
        Err(KernReturn::InvalidHost),
    );
    checks.equal("not a name at all", task_set_memory_limit(0x0abc_de00, task, 100), Err(KernReturn::InvalidHost));
    checks.equal("a zero limit", task_set_memory_limit(host, task, 0), Err(KernReturn::InvalidArgument));
    checks.equal("of no task", task_set_memory_limit(host, host, 100), Err(KernReturn::InvalidTask));

    // Its own limit: kernel copies past it fail, and nothing is lost.
    let region = vm_allocate(task, 0, 1 << 20, VM_FLAGS_ANYWHERE).unwrap_or(0);
    checks.equal("limit myself", task_set_memory_limit(host, task, resident(task) + 64), Ok(()));
    let (written, stopped) = write_pages(task, region, 256);
    checks.equal(
        "a kernel copy past the limit fails with KERN_RESOURCE_SHORTAGE",
        (stopped, written > 16 && written < 64),
        (Err(KernReturn::ResourceShortage), true),
    );
    checks.equal("freeing makes room again", vm_deallocate(task, region, 1 << 20), Ok(()));
    let region = vm_allocate(task, 0, 1 << 20, VM_FLAGS_ANYWHERE).unwrap_or(0);
    checks.equal("and the pages come again", write_pages(task, region, 8), (8, Ok(())));
    checks.equal("raise the limit", task_set_memory_limit(host, task, 1 << 20), Ok(()));
    checks.equal("all 256 pages now", write_pages(task, region, 256), (256, Ok(())));
    let _ = vm_deallocate(task, region, 1 << 20);

    // A child past its limit: its fault is an exception with code
    // KERN_RESOURCE_SHORTAGE, sent to this task, which goes on running.
    let stack = vm_allocate(task, 0, 4 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    let target = vm_allocate(task, 0, 64 << 20, VM_FLAGS_ANYWHERE).unwrap_or(0);
    let exceptions = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, exceptions, exceptions, Disposition::MakeSend as u32);
    let child = task_create_with(task, TASK_CREATE_INHERIT_MEMORY).unwrap_or(0);
    checks.equal("the child inherits the parent's memory", resident(child) > 0, true);
    checks.equal("limit the child", task_set_memory_limit(host, child, resident(child) + 48), Ok(()));
    checks.equal("catch its exceptions", task_set_exception_port(child, EXC_MASK_ALL, exceptions), Ok(()));
    checks.equal("start it touching pages", start_thread(child, toucher, target, stack + 4 * PAGE).is_ok(), true);
    let mut buffer = MessageBuffer::<256>::new();
    let received = mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, exceptions, 5000);
    let code = |index: usize| message::word(&buffer, index) as u64 | (message::word(&buffer, index + 1) as u64) << 32;
    checks.equal("an exception comes", (received, message::id(&buffer)), (Ok(()), EXCEPTION_RAISE_ID));
    checks.equal(
        "EXC_BAD_ACCESS with KERN_RESOURCE_SHORTAGE in the child's region",
        (message::word(&buffer, 15), code(17), (target..target + (64 << 20)).contains(&code(19))),
        (EXC_BAD_ACCESS, KernReturn::ResourceShortage as u64, true),
    );
    let faulted_at = code(19);
    checks.equal("it got some pages first", faulted_at > target, true);
    // The kernel's copies into the child fail the same way.
    checks.equal(
        "a kernel copy into the child past its limit",
        vm_write(child, faulted_at, &[1]),
        Err(KernReturn::ResourceShortage),
    );
    for name in [message::word(&buffer, 7), message::word(&buffer, 11)] {
        let _ = port_deallocate(task, name);
    }
    checks.equal("end the child", task_terminate(child), Ok(()));
    let _ = port_deallocate(task, child);
    let _ = port_destroy(task, exceptions);
    let _ = vm_deallocate(task, target, 64 << 20);
    let _ = vm_deallocate(task, stack, 4 * PAGE);
    checks.finish();
}
