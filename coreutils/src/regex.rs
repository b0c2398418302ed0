//! POSIX regular expressions, basic (BRE) and extended (ERE), with GNU's
//! extensions, for grep (and anything else that needs them). Pure: no
//! system calls, tested against a model matcher and against GNU grep.
//!
//! Syntax. ERE: `|`, `( )`, `* + ? {n} {n,} {,m} {n,m}`, `^ $`, `.`,
//! brackets (`[a-z]`, `[^...]`, `[[:alpha:]]`, `[=a=]`, `[.a.]`), `\1`-`\9`
//! back references, `\w \W \s \S \b \B \< \> \` \'`, and `\` quoting any
//! other character. BRE: the same with `\( \) \{ \} \| \+ \?` as the
//! operators (`+ ? | { } ( )` are then plain characters), `*` literal at
//! the start of an expression, `^` an anchor only at the start, `$` only
//! at the end. A `{` that does not start a valid interval is a plain
//! character in an ERE, as in GNU's matcher.
//!
//! Matching is POSIX leftmost-longest over bytes (the C locale). Without
//! back references a Pike VM runs in time linear in the text for each
//! start; with them a backtracking search explores every way to match,
//! within a step budget (`Error::TooComplex` past it).
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

/// A parse or match failure, with GNU's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    UnmatchedBracket,
    UnmatchedOpenParenthesis,
    UnmatchedCloseParenthesis,
    UnmatchedBrace,
    InvalidInterval,
    InvalidBackReference,
    TrailingBackslash,
    InvalidRangeEnd,
    InvalidClassName,
    ClassSyntax,
    TooBig,
    TooComplex,
}

impl Error {
    pub fn message(self) -> &'static str {
        match self {
            Error::UnmatchedBracket => "Unmatched [, [^, [:, [., or [=",
            Error::UnmatchedOpenParenthesis => "Unmatched ( or \\(",
            Error::UnmatchedCloseParenthesis => "Unmatched ) or \\)",
            Error::UnmatchedBrace => "Unmatched \\{",
            Error::InvalidInterval => "Invalid content of \\{\\}",
            Error::InvalidBackReference => "Invalid back reference",
            Error::TrailingBackslash => "Trailing backslash",
            Error::InvalidRangeEnd => "Invalid range end",
            Error::InvalidClassName => "Invalid character class name",
            Error::ClassSyntax => "character class syntax is [[:space:]], not [:space:]",
            Error::TooBig => "Regular expression too big",
            Error::TooComplex => "Regular expression too complex to match",
        }
    }
}

/// Which syntax a pattern is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Basic,
    Extended,
}

/// A set of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub const EMPTY: ByteSet = ByteSet([0; 4]);

    pub fn insert(&mut self, byte: u8) {
        self.0[(byte >> 6) as usize] |= 1 << (byte & 63);
    }

    pub fn contains(&self, byte: u8) -> bool {
        self.0[(byte >> 6) as usize] & (1 << (byte & 63)) != 0
    }

    fn invert(&mut self) {
        for word in &mut self.0 {
            *word = !*word;
        }
    }

    fn insert_where(&mut self, test: impl Fn(u8) -> bool) {
        for byte in 0..=255u8 {
            if test(byte) {
                self.insert(byte);
            }
        }
    }
}

/// The parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Empty,
    Literal(u8),
    Any,
    Set(Box<ByteSet>),
    LineStart,
    LineEnd,
    WordBoundary,
    NotWordBoundary,
    WordStart,
    WordEnd,
    Group(Box<Node>, usize),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat { node: Box<Node>, minimum: u32, maximum: Option<u32> },
    Backreference(usize),
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn class(name: &[u8]) -> Option<fn(u8) -> bool> {
    Some(match name {
        b"alpha" => |byte: u8| byte.is_ascii_alphabetic(),
        b"digit" => |byte: u8| byte.is_ascii_digit(),
        b"alnum" => |byte: u8| byte.is_ascii_alphanumeric(),
        b"upper" => |byte: u8| byte.is_ascii_uppercase(),
        b"lower" => |byte: u8| byte.is_ascii_lowercase(),
        b"space" => |byte: u8| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => |byte: u8| byte == b' ' || byte == b'\t',
        b"punct" => |byte: u8| byte.is_ascii_punctuation(),
        b"print" => |byte: u8| (0x20..0x7f).contains(&byte),
        b"graph" => |byte: u8| byte.is_ascii_graphic(),
        b"cntrl" => |byte: u8| byte.is_ascii_control(),
        b"xdigit" => |byte: u8| byte.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// The largest expansion of counted repetitions we build.
const MAXIMUM_PROGRAM: usize = 200_000;

struct Parser<'a> {
    pattern: &'a [u8],
    index: usize,
    syntax: Syntax,
    groups: usize,
    /// Groups whose `)` has been seen (back references may only name those).
    closed: Vec<usize>,
    ignore_case: bool,
    /// GNU grep's warnings ("* at start of expression").
    warnings: Vec<&'static str>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.pattern.get(self.index).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.pattern.get(self.index + offset).copied()
    }

    fn at_alternation(&self) -> bool {
        match self.syntax {
            Syntax::Extended => self.peek() == Some(b'|'),
            Syntax::Basic => self.peek() == Some(b'\\') && self.peek_at(1) == Some(b'|'),
        }
    }

    fn at_close(&self) -> bool {
        match self.syntax {
            Syntax::Extended => self.peek() == Some(b')'),
            Syntax::Basic => self.peek() == Some(b'\\') && self.peek_at(1) == Some(b')'),
        }
    }

    fn alternation(&mut self, depth: usize) -> Result<Node, Error> {
        let mut branches = vec![self.concatenation(depth)?];
        while self.at_alternation() {
            self.index += if self.syntax == Syntax::Extended { 1 } else { 2 };
            branches.push(self.concatenation(depth)?);
        }
        Ok(if branches.len() == 1 { branches.pop().unwrap_or(Node::Empty) } else { Node::Alternate(branches) })
    }

    fn concatenation(&mut self, depth: usize) -> Result<Node, Error> {
        let mut items: Vec<Node> = Vec::new();
        loop {
            if self.index >= self.pattern.len() || self.at_alternation() {
                break;
            }
            if self.at_close() {
                if depth == 0 {
                    if self.syntax == Syntax::Extended {
                        // A lone ')' in an ERE is a plain character, as in GNU's matcher.
                        self.index += 1;
                        let atom = self.quantifiers(Node::Literal(b')'))?;
                        items.push(atom);
                        continue;
                    }
                    return Err(Error::UnmatchedCloseParenthesis);
                }
                break;
            }
            // At the start of an expression, a group or a branch (after any '^').
            let at_start = items.iter().all(|item| *item == Node::LineStart);
            let atom = self.atom(depth, at_start)?;
            let atom = self.quantifiers(atom)?;
            items.push(atom);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    /// A BRE `$` is an anchor only at the end of the expression or before `\)` or `\|`.
    fn dollar_is_anchor(&self) -> bool {
        let after = self.index + 1;
        after == self.pattern.len()
            || (self.pattern.get(after) == Some(&b'\\')
                && matches!(self.pattern.get(after + 1), Some(b')') | Some(b'|')))
    }

    fn literal(&self, byte: u8) -> Node {
        if self.ignore_case && byte.is_ascii_alphabetic() {
            let mut set = ByteSet::EMPTY;
            set.insert(byte.to_ascii_lowercase());
            set.insert(byte.to_ascii_uppercase());
            Node::Set(Box::new(set))
        } else {
            Node::Literal(byte)
        }
    }

    fn atom(&mut self, depth: usize, at_start: bool) -> Result<Node, Error> {
        let byte = self.peek().ok_or(Error::TrailingBackslash)?;
        match (self.syntax, byte) {
            (_, b'.') => {
                self.index += 1;
                let mut set = ByteSet::EMPTY;
                set.insert_where(|byte| byte != b'\n');
                Ok(Node::Set(Box::new(set)))
            }
            (_, b'[') => {
                self.index += 1;
                self.bracket()
            }
            (Syntax::Extended, b'^') => {
                self.index += 1;
                Ok(Node::LineStart)
            }
            (Syntax::Basic, b'^') if at_start => {
                self.index += 1;
                Ok(Node::LineStart)
            }
            (Syntax::Extended, b'$') => {
                self.index += 1;
                Ok(Node::LineEnd)
            }
            (Syntax::Basic, b'$') if self.dollar_is_anchor() => {
                self.index += 1;
                Ok(Node::LineEnd)
            }
            (Syntax::Extended, b'(') => {
                self.index += 1;
                self.group(depth)
            }
            (Syntax::Extended, b'*' | b'+' | b'?') if at_start => {
                // A leading quantifier quantifies nothing: GNU ignores it, with a warning.
                self.index += 1;
                self.warnings.push(match byte {
                    b'*' => "* at start of expression",
                    b'+' => "+ at start of expression",
                    _ => "? at start of expression",
                });
                Ok(Node::Empty)
            }
            (Syntax::Extended, b'{') if at_start => {
                self.index += 1;
                if self.interval()?.is_some() {
                    self.warnings.push("{...} at start of expression");
                    Ok(Node::Empty)
                } else {
                    Ok(self.literal(byte))
                }
            }
            (Syntax::Basic, b'*') if at_start => {
                self.index += 1;
                Ok(self.literal(byte))
            }
            (_, b'\\') => {
                let escaped = self.peek_at(1).ok_or(Error::TrailingBackslash)?;
                self.index += 2;
                match (self.syntax, escaped) {
                    (Syntax::Basic, b'(') => self.group(depth),
                    (Syntax::Basic, b'{') if at_start => Ok(self.literal(b'{')),
                    (_, b'1'..=b'9') => {
                        let number = (escaped - b'0') as usize;
                        if !self.closed.contains(&number) {
                            return Err(Error::InvalidBackReference);
                        }
                        Ok(Node::Backreference(number))
                    }
                    (_, b'w') | (_, b'W') | (_, b's') | (_, b'S') => {
                        let mut set = ByteSet::EMPTY;
                        match escaped {
                            b'w' | b'W' => set.insert_where(is_word),
                            _ => set.insert_where(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)),
                        }
                        if escaped.is_ascii_uppercase() {
                            set.invert();
                        }
                        Ok(Node::Set(Box::new(set)))
                    }
                    (_, b'b') => Ok(Node::WordBoundary),
                    (_, b'B') => Ok(Node::NotWordBoundary),
                    (_, b'<') => Ok(Node::WordStart),
                    (_, b'>') => Ok(Node::WordEnd),
                    (_, b'`') => Ok(Node::LineStart),
                    (_, b'\'') => Ok(Node::LineEnd),
                    (Syntax::Basic, b'+' | b'?') if at_start => Ok(self.literal(escaped)),
                    (_, other) => Ok(self.literal(other)),
                }
            }
            _ => {
                self.index += 1;
                Ok(self.literal(byte))
            }
        }
    }

    fn group(&mut self, depth: usize) -> Result<Node, Error> {
        self.groups += 1;
        let number = self.groups;
        let inner = self.alternation(depth + 1)?;
        if !self.at_close() {
            return Err(Error::UnmatchedOpenParenthesis);
        }
        self.index += if self.syntax == Syntax::Extended { 1 } else { 2 };
        self.closed.push(number);
        Ok(Node::Group(Box::new(inner), number))
    }

    /// Parses "n", "n,", ",m", "n,m" and the closing brace; None when it is
    /// not a valid interval (the caller decides what that means).
    fn interval(&mut self) -> Result<Option<(u32, Option<u32>)>, Error> {
        let start = self.index;
        let number = |parser: &mut Parser<'_>| -> Option<u32> {
            let begin = parser.index;
            let mut value: u32 = 0;
            while let Some(digit) = parser.peek().filter(u8::is_ascii_digit) {
                value = value.saturating_mul(10).saturating_add((digit - b'0') as u32);
                parser.index += 1;
            }
            (parser.index > begin).then_some(value)
        };
        let minimum = number(self);
        let maximum = if self.peek() == Some(b',') {
            self.index += 1;
            number(self)
        } else {
            Some(minimum.unwrap_or(0))
        };
        let closed = match self.syntax {
            Syntax::Extended => {
                if self.peek() == Some(b'}') {
                    self.index += 1;
                    true
                } else {
                    false
                }
            }
            Syntax::Basic => {
                if self.peek() == Some(b'\\') && self.peek_at(1) == Some(b'}') {
                    self.index += 2;
                    true
                } else {
                    false
                }
            }
        };
        let had_comma = self.pattern[start..self.index].contains(&b',');
        if !closed || (minimum.is_none() && !had_comma) {
            if self.syntax == Syntax::Basic {
                return Err(if closed { Error::InvalidInterval } else { Error::UnmatchedBrace });
            }
            self.index = start;
            return Ok(None);
        }
        let minimum = minimum.unwrap_or(0);
        if let Some(maximum) = maximum {
            if maximum < minimum {
                return Err(Error::InvalidInterval);
            }
        }
        if minimum > 32767 || maximum.is_some_and(|maximum| maximum > 32767) {
            return Err(Error::TooBig);
        }
        Ok(Some((minimum, if had_comma { maximum } else { Some(minimum) })))
    }

    fn quantifiers(&mut self, mut atom: Node) -> Result<Node, Error> {
        loop {
            let (minimum, maximum) = match (self.syntax, self.peek(), self.peek_at(1)) {
                (_, Some(b'*'), _) => {
                    self.index += 1;
                    (0, None)
                }
                (Syntax::Extended, Some(b'+'), _) => {
                    self.index += 1;
                    (1, None)
                }
                (Syntax::Extended, Some(b'?'), _) => {
                    self.index += 1;
                    (0, Some(1))
                }
                (Syntax::Basic, Some(b'\\'), Some(b'+')) => {
                    self.index += 2;
                    (1, None)
                }
                (Syntax::Basic, Some(b'\\'), Some(b'?')) => {
                    self.index += 2;
                    (0, Some(1))
                }
                (Syntax::Extended, Some(b'{'), _) => {
                    self.index += 1;
                    match self.interval()? {
                        Some(bounds) => bounds,
                        None => {
                            // Not an interval: '{' is a plain character after the atom.
                            self.index -= 1;
                            return Ok(atom);
                        }
                    }
                }
                (Syntax::Basic, Some(b'\\'), Some(b'{')) => {
                    self.index += 2;
                    match self.interval()? {
                        Some(bounds) => bounds,
                        None => return Err(Error::InvalidInterval),
                    }
                }
                _ => return Ok(atom),
            };
            atom = Node::Repeat { node: Box::new(atom), minimum, maximum };
        }
    }

    fn bracket(&mut self) -> Result<Node, Error> {
        let mut set = ByteSet::EMPTY;
        let negated = self.peek() == Some(b'^');
        if negated {
            self.index += 1;
        }
        let mut first = true;
        loop {
            let byte = self.peek().ok_or(Error::UnmatchedBracket)?;
            if byte == b']' && !first {
                self.index += 1;
                break;
            }
            first = false;
            // One element: a class, an equivalence class, a collating symbol or a byte.
            let low = if byte == b'[' && matches!(self.peek_at(1), Some(b':') | Some(b'=') | Some(b'.')) {
                let kind = self.peek_at(1).unwrap_or(b':');
                let start = self.index + 2;
                let mut end = start;
                while end + 1 < self.pattern.len() && !(self.pattern[end] == kind && self.pattern[end + 1] == b']') {
                    end += 1;
                }
                if end + 1 >= self.pattern.len() {
                    return Err(Error::UnmatchedBracket);
                }
                let name = &self.pattern[start..end];
                self.index = end + 2;
                match kind {
                    b':' => {
                        let test = class(name).ok_or(Error::InvalidClassName)?;
                        set.insert_where(test);
                        if self.ignore_case && (name == b"upper" || name == b"lower") {
                            set.insert_where(|byte| byte.is_ascii_alphabetic());
                        }
                        // A class cannot start a range.
                        if self.peek() == Some(b'-') && self.peek_at(1).is_some_and(|next| next != b']') {
                            return Err(Error::InvalidRangeEnd);
                        }
                        continue;
                    }
                    _ => {
                        if name.len() != 1 {
                            return Err(Error::UnmatchedBracket);
                        }
                        name[0]
                    }
                }
            } else {
                self.index += 1;
                byte
            };
            // A range "low-high" (a '-' before ']' is a plain '-').
            if self.peek() == Some(b'-') && self.peek_at(1).is_some_and(|next| next != b']') {
                self.index += 1;
                let high_byte = self.peek().ok_or(Error::UnmatchedBracket)?;
                let high = if high_byte == b'[' && matches!(self.peek_at(1), Some(b'=') | Some(b'.')) {
                    let kind = self.peek_at(1).unwrap_or(b'.');
                    let start = self.index + 2;
                    if self.pattern.get(start + 1) == Some(&kind) && self.pattern.get(start + 2) == Some(&b']') {
                        self.index = start + 3;
                        self.pattern[start]
                    } else {
                        return Err(Error::UnmatchedBracket);
                    }
                } else if high_byte == b'[' && self.peek_at(1) == Some(b':') {
                    return Err(Error::InvalidRangeEnd);
                } else {
                    self.index += 1;
                    high_byte
                };
                if high < low {
                    return Err(Error::InvalidRangeEnd);
                }
                for member in low..=high {
                    self.add(&mut set, member);
                }
            } else {
                self.add(&mut set, low);
            }
        }
        if negated {
            set.invert();
            // A negated bracket never matches a newline (GNU's RE_HAT_LISTS_NOT_NEWLINE).
            let mut newline = ByteSet::EMPTY;
            newline.insert(b'\n');
            for (word, excluded) in set.0.iter_mut().zip(newline.0) {
                *word &= !excluded;
            }
        }
        Ok(Node::Set(Box::new(set)))
    }

    fn add(&self, set: &mut ByteSet, byte: u8) {
        set.insert(byte);
        if self.ignore_case {
            set.insert(byte.to_ascii_lowercase());
            set.insert(byte.to_ascii_uppercase());
        }
    }
}

/// Parses `pattern`.
pub fn parse(pattern: &[u8], syntax: Syntax, ignore_case: bool) -> Result<(Node, usize), Error> {
    // ("[:space:]" alone, a common mistake, is refused as GNU grep refuses it.)
    parse_with_warnings(pattern, syntax, ignore_case).map(|(node, groups, _)| (node, groups))
}

/// Parses `pattern`, also returning GNU grep's warnings about it.
pub fn parse_with_warnings(
    pattern: &[u8],
    syntax: Syntax,
    ignore_case: bool,
) -> Result<(Node, usize, Vec<&'static str>), Error> {
    if pattern.len() >= 4
        && pattern.starts_with(b"[:")
        && pattern.ends_with(b":]")
        && class(&pattern[2..pattern.len() - 2]).is_some()
    {
        return Err(Error::ClassSyntax);
    }
    let mut parser =
        Parser { pattern, index: 0, syntax, groups: 0, closed: Vec::new(), ignore_case, warnings: Vec::new() };
    let node = parser.alternation(0)?;
    if parser.index < pattern.len() {
        return Err(Error::UnmatchedCloseParenthesis);
    }
    Ok((node, parser.groups, parser.warnings))
}

/// One instruction of the compiled program.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Instruction {
    Byte(u8),
    Set(Box<ByteSet>),
    Split(usize, usize),
    Jump(usize),
    Save(usize),
    LineStart,
    LineEnd,
    WordBoundary,
    NotWordBoundary,
    WordStart,
    WordEnd,
    /// For grep -w: no word character just before / just after.
    NotWordBefore,
    NotWordAfter,
    Backreference(usize),
    Match,
}

struct Compiler {
    program: Vec<Instruction>,
}

impl Compiler {
    fn emit(&mut self, instruction: Instruction) -> Result<usize, Error> {
        if self.program.len() >= MAXIMUM_PROGRAM {
            return Err(Error::TooBig);
        }
        self.program.push(instruction);
        Ok(self.program.len() - 1)
    }

    fn compile(&mut self, node: &Node) -> Result<(), Error> {
        match node {
            Node::Empty => {}
            Node::Literal(byte) => {
                self.emit(Instruction::Byte(*byte))?;
            }
            Node::Any => {
                let mut set = ByteSet::EMPTY;
                set.insert_where(|byte| byte != b'\n');
                self.emit(Instruction::Set(Box::new(set)))?;
            }
            Node::Set(set) => {
                self.emit(Instruction::Set(set.clone()))?;
            }
            Node::LineStart => {
                self.emit(Instruction::LineStart)?;
            }
            Node::LineEnd => {
                self.emit(Instruction::LineEnd)?;
            }
            Node::WordBoundary => {
                self.emit(Instruction::WordBoundary)?;
            }
            Node::NotWordBoundary => {
                self.emit(Instruction::NotWordBoundary)?;
            }
            Node::WordStart => {
                self.emit(Instruction::WordStart)?;
            }
            Node::WordEnd => {
                self.emit(Instruction::WordEnd)?;
            }
            Node::Backreference(number) => {
                self.emit(Instruction::Backreference(*number))?;
            }
            Node::Group(inner, number) => {
                self.emit(Instruction::Save(number * 2))?;
                self.compile(inner)?;
                self.emit(Instruction::Save(number * 2 + 1))?;
            }
            Node::Concat(items) => {
                for item in items {
                    self.compile(item)?;
                }
            }
            Node::Alternate(branches) => {
                let mut jumps = Vec::new();
                for (index, branch) in branches.iter().enumerate() {
                    if index + 1 < branches.len() {
                        let split = self.emit(Instruction::Split(0, 0))?;
                        self.compile(branch)?;
                        jumps.push(self.emit(Instruction::Jump(0))?);
                        let next = self.program.len();
                        self.program[split] = Instruction::Split(split + 1, next);
                    } else {
                        self.compile(branch)?;
                    }
                }
                let end = self.program.len();
                for jump in jumps {
                    self.program[jump] = Instruction::Jump(end);
                }
            }
            Node::Repeat { node, minimum, maximum } => {
                for _ in 0..*minimum {
                    self.compile(node)?;
                }
                match maximum {
                    None => {
                        // x*: L: split(body, end); body; jump L
                        let split = self.emit(Instruction::Split(0, 0))?;
                        self.compile(node)?;
                        self.emit(Instruction::Jump(split))?;
                        let end = self.program.len();
                        self.program[split] = Instruction::Split(split + 1, end);
                    }
                    Some(maximum) => {
                        let mut splits = Vec::new();
                        for _ in *minimum..*maximum {
                            splits.push(self.emit(Instruction::Split(0, 0))?);
                            self.compile(node)?;
                        }
                        let end = self.program.len();
                        for split in splits {
                            self.program[split] = Instruction::Split(split + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn has_backreference(node: &Node) -> bool {
    match node {
        Node::Backreference(_) => true,
        Node::Group(inner, _) => has_backreference(inner),
        Node::Concat(items) | Node::Alternate(items) => items.iter().any(has_backreference),
        Node::Repeat { node, .. } => has_backreference(node),
        _ => false,
    }
}

/// A compiled regular expression.
#[derive(Clone, Debug)]
pub struct Regex {
    program: Vec<Instruction>,
    groups: usize,
    backreferences: bool,
    /// What GNU grep warns about this pattern.
    pub warnings: Vec<&'static str>,
}

/// The budget of backtracking steps for one search.
const STEP_BUDGET: u64 = 20_000_000;

/// Where a match must sit (grep's -w and -x).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whole {
    Anywhere,
    /// Not preceded or followed by a word character.
    Words,
    /// The whole line.
    Lines,
}

impl Regex {
    pub fn new(pattern: &[u8], syntax: Syntax, ignore_case: bool) -> Result<Regex, Error> {
        Regex::with_whole(pattern, syntax, ignore_case, Whole::Anywhere)
    }

    /// A pattern whose matches must also be whole words or whole lines.
    pub fn with_whole(pattern: &[u8], syntax: Syntax, ignore_case: bool, whole: Whole) -> Result<Regex, Error> {
        let (node, groups, warnings) = parse_with_warnings(pattern, syntax, ignore_case)?;
        Regex::compile(&node, groups, whole, warnings)
    }

    /// A fixed string (grep -F): its bytes, folded with `ignore_case`.
    pub fn fixed(text: &[u8], ignore_case: bool, whole: Whole) -> Result<Regex, Error> {
        let items = text
            .iter()
            .map(|&byte| {
                if ignore_case && byte.is_ascii_alphabetic() {
                    let mut set = ByteSet::EMPTY;
                    set.insert(byte.to_ascii_lowercase());
                    set.insert(byte.to_ascii_uppercase());
                    Node::Set(Box::new(set))
                } else {
                    Node::Literal(byte)
                }
            })
            .collect();
        Regex::compile(&Node::Concat(items), 0, whole, Vec::new())
    }

    fn compile(node: &Node, groups: usize, whole: Whole, warnings: Vec<&'static str>) -> Result<Regex, Error> {
        let mut compiler = Compiler { program: Vec::new() };
        match whole {
            Whole::Anywhere => {}
            Whole::Words => {
                compiler.emit(Instruction::NotWordBefore)?;
            }
            Whole::Lines => {
                compiler.emit(Instruction::LineStart)?;
            }
        }
        compiler.compile(node)?;
        match whole {
            Whole::Anywhere => {}
            Whole::Words => {
                compiler.emit(Instruction::NotWordAfter)?;
            }
            Whole::Lines => {
                compiler.emit(Instruction::LineEnd)?;
            }
        }
        compiler.emit(Instruction::Match)?;
        Ok(Regex { program: compiler.program, groups, backreferences: has_backreference(node), warnings })
    }

    /// Whether an assertion holds at `position` of `text`.
    fn assertion_holds(instruction: &Instruction, text: &[u8], position: usize) -> bool {
        let before = position.checked_sub(1).map(|index| text[index]);
        let after = text.get(position).copied();
        let word_before = before.is_some_and(is_word);
        let word_after = after.is_some_and(is_word);
        match instruction {
            Instruction::LineStart => position == 0,
            Instruction::LineEnd => position == text.len(),
            Instruction::WordBoundary => word_before != word_after,
            Instruction::NotWordBoundary => word_before == word_after,
            Instruction::WordStart => !word_before && word_after,
            Instruction::WordEnd => word_before && !word_after,
            Instruction::NotWordBefore => !word_before,
            Instruction::NotWordAfter => !word_after,
            _ => false,
        }
    }

    /// Adds `pc` and everything it reaches without consuming a byte.
    fn add_thread(
        &self,
        list: &mut Vec<usize>,
        marks: &mut [usize],
        generation: usize,
        pc: usize,
        text: &[u8],
        position: usize,
    ) {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if marks[pc] == generation {
                continue;
            }
            marks[pc] = generation;
            match &self.program[pc] {
                Instruction::Jump(target) => stack.push(*target),
                Instruction::Split(first, second) => {
                    stack.push(*second);
                    stack.push(*first);
                }
                Instruction::Save(_) => stack.push(pc + 1),
                instruction @ (Instruction::LineStart
                | Instruction::LineEnd
                | Instruction::WordBoundary
                | Instruction::NotWordBoundary
                | Instruction::WordStart
                | Instruction::WordEnd
                | Instruction::NotWordBefore
                | Instruction::NotWordAfter) => {
                    if Self::assertion_holds(instruction, text, position) {
                        stack.push(pc + 1);
                    }
                }
                _ => list.push(pc),
            }
        }
    }

    /// Pike VM from `start`: the longest end of a match starting there, or,
    /// with `unanchored`, whether a match starts anywhere at or after it
    /// (then the end is of some match, not necessarily the longest).
    fn simulate(&self, text: &[u8], start: usize, unanchored: bool) -> Option<usize> {
        let size = self.program.len();
        let mut marks = vec![usize::MAX; size];
        let mut current: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        let mut generation = 0;
        self.add_thread(&mut current, &mut marks, generation, 0, text, start);
        let mut longest = None;
        let mut position = start;
        loop {
            if current.iter().any(|&pc| self.program[pc] == Instruction::Match) {
                longest = Some(position);
                if unanchored {
                    return longest;
                }
            }
            if position >= text.len() {
                break;
            }
            let byte = text[position];
            generation += 1;
            next.clear();
            for &pc in &current {
                let advances = match &self.program[pc] {
                    Instruction::Byte(expected) => *expected == byte,
                    Instruction::Set(set) => set.contains(byte),
                    _ => false,
                };
                if advances {
                    self.add_thread(&mut next, &mut marks, generation, pc + 1, text, position + 1);
                }
            }
            position += 1;
            if unanchored {
                self.add_thread(&mut next, &mut marks, generation, 0, text, position);
            }
            core::mem::swap(&mut current, &mut next);
            if current.is_empty() && !unanchored {
                break;
            }
        }
        longest
    }

    /// Backtracking search for programs with back references: the longest
    /// end of a match starting at `start`.
    fn backtrack(&self, text: &[u8], start: usize) -> Result<Option<usize>, Error> {
        let mut captures = vec![usize::MAX; (self.groups + 1) * 2];
        let mut steps = 0u64;
        let mut best = None;
        self.explore(text, 0, start, &mut captures, &mut steps, &mut best, &mut Vec::new())?;
        Ok(best)
    }

    #[allow(clippy::too_many_arguments)]
    fn explore(
        &self,
        text: &[u8],
        mut pc: usize,
        mut position: usize,
        captures: &mut Vec<usize>,
        steps: &mut u64,
        best: &mut Option<usize>,
        // (pc, position) pairs entered without consuming input since the last byte:
        // re-entering one is an empty loop.
        visited: &mut Vec<(usize, usize)>,
    ) -> Result<(), Error> {
        loop {
            *steps += 1;
            if *steps > STEP_BUDGET {
                return Err(Error::TooComplex);
            }
            match &self.program[pc] {
                Instruction::Match => {
                    if best.is_none_or(|known| position > known) {
                        *best = Some(position);
                    }
                    return Ok(());
                }
                Instruction::Byte(expected) => {
                    if text.get(position) != Some(expected) {
                        return Ok(());
                    }
                    position += 1;
                    pc += 1;
                    visited.clear();
                }
                Instruction::Set(set) => {
                    if !text.get(position).is_some_and(|&byte| set.contains(byte)) {
                        return Ok(());
                    }
                    position += 1;
                    pc += 1;
                    visited.clear();
                }
                Instruction::Jump(target) => pc = *target,
                Instruction::Split(first, second) => {
                    if visited.contains(&(pc, position)) {
                        return Ok(());
                    }
                    visited.push((pc, position));
                    let saved_captures = captures.clone();
                    let saved_visited = visited.clone();
                    self.explore(text, *first, position, captures, steps, best, visited)?;
                    *captures = saved_captures;
                    *visited = saved_visited;
                    pc = *second;
                }
                Instruction::Save(slot) => {
                    captures[*slot] = position;
                    pc += 1;
                }
                Instruction::Backreference(number) => {
                    let (from, to) = (captures[number * 2], captures[number * 2 + 1]);
                    if from == usize::MAX || to == usize::MAX || to < from {
                        return Ok(());
                    }
                    let length = to - from;
                    if position + length > text.len() || text[from..to] != text[position..position + length] {
                        return Ok(());
                    }
                    if length > 0 {
                        visited.clear();
                    }
                    position += length;
                    pc += 1;
                }
                assertion => {
                    if !Self::assertion_holds(assertion, text, position) {
                        return Ok(());
                    }
                    pc += 1;
                }
            }
        }
    }

    /// Whether `text` (one line, without its newline) holds a match.
    pub fn is_match(&self, text: &[u8]) -> Result<bool, Error> {
        if self.backreferences {
            for start in 0..=text.len() {
                if self.backtrack(text, start)?.is_some() {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Ok(self.simulate(text, 0, true).is_some())
    }

    /// The leftmost-longest match at or after `from`: (start, end).
    pub fn find_at(&self, text: &[u8], from: usize) -> Result<Option<(usize, usize)>, Error> {
        if !self.backreferences && self.simulate(text, from, true).is_none() {
            return Ok(None);
        }
        for start in from..=text.len() {
            let end =
                if self.backreferences { self.backtrack(text, start)? } else { self.simulate(text, start, false) };
            if let Some(end) = end {
                return Ok(Some((start, end)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn matches(pattern: &str, syntax: Syntax, text: &str) -> bool {
        Regex::new(pattern.as_bytes(), syntax, false).unwrap().is_match(text.as_bytes()).unwrap()
    }

    fn find(pattern: &str, syntax: Syntax, text: &str) -> Option<(usize, usize)> {
        Regex::new(pattern.as_bytes(), syntax, false).unwrap().find_at(text.as_bytes(), 0).unwrap()
    }

    use Syntax::{Basic, Extended};

    #[test]
    fn extended_operators() {
        assert!(matches("ab|cd", Extended, "xxcdxx"));
        assert!(matches("^a(b|c)+d$", Extended, "abcbd"));
        assert!(!matches("^a(b|c)+d$", Extended, "ad"));
        assert!(matches("colou?r", Extended, "color"));
        assert!(matches("^x{2,3}$", Extended, "xxx"));
        assert!(!matches("^x{2,3}$", Extended, "xxxx"));
        assert!(matches("^x{,2}$", Extended, ""));
        assert!(matches("a{", Extended, "a{"));
        assert!(matches("[[:digit:]]+\\.[0-9]", Extended, "v1.2"));
        assert!(matches("[]x]", Extended, "]"));
        assert!(matches("[^]x]", Extended, "y"));
        assert!(matches("[a-]", Extended, "-"));
        assert!(matches("*a", Extended, "xa"));
        assert_eq!(Regex::new(b"a|*b", Extended, false).unwrap().warnings, ["* at start of expression"]);
        assert!(matches("^*a", Extended, "a"));
        assert!(matches("a)", Extended, "a)"));
        assert!(matches("a{1,x}", Extended, "a{1,x}"));
    }

    #[test]
    fn basic_operators() {
        assert!(matches("a\\(b\\)*c", Basic, "abbc"));
        assert!(matches("a+b", Basic, "a+b"));
        assert!(matches("a\\+b", Basic, "aab"));
        assert!(matches("x\\{2\\}", Basic, "axxb"));
        assert!(matches("a\\|b", Basic, "b"));
        assert!(matches("*a", Basic, "*a"));
        assert!(matches("a^b$c", Basic, "a^b$c"));
        assert!(matches("^ab$", Basic, "ab"));
        assert!(matches("\\(^a\\)", Basic, "ab"));
    }

    #[test]
    fn leftmost_longest() {
        assert_eq!(find("a|ab", Extended, "xab"), Some((1, 3)));
        assert_eq!(find("(a|ab)(c|bcd)", Extended, "abcd"), Some((0, 4)));
        assert_eq!(find("x*", Extended, "abc"), Some((0, 0)));
        assert_eq!(find("b+", Extended, "abbbc"), Some((1, 4)));
    }

    #[test]
    fn words_and_backreferences() {
        assert!(matches("\\bfoo\\b", Extended, "a foo b"));
        assert!(!matches("\\bfoo\\b", Extended, "afoob"));
        assert!(matches("\\<fo", Extended, "x foo"));
        assert!(matches("o\\>", Extended, "foo bar"));
        assert!(matches("\\w+\\s\\W", Extended, "ab !"));
        assert!(matches("\\(ab\\)\\1", Basic, "xabab"));
        assert!(!matches("\\(ab\\)\\1", Basic, "xabac"));
        assert!(matches("(a*)b\\1", Extended, "aabaa"));
        assert_eq!(find("(a*)b\\1", Extended, "aaba"), Some((1, 4)));
    }

    #[test]
    fn whole_words_and_lines() {
        let words = Regex::with_whole(b"fo*", Extended, false, Whole::Words).unwrap();
        assert!(words.is_match(b"a foo b").unwrap());
        assert!(!words.is_match(b"afoo").unwrap());
        // A shorter match may be the whole word: "fo" in "foo fo".
        assert_eq!(words.find_at(b"foox fo", 0).unwrap(), Some((5, 7)));
        let lines = Regex::with_whole(b"a|ab", Extended, false, Whole::Lines).unwrap();
        assert!(lines.is_match(b"ab").unwrap());
        assert!(!lines.is_match(b"abc").unwrap());
        let fixed = Regex::fixed(b"a.b", true, Whole::Anywhere).unwrap();
        assert!(fixed.is_match(b"xA.By").unwrap());
        assert!(!fixed.is_match(b"axb").unwrap());
    }

    #[test]
    fn case_folding() {
        let regex = Regex::new(b"hello [a-c]", Extended, true).unwrap();
        assert!(regex.is_match(b"HeLLo B").unwrap());
        assert!(!regex.is_match(b"hello d").unwrap());
    }

    #[test]
    fn errors_read_as_gnu_prints_them() {
        let error = |pattern: &str, syntax| Regex::new(pattern.as_bytes(), syntax, false).unwrap_err();
        assert_eq!(error("[abc", Extended), Error::UnmatchedBracket);
        assert_eq!(error("(ab", Extended), Error::UnmatchedOpenParenthesis);
        assert_eq!(error("ab\\)", Basic), Error::UnmatchedCloseParenthesis);
        assert_eq!(error("[[:alpha:]-z]", Extended), Error::InvalidRangeEnd);
        assert_eq!(error("\\(ab", Basic), Error::UnmatchedOpenParenthesis);
        assert_eq!(error("a\\{1", Basic), Error::UnmatchedBrace);
        assert_eq!(error("a{2,1}", Extended), Error::InvalidInterval);
        assert_eq!(error("\\1", Extended), Error::InvalidBackReference);
        assert_eq!(error("ab\\", Extended), Error::TrailingBackslash);
        assert_eq!(error("[z-a]", Extended), Error::InvalidRangeEnd);
        assert_eq!(error("[[:bogus:]]", Extended), Error::InvalidClassName);
        assert_eq!(error("[:space:]", Extended), Error::ClassSyntax);
        assert_eq!(error("a{99999}", Extended), Error::TooBig);
    }

    /// The model: the expression's meaning written directly, as the set of
    /// ends reachable from a start (exponential, fine for short inputs).
    fn model_ends(node: &Node, text: &[u8], start: usize) -> Vec<usize> {
        let word = |index: Option<usize>| index.and_then(|i| text.get(i)).is_some_and(|&b| is_word(b));
        let mut ends = match node {
            Node::Empty => vec![start],
            Node::Literal(byte) => {
                if text.get(start) == Some(byte) {
                    vec![start + 1]
                } else {
                    vec![]
                }
            }
            Node::Any => {
                if text.get(start).is_some_and(|&b| b != b'\n') {
                    vec![start + 1]
                } else {
                    vec![]
                }
            }
            Node::Set(set) => {
                if text.get(start).is_some_and(|&b| set.contains(b)) {
                    vec![start + 1]
                } else {
                    vec![]
                }
            }
            Node::LineStart => {
                if start == 0 {
                    vec![start]
                } else {
                    vec![]
                }
            }
            Node::LineEnd => {
                if start == text.len() {
                    vec![start]
                } else {
                    vec![]
                }
            }
            Node::WordBoundary => {
                if word(start.checked_sub(1)) != word(Some(start)) {
                    vec![start]
                } else {
                    vec![]
                }
            }
            Node::NotWordBoundary => {
                if word(start.checked_sub(1)) == word(Some(start)) {
                    vec![start]
                } else {
                    vec![]
                }
            }
            Node::WordStart => {
                if !word(start.checked_sub(1)) && word(Some(start)) {
                    vec![start]
                } else {
                    vec![]
                }
            }
            Node::WordEnd => {
                if word(start.checked_sub(1)) && !word(Some(start)) {
                    vec![start]
                } else {
                    vec![]
                }
            }
            Node::Backreference(_) => vec![],
            Node::Group(inner, _) => model_ends(inner, text, start),
            Node::Concat(items) => {
                let mut positions = vec![start];
                for item in items {
                    let mut next = Vec::new();
                    for position in positions {
                        next.extend(model_ends(item, text, position));
                    }
                    next.sort_unstable();
                    next.dedup();
                    positions = next;
                }
                positions
            }
            Node::Alternate(branches) => branches.iter().flat_map(|branch| model_ends(branch, text, start)).collect(),
            Node::Repeat { node, minimum, maximum } => {
                let mut result = Vec::new();
                let mut positions = vec![start];
                let mut count = 0;
                loop {
                    if count >= *minimum {
                        result.extend(positions.iter().copied());
                    }
                    if maximum.is_some_and(|maximum| count >= maximum)
                        || positions.is_empty()
                        || count > text.len() as u32 + *minimum
                    {
                        break;
                    }
                    let mut next = Vec::new();
                    for position in &positions {
                        next.extend(model_ends(node, text, *position));
                    }
                    next.sort_unstable();
                    next.dedup();
                    count += 1;
                    positions = next;
                }
                result
            }
        };
        ends.sort_unstable();
        ends.dedup();
        ends
    }

    fn pattern_strategy() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just(".".to_string()),
            Just("[ab]".to_string()),
            Just("[^a]".to_string()),
            Just("^".to_string()),
            Just("$".to_string()),
            Just("\\b".to_string()),
        ];
        atom.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}{b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}|{b})")),
                inner.clone().prop_map(|a| format!("({a})*")),
                inner.clone().prop_map(|a| format!("({a})+")),
                inner.clone().prop_map(|a| format!("({a})?")),
                (inner, 0u32..3, 0u32..3).prop_map(|(a, low, extra)| format!("({a}){{{},{}}}", low, low + extra)),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn the_engine_agrees_with_the_model(pattern in pattern_strategy(), text in "[ab ]{0,8}") {
            let regex = Regex::new(pattern.as_bytes(), Extended, false).unwrap();
            let (node, _) = parse(pattern.as_bytes(), Extended, false).unwrap();
            let text = text.as_bytes();
            let expected = (0..=text.len()).find_map(|start| model_ends(&node, text, start).last().map(|&end| (start, end)));
            prop_assert_eq!(regex.find_at(text, 0).unwrap(), expected);
            prop_assert_eq!(regex.is_match(text).unwrap(), expected.is_some());
        }
    }
}
