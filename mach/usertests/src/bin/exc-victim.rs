//! Makes itself the subject of an exception handler (its argument names a
//! send right to the handler's port) and raises each exception kind, with
//! the length of the faulting instruction in r12 so the handler can step
//! over it. Prints `survived <kind>` after each and `exc-victim: done`.
#![no_std]
#![no_main]

use libmach::abi::{Trap, EXC_MASK_ALL};
use libmach::trap::{raw_trap, task_self};
use mach_usertests::println;

libmach::entry!(main);

fn main(handler: u64) {
    // SAFETY: names only; the kernel reads no memory for this trap.
    let status = unsafe {
        raw_trap(Trap::TaskSetExceptionPort as u64, [task_self() as u64, EXC_MASK_ALL as u64, handler, 0, 0, 0])
    };
    println!("exception port set: {status}");
    // SAFETY (each block): the instruction faults on purpose; the handler
    // moves rip past it (by r12 bytes) and resumes us; the registers named
    // as outputs are the only ones changed.
    unsafe { core::arch::asm!("mov r12, 2", "ud2", out("r12") _) };
    println!("survived invalid opcode");
    unsafe { core::arch::asm!("mov r12, 0", "int3", out("r12") _) };
    println!("survived breakpoint");
    unsafe {
        core::arch::asm!("xor edx, edx", "xor eax, eax", "xor ecx, ecx", "mov r12, 2", "div ecx", out("r12") _, out("eax") _, out("ecx") _, out("edx") _)
    };
    println!("survived divide error");
    unsafe { core::arch::asm!("mov rax, 8", "mov r12, 3", "mov rax, [rax]", out("r12") _, out("rax") _) };
    println!("survived bad access");
    unsafe { core::arch::asm!("mov r12, 1", "hlt", out("r12") _) };
    println!("survived privileged instruction");
    println!("exc-victim: done");
}
