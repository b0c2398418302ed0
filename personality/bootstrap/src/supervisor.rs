//! Starting the manifest's programs and watching them.
//!
//! Each program of the manifest is a child: it is started once the names
//! it needs are registered, with the rights its manifest line lists and
//! nothing more. Each child gets a bootstrap port of its own (a receive
//! right here, in the port set; the child holds a send right), so a request
//! tells which child sent it, and so which names it may register. The
//! supervisor port (also in the set) is the children's exception port and
//! receives the dead-name notifications of their task ports and of
//! registered rights:
//!
//! - an exception: the supervisor records it as the reason and refuses it
//!   (`KERN_FAILURE`), so the kernel terminates the child;
//! - the dead task port: the child ended. If its manifest line says
//!   `restart` (the default for a program that registers names), it is
//!   started again, within its [`RestartBudget`];
//! - a dead registered right: its names are removed.
//!
//! The loop wakes at the next waiting lookup's deadline to answer it.

use crate::{report, spawn};
use alloc::vec::Vec;
use libmach::abi::{
    device_entry, io_port_range, parse_received, BootDevice, BootModule, Descriptor, Disposition, KernReturn,
    MachMsgReturn, MessageView, NotifyId, PortName, PortRight, AT_MACH_BOOTSTRAP, AT_MACH_BOOT_TIME, AT_MACH_DEVICE,
    AT_MACH_HOST, AT_MACH_IO_PORTS, AT_MACH_POWER_OFF, AT_PAGESZ, BOOTSTRAP_DEVICES_MAX, EXCEPTION_RAISE_ID,
    EXC_MASK_ALL, MACH_PORT_NULL,
};
use libmach::trap::{
    clock_get_time, io_port_access, port_allocate, port_destroy, port_insert_right, port_move_member,
    port_request_notification, task_self, task_set_exception_port, task_set_name, vm_write, MessageBuffer,
};
use libmach::{Dispatch, SystemKernel};
use mach_bootstrap_core::manifest::{Manifest, Program, StartedSet, IO_RANGES_MAX};
use mach_bootstrap_core::restart::{Decision, RestartBudget};
use mach_bootstrap_core::server::{NameServer, Requester};
use mach_bootstrap_core::start_block;

/// Restarts allowed per program within [`RESTART_WINDOW_MILLISECONDS`].
pub const RESTART_LIMIT: usize = 3;
pub const RESTART_WINDOW_MILLISECONDS: u64 = 10_000;
/// The names tried, in order, for the rights put in a child's space: the
/// first free index of a fresh space, generation 0, then the next ones.
const FIRST_CHILD_NAME: u32 = 1 << 8;
/// Room for a start block (the manifest bounds the arguments to 1 KiB).
const START_BLOCK_MAX: usize = 4096;

struct Exception {
    kind: u32,
    code: [i64; 2],
}

struct Child {
    program: Program<'static>,
    /// What the logs call it: the module, and its line when the module is
    /// listed more than once.
    label: Label,
    image: &'static [u8],
    task: PortName,
    bootstrap_port: PortName,
    budget: RestartBudget,
    exception: Option<Exception>,
}

/// A child's name in the logs.
struct Label {
    module: &'static str,
    line: Option<usize>,
}

impl core::fmt::Display for Label {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.line {
            Some(line) => write!(formatter, "{} (manifest line {line})", self.module),
            None => formatter.write_str(self.module),
        }
    }
}

pub struct Supervisor {
    port_set: PortName,
    supervisor_port: PortName,
    host_port: PortName,
    /// The wall time at the kernel clock's zero (`AT_MACH_BOOT_TIME`),
    /// read once for every program ([`crate::clock`]).
    boot_time: u64,
    /// The devices the kernel listed (docs/bootstrap.md, "Devices").
    devices: &'static [BootDevice],
    manifest: Manifest<'static>,
    children: Vec<Child>,
    started: StartedSet,
    names: NameServer<SystemKernel>,
}

/// Milliseconds since boot.
fn now() -> u64 {
    clock_get_time().map_or(0, |nanoseconds| nanoseconds / 1_000_000)
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a
/// character boundary.
fn truncated(text: &str, limit: usize) -> &str {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn exception_name(kind: u32) -> &'static str {
    match kind {
        1 => "bad access",
        2 => "bad instruction",
        3 => "arithmetic",
        6 => "breakpoint",
        _ => "unknown",
    }
}

/// Puts a right made from our `port` with `disposition` into `task`'s
/// space under the first free name from [`FIRST_CHILD_NAME`]; returns it.
fn give_right(task: PortName, port: PortName, disposition: Disposition) -> Result<PortName, KernReturn> {
    let mut last = KernReturn::NoSpace;
    for index in 0..16 {
        let name = FIRST_CHILD_NAME + (index << 8);
        match port_insert_right(task, name, port, disposition as u32) {
            Ok(()) => return Ok(name),
            Err(KernReturn::NameExists) => last = KernReturn::NameExists,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}

/// The boot module called `name`.
fn module_named<'a>(modules: &'a [BootModule], name: &str) -> Option<&'a BootModule> {
    modules.iter().find(|module| module.name() == name.as_bytes())
}

/// Why the programs of a manifest cannot be started.
pub enum SetupError {
    /// The line's module is not among the boot modules.
    MissingModule { line: usize, module: &'static str },
    /// The supervisor's own ports could not be made.
    Ports(KernReturn),
}

impl Supervisor {
    /// A supervisor for the programs of `manifest`, whose modules must all
    /// be among `modules`; `host_port` names our send right to the
    /// privileged host port.
    pub fn new(
        manifest: Manifest<'static>,
        modules: &'static [BootModule],
        devices: &'static [BootDevice],
        host_port: PortName,
    ) -> Result<Self, SetupError> {
        let mut children = Vec::with_capacity(manifest.len());
        for program in manifest.programs() {
            let module = module_named(modules, program.module())
                .ok_or(SetupError::MissingModule { line: program.line(), module: program.module() })?;
            // SAFETY: the kernel copied the module read-only to `address`,
            // `size` bytes long, for the life of this task.
            let image: &'static [u8] =
                unsafe { core::slice::from_raw_parts(module.address as *const u8, module.size as usize) };
            let listed_twice = manifest.programs().filter(|other| other.module() == program.module()).count() > 1;
            children.push(Child {
                program,
                label: Label { module: program.module(), line: listed_twice.then_some(program.line()) },
                image,
                task: MACH_PORT_NULL,
                bootstrap_port: MACH_PORT_NULL,
                budget: RestartBudget::new(RESTART_LIMIT, RESTART_WINDOW_MILLISECONDS),
                exception: None,
            });
        }
        let me = task_self();
        let port_set = port_allocate(me, PortRight::PortSet).map_err(SetupError::Ports)?;
        let supervisor_port = port_allocate(me, PortRight::Receive).map_err(SetupError::Ports)?;
        // A send right too: the exception port is set by copying it.
        port_insert_right(me, supervisor_port, supervisor_port, Disposition::MakeSend as u32)
            .map_err(SetupError::Ports)?;
        port_move_member(me, supervisor_port, port_set).map_err(SetupError::Ports)?;
        Ok(Self {
            port_set,
            supervisor_port,
            host_port,
            boot_time: crate::clock::boot_time(host_port, devices),
            devices,
            manifest,
            children,
            started: StartedSet::default(),
            names: NameServer::new(SystemKernel),
        })
    }

    /// How many children are running.
    pub fn running(&self) -> usize {
        self.children.iter().filter(|child| child.task != MACH_PORT_NULL).count()
    }

    /// Starts, in manifest order, every program not started yet whose
    /// needed names are all registered.
    pub fn start_ready(&mut self) {
        loop {
            let registry = self.names.registry();
            let Some(index) =
                self.manifest.next_to_start(&self.started, |name| registry.lookup(name.as_bytes()).is_ok())
            else {
                return;
            };
            self.started.insert(index);
            self.start(index);
        }
    }

    fn start(&mut self, index: usize) {
        let me = task_self();
        let (set, supervisor_port, host_port, boot_time, devices) =
            (self.port_set, self.supervisor_port, self.host_port, self.boot_time, self.devices);
        let port = match port_allocate(me, PortRight::Receive) {
            Ok(port) => port,
            Err(error) => {
                report(format_args!("bootstrap: no port for {}: {error:?}", self.children[index].label));
                return;
            }
        };
        let _ = port_move_member(me, port, set);
        let child = &mut self.children[index];
        let program = child.program;
        let started = spawn::start(child.image, |task, stack_top| {
            // Kernel logs then call it by its module's name, not "bootstrap".
            let _ = task_set_name(task, truncated(program.module(), libmach::abi::TASK_NAME_MAX));
            let bootstrap_name = give_right(task, port, Disposition::MakeSend)?;
            let mut auxiliary = [(0, 0); 5 + IO_RANGES_MAX + BOOTSTRAP_DEVICES_MAX];
            auxiliary[0] = (AT_PAGESZ, 4096);
            auxiliary[1] = (AT_MACH_BOOTSTRAP, bootstrap_name as u64);
            auxiliary[2] = (AT_MACH_BOOT_TIME, boot_time);
            let mut auxiliary_count = 3;
            if program.host_port() {
                let host_name = give_right(task, host_port, Disposition::CopySend)?;
                auxiliary[auxiliary_count] = (AT_MACH_HOST, host_name as u64);
                auxiliary_count += 1;
                // Whether it may power the machine off (the manifest parser
                // allows `power-off` only with `host-port`): the host port
                // would let it, so the grant says what it is to do; a system
                // booted inside a test machine must not end the machine.
                if program.power_off() {
                    auxiliary[auxiliary_count] = (AT_MACH_POWER_OFF, 1);
                    auxiliary_count += 1;
                }
                // Where the devices are: only worth telling to whoever may
                // map them (the host port is that authority).
                for value in devices.iter().take(BOOTSTRAP_DEVICES_MAX).filter_map(device_entry) {
                    auxiliary[auxiliary_count] = (AT_MACH_DEVICE, value);
                    auxiliary_count += 1;
                }
            }
            // The grants are told too: a program checks them before using a
            // port it may lack (the manifest parser allows IO_RANGES_MAX).
            for range in program.io_ports().take(IO_RANGES_MAX) {
                io_port_access(host_port, range.first, range.count(), task)?;
                auxiliary[auxiliary_count] = (AT_MACH_IO_PORTS, io_port_range(range.first, range.count()));
                auxiliary_count += 1;
            }
            task_set_exception_port(task, EXC_MASK_ALL, supervisor_port)?;
            let dead_name = NotifyId::DeadName.as_u32();
            port_request_notification(me, task, dead_name, 0, supervisor_port, Disposition::MakeSendOnce as u32)?;
            // argv[0] is the module's name, then the manifest's arguments.
            let arguments: Vec<Vec<u8>> = core::iter::once(program.module().bytes().collect())
                .chain(program.arguments().map(|argument| argument.bytes().collect()))
                .collect();
            let argv = arguments.iter().map(|argument| argument.iter().copied());
            let mut buffer = [0u8; START_BLOCK_MAX];
            let block = start_block::write(&mut buffer, stack_top, argv, &auxiliary[..auxiliary_count])
                .map_err(|_| KernReturn::NoSpace)?;
            vm_write(task, block.address, &buffer[..block.length])?;
            Ok(spawn::Entry {
                first_argument: bootstrap_name as u64,
                second_argument: block.address,
                stack_pointer: block.address,
            })
        });
        match started {
            Ok(task) => {
                child.task = task;
                child.bootstrap_port = port;
                report(format_args!("bootstrap: started {} as task port {task:#x}", child.label));
            }
            Err(error) => {
                let _ = port_destroy(me, port);
                report(format_args!("bootstrap: cannot start {}: {error:?}", child.label));
            }
        }
    }

    /// Serves the name service and watches the children, forever.
    pub fn serve(&mut self) -> ! {
        let mut request = MessageBuffer::<4096>::new();
        let mut reply = MessageBuffer::<4096>::new();
        let port_set = self.port_set;
        loop {
            let timeout =
                self.names.next_deadline().map(|deadline| deadline.saturating_sub(now()).min(u32::MAX as u64));
            let handled = libmach::server::handle_one(
                &SystemKernel,
                port_set,
                &mut request.0,
                &mut reply.0,
                timeout.map(|milliseconds| milliseconds as u32),
                &mut |request, reply| self.on_message(request, reply),
            );
            match handled {
                Ok(_) | Err(MachMsgReturn::ReceiveTimedOut) | Err(MachMsgReturn::ReceiveInterrupted) => {}
                Err(error) => {
                    report(format_args!("bootstrap: its port set is unusable ({error:?}); stopping"));
                    libmach::runtime::park()
                }
            }
            // A registration may let waiting lookups and programs go on.
            self.names.answer_waiting(now());
            self.start_ready();
        }
    }

    /// One message from the port set; requests with ids outside the name
    /// service are answered `MIG_BAD_ID` by the loop.
    fn on_message(&mut self, request: &[u8], reply: &mut [u8]) -> Dispatch {
        let Ok((view, _)) = parse_received(request) else {
            return libmach::server::reject_unparsable(&SystemKernel, request, reply);
        };
        let port = view.header.local_port;
        if port == self.supervisor_port {
            return self.on_supervisor_message(&view, reply);
        }
        let Some(index) = self.children.iter().position(|child| child.bootstrap_port == port) else {
            // A port of a child that died since: nobody to serve.
            libmach::message::release_received(&SystemKernel, &view);
            return Dispatch::NoReply;
        };
        let supervisor_port = self.supervisor_port;
        let program = self.children[index].program;
        let may_register = |name: &str| program.may_register(name);
        let requester = Requester { client: index, may_register: &may_register };
        let (dispatched, registered) =
            self.names.handle(&requester, request, reply, now(), |right| crate::names::watch(right, supervisor_port));
        if registered {
            report(format_args!("bootstrap: {} registered a name", self.children[index].label));
        }
        dispatched
    }

    fn on_supervisor_message(&mut self, view: &MessageView, reply: &mut [u8]) -> Dispatch {
        let id = view.header.id;
        if id == EXCEPTION_RAISE_ID {
            return self.on_exception(view, reply);
        }
        if id == NotifyId::DeadName.as_u32() as i32 {
            if let Some(bytes) = view.inline_data.get(..4) {
                self.on_dead_name(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
            }
            return Dispatch::NoReply;
        }
        // Port-deleted and send-once notices need nothing; anything else
        // cannot come from the kernel, the only sender here.
        libmach::message::release_received(&SystemKernel, view);
        Dispatch::NoReply
    }

    fn on_exception(&mut self, view: &MessageView, reply: &mut [u8]) -> Dispatch {
        // exception_raise carries the thread, then the task.
        let task = view
            .descriptors()
            .filter_map(|descriptor| match descriptor {
                Descriptor::Port { name, .. } => Some(name),
                _ => None,
            })
            .nth(1)
            .unwrap_or(MACH_PORT_NULL);
        let data = view.inline_data;
        let word = |offset: usize| {
            data.get(offset..offset + 8).map_or(0, |bytes| i64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])))
        };
        let kind = data.get(..4).map_or(0, |bytes| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
        let exception = Exception { kind, code: [word(8), word(16)] };
        match self.children.iter_mut().find(|child| child.task == task && task != MACH_PORT_NULL) {
            Some(child) => {
                report(format_args!(
                    "bootstrap: {} raised exception {} ({}), code {:#x} {:#x}; terminating it",
                    child.label,
                    exception.kind,
                    exception_name(exception.kind),
                    exception.code[0],
                    exception.code[1]
                ));
                child.exception = Some(exception);
            }
            None => report(format_args!("bootstrap: exception {kind} from a task it did not start; refused")),
        }
        // The descriptors added a reference to names we hold (the task) or
        // made new ones (the thread).
        libmach::message::release_received(&SystemKernel, view);
        // KERN_FAILURE: the kernel terminates the task.
        libmach::server::reply_with_code(&SystemKernel, &view.header, KernReturn::Failure as i32, reply)
    }

    fn on_dead_name(&mut self, name: PortName) {
        let me = task_self();
        let removed = self.names.on_dead_name(name);
        if removed > 0 {
            report(format_args!("bootstrap: a registered port died; {removed} name(s) removed"));
        }
        let child = self.children.iter().position(|child| child.task == name);
        // The notification added a reference to the dead name: drop it all.
        let _ = port_destroy(me, name);
        if let Some(index) = child {
            self.on_child_death(index);
        }
    }

    fn on_child_death(&mut self, index: usize) {
        let now = now();
        self.names.forget_client(index);
        let child = &mut self.children[index];
        let _ = port_destroy(task_self(), child.bootstrap_port);
        child.task = MACH_PORT_NULL;
        child.bootstrap_port = MACH_PORT_NULL;
        let mut reason = crate::heapless_line::Line::default();
        let _ = match child.exception.take() {
            Some(exception) => core::fmt::write(
                &mut reason,
                format_args!("killed by exception {} ({})", exception.kind, exception_name(exception.kind)),
            ),
            None => {
                core::fmt::write(&mut reason, format_args!("its task ended (it terminated itself or was terminated)"))
            }
        };
        let label = &child.label;
        if child.program.critical() {
            report(format_args!(
                "bootstrap: {label} ended: {}; the system cannot go on without it: writing the disks back and powering off",
                reason.as_str()
            ));
            self.system_down();
            return;
        }
        if !child.program.restart() {
            report(format_args!("bootstrap: {label} ended: {}; not restarted (restart=no)", reason.as_str()));
            return;
        }
        match child.budget.on_death(now) {
            Decision::Restart { count } => {
                report(format_args!(
                    "bootstrap: {label} ended: {}; restarting it (restart {count} of {RESTART_LIMIT} within {RESTART_WINDOW_MILLISECONDS} ms)",
                    reason.as_str()
                ));
                self.start(index);
            }
            Decision::GiveUp { restarts } => {
                report(format_args!(
                    "bootstrap: {label} ended: {}; giving up after {restarts} restarts within {RESTART_WINDOW_MILLISECONDS} ms",
                    reason.as_str()
                ));
                self.report_stranded(index);
            }
        }
    }

    /// A critical program ended: the file server (if one is registered)
    /// writes everything back and unmounts, and the machine goes off.
    fn system_down(&mut self) {
        match self.names.registry().lookup(b"fs") {
            Ok(fs_port) => {
                let written = libmach::trap::port_mod_refs(task_self(), fs_port, PortRight::Send, 1)
                    .map_err(|_| None)
                    .and_then(|()| {
                        let right = libmach::SendRight::from_name(&SystemKernel, fs_port);
                        let mut client =
                            personality_interfaces::fs::Client::new(&SystemKernel, right).map_err(|_| None)?;
                        // A file server that does not answer must not keep the machine on.
                        client.set_timeout(Some(30_000));
                        client.shutdown().map_err(Some)
                    });
                match written {
                    Ok(()) => report(format_args!("bootstrap: the file server wrote everything back")),
                    Err(error) => {
                        report(format_args!("bootstrap: the file server could not write everything back: {error:?}"))
                    }
                }
            }
            Err(_) => report(format_args!("bootstrap: no file server: no disk to write back")),
        }
        report(format_args!("bootstrap: powering off (status 1)"));
        crate::power::off(self.host_port, 1);
        report(format_args!("bootstrap: the machine did not go off"));
    }

    /// Says which programs not started yet will not start now that the
    /// program `index` (which registers names they need) gave up.
    fn report_stranded(&self, index: usize) {
        let provider = self.children[index].program;
        for (other, child) in self.children.iter().enumerate() {
            if self.started.contains(other) {
                continue;
            }
            if let Some(name) = child.program.needs().find(|name| provider.may_register(name)) {
                report(format_args!(
                    "bootstrap: {} will not start: it needs `{name}`, whose program gave up",
                    child.label
                ));
            }
        }
    }
}
