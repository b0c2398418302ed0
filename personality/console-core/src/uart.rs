//! The 16550 UART (COM1 on a PC), driven by interrupts: what to write to
//! its registers and when, with the registers behind a trait so that the
//! logic runs against a simulated UART on the host.
//!
//! - [`Uart::start`] checks the UART is there (its scratch register keeps
//!   a value), sets 115200 baud 8N1, turns the FIFOs on (receive trigger at
//!   14 bytes), raises DTR, RTS and OUT2 (which connects the UART's
//!   interrupt to IRQ 4 on a PC), empties what the receiver holds and
//!   enables the receive and line-status interrupts.
//! - [`Uart::service`] runs when the interrupt comes (and after anything
//!   that gave the line bytes to send): it handles every pending cause the
//!   interrupt identification register names until none is left (received
//!   bytes to [`Line::received`], line errors counted, the modem status
//!   read), then fills the transmit FIFO if it is empty and keeps the
//!   transmit interrupt on exactly while [`Line`] has more to send. A
//!   transmitter waiting for room is therefore woken by the UART itself:
//!   nothing polls.
//!
//! Every loop is bounded (a broken or absent device cannot hang the server).

/// The registers, by offset from the UART's base port.
pub mod register {
    /// Receive buffer (read), transmit holding (write); divisor low with `DLAB`.
    pub const DATA: u16 = 0;
    /// Interrupt enable; divisor high with `DLAB`.
    pub const INTERRUPT_ENABLE: u16 = 1;
    /// Interrupt identification (read), FIFO control (write).
    pub const INTERRUPT_IDENTIFICATION: u16 = 2;
    pub const FIFO_CONTROL: u16 = 2;
    pub const LINE_CONTROL: u16 = 3;
    pub const MODEM_CONTROL: u16 = 4;
    pub const LINE_STATUS: u16 = 5;
    pub const MODEM_STATUS: u16 = 6;
    pub const SCRATCH: u16 = 7;
}

/// Interrupt enable bits.
pub mod enable {
    pub const RECEIVED_DATA: u8 = 1 << 0;
    pub const TRANSMIT_EMPTY: u8 = 1 << 1;
    pub const LINE_STATUS: u8 = 1 << 2;
    pub const MODEM_STATUS: u8 = 1 << 3;
}

/// Line status bits.
pub mod status {
    pub const DATA_READY: u8 = 1 << 0;
    pub const OVERRUN: u8 = 1 << 1;
    pub const PARITY: u8 = 1 << 2;
    pub const FRAMING: u8 = 1 << 3;
    pub const BREAK: u8 = 1 << 4;
    pub const TRANSMIT_HOLDING_EMPTY: u8 = 1 << 5;
    pub const TRANSMITTER_EMPTY: u8 = 1 << 6;
}

/// The interrupt identification register's cause field (bits 1..=3).
mod cause {
    pub const MODEM_STATUS: u8 = 0b000;
    pub const TRANSMIT_EMPTY: u8 = 0b001;
    pub const RECEIVED_DATA: u8 = 0b010;
    pub const LINE_STATUS: u8 = 0b011;
    pub const CHARACTER_TIMEOUT: u8 = 0b110;
}

/// Bytes the transmit FIFO takes when it is empty.
pub const TRANSMIT_FIFO: usize = 16;
/// Most causes handled in one [`Uart::service`] before it gives up (a
/// device that never stops interrupting must not hang the server).
const ROUNDS_MAX: usize = 64;
/// Most bytes read in one receive round (a FIFO holds 16).
const RECEIVE_BURST_MAX: usize = 64;
/// The line control register's divisor-latch bit.
const DIVISOR_LATCH: u8 = 0x80;
/// 8 data bits, no parity, one stop bit.
const EIGHT_N_ONE: u8 = 0x03;
/// FIFOs on, both cleared, receive interrupt at 14 bytes.
const FIFO_ON_TRIGGER_14: u8 = 0xc7;
/// DTR, RTS and OUT2 (the PC's interrupt gate).
const DTR_RTS_OUT2: u8 = 0x0b;

/// Access to the UART's eight registers (I/O ports on a PC).
pub trait Registers {
    fn read(&mut self, offset: u16) -> u8;
    fn write(&mut self, offset: u16, value: u8);
}

/// The other end: what the terminal does with received bytes and where the
/// bytes to send come from.
pub trait Line {
    /// A byte arrived.
    fn received(&mut self, byte: u8);
    /// Fills `buffer` with the next bytes to send; returns how many (0 when
    /// there are none, or output is stopped).
    fn transmit(&mut self, buffer: &mut [u8]) -> usize;
    /// True if bytes wait to be sent and output is not stopped.
    fn wants_to_transmit(&self) -> bool;
}

/// Why the UART cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UartError {
    /// Its scratch register did not keep a value: no UART at that address.
    NotPresent,
}

/// Counts kept for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UartStatistics {
    pub received: u64,
    pub transmitted: u64,
    pub overruns: u64,
    pub parity_errors: u64,
    pub framing_errors: u64,
    pub breaks: u64,
    /// Calls of [`Uart::service`] that found the device still interrupting
    /// after [`ROUNDS_MAX`] causes.
    pub runaway: u64,
}

/// The driver's state: which interrupts are on, and the counts.
#[derive(Debug)]
pub struct Uart {
    interrupts: u8,
    statistics: UartStatistics,
}

impl Uart {
    /// Checks for the UART, programs it (115200 8N1, FIFOs, interrupts for
    /// received data and line status) and empties its receiver.
    pub fn start(registers: &mut impl Registers) -> Result<Uart, UartError> {
        for probe in [0x5a, 0xa5] {
            registers.write(register::SCRATCH, probe);
            if registers.read(register::SCRATCH) != probe {
                return Err(UartError::NotPresent);
            }
        }
        registers.write(register::INTERRUPT_ENABLE, 0);
        registers.write(register::LINE_CONTROL, DIVISOR_LATCH);
        registers.write(register::DATA, 1); // 115200 / 1
        registers.write(register::INTERRUPT_ENABLE, 0);
        registers.write(register::LINE_CONTROL, EIGHT_N_ONE);
        registers.write(register::FIFO_CONTROL, FIFO_ON_TRIGGER_14);
        registers.write(register::MODEM_CONTROL, DTR_RTS_OUT2);
        // Whatever was typed before we owned the line is not ours to read
        // (it went to the kernel, which does not read): drop it.
        for _ in 0..RECEIVE_BURST_MAX {
            if registers.read(register::LINE_STATUS) & status::DATA_READY == 0 {
                break;
            }
            registers.read(register::DATA);
        }
        registers.read(register::INTERRUPT_IDENTIFICATION);
        registers.read(register::MODEM_STATUS);
        let interrupts = enable::RECEIVED_DATA | enable::LINE_STATUS;
        registers.write(register::INTERRUPT_ENABLE, interrupts);
        Ok(Uart { interrupts, statistics: UartStatistics::default() })
    }

    pub fn statistics(&self) -> UartStatistics {
        self.statistics
    }

    /// True while the transmit interrupt is on (bytes are being sent).
    pub fn transmitting(&self) -> bool {
        self.interrupts & enable::TRANSMIT_EMPTY != 0
    }

    /// True once the last byte has left the UART (FIFO and shift register
    /// empty): what `tcdrain` waits for.
    pub fn transmitter_empty(&self, registers: &mut impl Registers) -> bool {
        registers.read(register::LINE_STATUS) & status::TRANSMITTER_EMPTY != 0
    }

    /// Handles every pending interrupt cause, then starts or stops the
    /// transmitter as the line needs. Call on each interrupt and whenever
    /// the line got bytes to send or output was restarted.
    pub fn service(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        let mut rounds = 0;
        loop {
            let identification = registers.read(register::INTERRUPT_IDENTIFICATION);
            if identification & 1 != 0 {
                break;
            }
            rounds += 1;
            if rounds > ROUNDS_MAX {
                self.statistics.runaway += 1;
                break;
            }
            match (identification >> 1) & 0b111 {
                cause::LINE_STATUS => {
                    // Reading the status clears its error bits, which
                    // belong to the byte at the head of the FIFO: that
                    // byte is read with this status.
                    let line_status = registers.read(register::LINE_STATUS);
                    self.receive_with(registers, line, Some(line_status));
                }
                cause::RECEIVED_DATA | cause::CHARACTER_TIMEOUT => self.receive(registers, line),
                cause::TRANSMIT_EMPTY => self.fill(registers, line),
                cause::MODEM_STATUS => {
                    registers.read(register::MODEM_STATUS);
                }
                _ => break,
            }
        }
        // Bytes may have arrived after the last identification read: take
        // them now rather than wait for an interrupt the edge may not bring.
        self.receive(registers, line);
        self.kick(registers, line);
    }

    fn count_errors(&mut self, line_status: u8) {
        if line_status & status::OVERRUN != 0 {
            self.statistics.overruns += 1;
        }
        if line_status & status::PARITY != 0 {
            self.statistics.parity_errors += 1;
        }
        if line_status & status::FRAMING != 0 {
            self.statistics.framing_errors += 1;
        }
        if line_status & status::BREAK != 0 {
            self.statistics.breaks += 1;
        }
    }

    fn receive(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        self.receive_with(registers, line, None);
    }

    /// Reads the bytes the FIFO holds; `first_status` is a line status
    /// already read (for the first byte).
    fn receive_with(&mut self, registers: &mut impl Registers, line: &mut impl Line, first_status: Option<u8>) {
        let mut known = first_status;
        for _ in 0..RECEIVE_BURST_MAX {
            let line_status = known.take().unwrap_or_else(|| registers.read(register::LINE_STATUS));
            self.count_errors(line_status);
            if line_status & status::DATA_READY == 0 {
                break;
            }
            let byte = registers.read(register::DATA);
            self.statistics.received += 1;
            // A break arrives as a NUL with the break bit: not a key.
            if line_status & status::BREAK != 0 && byte == 0 {
                continue;
            }
            line.received(byte);
        }
    }

    /// Fills the transmit FIFO, which the caller knows to be empty.
    fn fill(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        let mut buffer = [0u8; TRANSMIT_FIFO];
        let count = line.transmit(&mut buffer);
        for &byte in &buffer[..count] {
            registers.write(register::DATA, byte);
        }
        self.statistics.transmitted += count as u64;
    }

    /// Sends what it can now and leaves the transmit interrupt on only
    /// while more waits.
    fn kick(&mut self, registers: &mut impl Registers, line: &mut impl Line) {
        if line.wants_to_transmit() && registers.read(register::LINE_STATUS) & status::TRANSMIT_HOLDING_EMPTY != 0 {
            self.fill(registers, line);
        }
        let wanted = if line.wants_to_transmit() {
            self.interrupts | enable::TRANSMIT_EMPTY
        } else {
            self.interrupts & !enable::TRANSMIT_EMPTY
        };
        if wanted != self.interrupts {
            self.interrupts = wanted;
            registers.write(register::INTERRUPT_ENABLE, wanted);
        }
    }
}

/// A UART driver the console server runs: the 16550's [`Uart`] over
/// [`Registers`], or the PL011's [`crate::pl011::Pl011`] over its own
/// register trait; `R` is what reaches the device's registers.
pub trait SerialDriver<R> {
    /// Serves pending interrupts and starts or stops sending (see
    /// [`Uart::service`]).
    fn service<L: Line>(&mut self, registers: &mut R, line: &mut L);
    /// True once the last byte has left the UART.
    fn transmitter_empty(&self, registers: &mut R) -> bool;
    fn statistics(&self) -> UartStatistics;
}

impl<R: Registers> SerialDriver<R> for Uart {
    fn service<L: Line>(&mut self, registers: &mut R, line: &mut L) {
        Uart::service(self, registers, line)
    }
    fn transmitter_empty(&self, registers: &mut R) -> bool {
        Uart::transmitter_empty(self, registers)
    }
    fn statistics(&self) -> UartStatistics {
        Uart::statistics(self)
    }
}

impl<R: crate::pl011::Registers> SerialDriver<R> for crate::pl011::Pl011 {
    fn service<L: Line>(&mut self, registers: &mut R, line: &mut L) {
        crate::pl011::Pl011::service(self, registers, line)
    }
    fn transmitter_empty(&self, registers: &mut R) -> bool {
        crate::pl011::Pl011::transmitter_empty(self, registers)
    }
    fn statistics(&self) -> UartStatistics {
        crate::pl011::Pl011::statistics(self)
    }
}
