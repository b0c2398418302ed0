//! What the tools share: the command description and its option parsing
//! with GNU's messages, error reporting ("ls: cannot access 'x': No such
//! file or directory"), quoting of names in messages, opening operands
//! ("-" is standard input), and number formats.

use crate::options::{self, Order, Parsed, Spec, HELP};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use posix::io::{BufferedReader, Source};
use posix::{eprintln, print, Errno, Fd};

/// The name messages start with: the tool being run.
pub fn name() -> &'static str {
    core::str::from_utf8(posix::io::program_name()).unwrap_or("coreutils")
}

/// Prints "TOOL: message" on standard error.
#[macro_export]
macro_rules! complain {
    ($($argument:tt)*) => {
        posix::eprintln!("{}: {}", $crate::common::name(), format_args!($($argument)*))
    };
}

/// A tool's command line: its usage text, options and how a usage error exits.
pub struct Command {
    /// The synopsis and option list `--help` prints, after "Usage: ".
    pub usage: &'static str,
    pub specs: &'static [Spec],
    pub order: Order,
    /// The status of a usage error (1 for most tools; 2 for ls, grep, diff...).
    pub usage_status: i32,
    /// diffutils print "cmp: Try 'cmp --help'..." with the program name.
    pub try_with_name: bool,
}

impl Command {
    /// Parses the arguments after the tool name. On a usage error prints
    /// getopt's message and "Try 'TOOL --help' for more information." and
    /// returns `Err(usage_status)`; `--help` prints the usage and returns `Err(0)`.
    pub fn parse<'a>(&self, arguments: &[&'a [u8]]) -> Result<Parsed<'a>, i32> {
        match options::parse(arguments, self.specs, self.order) {
            Ok(parsed) => {
                if parsed.options.iter().any(|found| found.id == HELP) {
                    print!("Usage: {} {}", name(), self.usage);
                    return Err(0);
                }
                Ok(parsed)
            }
            Err(error) => {
                eprintln!("{}: {}", name(), error.message());
                Err(self.try_help())
            }
        }
    }

    /// Prints GNU's pointer to `--help` and returns the usage status.
    pub fn try_help(&self) -> i32 {
        if self.try_with_name {
            eprintln!("{}: Try '{} --help' for more information.", name(), name());
        } else {
            eprintln!("Try '{} --help' for more information.", name());
        }
        self.usage_status
    }

    /// A usage problem the parser cannot see ("missing operand"): prints it
    /// with the pointer to `--help`, returns the usage status.
    pub fn usage_error(&self, message: fmt::Arguments<'_>) -> i32 {
        eprintln!("{}: {}", name(), message);
        self.try_help()
    }
}

/// A byte string shown in text: valid UTF-8 as it is, other bytes as `\xNN`
/// (messages; file contents and listings are written as raw bytes).
pub struct Text<'a>(pub &'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            formatter.write_str(chunk.valid())?;
            for byte in chunk.invalid() {
                write!(formatter, "\\{:03o}", byte)?;
            }
        }
        Ok(())
    }
}

/// A name quoted as GNU's messages quote it (`quotearg`'s
/// shell-escape-always style): 'name', "it's", or 'a'$'\n''b' for control
/// characters.
pub fn quote(name: &[u8]) -> String {
    let needs_escape = name.iter().any(|&byte| byte < 0x20 || byte == 0x7f) || core::str::from_utf8(name).is_err();
    if !needs_escape {
        if !name.contains(&b'\'') {
            return format!("'{}'", Text(name));
        }
        if !name.iter().any(|&byte| matches!(byte, b'"' | b'$' | b'`' | b'\\')) {
            return format!("\"{}\"", Text(name));
        }
    }
    let mut quoted = String::from("'");
    for chunk in name.utf8_chunks() {
        for character in chunk.valid().chars() {
            match character {
                '\'' => quoted.push_str("'\\''"),
                control if (control as u32) < 0x20 || control as u32 == 0x7f => {
                    let escape = match control {
                        '\n' => String::from("\\n"),
                        '\t' => String::from("\\t"),
                        '\r' => String::from("\\r"),
                        '\x07' => String::from("\\a"),
                        '\x08' => String::from("\\b"),
                        '\x0b' => String::from("\\v"),
                        '\x0c' => String::from("\\f"),
                        '\x1b' => String::from("\\E"),
                        other => format!("\\{:03o}", other as u32),
                    };
                    quoted.push_str(&format!("'$'{}''", escape));
                }
                other => quoted.push(other),
            }
        }
        for byte in chunk.invalid() {
            quoted.push_str(&format!("'$'\\{:03o}''", byte));
        }
    }
    quoted.push('\'');
    // 'a'$'\n''' ends with an empty pair GNU leaves out.
    if quoted.ends_with("''") && quoted.len() > 2 && !quoted.ends_with("\\''") {
        quoted.truncate(quoted.len() - 2);
    }
    quoted
}

/// A name as GNU's `quotef` shows it: as it is when a shell would read it
/// unchanged, else quoted as `quote` does.
pub fn quote_if_needed(name: &[u8]) -> String {
    // The characters quotearg's shell style leaves bare ('#' and '~' only after the start).
    let plain = !name.is_empty()
        && !matches!(name[0], b'#' | b'~')
        && name.iter().all(|byte| byte.is_ascii_alphanumeric() || b",._+:@%/-#~{}]".contains(byte));
    if plain {
        format!("{}", Text(name))
    } else {
        quote(name)
    }
}

/// An input operand: a file, or standard input for "-" (not closed on drop).
pub struct Input {
    fd: Option<Fd>,
    standard: bool,
}

impl Input {
    /// Opens `operand` for reading ("-" is standard input).
    pub fn open(operand: &[u8]) -> Result<Input, Errno> {
        if operand == b"-" {
            return Ok(Input::standard());
        }
        let fd = posix::fd::open(operand, posix::O_RDONLY | posix::O_CLOEXEC, 0)?;
        Ok(Input { fd: Some(fd), standard: false })
    }

    /// Standard input.
    pub fn standard() -> Input {
        Input { fd: Some(Fd::from_raw(0)), standard: true }
    }

    /// The descriptor.
    pub fn fd(&self) -> &Fd {
        self.fd.as_ref().expect("an input holds its descriptor until dropped")
    }

    /// The descriptor number.
    pub fn raw(&self) -> i32 {
        self.fd().raw()
    }

    /// A buffered reader over it.
    pub fn reader(self) -> BufferedReader<Input> {
        BufferedReader::new(self)
    }

    /// Everything it holds.
    pub fn read_all(self) -> Result<Vec<u8>, Errno> {
        let mut data = Vec::new();
        self.fd().read_to_end(&mut data)?;
        Ok(data)
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        if self.standard {
            if let Some(fd) = self.fd.take() {
                fd.into_raw();
            }
        }
    }
}

impl Source for Input {
    fn read_into(&mut self, buffer: &mut [u8]) -> Result<usize, Errno> {
        self.fd().read(buffer)
    }
}

/// Reads `operand` whole ("-" is standard input).
pub fn read_operand(operand: &[u8]) -> Result<Vec<u8>, Errno> {
    Input::open(operand)?.read_all()
}

/// Writes bytes to standard output (buffered).
pub fn output(bytes: &[u8]) {
    posix::io::stdout().write_bytes(bytes);
}

/// A size as `-h` prints it (GNU's human-readable form, powers of 1024):
/// "0", "1023", "1.0K", "9.9K", "10K", "1.5M"; rounded up, as GNU does.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 8] = ["K", "M", "G", "T", "P", "E", "Z", "Y"];
    if bytes < 1024 {
        return format!("{}", bytes);
    }
    let mut unit = 0;
    let mut scale: u128 = 1024;
    while unit + 1 < UNITS.len() && (bytes as u128) >= scale * 1024 {
        scale *= 1024;
        unit += 1;
    }
    let value = bytes as u128;
    // Tenths, rounded up.
    let tenths = (value * 10).div_ceil(scale);
    if tenths < 100 {
        return format!("{}.{}{}", tenths / 10, tenths % 10, UNITS[unit]);
    }
    let whole = value.div_ceil(scale);
    if whole >= 1024 && unit + 1 < UNITS.len() {
        // Rounding up reached the next unit: 1023.9K is 1.0M.
        return format!("1.0{}", UNITS[unit + 1]);
    }
    format!("{}{}", whole, UNITS[unit])
}

/// The ten-character mode `ls -l` prints ("drwxr-xr-x", "-rwsr-xr-T").
pub fn mode_string(mode: u32) -> [u8; 10] {
    let kind = match mode & posix::S_IFMT {
        posix::S_IFDIR => b'd',
        posix::S_IFLNK => b'l',
        posix::S_IFCHR => b'c',
        posix::S_IFBLK => b'b',
        posix::S_IFIFO => b'p',
        posix::S_IFSOCK => b's',
        _ => b'-',
    };
    let bit = |mask: u32, letter: u8| if mode & mask != 0 { letter } else { b'-' };
    let special = |execute: bool, set: bool, on: u8, off: u8| match (execute, set) {
        (true, true) => on,
        (false, true) => off,
        (true, false) => b'x',
        (false, false) => b'-',
    };
    [
        kind,
        bit(0o400, b'r'),
        bit(0o200, b'w'),
        special(mode & 0o100 != 0, mode & posix::S_ISUID != 0, b's', b'S'),
        bit(0o040, b'r'),
        bit(0o020, b'w'),
        special(mode & 0o010 != 0, mode & posix::S_ISGID != 0, b's', b'S'),
        bit(0o004, b'r'),
        bit(0o002, b'w'),
        special(mode & 0o001 != 0, mode & posix::S_ISVTX != 0, b't', b'T'),
    ]
}

/// A decimal number (an optional sign, digits), as the tools' options take.
pub fn parse_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for &digit in digits {
        value = value.checked_mul(10)?.checked_add((digit - b'0') as i64)?;
    }
    Some(if negative { -value } else { value })
}

/// head's and tail's `-n`/`-c` value (`option`): its sign (`+`, `-` or
/// none) and its size. An invalid one is reported ("invalid number of
/// lines: 'x'") and gives None.
pub fn signed_count(option: u8, value: &[u8]) -> Option<(Option<u8>, u64)> {
    let (sign, digits) = match value.first() {
        Some(&sign @ (b'+' | b'-')) => (Some(sign), &value[1..]),
        _ => (None, value),
    };
    let count = parse_size(digits);
    if count.is_none() {
        let what = if option == b'c' { "bytes" } else { "lines" };
        crate::complain!("invalid number of {}: {}", what, quote(value));
    }
    count.map(|count| (sign, count))
}

/// The "==> NAME <==" line head and tail print before each file's part
/// when there are several (after a blank line but for the first).
pub fn file_header(operand: &[u8], blank_line: bool) {
    let name: &[u8] = if operand == b"-" { b"standard input" } else { operand };
    if blank_line {
        output(b"\n");
    }
    print!("==> {} <==\n", Text(name));
}

/// A count with GNU's multiplier suffixes (head -c 2K, tail -n 1M):
/// b=512, K/KiB=1024, KB=1000, M, G, T... Returns None when malformed or too large.
pub fn parse_size(text: &[u8]) -> Option<u64> {
    let split = text.iter().position(|byte| !byte.is_ascii_digit()).unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let number: u64 = if digits.is_empty() {
        if suffix.is_empty() {
            return None;
        }
        1
    } else {
        core::str::from_utf8(digits).ok()?.parse().ok()?
    };
    let power = |base: u64, exponent: u32| base.checked_pow(exponent);
    let multiplier = match suffix {
        b"" => 1,
        b"b" => 512,
        b"c" => 1,
        b"w" => 2,
        _ => {
            let letters = b"KMGTPEZY";
            let unit = suffix[0].to_ascii_uppercase();
            let exponent = letters.iter().position(|&letter| letter == unit)? as u32 + 1;
            if suffix[0] == b'k' && suffix.len() > 1 {
                return None;
            }
            match &suffix[1..] {
                b"" | b"iB" => power(1024, exponent)?,
                b"B" => power(1000, exponent)?,
                _ => return None,
            }
        }
    };
    number.checked_mul(multiplier)
}

/// Exit status helper: the worse of two.
pub fn worst(a: i32, b: i32) -> i32 {
    a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_round_up_as_gnu_does() {
        let cases = [
            (0, "0"),
            (1023, "1023"),
            (1024, "1.0K"),
            (1025, "1.1K"),
            (1536, "1.5K"),
            (10 * 1024 - 1, "10K"),
            (10 * 1024, "10K"),
            (10 * 1024 + 1, "11K"),
            (1024 * 1024 - 1, "1.0M"),
            (1024 * 1024, "1.0M"),
            (5 * 1024 * 1024 * 1024, "5.0G"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(human_size(bytes), expected, "{bytes}");
        }
    }

    #[test]
    fn mode_strings_show_special_bits() {
        assert_eq!(&mode_string(0o040755), b"drwxr-xr-x");
        assert_eq!(&mode_string(0o104755), b"-rwsr-xr-x");
        assert_eq!(&mode_string(0o102644), b"-rw-r-Sr--");
        assert_eq!(&mode_string(0o041777), b"drwxrwxrwt");
        assert_eq!(&mode_string(0o041776), b"drwxrwxrwT");
        assert_eq!(&mode_string(0o120777), b"lrwxrwxrwx");
    }

    #[test]
    fn names_are_quoted_like_gnu() {
        assert_eq!(quote(b"plain"), "'plain'");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "\"it's\"");
        assert_eq!(quote(b"it's $x"), "'it'\\''s $x'");
        assert_eq!(quote(b"a\nb"), "'a'$'\\n''b'");
        assert_eq!(quote(b"a\n"), "'a'$'\\n'");
        assert_eq!(quote(b"\tb"), "''$'\\t''b'");
        assert_eq!(quote(b"a\x01b"), "'a'$'\\001''b'");
        assert_eq!(quote(b"\xff"), "''$'\\377'");
    }

    #[test]
    fn plain_names_stay_unquoted() {
        assert_eq!(quote_if_needed(b"tree"), "tree");
        assert_eq!(quote_if_needed(b"a/b-c.d"), "a/b-c.d");
        assert_eq!(quote_if_needed(b"a b"), "'a b'");
        assert_eq!(quote_if_needed(b"~x"), "'~x'");
        assert_eq!(quote_if_needed(b""), "''");
        assert_eq!(quote_if_needed(b"%#1u"), "%#1u");
        assert_eq!(quote_if_needed(b"a=b"), "'a=b'");
    }

    #[test]
    fn sizes_take_gnu_suffixes() {
        assert_eq!(parse_size(b"10"), Some(10));
        assert_eq!(parse_size(b"2K"), Some(2048));
        assert_eq!(parse_size(b"2k"), Some(2048));
        assert_eq!(parse_size(b"2KB"), Some(2000));
        assert_eq!(parse_size(b"1MiB"), Some(1 << 20));
        assert_eq!(parse_size(b"3b"), Some(1536));
        assert_eq!(parse_size(b"x"), None);
        assert_eq!(parse_size(b"99999999999999999999"), None);
        assert_eq!(parse_integer(b"-42"), Some(-42));
        assert_eq!(parse_integer(b"4x"), None);
    }

    #[test]
    fn head_and_tail_counts_keep_their_sign() {
        assert_eq!(signed_count(b'n', b"5"), Some((None, 5)));
        assert_eq!(signed_count(b'n', b"+5"), Some((Some(b'+'), 5)));
        assert_eq!(signed_count(b'c', b"-2K"), Some((Some(b'-'), 2048)));
        assert_eq!(signed_count(b'c', b"--2"), None);
        assert_eq!(signed_count(b'n', b""), None);
    }
}
