//! The kernel's two output channels on a PC:
//!
//! - the **serial line**, COM1 (a 16550 UART), polled: the console a
//!   person sees until the console server takes the UART over
//!   (`kernel_log_handover`); after that the kernel writes to it only to
//!   report a fatal error, or when the console server is gone;
//! - the **debug console**, port 0xe9 (QEMU's `-debugcon`, Bochs's port
//!   E9 hack): every byte the kernel says, always, from the first line of
//!   the boot to a panic. Test kernels and the test scripts read this one;
//!   on a machine without it the writes go nowhere.
//!
//! Reading the UART and its interrupts belong to the console server.

use super::port;

const COM1: u16 = 0x3f8;
const DATA: u16 = COM1;
const INTERRUPT_ENABLE: u16 = COM1 + 1;
const FIFO_CONTROL: u16 = COM1 + 2;
const LINE_CONTROL: u16 = COM1 + 3;
const MODEM_CONTROL: u16 = COM1 + 4;
const LINE_STATUS: u16 = COM1 + 5;
const TRANSMIT_EMPTY: u8 = 1 << 5;
/// QEMU's `-debugcon` (and Bochs's) port: a byte written is a byte shown.
const DEBUG_CONSOLE: u16 = 0xe9;

/// 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on, polled.
pub fn init() {
    port::write_u8(INTERRUPT_ENABLE, 0);
    port::write_u8(LINE_CONTROL, 0x80); // divisor latch access
    port::write_u8(DATA, 1); // divisor 1 = 115200 baud
    port::write_u8(INTERRUPT_ENABLE, 0);
    port::write_u8(LINE_CONTROL, 0x03);
    port::write_u8(FIFO_CONTROL, 0xc7);
    port::write_u8(MODEM_CONTROL, 0x03);
    // The firmware leaves its last line unterminated ("Booting from ROM..").
    write_serial("\n");
}

fn write_serial_byte(byte: u8) {
    // Bounded wait: a missing UART must not hang the kernel in a log call.
    for _ in 0..100_000 {
        if port::read_u8(LINE_STATUS) & TRANSMIT_EMPTY != 0 {
            break;
        }
        core::hint::spin_loop();
    }
    port::write_u8(DATA, byte);
}

/// Writes `text` to the serial line, turning `\n` into `\r\n` for terminals.
pub fn write_serial(text: &str) {
    write_serial_bytes(text.as_bytes());
}

/// [`write_serial`] for bytes (kernel log lines are bytes).
pub fn write_serial_bytes(text: &[u8]) {
    for &byte in text {
        if byte == b'\n' {
            write_serial_byte(b'\r');
        }
        write_serial_byte(byte);
    }
}

/// Writes `text` to the debug console, as it is.
pub fn write_debug_console(text: &str) {
    for byte in text.bytes() {
        port::write_u8(DEBUG_CONSOLE, byte);
    }
}
