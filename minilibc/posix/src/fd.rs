//! `Fd`: an owned file descriptor, closed on drop, and the calls on one.

use crate::error::{check, check_size, retry, Errno, Result};
use crate::ffi;
use crate::path::CPath;
use crate::types::{Stat, Timespec};
use alloc::vec::Vec;

/// An open file descriptor this value owns: dropping it closes it.
/// `into_raw` gives it up (the number stays open), `borrow_raw` names a
/// descriptor owned elsewhere (0, 1, 2) without closing it.
#[derive(Debug, PartialEq, Eq)]
pub struct Fd(i32);

impl Fd {
    /// Takes ownership of descriptor `fd` (closed when the `Fd` is dropped).
    pub fn from_raw(fd: i32) -> Fd {
        Fd(fd)
    }

    /// Runs `body` with descriptor `fd` (owned elsewhere, say standard
    /// input) as an `Fd`, without closing it afterwards.
    pub fn borrowed<R>(fd: i32, body: impl FnOnce(&Fd) -> R) -> R {
        let file = Fd(fd);
        let result = body(&file);
        file.into_raw();
        result
    }

    /// The descriptor number.
    pub fn raw(&self) -> i32 {
        self.0
    }

    /// Gives the descriptor up without closing it.
    pub fn into_raw(self) -> i32 {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }

    /// Closes the descriptor, reporting the error drop would ignore.
    pub fn close(self) -> Result<()> {
        let fd = self.into_raw();
        // SAFETY: no pointers.
        check(unsafe { ffi::close(fd) }).map(drop)
    }

    /// Reads up to `buffer.len()` bytes (0 at end of file), retrying on EINTR.
    pub fn read(&self, buffer: &mut [u8]) -> Result<usize> {
        read(self.0, buffer)
    }

    /// Writes some of `buffer`, retrying on EINTR.
    pub fn write(&self, buffer: &[u8]) -> Result<usize> {
        write(self.0, buffer)
    }

    /// Writes all of `buffer`.
    pub fn write_all(&self, buffer: &[u8]) -> Result<()> {
        write_all(self.0, buffer)
    }

    /// Reads everything up to end of file.
    pub fn read_to_end(&self, into: &mut Vec<u8>) -> Result<usize> {
        read_to_end(self.0, into)
    }

    /// `pread`: reads at `offset` without moving the file offset.
    pub fn read_at(&self, buffer: &mut [u8], offset: u64) -> Result<usize> {
        loop {
            // SAFETY: the buffer is writable for its length.
            match check_size(unsafe { ffi::pread(self.0, buffer.as_mut_ptr(), buffer.len(), offset as i64) }) {
                Err(Errno(crate::EINTR)) => continue,
                other => return other,
            }
        }
    }

    /// `lseek`: returns the new offset.
    pub fn seek(&self, offset: i64, whence: i32) -> Result<u64> {
        // SAFETY: no pointers.
        let position = unsafe { ffi::lseek(self.0, offset, whence) };
        if position < 0 {
            Err(Errno::last())
        } else {
            Ok(position as u64)
        }
    }

    /// `fstat`.
    pub fn stat(&self) -> Result<Stat> {
        let mut buffer = Stat::default();
        // SAFETY: a writable record.
        check(unsafe { ffi::fstat(self.0, &mut buffer) })?;
        Ok(buffer)
    }

    /// `dup`: a second descriptor for the same open file.
    pub fn duplicate(&self) -> Result<Fd> {
        // SAFETY: no pointers.
        check(unsafe { ffi::dup(self.0) }).map(Fd)
    }

    /// `fcntl(F_DUPFD_CLOEXEC)`: a close-on-exec copy numbered at least `minimum`.
    pub fn duplicate_at_least(&self, minimum: i32) -> Result<Fd> {
        // SAFETY: F_DUPFD_CLOEXEC takes an integer.
        check(unsafe { ffi::fcntl(self.0, crate::F_DUPFD_CLOEXEC, minimum) }).map(Fd)
    }

    /// Sets or clears `FD_CLOEXEC`.
    pub fn set_close_on_exec(&self, on: bool) -> Result<()> {
        // SAFETY: F_GETFD/F_SETFD take integers.
        unsafe {
            let flags = check(ffi::fcntl(self.0, crate::F_GETFD))?;
            let flags = if on { flags | crate::FD_CLOEXEC } else { flags & !crate::FD_CLOEXEC };
            check(ffi::fcntl(self.0, crate::F_SETFD, flags)).map(drop)
        }
    }

    /// `ftruncate`.
    pub fn truncate(&self, length: u64) -> Result<()> {
        // SAFETY: no pointers.
        check(unsafe { ffi::ftruncate(self.0, length as i64) }).map(drop)
    }

    /// `fsync`.
    pub fn sync(&self) -> Result<()> {
        // SAFETY: no pointers.
        check(unsafe { ffi::fsync(self.0) }).map(drop)
    }

    /// `fchmod`.
    pub fn set_mode(&self, mode: u32) -> Result<()> {
        // SAFETY: no pointers.
        check(unsafe { ffi::fchmod(self.0, mode) }).map(drop)
    }

    /// `fchown` (`u32::MAX` leaves an id unchanged).
    pub fn set_owner(&self, user: u32, group: u32) -> Result<()> {
        // SAFETY: no pointers.
        check(unsafe { ffi::fchown(self.0, user, group) }).map(drop)
    }

    /// `futimens`: access and modification times (`None`: now).
    pub fn set_times(&self, times: Option<[Timespec; 2]>) -> Result<()> {
        let pointer = times.as_ref().map_or(core::ptr::null(), |pair| pair.as_ptr());
        // SAFETY: null or two timespecs.
        check(unsafe { ffi::futimens(self.0, pointer) }).map(drop)
    }

    /// `fchdir`.
    pub fn change_directory(&self) -> Result<()> {
        // SAFETY: no pointers.
        check(unsafe { ffi::fchdir(self.0) }).map(drop)
    }

    /// Whether the descriptor is a terminal.
    pub fn is_terminal(&self) -> bool {
        is_terminal(self.0)
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: no pointers; the descriptor is ours.
        unsafe { ffi::close(self.0) };
    }
}

/// `open(path, flags, mode)`.
pub fn open<P: CPath + ?Sized>(path: &P, flags: i32, mode: u32) -> Result<Fd> {
    // SAFETY: a NUL-terminated path; the mode is read only with O_CREAT.
    path.with_c_path(|path| retry(|| unsafe { ffi::open(path.as_ptr().cast(), flags, mode) }))?.map(Fd)
}

/// `openat(directory, path, flags, mode)`.
pub fn open_at<P: CPath + ?Sized>(directory: &Fd, path: &P, flags: i32, mode: u32) -> Result<Fd> {
    path.with_c_path(|path| {
        // SAFETY: a NUL-terminated path.
        retry(|| unsafe { ffi::openat(directory.raw(), path.as_ptr().cast(), flags, mode) })
    })?
    .map(Fd)
}

/// `pipe2(flags)`: the read end, then the write end.
pub fn pipe(flags: i32) -> Result<(Fd, Fd)> {
    let mut fds = [0i32; 2];
    // SAFETY: two writable ints.
    check(unsafe { ffi::pipe2(fds.as_mut_ptr(), flags) })?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// `dup2(from, to)`: makes descriptor `to` a copy of `from`; the caller owns `to`'s number.
pub fn duplicate_onto(from: i32, to: i32) -> Result<()> {
    // SAFETY: no pointers.
    retry(|| unsafe { ffi::dup2(from, to) }).map(drop)
}

/// `read` on a raw descriptor (0, or one owned elsewhere), retrying on EINTR.
pub fn read(fd: i32, buffer: &mut [u8]) -> Result<usize> {
    loop {
        // SAFETY: the buffer is writable for its length.
        match check_size(unsafe { ffi::read(fd, buffer.as_mut_ptr(), buffer.len()) }) {
            Err(Errno(crate::EINTR)) => continue,
            other => return other,
        }
    }
}

/// `read` on a raw descriptor once: EINTR comes back as an error, so a
/// caught signal ends a read waiting at a terminal or pipe.
pub fn read_once(fd: i32, buffer: &mut [u8]) -> Result<usize> {
    // SAFETY: the buffer is writable for its length.
    check_size(unsafe { ffi::read(fd, buffer.as_mut_ptr(), buffer.len()) })
}

/// `write` on a raw descriptor, retrying on EINTR.
pub fn write(fd: i32, buffer: &[u8]) -> Result<usize> {
    loop {
        // SAFETY: the buffer is readable for its length.
        match check_size(unsafe { ffi::write(fd, buffer.as_ptr(), buffer.len()) }) {
            Err(Errno(crate::EINTR)) => continue,
            other => return other,
        }
    }
}

/// Writes all of `buffer` to a raw descriptor.
pub fn write_all(fd: i32, mut buffer: &[u8]) -> Result<()> {
    while !buffer.is_empty() {
        let written = write(fd, buffer)?;
        if written == 0 {
            return Err(Errno(crate::EIO));
        }
        buffer = &buffer[written..];
    }
    Ok(())
}

/// Reads a raw descriptor to end of file, appending to `into`; returns the count.
pub fn read_to_end(fd: i32, into: &mut Vec<u8>) -> Result<usize> {
    let start = into.len();
    loop {
        if into.capacity() - into.len() < 4096 {
            into.reserve(into.capacity().max(8192));
        }
        let spare = into.spare_capacity_mut();
        // SAFETY: `spare` is writable for its length (MaybeUninit bytes may
        // be overwritten), and `read` reports how many it initialised.
        let count = loop {
            match check_size(unsafe { ffi::read(fd, spare.as_mut_ptr().cast(), spare.len()) }) {
                Err(Errno(crate::EINTR)) => continue,
                other => break other?,
            }
        };
        if count == 0 {
            return Ok(into.len() - start);
        }
        // SAFETY: `read` initialised `count` more bytes.
        unsafe { into.set_len(into.len() + count) };
    }
}

/// Waits up to `milliseconds` (-1: for ever) for `fd` to have input;
/// true if it has (or is at its end, or failed: a read will tell).
pub fn wait_readable(fd: i32, milliseconds: i32) -> Result<bool> {
    let mut record = crate::types::Pollfd { fd, events: crate::POLLIN, revents: 0 };
    loop {
        // SAFETY: one valid record.
        match check(unsafe { ffi::poll(&mut record, 1, milliseconds) }) {
            Err(Errno(crate::EINTR)) => continue,
            Err(error) => return Err(error),
            Ok(ready) => return Ok(ready > 0),
        }
    }
}

/// Whether raw descriptor `fd` is a terminal.
pub fn is_terminal(fd: i32) -> bool {
    // SAFETY: no pointers.
    unsafe { ffi::isatty(fd) == 1 }
}
