//! `<string.h>` and `<strings.h>`.

use super::memory::{malloc, memcpy, memset};
use super::{c_string, c_string_length, CGlobal};
use crate::errno_table::ERANGE;
use core::ptr;

#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn strlen(text: *const u8) -> usize {
    use super::memory::aligned_block;
    use core::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_setzero_si128};
    // SAFETY: `text` is NUL-terminated. The scan reads aligned 16-byte
    // blocks (SSE2 is part of x86_64), starting at the block holding `text`,
    // through `aligned_block` (which says why in assembly); bytes before
    // `text` are masked out.
    unsafe {
        let zero = _mm_setzero_si128();
        let offset = text as usize & 15;
        let mut block = text as usize - offset;
        let mask = (_mm_movemask_epi8(_mm_cmpeq_epi8(aligned_block(block), zero)) as u32) >> offset;
        if mask != 0 {
            return mask.trailing_zeros() as usize;
        }
        loop {
            block += 16;
            let first = _mm_cmpeq_epi8(aligned_block(block), zero);
            if block & 31 == 0 {
                // Two blocks per step once 32-byte aligned (same page).
                let second = _mm_cmpeq_epi8(aligned_block(block + 16), zero);
                if _mm_movemask_epi8(_mm_or_si128(first, second)) == 0 {
                    block += 16;
                    continue;
                }
            }
            let mask = _mm_movemask_epi8(first) as u32;
            if mask != 0 {
                return block - text as usize + mask.trailing_zeros() as usize;
            }
        }
    }
}

/// aarch64: eight bytes at a time from the word holding `text`, finding a
/// zero byte with the usual bit trick.
#[cfg(target_arch = "aarch64")]
#[no_mangle]
pub unsafe extern "C" fn strlen(text: *const u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let offset = text as usize & 7;
    let mut word_address = text as usize - offset;
    // The bytes before `text` made non-zero (little-endian: the low ones).
    // SAFETY: `text` is NUL-terminated; every read is an aligned word that
    // holds at least one byte of the string or its NUL.
    let mut word = unsafe { aligned_word(word_address) } | if offset == 0 { 0 } else { u64::MAX >> (64 - 8 * offset) };
    loop {
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return word_address - text as usize + (zeros.trailing_zeros() / 8) as usize;
        }
        // SAFETY: as above: no NUL yet, so the string goes on into the next word.
        word = unsafe { next_aligned_word(&mut word_address) };
    }
}

/// The aligned word at `address`, read in assembly: it may hold bytes
/// outside the string (before it, or after its NUL), which the hardware
/// reads without a fault (an aligned word never crosses a page) but Rust
/// may not: a Rust load outside its object is undefined, and LLVM acts on
/// it. strlen inlined into a caller of a constant string (`c"/bin/sh"` in
/// `system(NULL)`) folded such a load to the string's first word while
/// keeping the run-time alignment, so a literal placed 4 bytes past a word
/// measured 3 bytes long (`access("/bi")`: ENOENT). The assembly load's
/// value is opaque to the compiler.
///
/// # Safety
/// `address` is 8-byte aligned and lies in a mapped, readable page.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn aligned_word(address: usize) -> u64 {
    let word: u64;
    // SAFETY: per the contract, an aligned load from a readable page.
    unsafe {
        core::arch::asm!(
            "ldr {word}, [{address}]",
            address = in(reg) address,
            word = lateout(reg) word,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    word
}

/// The aligned word after the one at `address`, which moves on to it (one
/// `ldr` with write-back, as strlen's loop was before it was assembly).
///
/// # Safety
/// As `aligned_word`'s, for `*address + 8`.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn next_aligned_word(address: &mut usize) -> u64 {
    let word: u64;
    // SAFETY: per the contract, an aligned load from a readable page.
    unsafe {
        core::arch::asm!(
            "ldr {word}, [{address}, #8]!",
            address = inout(reg) *address,
            word = lateout(reg) word,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    word
}

#[no_mangle]
pub unsafe extern "C" fn strnlen(text: *const u8, limit: usize) -> usize {
    let mut length = 0;
    // SAFETY: readable up to the NUL or `limit` bytes.
    unsafe {
        while length < limit && *text.add(length) != 0 {
            length += 1;
        }
    }
    length
}

#[no_mangle]
pub unsafe extern "C" fn strcpy(destination: *mut u8, source: *const u8) -> *mut u8 {
    // SAFETY: C's contract: the destination holds the source and its NUL.
    unsafe { memcpy(destination, source, strlen(source) + 1) }
}

#[no_mangle]
pub unsafe extern "C" fn stpcpy(destination: *mut u8, source: *const u8) -> *mut u8 {
    // SAFETY: as strcpy.
    unsafe {
        let length = strlen(source);
        memcpy(destination, source, length + 1);
        destination.add(length)
    }
}

#[no_mangle]
pub unsafe extern "C" fn strncpy(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    // SAFETY: the destination holds `count` bytes.
    unsafe {
        let length = strnlen(source, count);
        memcpy(destination, source, length);
        memset(destination.add(length), 0, count - length);
    }
    destination
}

#[no_mangle]
pub unsafe extern "C" fn stpncpy(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    // SAFETY: as strncpy.
    unsafe {
        let length = strnlen(source, count);
        strncpy(destination, source, count);
        destination.add(length)
    }
}

#[no_mangle]
pub unsafe extern "C" fn strlcpy(destination: *mut u8, source: *const u8, size: usize) -> usize {
    // SAFETY: the destination holds `size` bytes.
    unsafe {
        let length = strlen(source);
        if size > 0 {
            let copied = length.min(size - 1);
            memcpy(destination, source, copied);
            *destination.add(copied) = 0;
        }
        length
    }
}

#[no_mangle]
pub unsafe extern "C" fn strlcat(destination: *mut u8, source: *const u8, size: usize) -> usize {
    // SAFETY: the destination holds `size` bytes.
    unsafe {
        let used = strnlen(destination, size);
        if used == size {
            return size + strlen(source);
        }
        used + strlcpy(destination.add(used), source, size - used)
    }
}

#[no_mangle]
pub unsafe extern "C" fn strcat(destination: *mut u8, source: *const u8) -> *mut u8 {
    // SAFETY: C's contract.
    unsafe { strcpy(destination.add(strlen(destination)), source) };
    destination
}

#[no_mangle]
pub unsafe extern "C" fn strncat(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    // SAFETY: C's contract: room for strlen(destination) + min(count, strlen(source)) + 1.
    unsafe {
        let end = destination.add(strlen(destination));
        let length = strnlen(source, count);
        memcpy(end, source, length);
        *end.add(length) = 0;
    }
    destination
}

#[no_mangle]
pub unsafe extern "C" fn strcmp(left: *const u8, right: *const u8) -> i32 {
    let mut index = 0;
    // SAFETY: both NUL-terminated.
    unsafe {
        loop {
            let (a, b) = (*left.add(index), *right.add(index));
            if a != b || a == 0 {
                return a as i32 - b as i32;
            }
            index += 1;
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn strncmp(left: *const u8, right: *const u8, count: usize) -> i32 {
    // SAFETY: both NUL-terminated or `count` bytes long.
    unsafe {
        for index in 0..count {
            let (a, b) = (*left.add(index), *right.add(index));
            if a != b || a == 0 {
                return a as i32 - b as i32;
            }
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn strcoll(left: *const u8, right: *const u8) -> i32 {
    // SAFETY: forwarded; the C locale collates by byte.
    unsafe { strcmp(left, right) }
}

#[no_mangle]
pub unsafe extern "C" fn strxfrm(destination: *mut u8, source: *const u8, size: usize) -> usize {
    // SAFETY: forwarded; the C locale transforms to the identity.
    unsafe {
        let length = strlen(source);
        if length < size {
            memcpy(destination, source, length + 1);
        }
        length
    }
}

fn lower(byte: u8) -> u8 {
    byte.to_ascii_lowercase()
}

#[no_mangle]
pub unsafe extern "C" fn strcasecmp(left: *const u8, right: *const u8) -> i32 {
    // SAFETY: both NUL-terminated.
    unsafe { strncasecmp(left, right, usize::MAX) }
}

#[no_mangle]
pub unsafe extern "C" fn strncasecmp(left: *const u8, right: *const u8, count: usize) -> i32 {
    // SAFETY: both NUL-terminated or `count` long.
    unsafe {
        for index in 0..count {
            let (a, b) = (lower(*left.add(index)), lower(*right.add(index)));
            if a != b || a == 0 {
                return a as i32 - b as i32;
            }
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn strchr(text: *const u8, byte: i32) -> *mut u8 {
    // SAFETY: NUL-terminated.
    unsafe {
        let found = strchrnul(text, byte);
        if *found == byte as u8 {
            found
        } else {
            ptr::null_mut()
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn strchrnul(text: *const u8, byte: i32) -> *mut u8 {
    let mut cursor = text;
    // SAFETY: NUL-terminated.
    unsafe {
        while *cursor != 0 && *cursor != byte as u8 {
            cursor = cursor.add(1);
        }
    }
    cursor as *mut u8
}

#[no_mangle]
pub unsafe extern "C" fn strrchr(text: *const u8, byte: i32) -> *mut u8 {
    // SAFETY: NUL-terminated; the terminator itself may be searched for.
    unsafe {
        let length = strlen(text);
        let bytes = core::slice::from_raw_parts(text, length + 1);
        match bytes.iter().rposition(|&b| b == byte as u8) {
            Some(index) => text.add(index) as *mut u8,
            None => ptr::null_mut(),
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn index(text: *const u8, byte: i32) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { strchr(text, byte) }
}

#[no_mangle]
pub unsafe extern "C" fn rindex(text: *const u8, byte: i32) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { strrchr(text, byte) }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    let first = needle[0];
    let mut start = 0;
    while start + needle.len() <= haystack.len() {
        match haystack[start..haystack.len() - needle.len() + 1].iter().position(|&b| b == first) {
            Some(offset) => {
                let candidate = start + offset;
                if &haystack[candidate..candidate + needle.len()] == needle {
                    return Some(candidate);
                }
                start = candidate + 1;
            }
            None => return None,
        }
    }
    None
}

#[no_mangle]
pub unsafe extern "C" fn strstr(haystack: *const u8, needle: *const u8) -> *mut u8 {
    // SAFETY: both NUL-terminated.
    unsafe {
        match find(c_string(haystack), c_string(needle)) {
            Some(index) => haystack.add(index) as *mut u8,
            None => ptr::null_mut(),
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn strcasestr(haystack: *const u8, needle: *const u8) -> *mut u8 {
    // SAFETY: both NUL-terminated.
    unsafe {
        let (hay, pin) = (c_string(haystack), c_string(needle));
        if pin.len() > hay.len() {
            return ptr::null_mut();
        }
        for start in 0..=hay.len() - pin.len() {
            if hay[start..start + pin.len()].eq_ignore_ascii_case(pin) {
                return haystack.add(start) as *mut u8;
            }
        }
        ptr::null_mut()
    }
}

#[no_mangle]
pub unsafe extern "C" fn memmem(
    haystack: *const u8,
    haystack_length: usize,
    needle: *const u8,
    needle_length: usize,
) -> *mut u8 {
    // SAFETY: readable ranges, per the caller.
    unsafe {
        let hay = core::slice::from_raw_parts(haystack, haystack_length);
        let pin = core::slice::from_raw_parts(needle, needle_length);
        match find(hay, pin) {
            Some(index) => haystack.add(index) as *mut u8,
            None => ptr::null_mut(),
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn mempcpy(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe { memcpy(destination, source, count).add(count) }
}

#[no_mangle]
pub unsafe extern "C" fn memccpy(destination: *mut u8, source: *const u8, byte: i32, count: usize) -> *mut u8 {
    // SAFETY: ranges valid for `count` bytes.
    unsafe {
        for index in 0..count {
            let value = *source.add(index);
            *destination.add(index) = value;
            if value == byte as u8 {
                return destination.add(index + 1);
            }
        }
    }
    ptr::null_mut()
}

/// A 256-bit membership set of the bytes of a C string.
///
/// # Safety
/// `accept` must be NUL-terminated.
unsafe fn byte_set(accept: *const u8) -> [bool; 256] {
    let mut set = [false; 256];
    // SAFETY: NUL-terminated.
    for &b in unsafe { c_string(accept) } {
        set[b as usize] = true;
    }
    set
}

#[no_mangle]
pub unsafe extern "C" fn strspn(text: *const u8, accept: *const u8) -> usize {
    // SAFETY: both NUL-terminated.
    unsafe {
        let set = byte_set(accept);
        c_string(text).iter().take_while(|&&b| set[b as usize]).count()
    }
}

#[no_mangle]
pub unsafe extern "C" fn strcspn(text: *const u8, reject: *const u8) -> usize {
    // SAFETY: both NUL-terminated.
    unsafe {
        let set = byte_set(reject);
        c_string(text).iter().take_while(|&&b| !set[b as usize]).count()
    }
}

#[no_mangle]
pub unsafe extern "C" fn strpbrk(text: *const u8, accept: *const u8) -> *mut u8 {
    // SAFETY: both NUL-terminated.
    unsafe {
        let index = strcspn(text, accept);
        if *text.add(index) == 0 {
            ptr::null_mut()
        } else {
            text.add(index) as *mut u8
        }
    }
}

static TOKEN_STATE: CGlobal<*mut u8> = CGlobal::new(ptr::null_mut());

#[no_mangle]
pub unsafe extern "C" fn strtok(text: *mut u8, delimiters: *const u8) -> *mut u8 {
    // SAFETY: forwarded to strtok_r with our saved position.
    unsafe { strtok_r(text, delimiters, TOKEN_STATE.as_ptr()) }
}

#[no_mangle]
pub unsafe extern "C" fn strtok_r(text: *mut u8, delimiters: *const u8, saved: *mut *mut u8) -> *mut u8 {
    // SAFETY: `text` (or the saved position) and `delimiters` are NUL-terminated.
    unsafe {
        let mut start = if text.is_null() { *saved } else { text };
        if start.is_null() {
            return ptr::null_mut();
        }
        start = start.add(strspn(start, delimiters));
        if *start == 0 {
            *saved = ptr::null_mut();
            return ptr::null_mut();
        }
        let end = start.add(strcspn(start, delimiters));
        if *end == 0 {
            *saved = ptr::null_mut();
        } else {
            *end = 0;
            *saved = end.add(1);
        }
        start
    }
}

#[no_mangle]
pub unsafe extern "C" fn strsep(cursor: *mut *mut u8, delimiters: *const u8) -> *mut u8 {
    // SAFETY: `*cursor` is null or NUL-terminated.
    unsafe {
        let start = *cursor;
        if start.is_null() {
            return start;
        }
        let end = start.add(strcspn(start, delimiters));
        if *end == 0 {
            *cursor = ptr::null_mut();
        } else {
            *end = 0;
            *cursor = end.add(1);
        }
        start
    }
}

#[no_mangle]
pub unsafe extern "C" fn strdup(text: *const u8) -> *mut u8 {
    // SAFETY: NUL-terminated.
    unsafe { strndup(text, usize::MAX) }
}

#[no_mangle]
pub unsafe extern "C" fn strndup(text: *const u8, limit: usize) -> *mut u8 {
    // SAFETY: readable to the NUL or `limit`.
    unsafe {
        let length = strnlen(text, limit);
        let copy = malloc(length + 1);
        if !copy.is_null() {
            memcpy(copy, text, length);
            *copy.add(length) = 0;
        }
        copy
    }
}

/// The message for `number`, "Unknown error" when there is none.
pub fn error_message(number: i32) -> &'static str {
    crate::errno_table::message(number).unwrap_or("Unknown error")
}

#[no_mangle]
pub extern "C" fn strerror(number: i32) -> *mut u8 {
    if let Some(message) = crate::errno_table::terminated_message(number) {
        return message.as_ptr() as *mut u8;
    }
    // Unknown numbers are formatted into a static buffer, which the next
    // such call may overwrite (as C allows).
    static BUFFER: CGlobal<[u8; 40]> = CGlobal::new([0; 40]);
    let mut text = [0u8; 40];
    let used = {
        use core::fmt::Write;
        let mut writer = FixedWriter { bytes: &mut text, used: 0 };
        let _ = write!(writer, "Unknown error {}", number);
        writer.used
    };
    text[used] = 0;
    BUFFER.set(text);
    BUFFER.as_ptr() as *mut u8
}

/// Writes into a fixed byte array, truncating, keeping one byte for a NUL.
pub struct FixedWriter<'a> {
    pub bytes: &'a mut [u8],
    pub used: usize,
}

impl core::fmt::Write for FixedWriter<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let room = self.bytes.len().saturating_sub(1 + self.used);
        let take = text.len().min(room);
        self.bytes[self.used..self.used + take].copy_from_slice(&text.as_bytes()[..take]);
        self.used += take;
        Ok(())
    }
}

#[no_mangle]
pub unsafe extern "C" fn strerror_r(number: i32, buffer: *mut u8, size: usize) -> i32 {
    if size == 0 {
        return ERANGE;
    }
    // SAFETY: `buffer` holds `size` bytes; strerror's result is NUL-terminated.
    unsafe {
        let message = strerror(number);
        let length = c_string_length(message);
        let copied = length.min(size - 1);
        memcpy(buffer, message, copied);
        *buffer.add(copied) = 0;
        if copied < length {
            ERANGE
        } else {
            0
        }
    }
}

#[no_mangle]
pub extern "C" fn strsignal(signal: i32) -> *mut u8 {
    const NAMES: [&str; 32] = [
        "Unknown signal 0\0",
        "Hangup\0",
        "Interrupt\0",
        "Quit\0",
        "Illegal instruction\0",
        "Trace/breakpoint trap\0",
        "Aborted\0",
        "Bus error\0",
        "Floating point exception\0",
        "Killed\0",
        "User defined signal 1\0",
        "Segmentation fault\0",
        "User defined signal 2\0",
        "Broken pipe\0",
        "Alarm clock\0",
        "Terminated\0",
        "Stack fault\0",
        "Child exited\0",
        "Continued\0",
        "Stopped (signal)\0",
        "Stopped\0",
        "Stopped (tty input)\0",
        "Stopped (tty output)\0",
        "Urgent I/O condition\0",
        "CPU time limit exceeded\0",
        "File size limit exceeded\0",
        "Virtual timer expired\0",
        "Profiling timer expired\0",
        "Window changed\0",
        "I/O possible\0",
        "Power failure\0",
        "Bad system call\0",
    ];
    if let Some(name) = (1..NAMES.len() as i32).contains(&signal).then(|| NAMES[signal as usize]) {
        return name.as_ptr() as *mut u8;
    }
    // As glibc: "Real-time signal N" from SIGRTMIN (34), else "Unknown signal N",
    // in a buffer the next call overwrites.
    static TEXT: super::CGlobal<[u8; 40]> = super::CGlobal::new([0; 40]);
    let (prefix, number) =
        if (34..=64).contains(&signal) { ("Real-time signal ", signal - 34) } else { ("Unknown signal ", signal) };
    let mut text = [0u8; 40];
    let mut length = prefix.len();
    text[..length].copy_from_slice(prefix.as_bytes());
    if number < 0 {
        text[length] = b'-';
        length += 1;
    }
    let mut digits = [0u8; 12];
    let mut count = 0;
    let mut value = number.unsigned_abs();
    loop {
        digits[count] = b'0' + (value % 10) as u8;
        count += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for index in 0..count {
        text[length + index] = digits[count - 1 - index];
    }
    TEXT.set(text);
    TEXT.as_ptr() as *mut u8
}

#[no_mangle]
pub unsafe extern "C" fn bzero(destination: *mut u8, count: usize) {
    // SAFETY: forwarded.
    unsafe { memset(destination, 0, count) };
}

#[no_mangle]
pub unsafe extern "C" fn explicit_bzero(destination: *mut u8, count: usize) {
    // SAFETY: forwarded; memset is an opaque asm routine, so it is not elided.
    unsafe { memset(destination, 0, count) };
}

#[no_mangle]
pub unsafe extern "C" fn bcopy(source: *const u8, destination: *mut u8, count: usize) {
    // SAFETY: forwarded.
    unsafe { super::memory::memmove(destination, source, count) };
}

#[no_mangle]
pub extern "C" fn ffs(value: i32) -> i32 {
    if value == 0 {
        0
    } else {
        value.trailing_zeros() as i32 + 1
    }
}

#[no_mangle]
pub extern "C" fn ffsl(value: i64) -> i32 {
    if value == 0 {
        0
    } else {
        value.trailing_zeros() as i32 + 1
    }
}
