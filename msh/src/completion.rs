//! Tab completion: which word the cursor ends, whether it names a command
//! (then builtins, functions and programs in PATH are offered) or a path
//! (then the names in its directory), and the candidates quoted for the
//! shell.

use alloc::vec::Vec;

use crate::editor::{Candidate, Completion};

/// The file system as completion sees it.
pub trait CompletionSource {
    /// The names in a directory (`None` if it cannot be read).
    fn list_directory(&mut self, path: &[u8]) -> Option<Vec<Vec<u8>>>;
    fn is_directory(&mut self, path: &[u8]) -> bool;
    /// An executable regular file.
    fn is_executable(&mut self, path: &[u8]) -> bool;
}

/// What completion knows of the shell.
pub struct Context<'a> {
    /// PATH's value.
    pub path: &'a [u8],
    /// Builtins, functions and reserved words.
    pub commands: &'a [Vec<u8>],
    /// HOME, for `~/`.
    pub home: Option<&'a [u8]>,
}

/// Characters that end a word unless escaped.
fn is_separator(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b';' | b'|' | b'&' | b'<' | b'>' | b'(' | b')')
}

/// Characters a completed name needs a backslash before.
fn needs_escape(byte: u8) -> bool {
    is_separator(byte)
        || matches!(
            byte,
            b'\'' | b'"' | b'\\' | b'$' | b'`' | b'*' | b'?' | b'[' | b']' | b'#' | b'{' | b'}' | b'!' | b'=' | b'~'
        )
}

fn escape(name: &[u8]) -> Vec<u8> {
    let mut escaped = Vec::with_capacity(name.len());
    for &byte in name {
        if needs_escape(byte) {
            escaped.push(b'\\');
        }
        escaped.push(byte);
    }
    escaped
}

/// The start of the word that ends at `cursor`.
pub fn word_start(line: &[u8], cursor: usize) -> usize {
    let mut start = cursor;
    while start > 0 {
        let byte = line[start - 1];
        let escaped = start >= 2 && line[start - 2] == b'\\' && !(start >= 3 && line[start - 3] == b'\\');
        if is_separator(byte) && !escaped {
            break;
        }
        start -= 1;
    }
    start
}

/// The word with its quoting removed.
fn unquote(word: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(word.len());
    let mut bytes = word.iter().copied();
    while let Some(byte) = bytes.next() {
        match byte {
            b'\\' => {
                if let Some(next) = bytes.next() {
                    text.push(next);
                }
            }
            b'\'' | b'"' => {}
            other => text.push(other),
        }
    }
    text
}

/// Whether a word starting at `start` is in command position: first on the
/// line or after an operator or a reserved word that begins a command.
fn in_command_position(line: &[u8], start: usize) -> bool {
    let before = &line[..start];
    let trimmed_end = before.iter().rposition(|byte| !matches!(byte, b' ' | b'\t')).map_or(0, |index| index + 1);
    let before = &before[..trimmed_end];
    match before.last() {
        None => true,
        Some(b';' | b'|' | b'&' | b'(' | b'\n' | b'{') => true,
        Some(_) => {
            let word_begin = before.iter().rposition(|&byte| is_separator(byte)).map_or(0, |index| index + 1);
            matches!(
                &before[word_begin..],
                b"then" | b"else" | b"elif" | b"do" | b"if" | b"while" | b"until" | b"!" | b"time"
            )
        }
    }
}

pub fn complete(line: &[u8], cursor: usize, context: &Context<'_>, source: &mut dyn CompletionSource) -> Completion {
    let cursor = cursor.min(line.len());
    let start = word_start(line, cursor);
    let typed = &line[start..cursor];
    let word = unquote(typed);
    let mut candidates = if in_command_position(line, start) && !word.contains(&b'/') && !word.starts_with(b"~") {
        command_candidates(&word, context, source)
    } else {
        path_candidates(typed, &word, context, source, in_command_position(line, start))
    };
    candidates.sort_by(|left, right| left.replacement.cmp(&right.replacement));
    candidates.dedup_by(|left, right| left.replacement == right.replacement);
    Completion { start, candidates }
}

fn command_candidates(word: &[u8], context: &Context<'_>, source: &mut dyn CompletionSource) -> Vec<Candidate> {
    let mut names: Vec<Vec<u8>> = context.commands.iter().filter(|name| name.starts_with(word)).cloned().collect();
    for directory in context.path.split(|&byte| byte == b':') {
        let directory: &[u8] = if directory.is_empty() { b"." } else { directory };
        let Some(entries) = source.list_directory(directory) else { continue };
        for entry in entries {
            if !entry.starts_with(word) || entry == b"." || entry == b".." || names.contains(&entry) {
                continue;
            }
            let mut full = directory.to_vec();
            full.push(b'/');
            full.extend_from_slice(&entry);
            if source.is_executable(&full) {
                names.push(entry);
            }
        }
    }
    names.into_iter().map(|name| Candidate { replacement: escape(&name), display: name, complete: true }).collect()
}

fn path_candidates(
    typed: &[u8],
    word: &[u8],
    context: &Context<'_>,
    source: &mut dyn CompletionSource,
    executables_only: bool,
) -> Vec<Candidate> {
    // The directory as typed (kept as the user quoted it) and as a path.
    let typed_split = typed.iter().rposition(|&byte| byte == b'/').map_or(0, |index| index + 1);
    let word_split = word.iter().rposition(|&byte| byte == b'/').map_or(0, |index| index + 1);
    let typed_directory = &typed[..typed_split];
    let prefix = &word[word_split..];
    let mut directory = word[..word_split].to_vec();
    if let (Some(rest), Some(home)) = (directory.strip_prefix(b"~/"), context.home) {
        let mut expanded = home.to_vec();
        expanded.push(b'/');
        expanded.extend_from_slice(rest);
        directory = expanded;
    } else if directory.starts_with(b"~") {
        // `~user/` is left to the shell: no completion below it.
        return Vec::new();
    }
    let listing_path: &[u8] = if directory.is_empty() { b"." } else { &directory };
    let Some(entries) = source.list_directory(listing_path) else { return Vec::new() };
    let mut candidates = Vec::new();
    for entry in entries {
        if entry == b"." || entry == b".." || !entry.starts_with(prefix) {
            continue;
        }
        if entry.starts_with(b".") && !prefix.starts_with(b".") {
            continue;
        }
        let mut full = directory.clone();
        full.extend_from_slice(&entry);
        let is_directory = source.is_directory(&full);
        if executables_only && !is_directory && !source.is_executable(&full) {
            continue;
        }
        let mut replacement = typed_directory.to_vec();
        replacement.extend_from_slice(&escape(&entry));
        let mut display = entry;
        if is_directory {
            replacement.push(b'/');
            display.push(b'/');
        }
        candidates.push(Candidate { replacement, display, complete: !is_directory });
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    struct Tree;

    impl CompletionSource for Tree {
        fn list_directory(&mut self, path: &[u8]) -> Option<Vec<Vec<u8>>> {
            let names: &[&str] = match path {
                b"/bin" => &["ls", "less", "cat", "notes.txt"],
                b"." | b"./" => &[".", "..", "src", "script.sh", "my file", ".hidden"],
                b"src/" => &["main.rs", "lib.rs"],
                b"/home/u/" => &["docs"],
                _ => return None,
            };
            Some(names.iter().map(|name| name.as_bytes().to_vec()).collect())
        }
        fn is_directory(&mut self, path: &[u8]) -> bool {
            matches!(path, b"src" | b"./src" | b"/home/u/docs")
        }
        fn is_executable(&mut self, path: &[u8]) -> bool {
            matches!(path, b"/bin/ls" | b"/bin/less" | b"/bin/cat" | b"script.sh" | b"./script.sh")
        }
    }

    fn names(line: &str) -> (usize, Vec<String>) {
        let commands = vec![b"echo".to_vec(), b"exit".to_vec(), b"local".to_vec()];
        let context = Context { path: b"/bin", commands: &commands, home: Some(b"/home/u") };
        let completion = complete(line.as_bytes(), line.len(), &context, &mut Tree);
        let replacements = completion
            .candidates
            .into_iter()
            .map(|candidate| String::from_utf8(candidate.replacement).unwrap())
            .collect();
        (completion.start, replacements)
    }

    #[test]
    fn commands_from_builtins_and_path() {
        assert_eq!(names("l"), (0, vec!["less".into(), "local".into(), "ls".into()]));
        assert_eq!(names("echo a; e"), (8, vec!["echo".into(), "exit".into()]));
        assert_eq!(names("x | ca"), (4, vec!["cat".into()]));
        assert_eq!(names("if ca"), (3, vec!["cat".into()]));
        // notes.txt is not executable.
        assert_eq!(names("no").1, Vec::<String>::new());
    }

    #[test]
    fn paths_in_argument_position() {
        assert_eq!(names("cat s"), (4, vec!["script.sh".into(), "src/".into()]));
        assert_eq!(names("cat src/m"), (4, vec!["src/main.rs".into()]));
        assert_eq!(names("cat my"), (4, vec!["my\\ file".into()]));
        assert_eq!(names("cat my\\ f"), (4, vec!["my\\ file".into()]));
        assert_eq!(names("cat ."), (4, vec![".hidden".into()]));
        assert_eq!(names("ls ~/d"), (3, vec!["~/docs/".into()]));
        assert_eq!(names("cat >s"), (5, vec!["script.sh".into(), "src/".into()]));
        // A path in command position offers executables and directories.
        assert_eq!(names("./"), (0, vec!["./script.sh".into(), "./src/".into()]));
    }

    #[test]
    fn command_position() {
        assert!(in_command_position(b"", 0));
        assert!(in_command_position(b"a && ", 5));
        assert!(in_command_position(b"while ", 6));
        assert!(!in_command_position(b"echo ", 5));
        assert!(!in_command_position(b"while_x ", 8));
    }
}
