//! The syntax tree of a shell program, as the parser builds it and the
//! interpreter walks it.
//!
//! Text is kept as bytes: file names and arguments are byte strings, not
//! necessarily UTF-8. The tree keeps what changes the meaning of a program
//! and nothing of its layout, so printing a tree (`printer`) and parsing the
//! result gives the same tree back.
//!
//! Normal form, which the parser always produces and the printer relies on:
//! adjacent literal text in a word is one `Literal` part, and no `Literal`
//! is empty.

use alloc::vec::Vec;

/// A whole program (a script, a `-c` string, a line typed at the prompt, the
/// inside of `( … )`, `{ …; }`, `$( … )` or a compound command's body):
/// and-or lists run one after the other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    pub items: Vec<Item>,
}

/// One and-or list, ended by `;`, a newline or `&` (`asynchronous`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub list: AndOr,
    pub asynchronous: bool,
}

/// `first && second || third …`: evaluated left to right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connector {
    /// `&&`: run the next pipeline if this one succeeded.
    And,
    /// `||`: run the next pipeline if this one failed.
    Or,
}

/// `[!] command | command …`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub negated: bool,
    pub commands: Vec<Command>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Simple(SimpleCommand),
    Compound(CompoundCommand, Vec<Redirection>),
    Function(FunctionDefinition),
}

/// `NAME=value … word … redirections`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    pub assignments: Vec<Assignment>,
    pub words: Vec<Word>,
    pub redirections: Vec<Redirection>,
}

/// `name=value`, before a command or alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub name: Vec<u8>,
    pub value: Word,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompoundCommand {
    /// `{ program; }`
    Group(Program),
    /// `( program )`
    Subshell(Program),
    /// `if c1; then b1; elif c2; then b2; else b3; fi`
    If { branches: Vec<(Program, Program)>, otherwise: Option<Program> },
    /// `while condition; do body; done`, or `until` (`until` true).
    Loop { until: bool, condition: Program, body: Program },
    /// `for name in words; do body; done`; without `in`, the positional
    /// parameters (`words` is `None`).
    For { name: Vec<u8>, words: Option<Vec<Word>>, body: Program },
    /// `case word in pattern|pattern) body;; … esac`
    Case { word: Word, arms: Vec<CaseArm> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseArm {
    pub patterns: Vec<Word>,
    pub body: Program,
}

/// `name() compound-command [redirections]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDefinition {
    pub name: Vec<u8>,
    pub body: alloc::rc::Rc<(CompoundCommand, Vec<Redirection>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirection {
    /// The descriptor redirected; `None` means the operator's default (0 for
    /// input operators, 1 for output operators).
    pub descriptor: Option<u32>,
    pub operator: RedirectionOperator,
    pub target: RedirectionTarget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectionOperator {
    /// `<`
    Input,
    /// `>`
    Output,
    /// `>|` (ignores `set -C`)
    Clobber,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `<&`
    DuplicateInput,
    /// `>&`
    DuplicateOutput,
    /// `<<` (or `<<-`, which strips leading tabs: recorded in the here-document)
    HereDocument,
}

impl RedirectionOperator {
    /// The descriptor the operator redirects when none is written.
    pub fn default_descriptor(self) -> u32 {
        match self {
            Self::Input | Self::ReadWrite | Self::DuplicateInput | Self::HereDocument => 0,
            Self::Output | Self::Clobber | Self::Append | Self::DuplicateOutput => 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectionTarget {
    Word(Word),
    HereDocument(HereDocument),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HereDocument {
    /// The delimiter line, with quotes removed.
    pub delimiter: Vec<u8>,
    /// Any part of the delimiter was quoted: the body is taken literally.
    pub quoted: bool,
    /// `<<-`: leading tabs were stripped from the body and delimiter lines.
    pub strip_tabs: bool,
    /// The body. When `quoted`, one `Literal` (or nothing); otherwise text
    /// with parameter expansions, command substitutions and arithmetic.
    pub body: Vec<WordPart>,
}

/// A word: text with quotes and expansions, before expansion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Word {
    pub parts: Vec<WordPart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordPart {
    /// Unquoted text (glob characters in it are active).
    Literal(Vec<u8>),
    /// `\c` outside quotes: `c` taken literally.
    Escaped(u8),
    /// `'text'`
    SingleQuoted(Vec<u8>),
    /// `"…"`: only `Literal`, `Parameter`, `CommandSubstitution` and
    /// `Arithmetic` parts inside.
    DoubleQuoted(Vec<WordPart>),
    /// `$name`, `${name…}`
    Parameter(ParameterExpansion),
    /// `$( program )` or `` `program` ``
    CommandSubstitution(Program),
    /// `$(( expression ))`: the expression's text with its expansions.
    Arithmetic(Vec<WordPart>),
}

/// `${name operator word}`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterExpansion {
    /// A variable name, a positional parameter number or one of the special
    /// parameters `@ * # ? - $ !` (and `0`).
    pub name: Vec<u8>,
    pub operator: ParameterOperator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterOperator {
    /// `$name`, `${name}`
    Plain,
    /// `${#name}`
    Length,
    /// `${name-word}`, `${name:-word}` (`colon`: also when set but empty)
    Default { colon: bool, word: Word },
    /// `${name=word}`, `${name:=word}`
    Assign { colon: bool, word: Word },
    /// `${name?word}`, `${name:?word}`
    Error { colon: bool, word: Word },
    /// `${name+word}`, `${name:+word}`
    Alternative { colon: bool, word: Word },
    /// `${name%pattern}` (`longest`: `%%`)
    RemoveSuffix { longest: bool, pattern: Word },
    /// `${name#pattern}` (`longest`: `##`)
    RemovePrefix { longest: bool, pattern: Word },
}

/// The words that are reserved in command position.
pub const RESERVED_WORDS: &[&[u8]] = &[
    b"if", b"then", b"else", b"elif", b"fi", b"do", b"done", b"case", b"esac", b"while", b"until", b"for", b"{", b"}",
    b"!", b"in",
];

/// Whether `text` is a name: a letter or `_`, then letters, digits or `_`.
pub fn is_name(text: &[u8]) -> bool {
    match text.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|byte| byte.is_ascii_alphanumeric() || *byte == b'_')
        }
        None => false,
    }
}

/// The special parameters, named by one character.
pub fn is_special_parameter(byte: u8) -> bool {
    matches!(byte, b'@' | b'*' | b'#' | b'?' | b'-' | b'$' | b'!' | b'0'..=b'9')
}

impl Word {
    pub fn literal(text: &[u8]) -> Word {
        Word { parts: if text.is_empty() { Vec::new() } else { alloc::vec![WordPart::Literal(text.to_vec())] } }
    }

    /// The word's text when it is a plain unquoted literal (reserved words,
    /// names and here-document delimiters are recognised this way).
    pub fn as_literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [WordPart::Literal(text)] => Some(text),
            _ => None,
        }
    }
}

impl Program {
    /// Every here-document in source order, for the parser to fill in bodies
    /// once it has read them.
    pub(crate) fn here_documents_mut<'a>(&'a mut self, found: &mut Vec<&'a mut HereDocument>) {
        for item in &mut self.items {
            item.list.here_documents_mut(found);
        }
    }
}

impl AndOr {
    pub(crate) fn here_documents_mut<'a>(&'a mut self, found: &mut Vec<&'a mut HereDocument>) {
        let pipelines = core::iter::once(&mut self.first).chain(self.rest.iter_mut().map(|(_, pipeline)| pipeline));
        for pipeline in pipelines {
            for command in &mut pipeline.commands {
                command.here_documents_mut(found);
            }
        }
    }
}

impl Command {
    fn here_documents_mut<'a>(&'a mut self, found: &mut Vec<&'a mut HereDocument>) {
        match self {
            Command::Simple(simple) => redirection_here_documents(&mut simple.redirections, found),
            Command::Compound(compound, redirections) => {
                compound.here_documents_mut(found);
                redirection_here_documents(redirections, found);
            }
            Command::Function(function) => {
                // The parser fills bodies before it wraps the body in an Rc;
                // while it is still unique, this reaches it.
                if let Some((compound, redirections)) = alloc::rc::Rc::get_mut(&mut function.body) {
                    compound.here_documents_mut(found);
                    redirection_here_documents(redirections, found);
                }
            }
        }
    }
}

impl Command {
    /// Whether a here-document is redirected anywhere in this command
    /// (command substitutions aside: their here-documents are their own).
    pub fn contains_here_document(&self) -> bool {
        fn in_redirections(redirections: &[Redirection]) -> bool {
            redirections.iter().any(|redirection| matches!(redirection.target, RedirectionTarget::HereDocument(_)))
        }
        fn in_program(program: &Program) -> bool {
            program.items.iter().any(|item| {
                let list = &item.list;
                core::iter::once(&list.first)
                    .chain(list.rest.iter().map(|(_, pipeline)| pipeline))
                    .flat_map(|pipeline| pipeline.commands.iter())
                    .any(Command::contains_here_document)
            })
        }
        fn in_compound(compound: &CompoundCommand) -> bool {
            match compound {
                CompoundCommand::Group(program) | CompoundCommand::Subshell(program) => in_program(program),
                CompoundCommand::If { branches, otherwise } => {
                    branches.iter().any(|(condition, body)| in_program(condition) || in_program(body))
                        || otherwise.as_ref().is_some_and(in_program)
                }
                CompoundCommand::Loop { condition, body, .. } => in_program(condition) || in_program(body),
                CompoundCommand::For { body, .. } => in_program(body),
                CompoundCommand::Case { arms, .. } => arms.iter().any(|arm| in_program(&arm.body)),
            }
        }
        match self {
            Command::Simple(simple) => in_redirections(&simple.redirections),
            Command::Compound(compound, redirections) => in_compound(compound) || in_redirections(redirections),
            Command::Function(function) => in_compound(&function.body.0) || in_redirections(&function.body.1),
        }
    }
}

impl CompoundCommand {
    pub(crate) fn here_documents_mut<'a>(&'a mut self, found: &mut Vec<&'a mut HereDocument>) {
        match self {
            CompoundCommand::Group(program) | CompoundCommand::Subshell(program) => program.here_documents_mut(found),
            CompoundCommand::If { branches, otherwise } => {
                for (condition, body) in branches {
                    condition.here_documents_mut(found);
                    body.here_documents_mut(found);
                }
                if let Some(otherwise) = otherwise {
                    otherwise.here_documents_mut(found);
                }
            }
            CompoundCommand::Loop { condition, body, .. } => {
                condition.here_documents_mut(found);
                body.here_documents_mut(found);
            }
            CompoundCommand::For { body, .. } => body.here_documents_mut(found),
            CompoundCommand::Case { arms, .. } => {
                for arm in arms {
                    arm.body.here_documents_mut(found);
                }
            }
        }
    }
}

fn redirection_here_documents<'a>(redirections: &'a mut [Redirection], found: &mut Vec<&'a mut HereDocument>) {
    for redirection in redirections {
        if let RedirectionTarget::HereDocument(document) = &mut redirection.target {
            found.push(document);
        }
    }
}
