//! The printf(1) formatting engine: a FORMAT with backslash escapes and
//! conversions (%d %i %o %u %x %X %c %s %b %q %f %F %e %E %g %G %a %A %%,
//! flags `-+ #0'`, widths and precisions, `*` from the arguments), reused
//! while arguments remain, as GNU's printf does. Numeric arguments take
//! C's forms (decimal, 0x hex, 0 octal, 'c for a character's code); a bad
//! one is reported and counts as 0. Pure: the tool prints what it returns.
//!
//! Floating point is double precision (GNU's printf uses long double; the
//! two print differently only beyond about 15 significant digits or on
//! decimal values that fall between doubles).
#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What one run produced: the output, the complaints to print (without
/// the program name), and whether a `\c` stopped it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub output: Vec<u8>,
    pub warnings: Vec<String>,
    pub failed: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    left: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    zero: bool,
}

fn show(bytes: &[u8]) -> String {
    crate::common::quote(bytes)
}

/// Expands one escape at `text[index]` (just after the backslash) into
/// `out`; returns the index after it, or None for `\c`.
fn escape(text: &[u8], mut index: usize, out: &mut Vec<u8>, in_argument: bool) -> Option<usize> {
    let Some(&letter) = text.get(index) else {
        out.push(b'\\');
        return Some(index);
    };
    index += 1;
    match letter {
        b'"' => out.push(b'"'),
        b'\\' => out.push(b'\\'),
        b'a' => out.push(7),
        b'b' => out.push(8),
        b'c' => return None,
        b'e' => out.push(0x1b),
        b'f' => out.push(12),
        b'n' => out.push(b'\n'),
        b'r' => out.push(b'\r'),
        b't' => out.push(b'\t'),
        b'v' => out.push(11),
        b'0'..=b'7' => {
            // In FORMAT: \NNN (1-3 digits). In %b's argument: \0NNN (up to 3 after the 0) or \NNN.
            let mut value = (letter - b'0') as u32;
            let mut limit = 2;
            if in_argument && letter == b'0' {
                value = 0;
                limit = 3;
            }
            while limit > 0 && index < text.len() && (b'0'..=b'7').contains(&text[index]) {
                value = value * 8 + (text[index] - b'0') as u32;
                index += 1;
                limit -= 1;
            }
            out.push(value as u8);
        }
        b'x' => {
            let start = index;
            let mut value = 0u32;
            while index < text.len() && index - start < 2 && text[index].is_ascii_hexdigit() {
                value = value * 16 + (text[index] as char).to_digit(16).unwrap_or(0);
                index += 1;
            }
            if index == start {
                out.extend_from_slice(b"\\x");
            } else {
                out.push(value as u8);
            }
        }
        b'u' | b'U' => {
            let digits = if letter == b'u' { 4 } else { 8 };
            let start = index;
            let mut value = 0u32;
            while index < text.len() && index - start < digits && text[index].is_ascii_hexdigit() {
                value = value * 16 + (text[index] as char).to_digit(16).unwrap_or(0);
                index += 1;
            }
            match char::from_u32(value).filter(|_| index - start == digits) {
                Some(character) => {
                    let mut buffer = [0u8; 4];
                    out.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                }
                None => {
                    out.push(b'\\');
                    out.push(letter);
                    out.extend_from_slice(&text[start..index]);
                }
            }
        }
        other => {
            out.push(b'\\');
            out.push(other);
        }
    }
    Some(index)
}

/// Expands %b's argument; true when `\c` asked to stop.
pub fn expand_argument(text: &[u8], out: &mut Vec<u8>) -> bool {
    let mut index = 0;
    while index < text.len() {
        if text[index] == b'\\' {
            match escape(text, index + 1, out, true) {
                Some(next) => index = next,
                None => return true,
            }
        } else {
            out.push(text[index]);
            index += 1;
        }
    }
    false
}

/// A parsed numeric argument.
enum Number {
    Signed(i128),
    Float(f64),
}

/// Reads a numeric argument as GNU's printf does (strtoimax for signed
/// conversions, strtoumax for unsigned ones, strtold for floats, with their
/// checks); warnings go to `outcome`.
fn integer_argument(text: &[u8], signed: bool, outcome: &mut Outcome) -> i128 {
    match parse_number(text, false, signed, outcome) {
        Number::Signed(value) => value,
        Number::Float(value) => value as i128,
    }
}

fn float_argument(text: &[u8], outcome: &mut Outcome) -> f64 {
    match parse_number(text, true, true, outcome) {
        Number::Signed(value) => value as f64,
        Number::Float(value) => value,
    }
}

fn parse_number(text: &[u8], float: bool, signed_range: bool, outcome: &mut Outcome) -> Number {
    if let Some(&quote) = text.first() {
        if quote == b'\'' || quote == b'"' {
            // A character's code: the byte (or UTF-8 character) after the quote.
            let rest = &text[1..];
            let value = match core::str::from_utf8(rest).ok().and_then(|text| text.chars().next()) {
                Some(character) => character as i128,
                None => rest.first().map_or(0, |&byte| byte as i128),
            };
            return if float { Number::Float(value as f64) } else { Number::Signed(value) };
        }
    }
    let mut index = 0;
    while index < text.len() && matches!(text[index], b' ' | b'\t' | b'\n') {
        index += 1;
    }
    let start = index;
    let negative = text.get(index) == Some(&b'-');
    if matches!(text.get(index), Some(b'-') | Some(b'+')) {
        index += 1;
    }
    if float {
        let (value, end) = parse_float(text, start);
        if end == start {
            outcome.warnings.push(format!("{}: expected a numeric value", show(text)));
            outcome.failed = true;
            return Number::Float(0.0);
        }
        if end < text.len() {
            outcome.warnings.push(format!("{}: value not completely converted", show(text)));
            outcome.failed = true;
        }
        return Number::Float(value);
    }
    let (radix, digits_start) = if text.get(index) == Some(&b'0')
        && matches!(text.get(index + 1), Some(b'x') | Some(b'X'))
        && text.get(index + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16, index + 2)
    } else if text.get(index) == Some(&b'0') {
        (8, index)
    } else {
        (10, index)
    };
    let mut end = digits_start;
    let mut value: i128 = 0;
    let mut overflow = false;
    while let Some(digit) = text.get(end).and_then(|&byte| (byte as char).to_digit(radix)) {
        value = value * radix as i128 + digit as i128;
        if value > u64::MAX as i128 {
            overflow = true;
            value = u64::MAX as i128;
        }
        end += 1;
    }
    if end == digits_start {
        outcome.warnings.push(format!("{}: expected a numeric value", show(text)));
        outcome.failed = true;
        return Number::Signed(0);
    }
    let signed = if negative { -value } else { value };
    let (low, high) =
        if signed_range { (i64::MIN as i128, i64::MAX as i128) } else { (-(u64::MAX as i128), u64::MAX as i128) };
    let mut limited = signed.clamp(low, high);
    if overflow || signed != limited {
        outcome.warnings.push(format!("{}: Numerical result out of range", show(text)));
        outcome.failed = true;
        if !signed_range {
            limited = u64::MAX as i128;
        }
    }
    if !signed_range && limited < 0 {
        // strtoumax wraps a negative number around.
        limited = (limited as i64) as u64 as i128;
    }
    if end < text.len() {
        outcome.warnings.push(format!("{}: value not completely converted", show(text)));
        outcome.failed = true;
    }
    Number::Signed(limited)
}

/// strtod's syntax from `start`: returns the value and where it ended.
fn parse_float(text: &[u8], start: usize) -> (f64, usize) {
    let mut index = start;
    let negative = text.get(index) == Some(&b'-');
    if matches!(text.get(index), Some(b'-') | Some(b'+')) {
        index += 1;
    }
    let rest = &text[index..];
    let lower: Vec<u8> = rest.iter().take(8).map(u8::to_ascii_lowercase).collect();
    let sign = if negative { -1.0 } else { 1.0 };
    if lower.starts_with(b"infinity") {
        return (sign * f64::INFINITY, index + 8);
    }
    if lower.starts_with(b"inf") {
        return (sign * f64::INFINITY, index + 3);
    }
    if lower.starts_with(b"nan") {
        return (if negative { -f64::NAN } else { f64::NAN }, index + 3);
    }
    if lower.starts_with(b"0x") {
        // Hexadecimal: digits, a fraction, a binary exponent.
        let mut position = index + 2;
        let mut value = 0f64;
        let mut digits = 0;
        while let Some(digit) = text.get(position).and_then(|&byte| (byte as char).to_digit(16)) {
            value = value * 16.0 + digit as f64;
            position += 1;
            digits += 1;
        }
        if text.get(position) == Some(&b'.') {
            position += 1;
            let mut scale = 1.0 / 16.0;
            while let Some(digit) = text.get(position).and_then(|&byte| (byte as char).to_digit(16)) {
                value += digit as f64 * scale;
                scale /= 16.0;
                position += 1;
                digits += 1;
            }
        }
        if digits == 0 {
            return (0.0, index + 1);
        }
        if matches!(text.get(position), Some(b'p') | Some(b'P')) {
            let (exponent, end) = exponent_digits(text, position + 1);
            if end > position + 1 {
                let factor = if exponent < 0 { 0.5 } else { 2.0 };
                for _ in 0..exponent.unsigned_abs().min(2200) {
                    value *= factor;
                }
                position = end;
            }
        }
        return (sign * value, position);
    }
    let mut position = index;
    let mut digits = 0;
    while text.get(position).is_some_and(u8::is_ascii_digit) {
        position += 1;
        digits += 1;
    }
    if text.get(position) == Some(&b'.') {
        position += 1;
        while text.get(position).is_some_and(u8::is_ascii_digit) {
            position += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, start);
    }
    if matches!(text.get(position), Some(b'e') | Some(b'E')) {
        let (_, end) = exponent_digits(text, position + 1);
        if end > position + 1 {
            position = end;
        }
    }
    let literal = core::str::from_utf8(&text[start..position]).unwrap_or("0");
    let value = literal.parse::<f64>().unwrap_or(0.0);
    (value, position)
}

fn exponent_digits(text: &[u8], mut index: usize) -> (i64, usize) {
    let negative = text.get(index) == Some(&b'-');
    if matches!(text.get(index), Some(b'-') | Some(b'+')) {
        index += 1;
    }
    let start = index;
    let mut value: i64 = 0;
    while let Some(&digit) = text.get(index).filter(|byte| byte.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add((digit - b'0') as i64);
        index += 1;
    }
    if index == start {
        return (0, start);
    }
    (if negative { -value } else { value }, index)
}

/// Pads `body` (with its sign or prefix in `prefix`) to `width`.
fn pad(prefix: &str, body: &str, width: usize, flags: Flags, numeric_zero: bool) -> String {
    let length = prefix.len() + body.chars().count();
    if length >= width {
        return format!("{}{}", prefix, body);
    }
    let fill = width - length;
    if flags.left {
        format!("{}{}{}", prefix, body, " ".repeat(fill))
    } else if flags.zero && numeric_zero {
        format!("{}{}{}", prefix, "0".repeat(fill), body)
    } else {
        format!("{}{}{}", " ".repeat(fill), prefix, body)
    }
}

fn format_integer(value: i128, conversion: u8, flags: Flags, width: usize, precision: Option<usize>) -> String {
    let unsigned_value = if value < 0 { (value as i64) as u64 } else { value.min(u64::MAX as i128) as u64 };
    let (mut digits, prefix) = match conversion {
        b'd' | b'i' => {
            let magnitude = value.unsigned_abs();
            let sign = if value < 0 {
                "-"
            } else if flags.plus {
                "+"
            } else if flags.space {
                " "
            } else {
                ""
            };
            (format!("{}", magnitude), sign)
        }
        b'o' => (format!("{:o}", unsigned_value), ""),
        b'u' => (format!("{}", unsigned_value), ""),
        b'x' => (format!("{:x}", unsigned_value), if flags.alternate && unsigned_value != 0 { "0x" } else { "" }),
        _ => (format!("{:X}", unsigned_value), if flags.alternate && unsigned_value != 0 { "0X" } else { "" }),
    };
    if let Some(precision) = precision {
        if precision == 0 && value == 0 {
            digits.clear();
        }
        while digits.len() < precision {
            digits.insert(0, '0');
        }
    }
    if conversion == b'o' && flags.alternate && !digits.starts_with('0') {
        digits.insert(0, '0');
    }
    pad(prefix, &digits, width, flags, precision.is_none())
}

/// C's %e body for a finite non-negative value: "1.500000e+03".
fn exponential(value: f64, precision: usize, upper: bool) -> String {
    let text = format!("{:.*e}", precision, value);
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    let letter = if upper { 'E' } else { 'e' };
    format!("{}{}{}{:02}", mantissa, letter, sign, exponent.unsigned_abs())
}

fn strip_zeros(text: &str) -> String {
    if !text.contains('.') {
        return String::from(text);
    }
    let trimmed = text.trim_end_matches('0');
    String::from(trimmed.strip_suffix('.').unwrap_or(trimmed))
}

/// C's %a body: "0x1.8p+1" (the shortest hex digits, or `precision` of them).
fn hexadecimal(value: f64, precision: Option<usize>, upper: bool) -> String {
    let bits = value.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64;
    let mut mantissa = bits & ((1 << 52) - 1);
    let leading = if exponent == 0 {
        if mantissa == 0 {
            0
        } else {
            exponent = 1;
            0
        }
    } else {
        1
    };
    let exponent = if value == 0.0 { 0 } else { exponent - 1023 };
    let mut digits = format!("{:013x}", mantissa);
    let mut leading = leading;
    match precision {
        None => {
            while digits.ends_with('0') {
                digits.pop();
            }
        }
        Some(precision) if precision < 13 => {
            // Round the mantissa to `precision` hex digits, half to even.
            let drop = (13 - precision) * 4;
            let kept = mantissa >> drop;
            let rest = mantissa & ((1u64 << drop) - 1);
            let half = 1u64 << (drop - 1);
            let mut rounded = kept;
            if rest > half || (rest == half && kept & 1 == 1) {
                rounded += 1;
            }
            if precision > 0 && rounded >> (precision * 4) != 0 || precision == 0 && rounded != 0 {
                leading += 1;
                rounded &= (1u64 << (precision * 4)).wrapping_sub(1);
            }
            mantissa = rounded;
            digits = if precision == 0 { String::new() } else { format!("{:0width$x}", mantissa, width = precision) };
        }
        Some(precision) => {
            while digits.len() < precision {
                digits.push('0');
            }
        }
    }
    let point = if digits.is_empty() { "" } else { "." };
    let text = format!("0x{}{}{}p{}{}", leading, point, digits, if exponent < 0 { '-' } else { '+' }, exponent.abs());
    if upper {
        text.to_uppercase()
    } else {
        text
    }
}

fn format_float(value: f64, conversion: u8, flags: Flags, width: usize, precision: Option<usize>) -> String {
    let upper = conversion.is_ascii_uppercase();
    let sign = if value.is_sign_negative() {
        "-"
    } else if flags.plus {
        "+"
    } else if flags.space {
        " "
    } else {
        ""
    };
    let magnitude = value.abs();
    if !magnitude.is_finite() {
        let body = if magnitude.is_nan() { "nan" } else { "inf" };
        let body = if upper { body.to_uppercase() } else { String::from(body) };
        return pad(sign, &body, width, Flags { zero: false, ..flags }, false);
    }
    let body = match conversion {
        b'f' | b'F' => {
            let mut text = format!("{:.*}", precision.unwrap_or(6), magnitude);
            if flags.alternate && !text.contains('.') {
                text.push('.');
            }
            text
        }
        b'e' | b'E' => {
            let mut text = exponential(magnitude, precision.unwrap_or(6), upper);
            if flags.alternate && precision == Some(0) {
                let at = text.find(['e', 'E']).unwrap_or(text.len());
                text.insert(at, '.');
            }
            text
        }
        b'g' | b'G' => {
            let precision = match precision {
                Some(0) => 1,
                Some(precision) => precision,
                None => 6,
            };
            let probe = exponential(magnitude, precision - 1, false);
            let exponent: i64 = probe.split_once('e').and_then(|(_, exponent)| exponent.parse().ok()).unwrap_or(0);
            let text = if exponent < -4 || exponent >= precision as i64 {
                let mut text = exponential(magnitude, precision - 1, upper);
                if flags.alternate {
                    if !text.contains('.') {
                        let at = text.find(['e', 'E']).unwrap_or(text.len());
                        text.insert(at, '.');
                    }
                    text
                } else {
                    let at = text.find(['e', 'E']).unwrap_or(text.len());
                    format!("{}{}", strip_zeros(&text[..at]), &text[at..])
                }
            } else {
                let decimals = (precision as i64 - 1 - exponent).max(0) as usize;
                let text = format!("{:.*}", decimals, magnitude);
                if flags.alternate {
                    if text.contains('.') {
                        text
                    } else {
                        format!("{}.", text)
                    }
                } else {
                    strip_zeros(&text)
                }
            };
            text
        }
        _ => hexadecimal(magnitude, precision, upper),
    };
    if conversion == b'a' || conversion == b'A' {
        // The 0x prefix goes before zero padding.
        let (prefix, rest) = body.split_at(2);
        let full_prefix = format!("{}{}", sign, prefix);
        return pad(&full_prefix, rest, width, flags, true);
    }
    pad(sign, &body, width, flags, true)
}

/// Shell-quotes `text` as %q does (GNU's shell-escape quoting).
pub fn shell_quote(text: &[u8]) -> String {
    let plain = !text.is_empty()
        && text.iter().all(|byte| byte.is_ascii_alphanumeric() || b"%+,-./:@_#~{}]".contains(byte))
        && !matches!(text[0], b'~' | b'#');
    if plain {
        return format!("{}", crate::common::Text(text));
    }
    crate::common::quote(text)
}

/// Runs FORMAT over the arguments, reusing it while arguments remain.
pub fn run(format_text: &[u8], arguments: &[&[u8]]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut next = 0;
    loop {
        let start = next;
        let stop = one_pass(format_text, arguments, &mut next, &mut outcome);
        if stop || next >= arguments.len() || next == start {
            break;
        }
    }
    outcome
}

/// One pass over FORMAT; true when `\c` stopped everything.
fn one_pass(text: &[u8], arguments: &[&[u8]], next: &mut usize, outcome: &mut Outcome) -> bool {
    let mut index = 0;
    let take = |next: &mut usize| -> Option<&[u8]> {
        let argument = arguments.get(*next).copied();
        if argument.is_some() {
            *next += 1;
        }
        argument
    };
    while index < text.len() {
        let byte = text[index];
        if byte == b'\\' {
            match escape(text, index + 1, &mut outcome.output, false) {
                Some(after) => index = after,
                None => return true,
            }
            continue;
        }
        if byte != b'%' {
            outcome.output.push(byte);
            index += 1;
            continue;
        }
        let directive_start = index;
        index += 1;
        if text.get(index) == Some(&b'%') {
            outcome.output.push(b'%');
            index += 1;
            continue;
        }
        let mut flags = Flags::default();
        while let Some(&flag) = text.get(index) {
            match flag {
                b'-' => flags.left = true,
                b'+' => flags.plus = true,
                b' ' => flags.space = true,
                b'#' => flags.alternate = true,
                b'0' => flags.zero = true,
                b'\'' => {}
                _ => break,
            }
            index += 1;
        }
        let mut width = 0usize;
        if text.get(index) == Some(&b'*') {
            index += 1;
            let value = take(next).map_or(0, |argument| integer_argument(argument, true, outcome));
            if value < 0 {
                flags.left = true;
            }
            width = value.unsigned_abs().min(1 << 20) as usize;
        } else {
            while let Some(&digit) = text.get(index).filter(|byte| byte.is_ascii_digit()) {
                width = (width * 10 + (digit - b'0') as usize).min(1 << 20);
                index += 1;
            }
        }
        let mut precision = None;
        if text.get(index) == Some(&b'.') {
            index += 1;
            if text.get(index) == Some(&b'*') {
                index += 1;
                let value = take(next).map_or(0, |argument| integer_argument(argument, true, outcome));
                precision = if value < 0 { None } else { Some(value.min(1 << 20) as usize) };
            } else {
                let mut value = 0usize;
                while let Some(&digit) = text.get(index).filter(|byte| byte.is_ascii_digit()) {
                    value = (value * 10 + (digit - b'0') as usize).min(1 << 20);
                    index += 1;
                }
                precision = Some(value);
            }
        }
        // Length modifiers are accepted and ignored, as GNU's printf does.
        while matches!(text.get(index), Some(b'h') | Some(b'l') | Some(b'L') | Some(b'j') | Some(b'z') | Some(b't')) {
            index += 1;
        }
        let Some(&conversion) = text.get(index) else {
            outcome
                .warnings
                .push(format!("{}: invalid conversion specification", crate::common::Text(&text[directive_start..])));
            outcome.failed = true;
            return true;
        };
        index += 1;
        let argument = match conversion {
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'c' | b's' | b'b' | b'q' | b'f' | b'F' | b'e' | b'E' | b'g'
            | b'G' | b'a' | b'A' => take(next),
            _ => {
                outcome.warnings.push(format!(
                    "{}: invalid conversion specification",
                    crate::common::Text(&text[directive_start..index])
                ));
                outcome.failed = true;
                return true;
            }
        };
        // GNU refuses flags a conversion cannot take: '#' with c d i s u,
        // '0' with c s, a precision with c.
        let refused = (flags.alternate && matches!(conversion, b'c' | b'd' | b'i' | b's' | b'u'))
            || (flags.zero && matches!(conversion, b'c' | b's'))
            || (precision.is_some() && conversion == b'c');
        if refused {
            outcome.warnings.push(format!(
                "{}: invalid conversion specification",
                crate::common::Text(&text[directive_start..index])
            ));
            outcome.failed = true;
            return true;
        }
        let text_flags = Flags { zero: false, ..flags };
        match conversion {
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X' => {
                let signed = matches!(conversion, b'd' | b'i');
                let value = argument.map_or(0, |argument| integer_argument(argument, signed, outcome));
                outcome.output.extend_from_slice(format_integer(value, conversion, flags, width, precision).as_bytes());
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' => {
                let value = argument.map_or(0.0, |argument| float_argument(argument, outcome));
                outcome.output.extend_from_slice(format_float(value, conversion, flags, width, precision).as_bytes());
            }
            b'c' => {
                // An empty (or missing) argument prints its terminating NUL, as C does.
                let byte = argument.and_then(|argument| argument.first().copied()).unwrap_or(0);
                pad_bytes(&[byte], width, text_flags, &mut outcome.output);
            }
            b's' => {
                let value = argument.unwrap_or(b"");
                let limited = match precision {
                    Some(limit) => &value[..limit.min(value.len())],
                    None => value,
                };
                pad_bytes(limited, width, text_flags, &mut outcome.output);
            }
            b'b' => {
                let mut expanded = Vec::new();
                let stop = expand_argument(argument.unwrap_or(b""), &mut expanded);
                if let Some(limit) = precision {
                    expanded.truncate(limit);
                }
                pad_bytes(&expanded, width, text_flags, &mut outcome.output);
                if stop {
                    return true;
                }
            }
            _ => {
                let quoted = shell_quote(argument.unwrap_or(b""));
                pad_bytes(quoted.as_bytes(), width, text_flags, &mut outcome.output);
            }
        }
    }
    false
}

fn pad_bytes(body: &[u8], width: usize, flags: Flags, out: &mut Vec<u8>) {
    let fill = width.saturating_sub(body.len());
    if !flags.left {
        out.extend(core::iter::repeat_n(b' ', fill));
    }
    out.extend_from_slice(body);
    if flags.left {
        out.extend(core::iter::repeat_n(b' ', fill));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn printf(format: &str, arguments: &[&str]) -> String {
        let arguments: Vec<&[u8]> = arguments.iter().map(|argument| argument.as_bytes()).collect();
        String::from_utf8(run(format.as_bytes(), &arguments).output).unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(
            printf("%d|%5d|%-5d|%05d|%+d|% d", &["42", "42", "42", "-42", "7", "7"]),
            "42|   42|42   |-0042|+7| 7"
        );
        assert_eq!(
            printf("%x %X %#x %o %#o %u", &["255", "255", "255", "8", "8", "-1"]),
            "ff FF 0xff 10 010 18446744073709551615"
        );
        assert_eq!(printf("%.3d|%.0d|%5.2d", &["7", "0", "3"]), "007||   03");
        assert_eq!(printf("%d %d %d", &["0x10", "010", "'A"]), "16 8 65");
        assert_eq!(printf("%*d|%-*d|", &["4", "1", "3", "2"]), "   1|2  |");
    }

    #[test]
    fn floats() {
        assert_eq!(
            printf("%f %.2f %.0f %e %g", &["1.5", "2.345", "2.5", "1234.5", "0.0001"]),
            "1.500000 2.35 2 1.234500e+03 0.0001"
        );
        assert_eq!(printf("%g %g %g %G", &["100000", "1000000", "1e-5", "1e-10"]), "100000 1e+06 1e-05 1E-10");
        assert_eq!(
            printf("%#g %#.0f %#.0e %#.0g %#.1g", &["1", "3", "5", "-12345", "7"]),
            "1.00000 3. 5.e+00 -1.e+04 7."
        );
        assert_eq!(printf("%8.3f|%-8.3f|%08.3f", &["3.14159", "3.14159", "-3.14159"]), "   3.142|3.142   |-003.142");
        assert_eq!(printf("%f %f %F %f", &["inf", "-inf", "nan", "-nan"]), "inf -inf NAN -nan");
        assert_eq!(printf("%a %a %A %.1a", &["1", "3", "0.5", "1.75"]), "0x1p+0 0x1.8p+1 0X1P-1 0x1.cp+0");
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(printf("%s-%5s-%-5s-%.2s", &["a", "b", "c", "long"]), "a-    b-c    -lo");
        assert_eq!(printf("%c%c", &["xyz", ""]), "x\0");
        assert_eq!(run(b"[%#u]", &[b"1"]).warnings, ["%#u: invalid conversion specification"]);
        assert_eq!(run(b"[%05s]", &[b"1"]).output, b"[");
        assert_eq!(printf("%.2c|%#x", &["a", "1"]), "");
        assert_eq!(printf("%b", &["a\\tb\\0101\\n"]), "a\tbA\n");
        assert_eq!(printf("x\\ty\\101\\x41\\u00e9\\n", &[]), "x\ty\u{41}A\u{e9}\n");
        assert_eq!(printf("%q %q %q", &["plain", "a b", "it's"]), "plain 'a b' \"it's\"");
        assert_eq!(printf("a\\cb", &[]), "a");
        assert_eq!(printf("%b|%s", &["stop\\chere", "never"]), "stop");
    }

    #[test]
    fn the_format_repeats_for_remaining_arguments() {
        assert_eq!(printf("%s=%d\\n", &["a", "1", "b", "2", "c"]), "a=1\nb=2\nc=0\n");
        assert_eq!(printf("no conversions\\n", &["ignored"]), "no conversions\n");
        assert_eq!(printf("%s %s|", &["1"]), "1 |");
    }

    #[test]
    fn bad_numbers_warn_and_count_as_zero() {
        let outcome = run(b"%d %d %d", &[b"abc", b"12x", b"99999999999999999999"]);
        assert_eq!(outcome.output, b"0 12 9223372036854775807");
        assert_eq!(
            outcome.warnings,
            [
                "'abc': expected a numeric value",
                "'12x': value not completely converted",
                "'99999999999999999999': Numerical result out of range"
            ]
        );
        assert!(outcome.failed);
        let outcome = run(b"%z", &[]);
        assert_eq!(outcome.warnings, ["%z: invalid conversion specification"]);
    }

    proptest! {
        #[test]
        fn integers_match_rust_formatting(value in any::<i32>(), width in 0usize..12) {
            let text = value.to_string();
            prop_assert_eq!(printf(&format!("%{}d", width), &[&text]), format!("{:>width$}", value, width = width));
            prop_assert_eq!(printf(&format!("%-{}d|", width), &[&text]), format!("{:<width$}|", value, width = width));
            prop_assert_eq!(printf("%x", &[&text]), format!("{:x}", value as i64 as u64));
        }

        #[test]
        fn fixed_point_matches_rust(mantissa in -1_000_000i64..1_000_000, shift in 0u32..20, precision in 0usize..10) {
            let value = mantissa as f64 / (1u64 << shift) as f64;
            let text = format!("{:.20}", value);
            prop_assert_eq!(printf(&format!("%.{}f", precision), &[&text]), format!("{:.*}", precision, value));
        }
    }
}
