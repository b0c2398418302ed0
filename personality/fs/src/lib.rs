//! mach-fs: the file server's transport — `io.defs`, `fs.defs` and the
//! kernel's notifications and pager requests in, [`mach_vfs::server`] calls
//! and replies out. `src/main.rs` is the server task around it; the
//! portable state (the VFS, open files, pipes, locks, waits) is `mach-vfs`'s.
//!
//! How requests become calls (docs/file-server.md has the whole picture):
//!
//! - **An open file is a port.** Each open makes a receive right, makes the
//!   one send right the client gets, asks for its no-senders notification
//!   and puts it in the server's port set; its name is the open file's
//!   [`mach_vfs::server::Handle`]. A request arrives on it
//!   ([`libmach::Context::port`]); the notification ends the open file
//!   ([`FileService::notified`]).
//! - **Who asks** comes from the audit trailer ([`libmach::Context::credential`]);
//!   a request without one (only hand-made test buffers lack it) is served
//!   as the unprivileged user `nobody`.
//! - **Waiting**: a deferrable routine whose call waits keeps its reply
//!   right (`Pending*::keep`) under the wait's id; after every request
//!   [`FileService::deliver_ready`] offers the completions and sends them,
//!   committing only what a live client received. The periodic
//!   [`FileService::tick`] drops waits whose client is gone.
//! - **Devices of other servers** (ttys) are opened through `device.defs`
//!   ([`RemoteDevices`]) and their port handed over.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod configuration;
pub mod disk;
mod fs_server;
mod io_server;
mod pager;
mod waits;

#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use libmach::abi::{PortName, TaskCredential};
use libmach::{Context, Notification, PortKernel, ReceiveRight, SendRight};
use mach_vfs::server::{FileServer, Handle, Request, WaitId};
use mach_vfs::{Credential, Errno, Timestamp};

pub use pager::{KernelPager, PagerRequest};

/// The server's private clock tick (`timer.defs`). The generated client of
/// an interface with only one-way routines never reads its reply port.
#[allow(dead_code)]
pub mod timer {
    include!(concat!(env!("OUT_DIR"), "/fs_timer.rs"));
}
pub use personality_interfaces::{device, fs, io};

/// The unprivileged user a request without a credential is served as.
pub const NOBODY: u32 = 65534;

/// The wall clock time stamps come from.
pub trait Clock {
    fn now(&self) -> Timestamp;
}

/// Opens devices other servers serve (`device.defs`): the server task
/// looks the service up and calls it; tests answer themselves.
pub trait RemoteDevices<K: PortKernel> {
    /// An io port for device `device` (a `dev_t`) of the server registered
    /// as `service`, opened with `flags` for `opener`.
    fn open(&mut self, service: &str, device: u64, flags: u32, opener: &device::Opener) -> Result<SendRight<K>, Errno>;
}

/// A reply right kept for a waiting request, by routine.
enum PendingReply<K: PortKernel> {
    Read(io::PendingRead<K>),
    ReadLarge(io::PendingReadLarge<K>),
    Write(io::PendingWrite<K>),
    WriteLarge(io::PendingWriteLarge<K>),
    SetLock(io::PendingSetLock<K>),
    Flock(io::PendingFlock<K>),
    Poll(io::PendingPoll<K>),
    /// A FIFO open: the new open file's port, made already.
    Open(fs::PendingOpen<K>, ReceiveRight<K>),
}

/// The file server as a Mach server.
pub struct FileService<K: PortKernel> {
    kernel: K,
    core: FileServer,
    /// The port set every open file's port joins (the server receives on it).
    set: PortName,
    /// Receive rights of the open files, by name (= handle).
    ports: BTreeMap<PortName, ReceiveRight<K>>,
    pending: BTreeMap<WaitId, PendingReply<K>>,
    clock: Box<dyn Clock>,
    remote: Box<dyn RemoteDevices<K>>,
    /// After `shutdown`: every change is refused (`EROFS`).
    shut_down: bool,
    ticks: u64,
    /// The port the server's own timer thread sends ticks to.
    tick_port: Option<PortName>,
    /// Where inline reads are read into (kept: a fresh one would be
    /// cleared on every call).
    scratch: Box<[u8; io_server::INLINE_MAX]>,
    /// Cached disk data kept before giving memory back.
    cache_budget: usize,
    /// The last time the clock said (see `request_without_time`).
    last_time: core::cell::Cell<Timestamp>,
    /// Ports of ended open files, in the set, for new ones.
    spare_ports: alloc::vec::Vec<ReceiveRight<K>>,
}

/// Most ports kept for reuse.
pub const SPARE_PORTS_MAX: usize = 64;

/// Seconds between write-backs of every file system (the periodic flush).
pub const FLUSH_INTERVAL_TICKS: u64 = 5;

fn credential_of(credential: Option<TaskCredential>) -> Credential {
    match credential {
        Some(credential) => {
            let groups = &credential.groups[..(credential.group_count as usize).min(credential.groups.len())];
            let mut converted = Credential::new(credential.pid, credential.ruid, credential.rgid, groups);
            converted.effective_uid = credential.euid;
            converted.effective_gid = credential.egid;
            converted
        }
        None => Credential::new(0, NOBODY, NOBODY, &[]),
    }
}

impl<K: PortKernel> FileService<K> {
    /// Serves `core` on ports that join `set`.
    pub fn new(
        kernel: &K,
        core: FileServer,
        set: PortName,
        clock: Box<dyn Clock>,
        remote: Box<dyn RemoteDevices<K>>,
    ) -> Self {
        FileService {
            kernel: kernel.clone(),
            core,
            set,
            ports: BTreeMap::new(),
            pending: BTreeMap::new(),
            clock,
            remote,
            shut_down: false,
            ticks: 0,
            tick_port: None,
            scratch: Box::new([0; io_server::INLINE_MAX]),
            cache_budget: 12 << 20,
            last_time: core::cell::Cell::new(Timestamp::default()),
            spare_ports: alloc::vec::Vec::new(),
        }
    }

    /// The core (tests, the server task's set-up).
    pub fn core(&mut self) -> &mut FileServer {
        &mut self.core
    }

    /// Open files now (their ports).
    pub fn open_count(&self) -> usize {
        self.ports.len()
    }

    /// Requests waiting now.
    pub fn waiting_count(&self) -> usize {
        self.pending.len()
    }

    /// Makes the root directory's port: the one registered as `fs`, from
    /// which every root and working directory is opened. Never ends.
    pub fn root_port(&mut self) -> Result<SendRight<K>, Errno> {
        let port = ReceiveRight::allocate(&self.kernel).map_err(|_| Errno::OutOfMemory)?;
        self.core.install_root(port.name() as Handle)?;
        let send = port.make_send().map_err(|_| Errno::OutOfMemory)?;
        self.kernel.port_move_member(port.name(), self.set).map_err(|_| Errno::OutOfMemory)?;
        // No no-senders request: the root lives as long as the server.
        self.ports.insert(port.name(), port);
        Ok(send)
    }

    /// The request's sender and time.
    fn request(&self, context: &Context<'_, K>) -> Request {
        let time = self.clock.now();
        self.last_time.set(time);
        Request { credential: credential_of(context.credential()), task: context.sender().unwrap_or(0), time }
    }

    /// The request's sender, for an operation that changes no time stamp
    /// (reads keep no access time): the clock is not read (a trap saved),
    /// the last time known stands in.
    fn request_without_time(&self, context: &Context<'_, K>) -> Request {
        Request {
            credential: credential_of(context.credential()),
            task: context.sender().unwrap_or(0),
            time: self.last_time.get(),
        }
    }

    /// A port for a new open file, in the server's set, no send right
    /// given out yet: a spare one (an ended open file's, see
    /// [`FileService::notified`]) or a new one.
    fn new_port(&mut self) -> Result<ReceiveRight<K>, Errno> {
        if let Some(port) = self.spare_ports.pop() {
            return Ok(port);
        }
        let port = ReceiveRight::allocate(&self.kernel).map_err(|_| Errno::TooManyOpenFiles)?;
        self.kernel.port_move_member(port.name(), self.set).map_err(|_| Errno::TooManyOpenFiles)?;
        Ok(port)
    }

    /// Gives out the first send right of `port` (an open file the core
    /// installed under its name) and asks for the no-senders notification
    /// that will end it (made after the right, so it cannot fire at once).
    /// On failure the open file is ended and the port destroyed.
    fn activate(&mut self, port: ReceiveRight<K>) -> Result<SendRight<K>, Errno> {
        let activated = port.make_send().and_then(|send| {
            port.request_no_senders(1)?;
            Ok(send)
        });
        match activated {
            Ok(send) => {
                self.ports.insert(port.name(), port);
                Ok(send)
            }
            Err(_) => {
                let _ = self.core.release(port.name() as Handle, self.clock.now());
                Err(Errno::TooManyOpenFiles)
            }
        }
    }

    /// A kernel notification arrived on the set: a no-senders on an open
    /// file's port ends it.
    /// The port is kept for a later open file (up to [`SPARE_PORTS_MAX`]):
    /// nobody can send to it any more, and every message sent to it before
    /// the last right went came before this notification (a port's queue
    /// is in order), so nothing of the old file can reach the new one. That
    /// saves allocating, joining the set and destroying a port per open.
    pub fn notified(&mut self, notification: Notification<K>) {
        if let Notification::NoSenders { port, .. } = notification {
            if let Some(receive) = self.ports.remove(&port) {
                let _ = self.core.release(port as Handle, self.clock.now());
                if self.spare_ports.len() < SPARE_PORTS_MAX {
                    self.spare_ports.push(receive);
                }
            }
        }
    }

    /// Ticks are taken only from `port` (a port only the server's timer
    /// thread can send to): the same message on a client's port is refused.
    pub fn set_tick_port(&mut self, port: PortName) {
        self.tick_port = Some(port);
    }

    /// Cached disk data over every mount kept before the periodic tick makes
    /// the caches give memory back.
    pub fn set_cache_budget(&mut self, bytes: usize) {
        self.cache_budget = bytes;
    }

    /// Refuses changes once shut down.
    fn check_running(&self) -> Result<(), Errno> {
        if self.shut_down {
            Err(Errno::ReadOnlyFileSystem)
        } else {
            Ok(())
        }
    }

    /// The periodic work (once a second): waits whose client gave up go,
    /// every few seconds everything is written back, and caches over the
    /// budget give memory back.
    pub fn tick(&mut self) {
        self.ticks += 1;
        self.sweep_abandoned();
        let now = self.clock.now();
        self.last_time.set(now);
        if self.ticks.is_multiple_of(FLUSH_INTERVAL_TICKS) && !self.shut_down {
            let _ = self.core.sync_all(now);
        }
        if self.core.cached_bytes() > self.cache_budget {
            self.core.shrink_caches();
        }
    }

    /// Writes everything back and unmounts (power-off, or the last act of
    /// the server task).
    pub fn shut_down(&mut self) -> Result<(), Errno> {
        if self.shut_down {
            return Ok(());
        }
        self.shut_down = true;
        self.core.shutdown(self.clock.now())
    }
}

/// The interfaces' error for a POSIX error (both declare every errno
/// with its own number).
fn io_error(error: Errno) -> io::Error {
    io::Error::from_code(error.code()).unwrap_or(io::Error::InputOutput)
}

fn fs_error(error: Errno) -> fs::Error {
    fs::Error::from_code(error.code()).unwrap_or(fs::Error::InputOutput)
}

impl<K: PortKernel> timer::Server<K> for FileService<K> {
    fn tick(&mut self, context: &Context<'_, K>) {
        if self.tick_port == Some(context.port()) {
            FileService::tick(self);
        }
    }
}
