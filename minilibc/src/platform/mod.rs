//! The platform boundary: the fixed set of primitives minilibc needs from the
//! operating system. Everything above this module is portable.
//!
//! Every function returns `Result<usize, Errno>` (or a plain value when the
//! primitive cannot fail); `Errno` carries the POSIX error number using the
//! Linux numbering, which is also the numbering minilibc's `<errno.h>` exposes.
//! A back end is one module exporting exactly these functions with these
//! signatures (`linux` today; `mach` later, sending messages to the file,
//! process and memory servers). Pointer arguments are passed through as raw
//! C pointers because they come from C callers; the back end never reads them
//! itself except where documented (paths are NUL-terminated C strings).
//!
//! The function set: read, write, read_at, write_at, open_at, close, seek, stat_at, fstat, pipe2,
//! dup, dup3, fcntl, ioctl, poll, select, getdents, mkdir_at, unlink_at,
//! rename_at, link_at, symlink_at, readlink_at, access_at, chdir, fchdir,
//! getcwd, chmod_at, fchmod, chown_at, truncate, ftruncate, fsync, sync, umask, mmap,
//! munmap, mremap, mprotect, brk, fork, execve, exit_group, wait4, kill, getpid,
//! getppid, gettid, getuid/geteuid/getgid/getegid, setpgid, getpgid, setsid,
//! getsid, sigaction, sigprocmask, sigpending, sigsuspend, alarm, clock_gettime,
//! clock_getres, nanosleep, uname, getrandom, getrusage, prlimit, utimens_at,
//! descriptor_path, processor_count, spawn, statfs, fstatfs, mount,
//! unmount, reboot, getgroups, kernel_log, process_list,
//! set_thread_pointer, start (what the process does first: nothing on
//! Linux; the start block, ports and descriptor table on Mach_R), msync,
//! mknod_at, flock, sigaltstack, real_timer (setitimer's ITIMER_REAL),
//! get_ids, set_ids, setgroups.

#[cfg(all(target_os = "linux", not(feature = "mach")))]
mod linux;
#[cfg(all(target_os = "linux", not(feature = "mach")))]
pub use linux::*;

#[cfg(feature = "mach")]
pub mod mach;
#[cfg(feature = "mach")]
pub use mach::*;

/// A POSIX error number (Linux numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// A signal disposition as minilibc sees it: the handler (0 = default,
/// 1 = ignore, else a function), the SA_* flags of `<signal.h>` and the
/// 64-bit mask blocked while it runs. How the handler returns (Linux's
/// restorer trampoline, a Mach reply) is the back end's business.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalAction {
    pub handler: usize,
    pub flags: u64,
    pub mask: u64,
}

/// One step `spawn` applies in the child, in order (posix_spawn's file
/// actions). Paths are NUL-terminated C strings owned by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnAction {
    /// Open `path` with `flags` and `mode` as descriptor `fd`.
    Open { fd: i32, path: *const u8, flags: i32, mode: u32 },
    /// Close `fd` (a descriptor that is not open is not an error, as in glibc).
    Close { fd: i32 },
    /// Make `to` a copy of `from`; when they are equal, clear `FD_CLOEXEC`.
    Duplicate { from: i32, to: i32 },
    /// Change the working directory to `path`.
    ChangeDirectory { path: *const u8 },
    /// Change the working directory to the directory open as `fd`.
    ChangeDirectoryTo { fd: i32 },
    /// Make the child's process group the foreground group of the terminal
    /// open as `fd` (glibc's `posix_spawn_file_actions_addtcsetpgrp_np`).
    TerminalForeground { fd: i32 },
}

/// posix_spawn's attributes, the flags being `<spawn.h>`'s `POSIX_SPAWN_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnAttributes {
    pub flags: u32,
    /// With `SPAWN_SET_PROCESS_GROUP`: the group to join (0: a new group led by the child).
    pub process_group: i32,
    /// With `SPAWN_SET_SIGNAL_DEFAULT`: signals reset to their default action.
    pub default_signals: u64,
    /// With `SPAWN_SET_SIGNAL_MASK`: the child's signal mask (else the caller's).
    pub signal_mask: u64,
}

pub const SPAWN_SET_PROCESS_GROUP: u32 = 0x02;
pub const SPAWN_SET_SIGNAL_DEFAULT: u32 = 0x04;
pub const SPAWN_SET_SIGNAL_MASK: u32 = 0x08;
pub const SPAWN_SET_SESSION: u32 = 0x80;

/// One process as `getprocinfo` reports it: C's `struct procinfo`
/// (`<sys/procinfo.h>`). On Linux it comes from /proc; on Mach_R from the
/// process server.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ProcessRecord {
    pub pid: i32,
    pub parent: i32,
    pub group: i32,
    pub session: i32,
    pub user: u32,
    pub group_id: u32,
    /// The controlling terminal's device number, 0 if none.
    pub terminal: u64,
    /// R running, S sleeping, D waiting for a device, T stopped, Z zombie...
    pub state: u8,
    pub padding: [u8; 3],
    pub nice: i32,
    pub threads: i32,
    pub padding2: i32,
    /// Virtual size and resident memory, in bytes.
    pub size: u64,
    pub resident: u64,
    /// User plus system CPU time, in microseconds.
    pub cpu_microseconds: u64,
    /// When it started, in seconds since the epoch.
    pub start: i64,
    /// The command name, NUL-terminated.
    pub command: [u8; 32],
    /// The arguments joined by spaces, NUL-terminated (empty for kernel threads).
    pub arguments: [u8; 256],
}

impl ProcessRecord {
    pub const EMPTY: ProcessRecord = ProcessRecord {
        pid: 0,
        parent: 0,
        group: 0,
        session: 0,
        user: 0,
        group_id: 0,
        terminal: 0,
        state: 0,
        padding: [0; 3],
        nice: 0,
        threads: 0,
        padding2: 0,
        size: 0,
        resident: 0,
        cpu_microseconds: 0,
        start: 0,
        command: [0; 32],
        arguments: [0; 256],
    };
}
