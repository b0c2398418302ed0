//! The parser: shell text to a syntax tree (`syntax`), following the POSIX
//! shell grammar (XCU 2.10) with the token rules of 2.3.
//!
//! It reads bytes directly, one character of look-ahead at a time; words
//! are read with their quotes and expansions into `WordPart`s, and a
//! command substitution's program is parsed recursively from the same text.
//! Reserved words are recognised only where the grammar allows a command to
//! start. Here-document bodies are read at the next newline and placed into
//! their redirections once the complete command they belong to is parsed.
//!
//! Input may end in the middle of a construct: the error is then
//! `ParseErrorKind::Incomplete`, which an interactive shell answers by
//! reading another line and parsing the whole text again.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::fmt;

use crate::syntax::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// 1-based line of the input where the error was found.
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input ended inside a construct; the text says which one.
    Incomplete(&'static str),
    /// A token appeared where the grammar does not allow it.
    Unexpected(Vec<u8>),
    /// A `${…}` that is not a parameter expansion.
    BadSubstitution,
    /// Something else the grammar requires is missing; the text says what.
    Expected(&'static str),
}

impl ParseError {
    pub fn is_incomplete(&self) -> bool {
        matches!(self.kind, ParseErrorKind::Incomplete(_))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::Incomplete(what) => write!(formatter, "syntax error: unexpected end of file ({what})"),
            ParseErrorKind::Unexpected(token) => {
                write!(
                    formatter,
                    "syntax error near unexpected token `{}'",
                    alloc::string::String::from_utf8_lossy(token)
                )
            }
            ParseErrorKind::BadSubstitution => write!(formatter, "bad substitution"),
            ParseErrorKind::Expected(what) => write!(formatter, "syntax error: {what}"),
        }
    }
}

type Result<T> = core::result::Result<T, ParseError>;

/// Operators, longest first so that matching takes the longest.
const OPERATORS: &[&[u8]] =
    &[b"<<-", b"&&", b"||", b";;", b"<<", b">>", b"<&", b">&", b"<>", b">|", b"&", b"|", b";", b"<", b">", b"(", b")"];

/// What may end a list: a reserved word, or the `)` / `;;` operators.
#[derive(Clone, Copy)]
struct Terminators<'t> {
    words: &'t [&'t [u8]],
    close_parenthesis: bool,
    double_semicolon: bool,
    /// The list may be empty (a case arm, `$( )`); elsewhere the grammar
    /// requires at least one command.
    allow_empty: bool,
}

const AT_END_ONLY: Terminators<'static> =
    Terminators { words: &[], close_parenthesis: false, double_semicolon: false, allow_empty: false };

struct PendingHereDocument {
    delimiter: Vec<u8>,
    quoted: bool,
    strip_tabs: bool,
}

/// How a word being read ends and what its backslashes escape.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WordMode {
    /// An ordinary word: ends at a blank or an operator character.
    Unquoted,
    /// The word inside `${name…}` outside double quotes: ends at `}`.
    UnquotedBrace,
    /// Inside `"…"`: ends at `"`.
    DoubleQuoted,
    /// The word inside `${name…}` inside double quotes: ends at `}`.
    DoubleQuotedBrace,
    /// A here-document body: ends at the end of the text.
    HereDocument,
    /// The inside of `$(( … ))`: ends at the `))` that balances it.
    Arithmetic,
}

impl WordMode {
    fn quoted(self) -> bool {
        matches!(
            self,
            WordMode::DoubleQuoted | WordMode::DoubleQuotedBrace | WordMode::HereDocument | WordMode::Arithmetic
        )
    }

    /// The characters a backslash escapes in this mode (quoted modes only).
    fn escapable(self, byte: u8) -> bool {
        match self {
            WordMode::DoubleQuoted => matches!(byte, b'$' | b'`' | b'"' | b'\\'),
            WordMode::DoubleQuotedBrace => matches!(byte, b'$' | b'`' | b'"' | b'\\' | b'}'),
            WordMode::HereDocument | WordMode::Arithmetic => matches!(byte, b'$' | b'`' | b'\\'),
            WordMode::Unquoted | WordMode::UnquotedBrace => true,
        }
    }
}

pub struct Parser<'a> {
    text: &'a [u8],
    position: usize,
    /// Here-documents whose `<<` was read and whose body was not.
    pending: Vec<PendingHereDocument>,
    /// Bodies read, in order, not yet placed into their redirections.
    bodies: Vec<Vec<WordPart>>,
    /// The text is all there will be (a script): a here-document without its
    /// delimiter line ends at the end of the text instead of asking for more.
    complete_input: bool,
    /// Depth of `$( … )` and backquote nesting, bounded so that hostile input
    /// cannot exhaust the stack.
    depth: usize,
}

/// Nesting limit for command substitutions, compound commands and
/// parameter-expansion words.
const MAX_DEPTH: usize = 200;

/// Parses a whole text. `complete_input`: the text is all there is (a
/// script or `-c` string) rather than lines typed so far.
pub fn parse(text: &[u8], complete_input: bool) -> Result<Program> {
    let mut parser = Parser::new(text, complete_input);
    let mut program = Program::default();
    while let Some(part) = parser.next_complete_command()? {
        program.items.extend(part.items);
    }
    Ok(program)
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a [u8], complete_input: bool) -> Self {
        Parser { text, position: 0, pending: Vec::new(), bodies: Vec::new(), complete_input, depth: 0 }
    }

    /// How far the text has been read (for `set -v`, which prints what was read).
    pub fn position(&self) -> usize {
        self.position
    }

    /// The current line number (1-based), for messages.
    pub fn line(&self) -> usize {
        1 + self.text[..self.position.min(self.text.len())].iter().filter(|&&byte| byte == b'\n').count()
    }

    /// The next complete command: the and-or lists up to a newline (or the
    /// end), with their here-documents read. `None` at the end of the text.
    pub fn next_complete_command(&mut self) -> Result<Option<Program>> {
        self.skip_line_breaks()?;
        if self.at_end() {
            return Ok(None);
        }
        let mut program = Program::default();
        loop {
            self.skip_blanks();
            if self.at_end() {
                break;
            }
            if self.peek() == Some(b'\n') {
                self.newline()?;
                break;
            }
            let list = self.and_or()?;
            self.skip_blanks();
            let asynchronous = match self.operator() {
                Some(b"&") => {
                    self.position += 1;
                    true
                }
                Some(b";") => {
                    self.position += 1;
                    false
                }
                None if self.at_end() || self.peek() == Some(b'\n') => false,
                _ => return Err(self.unexpected()),
            };
            program.items.push(Item { list, asynchronous });
        }
        if self.at_end() && self.complete_input {
            // A script may end before a here-document's body: it is empty.
            for _ in core::mem::take(&mut self.pending) {
                self.bodies.push(Vec::new());
            }
        }
        self.place_here_documents(&mut program)?;
        Ok(Some(program))
    }

    // ---- characters --------------------------------------------------

    fn at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.text.get(self.position + offset).copied()
    }

    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError { kind, line: self.line() }
    }

    fn incomplete(&self, what: &'static str) -> ParseError {
        self.error(ParseErrorKind::Incomplete(what))
    }

    /// An error naming the token at the current position.
    fn unexpected(&self) -> ParseError {
        if self.at_end() {
            return self.incomplete("a command was expected");
        }
        if let Some(operator) = self.operator() {
            return self.error(ParseErrorKind::Unexpected(operator.to_vec()));
        }
        if self.peek() == Some(b'\n') {
            return self.error(ParseErrorKind::Unexpected(b"newline".to_vec()));
        }
        let end = self.text[self.position..]
            .iter()
            .position(|&byte| is_blank(byte) || byte == b'\n' || is_operator_start(byte))
            .map_or(self.text.len(), |length| self.position + length);
        self.error(ParseErrorKind::Unexpected(self.text[self.position..end.max(self.position + 1)].to_vec()))
    }

    /// Skips blanks, line continuations and a comment (up to, not over, its newline).
    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.position += 1,
                Some(b'\\') if self.peek_at(1) == Some(b'\n') => self.position += 2,
                Some(b'#') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.position += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Consumes a newline and reads the bodies of the here-documents
    /// announced on the line it ends.
    fn newline(&mut self) -> Result<()> {
        debug_assert_eq!(self.peek(), Some(b'\n'));
        self.position += 1;
        let pending = core::mem::take(&mut self.pending);
        for document in pending {
            let body = self.here_document_body(&document)?;
            self.bodies.push(body);
        }
        Ok(())
    }

    /// Skips blanks, comments and newlines.
    fn skip_line_breaks(&mut self) -> Result<()> {
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'\n') {
                self.newline()?;
            } else {
                return Ok(());
            }
        }
    }

    /// The operator at the current position, if any.
    fn operator(&self) -> Option<&'static [u8]> {
        let rest = &self.text[self.position.min(self.text.len())..];
        OPERATORS.iter().copied().find(|operator| rest.starts_with(operator))
    }

    fn take_operator(&mut self, wanted: &[u8]) -> bool {
        if self.operator() == Some(wanted) {
            self.position += wanted.len();
            true
        } else {
            false
        }
    }

    /// The reserved word at the current position, if one is there as a whole token.
    fn reserved_word(&self) -> Option<&'static [u8]> {
        let rest = &self.text[self.position.min(self.text.len())..];
        let length = rest
            .iter()
            .position(|&byte| is_blank(byte) || byte == b'\n' || is_operator_start(byte))
            .unwrap_or(rest.len());
        let candidate = &rest[..length];
        RESERVED_WORDS.iter().copied().find(|word| *word == candidate)
    }

    fn take_reserved_word(&mut self, wanted: &[u8]) -> bool {
        if self.reserved_word() == Some(wanted) {
            self.position += wanted.len();
            true
        } else {
            false
        }
    }

    fn expect_reserved_word(&mut self, wanted: &'static [u8], what: &'static str) -> Result<()> {
        self.skip_line_breaks()?;
        if self.take_reserved_word(wanted) {
            Ok(())
        } else if self.at_end() {
            Err(self.incomplete(what))
        } else {
            Err(self.unexpected())
        }
    }

    fn at_terminator(&self, terminators: Terminators<'_>) -> bool {
        if let Some(word) = self.reserved_word() {
            if terminators.words.contains(&word) {
                return true;
            }
        }
        match self.operator() {
            Some(b")") => terminators.close_parenthesis,
            Some(b";;") => terminators.double_semicolon,
            _ => false,
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(ParseErrorKind::Expected("nesting too deep")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- lists and commands -------------------------------------------

    /// A list of and-or lists, up to (not including) a terminator.
    fn list(&mut self, terminators: Terminators<'_>, what: &'static str) -> Result<Program> {
        let mut program = Program::default();
        loop {
            self.skip_line_breaks()?;
            if self.at_end() {
                return Err(self.incomplete(what));
            }
            if self.at_terminator(terminators) {
                if program.items.is_empty() && !terminators.allow_empty {
                    return Err(self.unexpected());
                }
                return Ok(program);
            }
            let list = self.and_or()?;
            self.skip_blanks();
            let asynchronous = match self.operator() {
                Some(b"&") => {
                    self.position += 1;
                    true
                }
                Some(b";") => {
                    self.position += 1;
                    false
                }
                Some(b";;") if terminators.double_semicolon => false,
                Some(b")") if terminators.close_parenthesis => false,
                None if self.at_end() || self.peek() == Some(b'\n') => false,
                None if self.at_terminator(terminators) => false,
                _ => return Err(self.unexpected()),
            };
            program.items.push(Item { list, asynchronous });
        }
    }

    fn and_or(&mut self) -> Result<AndOr> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_blanks();
            let connector = match self.operator() {
                Some(b"&&") => Connector::And,
                Some(b"||") => Connector::Or,
                _ => break,
            };
            self.position += 2;
            self.skip_line_breaks()?;
            rest.push((connector, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Result<Pipeline> {
        self.skip_blanks();
        let negated = self.take_reserved_word(b"!");
        let mut commands = alloc::vec![self.command()?];
        loop {
            self.skip_blanks();
            if self.operator() != Some(b"|") {
                break;
            }
            self.position += 1;
            self.skip_line_breaks()?;
            commands.push(self.command()?);
        }
        Ok(Pipeline { negated, commands })
    }

    fn command(&mut self) -> Result<Command> {
        self.skip_blanks();
        if self.at_end() {
            return Err(self.incomplete("a command was expected"));
        }
        self.enter()?;
        let result = self.command_inner();
        self.leave();
        result
    }

    fn command_inner(&mut self) -> Result<Command> {
        if let Some(compound) = self.compound_command()? {
            let redirections = self.trailing_redirections()?;
            return Ok(Command::Compound(compound, redirections));
        }
        if let Some(word) = self.reserved_word() {
            // Any other reserved word cannot start a command (`in` is
            // reserved only inside `for` and `case`).
            if word != b"in" {
                return Err(self.error(ParseErrorKind::Unexpected(word.to_vec())));
            }
        }
        self.simple_command()
    }

    /// A compound command if one starts here.
    fn compound_command(&mut self) -> Result<Option<CompoundCommand>> {
        if self.take_operator(b"(") {
            let body = self.list(Terminators { close_parenthesis: true, ..AT_END_ONLY }, "`)'")?;
            if !self.take_operator(b")") {
                return Err(self.unexpected());
            }
            return Ok(Some(CompoundCommand::Subshell(body)));
        }
        let Some(word) = self.reserved_word() else { return Ok(None) };
        let compound = match word {
            b"{" => {
                self.position += 1;
                let body = self.list(Terminators { words: &[b"}"], ..AT_END_ONLY }, "`}'")?;
                self.expect_reserved_word(b"}", "`}'")?;
                CompoundCommand::Group(body)
            }
            b"if" => {
                self.position += 2;
                self.if_command()?
            }
            b"while" | b"until" => {
                self.position += word.len();
                let condition = self.list(Terminators { words: &[b"do"], ..AT_END_ONLY }, "`do'")?;
                self.expect_reserved_word(b"do", "`do'")?;
                let body = self.list(Terminators { words: &[b"done"], ..AT_END_ONLY }, "`done'")?;
                self.expect_reserved_word(b"done", "`done'")?;
                CompoundCommand::Loop { until: word == b"until", condition, body }
            }
            b"for" => {
                self.position += 3;
                self.for_command()?
            }
            b"case" => {
                self.position += 4;
                self.case_command()?
            }
            _ => return Ok(None),
        };
        Ok(Some(compound))
    }

    fn if_command(&mut self) -> Result<CompoundCommand> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let condition = self.list(Terminators { words: &[b"then"], ..AT_END_ONLY }, "`then'")?;
            self.expect_reserved_word(b"then", "`then'")?;
            let body = self.list(Terminators { words: &[b"elif", b"else", b"fi"], ..AT_END_ONLY }, "`fi'")?;
            branches.push((condition, body));
            if self.take_reserved_word(b"elif") {
                continue;
            }
            if self.take_reserved_word(b"else") {
                otherwise = Some(self.list(Terminators { words: &[b"fi"], ..AT_END_ONLY }, "`fi'")?);
            }
            self.expect_reserved_word(b"fi", "`fi'")?;
            return Ok(CompoundCommand::If { branches, otherwise });
        }
    }

    fn for_command(&mut self) -> Result<CompoundCommand> {
        self.skip_blanks();
        let name = self.word(WordMode::Unquoted)?;
        let name = match name.as_literal() {
            Some(text) if is_name(text) => text.to_vec(),
            _ if name.parts.is_empty() => return Err(self.unexpected()),
            _ => return Err(self.error(ParseErrorKind::Expected("`for' needs a variable name"))),
        };
        self.skip_line_breaks()?;
        let words = if self.take_reserved_word(b"in") {
            let mut words = Vec::new();
            loop {
                self.skip_blanks();
                match self.peek() {
                    None => return Err(self.incomplete("`do'")),
                    Some(b'\n') => break,
                    _ if self.operator() == Some(b";") => {
                        self.position += 1;
                        break;
                    }
                    _ if self.operator().is_some() => return Err(self.unexpected()),
                    _ => words.push(self.word(WordMode::Unquoted)?),
                }
            }
            Some(words)
        } else {
            self.skip_blanks();
            if self.operator() == Some(b";") {
                self.position += 1;
            }
            None
        };
        self.expect_reserved_word(b"do", "`do'")?;
        let body = self.list(Terminators { words: &[b"done"], ..AT_END_ONLY }, "`done'")?;
        self.expect_reserved_word(b"done", "`done'")?;
        Ok(CompoundCommand::For { name, words, body })
    }

    fn case_command(&mut self) -> Result<CompoundCommand> {
        self.skip_blanks();
        if self.at_end() {
            return Err(self.incomplete("`in'"));
        }
        if self.operator().is_some() || self.peek() == Some(b'\n') {
            return Err(self.unexpected());
        }
        let word = self.word(WordMode::Unquoted)?;
        self.expect_reserved_word(b"in", "`in'")?;
        let mut arms = Vec::new();
        loop {
            self.skip_line_breaks()?;
            if self.take_reserved_word(b"esac") {
                return Ok(CompoundCommand::Case { word, arms });
            }
            if self.at_end() {
                return Err(self.incomplete("`esac'"));
            }
            self.take_operator(b"(");
            let mut patterns = Vec::new();
            loop {
                self.skip_blanks();
                if self.at_end() {
                    return Err(self.incomplete("`)'"));
                }
                if self.operator().is_some() || self.peek() == Some(b'\n') {
                    return Err(self.unexpected());
                }
                patterns.push(self.word(WordMode::Unquoted)?);
                self.skip_blanks();
                if self.take_operator(b"|") {
                    continue;
                }
                if self.take_operator(b")") {
                    break;
                }
                return Err(if self.at_end() { self.incomplete("`)'") } else { self.unexpected() });
            }
            let body = self.list(
                Terminators { words: &[b"esac"], double_semicolon: true, allow_empty: true, ..AT_END_ONLY },
                "`esac'",
            )?;
            arms.push(CaseArm { patterns, body });
            self.skip_blanks();
            if !self.take_operator(b";;") {
                self.expect_reserved_word(b"esac", "`esac'")?;
                return Ok(CompoundCommand::Case { word, arms });
            }
        }
    }

    /// Redirections after a compound command.
    fn trailing_redirections(&mut self) -> Result<Vec<Redirection>> {
        let mut redirections = Vec::new();
        loop {
            self.skip_blanks();
            match self.redirection()? {
                Some(redirection) => redirections.push(redirection),
                None => return Ok(redirections),
            }
        }
    }

    /// A redirection if one starts here (with its optional descriptor number).
    fn redirection(&mut self) -> Result<Option<Redirection>> {
        let start = self.position;
        let digits = self.text[start..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        let descriptor = if digits > 0 && matches!(self.peek_at(digits), Some(b'<' | b'>')) {
            let number = self.text[start..start + digits]
                .iter()
                .try_fold(0u32, |total, digit| total.checked_mul(10)?.checked_add(u32::from(digit - b'0')));
            match number {
                Some(number) => {
                    self.position += digits;
                    Some(number)
                }
                None => return Err(self.error(ParseErrorKind::Expected("descriptor number too large"))),
            }
        } else {
            None
        };
        let operator = match self.operator() {
            Some(b"<") => RedirectionOperator::Input,
            Some(b">") => RedirectionOperator::Output,
            Some(b">|") => RedirectionOperator::Clobber,
            Some(b">>") => RedirectionOperator::Append,
            Some(b"<>") => RedirectionOperator::ReadWrite,
            Some(b"<&") => RedirectionOperator::DuplicateInput,
            Some(b">&") => RedirectionOperator::DuplicateOutput,
            Some(b"<<" | b"<<-") => RedirectionOperator::HereDocument,
            _ => {
                self.position = start;
                return Ok(None);
            }
        };
        let strip_tabs = self.operator() == Some(b"<<-");
        self.position += self.operator().map_or(0, <[u8]>::len);
        self.skip_blanks();
        if self.at_end() {
            return Err(self.incomplete("a redirection needs a word"));
        }
        if self.operator().is_some() || self.peek() == Some(b'\n') {
            return Err(self.unexpected());
        }
        let word = self.word(WordMode::Unquoted)?;
        let target = if operator == RedirectionOperator::HereDocument {
            let (delimiter, quoted) = here_document_delimiter(&word);
            self.pending.push(PendingHereDocument { delimiter: delimiter.clone(), quoted, strip_tabs });
            RedirectionTarget::HereDocument(HereDocument { delimiter, quoted, strip_tabs, body: Vec::new() })
        } else {
            RedirectionTarget::Word(word)
        };
        Ok(Some(Redirection { descriptor, operator, target }))
    }

    fn simple_command(&mut self) -> Result<Command> {
        let mut command = SimpleCommand::default();
        loop {
            self.skip_blanks();
            if let Some(redirection) = self.redirection()? {
                command.redirections.push(redirection);
                continue;
            }
            if self.at_end() || self.peek() == Some(b'\n') || self.operator().is_some() {
                break;
            }
            let word = self.word(WordMode::Unquoted)?;
            if command.words.is_empty() {
                if let Some(assignment) = as_assignment(&word) {
                    command.assignments.push(assignment);
                    continue;
                }
                // `name ( )` defines a function.
                if command.assignments.is_empty() && command.redirections.is_empty() {
                    self.skip_blanks();
                    if self.operator() == Some(b"(") {
                        return self.function_definition(word);
                    }
                }
            }
            command.words.push(word);
        }
        if command.words.is_empty() && command.assignments.is_empty() && command.redirections.is_empty() {
            return Err(self.unexpected());
        }
        Ok(Command::Simple(command))
    }

    fn function_definition(&mut self, name: Word) -> Result<Command> {
        let name = match name.as_literal() {
            Some(text) if is_name(text) && !RESERVED_WORDS.contains(&text) => text.to_vec(),
            _ => return Err(self.unexpected()),
        };
        self.position += 1;
        self.skip_blanks();
        if !self.take_operator(b")") {
            return Err(if self.at_end() { self.incomplete("`)'") } else { self.unexpected() });
        }
        self.skip_line_breaks()?;
        if self.at_end() {
            return Err(self.incomplete("a function body"));
        }
        let Some(body) = self.compound_command()? else {
            return Err(self.error(ParseErrorKind::Expected("a function body must be a compound command")));
        };
        let redirections = self.trailing_redirections()?;
        Ok(Command::Function(FunctionDefinition { name, body: Rc::new((body, redirections)) }))
    }

    // ---- words ---------------------------------------------------------

    /// Reads a word in `mode` up to where that mode ends it (not consuming
    /// the ending character).
    fn word(&mut self, mode: WordMode) -> Result<Word> {
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let mut parenthesis_depth = 0usize;
        loop {
            let Some(byte) = self.peek() else {
                match mode {
                    WordMode::Unquoted | WordMode::HereDocument => break,
                    WordMode::DoubleQuoted => return Err(self.incomplete("matching `\"'")),
                    WordMode::UnquotedBrace | WordMode::DoubleQuotedBrace => {
                        return Err(self.incomplete("matching `}'"))
                    }
                    WordMode::Arithmetic => return Err(self.incomplete("matching `))'")),
                }
            };
            match (mode, byte) {
                (WordMode::Unquoted, _) if is_blank(byte) || byte == b'\n' || is_operator_start(byte) => break,
                (WordMode::DoubleQuoted, b'"') => break,
                (WordMode::UnquotedBrace | WordMode::DoubleQuotedBrace, b'}') => break,
                (WordMode::Arithmetic, b'(') => {
                    parenthesis_depth += 1;
                    literal.push(byte);
                    self.position += 1;
                }
                (WordMode::Arithmetic, b')') => {
                    if parenthesis_depth == 0 {
                        break;
                    }
                    parenthesis_depth -= 1;
                    literal.push(byte);
                    self.position += 1;
                }
                (_, b'\\') => {
                    let next = self.peek_at(1);
                    match next {
                        Some(b'\n') => self.position += 2,
                        None if !self.complete_input => return Err(self.incomplete("a line after `\\'")),
                        // A backslash ending a script stands for itself.
                        None if mode == WordMode::Unquoted => {
                            flush_literal(&mut parts, &mut literal);
                            parts.push(WordPart::Escaped(b'\\'));
                            self.position += 1;
                        }
                        None if mode == WordMode::HereDocument => {
                            literal.push(b'\\');
                            self.position += 1;
                        }
                        None => {
                            self.position += 1;
                        }
                        Some(next) if mode.quoted() => {
                            if !mode.escapable(next) {
                                literal.push(b'\\');
                            }
                            literal.push(next);
                            self.position += 2;
                        }
                        Some(next) => {
                            flush_literal(&mut parts, &mut literal);
                            parts.push(WordPart::Escaped(next));
                            self.position += 2;
                        }
                    }
                }
                (WordMode::Unquoted | WordMode::UnquotedBrace, b'\'') => {
                    flush_literal(&mut parts, &mut literal);
                    self.position += 1;
                    let start = self.position;
                    let Some(length) = self.text[start..].iter().position(|&byte| byte == b'\'') else {
                        self.position = self.text.len();
                        return Err(self.incomplete("matching `''"));
                    };
                    parts.push(WordPart::SingleQuoted(self.text[start..start + length].to_vec()));
                    self.position = start + length + 1;
                }
                (WordMode::Unquoted | WordMode::UnquotedBrace | WordMode::DoubleQuotedBrace, b'"') => {
                    flush_literal(&mut parts, &mut literal);
                    self.position += 1;
                    self.enter()?;
                    let inner = self.word(WordMode::DoubleQuoted);
                    self.leave();
                    let inner = inner?;
                    // word(DoubleQuoted) stops only at the closing quote.
                    self.position += 1;
                    parts.push(WordPart::DoubleQuoted(inner.parts));
                }
                (_, b'$') => match self.dollar(mode)? {
                    Some(part) => {
                        flush_literal(&mut parts, &mut literal);
                        parts.push(part);
                    }
                    None => {
                        literal.push(b'$');
                        self.position += 1;
                    }
                },
                (_, b'`') => {
                    flush_literal(&mut parts, &mut literal);
                    let program = self.backquoted(mode)?;
                    parts.push(WordPart::CommandSubstitution(program));
                }
                _ => {
                    literal.push(byte);
                    self.position += 1;
                }
            }
        }
        flush_literal(&mut parts, &mut literal);
        Ok(Word { parts })
    }

    /// An expansion starting with `$` at the current position, or `None`
    /// when this `$` is a literal dollar sign.
    fn dollar(&mut self, mode: WordMode) -> Result<Option<WordPart>> {
        let next = self.peek_at(1);
        match next {
            Some(b'{') => {
                self.position += 2;
                self.enter()?;
                let expansion = self.braced_parameter(mode);
                self.leave();
                Ok(Some(WordPart::Parameter(expansion?)))
            }
            Some(b'(') => {
                // `$((` is arithmetic when it ends with `))`; otherwise it is
                // a command substitution starting with a subshell.
                if self.peek_at(2) == Some(b'(') {
                    let start = self.position;
                    self.position += 3;
                    self.enter()?;
                    let inner = self.word(WordMode::Arithmetic);
                    self.leave();
                    match inner {
                        Ok(inner) if self.text[self.position..].starts_with(b"))") => {
                            self.position += 2;
                            return Ok(Some(WordPart::Arithmetic(inner.parts)));
                        }
                        _ => self.position = start,
                    }
                }
                self.position += 2;
                self.enter()?;
                let program = self.command_substitution_body();
                self.leave();
                Ok(Some(WordPart::CommandSubstitution(program?)))
            }
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'_' => {
                self.position += 1;
                let start = self.position;
                while matches!(self.peek(), Some(byte) if byte.is_ascii_alphanumeric() || byte == b'_') {
                    self.position += 1;
                }
                let name = self.text[start..self.position].to_vec();
                Ok(Some(WordPart::Parameter(ParameterExpansion { name, operator: ParameterOperator::Plain })))
            }
            Some(byte) if is_special_parameter(byte) => {
                self.position += 2;
                Ok(Some(WordPart::Parameter(ParameterExpansion {
                    name: alloc::vec![byte],
                    operator: ParameterOperator::Plain,
                })))
            }
            _ => Ok(None),
        }
    }

    /// `${…}` after the `${`.
    fn braced_parameter(&mut self, mode: WordMode) -> Result<ParameterExpansion> {
        let inner_mode = if mode.quoted() { WordMode::DoubleQuotedBrace } else { WordMode::UnquotedBrace };
        // `${#}` is $#; `${#name}` is the length of name.
        if self.peek() == Some(b'#') && self.peek_at(1) != Some(b'}') {
            let after = self.peek_at(1);
            let is_length = match after {
                Some(byte) if byte.is_ascii_alphanumeric() || byte == b'_' => true,
                Some(byte) if is_special_parameter(byte) => self.peek_at(2) == Some(b'}'),
                _ => false,
            };
            if is_length {
                self.position += 1;
                let name = self.parameter_name()?;
                if self.peek() != Some(b'}') {
                    return Err(self.bad_substitution());
                }
                self.position += 1;
                return Ok(ParameterExpansion { name, operator: ParameterOperator::Length });
            }
        }
        let name = self.parameter_name()?;
        let Some(byte) = self.peek() else { return Err(self.incomplete("matching `}'")) };
        let colon = byte == b':';
        if colon {
            self.position += 1;
        }
        let operator_byte = self.peek();
        let operator = match operator_byte {
            Some(b'}') if !colon => {
                self.position += 1;
                return Ok(ParameterExpansion { name, operator: ParameterOperator::Plain });
            }
            Some(b'-' | b'=' | b'?' | b'+') => {
                self.position += 1;
                let word = self.word(inner_mode)?;
                match operator_byte {
                    Some(b'-') => ParameterOperator::Default { colon, word },
                    Some(b'=') => ParameterOperator::Assign { colon, word },
                    Some(b'?') => ParameterOperator::Error { colon, word },
                    _ => ParameterOperator::Alternative { colon, word },
                }
            }
            Some(b'%' | b'#') if !colon => {
                self.position += 1;
                let longest = self.peek() == operator_byte;
                if longest {
                    self.position += 1;
                }
                let pattern = self.word(inner_mode)?;
                if operator_byte == Some(b'%') {
                    ParameterOperator::RemoveSuffix { longest, pattern }
                } else {
                    ParameterOperator::RemovePrefix { longest, pattern }
                }
            }
            None => return Err(self.incomplete("matching `}'")),
            _ => return Err(self.bad_substitution()),
        };
        // word() stopped at the closing brace.
        self.position += 1;
        Ok(ParameterExpansion { name, operator })
    }

    fn bad_substitution(&self) -> ParseError {
        self.error(ParseErrorKind::BadSubstitution)
    }

    fn parameter_name(&mut self) -> Result<Vec<u8>> {
        let start = self.position;
        match self.peek() {
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'_' => {
                while matches!(self.peek(), Some(byte) if byte.is_ascii_alphanumeric() || byte == b'_') {
                    self.position += 1;
                }
            }
            Some(byte) if byte.is_ascii_digit() => {
                while matches!(self.peek(), Some(byte) if byte.is_ascii_digit()) {
                    self.position += 1;
                }
            }
            Some(byte) if is_special_parameter(byte) => self.position += 1,
            None => return Err(self.incomplete("matching `}'")),
            _ => return Err(self.bad_substitution()),
        }
        Ok(self.text[start..self.position].to_vec())
    }

    /// The program of `$( … )` after the `$(`, consuming the `)`. Its
    /// here-documents are its own: they must end inside the parentheses.
    fn command_substitution_body(&mut self) -> Result<Program> {
        let outer_pending = core::mem::take(&mut self.pending);
        let outer_bodies = core::mem::take(&mut self.bodies);
        let result =
            self.list(Terminators { close_parenthesis: true, allow_empty: true, ..AT_END_ONLY }, "matching `)'");
        let result = result.and_then(|mut program| {
            if !self.take_operator(b")") {
                return Err(self.unexpected());
            }
            if !self.pending.is_empty() {
                return Err(self.error(ParseErrorKind::Expected("a here-document in `$( )' must end before the `)'")));
            }
            self.place_here_documents(&mut program)?;
            Ok(program)
        });
        self.pending = outer_pending;
        self.bodies = outer_bodies;
        result
    }

    /// `` `…` ``: the text up to the closing backquote, with `\$`, `` \` ``
    /// and `\\` (and `\"` inside double quotes) unescaped, parsed as a program.
    fn backquoted(&mut self, mode: WordMode) -> Result<Program> {
        self.position += 1;
        let mut inner = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.incomplete("matching backquote")),
                Some(b'`') => {
                    self.position += 1;
                    break;
                }
                Some(b'\\') => {
                    match self.peek_at(1) {
                        Some(next @ (b'$' | b'`' | b'\\')) => inner.push(next),
                        Some(b'"') if mode.quoted() => inner.push(b'"'),
                        Some(next) => {
                            inner.push(b'\\');
                            inner.push(next);
                        }
                        None => return Err(self.incomplete("matching backquote")),
                    }
                    self.position += 2;
                }
                Some(byte) => {
                    inner.push(byte);
                    self.position += 1;
                }
            }
        }
        self.enter()?;
        let result = (|| {
            let mut parser = Parser::new(&inner, true);
            parser.depth = self.depth;
            let mut program = Program::default();
            while let Some(part) = parser.next_complete_command()? {
                program.items.extend(part.items);
            }
            Ok(program)
        })();
        self.leave();
        result.map_err(|error: ParseError| ParseError { line: self.line(), kind: error.kind })
    }

    // ---- here-documents -----------------------------------------------

    /// Reads one here-document body, from the current position (the start
    /// of the line after its `<<`) through its delimiter line.
    fn here_document_body(&mut self, document: &PendingHereDocument) -> Result<Vec<WordPart>> {
        let mut raw = Vec::new();
        loop {
            if self.at_end() {
                if self.complete_input {
                    break;
                }
                return Err(self.incomplete("here-document delimiter"));
            }
            let start = self.position;
            let end = self.text[start..]
                .iter()
                .position(|&byte| byte == b'\n')
                .map_or(self.text.len(), |length| start + length);
            let mut line = &self.text[start..end];
            self.position = (end + 1).min(self.text.len());
            if document.strip_tabs {
                while let Some((b'\t', rest)) = line.split_first() {
                    line = rest;
                }
            }
            if line == document.delimiter.as_slice() {
                break;
            }
            if end == self.text.len() && !self.complete_input {
                // A last line without its newline may still grow.
                self.position = start;
                return Err(self.incomplete("here-document delimiter"));
            }
            raw.extend_from_slice(line);
            raw.push(b'\n');
        }
        if document.quoted {
            return Ok(if raw.is_empty() { Vec::new() } else { alloc::vec![WordPart::Literal(raw)] });
        }
        let line = self.line();
        let mut parser = Parser::new(&raw, true);
        parser.depth = self.depth;
        let word = parser.word(WordMode::HereDocument).map_err(|error| ParseError { line, kind: error.kind })?;
        Ok(word.parts)
    }

    /// Moves the bodies read so far into the here-documents of `program`, in order.
    fn place_here_documents(&mut self, program: &mut Program) -> Result<()> {
        if !self.pending.is_empty() {
            return Err(self.incomplete("here-document body"));
        }
        let mut found = Vec::new();
        program.here_documents_mut(&mut found);
        let bodies = core::mem::take(&mut self.bodies);
        debug_assert_eq!(found.len(), bodies.len());
        for (document, body) in found.into_iter().zip(bodies) {
            document.body = body;
        }
        Ok(())
    }
}

fn flush_literal(parts: &mut Vec<WordPart>, literal: &mut Vec<u8>) {
    if !literal.is_empty() {
        parts.push(WordPart::Literal(core::mem::take(literal)));
    }
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn is_operator_start(byte: u8) -> bool {
    matches!(byte, b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')')
}

/// `NAME=value` as an assignment, if the word has that form (the name and
/// `=` unquoted).
fn as_assignment(word: &Word) -> Option<Assignment> {
    let Some(WordPart::Literal(first)) = word.parts.first() else { return None };
    let equals = first.iter().position(|&byte| byte == b'=')?;
    if !is_name(&first[..equals]) {
        return None;
    }
    let mut value = Vec::new();
    if equals + 1 < first.len() {
        value.push(WordPart::Literal(first[equals + 1..].to_vec()));
    }
    value.extend(word.parts[1..].iter().cloned());
    Some(Assignment { name: first[..equals].to_vec(), value: Word { parts: value } })
}

/// The delimiter of a here-document with quotes removed, and whether any
/// part of it was quoted.
fn here_document_delimiter(word: &Word) -> (Vec<u8>, bool) {
    let mut text = Vec::new();
    let mut quoted = false;
    fn collect(parts: &[WordPart], text: &mut Vec<u8>, quoted: &mut bool) {
        for part in parts {
            match part {
                WordPart::Literal(literal) => text.extend_from_slice(literal),
                WordPart::Escaped(byte) => {
                    *quoted = true;
                    text.push(*byte);
                }
                WordPart::SingleQuoted(literal) => {
                    *quoted = true;
                    text.extend_from_slice(literal);
                }
                WordPart::DoubleQuoted(inner) => {
                    *quoted = true;
                    collect(inner, text, quoted);
                }
                // Expansions are not performed on the delimiter; their
                // text as written is the delimiter.
                WordPart::Parameter(expansion) => {
                    text.push(b'$');
                    text.extend_from_slice(&expansion.name);
                }
                WordPart::CommandSubstitution(_) | WordPart::Arithmetic(_) => text.extend_from_slice(b"$(...)"),
            }
        }
    }
    collect(&word.parts, &mut text, &mut quoted);
    (text, quoted)
}

#[cfg(test)]
mod tests;
