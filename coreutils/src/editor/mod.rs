//! The editor's core: a vi-like state machine over keys, with no system
//! calls. It holds the buffer (lines of bytes), the cursor, the mode
//! (normal, insert, a ':' command line, a '/' or '?' search), counts and
//! pending operators, one register, undo/redo and the last search; `key`
//! applies one key and says whether the caller must write the file or
//! quit; `frame` renders the screen (`screen::Frame`) for the terminal
//! driver in `tools::vi`, which owns the terminal and the file.
//!
//! Normal mode: h j k l and the arrows, 0 ^ $ Home End, w b e W B E,
//! f F t T ; , % { }, gg G, H M L, ^F ^B ^D ^U PageUp PageDown, x X Delete,
//! dd D d{motion}, cc C c{motion} s S, yy Y y{motion}, p P, i a I A o O,
//! r, J, ~, u ^R, . (the last change again), / ? n N, ZZ ZQ, counts
//! before commands and motions, ^L. Insert mode: typing, Enter,
//! Backspace, Delete, Tab, arrows, Escape. Command line: :w [FILE], :q,
//! :q!, :wq, :x, and with ex ranges (N, ., $, %, +N/-N, two with a
//! comma): :RANGE (go to its line), :RANGEd, :RANGEy, :RANGEj,
//! :RANGEs/RE/TEXT/[g] (& in TEXT is the match; an empty RE is the last
//! one), :RANGEg/RE/d or s/../../ (:v and :g! on the other lines).
#![forbid(unsafe_code)]

pub mod keys;
pub mod screen;

use crate::regex::{Regex, Syntax};
use alloc::vec::Vec;
use keys::Key;
use screen::Frame;

const TAB_STOP: usize = 8;
const UNDO_LIMIT: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    Normal,
    Insert,
    Command(Vec<u8>),
    Search { forward: bool, text: Vec<u8> },
}

/// What the driver must do after a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Nothing,
    Quit,
    /// Write the buffer (`Editor::contents`) to `path`, then call
    /// `written`; quit after if `then_quit` and the write succeeded.
    Write {
        path: Vec<u8>,
        then_quit: bool,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Register {
    text: Vec<Vec<u8>>,
    linewise: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot {
    lines: Vec<Vec<u8>>,
    line: usize,
    column: usize,
}

/// A motion's reach: where it ends, and whether an operator over it takes
/// whole lines or includes the end character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Motion {
    line: usize,
    column: usize,
    linewise: bool,
    inclusive: bool,
}

/// The editor.
#[derive(Clone, Debug)]
pub struct Editor {
    pub lines: Vec<Vec<u8>>,
    pub line: usize,
    pub column: usize,
    pub file_name: Option<Vec<u8>>,
    pub modified: bool,
    pub rows: usize,
    pub columns: usize,
    top: usize,
    preferred: Option<usize>,
    mode: Mode,
    count: Option<usize>,
    /// The count as typed for the key being handled (G takes it as a line number).
    explicit_count: Option<usize>,
    operator: Option<(u8, usize)>,
    awaiting: Option<u8>,
    register: Register,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    last_search: Option<(Vec<u8>, bool)>,
    /// The last f, F, t or T and its byte (for ; and ,).
    last_find: Option<(u8, u8)>,
    /// The buffer has no lines at all (an empty file, or every line
    /// deleted): it shows one empty line but writes nothing.
    no_lines: bool,
    /// Changes so far (to tell whether a command changed the buffer).
    changes: u64,
    changes_before: u64,
    /// The keys of the command being typed, and of the last one that
    /// changed the buffer (which . repeats).
    recording: Vec<Key>,
    last_change: Vec<Key>,
    replaying: bool,
    message: Vec<u8>,
}

/// Word classes for w, b, e: blank, word characters, other (for the
/// WORDs of W, B, E, everything but blanks is one class).
fn class(byte: Option<u8>, big: bool) -> u8 {
    match byte {
        None => 0,
        Some(b' ') | Some(b'\t') => 0,
        Some(_) if big => 1,
        Some(byte) if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 => 1,
        Some(_) => 2,
    }
}

/// The find command that goes the other way (for ,).
fn reversed_find(kind: u8) -> u8 {
    match kind {
        b'f' => b'F',
        b'F' => b'f',
        b't' => b'T',
        _ => b't',
    }
}

/// The cells a byte takes at display column `column`.
fn cell_width(byte: u8, column: usize) -> usize {
    match byte {
        b'\t' => TAB_STOP - column % TAB_STOP,
        0x00..=0x1f | 0x7f => 2,
        0x80..=0xbf => 0,
        _ => 1,
    }
}

/// A line as displayed: tabs expanded, control bytes as ^X.
fn display(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut column = 0;
    for &byte in line {
        let width = cell_width(byte, column);
        match byte {
            b'\t' => out.extend(core::iter::repeat_n(b' ', width)),
            0x00..=0x1f => {
                out.push(b'^');
                out.push(byte + 0x40);
            }
            0x7f => out.extend_from_slice(b"^?"),
            _ => out.push(byte),
        }
        column += width;
    }
    out
}

/// The display column where byte `index` of `line` starts.
fn display_column(line: &[u8], index: usize) -> usize {
    let mut column = 0;
    for &byte in &line[..index.min(line.len())] {
        column += cell_width(byte, column);
    }
    column
}

/// The byte index whose cells cover display column `target` (or the end).
fn index_at_column(line: &[u8], target: usize) -> usize {
    let mut column = 0;
    for (index, &byte) in line.iter().enumerate() {
        let width = cell_width(byte, column);
        if column + width > target {
            return index;
        }
        column += width;
    }
    line.len()
}

/// Splits displayed bytes into rows of `columns` cells (UTF-8 continuation
/// bytes take no cell).
fn wrap(displayed: &[u8], columns: usize) -> Vec<Vec<u8>> {
    let mut rows = alloc::vec![Vec::new()];
    let mut width = 0;
    for &byte in displayed {
        let cells = usize::from(!(0x80..=0xbf).contains(&byte));
        if width + cells > columns {
            rows.push(Vec::new());
            width = 0;
        }
        if let Some(row) = rows.last_mut() {
            row.push(byte);
        }
        width += cells;
    }
    rows
}

fn rows_for(line: &[u8], columns: usize) -> usize {
    let width: usize = display(line).iter().filter(|byte| !(0x80..=0xbf).contains(*byte)).count();
    width.div_ceil(columns.max(1)).max(1)
}

impl Editor {
    /// An editor on `contents` (a file's bytes), for a screen of `rows` x `columns`.
    pub fn new(contents: &[u8], file_name: Option<Vec<u8>>, rows: usize, columns: usize) -> Editor {
        let mut lines: Vec<Vec<u8>> = contents.split(|&byte| byte == b'\n').map(<[u8]>::to_vec).collect();
        if contents.last() == Some(&b'\n') {
            lines.pop();
        }
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        Editor {
            lines,
            line: 0,
            column: 0,
            file_name,
            modified: false,
            rows: rows.max(2),
            columns: columns.max(2),
            top: 0,
            preferred: None,
            mode: Mode::Normal,
            count: None,
            explicit_count: None,
            operator: None,
            awaiting: None,
            register: Register::default(),
            undo: Vec::new(),
            redo: Vec::new(),
            last_search: None,
            last_find: None,
            no_lines: contents.is_empty(),
            changes: 0,
            changes_before: 0,
            recording: Vec::new(),
            last_change: Vec::new(),
            replaying: false,
            message: Vec::new(),
        }
    }

    /// The file's bytes: every line ends with a newline.
    pub fn contents(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.no_lines && self.lines.len() == 1 && self.lines[0].is_empty() {
            return out;
        }
        for line in &self.lines {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out
    }

    /// The message line shows `text` (as after a write, or an error).
    pub fn set_message(&mut self, text: &[u8]) {
        self.message = text.to_vec();
    }

    /// The driver wrote the file: `"NAME" 3L, 20B written`.
    pub fn written(&mut self, path: &[u8]) {
        let contents = self.contents();
        let lines = contents.iter().filter(|&&byte| byte == b'\n').count();
        self.message =
            alloc::format!("\"{}\" {}L, {}B written", crate::common::Text(path), lines, contents.len()).into_bytes();
        if self.file_name.is_none() {
            self.file_name = Some(path.to_vec());
        }
        if self.file_name.as_deref() == Some(path) {
            self.modified = false;
        }
    }

    pub fn is_inserting(&self) -> bool {
        self.mode == Mode::Insert
    }

    fn line_length(&self, line: usize) -> usize {
        self.lines[line].len()
    }

    /// The last column the cursor may sit on in normal mode.
    fn last_column(&self, line: usize) -> usize {
        self.line_length(line).saturating_sub(1)
    }

    fn clamp(&mut self) {
        self.line = self.line.min(self.lines.len() - 1);
        let limit = if self.mode == Mode::Insert { self.line_length(self.line) } else { self.last_column(self.line) };
        self.column = self.column.min(limit);
    }

    fn snapshot(&mut self) {
        self.undo.push(Snapshot { lines: self.lines.clone(), line: self.line, column: self.column });
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    fn changed(&mut self) {
        self.modified = true;
        self.changes += 1;
    }

    /// Text went into the buffer: it has lines again.
    fn filled(&mut self) {
        self.no_lines = false;
        self.changed();
    }

    /// No command is half typed.
    fn idle(&self) -> bool {
        self.mode == Mode::Normal && self.count.is_none() && self.operator.is_none() && self.awaiting.is_none()
    }

    /// .: the last change again (with `count` in place of its own). Not
    /// while replaying one: a change whose motion fails on replay (cfx with
    /// no x left) leaves the text it inserted to run as commands, and a `.`
    /// in it would repeat the same change for ever.
    fn repeat(&mut self, count: Option<usize>) {
        if self.replaying {
            return;
        }
        let mut keys = self.last_change.clone();
        if let Some(count) = count {
            let digits = keys.iter().take_while(|key| matches!(key, Key::Byte(b'1'..=b'9'))).count();
            let digits = if digits > 0 {
                digits + keys[digits..].iter().take_while(|key| matches!(key, Key::Byte(b'0'..=b'9'))).count()
            } else {
                0
            };
            let mut counted: Vec<Key> = alloc::format!("{count}").bytes().map(Key::Byte).collect();
            counted.extend_from_slice(&keys[digits..]);
            keys = counted;
        }
        self.replaying = true;
        for key in keys {
            self.key(key);
        }
        self.replaying = false;
    }

    fn take_count(&mut self) -> usize {
        self.count.take().unwrap_or(1).max(1)
    }

    fn first_non_blank(&self, line: usize) -> usize {
        self.lines[line]
            .iter()
            .position(|&byte| byte != b' ' && byte != b'\t')
            .unwrap_or(self.line_length(line))
            .min(self.last_column(line))
    }

    // ---- positions as a stream of bytes with line ends ----

    fn byte_at(&self, line: usize, column: usize) -> Option<u8> {
        self.lines[line].get(column).copied()
    }

    fn next_position(&self, line: usize, column: usize) -> Option<(usize, usize)> {
        if column < self.line_length(line) {
            Some((line, column + 1))
        } else if line + 1 < self.lines.len() {
            Some((line + 1, 0))
        } else {
            None
        }
    }

    fn previous_position(&self, line: usize, column: usize) -> Option<(usize, usize)> {
        if column > 0 {
            Some((line, column - 1))
        } else if line > 0 {
            Some((line - 1, self.line_length(line - 1)))
        } else {
            None
        }
    }

    /// w: the start of the next word (an empty line is a word).
    fn word_forward(&self, line: usize, column: usize, big: bool) -> (usize, usize) {
        let (mut l, mut c) = (line, column);
        let start = class(self.byte_at(l, c), big);
        if start != 0 {
            while let Some(byte) = self.byte_at(l, c) {
                if class(Some(byte), big) != start {
                    break;
                }
                c += 1;
            }
        }
        loop {
            match self.byte_at(l, c) {
                Some(byte) if class(Some(byte), big) == 0 => c += 1,
                Some(_) => return (l, c),
                None => {
                    if l + 1 >= self.lines.len() {
                        return (l, c.min(self.last_column(l)));
                    }
                    l += 1;
                    c = 0;
                    if self.lines[l].is_empty() {
                        return (l, 0);
                    }
                }
            }
        }
    }

    /// The last w under an operator, as vim's fwd_word with `eol`: it stops
    /// at the end of the line (or the start of the next) rather than going
    /// on to a word on a later line.
    fn word_forward_to_line_end(&self, line: usize, column: usize, big: bool) -> (usize, usize) {
        let (mut l, mut c) = (line, column);
        // One step: 0 within the line, 1 to the next line, 2 onto the end
        // of the line; None at the end of the buffer.
        let step = |l: &mut usize, c: &mut usize| -> Option<u8> {
            if *c < self.line_length(*l) {
                *c += 1;
                Some(if *c == self.line_length(*l) { 2 } else { 0 })
            } else if *l + 1 < self.lines.len() {
                *l += 1;
                *c = 0;
                Some(1)
            } else {
                None
            }
        };
        let start = class(self.byte_at(l, c), big);
        match step(&mut l, &mut c) {
            None => return (l, c),
            Some(moved) if moved >= 1 => return (l, c),
            Some(_) => {}
        }
        if start != 0 {
            while self.byte_at(l, c).is_some() && class(self.byte_at(l, c), big) == start {
                match step(&mut l, &mut c) {
                    Some(0) => {}
                    _ => return (l, c),
                }
            }
        }
        while class(self.byte_at(l, c), big) == 0 {
            if c == 0 && self.lines[l].is_empty() {
                break;
            }
            match step(&mut l, &mut c) {
                Some(0) => {}
                _ => return (l, c),
            }
        }
        (l, c)
    }

    /// b: the start of this or the previous word.
    fn word_backward(&self, line: usize, column: usize, big: bool) -> (usize, usize) {
        let Some((mut l, mut c)) = self.previous_position(line, column) else { return (line, column) };
        // Skip blanks (an empty line stops).
        loop {
            match self.byte_at(l, c) {
                Some(byte) if class(Some(byte), big) != 0 => break,
                None if self.lines[l].is_empty() => return (l, 0),
                _ => match self.previous_position(l, c) {
                    Some(position) => (l, c) = position,
                    None => return (l, c),
                },
            }
        }
        let kind = class(self.byte_at(l, c), big);
        while c > 0 && class(self.byte_at(l, c - 1), big) == kind {
            c -= 1;
        }
        (l, c)
    }

    /// e: the end of this or the next word.
    fn word_end(&self, line: usize, column: usize, big: bool) -> (usize, usize) {
        let Some((mut l, mut c)) = self.next_position(line, column) else { return (line, column) };
        loop {
            match self.byte_at(l, c) {
                Some(byte) if class(Some(byte), big) != 0 => break,
                _ => match self.next_position(l, c) {
                    Some(position) => (l, c) = position,
                    None => return (line, column),
                },
            }
        }
        let kind = class(self.byte_at(l, c), big);
        while class(self.byte_at(l, c + 1), big) == kind && self.byte_at(l, c + 1).is_some() {
            c += 1;
        }
        (l, c)
    }

    /// f, F, t, T: the `count`th `target` byte after (f, t) or before (F, T)
    /// the cursor on its line; t and T stop next to it. `repeat` (for ; and
    /// ,) lets t and T pass a match right beside the cursor.
    fn find_in_line(&self, kind: u8, target: u8, count: usize, repeat: bool) -> Option<Motion> {
        let line = &self.lines[self.line];
        let forward = matches!(kind, b'f' | b't');
        let skip = usize::from(repeat && matches!(kind, b't' | b'T'));
        let mut column = self.column;
        for _ in 0..count {
            column = if forward {
                let from = column + 1 + skip;
                from + line.get(from..)?.iter().position(|&byte| byte == target)?
            } else {
                let until = column.checked_sub(skip)?;
                line.get(..until)?.iter().rposition(|&byte| byte == target)?
            };
        }
        let column = match kind {
            b't' => column - 1,
            b'T' => column + 1,
            _ => column,
        };
        Some(Motion { line: self.line, column, linewise: false, inclusive: forward })
    }

    /// %: the bracket matching the one at or after the cursor on its line.
    fn matching_bracket(&self) -> Option<Motion> {
        const PAIRS: [(u8, u8); 3] = [(b'(', b')'), (b'[', b']'), (b'{', b'}')];
        let line = &self.lines[self.line];
        let start = self.column + line.get(self.column..)?.iter().position(|byte| b"()[]{}".contains(byte))?;
        let bracket = line[start];
        let (open, close, forward) = PAIRS.iter().find_map(|&(open, close)| match bracket {
            _ if bracket == open => Some((open, close, true)),
            _ if bracket == close => Some((open, close, false)),
            _ => None,
        })?;
        let mut depth = 0usize;
        let mut position = (self.line, start);
        loop {
            match self.byte_at(position.0, position.1) {
                Some(byte) if byte == open => depth = if forward { depth + 1 } else { depth.checked_sub(1)? },
                Some(byte) if byte == close => depth = if forward { depth.checked_sub(1)? } else { depth + 1 },
                _ => {}
            }
            if depth == 0 {
                return Some(Motion { line: position.0, column: position.1, linewise: false, inclusive: true });
            }
            position = if forward {
                self.next_position(position.0, position.1)?
            } else {
                self.previous_position(position.0, position.1)?
            };
        }
    }

    /// A motion key's target (None: not a motion).
    fn motion(&mut self, key: Key, count: usize) -> Option<Motion> {
        let (line, column) = (self.line, self.column);
        let last_line = self.lines.len() - 1;
        let exclusive = |line, column| Motion { line, column, linewise: false, inclusive: false };
        let linewise = |line| Motion { line, column: 0, linewise: true, inclusive: false };
        Some(match key {
            Key::Byte(b'h') | Key::Left | Key::Backspace => exclusive(line, column.saturating_sub(count)),
            Key::Byte(b'l') | Key::Right | Key::Byte(b' ') => {
                let limit = if self.operator.is_some() { self.line_length(line) } else { self.last_column(line) };
                exclusive(line, (column + count).min(limit))
            }
            Key::Byte(b'j') | Key::Down | Key::Control(b'n') => linewise((line + count).min(last_line)),
            Key::Byte(b'k') | Key::Up | Key::Control(b'p') => linewise(line.saturating_sub(count)),
            Key::Byte(b'0') | Key::Home => exclusive(line, 0),
            Key::Byte(b'^') => exclusive(line, self.first_non_blank(line)),
            Key::Byte(b'$') | Key::End => {
                let target = (line + count - 1).min(last_line);
                Motion { line: target, column: self.last_column(target), linewise: false, inclusive: true }
            }
            Key::Byte(letter @ (b'w' | b'W')) => {
                let mut position = (line, column);
                for step in 0..count {
                    position = if step + 1 == count && self.operator.is_some() {
                        self.word_forward_to_line_end(position.0, position.1, letter == b'W')
                    } else {
                        self.word_forward(position.0, position.1, letter == b'W')
                    };
                }
                exclusive(position.0, position.1)
            }
            Key::Byte(letter @ (b'b' | b'B')) => {
                let mut position = (line, column);
                for _ in 0..count {
                    position = self.word_backward(position.0, position.1, letter == b'B');
                }
                exclusive(position.0, position.1)
            }
            Key::Byte(letter @ (b'e' | b'E')) => {
                let mut position = (line, column);
                for _ in 0..count {
                    position = self.word_end(position.0, position.1, letter == b'E');
                }
                Motion { line: position.0, column: position.1, linewise: false, inclusive: true }
            }
            Key::Byte(b';') | Key::Byte(b',') => {
                let (kind, target) = self.last_find?;
                let kind = if key == Key::Byte(b',') { reversed_find(kind) } else { kind };
                return self.find_in_line(kind, target, count, true);
            }
            Key::Byte(b'%') => return self.matching_bracket(),
            Key::Byte(b'}') => {
                // To the empty line after the paragraph (or the end).
                // A count past the last paragraph fails, as in vim.
                let mut index = line;
                for step in 0..count {
                    if index == last_line && step > 0 {
                        return None;
                    }
                    while index < last_line && self.lines[index].is_empty() {
                        index += 1;
                    }
                    while index < last_line && !self.lines[index].is_empty() {
                        index += 1;
                    }
                }
                if self.lines[index].is_empty() || index < last_line {
                    exclusive(index, 0)
                } else {
                    exclusive(index, self.line_length(index))
                }
            }
            Key::Byte(b'{') => {
                let mut index = line;
                for step in 0..count {
                    if index == 0 && step > 0 {
                        return None;
                    }
                    while index > 0 && self.lines[index].is_empty() {
                        index -= 1;
                    }
                    while index > 0 && !self.lines[index].is_empty() {
                        index -= 1;
                    }
                }
                exclusive(index, 0)
            }
            Key::Byte(b'G') => linewise(self.explicit_count.unwrap_or(last_line + 1).saturating_sub(1).min(last_line)),
            Key::Enter | Key::Byte(b'+') => {
                let target = (line + count).min(last_line);
                Motion { line: target, column: self.first_non_blank(target), linewise: true, inclusive: false }
            }
            Key::Byte(b'-') => {
                let target = line.saturating_sub(count);
                Motion { line: target, column: self.first_non_blank(target), linewise: true, inclusive: false }
            }
            Key::Byte(b'H') => linewise(self.top.min(last_line)),
            Key::Byte(b'L') => linewise((self.top + self.text_rows() - 1).min(last_line)),
            Key::Byte(b'M') => linewise((self.top + self.text_rows() / 2).min(last_line)),
            _ => return None,
        })
    }

    fn text_rows(&self) -> usize {
        self.rows - 1
    }

    fn move_to(&mut self, motion: Motion, vertical: bool) {
        // The column to keep is measured on the line being left.
        let wanted = self.preferred.unwrap_or_else(|| display_column(&self.lines[self.line], self.column));
        self.line = motion.line;
        if vertical {
            self.preferred = Some(wanted);
            let index = index_at_column(&self.lines[motion.line], wanted);
            self.column = index;
        } else {
            self.column = motion.column;
            self.preferred = None;
        }
        self.clamp();
    }

    /// Removes the text between the cursor and a motion's end; returns it.
    fn cut(&mut self, motion: Motion) -> Register {
        let (start_line, end_line) = (self.line.min(motion.line), self.line.max(motion.line));
        if motion.linewise {
            let removed: Vec<Vec<u8>> = self.lines.drain(start_line..=end_line).collect();
            if self.lines.is_empty() {
                self.lines.push(Vec::new());
                self.no_lines = true;
                self.message = b"--No lines in buffer--".to_vec();
            }
            self.line = start_line.min(self.lines.len() - 1);
            self.column = self.first_non_blank(self.line);
            return Register { text: removed, linewise: true };
        }
        let (mut from, mut to) = ((self.line, self.column), (motion.line, motion.column));
        if to < from {
            core::mem::swap(&mut from, &mut to);
        }
        let end = (to.1 + usize::from(motion.inclusive)).min(self.line_length(to.0));
        if from.0 == to.0 {
            let line = &mut self.lines[from.0];
            let start = from.1.min(end);
            let removed: Vec<u8> = line.drain(start..end).collect();
            self.line = from.0;
            self.column = start;
            return Register { text: alloc::vec![removed], linewise: false };
        }
        // Across lines: the first line's head joins the last line's tail.
        let start = from.1.min(self.line_length(from.0));
        let tail = self.lines[to.0][end..].to_vec();
        let mut removed = alloc::vec![self.lines[from.0][start..].to_vec()];
        removed.extend(self.lines[from.0 + 1..to.0].iter().cloned());
        removed.push(self.lines[to.0][..end].to_vec());
        self.lines[from.0].truncate(start);
        self.lines[from.0].extend_from_slice(&tail);
        self.lines.drain(from.0 + 1..=to.0);
        self.line = from.0;
        self.column = start;
        Register { text: removed, linewise: false }
    }

    /// vim's adjustments of a characterwise motion under an operator: an
    /// exclusive one ending at the start of a later line ends at the end of
    /// the line before (and takes whole lines if it starts in the
    /// indent); a deletion across lines from the indent to blanks takes
    /// whole lines. Puts the cursor at the start; returns the other end.
    fn adjusted(&mut self, operator: u8, motion: Motion) -> Motion {
        if motion.linewise {
            return motion;
        }
        let cursor = (self.line, self.column);
        let other = (motion.line, motion.column);
        let (start, mut end) = if other < cursor { (other, cursor) } else { (cursor, other) };
        (self.line, self.column) = start;
        let blank = |bytes: &[u8]| bytes.iter().all(|&byte| byte == b' ' || byte == b'\t');
        let in_indent = blank(&self.lines[start.0][..start.1.min(self.line_length(start.0))]);
        let linewise = Motion { line: end.0, column: 0, linewise: true, inclusive: false };
        let mut inclusive = motion.inclusive;
        if !inclusive && end.1 == 0 && end.0 > start.0 {
            end.0 -= 1;
            if in_indent {
                return Motion { line: end.0, ..linewise };
            }
            end.1 = self.line_length(end.0);
            inclusive = false;
        }
        if operator == b'd' && end.0 > start.0 {
            let line = &self.lines[end.0];
            let after = (end.1 + usize::from(inclusive && end.1 < line.len())).min(line.len());
            if blank(&line[after..]) && in_indent {
                return Motion { line: end.0, ..linewise };
            }
        }
        Motion { line: end.0, column: end.1, linewise: false, inclusive }
    }

    fn copy_of(&self, motion: Motion) -> Register {
        let mut scratch = self.clone();
        scratch.cut(motion)
    }

    fn put(&mut self, after: bool, count: usize) {
        if self.register.text.is_empty() {
            return;
        }
        self.snapshot();
        if self.register.linewise {
            let at = if after { self.line + 1 } else { self.line };
            for _ in 0..count {
                for (offset, text) in self.register.text.iter().enumerate() {
                    self.lines.insert(at + offset, text.clone());
                }
            }
            self.line = at;
            self.column = self.first_non_blank(at);
        } else if self.register.text.len() > 1 {
            // Several lines' worth: the first piece joins the text before
            // the cursor, the last the text after; the cursor goes to its start.
            let mut pieces = self.register.text.clone();
            for _ in 1..count {
                let mut next = self.register.text.clone();
                let first = next.remove(0);
                if let Some(last) = pieces.last_mut() {
                    last.extend_from_slice(&first);
                }
                pieces.extend(next);
            }
            let at = if after && !self.lines[self.line].is_empty() { self.column + 1 } else { self.column };
            let at = at.min(self.line_length(self.line));
            let tail = self.lines[self.line].split_off(at);
            let mut index = self.line;
            self.lines[index].extend_from_slice(&pieces[0]);
            for piece in &pieces[1..] {
                index += 1;
                self.lines.insert(index, piece.clone());
            }
            self.lines[index].extend_from_slice(&tail);
            self.column = at;
        } else {
            let piece: Vec<u8> = self.register.text.concat().repeat(count);
            let at = if after && !self.lines[self.line].is_empty() { self.column + 1 } else { self.column };
            let at = at.min(self.line_length(self.line));
            let tail = self.lines[self.line].split_off(at);
            self.lines[self.line].extend_from_slice(&piece);
            self.lines[self.line].extend_from_slice(&tail);
            self.column = at + piece.len().saturating_sub(1);
        }
        self.filled();
        self.clamp();
    }

    fn enter_insert(&mut self) {
        self.snapshot();
        self.mode = Mode::Insert;
    }

    fn join(&mut self, count: usize) {
        let joins = count.max(2) - 1;
        if self.line + 1 >= self.lines.len() {
            return;
        }
        self.snapshot();
        for _ in 0..joins {
            if self.line + 1 >= self.lines.len() {
                break;
            }
            let next = self.lines.remove(self.line + 1);
            let trimmed: &[u8] =
                &next[next.iter().position(|&byte| byte != b' ' && byte != b'\t').unwrap_or(next.len())..];
            let current = &mut self.lines[self.line];
            let length = current.len();
            while current.last().is_some_and(|&byte| byte == b' ' || byte == b'\t') {
                current.pop();
            }
            let separator = !current.is_empty() && !trimmed.is_empty() && trimmed[0] != b')';
            if separator {
                current.push(b' ');
            }
            self.column = current.len().saturating_sub(usize::from(!separator)).min(length);
            current.extend_from_slice(trimmed);
        }
        self.changed();
        self.clamp();
    }

    /// Searches for `pattern` from the cursor (forward or back), wrapping.
    fn search(&mut self, pattern: &[u8], forward: bool) {
        let regex = match Regex::new(pattern, Syntax::Basic, false) {
            Ok(regex) => regex,
            Err(error) => {
                self.message = error.message().as_bytes().to_vec();
                return;
            }
        };
        let count = self.lines.len();
        let matches_in = |line: &[u8]| -> Vec<usize> {
            let mut found = Vec::new();
            let mut from = 0;
            while let Ok(Some((start, end))) = regex.find_at(line, from) {
                found.push(start);
                from = if end > start { end } else { start + 1 };
                if from > line.len() {
                    break;
                }
            }
            found
        };
        for step in 0..=count {
            let index = if forward { (self.line + step) % count } else { (self.line + count - step % count) % count };
            let starts = matches_in(&self.lines[index]);
            let chosen = if forward {
                starts.into_iter().find(|&start| step > 0 || start > self.column)
            } else {
                starts.into_iter().rev().find(|&start| step > 0 || start < self.column)
            };
            if let Some(start) = chosen {
                let wrapped = if forward {
                    index < self.line || (index == self.line && step > 0)
                } else {
                    index > self.line || (index == self.line && step > 0)
                };
                self.message = if wrapped {
                    if forward {
                        b"search hit BOTTOM, continuing at TOP".to_vec()
                    } else {
                        b"search hit TOP, continuing at BOTTOM".to_vec()
                    }
                } else {
                    Vec::new()
                };
                self.line = index;
                self.column = start;
                self.preferred = None;
                self.clamp();
                return;
            }
        }
        self.message = alloc::format!("Pattern not found: {}", crate::common::Text(pattern)).into_bytes();
    }

    /// Applies one key.
    pub fn key(&mut self, key: Key) -> Request {
        if !self.replaying {
            if self.idle() {
                self.recording.clear();
                self.changes_before = self.changes;
            }
            self.recording.push(key);
        }
        let request = self.dispatch(key);
        if !self.replaying && self.idle() && self.changes != self.changes_before {
            let first = self.recording.iter().find(|key| !matches!(key, Key::Byte(b'0'..=b'9')));
            if !matches!(first, Some(Key::Byte(b'u' | b'.' | b':')) | Some(Key::Control(b'r'))) {
                self.last_change = core::mem::take(&mut self.recording);
            }
            self.changes_before = self.changes;
        }
        request
    }

    fn dispatch(&mut self, key: Key) -> Request {
        match self.mode.clone() {
            Mode::Insert => {
                self.insert_key(key);
                Request::Nothing
            }
            Mode::Command(text) => self.command_key(key, text),
            Mode::Search { forward, text } => {
                self.search_key(key, forward, text);
                Request::Nothing
            }
            Mode::Normal => self.normal_key(key),
        }
    }

    fn insert_key(&mut self, key: Key) {
        match key {
            Key::Escape => {
                self.mode = Mode::Normal;
                self.column = self.column.saturating_sub(1);
                self.clamp();
            }
            Key::Enter => {
                let tail = self.lines[self.line].split_off(self.column);
                self.lines.insert(self.line + 1, tail);
                self.line += 1;
                self.column = 0;
                self.filled();
            }
            Key::Backspace => {
                if self.column > 0 {
                    self.column -= 1;
                    self.lines[self.line].remove(self.column);
                    self.changed();
                } else if self.line > 0 {
                    let current = self.lines.remove(self.line);
                    self.line -= 1;
                    self.column = self.line_length(self.line);
                    self.lines[self.line].extend_from_slice(&current);
                    self.changed();
                }
            }
            Key::Delete => {
                if self.column < self.line_length(self.line) {
                    self.lines[self.line].remove(self.column);
                    self.changed();
                } else if self.line + 1 < self.lines.len() {
                    let next = self.lines.remove(self.line + 1);
                    self.lines[self.line].extend_from_slice(&next);
                    self.changed();
                }
            }
            Key::Tab => self.insert_byte(b'\t'),
            Key::Byte(byte) => self.insert_byte(byte),
            Key::Left => self.column = self.column.saturating_sub(1),
            Key::Right => self.column = (self.column + 1).min(self.line_length(self.line)),
            Key::Up | Key::Down => {
                let motion = if key == Key::Up {
                    Motion { line: self.line.saturating_sub(1), column: 0, linewise: true, inclusive: false }
                } else {
                    Motion {
                        line: (self.line + 1).min(self.lines.len() - 1),
                        column: 0,
                        linewise: true,
                        inclusive: false,
                    }
                };
                self.move_to(motion, true);
            }
            Key::Home => self.column = 0,
            Key::End => self.column = self.line_length(self.line),
            Key::Control(b'v') => {}
            _ => {}
        }
    }

    fn insert_byte(&mut self, byte: u8) {
        self.lines[self.line].insert(self.column, byte);
        self.column += 1;
        self.filled();
    }

    fn command_key(&mut self, key: Key, mut text: Vec<u8>) -> Request {
        match key {
            Key::Escape => self.mode = Mode::Normal,
            Key::Backspace => {
                if text.pop().is_none() {
                    self.mode = Mode::Normal;
                } else {
                    self.mode = Mode::Command(text);
                }
            }
            Key::Enter => {
                self.mode = Mode::Normal;
                return self.execute(&text);
            }
            Key::Byte(byte) => {
                text.push(byte);
                self.mode = Mode::Command(text);
            }
            Key::Tab => {
                text.push(b'\t');
                self.mode = Mode::Command(text);
            }
            _ => {}
        }
        Request::Nothing
    }

    fn search_key(&mut self, key: Key, forward: bool, mut text: Vec<u8>) {
        match key {
            Key::Escape => self.mode = Mode::Normal,
            Key::Backspace => {
                if text.pop().is_none() {
                    self.mode = Mode::Normal;
                } else {
                    self.mode = Mode::Search { forward, text };
                }
            }
            Key::Enter => {
                self.mode = Mode::Normal;
                let pattern = if text.is_empty() {
                    self.last_search.as_ref().map(|(pattern, _)| pattern.clone()).unwrap_or_default()
                } else {
                    text
                };
                if pattern.is_empty() {
                    self.message = b"No previous regular expression".to_vec();
                    return;
                }
                self.last_search = Some((pattern.clone(), forward));
                self.search(&pattern, forward);
            }
            Key::Byte(byte) => {
                text.push(byte);
                self.mode = Mode::Search { forward, text };
            }
            _ => {}
        }
    }

    /// Runs a ':' command.
    fn execute(&mut self, text: &[u8]) -> Request {
        let text = {
            let start = text.iter().position(|&byte| byte != b' ').unwrap_or(text.len());
            let end = text.iter().rposition(|&byte| byte != b' ').map_or(start, |end| end + 1);
            &text[start..end.max(start)]
        };
        if text.is_empty() {
            return Request::Nothing;
        }
        let (range, text) = match self.range(text) {
            Ok(parsed) => parsed,
            Err(message) => {
                self.message = message.to_vec();
                return Request::Nothing;
            }
        };
        let text = text.trim_ascii_start();
        if text.is_empty() {
            // :N goes to line N.
            if let Some((_, last)) = range {
                self.line = last;
                self.column = self.first_non_blank(self.line);
                self.preferred = None;
            }
            return Request::Nothing;
        }
        for (prefix, invert) in [(&b"g/"[..], false), (b"g!/", true), (b"v/", true)] {
            if let Some(body) = text.strip_prefix(prefix) {
                self.global(range.unwrap_or((0, self.lines.len() - 1)), invert, body);
                return Request::Nothing;
            }
        }
        if text.starts_with(b"s/") {
            self.substitute(range.unwrap_or((self.line, self.line)), &text[2..]);
            return Request::Nothing;
        }
        let letters = text.iter().take_while(|byte| byte.is_ascii_alphabetic()).count();
        match &text[..letters] {
            b"d" | b"de" | b"del" | b"dele" | b"delet" | b"delete" | b"y" | b"ya" | b"yan" | b"yank" => {
                let (first, last) = range.unwrap_or((self.line, self.line));
                let (saved_line, saved_column) = (self.line, self.column);
                self.line = first;
                let motion = Motion { line: last, column: 0, linewise: true, inclusive: false };
                let operator = if text[0] == b'd' { b'd' } else { b'y' };
                self.apply_operator(operator, motion);
                if operator == b'y' {
                    (self.line, self.column) = (saved_line, saved_column);
                }
                return Request::Nothing;
            }
            b"j" | b"jo" | b"joi" | b"join" => {
                let (first, last) = range.unwrap_or((self.line, self.line));
                self.line = first;
                self.join((last - first + 1).max(2));
                return Request::Nothing;
            }
            _ => {}
        }
        let (command, argument) = match text.iter().position(|&byte| byte == b' ') {
            Some(space) => (&text[..space], Some(text[space + 1..].trim_ascii())),
            None => (text, None),
        };
        let target = |editor: &mut Editor| -> Option<Vec<u8>> {
            match argument.filter(|argument| !argument.is_empty()) {
                Some(name) => Some(name.to_vec()),
                None => match &editor.file_name {
                    Some(name) => Some(name.clone()),
                    None => {
                        editor.message = b"No file name".to_vec();
                        None
                    }
                },
            }
        };
        match command {
            b"w" | b"write" => match target(self) {
                Some(path) => Request::Write { path, then_quit: false },
                None => Request::Nothing,
            },
            b"wq" | b"x" | b"xit" | b"exit" => {
                if command != b"wq" && !self.modified && argument.is_none() {
                    return Request::Quit;
                }
                match target(self) {
                    Some(path) => Request::Write { path, then_quit: true },
                    None => Request::Nothing,
                }
            }
            b"q" | b"quit" => {
                if self.modified {
                    self.message = b"No write since last change (add ! to override)".to_vec();
                    Request::Nothing
                } else {
                    Request::Quit
                }
            }
            b"q!" | b"quit!" => Request::Quit,
            _ => {
                self.message = alloc::format!("Not an editor command: {}", crate::common::Text(text)).into_bytes();
                Request::Nothing
            }
        }
    }

    /// An ex address: `.`, `$`, a number, each maybe followed by +N or -N
    /// (0-based line, and the text after it).
    fn address<'a>(&self, text: &'a [u8]) -> Result<Option<(usize, &'a [u8])>, &'static [u8]> {
        let number = |text: &[u8]| {
            let digits = text.iter().take_while(|byte| byte.is_ascii_digit()).count();
            let value = core::str::from_utf8(&text[..digits]).ok().and_then(|digits| digits.parse::<usize>().ok());
            (value, digits)
        };
        let (mut line, mut rest) = match text.first() {
            Some(b'.') => (self.line as isize + 1, &text[1..]),
            Some(b'$') => (self.lines.len() as isize, &text[1..]),
            Some(b'0'..=b'9') => {
                let (value, digits) = number(text);
                (value.unwrap_or(usize::MAX).min(isize::MAX as usize) as isize, &text[digits..])
            }
            Some(b'+' | b'-') => (self.line as isize + 1, text),
            _ => return Ok(None),
        };
        while let Some(&sign @ (b'+' | b'-')) = rest.first() {
            let (value, digits) = number(&rest[1..]);
            let offset = value.unwrap_or(1).min(isize::MAX as usize / 2) as isize;
            line = if sign == b'+' { line.saturating_add(offset) } else { line.saturating_sub(offset) };
            rest = &rest[1 + digits..];
        }
        if line < 0 || line > self.lines.len() as isize {
            return Err(b"E16: Invalid range");
        }
        Ok(Some(((line.max(1) - 1) as usize, rest)))
    }

    /// An ex range: `%`, or one or two addresses separated by a comma.
    #[allow(clippy::type_complexity)]
    fn range<'a>(&self, text: &'a [u8]) -> Result<(Option<(usize, usize)>, &'a [u8]), &'static [u8]> {
        if let Some(rest) = text.strip_prefix(b"%") {
            return Ok((Some((0, self.lines.len() - 1)), rest));
        }
        let Some((first, rest)) = self.address(text)? else { return Ok((None, text)) };
        let Some(rest) = rest.strip_prefix(b",") else { return Ok((Some((first, first)), rest)) };
        let Some((last, rest)) = self.address(rest)? else { return Ok((Some((first, first)), rest)) };
        if last < first {
            return Err(b"E493: Backwards range given");
        }
        Ok((Some((first, last)), rest))
    }

    /// :[range]g/RE/COMMAND (:v and :g! for the lines not matching): d or
    /// s/RE/TEXT/[g] on each line RE matches, undone as one change.
    fn global(&mut self, (first, last): (usize, usize), invert: bool, body: &[u8]) {
        let mut end = 0;
        while end < body.len() && body[end] != b'/' {
            end += if body[end] == b'\\' { 2 } else { 1 };
        }
        let pattern = match &body[..end.min(body.len())] {
            b"" => match &self.last_search {
                Some((last, _)) => last.clone(),
                None => {
                    self.message = b"No previous regular expression".to_vec();
                    return;
                }
            },
            pattern => pattern.to_vec(),
        };
        let command = body.get(end + 1..).unwrap_or(b"").trim_ascii();
        let regex = match Regex::new(&pattern, Syntax::Basic, false) {
            Ok(regex) => regex,
            Err(error) => {
                self.message = error.message().as_bytes().to_vec();
                return;
            }
        };
        self.last_search = Some((pattern.clone(), true));
        let chosen: Vec<usize> = (first..=last)
            .filter(|&index| matches!(regex.find_at(&self.lines[index], 0), Ok(Some(_))) != invert)
            .collect();
        let Some(&last_chosen) = chosen.last() else {
            self.message = alloc::format!("Pattern not found: {}", crate::common::Text(&pattern)).into_bytes();
            return;
        };
        let before = Snapshot { lines: self.lines.clone(), line: self.line, column: self.column };
        // The substitutions leave their own undo steps: set aside, so the
        // whole command is one.
        let saved_undo = core::mem::take(&mut self.undo);
        if command == b"d" {
            // Each line is its own :d, so the register keeps the last.
            for &index in chosen.iter().rev() {
                self.lines.remove(index);
            }
            self.register = Register { text: alloc::vec![before.lines[last_chosen].clone()], linewise: true };
            if self.lines.is_empty() {
                self.lines.push(Vec::new());
                self.no_lines = true;
                self.message = b"--No lines in buffer--".to_vec();
            }
            self.line = (last_chosen + 1 - chosen.len()).min(self.lines.len() - 1);
            self.column = self.first_non_blank(self.line);
        } else if let Some(substitution) = command.strip_prefix(b"s/") {
            for &index in &chosen {
                self.substitute((index, index), substitution);
            }
            if !self.undo.is_empty() {
                self.message.clear();
            }
        } else {
            self.message = alloc::format!("Not supported after :g: {}", crate::common::Text(command)).into_bytes();
        }
        self.undo = saved_undo;
        if self.lines != before.lines {
            self.undo.push(before);
            if self.undo.len() > UNDO_LIMIT {
                self.undo.remove(0);
            }
            self.redo.clear();
            self.changed();
        }
    }

    /// :[range]s/RE/TEXT/[g] (`body` is what follows "s/").
    fn substitute(&mut self, (first, last): (usize, usize), body: &[u8]) {
        let mut parts: Vec<Vec<u8>> = alloc::vec![Vec::new()];
        let mut index = 0;
        while index < body.len() {
            let byte = body[index];
            if byte == b'\\' && index + 1 < body.len() && body[index + 1] == b'/' {
                if let Some(part) = parts.last_mut() {
                    part.push(b'/');
                }
                index += 2;
                continue;
            }
            if byte == b'/' && parts.len() < 3 {
                parts.push(Vec::new());
            } else if let Some(part) = parts.last_mut() {
                part.push(byte);
            }
            index += 1;
        }
        // An empty pattern is the last one searched for.
        let pattern = match (&parts[0], &self.last_search) {
            (empty, Some((last, _))) if empty.is_empty() => last.clone(),
            (pattern, _) => pattern.clone(),
        };
        let replacement = parts.get(1).cloned().unwrap_or_default();
        let global = parts.get(2).is_some_and(|flags| flags.contains(&b'g'));
        let regex = match Regex::new(&pattern, Syntax::Basic, false) {
            Ok(regex) => regex,
            Err(error) => {
                self.message = error.message().as_bytes().to_vec();
                return;
            }
        };
        let range = first..last + 1;
        let before = self.lines.clone();
        let mut count = 0;
        let mut last_line = self.line;
        for line_index in range {
            let line = self.lines[line_index].clone();
            let mut out = Vec::new();
            let mut from = 0;
            let mut replaced = false;
            while from <= line.len() {
                let Ok(Some((start, end))) = regex.find_at(&line, from) else { break };
                out.extend_from_slice(&line[from..start]);
                let mut escaped = false;
                for &byte in &replacement {
                    match (escaped, byte) {
                        (false, b'\\') => escaped = true,
                        (false, b'&') => out.extend_from_slice(&line[start..end]),
                        (_, other) => {
                            out.push(other);
                            escaped = false;
                        }
                    }
                }
                replaced = true;
                count += 1;
                if end == start {
                    if start < line.len() {
                        out.push(line[start]);
                    }
                    from = start + 1;
                } else {
                    from = end;
                }
                if !global {
                    break;
                }
            }
            if replaced {
                if from <= line.len() {
                    out.extend_from_slice(&line[from.min(line.len())..]);
                }
                self.lines[line_index] = out;
                last_line = line_index;
            }
        }
        if count == 0 {
            self.message = alloc::format!("Pattern not found: {}", crate::common::Text(&pattern)).into_bytes();
            return;
        }
        self.undo.push(Snapshot { lines: before, line: self.line, column: self.column });
        self.redo.clear();
        self.line = last_line;
        self.column = self.first_non_blank(last_line);
        self.changed();
    }

    fn normal_key(&mut self, key: Key) -> Request {
        if !matches!(key, Key::Byte(b'0'..=b'9')) || (key == Key::Byte(b'0') && self.count.is_none()) {
            self.message.clear();
        }
        // The second key of r, g, Z.
        if let Some(first) = self.awaiting.take() {
            return self.awaited(first, key);
        }
        if let Key::Byte(digit @ b'0'..=b'9') = key {
            if digit != b'0' || self.count.is_some() {
                let value = self.count.unwrap_or(0).saturating_mul(10).saturating_add((digit - b'0') as usize);
                self.count = Some(value.min(1_000_000));
                return Request::Nothing;
            }
        }
        self.explicit_count = self.count;
        // An operator waits for its motion (or itself: dd, yy, cc).
        if let Some((operator, operator_count)) = self.operator {
            let count = operator_count * self.take_count();
            if key == Key::Escape {
                self.operator = None;
                return Request::Nothing;
            }
            if key == Key::Byte(operator) {
                self.operator = None;
                let last = (self.line + count - 1).min(self.lines.len() - 1);
                let motion = Motion { line: last, column: 0, linewise: true, inclusive: false };
                self.apply_operator(operator, motion);
                return Request::Nothing;
            }
            if let Key::Byte(first @ (b'g' | b'f' | b'F' | b't' | b'T')) = key {
                self.awaiting = Some(first);
                self.count = Some(count);
                return Request::Nothing;
            }
            // cw (cW) on a word acts like ce (cE), except that at the end of
            // a word the first word is that one, as in vim.
            let motion = match key {
                Key::Byte(letter @ (b'w' | b'W'))
                    if operator == b'c' && class(self.byte_at(self.line, self.column), false) != 0 =>
                {
                    let big = letter == b'W';
                    let here = class(self.byte_at(self.line, self.column), big);
                    let next = self.byte_at(self.line, self.column + 1);
                    let mut position = (self.line, self.column);
                    let first_done = next.is_none() || class(next, big) != here;
                    for _ in usize::from(first_done)..count {
                        position = self.word_end(position.0, position.1, big);
                    }
                    Some(Motion { line: position.0, column: position.1, linewise: false, inclusive: true })
                }
                _ => self.motion(key, count),
            };
            self.operator = None;
            if let Some(motion) = motion {
                self.apply_operator(operator, motion);
            }
            return Request::Nothing;
        }
        let count = self.take_count();
        if let Some(motion) = self.motion(key, count) {
            let vertical = matches!(
                key,
                Key::Byte(b'j') | Key::Byte(b'k') | Key::Up | Key::Down | Key::Control(b'n') | Key::Control(b'p')
            );
            if key == Key::Byte(b'G') || matches!(key, Key::Byte(b'H') | Key::Byte(b'L') | Key::Byte(b'M')) {
                self.line = motion.line;
                self.column = self.first_non_blank(self.line);
                self.preferred = None;
                self.clamp();
            } else {
                self.move_to(motion, vertical);
                if matches!(key, Key::Byte(b'$') | Key::End) {
                    // $ sticks to the end of the lines moved to after it.
                    self.preferred = Some(usize::MAX);
                }
            }
            return Request::Nothing;
        }
        match key {
            Key::Byte(operator @ (b'd' | b'y' | b'c')) => self.operator = Some((operator, count)),
            Key::Byte(b'D') => {
                self.count = Some(count);
                let motion = self.motion(Key::Byte(b'$'), count).unwrap_or(Motion {
                    line: self.line,
                    column: self.column,
                    linewise: false,
                    inclusive: true,
                });
                self.apply_operator(b'd', motion);
            }
            Key::Byte(b'C') => {
                let motion = self.motion(Key::Byte(b'$'), count).unwrap_or(Motion {
                    line: self.line,
                    column: self.column,
                    linewise: false,
                    inclusive: true,
                });
                self.apply_operator(b'c', motion);
            }
            Key::Byte(b'Y') => {
                let last = (self.line + count - 1).min(self.lines.len() - 1);
                self.register = self.copy_of(Motion { line: last, column: 0, linewise: true, inclusive: false });
            }
            Key::Byte(b'x') | Key::Delete if !self.lines[self.line].is_empty() => {
                let end = (self.column + count).min(self.line_length(self.line));
                self.apply_operator(b'd', Motion { line: self.line, column: end, linewise: false, inclusive: false });
            }
            Key::Byte(b'X') if self.column > 0 => {
                let start = self.column.saturating_sub(count);
                self.apply_operator(b'd', Motion { line: self.line, column: start, linewise: false, inclusive: false });
            }
            Key::Byte(b's') => {
                let end = (self.column + count).min(self.line_length(self.line));
                self.apply_operator(b'c', Motion { line: self.line, column: end, linewise: false, inclusive: false });
            }
            Key::Byte(b'S') => {
                let last = (self.line + count - 1).min(self.lines.len() - 1);
                self.apply_operator(b'c', Motion { line: last, column: 0, linewise: true, inclusive: false });
            }
            Key::Byte(b'p') => self.put(true, count),
            Key::Byte(b'P') => self.put(false, count),
            Key::Byte(b'i') | Key::Insert => self.enter_insert(),
            Key::Byte(b'a') => {
                self.enter_insert();
                if !self.lines[self.line].is_empty() {
                    self.column += 1;
                }
                self.clamp();
            }
            Key::Byte(b'I') => {
                self.enter_insert();
                self.column = self.lines[self.line]
                    .iter()
                    .position(|&byte| byte != b' ' && byte != b'\t')
                    .unwrap_or(self.line_length(self.line));
            }
            Key::Byte(b'A') => {
                self.enter_insert();
                self.column = self.line_length(self.line);
            }
            Key::Byte(b'o') | Key::Byte(b'O') => {
                self.enter_insert();
                let at = if key == Key::Byte(b'o') { self.line + 1 } else { self.line };
                self.lines.insert(at, Vec::new());
                self.line = at;
                self.column = 0;
                self.filled();
            }
            Key::Byte(first @ (b'r' | b'g' | b'Z' | b'f' | b'F' | b't' | b'T')) => {
                self.awaiting = Some(first);
                self.count = Some(count);
            }
            Key::Byte(b'.') => self.repeat(self.explicit_count),
            Key::Byte(b'J') => self.join(count),
            Key::Byte(b'~') if !self.lines[self.line].is_empty() => {
                self.snapshot();
                for _ in 0..count {
                    if let Some(byte) = self.lines[self.line].get_mut(self.column) {
                        *byte = if byte.is_ascii_lowercase() {
                            byte.to_ascii_uppercase()
                        } else {
                            byte.to_ascii_lowercase()
                        };
                    }
                    if self.column + 1 < self.line_length(self.line) {
                        self.column += 1;
                    } else {
                        break;
                    }
                }
                self.changed();
            }
            Key::Byte(b'u') => {
                for _ in 0..count {
                    match self.undo.pop() {
                        Some(snapshot) => {
                            self.redo.push(Snapshot {
                                lines: self.lines.clone(),
                                line: self.line,
                                column: self.column,
                            });
                            self.restore(snapshot);
                        }
                        None => {
                            self.message = b"Already at oldest change".to_vec();
                            break;
                        }
                    }
                }
            }
            Key::Control(b'r') => {
                for _ in 0..count {
                    match self.redo.pop() {
                        Some(snapshot) => {
                            self.undo.push(Snapshot {
                                lines: self.lines.clone(),
                                line: self.line,
                                column: self.column,
                            });
                            self.restore(snapshot);
                        }
                        None => {
                            self.message = b"Already at newest change".to_vec();
                            break;
                        }
                    }
                }
            }
            Key::Byte(b':') => self.mode = Mode::Command(Vec::new()),
            Key::Byte(b'/') => self.mode = Mode::Search { forward: true, text: Vec::new() },
            Key::Byte(b'?') => self.mode = Mode::Search { forward: false, text: Vec::new() },
            Key::Byte(b'n') | Key::Byte(b'N') => match self.last_search.clone() {
                Some((pattern, forward)) => {
                    let direction = if key == Key::Byte(b'n') { forward } else { !forward };
                    for _ in 0..count {
                        self.search(&pattern, direction);
                    }
                }
                None => self.message = b"No previous regular expression".to_vec(),
            },
            Key::Control(b'f') | Key::PageDown => self.scroll_pages(count as isize),
            Key::Control(b'b') | Key::PageUp => self.scroll_pages(-(count as isize)),
            Key::Control(b'd') => self.scroll_lines((self.text_rows() / 2).max(1) as isize),
            Key::Control(b'u') => self.scroll_lines(-((self.text_rows() / 2).max(1) as isize)),
            Key::Control(b'g') => {
                let name = self.file_name.clone().unwrap_or_else(|| b"[No Name]".to_vec());
                self.message = alloc::format!(
                    "\"{}\"{} {} lines --{}%--",
                    crate::common::Text(&name),
                    if self.modified { " [Modified]" } else { "" },
                    self.lines.len(),
                    (self.line + 1) * 100 / self.lines.len()
                )
                .into_bytes();
            }
            Key::Escape | Key::Control(b'l') => {}
            _ => {}
        }
        Request::Nothing
    }

    fn awaited(&mut self, first: u8, key: Key) -> Request {
        let count = self.take_count();
        match (first, key) {
            (b'r', Key::Byte(byte)) => {
                let length = self.line_length(self.line);
                if self.column + count <= length && length > 0 {
                    self.snapshot();
                    for offset in 0..count {
                        self.lines[self.line][self.column + offset] = byte;
                    }
                    self.column += count - 1;
                    self.changed();
                }
            }
            (b'r', Key::Enter) => {
                if self.column < self.line_length(self.line) {
                    self.snapshot();
                    let tail = self.lines[self.line].split_off(self.column + 1);
                    self.lines[self.line].pop();
                    self.lines.insert(self.line + 1, tail);
                    self.line += 1;
                    self.column = 0;
                    self.changed();
                }
            }
            (b'g', Key::Byte(b'g')) => {
                let target = count.saturating_sub(1).min(self.lines.len() - 1);
                if let Some((operator, _)) = self.operator.take() {
                    self.apply_operator(operator, Motion { line: target, column: 0, linewise: true, inclusive: false });
                } else {
                    self.line = target;
                    self.column = self.first_non_blank(self.line);
                    self.preferred = None;
                }
            }
            (b'Z', Key::Byte(b'Z')) => {
                if !self.modified {
                    return Request::Quit;
                }
                return match self.file_name.clone() {
                    Some(path) => Request::Write { path, then_quit: true },
                    None => {
                        self.message = b"No file name".to_vec();
                        Request::Nothing
                    }
                };
            }
            (b'Z', Key::Byte(b'Q')) => return Request::Quit,
            (b'f' | b'F' | b't' | b'T', Key::Byte(target)) => {
                self.last_find = Some((first, target));
                let motion = self.find_in_line(first, target, count, false);
                match (self.operator.take(), motion) {
                    (Some((operator, _)), Some(motion)) => self.apply_operator(operator, motion),
                    (None, Some(motion)) => {
                        self.column = motion.column;
                        self.preferred = None;
                    }
                    _ => {}
                }
            }
            _ => self.operator = None,
        }
        Request::Nothing
    }

    fn apply_operator(&mut self, operator: u8, motion: Motion) {
        let motion = self.adjusted(operator, motion);
        if operator == b'y' {
            self.register = self.copy_of(motion);
            return;
        }
        self.snapshot();
        let removed = self.cut(motion);
        self.changed();
        if operator == b'c' {
            if removed.linewise {
                let at = self.line.min(self.lines.len());
                let keep_empty =
                    self.lines.len() == 1 && self.lines[0].is_empty() && removed.text.len() >= self.lines.len();
                if !keep_empty {
                    let at = if motion.linewise && at < self.lines.len() && !self.lines.is_empty() {
                        at
                    } else {
                        self.lines.len()
                    };
                    self.lines.insert(at, Vec::new());
                    self.line = at;
                }
                self.column = 0;
            }
            self.register = removed;
            self.no_lines = false;
            self.mode = Mode::Insert;
            self.clamp();
            return;
        }
        self.register = removed;
        self.clamp();
    }

    fn restore(&mut self, snapshot: Snapshot) {
        self.lines = snapshot.lines;
        self.line = snapshot.line;
        self.column = snapshot.column;
        self.no_lines = self.lines.len() == 1 && self.lines[0].is_empty();
        self.modified = true;
        self.changes += 1;
        self.clamp();
    }

    fn scroll_pages(&mut self, pages: isize) {
        let step = self.text_rows().saturating_sub(2).max(1) as isize * pages;
        self.scroll_lines(step);
        self.top = self.line;
    }

    fn scroll_lines(&mut self, lines: isize) {
        let target = (self.line as isize + lines).clamp(0, self.lines.len() as isize - 1) as usize;
        self.line = target;
        self.column = self.first_non_blank(target);
        self.preferred = None;
        self.clamp();
    }

    /// Scrolls so the cursor's line is on the screen.
    fn follow_cursor(&mut self) {
        let text_rows = self.text_rows();
        if self.line < self.top {
            self.top = self.line;
        }
        loop {
            let used: usize = (self.top..=self.line).map(|index| rows_for(&self.lines[index], self.columns)).sum();
            if used <= text_rows || self.top >= self.line {
                break;
            }
            self.top += 1;
        }
    }

    /// The screen for the current state.
    pub fn frame(&mut self) -> Frame {
        self.follow_cursor();
        let text_rows = self.text_rows();
        let mut rows: Vec<Vec<u8>> = Vec::with_capacity(self.rows);
        let mut cursor = (0, 0);
        let mut index = self.top;
        while rows.len() < text_rows && index < self.lines.len() {
            let line = &self.lines[index];
            let wrapped = wrap(&display(line), self.columns);
            if index != self.top && rows.len() + wrapped.len() > text_rows && index != self.line {
                // A line that does not fit shows as '@' rows, as vi does.
                while rows.len() < text_rows {
                    rows.push(b"@".to_vec());
                }
                break;
            }
            // The cursor's line may wrap to more rows than the screen has
            // left: its first rows are then skipped so the cursor's row shows.
            let mut skip = 0;
            if index == self.line {
                let mut column = display_column(line, self.column);
                if self.mode != Mode::Insert && self.byte_at(self.line, self.column) == Some(b'\t') {
                    column += cell_width(b'\t', column) - 1;
                }
                let row_in_line = column / self.columns;
                skip = (row_in_line + 1).saturating_sub(text_rows - rows.len());
                cursor = (rows.len() + row_in_line - skip, column % self.columns);
            }
            for row in wrapped.into_iter().skip(skip) {
                if rows.len() < text_rows {
                    rows.push(row);
                }
            }
            index += 1;
        }
        while rows.len() < text_rows {
            rows.push(b"~".to_vec());
        }
        let status: Vec<u8> = match &self.mode {
            Mode::Command(text) => {
                let mut line = b":".to_vec();
                line.extend_from_slice(&display(text));
                cursor = (text_rows, line.len().min(self.columns - 1));
                line
            }
            Mode::Search { forward, text } => {
                let mut line = if *forward { b"/".to_vec() } else { b"?".to_vec() };
                line.extend_from_slice(&display(text));
                cursor = (text_rows, line.len().min(self.columns - 1));
                line
            }
            Mode::Insert if self.message.is_empty() => b"-- INSERT --".to_vec(),
            _ => self.message.clone(),
        };
        let mut status = status;
        status.truncate(self.columns);
        rows.push(status);
        Frame { rows, cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use proptest::prelude::*;

    /// Types `input` (terminal bytes) into an editor on `text`.
    fn typed(text: &str, input: &[u8]) -> (Editor, Vec<Request>) {
        let mut editor = Editor::new(text.as_bytes(), Some(b"file".to_vec()), 6, 20);
        let mut decoder = keys::Decoder::default();
        let mut requests = Vec::new();
        for &byte in input {
            for key in decoder.feed(byte) {
                let request = editor.key(key);
                if request != Request::Nothing {
                    requests.push(request);
                }
            }
        }
        for key in decoder.timeout() {
            editor.key(key);
        }
        (editor, requests)
    }

    fn text(editor: &Editor) -> String {
        String::from_utf8(editor.contents()).unwrap()
    }

    #[test]
    fn motions() {
        let (editor, _) = typed("one two  three\nfour\n", b"w");
        assert_eq!((editor.line, editor.column), (0, 4));
        let (editor, _) = typed("one two  three\nfour\n", b"ww");
        assert_eq!((editor.line, editor.column), (0, 9));
        let (editor, _) = typed("one two  three\nfour\n", b"3w");
        assert_eq!((editor.line, editor.column), (1, 0));
        let (editor, _) = typed("one two  three\nfour\n", b"$b");
        assert_eq!((editor.line, editor.column), (0, 9));
        let (editor, _) = typed("one two\n", b"e");
        assert_eq!(editor.column, 2);
        let (editor, _) = typed("a\nb\nc\nd\n", b"G");
        assert_eq!(editor.line, 3);
        let (editor, _) = typed("a\nb\nc\nd\n", b"Ggg2G");
        assert_eq!(editor.line, 1);
        let (editor, _) = typed("long line here\nx\n", b"$j");
        assert_eq!((editor.line, editor.column), (1, 0));
        let (editor, _) = typed("long line here\nx\nanother long\n", b"$jj");
        assert_eq!((editor.line, editor.column), (2, 11));
        let (editor, _) = typed("x\na much longer line\n", b"$j");
        assert_eq!((editor.line, editor.column), (1, 17));
        let (editor, _) = typed("abc\n", b"\x1b[C\x1b[C\x1b[D");
        assert_eq!(editor.column, 1);
    }

    #[test]
    fn inserting_and_deleting() {
        assert_eq!(text(&typed("world\n", b"ihello \x1b").0), "hello world\n");
        assert_eq!(text(&typed("ab\n", b"ax\x1b").0), "axb\n");
        assert_eq!(text(&typed("ab\n", b"A!\x1bI>\x1b").0), ">ab!\n");
        assert_eq!(text(&typed("one\nthree\n", b"otwo\x1b").0), "one\ntwo\nthree\n");
        assert_eq!(text(&typed("two\n", b"Oone\x1b").0), "one\ntwo\n");
        assert_eq!(text(&typed("ab\n", b"A\rcd\x1b").0), "ab\ncd\n");
        assert_eq!(text(&typed("ab\ncd\n", b"ji\x7f\x1b").0), "abcd\n");
        assert_eq!(text(&typed("abcdef\n", b"x3x").0), "ef\n");
        assert_eq!(text(&typed("abcdef\n", b"$X").0), "abcdf\n");
        assert_eq!(text(&typed("a\nb\nc\n", b"dd").0), "b\nc\n");
        assert_eq!(text(&typed("a\nb\nc\n", b"2dd").0), "c\n");
        assert_eq!(text(&typed("a\nb\nc\n", b"jdG").0), "a\n");
        assert_eq!(text(&typed("one two three\n", b"dw").0), "two three\n");
        assert_eq!(text(&typed("one two three\n", b"wD").0), "one \n");
        assert_eq!(text(&typed("one two three\n", b"wd$").0), "one \n");
        assert_eq!(text(&typed("one two\nx\n", b"wdw").0), "one \nx\n");
        assert_eq!(text(&typed("one two\n", b"cwuno\x1b").0), "uno two\n");
        assert_eq!(text(&typed("one two\n", b"wcc\x1b").0), "\n");
        assert_eq!(text(&typed("abc\n", b"rx").0), "xbc\n");
        assert_eq!(text(&typed("abc\n", b"~~").0), "ABc\n");
        assert_eq!(text(&typed("one\n  two\n", b"J").0), "one two\n");
        // Every line deleted: the file is written empty, as vim does.
        let (editor, _) = typed("x\ny\n", b"dG");
        assert_eq!((text(&editor), editor.message.clone()), (String::new(), b"--No lines in buffer--".to_vec()));
        assert_eq!(text(&typed("x\n", b"ddix\x1b").0), "x\n");
        assert_eq!(text(&typed("", b"").0), "");
        assert_eq!(text(&typed("", b"o\x1b").0), "\n\n");
    }

    #[test]
    fn finds_in_the_line_words_and_brackets() {
        let position = |text: &str, keys: &[u8]| {
            let (editor, _) = typed(text, keys);
            (editor.line, editor.column)
        };
        assert_eq!(position("a,b,c,d\n", b"f,"), (0, 1));
        assert_eq!(position("a,b,c,d\n", b"2f,"), (0, 3));
        assert_eq!(position("a,b,c,d\n", b"f,;;"), (0, 5));
        assert_eq!(position("a,b,c,d\n", b"f,;,"), (0, 1));
        assert_eq!(position("a,b,c,d\n", b"t,;"), (0, 2));
        assert_eq!(position("a,b,c,d\n", b"$F,"), (0, 5));
        assert_eq!(position("a,b,c,d\n", b"$T,"), (0, 6));
        assert_eq!(position("a,b,c,d\n", b"fz"), (0, 0));
        assert_eq!(text(&typed("a,b,c,d\n", b"dt,").0), ",b,c,d\n");
        assert_eq!(text(&typed("a,b,c,d\n", b"d2f,").0), "c,d\n");
        assert_eq!(text(&typed("a,b,c,d\n", b"$dF,").0), "a,b,cd\n");
        assert_eq!(text(&typed("a,b,c,d\n", b"cf,x\x1b").0), "xb,c,d\n");
        assert_eq!(position("a.b c.d  e\n", b"W"), (0, 4));
        assert_eq!(position("a.b c.d  e\n", b"$B"), (0, 4));
        assert_eq!(position("a.b c.d  e\n", b"$b"), (0, 6));
        assert_eq!(position("a.b c.d  e\n", b"E"), (0, 2));
        assert_eq!(text(&typed("a.b c.d\n", b"dW").0), "c.d\n");
        assert_eq!(position("f(a, (b)) x\n", b"%"), (0, 8));
        assert_eq!(position("f(a, (b)) x\n", b"%%"), (0, 1));
        assert_eq!(position("{\n  x\n}\n", b"%"), (2, 0));
        assert_eq!(text(&typed("f(a, (b)) x\n", b"fad%").0), "f() x\n");
        assert_eq!(position("no brackets\n", b"%"), (0, 0));
    }

    /// Checked against vim 9 (the system test compares more with vim).
    #[test]
    fn operators_across_lines() {
        assert_eq!(text(&typed("ab cd\nef\n", b"lcwX\x1b").0), "aX cd\nef\n");
        assert_eq!(text(&typed("ab cd\nef\n", b"lc2wX\x1b").0), "aX\nef\n");
        assert_eq!(text(&typed("ab cd\nef\n", b"$cwX\x1b").0), "ab cX\nef\n");
        assert_eq!(text(&typed("a.b cd\n", b"cWX\x1b").0), "X cd\n");
        let file = "one two three\n  four  five\n\nsix seven\n";
        assert_eq!(text(&typed(file, b"jjdw").0), "one two three\n  four  five\nsix seven\n");
        assert_eq!(text(&typed(file, b"jjde").0), "one two three\n  four  five\n seven\n");
        assert_eq!(text(&typed("a\n\nb\nc\n", b"jde").0), "a\nc\n");
        assert_eq!(text(&typed(file, b"wd3w").0), "one five\n\nsix seven\n");
        assert_eq!(text(&typed(file, b"wd4w").0), "one \n\nsix seven\n");
        assert_eq!(text(&typed(file, b"$dw").0), "one two thre\n  four  five\n\nsix seven\n");
        assert_eq!(text(&typed(file, b"j^db").0), "one two four  five\n\nsix seven\n");
        assert_eq!(text(&typed(file, b"wwd4wp").0), file);
        assert_eq!(text(&typed(file, b"wd}").0), "one \n\nsix seven\n");
        assert_eq!(text(&typed(file, b"d}").0), "\nsix seven\n");
        assert_eq!(text(&typed(file, b"d9}").0), file);
        assert_eq!(text(&typed(file, b"Gd{").0), "one two three\n  four  five\nsix seven\n");
    }

    #[test]
    fn dot_repeats_the_last_change() {
        assert_eq!(text(&typed("a\nb\nc\nd\n", b"dd..").0), "d\n");
        assert_eq!(text(&typed("a\nb\nc\nd\ne\n", b"2dd.").0), "e\n");
        assert_eq!(text(&typed("abcdef\n", b"x3.").0), "ef\n");
        assert_eq!(text(&typed("one two\n", b"cwuno\x1bw.").0), "uno uno\n");
        assert_eq!(text(&typed("a\nb\n", b"A!\x1bj.").0), "a!\nb!\n");
        assert_eq!(text(&typed("a\nb\n", b"A!\x1bju.").0), "a!\nb\n");
        assert_eq!(text(&typed("abc\n", b"rx.").0), "xbc\n");
        assert_eq!(text(&typed("abc\n", b"rxl.").0), "xxc\n");
        // Motions, searches and undo are not changes to repeat.
        assert_eq!(text(&typed("abcd\n", b"xl.").0), "bd\n");
        assert_eq!(text(&typed("abc\n", b".").0), "abc\n");
    }

    /// A change whose motion fails when it is repeated leaves its inserted
    /// text to be replayed as commands: a `.` in it must not repeat the
    /// change again (it recursed until the stack overflowed).
    #[test]
    fn a_dot_inside_a_repeated_change_does_not_recurse() {
        // cfz changes "abz" to "Q."; repeated there, fz finds no z.
        let (editor, _) = typed("abz\n", b"cfzQ.\x1b.");
        assert_eq!(text(&editor), "Q.\n");
    }

    #[test]
    fn ex_ranges() {
        assert_eq!(text(&typed("a\nb\nc\nd\n", b":2d\r").0), "a\nc\nd\n");
        assert_eq!(text(&typed("a\nb\nc\nd\n", b":2,3d\r").0), "a\nd\n");
        assert_eq!(text(&typed("a\nb\nc\nd\n", b"j:.,$d\r").0), "a\n");
        assert_eq!(text(&typed("a\nb\nc\nd\n", b":$-1,$d\r").0), "a\nb\n");
        assert_eq!(text(&typed("a\nb\nc\nd\n", b":%d\r").0), "");
        assert_eq!(text(&typed("a\nb\nc\n", b":1,2y\rGp").0), "a\nb\nc\na\nb\n");
        assert_eq!(text(&typed("a\nb\nc\n", b":1,3j\r").0), "a b c\n");
        assert_eq!(text(&typed("a\na\na\n", b":2,3s/a/b/\r").0), "a\nb\nb\n");
        assert_eq!(text(&typed("a1\nb\na2\nc\n", b":g/a/d\r").0), "b\nc\n");
        assert_eq!(text(&typed("a1\nb\na2\nc\n", b":v/a/d\r").0), "a1\na2\n");
        assert_eq!(text(&typed("a1\nb\na2\nc\n", b":g!/a/d\r").0), "a1\na2\n");
        assert_eq!(text(&typed("a1\nb\na2\nc\n", b":g/a/s//x/\r").0), "x1\nb\nx2\nc\n");
        assert_eq!(text(&typed("a1\nb\na2\nc\n", b":g/a/s/[0-9]/#/\ru").0), "a1\nb\na2\nc\n");
        assert_eq!(text(&typed("a1\nb\na2\nc\n", b":2,$g/a/d\rp").0), "a1\nb\nc\na2\n");
        assert_eq!(text(&typed("a1\na2\nb\n", b":g/a/d\rp").0), "b\na2\n");
        assert_eq!(typed("a\n", b":g/z/d\r").0.message, b"Pattern not found: z");
        let (editor, _) = typed("a\nb\nc\n", b":.+1\r");
        assert_eq!(editor.line, 1);
        let (editor, _) = typed("a\nb\nc\n", b":$\r");
        assert_eq!(editor.line, 2);
        assert_eq!(typed("a\nb\nc\n", b":3,1d\r").0.message, b"E493: Backwards range given");
        assert_eq!(typed("a\nb\n", b":9d\r").0.message, b"E16: Invalid range");
    }

    #[test]
    fn yank_put_undo_redo() {
        assert_eq!(text(&typed("a\nb\n", b"yyp").0), "a\na\nb\n");
        assert_eq!(text(&typed("a\nb\n", b"jyykP").0), "b\na\nb\n");
        assert_eq!(text(&typed("one two\n", b"ywP").0), "one one two\n");
        assert_eq!(text(&typed("abc\n", b"xp").0), "bac\n");
        assert_eq!(text(&typed("a\nb\n", b"ddu").0), "a\nb\n");
        assert_eq!(text(&typed("a\nb\n", b"ddu\x12").0), "b\n");
        assert_eq!(text(&typed("abc\n", b"ixy\x1bu").0), "abc\n");
        let (editor, _) = typed("abc\n", b"uu");
        assert_eq!(editor.message, b"Already at oldest change");
    }

    #[test]
    fn search_and_substitute() {
        let (editor, _) = typed("alpha\nbeta\ngamma beta\n", b"/beta\r");
        assert_eq!((editor.line, editor.column), (1, 0));
        let (editor, _) = typed("alpha\nbeta\ngamma beta\n", b"/beta\rn");
        assert_eq!((editor.line, editor.column), (2, 6));
        let (editor, _) = typed("alpha\nbeta\ngamma beta\n", b"/beta\rnn");
        assert_eq!((editor.line, editor.message.clone()), (1, b"search hit BOTTOM, continuing at TOP".to_vec()));
        let (editor, _) = typed("alpha\nbeta\n", b"G?al\r");
        assert_eq!(editor.line, 0);
        let (editor, _) = typed("alpha\n", b"/zeta\r");
        assert_eq!(editor.message, b"Pattern not found: zeta");
        assert_eq!(text(&typed("a a\nb a\n", b":%s/a/x/g\r").0), "x x\nb x\n");
        assert_eq!(text(&typed("a a\n", b":s/a/<&>/\r").0), "<a> a\n");
    }

    #[test]
    fn commands_write_and_quit() {
        let (_, requests) = typed("a\n", b":w\r");
        assert_eq!(requests, [Request::Write { path: b"file".to_vec(), then_quit: false }]);
        let (editor, requests) = typed("a\n", b"x:q\r");
        assert!(requests.is_empty());
        assert_eq!(editor.message, b"No write since last change (add ! to override)");
        assert_eq!(typed("a\n", b"x:q!\r").1, [Request::Quit]);
        assert_eq!(typed("a\n", b"x:wq\r").1, [Request::Write { path: b"file".to_vec(), then_quit: true }]);
        assert_eq!(typed("a\n", b":x\r").1, [Request::Quit]);
        assert_eq!(typed("a\n", b"xZZ").1, [Request::Write { path: b"file".to_vec(), then_quit: true }]);
        assert_eq!(typed("a\n", b":w other\r").1, [Request::Write { path: b"other".to_vec(), then_quit: false }]);
        let (editor, _) = typed("a\nb\nc\n", b":3\r");
        assert_eq!(editor.line, 2);
        let (editor, _) = typed("a\n", b":bogus\r");
        assert_eq!(editor.message, b"Not an editor command: bogus");
    }

    #[test]
    fn the_screen_shows_text_tildes_and_status() {
        let (mut editor, _) = typed("one\n\ttab\nvery long line that wraps\n", b"jj$");
        let frame = editor.frame();
        assert_eq!(
            frame.rows,
            [&b"one"[..], b"        tab", b"very long line that ", b"wraps", b"~", b""]
                .iter()
                .map(|row| row.to_vec())
                .collect::<Vec<_>>()
        );
        assert_eq!(frame.cursor, (3, 4));
        let (mut editor, _) = typed("x\n", b"i");
        assert_eq!(editor.frame().rows[5], b"-- INSERT --");
        let (mut editor, _) = typed("x\n", b":wq");
        let frame = editor.frame();
        assert_eq!((frame.rows[5].clone(), frame.cursor), (b":wq".to_vec(), (5, 3)));
    }

    #[test]
    fn the_view_follows_the_cursor() {
        let lines: String = (1..=20).map(|number| alloc::format!("{}\n", number)).collect();
        let (mut editor, _) = typed(&lines, b"10j");
        let frame = editor.frame();
        assert_eq!(frame.rows[frame.cursor.0], b"11");
        assert_eq!(frame.rows[0], b"7");
        let (mut editor, _) = typed(&lines, b"G\x02");
        let frame = editor.frame();
        assert_eq!(frame.rows[frame.cursor.0], editor.lines[editor.line]);
    }

    proptest! {
        /// Any keys keep the editor's invariants: at least one line, the
        /// cursor inside the buffer, a frame of the screen's size.
        #[test]
        fn random_keys_keep_the_invariants(input in proptest::collection::vec(prop_oneof![
            Just(b'h'), Just(b'j'), Just(b'k'), Just(b'l'), Just(b'w'), Just(b'b'), Just(b'e'), Just(b'x'), Just(b'd'),
            Just(b'y'), Just(b'p'), Just(b'P'), Just(b'u'), Just(b'i'), Just(b'a'), Just(b'o'), Just(b'J'), Just(b'c'),
            Just(b'G'), Just(b'g'), Just(b'$'), Just(b'0'), Just(b'3'), Just(b'\x1b'), Just(b'\r'), Just(b'\x7f'),
            Just(b'z'), Just(b' '), Just(b'\t'), Just(b'/'), Just(b':'), Just(0x12), Just(b'~'), Just(b'r'), Just(b'X'),
            Just(b'f'), Just(b't'), Just(b'F'), Just(b'T'), Just(b';'), Just(b','), Just(b'.'), Just(b'%'), Just(b'W'),
            Just(b'B'), Just(b'E'), Just(b'('), Just(b')'), Just(b'{'), Just(b'}'),
        ], 0..120)) {
            let (mut editor, _) = typed("first line\n\tsecond\n\nlast one here\n", &input);
            prop_assert!(!editor.lines.is_empty());
            prop_assert!(editor.line < editor.lines.len());
            prop_assert!(editor.column <= editor.lines[editor.line].len());
            let frame = editor.frame();
            prop_assert_eq!(frame.rows.len(), 6);
            prop_assert!(frame.cursor.0 < 6 && frame.cursor.1 < 20);
            prop_assert!(frame.rows.iter().all(|row| row.len() <= 20));
        }
    }
}
