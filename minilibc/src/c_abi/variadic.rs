//! Reading a C `va_list` (x86_64 System V, aarch64 AAPCS64) from Rust.
//!
//! Stable Rust cannot define C-variadic functions, so the `...` entry points
//! (`printf`, `open`, `execl`...) are tiny C functions in `crt/variadic.c`
//! that call the `v` variants here with their `va_list`. On x86_64 a
//! `va_list` is a pointer to this record; integer and pointer arguments come
//! from the general register save area and then the stack overflow area,
//! doubles from the vector register save area, `long double` always from the
//! overflow area (16-byte aligned). On aarch64 a `va_list` is a 32-byte
//! record passed by value, which AAPCS64 passes as a pointer to the caller's
//! copy: the same pointer here. Its offsets count up from minus the save
//! area's size to 0, where the stack takes over; a `long double` (IEEE
//! binary128) takes a whole vector register or 16 aligned stack bytes.

use crate::format::{ArgumentKind, Arguments, Length};
use alloc::vec::Vec;

#[cfg(target_arch = "x86_64")]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VaListTag {
    general_offset: u32,
    floating_offset: u32,
    overflow_area: *mut u8,
    register_save_area: *mut u8,
}

/// AAPCS64's `va_list`.
#[cfg(target_arch = "aarch64")]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VaListTag {
    stack: *mut u8,
    general_top: *mut u8,
    vector_top: *mut u8,
    general_offset: i32,
    vector_offset: i32,
}

/// A cursor over a caller's `va_list`.
pub struct VaArguments {
    list: *mut VaListTag,
    /// The list as it was at the start, and the argument kinds, for
    /// positional (`%n$`) formats, which step back to any argument.
    start: VaListTag,
    kinds: Vec<ArgumentKind>,
}

impl VaArguments {
    /// Wraps a caller's `va_list`.
    ///
    /// # Safety
    /// `list` must be a live `va_list` for the whole use of the cursor.
    pub unsafe fn new(list: *mut VaListTag) -> Self {
        // SAFETY: per the contract.
        VaArguments { list, start: unsafe { *list }, kinds: Vec::new() }
    }

    /// The next integer or pointer argument.
    #[cfg(target_arch = "x86_64")]
    pub fn next_word(&mut self) -> u64 {
        // SAFETY: the C caller passed a live va_list whose next argument is an
        // integer or pointer (the format string says so).
        unsafe {
            let tag = &mut *self.list;
            if tag.general_offset < 48 {
                let value = *(tag.register_save_area.add(tag.general_offset as usize) as *const u64);
                tag.general_offset += 8;
                value
            } else {
                let value = *(tag.overflow_area as *const u64);
                tag.overflow_area = tag.overflow_area.add(8);
                value
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    pub fn next_f64(&mut self) -> f64 {
        // SAFETY: as `next_word`, for a double argument.
        unsafe {
            let tag = &mut *self.list;
            if tag.floating_offset < 176 {
                let value = *(tag.register_save_area.add(tag.floating_offset as usize) as *const f64);
                tag.floating_offset += 16;
                value
            } else {
                let value = *(tag.overflow_area as *const f64);
                tag.overflow_area = tag.overflow_area.add(8);
                value
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    pub fn next_long_double(&mut self) -> f64 {
        // SAFETY: as `next_word`, for a long double (passed in memory).
        unsafe {
            let tag = &mut *self.list;
            let aligned = (tag.overflow_area as usize).next_multiple_of(16) as *mut u8;
            let mut bytes = [0u8; 10];
            core::ptr::copy_nonoverlapping(aligned, bytes.as_mut_ptr(), 10);
            tag.overflow_area = aligned.add(16);
            crate::number::extended_to_double(bytes)
        }
    }

    /// The next integer or pointer argument: from the general registers'
    /// save area while its offset is negative, then the stack.
    #[cfg(target_arch = "aarch64")]
    pub fn next_word(&mut self) -> u64 {
        // SAFETY: the C caller passed a live va_list whose next argument is an
        // integer or pointer (the format string says so).
        unsafe {
            let tag = &mut *self.list;
            if tag.general_offset < 0 {
                let value = *(tag.general_top.offset(tag.general_offset as isize) as *const u64);
                tag.general_offset += 8;
                value
            } else {
                let value = *(tag.stack as *const u64);
                tag.stack = tag.stack.add(8);
                value
            }
        }
    }

    /// The next vector-register argument's 16 bytes (a double in the low
    /// 8): from the vector save area, then the stack (`stack_size` bytes,
    /// aligned to them).
    #[cfg(target_arch = "aarch64")]
    fn next_vector(&mut self, stack_size: usize) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        // SAFETY: as `next_word`, for a floating-point argument.
        unsafe {
            let tag = &mut *self.list;
            if tag.vector_offset < 0 {
                let from = tag.vector_top.offset(tag.vector_offset as isize);
                core::ptr::copy_nonoverlapping(from, bytes.as_mut_ptr(), 16);
                tag.vector_offset += 16;
            } else {
                let aligned = (tag.stack as usize).next_multiple_of(stack_size) as *mut u8;
                core::ptr::copy_nonoverlapping(aligned, bytes.as_mut_ptr(), stack_size);
                tag.stack = aligned.add(stack_size);
            }
        }
        bytes
    }

    #[cfg(target_arch = "aarch64")]
    pub fn next_f64(&mut self) -> f64 {
        let bytes = self.next_vector(8);
        f64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
    }

    #[cfg(target_arch = "aarch64")]
    pub fn next_long_double(&mut self) -> f64 {
        crate::number::quadruple_to_double(self.next_vector(16))
    }

    pub fn next_pointer<T>(&mut self) -> *mut T {
        self.next_word() as usize as *mut T
    }
}

impl Arguments for VaArguments {
    fn next_integer(&mut self) -> u64 {
        self.next_word()
    }
    fn next_double(&mut self) -> f64 {
        self.next_f64()
    }
    fn next_long_double(&mut self) -> f64 {
        VaArguments::next_long_double(self)
    }
    fn next_string(&mut self, limit: Option<usize>) -> Option<&[u8]> {
        let text: *const u8 = self.next_pointer();
        if text.is_null() {
            return None;
        }
        // SAFETY: %s promises a string readable to its NUL or to the precision.
        unsafe {
            let length = super::string::strnlen(text, limit.unwrap_or(usize::MAX));
            Some(core::slice::from_raw_parts(text, length))
        }
    }
    fn next_wide_string(&mut self, limit: Option<usize>) -> Option<alloc::vec::Vec<u8>> {
        let text: *const u32 = self.next_pointer();
        if text.is_null() {
            return None;
        }
        let limit = limit.unwrap_or(usize::MAX);
        let mut encoded = alloc::vec::Vec::new();
        let mut index = 0;
        loop {
            // SAFETY: %ls promises a NUL-terminated wchar_t string.
            let unit = unsafe { *text.add(index) };
            if unit == 0 {
                break;
            }
            let mut buffer = [0u8; 4];
            let character = char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER).encode_utf8(&mut buffer);
            if encoded.len() + character.len() > limit {
                break;
            }
            encoded.extend_from_slice(character.as_bytes());
            index += 1;
        }
        Some(encoded)
    }
    fn begin_positional(&mut self, kinds: &[ArgumentKind]) {
        self.kinds = kinds.to_vec();
    }
    fn select(&mut self, position: usize) {
        // SAFETY: rewinding to the saved start of the same live va_list,
        // then stepping over the earlier arguments by their kinds.
        unsafe { *self.list = self.start };
        for index in 0..position.saturating_sub(1) {
            match self.kinds.get(index).copied().unwrap_or(ArgumentKind::Word) {
                ArgumentKind::Word => {
                    self.next_word();
                }
                ArgumentKind::Double => {
                    self.next_f64();
                }
                ArgumentKind::LongDouble => {
                    VaArguments::next_long_double(self);
                }
            }
        }
    }
    fn store_count(&mut self, length: Length, count: usize) {
        let target: *mut u8 = self.next_pointer();
        if target.is_null() {
            return;
        }
        // SAFETY: %n promises a pointer to an object of the length's type.
        unsafe { store_integer(target, length, count as u64) }
    }
    fn error_message(&mut self) -> &'static str {
        super::string::error_message(super::errno())
    }
}

/// Stores `value` through `target` sized by a C length modifier.
///
/// # Safety
/// `target` must point to a writable object of that type.
pub unsafe fn store_integer(target: *mut u8, length: Length, value: u64) {
    // SAFETY: per the contract.
    unsafe {
        match length {
            Length::Char => *target = value as u8,
            Length::Short => *(target as *mut u16) = value as u16,
            Length::Default => *(target as *mut u32) = value as u32,
            _ => *(target as *mut u64) = value,
        }
    }
}
