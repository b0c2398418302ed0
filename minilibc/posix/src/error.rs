//! `Errno`: a POSIX error number (the values of `<errno.h>`), the error type
//! of every fallible call here, printed with minilibc's `strerror` text.

use crate::ffi;
use core::fmt;

/// A POSIX error number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

/// The result of a call that can fail with an error number.
pub type Result<T> = core::result::Result<T, Errno>;

impl Errno {
    /// The calling thread's `errno` now.
    pub fn last() -> Errno {
        // SAFETY: `__errno_location` returns the address of the thread's errno.
        Errno(unsafe { *ffi::__errno_location() })
    }

    /// Sets `errno` (before a call whose failure is told only by errno, like readdir).
    pub fn set(value: i32) {
        // SAFETY: as in `last`.
        unsafe { *ffi::__errno_location() = value };
    }

    /// The message `strerror` gives for this number ("No such file or directory").
    pub fn message(self) -> &'static str {
        // SAFETY: strerror returns a NUL-terminated static string (minilibc
        // keeps its table static; glibc's text for a known number too).
        let bytes = unsafe { crate::c_string_bytes(ffi::strerror(self.0)) };
        core::str::from_utf8(bytes).unwrap_or("Unknown error")
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.message())
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Errno({}: {})", self.0, self.message())
    }
}

/// A C call's `-1`-and-errno convention as a `Result`.
pub(crate) fn check(value: i32) -> Result<i32> {
    if value < 0 {
        Err(Errno::last())
    } else {
        Ok(value)
    }
}

/// As `check`, for calls returning a size.
pub(crate) fn check_size(value: isize) -> Result<usize> {
    if value < 0 {
        Err(Errno::last())
    } else {
        Ok(value as usize)
    }
}

/// As `check`, retrying while the call is interrupted by a signal.
pub(crate) fn retry(mut call: impl FnMut() -> i32) -> Result<i32> {
    loop {
        match check(call()) {
            Err(Errno(crate::EINTR)) => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_c_library_texts() {
        assert_eq!(Errno(crate::ENOENT).message(), "No such file or directory");
        assert_eq!(Errno(crate::EACCES).to_string(), "Permission denied");
        assert_eq!(format!("{:?}", Errno(crate::EEXIST)), "Errno(17: File exists)");
    }
}
