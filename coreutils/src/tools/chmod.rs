//! chmod: changes file mode bits. MODE is octal (644, 4755) or symbolic
//! clauses ([ugoa]*[-+=][rwxXst]* or [ugo], comma-separated), exactly as
//! GNU's mode_compile/mode_adjust interpret them (without a "who" the
//! umask masks the change; directories keep set-id bits an octal mode of
//! four digits or fewer does not mention). -R recurses (links met inside
//! are skipped), -v/-c report, -f is quiet.

use crate::common::{mode_string, quote, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;

const CHANGES: u32 = b'c' as u32;

const COMMAND: Command = Command {
    usage: "[OPTION]... MODE[,MODE]... FILE...\nChange the mode of each FILE to MODE.\n  -c, --changes          like verbose but report only when a change is made\n  -f, --silent, --quiet  suppress most error messages\n  -v, --verbose          output a diagnostic for every file processed\n  -R, --recursive        change files and directories recursively\nEach MODE is of the form '[ugoa]*([-+=]([rwxXst]*|[ugo]))+|[-+=][0-7]+'.\n",
    specs: &[
        Spec::flag(b'c', "changes"),
        Spec::flag(b'f', "silent"),
        Spec { short: 0, long: "quiet", takes: crate::options::Takes::Nothing, id: b'f' as u32 },
        Spec::flag(b'v', "verbose"),
        Spec::flag(b'R', "recursive"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

const MODE_BITS: u32 = 0o7777;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flag {
    Ordinary,
    CopyExisting,
    ExecuteIfAnyExecute,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Clause {
    op: u8,
    flag: Flag,
    affected: u32,
    value: u32,
    mentioned: u32,
}

/// A compiled MODE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeChange(Vec<Clause>);

/// Compiles MODE; None when it is not a valid mode.
pub fn parse_mode(text: &[u8]) -> Option<ModeChange> {
    if !text.is_empty() && text.iter().all(|byte| (b'0'..=b'7').contains(byte)) {
        let mut mode: u32 = 0;
        for &digit in text {
            mode = mode * 8 + (digit - b'0') as u32;
            if mode > MODE_BITS {
                return None;
            }
        }
        let mentioned = if text.len() < 5 { (mode & 0o6000) | 0o1777 } else { MODE_BITS };
        return Some(ModeChange(alloc::vec![Clause {
            op: b'=',
            flag: Flag::Ordinary,
            affected: MODE_BITS,
            value: mode,
            mentioned,
        }]));
    }
    let mut clauses = Vec::new();
    for clause in text.split(|&byte| byte == b',') {
        let mut index = 0;
        let mut affected = 0;
        while let Some(&who) = clause.get(index) {
            match who {
                b'u' => affected |= 0o4700,
                b'g' => affected |= 0o2070,
                b'o' => affected |= 0o1007,
                b'a' => affected |= MODE_BITS,
                _ => break,
            }
            index += 1;
        }
        if !matches!(clause.get(index), Some(b'=') | Some(b'+') | Some(b'-')) {
            return None;
        }
        while let Some(&op) = clause.get(index) {
            if !matches!(op, b'=' | b'+' | b'-') {
                return None;
            }
            index += 1;
            let (flag, value) = match clause.get(index) {
                Some(b'u') => {
                    index += 1;
                    (Flag::CopyExisting, 0o700)
                }
                Some(b'g') => {
                    index += 1;
                    (Flag::CopyExisting, 0o070)
                }
                Some(b'o') => {
                    index += 1;
                    (Flag::CopyExisting, 0o007)
                }
                _ => {
                    let mut value = 0;
                    let mut flag = Flag::Ordinary;
                    while let Some(&permission) = clause.get(index) {
                        match permission {
                            b'r' => value |= 0o444,
                            b'w' => value |= 0o222,
                            b'x' => value |= 0o111,
                            b'X' => flag = Flag::ExecuteIfAnyExecute,
                            b's' => value |= 0o6000,
                            b't' => value |= 0o1000,
                            _ => break,
                        }
                        index += 1;
                    }
                    (flag, value)
                }
            };
            let mentioned = if affected != 0 { affected & value } else { value };
            clauses.push(Clause { op, flag, affected, value, mentioned });
        }
        if index != clause.len() {
            return None;
        }
    }
    Some(ModeChange(clauses))
}

impl ModeChange {
    /// The new mode of a file whose mode is `old` (gnulib's mode_adjust).
    pub fn apply(&self, old: u32, directory: bool, umask: u32) -> u32 {
        let mut mode = old & MODE_BITS;
        for clause in &self.0 {
            let omit = (if directory { 0o6000 } else { 0 }) & !clause.mentioned;
            let mut value = clause.value;
            match clause.flag {
                Flag::Ordinary => {}
                Flag::CopyExisting => {
                    value &= mode;
                    value |= (if value & 0o444 != 0 { 0o444 } else { 0 })
                        | (if value & 0o222 != 0 { 0o222 } else { 0 })
                        | (if value & 0o111 != 0 { 0o111 } else { 0 });
                }
                Flag::ExecuteIfAnyExecute => {
                    if mode & 0o111 != 0 || directory {
                        value |= 0o111;
                    }
                }
            }
            value &= (if clause.affected != 0 { clause.affected } else { !umask }) & !omit;
            match clause.op {
                b'=' => {
                    let preserved = (if clause.affected != 0 { !clause.affected } else { 0 }) | omit;
                    mode = (mode & preserved) | value;
                }
                b'+' => mode |= value,
                _ => mode &= !value,
            }
        }
        mode
    }
}

struct Settings {
    change: ModeChange,
    umask: u32,
    verbose: bool,
    changes_only: bool,
    quiet: bool,
    recursive: bool,
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    // A mode like -w or -rwx looks like options: take it out first, as GNU does.
    let mut rest: Vec<&'static [u8]> = Vec::new();
    let mut mode_text: Option<&'static [u8]> = None;
    let mut seen_double_dash = false;
    for argument in arguments {
        if !seen_double_dash
            && mode_text.is_none()
            && argument.len() > 1
            && argument[0] == b'-'
            && argument[1..].iter().all(|byte| b"rwxXstugoa=+-,0123456789".contains(byte))
            && argument[1] != b'-'
        {
            mode_text = Some(argument);
            continue;
        }
        if *argument == b"--" {
            seen_double_dash = true;
        }
        rest.push(argument);
    }
    let parsed = match COMMAND.parse(&rest) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut operands = parsed.operands.clone();
    let mode_text = match mode_text {
        Some(text) => text,
        None => {
            if operands.is_empty() {
                return COMMAND.usage_error(format_args!("missing operand"));
            }
            operands.remove(0)
        }
    };
    if operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing operand after {}", quote(mode_text)));
    }
    let Some(change) = parse_mode(mode_text) else {
        return COMMAND.usage_error(format_args!("invalid mode: {}", quote(mode_text)));
    };
    let settings = Settings {
        change,
        umask: posix::fs::umask(),
        verbose: parsed.has(b'v'),
        changes_only: parsed.options.iter().any(|found| found.id == CHANGES),
        quiet: parsed.has(b'f'),
        recursive: parsed.has(b'R'),
    };
    let mut status = 0;
    for operand in operands {
        if !change_mode(operand, &settings, true) {
            status = 1;
        }
    }
    status
}

fn describe(mode: u32) -> alloc::string::String {
    let text = mode_string(mode);
    alloc::format!("{:04o} ({})", mode & MODE_BITS, crate::common::Text(&text[1..]))
}

fn change_mode(path: &[u8], settings: &Settings, top: bool) -> bool {
    let stat = if top { posix::fs::stat(path) } else { posix::fs::lstat(path) };
    let stat = match stat {
        Ok(stat) => stat,
        Err(error) => {
            if !settings.quiet {
                complain!("cannot access {}: {}", quote(path), error);
            }
            return false;
        }
    };
    if stat.is_symlink() {
        // Links met while recursing are left alone.
        return true;
    }
    let directory = stat.is_directory();
    let old = stat.st_mode & MODE_BITS;
    let new = settings.change.apply(old, directory, settings.umask);
    let mut ok = true;
    if new != old {
        if let Err(error) = posix::fs::set_mode(path, new) {
            if !settings.quiet {
                complain!("changing permissions of {}: {}", quote(path), error);
            }
            return false;
        }
    }
    if settings.verbose || (settings.changes_only && new != old) {
        if new != old {
            posix::println!("mode of {} changed from {} to {}", quote(path), describe(old), describe(new));
        } else {
            posix::println!("mode of {} retained as {}", quote(path), describe(old));
        }
    }
    // A change the umask kept from happening in full is an error.
    let unmasked = settings.change.apply(old, directory, 0);
    if unmasked != new && !settings.quiet {
        let shown_new = mode_string(stat.st_mode & !MODE_BITS | new);
        let shown_wanted = mode_string(stat.st_mode & !MODE_BITS | unmasked);
        complain!(
            "{}: new permissions are {}, not {}",
            crate::common::Text(path),
            crate::common::Text(&shown_new[1..]),
            crate::common::Text(&shown_wanted[1..])
        );
        ok = false;
    }
    if settings.recursive && directory {
        match posix::fs::read_directory(path) {
            Ok(entries) => {
                let names: Vec<Vec<u8>> = entries.into_iter().map(|entry| entry.name).collect();
                for name in names {
                    ok &= change_mode(&posix::path::join(path, &name), settings, false);
                }
            }
            Err(error) => {
                if !settings.quiet {
                    complain!("cannot read directory {}: {}", quote(path), error);
                }
                ok = false;
            }
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(mode: &str, old: u32, directory: bool, umask: u32) -> u32 {
        parse_mode(mode.as_bytes()).unwrap().apply(old, directory, umask)
    }

    #[test]
    fn octal_modes() {
        assert_eq!(apply("755", 0o644, false, 0o022), 0o755);
        assert_eq!(apply("4755", 0o644, false, 0o022), 0o4755);
        assert_eq!(apply("755", 0o2755, true, 0o022), 0o2755);
        assert_eq!(apply("00755", 0o2755, true, 0o022), 0o755);
        assert!(parse_mode(b"17777").is_none());
    }

    #[test]
    fn symbolic_modes_follow_gnu() {
        assert_eq!(apply("u+x", 0o644, false, 0o022), 0o744);
        assert_eq!(apply("go-r", 0o644, false, 0o022), 0o600);
        assert_eq!(apply("a=r", 0o777, false, 0o022), 0o444);
        assert_eq!(apply("+w", 0o444, false, 0o022), 0o644);
        assert_eq!(apply("=r", 0o777, false, 0o022), 0o444);
        assert_eq!(apply("u=rwx,g=rx,o=", 0o000, false, 0o022), 0o750);
        assert_eq!(apply("g=u", 0o740, false, 0o022), 0o770);
        assert_eq!(apply("o+X", 0o644, false, 0o022), 0o644);
        assert_eq!(apply("o+X", 0o744, false, 0o022), 0o745);
        assert_eq!(apply("a+X", 0o644, true, 0o022), 0o755);
        assert_eq!(apply("u+s,+t", 0o755, false, 0o022), 0o5755);
        assert_eq!(apply("u+x-w", 0o644, false, 0), 0o544);
        assert!(parse_mode(b"x").is_none());
        assert!(parse_mode(b"u+q").is_none());
        assert!(parse_mode(b"").is_none());
    }
}
