//! The kernel's two output channels on the virt board (x86_64's
//! `console.rs` has the same two):
//!
//! - the **serial line**, the PL011 UART, polled: the console a person
//!   sees until the console server takes it over (`kernel_log_handover`);
//!   reading it and its interrupts belong to the console server;
//! - the **debug console**: semihosting's `SYS_WRITE0`, in test kernels
//!   and normal ones booted with `semihosting=on` (QEMU runs them with
//!   `-semihosting`; without it the call is an undefined instruction, so a
//!   normal kernel, which may boot without it, writes nothing there). Every byte the kernel says, from the first
//!   line of the boot to a panic, whoever holds the serial line.
//!
//! Until the kernel's own page tables exist it is reached through the boot
//! tables' direct map of the first GiB (device memory); then through its
//! page in the device window, at the address the device tree gives.

use super::paging;
use crate::memory::PhysicalAddress;
use core::sync::atomic::{AtomicU64, Ordering};

/// Where QEMU's `virt` board puts its first PL011 (the device tree's
/// `/pl011@9000000`), used before the device tree is read.
const VIRT_UART: u64 = 0x0900_0000;
const DATA: u64 = 0x00;
const FLAGS: u64 = 0x18;
const TRANSMIT_FULL: u32 = 1 << 5;

static BASE: AtomicU64 = AtomicU64::new(0);

/// The boot tables map physical 0..1 GiB as device memory at the direct-map base.
pub fn init_early() {
    BASE.store(paging::DIRECT_MAP_BASE + VIRT_UART, Ordering::Relaxed);
}

/// Moves to the UART at `physical` (from the device tree), mapped in the
/// device window: the boot tables' direct map is gone after the switch.
pub fn init(physical: PhysicalAddress) {
    match paging::map_device(physical.align_down(), 1) {
        Ok(base) => BASE.store(base + (physical.0 & 0xfff), Ordering::Relaxed),
        Err(error) => {
            BASE.store(0, Ordering::Relaxed);
            panic!("cannot map the PL011 at {physical:#x}: {error:?}");
        }
    }
}

fn write_byte(base: u64, byte: u8) {
    let flags = (base + FLAGS) as *const u32;
    let data = (base + DATA) as *mut u32;
    // Bounded wait: a stuck UART must not hang the kernel in a log call.
    for _ in 0..100_000 {
        // SAFETY: `base` is the PL011's register page, mapped as device
        // memory (boot tables or device window); FR is a 32-bit register.
        if unsafe { flags.read_volatile() } & TRANSMIT_FULL == 0 {
            break;
        }
        core::hint::spin_loop();
    }
    // SAFETY: as above; DR takes the byte in its low 8 bits.
    unsafe { data.write_volatile(byte as u32) };
}

/// Writes `text` to the serial line, turning `\n` into `\r\n` for terminals.
pub fn write_serial(text: &str) {
    write_serial_bytes(text.as_bytes());
}

/// [`write_serial`] for bytes (kernel log lines are bytes).
pub fn write_serial_bytes(text: &[u8]) {
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    for &byte in text {
        if byte == b'\n' {
            write_byte(base, b'\r');
        }
        write_byte(base, byte);
    }
}

/// Writes `text` to the debug console (semihosting, where it is on), as it is.
pub fn write_debug_console(text: &str) {
    if super::semihosting::enabled() {
        super::semihosting::write(text.as_bytes());
    }
}
