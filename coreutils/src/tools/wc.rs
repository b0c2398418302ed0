//! wc: newline, word and byte counts (-l, -w, -c; -m characters, which are
//! bytes in the C locale; -L the longest line's display width), per file
//! and in total, columns sized as GNU's wc sizes them.

use crate::common::{output, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::string::String;
use alloc::vec::Vec;

const TOTAL: u32 = 300;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nPrint newline, word, and byte counts for each FILE, and a total line if more than one FILE is specified.\n  -c, --bytes            print the byte counts\n  -m, --chars            print the character counts\n  -l, --lines            print the newline counts\n  -L, --max-line-length  print the maximum display width\n  -w, --words            print the word counts\n      --total=WHEN       when to print a line with total counts: auto, always, only, never\n",
    specs: &[
        Spec::flag(b'c', "bytes"),
        Spec::flag(b'm', "chars"),
        Spec::flag(b'l', "lines"),
        Spec::flag(b'L', "max-line-length"),
        Spec::flag(b'w', "words"),
        Spec::long("total", Takes::Value, TOTAL),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// The counts of one input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub words: u64,
    pub bytes: u64,
    pub longest: u64,
}

/// Counting state across the blocks of one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub counts: Counts,
    in_word: bool,
    column: u64,
}

impl Counter {
    pub fn push(&mut self, data: &[u8]) {
        let counts = &mut self.counts;
        counts.bytes += data.len() as u64;
        for &byte in data {
            match byte {
                b'\n' | b'\r' | b'\x0c' => {
                    if byte == b'\n' {
                        counts.lines += 1;
                    }
                    counts.longest = counts.longest.max(self.column);
                    self.column = 0;
                    self.in_word = false;
                }
                b'\t' => {
                    self.column += 8 - self.column % 8;
                    self.in_word = false;
                }
                b' ' | b'\x0b' => {
                    if byte == b' ' {
                        self.column += 1;
                    }
                    self.in_word = false;
                }
                _ => {
                    if (0x20..0x7f).contains(&byte) {
                        self.column += 1;
                    }
                    if !self.in_word {
                        self.in_word = true;
                        counts.words += 1;
                    }
                }
            }
        }
    }

    pub fn finish(mut self) -> Counts {
        self.counts.longest = self.counts.longest.max(self.column);
        self.counts
    }
}

/// Which counts to print, in wc's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub lines: bool,
    pub words: bool,
    pub chars: bool,
    pub bytes: bool,
    pub longest: bool,
}

impl Selection {
    fn count(&self) -> usize {
        [self.lines, self.words, self.chars, self.bytes, self.longest].iter().filter(|&&on| on).count()
    }
}

/// One output line: the selected counts right-aligned to `width`, then the name.
pub fn format_line(counts: &Counts, selection: &Selection, width: usize, name: Option<&[u8]>) -> String {
    let mut line = String::new();
    let values = [
        (selection.lines, counts.lines),
        (selection.words, counts.words),
        (selection.chars, counts.bytes),
        (selection.bytes, counts.bytes),
        (selection.longest, counts.longest),
    ];
    for (shown, value) in values {
        if shown {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&alloc::format!("{:>width$}", value, width = width));
        }
    }
    if let Some(name) = name {
        line.push(' ');
        line.push_str(&alloc::format!("{}", Text(name)));
    }
    line.push('\n');
    line
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut selection = Selection {
        lines: parsed.has(b'l'),
        words: parsed.has(b'w'),
        chars: parsed.has(b'm'),
        bytes: parsed.has(b'c'),
        longest: parsed.has(b'L'),
    };
    if selection.count() == 0 {
        selection = Selection { lines: true, words: true, chars: false, bytes: true, longest: false };
    }
    let total_mode: &[u8] = parsed.value(TOTAL).unwrap_or(b"auto");
    if !matches!(total_mode, b"auto" | b"always" | b"only" | b"never") {
        complain!("invalid argument {} for '--total'", crate::common::quote(total_mode));
        return COMMAND.try_help();
    }
    let named = !parsed.operands.is_empty();
    let operands: Vec<&[u8]> = if named { parsed.operands } else { alloc::vec![b"-"] };
    // Open everything first: the column width depends on the sizes.
    let mut inputs: Vec<(&[u8], Option<Input>)> = Vec::new();
    let mut status = 0;
    for operand in &operands {
        match Input::open(operand) {
            Ok(input) => inputs.push((operand, Some(input))),
            Err(error) => {
                complain!("{}: {}", Text(operand), error);
                status = 1;
                inputs.push((operand, None));
            }
        }
    }
    let width = column_width(&inputs, &selection);
    let mut total = Counts::default();
    let mut buffer = alloc::vec![0u8; 64 * 1024];
    for (name, input) in &inputs {
        let Some(input) = input else { continue };
        let mut counter = Counter::default();
        loop {
            match input.fd().read(&mut buffer) {
                Ok(0) => break,
                Ok(count) => counter.push(&buffer[..count]),
                Err(error) => {
                    complain!("{}: {}", Text(name), error);
                    status = 1;
                    break;
                }
            }
        }
        let counts = counter.finish();
        total.lines += counts.lines;
        total.words += counts.words;
        total.bytes += counts.bytes;
        total.longest = total.longest.max(counts.longest);
        if total_mode != b"only" {
            let shown_name = if named { Some(*name) } else { None };
            output(format_line(&counts, &selection, width, shown_name).as_bytes());
        }
    }
    let print_total = match total_mode {
        b"always" | b"only" => true,
        b"never" => false,
        _ => operands.len() > 1,
    };
    if print_total {
        let name: Option<&[u8]> = if total_mode == b"only" { None } else { Some(b"total") };
        let width = if total_mode == b"only" { 1 } else { width };
        output(format_line(&total, &selection, width, name).as_bytes());
    }
    status
}

/// GNU's rule: one count of one input needs no padding; otherwise the
/// digits of the regular files' total size, at least 7 when some input is
/// not a regular file (its size is unknown).
fn column_width(inputs: &[(&[u8], Option<Input>)], selection: &Selection) -> usize {
    if inputs.len() == 1 && selection.count() == 1 {
        return 1;
    }
    let mut minimum = 1;
    let mut regular_total: u64 = 0;
    let mut any = false;
    for (_, input) in inputs {
        let Some(input) = input else { continue };
        any = true;
        match input.fd().stat() {
            Ok(stat) if stat.is_regular() => regular_total += stat.st_size as u64,
            _ => minimum = 7,
        }
    }
    if !any || inputs.first().is_some_and(|(_, input)| input.is_none()) {
        return 1;
    }
    let mut width = 1;
    while regular_total >= 10 {
        regular_total /= 10;
        width += 1;
    }
    width.max(minimum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn count(data: &[u8]) -> Counts {
        let mut counter = Counter::default();
        counter.push(data);
        counter.finish()
    }

    #[test]
    fn counts_lines_words_bytes_and_width() {
        assert_eq!(count(b"one two\n three\n\n"), Counts { lines: 3, words: 3, bytes: 16, longest: 7 });
        assert_eq!(count(b"a\tb"), Counts { lines: 0, words: 2, bytes: 3, longest: 9 });
        assert_eq!(count(b""), Counts::default());
        assert_eq!(count(b"\xff\xfe x"), Counts { lines: 0, words: 2, bytes: 4, longest: 2 });
    }

    #[test]
    fn lines_format_as_gnu_wc() {
        let selection = Selection { lines: true, words: true, chars: false, bytes: true, longest: false };
        let counts = Counts { lines: 2, words: 3, bytes: 6, longest: 0 };
        assert_eq!(format_line(&counts, &selection, 1, Some(b"f")), "2 3 6 f\n");
        assert_eq!(format_line(&counts, &selection, 7, None), "      2       3       6\n");
    }

    proptest! {
        #[test]
        fn any_split_counts_the_same(data in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'\n'), Just(b'a'), Just(b'\t')], 0..100), split in 0usize..100) {
            let split = split.min(data.len());
            let mut counter = Counter::default();
            counter.push(&data[..split]);
            counter.push(&data[split..]);
            prop_assert_eq!(counter.finish(), count(&data));
        }
    }
}
