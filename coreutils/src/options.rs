//! Command-line options as GNU's getopt_long reads them: clustered short
//! options (`-la`), values attached or separate (`-w80`, `-w 80`), long
//! options with unique-prefix abbreviation (`--all`, `--wid=80`), `--`
//! ending the options, and operands mixed with options (moved behind them)
//! unless the tool asks for POSIX order. Errors carry GNU's wording.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Whether an option takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    Nothing,
    /// A required value (`-w 80`, `--width=80`, `--width 80`).
    Value,
    /// A value only when attached (`--color=never`; `--color` alone has none).
    OptionalValue,
}

/// One option a tool accepts: its short letter (0 for none), long name
/// ("" for none) and an identifier (the short letter, or any unique number).
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub short: u8,
    pub long: &'static str,
    pub takes: Takes,
    pub id: u32,
}

impl Spec {
    /// A short option `-x` that also has a long name (or "").
    pub const fn flag(short: u8, long: &'static str) -> Spec {
        Spec { short, long, takes: Takes::Nothing, id: short as u32 }
    }

    /// A short option with a value.
    pub const fn value(short: u8, long: &'static str) -> Spec {
        Spec { short, long, takes: Takes::Value, id: short as u32 }
    }

    /// A long-only option with identifier `id` (keep it above 255).
    pub const fn long(long: &'static str, takes: Takes, id: u32) -> Spec {
        Spec { short: 0, long, takes, id }
    }
}

/// The identifier of the `--help` option every tool accepts.
pub const HELP: u32 = 0x1_0000;

/// An option found on the command line, with its value if it took one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found<'a> {
    pub id: u32,
    pub value: Option<&'a [u8]>,
}

/// The options in order, then the operands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub options: Vec<Found<'a>>,
    pub operands: Vec<&'a [u8]>,
}

impl<'a> Parsed<'a> {
    /// Whether option `id` was given.
    pub fn has(&self, id: u8) -> bool {
        self.options.iter().any(|found| found.id == id as u32)
    }

    /// The value of the last occurrence of option `id`.
    pub fn value(&self, id: u32) -> Option<&'a [u8]> {
        self.options.iter().rev().find(|found| found.id == id).and_then(|found| found.value)
    }
}

/// Why the command line was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError {
    UnknownShort(u8),
    UnknownLong(Vec<u8>),
    MissingShortValue(u8),
    MissingLongValue(&'static str),
    UnexpectedValue(&'static str),
    Ambiguous(Vec<u8>, Vec<&'static str>),
}

impl UsageError {
    /// The message getopt_long prints (without the program name).
    pub fn message(&self) -> String {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match self {
            UsageError::UnknownShort(letter) => format!("invalid option -- '{}'", char::from(*letter)),
            UsageError::UnknownLong(name) => format!("unrecognized option '{}'", text(name)),
            UsageError::MissingShortValue(letter) => {
                format!("option requires an argument -- '{}'", char::from(*letter))
            }
            UsageError::MissingLongValue(name) => format!("option '--{}' requires an argument", name),
            UsageError::UnexpectedValue(name) => format!("option '--{}' doesn't allow an argument", name),
            UsageError::Ambiguous(given, candidates) => {
                let mut message = format!("option '{}' is ambiguous; possibilities:", text(given));
                for candidate in candidates {
                    message.push_str(&format!(" '--{}'", candidate));
                }
                message
            }
        }
    }
}

/// Options come first (`Posix`: the first operand ends them) or anywhere (`Gnu`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Gnu,
    Posix,
}

/// Parses `arguments` (without the program name) against `specs`.
pub fn parse<'a>(arguments: &[&'a [u8]], specs: &[Spec], order: Order) -> Result<Parsed<'a>, UsageError> {
    let mut parsed = Parsed::default();
    let mut index = 0;
    while index < arguments.len() {
        let argument = arguments[index];
        index += 1;
        if argument == b"--" {
            parsed.operands.extend_from_slice(&arguments[index..]);
            break;
        }
        if let Some(long) = argument.strip_prefix(b"--") {
            let (name, attached) = match long.iter().position(|&byte| byte == b'=') {
                Some(equals) => (&long[..equals], Some(&long[equals + 1..])),
                None => (long, None),
            };
            let spec = find_long(specs, name, argument)?;
            let value = match (spec.takes, attached) {
                (Takes::Nothing, Some(_)) => return Err(UsageError::UnexpectedValue(spec.long)),
                (Takes::Nothing, None) => None,
                (Takes::OptionalValue, value) => value,
                (Takes::Value, Some(value)) => Some(value),
                (Takes::Value, None) => {
                    let value = arguments.get(index).ok_or(UsageError::MissingLongValue(spec.long))?;
                    index += 1;
                    Some(*value)
                }
            };
            parsed.options.push(Found { id: spec.id, value });
            continue;
        }
        if argument.len() > 1 && argument[0] == b'-' {
            let mut position = 1;
            while position < argument.len() {
                let letter = argument[position];
                position += 1;
                let spec = specs
                    .iter()
                    .find(|spec| spec.short != 0 && spec.short == letter)
                    .ok_or(UsageError::UnknownShort(letter))?;
                match spec.takes {
                    Takes::Nothing => parsed.options.push(Found { id: spec.id, value: None }),
                    Takes::OptionalValue => {
                        let rest = &argument[position..];
                        parsed.options.push(Found { id: spec.id, value: (!rest.is_empty()).then_some(rest) });
                        break;
                    }
                    Takes::Value => {
                        let rest = &argument[position..];
                        let value = if !rest.is_empty() {
                            rest
                        } else {
                            let value = arguments.get(index).ok_or(UsageError::MissingShortValue(letter))?;
                            index += 1;
                            value
                        };
                        parsed.options.push(Found { id: spec.id, value: Some(value) });
                        break;
                    }
                }
            }
            continue;
        }
        parsed.operands.push(argument);
        if order == Order::Posix {
            parsed.operands.extend_from_slice(&arguments[index..]);
            break;
        }
    }
    Ok(parsed)
}

/// The spec a long name (or a unique prefix of one) names; `--help` is
/// always known.
fn find_long<'s>(specs: &'s [Spec], name: &[u8], argument: &[u8]) -> Result<&'s Spec, UsageError> {
    const HELP_SPEC: Spec = Spec::long("help", Takes::Nothing, HELP);
    let all = specs.iter().chain(core::iter::once(&HELP_SPEC));
    if let Some(exact) = all.clone().find(|spec| !spec.long.is_empty() && spec.long.as_bytes() == name) {
        return Ok(exact);
    }
    let candidates: Vec<&Spec> = all
        .filter(|spec| !spec.long.is_empty() && !name.is_empty() && spec.long.as_bytes().starts_with(name))
        .collect();
    match candidates.len() {
        0 => {
            let shown = argument.iter().position(|&byte| byte == b'=').map_or(argument, |equals| &argument[..equals]);
            Err(UsageError::UnknownLong(shown.to_vec()))
        }
        1 => Ok(candidates[0]),
        _ => {
            // Several names for the same option are not ambiguous.
            if candidates.iter().all(|spec| spec.id == candidates[0].id) {
                return Ok(candidates[0]);
            }
            let shown = argument.iter().position(|&byte| byte == b'=').map_or(argument, |equals| &argument[..equals]);
            Err(UsageError::Ambiguous(shown.to_vec(), candidates.iter().map(|spec| spec.long).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const SPECS: &[Spec] = &[
        Spec::flag(b'a', "all"),
        Spec::flag(b'l', ""),
        Spec::value(b'w', "width"),
        Spec::long("color", Takes::OptionalValue, 300),
        Spec::long("colour", Takes::OptionalValue, 300),
        Spec::long("context", Takes::Nothing, 301),
    ];

    fn run(arguments: &[&'static str], order: Order) -> Result<Parsed<'static>, UsageError> {
        let bytes: Vec<&'static [u8]> = arguments.iter().map(|text| text.as_bytes()).collect();
        parse(&bytes, SPECS, order)
    }

    #[test]
    fn clusters_values_and_operands() {
        let parsed = run(&["-law", "80", "file", "--all", "-w40", "--", "-l"], Order::Gnu).unwrap();
        assert_eq!(
            parsed.options,
            vec![
                Found { id: b'l' as u32, value: None },
                Found { id: b'a' as u32, value: None },
                Found { id: b'w' as u32, value: Some(b"80") },
                Found { id: b'a' as u32, value: None },
                Found { id: b'w' as u32, value: Some(b"40") },
            ]
        );
        assert_eq!(parsed.operands, vec![&b"file"[..], b"-l"]);
        assert_eq!(parsed.value(b'w' as u32), Some(&b"40"[..]));
    }

    #[test]
    fn long_options_abbreviate_and_take_values() {
        let parsed = run(&["--wid=9", "--width", "7", "--colo", "--color=never", "--al", "-"], Order::Gnu).unwrap();
        assert_eq!(parsed.value(b'w' as u32), Some(&b"7"[..]));
        assert_eq!(parsed.options[2], Found { id: 300, value: None });
        assert_eq!(parsed.options[3], Found { id: 300, value: Some(b"never") });
        assert!(parsed.has(b'a'));
        assert_eq!(parsed.operands, vec![&b"-"[..]]);
        assert!(run(&["--help"], Order::Gnu).unwrap().options[0].id == HELP);
    }

    #[test]
    fn posix_order_stops_at_the_first_operand() {
        let parsed = run(&["-a", "file", "-l"], Order::Posix).unwrap();
        assert_eq!(parsed.operands, vec![&b"file"[..], b"-l"]);
        assert!(!parsed.has(b'l'));
    }

    #[test]
    fn errors_read_as_getopt_prints_them() {
        assert_eq!(run(&["-z"], Order::Gnu).unwrap_err().message(), "invalid option -- 'z'");
        assert_eq!(run(&["--bogus=1"], Order::Gnu).unwrap_err().message(), "unrecognized option '--bogus'");
        assert_eq!(run(&["-w"], Order::Gnu).unwrap_err().message(), "option requires an argument -- 'w'");
        assert_eq!(run(&["--width"], Order::Gnu).unwrap_err().message(), "option '--width' requires an argument");
        assert_eq!(run(&["--all=1"], Order::Gnu).unwrap_err().message(), "option '--all' doesn't allow an argument");
        assert_eq!(
            run(&["--co"], Order::Gnu).unwrap_err().message(),
            "option '--co' is ambiguous; possibilities: '--color' '--colour' '--context'"
        );
    }
}
