//! The pager under more: the text as lines, a screen of `rows` x
//! `columns`, and keys, as util-linux's more takes them (a count may come
//! first): space shows the next screen (or COUNT lines), z too (COUNT
//! becomes the screen size), Enter or j the next line (COUNT lines, and
//! COUNT becomes the screen size), d or ^D half a
//! screen (COUNT becomes that size), s skips a line and f a screen before
//! showing one, b or ^B goes back a screen, g/G go to the start/end,
//! /RE shows the screen from two lines above the next line matching RE
//! and n the one after, = says the line number, h lists the keys, q
//! quits. The prompt is "--More--(NN%)" (of the bytes) in reverse video,
//! erased before the text goes on. Pure: each key gives the bytes to
//! write.
#![forbid(unsafe_code)]

use crate::editor::keys::Key;
use crate::regex::{Regex, Syntax};
use alloc::vec::Vec;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    Paging,
    Searching(Vec<u8>),
}

/// The pager's state.
#[derive(Clone, Debug)]
pub struct Pager {
    lines: Vec<Vec<u8>>,
    /// Bytes in the text (the prompt's percentage is of bytes, as
    /// util-linux's is).
    total: usize,
    columns: usize,
    /// Lines a screen shows (z sets it) and d scrolls (d sets it).
    screen_lines: usize,
    scroll_lines: usize,
    /// Which match the search being typed goes to (its count).
    nth: usize,
    /// Lines shown so far (the next one to show).
    shown: usize,
    mode: Mode,
    last_search: Option<Vec<u8>>,
    count: Option<usize>,
}

/// What a key asks for besides the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Continue,
    Done,
}

const PROMPT_START: &[u8] = b"\x1b[7m";
const PROMPT_END: &[u8] = b"\x1b[27m";
const HELP: &[u8] = b"Most commands optionally preceded by integer argument k.  Defaults in brackets.
-------------------------------------------------------------------------------
<space>                 Display next k lines of text [current screen size]
z                       Display next k lines of text [current screen size]*
<return>                Display next k lines of text [1]
d or ctrl-D             Scroll k lines [current scroll size, initially 11]*
q or Q or <interrupt>   Exit from more
s                       Skip forward k lines of text [1]
f                       Skip forward k screenfuls of text [1]
b or ctrl-B             Skip backwards k screenfuls of text [1]
=                       Display current line number
/<regular expression>   Search for kth occurrence of regular expression [1]
n                       Search for kth occurrence of last r.e [1]
g or G                  Go to the first or the last screen
-------------------------------------------------------------------------------
";

/// Back to the start of the line, erased.
const ERASE_PROMPT: &[u8] = b"\r\x1b[K";

impl Pager {
    pub fn new(text: &[u8], rows: usize, columns: usize) -> Pager {
        let mut lines: Vec<Vec<u8>> = text.split(|&byte| byte == b'\n').map(<[u8]>::to_vec).collect();
        if text.last() == Some(&b'\n') {
            lines.pop();
        }
        if text.is_empty() {
            lines.clear();
        }
        Pager {
            lines,
            total: text.len(),
            screen_lines: rows.max(2) - 1,
            scroll_lines: (rows / 2).saturating_sub(1).max(1),
            nth: 1,
            columns: columns.max(2),
            shown: 0,
            mode: Mode::Paging,
            last_search: None,
            count: None,
        }
    }

    fn page(&self) -> usize {
        self.screen_lines
    }

    /// Rows a line takes on the screen.
    fn height(&self, line: &[u8]) -> usize {
        let mut width = 0;
        for &byte in line {
            width += if byte == b'\t' { 8 - width % 8 } else { usize::from(!(0x80..=0xbf).contains(&byte)) };
        }
        width.div_ceil(self.columns).max(1)
    }

    /// Shows up to `rows` screen rows of lines from `self.shown`.
    fn show(&mut self, rows: usize, out: &mut Vec<u8>) {
        let mut used = 0;
        while self.shown < self.lines.len() {
            let height = self.height(&self.lines[self.shown]);
            if used > 0 && used + height > rows {
                break;
            }
            out.extend_from_slice(&self.lines[self.shown]);
            out.push(b'\n');
            used += height;
            self.shown += 1;
        }
    }

    fn finished(&self) -> bool {
        self.shown >= self.lines.len()
    }

    fn prompt(&self, out: &mut Vec<u8>, note: Option<&[u8]>) {
        out.extend_from_slice(PROMPT_START);
        out.extend_from_slice(b"--More--");
        let position: usize = self.lines[..self.shown].iter().map(|line| line.len() + 1).sum();
        if let Some(percent) = (position.min(self.total) * 100).checked_div(self.total) {
            out.extend_from_slice(alloc::format!("({percent}%)").as_bytes());
        }
        out.extend_from_slice(PROMPT_END);
        if let Some(note) = note {
            out.push(b' ');
            out.extend_from_slice(note);
        }
    }

    /// The first screen (and the prompt if there is more).
    pub fn start(&mut self) -> (Vec<u8>, Step) {
        let mut out = Vec::new();
        let page = self.page();
        self.show(page, &mut out);
        if self.finished() {
            return (out, Step::Done);
        }
        self.prompt(&mut out, None);
        (out, Step::Continue)
    }

    /// One key.
    pub fn key(&mut self, key: Key) -> (Vec<u8>, Step) {
        let mut out = Vec::new();
        if let Mode::Searching(mut text) = self.mode.clone() {
            match key {
                Key::Enter => {
                    self.mode = Mode::Paging;
                    let pattern = if text.is_empty() { self.last_search.clone().unwrap_or_default() } else { text };
                    // The row with the pattern typed stays.
                    let mut out = b"\r".to_vec();
                    let (mut more, step) = self.find(&pattern, self.nth);
                    out.append(&mut more);
                    return (out, step);
                }
                Key::Escape => {
                    self.mode = Mode::Paging;
                    out.extend_from_slice(ERASE_PROMPT);
                    self.prompt(&mut out, None);
                }
                Key::Backspace => {
                    if text.pop().is_some() {
                        out.extend_from_slice(b"\x08 \x08");
                        self.mode = Mode::Searching(text);
                    } else {
                        self.mode = Mode::Paging;
                        out.extend_from_slice(ERASE_PROMPT);
                        self.prompt(&mut out, None);
                    }
                }
                Key::Byte(byte) => {
                    text.push(byte);
                    out.push(byte);
                    self.mode = Mode::Searching(text);
                }
                _ => {}
            }
            return (out, Step::Continue);
        }
        if let Key::Byte(digit @ b'0'..=b'9') = key {
            self.count =
                Some(self.count.unwrap_or(0).saturating_mul(10).saturating_add((digit - b'0') as usize).min(1_000_000));
            return (out, Step::Continue);
        }
        let count = self.count.take();
        out.extend_from_slice(ERASE_PROMPT);
        match key {
            Key::Byte(b'q') | Key::Byte(b'Q') | Key::Control(b'c') => return (out, Step::Done),
            Key::Byte(b' ') | Key::Control(b'f') | Key::PageDown => {
                let page = count.unwrap_or(self.page());
                self.show(page, &mut out);
            }
            Key::Byte(b'z') => {
                if let Some(count) = count {
                    self.screen_lines = count.max(1);
                }
                let page = self.page();
                self.show(page, &mut out);
            }
            Key::Enter | Key::Byte(b'j') | Key::Down => {
                // A count becomes the screen size too, as in util-linux.
                if let Some(count) = count {
                    self.screen_lines = count.max(1);
                }
                let lines = count.unwrap_or(1);
                self.show(lines, &mut out);
            }
            Key::Byte(b'd') | Key::Control(b'd') => {
                if let Some(count) = count {
                    self.scroll_lines = count.max(1);
                }
                let lines = self.scroll_lines;
                self.show(lines, &mut out);
            }
            Key::Byte(letter @ (b'f' | b's')) => {
                // Skip screens (f) or lines (s), then show a screen.
                let skip = count.unwrap_or(1) * if letter == b'f' { self.page() } else { 1 };
                self.shown = (self.shown + skip).min(self.lines.len());
                let plural = if skip == 1 { "" } else { "s" };
                out.extend_from_slice(alloc::format!("\n...skipping {skip} line{plural}\n").as_bytes());
                let page = self.page();
                self.show(page, &mut out);
            }
            Key::Byte(b'b') | Key::Control(b'b') | Key::PageUp => {
                // Back to one line before the pages back, as util-linux goes.
                let pages = count.unwrap_or(1);
                let plural = if pages == 1 { "" } else { "s" };
                out.extend_from_slice(alloc::format!("...back {pages} page{plural}\n").as_bytes());
                self.shown = self.shown.saturating_sub(self.page() * (pages + 1) + 1);
                let page = self.page();
                self.show(page, &mut out);
            }
            Key::Byte(b'g') | Key::Home => self.redraw_from(0, &mut out),
            Key::Byte(b'G') | Key::End => {
                let first = self.lines.len().saturating_sub(self.page());
                self.redraw_from(first, &mut out);
            }
            Key::Byte(b'=') => {
                // The line number in place of the prompt.
                out.extend_from_slice(alloc::format!("{}", self.shown).as_bytes());
                return (out, Step::Continue);
            }
            Key::Byte(b'/') => {
                self.nth = count.unwrap_or(1).max(1);
                out.push(b'/');
                self.mode = Mode::Searching(Vec::new());
                return (out, Step::Continue);
            }
            Key::Byte(b'n') => {
                let pattern = self.last_search.clone().unwrap_or_default();
                if pattern.is_empty() {
                    self.prompt(&mut out, Some(b"No previous regular expression"));
                    return (out, Step::Continue);
                }
                out.extend_from_slice(b"/\r");
                let (mut more, step) = self.find(&pattern, count.unwrap_or(1).max(1));
                out.append(&mut more);
                return (out, step);
            }
            Key::Byte(b'h') | Key::Byte(b'?') => {
                out.extend_from_slice(HELP);
                self.prompt(&mut out, None);
                return (out, Step::Continue);
            }
            _ => {
                // A bell, and the prompt stays.
                out.clear();
                out.push(0x07);
                return (out, Step::Continue);
            }
        }
        if self.finished() {
            return (out, Step::Done);
        }
        self.prompt(&mut out, None);
        (out, Step::Continue)
    }

    fn redraw_from(&mut self, first: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\x1b[H\x1b[2J");
        self.shown = first;
        let page = self.page();
        self.show(page, out);
    }

    /// A screen less a line from two lines above the `nth` next match of
    /// `pattern` ("...skipping" first if that passes lines), or from where
    /// it was if there is none, as util-linux's more does. The cursor is
    /// at the start of the row the search was typed on.
    fn find(&mut self, pattern: &[u8], nth: usize) -> (Vec<u8>, Step) {
        let mut out = Vec::new();
        if pattern.is_empty() {
            out.extend_from_slice(ERASE_PROMPT);
            self.prompt(&mut out, Some(b"No previous regular expression"));
            return (out, Step::Continue);
        }
        self.last_search = Some(pattern.to_vec());
        let regex = match Regex::new(pattern, Syntax::Basic, false) {
            Ok(regex) => regex,
            Err(error) => {
                out.extend_from_slice(ERASE_PROMPT);
                self.prompt(&mut out, Some(error.message().as_bytes()));
                return (out, Step::Continue);
            }
        };
        let found = (self.shown..self.lines.len())
            .filter(|&index| regex.is_match(&self.lines[index]).unwrap_or(false))
            .nth(nth - 1);
        match found {
            Some(index) if index - self.shown >= 3 => out.extend_from_slice(b"\n...skipping\n"),
            _ => out.extend_from_slice(b"\x1b[K"),
        }
        if let Some(index) = found {
            self.shown = index.saturating_sub(2).max(self.shown);
        }
        let rows = self.page() - 1;
        self.show(rows.max(1), &mut out);
        if self.finished() {
            return (out, Step::Done);
        }
        match found {
            Some(_) => self.prompt(&mut out, None),
            None => self.prompt(&mut out, Some(b"Pattern not found")),
        }
        (out, Step::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: usize) -> Vec<u8> {
        (1..=lines).flat_map(|number| alloc::format!("line {}\n", number).into_bytes()).collect()
    }

    #[test]
    fn pages_forward_and_quits() {
        let mut pager = Pager::new(&text(10), 5, 80);
        let (first, step) = pager.start();
        assert_eq!(step, Step::Continue);
        assert_eq!(first, b"line 1\nline 2\nline 3\nline 4\n\x1b[7m--More--(39%)\x1b[27m");
        let (next, _) = pager.key(Key::Enter);
        assert_eq!(next, b"\r\x1b[Kline 5\n\x1b[7m--More--(49%)\x1b[27m");
        let (page, step) = pager.key(Key::Byte(b' '));
        assert_eq!(page, b"\r\x1b[Kline 6\nline 7\nline 8\nline 9\n\x1b[7m--More--(88%)\x1b[27m");
        assert_eq!(step, Step::Continue);
        let (last, step) = pager.key(Key::Byte(b' '));
        assert_eq!((last, step), (b"\r\x1b[Kline 10\n".to_vec(), Step::Done));
        let mut pager = Pager::new(&text(10), 5, 80);
        pager.start();
        assert_eq!(pager.key(Key::Byte(b'q')).1, Step::Done);
    }

    #[test]
    fn short_text_needs_no_prompt() {
        let mut pager = Pager::new(b"a\nb\n", 24, 80);
        assert_eq!(pager.start(), (b"a\nb\n".to_vec(), Step::Done));
        assert_eq!(Pager::new(b"", 24, 80).start(), (Vec::new(), Step::Done));
    }

    #[test]
    fn search_back_and_counts() {
        let mut pager = Pager::new(&text(30), 5, 80);
        pager.start();
        for &byte in b"/line 2[0-9]" {
            pager.key(Key::Byte(byte));
        }
        let (found, _) = pager.key(Key::Enter);
        assert!(
            found == b"\r\n...skipping\nline 18\nline 19\nline 20\n\x1b[7m--More--(65%)\x1b[27m",
            "{:?}",
            alloc::string::String::from_utf8_lossy(&found)
        );
        let (back, _) = pager.key(Key::Byte(b'b'));
        assert!(back.starts_with(b"\r\x1b[K...back 1 page\nline 12\n"));
        let (two, _) = {
            pager.key(Key::Byte(b'2'));
            pager.key(Key::Enter)
        };
        assert_eq!(two, b"\r\x1b[Kline 16\nline 17\n\x1b[7m--More--(54%)\x1b[27m");
        let (line, _) = pager.key(Key::Byte(b'='));
        assert_eq!(line, b"\r\x1b[K17");
        let (skipped, _) = pager.key(Key::Byte(b's'));
        // "2 Enter" made the screen two lines.
        assert_eq!(skipped, b"\r\x1b[K\n...skipping 1 line\nline 19\nline 20\n\x1b[7m--More--(65%)\x1b[27m");
        let (missing, _) = {
            for &byte in b"/zzz" {
                pager.key(Key::Byte(byte));
            }
            pager.key(Key::Enter)
        };
        assert_eq!(missing, b"\r\x1b[Kline 21\n\x1b[7m--More--(68%)\x1b[27m Pattern not found");
    }

    #[test]
    fn long_lines_take_several_rows() {
        let long = [b'x'; 25];
        let mut data = long.to_vec();
        data.extend_from_slice(b"\nshort\nthird\n");
        let mut pager = Pager::new(&data, 4, 10);
        let (first, _) = pager.start();
        assert!(first.starts_with(&long[..]) && first.ends_with(b"(68%)\x1b[27m"));
    }
}
