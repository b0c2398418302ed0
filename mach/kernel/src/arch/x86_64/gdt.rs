//! The global descriptor table and the task-state segment.
//!
//! Segment order is fixed by `syscall`/`sysret`, which derive the selectors
//! from the STAR MSR: kernel code 0x08, kernel data 0x10, user data 0x18
//! (0x1b with RPL 3), user code 0x20 (0x23). The TSS gives the CPU a known
//! good stack for double faults, NMIs and machine checks (interrupt stack
//! table entries), so a kernel stack overflow still produces a report.

use core::cell::UnsafeCell;
use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// Interrupt stack table slots (1-based in the IDT, 0-based in the TSS).
pub const DOUBLE_FAULT_STACK: u16 = 1;
pub const NMI_STACK: u16 = 2;
pub const MACHINE_CHECK_STACK: u16 = 3;

const EMERGENCY_STACK_SIZE: usize = 16 * 1024;

/// Memory only the CPU writes (on exception entry); `UnsafeCell` keeps it
/// in writable memory and tells Rust it may change behind its back.
#[repr(align(16))]
struct EmergencyStack(UnsafeCell<[u8; EMERGENCY_STACK_SIZE]>);

// SAFETY: Rust code never reads or writes the stack's bytes; only the CPU
// does, on exception entry, so sharing the static between contexts is sound.
unsafe impl Sync for EmergencyStack {}

impl EmergencyStack {
    const fn new() -> Self {
        Self(UnsafeCell::new([0; EMERGENCY_STACK_SIZE]))
    }
}

static DOUBLE_FAULT_STACK_MEMORY: EmergencyStack = EmergencyStack::new();
static NMI_STACK_MEMORY: EmergencyStack = EmergencyStack::new();
static MACHINE_CHECK_STACK_MEMORY: EmergencyStack = EmergencyStack::new();

/// The TSS: the CPU reads `privilege_stack_table[0]` (the kernel stack for
/// entries from user mode) and the IST stacks; the scheduler rewrites the
/// former on every switch, hence the `UnsafeCell`.
struct TssCell(UnsafeCell<TaskStateSegment>);

// SAFETY: one CPU; the scheduler writes the TSS only with interrupts off,
// and the CPU reads it only on a privilege change, never concurrently.
unsafe impl Sync for TssCell {}

static TSS: TssCell = TssCell(UnsafeCell::new(TaskStateSegment::new()));
static GDT: Once<(GlobalDescriptorTable, SegmentSelector, SegmentSelector, SegmentSelector)> = Once::new();

fn stack_top(stack: &'static EmergencyStack) -> VirtAddr {
    VirtAddr::from_ptr(stack.0.get()) + EMERGENCY_STACK_SIZE as u64
}

pub fn init() {
    // SAFETY: init runs once, on the boot CPU, before the TSS is loaded, so
    // nothing else reads or writes it now.
    let tss = unsafe { &mut *TSS.0.get() };
    tss.interrupt_stack_table[(DOUBLE_FAULT_STACK - 1) as usize] = stack_top(&DOUBLE_FAULT_STACK_MEMORY);
    tss.interrupt_stack_table[(NMI_STACK - 1) as usize] = stack_top(&NMI_STACK_MEMORY);
    tss.interrupt_stack_table[(MACHINE_CHECK_STACK - 1) as usize] = stack_top(&MACHINE_CHECK_STACK_MEMORY);
    let (gdt, code, data, tss_selector) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        gdt.append(Descriptor::user_data_segment());
        gdt.append(Descriptor::user_code_segment());
        // SAFETY: the TSS is a static, valid for the kernel's lifetime.
        let tss_selector = gdt.append(unsafe { Descriptor::tss_segment_unchecked(TSS.0.get()) });
        (gdt, code, data, tss_selector)
    });
    gdt.load();
    // SAFETY: the selectors name the descriptors just loaded: a 64-bit code
    // segment and a data segment of ring 0, and the TSS above, which lives
    // in a static for the kernel's lifetime.
    unsafe {
        CS::set_reg(*code);
        SS::set_reg(*data);
        DS::set_reg(*data);
        ES::set_reg(*data);
        load_tss(*tss_selector);
    }
}

/// Sets the stack the CPU switches to on an interrupt or exception from
/// user mode.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: interrupts are off in the kernel (one CPU), so no privilege
    // change can read the TSS while this field is written.
    unsafe { (*TSS.0.get()).privilege_stack_table[0] = VirtAddr::new(top) };
}
