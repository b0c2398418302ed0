//! Word expansion (XCU 2.6): tilde, parameters, command substitution and
//! arithmetic, then field splitting, pathname expansion and quote removal.
//!
//! A word first becomes a sequence of `Piece`s: bytes that remember whether
//! they were quoted (then they are neither split nor pattern characters)
//! and whether they came from an unquoted expansion (only those are split
//! at IFS characters), plus the field breaks `$@` makes. `split_fields`
//! then cuts fields, and each field with an active wildcard is matched
//! against the file system.

use alloc::vec::Vec;

use crate::arithmetic;
use crate::pattern::{self, PatternByte, Trim};
use crate::shell::{Interrupt, Shell};
use crate::syntax::{ParameterExpansion, ParameterOperator, Word, WordPart};
use crate::system::{Access, System};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    Byte {
        byte: u8,
        quoted: bool,
        splittable: bool,
    },
    /// Ends the current field (between the parameters of `$@`).
    Break,
    /// Makes the current field exist even if empty (`""`, `"$@"` of an empty parameter).
    QuotedEmpty,
}

/// Where tilde prefixes are recognised.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tilde {
    None,
    /// At the start of the word.
    WordStart,
    /// At the start and after each unquoted `:` (assignments).
    Assignment,
}

#[derive(Clone, Copy)]
struct Context {
    /// Inside double quotes (or a here-document).
    quoted: bool,
    /// Literal text counts as an expansion's result (the word of
    /// `${name:-word}` outside quotes is split like the parameter would be).
    literal_splittable: bool,
}

const UNQUOTED: Context = Context { quoted: false, literal_splittable: false };

/// The status an expansion error exits a script with (as dash does).
const EXPANSION_ERROR_STATUS: i32 = 2;

impl<S: System> Shell<S> {
    /// Expands words into fields: every expansion, field splitting,
    /// pathname expansion, quote removal.
    pub fn expand_words(&mut self, words: &[Word]) -> Result<Vec<Vec<u8>>, Interrupt> {
        let mut fields = Vec::new();
        for word in words {
            let mut pieces = Vec::new();
            self.expand_parts(&word.parts, UNQUOTED, Tilde::WordStart, &mut pieces)?;
            let ifs = self.ifs();
            for field in split_fields(&pieces, &ifs) {
                self.push_pathnames(field, &mut fields);
            }
        }
        Ok(fields)
    }

    /// Expands a word into one string: no field splitting, no pathname
    /// expansion (redirection targets, `case` words, here-document
    /// delimiters' bodies).
    pub fn expand_text(&mut self, word: &Word) -> Result<Vec<u8>, Interrupt> {
        let mut pieces = Vec::new();
        self.expand_parts(&word.parts, UNQUOTED, Tilde::WordStart, &mut pieces)?;
        Ok(pieces_text(&pieces))
    }

    /// An assignment's value: as `expand_text`, with tildes also after `:`.
    pub fn expand_assignment(&mut self, word: &Word) -> Result<Vec<u8>, Interrupt> {
        let mut pieces = Vec::new();
        self.expand_parts(&word.parts, UNQUOTED, Tilde::Assignment, &mut pieces)?;
        Ok(pieces_text(&pieces))
    }

    /// A pattern (`case`, `${name%pattern}`): quoted bytes match themselves.
    pub fn expand_pattern(&mut self, word: &Word) -> Result<Vec<PatternByte>, Interrupt> {
        let mut pieces = Vec::new();
        self.expand_parts(&word.parts, UNQUOTED, Tilde::WordStart, &mut pieces)?;
        Ok(pieces_pattern(&pieces))
    }

    /// The body of an unquoted here-document.
    pub fn expand_here_document(&mut self, parts: &[WordPart]) -> Result<Vec<u8>, Interrupt> {
        let mut pieces = Vec::new();
        self.expand_parts(parts, Context { quoted: true, literal_splittable: false }, Tilde::None, &mut pieces)?;
        Ok(pieces_text(&pieces))
    }

    /// The value of IFS (unset: space, tab, newline).
    fn ifs(&self) -> Vec<u8> {
        match self.variables.get(b"IFS") {
            Some(value) => value.to_vec(),
            None => b" \t\n".to_vec(),
        }
    }

    fn push_pathnames(&mut self, field: Vec<PatternByte>, fields: &mut Vec<Vec<u8>>) {
        if !self.options.noglob && pattern::has_wildcard(&field) {
            let mut directories = SystemDirectories(&mut self.system);
            let matches = pattern::expand_pathname(&field, &mut directories);
            if !matches.is_empty() {
                fields.extend(matches);
                return;
            }
        }
        fields.push(pattern::literal_text(&field));
    }

    fn expand_parts(
        &mut self,
        parts: &[WordPart],
        context: Context,
        tilde: Tilde,
        pieces: &mut Vec<Piece>,
    ) -> Result<(), Interrupt> {
        for (index, part) in parts.iter().enumerate() {
            match part {
                WordPart::Literal(text) => {
                    let last = index + 1 == parts.len();
                    self.expand_literal(text, context, tilde, index == 0, last, pieces);
                }
                WordPart::Escaped(byte) => pieces.push(Piece::Byte { byte: *byte, quoted: true, splittable: false }),
                WordPart::SingleQuoted(text) => {
                    pieces.push(Piece::QuotedEmpty);
                    pieces.extend(text.iter().map(|&byte| Piece::Byte { byte, quoted: true, splittable: false }));
                }
                WordPart::DoubleQuoted(inner) => {
                    // "$@" with no parameters is no field at all.
                    let only_at = matches!(inner.as_slice(),
                        [WordPart::Parameter(ParameterExpansion { name, operator: ParameterOperator::Plain })] if name == b"@");
                    if !(only_at && self.positional.is_empty()) {
                        pieces.push(Piece::QuotedEmpty);
                    }
                    self.expand_parts(inner, Context { quoted: true, literal_splittable: false }, Tilde::None, pieces)?;
                }
                WordPart::Parameter(expansion) => self.expand_parameter(expansion, context, pieces)?,
                WordPart::CommandSubstitution(program) => {
                    let output = self.command_substitution(program)?;
                    push_result(&output, context, pieces);
                }
                WordPart::Arithmetic(inner) => {
                    let mut text_pieces = Vec::new();
                    self.expand_parts(
                        inner,
                        Context { quoted: true, literal_splittable: false },
                        Tilde::None,
                        &mut text_pieces,
                    )?;
                    let expression = pieces_text(&text_pieces);
                    let value = {
                        let mut variables = ArithmeticVariables(self);
                        arithmetic::evaluate(&expression, &mut variables)
                    };
                    match value {
                        Ok(value) => push_result(alloc::format!("{value}").as_bytes(), context, pieces),
                        Err(error) => {
                            let message = alloc::format!("{error}");
                            self.error(&[b"arithmetic expression: ", message.as_bytes(), b": \"", &expression, b"\""]);
                            return Err(Interrupt::Abort(EXPANSION_ERROR_STATUS));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn expand_literal(
        &mut self,
        text: &[u8],
        context: Context,
        tilde: Tilde,
        first: bool,
        last: bool,
        pieces: &mut Vec<Piece>,
    ) {
        let literal = |byte: u8| Piece::Byte { byte, quoted: context.quoted, splittable: context.literal_splittable };
        let mut segment_start = first && tilde != Tilde::None;
        let mut index = 0;
        while index < text.len() {
            if segment_start && text[index] == b'~' {
                let end = text[index + 1..]
                    .iter()
                    .position(|&byte| byte == b'/' || (tilde == Tilde::Assignment && byte == b':'))
                    .map_or(text.len(), |offset| index + 1 + offset);
                // A prefix running into a quoted part is not a tilde prefix.
                if end < text.len() || last {
                    if let Some(home) = self.tilde_home(&text[index + 1..end]) {
                        pieces.push(Piece::QuotedEmpty);
                        pieces.extend(home.iter().map(|&byte| Piece::Byte { byte, quoted: true, splittable: false }));
                        index = end;
                        segment_start = false;
                        continue;
                    }
                }
            }
            segment_start = tilde == Tilde::Assignment && text[index] == b':';
            pieces.push(literal(text[index]));
            index += 1;
        }
    }

    fn tilde_home(&mut self, user: &[u8]) -> Option<Vec<u8>> {
        if user.is_empty() {
            return self.variables.get(b"HOME").map(<[u8]>::to_vec);
        }
        self.system.home_directory(user)
    }

    /// The value of a parameter other than `@` and `*`: `None` when unset.
    pub fn parameter(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        match name {
            b"?" => Some(alloc::format!("{}", self.last_status).into_bytes()),
            b"$" => Some(alloc::format!("{}", self.shell_process_id).into_bytes()),
            b"!" => self.last_background.map(|pid| alloc::format!("{pid}").into_bytes()),
            b"#" => Some(alloc::format!("{}", self.positional.len()).into_bytes()),
            b"-" => Some(self.options.letters()),
            b"0" => Some(self.name.clone()),
            b"@" | b"*" => {
                if self.positional.is_empty() {
                    None
                } else {
                    Some(self.positional.join(&b' '))
                }
            }
            _ if name.iter().all(u8::is_ascii_digit) => {
                let index = core::str::from_utf8(name).ok()?.parse::<usize>().ok()?;
                self.positional.get(index.checked_sub(1)?).cloned()
            }
            _ => self.variables.get(name).map(<[u8]>::to_vec),
        }
    }

    fn expand_parameter(
        &mut self,
        expansion: &ParameterExpansion,
        context: Context,
        pieces: &mut Vec<Piece>,
    ) -> Result<(), Interrupt> {
        let name = expansion.name.as_slice();
        let all = name == b"@" || name == b"*";
        let value = self.parameter(name);
        let set = value.is_some();
        let empty = value.as_ref().is_none_or(Vec::is_empty);
        let word_context = Context { quoted: context.quoted, literal_splittable: !context.quoted };
        match &expansion.operator {
            ParameterOperator::Plain => {
                if all {
                    self.expand_positional(name == b"@", context, pieces);
                    return Ok(());
                }
                match value {
                    Some(value) => push_result(&value, context, pieces),
                    None => self.check_set(name)?,
                }
            }
            ParameterOperator::Length => {
                let length = if all {
                    self.positional.len()
                } else {
                    if !set {
                        self.check_set(name)?;
                    }
                    value.map_or(0, |value| value.len())
                };
                push_result(alloc::format!("{length}").as_bytes(), context, pieces);
            }
            ParameterOperator::Default { colon, word } => {
                if !set || (*colon && empty) {
                    self.expand_parts(&word.parts, word_context, Tilde::WordStart, pieces)?;
                } else if all {
                    self.expand_positional(name == b"@", context, pieces);
                } else if let Some(value) = value {
                    push_result(&value, context, pieces);
                }
            }
            ParameterOperator::Assign { colon, word } => {
                if !set || (*colon && empty) {
                    let mut text_pieces = Vec::new();
                    self.expand_parts(&word.parts, word_context, Tilde::WordStart, &mut text_pieces)?;
                    let text = pieces_text(&text_pieces);
                    if let Err(error) = self.assign(name, &text) {
                        match error {
                            crate::variables::VariableError::BadName(_) => {
                                self.error(&[b"${", name, b"=...}: cannot assign in this way"]);
                            }
                            other => self.variable_error(other),
                        }
                        return Err(Interrupt::Abort(EXPANSION_ERROR_STATUS));
                    }
                    push_result(&text, context, pieces);
                } else if let Some(value) = value {
                    push_result(&value, context, pieces);
                }
            }
            ParameterOperator::Error { colon, word } => {
                if !set || (*colon && empty) {
                    let message = if word.parts.is_empty() {
                        if set {
                            b"parameter null".to_vec()
                        } else {
                            b"parameter not set".to_vec()
                        }
                    } else {
                        self.expand_text(word)?
                    };
                    self.error(&[name, b": ", &message]);
                    return Err(Interrupt::Abort(EXPANSION_ERROR_STATUS));
                }
                if all {
                    self.expand_positional(name == b"@", context, pieces);
                } else if let Some(value) = value {
                    push_result(&value, context, pieces);
                }
            }
            ParameterOperator::Alternative { colon, word } => {
                if set && !(*colon && empty) {
                    self.expand_parts(&word.parts, word_context, Tilde::WordStart, pieces)?;
                }
            }
            ParameterOperator::RemoveSuffix { longest, pattern }
            | ParameterOperator::RemovePrefix { longest, pattern } => {
                let suffix = matches!(expansion.operator, ParameterOperator::RemoveSuffix { .. });
                let trim = match (suffix, *longest) {
                    (true, false) => Trim::ShortestSuffix,
                    (true, true) => Trim::LongestSuffix,
                    (false, false) => Trim::ShortestPrefix,
                    (false, true) => Trim::LongestPrefix,
                };
                if !set && !all {
                    self.check_set(name)?;
                }
                let pattern = self.expand_pattern(pattern)?;
                if all {
                    // Each parameter is trimmed on its own.
                    let trimmed: Vec<Vec<u8>> = self
                        .positional
                        .iter()
                        .map(|parameter| pattern::trim(parameter, &pattern, trim).to_vec())
                        .collect();
                    push_list(&trimmed, name == b"@", context, &self.ifs(), pieces);
                } else {
                    let value = value.unwrap_or_default();
                    push_result(pattern::trim(&value, &pattern, trim), context, pieces);
                }
            }
        }
        Ok(())
    }

    /// Fails under `set -u` for an unset parameter.
    fn check_set(&mut self, name: &[u8]) -> Result<(), Interrupt> {
        if self.options.nounset {
            self.error(&[name, b": parameter not set"]);
            return Err(Interrupt::Abort(EXPANSION_ERROR_STATUS));
        }
        Ok(())
    }

    fn expand_positional(&mut self, at: bool, context: Context, pieces: &mut Vec<Piece>) {
        let parameters = core::mem::take(&mut self.positional);
        let ifs = self.ifs();
        push_list(&parameters, at, context, &ifs, pieces);
        self.positional = parameters;
    }
}

/// Pushes an expansion's result: quoted inside double quotes, else subject
/// to field splitting and pathname expansion.
fn push_result(value: &[u8], context: Context, pieces: &mut Vec<Piece>) {
    pieces.extend(value.iter().map(|&byte| Piece::Byte { byte, quoted: context.quoted, splittable: !context.quoted }));
}

/// `$@` / `$*` over a list: separate fields, except `"$*"`, which joins
/// them with the first character of IFS.
fn push_list(values: &[Vec<u8>], at: bool, context: Context, ifs: &[u8], pieces: &mut Vec<Piece>) {
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            if context.quoted && !at {
                if let Some(&separator) = ifs.first() {
                    pieces.push(Piece::Byte { byte: separator, quoted: true, splittable: false });
                }
            } else {
                pieces.push(Piece::Break);
            }
        }
        if context.quoted {
            pieces.push(Piece::QuotedEmpty);
        }
        push_result(value, context, pieces);
    }
}

fn is_ifs_whitespace(byte: u8) -> bool {
    byte == b' ' || byte == b'\t' || byte == b'\n'
}

/// Field splitting (XCU 2.6.5): only bytes from unquoted expansions split;
/// IFS white space around a delimiter is part of it; leading and trailing
/// IFS white space makes no field; an empty field survives only if quoted.
fn split_fields(pieces: &[Piece], ifs: &[u8]) -> Vec<Vec<PatternByte>> {
    let mut fields = Vec::new();
    let mut current = Vec::new();
    let mut open = false;
    // The last delimiter was white space, which a following non-white
    // delimiter joins.
    let mut after_white = false;
    for piece in pieces {
        match *piece {
            Piece::QuotedEmpty => {
                open = true;
                after_white = false;
            }
            Piece::Break => {
                if open {
                    fields.push(core::mem::take(&mut current));
                    open = false;
                }
                after_white = false;
            }
            Piece::Byte { byte, quoted, splittable } => {
                if splittable && ifs.contains(&byte) {
                    if is_ifs_whitespace(byte) {
                        if open {
                            fields.push(core::mem::take(&mut current));
                            open = false;
                            after_white = true;
                        }
                    } else if open {
                        fields.push(core::mem::take(&mut current));
                        open = false;
                        after_white = false;
                    } else if after_white {
                        after_white = false;
                    } else {
                        fields.push(Vec::new());
                    }
                } else {
                    current.push(PatternByte { byte, active: !quoted });
                    open = true;
                    after_white = false;
                }
            }
        }
    }
    if open {
        fields.push(current);
    }
    fields
}

/// The text of pieces with no splitting (`$@`'s breaks become spaces).
fn pieces_text(pieces: &[Piece]) -> Vec<u8> {
    let mut text = Vec::new();
    for piece in pieces {
        match *piece {
            Piece::Byte { byte, .. } => text.push(byte),
            Piece::Break => text.push(b' '),
            Piece::QuotedEmpty => {}
        }
    }
    text
}

fn pieces_pattern(pieces: &[Piece]) -> Vec<PatternByte> {
    let mut pattern = Vec::new();
    for piece in pieces {
        match *piece {
            Piece::Byte { byte, quoted, .. } => pattern.push(PatternByte { byte, active: !quoted }),
            Piece::Break => pattern.push(PatternByte::literal(b' ')),
            Piece::QuotedEmpty => {}
        }
    }
    pattern
}

struct SystemDirectories<'s, S: System>(&'s mut S);

impl<S: System> pattern::Directories for SystemDirectories<'_, S> {
    fn list(&mut self, path: &[u8]) -> Option<Vec<Vec<u8>>> {
        self.0.read_directory(path).ok()
    }

    fn exists(&mut self, path: &[u8]) -> bool {
        self.0.access(path, Access::Exists) || self.0.metadata(path, false).is_ok()
    }
}

struct ArithmeticVariables<'s, S: System>(&'s mut Shell<S>);

impl<S: System> arithmetic::Variables for ArithmeticVariables<'_, S> {
    fn get(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        self.0.variables.get(name).map(<[u8]>::to_vec)
    }

    fn set(&mut self, name: &[u8], value: i64) -> Result<(), arithmetic::ArithmeticError> {
        self.0
            .assign(name, alloc::format!("{value}").as_bytes())
            .map_err(|_| arithmetic::ArithmeticError::ReadOnly(name.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn byte(byte: u8, quoted: bool, splittable: bool) -> Piece {
        Piece::Byte { byte, quoted, splittable }
    }

    fn expansion(text: &str) -> Vec<Piece> {
        text.bytes().map(|b| byte(b, false, true)).collect()
    }

    fn texts(fields: Vec<Vec<PatternByte>>) -> Vec<alloc::string::String> {
        fields
            .into_iter()
            .map(|field| alloc::string::String::from_utf8(pattern::literal_text(&field)).unwrap())
            .collect()
    }

    #[test]
    fn splitting_at_white_space_and_delimiters() {
        let ifs = b" \t\n:";
        assert_eq!(texts(split_fields(&expansion("  a  b\tc \n"), ifs)), ["a", "b", "c"]);
        assert_eq!(texts(split_fields(&expansion("a::b"), ifs)), ["a", "", "b"]);
        assert_eq!(texts(split_fields(&expansion("a : b"), ifs)), ["a", "b"]);
        assert_eq!(texts(split_fields(&expansion(":a"), ifs)), ["", "a"]);
        assert_eq!(texts(split_fields(&expansion("a:"), ifs)), ["a"]);
        assert_eq!(texts(split_fields(&expansion(""), ifs)), Vec::<&str>::new());
        // Empty IFS: no splitting.
        assert_eq!(texts(split_fields(&expansion("a b"), b"")), ["a b"]);
    }

    #[test]
    fn quoted_and_literal_bytes_do_not_split() {
        let mut pieces = vec![byte(b'x', false, false), byte(b' ', false, false)];
        pieces.extend(expansion("1 2"));
        pieces.push(byte(b' ', true, false));
        assert_eq!(texts(split_fields(&pieces, b" ")), ["x 1", "2 "]);
        // A quoted empty string is a field; an empty expansion is not.
        assert_eq!(texts(split_fields(&[Piece::QuotedEmpty], b" ")).len(), 1);
        assert_eq!(texts(split_fields(&[Piece::Break, Piece::QuotedEmpty, Piece::Break], b" ")), [""]);
    }

    #[test]
    fn quoted_bytes_are_not_wildcards() {
        let fields = split_fields(&[byte(b'*', true, false), byte(b'*', false, true)], b" ");
        assert_eq!(fields, vec![vec![PatternByte::literal(b'*'), PatternByte::active(b'*')]]);
    }
}
