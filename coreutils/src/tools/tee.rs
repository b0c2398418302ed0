//! tee: copies standard input to standard output and to each FILE.
//! -a appends instead of truncating; -i ignores SIGINT.

use crate::common::{Command, Text};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;
use posix::Fd;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nCopy standard input to each FILE, and also to standard output.\n  -a, --append              append to the given FILEs, do not overwrite\n  -i, --ignore-interrupts   ignore interrupt signals\n",
    specs: &[Spec::flag(b'a', "append"), Spec::flag(b'i', "ignore-interrupts")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.has(b'i') {
        let _ = posix::signal::set_handler(
            posix::SIGINT,
            posix::signal::Handler::Ignore,
            0,
            posix::signal::SignalSet::EMPTY,
        );
    }
    let mode = if parsed.has(b'a') { posix::O_APPEND } else { posix::O_TRUNC };
    let mut status = 0;
    let mut files: Vec<(&[u8], Option<Fd>)> = Vec::new();
    for operand in &parsed.operands {
        match posix::fd::open(*operand, posix::O_WRONLY | posix::O_CREAT | posix::O_CLOEXEC | mode, 0o666) {
            Ok(fd) => files.push((operand, Some(fd))),
            Err(error) => {
                complain!("{}: {}", Text(operand), error);
                status = 1;
            }
        }
    }
    let mut buffer = alloc::vec![0u8; 64 * 1024];
    let mut standard_output = Some(1);
    loop {
        let count = match posix::fd::read(0, &mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) => {
                complain!("read error: {}", error);
                status = 1;
                break;
            }
        };
        // Straight to the descriptor, as data comes (a tee in a pipeline
        // passes it on at once), and a closed pipe does not end tee: as
        // GNU's, it stops writing there and goes on with the files, saying
        // nothing (SIGPIPE ignored; by default the signal ends it).
        if let Some(error) = standard_output.and_then(|fd| posix::fd::write_all(fd, &buffer[..count]).err()) {
            if error.0 != posix::EPIPE {
                complain!("'standard output': {}", error);
                status = 1;
            }
            standard_output = None;
        }
        for (name, file) in files.iter_mut() {
            let Some(fd) = file else { continue };
            if let Err(error) = fd.write_all(&buffer[..count]) {
                complain!("{}: {}", Text(name), error);
                *file = None;
                status = 1;
            }
        }
    }
    status
}
