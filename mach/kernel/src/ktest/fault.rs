//! Deliberate CPU faults, one per boot, to check the exception reports.
//!
//! `ktest.fault=KIND` on the kernel command line selects one. Each must end
//! in the exception handler's report and a failure exit from QEMU; reaching
//! the end of `provoke` is itself a failure.
#![forbid(unsafe_code)]

/// The faults a test boot can provoke, by command-line name: each
/// architecture's own (`arch::cpu::fault::KINDS`).
pub const KINDS: &[&str] = crate::arch::cpu::fault::KINDS;

pub fn provoke(kind: &str) -> ! {
    crate::println!("provoking fault: {kind}");
    if kind == "stack-overflow" {
        overflow_stack(0)
    }
    if !crate::arch::cpu::fault::provoke(kind) {
        crate::println!("unknown fault kind {kind:?}; known: {KINDS:?}");
    }
    crate::println!("fault {kind} did not stop the kernel");
    crate::arch::exit_qemu(crate::arch::QemuExit::Failure)
}

/// Recurses until the boot stack's guard page stops it: the page fault
/// cannot be delivered on the overflowed stack, so the CPU raises a double
/// fault on its own stack (x86_64), or the exception entry sees that its
/// frame would not fit and moves to an emergency stack (aarch64).
#[inline(never)]
#[allow(unconditional_recursion)] // the point: it ends in a double fault
fn overflow_stack(depth: u64) -> ! {
    let mut frame = [depth; 64];
    core::hint::black_box(&mut frame);
    overflow_stack(depth + 1)
}
