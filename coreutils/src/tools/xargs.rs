//! xargs: builds command lines from standard input (or -a FILE) and runs
//! them. Input items are separated by blanks and newlines, with quotes
//! and backslashes as GNU's xargs reads them; -0 or -d DELIM split on one
//! byte instead. -n N items per command, -L N lines per command, -I R
//! replaces R in the arguments with each line, -s SIZE bounds the command
//! line, -r runs nothing for empty input, -t shows each command, -E EOF
//! stops at that item, -x exits when a line does not fit. The command is
//! `echo` by default. Exit status: 123 if a command failed, 124 if one
//! exited 255, 125 if one was killed, 126/127 if it could not run.

use crate::common::{quote, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;
use posix::io::BufferedReader;

const COMMAND: Command = Command {
    usage: "[OPTION]... COMMAND [INITIAL-ARGS]...\nRun COMMAND with arguments INITIAL-ARGS and more arguments read from input.\n  -0, --null                   items are separated by a null, not whitespace\n  -a, --arg-file=FILE          read arguments from FILE, not standard input\n  -d, --delimiter=CHARACTER    items are separated by CHARACTER\n  -E END                       set logical EOF string\n  -I R                         replace R in INITIAL-ARGS with names read from input\n  -L, --max-lines=MAX-LINES    use at most MAX-LINES non-blank input lines per command line\n  -n, --max-args=MAX-ARGS      use at most MAX-ARGS arguments per command line\n  -r, --no-run-if-empty        if there are no arguments, then do not run COMMAND\n  -s, --max-chars=MAX-CHARS    limit length of command line to MAX-CHARS\n  -t, --verbose                print commands before executing them\n  -x, --exit                   exit if the size (see -s) is exceeded\n",
    specs: &[
        Spec::flag(b'0', "null"),
        Spec::value(b'a', "arg-file"),
        Spec::value(b'd', "delimiter"),
        Spec::value(b'E', ""),
        Spec::value(b'I', ""),
        Spec { short: b'i', long: "replace", takes: Takes::OptionalValue, id: b'i' as u32 },
        Spec::value(b'L', "max-lines"),
        Spec::value(b'n', "max-args"),
        Spec::flag(b'r', "no-run-if-empty"),
        Spec::value(b's', "max-chars"),
        Spec::flag(b't', "verbose"),
        Spec::flag(b'x', "exit"),
    ],
    order: Order::Posix,
    usage_status: 1,
    try_with_name: false,
};

/// One input item, and whether a line ended after it (for -L).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub text: Vec<u8>,
    pub ends_line: bool,
}

/// Splits input as GNU's xargs does by default: blanks separate items,
/// '...' and "..." quote (no newline inside), \ escapes one byte. Returns
/// the items, and the error message of an unmatched quote (the items before
/// it are still run, as GNU's xargs runs them).
pub fn split_default(input: &[u8]) -> (Vec<Item>, Option<alloc::string::String>) {
    let mut items = Vec::new();
    let mut current = Vec::new();
    let mut in_item = false;
    let mut quote_byte: Option<u8> = None;
    let mut index = 0;
    while index < input.len() {
        let byte = input[index];
        index += 1;
        if let Some(open) = quote_byte {
            if byte == open {
                quote_byte = None;
            } else if byte == b'\n' {
                let kind = if open == b'\'' { "single" } else { "double" };
                return (
                    items,
                    Some(alloc::format!(
                        "unmatched {} quote; by default quotes are special to xargs unless you use the -0 option",
                        kind
                    )),
                );
            } else {
                current.push(byte);
            }
            continue;
        }
        match byte {
            b' ' | b'\t' | b'\n' => {
                if in_item {
                    items.push(Item { text: core::mem::take(&mut current), ends_line: byte == b'\n' });
                    in_item = false;
                } else if byte == b'\n' {
                    if let Some(last) = items.last_mut() {
                        last.ends_line = true;
                    }
                }
            }
            b'\'' | b'"' => {
                quote_byte = Some(byte);
                in_item = true;
            }
            b'\\' if index < input.len() => {
                current.push(input[index]);
                index += 1;
                in_item = true;
            }
            other => {
                current.push(other);
                in_item = true;
            }
        }
    }
    if let Some(open) = quote_byte {
        let kind = if open == b'\'' { "single" } else { "double" };
        return (
            items,
            Some(alloc::format!(
                "unmatched {} quote; by default quotes are special to xargs unless you use the -0 option",
                kind
            )),
        );
    }
    if in_item {
        items.push(Item { text: current, ends_line: true });
    }
    (items, None)
}

/// Splits on one delimiter byte (-0, -d): every byte else is literal.
pub fn split_delimited(input: &[u8], delimiter: u8) -> Vec<Item> {
    let mut parts: Vec<&[u8]> = input.split(|&byte| byte == delimiter).collect();
    if parts.last().is_some_and(|last| last.is_empty()) {
        parts.pop();
    }
    parts.into_iter().map(|part| Item { text: part.to_vec(), ends_line: true }).collect()
}

/// The delimiter -d names: a byte, or an escape (\n, \t, \0, \x41, \101).
fn delimiter_byte(text: &[u8]) -> Option<u8> {
    match text {
        [byte] => Some(*byte),
        [b'\\', b'n'] => Some(b'\n'),
        [b'\\', b't'] => Some(b'\t'),
        [b'\\', b'0'] => Some(0),
        [b'\\', b'\\'] => Some(b'\\'),
        [b'\\', b'x', digits @ ..] => u8::from_str_radix(core::str::from_utf8(digits).ok()?, 16).ok(),
        [b'\\', digits @ ..] => u8::from_str_radix(core::str::from_utf8(digits).ok()?, 8).ok(),
        _ => None,
    }
}

struct Runner {
    verbose: bool,
    status: i32,
}

impl Runner {
    /// Runs one command line; false when xargs must stop (255 or a signal).
    fn run(&mut self, words: &[Vec<u8>]) -> bool {
        if self.verbose {
            let shown: Vec<alloc::string::String> = words.iter().map(|word| alloc::format!("{}", Text(word))).collect();
            posix::eprintln!("{}", shown.join(" "));
        }
        let spawned = posix::spawn::Spawn::new(&words[0], words).and_then(|spawn| spawn.search_path().spawn());
        let pid = match spawned {
            Ok(pid) => pid,
            Err(error) => {
                complain!("{}: {}", Text(&words[0]), error);
                self.status = if error.0 == posix::ENOENT { 127 } else { 126 };
                return false;
            }
        };
        match posix::process::wait_for(pid, 0) {
            Ok(Some((_, posix::process::WaitStatus::Exited(255)))) => {
                complain!("{}: exited with status 255; aborting", Text(&words[0]));
                self.status = 124;
                false
            }
            Ok(Some((_, posix::process::WaitStatus::Exited(0)))) => true,
            Ok(Some((_, posix::process::WaitStatus::Exited(_)))) => {
                self.status = self.status.max(123);
                true
            }
            Ok(Some((_, posix::process::WaitStatus::Signaled(signal, _)))) => {
                complain!("{}: terminated by signal {}", Text(&words[0]), signal);
                self.status = 125;
                false
            }
            _ => true,
        }
    }
}

fn count(value: Option<&[u8]>, option: &str) -> Result<Option<usize>, i32> {
    match value {
        None => Ok(None),
        Some(text) => match crate::common::parse_integer(text) {
            Some(number) if number >= 1 => Ok(Some(number as usize)),
            Some(number) => {
                complain!("value {} for {} option should be >= 1", number, option);
                Err(COMMAND.try_help())
            }
            None => {
                complain!("invalid number \"{}\" for {} option", Text(text), option);
                Err(COMMAND.try_help())
            }
        },
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let (maximum_arguments, maximum_lines, maximum_characters) = match (
        count(parsed.value(b'n' as u32), "-n"),
        count(parsed.value(b'L' as u32), "-L"),
        count(parsed.value(b's' as u32), "-s"),
    ) {
        (Ok(n), Ok(l), Ok(s)) => (n, l, s),
        (Err(status), _, _) | (_, Err(status), _) | (_, _, Err(status)) => return status,
    };
    let replace: Option<Vec<u8>> = parsed
        .options
        .iter()
        .rev()
        .find(|found| found.id == b'I' as u32 || found.id == b'i' as u32)
        .map(|found| found.value.map_or_else(|| b"{}".to_vec(), <[u8]>::to_vec));
    let input = match parsed.value(b'a' as u32) {
        Some(file) => match crate::common::read_operand(file) {
            Ok(data) => data,
            Err(error) => {
                complain!("cannot open {}: {}", quote(file), error);
                return 1;
            }
        },
        None => {
            let mut data = Vec::new();
            if let Err(error) = BufferedReader::new(Input::standard()).read_to_end(&mut data) {
                complain!("read error: {}", error);
                return 1;
            }
            data
        }
    };
    let delimiter = if parsed.has(b'0') {
        Some(0)
    } else {
        match parsed.value(b'd' as u32) {
            Some(text) => match delimiter_byte(text) {
                Some(byte) => Some(byte),
                None => {
                    complain!("invalid input delimiter specification {}: the delimiter must be either a single character or an escape sequence starting with \\", Text(text));
                    return 1;
                }
            },
            None => None,
        }
    };
    let mut input_error = None;
    let mut items = match (delimiter, &replace) {
        (Some(byte), _) => split_delimited(&input, byte),
        // -I takes whole lines, leading blanks removed.
        (None, Some(_)) => input
            .split(|&byte| byte == b'\n')
            .map(|line| {
                let start = line.iter().position(|byte| *byte != b' ' && *byte != b'\t').unwrap_or(line.len());
                Item { text: line[start..].to_vec(), ends_line: true }
            })
            .filter(|item| !item.text.is_empty())
            .collect(),
        (None, None) => {
            let (items, error) = split_default(&input);
            input_error = error;
            items
        }
    };
    if let Some(end) = parsed.value(b'E' as u32) {
        if let Some(position) = items.iter().position(|item| item.text == end) {
            items.truncate(position);
        }
    }
    let initial: Vec<Vec<u8>> = if parsed.operands.is_empty() {
        alloc::vec![b"echo".to_vec()]
    } else {
        parsed.operands.iter().map(|word| word.to_vec()).collect()
    };
    let mut runner = Runner { verbose: parsed.has(b't'), status: 0 };
    if let Some(marker) = replace {
        for item in &items {
            let words: Vec<Vec<u8>> = initial.iter().map(|word| replace_all(word, &marker, &item.text)).collect();
            if !runner.run(&words) {
                return runner.status;
            }
        }
        return runner.status;
    }
    if items.is_empty() {
        if !parsed.has(b'r') && input_error.is_none() {
            runner.run(&initial);
        }
        return finish(runner.status, input_error);
    }
    let limit = maximum_characters.unwrap_or(128 * 1024);
    let base_length: usize = initial.iter().map(|word| word.len() + 1).sum();
    let mut index = 0;
    while index < items.len() {
        let mut words = initial.clone();
        let mut length = base_length;
        let mut taken = 0;
        let mut lines = 0;
        while index < items.len() {
            let item = &items[index];
            if taken > 0 && length + item.text.len() + 1 > limit {
                break;
            }
            if taken == 0 && length + item.text.len() + 1 > limit && (parsed.has(b'x') || base_length >= limit) {
                complain!("argument list too long");
                return 1;
            }
            length += item.text.len() + 1;
            words.push(item.text.clone());
            taken += 1;
            index += 1;
            if item.ends_line {
                lines += 1;
            }
            if maximum_arguments.is_some_and(|maximum| taken >= maximum)
                || maximum_lines.is_some_and(|maximum| lines >= maximum)
            {
                break;
            }
        }
        if !runner.run(&words) {
            return runner.status;
        }
    }
    finish(runner.status, input_error)
}

/// Reports an input error after the commands it let run.
fn finish(status: i32, input_error: Option<alloc::string::String>) -> i32 {
    match input_error {
        Some(message) => {
            complain!("{}", message);
            status.max(1)
        }
        None => status,
    }
}

fn replace_all(word: &[u8], marker: &[u8], with: &[u8]) -> Vec<u8> {
    if marker.is_empty() {
        return word.to_vec();
    }
    let mut out = Vec::new();
    let mut index = 0;
    while index < word.len() {
        if word[index..].starts_with(marker) {
            out.extend_from_slice(with);
            index += marker.len();
        } else {
            out.push(word[index]);
            index += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[Item]) -> Vec<&[u8]> {
        items.iter().map(|item| &item.text[..]).collect()
    }

    #[test]
    fn default_splitting_honours_quotes_and_escapes() {
        let (items, error) = split_default(b"a  'b c'\n\"d\\ e\" f\\ g\n");
        assert_eq!(error, None);
        // Inside double quotes a backslash is an ordinary byte, as in GNU's xargs.
        assert_eq!(texts(&items), [&b"a"[..], b"b c", b"d\\ e", b"f g"]);
        assert!(split_default(b"\"d\\\" e\"").1.is_some());
        assert!(items[1].ends_line && !items[0].ends_line);
        let (before, error) = split_default(b"x 'open\n");
        assert_eq!(texts(&before), [&b"x"[..]]);
        assert!(error.unwrap().starts_with("unmatched single quote"));
        assert_eq!(texts(&split_delimited(b"a b\0c\0", 0)), [&b"a b"[..], b"c"]);
        assert_eq!(delimiter_byte(b"\\n"), Some(b'\n'));
        assert_eq!(delimiter_byte(b"\\x41"), Some(b'A'));
        assert_eq!(replace_all(b"x{}y{}", b"{}", b"Z"), b"xZyZ");
    }
}
