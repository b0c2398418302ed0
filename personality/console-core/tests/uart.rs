//! The 16550 driver against a simulated UART: set-up, interrupts for
//! received bytes, the transmit interrupt kept on only while there is
//! something to send, and bounded work on a broken device.

use mach_console_core::simulation::SimulatedUart;
use mach_console_core::uart::{enable, Line, Uart, UartError, TRANSMIT_FIFO};
use std::collections::VecDeque;

#[derive(Default)]
struct TestLine {
    received: Vec<u8>,
    outgoing: VecDeque<u8>,
    stopped: bool,
}

impl Line for TestLine {
    fn received(&mut self, byte: u8) {
        self.received.push(byte);
    }

    fn transmit(&mut self, buffer: &mut [u8]) -> usize {
        if self.stopped {
            return 0;
        }
        let count = buffer.len().min(self.outgoing.len());
        for (slot, byte) in buffer.iter_mut().zip(self.outgoing.drain(..count)) {
            *slot = byte;
        }
        count
    }

    fn wants_to_transmit(&self) -> bool {
        !self.stopped && !self.outgoing.is_empty()
    }
}

/// Runs the interrupt handler for as long as the UART interrupts, letting
/// the transmitter drain in between, as the hardware would.
fn run(uart: &mut Uart, device: &mut SimulatedUart, line: &mut TestLine) {
    for _ in 0..10_000 {
        device.send_to_wire();
        if !device.interrupt_line() {
            return;
        }
        uart.service(device, line);
    }
    panic!("the UART never stopped interrupting");
}

#[test]
fn start_programs_115200_8n1_with_fifos_and_the_interrupt_gate() {
    let mut device = SimulatedUart::new();
    device.type_bytes(b"typed before the server");
    let uart = Uart::start(&mut device).unwrap();
    assert_eq!(device.divisor, 1);
    assert_eq!(device.line_control, 0x03);
    assert!(device.fifo_enabled);
    assert_eq!(device.modem_control & 0x0b, 0x0b, "DTR, RTS and OUT2");
    assert_eq!(device.interrupt_enable, enable::RECEIVED_DATA | enable::LINE_STATUS);
    assert!(device.receive.is_empty(), "what was typed before belongs to nobody");
    assert!(!uart.transmitting());
}

#[test]
fn no_uart_is_found_missing() {
    let mut device = SimulatedUart::new();
    device.absent = true;
    assert_eq!(Uart::start(&mut device).unwrap_err(), UartError::NotPresent);
}

#[test]
fn received_bytes_reach_the_line_on_the_interrupt() {
    let mut device = SimulatedUart::new();
    let mut uart = Uart::start(&mut device).unwrap();
    let mut line = TestLine::default();
    assert!(!device.interrupt_line());
    let text: Vec<u8> = (0..40).map(|index| b'a' + index % 26).collect();
    device.type_bytes(&text);
    assert!(device.interrupt_line());
    run(&mut uart, &mut device, &mut line);
    assert_eq!(line.received, text);
    assert_eq!(uart.statistics().received, 40);
}

#[test]
fn bytes_to_send_go_out_sixteen_at_a_time_on_transmit_interrupts() {
    let mut device = SimulatedUart::new();
    let mut uart = Uart::start(&mut device).unwrap();
    let mut line = TestLine::default();
    let text: Vec<u8> = (0..100).map(|index| b'A' + index % 26).collect();
    line.outgoing.extend(&text);
    // Something gave the line bytes: the server kicks the transmitter.
    uart.service(&mut device, &mut line);
    assert_eq!(device.transmit.len(), TRANSMIT_FIFO);
    assert!(uart.transmitting());
    run(&mut uart, &mut device, &mut line);
    assert_eq!(device.wire, text);
    assert!(!device.transmit_overflow, "never more than the FIFO holds");
    assert!(!uart.transmitting(), "the transmit interrupt is off once all is sent");
    assert_eq!(device.interrupt_enable & enable::TRANSMIT_EMPTY, 0);
    assert!(!device.interrupt_line());
}

#[test]
fn stopped_output_sends_nothing_until_restarted() {
    let mut device = SimulatedUart::new();
    let mut uart = Uart::start(&mut device).unwrap();
    let mut line = TestLine { stopped: true, ..TestLine::default() };
    line.outgoing.extend(b"held back");
    uart.service(&mut device, &mut line);
    run(&mut uart, &mut device, &mut line);
    assert!(device.wire.is_empty());
    assert!(!uart.transmitting(), "no transmit interrupt while stopped");
    line.stopped = false;
    uart.service(&mut device, &mut line);
    run(&mut uart, &mut device, &mut line);
    assert_eq!(device.wire, b"held back");
}

#[test]
fn line_errors_are_counted_and_a_break_is_not_a_key() {
    let mut device = SimulatedUart::new();
    let mut uart = Uart::start(&mut device).unwrap();
    let mut line = TestLine::default();
    device.errors = mach_console_core::uart::status::OVERRUN | mach_console_core::uart::status::FRAMING;
    run(&mut uart, &mut device, &mut line);
    assert_eq!(uart.statistics().overruns, 1);
    assert_eq!(uart.statistics().framing_errors, 1);
    device.errors = mach_console_core::uart::status::BREAK;
    device.type_bytes(&[0]);
    run(&mut uart, &mut device, &mut line);
    assert!(line.received.is_empty());
    assert_eq!(uart.statistics().breaks, 1);
}

#[test]
fn a_device_that_never_stops_interrupting_is_given_up_on_each_time() {
    let mut device = SimulatedUart::new();
    let mut uart = Uart::start(&mut device).unwrap();
    device.stuck = true;
    let before = device.accesses;
    uart.service(&mut device, &mut TestLine::default());
    assert_eq!(uart.statistics().runaway, 1);
    assert!(device.accesses - before < 300, "bounded work: {} register accesses", device.accesses - before);
}

#[test]
fn an_idle_interrupt_costs_a_handful_of_register_accesses() {
    let mut device = SimulatedUart::new();
    let mut uart = Uart::start(&mut device).unwrap();
    let before = device.accesses;
    uart.service(&mut device, &mut TestLine::default());
    assert!(device.accesses - before <= 4, "{} accesses: something polls", device.accesses - before);
}
