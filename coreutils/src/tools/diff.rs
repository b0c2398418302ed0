//! diff: compares files line by line (see `diff_algorithm`) and prints the
//! differences in the normal format, unified (-u, -U N) or context (-c,
//! -C N). -q only says whether files differ, -s also when they do not;
//! -i, -b and -w ignore case, changes in the amount of white space, or all
//! white space; -r compares directories recursively, -N treats missing
//! files as empty; --label names the inputs; -a compares binary files as
//! text (else "Binary files A and B differ"). Exit status: 0 same, 1
//! different, 2 trouble.

use crate::common::{output, quote, Command, Input, Text};
use crate::complain;
use crate::diff_algorithm::{classes, compare, Change};
use crate::options::{Order, Spec, Takes};
use alloc::string::String;
use alloc::vec::Vec;

const LABEL: u32 = 300;
const NORMAL: u32 = 301;

const COMMAND: Command = Command {
    usage: "[OPTION]... FILES\nCompare FILES line by line.\n  -q, --brief                   report only when files differ\n  -s, --report-identical-files  report when two files are the same\n  -c, -C NUM, --context[=NUM]   output NUM (default 3) lines of copied context\n  -u, -U NUM, --unified[=NUM]   output NUM (default 3) lines of unified context\n  -r, --recursive               recursively compare any subdirectories found\n  -N, --new-file                treat absent files as empty\n  -i, --ignore-case             ignore case differences in file contents\n  -b, --ignore-space-change     ignore changes in the amount of white space\n  -w, --ignore-all-space        ignore all white space\n  -a, --text                    treat all files as text\n      --label LABEL             use LABEL instead of file name and timestamp\n  -d, --minimal                 try hard to find a smaller set of changes\n      --normal                  output a normal diff (the default)\n",
    specs: &[
        Spec::flag(b'q', "brief"),
        Spec::flag(b's', "report-identical-files"),
        Spec::flag(b'c', ""),
        Spec::value(b'C', ""),
        Spec { short: 0, long: "context", takes: Takes::OptionalValue, id: b'C' as u32 },
        Spec::flag(b'u', ""),
        Spec::value(b'U', ""),
        Spec { short: 0, long: "unified", takes: Takes::OptionalValue, id: b'U' as u32 },
        Spec::flag(b'r', "recursive"),
        Spec::flag(b'N', "new-file"),
        Spec::flag(b'i', "ignore-case"),
        Spec::flag(b'b', "ignore-space-change"),
        Spec::flag(b'w', "ignore-all-space"),
        Spec::flag(b'a', "text"),
        Spec::flag(b'd', "minimal"),
        Spec::long("label", Takes::Value, LABEL),
        Spec::long("normal", Takes::Nothing, NORMAL),
    ],
    order: Order::Gnu,
    usage_status: 2,
    try_with_name: true,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Normal,
    Unified(usize),
    Context(usize),
}

/// How lines compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Folding {
    pub case: bool,
    pub space_change: bool,
    pub all_space: bool,
}

impl Folding {
    /// The form of `line` that is compared.
    pub fn key(&self, line: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(line.len());
        let mut in_space = false;
        for &byte in line {
            let byte = if self.case { byte.to_ascii_lowercase() } else { byte };
            let space = matches!(byte, b' ' | b'\t' | b'\r' | 0x0b | 0x0c);
            if self.all_space && space {
                continue;
            }
            if self.space_change && space {
                in_space = true;
                continue;
            }
            if in_space {
                key.push(b' ');
                in_space = false;
            }
            key.push(byte);
        }
        key
    }
}

/// A file's lines (without newlines) and whether its last line lacks one.
pub struct Lines<'a> {
    pub lines: Vec<&'a [u8]>,
    pub missing_newline: bool,
}

pub fn split_lines(data: &[u8]) -> Lines<'_> {
    let mut lines: Vec<&[u8]> = data.split(|&byte| byte == b'\n').collect();
    let missing_newline = !data.is_empty() && data.last() != Some(&b'\n');
    if !missing_newline {
        lines.pop();
    }
    if data.is_empty() {
        lines.clear();
    }
    Lines { lines, missing_newline }
}

fn push_line(out: &mut Vec<u8>, prefix: &[u8], line: &[u8], last: bool, missing_newline: bool) {
    out.extend_from_slice(prefix);
    out.extend_from_slice(line);
    out.push(b'\n');
    if last && missing_newline {
        out.extend_from_slice(b"\\ No newline at end of file\n");
    }
}

/// "a,b" or "a" for a range of 1-based lines [first+1, first+count]; an
/// empty range names the line before it.
fn normal_range(first: usize, count: usize) -> String {
    match count {
        0 => alloc::format!("{}", first),
        1 => alloc::format!("{}", first + 1),
        _ => alloc::format!("{},{}", first + 1, first + count),
    }
}

/// The normal format.
pub fn normal(a: &Lines<'_>, b: &Lines<'_>, changes: &[Change]) -> Vec<u8> {
    let mut out = Vec::new();
    for change in changes {
        let letter = match (change.deleted, change.inserted) {
            (0, _) => 'a',
            (_, 0) => 'd',
            _ => 'c',
        };
        out.extend_from_slice(
            alloc::format!(
                "{}{}{}\n",
                normal_range(change.first, change.deleted),
                letter,
                normal_range(change.second, change.inserted)
            )
            .as_bytes(),
        );
        for index in change.first..change.first + change.deleted {
            push_line(&mut out, b"< ", a.lines[index], index + 1 == a.lines.len(), a.missing_newline);
        }
        if change.deleted > 0 && change.inserted > 0 {
            out.extend_from_slice(b"---\n");
        }
        for index in change.second..change.second + change.inserted {
            push_line(&mut out, b"> ", b.lines[index], index + 1 == b.lines.len(), b.missing_newline);
        }
    }
    out
}

/// Groups changes into hunks as GNU does: a gap of at most 2 * context
/// unchanged lines joins two changes.
fn hunks(changes: &[Change], context: usize) -> Vec<&[Change]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for index in 1..=changes.len() {
        let split = index == changes.len() || {
            let previous = &changes[index - 1];
            changes[index].first - (previous.first + previous.deleted) > 2 * context
        };
        if split {
            groups.push(&changes[start..index]);
            start = index;
        }
    }
    groups
}

fn unified_range(start: usize, count: usize) -> String {
    match count {
        0 => alloc::format!("{},0", start),
        1 => alloc::format!("{}", start + 1),
        _ => alloc::format!("{},{}", start + 1, count),
    }
}

/// The unified format's hunks (without the two header lines).
pub fn unified(a: &Lines<'_>, b: &Lines<'_>, changes: &[Change], context: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for group in hunks(changes, context) {
        let first = group[0];
        let last = group[group.len() - 1];
        let start0 = first.first.saturating_sub(context);
        let start1 = first.second.saturating_sub(first.first - start0);
        let end0 = (last.first + last.deleted + context).min(a.lines.len());
        let end1 = (last.second + last.inserted + (end0 - (last.first + last.deleted))).min(b.lines.len());
        out.extend_from_slice(
            alloc::format!(
                "@@ -{} +{} @@\n",
                unified_range(start0, end0 - start0),
                unified_range(start1, end1 - start1)
            )
            .as_bytes(),
        );
        let mut position0 = start0;
        for change in group {
            while position0 < change.first {
                push_line(&mut out, b" ", a.lines[position0], position0 + 1 == a.lines.len(), a.missing_newline);
                position0 += 1;
            }
            for index in change.first..change.first + change.deleted {
                push_line(&mut out, b"-", a.lines[index], index + 1 == a.lines.len(), a.missing_newline);
            }
            for index in change.second..change.second + change.inserted {
                push_line(&mut out, b"+", b.lines[index], index + 1 == b.lines.len(), b.missing_newline);
            }
            position0 = change.first + change.deleted;
        }
        while position0 < end0 {
            push_line(&mut out, b" ", a.lines[position0], position0 + 1 == a.lines.len(), a.missing_newline);
            position0 += 1;
        }
    }
    out
}

fn context_range(start: usize, end: usize) -> String {
    // 1-based [start+1, end]; one line or an empty range (the line before) is one number.
    if end <= start + 1 {
        alloc::format!("{}", end)
    } else {
        alloc::format!("{},{}", start + 1, end)
    }
}

/// One side of a context-format hunk: `file`'s lines `start..end`, those of
/// each change `(first line, count, the other side changed too)` marked
/// "! " (changed on both sides) or `only` ("- " or "+ "), the others "  ".
fn context_side(
    out: &mut Vec<u8>,
    file: &Lines<'_>,
    changes: impl Iterator<Item = (usize, usize, bool)>,
    start: usize,
    end: usize,
    only: &[u8],
) {
    let mut position = start;
    let push = |out: &mut Vec<u8>, mark: &[u8], index: usize| {
        push_line(out, mark, file.lines[index], index + 1 == file.lines.len(), file.missing_newline)
    };
    for (first, count, both) in changes {
        while position < first {
            push(out, b"  ", position);
            position += 1;
        }
        let mark: &[u8] = if both { b"! " } else { only };
        for index in first..first + count {
            push(out, mark, index);
        }
        position = first + count;
    }
    while position < end {
        push(out, b"  ", position);
        position += 1;
    }
}

/// The context format's hunks (without the two header lines).
pub fn context_format(a: &Lines<'_>, b: &Lines<'_>, changes: &[Change], context: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for group in hunks(changes, context) {
        let first = group[0];
        let last = group[group.len() - 1];
        let start0 = first.first.saturating_sub(context);
        let start1 = first.second.saturating_sub(first.first - start0);
        let end0 = (last.first + last.deleted + context).min(a.lines.len());
        let end1 = (last.second + last.inserted + (end0 - (last.first + last.deleted))).min(b.lines.len());
        out.extend_from_slice(b"***************\n");
        out.extend_from_slice(alloc::format!("*** {} ****\n", context_range(start0, end0)).as_bytes());
        // Each side only if it changed: its lines, the changed ones marked.
        if group.iter().any(|change| change.deleted > 0) {
            let changed = group.iter().map(|change| (change.first, change.deleted, change.inserted > 0));
            context_side(&mut out, a, changed, start0, end0, b"- ");
        }
        out.extend_from_slice(alloc::format!("--- {} ----\n", context_range(start1, end1)).as_bytes());
        if group.iter().any(|change| change.inserted > 0) {
            let changed = group.iter().map(|change| (change.second, change.inserted, change.deleted > 0));
            context_side(&mut out, b, changed, start1, end1, b"+ ");
        }
    }
    out
}

struct Settings {
    style: Style,
    brief: bool,
    report_identical: bool,
    recursive: bool,
    new_file: bool,
    folding: Folding,
    text: bool,
    minimal: bool,
    labels: Vec<Vec<u8>>,
    /// The options as given, for "diff -r ..." lines before each pair.
    switches: Vec<u8>,
}

/// The header line of a file in unified/context output (the context
/// format keeps the traditional date form, as GNU's diff does).
fn header(marker: &str, name: &[u8], label: Option<&Vec<u8>>, stat: Option<&posix::Stat>, unified: bool) -> Vec<u8> {
    let mut line = Vec::new();
    line.extend_from_slice(marker.as_bytes());
    line.push(b' ');
    match label {
        Some(label) => line.extend_from_slice(label),
        None => {
            line.extend_from_slice(name);
            line.push(b'\t');
            let (seconds, nanoseconds) = stat.map_or((0, 0), |stat| (stat.st_mtim.tv_sec, stat.st_mtim.tv_nsec));
            if unified {
                line.extend_from_slice(crate::tools::stat::format_time(seconds, nanoseconds).as_bytes());
            } else {
                let moment = crate::dates::Moment { seconds, nanoseconds };
                line.extend_from_slice(&crate::dates::format(b"%a %b %e %T %Y", moment));
            }
        }
    }
    line.push(b'\n');
    line
}

/// Compares two files; returns 0, 1 or 2.
fn compare_files(name_a: &[u8], name_b: &[u8], settings: &Settings, missing: [bool; 2]) -> i32 {
    let read = |name: &[u8], absent: bool| -> Result<(Vec<u8>, Option<posix::Stat>), posix::Errno> {
        if absent {
            return Ok((Vec::new(), None));
        }
        let input = Input::open(name)?;
        let stat = input.fd().stat().ok();
        Ok((input.read_all()?, stat))
    };
    let (data_a, stat_a) = match read(name_a, missing[0]) {
        Ok(result) => result,
        Err(error) => {
            complain!("{}: {}", Text(name_a), error);
            return 2;
        }
    };
    let (data_b, stat_b) = match read(name_b, missing[1]) {
        Ok(result) => result,
        Err(error) => {
            complain!("{}: {}", Text(name_b), error);
            return 2;
        }
    };
    if data_a == data_b && settings.folding == Folding::default() {
        if settings.report_identical {
            posix::println!("Files {} and {} are identical", Text(name_a), Text(name_b));
        }
        return 0;
    }
    let binary = !settings.text
        && (data_a.iter().take(32 * 1024).any(|&byte| byte == 0)
            || data_b.iter().take(32 * 1024).any(|&byte| byte == 0));
    if binary {
        if data_a == data_b {
            return 0;
        }
        posix::println!("Binary files {} and {} differ", Text(name_a), Text(name_b));
        return 1;
    }
    let a = split_lines(&data_a);
    let b = split_lines(&data_b);
    // A missing final newline makes the last line differ (GNU compares it so).
    let key = |lines: &Lines<'_>| -> Vec<Vec<u8>> {
        lines
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let mut key = settings.folding.key(line);
                if lines.missing_newline && index + 1 == lines.lines.len() && settings.folding == Folding::default() {
                    key.push(0xff);
                    key.push(b'\n');
                }
                key
            })
            .collect()
    };
    let (classes_a, classes_b) = classes(&key(&a), &key(&b));
    let horizon = match settings.style {
        Style::Normal => 0,
        Style::Unified(context) | Style::Context(context) => context,
    };
    let changes = compare(&classes_a, &classes_b, settings.minimal, horizon);
    if changes.is_empty() {
        if settings.report_identical {
            posix::println!("Files {} and {} are identical", Text(name_a), Text(name_b));
        }
        return 0;
    }
    if settings.brief {
        posix::println!("Files {} and {} differ", Text(name_a), Text(name_b));
        return 1;
    }
    let mut out = Vec::new();
    match settings.style {
        Style::Normal => out.extend_from_slice(&normal(&a, &b, &changes)),
        Style::Unified(context) => {
            out.extend_from_slice(&header("---", name_a, settings.labels.first(), stat_a.as_ref(), true));
            out.extend_from_slice(&header("+++", name_b, settings.labels.get(1), stat_b.as_ref(), true));
            out.extend_from_slice(&unified(&a, &b, &changes, context));
        }
        Style::Context(context) => {
            out.extend_from_slice(&header("***", name_a, settings.labels.first(), stat_a.as_ref(), false));
            out.extend_from_slice(&header("---", name_b, settings.labels.get(1), stat_b.as_ref(), false));
            out.extend_from_slice(&context_format(&a, &b, &changes, context));
        }
    }
    output(&out);
    1
}

/// Compares two directories; returns the worst status.
fn compare_directories(a: &[u8], b: &[u8], settings: &Settings) -> i32 {
    let list = |path: &[u8]| -> Result<Vec<Vec<u8>>, posix::Errno> {
        let mut names: Vec<Vec<u8>> = posix::fs::read_directory(path)?.into_iter().map(|entry| entry.name).collect();
        names.sort();
        Ok(names)
    };
    let (names_a, names_b) = match (list(a), list(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(error), _) => {
            complain!("{}: {}", Text(a), error);
            return 2;
        }
        (_, Err(error)) => {
            complain!("{}: {}", Text(b), error);
            return 2;
        }
    };
    let mut all: Vec<&Vec<u8>> = names_a.iter().chain(names_b.iter()).collect();
    all.sort();
    all.dedup();
    let mut status = 0;
    for name in all {
        let in_a = names_a.contains(name);
        let in_b = names_b.contains(name);
        let path_a = posix::path::join(a, name);
        let path_b = posix::path::join(b, name);
        if !(settings.new_file || in_a && in_b) {
            let directory = if in_a { a } else { b };
            posix::println!("Only in {}: {}", Text(directory), Text(name));
            status = status.max(1);
            continue;
        }
        let stat_a = if in_a { posix::fs::stat(&path_a[..]) } else { Err(posix::Errno(posix::ENOENT)) };
        let stat_b = if in_b { posix::fs::stat(&path_b[..]) } else { Err(posix::Errno(posix::ENOENT)) };
        // A name present on both sides that cannot be followed (a dangling link): each is an error.
        if in_a && in_b && (stat_a.is_err() || stat_b.is_err()) {
            for (path, stat) in [(&path_a, &stat_a), (&path_b, &stat_b)] {
                if let Err(error) = stat {
                    complain!("{}: {}", Text(path), error);
                }
            }
            status = 2;
            continue;
        }
        let (stat_a, stat_b) = (stat_a.ok(), stat_b.ok());
        let directory_a = stat_a.as_ref().is_some_and(|stat| stat.is_directory());
        let directory_b = stat_b.as_ref().is_some_and(|stat| stat.is_directory());
        match (directory_a, directory_b) {
            (true, true) => {
                if settings.recursive {
                    status = status.max(compare_directories(&path_a, &path_b, settings));
                } else {
                    posix::println!("Common subdirectories: {} and {}", Text(&path_a), Text(&path_b));
                }
            }
            (true, false) | (false, true) if in_a && in_b => {
                posix::println!(
                    "File {} is a {} while file {} is a {}",
                    Text(&path_a),
                    if directory_a { "directory" } else { "regular file" },
                    Text(&path_b),
                    if directory_b { "directory" } else { "regular file" }
                );
                status = status.max(1);
            }
            _ => {
                if !settings.brief {
                    // Announce the pair as GNU's diff does, with the switches given.
                    // (With --label, GNU names the pair by its labels here too.)
                    let mut line = b"diff".to_vec();
                    line.extend_from_slice(&settings.switches);
                    line.push(b' ');
                    line.extend_from_slice(settings.labels.first().unwrap_or(&path_a));
                    line.push(b' ');
                    line.extend_from_slice(settings.labels.get(1).unwrap_or(&path_b));
                    line.push(b'\n');
                    // Printed only when the files differ.
                    let result = compare_with_announcement(&path_a, &path_b, settings, [!in_a, !in_b], &line);
                    status = status.max(result);
                } else {
                    status = status.max(compare_files(&path_a, &path_b, settings, [!in_a, !in_b]));
                }
            }
        }
    }
    status
}

/// Compares two files of a directory walk, printing `announcement` first
/// when they differ (and the output is a diff, not a one-line report).
fn compare_with_announcement(a: &[u8], b: &[u8], settings: &Settings, missing: [bool; 2], announcement: &[u8]) -> i32 {
    let identical = files_identical(a, b, settings, missing);
    match identical {
        Some(true) => {
            if settings.report_identical {
                posix::println!("Files {} and {} are identical", Text(a), Text(b));
            }
            0
        }
        Some(false) => {
            let binary = is_binary(a, missing[0]) || is_binary(b, missing[1]);
            if !binary || settings.text {
                output(announcement);
            }
            compare_files(a, b, settings, missing)
        }
        None => compare_files(a, b, settings, missing),
    }
}

fn is_binary(path: &[u8], missing: bool) -> bool {
    if missing {
        return false;
    }
    crate::common::read_operand(path).map(|data| data.iter().take(32 * 1024).any(|&byte| byte == 0)).unwrap_or(false)
}

/// Whether two files compare equal under the settings (None if one cannot be read).
fn files_identical(a: &[u8], b: &[u8], settings: &Settings, missing: [bool; 2]) -> Option<bool> {
    let read =
        |path: &[u8], absent: bool| if absent { Some(Vec::new()) } else { crate::common::read_operand(path).ok() };
    let data_a = read(a, missing[0])?;
    let data_b = read(b, missing[1])?;
    if data_a == data_b {
        return Some(true);
    }
    if settings.folding == Folding::default() {
        return Some(false);
    }
    let lines_a = split_lines(&data_a);
    let lines_b = split_lines(&data_b);
    let keys_a: Vec<Vec<u8>> = lines_a.lines.iter().map(|line| settings.folding.key(line)).collect();
    let keys_b: Vec<Vec<u8>> = lines_b.lines.iter().map(|line| settings.folding.key(line)).collect();
    Some(keys_a == keys_b)
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut style = Style::Normal;
    for found in &parsed.options {
        let context = |value: Option<&[u8]>| -> Result<usize, i32> {
            match value {
                None => Ok(3),
                Some(text) => match crate::common::parse_integer(text) {
                    Some(number) if number >= 0 => Ok(number as usize),
                    _ => {
                        complain!("invalid context length {}", quote(text));
                        Err(COMMAND.try_help())
                    }
                },
            }
        };
        match found.id {
            id if id == b'u' as u32 => style = Style::Unified(3),
            id if id == b'U' as u32 => match context(found.value) {
                Ok(lines) => style = Style::Unified(lines),
                Err(status) => return status,
            },
            id if id == b'c' as u32 => style = Style::Context(3),
            id if id == b'C' as u32 => match context(found.value) {
                Ok(lines) => style = Style::Context(lines),
                Err(status) => return status,
            },
            NORMAL => style = Style::Normal,
            _ => {}
        }
    }
    if parsed.operands.len() < 2 {
        let message = match parsed.operands.first() {
            None => String::from("missing operand after 'diff'"),
            Some(operand) => alloc::format!("missing operand after {}", quote(operand)),
        };
        return COMMAND.usage_error(format_args!("{}", message));
    }
    if parsed.operands.len() > 2 {
        return COMMAND.usage_error(format_args!("extra operand {}", quote(parsed.operands[2])));
    }
    // The switches as written (before the operands), for "diff -r" lines.
    let mut switches = Vec::new();
    for argument in arguments {
        if parsed.operands.iter().any(|operand| core::ptr::eq(*operand, *argument)) {
            continue;
        }
        switches.push(b' ');
        switches.extend_from_slice(argument);
    }
    let settings = Settings {
        style,
        brief: parsed.has(b'q'),
        report_identical: parsed.has(b's'),
        recursive: parsed.has(b'r'),
        new_file: parsed.has(b'N'),
        folding: Folding { case: parsed.has(b'i'), space_change: parsed.has(b'b'), all_space: parsed.has(b'w') },
        text: parsed.has(b'a'),
        minimal: parsed.has(b'd'),
        labels: parsed
            .options
            .iter()
            .filter(|found| found.id == LABEL)
            .filter_map(|found| found.value.map(<[u8]>::to_vec))
            .collect(),
        switches,
    };
    let (a, b) = (parsed.operands[0], parsed.operands[1]);
    let kind = |path: &[u8]| -> Result<bool, posix::Errno> {
        if path == b"-" {
            return Ok(false);
        }
        posix::fs::stat(path).map(|stat| stat.is_directory())
    };
    let (directory_a, directory_b) = match (kind(a), kind(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(error), _) if !settings.new_file => {
            complain!("{}: {}", Text(a), error);
            return 2;
        }
        (_, Err(error)) if !settings.new_file => {
            complain!("{}: {}", Text(b), error);
            return 2;
        }
        (first, second) => {
            let missing = [first.is_err(), second.is_err()];
            if missing[0] && missing[1] {
                complain!("{}: {}", Text(a), posix::Errno(posix::ENOENT));
                return 2;
            }
            return compare_files(a, b, &settings, missing);
        }
    };
    match (directory_a, directory_b) {
        (true, true) => compare_directories(a, b, &settings),
        (true, false) => {
            let inside = posix::path::join(a, posix::path::base_name(b));
            compare_files(&inside, b, &settings, [false, false])
        }
        (false, true) => {
            let inside = posix::path::join(b, posix::path::base_name(a));
            compare_files(a, &inside, &settings, [false, false])
        }
        (false, false) => compare_files(a, b, &settings, [false, false]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes_of(a: &Lines<'_>, b: &Lines<'_>) -> Vec<Change> {
        let (x, y) = classes(&a.lines, &b.lines);
        compare(&x, &y, false, 0)
    }

    #[test]
    fn normal_format() {
        let a = split_lines(b"a\nb\nc\nd\ne\n");
        let b = split_lines(b"a\nx\nc\nd\ny\nz\ne\n");
        let text = normal(&a, &b, &changes_of(&a, &b));
        assert_eq!(String::from_utf8(text).unwrap(), "2c2\n< b\n---\n> x\n4a5,6\n> y\n> z\n");
    }

    #[test]
    fn unified_format_with_missing_newline() {
        let a = split_lines(b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10");
        let b = split_lines(b"1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n");
        let (x, y) = classes(&[&a.lines[..9], &[&b"10\xff"[..]][..]].concat(), &b.lines);
        let changes = compare(&x, &y, false, 3);
        let text = String::from_utf8(unified(&a, &b, &changes, 3)).unwrap();
        // A gap of 2 * 3 lines joins the two changes into one hunk (GNU's diff -u prints the same).
        assert_eq!(
            text,
            "@@ -1,10 +1,10 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n 7\n 8\n 9\n-10\n\\ No newline at end of file\n+10\n"
        );
    }

    #[test]
    fn white_space_folding() {
        let folding = Folding { case: true, space_change: true, all_space: false };
        assert_eq!(folding.key(b"A  b\tC "), b"a b c");
        let all = Folding { all_space: true, ..Folding::default() };
        assert_eq!(all.key(b" a b "), b"ab");
    }
}
