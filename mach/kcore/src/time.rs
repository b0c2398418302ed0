//! Uptime and the timer tick count, in architecture-neutral terms.
//!
//! The architecture provides a free-running clock (the TSC on x86_64,
//! calibrated against the PIT at boot) and a periodic timer interrupt that
//! calls [`tick`]. Before calibration the clock reads zero.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

static TICKS: AtomicU64 = AtomicU64::new(0);

/// Time since the kernel took over the CPU.
pub fn uptime() -> Duration {
    Duration::from_nanos(crate::arch::timer::nanoseconds_since_kernel_entry())
}

/// Time since the machine was reset (firmware and loader included).
pub fn since_reset() -> Duration {
    Duration::from_nanos(crate::arch::timer::nanoseconds_since_reset())
}

/// Timer interrupts taken since the timer started.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// The timer interrupt rate.
pub fn timer_hz() -> u32 {
    crate::arch::timer::hz()
}

/// How long one tick is, in nanoseconds (0 before the timer starts):
/// `thread_info` reports it beside a thread's ticks, so user space need
/// not measure it.
pub fn tick_nanoseconds() -> u32 {
    match timer_hz() {
        0 => 0,
        hz => 1_000_000_000 / hz,
    }
}

/// Called by the architecture's timer interrupt handler.
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

#[cfg(feature = "ktest")]
// `ktest!` registers each case with a `link_section` static (test_case).
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use crate::{ensure, ktest};

    ktest! {
        fn timer_ticks_advance() {
            let start = ticks();
            let deadline = uptime() + Duration::from_secs(2);
            while ticks() < start + 3 && uptime() < deadline {
                crate::arch::cpu::wait_for_interrupt();
            }
            ensure!(ticks() >= start + 3, "ticks went from {start} to {} in 2 s", ticks());
            Ok(())
        }

        fn ticks_never_outrun_the_clock() {
            // Five ticks span at least four periods whatever the phase. Only
            // the lower bound is a property of the kernel: a loaded host may
            // deliver ticks late, never early. (The TSC and the APIC timer are
            // calibrated separately, hence a few percent of slack.)
            let first = uptime();
            let start_ticks = ticks();
            while ticks() < start_ticks + 5 {
                crate::arch::cpu::wait_for_interrupt();
            }
            let elapsed = uptime() - first;
            let period = Duration::from_micros(1_000_000 / timer_hz() as u64);
            ensure!(elapsed >= period * 4 * 9 / 10, "5 ticks took only {elapsed:?}, a period is {period:?}");
            let mut last = uptime();
            for _ in 0..1000 {
                let now = uptime();
                ensure!(now >= last, "uptime went back from {last:?} to {now:?}");
                last = now;
            }
            Ok(())
        }
    }
}
