//! `<ctype.h>` in the C locale. Arguments outside `unsigned char` and EOF
//! are classified as "no" rather than indexing out of a table.

fn byte(value: i32) -> Option<u8> {
    u8::try_from(value).ok()
}

macro_rules! classifier {
    ($name:ident, $test:expr) => {
        #[no_mangle]
        pub extern "C" fn $name(value: i32) -> i32 {
            byte(value).is_some_and($test) as i32
        }
    };
}

classifier!(isalnum, |b: u8| b.is_ascii_alphanumeric());
classifier!(isalpha, |b: u8| b.is_ascii_alphabetic());
classifier!(isblank, |b: u8| b == b' ' || b == b'\t');
classifier!(iscntrl, |b: u8| b < 32 || b == 127);
classifier!(isdigit, |b: u8| b.is_ascii_digit());
classifier!(isgraph, |b: u8| b.is_ascii_graphic());
classifier!(islower, |b: u8| b.is_ascii_lowercase());
classifier!(isprint, |b: u8| (32..127).contains(&b));
classifier!(ispunct, |b: u8| b.is_ascii_punctuation());
classifier!(isspace, |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'));
classifier!(isupper, |b: u8| b.is_ascii_uppercase());
classifier!(isxdigit, |b: u8| b.is_ascii_hexdigit());

#[no_mangle]
pub extern "C" fn isascii(value: i32) -> i32 {
    (0..128).contains(&value) as i32
}

#[no_mangle]
pub extern "C" fn toascii(value: i32) -> i32 {
    value & 0x7f
}

#[no_mangle]
pub extern "C" fn tolower(value: i32) -> i32 {
    match byte(value) {
        Some(b) if b.is_ascii_uppercase() => (b + 32) as i32,
        _ => value,
    }
}

#[no_mangle]
pub extern "C" fn toupper(value: i32) -> i32 {
    match byte(value) {
        Some(b) if b.is_ascii_lowercase() => (b - 32) as i32,
        _ => value,
    }
}
