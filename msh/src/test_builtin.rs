//! `test` and `[`: conditional expressions (XCU test), with the
//! argument-count rules POSIX gives for up to four arguments and the XSI
//! grammar (`!`, `-a`, `-o`, parentheses) beyond.
//!
//! File questions go through `FileQueries`, which the shell implements over
//! its `System` and the tests implement with a table.

use alloc::vec::Vec;

use crate::system::{Access, FileKind, Metadata};

/// What `test` needs to know about files and descriptors.
pub trait FileQueries {
    fn metadata(&mut self, path: &[u8], follow: bool) -> Option<Metadata>;
    fn access(&mut self, path: &[u8], access: Access) -> bool;
    fn is_terminal(&mut self, fd: i32) -> bool;
    fn effective_user_id(&mut self) -> u32;
    fn effective_group_id(&mut self) -> u32;
}

/// Why an expression could not be evaluated (status 2), with the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestError(pub Vec<u8>);

type Result<T> = core::result::Result<T, TestError>;

fn error(pieces: &[&[u8]]) -> TestError {
    TestError(pieces.concat())
}

const UNARY: &[&[u8]] = &[
    b"-b", b"-c", b"-d", b"-e", b"-f", b"-g", b"-h", b"-L", b"-k", b"-n", b"-p", b"-r", b"-s", b"-S", b"-t", b"-u",
    b"-w", b"-x", b"-z", b"-O", b"-G",
];

const BINARY: &[&[u8]] =
    &[b"=", b"==", b"!=", b"<", b">", b"-eq", b"-ne", b"-gt", b"-ge", b"-lt", b"-le", b"-nt", b"-ot", b"-ef"];

fn is_unary(argument: &[u8]) -> bool {
    UNARY.contains(&argument)
}

fn is_binary(argument: &[u8]) -> bool {
    BINARY.contains(&argument)
}

/// Evaluates `test`'s arguments (without the command name or `]`).
pub fn evaluate(arguments: &[Vec<u8>], files: &mut dyn FileQueries) -> Result<bool> {
    let arguments: Vec<&[u8]> = arguments.iter().map(Vec::as_slice).collect();
    match arguments.as_slice() {
        [] => Ok(false),
        [one] => Ok(!one.is_empty()),
        [b"!", one] => Ok(one.is_empty()),
        [operator, operand] if is_unary(operator) => unary(operator, operand, files),
        [_, _] => Err(error(&[arguments[0], b": unary operator expected"])),
        [left, operator, right] if is_binary(operator) => binary(left, operator, right, files),
        [b"!", rest @ ..] if arguments.len() <= 4 => Ok(!evaluate_slices(rest, files)?),
        [b"(", inner @ .., b")"] if arguments.len() <= 4 => evaluate_slices(inner, files),
        _ => {
            let mut parser = Parser { arguments: &arguments, position: 0, files, depth: 0 };
            let value = parser.or()?;
            if parser.position != arguments.len() {
                return Err(error(&[arguments[parser.position], b": unexpected argument"]));
            }
            Ok(value)
        }
    }
}

fn evaluate_slices(arguments: &[&[u8]], files: &mut dyn FileQueries) -> Result<bool> {
    let owned: Vec<Vec<u8>> = arguments.iter().map(|argument| argument.to_vec()).collect();
    evaluate(&owned, files)
}

/// Bounds the recursion of `! ! ! …` and `( ( ( …`.
const MAX_DEPTH: usize = 200;

struct Parser<'a, 'f> {
    arguments: &'a [&'a [u8]],
    position: usize,
    files: &'f mut dyn FileQueries,
    depth: usize,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self, offset: usize) -> Option<&'a [u8]> {
        self.arguments.get(self.position + offset).copied()
    }

    fn or(&mut self) -> Result<bool> {
        let mut value = self.and()?;
        while self.peek(0) == Some(b"-o") {
            self.position += 1;
            let right = self.and()?;
            value = value || right;
        }
        Ok(value)
    }

    fn and(&mut self) -> Result<bool> {
        let mut value = self.not()?;
        while self.peek(0) == Some(b"-a") {
            self.position += 1;
            let right = self.not()?;
            value = value && right;
        }
        Ok(value)
    }

    fn not(&mut self) -> Result<bool> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(&[b"expression too deeply nested"]));
        }
        let result = if self.peek(0) == Some(b"!") && self.peek(1).is_some() {
            self.position += 1;
            self.not().map(|value| !value)
        } else {
            self.primary()
        };
        self.depth -= 1;
        result
    }

    fn primary(&mut self) -> Result<bool> {
        let Some(first) = self.peek(0) else { return Err(error(&[b"argument expected"])) };
        if first == b"(" && self.peek(1).is_some() {
            self.position += 1;
            let value = self.or()?;
            if self.peek(0) != Some(b")") {
                return Err(error(&[b"missing `)'"]));
            }
            self.position += 1;
            return Ok(value);
        }
        if let (Some(operator), Some(right)) = (self.peek(1), self.peek(2)) {
            if is_binary(operator) {
                self.position += 3;
                return binary(first, operator, right, self.files);
            }
        }
        if is_unary(first) {
            if let Some(operand) = self.peek(1) {
                self.position += 2;
                return unary(first, operand, self.files);
            }
        }
        self.position += 1;
        Ok(!first.is_empty())
    }
}

fn unary(operator: &[u8], operand: &[u8], files: &mut dyn FileQueries) -> Result<bool> {
    let follow = !matches!(operator, b"-h" | b"-L");
    let metadata = |files: &mut dyn FileQueries| files.metadata(operand, follow);
    Ok(match operator {
        b"-n" => !operand.is_empty(),
        b"-z" => operand.is_empty(),
        b"-t" => {
            let fd = integer(operand)?;
            i32::try_from(fd).is_ok_and(|fd| files.is_terminal(fd))
        }
        b"-e" => metadata(files).is_some(),
        b"-f" => metadata(files).is_some_and(|data| data.kind == FileKind::Regular),
        b"-d" => metadata(files).is_some_and(|data| data.kind == FileKind::Directory),
        b"-b" => metadata(files).is_some_and(|data| data.kind == FileKind::BlockDevice),
        b"-c" => metadata(files).is_some_and(|data| data.kind == FileKind::CharacterDevice),
        b"-p" => metadata(files).is_some_and(|data| data.kind == FileKind::Fifo),
        b"-S" => metadata(files).is_some_and(|data| data.kind == FileKind::Socket),
        b"-h" | b"-L" => metadata(files).is_some_and(|data| data.kind == FileKind::SymbolicLink),
        b"-s" => metadata(files).is_some_and(|data| data.size > 0),
        b"-u" => metadata(files).is_some_and(|data| data.mode & 0o4000 != 0),
        b"-g" => metadata(files).is_some_and(|data| data.mode & 0o2000 != 0),
        b"-k" => metadata(files).is_some_and(|data| data.mode & 0o1000 != 0),
        b"-O" => {
            let user = files.effective_user_id();
            metadata(files).is_some_and(|data| data.user == user)
        }
        b"-G" => {
            let group = files.effective_group_id();
            metadata(files).is_some_and(|data| data.group == group)
        }
        b"-r" => files.access(operand, Access::Read),
        b"-w" => files.access(operand, Access::Write),
        b"-x" => files.access(operand, Access::Execute),
        _ => return Err(error(&[operator, b": unknown operator"])),
    })
}

fn binary(left: &[u8], operator: &[u8], right: &[u8], files: &mut dyn FileQueries) -> Result<bool> {
    Ok(match operator {
        b"=" | b"==" => left == right,
        b"!=" => left != right,
        b"<" => left < right,
        b">" => left > right,
        b"-eq" | b"-ne" | b"-gt" | b"-ge" | b"-lt" | b"-le" => {
            let (left, right) = (integer(left)?, integer(right)?);
            match operator {
                b"-eq" => left == right,
                b"-ne" => left != right,
                b"-gt" => left > right,
                b"-ge" => left >= right,
                b"-lt" => left < right,
                _ => left <= right,
            }
        }
        b"-nt" | b"-ot" => {
            let left = files.metadata(left, true);
            let right = files.metadata(right, true);
            match (left, right) {
                (Some(left), Some(right)) => {
                    if operator == b"-nt" {
                        left.modified > right.modified
                    } else {
                        left.modified < right.modified
                    }
                }
                // A file that exists is newer than one that does not.
                (Some(_), None) => operator == b"-nt",
                (None, Some(_)) => operator == b"-ot",
                (None, None) => false,
            }
        }
        b"-ef" => match (files.metadata(left, true), files.metadata(right, true)) {
            (Some(left), Some(right)) => left.device == right.device && left.inode == right.inode,
            _ => false,
        },
        _ => return Err(error(&[operator, b": unknown operator"])),
    })
}

/// An integer operand: optional blanks and sign, decimal digits.
fn integer(text: &[u8]) -> Result<i64> {
    let trimmed: &[u8] = {
        let start = text.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(text.len());
        let end = text.iter().rposition(|byte| !byte.is_ascii_whitespace()).map_or(start, |index| index + 1);
        &text[start..end]
    };
    let (negative, digits) = match trimmed.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, trimmed),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(error(&[text, b": integer expression expected"]));
    }
    let mut value: i64 = 0;
    for digit in digits {
        value = value
            .checked_mul(10)
            .and_then(|value| value.checked_add(i64::from(digit - b'0')))
            .ok_or_else(|| error(&[text, b": integer out of range"]))?;
    }
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    struct Files;

    fn file(kind: FileKind, size: u64, modified: i64) -> Metadata {
        Metadata { kind, mode: 0o644, user: 1000, group: 1000, size, device: 1, inode: size, modified: (modified, 0) }
    }

    impl FileQueries for Files {
        fn metadata(&mut self, path: &[u8], follow: bool) -> Option<Metadata> {
            match path {
                b"/dir" => Some(file(FileKind::Directory, 4096, 5)),
                b"/file" => Some(file(FileKind::Regular, 10, 7)),
                b"/empty" => Some(file(FileKind::Regular, 0, 3)),
                b"/link" if !follow => Some(file(FileKind::SymbolicLink, 5, 1)),
                b"/link" => Some(file(FileKind::Regular, 10, 7)),
                _ => None,
            }
        }
        fn access(&mut self, path: &[u8], access: Access) -> bool {
            path == b"/file" && access != Access::Execute
        }
        fn is_terminal(&mut self, fd: i32) -> bool {
            fd == 0
        }
        fn effective_user_id(&mut self) -> u32 {
            1000
        }
        fn effective_group_id(&mut self) -> u32 {
            1000
        }
    }

    fn test(arguments: &[&str]) -> Result<bool> {
        let arguments: Vec<Vec<u8>> = arguments.iter().map(|argument| argument.as_bytes().to_vec()).collect();
        evaluate(&arguments, &mut Files)
    }

    #[test]
    fn strings_and_counts() {
        assert_eq!(test(&[]), Ok(false));
        assert_eq!(test(&[""]), Ok(false));
        assert_eq!(test(&["x"]), Ok(true));
        assert_eq!(test(&["-n"]), Ok(true));
        assert_eq!(test(&["!", ""]), Ok(true));
        assert_eq!(test(&["-z", ""]), Ok(true));
        assert_eq!(test(&["-n", ""]), Ok(false));
        assert_eq!(test(&["a", "=", "a"]), Ok(true));
        assert_eq!(test(&["a", "!=", "a"]), Ok(false));
        assert_eq!(test(&["!", "a", "=", "b"]), Ok(true));
        assert_eq!(test(&["(", "x", ")"]), Ok(true));
        assert_eq!(test(&["(", "-z", "x", ")"]), Ok(false));
        // `=` as the only argument and as an operand.
        assert_eq!(test(&["="]), Ok(true));
        assert_eq!(test(&["=", "=", "="]), Ok(true));
        assert_eq!(test(&["-n", "=", "-n"]), Ok(true));
    }

    #[test]
    fn integers() {
        assert_eq!(test(&["10", "-gt", "9"]), Ok(true));
        assert_eq!(test(&[" -3 ", "-lt", "+2"]), Ok(true));
        assert_eq!(test(&["1", "-eq", "01"]), Ok(true));
        assert_eq!(test(&["x", "-eq", "1"]), Err(TestError(b"x: integer expression expected".to_vec())));
        assert!(test(&["99999999999999999999", "-eq", "1"]).is_err());
    }

    #[test]
    fn files() {
        assert_eq!(test(&["-d", "/dir"]), Ok(true));
        assert_eq!(test(&["-f", "/dir"]), Ok(false));
        assert_eq!(test(&["-e", "/nothing"]), Ok(false));
        assert_eq!(test(&["-s", "/empty"]), Ok(false));
        assert_eq!(test(&["-s", "/file"]), Ok(true));
        assert_eq!(test(&["-h", "/link"]), Ok(true));
        assert_eq!(test(&["-f", "/link"]), Ok(true));
        assert_eq!(test(&["-r", "/file"]), Ok(true));
        assert_eq!(test(&["-x", "/file"]), Ok(false));
        assert_eq!(test(&["-t", "0"]), Ok(true));
        assert_eq!(test(&["/file", "-nt", "/dir"]), Ok(true));
        assert_eq!(test(&["/file", "-ot", "/nothing"]), Ok(false));
        assert_eq!(test(&["/file", "-ef", "/link"]), Ok(true));
        assert_eq!(test(&["-O", "/file"]), Ok(true));
    }

    #[test]
    fn connectives() {
        assert_eq!(test(&["a", "-a", "b", "-o", ""]), Ok(true));
        assert_eq!(test(&["", "-a", "b", "-o", ""]), Ok(false));
        assert_eq!(test(&["!", "-d", "/file", "-a", "-f", "/file"]), Ok(true));
        assert_eq!(test(&["(", "a", "=", "b", ")", "-o", "(", "-d", "/dir", ")"]), Ok(true));
        assert_eq!(test(&["-f", "/file", "-a", "(", "1", "-lt", "2", ")"]), Ok(true));
        assert!(test(&["(", "a", "-a", "b"]).is_err());
        assert!(test(&["a", "b", "c", "d", "e"]).is_err());
        let deep: Vec<&str> = vec!["!"; 1000].into_iter().chain(["x", "-a", "y"]).collect();
        assert!(test(&deep).is_err());
    }
}
