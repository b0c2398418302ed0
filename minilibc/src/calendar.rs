//! Calendar arithmetic for `gmtime`, `mktime` and `strftime`, in the
//! proleptic Gregorian calendar, UTC only (minilibc has no time-zone
//! database: `localtime` is `gmtime`, documented in docs/minilibc.md).
#![forbid(unsafe_code)]

use crate::format::{Output, OutputError};
use core::fmt::Write;

/// The broken-down time, field for field like C's `struct tm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokenDownTime {
    pub second: i32,
    pub minute: i32,
    pub hour: i32,
    pub day_of_month: i32,
    /// 0..=11
    pub month: i32,
    /// Years since 1900.
    pub year: i32,
    /// 0 = Sunday.
    pub day_of_week: i32,
    /// 0..=365
    pub day_of_year: i32,
}

/// Days since 1970-01-01 of a civil date (month 1..=12).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146097 + day_of_era - 719468
}

/// The civil date (year, month 1..=12, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719468;
    let era = shifted.div_euclid(146097);
    let day_of_era = shifted - era * 146097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Breaks a UTC time down; `None` when the year does not fit in an `int`.
pub fn break_down(time: i64) -> Option<BrokenDownTime> {
    let days = time.div_euclid(86400);
    let seconds = time.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    let year_since_1900 = i32::try_from(year - 1900).ok()?;
    Some(BrokenDownTime {
        second: (seconds % 60) as i32,
        minute: (seconds / 60 % 60) as i32,
        hour: (seconds / 3600) as i32,
        day_of_month: day as i32,
        month: (month - 1) as i32,
        year: year_since_1900,
        day_of_week: (days + 4).rem_euclid(7) as i32,
        day_of_year: (days - days_from_civil(year, 1, 1)) as i32,
    })
}

/// Seconds since the epoch of a (possibly denormalized) broken-down UTC
/// time, as `timegm`/`mktime` compute it.
pub fn seconds_since_epoch(time: &BrokenDownTime) -> i64 {
    let total_months = time.year as i64 * 12 + time.month as i64;
    let year = total_months.div_euclid(12) + 1900;
    let month = total_months.rem_euclid(12) + 1;
    let days = days_from_civil(year, month, 1) + time.day_of_month as i64 - 1;
    days * 86400 + time.hour as i64 * 3600 + time.minute as i64 * 60 + time.second as i64
}

const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

struct Adapter<'a, O: Output>(&'a mut O, usize);
impl<O: Output> Write for Adapter<'_, O> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.1 += text.len();
        self.0.write_bytes(text.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// ISO 8601 week-based year and week number.
fn iso_week(time: &BrokenDownTime) -> (i64, i32) {
    let year = time.year as i64 + 1900;
    let weekday = (time.day_of_week + 6) % 7; // Monday = 0
    let week = (time.day_of_year - weekday + 10) / 7;
    if week < 1 {
        let previous = year - 1;
        let previous_days = if is_leap(previous) { 366 } else { 365 };
        let day_of_year = time.day_of_year + previous_days;
        return (previous, (day_of_year - weekday + 10) / 7);
    }
    let days_in_year = if is_leap(year) { 366 } else { 365 };
    if week == 53 && time.day_of_year - weekday + 3 >= days_in_year {
        return (year + 1, 1);
    }
    (year, week)
}

/// Renders `format` in the C locale; returns the byte count. Unknown
/// conversions are copied verbatim.
pub fn format_time<O: Output>(
    format: &[u8],
    time: &BrokenDownTime,
    zone_name: &str,
    output: &mut O,
) -> Result<usize, OutputError> {
    let mut out = Adapter(output, 0);
    render(format, time, zone_name, &mut out).map_err(|_| OutputError)?;
    Ok(out.1)
}

fn render<W: Write>(format: &[u8], time: &BrokenDownTime, zone_name: &str, out: &mut W) -> core::fmt::Result {
    let day_name = DAY_NAMES[time.day_of_week.rem_euclid(7) as usize];
    let month_name = MONTH_NAMES[time.month.rem_euclid(12) as usize];
    let year = time.year as i64 + 1900;
    let hour12 = if time.hour % 12 == 0 { 12 } else { time.hour % 12 };
    let mut index = 0;
    while index < format.len() {
        let byte = format[index];
        index += 1;
        if byte != b'%' || index >= format.len() {
            out.write_char(byte as char)?;
            continue;
        }
        let mut conversion = format[index];
        index += 1;
        if (conversion == b'E' || conversion == b'O') && index < format.len() {
            conversion = format[index];
            index += 1;
        }
        match conversion {
            b'a' => out.write_str(&day_name[..3])?,
            b'A' => out.write_str(day_name)?,
            b'b' | b'h' => out.write_str(&month_name[..3])?,
            b'B' => out.write_str(month_name)?,
            b'c' => write!(
                out,
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                &day_name[..3],
                &month_name[..3],
                time.day_of_month,
                time.hour,
                time.minute,
                time.second,
                year
            )?,
            b'C' => write!(out, "{:02}", year.div_euclid(100))?,
            b'd' => write!(out, "{:02}", time.day_of_month)?,
            b'D' => write!(out, "{:02}/{:02}/{:02}", time.month + 1, time.day_of_month, year.rem_euclid(100))?,
            b'e' => write!(out, "{:2}", time.day_of_month)?,
            b'F' => write!(out, "{}-{:02}-{:02}", year, time.month + 1, time.day_of_month)?,
            b'G' => write!(out, "{}", iso_week(time).0)?,
            b'g' => write!(out, "{:02}", iso_week(time).0.rem_euclid(100))?,
            b'H' => write!(out, "{:02}", time.hour)?,
            b'I' => write!(out, "{:02}", hour12)?,
            b'j' => write!(out, "{:03}", time.day_of_year + 1)?,
            b'm' => write!(out, "{:02}", time.month + 1)?,
            b'M' => write!(out, "{:02}", time.minute)?,
            b'n' => out.write_char('\n')?,
            b'p' => out.write_str(if time.hour < 12 { "AM" } else { "PM" })?,
            b'r' => write!(
                out,
                "{:02}:{:02}:{:02} {}",
                hour12,
                time.minute,
                time.second,
                if time.hour < 12 { "AM" } else { "PM" }
            )?,
            b'R' => write!(out, "{:02}:{:02}", time.hour, time.minute)?,
            b's' => write!(out, "{}", seconds_since_epoch(time))?,
            b'S' => write!(out, "{:02}", time.second)?,
            b't' => out.write_char('\t')?,
            b'T' | b'X' => write!(out, "{:02}:{:02}:{:02}", time.hour, time.minute, time.second)?,
            b'u' => write!(out, "{}", if time.day_of_week == 0 { 7 } else { time.day_of_week })?,
            b'U' => write!(out, "{:02}", (time.day_of_year + 7 - time.day_of_week) / 7)?,
            b'V' => write!(out, "{:02}", iso_week(time).1)?,
            b'w' => write!(out, "{}", time.day_of_week)?,
            b'W' => write!(out, "{:02}", (time.day_of_year + 7 - (time.day_of_week + 6) % 7) / 7)?,
            b'x' => write!(out, "{:02}/{:02}/{:02}", time.month + 1, time.day_of_month, year.rem_euclid(100))?,
            b'y' => write!(out, "{:02}", year.rem_euclid(100))?,
            b'Y' => write!(out, "{}", year)?,
            b'z' => out.write_str("+0000")?,
            b'Z' => out.write_str(zone_name)?,
            b'%' => out.write_char('%')?,
            other => {
                out.write_char('%')?;
                out.write_char(other as char)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn known_dates() {
        let time = break_down(951782400).unwrap(); // 2000-02-29 00:00:00
        assert_eq!((time.year, time.month, time.day_of_month, time.day_of_week, time.day_of_year), (100, 1, 29, 2, 59));
        let mut out = Vec::new();
        format_time(b"%Y-%m-%d %H:%M:%S %a %b %j %U %W %V %G %%", &time, "UTC", &mut out).unwrap();
        assert_eq!(core::str::from_utf8(&out).unwrap(), "2000-02-29 00:00:00 Tue Feb 060 09 09 09 2000 %");
        assert_eq!(break_down(-1).unwrap().year, 69);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn round_trip(time in -50_000_000_000i64..50_000_000_000i64) {
            let broken = break_down(time).unwrap();
            proptest::prop_assert_eq!(seconds_since_epoch(&broken), time);
        }
    }
}
