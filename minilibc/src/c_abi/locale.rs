//! `<locale.h>`: only the "C" (alias "POSIX", or "") locale exists.

use super::c_string;
use core::ptr;

/// C's `struct lconv`, filled with the C locale's values (CHAR_MAX = 127
/// for "not available").
#[repr(C)]
pub struct LocaleConventions {
    strings: [*const u8; 10],
    numbers: [u8; 14],
}

struct SharedConventions(LocaleConventions);
// SAFETY: the record is never written after initialisation.
unsafe impl Sync for SharedConventions {}

static C_CONVENTIONS: SharedConventions = SharedConventions(LocaleConventions {
    strings: [
        c".".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
        c"".as_ptr().cast::<u8>(),
    ],
    numbers: [127; 14],
});

#[no_mangle]
pub extern "C" fn localeconv() -> *const LocaleConventions {
    &C_CONVENTIONS.0
}

#[no_mangle]
pub unsafe extern "C" fn setlocale(category: i32, locale: *const u8) -> *const u8 {
    if !(0..=6).contains(&category) {
        return ptr::null();
    }
    if locale.is_null() {
        return c"C".as_ptr().cast::<u8>();
    }
    // SAFETY: NUL-terminated locale name.
    match unsafe { c_string(locale) } {
        b"" | b"C" | b"POSIX" | b"C.UTF-8" | b"C.utf8" => c"C".as_ptr().cast::<u8>(),
        _ => ptr::null(),
    }
}
