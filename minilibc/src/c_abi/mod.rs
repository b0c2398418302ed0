//! The C ABI edge: every `#[no_mangle] extern "C"` symbol of libc.a, the
//! process entry crt0 calls, the panic handler and the global allocator.
//!
//! This is where minilibc's `unsafe` lives: C hands us raw pointers, and each
//! exported function documents (in its C header) what it requires of them.
//! Portable logic is delegated to the safe core modules; system calls go
//! through `crate::platform`.
#![allow(clippy::missing_safety_doc, non_camel_case_types, non_upper_case_globals, clippy::not_unsafe_ptr_arg_deref)]

pub mod accounts;
pub mod ctype;
pub mod locale;
pub mod math;
pub mod memory;
pub mod posix;
pub mod runtime;
pub mod semaphore;
pub mod spawn;
pub mod stdio;
pub mod stdlib;
pub mod string;
pub mod system;
pub mod time;
pub mod variadic;
pub mod wide;

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicI32, Ordering};

/// A C-visible global that C code may read and write directly (`environ`,
/// `stdin`, `optarg`...). Rust reaches it only through `get`/`set`, and
/// minilibc is single-threaded, which is why sharing it is sound.
#[repr(transparent)]
pub struct CGlobal<T>(UnsafeCell<T>);

// SAFETY: minilibc runs one thread per process (documented); signal handlers
// that touch these globals race exactly as they would in C.
unsafe impl<T> Sync for CGlobal<T> {}

impl<T: Copy> CGlobal<T> {
    pub const fn new(value: T) -> Self {
        CGlobal(UnsafeCell::new(value))
    }
    pub fn get(&self) -> T {
        // SAFETY: single-threaded access to a plain value (see the type's docs).
        unsafe { *self.0.get() }
    }
    pub fn set(&self, value: T) {
        // SAFETY: as for `get`.
        unsafe { *self.0.get() = value }
    }
    pub fn as_ptr(&self) -> *mut T {
        self.0.get()
    }
}

static ERRNO: AtomicI32 = AtomicI32::new(0);

/// `errno` lives here; `<errno.h>` defines `errno` as `(*__errno_location())`.
#[no_mangle]
pub extern "C" fn __errno_location() -> *mut i32 {
    ERRNO.as_ptr()
}

pub fn set_errno(value: i32) {
    ERRNO.store(value, Ordering::Relaxed);
}

pub fn errno() -> i32 {
    ERRNO.load(Ordering::Relaxed)
}

/// Converts a platform result to the C convention: the value, or -1 with errno set.
pub fn c_result(result: Result<usize, crate::platform::Errno>) -> isize {
    match result {
        Ok(value) => value as isize,
        Err(error) => {
            set_errno(error.0);
            -1
        }
    }
}

/// Length of a NUL-terminated string.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
pub unsafe fn c_string_length(text: *const u8) -> usize {
    let mut length = 0;
    // SAFETY: the caller guarantees a terminator before the end of the object.
    unsafe {
        while *text.add(length) != 0 {
            length += 1;
        }
    }
    length
}

/// The bytes of a NUL-terminated string, without the NUL.
///
/// # Safety
/// `text` must point to a NUL-terminated string that outlives the slice.
pub unsafe fn c_string<'a>(text: *const u8) -> &'a [u8] {
    // SAFETY: the caller's guarantee covers `length` bytes.
    unsafe { core::slice::from_raw_parts(text, c_string_length(text)) }
}

#[panic_handler]
fn panic(information: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    struct StandardError;
    impl Write for StandardError {
        fn write_str(&mut self, text: &str) -> core::fmt::Result {
            // SAFETY: the slice is valid for its length.
            let _ = unsafe { crate::platform::write(2, text.as_ptr(), text.len()) };
            Ok(())
        }
    }
    let _ = writeln!(StandardError, "minilibc: internal error: {}", information);
    runtime::abort()
}

/// The prebuilt `alloc` library was compiled for unwinding and refers to
/// these two symbols; minilibc is built with panic=abort, so no unwind ever
/// starts and they are unreachable. They abort rather than pretend.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    runtime::abort()
}

#[no_mangle]
pub extern "C" fn rust_eh_personality() -> ! {
    runtime::abort()
}
