//! Linux x86_64 back end: every primitive is one `syscall` instruction.
#![allow(clippy::missing_safety_doc)]

use super::{Errno, ProcessRecord, SignalAction, SpawnAction, SpawnAttributes};
use core::arch::asm;

mod number {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const FSTAT: usize = 5;
    pub const POLL: usize = 7;
    pub const LSEEK: usize = 8;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const MREMAP: usize = 25;
    pub const BRK: usize = 12;
    pub const RT_SIGACTION: usize = 13;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const IOCTL: usize = 16;
    pub const PREAD64: usize = 17;
    pub const PWRITE64: usize = 18;
    pub const SELECT: usize = 23;
    pub const DUP: usize = 32;
    pub const NANOSLEEP: usize = 35;
    pub const ALARM: usize = 37;
    pub const GETPID: usize = 39;
    pub const FORK: usize = 57;
    pub const EXECVE: usize = 59;
    pub const WAIT4: usize = 61;
    pub const KILL: usize = 62;
    pub const UNAME: usize = 63;
    pub const FCNTL: usize = 72;
    pub const FSYNC: usize = 74;
    pub const SYNC: usize = 162;
    pub const STATFS: usize = 137;
    pub const FSTATFS: usize = 138;
    pub const MOUNT: usize = 165;
    pub const UMOUNT2: usize = 166;
    pub const REBOOT: usize = 169;
    pub const GETGROUPS: usize = 115;
    pub const SYSLOG: usize = 103;
    pub const TRUNCATE: usize = 76;
    pub const FTRUNCATE: usize = 77;
    pub const GETCWD: usize = 79;
    pub const CHDIR: usize = 80;
    pub const FCHDIR: usize = 81;
    pub const FCHMOD: usize = 91;
    pub const UMASK: usize = 95;
    pub const GETUID: usize = 102;
    pub const GETGID: usize = 104;
    pub const GETEUID: usize = 107;
    pub const GETEGID: usize = 108;
    pub const SETPGID: usize = 109;
    pub const GETPPID: usize = 110;
    pub const SETSID: usize = 112;
    pub const GETPGID: usize = 121;
    pub const GETSID: usize = 124;
    pub const RT_SIGPENDING: usize = 127;
    pub const RT_SIGSUSPEND: usize = 130;
    pub const ARCH_PRCTL: usize = 158;
    pub const GETTID: usize = 186;
    pub const GETDENTS64: usize = 217;
    pub const CLOCK_GETTIME: usize = 228;
    pub const CLOCK_GETRES: usize = 229;
    pub const EXIT_GROUP: usize = 231;
    pub const OPENAT: usize = 257;
    pub const MKDIRAT: usize = 258;
    pub const FCHOWNAT: usize = 260;
    pub const NEWFSTATAT: usize = 262;
    pub const UNLINKAT: usize = 263;
    pub const RENAMEAT: usize = 264;
    pub const LINKAT: usize = 265;
    pub const SYMLINKAT: usize = 266;
    pub const READLINKAT: usize = 267;
    pub const FCHMODAT: usize = 268;
    pub const FACCESSAT: usize = 269;
    pub const PIPE2: usize = 293;
    pub const DUP3: usize = 292;
    pub const GETRANDOM: usize = 318;
    pub const GETRUSAGE: usize = 98;
    pub const SCHED_GETAFFINITY: usize = 204;
    pub const UTIMENSAT: usize = 280;
    pub const PRLIMIT64: usize = 302;
}

#[inline(always)]
fn result(value: usize) -> Result<usize, Errno> {
    if value > -4096isize as usize {
        Err(Errno(-(value as isize) as i32))
    } else {
        Ok(value)
    }
}

/// # Safety
/// The arguments must be valid for system call `number`.
#[inline(always)]
unsafe fn syscall6(number: usize, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> usize {
    let value: usize;
    // SAFETY: the caller guarantees the arguments suit the call; the kernel
    // clobbers only rcx, r11 and rax.
    unsafe {
        asm!("syscall", inlateout("rax") number => value, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    value
}

macro_rules! call {
    ($n:expr) => { call!($n, 0, 0, 0, 0, 0, 0) };
    ($n:expr, $a:expr) => { call!($n, $a, 0, 0, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr) => { call!($n, $a, $b, 0, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr) => { call!($n, $a, $b, $c, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr) => { call!($n, $a, $b, $c, $d, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr) => {
        // SAFETY: each wrapper below is an `unsafe fn` whose contract is the
        // system call's own; pointers are forwarded unchanged.
        result(unsafe { syscall6($n, $a as usize, $b as usize, $c as usize, $d as usize, $e as usize, $f as usize) })
    };
}

pub const AT_FDCWD: i32 = -100;

/// # Safety
/// `buffer` must be writable for `count` bytes.
pub unsafe fn read(fd: i32, buffer: *mut u8, count: usize) -> Result<usize, Errno> {
    call!(number::READ, fd, buffer, count)
}
/// # Safety
/// `buffer` must be readable for `count` bytes.
pub unsafe fn write(fd: i32, buffer: *const u8, count: usize) -> Result<usize, Errno> {
    call!(number::WRITE, fd, buffer, count)
}
/// # Safety
/// `buffer` must be writable for `count` bytes.
pub unsafe fn read_at(fd: i32, buffer: *mut u8, count: usize, offset: i64) -> Result<usize, Errno> {
    call!(number::PREAD64, fd, buffer, count, offset)
}
/// # Safety
/// `buffer` must be readable for `count` bytes.
pub unsafe fn write_at(fd: i32, buffer: *const u8, count: usize, offset: i64) -> Result<usize, Errno> {
    call!(number::PWRITE64, fd, buffer, count, offset)
}
/// # Safety
/// `path` must be a NUL-terminated string.
pub unsafe fn open_at(dir: i32, path: *const u8, flags: i32, mode: u32) -> Result<usize, Errno> {
    call!(number::OPENAT, dir, path, flags, mode)
}
pub fn close(fd: i32) -> Result<usize, Errno> {
    call!(number::CLOSE, fd)
}
pub fn seek(fd: i32, offset: i64, whence: i32) -> Result<usize, Errno> {
    call!(number::LSEEK, fd, offset, whence)
}
/// # Safety
/// `path` NUL-terminated, `stat` writable for one `struct stat`.
pub unsafe fn stat_at(dir: i32, path: *const u8, stat: *mut u8, flags: i32) -> Result<usize, Errno> {
    call!(number::NEWFSTATAT, dir, path, stat, flags)
}
/// # Safety
/// `stat` writable for one `struct stat`.
pub unsafe fn fstat(fd: i32, stat: *mut u8) -> Result<usize, Errno> {
    call!(number::FSTAT, fd, stat)
}
/// # Safety
/// `fds` writable for two ints.
pub unsafe fn pipe2(fds: *mut i32, flags: i32) -> Result<usize, Errno> {
    call!(number::PIPE2, fds, flags)
}
pub fn dup(fd: i32) -> Result<usize, Errno> {
    call!(number::DUP, fd)
}
pub fn dup3(old: i32, new: i32, flags: i32) -> Result<usize, Errno> {
    call!(number::DUP3, old, new, flags)
}
/// # Safety
/// `argument` must suit `command`.
pub unsafe fn fcntl(fd: i32, command: i32, argument: usize) -> Result<usize, Errno> {
    call!(number::FCNTL, fd, command, argument)
}
/// # Safety
/// `argument` must suit `request`.
pub unsafe fn ioctl(fd: i32, request: u64, argument: usize) -> Result<usize, Errno> {
    call!(number::IOCTL, fd, request, argument)
}
/// # Safety
/// `fds` valid for `count` pollfd records.
pub unsafe fn poll(fds: *mut u8, count: u64, timeout_ms: i32) -> Result<usize, Errno> {
    call!(number::POLL, fds, count, timeout_ms)
}
/// # Safety
/// Set pointers null or valid fd_sets; `timeout` null or a timeval.
pub unsafe fn select(
    count: i32,
    read: *mut u8,
    write: *mut u8,
    except: *mut u8,
    timeout: *mut u8,
) -> Result<usize, Errno> {
    call!(number::SELECT, count, read, write, except, timeout, 0)
}
/// # Safety
/// `buffer` writable for `count` bytes; fills `linux_dirent64` records, which
/// is minilibc's `struct dirent` layout.
pub unsafe fn getdents(fd: i32, buffer: *mut u8, count: usize) -> Result<usize, Errno> {
    call!(number::GETDENTS64, fd, buffer, count)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn mkdir_at(dir: i32, path: *const u8, mode: u32) -> Result<usize, Errno> {
    call!(number::MKDIRAT, dir, path, mode)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn unlink_at(dir: i32, path: *const u8, flags: i32) -> Result<usize, Errno> {
    call!(number::UNLINKAT, dir, path, flags)
}
/// # Safety
/// Both paths NUL-terminated.
pub unsafe fn rename_at(old_dir: i32, old: *const u8, new_dir: i32, new: *const u8) -> Result<usize, Errno> {
    call!(number::RENAMEAT, old_dir, old, new_dir, new)
}
/// # Safety
/// Both paths NUL-terminated.
pub unsafe fn link_at(old_dir: i32, old: *const u8, new_dir: i32, new: *const u8, flags: i32) -> Result<usize, Errno> {
    call!(number::LINKAT, old_dir, old, new_dir, new, flags, 0)
}
/// # Safety
/// Both strings NUL-terminated.
pub unsafe fn symlink_at(target: *const u8, dir: i32, path: *const u8) -> Result<usize, Errno> {
    call!(number::SYMLINKAT, target, dir, path)
}
/// # Safety
/// `path` NUL-terminated, `buffer` writable for `size` bytes.
pub unsafe fn readlink_at(dir: i32, path: *const u8, buffer: *mut u8, size: usize) -> Result<usize, Errno> {
    call!(number::READLINKAT, dir, path, buffer, size)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn access_at(dir: i32, path: *const u8, mode: i32) -> Result<usize, Errno> {
    call!(number::FACCESSAT, dir, path, mode)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn chdir(path: *const u8) -> Result<usize, Errno> {
    call!(number::CHDIR, path)
}
pub fn fchdir(fd: i32) -> Result<usize, Errno> {
    call!(number::FCHDIR, fd)
}
/// # Safety
/// `buffer` writable for `size` bytes.
pub unsafe fn getcwd(buffer: *mut u8, size: usize) -> Result<usize, Errno> {
    call!(number::GETCWD, buffer, size)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn chmod_at(dir: i32, path: *const u8, mode: u32) -> Result<usize, Errno> {
    call!(number::FCHMODAT, dir, path, mode)
}
pub fn fchmod(fd: i32, mode: u32) -> Result<usize, Errno> {
    call!(number::FCHMOD, fd, mode)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn chown_at(dir: i32, path: *const u8, user: u32, group: u32, flags: i32) -> Result<usize, Errno> {
    call!(number::FCHOWNAT, dir, path, user, group, flags, 0)
}
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn truncate(path: *const u8, length: i64) -> Result<usize, Errno> {
    call!(number::TRUNCATE, path, length)
}
pub fn ftruncate(fd: i32, length: i64) -> Result<usize, Errno> {
    call!(number::FTRUNCATE, fd, length)
}
pub fn fsync(fd: i32) -> Result<usize, Errno> {
    call!(number::FSYNC, fd)
}
/// Writes every file system's cached data to its device.
pub fn sync() {
    let _ = call!(number::SYNC);
}
pub fn umask(mask: u32) -> u32 {
    call!(number::UMASK, mask).unwrap_or(0) as u32
}
/// # Safety
/// The usual `mmap` contract.
pub unsafe fn mmap(
    address: *mut u8,
    length: usize,
    protection: i32,
    flags: i32,
    fd: i32,
    offset: i64,
) -> Result<usize, Errno> {
    call!(number::MMAP, address, length, protection, flags, fd, offset)
}
/// # Safety
/// The range must not hold live Rust objects.
pub unsafe fn munmap(address: *mut u8, length: usize) -> Result<usize, Errno> {
    call!(number::MUNMAP, address, length)
}
/// # Safety
/// The usual `mremap` contract.
pub unsafe fn mremap(
    address: *mut u8,
    old_length: usize,
    new_length: usize,
    flags: i32,
    new_address: *mut u8,
) -> Result<usize, Errno> {
    call!(number::MREMAP, address, old_length, new_length, flags, new_address, 0)
}
/// # Safety
/// The usual `mprotect` contract.
pub unsafe fn mprotect(address: *mut u8, length: usize, protection: i32) -> Result<usize, Errno> {
    call!(number::MPROTECT, address, length, protection)
}
/// Returns the new break (the old one when `address` is refused), as Linux does.
pub fn brk(address: usize) -> usize {
    call!(number::BRK, address).unwrap_or(0)
}
pub fn fork() -> Result<usize, Errno> {
    call!(number::FORK)
}
/// # Safety
/// NUL-terminated path and NULL-terminated argument/environment arrays.
pub unsafe fn execve(
    path: *const u8,
    arguments: *const *const u8,
    environment: *const *const u8,
) -> Result<usize, Errno> {
    call!(number::EXECVE, path, arguments, environment)
}
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group takes no pointers and does not return.
    unsafe {
        syscall6(number::EXIT_GROUP, status as usize, 0, 0, 0, 0, 0);
    }
    loop {
        core::hint::spin_loop();
    }
}
/// # Safety
/// `status` null or writable; `usage` null or writable for a `struct rusage`.
pub unsafe fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut u8) -> Result<usize, Errno> {
    call!(number::WAIT4, pid, status, options, usage)
}
pub fn kill(pid: i32, signal: i32) -> Result<usize, Errno> {
    call!(number::KILL, pid, signal)
}
pub fn getpid() -> i32 {
    call!(number::GETPID).unwrap_or(0) as i32
}
pub fn getppid() -> i32 {
    call!(number::GETPPID).unwrap_or(0) as i32
}
pub fn gettid() -> i32 {
    call!(number::GETTID).unwrap_or(0) as i32
}
pub fn getuid() -> u32 {
    call!(number::GETUID).unwrap_or(0) as u32
}
pub fn geteuid() -> u32 {
    call!(number::GETEUID).unwrap_or(0) as u32
}
pub fn getgid() -> u32 {
    call!(number::GETGID).unwrap_or(0) as u32
}
pub fn getegid() -> u32 {
    call!(number::GETEGID).unwrap_or(0) as u32
}
pub fn setpgid(pid: i32, group: i32) -> Result<usize, Errno> {
    call!(number::SETPGID, pid, group)
}
pub fn getpgid(pid: i32) -> Result<usize, Errno> {
    call!(number::GETPGID, pid)
}
pub fn setsid() -> Result<usize, Errno> {
    call!(number::SETSID)
}
pub fn getsid(pid: i32) -> Result<usize, Errno> {
    call!(number::GETSID, pid)
}
/// The kernel's `struct sigaction` on x86_64.
#[repr(C)]
#[derive(Default)]
struct KernelSignalAction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// Linux requires a user-space restorer that calls rt_sigreturn when a handler returns.
const SA_RESTORER: u64 = 0x0400_0000;

core::arch::global_asm!(
    ".globl __minilibc_signal_return",
    ".type __minilibc_signal_return,@function",
    "__minilibc_signal_return:",
    "mov eax, 15",
    "syscall",
);

extern "C" {
    fn __minilibc_signal_return();
}

/// Installs `new` (if any) for `signal` and returns the previous action.
pub fn sigaction(signal: i32, new: Option<SignalAction>) -> Result<SignalAction, Errno> {
    let kernel_new = new.map(|action| KernelSignalAction {
        handler: action.handler,
        flags: action.flags | SA_RESTORER,
        restorer: __minilibc_signal_return as unsafe extern "C" fn() as usize,
        mask: action.mask,
    });
    let mut kernel_old = KernelSignalAction::default();
    let new_pointer = kernel_new.as_ref().map_or(core::ptr::null(), |action| action as *const KernelSignalAction);
    call!(number::RT_SIGACTION, signal, new_pointer, &mut kernel_old as *mut KernelSignalAction, 8)?;
    Ok(SignalAction { handler: kernel_old.handler, flags: kernel_old.flags & !SA_RESTORER, mask: kernel_old.mask })
}

/// The path name the system has for open descriptor `fd`, written into
/// `buffer` (not NUL-terminated); returns its length.
///
/// # Safety
/// `buffer` writable for `size` bytes.
pub unsafe fn descriptor_path(fd: i32, buffer: *mut u8, size: usize) -> Result<usize, Errno> {
    let mut link = [0u8; 32];
    let prefix = b"/proc/self/fd/";
    link[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 12];
    let mut value = fd.unsigned_abs();
    let mut count = 0;
    loop {
        digits[count] = b'0' + (value % 10) as u8;
        count += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for index in 0..count {
        link[prefix.len() + index] = digits[count - 1 - index];
    }
    // SAFETY: `link` is NUL-terminated (zero-filled); the caller's buffer holds `size` bytes.
    unsafe { readlink_at(AT_FDCWD, link.as_ptr(), buffer, size) }
}
/// # Safety
/// `new` and `old` null or valid 64-bit masks.
pub unsafe fn sigprocmask(how: i32, new: *const u64, old: *mut u64) -> Result<usize, Errno> {
    call!(number::RT_SIGPROCMASK, how, new, old, 8)
}
/// # Safety
/// `set` writable.
pub unsafe fn sigpending(set: *mut u64) -> Result<usize, Errno> {
    call!(number::RT_SIGPENDING, set, 8)
}
/// # Safety
/// `mask` readable.
pub unsafe fn sigsuspend(mask: *const u64) -> Result<usize, Errno> {
    call!(number::RT_SIGSUSPEND, mask, 8)
}
pub fn alarm(seconds: u32) -> u32 {
    call!(number::ALARM, seconds).unwrap_or(0) as u32
}
/// # Safety
/// `time` writable for a `struct timespec`.
pub unsafe fn clock_gettime(clock: i32, time: *mut i64) -> Result<usize, Errno> {
    call!(number::CLOCK_GETTIME, clock, time)
}
/// # Safety
/// `time` null or writable for a `struct timespec`.
pub unsafe fn clock_getres(clock: i32, time: *mut i64) -> Result<usize, Errno> {
    call!(number::CLOCK_GETRES, clock, time)
}
/// # Safety
/// `request` readable, `remaining` null or writable.
pub unsafe fn nanosleep(request: *const i64, remaining: *mut i64) -> Result<usize, Errno> {
    call!(number::NANOSLEEP, request, remaining)
}
/// # Safety
/// `name` writable for a `struct utsname`.
pub unsafe fn uname(name: *mut u8) -> Result<usize, Errno> {
    call!(number::UNAME, name)
}
/// # Safety
/// `buffer` writable for `length` bytes.
pub unsafe fn getrandom(buffer: *mut u8, length: usize, flags: u32) -> Result<usize, Errno> {
    call!(number::GETRANDOM, buffer, length, flags)
}
/// # Safety
/// `usage` writable for a `struct rusage`.
pub unsafe fn getrusage(who: i32, usage: *mut u8) -> Result<usize, Errno> {
    call!(number::GETRUSAGE, who, usage)
}
/// # Safety
/// `new` null or a readable `struct rlimit`, `old` null or writable.
pub unsafe fn prlimit(resource: i32, new: *const u64, old: *mut u64) -> Result<usize, Errno> {
    call!(number::PRLIMIT64, 0, resource, new, old)
}
/// # Safety
/// `path` null (then `dir` is the file) or NUL-terminated; `times` null or two timespecs.
pub unsafe fn utimens_at(dir: i32, path: *const u8, times: *const i64, flags: i32) -> Result<usize, Errno> {
    call!(number::UTIMENSAT, dir, path, times, flags)
}
/// The number of processors this process may run on.
pub fn processor_count() -> Result<usize, Errno> {
    let mut mask = [0u64; 16];
    let bytes = call!(number::SCHED_GETAFFINITY, 0, core::mem::size_of_val(&mask), mask.as_mut_ptr())?;
    Ok(mask[..bytes / 8].iter().map(|word| word.count_ones() as usize).sum())
}
/// Points the thread register (%fs) at `block`, the thread control block.
///
/// # Safety
/// `block` must stay valid for the life of the process.
pub unsafe fn set_thread_pointer(block: *mut u8) -> Result<usize, Errno> {
    call!(number::ARCH_PRCTL, 0x1002, block)
}

/// Starts `path` in a new process with `arguments` and `environment`, after
/// applying `actions` and `attributes` in the child (posix_spawn). With
/// `search` (a PATH value), a `path` without a slash is looked up in its
/// directories as execvp does. Returns the child's pid; an error in the child
/// before or at exec is reported to the caller (and the child reaped), as
/// glibc does. Linux has no such call: this is fork, the steps, exec, with a
/// close-on-exec pipe carrying the child's error number back. (Mach_R's
/// back end makes it one request to the process server.)
///
/// # Safety
/// NUL-terminated strings, NULL-terminated arrays, the actions' paths valid.
pub unsafe fn spawn(
    path: *const u8,
    search: Option<&[u8]>,
    arguments: *const *const u8,
    environment: *const *const u8,
    actions: &[SpawnAction],
    attributes: &SpawnAttributes,
) -> Result<usize, Errno> {
    const O_CLOEXEC: i32 = 0o2000000;
    const SIG_SETMASK: i32 = 2;
    let mut report = [0i32; 2];
    // SAFETY: two writable ints.
    unsafe { pipe2(report.as_mut_ptr(), O_CLOEXEC)? };
    // Every signal stays blocked in the child until just before exec, so no
    // handler of the caller's runs there (and tcsetpgrp from a background
    // group is not stopped by SIGTTOU).
    let all = !0u64;
    let mut caller_mask = 0u64;
    // SAFETY: valid masks.
    let _ = unsafe { sigprocmask(SIG_SETMASK, &all, &mut caller_mask) };
    let forked = fork();
    if let Ok(0) = forked {
        // SAFETY: the caller's contract covers every pointer the child uses.
        let (error, report) =
            unsafe { spawn_child(path, search, arguments, environment, actions, attributes, report[1], caller_mask) };
        let bytes = error.0.to_ne_bytes();
        // SAFETY: four readable bytes.
        let _ = unsafe { write(report, bytes.as_ptr(), 4) };
        exit_group(127);
    }
    // SAFETY: a valid mask.
    let _ = unsafe { sigprocmask(SIG_SETMASK, &caller_mask, core::ptr::null_mut()) };
    let _ = close(report[1]);
    let pid = match forked {
        Ok(pid) => pid,
        Err(error) => {
            let _ = close(report[0]);
            return Err(error);
        }
    };
    let mut bytes = [0u8; 4];
    let received = loop {
        // SAFETY: four writable bytes.
        match unsafe { read(report[0], bytes.as_mut_ptr(), 4) } {
            Err(Errno(EINTR)) => continue,
            other => break other,
        }
    };
    let _ = close(report[0]);
    if let Ok(4) = received {
        let mut status = 0;
        // SAFETY: a writable status word.
        while let Err(Errno(EINTR)) = unsafe { wait4(pid as i32, &mut status, 0, core::ptr::null_mut()) } {}
        return Err(Errno(i32::from_ne_bytes(bytes)));
    }
    Ok(pid)
}

const EINTR: i32 = 4;

/// The child's side of `spawn`: returns only with the error that stopped it,
/// and the descriptor the report goes to (moved if an action needed its number).
///
/// # Safety
/// As `spawn`.
#[allow(clippy::too_many_arguments)]
unsafe fn spawn_child(
    path: *const u8,
    search: Option<&[u8]>,
    arguments: *const *const u8,
    environment: *const *const u8,
    actions: &[SpawnAction],
    attributes: &SpawnAttributes,
    report: i32,
    caller_mask: u64,
) -> (Errno, i32) {
    use super::{SPAWN_SET_PROCESS_GROUP, SPAWN_SET_SESSION, SPAWN_SET_SIGNAL_DEFAULT, SPAWN_SET_SIGNAL_MASK};
    const F_DUPFD_CLOEXEC: i32 = 1030;
    const F_GETFD: i32 = 1;
    const F_SETFD: i32 = 2;
    const SIG_SETMASK: i32 = 2;
    const TIOCSPGRP: u64 = 0x5410;
    // Handlers cannot survive exec; reset them now so none runs in between.
    for signal in 1..=64 {
        let reset =
            attributes.flags & SPAWN_SET_SIGNAL_DEFAULT != 0 && attributes.default_signals & (1 << (signal - 1)) != 0;
        match sigaction(signal, None) {
            Ok(action) if reset || action.handler > 1 => {
                let _ = sigaction(signal, Some(SignalAction { handler: 0, flags: 0, mask: 0 }));
            }
            _ => {}
        }
    }
    if attributes.flags & SPAWN_SET_SESSION != 0 {
        if let Err(error) = setsid() {
            return (error, report);
        }
    }
    if attributes.flags & SPAWN_SET_PROCESS_GROUP != 0 {
        if let Err(error) = setpgid(0, attributes.process_group) {
            return (error, report);
        }
    }
    // Keep the report descriptor above every descriptor the actions touch.
    let highest = actions
        .iter()
        .map(|action| match *action {
            SpawnAction::Open { fd, .. } | SpawnAction::Close { fd } => fd,
            SpawnAction::Duplicate { from, to } => from.max(to),
            SpawnAction::ChangeDirectoryTo { fd } | SpawnAction::TerminalForeground { fd } => fd,
            SpawnAction::ChangeDirectory { .. } => 0,
        })
        .max()
        .unwrap_or(0);
    let mut report = report;
    if report <= highest {
        // SAFETY: F_DUPFD_CLOEXEC takes an integer.
        match unsafe { fcntl(report, F_DUPFD_CLOEXEC, highest as usize + 1) } {
            Ok(moved) => {
                let _ = close(report);
                report = moved as i32;
            }
            Err(error) => return (error, report),
        }
    }
    for action in actions {
        // SAFETY: the caller's contract covers the actions' paths.
        let outcome = unsafe {
            match *action {
                SpawnAction::Open { fd, path, flags, mode } => {
                    open_at(AT_FDCWD, path, flags, mode).and_then(|opened| {
                        if opened as i32 != fd {
                            let moved = dup3(opened as i32, fd, 0);
                            let _ = close(opened as i32);
                            moved
                        } else {
                            Ok(opened)
                        }
                    })
                }
                SpawnAction::Close { fd } => match close(fd) {
                    Err(Errno(9)) => Ok(0),
                    other => other,
                },
                SpawnAction::Duplicate { from, to } if from == to => {
                    fcntl(from, F_GETFD, 0).and_then(|flags| fcntl(from, F_SETFD, flags & !1))
                }
                SpawnAction::Duplicate { from, to } => dup3(from, to, 0),
                SpawnAction::ChangeDirectory { path } => chdir(path),
                SpawnAction::ChangeDirectoryTo { fd } => fchdir(fd),
                SpawnAction::TerminalForeground { fd } => {
                    let group = getpgid(0).unwrap_or(0) as i32;
                    ioctl(fd, TIOCSPGRP, &group as *const i32 as usize)
                }
            }
        };
        if let Err(error) = outcome {
            return (error, report);
        }
    }
    let mask = if attributes.flags & SPAWN_SET_SIGNAL_MASK != 0 { attributes.signal_mask } else { caller_mask };
    // SAFETY: a valid mask.
    let _ = unsafe { sigprocmask(SIG_SETMASK, &mask, core::ptr::null_mut()) };
    // SAFETY: the caller's contract.
    (unsafe { execute_searching(path, search, arguments, environment) }, report)
}

/// execve, or with `search` execvp's search of PATH's directories (an empty
/// entry is the working directory; EACCES is remembered while the search
/// goes on). Returns the error that ended the attempt.
///
/// # Safety
/// As `execve`.
unsafe fn execute_searching(
    path: *const u8,
    search: Option<&[u8]>,
    arguments: *const *const u8,
    environment: *const *const u8,
) -> Errno {
    // SAFETY: NUL-terminated `path`.
    let name = unsafe {
        let mut length = 0;
        while *path.add(length) != 0 {
            length += 1;
        }
        core::slice::from_raw_parts(path, length)
    };
    let search = match search {
        Some(directories) if !name.contains(&b'/') => directories,
        // SAFETY: the caller's contract.
        _ => return unsafe { execve(path, arguments, environment) }.err().unwrap_or(Errno(0)),
    };
    if name.is_empty() {
        return Errno(2);
    }
    let mut last_error = Errno(2);
    let mut candidate = [0u8; 4096];
    for directory in search.split(|&byte| byte == b':') {
        let directory: &[u8] = if directory.is_empty() { b"." } else { directory };
        let length = directory.len() + 1 + name.len();
        if length >= candidate.len() {
            last_error = Errno(36);
            continue;
        }
        candidate[..directory.len()].copy_from_slice(directory);
        candidate[directory.len()] = b'/';
        candidate[directory.len() + 1..length].copy_from_slice(name);
        candidate[length] = 0;
        // SAFETY: `candidate` is NUL-terminated; the arrays are the caller's.
        if let Err(error) = unsafe { execve(candidate.as_ptr(), arguments, environment) } {
            if error.0 != 2 && error.0 != 20 {
                last_error = error;
            }
        }
    }
    last_error
}

/// # Safety
/// `path` NUL-terminated; `buffer` writable for a Linux `struct statfs` (120 bytes).
pub unsafe fn statfs(path: *const u8, buffer: *mut u8) -> Result<usize, Errno> {
    call!(number::STATFS, path, buffer)
}
/// # Safety
/// `buffer` writable for a Linux `struct statfs`.
pub unsafe fn fstatfs(fd: i32, buffer: *mut u8) -> Result<usize, Errno> {
    call!(number::FSTATFS, fd, buffer)
}
/// # Safety
/// NUL-terminated strings (`source`, `kind` and `data` may be null).
pub unsafe fn mount(
    source: *const u8,
    target: *const u8,
    kind: *const u8,
    flags: u64,
    data: *const u8,
) -> Result<usize, Errno> {
    call!(number::MOUNT, source, target, kind, flags, data, 0)
}
/// # Safety
/// `target` NUL-terminated.
pub unsafe fn unmount(target: *const u8, flags: i32) -> Result<usize, Errno> {
    call!(number::UMOUNT2, target, flags)
}
/// Restarts, halts or powers off (`<sys/reboot.h>`'s RB_* commands).
pub fn reboot(command: u32) -> Result<usize, Errno> {
    const MAGIC: usize = 0xfee1_dead;
    const MAGIC2: usize = 672_274_793;
    call!(number::REBOOT, MAGIC, MAGIC2, command, 0)
}
/// # Safety
/// `list` writable for `size` group ids (or `size` 0).
pub unsafe fn getgroups(size: i32, list: *mut u32) -> Result<usize, Errno> {
    call!(number::GETGROUPS, size, list)
}
/// The kernel log (syslog(2)'s commands: 3 reads it all, 10 its size).
///
/// # Safety
/// `buffer` writable for `length` bytes (or null when the command takes none).
pub unsafe fn kernel_log(command: i32, buffer: *mut u8, length: i32) -> Result<usize, Errno> {
    call!(number::SYSLOG, command, buffer, length)
}

/// Reads a small /proc file whole into `buffer` (NUL-terminated `path`).
fn read_proc_file(path: &[u8], buffer: &mut [u8]) -> Result<usize, Errno> {
    const O_RDONLY_CLOEXEC: i32 = 0o2000000;
    // SAFETY: `path` is NUL-terminated by the caller.
    let fd = unsafe { open_at(AT_FDCWD, path.as_ptr(), O_RDONLY_CLOEXEC, 0)? } as i32;
    let mut filled = 0;
    let result = loop {
        if filled == buffer.len() {
            break Ok(filled);
        }
        // SAFETY: the rest of `buffer` is writable.
        match unsafe { read(fd, buffer[filled..].as_mut_ptr(), buffer.len() - filled) } {
            Ok(0) => break Ok(filled),
            Ok(count) => filled += count,
            Err(Errno(EINTR)) => {}
            Err(error) => break Err(error),
        }
    };
    let _ = close(fd);
    result
}

/// "/proc/PID/NAME\0" in `buffer`.
fn proc_path<'a>(buffer: &'a mut [u8; 64], pid: &[u8], name: &[u8]) -> &'a [u8] {
    let mut length = 0;
    for part in [&b"/proc/"[..], pid, b"/", name] {
        let end = (length + part.len()).min(buffer.len() - 1);
        buffer[length..end].copy_from_slice(&part[..end - length]);
        length = end;
    }
    buffer[length] = 0;
    &buffer[..=length]
}

/// Fills `list` with up to `list.len()` processes from /proc; returns how
/// many processes there are (possibly more than were filled).
pub fn process_list(list: &mut [ProcessRecord]) -> Result<usize, Errno> {
    use crate::process_table::{parse_boot_time, parse_stat, parse_status_ids};
    const O_DIRECTORY_CLOEXEC: i32 = 0o2000000 | 0o200000;
    const TICKS_PER_SECOND: u64 = 100;
    const PAGE_SIZE: u64 = 4096;
    let mut text = [0u8; 16384];
    let boot = read_proc_file(b"/proc/stat\0", &mut text)
        .ok()
        .and_then(|length| parse_boot_time(&text[..length]))
        .unwrap_or(0);
    // SAFETY: a NUL-terminated path.
    let directory = unsafe { open_at(AT_FDCWD, c"/proc".as_ptr().cast(), O_DIRECTORY_CLOEXEC, 0)? } as i32;
    let mut entries = [0u8; 4096];
    let mut count = 0;
    loop {
        // SAFETY: a writable buffer.
        let length = match unsafe { getdents(directory, entries.as_mut_ptr(), entries.len()) } {
            Ok(0) => break,
            Ok(length) => length,
            Err(error) => {
                let _ = close(directory);
                return Err(error);
            }
        };
        let mut offset = 0;
        while offset + 19 < length {
            let record_length = u16::from_ne_bytes([entries[offset + 16], entries[offset + 17]]) as usize;
            if record_length == 0 {
                break;
            }
            let name_area = &entries[offset + 19..(offset + record_length).min(length)];
            let name_length = name_area.iter().position(|&byte| byte == 0).unwrap_or(name_area.len());
            let name = &name_area[..name_length];
            offset += record_length;
            if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
                continue;
            }
            let mut path = [0u8; 64];
            // A process may end while we look: skip it then.
            let Ok(stat_length) = read_proc_file(proc_path(&mut path, name, b"stat"), &mut text) else { continue };
            let Some(fields) = parse_stat(&text[..stat_length]) else { continue };
            if count < list.len() {
                let record = &mut list[count];
                *record = ProcessRecord::EMPTY;
                record.pid = fields.pid;
                record.parent = fields.parent;
                record.group = fields.group;
                record.session = fields.session;
                record.terminal = fields.terminal as u32 as u64;
                record.state = fields.state;
                record.nice = fields.nice;
                record.threads = fields.threads;
                record.size = fields.virtual_bytes;
                record.resident = fields.resident_pages * PAGE_SIZE;
                record.cpu_microseconds = (fields.user_ticks + fields.system_ticks) * (1_000_000 / TICKS_PER_SECOND);
                record.start = boot + (fields.start_ticks / TICKS_PER_SECOND) as i64;
                let command_length = fields.command.len().min(record.command.len() - 1);
                record.command[..command_length].copy_from_slice(&fields.command[..command_length]);
                let mut status = [0u8; 4096];
                if let Ok(status_length) = read_proc_file(proc_path(&mut path, name, b"status"), &mut status) {
                    let (user, group) = parse_status_ids(&status[..status_length]);
                    record.user = user.unwrap_or(0);
                    record.group_id = group.unwrap_or(0);
                }
                let mut arguments = [0u8; 255];
                if let Ok(arguments_length) = read_proc_file(proc_path(&mut path, name, b"cmdline"), &mut arguments) {
                    let mut end = arguments_length;
                    while end > 0 && arguments[end - 1] == 0 {
                        end -= 1;
                    }
                    for (index, &byte) in arguments[..end].iter().enumerate() {
                        record.arguments[index] = if byte == 0 { b' ' } else { byte };
                    }
                }
            }
            count += 1;
        }
    }
    let _ = close(directory);
    Ok(count)
}

/// What a process does first: on Linux the kernel set everything up.
///
/// # Safety
/// `stack` is the initial process stack (unused here).
pub unsafe fn start(_stack: *const usize) {}

/// # Safety
/// The usual `msync` contract.
pub unsafe fn msync(address: *mut u8, length: usize, flags: i32) -> Result<usize, Errno> {
    call!(26, address, length, flags)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn mknod_at(dir: i32, path: *const u8, mode: u32, device: u64) -> Result<usize, Errno> {
    call!(259, dir, path, mode, device)
}

pub fn flock(fd: i32, operation: i32) -> Result<usize, Errno> {
    call!(73, fd, operation)
}

/// # Safety
/// `new` null or a readable `stack_t`, `old` null or writable.
pub unsafe fn sigaltstack(new: *const u8, old: *mut u8) -> Result<usize, Errno> {
    call!(131, new, old)
}

/// setitimer/getitimer(ITIMER_REAL) in microseconds: sets (value,
/// interval) if `new` is given, and returns the old ones.
pub fn real_timer(new: Option<(u64, u64)>) -> Result<(u64, u64), Errno> {
    let to_timeval = |microseconds: u64| [(microseconds / 1_000_000) as i64, (microseconds % 1_000_000) as i64];
    let mut old = [0i64; 4];
    match new {
        Some((value, interval)) => {
            let [interval_seconds, interval_micro] = to_timeval(interval);
            let [value_seconds, value_micro] = to_timeval(value);
            let timer = [interval_seconds, interval_micro, value_seconds, value_micro];
            call!(38, 0, timer.as_ptr(), old.as_mut_ptr())?;
        }
        None => {
            call!(36, 0, old.as_mut_ptr())?;
        }
    }
    let micro = |seconds: i64, micro: i64| seconds as u64 * 1_000_000 + micro as u64;
    Ok((micro(old[2], old[3]), micro(old[0], old[1])))
}

/// The real, effective and saved ids (`which` 0: users, 1: groups).
pub fn get_ids(which: u32) -> Result<[u32; 3], Errno> {
    let mut ids = [0u32; 3];
    let number = if which == 0 { 118 } else { 120 };
    call!(number, &mut ids[0] as *mut u32, &mut ids[1] as *mut u32, &mut ids[2] as *mut u32)?;
    Ok(ids)
}

/// The setuid family: `which` 0 users, 1 groups; `kind` 0 setuid, 1
/// setreuid, 2 setresuid, 3 seteuid; -1 keeps an id.
pub fn set_ids(which: u32, kind: u32, real: i64, effective: i64, saved: i64) -> Result<usize, Errno> {
    let users = which == 0;
    match kind {
        0 => call!(if users { 105 } else { 106 }, real as u32),
        1 => call!(if users { 113 } else { 114 }, real as u32, effective as u32),
        2 => call!(if users { 117 } else { 119 }, real as u32, effective as u32, saved as u32),
        3 => call!(if users { 117 } else { 119 }, u32::MAX, effective as u32, u32::MAX),
        _ => Err(Errno(22)),
    }
}

/// # Safety
/// `list` readable for `size` group ids.
pub unsafe fn setgroups(size: usize, list: *const u32) -> Result<usize, Errno> {
    call!(116, size, list)
}

/// sched_yield.
pub fn yield_processor() {
    let _ = call!(24);
}

/// Where named semaphores live (glibc's place).
pub const SHARED_MEMORY_DIRECTORY: &[u8] = b"/dev/shm/";

/// Waits while `word` holds `expected`, at most `timeout` nanoseconds (a
/// futex; `shared`: the word may be in memory shared with other processes).
/// Ok or Err(EAGAIN) when the word changed or a wake came, ETIMEDOUT,
/// EINTR when a handler ran. `patience` (how often the caller waited
/// already) is for back ends without a kernel wait.
pub fn wait_for_change(
    word: &core::sync::atomic::AtomicU32,
    expected: u32,
    shared: bool,
    timeout: Option<u64>,
    _patience: u32,
) -> Result<usize, Errno> {
    const FUTEX_WAIT: usize = 0;
    const FUTEX_PRIVATE_FLAG: usize = 128;
    let operation = if shared { FUTEX_WAIT } else { FUTEX_WAIT | FUTEX_PRIVATE_FLAG };
    let time = timeout.map(|nanoseconds| [(nanoseconds / 1_000_000_000) as i64, (nanoseconds % 1_000_000_000) as i64]);
    let time_pointer = time.as_ref().map_or(core::ptr::null(), |time| time.as_ptr());
    call!(202, word.as_ptr(), operation, expected, time_pointer)
}

/// Wakes up to `count` waiters of `word`.
pub fn wake_waiters(word: &core::sync::atomic::AtomicU32, shared: bool, count: u32) {
    const FUTEX_WAKE: usize = 1;
    const FUTEX_PRIVATE_FLAG: usize = 128;
    let operation = if shared { FUTEX_WAKE } else { FUTEX_WAKE | FUTEX_PRIVATE_FLAG };
    let _ = call!(202, word.as_ptr(), operation, count);
}
