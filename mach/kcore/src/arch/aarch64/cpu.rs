//! CPU control: interrupts (DAIF), halting, backtraces, deliberate faults.

use core::fmt::Write;

/// Unmasks IRQs (FIQs are unused and stay masked).
pub fn enable_interrupts() {
    // SAFETY: unmasking IRQs only lets interrupt exceptions be taken, which
    // the vector table installed at boot handles.
    unsafe { core::arch::asm!("msr daifclr, #2", options(nomem, nostack)) };
}

pub fn disable_interrupts() {
    // SAFETY: masking IRQs has no effect on memory.
    unsafe { core::arch::asm!("msr daifset, #2", options(nomem, nostack)) };
}

fn interrupts_enabled() -> bool {
    let daif: u64;
    // SAFETY: reads the interrupt mask bits.
    unsafe { core::arch::asm!("mrs {}, daif", out(reg) daif, options(nomem, nostack)) };
    daif & (1 << 7) == 0
}

/// Runs `action` with interrupts off, restoring the previous state after.
pub fn without_interrupts<T>(action: impl FnOnce() -> T) -> T {
    let enabled = interrupts_enabled();
    if enabled {
        disable_interrupts();
    }
    let result = action();
    if enabled {
        enable_interrupts();
    }
    result
}

/// Sleeps until an interrupt is pending, then takes it with interrupts on.
/// `wfi` wakes on a pending interrupt even while IRQs are masked, so one
/// arriving between the decision to sleep and the `wfi` is not missed.
pub fn wait_for_interrupt() {
    // SAFETY: waits, then unmasks IRQs so the pending one is taken by the
    // vector table; leaves interrupts on, as x86_64's `sti; hlt` does.
    unsafe { core::arch::asm!("wfi", "msr daifclr, #2", "isb", options(nomem, nostack)) };
}

/// Waits for interrupts forever: the kernel's idle loop.
pub fn idle_forever() -> ! {
    loop {
        wait_for_interrupt();
    }
}

/// Stops this CPU for good (interrupts off).
pub fn halt_forever() -> ! {
    loop {
        disable_interrupts();
        // SAFETY: waits for an event that never comes; no memory effect.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
    }
}

/// Prints the call chain of the caller, following saved frame pointers
/// (the kernel is built with `-C force-frame-pointers=yes`).
pub fn print_backtrace(output: &mut impl Write) {
    let frame_pointer: u64;
    // SAFETY: reads the frame-pointer register; no memory is touched.
    unsafe { core::arch::asm!("mov {}, x29", out(reg) frame_pointer, options(nomem, nostack)) };
    let _ = writeln!(output, "  backtrace (addr2line -e target/.../mach-kernel):");
    write_backtrace_from(output, frame_pointer);
}

/// Follows the frame-record chain (x29 points at {previous x29, x30}) from
/// `frame_pointer`. Every record is checked to be mapped kernel memory
/// before it is read, so a corrupt chain ends the walk.
pub fn write_backtrace_from(output: &mut impl Write, mut frame_pointer: u64) {
    const MAX_DEPTH: usize = 32;
    for _ in 0..MAX_DEPTH {
        if frame_pointer == 0
            || !frame_pointer.is_multiple_of(8)
            || !super::paging::is_kernel_readable(frame_pointer, 16)
        {
            return;
        }
        let frame = frame_pointer as *const u64;
        // SAFETY: the 16 bytes at `frame_pointer` are mapped, readable kernel
        // memory (checked above) and 8-aligned: a frame record.
        let (next, return_address) = unsafe { (frame.read_volatile(), frame.add(1).read_volatile()) };
        if return_address == 0 {
            return;
        }
        let _ = writeln!(output, "    {return_address:#018x}");
        if next <= frame_pointer {
            return; // stacks grow down: a caller's record is always higher
        }
        frame_pointer = next;
    }
}

/// Deliberate faults for the fault tests (`ktest.fault=`).
pub mod fault {
    /// The kinds this architecture can provoke (`ktest.fault=KIND`); aarch64
    /// has no divide trap (division by zero gives 0) and no segmentation.
    pub const KINDS: &[&str] = &["page", "invalid-opcode", "breakpoint", "alignment", "stack-overflow"];

    /// Provokes `kind`; false if it is not one of [`KINDS`] (or
    /// `stack-overflow`, which the portable side does itself).
    pub fn provoke(kind: &str) -> bool {
        match kind {
            "page" => page_fault_at(0xdead_b000),
            "invalid-opcode" => {
                // SAFETY: deliberately undefined; the handler stops the machine.
                unsafe { core::arch::asm!("udf #0", options(nostack)) }
            }
            "breakpoint" => {
                // SAFETY: deliberately raises a breakpoint; the handler stops the machine.
                unsafe { core::arch::asm!("brk #1", options(nostack)) }
            }
            "alignment" => {
                static ALIGNED: u64 = 0;
                let unaligned = core::hint::black_box(&raw const ALIGNED as u64 + 1);
                // SAFETY: deliberately faults: an exclusive load must be
                // aligned whatever SCTLR_EL1.A says; the handler stops the
                // machine before the load completes.
                unsafe { core::arch::asm!("ldxr {0}, [{0}]", inout(reg) unaligned => _, options(nostack)) }
            }
            _ => return false,
        }
        true
    }

    pub fn page_fault_at(address: u64) {
        // SAFETY: deliberately faults: `address` is unmapped (the kernel's
        // TTBR0 table is empty), and the handler stops the machine.
        unsafe { core::arch::asm!("ldr {0}, [{0}]", inout(reg) address => _, options(nostack)) };
    }
}
