//! The printf engine: parses a C format string and renders each conversion.
//!
//! It knows nothing about C varargs: the caller supplies an [`Arguments`]
//! source (the C edge reads a `va_list`; tests use a vector) and an [`Output`]
//! sink. Floating point is rendered from Rust's `core::fmt`, which prints the
//! exact decimal expansion rounded half-to-even at any precision, so `%e`,
//! `%f` and `%g` are correctly rounded like glibc's.
//!
//! Supported: flags `- + space # 0 '`, width and precision (numbers or `*`),
//! lengths `hh h l ll q j z Z t L`, conversions `d i u o x X c s p n % e E f F
//! g G a A`, `m`, and `C`/`S` (= `lc`/`ls`) (the message for the errno value the source provides).
//! Positional arguments (`%2$d`, `%*3$d`) are supported: a first pass finds
//! each argument's kind so the source can step to any of them. Unknown
//! conversions are copied to the output verbatim, as glibc does.
#![forbid(unsafe_code)]

use alloc::string::String;
use core::fmt::Write;

/// The C length modifier of a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    Default,
    Char,
    Short,
    Long,
    LongLong,
    IntMax,
    Size,
    PointerDifference,
    LongDouble,
}

impl Length {
    /// The length modifier at the start of a conversion (`hh h l ll q j z t
    /// L`, as printf and scanf share them), given its first two bytes, and
    /// how many bytes it takes.
    pub fn parse(first: u8, second: u8) -> (Length, usize) {
        match (first, second) {
            (b'h', b'h') => (Length::Char, 2),
            (b'h', _) => (Length::Short, 1),
            (b'l', b'l') => (Length::LongLong, 2),
            (b'l', _) => (Length::Long, 1),
            (b'q', _) => (Length::LongLong, 1),
            (b'j', _) => (Length::IntMax, 1),
            (b'z', _) => (Length::Size, 1),
            (b't', _) => (Length::PointerDifference, 1),
            (b'L', _) => (Length::LongDouble, 1),
            _ => (Length::Default, 0),
        }
    }
}

/// Where conversion arguments come from.
pub trait Arguments {
    /// The next integer argument's full 64-bit slot; the engine truncates it.
    fn next_integer(&mut self) -> u64;
    /// The next `double`.
    fn next_double(&mut self) -> f64;
    /// The next `long double`, rounded to the nearest `f64`.
    fn next_long_double(&mut self) -> f64;
    /// The bytes of the next C string argument, stopping at NUL or after
    /// `limit` bytes; `None` for a null pointer.
    fn next_string(&mut self, limit: Option<usize>) -> Option<&[u8]>;
    /// The next `wchar_t` string argument encoded as UTF-8, at most `limit`
    /// bytes and whole characters only; `None` for a null pointer.
    fn next_wide_string(&mut self, limit: Option<usize>) -> Option<alloc::vec::Vec<u8>>;
    /// Stores `count` through the next argument (a pointer sized by `length`).
    fn store_count(&mut self, length: Length, count: usize);
    /// Positional formats (`%n$`): the kinds of arguments 1..=n, given once
    /// before rendering; afterwards `select` chooses the argument the next
    /// `next_*` call returns.
    fn begin_positional(&mut self, kinds: &[ArgumentKind]);
    /// Makes the next `next_*` call read argument `position` (1-based).
    fn select(&mut self, position: usize);
    /// The message for the current `errno` (for `%m`).
    fn error_message(&mut self) -> &'static str {
        "Unknown error"
    }
}

/// Where rendered bytes go.
pub trait Output {
    /// Writes all of `bytes`, or fails (the stream's error is already recorded).
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), OutputError>;
}

/// The sink refused bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputError;

impl Output for alloc::vec::Vec<u8> {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

#[derive(Clone, Copy, Default)]
struct Flags {
    left: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    zero: bool,
}

struct Specification {
    flags: Flags,
    width: usize,
    precision: Option<usize>,
}

/// Counts bytes as they pass to the sink.
struct CountingOutput<'a, O: Output> {
    inner: &'a mut O,
    count: usize,
}

impl<O: Output> CountingOutput<'_, O> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.count += bytes.len();
        self.inner.write_bytes(bytes)
    }

    fn repeat(&mut self, byte: u8, count: usize) -> Result<(), OutputError> {
        let chunk = [byte; 64];
        let mut remaining = count;
        while remaining > 0 {
            let step = remaining.min(chunk.len());
            self.put(&chunk[..step])?;
            remaining -= step;
        }
        Ok(())
    }
}

/// Renders `format` with `arguments` into `output`; returns the byte count.
pub fn format<A: Arguments, O: Output>(format: &[u8], arguments: &mut A, output: &mut O) -> Result<usize, OutputError> {
    let mut out = CountingOutput { inner: output, count: 0 };
    if let Some(kinds) = positional_kinds(format) {
        arguments.begin_positional(&kinds);
    }
    let mut index = 0;
    while index < format.len() {
        let literal_end = format[index..].iter().position(|&b| b == b'%').map_or(format.len(), |p| index + p);
        if literal_end > index {
            out.put(&format[index..literal_end])?;
        }
        if literal_end >= format.len() {
            break;
        }
        index = convert(format, literal_end, arguments, &mut out)?;
    }
    Ok(out.count)
}

/// How a width or precision is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Count {
    Absent,
    Literal(usize),
    /// `*` (the next argument) or `*m$` (argument m).
    Argument(Option<usize>),
}

/// One conversion specification, parsed without touching the arguments.
struct Parsed {
    /// `%n$`: the 1-based argument the value comes from.
    value_position: Option<usize>,
    flags: Flags,
    width: Count,
    precision: Count,
    length: Length,
    /// 0 when the format ends inside the specification.
    conversion: u8,
    /// Index just after the specification.
    end: usize,
}

/// Reads "digits$" at `index`: the position and the index after '$'.
fn position_at(format: &[u8], index: usize) -> Option<(usize, usize)> {
    let digits = format[index.min(format.len())..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || format.get(index + digits) != Some(&b'$') {
        return None;
    }
    let mut value = 0usize;
    for &digit in &format[index..index + digits] {
        value = value.saturating_mul(10).saturating_add((digit - b'0') as usize);
    }
    if value == 0 {
        return None;
    }
    Some((value, index + digits + 1))
}

fn parse_specification(format: &[u8], start: usize) -> Parsed {
    let at = |i: usize| format.get(i).copied().unwrap_or(0);
    let mut index = start + 1;
    let mut value_position = None;
    if let Some((position, next)) = position_at(format, index) {
        value_position = Some(position);
        index = next;
    }
    let mut flags = Flags::default();
    loop {
        match at(index) {
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
    let read_count = |index: &mut usize| -> Count {
        if at(*index) == b'*' {
            *index += 1;
            match position_at(format, *index) {
                Some((position, next)) => {
                    *index = next;
                    Count::Argument(Some(position))
                }
                None => Count::Argument(None),
            }
        } else {
            let mut value = 0usize;
            let begin = *index;
            while at(*index).is_ascii_digit() {
                value = value.saturating_mul(10).saturating_add((at(*index) - b'0') as usize);
                *index += 1;
            }
            if *index == begin {
                Count::Absent
            } else {
                Count::Literal(value)
            }
        }
    };
    let width = read_count(&mut index);
    let precision = if at(index) == b'.' {
        index += 1;
        match read_count(&mut index) {
            Count::Absent => Count::Literal(0),
            other => other,
        }
    } else {
        Count::Absent
    };
    // `Z` is glibc's old spelling of `z`, accepted by printf only.
    let (length, consumed) =
        if at(index) == b'Z' { (Length::Size, 1) } else { Length::parse(at(index), at(index + 1)) };
    index += consumed;
    let conversion = if index < format.len() { format[index] } else { 0 };
    Parsed { value_position, flags, width, precision, length, conversion, end: (index + 1).min(format.len()) }
}

/// The kind of slot an argument occupies, for positional (`%n$`) formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgumentKind {
    /// Integers, characters and every pointer (%s, %p, %n).
    Word,
    Double,
    LongDouble,
}

/// For a format using `%n$`, the kind of each argument 1..=max; `None` for
/// an ordinary format.
fn positional_kinds(format: &[u8]) -> Option<alloc::vec::Vec<ArgumentKind>> {
    let mut kinds: alloc::vec::Vec<ArgumentKind> = alloc::vec::Vec::new();
    let mut positional = false;
    let record = |kinds: &mut alloc::vec::Vec<ArgumentKind>, position: usize, kind: ArgumentKind| {
        // NL_ARGMAX is 4096 in glibc; larger positions are ignored.
        if position <= 4096 {
            if kinds.len() < position {
                kinds.resize(position, ArgumentKind::Word);
            }
            kinds[position - 1] = kind;
        }
    };
    let mut index = 0;
    while let Some(offset) = format[index..].iter().position(|&b| b == b'%') {
        let parsed = parse_specification(format, index + offset);
        index = parsed.end;
        for count in [parsed.width, parsed.precision] {
            if let Count::Argument(Some(position)) = count {
                positional = true;
                record(&mut kinds, position, ArgumentKind::Word);
            }
        }
        if let Some(position) = parsed.value_position {
            positional = true;
            let kind = match parsed.conversion {
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' if parsed.length == Length::LongDouble => {
                    ArgumentKind::LongDouble
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => ArgumentKind::Double,
                _ => ArgumentKind::Word,
            };
            if parsed.conversion != b'%' && parsed.conversion != b'm' {
                record(&mut kinds, position, kind);
            }
        }
        if index >= format.len() {
            break;
        }
    }
    if positional {
        Some(kinds)
    } else {
        None
    }
}

/// Resolves a width or precision given by argument.
fn count_value<A: Arguments>(count: Count, arguments: &mut A) -> Option<i32> {
    match count {
        Count::Absent | Count::Literal(_) => None,
        Count::Argument(position) => {
            if let Some(position) = position {
                arguments.select(position);
            }
            Some(arguments.next_integer() as i32)
        }
    }
}

/// Renders one specification starting at `start` (a `%`); returns the index after it.
fn convert<A: Arguments, O: Output>(
    format: &[u8],
    start: usize,
    arguments: &mut A,
    out: &mut CountingOutput<'_, O>,
) -> Result<usize, OutputError> {
    let parsed = parse_specification(format, start);
    if parsed.conversion == 0 {
        // A '%' that ends the format is an error (glibc returns -1 too).
        return Err(OutputError);
    }
    let mut flags = parsed.flags;
    let width = match (parsed.width, count_value(parsed.width, arguments)) {
        (_, Some(value)) => {
            if value < 0 {
                flags.left = true;
            }
            value.unsigned_abs() as usize
        }
        (Count::Literal(value), None) => value,
        _ => 0,
    };
    let precision = match (parsed.precision, count_value(parsed.precision, arguments)) {
        (_, Some(value)) => {
            if value < 0 {
                None
            } else {
                Some(value as usize)
            }
        }
        (Count::Literal(value), None) => Some(value),
        _ => None,
    };
    if let Some(position) = parsed.value_position {
        arguments.select(position);
    }
    let length = parsed.length;
    let specification = Specification { flags, width, precision };
    let conversion = parsed.conversion;
    let index = parsed.end;
    match conversion {
        b'd' | b'i' => {
            let raw = arguments.next_integer();
            let value = signed_value(raw, length);
            integer(out, &specification, value.unsigned_abs(), value < 0, 10, false, true, false)?;
        }
        b'u' | b'o' | b'x' | b'X' => {
            let raw = arguments.next_integer();
            let base = match conversion {
                b'o' => 8,
                b'u' => 10,
                _ => 16,
            };
            integer(out, &specification, unsigned_value(raw, length), false, base, conversion == b'X', false, false)?;
        }
        b'c' | b'C' => {
            let byte = arguments.next_integer() as u32;
            let mut encoded = [0u8; 4];
            let used = if (length == Length::Long || conversion == b'C') && byte >= 0x80 {
                char::from_u32(byte).unwrap_or('?').encode_utf8(&mut encoded).len()
            } else {
                encoded[0] = byte as u8;
                1
            };
            padded(out, &specification, b"", &encoded[..used], false)?;
        }
        b's' | b'S' => {
            let limit = specification.precision;
            let wide = conversion == b'S' || length == Length::Long;
            let text: Option<alloc::vec::Vec<u8>> = if wide {
                arguments.next_wide_string(limit)
            } else {
                arguments.next_string(limit).map(|bytes| bytes.to_vec())
            };
            let text: alloc::vec::Vec<u8> = match text {
                Some(bytes) => bytes,
                None if limit.is_none_or(|l| l >= 6) => b"(null)".to_vec(),
                None => alloc::vec::Vec::new(),
            };
            padded(out, &specification, b"", &text, false)?;
        }
        b'm' => {
            let message = arguments.error_message().as_bytes();
            let shown = &message[..specification.precision.map_or(message.len(), |p| p.min(message.len()))];
            padded(out, &specification, b"", shown, false)?;
        }
        b'p' => {
            let value = arguments.next_integer();
            if value == 0 {
                padded(out, &specification, b"", b"(nil)", false)?;
            } else {
                integer(out, &specification, value, false, 16, false, true, true)?;
            }
        }
        b'n' => arguments.store_count(length, out.count),
        b'%' => out.put(b"%")?,
        b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => {
            let value =
                if length == Length::LongDouble { arguments.next_long_double() } else { arguments.next_double() };
            floating(out, &specification, value, conversion)?;
        }
        _ => {
            // Unknown conversion: copy the specification as written.
            let end = index.min(format.len());
            out.put(&format[start..end])?;
            return Ok(end);
        }
    }
    Ok(index)
}

/// Sign-extends an integer argument from its C type.
pub fn signed_value(raw: u64, length: Length) -> i64 {
    match length {
        Length::Char => raw as i8 as i64,
        Length::Short => raw as i16 as i64,
        Length::Default => raw as i32 as i64,
        _ => raw as i64,
    }
}

/// Zero-extends an integer argument from its C type.
pub fn unsigned_value(raw: u64, length: Length) -> u64 {
    match length {
        Length::Char => raw as u8 as u64,
        Length::Short => raw as u16 as u64,
        Length::Default => raw as u32 as u64,
        _ => raw,
    }
}

fn sign_prefix(flags: &Flags, negative: bool) -> &'static [u8] {
    if negative {
        b"-"
    } else if flags.plus {
        b"+"
    } else if flags.space {
        b" "
    } else {
        b""
    }
}

#[allow(clippy::too_many_arguments)]
fn integer<O: Output>(
    out: &mut CountingOutput<'_, O>,
    specification: &Specification,
    magnitude: u64,
    negative: bool,
    base: u64,
    upper: bool,
    signed: bool,
    pointer: bool,
) -> Result<(), OutputError> {
    let digits_table: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut buffer = [0u8; 24];
    let mut position = buffer.len();
    let mut value = magnitude;
    while value != 0 {
        position -= 1;
        buffer[position] = digits_table[(value % base) as usize];
        value /= base;
    }
    let digits = &buffer[position..];
    let flags = &specification.flags;
    let mut minimum_digits = specification.precision.unwrap_or(1);
    if base == 8 && flags.alternate && minimum_digits <= digits.len() {
        // "#o" guarantees a leading zero.
        minimum_digits = digits.len() + 1;
    }
    // %p is printed like %#lx, with the sign flags of a signed conversion (as glibc does).
    let pointer_prefix: &[u8] = match sign_prefix(flags, false) {
        b"+" => b"+0x",
        b" " => b" 0x",
        _ => b"0x",
    };
    let prefix: &[u8] = if pointer {
        pointer_prefix
    } else if signed {
        sign_prefix(flags, negative)
    } else if base == 16 && flags.alternate && magnitude != 0 {
        if upper {
            b"0X"
        } else {
            b"0x"
        }
    } else {
        b""
    };
    let zeros = minimum_digits.saturating_sub(digits.len());
    let body = prefix.len() + zeros + digits.len();
    let pad = specification.width.saturating_sub(body);
    let zero_pad = flags.zero && !flags.left && specification.precision.is_none();
    if !flags.left && !zero_pad {
        out.repeat(b' ', pad)?;
    }
    out.put(prefix)?;
    if zero_pad {
        out.repeat(b'0', pad)?;
    }
    out.repeat(b'0', zeros)?;
    out.put(digits)?;
    if flags.left {
        out.repeat(b' ', pad)?;
    }
    Ok(())
}

/// Writes `prefix` and `body` justified in the field; zero padding goes
/// between them when asked for.
fn padded<O: Output>(
    out: &mut CountingOutput<'_, O>,
    specification: &Specification,
    prefix: &[u8],
    body: &[u8],
    zero_allowed: bool,
) -> Result<(), OutputError> {
    let flags = &specification.flags;
    let pad = specification.width.saturating_sub(prefix.len() + body.len());
    let zero_pad = zero_allowed && flags.zero && !flags.left;
    if !flags.left && !zero_pad {
        out.repeat(b' ', pad)?;
    }
    out.put(prefix)?;
    if zero_pad {
        out.repeat(b'0', pad)?;
    }
    out.put(body)?;
    if flags.left {
        out.repeat(b' ', pad)?;
    }
    Ok(())
}

fn floating<O: Output>(
    out: &mut CountingOutput<'_, O>,
    specification: &Specification,
    value: f64,
    conversion: u8,
) -> Result<(), OutputError> {
    let upper = conversion.is_ascii_uppercase();
    let negative = value.is_sign_negative();
    let flags = specification.flags;
    let sign = sign_prefix(&flags, negative);
    if !value.is_finite() {
        let text: &[u8] = match (value.is_nan(), upper) {
            (true, false) => b"nan",
            (true, true) => b"NAN",
            (false, false) => b"inf",
            (false, true) => b"INF",
        };
        return padded(out, specification, sign, text, false);
    }
    let magnitude = value.abs();
    let mut body = String::new();
    // The body is at most ~310 integer digits plus the precision; reserving
    // it up front turns an impossible request (%.2000000000f) into an
    // output error (printf returns -1) instead of an allocation abort.
    let needed = specification.precision.unwrap_or(6).saturating_add(400);
    if body.try_reserve(needed).is_err() {
        return Err(OutputError);
    }
    let mut prefix = String::from(core::str::from_utf8(sign).unwrap_or(""));
    match conversion.to_ascii_lowercase() {
        b'f' => fixed(&mut body, magnitude, specification.precision.unwrap_or(6), flags.alternate),
        b'e' => {
            exponential(&mut body, magnitude, specification.precision.unwrap_or(6), flags.alternate);
        }
        b'g' => general(&mut body, magnitude, specification.precision.unwrap_or(6), flags.alternate),
        _ => {
            prefix.push_str("0x");
            hexadecimal(&mut body, magnitude, specification.precision);
            if flags.alternate && !body.contains('.') {
                let exponent_at = body.find('p').unwrap_or(body.len());
                body.insert(exponent_at, '.');
            }
        }
    }
    if upper {
        body.make_ascii_uppercase();
        prefix.make_ascii_uppercase();
    }
    padded(out, specification, prefix.as_bytes(), body.as_bytes(), true)
}

/// Every finite double is exact with 1074 fraction digits (and at most 767
/// significant ones), so digits past this many are zeros. `core::fmt`
/// refuses precisions above 65535, so larger ones are formatted here and
/// padded with zeros, which is exact.
const EXACT_DIGITS: usize = 1100;

fn push_zeros(body: &mut String, count: usize) {
    body.extend(core::iter::repeat_n('0', count));
}

/// `%f` body of a non-negative finite value.
pub fn fixed(body: &mut String, magnitude: f64, precision: usize, alternate: bool) {
    let shown = precision.min(EXACT_DIGITS);
    let _ = write!(body, "{:.*}", shown, magnitude);
    push_zeros(body, precision - shown);
    if precision == 0 && alternate {
        body.push('.');
    }
}

/// `%e` body; returns the decimal exponent.
pub fn exponential(body: &mut String, magnitude: f64, precision: usize, alternate: bool) -> i32 {
    let mut rust = String::new();
    let shown = precision.min(EXACT_DIGITS);
    let _ = write!(rust, "{:.*e}", shown, magnitude);
    let (mantissa, exponent_text) = rust.split_once('e').unwrap_or((&rust, "0"));
    let exponent: i32 = exponent_text.parse().unwrap_or(0);
    body.push_str(mantissa);
    push_zeros(body, precision - shown);
    if precision == 0 && alternate {
        body.push('.');
    }
    let _ = write!(body, "e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.unsigned_abs());
    exponent
}

/// `%g` body: `%e` or `%f` style by the exponent, trailing zeros removed
/// unless `alternate`.
pub fn general(body: &mut String, magnitude: f64, precision: usize, alternate: bool) {
    let significant = if precision == 0 { 1 } else { precision };
    let mut probe = String::new();
    let exponent = if magnitude == 0.0 { 0 } else { exponential(&mut probe, magnitude, significant - 1, false) };
    if (significant as i64) > exponent as i64 && exponent >= -4 {
        fixed(body, magnitude, (significant as i64 - 1 - exponent as i64) as usize, alternate);
        if !alternate {
            strip_fraction_zeros(body, body.len());
        } else if !body.contains('.') {
            body.push('.');
        }
    } else {
        exponential(body, magnitude, significant - 1, alternate);
        if !alternate {
            let mantissa_end = body.find('e').unwrap_or(body.len());
            strip_fraction_zeros(body, mantissa_end);
        }
    }
}

/// Removes trailing zeros (and a bare point) of the fraction ending at `end`.
fn strip_fraction_zeros(body: &mut String, end: usize) {
    let head = &body[..end];
    if !head.contains('.') {
        return;
    }
    let trimmed = head.trim_end_matches('0');
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    let cut = trimmed.len();
    body.replace_range(cut..end, "");
}

/// `%a` body (after "0x") of a non-negative finite double.
pub fn hexadecimal(body: &mut String, magnitude: f64, precision: Option<usize>) {
    let bits = magnitude.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let mut fraction = bits & ((1u64 << 52) - 1);
    let (mut leading, exponent) =
        if biased == 0 { (0u64, if fraction == 0 { 0 } else { -1022 }) } else { (1u64, biased - 1023) };
    let mut digits = 13usize;
    if let Some(wanted) = precision {
        if wanted < 13 {
            let drop = 4 * (13 - wanted) as u32;
            let full = leading << 52 | fraction;
            let kept = full >> drop;
            let remainder = full & ((1u64 << drop) - 1);
            let half = 1u64 << (drop - 1);
            let rounded = kept + u64::from(remainder > half || (remainder == half && kept & 1 == 1));
            leading = rounded >> (4 * wanted as u32);
            fraction = (rounded & ((1u64 << (4 * wanted as u32)) - 1)) << drop;
            digits = wanted;
        } else {
            digits = wanted;
        }
    } else {
        while digits > 0 && (fraction >> (4 * (13 - digits))) & 0xf == 0 {
            digits -= 1;
        }
    }
    let _ = write!(body, "{:x}", leading);
    if digits > 0 {
        body.push('.');
        for position in 0..digits {
            let digit = if position < 13 { (fraction >> (48 - 4 * position)) & 0xf } else { 0 };
            let _ = write!(body, "{:x}", digit);
        }
    }
    let _ = write!(body, "p{}{}", if exponent < 0 { '-' } else { '+' }, exponent.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[derive(Debug, Clone)]
    enum Value {
        Int(i64),
        Double(f64),
        Text(Option<&'static str>),
    }

    struct TestArguments {
        values: Vec<Value>,
        next: usize,
        stored: Vec<usize>,
    }

    impl Arguments for TestArguments {
        fn next_integer(&mut self) -> u64 {
            self.next += 1;
            match self.values[self.next - 1] {
                Value::Int(v) => v as u64,
                _ => panic!("type"),
            }
        }
        fn next_double(&mut self) -> f64 {
            self.next += 1;
            match self.values[self.next - 1] {
                Value::Double(v) => v,
                _ => panic!("type"),
            }
        }
        fn next_long_double(&mut self) -> f64 {
            self.next_double()
        }
        fn next_string(&mut self, limit: Option<usize>) -> Option<&[u8]> {
            self.next += 1;
            match &self.values[self.next - 1] {
                Value::Text(Some(t)) => Some(&t.as_bytes()[..limit.map_or(t.len(), |l| l.min(t.len()))]),
                Value::Text(None) => None,
                _ => panic!("type"),
            }
        }
        fn next_wide_string(&mut self, limit: Option<usize>) -> Option<Vec<u8>> {
            self.next_string(limit).map(|bytes| bytes.to_vec())
        }
        fn begin_positional(&mut self, _kinds: &[ArgumentKind]) {}
        fn select(&mut self, position: usize) {
            self.next = position - 1;
        }
        fn store_count(&mut self, _length: Length, count: usize) {
            self.next += 1;
            self.stored.push(count);
        }
    }

    fn render(format_text: &str, values: &[Value]) -> String {
        let mut arguments = TestArguments { values: values.to_vec(), next: 0, stored: Vec::new() };
        let mut output = Vec::new();
        let count = format(format_text.as_bytes(), &mut arguments, &mut output).unwrap();
        assert_eq!(count, output.len());
        String::from_utf8(output).unwrap()
    }

    use Value::*;

    #[test]
    fn integers() {
        assert_eq!(
            render("%d|%5d|%-5d|%05d|%+d|% d", &[Int(42), Int(-42), Int(7), Int(-7), Int(3), Int(3)]),
            "42|  -42|7    |-0007|+3| 3"
        );
        assert_eq!(
            render("%.3d|%.0d|%8.3x|%#o|%#x|%#X|%o", &[Int(5), Int(0), Int(255), Int(8), Int(255), Int(255), Int(0)]),
            "005||     0ff|010|0xff|0XFF|0"
        );
        assert_eq!(
            render("%hhd %hu %ld %llu %zu", &[Int(300), Int(-1), Int(-5), Int(-1), Int(9)]),
            "44 65535 -5 18446744073709551615 9"
        );
        assert_eq!(render("%*d|%-*d|%.*d", &[Int(4), Int(1), Int(-4), Int(2), Int(3), Int(9)]), "   1|2   |009");
        assert_eq!(render("%u", &[Int(-1)]), "4294967295");
    }

    #[test]
    fn strings_characters_pointers() {
        assert_eq!(
            render(
                "%s|%.2s|%6s|%-6s|%c%c",
                &[Text(Some("hello")), Text(Some("hello")), Text(Some("ab")), Text(Some("ab")), Int(65), Int(66)]
            ),
            "hello|he|    ab|ab    |AB"
        );
        assert_eq!(render("%s|%.3s", &[Text(None), Text(None)]), "(null)|");
        assert_eq!(render("%p|%p|%+p|%#08p", &[Int(0), Int(0x1234), Int(1), Int(0xab)]), "(nil)|0x1234|+0x1|0x0000ab");
        assert_eq!(render("%#a|%#.0a", &[Double(0.5), Double(1.0)]), "0x1.p-1|0x1.p+0");
        assert_eq!(render("100%%%y", &[]), "100%%y");
        let mut output = Vec::new();
        let mut none = TestArguments { values: Vec::new(), next: 0, stored: Vec::new() };
        assert_eq!(format(b"abc%", &mut none, &mut output), Err(OutputError));
        assert_eq!(format(b"100%%%q", &mut none, &mut output), Err(OutputError));
    }

    #[test]
    fn floats() {
        assert_eq!(
            render(
                "%f|%.2f|%10.3f|%-10.1f|%010.2f",
                &[Double(1.23456), Double(2.675), Double(-1.5), Double(2.25), Double(-3.5)]
            ),
            "1.234560|2.67|    -1.500|2.2       |-000003.50"
        );
        assert_eq!(
            render("%e|%.0e|%E|%#.0e", &[Double(12345.678), Double(2.5), Double(1e-300), Double(3.0)]),
            "1.234568e+04|2e+00|1.000000E-300|3.e+00"
        );
        assert_eq!(
            render(
                "%g|%g|%g|%g|%#g|%.3g|%g",
                &[
                    Double(100000.0),
                    Double(1000000.0),
                    Double(0.0001),
                    Double(0.00001),
                    Double(1.0),
                    Double(1.23456),
                    Double(0.0)
                ]
            ),
            "100000|1e+06|0.0001|1e-05|1.00000|1.23|0"
        );
        assert_eq!(
            render("%a|%A|%.1a|%a|%.0a", &[Double(1.0), Double(-0.5), Double(1.96875), Double(0.0), Double(1.5)]),
            "0x1p+0|-0X1P-1|0x2.0p+0|0x0p+0|0x2p+0"
        );
        assert_eq!(
            render(
                "%f|%F|%e|%5.1f",
                &[Double(f64::INFINITY), Double(f64::NEG_INFINITY), Double(f64::NAN), Double(f64::INFINITY)]
            ),
            "inf|-INF|nan|  inf"
        );
        assert_eq!(render("%.0f|%.0f|%.20f", &[Double(0.5), Double(1.5), Double(0.1)]), "0|2|0.10000000000000000555");
        // Regression: precisions beyond core::fmt's limit (65535) are exact zeros.
        let long = render("%.70000f", &[Double(0.1)]);
        assert_eq!(long.len(), 70002);
        assert!(long.starts_with("0.1000000000000000055511151231257827") && long.ends_with("0000"));
        assert_eq!(render("%.70000e", &[Double(2.0)]).len(), 70006);
    }

    #[test]
    fn positional() {
        assert_eq!(render("%2$s %1$s %2$s", &[Text(Some("world")), Text(Some("hello"))]), "hello world hello");
        assert_eq!(render("%1$*2$d|%1$-*3$d|", &[Int(7), Int(4), Int(3)]), "   7|7  |");
        assert_eq!(render("%3$.*2$f %1$c", &[Int(65), Int(2), Double(1.23456)]), "1.23 A");
    }

    #[test]
    fn count_store() {
        let mut arguments =
            TestArguments { values: alloc::vec![Text(Some("abc")), Int(0)], next: 0, stored: Vec::new() };
        let mut output = Vec::new();
        format(b"%s%n!", &mut arguments, &mut output).unwrap();
        assert_eq!(arguments.stored, alloc::vec![3]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn decimal_matches_rust(value in proptest::num::i64::ANY, width in 0usize..30) {
            let text = render(&alloc::format!("%{}lld", width), &[Int(value)]);
            proptest::prop_assert_eq!(text, alloc::format!("{:>width$}", value, width = width));
        }
        #[test]
        fn exponential_round_trips(value in proptest::num::f64::NORMAL) {
            let text = render("%.17e", &[Double(value)]);
            proptest::prop_assert_eq!(text.parse::<f64>().unwrap(), value);
        }
    }
}
