//! Processes: fork, exec, wait, exit, ids, process groups and sessions, kill.

use crate::error::{check, retry, Errno, Result};
use crate::ffi;
use crate::path::CPath;
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

/// What `fork` returned to this side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forked {
    /// In the child.
    Child,
    /// In the parent, with the child's pid.
    Parent(i32),
}

/// `fork`.
pub fn fork() -> Result<Forked> {
    crate::io::flush_standard_streams();
    // SAFETY: no pointers. The child continues with a copy of this process.
    match check(unsafe { ffi::fork() })? {
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// A NULL-terminated array of C strings, as `execve` and `posix_spawn` take
/// for argv and envp (it owns the strings).
pub struct CStringArray {
    strings: Vec<CString>,
    pointers: Vec<*const u8>,
}

impl CStringArray {
    /// Copies `items`; an item with a NUL inside is `EINVAL`.
    pub fn new<I, T>(items: I) -> Result<CStringArray>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let strings = items
            .into_iter()
            .map(|item| CString::new(item.as_ref()).map_err(|_| Errno(crate::EINVAL)))
            .collect::<Result<Vec<_>>>()?;
        let mut pointers: Vec<*const u8> = strings.iter().map(|text| text.as_ptr().cast()).collect();
        pointers.push(core::ptr::null());
        Ok(CStringArray { strings, pointers })
    }

    /// The NULL-terminated pointer array (valid while `self` lives).
    pub fn as_ptr(&self) -> *const *const u8 {
        self.pointers.as_ptr()
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// `execve(path, arguments, environment)`: returns only with the error.
pub fn execute<P: CPath + ?Sized>(path: &P, arguments: &CStringArray, environment: &CStringArray) -> Errno {
    crate::io::flush_standard_streams();
    let outcome = path.with_c_path(|path| {
        // SAFETY: NUL-terminated path; NULL-terminated arrays that outlive the call.
        unsafe { ffi::execve(path.as_ptr().cast(), arguments.as_ptr(), environment.as_ptr()) };
        Errno::last()
    });
    outcome.unwrap_or_else(|error| error)
}

/// `execvp(file, arguments)` with the current environment: searches PATH.
pub fn execute_searching<P: CPath + ?Sized>(file: &P, arguments: &CStringArray) -> Errno {
    crate::io::flush_standard_streams();
    let outcome = file.with_c_path(|file| {
        // SAFETY: NUL-terminated file; a NULL-terminated array that outlives the call.
        unsafe { ffi::execvp(file.as_ptr().cast(), arguments.as_ptr()) };
        Errno::last()
    });
    outcome.unwrap_or_else(|error| error)
}

/// How a child changed state, from `waitpid`'s status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it (and whether it dumped core).
    Signaled(i32, bool),
    /// A signal stopped it (WUNTRACED).
    Stopped(i32),
    /// SIGCONT resumed it (WCONTINUED).
    Continued,
}

impl WaitStatus {
    /// Decodes a status word as `<sys/wait.h>`'s macros do.
    pub fn from_raw(status: i32) -> WaitStatus {
        let low = status & 0x7f;
        if low == 0 {
            WaitStatus::Exited((status >> 8) & 0xff)
        } else if status & 0xff == 0x7f {
            WaitStatus::Stopped((status >> 8) & 0xff)
        } else if status == 0xffff {
            WaitStatus::Continued
        } else {
            WaitStatus::Signaled(low, status & 0x80 != 0)
        }
    }

    /// The shell's `$?` for this status: the exit status, or 128 + the signal.
    pub fn shell_status(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => code,
            WaitStatus::Signaled(signal, _) | WaitStatus::Stopped(signal) => 128 + signal,
            WaitStatus::Continued => 0,
        }
    }
}

/// `waitpid(pid, options)`, retrying on EINTR. With `WNOHANG` and no child
/// ready it returns `Ok(None)`.
pub fn wait_for(pid: i32, options: i32) -> Result<Option<(i32, WaitStatus)>> {
    let mut status = 0;
    // SAFETY: a writable status word.
    let child = retry(|| unsafe { ffi::waitpid(pid, &mut status, options) })?;
    if child == 0 {
        return Ok(None);
    }
    Ok(Some((child, WaitStatus::from_raw(status))))
}

/// `waitpid(pid, options)` once: EINTR comes back as an error, so a
/// caught signal (a shell's ^C, a trapped signal) ends the wait.
pub fn wait_once(pid: i32, options: i32) -> Result<Option<(i32, WaitStatus)>> {
    let mut status = 0;
    // SAFETY: a writable status word.
    let child = check(unsafe { ffi::waitpid(pid, &mut status, options) })?;
    if child == 0 {
        return Ok(None);
    }
    Ok(Some((child, WaitStatus::from_raw(status))))
}

/// Ends the process: flushes this crate's buffered output, runs atexit
/// handlers and the C library's own flushing, and exits with `status`.
pub fn exit(status: i32) -> ! {
    let status = crate::io::finish_output(status);
    // SAFETY: exit takes no pointers and does not return.
    unsafe { ffi::exit(status) }
}

/// `_exit`: ends the process at once (after a fork, without flushing the
/// parent's buffers a second time).
pub fn exit_immediately(status: i32) -> ! {
    // SAFETY: no pointers.
    unsafe { ffi::_exit(status) }
}

/// `abort`.
pub fn abort() -> ! {
    // SAFETY: no pointers.
    unsafe { ffi::abort() }
}

pub fn process_id() -> i32 {
    // SAFETY: no pointers.
    unsafe { ffi::getpid() }
}

pub fn parent_process_id() -> i32 {
    // SAFETY: no pointers.
    unsafe { ffi::getppid() }
}

pub fn user_id() -> u32 {
    // SAFETY: no pointers.
    unsafe { ffi::getuid() }
}

pub fn effective_user_id() -> u32 {
    // SAFETY: no pointers.
    unsafe { ffi::geteuid() }
}

pub fn group_id() -> u32 {
    // SAFETY: no pointers.
    unsafe { ffi::getgid() }
}

pub fn effective_group_id() -> u32 {
    // SAFETY: no pointers.
    unsafe { ffi::getegid() }
}

/// `setpgid(pid, group)` (0 for either means the caller / a new group).
pub fn set_process_group(pid: i32, group: i32) -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { ffi::setpgid(pid, group) }).map(drop)
}

/// `getpgid(pid)`.
pub fn process_group_of(pid: i32) -> Result<i32> {
    // SAFETY: no pointers.
    check(unsafe { ffi::getpgid(pid) })
}

/// `getpgrp()`.
pub fn process_group() -> i32 {
    // SAFETY: no pointers.
    unsafe { ffi::getpgrp() }
}

/// `setsid()`: a new session led by the caller; returns its id.
pub fn create_session() -> Result<i32> {
    // SAFETY: no pointers.
    check(unsafe { ffi::setsid() })
}

/// `getsid(pid)`.
pub fn session_of(pid: i32) -> Result<i32> {
    // SAFETY: no pointers.
    check(unsafe { ffi::getsid(pid) })
}

/// `kill(pid, signal)`: a negative pid names a process group; signal 0 checks existence.
pub fn kill(pid: i32, signal: i32) -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { ffi::kill(pid, signal) }).map(drop)
}

/// The NUL-terminated strings of a C array as byte slices.
///
/// # Safety
/// `array` is null or a NULL-terminated array of NUL-terminated strings that
/// live for `'a`.
pub unsafe fn c_array<'a>(array: *const *const u8) -> Vec<&'a [u8]> {
    let mut items = Vec::new();
    if array.is_null() {
        return items;
    }
    let mut index = 0;
    // SAFETY: the caller's contract.
    unsafe {
        while !(*array.add(index)).is_null() {
            items.push(crate::c_string_bytes(*array.add(index)));
            index += 1;
        }
    }
    items
}

/// A `CStr` from a byte string that has no NUL inside (as argv entries).
pub fn c_string(bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|_| Errno(crate::EINVAL))
}

/// The bytes of `text` without its NUL.
pub fn c_str_bytes(text: &CStr) -> &[u8] {
    text.to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_decode_as_the_c_macros_do() {
        assert_eq!(WaitStatus::from_raw(0), WaitStatus::Exited(0));
        assert_eq!(WaitStatus::from_raw(3 << 8), WaitStatus::Exited(3));
        assert_eq!(WaitStatus::from_raw(9), WaitStatus::Signaled(9, false));
        assert_eq!(WaitStatus::from_raw(0x80 | 11), WaitStatus::Signaled(11, true));
        assert_eq!(WaitStatus::from_raw((20 << 8) | 0x7f), WaitStatus::Stopped(20));
        assert_eq!(WaitStatus::from_raw(0xffff), WaitStatus::Continued);
        assert_eq!(WaitStatus::Signaled(2, false).shell_status(), 130);
    }

    #[test]
    fn string_arrays_end_with_null() {
        let array = CStringArray::new(["ls", "-l"]).unwrap();
        assert_eq!(array.len(), 2);
        // SAFETY: the array is NULL-terminated and alive.
        let items = unsafe { c_array(array.as_ptr()) };
        assert_eq!(items, [&b"ls"[..], b"-l"]);
        assert!(CStringArray::new(["a\0b"]).is_err());
    }
}
