//! hexdump: shows files in hexadecimal, octal, decimal or characters, in
//! util-linux's layouts: the default (16-bit words in hex), -C (canonical:
//! bytes and their printable text), -b/-c (bytes in octal/as characters),
//! -d/-o/-x (16-bit words in decimal/octal/hex). Identical lines are shown
//! as one "*" unless -v. -n LENGTH reads only that much, -s OFFSET skips.
//! Several format options print one line each per block. (-e FORMAT
//! strings are not supported.)

use crate::common::{output, parse_size, quote, Command, Text};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::string::String;
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[options] <file>...\nDisplay file contents in hexadecimal, decimal, octal, or ascii.\n  -b  one-byte octal display\n  -c  one-byte character display\n  -C  canonical hex+ASCII display\n  -d  two-byte decimal display\n  -o  two-byte octal display\n  -x  two-byte hexadecimal display\n  -n <length>  interpret only length bytes of input\n  -s <offset>  skip offset bytes from the beginning\n  -v  display without squeezing similar lines\n",
    specs: &[
        Spec::flag(b'b', "one-byte-octal"),
        Spec::flag(b'c', "one-byte-char"),
        Spec::flag(b'C', "canonical"),
        Spec::flag(b'd', "two-bytes-decimal"),
        Spec::flag(b'o', "two-bytes-octal"),
        Spec::flag(b'x', "two-bytes-hex"),
        Spec::value(b'n', "length"),
        Spec::value(b's', "skip"),
        Spec::flag(b'v', "no-squeezing"),
        Spec::value(b'e', "format"),
        Spec::value(b'f', "format-file"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// The display formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Default,
    Canonical,
    OctalBytes,
    CharacterBytes,
    DecimalWords,
    OctalWords,
    HexWords,
}

/// One block's line (16 bytes, fewer at the end) in `format`.
pub fn line(format: Format, offset: u64, block: &[u8]) -> String {
    let word = |index: usize| -> Option<u16> {
        let low = *block.get(index * 2)?;
        let high = block.get(index * 2 + 1).copied().unwrap_or(0);
        Some(u16::from_le_bytes([low, high]))
    };
    let mut text = String::new();
    match format {
        Format::Canonical => {
            text.push_str(&alloc::format!("{:08x}  ", offset));
            for index in 0..16 {
                match block.get(index) {
                    Some(byte) => text.push_str(&alloc::format!("{:02x} ", byte)),
                    None => text.push_str("   "),
                }
                if index == 7 {
                    text.push(' ');
                }
            }
            text.push_str(" |");
            for &byte in block {
                text.push(if (0x20..0x7f).contains(&byte) { byte as char } else { '.' });
            }
            text.push('|');
        }
        Format::OctalBytes | Format::CharacterBytes => {
            text.push_str(&alloc::format!("{:07x}", offset));
            for index in 0..16 {
                match block.get(index) {
                    Some(&byte) if format == Format::OctalBytes => text.push_str(&alloc::format!(" {:03o}", byte)),
                    Some(&byte) => text.push_str(&alloc::format!(" {:>3}", character(byte))),
                    None => text.push_str("    "),
                }
            }
        }
        Format::Default | Format::DecimalWords | Format::OctalWords | Format::HexWords => {
            text.push_str(&alloc::format!("{:07x}", offset));
            let width = match format {
                Format::Default => 5,
                Format::DecimalWords => 8,
                Format::OctalWords => 8,
                _ => 8,
            };
            for index in 0..8 {
                match word(index) {
                    Some(value) => text.push_str(&match format {
                        Format::Default => alloc::format!(" {:04x}", value),
                        Format::DecimalWords => alloc::format!("   {:05}", value),
                        Format::OctalWords => alloc::format!("  {:06o}", value),
                        _ => alloc::format!("    {:04x}", value),
                    }),
                    None => text.push_str(&" ".repeat(width)),
                }
            }
        }
    }
    text.push('\n');
    text
}

/// -c's form of a byte: \0 \a \b \f \n \r \t \v, printable as itself, else octal.
fn character(byte: u8) -> String {
    match byte {
        0 => String::from("\\0"),
        7 => String::from("\\a"),
        8 => String::from("\\b"),
        12 => String::from("\\f"),
        b'\n' => String::from("\\n"),
        b'\r' => String::from("\\r"),
        b'\t' => String::from("\\t"),
        11 => String::from("\\v"),
        0x20..=0x7e => String::from(byte as char),
        other => alloc::format!("{:03o}", other),
    }
}

/// The whole dump of `data` (starting at `offset`), squeezing repeated
/// lines unless `verbose`.
pub fn dump(data: &[u8], offset: u64, formats: &[Format], verbose: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if data.is_empty() {
        return out;
    }
    let mut previous: Option<&[u8]> = None;
    let mut squeezing = false;
    for (index, block) in data.chunks(16).enumerate() {
        let position = offset + (index * 16) as u64;
        if !verbose && previous == Some(block) && block.len() == 16 {
            if !squeezing {
                out.extend_from_slice(b"*\n");
                squeezing = true;
            }
            continue;
        }
        squeezing = false;
        previous = Some(block);
        for &format in formats {
            out.extend_from_slice(line(format, position, block).as_bytes());
        }
    }
    let end = offset + data.len() as u64;
    if formats.contains(&Format::Canonical) {
        out.extend_from_slice(alloc::format!("{:08x}\n", end).as_bytes());
    } else {
        out.extend_from_slice(alloc::format!("{:07x}\n", end).as_bytes());
    }
    out
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.has(b'e') || parsed.has(b'f') {
        complain!("format strings (-e, -f) are not supported");
        return 1;
    }
    let mut formats = Vec::new();
    for found in &parsed.options {
        let format = match found.id as u8 {
            b'b' => Format::OctalBytes,
            b'c' => Format::CharacterBytes,
            b'C' => Format::Canonical,
            b'd' => Format::DecimalWords,
            b'o' => Format::OctalWords,
            b'x' => Format::HexWords,
            _ => continue,
        };
        formats.push(format);
    }
    if formats.is_empty() {
        formats.push(Format::Default);
    }
    let number = |id: u8| -> Result<Option<u64>, i32> {
        match parsed.value(id as u32) {
            None => Ok(None),
            Some(text) => parse_size(text).map(Some).ok_or_else(|| {
                let what = if id == b'n' { "length" } else { "offset" };
                complain!("failed to parse {}: {}", what, quote(text));
                1
            }),
        }
    };
    let (length, skip) = match (number(b'n'), number(b's')) {
        (Ok(length), Ok(skip)) => (length, skip.unwrap_or(0)),
        (Err(status), _) | (_, Err(status)) => return status,
    };
    // The inputs are one stream.
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands.clone() };
    let mut data = Vec::new();
    let mut failures = 0;
    let mut status = 0;
    for operand in &operands {
        match crate::common::read_operand(operand) {
            Ok(contents) => data.extend_from_slice(&contents),
            Err(error) => {
                complain!("{}: {}", Text(operand), error);
                failures += 1;
                status = 1;
            }
        }
    }
    if failures == operands.len() {
        complain!("all input file arguments failed");
        return 1;
    }
    let start = (skip.min(data.len() as u64)) as usize;
    let end = match length {
        Some(length) => (start as u64 + length).min(data.len() as u64) as usize,
        None => data.len(),
    };
    output(&dump(&data[start..end], start as u64, &formats, parsed.has(b'v')));
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"\x00\x01\x02binary\xff\xfe\n";

    #[test]
    fn layouts_match_util_linux() {
        let text = |formats: &[Format]| String::from_utf8(dump(SAMPLE, 0, formats, false)).unwrap();
        assert_eq!(text(&[Format::Default]), "0000000 0100 6202 6e69 7261 ff79 0afe          \n000000c\n");
        assert_eq!(
            text(&[Format::Canonical]),
            "00000000  00 01 02 62 69 6e 61 72  79 ff fe 0a              |...binary...|\n0000000c\n"
        );
        assert_eq!(
            text(&[Format::HexWords]),
            "0000000    0100    6202    6e69    7261    ff79    0afe                \n000000c\n"
        );
        assert_eq!(
            text(&[Format::OctalBytes]),
            "0000000 000 001 002 142 151 156 141 162 171 377 376 012                \n000000c\n"
        );
        assert_eq!(
            text(&[Format::CharacterBytes]),
            "0000000  \\0 001 002   b   i   n   a   r   y 377 376  \\n                \n000000c\n"
        );
        assert_eq!(
            text(&[Format::DecimalWords]),
            "0000000   00256   25090   28265   29281   65401   02814                \n000000c\n"
        );
        assert_eq!(
            text(&[Format::OctalWords]),
            "0000000  000400  061002  067151  071141  177571  005376                \n000000c\n"
        );
    }

    #[test]
    fn repeated_lines_are_squeezed() {
        let zeros = [0u8; 64];
        let text = String::from_utf8(dump(&zeros, 0, &[Format::Default], false)).unwrap();
        assert_eq!(text, "0000000 0000 0000 0000 0000 0000 0000 0000 0000\n*\n0000040\n");
        let verbose = String::from_utf8(dump(&zeros, 0, &[Format::Default], true)).unwrap();
        assert_eq!(verbose.lines().count(), 5);
        assert!(dump(b"", 0, &[Format::Canonical], false).is_empty());
    }
}
