//! Powering the machine off when a critical program ends (docs/bootstrap.md,
//! the manifest's `critical`): QEMU's isa-debug-exit device (port 0xf4:
//! QEMU exits with `(status << 1) | 1`), then ACPI's sleep command on q35's
//! PM1a control register (port 0x604), which a real machine has too.
//!
//! On aarch64 the virt board goes off through PSCI's SYSTEM_OFF, a call to
//! the firmware that only the kernel can make: the `host_power_off` trap
//! (QEMU exits with 0 there; the status is in the log line before).

use libmach::abi::PortName;
#[cfg(target_arch = "x86_64")]
use libmach::abi::MACH_PORT_NULL;
#[cfg(target_arch = "x86_64")]
use libmach::trap::io_port_access;

/// Powers off, telling QEMU `status`; returns only if the machine stayed on.
#[cfg(target_arch = "x86_64")]
pub fn off(host: PortName, status: u8) {
    if io_port_access(host, 0xf4, 4, MACH_PORT_NULL).is_ok() {
        // SAFETY: the kernel just opened port 0xf4 to this task; `out`
        // touches no memory of ours.
        unsafe { core::arch::asm!("out dx, al", in("dx") 0xf4u16, in("al") status, options(nomem, nostack)) };
    }
    if io_port_access(host, 0x604, 2, MACH_PORT_NULL).is_ok() {
        // SAFETY: as above, for ports 0x604-0x605 (SLP_TYP 0 with SLP_EN).
        unsafe { core::arch::asm!("out dx, ax", in("dx") 0x604u16, in("ax") 0x2000u16, options(nomem, nostack)) };
    }
}

/// Powers off through the kernel; returns only if the machine stayed on.
#[cfg(not(target_arch = "x86_64"))]
pub fn off(host: PortName, status: u8) {
    let _ = libmach::trap::host_power_off(host, status);
}
