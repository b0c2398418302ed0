//! Command history: the lines entered, oldest first, bounded, kept in a
//! file (`~/.msh_history`, one entry per line) between sessions.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub struct History {
    entries: VecDeque<Vec<u8>>,
    limit: usize,
}

impl History {
    pub fn new(limit: usize) -> Self {
        History { entries: VecDeque::new(), limit }
    }

    /// How many entries are kept (0: none).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Records a line: not an empty one, nor a repeat of the last; the
    /// oldest entry goes when the history is full. Returns whether it was kept.
    pub fn add(&mut self, line: &[u8]) -> bool {
        let mut line = line;
        while let Some((b'\n', rest)) = line.split_last() {
            line = rest;
        }
        if line.iter().all(|byte| byte.is_ascii_whitespace()) {
            return false;
        }
        if self.limit == 0 || self.entries.back().is_some_and(|last| last == line) {
            return false;
        }
        if self.entries.len() >= self.limit {
            self.entries.pop_front();
        }
        self.entries.push_back(line.to_vec());
        true
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.entries.get(index).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Loads a history file's text: each line an entry (a command of
    /// several lines comes back as several entries), the newest `limit` kept.
    pub fn load(&mut self, text: &[u8]) {
        for line in text.split(|&byte| byte == b'\n') {
            self.add(line);
        }
    }

    /// The text of the history file for all entries.
    pub fn file_text(&self) -> Vec<u8> {
        let mut text = Vec::new();
        for entry in &self.entries {
            text.extend_from_slice(entry);
            text.push(b'\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_without_empty_or_repeated_lines() {
        let mut history = History::new(3);
        assert!(history.add(b"a\n"));
        assert!(!history.add(b"a"));
        assert!(!history.add(b"   "));
        history.add(b"b");
        history.add(b"c");
        history.add(b"d");
        assert_eq!(history.len(), 3);
        assert_eq!(history.get(0), Some(&b"b"[..]));
        assert_eq!(history.file_text(), b"b\nc\nd\n");
    }

    #[test]
    fn a_limit_of_zero_keeps_nothing() {
        let mut history = History::new(0);
        assert!(!history.add(b"echo a"));
        history.load(b"one\ntwo\n");
        assert!(history.is_empty());
        assert_eq!(history.file_text(), b"");
    }

    #[test]
    fn loads_the_newest_lines() {
        let mut history = History::new(2);
        history.load(b"one\ntwo\n\nthree\n");
        assert_eq!(history.file_text(), b"two\nthree\n");
    }
}
