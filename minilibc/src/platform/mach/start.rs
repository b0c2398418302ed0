//! The start of a Mach_R program, before `main`: what the C runtime's
//! `__minilibc_start` calls first.
//!
//! A **process** (started by the process server: exec, spawn, init) finds
//! in its auxiliary vector the names of its rights (docs/process-server.md,
//! "The start block"): its process port, its address space at the memory
//! server, the root and working directories, the name service, the
//! descriptor table (records on the stack), its signal mask and umask, its
//! pid and the wall clock at the kernel clock's zero.
//!
//! A **task the bootstrap task started** (a boot module with minilibc: no
//! `AT_MACH_PROC`) has only the name service: the root and working
//! directory are the file server's registered port (`fs`) if there is one,
//! descriptors 0, 1 and 2 `/dev/console`, memory the kernel's own VM traps;
//! the process calls (fork, wait, kill...) answer ENOSYS.

use super::{
    files, signals, BOOTSTRAP_PORT, BOOT_TIME, KERNEL, MAIN_THREAD, MEMORY_PORT, PID, PROCESS_PORT, ROOT_PORT,
    WORKING_DIRECTORY_PORT,
};
use crate::mach::descriptors::DescriptorTable;
use crate::mach::start::{parse, Auxiliary};
use crate::platform::Errno;
use core::sync::atomic::{AtomicU64, Ordering};
use libmach::abi::{PortName, PortRight};
use libmach::PortKernel;

/// The thread block the main thread's FS base points at (0: not set yet).
static THREAD_POINTER: AtomicU64 = AtomicU64::new(0);

/// The most words of a start block read (argc, argv, envp, auxv): far more
/// than ARG_MAX's 256 KiB of pointers could need.
const START_BLOCK_WORDS_MAX: usize = 1 << 17;

pub(crate) fn thread_pointer() -> u64 {
    THREAD_POINTER.load(Ordering::Relaxed)
}

/// Reads the start block at `stack` and sets the process up.
///
/// # Safety
/// `stack` is the start block the process server or the bootstrap task
/// wrote (the initial stack pointer), which stays in place for the life of
/// the process.
pub unsafe fn start(stack: *const usize) {
    super::process::TASK.store(libmach::trap::task_self(), Ordering::Relaxed);
    MAIN_THREAD.store(libmach::trap::thread_self(), Ordering::Relaxed);
    // SAFETY: the caller's start block; `parse` reads up to its AT_NULL,
    // which the writer put within the block.
    let block = parse(|index| unsafe { *stack.add(index) } as u64, START_BLOCK_WORDS_MAX);
    let Ok(block) = block else {
        // Nothing can be trusted, not even where to say so.
        super::process::exit_group(127);
    };
    let auxiliary = block.auxiliary;
    let port = |entry: Option<u64>| Auxiliary::port(entry).unwrap_or(0);
    BOOTSTRAP_PORT.store(port(auxiliary.bootstrap), Ordering::Relaxed);
    super::time::HOST_PORT.store(port(auxiliary.host), Ordering::Relaxed);
    BOOT_TIME.store(auxiliary.boot_time.unwrap_or(0), Ordering::Relaxed);
    signals::REAL_USER.store(auxiliary.user.unwrap_or(0) as u32, Ordering::Relaxed);
    signals::initialize(auxiliary.signal_mask.unwrap_or(0), auxiliary.signal_ignored.unwrap_or(0));
    match Auxiliary::port(auxiliary.process) {
        Some(process) => {
            PROCESS_PORT.store(process, Ordering::Relaxed);
            MEMORY_PORT.store(port(auxiliary.memory), Ordering::Relaxed);
            ROOT_PORT.store(port(auxiliary.root), Ordering::Relaxed);
            WORKING_DIRECTORY_PORT.store(port(auxiliary.working_directory), Ordering::Relaxed);
            PID.store(auxiliary.pid.unwrap_or(0) as i32, Ordering::Relaxed);
            files::UMASK.store(auxiliary.umask.unwrap_or(0o022) as u32 & 0o777, Ordering::Relaxed);
            // SAFETY: the records the process server wrote on the stack.
            let table = unsafe { descriptor_records(auxiliary.descriptors, auxiliary.descriptor_count) };
            match table {
                Ok(table) => files::DESCRIPTORS.with(|descriptors| *descriptors = table),
                Err(_) => super::process::exit_group(127),
            }
            if let Some(fd) = auxiliary.foreground {
                let fd = fd as i32;
                take_foreground(fd);
                super::process::started();
                // Kept for this alone (a shell's close-on-exec copy of its
                // terminal): gone now, as exec would have closed it on Linux.
                if files::DESCRIPTORS.with(|table| table.get(fd).is_some_and(|descriptor| descriptor.close_on_exec)) {
                    let _ = files::close(fd);
                }
            }
        }
        None => start_task(),
    }
}

/// The descriptor table from `AT_MACH_FDS` records.
///
/// # Safety
/// `address` names `count` records the process server wrote.
unsafe fn descriptor_records(address: Option<u64>, count: Option<u64>) -> Result<DescriptorTable, i32> {
    let (Some(address), Some(count)) = (address, count) else {
        return Ok(DescriptorTable::new());
    };
    let count = usize::try_from(count).map_err(|_| crate::errno_table::EINVAL)?;
    if count > crate::mach::descriptors::DESCRIPTOR_CEILING || !address.is_multiple_of(4) {
        return Err(crate::errno_table::EINVAL);
    }
    let records = address as *const libmach::abi::ProcessDescriptor;
    DescriptorTable::from_records((0..count).map(|index| {
        // SAFETY: the caller's `count` records.
        let record = unsafe { core::ptr::read_unaligned(records.add(index)) };
        (record.number, record.name, record.flags)
    }))
}

/// posix_spawn with a foreground terminal: `tcsetpgrp(fd, getpgrp())` with
/// SIGTTOU blocked (so the console lets a background group take it).
fn take_foreground(fd: i32) {
    const SIGTTOU_BIT: u64 = 1 << (22 - 1);
    const TIOCSPGRP: u64 = 0x5410;
    let mut old = 0u64;
    // SAFETY: valid masks.
    unsafe {
        let _ = signals::sigprocmask(0, &SIGTTOU_BIT, &mut old);
    }
    if let Ok(group) = super::process::getpgid(0) {
        let group = group as i32;
        // SAFETY: TIOCSPGRP takes a pid_t.
        let _ = unsafe { files::ioctl(fd, TIOCSPGRP, &group as *const i32 as usize) };
    }
    // SAFETY: a valid mask.
    unsafe {
        let _ = signals::sigprocmask(2, &old, core::ptr::null_mut());
    }
}

/// A task that is no process: the file server's root as root and working
/// directory, `/dev/console` as descriptors 0 to 2, if they exist.
fn start_task() {
    let bootstrap = BOOTSTRAP_PORT.load(Ordering::Relaxed);
    if bootstrap == 0 {
        return;
    }
    let Some(root) = lookup(bootstrap, "fs") else { return };
    ROOT_PORT.store(root, Ordering::Relaxed);
    if KERNEL.port_mod_refs(root, PortRight::Send, 1).is_ok() {
        WORKING_DIRECTORY_PORT.store(root, Ordering::Relaxed);
    }
    const O_RDWR: i32 = 2;
    // SAFETY: a NUL-terminated path.
    if let Ok(fd) = unsafe { files::open_at(super::AT_FDCWD, c"/dev/console".as_ptr().cast(), O_RDWR, 0) } {
        if fd == 0 {
            let _ = files::dup(0);
            let _ = files::dup(0);
        }
    }
}

/// A name-service lookup (no waiting).
fn lookup(bootstrap: PortName, name: &str) -> Option<PortName> {
    let reply = super::take_reply_port().ok()?;
    let server = libmach::SendRight::from_name(&KERNEL, bootstrap);
    let mut client = mach_bootstrap_core::names::Client::with_reply_port(&KERNEL, server, reply);
    let found = client.lookup(name);
    let (server, reply) = client.into_parts();
    let _ = server.into_name();
    super::give_reply_port(reply);
    found.ok().map(libmach::SendRight::into_name)
}

/// Points the main thread's thread register (%fs) at `block`.
///
/// # Safety
/// `block` must stay valid for the life of the process.
pub unsafe fn set_thread_pointer(block: *mut u8) -> Result<usize, Errno> {
    THREAD_POINTER.store(block as u64, Ordering::Relaxed);
    libmach::trap::thread_set_tls(MAIN_THREAD.load(Ordering::Relaxed), block as u64)
        .map(|()| 0)
        .map_err(|_| Errno(crate::errno_table::EINVAL))
}
