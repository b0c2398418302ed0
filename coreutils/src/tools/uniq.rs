//! uniq: writes each run of equal adjacent lines once. -c counts them,
//! -d prints only repeated runs, -D every line of them, -u only unique
//! lines; -i ignores case, -f N skips N fields, -s N skips N bytes, -w N
//! compares at most N bytes. INPUT and OUTPUT files are optional.

use crate::common::{parse_integer, quote, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;
use posix::io::BufferedReader;

const COMMAND: Command = Command {
    usage: "[OPTION]... [INPUT [OUTPUT]]\nFilter adjacent matching lines from INPUT (or standard input), writing to OUTPUT (or standard output).\n  -c, --count           prefix lines by the number of occurrences\n  -d, --repeated        only print duplicate lines, one for each group\n  -D                    print all duplicate lines\n  -f, --skip-fields=N   avoid comparing the first N fields\n  -i, --ignore-case     ignore differences in case when comparing\n  -s, --skip-chars=N    avoid comparing the first N characters\n  -u, --unique          only print unique lines\n  -w, --check-chars=N   compare no more than N characters in lines\n",
    specs: &[
        Spec::flag(b'c', "count"),
        Spec::flag(b'd', "repeated"),
        Spec { short: b'D', long: "all-repeated", takes: Takes::OptionalValue, id: b'D' as u32 },
        Spec::value(b'f', "skip-fields"),
        Spec::flag(b'i', "ignore-case"),
        Spec::value(b's', "skip-chars"),
        Spec::flag(b'u', "unique"),
        Spec::value(b'w', "check-chars"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// How lines compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub skip_fields: usize,
    pub skip_bytes: usize,
    pub check_bytes: Option<usize>,
    pub ignore_case: bool,
}

impl Comparison {
    /// The part of `line` (without newline) that is compared.
    pub fn key<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        let mut index = 0;
        for _ in 0..self.skip_fields {
            while index < line.len() && (line[index] == b' ' || line[index] == b'\t') {
                index += 1;
            }
            while index < line.len() && line[index] != b' ' && line[index] != b'\t' {
                index += 1;
            }
        }
        index = (index + self.skip_bytes).min(line.len());
        let end = match self.check_bytes {
            Some(count) => (index + count).min(line.len()),
            None => line.len(),
        };
        &line[index..end]
    }

    pub fn equal(&self, a: &[u8], b: &[u8]) -> bool {
        let (a, b) = (self.key(a), self.key(b));
        if self.ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }
}

/// Which runs are printed, and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub count: bool,
    pub repeated: bool,
    pub all_repeated: bool,
    pub unique: bool,
}

/// Writes one run (all its lines, without newlines) to `out` as selected.
pub fn emit(run: &[Vec<u8>], selection: &Selection, out: &mut Vec<u8>) {
    let repeated = run.len() > 1;
    if selection.all_repeated {
        if repeated {
            for line in run {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
        return;
    }
    if (selection.repeated && !repeated) || (selection.unique && repeated) {
        return;
    }
    if selection.count {
        out.extend_from_slice(alloc::format!("{:>7} ", run.len()).as_bytes());
    }
    out.extend_from_slice(&run[0]);
    out.push(b'\n');
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let number = |id: u8, what: &str| -> Result<Option<usize>, i32> {
        match parsed.value(id as u32) {
            None => Ok(None),
            Some(value) => match parse_integer(value) {
                Some(count) if count >= 0 => Ok(Some(count as usize)),
                _ => {
                    complain!("{}: {}", crate::common::quote_if_needed(value), what);
                    Err(1)
                }
            },
        }
    };
    let comparison = match (
        number(b'f', "invalid number of fields to skip"),
        number(b's', "invalid number of bytes to skip"),
        number(b'w', "invalid number of bytes to compare"),
    ) {
        (Ok(fields), Ok(bytes), Ok(check)) => Comparison {
            skip_fields: fields.unwrap_or(0),
            skip_bytes: bytes.unwrap_or(0),
            check_bytes: check,
            ignore_case: parsed.has(b'i'),
        },
        (Err(status), _, _) | (_, Err(status), _) | (_, _, Err(status)) => return status,
    };
    let selection = Selection {
        count: parsed.has(b'c'),
        repeated: parsed.has(b'd'),
        all_repeated: parsed.has(b'D'),
        unique: parsed.has(b'u'),
    };
    if selection.count && selection.all_repeated {
        complain!("printing all duplicated lines and repeat counts is meaningless");
        return COMMAND.try_help();
    }
    if parsed.operands.len() > 2 {
        complain!("extra operand {}", quote(parsed.operands[2]));
        return COMMAND.try_help();
    }
    let input_name: &[u8] = parsed.operands.first().copied().unwrap_or(b"-");
    let input = match Input::open(input_name) {
        Ok(input) => input,
        Err(error) => {
            complain!("{}: {}", Text(input_name), error);
            return 1;
        }
    };
    let output_file = match parsed.operands.get(1) {
        Some(name) if *name != b"-" => {
            match posix::fd::open(*name, posix::O_WRONLY | posix::O_CREAT | posix::O_TRUNC | posix::O_CLOEXEC, 0o666) {
                Ok(fd) => Some(fd),
                Err(error) => {
                    complain!("{}: {}", Text(name), error);
                    return 1;
                }
            }
        }
        _ => None,
    };
    let write = |bytes: &[u8]| -> posix::Result<()> {
        match &output_file {
            Some(fd) => fd.write_all(bytes),
            None => {
                crate::common::output(bytes);
                Ok(())
            }
        }
    };
    let mut reader = BufferedReader::new(input);
    let mut run: Vec<Vec<u8>> = Vec::new();
    let mut out = Vec::new();
    loop {
        let mut line = Vec::new();
        let count = match reader.read_line(&mut line) {
            Ok(count) => count,
            Err(error) => {
                complain!("{}: {}", Text(input_name), error);
                return 1;
            }
        };
        if count > 0 && line.last() == Some(&b'\n') {
            line.pop();
        }
        let finished = count == 0;
        let continues = !finished && run.first().is_some_and(|first| comparison.equal(first, &line));
        if !continues && !run.is_empty() {
            out.clear();
            emit(&run, &selection, &mut out);
            if let Err(error) = write(&out) {
                complain!("write error: {}", error);
                return 1;
            }
            run.clear();
        }
        if finished {
            return 0;
        }
        run.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_skip_fields_and_bytes() {
        let comparison = Comparison { skip_fields: 1, skip_bytes: 1, check_bytes: Some(2), ignore_case: false };
        assert_eq!(comparison.key(b"a  xyzw"), b" x");
        assert!(Comparison { ignore_case: true, ..Comparison::default() }.equal(b"ABC", b"abc"));
    }

    #[test]
    fn runs_print_as_selected() {
        let run = alloc::vec![b"x".to_vec(), b"x".to_vec()];
        let mut out = Vec::new();
        emit(&run, &Selection { count: true, ..Selection::default() }, &mut out);
        assert_eq!(out, b"      2 x\n");
        out.clear();
        emit(&run, &Selection { unique: true, ..Selection::default() }, &mut out);
        assert!(out.is_empty());
        emit(&run, &Selection { all_repeated: true, ..Selection::default() }, &mut out);
        assert_eq!(out, b"x\nx\n");
    }
}
