//! POSIX error numbers (Linux numbering) and their messages, for `strerror`.
#![forbid(unsafe_code)]

/// Error numbers minilibc itself reports (Linux numbering, the values of
/// `<errno.h>`; crt/layout_checks.c verifies the header agrees).
pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ESRCH: i32 = 3;
pub const EINTR: i32 = 4;
pub const EIO: i32 = 5;
pub const EBADF: i32 = 9;
pub const ECHILD: i32 = 10;
pub const EAGAIN: i32 = 11;
pub const ENOMEM: i32 = 12;
pub const EACCES: i32 = 13;
pub const EEXIST: i32 = 17;
pub const ENOTDIR: i32 = 20;
pub const EISDIR: i32 = 21;
pub const EINVAL: i32 = 22;
pub const ENOTTY: i32 = 25;
pub const ENOSPC: i32 = 28;
pub const ESPIPE: i32 = 29;
pub const ERANGE: i32 = 34;
pub const ENAMETOOLONG: i32 = 36;
pub const ENOSYS: i32 = 38;
pub const EOVERFLOW: i32 = 75;
pub const EILSEQ: i32 = 84;

/// Message for error `number`, or `None` when it is not an error number we know.
pub fn message(number: i32) -> Option<&'static str> {
    Some(match number {
        0 => "Success",
        1 => "Operation not permitted",
        2 => "No such file or directory",
        3 => "No such process",
        4 => "Interrupted system call",
        5 => "Input/output error",
        6 => "No such device or address",
        7 => "Argument list too long",
        8 => "Exec format error",
        9 => "Bad file descriptor",
        10 => "No child processes",
        11 => "Resource temporarily unavailable",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        14 => "Bad address",
        15 => "Block device required",
        16 => "Device or resource busy",
        17 => "File exists",
        18 => "Invalid cross-device link",
        19 => "No such device",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        23 => "Too many open files in system",
        24 => "Too many open files",
        25 => "Inappropriate ioctl for device",
        26 => "Text file busy",
        27 => "File too large",
        28 => "No space left on device",
        29 => "Illegal seek",
        30 => "Read-only file system",
        31 => "Too many links",
        32 => "Broken pipe",
        33 => "Numerical argument out of domain",
        34 => "Numerical result out of range",
        35 => "Resource deadlock avoided",
        36 => "File name too long",
        37 => "No locks available",
        38 => "Function not implemented",
        39 => "Directory not empty",
        40 => "Too many levels of symbolic links",
        61 => "No data available",
        62 => "Timer expired",
        71 => "Protocol error",
        74 => "Bad message",
        75 => "Value too large for defined data type",
        84 => "Invalid or incomplete multibyte or wide character",
        88 => "Socket operation on non-socket",
        95 => "Operation not supported",
        110 => "Connection timed out",
        111 => "Connection refused",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn known_and_unknown_numbers() {
        assert_eq!(message(2), Some("No such file or directory"));
        assert_eq!(message(-5), None);
        assert_eq!(message(9999), None);
    }
}
