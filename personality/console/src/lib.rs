//! The console server's transport: messages in, calls into the core
//! ([`mach_console_core::Console`]), replies and UART register accesses out.
//!
//! One thread serves everything on one port set:
//!
//! - the port registered as `console`: `device.defs`'s `open` (what the
//!   file server forwards when a process opens /dev/console, /dev/tty or
//!   /dev/ttyS0) and `tty.defs` (the process server's `session_ended`);
//! - one port per open terminal: `io.defs` (every request on an open
//!   object, the terminal ones included: [`io_server`]), and its
//!   no-senders notification, which closes it;
//! - the UART's interrupt (`INTERRUPT_MESSAGE_ID` from the kernel): the
//!   driver runs, then the line is acknowledged;
//! - the kernel's "new log lines" notice (`KERNEL_LOG_MESSAGE_ID`);
//! - dead-name notifications of kept reply rights: a client that gave up
//!   (an interrupted call) is forgotten at once, nothing taken for it.
//!
//! After every message [`ConsoleServer::after_event`] delivers what waiting
//! requests can now get (each committed in the core only once the reply
//! went through), shows kernel log lines where the screen allows, starts
//! the transmitter, and reports the signals the terminal asked for. The
//! loop receives with a timeout when a read waits on a `VTIME` timer.
//!
//! The hardware and the kernel's log traps are behind [`Machine`], so this
//! runs on the host with libmach's fake kernel and a simulated UART.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

use alloc::collections::BTreeMap;
use alloc::vec;
use libmach::abi::{parse_received, KernReturn, MachMsgHeader, PortName, INTERRUPT_MESSAGE_ID, KERNEL_LOG_MESSAGE_ID};
use libmach::kernel::PortKernel;
use libmach::message::OutOfLineData;
use libmach::notify::Notification;
use libmach::request::Context;
use libmach::rights::{PortSet, ReceiveRight, SendRight};
use libmach::server::Dispatch;
use libmach::BoundedBytes;
use mach_console_core::console::JobControlOutcome;
use mach_console_core::uart::{SerialDriver, Uart};
use mach_console_core::{Caller, Completion, Console, Errno, Outgoing, Unit, WaitId};
use personality_interfaces::{device, io, tty};

mod device_server;
pub mod io_server;

/// The UART's interrupt line on a PC (COM1: IRQ 4).
pub const COM1_INTERRUPT: u32 = 4;
/// COM1's first I/O port.
pub const COM1_BASE: u16 = 0x3f8;

/// What the server needs of the machine besides messages (and the UART's
/// registers, which its [`SerialDriver`] reaches through it).
pub trait Machine {
    /// Unmasks the UART's interrupt line once it has been served.
    fn acknowledge_interrupt(&mut self);
    /// `kernel_log_read`: the kernel log's lines from `sequence` on.
    fn read_kernel_log(&mut self, buffer: &mut [u8], sequence: u64) -> Result<LogLines, KernReturn>;
    /// Prints a line of the server's own log (into the kernel log).
    fn report(&mut self, line: core::fmt::Arguments);

    // The process server (`proc.defs`'s server routines). The console
    // starts before it, so each answers `None` while there is none to ask
    // (or it did not answer): the caller then refuses loudly.

    /// `signal_group`: `signal` (its number) to process group `group`;
    /// `Some(false)` if the process server refused it (a group that ended
    /// meanwhile is not a refusal: the signal has nobody to reach).
    fn signal_group(&mut self, group: u32, signal: u32) -> Option<bool>;
    /// `job_control`: process `pid` of group `group` used the terminal from
    /// the background; what the process server did about `signal`.
    fn job_control(&mut self, pid: u32, group: u32, signal: u32) -> Option<JobControlOutcome>;
    /// `group_in_session`: is `group` a process group of `session`?
    fn group_in_session(&mut self, group: u32, session: u32) -> Option<bool>;
}

/// What a kernel log read copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogLines {
    /// Sequence of the first line copied.
    pub first: u64,
    /// Sequence to ask for next.
    pub next: u64,
    /// Bytes copied.
    pub length: usize,
}

/// A kept reply right, of the routine whose answer it carries.
enum Pending<K: PortKernel> {
    Read(io::PendingRead<K>),
    ReadLarge(io::PendingReadLarge<K>),
    Write(io::PendingWrite<K>),
    WriteLarge(io::PendingWriteLarge<K>),
    SetAttributes(io::PendingSetTerminalAttributes<K>),
    Drain(io::PendingTerminalDrain<K>),
    Poll(io::PendingPoll<K>),
}

impl<K: PortKernel> Pending<K> {
    fn reply_name(&self) -> PortName {
        match self {
            Pending::Read(pending) => pending.reply_right().name(),
            Pending::ReadLarge(pending) => pending.reply_right().name(),
            Pending::Write(pending) => pending.reply_right().name(),
            Pending::WriteLarge(pending) => pending.reply_right().name(),
            Pending::SetAttributes(pending) => pending.reply_right().name(),
            Pending::Drain(pending) => pending.reply_right().name(),
            Pending::Poll(pending) => pending.reply_right().name(),
        }
    }

    /// Sends `completion`; true if the client got it.
    fn answer(self, kernel: &K, completion: Completion) -> bool {
        match (self, completion) {
            (Pending::Read(pending), Completion::Read(result)) => pending
                .send(
                    result
                        .map_err(error)
                        .and_then(|data| BoundedBytes::from_slice(&data).ok_or(io::Error::InvalidArgument)),
                )
                .is_ok(),
            (Pending::ReadLarge(pending), Completion::Read(result)) => {
                pending.send(result.map_err(error).and_then(|data| out_of_line(kernel, &data))).is_ok()
            }
            (Pending::Write(pending), Completion::Write(result)) => {
                pending.send(result.map(|count| count as u32).map_err(error)).is_ok()
            }
            (Pending::WriteLarge(pending), Completion::Write(result)) => {
                pending.send(result.map(|count| count as u32).map_err(error)).is_ok()
            }
            (Pending::SetAttributes(pending), Completion::Done(result)) => pending.send(result.map_err(error)).is_ok(),
            (Pending::Drain(pending), Completion::Done(result)) => pending.send(result.map_err(error)).is_ok(),
            (Pending::Poll(pending), Completion::Poll(result)) => pending.send(result.map_err(error)).is_ok(),
            // A completion of another kind than the request: a core bug;
            // dropping the right ends the client's call (ServerDied).
            _ => false,
        }
    }
}

/// `data` in fresh pages, to move to the client.
fn out_of_line<K: PortKernel>(kernel: &K, data: &[u8]) -> Result<OutOfLineData<K>, io::Error> {
    let mut region = OutOfLineData::allocate(kernel, data.len() as u32).map_err(|_| io::Error::OutOfMemory)?;
    region.bytes_mut()[..data.len()].copy_from_slice(data);
    Ok(region)
}

/// The interface's error for a core error (the same errno numbers).
pub fn error(errno: Errno) -> io::Error {
    match errno {
        Errno::NotPermitted => io::Error::NotPermitted,
        Errno::Interrupted => io::Error::Interrupted,
        Errno::InputOutput => io::Error::InputOutput,
        Errno::NoSuchDevice => io::Error::NoSuchDeviceOrAddress,
        Errno::BadFile => io::Error::BadDescriptor,
        Errno::WouldBlock => io::Error::WouldBlock,
        Errno::InvalidArgument => io::Error::InvalidArgument,
        Errno::TooManyOpenFiles => io::Error::TooManyOpenFiles,
        Errno::NotTerminal => io::Error::NotATerminal,
    }
}

/// Who sent the request: its audited credential; a request without one
/// (the loop did not ask for the audit trailer) is a server's.
fn caller<K: PortKernel>(context: &Context<'_, K>) -> Caller {
    context.credential().map(|credential| Caller::from(&credential)).unwrap_or(Caller::SERVER)
}

/// The server: the core, the UART, and the ports.
pub struct ConsoleServer<K: PortKernel, M: Machine, U = Uart> {
    kernel: K,
    core: Console,
    uart: U,
    machine: M,
    set: PortSet<K>,
    /// Where dead-name notifications of kept reply rights arrive.
    notify: ReceiveRight<K>,
    terminals: BTreeMap<PortName, ReceiveRight<K>>,
    pending: BTreeMap<WaitId, Pending<K>>,
    /// The next kernel log line to show.
    log_sequence: u64,
    /// An interrupt message came: the UART needs serving and the line
    /// acknowledging.
    interrupted: bool,
    /// Signals reported in the log so far.
    signals_reported: u64,
}

impl<K: PortKernel, M: Machine, U: SerialDriver<M>> ConsoleServer<K, M, U> {
    /// A server on `set` (which holds the service, interrupt and log ports
    /// already), with the UART started, showing kernel log lines from
    /// `log_sequence` on.
    pub fn new(kernel: K, set: PortSet<K>, uart: U, machine: M, log_sequence: u64) -> Result<Self, KernReturn> {
        let notify = ReceiveRight::allocate(&kernel)?;
        set.insert(&notify)?;
        let mut core = Console::new();
        // Lines may have come between the hand-over and now.
        core.kernel_log_waiting();
        Ok(ConsoleServer {
            kernel,
            core,
            uart,
            machine,
            set,
            notify,
            terminals: BTreeMap::new(),
            pending: BTreeMap::new(),
            log_sequence,
            interrupted: false,
            signals_reported: 0,
        })
    }

    /// The core, for inspection.
    pub fn core(&self) -> &Console {
        &self.core
    }

    /// The machine (registers and traps).
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// The port set to receive on.
    pub fn set_name(&self) -> PortName {
        self.set.name()
    }

    /// Handles one received message into `reply`: the interface, the
    /// kernel's notifications, interrupts and log notices.
    pub fn handle(&mut self, request: &[u8], reply: &mut [u8]) -> Dispatch {
        let kernel = self.kernel.clone();
        io::dispatch(self, &kernel, request, reply)
            .or_else(|| device::dispatch(self, &kernel, request, reply))
            .or_else(|| tty::dispatch(self, &kernel, request, reply))
            .or_else(|| {
                let mut notification = None;
                let dispatched = libmach::notify::dispatch(&kernel, request, |received| notification = Some(received));
                if let Some(received) = notification {
                    self.notified(received);
                }
                dispatched
            })
            .or_else(|| self.kernel_message(request))
    }

    /// An interrupt or a log notice (from the kernel only).
    fn kernel_message(&mut self, request: &[u8]) -> Dispatch {
        let Some(header) = MachMsgHeader::read_from(request) else { return Dispatch::UnknownId };
        if header.id != INTERRUPT_MESSAGE_ID && header.id != KERNEL_LOG_MESSAGE_ID {
            return Dispatch::UnknownId;
        }
        let Ok((view, trailer)) = parse_received(request) else { return Dispatch::UnknownId };
        if trailer.sender != 0 || view.descriptor_count() != 0 {
            return Dispatch::UnknownId;
        }
        if header.id == INTERRUPT_MESSAGE_ID {
            self.uart_interrupted();
        } else {
            self.kernel_log_waiting();
        }
        Dispatch::NoReply
    }

    /// The kernel has new log lines: [`ConsoleServer::after_event`] shows
    /// them when the screen allows.
    pub fn kernel_log_waiting(&mut self) {
        self.core.kernel_log_waiting();
    }

    /// The UART interrupted: [`ConsoleServer::after_event`] serves it and
    /// acknowledges the line.
    pub fn uart_interrupted(&mut self) {
        self.interrupted = true;
    }

    fn notified(&mut self, notification: Notification<K>) {
        match notification {
            Notification::NoSenders { port, .. } => {
                if self.terminals.remove(&port).is_some() {
                    self.core.close(port as u64);
                }
            }
            Notification::DeadName { name } => {
                let abandoned: alloc::vec::Vec<WaitId> = self
                    .pending
                    .iter()
                    .filter(|(_, pending)| pending.reply_name() == name)
                    .map(|(&wait, _)| wait)
                    .collect();
                for wait in abandoned {
                    self.pending.remove(&wait);
                    self.core.abandon(wait);
                }
            }
            Notification::PortDeleted { .. } | Notification::PortDestroyed { .. } | Notification::SendOnce { .. } => {}
        }
    }

    /// Keeps `pending` for `wait`, asking to hear if its client gives up.
    fn keep(&mut self, wait: WaitId, pending: Option<Pending<K>>) -> Result<(), io::Error> {
        let Some(pending) = pending else {
            // No reply right (a request without a reply port is not even
            // dispatched): nobody can get the answer.
            self.core.abandon(wait);
            return Err(io::Error::InvalidArgument);
        };
        let _ = libmach::notify::request(
            &self.kernel,
            pending.reply_name(),
            libmach::abi::NotifyId::DeadName,
            0,
            self.notify.name(),
            libmach::abi::Disposition::MakeSendOnce,
        );
        self.pending.insert(wait, pending);
        Ok(())
    }

    /// Milliseconds to wait for the next message at most (`None`: for ever).
    pub fn receive_timeout(&self, now: u64) -> Option<u32> {
        let timer =
            self.core.next_deadline().map(|deadline| deadline.saturating_sub(now).clamp(1, u32::MAX as u64) as u32);
        if self.core.waits_for_transmitter() {
            // The UART does not interrupt when its shift register empties.
            return Some(timer.map_or(1, |timer| timer.min(1)));
        }
        timer
    }

    /// Everything that follows a message (or a timeout) at time `now` (ms).
    pub fn after_event(&mut self, now: u64) {
        self.core.set_time(now);
        if core::mem::take(&mut self.interrupted) {
            self.uart.service(&mut self.machine, &mut self.core);
            self.machine.acknowledge_interrupt();
        }
        self.deliver();
        self.show_kernel_log();
        self.uart.service(&mut self.machine, &mut self.core);
        let empty = self.uart.transmitter_empty(&mut self.machine);
        self.core.set_transmitter_empty(empty);
        self.deliver();
        self.report();
    }

    /// Answers every waiting request that can finish now.
    fn deliver(&mut self) {
        while let Some(offer) = self.core.next_offer() {
            let delivered = match self.pending.remove(&offer.wait) {
                Some(pending) => pending.answer(&self.kernel, offer.completion),
                None => false,
            };
            self.core.finish(offer.wait, delivered);
        }
    }

    fn show_kernel_log(&mut self) {
        while let Some(room) = self.core.kernel_log_wanted() {
            let mut buffer = vec![0u8; room];
            match self.machine.read_kernel_log(&mut buffer, self.log_sequence) {
                Ok(read) => {
                    let lost = read.first.saturating_sub(self.log_sequence);
                    self.core.show_kernel_lines(&buffer[..read.length], lost);
                    self.log_sequence = read.next;
                    if read.length == 0 {
                        return;
                    }
                }
                Err(error) => {
                    // Nothing more can be shown: say so once, stop asking.
                    self.core.show_kernel_lines(b"", 0);
                    self.machine.report(format_args!("console: cannot read the kernel log: {error:?}"));
                    return;
                }
            }
        }
    }

    /// Sends what the terminal asks of the process server (signals for
    /// groups, job control, tcsetpgrp's checks) and answers the requests
    /// waiting on it. Without a process server (it starts after the
    /// console) signals are recorded and logged, and job-control questions
    /// are answered at once as refusals, so nothing waits for an answer
    /// that will not come.
    fn report(&mut self) {
        let records: alloc::vec::Vec<_> = self.core.signals_recorded_since(self.signals_reported).copied().collect();
        self.signals_reported = self.core.signals_recorded_total();
        for record in records {
            if record.group.is_none() {
                self.machine.report(format_args!(
                    "console: {} ({}): the terminal has no foreground process group",
                    record.signal.name(),
                    record.signal.number()
                ));
            }
        }
        if self.ask_process_server() {
            self.deliver();
        }
    }

    /// Sends what the core asks of the process server. True if a waiting
    /// request got its answer.
    fn ask_process_server(&mut self) -> bool {
        let mut answered = false;
        for request in self.core.take_outgoing() {
            match request {
                Outgoing::SignalGroup { group, signal } => match self.machine.signal_group(group, signal.number()) {
                    Some(true) => {}
                    Some(false) => self.machine.report(format_args!(
                        "console: {} ({}) for process group {group}: the process server refused it",
                        signal.name(),
                        signal.number()
                    )),
                    None => self.machine.report(format_args!(
                        "console: {} ({}) for process group {group} recorded (no process server yet)",
                        signal.name(),
                        signal.number()
                    )),
                },
                Outgoing::JobControl { request, pid, group, signal } => {
                    let outcome = match self.machine.job_control(pid, group, signal.number()) {
                        Some(outcome) => outcome,
                        None => {
                            self.machine.report(format_args!(
                                "console: process {pid} used its terminal from the background; no process server to send {} to: refused",
                                signal.name()
                            ));
                            JobControlOutcome::Orphaned
                        }
                    };
                    self.core.job_control_outcome(request, outcome);
                    answered = true;
                }
                Outgoing::GroupInSession { request, group, session } => {
                    let member = match self.machine.group_in_session(group, session) {
                        Some(member) => member,
                        None => {
                            self.machine.report(format_args!(
                                "console: no process server to check process group {group}: refused"
                            ));
                            false
                        }
                    };
                    self.core.group_in_session(request, member);
                    answered = true;
                }
            }
        }
        answered
    }

    fn handle_of(context: &Context<'_, K>) -> u64 {
        context.port() as u64
    }

    /// Opens `unit` for `opener` as a new port; a send right to it.
    fn open_terminal(&mut self, unit: Unit, flags: u32, opener: &Caller) -> Result<SendRight<K>, Errno> {
        let port = ReceiveRight::allocate(&self.kernel).map_err(|_| Errno::WouldBlock)?;
        let send = port.make_send().map_err(|_| Errno::WouldBlock)?;
        port.request_no_senders(1).map_err(|_| Errno::WouldBlock)?;
        self.set.insert(&port).map_err(|_| Errno::WouldBlock)?;
        self.core.open(port.name() as u64, unit, flags, opener)?;
        self.terminals.insert(port.name(), port);
        Ok(send)
    }
}

#[cfg(test)]
mod tests;
