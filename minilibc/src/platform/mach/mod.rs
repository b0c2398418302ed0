//! The Mach_R back end: every primitive of the platform boundary as
//! messages to the personality's servers through their generated clients
//! (docs/minilibc.md, "The Mach back end"; docs/personality.md is the
//! contract):
//!
//! - [`files`]: descriptors are send rights to open objects of the file
//!   server (`io.defs`, `fs.defs` on the root and working directories) and
//!   the console server;
//! - [`memory`]: mmap and brk through the memory server (`memory.defs`);
//! - [`process`]: fork, exec, spawn, wait, kill, ids, groups, limits, usage
//!   through the process server (`proc.defs`);
//! - [`signals`]: actions and masks kept here, the signal thread that
//!   receives what the process server posts (`signal.defs`) and runs
//!   handlers on the main thread, the entry stub and return trampoline;
//! - [`time`]: the kernel's clock, sleeps, the system's name, randomness;
//! - [`start`]: what the crt calls first: the start block, the ports, the
//!   descriptor table, thread-local storage.
//!
//! Shared here: the process's ports, the reply ports calls borrow, the
//! conversion of call failures to errno values, and critical sections.
//!
//! Threads: the program's one thread (minilibc has no pthreads) and the
//! signal thread, started when the first handler is installed. The signal
//! thread only ever touches the signal state (behind a spin lock), the
//! reply-port pool (lock-free) and the ports (atomics). Everything else is
//! the main thread's; a handler the signal thread runs on the main thread
//! could meet it half-changed, so such changes happen in a critical section,
//! during which the signal thread defers delivery (the signal waits as if
//! blocked; leaving the section delivers it).
#![allow(clippy::missing_safety_doc)]

pub mod files;
mod mapped;
pub mod memory;
pub mod process;
pub mod signals;
pub mod start;
pub mod time;

pub use files::*;
pub use memory::*;
pub use process::*;
pub use signals::*;
pub use start::*;
pub use time::*;

use super::Errno;
use crate::errno_table::{EINTR, EINVAL, EIO, ENOMEM, ETIMEDOUT};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use libmach::abi::{MachMsgReturn, PortName};
use libmach::{CallError, PortKernel, ReceiveRight, RpcError, SendRight, SystemKernel};

/// `AT_FDCWD`.
pub const AT_FDCWD: i32 = -100;

/// The kernel handle every call uses.
pub(crate) const KERNEL: SystemKernel = SystemKernel;

/// The process's ports (names in its IPC space; 0: none).
pub(crate) static PROCESS_PORT: AtomicU32 = AtomicU32::new(0);
pub(crate) static MEMORY_PORT: AtomicU32 = AtomicU32::new(0);
pub(crate) static ROOT_PORT: AtomicU32 = AtomicU32::new(0);
pub(crate) static WORKING_DIRECTORY_PORT: AtomicU32 = AtomicU32::new(0);
pub(crate) static BOOTSTRAP_PORT: AtomicU32 = AtomicU32::new(0);
/// The pid (it never changes; a child of fork learns its own).
pub(crate) static PID: AtomicI32 = AtomicI32::new(0);
/// The main thread's port name (libmach's `thread_self` of it).
pub(crate) static MAIN_THREAD: AtomicU32 = AtomicU32::new(0);
/// The wall clock at the kernel clock's zero, in nanoseconds.
pub(crate) static BOOT_TIME: AtomicU64 = AtomicU64::new(0);

/// Why a call did not succeed: an errno, or an interruption by a handler
/// (the caller restarts or reports EINTR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    Error(i32),
    Interrupted,
}

impl From<i32> for Failure {
    fn from(error: i32) -> Self {
        Failure::Error(error)
    }
}

impl From<Failure> for Errno {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Error(error) => Errno(error),
            Failure::Interrupted => Errno(EINTR),
        }
    }
}

/// Interfaces whose error codes are errno values (every personality
/// interface: "a reply's code is the errno").
pub(crate) trait ErrnoCode {
    fn errno(&self) -> i32;
}

macro_rules! errno_codes {
    ($($interface:ident),*) => {
        $(impl ErrnoCode for personality_interfaces::$interface::Error {
            fn errno(&self) -> i32 {
                self.code()
            }
        })*
    };
}
errno_codes!(io, fs, proc, memory, tty);

impl ErrnoCode for personality_interfaces::signal_thread::Error {
    fn errno(&self) -> i32 {
        EIO
    }
}

/// The errno of an RPC failure below the interface: a server that is gone
/// (its port dead, its reply right destroyed) is EIO, as is a reply that
/// makes no sense; an argument over its bound EINVAL; an interrupted call
/// is [`Failure::Interrupted`].
pub(crate) fn rpc_failure(error: RpcError) -> Failure {
    match error {
        RpcError::Send(MachMsgReturn::SendInterrupted) | RpcError::Receive(MachMsgReturn::ReceiveInterrupted) => {
            Failure::Interrupted
        }
        RpcError::Send(MachMsgReturn::SendTimedOut) | RpcError::Receive(MachMsgReturn::ReceiveTimedOut) => {
            Failure::Error(ETIMEDOUT)
        }
        RpcError::Write(_) => Failure::Error(EINVAL),
        RpcError::Server(libmach::mig::MIG_BAD_ARGUMENTS) => Failure::Error(EINVAL),
        RpcError::UnknownCode(code) if (1..4096).contains(&code) => Failure::Error(code),
        RpcError::NoReplyPort(_) => Failure::Error(ENOMEM),
        _ => Failure::Error(EIO),
    }
}

pub(crate) fn call_failure<E: ErrnoCode>(error: CallError<E>) -> Failure {
    match error {
        CallError::Interface(error) => Failure::Error(error.errno()),
        CallError::Rpc(error) => rpc_failure(error),
    }
}

/// Reply ports calls borrow: a few kept for reuse, lock-free so the
/// signal thread and a handler interrupting a call can each take one.
static REPLY_PORTS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];

/// A reply port for one call (a kept one, else a new one).
pub(crate) fn take_reply_port() -> Result<ReceiveRight, Failure> {
    for slot in &REPLY_PORTS {
        let name = slot.swap(0, Ordering::AcqRel);
        if name != 0 {
            return Ok(ReceiveRight::from_name(&KERNEL, name));
        }
    }
    KERNEL.reply_port().map(|name| ReceiveRight::from_name(&KERNEL, name)).map_err(|_| Failure::Error(ENOMEM))
}

/// Gives a reply port back for reuse (destroyed when enough are kept).
pub(crate) fn give_reply_port(port: ReceiveRight) {
    let name = port.name();
    for slot in &REPLY_PORTS {
        if slot.compare_exchange(0, name, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            let _ = port.into_name();
            return;
        }
    }
    drop(port);
}

/// Forgets the kept reply ports without releasing them: a child of fork,
/// where the parent's receive rights do not exist.
pub(crate) fn forget_reply_ports() {
    for slot in &REPLY_PORTS {
        slot.store(0, Ordering::Release);
    }
}

/// A send right the caller does not own (a descriptor's, the working
/// directory's): lent to a client for one call and given back unreleased.
pub(crate) fn borrowed(name: PortName) -> core::mem::ManuallyDrop<SendRight> {
    core::mem::ManuallyDrop::new(SendRight::from_name(&KERNEL, name))
}

/// Runs `body` with a client of `$interface` calling `$port` (a name the
/// caller owns, lent for the call) with a borrowed reply port; the result's
/// failure as a [`Failure`].
macro_rules! call {
    ($interface:ident, $port:expr, |$client:ident| $body:expr) => {{
        match $crate::platform::mach::take_reply_port() {
            Err(failure) => Err(failure),
            Ok(reply) => {
                let server = libmach::SendRight::from_name(&$crate::platform::mach::KERNEL, $port);
                #[allow(unused_mut)]
                let mut $client = personality_interfaces::$interface::Client::with_reply_port(
                    &$crate::platform::mach::KERNEL,
                    server,
                    reply,
                );
                let result = $body;
                let (server, reply) = $client.into_parts();
                let _ = server.into_name();
                $crate::platform::mach::give_reply_port(reply);
                result.map_err($crate::platform::mach::call_failure)
            }
        }
    }};
}
pub(crate) use call;

/// The same for a one-way message (`simpleroutine`): the failure is an
/// `RpcError`. A one-way message names no reply port, so the client's is
/// never used and none is taken: a new process (or a fork's child) has none
/// kept, and making one for its `exit` was a trap, and a receive right the
/// task's end then destroyed.
macro_rules! send {
    ($interface:ident, $port:expr, |$client:ident| $body:expr) => {{
        let server = libmach::SendRight::from_name(&$crate::platform::mach::KERNEL, $port);
        let unused = libmach::ReceiveRight::from_name(&$crate::platform::mach::KERNEL, libmach::abi::MACH_PORT_NULL);
        #[allow(unused_mut)]
        let mut $client = personality_interfaces::$interface::Client::with_reply_port(
            &$crate::platform::mach::KERNEL,
            server,
            unused,
        );
        let result = $body;
        let (server, unused) = $client.into_parts();
        let _ = server.into_name();
        let _ = unused.into_name();
        result.map_err($crate::platform::mach::rpc_failure)
    }};
}
pub(crate) use send;

/// Depth of the main thread's critical sections (see the module's header).
static CRITICAL_DEPTH: AtomicU32 = AtomicU32::new(0);
/// The signal thread left a signal pending because a critical section was
/// open; leaving the section delivers it.
pub(crate) static DEFERRED: AtomicBool = AtomicBool::new(false);

/// A critical section of the main thread: while one is open the signal
/// thread runs no handler on it. Calls whose interruption could lose what
/// they did (an `open` that created a file, a `fork`) run in one too: only
/// calls that may wait without end (pipes, terminals, wait, sleep) are
/// interrupted, as on Linux.
pub(crate) struct Critical(());

impl Critical {
    pub(crate) fn enter() -> Critical {
        CRITICAL_DEPTH.fetch_add(1, Ordering::SeqCst);
        Critical(())
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        if CRITICAL_DEPTH.fetch_sub(1, Ordering::SeqCst) == 1 && DEFERRED.swap(false, Ordering::SeqCst) {
            signals::deliver_pending();
        }
    }
}

/// aarch64: a handler's return path holds a critical section from the
/// main thread's preparation until the signal thread has restored its
/// registers (`signals::restore_main`), which leaves it.
#[cfg(target_arch = "aarch64")]
pub(crate) fn enter_critical_for_return() {
    CRITICAL_DEPTH.fetch_add(1, Ordering::SeqCst);
}

/// The signal thread's end of that section (the main thread is stopped).
#[cfg(target_arch = "aarch64")]
pub(crate) fn leave_critical_for_return() {
    CRITICAL_DEPTH.fetch_sub(1, Ordering::SeqCst);
}

/// True while the main thread is in a critical section (read by the
/// signal thread with the main thread suspended).
pub(crate) fn in_critical_section() -> bool {
    CRITICAL_DEPTH.load(Ordering::SeqCst) != 0
}

/// A value only the main thread touches, and only inside a critical
/// section (so no handler the signal thread runs on it meets it changing).
pub(crate) struct MainThreadCell<T>(UnsafeCell<T>);

// SAFETY: only the main thread accesses the value (the signal thread never
// does: see each use), and only through `with`, which holds a critical
// section so no handler can re-enter it on the same thread.
unsafe impl<T> Sync for MainThreadCell<T> {}

impl<T> MainThreadCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        MainThreadCell(UnsafeCell::new(value))
    }

    pub(crate) fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        let _section = Critical::enter();
        // SAFETY: the main thread is the only one to call `with` (the
        // signal thread's code never names these cells), and the critical
        // section keeps handlers (the only re-entry on one thread) from
        // running until `body` is done; `body` does not call `with` on the
        // same cell (each use is a short, non-recursive update).
        body(unsafe { &mut *self.0.get() })
    }
}

/// A spin lock, for the state the main thread and the signal thread share.
/// Held only for short, non-blocking updates; the signal thread takes it
/// before suspending the main thread, so the main thread never holds it
/// while suspended by the signal thread.
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to the value goes through `lock`, which gives one holder
// at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}

pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    pub(crate) const fn new(value: T) -> Self {
        SpinLock { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            // The holder may be the other thread of a one-processor machine:
            // give it the processor.
            let _ = libmach::trap::thread_yield();
        }
        SpinGuard { lock: self }
    }
}

impl<T> core::ops::Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> core::ops::DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

/// The process port, or ENOSYS for a task that is no process (a program
/// the bootstrap task started directly).
pub(crate) fn process_port() -> Result<PortName, Failure> {
    match PROCESS_PORT.load(Ordering::Relaxed) {
        0 => Err(Failure::Error(crate::errno_table::ENOSYS)),
        name => Ok(name),
    }
}

/// Makes a `Result<usize, Errno>` of a call's outcome.
pub(crate) fn done<T>(result: Result<T, Failure>) -> Result<T, Errno> {
    result.map_err(Errno::from)
}

/// Runs an interruptible call: one that may wait without end (a pipe, a
/// terminal, a child, a lock). When a handler interrupts it, it is made
/// again if the handler's action had `SA_RESTART` (and `restart` allows:
/// poll, select and sleeps never restart, as on Linux), else EINTR.
pub(crate) fn interruptible<T>(restart: bool, mut attempt: impl FnMut() -> Result<T, Failure>) -> Result<T, Errno> {
    loop {
        let before = signals::interruptions_without_restart();
        match attempt() {
            Err(Failure::Interrupted) => {
                if !restart || signals::interruptions_without_restart() != before {
                    return Err(Errno(EINTR));
                }
            }
            other => return done(other),
        }
    }
}

/// Runs a call that must not be interrupted (its work would be lost): in a
/// critical section, so no handler runs until it is done; an interruption
/// all the same (none is expected) makes it again.
pub(crate) fn uninterrupted<T>(mut attempt: impl FnMut() -> Result<T, Failure>) -> Result<T, Errno> {
    let _section = Critical::enter();
    loop {
        match attempt() {
            Err(Failure::Interrupted) => continue,
            other => return done(other),
        }
    }
}

/// The bytes of a NUL-terminated C string.
///
/// # Safety
/// `text` points to a NUL-terminated string that outlives the slice.
pub(crate) unsafe fn c_bytes<'a>(text: *const u8) -> &'a [u8] {
    if text.is_null() {
        return &[];
    }
    let mut length = 0;
    // SAFETY: the caller guarantees a terminator.
    unsafe {
        while *text.add(length) != 0 {
            length += 1;
        }
        core::slice::from_raw_parts(text, length)
    }
}
