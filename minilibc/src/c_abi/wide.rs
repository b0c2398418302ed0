//! `<wchar.h>` and `<wctype.h>` in the C locale: a `wchar_t` is 32 bits
//! and, for the multibyte conversions, one byte is one character (bytes
//! above 0x7f map to the same code point, as glibc's C locale does for
//! mbrtowc on Latin-1 input); characters above 0xff cannot be converted
//! (EILSEQ).

use super::set_errno;
use crate::errno_table::EILSEQ;
use core::ptr;

const WEOF: u32 = 0xffff_ffff;

#[no_mangle]
pub unsafe extern "C" fn wcslen(text: *const i32) -> usize {
    let mut length = 0;
    // SAFETY: NUL-terminated wide string.
    unsafe {
        while *text.add(length) != 0 {
            length += 1;
        }
    }
    length
}

#[no_mangle]
pub unsafe extern "C" fn wcscmp(left: *const i32, right: *const i32) -> i32 {
    // SAFETY: NUL-terminated wide strings.
    unsafe { wcsncmp(left, right, usize::MAX) }
}

#[no_mangle]
pub unsafe extern "C" fn wcsncmp(left: *const i32, right: *const i32, count: usize) -> i32 {
    // SAFETY: NUL-terminated or `count` long.
    unsafe {
        for index in 0..count {
            let (a, b) = (*left.add(index), *right.add(index));
            if a != b {
                return if a < b { -1 } else { 1 };
            }
            if a == 0 {
                break;
            }
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn wcscpy(destination: *mut i32, source: *const i32) -> *mut i32 {
    // SAFETY: the destination holds the source and its terminator.
    unsafe { ptr::copy_nonoverlapping(source, destination, wcslen(source) + 1) };
    destination
}

#[no_mangle]
pub unsafe extern "C" fn wcsncpy(destination: *mut i32, source: *const i32, count: usize) -> *mut i32 {
    // SAFETY: the destination holds `count` characters.
    unsafe {
        let mut index = 0;
        while index < count && *source.add(index) != 0 {
            *destination.add(index) = *source.add(index);
            index += 1;
        }
        while index < count {
            *destination.add(index) = 0;
            index += 1;
        }
    }
    destination
}

#[no_mangle]
pub unsafe extern "C" fn wcscat(destination: *mut i32, source: *const i32) -> *mut i32 {
    // SAFETY: room for both strings.
    unsafe { wcscpy(destination.add(wcslen(destination)), source) };
    destination
}

#[no_mangle]
pub unsafe extern "C" fn wcschr(text: *const i32, character: i32) -> *mut i32 {
    let mut index = 0;
    // SAFETY: NUL-terminated; the terminator itself may be searched for.
    unsafe {
        loop {
            let unit = *text.add(index);
            if unit == character {
                return text.add(index) as *mut i32;
            }
            if unit == 0 {
                return ptr::null_mut();
            }
            index += 1;
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn wcsrchr(text: *const i32, character: i32) -> *mut i32 {
    // SAFETY: NUL-terminated.
    unsafe {
        let length = wcslen(text);
        for index in (0..=length).rev() {
            if *text.add(index) == character {
                return text.add(index) as *mut i32;
            }
        }
    }
    ptr::null_mut()
}

#[no_mangle]
pub unsafe extern "C" fn wmemcpy(destination: *mut i32, source: *const i32, count: usize) -> *mut i32 {
    // SAFETY: valid disjoint ranges.
    unsafe { ptr::copy_nonoverlapping(source, destination, count) };
    destination
}

#[no_mangle]
pub unsafe extern "C" fn wmemmove(destination: *mut i32, source: *const i32, count: usize) -> *mut i32 {
    // SAFETY: valid ranges.
    unsafe { ptr::copy(source, destination, count) };
    destination
}

#[no_mangle]
pub unsafe extern "C" fn wmemset(destination: *mut i32, character: i32, count: usize) -> *mut i32 {
    // SAFETY: writable range.
    unsafe {
        for index in 0..count {
            *destination.add(index) = character;
        }
    }
    destination
}

#[no_mangle]
pub unsafe extern "C" fn wmemcmp(left: *const i32, right: *const i32, count: usize) -> i32 {
    // SAFETY: readable ranges.
    unsafe {
        for index in 0..count {
            let (a, b) = (*left.add(index), *right.add(index));
            if a != b {
                return if a < b { -1 } else { 1 };
            }
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn wmemchr(text: *const i32, character: i32, count: usize) -> *mut i32 {
    // SAFETY: readable range.
    unsafe {
        for index in 0..count {
            if *text.add(index) == character {
                return text.add(index) as *mut i32;
            }
        }
    }
    ptr::null_mut()
}

#[no_mangle]
pub extern "C" fn btowc(byte: i32) -> u32 {
    if (0..256).contains(&byte) {
        byte as u32
    } else {
        WEOF
    }
}

#[no_mangle]
pub extern "C" fn wctob(character: u32) -> i32 {
    if character < 256 {
        character as i32
    } else {
        -1
    }
}

#[no_mangle]
pub extern "C" fn mbsinit(_state: *const u8) -> i32 {
    1
}

#[no_mangle]
pub unsafe extern "C" fn mbrtowc(wide: *mut i32, text: *const u8, length: usize, _state: *mut u8) -> usize {
    if text.is_null() {
        return 0;
    }
    if length == 0 {
        return usize::MAX - 1; // (size_t)-2: incomplete
    }
    // SAFETY: at least one readable byte; `wide` null or writable.
    unsafe {
        let byte = *text;
        if !wide.is_null() {
            *wide = byte as i32;
        }
        usize::from(byte != 0)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mbrlen(text: *const u8, length: usize, state: *mut u8) -> usize {
    // SAFETY: forwarded.
    unsafe { mbrtowc(ptr::null_mut(), text, length, state) }
}

#[no_mangle]
pub unsafe extern "C" fn wcrtomb(text: *mut u8, character: i32, _state: *mut u8) -> usize {
    if text.is_null() {
        return 1;
    }
    if !(0..256).contains(&character) {
        set_errno(EILSEQ);
        return usize::MAX;
    }
    // SAFETY: room for MB_CUR_MAX (1) byte.
    unsafe { *text = character as u8 };
    1
}

macro_rules! wide_class {
    ($name:ident, $narrow:path) => {
        #[no_mangle]
        pub extern "C" fn $name(character: u32) -> i32 {
            if character < 128 {
                $narrow(character as i32)
            } else {
                0
            }
        }
    };
}

wide_class!(iswalnum, super::ctype::isalnum);
wide_class!(iswalpha, super::ctype::isalpha);
wide_class!(iswblank, super::ctype::isblank);
wide_class!(iswcntrl, super::ctype::iscntrl);
wide_class!(iswdigit, super::ctype::isdigit);
wide_class!(iswgraph, super::ctype::isgraph);
wide_class!(iswlower, super::ctype::islower);
wide_class!(iswprint, super::ctype::isprint);
wide_class!(iswpunct, super::ctype::ispunct);
wide_class!(iswspace, super::ctype::isspace);
wide_class!(iswupper, super::ctype::isupper);
wide_class!(iswxdigit, super::ctype::isxdigit);

#[no_mangle]
pub extern "C" fn towlower(character: u32) -> u32 {
    if character < 128 {
        super::ctype::tolower(character as i32) as u32
    } else {
        character
    }
}

#[no_mangle]
pub extern "C" fn towupper(character: u32) -> u32 {
    if character < 128 {
        super::ctype::toupper(character as i32) as u32
    } else {
        character
    }
}
