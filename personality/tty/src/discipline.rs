//! The line discipline: what a terminal does with the bytes typed and the
//! bytes written, as a state machine with no I/O of its own.
//!
//! The console server feeds it every received byte ([`LineDiscipline::receive`])
//! and every byte a program writes ([`LineDiscipline::write`]); both give
//! back the bytes to transmit (echo, output processing) through an
//! [`Output`]. Reads ([`LineDiscipline::read`]) take what is ready: whole
//! lines in canonical mode, bytes by `VMIN`/`VTIME` otherwise. Signals the
//! input generates (^C, ^\, ^Z with `ISIG`) come back from `receive` for
//! the server to deliver to the foreground process group.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::termios::{control, input, local, output, Termios, WindowSize};

/// Most bytes held for readers, typed lines and raw bytes together (Linux's
/// `N_TTY_BUF_SIZE`). Input beyond it is dropped (with a bell under
/// `IMAXBEL`).
pub const INPUT_LIMIT: usize = 4096;

/// Where the bytes to transmit go.
pub trait Output {
    fn put(&mut self, byte: u8);
}

impl Output for Vec<u8> {
    fn put(&mut self, byte: u8) {
        self.push(byte);
    }
}

/// A signal the input asks for, for the foreground process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `VINTR` (^C): SIGINT.
    Interrupt,
    /// `VQUIT` (^\): SIGQUIT.
    Quit,
    /// `VSUSP` (^Z): SIGTSTP.
    Suspend,
}

/// What a read gets now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were copied (0 only when `VMIN`/`VTIME` say so).
    Data(usize),
    /// End of file: ^D at the start of a line (canonical mode).
    EndOfFile,
    /// Nothing can be returned yet: the reader waits (see [`LineDiscipline::read_timer`]).
    Wait,
}

/// The timer a waiting non-canonical read needs (`VTIME` in tenths of a
/// second), as the server must arm it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadTimer {
    /// No timer: the read waits for input only.
    None,
    /// `VMIN` = 0: the read ends after this many milliseconds from its start.
    FromStart(u32),
    /// `VMIN` > 0: once a byte has arrived, the read ends this many
    /// milliseconds after the last byte (restart the timer on each byte).
    BetweenBytes(u32),
}

/// One unit of canonical input: a finished line (with its terminator, or
/// without one if ended by ^D) or an end-of-file mark.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Chunk {
    Line(Vec<u8>),
    EndOfFile,
}

/// A terminal's input and output processing.
#[derive(Clone, Debug)]
pub struct LineDiscipline {
    termios: Termios,
    window: WindowSize,
    /// Canonical mode: finished lines, oldest first.
    lines: VecDeque<Chunk>,
    /// Canonical mode: the line being typed.
    editing: Vec<u8>,
    /// Non-canonical mode: bytes for readers.
    raw: VecDeque<u8>,
    /// The next byte is taken literally (after `VLNEXT`).
    literal_next: bool,
    /// Output stopped by `VSTOP` (^S) under `IXON`.
    stopped: bool,
    /// The cursor's column as far as our output tells, for erasing tabs.
    column: usize,
    /// The column the line being typed started at.
    line_start_column: usize,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        LineDiscipline::new(Termios::console())
    }
}

impl LineDiscipline {
    pub fn new(termios: Termios) -> LineDiscipline {
        LineDiscipline {
            termios,
            window: WindowSize::console(),
            lines: VecDeque::new(),
            editing: Vec::new(),
            raw: VecDeque::new(),
            literal_next: false,
            stopped: false,
            column: 0,
            line_start_column: 0,
        }
    }

    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    pub fn window_size(&self) -> WindowSize {
        self.window
    }

    pub fn set_window_size(&mut self, window: WindowSize) {
        self.window = window;
    }

    /// True while ^S holds output back: the server keeps written bytes
    /// queued until [`LineDiscipline::stopped`] turns false.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Changes the settings (`tcsetattr`). Leaving canonical mode hands the
    /// typed lines and the line being edited to readers as plain bytes;
    /// entering it turns the pending bytes into one line, so nothing typed
    /// is lost either way. `flush_input` (`TCSAFLUSH`) discards pending input.
    pub fn set_termios(&mut self, termios: Termios, flush_input: bool) {
        let was_canonical = self.canonical();
        self.termios = termios;
        if flush_input {
            self.flush_input();
            return;
        }
        match (was_canonical, self.canonical()) {
            (true, false) => {
                for chunk in self.lines.drain(..) {
                    if let Chunk::Line(line) = chunk {
                        self.raw.extend(line);
                    }
                }
                self.raw.extend(self.editing.drain(..));
            }
            (false, true) if !self.raw.is_empty() => {
                let pending: Vec<u8> = self.raw.drain(..).collect();
                self.lines.push_back(Chunk::Line(pending));
            }
            _ => {}
        }
        if !self.termios.input(input::IXON) {
            self.stopped = false;
        }
    }

    /// Discards everything typed and not read (`tcflush(TCIFLUSH)`).
    pub fn flush_input(&mut self) {
        self.lines.clear();
        self.editing.clear();
        self.raw.clear();
        self.literal_next = false;
    }

    fn canonical(&self) -> bool {
        self.termios.local(local::ICANON)
    }

    fn pending_bytes(&self) -> usize {
        let lines: usize = self
            .lines
            .iter()
            .map(|chunk| match chunk {
                Chunk::Line(line) => line.len(),
                Chunk::EndOfFile => 0,
            })
            .sum();
        lines + self.editing.len() + self.raw.len()
    }

    /// True when a read would return at once (data or end of file): what
    /// `poll` reports as readable.
    pub fn readable(&self) -> bool {
        if self.canonical() {
            !self.lines.is_empty()
        } else {
            let minimum = self.termios.control_characters[control::VMIN] as usize;
            self.raw.len() >= minimum.max(1) || (minimum == 0 && self.termios.control_characters[control::VTIME] == 0)
        }
    }

    /// Processes one received byte: input conversions, signals, line
    /// editing and echo. Returns the signal it asks for, if any.
    pub fn receive(&mut self, byte: u8, out: &mut impl Output) -> Option<Signal> {
        let mut byte = byte;
        if self.termios.input(input::ISTRIP) {
            byte &= 0x7f;
        }
        if self.literal_next {
            self.literal_next = false;
            self.erase_literal_marker(out);
            self.store(byte, out);
            return None;
        }
        if self.termios.input(input::IXON) {
            if self.termios.is(control::VSTOP, byte) {
                self.stopped = true;
                return None;
            }
            if self.termios.is(control::VSTART, byte) {
                self.stopped = false;
                return None;
            }
            if self.termios.input(input::IXANY) {
                self.stopped = false;
            }
        }
        match byte {
            b'\r' if self.termios.input(input::IGNCR) => return None,
            b'\r' if self.termios.input(input::ICRNL) => byte = b'\n',
            b'\n' if self.termios.input(input::INLCR) => byte = b'\r',
            _ => {}
        }
        if self.termios.local(local::ISIG) {
            let signal = if self.termios.is(control::VINTR, byte) {
                Some(Signal::Interrupt)
            } else if self.termios.is(control::VQUIT, byte) {
                Some(Signal::Quit)
            } else if self.termios.is(control::VSUSP, byte) {
                Some(Signal::Suspend)
            } else {
                None
            };
            if let Some(signal) = signal {
                if !self.termios.local(local::NOFLSH) {
                    self.flush_input();
                }
                // As Linux does: a signal key restarts output stopped by
                // ^S, so the person sees what the interrupted program does.
                if self.termios.input(input::IXON) {
                    self.stopped = false;
                }
                if self.termios.local(local::ECHO) {
                    self.echo_character(byte, out);
                }
                return Some(signal);
            }
        }
        if self.termios.local(local::IEXTEN) && self.termios.is(control::VLNEXT, byte) {
            self.literal_next = true;
            if self.termios.local(local::ECHO) && self.termios.local(local::ECHOCTL) {
                self.emit(b'^', out);
                self.emit(b'\x08', out);
            }
            return None;
        }
        if self.canonical() && self.edit(byte, out) {
            return None;
        }
        self.store(byte, out);
        None
    }

    /// Canonical editing characters; true when `byte` was one of them.
    fn edit(&mut self, byte: u8, out: &mut impl Output) -> bool {
        let termios = self.termios;
        if termios.is(control::VERASE, byte) || (byte == 0x08 && termios.is(control::VERASE, 0x7f)) {
            self.erase_character(out);
        } else if termios.is(control::VKILL, byte) {
            self.kill_line(byte, out);
        } else if termios.local(local::IEXTEN) && termios.is(control::VWERASE, byte) {
            self.erase_word(out);
        } else if termios.local(local::IEXTEN) && termios.is(control::VREPRINT, byte) {
            self.reprint(byte, out);
        } else if termios.is(control::VEOF, byte) {
            self.finish_line(None);
        } else {
            return false;
        }
        true
    }

    /// Puts an ordinary byte into the input and echoes it.
    fn store(&mut self, byte: u8, out: &mut impl Output) {
        if self.pending_bytes() >= INPUT_LIMIT {
            if self.termios.input(input::IMAXBEL) && self.termios.local(local::ECHO) {
                self.emit(0x07, out);
            }
            return;
        }
        let ends_line = byte == b'\n' || self.termios.is(control::VEOL, byte) || self.termios.is(control::VEOL2, byte);
        if self.termios.local(local::ECHO) || (byte == b'\n' && self.termios.local(local::ECHONL)) {
            if self.canonical() && self.editing.is_empty() && !ends_line {
                self.line_start_column = self.column;
            }
            self.echo_character(byte, out);
        }
        if !self.canonical() {
            self.raw.push_back(byte);
        } else if ends_line {
            self.finish_line(Some(byte));
        } else {
            self.editing.push(byte);
        }
    }

    /// Ends the line being typed: with its terminator, or at ^D without
    /// one (and an empty line at ^D is end of file).
    fn finish_line(&mut self, terminator: Option<u8>) {
        let mut line = core::mem::take(&mut self.editing);
        match terminator {
            Some(byte) => line.push(byte),
            None if line.is_empty() => {
                self.lines.push_back(Chunk::EndOfFile);
                return;
            }
            None => {}
        }
        self.lines.push_back(Chunk::Line(line));
    }

    /// How many bytes the last character of the line being typed takes
    /// (a whole UTF-8 sequence under `IUTF8`).
    fn last_character_length(&self) -> usize {
        let Some(&last) = self.editing.last() else { return 0 };
        if !self.termios.input(input::IUTF8) || last < 0x80 {
            return 1;
        }
        let mut length = 1;
        while length < self.editing.len().min(4) && self.editing[self.editing.len() - length] & 0xc0 == 0x80 {
            length += 1;
        }
        length
    }

    fn erase_character(&mut self, out: &mut impl Output) {
        let length = self.last_character_length();
        if length == 0 {
            return;
        }
        let start = self.editing.len() - length;
        let erased: Vec<u8> = self.editing.drain(start..).collect();
        if !self.termios.local(local::ECHO) {
            return;
        }
        if self.termios.local(local::ECHOE) {
            self.rub_out(&erased, out);
        } else {
            let erase = self.termios.control_characters[control::VERASE];
            self.echo_character(erase, out);
        }
    }

    /// Takes a character off the screen: back over its width, blank it,
    /// back again. A tab goes back to where it started.
    fn rub_out(&mut self, character: &[u8], out: &mut impl Output) {
        let width = match character {
            [b'\t'] => {
                let before = self.column_after(&self.editing);
                self.column.saturating_sub(before)
            }
            [byte] if *byte < 0x20 || *byte == 0x7f => {
                if self.termios.local(local::ECHOCTL) {
                    2
                } else {
                    0
                }
            }
            _ => 1,
        };
        let blank = !matches!(character, [b'\t']);
        for _ in 0..width {
            self.emit(0x08, out);
            if blank {
                self.emit(b' ', out);
                self.emit(0x08, out);
            }
        }
    }

    /// The column the cursor would be at after echoing `text` from the
    /// start of the line being typed.
    fn column_after(&self, text: &[u8]) -> usize {
        let mut column = self.line_start_column;
        for &byte in text {
            column = match byte {
                b'\t' => (column | 7) + 1,
                byte if byte < 0x20 || byte == 0x7f => column + if self.termios.local(local::ECHOCTL) { 2 } else { 0 },
                byte if byte & 0xc0 == 0x80 && self.termios.input(input::IUTF8) => column,
                _ => column + 1,
            };
        }
        column
    }

    fn kill_line(&mut self, byte: u8, out: &mut impl Output) {
        if !self.termios.local(local::ECHO) {
            self.editing.clear();
            return;
        }
        if self.termios.local(local::ECHOKE) && self.termios.local(local::ECHOE) {
            while !self.editing.is_empty() {
                self.erase_character(out);
            }
            return;
        }
        self.editing.clear();
        self.echo_character(byte, out);
        if self.termios.local(local::ECHOK) {
            self.emit(b'\n', out);
        }
    }

    fn erase_word(&mut self, out: &mut impl Output) {
        while self.editing.last().is_some_and(|byte| byte.is_ascii_whitespace()) {
            self.erase_character(out);
        }
        while self.editing.last().is_some_and(|byte| !byte.is_ascii_whitespace()) {
            self.erase_character(out);
        }
    }

    fn reprint(&mut self, byte: u8, out: &mut impl Output) {
        if !self.termios.local(local::ECHO) {
            return;
        }
        self.echo_character(byte, out);
        self.emit(b'\n', out);
        self.line_start_column = self.column;
        for index in 0..self.editing.len() {
            let character = self.editing[index];
            self.echo_character(character, out);
        }
    }

    /// Takes back the `^` shown for a pending `VLNEXT`.
    fn erase_literal_marker(&mut self, out: &mut impl Output) {
        if self.termios.local(local::ECHO) && self.termios.local(local::ECHOCTL) {
            self.emit(b' ', out);
            self.emit(0x08, out);
        }
    }

    /// Echoes one input byte: control characters as `^X` under `ECHOCTL`
    /// (tab and newline as themselves).
    fn echo_character(&mut self, byte: u8, out: &mut impl Output) {
        let control = (byte < 0x20 && byte != b'\t' && byte != b'\n') || byte == 0x7f;
        if control && self.termios.local(local::ECHOCTL) {
            self.emit(b'^', out);
            self.emit(byte ^ 0x40, out);
        } else {
            self.emit(byte, out);
        }
    }

    /// Writes program output through output processing.
    pub fn write(&mut self, data: &[u8], out: &mut impl Output) {
        for &byte in data {
            self.emit(byte, out);
        }
    }

    /// One byte to the terminal, with `OPOST` conversions, tracking the
    /// cursor column.
    fn emit(&mut self, byte: u8, out: &mut impl Output) {
        let termios = self.termios;
        match byte {
            b'\n' if termios.output(output::ONLCR) => {
                out.put(b'\r');
                out.put(b'\n');
                self.column = 0;
            }
            b'\n' => {
                out.put(b'\n');
                if termios.output(output::ONLRET) {
                    self.column = 0;
                }
            }
            b'\r' if termios.output(output::ONOCR) && self.column == 0 => {}
            b'\r' if termios.output(output::OCRNL) => {
                out.put(b'\n');
                if termios.output(output::ONLRET) {
                    self.column = 0;
                }
            }
            b'\r' => {
                out.put(b'\r');
                self.column = 0;
            }
            b'\t' => {
                out.put(b'\t');
                self.column = (self.column | 7) + 1;
            }
            0x08 => {
                out.put(0x08);
                self.column = self.column.saturating_sub(1);
            }
            byte => {
                out.put(byte);
                let continuation = byte & 0xc0 == 0x80 && termios.input(input::IUTF8);
                if byte >= 0x20 && byte != 0x7f && !continuation {
                    self.column += 1;
                }
            }
        }
    }

    /// The timer a read that must wait needs, by `VMIN`/`VTIME` (canonical
    /// reads wait for a line only).
    pub fn read_timer(&self) -> ReadTimer {
        if self.canonical() {
            return ReadTimer::None;
        }
        let minimum = self.termios.control_characters[control::VMIN];
        let tenths = self.termios.control_characters[control::VTIME] as u32;
        match (minimum, tenths) {
            (_, 0) => ReadTimer::None,
            (0, tenths) => ReadTimer::FromStart(tenths * 100),
            (_, tenths) => ReadTimer::BetweenBytes(tenths * 100),
        }
    }

    /// Reads into `buffer` what POSIX says a read gets now. `timer_expired`
    /// tells that the read's [`ReadTimer`] ran out.
    pub fn read(&mut self, buffer: &mut [u8], timer_expired: bool) -> ReadOutcome {
        let outcome = self.peek(buffer, timer_expired);
        self.consume(outcome);
        outcome
    }

    /// What [`LineDiscipline::read`] would get now, copied into `buffer`
    /// but not taken: the server answers a waiting reader with it and
    /// [`LineDiscipline::consume`]s it only once the reply was delivered,
    /// so a reader that went away loses nothing.
    pub fn peek(&self, buffer: &mut [u8], timer_expired: bool) -> ReadOutcome {
        if buffer.is_empty() {
            return ReadOutcome::Data(0);
        }
        if self.canonical() {
            return match self.lines.front() {
                None => ReadOutcome::Wait,
                Some(Chunk::EndOfFile) => ReadOutcome::EndOfFile,
                Some(Chunk::Line(line)) => {
                    let count = line.len().min(buffer.len());
                    buffer[..count].copy_from_slice(&line[..count]);
                    ReadOutcome::Data(count)
                }
            };
        }
        let minimum = (self.termios.control_characters[control::VMIN] as usize).min(buffer.len());
        let timed = self.termios.control_characters[control::VTIME] != 0;
        let available = self.raw.len();
        let ready = match (minimum, timed) {
            (0, false) => true,
            (0, true) => available > 0 || timer_expired,
            (minimum, false) => available >= minimum,
            (minimum, true) => available >= minimum || (available > 0 && timer_expired),
        };
        if !ready {
            return ReadOutcome::Wait;
        }
        let count = available.min(buffer.len());
        for (slot, &byte) in buffer.iter_mut().zip(self.raw.iter().take(count)) {
            *slot = byte;
        }
        ReadOutcome::Data(count)
    }

    /// Takes what a [`LineDiscipline::peek`] returned out of the input
    /// (nothing changed the input in between: the server does both in one
    /// step of its loop).
    pub fn consume(&mut self, outcome: ReadOutcome) {
        match outcome {
            ReadOutcome::Wait | ReadOutcome::Data(0) => {}
            ReadOutcome::EndOfFile => {
                if self.canonical() && self.lines.front() == Some(&Chunk::EndOfFile) {
                    self.lines.pop_front();
                }
            }
            ReadOutcome::Data(count) if self.canonical() => {
                if let Some(Chunk::Line(line)) = self.lines.front_mut() {
                    line.drain(..count.min(line.len()));
                    if line.is_empty() {
                        self.lines.pop_front();
                    }
                }
            }
            ReadOutcome::Data(count) => {
                let count = count.min(self.raw.len());
                self.raw.drain(..count);
            }
        }
    }

    /// Bytes a read could take now (`FIONREAD`): the finished lines in
    /// canonical mode, every byte otherwise.
    pub fn available_bytes(&self) -> usize {
        if self.canonical() {
            self.lines
                .iter()
                .map(|chunk| match chunk {
                    Chunk::Line(line) => line.len(),
                    Chunk::EndOfFile => 0,
                })
                .sum()
        } else {
            self.raw.len()
        }
    }

    /// True while a person is typing a line in canonical mode (it holds
    /// bytes not yet ended by a newline).
    pub fn is_editing(&self) -> bool {
        self.canonical() && !self.editing.is_empty()
    }

    /// True in canonical mode (`ICANON`).
    pub fn is_canonical(&self) -> bool {
        self.canonical()
    }
}
