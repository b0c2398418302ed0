//! mv: renames SOURCE to DEST, or moves SOURCE... into DIRECTORY (or -t
//! DIRECTORY). Across file systems it copies (keeping mode, owner, times
//! and links) and removes the source. -f never asks, -i asks before
//! overwriting, -n never overwrites, -v reports, -T treats DEST as a file.

use crate::common::{mode_string, quote, Command, Text};
use crate::complain;
use crate::files::{absolute, confirm, is_within, same_file, Copier, CopyOptions, Destination};
use crate::options::{Order, Spec};

const COMMAND: Command = Command {
    usage: "[OPTION]... SOURCE DEST\n  or:  mv [OPTION]... SOURCE... DIRECTORY\n  or:  mv [OPTION]... -t DIRECTORY SOURCE...\nRename SOURCE to DEST, or move SOURCE(s) to DIRECTORY.\n  -f, --force                  do not prompt before overwriting\n  -i, --interactive            prompt before overwrite\n  -n, --no-clobber             do not overwrite an existing file\n  -t, --target-directory=DIRECTORY  move all SOURCE arguments into DIRECTORY\n  -T, --no-target-directory    treat DEST as a normal file\n  -v, --verbose                explain what is being done\n",
    specs: &[
        Spec::flag(b'f', "force"),
        Spec::flag(b'i', "interactive"),
        Spec::flag(b'n', "no-clobber"),
        Spec::value(b't', "target-directory"),
        Spec::flag(b'T', "no-target-directory"),
        Spec::flag(b'v', "verbose"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Overwrite {
    Ask,
    Force,
    Never,
    Default,
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut overwrite = Overwrite::Default;
    for found in &parsed.options {
        match found.id as u8 {
            b'f' => overwrite = Overwrite::Force,
            b'i' => overwrite = Overwrite::Ask,
            b'n' => overwrite = Overwrite::Never,
            _ => {}
        }
    }
    let verbose = parsed.has(b'v');
    let destination = match Destination::from_operands(
        &COMMAND,
        parsed.operands.clone(),
        parsed.value(b't' as u32),
        parsed.has(b'T'),
    ) {
        Ok(destination) => destination,
        Err(status) => return status,
    };
    let terminal = posix::fd::is_terminal(0);
    let mut status = 0;
    for &source in &destination.sources {
        let target = destination.target(source);
        if !move_one(source, &target, overwrite, verbose, terminal) {
            status = 1;
        }
    }
    status
}

fn move_one(source: &[u8], target: &[u8], overwrite: Overwrite, verbose: bool, terminal: bool) -> bool {
    let source_stat = match posix::fs::lstat(source) {
        Ok(stat) => stat,
        Err(error) => {
            complain!("cannot stat {}: {}", quote(source), error);
            return false;
        }
    };
    let target_stat = posix::fs::lstat(target).ok();
    if let Some(existing) = &target_stat {
        if same_file(existing, &source_stat) {
            complain!("{} and {} are the same file", quote(source), quote(target));
            return false;
        }
        match overwrite {
            Overwrite::Never => return true,
            Overwrite::Ask if !confirm(format_args!("overwrite {}? ", quote(target))) => return true,
            Overwrite::Default
                if terminal && !existing.is_symlink() && posix::fs::access(target, posix::W_OK).is_err() =>
            {
                let mode = mode_string(existing.st_mode);
                if !confirm(format_args!(
                    "replace {}, overriding mode {:04o} ({})? ",
                    quote(target),
                    existing.st_mode & 0o7777,
                    Text(&mode[1..])
                )) {
                    return true;
                }
            }
            _ => {}
        }
        if existing.is_directory() && !source_stat.is_directory() {
            complain!("cannot overwrite directory {} with non-directory", quote(target));
            return false;
        }
        if !existing.is_directory() && source_stat.is_directory() {
            complain!("cannot overwrite non-directory {} with directory {}", quote(target), quote(source));
            return false;
        }
    }
    if source_stat.is_directory() && is_within(&absolute(target), &absolute(source)) {
        complain!("cannot move {} to a subdirectory of itself, {}", quote(source), quote(target));
        return false;
    }
    match posix::fs::rename(source, target) {
        Ok(()) => {}
        Err(error) if error.0 == posix::EXDEV => {
            // Another file system: copy everything, then remove the original.
            let options = CopyOptions {
                recursive: true,
                no_dereference: true,
                preserve_mode: true,
                preserve_ownership: true,
                preserve_times: true,
                force: true,
                ..CopyOptions::default()
            };
            if target_stat.as_ref().is_some_and(|stat| stat.is_directory()) {
                let _ = posix::fs::remove_directory(target);
            }
            if !Copier::new(options).copy_operand(source, target) || !remove_tree(source) {
                return false;
            }
        }
        Err(error) => {
            complain!("cannot move {} to {}: {}", quote(source), quote(target), error);
            return false;
        }
    }
    if verbose {
        posix::println!("renamed {} -> {}", quote(source), quote(target));
    }
    true
}

fn remove_tree(path: &[u8]) -> bool {
    let Ok(stat) = posix::fs::lstat(path) else { return false };
    if stat.is_directory() {
        let Ok(entries) = posix::fs::read_directory(path) else { return false };
        let mut ok = true;
        for entry in entries {
            ok &= remove_tree(&posix::path::join(path, &entry.name));
        }
        if let Err(error) = posix::fs::remove_directory(path) {
            complain!("cannot remove {}: {}", quote(path), error);
            return false;
        }
        return ok;
    }
    match posix::fs::unlink(path) {
        Ok(()) => true,
        Err(error) => {
            complain!("cannot remove {}: {}", quote(path), error);
            false
        }
    }
}
