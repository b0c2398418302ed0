//! date: prints the time (now, -d STRING, -r FILE's modification time) in
//! the default form, as +FORMAT, or -I/-R/--rfc-3339. Times are UTC
//! (minilibc has no time zones); -u is accepted. Setting the clock (-s) is
//! not supported: the system has no interface for it yet.

use crate::common::{output, quote, Command};
use crate::complain;
use crate::dates::{self, Moment};
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;

const RFC_3339: u32 = 300;

const COMMAND: Command = Command {
    usage: "[OPTION]... [+FORMAT]\nDisplay the current time in the given FORMAT.\n  -d, --date=STRING          display time described by STRING, not 'now'\n  -I[FMT], --iso-8601[=FMT]  output date/time in ISO 8601 format (date, hours, minutes, seconds, ns)\n  -R, --rfc-email            output date and time in RFC 5322 format\n      --rfc-3339=FMT         output date/time in RFC 3339 format (date, seconds, ns)\n  -r, --reference=FILE       display the last modification time of FILE\n  -s, --set=STRING           set time described by STRING (not supported)\n  -u, --utc, --universal     print Coordinated Universal Time (UTC)\n",
    specs: &[
        Spec::value(b'd', "date"),
        Spec { short: b'I', long: "iso-8601", takes: Takes::OptionalValue, id: b'I' as u32 },
        Spec::flag(b'R', "rfc-email"),
        Spec::long("rfc-3339", Takes::Value, RFC_3339),
        Spec::value(b'r', "reference"),
        Spec::value(b's', "set"),
        Spec::flag(b'u', "utc"),
        Spec { short: 0, long: "universal", takes: Takes::Nothing, id: b'u' as u32 },
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// The FORMAT -I/--iso-8601 stands for.
pub fn iso_format(precision: &[u8]) -> Option<&'static [u8]> {
    Some(match precision {
        b"" | b"date" => b"%Y-%m-%d",
        b"hours" => b"%Y-%m-%dT%H%:z",
        b"minutes" => b"%Y-%m-%dT%H:%M%:z",
        b"seconds" => b"%Y-%m-%dT%H:%M:%S%:z",
        b"ns" => b"%Y-%m-%dT%H:%M:%S,%N%:z",
        _ => return None,
    })
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if let Some(value) = parsed.value(b's' as u32) {
        complain!("cannot set date to {}: {}", quote(value), posix::Errno(posix::ENOSYS));
        return 1;
    }
    let now = posix::time::now();
    let mut moment = Moment { seconds: now.tv_sec, nanoseconds: now.tv_nsec };
    if let Some(reference) = parsed.value(b'r' as u32) {
        match posix::fs::stat(reference) {
            Ok(stat) => moment = Moment { seconds: stat.st_mtim.tv_sec, nanoseconds: stat.st_mtim.tv_nsec },
            Err(error) => {
                complain!("{}: {}", crate::common::Text(reference), error);
                return 1;
            }
        }
    }
    if let Some(text) = parsed.value(b'd' as u32) {
        match dates::parse(text, moment) {
            Ok(parsed_moment) => moment = parsed_moment,
            Err(_) => {
                complain!("invalid date {}", quote(text));
                return 1;
            }
        }
    }
    let mut format: Vec<u8> = b"%a %b %e %H:%M:%S %Z %Y".to_vec();
    let mut chosen = 0;
    if let Some(found) = parsed.options.iter().rev().find(|found| found.id == b'I' as u32) {
        let precision = found.value.unwrap_or(b"");
        match iso_format(precision) {
            Some(iso) => format = iso.to_vec(),
            None => {
                complain!("invalid argument {} for '--iso-8601'", quote(precision));
                return COMMAND.try_help();
            }
        }
        chosen += 1;
    }
    if parsed.has(b'R') {
        format = b"%a, %d %b %Y %H:%M:%S %z".to_vec();
        chosen += 1;
    }
    if let Some(value) = parsed.value(RFC_3339) {
        format = match value {
            b"date" => b"%Y-%m-%d".to_vec(),
            b"seconds" => b"%Y-%m-%d %H:%M:%S%:z".to_vec(),
            b"ns" => b"%Y-%m-%d %H:%M:%S.%N%:z".to_vec(),
            other => {
                complain!("invalid argument {} for '--rfc-3339'", quote(other));
                return COMMAND.try_help();
            }
        };
        chosen += 1;
    }
    match parsed.operands.as_slice() {
        [] => {}
        [user_format] if user_format.starts_with(b"+") => {
            if chosen > 0 {
                complain!("multiple output formats specified");
                return 1;
            }
            format = user_format[1..].to_vec();
        }
        [operand] => {
            complain!("invalid date {}", quote(operand));
            return 1;
        }
        [_, extra, ..] => {
            complain!("extra operand {}", quote(extra));
            return COMMAND.try_help();
        }
    }
    let mut line = dates::format(&format, moment);
    line.push(b'\n');
    output(&line);
    0
}
