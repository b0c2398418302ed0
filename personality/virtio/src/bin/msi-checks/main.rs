//! Message-signalled interrupts from user space, for the kernel tests: the
//! argument names the privileged host port. Binds vectors up to the
//! per-task limit and past it, unbinds, rebinds, frees one by destroying
//! its port, refuses bad arguments; then drives the entropy device
//! (virtio-rng) through MSI-X to check that each interrupt arrives as a
//! message carrying its vector, that an interrupt while one is
//! unacknowledged is held back and sent at the acknowledgement, and that
//! nothing is lost; and that a task gets 64 DMA allocations and no more.
//! Prints `msi-checks: N passed, N failed`.
//!
//! The argument's bits 32..40 choose another mode for the ownership check:
//! 1 binds one vector, prints `msi-checks: holding N` and waits; 2, with
//! the vector in bits 40..48, is another task trying to acknowledge, move
//! and unbind it (prints `msi-checks: intruder: N passed, N failed`).
//!
//! x86_64 only: aarch64's virt board has no message-signalled interrupts
//! (its virtio devices interrupt through lines; docs/porting.md), so there
//! the program only says so and counts that as a failure.
#![no_std]
#![no_main]

#[cfg(target_arch = "x86_64")]
extern crate alloc;

#[cfg(target_arch = "x86_64")]
mod checks;

libmach::entry!(main);

#[cfg(target_arch = "x86_64")]
fn main(argument: u64) {
    checks::main(argument)
}

#[cfg(not(target_arch = "x86_64"))]
fn main(_argument: u64) {
    mach_usertests::println!("msi-checks: no message-signalled interrupts on this architecture (x86_64 only)");
    mach_usertests::println!("msi-checks: 0 passed, 1 failed");
}
