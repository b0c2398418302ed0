//! The memory server (docs/memory-server.md): `memory.defs` served for
//! every process's address space.
//!
//! [`MemoryServer`] keeps one [`memory_core::Layout`] per address space and
//! carries each change out on the process's task through a
//! [`TaskMemory`] (the VM traps; a recording double in the host tests), and
//! asks the file server for files' memory objects through [`Files`]. It
//! serves two kinds of port, both in one port set:
//!
//! - each address space's port (the process holds a send right,
//!   `AT_MACH_MEMORY`): mmap, munmap, mprotect, mremap, msync, brk on that
//!   space, whoever sends them (holding the port is the authority);
//! - the public port registered as `memory`: `create`, `fork`,
//!   `set_limits`, `sizes`, only from a sender whose audited credential has
//!   pid 0 (the process server).
//!
//! A space goes when its task dies (a dead-name notification on the task
//! port) or when nobody holds its port any more (no-senders): its files'
//! ports and objects are released with it. The kernel frees the memory.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;

use libmach::{Context, Notification, PortKernel, ReceiveRight, SendRight};
use mach_abi::{KernReturn, PortName};
use memory_core::image::{self, Segment};
use memory_core::{kernel_page_limit, Action, Errno, FileKey, Layout, Limits, Outcome, PAGE_SIZE};
use personality_interfaces::memory::{self, CreateReply, Error, SizesReply};

/// The VM traps on another task (named by the server's send right to its
/// task port), as docs/vm.md describes them.
pub trait TaskMemory {
    /// `vm_allocate` fixed: zeroed, read-write.
    fn allocate(&mut self, task: PortName, address: u64, size: u64) -> Result<(), KernReturn>;
    /// `vm_map` of `object` at `offset`, fixed at `address`, private
    /// (`VM_FLAGS_COPY`) or shared, with `protection` (never none).
    #[allow(clippy::too_many_arguments)] // the trap's own arguments
    fn map(
        &mut self,
        task: PortName,
        address: u64,
        size: u64,
        object: PortName,
        offset: u64,
        private: bool,
        protection: u32,
    ) -> Result<(), KernReturn>;
    fn protect(&mut self, task: PortName, address: u64, size: u64, protection: u32) -> Result<(), KernReturn>;
    fn inherit(&mut self, task: PortName, address: u64, size: u64, share: bool) -> Result<(), KernReturn>;
    fn deallocate(&mut self, task: PortName, address: u64, size: u64) -> Result<(), KernReturn>;
    /// `vm_write`.
    fn write(&mut self, task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn>;
    /// `vm_read` into `buffer`.
    fn read(&mut self, task: PortName, address: u64, buffer: &mut [u8]) -> Result<(), KernReturn>;
    /// `task_set_memory_limit` (`None`: the kernel's default).
    fn set_page_limit(&mut self, task: PortName, pages: Option<u64>) -> Result<(), KernReturn>;
    /// `task_terminate` (a child made by `fork_task` that could not be set up).
    fn terminate(&mut self, task: PortName) -> Result<(), KernReturn>;
    /// `task_create(parent, TASK_CREATE_INHERIT_MEMORY |
    /// TASK_CREATE_INHERIT_SEND_RIGHTS)`: a forked child of `parent` (no
    /// thread yet); the server's send right to its task port.
    fn fork_task(&mut self, parent: PortName) -> Result<PortName, KernReturn>;
}

/// What the server asks of the file server about an open file (its port).
pub trait Files<K: PortKernel> {
    /// Whether the open file was opened for reading and for writing.
    fn access(&mut self, file: &SendRight<K>) -> Result<(bool, bool), Errno>;
    /// The file's memory object and its size (`io.map`); `writable` for a
    /// shared mapping that may be written.
    fn map(&mut self, file: &SendRight<K>, writable: bool) -> Result<(SendRight<K>, u64), Errno>;
    /// `msync`: the pages of `[offset, offset + length)` reach the file.
    fn sync(&mut self, file: &SendRight<K>, offset: u64, length: u64, invalidate: bool) -> Result<(), Errno>;
}

/// A file one address space maps.
struct MappedFile<K: PortKernel> {
    /// Keeps the file open (the key is this right's name).
    file: SendRight<K>,
    object: SendRight<K>,
    object_size: u64,
    readable: bool,
    writable: bool,
}

/// One process's address space.
struct Space<K: PortKernel> {
    /// Owned: the space's port goes with it.
    _port: ReceiveRight<K>,
    task: SendRight<K>,
    layout: Layout,
    /// Shared with the space's forks (copying the rights would be two
    /// traps a file at each fork and two more when the child ends).
    files: BTreeMap<FileKey, Rc<MappedFile<K>>>,
}

/// The server.
pub struct MemoryServer<K: PortKernel, V: TaskMemory, F: Files<K>> {
    kernel: K,
    vm: V,
    files: F,
    /// The port set every space port joins.
    set: PortName,
    /// The registered `memory` port (server routines).
    public: PortName,
    /// By the name of the space's receive right.
    spaces: BTreeMap<PortName, Space<K>>,
    /// Space ports by the name of their task port (for dead-name notices).
    by_task: BTreeMap<PortName, PortName>,
    /// A buffer for mremap's copies, kept between calls.
    copy_buffer: Vec<u8>,
}

/// Bytes mremap copies at a time.
const COPY_CHUNK: usize = 64 * 1024;

fn error(errno: Errno) -> Error {
    Error::from_code(errno.0).unwrap_or(Error::Einval)
}

fn kernel_error(code: KernReturn) -> Errno {
    match code {
        KernReturn::InvalidArgument | KernReturn::InvalidValue => Errno::EINVAL,
        KernReturn::ProtectionFailure => Errno::EACCES,
        _ => Errno::ENOMEM,
    }
}

impl<K: PortKernel, V: TaskMemory, F: Files<K>> MemoryServer<K, V, F> {
    /// A server whose spaces join `set`, taking server requests on `public`.
    pub fn new(kernel: K, vm: V, files: F, set: PortName, public: PortName) -> Self {
        MemoryServer {
            kernel,
            vm,
            files,
            set,
            public,
            spaces: BTreeMap::new(),
            by_task: BTreeMap::new(),
            copy_buffer: Vec::new(),
        }
    }

    /// How many address spaces it holds.
    pub fn space_count(&self) -> usize {
        self.spaces.len()
    }

    /// The names of the spaces' ports (tests, diagnostics).
    pub fn space_ports(&self) -> Vec<PortName> {
        self.spaces.keys().copied().collect()
    }

    /// The layout of the space whose port is `port` (tests, diagnostics).
    pub fn layout(&self, port: PortName) -> Option<&Layout> {
        self.spaces.get(&port).map(|space| &space.layout)
    }

    fn check_server(&self, context: &Context<'_, K>) -> Result<(), Error> {
        let from_system = context.credential().is_some_and(|credential| credential.pid == 0);
        if context.port() == self.public && from_system {
            Ok(())
        } else {
            Err(Error::Eperm)
        }
    }

    fn space_of(&mut self, context: &Context<'_, K>) -> Result<&mut Space<K>, Error> {
        self.spaces.get_mut(&context.port()).ok_or(Error::Eperm)
    }

    /// Makes a new space for `task` with `layout`: its port joins the set,
    /// with a no-senders request; the task port gets a dead-name request.
    fn new_space(&mut self, task: SendRight<K>, layout: Layout) -> Result<SendRight<K>, Errno> {
        if task.is_dead() || self.by_task.contains_key(&task.name()) {
            return Err(Errno::EINVAL);
        }
        let port = ReceiveRight::allocate(&self.kernel).map_err(kernel_error)?;
        let send = port.make_send().map_err(kernel_error)?;
        port.request_no_senders(1).map_err(kernel_error)?;
        self.kernel.port_move_member(port.name(), self.set).map_err(kernel_error)?;
        // The dead-name notification comes to the space's own port, in the set.
        libmach::notify::request(
            &self.kernel,
            task.name(),
            mach_abi::NotifyId::DeadName,
            0,
            port.name(),
            mach_abi::Disposition::MakeSendOnce,
        )
        .map_err(kernel_error)?;
        let limit = kernel_page_limit(layout.limits().address_space);
        self.vm.set_page_limit(task.name(), limit).map_err(kernel_error)?;
        self.by_task.insert(task.name(), port.name());
        self.spaces.insert(port.name(), Space { _port: port, task, layout, files: BTreeMap::new() });
        Ok(send)
    }

    /// Forgets a space (its task died or nobody holds its port): its files
    /// and objects are released.
    fn drop_space(&mut self, port: PortName) {
        if let Some(space) = self.spaces.remove(&port) {
            self.by_task.remove(&space.task.name());
        }
    }

    /// A kernel notification arrived (on a space port, in the set).
    pub fn notified(&mut self, notification: Notification<K>) {
        match notification {
            Notification::NoSenders { port, .. } => self.drop_space(port),
            Notification::DeadName { name } => {
                if let Some(port) = self.by_task.get(&name).copied() {
                    self.drop_space(port);
                }
            }
            _ => {}
        }
    }

    /// Carries `outcome` out on the space's task. On a kernel failure the
    /// range the failing action made is taken out of both the task and the
    /// layout, so they agree again, and the error is answered.
    fn apply(&mut self, port: PortName, outcome: Outcome) -> Result<(), Errno> {
        let Some(space) = self.spaces.get_mut(&port) else { return Err(Errno::EINVAL) };
        let task = space.task.name();
        for action in &outcome.actions {
            let done = match *action {
                Action::Allocate { address, size } => self.vm.allocate(task, address, size),
                Action::Map { address, size, file, offset, private, protection } => match space.files.get(&file) {
                    Some(mapped) => self.vm.map(task, address, size, mapped.object.name(), offset, private, protection),
                    None => Err(KernReturn::InvalidArgument),
                },
                Action::Protect { address, size, protection } => self.vm.protect(task, address, size, protection),
                Action::Inherit { address, size, share } => self.vm.inherit(task, address, size, share),
                Action::Deallocate { address, size } => self.vm.deallocate(task, address, size),
                Action::Zero { address, size } => zero(&mut self.vm, task, address, size),
                Action::Copy { from, to, size } => copy(&mut self.vm, &mut self.copy_buffer, task, from, to, size),
            };
            if let Err(code) = done {
                libmach::println!("memory: {action:x?} failed on a process's task: {code:?}; that range is unmapped");
                let (address, size) = action_range(action);
                let _ = self.vm.deallocate(task, address, size);
                let _ = space.layout.deallocate(address, size);
                return Err(kernel_error(code));
            }
        }
        for file in outcome.released {
            space.files.remove(&file);
        }
        Ok(())
    }

    /// Takes `file` into the space's files (or finds it there). `known`:
    /// whether the open file reads and writes, when the caller knows it
    /// (otherwise the file server is asked).
    fn take_file(
        &mut self,
        port: PortName,
        file: SendRight<K>,
        writable_object: bool,
        known: Option<(bool, bool)>,
    ) -> Result<FileKey, Errno> {
        let key = file.name() as FileKey;
        let space = self.spaces.get_mut(&port).ok_or(Errno::EINVAL)?;
        if space.files.contains_key(&key) {
            // The same open file again: the extra reference goes with `file`.
            drop(file);
            return Ok(key);
        }
        if file.is_dead() {
            return Err(Errno::EBADF);
        }
        let (readable, writable) = match known {
            Some(access) => access,
            None => self.files.access(&file)?,
        };
        let (object, object_size) = self.files.map(&file, writable_object && writable)?;
        let space = self.spaces.get_mut(&port).ok_or(Errno::EINVAL)?;
        space.files.insert(key, Rc::new(MappedFile { file, object, object_size, readable, writable }));
        Ok(key)
    }

    fn finish(&mut self, port: PortName, result: Result<(u64, Outcome), Errno>) -> Result<u64, Error> {
        let (address, outcome) = result.map_err(error)?;
        self.apply(port, outcome).map_err(error)?;
        Ok(address)
    }

    /// Releases files no region maps (a failed map took one in for nothing).
    fn forget_unmapped_files(&mut self, port: PortName) {
        if let Some(space) = self.spaces.get_mut(&port) {
            let mapped = space.layout.files();
            space.files.retain(|key, _| mapped.contains(key));
        }
    }
}

fn action_range(action: &Action) -> (u64, u64) {
    match *action {
        Action::Allocate { address, size }
        | Action::Map { address, size, .. }
        | Action::Protect { address, size, .. }
        | Action::Inherit { address, size, .. }
        | Action::Deallocate { address, size }
        | Action::Zero { address, size } => (address & !(PAGE_SIZE - 1), size.next_multiple_of(PAGE_SIZE)),
        Action::Copy { to, size, .. } => (to, size.next_multiple_of(PAGE_SIZE)),
    }
}

const ZEROS: [u8; 4096] = [0; 4096];

fn zero<V: TaskMemory>(vm: &mut V, task: PortName, address: u64, size: u64) -> Result<(), KernReturn> {
    let mut done = 0;
    while done < size {
        let length = (size - done).min(ZEROS.len() as u64);
        vm.write(task, address + done, &ZEROS[..length as usize])?;
        done += length;
    }
    Ok(())
}

/// mremap's copy: a chunk at a time through the server; pages that read
/// as zeros are not written (the new range is zero already, and writing
/// them would make untouched pages resident).
fn copy<V: TaskMemory>(
    vm: &mut V,
    buffer: &mut Vec<u8>,
    task: PortName,
    from: u64,
    to: u64,
    size: u64,
) -> Result<(), KernReturn> {
    buffer.resize(COPY_CHUNK, 0);
    let mut done = 0;
    while done < size {
        let length = (size - done).min(COPY_CHUNK as u64) as usize;
        vm.read(task, from + done, &mut buffer[..length])?;
        for (index, page) in buffer[..length].chunks(PAGE_SIZE as usize).enumerate() {
            if page.iter().any(|&byte| byte != 0) {
                vm.write(task, to + done + (index as u64) * PAGE_SIZE, page)?;
            }
        }
        done += length as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

fn limits(address_space: u64, data: u64) -> Limits {
    Limits { address_space, data }
}

impl<K: PortKernel, V: TaskMemory, F: Files<K>> memory::Server<K> for MemoryServer<K, V, F> {
    fn allocate(
        &mut self,
        context: &Context<'_, K>,
        address: u64,
        length: u64,
        protection: u32,
        flags: u32,
    ) -> Result<u64, Error> {
        let port = context.port();
        let result = self.space_of(context)?.layout.allocate(address, length, protection, flags);
        self.finish(port, result)
    }

    fn map(
        &mut self,
        context: &Context<'_, K>,
        file: SendRight<K>,
        offset: u64,
        address: u64,
        length: u64,
        protection: u32,
        flags: u32,
    ) -> Result<u64, Error> {
        let port = context.port();
        self.space_of(context)?;
        let shared = flags & memory_core::map_flags::TYPE != memory_core::map_flags::PRIVATE;
        let key = self.take_file(port, file, shared, None).map_err(error)?;
        let space = self.spaces.get_mut(&port).ok_or(Error::Eperm)?;
        let mapped = &space.files[&key];
        let (readable, writable, object_size) = (mapped.readable, mapped.writable, mapped.object_size);
        let within_object = offset.checked_add(length).is_some_and(|end| end <= object_size);
        let result = if within_object {
            space.layout.map_file(key, offset, address, length, protection, flags, readable, writable)
        } else {
            Err(Errno::EINVAL)
        };
        let answer = self.finish(port, result);
        if answer.is_err() {
            self.forget_unmapped_files(port);
        }
        answer
    }

    fn deallocate(&mut self, context: &Context<'_, K>, address: u64, length: u64) -> Result<(), Error> {
        let port = context.port();
        let result = self.space_of(context)?.layout.deallocate(address, length).map(|outcome| (0, outcome));
        self.finish(port, result).map(|_| ())
    }

    fn protect(&mut self, context: &Context<'_, K>, address: u64, length: u64, protection: u32) -> Result<(), Error> {
        let port = context.port();
        let result = self.space_of(context)?.layout.protect(address, length, protection).map(|outcome| (0, outcome));
        self.finish(port, result).map(|_| ())
    }

    fn remap(
        &mut self,
        context: &Context<'_, K>,
        address: u64,
        old_length: u64,
        new_length: u64,
        flags: u32,
        new_address: u64,
    ) -> Result<u64, Error> {
        let port = context.port();
        let result = self.space_of(context)?.layout.remap(address, old_length, new_length, flags, new_address);
        self.finish(port, result)
    }

    fn sync(&mut self, context: &Context<'_, K>, address: u64, length: u64, flags: u32) -> Result<(), Error> {
        let space = self.spaces.get(&context.port()).ok_or(Error::Eperm)?;
        let pieces = space.layout.sync(address, length, flags).map_err(error)?;
        let invalidate = flags & memory_core::sync_flags::INVALIDATE != 0;
        for (key, offset, size) in pieces {
            if let Some(mapped) = space.files.get(&key) {
                self.files.sync(&mapped.file, offset, size, invalidate).map_err(error)?;
            }
        }
        Ok(())
    }

    fn set_break(&mut self, context: &Context<'_, K>, address: u64) -> Result<u64, Error> {
        let port = context.port();
        let space = self.space_of(context)?;
        let before = space.layout.clone();
        let (value, outcome) = space.layout.set_break(address);
        if self.apply(port, outcome).is_err() {
            // Only a failed growth can get here (nothing was made): the
            // break stays where it was, as brk(2) says.
            let space = self.spaces.get_mut(&port).ok_or(Error::Eperm)?;
            space.layout = before;
            return Ok(space.layout.break_value());
        }
        Ok(value)
    }

    fn create(
        &mut self,
        context: &Context<'_, K>,
        task: SendRight<K>,
        file: Option<SendRight<K>>,
        segments: &[memory::Segment],
        stack_size: u64,
        limit_address_space: u64,
        limit_data: u64,
    ) -> Result<CreateReply<K>, Error> {
        self.check_server(context)?;
        let limits = limits(limit_address_space, limit_data);
        let segments: Vec<Segment> = segments
            .iter()
            .map(|segment| Segment {
                address: segment.address,
                memory_size: segment.memory_size,
                file_offset: segment.file_offset,
                file_size: segment.file_size,
                protection: segment.protection,
            })
            .collect();
        let (key, plan) = match &file {
            Some(file) => {
                let key = file.name() as FileKey;
                (Some(key), image::plan(key, &segments, stack_size, limits).map_err(error)?)
            }
            None if segments.is_empty() => (None, image::stack_only(stack_size, limits).map_err(error)?),
            None => return Err(Error::Einval),
        };
        let (stack_top, break_start) = (plan.stack_top, plan.layout.break_start());
        let send = self.new_space(task, plan.layout).map_err(error)?;
        let port = send.name();
        if let (Some(file), Some(key)) = (file, key) {
            // An executable, from the process server: read for the image
            // (the right to run it was checked there), never written
            // through (its mappings are private), so the file server need
            // not be asked how it was opened; no process holds this right
            // to map it otherwise.
            let taken = self.take_file(port, file, false, Some((true, false)));
            if let Err(errno) = taken.and_then(|taken| if taken == key { Ok(()) } else { Err(Errno::EINVAL) }) {
                self.drop_space(port);
                return Err(error(errno));
            }
        }
        if let Err(errno) = self.apply(port, plan.outcome) {
            self.drop_space(port);
            return Err(error(errno));
        }
        Ok(CreateReply { space: send, stack_top, break_start })
    }

    fn fork(&mut self, context: &Context<'_, K>, parent: SendRight<K>) -> Result<memory::ForkReply<K>, Error> {
        self.check_server(context)?;
        // A right to one of our own ports arrives under the receive right's name.
        let parent_space = self.spaces.get(&parent.name()).ok_or(Error::Einval)?;
        let layout = parent_space.layout.clone();
        let parent_task = parent_space.task.name();
        let files = parent_space.files.clone();
        // The child is made here, between two requests of the parent's: its
        // memory is exactly what the layout says.
        let child = self.vm.fork_task(parent_task).map_err(|code| error(kernel_error(code)))?;
        let child = SendRight::from_name(&self.kernel, child);
        let task_for_caller = child.try_clone().map_err(|_| Error::Enomem)?;
        let space = match self.new_space(child, layout) {
            Ok(space) => space,
            Err(errno) => {
                // Nobody else holds the child yet: ending it frees it.
                let _ = self.vm.terminate(task_for_caller.name());
                return Err(error(errno));
            }
        };
        if let Some(created) = self.spaces.get_mut(&space.name()) {
            created.files.extend(files);
        }
        Ok(memory::ForkReply { child: task_for_caller, space })
    }

    fn set_limits(
        &mut self,
        context: &Context<'_, K>,
        space: SendRight<K>,
        address_space: u64,
        data: u64,
    ) -> Result<(), Error> {
        self.check_server(context)?;
        let target = self.spaces.get_mut(&space.name()).ok_or(Error::Einval)?;
        target.layout.set_limits(limits(address_space, data));
        let task = target.task.name();
        self.vm.set_page_limit(task, kernel_page_limit(address_space)).map_err(|code| error(kernel_error(code)))
    }

    fn sizes(&mut self, context: &Context<'_, K>, space: SendRight<K>) -> Result<SizesReply, Error> {
        self.check_server(context)?;
        let target = self.spaces.get(&space.name()).ok_or(Error::Einval)?;
        Ok(SizesReply { mapped: target.layout.mapped_bytes(), data: target.layout.data_bytes() })
    }
}
