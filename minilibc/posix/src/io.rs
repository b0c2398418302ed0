//! Buffered standard output and error (`print!`, `println!`, `eprint!`,
//! `eprintln!`), flushed at exit, and a buffered reader.
//!
//! Standard output is line-buffered on a terminal and fully buffered
//! otherwise (decided at the first write); standard error is written at the
//! end of each `eprint!`. The first write error is remembered, later output
//! dropped, and `finish_output` (called at exit) reports it as GNU's
//! programs do ("ls: write error: No space left on device", status 1).
//! A closed pipe (EPIPE: SIGPIPE ignored or blocked, else the signal ended
//! the program first) ends the program at once, reported the same way
//! ("cat: write error: Broken pipe", status 1), as GNU's cat does: nothing
//! will ever read what it goes on making, and a producer of endless output
//! (`cat /dev/zero | head -c 1`) would never end.
//!
//! The buffers are behind a try-lock: a second writer while one is active
//! (a signal handler printing, or another test thread on the host) writes
//! straight to the descriptor instead of waiting or corrupting the buffer.

use crate::error::{Errno, Result};
use crate::fd;
use core::cell::UnsafeCell;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

const CAPACITY: usize = 8192;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Line,
    Full,
}

struct Buffer {
    fd: i32,
    mode: Mode,
    length: usize,
    data: [u8; CAPACITY],
    error: Option<Errno>,
}

impl Buffer {
    const fn new(fd: i32, mode: Mode) -> Buffer {
        Buffer { fd, mode, length: 0, data: [0; CAPACITY], error: None }
    }

    fn flush(&mut self) -> Result<()> {
        let pending = self.length;
        self.length = 0;
        if let Some(error) = self.error {
            return Err(error);
        }
        if let Err(error) = fd::write_all(self.fd, &self.data[..pending]) {
            self.error = Some(error);
            return Err(error);
        }
        Ok(())
    }

    fn write(&mut self, mut bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.mode == Mode::Undecided {
            self.mode = if fd::is_terminal(self.fd) { Mode::Line } else { Mode::Full };
        }
        while !bytes.is_empty() {
            if self.length == 0 && bytes.len() >= CAPACITY {
                // Nothing waits and this alone fills the buffer: write it directly.
                if let Err(error) = fd::write_all(self.fd, bytes) {
                    self.error = Some(error);
                }
                return;
            }
            let room = CAPACITY - self.length;
            let taken = room.min(bytes.len());
            self.data[self.length..self.length + taken].copy_from_slice(&bytes[..taken]);
            self.length += taken;
            bytes = &bytes[taken..];
            if self.length == CAPACITY && self.flush().is_err() {
                return;
            }
        }
        if self.mode == Mode::Line && self.data[..self.length].contains(&b'\n') {
            let _ = self.flush();
        }
    }
}

/// A buffer behind a try-lock (see the module comment).
struct Shared {
    busy: AtomicBool,
    buffer: UnsafeCell<Buffer>,
}

// SAFETY: `busy` admits one user of `buffer` at a time; others bypass it.
unsafe impl Sync for Shared {}

impl Shared {
    const fn new(fd: i32, mode: Mode) -> Shared {
        Shared { busy: AtomicBool::new(false), buffer: UnsafeCell::new(Buffer::new(fd, mode)) }
    }

    /// Runs `body` on the buffer, or `bypass` on the descriptor when it is in use.
    fn with<R>(&self, body: impl FnOnce(&mut Buffer) -> R, bypass: impl FnOnce(i32) -> R) -> R {
        if self.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            // SAFETY: only the immutable `fd` field is read, never written after construction.
            let fd = unsafe { (*self.buffer.get()).fd };
            return bypass(fd);
        }
        // SAFETY: the lock is ours, so this is the only reference.
        let result = body(unsafe { &mut *self.buffer.get() });
        self.busy.store(false, Ordering::Release);
        result
    }
}

static STANDARD_OUTPUT: Shared = Shared::new(1, Mode::Undecided);
static STANDARD_ERROR: Shared = Shared::new(2, Mode::Full);

/// The program name used in messages (`ls: ...`); set by the entry point
/// from argv[0], changed by a multi-call program for the tool it runs.
struct ProgramName(UnsafeCell<&'static [u8]>);
// SAFETY: written once at start (single-threaded), read afterwards.
unsafe impl Sync for ProgramName {}
static PROGRAM_NAME: ProgramName = ProgramName(UnsafeCell::new(b""));

/// Sets the name `finish_output` and the panic handler print.
pub fn set_program_name(name: &'static [u8]) {
    // SAFETY: see `ProgramName`.
    unsafe { *PROGRAM_NAME.0.get() = name };
}

/// The program name for messages.
pub fn program_name() -> &'static [u8] {
    // SAFETY: see `ProgramName`.
    unsafe { *PROGRAM_NAME.0.get() }
}

/// Standard output, buffered. `write!`/`writeln!` work on it, and
/// `write_bytes` takes raw bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stdout;

/// Standard error: `eprint!` writes a whole message at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stderr;

pub fn stdout() -> Stdout {
    Stdout
}

pub fn stderr() -> Stderr {
    Stderr
}

impl Stdout {
    /// Queues `bytes`; errors surface at `flush` or at exit, but a closed
    /// pipe ends the program (see the module comment).
    pub fn write_bytes(&self, bytes: &[u8]) {
        STANDARD_OUTPUT.with(
            |buffer| buffer.write(bytes),
            |fd| {
                let _ = fd::write_all(fd, bytes);
            },
        );
        self.end_if_pipe_closed();
    }

    /// Writes out what is buffered; the first write error, if any (a
    /// closed pipe ends the program instead).
    pub fn flush(&self) -> Result<()> {
        let result = STANDARD_OUTPUT.with(Buffer::flush, |_| Ok(()));
        self.end_if_pipe_closed();
        result
    }

    /// Exits with status 1 and the write error's report if standard output
    /// is a pipe nobody reads any more. Called with the buffer's lock free,
    /// so the exit's `finish_output` sees the error.
    fn end_if_pipe_closed(&self) {
        if self.error() == Some(Errno(crate::EPIPE)) {
            crate::process::exit(1);
        }
    }

    /// The first write error so far, if any.
    pub fn error(&self) -> Option<Errno> {
        STANDARD_OUTPUT.with(|buffer| buffer.error, |_| None)
    }
}

impl Stderr {
    pub fn write_bytes(&self, bytes: &[u8]) {
        STANDARD_ERROR.with(
            |buffer| buffer.write(bytes),
            |fd| {
                let _ = fd::write_all(fd, bytes);
            },
        );
    }

    pub fn flush(&self) -> Result<()> {
        STANDARD_ERROR.with(Buffer::flush, |_| Ok(()))
    }
}

impl fmt::Write for Stdout {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.write_bytes(text.as_bytes());
        Ok(())
    }
}

impl fmt::Write for Stderr {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.write_bytes(text.as_bytes());
        Ok(())
    }
}

#[doc(hidden)]
pub fn print_arguments(arguments: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Stdout, arguments);
}

#[doc(hidden)]
pub fn eprint_arguments(arguments: fmt::Arguments<'_>) {
    // Output first, so interleaved messages appear in the order they were made.
    let _ = Stdout.flush();
    let _ = fmt::Write::write_fmt(&mut Stderr, arguments);
    let _ = Stderr.flush();
}

/// Writes out both standard buffers (before fork, exec or spawn, so the
/// child neither repeats nor loses them).
pub fn flush_standard_streams() {
    let _ = Stdout.flush();
    let _ = Stderr.flush();
}

/// Flushes the standard buffers at exit. A write error on standard output
/// (a closed pipe too: SIGPIPE did not end the program, so it was ignored or
/// blocked, and GNU's programs then say so) is reported as GNU's programs
/// do, and turns a success `status` into 1; returns the status to exit with.
pub fn finish_output(status: i32) -> i32 {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    let result = STANDARD_OUTPUT.with(Buffer::flush, |_| Ok(()));
    let _ = Stderr.flush();
    match result {
        Err(error) => {
            if REPORTED.swap(true, Ordering::Relaxed) {
                return if status == 0 { 1 } else { status };
            }
            let name = program_name();
            let _ = fd::write_all(2, name);
            let _ = fd::write_all(2, if name.is_empty() { b"write error: " } else { b": write error: " });
            let _ = fd::write_all(2, error.message().as_bytes());
            let _ = fd::write_all(2, b"\n");
            if status == 0 {
                1
            } else {
                status
            }
        }
        _ => status,
    }
}

/// Prints to standard output (buffered).
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => { $crate::io::print_arguments(format_args!($($argument)*)) };
}

/// Prints a line to standard output (buffered).
#[macro_export]
macro_rules! println {
    () => { $crate::io::stdout().write_bytes(b"\n") };
    ($($argument:tt)*) => {{
        $crate::io::print_arguments(format_args!($($argument)*));
        $crate::io::stdout().write_bytes(b"\n");
    }};
}

/// Prints to standard error (written at once).
#[macro_export]
macro_rules! eprint {
    ($($argument:tt)*) => { $crate::io::eprint_arguments(format_args!($($argument)*)) };
}

/// Prints a line to standard error (written at once).
#[macro_export]
macro_rules! eprintln {
    () => { $crate::io::eprint_arguments(format_args!("\n")) };
    ($($argument:tt)*) => { $crate::io::eprint_arguments(format_args!("{}\n", format_args!($($argument)*))) };
}

/// Something bytes are read from: a descriptor, or anything a test provides.
pub trait Source {
    /// Reads up to `buffer.len()` bytes; 0 at the end.
    fn read_into(&mut self, buffer: &mut [u8]) -> Result<usize>;
}

impl Source for fd::Fd {
    fn read_into(&mut self, buffer: &mut [u8]) -> Result<usize> {
        self.read(buffer)
    }
}

/// A descriptor owned elsewhere (standard input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawFd(pub i32);

impl Source for RawFd {
    fn read_into(&mut self, buffer: &mut [u8]) -> Result<usize> {
        fd::read(self.0, buffer)
    }
}

impl Source for &[u8] {
    fn read_into(&mut self, buffer: &mut [u8]) -> Result<usize> {
        let count = buffer.len().min(self.len());
        buffer[..count].copy_from_slice(&self[..count]);
        *self = &self[count..];
        Ok(count)
    }
}

/// A buffered reader over a `Source`: lines, delimited records, or blocks.
pub struct BufferedReader<S: Source> {
    source: S,
    data: alloc::vec::Vec<u8>,
    start: usize,
    end: usize,
}

impl<S: Source> BufferedReader<S> {
    pub fn new(source: S) -> BufferedReader<S> {
        BufferedReader::with_capacity(source, 64 * 1024)
    }

    pub fn with_capacity(source: S, capacity: usize) -> BufferedReader<S> {
        BufferedReader { source, data: alloc::vec![0; capacity.max(1)], start: 0, end: 0 }
    }

    /// The buffered bytes, reading more when none are left (empty at the end).
    pub fn fill(&mut self) -> Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = self.source.read_into(&mut self.data)?;
        }
        Ok(&self.data[self.start..self.end])
    }

    /// Marks `count` buffered bytes as used.
    pub fn consume(&mut self, count: usize) {
        self.start = (self.start + count).min(self.end);
    }

    /// Appends bytes up to and including `delimiter` (or to the end) to
    /// `into`; returns how many were appended (0 at the end).
    pub fn read_until(&mut self, delimiter: u8, into: &mut alloc::vec::Vec<u8>) -> Result<usize> {
        let mut total = 0;
        loop {
            let available = self.fill()?;
            if available.is_empty() {
                return Ok(total);
            }
            match available.iter().position(|&byte| byte == delimiter) {
                Some(index) => {
                    into.extend_from_slice(&available[..=index]);
                    self.consume(index + 1);
                    return Ok(total + index + 1);
                }
                None => {
                    let count = available.len();
                    into.extend_from_slice(available);
                    self.consume(count);
                    total += count;
                }
            }
        }
    }

    /// `read_until(b'\n')`.
    pub fn read_line(&mut self, into: &mut alloc::vec::Vec<u8>) -> Result<usize> {
        self.read_until(b'\n', into)
    }

    /// Reads up to `buffer.len()` bytes.
    pub fn read(&mut self, buffer: &mut [u8]) -> Result<usize> {
        let available = self.fill()?;
        let count = available.len().min(buffer.len());
        buffer[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }

    /// Everything left.
    pub fn read_to_end(&mut self, into: &mut alloc::vec::Vec<u8>) -> Result<usize> {
        let mut total = 0;
        loop {
            let available = self.fill()?;
            if available.is_empty() {
                return Ok(total);
            }
            let count = available.len();
            into.extend_from_slice(available);
            self.consume(count);
            total += count;
        }
    }

    /// The source back.
    pub fn into_inner(self) -> S {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A source that hands out at most `chunk` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Source for Trickle<'_> {
        fn read_into(&mut self, buffer: &mut [u8]) -> Result<usize> {
            let count = buffer.len().min(self.data.len()).min(self.chunk);
            buffer[..count].copy_from_slice(&self.data[..count]);
            self.data = &self.data[count..];
            Ok(count)
        }
    }

    #[test]
    fn lines_come_back_with_their_newlines() {
        let mut reader = BufferedReader::with_capacity(&b"one\ntwo\n\nlast"[..], 3);
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            lines.push(line);
        }
        assert_eq!(lines, [&b"one\n"[..], b"two\n", b"\n", b"last"]);
    }

    proptest! {
        #[test]
        fn records_rebuild_the_input(
            data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(0u8)], 0..300),
            capacity in 1usize..20,
            chunk in 1usize..20,
            delimiter in prop_oneof![Just(b'\n'), Just(0u8)],
        ) {
            let mut reader = BufferedReader::with_capacity(Trickle { data: &data, chunk }, capacity);
            let mut rebuilt = Vec::new();
            loop {
                let mut record = Vec::new();
                let count = reader.read_until(delimiter, &mut record).unwrap();
                prop_assert_eq!(count, record.len());
                if count == 0 {
                    break;
                }
                // Only the last record may lack the delimiter, and none holds it inside.
                prop_assert!(!record[..record.len() - 1].contains(&delimiter));
                rebuilt.extend_from_slice(&record);
            }
            prop_assert_eq!(rebuilt, data);
        }
    }
}
