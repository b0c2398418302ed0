//! Time, sleeping, the system's name and randomness.
//!
//! - Clocks: the kernel's `clock_get_time` (nanoseconds since it started)
//!   is `CLOCK_MONOTONIC`; `CLOCK_REALTIME` adds the wall clock at the
//!   kernel clock's zero, which the process server puts in the auxiliary
//!   vector (`AT_MACH_BOOT_TIME`); CPU-time clocks ask the process server
//!   (`proc.usage`: it knows the kernel's tick length).
//! - Sleeping: `thread_switch` with `SWITCH_OPTION_WAIT`, in milliseconds
//!   (rounded up); a handler interrupts it (`thread_abort`: `KERN_ABORTED`).
//! - `uname`: Mach_R's names, the node name from `/etc/hostname`.
//! - `getrandom`: `/dev/urandom` of the file server (ChaCha20 keyed from the
//!   `random` server's virtio-rng), opened on first use.

use super::{call, done, interruptible, process_port, uninterrupted, Failure, BOOT_TIME, KERNEL, ROOT_PORT};
use crate::errno_table::{EINVAL, ENOENT};
use crate::platform::Errno;
use core::sync::atomic::{AtomicU32, Ordering};
use libmach::abi::{KernReturn, PortName};
use libmach::PortKernel;

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;

/// Nanoseconds since the kernel started.
pub(crate) fn monotonic_nanoseconds() -> u64 {
    libmach::trap::clock_get_time().unwrap_or(0)
}

pub(crate) fn monotonic_milliseconds() -> u64 {
    monotonic_nanoseconds() / 1_000_000
}

/// CPU time of the process (its threads' ticks, as the process server
/// counts them), in nanoseconds.
fn processor_time() -> Result<u64, Errno> {
    let port = done(process_port())?;
    let usage = uninterrupted(|| call!(proc, port, |client| client.usage()))?;
    Ok((usage.own.user_microseconds + usage.own.system_microseconds) * 1000)
}

fn write_timespec(time: *mut i64, nanoseconds: u64) {
    // SAFETY: the callers pass a writable timespec.
    unsafe {
        core::ptr::write_unaligned(
            time as *mut [i64; 2],
            [(nanoseconds / 1_000_000_000) as i64, (nanoseconds % 1_000_000_000) as i64],
        )
    };
}

/// # Safety
/// `time` writable for a `struct timespec`.
pub unsafe fn clock_gettime(clock: i32, time: *mut i64) -> Result<usize, Errno> {
    let nanoseconds = match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => BOOT_TIME.load(Ordering::Relaxed) + monotonic_nanoseconds(),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => monotonic_nanoseconds(),
        // One thread runs the program: the thread's time is the process's.
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => processor_time()?,
        _ => return Err(Errno(EINVAL)),
    };
    write_timespec(time, nanoseconds);
    Ok(0)
}

/// # Safety
/// `time` null or writable for a `struct timespec`.
pub unsafe fn clock_getres(clock: i32, time: *mut i64) -> Result<usize, Errno> {
    let resolution = match clock {
        // The kernel clock counts nanoseconds (the TSC scaled).
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_BOOTTIME => 1,
        // Coarse clocks and CPU time move by the timer's tick (at most 10 ms).
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE | CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            10_000_000
        }
        _ => return Err(Errno(EINVAL)),
    };
    if !time.is_null() {
        write_timespec(time, resolution);
    }
    Ok(0)
}

/// Sleeps `milliseconds`; `Interrupted` when a handler ran meanwhile.
fn sleep_for(milliseconds: u64) -> Result<(), Failure> {
    match libmach::trap::thread_sleep(milliseconds) {
        Ok(()) => Ok(()),
        Err(KernReturn::Aborted) => Err(Failure::Interrupted),
        Err(_) => Err(Failure::Error(EINVAL)),
    }
}

/// poll's or select's wait with nothing to wait for: sleeps `timeout` ms
/// (negative: until a handler runs).
pub(crate) fn sleep_milliseconds(timeout: i32) -> Result<(), Errno> {
    let milliseconds = if timeout < 0 { u64::MAX / 1_000_000 } else { timeout as u64 };
    interruptible(false, || sleep_for(milliseconds))
}

/// # Safety
/// `request` readable, `remaining` null or writable.
pub unsafe fn nanosleep(request: *const i64, remaining: *mut i64) -> Result<usize, Errno> {
    // SAFETY: the caller's timespec.
    let [seconds, nanoseconds] = unsafe { core::ptr::read_unaligned(request as *const [i64; 2]) };
    if seconds < 0 || !(0..1_000_000_000).contains(&nanoseconds) {
        return Err(Errno(EINVAL));
    }
    let total = (seconds as u64).saturating_mul(1_000_000_000).saturating_add(nanoseconds as u64);
    let start = monotonic_nanoseconds();
    let result = interruptible(false, || sleep_for(total.div_ceil(1_000_000)));
    if result.is_err() && !remaining.is_null() {
        let slept = monotonic_nanoseconds().saturating_sub(start);
        write_timespec(remaining, total.saturating_sub(slept));
    }
    result.map(|()| 0)
}

/// `struct utsname`: six fields of 65 bytes.
const UTSNAME_FIELD: usize = 65;

/// # Safety
/// `name` writable for a `struct utsname`.
pub unsafe fn uname(name: *mut u8) -> Result<usize, Errno> {
    let mut node = [0u8; UTSNAME_FIELD];
    let node_length = read_hostname(&mut node[..UTSNAME_FIELD - 1]);
    let fields: [&[u8]; 6] = [
        b"Mach_R",
        &node[..node_length],
        env!("CARGO_PKG_VERSION").as_bytes(),
        b"Mach_R minilibc",
        if cfg!(target_arch = "aarch64") { b"aarch64" } else { b"x86_64" },
        b"(none)",
    ];
    for (index, field) in fields.into_iter().enumerate() {
        let mut slot = [0u8; UTSNAME_FIELD];
        slot[..field.len()].copy_from_slice(field);
        // SAFETY: the caller's record holds six fields.
        unsafe { core::ptr::copy_nonoverlapping(slot.as_ptr(), name.add(index * UTSNAME_FIELD), UTSNAME_FIELD) };
    }
    Ok(0)
}

/// The node name: `/etc/hostname`'s first line, else "mach".
fn read_hostname(buffer: &mut [u8]) -> usize {
    const FALLBACK: &[u8] = b"mach";
    let read = (|| -> Result<usize, Errno> {
        let root = ROOT_PORT.load(Ordering::Relaxed);
        if root == 0 {
            return Err(Errno(ENOENT));
        }
        let file = uninterrupted(|| call!(fs, root, |client| client.open(b"/etc/hostname", 0, 0)))?;
        let port = file.file.into_name();
        let data = uninterrupted(|| call!(io, port, |client| client.read(buffer.len() as u32)));
        let _ = KERNEL.port_deallocate(port);
        let data = data?;
        let text = data.as_slice();
        let line = &text[..text.iter().position(|&byte| byte == b'\n').unwrap_or(text.len())];
        buffer[..line.len()].copy_from_slice(line);
        Ok(line.len())
    })();
    match read {
        Ok(length) if length > 0 => length,
        _ => {
            buffer[..FALLBACK.len()].copy_from_slice(FALLBACK);
            FALLBACK.len()
        }
    }
}

/// `/dev/urandom`'s open file (0: not opened yet). Not a descriptor: it is
/// inherited by fork like any send right, and not kept by exec.
static RANDOM_PORT: AtomicU32 = AtomicU32::new(0);

fn random_port() -> Result<PortName, Errno> {
    let known = RANDOM_PORT.load(Ordering::Relaxed);
    if known != 0 {
        return Ok(known);
    }
    let root = ROOT_PORT.load(Ordering::Relaxed);
    if root == 0 {
        return Err(Errno(ENOENT));
    }
    let port = uninterrupted(|| call!(fs, root, |client| client.open(b"/dev/urandom", 0, 0)))?.file.into_name();
    match RANDOM_PORT.compare_exchange(0, port, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Ok(port),
        Err(other) => {
            let _ = KERNEL.port_deallocate(port);
            Ok(other)
        }
    }
}

/// # Safety
/// `buffer` writable for `length` bytes.
pub unsafe fn getrandom(buffer: *mut u8, length: usize, _flags: u32) -> Result<usize, Errno> {
    let port = random_port()?;
    let count = length.min(256);
    // /dev/urandom never blocks and never gives fewer bytes than asked.
    let data = uninterrupted(|| call!(io, port, |client| client.read(count as u32)))?;
    let got = data.len().min(count);
    // SAFETY: the caller's buffer holds `length` bytes.
    unsafe { core::ptr::copy_nonoverlapping(data.as_slice().as_ptr(), buffer, got) };
    Ok(got)
}

/// The number of processors: the kernel runs on one (docs/kernel.md).
pub fn processor_count() -> Result<usize, Errno> {
    Ok(1)
}

/// The kernel log (syslog(2)'s commands): read from the kernel with the
/// host port by a program the boot manifest grants it, else through the
/// console server (`tty.read_kernel_log`), which serves the superuser only,
/// as Linux with dmesg_restrict (EPERM for anyone else).
///
/// # Safety
/// `buffer` writable for `length` bytes.
pub unsafe fn kernel_log(command: i32, buffer: *mut u8, length: i32) -> Result<usize, Errno> {
    // syslog(2)'s commands.
    const CLOSE: i32 = 0;
    const OPEN: i32 = 1;
    const READ: i32 = 2;
    const READ_ALL: i32 = 3;
    const READ_CLEAR: i32 = 4;
    const CLEAR: i32 = 5;
    const SIZE_UNREAD: i32 = 9;
    const SIZE_BUFFER: i32 = 10;
    let host = HOST_PORT.load(Ordering::Relaxed);
    let buffer = || -> Result<&mut [u8], Errno> {
        if buffer.is_null() || length < 0 {
            return Err(Errno(EINVAL));
        }
        // SAFETY: the caller's buffer of `length` bytes.
        Ok(unsafe { core::slice::from_raw_parts_mut(buffer, length as usize) })
    };
    let unread = LOG_UNREAD.load(Ordering::Relaxed);
    if host == 0 {
        return console_log(command, buffer, unread);
    }
    match command {
        CLOSE | OPEN => Ok(0),
        SIZE_BUFFER => log_size(host, 0),
        SIZE_UNREAD => log_size(host, unread),
        READ_ALL => read_newest(host, buffer()?, 0).map(|(length, _)| length),
        READ_CLEAR => {
            let (length, next) = read_newest(host, buffer()?, 0)?;
            LOG_UNREAD.store(next, Ordering::Relaxed);
            Ok(length)
        }
        CLEAR => {
            let mut skipped = [0u8; libmach::abi::KERNEL_LOG_LINE_MAX];
            let mut next = unread;
            while let Ok(read) = libmach::kernel_log::read(host, &mut skipped, next) {
                if read.length == 0 {
                    break;
                }
                next = read.next;
            }
            LOG_UNREAD.store(next, Ordering::Relaxed);
            Ok(0)
        }
        // Lines not read yet, waiting for one if there is none.
        READ => {
            let buffer = buffer()?;
            if buffer.is_empty() {
                return Ok(0);
            }
            loop {
                match libmach::kernel_log::read(host, buffer, unread) {
                    Ok(read) if read.length > 0 => {
                        LOG_UNREAD.store(read.next, Ordering::Relaxed);
                        return Ok(read.length);
                    }
                    Ok(_) => interruptible(false, || sleep_for(10))?,
                    Err(KernReturn::NoSpace) => return Err(Errno(EINVAL)),
                    Err(_) => return Err(Errno(crate::errno_table::EIO)),
                }
            }
        }
        // Console levels (6, 7, 8): the serial line is the console
        // server's, not the kernel's, once it has started.
        _ => Err(Errno(EINVAL)),
    }
}

/// The privileged host port (`AT_MACH_HOST`), when the bootstrap task
/// granted it; 0 otherwise.
pub(crate) static HOST_PORT: AtomicU32 = AtomicU32::new(0);
/// The kernel log's first line `klogctl` has not read (`SYSLOG_ACTION_READ`).
static LOG_UNREAD: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// klogctl without the host port: the console server reads the log for
/// the superuser (it refuses others with EPERM). `/dev/console` is opened
/// for the call: its port serves `tty.defs` beside `io.defs`.
fn console_log<'a>(
    command: i32,
    buffer: impl FnOnce() -> Result<&'a mut [u8], Errno>,
    unread: u64,
) -> Result<usize, Errno> {
    const O_RDONLY_NOCTTY_CLOEXEC: i32 = 0o400 | 0o2000000;
    // SAFETY: a NUL-terminated path.
    let fd = unsafe {
        super::files::open_at(super::AT_FDCWD, c"/dev/console".as_ptr().cast::<u8>(), O_RDONLY_NOCTTY_CLOEXEC, 0)
    }
    .map_err(|error| if error.0 == crate::errno_table::EACCES { Errno(crate::errno_table::EPERM) } else { error })?
        as i32;
    let result =
        done(super::files::descriptor_port(fd)).and_then(|port| console_command(port, command, buffer, unread));
    let _ = super::files::close(fd);
    result
}

fn console_command<'a>(
    port: PortName,
    command: i32,
    buffer: impl FnOnce() -> Result<&'a mut [u8], Errno>,
    unread: u64,
) -> Result<usize, Errno> {
    const CLOSE: i32 = 0;
    const OPEN: i32 = 1;
    const READ: i32 = 2;
    const READ_ALL: i32 = 3;
    const READ_CLEAR: i32 = 4;
    const CLEAR: i32 = 5;
    const SIZE_UNREAD: i32 = 9;
    const SIZE_BUFFER: i32 = 10;
    // Every line from `from` on (the ring holds a bounded number), and the
    // sequence after the last.
    let lines_from = |from: u64| -> Result<(alloc::vec::Vec<u8>, u64), Errno> {
        let mut lines = alloc::vec::Vec::new();
        let mut sequence = from;
        loop {
            let reply = uninterrupted(|| call!(tty, port, |client| client.read_kernel_log(sequence)))?;
            if reply.lines.as_slice().is_empty() {
                return Ok((lines, sequence));
            }
            lines.extend_from_slice(reply.lines.as_slice());
            sequence = reply.next;
        }
    };
    let copy_newest = |lines: &[u8], buffer: &mut [u8]| {
        let newest = crate::mach::kernel_log::newest_lines(lines, buffer.len());
        buffer[..newest.len()].copy_from_slice(newest);
        newest.len()
    };
    match command {
        CLOSE | OPEN => {
            // Refused to others here too, as Linux does.
            lines_from(u64::MAX).map(|_| 0)
        }
        SIZE_BUFFER => lines_from(0).map(|(lines, _)| lines.len()),
        SIZE_UNREAD => lines_from(unread).map(|(lines, _)| lines.len()),
        READ_ALL => {
            let (lines, _) = lines_from(0)?;
            Ok(copy_newest(&lines, buffer()?))
        }
        READ_CLEAR => {
            let (lines, next) = lines_from(0)?;
            let length = copy_newest(&lines, buffer()?);
            LOG_UNREAD.store(next, Ordering::Relaxed);
            Ok(length)
        }
        CLEAR => {
            let (_, next) = lines_from(unread)?;
            LOG_UNREAD.store(next, Ordering::Relaxed);
            Ok(0)
        }
        // Lines not read yet (the oldest first), waiting for one if there is none.
        READ => {
            let buffer = buffer()?;
            if buffer.is_empty() {
                return Ok(0);
            }
            loop {
                let reply = uninterrupted(|| call!(tty, port, |client| client.read_kernel_log(unread)))?;
                let lines = reply.lines.as_slice();
                if !lines.is_empty() {
                    // Whole lines from the oldest, as many as fit.
                    let mut length = 0;
                    for line in lines.split_inclusive(|&byte| byte == b'\n') {
                        if length + line.len() > buffer.len() {
                            break;
                        }
                        buffer[length..length + line.len()].copy_from_slice(line);
                        length += line.len();
                    }
                    if length == 0 {
                        return Err(Errno(EINVAL));
                    }
                    let taken = lines[..length].iter().filter(|&&byte| byte == b'\n').count() as u64;
                    LOG_UNREAD.store(reply.first + taken, Ordering::Relaxed);
                    return Ok(length);
                }
                interruptible(false, || sleep_for(10))?;
            }
        }
        _ => Err(Errno(EINVAL)),
    }
}

fn log_size(host: PortName, from: u64) -> Result<usize, Errno> {
    libmach::kernel_log::size_from(host, from).map_err(|_| Errno(crate::errno_table::EIO))
}

/// The newest whole lines from `from` on that fit in `buffer` (older ones
/// are skipped a buffer of lines at a time, so a little less may come
/// than would fit); the length and the sequence after the last line.
fn read_newest(host: PortName, buffer: &mut [u8], from: u64) -> Result<(usize, u64), Errno> {
    let failed = |_| Errno(crate::errno_table::EIO);
    let mut sequence = from;
    let mut skipped = [0u8; libmach::abi::KERNEL_LOG_LINE_MAX];
    while log_size(host, sequence)? > buffer.len() {
        let read = libmach::kernel_log::read(host, &mut skipped, sequence).map_err(failed)?;
        if read.length == 0 {
            break;
        }
        sequence = read.next;
    }
    let mut filled = 0;
    while filled < buffer.len() {
        match libmach::kernel_log::read(host, &mut buffer[filled..], sequence) {
            Ok(read) if read.length > 0 => {
                filled += read.length;
                sequence = read.next;
            }
            // Nothing newer, or the next line does not fit what is left.
            Ok(_) | Err(KernReturn::NoSpace) => break,
            Err(error) => return Err(failed(error)),
        }
    }
    Ok((filled, sequence))
}

/// sched_yield: `thread_switch` with no wait.
pub fn yield_processor() {
    let _ = libmach::trap::thread_yield();
}

/// Where named semaphores live: the file server's /tmp (a tmpfs).
pub const SHARED_MEMORY_DIRECTORY: &[u8] = b"/tmp/";

/// Waits while `word` holds `expected`, at most `timeout` nanoseconds. The
/// kernel has no wait on a memory word, so this sleeps a little and lets
/// the caller look again: 1 ms for the first 20 waits, then 10 ms.
/// Ok when the word changed or the sleep ended, ETIMEDOUT past `timeout`,
/// EINTR when a handler without `SA_RESTART` ran (with it the wait goes
/// on, as Linux restarts a futex wait).
pub fn wait_for_change(
    word: &core::sync::atomic::AtomicU32,
    expected: u32,
    _shared: bool,
    timeout: Option<u64>,
    patience: u32,
) -> Result<usize, Errno> {
    if word.load(Ordering::Acquire) != expected {
        return Ok(0);
    }
    let step: u64 = if patience < 20 { 1 } else { 10 };
    let milliseconds = match timeout {
        Some(0) => return Err(Errno(crate::errno_table::ETIMEDOUT)),
        Some(nanoseconds) => step.min(nanoseconds.div_ceil(1_000_000)),
        None => step,
    };
    interruptible(true, || sleep_for(milliseconds)).map(|()| 0)
}

/// Waiters look again by themselves (see `wait_for_change`): nothing to wake.
pub fn wake_waiters(_word: &core::sync::atomic::AtomicU32, _shared: bool, _count: u32) {}
