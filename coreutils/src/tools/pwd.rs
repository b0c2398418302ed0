//! pwd: prints the working directory. `-P` (the default, as in GNU's
//! pwd) resolves links; `-L` prints $PWD when it names the working
//! directory and holds no "." or ".." component.

use crate::common::{output, Command};
use crate::complain;
use crate::options::{Order, Spec};

const COMMAND: Command = Command {
    usage: "[-LP]\nPrint the name of the current working directory.\n  -L  use PWD from the environment, even if it contains symlinks\n  -P  avoid all symlinks (the default)\n",
    specs: &[Spec::flag(b'L', "logical"), Spec::flag(b'P', "physical")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let logical = parsed
        .options
        .iter()
        .rev()
        .find(|found| found.id == b'L' as u32 || found.id == b'P' as u32)
        .is_some_and(|found| found.id == b'L' as u32);
    if !parsed.operands.is_empty() {
        complain!("ignoring non-option arguments");
    }
    if logical {
        if let Some(environment) = posix::environment::get("PWD") {
            if usable_logical(&environment) {
                let mut line = environment;
                line.push(b'\n');
                output(&line);
                return 0;
            }
        }
    }
    match posix::fs::current_directory() {
        Ok(mut directory) => {
            directory.push(b'\n');
            output(&directory);
            0
        }
        Err(error) => {
            complain!("{}", error);
            1
        }
    }
}

/// $PWD is used when absolute, free of "." and "..", and the same file as ".".
fn usable_logical(path: &[u8]) -> bool {
    if !path.starts_with(b"/") || path.split(|&byte| byte == b'/').any(|part| part == b"." || part == b"..") {
        return false;
    }
    match (posix::fs::stat(path), posix::fs::stat(".")) {
        (Ok(named), Ok(here)) => named.st_dev == here.st_dev && named.st_ino == here.st_ino,
        _ => false,
    }
}
