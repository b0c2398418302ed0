//! I/O-port access, kept in one place.
//!
//! Port I/O can reconfigure any legacy device, so callers are limited to
//! this architecture module and name only the ports of devices it owns
//! (COM1, the PIT, the 8259s, `isa-debug-exit`, ACPI's PM1a control).

use x86_64::instructions::port::Port;

pub fn write_u8(port: u16, value: u8) {
    // SAFETY: callers in this module own the device behind `port`; writing it
    // has no effect on memory safety.
    unsafe { Port::<u8>::new(port).write(value) }
}

pub fn read_u8(port: u16) -> u8 {
    // SAFETY: as for `write_u8`; reads of these devices' ports have no side
    // effects beyond the device's own state.
    unsafe { Port::<u8>::new(port).read() }
}

pub fn write_u16(port: u16, value: u16) {
    // SAFETY: as for `write_u8`.
    unsafe { Port::<u16>::new(port).write(value) }
}

pub fn write_u32(port: u16, value: u32) {
    // SAFETY: as for `write_u8`.
    unsafe { Port::<u32>::new(port).write(value) }
}
