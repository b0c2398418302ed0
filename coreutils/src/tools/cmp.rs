//! cmp: compares two files byte by byte. Reports the first difference
//! ("a b differ: char 5, line 2", the words POSIX requires in the C locale,
//! which is minilibc's), or with -l every differing byte (number
//! and octal values; -b adds the characters), or nothing with -s. SKIP
//! operands or -i skip leading bytes; -n compares at most LIMIT bytes.
//! Exit status: 0 same, 1 different, 2 trouble.

use crate::common::{output, parse_size, quote, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::string::String;
use alloc::vec::Vec;
use posix::io::BufferedReader;

const COMMAND: Command = Command {
    usage: "[OPTION]... FILE1 [FILE2 [SKIP1 [SKIP2]]]\nCompare two files byte by byte.\n  -b, --print-bytes          print differing bytes\n  -i, --ignore-initial=SKIP         skip first SKIP bytes of both inputs\n  -i, --ignore-initial=SKIP1:SKIP2  skip first SKIP1 bytes of FILE1 and first SKIP2 bytes of FILE2\n  -l, --verbose              output byte numbers and differing byte values\n  -n, --bytes=LIMIT          compare at most LIMIT bytes\n  -s, --quiet, --silent      suppress all normal output\n",
    specs: &[
        Spec::flag(b'b', "print-bytes"),
        Spec::value(b'i', "ignore-initial"),
        Spec::flag(b'l', "verbose"),
        Spec::value(b'n', "bytes"),
        Spec::flag(b's', "quiet"),
        Spec { short: 0, long: "silent", takes: Takes::Nothing, id: b's' as u32 },
    ],
    order: Order::Gnu,
    usage_status: 2,
    try_with_name: true,
};

/// cmp's printable form of a byte: M- for the high half, ^X for control.
pub fn printable(byte: u8) -> String {
    let mut text = String::new();
    let mut low = byte;
    if byte >= 0x80 {
        text.push_str("M-");
        low = byte - 0x80;
    }
    match low {
        0..=0x1f => {
            text.push('^');
            text.push((low + 0x40) as char);
        }
        0x7f => text.push_str("^?"),
        other => text.push(other as char),
    }
    text
}

fn skip_value(text: &[u8]) -> Option<u64> {
    parse_size(text)
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let operands = &parsed.operands;
    if operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing operand after 'cmp'"));
    }
    if operands.len() > 4 {
        return COMMAND.usage_error(format_args!("extra operand {}", quote(operands[4])));
    }
    let names: [&[u8]; 2] = [operands[0], operands.get(1).copied().unwrap_or(b"-")];
    let mut skips = [0u64; 2];
    if let Some(text) = parsed.value(b'i' as u32) {
        let (first, second) = match text.iter().position(|&byte| byte == b':') {
            Some(colon) => (&text[..colon], &text[colon + 1..]),
            None => (text, text),
        };
        match (skip_value(first), skip_value(second)) {
            (Some(a), Some(b)) => skips = [a, b],
            _ => {
                complain!("invalid --ignore-initial value {}", quote(text));
                return COMMAND.try_help();
            }
        }
    }
    for (index, operand) in operands.iter().skip(2).enumerate() {
        match skip_value(operand) {
            Some(value) => skips[index] = value,
            None => {
                complain!("invalid --ignore-initial value {}", quote(operand));
                return COMMAND.try_help();
            }
        }
    }
    let limit = match parsed.value(b'n' as u32) {
        Some(text) => match skip_value(text) {
            Some(value) => Some(value),
            None => {
                complain!("invalid --bytes value {}", quote(text));
                return COMMAND.try_help();
            }
        },
        None => None,
    };
    let silent = parsed.has(b's');
    let all = parsed.has(b'l');
    let print_bytes = parsed.has(b'b');
    let mut inputs = Vec::new();
    for name in names {
        match Input::open(name) {
            Ok(input) => inputs.push(input),
            Err(error) => {
                if !silent {
                    complain!("{}: {}", Text(name), error);
                }
                return 2;
            }
        }
    }
    // The same file, unskipped, is equal to itself.
    let stats: Vec<Option<posix::Stat>> = inputs.iter().map(|input| input.fd().stat().ok()).collect();
    if let (Some(a), Some(b)) = (&stats[0], &stats[1]) {
        if a.st_dev == b.st_dev && a.st_ino == b.st_ino && skips[0] == skips[1] && a.is_regular() {
            return 0;
        }
    }
    let width = match (&stats[0], &stats[1]) {
        (Some(a), Some(b)) if a.is_regular() && b.is_regular() => {
            let maximum = (a.st_size.max(0) as u64)
                .saturating_sub(skips[0])
                .min((b.st_size.max(0) as u64).saturating_sub(skips[1]));
            let mut digits = 1;
            let mut rest = maximum;
            while rest >= 10 {
                rest /= 10;
                digits += 1;
            }
            digits
        }
        _ => 19,
    };
    let mut readers: Vec<BufferedReader<Input>> = inputs.into_iter().map(BufferedReader::new).collect();
    for (reader, skip) in readers.iter_mut().zip(skips) {
        let mut remaining = skip;
        while remaining > 0 {
            let available = match reader.fill() {
                Ok(available) => available.len(),
                Err(_) => 0,
            };
            if available == 0 {
                break;
            }
            let taken = (available as u64).min(remaining) as usize;
            reader.consume(taken);
            remaining -= taken as u64;
        }
    }
    let mut byte_number: u64 = 0;
    let mut line: u64 = 1;
    let mut differed = false;
    let mut last_was_newline = false;
    let mut out = Vec::new();
    loop {
        if limit.is_some_and(|limit| byte_number >= limit) {
            break;
        }
        let a = next_byte(&mut readers[0]);
        let b = next_byte(&mut readers[1]);
        match (a, b) {
            (Err(error), _) | (_, Err(error)) => {
                complain!("read error: {}", error);
                return 2;
            }
            (Ok(None), Ok(None)) => break,
            (Ok(None), Ok(Some(_))) | (Ok(Some(_)), Ok(None)) => {
                let shorter = if a.as_ref().is_ok_and(Option::is_none) { names[0] } else { names[1] };
                output(&out);
                let _ = posix::io::stdout().flush();
                if !silent {
                    if byte_number == 0 {
                        complain!("EOF on {} which is empty", Text(shorter));
                    } else if all {
                        complain!("EOF on {} after byte {}", Text(shorter), byte_number);
                    } else if last_was_newline {
                        complain!("EOF on {} after byte {}, line {}", Text(shorter), byte_number, line - 1);
                    } else {
                        complain!("EOF on {} after byte {}, in line {}", Text(shorter), byte_number, line);
                    }
                }
                return 1;
            }
            (Ok(Some(a)), Ok(Some(b))) => {
                byte_number += 1;
                if a != b {
                    differed = true;
                    if silent {
                        return 1;
                    }
                    if !all {
                        // POSIX's "char" in the C locale; with -b, GNU's cmp says "byte".
                        let unit = if print_bytes { "byte" } else { "char" };
                        let mut message = alloc::format!(
                            "{} {} differ: {} {}, line {}",
                            Text(names[0]),
                            Text(names[1]),
                            unit,
                            byte_number,
                            line
                        );
                        if print_bytes {
                            message.push_str(&alloc::format!(
                                " is {:3o} {} {:3o} {}",
                                a,
                                printable(a),
                                b,
                                printable(b)
                            ));
                        }
                        message.push('\n');
                        output(message.as_bytes());
                        return 1;
                    }
                    let text = if print_bytes {
                        alloc::format!(
                            "{:>width$} {:3o} {:<4} {:3o} {}\n",
                            byte_number,
                            a,
                            printable(a),
                            b,
                            printable(b),
                            width = width
                        )
                    } else {
                        alloc::format!("{:>width$} {:3o} {:3o}\n", byte_number, a, b, width = width)
                    };
                    out.extend_from_slice(text.as_bytes());
                    if out.len() > 32 * 1024 {
                        output(&out);
                        out.clear();
                    }
                }
                if a == b'\n' {
                    line += 1;
                }
                last_was_newline = a == b'\n';
            }
        }
    }
    output(&out);
    i32::from(differed)
}

fn next_byte(reader: &mut BufferedReader<Input>) -> posix::Result<Option<u8>> {
    let available = reader.fill()?;
    match available.first().copied() {
        Some(byte) => {
            reader.consume(1);
            Ok(Some(byte))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_print_as_cmp_shows_them() {
        assert_eq!(printable(b'e'), "e");
        assert_eq!(printable(b'\n'), "^J");
        assert_eq!(printable(0x7f), "^?");
        assert_eq!(printable(0xe1), "M-a");
        assert_eq!(printable(0x80), "M-^@");
    }
}
