//! sleep: waits for the sum of its operands, each a number (decimals
//! allowed) with an optional unit: s (seconds, the default), m, h, d.

use crate::common::Command;
use crate::complain;
use crate::options::Order;

const COMMAND: Command = Command {
    usage: "NUMBER[SUFFIX]...\nPause for NUMBER seconds (s), minutes (m), hours (h) or days (d); several add up.\n",
    specs: &[],
    order: Order::Posix,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing operand"));
    }
    let mut total_nanoseconds: u128 = 0;
    let mut bad = false;
    for operand in &parsed.operands {
        match parse_interval(operand) {
            Some(nanoseconds) => total_nanoseconds = total_nanoseconds.saturating_add(nanoseconds),
            None => {
                complain!("invalid time interval {}", crate::common::quote(operand));
                bad = true;
            }
        }
    }
    if bad {
        return COMMAND.try_help();
    }
    let seconds = (total_nanoseconds / 1_000_000_000).min(i64::MAX as u128) as i64;
    let nanoseconds = (total_nanoseconds % 1_000_000_000) as i64;
    match posix::time::sleep(posix::Timespec::new(seconds, nanoseconds)) {
        Ok(()) => 0,
        Err(error) => {
            complain!("cannot sleep: {}", error);
            1
        }
    }
}

/// "1.5", "2m", ".5h", "1d" in nanoseconds; None when malformed.
pub fn parse_interval(text: &[u8]) -> Option<u128> {
    let (number, multiplier) = match text.last() {
        Some(b's') => (&text[..text.len() - 1], 1u128),
        Some(b'm') => (&text[..text.len() - 1], 60),
        Some(b'h') => (&text[..text.len() - 1], 3600),
        Some(b'd') => (&text[..text.len() - 1], 86400),
        _ => (text, 1),
    };
    let (whole, fraction) = match number.iter().position(|&byte| byte == b'.') {
        Some(dot) => (&number[..dot], &number[dot + 1..]),
        None => (number, &b""[..]),
    };
    if (whole.is_empty() && fraction.is_empty()) || !whole.iter().chain(fraction).all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanoseconds: u128 = 0;
    for &digit in whole {
        nanoseconds = nanoseconds.checked_mul(10)?.checked_add((digit - b'0') as u128)?;
    }
    nanoseconds = nanoseconds.checked_mul(1_000_000_000)?;
    let mut scale = 100_000_000u128;
    for &digit in fraction.iter().take(9) {
        nanoseconds += (digit - b'0') as u128 * scale;
        scale /= 10;
    }
    nanoseconds.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_take_units_and_decimals() {
        assert_eq!(parse_interval(b"1"), Some(1_000_000_000));
        assert_eq!(parse_interval(b"0.25"), Some(250_000_000));
        assert_eq!(parse_interval(b".5s"), Some(500_000_000));
        assert_eq!(parse_interval(b"2m"), Some(120_000_000_000));
        assert_eq!(parse_interval(b"1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_interval(b"1d"), Some(86_400_000_000_000));
        assert_eq!(parse_interval(b"x"), None);
        assert_eq!(parse_interval(b"."), None);
        assert_eq!(parse_interval(b"1x"), None);
        assert_eq!(parse_interval(b""), None);
    }
}
