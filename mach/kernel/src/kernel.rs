//! The kernel's objects in one place: [`Kernel`] (tasks, threads, the IPC
//! state, the scheduler's queues, devices, memory objects) behind one lock
//! ([`with_kernel`], taken with interrupts off: there is one CPU and kernel
//! code runs with interrupts off, so the lock is never contended; it makes
//! the rule explicit and keeps interrupt handlers from re-entering), the
//! limits on what the objects may number, and the life of tasks and
//! threads: made, given threads, terminated and freed. Who runs, and when,
//! is `scheduler`'s.
#![forbid(unsafe_code)]

use crate::account::Account;
use crate::arena::Arena;
use crate::scheduler::Scheduler;
use crate::task::{Task, TaskId};
use crate::thread::{Thread, ThreadId, ThreadState};
#[cfg(feature = "ktest")]
use alloc::collections::VecDeque;

pub struct Kernel {
    pub tasks: Arena<Task>,
    pub threads: Arena<Thread>,
    pub scheduler: Scheduler,
    /// Every port, port set and IPC space.
    pub ipc: mach_ipc::Ipc,
    /// Threads blocked in `mach_msg`, by what they wait for.
    pub wait_queues: crate::ipc::wait::WaitQueues,
    /// What small messages are copied through.
    pub message_buffers: crate::ipc::mach_msg::MessageBuffers,
    /// The ports interrupt lines and message-signalled vectors are bound
    /// to, and the DMA memory handed out.
    pub devices: crate::device::Devices,
    /// Out-of-line memory of messages in flight.
    pub captured: crate::ipc::ool::CapturedRegions,
    pub objects: crate::memory_object::Objects,
    /// Threads waiting for an exception reply, by the kernel reply port.
    pub exception_waits: alloc::collections::BTreeMap<mach_ipc::PortId, crate::exception::Wait>,
    /// The host's name port (`host_self`) and privileged port (bootstrap's).
    pub host_name_port: Option<mach_ipc::PortId>,
    pub host_privileged_port: Option<mach_ipc::PortId>,
    /// Numbers the spaces (the sender id in message trailers).
    pub(crate) next_space_number: u32,
    /// The task whose IPC space each live space is.
    pub space_owners: alloc::collections::BTreeMap<mach_ipc::SpaceId, TaskId>,
    /// The last few freed tasks and what they printed, for the kernel tests.
    #[cfg(feature = "ktest")]
    pub freed_tasks: VecDeque<(TaskId, alloc::string::String)>,
}

/// Most tasks at once: each costs kernel memory (page tables, a space, a
/// port), so the count is bounded.
pub const MAX_TASKS: usize = 1024;

/// Most tasks in one account (`crate::account`) but the bootstrap task's:
/// one task and its descendants cannot take every task slot.
pub const MAX_TASKS_PER_ACCOUNT: usize = MAX_TASKS / 2;

/// What one task may hold in the kernel's IPC state: names, and messages
/// it has sent that still sit in queues. 65,536 + 4,096 names: the file
/// server serves 65,536 open files at once, each a port, and needs names
/// of its own beside them; the memory behind names is charged to the task
/// as it names them (`ipc::names`). With 64 KiB at most per message, one
/// task's queued messages hold at most 4 MiB of kernel heap.
pub const TASK_IPC_LIMITS: mach_ipc::SpaceLimits =
    mach_ipc::SpaceLimits { max_entries: 65_536 + 4_096, max_queued_messages: 64 };

pub(crate) static KERNEL: spin::Mutex<Option<Kernel>> = spin::Mutex::new(None);

/// Runs `action` on the kernel's objects, interrupts off, under the lock.
pub fn with_kernel<R>(action: impl FnOnce(&mut Kernel) -> R) -> R {
    crate::arch::cpu::without_interrupts(|| {
        action(KERNEL.lock().as_mut().expect("kernel objects used before scheduler::start"))
    })
}

impl Kernel {
    /// Creates a task with an empty IPC space and a task port.
    pub fn create_task(
        &mut self,
        name: &str,
        tables: crate::arch::paging::PageTables,
    ) -> Result<TaskId, crate::task::SpawnError> {
        if self.tasks.len() >= MAX_TASKS {
            tables.destroy_user();
            return Err(crate::task::SpawnError::TooManyTasks);
        }
        self.next_space_number = self.next_space_number.wrapping_add(1);
        let space = self.ipc.create_space(self.next_space_number, TASK_IPC_LIMITS);
        // Names are bought as the task needs them (`ipc::names`), starting
        // with one step.
        let _ = self.ipc.set_name_allowance(space, 0);
        let task = self.tasks.insert(Task::new(name.into(), tables, space));
        self.space_owners.insert(space, task);
        // The first of an account of its own; `task_create` moves it into
        // its creator's.
        let object = self.tasks.get_mut(task).expect("task just made");
        if let Some(tables) = object.page_tables.as_ref() {
            let _ = object.vm.join_account(tables, Account::new(crate::vm::task_page_limit(), MAX_TASKS_PER_ACCOUNT));
        }
        let _ = crate::ipc::names::reserve(self, task, crate::ipc::names::NAMES_PER_STEP);
        let port = self.ipc.allocate_kernel_port(crate::ipc::object::KernelObjectRef::Task(task).tag());
        self.tasks.get_mut(task).expect("task just made").port = Some(port);
        Ok(task)
    }

    /// Adds a new thread to `task` (or a kernel thread) and makes it ready.
    pub fn add_thread(&mut self, thread: Thread) -> ThreadId {
        let task = thread.task;
        let id = self.threads.insert(thread);
        if task.is_some() {
            let port = self.ipc.allocate_kernel_port(crate::ipc::object::KernelObjectRef::Thread(id).tag());
            self.threads.get_mut(id).expect("thread just made").port = Some(port);
        }
        if let Some(task) = task.and_then(|task| self.tasks.get_mut(task)) {
            task.threads.push(id);
        }
        self.make_runnable(id);
        id
    }

    /// Marks a thread dead; it is freed once it is off the CPU.
    pub fn terminate_thread(&mut self, id: ThreadId) {
        let Some(thread) = self.threads.get_mut(id) else { return };
        if thread.state == ThreadState::Dead {
            return;
        }
        thread.state = ThreadState::Dead;
        let deadline = thread.deadline.take();
        let port = thread.port.take();
        let handler = thread.exception_handler.take();
        if let Some(handler) = handler {
            self.ipc.release(handler.right);
        }
        let thread = self.threads.get_mut(id).expect("thread exists");
        if let Some(key) = thread.waiting_on.take() {
            self.wait_queues.remove(key, id);
        }
        if let Some(port) = port {
            let _ = self.ipc.destroy_kernel_port(port);
            crate::ipc::settle(self);
        }
        self.end_loans_of(id);
        let thread = self.threads.get_mut(id).expect("thread exists");
        let queued_at = core::mem::take(&mut thread.queued).then_some(thread.priority);
        self.scheduler.retire(id, deadline, queued_at);
    }

    /// Terminates every thread of `task`; the task and its memory go with
    /// its last thread.
    pub fn terminate_task(&mut self, task: TaskId) {
        self.terminate_task_unsettled(task);
        crate::ipc::settle(self);
    }

    /// [`Kernel::terminate_task`] but for the notifications and wake-ups
    /// that follow (`ipc::settle`, which the caller runs).
    pub fn terminate_task_unsettled(&mut self, task: TaskId) {
        let Some(object) = self.tasks.get_mut(task) else { return };
        if object.terminated {
            return;
        }
        object.terminated = true;
        // Its rights and its port die now, as in Mach: holders of send
        // rights see dead names and get their notifications at once.
        let (space, port) = (object.space, object.port.take());
        let handler = object.exception_handler.take();
        let threads = object.threads.clone();
        if let Some(handler) = handler {
            self.ipc.release(handler.right);
        }
        crate::memory_object::release_owned_by(self, task);
        self.space_owners.remove(&space);
        if let Err(error) = self.ipc.destroy_space(space) {
            log::error!("destroying the IPC space of task {task:?}: {error:?}");
        }
        if let Some(port) = port {
            let _ = self.ipc.destroy_kernel_port(port);
        }
        if threads.is_empty() {
            self.free_task(task);
        }
        for thread in threads {
            self.terminate_thread(thread);
        }
    }

    pub(crate) fn free_task(&mut self, task: TaskId) {
        if let Some(mut object) = self.tasks.remove(task) {
            if let Some(tables) = object.page_tables.as_mut() {
                object.vm.destroy(tables);
            }
            crate::memory_object::release_unmapped(self, object.vm.take_unmapped_objects());
            if let Some(tables) = object.page_tables.take() {
                tables.destroy_user();
            }
            #[cfg(feature = "ktest")]
            {
                if self.freed_tasks.len() == 8 {
                    self.freed_tasks.pop_front();
                }
                self.freed_tasks.push_back((task, core::mem::take(&mut object.output)));
            }
        }
    }
}
