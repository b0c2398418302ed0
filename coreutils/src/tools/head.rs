//! head: the first lines (-n, default 10) or bytes (-c) of each file; a
//! negative count prints all but the last ones. Several files get
//! "==> NAME <==" headers (-q never, -v always). `-5` means `-n 5`.

use crate::common::{file_header, output, quote, signed_count, Command, Input};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;
use posix::io::BufferedReader;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nPrint the first 10 lines of each FILE to standard output.\n  -c, --bytes=[-]NUM       print the first NUM bytes; with '-', all but the last NUM bytes\n  -n, --lines=[-]NUM       print the first NUM lines; with '-', all but the last NUM lines\n  -q, --quiet, --silent    never print headers giving file names\n  -v, --verbose            always print headers giving file names\n",
    specs: &[
        Spec::value(b'c', "bytes"),
        Spec::value(b'n', "lines"),
        Spec::flag(b'q', "quiet"),
        Spec { short: 0, long: "silent", takes: crate::options::Takes::Nothing, id: b'q' as u32 },
        Spec::flag(b'v', "verbose"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// What to print of each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    FirstLines(u64),
    AllButLastLines(u64),
    FirstBytes(u64),
    AllButLastBytes(u64),
}

/// `-5` / `-5c` / `-5l` → `-n 5` / `-c 5`: the obsolete form GNU still takes first.
pub fn rewrite_obsolete(arguments: &[&'static [u8]]) -> Vec<&'static [u8]> {
    let mut rewritten = Vec::new();
    if let Some(first) = arguments.first() {
        if first.len() > 1 && first[0] == b'-' && first[1].is_ascii_digit() {
            let digits_end = first[1..].iter().position(|byte| !byte.is_ascii_digit()).map_or(first.len(), |p| p + 1);
            let (count, suffix) = (&first[1..digits_end], &first[digits_end..]);
            let option: &'static [u8] = if suffix.first() == Some(&b'c') { b"-c" } else { b"-n" };
            rewritten.push(option);
            // The count lives in argv, which is 'static; suffixes other than c/l are errors below.
            rewritten.push(count);
            if !suffix.is_empty() && suffix != b"c" && suffix != b"l" {
                rewritten.push(suffix);
            }
            rewritten.extend_from_slice(&arguments[1..]);
            return rewritten;
        }
    }
    arguments.to_vec()
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let arguments = rewrite_obsolete(arguments);
    let parsed = match COMMAND.parse(&arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut amount = Amount::FirstLines(10);
    let mut headers: Option<bool> = None;
    for found in &parsed.options {
        match found.id as u8 {
            b'c' | b'n' => {
                let Some((sign, count)) = signed_count(found.id as u8, found.value.unwrap_or(b"")) else {
                    return 1;
                };
                amount = match (found.id as u8, sign == Some(b'-')) {
                    (b'c', false) => Amount::FirstBytes(count),
                    (b'c', true) => Amount::AllButLastBytes(count),
                    (_, false) => Amount::FirstLines(count),
                    (_, true) => Amount::AllButLastLines(count),
                };
            }
            b'q' => headers = Some(false),
            b'v' => headers = Some(true),
            _ => {}
        }
    }
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands };
    let show_headers = headers.unwrap_or(operands.len() > 1);
    let mut status = 0;
    for (index, operand) in operands.iter().enumerate() {
        let input = match Input::open(operand) {
            Ok(input) => input,
            Err(error) => {
                complain!("cannot open {} for reading: {}", quote(operand), error);
                status = 1;
                continue;
            }
        };
        if show_headers {
            file_header(operand, index > 0);
        }
        if let Err(error) = copy_head(input, amount) {
            complain!("error reading {}: {}", quote(operand), error);
            status = 1;
        }
    }
    status
}

fn copy_head(input: Input, amount: Amount) -> posix::Result<()> {
    let mut reader = BufferedReader::new(input);
    match amount {
        Amount::FirstLines(mut count) => {
            while count > 0 {
                let available = reader.fill()?;
                if available.is_empty() {
                    break;
                }
                let mut end = 0;
                while end < available.len() && count > 0 {
                    match available[end..].iter().position(|&byte| byte == b'\n') {
                        Some(newline) => {
                            end += newline + 1;
                            count -= 1;
                        }
                        None => end = available.len(),
                    }
                }
                output(&available[..end]);
                reader.consume(end);
            }
        }
        Amount::FirstBytes(mut count) => {
            while count > 0 {
                let available = reader.fill()?;
                if available.is_empty() {
                    break;
                }
                let take = available.len().min(count.min(usize::MAX as u64) as usize);
                output(&available[..take]);
                reader.consume(take);
                count -= take as u64;
            }
        }
        Amount::AllButLastBytes(count) => {
            let mut data = Vec::new();
            reader.read_to_end(&mut data)?;
            let keep = data.len().saturating_sub(count.min(usize::MAX as u64) as usize);
            output(&data[..keep]);
        }
        Amount::AllButLastLines(count) => {
            let mut data = Vec::new();
            reader.read_to_end(&mut data)?;
            output(&data[..all_but_last_lines(&data, count)]);
        }
    }
    Ok(())
}

/// The length of `data` without its last `count` lines (a final line
/// without a newline counts as a line).
pub fn all_but_last_lines(data: &[u8], count: u64) -> usize {
    if count == 0 {
        return data.len();
    }
    let mut remaining = count;
    let mut end = data.len();
    // A final unterminated line is one of the lines to drop.
    if end > 0 && data[end - 1] != b'\n' {
        match data[..end].iter().rposition(|&byte| byte == b'\n') {
            Some(newline) => end = newline + 1,
            None => return 0,
        }
        remaining -= 1;
    }
    while remaining > 0 && end > 0 {
        match data[..end - 1].iter().rposition(|&byte| byte == b'\n') {
            Some(newline) => end = newline + 1,
            None => return 0,
        }
        remaining -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_but_last_lines_drops_from_the_end() {
        assert_eq!(all_but_last_lines(b"a\nb\nc\n", 1), 4);
        assert_eq!(all_but_last_lines(b"a\nb\nc\n", 3), 0);
        assert_eq!(all_but_last_lines(b"a\nb\nc\n", 9), 0);
        assert_eq!(all_but_last_lines(b"a\nb\nc", 1), 4);
        assert_eq!(all_but_last_lines(b"a\nb\nc", 2), 2);
        assert_eq!(all_but_last_lines(b"a\nb\nc", 0), 5);
        assert_eq!(all_but_last_lines(b"", 1), 0);
    }

    #[test]
    fn obsolete_counts_become_options() {
        let rewritten = rewrite_obsolete(&[b"-5", b"file"]);
        assert_eq!(rewritten, [&b"-n"[..], b"5", b"file"]);
        assert_eq!(rewrite_obsolete(&[b"-3c"]), [&b"-c"[..], b"3"]);
        assert_eq!(rewrite_obsolete(&[b"-n", b"2"]), [&b"-n"[..], b"2"]);
    }
}
