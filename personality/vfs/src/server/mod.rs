//! The file server's whole state and every request it serves, with no Mach
//! in it: the server task (`personality/fs`) turns each `io.defs` /
//! `fs.defs` request into one call here and each answer into a reply.
//!
//! - **Open files** are kept by a [`Handle`] the transport chooses (the
//!   name of the open file's port). An open file holds its object (a
//!   file, a directory, a pipe end, a device), its access mode, its status
//!   flags and its offset, so everything sharing the port shares them as
//!   POSIX wants (dup, fork). [`FileServer::release`] ends it (the port's
//!   no-senders notification).
//! - **Requests** carry a [`Request`]: the sender's credential (from the
//!   kernel's audit trailer, never the message body), its task, and the
//!   time. Name operations arrive on a directory's open file and resolve
//!   from there ([`crate::vfs::Start`]).
//! - **Waiting**: an operation that cannot finish now (a read on an empty
//!   pipe, a write to a full one, a FIFO open with no partner, a blocking
//!   lock, a poll) answers [`Answer::Later`] with a [`WaitId`]; the
//!   transport keeps the request's reply right under it. After every
//!   change the transport calls [`FileServer::deliver_ready`], which
//!   offers each waiter that can now finish its [`Completion`]; the
//!   transport sends it and says whether the client got it. Only then is
//!   anything taken: a client that gave up (its reply port destroyed)
//!   leaves the data in the pipe, the lock ungranted, the FIFO unopened.

mod data;
pub mod device;
mod locks;
pub mod mapping;
mod names;
mod open;
pub mod records;
mod waiting;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec;
use alloc::vec::Vec;

use ext2::BlockDevice;

use crate::credential::{check_access, Access, Credential};
use crate::errno::Errno;
use crate::ext2fs::Ext2FileSystem;
use crate::lock::{ByteRange, FlockLocks, LockKind, LockOwner, RecordLocks};
use crate::mount::{MountFlags, MountId, NodeRef};
use crate::mount_list::{MountLine, MountListFileSystem, MountListText};
use crate::node::{Creation, DeviceNumber, NewNode, NodeKind, Timestamp};
use crate::pipe::{Pipe, PipeRun, ReadState, WriteState, PIPE_BUF};
use crate::tmpfs::MemoryFileSystem;
use crate::vfs::{check_path, Caller, Follow, Lookup, NewMount, Start, TimeChange, Vfs};

use device::{DeviceKind, DeviceTable, LocalDevice, RandomGenerator};
use records::{open_flags, poll_events, push_directory_entry, whence, FileSystemStat, LockReport, LockRequest, Stat};

/// The transport's name for an open file (its port's name).
pub type Handle = u64;

/// Most open files at once (`ENFILE` beyond).
pub const OPEN_FILES_MAX: usize = 131_072;
/// Most requests waiting at once (`EAGAIN` beyond).
pub const WAITS_MAX: usize = 65_536;
/// Largest read or write one request may ask for (bigger counts are cut
/// to it; POSIX allows short transfers).
pub const TRANSFER_MAX: usize = 1 << 30;
/// The sector size raw disk access is aligned to.
const SECTOR_SIZE: u64 = 512;

/// Names a waiting request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaitId(pub u64);

/// Who sent a request, and when it is served.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The sender's credential, from the audit trailer.
    pub credential: Credential,
    /// The sending task's kernel id (from the trailer): owns record locks
    /// for senders that are not processes (pid 0).
    pub task: u32,
    pub time: Timestamp,
}

impl Request {
    fn caller(&self) -> Caller<'_> {
        Caller { credential: &self.credential, time: self.time }
    }

    /// The owner of this sender's record locks: its process, or its task
    /// (kept apart from pids by the high bit).
    pub fn lock_owner(&self) -> LockOwner {
        if self.credential.pid != 0 {
            self.credential.pid as LockOwner
        } else {
            (1 << 32) | self.task as LockOwner
        }
    }
}

/// An answer now, or a promise to answer later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    Now(T),
    Later(WaitId),
}

impl<T> Answer<T> {
    /// The value, if answered now (tests).
    pub fn now(self) -> Option<T> {
        match self {
            Answer::Now(value) => Some(value),
            Answer::Later(_) => None,
        }
    }
}

/// What an open file refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// A regular file, symbolic link (`O_PATH`) or socket node.
    Node(NodeRef),
    Directory(NodeRef),
    /// A pipe, or a FIFO (`node` then names it): the read end if the open
    /// file is readable, the write end if writable (both for a FIFO
    /// opened `O_RDWR`).
    Pipe {
        pipe: u64,
        node: Option<NodeRef>,
    },
    /// A device served here, opened through `node`.
    Device {
        device: LocalDevice,
        node: NodeRef,
    },
}

impl Object {
    /// The file-system node the object keeps open.
    pub fn node(&self) -> Option<NodeRef> {
        match *self {
            Object::Node(node) | Object::Directory(node) | Object::Device { node, .. } => Some(node),
            Object::Pipe { node, .. } => node,
        }
    }
}

/// One open file.
#[derive(Clone, Debug)]
pub struct OpenFile {
    pub object: Object,
    pub readable: bool,
    pub writable: bool,
    /// `O_PATH`: only stat, path and name operations.
    pub path_only: bool,
    /// `O_APPEND | O_NONBLOCK` as now set.
    pub status: u32,
    pub offset: u64,
    /// The root absolute paths and `..` stop at, for name operations sent
    /// to this open file (and for its path).
    pub root: NodeRef,
    /// The directory and name it was opened by, for its path (`None` for
    /// directories, whose path is found by walking `..`, and pipes).
    pub origin: Option<(NodeRef, Vec<u8>)>,
}

/// What `open` produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened {
    /// An open file of this server, installed under the handle given.
    Local { kind: NodeKind },
    /// A device another server serves: the transport asks it (through
    /// `device.defs`) with the device number and flags, and hands its port
    /// over. Nothing was installed under the handle.
    Remote { service: &'static str, device: DeviceNumber, flags: u32 },
}

/// What a waiting request finished with, offered to the transport.
#[derive(Debug)]
pub enum Completion<'a> {
    /// A read's data, or its error.
    Read(Result<ReadData<'a>, Errno>),
    /// A read that takes exactly a run the transport received
    /// ([`crate::pipe::PipeRun`]): the transport takes it out of the slot
    /// to send it as it is, or leaves it there (the data stays queued).
    ReadRun(&'a mut Option<Box<dyn PipeRun>>),
    /// A write's count.
    Write(Result<usize, Errno>),
    /// A FIFO open, installed under its handle if delivered.
    Open(Result<NodeKind, Errno>),
    /// A lock granted (if delivered).
    Lock(Result<(), Errno>),
    /// The events ready now (0: the poll was cancelled).
    Poll(u32),
}

/// A pipe read's data, queued (copied out by the transport).
pub struct ReadData<'a> {
    pipe: Option<&'a Pipe>,
    length: usize,
}

impl ReadData<'_> {
    /// End of file: no data.
    pub const NONE: ReadData<'static> = ReadData { pipe: None, length: 0 };

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Copies the data into `out` (at most `out.len()` bytes); returns how
    /// many.
    pub fn copy_to(&self, out: &mut [u8]) -> usize {
        let length = out.len().min(self.length);
        self.pipe.map_or(0, |pipe| pipe.copy_out(&mut out[..length]))
    }
}

impl core::fmt::Debug for ReadData<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "ReadData({})", self.length)
    }
}

/// A write's data: bytes, or a run the transport received whole (see
/// [`FileServer::write_run`]).
pub enum WriteData<'a> {
    Bytes(&'a [u8]),
    Run(Box<dyn PipeRun>),
}

impl WriteData<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            WriteData::Bytes(bytes) => bytes,
            WriteData::Run(run) => run.bytes(),
        }
    }
}

/// A waiting write's data, kept until the pipe has room: a copy of bytes
/// that came inline, or the received run itself (no copy).
enum KeptWrite {
    Bytes(Vec<u8>),
    Run(Box<dyn PipeRun>),
}

impl KeptWrite {
    fn bytes(&self) -> &[u8] {
        match self {
            KeptWrite::Bytes(bytes) => bytes,
            KeptWrite::Run(run) => run.bytes(),
        }
    }
}

impl core::fmt::Debug for KeptWrite {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "KeptWrite({})", self.bytes().len())
    }
}

#[derive(Debug)]
enum WaitKind {
    Read { handle: Handle, count: usize },
    Write { handle: Handle, data: Option<KeptWrite>, written: usize },
    OpenFifo { handle: Handle, pipe: u64, node: NodeRef, file: OpenFile, writer: bool },
    RecordLock { handle: Handle, node: NodeRef, owner: LockOwner, kind: LockKind, range: ByteRange },
    Flock { handle: Handle, node: NodeRef, kind: LockKind },
    Poll { handle: Handle, events: u32, client_id: u64 },
}

impl WaitKind {
    fn handle(&self) -> Handle {
        match self {
            WaitKind::Read { handle, .. }
            | WaitKind::Write { handle, .. }
            | WaitKind::OpenFifo { handle, .. }
            | WaitKind::RecordLock { handle, .. }
            | WaitKind::Flock { handle, .. }
            | WaitKind::Poll { handle, .. } => *handle,
        }
    }
}

/// What a wait is waiting on: a change there retries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum WaitKey {
    Pipe(u64),
    Node(NodeRef),
    /// Never changes by itself (a poll on something always ready would
    /// not wait): only cancelled.
    Nothing,
}

#[derive(Debug)]
struct Wait {
    kind: WaitKind,
    key: WaitKey,
    /// Set when the wait must end with this error at the next delivery
    /// (its open file went away).
    forced: Option<Errno>,
}

/// Where a read puts its data: asked for exactly the bytes the read will
/// give once the server knows how many (so out-of-line replies are made to
/// measure).
pub trait ReadBuffer {
    /// Space for `length` bytes (at most the count the read asked for).
    fn buffer(&mut self, length: usize) -> Result<&mut [u8], Errno>;

    /// The read's data is exactly `run`, a run the transport received:
    /// taken whole for the reply (no copy), or given back to copy with
    /// [`ReadBuffer::buffer`].
    fn take_run(&mut self, run: Box<dyn PipeRun>) -> Result<(), Box<dyn PipeRun>> {
        Err(run)
    }
}

/// A caller's slice as the read's space.
pub struct SliceBuffer<'a>(pub &'a mut [u8]);

impl ReadBuffer for SliceBuffer<'_> {
    fn buffer(&mut self, length: usize) -> Result<&mut [u8], Errno> {
        let length = length.min(self.0.len());
        Ok(&mut self.0[..length])
    }
}

/// Where raw disks come from (the block driver, or memory in tests).
pub trait Disks {
    /// A byte-addressed device for disk `index` (`ENXIO` if there is none).
    fn open(&mut self, index: u32) -> Result<Box<dyn BlockDevice>, Errno>;
}

/// A disk as ext2 wants it: a boxed device is a device.
struct BoxedDevice(Box<dyn BlockDevice>);

impl BlockDevice for BoxedDevice {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), ext2::DeviceError> {
        self.0.read_at(offset, buffer)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), ext2::DeviceError> {
        self.0.write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), ext2::DeviceError> {
        self.0.flush()
    }
}

/// How many blocks of this disk's file system `bytes` hold (its block size
/// read from the superblock; 1 KiB when it cannot be read: the mount then
/// refuses the disk anyway).
fn cache_blocks(device: &mut dyn BlockDevice, bytes: usize) -> usize {
    let mut superblock = [0u8; 1024];
    let shift = match device.read_at(1024, &mut superblock) {
        Ok(()) => u32::from_le_bytes([superblock[24], superblock[25], superblock[26], superblock[27]]).min(2),
        Err(_) => 0,
    };
    (bytes >> (10 + shift)).max(16)
}

/// Options of [`FileServer::new`].
#[derive(Clone, Copy, Debug)]
pub struct ServerOptions {
    /// Bytes of each ext2 mount's block cache.
    pub cache_bytes: usize,
    /// Bytes `/tmp` may hold.
    pub temporary_capacity: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions { cache_bytes: 4 << 20, temporary_capacity: 16 << 20 }
    }
}

/// The file server.
pub struct FileServer {
    vfs: Vfs,
    options: ServerOptions,
    files: BTreeMap<Handle, OpenFile>,
    pipes: BTreeMap<u64, Pipe>,
    next_pipe: u64,
    fifos: BTreeMap<NodeRef, u64>,
    record_locks: BTreeMap<NodeRef, RecordLocks>,
    flocks: BTreeMap<NodeRef, FlockLocks>,
    waits: BTreeMap<WaitId, Wait>,
    waits_by_key: BTreeMap<WaitKey, VecDeque<WaitId>>,
    next_wait: u64,
    /// Keys whose waits may be able to finish now.
    changed: BTreeSet<WaitKey>,
    devices: DeviceTable,
    random: RandomGenerator,
    disks: Box<dyn Disks>,
    /// Disks opened for raw access, by index.
    raw_disks: BTreeMap<u32, Box<dyn BlockDevice>>,
    /// Disks mounted (by index → mount): not writable raw, not mountable twice.
    mounted_disks: BTreeMap<u32, MountId>,
    /// Mapped files' memory objects, and the kernel calls that serve them.
    mappings: mapping::Mappings,
    objects: Box<dyn mapping::MemoryObjects>,
    /// What `/proc/mounts` reads: rewritten after every mount and unmount.
    mount_list: MountListText,
}

/// `st_dev` of the memory file systems (Linux's anonymous majors 0:N).
const TEMPORARY_DEVICE: u64 = 0x1a;
const DEVICES_DEVICE: u64 = 0x05;
const MOUNT_LIST_DEVICE: u64 = 0x04;

impl FileServer {
    /// A server whose root is `root` (already mounted: ext2 on the root
    /// disk, or a tmpfs), with disks from `disks` and `/dev/urandom`
    /// keyed from `seed`.
    pub fn new(
        root: Box<dyn crate::filesystem::FileSystem>,
        root_source: &[u8],
        root_device: u64,
        disks: Box<dyn Disks>,
        seed: &[u8],
        options: ServerOptions,
    ) -> Self {
        FileServer {
            vfs: Vfs::new(root, MountFlags::default(), root_device, root_source),
            options,
            files: BTreeMap::new(),
            pipes: BTreeMap::new(),
            next_pipe: 1,
            fifos: BTreeMap::new(),
            record_locks: BTreeMap::new(),
            flocks: BTreeMap::new(),
            waits: BTreeMap::new(),
            waits_by_key: BTreeMap::new(),
            next_wait: 1,
            changed: BTreeSet::new(),
            devices: DeviceTable::default(),
            random: RandomGenerator::new(seed),
            disks,
            raw_disks: BTreeMap::new(),
            mounted_disks: BTreeMap::new(),
            mappings: mapping::Mappings::default(),
            objects: Box::new(mapping::NoMemoryObjects),
            mount_list: MountListText::default(),
        }
    }

    /// Mounts ext2 from disk `index` as the root: what the server does at
    /// boot. `EIO`/`EINVAL`/`EOPNOTSUPP` when the disk is not a usable ext2.
    pub fn with_root_disk(
        mut disks: Box<dyn Disks>,
        index: u32,
        seed: &[u8],
        options: ServerOptions,
        time: Timestamp,
    ) -> Result<Self, Errno> {
        let mut device = BoxedDevice(disks.open(index)?);
        let mount_options = ext2::MountOptions {
            cache_blocks: cache_blocks(&mut device, options.cache_bytes),
            time: time.ext2_seconds(),
            ..Default::default()
        };
        let filesystem = Ext2FileSystem::mount(device, mount_options)?;
        let number = device::disk_number(index);
        let mut server = FileServer::new(Box::new(filesystem), b"/dev/vda", number.encoded(), disks, seed, options);
        let root = server.vfs.root();
        server.mounted_disks.insert(index, root.mount);
        Ok(server)
    }

    /// Mounts `/dev` (a tmpfs with the standard nodes, disks `0..disk_count`)
    /// and `/tmp` (a tmpfs, mode 1777), making the directories if the root
    /// lacks them and can take them. Returns what could not be done.
    pub fn mount_standard(&mut self, disk_count: u32, time: Timestamp) -> Result<(), Errno> {
        let root = Credential::root();
        let caller = Caller { credential: &root, time };
        let start = self.vfs.root_start();
        for (path, mode) in [(&b"/dev"[..], 0o755), (b"/tmp", 0o1777)] {
            match self.vfs.make(&start, path, NewNode::Directory, mode, &caller) {
                Ok(_) | Err(Errno::Exists) => {}
                Err(error) => return Err(error),
            }
        }
        let devices = MemoryFileSystem::new(1 << 20, 1024, &Creation { permissions: 0o755, uid: 0, gid: 0, time });
        let mount = NewMount {
            filesystem: Box::new(devices),
            flags: MountFlags::default(),
            device: DEVICES_DEVICE,
            source: b"devtmpfs",
        };
        let id = self.vfs.mount(&start, b"/dev", mount, &root)?;
        let dev = self.vfs.mounts().mount_root(id)?;
        let mut nodes: Vec<(Vec<u8>, NewNode<'static>, u32)> = vec![
            (b"null".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(1, 3)), 0o666),
            (b"zero".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(1, 5)), 0o666),
            (b"full".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(1, 7)), 0o666),
            (b"random".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(1, 8)), 0o666),
            (b"urandom".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(1, 9)), 0o666),
            (b"tty".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(5, 0)), 0o666),
            (b"console".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(5, 1)), 0o600),
            (b"ttyS0".to_vec(), NewNode::CharacterDevice(DeviceNumber::new(4, 64)), 0o660),
        ];
        for index in 0..disk_count.min(26) {
            let name = vec![b'v', b'd', b'a' + index as u8];
            nodes.push((name, NewNode::BlockDevice(device::disk_number(index)), 0o660));
        }
        for (name, node, mode) in nodes {
            self.vfs.create_in(dev, &name, node, mode, &caller)?;
        }
        let temporary = MemoryFileSystem::new(
            self.options.temporary_capacity,
            65_536,
            &Creation { permissions: 0o1777, uid: 0, gid: 0, time },
        );
        let mount = NewMount {
            filesystem: Box::new(temporary),
            flags: MountFlags::default(),
            device: TEMPORARY_DEVICE,
            source: b"tmpfs",
        };
        self.vfs.mount(&start, b"/tmp", mount, &root)?;
        // `/proc/mounts`, where the root has or can make `/proc` (a
        // read-only root without one goes without the list).
        let proc_directory = match self.vfs.make(&start, b"/proc", NewNode::Directory, 0o555, &caller) {
            Ok(_) | Err(Errno::Exists) => true,
            Err(_) => false,
        };
        if proc_directory {
            let mount = NewMount {
                filesystem: Box::new(MountListFileSystem::new(self.mount_list.clone(), time)),
                flags: MountFlags { read_only: true },
                device: MOUNT_LIST_DEVICE,
                source: b"proc",
            };
            self.vfs.mount(&start, b"/proc", mount, &root)?;
        }
        self.refresh_mount_list();
        Ok(())
    }

    /// Rewrites `/proc/mounts` from the mount table (after every mount and
    /// unmount). A mount point whose path cannot be found (a directory
    /// removed under it) is listed as `?`.
    pub(crate) fn refresh_mount_list(&mut self) {
        let root = self.vfs.mounts().root();
        let mounts = self.vfs.list_mounts();
        let mut directories = Vec::with_capacity(mounts.len());
        for mount in &mounts {
            let directory = match mount.covered {
                None => b"/".to_vec(),
                Some(covered) => self.vfs.path_of(root, covered).unwrap_or_else(|_| b"?".to_vec()),
            };
            directories.push(directory);
        }
        let lines: Vec<MountLine<'_>> = mounts
            .iter()
            .zip(&directories)
            .map(|(mount, directory)| MountLine {
                source: &mount.source,
                directory,
                kind: mount.kind,
                read_only: mount.flags.read_only
                    || self.vfs.mounts().check_writable(mount.id) == Err(Errno::ReadOnlyFileSystem),
            })
            .collect();
        let text = crate::mount_list::render(&lines);
        // The list changes without a write: its readers through mappings
        // (and their status pages) must see it as one.
        let lists: Vec<NodeRef> = mounts
            .iter()
            .filter(|mount| mount.kind == "proc")
            .map(|mount| NodeRef { mount: mount.id, node: crate::mount_list::MOUNTS })
            .collect();
        for &list in &lists {
            self.file_changing(list);
        }
        self.mount_list.replace(text);
        for list in lists {
            let _ = self.after_file_change(list, 0, u64::MAX);
            self.file_changed(list);
        }
    }

    /// Serves memory objects through `objects` (the kernel's pager calls);
    /// until called, `map` answers `ENODEV`.
    pub fn set_memory_objects(&mut self, objects: Box<dyn mapping::MemoryObjects>) {
        self.objects = objects;
    }

    pub fn vfs(&mut self) -> &mut Vfs {
        &mut self.vfs
    }

    /// Routes a device major to another server (see [`DeviceTable`]).
    pub fn devices_mut(&mut self) -> &mut DeviceTable {
        &mut self.devices
    }

    /// Open files now.
    pub fn open_count(&self) -> usize {
        self.files.len()
    }

    /// Requests waiting now.
    pub fn wait_count(&self) -> usize {
        self.waits.len()
    }

    pub fn file(&self, handle: Handle) -> Result<&OpenFile, Errno> {
        self.files.get(&handle).ok_or(Errno::BadDescriptor)
    }

    fn file_mut(&mut self, handle: Handle) -> Result<&mut OpenFile, Errno> {
        self.files.get_mut(&handle).ok_or(Errno::BadDescriptor)
    }

    /// True when a read of `handle` answers at once (anything but a pipe or
    /// FIFO, whose read may wait); false for an unknown handle too.
    pub fn read_answers_now(&self, handle: Handle) -> bool {
        self.file(handle).is_ok_and(|file| !matches!(file.object, Object::Pipe { .. }))
    }

    /// What reads and writes need of an open file, copied out (cloning the
    /// whole open file would copy its path on every call).
    fn file_view(&self, handle: Handle) -> Result<FileView, Errno> {
        let file = self.file(handle)?;
        Ok(FileView {
            object: file.object,
            readable: file.readable,
            writable: file.writable,
            status: file.status,
            offset: file.offset,
        })
    }
}

/// See [`FileServer::file_view`].
#[derive(Clone, Copy)]
struct FileView {
    object: Object,
    readable: bool,
    writable: bool,
    status: u32,
    offset: u64,
}

impl FileView {
    fn nonblocking(&self) -> bool {
        self.status & open_flags::NON_BLOCKING != 0
    }

    fn append(&self) -> bool {
        self.status & open_flags::APPEND != 0
    }
}

/// `O_PATH` (not in [`open_flags::KNOWN`]: it changes what the others mean).
pub const PATH_FLAG: u32 = 0o10000000;

fn keep_id(id: u32) -> Option<u32> {
    (id != u32::MAX).then_some(id)
}

/// Reads a disk at any offset: whole sectors from the device, the wanted
/// bytes copied out. Past the end reads nothing.
fn read_disk(disk: &mut dyn BlockDevice, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno> {
    let size = disk.size();
    if offset >= size || buffer.is_empty() {
        return Ok(0);
    }
    let length = (buffer.len() as u64).min(size - offset) as usize;
    let first = offset / SECTOR_SIZE * SECTOR_SIZE;
    let end = (offset + length as u64).div_ceil(SECTOR_SIZE) * SECTOR_SIZE;
    let mut sectors = vec![0u8; (end - first) as usize];
    disk.read_at(first, &mut sectors).map_err(|_| Errno::InputOutput)?;
    let within = (offset - first) as usize;
    buffer[..length].copy_from_slice(&sectors[within..within + length]);
    Ok(length)
}

/// Writes a disk at any offset: partial sectors are read, changed and
/// written back. Past the end: `ENOSPC`.
fn write_disk(disk: &mut dyn BlockDevice, offset: u64, data: &[u8]) -> Result<usize, Errno> {
    let size = disk.size();
    if data.is_empty() {
        return Ok(0);
    }
    if offset >= size {
        return Err(Errno::NoSpace);
    }
    let length = (data.len() as u64).min(size - offset) as usize;
    let first = offset / SECTOR_SIZE * SECTOR_SIZE;
    let end = (offset + length as u64).div_ceil(SECTOR_SIZE) * SECTOR_SIZE;
    let mut sectors = vec![0u8; (end - first) as usize];
    let within = (offset - first) as usize;
    let partial = within != 0 || !(offset + length as u64).is_multiple_of(SECTOR_SIZE);
    if partial {
        disk.read_at(first, &mut sectors).map_err(|_| Errno::InputOutput)?;
    }
    sectors[within..within + length].copy_from_slice(&data[..length]);
    disk.write_at(first, &sectors).map_err(|_| Errno::InputOutput)?;
    Ok(length)
}
