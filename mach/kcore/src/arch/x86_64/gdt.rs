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

/// Bytes of the I/O permission bitmap: one bit per port, 65,536 ports.
const IO_BITMAP_BYTES: usize = 65536 / 8;

/// Most port ranges one task may be granted.
pub const MAX_IO_RANGES: usize = 16;

/// The TSS followed by its I/O permission bitmap (a set bit denies the
/// port to user mode; the byte after the map must be all ones).
#[repr(C)]
struct TssWithIoMap {
    tss: TaskStateSegment,
    io_bitmap: [u8; IO_BITMAP_BYTES + 1],
    /// The port ranges open in `io_bitmap` now (the running task's).
    open: [(u16, u16); MAX_IO_RANGES],
    open_count: usize,
}

/// The TSS: the CPU reads `privilege_stack_table[0]` (the kernel stack for
/// entries from user mode), the IST stacks and the I/O bitmap; the
/// scheduler rewrites the first and the last on switches, hence the
/// `UnsafeCell`.
struct TssCell(UnsafeCell<TssWithIoMap>);

// SAFETY: one CPU; the scheduler writes the TSS only with interrupts off,
// and the CPU reads it only on a privilege change, never concurrently.
unsafe impl Sync for TssCell {}

static TSS: TssCell = TssCell(UnsafeCell::new(TssWithIoMap {
    tss: TaskStateSegment::new(),
    io_bitmap: [0xff; IO_BITMAP_BYTES + 1],
    open: [(0, 0); MAX_IO_RANGES],
    open_count: 0,
}));
static GDT: Once<(GlobalDescriptorTable, SegmentSelector, SegmentSelector, SegmentSelector)> = Once::new();

fn stack_top(stack: &'static EmergencyStack) -> VirtAddr {
    VirtAddr::from_ptr(stack.0.get()) + EMERGENCY_STACK_SIZE as u64
}

pub fn init() {
    // SAFETY: init runs once, on the boot CPU, before the TSS is loaded, so
    // nothing else reads or writes it now.
    let whole = unsafe { &mut *TSS.0.get() };
    whole.tss.iomap_base = core::mem::offset_of!(TssWithIoMap, io_bitmap) as u16;
    let tss = &mut whole.tss;
    tss.interrupt_stack_table[(DOUBLE_FAULT_STACK - 1) as usize] = stack_top(&DOUBLE_FAULT_STACK_MEMORY);
    tss.interrupt_stack_table[(NMI_STACK - 1) as usize] = stack_top(&NMI_STACK_MEMORY);
    tss.interrupt_stack_table[(MACHINE_CHECK_STACK - 1) as usize] = stack_top(&MACHINE_CHECK_STACK_MEMORY);
    let (gdt, code, data, tss_selector) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        gdt.append(Descriptor::user_data_segment());
        gdt.append(Descriptor::user_code_segment());
        // SAFETY: the TSS and its bitmap are a static, valid for the
        // kernel's lifetime; these shared references are used only while
        // the descriptor is built (nothing writes the TSS meanwhile).
        let (tss, bitmap) = unsafe { (&(*TSS.0.get()).tss, &(*TSS.0.get()).io_bitmap) };
        let descriptor = Descriptor::tss_segment_with_iomap(tss, bitmap).expect("the I/O bitmap follows the TSS");
        let tss_selector = gdt.append(descriptor);
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
    unsafe { (*TSS.0.get()).tss.privilege_stack_table[0] = VirtAddr::new(top) };
}

/// Opens exactly the I/O port ranges `(first, count)` to user mode: the
/// next thread's task's grants. Closes the previous task's first; costs
/// nothing when neither has any.
pub fn set_io_permissions(ranges: &[(u16, u16)]) {
    // SAFETY: called by the scheduler with interrupts off (one CPU); the
    // CPU reads the bitmap only while executing user-mode `in`/`out`.
    let whole = unsafe { &mut *TSS.0.get() };
    if whole.open[..whole.open_count] == *ranges {
        return;
    }
    let set_bits = |bitmap: &mut [u8], (first, count): (u16, u16), deny: bool| {
        for port in first as usize..(first as usize + count as usize).min(65536) {
            if deny {
                bitmap[port / 8] |= 1 << (port % 8);
            } else {
                bitmap[port / 8] &= !(1 << (port % 8));
            }
        }
    };
    for index in 0..whole.open_count {
        let range = whole.open[index];
        set_bits(&mut whole.io_bitmap, range, true);
    }
    let ranges = &ranges[..ranges.len().min(MAX_IO_RANGES)];
    for &range in ranges {
        set_bits(&mut whole.io_bitmap, range, false);
    }
    whole.open[..ranges.len()].copy_from_slice(ranges);
    whole.open_count = ranges.len();
}
