//! `io.defs`: requests on an open file's port.

use alloc::boxed::Box;
use libmach::message::OutOfLineData;
use libmach::request::Answer as Reply;
use libmach::{BoundedBytes, Context, PortKernel};
use mach_vfs::pipe::PipeRun;
use mach_vfs::server::records::{LockRequest, Stat};
use mach_vfs::server::{Answer, ReadBuffer};
use mach_vfs::vfs::TimeChange;
use mach_vfs::Errno;

use crate::{io, io_error, FileService, PendingReply};

/// The largest inline transfer (`bytes<8192>` in io.defs).
pub(crate) const INLINE_MAX: usize = 8192;

/// `UTIME_NOW` and `UTIME_OMIT` (`<sys/stat.h>`).
const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

/// A read's inline reply space: the server's scratch buffer (kept from call
/// to call: nothing to clear), and how much of it the read filled.
pub(crate) struct InlineBuffer<'a> {
    pub(crate) bytes: &'a mut [u8],
    pub(crate) length: usize,
}

impl InlineBuffer<'_> {
    pub(crate) fn reply(&self) -> BoundedBytes<INLINE_MAX> {
        // The length never passes the bound: `buffer` cut it.
        BoundedBytes::from_slice(&self.bytes[..self.length]).unwrap_or_default()
    }
}

impl ReadBuffer for InlineBuffer<'_> {
    fn buffer(&mut self, length: usize) -> Result<&mut [u8], Errno> {
        self.length = length.min(self.bytes.len());
        Ok(&mut self.bytes[..self.length])
    }
}

/// A read's out-of-line reply space, made to measure.
pub(crate) struct LargeBuffer<K: PortKernel> {
    kernel: K,
    pub(crate) data: Option<OutOfLineData<K>>,
}

impl<K: PortKernel> LargeBuffer<K> {
    pub(crate) fn new(kernel: &K) -> Self {
        LargeBuffer { kernel: kernel.clone(), data: None }
    }
}

impl<K: PortKernel + 'static> ReadBuffer for LargeBuffer<K> {
    fn buffer(&mut self, length: usize) -> Result<&mut [u8], Errno> {
        let size = u32::try_from(length).map_err(|_| Errno::InvalidArgument)?;
        let data = OutOfLineData::allocate(&self.kernel, size).map_err(|_| Errno::OutOfMemory)?;
        Ok(self.data.insert(data).bytes_mut())
    }

    /// A pipe's run, the region a writer's `write_large` brought: the
    /// reply moves it on (no allocation, no copy, no zero-filled pages).
    fn take_run(&mut self, run: Box<dyn PipeRun>) -> Result<(), Box<dyn PipeRun>> {
        let data = PageRun::<K>::from_run(run)?;
        self.data = Some(data);
        Ok(())
    }
}

/// A region received out of line (a `write_large`'s data) kept in a pipe
/// as it is (`mach_vfs::pipe::PipeRun`), to be sent on to a reader.
pub(crate) struct PageRun<K: PortKernel>(pub(crate) OutOfLineData<K>);

impl<K: PortKernel + 'static> PipeRun for PageRun<K> {
    fn bytes(&self) -> &[u8] {
        self.0.bytes()
    }

    fn into_any(self: Box<Self>) -> Box<dyn core::any::Any> {
        self
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

impl<K: PortKernel + 'static> PageRun<K> {
    /// The region of a run this transport queued; another kind of run
    /// (none is made here) comes back.
    pub(crate) fn from_run(run: Box<dyn PipeRun>) -> Result<OutOfLineData<K>, Box<dyn PipeRun>> {
        if !run.as_any().is::<PageRun<K>>() {
            return Err(run);
        }
        match run.into_any().downcast::<PageRun<K>>() {
            Ok(page_run) => Ok(page_run.0),
            // Checked above.
            Err(_) => unreachable!("a PageRun"),
        }
    }
}

impl<K: PortKernel> FileService<K> {
    /// `io.read` of an object whose read answers at once (a file or a
    /// local device), served without the generated dispatch: the data is
    /// written from the scratch buffer straight into the reply, where the
    /// generated `read` would return it in a zeroed 8 KiB `BoundedBytes`
    /// moved through its `Result`s (about 2,000 instructions a call). The
    /// same message as the generated reply (`io.defs`: code, then
    /// `bytes<8192>`). `UnknownId`: not such a request, left untouched for
    /// the generated dispatch (a pipe's read, which may wait, a malformed
    /// request and its error reply).
    pub fn serve_read_now(&mut self, kernel: &K, request: &[u8], reply: &mut [u8]) -> libmach::Dispatch {
        self.read_now(kernel, request, reply).unwrap_or(libmach::Dispatch::UnknownId)
    }

    fn read_now(&mut self, kernel: &K, request: &[u8], reply: &mut [u8]) -> Option<libmach::Dispatch> {
        use libmach::message::{InlineReader, MessageWriter};
        let header = libmach::abi::MachMsgHeader::read_from(request)?;
        // The port the request came in on names the open file: a pipe's
        // read is left before any decoding.
        if header.id != io::id::READ || !self.core.read_answers_now(header.local_port as u64) {
            return None;
        }
        let (view, _) = libmach::abi::parse_received(request).ok()?;
        if !libmach::server::has_reply_port(&view.header)
            || libmach::message::expect_descriptor_count(&view, 0).is_err()
        {
            return None;
        }
        let mut reader = InlineReader::new(view.inline_data);
        let count = reader.u32().ok()?;
        reader.finish().ok()?;
        let context = Context::new(kernel, &view.header, request);
        let handle = context.port() as u64;
        let request = self.request_without_time(&context);
        let count = (count as usize).min(INLINE_MAX);
        let mut buffer = InlineBuffer { bytes: &mut self.scratch[..], length: 0 };
        let length = match self.core.read_with(&request, handle, count, &mut buffer) {
            Ok(Answer::Now(length)) => length.min(INLINE_MAX),
            // `read_answers_now` said it would not wait; had it, nobody
            // would answer the wait: the client hears at once.
            Ok(Answer::Later(_)) => {
                return Some(libmach::server::reply_with_code(
                    kernel,
                    &view.header,
                    io::Error::InputOutput.code(),
                    reply,
                ))
            }
            Err(error) => {
                return Some(libmach::server::reply_with_code(kernel, &view.header, io_error(error).code(), reply))
            }
        };
        let written = (|| {
            let mut writer = MessageWriter::new(reply, libmach::server::reply_header(&view.header));
            writer.i32(0)?;
            writer.bytes(&self.scratch[..length], INLINE_MAX)?;
            writer.finish()
        })();
        Some(match written {
            Ok(length) => libmach::Dispatch::Reply(length),
            Err(_) => libmach::server::reply_with_code(kernel, &view.header, libmach::mig::MIG_ARRAY_TOO_LARGE, reply),
        })
    }
}

pub(crate) fn io_stat(stat: Stat) -> io::Stat {
    io::Stat {
        device: stat.device,
        node: stat.node,
        links: stat.links,
        mode: stat.mode,
        uid: stat.uid,
        gid: stat.gid,
        special_device: stat.special_device,
        file_size: stat.size,
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

/// A `utimensat` time: now, unchanged, or a moment.
pub(crate) fn time_change(seconds: i64, nanoseconds: i64) -> Result<TimeChange, Errno> {
    match nanoseconds {
        UTIME_NOW => Ok(TimeChange::Now),
        UTIME_OMIT => Ok(TimeChange::Keep),
        0..=999_999_999 => Ok(TimeChange::Set(mach_vfs::Timestamp { seconds, nanoseconds: nanoseconds as u32 })),
        _ => Err(Errno::InvalidArgument),
    }
}

fn lock_request(lock: &io::Lock) -> LockRequest {
    LockRequest { kind: lock.kind, whence: lock.whence, start: lock.start, length: lock.length }
}

impl<K: PortKernel + 'static> io::Server<K> for FileService<K> {
    fn read(&mut self, context: &Context<'_, K>, count: u32) -> Result<Reply<BoundedBytes<INLINE_MAX>>, io::Error> {
        let request = self.request_without_time(context);
        let count = (count as usize).min(INLINE_MAX);
        let mut buffer = InlineBuffer { bytes: &mut self.scratch[..], length: 0 };
        match self.core.read_with(&request, context.port() as u64, count, &mut buffer).map_err(io_error)? {
            Answer::Now(length) => {
                buffer.length = length;
                Ok(Reply::Now(buffer.reply()))
            }
            Answer::Later(wait) => {
                self.keep(wait, io::PendingRead::keep(context).map(PendingReply::Read)).map_err(io_error)
            }
        }
    }

    fn read_large(&mut self, context: &Context<'_, K>, count: u32) -> Result<Reply<OutOfLineData<K>>, io::Error> {
        let request = self.request_without_time(context);
        let mut buffer = LargeBuffer::new(&self.kernel);
        match self.core.read_with(&request, context.port() as u64, count as usize, &mut buffer).map_err(io_error)? {
            Answer::Now(length) => Ok(Reply::Now(fit(&self.kernel, buffer.data, length).map_err(io_error)?)),
            Answer::Later(wait) => {
                self.keep(wait, io::PendingReadLarge::keep(context).map(PendingReply::ReadLarge)).map_err(io_error)
            }
        }
    }

    fn write(&mut self, context: &Context<'_, K>, data: &[u8]) -> Result<Reply<u32>, io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        match self.core.write(&request, context.port() as u64, data).map_err(io_error)? {
            Answer::Now(count) => Ok(Reply::Now(count as u32)),
            Answer::Later(wait) => {
                self.keep(wait, io::PendingWrite::keep(context).map(PendingReply::Write)).map_err(io_error)
            }
        }
    }

    fn write_large(&mut self, context: &Context<'_, K>, data: OutOfLineData<K>) -> Result<Reply<u32>, io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        // Kept whole (a pipe queues the region itself), or written.
        let run: Box<dyn PipeRun> = Box::new(PageRun(data));
        match self.core.write_run(&request, context.port() as u64, run).map_err(io_error)? {
            Answer::Now(count) => Ok(Reply::Now(count as u32)),
            Answer::Later(wait) => {
                self.keep(wait, io::PendingWriteLarge::keep(context).map(PendingReply::WriteLarge)).map_err(io_error)
            }
        }
    }

    fn read_at(
        &mut self,
        context: &Context<'_, K>,
        offset: u64,
        count: u32,
    ) -> Result<BoundedBytes<INLINE_MAX>, io::Error> {
        let request = self.request_without_time(context);
        let count = (count as usize).min(INLINE_MAX);
        let mut buffer = InlineBuffer { bytes: &mut self.scratch[..], length: 0 };
        let length =
            self.core.read_at_with(&request, context.port() as u64, offset, count, &mut buffer).map_err(io_error)?;
        buffer.length = length;
        Ok(buffer.reply())
    }

    fn read_at_large(
        &mut self,
        context: &Context<'_, K>,
        offset: u64,
        count: u32,
    ) -> Result<OutOfLineData<K>, io::Error> {
        let request = self.request_without_time(context);
        let mut buffer = LargeBuffer::new(&self.kernel);
        let length = self
            .core
            .read_at_with(&request, context.port() as u64, offset, count as usize, &mut buffer)
            .map_err(io_error)?;
        fit(&self.kernel, buffer.data, length).map_err(io_error)
    }

    fn write_at(&mut self, context: &Context<'_, K>, offset: u64, data: &[u8]) -> Result<u32, io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        self.core.write_at(&request, context.port() as u64, offset, data).map(|count| count as u32).map_err(io_error)
    }

    fn write_at_large(
        &mut self,
        context: &Context<'_, K>,
        offset: u64,
        data: OutOfLineData<K>,
    ) -> Result<u32, io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        self.core
            .write_at(&request, context.port() as u64, offset, data.bytes())
            .map(|count| count as u32)
            .map_err(io_error)
    }

    fn seek(&mut self, context: &Context<'_, K>, offset: i64, whence: u32) -> Result<u64, io::Error> {
        self.core.seek(context.port() as u64, offset, whence).map_err(io_error)
    }

    fn stat(&mut self, context: &Context<'_, K>) -> Result<io::Stat, io::Error> {
        self.core.stat(context.port() as u64).map(io_stat).map_err(io_error)
    }

    fn truncate(&mut self, context: &Context<'_, K>, length: u64) -> Result<(), io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        self.core.truncate(&request, context.port() as u64, length).map_err(io_error)
    }

    fn sync(&mut self, context: &Context<'_, K>, _data_only: bool) -> Result<(), io::Error> {
        let now = self.clock.now();
        self.core.sync_file(context.port() as u64, now).map_err(io_error)
    }

    fn read_directory(&mut self, context: &Context<'_, K>, budget: u32) -> Result<BoundedBytes<INLINE_MAX>, io::Error> {
        let budget = (budget as usize).min(INLINE_MAX);
        let records = self.core.read_directory(context.port() as u64, budget).map_err(io_error)?;
        BoundedBytes::from_slice(&records).ok_or(io::Error::InvalidArgument)
    }

    fn get_flags(&mut self, context: &Context<'_, K>) -> Result<u32, io::Error> {
        self.core.status_flags(context.port() as u64).map_err(io_error)
    }

    fn set_flags(&mut self, context: &Context<'_, K>, flags: u32) -> Result<(), io::Error> {
        self.core.set_status_flags(context.port() as u64, flags).map_err(io_error)
    }

    fn path(&mut self, context: &Context<'_, K>) -> Result<BoundedBytes<4096>, io::Error> {
        let path = self.core.path(context.port() as u64).map_err(io_error)?;
        BoundedBytes::from_slice(&path).ok_or(io::Error::NameTooLong)
    }

    fn statfs(&mut self, context: &Context<'_, K>) -> Result<io::Statfs, io::Error> {
        let stat = self.core.statfs(context.port() as u64).map_err(io_error)?;
        Ok(io::Statfs {
            kind: stat.kind,
            block_size: stat.block_size,
            blocks: stat.blocks,
            free_blocks: stat.free_blocks,
            available_blocks: stat.available_blocks,
            files: stat.files,
            free_files: stat.free_files,
            file_system_id: stat.file_system_id,
            name_max: stat.name_max,
            flags: stat.flags,
        })
    }

    fn change_mode(&mut self, context: &Context<'_, K>, mode: u32) -> Result<(), io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        self.core.change_mode(&request, context.port() as u64, mode).map_err(io_error)
    }

    fn change_owner(&mut self, context: &Context<'_, K>, uid: u32, gid: u32) -> Result<(), io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        self.core.change_owner(&request, context.port() as u64, uid, gid).map_err(io_error)
    }

    fn change_times(
        &mut self,
        context: &Context<'_, K>,
        access_seconds: i64,
        access_nanoseconds: i64,
        modification_seconds: i64,
        modification_nanoseconds: i64,
    ) -> Result<(), io::Error> {
        self.check_running().map_err(io_error)?;
        let request = self.request(context);
        let access = time_change(access_seconds, access_nanoseconds).map_err(io_error)?;
        let modification = time_change(modification_seconds, modification_nanoseconds).map_err(io_error)?;
        self.core.change_times(&request, context.port() as u64, access, modification).map_err(io_error)
    }

    fn test_lock(&mut self, context: &Context<'_, K>, request: &io::Lock) -> Result<io::LockReport, io::Error> {
        let sender = self.request_without_time(context);
        let report = self.core.test_lock(&sender, context.port() as u64, lock_request(request)).map_err(io_error)?;
        Ok(io::LockReport { kind: report.kind, pid: report.pid, start: report.start, length: report.length })
    }

    fn set_lock(&mut self, context: &Context<'_, K>, request: &io::Lock, wait: bool) -> Result<Reply<()>, io::Error> {
        let sender = self.request_without_time(context);
        match self.core.set_lock(&sender, context.port() as u64, lock_request(request), wait).map_err(io_error)? {
            Answer::Now(()) => Ok(Reply::Now(())),
            Answer::Later(id) => {
                self.keep(id, io::PendingSetLock::keep(context).map(PendingReply::SetLock)).map_err(io_error)
            }
        }
    }

    fn release_locks(&mut self, context: &Context<'_, K>) -> Result<(), io::Error> {
        let request = self.request_without_time(context);
        self.core.release_record_locks(&request, context.port() as u64).map_err(io_error)
    }

    fn flock(&mut self, context: &Context<'_, K>, operation: u32) -> Result<Reply<()>, io::Error> {
        match self.core.flock(context.port() as u64, operation).map_err(io_error)? {
            Answer::Now(()) => Ok(Reply::Now(())),
            Answer::Later(id) => {
                self.keep(id, io::PendingFlock::keep(context).map(PendingReply::Flock)).map_err(io_error)
            }
        }
    }

    fn poll(
        &mut self,
        context: &Context<'_, K>,
        events: u32,
        wait: bool,
        poll_id: u64,
    ) -> Result<Reply<u32>, io::Error> {
        match self.core.poll(context.port() as u64, events, wait, poll_id).map_err(io_error)? {
            Answer::Now(ready) => Ok(Reply::Now(ready)),
            Answer::Later(id) => {
                self.keep(id, io::PendingPoll::keep(context).map(PendingReply::Poll)).map_err(io_error)
            }
        }
    }

    fn poll_cancel(&mut self, context: &Context<'_, K>, poll_id: u64) {
        self.core.cancel_poll(context.port() as u64, poll_id);
    }

    fn bytes_readable(&mut self, context: &Context<'_, K>) -> Result<u32, io::Error> {
        self.core.bytes_readable(context.port() as u64).map_err(io_error)
    }

    fn map(&mut self, context: &Context<'_, K>, writable: bool) -> Result<io::MapReply<K>, io::Error> {
        let (object, size) = self.core.map(context.port() as u64, writable).map_err(io_error)?;
        let object = self.object_right(object).map_err(io_error)?;
        Ok(io::MapReply { object, object_size: size })
    }

    fn map_for_reading(&mut self, context: &Context<'_, K>) -> Result<io::MapForReadingReply<K>, io::Error> {
        let (object, status, object_size, offset) =
            self.core.map_for_reading(context.port() as u64).map_err(io_error)?;
        let object = self.object_right(object).map_err(io_error)?;
        let status = self.object_right(status).map_err(io_error)?;
        Ok(io::MapForReadingReply { object, status, object_size, offset })
    }

    fn map_sync(
        &mut self,
        context: &Context<'_, K>,
        offset: u64,
        length: u64,
        invalidate: bool,
    ) -> Result<(), io::Error> {
        let now = self.clock.now();
        self.core.map_sync(context.port() as u64, offset, length, invalidate, now).map_err(io_error)
    }

    // Terminals are the console server's: files here are not terminals.

    fn get_terminal_attributes(&mut self, _context: &Context<'_, K>) -> Result<io::Termios, io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn set_terminal_attributes(
        &mut self,
        _context: &Context<'_, K>,
        _when: u32,
        _attributes: &io::Termios,
    ) -> Result<Reply<()>, io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn get_window_size(&mut self, _context: &Context<'_, K>) -> Result<io::WindowSize, io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn set_window_size(&mut self, _context: &Context<'_, K>, _window: &io::WindowSize) -> Result<(), io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn get_foreground_group(&mut self, _context: &Context<'_, K>) -> Result<u32, io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn set_foreground_group(&mut self, _context: &Context<'_, K>, _group: u32) -> Result<(), io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn set_controlling_terminal(&mut self, _context: &Context<'_, K>, _steal: u32) -> Result<(), io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn terminal_flush(&mut self, _context: &Context<'_, K>, _queue: u32) -> Result<(), io::Error> {
        Err(io::Error::NotATerminal)
    }

    fn terminal_drain(&mut self, _context: &Context<'_, K>) -> Result<Reply<()>, io::Error> {
        Err(io::Error::NotATerminal)
    }
}

/// The out-of-line reply of a read that gave `length` bytes: the region
/// made for it (or an empty one when nothing was read).
fn fit<K: PortKernel>(kernel: &K, data: Option<OutOfLineData<K>>, length: usize) -> Result<OutOfLineData<K>, Errno> {
    match data {
        Some(data) if data.len() == length => Ok(data),
        Some(data) => {
            // Fewer bytes than measured (the file shrank meanwhile): a
            // region of the right size.
            let size = u32::try_from(length).map_err(|_| Errno::InvalidArgument)?;
            let mut exact = OutOfLineData::allocate(kernel, size).map_err(|_| Errno::OutOfMemory)?;
            exact.bytes_mut().copy_from_slice(&data.bytes()[..length]);
            Ok(exact)
        }
        None => OutOfLineData::allocate(kernel, 0).map_err(|_| Errno::OutOfMemory),
    }
}
