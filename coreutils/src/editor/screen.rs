//! The terminal as a grid of rows, and the escape sequences that turn
//! one grid into the next: only rows that changed are rewritten (a full
//! screen over a serial line is slow), each with cursor addressing and an
//! erase to the end of the line. VT100/xterm sequences, no curses.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

/// What the screen shows: `rows` rows of at most `columns` cells each
/// (bytes, one cell each, attributes as embedded escape sequences), and
/// where the cursor is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub rows: Vec<Vec<u8>>,
    pub cursor: (usize, usize),
}

impl Frame {
    pub fn blank(rows: usize) -> Frame {
        Frame { rows: alloc::vec![Vec::new(); rows], cursor: (0, 0) }
    }
}

/// Bytes that take the terminal from showing `previous` (None: unknown,
/// so clear first) to showing `next`.
pub fn update(previous: Option<&Frame>, next: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    // Hide the cursor while drawing, so it does not flicker across the screen.
    out.extend_from_slice(b"\x1b[?25l");
    let previous = match previous {
        Some(frame) if frame.rows.len() == next.rows.len() => Some(frame),
        _ => {
            out.extend_from_slice(b"\x1b[H\x1b[2J");
            None
        }
    };
    for (index, row) in next.rows.iter().enumerate() {
        let unchanged = previous.is_some_and(|frame| frame.rows[index] == *row);
        if unchanged || (previous.is_none() && row.is_empty()) {
            continue;
        }
        out.extend_from_slice(alloc::format!("\x1b[{};1H", index + 1).as_bytes());
        out.extend_from_slice(row);
        out.extend_from_slice(b"\x1b[K");
    }
    out.extend_from_slice(alloc::format!("\x1b[{};{}H", next.cursor.0 + 1, next.cursor.1 + 1).as_bytes());
    out.extend_from_slice(b"\x1b[?25h");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: &[&str], cursor: (usize, usize)) -> Frame {
        Frame { rows: rows.iter().map(|row| row.as_bytes().to_vec()).collect(), cursor }
    }

    #[test]
    fn only_changed_rows_are_written() {
        let first = frame(&["one", "two", "~"], (0, 0));
        let initial = update(None, &first);
        assert_eq!(
            initial,
            b"\x1b[?25l\x1b[H\x1b[2J\x1b[1;1Hone\x1b[K\x1b[2;1Htwo\x1b[K\x1b[3;1H~\x1b[K\x1b[1;1H\x1b[?25h"
        );
        let second = frame(&["one", "twice", "~"], (1, 4));
        assert_eq!(update(Some(&first), &second), b"\x1b[?25l\x1b[2;1Htwice\x1b[K\x1b[2;5H\x1b[?25h");
        assert_eq!(update(Some(&second), &second), b"\x1b[?25l\x1b[2;5H\x1b[?25h");
    }
}
