//! POSIX semaphores (`<semaphore.h>`).
//!
//! The count is a word in the `sem_t` itself, changed with atomic
//! instructions, so a semaphore in memory several processes share (a
//! `MAP_SHARED` mapping made before fork, or a named semaphore: a file
//! mapped shared) is one semaphore for all of them. A waiter blocks with the
//! platform's `wait_for_change` (Linux: a futex; Mach_R, which has no
//! futex: short sleeps, checking the count between them) and `sem_post`
//! wakes waiters with `wake_waiters`.

use super::{c_string, set_errno};
use crate::errno_table::{EAGAIN, EEXIST, EINTR, EINVAL, ENAMETOOLONG, EOVERFLOW, ETIMEDOUT};
use crate::platform::{self, Errno, AT_FDCWD};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

/// `sem_t` (32 bytes, as `<semaphore.h>` and glibc lay it out).
#[repr(C)]
pub struct Semaphore {
    value: AtomicU32,
    waiters: AtomicU32,
    shared: i32,
    padding: i32,
    reserved: [u64; 2],
}

const VALUE_MAX: u32 = i32::MAX as u32;

fn fail(error: i32) -> i32 {
    set_errno(error);
    -1
}

#[no_mangle]
pub unsafe extern "C" fn sem_init(semaphore: *mut Semaphore, shared: i32, value: u32) -> i32 {
    if value > VALUE_MAX {
        return fail(EINVAL);
    }
    // SAFETY: C's contract: a writable sem_t.
    unsafe {
        semaphore.write(Semaphore {
            value: AtomicU32::new(value),
            waiters: AtomicU32::new(0),
            shared: i32::from(shared != 0),
            padding: 0,
            reserved: [0; 2],
        })
    };
    0
}

#[no_mangle]
pub extern "C" fn sem_destroy(_semaphore: *mut Semaphore) -> i32 {
    0
}

/// Takes one unit if there is one.
fn try_take(semaphore: &Semaphore) -> bool {
    let mut value = semaphore.value.load(Ordering::Acquire);
    while value > 0 {
        match semaphore.value.compare_exchange_weak(value, value - 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return true,
            Err(current) => value = current,
        }
    }
    false
}

#[no_mangle]
pub unsafe extern "C" fn sem_trywait(semaphore: *mut Semaphore) -> i32 {
    // SAFETY: C's contract: an initialized sem_t.
    if try_take(unsafe { &*semaphore }) {
        0
    } else {
        fail(EAGAIN)
    }
}

/// Waits for a unit until `deadline` (CLOCK_REALTIME nanoseconds; None: no
/// end). EINTR when a handler interrupts the wait (never restarted, as
/// POSIX says of sem_wait).
fn take(semaphore: &Semaphore, deadline: Option<u64>) -> i32 {
    let shared = semaphore.shared != 0;
    let mut patience = 0u32;
    loop {
        if try_take(semaphore) {
            return 0;
        }
        let timeout = match deadline {
            None => None,
            Some(deadline) => {
                let now = realtime();
                if now >= deadline {
                    return fail(ETIMEDOUT);
                }
                Some(deadline - now)
            }
        };
        semaphore.waiters.fetch_add(1, Ordering::AcqRel);
        let waited = platform::wait_for_change(&semaphore.value, 0, shared, timeout, patience);
        semaphore.waiters.fetch_sub(1, Ordering::AcqRel);
        patience = patience.saturating_add(1);
        match waited {
            Err(Errno(EINTR)) => return fail(EINTR),
            Err(Errno(error)) if error != ETIMEDOUT && error != EAGAIN => return fail(error),
            _ => {}
        }
    }
}

fn realtime() -> u64 {
    let mut now = [0i64; 2];
    // SAFETY: a local timespec.
    let _ = unsafe { platform::clock_gettime(0, now.as_mut_ptr()) };
    now[0] as u64 * 1_000_000_000 + now[1] as u64
}

#[no_mangle]
pub unsafe extern "C" fn sem_wait(semaphore: *mut Semaphore) -> i32 {
    // SAFETY: C's contract: an initialized sem_t.
    take(unsafe { &*semaphore }, None)
}

#[no_mangle]
pub unsafe extern "C" fn sem_timedwait(semaphore: *mut Semaphore, deadline: *const i64) -> i32 {
    // SAFETY: C's contract: an initialized sem_t.
    let semaphore = unsafe { &*semaphore };
    if try_take(semaphore) {
        return 0;
    }
    // SAFETY: a readable timespec.
    let [seconds, nanoseconds] = unsafe { core::ptr::read_unaligned(deadline as *const [i64; 2]) };
    if !(0..1_000_000_000).contains(&nanoseconds) {
        return fail(EINVAL);
    }
    let deadline = if seconds < 0 { 0 } else { seconds as u64 * 1_000_000_000 + nanoseconds as u64 };
    take(semaphore, Some(deadline))
}

#[no_mangle]
pub unsafe extern "C" fn sem_post(semaphore: *mut Semaphore) -> i32 {
    // SAFETY: C's contract: an initialized sem_t.
    let semaphore = unsafe { &*semaphore };
    let mut value = semaphore.value.load(Ordering::Acquire);
    loop {
        if value >= VALUE_MAX {
            return fail(EOVERFLOW);
        }
        match semaphore.value.compare_exchange_weak(value, value + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(current) => value = current,
        }
    }
    if semaphore.waiters.load(Ordering::Acquire) > 0 {
        platform::wake_waiters(&semaphore.value, semaphore.shared != 0, 1);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn sem_getvalue(semaphore: *mut Semaphore, value: *mut i32) -> i32 {
    // SAFETY: C's contract: an initialized sem_t and a writable int.
    unsafe { *value = (*semaphore).value.load(Ordering::Acquire) as i32 };
    0
}

/// The file of named semaphore `name` ("/NAME": one leading slash, no
/// other), NUL-terminated.
///
/// # Safety
/// `name` NUL-terminated.
unsafe fn named_path(name: *const u8) -> Result<Vec<u8>, i32> {
    // SAFETY: the caller's string.
    let name = unsafe { c_string(name) };
    let name = name.strip_prefix(b"/").unwrap_or(name);
    if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
        return Err(EINVAL);
    }
    if name.len() > 251 {
        return Err(ENAMETOOLONG);
    }
    let mut path = platform::SHARED_MEMORY_DIRECTORY.to_vec();
    path.extend_from_slice(b"sem.");
    path.extend_from_slice(name);
    path.push(0);
    Ok(path)
}

const O_RDWR: i32 = 2;
const O_CREAT: i32 = 0o100;
const O_EXCL: i32 = 0o200;
const O_CLOEXEC: i32 = 0o2000000;
const PROT_READ_WRITE: i32 = 3;
const MAP_SHARED: i32 = 1;

/// Makes the file of a new semaphore under a temporary name, then links it
/// into place, so nobody ever opens a half-made one. Ok(false): it exists.
fn create_named(path: &[u8], mode: u32, value: u32) -> Result<bool, i32> {
    let mut temporary = platform::SHARED_MEMORY_DIRECTORY.to_vec();
    let mut seed = [0u8; 8];
    // SAFETY: a local buffer.
    let _ = unsafe { platform::getrandom(seed.as_mut_ptr(), seed.len(), 0) };
    temporary.extend_from_slice(b"sem.new-");
    for byte in seed {
        temporary.push(b'a' + byte % 26);
    }
    temporary.push(0);
    // SAFETY: NUL-terminated paths; a local record.
    unsafe {
        let fd = platform::open_at(AT_FDCWD, temporary.as_ptr(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            .map_err(|error| error.0)? as i32;
        let record = [value, 0, 1, 0, 0, 0, 0, 0];
        let written = platform::write(fd, record.as_ptr() as *const u8, 32);
        let _ = platform::close(fd);
        let linked = match written {
            Ok(32) => platform::link_at(AT_FDCWD, temporary.as_ptr(), AT_FDCWD, path.as_ptr(), 0),
            Ok(_) => Err(Errno(crate::errno_table::EIO)),
            Err(error) => Err(error),
        };
        let _ = platform::unlink_at(AT_FDCWD, temporary.as_ptr(), 0);
        match linked {
            Ok(_) => Ok(true),
            Err(Errno(EEXIST)) => Ok(false),
            Err(error) => Err(error.0),
        }
    }
}

/// sem_open's body (the variadic entry is in crt/variadic.c).
#[no_mangle]
pub unsafe extern "C" fn __minilibc_sem_open(name: *const u8, flags: i32, mode: u32, value: u32) -> *mut Semaphore {
    let opened = (|| -> Result<*mut Semaphore, i32> {
        // SAFETY: C's contract: a NUL-terminated name.
        let path = unsafe { named_path(name) }?;
        if flags & O_CREAT != 0 {
            if value > VALUE_MAX {
                return Err(EINVAL);
            }
            if !create_named(&path, mode, value)? && flags & O_EXCL != 0 {
                return Err(EEXIST);
            }
        }
        // SAFETY: a NUL-terminated path; the mapping is ours to hand out.
        unsafe {
            let fd = platform::open_at(AT_FDCWD, path.as_ptr(), O_RDWR | O_CLOEXEC, 0).map_err(|error| error.0)? as i32;
            let mapped = platform::mmap(core::ptr::null_mut(), 32, PROT_READ_WRITE, MAP_SHARED, fd, 0);
            let _ = platform::close(fd);
            mapped.map(|address| address as *mut Semaphore).map_err(|error| error.0)
        }
    })();
    match opened {
        Ok(semaphore) => semaphore,
        Err(error) => {
            set_errno(error);
            core::ptr::null_mut()
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn sem_close(semaphore: *mut Semaphore) -> i32 {
    // SAFETY: a semaphore sem_open mapped (a page of its own).
    match unsafe { platform::munmap(semaphore as *mut u8, 32) } {
        Ok(_) => 0,
        Err(error) => fail(error.0),
    }
}

#[no_mangle]
pub unsafe extern "C" fn sem_unlink(name: *const u8) -> i32 {
    // SAFETY: C's contract: a NUL-terminated name.
    let path = match unsafe { named_path(name) } {
        Ok(path) => path,
        Err(error) => return fail(error),
    };
    // SAFETY: a NUL-terminated path.
    match unsafe { platform::unlink_at(AT_FDCWD, path.as_ptr(), 0) } {
        Ok(_) => 0,
        Err(error) => fail(error.0),
    }
}
