//! Deliberate CPU faults, one per boot, to check the exception reports.
//!
//! `ktest.fault=KIND` on the kernel command line selects one. Each must end
//! in the exception handler's report and a failure exit from QEMU; reaching
//! the end of `provoke` is itself a failure.

/// The faults a test boot can provoke, by command-line name.
pub const KINDS: &[&str] = &["page", "divide", "invalid-opcode", "general-protection", "stack-overflow", "breakpoint"];

pub fn provoke(kind: &str) -> ! {
    crate::println!("provoking fault: {kind}");
    match kind {
        "page" => crate::arch::cpu::fault::page_fault_at(0xdead_b000),
        "divide" => crate::arch::cpu::fault::divide_by_zero(),
        "invalid-opcode" => crate::arch::cpu::fault::invalid_opcode(),
        "general-protection" => crate::arch::cpu::fault::general_protection(),
        "breakpoint" => crate::arch::cpu::fault::breakpoint(),
        "stack-overflow" => overflow_stack(0),
        _ => crate::println!("unknown fault kind {kind:?}; known: {KINDS:?}"),
    }
    crate::println!("fault {kind} did not stop the kernel");
    crate::arch::exit_qemu(crate::arch::QemuExit::Failure)
}

/// Recurses until the boot stack's guard page stops it: the page fault
/// cannot be delivered on the overflowed stack, so the CPU raises a double
/// fault, which runs on its own stack.
#[inline(never)]
#[allow(unconditional_recursion)] // the point: it ends in a double fault
fn overflow_stack(depth: u64) -> ! {
    let mut frame = [depth; 64];
    core::hint::black_box(&mut frame);
    overflow_stack(depth + 1)
}
