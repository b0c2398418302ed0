//! The exception vector table and the safe side of exception handling.
//!
//! `trap_entry.S` saves a [`TrapFrame`] and calls [`exception_dispatch`]:
//! - synchronous from EL0: `svc #0` is a trap (`x8` the number, `x0..x5`
//!   the arguments, the result in `x0`); an instruction or data abort the VM
//!   system may resolve; anything else an exception message for the task;
//! - IRQ from either level: the interrupt controller names the interrupt
//!   (the timer tick, or a device line bound to a port);
//! - synchronous from EL1: a kernel bug, reported with everything needed to
//!   find it (class, syndrome, faulting address, registers, backtrace),
//!   after which the machine stops.

use super::context::{
    TrapFrame, EXCEPTION_CLASS_SVC, KIND_EL0_IRQ, KIND_EL0_SYNC, KIND_EL1_IRQ, KIND_EL1_SYNC, KIND_STACK_OVERFLOW,
};
use super::interrupts;
use crate::arch::{FaultKind, UserFault};
use core::fmt::Write;

// Exception classes (ESR_EL1 bits 31:26).
const CLASS_UNKNOWN: u64 = 0x00;
const CLASS_ILLEGAL_STATE: u64 = 0x0e;
const CLASS_INSTRUCTION_ABORT_LOWER: u64 = 0x20;
const CLASS_INSTRUCTION_ABORT_SAME: u64 = 0x21;
const CLASS_PC_ALIGNMENT: u64 = 0x22;
const CLASS_DATA_ABORT_LOWER: u64 = 0x24;
const CLASS_DATA_ABORT_SAME: u64 = 0x25;
const CLASS_SP_ALIGNMENT: u64 = 0x26;
const CLASS_FLOATING_POINT: u64 = 0x2c;
const CLASS_BRK: u64 = 0x3c;

/// Installs the vector table.
pub fn init() {
    unsafe extern "C" {
        static exception_vectors: u8;
    }
    // SAFETY: the table (trap_entry.S) is 2 KiB aligned code that saves a
    // frame and calls `exception_dispatch` for every vector.
    unsafe {
        core::arch::asm!("msr vbar_el1, {}", "isb", in(reg) &raw const exception_vectors, options(nostack));
    }
}

fn class_of(esr: u64) -> u64 {
    esr >> 26 & 0x3f
}

fn class_name(class: u64) -> &'static str {
    match class {
        CLASS_UNKNOWN => "undefined instruction",
        0x01 => "trapped wfi/wfe",
        0x07 => "trapped FP/SIMD access",
        CLASS_ILLEGAL_STATE => "illegal execution state",
        EXCEPTION_CLASS_SVC => "svc",
        0x18 => "trapped system register access",
        CLASS_INSTRUCTION_ABORT_LOWER | CLASS_INSTRUCTION_ABORT_SAME => "instruction abort",
        CLASS_PC_ALIGNMENT => "PC alignment fault",
        CLASS_DATA_ABORT_LOWER | CLASS_DATA_ABORT_SAME => "data abort",
        CLASS_SP_ALIGNMENT => "SP alignment fault",
        CLASS_FLOATING_POINT => "floating-point exception",
        0x30..=0x35 => "debug exception",
        CLASS_BRK => "breakpoint",
        _ => "unknown exception class",
    }
}

fn is_abort(class: u64) -> bool {
    matches!(
        class,
        CLASS_INSTRUCTION_ABORT_LOWER | CLASS_INSTRUCTION_ABORT_SAME | CLASS_DATA_ABORT_LOWER | CLASS_DATA_ABORT_SAME
    )
}

/// The fault status code of an abort (ISS bits 5:0): 0b0001xx translation,
/// 0b0010xx access flag, 0b0011xx permission; 0b100001 alignment.
fn fault_status(esr: u64) -> u64 {
    esr & 0x3f
}

fn is_permission_fault(esr: u64) -> bool {
    fault_status(esr) & 0x3c == 0x0c
}

fn is_write(esr: u64) -> bool {
    // WnR (bit 6), but cache maintenance (CM, bit 8) also reports a write.
    esr & (1 << 6) != 0 && esr & (1 << 8) == 0
}

/// Called by `trap_entry.S` with the saved registers.
#[unsafe(no_mangle)]
extern "C" fn exception_dispatch(frame: &mut TrapFrame) {
    match frame.kind {
        KIND_EL0_SYNC if class_of(frame.esr) == EXCEPTION_CLASS_SVC => {
            let arguments = [frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5]];
            let number = frame.x[8];
            crate::entry::system_call(number, arguments, &mut frame.x[0]);
        }
        KIND_EL0_SYNC => user_exception(frame),
        KIND_EL0_IRQ | KIND_EL1_IRQ => interrupts::handle(),
        KIND_EL1_SYNC | KIND_STACK_OVERFLOW => report_exception_and_stop(frame),
        _ => report_exception_and_stop(frame),
    }
}

fn user_exception(frame: &mut TrapFrame) {
    let handlers = crate::arch::handlers();
    let class = class_of(frame.esr);
    if is_abort(class) && fault_status(frame.esr) != 0x21 {
        let access = if class == CLASS_INSTRUCTION_ABORT_LOWER {
            mach_abi::VM_PROT_EXECUTE
        } else if is_write(frame.esr) {
            mach_abi::VM_PROT_WRITE
        } else {
            mach_abi::VM_PROT_READ
        };
        // An aborted wait for a pager retries the instruction, as a resolved
        // fault does (it faults again if the page is still not there).
        if (handlers.user_page_fault)(frame.far, access) {
            return;
        }
    }
    let kind = match class {
        _ if is_abort(class) && fault_status(frame.esr) == 0x21 => FaultKind::Protection,
        _ if is_abort(class) => FaultKind::PageFault { protection: is_permission_fault(frame.esr) },
        CLASS_PC_ALIGNMENT | CLASS_SP_ALIGNMENT => FaultKind::Protection,
        CLASS_FLOATING_POINT => FaultKind::Arithmetic,
        CLASS_BRK => FaultKind::Breakpoint,
        _ => FaultKind::BadInstruction,
    };
    (handlers.user_fault)(UserFault {
        name: class_name(class),
        vector: class,
        instruction_pointer: frame.elr,
        address: (is_abort(class) || class == CLASS_PC_ALIGNMENT).then_some(frame.far),
        error_code: frame.esr,
        kind,
    });
}

fn report_exception_and_stop(frame: &TrapFrame) -> ! {
    let mut console = crate::klog::emergency_console();
    let class = class_of(frame.esr);
    if frame.kind == KIND_STACK_OVERFLOW {
        let _ = writeln!(
            console,
            "\nEXCEPTION: kernel stack overflow ({} in kernel mode, on the emergency stack)",
            class_name(class)
        );
    } else if frame.kind == KIND_EL1_SYNC {
        let _ = writeln!(
            console,
            "\nEXCEPTION: {} (class {:#x}) in kernel mode, syndrome {:#x}",
            class_name(class),
            class,
            frame.esr
        );
    } else {
        let _ =
            writeln!(console, "\nEXCEPTION: unexpected vector (entry kind {}), syndrome {:#x}", frame.kind, frame.esr);
    }
    if is_abort(class) {
        let status = fault_status(frame.esr);
        let what = match status & 0x3c {
            _ if status == 0x21 => "alignment fault on",
            0x04 => "no page for",
            0x08 => "access flag on",
            0x0c => "protection violation on",
            _ => "fault on",
        };
        let access = if matches!(class, CLASS_INSTRUCTION_ABORT_LOWER | CLASS_INSTRUCTION_ABORT_SAME) {
            "instruction fetch"
        } else if is_write(frame.esr) {
            "write"
        } else {
            "read"
        };
        let _ = writeln!(
            console,
            "  faulting address {:#018x}: {what} {access} from kernel mode (status {status:#x})",
            frame.far
        );
    }
    let _ = writeln!(console, "  pc {:#018x}  spsr {:#010x}  far {:#018x}", frame.elr, frame.spsr, frame.far);
    for row in frame.x.chunks(4).enumerate() {
        let _ = write!(console, " ");
        for (column, value) in row.1.iter().enumerate() {
            let _ = write!(console, " x{:<2} {value:#018x}", row.0 * 4 + column);
        }
        let _ = writeln!(console);
    }
    let _ = writeln!(console, "  backtrace (addr2line -e target/.../mach-kernel):");
    let _ = writeln!(console, "    {:#018x}", frame.elr);
    super::cpu::write_backtrace_from(&mut console, frame.x[29]);
    super::stop_after_fatal_error()
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure_eq, ktest};

    ktest! {
        fn vector_table_is_installed() {
            unsafe extern "C" {
                static exception_vectors: u8;
            }
            let installed: u64;
            // SAFETY: reads VBAR_EL1.
            unsafe { core::arch::asm!("mrs {}, vbar_el1", out(reg) installed, options(nomem, nostack)) };
            ensure_eq!(installed, &raw const exception_vectors as u64);
            ensure_eq!(installed % 2048, 0);
            Ok(())
        }

        fn fault_syndromes_are_decoded() {
            // A data abort from EL0, translation fault level 3, a write.
            let write_miss = CLASS_DATA_ABORT_LOWER << 26 | 1 << 6 | 0x07;
            ensure_eq!(is_write(write_miss), true);
            ensure_eq!(is_permission_fault(write_miss), false);
            // A permission fault, level 3, a read.
            let read_denied = CLASS_DATA_ABORT_LOWER << 26 | 0x0f;
            ensure_eq!(is_write(read_denied), false);
            ensure_eq!(is_permission_fault(read_denied), true);
            // Cache maintenance reports WnR but is no write.
            ensure_eq!(is_write(CLASS_DATA_ABORT_LOWER << 26 | 1 << 8 | 1 << 6 | 0x07), false);
            ensure_eq!(class_name(class_of(CLASS_BRK << 26)), "breakpoint");
            Ok(())
        }
    }
}
