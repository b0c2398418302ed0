//! grep (and egrep, fgrep): prints lines matching patterns, with basic
//! (-G, the default) or extended (-E) regular expressions or fixed strings
//! (-F). -i ignores case, -v selects non-matching lines, -w/-x match whole
//! words/lines, -n numbers lines, -c counts, -l/-L name files, -o prints
//! only the matches, -q is quiet, -s hides file errors, -r/-R search
//! directories (with --include/--exclude/--exclude-dir), -A/-B/-C print
//! context, -m stops after NUM lines, -h/-H hide or show names, -a treats
//! binary files as text. Exit status: 0 if a line was selected, 1 if not,
//! 2 on an error.

use crate::common::{output, quote, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use crate::regex::{Regex, Syntax, Whole};
use alloc::vec::Vec;
use posix::io::BufferedReader;

const INCLUDE: u32 = 300;
const EXCLUDE: u32 = 301;
const EXCLUDE_DIRECTORY: u32 = 302;
const COLOR: u32 = 303;
const LABEL: u32 = 304;
const NULL: u32 = 305;

const COMMAND: Command = Command {
    usage: "[OPTION]... PATTERNS [FILE]...\nSearch for PATTERNS in each FILE.\n  -E, --extended-regexp     PATTERNS are extended regular expressions\n  -F, --fixed-strings       PATTERNS are strings\n  -G, --basic-regexp        PATTERNS are basic regular expressions\n  -e, --regexp=PATTERNS     use PATTERNS for matching\n  -f, --file=FILE           take PATTERNS from FILE\n  -i, --ignore-case         ignore case distinctions in patterns and data\n  -w, --word-regexp         match only whole words\n  -x, --line-regexp         match only whole lines\n  -s, --no-messages         suppress error messages\n  -v, --invert-match        select non-matching lines\n  -m, --max-count=NUM       stop after NUM selected lines\n  -b, --byte-offset         print the byte offset with output lines\n  -n, --line-number         print line number with output lines\n  -H, --with-filename       print file name with output lines\n  -h, --no-filename         suppress the file name prefix on output\n  -o, --only-matching       show only nonempty parts of lines that match\n  -q, --quiet, --silent     suppress all normal output\n  -a, --text                equivalent to --binary-files=text\n  -r, --recursive           search directories recursively\n  -R, --dereference-recursive  likewise, but follow all symlinks\n      --include=GLOB        search only files that match GLOB\n      --exclude=GLOB        skip files that match GLOB\n      --exclude-dir=GLOB    skip directories that match GLOB\n  -L, --files-without-match  print only names of FILEs with no selected lines\n  -l, --files-with-matches  print only names of FILEs with selected lines\n  -c, --count               print only a count of selected lines per FILE\n  -Z, --null                print 0 byte after FILE name\n  -B, --before-context=NUM  print NUM lines of leading context\n  -A, --after-context=NUM   print NUM lines of trailing context\n  -C, --context=NUM         print NUM lines of output context\n",
    specs: &[
        Spec::flag(b'E', "extended-regexp"),
        Spec::flag(b'F', "fixed-strings"),
        Spec::flag(b'G', "basic-regexp"),
        Spec::value(b'e', "regexp"),
        Spec::value(b'f', "file"),
        Spec::flag(b'i', "ignore-case"),
        Spec { short: b'y', long: "", takes: Takes::Nothing, id: b'i' as u32 },
        Spec::flag(b'w', "word-regexp"),
        Spec::flag(b'x', "line-regexp"),
        Spec::flag(b's', "no-messages"),
        Spec::flag(b'v', "invert-match"),
        Spec::value(b'm', "max-count"),
        Spec::flag(b'b', "byte-offset"),
        Spec::flag(b'n', "line-number"),
        Spec::flag(b'H', "with-filename"),
        Spec::flag(b'h', "no-filename"),
        Spec::flag(b'o', "only-matching"),
        Spec::flag(b'q', "quiet"),
        Spec { short: 0, long: "silent", takes: Takes::Nothing, id: b'q' as u32 },
        Spec::flag(b'a', "text"),
        Spec::flag(b'r', "recursive"),
        Spec::flag(b'R', "dereference-recursive"),
        Spec::flag(b'L', "files-without-match"),
        Spec::flag(b'l', "files-with-matches"),
        Spec::flag(b'c', "count"),
        Spec::flag(b'Z', ""),
        Spec::long("null", Takes::Nothing, NULL),
        Spec::value(b'B', "before-context"),
        Spec::value(b'A', "after-context"),
        Spec::value(b'C', "context"),
        Spec::long("include", Takes::Value, INCLUDE),
        Spec::long("exclude", Takes::Value, EXCLUDE),
        Spec::long("exclude-dir", Takes::Value, EXCLUDE_DIRECTORY),
        Spec::long("color", Takes::OptionalValue, COLOR),
        Spec::long("colour", Takes::OptionalValue, COLOR),
        Spec::long("label", Takes::Value, LABEL),
    ],
    order: Order::Gnu,
    usage_status: 2,
    try_with_name: false,
};

/// What to print for selected lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    Lines,
    Count,
    FilesWith,
    FilesWithout,
    Quiet,
}

struct Settings {
    patterns: Vec<Regex>,
    invert: bool,
    only_matching: bool,
    listing: Listing,
    line_numbers: bool,
    byte_offsets: bool,
    names: bool,
    null_after_name: bool,
    quiet_errors: bool,
    text: bool,
    maximum: Option<u64>,
    before: usize,
    after: usize,
    recursive: bool,
    follow_links: bool,
    include: Vec<Vec<u8>>,
    exclude: Vec<Vec<u8>>,
    exclude_directories: Vec<Vec<u8>>,
    label: Vec<u8>,
}

/// The result of searching one input.
struct Searched {
    selected: u64,
    error: bool,
}

impl Settings {
    /// Whether `line` matches any pattern (before -v).
    fn line_matches(&self, line: &[u8]) -> Result<bool, crate::regex::Error> {
        for pattern in &self.patterns {
            if pattern.is_match(line)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The non-empty matches of `line`, leftmost-longest across patterns.
    fn matches_in(&self, line: &[u8]) -> Result<Vec<(usize, usize)>, crate::regex::Error> {
        let mut spans = Vec::new();
        let mut from = 0;
        while from <= line.len() {
            let mut best: Option<(usize, usize)> = None;
            for pattern in &self.patterns {
                if let Some((start, end)) = pattern.find_at(line, from)? {
                    let better = match best {
                        None => true,
                        Some((best_start, best_end)) => start < best_start || (start == best_start && end > best_end),
                    };
                    if better {
                        best = Some((start, end));
                    }
                }
            }
            let Some((start, end)) = best else { break };
            if end > start {
                spans.push((start, end));
                from = end;
            } else {
                from = start + 1;
            }
        }
        Ok(spans)
    }
}

fn prefix(out: &mut Vec<u8>, name: &[u8], settings: &Settings, number: u64, offset: u64, separator: u8) {
    if settings.names {
        out.extend_from_slice(name);
        out.push(if settings.null_after_name { 0 } else { separator });
    }
    if settings.line_numbers {
        out.extend_from_slice(alloc::format!("{}", number).as_bytes());
        out.push(separator);
    }
    if settings.byte_offsets {
        out.extend_from_slice(alloc::format!("{}", offset).as_bytes());
        out.push(separator);
    }
}

/// Searches one input; `name` is how it is shown.
fn search(input: Input, name: &[u8], settings: &Settings) -> Searched {
    let mut reader = BufferedReader::new(input);
    let mut result = Searched { selected: 0, error: false };
    let mut number: u64 = 0;
    let mut offset: u64 = 0;
    let mut before_lines: alloc::collections::VecDeque<(u64, u64, Vec<u8>)> = alloc::collections::VecDeque::new();
    let mut after_remaining = 0usize;
    let mut last_printed: Option<u64> = None;
    let mut binary = false;
    let mut checked_binary = false;
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let count = match reader.read_line(&mut line) {
            Ok(count) => count,
            Err(error) => {
                if !settings.quiet_errors {
                    output(&out);
                    out.clear();
                    complain!("{}: {}", Text(name), error);
                }
                result.error = true;
                break;
            }
        };
        if count == 0 {
            break;
        }
        if !checked_binary {
            // GNU looks at the start of the file for NUL bytes.
            checked_binary = true;
            if !settings.text {
                binary = line.contains(&0);
            }
        } else if !settings.text && !binary && line.contains(&0) {
            binary = true;
        }
        number += 1;
        let line_offset = offset;
        offset += count as u64;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let matched = match settings.line_matches(text) {
            Ok(matched) => matched,
            Err(error) => {
                complain!("{}", error.message());
                result.error = true;
                break;
            }
        };
        let selected = matched != settings.invert;
        if !selected {
            if settings.listing == Listing::Lines && !binary {
                if after_remaining > 0 {
                    after_remaining -= 1;
                    prefix(&mut out, name, settings, number, line_offset, b'-');
                    out.extend_from_slice(text);
                    out.push(b'\n');
                    last_printed = Some(number);
                } else if settings.before > 0 {
                    before_lines.push_back((number, line_offset, text.to_vec()));
                    if before_lines.len() > settings.before {
                        before_lines.pop_front();
                    }
                }
            }
            continue;
        }
        result.selected += 1;
        match settings.listing {
            Listing::Quiet | Listing::FilesWith | Listing::FilesWithout => break,
            Listing::Count => {}
            Listing::Lines if binary => {
                // GNU 3.5 and later say so on standard error and print no lines.
                output(&out);
                out.clear();
                let _ = posix::io::stdout().flush();
                complain!("{}: binary file matches", Text(name));
                break;
            }
            Listing::Lines => {
                // A gap since the last printed line gets a "--" separator.
                let first_shown = before_lines.front().map_or(number, |(first, _, _)| *first);
                if (settings.before > 0 || settings.after > 0)
                    && last_printed.is_some_and(|last| first_shown > last + 1)
                {
                    out.extend_from_slice(b"--\n");
                }
                for (context_number, context_offset, context) in before_lines.drain(..) {
                    prefix(&mut out, name, settings, context_number, context_offset, b'-');
                    out.extend_from_slice(&context);
                    out.push(b'\n');
                }
                if settings.only_matching {
                    if !settings.invert {
                        let spans = settings.matches_in(text).unwrap_or_default();
                        for (start, end) in spans {
                            prefix(&mut out, name, settings, number, line_offset + start as u64, b':');
                            out.extend_from_slice(&text[start..end]);
                            out.push(b'\n');
                        }
                    }
                } else {
                    prefix(&mut out, name, settings, number, line_offset, b':');
                    out.extend_from_slice(text);
                    out.push(b'\n');
                }
                last_printed = Some(number);
                after_remaining = settings.after;
            }
        }
        if out.len() > 32 * 1024 {
            output(&out);
            out.clear();
        }
        if settings.maximum.is_some_and(|maximum| result.selected >= maximum) {
            // The trailing context of the last selected line is still printed.
            while after_remaining > 0 && settings.listing == Listing::Lines {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(count) => {
                        number += 1;
                        let text = line.strip_suffix(b"\n").unwrap_or(&line);
                        if settings.line_matches(text).unwrap_or(false) != settings.invert {
                            break;
                        }
                        prefix(&mut out, name, settings, number, offset, b'-');
                        offset += count as u64;
                        out.extend_from_slice(text);
                        out.push(b'\n');
                        after_remaining -= 1;
                    }
                }
            }
            break;
        }
    }
    output(&out);
    match settings.listing {
        Listing::Count => {
            let mut line = Vec::new();
            if settings.names {
                line.extend_from_slice(name);
                line.push(if settings.null_after_name { 0 } else { b':' });
            }
            line.extend_from_slice(alloc::format!("{}\n", result.selected).as_bytes());
            output(&line);
        }
        Listing::FilesWith if result.selected > 0 => name_line(name, settings),
        Listing::FilesWithout if result.selected == 0 && !result.error => name_line(name, settings),
        _ => {}
    }
    result
}

fn name_line(name: &[u8], settings: &Settings) {
    let mut line = name.to_vec();
    line.push(if settings.null_after_name { 0 } else { b'\n' });
    output(&line);
}

struct Walker<'a> {
    settings: &'a Settings,
    selected: bool,
    error: bool,
}

impl Walker<'_> {
    fn included(&self, name: &[u8]) -> bool {
        let base = posix::path::base_name(name);
        if self.settings.exclude.iter().any(|glob| crate::glob::matches(glob, base, false)) {
            return false;
        }
        self.settings.include.is_empty()
            || self.settings.include.iter().any(|glob| crate::glob::matches(glob, base, false))
    }

    fn file(&mut self, path: &[u8], shown: &[u8]) {
        match Input::open(path) {
            Ok(input) => {
                let searched = search(input, shown, self.settings);
                self.selected |= searched.selected > 0;
                self.error |= searched.error;
            }
            Err(error) => {
                if !self.settings.quiet_errors {
                    complain!("{}: {}", Text(shown), error);
                }
                self.error = true;
            }
        }
    }

    fn operand(&mut self, operand: &[u8], top: bool) {
        if operand == b"-" {
            let searched = search(Input::standard(), &self.settings.label, self.settings);
            self.selected |= searched.selected > 0;
            self.error |= searched.error;
            return;
        }
        let follow = top || self.settings.follow_links;
        let stat = if follow { posix::fs::stat(operand) } else { posix::fs::lstat(operand) };
        match stat {
            Ok(stat) if stat.is_directory() => {
                if !self.settings.recursive {
                    if !self.settings.quiet_errors {
                        complain!("{}: Is a directory", Text(operand));
                    }
                    self.error = true;
                    return;
                }
                let base = posix::path::base_name(operand);
                if !top && self.settings.exclude_directories.iter().any(|glob| crate::glob::matches(glob, base, false))
                {
                    return;
                }
                let entries = match posix::fs::read_directory(operand) {
                    Ok(entries) => entries,
                    Err(error) => {
                        if !self.settings.quiet_errors {
                            complain!("{}: {}", Text(operand), error);
                        }
                        self.error = true;
                        return;
                    }
                };
                // In directory order, as GNU's fts walk reads it.
                for name in entries.into_iter().map(|entry| entry.name) {
                    self.operand(&posix::path::join(operand, &name), false);
                }
            }
            Ok(stat) if stat.is_symlink() && !follow => {}
            Ok(_) => {
                if !top && !self.included(operand) {
                    return;
                }
                self.file(operand, operand);
            }
            Err(error) => {
                if !self.settings.quiet_errors {
                    complain!("{}: {}", Text(operand), error);
                }
                self.error = true;
            }
        }
    }
}

pub fn egrep_main(arguments: &[&'static [u8]]) -> i32 {
    let mut with_option: Vec<&'static [u8]> = alloc::vec![b"-E"];
    with_option.extend_from_slice(arguments);
    main(&with_option)
}

pub fn fgrep_main(arguments: &[&'static [u8]]) -> i32 {
    let mut with_option: Vec<&'static [u8]> = alloc::vec![b"-F"];
    with_option.extend_from_slice(arguments);
    main(&with_option)
}

fn context_value(value: Option<&[u8]>) -> Result<Option<usize>, i32> {
    match value {
        None => Ok(None),
        Some(text) => match crate::common::parse_integer(text) {
            Some(number) if number >= 0 => Ok(Some(number as usize)),
            _ => {
                complain!("{}: invalid context length argument", Text(text));
                Err(2)
            }
        },
    }
}

/// grep's usage errors print its synopsis before the pointer to --help.
fn usage_error() -> i32 {
    posix::eprintln!("Usage: grep [OPTION]... PATTERNS [FILE]...");
    COMMAND.try_help()
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match crate::options::parse(arguments, COMMAND.specs, COMMAND.order) {
        Ok(parsed) if parsed.options.iter().any(|found| found.id == crate::options::HELP) => {
            return COMMAND.parse(&[b"--help"]).err().unwrap_or(0);
        }
        Ok(parsed) => parsed,
        Err(error) => {
            complain!("{}", error.message());
            return usage_error();
        }
    };
    let mut syntax = Syntax::Basic;
    let mut fixed = false;
    let mut pattern_texts: Vec<Vec<u8>> = Vec::new();
    let mut given_patterns = false;
    for found in &parsed.options {
        match found.id {
            id if id == b'E' as u32 => {
                syntax = Syntax::Extended;
                fixed = false;
            }
            id if id == b'G' as u32 => {
                syntax = Syntax::Basic;
                fixed = false;
            }
            id if id == b'F' as u32 => fixed = true,
            id if id == b'e' as u32 => {
                given_patterns = true;
                pattern_texts.extend(found.value.unwrap_or(b"").split(|&byte| byte == b'\n').map(<[u8]>::to_vec));
            }
            id if id == b'f' as u32 => {
                given_patterns = true;
                let file = found.value.unwrap_or(b"");
                match crate::common::read_operand(file) {
                    Ok(contents) => {
                        let contents = contents.strip_suffix(b"\n").unwrap_or(&contents);
                        if !contents.is_empty() || !crate::common::read_operand(file).unwrap_or_default().is_empty() {
                            pattern_texts.extend(contents.split(|&byte| byte == b'\n').map(<[u8]>::to_vec));
                        }
                    }
                    Err(error) => {
                        complain!("{}: {}", Text(file), error);
                        return 2;
                    }
                }
            }
            COLOR => match found.value {
                None | Some(b"never") | Some(b"auto") | Some(b"no") | Some(b"none") | Some(b"tty")
                | Some(b"if-tty") => {}
                Some(other) => {
                    complain!("colour output is not supported: {}", quote(other));
                    return 2;
                }
            },
            _ => {}
        }
    }
    let mut operands = parsed.operands.clone();
    if !given_patterns {
        if operands.is_empty() {
            return usage_error();
        }
        pattern_texts.extend(operands.remove(0).split(|&byte| byte == b'\n').map(<[u8]>::to_vec));
    }
    let ignore_case = parsed.has(b'i');
    let whole = if parsed.has(b'x') {
        Whole::Lines
    } else if parsed.has(b'w') {
        Whole::Words
    } else {
        Whole::Anywhere
    };
    let mut patterns = Vec::new();
    for text in &pattern_texts {
        let compiled = if fixed {
            Regex::fixed(text, ignore_case, whole)
        } else {
            Regex::with_whole(text, syntax, ignore_case, whole)
        };
        match compiled {
            Ok(regex) => {
                for warning in &regex.warnings {
                    complain!("warning: {}", warning);
                }
                patterns.push(regex);
            }
            Err(error) => {
                complain!("{}", error.message());
                return 2;
            }
        }
    }
    let context = match context_value(parsed.value(b'C' as u32)) {
        Ok(context) => context,
        Err(status) => return status,
    };
    let before = match context_value(parsed.value(b'B' as u32)) {
        Ok(value) => value.or(context).unwrap_or(0),
        Err(status) => return status,
    };
    let after = match context_value(parsed.value(b'A' as u32)) {
        Ok(value) => value.or(context).unwrap_or(0),
        Err(status) => return status,
    };
    let maximum = match parsed.value(b'm' as u32) {
        None => None,
        Some(text) => match crate::common::parse_integer(text) {
            Some(number) if number >= 0 => Some(number as u64),
            Some(_) => None,
            None => {
                complain!("invalid max count");
                return 2;
            }
        },
    };
    let listing = if parsed.has(b'q') {
        Listing::Quiet
    } else if parsed.has(b'l') {
        Listing::FilesWith
    } else if parsed.has(b'L') {
        Listing::FilesWithout
    } else if parsed.has(b'c') {
        Listing::Count
    } else {
        Listing::Lines
    };
    let recursive = parsed.has(b'r') || parsed.has(b'R');
    let implicit = operands.is_empty();
    if implicit {
        operands.push(if recursive { b"." } else { b"-" });
    }
    let several = operands.len() > 1 || recursive;
    let names = if parsed.has(b'h') && parsed.has(b'H') {
        let last = parsed.options.iter().rev().find(|found| found.id == b'h' as u32 || found.id == b'H' as u32);
        last.is_some_and(|found| found.id == b'H' as u32)
    } else if parsed.has(b'H') {
        true
    } else if parsed.has(b'h') {
        false
    } else {
        several
    };
    let collect = |id: u32| {
        parsed
            .options
            .iter()
            .filter(|found| found.id == id)
            .filter_map(|found| found.value.map(<[u8]>::to_vec))
            .collect()
    };
    let settings = Settings {
        patterns,
        invert: parsed.has(b'v'),
        only_matching: parsed.has(b'o'),
        listing,
        line_numbers: parsed.has(b'n'),
        byte_offsets: parsed.has(b'b'),
        names,
        null_after_name: parsed.has(b'Z') || parsed.options.iter().any(|found| found.id == NULL),
        quiet_errors: parsed.has(b's'),
        text: parsed.has(b'a'),
        maximum,
        before,
        after,
        recursive,
        follow_links: parsed.has(b'R'),
        include: collect(INCLUDE),
        exclude: collect(EXCLUDE),
        exclude_directories: collect(EXCLUDE_DIRECTORY),
        label: parsed.value(LABEL).map_or_else(|| b"(standard input)".to_vec(), <[u8]>::to_vec),
    };
    if settings.maximum == Some(0) {
        return 1;
    }
    let mut walker = Walker { settings: &settings, selected: false, error: false };
    for operand in &operands {
        // With -r and no operand, names are shown without "./" (as GNU does).
        if implicit && recursive {
            walk_implicit(&mut walker);
        } else {
            walker.operand(operand, true);
        }
        if walker.selected && settings.listing == Listing::Quiet {
            return 0;
        }
    }
    if walker.error && !(settings.listing == Listing::Quiet && walker.selected) {
        2
    } else if walker.selected {
        0
    } else {
        1
    }
}

/// `grep -r PATTERN` with no operand: the working directory, names without "./".
fn walk_implicit(walker: &mut Walker<'_>) {
    let entries = match posix::fs::read_directory(".") {
        Ok(entries) => entries,
        Err(error) => {
            complain!(".: {}", error);
            walker.error = true;
            return;
        }
    };
    for name in entries.into_iter().map(|entry| entry.name) {
        walker.operand(&name, false);
    }
}
