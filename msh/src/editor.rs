//! The line editor: a state machine from the bytes a VT100/xterm-style
//! terminal sends (in raw mode, over a serial line or a pseudo-terminal) to
//! an edited line, producing the bytes that redraw it.
//!
//! One line on one screen row: when the text is wider than the terminal the
//! view scrolls sideways to keep the cursor visible. Control characters in
//! the line are shown as `^X`. Output uses `\r`, `\x1b[K` (erase to the end
//! of the row) and `\x1b[nC` (cursor right), which every VT100 descendant
//! understands; it assumes no output processing (the raw mode the shell
//! sets), so a new line is written `\r\n`.
//!
//! Keys (Emacs style, as readline): see `docs/msh.md`.

use alloc::vec::Vec;

use crate::history::History;

/// What a key produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Keep editing.
    Continue,
    /// Enter: the line (without a newline).
    Line(Vec<u8>),
    /// ^D on an empty line.
    EndOfFile,
    /// ^C: the line is abandoned.
    Interrupted,
}

/// One completion the completer offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// What replaces the word (already quoted for the shell).
    pub replacement: Vec<u8>,
    /// How it is listed (the name without its directory).
    pub display: Vec<u8>,
    /// A whole word: a space follows when it is the only candidate
    /// (not for a directory, which ends with `/`).
    pub complete: bool,
}

/// Completions for the word that ends at the cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// Where the word starts in the line.
    pub start: usize,
    pub candidates: Vec<Candidate>,
}

pub trait Completer {
    fn complete(&mut self, line: &[u8], cursor: usize) -> Completion;
}

/// A completer that offers nothing.
pub struct NoCompletion;

impl Completer for NoCompletion {
    fn complete(&mut self, _: &[u8], cursor: usize) -> Completion {
        Completion { start: cursor, candidates: Vec::new() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Started,
    /// After `ESC [`: parameter bytes so far (a bounded count).
    ControlSequence,
    /// After `ESC O`.
    SingleShift,
}

/// The longest escape sequence parameter kept; longer ones are skipped to
/// their final byte.
const MAX_PARAMETERS: usize = 16;

pub struct Editor {
    buffer: Vec<u8>,
    /// Byte offset of the cursor, always at a character boundary.
    cursor: usize,
    /// The last row of the prompt (what a redraw writes again).
    prompt_row: Vec<u8>,
    prompt_width: usize,
    columns: usize,
    /// First display column of the line shown (sideways scrolling).
    scroll: usize,
    escape: Escape,
    parameters: Vec<u8>,
    /// The bytes of a UTF-8 character still arriving.
    pending: Vec<u8>,
    /// Which history entry is shown (`None`: the line being typed).
    history_index: Option<usize>,
    /// The line being typed, kept while browsing history.
    typed: Vec<u8>,
    /// What ^K, ^U and ^W removed last, for ^Y.
    killed: Vec<u8>,
    last_was_tab: bool,
}

impl Editor {
    pub fn new(columns: usize) -> Self {
        Editor {
            buffer: Vec::new(),
            cursor: 0,
            prompt_row: Vec::new(),
            prompt_width: 0,
            columns: columns.max(20),
            scroll: 0,
            escape: Escape::None,
            parameters: Vec::new(),
            pending: Vec::new(),
            history_index: None,
            typed: Vec::new(),
            killed: Vec::new(),
            last_was_tab: false,
        }
    }

    pub fn set_columns(&mut self, columns: usize) {
        self.columns = columns.max(20);
    }

    /// The line being edited.
    pub fn buffer(&self) -> &[u8] {
        &self.buffer
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Starts a new line: writes the prompt.
    pub fn start(&mut self, prompt: &[u8], output: &mut Vec<u8>) {
        self.buffer.clear();
        self.cursor = 0;
        self.scroll = 0;
        self.escape = Escape::None;
        self.pending.clear();
        self.history_index = None;
        self.typed.clear();
        self.last_was_tab = false;
        let row_start = prompt.iter().rposition(|&byte| byte == b'\n').map_or(0, |index| index + 1);
        self.prompt_row = prompt[row_start..].to_vec();
        self.prompt_width = display_width(&self.prompt_row);
        for &byte in prompt {
            if byte == b'\n' {
                output.extend_from_slice(b"\r\n");
            } else {
                output.push(byte);
            }
        }
    }

    /// Takes one byte from the terminal.
    pub fn feed(
        &mut self,
        byte: u8,
        history: &mut History,
        completer: &mut dyn Completer,
        output: &mut Vec<u8>,
    ) -> Event {
        match self.escape {
            Escape::Started => return self.after_escape(byte, output),
            Escape::ControlSequence => return self.control_sequence(byte, history, output),
            Escape::SingleShift => {
                self.escape = Escape::None;
                return self.key_code(byte, history, output);
            }
            Escape::None => {}
        }
        if !self.pending.is_empty() {
            if byte & 0xc0 == 0x80 {
                return self.utf8_continuation(byte, output);
            }
            // The character broke off: keep what came, then take this byte
            // as the key it is.
            let broken = core::mem::take(&mut self.pending);
            self.insert(&broken, output);
        }
        if byte >= 0x80 {
            return self.utf8_start(byte, output);
        }
        let was_tab = core::mem::replace(&mut self.last_was_tab, false);
        match byte {
            0x01 => self.move_to(0, output),
            0x02 => self.left(output),
            0x03 => {
                output.extend_from_slice(b"^C\r\n");
                self.buffer.clear();
                self.cursor = 0;
                return Event::Interrupted;
            }
            0x04 => {
                if self.buffer.is_empty() {
                    return Event::EndOfFile;
                }
                self.delete_forward(output);
            }
            0x05 => self.move_to(self.buffer.len(), output),
            0x06 => self.right(output),
            0x08 | 0x7f => self.delete_backward(output),
            0x09 => {
                self.last_was_tab = true;
                self.complete(completer, was_tab, output);
            }
            b'\r' | b'\n' => {
                output.extend_from_slice(b"\r\n");
                let line = core::mem::take(&mut self.buffer);
                self.cursor = 0;
                return Event::Line(line);
            }
            0x0b => {
                self.killed = self.buffer.split_off(self.cursor);
                self.refresh(output);
            }
            0x0c => {
                output.extend_from_slice(b"\x1b[H\x1b[2J");
                self.refresh(output);
            }
            0x0e => self.history_next(history, output),
            0x10 => self.history_previous(history, output),
            0x14 => self.transpose(output),
            0x15 => {
                self.killed = self.buffer.drain(..self.cursor).collect();
                self.cursor = 0;
                self.refresh(output);
            }
            0x17 => self.kill_word_backward(output),
            0x19 => {
                let killed = self.killed.clone();
                self.insert(&killed, output);
            }
            0x1b => self.escape = Escape::Started,
            byte if byte < 0x20 => {}
            byte => self.insert(&[byte], output),
        }
        Event::Continue
    }

    fn after_escape(&mut self, byte: u8, output: &mut Vec<u8>) -> Event {
        self.escape = Escape::None;
        match byte {
            b'[' => {
                self.escape = Escape::ControlSequence;
                self.parameters.clear();
            }
            b'O' => self.escape = Escape::SingleShift,
            b'b' | b'B' => {
                let target = self.word_start_before(self.cursor);
                self.move_to(target, output);
            }
            b'f' | b'F' => {
                let target = self.word_end_after(self.cursor);
                self.move_to(target, output);
            }
            b'd' | b'D' => {
                let end = self.word_end_after(self.cursor);
                self.killed = self.buffer.drain(self.cursor..end).collect();
                self.refresh(output);
            }
            0x7f | 0x08 => self.kill_word_backward(output),
            _ => {}
        }
        Event::Continue
    }

    fn control_sequence(&mut self, byte: u8, history: &mut History, output: &mut Vec<u8>) -> Event {
        if (0x20..0x40).contains(&byte) {
            if self.parameters.len() < MAX_PARAMETERS {
                self.parameters.push(byte);
            }
            return Event::Continue;
        }
        self.escape = Escape::None;
        if byte == b'~' {
            match self.parameters.as_slice() {
                b"1" | b"7" => self.move_to(0, output),
                b"4" | b"8" => self.move_to(self.buffer.len(), output),
                b"3" => self.delete_forward(output),
                _ => {}
            }
            return Event::Continue;
        }
        // `ESC [ 1 ; 5 C` and friends: Ctrl (or Alt) with an arrow moves by words.
        let modified = self.parameters.ends_with(b";5") || self.parameters.ends_with(b";3");
        match (byte, modified) {
            (b'C', true) => {
                let target = self.word_end_after(self.cursor);
                self.move_to(target, output);
                Event::Continue
            }
            (b'D', true) => {
                let target = self.word_start_before(self.cursor);
                self.move_to(target, output);
                Event::Continue
            }
            _ => self.key_code(byte, history, output),
        }
    }

    /// The final byte of an arrow, Home or End sequence.
    fn key_code(&mut self, byte: u8, history: &mut History, output: &mut Vec<u8>) -> Event {
        match byte {
            b'A' => self.history_previous(history, output),
            b'B' => self.history_next(history, output),
            b'C' => self.right(output),
            b'D' => self.left(output),
            b'H' => self.move_to(0, output),
            b'F' => self.move_to(self.buffer.len(), output),
            _ => {}
        }
        Event::Continue
    }

    /// A byte that may start a UTF-8 character.
    fn utf8_start(&mut self, byte: u8, output: &mut Vec<u8>) -> Event {
        if utf8_length(byte) <= 1 {
            // A stray continuation or an invalid byte: taken as it is.
            self.insert(&[byte], output);
        } else {
            self.pending.push(byte);
        }
        Event::Continue
    }

    /// The next byte of a UTF-8 character; it is inserted once complete.
    fn utf8_continuation(&mut self, byte: u8, output: &mut Vec<u8>) -> Event {
        self.pending.push(byte);
        if self.pending.len() == utf8_length(self.pending[0]) {
            let character = core::mem::take(&mut self.pending);
            self.insert(&character, output);
        }
        Event::Continue
    }

    // ---- editing ----

    fn insert(&mut self, bytes: &[u8], output: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let at_end = self.cursor == self.buffer.len();
        self.buffer.splice(self.cursor..self.cursor, bytes.iter().copied());
        self.cursor += bytes.len();
        self.snap_cursor();
        let width = display_width(&self.buffer);
        // Printable ASCII, or one whole UTF-8 character, is shown as typed.
        let plain = bytes.iter().all(|byte| (0x20..0x7f).contains(byte))
            || (bytes.len() > 1 && character_length(bytes, 0) == bytes.len());
        if at_end
            && self.cursor == self.buffer.len()
            && self.scroll == 0
            && self.prompt_width + width < self.columns
            && plain
        {
            // The common case: typing at the end of a short line.
            output.extend_from_slice(bytes);
        } else {
            self.refresh(output);
        }
    }

    fn delete_backward(&mut self, output: &mut Vec<u8>) {
        if self.cursor == 0 {
            return;
        }
        let start = previous_boundary(&self.buffer, self.cursor);
        self.buffer.drain(start..self.cursor);
        self.cursor = start;
        self.refresh(output);
    }

    fn delete_forward(&mut self, output: &mut Vec<u8>) {
        if self.cursor == self.buffer.len() {
            return;
        }
        let end = next_boundary(&self.buffer, self.cursor);
        self.buffer.drain(self.cursor..end);
        self.refresh(output);
    }

    fn kill_word_backward(&mut self, output: &mut Vec<u8>) {
        // ^W: back over blanks, then over the word (up to a blank).
        let mut start = self.cursor;
        while start > 0 && self.buffer[start - 1] == b' ' {
            start -= 1;
        }
        while start > 0 && self.buffer[start - 1] != b' ' {
            start -= 1;
        }
        self.killed = self.buffer.drain(start..self.cursor).collect();
        self.cursor = start;
        self.refresh(output);
    }

    fn transpose(&mut self, output: &mut Vec<u8>) {
        // ^T: swap the characters before and at the cursor (at the end, the two before).
        if self.buffer.len() < 2 || self.cursor == 0 {
            return;
        }
        let middle =
            if self.cursor == self.buffer.len() { previous_boundary(&self.buffer, self.cursor) } else { self.cursor };
        let start = previous_boundary(&self.buffer, middle);
        let end = next_boundary(&self.buffer, middle);
        let first: Vec<u8> = self.buffer[start..middle].to_vec();
        let second: Vec<u8> = self.buffer[middle..end].to_vec();
        let swapped: Vec<u8> = second.iter().chain(first.iter()).copied().collect();
        self.buffer.splice(start..end, swapped);
        self.cursor = end;
        self.refresh(output);
    }

    fn left(&mut self, output: &mut Vec<u8>) {
        if self.cursor > 0 {
            let target = previous_boundary(&self.buffer, self.cursor);
            self.move_to(target, output);
        }
    }

    fn right(&mut self, output: &mut Vec<u8>) {
        if self.cursor < self.buffer.len() {
            let target = next_boundary(&self.buffer, self.cursor);
            self.move_to(target, output);
        }
    }

    fn move_to(&mut self, cursor: usize, output: &mut Vec<u8>) {
        if cursor != self.cursor {
            self.cursor = cursor;
            self.refresh(output);
        }
    }

    fn word_start_before(&self, from: usize) -> usize {
        let mut index = from;
        while index > 0 && !self.buffer[index - 1].is_ascii_alphanumeric() {
            index -= 1;
        }
        while index > 0 && self.buffer[index - 1].is_ascii_alphanumeric() {
            index -= 1;
        }
        index
    }

    fn word_end_after(&self, from: usize) -> usize {
        let mut index = from;
        while index < self.buffer.len() && !self.buffer[index].is_ascii_alphanumeric() {
            index += 1;
        }
        while index < self.buffer.len() && self.buffer[index].is_ascii_alphanumeric() {
            index += 1;
        }
        index
    }

    // ---- history ----

    fn history_previous(&mut self, history: &History, output: &mut Vec<u8>) {
        let index = match self.history_index {
            None if history.is_empty() => return,
            None => {
                self.typed = self.buffer.clone();
                history.len() - 1
            }
            Some(0) => return,
            Some(index) => index - 1,
        };
        self.show_history(index, history, output);
    }

    fn history_next(&mut self, history: &History, output: &mut Vec<u8>) {
        match self.history_index {
            None => {}
            Some(index) if index + 1 < history.len() => self.show_history(index + 1, history, output),
            Some(_) => {
                self.history_index = None;
                self.buffer = core::mem::take(&mut self.typed);
                self.cursor = self.buffer.len();
                self.refresh(output);
            }
        }
    }

    fn show_history(&mut self, index: usize, history: &History, output: &mut Vec<u8>) {
        if let Some(entry) = history.get(index) {
            self.history_index = Some(index);
            self.buffer = entry.to_vec();
            self.cursor = self.buffer.len();
            self.refresh(output);
        }
    }

    // ---- completion ----

    fn complete(&mut self, completer: &mut dyn Completer, listing: bool, output: &mut Vec<u8>) {
        let completion = completer.complete(&self.buffer, self.cursor);
        let start = completion.start.min(self.cursor);
        let candidates = completion.candidates;
        match candidates.as_slice() {
            [] => output.push(0x07),
            [only] => {
                let mut replacement = only.replacement.clone();
                if only.complete {
                    replacement.push(b' ');
                }
                self.replace_word(start, &replacement, output);
            }
            _ => {
                let prefix = common_prefix(candidates.iter().map(|candidate| candidate.replacement.as_slice()));
                if prefix.len() > self.cursor - start {
                    self.replace_word(start, &prefix, output);
                } else if listing {
                    self.list(&candidates, output);
                } else {
                    output.push(0x07);
                }
            }
        }
    }

    fn replace_word(&mut self, start: usize, replacement: &[u8], output: &mut Vec<u8>) {
        self.buffer.splice(start..self.cursor, replacement.iter().copied());
        self.cursor = start + replacement.len();
        self.refresh(output);
    }

    /// Lists candidates in columns below the line, then draws the line again.
    fn list(&mut self, candidates: &[Candidate], output: &mut Vec<u8>) {
        let width = candidates.iter().map(|candidate| display_width(&candidate.display)).max().unwrap_or(0) + 2;
        let per_row = (self.columns / width).max(1);
        let rows = candidates.len().div_ceil(per_row);
        output.extend_from_slice(b"\r\n");
        for row in 0..rows {
            for column in 0..per_row {
                // Column-major, as ls prints.
                let Some(candidate) = candidates.get(column * rows + row) else { continue };
                output.extend_from_slice(&candidate.display);
                let is_last = candidates.get((column + 1) * rows + row).is_none();
                if !is_last {
                    for _ in display_width(&candidate.display)..width {
                        output.push(b' ');
                    }
                }
            }
            output.extend_from_slice(b"\r\n");
        }
        self.refresh(output);
    }

    /// Keeps the cursor on a character boundary: an edit can make bytes on
    /// either side of it one character (a lead byte meeting a stray
    /// continuation byte); the cursor then goes to that character's end.
    fn snap_cursor(&mut self) {
        let mut boundary = 0;
        while boundary < self.cursor {
            boundary = next_boundary(&self.buffer, boundary);
        }
        self.cursor = boundary;
    }

    // ---- display ----

    /// Redraws the row: prompt, the visible part of the line, erase the
    /// rest, put the cursor in place.
    fn refresh(&mut self, output: &mut Vec<u8>) {
        self.snap_cursor();
        let available = self.columns.saturating_sub(self.prompt_width + 1).max(1);
        let cursor_column = display_width(&self.buffer[..self.cursor]);
        if cursor_column < self.scroll {
            self.scroll = cursor_column;
        } else if cursor_column > self.scroll + available {
            self.scroll = cursor_column - available;
        }
        output.push(b'\r');
        output.extend_from_slice(&self.prompt_row);
        let mut column = 0;
        let mut index = 0;
        while index < self.buffer.len() {
            let end = next_boundary(&self.buffer, index);
            let shown = render(&self.buffer[index..end]);
            let width = display_width(&self.buffer[index..end]);
            if column >= self.scroll && column + width <= self.scroll + available {
                output.extend_from_slice(&shown);
            }
            column += width;
            index = end;
        }
        output.extend_from_slice(b"\x1b[K\r");
        let target = self.prompt_width + cursor_column - self.scroll;
        if target > 0 {
            output.extend_from_slice(alloc::format!("\x1b[{target}C").as_bytes());
        }
    }
}

/// The byte length of a UTF-8 character from its first byte (1 for ASCII
/// and for bytes that cannot start one).
fn utf8_length(first: u8) -> usize {
    match first {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}

/// The length of the character at `index`: a whole UTF-8 sequence when
/// it is one, else the single byte (a stray or invalid byte is a character
/// of its own, shown as `?`).
fn character_length(text: &[u8], index: usize) -> usize {
    let length = utf8_length(text[index]);
    let whole = length > 1
        && index + length <= text.len()
        && text[index + 1..index + length].iter().all(|byte| byte & 0xc0 == 0x80);
    if whole {
        length
    } else {
        1
    }
}

fn next_boundary(text: &[u8], index: usize) -> usize {
    (index + character_length(text, index)).min(text.len())
}

fn previous_boundary(text: &[u8], index: usize) -> usize {
    for back in 2..=4 {
        if index >= back && character_length(text, index - back) == back {
            return index - back;
        }
    }
    index.saturating_sub(1)
}

/// How a character is shown: control characters as `^X`, a byte that is
/// not part of a UTF-8 character as `?`.
fn render(character: &[u8]) -> Vec<u8> {
    match character {
        [byte] if *byte < 0x20 => alloc::vec![b'^', byte + 0x40],
        [0x7f] => b"^?".to_vec(),
        [byte] if *byte >= 0x80 => b"?".to_vec(),
        other => other.to_vec(),
    }
}

/// Columns the text takes: one per character, two for a control character,
/// none for an `ESC [ … m` colour sequence (in prompts).
pub fn display_width(text: &[u8]) -> usize {
    let mut width = 0;
    let mut index = 0;
    while index < text.len() {
        let byte = text[index];
        if byte == 0x1b && text.get(index + 1) == Some(&b'[') {
            index += 2;
            while index < text.len() && !(0x40..0x7f).contains(&text[index]) {
                index += 1;
            }
            index += 1;
            continue;
        }
        width += if byte < 0x20 || byte == 0x7f { 2 } else { 1 };
        index = next_boundary(text, index);
    }
    width
}

fn common_prefix<'a>(mut words: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let Some(first) = words.next() else { return Vec::new() };
    let mut length = first.len();
    for word in words {
        length = first[..length].iter().zip(word).take_while(|(a, b)| a == b).count();
    }
    // Never cut a UTF-8 character in half.
    while length > 0 && length < first.len() && first[length] & 0xc0 == 0x80 {
        length -= 1;
    }
    first[..length].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    struct Fixed(Vec<&'static str>);

    impl Completer for Fixed {
        fn complete(&mut self, line: &[u8], cursor: usize) -> Completion {
            let start = line[..cursor].iter().rposition(|&byte| byte == b' ').map_or(0, |index| index + 1);
            let word = &line[start..cursor];
            let candidates = self
                .0
                .iter()
                .filter(|name| name.as_bytes().starts_with(word))
                .map(|name| Candidate {
                    replacement: name.as_bytes().to_vec(),
                    display: name.as_bytes().to_vec(),
                    complete: !name.ends_with('/'),
                })
                .collect();
            Completion { start, candidates }
        }
    }

    struct Session {
        editor: Editor,
        history: History,
        completer: Fixed,
        output: Vec<u8>,
        events: Vec<Event>,
    }

    impl Session {
        fn new(columns: usize) -> Self {
            let mut editor = Editor::new(columns);
            let mut output = Vec::new();
            editor.start(b"$ ", &mut output);
            Session { editor, history: History::new(100), completer: Fixed(vec![]), output, events: Vec::new() }
        }

        fn keys(&mut self, keys: &[u8]) -> &mut Self {
            for &key in keys {
                let event = self.editor.feed(key, &mut self.history, &mut self.completer, &mut self.output);
                if event != Event::Continue {
                    self.events.push(event);
                }
            }
            self
        }

        fn line(&self) -> String {
            String::from_utf8_lossy(self.editor.buffer()).into_owned()
        }

        fn take_output(&mut self) -> String {
            String::from_utf8_lossy(&core::mem::take(&mut self.output)).into_owned()
        }
    }

    #[test]
    fn typing_echoes_and_enter_returns_the_line() {
        let mut session = Session::new(80);
        session.keys(b"echo hi");
        assert_eq!(session.take_output(), "$ echo hi");
        session.keys(b"\r");
        assert_eq!(session.take_output(), "\r\n");
        assert_eq!(session.events, [Event::Line(b"echo hi".to_vec())]);
    }

    #[test]
    fn cursor_movement_and_editing_keys() {
        let mut session = Session::new(80);
        session.keys(b"helo").keys(b"\x1b[D").keys(b"l");
        assert_eq!(session.line(), "hello");
        assert_eq!(session.editor.cursor(), 4);
        session.keys(b"\x01X").keys(b"\x05Y");
        assert_eq!(session.line(), "XhelloY");
        session.keys(b"\x1b[H\x1b[3~");
        assert_eq!(session.line(), "helloY");
        session.keys(b"\x1bOF\x7f\x08");
        assert_eq!(session.line(), "hell");
        session.keys(b"\x1b[1~\x1b[C\x1b[C\x0b");
        assert_eq!(session.line(), "he");
        session.keys(b"\x19\x19");
        assert_eq!(session.line(), "hellll");
        session.keys(b"\x15");
        assert_eq!((session.line().as_str(), session.editor.cursor()), ("", 0));
        session.keys(b"one two  three\x17");
        assert_eq!(session.line(), "one two  ");
        session.keys(b"\x17");
        assert_eq!(session.line(), "one ");
        session.keys(b"\x04\x02\x04");
        assert_eq!(session.line(), "one");
        session.keys(b"ab\x14");
        assert_eq!(session.line(), "oneba");
        session.keys(b"\x1bb\x1bd");
        assert_eq!(session.line(), "");
    }

    #[test]
    fn redraw_output_is_exact() {
        let mut session = Session::new(80);
        session.keys(b"abc");
        session.take_output();
        session.keys(b"\x1b[D");
        assert_eq!(session.take_output(), "\r$ abc\x1b[K\r\x1b[4C");
        session.keys(b"\x7f");
        assert_eq!(session.take_output(), "\r$ ac\x1b[K\r\x1b[3C");
        session.keys(b"\x01");
        assert_eq!(session.take_output(), "\r$ ac\x1b[K\r\x1b[2C");
    }

    #[test]
    fn long_lines_scroll_sideways() {
        let mut session = Session::new(20);
        session.keys(&[b'x'; 40]);
        let output = session.take_output();
        assert!(output.ends_with("\x1b[19C"), "{output:?}");
        // The visible part never reaches the last column.
        let last_row = output.rsplit('\r').nth(1).unwrap();
        assert_eq!(last_row, "$ xxxxxxxxxxxxxxxxx\x1b[K");
        session.keys(b"\x01");
        let output = session.take_output();
        assert_eq!(output, "\r$ xxxxxxxxxxxxxxxxx\x1b[K\r\x1b[2C");
    }

    #[test]
    fn interrupt_and_end_of_file() {
        let mut session = Session::new(80);
        session.keys(b"partial\x03");
        assert_eq!(session.events, [Event::Interrupted]);
        assert!(session.take_output().ends_with("^C\r\n"));
        session.keys(b"\x04");
        assert_eq!(session.events, [Event::Interrupted, Event::EndOfFile]);
    }

    #[test]
    fn history_up_and_down() {
        let mut session = Session::new(80);
        session.history.add(b"first");
        session.history.add(b"second");
        session.keys(b"typed").keys(b"\x1b[A");
        assert_eq!(session.line(), "second");
        session.keys(b"\x10");
        assert_eq!(session.line(), "first");
        session.keys(b"\x1b[A");
        assert_eq!(session.line(), "first");
        session.keys(b"\x1b[B");
        assert_eq!(session.line(), "second");
        session.keys(b"\x0e");
        assert_eq!(session.line(), "typed");
        session.keys(b"\x1b[B");
        assert_eq!(session.line(), "typed");
    }

    #[test]
    fn tab_completion() {
        let mut session = Session::new(80);
        session.completer = Fixed(vec!["echo", "exit", "export", "src/"]);
        session.keys(b"ech\t");
        assert_eq!(session.line(), "echo ");
        session.keys(b"s\t");
        assert_eq!(session.line(), "echo src/");
        session.keys(b"\x15ex\t");
        assert_eq!(session.line(), "ex");
        assert_eq!(session.take_output().as_bytes().last(), Some(&0x07));
        session.keys(b"\t");
        let listing = session.take_output();
        assert!(listing.starts_with("\r\nexit    export\r\n"), "{listing:?}");
        session.keys(b"p\t");
        assert_eq!(session.line(), "export ");
        session.keys(b"zzz\t");
        assert_eq!(session.line(), "export zzz");
    }

    #[test]
    fn utf8_characters_move_as_one() {
        let mut session = Session::new(80);
        session.keys("aé€b".as_bytes());
        assert_eq!(session.line(), "aé€b");
        session.keys(b"\x1b[D\x1b[D\x7f");
        assert_eq!(session.line(), "a€b");
        assert_eq!(display_width("a€b".as_bytes()), 3);
    }

    #[test]
    fn control_characters_show_as_carets() {
        let mut session = Session::new(80);
        session.history.add(b"a\nb");
        session.keys(b"\x1b[A");
        assert!(session.take_output().contains("a^Jb"));
        assert_eq!(display_width(b"\x1b[1;32mok\x1b[0m$ "), 4);
    }

    proptest::proptest! {
        /// Any bytes at all: no panic, the cursor stays on a character
        /// boundary inside the line, and the output never holds a raw
        /// control character other than the ones the editor writes.
        #[test]
        fn random_keys_keep_the_line_consistent(keys in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut session = Session::new(30);
            session.history.add(b"old entry");
            session.completer = Fixed(vec!["alpha", "alpine", "dir/"]);
            for key in keys {
                session.keys(&[key]);
                let buffer = session.editor.buffer();
                let cursor = session.editor.cursor();
                proptest::prop_assert!(cursor <= buffer.len());
                let mut boundary = 0;
                while boundary < cursor {
                    boundary = next_boundary(buffer, boundary);
                }
                proptest::prop_assert_eq!(boundary, cursor, "the cursor is inside a character");
            }
            let output = session.take_output();
            for byte in output.bytes() {
                proptest::prop_assert!(byte >= 0x20 || matches!(byte, b'\r' | b'\n' | 0x1b | 0x07), "raw control byte {byte:#x}");
            }
        }
    }

    #[test]
    fn unknown_sequences_are_ignored() {
        let mut session = Session::new(80);
        session.keys(b"a\x1b[15~\x1b[200~\x1b[99;99;99;99;99;99;99;99;99Zb");
        assert_eq!(session.line(), "ab");
    }
}
