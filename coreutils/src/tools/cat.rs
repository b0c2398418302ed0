//! cat: concatenates files (or standard input, "-") to standard output.
//! -n numbers lines, -b numbers non-blank lines, -s squeezes blank runs,
//! -E marks line ends with $, -T shows tabs as ^I, -v shows control and
//! high bytes (^X, M-x); -A is -vET, -e is -vE, -t is -vT; -u is ignored.

use crate::common::{output, Command, Input};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nConcatenate FILE(s) to standard output (\"-\" or none: standard input).\n  -A, --show-all           equivalent to -vET\n  -b, --number-nonblank    number nonempty output lines\n  -e                       equivalent to -vE\n  -E, --show-ends          display $ at end of each line\n  -n, --number             number all output lines\n  -s, --squeeze-blank      suppress repeated empty output lines\n  -t                       equivalent to -vT\n  -T, --show-tabs          display TAB characters as ^I\n  -u                       (ignored)\n  -v, --show-nonprinting   use ^ and M- notation, except for LFD and TAB\n",
    specs: &[
        Spec::flag(b'A', "show-all"),
        Spec::flag(b'b', "number-nonblank"),
        Spec::flag(b'e', ""),
        Spec::flag(b'E', "show-ends"),
        Spec::flag(b'n', "number"),
        Spec::flag(b's', "squeeze-blank"),
        Spec::flag(b't', ""),
        Spec::flag(b'T', "show-tabs"),
        Spec::flag(b'u', ""),
        Spec::flag(b'v', "show-nonprinting"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// How lines are decorated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decoration {
    pub number: bool,
    pub number_nonblank: bool,
    pub squeeze: bool,
    pub ends: bool,
    pub tabs: bool,
    pub nonprinting: bool,
}

impl Decoration {
    fn plain(&self) -> bool {
        *self == Decoration::default()
    }
}

/// Decoration state carried across files, as GNU cat numbers on across them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decorator {
    pub decoration: Decoration,
    line_number: u64,
    at_line_start: bool,
    blank_lines: u32,
}

impl Decorator {
    pub fn new(decoration: Decoration) -> Decorator {
        Decorator { decoration, line_number: 0, at_line_start: true, blank_lines: 0 }
    }

    /// Decorates `data` (any split of the input) onto `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let decoration = self.decoration;
        for &byte in data {
            if self.at_line_start {
                if byte == b'\n' {
                    self.blank_lines += 1;
                    if decoration.squeeze && self.blank_lines > 1 {
                        continue;
                    }
                } else {
                    self.blank_lines = 0;
                }
                if decoration.number_nonblank {
                    if byte != b'\n' {
                        self.write_number(out);
                    }
                } else if decoration.number {
                    self.write_number(out);
                }
                self.at_line_start = false;
            }
            match byte {
                b'\n' => {
                    if decoration.ends {
                        out.push(b'$');
                    }
                    out.push(b'\n');
                    self.at_line_start = true;
                }
                b'\t' if decoration.tabs => out.extend_from_slice(b"^I"),
                b'\t' => out.push(b'\t'),
                _ if decoration.nonprinting => show_nonprinting(byte, out),
                _ => out.push(byte),
            }
        }
    }

    fn write_number(&mut self, out: &mut Vec<u8>) {
        self.line_number += 1;
        let text = alloc::format!("{:>6}\t", self.line_number);
        out.extend_from_slice(text.as_bytes());
    }
}

/// `-v`'s notation: ^X for control bytes, ^? for DEL, M- for the high half.
pub fn show_nonprinting(byte: u8, out: &mut Vec<u8>) {
    let mut low = byte;
    if byte >= 0x80 {
        out.extend_from_slice(b"M-");
        low = byte - 0x80;
    }
    match low {
        0..=0x1f => {
            out.push(b'^');
            out.push(low + 0x40);
        }
        0x7f => out.extend_from_slice(b"^?"),
        _ => out.push(low),
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut decoration = Decoration::default();
    for found in &parsed.options {
        match found.id as u8 {
            b'A' => {
                decoration.nonprinting = true;
                decoration.ends = true;
                decoration.tabs = true;
            }
            b'b' => decoration.number_nonblank = true,
            b'e' => {
                decoration.nonprinting = true;
                decoration.ends = true;
            }
            b'E' => decoration.ends = true,
            b'n' => decoration.number = true,
            b's' => decoration.squeeze = true,
            b't' => {
                decoration.nonprinting = true;
                decoration.tabs = true;
            }
            b'T' => decoration.tabs = true,
            b'v' => decoration.nonprinting = true,
            _ => {}
        }
    }
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands };
    let mut decorator = Decorator::new(decoration);
    let mut status = 0;
    let mut buffer = alloc::vec![0u8; 128 * 1024];
    let mut decorated = Vec::new();
    for operand in operands {
        let input = match Input::open(operand) {
            Ok(input) => input,
            Err(error) => {
                complain!("{}: {}", crate::common::Text(operand), error);
                status = 1;
                continue;
            }
        };
        loop {
            let count = match posix::fd::read(input.raw(), &mut buffer) {
                Ok(count) => count,
                Err(error) => {
                    complain!("{}: {}", crate::common::Text(operand), error);
                    status = 1;
                    break;
                }
            };
            if count == 0 {
                break;
            }
            if decoration.plain() {
                output(&buffer[..count]);
            } else {
                decorated.clear();
                decorator.push(&buffer[..count], &mut decorated);
                output(&decorated);
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decorate(decoration: Decoration, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Decorator::new(decoration).push(input, &mut out);
        out
    }

    #[test]
    fn numbering_and_marks_match_gnu_cat() {
        let numbered = Decoration { number: true, ..Decoration::default() };
        assert_eq!(decorate(numbered, b"a\n\nb"), b"     1\ta\n     2\t\n     3\tb");
        let nonblank = Decoration { number_nonblank: true, ..Decoration::default() };
        assert_eq!(decorate(nonblank, b"a\n\nb\n"), b"     1\ta\n\n     2\tb\n");
        let squeezed = Decoration { squeeze: true, ends: true, ..Decoration::default() };
        assert_eq!(decorate(squeezed, b"a\n\n\n\nb\n"), b"a$\n$\nb$\n");
        let shown = Decoration { nonprinting: true, tabs: true, ..Decoration::default() };
        assert_eq!(decorate(shown, b"\t\x01\x7f\x80\xff\n"), b"^I^A^?M-^@M-^?\n");
    }

    proptest! {
        #[test]
        fn any_split_decorates_the_same(data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'x'), Just(b'\t')], 0..200), split in 0usize..200) {
            let decoration = Decoration { number: true, squeeze: true, ends: true, tabs: true, ..Decoration::default() };
            let split = split.min(data.len());
            let mut decorator = Decorator::new(decoration);
            let mut pieces = Vec::new();
            decorator.push(&data[..split], &mut pieces);
            decorator.push(&data[split..], &mut pieces);
            prop_assert_eq!(pieces, decorate(decoration, &data));
        }
    }
}
