//! ln: makes links. TARGET LINK, TARGET (a link of the same name here),
//! TARGET... DIRECTORY, or -t DIRECTORY TARGET.... -s makes symbolic
//! links; -f replaces existing files; -n treats a link to a directory as a
//! file; -T treats LINK as a file; -v reports.

use crate::common::{quote, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[OPTION]... [-T] TARGET LINK_NAME\n  or:  ln [OPTION]... TARGET\n  or:  ln [OPTION]... TARGET... DIRECTORY\n  or:  ln [OPTION]... -t DIRECTORY TARGET...\nCreate links (hard by default, symbolic with --symbolic).\n  -f, --force                 remove existing destination files\n  -n, --no-dereference        treat LINK_NAME as a normal file if it is a symbolic link to a directory\n  -s, --symbolic              make symbolic links instead of hard links\n  -t, --target-directory=DIRECTORY  specify the DIRECTORY in which to create the links\n  -T, --no-target-directory   treat LINK_NAME as a normal file always\n  -v, --verbose               print name of each linked file\n",
    specs: &[
        Spec::flag(b'f', "force"),
        Spec::flag(b'n', "no-dereference"),
        Spec::flag(b's', "symbolic"),
        Spec::value(b't', "target-directory"),
        Spec::flag(b'T', "no-target-directory"),
        Spec::flag(b'v', "verbose"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let symbolic = parsed.has(b's');
    let force = parsed.has(b'f');
    let no_dereference = parsed.has(b'n');
    let verbose = parsed.has(b'v');
    let mut operands = parsed.operands.clone();
    if operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing file operand"));
    }
    let names_directory = |path: &[u8]| {
        if no_dereference && posix::fs::lstat(path).is_ok_and(|stat| stat.is_symlink()) {
            return false;
        }
        posix::fs::stat(path).is_ok_and(|stat| stat.is_directory())
    };
    let (targets, directory): (Vec<&[u8]>, Option<&[u8]>) = match parsed.value(b't' as u32) {
        Some(directory) => (operands, Some(directory)),
        None if operands.len() == 1 => (operands, Some(b".")),
        None => {
            let last = operands.pop().unwrap_or_default();
            if parsed.has(b'T') {
                if operands.len() > 1 {
                    complain!("extra operand {}", quote(operands[1]));
                    return COMMAND.try_help();
                }
                let mut status = 0;
                if !link(operands[0], last, symbolic, force, verbose) {
                    status = 1;
                }
                return status;
            }
            if names_directory(last) {
                (operands, Some(last))
            } else if operands.len() > 1 {
                let error = posix::fs::stat(last).err().unwrap_or(posix::Errno(posix::ENOTDIR));
                complain!("target {}: {}", quote(last), error);
                return 1;
            } else {
                let status = if link(operands[0], last, symbolic, force, verbose) { 0 } else { 1 };
                return status;
            }
        }
    };
    let directory = directory.unwrap_or(b".");
    let mut status = 0;
    for target in targets {
        let name = posix::path::join(directory, posix::path::base_name(target));
        if !link(target, &name, symbolic, force, verbose) {
            status = 1;
        }
    }
    status
}

fn link(target: &[u8], name: &[u8], symbolic: bool, force: bool, verbose: bool) -> bool {
    if !symbolic {
        match posix::fs::stat(target) {
            Ok(stat) if stat.is_directory() => {
                complain!("{}: hard link not allowed for directory", crate::common::quote_if_needed(target));
                return false;
            }
            Ok(_) => {}
            Err(error) => {
                complain!("failed to access {}: {}", quote(target), error);
                return false;
            }
        }
    }
    if force {
        if let Ok(existing) = posix::fs::lstat(name) {
            if existing.is_directory() {
                complain!("{}: cannot overwrite directory", crate::common::quote_if_needed(name));
                return false;
            }
            if !symbolic && posix::fs::stat(target).is_ok_and(|stat| crate::files::same_file(&stat, &existing)) {
                complain!("{} and {} are the same file", quote(target), quote(name));
                return false;
            }
            let _ = posix::fs::unlink(name);
        }
    }
    let result = if symbolic { posix::fs::symbolic_link(target, name) } else { posix::fs::hard_link(target, name) };
    match result {
        Ok(()) => {
            if verbose {
                let arrow = if symbolic { "->" } else { "=>" };
                posix::println!("{} {} {}", quote(name), arrow, quote(target));
            }
            true
        }
        Err(error) => {
            let kind = if symbolic { "symbolic" } else { "hard" };
            if error.0 == posix::EEXIST || symbolic {
                complain!("failed to create {} link {}: {}", kind, quote(name), error);
            } else {
                complain!("failed to create {} link {} => {}: {}", kind, quote(name), quote(target), error);
            }
            false
        }
    }
}
