//! vi: the full-screen editor (see `editor` for the keys it knows). This
//! is the terminal driver around the pure editor: raw mode on standard
//! input, the window size, keys decoded from the bytes read (a lone ESC is
//! the Escape key after 50 ms of silence), frames drawn as differences,
//! and the file read and written.

use crate::common::{quote, Command, Text};
use crate::complain;
use crate::editor::keys::Decoder;
use crate::editor::screen::{update, Frame};
use crate::editor::{Editor, Request};
use crate::options::Order;
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[FILE]\nEdit FILE in a vi-like full-screen editor (see docs/coreutils.md for the keys).\n",
    specs: &[],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// The window size: the terminal's, else LINES/COLUMNS, else 24x80.
fn window_size() -> (usize, usize) {
    if let Ok(size) = posix::terminal::window_size(1) {
        if size.ws_row > 1 && size.ws_col > 1 {
            return (size.ws_row as usize, size.ws_col as usize);
        }
    }
    let variable = |name: &str, default: usize| {
        posix::environment::get(name)
            .and_then(|text| crate::common::parse_integer(&text))
            .filter(|&value| value > 1)
            .map_or(default, |value| value as usize)
    };
    (variable("LINES", 24), variable("COLUMNS", 80))
}

fn write_file(path: &[u8], contents: &[u8]) -> posix::Result<()> {
    let fd = posix::fd::open(path, posix::O_WRONLY | posix::O_CREAT | posix::O_TRUNC | posix::O_CLOEXEC, 0o666)?;
    fd.write_all(contents)?;
    fd.close()
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.operands.len() > 1 {
        complain!("only one file can be edited: extra operand {}", quote(parsed.operands[1]));
        return 1;
    }
    if !posix::fd::is_terminal(0) {
        complain!("standard input is not a terminal");
        return 1;
    }
    let name = parsed.operands.first().map(|name| name.to_vec());
    let mut message = Vec::new();
    let contents = match &name {
        Some(path) => match crate::common::read_operand(path) {
            Ok(data) => {
                message = alloc::format!(
                    "\"{}\" {}L, {}B",
                    Text(path),
                    data.iter().filter(|&&byte| byte == b'\n').count(),
                    data.len()
                )
                .into_bytes();
                data
            }
            Err(error) if error.0 == posix::ENOENT => {
                message = alloc::format!("\"{}\" [New]", Text(path)).into_bytes();
                Vec::new()
            }
            Err(error) => {
                complain!("{}: {}", Text(path), error);
                return 1;
            }
        },
        None => Vec::new(),
    };
    let raw = match posix::terminal::RawMode::enter(0) {
        Ok(raw) => raw,
        Err(error) => {
            complain!("cannot set the terminal to raw mode: {}", error);
            return 1;
        }
    };
    let (rows, columns) = window_size();
    let mut editor = Editor::new(&contents, name, rows, columns);
    editor.set_message(&message);
    // The alternate screen (xterm), so the shell's screen comes back after.
    let _ = posix::fd::write_all(1, b"\x1b[?1049h");
    let mut decoder = Decoder::default();
    let mut previous: Option<Frame> = None;
    let mut buffer = [0u8; 256];
    let status = 'editing: loop {
        let (rows, columns) = window_size();
        if (rows, columns) != (editor.rows, editor.columns) {
            editor.rows = rows.max(2);
            editor.columns = columns.max(2);
            previous = None;
        }
        let frame = editor.frame();
        if let Err(error) = posix::fd::write_all(1, &update(previous.as_ref(), &frame)) {
            break 'editing Err(error);
        }
        previous = Some(frame);
        let count = match posix::fd::read(0, &mut buffer) {
            Ok(0) => break 'editing Ok(()),
            Ok(count) => count,
            Err(error) => break 'editing Err(error),
        };
        let mut keys = Vec::new();
        for &byte in &buffer[..count] {
            keys.extend(decoder.feed(byte));
        }
        if decoder.waiting() && !posix::fd::wait_readable(0, 50).unwrap_or(false) {
            keys.extend(decoder.timeout());
        }
        for key in keys {
            match editor.key(key) {
                Request::Nothing => {}
                Request::Quit => break 'editing Ok(()),
                Request::Write { path, then_quit } => match write_file(&path, &editor.contents()) {
                    Ok(()) => {
                        editor.written(&path);
                        if then_quit {
                            break 'editing Ok(());
                        }
                    }
                    Err(error) => {
                        editor.set_message(alloc::format!("\"{}\" {}", Text(&path), error).as_bytes());
                    }
                },
            }
        }
    };
    let _ = posix::fd::write_all(1, b"\x1b[?1049l");
    drop(raw);
    match status {
        Ok(()) => 0,
        Err(error) => {
            complain!("terminal error: {}", error);
            1
        }
    }
}
