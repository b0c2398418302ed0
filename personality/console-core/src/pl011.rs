//! The Arm PL011 UART (on QEMU's virt board at 0x0900_0000, line 1; the
//! console server takes both from the device tree, `AT_MACH_DEVICE`),
//! driven by interrupts as [`crate::uart::Uart`] drives the 16550, with its
//! registers behind a trait so that the logic runs against a simulated
//! PL011 on the host ([`SimulatedPl011`]).
//!
//! - [`Pl011::start`] checks the identification registers (a PL011 says
//!   `0x11` and the PrimeCell id `0xb105f00d`), disables it while it is
//!   programmed (8N1, FIFOs on, receive interrupt at half full), empties
//!   the receive FIFO, clears every interrupt, unmasks receive, receive
//!   timeout and the error interrupts, and enables it again.
//! - [`Pl011::service`] takes what the masked interrupt status names
//!   (received bytes to [`Line::received`], errors counted, the transmit
//!   interrupt cleared), until nothing is pending, then fills the transmit
//!   FIFO while it has room and keeps the transmit interrupt unmasked
//!   exactly while the line has more to send. The transmit interrupt comes
//!   when the FIFO drains through its trigger level, so the FIFO is always
//!   filled past it: a waiting transmitter is woken by the UART.
//!
//! Every loop is bounded (a broken or absent device cannot hang the server).

use crate::uart::{Line, UartError, UartStatistics};

/// The registers, by byte offset from the base (all 32-bit accesses).
pub mod register {
    /// Data: a byte to send (write); a received byte with its error bits
    /// 8..=11 (read).
    pub const DATA: usize = 0x000;
    pub const FLAGS: usize = 0x018;
    pub const INTEGER_BAUD: usize = 0x024;
    pub const FRACTIONAL_BAUD: usize = 0x028;
    pub const LINE_CONTROL: usize = 0x02c;
    pub const CONTROL: usize = 0x030;
    pub const FIFO_LEVELS: usize = 0x034;
    pub const INTERRUPT_MASK: usize = 0x038;
    pub const RAW_INTERRUPTS: usize = 0x03c;
    pub const MASKED_INTERRUPTS: usize = 0x040;
    pub const INTERRUPT_CLEAR: usize = 0x044;
    pub const PERIPHERAL_ID0: usize = 0xfe0;
    pub const PRIMECELL_ID0: usize = 0xff0;
}

/// Flag register bits.
pub mod flag {
    pub const BUSY: u32 = 1 << 3;
    pub const RECEIVE_EMPTY: u32 = 1 << 4;
    pub const TRANSMIT_FULL: u32 = 1 << 5;
    pub const TRANSMIT_EMPTY: u32 = 1 << 7;
}

/// Interrupt bits (mask, raw and masked status, clear).
pub mod interrupt {
    pub const RECEIVE: u32 = 1 << 4;
    pub const TRANSMIT: u32 = 1 << 5;
    pub const RECEIVE_TIMEOUT: u32 = 1 << 6;
    pub const FRAMING: u32 = 1 << 7;
    pub const PARITY: u32 = 1 << 8;
    pub const BREAK: u32 = 1 << 9;
    pub const OVERRUN: u32 = 1 << 10;
    pub const ERRORS: u32 = FRAMING | PARITY | BREAK | OVERRUN;
    pub const ALL: u32 = 0x7ff;
}

/// Error bits of a received byte in the data register.
mod data_error {
    pub const FRAMING: u32 = 1 << 8;
    pub const PARITY: u32 = 1 << 9;
    pub const BREAK: u32 = 1 << 10;
    pub const OVERRUN: u32 = 1 << 11;
}

const CONTROL_ENABLE: u32 = 1 << 0;
const CONTROL_TRANSMIT: u32 = 1 << 8;
const CONTROL_RECEIVE: u32 = 1 << 9;
/// 8 data bits (WLEN = 0b11), FIFOs on; no parity, one stop bit.
const LINE_EIGHT_N_ONE_FIFO: u32 = 0b11 << 5 | 1 << 4;
/// Receive interrupt at half full, transmit at one eighth.
const FIFO_LEVELS_HALF_EIGHTH: u32 = 0b010 << 3;
/// What the identification registers read on a PL011.
const PERIPHERAL_ID0: u32 = 0x11;
const PRIMECELL_ID: [u32; 4] = [0x0d, 0xf0, 0x05, 0xb1];

/// Bytes the transmit FIFO holds.
pub const TRANSMIT_FIFO: usize = 16;
/// Most pending-interrupt rounds in one [`Pl011::service`].
const ROUNDS_MAX: usize = 64;
/// Most bytes read in one receive round (the FIFO holds 16).
const RECEIVE_BURST_MAX: usize = 64;

/// Access to the PL011's 32-bit registers (a device page).
pub trait Registers {
    fn read(&mut self, offset: usize) -> u32;
    fn write(&mut self, offset: usize, value: u32);
}

/// The driver's state: which interrupts are unmasked, and the counts.
#[derive(Debug)]
pub struct Pl011 {
    mask: u32,
    statistics: UartStatistics,
}

impl Pl011 {
    /// Checks for the PL011, programs it and empties its receiver.
    pub fn start(registers: &mut impl Registers) -> Result<Pl011, UartError> {
        let primecell: [u32; 4] =
            core::array::from_fn(|index| registers.read(register::PRIMECELL_ID0 + 4 * index) & 0xff);
        if registers.read(register::PERIPHERAL_ID0) & 0xff != PERIPHERAL_ID0 || primecell != PRIMECELL_ID {
            return Err(UartError::NotPresent);
        }
        registers.write(register::CONTROL, 0);
        registers.write(register::INTERRUPT_MASK, 0);
        // 115200 baud from a 24 MHz reference: 13 + 1/64 * 1.
        registers.write(register::INTEGER_BAUD, 13);
        registers.write(register::FRACTIONAL_BAUD, 1);
        registers.write(register::LINE_CONTROL, LINE_EIGHT_N_ONE_FIFO);
        registers.write(register::FIFO_LEVELS, FIFO_LEVELS_HALF_EIGHTH);
        // Whatever was typed before we owned the line is not ours to read.
        for _ in 0..RECEIVE_BURST_MAX {
            if registers.read(register::FLAGS) & flag::RECEIVE_EMPTY != 0 {
                break;
            }
            registers.read(register::DATA);
        }
        registers.write(register::INTERRUPT_CLEAR, interrupt::ALL);
        let mask = interrupt::RECEIVE | interrupt::RECEIVE_TIMEOUT | interrupt::ERRORS;
        registers.write(register::INTERRUPT_MASK, mask);
        registers.write(register::CONTROL, CONTROL_ENABLE | CONTROL_TRANSMIT | CONTROL_RECEIVE);
        Ok(Pl011 { mask, statistics: UartStatistics::default() })
    }

    pub fn statistics(&self) -> UartStatistics {
        self.statistics
    }

    /// True while the transmit interrupt is unmasked (bytes are being sent).
    pub fn transmitting(&self) -> bool {
        self.mask & interrupt::TRANSMIT != 0
    }

    /// True once the last byte has left the UART (FIFO empty, not busy).
    pub fn transmitter_empty(&self, registers: &mut impl Registers) -> bool {
        let flags = registers.read(register::FLAGS);
        flags & flag::TRANSMIT_EMPTY != 0 && flags & flag::BUSY == 0
    }

    /// Handles every pending interrupt, then starts or stops the
    /// transmitter as the line needs. Call on each interrupt and whenever
    /// the line got bytes to send or output was restarted.
    pub fn service(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        for round in 0.. {
            let pending = registers.read(register::MASKED_INTERRUPTS) & interrupt::ALL;
            if pending == 0 {
                break;
            }
            if round == ROUNDS_MAX {
                self.statistics.runaway += 1;
                break;
            }
            if pending & (interrupt::RECEIVE | interrupt::RECEIVE_TIMEOUT | interrupt::ERRORS) != 0 {
                self.receive(registers, line);
            }
            // The transmit interrupt is answered by filling the FIFO below.
            registers.write(register::INTERRUPT_CLEAR, pending);
            if pending & interrupt::TRANSMIT != 0 {
                self.fill(registers, line);
            }
        }
        // Bytes may have arrived after the last status read.
        self.receive(registers, line);
        self.kick(registers, line);
    }

    fn receive(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        for _ in 0..RECEIVE_BURST_MAX {
            if registers.read(register::FLAGS) & flag::RECEIVE_EMPTY != 0 {
                break;
            }
            let data = registers.read(register::DATA);
            self.statistics.received += 1;
            let counts = [
                (data_error::OVERRUN, &mut self.statistics.overruns),
                (data_error::PARITY, &mut self.statistics.parity_errors),
                (data_error::FRAMING, &mut self.statistics.framing_errors),
                (data_error::BREAK, &mut self.statistics.breaks),
            ];
            for (bit, count) in counts {
                *count += (data & bit != 0) as u64;
            }
            let byte = data as u8;
            // A break arrives as a NUL with the break bit: not a key.
            if data & data_error::BREAK != 0 && byte == 0 {
                continue;
            }
            line.received(byte);
        }
    }

    /// Writes what the line has while the transmit FIFO has room.
    fn fill(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        let mut written = 0;
        while written < TRANSMIT_FIFO && registers.read(register::FLAGS) & flag::TRANSMIT_FULL == 0 {
            let mut byte = [0u8];
            if line.transmit(&mut byte) == 0 {
                break;
            }
            registers.write(register::DATA, byte[0] as u32);
            written += 1;
        }
        self.statistics.transmitted += written as u64;
    }

    /// Sends what fits now and leaves the transmit interrupt unmasked only
    /// while more waits.
    fn kick(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        if line.wants_to_transmit() {
            self.fill(registers, line);
        }
        let wanted =
            if line.wants_to_transmit() { self.mask | interrupt::TRANSMIT } else { self.mask & !interrupt::TRANSMIT };
        if wanted != self.mask {
            self.mask = wanted;
            registers.write(register::INTERRUPT_MASK, wanted);
        }
    }
}

/// A PL011 as QEMU models it, for host tests: bytes written go to the
/// wire at once (the transmit interrupt rises with each, as QEMU's does);
/// typed bytes wait in a 16-byte receive FIFO.
#[derive(Default)]
pub struct SimulatedPl011 {
    pub control: u32,
    pub line_control: u32,
    pub mask: u32,
    pub raw: u32,
    pub receive: alloc::collections::VecDeque<u32>,
    pub wire: alloc::vec::Vec<u8>,
    /// Not a PL011 (another device's identification).
    pub absent: bool,
    /// Always claims an interrupt (a broken device).
    pub stuck: bool,
}

impl SimulatedPl011 {
    /// Bytes typed on the other end (each with error bits 8..=11).
    pub fn type_data(&mut self, data: &[u32]) {
        for &value in data {
            if self.receive.len() < 16 {
                self.receive.push_back(value);
            } else if let Some(last) = self.receive.back_mut() {
                *last |= data_error::OVERRUN;
            }
        }
        self.raw |= interrupt::RECEIVE;
    }

    pub fn type_bytes(&mut self, bytes: &[u8]) {
        let data: alloc::vec::Vec<u32> = bytes.iter().map(|&byte| byte as u32).collect();
        self.type_data(&data);
    }

    /// The interrupt line (level).
    pub fn interrupt_line(&self) -> bool {
        self.stuck || self.raw & self.mask != 0
    }
}

impl Registers for SimulatedPl011 {
    fn read(&mut self, offset: usize) -> u32 {
        match offset {
            register::DATA => {
                let value = self.receive.pop_front().unwrap_or(0);
                if self.receive.is_empty() {
                    self.raw &= !(interrupt::RECEIVE | interrupt::RECEIVE_TIMEOUT);
                }
                value
            }
            register::FLAGS => {
                let empty = if self.receive.is_empty() { flag::RECEIVE_EMPTY } else { 0 };
                flag::TRANSMIT_EMPTY | empty
            }
            register::LINE_CONTROL => self.line_control,
            register::CONTROL => self.control,
            register::INTERRUPT_MASK => self.mask,
            register::RAW_INTERRUPTS => self.raw,
            register::MASKED_INTERRUPTS if self.stuck => interrupt::RECEIVE,
            register::MASKED_INTERRUPTS => self.raw & self.mask,
            register::PERIPHERAL_ID0 if self.absent => 0,
            register::PERIPHERAL_ID0 => PERIPHERAL_ID0,
            _ if (register::PRIMECELL_ID0..register::PRIMECELL_ID0 + 16).contains(&offset) => {
                PRIMECELL_ID[(offset - register::PRIMECELL_ID0) / 4]
            }
            _ => 0,
        }
    }

    fn write(&mut self, offset: usize, value: u32) {
        match offset {
            register::DATA => {
                assert!(self.control & CONTROL_ENABLE != 0, "a byte written while the UART is disabled");
                self.wire.push(value as u8);
                self.raw |= interrupt::TRANSMIT;
            }
            register::LINE_CONTROL => self.line_control = value,
            register::CONTROL => self.control = value,
            register::INTERRUPT_MASK => self.mask = value & interrupt::ALL,
            register::INTERRUPT_CLEAR => self.raw &= !value,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A line that keeps what it received and sends `outgoing`.
    #[derive(Default)]
    struct TestLine {
        received: Vec<u8>,
        outgoing: alloc::collections::VecDeque<u8>,
    }

    impl Line for TestLine {
        fn received(&mut self, byte: u8) {
            self.received.push(byte);
        }
        fn transmit(&mut self, buffer: &mut [u8]) -> usize {
            let mut count = 0;
            while count < buffer.len() {
                let Some(byte) = self.outgoing.pop_front() else { break };
                buffer[count] = byte;
                count += 1;
            }
            count
        }
        fn wants_to_transmit(&self) -> bool {
            !self.outgoing.is_empty()
        }
    }

    fn started() -> (SimulatedPl011, Pl011) {
        let mut device = SimulatedPl011::default();
        device.type_bytes(b"typed before");
        let uart = Pl011::start(&mut device).unwrap();
        (device, uart)
    }

    #[test]
    fn start_programs_the_uart_and_drops_what_was_typed_before() {
        let (device, uart) = started();
        assert!(device.receive.is_empty());
        assert_eq!(device.line_control, LINE_EIGHT_N_ONE_FIFO);
        assert_eq!(device.control, CONTROL_ENABLE | CONTROL_TRANSMIT | CONTROL_RECEIVE);
        assert_eq!(device.mask, interrupt::RECEIVE | interrupt::RECEIVE_TIMEOUT | interrupt::ERRORS);
        assert_eq!(device.raw, 0);
        assert!(!uart.transmitting());
        let mut absent = SimulatedPl011 { absent: true, ..Default::default() };
        assert_eq!(Pl011::start(&mut absent).err(), Some(UartError::NotPresent));
    }

    #[test]
    fn received_bytes_reach_the_line_and_errors_are_counted() {
        let (mut device, mut uart) = started();
        let mut line = TestLine::default();
        device.type_data(&[b'a' as u32, b'b' as u32 | data_error::PARITY, data_error::BREAK, b'c' as u32]);
        assert!(device.interrupt_line());
        uart.service(&mut device, &mut line);
        assert_eq!(line.received, b"abc");
        assert!(!device.interrupt_line(), "served: the line is down");
        let statistics = uart.statistics();
        assert_eq!((statistics.received, statistics.parity_errors, statistics.breaks), (4, 1, 1));
        // 20 bytes into a 16-byte FIFO: the last kept one carries the overrun.
        device.type_bytes(&[b'x'; 20]);
        uart.service(&mut device, &mut line);
        assert_eq!(line.received.len(), 3 + 16);
        assert_eq!(uart.statistics().overruns, 1);
    }

    #[test]
    fn sending_fills_the_fifo_and_the_transmit_interrupt_brings_the_rest() {
        let (mut device, mut uart) = started();
        let mut line = TestLine::default();
        line.outgoing.extend(b"0123456789abcdefghijklmnopqrstuvwxyz".iter());
        uart.service(&mut device, &mut line);
        assert_eq!(device.wire, b"0123456789abcdef");
        assert!(uart.transmitting(), "more waits: the transmit interrupt is unmasked");
        assert!(device.interrupt_line());
        // Each interrupt brings the next FIFO's worth until the line is empty.
        let mut interrupts = 0;
        while device.interrupt_line() && interrupts < 10 {
            uart.service(&mut device, &mut line);
            interrupts += 1;
        }
        assert_eq!(device.wire, b"0123456789abcdefghijklmnopqrstuvwxyz");
        assert_eq!(interrupts, 1, "QEMU sends at once: one interrupt's service drains the line");
        assert!(!uart.transmitting(), "nothing left: the transmit interrupt is masked");
        assert!(uart.transmitter_empty(&mut device));
        assert_eq!(uart.statistics().transmitted, 36);
    }

    #[test]
    fn a_device_that_never_stops_interrupting_does_not_hang_the_server() {
        let (mut device, mut uart) = started();
        device.stuck = true;
        uart.service(&mut device, &mut TestLine::default());
        assert_eq!(uart.statistics().runaway, 1);
    }
}
