//! rm: removes files. -r removes directories and their contents, -d empty
//! directories; -f ignores missing files and never prompts; -i prompts for
//! each file; -v reports. Write-protected files prompt when standard input
//! is a terminal, as GNU's rm does. "/" is refused with -r, "." and ".."
//! always.

use crate::common::{quote, Command};
use crate::complain;
use crate::files::{confirm, kind_name};
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;

const NO_PRESERVE_ROOT: u32 = 300;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nRemove (unlink) the FILE(s).\n  -f, --force           ignore nonexistent files and arguments, never prompt\n  -i                    prompt before every removal\n  -r, -R, --recursive   remove directories and their contents recursively\n  -d, --dir             remove empty directories\n  -v, --verbose         explain what is being done\n      --no-preserve-root  do not treat '/' specially\n",
    specs: &[
        Spec::flag(b'f', "force"),
        Spec::flag(b'i', ""),
        Spec::flag(b'r', "recursive"),
        Spec { short: b'R', long: "", takes: Takes::Nothing, id: b'r' as u32 },
        Spec::flag(b'd', "dir"),
        Spec::flag(b'v', "verbose"),
        Spec::long("no-preserve-root", Takes::Nothing, NO_PRESERVE_ROOT),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

struct Settings {
    force: bool,
    interactive: bool,
    recursive: bool,
    directories: bool,
    verbose: bool,
    terminal: bool,
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    // The later of -f and -i wins.
    let last_choice = parsed.options.iter().rev().find(|found| found.id == b'f' as u32 || found.id == b'i' as u32);
    let settings = Settings {
        force: last_choice.is_some_and(|found| found.id == b'f' as u32),
        interactive: last_choice.is_some_and(|found| found.id == b'i' as u32),
        recursive: parsed.has(b'r'),
        directories: parsed.has(b'd'),
        verbose: parsed.has(b'v'),
        terminal: posix::fd::is_terminal(0),
    };
    if parsed.operands.is_empty() {
        if settings.force {
            return 0;
        }
        return COMMAND.usage_error(format_args!("missing operand"));
    }
    let preserve_root = !parsed.options.iter().any(|found| found.id == NO_PRESERVE_ROOT);
    let mut status = 0;
    for operand in &parsed.operands {
        let base = posix::path::base_name(operand);
        if base == b"." || base == b".." {
            complain!("refusing to remove '.' or '..' directory: skipping {}", quote(operand));
            status = 1;
            continue;
        }
        if settings.recursive && preserve_root && crate::files::absolute(operand) == b"/" {
            complain!("it is dangerous to operate recursively on {}", quote(operand));
            complain!("use --no-preserve-root to override this failsafe");
            status = 1;
            continue;
        }
        if !remove(operand, &settings) {
            status = 1;
        }
    }
    status
}

/// Removes `path`; false if something could not be removed.
fn remove(path: &[u8], settings: &Settings) -> bool {
    let stat = match posix::fs::lstat(path) {
        Ok(stat) => stat,
        Err(error) => {
            if settings.force && error.0 == posix::ENOENT {
                return true;
            }
            complain!("cannot remove {}: {}", quote(path), error);
            return false;
        }
    };
    if stat.is_directory() {
        if !settings.recursive && !settings.directories {
            complain!("cannot remove {}: Is a directory", quote(path));
            return false;
        }
        if settings.recursive {
            let entries = match posix::fs::read_directory(path) {
                Ok(entries) => entries,
                Err(error) => {
                    complain!("cannot remove {}: {}", quote(path), error);
                    return false;
                }
            };
            if !entries.is_empty()
                && settings.interactive
                && !confirm(format_args!("descend into directory {}? ", quote(path)))
            {
                return true;
            }
            let names: Vec<Vec<u8>> = entries.into_iter().map(|entry| entry.name).collect();
            let mut ok = true;
            for name in names {
                ok &= remove(&posix::path::join(path, &name), settings);
            }
            if !ok {
                return false;
            }
        }
        if settings.interactive && !confirm(format_args!("remove directory {}? ", quote(path))) {
            return true;
        }
        return match posix::fs::remove_directory(path) {
            Ok(()) => {
                if settings.verbose {
                    posix::println!("removed directory {}", quote(path));
                }
                true
            }
            Err(error) => {
                complain!("cannot remove {}: {}", quote(path), error);
                false
            }
        };
    }
    let write_protected = !stat.is_symlink() && posix::fs::access(path, posix::W_OK).is_err();
    if settings.interactive || (!settings.force && settings.terminal && write_protected) {
        let protection = if write_protected && !settings.interactive { "write-protected " } else { "" };
        if !confirm(format_args!("remove {}{} {}? ", protection, kind_name(&stat), quote(path))) {
            return true;
        }
    }
    match posix::fs::unlink(path) {
        Ok(()) => {
            if settings.verbose {
                posix::println!("removed {}", quote(path));
            }
            true
        }
        Err(error) => {
            if settings.force && error.0 == posix::ENOENT {
                return true;
            }
            complain!("cannot remove {}: {}", quote(path), error);
            false
        }
    }
}
