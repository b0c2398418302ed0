//! The kernel log: its ring, its channels, `print!` and the logger.
//!
//! Log records are stamped with the uptime, the level and the module
//! (`[    0.012345] INFO  memory::frame: 7936 frames free`); `print!` and
//! `println!` write raw text (test output, banners, `debug_print` lines).
//! All of it goes to three places:
//!
//! 1. the **ring** ([`mach_klog::LogRing`], [`LOG_RING_SIZE`] bytes):
//!    numbered lines that the kernel crate's log traps (its `klog`:
//!    `kernel_log_read`, `kernel_log_handover`) give to whoever holds the
//!    privileged host port: the console server, `dmesg`;
//! 2. the **debug console** (port 0xe9, `-debugcon`): always, from the
//!    first line to a panic. Test kernels and the scripts read it;
//! 3. the **serial line**, while [`SERIAL`] says the kernel holds it (the
//!    console server takes it with `kernel_log_handover`; the kernel
//!    crate's `klog` keeps who holds it and gives it back).
//!
//! Panics and kernel exception reports go through [`emergency_console`]:
//! the debug console and the serial line, always, taking no lock.
//!
//! This part is the core's: it works from the first line of the boot,
//! before the kernel's objects exist, and from any context that does not
//! hold [`CONSOLE`]. Locks, always in this order: the kernel objects
//! (`with_kernel`), then the holder of the serial line (kernel crate),
//! then [`CONSOLE`]. Nothing logs while holding `CONSOLE`.
#![deny(unsafe_code)]

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};
use mach_klog::LogRing;

/// Bytes of the ring: a few hundred lines of a normal boot.
pub const LOG_RING_SIZE: usize = 64 * 1024;

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

/// The ring. A static, not part of the kernel objects: the log works from
/// the first line of the boot, long before they exist, and from any
/// context that does not hold this lock.
pub static CONSOLE: spin::Mutex<LogRing<LOG_RING_SIZE>> = spin::Mutex::new(LogRing::new());
/// True while the kernel writes to the serial line (changed only under `CONSOLE`).
pub static SERIAL: AtomicBool = AtomicBool::new(true);
/// A line was completed while the serial line is handed over and the
/// holder has not been told yet (set under `CONSOLE`).
pub static NEW_LINES: AtomicBool = AtomicBool::new(false);

struct Console<'a> {
    ring: &'a mut LogRing<LOG_RING_SIZE>,
}

impl Write for Console<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        crate::arch::console::write_debug_console(text);
        let serial = SERIAL.load(Ordering::Relaxed);
        if serial {
            crate::arch::console::write_serial(text);
        }
        let before = self.ring.next_sequence();
        self.ring.write(text.as_bytes());
        if !serial && self.ring.next_sequence() != before {
            NEW_LINES.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Runs `write` on the console with its lock held and interrupts off.
fn with_console(write: impl FnOnce(&mut Console)) {
    crate::arch::cpu::without_interrupts(|| {
        let mut ring = CONSOLE.lock();
        write(&mut Console { ring: &mut ring });
    });
}

impl log::Log for ConsoleLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let uptime = crate::time::uptime();
        // The module inside its crate: `memory::frame`, `scheduler`; a
        // crate's root keeps the crate's name (`mach_kernel: ready`).
        let module = record
            .module_path()
            .map(|path| {
                ["mach_kernel::", "mach_kcore::"]
                    .iter()
                    .fold(path, |path, crate_name| path.strip_prefix(crate_name).unwrap_or(path))
            })
            .unwrap_or("?");
        with_console(|console| {
            let _ = writeln!(
                console,
                "[{:5}.{:06}] {:5} {}: {}",
                uptime.as_secs(),
                uptime.subsec_micros(),
                record.level(),
                module,
                record.args()
            );
        });
    }

    fn flush(&self) {}
}

/// Installs the logger with the level the command line asks for.
pub fn init(level: log::LevelFilter) {
    // A second call keeps the first logger; only the level changes.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

#[doc(hidden)]
pub fn print(arguments: fmt::Arguments) {
    with_console(|console| {
        let _ = console.write_fmt(arguments);
    });
}

/// The channels a dying kernel reports on: the debug console and the
/// serial line (whoever holds it: the report matters more), without any
/// lock, since the dying code may hold one. Not kept in the ring.
struct EmergencyConsole;

impl Write for EmergencyConsole {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        crate::arch::console::write_debug_console(text);
        crate::arch::console::write_serial(text);
        Ok(())
    }
}

/// A console writer that takes no lock: for the panic handler and exception
/// reports only, where waiting for a lock the dying code may hold would hide
/// the report.
pub fn emergency_console() -> impl Write {
    EmergencyConsole
}

#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => { $crate::klog::print(format_args!($($argument)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($argument:tt)*) => { $crate::klog::print(format_args!("{}\n", format_args!($($argument)*))) };
}

/// True while the kernel writes its log to the serial line (nobody took
/// it over, or the holder gave it back or ended).
pub fn kernel_writes_to_serial() -> bool {
    SERIAL.load(Ordering::Relaxed)
}

#[cfg(feature = "ktest")]
// `ktest!` registers each case with a `link_section` static (test_case).
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use crate::{ensure_eq, ktest};
    use mach_abi::KERNEL_LOG_LINE_MAX;

    ktest! {
        fn every_printed_line_lands_in_the_ring() {
            let before = crate::arch::cpu::without_interrupts(|| CONSOLE.lock().next_sequence());
            crate::println!("klog test: one");
            crate::println!("klog test: two");
            let (read, text) = crate::arch::cpu::without_interrupts(|| {
                let ring = CONSOLE.lock();
                let mut buffer = [0u8; 2 * KERNEL_LOG_LINE_MAX];
                let read = ring.read(before, &mut buffer).expect("lines were written");
                (read, alloc::string::String::from_utf8_lossy(&buffer[..read.length]).into_owned())
            });
            ensure_eq!(read.next - read.first, 2);
            ensure_eq!(text.as_str(), "klog test: one\nklog test: two\n");
            Ok(())
        }
    }
}
