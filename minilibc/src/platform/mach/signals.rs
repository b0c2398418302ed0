//! Signals on Mach_R (docs/process-server.md, "Signals"; docs/minilibc.md).
//!
//! The actions, the mask and the signals pending here live in
//! [`crate::mach::signals::SignalState`], behind a spin lock the main
//! thread and the signal thread share. The process server knows a summary
//! (caught, ignored, blocked where it matters, SIGCHLD's flags), applies
//! default actions itself and posts what is caught or blocked to the
//! process's signal port.
//!
//! **The signal thread** is started when the first handler is installed. It
//! receives on a port set: the signal port (`signal.defs`: `post`, `fault`,
//! only from a sender with pid 0) and its control port
//! (`signal_thread.defs`: `synchronize`, from the main thread). To run a
//! handler on the main thread it takes the state's lock, suspends the
//! thread, interrupts the wait it is in (`thread_abort`: a blocked
//! `mach_msg` returns `MACH_RCV_INTERRUPTED`, a sleep `KERN_ABORTED`), reads
//! its registers, writes a frame below its stack's red zone (or on the
//! alternate stack), points it at [`entry stub`](self) with the handler's
//! arguments and resumes it. If the main thread is in a critical section
//! (see `platform::mach`), the signal is left pending and the section's end
//! delivers it.
//!
//! **The entry stub** (assembly, on the main thread) saves the FP/SSE state
//! (`fxsave`, which only the thread itself can do), gives the handler a
//! fresh one, calls it, then `handler_returned` restores the mask (and runs
//! handlers of signals that unblocks), and the **return trampoline**
//! restores every register from the `ucontext_t` (a handler may have
//! changed it) with `fxrstor` and `iretq`, which sets `rip`, `rflags` and
//! `rsp` at once: no system call, and no byte of the interrupted code's red
//! zone is touched.
//!
//! **Synchronous delivery**: a signal sent to the process itself (raise,
//! kill of its own pid, SIGPIPE from a write) or unblocked by sigprocmask
//! is handled on the calling thread before the call returns, as POSIX asks:
//! the handler is called directly, with a `ucontext_t` holding the mask.

use super::{
    call, done, process_port, send, start::thread_pointer, uninterrupted, SpinLock, DEFERRED, KERNEL, MAIN_THREAD,
};
use crate::errno_table::{EINTR, EINVAL, ENOMEM};
use crate::mach::frame::{self, AlternateStack, StackRecord, MINIMUM_SIGNAL_STACK};
// The records and registers of the architecture's frame: x86_64's in
// `frame`, aarch64's in `frame_aarch64`.
#[cfg(target_arch = "x86_64")]
use crate::mach::frame as machine_frame;
#[cfg(target_arch = "aarch64")]
use crate::mach::frame_aarch64 as machine_frame;
use crate::mach::signals::{
    bit, Action, Disposition, Information, SignalState, Summary, SA_RESTART, SIGCONT, SIGKILL, SIGSTOP, SI_USER,
};
use crate::platform::{Errno, SignalAction};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use libmach::abi::thread_state::{NativeThreadState, ThreadState};
use libmach::abi::{MachMsgHeader, PortName};
use libmach::{Context, PortKernel, PortSet, ReceiveRight, SendOnceRight, SendRight};
use machine_frame::{SignalFrame, UserContext};
use personality_interfaces::{signal, signal_thread};

/// The state both threads share, and what the process server was last told.
pub(crate) struct Shared {
    state: SignalState,
    alternate: AlternateStack,
    /// The summary the process server holds: the one exec left it (the
    /// start mask, the signals kept ignored, nothing caught), then the last
    /// one sent.
    told: Summary,
}

static SHARED: SpinLock<Shared> = SpinLock::new(Shared {
    state: SignalState::new(),
    alternate: AlternateStack { base: 0, size: 0, enabled: false },
    told: Summary { caught: 0, ignored: 0, blocked: 0, no_child_stop: false, no_child_wait: false },
});

/// The signal thread's port (0: not started), its ports, and the main
/// thread's wake port with the send right the signal thread uses on it.
static SIGNAL_THREAD: AtomicU32 = AtomicU32::new(0);
static SIGNAL_PORT: AtomicU32 = AtomicU32::new(0);
static CONTROL_PORT: AtomicU32 = AtomicU32::new(0);
static CONTROL_SEND: AtomicU32 = AtomicU32::new(0);
static SIGNAL_SET: AtomicU32 = AtomicU32::new(0);
static WAKE_PORT: AtomicU32 = AtomicU32::new(0);
static WAKE_SEND: AtomicU32 = AtomicU32::new(0);
/// aarch64: the port the main thread waits on while the signal thread
/// restores its registers after a handler (no message ever comes).
static PARK_PORT: AtomicU32 = AtomicU32::new(0);
/// The signal thread's stack (base, size with its guard page).
static SIGNAL_STACK: AtomicU64 = AtomicU64::new(0);
const SIGNAL_STACK_SIZE: u64 = 128 * 1024;
const PAGE: u64 = 4096;

/// Handlers run on the main thread so far (sigsuspend waits for this to move).
static DELIVERIES: AtomicU64 = AtomicU64::new(0);
/// Calls interrupted by handlers without `SA_RESTART` (see `interruptible`).
static INTERRUPTIONS_WITHOUT_RESTART: AtomicU64 = AtomicU64::new(0);
/// The main thread waits in sigsuspend: wake it after a handler ran.
static SUSPENDED: AtomicBool = AtomicBool::new(false);
/// The real user id, for the `si_uid` of signals sent to ourselves.
pub(crate) static REAL_USER: AtomicU32 = AtomicU32::new(0);

pub(crate) fn interruptions_without_restart() -> u64 {
    INTERRUPTIONS_WITHOUT_RESTART.load(Ordering::SeqCst)
}

/// The mask a new image starts with, and the signals the process server
/// kept ignored across exec.
pub(crate) fn initialize(blocked: u64, ignored: u64) {
    let mut shared = SHARED.lock();
    shared.state = SignalState::starting(blocked, ignored);
    shared.told = shared.state.summary();
}

pub(crate) fn blocked_mask() -> u64 {
    SHARED.lock().state.blocked()
}

fn on_signal_thread() -> bool {
    let thread = SIGNAL_THREAD.load(Ordering::Relaxed);
    thread != 0 && thread == current_thread()
}

/// The calling thread's port name. The main thread's is cached; asking the
/// kernel adds a reference, dropped at once (the name stays the same).
fn current_thread() -> PortName {
    let name = libmach::trap::thread_self();
    let _ = KERNEL.port_deallocate(name);
    name
}

/// Tells the process server the summary if it changed where it matters
/// (`force`: always). From the main thread in a critical section (the
/// call must not be interrupted); from the signal thread directly.
fn tell_server(force: bool) {
    let Ok(port) = process_port() else { return };
    let summary = {
        let shared = SHARED.lock();
        let summary = shared.state.summary();
        if !force && !shared.told.server_must_learn(&summary) {
            return;
        }
        summary
    };
    let request = || {
        call!(proc, port, |client| client.set_dispositions(
            summary.caught,
            summary.ignored,
            summary.blocked,
            summary.no_child_stop,
            summary.no_child_wait
        ))
    };
    let told = if on_signal_thread() { request().is_ok() } else { uninterrupted(request).is_ok() };
    if told {
        SHARED.lock().told = summary;
    }
}

/// sigaction: installs `new` (if any) for `signal` and returns the previous
/// action. The first handler starts the signal thread.
pub fn sigaction(signal: i32, new: Option<SignalAction>) -> Result<SignalAction, Errno> {
    let new = new.map(|action| Action { handler: action.handler, flags: action.flags, mask: action.mask });
    let old = SHARED.lock().state.set_action(signal, new).map_err(Errno)?;
    if new.is_some_and(|action| action.is_caught()) && SIGNAL_THREAD.load(Ordering::Relaxed) == 0 {
        if let Err(error) = start_signal_thread() {
            // Without the thread the handler could never run: refuse it.
            let _ = SHARED.lock().state.set_action(signal, Some(old));
            return Err(error);
        }
    }
    if new.is_some() {
        tell_server(false);
    }
    Ok(SignalAction { handler: old.handler, flags: old.flags, mask: old.mask })
}

/// # Safety
/// `new` and `old` null or valid 64-bit masks.
pub unsafe fn sigprocmask(how: i32, new: *const u64, old: *mut u64) -> Result<usize, Errno> {
    let previous = if new.is_null() {
        let shared = SHARED.lock();
        shared.state.blocked()
    } else {
        // SAFETY: the caller's mask.
        let set = unsafe { *new };
        SHARED.lock().state.change_blocked(how, set).map_err(Errno)?
    };
    if !old.is_null() {
        // SAFETY: the caller's mask.
        unsafe { *old = previous };
    }
    if !new.is_null() {
        tell_server(false);
        deliver_pending();
    }
    Ok(0)
}

/// # Safety
/// `set` writable.
pub unsafe fn sigpending(set: *mut u64) -> Result<usize, Errno> {
    let mut pending = SHARED.lock().state.pending();
    if let Ok(port) = process_port() {
        // Signals the server holds for us (blocked while we had no signal port).
        pending |= uninterrupted(|| call!(proc, port, |client| client.held_signals())).unwrap_or(0);
    }
    // SAFETY: the caller's set.
    unsafe { *set = pending };
    Ok(0)
}

/// # Safety
/// `mask` readable.
pub unsafe fn sigsuspend(mask: *const u64) -> Result<usize, Errno> {
    // SAFETY: the caller's mask.
    let mask = unsafe { *mask };
    let before = DELIVERIES.load(Ordering::SeqCst);
    SUSPENDED.store(true, Ordering::SeqCst);
    let old = {
        let mut shared = SHARED.lock();
        let old = shared.state.blocked();
        shared.state.set_blocked(mask);
        old
    };
    tell_server(false);
    drain_wake_port();
    deliver_pending();
    while DELIVERIES.load(Ordering::SeqCst) == before {
        wait_for_wake();
    }
    SUSPENDED.store(false, Ordering::SeqCst);
    SHARED.lock().state.set_blocked(old);
    tell_server(false);
    deliver_pending();
    Err(Errno(EINTR))
}

/// Receives one message on the wake port (or is interrupted by a handler).
/// Without a signal thread no handler can run: only a default action (the
/// process server ends or stops the process) ends the wait.
fn wait_for_wake() {
    let wake = WAKE_PORT.load(Ordering::Relaxed);
    if wake == 0 {
        let _ = libmach::trap::thread_sleep(u64::MAX / 1_000_000);
        return;
    }
    let mut buffer = libmach::trap::MessageBuffer::<256>::new();
    if libmach::trap::mach_msg(&mut buffer, libmach::abi::MACH_RCV_MSG, 0, wake, 0).is_ok() {
        release_message(&buffer.0);
    }
}

/// Empties the wake port of wake-ups left from earlier.
fn drain_wake_port() {
    let wake = WAKE_PORT.load(Ordering::Relaxed);
    if wake == 0 {
        return;
    }
    let mut buffer = libmach::trap::MessageBuffer::<256>::new();
    while libmach::trap::mach_msg(&mut buffer, libmach::abi::MACH_RCV_MSG | libmach::abi::MACH_RCV_TIMEOUT, 0, wake, 0)
        .is_ok()
    {
        release_message(&buffer.0);
    }
}

fn release_message(buffer: &[u8]) {
    if let Ok((view, _)) = libmach::abi::parse_received(buffer) {
        libmach::message::release_received(&KERNEL, &view);
    }
}

/// alarm: the process server's real-time timer, in seconds.
pub fn alarm(seconds: u32) -> u32 {
    let Ok(port) = process_port() else { return 0 };
    let value = u64::from(seconds) * 1_000_000;
    match uninterrupted(|| call!(proc, port, |client| client.set_timer(value, 0))) {
        // Linux rounds the time left to the nearest second, and says 1
        // rather than 0 for a timer that was still running.
        Ok(old) if old.old_value > 0 => (old.old_value.div_ceil(500_000) / 2).max(1) as u32,
        _ => 0,
    }
}

/// setitimer/getitimer(ITIMER_REAL): the process server's timer, in
/// microseconds; `new` None only reads (0 for both: disarms).
pub fn real_timer(new: Option<(u64, u64)>) -> Result<(u64, u64), Errno> {
    let port = done(process_port())?;
    match new {
        Some((value, interval)) => {
            let old = uninterrupted(|| call!(proc, port, |client| client.set_timer(value, interval)))?;
            Ok((old.old_value, old.old_interval))
        }
        None => {
            // Reading without a read routine: set it to what it is.
            let old = uninterrupted(|| call!(proc, port, |client| client.set_timer(0, 0)))?;
            if old.old_value != 0 {
                uninterrupted(|| call!(proc, port, |client| client.set_timer(old.old_value, old.old_interval)))?;
            }
            Ok((old.old_value, old.old_interval))
        }
    }
}

/// sigaltstack.
///
/// # Safety
/// `new` null or a readable `stack_t`, `old` null or writable.
pub unsafe fn sigaltstack(new: *const u8, old: *mut u8) -> Result<usize, Errno> {
    const SS_DISABLE: i32 = frame::SS_DISABLE;
    let stack_pointer = stack_pointer();
    let mut shared = SHARED.lock();
    let current = shared.alternate;
    if !new.is_null() {
        if current.contains(stack_pointer) {
            return Err(Errno(crate::errno_table::EPERM));
        }
        // SAFETY: the caller's stack_t.
        let record = unsafe { core::ptr::read_unaligned(new as *const StackRecord) };
        if record.flags & !SS_DISABLE != 0 {
            return Err(Errno(EINVAL));
        }
        if record.flags & SS_DISABLE != 0 {
            shared.alternate = AlternateStack::default();
        } else {
            if record.size < MINIMUM_SIGNAL_STACK {
                return Err(Errno(ENOMEM));
            }
            shared.alternate = AlternateStack { base: record.base, size: record.size, enabled: true };
        }
    }
    if !old.is_null() {
        // SAFETY: the caller's stack_t.
        unsafe { core::ptr::write_unaligned(old as *mut StackRecord, current.record(stack_pointer)) };
    }
    Ok(0)
}

fn stack_pointer() -> u64 {
    let value: u64;
    // SAFETY: reads the stack pointer; no memory is touched.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) value, options(nomem, nostack, preserves_flags))
    };
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) value, options(nomem, nostack, preserves_flags))
    };
    value
}

/// A `ucontext_t` for a handler called directly (synchronous delivery):
/// the mask and the stack; no registers to return to.
#[cfg(target_arch = "x86_64")]
fn direct_context(mask: u64, stack: StackRecord) -> UserContext {
    frame::context_of(&NativeThreadState::default(), mask, stack, 0)
}
#[cfg(target_arch = "aarch64")]
fn direct_context(mask: u64, stack: StackRecord) -> UserContext {
    machine_frame::context_of(&NativeThreadState::default(), mask, stack)
}

/// The frame for `information` on a thread interrupted with `interrupted`,
/// to be written at `address`.
#[cfg(target_arch = "x86_64")]
fn frame_for(
    interrupted: &NativeThreadState,
    mask: u64,
    stack: StackRecord,
    address: u64,
    information: &Information,
) -> SignalFrame {
    SignalFrame {
        floating_point: [0; 512],
        context: frame::context_of(interrupted, mask, stack, address + frame::FRAME_FLOATING_POINT as u64),
        information: frame::information_record(information),
        return_frame: [0; 5],
    }
}
#[cfg(target_arch = "aarch64")]
fn frame_for(
    interrupted: &NativeThreadState,
    mask: u64,
    stack: StackRecord,
    _address: u64,
    information: &Information,
) -> SignalFrame {
    SignalFrame {
        context: machine_frame::context_of(interrupted, mask, stack),
        information: frame::information_record(information),
        return_arguments: [0; 6],
        return_message: [0; 8],
    }
}

/// Handles a signal sent to ourselves on this thread, if it is caught or
/// blocked here (false: its action is the default or it cannot be caught:
/// the process server applies it).
pub(crate) fn raise_locally(signal: i32) -> bool {
    if signal == SIGKILL || signal == SIGSTOP {
        return false;
    }
    let information = Information {
        signal,
        code: SI_USER,
        pid: super::PID.load(Ordering::Relaxed),
        uid: REAL_USER.load(Ordering::Relaxed),
        ..Information::default()
    };
    let disposition = {
        let mut shared = SHARED.lock();
        let action = match shared.state.action(signal) {
            Ok(action) => action,
            Err(_) => return false,
        };
        let blocked = shared.state.blocked() & bit(signal) != 0;
        if !action.is_caught() && !blocked {
            // Ignored: nothing to do; the default: the server's (SIGCONT
            // too: it also continues a stopped group).
            return action.handler == crate::mach::signals::HANDLER_IGNORE && signal != SIGCONT;
        }
        shared.state.arrive(information)
    };
    match disposition {
        Disposition::Handle { information, action } => {
            run_here(information, action);
            // One raised again during the handler waited for it: now.
            deliver_pending();
        }
        Disposition::Default(_) => return false,
        Disposition::Pending | Disposition::Discard => {}
    }
    true
}

/// SIGPIPE for a write to a pipe nobody reads, raised in the writer.
pub(crate) fn raise_here(signal: i32) {
    if !raise_locally(signal) {
        let pid = super::process::getpid();
        if let Ok(port) = process_port() {
            let _ = uninterrupted(|| call!(proc, port, |client| client.kill(pid, signal)));
        }
    }
}

/// Runs every pending signal that is no longer blocked, on this thread.
pub(crate) fn deliver_pending() {
    loop {
        let next = SHARED.lock().state.take_unblocked();
        match next {
            None => return,
            Some((_, Disposition::Handle { information, action })) => run_here(information, action),
            Some((signal, Disposition::Default(_))) => apply_default(signal),
            Some((_, Disposition::Pending | Disposition::Discard)) => {}
        }
    }
}

/// A signal whose action is the default: the process server applies it
/// (after hearing the current summary, so it does not hold or post it).
fn apply_default(signal: i32) {
    if signal == 0 {
        return;
    }
    tell_server(true);
    let Ok(port) = process_port() else { return };
    let pid = super::process::getpid();
    let request = || call!(proc, port, |client| client.kill(pid, signal));
    if on_signal_thread() {
        let _ = request();
    } else {
        let _ = uninterrupted(request);
    }
}

/// Calls the handler of `information` on this thread (synchronous delivery).
fn run_here(information: Information, action: Action) {
    let old_mask = SHARED.lock().state.begin_handler(information.signal, action);
    tell_server(false);
    DELIVERIES.fetch_add(1, Ordering::SeqCst);
    let mut record = frame::information_record(&information);
    let here = stack_pointer();
    let alternate = SHARED.lock().alternate;
    let mut context = direct_context(old_mask, alternate.record(here));
    // With SA_ONSTACK the handler runs on the alternate stack (unless this
    // thread is on it already), as an interrupting delivery's would.
    let (_, on_alternate) = machine_frame::frame_address(here, &alternate, action.flags);
    let top = if on_alternate { (alternate.base + alternate.size) & !15 } else { 0 };
    // SAFETY: the handler is the function the caller of sigaction installed
    // (with SA_SIGINFO it takes three arguments, else the first only: the
    // extra ones are ignored under the System V convention); `top` is 0 or
    // the top of the alternate stack the program gave sigaltstack.
    unsafe {
        __minilibc_call_handler(
            action.handler,
            information.signal as u64,
            &raw mut record as u64,
            &raw mut context as u64,
            top,
        )
    };
    SHARED.lock().state.set_blocked(context.mask);
    tell_server(false);
}

/// Held by fork around the request: the signal thread never holds the
/// state's lock when the child's copy of memory is made (the child, whose
/// copy shows the lock taken, releases it by dropping its copy of this).
pub(crate) struct ForkGuard(#[allow(dead_code)] super::SpinGuard<'static, Shared>);

pub(crate) fn lock_for_fork() -> ForkGuard {
    ForkGuard(SHARED.lock())
}

/// After a kill that may have reached this process through the server:
/// waits until the signal thread handled every signal posted before.
pub(crate) fn synchronize() {
    let control = CONTROL_SEND.load(Ordering::Relaxed);
    if control == 0 {
        return;
    }
    // An interruption means a handler ran: that is what we waited for.
    let _ = call!(signal_thread, control, |client| client.synchronize());
    deliver_pending();
}

/// The child of a fork: the parent's signal thread and its ports are not
/// here (their receive rights were not copied; the send rights to them
/// were, and go); nothing is pending. If the parent had handlers, the child
/// starts a signal thread of its own.
pub(crate) fn after_fork() {
    DEFERRED.store(false, Ordering::SeqCst);
    SUSPENDED.store(false, Ordering::SeqCst);
    let had_thread = SIGNAL_THREAD.swap(0, Ordering::SeqCst);
    for send in [&CONTROL_SEND, &WAKE_SEND] {
        let name = send.swap(0, Ordering::SeqCst);
        if name != 0 {
            let _ = KERNEL.port_deallocate(name);
        }
    }
    for receive in [&SIGNAL_PORT, &CONTROL_PORT, &SIGNAL_SET, &WAKE_PORT, &PARK_PORT] {
        receive.store(0, Ordering::SeqCst);
    }
    if had_thread != 0 {
        // The send right to the parent's signal thread came with the others.
        let _ = KERNEL.port_deallocate(had_thread);
        let stack = SIGNAL_STACK.swap(0, Ordering::SeqCst);
        if stack != 0 {
            let _ = libmach::trap::vm_deallocate(libmach::trap::task_self(), stack, SIGNAL_STACK_SIZE + PAGE);
        }
    }
    {
        let mut shared = SHARED.lock();
        let state = &mut shared.state;
        let blocked = state.blocked();
        // Pending signals are not inherited: take them out without running them.
        state.set_blocked(u64::MAX);
        while state.take_unblocked().is_some() {}
        state.set_blocked(blocked);
    }
    if had_thread != 0 && SHARED.lock().state.catches_any() {
        let _ = start_signal_thread();
    }
}

/// Makes the signal thread: its ports, its stack, the thread, and tells the
/// process server where signals go.
fn start_signal_thread() -> Result<(), Errno> {
    let process = done(process_port())?;
    let no_memory = |_| Errno(ENOMEM);
    let signal_port = ReceiveRight::allocate(&KERNEL).map_err(no_memory)?;
    let control_port = ReceiveRight::allocate(&KERNEL).map_err(no_memory)?;
    let wake_port = ReceiveRight::allocate(&KERNEL).map_err(no_memory)?;
    let park_port = ReceiveRight::allocate(&KERNEL).map_err(no_memory)?;
    let set = PortSet::allocate(&KERNEL).map_err(no_memory)?;
    signal_port.join(&set).map_err(no_memory)?;
    control_port.join(&set).map_err(no_memory)?;
    let control_send = control_port.make_send().map_err(no_memory)?;
    let wake_send = wake_port.make_send().map_err(no_memory)?;
    let task = libmach::trap::task_self();
    let _ = KERNEL.port_deallocate(task);
    let region = SIGNAL_STACK_SIZE + PAGE;
    let stack = libmach::trap::vm_allocate(task, 0, region, libmach::abi::VM_FLAGS_ANYWHERE).map_err(no_memory)?;
    // The lowest page stays inaccessible: an overflow faults.
    let _ = libmach::trap::vm_protect(task, stack, PAGE, false, libmach::abi::VM_PROT_NONE);
    let thread = match libmach::trap::thread_create(task) {
        Ok(thread) => thread,
        Err(_) => {
            let _ = libmach::trap::vm_deallocate(task, stack, region);
            return Err(Errno(ENOMEM));
        }
    };
    // The ports are named before the thread runs: it reads them.
    SIGNAL_PORT.store(signal_port.into_name(), Ordering::SeqCst);
    CONTROL_PORT.store(control_port.into_name(), Ordering::SeqCst);
    WAKE_PORT.store(wake_port.into_name(), Ordering::SeqCst);
    PARK_PORT.store(park_port.into_name(), Ordering::SeqCst);
    SIGNAL_SET.store(set.name(), Ordering::SeqCst);
    core::mem::forget(set);
    CONTROL_SEND.store(control_send.into_name(), Ordering::SeqCst);
    WAKE_SEND.store(wake_send.into_name(), Ordering::SeqCst);
    SIGNAL_STACK.store(stack, Ordering::SeqCst);
    SIGNAL_THREAD.store(thread, Ordering::SeqCst);
    let mut state = NativeThreadState::default();
    state.set_pc(signal_thread_entry as *const () as u64);
    // The System V ABI enters a function 8 below a 16-byte boundary;
    // AAPCS64 at one.
    state.set_sp(if cfg!(target_arch = "x86_64") { stack + region - 8 } else { stack + region });
    #[cfg(target_arch = "x86_64")]
    {
        state.rflags = 0x202;
    }
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    let started = libmach::trap::thread_set_state(thread, NativeThreadState::FLAVOR, &words)
        .and_then(|()| libmach::trap::thread_set_tls(thread, thread_pointer()))
        .and_then(|()| libmach::trap::thread_resume(thread));
    if started.is_err() {
        let _ = libmach::trap::thread_terminate(thread);
        SIGNAL_THREAD.store(0, Ordering::SeqCst);
        return Err(Errno(ENOMEM));
    }
    // Signals go to the signal port from now on (held ones are posted now).
    let signal_port = SIGNAL_PORT.load(Ordering::SeqCst);
    let receive = core::mem::ManuallyDrop::new(ReceiveRight::from_name(&KERNEL, signal_port));
    uninterrupted(|| call!(proc, process, |client| client.set_signal_port(&receive)))?;
    Ok(())
}

/// The signal thread: serves its port set for good.
extern "C" fn signal_thread_entry() -> ! {
    let set = SIGNAL_SET.load(Ordering::SeqCst);
    const SIZE: usize =
        if signal::BUFFER_SIZE > signal_thread::BUFFER_SIZE { signal::BUFFER_SIZE } else { signal_thread::BUFFER_SIZE };
    let mut request = libmach::trap::MessageBuffer::<SIZE>::new();
    let mut reply = libmach::trap::MessageBuffer::<SIZE>::new();
    let mut receiver = Receiver;
    libmach::server::run_with(
        &KERNEL,
        set,
        libmach::ServeOptions { audit: true },
        &mut request.0,
        &mut reply.0,
        &mut |request, reply| {
            signal::dispatch(&mut receiver, &KERNEL, request, reply)
                .or_else(|| signal_thread::dispatch(&mut receiver, &KERNEL, request, reply))
        },
    );
    // The set is gone (the task is ending): nothing more to do.
    loop {
        let _ = libmach::trap::thread_sleep(u64::MAX / 1_000_000);
    }
}

/// What the signal thread serves.
struct Receiver;

/// Only the process server (a task with pid 0) posts signals.
fn from_system(context: &Context<'_>) -> bool {
    context.credential().is_some_and(|credential| credential.pid == 0)
}

impl signal::Server for Receiver {
    fn post(&mut self, context: &Context<'_>, information: &signal::Information) {
        if !from_system(context) {
            return;
        }
        let information = Information {
            signal: information.signal,
            code: information.code,
            error: information.error,
            pid: information.pid,
            uid: information.uid,
            status: information.status,
            address: information.address,
        };
        let mut shared = SHARED.lock();
        match shared.state.arrive(information) {
            Disposition::Handle { information, action } => {
                let delivered = deliver_to_main(&mut shared, information, action, None);
                drop(shared);
                if delivered {
                    tell_server(false);
                    wake_main();
                }
            }
            Disposition::Default(_) => {
                drop(shared);
                apply_default(information.signal);
            }
            Disposition::Pending | Disposition::Discard => {}
        }
    }

    fn fault(
        &mut self,
        context: &Context<'_>,
        thread: SendRight,
        reply: SendOnceRight,
        information: &signal::Information,
    ) {
        if !from_system(context) {
            answer_exception(reply, libmach::abi::KernReturn::Failure as i32);
            return;
        }
        let information = Information {
            signal: information.signal,
            code: information.code,
            error: information.error,
            pid: information.pid,
            uid: information.uid,
            status: information.status,
            address: information.address,
        };
        let mut shared = SHARED.lock();
        let action = shared.state.action(information.signal).unwrap_or_default();
        let blocked = shared.state.blocked() & bit(information.signal) != 0;
        // A fault's handler runs now or never: blocked or not caught, the
        // kernel ends the task (the server reports the signal).
        let code = if action.is_caught() && !blocked && thread.name() == MAIN_THREAD.load(Ordering::Relaxed) {
            if deliver_to_main(&mut shared, information, action, Some(thread.name())) {
                libmach::abi::KernReturn::Success as i32
            } else {
                libmach::abi::KernReturn::Failure as i32
            }
        } else {
            libmach::abi::KernReturn::Failure as i32
        };
        drop(shared);
        answer_exception(reply, code);
        if code == libmach::abi::KernReturn::Success as i32 {
            tell_server(false);
        }
        drop(thread);
    }
}

impl signal_thread::Server for Receiver {
    fn synchronize(&mut self, _context: &Context<'_>) -> Result<(), signal_thread::Error> {
        // Every message that came before this one has been handled.
        Ok(())
    }

    fn wake(&mut self, _context: &Context<'_>) {}

    /// aarch64's return from a handler (`prepare_return`): only from this
    /// process's own main thread (the control port's one sender).
    #[cfg(target_arch = "aarch64")]
    fn restore(&mut self, context: &Context<'_>, address: u64) {
        let own = super::PID.load(Ordering::Relaxed);
        if context.credential().is_some_and(|credential| credential.pid == own as u32 || own == 0) {
            restore_main(address);
        }
    }

    /// x86_64 returns from handlers with iretq on the thread itself and
    /// never asks: a request is refused, said in the kernel log.
    #[cfg(target_arch = "x86_64")]
    fn restore(&mut self, _context: &Context<'_>, _address: u64) {
        let _ = libmach::trap::debug_print("minilibc: signal_thread.restore is aarch64's; ignored\n");
    }
}

/// Answers the kernel's exception reply right (the protocol of
/// mach_abi::exception, which has no interface file: a header and a return
/// code).
fn answer_exception(reply: SendOnceRight, code: i32) {
    let mut buffer = libmach::trap::MessageBuffer::<64>::new();
    let header = MachMsgHeader {
        bits: libmach::abi::msgh_bits(libmach::abi::Disposition::MoveSendOnce as u32, 0),
        size: 0,
        remote_port: reply.name(),
        local_port: 0,
        voucher_port: 0,
        id: libmach::abi::EXCEPTION_RAISE_REPLY_ID,
    };
    let mut writer = libmach::message::MessageWriter::new(&mut buffer.0, header);
    let length = writer.i32(code).and_then(|()| writer.finish());
    if let Ok(length) = length {
        if libmach::trap::mach_msg(&mut buffer, libmach::abi::MACH_SEND_MSG, length, 0, 0).is_ok() {
            reply.moved();
            return;
        }
    }
    drop(reply);
}

/// Tells the main thread waiting in sigsuspend that a handler ran.
fn wake_main() {
    if !SUSPENDED.load(Ordering::SeqCst) {
        return;
    }
    let wake = WAKE_SEND.load(Ordering::Relaxed);
    if wake != 0 {
        let _ = send!(signal_thread, wake, |client| client.wake());
    }
}

/// Runs `action`'s handler for `information` on the main thread (called on
/// the signal thread with the lock held). `faulted`: the main thread is
/// waiting for the answer to its exception (it is stopped in the kernel;
/// the answer resumes it). Returns false if the signal was left pending
/// (a critical section) or the thread could not be reached.
fn deliver_to_main(shared: &mut Shared, information: Information, action: Action, faulted: Option<PortName>) -> bool {
    let main = MAIN_THREAD.load(Ordering::Relaxed);
    if faulted.is_none() {
        if libmach::trap::thread_suspend(main).is_err() {
            return false;
        }
        if super::in_critical_section() {
            shared.state.defer(information);
            DEFERRED.store(true, Ordering::SeqCst);
            let _ = libmach::trap::thread_resume(main);
            return false;
        }
        let _ = libmach::trap::thread_abort(main);
    }
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    let interrupted = libmach::trap::thread_get_state(main, NativeThreadState::FLAVOR, &mut words)
        .ok()
        .and_then(|_| NativeThreadState::load_words(&words));
    let Some(interrupted) = interrupted else {
        if faulted.is_none() {
            let _ = libmach::trap::thread_resume(main);
        }
        return false;
    };
    let old_mask = shared.state.begin_handler(information.signal, action);
    let (address, _) = machine_frame::frame_address(interrupted.sp(), &shared.alternate, action.flags);
    let stack = shared.alternate.record(interrupted.sp());
    let record = frame_for(&interrupted, old_mask, stack, address, &information);
    // SAFETY: the main thread is stopped (suspended, or waiting for its
    // exception's answer), and `address` is below its stack pointer's red
    // zone (or on its alternate stack), in memory it owns and no live code
    // uses: the frame is written as the kernel would write Linux's. The
    // address is 64-byte aligned (`frame_address`).
    unsafe { core::ptr::write_volatile(address as *mut SignalFrame, record) };
    let entry = machine_frame::entry_state(
        &interrupted,
        address,
        __minilibc_signal_entry as *const () as u64,
        action.handler as u64,
        information.signal,
    );
    entry.store_words(&mut words);
    let set = libmach::trap::thread_set_state(main, NativeThreadState::FLAVOR, &words);
    if action.flags & SA_RESTART == 0 {
        INTERRUPTIONS_WITHOUT_RESTART.fetch_add(1, Ordering::SeqCst);
    }
    DELIVERIES.fetch_add(1, Ordering::SeqCst);
    if faulted.is_none() {
        let _ = libmach::trap::thread_resume(main);
    }
    set.is_ok()
}

/// Called by the entry stub when the handler returned: the mask of the
/// `ucontext_t` comes back (a handler may have changed it), and signals it
/// unblocks run now.
extern "C" fn handler_returned(context: *mut UserContext) {
    // SAFETY: the stub passes the context of the frame it runs on.
    let mask = unsafe { (*context).mask };
    SHARED.lock().state.set_blocked(mask);
    tell_server(false);
    deliver_pending();
}

/// The default MXCSR a handler starts with (all exceptions masked).
#[cfg(target_arch = "x86_64")]
#[no_mangle]
static __minilibc_default_mxcsr: u32 = 0x1f80;

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    // Entered with rsp = the frame (16-byte aligned), rdi/rsi/rdx the
    // handler's arguments, r12 the handler, r13 the ucontext, r14 the FP
    // save area (frame::entry_state).
    ".globl __minilibc_signal_entry",
    ".type __minilibc_signal_entry,@function",
    "__minilibc_signal_entry:",
    "fxsave [r14]",
    "fninit",
    "ldmxcsr [rip + __minilibc_default_mxcsr]",
    "call r12",
    "mov rdi, r13",
    "call {returned}",
    // The return trampoline: every register from the ucontext.
    "mov rax, [r13 + {fpregs}]",
    "fxrstor [rax]",
    "lea rsp, [r13 + {iret}]",
    "mov rax, [r13 + {registers} + 8 * 16]",
    "mov [rsp], rax",
    "xor eax, eax",
    "mov ax, cs",
    "mov [rsp + 8], rax",
    "mov rax, [r13 + {registers} + 8 * 17]",
    "mov [rsp + 16], rax",
    "mov rax, [r13 + {registers} + 8 * 15]",
    "mov [rsp + 24], rax",
    "xor eax, eax",
    "mov ax, ss",
    "mov [rsp + 32], rax",
    "mov r8, [r13 + {registers} + 8 * 0]",
    "mov r9, [r13 + {registers} + 8 * 1]",
    "mov r10, [r13 + {registers} + 8 * 2]",
    "mov r11, [r13 + {registers} + 8 * 3]",
    "mov r12, [r13 + {registers} + 8 * 4]",
    "mov r14, [r13 + {registers} + 8 * 6]",
    "mov r15, [r13 + {registers} + 8 * 7]",
    "mov rdi, [r13 + {registers} + 8 * 8]",
    "mov rsi, [r13 + {registers} + 8 * 9]",
    "mov rbp, [r13 + {registers} + 8 * 10]",
    "mov rbx, [r13 + {registers} + 8 * 11]",
    "mov rdx, [r13 + {registers} + 8 * 12]",
    "mov rax, [r13 + {registers} + 8 * 13]",
    "mov rcx, [r13 + {registers} + 8 * 14]",
    "mov r13, [r13 + {registers} + 8 * 5]",
    "iretq",
    returned = sym handler_returned,
    fpregs = const frame::CONTEXT_FLOATING_POINT,
    registers = const frame::CONTEXT_REGISTERS,
    iret = const (frame::FRAME_RETURN as isize - frame::FRAME_CONTEXT as isize),
);

extern "C" {
    fn __minilibc_signal_entry();
    /// Calls `handler(signal, information, context)` on the stack whose top
    /// is `stack` (0: the current one).
    fn __minilibc_call_handler(handler: usize, signal: u64, information: u64, context: u64, stack: u64);
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl __minilibc_call_handler",
    ".type __minilibc_call_handler,@function",
    "__minilibc_call_handler:",
    "push rbp",
    "mov rbp, rsp",
    "test r8, r8",
    "jz 2f",
    "mov rsp, r8",
    "2:",
    "and rsp, -16",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    "call rax",
    "mov rsp, rbp",
    "pop rbp",
    "ret",
);

/// aarch64: when the handler returned (`handler_returned` done), the
/// return path: the main thread stays in a critical section (the signal
/// thread runs no other handler on it until its registers are back), and
/// prepares in its frame the `signal_thread.restore` request and the
/// `mach_msg` arguments that send it and then wait on the park port. The
/// entry stub then restores the FP/SIMD state and makes the call.
#[cfg(target_arch = "aarch64")]
extern "C" fn prepare_return(context: *mut UserContext) {
    super::enter_critical_for_return();
    let address = context as u64;
    let frame = (address - machine_frame::FRAME_CONTEXT as u64) as *mut SignalFrame;
    // SAFETY: `context` is the context of the frame the stub runs on, in
    // this thread's stack (or alternate stack), 64-byte aligned; only this
    // thread writes it now.
    let frame = unsafe { &mut *frame };
    let header = libmach::rpc::one_way_header(CONTROL_SEND.load(Ordering::SeqCst), signal_thread::id::RESTORE);
    let mut message = [0u8; 64];
    let mut writer = libmach::message::MessageWriter::new(&mut message, header);
    let length = writer.u64(address).and_then(|()| writer.finish()).unwrap_or(0);
    for (index, word) in frame.return_message.iter_mut().enumerate() {
        *word = u64::from_le_bytes(message[index * 8..index * 8 + 8].try_into().unwrap_or([0; 8]));
    }
    frame.return_arguments = [
        frame.return_message.as_ptr() as u64,
        u64::from(libmach::abi::MACH_SEND_MSG | libmach::abi::MACH_RCV_MSG),
        length as u64,
        core::mem::size_of_val(&frame.return_message) as u64,
        u64::from(PARK_PORT.load(Ordering::SeqCst)),
        0,
    ];
}

/// aarch64: the signal thread's half of a handler's return: the main
/// thread (waiting on the park port) gets the registers of `context`, its
/// critical section ends, and a signal deferred meanwhile runs now.
#[cfg(target_arch = "aarch64")]
fn restore_main(context: u64) {
    let main = MAIN_THREAD.load(Ordering::Relaxed);
    if libmach::trap::thread_suspend(main).is_err() {
        return;
    }
    let _ = libmach::trap::thread_abort(main);
    // SAFETY: the main thread sent the address of the ucontext_t of its
    // current signal frame, in this process's memory; it is stopped, so
    // nothing changes it while it is read.
    let record = unsafe { core::ptr::read_volatile(context as *const UserContext) };
    let state = machine_frame::resume_state(&record);
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    if libmach::trap::thread_set_state(main, NativeThreadState::FLAVOR, &words).is_err() {
        // A context a handler made unusable (a pc or sp outside the user
        // half): the process cannot go on, as Linux kills it.
        let _ = libmach::trap::debug_print("minilibc: a signal handler returned to an unusable context\n");
        let _ = libmach::trap::task_terminate(libmach::trap::task_self());
    }
    super::leave_critical_for_return();
    let deferred = DEFERRED.swap(false, Ordering::SeqCst);
    let _ = libmach::trap::thread_resume(main);
    if deferred {
        deliver_deferred();
    }
}

/// Runs on the main thread the signals left pending while it could not
/// take one (called on the signal thread).
#[cfg(target_arch = "aarch64")]
fn deliver_deferred() {
    loop {
        let mut shared = SHARED.lock();
        match shared.state.take_unblocked() {
            None => return,
            Some((_, Disposition::Handle { information, action })) => {
                let delivered = deliver_to_main(&mut shared, information, action, None);
                drop(shared);
                if delivered {
                    tell_server(false);
                    wake_main();
                }
                // One handler at a time: the next waits for this one's return.
                return;
            }
            Some((signal, Disposition::Default(_))) => {
                drop(shared);
                apply_default(signal);
            }
            Some((_, Disposition::Pending | Disposition::Discard)) => {}
        }
    }
}

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    // Entered with sp = the frame (64-byte aligned), x0..x2 the handler's
    // arguments, x19 the handler, x20 the ucontext, x21 the FP/SIMD record
    // (frame_aarch64::entry_state).
    ".globl __minilibc_signal_entry",
    ".type __minilibc_signal_entry,@function",
    "__minilibc_signal_entry:",
    "mrs x9, fpsr",
    "str w9, [x21, #8]",
    "mrs x9, fpcr",
    "str w9, [x21, #12]",
    "stp q0, q1, [x21, #16]",
    "stp q2, q3, [x21, #48]",
    "stp q4, q5, [x21, #80]",
    "stp q6, q7, [x21, #112]",
    "stp q8, q9, [x21, #144]",
    "stp q10, q11, [x21, #176]",
    "stp q12, q13, [x21, #208]",
    "stp q14, q15, [x21, #240]",
    "stp q16, q17, [x21, #272]",
    "stp q18, q19, [x21, #304]",
    "stp q20, q21, [x21, #336]",
    "stp q22, q23, [x21, #368]",
    "stp q24, q25, [x21, #400]",
    "stp q26, q27, [x21, #432]",
    "stp q28, q29, [x21, #464]",
    "stp q30, q31, [x21, #496]",
    "msr fpcr, xzr",
    "blr x19",
    "mov x0, x20",
    "bl {returned}",
    "mov x0, x20",
    "bl {prepare}",
    // The return path: the FP/SIMD state (the handler may have changed the
    // record), then mach_msg(send restore, receive on the park port).
    "ldr w9, [x21, #8]",
    "msr fpsr, x9",
    "ldr w9, [x21, #12]",
    "msr fpcr, x9",
    "ldp q0, q1, [x21, #16]",
    "ldp q2, q3, [x21, #48]",
    "ldp q4, q5, [x21, #80]",
    "ldp q6, q7, [x21, #112]",
    "ldp q8, q9, [x21, #144]",
    "ldp q10, q11, [x21, #176]",
    "ldp q12, q13, [x21, #208]",
    "ldp q14, q15, [x21, #240]",
    "ldp q16, q17, [x21, #272]",
    "ldp q18, q19, [x21, #304]",
    "ldp q20, q21, [x21, #336]",
    "ldp q22, q23, [x21, #368]",
    "ldp q24, q25, [x21, #400]",
    "ldp q26, q27, [x21, #432]",
    "ldp q28, q29, [x21, #464]",
    "ldp q30, q31, [x21, #496]",
    "mov x9, #{arguments}",
    "add x9, x20, x9",
    "ldp x0, x1, [x9]",
    "ldp x2, x3, [x9, #16]",
    "ldp x4, x5, [x9, #32]",
    "mov x8, #{mach_msg}",
    "svc #0",
    // Only the signal thread's restore ends the wait (it sets every
    // register); an interruption (a nested handler ran and returned here)
    // waits again, receive only.
    "2:",
    "mov x9, #{arguments}",
    "add x9, x20, x9",
    "ldp x0, x1, [x9]",
    "mov x1, #{receive}",
    "mov x2, #0",
    "ldp x3, x4, [x9, #24]",
    "mov x5, #0",
    "mov x8, #{mach_msg}",
    "svc #0",
    "b 2b",
    returned = sym handler_returned,
    prepare = sym prepare_return,
    arguments = const machine_frame::CONTEXT_RETURN_ARGUMENTS,
    mach_msg = const libmach::abi::Trap::MachMsg as u64,
    receive = const libmach::abi::MACH_RCV_MSG,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl __minilibc_call_handler",
    ".type __minilibc_call_handler,@function",
    "__minilibc_call_handler:",
    // x0 the handler, x1..x3 its arguments, x4 the stack's top (0: this one).
    "stp x29, x30, [sp, #-16]!",
    "mov x29, sp",
    "cbz x4, 2f",
    "and x4, x4, #-16",
    "mov sp, x4",
    "2:",
    "mov x9, x0",
    "mov x0, x1",
    "mov x1, x2",
    "mov x2, x3",
    "blr x9",
    "mov sp, x29",
    "ldp x29, x30, [sp], #16",
    "ret",
);
