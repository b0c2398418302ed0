//! The memory server's requests through the generated clients and dispatch
//! on libmach's fake kernel: who may call what, the VM calls each request
//! makes on the process's task (recorded), files kept and released, spaces
//! dropped when their task dies or their port is no longer held.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::format;
use std::rc::Rc;
use std::string::String;
use std::vec;
use std::vec::Vec;

use crate::{Files, MemoryServer, TaskMemory};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::{CallError, PortSet, ReceiveRight, SendRight, ServeOptions};
use mach_abi::{KernReturn, PortName, TaskCredential};
use memory_core::{map_flags, protection, Errno, MAPPING_BASE, USER_TOP};
use personality_interfaces::memory::{self, Client, Error, Segment};

const RW: u32 = protection::READ | protection::WRITE;
const RX: u32 = protection::READ | protection::EXECUTE;

#[derive(Clone, Debug, PartialEq, Eq)]
enum VmCall {
    Allocate(u64, u64),
    Map { address: u64, size: u64, offset: u64, private: bool, protection: u32 },
    Protect(u64, u64, u32),
    Inherit(u64, u64, bool),
    Deallocate(u64, u64),
    Write(u64, usize),
    Read(u64, usize),
    Limit(Option<u64>),
    Fork,
    Terminate,
}

/// Records the VM calls of every task, and keeps written bytes so reads
/// give them back (mremap's copies).
#[derive(Clone, Default)]
struct Vm {
    calls: Rc<RefCell<Vec<(PortName, VmCall)>>>,
    pages: Rc<RefCell<BTreeMap<(PortName, u64), u8>>>,
    fail: Rc<RefCell<Option<KernReturn>>>,
    /// The server's task, where forked children's stand-in ports are made.
    children: Rc<RefCell<Option<FakeKernel>>>,
    child_ports: Rc<RefCell<Vec<ReceiveRight<FakeKernel>>>>,
}

impl Vm {
    fn record(&self, task: PortName, call: VmCall) -> Result<(), KernReturn> {
        if let Some(code) = self.fail.borrow_mut().take() {
            return Err(code);
        }
        self.calls.borrow_mut().push((task, call));
        Ok(())
    }

    fn take(&self) -> Vec<VmCall> {
        self.calls.borrow_mut().drain(..).map(|(_, call)| call).collect()
    }
}

impl TaskMemory for Vm {
    fn allocate(&mut self, task: PortName, address: u64, size: u64) -> Result<(), KernReturn> {
        self.record(task, VmCall::Allocate(address, size))
    }
    fn map(
        &mut self,
        task: PortName,
        address: u64,
        size: u64,
        _object: PortName,
        offset: u64,
        private: bool,
        protection: u32,
    ) -> Result<(), KernReturn> {
        self.record(task, VmCall::Map { address, size, offset, private, protection })
    }
    fn protect(&mut self, task: PortName, address: u64, size: u64, protection: u32) -> Result<(), KernReturn> {
        self.record(task, VmCall::Protect(address, size, protection))
    }
    fn inherit(&mut self, task: PortName, address: u64, size: u64, share: bool) -> Result<(), KernReturn> {
        self.record(task, VmCall::Inherit(address, size, share))
    }
    fn deallocate(&mut self, task: PortName, address: u64, size: u64) -> Result<(), KernReturn> {
        self.record(task, VmCall::Deallocate(address, size))
    }
    fn write(&mut self, task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn> {
        for (index, byte) in data.iter().enumerate() {
            self.pages.borrow_mut().insert((task, address + index as u64), *byte);
        }
        self.record(task, VmCall::Write(address, data.len()))
    }
    fn read(&mut self, task: PortName, address: u64, buffer: &mut [u8]) -> Result<(), KernReturn> {
        for (index, byte) in buffer.iter_mut().enumerate() {
            *byte = self.pages.borrow().get(&(task, address + index as u64)).copied().unwrap_or(0);
        }
        self.record(task, VmCall::Read(address, buffer.len()))
    }
    fn set_page_limit(&mut self, task: PortName, pages: Option<u64>) -> Result<(), KernReturn> {
        self.record(task, VmCall::Limit(pages))
    }
    fn terminate(&mut self, task: PortName) -> Result<(), KernReturn> {
        self.record(task, VmCall::Terminate)
    }
    fn fork_task(&mut self, parent: PortName) -> Result<PortName, KernReturn> {
        self.record(parent, VmCall::Fork)?;
        // A new stand-in task port, of the server's.
        let kernel = self.children.borrow().clone().ok_or(KernReturn::ResourceShortage)?;
        let port = ReceiveRight::allocate(&kernel)?;
        let name = port.make_send()?.into_name();
        self.child_ports.borrow_mut().push(port);
        Ok(name)
    }
}

/// The file server's side: every file is open read-write unless listed
/// read-only; objects are ports of the server's task.
#[derive(Clone)]
struct FakeFiles {
    kernel: FakeKernel,
    /// Every file is open read-only when set.
    read_only: Rc<std::cell::Cell<bool>>,
    /// How many times the server asked how a file was opened.
    accesses: Rc<std::cell::Cell<u32>>,
    objects: Rc<RefCell<Vec<ReceiveRight<FakeKernel>>>>,
    maps: Rc<RefCell<Vec<bool>>>,
    syncs: Rc<RefCell<Vec<(u64, u64, bool)>>>,
}

impl Files<FakeKernel> for FakeFiles {
    fn access(&mut self, file: &SendRight<FakeKernel>) -> Result<(bool, bool), Errno> {
        let _ = file;
        self.accesses.set(self.accesses.get() + 1);
        Ok((true, !self.read_only.get()))
    }
    fn map(&mut self, _file: &SendRight<FakeKernel>, writable: bool) -> Result<(SendRight<FakeKernel>, u64), Errno> {
        let object = ReceiveRight::allocate(&self.kernel).map_err(|_| Errno::ENOMEM)?;
        let send = object.make_send().map_err(|_| Errno::ENOMEM)?;
        self.objects.borrow_mut().push(object);
        self.maps.borrow_mut().push(writable);
        Ok((send, 1 << 30))
    }
    fn sync(&mut self, _file: &SendRight<FakeKernel>, offset: u64, length: u64, invalidate: bool) -> Result<(), Errno> {
        self.syncs.borrow_mut().push((offset, length, invalidate));
        Ok(())
    }
}

struct World {
    system: FakeSystem,
    server_task: FakeKernel,
    /// The process server: pid 0.
    proc_task: FakeKernel,
    /// A process: pid 7.
    process_task: FakeKernel,
    server: Rc<RefCell<MemoryServer<FakeKernel, Vm, FakeFiles>>>,
    vm: Vm,
    files: FakeFiles,
    /// The public `memory` port, as the process server and the process name it.
    public_for_proc: PortName,
    public_for_process: PortName,
    _set: PortSet<FakeKernel>,
    _public: ReceiveRight<FakeKernel>,
}

fn world() -> World {
    let system = FakeSystem::new();
    let server_task = system.task();
    let proc_task = system.task();
    let process_task = system.task();
    system.set_credential(
        &process_task,
        TaskCredential { pid: 7, pgid: 7, sid: 7, ruid: 100, euid: 100, ..Default::default() },
    );
    let public = ReceiveRight::allocate(&server_task).unwrap();
    let set = PortSet::allocate(&server_task).unwrap();
    set.insert(&public).unwrap();
    let vm = Vm::default();
    *vm.children.borrow_mut() = Some(server_task.clone());
    let files = FakeFiles {
        kernel: server_task.clone(),
        read_only: Rc::default(),
        accesses: Rc::default(),
        objects: Rc::default(),
        maps: Rc::default(),
        syncs: Rc::default(),
    };
    let server = Rc::new(RefCell::new(MemoryServer::new(
        server_task.clone(),
        vm.clone(),
        files.clone(),
        set.name(),
        public.name(),
    )));
    let handler = server.clone();
    let kernel = server_task.clone();
    system.attach_server_with(
        &server_task,
        set.name(),
        ServeOptions { audit: true },
        memory::BUFFER_SIZE,
        move |request, reply| {
            let mut server = handler.borrow_mut();
            memory::dispatch(&mut *server, &kernel, request, reply)
                .or_else(|| libmach::notify::dispatch(&kernel, request, |notification| server.notified(notification)))
        },
    );
    let public_for_proc = system.give_send_right(&server_task, public.name(), &proc_task).unwrap();
    let public_for_process = system.give_send_right(&server_task, public.name(), &process_task).unwrap();
    World {
        system,
        server_task,
        proc_task,
        process_task,
        server,
        vm,
        files,
        public_for_proc,
        public_for_process,
        _set: set,
        _public: public,
    }
}

/// A stand-in for a task port: a port of the process server's task.
fn task_port(world: &World) -> ReceiveRight<FakeKernel> {
    ReceiveRight::allocate(&world.proc_task).unwrap()
}

/// A client on a new reference to `port` (the caller keeps its own).
fn client(kernel: &FakeKernel, port: PortName) -> Client<FakeKernel> {
    use libmach::PortKernel;
    kernel.port_mod_refs(port, mach_abi::PortRight::Send, 1).unwrap();
    Client::new(kernel, SendRight::from_name(kernel, port)).unwrap()
}

/// A space with only a stack, made by the process server, handed to the
/// process: the process's client, the task's stand-in, the process
/// server's name of the space port and the server's.
fn space(world: &World) -> (Client<FakeKernel>, ReceiveRight<FakeKernel>, PortName, PortName) {
    let task = task_port(world);
    let before = world.server.borrow().space_ports();
    let mut proc = client(&world.proc_task, world.public_for_proc);
    let reply = proc.create(&task.make_send().unwrap(), None, &[], 8 << 20, u64::MAX, u64::MAX).unwrap();
    assert_eq!(reply.stack_top, USER_TOP);
    let in_server = newest_space(world, &before);
    let process_side = world.system.give_send_right(&world.server_task, in_server, &world.process_task).unwrap();
    let process = Client::new(&world.process_task, SendRight::from_name(&world.process_task, process_side)).unwrap();
    (process, task, reply.space.into_name(), in_server)
}

/// The server's name of the one space made since `before`.
fn newest_space(world: &World, before: &[PortName]) -> PortName {
    let now = world.server.borrow().space_ports();
    let new: Vec<PortName> = now.into_iter().filter(|port| !before.contains(port)).collect();
    assert_eq!(new.len(), 1);
    new[0]
}

#[test]
fn create_without_a_file_makes_a_stack_and_sets_the_page_limit() {
    let world = world();
    let task = task_port(&world);
    let mut proc = client(&world.proc_task, world.public_for_proc);
    let limit = 64 << 20;
    let reply = proc.create(&task.make_send().unwrap(), None, &[], 1 << 20, limit, u64::MAX).unwrap();
    assert_eq!((reply.stack_top, reply.break_start), (USER_TOP, 0x1000));
    let calls = world.vm.take();
    let pages = memory_core::kernel_page_limit(limit);
    assert_eq!(calls, vec![VmCall::Limit(pages), VmCall::Allocate(USER_TOP - (1 << 20), 1 << 20)]);
    assert_eq!(world.server.borrow().space_count(), 1);
    // Segments without a file are refused.
    let segment =
        Segment { address: 0x40_0000, memory_size: 0x1000, file_offset: 0, file_size: 0x1000, protection: RX };
    let error = proc.create(&task_port(&world).make_send().unwrap(), None, &[segment], 0, u64::MAX, u64::MAX);
    assert!(matches!(error, Err(CallError::Interface(Error::Einval))), "{error:?}");
}

#[test]
fn create_maps_an_image_from_its_file_private_with_the_bss_tail_zeroed() {
    let world = world();
    let task = task_port(&world);
    let file = ReceiveRight::allocate(&world.proc_task).unwrap();
    let mut proc = client(&world.proc_task, world.public_for_proc);
    let segments = [
        Segment { address: 0x40_1000, memory_size: 0x1234, file_offset: 0x1000, file_size: 0x1234, protection: RX },
        Segment { address: 0x40_3000, memory_size: 0x3000, file_offset: 0x3000, file_size: 0x10, protection: RW },
    ];
    let reply = proc
        .create(&task.make_send().unwrap(), Some(&file.make_send().unwrap()), &segments, 8 << 20, u64::MAX, u64::MAX)
        .unwrap();
    assert_eq!(reply.break_start, 0x40_6000);
    let calls = world.vm.take();
    assert_eq!(
        calls[..6],
        [
            VmCall::Limit(None),
            VmCall::Map { address: 0x40_1000, size: 0x2000, offset: 0x1000, private: true, protection: RX },
            VmCall::Map { address: 0x40_3000, size: 0x1000, offset: 0x3000, private: true, protection: RW },
            VmCall::Write(0x40_3010, 0xff0),
            VmCall::Allocate(0x40_4000, 0x2000),
            VmCall::Allocate(USER_TOP - (8 << 20), 8 << 20),
        ]
    );
    assert_eq!(*world.files.maps.borrow(), vec![false], "an image's object is asked for read-only");
    // The process server's executable is read for the image and never
    // written through: no request asks how it was opened.
    assert_eq!(world.files.accesses.get(), 0);
}

#[test]
fn only_the_process_server_makes_spaces_and_only_a_space_port_takes_mmap() {
    let world = world();
    let mut process = client(&world.process_task, world.public_for_process);
    let task = ReceiveRight::allocate(&world.process_task).unwrap();
    let refused = process.create(&task.make_send().unwrap(), None, &[], 0, u64::MAX, u64::MAX);
    assert!(matches!(refused, Err(CallError::Interface(Error::Eperm))), "{refused:?}");
    let refused = process.allocate(0, 4096, RW, map_flags::PRIVATE | map_flags::ANONYMOUS);
    assert!(matches!(refused, Err(CallError::Interface(Error::Eperm))), "{refused:?}");
    assert_eq!(world.server.borrow().space_count(), 0);
    world.system.check_invariants().unwrap();
}

#[test]
fn mmap_munmap_mprotect_and_brk_reach_the_task() {
    let world = world();
    let (mut space, _task, _, _) = space(&world);
    world.vm.take();
    let address = space.allocate(0, 3 * 4096, RW, map_flags::SHARED | map_flags::ANONYMOUS).unwrap();
    assert_eq!(address, MAPPING_BASE);
    assert_eq!(
        world.vm.take(),
        vec![VmCall::Allocate(MAPPING_BASE, 3 * 4096), VmCall::Inherit(MAPPING_BASE, 3 * 4096, true)]
    );
    space.protect(address + 4096, 4096, protection::READ).unwrap();
    assert_eq!(world.vm.take(), vec![VmCall::Protect(address + 4096, 4096, protection::READ)]);
    let refused = space.protect(address, 4096, 7);
    assert!(matches!(refused, Err(CallError::Interface(Error::Eacces))), "W^X: {refused:?}");
    space.deallocate(address, 3 * 4096).unwrap();
    assert_eq!(world.vm.take(), vec![VmCall::Deallocate(address, 3 * 4096)]);
    assert_eq!(space.set_break(0).unwrap(), 0x1000);
    assert_eq!(space.set_break(0x5000).unwrap(), 0x5000);
    assert_eq!(world.vm.take(), vec![VmCall::Allocate(0x1000, 0x4000)]);
    // A kernel refusal: the break stays where it was, and nothing is left half made.
    *world.vm.fail.borrow_mut() = Some(KernReturn::ResourceShortage);
    assert_eq!(space.set_break(0x9000).unwrap(), 0x5000);
    assert_eq!(space.set_break(0).unwrap(), 0x5000);
    let refused = space.allocate(0, 4096, RW, map_flags::PRIVATE);
    assert!(matches!(refused, Err(CallError::Interface(Error::Einval))), "no MAP_ANONYMOUS: {refused:?}");
}

#[test]
fn a_kernel_failure_leaves_the_layout_and_the_task_in_agreement() {
    let world = world();
    let (mut space, _task, _, in_server) = space(&world);
    world.vm.take();
    *world.vm.fail.borrow_mut() = Some(KernReturn::ResourceShortage);
    let refused = space.allocate(0, 4096, RW, map_flags::PRIVATE | map_flags::ANONYMOUS);
    assert!(matches!(refused, Err(CallError::Interface(Error::Enomem))), "{refused:?}");
    let server = world.server.borrow();
    let layout = server.layout(in_server).unwrap();
    assert!(layout.region_at(MAPPING_BASE).is_none(), "the failed mapping is not in the layout");
    assert_eq!(world.vm.take(), vec![VmCall::Deallocate(MAPPING_BASE, 4096)], "and not in the task");
}

#[test]
fn file_mappings_keep_the_file_open_until_their_last_region_goes() {
    let world = world();
    let (mut space, _task, _, _) = space(&world);
    let file = ReceiveRight::allocate(&world.process_task).unwrap();
    let file_send = file.make_send().unwrap();
    let first = space.map(&file_send, 0, 0, 2 * 4096, RW, map_flags::SHARED).unwrap();
    let second = space.map(&file_send, 4096, 0, 4096, protection::READ, map_flags::PRIVATE).unwrap();
    assert_eq!(
        *world.files.maps.borrow(),
        vec![true],
        "one object per open file; shared and writable asks for a writable one"
    );
    space.sync(first, 2 * 4096, 4).unwrap();
    assert_eq!(*world.files.syncs.borrow(), vec![(0, 2 * 4096, false)]);
    space.sync(second, 4096, 4).unwrap();
    assert_eq!(world.files.syncs.borrow().len(), 1, "a private mapping is never written back");
    // The server holds the file while a region maps it.
    let references = |world: &World| world.system.name_count(&world.server_task);
    space.deallocate(first, 2 * 4096).unwrap();
    let before = references(&world);
    space.deallocate(second, 4096).unwrap();
    assert!(references(&world) < before, "the file's right (and its object's) went with the last region");
    world.system.check_invariants().unwrap();
}

#[test]
fn a_shared_writable_mapping_of_a_read_only_file_is_refused() {
    let world = world();
    let (mut space, _task, _, _) = space(&world);
    let file = ReceiveRight::allocate(&world.process_task).unwrap();
    let send = file.make_send().unwrap();
    // The file server's name for it is what the server received: mark that read-only.
    world.files.read_only.set(true);
    let refused = space.map(&send, 0, 0, 4096, RW, map_flags::SHARED);
    assert!(matches!(refused, Err(CallError::Interface(Error::Eacces))), "{refused:?}");
    assert_eq!(world.files.accesses.get(), 1, "a process's own file is asked how it was opened");
    let private = space.map(&send, 0, 0, 4096, RW, map_flags::PRIVATE);
    assert!(private.is_ok(), "a private copy may be written: {private:?}");
}

#[test]
fn mremap_moves_the_pages_contents_through_the_server() {
    let world = world();
    let (mut space, _task, _, _) = space(&world);
    let address = space.allocate(0, 4096, RW, map_flags::PRIVATE | map_flags::ANONYMOUS).unwrap();
    space.allocate(address + 4096, 4096, RW, map_flags::PRIVATE | map_flags::ANONYMOUS | map_flags::FIXED).unwrap();
    // The process wrote a byte (the recording VM keeps it per task).
    let task_name = world.vm.calls.borrow().last().unwrap().0;
    world.vm.pages.borrow_mut().insert((task_name, address + 5), 42);
    let moved = space.remap(address, 4096, 3 * 4096, memory_core::remap_flags::MAYMOVE, 0).unwrap();
    assert_ne!(moved, address);
    assert_eq!(world.vm.pages.borrow().get(&(task_name, moved + 5)), Some(&42));
}

#[test]
fn fork_copies_the_layout_and_files_and_spaces_go_with_their_task_or_port() {
    let world = world();
    let (mut space, task, parent_space, _) = space(&world);
    let file = ReceiveRight::allocate(&world.process_task).unwrap();
    space.map(&file.make_send().unwrap(), 0, 0, 4096, protection::READ, map_flags::PRIVATE).unwrap();
    let mut proc = client(&world.proc_task, world.public_for_proc);
    let parent = SendRight::from_name(&world.proc_task, parent_space);
    let forked = proc.fork(&parent).unwrap();
    let (child_task, child_space) = (forked.child, forked.space);
    assert_eq!(world.server.borrow().space_count(), 2);
    let sizes = proc.sizes(&child_space).unwrap();
    assert_eq!(sizes.mapped, (8 << 20) + 4096, "the stack and the file page");
    // Limits reach the kernel's page limit.
    world.vm.take();
    proc.set_limits(&child_space, 1 << 30, u64::MAX).unwrap();
    assert_eq!(world.vm.take(), vec![VmCall::Limit(memory_core::kernel_page_limit(1 << 30))]);
    // The child's task ends: its space goes (dead-name notification).
    drop(child_task);
    world.vm.child_ports.borrow_mut().clear();
    world.system.run_servers();
    assert_eq!(world.server.borrow().space_count(), 1);
    // Nobody holds the parent's space port any more: it goes (no-senders).
    drop(space);
    drop(parent);
    world.system.run_servers();
    assert_eq!(world.server.borrow().space_count(), 0);
    drop(task);
    world.system.check_invariants().unwrap();
}

// ----- random requests -----------------------------------------------------------------------

/// A page-level model of the tasks' maps, fed with the recorded VM calls:
/// every call must make sense where it lands (regions made over free
/// space, protected and written where mapped).
#[derive(Default)]
struct PageModel {
    /// (task, page) -> protection.
    pages: BTreeMap<(PortName, u64), u32>,
}

impl PageModel {
    fn apply(&mut self, task: PortName, call: &VmCall) -> Result<(), String> {
        let pages = |address: u64, size: u64| (address / 4096..(address + size).div_ceil(4096)).map(|page| page * 4096);
        match *call {
            VmCall::Allocate(address, size) | VmCall::Map { address, size, .. } => {
                let protection = match *call {
                    VmCall::Map { protection, .. } => protection,
                    _ => RW,
                };
                for page in pages(address, size) {
                    if self.pages.insert((task, page), protection).is_some() {
                        return Err(format!("{call:x?} over a mapped page {page:#x}"));
                    }
                }
            }
            VmCall::Protect(address, size, protection) => {
                for page in pages(address, size) {
                    *self.pages.get_mut(&(task, page)).ok_or(format!("{call:x?}: page {page:#x} unmapped"))? =
                        protection;
                }
            }
            VmCall::Inherit(address, size, _) => {
                for page in pages(address, size) {
                    self.pages.get(&(task, page)).ok_or(format!("{call:x?}: page {page:#x} unmapped"))?;
                }
            }
            VmCall::Deallocate(address, size) => {
                for page in pages(address, size) {
                    self.pages.remove(&(task, page));
                }
            }
            VmCall::Write(address, length) => {
                for page in pages(address, length as u64) {
                    let protection =
                        self.pages.get(&(task, page)).ok_or(format!("{call:x?}: page {page:#x} unmapped"))?;
                    if protection & protection::WRITE == 0 {
                        return Err(format!("{call:x?}: page {page:#x} not writable"));
                    }
                }
            }
            VmCall::Read(address, length) => {
                for page in pages(address, length as u64) {
                    let protection =
                        self.pages.get(&(task, page)).ok_or(format!("{call:x?}: page {page:#x} unmapped"))?;
                    if protection & protection::READ == 0 {
                        return Err(format!("{call:x?}: page {page:#x} not readable"));
                    }
                }
            }
            VmCall::Limit(_) | VmCall::Fork | VmCall::Terminate => {}
        }
        Ok(())
    }

    /// The pages of `task` must be exactly the layout's.
    fn agrees(&self, task: PortName, layout: &memory_core::Layout) -> Result<(), String> {
        let mut expected = BTreeMap::new();
        for region in layout.regions() {
            for page in (region.start..region.end).step_by(4096) {
                expected.insert(page, region.protection);
            }
        }
        let actual: BTreeMap<u64, u32> = self
            .pages
            .iter()
            .filter(|((owner, _), _)| *owner == task)
            .map(|(&(_, page), &protection)| (page, protection))
            .collect();
        if actual == expected {
            Ok(())
        } else {
            Err(format!("{} pages in the task, {} in the layout", actual.len(), expected.len()))
        }
    }
}

#[derive(Clone, Debug)]
enum Request {
    Allocate { hint: u64, pages: u64, protection: u32, flags: u32 },
    Map { offset: u64, hint: u64, pages: u64, protection: u32, shared: bool, fixed: bool },
    Deallocate { at: u64, pages: u64 },
    Protect { at: u64, pages: u64, protection: u32 },
    Remap { at: u64, old_pages: u64, new_pages: u64, flags: u32 },
    Break { pages: u64 },
    Sync { at: u64, pages: u64, flags: u32 },
    Garbage { id: i32, words: Vec<u32> },
}

fn request() -> impl proptest::strategy::Strategy<Value = Request> {
    use proptest::prelude::*;
    let at = (0u64..32).prop_map(|page| MAPPING_BASE + page * 4096);
    prop_oneof![
        4 => (prop_oneof![Just(0u64), at.clone()], 1u64..8, 0u32..8, prop_oneof![Just(0x22u32), Just(0x21), Just(0x32), Just(0x20022), Just(0x100022), Just(0x2), Just(0x40022)])
            .prop_map(|(hint, pages, protection, flags)| Request::Allocate { hint, pages, protection, flags }),
        2 => (0u64..4, prop_oneof![Just(0u64), at.clone()], 1u64..6, 0u32..8, any::<bool>(), any::<bool>())
            .prop_map(|(offset, hint, pages, protection, shared, fixed)| Request::Map { offset, hint, pages, protection, shared, fixed }),
        2 => (at.clone(), 1u64..10).prop_map(|(at, pages)| Request::Deallocate { at, pages }),
        2 => (at.clone(), 1u64..6, 0u32..8).prop_map(|(at, pages, protection)| Request::Protect { at, pages, protection }),
        2 => (at.clone(), 1u64..4, 1u64..8, 0u32..4).prop_map(|(at, old_pages, new_pages, flags)| Request::Remap { at, old_pages, new_pages, flags }),
        1 => (0u64..12).prop_map(|pages| Request::Break { pages }),
        1 => (at, 1u64..4, 0u32..8).prop_map(|(at, pages, flags)| Request::Sync { at, pages, flags }),
        1 => (8200i32..8220, proptest::collection::vec(any::<u32>(), 0..24)).prop_map(|(id, words)| Request::Garbage { id, words }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 64, ..Default::default() })]

    /// Random requests on one space: never a crash, every VM call makes
    /// sense where it lands, and the task's pages are the layout's.
    #[test]
    fn random_requests_keep_the_task_and_the_layout_in_agreement(requests in proptest::collection::vec(request(), 1..40)) {
        let world = world();
        let (mut space, _task, _, in_server) = space(&world);
        let file = ReceiveRight::allocate(&world.process_task).unwrap();
        let file = file.make_send().unwrap();
        let mut model = PageModel::default();
        // The space's task, as the server names it: the one its stack was made in.
        let task = world.vm.calls.borrow().iter().find(|(_, call)| matches!(call, VmCall::Allocate(..))).map(|(task, _)| *task).unwrap();
        let flush = |model: &mut PageModel| -> Result<(), String> {
            for (task, call) in world.vm.calls.borrow_mut().drain(..) {
                model.apply(task, &call)?;
            }
            Ok(())
        };
        flush(&mut model).map_err(proptest::test_runner::TestCaseError::fail)?;
        for request in &requests {
            match request {
                Request::Allocate { hint, pages, protection, flags } => {
                    let _ = space.allocate(*hint, pages * 4096, *protection, *flags);
                }
                Request::Map { offset, hint, pages, protection, shared, fixed } => {
                    let flags = if *shared { map_flags::SHARED } else { map_flags::PRIVATE } | if *fixed { map_flags::FIXED } else { 0 };
                    let _ = space.map(&file, offset * 4096, *hint, pages * 4096, *protection, flags);
                }
                Request::Deallocate { at, pages } => {
                    let _ = space.deallocate(*at, pages * 4096);
                }
                Request::Protect { at, pages, protection } => {
                    let _ = space.protect(*at, pages * 4096, *protection);
                }
                Request::Remap { at, old_pages, new_pages, flags } => {
                    let _ = space.remap(*at, old_pages * 4096, new_pages * 4096, *flags, 0);
                }
                Request::Break { pages } => {
                    let _ = space.set_break(0x1000 + pages * 4096);
                }
                Request::Sync { at, pages, flags } => {
                    let _ = space.sync(*at, pages * 4096, *flags);
                }
                Request::Garbage { id, words } => {
                    let mut reply = ReceiveRight::allocate(&world.process_task).unwrap();
                    let mut buffer = vec![0u8; 512];
                    let header = libmach::rpc::request_header(space.server().name(), reply.name(), *id);
                    let mut writer = libmach::message::MessageWriter::new(&mut buffer, header);
                    for word in words {
                        writer.u32(*word).unwrap();
                    }
                    let length = writer.finish().unwrap();
                    let _ = libmach::rpc::call(&world.process_task, &mut reply, &mut buffer, length, None);
                }
            }
            flush(&mut model).map_err(|why| proptest::test_runner::TestCaseError::fail(format!("{why} after {request:?}")))?;
            let server = world.server.borrow();
            let layout = server.layout(in_server).expect("the space lives");
            layout.check().map_err(proptest::test_runner::TestCaseError::fail)?;
            model.agrees(task, layout).map_err(|why| proptest::test_runner::TestCaseError::fail(format!("{why} after {request:?}")))?;
        }
        world.system.check_invariants().map_err(proptest::test_runner::TestCaseError::fail)?;
    }
}
