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

use alloc::collections::VecDeque;

/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// A pipe's capacity (Linux's default: 16 pages).
pub const PIPE_CAPACITY: usize = 65536;

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

/// One pipe.
#[derive(Debug)]
pub struct Pipe {
    buffer: VecDeque<u8>,
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
        Pipe { buffer: VecDeque::new(), capacity: capacity.max(PIPE_BUF), readers: 0, writers: 0 }
    }

    pub fn readers(&self) -> u32 {
        self.readers
    }

    pub fn writers(&self) -> u32 {
        self.writers
    }

    /// Bytes queued.
    pub fn queued(&self) -> usize {
        self.buffer.len()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn room(&self) -> usize {
        self.capacity - self.buffer.len()
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
            self.buffer.clear();
        }
    }

    pub fn close_writer(&mut self) {
        self.writers = self.writers.saturating_sub(1);
    }

    /// What a read may do now.
    pub fn read_state(&self) -> ReadState {
        match (self.buffer.len(), self.writers) {
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

    /// The first `length` queued bytes, as at most two slices (the queue
    /// is a ring), without taking them.
    pub fn peek(&self, length: usize) -> (&[u8], &[u8]) {
        let (front, back) = self.buffer.as_slices();
        let length = length.min(self.buffer.len());
        if length <= front.len() {
            (&front[..length], &[])
        } else {
            (front, &back[..length - front.len()])
        }
    }

    /// Takes `length` bytes that [`Pipe::peek`] showed.
    pub fn consume(&mut self, length: usize) {
        let length = length.min(self.buffer.len());
        self.buffer.drain(..length);
    }

    /// Appends bytes; returns how many fit (the caller asked
    /// [`Pipe::write_state`] first, so normally all).
    pub fn push(&mut self, data: &[u8]) -> usize {
        let take = data.len().min(self.room());
        self.buffer.extend(&data[..take]);
        take
    }

    /// Takes back the last `length` bytes pushed (a write whose client
    /// could not be told it happened). Only valid right after the push.
    pub fn unpush(&mut self, length: usize) {
        let keep = self.buffer.len().saturating_sub(length);
        self.buffer.truncate(keep);
    }

    /// `POLLIN` readiness of the read end (data, or end-of-file).
    pub fn readable(&self) -> bool {
        !self.buffer.is_empty() || self.writers == 0
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

    #[derive(Clone, Debug)]
    enum Step {
        Write(usize),
        Read(usize),
        Unpush,
    }

    proptest! {
        /// Bytes come out in the order they went in, none lost or made
        /// up, with a model queue alongside.
        #[test]
        fn the_pipe_is_a_bounded_fifo(steps in proptest::collection::vec(
            prop_oneof![
                (1usize..9000).prop_map(Step::Write),
                (1usize..9000).prop_map(Step::Read),
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
                    Step::Read(length) => {
                        match pipe.read_state() {
                            ReadState::Data(queued) => {
                                prop_assert_eq!(queued, model.len());
                                let take = length.min(queued);
                                let (front, back) = pipe.peek(take);
                                let bytes: Vec<u8> = front.iter().chain(back).copied().collect();
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
