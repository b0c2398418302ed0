//! Time on aarch64: the generic timer's virtual counter as the clock, its
//! EL1 virtual timer as the tick, and the PMU cycle counter for benchmarks.
//!
//! The counter's frequency is in CNTFRQ_EL0 (QEMU: 62.5 MHz), so nothing
//! needs calibrating. The tick reprograms the compare value one period
//! after the previous deadline, so it does not drift. Under `-icount` the
//! counter and the timer advance with executed instructions, and the cycle
//! counter (PMCCNTR_EL0, started in `context::init`) counts one per
//! instruction: what `raw_counter` gives benchmarks, as the TSC does on
//! x86_64.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

static COUNTER_AT_ENTRY: AtomicU64 = AtomicU64::new(0);
static CYCLES_AT_ENTRY: AtomicU64 = AtomicU64::new(0);
static COUNTER_HZ: AtomicU64 = AtomicU64::new(0);
static TIMER_HZ: AtomicU32 = AtomicU32::new(0);
static INTERVAL: AtomicU64 = AtomicU64::new(0);
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(0);

fn counter() -> u64 {
    let value: u64;
    // SAFETY: reads the virtual counter; the isb keeps it from being read early.
    unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack)) };
    value
}

fn counter_frequency() -> u64 {
    let value: u64;
    // SAFETY: reads the counter's frequency.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
    value
}

fn cycles() -> u64 {
    let value: u64;
    // SAFETY: reads the PMU cycle counter.
    unsafe { core::arch::asm!("mrs {}, pmccntr_el0", out(reg) value, options(nomem, nostack)) };
    value
}

/// The cycle counter's rate as QEMU models it (1 GHz of virtual time).
pub fn raw_counter_hz() -> u64 {
    1_000_000_000
}

/// The cycle counter (for benchmarks: instructions under `-icount shift=0`).
pub fn raw_counter() -> u64 {
    cycles()
}

/// The cycle counter when the kernel took over.
pub fn raw_counter_at_kernel_entry() -> u64 {
    CYCLES_AT_ENTRY.load(Ordering::Relaxed)
}

pub fn record_kernel_entry() {
    COUNTER_AT_ENTRY.store(counter(), Ordering::Relaxed);
    // The cycle counter is not running yet: it starts in `context::init`
    // and counts from the kernel's own start from then on.
    CYCLES_AT_ENTRY.store(0, Ordering::Relaxed);
}

fn to_nanoseconds(ticks: u64) -> u64 {
    let hz = COUNTER_HZ.load(Ordering::Relaxed);
    if hz == 0 {
        return 0;
    }
    (ticks as u128 * 1_000_000_000 / hz as u128) as u64
}

pub fn nanoseconds_since_kernel_entry() -> u64 {
    to_nanoseconds(counter().saturating_sub(COUNTER_AT_ENTRY.load(Ordering::Relaxed)))
}

/// The virtual counter starts at zero when QEMU starts the machine.
pub fn nanoseconds_since_reset() -> u64 {
    to_nanoseconds(counter())
}

pub fn hz() -> u32 {
    TIMER_HZ.load(Ordering::Relaxed)
}

fn set_deadline(deadline: u64) {
    // SAFETY: programs the EL1 virtual timer: compare value, enabled, unmasked.
    unsafe {
        core::arch::asm!(
            "msr cntv_cval_el0, {deadline}",
            "msr cntv_ctl_el0, {enable}",
            "isb",
            deadline = in(reg) deadline,
            enable = in(reg) 1u64,
            options(nomem, nostack)
        );
    }
}

/// Sets the next tick one period after the last deadline (or after now, if
/// ticks were missed: no burst of catch-up interrupts).
pub fn rearm() {
    let interval = INTERVAL.load(Ordering::Relaxed);
    let now = counter();
    let mut next = NEXT_DEADLINE.load(Ordering::Relaxed) + interval;
    if next <= now {
        next = now + interval;
    }
    NEXT_DEADLINE.store(next, Ordering::Relaxed);
    set_deadline(next);
}

/// Starts the periodic tick at `hz` on the virtual timer.
pub fn init(hz: u32) {
    let frequency = counter_frequency();
    COUNTER_HZ.store(frequency, Ordering::Relaxed);
    TIMER_HZ.store(hz, Ordering::Relaxed);
    let interval = (frequency / hz as u64).max(1);
    INTERVAL.store(interval, Ordering::Relaxed);
    NEXT_DEADLINE.store(counter(), Ordering::Relaxed);
    rearm();
    log::info!("generic timer: {hz} Hz tick ({interval} counts of {frequency} Hz)");
}
