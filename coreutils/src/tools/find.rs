//! find: walks directory trees and evaluates an expression for each file.
//! Tests: -name/-iname/-path/-ipath PATTERN, -type [fdlcbps], -mindepth
//! and -maxdepth N, -mtime/-mmin [+-]N, -newer FILE, -size [+-]N[bcwkMG],
//! -empty, -perm [-/]MODE, -user, -group, -links [+-]N, -true, -false.
//! Actions: -print, -print0, -exec COMMAND ; and {} +, -ok COMMAND ;,
//! -delete, -prune, -quit. Operators: ( ), !/-not, -a/-and (implied), -o/-or,
//! with the usual precedence. -L follows links, -P (default) does not;
//! -depth visits a directory after its contents. Without an action,
//! -print is applied to what the expression selects.

use crate::common::{quote, Text};
use crate::complain;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use posix::fs::FileType;
use posix::Stat;

/// How a number compares (+N more than, -N less than, N exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Greater(u64),
    Less(u64),
    Equal(u64),
}

impl Comparison {
    fn parse(text: &[u8]) -> Option<Comparison> {
        let (make, digits): (fn(u64) -> Comparison, &[u8]) = match text.first() {
            Some(b'+') => (Comparison::Greater, &text[1..]),
            Some(b'-') => (Comparison::Less, &text[1..]),
            _ => (Comparison::Equal, text),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(make(core::str::from_utf8(digits).ok()?.parse().ok()?))
    }

    fn holds(self, value: u64) -> bool {
        match self {
            Comparison::Greater(limit) => value > limit,
            Comparison::Less(limit) => value < limit,
            Comparison::Equal(limit) => value == limit,
        }
    }
}

/// -perm's three forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    Exactly(u32),
    AllOf(u32),
    AnyOf(u32),
}

/// One node of the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expression {
    True,
    False,
    Name {
        pattern: Vec<u8>,
        fold: bool,
    },
    Path {
        pattern: Vec<u8>,
        fold: bool,
    },
    Type(Vec<FileType>),
    ModifiedDays(Comparison),
    ModifiedMinutes(Comparison),
    Newer(i64, i64),
    Size {
        comparison: Comparison,
        unit: u64,
    },
    Empty,
    Permission(Permission),
    User(u32),
    Group(u32),
    Links(Comparison),
    Print,
    Print0,
    Execute {
        command: Vec<Vec<u8>>,
        batch: bool,
        ask: bool,
        index: usize,
    },
    Delete,
    Prune,
    Quit,
    Not(Box<Expression>),
    And(Box<Expression>, Box<Expression>),
    Or(Box<Expression>, Box<Expression>),
    /// `,`: both, the value of the second.
    List(Box<Expression>, Box<Expression>),
}

impl Expression {
    fn has_action(&self) -> bool {
        match self {
            Expression::Print
            | Expression::Print0
            | Expression::Execute { .. }
            | Expression::Delete
            | Expression::Quit => true,
            Expression::Not(inner) => inner.has_action(),
            Expression::And(a, b) | Expression::Or(a, b) | Expression::List(a, b) => a.has_action() || b.has_action(),
            _ => false,
        }
    }

    fn has_delete(&self) -> bool {
        match self {
            Expression::Delete => true,
            Expression::Not(inner) => inner.has_delete(),
            Expression::And(a, b) | Expression::Or(a, b) | Expression::List(a, b) => a.has_delete() || b.has_delete(),
            _ => false,
        }
    }
}

/// Global options and the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub paths: Vec<Vec<u8>>,
    pub expression: Expression,
    pub minimum_depth: usize,
    pub maximum_depth: usize,
    pub depth_first: bool,
    pub follow: bool,
    /// -H: links named on the command line are followed.
    pub follow_arguments: bool,
    pub batches: usize,
}

struct Parser<'a> {
    words: &'a [&'a [u8]],
    index: usize,
    minimum_depth: usize,
    maximum_depth: usize,
    depth_first: bool,
    batches: usize,
    now: i64,
}

fn word_text(word: &[u8]) -> String {
    String::from_utf8_lossy(word).into_owned()
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a [u8]> {
        self.words.get(self.index).copied()
    }

    fn argument(&mut self, predicate: &[u8]) -> Result<&'a [u8], String> {
        let value = self
            .words
            .get(self.index)
            .copied()
            .ok_or_else(|| alloc::format!("missing argument to `{}'", word_text(predicate)))?;
        self.index += 1;
        Ok(value)
    }

    fn or(&mut self) -> Result<Expression, String> {
        let mut left = self.and()?;
        while let Some(word) = self.peek() {
            if word == b"-o" || word == b"-or" {
                self.index += 1;
                let right = self.and()?;
                left = Expression::Or(Box::new(left), Box::new(right));
            } else if word == b"," {
                self.index += 1;
                let right = self.and()?;
                left = Expression::List(Box::new(left), Box::new(right));
            } else {
                break;
            }
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expression, String> {
        let mut left = self.not()?;
        while let Some(word) = self.peek() {
            if word == b"-o" || word == b"-or" || word == b")" || word == b"," {
                break;
            }
            if word == b"-a" || word == b"-and" {
                self.index += 1;
            }
            let right = self.not()?;
            left = Expression::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expression, String> {
        match self.peek() {
            Some(b"!") | Some(b"-not") => {
                self.index += 1;
                Ok(Expression::Not(Box::new(self.not()?)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expression, String> {
        let word = self.peek().ok_or_else(|| String::from("expected an expression"))?;
        self.index += 1;
        let number = |text: &[u8], predicate: &[u8]| -> Result<Comparison, String> {
            Comparison::parse(text)
                .ok_or_else(|| alloc::format!("invalid argument '{}' to '{}'", word_text(text), word_text(predicate)))
        };
        Ok(match word {
            b"(" => {
                let inner = self.or()?;
                if self.peek() != Some(b")") {
                    return Err(String::from(
                        "invalid expression; I was expecting to find a ')' somewhere but did not see one.",
                    ));
                }
                self.index += 1;
                inner
            }
            b")" => return Err(String::from("invalid expression; you have too many ')'")),
            b"-true" => Expression::True,
            b"-false" => Expression::False,
            b"-name" | b"-iname" => {
                Expression::Name { pattern: self.argument(word)?.to_vec(), fold: word == b"-iname" }
            }
            b"-path" | b"-ipath" | b"-wholename" | b"-iwholename" => {
                Expression::Path { pattern: self.argument(word)?.to_vec(), fold: word.starts_with(b"-i") }
            }
            b"-type" => {
                let letters = self.argument(word)?;
                let mut kinds = Vec::new();
                for letter in letters.split(|&byte| byte == b',') {
                    kinds.push(match letter {
                        b"f" => FileType::Regular,
                        b"d" => FileType::Directory,
                        b"l" => FileType::Symlink,
                        b"c" => FileType::CharacterDevice,
                        b"b" => FileType::BlockDevice,
                        b"p" => FileType::Fifo,
                        b"s" => FileType::Socket,
                        _ => return Err(alloc::format!("Unknown argument to -type: {}", word_text(letter))),
                    });
                }
                Expression::Type(kinds)
            }
            b"-mtime" => Expression::ModifiedDays(number(self.argument(word)?, word)?),
            b"-mmin" => Expression::ModifiedMinutes(number(self.argument(word)?, word)?),
            b"-newer" => {
                let reference = self.argument(word)?;
                let stat =
                    posix::fs::stat(reference).map_err(|error| alloc::format!("{}: {}", quote(reference), error))?;
                Expression::Newer(stat.st_mtim.tv_sec, stat.st_mtim.tv_nsec)
            }
            b"-size" => {
                let text = self.argument(word)?;
                let (digits, unit) = match text.last() {
                    Some(b'c') => (&text[..text.len() - 1], 1),
                    Some(b'w') => (&text[..text.len() - 1], 2),
                    Some(b'b') => (&text[..text.len() - 1], 512),
                    Some(b'k') => (&text[..text.len() - 1], 1024),
                    Some(b'M') => (&text[..text.len() - 1], 1024 * 1024),
                    Some(b'G') => (&text[..text.len() - 1], 1024 * 1024 * 1024),
                    _ => (text, 512),
                };
                Expression::Size { comparison: number(digits, word)?, unit }
            }
            b"-empty" => Expression::Empty,
            b"-perm" => {
                let text = self.argument(word)?;
                let (kind, mode_text): (fn(u32) -> Permission, &[u8]) = match text.first() {
                    Some(b'-') => (Permission::AllOf, &text[1..]),
                    Some(b'/') => (Permission::AnyOf, &text[1..]),
                    _ => (Permission::Exactly, text),
                };
                let change = crate::tools::chmod::parse_mode(mode_text)
                    .ok_or_else(|| alloc::format!("invalid mode '{}'", word_text(text)))?;
                Expression::Permission(kind(change.apply(0, false, 0)))
            }
            b"-user" => {
                let name = self.argument(word)?;
                let uid = posix::accounts::user_by_name(name)
                    .map(|user| user.uid)
                    .or_else(|| crate::common::parse_integer(name).map(|uid| uid as u32))
                    .ok_or_else(|| alloc::format!("'{}' is not the name of a known user", word_text(name)))?;
                Expression::User(uid)
            }
            b"-group" => {
                let name = self.argument(word)?;
                let gid = posix::accounts::group_by_name(name)
                    .map(|group| group.gid)
                    .or_else(|| crate::common::parse_integer(name).map(|gid| gid as u32))
                    .ok_or_else(|| alloc::format!("'{}' is not the name of an existing group", word_text(name)))?;
                Expression::Group(gid)
            }
            b"-links" => Expression::Links(number(self.argument(word)?, word)?),
            b"-print" => Expression::Print,
            b"-print0" => Expression::Print0,
            b"-delete" => {
                self.depth_first = true;
                Expression::Delete
            }
            b"-prune" => Expression::Prune,
            b"-quit" => Expression::Quit,
            b"-exec" | b"-ok" => {
                let mut command = Vec::new();
                let batch;
                loop {
                    let Some(part) = self.peek() else {
                        return Err(alloc::format!("missing argument to '{}'", word_text(word)));
                    };
                    self.index += 1;
                    if part == b";" {
                        batch = false;
                        break;
                    }
                    if part == b"+" && command.last().is_some_and(|last: &Vec<u8>| last == b"{}") && word == b"-exec" {
                        batch = true;
                        break;
                    }
                    command.push(part.to_vec());
                }
                if command.is_empty() {
                    return Err(alloc::format!("missing argument to '{}'", word_text(word)));
                }
                let index = self.batches;
                if batch {
                    self.batches += 1;
                }
                Expression::Execute { command, batch, ask: word == b"-ok", index }
            }
            b"-maxdepth" | b"-mindepth" => {
                let text = self.argument(word)?;
                let value: usize =
                    core::str::from_utf8(text).ok().and_then(|digits| digits.parse().ok()).ok_or_else(|| {
                        alloc::format!(
                            "Expected a positive decimal integer argument to {}, but got '{}'",
                            word_text(word),
                            word_text(text)
                        )
                    })?;
                if word == b"-maxdepth" {
                    self.maximum_depth = value;
                } else {
                    self.minimum_depth = value;
                }
                Expression::True
            }
            b"-depth" | b"-d" => {
                self.depth_first = true;
                Expression::True
            }
            b"-xdev" | b"-mount" | b"-noleaf" | b"-ignore_readdir_race" => Expression::True,
            other if other.starts_with(b"-") && other.len() > 1 => {
                return Err(alloc::format!("unknown predicate `{}'", word_text(other)));
            }
            other => return Err(alloc::format!("paths must precede expression: '{}'", word_text(other))),
        })
    }
}

/// Reads the command line (without "find"); errors carry GNU's messages.
pub fn parse(arguments: &[&[u8]], now: i64) -> Result<Query, String> {
    let mut index = 0;
    let mut follow = false;
    let mut follow_arguments = false;
    while let Some(argument) = arguments.get(index) {
        // The last of -H, -L, -P wins.
        match *argument {
            b"-L" => (follow, follow_arguments) = (true, true),
            b"-H" => (follow, follow_arguments) = (false, true),
            b"-P" => (follow, follow_arguments) = (false, false),
            _ => break,
        }
        index += 1;
    }
    let mut paths = Vec::new();
    while let Some(argument) = arguments.get(index) {
        let starts_expression = (argument.starts_with(b"-") && argument.len() > 1)
            || *argument == b"("
            || *argument == b"!"
            || *argument == b",";
        if starts_expression {
            break;
        }
        paths.push(argument.to_vec());
        index += 1;
    }
    if paths.is_empty() {
        paths.push(b".".to_vec());
    }
    let mut parser = Parser {
        words: &arguments[index..],
        index: 0,
        minimum_depth: 0,
        maximum_depth: usize::MAX,
        depth_first: false,
        batches: 0,
        now,
    };
    let mut expression = if parser.words.is_empty() { Expression::True } else { parser.or()? };
    if parser.index < parser.words.len() {
        let word = parser.words[parser.index];
        return Err(if word == b")" {
            String::from("invalid expression; you have too many ')'")
        } else {
            alloc::format!("paths must precede expression: '{}'", word_text(word))
        });
    }
    if !expression.has_action() {
        expression = Expression::And(Box::new(expression), Box::new(Expression::Print));
    }
    let _ = parser.now;
    Ok(Query {
        paths,
        depth_first: parser.depth_first || expression.has_delete(),
        expression,
        minimum_depth: parser.minimum_depth,
        maximum_depth: parser.maximum_depth,
        follow,
        follow_arguments,
        batches: parser.batches,
    })
}

/// Walks the trees and evaluates.
struct Walker {
    query: Query,
    now: i64,
    status: i32,
    quit: bool,
    pending: Vec<Vec<Vec<u8>>>,
    /// Directories on the current path, by device and inode (loop detection with -L).
    ancestors: Vec<(u64, u64)>,
}

/// What one evaluation decided besides its truth.
struct Effects {
    prune: bool,
}

impl Walker {
    fn evaluate(&mut self, expression: &Expression, path: &[u8], stat: &Stat, effects: &mut Effects) -> bool {
        match expression {
            Expression::True => true,
            Expression::False => false,
            Expression::Name { pattern, fold } => {
                let base = posix::path::base_name(path);
                crate::glob::matches(pattern, base, *fold)
            }
            Expression::Path { pattern, fold } => crate::glob::matches(pattern, path, *fold),
            Expression::Type(kinds) => kinds.contains(&stat.file_type()),
            Expression::ModifiedDays(comparison) => {
                let age = (self.now - stat.st_mtim.tv_sec).max(0) as u64;
                comparison.holds(age / 86400)
            }
            Expression::ModifiedMinutes(comparison) => {
                let age = (self.now - stat.st_mtim.tv_sec).max(0) as u64;
                comparison.holds(age.div_ceil(60))
            }
            Expression::Newer(seconds, nanoseconds) => {
                (stat.st_mtim.tv_sec, stat.st_mtim.tv_nsec) > (*seconds, *nanoseconds)
            }
            Expression::Size { comparison, unit } => comparison.holds((stat.st_size.max(0) as u64).div_ceil(*unit)),
            Expression::Empty => match stat.file_type() {
                FileType::Regular => stat.st_size == 0,
                FileType::Directory => posix::fs::read_directory(path).is_ok_and(|entries| entries.is_empty()),
                _ => false,
            },
            Expression::Permission(permission) => {
                let mode = stat.st_mode & 0o7777;
                match permission {
                    Permission::Exactly(wanted) => mode == *wanted,
                    Permission::AllOf(wanted) => mode & wanted == *wanted,
                    Permission::AnyOf(wanted) => *wanted == 0 || mode & wanted != 0,
                }
            }
            Expression::User(uid) => stat.st_uid == *uid,
            Expression::Group(gid) => stat.st_gid == *gid,
            Expression::Links(comparison) => comparison.holds(stat.st_nlink),
            Expression::Print => {
                let mut line = path.to_vec();
                line.push(b'\n');
                crate::common::output(&line);
                true
            }
            Expression::Print0 => {
                let mut line = path.to_vec();
                line.push(0);
                crate::common::output(&line);
                true
            }
            Expression::Execute { command, batch, ask, index } => {
                if *batch {
                    self.pending[*index].push(path.to_vec());
                    if self.pending[*index].len() >= 1000 {
                        self.flush_batch(command, *index);
                    }
                    return true;
                }
                let words: Vec<Vec<u8>> = command.iter().map(|part| replace_braces(part, path)).collect();
                if *ask {
                    let shown: Vec<String> = words.iter().map(|word| alloc::format!("{}", Text(word))).collect();
                    if !crate::files::confirm(format_args!("< {} ... {} > ? ", shown[0], Text(path))) {
                        return false;
                    }
                }
                self.run(&words) == Some(0)
            }
            Expression::Delete => {
                let result =
                    if stat.is_directory() { posix::fs::remove_directory(path) } else { posix::fs::unlink(path) };
                match result {
                    Ok(()) => true,
                    Err(error) => {
                        complain!("cannot delete {}: {}", quote(path), error);
                        self.status = 1;
                        false
                    }
                }
            }
            Expression::Prune => {
                effects.prune = true;
                true
            }
            Expression::Quit => {
                self.quit = true;
                true
            }
            Expression::Not(inner) => !self.evaluate(inner, path, stat, effects),
            Expression::And(a, b) => {
                self.evaluate(a, path, stat, effects) && !self.quit && self.evaluate(b, path, stat, effects)
            }
            Expression::Or(a, b) => {
                self.evaluate(a, path, stat, effects) || (!self.quit && self.evaluate(b, path, stat, effects))
            }
            Expression::List(a, b) => {
                self.evaluate(a, path, stat, effects);
                !self.quit && self.evaluate(b, path, stat, effects)
            }
        }
    }

    /// Runs a command and waits; its exit status, or None if it did not run.
    fn run(&mut self, words: &[Vec<u8>]) -> Option<i32> {
        let spawned = posix::spawn::Spawn::new(&words[0], words).and_then(|spawn| spawn.search_path().spawn());
        match spawned {
            Ok(pid) => match posix::process::wait_for(pid, 0) {
                Ok(Some((_, status))) => Some(status.shell_status()),
                _ => None,
            },
            Err(error) => {
                complain!("{}: {}", quote(&words[0]), error);
                self.status = 1;
                None
            }
        }
    }

    fn flush_batch(&mut self, command: &[Vec<u8>], index: usize) {
        let paths = core::mem::take(&mut self.pending[index]);
        if paths.is_empty() {
            return;
        }
        let mut words: Vec<Vec<u8>> = command[..command.len() - 1].to_vec();
        words.extend(paths);
        if self.run(&words) != Some(0) {
            self.status = 1;
        }
    }

    fn visit(&mut self, path: &[u8], depth: usize, top: bool) {
        if self.quit {
            return;
        }
        let stat = if self.query.follow || (top && self.query.follow_arguments) {
            posix::fs::stat(path).or_else(|_| posix::fs::lstat(path))
        } else {
            posix::fs::lstat(path)
        };
        let stat = match stat {
            Ok(stat) => stat,
            Err(error) => {
                complain!("{}: {}", quote(path), error);
                self.status = 1;
                return;
            }
        };
        let expression = self.query.expression.clone();
        let in_range = depth >= self.query.minimum_depth;
        let mut effects = Effects { prune: false };
        if !self.query.depth_first && in_range {
            self.evaluate(&expression, path, &stat, &mut effects);
        }
        if stat.is_directory() && depth < self.query.maximum_depth && !effects.prune && !self.quit {
            let key = (stat.st_dev, stat.st_ino);
            if self.ancestors.contains(&key) {
                complain!(
                    "File system loop detected; {} is part of the same file system loop as an ancestor.",
                    quote(path)
                );
                self.status = 1;
            } else {
                self.ancestors.push(key);
                match posix::fs::read_directory(path) {
                    Ok(entries) => {
                        for entry in entries {
                            let child = posix::path::join(path, &entry.name);
                            self.visit(&child, depth + 1, false);
                            if self.quit {
                                break;
                            }
                        }
                    }
                    Err(error) => {
                        complain!("{}: {}", quote(path), error);
                        self.status = 1;
                    }
                }
                self.ancestors.pop();
            }
        }
        if self.query.depth_first && in_range && !self.quit {
            self.evaluate(&expression, path, &stat, &mut effects);
        }
    }
}

/// Replaces every "{}" in `word` by `path` (as GNU's find does inside words too).
fn replace_braces(word: &[u8], path: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut index = 0;
    while index < word.len() {
        if word[index..].starts_with(b"{}") {
            out.extend_from_slice(path);
            index += 2;
        } else {
            out.push(word[index]);
            index += 1;
        }
    }
    out
}

fn batch_commands(expression: &Expression, into: &mut Vec<(usize, Vec<Vec<u8>>)>) {
    match expression {
        Expression::Execute { command, batch: true, index, .. } => into.push((*index, command.clone())),
        Expression::Not(inner) => batch_commands(inner, into),
        Expression::And(a, b) | Expression::Or(a, b) | Expression::List(a, b) => {
            batch_commands(a, into);
            batch_commands(b, into);
        }
        _ => {}
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    if arguments == [b"--help"] {
        posix::print!("Usage: find [-H] [-L] [-P] [path...] [expression]\n");
        return 0;
    }
    let now = posix::time::now().tv_sec;
    let query = match parse(arguments, now) {
        Ok(query) => query,
        Err(message) => {
            complain!("{}", message);
            return 1;
        }
    };
    let mut walker = Walker {
        pending: alloc::vec![Vec::new(); query.batches],
        query: query.clone(),
        now,
        status: 0,
        quit: false,
        ancestors: Vec::new(),
    };
    for path in &query.paths {
        walker.visit(path, 0, true);
        if walker.quit {
            break;
        }
    }
    let mut batches = Vec::new();
    batch_commands(&query.expression, &mut batches);
    for (index, command) in batches {
        walker.flush_batch(&command, index);
    }
    walker.status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&[u8]> {
        text.split(' ').filter(|word| !word.is_empty()).map(str::as_bytes).collect()
    }

    #[test]
    fn expressions_parse_with_precedence() {
        let query = parse(&words("dir -name a -o -name b -type f"), 0).unwrap();
        assert_eq!(query.paths, [b"dir".to_vec()]);
        let name = |text: &str| Expression::Name { pattern: text.as_bytes().to_vec(), fold: false };
        assert_eq!(
            query.expression,
            Expression::And(
                Box::new(Expression::Or(
                    Box::new(name("a")),
                    Box::new(Expression::And(
                        Box::new(name("b")),
                        Box::new(Expression::Type(alloc::vec![FileType::Regular]))
                    )),
                )),
                Box::new(Expression::Print),
            )
        );
        let query = parse(&words("! ( -name a ) -print"), 0).unwrap();
        assert_eq!(query.paths, [b".".to_vec()]);
        assert_eq!(
            query.expression,
            Expression::And(Box::new(Expression::Not(Box::new(name("a")))), Box::new(Expression::Print))
        );
    }

    #[test]
    fn errors_read_as_gnu_prints_them() {
        assert_eq!(parse(&words(". -bogus"), 0).unwrap_err(), "unknown predicate `-bogus'");
        assert_eq!(parse(&words(". -name"), 0).unwrap_err(), "missing argument to `-name'");
        assert_eq!(parse(&words(". -type f extra"), 0).unwrap_err(), "paths must precede expression: 'extra'");
        assert_eq!(parse(&words(". -type q"), 0).unwrap_err(), "Unknown argument to -type: q");
        assert!(parse(&words(". ( -name a"), 0).unwrap_err().contains("expecting to find a ')'"));
        assert_eq!(parse(&words(". -exec echo"), 0).unwrap_err(), "missing argument to '-exec'");
    }

    #[test]
    fn numbers_compare_with_signs() {
        assert!(Comparison::parse(b"+3").unwrap().holds(4));
        assert!(!Comparison::parse(b"-3").unwrap().holds(3));
        assert!(Comparison::parse(b"3").unwrap().holds(3));
        assert!(Comparison::parse(b"x").is_none());
        assert_eq!(replace_braces(b"a{}b{}", b"P"), b"aPbP");
    }
}
