//! cut: selected bytes (-b), characters (-c, bytes in the C locale) or
//! fields (-f, separated by -d's byte, TAB by default) of each line.
//! LIST is N, N-M, N- or -M, comma-separated. -s drops lines without a
//! delimiter, --complement inverts the selection, --output-delimiter
//! joins the pieces.

use crate::common::{output, quote, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;
use posix::io::BufferedReader;

const COMPLEMENT: u32 = 300;
const OUTPUT_DELIMITER: u32 = 301;

const COMMAND: Command = Command {
    usage: "OPTION... [FILE]...\nPrint selected parts of lines from each FILE to standard output.\n  -b, --bytes=LIST        select only these bytes\n  -c, --characters=LIST   select only these characters\n  -d, --delimiter=DELIM   use DELIM instead of TAB for field delimiter\n  -f, --fields=LIST       select only these fields\n  -n                      (ignored)\n      --complement        complement the set of selected bytes, characters or fields\n  -s, --only-delimited    do not print lines not containing delimiters\n      --output-delimiter=STRING  use STRING as the output delimiter\n",
    specs: &[
        Spec::value(b'b', "bytes"),
        Spec::value(b'c', "characters"),
        Spec::value(b'd', "delimiter"),
        Spec::value(b'f', "fields"),
        Spec::flag(b'n', ""),
        Spec::flag(b's', "only-delimited"),
        Spec::long("complement", Takes::Nothing, COMPLEMENT),
        Spec::long("output-delimiter", Takes::Value, OUTPUT_DELIMITER),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// Inclusive 1-based ranges, sorted and merged; `usize::MAX` is "to the end".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranges(pub Vec<(usize, usize)>);

/// Parses LIST; errors carry GNU's message.
pub fn parse_list(list: &[u8], fields: bool) -> Result<Ranges, alloc::string::String> {
    let mut ranges = Vec::new();
    let invalid = || {
        if fields {
            alloc::format!("invalid field value {}", quote(list))
        } else {
            alloc::format!("invalid byte/character position {}", quote(list))
        }
    };
    for part in list.split(|&byte| byte == b',' || byte == b' ') {
        if part.is_empty() {
            return Err(invalid());
        }
        let number = |text: &[u8]| -> Result<Option<usize>, alloc::string::String> {
            if text.is_empty() {
                return Ok(None);
            }
            if !text.iter().all(u8::is_ascii_digit) {
                return Err(if fields {
                    alloc::format!("invalid field value {}", quote(text))
                } else {
                    alloc::format!("invalid byte/character position {}", quote(text))
                });
            }
            let value: usize =
                core::str::from_utf8(text).ok().and_then(|digits| digits.parse().ok()).unwrap_or(usize::MAX);
            if value == 0 {
                return Err(if fields {
                    alloc::string::String::from("fields are numbered from 1")
                } else {
                    alloc::string::String::from("byte/character positions are numbered from 1")
                });
            }
            Ok(Some(value))
        };
        match part.iter().position(|&byte| byte == b'-') {
            None => {
                let value = number(part)?.ok_or_else(invalid)?;
                ranges.push((value, value));
            }
            Some(dash) => {
                let low = number(&part[..dash])?;
                let high = number(&part[dash + 1..])?;
                match (low, high) {
                    (None, None) => return Err(alloc::string::String::from("invalid range with no endpoint: -")),
                    (low, high) => {
                        let low = low.unwrap_or(1);
                        let high = high.unwrap_or(usize::MAX);
                        if high < low {
                            return Err(alloc::string::String::from("invalid decreasing range"));
                        }
                        ranges.push((low, high));
                    }
                }
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (low, high) in ranges {
        match merged.last_mut() {
            Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
            _ => merged.push((low, high)),
        }
    }
    Ok(Ranges(merged))
}

impl Ranges {
    /// Whether position `index` (1-based) is selected, complemented or not.
    fn selects(&self, index: usize, complement: bool) -> bool {
        self.0.iter().any(|&(low, high)| low <= index && index <= high) != complement
    }

    /// Whether `index` starts a new selected range (for --output-delimiter between ranges).
    fn starts_range(&self, index: usize, complement: bool) -> bool {
        index > 1 && self.selects(index, complement) && !self.selects(index - 1, complement)
    }
}

/// What to cut.
pub struct Cutter {
    pub ranges: Ranges,
    pub fields: bool,
    pub delimiter: u8,
    pub only_delimited: bool,
    pub complement: bool,
    pub output_delimiter: Option<Vec<u8>>,
}

impl Cutter {
    /// Cuts one line (without its newline); None when -s drops it.
    pub fn cut(&self, line: &[u8], out: &mut Vec<u8>) -> bool {
        if !self.fields {
            let mut first = true;
            for (position, &byte) in line.iter().enumerate() {
                let index = position + 1;
                if self.ranges.selects(index, self.complement) {
                    if let Some(delimiter) = &self.output_delimiter {
                        if !first && self.ranges.starts_range(index, self.complement) {
                            out.extend_from_slice(delimiter);
                        }
                    }
                    out.push(byte);
                    first = false;
                }
            }
            return true;
        }
        if !line.contains(&self.delimiter) {
            if self.only_delimited {
                return false;
            }
            out.extend_from_slice(line);
            return true;
        }
        let joiner: Vec<u8> = self.output_delimiter.clone().unwrap_or_else(|| alloc::vec![self.delimiter]);
        let mut first = true;
        for (position, field) in line.split(|&byte| byte == self.delimiter).enumerate() {
            if self.ranges.selects(position + 1, self.complement) {
                if !first {
                    out.extend_from_slice(&joiner);
                }
                out.extend_from_slice(field);
                first = false;
            }
        }
        true
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let lists: Vec<(u8, &[u8])> = parsed
        .options
        .iter()
        .filter(|found| matches!(found.id as u8, b'b' | b'c' | b'f') && found.id < 256)
        .map(|found| (found.id as u8, found.value.unwrap_or(b"")))
        .collect();
    if lists.is_empty() {
        return COMMAND.usage_error(format_args!("you must specify a list of bytes, characters, or fields"));
    }
    if lists.len() > 1 {
        return COMMAND.usage_error(format_args!("only one list may be specified"));
    }
    let (kind, list) = lists[0];
    let fields = kind == b'f';
    let delimiter = match parsed.value(b'd' as u32) {
        Some(value) if value.len() == 1 => value[0],
        Some(b"") => 0,
        Some(_) => return COMMAND.usage_error(format_args!("the delimiter must be a single character")),
        None => b'\t',
    };
    if !fields && parsed.value(b'd' as u32).is_some() {
        return COMMAND.usage_error(format_args!("an input delimiter may be specified only when operating on fields"));
    }
    if !fields && parsed.has(b's') {
        return COMMAND
            .usage_error(format_args!("suppressing non-delimited lines makes sense\n\tonly when operating on fields"));
    }
    let ranges = match parse_list(list, fields) {
        Ok(ranges) => ranges,
        Err(message) => return COMMAND.usage_error(format_args!("{}", message)),
    };
    let cutter = Cutter {
        ranges,
        fields,
        delimiter,
        only_delimited: parsed.has(b's'),
        complement: parsed.options.iter().any(|found| found.id == COMPLEMENT),
        output_delimiter: parsed.value(OUTPUT_DELIMITER).map(<[u8]>::to_vec),
    };
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands };
    let mut status = 0;
    let mut line = Vec::new();
    let mut out = Vec::new();
    for operand in operands {
        let input = match Input::open(operand) {
            Ok(input) => input,
            Err(error) => {
                complain!("{}: {}", Text(operand), error);
                status = 1;
                continue;
            }
        };
        let mut reader = BufferedReader::new(input);
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => {
                    complain!("{}: {}", Text(operand), error);
                    status = 1;
                    break;
                }
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            out.clear();
            if cutter.cut(&line, &mut out) {
                out.push(b'\n');
                output(&out);
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(list: &str, fields: bool, line: &str, complement: bool, output_delimiter: Option<&str>) -> String {
        let cutter = Cutter {
            ranges: parse_list(list.as_bytes(), fields).unwrap(),
            fields,
            delimiter: b':',
            only_delimited: false,
            complement,
            output_delimiter: output_delimiter.map(|text| text.as_bytes().to_vec()),
        };
        let mut out = Vec::new();
        cutter.cut(line.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lists_parse_and_merge() {
        assert_eq!(parse_list(b"3,1-2,5-", false).unwrap(), Ranges(alloc::vec![(1, 3), (5, usize::MAX)]));
        assert_eq!(parse_list(b"-2", true).unwrap(), Ranges(alloc::vec![(1, 2)]));
        assert_eq!(parse_list(b"0", true).unwrap_err(), "fields are numbered from 1");
        assert_eq!(parse_list(b"3-1", true).unwrap_err(), "invalid decreasing range");
        assert_eq!(parse_list(b"x", false).unwrap_err(), "invalid byte/character position 'x'");
    }

    #[test]
    fn bytes_and_fields_cut_as_gnu() {
        assert_eq!(cut("2-3,5", false, "abcdef", false, None), "bce");
        assert_eq!(cut("2-3,5", false, "abcdef", false, Some("|")), "bc|e");
        assert_eq!(cut("2", false, "abc", true, None), "ac");
        assert_eq!(cut("1,3", true, "a:b:c:d", false, None), "a:c");
        assert_eq!(cut("2-", true, "a:b:c", false, Some(",")), "b,c");
        assert_eq!(cut("2", true, "a:b:c", true, None), "a:c");
        assert_eq!(cut("2", true, "nodelimiter", false, None), "nodelimiter");
    }
}
