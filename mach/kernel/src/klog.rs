//! The console logger: a `log` backend writing to the architecture's serial
//! console, each line stamped with the uptime, the level and the module.
//!
//! `[    0.012345] INFO  memory::frame: 7936 frames free`
//!
//! `print!`/`println!` write raw text (test output, banners). Both take the
//! console lock; the panic and exception paths use [`emergency_console`]
//! instead, which never waits, so a fault inside a console write still
//! produces its report.

use core::fmt::{self, Write};

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;
static CONSOLE_LOCK: spin::Mutex<()> = spin::Mutex::new(());

struct Console;

impl Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        crate::arch::console::write_str(text);
        Ok(())
    }
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
        let module = record.module_path().map(|path| path.strip_prefix("mach_kernel::").unwrap_or(path)).unwrap_or("?");
        crate::arch::cpu::without_interrupts(|| {
            let _guard = CONSOLE_LOCK.lock();
            let _ = writeln!(
                Console,
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
    crate::arch::cpu::without_interrupts(|| {
        let _guard = CONSOLE_LOCK.lock();
        let _ = Console.write_fmt(arguments);
    });
}

/// A console writer that takes no lock: for the panic handler and exception
/// reports only, where waiting for a lock the dying code may hold would hide
/// the report.
pub fn emergency_console() -> impl Write {
    Console
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
