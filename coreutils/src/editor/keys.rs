//! Keys from a terminal's bytes: printable bytes, control keys, and the
//! escape sequences of a VT100/xterm (arrows, Home/End, Insert/Delete,
//! Page Up/Down, in their CSI and SS3 forms). A lone ESC is the Escape key
//! once no further byte follows (the caller calls `timeout` after a short
//! wait). Pure: a state machine fed bytes.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A byte to insert or a command letter (including bytes >= 0x80).
    Byte(u8),
    /// Ctrl + letter, as the letter ('a' for ^A).
    Control(u8),
    Enter,
    Tab,
    Backspace,
    Escape,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    Insert,
    Delete,
    PageUp,
    PageDown,
}

/// The decoder's state between bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoder {
    pending: Vec<u8>,
}

impl Decoder {
    /// Whether an ESC is waiting to learn if it starts a sequence.
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Feeds one byte; returns the keys it completes.
    pub fn feed(&mut self, byte: u8) -> Vec<Key> {
        if self.pending.is_empty() {
            return match byte {
                0x1b => {
                    self.pending.push(byte);
                    Vec::new()
                }
                b'\r' | b'\n' => alloc::vec![Key::Enter],
                b'\t' => alloc::vec![Key::Tab],
                0x7f | 0x08 => alloc::vec![Key::Backspace],
                0x01..=0x1a => alloc::vec![Key::Control(byte + 0x60)],
                _ => alloc::vec![Key::Byte(byte)],
            };
        }
        self.pending.push(byte);
        let sequence = &self.pending[1..];
        // ESC [ ... final, or ESC O final.
        let finished = match sequence {
            [b'['] | [b'O'] => None,
            [b'[', rest @ ..] => {
                let last = *rest.last().unwrap_or(&0);
                if (0x40..=0x7e).contains(&last) {
                    Some(csi(rest))
                } else if rest.len() > 8 || !(last.is_ascii_digit() || last == b';') {
                    Some(None)
                } else {
                    None
                }
            }
            [b'O', last] => Some(match last {
                b'A' => Some(Key::Up),
                b'B' => Some(Key::Down),
                b'C' => Some(Key::Right),
                b'D' => Some(Key::Left),
                b'H' => Some(Key::Home),
                b'F' => Some(Key::End),
                _ => None,
            }),
            _ => {
                // ESC followed by an ordinary byte: Escape, then that byte.
                let next = *sequence.last().unwrap_or(&0);
                self.pending.clear();
                let mut keys = alloc::vec![Key::Escape];
                keys.extend(self.feed(next));
                return keys;
            }
        };
        match finished {
            None => Vec::new(),
            Some(key) => {
                self.pending.clear();
                key.into_iter().collect()
            }
        }
    }

    /// No byte came after an ESC for a while: it was the Escape key.
    pub fn timeout(&mut self) -> Vec<Key> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        self.pending.clear();
        alloc::vec![Key::Escape]
    }
}

fn csi(body: &[u8]) -> Option<Key> {
    let (parameters, last) = body.split_at(body.len() - 1);
    Some(match last[0] {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        b'~' => match parameters.split(|&byte| byte == b';').next().unwrap_or(b"") {
            b"1" | b"7" => Key::Home,
            b"2" => Key::Insert,
            b"3" => Key::Delete,
            b"4" | b"8" => Key::End,
            b"5" => Key::PageUp,
            b"6" => Key::PageDown,
            _ => return None,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = Decoder::default();
        let mut keys = Vec::new();
        for &byte in bytes {
            keys.extend(decoder.feed(byte));
        }
        keys.extend(decoder.timeout());
        keys
    }

    #[test]
    fn sequences_become_keys() {
        assert_eq!(decode(b"a\x1b[A\x1b[B\x1bOC\x1b[D"), [Key::Byte(b'a'), Key::Up, Key::Down, Key::Right, Key::Left]);
        assert_eq!(
            decode(b"\x1b[3~\x1b[5~\x1b[6~\x1b[1~\x1b[4~\x1b[H"),
            [Key::Delete, Key::PageUp, Key::PageDown, Key::Home, Key::End, Key::Home]
        );
        assert_eq!(decode(b"\x1b"), [Key::Escape]);
        assert_eq!(decode(b"\x1bx"), [Key::Escape, Key::Byte(b'x')]);
        assert_eq!(decode(b"\x1b\x1b[A"), [Key::Escape, Key::Up]);
        assert_eq!(decode(b"\r\x7f\x06\t"), [Key::Enter, Key::Backspace, Key::Control(b'f'), Key::Tab]);
        assert_eq!(decode(b"\x1b[99x"), []);
    }

    proptest! {
        #[test]
        fn plain_bytes_pass_through(text in "[ -~]{0,40}") {
            let keys = decode(text.as_bytes());
            prop_assert_eq!(keys, text.bytes().map(Key::Byte).collect::<Vec<_>>());
        }

        #[test]
        fn any_input_decodes_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..60)) {
            let _ = decode(&bytes);
        }
    }
}
