//! The kernel log: a bounded ring of numbered lines.
//!
//! The kernel writes everything it says (log records, `debug_print` text,
//! test output) into a [`LogRing`] as a byte stream; the ring cuts it into
//! lines and keeps the newest ones that fit in its fixed storage. Every line
//! gets a **sequence number**, one more than the line before, counted from
//! the first line of the boot; a line is never changed once complete.
//!
//! A reader (the console server, `dmesg`) keeps the sequence of the next line
//! it wants and asks for the lines from there ([`LogRing::read`]): it gets
//! whole lines, each ending in `\n`, as many as fit in its buffer, and the
//! sequence to ask for next. Lines older than the oldest kept were
//! overwritten: the copy then starts at the oldest line, and the reader
//! sees how many it missed in [`LogRead::lost`] (or, through the trap, from
//! the numbers: see `docs/console.md`).
//!
//! Invariants (checked by [`LogRing::check`] in the tests): the records fill
//! `used` bytes from `head` around the storage, each a two-byte length and
//! that many bytes ending in `\n` (at most [`LINE_MAX`] bytes, none of them
//! `\n` but the last); there are `next - first` of them. Nothing allocates;
//! every operation is bounded by the storage size.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

/// The longest line the ring keeps, with its `\n` (mach-abi's
/// `KERNEL_LOG_LINE_MAX`); a longer one is cut into lines of this length.
pub const LINE_MAX: usize = mach_abi::KERNEL_LOG_LINE_MAX;

/// Bytes of storage each record takes besides its text: its length.
const RECORD_HEADER: usize = 2;

/// What a read copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRead {
    /// Sequence of the first line copied (or that would have been).
    pub first: u64,
    /// Sequence to ask for next: one past the last line copied.
    pub next: u64,
    /// Bytes copied: whole lines, each ending in `\n`.
    pub length: usize,
    /// Lines asked for that were overwritten before the read.
    pub lost: u64,
}

/// Why a read copied nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogReadError {
    /// The sequence asked for is past the newest line (`next` is the newest
    /// plus one): a reader's number must come from an earlier read.
    Future { next: u64 },
    /// The buffer is not empty but too small for the next line, which needs
    /// `needed` bytes (at most [`LINE_MAX`]).
    TooSmall { needed: usize },
}

/// The ring, with `CAPACITY` bytes of storage (records and their lengths).
pub struct LogRing<const CAPACITY: usize> {
    storage: [u8; CAPACITY],
    /// Offset of the oldest record.
    head: usize,
    /// Bytes the records take.
    used: usize,
    /// Sequence of the oldest record kept.
    first: u64,
    /// Sequence the next complete line gets.
    next: u64,
    /// The line being written, not yet ended.
    partial: [u8; LINE_MAX],
    partial_length: usize,
}

impl<const CAPACITY: usize> Default for LogRing<CAPACITY> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CAPACITY: usize> LogRing<CAPACITY> {
    const FITS: () = assert!(CAPACITY >= RECORD_HEADER + LINE_MAX, "the ring must hold its longest line");

    /// An empty ring (usable in a `static`).
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS;
        LogRing {
            storage: [0; CAPACITY],
            head: 0,
            used: 0,
            first: 0,
            next: 0,
            partial: [0; LINE_MAX],
            partial_length: 0,
        }
    }

    /// Sequence of the oldest line kept (equal to [`LogRing::next_sequence`]
    /// when the ring is empty).
    pub fn first_sequence(&self) -> u64 {
        self.first
    }

    /// Sequence the next complete line will get.
    pub fn next_sequence(&self) -> u64 {
        self.next
    }

    /// Bytes of a line written but not yet ended (not readable yet).
    pub fn partial_length(&self) -> usize {
        self.partial_length
    }

    /// The line written but not yet ended.
    pub fn partial_line(&self) -> &[u8] {
        &self.partial[..self.partial_length]
    }

    /// Appends text. Each `\n` ends a line; a line reaching [`LINE_MAX`]
    /// bytes is ended there (before an unfinished UTF-8 character, which
    /// starts the next line) and the text goes on in the next one.
    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                self.end_line();
                continue;
            }
            if self.partial_length == LINE_MAX - 1 {
                self.cut_long_line();
            }
            self.partial[self.partial_length] = byte;
            self.partial_length += 1;
        }
    }

    /// Ends the line being written (if any text is pending), as if `\n`
    /// had been written.
    pub fn end_partial_line(&mut self) {
        if self.partial_length > 0 {
            self.end_line();
        }
    }

    fn end_line(&mut self) {
        self.partial[self.partial_length] = b'\n';
        let length = self.partial_length + 1;
        self.push_record(length);
        self.partial_length = 0;
    }

    /// The partial line is full: keep an unfinished UTF-8 character (at most
    /// three bytes) for the next line so both halves stay valid text.
    fn cut_long_line(&mut self) {
        let length = self.partial_length;
        let mut continuation = 0;
        while continuation < 3 && continuation < length && self.partial[length - 1 - continuation] & 0xc0 == 0x80 {
            continuation += 1;
        }
        let keep = if continuation < length {
            let width = match self.partial[length - 1 - continuation] {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            };
            if width > continuation + 1 {
                continuation + 1
            } else {
                0
            }
        } else {
            0
        };
        let split = self.partial_length - keep;
        let mut carried = [0u8; 3];
        carried[..keep].copy_from_slice(&self.partial[split..self.partial_length]);
        self.partial_length = split;
        self.end_line();
        self.partial[..keep].copy_from_slice(&carried[..keep]);
        self.partial_length = keep;
    }

    /// Stores `partial[..length]` as the newest record, dropping the oldest
    /// ones until it fits.
    fn push_record(&mut self, length: usize) {
        let needed = RECORD_HEADER + length;
        while CAPACITY - self.used < needed {
            self.drop_oldest();
        }
        let mut at = (self.head + self.used) % CAPACITY;
        for byte in (length as u16).to_le_bytes() {
            self.storage[at] = byte;
            at = (at + 1) % CAPACITY;
        }
        for index in 0..length {
            self.storage[at] = self.partial[index];
            at = (at + 1) % CAPACITY;
        }
        self.used += needed;
        self.next += 1;
    }

    fn record_length(&self, at: usize) -> usize {
        u16::from_le_bytes([self.storage[at], self.storage[(at + 1) % CAPACITY]]) as usize
    }

    fn drop_oldest(&mut self) {
        let size = RECORD_HEADER + self.record_length(self.head);
        self.head = (self.head + size) % CAPACITY;
        self.used -= size;
        self.first += 1;
    }

    /// Offset of the record with sequence `sequence` (which must be kept).
    fn offset_of(&self, sequence: u64) -> usize {
        let mut at = self.head;
        for _ in self.first..sequence {
            at = (at + RECORD_HEADER + self.record_length(at)) % CAPACITY;
        }
        at
    }

    /// Bytes the lines from `sequence` on take as text (what a read from
    /// there needs to get them all).
    pub fn bytes_from(&self, sequence: u64) -> usize {
        let start = sequence.max(self.first);
        if start >= self.next {
            return 0;
        }
        let mut at = self.offset_of(start);
        let mut total = 0;
        for _ in start..self.next {
            let length = self.record_length(at);
            total += length;
            at = (at + RECORD_HEADER + length) % CAPACITY;
        }
        total
    }

    /// Copies the lines from `sequence` on into `buffer`: whole lines, as
    /// many as fit. An empty buffer copies nothing and fails nothing (it
    /// tells `first` and what was lost; `next` is then `first`).
    pub fn read(&self, sequence: u64, buffer: &mut [u8]) -> Result<LogRead, LogReadError> {
        if sequence > self.next {
            return Err(LogReadError::Future { next: self.next });
        }
        let start = sequence.max(self.first);
        let lost = start - sequence;
        if buffer.is_empty() {
            return Ok(LogRead { first: start, next: start, length: 0, lost });
        }
        let mut at = if start < self.next { self.offset_of(start) } else { 0 };
        let mut copied = 0;
        let mut current = start;
        while current < self.next {
            let length = self.record_length(at);
            if copied + length > buffer.len() {
                if copied == 0 {
                    return Err(LogReadError::TooSmall { needed: length });
                }
                break;
            }
            let mut from = (at + RECORD_HEADER) % CAPACITY;
            for slot in &mut buffer[copied..copied + length] {
                *slot = self.storage[from];
                from = (from + 1) % CAPACITY;
            }
            copied += length;
            current += 1;
            at = from;
        }
        Ok(LogRead { first: start, next: current, length: copied, lost })
    }

    /// Checks the invariants in the crate's header; `Err` says which broke.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.head >= CAPACITY || self.used > CAPACITY {
            return Err("head or used out of the storage");
        }
        if self.first > self.next {
            return Err("first after next");
        }
        let mut at = self.head;
        let mut walked = 0;
        let mut records = 0u64;
        while walked < self.used {
            let length = self.record_length(at);
            if length == 0 || length > LINE_MAX {
                return Err("record length out of range");
            }
            if walked + RECORD_HEADER + length > self.used {
                return Err("record runs past the used bytes");
            }
            for index in 0..length {
                let byte = self.storage[(at + RECORD_HEADER + index) % CAPACITY];
                if (byte == b'\n') != (index == length - 1) {
                    return Err("a record must end with its only newline");
                }
            }
            walked += RECORD_HEADER + length;
            at = (at + RECORD_HEADER + length) % CAPACITY;
            records += 1;
        }
        if records != self.next - self.first {
            return Err("record count differs from next - first");
        }
        if self.partial_length >= LINE_MAX || self.partial[..self.partial_length].contains(&b'\n') {
            return Err("partial line too long or holding a newline");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
