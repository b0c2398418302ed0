//! cp: copies files and, with -r, directories. SOURCE DEST, or SOURCE...
//! DIRECTORY (or -t DIRECTORY SOURCE...). -p keeps mode, owner and times,
//! -a is -dR with everything kept; -P/-d copy links as links (the default
//! with -R), -L follows them; -f replaces what cannot be opened, -n never
//! overwrites, -i asks; -l makes hard links; -v reports.

use crate::common::{quote, Command};
use crate::complain;
use crate::files::{Copier, CopyOptions, Destination};
use crate::options::{Order, Spec, Takes};

const PRESERVE: u32 = 300;

const COMMAND: Command = Command {
    usage: "[OPTION]... SOURCE DEST\n  or:  cp [OPTION]... SOURCE... DIRECTORY\n  or:  cp [OPTION]... -t DIRECTORY SOURCE...\nCopy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY.\n  -a, --archive                same as -dR --preserve=all\n  -d                           same as --no-dereference --preserve=links\n  -f, --force                  if an existing destination file cannot be opened, remove it and try again\n  -i, --interactive            prompt before overwrite\n  -l, --link                   hard link files instead of copying\n  -L, --dereference            always follow symbolic links in SOURCE\n  -n, --no-clobber             do not overwrite an existing file\n  -P, --no-dereference         never follow symbolic links in SOURCE\n  -p                           same as --preserve=mode,ownership,timestamps\n      --preserve[=ATTR_LIST]   preserve the specified attributes\n  -R, -r, --recursive          copy directories recursively\n  -t, --target-directory=DIRECTORY  copy all SOURCE arguments into DIRECTORY\n  -T, --no-target-directory    treat DEST as a normal file\n  -v, --verbose                explain what is being done\n",
    specs: &[
        Spec::flag(b'a', "archive"),
        Spec::flag(b'd', ""),
        Spec::flag(b'f', "force"),
        Spec::flag(b'i', "interactive"),
        Spec::flag(b'l', "link"),
        Spec::flag(b'L', "dereference"),
        Spec::flag(b'n', "no-clobber"),
        Spec::flag(b'P', "no-dereference"),
        Spec::flag(b'p', ""),
        Spec::long("preserve", Takes::OptionalValue, PRESERVE),
        Spec::flag(b'R', "recursive"),
        Spec { short: b'r', long: "", takes: Takes::Nothing, id: b'R' as u32 },
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
    let mut options = CopyOptions::default();
    let mut dereference: Option<bool> = None;
    for found in &parsed.options {
        match found.id {
            id if id == b'a' as u32 => {
                options.recursive = true;
                dereference = Some(false);
                options.preserve_mode = true;
                options.preserve_ownership = true;
                options.preserve_times = true;
            }
            id if id == b'd' as u32 || id == b'P' as u32 => dereference = Some(false),
            id if id == b'L' as u32 => dereference = Some(true),
            id if id == b'f' as u32 => {
                options.force = true;
                options.interactive = false;
                options.no_clobber = false;
            }
            id if id == b'i' as u32 => {
                options.interactive = true;
                options.no_clobber = false;
            }
            id if id == b'n' as u32 => {
                options.no_clobber = true;
                options.interactive = false;
            }
            id if id == b'l' as u32 => options.link = true,
            id if id == b'p' as u32 => {
                options.preserve_mode = true;
                options.preserve_ownership = true;
                options.preserve_times = true;
            }
            PRESERVE => {
                let list: &[u8] = found.value.unwrap_or(b"mode,ownership,timestamps");
                for attribute in list.split(|&byte| byte == b',') {
                    match attribute {
                        b"mode" => options.preserve_mode = true,
                        b"ownership" => options.preserve_ownership = true,
                        b"timestamps" => options.preserve_times = true,
                        b"all" => {
                            options.preserve_mode = true;
                            options.preserve_ownership = true;
                            options.preserve_times = true;
                        }
                        b"links" | b"context" | b"xattr" => {}
                        other => {
                            complain!("invalid argument {} for '--preserve'", quote(other));
                            return COMMAND.try_help();
                        }
                    }
                }
            }
            id if id == b'R' as u32 => options.recursive = true,
            id if id == b'v' as u32 => options.verbose = true,
            _ => {}
        }
    }
    options.no_dereference = !dereference.unwrap_or(!options.recursive);
    let destination = match Destination::from_operands(
        &COMMAND,
        parsed.operands.clone(),
        parsed.value(b't' as u32),
        parsed.has(b'T'),
    ) {
        Ok(destination) => destination,
        Err(status) => return status,
    };
    let mut copier = Copier::new(options);
    let mut status = 0;
    for &source in &destination.sources {
        let target = destination.target(source);
        if !copier.copy_operand(source, &target) {
            status = 1;
        }
    }
    status
}
