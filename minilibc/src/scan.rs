//! The scanf engine: matches input against a C format and hands each
//! converted value to a [`Destinations`] sink.
//!
//! Supported: white space and literal matching, `%*` suppression, field
//! widths, lengths `hh h l ll q j z t L`, conversions `d i u o x X p f e g a E
//! F G A s c [...] n %` (with `l`, `s c [` store `wchar_t`s, one per byte, as
//! in the C locale). Numbers are read greedily (one byte of look-ahead, as
//! C requires), then parsed by [`crate::number`].
#![forbid(unsafe_code)]

use crate::format::Length;
use crate::number;

/// A byte source with one byte of look-ahead.
pub trait Input {
    /// The next byte without consuming it; `None` at end of input or on error.
    fn peek(&mut self) -> Option<u8>;
    /// Consumes the byte `peek` returned.
    fn advance(&mut self);
}

/// Where converted values go; each call consumes the next pointer argument.
pub trait Destinations {
    fn store_signed(&mut self, length: Length, value: i64);
    fn store_unsigned(&mut self, length: Length, value: u64);
    fn store_float(&mut self, length: Length, value: f64);
    fn store_pointer(&mut self, value: usize);
    /// Starts a `%s`, `%c` or `%[` target (takes the pointer argument);
    /// `wide` (the `l` length) stores each byte as a `wchar_t`.
    fn begin_text(&mut self, wide: bool);
    fn push_text(&mut self, byte: u8);
    /// Ends the text; `terminate` appends a NUL.
    fn end_text(&mut self, terminate: bool);
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

struct Reader<'a, I: Input> {
    input: &'a mut I,
    consumed: usize,
}

impl<I: Input> Reader<'_, I> {
    fn peek(&mut self) -> Option<u8> {
        self.input.peek()
    }
    fn take(&mut self) {
        self.input.advance();
        self.consumed += 1;
    }
    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.take();
        }
    }
}

/// A set for `%[...]`: 256 membership bits.
struct ByteSet([bool; 256]);

/// Parses the set after `[`; returns it and the index after `]`.
fn parse_set(format: &[u8], mut index: usize) -> Option<(ByteSet, usize)> {
    let mut set = [false; 256];
    let negate = format.get(index) == Some(&b'^');
    if negate {
        index += 1;
    }
    let mut first = true;
    loop {
        let byte = *format.get(index)?;
        if byte == b']' && !first {
            index += 1;
            break;
        }
        first = false;
        if format.get(index + 1) == Some(&b'-') && format.get(index + 2).is_some_and(|&b| b != b']') {
            let end = format[index + 2];
            for member in byte..=end.max(byte) {
                set[member as usize] = true;
            }
            index += 3;
        } else {
            set[byte as usize] = true;
            index += 1;
        }
    }
    if negate {
        for member in set.iter_mut() {
            *member = !*member;
        }
    }
    Some((ByteSet(set), index))
}

enum Outcome {
    Continue,
    /// Matching failure: stop and report the assignments so far.
    Stop,
    /// Input ended before this directive could match.
    InputFailure,
}

/// Runs `format` over `input`; returns the number of assignments, or -1
/// when input ended before the first conversion.
pub fn scan<I: Input, D: Destinations>(format: &[u8], input: &mut I, destinations: &mut D) -> i32 {
    let mut reader = Reader { input, consumed: 0 };
    let mut assigned = 0i32;
    let mut converted_any = false;
    let mut index = 0;
    let at = |i: usize| format.get(i).copied().unwrap_or(0);
    while index < format.len() {
        let byte = format[index];
        if is_space(byte) {
            reader.skip_space();
            index += 1;
            continue;
        }
        if byte != b'%' || at(index + 1) == b'%' {
            if byte == b'%' {
                reader.skip_space();
                index += 1;
            }
            match reader.peek() {
                Some(next) if next == byte => {
                    reader.take();
                    index += 1;
                    continue;
                }
                Some(_) => return assigned,
                None => return if converted_any { assigned } else { -1 },
            }
        }
        index += 1;
        let suppress = at(index) == b'*';
        if suppress {
            index += 1;
        }
        let mut width = 0usize;
        while at(index).is_ascii_digit() {
            width = width.saturating_mul(10).saturating_add((at(index) - b'0') as usize);
            index += 1;
        }
        let (length, consumed) = Length::parse(at(index), at(index + 1));
        index += consumed;
        let conversion = at(index);
        index += 1;
        let limit = if width == 0 { usize::MAX } else { width };
        let outcome = match conversion {
            b'n' => {
                if !suppress {
                    destinations.store_signed(length, reader.consumed as i64);
                }
                Outcome::Continue
            }
            b'd' | b'i' | b'u' | b'o' | b'x' | b'X' | b'p' => {
                reader.skip_space();
                let base = match conversion {
                    b'd' | b'u' => 10,
                    b'i' => 0,
                    b'o' => 8,
                    _ => 16,
                };
                scan_integer(&mut reader, base, limit, conversion, length, suppress, destinations)
            }
            b'f' | b'e' | b'g' | b'a' | b'E' | b'F' | b'G' | b'A' => {
                reader.skip_space();
                scan_float(&mut reader, limit, length, suppress, destinations)
            }
            b's' => {
                reader.skip_space();
                scan_text(&mut reader, limit, |b| !is_space(b), length == Length::Long, suppress, destinations)
            }
            b'c' => {
                let count = if width == 0 { 1 } else { width };
                scan_characters(&mut reader, count, length == Length::Long, suppress, destinations)
            }
            b'[' => match parse_set(format, index) {
                Some((set, next)) => {
                    index = next;
                    scan_text(&mut reader, limit, |b| set.0[b as usize], length == Length::Long, suppress, destinations)
                }
                None => Outcome::Stop,
            },
            _ => Outcome::Stop,
        };
        match outcome {
            Outcome::Continue => {
                if conversion != b'n' {
                    converted_any = true;
                    if !suppress {
                        assigned += 1;
                    }
                }
            }
            Outcome::Stop => return assigned,
            Outcome::InputFailure => return if converted_any { assigned } else { -1 },
        }
    }
    assigned
}

/// Collects up to `limit` bytes accepted by `accept(collected, byte)`.
fn collect<I: Input>(
    reader: &mut Reader<'_, I>,
    limit: usize,
    buffer: &mut [u8; 512],
    mut accept: impl FnMut(&[u8], u8) -> bool,
) -> usize {
    let mut length = 0;
    while length < limit.min(buffer.len()) {
        let Some(byte) = reader.peek() else { break };
        if !accept(&buffer[..length], byte) {
            break;
        }
        buffer[length] = byte;
        length += 1;
        reader.take();
    }
    length
}

fn scan_integer<I: Input, D: Destinations>(
    reader: &mut Reader<'_, I>,
    base: u32,
    limit: usize,
    conversion: u8,
    length: Length,
    suppress: bool,
    destinations: &mut D,
) -> Outcome {
    if reader.peek().is_none() {
        return Outcome::InputFailure;
    }
    let mut buffer = [0u8; 512];
    let mut effective_base = base;
    let taken = collect(reader, limit, &mut buffer, |so_far, byte| {
        let digits_start = usize::from(matches!(so_far.first(), Some(b'+' | b'-')));
        let body = &so_far[digits_start..];
        if so_far.is_empty() && (byte == b'+' || byte == b'-') {
            return true;
        }
        if (base == 16 || base == 0) && body == b"0" && byte | 0x20 == b'x' {
            effective_base = 16;
            return true;
        }
        if effective_base == 0 {
            effective_base = if byte == b'0' { 8 } else { 10 };
        }
        let value = match byte {
            b'0'..=b'9' => (byte - b'0') as u32,
            b'a'..=b'f' => (byte - b'a') as u32 + 10,
            b'A'..=b'F' => (byte - b'A') as u32 + 10,
            _ => 99,
        };
        value < effective_base
    });
    let text = &buffer[..taken];
    let parse_base = if base == 0 { 0 } else { base };
    let Some(parsed) = number::parse_integer(text, parse_base) else {
        return Outcome::Stop;
    };
    if parsed.consumed == 0 {
        return Outcome::Stop;
    }
    if !suppress {
        if conversion == b'p' {
            destinations.store_pointer(
                if parsed.negative { parsed.magnitude.wrapping_neg() } else { parsed.magnitude } as usize,
            );
        } else if conversion == b'd' || conversion == b'i' {
            let (value, _, _) = number::parse_signed(text, parse_base, i64::MIN, i64::MAX).unwrap_or((0, 0, false));
            destinations.store_signed(length, value);
        } else {
            let (value, _, _) = number::parse_unsigned(text, parse_base, u64::MAX).unwrap_or((0, 0, false));
            destinations.store_unsigned(length, value);
        }
    }
    Outcome::Continue
}

/// Whether `candidate` is a prefix of some floating constant.
fn float_prefix(candidate: &[u8]) -> bool {
    let body = match candidate.first() {
        Some(b'+' | b'-') => &candidate[1..],
        _ => candidate,
    };
    if body.is_empty() {
        return true;
    }
    for word in [&b"infinity"[..], &b"nan"[..]] {
        if body.len() <= word.len() && body.eq_ignore_ascii_case(&word[..body.len()]) {
            return true;
        }
    }
    let hex = body.len() >= 2 && body[0] == b'0' && body[1] | 0x20 == b'x';
    let (digits, exponent_letter, is_digit): (&[u8], u8, fn(u8) -> bool) =
        if hex { (&body[2..], b'p', |b: u8| b.is_ascii_hexdigit()) } else { (body, b'e', |b: u8| b.is_ascii_digit()) };
    if body == b"0" || (hex && digits.is_empty()) {
        return true;
    }
    let mut seen_point = false;
    let mut seen_digit = false;
    let mut index = 0;
    while index < digits.len() {
        let byte = digits[index];
        if is_digit(byte) {
            seen_digit = true;
        } else if byte == b'.' && !seen_point {
            seen_point = true;
        } else if byte | 0x20 == exponent_letter && seen_digit {
            let tail = &digits[index + 1..];
            let tail = match tail.first() {
                Some(b'+' | b'-') => &tail[1..],
                _ => tail,
            };
            return tail.iter().all(u8::is_ascii_digit);
        } else {
            return false;
        }
        index += 1;
    }
    true
}

fn scan_float<I: Input, D: Destinations>(
    reader: &mut Reader<'_, I>,
    limit: usize,
    length: Length,
    suppress: bool,
    destinations: &mut D,
) -> Outcome {
    if reader.peek().is_none() {
        return Outcome::InputFailure;
    }
    let mut buffer = [0u8; 512];
    let taken = collect(reader, limit, &mut buffer, |so_far, byte| {
        let mut candidate = [0u8; 513];
        candidate[..so_far.len()].copy_from_slice(so_far);
        candidate[so_far.len()] = byte;
        float_prefix(&candidate[..so_far.len() + 1])
    });
    let parsed = number::parse_float(&buffer[..taken]);
    // An incomplete tail such as the "e" of "1e" has been read and cannot be
    // pushed back; like glibc, convert the valid prefix.
    if parsed.consumed == 0 {
        return Outcome::Stop;
    }
    if !suppress {
        destinations.store_float(length, parsed.value);
    }
    Outcome::Continue
}

fn scan_text<I: Input, D: Destinations>(
    reader: &mut Reader<'_, I>,
    limit: usize,
    accept: impl Fn(u8) -> bool,
    wide: bool,
    suppress: bool,
    destinations: &mut D,
) -> Outcome {
    match reader.peek() {
        None => return Outcome::InputFailure,
        Some(byte) if !accept(byte) => return Outcome::Stop,
        Some(_) => {}
    }
    if !suppress {
        destinations.begin_text(wide);
    }
    let mut count = 0;
    while count < limit {
        let Some(byte) = reader.peek() else { break };
        if !accept(byte) {
            break;
        }
        if !suppress {
            destinations.push_text(byte);
        }
        reader.take();
        count += 1;
    }
    if !suppress {
        destinations.end_text(true);
    }
    Outcome::Continue
}

fn scan_characters<I: Input, D: Destinations>(
    reader: &mut Reader<'_, I>,
    count: usize,
    wide: bool,
    suppress: bool,
    destinations: &mut D,
) -> Outcome {
    if reader.peek().is_none() {
        return Outcome::InputFailure;
    }
    if !suppress {
        destinations.begin_text(wide);
    }
    let mut taken = 0;
    while taken < count {
        let Some(byte) = reader.peek() else { break };
        if !suppress {
            destinations.push_text(byte);
        }
        reader.take();
        taken += 1;
    }
    if !suppress {
        destinations.end_text(false);
    }
    // A short read still counts when it got at least one byte (glibc does so).
    if taken == 0 {
        Outcome::InputFailure
    } else {
        Outcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    struct SliceInput<'a>(&'a [u8], usize);
    impl Input for SliceInput<'_> {
        fn peek(&mut self) -> Option<u8> {
            self.0.get(self.1).copied()
        }
        fn advance(&mut self) {
            self.1 += 1;
        }
    }

    #[derive(Debug, PartialEq)]
    enum Stored {
        Signed(i64),
        Unsigned(u64),
        Float(f64),
        Text(String),
    }

    #[derive(Default)]
    struct Collected(Vec<Stored>, String);
    impl Destinations for Collected {
        fn store_signed(&mut self, length: Length, value: i64) {
            self.0.push(Stored::Signed(crate::format::signed_value(value as u64, length)));
        }
        fn store_unsigned(&mut self, length: Length, value: u64) {
            self.0.push(Stored::Unsigned(crate::format::unsigned_value(value, length)));
        }
        fn store_float(&mut self, _length: Length, value: f64) {
            self.0.push(Stored::Float(value));
        }
        fn store_pointer(&mut self, value: usize) {
            self.0.push(Stored::Unsigned(value as u64));
        }
        fn begin_text(&mut self, _wide: bool) {
            self.1.clear();
        }
        fn push_text(&mut self, byte: u8) {
            self.1.push(byte as char);
        }
        fn end_text(&mut self, _terminate: bool) {
            let text = core::mem::take(&mut self.1);
            self.0.push(Stored::Text(text));
        }
    }

    fn run(format: &str, input: &str) -> (i32, Vec<Stored>) {
        let mut source = SliceInput(input.as_bytes(), 0);
        let mut collected = Collected::default();
        let count = scan(format.as_bytes(), &mut source, &mut collected);
        (count, collected.0)
    }

    use Stored::*;

    #[test]
    fn numbers_and_text() {
        assert_eq!(
            run("%d %x %o %i", " -12 ff 17 0x10"),
            (4, alloc::vec![Signed(-12), Unsigned(255), Unsigned(15), Signed(16)])
        );
        assert_eq!(run("%f,%lg", "1.5,2e3"), (2, alloc::vec![Float(1.5), Float(2000.0)]));
        assert_eq!(run("%3d%d", "12345"), (2, alloc::vec![Signed(123), Signed(45)]));
        assert_eq!(run("%s %3c", "hello abc"), (2, alloc::vec![Text("hello".into()), Text("abc".into())]));
        assert_eq!(
            run("%[a-c]%[^\n]", "abcabXYZ rest\n"),
            (2, alloc::vec![Text("abcab".into()), Text("XYZ rest".into())])
        );
        assert_eq!(run("%*d %d%n", "1 2"), (1, alloc::vec![Signed(2), Signed(3)]));
        assert_eq!(run("%hhd", "300"), (1, alloc::vec![Signed(44)]));
    }

    #[test]
    fn failures() {
        assert_eq!(run("%d", "").0, -1);
        assert_eq!(run("%d", "   ").0, -1);
        assert_eq!(run("%d", "abc").0, 0);
        assert_eq!(run("%d%d", "5 x").0, 1);
        assert_eq!(run("a%d", "b1").0, 0);
        assert_eq!(run("%d%%", "5%").0, 1);
        assert_eq!(run("%[", "x").0, 0);
        // Regression: "1e" converts its valid prefix, as in glibc.
        assert_eq!(run("%lf", "1e"), (1, alloc::vec![Float(1.0)]));
        // Regression: a short %c field still counts, as in glibc.
        assert_eq!(run("%3c", "ab"), (1, alloc::vec![Text("ab".into())]));
        assert_eq!(run("%3c", "").0, -1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn integers_round_trip(value in proptest::num::i64::ANY) {
            let text = alloc::format!("  {}", value);
            proptest::prop_assert_eq!(run("%lld", &text), (1, alloc::vec![Signed(value)]));
        }
        #[test]
        fn floats_round_trip(value in proptest::num::f64::NORMAL) {
            let text = alloc::format!("{:e}", value);
            proptest::prop_assert_eq!(run("%lf", &text), (1, alloc::vec![Float(value)]));
        }
    }
}
