//! `<stdio.h>`: buffered `FILE` streams over file descriptors, the printf
//! and scanf families (engines in `crate::format` / `crate::scan`).
//!
//! A stream is in one of three directions: idle, reading (the buffer holds
//! `length` bytes read ahead, `position` of them consumed) or writing (the
//! buffer holds `length` bytes not yet written). Switching direction
//! flushes pending output or seeks back over unread input, so `ftell`
//! always equals the descriptor offset adjusted by the buffer.

use super::memory::{free, malloc, memchr, memcpy, realloc};
use super::variadic::{store_integer, VaArguments, VaListTag};
use super::{c_result, c_string, errno, set_errno, CGlobal};
use crate::errno_table::{EBADF, EINTR, EINVAL, EISDIR, ENOMEM, ENOSPC, EOVERFLOW};
use crate::format::{self, Length, Output, OutputError};
use crate::platform::{self, AT_FDCWD};
use crate::scan::{self, Destinations, Input};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr;

/// `BUFSIZ`.
pub const BUFFER_SIZE: usize = 8192;
const EOF: i32 = -1;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Idle,
    Reading,
    Writing,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Buffering {
    Full,
    Line,
    Unbuffered,
    /// stdout before its first use: line-buffered if descriptor 1 is then
    /// a terminal, else fully buffered, as glibc decides at the first
    /// output. Asking at start-up was a request to the terminal's server
    /// before every program's `main` (Mach_R), whether it wrote or not.
    Undecided,
}

/// C's `FILE` (opaque to C).
pub struct File {
    fd: i32,
    buffer: *mut u8,
    capacity: usize,
    owns_buffer: bool,
    position: usize,
    length: usize,
    direction: Direction,
    buffering: Buffering,
    readable: bool,
    writable: bool,
    end_of_file: bool,
    error: bool,
    /// The child of `popen`, 0 otherwise.
    child: i32,
    /// Where the bytes live: the descriptor `fd`, or memory.
    backend: Backend,
    next: *mut File,
}

/// The storage under a stream.
enum Backend {
    Descriptor,
    /// `fmemopen`: a caller's (or our) buffer of fixed `size`.
    FixedMemory {
        base: *mut u8,
        size: usize,
        length: usize,
        position: usize,
        owned: bool,
    },
    /// `open_memstream`: a growing malloc'ed buffer published through the
    /// caller's pointer and size at every flush.
    GrowingMemory {
        buffer: *mut u8,
        capacity: usize,
        length: usize,
        position: usize,
        pointer_out: *mut *mut u8,
        size_out: *mut usize,
    },
}

/// Reads up to `count` bytes from the stream's storage.
fn raw_read(file: &mut File, destination: *mut u8, count: usize) -> Result<usize, platform::Errno> {
    match &mut file.backend {
        // SAFETY: the caller's destination holds `count` bytes.
        Backend::Descriptor => unsafe { platform::read(file.fd, destination, count) },
        Backend::FixedMemory { base, length, position, .. } => {
            let take = length.saturating_sub(*position).min(count);
            // SAFETY: position + take <= length <= size of the buffer.
            unsafe { memcpy(destination, base.add(*position), take) };
            *position += take;
            Ok(take)
        }
        Backend::GrowingMemory { buffer, length, position, .. } => {
            let take = length.saturating_sub(*position).min(count);
            // SAFETY: within the buffer's length.
            unsafe { memcpy(destination, buffer.add(*position), take) };
            *position += take;
            Ok(take)
        }
    }
}

/// Writes all of `data` to the stream's storage.
fn raw_write_all(file: &mut File, data: &[u8]) -> Result<(), ()> {
    match &mut file.backend {
        Backend::Descriptor => write_all(file.fd, data),
        Backend::FixedMemory { base, size, length, position, .. } => {
            let room = size.saturating_sub(*position);
            let take = room.min(data.len());
            // SAFETY: position + take <= size.
            unsafe { memcpy(base.add(*position), data.as_ptr(), take) };
            *position += take;
            *length = (*length).max(*position);
            if *position < *size {
                // fmemopen keeps the contents NUL-terminated when there is room (as glibc).
                // SAFETY: position < size.
                unsafe { *base.add(*position) = 0 };
            }
            if take < data.len() {
                set_errno(ENOSPC);
                return Err(());
            }
            Ok(())
        }
        Backend::GrowingMemory { buffer, capacity, length, position, pointer_out, size_out } => {
            let end = *position + data.len();
            if end + 1 > *capacity {
                let grown = (end + 1).max(*capacity * 2).max(64);
                // SAFETY: our malloc'ed buffer.
                let block = unsafe { realloc(*buffer, grown) };
                if block.is_null() {
                    set_errno(ENOMEM);
                    return Err(());
                }
                *buffer = block;
                *capacity = grown;
            }
            // SAFETY: the buffer holds `end + 1` bytes; the gap left by a seek past the end is zero-filled.
            unsafe {
                if *position > *length {
                    super::memory::memset(buffer.add(*length), 0, *position - *length);
                }
                memcpy(buffer.add(*position), data.as_ptr(), data.len());
                *position = end;
                *length = (*length).max(end);
                *buffer.add(*length) = 0;
                **pointer_out = *buffer;
                **size_out = *position;
            }
            Ok(())
        }
    }
}

/// Moves the stream's storage position.
fn raw_seek(file: &mut File, offset: i64, whence: i32) -> Result<usize, platform::Errno> {
    let (length, position, limit) = match &mut file.backend {
        Backend::Descriptor => return platform::seek(file.fd, offset, whence),
        Backend::FixedMemory { length, position, size, .. } => (*length, position, *size),
        Backend::GrowingMemory { length, position, .. } => (*length, position, isize::MAX as usize),
    };
    let origin = match whence {
        0 => 0,
        1 => *position as i64,
        _ => length as i64,
    };
    let target =
        origin.checked_add(offset).filter(|&t| t >= 0 && t as u64 <= limit as u64).ok_or(platform::Errno(EINVAL))?;
    *position = target as usize;
    Ok(target as usize)
}

/// Releases the stream's storage.
fn raw_close(file: &mut File) -> Result<usize, platform::Errno> {
    match &mut file.backend {
        Backend::Descriptor => platform::close(file.fd),
        Backend::FixedMemory { base, owned, .. } => {
            if *owned {
                // SAFETY: our own buffer.
                unsafe { free(*base) };
            }
            Ok(0)
        }
        Backend::GrowingMemory { pointer_out, size_out, buffer, position, .. } => {
            // The caller owns the buffer now (and frees it).
            // SAFETY: the caller's pointer and size locations.
            unsafe {
                **pointer_out = *buffer;
                **size_out = *position;
            }
            Ok(0)
        }
    }
}

#[no_mangle]
pub static stdin: CGlobal<*mut File> = CGlobal::new(ptr::null_mut());
#[no_mangle]
pub static stdout: CGlobal<*mut File> = CGlobal::new(ptr::null_mut());
#[no_mangle]
pub static stderr: CGlobal<*mut File> = CGlobal::new(ptr::null_mut());
static OPEN_FILES: CGlobal<*mut File> = CGlobal::new(ptr::null_mut());

fn new_file(fd: i32, readable: bool, writable: bool, buffering: Buffering) -> *mut File {
    let file = Box::into_raw(Box::new(File {
        fd,
        buffer: ptr::null_mut(),
        capacity: 0,
        owns_buffer: true,
        position: 0,
        length: 0,
        direction: Direction::Idle,
        buffering,
        readable,
        writable,
        end_of_file: false,
        error: false,
        child: 0,
        backend: Backend::Descriptor,
        next: OPEN_FILES.get(),
    }));
    OPEN_FILES.set(file);
    file
}

pub fn initialize_standard_streams() {
    stdin.set(new_file(0, true, false, Buffering::Full));
    stdout.set(new_file(1, false, true, Buffering::Undecided));
    stderr.set(new_file(2, false, true, Buffering::Unbuffered));
    set_errno(0);
}

/// Flushes every open output stream (at exit, before fork-like operations).
pub fn flush_all_streams() {
    let mut file = OPEN_FILES.get();
    while !file.is_null() {
        // SAFETY: the list holds live streams only.
        unsafe {
            flush_output(&mut *file);
            file = (*file).next;
        }
    }
}

fn write_all(fd: i32, mut data: &[u8]) -> Result<(), ()> {
    while !data.is_empty() {
        // SAFETY: a valid slice.
        match unsafe { platform::write(fd, data.as_ptr(), data.len()) } {
            Ok(written) => data = &data[written..],
            Err(error) if error.0 == EINTR => continue,
            Err(error) => {
                set_errno(error.0);
                return Err(());
            }
        }
    }
    Ok(())
}

fn flush_output(file: &mut File) -> i32 {
    if file.direction != Direction::Writing {
        return 0;
    }
    let pending = file.length;
    file.length = 0;
    file.direction = Direction::Idle;
    if pending == 0 {
        return 0;
    }
    // SAFETY: the buffer holds `pending` bytes.
    let data = unsafe { core::slice::from_raw_parts(file.buffer, pending) };
    if raw_write_all(file, data).is_err() {
        file.error = true;
        return EOF;
    }
    0
}

/// Drops read-ahead, moving the descriptor back over what was not consumed.
fn discard_input(file: &mut File) {
    if file.direction == Direction::Reading {
        let unread = file.length - file.position;
        if unread > 0 {
            let _ = raw_seek(file, -(unread as i64), 1);
        }
    }
    file.position = 0;
    file.length = 0;
    file.direction = Direction::Idle;
}

fn ensure_buffer(file: &mut File) -> bool {
    if file.capacity == 0 {
        let buffer = malloc(BUFFER_SIZE);
        if buffer.is_null() {
            file.error = true;
            return false;
        }
        file.buffer = buffer;
        file.capacity = BUFFER_SIZE;
        file.owns_buffer = true;
    }
    true
}

fn prepare_write(file: &mut File) -> bool {
    if !file.writable {
        file.error = true;
        set_errno(EBADF);
        return false;
    }
    if file.direction == Direction::Reading {
        discard_input(file);
    }
    if !ensure_buffer(file) {
        return false;
    }
    file.direction = Direction::Writing;
    true
}

fn put_bytes(file: &mut File, data: &[u8]) -> Result<(), OutputError> {
    if !prepare_write(file) {
        return Err(OutputError);
    }
    if file.length + data.len() > file.capacity {
        if flush_output(file) != 0 {
            return Err(OutputError);
        }
        file.direction = Direction::Writing;
        if data.len() >= file.capacity {
            return raw_write_all(file, data).map_err(|_| {
                file.error = true;
                OutputError
            });
        }
    }
    // SAFETY: the buffer has room for `data` (checked above).
    unsafe { memcpy(file.buffer.add(file.length), data.as_ptr(), data.len()) };
    file.length += data.len();
    Ok(())
}

/// Applies the buffering mode after a write operation.
fn finish_write(file: &mut File, wrote_newline: bool) -> i32 {
    match file.buffering {
        Buffering::Unbuffered => flush_output(file),
        Buffering::Line if wrote_newline => flush_through_last_newline(file),
        _ => 0,
    }
}

/// Line buffering: writes the pending output up to and including its last
/// newline and keeps the rest buffered (as glibc does).
fn flush_through_last_newline(file: &mut File) -> i32 {
    if file.direction != Direction::Writing || file.length == 0 {
        return 0;
    }
    // SAFETY: the buffer holds `length` pending bytes.
    let pending = unsafe { core::slice::from_raw_parts(file.buffer, file.length) };
    let Some(last_newline) = pending.iter().rposition(|&b| b == b'\n') else {
        return 0;
    };
    let through = last_newline + 1;
    if raw_write_all(file, &pending[..through]).is_err() {
        file.error = true;
        file.length = 0;
        return EOF;
    }
    let rest = file.length - through;
    // SAFETY: moving the unwritten tail to the front of the buffer.
    unsafe { super::memory::memmove(file.buffer, file.buffer.add(through), rest) };
    file.length = rest;
    0
}

fn prepare_read(file: &mut File) -> bool {
    if !file.readable {
        file.error = true;
        set_errno(EBADF);
        return false;
    }
    if file.direction == Direction::Writing && flush_output(file) != 0 {
        return false;
    }
    if file.direction == Direction::Idle {
        file.position = 0;
        file.length = 0;
    }
    file.direction = Direction::Reading;
    true
}

/// Reads the next chunk; false at end of file or on error.
fn fill(file: &mut File) -> bool {
    if file.end_of_file {
        return false;
    }
    if file.fd == 0 && matches!(file.backend, Backend::Descriptor) {
        let output = stdout.get();
        if !output.is_null() {
            // SAFETY: stdout is a live stream.
            unsafe {
                if (*output).buffering == Buffering::Line {
                    flush_output(&mut *output);
                }
            }
        }
    }
    if !ensure_buffer(file) {
        return false;
    }
    let (buffer, capacity) = (file.buffer, file.capacity);
    match raw_read(file, buffer, capacity) {
        Ok(0) => {
            file.end_of_file = true;
            false
        }
        Ok(count) => {
            file.position = 0;
            file.length = count;
            true
        }
        Err(error) => {
            set_errno(error.0);
            file.error = true;
            false
        }
    }
}

fn get_byte(file: &mut File) -> i32 {
    if file.direction == Direction::Reading && file.position < file.length {
        // SAFETY: position < length <= capacity.
        let byte = unsafe { *file.buffer.add(file.position) };
        file.position += 1;
        return byte as i32;
    }
    if !prepare_read(file) {
        return EOF;
    }
    if file.position >= file.length && !fill(file) {
        return EOF;
    }
    // SAFETY: fill left at least one byte.
    let byte = unsafe { *file.buffer.add(file.position) };
    file.position += 1;
    byte as i32
}

/// # Safety
/// `file` must be a live stream.
unsafe fn stream<'a>(file: *mut File) -> &'a mut File {
    // SAFETY: per the contract.
    let file = unsafe { &mut *file };
    if file.buffering == Buffering::Undecided {
        // The caller's errno stays (isatty sets ENOTTY for anything else).
        let saved = errno();
        file.buffering = if super::posix::isatty(file.fd) != 0 { Buffering::Line } else { Buffering::Full };
        set_errno(saved);
    }
    file
}

#[no_mangle]
pub unsafe extern "C" fn fgetc(file: *mut File) -> i32 {
    // SAFETY: C's contract.
    get_byte(unsafe { stream(file) })
}

#[no_mangle]
pub unsafe extern "C" fn getc(file: *mut File) -> i32 {
    // SAFETY: C's contract.
    get_byte(unsafe { stream(file) })
}

#[no_mangle]
pub unsafe extern "C" fn getc_unlocked(file: *mut File) -> i32 {
    // SAFETY: C's contract.
    get_byte(unsafe { stream(file) })
}

#[no_mangle]
pub extern "C" fn getchar() -> i32 {
    // SAFETY: stdin is live.
    get_byte(unsafe { stream(stdin.get()) })
}

#[no_mangle]
pub extern "C" fn getchar_unlocked() -> i32 {
    getchar()
}

#[no_mangle]
pub unsafe extern "C" fn ungetc(byte: i32, file: *mut File) -> i32 {
    if byte == EOF {
        return EOF;
    }
    // SAFETY: C's contract.
    let file = unsafe { stream(file) };
    if !prepare_read(file) || !ensure_buffer(file) {
        return EOF;
    }
    if file.length == 0 {
        file.position = file.capacity;
        file.length = file.capacity;
    }
    if file.position == 0 {
        if file.length >= file.capacity {
            return EOF;
        }
        // SAFETY: shifting within the buffer, which has one spare byte.
        unsafe { super::memory::memmove(file.buffer.add(1), file.buffer, file.length) };
        file.length += 1;
        file.position = 1;
    }
    file.position -= 1;
    // SAFETY: position < capacity.
    unsafe { *file.buffer.add(file.position) = byte as u8 };
    file.end_of_file = false;
    byte & 0xff
}

fn put_byte(file: &mut File, byte: i32) -> i32 {
    if file.direction == Direction::Writing && file.length < file.capacity && file.buffering == Buffering::Full {
        // SAFETY: length < capacity.
        unsafe { *file.buffer.add(file.length) = byte as u8 };
        file.length += 1;
        return byte & 0xff;
    }
    if put_bytes(file, &[byte as u8]).is_err() || finish_write(file, byte as u8 == b'\n') != 0 {
        return EOF;
    }
    byte & 0xff
}

#[no_mangle]
pub unsafe extern "C" fn fputc(byte: i32, file: *mut File) -> i32 {
    // SAFETY: C's contract.
    put_byte(unsafe { stream(file) }, byte)
}

#[no_mangle]
pub unsafe extern "C" fn putc(byte: i32, file: *mut File) -> i32 {
    // SAFETY: C's contract.
    put_byte(unsafe { stream(file) }, byte)
}

#[no_mangle]
pub unsafe extern "C" fn putc_unlocked(byte: i32, file: *mut File) -> i32 {
    // SAFETY: C's contract.
    put_byte(unsafe { stream(file) }, byte)
}

#[no_mangle]
pub extern "C" fn putchar(byte: i32) -> i32 {
    // SAFETY: stdout is live.
    put_byte(unsafe { stream(stdout.get()) }, byte)
}

#[no_mangle]
pub extern "C" fn putchar_unlocked(byte: i32) -> i32 {
    putchar(byte)
}

fn write_bytes_to(file: &mut File, data: &[u8]) -> bool {
    let newline = file.buffering == Buffering::Line && data.contains(&b'\n');
    put_bytes(file, data).is_ok() && finish_write(file, newline) == 0
}

#[no_mangle]
pub unsafe extern "C" fn fputs(text: *const u8, file: *mut File) -> i32 {
    // SAFETY: C's contract.
    if write_bytes_to(unsafe { stream(file) }, unsafe { c_string(text) }) {
        1
    } else {
        EOF
    }
}

#[no_mangle]
pub unsafe extern "C" fn fputs_unlocked(text: *const u8, file: *mut File) -> i32 {
    // SAFETY: forwarded.
    unsafe { fputs(text, file) }
}

#[no_mangle]
pub unsafe extern "C" fn puts(text: *const u8) -> i32 {
    // SAFETY: C's contract; stdout is live.
    unsafe {
        let file = stream(stdout.get());
        if put_bytes(file, c_string(text)).is_err() || put_bytes(file, b"\n").is_err() {
            return EOF;
        }
        if finish_write(file, true) != 0 {
            EOF
        } else {
            1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn fwrite(data: *const u8, size: usize, count: usize, file: *mut File) -> usize {
    let Some(total) = size.checked_mul(count) else {
        set_errno(EINVAL);
        return 0;
    };
    if total == 0 {
        return 0;
    }
    // SAFETY: C's contract: `data` holds `total` bytes.
    if write_bytes_to(unsafe { stream(file) }, unsafe { core::slice::from_raw_parts(data, total) }) {
        count
    } else {
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn fwrite_unlocked(data: *const u8, size: usize, count: usize, file: *mut File) -> usize {
    // SAFETY: forwarded.
    unsafe { fwrite(data, size, count, file) }
}

#[no_mangle]
pub unsafe extern "C" fn fread(destination: *mut u8, size: usize, count: usize, file: *mut File) -> usize {
    let Some(total) = size.checked_mul(count) else {
        set_errno(EINVAL);
        return 0;
    };
    if total == 0 {
        return 0;
    }
    // SAFETY: C's contract: `destination` holds `total` bytes.
    unsafe {
        let file = stream(file);
        if !prepare_read(file) {
            return 0;
        }
        let mut done = 0;
        while done < total {
            let available = file.length - file.position;
            if available > 0 {
                let take = available.min(total - done);
                memcpy(destination.add(done), file.buffer.add(file.position), take);
                file.position += take;
                done += take;
                continue;
            }
            if file.end_of_file {
                break;
            }
            if total - done >= BUFFER_SIZE {
                match raw_read(file, destination.add(done), total - done) {
                    Ok(0) => {
                        file.end_of_file = true;
                        break;
                    }
                    Ok(read) => done += read,
                    Err(error) => {
                        set_errno(error.0);
                        file.error = true;
                        break;
                    }
                }
            } else if !fill(file) {
                break;
            }
        }
        done / size
    }
}

#[no_mangle]
pub unsafe extern "C" fn fread_unlocked(destination: *mut u8, size: usize, count: usize, file: *mut File) -> usize {
    // SAFETY: forwarded.
    unsafe { fread(destination, size, count, file) }
}

#[no_mangle]
pub unsafe extern "C" fn fgets(destination: *mut u8, size: i32, file: *mut File) -> *mut u8 {
    if size <= 0 {
        set_errno(EINVAL);
        return ptr::null_mut();
    }
    // SAFETY: C's contract: `destination` holds `size` bytes.
    unsafe {
        let file = stream(file);
        let limit = size as usize - 1;
        let mut done = 0;
        while done < limit {
            if (file.direction != Direction::Reading || file.position >= file.length)
                && (!prepare_read(file) || (file.position >= file.length && !fill(file)))
            {
                break;
            }
            let available = (file.length - file.position).min(limit - done);
            let start = file.buffer.add(file.position);
            let newline = memchr(start, b'\n' as i32, available);
            let take = if newline.is_null() { available } else { newline as usize - start as usize + 1 };
            memcpy(destination.add(done), start, take);
            file.position += take;
            done += take;
            if !newline.is_null() {
                break;
            }
        }
        if done == 0 && limit > 0 {
            return ptr::null_mut();
        }
        *destination.add(done) = 0;
        destination
    }
}

#[no_mangle]
pub unsafe extern "C" fn getdelim(line: *mut *mut u8, capacity: *mut usize, delimiter: i32, file: *mut File) -> isize {
    if line.is_null() || capacity.is_null() {
        set_errno(EINVAL);
        return -1;
    }
    // SAFETY: C's contract: `*line` is null or a malloc'ed block of `*capacity` bytes.
    unsafe {
        let file = stream(file);
        let mut length = 0usize;
        loop {
            let byte = get_byte(file);
            if byte == EOF {
                break;
            }
            if length + 2 > *capacity || (*line).is_null() {
                let grown = (*capacity).max(64).max(length + 2) * 2;
                let block = realloc(*line, grown);
                if block.is_null() {
                    file.error = true;
                    return -1;
                }
                *line = block;
                *capacity = grown;
            }
            *(*line).add(length) = byte as u8;
            length += 1;
            if byte == delimiter {
                break;
            }
        }
        if length == 0 {
            return -1;
        }
        *(*line).add(length) = 0;
        length as isize
    }
}

#[no_mangle]
pub unsafe extern "C" fn getline(line: *mut *mut u8, capacity: *mut usize, file: *mut File) -> isize {
    // SAFETY: forwarded.
    unsafe { getdelim(line, capacity, b'\n' as i32, file) }
}

#[no_mangle]
pub unsafe extern "C" fn fflush(file: *mut File) -> i32 {
    if file.is_null() {
        flush_all_streams();
        return 0;
    }
    // SAFETY: C's contract.
    let file = unsafe { stream(file) };
    if file.direction == Direction::Reading {
        discard_input(file);
        return 0;
    }
    flush_output(file)
}

#[no_mangle]
pub unsafe extern "C" fn fflush_unlocked(file: *mut File) -> i32 {
    // SAFETY: forwarded.
    unsafe { fflush(file) }
}

#[no_mangle]
pub unsafe extern "C" fn fseeko(file: *mut File, offset: i64, whence: i32) -> i32 {
    // SAFETY: C's contract.
    let file = unsafe { stream(file) };
    if !(0..=2).contains(&whence) {
        set_errno(EINVAL);
        return -1;
    }
    let mut offset = offset;
    if whence == 1 && file.direction == Direction::Reading {
        offset -= (file.length - file.position) as i64;
    }
    if flush_output(file) != 0 {
        return -1;
    }
    file.position = 0;
    file.length = 0;
    file.direction = Direction::Idle;
    if c_result(raw_seek(file, offset, whence)) < 0 {
        return -1;
    }
    file.end_of_file = false;
    0
}

#[no_mangle]
pub unsafe extern "C" fn fseek(file: *mut File, offset: i64, whence: i32) -> i32 {
    // SAFETY: forwarded.
    unsafe { fseeko(file, offset, whence) }
}

#[no_mangle]
pub unsafe extern "C" fn ftello(file: *mut File) -> i64 {
    // SAFETY: C's contract.
    let file = unsafe { stream(file) };
    let position = c_result(raw_seek(file, 0, 1));
    if position < 0 {
        return -1;
    }
    match file.direction {
        Direction::Reading => position as i64 - (file.length - file.position) as i64,
        Direction::Writing => position as i64 + file.length as i64,
        Direction::Idle => position as i64,
    }
}

#[no_mangle]
pub unsafe extern "C" fn ftell(file: *mut File) -> i64 {
    // SAFETY: forwarded.
    unsafe { ftello(file) }
}

#[no_mangle]
pub unsafe extern "C" fn rewind(file: *mut File) {
    // SAFETY: forwarded.
    unsafe {
        fseeko(file, 0, 0);
        stream(file).error = false;
    }
}

#[no_mangle]
pub unsafe extern "C" fn fgetpos(file: *mut File, position: *mut i64) -> i32 {
    // SAFETY: fpos_t starts with the offset.
    unsafe {
        let offset = ftello(file);
        if offset < 0 {
            return -1;
        }
        *position = offset;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn fsetpos(file: *mut File, position: *const i64) -> i32 {
    // SAFETY: an fpos_t from fgetpos.
    unsafe { fseeko(file, *position, 0) }
}

#[no_mangle]
pub unsafe extern "C" fn feof(file: *mut File) -> i32 {
    // SAFETY: C's contract.
    unsafe { stream(file).end_of_file as i32 }
}

#[no_mangle]
pub unsafe extern "C" fn ferror(file: *mut File) -> i32 {
    // SAFETY: C's contract.
    unsafe { stream(file).error as i32 }
}

#[no_mangle]
pub unsafe extern "C" fn clearerr(file: *mut File) {
    // SAFETY: C's contract.
    unsafe {
        stream(file).error = false;
        stream(file).end_of_file = false;
    }
}

#[no_mangle]
pub unsafe extern "C" fn fileno(file: *mut File) -> i32 {
    if file.is_null() {
        set_errno(EBADF);
        return -1;
    }
    // SAFETY: C's contract.
    let file = unsafe { stream(file) };
    if !matches!(file.backend, Backend::Descriptor) {
        set_errno(EBADF);
        return -1;
    }
    file.fd
}

#[no_mangle]
pub extern "C" fn flockfile(_file: *mut File) {}
#[no_mangle]
pub extern "C" fn funlockfile(_file: *mut File) {}
#[no_mangle]
pub extern "C" fn ftrylockfile(_file: *mut File) -> i32 {
    0
}

#[no_mangle]
pub unsafe extern "C" fn setvbuf(file: *mut File, buffer: *mut u8, mode: i32, size: usize) -> i32 {
    // SAFETY: C's contract: before any I/O on the stream; `buffer` null or `size` bytes.
    unsafe {
        let file = stream(file);
        file.buffering = match mode {
            0 => Buffering::Full,
            1 => Buffering::Line,
            2 => Buffering::Unbuffered,
            _ => {
                set_errno(EINVAL);
                return -1;
            }
        };
        if !buffer.is_null() && size > 0 {
            flush_output(file);
            if file.owns_buffer {
                free(file.buffer);
            }
            file.buffer = buffer;
            file.capacity = size;
            file.owns_buffer = false;
            file.position = 0;
            file.length = 0;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn setbuf(file: *mut File, buffer: *mut u8) {
    // SAFETY: forwarded; a non-null buffer is BUFSIZ bytes.
    unsafe { setvbuf(file, buffer, if buffer.is_null() { 2 } else { 0 }, BUFFER_SIZE) };
}

#[no_mangle]
pub unsafe extern "C" fn setbuffer(file: *mut File, buffer: *mut u8, size: usize) {
    // SAFETY: forwarded.
    unsafe { setvbuf(file, buffer, if buffer.is_null() { 2 } else { 0 }, size) };
}

#[no_mangle]
pub unsafe extern "C" fn setlinebuf(file: *mut File) {
    // SAFETY: forwarded.
    unsafe { setvbuf(file, ptr::null_mut(), 1, 0) };
}

/// Parses an fopen mode: (open flags, readable, writable); None if invalid.
fn parse_mode(mode: &[u8]) -> Option<(i32, bool, bool)> {
    let (mut flags, mut readable, mut writable) = match mode.first()? {
        b'r' => (0, true, false),
        b'w' => (0o1 | 0o100 | 0o1000, false, true),
        b'a' => (0o1 | 0o100 | 0o2000, false, true),
        _ => return None,
    };
    for &modifier in &mode[1..] {
        match modifier {
            b'+' => {
                flags = (flags & !0o3) | 0o2;
                readable = true;
                writable = true;
            }
            b'x' => flags |= 0o200,
            b'e' => flags |= 0o2000000,
            _ => {}
        }
    }
    Some((flags, readable, writable))
}

#[no_mangle]
pub unsafe extern "C" fn fopen(path: *const u8, mode: *const u8) -> *mut File {
    // SAFETY: NUL-terminated strings.
    let Some((flags, readable, writable)) = parse_mode(unsafe { c_string(mode) }) else {
        set_errno(EINVAL);
        return ptr::null_mut();
    };
    // SAFETY: NUL-terminated path.
    let fd = c_result(unsafe { platform::open_at(AT_FDCWD, path, flags, 0o666) });
    if fd < 0 {
        return ptr::null_mut();
    }
    new_file(fd as i32, readable, writable, Buffering::Full)
}

#[no_mangle]
pub unsafe extern "C" fn fopen64(path: *const u8, mode: *const u8) -> *mut File {
    // SAFETY: forwarded.
    unsafe { fopen(path, mode) }
}

#[no_mangle]
pub unsafe extern "C" fn fdopen(fd: i32, mode: *const u8) -> *mut File {
    // SAFETY: NUL-terminated mode.
    let Some((_, readable, writable)) = parse_mode(unsafe { c_string(mode) }) else {
        set_errno(EINVAL);
        return ptr::null_mut();
    };
    // SAFETY: F_GETFD takes no pointer; it validates the descriptor.
    if c_result(unsafe { platform::fcntl(fd, 1, 0) }) < 0 {
        return ptr::null_mut();
    }
    new_file(fd, readable, writable, Buffering::Full)
}

/// Unlinks `file` from the open list.
fn forget(file: *mut File) {
    let mut link: *mut *mut File = OPEN_FILES.as_ptr();
    // SAFETY: the list holds live streams.
    unsafe {
        while !(*link).is_null() {
            if *link == file {
                *link = (*file).next;
                return;
            }
            link = &mut (**link).next;
        }
    }
}

fn release_buffer(file: &mut File) {
    if file.owns_buffer && !file.buffer.is_null() {
        // SAFETY: our malloc'ed buffer.
        unsafe { free(file.buffer) };
    }
    file.buffer = ptr::null_mut();
    file.capacity = 0;
}

#[no_mangle]
pub unsafe extern "C" fn fclose(file: *mut File) -> i32 {
    if file.is_null() {
        set_errno(EBADF);
        return EOF;
    }
    // SAFETY: C's contract; the stream is not used after this.
    unsafe {
        let stream_ref = stream(file);
        let flushed = if stream_ref.direction == Direction::Reading {
            discard_input(stream_ref);
            0
        } else {
            flush_output(stream_ref)
        };
        let closed = c_result(raw_close(stream_ref));
        forget(file);
        release_buffer(stream_ref);
        for standard in [&stdin, &stdout, &stderr] {
            if standard.get() == file {
                standard.set(ptr::null_mut());
            }
        }
        drop(Box::from_raw(file));
        if flushed != 0 || closed < 0 {
            EOF
        } else {
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn freopen(path: *const u8, mode: *const u8, file: *mut File) -> *mut File {
    // SAFETY: C's contract.
    unsafe {
        let Some((flags, readable, writable)) = parse_mode(c_string(mode)) else {
            set_errno(EINVAL);
            return ptr::null_mut();
        };
        let stream_ref = stream(file);
        fflush(file);
        if path.is_null() {
            stream_ref.readable = readable;
            stream_ref.writable = writable;
            return file;
        }
        let _ = platform::close(stream_ref.fd);
        let fd = c_result(platform::open_at(AT_FDCWD, path, flags, 0o666));
        if fd < 0 {
            fclose(file);
            return ptr::null_mut();
        }
        // Keep the descriptor number of a standard stream (freopen of stdout
        // should redirect fd 1), as glibc does.
        let wanted = stream_ref.fd;
        let fd = if fd as i32 != wanted && platform::dup3(fd as i32, wanted, 0).is_ok() {
            let _ = platform::close(fd as i32);
            wanted
        } else {
            fd as i32
        };
        stream_ref.fd = fd;
        stream_ref.readable = readable;
        stream_ref.writable = writable;
        stream_ref.end_of_file = false;
        stream_ref.error = false;
        stream_ref.direction = Direction::Idle;
        stream_ref.position = 0;
        stream_ref.length = 0;
        file
    }
}

#[no_mangle]
pub unsafe extern "C" fn tmpfile() -> *mut File {
    let mut template = *b"/tmp/tmpfileXXXXXX\0";
    // SAFETY: a writable template.
    unsafe {
        let fd = super::stdlib::mkstemp(template.as_mut_ptr());
        if fd < 0 {
            return ptr::null_mut();
        }
        let _ = platform::unlink_at(AT_FDCWD, template.as_ptr(), 0);
        new_file(fd, true, true, Buffering::Full)
    }
}

static TEMPORARY_NAME: CGlobal<[u8; 32]> = CGlobal::new([0; 32]);
static TEMPORARY_COUNTER: CGlobal<u32> = CGlobal::new(0);

#[no_mangle]
pub unsafe extern "C" fn tmpnam(buffer: *mut u8) -> *mut u8 {
    let target = if buffer.is_null() { TEMPORARY_NAME.as_ptr() as *mut u8 } else { buffer };
    for _ in 0..100 {
        TEMPORARY_COUNTER.set(TEMPORARY_COUNTER.get().wrapping_add(1));
        let name = alloc::format!("/tmp/t{}_{}\0", platform::getpid(), TEMPORARY_COUNTER.get());
        // SAFETY: names are under 32 bytes (L_tmpnam is 32).
        unsafe {
            if platform::access_at(AT_FDCWD, name.as_ptr(), 0).is_err() {
                memcpy(target, name.as_ptr(), name.len());
                return target;
            }
        }
    }
    ptr::null_mut()
}

#[no_mangle]
pub unsafe extern "C" fn popen(command: *const u8, mode: *const u8) -> *mut File {
    // SAFETY: NUL-terminated strings.
    unsafe {
        let reading = match c_string(mode).first() {
            Some(b'r') => true,
            Some(b'w') => false,
            _ => {
                set_errno(EINVAL);
                return ptr::null_mut();
            }
        };
        let mut fds = [0i32; 2];
        if c_result(platform::pipe2(fds.as_mut_ptr(), 0o2000000)) < 0 {
            return ptr::null_mut();
        }
        let (parent_end, child_end, child_target) = if reading { (fds[0], fds[1], 1) } else { (fds[1], fds[0], 0) };
        flush_all_streams();
        // Both ends are close-on-exec: the shell gets only its end, as its
        // standard output or input (a copy onto itself clears the flag),
        // and no stream of an earlier popen.
        let actions = [platform::SpawnAction::Duplicate { from: child_end, to: child_target }];
        let started = super::posix::spawn_shell(command, &actions, &platform::SpawnAttributes::default());
        let _ = platform::close(child_end);
        let pid = match started {
            Ok(pid) => pid as i32,
            Err(error) => {
                let _ = platform::close(parent_end);
                set_errno(error.0);
                return ptr::null_mut();
            }
        };
        let file = new_file(parent_end, reading, !reading, Buffering::Full);
        (*file).child = pid;
        file
    }
}

#[no_mangle]
pub unsafe extern "C" fn pclose(file: *mut File) -> i32 {
    // SAFETY: a stream from popen.
    unsafe {
        let pid = stream(file).child;
        fclose(file);
        let mut status = 0;
        loop {
            match platform::wait4(pid, &mut status, 0, ptr::null_mut()) {
                Ok(_) => return status,
                Err(error) if error.0 == EINTR => continue,
                Err(error) => {
                    set_errno(error.0);
                    return -1;
                }
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn perror(prefix: *const u8) {
    let message = super::string::error_message(errno());
    let mut text: Vec<u8> = Vec::new();
    // SAFETY: null or NUL-terminated.
    unsafe {
        if !prefix.is_null() && *prefix != 0 {
            text.extend_from_slice(c_string(prefix));
            text.extend_from_slice(b": ");
        }
    }
    text.extend_from_slice(message.as_bytes());
    text.push(b'\n');
    let output = stderr.get();
    if output.is_null() {
        let _ = write_all(2, &text);
    } else {
        // SAFETY: stderr is live.
        write_bytes_to(unsafe { stream(output) }, &text);
    }
}

#[no_mangle]
pub unsafe extern "C" fn remove(path: *const u8) -> i32 {
    // SAFETY: NUL-terminated path.
    unsafe {
        match platform::unlink_at(AT_FDCWD, path, 0) {
            Ok(_) => 0,
            Err(error) if error.0 == EISDIR => c_result(platform::unlink_at(AT_FDCWD, path, 0x200)) as i32,
            Err(error) => {
                set_errno(error.0);
                -1
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn fmemopen(buffer: *mut u8, size: usize, mode: *const u8) -> *mut File {
    // SAFETY: NUL-terminated mode; `buffer` null or `size` bytes.
    unsafe {
        let mode_text = c_string(mode);
        let Some((_, readable, writable)) = parse_mode(mode_text) else {
            set_errno(EINVAL);
            return ptr::null_mut();
        };
        if size == 0 {
            set_errno(EINVAL);
            return ptr::null_mut();
        }
        let owned = buffer.is_null();
        let base = if owned { super::memory::calloc(1, size) } else { buffer };
        if base.is_null() {
            return ptr::null_mut();
        }
        let (length, position) = match mode_text[0] {
            b'r' => (if owned { 0 } else { size }, 0),
            b'w' => {
                *base = 0;
                (0, 0)
            }
            _ => {
                let end = super::string::strnlen(base, size);
                (end, end)
            }
        };
        let file = new_file(-1, readable, writable, Buffering::Full);
        (*file).backend = Backend::FixedMemory { base, size, length, position, owned };
        file
    }
}

#[no_mangle]
pub unsafe extern "C" fn open_memstream(pointer: *mut *mut u8, size: *mut usize) -> *mut File {
    if pointer.is_null() || size.is_null() {
        set_errno(EINVAL);
        return ptr::null_mut();
    }
    let buffer = super::memory::calloc(1, 64);
    if buffer.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the caller's locations are writable.
    unsafe {
        *pointer = buffer;
        *size = 0;
        let file = new_file(-1, false, true, Buffering::Full);
        (*file).backend = Backend::GrowingMemory {
            buffer,
            capacity: 64,
            length: 0,
            position: 0,
            pointer_out: pointer,
            size_out: size,
        };
        file
    }
}

// ---- printf family ----

struct StreamOutput<'a> {
    file: &'a mut File,
    saw_newline: bool,
}

impl Output for StreamOutput<'_> {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        if self.file.buffering == Buffering::Line && !self.saw_newline {
            self.saw_newline = bytes.contains(&b'\n');
        }
        put_bytes(self.file, bytes)
    }
}

fn count_to_int(result: Result<usize, OutputError>) -> i32 {
    match result {
        Ok(count) if count <= i32::MAX as usize => count as i32,
        Ok(_) => {
            set_errno(EOVERFLOW);
            -1
        }
        Err(_) => -1,
    }
}

#[no_mangle]
pub unsafe extern "C" fn vfprintf(file: *mut File, format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    // SAFETY: C's contract: a live stream, a NUL-terminated format whose
    // conversions match the va_list.
    unsafe {
        let file = stream(file);
        let mut output = StreamOutput { file, saw_newline: false };
        let result = format::format(c_string(format_text), &mut VaArguments::new(arguments), &mut output);
        let newline = output.saw_newline;
        let flushed = finish_write(file, newline);
        if flushed != 0 {
            return -1;
        }
        count_to_int(result)
    }
}

#[no_mangle]
pub unsafe extern "C" fn vprintf(format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    // SAFETY: forwarded.
    unsafe { vfprintf(stdout.get(), format_text, arguments) }
}

/// Writes into a caller's buffer of `capacity` bytes, counting everything.
struct BoundedOutput {
    buffer: *mut u8,
    capacity: usize,
    written: usize,
}

impl Output for BoundedOutput {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        let room = self.capacity.saturating_sub(1).saturating_sub(self.written);
        let take = room.min(bytes.len());
        if take > 0 {
            // SAFETY: the caller's buffer has `capacity` bytes.
            unsafe { memcpy(self.buffer.add(self.written), bytes.as_ptr(), take) };
        }
        self.written += take;
        Ok(())
    }
}

#[no_mangle]
pub unsafe extern "C" fn vsnprintf(
    buffer: *mut u8,
    size: usize,
    format_text: *const u8,
    arguments: *mut VaListTag,
) -> i32 {
    let mut output = BoundedOutput { buffer, capacity: size, written: 0 };
    // SAFETY: C's contract.
    let result = unsafe { format::format(c_string(format_text), &mut VaArguments::new(arguments), &mut output) };
    if size > 0 {
        // SAFETY: written < size.
        unsafe { *buffer.add(output.written) = 0 };
    }
    count_to_int(result)
}

#[no_mangle]
pub unsafe extern "C" fn vsprintf(buffer: *mut u8, format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    // SAFETY: C's contract: the buffer is large enough.
    unsafe { vsnprintf(buffer, isize::MAX as usize, format_text, arguments) }
}

#[no_mangle]
pub unsafe extern "C" fn vasprintf(result: *mut *mut u8, format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    let mut output: Vec<u8> = Vec::new();
    // SAFETY: C's contract.
    unsafe {
        let count = count_to_int(format::format(c_string(format_text), &mut VaArguments::new(arguments), &mut output));
        if count < 0 {
            return -1;
        }
        let block = malloc(output.len() + 1);
        if block.is_null() {
            return -1;
        }
        memcpy(block, output.as_ptr(), output.len());
        *block.add(output.len()) = 0;
        *result = block;
        count
    }
}

#[no_mangle]
pub unsafe extern "C" fn vdprintf(fd: i32, format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    let mut output: Vec<u8> = Vec::new();
    // SAFETY: C's contract.
    let count =
        count_to_int(unsafe { format::format(c_string(format_text), &mut VaArguments::new(arguments), &mut output) });
    if count < 0 || write_all(fd, &output).is_err() {
        return -1;
    }
    count
}

// ---- scanf family ----

struct StringInput {
    text: *const u8,
    index: usize,
}

impl Input for StringInput {
    fn peek(&mut self) -> Option<u8> {
        // SAFETY: NUL-terminated; we never step past the NUL.
        let byte = unsafe { *self.text.add(self.index) };
        if byte == 0 {
            None
        } else {
            Some(byte)
        }
    }
    fn advance(&mut self) {
        self.index += 1;
    }
}

struct StreamInput<'a>(&'a mut File);

impl Input for StreamInput<'_> {
    fn peek(&mut self) -> Option<u8> {
        let byte = get_byte(self.0);
        if byte == EOF {
            return None;
        }
        // SAFETY: a live stream; get_byte just consumed a byte we push back.
        unsafe { ungetc(byte, self.0) };
        Some(byte as u8)
    }
    fn advance(&mut self) {
        get_byte(self.0);
    }
}

struct VaDestinations {
    arguments: VaArguments,
    text: *mut u8,
    text_length: usize,
    /// The current text target is a `wchar_t` array.
    text_wide: bool,
}

/// Converts a double to the x87 80-bit format (exact).
fn double_to_extended(value: f64) -> [u8; 10] {
    let bits = value.to_bits();
    let sign = ((bits >> 63) as u16) << 15;
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, biased): (u64, u16) = if exponent == 0x7ff {
        (1u64 << 63 | fraction << 11, 0x7fff)
    } else if exponent == 0 {
        if fraction == 0 {
            (0, 0)
        } else {
            let shift = fraction.leading_zeros();
            // value = fraction * 2^-1074 = (fraction << shift) * 2^(-1074 - shift)
            (fraction << shift, (-1074 - shift as i32 + 63 + 16383) as u16)
        }
    } else {
        (1u64 << 63 | fraction << 11, (exponent - 1023 + 16383) as u16)
    };
    let mut bytes = [0u8; 10];
    bytes[..8].copy_from_slice(&mantissa.to_le_bytes());
    bytes[8..].copy_from_slice(&(biased | sign).to_le_bytes());
    bytes
}

impl Destinations for VaDestinations {
    fn store_signed(&mut self, length: Length, value: i64) {
        let target: *mut u8 = self.arguments.next_pointer();
        // SAFETY: the format promises a pointer of the length's type.
        unsafe { store_integer(target, length, value as u64) }
    }
    fn store_unsigned(&mut self, length: Length, value: u64) {
        let target: *mut u8 = self.arguments.next_pointer();
        // SAFETY: as store_signed.
        unsafe { store_integer(target, length, value) }
    }
    fn store_float(&mut self, length: Length, value: f64) {
        let target: *mut u8 = self.arguments.next_pointer();
        // SAFETY: float*, double* or long double* by the length.
        unsafe {
            match length {
                Length::Long => *(target as *mut f64) = value,
                Length::LongDouble => {
                    memcpy(target, double_to_extended(value).as_ptr(), 10);
                }
                _ => *(target as *mut f32) = value as f32,
            };
        }
    }
    fn store_pointer(&mut self, value: usize) {
        let target: *mut usize = self.arguments.next_pointer();
        // SAFETY: %p stores through a void**.
        unsafe { *target = value }
    }
    fn begin_text(&mut self, wide: bool) {
        self.text = self.arguments.next_pointer();
        self.text_length = 0;
        self.text_wide = wide;
    }
    fn push_text(&mut self, byte: u8) {
        // SAFETY: the format's width (or the caller's care) bounds the text;
        // a wide target holds 4-byte wchar_t units.
        unsafe {
            if self.text_wide {
                (self.text as *mut i32).add(self.text_length).write_unaligned(byte as i32);
            } else {
                *self.text.add(self.text_length) = byte;
            }
        }
        self.text_length += 1;
    }
    fn end_text(&mut self, terminate: bool) {
        if terminate {
            // SAFETY: as push_text, one more unit for the terminator.
            unsafe {
                if self.text_wide {
                    (self.text as *mut i32).add(self.text_length).write_unaligned(0);
                } else {
                    *self.text.add(self.text_length) = 0;
                }
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn vsscanf(text: *const u8, format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    // SAFETY: the caller's live va_list.
    let mut destinations = VaDestinations {
        arguments: unsafe { VaArguments::new(arguments) },
        text: ptr::null_mut(),
        text_length: 0,
        text_wide: false,
    };
    // SAFETY: C's contract.
    unsafe { scan::scan(c_string(format_text), &mut StringInput { text, index: 0 }, &mut destinations) }
}

#[no_mangle]
pub unsafe extern "C" fn vfscanf(file: *mut File, format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    // SAFETY: the caller's live va_list.
    let mut destinations = VaDestinations {
        arguments: unsafe { VaArguments::new(arguments) },
        text: ptr::null_mut(),
        text_length: 0,
        text_wide: false,
    };
    // SAFETY: C's contract.
    unsafe { scan::scan(c_string(format_text), &mut StreamInput(stream(file)), &mut destinations) }
}

#[no_mangle]
pub unsafe extern "C" fn vscanf(format_text: *const u8, arguments: *mut VaListTag) -> i32 {
    // SAFETY: forwarded.
    unsafe { vfscanf(stdin.get(), format_text, arguments) }
}
