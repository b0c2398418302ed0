//! Wall-clock time for time stamps: the PC's CMOS real-time clock read once
//! at start (QEMU runs it in UTC with `-rtc base=utc`), then advanced by
//! the kernel's time since boot, which never jumps.
//!
//! This module is the portable half: decoding the RTC's registers (BCD or
//! binary, 12- or 24-hour, with or without a century register) into Unix
//! time, and the clock that adds elapsed time to it. The server task reads
//! the registers through ports 0x70/0x71.

use crate::node::Timestamp;

/// The RTC registers the time is read from (their CMOS indices).
pub mod register {
    pub const SECONDS: u8 = 0x00;
    pub const MINUTES: u8 = 0x02;
    pub const HOURS: u8 = 0x04;
    pub const DAY_OF_MONTH: u8 = 0x07;
    pub const MONTH: u8 = 0x08;
    pub const YEAR: u8 = 0x09;
    /// Bit 7: an update is in progress (do not read now).
    pub const STATUS_A: u8 = 0x0a;
    /// Bit 1: 24-hour mode; bit 2: binary (else BCD).
    pub const STATUS_B: u8 = 0x0b;
    /// The century, where the ACPI FADT says (QEMU: 0x32).
    pub const CENTURY: u8 = 0x32;
}

/// One reading of the RTC's registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcReading {
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub day: u8,
    pub month: u8,
    pub year: u8,
    /// 0 when the machine has no century register.
    pub century: u8,
    pub status_b: u8,
}

/// Why a reading is not a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockError {
    /// A field out of its range (a broken or absent clock).
    OutOfRange(&'static str),
}

fn decode_bcd(value: u8, binary: bool) -> Option<u8> {
    if binary {
        return Some(value);
    }
    let (tens, ones) = (value >> 4, value & 0x0f);
    if tens > 9 || ones > 9 {
        return None;
    }
    Some(tens * 10 + ones)
}

/// Days from 1970-01-01 to the date (proleptic Gregorian; Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

impl RtcReading {
    /// Seconds since the epoch (UTC) this reading says.
    pub fn unix_seconds(&self) -> Result<i64, ClockError> {
        let binary = self.status_b & 0x04 != 0;
        let twenty_four_hour = self.status_b & 0x02 != 0;
        let field = |value: u8, what: &'static str| decode_bcd(value, binary).ok_or(ClockError::OutOfRange(what));
        let seconds = field(self.seconds, "seconds")?;
        let minutes = field(self.minutes, "minutes")?;
        // In 12-hour mode bit 7 of the hours says PM.
        let pm = !twenty_four_hour && self.hours & 0x80 != 0;
        let mut hours = field(self.hours & 0x7f, "hours")?;
        if !twenty_four_hour {
            if !(1..=12).contains(&hours) {
                return Err(ClockError::OutOfRange("hours"));
            }
            hours = (hours % 12) + if pm { 12 } else { 0 };
        }
        let day = field(self.day, "day")?;
        let month = field(self.month, "month")?;
        let year = field(self.year, "year")? as i64;
        let century = if self.century == 0 { None } else { Some(field(self.century, "century")? as i64) };
        let full_year = match century {
            Some(century) if (19..=99).contains(&century) => century * 100 + year,
            // No century register: the RTC's two digits, in 2000..2099.
            _ => 2000 + year,
        };
        if seconds > 59 || minutes > 59 || hours > 23 {
            return Err(ClockError::OutOfRange("time of day"));
        }
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(ClockError::OutOfRange("date"));
        }
        let days = days_from_civil(full_year, month as u32, day as u32);
        Ok(days * 86_400 + hours as i64 * 3600 + minutes as i64 * 60 + seconds as i64)
    }
}

/// The wall clock: the RTC's time at a known uptime, plus the uptime since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// Unix time when the RTC was read.
    base_seconds: i64,
    /// The kernel's time since boot then, in nanoseconds.
    base_uptime: u64,
}

impl WallClock {
    /// A clock that said `unix_seconds` when the uptime was `uptime_nanoseconds`.
    pub const fn new(unix_seconds: i64, uptime_nanoseconds: u64) -> Self {
        WallClock { base_seconds: unix_seconds, base_uptime: uptime_nanoseconds }
    }

    /// The clock whose time at uptime 0 was `nanoseconds` since the epoch
    /// (`AT_MACH_BOOT_TIME`, the one reading every program shares): exact
    /// from the first uptime whose time is a whole second on.
    pub const fn from_boot_time(nanoseconds: u64) -> Self {
        let seconds = nanoseconds.div_ceil(1_000_000_000);
        WallClock { base_seconds: seconds as i64, base_uptime: seconds * 1_000_000_000 - nanoseconds }
    }

    /// The time at uptime `uptime_nanoseconds` (never before the base).
    pub fn at(&self, uptime_nanoseconds: u64) -> Timestamp {
        let elapsed = uptime_nanoseconds.saturating_sub(self.base_uptime);
        Timestamp {
            seconds: self.base_seconds + (elapsed / 1_000_000_000) as i64,
            nanoseconds: (elapsed % 1_000_000_000) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn bcd_24_hour_readings_decode() {
        // 2024-02-29 13:45:07 UTC = 1709214307, as QEMU's default CMOS gives it.
        let reading = RtcReading {
            seconds: 0x07,
            minutes: 0x45,
            hours: 0x13,
            day: 0x29,
            month: 0x02,
            year: 0x24,
            century: 0x20,
            status_b: 0x02,
        };
        assert_eq!(reading.unix_seconds(), Ok(1_709_214_307));
    }

    #[test]
    fn binary_12_hour_readings_decode() {
        // 1:45:07 PM in binary, 12-hour mode: the same instant.
        let reading = RtcReading {
            seconds: 7,
            minutes: 45,
            hours: 0x80 | 1,
            day: 29,
            month: 2,
            year: 24,
            century: 20,
            status_b: 0x04,
        };
        assert_eq!(reading.unix_seconds(), Ok(1_709_214_307));
        let midnight = RtcReading { hours: 12, ..reading };
        assert_eq!(midnight.unix_seconds(), Ok(1_709_214_307 - 13 * 3600));
    }

    #[test]
    fn broken_readings_are_refused() {
        let reading = RtcReading { seconds: 0x7a, month: 1, day: 1, status_b: 0x02, ..RtcReading::default() };
        assert_eq!(reading.unix_seconds(), Err(ClockError::OutOfRange("seconds")));
        let reading = RtcReading { month: 0x1a, day: 1, status_b: 0x02, ..RtcReading::default() };
        assert_eq!(reading.unix_seconds(), Err(ClockError::OutOfRange("month")));
        let reading = RtcReading { month: 0x13, day: 1, status_b: 0x02, ..RtcReading::default() };
        assert_eq!(reading.unix_seconds(), Err(ClockError::OutOfRange("date")), "month 13");
        let reading = RtcReading { month: 0, day: 1, status_b: 0x06, ..RtcReading::default() };
        assert_eq!(reading.unix_seconds(), Err(ClockError::OutOfRange("date")));
    }

    #[test]
    fn the_wall_clock_advances_with_uptime() {
        let clock = WallClock::new(1_000_000, 5_000_000_000);
        assert_eq!(clock.at(5_000_000_000), Timestamp::from_seconds(1_000_000));
        assert_eq!(clock.at(7_500_000_000), Timestamp { seconds: 1_000_002, nanoseconds: 500_000_000 });
        assert_eq!(clock.at(0), Timestamp::from_seconds(1_000_000), "never before the reading");
    }

    #[test]
    fn a_clock_from_the_boot_time_is_the_boot_time_plus_the_uptime() {
        // The bootstrap task read 1_000_000 s at uptime 0.3 s.
        let boot = 1_000_000 * 1_000_000_000 - 300_000_000;
        let clock = WallClock::from_boot_time(boot);
        for uptime in [300_000_000u64, 300_000_001, 999_999_999, 1_000_000_000, 5_123_456_789] {
            let wall = boot + uptime;
            assert_eq!(
                clock.at(uptime),
                Timestamp { seconds: (wall / 1_000_000_000) as i64, nanoseconds: (wall % 1_000_000_000) as u32 }
            );
        }
        let whole = WallClock::from_boot_time(7_000_000_000);
        assert_eq!(whole.at(1), Timestamp { seconds: 7, nanoseconds: 1 });
        assert_eq!(WallClock::from_boot_time(0).at(2_000_000_000), Timestamp::from_seconds(2));
    }
}
