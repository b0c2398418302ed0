//! The I/O APIC: routes device interrupt lines to CPU vectors.
//!
//! Lines start masked; a user-space driver binds one (through the kernel's
//! device traps) to get its interrupts as messages. ISA IRQ 0 (the PIT) is
//! wired to pin 2 on PC chipsets (the usual interrupt source override);
//! every other ISA IRQ to the pin of its number.

use super::paging;
use crate::memory::PhysicalAddress;
use core::sync::atomic::{AtomicU64, Ordering};

/// The I/O APIC's register window on QEMU's `pc` and `q35` machines (and
/// what ACPI's MADT reports there).
const IOAPIC_PHYSICAL: u64 = 0xfec0_0000;
pub const LINE_COUNT: u32 = 24;
/// Vector of pin 0; pins take consecutive vectors.
pub const FIRST_VECTOR: u8 = 48;

static BASE: AtomicU64 = AtomicU64::new(0);

fn write_register(index: u32, value: u32) {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: BASE is the I/O APIC's register window, mapped uncached by
    // `init`; IOREGSEL at +0 selects the register written through IOWIN at +0x10.
    unsafe {
        ((base) as *mut u32).write_volatile(index);
        ((base + 0x10) as *mut u32).write_volatile(value);
    }
}

fn pin_of(line: u32) -> u32 {
    if line == 0 {
        2
    } else {
        line
    }
}

/// Maps the I/O APIC and masks every pin.
pub fn init() {
    let base = paging::map_device(PhysicalAddress(IOAPIC_PHYSICAL), 1).expect("cannot map the I/O APIC");
    BASE.store(base, Ordering::Relaxed);
    for pin in 0..LINE_COUNT {
        set_pin(pin, true);
    }
}

/// Programs `pin` (edge triggered, active high, to the boot CPU) with its
/// vector, masked or not.
fn set_pin(pin: u32, masked: bool) {
    let vector = FIRST_VECTOR as u32 + pin;
    write_register(0x10 + 2 * pin + 1, 0); // destination: local APIC 0
    write_register(0x10 + 2 * pin, vector | if masked { 1 << 16 } else { 0 });
}

/// Lets interrupts of ISA/GSI `line` through.
pub fn unmask(line: u32) {
    set_pin(pin_of(line), false);
}

/// Stops interrupts of `line` (until `unmask`).
pub fn mask(line: u32) {
    set_pin(pin_of(line), true);
}

/// The line behind a vector, if it is one of ours.
pub fn line_of_vector(vector: u64) -> Option<u32> {
    let pin = vector.checked_sub(FIRST_VECTOR as u64)? as u32;
    if pin >= LINE_COUNT {
        return None;
    }
    Some(if pin == 2 { 0 } else { pin })
}
