//! The POSIX errors the console answers, with Linux's numbers (a reply's
//! code is the `errno`, as in every personality interface).

/// An `errno` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Errno {
    /// `EPERM`: not allowed (another session's terminal, a group of another session).
    NotPermitted = 1,
    /// `EINTR`: the call was interrupted.
    Interrupted = 4,
    /// `EIO`: job control refused (an orphaned or ignoring background process).
    InputOutput = 5,
    /// `ENXIO`: no such device (`/dev/tty` without a controlling terminal).
    NoSuchDevice = 6,
    /// `EBADF`: not open for that (reading a write-only open), or closed.
    BadFile = 9,
    /// `EAGAIN`: would wait, and the open file is non-blocking.
    WouldBlock = 11,
    /// `EINVAL`: a bad argument.
    InvalidArgument = 22,
    /// `ENFILE`: the console has as many open terminals as it keeps.
    TooManyOpenFiles = 23,
    /// `ENOTTY`: not the caller's controlling terminal (for the requests that need it).
    NotTerminal = 25,
}

impl Errno {
    /// The `errno` number.
    pub const fn code(self) -> i32 {
        self as i32
    }
}
