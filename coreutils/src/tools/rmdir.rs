//! rmdir: removes empty directories. -p removes each parent named in the
//! path too; --ignore-fail-on-non-empty keeps quiet about full ones.

use crate::common::{quote, Command};
use crate::complain;
use crate::options::{Order, Spec, Takes};

const IGNORE_NON_EMPTY: u32 = 300;

const COMMAND: Command = Command {
    usage: "[OPTION]... DIRECTORY...\nRemove the DIRECTORY(ies), if they are empty.\n      --ignore-fail-on-non-empty  ignore each failure to remove a non-empty directory\n  -p, --parents   remove DIRECTORY and its ancestors\n  -v, --verbose   output a diagnostic for every directory processed\n",
    specs: &[
        Spec::long("ignore-fail-on-non-empty", Takes::Nothing, IGNORE_NON_EMPTY),
        Spec::flag(b'p', "parents"),
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
    if parsed.operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing operand"));
    }
    let ignore_non_empty = parsed.options.iter().any(|found| found.id == IGNORE_NON_EMPTY);
    let verbose = parsed.has(b'v');
    let mut status = 0;
    for operand in &parsed.operands {
        let mut path: &[u8] = operand;
        loop {
            if verbose {
                posix::println!("rmdir: removing directory, {}", quote(path));
            }
            if let Err(error) = posix::fs::remove_directory(path) {
                let non_empty = error.0 == posix::ENOTEMPTY || error.0 == posix::EEXIST;
                if !(ignore_non_empty && non_empty) {
                    complain!("failed to remove {}: {}", quote(path), error);
                    status = 1;
                }
                break;
            }
            if !parsed.has(b'p') {
                break;
            }
            // The parent as written: strip the last component and its slashes.
            let mut end = path.len();
            while end > 0 && path[end - 1] == b'/' {
                end -= 1;
            }
            while end > 0 && path[end - 1] != b'/' {
                end -= 1;
            }
            while end > 0 && path[end - 1] == b'/' {
                end -= 1;
            }
            if end == 0 {
                break;
            }
            path = &path[..end];
        }
    }
    status
}
