//! The process server (docs/process-server.md): `proc.defs` served for
//! every process, over the process table of `process-core`.
//!
//! [`ProcessServer`] is the thin shell around [`process_core::ProcessTable`]:
//! each request becomes a table operation, and the table's
//! [`process_core::Effect`]s become kernel calls ([`Tasks`]: terminate,
//! suspend, resume a task, set its credential, build a new one), messages
//! to the process's signal port (`signal.defs`), answers to waiting `wait`
//! calls, and notices to the other servers. The memory server
//! ([`MemoryService`]), the file server ([`FileService`]) and the console
//! ([`Console`]) are reached through traits, so the same code runs on
//! Mach_R and in the host tests (libmach's fake kernel, with the real
//! memory server's request handling attached and a recording [`Tasks`]).
//!
//! Ports, all in one port set:
//! - each process's **process port** (its "process" requests: the port
//!   says who asks) and **exception port** (the kernel's `exception_raise`
//!   messages for its task);
//! - the public port registered as `proc` (the other servers' requests,
//!   from senders with pid 0);
//! - a notification port: dead-name notices of task ports (a task that
//!   ended without `exit`).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod image;
pub mod init;
mod requests;
mod signals;

#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use libmach::{Context, Notification, PortKernel, ReceiveRight, SendRight};
use mach_abi::{Disposition, KernReturn, PortName, TaskCredential};
use personality_interfaces::proc::{self, PendingWait};
use personality_interfaces::{memory, signal};
use process_core::table::{Effect, Pid, INIT};
use process_core::{Errno, ProcessTable, Signal, WaitOptions, WaitSelector};

pub use image::{ImageRequest, StartSource};

/// The registers a new thread starts with, by role (the server binary
/// puts them in its architecture's thread state); every other register
/// starts at 0, the call's result (rax, x0) included unless it is an
/// argument register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Registers {
    pub pc: u64,
    pub sp: u64,
    /// The first two arguments of the C calling convention (rdi, rsi; x0, x1).
    pub arguments: [u64; 2],
    /// The callee-saved registers in `proc::ResumeState::saved`'s order.
    pub saved: [u64; 12],
    /// rflags; aarch64's NZCV.
    pub flags: u64,
    /// The thread pointer (`thread_set_tls`).
    pub thread_pointer: u64,
}

/// The flags a new image starts with (x86_64: interrupts on, the reserved
/// bit 1; the kernel forces what user mode needs on aarch64).
pub const INITIAL_FLAGS: u64 = if cfg!(target_arch = "x86_64") { 0x202 } else { 0 };

/// What `task_info` tells of a task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    pub threads: u32,
    pub resident_pages: u64,
    pub cpu_microseconds: u64,
    pub suspended: bool,
}

/// `reboot(2)`'s three actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Off,
    Restart,
    Halt,
}

/// The kernel calls the server makes on tasks and threads (named by the
/// server's send rights to their ports), and what it needs of the machine.
pub trait Tasks<K: PortKernel> {
    /// Milliseconds since boot.
    fn now(&self) -> u64;
    /// The wall clock at the kernel clock's zero, nanoseconds since the epoch.
    fn boot_time(&self) -> u64;
    /// `task_create` of an empty task (exec, spawn, init; a fork's child is
    /// made by the memory server: [`MemoryService::fork`]).
    fn create(&mut self) -> Result<SendRight<K>, KernReturn>;
    fn terminate(&mut self, task: PortName) -> Result<(), KernReturn>;
    fn suspend(&mut self, task: PortName) -> Result<(), KernReturn>;
    fn resume(&mut self, task: PortName) -> Result<(), KernReturn>;
    /// `task_set_credential` (with the host port).
    fn set_credential(&mut self, task: PortName, credential: &TaskCredential) -> Result<(), KernReturn>;
    /// The task's exception port for every exception: a send right made
    /// from the server's receive right `port`.
    fn set_exception_port(&mut self, task: PortName, port: PortName) -> Result<(), KernReturn>;
    /// A new suspended thread in `task`.
    fn create_thread(&mut self, task: PortName) -> Result<SendRight<K>, KernReturn>;
    /// Sets a suspended thread's registers and thread pointer and lets it run.
    fn start_thread(&mut self, thread: PortName, registers: &Registers) -> Result<(), KernReturn>;
    /// Puts the server's right `right` (taken with `disposition`: make-send
    /// from a receive right, copy-send or move-send) into `task` under
    /// `name` (`port_insert_right`): a free name, or one holding a send
    /// right to the same port already, which gains a reference.
    fn insert_right(
        &mut self,
        task: PortName,
        name: PortName,
        right: PortName,
        disposition: Disposition,
    ) -> Result<(), KernReturn>;
    /// The same, replacing whatever `name` held in `task` first
    /// (`port_destroy` of the name, then `port_insert_right`).
    fn replace_right(
        &mut self,
        task: PortName,
        name: PortName,
        right: PortName,
        disposition: Disposition,
    ) -> Result<(), KernReturn>;
    /// A copy of the send right `name` of `task`, for the server.
    fn copy_right(&mut self, task: PortName, name: PortName) -> Result<SendRight<K>, KernReturn>;
    /// `vm_write` into `task`.
    fn write(&mut self, task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn>;
    /// `task_info`.
    fn info(&mut self, task: PortName) -> Result<TaskInfo, KernReturn>;
    /// Whether the thread waits (for a message, a sleep, a page) rather
    /// than runs or is ready to: the listing's S rather than R.
    fn thread_waiting(&mut self, thread: PortName) -> Result<bool, KernReturn>;
    /// A memory error (`KERN_MEMORY_ERROR`) struck `thread`, stopped in
    /// the kernel for its exception's answer: if it was copying under the
    /// memory-error landing (`personality_interfaces::memory_error_landing`:
    /// minilibc's read from a file's mapping), moves it to its landing and
    /// says true, the fault then answered with success instead of a
    /// signal; false, nothing changed, for any other thread.
    fn land_memory_error(&mut self, thread: PortName) -> bool;
    /// `task_set_name`: what kernel logs call the task (its command, cut by
    /// [`task_name`]).
    fn set_name(&mut self, task: PortName, name: &str) -> Result<(), KernReturn>;
    /// 16 random bytes (`AT_RANDOM`).
    fn random(&mut self) -> [u8; 16];
    /// Whether `power(action, ..)` can work: the manifest grants the server
    /// `power-off`, or (x86_64) the I/O ports of a device that does it
    /// (asked before anything is ended).
    fn can_power(&mut self, action: Power) -> bool;
    /// Ends the machine (after the disks were written back); returns only
    /// if it could not. Called only when `can_power(action)`.
    fn power(&mut self, action: Power, status: i32);
}

/// What the server asks of the memory server (`memory.defs`'s server
/// routines; the generated client implements it).
pub trait MemoryService<K: PortKernel> {
    #[allow(clippy::too_many_arguments)] // memory.create's own arguments
    fn create(
        &mut self,
        task: &SendRight<K>,
        file: Option<&SendRight<K>>,
        segments: &[memory::Segment],
        stack_size: u64,
        address_space: u64,
        data: u64,
    ) -> Result<memory::CreateReply<K>, Errno>;
    /// A fork of the process whose space is `parent`: the child task (made
    /// by the memory server with both inheritances, between two of the
    /// parent's requests) and its space.
    fn fork(&mut self, parent: &SendRight<K>) -> Result<(SendRight<K>, SendRight<K>), Errno>;
    fn set_limits(&mut self, space: &SendRight<K>, address_space: u64, data: u64) -> Result<(), Errno>;
    /// Bytes mapped and bytes of data.
    fn sizes(&mut self, space: &SendRight<K>) -> Result<(u64, u64), Errno>;
}

fn memory_error(error: libmach::CallError<memory::Error>) -> Errno {
    match error {
        libmach::CallError::Interface(error) => Errno(error.code()),
        libmach::CallError::Rpc(_) => Errno::ENOMEM,
    }
}

impl<K: PortKernel> MemoryService<K> for memory::Client<K> {
    fn create(
        &mut self,
        task: &SendRight<K>,
        file: Option<&SendRight<K>>,
        segments: &[memory::Segment],
        stack_size: u64,
        address_space: u64,
        data: u64,
    ) -> Result<memory::CreateReply<K>, Errno> {
        memory::Client::create(self, task, file, segments, stack_size, address_space, data).map_err(memory_error)
    }
    fn fork(&mut self, parent: &SendRight<K>) -> Result<(SendRight<K>, SendRight<K>), Errno> {
        memory::Client::fork(self, parent).map(|reply| (reply.child, reply.space)).map_err(memory_error)
    }
    fn set_limits(&mut self, space: &SendRight<K>, address_space: u64, data: u64) -> Result<(), Errno> {
        memory::Client::set_limits(self, space, address_space, data).map_err(memory_error)
    }
    fn sizes(&mut self, space: &SendRight<K>) -> Result<(u64, u64), Errno> {
        memory::Client::sizes(self, space).map(|reply| (reply.mapped, reply.data)).map_err(memory_error)
    }
}

/// A file's attributes, as `fstat` gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStatus {
    pub mode: u32,
    pub owner: u32,
    pub group: u32,
    pub size: u64,
}

/// What the server asks of the file server.
pub trait FileService<K: PortKernel> {
    /// `io.stat` of an open file.
    fn stat(&mut self, file: &SendRight<K>) -> Result<FileStatus, Errno>;
    /// `io.read_at`: up to `buffer.len()` bytes from `offset`; how many.
    fn read_at(&mut self, file: &SendRight<K>, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno>;
    /// `fs.open` of `path` from `directory` (init's program and console).
    fn open(&mut self, directory: &SendRight<K>, path: &[u8], flags: u32) -> Result<SendRight<K>, Errno>;
    /// The root directory (a send right to it), for init.
    fn root(&mut self) -> Result<SendRight<K>, Errno>;
    /// `fs.process_exited`: the process's record locks go.
    fn process_exited(&mut self, pid: Pid);
    /// `fs.shutdown`: everything written back and unmounted.
    fn shutdown(&mut self) -> Result<(), Errno>;
}

/// What the server tells the console server.
pub trait Console {
    /// `tty.session_ended` (one-way).
    fn session_ended(&mut self, session: Pid);
}

/// A command as a kernel task name: at most `TASK_NAME_MAX` bytes, cut at
/// a character boundary; `None` for an empty one (the kernel refuses it).
pub fn task_name(command: &str) -> Option<&str> {
    let mut end = command.len().min(mach_abi::TASK_NAME_MAX);
    while !command.is_char_boundary(end) {
        end -= 1;
    }
    Some(&command[..end]).filter(|name| !name.is_empty())
}

/// What a port of the set is to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortRole {
    Process(Pid),
    Exception(Pid),
}

/// The names the process has for its two server ports (kept so fork can
/// replace them in the child).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Names {
    process: PortName,
    memory: PortName,
}

/// A `wait` the server answers later.
struct KeptWait<K: PortKernel> {
    reply: PendingWait<K>,
    selector: WaitSelector,
    options: WaitOptions,
}

/// The most `wait` calls one process may have waiting.
pub const WAITS_MAX: usize = 64;
/// The most signal messages kept for a signal port with a full queue.
pub const QUEUED_SIGNALS_MAX: usize = 64;

/// What the server holds for a process whose task lives.
struct Live<K: PortKernel> {
    task: SendRight<K>,
    process_port: ReceiveRight<K>,
    exception_port: ReceiveRight<K>,
    space: SendRight<K>,
    /// Its image's open file (the file server keeps a mapped file's object
    /// while it is open), one right shared by the image's forks.
    executable: Option<alloc::rc::Rc<SendRight<K>>>,
    signal: Option<signal::Client<K>>,
    names: Names,
    /// Signals posted while it had no signal port, by number.
    held: BTreeMap<u32, signal::Information>,
    /// Posts that found the signal port's queue full.
    queued: VecDeque<signal::Information>,
    /// The signal of the last fault forwarded to its signal thread: if the
    /// thread refuses it, the kernel ends the task and this is why.
    forwarded_fault: Option<Signal>,
    waits: Vec<KeptWait<K>>,
    /// argv for the listing.
    arguments: String,
    /// The thread the server started (the program's first): its state is
    /// the listing's R or S.
    thread: SendRight<K>,
    /// The `spawn` that made it with a foreground terminal, answered (with
    /// its pid) once it took the terminal (`started`), stopped, ended or
    /// exec'd.
    spawn_reply: Option<proc::PendingSpawn<K>>,
}

/// The server.
pub struct ProcessServer<K, T, M, F, C>
where
    K: PortKernel,
    T: Tasks<K>,
    M: MemoryService<K>,
    F: FileService<K>,
    C: Console,
{
    kernel: K,
    tasks: T,
    memory: M,
    files: F,
    console: C,
    table: ProcessTable,
    set: PortName,
    public: PortName,
    notify: PortName,
    live: BTreeMap<Pid, Live<K>>,
    ports: BTreeMap<PortName, PortRole>,
    task_names: BTreeMap<PortName, Pid>,
    /// The controlling terminal of each session, as the console reported it (for the listing).
    terminals: BTreeMap<Pid, u32>,
    /// Set when `shutdown` ran: the loop ends.
    stopped: bool,
}

/// The errno of a failed copy of a send right to a server (before a call
/// to it): a dead or invalid right means the server is gone, a failed call
/// (EIO); only the kernel's shortage of names or references is ENOMEM. (Every
/// failure was ENOMEM once, so a file server ended under the process server
/// read "could not write everything back (errno 12)", as if memory were
/// short.)
pub fn right_copy_errno(code: KernReturn) -> Errno {
    match code {
        KernReturn::ResourceShortage | KernReturn::NoSpace | KernReturn::UrefsOverflow => Errno::ENOMEM,
        _ => Errno::EIO,
    }
}

fn kernel_errno(code: KernReturn) -> Errno {
    match code {
        KernReturn::InvalidArgument | KernReturn::InvalidValue | KernReturn::InvalidName | KernReturn::InvalidRight => {
            Errno::EINVAL
        }
        _ => Errno::ENOMEM,
    }
}

fn error(errno: Errno) -> proc::Error {
    proc::Error::from_code(errno.0).unwrap_or(proc::Error::Einval)
}

impl<K, T, M, F, C> ProcessServer<K, T, M, F, C>
where
    K: PortKernel,
    T: Tasks<K>,
    M: MemoryService<K>,
    F: FileService<K>,
    C: Console,
{
    /// A server whose ports join `set`, taking the other servers' requests
    /// on `public` and notifications on `notify` (both in the set).
    #[allow(clippy::too_many_arguments)] // the server's parts, each a trait of its own
    pub fn new(
        kernel: K,
        tasks: T,
        memory: M,
        files: F,
        console: C,
        set: PortName,
        public: PortName,
        notify: PortName,
    ) -> Self {
        let now = tasks.now();
        ProcessServer {
            kernel,
            tasks,
            memory,
            files,
            console,
            table: ProcessTable::new("init", now),
            set,
            public,
            notify,
            live: BTreeMap::new(),
            ports: BTreeMap::new(),
            task_names: BTreeMap::new(),
            terminals: BTreeMap::new(),
            stopped: false,
        }
    }

    /// The process table (tests, diagnostics).
    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    /// Pids of the processes whose tasks live.
    pub fn live_pids(&self) -> Vec<Pid> {
        self.live.keys().copied().collect()
    }

    /// The name of a process's process port in the server's space (tests).
    pub fn process_port(&self, pid: Pid) -> Option<PortName> {
        self.live.get(&pid).map(|live| live.process_port.name())
    }

    /// The name of a process's exception port in the server's space (tests).
    pub fn exception_port(&self, pid: Pid) -> Option<PortName> {
        self.live.get(&pid).map(|live| live.exception_port.name())
    }

    /// The server's name for a process's task port (tests).
    pub fn task_port(&self, pid: Pid) -> Option<PortName> {
        self.live.get(&pid).map(|live| live.task.name())
    }

    /// The name a process has for its process port, in its own space (tests).
    pub fn process_port_name(&self, pid: Pid) -> Option<PortName> {
        self.live.get(&pid).map(|live| live.names.process)
    }

    /// Checks that the server's records agree with the table: a live
    /// record for every process that is not a zombie (init excepted before
    /// it starts), none for a zombie or a reaped one, and each port in the
    /// maps belongs to a live record.
    pub fn check(&self) -> Result<(), &'static str> {
        self.table.check()?;
        for process in self.table.processes() {
            let live = self.live.contains_key(&process.pid);
            if process.is_zombie() && live {
                return Err("a zombie keeps its task");
            }
            let init_not_started = process.pid == INIT && self.live.is_empty();
            let accounted = process.is_zombie() || live || init_not_started || self.stopped;
            if !accounted {
                return Err("a living process has no task");
            }
        }
        for (pid, live) in &self.live {
            if self.table.get(*pid).is_none_or(|process| process.is_zombie()) {
                return Err("a task for no living process");
            }
            let roles = [self.ports.get(&live.process_port.name()), self.ports.get(&live.exception_port.name())];
            if roles != [Some(&PortRole::Process(*pid)), Some(&PortRole::Exception(*pid))] {
                return Err("a process's ports are not mapped to it");
            }
            if self.task_names.get(&live.task.name()) != Some(pid) {
                return Err("a process's task port is not mapped to it");
            }
        }
        if self.ports.len() != 2 * self.live.len() || self.task_names.len() != self.live.len() {
            return Err("ports of processes that are gone remain");
        }
        Ok(())
    }

    /// True once `shutdown` ran: the machine goes off.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Whether [`ProcessServer::tick`] has anything to do: a timer armed,
    /// or a signal queued for a process. The server loop ticks only then,
    /// so a request costs no clock read, and its reply can wait to go out
    /// with the next receive (`libmach::server::ServerLoop`).
    pub fn has_work_between_requests(&self) -> bool {
        self.table.next_deadline().is_some() || self.live.values().any(|live| !live.queued.is_empty())
    }

    /// When the next timer fires (milliseconds since boot).
    pub fn next_deadline(&self) -> Option<u64> {
        self.table.next_deadline()
    }

    /// The pid asking, from the process port the request arrived on.
    fn caller(&self, context: &Context<'_, K>) -> Result<Pid, proc::Error> {
        match self.ports.get(&context.port()) {
            Some(PortRole::Process(pid)) if self.live.contains_key(pid) => Ok(*pid),
            _ => Err(proc::Error::Eperm),
        }
    }

    /// A server request: on the public port, from a sender with pid 0.
    fn check_server(&self, context: &Context<'_, K>) -> Result<(), proc::Error> {
        let from_system = context.credential().is_some_and(|credential| credential.pid == 0);
        if context.port() == self.public && from_system {
            Ok(())
        } else {
            Err(proc::Error::Eperm)
        }
    }

    /// A new receive right in the set.
    fn new_port(&self) -> Result<ReceiveRight<K>, Errno> {
        let port = ReceiveRight::allocate(&self.kernel).map_err(kernel_errno)?;
        self.kernel.port_move_member(port.name(), self.set).map_err(kernel_errno)?;
        Ok(port)
    }

    /// Watches a task port: a dead-name notice comes to the notify port.
    fn watch(&self, task: &SendRight<K>) -> Result<(), Errno> {
        libmach::notify::request(
            &self.kernel,
            task.name(),
            mach_abi::NotifyId::DeadName,
            0,
            self.notify,
            Disposition::MakeSendOnce,
        )
        .map_err(kernel_errno)
    }

    /// The kernel credential of a process, from the table.
    fn credential_of(&self, pid: Pid) -> Option<TaskCredential> {
        let process = self.table.get(pid)?;
        let credentials = &process.credentials;
        let groups = credentials.groups.as_slice();
        let mut credential = TaskCredential {
            pid,
            pgid: process.group,
            sid: process.session,
            ruid: credentials.real_user,
            euid: credentials.effective_user,
            rgid: credentials.real_group,
            egid: credentials.effective_group,
            group_count: groups.len() as u32,
            ..TaskCredential::default()
        };
        credential.groups[..groups.len()].copy_from_slice(groups);
        Some(credential)
    }

    /// Registers a process whose task was made: its ports go in the maps,
    /// its task port is watched, its credential and exception port set.
    fn adopt(&mut self, pid: Pid, live: Live<K>) -> Result<(), Errno> {
        self.watch(&live.task)?;
        let credential = self.credential_of(pid).ok_or(Errno::ESRCH)?;
        self.tasks.set_credential(live.task.name(), &credential).map_err(kernel_errno)?;
        self.tasks.set_exception_port(live.task.name(), live.exception_port.name()).map_err(kernel_errno)?;
        self.ports.insert(live.process_port.name(), PortRole::Process(pid));
        self.ports.insert(live.exception_port.name(), PortRole::Exception(pid));
        self.task_names.insert(live.task.name(), pid);
        self.live.insert(pid, live);
        Ok(())
    }

    /// Forgets what the server holds for a process whose task is gone (or
    /// is being replaced): its ports, its waiting calls.
    fn release(&mut self, pid: Pid) -> Option<Live<K>> {
        self.answer_spawn(pid);
        let live = self.live.remove(&pid)?;
        self.ports.remove(&live.process_port.name());
        self.ports.remove(&live.exception_port.name());
        self.task_names.remove(&live.task.name());
        Some(live)
    }

    /// Carries out the table's effects, in order.
    fn apply(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Terminate { pid } => self.terminate(pid),
                Effect::Suspend { pid } => {
                    self.answer_spawn(pid);
                    if let Some(live) = self.live.get(&pid) {
                        let _ = self.tasks.suspend(live.task.name());
                    }
                }
                Effect::Resume { pid } => {
                    if let Some(live) = self.live.get(&pid) {
                        let _ = self.tasks.resume(live.task.name());
                    }
                }
                Effect::Post { pid, signal, origin } => self.post(pid, signal, origin),
                Effect::WakeWaiters { parent } => self.answer_waits(parent),
                Effect::Reaped { .. } | Effect::TerminalReleased { .. } => {}
                Effect::UpdateCredential { pid } => {
                    if let (Some(live), Some(credential)) = (self.live.get(&pid), self.credential_of(pid)) {
                        let _ = self.tasks.set_credential(live.task.name(), &credential);
                    }
                }
            }
        }
    }

    /// A process ended: its CPU time is read, its task terminated, what the
    /// server held for it released, the other servers told.
    fn terminate(&mut self, pid: Pid) {
        let Some(live) = self.release(pid) else { return };
        if let Ok(info) = self.tasks.info(live.task.name()) {
            let milliseconds = info.cpu_microseconds / 1000;
            self.table.record_usage(
                pid,
                process_core::table::Usage { user_milliseconds: milliseconds, system_milliseconds: 0 },
            );
        }
        let _ = self.tasks.terminate(live.task.name());
        drop(live);
        self.files.process_exited(pid);
        if self.table.get(pid).is_some_and(|process| process.session == pid) {
            self.console.session_ended(pid);
        }
        if pid == INIT {
            libmach::println!("proc: init (pid 1) ended: the system goes down");
            self.shut_down(Power::Off, 1);
        }
    }

    /// Answers the `spawn` kept for process `pid` (its pid: the spawn
    /// succeeded, whatever the child did since), if one waits. A caller that
    /// gave up meanwhile is no one's concern: the child lives on.
    fn answer_spawn(&mut self, pid: Pid) {
        if let Some(reply) = self.live.get_mut(&pid).and_then(|live| live.spawn_reply.take()) {
            let _ = reply.send(Ok(pid as i32));
        }
    }

    /// Answers the kept `wait` calls of `parent` that can be answered now.
    fn answer_waits(&mut self, parent: Pid) {
        let Some(live) = self.live.get_mut(&parent) else { return };
        let waits = core::mem::take(&mut live.waits);
        let mut still = Vec::new();
        for wait in waits {
            if wait.reply.is_abandoned() {
                continue;
            }
            match self.table.peek_wait(parent, wait.selector, wait.options) {
                Ok(process_core::WaitOutcome::MustWait) => still.push(wait),
                outcome => {
                    let (answer, consumed) = requests::wait_answer(outcome);
                    if wait.reply.send(answer).is_ok() {
                        if let Some(child) = consumed {
                            let effects = self.table.consume_wait(parent, child);
                            self.apply(effects);
                        }
                    }
                }
            }
        }
        if let Some(live) = self.live.get_mut(&parent) {
            live.waits.extend(still);
        }
    }

    /// A kernel notification on the notify port or a process's port.
    pub fn notified(&mut self, notification: Notification<K>) {
        if let Notification::DeadName { name } = notification {
            if let Some(pid) = self.task_names.get(&name).copied() {
                self.task_died(pid);
            }
        }
    }

    /// A process's task ended without `exit`: killed by the kernel (a
    /// fault its signal thread refused), or by someone holding its port.
    fn task_died(&mut self, pid: Pid) {
        let signal = self.live.get(&pid).and_then(|live| live.forwarded_fault).unwrap_or(Signal::KILL);
        let core = signal != Signal::KILL;
        let effects = self.table.exit_process(pid, process_core::WaitStatus::Signaled { signal, core });
        self.apply(effects);
    }

    /// Runs the timers due at the clock's now, and retries signal messages
    /// that found a full queue.
    pub fn tick(&mut self) {
        let now = self.tasks.now();
        let effects = self.table.expire_timers(now);
        self.apply(effects);
        let pids: Vec<Pid> =
            self.live.iter().filter(|(_, live)| !live.queued.is_empty()).map(|(&pid, _)| pid).collect();
        for pid in pids {
            self.flush_queued(pid);
        }
    }

    /// Ends every process, has the file server write everything back and
    /// powers off.
    fn shut_down(&mut self, action: Power, status: i32) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pids: Vec<Pid> = self.live.keys().copied().collect();
        for pid in pids {
            if let Some(live) = self.release(pid) {
                let _ = self.tasks.terminate(live.task.name());
            }
        }
        if let Err(errno) = self.files.shutdown() {
            libmach::println!("proc: the file server could not write everything back (errno {})", errno.0);
        }
        // Init's end comes here whether or not the machine is ours to cut:
        // without the grant (a system booted inside a test machine) the
        // system is down and the machine stays on.
        if !self.tasks.can_power(action) {
            libmach::println!("proc: the system is down; the machine stays on (this server is not granted power-off)");
            return;
        }
        libmach::println!("proc: powering off (status {status})");
        self.tasks.power(action, status);
    }

    /// Dispatches one message: `proc` requests, exceptions, notifications.
    pub fn handle(&mut self, request: &[u8], reply: &mut [u8]) -> libmach::Dispatch {
        let kernel = self.kernel.clone();
        if let Some(dispatch) = self.exception(request, reply) {
            return dispatch;
        }
        let dispatch = proc::dispatch(self, &kernel, request, reply);
        let dispatch = dispatch.or_else(|| libmach::notify::dispatch(&kernel, request, |notice| self.notified(notice)));
        self.after_request(request);
        dispatch
    }

    /// After each request: signal messages queued for the sender's process
    /// get another try.
    fn after_request(&mut self, request: &[u8]) {
        let Some(header) = mach_abi::MachMsgHeader::read_from(request) else { return };
        if let Some(PortRole::Process(pid)) = self.ports.get(&header.local_port).copied() {
            self.flush_queued(pid);
        }
    }
}
