//! The interrupt descriptor table and the safe side of trap handling.
//!
//! All 256 vectors go through the stubs in `trap_entry.S` to
//! [`trap_dispatch`], which receives the saved registers as a [`TrapFrame`].
//! Vectors 0–31 are CPU exceptions: in the kernel they are bugs, reported
//! with everything needed to find them (vector, error code, faulting
//! address, registers, backtrace), after which the machine stops. Vector 32
//! is the local APIC timer; 48..72 the I/O APIC's pins; 80..144
//! message-signalled interrupts (`msi.rs`); 0xff is the APIC's spurious vector.

use super::{cpu, gdt, timer};
use crate::arch::{FaultKind, Handlers, UserFault};
use core::fmt::Write;
use spin::Once;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

pub const TIMER_VECTOR: u8 = 32;
pub const SPURIOUS_VECTOR: u8 = 0xff;

const DOUBLE_FAULT: u64 = 8;
const NMI: u64 = 2;
const MACHINE_CHECK: u64 = 18;
const PAGE_FAULT: u64 = 14;
const STUB_SIZE: u64 = 16;

/// The registers `trap_entry.S` saves, lowest address first.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// One 16-byte interrupt gate.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    interrupt_stack: u8,
    attributes: u8,
    offset_middle: u16,
    offset_high: u32,
    reserved: u32,
}

/// Vectors user code may raise itself with `int3` / `into`.
const USER_RAISABLE: [u64; 2] = [3, 4];
const PRESENT_INTERRUPT_GATE: u8 = 0x8e;
const USER_CALLABLE: u8 = 3 << 5;

impl Gate {
    /// A present interrupt gate (interrupts off on entry); `user` lets ring
    /// 3 raise it with an `int` instruction.
    fn interrupt(handler: u64, interrupt_stack: u16, user: bool) -> Self {
        const KERNEL_CODE: u16 = 0x08;
        Self {
            offset_low: handler as u16,
            selector: KERNEL_CODE,
            interrupt_stack: interrupt_stack as u8,
            attributes: PRESENT_INTERRUPT_GATE | if user { USER_CALLABLE } else { 0 },
            offset_middle: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct InterruptDescriptorTable([Gate; 256]);

static IDT: Once<InterruptDescriptorTable> = Once::new();

fn stub_address(vector: u64) -> u64 {
    unsafe extern "C" {
        static trap_stubs: u8;
    }
    (&raw const trap_stubs) as u64 + vector * STUB_SIZE
}

pub fn init() {
    let idt = IDT.call_once(|| {
        let mut gates = [Gate::default(); 256];
        for (vector, gate) in gates.iter_mut().enumerate() {
            let vector = vector as u64;
            let stack = match vector {
                DOUBLE_FAULT => gdt::DOUBLE_FAULT_STACK,
                NMI => gdt::NMI_STACK,
                MACHINE_CHECK => gdt::MACHINE_CHECK_STACK,
                _ => 0,
            };
            *gate = Gate::interrupt(stub_address(vector), stack, USER_RAISABLE.contains(&vector));
        }
        InterruptDescriptorTable(gates)
    });
    let pointer = DescriptorTablePointer {
        limit: (size_of::<InterruptDescriptorTable>() - 1) as u16,
        base: VirtAddr::from_ptr(idt),
    };
    // SAFETY: the table lives in a static for the kernel's lifetime and every
    // gate points at a stub in `trap_entry.S` with the kernel code selector.
    unsafe { lidt(&pointer) };
}

/// Called by `trap_common` with the saved registers.
#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let from_user = frame.cs & 3 == 3;
    let handlers = crate::arch::handlers();
    match frame.vector {
        PAGE_FAULT if from_user && resolve_page_fault(handlers, frame.error_code) => {}
        0..=31 if from_user => (handlers.user_fault)(UserFault {
            name: exception_name(frame.vector),
            vector: frame.vector,
            instruction_pointer: frame.rip,
            address: (frame.vector == PAGE_FAULT).then(x86_64::registers::control::Cr2::read_raw),
            error_code: frame.error_code,
            kind: fault_kind(frame.vector, frame.error_code),
        }),
        0..=31 => report_exception_and_stop(frame),
        vector if vector == TIMER_VECTOR as u64 => {
            crate::time::tick();
            timer::end_of_interrupt();
            (handlers.tick)();
        }
        vector if vector == SPURIOUS_VECTOR as u64 => {}
        vector if super::ioapic::line_of_vector(vector).is_some() => {
            let line = super::ioapic::line_of_vector(vector).expect("checked");
            // The line stays masked until the driver acknowledges it.
            super::ioapic::mask(line);
            timer::end_of_interrupt();
            (handlers.device_interrupt)(line);
        }
        vector if super::msi::index_of_vector(vector).is_some() => {
            // Edge triggered: nothing to mask; the device layer holds back
            // further messages until the driver acknowledges.
            timer::end_of_interrupt();
            (handlers.message_signalled_interrupt)(vector as u8);
        }
        vector => {
            log::warn!("unexpected interrupt vector {vector}");
            timer::end_of_interrupt();
        }
    }
}

/// A user page fault the VM system may resolve (lazy zero-fill,
/// copy-on-write, a pager's page): true if the thread can retry.
fn resolve_page_fault(handlers: &Handlers, error_code: u64) -> bool {
    // Error code bits: 1 = write, 4 = instruction fetch.
    let access = if error_code & 2 != 0 {
        mach_abi::VM_PROT_WRITE
    } else if error_code & 0x10 != 0 {
        mach_abi::VM_PROT_EXECUTE
    } else {
        mach_abi::VM_PROT_READ
    };
    (handlers.user_page_fault)(x86_64::registers::control::Cr2::read_raw(), access)
}

/// The Mach exception an x86_64 exception vector becomes.
fn fault_kind(vector: u64, error_code: u64) -> FaultKind {
    match vector {
        PAGE_FAULT => FaultKind::PageFault { protection: error_code & 1 != 0 },
        // General protection, stack segment, segment not present, alignment check.
        13 | 12 | 11 | 17 => FaultKind::Protection,
        // Divide error, overflow, bound range, x87 and SIMD floating point.
        0 | 4 | 5 | 16 | 19 => FaultKind::Arithmetic,
        // Breakpoint, debug.
        3 | 1 => FaultKind::Breakpoint,
        _ => FaultKind::BadInstruction,
    }
}

fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        20 => "virtualization exception",
        21 => "control protection",
        _ => "reserved exception",
    }
}

fn report_exception_and_stop(frame: &TrapFrame) -> ! {
    let mut console = crate::klog::emergency_console();
    let _ = writeln!(
        console,
        "\nEXCEPTION: {} (vector {}) in kernel mode, error code {:#x}",
        exception_name(frame.vector),
        frame.vector,
        frame.error_code
    );
    if frame.vector == PAGE_FAULT {
        let address = x86_64::registers::control::Cr2::read_raw();
        let code = frame.error_code;
        let _ = writeln!(
            console,
            "  faulting address {:#018x}: {} {} from {} mode{}",
            address,
            if code & 1 != 0 { "protection violation on" } else { "no page for" },
            if code & 0x10 != 0 {
                "instruction fetch"
            } else if code & 2 != 0 {
                "write"
            } else {
                "read"
            },
            if code & 4 != 0 { "user" } else { "kernel" },
            if code & 8 != 0 { ", reserved bit set" } else { "" }
        );
    }
    let _ = writeln!(
        console,
        "  rip {:#018x}  cs {:#06x}  rflags {:#010x}  rsp {:#018x}  ss {:#06x}",
        frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss
    );
    let registers = [
        ("rax", frame.rax),
        ("rbx", frame.rbx),
        ("rcx", frame.rcx),
        ("rdx", frame.rdx),
        ("rsi", frame.rsi),
        ("rdi", frame.rdi),
        ("rbp", frame.rbp),
        ("r8", frame.r8),
        ("r9", frame.r9),
        ("r10", frame.r10),
        ("r11", frame.r11),
        ("r12", frame.r12),
        ("r13", frame.r13),
        ("r14", frame.r14),
        ("r15", frame.r15),
    ];
    for row in registers.chunks(4) {
        let _ = write!(console, " ");
        for (name, value) in row {
            let _ = write!(console, " {name:>3} {value:#018x}");
        }
        let _ = writeln!(console);
    }
    let _ = writeln!(console, "  backtrace (addr2line -e target/.../mach-kernel):");
    let _ = writeln!(console, "    {:#018x}", frame.rip);
    cpu::write_backtrace_from(&mut console, frame.rbp);
    super::stop_after_fatal_error()
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};

    ktest! {
        fn interrupt_table_is_loaded_with_every_gate() {
            let loaded = x86_64::instructions::tables::sidt();
            let idt = IDT.get().ok_or("IDT not built")?;
            ensure_eq!(loaded.base.as_u64(), idt as *const _ as u64);
            ensure_eq!(loaded.limit as usize, 256 * 16 - 1);
            for (vector, gate) in idt.0.iter().enumerate() {
                let handler = gate.offset_low as u64 | (gate.offset_middle as u64) << 16 | (gate.offset_high as u64) << 32;
                ensure_eq!(handler, stub_address(vector as u64));
                let expected = if USER_RAISABLE.contains(&(vector as u64)) { 0xee } else { 0x8e };
                ensure_eq!(gate.attributes, expected);
            }
            Ok(())
        }

        fn fatal_exceptions_have_their_own_stacks() {
            let idt = IDT.get().ok_or("IDT not built")?;
            ensure_eq!(idt.0[DOUBLE_FAULT as usize].interrupt_stack, gdt::DOUBLE_FAULT_STACK as u8);
            ensure_eq!(idt.0[NMI as usize].interrupt_stack, gdt::NMI_STACK as u8);
            ensure_eq!(idt.0[PAGE_FAULT as usize].interrupt_stack, 0);
            let task_register: u16;
            // SAFETY: `str` only reads the task register into a general register.
            unsafe { core::arch::asm!("str {0:x}", out(reg) task_register, options(nomem, nostack)) };
            ensure!(task_register != 0, "no task register loaded");
            Ok(())
        }
    }
}

/// Called by `syscall_entry` with the user's saved registers: trap number in
/// RAX, arguments in RDI, RSI, RDX, R10, R8, R9, result back in RAX.
#[unsafe(no_mangle)]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    let arguments = [frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    crate::entry::system_call(frame.rax, arguments, &mut frame.rax);
}
