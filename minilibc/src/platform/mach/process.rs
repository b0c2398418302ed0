//! Processes through the process server (`proc.defs` on the process's own
//! port, `AT_MACH_PROC`; docs/process-server.md has each protocol):
//!
//! - **fork**: the registers the child resumes with are saved as `setjmp`
//!   saves them (an assembly entry that keeps them on its stack), the
//!   server makes the child (memory copy-on-write, every send right under
//!   its name) and starts it at the entry's return with 0 in `rax`. In the
//!   child the parent's receive rights are absent: the reply ports are
//!   forgotten and the signal thread, if the parent had one, started anew.
//! - **exec**: the file is opened here (so the file server checks
//!   permission), `#!` lines resolved by opening the interpreter, then
//!   `proc.exec` with the strings, the descriptors kept, the root, the
//!   working directory, the mask and the umask; success never returns.
//! - **spawn** (posix_spawn): one `proc.spawn`; file actions that open a
//!   file or a directory are done here first and passed as descriptors.
//! - **wait**, **kill**, ids, groups, sessions, limits, usage, the listing.

use super::{
    call, done, files, interruptible, process_port, send, signals, uninterrupted, Critical, Failure, BOOTSTRAP_PORT,
    KERNEL, MAIN_THREAD, PID, ROOT_PORT, WORKING_DIRECTORY_PORT,
};
use crate::errno_table::{EINVAL, ELOOP, ENOENT, ENOEXEC};
use crate::mach::exec as image;
use crate::platform::{Errno, ProcessRecord, SpawnAction, SpawnAttributes};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use libmach::abi::PortName;
use libmach::PortKernel;
use personality_interfaces::proc;

/// The task port's name (libmach's `task_self`, cached once).
pub(crate) static TASK: AtomicU32 = AtomicU32::new(0);

const O_RDONLY: i32 = 0;
const X_OK: u32 = 1;

fn process() -> Result<PortName, Errno> {
    done(process_port())
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    // i64 __minilibc_fork_point(proc::ResumeState *state, i64 (*request)(proc::ResumeState *))
    // Saves the callee-saved registers on the stack and the resume state in
    // `state`, then calls `request` (the fork RPC). The parent returns what
    // `request` returns; the child resumes at label 2 with the saved stack
    // pointer and 0 in rax, and returns 0 through the same epilogue (the
    // stack above the saved pointer is the same in its copy of memory).
    ".globl __minilibc_fork_point",
    ".type __minilibc_fork_point,@function",
    "__minilibc_fork_point:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rdi + {sp}], rsp",
    "lea rax, [rip + 2f]",
    "mov [rdi + {pc}], rax",
    "mov [rdi + {saved}], rbx",
    "mov [rdi + {saved} + 8], rbp",
    "mov [rdi + {saved} + 16], r12",
    "mov [rdi + {saved} + 24], r13",
    "mov [rdi + {saved} + 32], r14",
    "mov [rdi + {saved} + 40], r15",
    "pushfq",
    "pop rax",
    "mov [rdi + {flags}], rax",
    "call rsi",
    "2:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    sp = const core::mem::offset_of!(proc::ResumeState, sp),
    pc = const core::mem::offset_of!(proc::ResumeState, pc),
    saved = const core::mem::offset_of!(proc::ResumeState, saved),
    flags = const core::mem::offset_of!(proc::ResumeState, flags),
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    // The same on aarch64: x19-x28, the frame pointer, the link register
    // and d8-d15 saved in a 176-byte frame; the child resumes at label 2
    // with x0 = 0 and the saved sp, and restores them from its copy.
    ".globl __minilibc_fork_point",
    ".type __minilibc_fork_point,@function",
    "__minilibc_fork_point:",
    "stp x29, x30, [sp, #-176]!",
    "mov x29, sp",
    "stp x19, x20, [sp, #16]",
    "stp x21, x22, [sp, #32]",
    "stp x23, x24, [sp, #48]",
    "stp x25, x26, [sp, #64]",
    "stp x27, x28, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0, #{sp}]",
    "adr x9, 2f",
    "str x9, [x0, #{pc}]",
    "stp x19, x20, [x0, #{saved}]",
    "stp x21, x22, [x0, #{saved} + 16]",
    "stp x23, x24, [x0, #{saved} + 32]",
    "stp x25, x26, [x0, #{saved} + 48]",
    "stp x27, x28, [x0, #{saved} + 64]",
    "stp x29, x30, [x0, #{saved} + 80]",
    "mrs x9, nzcv",
    "str x9, [x0, #{flags}]",
    "blr x1",
    "2:",
    "ldp x19, x20, [sp, #16]",
    "ldp x21, x22, [sp, #32]",
    "ldp x23, x24, [sp, #48]",
    "ldp x25, x26, [sp, #64]",
    "ldp x27, x28, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "ldp x29, x30, [sp], #176",
    "ret",
    sp = const core::mem::offset_of!(proc::ResumeState, sp),
    pc = const core::mem::offset_of!(proc::ResumeState, pc),
    saved = const core::mem::offset_of!(proc::ResumeState, saved),
    flags = const core::mem::offset_of!(proc::ResumeState, flags),
);

extern "C" {
    /// `state` is a `proc::ResumeState` (filled at the offsets of its Rust layout).
    fn __minilibc_fork_point(state: *mut u8, request: extern "C" fn(*mut u8) -> i64) -> i64;
}

/// The fork RPC, called by `__minilibc_fork_point` with the state filled:
/// the child's pid, or minus the errno.
extern "C" fn fork_request(state: *mut u8) -> i64 {
    // SAFETY: `__minilibc_fork_point` passes the state `fork` lent it.
    let state = unsafe { *(state as *const proc::ResumeState) };
    let outcome = process_port().and_then(|port| {
        let task = TASK.load(Ordering::Relaxed);
        let thread = MAIN_THREAD.load(Ordering::Relaxed);
        call!(proc, port, |client| client.fork(&state, task, thread))
    });
    match outcome {
        Ok(child) => i64::from(child),
        Err(Failure::Error(error)) => -i64::from(error),
        Err(Failure::Interrupted) => -i64::from(crate::errno_table::EINTR),
    }
}

pub fn fork() -> Result<usize, Errno> {
    process()?;
    // Parent and child share the open files from here: offsets kept here
    // go back to the server first.
    let _ = super::mapped::settle_all();
    // No handler runs during fork: an interrupted fork RPC could leave a
    // child its parent never heard of.
    let _section = Critical::enter();
    let mut state =
        proc::ResumeState { thread_pointer: super::start::thread_pointer(), ..proc::ResumeState::default() };
    let guard = signals::lock_for_fork();
    // SAFETY: the entry saves and restores the callee-saved registers and
    // calls `fork_request` with `state`, which lives through the call.
    let result = unsafe { __minilibc_fork_point(&raw mut state as *mut u8, fork_request) };
    drop(guard);
    match result {
        0 => {
            child_after_fork();
            Ok(0)
        }
        pid if pid > 0 => Ok(pid as usize),
        error => Err(Errno(-error as i32)),
    }
}

/// The child's first steps: the parent's receive rights (reply ports, the
/// signal thread's ports) are absent here, its pid is its own.
fn child_after_fork() {
    super::forget_reply_ports();
    super::mapped::after_fork();
    PID.store(0, Ordering::Relaxed);
    signals::after_fork();
}

/// The pid (asked once after a fork; from the start block otherwise).
pub fn getpid() -> i32 {
    let known = PID.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let pid = identity().map(|identity| identity.pid).unwrap_or(0);
    PID.store(pid, Ordering::Relaxed);
    pid
}

fn identity() -> Result<proc::IdentityReply, Errno> {
    let port = process()?;
    uninterrupted(|| call!(proc, port, |client| client.identity()))
}

pub fn getppid() -> i32 {
    match process() {
        Ok(port) => uninterrupted(|| call!(proc, port, |client| client.get_parent())).unwrap_or(0),
        Err(_) => 0,
    }
}

/// One thread runs the program: its id is the pid.
pub fn gettid() -> i32 {
    getpid()
}

pub fn getuid() -> u32 {
    identity().map(|identity| identity.real_user).unwrap_or(0)
}
pub fn geteuid() -> u32 {
    identity().map(|identity| identity.effective_user).unwrap_or(0)
}
pub fn getgid() -> u32 {
    identity().map(|identity| identity.real_group).unwrap_or(0)
}
pub fn getegid() -> u32 {
    identity().map(|identity| identity.effective_group).unwrap_or(0)
}

/// The real, effective and saved ids (`which` 0: users, 1: groups).
pub fn get_ids(which: u32) -> Result<[u32; 3], Errno> {
    let identity = identity()?;
    Ok(match which {
        0 => [identity.real_user, identity.effective_user, identity.saved_user],
        _ => [identity.real_group, identity.effective_group, identity.saved_group],
    })
}

/// The setuid family: `which` 0 users, 1 groups; `kind` 0 setuid, 1
/// setreuid, 2 setresuid, 3 seteuid; -1 keeps an id.
pub fn set_ids(which: u32, kind: u32, real: i64, effective: i64, saved: i64) -> Result<usize, Errno> {
    let port = process()?;
    uninterrupted(|| call!(proc, port, |client| client.set_ids(which, kind, real, effective, saved))).map(|()| 0)
}

/// # Safety
/// `list` readable for `size` group ids.
pub unsafe fn setgroups(size: usize, list: *const u32) -> Result<usize, Errno> {
    let port = process()?;
    if size > 16 {
        return Err(Errno(EINVAL));
    }
    // SAFETY: the caller's `size` ids.
    let groups = if size == 0 { &[][..] } else { unsafe { core::slice::from_raw_parts(list, size) } };
    uninterrupted(|| call!(proc, port, |client| client.set_groups(groups))).map(|()| 0)
}

/// # Safety
/// `list` writable for `size` group ids (or `size` 0).
pub unsafe fn getgroups(size: i32, list: *mut u32) -> Result<usize, Errno> {
    let identity = identity()?;
    let groups = identity.groups.as_slice();
    if size == 0 {
        return Ok(groups.len());
    }
    if size < 0 || (size as usize) < groups.len() {
        return Err(Errno(EINVAL));
    }
    // SAFETY: the caller's `size` ids.
    unsafe { core::ptr::copy_nonoverlapping(groups.as_ptr(), list, groups.len()) };
    Ok(groups.len())
}

pub fn setpgid(pid: i32, group: i32) -> Result<usize, Errno> {
    let port = process()?;
    if pid < 0 || group < 0 {
        return Err(Errno(EINVAL));
    }
    uninterrupted(|| call!(proc, port, |client| client.set_group(pid, group))).map(|()| 0)
}

pub fn getpgid(pid: i32) -> Result<usize, Errno> {
    let port = process()?;
    uninterrupted(|| call!(proc, port, |client| client.group_of(pid))).map(|reply| reply.group as usize)
}

pub fn setsid() -> Result<usize, Errno> {
    let port = process()?;
    uninterrupted(|| call!(proc, port, |client| client.new_session())).map(|session| session as usize)
}

pub fn getsid(pid: i32) -> Result<usize, Errno> {
    let port = process()?;
    uninterrupted(|| call!(proc, port, |client| client.group_of(pid))).map(|reply| reply.session as usize)
}

/// Ends the process: `proc.exit` (the task ends at once).
pub fn exit_group(status: i32) -> ! {
    if let Ok(port) = process_port() {
        let _section = Critical::enter();
        let _ = send!(proc, port, |client| client.exit(status));
    }
    // Not a process, or the process server is gone: end the task ourselves.
    let task = TASK.load(Ordering::Relaxed);
    let _ = libmach::trap::task_terminate(if task != 0 { task } else { libmach::trap::task_self() });
    loop {
        let _ = libmach::trap::thread_sleep(1000);
    }
}

/// Writes a `struct rusage` (144 bytes): user and system time, max RSS.
///
/// # Safety
/// `out` writable for a `struct rusage`.
unsafe fn write_usage(usage: &proc::Usage, out: *mut u8) {
    let mut words = [0i64; 18];
    words[0] = (usage.user_microseconds / 1_000_000) as i64;
    words[1] = (usage.user_microseconds % 1_000_000) as i64;
    words[2] = (usage.system_microseconds / 1_000_000) as i64;
    words[3] = (usage.system_microseconds % 1_000_000) as i64;
    words[4] = usage.max_resident_kib as i64;
    // SAFETY: the caller's record.
    unsafe { core::ptr::write_unaligned(out as *mut [i64; 18], words) };
}

/// # Safety
/// `status` null or writable; `usage` null or writable for a `struct rusage`.
pub unsafe fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut u8) -> Result<usize, Errno> {
    let port = process()?;
    let reply = interruptible(true, || call!(proc, port, |client| client.wait(pid, options)))?;
    if reply.child != 0 {
        // SAFETY: the caller's records.
        unsafe {
            if !status.is_null() {
                *status = reply.status;
            }
            if !usage.is_null() {
                write_usage(&reply.usage, usage);
            }
        }
    }
    Ok(reply.child as usize)
}

pub fn kill(pid: i32, signal: i32) -> Result<usize, Errno> {
    if !(0..=crate::mach::signals::SIGNAL_COUNT).contains(&signal) {
        return Err(Errno(EINVAL));
    }
    let port = process()?;
    if pid == getpid() && signal != 0 && signals::raise_locally(signal) {
        return Ok(0);
    }
    uninterrupted(|| call!(proc, port, |client| client.kill(pid, signal)))?;
    if pid <= 0 && signal != 0 {
        // A group or everyone: the signal may have been posted to us too;
        // its handler runs before kill returns.
        signals::synchronize();
    }
    Ok(0)
}

/// # Safety
/// `usage` writable for a `struct rusage`.
pub unsafe fn getrusage(who: i32, usage: *mut u8) -> Result<usize, Errno> {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let port = process()?;
    let reply = uninterrupted(|| call!(proc, port, |client| client.usage()))?;
    let chosen = match who {
        RUSAGE_SELF | RUSAGE_THREAD => reply.own,
        RUSAGE_CHILDREN => reply.children,
        _ => return Err(Errno(EINVAL)),
    };
    // SAFETY: the caller's record.
    unsafe { write_usage(&chosen, usage) };
    Ok(0)
}

/// # Safety
/// `new` null or a readable `struct rlimit`, `old` null or writable.
pub unsafe fn prlimit(resource: i32, new: *const u64, old: *mut u64) -> Result<usize, Errno> {
    const RLIMIT_NOFILE: i32 = 7;
    let port = process()?;
    let resource = u32::try_from(resource).map_err(|_| Errno(EINVAL))?;
    let (set, current, maximum) = if new.is_null() {
        (false, 0, 0)
    } else {
        // SAFETY: the caller's struct rlimit.
        unsafe { (true, *new, *new.add(1)) }
    };
    let reply = uninterrupted(|| call!(proc, port, |client| client.limit(resource, set, current, maximum)))?;
    if set && resource == RLIMIT_NOFILE as u32 {
        files::set_open_limit(current);
    }
    if !old.is_null() {
        // SAFETY: the caller's struct rlimit.
        unsafe {
            *old = reply.old_current;
            *old.add(1) = reply.old_maximum;
        }
    }
    Ok(0)
}

/// Restarts, halts or powers off (`<sys/reboot.h>`'s RB_* commands).
pub fn reboot(command: u32) -> Result<usize, Errno> {
    let action = match command {
        0x4321_fedc => 0, // RB_POWER_OFF
        0x0123_4567 => 1, // RB_AUTOBOOT
        0xcdef_0123 => 2, // RB_HALT_SYSTEM
        _ => return Err(Errno(EINVAL)),
    };
    let port = process()?;
    uninterrupted(|| call!(proc, port, |client| client.shutdown(action, 0))).map(|()| 0)
}

/// Fills `list` with up to `list.len()` processes from the process server;
/// returns how many there are (possibly more than were filled).
pub fn process_list(list: &mut [ProcessRecord]) -> Result<usize, Errno> {
    let port = process()?;
    let mut total = 0;
    let mut after = 0;
    loop {
        let entries = uninterrupted(|| call!(proc, port, |client| client.list(after)))?;
        for entry in entries.as_slice() {
            if let Some(record) = list.get_mut(total) {
                *record = ProcessRecord {
                    pid: entry.pid,
                    parent: entry.parent,
                    group: entry.group,
                    session: entry.session,
                    user: entry.real_user,
                    group_id: entry.real_group,
                    terminal: u64::from(entry.terminal),
                    state: entry.state,
                    threads: entry.threads as i32,
                    size: entry.virtual_kib * 1024,
                    resident: entry.resident_kib * 1024,
                    cpu_microseconds: entry.cpu_microseconds,
                    start: entry.started_seconds as i64,
                    command: entry.command,
                    arguments: entry.arguments,
                    ..ProcessRecord::EMPTY
                };
                // The server's names are NUL-padded to the end; keep a NUL.
                record.command[31] = 0;
                record.arguments[255] = 0;
            }
            total += 1;
            after = entry.pid;
        }
        if entries.len() < 96 {
            return Ok(total);
        }
    }
}

/// A NULL-terminated array of C strings as byte slices.
///
/// # Safety
/// `array` null or a NULL-terminated array of NUL-terminated strings.
unsafe fn string_list<'a>(array: *const *const u8) -> Vec<&'a [u8]> {
    let mut list = Vec::new();
    if array.is_null() {
        return list;
    }
    let mut index = 0;
    // SAFETY: the caller's NULL-terminated array.
    unsafe {
        while !(*array.add(index)).is_null() {
            list.push(super::c_bytes(*array.add(index)));
            index += 1;
        }
    }
    list
}

/// An executable opened for exec or spawn: its open file (a reference
/// ours) and the argument list it runs with (a script's interpreter first).
struct Executable {
    file: PortName,
    arguments: Vec<Vec<u8>>,
    /// The path of what `file` is (the script an interpreter would be
    /// given), and how many `#!` lines were followed to it.
    script: Vec<u8>,
    depth: usize,
}

impl Drop for Executable {
    fn drop(&mut self) {
        let _ = KERNEL.port_deallocate(self.file);
    }
}

/// Opens `path` for execution (from the root if absolute, else the working
/// directory). With `check_access`, first asks the file server whether the
/// caller may execute it: a PATH search goes on past a file it may not run
/// (execvp's rule), which it must know before the process server is asked.
/// Without, the process server's own check of the file it is given says
/// `EACCES` (docs/process-server.md, "exec"): one request less.
fn open_executable(path: &[u8], check_access: bool) -> Result<PortName, Errno> {
    if path.is_empty() {
        return Err(Errno(ENOENT));
    }
    if path.len() >= 4096 {
        return Err(Errno(crate::errno_table::ENAMETOOLONG));
    }
    let directory = if path[0] == b'/' {
        ROOT_PORT.load(Ordering::Relaxed)
    } else {
        WORKING_DIRECTORY_PORT.load(Ordering::Relaxed)
    };
    if directory == 0 {
        return Err(Errno(ENOENT));
    }
    if check_access {
        uninterrupted(|| call!(fs, directory, |client| client.access(path, X_OK, true, true)))?;
    }
    uninterrupted(|| call!(fs, directory, |client| client.open(path, O_RDONLY as u32, 0)))
        .map(|reply| reply.file.into_name())
}

/// Opens the executable at `path` (see `open_executable`), with the
/// argument list it runs with.
fn executable(path: &[u8], arguments: &[&[u8]], check_access: bool) -> Result<Executable, Errno> {
    Ok(Executable {
        file: open_executable(path, check_access)?,
        arguments: arguments.iter().map(|text| text.to_vec()).collect(),
        script: path.to_vec(),
        depth: 0,
    })
}

impl Executable {
    /// After the process server refused the file with `ENOEXEC` (not an
    /// executable it runs): if it starts with a `#!` line, the interpreter
    /// it names (opened as the file was) replaces it, with the interpreter,
    /// its argument and the script's path first in the arguments, and the
    /// request is made again; up to four interpreters deep, as Linux. Asked
    /// only then, so that running a program costs no read of its first
    /// line.
    /// True if it did; false if the file is no script.
    fn take_interpreter(&mut self, check_access: bool) -> Result<bool, Errno> {
        let file = self.file;
        let head = uninterrupted(|| call!(io, file, |client| client.read_at(0, image::INTERPRETER_LINE_MAX as u32)))?;
        let (interpreter, argument) = match image::interpreter_line(head.as_slice()) {
            None => return Ok(false),
            Some(Err(error)) => return Err(Errno(error)),
            Some(Ok(line)) => (line.interpreter.to_vec(), line.argument.map(<[u8]>::to_vec)),
        };
        if self.depth == image::INTERPRETER_DEPTH_MAX {
            return Err(Errno(ELOOP));
        }
        let line = image::InterpreterLine { interpreter: &interpreter, argument: argument.as_deref() };
        let previous: Vec<&[u8]> = self.arguments.iter().map(Vec::as_slice).collect();
        let list: Vec<Vec<u8>> =
            image::script_arguments(&line, &self.script, &previous).into_iter().map(<[u8]>::to_vec).collect();
        let opened = open_executable(&interpreter, check_access)?;
        let _ = KERNEL.port_deallocate(self.file);
        self.file = opened;
        self.arguments = list;
        self.script = interpreter;
        self.depth += 1;
        Ok(true)
    }
}

/// What `proc.exec` and `proc.spawn` both carry, built once per attempt
/// (a script's interpreter makes a new attempt with new arguments): the
/// open executable, argv then envp, the descriptors the new image keeps,
/// the root, working directory and name-service ports, and the umask.
struct ImageRequest<'a> {
    file: PortName,
    strings: Vec<u8>,
    argument_count: u32,
    environment_count: u32,
    keep: &'a [proc::Descriptor],
    root: PortName,
    cwd: PortName,
    bootstrap: PortName,
    umask: u32,
}

impl<'a> ImageRequest<'a> {
    /// `executable` with `environment`, keeping `keep`; `E2BIG` past `ARG_MAX`.
    fn new(executable: &Executable, environment: &[&[u8]], keep: &'a [proc::Descriptor]) -> Result<Self, Errno> {
        let (strings, argument_count, environment_count) =
            image::strings_block(executable.arguments.iter().map(Vec::as_slice), environment.iter().copied())
                .map_err(Errno)?;
        Ok(ImageRequest {
            file: executable.file,
            strings,
            argument_count,
            environment_count,
            keep,
            root: ROOT_PORT.load(Ordering::Relaxed),
            cwd: WORKING_DIRECTORY_PORT.load(Ordering::Relaxed),
            bootstrap: BOOTSTRAP_PORT.load(Ordering::Relaxed),
            umask: files::UMASK.load(Ordering::Relaxed),
        })
    }

    /// `proc.exec` with the blocked set `mask`: on success the server ended
    /// this task, so only an error returns.
    fn exec(&self, port: PortName, mask: u64) -> Errno {
        let file = super::borrowed(self.file);
        let outcome = uninterrupted(|| {
            call!(proc, port, |client| client.exec(
                &file,
                &self.strings,
                self.argument_count,
                self.environment_count,
                self.keep,
                self.root,
                self.cwd,
                self.bootstrap,
                mask,
                self.umask
            ))
        });
        match outcome {
            Err(error) => error,
            // Not reached on success: the process server ended this task.
            Ok(()) => Errno(ENOEXEC),
        }
    }

    /// `proc.spawn` with `actions` and `attributes`: the child's pid.
    fn spawn(&self, port: PortName, actions: &[proc::FileAction], attributes: &SpawnRequest) -> Result<i32, Errno> {
        let file = super::borrowed(self.file);
        uninterrupted(|| {
            call!(proc, port, |client| client.spawn(
                &file,
                &self.strings,
                self.argument_count,
                self.environment_count,
                self.keep,
                self.root,
                self.cwd,
                self.bootstrap,
                actions,
                attributes.group,
                attributes.new_session,
                attributes.foreground,
                attributes.mask,
                attributes.defaults,
                attributes.reset_ids,
                self.umask
            ))
        })
    }
}

/// posix_spawn's attributes as `proc.spawn` takes them.
struct SpawnRequest {
    group: i32,
    new_session: bool,
    foreground: i32,
    mask: u64,
    defaults: u64,
    reset_ids: bool,
}

/// # Safety
/// NUL-terminated path and NULL-terminated argument/environment arrays.
pub unsafe fn execve(
    path: *const u8,
    arguments: *const *const u8,
    environment: *const *const u8,
) -> Result<usize, Errno> {
    let port = process()?;
    // SAFETY: the caller's strings.
    let (path, arguments, environment) =
        unsafe { (super::c_bytes(path), string_list(arguments), string_list(environment)) };
    let mut executable = executable(path, &arguments, false)?;
    loop {
        let keep = files::kept_descriptors(false);
        let request = ImageRequest::new(&executable, &environment, &keep)?;
        match request.exec(port, signals::blocked_mask()) {
            // A script: its interpreter instead.
            Errno(ENOEXEC) if executable.take_interpreter(false)? => {}
            error => return Err(error),
        }
    }
}

/// posix_spawn's file action kinds (proc.defs).
const ACTION_DUPLICATE: u32 = 1;
const ACTION_CLOSE: u32 = 2;
const ACTION_CHANGE_DIRECTORY: u32 = 3;
const POSIX_SPAWN_RESETIDS: u32 = 0x01;

/// Starts `path` in a new process with `arguments` and `environment`, after
/// applying `actions` and `attributes` in the child (posix_spawn): one
/// request to the process server. With `search` (a PATH value), a `path`
/// without a slash is looked up in its directories as execvp does.
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
    let port = process()?;
    // SAFETY: the caller's strings.
    let (name, arguments, environment) =
        unsafe { (super::c_bytes(path), string_list(arguments), string_list(environment)) };
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    match search {
        Some(directories) if !name.contains(&b'/') => {
            if name.is_empty() {
                return Err(Errno(ENOENT));
            }
            for directory in directories.split(|&byte| byte == b':') {
                let directory: &[u8] = if directory.is_empty() { b"." } else { directory };
                let mut candidate = directory.to_vec();
                candidate.push(b'/');
                candidate.extend_from_slice(name);
                candidates.push(candidate);
            }
        }
        _ => candidates.push(name.to_vec()),
    }
    // A search goes on past files the caller may not run and scripts whose
    // interpreter is missing (execvp's rules), so it checks both for each
    // candidate; a path is left to the process server's checks.
    let searching = search.is_some() && !name.contains(&b'/');
    let mut last_error = Errno(ENOENT);
    let mut found = None;
    for candidate in &candidates {
        let opened = executable(candidate, &arguments, searching).and_then(|mut executable| {
            if searching {
                while executable.take_interpreter(true)? {}
            }
            Ok(executable)
        });
        match opened {
            Ok(executable) => {
                found = Some(executable);
                break;
            }
            // execvp goes on past missing files and non-directories, and
            // remembers the last other error (EACCES...).
            Err(Errno(error)) if error == ENOENT || error == crate::errno_table::ENOTDIR => {}
            Err(error) => last_error = error,
        }
    }
    let mut executable = found.ok_or(last_error)?;
    // E2BIG before anything is opened for the actions.
    image::strings_block(executable.arguments.iter().map(Vec::as_slice), environment.iter().copied()).map_err(Errno)?;
    let mut plan = SpawnPlan::new();
    let outcome = plan.prepare(actions);
    let result = outcome.and_then(|()| {
        let mut keep = files::kept_descriptors(true);
        keep.extend(plan.extra.iter().map(|&(number, name)| proc::Descriptor { number, name, flags: 1 }));
        let flags = attributes.flags;
        let request = SpawnRequest {
            group: if flags & crate::platform::SPAWN_SET_PROCESS_GROUP != 0 { attributes.process_group } else { -1 },
            new_session: flags & crate::platform::SPAWN_SET_SESSION != 0,
            foreground: plan.foreground,
            mask: if flags & crate::platform::SPAWN_SET_SIGNAL_MASK != 0 {
                attributes.signal_mask
            } else {
                signals::blocked_mask()
            },
            defaults: if flags & crate::platform::SPAWN_SET_SIGNAL_DEFAULT != 0 {
                attributes.default_signals
            } else {
                0
            },
            reset_ids: flags & POSIX_SPAWN_RESETIDS != 0,
        };
        loop {
            let image = ImageRequest::new(&executable, &environment, &keep)?;
            match image.spawn(port, &plan.actions, &request) {
                // A script: its interpreter instead.
                Err(Errno(ENOEXEC)) if executable.take_interpreter(searching)? => {}
                outcome => return outcome.map(|child| child as usize),
            }
        }
    });
    plan.release();
    result
}

/// Tells the process server that the foreground terminal of
/// `AT_MACH_FOREGROUND` was taken (or could not be): the parent's
/// posix_spawn, kept until now, returns, so it finds the terminal handed
/// over, as on Linux where the child applies its file actions before the
/// parent goes on (docs/process-server.md, "posix_spawn").
pub(crate) fn started() {
    if let Ok(port) = process_port() {
        let _section = Critical::enter();
        let _ = send!(proc, port, |client| client.started());
    }
}

/// posix_spawn's file actions as the process server takes them: opens done
/// here (their ports passed as extra close-on-exec descriptors, numbered
/// above every number in use, and dup2'ed into place), the rest as actions.
struct SpawnPlan {
    actions: Vec<proc::FileAction>,
    /// Extra descriptors: (number in the child's starting table, port name).
    extra: Vec<(i32, PortName)>,
    foreground: i32,
    next_number: i32,
    /// The child's table as the actions change it, where it differs from
    /// ours: number to port (None: closed).
    changed: Vec<(i32, Option<PortName>)>,
    /// The directory relative paths of later actions start at.
    directory: PortName,
}

impl SpawnPlan {
    fn new() -> Self {
        let highest = files::kept_descriptors(true).iter().map(|descriptor| descriptor.number).max().unwrap_or(-1);
        SpawnPlan {
            actions: Vec::new(),
            extra: Vec::new(),
            foreground: -1,
            next_number: highest + 1,
            changed: Vec::new(),
            directory: WORKING_DIRECTORY_PORT.load(Ordering::Relaxed),
        }
    }

    fn port_of(&self, fd: i32) -> Option<PortName> {
        match self.changed.iter().rev().find(|(number, _)| *number == fd) {
            Some((_, port)) => *port,
            None => files::descriptor_port(fd).ok(),
        }
    }

    /// An extra descriptor holding `port` (a reference ours until released).
    fn extra_descriptor(&mut self, port: PortName) -> i32 {
        let number = self.next_number;
        self.next_number += 1;
        self.extra.push((number, port));
        number
    }

    fn open(&self, path: &[u8], flags: i32, mode: u32) -> Result<PortName, Errno> {
        let directory = if path.first() == Some(&b'/') { ROOT_PORT.load(Ordering::Relaxed) } else { self.directory };
        let flags = (flags & !0o2000000) as u32;
        let mode = if flags & 0o100 != 0 { mode & !files::UMASK.load(Ordering::Relaxed) & 0o7777 } else { 0 };
        uninterrupted(|| call!(fs, directory, |client| client.open(path, flags, mode)))
            .map(|reply| reply.file.into_name())
    }

    fn prepare(&mut self, actions: &[SpawnAction]) -> Result<(), Errno> {
        // The highest number any action names comes first too.
        for action in actions {
            let number = match *action {
                SpawnAction::Open { fd, .. } | SpawnAction::Close { fd } => fd,
                SpawnAction::Duplicate { from, to } => from.max(to),
                SpawnAction::ChangeDirectoryTo { fd } | SpawnAction::TerminalForeground { fd } => fd,
                SpawnAction::ChangeDirectory { .. } => -1,
            };
            self.next_number = self.next_number.max(number + 1);
        }
        for action in actions {
            match *action {
                SpawnAction::Open { fd, path, flags, mode } => {
                    // SAFETY: the caller's NUL-terminated path.
                    let path = unsafe { super::c_bytes(path) };
                    let port = self.open(path, flags, mode)?;
                    let source = self.extra_descriptor(port);
                    self.actions.push(proc::FileAction { kind: ACTION_DUPLICATE, source, target: fd });
                    self.changed.push((fd, Some(port)));
                }
                SpawnAction::Close { fd } => {
                    self.actions.push(proc::FileAction { kind: ACTION_CLOSE, source: -1, target: fd });
                    self.changed.push((fd, None));
                }
                SpawnAction::Duplicate { from, to } => {
                    self.actions.push(proc::FileAction { kind: ACTION_DUPLICATE, source: from, target: to });
                    let port = self.port_of(from);
                    self.changed.push((to, port));
                }
                SpawnAction::ChangeDirectory { path } => {
                    // SAFETY: the caller's NUL-terminated path.
                    let path = unsafe { super::c_bytes(path) };
                    let port = self.open(path, 0o10000000 | 0o200000, 0)?;
                    let source = self.extra_descriptor(port);
                    self.actions.push(proc::FileAction { kind: ACTION_CHANGE_DIRECTORY, source, target: -1 });
                    self.directory = port;
                }
                SpawnAction::ChangeDirectoryTo { fd } => {
                    self.actions.push(proc::FileAction { kind: ACTION_CHANGE_DIRECTORY, source: fd, target: -1 });
                    self.directory = self.port_of(fd).ok_or(Errno(crate::errno_table::EBADF))?;
                }
                SpawnAction::TerminalForeground { fd } => self.foreground = fd,
            }
        }
        Ok(())
    }

    /// Releases the ports opened for the child (it has its own references).
    fn release(self) {
        for (_, port) in self.extra {
            let _ = KERNEL.port_deallocate(port);
        }
    }
}
