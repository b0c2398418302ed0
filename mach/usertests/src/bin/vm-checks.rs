//! The VM traps from user mode, on itself and on a child task it builds
//! from nothing (the way the bootstrap task will start servers). Prints
//! `vm-checks: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{
    KernReturn, NativeThreadState, ThreadState, Trap, TASK_BASIC_INFO, THREAD_BASIC_INFO, VM_FLAGS_ANYWHERE,
    VM_FLAGS_FIXED, VM_INHERIT_NONE, VM_PROT_ALL, VM_PROT_DEFAULT, VM_PROT_EXECUTE, VM_PROT_NONE, VM_PROT_READ,
    VM_PROT_WRITE,
};
use libmach::trap::*;
use mach_usertests::Checks;

libmach::entry!(main);

/// Machine code that spins politely forever: `pause; jmp back` on x86_64,
/// `yield; b back` on aarch64.
#[cfg(target_arch = "x86_64")]
const SPIN_CODE: [u8; 4] = [0xf3, 0x90, 0xeb, 0xfc];
#[cfg(target_arch = "aarch64")]
const SPIN_CODE: [u8; 8] = [0x3f, 0x20, 0x03, 0xd5, 0xff, 0xff, 0xff, 0x17];

const PAGE: u64 = 4096;

fn bytes_at(address: u64, length: usize) -> &'static mut [u8] {
    // SAFETY: callers pass memory this task allocated with vm_allocate and
    // has not deallocated; it stays mapped read-write while used here.
    unsafe { core::slice::from_raw_parts_mut(address as *mut u8, length) }
}

fn info_words(trap: Trap, target: u32, flavor: u32) -> [u32; 6] {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most 6 words and the count, both ours.
    unsafe {
        raw_trap(trap as u64, [target as u64, flavor as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0])
    };
    words
}

fn main(_argument: u64) {
    let mut checks = Checks::new("vm-checks");
    let task = task_self();

    // Allocation, zero fill, regions.
    let area = vm_allocate(task, 0, 3 * PAGE, VM_FLAGS_ANYWHERE);
    checks.equal("allocate anywhere", area.map(|address| address % PAGE == 0 && address >= 0x1_0000_0000), Ok(true));
    let area = area.unwrap_or(0);
    checks.equal("zero filled", bytes_at(area, 3 * PAGE as usize).iter().all(|&byte| byte == 0), true);
    bytes_at(area, 3 * PAGE as usize).fill(0xa5);
    checks.equal(
        "region",
        vm_region(task, area)
            .map(|(start, size, info)| (start, size, info.protection, info.max_protection, info.resident_pages)),
        Ok((area, 3 * PAGE, VM_PROT_DEFAULT, VM_PROT_ALL, 3)),
    );
    checks.equal("fixed over it", vm_allocate(task, area, PAGE, VM_FLAGS_FIXED), Err(KernReturn::NoSpace));
    checks.equal(
        "fixed in the kernel half",
        vm_allocate(task, 0xffff_8000_0000_0000, PAGE, VM_FLAGS_FIXED),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal(
        "fixed unaligned",
        vm_allocate(task, area + 3 * PAGE + 1, PAGE, VM_FLAGS_FIXED),
        Err(KernReturn::InvalidAddress),
    );
    // Memory comes on first touch, so reserving more than the machine has
    // costs nothing until it is used (the limit applies to touched pages).
    let huge = vm_allocate(task, 0, 1 << 40, VM_FLAGS_ANYWHERE);
    checks.equal(
        "reserve more than the machine has: nothing resident",
        huge.and_then(|address| vm_region(task, address)).map(|(_, size, info)| (size, info.resident_pages)),
        Ok((1 << 40, 0)),
    );
    checks.equal("free the reservation", huge.and_then(|address| vm_deallocate(task, address, 1 << 40)), Ok(()));
    checks.equal("bad flags", vm_allocate(task, 0, PAGE, 7), Err(KernReturn::InvalidArgument));

    // Protection.
    checks.equal(
        "write and execute refused",
        vm_protect(task, area, PAGE, false, VM_PROT_WRITE | VM_PROT_EXECUTE),
        Err(KernReturn::ProtectionFailure),
    );
    checks.equal("read only", vm_protect(task, area, PAGE, false, VM_PROT_READ), Ok(()));
    checks.equal("read-only page still reads", bytes_at(area, 1)[0], 0xa5);
    checks.equal(
        "region split by protection",
        vm_region(task, area).map(|(_, size, info)| (size, info.protection)),
        Ok((PAGE, VM_PROT_READ)),
    );
    checks.equal(
        "vm_write into read-only memory",
        vm_write(task, area, &[1, 2, 3]),
        Err(KernReturn::ProtectionFailure),
    );
    checks.equal("lower the maximum", vm_protect(task, area, PAGE, true, VM_PROT_READ), Ok(()));
    checks.equal(
        "above the maximum",
        vm_protect(task, area, PAGE, false, VM_PROT_DEFAULT),
        Err(KernReturn::ProtectionFailure),
    );
    let second = area + PAGE;
    checks.equal("no access", vm_protect(task, second, PAGE, false, VM_PROT_NONE), Ok(()));
    checks.equal(
        "no access keeps the page",
        vm_region(task, second).map(|(_, _, info)| (info.protection, info.resident_pages)),
        Ok((VM_PROT_NONE, 1)),
    );
    checks.equal("access again", vm_protect(task, second, PAGE, false, VM_PROT_DEFAULT), Ok(()));
    checks.equal("contents survived", bytes_at(second, PAGE as usize).iter().all(|&byte| byte == 0xa5), true);
    checks.equal(
        "inheritance",
        vm_inherit(task, second, PAGE, VM_INHERIT_NONE)
            .and_then(|()| vm_region(task, second))
            .map(|(_, _, info)| info.inheritance),
        Ok(VM_INHERIT_NONE),
    );
    checks.equal(
        "protect unallocated",
        vm_protect(task, 0x7000_0000_0000, PAGE, false, VM_PROT_READ),
        Err(KernReturn::InvalidAddress),
    );

    // Read and write through the kernel.
    checks.equal("vm_write to self", vm_write(task, second + 10, b"mach"), Ok(()));
    checks.equal("written", &bytes_at(second + 10, 4)[..], &b"mach"[..]);
    let copy = vm_read(task, second, PAGE);
    checks.equal("vm_read from self", copy.map(|address| &bytes_at(address, 14)[10..14] == b"mach"), Ok(true));
    checks.equal("free the copy", copy.and_then(|address| vm_deallocate(task, address, PAGE)), Ok(()));
    checks.equal(
        "vm_read of unallocated memory",
        vm_read(task, 0x7000_0000_0000, PAGE),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal("vm_read without a task port", vm_read(0x0abc_de00, second, PAGE), Err(KernReturn::InvalidName));

    // Deallocate a page in the middle: the region splits around a hole.
    checks.equal("deallocate the middle page", vm_deallocate(task, second, PAGE), Ok(()));
    checks.equal("next region after the hole", vm_region(task, second).map(|(start, _, _)| start), Ok(area + 2 * PAGE));
    checks.equal("deallocate the rest", vm_deallocate(task, area, 3 * PAGE), Ok(()));

    // A range that starts inside a page covers the page of its last byte
    // too (as an out-of-line region received at its sender's offset is
    // freed by its address and size).
    let pair = vm_allocate(task, 0, 2 * PAGE, VM_FLAGS_ANYWHERE);
    checks.equal(
        "deallocate from inside a page takes both pages",
        pair.and_then(|address| vm_deallocate(task, address + 100, PAGE)),
        Ok(()),
    );
    checks.equal(
        "no page of the pair is left",
        pair.map(|address| vm_region(task, address).map_or(true, |(start, _, _)| start >= address + 2 * PAGE)),
        Ok(true),
    );

    // A child task built from nothing: code, stack, a thread.
    let mut child = 0u32;
    // SAFETY: the kernel writes the child's name into `child`.
    unsafe { raw_trap(Trap::TaskCreate as u64, [task as u64, 0, &raw mut child as u64, 0, 0, 0]) };
    let code = 0x50_0000;
    checks.equal("allocate code in the child", vm_allocate(child, code, PAGE, VM_FLAGS_FIXED), Ok(code));
    checks.equal("write code", vm_write(child, code, &SPIN_CODE), Ok(()));
    checks.equal("make it executable", vm_protect(child, code, PAGE, false, VM_PROT_READ | VM_PROT_EXECUTE), Ok(()));
    let stack = vm_allocate(child, 0, 4 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    checks.equal(
        "read the code back",
        vm_read(child, code, SPIN_CODE.len() as u64).map(|address| bytes_at(address, SPIN_CODE.len())[..] == SPIN_CODE),
        Ok(true),
    );
    let mut thread = 0u32;
    // SAFETY: the kernel writes the thread's name into `thread`.
    unsafe { raw_trap(Trap::ThreadCreate as u64, [child as u64, &raw mut thread as u64, 0, 0, 0, 0]) };
    let mut state = NativeThreadState::default();
    state.set_pc(code);
    state.set_sp(stack + 4 * PAGE - 16);
    checks.equal("set its registers", libmach::thread::set_state(thread, &state), Ok(()));
    checks.equal("start it", thread_resume(thread), Ok(()));
    let _ = thread_sleep(50);
    let thread_info = info_words(Trap::ThreadInfo, thread, THREAD_BASIC_INFO);
    checks.equal("the child runs", (thread_info[0], thread_info[4] > 0), (1, true));
    // The child's loop never touches its stack, so only the code page is
    // resident: the stack's pages would come on first touch.
    checks.equal(
        "child has code, stack and a thread",
        &info_words(Trap::TaskInfo, child, TASK_BASIC_INFO)[..3],
        &[0u32, 1, 1][..],
    );
    checks.equal("terminate the child", task_terminate(child), Ok(()));

    // A task's memory is bounded: 1 MiB at a time, each page touched (by
    // vm_write, so a refusal is an error code rather than a fault), until
    // the kernel says no (half of RAM per task) or 64 MiB; the kernel test
    // checks the figure.
    let mut chunks = [0u64; 64];
    let mut reached = 0;
    let mut refusal = Ok(());
    let mark = [0x5au8; 8];
    'fill: while reached < chunks.len() {
        let Ok(address) = vm_allocate(task, 0, 1 << 20, VM_FLAGS_ANYWHERE) else {
            refusal = Err(KernReturn::NoSpace);
            break;
        };
        chunks[reached] = address;
        for offset in (0..1 << 20).step_by(PAGE as usize) {
            // One write per page brings (and charges) the whole page.
            if let Err(error) = vm_write(task, address + offset, &mark) {
                refusal = Err(error);
                break 'fill;
            }
        }
        reached += 1;
    }
    if refusal.is_err() {
        let _ = vm_deallocate(task, chunks[reached], 1 << 20);
    }
    checks.equal(
        "stopped by the limit, or got them all",
        refusal == Err(KernReturn::ResourceShortage) || reached == 64,
        true,
    );
    mach_usertests::println!("allocated {reached} MiB in 1 MiB steps");
    for &address in &chunks[..reached] {
        let _ = vm_deallocate(task, address, 1 << 20);
    }
    checks.finish();
}
