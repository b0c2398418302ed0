//! What a user-space driver needs from the kernel that `trap` does not
//! wrap: interrupts as messages and the `in`/`out` instructions on the
//! I/O ports it was granted (the manifest's `io-ports=`, or
//! `trap::io_port_access`).
//!
//! `interrupt_bind` and `interrupt_acknowledge` take `device`, the name of a
//! send right to the privileged host port; any other right gets
//! `KERN_INVALID_CAPABILITY`. A port this task was not granted faults on
//! `in`/`out` (the kernel ends the task), which touches no memory.

use crate::trap::{raw_trap, to_result};
use mach_abi::{KernReturn, PortName, Trap};

/// `interrupt_bind`: an I/O APIC line (0..24) to `port` (a send right this
/// task names): each interrupt comes as an `INTERRUPT_MESSAGE_ID` message,
/// after which the line stays masked until [`interrupt_acknowledge`].
/// `MACH_PORT_NULL` unbinds.
pub fn interrupt_bind(device: PortName, interrupt: u32, port: PortName) -> Result<(), KernReturn> {
    // SAFETY: no pointer arguments.
    to_result(unsafe { raw_trap(Trap::InterruptBind as u64, [device as u64, interrupt as u64, port as u64, 0, 0, 0]) })
}

/// `interrupt_acknowledge`: the line is unmasked.
pub fn interrupt_acknowledge(device: PortName, interrupt: u32) -> Result<(), KernReturn> {
    // SAFETY: no pointer arguments.
    to_result(unsafe { raw_trap(Trap::InterruptAcknowledge as u64, [device as u64, interrupt as u64, 0, 0, 0, 0]) })
}

/// `in` of 8 bits from I/O port `port`.
pub fn port_read_u8(port: u16) -> u8 {
    let value: u8;
    // SAFETY: `in` reads a device register into a general register; it
    // cannot touch this program's memory.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") value, options(nostack, preserves_flags)) };
    value
}

/// `out` of 8 bits to I/O port `port` (see [`port_read_u8`]).
pub fn port_write_u8(port: u16, value: u8) {
    // SAFETY: as for `port_read_u8`; the device effect is the caller's
    // business, memory is untouched.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags)) };
}
