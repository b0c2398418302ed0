//! Descriptors and names: `io.defs` on a descriptor's port, `fs.defs` on a
//! directory's (the working directory for a relative path and `AT_FDCWD`,
//! the root for an absolute path, the descriptor of an `*at` call).
//!
//! The descriptor table is [`crate::mach::descriptors`]; each entry holds
//! one user reference of its port's send right: `dup` adds one
//! (`port_mod_refs`), `close` releases one (`port_deallocate`), and the
//! server ends the open file when the last reference anywhere is gone.
//! Record locks: POSIX drops a process's locks on a file when it closes any
//! of its descriptors, which the server cannot see, so once the process
//! took a lock every close sends `io.release_locks` first.

use super::{
    borrowed, c_bytes, call, done, interruptible, mapped, process_port, signals, uninterrupted, Failure,
    MainThreadCell, KERNEL, ROOT_PORT, WORKING_DIRECTORY_PORT,
};
use crate::errno_table::{EBADF, EINVAL, EIO, EMFILE, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTTY, ERANGE};
use crate::mach::descriptors::{Descriptor, DescriptorTable, DESCRIPTOR_CEILING};
use crate::mach::readiness;
use crate::platform::Errno;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use libmach::abi::PortName;
use libmach::{PortKernel, ReceiveRight};
use personality_interfaces::{fs, io};

/// The descriptor table (the main thread's: see [`MainThreadCell`]).
pub(crate) static DESCRIPTORS: MainThreadCell<DescriptorTable> = MainThreadCell::new(DescriptorTable::new());

/// The soft `RLIMIT_NOFILE`, read from the process server on first need
/// (0: not yet).
static OPEN_LIMIT: AtomicUsize = AtomicUsize::new(0);
/// The process took a record lock: every close releases its locks first.
static LOCKS_TAKEN: AtomicBool = AtomicBool::new(false);
/// The file creation mask.
pub(crate) static UMASK: AtomicU32 = AtomicU32::new(0o022);

/// Inline transfers up to this size; larger ones go as out-of-line pages.
const INLINE_MAX: usize = 8192;
/// The most one read or write moves (io.defs's out-of-line bound).
const TRANSFER_MAX: usize = 1 << 30;
/// Paths are at most 4095 bytes (fs.defs: `bytes<4096>`).
const PATH_MAX: usize = 4096;

const O_CREAT: i32 = 0o100;
const O_NONBLOCK: i32 = 0o4000;
const O_DIRECTORY: i32 = 0o200000;
const O_CLOEXEC: i32 = 0o2000000;
const O_PATH: i32 = 0o10000000;
const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
const AT_REMOVEDIR: i32 = 0x200;
const AT_SYMLINK_FOLLOW: i32 = 0x400;
const AT_EMPTY_PATH: i32 = 0x1000;
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const X_OK: u32 = 1;
const SIGPIPE: i32 = 13;

/// The descriptor's port, or EBADF, for a request that may depend on or
/// move the open file's offset: a file read from a mapping is settled
/// first (its offset given back to the server: [`mapped`]).
pub(crate) fn descriptor_port(fd: i32) -> Result<PortName, Failure> {
    let port = descriptor_port_unsettled(fd)?;
    mapped::settle(port)?;
    Ok(port)
}

/// The descriptor's port, or EBADF, for what neither reads nor moves the
/// open file's offset (a positioned read, fstat, dup): a mapped file stays
/// mapped.
fn descriptor_port_unsettled(fd: i32) -> Result<PortName, Failure> {
    DESCRIPTORS.with(|table| table.port(fd)).map_err(Failure::Error)
}

/// The soft `RLIMIT_NOFILE` (asked once; without a process server the
/// ceiling).
pub(crate) fn open_limit() -> usize {
    let known = OPEN_LIMIT.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    const RLIMIT_NOFILE: u32 = 7;
    let limit = match process_port() {
        Ok(port) => call!(proc, port, |client| client.limit(RLIMIT_NOFILE, false, 0, 0))
            .map(|reply| reply.old_current.min(DESCRIPTOR_CEILING as u64) as usize)
            .unwrap_or(1024),
        Err(_) => DESCRIPTOR_CEILING,
    };
    OPEN_LIMIT.store(limit.max(1), Ordering::Relaxed);
    limit.max(1)
}

/// setrlimit(RLIMIT_NOFILE) changed the soft limit.
pub(crate) fn set_open_limit(limit: u64) {
    OPEN_LIMIT.store(limit.clamp(1, DESCRIPTOR_CEILING as u64) as usize, Ordering::Relaxed);
}

/// Puts `port` (one reference, now the table's) at the lowest free number
/// at or above `from`; on failure the reference is released.
pub(crate) fn install(port: PortName, from: i32, close_on_exec: bool) -> Result<i32, Failure> {
    let limit = open_limit();
    let placed = DESCRIPTORS.with(|table| {
        let fd = table.lowest_free(from, limit)?;
        table.insert(fd, Descriptor { port, close_on_exec });
        Ok(fd)
    });
    if placed.is_err() {
        mapped::closed(port);
        let _ = KERNEL.port_deallocate(port);
    }
    placed.map_err(Failure::Error)
}

/// Releases a reference the table gave up, releasing the process's record
/// locks on the file first if it ever took any.
fn release(descriptor: Descriptor) {
    if LOCKS_TAKEN.load(Ordering::Relaxed) {
        let _ = uninterrupted(|| call!(io, descriptor.port, |client| client.release_locks()));
    }
    if DESCRIPTORS.with(|table| table.references_to(descriptor.port)) == 0 {
        // The process's last reference: the open file ends with it, so a
        // mapping of it goes without giving the offset back.
        mapped::closed(descriptor.port);
    }
    let _ = KERNEL.port_deallocate(descriptor.port);
}

fn path_of(path: *const u8) -> Result<&'static [u8], Failure> {
    if path.is_null() {
        return Err(Failure::Error(crate::errno_table::EFAULT));
    }
    // SAFETY: the callers' contracts: a NUL-terminated path that lives
    // through the call (the 'static is never kept past it).
    let bytes = unsafe { c_bytes(path) };
    if bytes.len() >= PATH_MAX {
        return Err(Failure::Error(ENAMETOOLONG));
    }
    Ok(bytes)
}

/// The directory a name is looked up from: the root for an absolute path,
/// the working directory for `AT_FDCWD`, else the descriptor's.
fn directory_for(dir: i32, path: &[u8]) -> Result<PortName, Failure> {
    let port = if path.first() == Some(&b'/') {
        ROOT_PORT.load(Ordering::Relaxed)
    } else if dir == super::AT_FDCWD {
        WORKING_DIRECTORY_PORT.load(Ordering::Relaxed)
    } else {
        return descriptor_port(dir);
    };
    if port == 0 {
        // No file system: a task started without one.
        return Err(Failure::Error(ENOENT));
    }
    Ok(port)
}

/// # Safety
/// `buffer` writable for `count` bytes.
pub unsafe fn read(fd: i32, buffer: *mut u8, count: usize) -> Result<usize, Errno> {
    let port = done(descriptor_port_unsettled(fd))?;
    if count == 0 {
        return Ok(0);
    }
    // SAFETY: the caller's buffer holds `count` bytes.
    if let Some(result) = unsafe { mapped::read(port, buffer, count) } {
        return done(result);
    }
    interruptible(true, || {
        // SAFETY: the caller's buffer holds `count` bytes.
        unsafe { read_into(port, None, buffer, count) }
    })
}

/// One read (at the offset, or at `at`), copied into `buffer`.
///
/// # Safety
/// `buffer` writable for `count` bytes.
pub(crate) unsafe fn read_into(
    port: PortName,
    at: Option<u64>,
    buffer: *mut u8,
    count: usize,
) -> Result<usize, Failure> {
    let count = count.min(TRANSFER_MAX);
    let copy = |bytes: &[u8]| {
        let length = bytes.len().min(count);
        // SAFETY: the caller's buffer holds `count` bytes; the source is ours.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer, length) };
        length
    };
    match (count <= INLINE_MAX, at) {
        (true, _) => read_inline(port, at, count as u32, copy),
        (false, None) => call!(io, port, |client| client.read_large(count as u32)).map(|data| copy(data.bytes())),
        (false, Some(offset)) => {
            call!(io, port, |client| client.read_at_large(offset, count as u32)).map(|data| copy(data.bytes()))
        }
    }
}

/// The largest inline request or reply of `read`, `read_at`, `write` and
/// `write_at`.
const INLINE_CALL_BUFFER: usize =
    max(max(io::buffer_size::READ, io::buffer_size::READ_AT), max(io::buffer_size::WRITE, io::buffer_size::WRITE_AT));

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

type InlineCallBuffer = libmach::trap::MessageBuffer<INLINE_CALL_BUFFER>;

/// Message buffers of the inline read and write calls, kept for the next
/// call: the generated clients make a new one each call and zero it (8 KiB,
/// about 1,000 instructions), then copy a read's data into a zeroed
/// `BoundedBytes` before it reaches the caller's buffer; these calls
/// decode the reply in place instead. A handler interrupting a call takes
/// another buffer (the cell's critical section keeps the list whole).
static INLINE_CALL_BUFFERS: MainThreadCell<Vec<alloc::boxed::Box<InlineCallBuffer>>> = MainThreadCell::new(Vec::new());

/// One inline `io` call on `port`, the same message as the generated
/// client's routine `id` sends: `encode` writes the request's fields,
/// `decode` reads the reply's (after the return code) in place.
fn inline_call<T>(
    port: PortName,
    id: i32,
    encode: impl FnOnce(&mut libmach::message::MessageWriter<'_>) -> Result<(), libmach::WriteError>,
    decode: impl FnOnce(&mut libmach::message::InlineReader<'_>) -> Result<T, libmach::DecodeError>,
) -> Result<T, Failure> {
    use libmach::message::{expect_descriptor_count, release_received, MessageWriter};
    use libmach::{rpc, RpcError};
    let mut reply_port = super::take_reply_port()?;
    let mut buffer =
        INLINE_CALL_BUFFERS.with(|kept| kept.pop()).unwrap_or_else(|| alloc::boxed::Box::new(InlineCallBuffer::new()));
    let result = (|| {
        let length = {
            let mut writer = MessageWriter::new(&mut buffer.0[..], rpc::request_header(port, reply_port.name(), id));
            encode(&mut writer)
                .and_then(|()| writer.finish())
                .map_err(|error| super::rpc_failure(RpcError::Write(error)))?
        };
        rpc::call(&KERNEL, &mut reply_port, &mut buffer.0[..], length, None).map_err(super::rpc_failure)?;
        let (view, mut reader) = match rpc::read_reply(&KERNEL, &buffer.0[..], id) {
            Ok(reply) => reply,
            Err(Ok(code)) => return Err(super::call_failure(rpc::code_error(code, io::Error::from_code))),
            Err(Err(error)) => return Err(super::rpc_failure(error)),
        };
        let decoded = expect_descriptor_count(&view, 0).and_then(|()| decode(&mut reader));
        match decoded.and_then(|value| reader.finish().map(|()| value)) {
            Ok(value) => Ok(value),
            Err(error) => {
                release_received(&KERNEL, &view);
                Err(super::rpc_failure(RpcError::Reply(error)))
            }
        }
    })();
    INLINE_CALL_BUFFERS.with(|kept| {
        if kept.len() < 2 {
            kept.push(buffer);
        }
    });
    super::give_reply_port(reply_port);
    result
}

/// An inline read (`io.read`, or `io.read_at` with `at`) of at most
/// `INLINE_MAX` bytes, the data handed to `copy`.
fn read_inline(
    port: PortName,
    at: Option<u64>,
    count: u32,
    copy: impl FnOnce(&[u8]) -> usize,
) -> Result<usize, Failure> {
    let id = if at.is_some() { io::id::READ_AT } else { io::id::READ };
    inline_call(
        port,
        id,
        |writer| {
            if let Some(offset) = at {
                writer.u64(offset)?;
            }
            writer.u32(count)
        },
        |reader| reader.bytes(INLINE_MAX).map(copy),
    )
}

/// An inline write (`io.write`, or `io.write_at` with `at`) of at most
/// `INLINE_MAX` bytes: the count written.
fn write_inline(port: PortName, at: Option<u64>, data: &[u8]) -> Result<u32, Failure> {
    let id = if at.is_some() { io::id::WRITE_AT } else { io::id::WRITE };
    inline_call(
        port,
        id,
        |writer| {
            if let Some(offset) = at {
                writer.u64(offset)?;
            }
            writer.bytes(data, INLINE_MAX)
        },
        |reader| reader.u32(),
    )
}

/// # Safety
/// `buffer` readable for `count` bytes.
pub unsafe fn write(fd: i32, buffer: *const u8, count: usize) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    let count = count.min(TRANSFER_MAX);
    // SAFETY: the caller's buffer holds `count` bytes.
    let data = unsafe { core::slice::from_raw_parts(buffer, count) };
    let result = interruptible(true, || {
        if count <= INLINE_MAX {
            write_inline(port, None, data)
        } else {
            call!(io, port, |client| client.write_large(data))
        }
        .map(|written| written as usize)
    });
    broken_pipe(result)
}

/// A write to a pipe nobody reads raises SIGPIPE in the writing thread
/// before write returns EPIPE, as on Linux (the file server leaves it to us).
fn broken_pipe(result: Result<usize, Errno>) -> Result<usize, Errno> {
    if result == Err(Errno(crate::errno_table::EPIPE)) {
        signals::raise_here(SIGPIPE);
    }
    result
}

/// # Safety
/// `buffer` writable for `count` bytes.
pub unsafe fn read_at(fd: i32, buffer: *mut u8, count: usize, offset: i64) -> Result<usize, Errno> {
    let port = done(descriptor_port_unsettled(fd))?;
    let offset = u64::try_from(offset).map_err(|_| Errno(EINVAL))?;
    if count == 0 {
        return Ok(0);
    }
    // SAFETY: the caller's buffer.
    uninterrupted(|| unsafe { read_into(port, Some(offset), buffer, count) })
}

/// # Safety
/// `buffer` readable for `count` bytes.
pub unsafe fn write_at(fd: i32, buffer: *const u8, count: usize, offset: i64) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    let offset = u64::try_from(offset).map_err(|_| Errno(EINVAL))?;
    let count = count.min(TRANSFER_MAX);
    // SAFETY: the caller's buffer holds `count` bytes.
    let data = unsafe { core::slice::from_raw_parts(buffer, count) };
    broken_pipe(uninterrupted(|| {
        if count <= INLINE_MAX {
            write_inline(port, Some(offset), data)
        } else {
            call!(io, port, |client| client.write_at_large(offset, data))
        }
        .map(|written| written as usize)
    }))
}

/// Opens `path` from directory port `directory`: a send right to the new
/// open object. A FIFO's open may wait for the other end: interruptible.
fn open_port(directory: PortName, path: &[u8], flags: i32, mode: u32) -> Result<PortName, Errno> {
    let open_flags = (flags & !O_CLOEXEC) as u32;
    let mode = if flags & O_CREAT != 0 { mode & !UMASK.load(Ordering::Relaxed) & 0o7777 } else { 0 };
    let (port, kind) = interruptible(true, || {
        call!(fs, directory, |client| client.open(path, open_flags, mode))
            .map(|reply| (reply.file.into_name(), reply.kind))
    })?;
    mapped::opened(port, kind, flags);
    Ok(port)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn open_at(dir: i32, path: *const u8, flags: i32, mode: u32) -> Result<usize, Errno> {
    let path = done(path_of(path))?;
    let directory = done(directory_for(dir, path))?;
    // A descriptor is taken only once the file is open: check there is room first.
    done(DESCRIPTORS.with(|table| table.lowest_free(0, open_limit())).map_err(Failure::Error))?;
    let port = open_port(directory, path, flags, mode)?;
    done(install(port, 0, flags & O_CLOEXEC != 0)).map(|fd| fd as usize)
}

pub fn close(fd: i32) -> Result<usize, Errno> {
    let descriptor = DESCRIPTORS.with(|table| table.remove(fd)).map_err(Errno)?;
    release(descriptor);
    Ok(0)
}

pub fn seek(fd: i32, offset: i64, whence: i32) -> Result<usize, Errno> {
    let port = done(descriptor_port_unsettled(fd))?;
    if !(0..=2).contains(&whence) {
        return Err(Errno(EINVAL));
    }
    if let Some(result) = mapped::seek(port, offset, whence) {
        return done(result).map(|position| position as usize);
    }
    done(mapped::settle(port))?;
    uninterrupted(|| call!(io, port, |client| client.seek(offset, whence as u32))).map(|position| position as usize)
}

/// Writes a Linux x86_64 `struct stat` (144 bytes).
///
/// # Safety
/// `out` writable for 144 bytes.
unsafe fn write_stat(stat: &io::Stat, out: *mut u8) {
    let words: [u64; 18] = [
        stat.device,
        stat.node,
        stat.links,
        u64::from(stat.mode) | u64::from(stat.uid) << 32,
        u64::from(stat.gid),
        stat.special_device,
        stat.file_size as u64,
        stat.block_size as u64,
        stat.blocks as u64,
        stat.access_seconds as u64,
        stat.access_nanoseconds as u64,
        stat.modification_seconds as u64,
        stat.modification_nanoseconds as u64,
        stat.change_seconds as u64,
        stat.change_nanoseconds as u64,
        0,
        0,
        0,
    ];
    // SAFETY: the caller's 144 writable bytes; unaligned writes are fine.
    unsafe { core::ptr::write_unaligned(out as *mut [u64; 18], words) };
}

fn fs_stat(stat: fs::Stat) -> io::Stat {
    io::Stat {
        device: stat.device,
        node: stat.node,
        links: stat.links,
        mode: stat.mode,
        uid: stat.uid,
        gid: stat.gid,
        special_device: stat.special_device,
        file_size: stat.file_size,
        block_size: stat.block_size,
        blocks: stat.blocks,
        access_seconds: stat.access_seconds,
        access_nanoseconds: stat.access_nanoseconds,
        modification_seconds: stat.modification_seconds,
        modification_nanoseconds: stat.modification_nanoseconds,
        change_seconds: stat.change_seconds,
        change_nanoseconds: stat.change_nanoseconds,
    }
}

fn port_stat(port: PortName) -> Result<io::Stat, Errno> {
    uninterrupted(|| call!(io, port, |client| client.stat()))
}

/// # Safety
/// `path` NUL-terminated, `stat` writable for one `struct stat`.
pub unsafe fn stat_at(dir: i32, path: *const u8, stat: *mut u8, flags: i32) -> Result<usize, Errno> {
    let path = done(path_of(path))?;
    let status = if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let port = if dir == super::AT_FDCWD {
            WORKING_DIRECTORY_PORT.load(Ordering::Relaxed)
        } else {
            done(descriptor_port(dir))?
        };
        port_stat(port)?
    } else {
        let directory = done(directory_for(dir, path))?;
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        fs_stat(uninterrupted(|| call!(fs, directory, |client| client.stat(path, follow)))?)
    };
    // SAFETY: the caller's record.
    unsafe { write_stat(&status, stat) };
    Ok(0)
}

/// # Safety
/// `stat` writable for one `struct stat`.
pub unsafe fn fstat(fd: i32, stat: *mut u8) -> Result<usize, Errno> {
    let status = port_stat(done(descriptor_port_unsettled(fd))?)?;
    // SAFETY: the caller's record.
    unsafe { write_stat(&status, stat) };
    Ok(0)
}

/// # Safety
/// `fds` writable for two ints.
pub unsafe fn pipe2(fds: *mut i32, flags: i32) -> Result<usize, Errno> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno(EINVAL));
    }
    let root = ROOT_PORT.load(Ordering::Relaxed);
    if root == 0 {
        return Err(Errno(ENOENT));
    }
    let limit = open_limit();
    if DESCRIPTORS
        .with(|table| table.lowest_free(0, limit).and_then(|first| table.lowest_free(first + 1, limit)))
        .is_err()
    {
        return Err(Errno(EMFILE));
    }
    let reply = uninterrupted(|| call!(fs, root, |client| client.pipe((flags & O_NONBLOCK) as u32)))?;
    let (read_end, write_end) = (reply.read_end.into_name(), reply.write_end.into_name());
    let close_on_exec = flags & O_CLOEXEC != 0;
    let reader = match install(read_end, 0, close_on_exec) {
        Ok(fd) => fd,
        Err(failure) => {
            let _ = KERNEL.port_deallocate(write_end);
            return Err(failure.into());
        }
    };
    let writer = match install(write_end, 0, close_on_exec) {
        Ok(fd) => fd,
        Err(failure) => {
            let _ = close(reader);
            return Err(failure.into());
        }
    };
    // SAFETY: the caller's two ints.
    unsafe {
        *fds = reader;
        *fds.add(1) = writer;
    }
    Ok(0)
}

/// A second reference to `fd`'s port, at the lowest number from `from`.
fn duplicate(fd: i32, from: i32, close_on_exec: bool) -> Result<usize, Errno> {
    let port = done(descriptor_port_unsettled(fd))?;
    let limit = open_limit();
    let target = DESCRIPTORS.with(|table| table.lowest_free(from, limit)).map_err(Errno)?;
    KERNEL.port_mod_refs(port, libmach::abi::PortRight::Send, 1).map_err(|_| Errno(EMFILE))?;
    done(install(port, target, close_on_exec)).map(|fd| fd as usize)
}

pub fn dup(fd: i32) -> Result<usize, Errno> {
    duplicate(fd, 0, false)
}

pub fn dup3(old: i32, new: i32, flags: i32) -> Result<usize, Errno> {
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno(EINVAL));
    }
    let port = done(descriptor_port_unsettled(old))?;
    if old == new {
        // dup2 of a descriptor onto itself does nothing; dup3 refuses.
        return if flags == 0 { Ok(new as usize) } else { Err(Errno(EINVAL)) };
    }
    if new < 0 || new as usize >= open_limit() {
        return Err(Errno(EBADF));
    }
    KERNEL.port_mod_refs(port, libmach::abi::PortRight::Send, 1).map_err(|_| Errno(EMFILE))?;
    let previous =
        DESCRIPTORS.with(|table| table.insert(new, Descriptor { port, close_on_exec: flags & O_CLOEXEC != 0 }));
    if let Some(previous) = previous {
        release(previous);
    }
    Ok(new as usize)
}

/// `struct flock` (Linux x86_64): type and whence (shorts), start, length,
/// pid.
#[repr(C)]
struct FileLock {
    kind: i16,
    whence: i16,
    start: i64,
    length: i64,
    pid: i32,
}

/// # Safety
/// `argument` must suit `command` (a `struct flock` pointer for the lock commands).
pub unsafe fn fcntl(fd: i32, command: i32, argument: usize) -> Result<usize, Errno> {
    const F_DUPFD: i32 = 0;
    const F_GETFD: i32 = 1;
    const F_SETFD: i32 = 2;
    const F_GETFL: i32 = 3;
    const F_SETFL: i32 = 4;
    const F_GETLK: i32 = 5;
    const F_SETLK: i32 = 6;
    const F_SETLKW: i32 = 7;
    const F_DUPFD_CLOEXEC: i32 = 1030;
    const F_UNLCK: u32 = 2;
    let port = done(descriptor_port(fd))?;
    match command {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let from = i32::try_from(argument).map_err(|_| Errno(EINVAL))?;
            duplicate(fd, from, command == F_DUPFD_CLOEXEC)
        }
        F_GETFD => DESCRIPTORS
            .with(|table| table.get(fd))
            .map(|descriptor| usize::from(descriptor.close_on_exec))
            .ok_or(Errno(EBADF)),
        F_SETFD => DESCRIPTORS.with(|table| table.set_close_on_exec(fd, argument & 1 != 0)).map(|()| 0).map_err(Errno),
        F_GETFL => uninterrupted(|| call!(io, port, |client| client.get_flags())).map(|flags| flags as usize),
        F_SETFL => uninterrupted(|| call!(io, port, |client| client.set_flags(argument as u32))).map(|()| 0),
        F_GETLK | F_SETLK | F_SETLKW => {
            let record = argument as *mut FileLock;
            if record.is_null() {
                return Err(Errno(crate::errno_table::EFAULT));
            }
            // SAFETY: the caller passes a `struct flock`.
            let (kind, whence, start, length) =
                unsafe { ((*record).kind, (*record).whence, (*record).start, (*record).length) };
            if !(0..=2).contains(&kind) || !(0..=2).contains(&whence) {
                return Err(Errno(EINVAL));
            }
            let request = io::Lock { kind: kind as u32, whence: whence as u32, start, length };
            match command {
                F_GETLK => {
                    let report = uninterrupted(|| call!(io, port, |client| client.test_lock(&request)))?;
                    // SAFETY: the caller's record.
                    unsafe {
                        (*record).kind = report.kind as i16;
                        if report.kind != F_UNLCK {
                            (*record).whence = 0;
                            (*record).start = report.start;
                            (*record).length = report.length;
                            (*record).pid = report.pid as i32;
                        }
                    }
                    Ok(0)
                }
                _ => {
                    if request.kind != F_UNLCK {
                        LOCKS_TAKEN.store(true, Ordering::Relaxed);
                    }
                    let wait = command == F_SETLKW;
                    if wait {
                        interruptible(true, || call!(io, port, |client| client.set_lock(&request, true)))
                    } else {
                        uninterrupted(|| call!(io, port, |client| client.set_lock(&request, false)))
                    }
                    .map(|()| 0)
                }
            }
        }
        _ => Err(Errno(EINVAL)),
    }
}

/// flock(2): shared, exclusive, unlock, with LOCK_NB.
pub fn flock(fd: i32, operation: i32) -> Result<usize, Errno> {
    const LOCK_NB: i32 = 4;
    let port = done(descriptor_port(fd))?;
    if operation & LOCK_NB != 0 {
        uninterrupted(|| call!(io, port, |client| client.flock(operation as u32))).map(|()| 0)
    } else {
        interruptible(true, || call!(io, port, |client| client.flock(operation as u32))).map(|()| 0)
    }
}

/// The Linux kernel's `termios` (36 bytes: four flag words, the line
/// discipline, 19 control characters): what TCGETS and TCSETS carry.
const KERNEL_TERMIOS: usize = 36;
const CBAUD: u32 = 0o010017;

/// # Safety
/// `argument` must suit `request`.
pub unsafe fn ioctl(fd: i32, request: u64, argument: usize) -> Result<usize, Errno> {
    const TCGETS: u64 = 0x5401;
    const TCSETS: u64 = 0x5402;
    const TCSETSF: u64 = 0x5404;
    const TCSBRK: u64 = 0x5409;
    const TCFLSH: u64 = 0x540B;
    const TIOCSCTTY: u64 = 0x540E;
    const TIOCGPGRP: u64 = 0x540F;
    const TIOCSPGRP: u64 = 0x5410;
    const TIOCGWINSZ: u64 = 0x5413;
    const TIOCSWINSZ: u64 = 0x5414;
    const FIONREAD: u64 = 0x541B;
    const FIONBIO: u64 = 0x5421;
    const FIONCLEX: u64 = 0x5450;
    const FIOCLEX: u64 = 0x5451;
    let port = done(descriptor_port(fd))?;
    let pointer = argument as *mut u8;
    let needs_pointer =
        matches!(request, TCGETS..=TCSETSF | TIOCGPGRP | TIOCSPGRP | TIOCGWINSZ | TIOCSWINSZ | FIONREAD | FIONBIO);
    if needs_pointer && pointer.is_null() {
        return Err(Errno(crate::errno_table::EFAULT));
    }
    match request {
        TCGETS => {
            let attributes = uninterrupted(|| call!(io, port, |client| client.get_terminal_attributes()))?;
            let mut bytes = [0u8; KERNEL_TERMIOS];
            for (index, flags) in
                [attributes.input_flags, attributes.output_flags, attributes.control_flags, attributes.local_flags]
                    .into_iter()
                    .enumerate()
            {
                bytes[index * 4..index * 4 + 4].copy_from_slice(&flags.to_le_bytes());
            }
            bytes[16] = attributes.line;
            bytes[17..].copy_from_slice(&attributes.control_characters[..19]);
            // SAFETY: TCGETS's argument is a kernel termios.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), pointer, KERNEL_TERMIOS) };
            Ok(0)
        }
        TCSETS..=TCSETSF => {
            let mut bytes = [0u8; KERNEL_TERMIOS];
            // SAFETY: TCSETS's argument is a kernel termios.
            unsafe { core::ptr::copy_nonoverlapping(pointer, bytes.as_mut_ptr(), KERNEL_TERMIOS) };
            let word =
                |index: usize| u32::from_le_bytes([bytes[index], bytes[index + 1], bytes[index + 2], bytes[index + 3]]);
            let mut control_characters = [0u8; 32];
            control_characters[..19].copy_from_slice(&bytes[17..]);
            let attributes = io::Termios {
                input_flags: word(0),
                output_flags: word(4),
                control_flags: word(8),
                local_flags: word(12),
                line: bytes[16],
                control_characters,
                input_speed: word(8) & CBAUD,
                output_speed: word(8) & CBAUD,
            };
            let when = (request - TCSETS) as u32;
            // TCSETSW and TCSETSF wait for output to drain: interruptible.
            interruptible(true, || call!(io, port, |client| client.set_terminal_attributes(when, &attributes)))
                .map(|()| 0)
        }
        TCSBRK if argument != 0 => {
            interruptible(true, || call!(io, port, |client| client.terminal_drain())).map(|()| 0)
        }
        TCFLSH => uninterrupted(|| call!(io, port, |client| client.terminal_flush(argument as u32))).map(|()| 0),
        TIOCSCTTY => {
            uninterrupted(|| call!(io, port, |client| client.set_controlling_terminal(argument as u32))).map(|()| 0)
        }
        TIOCGPGRP => {
            let group = uninterrupted(|| call!(io, port, |client| client.get_foreground_group()))?;
            // SAFETY: TIOCGPGRP's argument is a pid_t.
            unsafe { *(pointer as *mut i32) = group as i32 };
            Ok(0)
        }
        TIOCSPGRP => {
            // SAFETY: TIOCSPGRP's argument is a pid_t.
            let group = unsafe { *(pointer as *const i32) };
            if group < 0 {
                return Err(Errno(EINVAL));
            }
            uninterrupted(|| call!(io, port, |client| client.set_foreground_group(group as u32))).map(|()| 0)
        }
        TIOCGWINSZ => {
            let window = uninterrupted(|| call!(io, port, |client| client.get_window_size()))?;
            let words = [window.rows, window.columns, window.x_pixels, window.y_pixels];
            // SAFETY: TIOCGWINSZ's argument is a struct winsize.
            unsafe { core::ptr::write_unaligned(pointer as *mut [u16; 4], words) };
            Ok(0)
        }
        TIOCSWINSZ => {
            // SAFETY: TIOCSWINSZ's argument is a struct winsize.
            let [rows, columns, x_pixels, y_pixels] = unsafe { core::ptr::read_unaligned(pointer as *const [u16; 4]) };
            let window = io::WindowSize { rows, columns, x_pixels, y_pixels };
            uninterrupted(|| call!(io, port, |client| client.set_window_size(&window))).map(|()| 0)
        }
        FIONREAD => {
            let count = uninterrupted(|| call!(io, port, |client| client.bytes_readable()))?;
            // SAFETY: FIONREAD's argument is an int.
            unsafe { *(pointer as *mut i32) = count.min(i32::MAX as u32) as i32 };
            Ok(0)
        }
        FIONBIO => {
            // SAFETY: FIONBIO's argument is an int.
            let on = unsafe { *(pointer as *const i32) } != 0;
            uninterrupted(|| {
                let flags = call!(io, port, |client| client.get_flags())?;
                let flags = if on { flags | O_NONBLOCK as u32 } else { flags & !(O_NONBLOCK as u32) };
                call!(io, port, |client| client.set_flags(flags))
            })
            .map(|()| 0)
        }
        FIOCLEX | FIONCLEX => {
            DESCRIPTORS.with(|table| table.set_close_on_exec(fd, request == FIOCLEX)).map(|()| 0).map_err(Errno)
        }
        _ => Err(Errno(ENOTTY)),
    }
}

/// A `pollfd` record.
#[repr(C)]
struct PollRecord {
    fd: i32,
    events: i16,
    revents: i16,
}

/// Distinguishes one poll's waiting requests from another's at a server.
static POLL_SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// One descriptor being polled: its port (None: not open), the events
/// asked and the answer.
struct Polled {
    port: Option<PortName>,
    events: u16,
    revents: u16,
}

/// Asks each open descriptor's server what is ready now; returns how many
/// have something to report.
fn poll_now(entries: &mut [Polled]) -> usize {
    let mut ready = 0;
    for entry in entries.iter_mut() {
        entry.revents = match entry.port {
            None => readiness::POLLNVAL,
            Some(port) => {
                let wanted = readiness::requested(entry.events);
                match uninterrupted(|| call!(io, port, |client| client.poll(wanted, false, 0))) {
                    Ok(answer) => readiness::returned(entry.events, answer),
                    // A server that is gone: the descriptor names nothing any more.
                    Err(_) => readiness::POLLNVAL,
                }
            }
        };
        if entry.revents != 0 {
            ready += 1;
        }
    }
    ready
}

/// Waits until one of the descriptors may be ready or `timeout` (ms; None:
/// no end) passes: `io.poll` with `wait` sent to every server with one
/// reply port, the first answer taken, the others cancelled and the port
/// destroyed. `Interrupted` if a handler ran meanwhile.
fn wait_for_any(entries: &[Polled], timeout: Option<u32>) -> Result<(), Failure> {
    let identifier =
        POLL_SEQUENCE.fetch_add(1, Ordering::Relaxed) | (u64::from(super::PID.load(Ordering::Relaxed) as u32) << 40);
    let reply_port = ReceiveRight::allocate(&KERNEL).map_err(|_| Failure::Error(crate::errno_table::ENOMEM))?;
    let mut reply_port = Some(reply_port);
    let mut sent: Vec<PortName> = Vec::new();
    for entry in entries {
        let Some(port) = entry.port else { continue };
        let wanted = readiness::requested(entry.events);
        let server = libmach::SendRight::from_name(&KERNEL, port);
        let Some(reply) = reply_port.take() else { break };
        let mut client = io::Client::with_reply_port(&KERNEL, server, reply);
        let outcome = client.send_poll(wanted, true, identifier);
        let (server, reply) = client.into_parts();
        let _ = server.into_name();
        reply_port = Some(reply);
        if outcome.is_ok() {
            sent.push(port);
        }
    }
    let Some(reply) = reply_port.take() else { return Err(Failure::Error(EIO)) };
    let waited = if sent.is_empty() {
        drop(reply);
        Ok(())
    } else {
        let server = libmach::SendRight::from_name(&KERNEL, sent[0]);
        let mut client = io::Client::with_reply_port(&KERNEL, server, reply);
        let answer = client.receive_poll(timeout);
        let (server, reply) = client.into_parts();
        let _ = server.into_name();
        reply_port = Some(reply);
        match answer {
            Err(libmach::CallError::Rpc(libmach::RpcError::Receive(
                libmach::abi::MachMsgReturn::ReceiveInterrupted,
            ))) => Err(Failure::Interrupted),
            _ => Ok(()),
        }
    };
    for port in sent {
        let _ = super::send!(io, port, |client| client.poll_cancel(identifier));
    }
    // The answers still to come (each cancelled poll answers 0) die with the port.
    drop(reply_port);
    waited
}

/// poll over `entries`, waiting at most `timeout` ms (negative: no end).
fn poll_entries(entries: &mut [Polled], timeout: i32) -> Result<usize, Errno> {
    let deadline = (timeout > 0).then(|| super::time::monotonic_milliseconds() + timeout as u64);
    loop {
        let ready = poll_now(entries);
        if ready > 0 || timeout == 0 {
            return Ok(ready);
        }
        let remaining = match deadline {
            None => None,
            Some(deadline) => {
                let now = super::time::monotonic_milliseconds();
                if now >= deadline {
                    return Ok(0);
                }
                Some((deadline - now).min(u64::from(u32::MAX)) as u32)
            }
        };
        match wait_for_any(entries, remaining) {
            Err(Failure::Interrupted) => return Err(Errno(crate::errno_table::EINTR)),
            Err(Failure::Error(error)) => return Err(Errno(error)),
            Ok(()) => {}
        }
    }
}

/// # Safety
/// `fds` valid for `count` pollfd records.
pub unsafe fn poll(fds: *mut u8, count: u64, timeout_ms: i32) -> Result<usize, Errno> {
    let count = usize::try_from(count).map_err(|_| Errno(EINVAL))?;
    if count > DESCRIPTOR_CEILING {
        return Err(Errno(EINVAL));
    }
    let records = fds as *mut PollRecord;
    let mut entries: Vec<Polled> = Vec::with_capacity(count);
    for index in 0..count {
        // SAFETY: the caller's `count` records.
        let record = unsafe { &*records.add(index) };
        let port = if record.fd < 0 { None } else { descriptor_port(record.fd).ok() };
        entries.push(Polled { port, events: record.events as u16, revents: 0 });
    }
    // A negative fd is skipped: no answer, not POLLNVAL.
    let skipped: Vec<bool> = (0..count)
        // SAFETY: as above.
        .map(|index| unsafe { (*records.add(index)).fd } < 0)
        .collect();
    let mut live: Vec<Polled> = Vec::new();
    let mut positions: Vec<usize> = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        if !skipped[index] {
            positions.push(index);
            live.push(entry);
        }
    }
    let ready = if live.is_empty() {
        super::time::sleep_milliseconds(timeout_ms)?;
        0
    } else {
        poll_entries(&mut live, timeout_ms)?
    };
    for index in 0..count {
        // SAFETY: as above.
        unsafe { (*records.add(index)).revents = 0 };
    }
    for (entry, &index) in live.iter().zip(&positions) {
        // SAFETY: as above.
        unsafe { (*records.add(index)).revents = entry.revents as i16 };
    }
    Ok(ready)
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
    if !(0..=readiness::SELECT_SET_SIZE as i32).contains(&count) {
        return Err(Errno(EINVAL));
    }
    let set = |pointer: *mut u8| {
        // SAFETY: the caller's fd_set (16 words), read unaligned.
        (!pointer.is_null()).then(|| unsafe { core::ptr::read_unaligned(pointer as *const readiness::SelectSet) })
    };
    let (read_set, write_set, except_set) = (set(read), set(write), set(except));
    let requests =
        readiness::select_requests(count as usize, read_set.as_ref(), write_set.as_ref(), except_set.as_ref());
    let mut entries: Vec<Polled> = Vec::with_capacity(requests.len());
    for &(fd, events) in &requests {
        let port = done(descriptor_port(fd))?;
        entries.push(Polled { port: Some(port), events, revents: 0 });
    }
    let milliseconds = if timeout.is_null() {
        -1
    } else {
        // SAFETY: the caller's timeval (seconds, microseconds).
        let [seconds, microseconds] = unsafe { core::ptr::read_unaligned(timeout as *const [i64; 2]) };
        if seconds < 0 || !(0..1_000_000).contains(&microseconds) {
            return Err(Errno(EINVAL));
        }
        let total = (seconds as u64).saturating_mul(1000).saturating_add((microseconds as u64).div_ceil(1000));
        total.min(i32::MAX as u64) as i32
    };
    let start = super::time::monotonic_milliseconds();
    let ready = if entries.is_empty() {
        super::time::sleep_milliseconds(milliseconds)?;
        0
    } else {
        poll_entries(&mut entries, milliseconds)?
    };
    let answers: Vec<(i32, u16, u16)> =
        requests.iter().zip(&entries).map(|(&(fd, events), entry)| (fd, events, entry.revents)).collect();
    let (sets, selected) = if ready == 0 { ([[0u64; 16]; 3], 0) } else { readiness::select_results(&answers) };
    for (pointer, set) in [read, write, except].into_iter().zip(sets) {
        if !pointer.is_null() {
            // SAFETY: the caller's fd_set.
            unsafe { core::ptr::write_unaligned(pointer as *mut readiness::SelectSet, set) };
        }
    }
    if !timeout.is_null() && milliseconds >= 0 {
        // Linux leaves the time not slept in the timeval.
        let spent = super::time::monotonic_milliseconds() - start;
        let left = (milliseconds as u64).saturating_sub(spent);
        // SAFETY: the caller's timeval.
        unsafe {
            core::ptr::write_unaligned(timeout as *mut [i64; 2], [(left / 1000) as i64, (left % 1000 * 1000) as i64])
        };
    }
    Ok(selected)
}

/// # Safety
/// `buffer` writable for `count` bytes.
pub unsafe fn getdents(fd: i32, buffer: *mut u8, count: usize) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    let budget = count.min(INLINE_MAX) as u32;
    let records = uninterrupted(|| call!(io, port, |client| client.read_directory(budget)))?;
    let length = records.len().min(count);
    // SAFETY: the caller's buffer holds `count` bytes.
    unsafe { core::ptr::copy_nonoverlapping(records.as_slice().as_ptr(), buffer, length) };
    Ok(length)
}

/// Runs a name operation on `path` from `dir`.
fn on_name<T>(
    dir: i32,
    path: *const u8,
    operation: impl Fn(&mut fs::Client, &[u8]) -> Result<T, libmach::CallError<fs::Error>>,
) -> Result<T, Errno> {
    let path = done(path_of(path))?;
    let directory = done(directory_for(dir, path))?;
    uninterrupted(|| call!(fs, directory, |client| operation(&mut client, path)))
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn mkdir_at(dir: i32, path: *const u8, mode: u32) -> Result<usize, Errno> {
    let mode = mode & !UMASK.load(Ordering::Relaxed) & 0o7777;
    on_name(dir, path, |client, path| client.make_directory(path, mode)).map(|()| 0)
}

/// mknodat: a FIFO, a regular file, a socket node, or (for the superuser)
/// a device.
///
/// # Safety
/// `path` NUL-terminated.
pub unsafe fn mknod_at(dir: i32, path: *const u8, mode: u32, device: u64) -> Result<usize, Errno> {
    let mode = (mode & S_IFMT) | (mode & !UMASK.load(Ordering::Relaxed) & 0o7777);
    on_name(dir, path, |client, path| client.make_node(path, mode, device)).map(|()| 0)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn unlink_at(dir: i32, path: *const u8, flags: i32) -> Result<usize, Errno> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno(EINVAL));
    }
    on_name(dir, path, |client, path| client.unlink(path, flags & AT_REMOVEDIR != 0)).map(|()| 0)
}

/// # Safety
/// Both paths NUL-terminated.
pub unsafe fn rename_at(old_dir: i32, old: *const u8, new_dir: i32, new: *const u8) -> Result<usize, Errno> {
    let new_path = done(path_of(new))?;
    let target = done(directory_for(new_dir, new_path))?;
    let target = borrowed(target);
    on_name(old_dir, old, |client, path| client.rename(path, &target, new_path)).map(|()| 0)
}

/// # Safety
/// Both paths NUL-terminated.
pub unsafe fn link_at(old_dir: i32, old: *const u8, new_dir: i32, new: *const u8, flags: i32) -> Result<usize, Errno> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno(EINVAL));
    }
    let new_path = done(path_of(new))?;
    let target = borrowed(done(directory_for(new_dir, new_path))?);
    let follow = flags & AT_SYMLINK_FOLLOW != 0;
    on_name(old_dir, old, |client, path| client.link(path, follow, &target, new_path)).map(|()| 0)
}

/// # Safety
/// Both strings NUL-terminated.
pub unsafe fn symlink_at(target: *const u8, dir: i32, path: *const u8) -> Result<usize, Errno> {
    let target = done(path_of(target))?;
    on_name(dir, path, |client, path| client.symlink(target, path)).map(|()| 0)
}

/// # Safety
/// `path` NUL-terminated, `buffer` writable for `size` bytes.
pub unsafe fn readlink_at(dir: i32, path: *const u8, buffer: *mut u8, size: usize) -> Result<usize, Errno> {
    if size == 0 {
        return Err(Errno(EINVAL));
    }
    let target = on_name(dir, path, |client, path| client.read_link(path))?;
    let length = target.len().min(size);
    // SAFETY: the caller's buffer holds `size` bytes.
    unsafe { core::ptr::copy_nonoverlapping(target.as_slice().as_ptr(), buffer, length) };
    Ok(length)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn access_at(dir: i32, path: *const u8, mode: i32) -> Result<usize, Errno> {
    if mode & !7 != 0 {
        return Err(Errno(EINVAL));
    }
    on_name(dir, path, |client, path| client.access(path, mode as u32, false, true)).map(|()| 0)
}

/// The working directory becomes `port` (a reference now ours); the old
/// one's reference is released.
fn set_working_directory(port: PortName) {
    let old = WORKING_DIRECTORY_PORT.swap(port, Ordering::AcqRel);
    if old != 0 {
        let _ = KERNEL.port_deallocate(old);
    }
}

/// Whether the directory open as `port` may be searched (chdir needs it).
fn searchable(port: PortName) -> Result<(), Errno> {
    uninterrupted(|| call!(fs, port, |client| client.access(b".", X_OK, false, true)))
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn chdir(path: *const u8) -> Result<usize, Errno> {
    let path = done(path_of(path))?;
    let directory = done(directory_for(super::AT_FDCWD, path))?;
    let port = open_port(directory, path, O_PATH | O_DIRECTORY, 0)?;
    if let Err(error) = searchable(port) {
        let _ = KERNEL.port_deallocate(port);
        return Err(error);
    }
    set_working_directory(port);
    Ok(0)
}

pub fn fchdir(fd: i32) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    if port_stat(port)?.mode & S_IFMT != S_IFDIR {
        return Err(Errno(ENOTDIR));
    }
    searchable(port)?;
    KERNEL.port_mod_refs(port, libmach::abi::PortRight::Send, 1).map_err(|_| Errno(EMFILE))?;
    set_working_directory(port);
    Ok(0)
}

/// The path an open object is known by (`io.path`).
fn port_path(port: PortName) -> Result<libmach::BoundedBytes<4096>, Errno> {
    uninterrupted(|| call!(io, port, |client| client.path()))
}

/// # Safety
/// `buffer` writable for `size` bytes.
pub unsafe fn getcwd(buffer: *mut u8, size: usize) -> Result<usize, Errno> {
    let port = WORKING_DIRECTORY_PORT.load(Ordering::Relaxed);
    if port == 0 {
        return Err(Errno(ENOENT));
    }
    let path = port_path(port)?;
    if path.len() + 1 > size {
        return Err(Errno(ERANGE));
    }
    // SAFETY: the caller's buffer holds `size` bytes, enough for the path and its NUL.
    unsafe {
        core::ptr::copy_nonoverlapping(path.as_slice().as_ptr(), buffer, path.len());
        *buffer.add(path.len()) = 0;
    }
    Ok(path.len() + 1)
}

/// # Safety
/// `buffer` writable for `size` bytes.
pub unsafe fn descriptor_path(fd: i32, buffer: *mut u8, size: usize) -> Result<usize, Errno> {
    let path = port_path(done(descriptor_port(fd))?)?;
    let length = path.len().min(size);
    // SAFETY: the caller's buffer holds `size` bytes.
    unsafe { core::ptr::copy_nonoverlapping(path.as_slice().as_ptr(), buffer, length) };
    Ok(length)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn chmod_at(dir: i32, path: *const u8, mode: u32) -> Result<usize, Errno> {
    on_name(dir, path, |client, path| client.change_mode(path, mode & 0o7777, true)).map(|()| 0)
}

pub fn fchmod(fd: i32, mode: u32) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    uninterrupted(|| call!(io, port, |client| client.change_mode(mode & 0o7777))).map(|()| 0)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn chown_at(dir: i32, path: *const u8, user: u32, group: u32, flags: i32) -> Result<usize, Errno> {
    // SAFETY: the caller's NUL-terminated path.
    if flags & AT_EMPTY_PATH != 0 && unsafe { c_bytes(path) }.is_empty() {
        let port = done(descriptor_port(dir))?;
        return uninterrupted(|| call!(io, port, |client| client.change_owner(user, group))).map(|()| 0);
    }
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    on_name(dir, path, |client, path| client.change_owner(path, user, group, follow)).map(|()| 0)
}

/// # Safety
/// `path` NUL-terminated.
pub unsafe fn truncate(path: *const u8, length: i64) -> Result<usize, Errno> {
    let length = u64::try_from(length).map_err(|_| Errno(EINVAL))?;
    on_name(super::AT_FDCWD, path, |client, path| client.truncate(path, length)).map(|()| 0)
}

pub fn ftruncate(fd: i32, length: i64) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    let length = u64::try_from(length).map_err(|_| Errno(EINVAL))?;
    uninterrupted(|| call!(io, port, |client| client.truncate(length))).map(|()| 0)
}

pub fn fsync(fd: i32) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    uninterrupted(|| call!(io, port, |client| client.sync(false))).map(|()| 0)
}

/// Writes every file system's changes to its disk.
pub fn sync() {
    let root = ROOT_PORT.load(Ordering::Relaxed);
    if root != 0 {
        let _ = uninterrupted(|| call!(fs, root, |client| client.sync()));
    }
}

pub fn umask(mask: u32) -> u32 {
    UMASK.swap(mask & 0o777, Ordering::Relaxed)
}

/// `UTIME_NOW` for both times when `times` is null.
const UTIME_NOW: i64 = (1 << 30) - 1;

/// # Safety
/// `path` null (then `dir` is the file) or NUL-terminated; `times` null or two timespecs.
pub unsafe fn utimens_at(dir: i32, path: *const u8, times: *const i64, flags: i32) -> Result<usize, Errno> {
    let [access_seconds, access_nanoseconds, modification_seconds, modification_nanoseconds] = if times.is_null() {
        [0, UTIME_NOW, 0, UTIME_NOW]
    } else {
        // SAFETY: two timespecs.
        unsafe { core::ptr::read_unaligned(times as *const [i64; 4]) }
    };
    for nanoseconds in [access_nanoseconds, modification_nanoseconds] {
        if !(0..1_000_000_000).contains(&nanoseconds) && nanoseconds != UTIME_NOW && nanoseconds != UTIME_NOW - 1 {
            return Err(Errno(EINVAL));
        }
    }
    if path.is_null() {
        let port = done(descriptor_port(dir))?;
        return uninterrupted(|| {
            call!(io, port, |client| client.change_times(
                access_seconds,
                access_nanoseconds,
                modification_seconds,
                modification_nanoseconds
            ))
        })
        .map(|()| 0);
    }
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    on_name(dir, path, |client, path| {
        client.change_times(
            path,
            access_seconds,
            access_nanoseconds,
            modification_seconds,
            modification_nanoseconds,
            follow,
        )
    })
    .map(|()| 0)
}

/// Writes a Linux `struct statfs` (120 bytes).
///
/// # Safety
/// `out` writable for 120 bytes.
unsafe fn write_statfs(status: &io::Statfs, out: *mut u8) {
    let words: [u64; 15] = [
        status.kind,
        status.block_size,
        status.blocks,
        status.free_blocks,
        status.available_blocks,
        status.files,
        status.free_files,
        status.file_system_id,
        status.name_max,
        status.block_size,
        status.flags,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: the caller's 120 bytes.
    unsafe { core::ptr::write_unaligned(out as *mut [u64; 15], words) };
}

/// # Safety
/// `path` NUL-terminated; `buffer` writable for a `struct statfs`.
pub unsafe fn statfs(path: *const u8, buffer: *mut u8) -> Result<usize, Errno> {
    let status = on_name(super::AT_FDCWD, path, |client, path| client.statfs(path))?;
    let status = io::Statfs {
        kind: status.kind,
        block_size: status.block_size,
        blocks: status.blocks,
        free_blocks: status.free_blocks,
        available_blocks: status.available_blocks,
        files: status.files,
        free_files: status.free_files,
        file_system_id: status.file_system_id,
        name_max: status.name_max,
        flags: status.flags,
    };
    // SAFETY: the caller's record.
    unsafe { write_statfs(&status, buffer) };
    Ok(0)
}

/// # Safety
/// `buffer` writable for a `struct statfs`.
pub unsafe fn fstatfs(fd: i32, buffer: *mut u8) -> Result<usize, Errno> {
    let port = done(descriptor_port(fd))?;
    let status = uninterrupted(|| call!(io, port, |client| client.statfs()))?;
    // SAFETY: the caller's record.
    unsafe { write_statfs(&status, buffer) };
    Ok(0)
}

/// # Safety
/// NUL-terminated strings (`source`, `kind` and `data` may be null).
pub unsafe fn mount(
    source: *const u8,
    target: *const u8,
    kind: *const u8,
    flags: u64,
    _data: *const u8,
) -> Result<usize, Errno> {
    const MS_RDONLY: u64 = 1;
    // SAFETY: the caller's strings (null reads as empty).
    let (source, kind) = unsafe { (c_bytes(source), c_bytes(kind)) };
    let kind = core::str::from_utf8(kind).map_err(|_| Errno(crate::errno_table::ENODEV))?;
    if source.len() >= PATH_MAX {
        return Err(Errno(ENAMETOOLONG));
    }
    let read_only = flags & MS_RDONLY != 0;
    on_name(super::AT_FDCWD, target, |client, target| client.mount(source, target, kind, read_only)).map(|()| 0)
}

/// # Safety
/// `target` NUL-terminated.
pub unsafe fn unmount(target: *const u8, flags: i32) -> Result<usize, Errno> {
    if flags != 0 {
        // MNT_FORCE, MNT_DETACH, MNT_EXPIRE: the file server has no such unmount.
        return Err(Errno(EINVAL));
    }
    on_name(super::AT_FDCWD, target, |client, target| client.unmount(target)).map(|()| 0)
}

/// The names a new image keeps (exec): every descriptor without
/// `FD_CLOEXEC`, as the process server's records.
pub(crate) fn kept_descriptors(all: bool) -> Vec<personality_interfaces::proc::Descriptor> {
    // The open files are about to be shared: their offsets go back to the
    // server. A failure leaves that file's offset where the server had it
    // (the server is gone or refused a seek to where reads had reached).
    let _ = mapped::settle_all();
    DESCRIPTORS.with(|table| {
        table
            .iter()
            .filter(|(_, descriptor)| all || !descriptor.close_on_exec)
            .map(|(number, descriptor)| personality_interfaces::proc::Descriptor {
                number,
                name: descriptor.port,
                flags: u32::from(descriptor.close_on_exec),
            })
            .collect()
    })
}
