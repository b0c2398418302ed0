//! more: pages through files (or standard input) on the terminal (see
//! `pager` for the keys, read from /dev/tty, else standard error). When standard output is not
//! a terminal it copies the files, with "::::::::::::::" name headers
//! between several, as util-linux's more does.

use crate::common::{output, Command, Text};
use crate::complain;
use crate::editor::keys::Decoder;
use crate::options::Order;
use crate::pager::{Pager, Step};
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[options] <file>...\nDisplay the contents of a file in a terminal (SPACE next page, RETURN next line, b back, /RE search, q quit).\n",
    specs: &[],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

fn header(name: &[u8]) -> Vec<u8> {
    let mut text = b"::::::::::::::\n".to_vec();
    text.extend_from_slice(name);
    text.extend_from_slice(b"\n::::::::::::::\n");
    text
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands.clone() };
    let several = operands.len() > 1;
    // util-linux's more exits 0 even when a file cannot be opened.
    let status = 0;
    // Gather the text (headers between files, as the non-terminal copy shows them).
    let mut text = Vec::new();
    for operand in &operands {
        match posix::fs::stat(*operand) {
            Ok(stat) if stat.is_directory() => {
                // util-linux says so on standard output and goes on.
                text.extend_from_slice(b"\n*** ");
                text.extend_from_slice(operand);
                text.extend_from_slice(b": directory ***\n\n");
                continue;
            }
            _ => {}
        }
        match crate::common::read_operand(operand) {
            Ok(data) => {
                if several {
                    text.extend_from_slice(&header(operand));
                }
                text.extend_from_slice(&data);
            }
            Err(error) => {
                complain!("cannot open {}: {}", Text(operand), error);
            }
        }
    }
    if !posix::fd::is_terminal(1) {
        output(&text);
        return status;
    }
    // Keys come from the terminal: /dev/tty, else standard error as in
    // util-linux (standard input may be the text).
    let terminal = match posix::fd::open("/dev/tty", posix::O_RDONLY | posix::O_CLOEXEC, 0) {
        Ok(fd) => Ok(fd),
        Err(_) if posix::fd::is_terminal(2) => posix::fd::Fd::borrowed(2, |fd| fd.duplicate()),
        Err(error) => Err(error),
    };
    let Ok(terminal) = terminal else {
        output(&text);
        return status;
    };
    let (rows, columns) = match posix::terminal::window_size(1) {
        Ok(size) if size.ws_row > 1 && size.ws_col > 1 => (size.ws_row as usize, size.ws_col as usize),
        _ => (24, 80),
    };
    let mut pager = Pager::new(&text, rows, columns);
    let (first, step) = pager.start();
    // Keys from now on are read one by one (and not echoed) before the
    // first screen shows.
    let _raw = match step {
        Step::Continue => posix::terminal::RawMode::enter_keeping_output(terminal.raw()).ok(),
        Step::Done => None,
    };
    output(&first);
    let _ = posix::io::stdout().flush();
    if step == Step::Done {
        return status;
    }
    let mut decoder = Decoder::default();
    let mut buffer = [0u8; 64];
    loop {
        let count = match terminal.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => count,
        };
        let mut keys = Vec::new();
        for &byte in &buffer[..count] {
            keys.extend(decoder.feed(byte));
        }
        if decoder.waiting() && !posix::fd::wait_readable(terminal.raw(), 50).unwrap_or(false) {
            keys.extend(decoder.timeout());
        }
        for key in keys {
            let (bytes, step) = pager.key(key);
            output(&bytes);
            let _ = posix::io::stdout().flush();
            if step == Step::Done {
                return status;
            }
        }
    }
    status
}
