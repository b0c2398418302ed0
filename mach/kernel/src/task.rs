//! Tasks: an address space, (soon) an IPC space, and threads.
//!
//! A task's page tables own every frame mapped in its user half; they are
//! freed when the last of its threads is gone.
#![forbid(unsafe_code)]

use crate::arch::paging::PageTables;
use crate::thread::ThreadId;
use alloc::string::String;
use alloc::vec::Vec;

pub type TaskId = crate::arena::Id<Task>;

pub struct Task {
    pub name: String,
    /// Its IPC space: the names it holds rights under.
    pub space: mach_ipc::SpaceId,
    /// Its regions and the anonymous memory behind them.
    pub vm: crate::vm::VmMap,
    /// Where its threads' faults go when theirs do not take them.
    pub exception_handler: Option<crate::exception::Handler>,
    /// Its task port (a kernel port tagged with this task).
    pub port: Option<mach_ipc::PortId>,
    pub page_tables: Option<PageTables>,
    pub threads: Vec<ThreadId>,
    pub suspend_count: u32,
    /// Set when the task is terminated: its threads are dead or dying.
    pub terminated: bool,
    /// Pages charged to its VM map for the names in its IPC space
    /// (`ipc::names`).
    pub name_pages: usize,
    /// Pages charged to its VM map for the messages it has queued
    /// (`ipc::queued`).
    pub message_pages: usize,
    /// I/O port ranges `(first, count)` its threads may use
    /// (`io_port_access`; at most `arch::gdt::MAX_IO_RANGES`).
    pub io_ports: Vec<(u16, u16)>,
    /// The last `trap::CAPTURE_LIMIT` bytes it wrote with `debug_print`.
    pub output: String,
}

impl crate::kernel::Kernel {
    /// `task`'s address space for user copies.
    pub fn user_space(
        &mut self,
        task: TaskId,
    ) -> Result<crate::memory::user::UserSpace<'_, crate::vm::VmMap>, mach_abi::KernReturn> {
        self.tasks.get_mut(task).and_then(Task::user_space).ok_or(mach_abi::KernReturn::InvalidTask)
    }
}

impl Task {
    /// Its address space for user copies (none once it is being destroyed).
    pub fn user_space(&mut self) -> Option<crate::memory::user::UserSpace<'_, crate::vm::VmMap>> {
        Some(crate::memory::user::UserSpace { tables: self.page_tables.as_mut()?, vm: &mut self.vm })
    }

    pub fn new(name: String, page_tables: PageTables, space: mach_ipc::SpaceId) -> Self {
        Self {
            name,
            space,
            vm: crate::vm::VmMap::default(),
            exception_handler: None,
            port: None,
            page_tables: Some(page_tables),
            threads: Vec::new(),
            suspend_count: 0,
            terminated: false,
            name_pages: 0,
            message_pages: 0,
            io_ports: Vec::new(),
            output: String::new(),
        }
    }

    /// Keeps the tail of what the task printed, bounded.
    pub fn capture_output(&mut self, text: &str) {
        self.output.push_str(text);
        let limit = crate::trap::CAPTURE_LIMIT;
        if self.output.len() > limit {
            let mut cut = self.output.len() - limit;
            while !self.output.is_char_boundary(cut) {
                cut += 1;
            }
            self.output.drain(..cut);
        }
    }
}

/// Why a task could not be started from an executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    Elf(crate::loader::ElfError),
    OutOfMemory,
    /// The kernel's task limit is reached.
    TooManyTasks,
    /// More modules than the bootstrap task's information can list
    /// (`mach_abi::BOOTSTRAP_MODULES_MAX`).
    TooManyModules,
    /// A module name longer than `mach_abi::BOOTSTRAP_MODULE_NAME_MAX`.
    ModuleNameTooLong,
}

/// Starts a task running `image` (an ELF executable) with one thread at
/// `priority`, passing `argument` in the first argument register.
pub fn spawn(name: &str, image: &[u8], priority: u8, argument: u64) -> Result<TaskId, SpawnError> {
    spawn_with(name, image, priority, |_, _| argument)
}

/// Like [`spawn`], but `setup` runs under the kernel lock once the task and
/// its IPC space exist, before its thread can run, and returns the argument
/// (it may, say, give the task rights and pass their names).
pub fn spawn_with(
    name: &str,
    image: &[u8],
    priority: u8,
    setup: impl FnOnce(&mut crate::kernel::Kernel, TaskId) -> u64,
) -> Result<TaskId, SpawnError> {
    use crate::arch::context::{KernelStack, ThreadContext};
    use crate::thread::Thread;
    let (tables, mut entry, regions) = crate::loader::load(image, 0).map_err(SpawnError::Elf)?;
    let mut stack = match KernelStack::new() {
        Ok(stack) => stack,
        Err(_) => {
            tables.destroy_user();
            return Err(SpawnError::OutOfMemory);
        }
    };
    crate::kernel::with_kernel(|kernel| {
        let task = kernel.create_task(name, tables)?;
        let object = kernel.tasks.get_mut(task).expect("task just made");
        let pages = object.page_tables.as_ref().map_or(0, |tables| tables.user_page_count());
        for (start, end, protection) in regions {
            object.vm.insert(start, end, protection, mach_abi::VM_PROT_ALL).expect("loaded regions do not overlap");
        }
        // The image is bounded by the loader (256 MiB); record what it holds.
        if let Some(tables) = object.page_tables.as_ref() {
            let _ = object.vm.charge(tables, pages);
            let _ = object.vm.charge_held(tables, crate::arch::context::KERNEL_STACK_PAGES);
        }
        entry.argument = setup(kernel, task);
        let context = ThreadContext::new_user(&mut stack, entry);
        kernel.add_thread(Thread::new(Some(task), name.into(), priority, context, Some(stack)));
        Ok(task)
    })
}
