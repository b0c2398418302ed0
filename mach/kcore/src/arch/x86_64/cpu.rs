//! CPU control: interrupts, halting, backtraces, deliberate faults.

use core::fmt::Write;
use x86_64::instructions::interrupts;

pub fn enable_interrupts() {
    interrupts::enable();
}

pub fn disable_interrupts() {
    interrupts::disable();
}

/// Runs `action` with interrupts off, restoring the previous state after.
pub fn without_interrupts<T>(action: impl FnOnce() -> T) -> T {
    interrupts::without_interrupts(action)
}

/// Enables interrupts and sleeps until the next one, atomically (`sti; hlt`),
/// so an interrupt arriving in between cannot be missed.
pub fn wait_for_interrupt() {
    interrupts::enable_and_hlt();
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
        interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// Prints the call chain of the caller, following saved frame pointers
/// (the kernel is built with `-C force-frame-pointers=yes`).
pub fn print_backtrace(output: &mut impl Write) {
    let frame_pointer: u64;
    // SAFETY: reads the frame-pointer register; no memory is touched.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) frame_pointer, options(nomem, nostack)) };
    let _ = writeln!(output, "  backtrace (addr2line -e target/.../mach-kernel):");
    write_backtrace_from(output, frame_pointer);
}

/// Follows the frame-pointer chain from `frame_pointer`, printing each return
/// address. Every frame is checked to be mapped kernel memory before it is
/// read, so a corrupt chain ends the walk instead of faulting again.
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
        // memory (checked above) and 8-aligned; a stack frame holds the saved
        // frame pointer and the return address there.
        let (next, return_address) = unsafe { (frame.read_volatile(), frame.add(1).read_volatile()) };
        if return_address == 0 {
            return;
        }
        let _ = writeln!(output, "    {return_address:#018x}");
        if next <= frame_pointer {
            return; // stacks grow down: a caller's frame is always higher
        }
        frame_pointer = next;
    }
}

/// Deliberate faults for the fault tests (`ktest.fault=`).
pub mod fault {
    /// The kinds this architecture can provoke (`ktest.fault=KIND`).
    pub const KINDS: &[&str] =
        &["page", "divide", "invalid-opcode", "general-protection", "stack-overflow", "breakpoint"];

    /// Provokes `kind`; false if it is not one this module provokes
    /// (`stack-overflow` is the portable side's own).
    pub fn provoke(kind: &str) -> bool {
        match kind {
            "page" => page_fault_at(0xdead_b000),
            "divide" => divide_by_zero(),
            "invalid-opcode" => invalid_opcode(),
            "general-protection" => general_protection(),
            "breakpoint" => breakpoint(),
            _ => return false,
        }
        true
    }

    pub fn page_fault_at(address: u64) {
        // SAFETY: deliberately faults: `address` is unmapped, and the page
        // fault handler stops the machine before the read completes.
        unsafe { core::arch::asm!("mov {0}, [{0}]", inout(reg) address => _, options(nostack)) };
    }

    pub fn divide_by_zero() {
        // SAFETY: deliberately raises #DE; the handler stops the machine.
        unsafe {
            core::arch::asm!("xor edx, edx", "xor eax, eax", "xor ecx, ecx", "div ecx",
                out("eax") _, out("ecx") _, out("edx") _, options(nostack));
        }
    }

    pub fn invalid_opcode() {
        // SAFETY: deliberately raises #UD; the handler stops the machine.
        unsafe { core::arch::asm!("ud2", options(nostack)) };
    }

    pub fn general_protection() {
        // SAFETY: deliberately raises #GP with a non-canonical address; the
        // handler stops the machine.
        unsafe {
            core::arch::asm!("mov rax, 0x8000000000000000", "mov rax, [rax]", out("rax") _, options(nostack));
        }
    }

    pub fn breakpoint() {
        // SAFETY: deliberately raises #BP; the handler stops the machine.
        unsafe { core::arch::asm!("int3", options(nostack)) };
    }
}
