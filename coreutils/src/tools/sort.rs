//! sort: sorts the lines of the files (or standard input) together.
//! Keys (-k POS1[,POS2], POS = FIELD[.CHAR][bdfgihMnr]) with fields split
//! by -t's byte or at blank-to-nonblank transitions; orderings -n
//! (numeric), -g (general numeric), -h (human, 2K < 1M), -M (month), -d
//! (dictionary), -f (fold case), -i (printable only), -b (skip leading
//! blanks), -r (reverse). Without keys the whole line is the key. Lines
//! equal by every key are ordered by their bytes unless -s (stable); -u
//! keeps the first of each run of equal lines. -o writes to a file (which
//! may be an input), -c/-C check the order instead of sorting.

use crate::common::{quote, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nWrite sorted concatenation of all FILE(s) to standard output.\n  -b, --ignore-leading-blanks  ignore leading blanks\n  -d, --dictionary-order      consider only blanks and alphanumeric characters\n  -f, --ignore-case           fold lower case to upper case characters\n  -g, --general-numeric-sort  compare according to general numerical value\n  -i, --ignore-nonprinting    consider only printable characters\n  -M, --month-sort            compare (unknown) < 'JAN' < ... < 'DEC'\n  -h, --human-numeric-sort    compare human readable numbers (e.g., 2K 1G)\n  -n, --numeric-sort          compare according to string numerical value\n  -r, --reverse               reverse the result of comparisons\n  -c, --check                 check for sorted input; do not sort\n  -C                          like -c, but do not report first bad line\n  -k, --key=KEYDEF            sort via a key; KEYDEF gives location and type\n  -m, --merge                 merge already sorted files (sorts them)\n  -o, --output=FILE           write result to FILE instead of standard output\n  -s, --stable                stabilize sort by disabling last-resort comparison\n  -t, --field-separator=SEP   use SEP instead of non-blank to blank transition\n  -u, --unique                output only the first of an equal run\n  -z, --zero-terminated       line delimiter is NUL, not newline\n",
    specs: &[
        Spec::flag(b'b', "ignore-leading-blanks"),
        Spec::flag(b'd', "dictionary-order"),
        Spec::flag(b'f', "ignore-case"),
        Spec::flag(b'g', "general-numeric-sort"),
        Spec::flag(b'i', "ignore-nonprinting"),
        Spec::flag(b'M', "month-sort"),
        Spec::flag(b'h', "human-numeric-sort"),
        Spec::flag(b'n', "numeric-sort"),
        Spec::flag(b'r', "reverse"),
        Spec::flag(b'c', "check"),
        Spec::flag(b'C', ""),
        Spec::value(b'k', "key"),
        Spec::flag(b'm', "merge"),
        Spec::value(b'o', "output"),
        Spec::flag(b's', "stable"),
        Spec::value(b't', "field-separator"),
        Spec::flag(b'u', "unique"),
        Spec::flag(b'z', "zero-terminated"),
    ],
    order: Order::Gnu,
    usage_status: 2,
    try_with_name: false,
};

/// How one key compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyOrdering {
    pub numeric: bool,
    pub general: bool,
    pub human: bool,
    pub month: bool,
    pub dictionary: bool,
    pub fold: bool,
    pub printable: bool,
    pub reverse: bool,
    pub blanks_start: bool,
    pub blanks_end: bool,
}

impl KeyOrdering {
    fn is_default(&self) -> bool {
        !(self.numeric
            || self.general
            || self.human
            || self.month
            || self.dictionary
            || self.fold
            || self.printable
            || self.reverse
            || self.blanks_start
            || self.blanks_end)
    }

    /// Applies one option letter; false if it is not an ordering letter.
    fn set(&mut self, letter: u8, end: bool) -> bool {
        match letter {
            b'b' => {
                if end {
                    self.blanks_end = true;
                } else {
                    self.blanks_start = true;
                }
            }
            b'd' => self.dictionary = true,
            b'f' => self.fold = true,
            b'g' => self.general = true,
            b'h' => self.human = true,
            b'i' => self.printable = true,
            b'M' => self.month = true,
            b'n' => self.numeric = true,
            b'r' => self.reverse = true,
            _ => return false,
        }
        true
    }
}

/// A key: from field.char to field.char (char 0 at the end: the field's end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub start_field: usize,
    pub start_char: usize,
    /// None: to the end of the line.
    pub end_field: Option<usize>,
    pub end_char: usize,
    pub ordering: KeyOrdering,
}

/// Parses a KEYDEF; errors carry GNU's messages.
pub fn parse_key(text: &[u8]) -> Result<Key, String> {
    let invalid = |why: &str| alloc::format!("{}: invalid field specification {}", why, quote(text));
    let (start, end) = match text.iter().position(|&byte| byte == b',') {
        Some(comma) => (&text[..comma], Some(&text[comma + 1..])),
        None => (text, None),
    };
    let mut ordering = KeyOrdering::default();
    let parse_position = |part: &[u8], end: bool, ordering: &mut KeyOrdering| -> Result<(usize, usize), String> {
        let digits = part.iter().position(|byte| !byte.is_ascii_digit()).unwrap_or(part.len());
        if digits == 0 {
            return Err(alloc::format!("invalid number at field start: invalid count at start of {}", quote(part)));
        }
        let field: usize =
            core::str::from_utf8(&part[..digits]).ok().and_then(|d| d.parse().ok()).unwrap_or(usize::MAX);
        let mut rest = &part[digits..];
        let mut character = 0;
        if rest.first() == Some(&b'.') {
            let count = rest[1..].iter().position(|byte| !byte.is_ascii_digit()).unwrap_or(rest.len() - 1);
            if count == 0 {
                return Err(alloc::format!(
                    "invalid number after '.': invalid count at start of {}",
                    quote(&rest[1..])
                ));
            }
            character =
                core::str::from_utf8(&rest[1..1 + count]).ok().and_then(|d| d.parse().ok()).unwrap_or(usize::MAX);
            rest = &rest[1 + count..];
        }
        for &letter in rest {
            if !ordering.set(letter, end) {
                return Err(alloc::format!(
                    "stray character in field spec: invalid field specification {}",
                    quote(text)
                ));
            }
        }
        Ok((field, character))
    };
    let (start_field, start_char) = parse_position(start, false, &mut ordering)?;
    if start_field == 0 {
        return Err(invalid("field number is zero"));
    }
    if start_char == 0 && start.contains(&b'.') {
        return Err(invalid("character offset is zero"));
    }
    let (end_field, end_char) = match end {
        None => (None, 0),
        Some(end) => {
            let (field, character) = parse_position(end, true, &mut ordering)?;
            if field == 0 {
                return Err(invalid("field number is zero"));
            }
            (Some(field), character)
        }
    };
    Ok(Key { start_field, start_char: start_char.max(1), end_field, end_char, ordering })
}

/// Everything a comparison needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub keys: Vec<Key>,
    pub separator: Option<u8>,
    pub global: KeyOrdering,
    pub stable: bool,
    pub unique: bool,
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// The start of field `field` (1-based) in `line`.
fn field_start(line: &[u8], field: usize, separator: Option<u8>) -> usize {
    let mut index = 0;
    for _ in 1..field {
        match separator {
            Some(separator) => match line[index..].iter().position(|&byte| byte == separator) {
                Some(position) => index += position + 1,
                None => return line.len(),
            },
            None => {
                while index < line.len() && is_blank(line[index]) {
                    index += 1;
                }
                while index < line.len() && !is_blank(line[index]) {
                    index += 1;
                }
            }
        }
    }
    index
}

/// The end of field `field` (exclusive).
fn field_end(line: &[u8], field: usize, separator: Option<u8>) -> usize {
    let start = field_start(line, field, separator);
    match separator {
        Some(separator) => line[start..].iter().position(|&byte| byte == separator).map_or(line.len(), |p| start + p),
        None => {
            let mut index = start;
            while index < line.len() && is_blank(line[index]) {
                index += 1;
            }
            while index < line.len() && !is_blank(line[index]) {
                index += 1;
            }
            index
        }
    }
}

/// The bytes of `line` that `key` selects.
pub fn key_text<'a>(line: &'a [u8], key: &Key, separator: Option<u8>) -> &'a [u8] {
    let mut start = field_start(line, key.start_field, separator);
    if key.ordering.blanks_start {
        while start < line.len() && is_blank(line[start]) {
            start += 1;
        }
    }
    start = (start + key.start_char - 1).min(line.len());
    let end = match key.end_field {
        None => line.len(),
        Some(field) => {
            if key.end_char == 0 {
                field_end(line, field, separator)
            } else {
                let mut begin = field_start(line, field, separator);
                if key.ordering.blanks_end {
                    while begin < line.len() && is_blank(line[begin]) {
                        begin += 1;
                    }
                }
                (begin + key.end_char).min(line.len())
            }
        }
    };
    if end <= start {
        &line[start..start]
    } else {
        &line[start..end]
    }
}

/// Compares numbers as -n reads them: blanks, an optional '-', digits, an
/// optional fraction; anything else counts as zero. Exact for any length.
pub fn compare_numeric(a: &[u8], b: &[u8]) -> Ordering {
    fn parse(text: &[u8]) -> (bool, &[u8], &[u8]) {
        let mut index = 0;
        while index < text.len() && is_blank(text[index]) {
            index += 1;
        }
        let negative = text.get(index) == Some(&b'-');
        if negative {
            index += 1;
        }
        let start = index;
        while index < text.len() && text[index].is_ascii_digit() {
            index += 1;
        }
        let mut integer = &text[start..index];
        while integer.first() == Some(&b'0') {
            integer = &integer[1..];
        }
        let mut fraction: &[u8] = b"";
        if text.get(index) == Some(&b'.') {
            let fraction_start = index + 1;
            index += 1;
            while index < text.len() && text[index].is_ascii_digit() {
                index += 1;
            }
            fraction = &text[fraction_start..index];
            while fraction.last() == Some(&b'0') {
                fraction = &fraction[..fraction.len() - 1];
            }
        }
        let zero = integer.is_empty() && fraction.is_empty();
        (negative && !zero, integer, fraction)
    }
    let (negative_a, integer_a, fraction_a) = parse(a);
    let (negative_b, integer_b, fraction_b) = parse(b);
    let magnitude = integer_a
        .len()
        .cmp(&integer_b.len())
        .then_with(|| integer_a.cmp(integer_b))
        .then_with(|| fraction_a.cmp(fraction_b));
    match (negative_a, negative_b) {
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// -g: a floating-point prefix (with exponents, inf, nan); non-numbers sort first.
fn general_value(text: &[u8]) -> Option<f64> {
    let mut index = 0;
    while index < text.len() && (is_blank(text[index]) || text[index] == b'\n') {
        index += 1;
    }
    let rest = core::str::from_utf8(&text[index..]).ok().or_else(|| {
        let valid = text[index..].utf8_chunks().next().map_or("", |chunk| chunk.valid());
        Some(valid)
    })?;
    if let Some(value) = hexadecimal_value(rest) {
        return Some(value);
    }
    // The longest prefix that parses.
    let mut best = None;
    for end in (1..=rest.len().min(64)).rev() {
        if !rest.is_char_boundary(end) {
            continue;
        }
        let candidate = &rest[..end];
        if candidate.ends_with(['e', 'E', '+', '-']) && end > 1 {
            continue;
        }
        if let Ok(value) = candidate.parse::<f64>() {
            best = Some(value);
            break;
        }
    }
    best
}

/// strtod's hexadecimal form: [sign]0x digits [. digits] [p exponent].
fn hexadecimal_value(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, mut index) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    if !(bytes.get(index) == Some(&b'0') && matches!(bytes.get(index + 1), Some(b'x') | Some(b'X'))) {
        return None;
    }
    index += 2;
    let mut value = 0f64;
    let mut digits = 0;
    while let Some(digit) = bytes.get(index).and_then(|&byte| (byte as char).to_digit(16)) {
        value = value * 16.0 + digit as f64;
        index += 1;
        digits += 1;
    }
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        let mut scale = 1.0 / 16.0;
        while let Some(digit) = bytes.get(index).and_then(|&byte| (byte as char).to_digit(16)) {
            value += digit as f64 * scale;
            scale /= 16.0;
            index += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        // "0x" alone is the number 0 followed by "x".
        return Some(0.0);
    }
    if matches!(bytes.get(index), Some(b'p') | Some(b'P')) {
        let exponent_text = &text[index + 1..];
        let end = exponent_text
            .char_indices()
            .find(|&(position, c)| !(c.is_ascii_digit() || (position == 0 && (c == '-' || c == '+'))))
            .map_or(exponent_text.len(), |(position, _)| position);
        if let Ok(exponent) = exponent_text[..end].parse::<i32>() {
            // No powi without std: scale by halves or doubles (beyond ±2100 the value is 0 or infinite anyway).
            let factor = if exponent < 0 { 0.5 } else { 2.0 };
            for _ in 0..exponent.unsigned_abs().min(2100) {
                value *= factor;
            }
        }
    }
    Some(if negative { -value } else { value })
}

fn compare_general(a: &[u8], b: &[u8]) -> Ordering {
    match (general_value(a), general_value(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => {
            if x.is_nan() || y.is_nan() {
                x.is_nan().cmp(&y.is_nan()).reverse()
            } else {
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        }
    }
}

/// -h: the unit suffix first (none < K < M < G ...), then the number.
fn compare_human(a: &[u8], b: &[u8]) -> Ordering {
    fn unit(text: &[u8]) -> (bool, usize) {
        let mut index = 0;
        while index < text.len() && is_blank(text[index]) {
            index += 1;
        }
        let negative = text.get(index) == Some(&b'-');
        while index < text.len() && (text[index].is_ascii_digit() || text[index] == b'.' || text[index] == b'-') {
            index += 1;
        }
        let rank = match text.get(index) {
            Some(b'K') | Some(b'k') => 1,
            Some(b'M') => 2,
            Some(b'G') => 3,
            Some(b'T') => 4,
            Some(b'P') => 5,
            Some(b'E') => 6,
            Some(b'Z') => 7,
            Some(b'Y') => 8,
            _ => 0,
        };
        (negative, rank)
    }
    let (negative_a, rank_a) = unit(a);
    let (negative_b, rank_b) = unit(b);
    let signed = |negative: bool, rank: usize| if negative { -(rank as i64) } else { rank as i64 };
    signed(negative_a, rank_a).cmp(&signed(negative_b, rank_b)).then_with(|| compare_numeric(a, b))
}

fn month(text: &[u8]) -> usize {
    const MONTHS: [&[u8]; 12] =
        [b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC"];
    let mut index = 0;
    while index < text.len() && is_blank(text[index]) {
        index += 1;
    }
    let word = &text[index..];
    MONTHS
        .iter()
        .position(|name| word.len() >= 3 && word[..3].eq_ignore_ascii_case(name))
        .map_or(0, |position| position + 1)
}

/// Compares two key texts with one ordering (reversal applied by the caller).
fn compare_text(a: &[u8], b: &[u8], ordering: &KeyOrdering) -> Ordering {
    if ordering.numeric {
        return compare_numeric(a, b);
    }
    if ordering.general {
        return compare_general(a, b);
    }
    if ordering.human {
        return compare_human(a, b);
    }
    if ordering.month {
        return month(a).cmp(&month(b));
    }
    if !(ordering.dictionary || ordering.fold || ordering.printable) {
        return a.cmp(b);
    }
    let keep = |byte: &u8| {
        (!ordering.dictionary || byte.is_ascii_alphanumeric() || is_blank(*byte))
            && (!ordering.printable || (0x20..0x7f).contains(byte))
    };
    let transform = |byte: &u8| if ordering.fold { byte.to_ascii_uppercase() } else { *byte };
    let left = a.iter().filter(|byte| keep(byte)).map(transform);
    let right = b.iter().filter(|byte| keep(byte)).map(transform);
    left.cmp(right)
}

impl Settings {
    /// Compares by the keys only (what -u calls equal).
    pub fn compare_keys(&self, a: &[u8], b: &[u8]) -> Ordering {
        if self.keys.is_empty() {
            let mut ordering = self.global;
            let mut a_text = a;
            let mut b_text = b;
            if ordering.blanks_start {
                while a_text.first().is_some_and(|byte| is_blank(*byte)) {
                    a_text = &a_text[1..];
                }
                while b_text.first().is_some_and(|byte| is_blank(*byte)) {
                    b_text = &b_text[1..];
                }
            }
            let result = compare_text(a_text, b_text, &ordering);
            ordering.reverse = self.global.reverse;
            return if ordering.reverse { result.reverse() } else { result };
        }
        for key in &self.keys {
            // A key without its own ordering options takes the global ones.
            let effective = if key.ordering.is_default() { Key { ordering: self.global, ..*key } } else { *key };
            let a_text = key_text(a, &effective, self.separator);
            let b_text = key_text(b, &effective, self.separator);
            let result = compare_text(a_text, b_text, &effective.ordering);
            let result = if effective.ordering.reverse { result.reverse() } else { result };
            if result != Ordering::Equal {
                return result;
            }
        }
        Ordering::Equal
    }

    /// The full comparison: keys, then (unless -s or -u) the bytes.
    pub fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        let result = self.compare_keys(a, b);
        if result != Ordering::Equal || self.stable || self.unique {
            return result;
        }
        let last = a.cmp(b);
        if self.global.reverse {
            last.reverse()
        } else {
            last
        }
    }
}

/// Sorts `lines` (stable) and applies -u.
pub fn sort_lines(lines: &mut Vec<&[u8]>, settings: &Settings) {
    lines.sort_by(|a, b| settings.compare(a, b));
    if settings.unique {
        lines.dedup_by(|later, earlier| settings.compare_keys(earlier, later) == Ordering::Equal);
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut global = KeyOrdering::default();
    let mut keys = Vec::new();
    let mut separator = None;
    for found in &parsed.options {
        let letter = found.id as u8;
        if found.id < 256 && global.set(letter, false) {
            continue;
        }
        match letter {
            b'k' => match parse_key(found.value.unwrap_or(b"")) {
                Ok(key) => keys.push(key),
                Err(message) => {
                    complain!("{}", message);
                    return 2;
                }
            },
            b't' => {
                let value = found.value.unwrap_or(b"");
                separator = Some(match value {
                    [byte] => *byte,
                    b"\\0" => 0,
                    [] => {
                        complain!("empty tab");
                        return 2;
                    }
                    _ => {
                        complain!("multi-character tab {}", quote(value));
                        return 2;
                    }
                });
            }
            _ => {}
        }
    }
    // -b on its own applies to key starts and ends.
    if global.blanks_start {
        global.blanks_end = true;
    }
    let settings = Settings { keys, separator, global, stable: parsed.has(b's'), unique: parsed.has(b'u') };
    let terminator = if parsed.has(b'z') { 0 } else { b'\n' };
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands.clone() };
    let check = parsed.has(b'c') || parsed.has(b'C');
    if check && operands.len() > 1 {
        complain!("extra operand {} not allowed with -c", quote(operands[1]));
        return 2;
    }
    let mut data = Vec::new();
    let mut ends = Vec::new();
    for operand in &operands {
        let contents = match Input::open(operand).and_then(Input::read_all) {
            Ok(contents) => contents,
            Err(error) => {
                complain!("cannot read: {}: {}", Text(operand), error);
                return 2;
            }
        };
        data.extend_from_slice(&contents);
        if !data.is_empty() && data.last() != Some(&terminator) {
            data.push(terminator);
        }
        ends.push(data.len());
    }
    let mut lines: Vec<&[u8]> = data.split(|&byte| byte == terminator).collect();
    lines.pop();
    if check {
        let quiet = parsed.has(b'C');
        for index in 1..lines.len() {
            let order = settings.compare(lines[index - 1], lines[index]);
            if order == Ordering::Greater || (settings.unique && order == Ordering::Equal) {
                if !quiet {
                    complain!("{}:{}: disorder: {}", Text(operands[0]), index + 1, Text(lines[index]));
                }
                return 1;
            }
        }
        return 0;
    }
    sort_lines(&mut lines, &settings);
    let mut out = Vec::with_capacity(data.len());
    for line in &lines {
        out.extend_from_slice(line);
        out.push(terminator);
    }
    match parsed.value(b'o' as u32) {
        Some(path) => {
            match posix::fd::open(path, posix::O_WRONLY | posix::O_CREAT | posix::O_TRUNC | posix::O_CLOEXEC, 0o666)
                .and_then(|fd| fd.write_all(&out))
            {
                Ok(()) => 0,
                Err(error) => {
                    complain!("open failed: {}: {}", Text(path), error);
                    2
                }
            }
        }
        None => {
            crate::common::output(&out);
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings(keys: &[&str], separator: Option<u8>, global: &str) -> Settings {
        let mut ordering = KeyOrdering::default();
        for letter in global.bytes() {
            ordering.set(letter, false);
        }
        Settings {
            keys: keys.iter().map(|key| parse_key(key.as_bytes()).unwrap()).collect(),
            separator,
            global: ordering,
            stable: false,
            unique: global.contains('u'),
        }
    }

    fn sorted(input: &[&str], settings: &Settings) -> Vec<String> {
        let mut lines: Vec<&[u8]> = input.iter().map(|line| line.as_bytes()).collect();
        sort_lines(&mut lines, settings);
        lines.iter().map(|line| String::from_utf8(line.to_vec()).unwrap()).collect()
    }

    #[test]
    fn numeric_comparison_is_exact() {
        assert_eq!(compare_numeric(b"10", b"9"), Ordering::Greater);
        assert_eq!(compare_numeric(b"-10", b"-9"), Ordering::Less);
        assert_eq!(compare_numeric(b" 007", b"7.0"), Ordering::Equal);
        assert_eq!(compare_numeric(b"abc", b"0"), Ordering::Equal);
        assert_eq!(compare_numeric(b"-0", b"0"), Ordering::Equal);
        assert_eq!(compare_numeric(b"1.05", b"1.5"), Ordering::Less);
        assert_eq!(
            compare_numeric(b"123456789012345678901234567890", b"123456789012345678901234567891"),
            Ordering::Less
        );
    }

    #[test]
    fn keys_select_fields() {
        let key = parse_key(b"2,2").unwrap();
        assert_eq!(key_text(b"a  b c", &key, None), b"  b");
        assert_eq!(key_text(b"a:b:c", &key, Some(b':')), b"b");
        let key = parse_key(b"1.2,1.3").unwrap();
        assert_eq!(key_text(b"abcd", &key, None), b"bc");
        let key = parse_key(b"2").unwrap();
        assert_eq!(key_text(b"x:y:z", &key, Some(b':')), b"y:z");
        assert_eq!(parse_key(b"0").unwrap_err(), "field number is zero: invalid field specification '0'");
        assert!(parse_key(b"1x").unwrap_err().contains("stray character"));
    }

    #[test]
    fn orderings_match_gnu_sort() {
        let input = ["10 apple", "3 pear", "2 fig", "10 banana"];
        assert_eq!(sorted(&input, &settings(&[], None, "n")), ["2 fig", "3 pear", "10 apple", "10 banana"]);
        assert_eq!(sorted(&input, &settings(&["2"], None, "")), ["10 apple", "10 banana", "2 fig", "3 pear"]);
        assert_eq!(sorted(&input, &settings(&["1,1n"], None, "r")), ["2 fig", "3 pear", "10 banana", "10 apple"]);
        assert_eq!(sorted(&input, &settings(&[], None, "rn")), ["10 banana", "10 apple", "3 pear", "2 fig"]);
        assert_eq!(sorted(&["b", "A", "a", "B"], &settings(&[], None, "f")), ["A", "a", "B", "b"]);
        assert_eq!(sorted(&["a", "b", "a"], &settings(&[], None, "u")), ["a", "b"]);
        assert_eq!(sorted(&["2K", "1M", "3", "1G"], &settings(&[], None, "h")), ["3", "2K", "1M", "1G"]);
        assert_eq!(sorted(&["Mar", "jan", "x", "FEB"], &settings(&[], None, "M")), ["x", "jan", "FEB", "Mar"]);
        assert_eq!(sorted(&["1e3", "5", "-inf", "x"], &settings(&[], None, "g")), ["x", "-inf", "5", "1e3"]);
    }

    proptest! {
        #[test]
        fn sorting_orders_and_keeps_every_line(lines in proptest::collection::vec("[ab 1-3]{0,6}", 0..30), numeric: bool, reverse: bool) {
            let global = alloc::format!("{}{}", if numeric { "n" } else { "" }, if reverse { "r" } else { "" });
            let settings = settings(&[], None, &global);
            let input: Vec<&str> = lines.iter().map(String::as_str).collect();
            let output = sorted(&input, &settings);
            let mut expected = lines.clone();
            expected.sort();
            let mut got = output.clone();
            got.sort();
            prop_assert_eq!(got, expected);
            for pair in output.windows(2) {
                prop_assert_ne!(settings.compare(pair[0].as_bytes(), pair[1].as_bytes()), Ordering::Greater);
            }
        }
    }
}
