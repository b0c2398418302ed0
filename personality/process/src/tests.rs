//! The process server through the generated clients and dispatch on
//! libmach's fake kernel. Each process is a fake task holding the rights a
//! real one would (its process port and address-space port under the names
//! the start block gives, its kept descriptors), and calls the server as
//! minilibc would; the memory server's real request handling is attached
//! (with a recording VM); tasks are stand-ins whose kernel calls are
//! recorded ([`FakeTasks`]). What the kernel alone can do (run a thread,
//! raise a fault) is tested in QEMU.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::string::String;
use std::vec;
use std::vec::Vec;

use libmach::fake::{FakeKernel, FakeSystem};
use libmach::{CallError, PortKernel, PortSet, ReceiveRight, SendRight, ServeOptions};
use mach_abi::{Disposition, KernReturn, PortName, PortRight, TaskCredential};
use mach_memory::MemoryServer;
use personality_interfaces::proc::{self, Client, Descriptor, Error, FileAction, ResumeState};
use personality_interfaces::{memory, signal};
use process_core::start_block::{self, StartBlock};
use process_core::table::Pid;
use process_core::Errno;

use crate::{Console, FileService, FileStatus, Power, ProcessServer, Registers, TaskInfo, Tasks};

// ----- the fake kernel's tasks ---------------------------------------------------

/// One stand-in task.
struct TaskRecord {
    kernel: FakeKernel,
    /// The receive right standing for its task port (in the holder task).
    port: ReceiveRight<FakeKernel>,
    terminated: bool,
    suspended: u32,
    credential: Option<TaskCredential>,
    exception_port: bool,
    /// Writes into its memory (the start block).
    writes: Vec<(u64, Vec<u8>)>,
    /// Its threads' registers once started.
    started: Vec<Registers>,
    /// What `task_set_name` last said.
    name: Option<String>,
}

#[derive(Clone)]
struct FakeTasks {
    system: FakeSystem,
    /// The process server's task.
    server: FakeKernel,
    /// Holds the receive rights standing for task and thread ports.
    holder: FakeKernel,
    /// By the identity of the task's port (whoever names it).
    tasks: Rc<RefCell<BTreeMap<String, TaskRecord>>>,
    /// Thread ports' identities, with their task's.
    threads: Rc<RefCell<BTreeMap<String, String>>>,
    /// The identities the server's names had when last seen (a task's
    /// port dies with it: its name is then a dead name).
    seen: Rc<RefCell<BTreeMap<PortName, String>>>,
    now: Rc<RefCell<u64>>,
    power: Rc<RefCell<Option<(Power, i32)>>>,
    /// The actions whose devices the manifest does not grant.
    powerless: Rc<RefCell<Vec<Power>>>,
    fail_create: Rc<RefCell<bool>>,
    /// Tasks (by identity) whose threads wait.
    waiting: Rc<RefCell<std::collections::BTreeSet<String>>>,
}

impl FakeTasks {
    /// The identity of the port the server names `name`.
    fn key(&self, name: PortName) -> Result<String, KernReturn> {
        match self.system.port_identity(&self.server, name) {
            Some(key) => {
                self.seen.borrow_mut().insert(name, key.clone());
                Ok(key)
            }
            None => self.seen.borrow().get(&name).cloned().ok_or(KernReturn::InvalidName),
        }
    }

    fn record<R>(&self, task: PortName, look: impl FnOnce(&mut TaskRecord) -> R) -> Result<R, KernReturn> {
        let key = self.key(task)?;
        self.tasks.borrow_mut().get_mut(&key).map(look).ok_or(KernReturn::InvalidName)
    }

    /// A new stand-in task; a send right to its port for `to`.
    fn new_task(&self, to: &FakeKernel) -> Result<PortName, KernReturn> {
        if *self.fail_create.borrow() {
            return Err(KernReturn::ResourceShortage);
        }
        let kernel = self.system.task();
        let port = ReceiveRight::allocate(&self.holder)?;
        let key = self.system.port_identity(&self.holder, port.name()).ok_or(KernReturn::Failure)?;
        let name = self.system.give_send_right(&self.holder, port.name(), to)?;
        let record = TaskRecord {
            kernel,
            port,
            terminated: false,
            suspended: 0,
            credential: None,
            exception_port: false,
            writes: Vec::new(),
            started: Vec::new(),
            name: None,
        };
        self.tasks.borrow_mut().insert(key, record);
        Ok(name)
    }

    fn kernel_of(&self, task: PortName) -> FakeKernel {
        self.record(task, |record| record.kernel.clone()).expect("a task")
    }

    fn suspended(&self, task: PortName) -> u32 {
        self.record(task, |record| record.suspended).expect("a task")
    }
}

impl Tasks<FakeKernel> for FakeTasks {
    fn now(&self) -> u64 {
        *self.now.borrow()
    }
    fn boot_time(&self) -> u64 {
        1_700_000_000_000_000_000
    }
    fn create(&mut self) -> Result<SendRight<FakeKernel>, KernReturn> {
        let name = self.new_task(&self.server.clone())?;
        Ok(SendRight::from_name(&self.server, name))
    }
    fn terminate(&mut self, task: PortName) -> Result<(), KernReturn> {
        let key = self.key(task)?;
        let (kernel, port) = {
            let mut tasks = self.tasks.borrow_mut();
            let record = tasks.get_mut(&key).ok_or(KernReturn::InvalidName)?;
            if record.terminated {
                return Ok(());
            }
            record.terminated = true;
            (record.kernel.clone(), record.port.name())
        };
        self.system.end_task(&kernel);
        // Its task port dies: the server's right becomes a dead name.
        self.system.destroy_name(&self.holder, port)
    }
    fn suspend(&mut self, task: PortName) -> Result<(), KernReturn> {
        self.record(task, |record| record.suspended += 1)
    }
    fn resume(&mut self, task: PortName) -> Result<(), KernReturn> {
        self.record(task, |record| record.suspended = record.suspended.saturating_sub(1))
    }
    fn set_credential(&mut self, task: PortName, credential: &TaskCredential) -> Result<(), KernReturn> {
        let kernel = self.record(task, |record| {
            record.credential = Some(*credential);
            record.kernel.clone()
        })?;
        self.system.set_credential(&kernel, *credential);
        Ok(())
    }
    fn set_exception_port(&mut self, task: PortName, _port: PortName) -> Result<(), KernReturn> {
        self.record(task, |record| record.exception_port = true)
    }
    fn create_thread(&mut self, task: PortName) -> Result<SendRight<FakeKernel>, KernReturn> {
        self.record(task, |_| ())?;
        let port = ReceiveRight::allocate(&self.holder)?;
        let name = self.system.give_send_right(&self.holder, port.name(), &self.server)?;
        let thread_key = self.system.port_identity(&self.holder, port.name()).ok_or(KernReturn::Failure)?;
        std::mem::forget(port);
        self.threads.borrow_mut().insert(thread_key, self.key(task)?);
        Ok(SendRight::from_name(&self.server, name))
    }
    fn start_thread(&mut self, thread: PortName, registers: &Registers) -> Result<(), KernReturn> {
        let thread_key = self.key(thread)?;
        let task = self.threads.borrow().get(&thread_key).cloned().ok_or(KernReturn::InvalidName)?;
        self.tasks
            .borrow_mut()
            .get_mut(&task)
            .map(|record| record.started.push(*registers))
            .ok_or(KernReturn::InvalidName)
    }
    fn insert_right(
        &mut self,
        task: PortName,
        name: PortName,
        right: PortName,
        disposition: Disposition,
    ) -> Result<(), KernReturn> {
        let kernel = self.record(task, |record| record.kernel.clone())?;
        self.system.insert_right(&self.server, right, disposition, &kernel, name)
    }
    fn replace_right(
        &mut self,
        task: PortName,
        name: PortName,
        right: PortName,
        disposition: Disposition,
    ) -> Result<(), KernReturn> {
        let kernel = self.record(task, |record| record.kernel.clone())?;
        let _ = self.system.destroy_name(&kernel, name);
        self.system.insert_right(&self.server, right, disposition, &kernel, name)
    }
    fn copy_right(&mut self, task: PortName, name: PortName) -> Result<SendRight<FakeKernel>, KernReturn> {
        let kernel = self.record(task, |record| record.kernel.clone())?;
        let copied = self.system.transfer_right(&kernel, name, Disposition::CopySend, &self.server)?;
        Ok(SendRight::from_name(&self.server, copied))
    }
    fn write(&mut self, task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn> {
        self.record(task, |record| record.writes.push((address, data.to_vec())))
    }
    fn info(&mut self, task: PortName) -> Result<TaskInfo, KernReturn> {
        self.record(task, |record| TaskInfo {
            threads: record.started.len() as u32,
            resident_pages: 3,
            cpu_microseconds: 20_000,
            suspended: record.suspended > 0,
        })
    }
    fn set_name(&mut self, task: PortName, name: &str) -> Result<(), KernReturn> {
        assert!(!name.is_empty() && name.len() <= mach_abi::TASK_NAME_MAX, "the kernel refuses {name:?}");
        self.record(task, |record| record.name = Some(name.into()))
    }
    fn thread_waiting(&mut self, thread: PortName) -> Result<bool, KernReturn> {
        let thread_key = self.key(thread)?;
        let task = self.threads.borrow().get(&thread_key).cloned().ok_or(KernReturn::InvalidName)?;
        Ok(self.waiting.borrow().contains(&task))
    }
    fn land_memory_error(&mut self, _thread: PortName) -> bool {
        // Never asked: only the kernel raises exceptions (a test's forged
        // one is refused before), and the fake kernel raises none. The
        // landing is tested in QEMU (scripts/tests/mapped-read-errors).
        false
    }
    fn random(&mut self) -> [u8; 16] {
        [0x5a; 16]
    }
    fn can_power(&mut self, action: Power) -> bool {
        !self.powerless.borrow().contains(&action)
    }
    fn power(&mut self, action: Power, status: i32) {
        assert!(self.can_power(action), "power-off through a device the server is not granted");
        *self.power.borrow_mut() = Some((action, status));
    }
}

// ----- the file server, the console and the memory server's VM ---------------------------

/// An ELF64 x86_64 executable with these segments: (flags, offset,
/// address, file size, memory size), entry at `entry`.
fn elf(entry: u64, segments: &[(u32, u64, u64, u64, u64)], file_size: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; file_size.max(64 + 56 * segments.len())];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2;
    bytes[5] = 1;
    bytes[6] = 1;
    bytes[16..18].copy_from_slice(&2u16.to_le_bytes());
    bytes[18..20].copy_from_slice(&62u16.to_le_bytes());
    bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
    bytes[24..32].copy_from_slice(&entry.to_le_bytes());
    bytes[32..40].copy_from_slice(&64u64.to_le_bytes());
    bytes[52..54].copy_from_slice(&64u16.to_le_bytes());
    bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
    bytes[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    for (index, &(flags, offset, address, file_size, memory_size)) in segments.iter().enumerate() {
        let at = 64 + 56 * index;
        bytes[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
        bytes[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
        bytes[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        bytes[at + 16..at + 24].copy_from_slice(&address.to_le_bytes());
        bytes[at + 24..at + 32].copy_from_slice(&address.to_le_bytes());
        bytes[at + 32..at + 40].copy_from_slice(&file_size.to_le_bytes());
        bytes[at + 40..at + 48].copy_from_slice(&memory_size.to_le_bytes());
        bytes[at + 48..at + 56].copy_from_slice(&4096u64.to_le_bytes());
    }
    bytes
}

/// A static program: headers and text, then data with bss.
fn program() -> Vec<u8> {
    elf(
        0x401000,
        &[(4, 0, 0x400000, 0x200, 0x200), (5, 0x1000, 0x401000, 0x800, 0x800), (6, 0x2000, 0x403000, 0x100, 0x3000)],
        0x3000,
    )
}

#[derive(Clone)]
struct FakeFiles {
    system: FakeSystem,
    server: FakeKernel,
    /// The file server's task: the ports of its open files.
    fs: FakeKernel,
    contents: Rc<RefCell<Vec<u8>>>,
    mode: Rc<RefCell<u32>>,
    owner: Rc<RefCell<u32>>,
    exited: Rc<RefCell<Vec<Pid>>>,
    shut_down: Rc<RefCell<bool>>,
    ports: Rc<RefCell<Vec<ReceiveRight<FakeKernel>>>>,
}

impl FakeFiles {
    /// A new open file of the file server, given to `to`.
    fn open_file(&self, to: &FakeKernel) -> PortName {
        let port = ReceiveRight::allocate(&self.fs).unwrap();
        let name = self.system.give_send_right(&self.fs, port.name(), to).unwrap();
        self.ports.borrow_mut().push(port);
        name
    }
}

impl FileService<FakeKernel> for FakeFiles {
    fn stat(&mut self, _file: &SendRight<FakeKernel>) -> Result<FileStatus, Errno> {
        Ok(FileStatus {
            mode: *self.mode.borrow(),
            owner: *self.owner.borrow(),
            group: 0,
            size: self.contents.borrow().len() as u64,
        })
    }
    fn read_at(&mut self, _file: &SendRight<FakeKernel>, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno> {
        let contents = self.contents.borrow();
        let start = (offset as usize).min(contents.len());
        let length = buffer.len().min(contents.len() - start);
        buffer[..length].copy_from_slice(&contents[start..start + length]);
        Ok(length)
    }
    fn open(
        &mut self,
        _directory: &SendRight<FakeKernel>,
        _path: &[u8],
        _flags: u32,
    ) -> Result<SendRight<FakeKernel>, Errno> {
        Ok(SendRight::from_name(&self.server, self.open_file(&self.server)))
    }
    fn root(&mut self) -> Result<SendRight<FakeKernel>, Errno> {
        Ok(SendRight::from_name(&self.server, self.open_file(&self.server)))
    }
    fn process_exited(&mut self, pid: Pid) {
        self.exited.borrow_mut().push(pid);
    }
    fn shutdown(&mut self) -> Result<(), Errno> {
        *self.shut_down.borrow_mut() = true;
        Ok(())
    }
}

#[derive(Clone, Default)]
struct FakeConsole {
    ended: Rc<RefCell<Vec<Pid>>>,
}

impl Console for FakeConsole {
    fn session_ended(&mut self, session: Pid) {
        self.ended.borrow_mut().push(session);
    }
}

/// The memory server's VM: nothing to do but succeed; a fork's child is a
/// new stand-in task.
struct NoVm {
    tasks: FakeTasks,
    /// The memory server's task (the child's port goes there first).
    kernel: FakeKernel,
}

impl mach_memory::TaskMemory for NoVm {
    fn allocate(&mut self, _: PortName, _: u64, _: u64) -> Result<(), KernReturn> {
        Ok(())
    }
    fn map(&mut self, _: PortName, _: u64, _: u64, _: PortName, _: u64, _: bool, _: u32) -> Result<(), KernReturn> {
        Ok(())
    }
    fn protect(&mut self, _: PortName, _: u64, _: u64, _: u32) -> Result<(), KernReturn> {
        Ok(())
    }
    fn inherit(&mut self, _: PortName, _: u64, _: u64, _: bool) -> Result<(), KernReturn> {
        Ok(())
    }
    fn deallocate(&mut self, _: PortName, _: u64, _: u64) -> Result<(), KernReturn> {
        Ok(())
    }
    fn write(&mut self, _: PortName, _: u64, _: &[u8]) -> Result<(), KernReturn> {
        Ok(())
    }
    fn read(&mut self, _: PortName, _: u64, buffer: &mut [u8]) -> Result<(), KernReturn> {
        buffer.fill(0);
        Ok(())
    }
    fn set_page_limit(&mut self, _: PortName, _: Option<u64>) -> Result<(), KernReturn> {
        Ok(())
    }
    fn terminate(&mut self, _: PortName) -> Result<(), KernReturn> {
        Ok(())
    }
    fn fork_task(&mut self, _parent: PortName) -> Result<PortName, KernReturn> {
        // The fake kernel copies no rights: the server puts the child's own
        // under the parent's names.
        self.tasks.new_task(&self.kernel)
    }
}

/// The memory server's file side: every file maps.
struct MemoryFiles {
    kernel: FakeKernel,
    objects: Vec<ReceiveRight<FakeKernel>>,
}

impl mach_memory::Files<FakeKernel> for MemoryFiles {
    fn access(&mut self, _: &SendRight<FakeKernel>) -> Result<(bool, bool), memory_core::Errno> {
        Ok((true, false))
    }
    fn map(&mut self, _: &SendRight<FakeKernel>, _: bool) -> Result<(SendRight<FakeKernel>, u64), memory_core::Errno> {
        let object = ReceiveRight::allocate(&self.kernel).map_err(|_| memory_core::Errno::ENOMEM)?;
        let send = object.make_send().map_err(|_| memory_core::Errno::ENOMEM)?;
        self.objects.push(object);
        Ok((send, 1 << 30))
    }
    fn sync(&mut self, _: &SendRight<FakeKernel>, _: u64, _: u64, _: bool) -> Result<(), memory_core::Errno> {
        Ok(())
    }
}

// ----- the world ------------------------------------------------------------------------

type Server = ProcessServer<FakeKernel, FakeTasks, memory::Client<FakeKernel>, FakeFiles, FakeConsole>;

struct World {
    system: FakeSystem,
    server_task: FakeKernel,
    server: Rc<RefCell<Server>>,
    tasks: FakeTasks,
    files: FakeFiles,
    console: FakeConsole,
    /// A system task (pid 0) holding the public `proc` port, as the console would.
    system_task: FakeKernel,
    public_for_system: PortName,
    _ports: Vec<ReceiveRight<FakeKernel>>,
    _sets: Vec<PortSet<FakeKernel>>,
}

/// A process as minilibc sees itself: its task and what its start block says.
struct Process {
    kernel: FakeKernel,
    /// The server's name for its task port.
    task: PortName,
    block: start_block::ReadBack,
}

impl Process {
    fn auxiliary(&self, key: u64) -> u64 {
        self.block.auxiliary.iter().find(|(entry, _)| *entry == key).map_or(0, |&(_, value)| value)
    }

    fn client(&self) -> Client<FakeKernel> {
        let name = self.auxiliary(mach_abi::AT_MACH_PROC) as PortName;
        self.kernel.port_mod_refs(name, PortRight::Send, 1).unwrap();
        Client::new(&self.kernel, SendRight::from_name(&self.kernel, name)).unwrap()
    }
}

fn world() -> World {
    let system = FakeSystem::new();
    let server_task = system.task();
    let memory_task = system.task();
    let holder = system.task();
    let fs = system.task();
    let system_task = system.task();

    let tasks = FakeTasks {
        system: system.clone(),
        server: server_task.clone(),
        holder,
        tasks: Rc::default(),
        threads: Rc::default(),
        seen: Rc::default(),
        now: Rc::default(),
        power: Rc::default(),
        powerless: Rc::default(),
        fail_create: Rc::default(),
        waiting: Rc::default(),
    };
    // The memory server, attached with its real request handling.
    let memory_public = ReceiveRight::allocate(&memory_task).unwrap();
    let memory_set = PortSet::allocate(&memory_task).unwrap();
    memory_set.insert(&memory_public).unwrap();
    let memory_server = Rc::new(RefCell::new(MemoryServer::new(
        memory_task.clone(),
        NoVm { tasks: tasks.clone(), kernel: memory_task.clone() },
        MemoryFiles { kernel: memory_task.clone(), objects: Vec::new() },
        memory_set.name(),
        memory_public.name(),
    )));
    let handler = memory_server.clone();
    let kernel = memory_task.clone();
    system.attach_server_with(
        &memory_task,
        memory_set.name(),
        ServeOptions { audit: true },
        memory::BUFFER_SIZE,
        move |request, reply| {
            let mut server = handler.borrow_mut();
            memory::dispatch(&mut *server, &kernel, request, reply)
                .or_else(|| libmach::notify::dispatch(&kernel, request, |notice| server.notified(notice)))
        },
    );
    let memory_for_proc = system.give_send_right(&memory_task, memory_public.name(), &server_task).unwrap();
    let memory_client = memory::Client::new(&server_task, SendRight::from_name(&server_task, memory_for_proc)).unwrap();

    let files = FakeFiles {
        system: system.clone(),
        server: server_task.clone(),
        fs,
        contents: Rc::new(RefCell::new(program())),
        mode: Rc::new(RefCell::new(0o100_755)),
        owner: Rc::default(),
        exited: Rc::default(),
        shut_down: Rc::default(),
        ports: Rc::default(),
    };
    let console = FakeConsole::default();
    let public = ReceiveRight::allocate(&server_task).unwrap();
    let notify = ReceiveRight::allocate(&server_task).unwrap();
    let set = PortSet::allocate(&server_task).unwrap();
    set.insert(&public).unwrap();
    set.insert(&notify).unwrap();
    let server = Rc::new(RefCell::new(ProcessServer::new(
        server_task.clone(),
        tasks.clone(),
        memory_client,
        files.clone(),
        console.clone(),
        set.name(),
        public.name(),
        notify.name(),
    )));
    let handler = server.clone();
    system.attach_server_with(
        &server_task,
        set.name(),
        ServeOptions { audit: true },
        proc::BUFFER_SIZE,
        move |request, reply| handler.borrow_mut().handle(request, reply),
    );
    let public_for_system = system.give_send_right(&server_task, public.name(), &system_task).unwrap();
    std::mem::forget(memory_server);
    World {
        system,
        server_task,
        server,
        tasks,
        files,
        console,
        system_task,
        public_for_system,
        _ports: vec![memory_public, public, notify],
        _sets: vec![memory_set, set],
    }
}

impl World {
    /// The process whose pid is `pid`, as its task and start block show it.
    fn process(&self, pid: Pid) -> Process {
        let task = self.server.borrow().task_port(pid).expect("a live process");
        let (kernel, (address, bytes)) = self
            .tasks
            .record(task, |record| (record.kernel.clone(), record.writes.last().cloned().expect("a start block")))
            .unwrap();
        let block = start_block::read_back(&StartBlock { address, bytes }).expect("a readable start block");
        Process { kernel, task, block }
    }

    fn started(&self, pid: Pid) -> Vec<Registers> {
        let task = self.server.borrow().task_port(pid).unwrap();
        self.tasks.record(task, |record| record.started.clone()).unwrap()
    }

    /// The kernel's name for the process's task.
    fn task_name(&self, pid: Pid) -> Option<String> {
        let task = self.server.borrow().task_port(pid).unwrap();
        self.tasks.record(task, |record| record.name.clone()).unwrap()
    }

    fn credential(&self, pid: Pid) -> TaskCredential {
        let task = self.server.borrow().task_port(pid).unwrap();
        self.tasks.record(task, |record| record.credential).unwrap().unwrap()
    }

    fn terminated(&self, task: PortName) -> bool {
        self.tasks.record(task, |record| record.terminated).unwrap()
    }

    fn init(&self) -> Process {
        self.server.borrow_mut().start_init(b"/sbin/init", &[b"-c", b"true"], None).unwrap();
        self.process(1)
    }

    fn system_client(&self) -> Client<FakeKernel> {
        self.system_task.port_mod_refs(self.public_for_system, PortRight::Send, 1).unwrap();
        Client::new(&self.system_task, SendRight::from_name(&self.system_task, self.public_for_system)).unwrap()
    }

    /// Forks `parent`, which resumes at `pc`; the child's pid.
    fn fork(&self, parent: &Process, pc: u64) -> Pid {
        let saved = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
        let state = ResumeState { pc, sp: 0x7fff_0000, flags: 0x202, thread_pointer: 0x1234, saved };
        parent.client().fork(&state, 0, 0).unwrap() as Pid
    }
}

/// The strings of an exec request.
fn strings(arguments: &[&[u8]], environment: &[&[u8]]) -> Vec<u8> {
    let mut blob = Vec::new();
    for string in arguments.iter().chain(environment) {
        blob.extend_from_slice(string);
        blob.push(0);
    }
    blob
}

// ----- init, the start block, fork -----------------------------------------------------------

#[test]
fn init_starts_as_pid_1_with_its_arguments_the_console_and_its_ports() {
    let world = world();
    let init = world.init();
    assert_eq!(init.block.arguments, [b"/sbin/init".to_vec(), b"-c".to_vec(), b"true".to_vec()]);
    assert!(init.block.environment.iter().any(|variable| variable == b"PATH=/bin:/sbin"));
    let numbers: Vec<i32> = init.block.descriptors.iter().map(|descriptor| descriptor.number).collect();
    assert_eq!(numbers, [0, 1, 2]);
    assert_eq!(init.block.random, [0x5a; 16]);
    assert_eq!(init.auxiliary(mach_abi::AT_MACH_PID), 1);
    assert_eq!(init.auxiliary(mach_abi::AT_ENTRY), 0x401000);
    assert_eq!(init.auxiliary(mach_abi::AT_PHNUM), 3);
    // The console is one name with three references, one per descriptor.
    let console = init.block.descriptors[0].name;
    assert_eq!(world.system.references(&init.kernel, console, PortRight::Send), 3);
    let registers = world.started(1);
    assert_eq!(registers.len(), 1);
    assert_eq!(registers[0].pc, 0x401000);
    assert_eq!(registers[0].arguments[1], registers[0].sp, "the start block in the second argument too");
    assert_eq!(registers[0].sp % 16, 0);
    assert_eq!(registers[0].saved, [0; 12]);
    assert_eq!(registers[0].flags, crate::INITIAL_FLAGS);
    assert_eq!(world.credential(1).pid, 1);
    assert_eq!(world.task_name(1).as_deref(), Some("init"), "what kernel logs call it");
    let identity = init.client().identity().unwrap();
    assert_eq!((identity.pid, identity.parent, identity.group, identity.session), (1, 0, 1, 1));
    world.system.check_invariants().unwrap();
}

#[test]
fn a_command_becomes_a_task_name_the_kernel_takes() {
    assert_eq!(crate::task_name("cat"), Some("cat"));
    assert_eq!(crate::task_name(""), None);
    let long = "x".repeat(40);
    assert_eq!(crate::task_name(&long).map(str::len), Some(mach_abi::TASK_NAME_MAX));
    // 31 bytes, then a two-byte character across the limit: cut before it.
    let accented = std::format!("{}é", "a".repeat(31));
    assert_eq!(crate::task_name(&accented), Some(&accented[..31]));
}

#[test]
fn fork_makes_a_child_with_its_own_ports_under_the_parents_names() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    assert_eq!(child, 2);
    assert_eq!(world.task_name(child).as_deref(), Some("init"), "named after its parent, not the memory server");
    let registers = world.started(child);
    assert_eq!(registers.len(), 1);
    assert_eq!(
        (registers[0].pc, registers[0].sp, registers[0].arguments, registers[0].thread_pointer, registers[0].flags),
        (0x40_2000, 0x7fff_0000, [0, 0], 0x1234, 0x202)
    );
    assert_eq!(registers[0].saved, [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22], "the callee-saved registers kept");
    // The child calls through the name its parent had for its process port.
    let task = world.server.borrow().task_port(child).unwrap();
    let kernel = world.tasks.kernel_of(task);
    let name = init.auxiliary(mach_abi::AT_MACH_PROC) as PortName;
    let mut client = Client::new(&kernel, SendRight::from_name(&kernel, name)).unwrap();
    let identity = client.identity().unwrap();
    assert_eq!((identity.pid, identity.parent), (2, 1));
    assert_eq!(client.get_parent().unwrap(), 1);
    assert_eq!(world.credential(child).pid, 2);
    world.system.check_invariants().unwrap();
}

#[test]
fn a_failed_fork_leaves_no_child() {
    let world = world();
    let init = world.init();
    *world.tasks.fail_create.borrow_mut() = true;
    let state = ResumeState::default();
    let refused = init.client().fork(&state, 0, 0);
    assert!(matches!(refused, Err(CallError::Interface(Error::Enomem))), "{refused:?}");
    *world.tasks.fail_create.borrow_mut() = false;
    assert_eq!(world.server.borrow().table().get(1).unwrap().children().count(), 0);
    let retried = init.client().wait(-1, 1);
    assert!(matches!(retried, Err(CallError::Interface(Error::Echild))), "{retried:?}");
}

// ----- exit, wait, kill ----------------------------------------------------------------------

fn child_client(world: &World, parent: &Process, pid: Pid) -> Client<FakeKernel> {
    let task = world.server.borrow().task_port(pid).unwrap();
    let kernel = world.tasks.kernel_of(task);
    let name = parent.auxiliary(mach_abi::AT_MACH_PROC) as PortName;
    kernel.port_mod_refs(name, PortRight::Send, 1).unwrap();
    Client::new(&kernel, SendRight::from_name(&kernel, name)).unwrap()
}

#[test]
fn exit_makes_a_zombie_that_wait_reaps_with_its_status() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    assert_eq!(init.client().wait(child as i32, 1).unwrap().child, 0, "WNOHANG: nothing yet");
    child_client(&world, &init, child).exit(0x103).unwrap();
    world.system.run_servers();
    assert!(world.terminated(task));
    assert_eq!(*world.files.exited.borrow(), [child], "the file server is told");
    let reply = init.client().wait(-1, 0).unwrap();
    assert_eq!((reply.child, reply.status), (child as i32, 3 << 8), "only the low 8 bits of the status");
    assert!(matches!(init.client().wait(-1, 0), Err(CallError::Interface(Error::Echild))));
    assert!(matches!(init.client().wait(-1, 0x40), Err(CallError::Interface(Error::Einval))), "unknown option");
}

#[test]
fn a_wait_the_caller_gave_up_consumes_nothing() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    // The fake cannot block: the call waits, times out and abandons its
    // reply port, as an interrupted caller does.
    let mut client = init.client();
    assert!(matches!(client.wait(-1, 0), Err(CallError::Rpc(_))));
    child_client(&world, &init, child).exit(7).unwrap();
    world.system.run_servers();
    // The zombie is still there for the next wait.
    let reply = init.client().wait(-1, 0).unwrap();
    assert_eq!((reply.child, reply.status), (child as i32, 7 << 8));
}

#[test]
fn kill_applies_default_actions_and_the_parent_sees_wtermsig() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    init.client().kill(child as i32, 19).unwrap(); // SIGSTOP
    assert_eq!(world.tasks.suspended(task), 1);
    let stopped = init.client().wait(child as i32, 2).unwrap(); // WUNTRACED
    assert_eq!(stopped.status, (19 << 8) | 0x7f);
    init.client().kill(child as i32, 18).unwrap(); // SIGCONT
    assert_eq!(world.tasks.suspended(task), 0);
    init.client().kill(child as i32, 15).unwrap();
    assert!(world.terminated(task));
    let reply = init.client().wait(-1, 0).unwrap();
    assert_eq!(reply.status & 0x7f, 15);
    assert!(matches!(init.client().kill(999, 15), Err(CallError::Interface(Error::Esrch))));
    assert!(matches!(init.client().kill(1, 65), Err(CallError::Interface(Error::Einval))));
}

#[test]
fn a_task_that_dies_behind_the_servers_back_is_a_zombie_killed_by_sigkill() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    world.tasks.clone().terminate(task).unwrap();
    world.system.run_servers();
    let reply = init.client().wait(-1, 0).unwrap();
    assert_eq!((reply.child, reply.status), (child as i32, 9));
    assert!(world.server.borrow().live_pids().iter().all(|&pid| pid != child));
}

#[test]
fn orphans_go_to_init_and_getppid_says_so() {
    let world = world();
    let init = world.init();
    let parent = world.fork(&init, 0x40_2000);
    let parent_process = Process {
        kernel: world.tasks.kernel_of(world.server.borrow().task_port(parent).unwrap()),
        task: 0,
        block: init.block.clone(),
    };
    let orphan = world.fork(&parent_process, 0x40_3000);
    assert_eq!(child_client(&world, &init, orphan).get_parent().unwrap(), parent as i32);
    child_client(&world, &init, parent).exit(0).unwrap();
    world.system.run_servers();
    assert_eq!(child_client(&world, &init, orphan).get_parent().unwrap(), 1);
    let _ = parent_process.task;
}

// ----- signals ---------------------------------------------------------------------------------

/// A signal thread: records what arrives on its port.
#[derive(Default)]
struct SignalThread {
    posts: Vec<signal::Information>,
}

impl signal::Server<FakeKernel> for SignalThread {
    fn post(&mut self, _context: &libmach::Context<'_, FakeKernel>, information: &signal::Information) {
        self.posts.push(*information);
    }
    fn fault(
        &mut self,
        _context: &libmach::Context<'_, FakeKernel>,
        _thread: SendRight<FakeKernel>,
        _reply: libmach::SendOnceRight<FakeKernel>,
        information: &signal::Information,
    ) {
        self.posts.push(*information);
    }
}

fn signal_thread(world: &World, kernel: &FakeKernel) -> (Rc<RefCell<SignalThread>>, ReceiveRight<FakeKernel>) {
    let port = ReceiveRight::allocate(kernel).unwrap();
    let thread = Rc::new(RefCell::new(SignalThread::default()));
    let handler = thread.clone();
    let handler_kernel = kernel.clone();
    world.system.attach_server(kernel, port.name(), signal::BUFFER_SIZE, move |request, reply| {
        signal::dispatch(&mut *handler.borrow_mut(), &handler_kernel, request, reply)
    });
    (thread, port)
}

#[test]
fn caught_signals_reach_the_signal_port_and_sigchld_carries_the_child() {
    let world = world();
    let init = world.init();
    let (thread, port) = signal_thread(&world, &init.kernel);
    let mut client = init.client();
    client.set_signal_port(&port).unwrap();
    client.set_dispositions(1 << (10 - 1) | 1 << (17 - 1), 0, 0, false, false).unwrap(); // SIGUSR1, SIGCHLD
    client.kill(1, 10).unwrap();
    world.system.run_servers();
    let child = world.fork(&init, 0x40_2000);
    child_client(&world, &init, child).exit(4).unwrap();
    world.system.run_servers();
    let posts = thread.borrow().posts.clone();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!((posts[0].signal, posts[0].code, posts[0].pid), (10, 0, 1), "SI_USER from itself");
    assert_eq!((posts[1].signal, posts[1].code, posts[1].pid, posts[1].status), (17, 1, child as i32, 4), "CLD_EXITED");
}

#[test]
fn without_a_signal_port_signals_are_held_until_one_comes_or_the_mask_lets_them_act() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    let mut client = child_client(&world, &init, child);
    // SIGUSR2 and SIGTERM blocked, no signal port yet.
    client.set_dispositions(0, 0, 1 << (12 - 1) | 1 << (15 - 1), false, false).unwrap();
    init.client().kill(child as i32, 12).unwrap();
    init.client().kill(child as i32, 15).unwrap();
    assert_eq!(client.held_signals().unwrap(), 1 << (12 - 1) | 1 << (15 - 1));
    assert!(!world.terminated(task));
    // SIGUSR2 gets a handler and a port: it is posted; SIGTERM unblocked: its default action.
    let (thread, port) = signal_thread(&world, &child_kernel(&world, child));
    client.set_dispositions(1 << (12 - 1), 0, 1 << (15 - 1), false, false).unwrap();
    client.set_signal_port(&port).unwrap();
    world.system.run_servers();
    assert_eq!(
        thread.borrow().posts.iter().map(|post| post.signal).collect::<Vec<_>>(),
        [12, 15],
        "blocked ones go to the port too"
    );
    let held = client.set_dispositions(1 << (12 - 1), 0, 0, false, false);
    assert_eq!(held.unwrap(), 0);
    assert!(!world.terminated(task), "SIGTERM went to the signal thread, which holds it pending");
}

fn child_kernel(world: &World, pid: Pid) -> FakeKernel {
    let task = world.server.borrow().task_port(pid).unwrap();
    world.tasks.kernel_of(task)
}

#[test]
fn a_held_signal_whose_mask_is_lifted_takes_its_default_action() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    let mut client = child_client(&world, &init, child);
    client.set_dispositions(0, 0, 1 << (15 - 1), false, false).unwrap();
    init.client().kill(child as i32, 15).unwrap();
    assert!(!world.terminated(task));
    let _ = client.set_dispositions(0, 0, 0, false, false);
    assert!(world.terminated(task), "unblocked with no handler: terminated");
    assert_eq!(init.client().wait(-1, 0).unwrap().status, 15);
}

#[test]
fn a_forged_exception_from_a_task_is_refused() {
    let world = world();
    let init = world.init();
    let port = world.server.borrow().exception_port(1).unwrap();
    let name = world.system.give_send_right(&world.server_task, port, &init.kernel).unwrap();
    let mut reply = ReceiveRight::allocate(&init.kernel).unwrap();
    let mut buffer = vec![0u8; 256];
    let header = libmach::rpc::request_header(name, reply.name(), mach_abi::EXCEPTION_RAISE_ID);
    let mut writer = libmach::message::MessageWriter::new(&mut buffer, header);
    writer.u32(1).unwrap();
    let length = writer.finish().unwrap();
    libmach::rpc::call(&init.kernel, &mut reply, &mut buffer, length, None).unwrap();
    let code = libmach::rpc::read_reply(&init.kernel, &buffer, mach_abi::EXCEPTION_RAISE_ID);
    assert!(matches!(code, Err(Ok(5))), "KERN_FAILURE");
    assert!(world.server.borrow().live_pids().contains(&1), "nothing happened to init");
}

// ----- exec and spawn ------------------------------------------------------------------------------

#[test]
fn exec_replaces_the_image_under_the_same_pid_keeping_its_descriptors() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let old_task = world.server.borrow().task_port(child).unwrap();
    let kernel = child_kernel(&world, child);
    let file = world.files.open_file(&kernel);
    let descriptor = world.files.open_file(&kernel);
    let keep = [Descriptor { number: 4, name: descriptor, flags: 0 }];
    let blob = strings(&[b"/bin/ls", b"-l"], &[b"HOME=/"]);
    let mut client = child_client(&world, &init, child);
    // The caller is gone on success: its reply never comes.
    let _ = client.exec(&SendRight::from_name(&kernel, file), &blob, 2, 1, &keep, 0, 0, 0, 1 << 1, 0o027);
    assert!(world.terminated(old_task));
    let process = world.process(child);
    assert_ne!(process.task, old_task);
    assert_eq!(process.block.arguments, [b"/bin/ls".to_vec(), b"-l".to_vec()]);
    assert_eq!(process.block.environment, [b"HOME=/".to_vec()]);
    assert_eq!(process.block.descriptors[0].number, 4);
    assert_eq!(process.block.descriptors[0].name, descriptor, "the same name in the new task");
    assert_eq!(process.auxiliary(mach_abi::AT_MACH_SIGNAL_MASK), 2);
    assert_eq!(process.auxiliary(mach_abi::AT_MACH_UMASK), 0o027);
    assert_eq!(process.auxiliary(mach_abi::AT_MACH_PID), child as u64);
    let identity = process.client().identity().unwrap();
    assert_eq!((identity.pid, identity.parent), (child as i32, 1));
    assert_eq!(world.server.borrow().table().get(child).unwrap().command, "ls");
    assert_eq!(world.task_name(child).as_deref(), Some("ls"));
    world.system.check_invariants().unwrap();
}

#[test]
fn a_failing_exec_leaves_the_caller_intact() {
    let world = world();
    let init = world.init();
    let task = init.task;
    let file = world.files.open_file(&init.kernel);
    let blob = strings(&[b"x"], &[]);
    let exec = |world: &World| {
        let file = SendRight::from_name(&init.kernel, file);
        let result = init.client().exec(&file, &blob, 1, 0, &[], 0, 0, 0, 0, 0);
        std::mem::forget(file);
        let _ = world;
        result
    };
    *world.files.contents.borrow_mut() = b"#!/bin/sh\n".to_vec();
    assert!(matches!(exec(&world), Err(CallError::Interface(Error::Enoexec))));
    *world.files.contents.borrow_mut() = program();
    *world.files.mode.borrow_mut() = 0o100_644;
    assert!(matches!(exec(&world), Err(CallError::Interface(Error::Eacces))), "no execute bit");
    *world.files.mode.borrow_mut() = 0o040_755;
    assert!(matches!(exec(&world), Err(CallError::Interface(Error::Eacces))), "a directory");
    *world.files.mode.borrow_mut() = 0o100_755;
    let bad_strings = b"no terminator".to_vec();
    let file_right = SendRight::from_name(&init.kernel, file);
    let refused = init.client().exec(&file_right, &bad_strings, 1, 0, &[], 0, 0, 0, 0, 0);
    assert!(matches!(refused, Err(CallError::Interface(Error::Einval))));
    let closing = [Descriptor { number: 3, name: file, flags: 1 }];
    let refused = init.client().exec(&file_right, &blob, 1, 0, &closing, 0, 0, 0, 0, 0);
    assert!(matches!(refused, Err(CallError::Interface(Error::Einval))), "a close-on-exec descriptor kept");
    assert!(!world.terminated(task));
    assert_eq!(world.server.borrow().task_port(1), Some(task));
    assert_eq!(init.client().identity().unwrap().pid, 1);
}

#[test]
fn execute_permission_is_checked_against_the_callers_effective_ids() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let mut client = child_client(&world, &init, child);
    client.set_ids(1, 2, 50, 50, 50).unwrap();
    client.set_ids(0, 2, 1000, 1000, 1000).unwrap();
    let kernel = child_kernel(&world, child);
    let mut exec = |mode: u32, owner: u32| {
        *world.files.mode.borrow_mut() = mode;
        *world.files.owner.borrow_mut() = owner;
        let file = SendRight::from_name(&kernel, world.files.open_file(&kernel));
        client.exec(&file, &strings(&[b"x"], &[]), 1, 0, &[], 0, 0, 0, 0, 0)
    };
    assert!(matches!(exec(0o100_700, 0), Err(CallError::Interface(Error::Eacces))), "only the owner (root) may");
    assert!(matches!(exec(0o100_070, 0), Err(CallError::Interface(Error::Eacces))), "only the group (0) may");
    assert!(
        matches!(exec(0o100_601, 1000), Err(CallError::Interface(Error::Eacces))),
        "the owner's bit decides for the owner"
    );
    let _ = exec(0o100_001, 0);
    assert_eq!(world.server.borrow().table().get(child).unwrap().command, "x", "the others' bit lets anyone");
}

#[test]
fn arguments_of_128_kib_reach_the_new_image() {
    let world = world();
    let init = world.init();
    let file = world.files.open_file(&init.kernel);
    let long: Vec<Vec<u8>> = (0..128).map(|index| vec![b'a' + (index % 26) as u8; 1023]).collect();
    let arguments: Vec<&[u8]> = long.iter().map(Vec::as_slice).collect();
    let blob = strings(&arguments, &[]);
    assert!(blob.len() >= 128 * 1024);
    let _ = init.client().exec(&SendRight::from_name(&init.kernel, file), &blob, 128, 0, &[], 0, 0, 0, 0, 0);
    let process = world.process(1);
    assert_eq!(process.block.arguments.len(), 128);
    assert_eq!(process.block.arguments[127], long[127]);
}

#[test]
fn a_set_user_id_program_runs_as_its_owner() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let mut client = child_client(&world, &init, child);
    client.set_ids(0, 2, 1000, 1000, 1000).unwrap();
    assert_eq!(world.credential(child).euid, 1000);
    *world.files.mode.borrow_mut() = 0o104_755;
    *world.files.owner.borrow_mut() = 0;
    let kernel = child_kernel(&world, child);
    let file = world.files.open_file(&kernel);
    let _ = client.exec(&SendRight::from_name(&kernel, file), &strings(&[b"passwd"], &[]), 1, 0, &[], 0, 0, 0, 0, 0);
    let process = world.process(child);
    assert_eq!((process.auxiliary(mach_abi::AT_UID), process.auxiliary(mach_abi::AT_EUID)), (1000, 0));
    assert_eq!(process.auxiliary(mach_abi::AT_SECURE), 1);
    assert_eq!((world.credential(child).ruid, world.credential(child).euid), (1000, 0));
}

#[test]
fn spawn_builds_a_child_from_nothing_with_its_file_actions_and_group() {
    let world = world();
    let init = world.init();
    let kernel = &init.kernel;
    let file = world.files.open_file(kernel);
    let pipe = world.files.open_file(kernel);
    let keep = [
        Descriptor { number: 0, name: init.block.descriptors[0].name, flags: 0 },
        Descriptor { number: 5, name: pipe, flags: 1 },
    ];
    let actions = [FileAction { kind: 1, source: 5, target: 1 }];
    let mut client = init.client();
    let file = SendRight::from_name(kernel, file);
    let child = client
        .spawn(&file, &strings(&[b"cat"], &[]), 1, 0, &keep, 0, 0, 0, &actions, 0, false, -1, 0, 0, false, 0o022)
        .unwrap() as Pid;
    let process = world.process(child);
    let table: Vec<(i32, PortName)> =
        process.block.descriptors.iter().map(|descriptor| (descriptor.number, descriptor.name)).collect();
    assert_eq!(table, [(0, init.block.descriptors[0].name), (1, pipe)], "fd 5 (close-on-exec) moved to 1 and dropped");
    let identity = process.client().identity().unwrap();
    assert_eq!((identity.parent, identity.group), (1, child as i32), "its own group");
    // A bad action leaves no child.
    let bad = [FileAction { kind: 1, source: 9, target: 1 }];
    let refused =
        client.spawn(&file, &strings(&[b"cat"], &[]), 1, 0, &keep, 0, 0, 0, &bad, -1, false, -1, 0, 0, false, 0);
    assert!(matches!(refused, Err(CallError::Interface(Error::Ebadf))), "{refused:?}");
    assert_eq!(world.server.borrow().table().get(1).unwrap().children().count(), 1);
}

/// A spawn with a foreground terminal: the answer waits until the child
/// took the terminal (`started`) — what made `tcgetpgrp() == child` right
/// after posix_spawn a race — or stopped or ended first.
#[test]
fn a_foreground_spawn_is_answered_once_the_child_started() {
    let world = world();
    let init = world.init();
    let kernel = &init.kernel;
    let keep = [Descriptor { number: 0, name: init.block.descriptors[0].name, flags: 0 }];
    let mut client = init.client();
    let spawn_foreground = |client: &mut Client<FakeKernel>| {
        let file = SendRight::from_name(kernel, world.files.open_file(kernel));
        client
            .send_spawn(&file, &strings(&[b"sh"], &[]), 1, 0, &keep, 0, 0, 0, &[], 0, false, 0, 0, 0, false, 0o022)
            .unwrap();
        world.system.run_servers();
    };
    spawn_foreground(&mut client);
    assert!(client.receive_spawn(Some(0)).is_err(), "no answer before the child started");
    let child = world.server.borrow().table().get(1).unwrap().children().max().unwrap();
    let foreground = world
        .process(child)
        .block
        .auxiliary
        .iter()
        .find(|(key, _)| *key == mach_abi::AT_MACH_FOREGROUND)
        .map(|&(_, fd)| fd);
    assert_eq!(foreground, Some(0), "it takes fd 0");
    world.process(child).client().started().unwrap();
    world.system.run_servers();
    assert_eq!(client.receive_spawn(Some(0)).unwrap(), child as i32);
    world.process(child).client().started().unwrap();
    world.system.run_servers();
    assert!(client.receive_spawn(Some(0)).is_err(), "answered once");

    // A child that ends (or stops) before it started: answered then.
    spawn_foreground(&mut client);
    let second = world.server.borrow().table().get(1).unwrap().children().max().unwrap();
    assert_ne!(second, child);
    assert!(client.receive_spawn(Some(0)).is_err());
    world.system_client().signal_group(second as i32, 19).unwrap(); // SIGSTOP
    world.system.run_servers();
    assert_eq!(client.receive_spawn(Some(0)).unwrap(), second as i32, "stopped");
    spawn_foreground(&mut client);
    let third = world.server.borrow().table().get(1).unwrap().children().max().unwrap();
    assert!(client.receive_spawn(Some(0)).is_err());
    world.process(third).client().exit(127).unwrap();
    world.system.run_servers();
    assert_eq!(client.receive_spawn(Some(0)).unwrap(), third as i32, "ended");

    // Without a foreground terminal the answer comes at once.
    let file = SendRight::from_name(kernel, world.files.open_file(kernel));
    let at_once = client
        .spawn(&file, &strings(&[b"cat"], &[]), 1, 0, &keep, 0, 0, 0, &[], -1, false, -1, 0, 0, false, 0o022)
        .unwrap();
    assert!(at_once > third as i32);
    world.system.check_invariants().unwrap();
}

// ----- limits, ids, listing, the servers' routines, shutdown -----------------------------------

#[test]
fn rlimit_nproc_stops_a_fork_bomb_of_an_unprivileged_user() {
    let world = world();
    let init = world.init();
    let first = world.fork(&init, 0x40_2000);
    let mut client = child_client(&world, &init, first);
    client.set_ids(0, 2, 1000, 1000, 1000).unwrap();
    client.limit(6, true, 3, 3).unwrap(); // RLIMIT_NPROC
    let parent = Process { kernel: child_kernel(&world, first), task: 0, block: init.block.clone() };
    let mut made = 1;
    loop {
        let state = ResumeState::default();
        match parent.client().fork(&state, 0, 0) {
            Ok(_) => made += 1,
            Err(CallError::Interface(Error::Eagain)) => break,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(made, 3, "three processes of uid 1000");
    assert_eq!(init.client().identity().unwrap().pid, 1, "the system keeps answering");
}

#[test]
fn the_listing_shows_each_process() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let running = world.fork(&init, 0x40_2000);
    child_client(&world, &init, child).exit(0).unwrap();
    world.system.run_servers();
    // Init's thread waits (for a message, say): S; the other child runs.
    let init_task = world.server.borrow().task_port(1).unwrap();
    let init_key = world.tasks.key(init_task).unwrap();
    world.tasks.waiting.borrow_mut().insert(init_key);
    let entries = init.client().list(0).unwrap();
    let rows: Vec<(i32, i32, u8)> =
        entries.as_slice().iter().map(|entry| (entry.pid, entry.parent, entry.state)).collect();
    assert_eq!(rows, [(1, 0, b'S'), (child as i32, 1, b'Z'), (running as i32, 1, b'R')]);
    let first = &entries.as_slice()[0];
    assert_eq!(&first.command[..5], b"init\0", "argv[0]'s last component");
    assert_eq!(String::from_utf8_lossy(&first.arguments[..18]), "/sbin/init -c true");
    assert_eq!(first.cpu_microseconds, 20_000);
    assert!(first.virtual_kib > 0, "from the memory server");
    assert_eq!(init.client().list(child as i32).unwrap().as_slice().len(), 1, "after the child: the other");
}

#[test]
fn server_routines_are_for_system_tasks_only() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let mut client = child_client(&world, &init, child);
    client.set_group(0, 0).unwrap();
    let task = world.server.borrow().task_port(child).unwrap();
    // A process on its own port: refused.
    assert!(matches!(client.signal_group(child as i32, 2), Err(CallError::Interface(Error::Eperm))));
    let mut system = world.system_client();
    system.signal_group(child as i32, 20).unwrap(); // ^Z
    assert_eq!(world.tasks.suspended(task), 1);
    assert_eq!(system.job_control(child as i32, child as i32, 21).unwrap(), 0, "SIGTTIN to its group");
    assert!(system.group_in_session(child as i32, 1).unwrap());
    assert!(!system.group_in_session(child as i32, child as i32).unwrap());
    system.signal_process(child as i32, 13).unwrap(); // SIGPIPE
    world.system.run_servers();
    assert!(world.terminated(task));
    assert!(
        matches!(system.identity(), Err(CallError::Interface(Error::Eperm))),
        "a process routine on the public port"
    );
}

#[test]
fn shutdown_is_the_superusers_and_ends_everything() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let mut client = child_client(&world, &init, child);
    client.set_ids(0, 0, 1000, -1, -1).unwrap();
    assert!(matches!(client.shutdown(0, 0), Err(CallError::Interface(Error::Eperm))));
    let task = world.server.borrow().task_port(child).unwrap();
    let _ = init.client().shutdown(0, 42);
    assert!(world.terminated(task));
    assert!(*world.files.shut_down.borrow());
    assert_eq!(*world.tasks.power.borrow(), Some((Power::Off, 42)));
    assert!(world.server.borrow().stopped());
}

#[test]
fn shutdown_without_the_devices_ports_is_refused_and_ends_nothing() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    world.tasks.powerless.borrow_mut().extend([Power::Off, Power::Halt]);
    for action in [0, 2] {
        assert!(matches!(init.client().shutdown(action, 3), Err(CallError::Interface(Error::Enxio))));
    }
    assert!(!world.terminated(task), "nothing is ended");
    assert!(!*world.files.shut_down.borrow(), "the disks stay mounted");
    assert!(world.tasks.power.borrow().is_none());
    assert!(!world.server.borrow().stopped());
    // A restart's device is granted: that one goes on.
    let _ = init.client().shutdown(1, 0);
    assert!(world.terminated(task));
    assert_eq!(*world.tasks.power.borrow(), Some((Power::Restart, 0)));
}

/// A server whose right went dead is gone (EIO), not short of memory:
/// the file server ended before init once read "could not write
/// everything back (errno 12)".
#[test]
fn a_dead_servers_right_is_eio_and_only_a_shortage_is_enomem() {
    for gone in [KernReturn::InvalidName, KernReturn::InvalidRight, KernReturn::InvalidArgument] {
        assert_eq!(crate::right_copy_errno(gone), Errno::EIO, "{gone:?}");
    }
    for short in [KernReturn::ResourceShortage, KernReturn::NoSpace, KernReturn::UrefsOverflow] {
        assert_eq!(crate::right_copy_errno(short), Errno::ENOMEM, "{short:?}");
    }
}

#[test]
fn init_ending_powers_off_where_the_server_may() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    init.client().exit(0).unwrap();
    world.system.run_servers();
    assert!(world.terminated(task), "every process is ended");
    assert!(*world.files.shut_down.borrow(), "the disks are written back");
    assert_eq!(*world.tasks.power.borrow(), Some((Power::Off, 1)));
    assert!(world.server.borrow().stopped());
}

/// A system booted inside a test machine is not granted power-off (its
/// manifest withholds it): init's end still ends every process and writes
/// the disks back, and the machine stays on. (The server once called
/// `power` there without asking `can_power`, and on aarch64 powered the
/// test machine off.)
#[test]
fn init_ending_without_power_off_writes_back_and_leaves_the_machine_on() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    world.tasks.powerless.borrow_mut().extend([Power::Off, Power::Halt, Power::Restart]);
    init.client().exit(0).unwrap();
    world.system.run_servers();
    assert!(world.terminated(task), "every process is ended");
    assert!(*world.files.shut_down.borrow(), "the disks are written back");
    assert!(world.tasks.power.borrow().is_none(), "the machine stays on");
    assert!(world.server.borrow().stopped());
}

#[test]
fn a_session_leader_ending_is_told_to_the_console() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let mut client = child_client(&world, &init, child);
    assert_eq!(client.new_session().unwrap(), child as i32);
    client.exit(0).unwrap();
    world.system.run_servers();
    assert_eq!(*world.console.ended.borrow(), [child]);
}

#[test]
fn the_timer_sends_sigalrm_when_its_time_comes() {
    let world = world();
    let init = world.init();
    let child = world.fork(&init, 0x40_2000);
    let task = world.server.borrow().task_port(child).unwrap();
    let mut client = child_client(&world, &init, child);
    assert!(!world.server.borrow().has_work_between_requests(), "no timer, no queued signal: no tick needed");
    let old = client.set_timer(1_500_000, 0).unwrap();
    assert_eq!((old.old_value, old.old_interval), (0, 0));
    assert_eq!(world.server.borrow().next_deadline(), Some(1500));
    assert!(world.server.borrow().has_work_between_requests(), "an armed timer needs the tick");
    *world.tasks.now.borrow_mut() = 1000;
    world.server.borrow_mut().tick();
    assert!(!world.terminated(task));
    *world.tasks.now.borrow_mut() = 1500;
    world.server.borrow_mut().tick();
    assert!(world.terminated(task), "SIGALRM's default action");
    assert_eq!(init.client().wait(-1, 0).unwrap().status, 14);
}

// ----- random operations -------------------------------------------------------------------

/// One thing a process (or the system) may do; `who` and pids pick among
/// the processes alive at the time, by index.
#[derive(Clone, Debug)]
enum Operation {
    Fork { who: usize },
    Exit { who: usize, status: i32 },
    Wait { who: usize, target: i32, options: i32 },
    Kill { who: usize, target: usize, signal: i32, group: bool },
    SetGroup { who: usize, target: usize, own: bool },
    NewSession { who: usize },
    SetIds { who: usize, which: u32, kind: u32, id: i64 },
    Dispositions { who: usize, caught: u64, ignored: u64, blocked: u64 },
    Exec { who: usize, valid: bool },
    Spawn { who: usize, group: i32, action: u32 },
    TaskDies { who: usize },
    Timer { who: usize, milliseconds: u64 },
    Tick { milliseconds: u64 },
    SignalGroup { target: usize, signal: i32 },
    List { who: usize },
    Garbage { who: usize, id: i32, bytes: Vec<u8> },
}

fn operation() -> impl proptest::strategy::Strategy<Value = Operation> {
    use proptest::prelude::*;
    let who = 0usize..8;
    prop_oneof![
        4 => who.clone().prop_map(|who| Operation::Fork { who }),
        3 => (who.clone(), any::<i32>()).prop_map(|(who, status)| Operation::Exit { who, status }),
        3 => (who.clone(), -3i32..8, prop_oneof![Just(0), Just(1), Just(3), Just(9), Just(11)])
            .prop_map(|(who, target, options)| Operation::Wait { who, target, options }),
        3 => (who.clone(), 0usize..8, 0i32..24, any::<bool>())
            .prop_map(|(who, target, signal, group)| Operation::Kill { who, target, signal, group }),
        1 => (who.clone(), 0usize..8, any::<bool>()).prop_map(|(who, target, own)| Operation::SetGroup { who, target, own }),
        1 => who.clone().prop_map(|who| Operation::NewSession { who }),
        1 => (who.clone(), 0u32..3, 0u32..5, prop_oneof![Just(-1i64), Just(0), Just(1000), Just(-7)])
            .prop_map(|(who, which, kind, id)| Operation::SetIds { who, which, kind, id }),
        2 => (who.clone(), any::<u64>(), any::<u64>(), any::<u64>())
            .prop_map(|(who, caught, ignored, blocked)| Operation::Dispositions { who, caught, ignored, blocked }),
        2 => (who.clone(), any::<bool>()).prop_map(|(who, valid)| Operation::Exec { who, valid }),
        2 => (who.clone(), -1i32..3, 0u32..5).prop_map(|(who, group, action)| Operation::Spawn { who, group, action }),
        1 => who.clone().prop_map(|who| Operation::TaskDies { who }),
        1 => (who.clone(), 0u64..3000).prop_map(|(who, milliseconds)| Operation::Timer { who, milliseconds }),
        1 => (0u64..3000).prop_map(|milliseconds| Operation::Tick { milliseconds }),
        1 => (0usize..8, 0i32..24).prop_map(|(target, signal)| Operation::SignalGroup { target, signal }),
        1 => who.clone().prop_map(|who| Operation::List { who }),
        1 => (who, 8000i32..8030, proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(who, id, bytes)| Operation::Garbage { who, id, bytes }),
    ]
}

impl World {
    /// The client of the live process at `index` (modulo), and its pid.
    fn pick(&self, index: usize) -> Option<(Pid, FakeKernel, Client<FakeKernel>)> {
        let pids = self.server.borrow().live_pids();
        let pid = *pids.get(index % pids.len().max(1))?;
        let kernel = child_kernel(self, pid);
        let name = self.server.borrow().process_port_name(pid)?;
        kernel.port_mod_refs(name, PortRight::Send, 1).ok()?;
        let client = Client::new(&kernel, SendRight::from_name(&kernel, name)).ok()?;
        Some((pid, kernel, client))
    }

    fn pid_at(&self, index: usize) -> i32 {
        let pids: Vec<Pid> = self.server.borrow().table().processes().map(|process| process.pid).collect();
        pids.get(index % pids.len().max(1)).map_or(1, |&pid| pid as i32)
    }

    fn run(&self, operation: &Operation) {
        let picked = match operation {
            Operation::Tick { .. } | Operation::SignalGroup { .. } => None,
            Operation::Fork { who }
            | Operation::Exit { who, .. }
            | Operation::Wait { who, .. }
            | Operation::Kill { who, .. }
            | Operation::SetGroup { who, .. }
            | Operation::NewSession { who }
            | Operation::SetIds { who, .. }
            | Operation::Dispositions { who, .. }
            | Operation::Exec { who, .. }
            | Operation::Spawn { who, .. }
            | Operation::TaskDies { who }
            | Operation::Timer { who, .. }
            | Operation::List { who }
            | Operation::Garbage { who, .. } => match self.pick(*who) {
                Some(picked) => Some(picked),
                None => return,
            },
        };
        // Init's own end powers the system off (tested by itself); here it
        // stays, so the operations go on against a live system.
        if let (Operation::Exit { .. } | Operation::TaskDies { .. }, Some((1, _, _))) = (operation, &picked) {
            return;
        }
        match (operation, picked) {
            (Operation::Fork { .. }, Some((_, _, mut client))) => {
                let _ = client.fork(&ResumeState { pc: 0x40_1000, sp: 0x7fff_0000, ..ResumeState::default() }, 0, 0);
            }
            (Operation::Exit { status, .. }, Some((_, _, mut client))) => {
                let _ = client.exit(*status);
            }
            (Operation::Wait { target, options, .. }, Some((_, _, mut client))) => {
                let _ = client.wait(*target, *options);
            }
            (Operation::Kill { target, signal, group, .. }, Some((_, _, mut client))) => {
                let pid = self.pid_at(*target);
                let _ = client.kill(if *group { -pid } else { pid }, *signal);
            }
            (Operation::SetGroup { target, own, .. }, Some((pid, _, mut client))) => {
                let target = self.pid_at(*target);
                let _ = client.set_group(target, if *own { pid as i32 } else { 0 });
            }
            (Operation::NewSession { .. }, Some((_, _, mut client))) => {
                let _ = client.new_session();
            }
            (Operation::SetIds { which, kind, id, .. }, Some((_, _, mut client))) => {
                let _ = client.set_ids(*which, *kind, *id, *id, -1);
            }
            (Operation::Dispositions { caught, ignored, blocked, .. }, Some((_, _, mut client))) => {
                let _ = client.set_dispositions(*caught, *ignored, *blocked, false, false);
            }
            (Operation::Exec { valid, .. }, Some((_, kernel, mut client))) => {
                let file = SendRight::from_name(&kernel, self.files.open_file(&kernel));
                let blob = if *valid { strings(&[b"prog"], &[b"A=1"]) } else { b"prog".to_vec() };
                let _ = client.exec(&file, &blob, 1, 1, &[], 0, 0, 0, 0, 0);
            }
            (Operation::Spawn { group, action, .. }, Some((_, kernel, mut client))) => {
                let file = SendRight::from_name(&kernel, self.files.open_file(&kernel));
                let pipe = self.files.open_file(&kernel);
                let keep = [Descriptor { number: 3, name: pipe, flags: 1 }];
                let actions = [FileAction { kind: *action, source: 3, target: 1 }];
                let _ = client.spawn(
                    &file,
                    &strings(&[b"cat"], &[]),
                    1,
                    0,
                    &keep,
                    0,
                    0,
                    0,
                    &actions,
                    *group,
                    false,
                    -1,
                    0,
                    0,
                    false,
                    0,
                );
            }
            (Operation::TaskDies { .. }, Some((pid, _, _))) => {
                if let Some(task) = self.server.borrow().task_port(pid) {
                    let _ = self.tasks.clone().terminate(task);
                }
            }
            (Operation::Timer { milliseconds, .. }, Some((_, _, mut client))) => {
                let _ = client.set_timer(milliseconds * 1000, 0);
            }
            (Operation::Tick { milliseconds }, None) => {
                *self.tasks.now.borrow_mut() += milliseconds;
                self.server.borrow_mut().tick();
            }
            (Operation::SignalGroup { target, signal }, None) => {
                let _ = self.system_client().signal_group(self.pid_at(*target), *signal);
            }
            (Operation::List { .. }, Some((_, _, mut client))) => {
                let entries = client.list(0).unwrap();
                let table = self.server.borrow();
                assert_eq!(entries.as_slice().len(), table.table().processes().count().min(96));
            }
            (Operation::Garbage { id, bytes, .. }, Some((pid, kernel, _))) => {
                // A request with a proc id and random bytes: answered with an
                // error or served, never a crash.
                let name = self.server.borrow().process_port_name(pid).unwrap();
                let mut reply = ReceiveRight::allocate(&kernel).unwrap();
                let mut buffer = vec![0u8; 1024];
                let header = libmach::rpc::request_header(name, reply.name(), *id);
                let mut writer = libmach::message::MessageWriter::new(&mut buffer, header);
                for byte in bytes {
                    writer.u32(*byte as u32).unwrap();
                }
                let length = writer.finish().unwrap();
                let _ = libmach::rpc::call(&kernel, &mut reply, &mut buffer, length, None);
            }
            _ => {}
        }
        self.system.run_servers();
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]

    /// Random operations by random processes never crash the server, and
    /// after each the table's invariants hold, the server's records agree
    /// with it, and the IPC state is consistent.
    #[test]
    fn random_operations_keep_the_server_consistent(operations in proptest::collection::vec(operation(), 1..40)) {
        let world = world();
        world.init();
        for operation in &operations {
            world.run(operation);
            let check = world.server.borrow().check();
            proptest::prop_assert_eq!(check, Ok(()), "after {:?}", operation);
            world.system.check_invariants().map_err(proptest::test_runner::TestCaseError::fail)?;
        }
    }
}
