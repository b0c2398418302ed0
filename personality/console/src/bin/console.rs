//! The console server: takes the serial line (COM1 on x86_64, the virt
//! board's PL011 on aarch64) from the kernel and serves it as a terminal.
//! docs/console.md has the design.
//!
//! Started by the bootstrap task from a manifest line with `host-port`
//! (interrupts and the kernel log need it; on aarch64 also the PL011's
//! register page) and, on x86_64, `io-ports=0x3f8-0x3ff`, it
//!
//! 1. starts the UART (and gives up, saying why, if there is none);
//! 2. binds its interrupt line (IRQ 4; the PL011's line 1) to its
//!    interrupt port;
//! 3. takes the serial line from the kernel (`kernel_log_handover`): from
//!    here on the kernel's log reaches the screen through this server;
//! 4. registers `console` and serves it, the open terminals, the
//!    interrupts and the log notices on one port set, in one thread.
#![no_std]
#![no_main]

extern crate alloc;

use libmach::abi::{MachMsgReturn, PortName};
use libmach::kernel_log;
use libmach::server::{handle_one_with, ServeOptions};
use libmach::trap::clock_get_time;
use libmach::{println, PortSet, ReceiveRight, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use mach_console::{ConsoleServer, LogLines, Machine};
use mach_console_core::console::JobControlOutcome;
use personality_interfaces::{device, io, proc, tty};

/// Request and reply buffers: the largest message of the interfaces served.
const BUFFER_SIZE: usize = max(io::BUFFER_SIZE, max(device::BUFFER_SIZE, tty::BUFFER_SIZE));

const fn max(first: usize, second: usize) -> usize {
    if first > second {
        first
    } else {
        second
    }
}

libmach::entry!(main);

#[path = "../heap.rs"]
mod heap;

/// Terminal state, waiting requests and their data: a few hundred KiB at
/// most (the core bounds its waits and queues).
const HEAP_SIZE: u64 = 4 * 1024 * 1024;

/// The board's serial line: COM1 (a 16550) through the I/O ports the
/// manifest grants.
#[cfg(target_arch = "x86_64")]
mod board {
    pub use mach_console::{COM1_BASE as BASE, COM1_INTERRUPT as INTERRUPT};
    pub use mach_console_core::uart::Uart as Driver;

    /// The PC's COM1 is where it always is.
    pub fn locate() -> Result<super::Location, &'static str> {
        Ok(super::Location { address: u64::from(BASE), interrupt: INTERRUPT })
    }

    pub fn describe(_location: &super::Location) -> alloc::string::String {
        alloc::string::String::from("COM1, IRQ 4")
    }

    /// Nothing to map: the registers are I/O ports.
    pub struct Registers;

    pub fn map(
        _host: libmach::abi::PortName,
        _location: &super::Location,
    ) -> Result<Registers, libmach::abi::KernReturn> {
        Ok(Registers)
    }

    impl mach_console_core::uart::Registers for super::Serial {
        fn read(&mut self, offset: u16) -> u8 {
            libmach::device::port_read_u8(BASE + offset)
        }

        fn write(&mut self, offset: u16, value: u8) {
            libmach::device::port_write_u8(BASE + offset, value);
        }
    }

    pub fn start(serial: &mut super::Serial) -> Result<Driver, mach_console_core::uart::UartError> {
        Driver::start(serial)
    }
}

/// The board's serial line: the PL011 the kernel found in the device tree
/// (the bootstrap task tells us its address and line, `AT_MACH_DEVICE`),
/// its register page mapped with the host port.
#[cfg(target_arch = "aarch64")]
mod board {
    use libmach::abi::{BOOT_DEVICE_NO_LINE, BOOT_DEVICE_UART};
    pub use mach_console_core::pl011::Pl011 as Driver;

    pub fn locate() -> Result<super::Location, &'static str> {
        let uart = libmach::runtime::device(BOOT_DEVICE_UART)
            .ok_or("the bootstrap task names no UART (no AT_MACH_DEVICE entry for one: none in the device tree?)")?;
        if uart.line == BOOT_DEVICE_NO_LINE {
            return Err("the device tree gives the UART no interrupt line");
        }
        Ok(super::Location { address: uart.address, interrupt: uart.line })
    }

    pub fn describe(location: &super::Location) -> alloc::string::String {
        alloc::format!("PL011 at {:#x}, line {}", location.address, location.interrupt)
    }

    pub type Registers = libmach::device::DeviceMemory;

    /// The page that holds the registers; the driver's offsets are from
    /// the register block's start.
    pub fn map(
        host: libmach::abi::PortName,
        location: &super::Location,
    ) -> Result<Registers, libmach::abi::KernReturn> {
        if !location.address.is_multiple_of(4096) {
            return Err(libmach::abi::KernReturn::InvalidArgument);
        }
        libmach::device::map_memory(host, location.address, 4096)
    }

    impl mach_console_core::pl011::Registers for super::Serial {
        // The offsets are the driver's constants, inside the page: an
        // access cannot fail.
        fn read(&mut self, offset: usize) -> u32 {
            self.registers.read_u32(offset).unwrap_or(0)
        }

        fn write(&mut self, offset: usize, value: u32) {
            let _ = self.registers.write_u32(offset, value);
        }
    }

    pub fn start(serial: &mut super::Serial) -> Result<Driver, mach_console_core::uart::UartError> {
        Driver::start(serial)
    }
}

/// Where the board's UART is: its registers' address (an I/O port on
/// x86_64) and its interrupt line.
struct Location {
    address: u64,
    interrupt: u32,
}

/// The board's UART, the interrupt line and the kernel log through the
/// host port, and the process server once it has registered.
struct Serial {
    host: PortName,
    interrupt: u32,
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    registers: board::Registers,
    names: Option<names::Client>,
    proc: Option<proc::Client<SystemKernel>>,
}

/// The longest the console (one thread: every terminal waits meanwhile)
/// waits for the process server's answer.
const PROCESS_SERVER_TIMEOUT_MS: u32 = 2000;

impl Serial {
    /// The process server's public port (`proc`), looked up once it has
    /// registered: it starts after the console, which it needs.
    fn process_server(&mut self) -> Option<&mut proc::Client<SystemKernel>> {
        if self.proc.is_none() {
            let right = self.names.as_mut()?.lookup("proc").ok()?;
            let mut client = proc::Client::new(&SystemKernel, right).ok()?;
            client.set_timeout(Some(PROCESS_SERVER_TIMEOUT_MS));
            println!("console: signals and job control go to the process server from now on");
            self.proc = Some(client);
        }
        self.proc.as_mut()
    }

    /// `error` from a call to the process server: an interface error is its
    /// answer; a failed exchange (timed out, server gone) leaves none, and
    /// the process server is looked up again next time.
    fn answer<T>(&mut self, result: Result<T, libmach::CallError<proc::Error>>) -> Option<Result<T, proc::Error>> {
        match result {
            Ok(value) => Some(Ok(value)),
            Err(libmach::CallError::Interface(error)) => Some(Err(error)),
            Err(libmach::CallError::Rpc(error)) => {
                println!("console: the process server did not answer ({error:?})");
                self.proc = None;
                None
            }
        }
    }
}

impl Machine for Serial {
    fn acknowledge_interrupt(&mut self) {
        if let Err(error) = libmach::device::interrupt_acknowledge(self.host, self.interrupt) {
            println!("console: cannot acknowledge interrupt {}: {error:?}", self.interrupt);
        }
    }

    fn read_kernel_log(&mut self, buffer: &mut [u8], sequence: u64) -> Result<LogLines, libmach::abi::KernReturn> {
        let read = kernel_log::read(self.host, buffer, sequence)?;
        Ok(LogLines { first: read.first, next: read.next, length: read.length })
    }

    fn report(&mut self, line: core::fmt::Arguments) {
        println!("{line}");
    }

    fn signal_group(&mut self, group: u32, signal: u32) -> Option<bool> {
        let result = self.process_server()?.signal_group(group as i32, signal as i32);
        // ESRCH: the group ended meanwhile (a hang-up after its leader
        // left): the signal has nobody to reach.
        self.answer(result).map(|answer| matches!(answer, Ok(()) | Err(proc::Error::Esrch)))
    }

    fn job_control(&mut self, pid: u32, group: u32, signal: u32) -> Option<JobControlOutcome> {
        let result = self.process_server()?.job_control(pid as i32, group as i32, signal as i32);
        Some(match self.answer(result)? {
            Ok(0) => JobControlOutcome::Signalled,
            Ok(1) => JobControlOutcome::IgnoredOrBlocked,
            // Orphaned (2), or the process or group is gone: EIO.
            Ok(_) | Err(_) => JobControlOutcome::Orphaned,
        })
    }

    fn group_in_session(&mut self, group: u32, session: u32) -> Option<bool> {
        let result = self.process_server()?.group_in_session(group as i32, session as i32);
        Some(self.answer(result)?.unwrap_or(false))
    }
}

/// Milliseconds since the kernel started.
fn now() -> u64 {
    clock_get_time().map(|nanoseconds| nanoseconds / 1_000_000).unwrap_or(0)
}

/// A receive right in `set` with a send right of ours to it (for the
/// kernel to send to).
fn port_in(
    set: &PortSet<SystemKernel>,
) -> Result<(ReceiveRight<SystemKernel>, SendRight<SystemKernel>), libmach::abi::KernReturn> {
    let port = ReceiveRight::allocate(&SystemKernel)?;
    let send = port.make_send()?;
    set.insert(&port)?;
    Ok((port, send))
}

fn main(bootstrap_port: u64) {
    let kernel = SystemKernel;
    if let Err(error) = heap::init(HEAP_SIZE) {
        println!("console: no memory for a heap: {error:?}");
        return;
    }
    let Some(host) = libmach::runtime::host_port() else {
        println!("console: started without the host port (its manifest line needs host-port)");
        return;
    };
    let names = names::Client::new(&kernel, SendRight::from_name(&kernel, bootstrap_port as PortName))
        .inspect_err(|error| println!("console: no client of the name service: {error:?}"))
        .ok();
    let location = match board::locate() {
        Ok(location) => location,
        Err(reason) => {
            println!("console: no serial line to serve: {reason}; the kernel keeps the serial line");
            return;
        }
    };
    let (base, interrupt) = (location.address, location.interrupt);
    let registers = match board::map(host, &location) {
        Ok(registers) => registers,
        Err(error) => {
            println!("console: cannot map the UART at {base:#x}: {error:?}; the kernel keeps the serial line");
            return;
        }
    };
    let mut serial = Serial { host, interrupt, registers, names, proc: None };
    let uart = match board::start(&mut serial) {
        Ok(uart) => uart,
        Err(error) => {
            println!("console: no UART at {base:#x}: {error:?}; the kernel keeps the serial line");
            return;
        }
    };
    let Ok(set) = PortSet::allocate(&kernel) else {
        println!("console: no port set");
        return;
    };
    let (Ok((service, service_send)), Ok((interrupts, interrupt_send)), Ok((log, log_send))) =
        (port_in(&set), port_in(&set), port_in(&set))
    else {
        println!("console: no ports");
        return;
    };
    if let Err(error) = libmach::device::interrupt_bind(host, interrupt, interrupt_send.name()) {
        println!("console: cannot bind interrupt {interrupt}: {error:?}; the kernel keeps the serial line");
        return;
    }
    let sequence = match kernel_log::handover(host, log_send.name()) {
        Ok(sequence) => sequence,
        Err(error) => {
            println!("console: the kernel did not hand over the serial line: {error:?}");
            let _ = libmach::device::interrupt_bind(host, interrupt, 0);
            return;
        }
    };
    let mut server = match ConsoleServer::new(kernel, set, uart, serial, sequence) {
        Ok(server) => server,
        Err(error) => {
            println!("console: cannot start serving: {error:?}");
            return;
        }
    };
    // The one client of the name service (it owns the bootstrap port's
    // send right): it registers `console` now and finds `proc` later.
    let registered = match server.machine_mut().names.as_mut() {
        Some(names) => names.register_name("console", &service_send).map_err(|error| alloc::format!("{error:?}")),
        None => Err(alloc::string::String::from("no name service client")),
    };
    if let Err(error) = registered {
        println!("console: cannot register `console`: {error}");
        return;
    }
    println!("console: serving the serial line ({}) from kernel log line {sequence}", board::describe(&location));
    // The ports stay ours for the life of the task.
    let _ports = (service, interrupts, log, interrupt_send, log_send);
    let mut request = libmach::trap::MessageBuffer::<BUFFER_SIZE>::new();
    let mut reply = libmach::trap::MessageBuffer::<BUFFER_SIZE>::new();
    server.after_event(now());
    loop {
        let timeout = server.receive_timeout(now());
        let set_name = server.set_name();
        let received = handle_one_with(
            &kernel,
            set_name,
            // Every request carries its sender's credential: job control and
            // controlling terminals are decided with it.
            ServeOptions { audit: true },
            &mut request.0,
            &mut reply.0,
            timeout,
            &mut |request: &[u8], reply: &mut [u8]| server.handle(request, reply),
        );
        match received {
            Ok(_) | Err(MachMsgReturn::ReceiveTimedOut) | Err(MachMsgReturn::ReceiveInterrupted) => {}
            Err(error) => {
                println!("console: receiving failed: {error:?}; stopping");
                return;
            }
        }
        server.after_event(now());
    }
}
