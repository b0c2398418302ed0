//! Starting the children and watching them.
//!
//! Each child gets a bootstrap port of its own (a receive right here, in
//! the port set; the child holds a send right), so a request tells which
//! child sent it. The supervisor port (also in the set) is the children's
//! exception port and receives the dead-name notifications of their task
//! ports and of registered rights:
//!
//! - an exception: the supervisor records it as the reason and refuses it
//!   (`KERN_FAILURE`), so the kernel terminates the child;
//! - the dead task port: the child ended. A child that registered a name is
//!   a server and is restarted from its module, within its
//!   [`RestartBudget`]; a child that registered nothing just ended;
//! - a dead registered right: its names are removed.

use crate::{report, spawn};
use alloc::vec::Vec;
use libmach::abi::{
    parse_received, Descriptor, Disposition, KernReturn, MessageView, NotifyId, PortName, PortRight,
    EXCEPTION_RAISE_ID, EXC_MASK_ALL, MACH_PORT_NULL,
};
use libmach::trap::{
    clock_get_time, port_allocate, port_destroy, port_insert_right, port_move_member, port_request_notification,
    task_self, task_set_exception_port, task_set_name, MessageBuffer,
};
use libmach::{Dispatch, SystemKernel};
use mach_bootstrap_core::names;
use mach_bootstrap_core::registry::Registry;
use mach_bootstrap_core::restart::{Decision, RestartBudget};
use mach_bootstrap_core::service::NameService;

/// Restarts allowed per server within [`RESTART_WINDOW_MILLISECONDS`].
pub const RESTART_LIMIT: usize = 3;
pub const RESTART_WINDOW_MILLISECONDS: u64 = 10_000;
/// The names tried, in order, for the child's send right to its bootstrap
/// port: the first free index of a fresh space, generation 0.
const FIRST_CHILD_NAME: u32 = 1 << 8;

struct Exception {
    kind: u32,
    code: [i64; 2],
}

struct Child {
    module: &'static str,
    image: &'static [u8],
    task: PortName,
    bootstrap_port: PortName,
    registered: bool,
    budget: RestartBudget,
    exception: Option<Exception>,
}

pub struct Supervisor {
    port_set: PortName,
    supervisor_port: PortName,
    children: Vec<Child>,
    registry: Registry<PortName>,
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

/// Gives `task` a send right made from our receive right `port`, under the
/// first free name from [`FIRST_CHILD_NAME`]; returns that name.
fn give_bootstrap_port(task: PortName, port: PortName) -> Result<PortName, KernReturn> {
    let mut last = KernReturn::NoSpace;
    for index in 0..16 {
        let name = FIRST_CHILD_NAME + (index << 8);
        match port_insert_right(task, name, port, Disposition::MakeSend as u32) {
            Ok(()) => return Ok(name),
            Err(KernReturn::NameExists) => last = KernReturn::NameExists,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}

impl Supervisor {
    pub fn new() -> Result<Self, KernReturn> {
        let me = task_self();
        let port_set = port_allocate(me, PortRight::PortSet)?;
        let supervisor_port = port_allocate(me, PortRight::Receive)?;
        // A send right too: the exception port is set by copying it.
        port_insert_right(me, supervisor_port, supervisor_port, Disposition::MakeSend as u32)?;
        port_move_member(me, supervisor_port, port_set)?;
        Ok(Self { port_set, supervisor_port, children: Vec::new(), registry: Registry::default() })
    }

    /// How many children are running.
    pub fn running(&self) -> usize {
        self.children.iter().filter(|child| child.task != MACH_PORT_NULL).count()
    }

    pub fn add_child(&mut self, module: &'static str, image: &'static [u8]) {
        self.children.push(Child {
            module,
            image,
            task: MACH_PORT_NULL,
            bootstrap_port: MACH_PORT_NULL,
            registered: false,
            budget: RestartBudget::new(RESTART_LIMIT, RESTART_WINDOW_MILLISECONDS),
            exception: None,
        });
        let index = self.children.len() - 1;
        self.start(index);
    }

    fn start(&mut self, index: usize) {
        let me = task_self();
        let (set, supervisor_port) = (self.port_set, self.supervisor_port);
        let port = match port_allocate(me, PortRight::Receive) {
            Ok(port) => port,
            Err(error) => {
                report(format_args!("bootstrap: no port for {}: {error:?}", self.children[index].module));
                return;
            }
        };
        let _ = port_move_member(me, port, set);
        let child = &mut self.children[index];
        let module = child.module;
        let started = spawn::start(child.image, |task| {
            // Kernel logs then call it by its module's name, not "bootstrap".
            let _ = task_set_name(task, truncated(module, libmach::abi::TASK_NAME_MAX));
            let name = give_bootstrap_port(task, port)?;
            task_set_exception_port(task, EXC_MASK_ALL, supervisor_port)?;
            let dead_name = NotifyId::DeadName.as_u32();
            port_request_notification(me, task, dead_name, 0, supervisor_port, Disposition::MakeSendOnce as u32)?;
            Ok(name as u64)
        });
        match started {
            Ok(task) => {
                child.task = task;
                child.bootstrap_port = port;
                child.registered = false;
                report(format_args!("bootstrap: started {} as task port {task}", child.module));
            }
            Err(error) => {
                let _ = port_destroy(me, port);
                report(format_args!("bootstrap: cannot start {}: {error:?}", child.module));
            }
        }
    }

    /// Serves the name service and watches the children, forever.
    pub fn serve(&mut self) -> ! {
        let mut request = MessageBuffer::<4096>::new();
        let mut reply = MessageBuffer::<4096>::new();
        let port_set = self.port_set;
        let error =
            libmach::server::run(&SystemKernel, port_set, &mut request.0, &mut reply.0, &mut |request, reply| {
                self.on_message(request, reply)
            });
        report(format_args!("bootstrap: its port set is unusable ({error:?}); stopping"));
        libmach::runtime::park()
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
        let mut registered = false;
        let supervisor_port = self.supervisor_port;
        let mut service = NameService {
            kernel: &SystemKernel,
            registry: &mut self.registry,
            registered: &mut registered,
            watch: |right| crate::names::watch(right, supervisor_port),
        };
        let dispatched = names::dispatch(&mut service, &SystemKernel, request, reply);
        if registered {
            self.children[index].registered = true;
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
                    child.module,
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
        let removed = self.registry.remove_right(name);
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
        let now = clock_get_time().map_or(0, |nanoseconds| nanoseconds / 1_000_000);
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
        let module = child.module;
        if !child.registered {
            report(format_args!(
                "bootstrap: {module} ended: {}; it registered no name, so it is not a server: not restarted",
                reason.as_str()
            ));
            return;
        }
        match child.budget.on_death(now) {
            Decision::Restart { count } => {
                report(format_args!(
                    "bootstrap: server {module} died: {}; restarting it (restart {count} of {RESTART_LIMIT} within {RESTART_WINDOW_MILLISECONDS} ms)",
                    reason.as_str()
                ));
                self.start(index);
            }
            Decision::GiveUp { restarts } => report(format_args!(
                "bootstrap: server {module} died: {}; giving up after {restarts} restarts within {RESTART_WINDOW_MILLISECONDS} ms",
                reason.as_str()
            )),
        }
    }
}
