//! Tasks: an address space, (soon) an IPC space, and threads.
//!
//! A task's page tables own every frame mapped in its user half; they are
//! freed when the last of its threads is gone.

use crate::arch::paging::PageTables;
use crate::thread::ThreadId;
use alloc::string::String;
use alloc::vec::Vec;

pub type TaskId = crate::arena::Id<Task>;

pub struct Task {
    pub name: String,
    pub page_tables: Option<PageTables>,
    pub threads: Vec<ThreadId>,
    pub suspend_count: u32,
    /// Set when the task is terminated: its threads are dead or dying.
    pub terminated: bool,
    /// The last `trap::CAPTURE_LIMIT` bytes it wrote with `debug_print`.
    pub output: String,
}

impl Task {
    pub fn new(name: String, page_tables: PageTables) -> Self {
        Self {
            name,
            page_tables: Some(page_tables),
            threads: Vec::new(),
            suspend_count: 0,
            terminated: false,
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
}

/// Starts a task running `image` (an ELF executable) with one thread at
/// `priority`, passing `argument` in the first argument register.
pub fn spawn(name: &str, image: &[u8], priority: u8, argument: u64) -> Result<TaskId, SpawnError> {
    use crate::arch::context::{KernelStack, ThreadContext};
    use crate::thread::Thread;
    let (tables, entry) = crate::loader::load(image, argument).map_err(SpawnError::Elf)?;
    let stack = match KernelStack::new() {
        Ok(stack) => stack,
        Err(_) => {
            tables.destroy_user();
            return Err(SpawnError::OutOfMemory);
        }
    };
    let context = ThreadContext::new_user(&stack, entry);
    Ok(crate::scheduler::with_kernel(|kernel| {
        let task = kernel.tasks.insert(Task::new(name.into(), tables));
        kernel.add_thread(Thread::new(Some(task), name.into(), priority, context, Some(stack)));
        task
    }))
}
