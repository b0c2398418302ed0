//! Dates as `date -d` and `touch -d` read them, and calendar arithmetic.
//! Understood: "@SECONDS", ISO 8601 dates and times ("2024-03-01",
//! "2024-03-01 12:34[:56[.frac]]", "2024-03-01T12:34:56Z", with an optional
//! "UTC"/"Z"/"+HH[:]MM" zone), "MM/DD/YYYY [time]", a time alone (today),
//! "now", "today", "yesterday", "tomorrow", and relative items ("3 days
//! ago", "+2 hours", "1 week", "next day"...). A subset of GNU's getdate:
//! what it does not understand is an error, never a guess.
//!
//! Local time is UTC (minilibc has no time zones), so zone offsets are the
//! only shift applied.
#![forbid(unsafe_code)]

/// Days from 1970-01-01 to year-month-day (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146097 + day_of_era - 719468
}

/// The date of a day count from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719468;
    let era = if days >= 0 { days } else { days - 146096 } / 146097;
    let day_of_era = days - era * 146097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// A moment: seconds since the epoch and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub seconds: i64,
    pub nanoseconds: i64,
}

/// Why a date was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidDate;

struct Cursor<'a> {
    text: &'a [u8],
    index: usize,
}

impl<'a> Cursor<'a> {
    fn skip_blanks(&mut self) {
        while self.index < self.text.len() && (self.text[self.index] == b' ' || self.text[self.index] == b'\t') {
            self.index += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.index).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.index += 1;
            true
        } else {
            false
        }
    }

    /// Digits as a number, with how many there were.
    fn number(&mut self) -> Option<(i64, usize)> {
        let start = self.index;
        let mut value: i64 = 0;
        while let Some(byte) = self.peek().filter(u8::is_ascii_digit) {
            value = value.checked_mul(10)?.checked_add((byte - b'0') as i64)?;
            self.index += 1;
        }
        (self.index > start).then_some((value, self.index - start))
    }

    fn word(&mut self) -> &'a [u8] {
        let start = self.index;
        while self.peek().is_some_and(|byte| byte.is_ascii_alphabetic()) {
            self.index += 1;
        }
        &self.text[start..self.index]
    }

    fn done(&self) -> bool {
        self.index >= self.text.len()
    }
}

/// Parses `text` relative to `now` (seconds since the epoch).
pub fn parse(text: &[u8], now: Moment) -> Result<Moment, InvalidDate> {
    let mut cursor = Cursor { text, index: 0 };
    cursor.skip_blanks();
    if cursor.eat(b'@') {
        let negative = cursor.eat(b'-');
        let (seconds, _) = cursor.number().ok_or(InvalidDate)?;
        let mut nanoseconds = 0;
        if cursor.eat(b'.') || cursor.eat(b',') {
            nanoseconds = fraction(&mut cursor)?;
        }
        cursor.skip_blanks();
        if !cursor.done() {
            return Err(InvalidDate);
        }
        return Ok(if negative {
            Moment {
                seconds: -seconds - i64::from(nanoseconds > 0),
                nanoseconds: if nanoseconds > 0 { 1_000_000_000 - nanoseconds } else { 0 },
            }
        } else {
            Moment { seconds, nanoseconds }
        });
    }
    // Start from today's date at the current time; items override parts.
    let today = now.seconds.div_euclid(86400);
    let (mut year, mut month, mut day) = civil_from_days(today);
    let mut seconds_of_day = now.seconds.rem_euclid(86400);
    let mut nanoseconds = now.nanoseconds;
    let mut zone_offset: i64 = 0;
    let mut relative_seconds: i64 = 0;
    let mut relative_months: i64 = 0;
    let mut have_date = false;
    let mut have_time = false;
    loop {
        cursor.skip_blanks();
        if cursor.done() {
            break;
        }
        let start = cursor.index;
        match cursor.peek() {
            Some(byte) if byte.is_ascii_digit() => {
                let (first, digits) = cursor.number().ok_or(InvalidDate)?;
                if cursor.peek() == Some(b'-') && digits >= 4 && !have_date {
                    // YYYY-MM-DD
                    cursor.index += 1;
                    let (m, _) = cursor.number().ok_or(InvalidDate)?;
                    if !cursor.eat(b'-') {
                        return Err(InvalidDate);
                    }
                    let (d, _) = cursor.number().ok_or(InvalidDate)?;
                    set_date(&mut year, &mut month, &mut day, first, m, d)?;
                    have_date = true;
                    if !have_time {
                        seconds_of_day = 0;
                        nanoseconds = 0;
                    }
                    if cursor.eat(b'T') || cursor.eat(b't') {
                        let (time, fraction_part) = time_of_day(&mut cursor)?;
                        seconds_of_day = time;
                        nanoseconds = fraction_part;
                        have_time = true;
                    }
                } else if cursor.peek() == Some(b'/') && !have_date {
                    // MM/DD[/YYYY]
                    cursor.index += 1;
                    let (d, _) = cursor.number().ok_or(InvalidDate)?;
                    let y = if cursor.eat(b'/') { cursor.number().ok_or(InvalidDate)?.0 } else { year };
                    let y = if y < 69 {
                        y + 2000
                    } else if y < 100 {
                        y + 1900
                    } else {
                        y
                    };
                    set_date(&mut year, &mut month, &mut day, y, first, d)?;
                    have_date = true;
                    if !have_time {
                        seconds_of_day = 0;
                        nanoseconds = 0;
                    }
                } else if cursor.peek() == Some(b':') && !have_time {
                    cursor.index = start;
                    let (time, fraction_part) = time_of_day(&mut cursor)?;
                    seconds_of_day = time;
                    nanoseconds = fraction_part;
                    have_time = true;
                } else {
                    // A count before a unit: "3 days".
                    cursor.skip_blanks();
                    let unit = cursor.word();
                    let (seconds, months) = unit_size(unit).ok_or(InvalidDate)?;
                    apply_relative(&mut cursor, first, seconds, months, &mut relative_seconds, &mut relative_months);
                }
            }
            Some(b'+') | Some(b'-') => {
                let negative = cursor.peek() == Some(b'-');
                cursor.index += 1;
                let (value, digits) = cursor.number().ok_or(InvalidDate)?;
                cursor.skip_blanks();
                let unit = cursor.word();
                if unit.is_empty()
                    && (have_time || have_date)
                    && (digits == 4 || digits == 2 || cursor.peek() == Some(b':'))
                {
                    // A zone offset: +HHMM, +HH, +HH:MM.
                    let (hours, minutes) = if cursor.eat(b':') {
                        (value, cursor.number().ok_or(InvalidDate)?.0)
                    } else if digits == 4 {
                        (value / 100, value % 100)
                    } else {
                        (value, 0)
                    };
                    let offset = hours * 3600 + minutes * 60;
                    zone_offset = if negative { -offset } else { offset };
                    continue;
                }
                let (seconds, months) = unit_size(unit).ok_or(InvalidDate)?;
                let signed = if negative { -value } else { value };
                apply_relative(&mut cursor, signed, seconds, months, &mut relative_seconds, &mut relative_months);
            }
            Some(_) => {
                let word = cursor.word();
                let lower: alloc::vec::Vec<u8> = word.iter().map(u8::to_ascii_lowercase).collect();
                match &lower[..] {
                    b"now" => {}
                    b"today" => {}
                    b"yesterday" => relative_seconds -= 86400,
                    b"tomorrow" => relative_seconds += 86400,
                    b"utc" | b"gmt" | b"z" => zone_offset = 0,
                    b"next" | b"last" | b"this" => {
                        let count = match &lower[..] {
                            b"next" => 1,
                            b"last" => -1,
                            _ => 0,
                        };
                        cursor.skip_blanks();
                        let unit = cursor.word();
                        let (seconds, months) = unit_size(unit).ok_or(InvalidDate)?;
                        relative_seconds += count * seconds;
                        relative_months += count * months;
                    }
                    _ => {
                        if let Some((seconds, months)) = unit_size(word) {
                            apply_relative(
                                &mut cursor,
                                1,
                                seconds,
                                months,
                                &mut relative_seconds,
                                &mut relative_months,
                            );
                        } else {
                            return Err(InvalidDate);
                        }
                    }
                }
            }
            None => break,
        }
        if cursor.index == start {
            return Err(InvalidDate);
        }
    }
    if relative_months != 0 {
        let total = year * 12 + (month as i64 - 1) + relative_months;
        year = total.div_euclid(12);
        month = (total.rem_euclid(12) + 1) as u32;
    }
    // A day past the month's end rolls over, as mktime normalises it
    // ("2024-01-31 +1 month" is 2024-03-02).
    let days = days_from_civil(year, month, 1) + day as i64 - 1;
    let seconds = days
        .checked_mul(86400)
        .and_then(|value| value.checked_add(seconds_of_day))
        .and_then(|value| value.checked_sub(zone_offset))
        .and_then(|value| value.checked_add(relative_seconds))
        .ok_or(InvalidDate)?;
    Ok(Moment { seconds, nanoseconds })
}

fn set_date(year: &mut i64, month: &mut u32, day: &mut u32, y: i64, m: i64, d: i64) -> Result<(), InvalidDate> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m as u32) as i64 {
        return Err(InvalidDate);
    }
    *year = y;
    *month = m as u32;
    *day = d as u32;
    Ok(())
}

fn fraction(cursor: &mut Cursor<'_>) -> Result<i64, InvalidDate> {
    let start = cursor.index;
    let mut nanoseconds = 0;
    let mut scale = 100_000_000;
    while let Some(byte) = cursor.peek().filter(u8::is_ascii_digit) {
        nanoseconds += (byte - b'0') as i64 * scale;
        scale /= 10;
        cursor.index += 1;
    }
    if cursor.index == start {
        return Err(InvalidDate);
    }
    Ok(nanoseconds)
}

/// HH:MM[:SS[.frac]] [am|pm] → seconds of the day and nanoseconds.
fn time_of_day(cursor: &mut Cursor<'_>) -> Result<(i64, i64), InvalidDate> {
    let (hours, _) = cursor.number().ok_or(InvalidDate)?;
    if !cursor.eat(b':') {
        return Err(InvalidDate);
    }
    let (minutes, _) = cursor.number().ok_or(InvalidDate)?;
    let mut seconds = 0;
    let mut nanoseconds = 0;
    if cursor.eat(b':') {
        seconds = cursor.number().ok_or(InvalidDate)?.0;
        if cursor.eat(b'.') || cursor.eat(b',') {
            nanoseconds = fraction(cursor)?;
        }
    }
    let mut hours = hours;
    let saved = cursor.index;
    cursor.skip_blanks();
    let word = cursor.word();
    if word.eq_ignore_ascii_case(b"am") || word.eq_ignore_ascii_case(b"pm") {
        if !(1..=12).contains(&hours) {
            return Err(InvalidDate);
        }
        hours %= 12;
        if word.eq_ignore_ascii_case(b"pm") {
            hours += 12;
        }
    } else {
        cursor.index = saved;
    }
    if hours > 23 || minutes > 59 || seconds > 60 {
        return Err(InvalidDate);
    }
    if cursor.eat(b'Z') || cursor.eat(b'z') {
        // UTC: local time is UTC already.
    }
    Ok((hours * 3600 + minutes * 60 + seconds, nanoseconds))
}

/// A relative unit's size: (seconds, months).
fn unit_size(unit: &[u8]) -> Option<(i64, i64)> {
    let lower: alloc::vec::Vec<u8> = unit.iter().map(u8::to_ascii_lowercase).collect();
    let singular: &[u8] = lower.strip_suffix(b"s").filter(|rest| !rest.is_empty()).unwrap_or(&lower);
    Some(match singular {
        b"sec" | b"second" => (1, 0),
        b"min" | b"minute" => (60, 0),
        b"hour" => (3600, 0),
        b"day" => (86400, 0),
        b"week" => (7 * 86400, 0),
        b"fortnight" => (14 * 86400, 0),
        b"month" => (0, 1),
        b"year" => (0, 12),
        _ => return None,
    })
}

fn apply_relative(
    cursor: &mut Cursor<'_>,
    count: i64,
    seconds: i64,
    months: i64,
    relative_seconds: &mut i64,
    relative_months: &mut i64,
) {
    let saved = cursor.index;
    cursor.skip_blanks();
    let ago = cursor.word().eq_ignore_ascii_case(b"ago");
    if !ago {
        cursor.index = saved;
    }
    let count = if ago { -count } else { count };
    *relative_seconds = relative_seconds.saturating_add(count.saturating_mul(seconds));
    *relative_months = relative_months.saturating_add(count.saturating_mul(months));
}

/// touch -t's [[CC]YY]MMDDhhmm[.ss].
pub fn parse_touch_stamp(text: &[u8], now: Moment) -> Result<Moment, InvalidDate> {
    let (main, seconds) = match text.iter().position(|&byte| byte == b'.') {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    if !main.iter().all(u8::is_ascii_digit) || !matches!(main.len(), 8 | 10 | 12) {
        return Err(InvalidDate);
    }
    let digits = |range: core::ops::Range<usize>| -> i64 {
        main[range].iter().fold(0, |value, &digit| value * 10 + (digit - b'0') as i64)
    };
    let (year, rest) = match main.len() {
        12 => (digits(0..4), 4),
        10 => {
            let yy = digits(0..2);
            (if yy < 69 { 2000 + yy } else { 1900 + yy }, 2)
        }
        _ => (civil_from_days(now.seconds.div_euclid(86400)).0, 0),
    };
    let month = digits(rest..rest + 2);
    let day = digits(rest + 2..rest + 4);
    let hour = digits(rest + 4..rest + 6);
    let minute = digits(rest + 6..rest + 8);
    let second = match seconds {
        Some(text) if text.len() == 2 && text.iter().all(u8::is_ascii_digit) => {
            ((text[0] - b'0') * 10 + (text[1] - b'0')) as i64
        }
        Some(_) => return Err(InvalidDate),
        None => 0,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month as u32) as i64
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(InvalidDate);
    }
    Ok(Moment {
        seconds: days_from_civil(year, month as u32, day as u32) * 86400 + hour * 3600 + minute * 60 + second,
        nanoseconds: 0,
    })
}

/// A moment broken down (UTC: minilibc's local time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broken {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    /// 0-based day of the year.
    pub year_day: u32,
    pub nanoseconds: i64,
    pub seconds: i64,
}

pub fn break_down(moment: Moment) -> Broken {
    let days = moment.seconds.div_euclid(86400);
    let within = moment.seconds.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    Broken {
        year,
        month,
        day,
        hour: (within / 3600) as u32,
        minute: (within % 3600 / 60) as u32,
        second: (within % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
        year_day: (days - days_from_civil(year, 1, 1)) as u32,
        nanoseconds: moment.nanoseconds,
        seconds: moment.seconds,
    }
}

const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
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

/// ISO 8601 week-based year and week number.
fn iso_week(time: &Broken) -> (i64, u32) {
    let weekday = (time.weekday + 6) % 7; // Monday = 0
    let year_day = time.year_day as i64;
    // The Thursday of this week decides the year.
    let thursday = year_day - weekday as i64 + 3;
    let year_length = |year: i64| if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 { 366 } else { 365 };
    if thursday < 0 {
        let previous = time.year - 1;
        let day_in_previous = thursday + year_length(previous);
        return (previous, (day_in_previous / 7 + 1) as u32);
    }
    if thursday >= year_length(time.year) {
        return (time.year + 1, 1);
    }
    (time.year, (thursday / 7 + 1) as u32)
}

/// Formats `moment` as GNU's date does FORMAT: every conversion of
/// strftime in the C locale plus %N, %s, %P, %q, %:z, %::z, %:::z, and the
/// flags `-` (no padding), `_` (spaces), `0` (zeros), `^` (upper case), `#`
/// (swapped case) with an optional width.
pub fn format(text: &[u8], moment: Moment) -> alloc::vec::Vec<u8> {
    let time = break_down(moment);
    let mut out = alloc::vec::Vec::new();
    let mut index = 0;
    while index < text.len() {
        if text[index] != b'%' {
            out.push(text[index]);
            index += 1;
            continue;
        }
        let start = index;
        index += 1;
        let mut pad: Option<u8> = None;
        let mut upper = false;
        let mut swap = false;
        while let Some(&flag) = text.get(index) {
            match flag {
                b'-' => pad = Some(0),
                b'_' => pad = Some(b' '),
                b'0' => pad = Some(b'0'),
                b'^' => upper = true,
                b'#' => swap = true,
                _ => break,
            }
            index += 1;
        }
        let mut width: Option<usize> = None;
        while let Some(&digit) = text.get(index).filter(|byte| byte.is_ascii_digit()) {
            width = Some(width.unwrap_or(0) * 10 + (digit - b'0') as usize);
            index += 1;
        }
        let mut colons = 0;
        while text.get(index) == Some(&b':') {
            colons += 1;
            index += 1;
        }
        while matches!(text.get(index), Some(b'E') | Some(b'O')) {
            index += 1;
        }
        let Some(&conversion) = text.get(index) else {
            out.extend_from_slice(&text[start..]);
            break;
        };
        index += 1;
        // (text, default padding, natural width); numbers pad, words do not.
        let number = |value: i64, digits: usize, fill: u8| (alloc::format!("{}", value), fill, digits);
        let word = |text: &str| (alloc::string::String::from(text), b' ', 0usize);
        let (value, default_fill, natural): (alloc::string::String, u8, usize) = match conversion {
            b'%' => word("%"),
            b'a' => word(&WEEKDAYS[time.weekday as usize][..3]),
            b'A' => word(WEEKDAYS[time.weekday as usize]),
            b'b' | b'h' => word(&MONTH_NAMES[time.month as usize - 1][..3]),
            b'B' => word(MONTH_NAMES[time.month as usize - 1]),
            b'c' => word(&alloc::string::String::from_utf8_lossy(&format(b"%a %b %e %H:%M:%S %Y", moment))),
            b'C' => number(time.year.div_euclid(100), 2, b'0'),
            b'd' => number(time.day as i64, 2, b'0'),
            b'D' | b'x' => word(&alloc::string::String::from_utf8_lossy(&format(b"%m/%d/%y", moment))),
            b'e' => number(time.day as i64, 2, b' '),
            b'F' => word(&alloc::string::String::from_utf8_lossy(&format(b"%Y-%m-%d", moment))),
            b'g' => number(iso_week(&time).0.rem_euclid(100), 2, b'0'),
            b'G' => number(iso_week(&time).0, 4, b'0'),
            b'H' => number(time.hour as i64, 2, b'0'),
            b'I' => number(((time.hour + 11) % 12 + 1) as i64, 2, b'0'),
            b'j' => number(time.year_day as i64 + 1, 3, b'0'),
            b'k' => number(time.hour as i64, 2, b' '),
            b'l' => number(((time.hour + 11) % 12 + 1) as i64, 2, b' '),
            b'm' => number(time.month as i64, 2, b'0'),
            b'M' => number(time.minute as i64, 2, b'0'),
            b'n' => word("\n"),
            b'N' => {
                let digits = alloc::format!("{:09}", time.nanoseconds);
                let shown = width.unwrap_or(9).min(9);
                width = None;
                (alloc::string::String::from(&digits[..shown]), b'0', 0)
            }
            b'p' => word(if time.hour < 12 { "AM" } else { "PM" }),
            b'P' => word(if time.hour < 12 { "am" } else { "pm" }),
            b'q' => number(((time.month - 1) / 3 + 1) as i64, 1, b'0'),
            b'r' => word(&alloc::string::String::from_utf8_lossy(&format(b"%I:%M:%S %p", moment))),
            b'R' => word(&alloc::string::String::from_utf8_lossy(&format(b"%H:%M", moment))),
            b's' => number(time.seconds, 1, b'0'),
            b'S' => number(time.second as i64, 2, b'0'),
            b't' => word("\t"),
            b'T' | b'X' => word(&alloc::string::String::from_utf8_lossy(&format(b"%H:%M:%S", moment))),
            b'u' => number(((time.weekday + 6) % 7 + 1) as i64, 1, b'0'),
            b'U' => number(((time.year_day + 7 - time.weekday) / 7) as i64, 2, b'0'),
            b'V' => number(iso_week(&time).1 as i64, 2, b'0'),
            b'w' => number(time.weekday as i64, 1, b'0'),
            b'W' => number(((time.year_day + 7 - (time.weekday + 6) % 7) / 7) as i64, 2, b'0'),
            b'y' => number(time.year.rem_euclid(100), 2, b'0'),
            b'Y' => number(time.year, 1, b'0'),
            b'z' => word(match colons {
                0 => "+0000",
                1 => "+00:00",
                2 => "+00:00:00",
                _ => "+00",
            }),
            b'Z' => word("UTC"),
            _ => {
                // Unknown: printed as written, as GNU's date does.
                out.extend_from_slice(&text[start..index]);
                continue;
            }
        };
        let mut value = value;
        if upper {
            value = value.to_uppercase();
        } else if swap {
            value = if value.chars().any(|c| c.is_lowercase()) { value.to_uppercase() } else { value.to_lowercase() };
        }
        let negative = value.starts_with('-');
        let target = width.unwrap_or(natural);
        let fill = match pad {
            Some(0) => None,
            Some(fill) => Some(fill),
            None => Some(default_fill),
        };
        let length = value.chars().count();
        if let (Some(fill), true) = (fill, length < target) {
            let count = target - length;
            if fill == b'0' && negative {
                out.push(b'-');
                out.extend(core::iter::repeat_n(b'0', count));
                out.extend_from_slice(&value.as_bytes()[1..]);
            } else {
                out.extend(core::iter::repeat_n(fill, count));
                out.extend_from_slice(value.as_bytes());
            }
        } else if pad == Some(0) && natural > 0 {
            // "-" removes the padding of the natural form: "%-d" of 5 is "5".
            let trimmed = value.trim_start_matches([' ', '0']);
            out.extend_from_slice(if trimmed.is_empty() { b"0" } else { trimmed.as_bytes() });
        } else {
            out.extend_from_slice(value.as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: Moment = Moment { seconds: 1_709_296_496, nanoseconds: 5 }; // 2024-03-01 12:34:56 UTC

    fn at(text: &str) -> i64 {
        parse(text.as_bytes(), NOW).unwrap().seconds
    }

    #[test]
    fn absolute_dates() {
        assert_eq!(at("@0"), 0);
        assert_eq!(at("@1709296496"), 1_709_296_496);
        assert_eq!(at("2024-03-01"), 1_709_251_200);
        assert_eq!(at("2024-03-01 12:34:56"), 1_709_296_496);
        assert_eq!(at("2024-03-01T12:34:56Z"), 1_709_296_496);
        assert_eq!(at("2024-03-01 12:34:56 +0100"), 1_709_296_496 - 3600);
        assert_eq!(at("2024-03-01 12:34:56 -02:30"), 1_709_296_496 + 9000);
        assert_eq!(at("03/01/2024"), 1_709_251_200);
        assert_eq!(at("1970-01-01 00:00"), 0);
        assert_eq!(at("12:00"), 1_709_294_400);
        assert_eq!(at("1:00 pm"), 1_709_298_000);
        assert_eq!(parse(b"2024-03-01 12:34:56.25", NOW).unwrap().nanoseconds, 250_000_000);
    }

    #[test]
    fn relative_dates() {
        assert_eq!(at("now"), NOW.seconds);
        assert_eq!(at("yesterday"), NOW.seconds - 86400);
        assert_eq!(at("3 days ago"), NOW.seconds - 3 * 86400);
        assert_eq!(at("+2 hours"), NOW.seconds + 7200);
        assert_eq!(at("next week"), NOW.seconds + 7 * 86400);
        assert_eq!(at("2024-01-31 +1 month"), days_from_civil(2024, 3, 2) * 86400);
        assert_eq!(at("1 year ago"), NOW.seconds - 366 * 86400);
    }

    #[test]
    fn nonsense_is_refused() {
        for text in ["garbage", "2024-13-01", "2024-02-30", "25:00", "@x", "3 blorps", "2024-03-01 12"] {
            assert_eq!(parse(text.as_bytes(), NOW), Err(InvalidDate), "{text}");
        }
    }

    #[test]
    fn formats_as_gnu_date() {
        let moment = Moment { seconds: 1_709_296_496, nanoseconds: 123_456_789 };
        let text =
            |format_text: &str| alloc::string::String::from_utf8(format(format_text.as_bytes(), moment)).unwrap();
        assert_eq!(text("%a %b %e %H:%M:%S %Z %Y"), "Fri Mar  1 12:34:56 UTC 2024");
        assert_eq!(text("%F %T %s %N %3N"), "2024-03-01 12:34:56 1709296496 123456789 123");
        assert_eq!(text("%j %U %W %V %G %u %w %q"), "061 08 09 09 2024 5 5 1");
        assert_eq!(text("%-d %_m %-j %^a %#b %10A|%-10B|"), "1  3 61 FRI MAR     Friday|March|");
        assert_eq!(text("%I %l %p %P %r %R %D %C %y %k"), "12 12 PM pm 12:34:56 PM 12:34 03/01/24 20 24 12");
        assert_eq!(text("%z %:z %::z %%|%Q"), "+0000 +00:00 +00:00:00 %|%Q");
        let new_year = Moment { seconds: days_from_civil(2021, 1, 3) * 86400, nanoseconds: 0 };
        assert_eq!(format(b"%G-W%V-%u", new_year), b"2020-W53-7");
    }

    #[test]
    fn touch_stamps() {
        assert_eq!(parse_touch_stamp(b"202403011234.56", NOW).unwrap().seconds, 1_709_296_496);
        assert_eq!(parse_touch_stamp(b"2403011234.56", NOW).unwrap().seconds, 1_709_296_496);
        assert_eq!(parse_touch_stamp(b"03011234.56", NOW).unwrap().seconds, 1_709_296_496);
        assert!(parse_touch_stamp(b"0301123", NOW).is_err());
        assert!(parse_touch_stamp(b"13011234", NOW).is_err());
    }

    proptest! {
        #[test]
        fn civil_round_trips(days in -1_000_000i64..1_000_000) {
            let (year, month, day) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(year, month, day), days);
            prop_assert!((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month));
        }
    }
}
