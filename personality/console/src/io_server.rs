//! `io.defs` on an open terminal's port: every request an open object
//! takes, as a terminal answers it.
//!
//! Reads, writes and the terminal requests go to the core; the rest is
//! what a character device without storage says on Linux: no offset
//! (`ESPIPE` for positioned I/O and seeks), nothing to truncate, sync or
//! map (`EINVAL`, `ENODEV`), not a directory. Record locks and `flock` on a
//! terminal are refused with `ENOLCK` (the console keeps no locks, so
//! `F_GETLK` truthfully finds none); `fstatfs` and `futimens` are not
//! supported (`EOPNOTSUPP`): the console keeps no file system nor times.

use crate::{caller, error, out_of_line, ConsoleServer, Machine, Pending};
use libmach::kernel::PortKernel;
use libmach::message::OutOfLineData;
use libmach::request::{Answer, Context};
use libmach::BoundedBytes;
use mach_console_core::console::{FlushQueue, SetAction, READ_MAX};
use mach_console_core::uart::SerialDriver;
use mach_console_core::{Completion, Unit};
use personality_interfaces::io;

/// The largest `read_large`: what one terminal read gives at most.
const READ_LARGE_MAX: u32 = READ_MAX as u32;

fn termios_from(record: &io::Termios) -> tty::Termios {
    tty::Termios {
        input_flags: record.input_flags,
        output_flags: record.output_flags,
        control_flags: record.control_flags,
        local_flags: record.local_flags,
        line: record.line,
        control_characters: record.control_characters,
        input_speed: record.input_speed,
        output_speed: record.output_speed,
    }
}

fn termios_record(termios: &tty::Termios) -> io::Termios {
    io::Termios {
        input_flags: termios.input_flags,
        output_flags: termios.output_flags,
        control_flags: termios.control_flags,
        local_flags: termios.local_flags,
        line: termios.line,
        control_characters: termios.control_characters,
        input_speed: termios.input_speed,
        output_speed: termios.output_speed,
    }
}

/// Linux's `makedev` for the small numbers terminals have.
pub fn device_number(major: u32, minor: u32) -> u64 {
    ((major as u64 & 0xfff) << 8) | (minor as u64 & 0xff) | ((minor as u64 & !0xff) << 12)
}

/// The path a unit is known by (`ttyname`).
fn path_of(unit: Unit) -> &'static [u8] {
    match unit {
        Unit::Serial => b"/dev/ttyS0",
        Unit::Controlling => b"/dev/tty",
        Unit::Console => b"/dev/console",
    }
}

impl<K: PortKernel, M: Machine, U: SerialDriver<M>> ConsoleServer<K, M, U> {
    fn answer_read(
        &mut self,
        context: &Context<'_, K>,
        count: u32,
        keep: impl FnOnce(&Context<'_, K>) -> Option<Pending<K>>,
    ) -> Result<Answer<alloc::vec::Vec<u8>>, io::Error> {
        match self.core.read(Self::handle_of(context), count as usize, &caller(context)) {
            mach_console_core::Answer::Now(result) => result.map(Answer::Now).map_err(error),
            mach_console_core::Answer::Later(wait) => {
                self.keep(wait, keep(context))?;
                Ok(Answer::Later)
            }
        }
    }

    fn answer_write(
        &mut self,
        context: &Context<'_, K>,
        data: &[u8],
        keep: impl FnOnce(&Context<'_, K>) -> Option<Pending<K>>,
    ) -> Result<Answer<u32>, io::Error> {
        match self.core.write(Self::handle_of(context), data, &caller(context)) {
            mach_console_core::Answer::Now(result) => result.map(|count| Answer::Now(count as u32)).map_err(error),
            mach_console_core::Answer::Later(wait) => {
                self.keep(wait, keep(context))?;
                Ok(Answer::Later)
            }
        }
    }

    fn answer_later(
        &mut self,
        context: &Context<'_, K>,
        answer: mach_console_core::Answer<()>,
        keep: impl FnOnce(&Context<'_, K>) -> Option<Pending<K>>,
    ) -> Result<Answer<()>, io::Error> {
        match answer {
            mach_console_core::Answer::Now(result) => result.map(Answer::Now).map_err(error),
            mach_console_core::Answer::Later(wait) => {
                self.keep(wait, keep(context))?;
                Ok(Answer::Later)
            }
        }
    }

    /// The request came on a terminal's port (else `EBADF`).
    fn terminal(&self, context: &Context<'_, K>) -> Result<Unit, io::Error> {
        self.core.unit(Self::handle_of(context)).map_err(error)
    }
}

impl<K: PortKernel, M: Machine, U: SerialDriver<M>> io::Server<K> for ConsoleServer<K, M, U> {
    fn read(&mut self, context: &Context<'_, K>, count: u32) -> Result<Answer<BoundedBytes<8192>>, io::Error> {
        match self.answer_read(context, count, |context| io::PendingRead::keep(context).map(Pending::Read))? {
            Answer::Now(data) => Ok(Answer::Now(BoundedBytes::from_slice(&data).ok_or(io::Error::InvalidArgument)?)),
            Answer::Later => Ok(Answer::Later),
        }
    }

    fn read_large(&mut self, context: &Context<'_, K>, count: u32) -> Result<Answer<OutOfLineData<K>>, io::Error> {
        let count = count.min(READ_LARGE_MAX);
        match self.answer_read(context, count, |context| io::PendingReadLarge::keep(context).map(Pending::ReadLarge))? {
            Answer::Now(data) => Ok(Answer::Now(out_of_line(&self.kernel, &data)?)),
            Answer::Later => Ok(Answer::Later),
        }
    }

    fn write(&mut self, context: &Context<'_, K>, data: &[u8]) -> Result<Answer<u32>, io::Error> {
        self.answer_write(context, data, |context| io::PendingWrite::keep(context).map(Pending::Write))
    }

    fn write_large(&mut self, context: &Context<'_, K>, data: OutOfLineData<K>) -> Result<Answer<u32>, io::Error> {
        // The region is unmapped when `data` drops, after the core copied it.
        self.answer_write(context, data.bytes(), |context| {
            io::PendingWriteLarge::keep(context).map(Pending::WriteLarge)
        })
    }

    fn read_at(
        &mut self,
        context: &Context<'_, K>,
        _offset: u64,
        _count: u32,
    ) -> Result<BoundedBytes<8192>, io::Error> {
        self.terminal(context)?;
        Err(io::Error::IllegalSeek)
    }

    fn read_at_large(
        &mut self,
        context: &Context<'_, K>,
        _offset: u64,
        _count: u32,
    ) -> Result<OutOfLineData<K>, io::Error> {
        self.terminal(context)?;
        Err(io::Error::IllegalSeek)
    }

    fn write_at(&mut self, context: &Context<'_, K>, _offset: u64, _data: &[u8]) -> Result<u32, io::Error> {
        self.terminal(context)?;
        Err(io::Error::IllegalSeek)
    }

    fn write_at_large(
        &mut self,
        context: &Context<'_, K>,
        _offset: u64,
        _data: OutOfLineData<K>,
    ) -> Result<u32, io::Error> {
        self.terminal(context)?;
        Err(io::Error::IllegalSeek)
    }

    fn seek(&mut self, context: &Context<'_, K>, _offset: i64, _whence: u32) -> Result<u64, io::Error> {
        self.terminal(context)?;
        Err(io::Error::IllegalSeek)
    }

    fn stat(&mut self, context: &Context<'_, K>) -> Result<io::Stat, io::Error> {
        let stat = self.core.stat(Self::handle_of(context)).map_err(error)?;
        Ok(io::Stat {
            device: 0,
            node: 0,
            links: 1,
            mode: stat.mode,
            uid: stat.uid,
            gid: stat.gid,
            special_device: device_number(stat.device_major, stat.device_minor),
            block_size: 1024,
            ..io::Stat::default()
        })
    }

    fn truncate(&mut self, context: &Context<'_, K>, _length: u64) -> Result<(), io::Error> {
        self.terminal(context)?;
        Err(io::Error::InvalidArgument)
    }

    fn sync(&mut self, context: &Context<'_, K>, _data_only: bool) -> Result<(), io::Error> {
        self.terminal(context)?;
        Err(io::Error::InvalidArgument)
    }

    fn read_directory(&mut self, context: &Context<'_, K>, _budget: u32) -> Result<BoundedBytes<8192>, io::Error> {
        self.terminal(context)?;
        Err(io::Error::NotADirectory)
    }

    fn get_flags(&mut self, context: &Context<'_, K>) -> Result<u32, io::Error> {
        self.core.flags(Self::handle_of(context)).map_err(error)
    }

    fn set_flags(&mut self, context: &Context<'_, K>, flags: u32) -> Result<(), io::Error> {
        self.core.set_flags(Self::handle_of(context), flags).map_err(error)
    }

    fn path(&mut self, context: &Context<'_, K>) -> Result<BoundedBytes<4096>, io::Error> {
        let unit = self.terminal(context)?;
        BoundedBytes::from_slice(path_of(unit)).ok_or(io::Error::NameTooLong)
    }

    fn statfs(&mut self, context: &Context<'_, K>) -> Result<io::Statfs, io::Error> {
        self.terminal(context)?;
        Err(io::Error::NotSupported)
    }

    fn change_mode(&mut self, context: &Context<'_, K>, mode: u32) -> Result<(), io::Error> {
        self.core.change_mode(Self::handle_of(context), mode, &caller(context)).map_err(error)
    }

    fn change_owner(&mut self, context: &Context<'_, K>, uid: u32, gid: u32) -> Result<(), io::Error> {
        self.core.change_owner(Self::handle_of(context), uid, gid, &caller(context)).map_err(error)
    }

    fn change_times(
        &mut self,
        context: &Context<'_, K>,
        _access_seconds: i64,
        _access_nanoseconds: i64,
        _modification_seconds: i64,
        _modification_nanoseconds: i64,
    ) -> Result<(), io::Error> {
        self.terminal(context)?;
        Err(io::Error::NotSupported)
    }

    fn test_lock(&mut self, context: &Context<'_, K>, request: &io::Lock) -> Result<io::LockReport, io::Error> {
        self.terminal(context)?;
        const UNLOCKED: u32 = 2;
        Ok(io::LockReport { kind: UNLOCKED, pid: 0, start: request.start, length: request.length })
    }

    fn set_lock(
        &mut self,
        context: &Context<'_, K>,
        _request: &io::Lock,
        _wait: bool,
    ) -> Result<Answer<()>, io::Error> {
        self.terminal(context)?;
        Err(io::Error::NoLocks)
    }

    fn release_locks(&mut self, context: &Context<'_, K>) -> Result<(), io::Error> {
        self.terminal(context).map(|_| ())
    }

    fn flock(&mut self, context: &Context<'_, K>, _operation: u32) -> Result<Answer<()>, io::Error> {
        self.terminal(context)?;
        Err(io::Error::NoLocks)
    }

    fn poll(
        &mut self,
        context: &Context<'_, K>,
        events: u32,
        wait: bool,
        poll_id: u64,
    ) -> Result<Answer<u32>, io::Error> {
        match self.core.poll(Self::handle_of(context), events, wait, poll_id, &caller(context)) {
            mach_console_core::Answer::Now(result) => result.map(Answer::Now).map_err(error),
            mach_console_core::Answer::Later(wait) => {
                self.keep(wait, io::PendingPoll::keep(context).map(Pending::Poll))?;
                Ok(Answer::Later)
            }
        }
    }

    fn poll_cancel(&mut self, context: &Context<'_, K>, poll_id: u64) {
        self.core.poll_cancel(Self::handle_of(context), poll_id);
    }

    fn bytes_readable(&mut self, context: &Context<'_, K>) -> Result<u32, io::Error> {
        self.core.readable_bytes(Self::handle_of(context)).map(|count| count as u32).map_err(error)
    }

    fn map(&mut self, context: &Context<'_, K>, _writable: bool) -> Result<io::MapReply<K>, io::Error> {
        self.terminal(context)?;
        Err(io::Error::NoSuchDevice)
    }

    fn map_sync(
        &mut self,
        context: &Context<'_, K>,
        _offset: u64,
        _length: u64,
        _invalidate: bool,
    ) -> Result<(), io::Error> {
        self.terminal(context)?;
        Err(io::Error::NoSuchDevice)
    }

    fn map_for_reading(&mut self, context: &Context<'_, K>) -> Result<io::MapForReadingReply<K>, io::Error> {
        // A terminal has no memory object: its reads are the server's.
        self.terminal(context)?;
        Err(io::Error::NoSuchDevice)
    }

    fn get_terminal_attributes(&mut self, context: &Context<'_, K>) -> Result<io::Termios, io::Error> {
        self.core.get_termios(Self::handle_of(context)).map(|termios| termios_record(&termios)).map_err(error)
    }

    fn set_terminal_attributes(
        &mut self,
        context: &Context<'_, K>,
        when: u32,
        attributes: &io::Termios,
    ) -> Result<Answer<()>, io::Error> {
        let action = match when {
            0 => SetAction::Now,
            1 => SetAction::Drain,
            2 => SetAction::Flush,
            _ => return Err(io::Error::InvalidArgument),
        };
        let answer =
            self.core.set_termios(Self::handle_of(context), termios_from(attributes), action, &caller(context));
        self.answer_later(context, answer, |context| {
            io::PendingSetTerminalAttributes::keep(context).map(Pending::SetAttributes)
        })
    }

    fn get_window_size(&mut self, context: &Context<'_, K>) -> Result<io::WindowSize, io::Error> {
        let window = self.core.window_size(Self::handle_of(context)).map_err(error)?;
        Ok(io::WindowSize {
            rows: window.rows,
            columns: window.columns,
            x_pixels: window.x_pixels,
            y_pixels: window.y_pixels,
        })
    }

    fn set_window_size(&mut self, context: &Context<'_, K>, window: &io::WindowSize) -> Result<(), io::Error> {
        let window = tty::WindowSize {
            rows: window.rows,
            columns: window.columns,
            x_pixels: window.x_pixels,
            y_pixels: window.y_pixels,
        };
        self.core.set_window_size(Self::handle_of(context), window).map_err(error)
    }

    fn get_foreground_group(&mut self, context: &Context<'_, K>) -> Result<u32, io::Error> {
        self.core.foreground_group(Self::handle_of(context), &caller(context)).map_err(error)
    }

    /// io.defs has this a plain routine: it must answer before returning.
    /// When the core has to ask the process server first (a group other
    /// than the caller's, a background caller), the answer is taken at once
    /// if there is one (without a process server the questions are
    /// refused at once); a process server that answers later needs the
    /// routine `deferrable` in io.defs, and until then the call fails with
    /// `EIO`, said in the log.
    fn set_foreground_group(&mut self, context: &Context<'_, K>, group: u32) -> Result<(), io::Error> {
        let wait = match self.core.set_foreground_group(Self::handle_of(context), group, &caller(context)) {
            mach_console_core::Answer::Now(result) => return result.map_err(error),
            mach_console_core::Answer::Later(wait) => wait,
        };
        self.ask_process_server();
        match self.core.offer_for(wait) {
            Some(offer) => {
                self.core.finish(wait, true);
                match offer.completion {
                    Completion::Done(result) => result.map_err(error),
                    _ => Err(io::Error::InputOutput),
                }
            }
            None => {
                self.core.abandon(wait);
                self.machine.report(format_args!(
                    "console: tcsetpgrp({group}) needs an answer the process server gives later; \
                     io.defs's set_foreground_group must be deferrable: refused"
                ));
                Err(io::Error::InputOutput)
            }
        }
    }

    fn set_controlling_terminal(&mut self, context: &Context<'_, K>, steal: u32) -> Result<(), io::Error> {
        self.core.set_controlling_terminal(Self::handle_of(context), steal == 1, &caller(context)).map_err(error)
    }

    fn terminal_flush(&mut self, context: &Context<'_, K>, queue: u32) -> Result<(), io::Error> {
        let queue = match queue {
            0 => FlushQueue::Input,
            1 => FlushQueue::Output,
            2 => FlushQueue::Both,
            _ => return Err(io::Error::InvalidArgument),
        };
        self.core.flush(Self::handle_of(context), queue).map_err(error)
    }

    fn terminal_drain(&mut self, context: &Context<'_, K>) -> Result<Answer<()>, io::Error> {
        let answer = self.core.drain(Self::handle_of(context), &caller(context));
        self.answer_later(context, answer, |context| io::PendingTerminalDrain::keep(context).map(Pending::Drain))
    }
}
