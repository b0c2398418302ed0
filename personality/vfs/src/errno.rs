//! POSIX error numbers, as the file server reports them.
//!
//! The numbers are Linux's (minilibc's `<errno.h>` uses the same), and
//! `io.defs` / `fs.defs` declare their errors with exactly these codes, so
//! a reply's error code *is* the `errno` a C program sees.

use core::fmt;

/// Why a file operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum Errno {
    /// `EPERM`: the caller is not allowed (not the owner, not privileged).
    NotPermitted = 1,
    /// `ENOENT`.
    NoSuchEntry = 2,
    /// `EINTR`: the call was cancelled by its client.
    Interrupted = 4,
    /// `EIO`: the disk or the file system's data failed a check.
    InputOutput = 5,
    /// `ENXIO`: no such device (or no reader on a FIFO opened non-blocking for writing).
    NoSuchDeviceOrAddress = 6,
    /// `EBADF`: the open file does not allow the operation (read on a write-only file...).
    BadDescriptor = 9,
    /// `EAGAIN`: the operation would block and the open file is non-blocking.
    WouldBlock = 11,
    /// `ENOMEM`.
    OutOfMemory = 12,
    /// `EACCES`: the mode bits refuse the caller.
    AccessDenied = 13,
    /// `ENOTBLK`: `mount` given something that is not a block device.
    NotABlockDevice = 15,
    /// `EBUSY`: a mount point, a mounted device, a file system in use.
    Busy = 16,
    /// `EEXIST`.
    Exists = 17,
    /// `EXDEV`: a link or rename across file systems.
    CrossDevice = 18,
    /// `ENODEV`: no driver behind a device node.
    NoSuchDevice = 19,
    /// `ENOTDIR`.
    NotADirectory = 20,
    /// `EISDIR`.
    IsADirectory = 21,
    /// `EINVAL`.
    InvalidArgument = 22,
    /// `ENFILE`: the server's open-file table is full.
    TooManyOpenFiles = 23,
    /// `ENOTTY`: an ioctl the object does not know.
    NotATerminal = 25,
    /// `EFBIG`.
    FileTooLarge = 27,
    /// `ENOSPC`.
    NoSpace = 28,
    /// `ESPIPE`: seek on a pipe.
    IllegalSeek = 29,
    /// `EROFS`.
    ReadOnlyFileSystem = 30,
    /// `EMLINK`.
    TooManyLinks = 31,
    /// `EPIPE`: write to a pipe with no reader.
    BrokenPipe = 32,
    /// `ERANGE`: a result does not fit the caller's buffer.
    OutOfRange = 34,
    /// `EDEADLK`: waiting for this lock would deadlock.
    Deadlock = 35,
    /// `ENAMETOOLONG`.
    NameTooLong = 36,
    /// `ENOLCK`: the lock table is full.
    NoLocks = 37,
    /// `ENOSYS`.
    NotImplemented = 38,
    /// `ENOTEMPTY`.
    DirectoryNotEmpty = 39,
    /// `ELOOP`: too many symbolic links, or `O_NOFOLLOW` on one.
    SymlinkLoop = 40,
    /// `EOVERFLOW`.
    Overflow = 75,
    /// `EOPNOTSUPP`: the object does not support the operation.
    NotSupported = 95,
    /// `ESTALE`: the open file outlived its file system (unmounted, or the server restarted).
    Stale = 116,
}

impl Errno {
    /// Every error, for tests and for checking the interfaces declare them all.
    pub const ALL: [Errno; 35] = [
        Errno::NotPermitted,
        Errno::NoSuchEntry,
        Errno::Interrupted,
        Errno::InputOutput,
        Errno::NoSuchDeviceOrAddress,
        Errno::BadDescriptor,
        Errno::WouldBlock,
        Errno::OutOfMemory,
        Errno::AccessDenied,
        Errno::NotABlockDevice,
        Errno::Busy,
        Errno::Exists,
        Errno::CrossDevice,
        Errno::NoSuchDevice,
        Errno::NotADirectory,
        Errno::IsADirectory,
        Errno::InvalidArgument,
        Errno::TooManyOpenFiles,
        Errno::NotATerminal,
        Errno::FileTooLarge,
        Errno::NoSpace,
        Errno::IllegalSeek,
        Errno::ReadOnlyFileSystem,
        Errno::TooManyLinks,
        Errno::BrokenPipe,
        Errno::OutOfRange,
        Errno::Deadlock,
        Errno::NameTooLong,
        Errno::NoLocks,
        Errno::NotImplemented,
        Errno::DirectoryNotEmpty,
        Errno::SymlinkLoop,
        Errno::Overflow,
        Errno::NotSupported,
        Errno::Stale,
    ];

    /// The number C sees in `errno`.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The error with this number, if it is one of ours.
    pub fn from_code(code: i32) -> Option<Errno> {
        Errno::ALL.iter().copied().find(|error| error.code() == code)
    }

    /// The conventional name (`ENOENT`...).
    pub const fn name(self) -> &'static str {
        match self {
            Errno::NotPermitted => "EPERM",
            Errno::NoSuchEntry => "ENOENT",
            Errno::Interrupted => "EINTR",
            Errno::InputOutput => "EIO",
            Errno::NoSuchDeviceOrAddress => "ENXIO",
            Errno::BadDescriptor => "EBADF",
            Errno::WouldBlock => "EAGAIN",
            Errno::OutOfMemory => "ENOMEM",
            Errno::AccessDenied => "EACCES",
            Errno::NotABlockDevice => "ENOTBLK",
            Errno::Busy => "EBUSY",
            Errno::Exists => "EEXIST",
            Errno::CrossDevice => "EXDEV",
            Errno::NoSuchDevice => "ENODEV",
            Errno::NotADirectory => "ENOTDIR",
            Errno::IsADirectory => "EISDIR",
            Errno::InvalidArgument => "EINVAL",
            Errno::TooManyOpenFiles => "ENFILE",
            Errno::NotATerminal => "ENOTTY",
            Errno::FileTooLarge => "EFBIG",
            Errno::NoSpace => "ENOSPC",
            Errno::IllegalSeek => "ESPIPE",
            Errno::ReadOnlyFileSystem => "EROFS",
            Errno::TooManyLinks => "EMLINK",
            Errno::BrokenPipe => "EPIPE",
            Errno::OutOfRange => "ERANGE",
            Errno::Deadlock => "EDEADLK",
            Errno::NameTooLong => "ENAMETOOLONG",
            Errno::NoLocks => "ENOLCK",
            Errno::NotImplemented => "ENOSYS",
            Errno::DirectoryNotEmpty => "ENOTEMPTY",
            Errno::SymlinkLoop => "ELOOP",
            Errno::Overflow => "EOVERFLOW",
            Errno::NotSupported => "EOPNOTSUPP",
            Errno::Stale => "ESTALE",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.name(), self.code())
    }
}

/// ext2's errors as POSIX sees them. Corruption and device failures are
/// `EIO`: the caller cannot fix them, and the server must go on.
impl From<ext2::Error> for Errno {
    fn from(error: ext2::Error) -> Self {
        use ext2::Error;
        match error {
            Error::Device(_) | Error::Corrupt(_) | Error::InvalidInode(_) => Errno::InputOutput,
            Error::BadMagic | Error::UnsupportedRevision(_) | Error::UnsupportedBlockSize(_) => Errno::InvalidArgument,
            Error::UnsupportedFeature(_) => Errno::NotSupported,
            Error::ReadOnly => Errno::ReadOnlyFileSystem,
            Error::NotFound => Errno::NoSuchEntry,
            Error::NotADirectory => Errno::NotADirectory,
            Error::IsADirectory => Errno::IsADirectory,
            Error::DirectoryNotEmpty => Errno::DirectoryNotEmpty,
            Error::AlreadyExists => Errno::Exists,
            Error::NameTooLong => Errno::NameTooLong,
            Error::InvalidName => Errno::InvalidArgument,
            Error::NoSpace | Error::NoInodes => Errno::NoSpace,
            Error::TooManyLinks => Errno::TooManyLinks,
            Error::FileTooLarge => Errno::FileTooLarge,
            Error::NotASymlink => Errno::InvalidArgument,
            Error::SymlinkLoop => Errno::SymlinkLoop,
            Error::RenameIntoSubtree => Errno::InvalidArgument,
            Error::InvalidArgument(_) => Errno::InvalidArgument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_linux_numbers() {
        for error in Errno::ALL {
            assert_eq!(Errno::from_code(error.code()), Some(error));
        }
        assert_eq!(Errno::NoSuchEntry.code(), 2);
        assert_eq!(Errno::SymlinkLoop.code(), 40);
        assert_eq!(Errno::from_code(0), None);
        assert_eq!(Errno::from_code(-1), None);
    }
}
