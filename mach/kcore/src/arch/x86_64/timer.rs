//! Time on x86_64: the TSC as the clock, the local APIC timer as the tick.
//!
//! At boot their frequencies come from CPUID where the processor reports
//! them (leaf 0x15, the TSC's ratio to the crystal that also drives the
//! APIC timer; or the hypervisor's timing leaf 0x40000010); otherwise both
//! are calibrated against PIT channel 2 over 1 ms (the PIT's 1.193182 MHz
//! input is the one frequency a PC guarantees; a count of 1,193 measures
//! to 0.1%, and the 10 ms this once took were most of the boot). The local APIC
//! timer, rather than the PIT, drives the periodic tick because it is per-CPU
//! and needs no legacy interrupt controller: the 8259s are masked for good.
//! Under `-icount` all three advance with executed instructions, so boot
//! figures are repeatable.

use super::idt::{SPURIOUS_VECTOR, TIMER_VECTOR};
use super::{paging, port};
use crate::memory::PhysicalAddress;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

static TSC_AT_ENTRY: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TIMER_HZ: AtomicU32 = AtomicU32::new(0);
static APIC_BASE: AtomicU64 = AtomicU64::new(0);

const PIT_HZ: u64 = 1_193_182;
const CALIBRATION_MS: u64 = 1;

// Local APIC register offsets.
const APIC_ID: u64 = 0x20;
const APIC_TASK_PRIORITY: u64 = 0x80;
const APIC_END_OF_INTERRUPT: u64 = 0xb0;
const APIC_SPURIOUS: u64 = 0xf0;
const APIC_TIMER_VECTOR: u64 = 0x320;
const APIC_TIMER_INITIAL: u64 = 0x380;
const APIC_TIMER_CURRENT: u64 = 0x390;
const APIC_TIMER_DIVIDE: u64 = 0x3e0;
const APIC_ENABLE: u32 = 1 << 8;
const TIMER_PERIODIC: u32 = 1 << 17;
const TIMER_MASKED: u32 = 1 << 16;
const DIVIDE_BY_16: u32 = 0x3;

fn read_tsc() -> u64 {
    // SAFETY: rdtsc only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The time-stamp counter's calibrated frequency.
pub fn raw_counter_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// The raw time-stamp counter (for benchmarks).
pub fn raw_counter() -> u64 {
    read_tsc()
}

/// The raw time-stamp counter when the kernel took over.
pub fn raw_counter_at_kernel_entry() -> u64 {
    TSC_AT_ENTRY.load(Ordering::Relaxed)
}

pub fn record_kernel_entry() {
    TSC_AT_ENTRY.store(read_tsc(), Ordering::Relaxed);
}

fn tsc_to_nanoseconds(ticks: u64) -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    if hz == 0 {
        return 0;
    }
    (ticks as u128 * 1_000_000_000 / hz as u128) as u64
}

pub fn nanoseconds_since_kernel_entry() -> u64 {
    tsc_to_nanoseconds(read_tsc().saturating_sub(TSC_AT_ENTRY.load(Ordering::Relaxed)))
}

/// QEMU starts the TSC at zero when the machine starts.
pub fn nanoseconds_since_reset() -> u64 {
    tsc_to_nanoseconds(read_tsc())
}

pub fn hz() -> u32 {
    TIMER_HZ.load(Ordering::Relaxed)
}

fn apic_write(register: u64, value: u32) {
    let address = (APIC_BASE.load(Ordering::Relaxed) + register) as *mut u32;
    // SAFETY: APIC_BASE is the local APIC's register page, mapped uncached in
    // the device window by `init`; `register` is one of its 32-bit registers.
    unsafe { address.write_volatile(value) }
}

fn apic_read(register: u64) -> u32 {
    let address = (APIC_BASE.load(Ordering::Relaxed) + register) as *const u32;
    // SAFETY: as for `apic_write`.
    unsafe { address.read_volatile() }
}

/// This CPU's local APIC id (the destination of its message-signalled
/// interrupts).
pub fn local_apic_id() -> u8 {
    if APIC_BASE.load(Ordering::Relaxed) == 0 {
        return 0;
    }
    (apic_read(APIC_ID) >> 24) as u8
}

/// Acknowledges the interrupt being handled to the local APIC.
pub fn end_of_interrupt() {
    if APIC_BASE.load(Ordering::Relaxed) != 0 {
        apic_write(APIC_END_OF_INTERRUPT, 0);
    }
}

/// Masks both 8259 PICs after moving their vectors to 0x20..0x30, so a stray
/// legacy interrupt can never look like a CPU exception.
fn disable_legacy_pics() {
    for (command, data, offset, cascade) in [(0x20, 0x21, 0x20, 4), (0xa0, 0xa1, 0x28, 2)] {
        port::write_u8(command, 0x11); // initialise, expect ICW4
        port::write_u8(data, offset);
        port::write_u8(data, cascade);
        port::write_u8(data, 0x01); // 8086 mode
        port::write_u8(data, 0xff); // mask everything
    }
}

/// One reading of the TSC and the APIC timer's count at a known PIT count.
#[derive(Clone, Copy)]
struct Sample {
    tsc: u64,
    apic: u32,
    /// PIT channel 2's count (counting down) when `tsc` was read, to within
    /// half of `MAX_SAMPLE_PIT_TICKS`.
    pit: u16,
}

/// Most PIT ticks (0.84 us each) one sample may span: a sample that took
/// longer was interrupted (under TCG, QEMU's thread descheduled by a loaded
/// host) and is taken again.
const MAX_SAMPLE_PIT_TICKS: u16 = 6;
/// Attempts at a tight sample, and at a whole calibration, before giving up.
const SAMPLE_ATTEMPTS: u32 = 1000;
const CALIBRATION_ATTEMPTS: u32 = 20;

/// PIT channel 2's current count (latched, so both bytes are of one instant).
fn pit_count() -> u16 {
    port::write_u8(0x43, 0b1000_0000); // latch channel 2
    let low = port::read_u8(0x42) as u16;
    let high = port::read_u8(0x42) as u16;
    high << 8 | low
}

/// Whether PIT channel 2's output rose: in mode 0, once its count reached zero.
fn pit_expired() -> bool {
    const OUTPUT: u8 = 1 << 5;
    port::read_u8(0x61) & OUTPUT != 0
}

/// The TSC (and, with `apic`, the APIC timer's count) read between two PIT
/// readings at most `MAX_SAMPLE_PIT_TICKS` apart; `None` if no attempt
/// was that tight.
fn sample(apic: bool) -> Option<Sample> {
    for _ in 0..SAMPLE_ATTEMPTS {
        let before = pit_count();
        let tsc = read_tsc();
        let apic_count = if apic { apic_read(APIC_TIMER_CURRENT) } else { 0 };
        let after = pit_count();
        let span = before.wrapping_sub(after);
        if span <= MAX_SAMPLE_PIT_TICKS {
            return Some(Sample { tsc, apic: apic_count, pit: after + span / 2 });
        }
    }
    None
}

/// The TSC's frequency (and, with `apic`, the APIC timer's, which must be
/// counting down from `u32::MAX` with its interrupt masked) measured
/// against PIT channel 2 over `CALIBRATION_MS`.
///
/// Each end of the window is a tight sample (see [`sample`]), so time the
/// CPU spends elsewhere, between or around them, lengthens the window but
/// never skews it. It once read the PIT's output level after a busy wait
/// instead: a host that descheduled QEMU for 40 ms after the PIT fired made
/// the window 40 ms long to the TSC and 1 ms to the arithmetic, the clock
/// 40 times too fast and the tick 40 times too slow, and a kernel test run
/// timed out waiting for ticks. A window that ran past the PIT's zero (its
/// count wrapped) is measured again; `None` after `CALIBRATION_ATTEMPTS`.
fn measure_against_pit(apic: bool) -> Option<(u64, u64)> {
    const GATE: u8 = 1 << 0;
    const SPEAKER: u8 = 1 << 1;
    let window = (PIT_HZ * CALIBRATION_MS / 1000) as u16;
    let control = port::read_u8(0x61) & !SPEAKER;
    let mut result = None;
    for _ in 0..CALIBRATION_ATTEMPTS {
        // Mode 0 (interrupt on terminal count) from the largest count: the
        // output drops when the mode is set and rises when the count,
        // started by writing it with the gate high, reaches zero (55 ms on).
        port::write_u8(0x61, control | GATE);
        port::write_u8(0x43, 0b1011_0000); // channel 2, low then high byte, mode 0
        port::write_u8(0x42, 0xff);
        port::write_u8(0x42, 0xff);
        let Some(first) = sample(apic) else { continue };
        let mut last = None;
        // Bounded: a PIT that never counts must not hang the boot.
        for _ in 0..1_000_000u64 {
            match sample(apic) {
                Some(now) if first.pit.wrapping_sub(now.pit) >= window => {
                    last = Some(now);
                    break;
                }
                _ => core::hint::spin_loop(),
            }
        }
        let Some(last) = last else { continue };
        if pit_expired() || last.pit > first.pit {
            continue; // the count passed zero: the window is unknown
        }
        let pit_ticks = (first.pit - last.pit) as u128;
        let tsc_hz = (last.tsc - first.tsc) as u128 * PIT_HZ as u128 / pit_ticks;
        let apic_hz = first.apic.wrapping_sub(last.apic) as u128 * PIT_HZ as u128 / pit_ticks;
        result = Some((tsc_hz as u64, apic_hz as u64));
        break;
    }
    port::write_u8(0x61, control & !GATE);
    result
}

/// Calibrates the TSC and the APIC timer (counting its input divided by
/// 16) against the PIT.
fn calibrate() -> (u64, u64) {
    apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_16);
    apic_write(APIC_TIMER_VECTOR, TIMER_MASKED);
    apic_write(APIC_TIMER_INITIAL, u32::MAX);
    let measured = measure_against_pit(true);
    apic_write(APIC_TIMER_INITIAL, 0);
    // Without a clock and a tick the kernel cannot run: say why at once.
    measured.expect("the TSC and the APIC timer could not be calibrated against the PIT (no PIT channel 2?)")
}

/// The TSC and APIC timer frequencies (the latter before the divider), if
/// CPUID reports both. QEMU's `qemu64` under TCG reports neither.
fn frequencies_from_cpuid() -> Option<(u64, u64)> {
    use core::arch::x86_64::__cpuid;
    const HYPERVISOR_PRESENT: u32 = 1 << 31;
    const HYPERVISOR_TIMING_LEAF: u32 = 0x4000_0010;
    // (CPUID exists on every x86_64 processor and only reads.)
    let highest = __cpuid(0).eax;
    if highest >= 0x15 {
        let leaf = __cpuid(0x15);
        let (denominator, numerator, crystal_hz) = (leaf.eax as u64, leaf.ebx as u64, leaf.ecx as u64);
        if denominator != 0 && numerator != 0 && crystal_hz != 0 {
            return Some((crystal_hz * numerator / denominator, crystal_hz));
        }
    }
    let hypervisor = __cpuid(1).ecx & HYPERVISOR_PRESENT != 0;
    if hypervisor {
        // A hypervisor answers its leaves up to the highest it reports at
        // 0x40000000.
        let highest_hypervisor_leaf = __cpuid(0x4000_0000).eax;
        if highest_hypervisor_leaf >= HYPERVISOR_TIMING_LEAF {
            let timing = __cpuid(HYPERVISOR_TIMING_LEAF);
            let (tsc_khz, apic_khz) = (timing.eax as u64, timing.ebx as u64);
            if tsc_khz != 0 && apic_khz != 0 {
                return Some((tsc_khz * 1000, apic_khz * 1000));
            }
        }
    }
    None
}

/// Starts the periodic tick at `hz` on vector `TIMER_VECTOR`.
pub fn init(hz: u32) {
    const APIC_BASE_MSR: u32 = 0x1b;
    disable_legacy_pics();
    // SAFETY: reading IA32_APIC_BASE has no side effects.
    let base = unsafe { x86_64::registers::model_specific::Msr::new(APIC_BASE_MSR).read() } & 0xffff_f000;
    let virtual_base = paging::map_device(PhysicalAddress(base), 1).expect("cannot map the local APIC");
    APIC_BASE.store(virtual_base, Ordering::Relaxed);
    apic_write(APIC_TASK_PRIORITY, 0);
    apic_write(APIC_SPURIOUS, APIC_ENABLE | SPURIOUS_VECTOR as u32);

    let (tsc_hz, apic_hz, source) = match frequencies_from_cpuid() {
        // The APIC timer counts its input divided by 16.
        Some((tsc_hz, apic_input_hz)) => (tsc_hz, apic_input_hz / 16, "CPUID"),
        None => {
            let (tsc_hz, apic_hz) = calibrate();
            (tsc_hz, apic_hz, "the PIT")
        }
    };
    TSC_HZ.store(tsc_hz, Ordering::Relaxed);
    let initial = (apic_hz / hz as u64).clamp(1, u32::MAX as u64) as u32;
    TIMER_HZ.store(hz, Ordering::Relaxed);
    apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_16);
    apic_write(APIC_TIMER_VECTOR, TIMER_VECTOR as u32 | TIMER_PERIODIC);
    apic_write(APIC_TIMER_INITIAL, initial);
    log::info!(
        "local APIC timer: {} Hz tick ({} counts of {} Hz), TSC {} MHz (from {})",
        hz,
        initial,
        apic_hz,
        TSC_HZ.load(Ordering::Relaxed) / 1_000_000,
        source
    );
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ktest};

    ktest! {
        fn the_tsc_measures_the_same_against_the_pit_every_time() {
            // Ten measurements with interrupts on, on a host that may
            // deschedule QEMU at any point: each within 2% of the boot's
            // (whose window, read late, once came out 20 to 700 times too
            // fast under load, and the tick as much too slow).
            let boot = TSC_HZ.load(Ordering::Relaxed);
            for round in 0..10 {
                let (tsc_hz, _) = measure_against_pit(false).ok_or("the TSC could not be measured against the PIT")?;
                ensure!(
                    tsc_hz.abs_diff(boot) * 50 <= boot,
                    "measurement {round}: the TSC runs at {tsc_hz} Hz against the PIT, at {boot} Hz by the boot's"
                );
            }
            Ok(())
        }
    }
}
