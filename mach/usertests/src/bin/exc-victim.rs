//! Makes itself the subject of an exception handler (its argument names a
//! send right to the handler's port in its low 32 bits, the behaviour —
//! `EXCEPTION_DEFAULT`, `EXCEPTION_STATE`, ... — in the high 32) and
//! raises each exception kind, with
//! how far to step over the faulting instruction in the marker register
//! (`mach_usertests::faults`). Prints `survived <kind>` after each and `exc-victim: done`.
#![no_std]
#![no_main]

use libmach::abi::{Trap, EXC_MASK_ALL};
use libmach::trap::{raw_trap, task_self};
use mach_usertests::println;

libmach::entry!(main);

fn main(argument: u64) {
    let (handler, behavior) = (argument & 0xffff_ffff, argument >> 32);
    // SAFETY: names only; the kernel reads no memory for this trap.
    let status = unsafe {
        raw_trap(Trap::TaskSetExceptionPort as u64, [task_self() as u64, EXC_MASK_ALL as u64, handler, behavior, 0, 0])
    };
    println!("exception port set: {status}");
    mach_usertests::faults::undefined_instruction();
    println!("survived invalid opcode");
    mach_usertests::faults::breakpoint();
    println!("survived breakpoint");
    if mach_usertests::faults::divide_by_zero() {
        println!("survived divide error");
    } else {
        println!("no divide error on this architecture");
    }
    mach_usertests::faults::read_address_8();
    println!("survived bad access");
    mach_usertests::faults::privileged_instruction();
    println!("survived privileged instruction");
    println!("exc-victim: done");
}
