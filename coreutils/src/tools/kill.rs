//! kill: sends a signal (TERM by default) to processes or, with a negative
//! id, process groups. The signal is -SIGNAL, -s SIGNAL or -n NUMBER (a
//! name with or without SIG, or a number). -l lists the signal names, or
//! converts the given names and numbers (an exit status 128+N names N);
//! -L (or -t) lists numbers, names and descriptions as a table.

use crate::common::{output, quote, Command};
use crate::complain;
use crate::options::Order;
use alloc::string::String;
use alloc::vec::Vec;
use posix::signal;

const COMMAND: Command = Command {
    usage: "[-s SIGNAL | -SIGNAL] PID...\n  or:  kill -l [SIGNAL]...\n  or:  kill -L\nSend signals to processes, or list signals.\n  -s, --signal=SIGNAL, -SIGNAL  specify the name or number of the signal to be sent\n  -l, --list    list signal names, or convert signal names to/from numbers\n  -L, --table   list signal names and numbers in a table\n",
    specs: &[],
    order: Order::Posix,
    usage_status: 1,
    try_with_name: false,
};

/// `kill -l` for one operand: a name gives its number, a number (or an
/// exit status above 128) its name.
pub fn convert(operand: &[u8]) -> Option<String> {
    if !operand.is_empty() && operand.iter().all(u8::is_ascii_digit) {
        let mut number: i32 = core::str::from_utf8(operand).ok()?.parse().ok()?;
        if number > 128 {
            number -= 128;
        }
        return signal::name(number);
    }
    signal::number(operand).filter(|&number| number > 0).map(|number| alloc::format!("{}", number))
}

/// `kill -L` / `-t`: "NN NAME     description", one signal a line, as GNU's table.
pub fn table() -> String {
    let names: Vec<(i32, String)> =
        (1..=64).filter_map(|number| signal::name(number).map(|name| (number, name))).collect();
    let width = names.iter().map(|(_, name)| name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (number, name) in names {
        out.push_str(&alloc::format!(
            "{:>2} {:<width$} {}\n",
            number,
            name,
            signal::description(number),
            width = width
        ));
    }
    out
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    if arguments == [b"--help"] {
        return COMMAND.parse(arguments).err().unwrap_or(0);
    }
    let mut signal_number = posix::SIGTERM;
    let mut index = 0;
    let mut list = false;
    while let Some(argument) = arguments.get(index) {
        match *argument {
            b"--" => {
                index += 1;
                break;
            }
            b"-l" | b"--list" => list = true,
            b"-L" | b"-t" | b"--table" => {
                output(table().as_bytes());
                return 0;
            }
            b"-s" | b"--signal" | b"-n" => {
                index += 1;
                let Some(name) = arguments.get(index) else {
                    return COMMAND
                        .usage_error(format_args!("option requires an argument -- '{}'", char::from(argument[1])));
                };
                match signal::number(name) {
                    Some(number) => signal_number = number,
                    None => {
                        complain!("{}: invalid signal", quote(name));
                        return COMMAND.try_help();
                    }
                }
            }
            _ if argument.len() > 1 && argument[0] == b'-' && !list => {
                let name = &argument[1..];
                // "-9" and "-KILL" name signals; "--signal=X" too.
                let name = name.strip_prefix(b"-signal=").unwrap_or(name);
                match signal::number(name) {
                    Some(number) => signal_number = number,
                    None => {
                        complain!("{}: invalid signal", quote(name));
                        return COMMAND.try_help();
                    }
                }
            }
            _ => break,
        }
        index += 1;
    }
    let operands = &arguments[index..];
    if list {
        if operands.is_empty() {
            let mut out = String::new();
            for number in 1..=64 {
                if let Some(name) = signal::name(number) {
                    out.push_str(&name);
                    out.push('\n');
                }
            }
            output(out.as_bytes());
            return 0;
        }
        let mut status = 0;
        let mut out = Vec::new();
        for operand in operands {
            match convert(operand) {
                Some(text) => {
                    out.extend_from_slice(text.as_bytes());
                    out.push(b'\n');
                }
                None => {
                    complain!("{}: invalid signal", quote(operand));
                    status = 1;
                }
            }
        }
        output(&out);
        return status;
    }
    if operands.is_empty() {
        return COMMAND.usage_error(format_args!("no process ID specified"));
    }
    let mut status = 0;
    for operand in operands {
        let pid = match crate::common::parse_integer(operand).and_then(|pid| i32::try_from(pid).ok()) {
            Some(pid) => pid,
            None => {
                complain!("{}: invalid process id", quote(operand));
                status = 1;
                continue;
            }
        };
        if let Err(error) = posix::process::kill(pid, signal_number) {
            complain!("{}: {}", crate::common::Text(operand), error);
            status = 1;
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_convert() {
        assert_eq!(convert(b"9").as_deref(), Some("KILL"));
        assert_eq!(convert(b"130").as_deref(), Some("INT"));
        assert_eq!(convert(b"TERM").as_deref(), Some("15"));
        assert_eq!(convert(b"sigint").as_deref(), Some("2"));
        assert_eq!(convert(b"BOGUS"), None);
        assert_eq!(convert(b"99"), None);
    }

    #[test]
    fn the_table_starts_as_gnus() {
        let table = table();
        assert!(table.starts_with(" 1 HUP      Hangup\n 2 INT      Interrupt\n"), "{table}");
        assert!(table.contains("\n34 RTMIN    "));
        assert!(table.contains("\n64 RTMAX    "));
    }
}
