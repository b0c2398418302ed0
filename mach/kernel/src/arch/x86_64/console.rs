//! The serial console: COM1, a 16550 UART, polled.
//!
//! The kernel only writes to it (logs, test output, fault reports); reading
//! and the interrupt-driven tty belong to the console server in user space.

use super::port;

const COM1: u16 = 0x3f8;
const DATA: u16 = COM1;
const INTERRUPT_ENABLE: u16 = COM1 + 1;
const FIFO_CONTROL: u16 = COM1 + 2;
const LINE_CONTROL: u16 = COM1 + 3;
const MODEM_CONTROL: u16 = COM1 + 4;
const LINE_STATUS: u16 = COM1 + 5;
const TRANSMIT_EMPTY: u8 = 1 << 5;

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
    write_str("\n");
}

fn write_byte(byte: u8) {
    // Bounded wait: a missing UART must not hang the kernel in a log call.
    for _ in 0..100_000 {
        if port::read_u8(LINE_STATUS) & TRANSMIT_EMPTY != 0 {
            break;
        }
        core::hint::spin_loop();
    }
    port::write_u8(DATA, byte);
}

/// Writes `text`, turning `\n` into `\r\n` for terminals.
pub fn write_str(text: &str) {
    for byte in text.bytes() {
        if byte == b'\n' {
            write_byte(b'\r');
        }
        write_byte(byte);
    }
}
