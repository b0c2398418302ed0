//! The PL031 real-time clock, read once at boot for the log.
//!
//! The kernel keeps time since boot (the generic timer); the date belongs
//! to user space, which may map the PL031 itself (a device page) when a
//! server wants it. Reading it here checks the device tree's address and
//! shows the date in the boot log.

use super::paging;
use crate::memory::PhysicalAddress;
use core::sync::atomic::{AtomicU64, Ordering};

const DATA: u64 = 0x00;

static SECONDS_AT_BOOT: AtomicU64 = AtomicU64::new(0);

/// Reads the clock at `physical`, if the board has one.
pub fn init(physical: Option<PhysicalAddress>) {
    let Some(physical) = physical else {
        log::info!("no PL031 real-time clock in the device tree");
        return;
    };
    let Ok(base) = paging::map_device(physical.align_down(), 1) else {
        log::warn!("cannot map the PL031 at {physical:#x}");
        return;
    };
    let address = (base + (physical.0 & 0xfff) + DATA) as *const u32;
    // SAFETY: the PL031's register page, mapped as device memory just now;
    // RTCDR is a 32-bit read-only register (seconds since 1970).
    let seconds = unsafe { address.read_volatile() } as u64;
    SECONDS_AT_BOOT.store(seconds, Ordering::Relaxed);
    let days = seconds / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let time = seconds % 86_400;
    log::info!(
        "PL031 real-time clock: {year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        time / 3600,
        time / 60 % 60,
        time % 60
    );
}

/// Seconds since 1970 the PL031 read at boot (0 without one).
pub fn seconds_at_boot() -> u64 {
    SECONDS_AT_BOOT.load(Ordering::Relaxed)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};

    ktest! {
        fn dates_are_computed_from_day_counts() {
            ensure_eq!(civil_from_days(0), (1970, 1, 1));
            ensure_eq!(civil_from_days(11_016), (2000, 2, 29));
            ensure_eq!(civil_from_days(19_723), (2024, 1, 1));
            Ok(())
        }

        fn the_real_time_clock_was_read() {
            // QEMU's PL031 starts at the host's date: after 2020.
            ensure!(seconds_at_boot() > 1_577_836_800, "PL031 read {} seconds", seconds_at_boot());
            Ok(())
        }
    }
}
