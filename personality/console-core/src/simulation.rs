//! A simulated 16550 UART, as QEMU models it: what the driver's host
//! tests (here and in the console server's transport) run against.
//!
//! Bytes "typed" arrive in the receive FIFO; bytes written go to the
//! transmit FIFO and reach the "wire" when the test lets them
//! ([`SimulatedUart::send_to_wire`]), after which the UART raises its
//! transmit interrupt, as the real one does once its FIFO empties.

use crate::uart::{enable, register, status, Registers};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The simulated device.
#[derive(Default)]
pub struct SimulatedUart {
    pub interrupt_enable: u8,
    pub line_control: u8,
    pub modem_control: u8,
    pub scratch: u8,
    pub divisor: u16,
    pub fifo_enabled: bool,
    pub receive: VecDeque<u8>,
    /// Written and not yet on the wire (the transmit FIFO).
    pub transmit: VecDeque<u8>,
    /// What went out.
    pub wire: Vec<u8>,
    /// The transmit-empty interrupt is latched (cleared by reading the
    /// identification register while it is the cause, or by a write).
    pub transmit_pending: bool,
    /// Error bits for the next line status read.
    pub errors: u8,
    /// A byte was written while the transmit FIFO was full.
    pub transmit_overflow: bool,
    /// Register reads and writes made (to check nothing polls).
    pub accesses: usize,
    /// No UART at all: reads float high, writes vanish.
    pub absent: bool,
    /// Always claims an interrupt (a broken device).
    pub stuck: bool,
}

impl SimulatedUart {
    pub fn new() -> SimulatedUart {
        SimulatedUart::default()
    }

    /// Bytes arrive on the wire.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        self.receive.extend(bytes);
    }

    /// The transmit FIFO drains onto the wire; the UART then raises the
    /// transmit-empty interrupt.
    pub fn send_to_wire(&mut self) {
        if self.transmit.is_empty() {
            return;
        }
        self.wire.extend(self.transmit.drain(..));
        self.transmit_pending = true;
    }

    /// The interrupt output (OUT2 gates it to the PIC on a PC).
    pub fn interrupt_line(&self) -> bool {
        self.modem_control & 0x08 != 0 && self.pending_cause().is_some()
    }

    fn pending_cause(&self) -> Option<u8> {
        if self.stuck {
            return Some(0b011);
        }
        if self.errors != 0 && self.interrupt_enable & enable::LINE_STATUS != 0 {
            return Some(0b011);
        }
        if !self.receive.is_empty() && self.interrupt_enable & enable::RECEIVED_DATA != 0 {
            return Some(if self.receive.len() >= 14 { 0b010 } else { 0b110 });
        }
        if self.transmit_pending && self.interrupt_enable & enable::TRANSMIT_EMPTY != 0 {
            return Some(0b001);
        }
        None
    }

    fn divisor_latch(&self) -> bool {
        self.line_control & 0x80 != 0
    }
}

impl Registers for SimulatedUart {
    fn read(&mut self, offset: u16) -> u8 {
        self.accesses += 1;
        if self.absent {
            return 0xff;
        }
        match offset {
            register::DATA if self.divisor_latch() => self.divisor as u8,
            register::DATA => self.receive.pop_front().unwrap_or(0),
            register::INTERRUPT_ENABLE if self.divisor_latch() => (self.divisor >> 8) as u8,
            register::INTERRUPT_ENABLE => self.interrupt_enable,
            register::INTERRUPT_IDENTIFICATION => {
                let fifo = if self.fifo_enabled { 0xc0 } else { 0 };
                match self.pending_cause() {
                    None => fifo | 1,
                    Some(cause) => {
                        if cause == 0b001 {
                            self.transmit_pending = false;
                        }
                        fifo | cause << 1
                    }
                }
            }
            register::LINE_CONTROL => self.line_control,
            register::MODEM_CONTROL => self.modem_control,
            register::LINE_STATUS => {
                let mut value = core::mem::take(&mut self.errors);
                if !self.receive.is_empty() {
                    value |= status::DATA_READY;
                }
                if self.transmit.is_empty() {
                    value |= status::TRANSMIT_HOLDING_EMPTY | status::TRANSMITTER_EMPTY;
                }
                value
            }
            register::MODEM_STATUS => 0xb0,
            register::SCRATCH => self.scratch,
            _ => 0xff,
        }
    }

    fn write(&mut self, offset: u16, value: u8) {
        self.accesses += 1;
        if self.absent {
            return;
        }
        match offset {
            register::DATA if self.divisor_latch() => self.divisor = self.divisor & 0xff00 | value as u16,
            register::DATA => {
                if self.transmit.len() >= 16 {
                    self.transmit_overflow = true;
                }
                self.transmit.push_back(value);
                self.transmit_pending = false;
            }
            register::INTERRUPT_ENABLE if self.divisor_latch() => {
                self.divisor = self.divisor & 0xff | (value as u16) << 8
            }
            register::INTERRUPT_ENABLE => {
                let newly = value & !self.interrupt_enable;
                self.interrupt_enable = value;
                // As QEMU does: turning the transmit interrupt on with an
                // empty transmitter raises it at once.
                if newly & enable::TRANSMIT_EMPTY != 0 && self.transmit.is_empty() {
                    self.transmit_pending = true;
                }
            }
            register::FIFO_CONTROL => {
                self.fifo_enabled = value & 1 != 0;
                if value & 2 != 0 {
                    self.receive.clear();
                }
                if value & 4 != 0 {
                    self.transmit.clear();
                }
            }
            register::LINE_CONTROL => self.line_control = value,
            register::MODEM_CONTROL => self.modem_control = value,
            register::SCRATCH => self.scratch = value,
            _ => {}
        }
    }
}
