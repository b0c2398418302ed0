//! echo: prints its arguments separated by spaces, then a newline.
//! `-n` leaves the newline out, `-e` interprets backslash escapes, `-E`
//! (the default) does not. As in GNU's echo, an argument is an option only
//! if it is '-' followed by these letters alone, and options end at the
//! first argument that is not one.

use crate::common::output;
use alloc::vec::Vec;

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut index = 0;
    while let Some(argument) = arguments.get(index) {
        let is_option = argument.len() > 1
            && argument[0] == b'-'
            && argument[1..].iter().all(|letter| matches!(letter, b'n' | b'e' | b'E'));
        if !is_option {
            break;
        }
        for letter in &argument[1..] {
            match letter {
                b'n' => newline = false,
                b'e' => escapes = true,
                _ => escapes = false,
            }
        }
        index += 1;
    }
    let mut text = Vec::new();
    for (position, argument) in arguments[index..].iter().enumerate() {
        if position > 0 {
            text.push(b' ');
        }
        if escapes {
            if expand_escapes(argument, &mut text) {
                output(&text);
                return 0;
            }
        } else {
            text.extend_from_slice(argument);
        }
    }
    if newline {
        text.push(b'\n');
    }
    output(&text);
    0
}

/// Appends `argument` with echo -e's escapes expanded; true when `\c`
/// asked to stop all output there.
pub fn expand_escapes(argument: &[u8], into: &mut Vec<u8>) -> bool {
    let mut index = 0;
    while index < argument.len() {
        let byte = argument[index];
        index += 1;
        if byte != b'\\' || index >= argument.len() {
            into.push(byte);
            continue;
        }
        let escape = argument[index];
        index += 1;
        match escape {
            b'\\' => into.push(b'\\'),
            b'a' => into.push(7),
            b'b' => into.push(8),
            b'c' => return true,
            b'e' => into.push(0x1b),
            b'f' => into.push(12),
            b'n' => into.push(b'\n'),
            b'r' => into.push(b'\r'),
            b't' => into.push(b'\t'),
            b'v' => into.push(11),
            b'0' => {
                let mut value: u32 = 0;
                let mut digits = 0;
                while digits < 3 && index < argument.len() && (b'0'..=b'7').contains(&argument[index]) {
                    value = value * 8 + (argument[index] - b'0') as u32;
                    index += 1;
                    digits += 1;
                }
                into.push(value as u8);
            }
            b'x' if index < argument.len() && argument[index].is_ascii_hexdigit() => {
                let mut value: u32 = 0;
                let mut digits = 0;
                while digits < 2 && index < argument.len() && argument[index].is_ascii_hexdigit() {
                    value = value * 16 + (argument[index] as char).to_digit(16).unwrap_or(0);
                    index += 1;
                    digits += 1;
                }
                into.push(value as u8);
            }
            other => {
                into.push(b'\\');
                into.push(other);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let stop = expand_escapes(text, &mut out);
        (out, stop)
    }

    #[test]
    fn escapes_expand_as_gnu_echo_e() {
        assert_eq!(expand(b"a\\tb\\n"), (b"a\tb\n".to_vec(), false));
        assert_eq!(expand(b"\\0101\\x41\\x4"), (b"AA\x04".to_vec(), false));
        assert_eq!(expand(b"x\\cy"), (b"x".to_vec(), true));
        assert_eq!(expand(b"\\q\\"), (b"\\q\\".to_vec(), false));
        assert_eq!(expand(b"\\xg"), (b"\\xg".to_vec(), false));
    }
}
