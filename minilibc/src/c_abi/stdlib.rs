//! `<stdlib.h>` (conversions, sorting, random numbers, temporary files,
//! integer arithmetic) and the C-locale multibyte functions.

use super::{c_string, set_errno, CGlobal};
use crate::errno_table::{EEXIST, EILSEQ, EINVAL, ERANGE};
use crate::number;
use crate::platform::{self, AT_FDCWD};
use core::ptr;

/// Stores the end pointer for the strto* family.
///
/// # Safety
/// `end` must be null or writable; `consumed` must lie within `text`.
unsafe fn set_end(end: *mut *mut u8, text: *const u8, consumed: usize) {
    if !end.is_null() {
        // SAFETY: `end` is writable; `consumed` is within the string.
        unsafe { *end = text.add(consumed) as *mut u8 };
    }
}

/// # Safety
/// `text` NUL-terminated; `end` null or writable.
unsafe fn signed_conversion(text: *const u8, end: *mut *mut u8, base: i32, minimum: i64, maximum: i64) -> i64 {
    // SAFETY: NUL-terminated text.
    unsafe {
        let Some((value, consumed, out_of_range)) =
            number::parse_signed(c_string(text), base as u32, minimum, maximum).filter(|_| base >= 0)
        else {
            set_errno(EINVAL);
            set_end(end, text, 0);
            return 0;
        };
        if out_of_range {
            set_errno(ERANGE);
        }
        set_end(end, text, consumed);
        value
    }
}

/// # Safety
/// `text` NUL-terminated; `end` null or writable.
unsafe fn unsigned_conversion(text: *const u8, end: *mut *mut u8, base: i32, maximum: u64) -> u64 {
    // SAFETY: NUL-terminated text.
    unsafe {
        let Some((value, consumed, out_of_range)) =
            number::parse_unsigned(c_string(text), base as u32, maximum).filter(|_| base >= 0)
        else {
            set_errno(EINVAL);
            set_end(end, text, 0);
            return 0;
        };
        if out_of_range {
            set_errno(ERANGE);
        }
        set_end(end, text, consumed);
        value
    }
}

#[no_mangle]
pub unsafe extern "C" fn strtol(text: *const u8, end: *mut *mut u8, base: i32) -> i64 {
    // SAFETY: forwarded.
    unsafe { signed_conversion(text, end, base, i64::MIN, i64::MAX) }
}
#[no_mangle]
pub unsafe extern "C" fn strtoll(text: *const u8, end: *mut *mut u8, base: i32) -> i64 {
    // SAFETY: forwarded.
    unsafe { signed_conversion(text, end, base, i64::MIN, i64::MAX) }
}
#[no_mangle]
pub unsafe extern "C" fn strtoimax(text: *const u8, end: *mut *mut u8, base: i32) -> i64 {
    // SAFETY: forwarded.
    unsafe { signed_conversion(text, end, base, i64::MIN, i64::MAX) }
}
#[no_mangle]
pub unsafe extern "C" fn strtoul(text: *const u8, end: *mut *mut u8, base: i32) -> u64 {
    // SAFETY: forwarded.
    unsafe { unsigned_conversion(text, end, base, u64::MAX) }
}
#[no_mangle]
pub unsafe extern "C" fn strtoull(text: *const u8, end: *mut *mut u8, base: i32) -> u64 {
    // SAFETY: forwarded.
    unsafe { unsigned_conversion(text, end, base, u64::MAX) }
}
#[no_mangle]
pub unsafe extern "C" fn strtoumax(text: *const u8, end: *mut *mut u8, base: i32) -> u64 {
    // SAFETY: forwarded.
    unsafe { unsigned_conversion(text, end, base, u64::MAX) }
}

#[no_mangle]
pub unsafe extern "C" fn atoi(text: *const u8) -> i32 {
    // SAFETY: forwarded; out-of-range input is undefined in C, we truncate.
    unsafe { signed_conversion(text, ptr::null_mut(), 10, i64::MIN, i64::MAX) as i32 }
}
#[no_mangle]
pub unsafe extern "C" fn atol(text: *const u8) -> i64 {
    // SAFETY: forwarded.
    unsafe { signed_conversion(text, ptr::null_mut(), 10, i64::MIN, i64::MAX) }
}
#[no_mangle]
pub unsafe extern "C" fn atoll(text: *const u8) -> i64 {
    // SAFETY: forwarded.
    unsafe { signed_conversion(text, ptr::null_mut(), 10, i64::MIN, i64::MAX) }
}

#[no_mangle]
pub unsafe extern "C" fn strtod(text: *const u8, end: *mut *mut u8) -> f64 {
    // SAFETY: NUL-terminated text.
    unsafe {
        let parsed = number::parse_float(c_string(text));
        if parsed.range_error {
            set_errno(ERANGE);
        }
        set_end(end, text, parsed.consumed);
        parsed.value
    }
}

#[no_mangle]
pub unsafe extern "C" fn strtof(text: *const u8, end: *mut *mut u8) -> f32 {
    // SAFETY: NUL-terminated text.
    unsafe {
        let (value, consumed, range_error) = number::parse_float_single(c_string(text));
        if range_error {
            set_errno(ERANGE);
        }
        set_end(end, text, consumed);
        value
    }
}

#[no_mangle]
pub unsafe extern "C" fn atof(text: *const u8) -> f64 {
    // SAFETY: forwarded.
    unsafe { strtod(text, ptr::null_mut()) }
}

#[no_mangle]
pub extern "C" fn abs(value: i32) -> i32 {
    value.wrapping_abs()
}
#[no_mangle]
pub extern "C" fn labs(value: i64) -> i64 {
    value.wrapping_abs()
}
#[no_mangle]
pub extern "C" fn llabs(value: i64) -> i64 {
    value.wrapping_abs()
}
#[no_mangle]
pub extern "C" fn imaxabs(value: i64) -> i64 {
    value.wrapping_abs()
}

#[repr(C)]
pub struct IntDivision {
    quotient: i32,
    remainder: i32,
}
#[repr(C)]
pub struct LongDivision {
    quotient: i64,
    remainder: i64,
}

#[no_mangle]
pub extern "C" fn div(numerator: i32, denominator: i32) -> IntDivision {
    IntDivision { quotient: numerator.wrapping_div(denominator), remainder: numerator.wrapping_rem(denominator) }
}
#[no_mangle]
pub extern "C" fn ldiv(numerator: i64, denominator: i64) -> LongDivision {
    LongDivision { quotient: numerator.wrapping_div(denominator), remainder: numerator.wrapping_rem(denominator) }
}
#[no_mangle]
pub extern "C" fn lldiv(numerator: i64, denominator: i64) -> LongDivision {
    ldiv(numerator, denominator)
}
#[no_mangle]
pub extern "C" fn imaxdiv(numerator: i64, denominator: i64) -> LongDivision {
    ldiv(numerator, denominator)
}

/// The state of `rand`: a 64-bit LCG whose high bits are returned
/// (RAND_MAX is 2^31 - 1).
static RANDOM_STATE: CGlobal<u64> = CGlobal::new(1);

fn next_random(state: &mut u64) -> i32 {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*state >> 33) as i32
}

#[no_mangle]
pub extern "C" fn rand() -> i32 {
    let mut state = RANDOM_STATE.get();
    let value = next_random(&mut state);
    RANDOM_STATE.set(state);
    value
}

#[no_mangle]
pub extern "C" fn srand(seed: u32) {
    RANDOM_STATE.set(seed as u64);
}

#[no_mangle]
pub unsafe extern "C" fn rand_r(seed: *mut u32) -> i32 {
    // SAFETY: a writable seed.
    unsafe {
        let mut state = *seed as u64;
        let value = next_random(&mut state);
        *seed = state as u32;
        value
    }
}

#[no_mangle]
pub extern "C" fn random() -> i64 {
    rand() as i64
}

#[no_mangle]
pub extern "C" fn srandom(seed: u32) {
    srand(seed)
}

/// Sorts with the stable merge sort, or the in-place heapsort when the
/// scratch copy cannot be allocated.
///
/// # Safety
/// `base` must hold `count` elements of `size` bytes; `compare` receives pointers to them.
unsafe fn sort_elements(
    base: *mut u8,
    count: usize,
    size: usize,
    mut compare: impl FnMut(*const u8, *const u8) -> i32,
) {
    let Some(total) = count.checked_mul(size) else {
        return;
    };
    if size == 0 || count < 2 {
        return;
    }
    let scratch = super::memory::malloc(total);
    if !scratch.is_null() {
        // SAFETY: `base` holds `count` elements of `size` bytes; scratch is ours.
        unsafe {
            let data = core::slice::from_raw_parts_mut(base, total);
            let spare = core::slice::from_raw_parts_mut(scratch, total);
            crate::sort::merge_sort(data, size, spare, &mut |a, b| compare(a.as_ptr(), b.as_ptr()).cmp(&0));
            super::memory::free(scratch);
        }
        return;
    }
    let element = |index: usize| base.wrapping_add(index * size);
    let compare_cell = core::cell::RefCell::new(compare);
    crate::sort::heap_sort(
        count,
        |i, j| (compare_cell.borrow_mut())(element(i), element(j)).cmp(&0),
        // SAFETY: distinct elements of `size` bytes inside the array.
        |i, j| unsafe { ptr::swap_nonoverlapping(element(i), element(j), size) },
    );
}

#[no_mangle]
pub unsafe extern "C" fn qsort(
    base: *mut u8,
    count: usize,
    size: usize,
    compare: unsafe extern "C" fn(*const u8, *const u8) -> i32,
) {
    // SAFETY: the comparator is the caller's and gets elements of the array.
    unsafe { sort_elements(base, count, size, |a, b| compare(a, b)) }
}

#[no_mangle]
pub unsafe extern "C" fn qsort_r(
    base: *mut u8,
    count: usize,
    size: usize,
    compare: unsafe extern "C" fn(*const u8, *const u8, *mut u8) -> i32,
    argument: *mut u8,
) {
    // SAFETY: as qsort.
    unsafe { sort_elements(base, count, size, |a, b| compare(a, b, argument)) }
}

#[no_mangle]
pub unsafe extern "C" fn bsearch(
    key: *const u8,
    base: *const u8,
    count: usize,
    size: usize,
    compare: unsafe extern "C" fn(*const u8, *const u8) -> i32,
) -> *mut u8 {
    let element = |index: usize| base.wrapping_add(index * size);
    // SAFETY: indices below `count`; comparator(key, element) as C specifies.
    match crate::sort::binary_search(count, |index| unsafe { compare(key, element(index)) }.cmp(&0).reverse()) {
        Some(index) => element(index) as *mut u8,
        None => ptr::null_mut(),
    }
}

/// Replaces the trailing `suffix_length` bytes before the 6 X's and tries
/// `create` until it does not fail with EEXIST.
///
/// # Safety
/// `template` must be a writable NUL-terminated string.
unsafe fn fill_template(
    template: *mut u8,
    suffix_length: usize,
    mut create: impl FnMut(*const u8) -> Result<usize, platform::Errno>,
) -> isize {
    // SAFETY: a writable NUL-terminated template.
    unsafe {
        let length = c_string(template).len();
        if length < 6 + suffix_length
            || &c_string(template)[length - suffix_length - 6..length - suffix_length] != b"XXXXXX"
        {
            set_errno(EINVAL);
            return -1;
        }
        let start = template.add(length - suffix_length - 6);
        const LETTERS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for _ in 0..1000 {
            let mut random = [0u8; 6];
            if platform::getrandom(random.as_mut_ptr(), 6, 0).is_err() {
                let mut state = RANDOM_STATE.get() ^ platform::getpid() as u64;
                for byte in random.iter_mut() {
                    *byte = next_random(&mut state) as u8;
                }
                RANDOM_STATE.set(state);
            }
            for (index, byte) in random.iter().enumerate() {
                *start.add(index) = LETTERS[*byte as usize % 62];
            }
            match create(template) {
                Ok(value) => return value as isize,
                Err(error) if error.0 == EEXIST => continue,
                Err(error) => {
                    set_errno(error.0);
                    return -1;
                }
            }
        }
        set_errno(EEXIST);
        -1
    }
}

#[no_mangle]
pub unsafe extern "C" fn mkostemp(template: *mut u8, flags: i32) -> i32 {
    // SAFETY: forwarded; O_RDWR|O_CREAT|O_EXCL.
    unsafe { fill_template(template, 0, |path| platform::open_at(AT_FDCWD, path, flags | 0o302, 0o600)) as i32 }
}

#[no_mangle]
pub unsafe extern "C" fn mkstemp(template: *mut u8) -> i32 {
    // SAFETY: forwarded.
    unsafe { mkostemp(template, 0) }
}

#[no_mangle]
pub unsafe extern "C" fn mkstemps(template: *mut u8, suffix_length: i32) -> i32 {
    // SAFETY: forwarded.
    unsafe {
        fill_template(template, suffix_length.max(0) as usize, |path| platform::open_at(AT_FDCWD, path, 0o302, 0o600))
            as i32
    }
}

#[no_mangle]
pub unsafe extern "C" fn mkdtemp(template: *mut u8) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe {
        if fill_template(template, 0, |path| platform::mkdir_at(AT_FDCWD, path, 0o700)) < 0 {
            return ptr::null_mut();
        }
    }
    template
}

// ---- C-locale multibyte conversions: one byte is one character ----

#[no_mangle]
pub unsafe extern "C" fn mblen(text: *const u8, length: usize) -> i32 {
    // SAFETY: null or readable for `length` bytes.
    unsafe {
        if text.is_null() {
            return 0;
        }
        if length == 0 {
            return -1;
        }
        i32::from(*text != 0)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mbtowc(wide: *mut i32, text: *const u8, length: usize) -> i32 {
    // SAFETY: null or readable/writable, per C.
    unsafe {
        if text.is_null() {
            return 0;
        }
        if length == 0 {
            return -1;
        }
        if !wide.is_null() {
            *wide = *text as i32;
        }
        i32::from(*text != 0)
    }
}

#[no_mangle]
pub unsafe extern "C" fn wctomb(text: *mut u8, wide: i32) -> i32 {
    if text.is_null() {
        return 0;
    }
    if !(0..256).contains(&wide) {
        set_errno(EILSEQ);
        return -1;
    }
    // SAFETY: room for MB_CUR_MAX (1) byte.
    unsafe { *text = wide as u8 };
    1
}

#[no_mangle]
pub unsafe extern "C" fn mbstowcs(wide: *mut i32, text: *const u8, count: usize) -> usize {
    // SAFETY: NUL-terminated text; `wide` null or `count` entries.
    unsafe {
        let bytes = c_string(text);
        if wide.is_null() {
            return bytes.len();
        }
        let mut index = 0;
        while index < count {
            let byte = *text.add(index);
            *wide.add(index) = byte as i32;
            if byte == 0 {
                return index;
            }
            index += 1;
        }
        index
    }
}

#[no_mangle]
pub unsafe extern "C" fn wcstombs(text: *mut u8, wide: *const i32, count: usize) -> usize {
    // SAFETY: NUL-terminated wide string; `text` null or `count` bytes.
    unsafe {
        let mut index = 0;
        loop {
            let character = *wide.add(index);
            if !(0..256).contains(&character) {
                set_errno(EILSEQ);
                return usize::MAX;
            }
            if character == 0 {
                if !text.is_null() && index < count {
                    *text.add(index) = 0;
                }
                return index;
            }
            if !text.is_null() {
                if index >= count {
                    return index;
                }
                *text.add(index) = character as u8;
            }
            index += 1;
        }
    }
}
