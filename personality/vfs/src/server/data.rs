//! Requests on an open file's data and attributes: read, write, their
//! positioned forms, seek, stat, truncate, sync, getdents, flags, path,
//! statfs, fchmod/fchown/futimens.

#[allow(unused_imports)]
use super::*;

impl FileServer {
    /// `read(count)` at the open file's offset into `buffer`; returns the
    /// bytes read. A pipe with nothing yet waits.
    pub fn read(&mut self, request: &Request, handle: Handle, buffer: &mut [u8]) -> Result<Answer<usize>, Errno> {
        let count = buffer.len();
        self.read_with(request, handle, count, &mut SliceBuffer(buffer))
    }

    /// `read(count)` at the open file's offset into the space `into` gives
    /// once the server knows how much there is to read (the transport's
    /// reply space: inline, or out-of-line pages made to measure). Returns
    /// the bytes read; a pipe with nothing yet waits.
    pub fn read_with(
        &mut self,
        request: &Request,
        handle: Handle,
        count: usize,
        into: &mut dyn ReadBuffer,
    ) -> Result<Answer<usize>, Errno> {
        let file = self.file_view(handle)?;
        if !file.readable {
            return Err(if matches!(file.object, Object::Directory(_)) {
                Errno::IsADirectory
            } else {
                Errno::BadDescriptor
            });
        }
        let count = count.min(TRANSFER_MAX);
        match file.object {
            Object::Pipe { pipe, .. } => {
                let state = self.pipes.get_mut(&pipe).ok_or(Errno::InputOutput)?;
                if count == 0 {
                    return Ok(Answer::Now(0));
                }
                match state.read_state() {
                    ReadState::Data(queued) => {
                        let take = queued.min(count);
                        if state.whole_run(count) {
                            // The read is exactly a run a writer sent: the
                            // reply takes it as it is when it can.
                            if let Some(run) = state.take_run() {
                                match into.take_run(run) {
                                    Ok(()) => {
                                        self.changed.insert(WaitKey::Pipe(pipe));
                                        return Ok(Answer::Now(take));
                                    }
                                    Err(run) => state.put_back_run(run),
                                }
                            }
                        }
                        let buffer = into.buffer(take)?;
                        let copied = state.copy_out(&mut buffer[..take]);
                        state.consume(copied);
                        self.changed.insert(WaitKey::Pipe(pipe));
                        Ok(Answer::Now(copied))
                    }
                    ReadState::EndOfFile => Ok(Answer::Now(0)),
                    ReadState::WouldBlock if file.nonblocking() => Err(Errno::WouldBlock),
                    ReadState::WouldBlock => {
                        let id = self.add_wait(WaitKind::Read { handle, count }, WaitKey::Pipe(pipe))?;
                        Ok(Answer::Later(id))
                    }
                }
            }
            Object::Node(node) => {
                // The common case, the file's attributes read once: an open
                // file that is readable and a node is a regular file (links
                // and sockets open only as paths).
                let size = self.vfs.attributes(node)?.size;
                let length = (count as u64).min(size.saturating_sub(file.offset)) as usize;
                self.before_file_access(node, request.time)?;
                let done = self.vfs.filesystem(node)?.read(node.node, file.offset, into.buffer(length)?)?;
                self.file_mut(handle)?.offset = file.offset + done as u64;
                Ok(Answer::Now(done))
            }
            _ => {
                let length = self.readable_length(&file.object, file.offset, count)?;
                let done = self.read_at_object(request, &file.object, file.offset, into.buffer(length)?)?;
                self.file_mut(handle)?.offset = file.offset + done as u64;
                Ok(Answer::Now(done))
            }
        }
    }

    /// `pread`: at `offset`, leaving the open file's offset alone.
    pub fn read_at(
        &mut self,
        request: &Request,
        handle: Handle,
        offset: u64,
        buffer: &mut [u8],
    ) -> Result<usize, Errno> {
        let count = buffer.len();
        self.read_at_with(request, handle, offset, count, &mut SliceBuffer(buffer))
    }

    /// `pread` into the space `into` gives (see [`FileServer::read_with`]).
    pub fn read_at_with(
        &mut self,
        request: &Request,
        handle: Handle,
        offset: u64,
        count: usize,
        into: &mut dyn ReadBuffer,
    ) -> Result<usize, Errno> {
        let file = self.file_view(handle)?;
        if !file.readable {
            return Err(if matches!(file.object, Object::Directory(_)) {
                Errno::IsADirectory
            } else {
                Errno::BadDescriptor
            });
        }
        if matches!(file.object, Object::Pipe { .. }) {
            return Err(Errno::IllegalSeek);
        }
        if offset > i64::MAX as u64 {
            return Err(Errno::InvalidArgument);
        }
        let length = self.readable_length(&file.object, offset, count.min(TRANSFER_MAX))?;
        self.read_at_object(request, &file.object, offset, into.buffer(length)?)
    }

    /// How many of `count` bytes from `offset` a read of `object` gives.
    fn readable_length(&mut self, object: &Object, offset: u64, count: usize) -> Result<usize, Errno> {
        Ok(match *object {
            Object::Node(node) => {
                let size = self.vfs.attributes(node)?.size;
                (count as u64).min(size.saturating_sub(offset)) as usize
            }
            Object::Device { device: LocalDevice::Null, .. } => 0,
            Object::Device { device: LocalDevice::Disk(index), .. } => {
                let size = self.raw_disks.get(&index).map_or(0, |disk| disk.size());
                (count as u64).min(size.saturating_sub(offset)) as usize
            }
            _ => count,
        })
    }

    /// `FIONREAD`: bytes a read would get now (a pipe's queue, a file's
    /// rest); `ENOTTY` for what has no such count.
    pub fn bytes_readable(&mut self, handle: Handle) -> Result<u32, Errno> {
        let file = self.file(handle)?.clone();
        let count = match file.object {
            Object::Pipe { pipe, .. } => self.pipes.get(&pipe).map_or(0, Pipe::queued) as u64,
            Object::Node(node) => self.vfs.attributes(node)?.size.saturating_sub(file.offset),
            _ => return Err(Errno::NotATerminal),
        };
        Ok(count.min(u32::MAX as u64) as u32)
    }

    pub(super) fn read_at_object(
        &mut self,
        request: &Request,
        object: &Object,
        offset: u64,
        buffer: &mut [u8],
    ) -> Result<usize, Errno> {
        match *object {
            Object::Node(node) => {
                if self.vfs.attributes(node)?.kind != NodeKind::RegularFile {
                    return Err(Errno::InvalidArgument);
                }
                self.before_file_access(node, request.time)?;
                self.vfs.filesystem(node)?.read(node.node, offset, buffer)
            }
            Object::Directory(_) => Err(Errno::IsADirectory),
            Object::Device { device, .. } => match device {
                LocalDevice::Null => Ok(0),
                LocalDevice::Zero | LocalDevice::Full => {
                    buffer.fill(0);
                    Ok(buffer.len())
                }
                LocalDevice::Random => {
                    self.random.fill(buffer);
                    Ok(buffer.len())
                }
                LocalDevice::Disk(index) => {
                    let disk = self.raw_disks.get_mut(&index).ok_or(Errno::NoSuchDeviceOrAddress)?;
                    read_disk(disk.as_mut(), offset, buffer)
                }
            },
            Object::Pipe { .. } => Err(Errno::IllegalSeek),
        }
    }

    /// `write(data)` at the open file's offset (at the end with
    /// `O_APPEND`). A pipe without room waits (all of `data` is kept).
    pub fn write(&mut self, request: &Request, handle: Handle, data: &[u8]) -> Result<Answer<usize>, Errno> {
        self.write_data(request, handle, WriteData::Bytes(data))
    }

    /// `write` of a run the transport received whole (out-of-line pages):
    /// a pipe queues the run itself when all of it fits, and a write that
    /// waits keeps it, so its bytes are never copied in the server unless
    /// a read takes part of it; anything else writes its bytes.
    pub fn write_run(
        &mut self,
        request: &Request,
        handle: Handle,
        run: Box<dyn PipeRun>,
    ) -> Result<Answer<usize>, Errno> {
        self.write_data(request, handle, WriteData::Run(run))
    }

    fn write_data(&mut self, request: &Request, handle: Handle, data: WriteData<'_>) -> Result<Answer<usize>, Errno> {
        let file = self.file_view(handle)?;
        if !file.writable {
            return Err(Errno::BadDescriptor);
        }
        let length = data.bytes().len().min(TRANSFER_MAX);
        match file.object {
            Object::Pipe { pipe, .. } => {
                if length == 0 {
                    return Ok(Answer::Now(0));
                }
                let nonblocking = file.nonblocking();
                let run = match data {
                    WriteData::Bytes(bytes) => {
                        return self.write_pipe_bytes(pipe, handle, nonblocking, &bytes[..length])
                    }
                    // Longer than one transfer (the interface's bound is
                    // the same): its bytes, cut.
                    WriteData::Run(run) if run.bytes().len() > length => {
                        return self.write_pipe_bytes(pipe, handle, nonblocking, &run.bytes()[..length])
                    }
                    WriteData::Run(run) => run,
                };
                let state = self.pipes.get_mut(&pipe).ok_or(Errno::InputOutput)?;
                match state.write_state(length) {
                    WriteState::Broken => Err(Errno::BrokenPipe),
                    WriteState::Room(room) if room == length => {
                        if let Err(run) = state.push_run(run) {
                            state.push(run.bytes());
                        }
                        self.changed.insert(WaitKey::Pipe(pipe));
                        Ok(Answer::Now(room))
                    }
                    WriteState::Room(room) if nonblocking => {
                        state.push(&run.bytes()[..room]);
                        self.changed.insert(WaitKey::Pipe(pipe));
                        Ok(Answer::Now(room))
                    }
                    WriteState::Room(room) => {
                        // A large blocking write: what fits now, the rest
                        // waits (the run kept, no copy).
                        state.push(&run.bytes()[..room]);
                        self.changed.insert(WaitKey::Pipe(pipe));
                        let wait = WaitKind::Write { handle, data: Some(KeptWrite::Run(run)), written: room };
                        Ok(Answer::Later(self.add_wait(wait, WaitKey::Pipe(pipe))?))
                    }
                    WriteState::WouldBlock if nonblocking => Err(Errno::WouldBlock),
                    WriteState::WouldBlock => {
                        let wait = WaitKind::Write { handle, data: Some(KeptWrite::Run(run)), written: 0 };
                        Ok(Answer::Later(self.add_wait(wait, WaitKey::Pipe(pipe))?))
                    }
                }
            }
            _ => {
                let bytes = &data.bytes()[..length];
                let offset = if file.append() { self.size_of(&file.object)? } else { file.offset };
                let done = self.write_at_object(request, &file.object, offset, bytes)?;
                self.file_mut(handle)?.offset = offset + done as u64;
                Ok(Answer::Now(done))
            }
        }
    }

    /// A pipe write of bytes that came inline.
    fn write_pipe_bytes(
        &mut self,
        pipe: u64,
        handle: Handle,
        nonblocking: bool,
        data: &[u8],
    ) -> Result<Answer<usize>, Errno> {
        let state = self.pipes.get_mut(&pipe).ok_or(Errno::InputOutput)?;
        match state.write_state(data.len()) {
            WriteState::Broken => Err(Errno::BrokenPipe),
            WriteState::Room(room) if room == data.len() || nonblocking => {
                state.push(&data[..room]);
                self.changed.insert(WaitKey::Pipe(pipe));
                Ok(Answer::Now(room))
            }
            WriteState::Room(room) => {
                // A large blocking write: what fits now, the rest waits.
                state.push(&data[..room]);
                self.changed.insert(WaitKey::Pipe(pipe));
                let wait = WaitKind::Write { handle, data: Some(KeptWrite::Bytes(data.to_vec())), written: room };
                Ok(Answer::Later(self.add_wait(wait, WaitKey::Pipe(pipe))?))
            }
            WriteState::WouldBlock if nonblocking => Err(Errno::WouldBlock),
            WriteState::WouldBlock => {
                let wait = WaitKind::Write { handle, data: Some(KeptWrite::Bytes(data.to_vec())), written: 0 };
                Ok(Answer::Later(self.add_wait(wait, WaitKey::Pipe(pipe))?))
            }
        }
    }

    /// `pwrite`: at `offset` (Linux appends anyway with `O_APPEND`; POSIX
    /// says the offset is used: we use it).
    pub fn write_at(&mut self, request: &Request, handle: Handle, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let file = self.file_view(handle)?;
        if !file.writable {
            return Err(Errno::BadDescriptor);
        }
        if matches!(file.object, Object::Pipe { .. }) {
            return Err(Errno::IllegalSeek);
        }
        if offset > i64::MAX as u64 {
            return Err(Errno::InvalidArgument);
        }
        let data = &data[..data.len().min(TRANSFER_MAX)];
        self.write_at_object(request, &file.object, offset, data)
    }

    pub(super) fn size_of(&mut self, object: &Object) -> Result<u64, Errno> {
        match *object {
            Object::Node(node) | Object::Directory(node) => Ok(self.vfs.attributes(node)?.size),
            Object::Device { device: LocalDevice::Disk(index), .. } => {
                Ok(self.raw_disks.get(&index).map_or(0, |disk| disk.size()))
            }
            _ => Ok(0),
        }
    }

    pub(super) fn write_at_object(
        &mut self,
        request: &Request,
        object: &Object,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Errno> {
        match *object {
            Object::Node(node) => {
                if self.vfs.attributes(node)?.kind != NodeKind::RegularFile {
                    return Err(Errno::InvalidArgument);
                }
                if data.is_empty() {
                    return Ok(0);
                }
                self.vfs.mounts().check_writable(node.mount)?;
                self.before_file_access(node, request.time)?;
                self.file_changing(node);
                let written = self
                    .vfs
                    .filesystem(node)
                    .and_then(|filesystem| filesystem.write(node.node, offset, data, request.time))
                    .and_then(|written| self.after_file_change(node, offset, written as u64).map(|()| written));
                self.file_changed(node);
                let written = written?;
                self.clear_set_id_bits(node, request)?;
                Ok(written)
            }
            Object::Directory(_) => Err(Errno::IsADirectory),
            Object::Device { device, .. } => match device {
                LocalDevice::Null | LocalDevice::Zero => Ok(data.len()),
                LocalDevice::Full => Err(Errno::NoSpace),
                LocalDevice::Random => {
                    self.random.mix(data);
                    Ok(data.len())
                }
                LocalDevice::Disk(index) => {
                    let disk = self.raw_disks.get_mut(&index).ok_or(Errno::NoSuchDeviceOrAddress)?;
                    write_disk(disk.as_mut(), offset, data)
                }
            },
            Object::Pipe { .. } => Err(Errno::IllegalSeek),
        }
    }

    /// POSIX: writing to a file by someone other than the superuser clears
    /// its set-user-id bit (and set-group-id with group execute).
    pub(super) fn clear_set_id_bits(&mut self, node: NodeRef, request: &Request) -> Result<(), Errno> {
        let attributes = self.vfs.attributes(node)?;
        if request.credential.is_superuser() || attributes.permissions & 0o6000 == 0 {
            return Ok(());
        }
        let mut permissions = attributes.permissions & !0o4000;
        if permissions & 0o010 != 0 {
            permissions &= !0o2000;
        }
        if permissions == attributes.permissions {
            return Ok(());
        }
        let changes = crate::node::AttributeChanges { permissions: Some(permissions), ..Default::default() };
        self.vfs.filesystem(node)?.change_attributes(node.node, &changes, request.time)
    }

    /// `lseek`: returns the new offset. Pipes: `ESPIPE`. Directories keep
    /// `getdents` positions as offsets (telldir/seekdir).
    pub fn seek(&mut self, handle: Handle, offset: i64, whence_value: u32) -> Result<u64, Errno> {
        let file = self.file(handle)?.clone();
        if matches!(file.object, Object::Pipe { .. }) {
            return Err(Errno::IllegalSeek);
        }
        if file.path_only {
            return Err(Errno::BadDescriptor);
        }
        let base: i128 = match whence_value {
            whence::SET => 0,
            whence::CURRENT => file.offset as i128,
            whence::END => self.size_of(&file.object)? as i128,
            _ => return Err(Errno::InvalidArgument),
        };
        let target = base + offset as i128;
        if target < 0 {
            return Err(Errno::InvalidArgument);
        }
        if target > i64::MAX as i128 {
            return Err(Errno::Overflow);
        }
        self.file_mut(handle)?.offset = target as u64;
        Ok(target as u64)
    }

    /// `fstat`.
    pub fn stat(&mut self, handle: Handle) -> Result<Stat, Errno> {
        let file = self.file(handle)?.clone();
        match file.object.node() {
            Some(node) => Ok(Stat::from_attributes(&self.vfs.attributes(node)?)),
            None => {
                // An anonymous pipe: a FIFO-like node of its own.
                let Object::Pipe { pipe, .. } = file.object else { return Err(Errno::InputOutput) };
                let queued = self.pipes.get(&pipe).map_or(0, Pipe::queued);
                Ok(Stat {
                    device: 0x0c,
                    node: pipe,
                    links: 1,
                    mode: NodeKind::Fifo.mode_bits() | 0o600,
                    size: queued as i64,
                    block_size: PIPE_BUF as i64,
                    ..Stat::default()
                })
            }
        }
    }

    /// `ftruncate`: the open file must be writable.
    pub fn truncate(&mut self, request: &Request, handle: Handle, size: u64) -> Result<(), Errno> {
        let file = self.file(handle)?.clone();
        if !file.writable {
            return Err(Errno::InvalidArgument);
        }
        match file.object {
            Object::Node(node) => {
                if size > i64::MAX as u64 {
                    return Err(Errno::InvalidArgument);
                }
                self.vfs.mounts().check_writable(node.mount)?;
                self.before_file_access(node, request.time)?;
                self.file_changing(node);
                let truncated = self
                    .vfs
                    .filesystem(node)
                    .and_then(|filesystem| filesystem.truncate(node.node, size, request.time))
                    .and_then(|()| self.after_file_change(node, size, u64::MAX));
                self.file_changed(node);
                truncated?;
                self.clear_set_id_bits(node, request)
            }
            _ => Err(Errno::InvalidArgument),
        }
    }

    /// `fsync`/`fdatasync`: writes the file system's changes back (the
    /// whole file system: ext2's cache does not track files).
    pub fn sync_file(&mut self, handle: Handle, time: Timestamp) -> Result<(), Errno> {
        let file = self.file(handle)?.clone();
        if let Some(node) = file.object.node() {
            self.write_back_mapping(node, time)?;
        }
        match file.object {
            Object::Device { device: LocalDevice::Disk(index), .. } => {
                let disk = self.raw_disks.get_mut(&index).ok_or(Errno::NoSuchDeviceOrAddress)?;
                disk.flush().map_err(|_| Errno::InputOutput)
            }
            Object::Pipe { node: None, .. } => Err(Errno::InvalidArgument),
            object => match object.node() {
                Some(node) => self.vfs.filesystem(node)?.sync(),
                None => Ok(()),
            },
        }
    }

    /// `sync()`: everything, every mount, every raw disk.
    pub fn sync_all(&mut self, time: Timestamp) -> Result<(), Errno> {
        let mut result = self.write_back_all_mappings(time);
        result = result.and(self.vfs.sync_all());
        for disk in self.raw_disks.values_mut() {
            if disk.flush().is_err() {
                result = result.and(Err(Errno::InputOutput));
            }
        }
        result
    }

    /// `getdents`: directory entries from the open directory's position,
    /// as `struct dirent` records filling at most `budget` bytes. Empty
    /// at the end; `EINVAL` if not even one entry fits.
    pub fn read_directory(&mut self, handle: Handle, budget: usize) -> Result<Vec<u8>, Errno> {
        let file = self.file(handle)?.clone();
        let Object::Directory(directory) = file.object else { return Err(Errno::NotADirectory) };
        if file.path_only {
            return Err(Errno::BadDescriptor);
        }
        let budget = budget.min(1 << 20);
        let device = self.vfs.mounts().device(directory.mount)?;
        let _ = device;
        let mut out = Vec::new();
        let mut position = file.offset;
        // Records take at least 24 bytes: never ask for more entries than fit.
        let limit = (budget / 24).clamp(1, 512);
        loop {
            let (entries, next) = self.vfs.filesystem(directory)?.read_directory(directory.node, position, limit)?;
            if entries.is_empty() {
                position = next.unwrap_or(position);
                if next.is_none() {
                    break;
                }
                continue;
            }
            for (index, entry) in entries.iter().enumerate() {
                let following = entries.get(index + 1).map(|entry| entry.position).or(next).unwrap_or(u64::MAX);
                let kind = entry.kind.map_or(0, NodeKind::directory_entry_type);
                if !push_directory_entry(&mut out, budget, entry.node, following, kind, &entry.name) {
                    if out.is_empty() {
                        return Err(Errno::InvalidArgument);
                    }
                    self.file_mut(handle)?.offset = entry.position;
                    return Ok(out);
                }
                position = following;
            }
            if next.is_none() {
                break;
            }
        }
        self.file_mut(handle)?.offset = position;
        Ok(out)
    }

    /// `fcntl(F_GETFL)`: access mode and status flags.
    pub fn status_flags(&self, handle: Handle) -> Result<u32, Errno> {
        let file = self.file(handle)?;
        let access = match (file.readable, file.writable) {
            _ if file.path_only => PATH_FLAG,
            (true, true) => open_flags::READ_WRITE,
            (false, true) => open_flags::WRITE_ONLY,
            _ => open_flags::READ_ONLY,
        };
        Ok(access | file.status)
    }

    /// `fcntl(F_SETFL)`: only `O_APPEND` and `O_NONBLOCK` change.
    pub fn set_status_flags(&mut self, handle: Handle, flags: u32) -> Result<(), Errno> {
        let file = self.file_mut(handle)?;
        if file.path_only {
            return Err(Errno::BadDescriptor);
        }
        file.status = flags & open_flags::STATUS_CHANGEABLE;
        Ok(())
    }

    /// The path the system knows the open file by, from its root: what
    /// `getcwd`, `realpath` and `/proc/self/fd` links answer. A file's path
    /// is the one it was opened by (its directory's path now, its name
    /// then); a pipe is `pipe:[N]`.
    pub fn path(&mut self, handle: Handle) -> Result<Vec<u8>, Errno> {
        let file = self.file(handle)?.clone();
        match (file.object, &file.origin) {
            (Object::Directory(directory), _) => self.vfs.path_of(file.root, directory),
            (Object::Pipe { pipe, node: None, .. }, _) => Ok(alloc::format!("pipe:[{pipe}]").into_bytes()),
            (_, Some((directory, name))) => {
                let mut path = self.vfs.path_of(file.root, *directory)?;
                if path != b"/" {
                    path.push(b'/');
                }
                path.extend_from_slice(name);
                Ok(path)
            }
            _ => Err(Errno::NoSuchEntry),
        }
    }

    /// `fstatfs`.
    pub fn statfs(&mut self, handle: Handle) -> Result<FileSystemStat, Errno> {
        let node = self.file(handle)?.object.node().ok_or(Errno::InvalidArgument)?;
        self.statfs_of(node)
    }

    pub(super) fn statfs_of(&mut self, node: NodeRef) -> Result<FileSystemStat, Errno> {
        let statistics = self.vfs.statistics(node)?;
        let device = self.vfs.mounts().device(node.mount)?;
        let read_only = self.vfs.mounts().check_writable(node.mount).is_err();
        Ok(FileSystemStat::from_statistics(&statistics, device, read_only))
    }

    /// `fchmod`.
    pub fn change_mode(&mut self, request: &Request, handle: Handle, mode: u32) -> Result<(), Errno> {
        let node = self.file(handle)?.object.node().ok_or(Errno::InvalidArgument)?;
        self.vfs.change_mode(node, mode, &request.caller())
    }

    /// `fchown` (`u32::MAX`: keep).
    pub fn change_owner(&mut self, request: &Request, handle: Handle, uid: u32, gid: u32) -> Result<(), Errno> {
        let node = self.file(handle)?.object.node().ok_or(Errno::InvalidArgument)?;
        self.vfs.change_owner(node, keep_id(uid), keep_id(gid), &request.caller())
    }

    /// `futimens`.
    pub fn change_times(
        &mut self,
        request: &Request,
        handle: Handle,
        access: TimeChange,
        modification: TimeChange,
    ) -> Result<(), Errno> {
        let node = self.file(handle)?.object.node().ok_or(Errno::InvalidArgument)?;
        self.vfs.change_times(node, access, modification, &request.caller())
    }
}
