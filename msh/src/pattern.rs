//! Shell pattern matching (XCU 2.13): `*`, `?` and bracket expressions, for
//! `case`, `${name%pattern}` and friends, and pathname expansion.
//!
//! A pattern is a sequence of `PatternByte`s: each byte remembers whether it
//! may act as a pattern character (`active`) or was quoted (or came from a
//! quoted expansion) and stands for itself. Matching is a two-pointer walk
//! that backtracks only to the last `*`, so it takes time proportional to
//! the product of the lengths at worst, never exponential.

use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternByte {
    pub byte: u8,
    /// May act as `*`, `?`, `[`, `]`, `!`, `^` or `-` of a bracket expression.
    pub active: bool,
}

impl PatternByte {
    pub fn literal(byte: u8) -> Self {
        PatternByte { byte, active: false }
    }

    pub fn active(byte: u8) -> Self {
        PatternByte { byte, active: true }
    }
}

/// A pattern from text in which every byte is active (tests, completion).
pub fn from_text(text: &[u8]) -> Vec<PatternByte> {
    text.iter().map(|&byte| PatternByte::active(byte)).collect()
}

/// Whether the pattern has an active `*`, `?` or a bracket expression (a
/// word without one is not subject to pathname expansion).
pub fn has_wildcard(pattern: &[PatternByte]) -> bool {
    pattern.iter().enumerate().any(|(index, item)| {
        item.active
            && (item.byte == b'*' || item.byte == b'?' || (item.byte == b'[' && bracket(pattern, index).is_some()))
    })
}

/// The text of the pattern with every byte taken literally.
pub fn literal_text(pattern: &[PatternByte]) -> Vec<u8> {
    pattern.iter().map(|item| item.byte).collect()
}

/// Whether `text` as a whole matches `pattern`.
pub fn matches(pattern: &[PatternByte], text: &[u8]) -> bool {
    let mut pattern_index = 0;
    let mut text_index = 0;
    // Where to resume after the last `*`: the pattern after it, and the
    // text position it has absorbed up to.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pattern_index < pattern.len() {
            let item = pattern[pattern_index];
            if item.active && item.byte == b'*' {
                pattern_index += 1;
                star = Some((pattern_index, text_index));
                continue;
            }
            if text_index < text.len() {
                let (step, matched) = single(pattern, pattern_index, text[text_index]);
                if matched {
                    pattern_index += step;
                    text_index += 1;
                    continue;
                }
            }
        } else if text_index == text.len() {
            return true;
        }
        // Mismatch: let the last `*` absorb one more byte, if it can.
        match star {
            Some((after_star, absorbed)) if absorbed < text.len() => {
                star = Some((after_star, absorbed + 1));
                pattern_index = after_star;
                text_index = absorbed + 1;
            }
            _ => return false,
        }
    }
}

/// Matches one text byte against the pattern element at `index` (a literal,
/// `?` or a bracket expression): how many pattern bytes it spans, and whether
/// it matched.
fn single(pattern: &[PatternByte], index: usize, byte: u8) -> (usize, bool) {
    let item = pattern[index];
    if item.active {
        match item.byte {
            b'?' => return (1, true),
            b'[' => {
                if let Some(expression) = bracket(pattern, index) {
                    return (expression.length, expression.matches(byte));
                }
            }
            _ => {}
        }
    }
    (1, item.byte == byte)
}

/// A parsed bracket expression: where it is in the pattern and how long.
struct Bracket<'p> {
    negated: bool,
    /// The members between the opening (and `!`) and the closing `]`.
    members: &'p [PatternByte],
    /// Pattern bytes from `[` through `]`.
    length: usize,
}

/// The bracket expression opening at `start`, or `None` when that `[` has no
/// closing `]` and is an ordinary character.
fn bracket(pattern: &[PatternByte], start: usize) -> Option<Bracket<'_>> {
    let mut index = start + 1;
    let negated = matches!(pattern.get(index), Some(item) if item.active && (item.byte == b'!' || item.byte == b'^'));
    if negated {
        index += 1;
    }
    let members_start = index;
    // A `]` first is a member, not the end.
    if matches!(pattern.get(index), Some(item) if item.byte == b']') {
        index += 1;
    }
    while index < pattern.len() {
        let item = pattern[index];
        if item.active && item.byte == b'[' && pattern.get(index + 1).is_some_and(|next| next.byte == b':') {
            // A class name `[:alpha:]` may hold no `]` of its own.
            if let Some(end) = class_end(pattern, index + 2) {
                index = end;
                continue;
            }
        }
        if item.active && item.byte == b']' {
            return Some(Bracket { negated, members: &pattern[members_start..index], length: index + 1 - start });
        }
        index += 1;
    }
    None
}

/// After `[:`, the index just past the closing `:]`.
fn class_end(pattern: &[PatternByte], from: usize) -> Option<usize> {
    let mut index = from;
    while index + 1 < pattern.len() {
        if pattern[index].byte == b':' && pattern[index + 1].byte == b']' {
            return Some(index + 2);
        }
        if !pattern[index].byte.is_ascii_alphabetic() {
            return None;
        }
        index += 1;
    }
    None
}

impl Bracket<'_> {
    fn matches(&self, byte: u8) -> bool {
        let members = self.members;
        let mut found = false;
        let mut index = 0;
        while index < members.len() {
            let item = members[index];
            if item.active && item.byte == b'[' && members.get(index + 1).is_some_and(|next| next.byte == b':') {
                if let Some(end) = class_end(members, index + 2) {
                    let name: Vec<u8> = members[index + 2..end - 2].iter().map(|item| item.byte).collect();
                    found |= class_contains(&name, byte);
                    index = end;
                    continue;
                }
            }
            // `a-z`: a range, unless the `-` is last (then it is a member).
            if index + 2 < members.len() && members[index + 1].byte == b'-' && members[index + 1].active {
                let low = item.byte;
                let high = members[index + 2].byte;
                found |= low <= byte && byte <= high;
                index += 3;
                continue;
            }
            found |= item.byte == byte;
            index += 1;
        }
        found != self.negated
    }
}

/// Membership in a character class of the POSIX locale. An unknown class
/// matches nothing.
fn class_contains(name: &[u8], byte: u8) -> bool {
    match name {
        b"alpha" => byte.is_ascii_alphabetic(),
        b"digit" => byte.is_ascii_digit(),
        b"alnum" => byte.is_ascii_alphanumeric(),
        b"upper" => byte.is_ascii_uppercase(),
        b"lower" => byte.is_ascii_lowercase(),
        b"space" => matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => byte == b' ' || byte == b'\t',
        b"punct" => byte.is_ascii_punctuation(),
        b"print" => (0x20..0x7f).contains(&byte),
        b"graph" => byte.is_ascii_graphic(),
        b"cntrl" => byte.is_ascii_control(),
        b"xdigit" => byte.is_ascii_hexdigit(),
        _ => false,
    }
}

/// Which end of a value `${name#…}` / `${name%…}` removes, and how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    ShortestPrefix,
    LongestPrefix,
    ShortestSuffix,
    LongestSuffix,
}

/// The value with the matching prefix or suffix removed (unchanged when
/// nothing matches).
pub fn trim<'v>(value: &'v [u8], pattern: &[PatternByte], trim: Trim) -> &'v [u8] {
    let length = value.len();
    match trim {
        Trim::ShortestPrefix => {
            (0..=length).find(|&end| matches(pattern, &value[..end])).map_or(value, |end| &value[end..])
        }
        Trim::LongestPrefix => {
            (0..=length).rev().find(|&end| matches(pattern, &value[..end])).map_or(value, |end| &value[end..])
        }
        Trim::ShortestSuffix => {
            (0..=length).rev().find(|&start| matches(pattern, &value[start..])).map_or(value, |start| &value[..start])
        }
        Trim::LongestSuffix => {
            (0..=length).find(|&start| matches(pattern, &value[start..])).map_or(value, |start| &value[..start])
        }
    }
}

/// The file system as pathname expansion sees it.
pub trait Directories {
    /// A directory's entry names (`.`-prefixed names included), or `None`
    /// when it cannot be read.
    fn list(&mut self, path: &[u8]) -> Option<Vec<Vec<u8>>>;
    /// Whether a path names anything.
    fn exists(&mut self, path: &[u8]) -> bool;
}

/// Pathname expansion of one pattern (`/`-separated components). The
/// result is sorted; empty when nothing matches.
pub fn expand_pathname(pattern: &[PatternByte], directories: &mut dyn Directories) -> Vec<Vec<u8>> {
    let absolute = pattern.first().is_some_and(|item| item.byte == b'/');
    let components: Vec<&[PatternByte]> =
        pattern.split(|item| item.byte == b'/').filter(|component| !component.is_empty()).collect();
    let trailing_slash = pattern.last().is_some_and(|item| item.byte == b'/');
    let mut paths: Vec<Vec<u8>> = alloc::vec![if absolute { b"/".to_vec() } else { Vec::new() }];
    for (index, component) in components.iter().enumerate() {
        let last = index + 1 == components.len();
        let mut next = Vec::new();
        for path in &paths {
            if !has_wildcard(component) {
                let mut candidate = path.clone();
                join(&mut candidate, &literal_text(component));
                // Inner components are checked when the next one is listed.
                if !last || directories.exists(&candidate) {
                    next.push(candidate);
                }
                continue;
            }
            let directory: &[u8] = if path.is_empty() { b"." } else { path };
            let Some(mut names) = directories.list(directory) else { continue };
            names.sort();
            let explicit_dot = component.first().is_some_and(|item| item.byte == b'.');
            for name in names {
                if name.first() == Some(&b'.') && !explicit_dot {
                    continue;
                }
                if matches(component, &name) {
                    let mut candidate = path.clone();
                    join(&mut candidate, &name);
                    next.push(candidate);
                }
            }
        }
        paths = next;
        if paths.is_empty() {
            return paths;
        }
    }
    if trailing_slash {
        // `*/` keeps only directories: a path with a slash appended must exist.
        paths.retain_mut(|path| {
            path.push(b'/');
            directories.exists(path)
        });
    }
    paths.sort();
    paths
}

fn join(path: &mut Vec<u8>, name: &[u8]) {
    if !path.is_empty() && path.last() != Some(&b'/') {
        path.push(b'/');
    }
    path.extend_from_slice(name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;
    use proptest::prelude::*;

    fn glob(pattern: &str, text: &str) -> bool {
        matches(&from_text(pattern.as_bytes()), text.as_bytes())
    }

    #[test]
    fn stars_and_questions() {
        assert!(glob("*", ""));
        assert!(glob("*", "anything"));
        assert!(glob("a*b", "ab"));
        assert!(glob("a*b", "a-x-b"));
        assert!(!glob("a*b", "a-x-bc"));
        assert!(glob("*.c", "main.c"));
        assert!(!glob("*.c", "main.h"));
        assert!(glob("?", "x"));
        assert!(!glob("?", ""));
        assert!(!glob("?", "xy"));
        assert!(glob("a?c*", "abcdef"));
        assert!(glob("**a**b**", "xxaxxbxx"));
    }

    #[test]
    fn brackets() {
        assert!(glob("[abc]", "b"));
        assert!(!glob("[abc]", "d"));
        assert!(glob("[!abc]", "d"));
        assert!(glob("[^abc]", "d"));
        assert!(!glob("[!abc]", "a"));
        assert!(glob("[a-c]x", "bx"));
        assert!(!glob("[a-c]x", "dx"));
        assert!(glob("[]]", "]"));
        assert!(glob("[!]]", "a"));
        assert!(glob("[a-]", "-"));
        assert!(glob("[[:digit:]][[:alpha:]]", "7q"));
        assert!(!glob("[[:digit:]]", "q"));
        assert!(glob("[[:space:][:upper:]]", "Q"));
        // No closing bracket: an ordinary `[`.
        assert!(glob("[ab", "[ab"));
        assert!(!glob("[ab", "a"));
    }

    #[test]
    fn quoted_bytes_are_literal() {
        let pattern = vec![PatternByte::literal(b'*'), PatternByte::active(b'*')];
        assert!(matches(&pattern, b"*xyz"));
        assert!(!matches(&pattern, b"xyz"));
        assert!(!has_wildcard(&[PatternByte::literal(b'*'), PatternByte::literal(b'?')]));
        assert!(has_wildcard(&from_text(b"a[bc]")));
        assert!(!has_wildcard(&from_text(b"a[bc")));
    }

    #[test]
    fn trimming() {
        let value = b"dir/sub/file.tar.gz";
        assert_eq!(trim(value, &from_text(b"*/"), Trim::ShortestPrefix), b"sub/file.tar.gz");
        assert_eq!(trim(value, &from_text(b"*/"), Trim::LongestPrefix), b"file.tar.gz");
        assert_eq!(trim(value, &from_text(b".*"), Trim::ShortestSuffix), b"dir/sub/file.tar");
        assert_eq!(trim(value, &from_text(b".*"), Trim::LongestSuffix), b"dir/sub/file");
        assert_eq!(trim(value, &from_text(b"x*"), Trim::LongestPrefix), value);
        assert_eq!(trim(b"", &from_text(b"*"), Trim::LongestSuffix), b"");
    }

    #[test]
    fn pathname_expansion() {
        let tree: &[(&str, &[&str])] = &[
            (".", &[".", "..", "a.c", "b.c", "b.h", ".hidden.c", "src", "notes"]),
            ("src", &[".", "..", "x.c", "y.rs"]),
            ("/", &[".", "..", "bin", "etc"]),
        ];
        struct Tree(&'static [(&'static str, &'static [&'static str])]);
        impl Directories for Tree {
            fn list(&mut self, path: &[u8]) -> Option<Vec<Vec<u8>>> {
                self.0
                    .iter()
                    .find(|(name, _)| name.as_bytes() == path)
                    .map(|(_, entries)| entries.iter().map(|entry| entry.as_bytes().to_vec()).collect())
            }
            fn exists(&mut self, path: &[u8]) -> bool {
                let text = String::from_utf8_lossy(path);
                matches!(
                    text.as_ref(),
                    "src" | "src/" | "src/x.c" | "src/y.rs" | "a.c" | "b.c" | "b.h" | "notes" | "/etc" | "/bin"
                )
            }
        }
        let mut directories = Tree(tree);
        let mut run = |pattern: &str| -> Vec<String> {
            expand_pathname(&from_text(pattern.as_bytes()), &mut directories)
                .into_iter()
                .map(|path| String::from_utf8(path).unwrap())
                .collect()
        };
        assert_eq!(run("*.c"), ["a.c", "b.c"]);
        assert_eq!(run(".*.c"), [".hidden.c"]);
        assert_eq!(run(".*"), [".", "..", ".hidden.c"]);
        assert_eq!(run("*/*.c"), ["src/x.c"]);
        assert_eq!(run("src/*"), ["src/x.c", "src/y.rs"]);
        assert_eq!(run("*/"), ["src/"]);
        assert_eq!(run("/e*"), ["/etc"]);
        assert_eq!(run("*.none"), Vec::<String>::new());
        assert_eq!(run("b.[ch]"), ["b.c", "b.h"]);
    }

    /// A reference matcher: plain recursion over the pattern (exponential,
    /// fine for short inputs), to check the backtracking walk against.
    fn reference(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => (0..=text.len()).any(|skip| reference(rest, &text[skip..])),
            Some((b'?', rest)) => !text.is_empty() && reference(rest, &text[1..]),
            Some((byte, rest)) => text.first() == Some(byte) && reference(rest, &text[1..]),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_reference_matcher(pattern in "[ab*?]{0,8}", text in "[ab]{0,8}") {
            prop_assert_eq!(glob(&pattern, &text), reference(pattern.as_bytes(), text.as_bytes()));
        }

        #[test]
        fn a_literal_pattern_matches_only_itself(text in "[a-z*?\\[\\]]{0,8}", other in "[a-z*?\\[\\]]{0,8}") {
            let pattern: Vec<PatternByte> = text.bytes().map(PatternByte::literal).collect();
            prop_assert!(matches(&pattern, text.as_bytes()));
            prop_assert_eq!(matches(&pattern, other.as_bytes()), text == other);
        }
    }
}
