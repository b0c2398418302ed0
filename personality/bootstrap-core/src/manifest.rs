//! The boot manifest: which programs the bootstrap task starts, in what
//! order, with which rights and arguments, and which names each may
//! register.
//!
//! The manifest is a text boot module named [`MANIFEST_MODULE`]. One
//! program a line; `#` starts a comment; blank lines are ignored:
//!
//! ```text
//! # MODULE  [registers=NAME,...] [needs=NAME,...] [host-port] [io-ports=FIRST[-LAST],...]
//! #         [power-off] [restart=yes|no] [critical] [-- ARGUMENT...]
//! virtio    registers=block,random  host-port  restart=yes
//! fs        registers=fs  needs=block  -- --root block
//! kv-client needs=kv -- "two words" plain
//! ```
//!
//! - `MODULE`: the boot module to start (the file name it was loaded
//!   from): 1 to [`MODULE_NAME_MAX`] bytes of `A-Z a-z 0-9 . _ + -`, not
//!   starting with `-`. A module may be listed more than once (with other
//!   arguments, say).
//! - `registers=`: the names this program may register with the name
//!   service, and only it: a registration of any other name is refused,
//!   and no other program may register these. Names are 1 to
//!   [`NAME_LENGTH_MAX`] bytes of `A-Z a-z 0-9 . _ + - /`.
//! - `needs=`: names that must be registered before the program is
//!   started; each must be registered by some program of the manifest, and
//!   the needs must not form a cycle.
//! - `host-port`: the program gets a send right to the privileged host
//!   port (named in its auxiliary vector, `AT_MACH_HOST`); without it, it
//!   gets none.
//! - `io-ports=`: I/O port ranges (inclusive, decimal or `0x` hex) the
//!   bootstrap task opens to the program, which needs no host port for it.
//! - `power-off`: the program may power the machine off through the
//!   kernel (`host_power_off`, which takes the host port: `host-port` is
//!   required with it); the bootstrap task says so in its auxiliary vector
//!   (`AT_MACH_POWER_OFF`). The process server powers off when init ends
//!   only with it (or, on x86_64, with the power-off registers among its
//!   `io-ports=`): a manifest that boots a system inside a test machine
//!   withholds it, so that the system's end does not end the machine.
//! - `restart=`: whether the program is started again when it ends
//!   (within the supervisor's budget); by default `yes` for a program that
//!   registers names (a server) and `no` for others.
//! - `critical`: the system cannot go on without the program (the process
//!   and memory servers, whose state is every process): when it ends, the
//!   bootstrap task says so on the console, has the file server write
//!   everything back and powers the machine off, instead of restarting it
//!   (`restart=yes` with `critical` is refused).
//! - after `--`, the program's arguments (`argv[1..]`; `argv[0]` is the
//!   module name), split at blanks; `"..."` quotes blanks, and inside
//!   quotes `\"` and `\\` stand for `"` and `\`.
//!
//! Parsing checks everything at once and refuses the manifest with the
//! line and column of the first problem ([`ManifestError`]); a parsed
//! [`Manifest`] is known to be consistent, so its accessors cannot fail.
//! Nothing here allocates: a manifest refers to its text.

use crate::registry::NAME_LENGTH_MAX;
use core::fmt;

/// The name of the boot module holding the manifest.
pub const MANIFEST_MODULE: &str = "system.manifest";
/// Most programs in a manifest.
pub const PROGRAMS_MAX: usize = 64;
/// Longest module name (the kernel keeps no longer ones).
pub const MODULE_NAME_MAX: usize = mach_abi::BOOTSTRAP_MODULE_NAME_MAX;
/// Most names in one `registers=` or `needs=` list.
pub const NAMES_PER_LIST_MAX: usize = 16;
/// Most `io-ports=` ranges of one program (the kernel's limit per task).
pub const IO_RANGES_MAX: usize = 16;
/// Most arguments after `--`.
pub const ARGUMENTS_MAX: usize = 32;
/// Most bytes of arguments after `--`, each counted with a terminating NUL.
pub const ARGUMENT_BYTES_MAX: usize = 1024;

/// An inclusive range of I/O ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoPortRange {
    pub first: u16,
    pub last: u16,
}

impl IoPortRange {
    /// How many ports the range holds (1 to 65536).
    pub fn count(&self) -> u32 {
        self.last as u32 - self.first as u32 + 1
    }
}

/// What is wrong with a manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind<'a> {
    /// The manifest is not UTF-8 (the bootstrap task checks its bytes).
    NotUtf8,
    /// A `"` opens a quote that the line does not close.
    UnterminatedQuote,
    /// A backslash inside quotes before something other than `"` or `\`.
    BadEscape,
    /// Quotes outside the arguments.
    QuoteOutsideArguments,
    /// The module name is empty, too long or has a character not allowed.
    BadModuleName(&'a str),
    /// A field this format does not have.
    UnknownField(&'a str),
    /// A field given twice on one line.
    RepeatedField(&'a str),
    /// `registers`, `needs`, `io-ports` or `restart` without `=VALUE`.
    MissingValue(&'a str),
    /// `host-port=...`: the flag takes no value.
    UnexpectedValue(&'a str),
    /// A name that is empty, too long or has a character not allowed.
    BadName(&'a str),
    /// More than [`NAMES_PER_LIST_MAX`] names in one list.
    TooManyNames,
    /// A port range that is not `FIRST` or `FIRST-LAST` with `FIRST <= LAST <= 0xffff`.
    BadIoRange(&'a str),
    /// More than [`IO_RANGES_MAX`] ranges.
    TooManyIoRanges,
    /// `restart=` with something other than `yes` or `no`.
    BadRestart(&'a str),
    /// `restart=yes` on a `critical` program (which is never restarted).
    CriticalRestarted,
    /// `power-off` without `host-port` (the kernel's power-off takes it).
    PowerOffWithoutHostPort,
    /// More than [`ARGUMENTS_MAX`] arguments.
    TooManyArguments,
    /// More than [`ARGUMENT_BYTES_MAX`] bytes of arguments.
    ArgumentsTooLong,
    /// More than [`PROGRAMS_MAX`] programs.
    TooManyPrograms,
    /// The name is in the `registers` of an earlier line too.
    RegisteredTwice { name: &'a str, first_line: usize },
    /// No program registers the name this line needs.
    UnknownNeed(&'a str),
    /// This program needs `name`, registered by the program on
    /// `provider_line`, which (directly or through others) waits for a name
    /// this program registers: neither would ever start.
    Cycle { name: &'a str, provider_line: usize },
}

/// A problem with a manifest, where it is (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestError<'a> {
    pub line: usize,
    pub column: usize,
    pub kind: ErrorKind<'a>,
}

impl fmt::Display for ErrorKind<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::NotUtf8 => write!(formatter, "the manifest is not UTF-8"),
            ErrorKind::UnterminatedQuote => write!(formatter, "this quote is not closed on its line"),
            ErrorKind::BadEscape => write!(formatter, "inside quotes, a backslash may only precede `\"` or `\\`"),
            ErrorKind::QuoteOutsideArguments => {
                write!(formatter, "quotes are allowed only in the arguments (after `--`)")
            }
            ErrorKind::BadModuleName(name) => write!(
                formatter,
                "`{name}` is not a module name (1 to {MODULE_NAME_MAX} bytes of A-Z a-z 0-9 . _ + -, not starting with -)"
            ),
            ErrorKind::UnknownField(field) => write!(
                formatter,
                "`{field}` is not a field (registers=, needs=, host-port, io-ports=, power-off, restart=, critical; arguments go after --)"
            ),
            ErrorKind::RepeatedField(field) => write!(formatter, "`{field}` is given twice"),
            ErrorKind::MissingValue(field) => write!(formatter, "`{field}` needs a value: {field}=..."),
            ErrorKind::UnexpectedValue(field) => write!(formatter, "`{field}` takes no value"),
            ErrorKind::BadName(name) => write!(
                formatter,
                "`{name}` is not a name (1 to {NAME_LENGTH_MAX} bytes of A-Z a-z 0-9 . _ + - /)"
            ),
            ErrorKind::TooManyNames => write!(formatter, "more than {NAMES_PER_LIST_MAX} names in one list"),
            ErrorKind::BadIoRange(range) => {
                write!(formatter, "`{range}` is not a port range (FIRST or FIRST-LAST, FIRST <= LAST <= 0xffff)")
            }
            ErrorKind::TooManyIoRanges => write!(formatter, "more than {IO_RANGES_MAX} port ranges"),
            ErrorKind::BadRestart(value) => write!(formatter, "restart={value}: the value is yes or no"),
            ErrorKind::CriticalRestarted => {
                write!(formatter, "a critical program is never restarted (its end powers the machine off): drop restart=yes")
            }
            ErrorKind::PowerOffWithoutHostPort => {
                write!(formatter, "power-off needs host-port too (the kernel powers off for the host port's holder)")
            }
            ErrorKind::TooManyArguments => write!(formatter, "more than {ARGUMENTS_MAX} arguments"),
            ErrorKind::ArgumentsTooLong => write!(formatter, "the arguments take more than {ARGUMENT_BYTES_MAX} bytes"),
            ErrorKind::TooManyPrograms => write!(formatter, "more than {PROGRAMS_MAX} programs"),
            ErrorKind::RegisteredTwice { name, first_line } => {
                write!(formatter, "`{name}` is registered by the program on line {first_line} already")
            }
            ErrorKind::UnknownNeed(name) => write!(formatter, "needs `{name}`, which no program registers"),
            ErrorKind::Cycle { name, provider_line } => write!(
                formatter,
                "needs `{name}`, whose program (line {provider_line}) waits, through its own needs, for this one: \
                 neither would start"
            ),
        }
    }
}

impl fmt::Display for ManifestError<'_> {
    /// `LINE:COLUMN: what is wrong` (prefix the file name for a full location).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}: {}", self.line, self.column, self.kind)
    }
}

/// One blank-separated word of a line, as written (quotes and escapes kept).
#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    text: &'a str,
    column: usize,
}

impl<'a> Token<'a> {
    fn error(&self, kind: ErrorKind<'a>, line: usize) -> ManifestError<'a> {
        ManifestError { line, column: self.column, kind }
    }
}

/// The words of `line` up to a comment. A `#` starts a comment where a
/// word could start; inside a word or quotes it is an ordinary character.
struct Tokens<'a> {
    line: &'a str,
    offset: usize,
}

fn tokens(line: &str) -> Tokens<'_> {
    Tokens { line, offset: 0 }
}

/// 1-based column of byte `offset` in `line`, counted in characters.
fn column(line: &str, offset: usize) -> usize {
    line[..offset].chars().count() + 1
}

impl<'a> Iterator for Tokens<'a> {
    /// A word, or (the column of) a quote its line does not close.
    type Item = Result<Token<'a>, usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.line[self.offset..];
        let start = self.offset + (rest.len() - rest.trim_start().len());
        if start >= self.line.len() || self.line[start..].starts_with('#') {
            self.offset = self.line.len();
            return None;
        }
        let mut quote_start = None;
        let mut escaped = false;
        let mut end = self.line.len();
        for (index, character) in self.line[start..].char_indices() {
            let at = start + index;
            match (quote_start, character) {
                (Some(_), _) if escaped => escaped = false,
                (Some(_), '\\') => escaped = true,
                (Some(_), '"') => quote_start = None,
                (None, '"') => quote_start = Some(at),
                (None, character) if character.is_whitespace() => {
                    end = at;
                    break;
                }
                _ => {}
            }
        }
        self.offset = end;
        if let Some(quote) = quote_start {
            self.offset = self.line.len();
            return Some(Err(column(self.line, quote)));
        }
        Some(Ok(Token { text: &self.line[start..end], column: column(self.line, start) }))
    }
}

/// An argument as written; [`Argument::bytes`] gives its value.
#[derive(Clone, Copy, Debug)]
pub struct Argument<'a> {
    text: &'a str,
}

impl<'a> Argument<'a> {
    /// The argument's bytes, quotes removed and escapes resolved.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let mut quoted = false;
        let mut escaped = false;
        self.text.bytes().filter(move |&byte| {
            if escaped {
                escaped = false;
                return true;
            }
            match byte {
                b'"' => {
                    quoted = !quoted;
                    false
                }
                b'\\' if quoted => {
                    escaped = true;
                    false
                }
                _ => true,
            }
        })
    }

    /// How many bytes [`Argument::bytes`] gives.
    pub fn len(&self) -> usize {
        self.bytes().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks the escapes inside the quotes of an argument.
fn check_argument<'a>(token: &Token<'a>, line: usize) -> Result<(), ManifestError<'a>> {
    let mut quoted = false;
    let mut escaped = false;
    for (index, character) in token.text.char_indices() {
        if escaped {
            if character != '"' && character != '\\' {
                let column = token.column + token.text[..index].chars().count() - 1;
                return Err(ManifestError { line, column, kind: ErrorKind::BadEscape });
            }
            escaped = false;
        } else if character == '"' {
            quoted = !quoted;
        } else if character == '\\' && quoted {
            escaped = true;
        }
    }
    Ok(())
}

fn is_name_character(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'+' | b'-')
}

fn is_module_name(text: &str) -> bool {
    !text.is_empty() && text.len() <= MODULE_NAME_MAX && !text.starts_with('-') && text.bytes().all(is_name_character)
}

/// True for a name a manifest may list (a subset of what the registry takes).
pub fn is_manifest_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= NAME_LENGTH_MAX
        && text.bytes().all(|byte| is_name_character(byte) || byte == b'/')
}

fn parse_port(text: &str) -> Option<u16> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
            u16::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

fn parse_range(text: &str) -> Option<IoPortRange> {
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (parse_port(first)?, parse_port(last)?),
        None => (parse_port(text)?, parse_port(text)?),
    };
    (first <= last).then_some(IoPortRange { first, last })
}

/// A field of a program line.
#[derive(Clone, Copy, Debug)]
enum Field<'a> {
    Registers(&'a str),
    Needs(&'a str),
    HostPort,
    IoPorts(&'a str),
    PowerOff,
    Restart(bool),
    Critical,
}

impl Field<'_> {
    fn key(&self) -> &'static str {
        match self {
            Field::Registers(_) => "registers",
            Field::Needs(_) => "needs",
            Field::HostPort => "host-port",
            Field::IoPorts(_) => "io-ports",
            Field::PowerOff => "power-off",
            Field::Restart(_) => "restart",
            Field::Critical => "critical",
        }
    }
}

/// Checks a comma-separated list of names; returns how many.
fn check_names<'a>(list: &'a str, token: &Token<'a>, line: usize) -> Result<usize, ManifestError<'a>> {
    let mut count = 0;
    for name in list.split(',') {
        if !is_manifest_name(name) {
            return Err(token.error(ErrorKind::BadName(name), line));
        }
        count += 1;
    }
    if count > NAMES_PER_LIST_MAX {
        return Err(token.error(ErrorKind::TooManyNames, line));
    }
    Ok(count)
}

fn parse_field<'a>(token: &Token<'a>, line: usize) -> Result<Field<'a>, ManifestError<'a>> {
    if token.text.contains('"') {
        return Err(token.error(ErrorKind::QuoteOutsideArguments, line));
    }
    let (key, value) = match token.text.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (token.text, None),
    };
    let needs_value = |value: Option<&'a str>| value.ok_or(token.error(ErrorKind::MissingValue(key), line));
    let field = match key {
        "registers" => Field::Registers(needs_value(value)?),
        "needs" => Field::Needs(needs_value(value)?),
        "io-ports" => Field::IoPorts(needs_value(value)?),
        "restart" => match needs_value(value)? {
            "yes" => Field::Restart(true),
            "no" => Field::Restart(false),
            other => return Err(token.error(ErrorKind::BadRestart(other), line)),
        },
        "host-port" if value.is_none() => Field::HostPort,
        "host-port" => return Err(token.error(ErrorKind::UnexpectedValue(key), line)),
        "power-off" if value.is_none() => Field::PowerOff,
        "power-off" => return Err(token.error(ErrorKind::UnexpectedValue(key), line)),
        "critical" if value.is_none() => Field::Critical,
        "critical" => return Err(token.error(ErrorKind::UnexpectedValue(key), line)),
        _ => return Err(token.error(ErrorKind::UnknownField(token.text), line)),
    };
    match field {
        Field::Registers(list) | Field::Needs(list) => {
            check_names(list, token, line)?;
        }
        Field::IoPorts(list) => {
            let mut count = 0;
            for range in list.split(',') {
                parse_range(range).ok_or(token.error(ErrorKind::BadIoRange(range), line))?;
                count += 1;
            }
            if count > IO_RANGES_MAX {
                return Err(token.error(ErrorKind::TooManyIoRanges, line));
            }
        }
        Field::HostPort | Field::PowerOff | Field::Restart(_) | Field::Critical => {}
    }
    Ok(field)
}

/// Checks one program line (the module, each field once, the arguments).
fn check_line<'a>(text: &'a str, line: usize) -> Result<bool, ManifestError<'a>> {
    let mut words = tokens(text);
    let module = match words.next() {
        None => return Ok(false),
        Some(Err(column)) => return Err(ManifestError { line, column, kind: ErrorKind::UnterminatedQuote }),
        Some(Ok(module)) => module,
    };
    if module.text.contains('"') {
        return Err(module.error(ErrorKind::QuoteOutsideArguments, line));
    }
    if !is_module_name(module.text) {
        return Err(module.error(ErrorKind::BadModuleName(module.text), line));
    }
    let mut seen: [&str; 7] = [""; 7];
    let mut restarted: Option<Token<'a>> = None;
    let mut power_off: Option<Token<'a>> = None;
    let mut arguments = false;
    let (mut argument_count, mut argument_bytes) = (0, 0);
    for word in words {
        let word = word.map_err(|column| ManifestError { line, column, kind: ErrorKind::UnterminatedQuote })?;
        if arguments {
            check_argument(&word, line)?;
            argument_count += 1;
            argument_bytes += Argument { text: word.text }.len() + 1;
            if argument_count > ARGUMENTS_MAX {
                return Err(word.error(ErrorKind::TooManyArguments, line));
            }
            if argument_bytes > ARGUMENT_BYTES_MAX {
                return Err(word.error(ErrorKind::ArgumentsTooLong, line));
            }
        } else if word.text == "--" {
            arguments = true;
        } else {
            let field = parse_field(&word, line)?;
            let key = field.key();
            if seen.contains(&key) {
                return Err(word.error(ErrorKind::RepeatedField(key), line));
            }
            if let Some(slot) = seen.iter_mut().find(|slot| slot.is_empty()) {
                *slot = key;
            }
            if matches!(field, Field::Restart(true)) {
                restarted = Some(word);
            }
            if matches!(field, Field::PowerOff) {
                power_off = Some(word);
            }
        }
    }
    if let (Some(word), true) = (restarted, seen.contains(&"critical")) {
        return Err(word.error(ErrorKind::CriticalRestarted, line));
    }
    if let (Some(word), false) = (power_off, seen.contains(&"host-port")) {
        return Err(word.error(ErrorKind::PowerOffWithoutHostPort, line));
    }
    Ok(true)
}

/// One program of a parsed manifest.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    text: &'a str,
    line: usize,
}

impl<'a> Program<'a> {
    /// The words of a checked line (a checked line has no bad quote).
    fn words(&self) -> impl Iterator<Item = Token<'a>> {
        tokens(self.text).map_while(Result::ok)
    }

    fn fields(&self) -> impl Iterator<Item = Field<'a>> {
        let line = self.line;
        self.words().skip(1).take_while(|word| word.text != "--").filter_map(move |word| parse_field(&word, line).ok())
    }

    /// The boot module to start.
    pub fn module(&self) -> &'a str {
        self.words().next().map_or("", |word| word.text)
    }

    /// The manifest line it is on (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The names it may register (and no other program may).
    pub fn registers(&self) -> impl Iterator<Item = &'a str> {
        self.fields()
            .filter_map(|field| if let Field::Registers(list) = field { Some(list) } else { None })
            .flat_map(|list| list.split(','))
    }

    /// The names registered before it is started.
    pub fn needs(&self) -> impl Iterator<Item = &'a str> {
        self.fields()
            .filter_map(|field| if let Field::Needs(list) = field { Some(list) } else { None })
            .flat_map(|list| list.split(','))
    }

    /// Whether it gets a send right to the privileged host port.
    pub fn host_port(&self) -> bool {
        self.fields().any(|field| matches!(field, Field::HostPort))
    }

    /// The I/O port ranges opened to it.
    pub fn io_ports(&self) -> impl Iterator<Item = IoPortRange> + 'a {
        self.fields()
            .filter_map(|field| if let Field::IoPorts(list) = field { Some(list) } else { None })
            .flat_map(|list| list.split(','))
            .filter_map(parse_range)
    }

    /// Whether it may power the machine off (`power-off`).
    pub fn power_off(&self) -> bool {
        self.fields().any(|field| matches!(field, Field::PowerOff))
    }

    /// Whether it is started again when it ends (default: it registers
    /// names and is not critical).
    pub fn restart(&self) -> bool {
        !self.critical()
            && self
                .fields()
                .find_map(|field| if let Field::Restart(restart) = field { Some(restart) } else { None })
                .unwrap_or_else(|| self.registers().next().is_some())
    }

    /// Whether the system cannot go on without it: its end powers the
    /// machine off (after the disks are written back).
    pub fn critical(&self) -> bool {
        self.fields().any(|field| matches!(field, Field::Critical))
    }

    /// Its arguments after `--` (`argv[1..]`).
    pub fn arguments(&self) -> impl Iterator<Item = Argument<'a>> {
        self.words().skip_while(|word| word.text != "--").skip(1).map(|word| Argument { text: word.text })
    }

    /// Whether the manifest lets it register `name`.
    pub fn may_register(&self, name: &str) -> bool {
        self.registers().any(|registered| registered == name)
    }
}

/// Where each program's line is in the text.
#[derive(Clone, Copy, Debug, Default)]
struct LineSpan {
    start: usize,
    end: usize,
    line: usize,
}

/// A checked manifest: consistent, its programs in their order.
#[derive(Clone, Debug)]
pub struct Manifest<'a> {
    text: &'a str,
    lines: [LineSpan; PROGRAMS_MAX],
    count: usize,
}

/// Set of program indexes (at most [`PROGRAMS_MAX`] = 64).
type ProgramSet = u64;

impl<'a> Manifest<'a> {
    /// Parses and checks the manifest in `bytes`.
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Manifest<'a>, ManifestError<'a>> {
        match core::str::from_utf8(bytes) {
            Ok(text) => Manifest::parse(text),
            Err(error) => {
                let valid = &bytes[..error.valid_up_to()];
                let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|&byte| byte == b'\n').map_or(0, |index| index + 1);
                // The valid prefix is UTF-8 by definition.
                let column = core::str::from_utf8(&valid[line_start..]).map_or(1, |text| text.chars().count() + 1);
                Err(ManifestError { line, column, kind: ErrorKind::NotUtf8 })
            }
        }
    }

    /// Parses and checks the manifest `text`.
    pub fn parse(text: &'a str) -> Result<Manifest<'a>, ManifestError<'a>> {
        let mut manifest = Manifest { text, lines: [LineSpan::default(); PROGRAMS_MAX], count: 0 };
        let mut start = 0;
        for (index, line_text) in text.split('\n').enumerate() {
            let line = index + 1;
            let end = start + line_text.len();
            if check_line(line_text, line)? {
                if manifest.count == PROGRAMS_MAX {
                    return Err(ManifestError { line, column: 1, kind: ErrorKind::TooManyPrograms });
                }
                manifest.lines[manifest.count] = LineSpan { start, end, line };
                manifest.count += 1;
            }
            start = end + 1;
        }
        manifest.check_names()?;
        manifest.check_cycles()?;
        Ok(manifest)
    }

    /// How many programs it lists.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Program `index` (in manifest order).
    pub fn program(&self, index: usize) -> Option<Program<'a>> {
        let span = self.lines[..self.count].get(index)?;
        Some(Program { text: &self.text[span.start..span.end], line: span.line })
    }

    /// Every program, in manifest order.
    pub fn programs(&self) -> impl Iterator<Item = Program<'a>> + '_ {
        (0..self.count).filter_map(|index| self.program(index))
    }

    /// The index of the program that registers `name`.
    pub fn provider(&self, name: &str) -> Option<usize> {
        self.programs().position(|program| program.may_register(name))
    }

    /// The column of `name` in the `field=` list of `program`'s line.
    fn column_of(&self, program: &Program<'a>, field: &str, name: &str) -> usize {
        program
            .words()
            .find(|word| {
                word.text
                    .strip_prefix(field)
                    .and_then(|rest| rest.strip_prefix('='))
                    .is_some_and(|list| list.split(',').any(|listed| listed == name))
            })
            .map_or(1, |word| word.column)
    }

    fn check_names(&self) -> Result<(), ManifestError<'a>> {
        for (index, program) in self.programs().enumerate() {
            for name in program.registers() {
                if let Some(first) = self.programs().take(index).find(|earlier| earlier.may_register(name)) {
                    return Err(ManifestError {
                        line: program.line,
                        column: self.column_of(&program, "registers", name),
                        kind: ErrorKind::RegisteredTwice { name, first_line: first.line },
                    });
                }
                // The same name twice in one list.
                if program.registers().filter(|registered| *registered == name).count() > 1 {
                    return Err(ManifestError {
                        line: program.line,
                        column: self.column_of(&program, "registers", name),
                        kind: ErrorKind::RegisteredTwice { name, first_line: program.line },
                    });
                }
            }
            for name in program.needs() {
                if self.provider(name).is_none() {
                    return Err(ManifestError {
                        line: program.line,
                        column: self.column_of(&program, "needs", name),
                        kind: ErrorKind::UnknownNeed(name),
                    });
                }
            }
        }
        Ok(())
    }

    /// The programs whose names `index` needs.
    fn providers_of(&self, index: usize) -> ProgramSet {
        self.program(index)
            .map(|program| {
                program.needs().filter_map(|name| self.provider(name)).fold(0u64, |set, provider| set | 1 << provider)
            })
            .unwrap_or(0)
    }

    /// Every program `index` waits for, directly or through others.
    fn waits_for(&self, index: usize) -> ProgramSet {
        let mut reached: ProgramSet = 0;
        let mut frontier = self.providers_of(index);
        while frontier & !reached != 0 {
            reached |= frontier;
            frontier = (0..self.count)
                .filter(|&other| reached & 1 << other != 0)
                .fold(0u64, |set, other| set | self.providers_of(other));
        }
        reached
    }

    fn check_cycles(&self) -> Result<(), ManifestError<'a>> {
        for (index, program) in self.programs().enumerate() {
            for name in program.needs() {
                let Some(provider) = self.provider(name) else { continue };
                if provider == index || self.waits_for(provider) & 1 << index != 0 {
                    let provider_line = self.program(provider).map_or(0, |provider| provider.line);
                    return Err(ManifestError {
                        line: program.line,
                        column: self.column_of(&program, "needs", name),
                        kind: ErrorKind::Cycle { name, provider_line },
                    });
                }
            }
        }
        Ok(())
    }

    /// The first program not in `started` whose needs are all registered
    /// (as `registered` says), in manifest order: the next to start.
    pub fn next_to_start(&self, started: &StartedSet, registered: impl Fn(&str) -> bool) -> Option<usize> {
        (0..self.count).find(|&index| {
            !started.contains(index) && self.program(index).is_some_and(|program| program.needs().all(&registered))
        })
    }

    /// The order programs start in when each registers its names as soon as
    /// it starts: every program after the providers of its needs, and
    /// otherwise in manifest order. Returns the indexes and their count.
    pub fn start_order(&self) -> ([usize; PROGRAMS_MAX], usize) {
        let mut order = [0; PROGRAMS_MAX];
        let mut started = StartedSet::default();
        let mut count = 0;
        while let Some(index) =
            self.next_to_start(&started, |name| self.provider(name).is_some_and(|provider| started.contains(provider)))
        {
            started.insert(index);
            order[count] = index;
            count += 1;
        }
        (order, count)
    }
}

/// Which programs of a manifest have been started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartedSet(ProgramSet);

impl StartedSet {
    pub fn insert(&mut self, index: usize) {
        if index < PROGRAMS_MAX {
            self.0 |= 1 << index;
        }
    }

    pub fn contains(&self, index: usize) -> bool {
        index < PROGRAMS_MAX && self.0 & 1 << index != 0
    }
}

#[cfg(test)]
mod tests;
