//! What `execve` and `posix_spawn` prepare before asking the process server
//! (docs/process-server.md, "exec"): the `#!` line of a script, read the way
//! Linux reads it, and the strings block (`argv` then `envp`, each
//! NUL-terminated) the request carries, bounded by `ARG_MAX`.
#![forbid(unsafe_code)]

use crate::errno_table::{E2BIG, ENOEXEC};
use alloc::vec::Vec;

/// How many bytes of a file's start are read for its `#!` line (Linux's
/// `BINPRM_BUF_SIZE`).
pub const INTERPRETER_LINE_MAX: usize = 256;

/// How many interpreters may be interpreted in turn (Linux: a script whose
/// interpreter is a script, four deep; then `ELOOP`).
pub const INTERPRETER_DEPTH_MAX: usize = 4;

/// `ARG_MAX`: the most bytes of arguments and environment, terminators
/// included (the process server's bound on its `strings` argument).
pub const ARGUMENT_BYTES_MAX: usize = 256 * 1024;

/// A script's `#!` line: the interpreter's path and its optional argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterpreterLine<'a> {
    pub interpreter: &'a [u8],
    pub argument: Option<&'a [u8]>,
}

fn blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Reads the `#!` line at the start of `head` (the file's first bytes, at
/// most [`INTERPRETER_LINE_MAX`]). `None`: not a script. `Err(ENOEXEC)`: a
/// `#!` line without an interpreter, or whose interpreter's name does not
/// end within the bytes read. The argument is everything after the name up
/// to the end of the line, blanks trimmed at both ends (one argument, as
/// Linux passes it); a line longer than the bytes read cuts it short.
pub fn interpreter_line(head: &[u8]) -> Option<Result<InterpreterLine<'_>, i32>> {
    let rest = head.strip_prefix(b"#!")?;
    let line_end = rest.iter().position(|&byte| byte == b'\n' || byte == 0);
    let line = &rest[..line_end.unwrap_or(rest.len())];
    let start = line.iter().position(|&byte| !blank(byte)).unwrap_or(line.len());
    let line = &line[start..];
    let name_end = line.iter().position(|&byte| blank(byte));
    if line.is_empty() || (name_end.is_none() && line_end.is_none() && head.len() >= INTERPRETER_LINE_MAX) {
        return Some(Err(ENOEXEC));
    }
    let interpreter = &line[..name_end.unwrap_or(line.len())];
    let after = &line[interpreter.len()..];
    let first = after.iter().position(|&byte| !blank(byte));
    let argument = first.map(|first| {
        let last = after.iter().rposition(|&byte| !blank(byte)).unwrap_or(first);
        &after[first..=last]
    });
    Some(Ok(InterpreterLine { interpreter, argument }))
}

/// The argument list a script runs with: the interpreter, its argument if
/// any, the script's path (what was given to execve), then the original
/// arguments after the first.
pub fn script_arguments<'a>(line: &InterpreterLine<'a>, script: &'a [u8], arguments: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut list = Vec::with_capacity(arguments.len() + 2);
    list.push(line.interpreter);
    if let Some(argument) = line.argument {
        list.push(argument);
    }
    list.push(script);
    list.extend(arguments.iter().skip(1).copied());
    list
}

/// The strings block of an exec or spawn request: each argument then each
/// environment string, NUL-terminated. E2BIG past [`ARGUMENT_BYTES_MAX`].
pub fn strings_block<'a>(
    arguments: impl IntoIterator<Item = &'a [u8]>,
    environment: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(Vec<u8>, u32, u32), i32> {
    let mut block = Vec::new();
    let mut counts = [0u32; 2];
    for (which, list) in
        [arguments.into_iter().collect::<Vec<_>>(), environment.into_iter().collect()].into_iter().enumerate()
    {
        for text in list {
            if block.len() + text.len() + 1 > ARGUMENT_BYTES_MAX {
                return Err(E2BIG);
            }
            block.extend_from_slice(text);
            block.push(0);
            counts[which] += 1;
        }
    }
    Ok((block, counts[0], counts[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The interpreter and its argument, owned.
    type Owned = (Vec<u8>, Option<Vec<u8>>);

    fn line(head: &[u8]) -> Option<Result<Owned, i32>> {
        interpreter_line(head).map(|result| {
            result.map(|line| (line.interpreter.to_vec(), line.argument.map(|argument| argument.to_vec())))
        })
    }

    #[test]
    fn interpreter_lines_read_as_linux_reads_them() {
        assert_eq!(line(b"\x7fELF..."), None);
        assert_eq!(line(b"#"), None);
        assert_eq!(line(b"#!/bin/sh\necho hi\n"), Some(Ok((b"/bin/sh".to_vec(), None))));
        assert_eq!(line(b"#! /bin/sh -e \nx"), Some(Ok((b"/bin/sh".to_vec(), Some(b"-e".to_vec())))));
        assert_eq!(
            line(b"#!/usr/bin/env  lua -W  x\n"),
            Some(Ok((b"/usr/bin/env".to_vec(), Some(b"lua -W  x".to_vec())))),
            "one argument, inner blanks kept"
        );
        assert_eq!(line(b"#!/bin/msh"), Some(Ok((b"/bin/msh".to_vec(), None))), "a file that ends there");
        assert_eq!(line(b"#!\n"), Some(Err(ENOEXEC)));
        assert_eq!(line(b"#!   \t\n"), Some(Err(ENOEXEC)));
        let mut long = b"#!/".to_vec();
        long.resize(INTERPRETER_LINE_MAX, b'a');
        assert_eq!(line(&long), Some(Err(ENOEXEC)), "the name does not end");
        let mut cut = b"#!/bin/sh ".to_vec();
        cut.resize(INTERPRETER_LINE_MAX, b'b');
        assert_eq!(line(&cut).unwrap().unwrap().1.unwrap().len(), INTERPRETER_LINE_MAX - 10, "argument cut short");
    }

    #[test]
    fn a_script_runs_with_the_interpreter_first() {
        let line = InterpreterLine { interpreter: b"/bin/sh", argument: Some(b"-e") };
        let arguments: [&[u8]; 3] = [b"name", b"one", b"two"];
        let list = script_arguments(&line, b"./script", &arguments);
        assert_eq!(list, [&b"/bin/sh"[..], b"-e", b"./script", b"one", b"two"]);
        let plain = InterpreterLine { interpreter: b"/bin/sh", argument: None };
        assert_eq!(script_arguments(&plain, b"s", &[]), [&b"/bin/sh"[..], b"s"]);
    }

    #[test]
    fn the_strings_block_is_arguments_then_environment() {
        let (block, arguments, environment) = strings_block([&b"ls"[..], b"-l"], [&b"HOME=/"[..]]).unwrap();
        assert_eq!(block, b"ls\0-l\0HOME=/\0");
        assert_eq!((arguments, environment), (2, 1));
        let big = alloc::vec![b'x'; ARGUMENT_BYTES_MAX / 2];
        assert!(strings_block([&big[..]], [&big[..][..big.len() - 2]]).is_ok());
        assert_eq!(strings_block([&big[..]], [&big[..]]).unwrap_err(), E2BIG);
    }

    proptest! {
        #[test]
        fn any_head_is_read_without_panicking(head in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut with_prefix = b"#!".to_vec();
            with_prefix.extend_from_slice(&head);
            with_prefix.truncate(INTERPRETER_LINE_MAX);
            if let Some(Ok(line)) = interpreter_line(&with_prefix) {
                prop_assert!(!line.interpreter.is_empty());
                prop_assert!(!line.interpreter.iter().any(|&b| b == b' ' || b == b'\t' || b == b'\n'));
            }
            let _ = interpreter_line(&head);
        }
    }
}
