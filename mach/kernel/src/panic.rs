//! The panic handler: a kernel bug stops the machine with a clear report.
//!
//! It prints the location and message on the console without taking the
//! console lock, then stops: in a test build it leaves QEMU with the failure
//! status so the test run fails at once instead of timing out.
#![forbid(unsafe_code)]

use core::fmt::Write;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::arch::cpu::disable_interrupts();
    let mut console = crate::klog::emergency_console();
    let _ = write!(console, "\nKERNEL PANIC");
    if let Some(location) = info.location() {
        let _ = write!(console, " at {}:{}", location.file(), location.line());
    }
    let _ = writeln!(console, ": {}", info.message());
    crate::arch::cpu::print_backtrace(&mut console);
    crate::arch::stop_after_fatal_error()
}
