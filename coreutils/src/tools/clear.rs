//! clear: clears the terminal (VT100/xterm sequences: home, erase the
//! screen, erase the scrollback unless -x).

use crate::common::{output, Command};
use crate::options::{Order, Spec};

const COMMAND: Command = Command {
    usage: "[-x]\nClear the screen.\n  -x  do not try to clear the scrollback\n",
    specs: &[Spec::flag(b'x', ""), Spec::value(b'T', "")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// What clear writes.
pub fn sequence(keep_scrollback: bool) -> &'static [u8] {
    if keep_scrollback {
        b"\x1b[H\x1b[2J"
    } else {
        b"\x1b[H\x1b[2J\x1b[3J"
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    output(sequence(parsed.has(b'x')));
    0
}
