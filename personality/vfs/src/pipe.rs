//! Pipes and FIFOs as a state machine: a bounded byte queue and the
//! counts of open read and write ends. Who waits, and for what, is the
//! server's business (`server`); this says what a read or write can do
//! now.
//!
//! POSIX's rules, as Linux applies them:
//! - a read takes what is there (up to the count asked); on an empty pipe
//!   it is end-of-file when no writer is left, else it would block;
//! - a write with no reader left is `EPIPE`; a write of at most
//!   [`PIPE_BUF`] bytes is atomic (all or nothing: it waits for room for
//!   all of it); a larger one takes what room there is and waits for the
//!   rest (a non-blocking one returns the part written, or `EAGAIN`);
//! - readiness: readable when data is queued or no writer is left
//!   (end-of-file, `POLLHUP`); writable when at least [`PIPE_BUF`] bytes
//!   are free, `POLLERR` with no reader.
//!
//! The queue holds the bytes of small writes and, whole, the *runs* the
//! transport received as out-of-line pages (a large write's region,
//! [`PipeRun`]): a run goes in and comes out without a byte copied when a
//! read takes exactly it ([`Pipe::whole_run`], [`Pipe::take_run`]); any
//! other read copies from the queue as from a ring.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::any::Any;

/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// A pipe's capacity (Linux's default: 16 pages).
pub const PIPE_CAPACITY: usize = 65536;

/// A write's data kept whole in the queue: the transport's received pages
/// (the core only reads them; the transport gets them back, by
/// [`PipeRun::into_any`], to send them on as they are).
pub trait PipeRun: Any {
    fn bytes(&self) -> &[u8];
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    fn as_any(&self) -> &dyn Any;
}

impl core::fmt::Debug for dyn PipeRun {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "PipeRun({})", self.bytes().len())
    }
}

/// Plain bytes as a run (the host tests' transport; any write may come so).
impl PipeRun for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What a read can do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadState {
    /// This many bytes are there (at least 1).
    Data(usize),
    EndOfFile,
    WouldBlock,
}

/// What a write of some length can do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteState {
    /// This many bytes fit now (at least 1; all of them for an atomic write).
    Room(usize),
    /// No reader is left.
    Broken,
    WouldBlock,
}

/// A part of the queue, in write order.
enum Segment {
    Bytes(Vec<u8>),
    Run(Box<dyn PipeRun>),
}

impl Segment {
    fn bytes(&self) -> &[u8] {
        match self {
            Segment::Bytes(bytes) => bytes,
            Segment::Run(run) => run.bytes(),
        }
    }
}

impl core::fmt::Debug for Segment {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Segment::Bytes(bytes) => write!(formatter, "Bytes({})", bytes.len()),
            Segment::Run(run) => write!(formatter, "{run:?}"),
        }
    }
}

/// Bytes of small writes gathered in one segment up to this size.
const BYTES_SEGMENT: usize = PIPE_BUF * 4;

/// One pipe.
#[derive(Debug)]
pub struct Pipe {
    segments: VecDeque<Segment>,
    /// Bytes of the first segment already read.
    head: usize,
    queued: usize,
    capacity: usize,
    readers: u32,
    writers: u32,
}

impl Default for Pipe {
    fn default() -> Self {
        Pipe::new(PIPE_CAPACITY)
    }
}

impl Pipe {
    /// An empty pipe holding at most `capacity` bytes, with no ends open.
    pub fn new(capacity: usize) -> Self {
        Pipe { segments: VecDeque::new(), head: 0, queued: 0, capacity: capacity.max(PIPE_BUF), readers: 0, writers: 0 }
    }

    pub fn readers(&self) -> u32 {
        self.readers
    }

    pub fn writers(&self) -> u32 {
        self.writers
    }

    /// Bytes queued.
    pub fn queued(&self) -> usize {
        self.queued
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn room(&self) -> usize {
        self.capacity - self.queued
    }

    pub fn open_reader(&mut self) {
        self.readers = self.readers.saturating_add(1);
    }

    pub fn open_writer(&mut self) {
        self.writers = self.writers.saturating_add(1);
    }

    pub fn close_reader(&mut self) {
        self.readers = self.readers.saturating_sub(1);
        if self.readers == 0 {
            // Nobody will ever read what is queued.
            self.segments.clear();
            self.head = 0;
            self.queued = 0;
        }
    }

    pub fn close_writer(&mut self) {
        self.writers = self.writers.saturating_sub(1);
    }

    /// What a read may do now.
    pub fn read_state(&self) -> ReadState {
        match (self.queued, self.writers) {
            (0, 0) => ReadState::EndOfFile,
            (0, _) => ReadState::WouldBlock,
            (queued, _) => ReadState::Data(queued),
        }
    }

    /// What a write of `length` bytes (`length` > 0) may do now.
    pub fn write_state(&self, length: usize) -> WriteState {
        if self.readers == 0 {
            return WriteState::Broken;
        }
        let room = self.room();
        if length <= PIPE_BUF {
            if room >= length {
                WriteState::Room(length)
            } else {
                WriteState::WouldBlock
            }
        } else if room > 0 {
            WriteState::Room(room.min(length))
        } else {
            WriteState::WouldBlock
        }
    }

    /// Copies the first `out.len()` queued bytes (at most what is queued)
    /// into `out` without taking them; returns how many.
    pub fn copy_out(&self, out: &mut [u8]) -> usize {
        let length = out.len().min(self.queued);
        let mut done = 0;
        let mut skip = self.head;
        for segment in &self.segments {
            if done == length {
                break;
            }
            let bytes = &segment.bytes()[skip..];
            skip = 0;
            let part = bytes.len().min(length - done);
            out[done..done + part].copy_from_slice(&bytes[..part]);
            done += part;
        }
        done
    }

    /// Takes `length` bytes that [`Pipe::copy_out`] showed.
    pub fn consume(&mut self, length: usize) {
        let mut left = length.min(self.queued);
        self.queued -= left;
        while left > 0 {
            let Some(first) = self.segments.front() else { break };
            let available = first.bytes().len() - self.head;
            if left < available {
                self.head += left;
                return;
            }
            left -= available;
            self.segments.pop_front();
            self.head = 0;
        }
    }

    /// True when a read of `count` bytes would take exactly the first
    /// segment, a whole run: the transport may send that run as it is
    /// ([`Pipe::take_run`]) instead of copying it.
    pub fn whole_run(&self, count: usize) -> bool {
        match self.segments.front() {
            Some(Segment::Run(run)) => self.head == 0 && run.bytes().len() == count.min(self.queued),
            _ => false,
        }
    }

    /// Takes the first segment, a whole run ([`Pipe::whole_run`] said so).
    pub fn take_run(&mut self) -> Option<Box<dyn PipeRun>> {
        if self.head != 0 || !matches!(self.segments.front(), Some(Segment::Run(_))) {
            return None;
        }
        let Some(Segment::Run(run)) = self.segments.pop_front() else { return None };
        self.queued -= run.bytes().len();
        Some(run)
    }

    /// Puts back a run [`Pipe::take_run`] gave, first again (its reader
    /// never got it).
    pub fn put_back_run(&mut self, run: Box<dyn PipeRun>) {
        if self.head != 0 {
            // The first segment was read into meanwhile (the caller's
            // contract says it is not): its rest becomes bytes of its own,
            // so the run goes before it with nothing skipped.
            if let Some(first) = self.segments.pop_front() {
                let rest = first.bytes()[self.head..].to_vec();
                self.segments.push_front(Segment::Bytes(rest));
            }
            self.head = 0;
        }
        self.queued += run.bytes().len();
        self.segments.push_front(Segment::Run(run));
    }

    /// Appends bytes; returns how many fit (the caller asked
    /// [`Pipe::write_state`] first, so normally all).
    pub fn push(&mut self, data: &[u8]) -> usize {
        let take = data.len().min(self.room());
        if take == 0 {
            return 0;
        }
        match self.segments.back_mut() {
            Some(Segment::Bytes(bytes)) if bytes.len() + take <= BYTES_SEGMENT => {
                bytes.extend_from_slice(&data[..take])
            }
            _ => self.segments.push_back(Segment::Bytes(data[..take].to_vec())),
        }
        self.queued += take;
        take
    }

    /// Appends a whole run if all of it fits (the caller asked
    /// [`Pipe::write_state`]); else gives it back.
    pub fn push_run(&mut self, run: Box<dyn PipeRun>) -> Result<(), Box<dyn PipeRun>> {
        let length = run.bytes().len();
        if length == 0 || length > self.room() {
            return Err(run);
        }
        self.queued += length;
        self.segments.push_back(Segment::Run(run));
        Ok(())
    }

    /// Takes back the last `length` bytes pushed (a write whose client
    /// could not be told it happened). Only valid right after the push.
    pub fn unpush(&mut self, length: usize) {
        let mut left = length.min(self.queued);
        while left > 0 {
            let start = if self.segments.len() == 1 { self.head } else { 0 };
            let Some(last) = self.segments.back_mut() else { break };
            let available = last.bytes().len() - start;
            if available <= left {
                self.segments.pop_back();
                if self.segments.is_empty() {
                    self.head = 0;
                }
                self.queued -= available;
                left -= available;
                continue;
            }
            let keep = last.bytes().len() - left;
            match last {
                Segment::Bytes(bytes) => bytes.truncate(keep),
                // A run is pushed whole, so taking back its push takes it
                // whole; a shorter take keeps its first bytes as bytes.
                Segment::Run(run) => *last = Segment::Bytes(run.bytes()[..keep].to_vec()),
            }
            self.queued -= left;
            left = 0;
        }
    }

    /// `POLLIN` readiness of the read end (data, or end-of-file).
    pub fn readable(&self) -> bool {
        self.queued > 0 || self.writers == 0
    }

    /// `POLLOUT` readiness of the write end (room for an atomic write).
    pub fn writable(&self) -> bool {
        self.readers > 0 && self.room() >= PIPE_BUF
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn end_of_file_when_the_last_writer_closes() {
        let mut pipe = Pipe::default();
        pipe.open_reader();
        pipe.open_writer();
        assert_eq!(pipe.read_state(), ReadState::WouldBlock);
        assert_eq!(pipe.push(b"hello"), 5);
        pipe.close_writer();
        assert_eq!(pipe.read_state(), ReadState::Data(5));
        pipe.consume(5);
        assert_eq!(pipe.read_state(), ReadState::EndOfFile);
        assert!(pipe.readable());
    }

    #[test]
    fn broken_when_the_last_reader_closes() {
        let mut pipe = Pipe::default();
        pipe.open_reader();
        pipe.open_writer();
        pipe.push(b"lost");
        pipe.close_reader();
        assert_eq!(pipe.write_state(1), WriteState::Broken);
        assert_eq!(pipe.queued(), 0);
        assert!(!pipe.writable());
    }

    #[test]
    fn small_writes_are_atomic_large_ones_partial() {
        let mut pipe = Pipe::new(PIPE_BUF * 2);
        pipe.open_reader();
        pipe.open_writer();
        assert_eq!(pipe.push(&vec![1; PIPE_BUF * 2 - 10]), PIPE_BUF * 2 - 10);
        assert_eq!(pipe.write_state(11), WriteState::WouldBlock, "11 bytes do not fit in 10: wait for all");
        assert_eq!(pipe.write_state(10), WriteState::Room(10));
        assert_eq!(pipe.write_state(PIPE_BUF + 1), WriteState::Room(10), "a large write takes what fits");
        assert!(!pipe.writable());
    }

    #[test]
    fn a_run_read_whole_comes_out_as_it_went_in() {
        let mut pipe = Pipe::default();
        pipe.open_reader();
        pipe.open_writer();
        let run: Vec<u8> = (0..PIPE_CAPACITY).map(|index| index as u8).collect();
        assert!(pipe.push_run(Box::new(run.clone())).is_ok());
        assert_eq!(pipe.queued(), PIPE_CAPACITY);
        assert_eq!(pipe.write_state(1), WriteState::WouldBlock, "the run fills the pipe");
        assert!(pipe.push_run(Box::new(vec![1u8; 1])).is_err(), "no room: the run comes back");
        assert!(!pipe.whole_run(PIPE_CAPACITY - 1), "a shorter read copies");
        assert!(pipe.whole_run(PIPE_CAPACITY * 2), "a longer read takes all there is: the run");
        let taken = pipe.take_run().expect("the run");
        assert_eq!(taken.bytes(), &run[..]);
        assert_eq!(pipe.queued(), 0);
        // A reader that never got it: the run is first again.
        pipe.push(b"after");
        pipe.put_back_run(taken);
        assert_eq!(pipe.queued(), PIPE_CAPACITY + 5);
        let taken = pipe.take_run().expect("the run again");
        let moved = taken.into_any().downcast::<Vec<u8>>().expect("the transport's own type");
        assert_eq!(*moved, run);
        let mut rest = [0u8; 8];
        assert_eq!(pipe.copy_out(&mut rest), 5);
        assert_eq!(&rest[..5], b"after");
    }

    #[test]
    fn a_run_with_more_behind_it_is_copied_by_a_longer_read() {
        let mut pipe = Pipe::default();
        pipe.open_reader();
        pipe.open_writer();
        assert!(pipe.push_run(Box::new(vec![7u8; 10_000])).is_ok());
        pipe.push(b"tail");
        assert!(!pipe.whole_run(20_000), "the read gets the run and the tail: one copy");
        assert!(pipe.whole_run(10_000), "exactly the run");
        let mut out = vec![0u8; 20_000];
        assert_eq!(pipe.copy_out(&mut out), 10_004);
        assert_eq!(&out[10_000..10_004], b"tail");
        pipe.consume(9_999);
        assert!(!pipe.whole_run(5), "a run read into is bytes from now on");
        assert!(pipe.take_run().is_none());
        assert_eq!(pipe.copy_out(&mut out[..5]), 5);
        assert_eq!(&out[..5], b"\x07tail");
    }

    #[derive(Clone, Debug)]
    enum Step {
        Write(usize),
        WriteRun(usize),
        Read(usize),
        /// A read that takes a whole run when it can; `true`: its reader
        /// was gone and the run is put back.
        ReadRun(usize, bool),
        Unpush,
    }

    proptest! {
        /// Bytes come out in the order they went in, none lost or made
        /// up, with a model queue alongside.
        #[test]
        fn the_pipe_is_a_bounded_fifo(steps in proptest::collection::vec(
            prop_oneof![
                (1usize..9000).prop_map(Step::Write),
                (1usize..20000).prop_map(Step::WriteRun),
                (1usize..9000).prop_map(Step::Read),
                ((1usize..20000), any::<bool>()).prop_map(|(count, refused)| Step::ReadRun(count, refused)),
                Just(Step::Unpush),
            ],
            1..200,
        )) {
            let mut pipe = Pipe::new(16384);
            pipe.open_reader();
            pipe.open_writer();
            let mut model: VecDeque<u8> = VecDeque::new();
            let mut counter = 0u8;
            let mut last_push = 0;
            for step in steps {
                match step {
                    Step::Write(length) => {
                        let data: Vec<u8> = (0..length).map(|_| { counter = counter.wrapping_add(1); counter }).collect();
                        last_push = 0;
                        match pipe.write_state(length) {
                            WriteState::Room(room) => {
                                prop_assert!(room >= 1 && room <= length);
                                if length <= PIPE_BUF { prop_assert_eq!(room, length); }
                                let pushed = pipe.push(&data[..room]);
                                prop_assert_eq!(pushed, room);
                                model.extend(&data[..room]);
                                last_push = room;
                            }
                            WriteState::WouldBlock => prop_assert!(16384 - model.len() < length.clamp(1, PIPE_BUF)),
                            WriteState::Broken => prop_assert!(false, "a reader is open"),
                        }
                    }
                    Step::WriteRun(length) => {
                        let data: Vec<u8> = (0..length).map(|_| { counter = counter.wrapping_add(1); counter }).collect();
                        last_push = 0;
                        match pipe.write_state(length) {
                            // As the server does: whole when all fits, else
                            // what fits as bytes.
                            WriteState::Room(room) if room == length => {
                                prop_assert!(pipe.push_run(Box::new(data.clone())).is_ok());
                                model.extend(&data);
                                last_push = room;
                            }
                            WriteState::Room(room) => {
                                prop_assert_eq!(pipe.push(&data[..room]), room);
                                model.extend(&data[..room]);
                                last_push = room;
                            }
                            WriteState::WouldBlock => prop_assert!(16384 - model.len() < length.clamp(1, PIPE_BUF)),
                            WriteState::Broken => prop_assert!(false, "a reader is open"),
                        }
                    }
                    Step::ReadRun(length, refused) => {
                        if pipe.whole_run(length) {
                            let run = pipe.take_run().expect("whole_run said so");
                            let expected: Vec<u8> = model.iter().take(run.bytes().len()).copied().collect();
                            prop_assert_eq!(run.bytes(), &expected[..]);
                            prop_assert_eq!(run.bytes().len(), length.min(model.len()));
                            if refused {
                                pipe.put_back_run(run);
                            } else {
                                model.drain(..expected.len());
                            }
                        }
                        last_push = 0;
                    }
                    Step::Read(length) => {
                        match pipe.read_state() {
                            ReadState::Data(queued) => {
                                prop_assert_eq!(queued, model.len());
                                let take = length.min(queued);
                                let mut bytes = vec![0u8; take];
                                prop_assert_eq!(pipe.copy_out(&mut bytes), take);
                                let expected: Vec<u8> = model.drain(..take).collect();
                                prop_assert_eq!(bytes, expected);
                                pipe.consume(take);
                            }
                            ReadState::WouldBlock => prop_assert!(model.is_empty()),
                            ReadState::EndOfFile => prop_assert!(false, "a writer is open"),
                        }
                        last_push = 0;
                    }
                    Step::Unpush => {
                        pipe.unpush(last_push);
                        for _ in 0..last_push { model.pop_back(); }
                        last_push = 0;
                    }
                }
                prop_assert_eq!(pipe.queued(), model.len());
                prop_assert!(pipe.queued() <= pipe.capacity());
            }
        }
    }
}
