//! The C functions of minilibc this crate calls, declared as its headers
//! declare them. Linked from minilibc's `libc.a` in a program (glibc's in
//! the host tests, whose x86_64 layouts are the same).
#![allow(missing_docs)]

use crate::types::*;

/// `FILE`: opaque.
#[repr(C)]
pub struct CFile {
    _private: [u8; 0],
}

/// `DIR`: opaque.
#[repr(C)]
pub struct Dir {
    _private: [u8; 0],
}

extern "C" {
    pub fn __errno_location() -> *mut i32;
    pub fn strerror(number: i32) -> *const u8;
    pub fn strsignal(number: i32) -> *const u8;

    // Memory.
    pub fn malloc(size: usize) -> *mut u8;
    pub fn calloc(count: usize, size: usize) -> *mut u8;
    pub fn realloc(block: *mut u8, size: usize) -> *mut u8;
    pub fn free(block: *mut u8);
    pub fn posix_memalign(result: *mut *mut u8, alignment: usize, size: usize) -> i32;

    // Descriptors.
    pub fn open(path: *const u8, flags: i32, ...) -> i32;
    pub fn openat(dir: i32, path: *const u8, flags: i32, ...) -> i32;
    pub fn close(fd: i32) -> i32;
    pub fn read(fd: i32, buffer: *mut u8, count: usize) -> isize;
    pub fn write(fd: i32, buffer: *const u8, count: usize) -> isize;
    pub fn pread(fd: i32, buffer: *mut u8, count: usize, offset: i64) -> isize;
    pub fn pwrite(fd: i32, buffer: *const u8, count: usize, offset: i64) -> isize;
    pub fn lseek(fd: i32, offset: i64, whence: i32) -> i64;
    pub fn dup(fd: i32) -> i32;
    pub fn dup2(old: i32, new: i32) -> i32;
    pub fn pipe(fds: *mut i32) -> i32;
    pub fn pipe2(fds: *mut i32, flags: i32) -> i32;
    pub fn fcntl(fd: i32, command: i32, ...) -> i32;
    pub fn ioctl(fd: i32, request: u64, ...) -> i32;
    pub fn poll(fds: *mut Pollfd, count: u64, timeout: i32) -> i32;
    pub fn fsync(fd: i32) -> i32;
    pub fn sync();
    pub fn ftruncate(fd: i32, length: i64) -> i32;
    pub fn isatty(fd: i32) -> i32;
    pub fn ttyname(fd: i32) -> *mut u8;

    // Files and directories.
    pub fn stat(path: *const u8, buffer: *mut Stat) -> i32;
    pub fn lstat(path: *const u8, buffer: *mut Stat) -> i32;
    pub fn fstat(fd: i32, buffer: *mut Stat) -> i32;
    pub fn fstatat(dir: i32, path: *const u8, buffer: *mut Stat, flags: i32) -> i32;
    pub fn access(path: *const u8, mode: i32) -> i32;
    pub fn mkdir(path: *const u8, mode: u32) -> i32;
    pub fn rmdir(path: *const u8) -> i32;
    pub fn unlink(path: *const u8) -> i32;
    pub fn unlinkat(dir: i32, path: *const u8, flags: i32) -> i32;
    pub fn rename(old: *const u8, new: *const u8) -> i32;
    pub fn link(old: *const u8, new: *const u8) -> i32;
    pub fn symlink(target: *const u8, path: *const u8) -> i32;
    pub fn readlink(path: *const u8, buffer: *mut u8, size: usize) -> isize;
    pub fn chmod(path: *const u8, mode: u32) -> i32;
    pub fn fchmod(fd: i32, mode: u32) -> i32;
    pub fn chown(path: *const u8, user: u32, group: u32) -> i32;
    pub fn lchown(path: *const u8, user: u32, group: u32) -> i32;
    pub fn fchown(fd: i32, user: u32, group: u32) -> i32;
    pub fn truncate(path: *const u8, length: i64) -> i32;
    pub fn utimensat(dir: i32, path: *const u8, times: *const Timespec, flags: i32) -> i32;
    pub fn futimens(fd: i32, times: *const Timespec) -> i32;
    pub fn umask(mask: u32) -> u32;
    pub fn getcwd(buffer: *mut u8, size: usize) -> *mut u8;
    pub fn chdir(path: *const u8) -> i32;
    pub fn fchdir(fd: i32) -> i32;
    pub fn realpath(path: *const u8, resolved: *mut u8) -> *mut u8;
    pub fn opendir(path: *const u8) -> *mut Dir;
    pub fn fdopendir(fd: i32) -> *mut Dir;
    pub fn readdir(directory: *mut Dir) -> *mut Dirent;
    pub fn closedir(directory: *mut Dir) -> i32;
    pub fn dirfd(directory: *mut Dir) -> i32;

    // Processes.
    pub fn fork() -> i32;
    pub fn execve(path: *const u8, arguments: *const *const u8, environment: *const *const u8) -> i32;
    pub fn execvp(file: *const u8, arguments: *const *const u8) -> i32;
    pub fn execvpe(file: *const u8, arguments: *const *const u8, environment: *const *const u8) -> i32;
    pub fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    pub fn exit(status: i32) -> !;
    pub fn _exit(status: i32) -> !;
    pub fn abort() -> !;
    pub fn atexit(function: extern "C" fn()) -> i32;
    pub fn getpid() -> i32;
    pub fn getppid() -> i32;
    pub fn getuid() -> u32;
    pub fn geteuid() -> u32;
    pub fn getgid() -> u32;
    pub fn getegid() -> u32;
    pub fn setpgid(pid: i32, group: i32) -> i32;
    pub fn getpgid(pid: i32) -> i32;
    pub fn getpgrp() -> i32;
    pub fn setsid() -> i32;
    pub fn getsid(pid: i32) -> i32;
    pub fn kill(pid: i32, signal: i32) -> i32;
    pub fn posix_spawn(
        pid: *mut i32,
        path: *const u8,
        actions: *const SpawnFileActions,
        attributes: *const SpawnAttributes,
        arguments: *const *const u8,
        environment: *const *const u8,
    ) -> i32;
    pub fn posix_spawnp(
        pid: *mut i32,
        file: *const u8,
        actions: *const SpawnFileActions,
        attributes: *const SpawnAttributes,
        arguments: *const *const u8,
        environment: *const *const u8,
    ) -> i32;
    pub fn posix_spawn_file_actions_init(actions: *mut SpawnFileActions) -> i32;
    pub fn posix_spawn_file_actions_destroy(actions: *mut SpawnFileActions) -> i32;
    pub fn posix_spawn_file_actions_addopen(
        actions: *mut SpawnFileActions,
        fd: i32,
        path: *const u8,
        flags: i32,
        mode: u32,
    ) -> i32;
    pub fn posix_spawn_file_actions_addclose(actions: *mut SpawnFileActions, fd: i32) -> i32;
    pub fn posix_spawn_file_actions_adddup2(actions: *mut SpawnFileActions, fd: i32, new_fd: i32) -> i32;
    pub fn posix_spawn_file_actions_addchdir_np(actions: *mut SpawnFileActions, path: *const u8) -> i32;
    pub fn posix_spawn_file_actions_addtcsetpgrp_np(actions: *mut SpawnFileActions, fd: i32) -> i32;
    pub fn posix_spawnattr_init(attributes: *mut SpawnAttributes) -> i32;
    pub fn posix_spawnattr_destroy(attributes: *mut SpawnAttributes) -> i32;
    pub fn posix_spawnattr_setflags(attributes: *mut SpawnAttributes, flags: i16) -> i32;
    pub fn posix_spawnattr_setpgroup(attributes: *mut SpawnAttributes, group: i32) -> i32;
    pub fn posix_spawnattr_setsigmask(attributes: *mut SpawnAttributes, mask: *const u64) -> i32;
    pub fn posix_spawnattr_setsigdefault(attributes: *mut SpawnAttributes, signals: *const u64) -> i32;

    // Signals.
    pub fn sigaction(signal: i32, action: *const Sigaction, old: *mut Sigaction) -> i32;
    pub fn sigprocmask(how: i32, set: *const u64, old: *mut u64) -> i32;
    pub fn sigpending(set: *mut u64) -> i32;
    pub fn sigsuspend(mask: *const u64) -> i32;
    pub fn raise(signal: i32) -> i32;
    pub fn alarm(seconds: u32) -> u32;

    // Terminals.
    pub fn tcgetattr(fd: i32, terminal: *mut Termios) -> i32;
    pub fn tcsetattr(fd: i32, action: i32, terminal: *const Termios) -> i32;
    pub fn cfmakeraw(terminal: *mut Termios);
    pub fn tcgetpgrp(fd: i32) -> i32;
    pub fn tcsetpgrp(fd: i32, group: i32) -> i32;
    pub fn tcflush(fd: i32, queue: i32) -> i32;

    // Time.
    pub fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    pub fn nanosleep(request: *const Timespec, remaining: *mut Timespec) -> i32;
    pub fn localtime_r(time: *const i64, result: *mut Tm) -> *mut Tm;
    pub fn gmtime_r(time: *const i64, result: *mut Tm) -> *mut Tm;
    pub fn mktime(time: *mut Tm) -> i64;
    pub fn timegm(time: *mut Tm) -> i64;
    pub fn strftime(buffer: *mut u8, size: usize, format: *const u8, time: *const Tm) -> usize;

    // Environment.
    pub fn getenv(name: *const u8) -> *mut u8;
    pub fn setenv(name: *const u8, value: *const u8, overwrite: i32) -> i32;
    pub fn unsetenv(name: *const u8) -> i32;
    pub static mut environ: *const *const u8;

    // System and accounts.
    pub fn uname(name: *mut Utsname) -> i32;
    pub fn gethostname(name: *mut u8, size: usize) -> i32;
    pub fn getpwuid(user: u32) -> *mut Passwd;
    pub fn getpwnam(name: *const u8) -> *mut Passwd;
    pub fn getgrgid(group: u32) -> *mut Group;
    pub fn getgrnam(name: *const u8) -> *mut Group;
    pub fn getrlimit(resource: i32, limit: *mut Rlimit) -> i32;
    pub fn getgroups(size: i32, list: *mut u32) -> i32;
    pub fn getgrouplist(user: *const u8, group: u32, groups: *mut u32, count: *mut i32) -> i32;

    // File systems, mounts, the kernel log, processes, shutdown.
    pub fn statfs(path: *const u8, buffer: *mut Statfs) -> i32;
    pub fn statvfs(path: *const u8, buffer: *mut Statvfs) -> i32;
    pub fn setmntent(path: *const u8, mode: *const u8) -> *mut CFile;
    pub fn getmntent_r(stream: *mut CFile, entry: *mut Mntent, buffer: *mut u8, size: i32) -> *mut Mntent;
    pub fn endmntent(stream: *mut CFile) -> i32;
    pub fn mount(source: *const u8, target: *const u8, kind: *const u8, flags: u64, data: *const u8) -> i32;
    pub fn umount2(target: *const u8, flags: i32) -> i32;
    pub fn reboot(command: u32) -> i32;
    pub fn klogctl(command: i32, buffer: *mut u8, length: i32) -> i32;
    pub fn getprocinfo(list: *mut Procinfo, capacity: usize) -> isize;
}
