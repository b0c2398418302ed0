//! POSIX error numbers (Linux numbering) and their messages, for `strerror`.
#![forbid(unsafe_code)]

/// Error numbers minilibc itself reports (Linux numbering, the values of
/// `<errno.h>`; crt/layout_checks.c verifies the header agrees).
pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ESRCH: i32 = 3;
pub const EINTR: i32 = 4;
pub const EIO: i32 = 5;
pub const ENXIO: i32 = 6;
pub const E2BIG: i32 = 7;
pub const ENOEXEC: i32 = 8;
pub const EBADF: i32 = 9;
pub const ECHILD: i32 = 10;
pub const EAGAIN: i32 = 11;
pub const ENOMEM: i32 = 12;
pub const EACCES: i32 = 13;
pub const EFAULT: i32 = 14;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const EXDEV: i32 = 18;
pub const ENODEV: i32 = 19;
pub const ENOTDIR: i32 = 20;
pub const EISDIR: i32 = 21;
pub const EINVAL: i32 = 22;
pub const EMFILE: i32 = 24;
pub const ENOTTY: i32 = 25;
pub const ENOSPC: i32 = 28;
pub const ESPIPE: i32 = 29;
pub const EPIPE: i32 = 32;
pub const ERANGE: i32 = 34;
pub const ENAMETOOLONG: i32 = 36;
pub const ENOSYS: i32 = 38;
pub const ELOOP: i32 = 40;
pub const EOVERFLOW: i32 = 75;
pub const EILSEQ: i32 = 84;
pub const ENOTSUP: i32 = 95;
pub const ETIMEDOUT: i32 = 110;

/// Message for error `number`, or `None` when it is not an error number we know.
pub fn message(number: i32) -> Option<&'static str> {
    terminated_message(number).map(|text| &text[..text.len() - 1])
}

/// The message with a trailing NUL, so C can be handed the static text
/// itself (strerror results then stay valid across calls, as in glibc).
pub fn terminated_message(number: i32) -> Option<&'static str> {
    Some(match number {
        0 => "Success\0",
        1 => "Operation not permitted\0",
        2 => "No such file or directory\0",
        3 => "No such process\0",
        4 => "Interrupted system call\0",
        5 => "Input/output error\0",
        6 => "No such device or address\0",
        7 => "Argument list too long\0",
        8 => "Exec format error\0",
        9 => "Bad file descriptor\0",
        10 => "No child processes\0",
        11 => "Resource temporarily unavailable\0",
        12 => "Cannot allocate memory\0",
        13 => "Permission denied\0",
        14 => "Bad address\0",
        15 => "Block device required\0",
        16 => "Device or resource busy\0",
        17 => "File exists\0",
        18 => "Invalid cross-device link\0",
        19 => "No such device\0",
        20 => "Not a directory\0",
        21 => "Is a directory\0",
        22 => "Invalid argument\0",
        23 => "Too many open files in system\0",
        24 => "Too many open files\0",
        25 => "Inappropriate ioctl for device\0",
        26 => "Text file busy\0",
        27 => "File too large\0",
        28 => "No space left on device\0",
        29 => "Illegal seek\0",
        30 => "Read-only file system\0",
        31 => "Too many links\0",
        32 => "Broken pipe\0",
        33 => "Numerical argument out of domain\0",
        34 => "Numerical result out of range\0",
        35 => "Resource deadlock avoided\0",
        36 => "File name too long\0",
        37 => "No locks available\0",
        38 => "Function not implemented\0",
        39 => "Directory not empty\0",
        40 => "Too many levels of symbolic links\0",
        61 => "No data available\0",
        62 => "Timer expired\0",
        71 => "Protocol error\0",
        74 => "Bad message\0",
        75 => "Value too large for defined data type\0",
        84 => "Invalid or incomplete multibyte or wide character\0",
        88 => "Socket operation on non-socket\0",
        95 => "Operation not supported\0",
        110 => "Connection timed out\0",
        111 => "Connection refused\0",
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
