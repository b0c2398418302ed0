//! tr: translates, squeezes (-s) or deletes (-d) bytes of standard input.
//! Sets take ranges (a-z), escapes (\n, \\, \NNN), classes ([:alpha:]),
//! equivalence classes ([=c=]) and, in the second set, repeats ([c*n],
//! [c*]). -c complements the first set; -t truncates it to the second's
//! length. A second set shorter than the first is padded with its last
//! byte, as GNU's tr does.

use crate::common::{output, quote, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::string::String;
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[OPTION]... SET1 [SET2]\nTranslate, squeeze, and/or delete characters from standard input, writing to standard output.\n  -c, -C, --complement    use the complement of SET1\n  -d, --delete            delete characters in SET1, do not translate\n  -s, --squeeze-repeats   replace each sequence of a repeated character that is listed in the last specified SET with a single occurrence of that character\n  -t, --truncate-set1     first truncate SET1 to length of SET2\n",
    specs: &[
        Spec::flag(b'c', "complement"),
        Spec { short: b'C', long: "", takes: crate::options::Takes::Nothing, id: b'c' as u32 },
        Spec::flag(b'd', "delete"),
        Spec::flag(b's', "squeeze-repeats"),
        Spec::flag(b't', "truncate-set1"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// One element of a parsed set.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Element {
    Bytes(Vec<u8>),
    /// [c*n]; n = 0 fills up to the first set's length.
    Repeat(u8, usize),
    /// A class that lines up with its counterpart ([:upper:] with [:lower:]).
    Class(&'static str, Vec<u8>),
}

/// A set's problem, with GNU's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetError(pub String);

fn class_members(name: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    let test: fn(u8) -> bool = match name {
        b"alnum" => |byte| byte.is_ascii_alphanumeric(),
        b"alpha" => |byte| byte.is_ascii_alphabetic(),
        b"blank" => |byte| byte == b' ' || byte == b'\t',
        b"cntrl" => |byte| byte.is_ascii_control(),
        b"digit" => |byte| byte.is_ascii_digit(),
        b"graph" => |byte| byte.is_ascii_graphic(),
        b"lower" => |byte| byte.is_ascii_lowercase(),
        b"print" => |byte| (0x20..0x7f).contains(&byte),
        b"punct" => |byte| byte.is_ascii_punctuation(),
        b"space" => |byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"upper" => |byte| byte.is_ascii_uppercase(),
        b"xdigit" => |byte| byte.is_ascii_hexdigit(),
        _ => return None,
    };
    let label = match name {
        b"upper" => "upper",
        b"lower" => "lower",
        _ => "other",
    };
    Some((label, (0..=255u8).filter(|&byte| test(byte)).collect()))
}

/// Reads one possibly escaped byte at `text[*index]`.
fn next_byte(text: &[u8], index: &mut usize) -> u8 {
    let byte = text[*index];
    *index += 1;
    if byte != b'\\' || *index >= text.len() {
        return byte;
    }
    let escape = text[*index];
    *index += 1;
    match escape {
        b'a' => 7,
        b'b' => 8,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 11,
        b'0'..=b'7' => {
            let mut value = (escape - b'0') as u32;
            let mut digits = 1;
            while digits < 3 && *index < text.len() && (b'0'..=b'7').contains(&text[*index]) {
                let next = value * 8 + (text[*index] - b'0') as u32;
                if next > 255 {
                    break;
                }
                value = next;
                *index += 1;
                digits += 1;
            }
            value as u8
        }
        other => other,
    }
}

fn parse_set(text: &[u8], second: bool) -> Result<Vec<Element>, SetError> {
    let mut elements = Vec::new();
    let mut index = 0;
    while index < text.len() {
        if text[index] == b'[' {
            // [:class:], [=c=], [c*n]
            if text.get(index + 1) == Some(&b':') {
                if let Some(end) = find(text, index + 2, b":]") {
                    let name = &text[index + 2..end];
                    let Some((label, members)) = class_members(name) else {
                        return Err(SetError(alloc::format!("invalid character class {}", quote(name))));
                    };
                    if second && label == "other" {
                        return Err(SetError(String::from(
                            "when translating, the only character classes that may appear in\nstring2 are 'upper' and 'lower'",
                        )));
                    }
                    elements.push(Element::Class(label, members));
                    index = end + 2;
                    continue;
                }
            }
            if text.get(index + 1) == Some(&b'=') {
                if let Some(end) = find(text, index + 2, b"=]") {
                    let mut inner = index + 2;
                    if inner < end {
                        let byte = next_byte(text, &mut inner);
                        if inner == end {
                            elements.push(Element::Bytes(alloc::vec![byte]));
                            index = end + 2;
                            continue;
                        }
                    }
                }
            }
            if index + 2 < text.len() {
                let mut inner = index + 1;
                let byte = next_byte(text, &mut inner);
                if text.get(inner) == Some(&b'*') {
                    if let Some(close) = text[inner..].iter().position(|&b| b == b']').map(|p| p + inner) {
                        let count_text = &text[inner + 1..close];
                        let count = if count_text.is_empty() {
                            Some(0)
                        } else if count_text[0] == b'0' {
                            usize::from_str_radix(core::str::from_utf8(count_text).unwrap_or("x"), 8).ok()
                        } else {
                            core::str::from_utf8(count_text).ok().and_then(|digits| digits.parse().ok())
                        };
                        match count {
                            Some(count) if second => {
                                elements.push(Element::Repeat(byte, count));
                                index = close + 1;
                                continue;
                            }
                            Some(_) => {
                                return Err(SetError(String::from(
                                    "the [c*] repeat construct may not appear in string1",
                                )))
                            }
                            None => {
                                return Err(SetError(alloc::format!(
                                    "invalid repeat count {} in [c*n] construct",
                                    quote(count_text)
                                )))
                            }
                        }
                    }
                }
            }
        }
        let start_index = index;
        let first = next_byte(text, &mut index);
        if text.get(index) == Some(&b'-') && index + 1 < text.len() {
            let mut after = index + 1;
            let last = next_byte(text, &mut after);
            if last < first {
                return Err(SetError(alloc::format!(
                    "range-endpoints of '{}' are in reverse collating sequence order",
                    crate::common::Text(&text[start_index..after])
                )));
            }
            elements.push(Element::Bytes((first..=last).collect()));
            index = after;
            continue;
        }
        elements.push(Element::Bytes(alloc::vec![first]));
    }
    Ok(elements)
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    text.get(from..)?.windows(needle.len()).position(|window| window == needle).map(|position| position + from)
}

fn flatten(elements: &[Element], fill_to: usize) -> Vec<u8> {
    let fixed: usize = elements
        .iter()
        .map(|element| match element {
            Element::Bytes(bytes) | Element::Class(_, bytes) => bytes.len(),
            Element::Repeat(_, count) => *count,
        })
        .sum();
    let mut out = Vec::new();
    let mut filled = false;
    for element in elements {
        match element {
            Element::Bytes(bytes) | Element::Class(_, bytes) => out.extend_from_slice(bytes),
            Element::Repeat(byte, 0) if !filled => {
                filled = true;
                out.extend(core::iter::repeat_n(*byte, fill_to.saturating_sub(fixed)));
            }
            Element::Repeat(_, 0) => {}
            Element::Repeat(byte, count) => out.extend(core::iter::repeat_n(*byte, *count)),
        }
    }
    out
}

/// What tr does, decided from its options and sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub map: [u8; 256],
    pub delete: [bool; 256],
    pub squeeze: [bool; 256],
}

/// Builds the plan; errors carry GNU's messages.
pub fn plan(
    set1: &[u8],
    set2: Option<&[u8]>,
    complement: bool,
    delete: bool,
    squeeze: bool,
    truncate: bool,
) -> Result<Plan, SetError> {
    let mut result =
        Plan { map: core::array::from_fn(|index| index as u8), delete: [false; 256], squeeze: [false; 256] };
    let first_elements = parse_set(set1, false)?;
    let mut first = flatten(&first_elements, 0);
    if complement {
        let mut present = [false; 256];
        for &byte in &first {
            present[byte as usize] = true;
        }
        first = (0..=255u8).filter(|&byte| !present[byte as usize]).collect();
    }
    if delete {
        for &byte in &first {
            result.delete[byte as usize] = true;
        }
        if squeeze {
            let second = flatten(&parse_set(set2.unwrap_or(b""), true)?, 0);
            for &byte in &second {
                result.squeeze[byte as usize] = true;
            }
        }
        return Ok(result);
    }
    match set2 {
        None => {
            // Squeeze only.
            for &byte in &first {
                result.squeeze[byte as usize] = true;
            }
        }
        Some(set2) => {
            let second_elements = parse_set(set2, true)?;
            let mut second = flatten(&second_elements, first.len());
            // Case classes line up with their counterparts.
            let classes_first: Vec<&str> = first_elements
                .iter()
                .filter_map(|e| match e {
                    Element::Class(l, _) => Some(*l),
                    _ => None,
                })
                .collect();
            let classes_second: Vec<&str> = second_elements
                .iter()
                .filter_map(|e| match e {
                    Element::Class(l, _) => Some(*l),
                    _ => None,
                })
                .collect();
            if !classes_second.is_empty() && classes_first.is_empty() && !complement {
                // [:upper:] in SET2 needs a counterpart class in SET1.
                return Err(SetError(String::from(
                    "when translating, the only character classes that may appear in\nstring2 are 'upper' and 'lower'",
                )));
            }
            if truncate {
                first.truncate(second.len());
            }
            if second.is_empty() && !first.is_empty() {
                return Err(SetError(String::from("when not truncating set1, string2 must be non-empty")));
            }
            if let Some(&last) = second.last() {
                while second.len() < first.len() {
                    second.push(last);
                }
            }
            for (index, &byte) in first.iter().enumerate() {
                result.map[byte as usize] = second[index];
            }
            if squeeze {
                for &byte in &second {
                    result.squeeze[byte as usize] = true;
                }
            }
        }
    }
    Ok(result)
}

/// Runs the plan over one block; `last` is the last byte written (for squeezing across blocks).
pub fn apply(plan: &Plan, input: &[u8], last: &mut Option<u8>, out: &mut Vec<u8>) {
    for &byte in input {
        if plan.delete[byte as usize] {
            continue;
        }
        let mapped = plan.map[byte as usize];
        if plan.squeeze[mapped as usize] && *last == Some(mapped) {
            continue;
        }
        out.push(mapped);
        *last = Some(mapped);
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let complement = parsed.has(b'c');
    let delete = parsed.has(b'd');
    let squeeze = parsed.has(b's');
    let truncate = parsed.has(b't');
    let operands = &parsed.operands;
    let (minimum, maximum) = match (delete, squeeze) {
        (true, false) => (1, 1),
        (false, true) => (1, 2),
        _ => (2, 2),
    };
    if operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing operand"));
    }
    if operands.len() < minimum {
        complain!("missing operand after {}", quote(operands[operands.len() - 1]));
        if delete {
            posix::eprintln!("Two strings must be given when both deleting and squeezing repeats.");
        } else {
            posix::eprintln!("Two strings must be given when translating.");
        }
        return COMMAND.try_help();
    }
    if operands.len() > maximum {
        complain!("extra operand {}", quote(operands[maximum]));
        if delete && !squeeze {
            posix::eprintln!("Only one string may be given when deleting without squeezing repeats.");
        }
        return COMMAND.try_help();
    }
    let set2 = operands.get(1).copied();
    let plan = match plan(operands[0], set2, complement, delete, squeeze, truncate) {
        Ok(plan) => plan,
        Err(SetError(message)) => {
            complain!("{}", message);
            return 1;
        }
    };
    let mut buffer = alloc::vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(buffer.len());
    let mut last = None;
    loop {
        match posix::fd::read(0, &mut buffer) {
            Ok(0) => return 0,
            Ok(count) => {
                out.clear();
                apply(&plan, &buffer[..count], &mut last, &mut out);
                output(&out);
            }
            Err(error) => {
                complain!("read error: {}", error);
                return 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(set1: &str, set2: Option<&str>, flags: &str, input: &str) -> Result<String, String> {
        let plan = plan(
            set1.as_bytes(),
            set2.map(str::as_bytes),
            flags.contains('c'),
            flags.contains('d'),
            flags.contains('s'),
            flags.contains('t'),
        )
        .map_err(|SetError(message)| message)?;
        let mut out = Vec::new();
        apply(&plan, input.as_bytes(), &mut None, &mut out);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn translations_match_gnu_tr() {
        assert_eq!(run("a-z", Some("A-Z"), "", "hello, World").unwrap(), "HELLO, WORLD");
        assert_eq!(run("[:lower:]", Some("[:upper:]"), "", "abc").unwrap(), "ABC");
        assert_eq!(run("abc", Some("x"), "", "aabbcc").unwrap(), "xxxxxx");
        assert_eq!(run("abc", Some("xy"), "t", "abc").unwrap(), "xyc");
        assert_eq!(run("a-c", Some("[x*]"), "", "abcd").unwrap(), "xxxd");
        assert_eq!(run("a-e", Some("[x*2]yz"), "", "abcde").unwrap(), "xxyzz");
        assert_eq!(run("\\n", Some(" "), "", "a\nb\n").unwrap(), "a b ");
        assert_eq!(run("\\101", Some("z"), "", "ABA").unwrap(), "zBz");
    }

    #[test]
    fn delete_squeeze_and_complement() {
        assert_eq!(run("0-9", None, "d", "a1b22c").unwrap(), "abc");
        assert_eq!(run("a-z", None, "cd", "a1b2\n").unwrap(), "ab");
        assert_eq!(run(" ", None, "s", "a   b  c").unwrap(), "a b c");
        assert_eq!(run("a-z", Some("A-Z"), "s", "aaabbb ccc").unwrap(), "AB C");
        assert_eq!(run("0-9", Some(" "), "ds", "a11  b").unwrap(), "a b");
        assert_eq!(run("[:alpha:]", Some("\\n"), "cs", "one, two").unwrap(), "one\ntwo");
    }

    #[test]
    fn bad_sets_are_refused() {
        assert!(run("z-a", Some("x"), "", "").unwrap_err().contains("reverse collating"));
        assert!(run("[:bogus:]", Some("x"), "", "").unwrap_err().contains("invalid character class"));
        assert!(run("[a*3]", Some("x"), "", "").unwrap_err().contains("string1"));
    }
}
