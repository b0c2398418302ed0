//! Opening and ending open files: `open` (files, directories, devices,
//! FIFOs, `O_PATH`), `pipe`, the root handle, `release`.

#[allow(unused_imports)]
use super::*;

impl FileServer {
    /// Installs the root directory of the whole tree under `handle` (the
    /// port the server registers, from which every process's root and
    /// working directory are opened).
    pub fn install_root(&mut self, handle: Handle) -> Result<(), Errno> {
        let root = self.vfs.root();
        self.vfs.filesystem(root)?.open_node(root.node)?;
        let file = OpenFile {
            object: Object::Directory(root),
            readable: true,
            writable: false,
            path_only: false,
            status: 0,
            offset: 0,
            root,
            origin: None,
        };
        self.install(handle, file)
    }

    pub(super) fn install(&mut self, handle: Handle, file: OpenFile) -> Result<(), Errno> {
        if self.files.contains_key(&handle) {
            // The transport's names are unique while in use: a repeat is a bug
            // there; refuse rather than lose the open file already there.
            self.forget_object(&file.object, file.readable, file.writable, Timestamp::default());
            return Err(Errno::Busy);
        }
        self.files.insert(handle, file);
        Ok(())
    }

    /// The start for name operations sent to the directory open as `handle`.
    pub(super) fn start_of(&self, handle: Handle) -> Result<Start, Errno> {
        let file = self.file(handle)?;
        match file.object {
            Object::Directory(directory) => Ok(Start { root: file.root, directory }),
            _ => Err(Errno::NotADirectory),
        }
    }

    /// Ends the open file `handle` (its port has no senders left): the node
    /// is closed (an unlinked file goes now), pipe ends counted down,
    /// `flock` locks released, waits on it ended with `EBADF`.
    pub fn release(&mut self, handle: Handle, time: Timestamp) -> Result<(), Errno> {
        let file = self.files.remove(&handle).ok_or(Errno::BadDescriptor)?;
        let waiting: Vec<WaitId> =
            self.waits.iter().filter(|(_, wait)| wait.kind.handle() == handle).map(|(id, _)| *id).collect();
        for id in waiting {
            if let Some(wait) = self.waits.get_mut(&id) {
                wait.forced = Some(Errno::BadDescriptor);
                self.changed.insert(wait.key);
            }
        }
        if let Some(node) = file.object.node() {
            if let Some(locks) = self.flocks.get_mut(&node) {
                if locks.held_by(handle).is_some() {
                    locks.release(handle);
                    if locks.is_empty() {
                        self.flocks.remove(&node);
                    }
                    self.changed.insert(WaitKey::Node(node));
                }
            }
        }
        self.drop_status(handle);
        self.forget_object(&file.object, file.readable, file.writable, time);
        if let Some(node) = file.object.node() {
            self.drop_orphaned_mapping(node, time);
        }
        Ok(())
    }

    /// Undoes what opening `object` took (node open counts, pipe ends).
    pub(super) fn forget_object(&mut self, object: &Object, readable: bool, writable: bool, time: Timestamp) {
        if let Object::Pipe { pipe, .. } = *object {
            if let Some(state) = self.pipes.get_mut(&pipe) {
                if writable {
                    state.close_writer();
                }
                if readable {
                    state.close_reader();
                }
                self.changed.insert(WaitKey::Pipe(pipe));
                let unused = state.readers() == 0 && state.writers() == 0;
                if unused && self.waits_by_key.get(&WaitKey::Pipe(pipe)).is_none_or(|queue| queue.is_empty()) {
                    self.pipes.remove(&pipe);
                    self.fifos.retain(|_, id| *id != pipe);
                }
            }
        }
        if let Some(node) = object.node() {
            if let Ok(filesystem) = self.vfs.filesystem(node) {
                let _ = filesystem.close_node(node.node, time);
            }
        }
    }

    /// `open(path, flags, mode)` from the directory open as `directory`.
    /// A local object is installed under `new_handle` (which the transport
    /// made for it); a FIFO with no partner may wait; a remote device
    /// installs nothing and says whom to ask.
    pub fn open(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        flags: u32,
        mode: u32,
        new_handle: Handle,
    ) -> Result<Answer<Opened>, Errno> {
        if flags & !(open_flags::KNOWN | PATH_FLAG) != 0 {
            return Err(Errno::InvalidArgument);
        }
        if self.files.len() >= OPEN_FILES_MAX {
            return Err(Errno::TooManyOpenFiles);
        }
        let start = self.start_of(directory)?;
        check_path(path)?;
        let path_only = flags & PATH_FLAG != 0;
        let access_mode = flags & open_flags::ACCESS_MODE;
        if access_mode == 3 && !path_only {
            return Err(Errno::InvalidArgument);
        }
        let (readable, writable) = if path_only {
            (false, false)
        } else {
            (access_mode != open_flags::WRITE_ONLY, access_mode != open_flags::READ_ONLY)
        };
        let creating = flags & open_flags::CREATE != 0 && !path_only;
        let exclusive = creating && flags & open_flags::EXCLUSIVE != 0;
        let follow = if flags & open_flags::NO_FOLLOW != 0 || exclusive { Follow::NoFollow } else { Follow::Follow };
        let caller = request.caller();
        let (node, created, origin) = match self.vfs.lookup(&start, path, follow, &request.credential)? {
            Lookup::Found(node) => {
                if exclusive {
                    return Err(Errno::Exists);
                }
                let origin = self.origin_of(&start, path, &request.credential);
                (node, false, origin)
            }
            Lookup::Missing { parent, name, trailing_slash } => {
                if !creating {
                    return Err(Errno::NoSuchEntry);
                }
                if trailing_slash || flags & open_flags::DIRECTORY != 0 {
                    return Err(Errno::IsADirectory);
                }
                let node = self.vfs.create_in(parent, &name, NewNode::RegularFile, mode, &caller)?;
                (node, true, Some((parent, name)))
            }
        };
        let attributes = self.vfs.attributes(node)?;
        let kind = attributes.kind;
        if kind == NodeKind::Symlink && !path_only {
            // Only O_NOFOLLOW (or O_CREAT|O_EXCL) leaves us on a link.
            return Err(Errno::SymlinkLoop);
        }
        if flags & open_flags::DIRECTORY != 0 && kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        if kind == NodeKind::Directory && (writable || creating) {
            return Err(Errno::IsADirectory);
        }
        if !created && !path_only {
            let wanted = Access { read: readable, write: writable, execute: false };
            check_access(&attributes, &request.credential, wanted)?;
            if writable && matches!(kind, NodeKind::RegularFile) {
                self.vfs.mounts().check_writable(node.mount)?;
            }
        }
        let root = start.root;
        let status = flags & open_flags::STATUS_CHANGEABLE;
        let base = OpenFile {
            object: Object::Node(node),
            readable,
            writable,
            path_only,
            status,
            offset: 0,
            root,
            origin: if kind == NodeKind::Directory { None } else { origin },
        };
        if path_only {
            let object = if kind == NodeKind::Directory { Object::Directory(node) } else { Object::Node(node) };
            self.vfs.filesystem(node)?.open_node(node.node)?;
            self.install(new_handle, OpenFile { object, ..base })?;
            return Ok(Answer::Now(Opened::Local { kind }));
        }
        match kind {
            NodeKind::RegularFile => {
                if flags & open_flags::TRUNCATE != 0 && writable && !created && attributes.size != 0 {
                    // As ftruncate: mapped writes reach the file first, the
                    // mappings lose the pages, readers' status pages move.
                    self.before_file_access(node, request.time)?;
                    self.file_changing(node);
                    let truncated = self
                        .vfs
                        .filesystem(node)
                        .and_then(|filesystem| filesystem.truncate(node.node, 0, request.time))
                        .and_then(|()| self.after_file_change(node, 0, u64::MAX));
                    self.file_changed(node);
                    truncated?;
                }
                self.vfs.filesystem(node)?.open_node(node.node)?;
                self.install(new_handle, base)?;
                Ok(Answer::Now(Opened::Local { kind }))
            }
            NodeKind::Directory => {
                self.vfs.filesystem(node)?.open_node(node.node)?;
                self.install(new_handle, OpenFile { object: Object::Directory(node), ..base })?;
                Ok(Answer::Now(Opened::Local { kind }))
            }
            NodeKind::Fifo => self.open_fifo(node, base, new_handle, flags),
            NodeKind::CharacterDevice | NodeKind::BlockDevice => match self.devices.lookup(attributes.special) {
                None => Err(Errno::NoSuchDeviceOrAddress),
                Some(DeviceKind::Remote { service }) => {
                    Ok(Answer::Now(Opened::Remote { service, device: attributes.special, flags }))
                }
                Some(DeviceKind::Local(device)) => {
                    if (kind == NodeKind::BlockDevice) != matches!(device, LocalDevice::Disk(_)) {
                        return Err(Errno::NoSuchDeviceOrAddress);
                    }
                    if let LocalDevice::Disk(index) = device {
                        if writable && self.mounted_disks.contains_key(&index) {
                            return Err(Errno::Busy);
                        }
                        if !self.raw_disks.contains_key(&index) {
                            let opened = self.disks.open(index)?;
                            self.raw_disks.insert(index, opened);
                        }
                    }
                    self.vfs.filesystem(node)?.open_node(node.node)?;
                    self.install(new_handle, OpenFile { object: Object::Device { device, node }, ..base })?;
                    Ok(Answer::Now(Opened::Local { kind }))
                }
            },
            NodeKind::Socket => Err(Errno::NoSuchDeviceOrAddress),
            NodeKind::Symlink => Err(Errno::SymlinkLoop),
        }
    }

    /// The directory and name a path opened, for the open file's path.
    pub(super) fn origin_of(
        &mut self,
        start: &Start,
        path: &[u8],
        credential: &Credential,
    ) -> Option<(NodeRef, Vec<u8>)> {
        let parent = self.vfs.resolve_parent(start, path, credential).ok()?;
        if parent.name.is_empty() || parent.name == b"." || parent.name == b".." {
            return None;
        }
        Some((parent.directory, parent.name))
    }

    pub(super) fn open_fifo(
        &mut self,
        node: NodeRef,
        base: OpenFile,
        handle: Handle,
        flags: u32,
    ) -> Result<Answer<Opened>, Errno> {
        let (readable, writable) = (base.readable, base.writable);
        let pipe = match self.fifos.get(&node) {
            Some(pipe) => *pipe,
            None => {
                let pipe = self.new_pipe();
                self.fifos.insert(node, pipe);
                pipe
            }
        };
        let state = self.pipes.get(&pipe).ok_or(Errno::InputOutput)?;
        let nonblocking = flags & open_flags::NON_BLOCKING != 0;
        // O_RDWR on a FIFO opens both ends at once and never waits (Linux).
        // An opener waiting on the other side counts as present: it
        // completes as soon as this end is attached.
        let writer = writable && !readable;
        let partner_present = if readable && writable {
            true
        } else if writer {
            state.readers() > 0 || self.opens_waiting(pipe, false)
        } else {
            state.writers() > 0 || self.opens_waiting(pipe, true)
        };
        let file = OpenFile { object: Object::Pipe { pipe, node: Some(node) }, ..base };
        if partner_present || (nonblocking && !writer) {
            self.attach_fifo_end(pipe, node, readable, writable)?;
            self.install(handle, file)?;
            return Ok(Answer::Now(Opened::Local { kind: NodeKind::Fifo }));
        }
        if nonblocking {
            // A non-blocking writer with no reader (POSIX).
            self.drop_unused_pipe(pipe);
            return Err(Errno::NoSuchDeviceOrAddress);
        }
        let id = self.add_wait(WaitKind::OpenFifo { handle, pipe, node, file, writer }, WaitKey::Pipe(pipe))?;
        Ok(Answer::Later(id))
    }

    /// True when an open of the FIFO `pipe`'s write end (`writer`) or read
    /// end waits.
    pub(super) fn opens_waiting(&self, pipe: u64, writer: bool) -> bool {
        self.waits_by_key.get(&WaitKey::Pipe(pipe)).is_some_and(|queue| {
            queue.iter().any(|id| {
                matches!(self.waits.get(id), Some(Wait { kind: WaitKind::OpenFifo { writer: waiting, .. }, .. }) if *waiting == writer)
            })
        })
    }

    /// Counts a FIFO end in and holds its node.
    pub(super) fn attach_fifo_end(
        &mut self,
        pipe: u64,
        node: NodeRef,
        readable: bool,
        writable: bool,
    ) -> Result<(), Errno> {
        self.vfs.filesystem(node)?.open_node(node.node)?;
        let state = self.pipes.get_mut(&pipe).ok_or(Errno::InputOutput)?;
        if readable {
            state.open_reader();
        }
        if writable {
            state.open_writer();
        }
        self.changed.insert(WaitKey::Pipe(pipe));
        Ok(())
    }

    pub(super) fn new_pipe(&mut self) -> u64 {
        let id = self.next_pipe;
        self.next_pipe += 1;
        self.pipes.insert(id, Pipe::default());
        id
    }

    pub(super) fn drop_unused_pipe(&mut self, pipe: u64) {
        let unused = self.pipes.get(&pipe).is_some_and(|state| state.readers() == 0 && state.writers() == 0);
        let waited = self.waits_by_key.get(&WaitKey::Pipe(pipe)).is_some_and(|queue| !queue.is_empty());
        if unused && !waited {
            self.pipes.remove(&pipe);
            self.fifos.retain(|_, id| *id != pipe);
        }
    }

    /// `pipe()`: a new pipe, its read end under `read_handle` and its write
    /// end under `write_handle`. `flags` may hold `O_NONBLOCK` (and
    /// `O_CLOEXEC`, which is the client's).
    pub fn pipe(&mut self, read_handle: Handle, write_handle: Handle, flags: u32) -> Result<(), Errno> {
        if flags & !(open_flags::NON_BLOCKING | open_flags::CLOSE_ON_EXEC) != 0 {
            return Err(Errno::InvalidArgument);
        }
        if self.files.len() + 2 > OPEN_FILES_MAX {
            return Err(Errno::TooManyOpenFiles);
        }
        if read_handle == write_handle
            || self.files.contains_key(&read_handle)
            || self.files.contains_key(&write_handle)
        {
            return Err(Errno::Busy);
        }
        let pipe = self.new_pipe();
        let state = self.pipes.get_mut(&pipe).ok_or(Errno::InputOutput)?;
        state.open_reader();
        state.open_writer();
        let root = self.vfs.root();
        let status = flags & open_flags::NON_BLOCKING;
        let end = |writer: bool| OpenFile {
            object: Object::Pipe { pipe, node: None },
            readable: !writer,
            writable: writer,
            path_only: false,
            status,
            offset: 0,
            root,
            origin: None,
        };
        self.files.insert(read_handle, end(false));
        self.files.insert(write_handle, end(true));
        Ok(())
    }
}
