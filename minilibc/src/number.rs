//! Number parsing shared by `strtol`/`strtod`/`atoi` and the scanf engine.
//!
//! Decimal floating point goes through `core`'s correctly rounded
//! `str::parse`; hexadecimal floating point (`0x1.8p3`) is assembled here with
//! round-half-to-even ([`compose_double`]), which also converts x87 `long
//! double` values to `f64`.
#![forbid(unsafe_code)]

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// An integer as written: its magnitude (saturated), sign and extent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedInteger {
    pub magnitude: u64,
    pub negative: bool,
    /// Bytes consumed, leading white space included; 0 when nothing parsed.
    pub consumed: usize,
    /// The magnitude did not fit in 64 bits.
    pub overflow: bool,
}

fn digit_value(byte: u8) -> u32 {
    match byte {
        b'0'..=b'9' => (byte - b'0') as u32,
        b'a'..=b'z' => (byte - b'a') as u32 + 10,
        b'A'..=b'Z' => (byte - b'A') as u32 + 10,
        _ => 99,
    }
}

/// Parses like `strtoul`'s front end. `base` is 0 (auto) or 2..=36; an
/// invalid base yields `None`.
pub fn parse_integer(text: &[u8], base: u32) -> Option<ParsedInteger> {
    if base == 1 || base > 36 {
        return None;
    }
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut index = 0;
    while is_space(at(index)) {
        index += 1;
    }
    let mut negative = false;
    if at(index) == b'+' || at(index) == b'-' {
        negative = at(index) == b'-';
        index += 1;
    }
    let mut base = base;
    let has_hex_prefix = at(index) == b'0' && (at(index + 1) | 0x20) == b'x' && digit_value(at(index + 2)) < 16;
    if (base == 0 || base == 16) && has_hex_prefix {
        base = 16;
        index += 2;
    } else if base == 0 {
        base = if at(index) == b'0' { 8 } else { 10 };
    }
    let digits_start = index;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while digit_value(at(index)) < base {
        let digit = digit_value(at(index)) as u64;
        match magnitude.checked_mul(base as u64).and_then(|v| v.checked_add(digit)) {
            Some(value) => magnitude = value,
            None => overflow = true,
        }
        index += 1;
    }
    if index == digits_start {
        return Some(ParsedInteger { magnitude: 0, negative: false, consumed: 0, overflow: false });
    }
    if overflow {
        magnitude = u64::MAX;
    }
    Some(ParsedInteger { magnitude, negative, consumed: index, overflow })
}

/// `strtoll` semantics: (value, consumed, out of range).
pub fn parse_signed(text: &[u8], base: u32, minimum: i64, maximum: i64) -> Option<(i64, usize, bool)> {
    let parsed = parse_integer(text, base)?;
    let limit = if parsed.negative { minimum.unsigned_abs() } else { maximum as u64 };
    if parsed.overflow || parsed.magnitude > limit {
        return Some((if parsed.negative { minimum } else { maximum }, parsed.consumed, true));
    }
    let value = if parsed.negative { (parsed.magnitude as i64).wrapping_neg() } else { parsed.magnitude as i64 };
    Some((value, parsed.consumed, false))
}

/// `strtoull` semantics (a minus sign negates modulo 2^bits): (value, consumed, out of range).
pub fn parse_unsigned(text: &[u8], base: u32, maximum: u64) -> Option<(u64, usize, bool)> {
    let parsed = parse_integer(text, base)?;
    if parsed.overflow || parsed.magnitude > maximum {
        return Some((maximum, parsed.consumed, true));
    }
    let value = if parsed.negative { parsed.magnitude.wrapping_neg() & maximum } else { parsed.magnitude };
    Some((value, parsed.consumed, false))
}

/// A floating-point number as written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParsedFloat {
    pub value: f64,
    /// Bytes consumed, leading white space included; 0 when nothing parsed.
    pub consumed: usize,
    /// Overflow to infinity or underflow to zero/subnormal (ERANGE).
    pub range_error: bool,
}

fn starts_with_ignoring_case(text: &[u8], word: &[u8]) -> bool {
    text.len() >= word.len() && text[..word.len()].eq_ignore_ascii_case(word)
}

/// Length of the longest prefix of `text` (after sign) that is a decimal
/// floating constant, and whether it has a nonzero digit.
fn decimal_extent(text: &[u8]) -> (usize, bool) {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut index = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while at(index).is_ascii_digit() {
        nonzero |= at(index) != b'0';
        index += 1;
        digits += 1;
    }
    if at(index) == b'.' {
        index += 1;
        while at(index).is_ascii_digit() {
            nonzero |= at(index) != b'0';
            index += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0, false);
    }
    if at(index) | 0x20 == b'e' {
        let mut exponent_index = index + 1;
        if at(exponent_index) == b'+' || at(exponent_index) == b'-' {
            exponent_index += 1;
        }
        if at(exponent_index).is_ascii_digit() {
            while at(exponent_index).is_ascii_digit() {
                exponent_index += 1;
            }
            index = exponent_index;
        }
    }
    (index, nonzero)
}

/// Parses like `strtod`.
pub fn parse_float(text: &[u8]) -> ParsedFloat {
    parse_float_with(text, |decimal| decimal.parse::<f64>().ok())
}

/// Parses like `strtof`: decimal input is rounded once, straight to `f32`.
pub fn parse_float_single(text: &[u8]) -> (f32, usize, bool) {
    let parsed = parse_float_with(text, |decimal| decimal.parse::<f32>().ok().map(|v| v as f64));
    let single = parsed.value as f32;
    let range = parsed.range_error
        || (single.is_infinite() && parsed.value.is_finite())
        || (single == 0.0 && parsed.value != 0.0)
        || (single != 0.0 && single.abs() < f32::MIN_POSITIVE);
    (single, parsed.consumed, range)
}

fn parse_float_with(text: &[u8], decimal_parser: impl Fn(&str) -> Option<f64>) -> ParsedFloat {
    let nothing = ParsedFloat { value: 0.0, consumed: 0, range_error: false };
    let mut index = 0;
    while index < text.len() && is_space(text[index]) {
        index += 1;
    }
    let sign_start = index;
    let mut negative = false;
    if index < text.len() && (text[index] == b'+' || text[index] == b'-') {
        negative = text[index] == b'-';
        index += 1;
    }
    let rest = &text[index..];
    let signed = |value: f64| if negative { -value } else { value };
    if starts_with_ignoring_case(rest, b"inf") {
        let length = if starts_with_ignoring_case(rest, b"infinity") { 8 } else { 3 };
        return ParsedFloat { value: signed(f64::INFINITY), consumed: index + length, range_error: false };
    }
    if starts_with_ignoring_case(rest, b"nan") {
        let mut length = 3;
        if rest.get(3) == Some(&b'(') {
            let inner = rest[4..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            if rest.get(4 + inner) == Some(&b')') {
                length = 5 + inner;
            }
        }
        return ParsedFloat { value: signed(f64::NAN), consumed: index + length, range_error: false };
    }
    if rest.len() >= 2 && rest[0] == b'0' && rest[1] | 0x20 == b'x' {
        if let Some((value, length, range_error)) = parse_hexadecimal_float(&rest[2..], negative) {
            return ParsedFloat { value, consumed: index + 2 + length, range_error };
        }
    }
    let (length, nonzero) = decimal_extent(rest);
    if length == 0 {
        return nothing;
    }
    let literal = core::str::from_utf8(&text[sign_start..index + length]).unwrap_or("0");
    let Some(value) = decimal_parser(literal) else {
        return nothing;
    };
    let range_error = value.is_infinite() || (nonzero && value.abs() < f64::MIN_POSITIVE);
    ParsedFloat { value, consumed: index + length, range_error }
}

/// Parses the part after "0x"; `None` when no hex digit follows.
fn parse_hexadecimal_float(text: &[u8], negative: bool) -> Option<(f64, usize, bool)> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut index = 0;
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut seen_point = false;
    loop {
        let byte = at(index);
        if byte == b'.' && !seen_point {
            seen_point = true;
            index += 1;
            continue;
        }
        let digit = digit_value(byte);
        if digit >= 16 {
            break;
        }
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = mantissa << 4 | digit as u64;
            if seen_point {
                exponent -= 4;
            }
        } else {
            sticky |= digit != 0;
            if !seen_point {
                exponent += 4;
            }
        }
        index += 1;
    }
    if digits == 0 {
        return None;
    }
    if at(index) | 0x20 == b'p' {
        let mut exponent_index = index + 1;
        let mut exponent_negative = false;
        if at(exponent_index) == b'+' || at(exponent_index) == b'-' {
            exponent_negative = at(exponent_index) == b'-';
            exponent_index += 1;
        }
        if at(exponent_index).is_ascii_digit() {
            let mut written: i64 = 0;
            while at(exponent_index).is_ascii_digit() {
                written = (written * 10 + (at(exponent_index) - b'0') as i64).min(1 << 40);
                exponent_index += 1;
            }
            exponent += if exponent_negative { -written } else { written };
            index = exponent_index;
        }
    }
    let value = compose_double(mantissa, exponent, sticky);
    let range_error = value.is_infinite() || (mantissa != 0 && value < f64::MIN_POSITIVE);
    Some((if negative { -value } else { value }, index, range_error))
}

/// The double nearest to `mantissa * 2^exponent` (ties to even); `sticky`
/// says nonzero bits were dropped below `mantissa`.
pub fn compose_double(mantissa: u64, exponent: i64, sticky: bool) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let leading = mantissa.leading_zeros() as i64;
    let normalized = (mantissa << leading) as u128;
    // value = normalized * 2^(exponent - leading), normalized in [2^63, 2^64).
    let binary_exponent = exponent - leading + 63;
    if binary_exponent > 1023 {
        return f64::INFINITY;
    }
    let shift = if binary_exponent >= -1022 { 11 } else { 11 + (-1022 - binary_exponent) };
    if shift >= 120 {
        return 0.0;
    }
    let shift = shift as u32;
    let kept = (normalized >> shift) as u64;
    let remainder = normalized & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let round_up = remainder > half || (remainder == half && (sticky || kept & 1 == 1));
    let kept = kept + round_up as u64;
    let bits = if binary_exponent >= -1022 { (((binary_exponent + 1022) as u64) << 52) + kept } else { kept };
    if bits >= 0x7ff0_0000_0000_0000 {
        return f64::INFINITY;
    }
    f64::from_bits(bits)
}

/// Converts an x87 80-bit extended value (its 10 bytes, little-endian) to the nearest `f64`.
pub fn extended_to_double(bytes: [u8; 10]) -> f64 {
    let mantissa = u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]);
    let sign_exponent = u16::from_le_bytes([bytes[8], bytes[9]]);
    let negative = sign_exponent & 0x8000 != 0;
    let biased = (sign_exponent & 0x7fff) as i64;
    let magnitude = if biased == 0x7fff {
        if mantissa << 1 == 0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    } else {
        let exponent = if biased == 0 { -16382 - 63 } else { biased - 16383 - 63 };
        compose_double(mantissa, exponent, false)
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// The double nearest to an IEEE binary128 `long double` (aarch64's; the
/// 16 bytes little-endian): a 15-bit exponent and 112 stored mantissa bits,
/// of which the top 63 and a sticky bit decide the rounding.
pub fn quadruple_to_double(bytes: [u8; 16]) -> f64 {
    let bits = u128::from_le_bytes(bytes);
    let negative = bits >> 127 != 0;
    let biased = ((bits >> 112) & 0x7fff) as i64;
    let fraction = bits & ((1u128 << 112) - 1);
    let magnitude = if biased == 0x7fff {
        if fraction == 0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    } else {
        // The significand with its implicit bit (none for subnormals), cut
        // to 64 bits; what is dropped below makes the sticky bit.
        let significand = if biased == 0 { fraction } else { fraction | 1u128 << 112 };
        let mantissa = (significand >> 49) as u64;
        let sticky = significand & ((1u128 << 49) - 1) != 0;
        let exponent = if biased == 0 { -16382 - 63 } else { biased - 16383 - 63 };
        compose_double(mantissa, exponent, sticky)
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` as binary128 (exact: every double is one).
    fn quadruple_of(value: f64) -> [u8; 16] {
        let bits = value.to_bits();
        let negative = (bits >> 63) as u128;
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let fraction = (bits & ((1 << 52) - 1)) as u128;
        let quadruple = if biased == 0x7ff {
            negative << 127 | 0x7fffu128 << 112 | fraction << 60
        } else if biased == 0 {
            if fraction == 0 {
                negative << 127
            } else {
                // A subnormal double is a normal quadruple.
                let shift = fraction.leading_zeros() as i64 - (128 - 53);
                let exponent = -1022 - shift + 16383;
                let normalized = (fraction << shift) & ((1 << 52) - 1);
                negative << 127 | (exponent as u128) << 112 | normalized << 60
            }
        } else {
            negative << 127 | ((biased - 1023 + 16383) as u128) << 112 | fraction << 60
        };
        quadruple.to_le_bytes()
    }

    #[test]
    fn quadruple() {
        assert_eq!(quadruple_to_double(quadruple_of(1.0)), 1.0);
        assert_eq!(quadruple_to_double(quadruple_of(-2.5)), -2.5);
        assert!(quadruple_to_double(quadruple_of(f64::NAN)).is_nan());
        assert_eq!(quadruple_to_double(quadruple_of(f64::NEG_INFINITY)), f64::NEG_INFINITY);
        // 1 + 2^-60: rounds to 1; 1 + 2^-52 + 2^-53 + 2^-100: up (sticky).
        let mut bits = 16383u128 << 112 | 1u128 << (112 - 60);
        assert_eq!(quadruple_to_double(bits.to_le_bytes()), 1.0);
        bits = 16383u128 << 112 | 1u128 << (112 - 52) | 1u128 << (112 - 53) | 1u128 << (112 - 100);
        assert_eq!(quadruple_to_double(bits.to_le_bytes()), 1.0 + 2.0 * f64::EPSILON);
        // Beyond the double's range.
        assert_eq!(quadruple_to_double((20000u128 << 112).to_le_bytes()), f64::INFINITY);
        assert_eq!(quadruple_to_double((100u128 << 112).to_le_bytes()), 0.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        #[test]
        fn every_double_survives_binary128(bits in proptest::num::u64::ANY) {
            let value = f64::from_bits(bits);
            let back = quadruple_to_double(quadruple_of(value));
            proptest::prop_assert!(back.to_bits() == value.to_bits() || (value.is_nan() && back.is_nan()));
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_signed(b"  -123abc", 10, i64::MIN, i64::MAX), Some((-123, 6, false)));
        assert_eq!(parse_signed(b"0x1F", 0, i64::MIN, i64::MAX), Some((31, 4, false)));
        assert_eq!(parse_signed(b"0x", 16, i64::MIN, i64::MAX), Some((0, 1, false)));
        assert_eq!(parse_signed(b"017", 0, i64::MIN, i64::MAX), Some((15, 3, false)));
        assert_eq!(parse_signed(b"99999999999999999999", 10, i64::MIN, i64::MAX), Some((i64::MAX, 20, true)));
        assert_eq!(parse_signed(b"-9223372036854775808", 10, i64::MIN, i64::MAX), Some((i64::MIN, 20, false)));
        assert_eq!(parse_signed(b"xyz", 10, i64::MIN, i64::MAX), Some((0, 0, false)));
        assert_eq!(parse_signed(b"1", 37, i64::MIN, i64::MAX), None);
        assert_eq!(parse_unsigned(b"-1", 10, u64::MAX), Some((u64::MAX, 2, false)));
        assert_eq!(parse_unsigned(b"zz", 36, u64::MAX), Some((1295, 2, false)));
    }

    #[test]
    fn floats() {
        let p = parse_float(b" 1.5e3x");
        assert_eq!((p.value, p.consumed), (1500.0, 6));
        assert_eq!(parse_float(b"1e").consumed, 1);
        assert_eq!(parse_float(b".").consumed, 0);
        assert_eq!(parse_float(b"-inFinity").value, f64::NEG_INFINITY);
        assert!(parse_float(b"nan(123)").value.is_nan());
        assert_eq!(parse_float(b"nan(123)").consumed, 8);
        assert_eq!(parse_float(b"0x1.8p1").value, 3.0);
        assert_eq!(parse_float(b"0x.8").value, 0.5);
        assert_eq!(parse_float(b"0xg").consumed, 1);
        assert_eq!(parse_float(b"0x1p-1074").value, f64::from_bits(1));
        assert_eq!(parse_float(b"0x1p-1075").value, 0.0);
        assert_eq!(parse_float(b"0x1.8p-1074").value, f64::from_bits(2));
        assert!(parse_float(b"1e400").range_error);
        assert!(parse_float(b"1e-400").range_error);
        assert_eq!(parse_float(b"0x1.fffffffffffff8p0").value, 2.0);
        assert_eq!(parse_float_single(b"0.1").0, 0.1f32);
    }

    #[test]
    fn extended() {
        // 1.0 in x87 format: mantissa 0x8000..., exponent 16383.
        let mut bytes = [0u8; 10];
        bytes[7] = 0x80;
        bytes[8..].copy_from_slice(&16383u16.to_le_bytes());
        assert_eq!(extended_to_double(bytes), 1.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        #[test]
        fn hex_round_trip(bits in proptest::num::u64::ANY) {
            let value = f64::from_bits(bits);
            if value.is_finite() {
                let mut text = alloc::string::String::from(if value.is_sign_negative() { "-0x" } else { "0x" });
                crate::format::hexadecimal(&mut text, value.abs(), None);
                let parsed = parse_float(text.as_bytes());
                proptest::prop_assert_eq!(parsed.value.to_bits(), value.to_bits());
                proptest::prop_assert_eq!(parsed.consumed, text.len());
            }
        }
        #[test]
        fn decimal_round_trip(value in proptest::num::f64::ANY) {
            if value.is_finite() {
                let text = alloc::format!("{:e}", value);
                proptest::prop_assert_eq!(parse_float(text.as_bytes()).value.to_bits(), value.to_bits());
            }
        }
        #[test]
        fn signed_matches_rust(value in proptest::num::i64::ANY) {
            let text = alloc::format!("{}", value);
            proptest::prop_assert_eq!(parse_signed(text.as_bytes(), 10, i64::MIN, i64::MAX), Some((value, text.len(), false)));
        }
    }
}
