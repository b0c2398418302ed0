//! POSIX system interfaces (`<unistd.h>`, `<fcntl.h>`, `<sys/stat.h>`,
//! `<signal.h>`, `<dirent.h>`, `<termios.h>`, `<poll.h>`, `<sys/wait.h>`,
//! `<sys/mman.h>`, `<sys/utsname.h>`, getopt): thin C-convention wrappers
//! over the platform layer.

use super::memory::{free, malloc, memcpy, memset};
use super::runtime::environ;
use super::{c_result, c_string, set_errno, CGlobal};
use crate::errno_table::{EBADF, EINTR, EINVAL, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTTY};
use crate::platform::{self, AT_FDCWD};
use alloc::vec::Vec;
use core::ptr;

const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
const AT_REMOVEDIR: i32 = 0x200;

macro_rules! wrap {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:expr;)*) => {
        $(
            #[no_mangle]
            pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
                // SAFETY: the pointer arguments satisfy the C function's
                // documented contract, which is the platform call's.
                #[allow(unused_unsafe)]
                unsafe { c_result($body) as $ret }
            }
        )*
    };
}

wrap! {
    fn read(fd: i32, buffer: *mut u8, count: usize) -> isize = platform::read(fd, buffer, count);
    fn write(fd: i32, buffer: *const u8, count: usize) -> isize = platform::write(fd, buffer, count);
    fn pread(fd: i32, buffer: *mut u8, count: usize, offset: i64) -> isize = platform::read_at(fd, buffer, count, offset);
    fn pwrite(fd: i32, buffer: *const u8, count: usize, offset: i64) -> isize = platform::write_at(fd, buffer, count, offset);
    fn __minilibc_open(path: *const u8, flags: i32, mode: u32) -> i32 = platform::open_at(AT_FDCWD, path, flags, mode);
    fn __minilibc_openat(dir: i32, path: *const u8, flags: i32, mode: u32) -> i32 = platform::open_at(dir, path, flags, mode);
    fn creat(path: *const u8, mode: u32) -> i32 = platform::open_at(AT_FDCWD, path, 0o1101, mode);
    fn close(fd: i32) -> i32 = platform::close(fd);
    fn lseek(fd: i32, offset: i64, whence: i32) -> i64 = platform::seek(fd, offset, whence);
    fn dup(fd: i32) -> i32 = platform::dup(fd);
    fn dup3(old: i32, new: i32, flags: i32) -> i32 = platform::dup3(old, new, flags);
    fn pipe2(fds: *mut i32, flags: i32) -> i32 = platform::pipe2(fds, flags);
    fn pipe(fds: *mut i32) -> i32 = platform::pipe2(fds, 0);
    fn __minilibc_fcntl(fd: i32, command: i32, argument: usize) -> i32 = platform::fcntl(fd, command, argument);
    fn __minilibc_ioctl(fd: i32, request: u64, argument: usize) -> i32 = platform::ioctl(fd, request, argument);
    fn stat(path: *const u8, buffer: *mut u8) -> i32 = platform::stat_at(AT_FDCWD, path, buffer, 0);
    fn lstat(path: *const u8, buffer: *mut u8) -> i32 = platform::stat_at(AT_FDCWD, path, buffer, AT_SYMLINK_NOFOLLOW);
    fn fstat(fd: i32, buffer: *mut u8) -> i32 = platform::fstat(fd, buffer);
    fn fstatat(dir: i32, path: *const u8, buffer: *mut u8, flags: i32) -> i32 = platform::stat_at(dir, path, buffer, flags);
    fn access(path: *const u8, mode: i32) -> i32 = platform::access_at(AT_FDCWD, path, mode);
    fn faccessat(dir: i32, path: *const u8, mode: i32, _flags: i32) -> i32 = platform::access_at(dir, path, mode);
    fn chmod(path: *const u8, mode: u32) -> i32 = platform::chmod_at(AT_FDCWD, path, mode);
    fn fchmod(fd: i32, mode: u32) -> i32 = platform::fchmod(fd, mode);
    fn chown(path: *const u8, user: u32, group: u32) -> i32 = platform::chown_at(AT_FDCWD, path, user, group, 0);
    fn lchown(path: *const u8, user: u32, group: u32) -> i32 = platform::chown_at(AT_FDCWD, path, user, group, AT_SYMLINK_NOFOLLOW);
    fn mkdir(path: *const u8, mode: u32) -> i32 = platform::mkdir_at(AT_FDCWD, path, mode);
    fn mkdirat(dir: i32, path: *const u8, mode: u32) -> i32 = platform::mkdir_at(dir, path, mode);
    fn rmdir(path: *const u8) -> i32 = platform::unlink_at(AT_FDCWD, path, AT_REMOVEDIR);
    fn unlink(path: *const u8) -> i32 = platform::unlink_at(AT_FDCWD, path, 0);
    fn unlinkat(dir: i32, path: *const u8, flags: i32) -> i32 = platform::unlink_at(dir, path, flags);
    fn rename(old: *const u8, new: *const u8) -> i32 = platform::rename_at(AT_FDCWD, old, AT_FDCWD, new);
    fn renameat(old_dir: i32, old: *const u8, new_dir: i32, new: *const u8) -> i32 = platform::rename_at(old_dir, old, new_dir, new);
    fn link(old: *const u8, new: *const u8) -> i32 = platform::link_at(AT_FDCWD, old, AT_FDCWD, new, 0);
    fn symlink(target: *const u8, path: *const u8) -> i32 = platform::symlink_at(target, AT_FDCWD, path);
    fn readlink(path: *const u8, buffer: *mut u8, size: usize) -> isize = platform::readlink_at(AT_FDCWD, path, buffer, size);
    fn truncate(path: *const u8, length: i64) -> i32 = platform::truncate(path, length);
    fn ftruncate(fd: i32, length: i64) -> i32 = platform::ftruncate(fd, length);
    fn fsync(fd: i32) -> i32 = platform::fsync(fd);
    fn fdatasync(fd: i32) -> i32 = platform::fsync(fd);
    fn chdir(path: *const u8) -> i32 = platform::chdir(path);
    fn fchdir(fd: i32) -> i32 = platform::fchdir(fd);
    fn fork() -> i32 = platform::fork();
    fn vfork() -> i32 = platform::fork();
    fn execve(path: *const u8, arguments: *const *const u8, environment: *const *const u8) -> i32 = platform::execve(path, arguments, environment);
    fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut u8) -> i32 = platform::wait4(pid, status, options, usage);
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32 = platform::wait4(pid, status, options, ptr::null_mut());
    fn wait(status: *mut i32) -> i32 = platform::wait4(-1, status, 0, ptr::null_mut());
    fn kill(pid: i32, signal: i32) -> i32 = platform::kill(pid, signal);
    fn killpg(group: i32, signal: i32) -> i32 = platform::kill(-group, signal);
    fn setpgid(pid: i32, group: i32) -> i32 = platform::setpgid(pid, group);
    fn getpgid(pid: i32) -> i32 = platform::getpgid(pid);
    fn setsid() -> i32 = platform::setsid();
    fn getsid(pid: i32) -> i32 = platform::getsid(pid);
    fn sigpending(set: *mut u64) -> i32 = platform::sigpending(set);
    fn sigsuspend(mask: *const u64) -> i32 = platform::sigsuspend(mask);
    fn munmap(address: *mut u8, length: usize) -> i32 = platform::munmap(address, length);
    fn mprotect(address: *mut u8, length: usize, protection: i32) -> i32 = platform::mprotect(address, length, protection);
    fn uname(name: *mut u8) -> i32 = platform::uname(name);
    fn __minilibc_poll(fds: *mut u8, count: u64, timeout: i32) -> i32 = platform::poll(fds, count, timeout);
    fn select(count: i32, read_set: *mut u8, write_set: *mut u8, except_set: *mut u8, timeout: *mut u8) -> i32 = platform::select(count, read_set, write_set, except_set, timeout);
    fn getrandom(buffer: *mut u8, length: usize, flags: u32) -> isize = platform::getrandom(buffer, length, flags);
    fn msync(address: *mut u8, length: usize, flags: i32) -> i32 = platform::msync(address, length, flags);
    fn mknod(path: *const u8, mode: u32, device: u64) -> i32 = platform::mknod_at(AT_FDCWD, path, mode, device);
    fn mknodat(dir: i32, path: *const u8, mode: u32, device: u64) -> i32 = platform::mknod_at(dir, path, mode, device);
    fn mkfifo(path: *const u8, mode: u32) -> i32 = platform::mknod_at(AT_FDCWD, path, S_IFIFO | (mode & 0o7777), 0);
    fn mkfifoat(dir: i32, path: *const u8, mode: u32) -> i32 = platform::mknod_at(dir, path, S_IFIFO | (mode & 0o7777), 0);
    fn flock(fd: i32, operation: i32) -> i32 = platform::flock(fd, operation);
    fn sigaltstack(new: *const u8, old: *mut u8) -> i32 = platform::sigaltstack(new, old);
    fn setgroups(size: usize, list: *const u32) -> i32 = platform::setgroups(size, list);
    fn setuid(user: u32) -> i32 = platform::set_ids(0, 0, i64::from(user), -1, -1);
    fn setgid(group: u32) -> i32 = platform::set_ids(1, 0, i64::from(group), -1, -1);
    fn setreuid(real: u32, effective: u32) -> i32 = platform::set_ids(0, 1, id_or_keep(real), id_or_keep(effective), -1);
    fn setregid(real: u32, effective: u32) -> i32 = platform::set_ids(1, 1, id_or_keep(real), id_or_keep(effective), -1);
    fn setresuid(real: u32, effective: u32, saved: u32) -> i32 = platform::set_ids(0, 2, id_or_keep(real), id_or_keep(effective), id_or_keep(saved));
    fn setresgid(real: u32, effective: u32, saved: u32) -> i32 = platform::set_ids(1, 2, id_or_keep(real), id_or_keep(effective), id_or_keep(saved));
    fn seteuid(effective: u32) -> i32 = platform::set_ids(0, 3, -1, i64::from(effective), -1);
    fn setegid(effective: u32) -> i32 = platform::set_ids(1, 3, -1, i64::from(effective), -1);
}

const S_IFIFO: u32 = 0o010000;

/// An id argument of the setuid family: `(uid_t)-1` keeps the id.
fn id_or_keep(id: u32) -> i64 {
    if id == u32::MAX {
        -1
    } else {
        i64::from(id)
    }
}

/// getresuid/getresgid: the real, effective and saved ids.
unsafe fn get_ids(which: u32, real: *mut u32, effective: *mut u32, saved: *mut u32) -> i32 {
    match platform::get_ids(which) {
        Ok([r, e, s]) => {
            // SAFETY: C's contract: three writable ids.
            unsafe {
                *real = r;
                *effective = e;
                *saved = s;
            }
            0
        }
        Err(error) => {
            set_errno(error.0);
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn getresuid(real: *mut u32, effective: *mut u32, saved: *mut u32) -> i32 {
    // SAFETY: forwarded.
    unsafe { get_ids(0, real, effective, saved) }
}

#[no_mangle]
pub unsafe extern "C" fn getresgid(real: *mut u32, effective: *mut u32, saved: *mut u32) -> i32 {
    // SAFETY: forwarded.
    unsafe { get_ids(1, real, effective, saved) }
}

/// `struct itimerval`: interval then value, two timevals.
fn timer_microseconds(timeval: [i64; 2]) -> Option<u64> {
    if timeval[0] < 0 || !(0..1_000_000).contains(&timeval[1]) {
        return None;
    }
    Some(timeval[0] as u64 * 1_000_000 + timeval[1] as u64)
}

fn write_itimerval(out: *mut i64, (value, interval): (u64, u64)) {
    if out.is_null() {
        return;
    }
    let words = [
        (interval / 1_000_000) as i64,
        (interval % 1_000_000) as i64,
        (value / 1_000_000) as i64,
        (value % 1_000_000) as i64,
    ];
    // SAFETY: the callers pass a writable struct itimerval.
    unsafe { core::ptr::write_unaligned(out as *mut [i64; 4], words) };
}

const ITIMER_REAL: i32 = 0;

/// setitimer: ITIMER_REAL only (the process server's timer, which sends
/// SIGALRM); the CPU-time timers ITIMER_VIRTUAL and ITIMER_PROF are not
/// provided (EINVAL).
#[no_mangle]
pub unsafe extern "C" fn setitimer(which: i32, new: *const i64, old: *mut i64) -> i32 {
    if which != ITIMER_REAL || new.is_null() {
        set_errno(EINVAL);
        return -1;
    }
    // SAFETY: a readable struct itimerval.
    let words = unsafe { core::ptr::read_unaligned(new as *const [i64; 4]) };
    let (Some(interval), Some(value)) =
        (timer_microseconds([words[0], words[1]]), timer_microseconds([words[2], words[3]]))
    else {
        set_errno(EINVAL);
        return -1;
    };
    match platform::real_timer(Some((value, interval))) {
        Ok(previous) => {
            write_itimerval(old, previous);
            0
        }
        Err(error) => {
            set_errno(error.0);
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn getitimer(which: i32, current: *mut i64) -> i32 {
    if which != ITIMER_REAL {
        set_errno(EINVAL);
        return -1;
    }
    match platform::real_timer(None) {
        Ok(now) => {
            write_itimerval(current, now);
            0
        }
        Err(error) => {
            set_errno(error.0);
            -1
        }
    }
}

/// sched_yield: gives the processor to another thread.
#[no_mangle]
pub extern "C" fn sched_yield() -> i32 {
    platform::yield_processor();
    0
}

#[no_mangle]
pub extern "C" fn poll(fds: *mut u8, count: u64, timeout: i32) -> i32 {
    // SAFETY: C's contract: `fds` holds `count` records.
    unsafe { __minilibc_poll(fds, count, timeout) }
}

#[no_mangle]
pub unsafe extern "C" fn mmap(
    address: *mut u8,
    length: usize,
    protection: i32,
    flags: i32,
    fd: i32,
    offset: i64,
) -> *mut u8 {
    // SAFETY: C's mmap contract.
    match unsafe { platform::mmap(address, length, protection, flags, fd, offset) } {
        Ok(mapped) => mapped as *mut u8,
        Err(error) => {
            set_errno(error.0);
            usize::MAX as *mut u8
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn __minilibc_mremap(
    address: *mut u8,
    old_length: usize,
    new_length: usize,
    flags: i32,
    new_address: *mut u8,
) -> *mut u8 {
    // SAFETY: C's mremap contract.
    match unsafe { platform::mremap(address, old_length, new_length, flags, new_address) } {
        Ok(mapped) => mapped as *mut u8,
        Err(error) => {
            set_errno(error.0);
            usize::MAX as *mut u8
        }
    }
}

#[no_mangle]
pub extern "C" fn dup2(old: i32, new: i32) -> i32 {
    if old == new {
        // dup3 refuses equal descriptors; dup2 checks validity and returns it.
        // SAFETY: F_GETFD takes no pointer.
        return if c_result(unsafe { platform::fcntl(old, 1, 0) }) < 0 { -1 } else { new };
    }
    c_result(platform::dup3(old, new, 0)) as i32
}

#[no_mangle]
pub extern "C" fn sync() {
    platform::sync()
}

#[no_mangle]
pub extern "C" fn umask(mask: u32) -> u32 {
    platform::umask(mask)
}

#[no_mangle]
pub extern "C" fn getpid() -> i32 {
    platform::getpid()
}
#[no_mangle]
pub extern "C" fn getppid() -> i32 {
    platform::getppid()
}
#[no_mangle]
pub extern "C" fn getuid() -> u32 {
    platform::getuid()
}
#[no_mangle]
pub extern "C" fn geteuid() -> u32 {
    platform::geteuid()
}
#[no_mangle]
pub extern "C" fn getgid() -> u32 {
    platform::getgid()
}
#[no_mangle]
pub extern "C" fn getegid() -> u32 {
    platform::getegid()
}
#[no_mangle]
pub extern "C" fn getpgrp() -> i32 {
    platform::getpgid(0).unwrap_or(0) as i32
}
#[no_mangle]
pub extern "C" fn setpgrp() -> i32 {
    c_result(platform::setpgid(0, 0)) as i32
}
#[no_mangle]
pub extern "C" fn alarm(seconds: u32) -> u32 {
    platform::alarm(seconds)
}

#[no_mangle]
pub extern "C" fn isatty(fd: i32) -> i32 {
    let mut terminal = [0u8; 60];
    // SAFETY: TCGETS writes a kernel termios (36 bytes) into the buffer.
    match unsafe { platform::ioctl(fd, 0x5401, terminal.as_mut_ptr() as usize) } {
        Ok(_) => 1,
        Err(_) => {
            set_errno(ENOTTY);
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn getcwd(buffer: *mut u8, size: usize) -> *mut u8 {
    // SAFETY: `buffer` holds `size` bytes, or is null (we allocate).
    unsafe {
        if buffer.is_null() {
            let capacity = if size == 0 { 4096 } else { size };
            let fresh = malloc(capacity);
            if fresh.is_null() {
                return fresh;
            }
            if getcwd(fresh, capacity).is_null() {
                free(fresh);
                return ptr::null_mut();
            }
            return fresh;
        }
        if size == 0 {
            set_errno(EINVAL);
            return ptr::null_mut();
        }
        if c_result(platform::getcwd(buffer, size)) < 0 {
            return ptr::null_mut();
        }
        buffer
    }
}

#[no_mangle]
pub unsafe extern "C" fn execv(path: *const u8, arguments: *const *const u8) -> i32 {
    // SAFETY: forwarded.
    unsafe { execve(path, arguments, environ.get() as *const *const u8) }
}

#[no_mangle]
pub unsafe extern "C" fn execvp(file: *const u8, arguments: *const *const u8) -> i32 {
    // SAFETY: forwarded.
    unsafe { execvpe(file, arguments, environ.get() as *const *const u8) }
}

#[no_mangle]
pub unsafe extern "C" fn execvpe(file: *const u8, arguments: *const *const u8, environment: *const *const u8) -> i32 {
    // SAFETY: NUL-terminated file name; NULL-terminated arrays.
    unsafe {
        let name = c_string(file);
        if name.is_empty() {
            set_errno(ENOENT);
            return -1;
        }
        if name.contains(&b'/') {
            return execve(file, arguments, environment);
        }
        let path_variable = super::runtime::getenv(c"PATH".as_ptr().cast::<u8>());
        let search: &[u8] = if path_variable.is_null() { b"/bin:/usr/bin" } else { c_string(path_variable) };
        let mut last_error = ENOENT;
        for directory in search.split(|&b| b == b':') {
            let mut candidate: Vec<u8> = Vec::with_capacity(directory.len() + name.len() + 2);
            candidate.extend_from_slice(if directory.is_empty() { b"." } else { directory });
            candidate.push(b'/');
            candidate.extend_from_slice(name);
            candidate.push(0);
            if let Err(error) = platform::execve(candidate.as_ptr(), arguments, environment) {
                // EACCES is remembered but the search goes on, as in glibc.
                if error.0 != ENOENT && error.0 != ENOTDIR {
                    last_error = error.0;
                }
            }
        }
        set_errno(last_error);
        -1
    }
}

#[no_mangle]
pub extern "C" fn sleep(seconds: u32) -> u32 {
    let request = [seconds as i64, 0];
    let mut remaining = [0i64; 2];
    // SAFETY: valid timespec records.
    match unsafe { platform::nanosleep(request.as_ptr(), remaining.as_mut_ptr()) } {
        Ok(_) => 0,
        Err(_) => remaining[0] as u32 + u32::from(remaining[1] > 0),
    }
}

#[no_mangle]
pub extern "C" fn usleep(microseconds: u32) -> i32 {
    let request = [(microseconds / 1_000_000) as i64, (microseconds % 1_000_000) as i64 * 1000];
    // SAFETY: valid timespec.
    c_result(unsafe { platform::nanosleep(request.as_ptr(), ptr::null_mut()) }) as i32
}

#[no_mangle]
pub extern "C" fn pause() -> i32 {
    let mut mask = 0u64;
    // SAFETY: valid masks; suspending with the current mask waits for any signal.
    unsafe {
        let _ = platform::sigprocmask(0, ptr::null(), &mut mask);
        c_result(platform::sigsuspend(&mask)) as i32
    }
}

#[no_mangle]
pub extern "C" fn getpagesize() -> i32 {
    4096
}

#[no_mangle]
pub extern "C" fn sysconf(name: i32) -> i64 {
    const RLIMIT_STACK: i32 = 3;
    const RLIMIT_NPROC: i32 = 6;
    const RLIMIT_NOFILE: i32 = 7;
    let soft_limit = |resource: i32| -> Option<u64> {
        let mut limit = [0u64; 2];
        // SAFETY: a writable struct rlimit.
        unsafe { platform::prlimit(resource, ptr::null(), limit.as_mut_ptr()) }.ok().map(|_| limit[0])
    };
    // An infinite limit reads as -1, as POSIX asks for "no limit".
    let as_long = |value: u64| {
        if value == u64::MAX {
            -1
        } else {
            value.min(i64::MAX as u64) as i64
        }
    };
    let value = match name {
        // ARG_MAX: a quarter of the stack limit, at least 128 KiB (as Linux computes it).
        0 => soft_limit(RLIMIT_STACK).map(|stack| {
            if stack == u64::MAX {
                2 * 1024 * 1024
            } else {
                (stack / 4).max(131072) as i64
            }
        }),
        1 => soft_limit(RLIMIT_NPROC).map(as_long),
        2 => Some(100),
        3 => Some(65536),
        4 => soft_limit(RLIMIT_NOFILE).map(as_long),
        30 => Some(4096),
        83 | 84 => platform::processor_count().ok().map(|count| count.max(1) as i64),
        _ => None,
    };
    match value {
        Some(value) => value,
        None => {
            set_errno(EINVAL);
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn gethostname(name: *mut u8, size: usize) -> i32 {
    let mut record = [0u8; 390];
    // SAFETY: utsname is 6 fields of 65 bytes; `name` holds `size` bytes.
    unsafe {
        if c_result(platform::uname(record.as_mut_ptr())) < 0 {
            return -1;
        }
        let node = &record[65..130];
        let length = node.iter().position(|&b| b == 0).unwrap_or(65);
        if length >= size {
            set_errno(ENAMETOOLONG);
            return -1;
        }
        memcpy(name, node.as_ptr(), length);
        *name.add(length) = 0;
    }
    0
}

static BREAK: CGlobal<usize> = CGlobal::new(0);

#[no_mangle]
pub extern "C" fn brk(address: *mut u8) -> i32 {
    let result = platform::brk(address as usize);
    BREAK.set(result);
    if result < address as usize {
        set_errno(ENOMEM);
        return -1;
    }
    0
}

#[no_mangle]
pub extern "C" fn sbrk(increment: isize) -> *mut u8 {
    if BREAK.get() == 0 {
        BREAK.set(platform::brk(0));
    }
    let old = BREAK.get();
    if increment == 0 {
        return old as *mut u8;
    }
    let wanted = old.wrapping_add_signed(increment);
    if brk(wanted as *mut u8) < 0 {
        return usize::MAX as *mut u8;
    }
    old as *mut u8
}

// ---- signals ----

/// C's `struct sigaction` (see <signal.h>).
#[repr(C)]
pub struct SignalAction {
    handler: usize,
    mask: u64,
    flags: i32,
    restorer: usize,
}

const SA_RESTART: i32 = 0x1000_0000;

#[no_mangle]
pub unsafe extern "C" fn sigaction(signal: i32, new: *const SignalAction, old: *mut SignalAction) -> i32 {
    // SAFETY: `new` and `old` are null or valid records.
    unsafe {
        let new_action = if new.is_null() {
            None
        } else {
            Some(platform::SignalAction {
                handler: (*new).handler,
                flags: (*new).flags as u32 as u64,
                mask: (*new).mask,
            })
        };
        match platform::sigaction(signal, new_action) {
            Ok(previous) => {
                if !old.is_null() {
                    *old = SignalAction {
                        handler: previous.handler,
                        mask: previous.mask,
                        flags: previous.flags as i32,
                        restorer: 0,
                    };
                }
                0
            }
            Err(error) => {
                set_errno(error.0);
                -1
            }
        }
    }
}

#[no_mangle]
pub extern "C" fn signal(number: i32, handler: usize) -> usize {
    let new = SignalAction { handler, mask: 0, flags: SA_RESTART, restorer: 0 };
    let mut old = SignalAction { handler: 0, mask: 0, flags: 0, restorer: 0 };
    // SAFETY: valid records.
    if unsafe { sigaction(number, &new, &mut old) } < 0 {
        return usize::MAX; // SIG_ERR
    }
    old.handler
}

#[no_mangle]
pub unsafe extern "C" fn sigprocmask(how: i32, new: *const u64, old: *mut u64) -> i32 {
    // SAFETY: null or valid masks.
    c_result(unsafe { platform::sigprocmask(how, new, old) }) as i32
}

#[no_mangle]
pub extern "C" fn raise(signal: i32) -> i32 {
    c_result(platform::kill(platform::getpid(), signal)) as i32
}

fn signal_bit(signal: i32) -> Option<u64> {
    if (1..=64).contains(&signal) {
        Some(1u64 << (signal - 1))
    } else {
        None
    }
}

#[no_mangle]
pub unsafe extern "C" fn sigemptyset(set: *mut u64) -> i32 {
    // SAFETY: writable set.
    unsafe { *set = 0 };
    0
}

#[no_mangle]
pub unsafe extern "C" fn sigfillset(set: *mut u64) -> i32 {
    // SAFETY: writable set.
    unsafe { *set = u64::MAX };
    0
}

#[no_mangle]
pub unsafe extern "C" fn sigaddset(set: *mut u64, signal: i32) -> i32 {
    let Some(bit) = signal_bit(signal) else {
        set_errno(EINVAL);
        return -1;
    };
    // SAFETY: writable set.
    unsafe { *set |= bit };
    0
}

#[no_mangle]
pub unsafe extern "C" fn sigdelset(set: *mut u64, signal: i32) -> i32 {
    let Some(bit) = signal_bit(signal) else {
        set_errno(EINVAL);
        return -1;
    };
    // SAFETY: writable set.
    unsafe { *set &= !bit };
    0
}

#[no_mangle]
pub unsafe extern "C" fn sigismember(set: *const u64, signal: i32) -> i32 {
    let Some(bit) = signal_bit(signal) else {
        set_errno(EINVAL);
        return -1;
    };
    // SAFETY: readable set.
    i32::from(unsafe { *set } & bit != 0)
}

// ---- terminals ----

const TCGETS: u64 = 0x5401;

#[no_mangle]
pub unsafe extern "C" fn tcgetattr(fd: i32, terminal: *mut u8) -> i32 {
    // SAFETY: C's termios is the kernel's with more c_cc room and the speeds after.
    c_result(unsafe { platform::ioctl(fd, TCGETS, terminal as usize) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn tcsetattr(fd: i32, action: i32, terminal: *const u8) -> i32 {
    if !(0..=2).contains(&action) {
        set_errno(EINVAL);
        return -1;
    }
    // SAFETY: as tcgetattr; TCSETS, TCSETSW, TCSETSF are consecutive.
    c_result(unsafe { platform::ioctl(fd, TCGETS + 1 + action as u64, terminal as usize) }) as i32
}

/// Offsets in C's `struct termios`.
const IFLAG: usize = 0;
const OFLAG: usize = 4;
const CFLAG: usize = 8;
const LFLAG: usize = 12;
const CONTROL_CHARACTERS: usize = 17;

/// # Safety
/// `terminal` must point to a C `struct termios`.
unsafe fn flag(terminal: *mut u8, offset: usize) -> *mut u32 {
    // SAFETY: the caller's termios has the field.
    unsafe { terminal.add(offset) as *mut u32 }
}

#[no_mangle]
pub unsafe extern "C" fn cfmakeraw(terminal: *mut u8) {
    // SAFETY: a writable termios.
    unsafe {
        *flag(terminal, IFLAG) &= !(0o1 | 0o2 | 0o10 | 0o40 | 0o100 | 0o200 | 0o400 | 0o2000);
        *flag(terminal, OFLAG) &= !0o1;
        *flag(terminal, LFLAG) &= !(0o10 | 0o100 | 0o2 | 0o1 | 0o100000);
        *flag(terminal, CFLAG) &= !(0o60 | 0o400);
        *flag(terminal, CFLAG) |= 0o60;
        *terminal.add(CONTROL_CHARACTERS + 6) = 1; // VMIN
        *terminal.add(CONTROL_CHARACTERS + 5) = 0; // VTIME
    }
}

const CBAUD: u32 = 0o10017;

#[no_mangle]
pub unsafe extern "C" fn cfgetospeed(terminal: *const u8) -> u32 {
    // SAFETY: a readable termios.
    unsafe { *flag(terminal as *mut u8, CFLAG) & CBAUD }
}

#[no_mangle]
pub unsafe extern "C" fn cfgetispeed(terminal: *const u8) -> u32 {
    // SAFETY: forwarded.
    unsafe { cfgetospeed(terminal) }
}

#[no_mangle]
pub unsafe extern "C" fn cfsetospeed(terminal: *mut u8, speed: u32) -> i32 {
    if speed & !CBAUD != 0 {
        set_errno(EINVAL);
        return -1;
    }
    // SAFETY: a writable termios.
    unsafe { *flag(terminal, CFLAG) = (*flag(terminal, CFLAG) & !CBAUD) | speed };
    0
}

#[no_mangle]
pub unsafe extern "C" fn cfsetispeed(terminal: *mut u8, speed: u32) -> i32 {
    // SAFETY: forwarded.
    unsafe {
        if speed == 0 {
            0
        } else {
            cfsetospeed(terminal, speed)
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn cfsetspeed(terminal: *mut u8, speed: u32) -> i32 {
    // SAFETY: forwarded.
    unsafe { cfsetospeed(terminal, speed) }
}

#[no_mangle]
pub extern "C" fn tcflush(fd: i32, queue: i32) -> i32 {
    // SAFETY: TCFLSH takes an integer.
    c_result(unsafe { platform::ioctl(fd, 0x540B, queue as usize) }) as i32
}

#[no_mangle]
pub extern "C" fn tcdrain(fd: i32) -> i32 {
    // SAFETY: TCSBRK with 1 waits for output to drain.
    c_result(unsafe { platform::ioctl(fd, 0x5409, 1) }) as i32
}

#[no_mangle]
pub extern "C" fn tcgetpgrp(fd: i32) -> i32 {
    let mut group = 0i32;
    // SAFETY: TIOCGPGRP writes an int.
    if c_result(unsafe { platform::ioctl(fd, 0x540F, &mut group as *mut i32 as usize) }) < 0 {
        return -1;
    }
    group
}

#[no_mangle]
pub extern "C" fn tcsetpgrp(fd: i32, group: i32) -> i32 {
    // SAFETY: TIOCSPGRP reads an int.
    c_result(unsafe { platform::ioctl(fd, 0x5410, &group as *const i32 as usize) }) as i32
}

// ---- directories ----

/// `DIR`: a descriptor and a buffer of `linux_dirent64` records, which have
/// exactly the layout of minilibc's `struct dirent`.
pub struct Directory {
    fd: i32,
    buffer: Vec<u64>,
    position: usize,
    length: usize,
}

const DIRECTORY_BUFFER_WORDS: usize = 4096;

#[no_mangle]
pub unsafe extern "C" fn opendir(path: *const u8) -> *mut Directory {
    // SAFETY: NUL-terminated path. O_RDONLY|O_DIRECTORY|O_CLOEXEC.
    let fd = c_result(unsafe { platform::open_at(AT_FDCWD, path, 0o2200000, 0) });
    if fd < 0 {
        return ptr::null_mut();
    }
    fdopendir(fd as i32)
}

#[no_mangle]
pub extern "C" fn fdopendir(fd: i32) -> *mut Directory {
    alloc::boxed::Box::into_raw(alloc::boxed::Box::new(Directory {
        fd,
        buffer: alloc::vec![0; DIRECTORY_BUFFER_WORDS],
        position: 0,
        length: 0,
    }))
}

#[no_mangle]
pub unsafe extern "C" fn readdir(directory: *mut Directory) -> *mut u8 {
    // SAFETY: a DIR from opendir; records in the buffer come from the kernel.
    unsafe {
        let directory = &mut *directory;
        if directory.position >= directory.length {
            let bytes = directory.buffer.len() * 8;
            match platform::getdents(directory.fd, directory.buffer.as_mut_ptr() as *mut u8, bytes) {
                Ok(0) => return ptr::null_mut(),
                Ok(length) => {
                    directory.length = length;
                    directory.position = 0;
                }
                Err(error) => {
                    set_errno(error.0);
                    return ptr::null_mut();
                }
            }
        }
        let record = (directory.buffer.as_mut_ptr() as *mut u8).add(directory.position);
        let record_length = *(record.add(16) as *const u16) as usize;
        directory.position += record_length.max(1);
        record
    }
}

#[no_mangle]
pub unsafe extern "C" fn closedir(directory: *mut Directory) -> i32 {
    if directory.is_null() {
        set_errno(EBADF);
        return -1;
    }
    // SAFETY: a DIR from opendir, not used again.
    let directory = unsafe { alloc::boxed::Box::from_raw(directory) };
    c_result(platform::close(directory.fd)) as i32
}

#[no_mangle]
pub unsafe extern "C" fn rewinddir(directory: *mut Directory) {
    // SAFETY: a live DIR.
    unsafe {
        let _ = platform::seek((*directory).fd, 0, 0);
        (*directory).position = 0;
        (*directory).length = 0;
    }
}

#[no_mangle]
pub unsafe extern "C" fn dirfd(directory: *mut Directory) -> i32 {
    // SAFETY: a live DIR.
    unsafe { (*directory).fd }
}

#[no_mangle]
pub unsafe extern "C" fn alphasort(left: *const *const u8, right: *const *const u8) -> i32 {
    // SAFETY: pointers to dirent pointers; d_name is at offset 19.
    unsafe { super::string::strcmp((*left).add(19), (*right).add(19)) }
}

#[no_mangle]
pub unsafe extern "C" fn scandir(
    path: *const u8,
    list: *mut *mut *mut u8,
    filter: Option<unsafe extern "C" fn(*const u8) -> i32>,
    compare: Option<unsafe extern "C" fn(*const *const u8, *const *const u8) -> i32>,
) -> i32 {
    // SAFETY: NUL-terminated path; `list` writable; callbacks are C functions.
    unsafe {
        let directory = opendir(path);
        if directory.is_null() {
            return -1;
        }
        let mut entries: Vec<*mut u8> = Vec::new();
        loop {
            let entry = readdir(directory);
            if entry.is_null() {
                break;
            }
            if let Some(keep) = filter {
                if keep(entry) == 0 {
                    continue;
                }
            }
            let size = *(entry.add(16) as *const u16) as usize;
            let copy = malloc(size.max(280));
            if copy.is_null() {
                closedir(directory);
                return -1;
            }
            memset(copy, 0, size.max(280));
            memcpy(copy, entry, size);
            entries.push(copy);
        }
        closedir(directory);
        if let Some(order) = compare {
            let count = entries.len();
            let cell = core::cell::RefCell::new(&mut entries);
            crate::sort::heap_sort(
                count,
                |i, j| {
                    let v = cell.borrow();
                    order(&v[i] as *const *mut u8 as *const *const u8, &v[j] as *const *mut u8 as *const *const u8)
                        .cmp(&0)
                },
                |i, j| cell.borrow_mut().swap(i, j),
            );
        }
        let array = malloc(entries.len().max(1) * 8) as *mut *mut u8;
        if array.is_null() {
            return -1;
        }
        for (index, entry) in entries.iter().enumerate() {
            *array.add(index) = *entry;
        }
        *list = array;
        entries.len() as i32
    }
}

// ---- getopt ----

#[no_mangle]
pub static optarg: CGlobal<*mut u8> = CGlobal::new(ptr::null_mut());
#[no_mangle]
pub static optind: CGlobal<i32> = CGlobal::new(1);
#[no_mangle]
pub static opterr: CGlobal<i32> = CGlobal::new(1);
#[no_mangle]
pub static optopt: CGlobal<i32> = CGlobal::new(0);
/// Position inside a cluster of short options ("-abc").
static CLUSTER_POSITION: CGlobal<usize> = CGlobal::new(0);
/// The `optind` the cluster position belongs to; a program that moves
/// `optind` itself (to rescan, say) starts a fresh argument.
static CLUSTER_INDEX: CGlobal<i32> = CGlobal::new(0);

/// C's `struct option`.
#[repr(C)]
pub struct LongOption {
    name: *const u8,
    has_argument: i32,
    flag: *mut i32,
    value: i32,
}

/// # Safety
/// `program` must be a NUL-terminated string (argv[0]).
unsafe fn report(program: *const u8, message: &str, detail: &[u8]) {
    if opterr.get() == 0 {
        return;
    }
    let mut text: Vec<u8> = Vec::new();
    // SAFETY: argv[0] is NUL-terminated.
    unsafe { text.extend_from_slice(c_string(program)) };
    text.extend_from_slice(b": ");
    text.extend_from_slice(message.as_bytes());
    text.extend_from_slice(detail);
    text.push(b'\n');
    // SAFETY: a valid buffer.
    let _ = unsafe { platform::write(2, text.as_ptr(), text.len()) };
}

#[no_mangle]
pub unsafe extern "C" fn getopt(count: i32, arguments: *const *mut u8, options: *const u8) -> i32 {
    // SAFETY: forwarded.
    unsafe { getopt_long(count, arguments, options, ptr::null(), ptr::null_mut()) }
}

/// getopt with GNU long options and GNU argument order: unless the option
/// string starts with '+' (or '-') or POSIXLY_CORRECT is set, non-option
/// arguments are stepped over and, as options after them are consumed,
/// moved behind those options, so that when -1 is returned `optind` points
/// at the first non-option and all of them follow, in their order.
#[no_mangle]
pub unsafe extern "C" fn getopt_long(
    count: i32,
    arguments: *const *mut u8,
    options: *const u8,
    long_options: *const LongOption,
    long_index: *mut i32,
) -> i32 {
    // SAFETY: argv has `count` entries; `options` is NUL-terminated.
    unsafe {
        if optind.get() == 0 {
            optind.set(1);
            CLUSTER_POSITION.set(0);
        }
        let first = optind.get();
        if first >= count || (*arguments.add(first as usize)).is_null() {
            return -1;
        }
        let in_order = matches!(c_string(options).first(), Some(b'+' | b'-'))
            || !super::runtime::getenv(c"POSIXLY_CORRECT".as_ptr().cast::<u8>()).is_null();
        if !in_order {
            let mut next = first;
            loop {
                if next >= count || (*arguments.add(next as usize)).is_null() {
                    return -1;
                }
                let text = c_string(*arguments.add(next as usize));
                if text.len() > 1 && text[0] == b'-' {
                    break;
                }
                next += 1;
            }
            optind.set(next);
        }
        let resumed = optind.get();
        let result = getopt_in_order(count, arguments, options, long_options, long_index);
        if resumed > first {
            // Move the arguments this call consumed in front of the skipped ones.
            let consumed = optind.get() - resumed;
            let vector = arguments as *mut *mut u8;
            for _ in 0..consumed {
                let moved = *vector.add((optind.get() - 1) as usize);
                let mut slot = optind.get() - 1;
                while slot > first {
                    *vector.add(slot as usize) = *vector.add(slot as usize - 1);
                    slot -= 1;
                }
                *vector.add(first as usize) = moved;
            }
            optind.set(first + consumed);
        }
        result
    }
}

/// POSIX getopt with GNU long options, in argument order: parsing stops at
/// the first non-option argument.
///
/// # Safety
/// As `getopt_long`.
unsafe fn getopt_in_order(
    count: i32,
    arguments: *const *mut u8,
    options: *const u8,
    long_options: *const LongOption,
    long_index: *mut i32,
) -> i32 {
    // SAFETY: argv has `count` NUL-terminated strings; `options` is
    // NUL-terminated; `long_options` ends with a zero record.
    unsafe {
        let mut spec = c_string(options);
        if let Some(b'+' | b'-') = spec.first() {
            spec = &spec[1..];
        }
        let colon_mode = spec.first() == Some(&b':');
        if optind.get() == 0 {
            optind.set(1);
            CLUSTER_POSITION.set(0);
        }
        optarg.set(ptr::null_mut());
        let index = optind.get();
        if index >= count {
            return -1;
        }
        let argument = *arguments.add(index as usize);
        if argument.is_null() {
            return -1;
        }
        let text = c_string(argument);
        if CLUSTER_INDEX.get() != index || CLUSTER_POSITION.get() >= text.len() {
            CLUSTER_POSITION.set(0);
        }
        CLUSTER_INDEX.set(index);
        if CLUSTER_POSITION.get() == 0 {
            if text.len() < 2 || text[0] != b'-' {
                return -1;
            }
            if text == b"--" {
                optind.set(index + 1);
                return -1;
            }
            if text.starts_with(b"--") && !long_options.is_null() {
                optind.set(index + 1);
                let body = &text[2..];
                let (name, inline_value) = match body.iter().position(|&b| b == b'=') {
                    Some(split) => (&body[..split], Some(split + 3)),
                    None => (body, None),
                };
                let mut option_index = 0;
                let mut chosen: Option<(usize, &LongOption)> = None;
                loop {
                    let option = &*long_options.add(option_index);
                    if option.name.is_null() {
                        break;
                    }
                    let option_name = c_string(option.name);
                    if option_name == name {
                        chosen = Some((option_index, option));
                        break;
                    }
                    if option_name.starts_with(name) && chosen.is_none() {
                        chosen = Some((option_index, option));
                    }
                    option_index += 1;
                }
                let Some((found, option)) = chosen else {
                    let mut quoted: Vec<u8> = name.to_vec();
                    quoted.push(b'\'');
                    report(*arguments, "unrecognized option '--", &quoted);
                    optopt.set(0);
                    return b'?' as i32;
                };
                if !long_index.is_null() {
                    *long_index = found as i32;
                }
                match (option.has_argument, inline_value) {
                    (0, Some(_)) => {
                        let mut quoted: Vec<u8> = name.to_vec();
                        quoted.extend_from_slice(b"' doesn't allow an argument");
                        report(*arguments, "option '--", &quoted);
                        optopt.set(option.value);
                        return b'?' as i32;
                    }
                    (_, Some(start)) => optarg.set(argument.add(start)),
                    (1, None) => {
                        if optind.get() >= count {
                            let mut quoted: Vec<u8> = name.to_vec();
                            quoted.extend_from_slice(b"' requires an argument");
                            report(*arguments, "option '--", &quoted);
                            optopt.set(option.value);
                            return if colon_mode { b':' } else { b'?' } as i32;
                        }
                        optarg.set(*arguments.add(optind.get() as usize));
                        optind.set(optind.get() + 1);
                    }
                    _ => {}
                }
                if !option.flag.is_null() {
                    *option.flag = option.value;
                    return 0;
                }
                return option.value;
            }
            CLUSTER_POSITION.set(1);
        }
        let position = CLUSTER_POSITION.get();
        let letter = text[position];
        let next_position = position + 1;
        let finish_argument = |advance_cluster: bool| {
            if advance_cluster && next_position < text.len() {
                CLUSTER_POSITION.set(next_position);
            } else {
                CLUSTER_POSITION.set(0);
                optind.set(index + 1);
            }
        };
        let found = if letter == b':' { None } else { spec.iter().position(|&b| b == letter) };
        let Some(at) = found else {
            optopt.set(letter as i32);
            report(*arguments, "invalid option -- '", &[letter, b'\'']);
            finish_argument(true);
            return b'?' as i32;
        };
        if spec.get(at + 1) == Some(&b':') {
            let optional = spec.get(at + 2) == Some(&b':');
            if next_position < text.len() {
                optarg.set(argument.add(next_position));
                finish_argument(false);
            } else if optional {
                finish_argument(false);
            } else {
                finish_argument(false);
                if optind.get() >= count {
                    optopt.set(letter as i32);
                    if !colon_mode {
                        report(*arguments, "option requires an argument -- '", &[letter, b'\'']);
                    }
                    return if colon_mode { b':' } else { b'?' } as i32;
                }
                optarg.set(*arguments.add(optind.get() as usize));
                optind.set(optind.get() + 1);
            }
        } else {
            finish_argument(true);
        }
        letter as i32
    }
}

#[no_mangle]
pub unsafe extern "C" fn ttyname(fd: i32) -> *mut u8 {
    static NAME: CGlobal<[u8; 64]> = CGlobal::new([0; 64]);
    if isatty(fd) == 0 {
        return ptr::null_mut();
    }
    let buffer = NAME.as_ptr() as *mut u8;
    // SAFETY: the buffer holds 64 bytes; we keep one for the NUL.
    unsafe {
        match platform::descriptor_path(fd, buffer, 63) {
            Ok(length) => *buffer.add(length) = 0,
            Err(error) => {
                set_errno(error.0);
                return ptr::null_mut();
            }
        }
    }
    buffer
}

#[no_mangle]
pub unsafe extern "C" fn realpath(path: *const u8, resolved: *mut u8) -> *mut u8 {
    // Resolution is done by the file system: open the path and ask for the
    // name the system has for the descriptor.
    // SAFETY: NUL-terminated path; `resolved` null or PATH_MAX (4096) bytes.
    unsafe {
        let fd = c_result(platform::open_at(AT_FDCWD, path, 0o10000000 | 0o2000000, 0)); // O_PATH|O_CLOEXEC
        if fd < 0 {
            return ptr::null_mut();
        }
        let mut buffer = [0u8; 4096];
        let length = platform::descriptor_path(fd as i32, buffer.as_mut_ptr(), 4095);
        let _ = platform::close(fd as i32);
        let length = match length {
            Ok(length) => length,
            Err(error) => {
                set_errno(error.0);
                return ptr::null_mut();
            }
        };
        let target = if resolved.is_null() { malloc(length + 1) } else { resolved };
        if target.is_null() {
            return target;
        }
        memcpy(target, buffer.as_ptr(), length);
        *target.add(length) = 0;
        target
    }
}

/// Used by `system` and `popen`: starts `/bin/sh -c command` with
/// posix_spawn's `actions` and `attributes` (on Mach_R one request to the
/// process server, nothing of the caller copied; on Linux fork and exec)
/// and returns the child's pid.
///
/// # Safety
/// `command` must be NUL-terminated, and so must every path in `actions`.
pub unsafe fn spawn_shell(
    command: *const u8,
    actions: &[platform::SpawnAction],
    attributes: &platform::SpawnAttributes,
) -> Result<usize, platform::Errno> {
    let arguments = [c"sh".as_ptr().cast::<u8>(), c"-c".as_ptr().cast::<u8>(), command, ptr::null()];
    // SAFETY: NUL-terminated strings and a null-terminated list.
    unsafe {
        platform::spawn(
            c"/bin/sh".as_ptr().cast::<u8>(),
            None,
            arguments.as_ptr(),
            environ.get() as *const *const u8,
            actions,
            attributes,
        )
    }
}

/// The status `system` reports for a shell that could not be started, as
/// glibc's: that of a shell that exited with 127.
const SHELL_NOT_STARTED: i32 = 127 << 8;

#[no_mangle]
pub unsafe extern "C" fn system(command: *const u8) -> i32 {
    const SIGINT: i32 = 2;
    const SIGQUIT: i32 = 3;
    const SIGCHLD: i32 = 17;
    const IGNORE: usize = 1;
    if command.is_null() {
        // Whether a shell is there to run commands.
        // SAFETY: a NUL-terminated path.
        return i32::from(unsafe { platform::access_at(AT_FDCWD, c"/bin/sh".as_ptr().cast::<u8>(), 1) }.is_ok());
    }
    super::stdio::flush_all_streams();
    // As POSIX asks: the caller ignores SIGINT and SIGQUIT and blocks SIGCHLD
    // while the command runs. The shell starts with the caller's mask and
    // its SIGINT and SIGQUIT back to the default, unless the caller ignored
    // them already (then they stay ignored, as in glibc).
    let ignore = platform::SignalAction { handler: IGNORE, flags: 0, mask: 0 };
    let old_interrupt = platform::sigaction(SIGINT, Some(ignore));
    let old_quit = platform::sigaction(SIGQUIT, Some(ignore));
    let block = 1u64 << (SIGCHLD - 1);
    let mut old_mask = 0u64;
    // SAFETY: valid masks.
    let _ = unsafe { platform::sigprocmask(0, &block, &mut old_mask) };
    let mut defaulted = 0u64;
    for (signal, old) in [(SIGINT, &old_interrupt), (SIGQUIT, &old_quit)] {
        if old.as_ref().is_ok_and(|action| action.handler != IGNORE) {
            defaulted |= 1 << (signal - 1);
        }
    }
    let attributes = platform::SpawnAttributes {
        flags: platform::SPAWN_SET_SIGNAL_DEFAULT | platform::SPAWN_SET_SIGNAL_MASK,
        default_signals: defaulted,
        signal_mask: old_mask,
        ..platform::SpawnAttributes::default()
    };
    // SAFETY: NUL-terminated command.
    let status = match unsafe { spawn_shell(command, &[], &attributes) } {
        Ok(pid) => loop {
            let mut word = 0;
            // SAFETY: a valid status word.
            match unsafe { platform::wait4(pid as i32, &mut word, 0, ptr::null_mut()) } {
                Ok(_) => break word,
                Err(error) if error.0 == EINTR => continue,
                Err(error) => {
                    set_errno(error.0);
                    break -1;
                }
            }
        },
        Err(error) => {
            set_errno(error.0);
            SHELL_NOT_STARTED
        }
    };
    if let Ok(action) = old_interrupt {
        let _ = platform::sigaction(SIGINT, Some(action));
    }
    if let Ok(action) = old_quit {
        let _ = platform::sigaction(SIGQUIT, Some(action));
    }
    // SAFETY: a valid mask.
    let _ = unsafe { platform::sigprocmask(2, &old_mask, ptr::null_mut()) };
    status
}

// ---- resources ----

#[no_mangle]
pub unsafe extern "C" fn getrusage(who: i32, usage: *mut u8) -> i32 {
    // SAFETY: a writable struct rusage.
    c_result(unsafe { platform::getrusage(who, usage) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn getrlimit(resource: i32, limit: *mut u64) -> i32 {
    // SAFETY: a writable struct rlimit.
    c_result(unsafe { platform::prlimit(resource, ptr::null(), limit) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn setrlimit(resource: i32, limit: *const u64) -> i32 {
    // SAFETY: a readable struct rlimit.
    c_result(unsafe { platform::prlimit(resource, limit, ptr::null_mut()) }) as i32
}

// ---- libgen.h ----

static PATH_DOT: CGlobal<[u8; 2]> = CGlobal::new(*b".\0");

/// POSIX basename: may modify `path` (strips trailing slashes).
#[no_mangle]
pub unsafe extern "C" fn basename(path: *mut u8) -> *mut u8 {
    // SAFETY: null or a writable NUL-terminated path.
    unsafe {
        if path.is_null() || *path == 0 {
            return PATH_DOT.as_ptr() as *mut u8;
        }
        let mut end = c_string(path).len();
        while end > 1 && *path.add(end - 1) == b'/' {
            end -= 1;
            *path.add(end) = 0;
        }
        let bytes = core::slice::from_raw_parts(path, end);
        match bytes.iter().rposition(|&b| b == b'/') {
            Some(slash) if end > 1 => path.add(slash + 1),
            _ => path,
        }
    }
}

/// POSIX dirname: modifies `path`.
#[no_mangle]
pub unsafe extern "C" fn dirname(path: *mut u8) -> *mut u8 {
    // SAFETY: null or a writable NUL-terminated path.
    unsafe {
        if path.is_null() || *path == 0 {
            return PATH_DOT.as_ptr() as *mut u8;
        }
        let mut end = c_string(path).len();
        while end > 1 && *path.add(end - 1) == b'/' {
            end -= 1;
        }
        while end > 0 && *path.add(end - 1) != b'/' {
            end -= 1;
        }
        if end == 0 {
            return PATH_DOT.as_ptr() as *mut u8;
        }
        while end > 1 && *path.add(end - 1) == b'/' {
            end -= 1;
        }
        *path.add(end) = 0;
        path
    }
}

// ---- file times ----

/// `utime(path, {actime, modtime})`; null times mean "now".
#[no_mangle]
pub unsafe extern "C" fn utime(path: *const u8, times: *const i64) -> i32 {
    // SAFETY: NUL-terminated path; `times` null or a struct utimbuf.
    unsafe {
        if times.is_null() {
            return c_result(platform::utimens_at(AT_FDCWD, path, ptr::null(), 0)) as i32;
        }
        let both = [*times, 0, *times.add(1), 0];
        c_result(platform::utimens_at(AT_FDCWD, path, both.as_ptr(), 0)) as i32
    }
}

/// `utimes(path, timeval[2])`.
#[no_mangle]
pub unsafe extern "C" fn utimes(path: *const u8, times: *const i64) -> i32 {
    // SAFETY: NUL-terminated path; `times` null or two timevals.
    unsafe {
        if times.is_null() {
            return c_result(platform::utimens_at(AT_FDCWD, path, ptr::null(), 0)) as i32;
        }
        let both = [*times, *times.add(1) * 1000, *times.add(2), *times.add(3) * 1000];
        c_result(platform::utimens_at(AT_FDCWD, path, both.as_ptr(), 0)) as i32
    }
}

#[no_mangle]
pub unsafe extern "C" fn utimensat(dir: i32, path: *const u8, times: *const i64, flags: i32) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::utimens_at(dir, path, times, flags) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn futimens(fd: i32, times: *const i64) -> i32 {
    // SAFETY: C's contract; a null path makes utimensat act on `fd`.
    c_result(unsafe { platform::utimens_at(fd, ptr::null(), times, 0) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn fchown(fd: i32, user: u32, group: u32) -> i32 {
    // SAFETY: an empty path with AT_EMPTY_PATH (0x1000) names `fd` itself.
    c_result(unsafe { platform::chown_at(fd, c"".as_ptr().cast::<u8>(), user, group, 0x1000) }) as i32
}
