//! Threads: a saved CPU context, a kernel stack, a priority and a state.
//!
//! A thread belongs to a task (or to no task: the kernel's own idle and boot
//! threads). Its state changes only under the kernel lock, through the
//! scheduler.

use crate::arch::context::{KernelStack, ThreadContext};
use crate::task::TaskId;
use alloc::string::String;

pub type ThreadId = crate::arena::Id<Thread>;

/// Highest priority + 1. Higher numbers run first.
pub const PRIORITY_LEVELS: usize = 32;
/// Most threads one task may have: each costs a 16 KiB kernel stack.
pub const MAX_THREADS_PER_TASK: usize = 256;

/// The priority user threads start at (Mach's BASEPRI_DEFAULT, scaled).
pub const DEFAULT_PRIORITY: u8 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Runnable, waiting for the CPU (in a run queue unless suspended).
    Ready,
    /// On the CPU.
    Running,
    /// Waiting for an event, maybe with a deadline.
    Blocked,
    /// Terminated; its resources are freed once it is off the CPU.
    Dead,
}

/// Why a blocked thread woke up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitResult {
    /// The event it waited for happened.
    Woken,
    /// Its deadline passed first.
    TimedOut,
    /// It was aborted (its task or itself terminated, or thread_abort).
    Aborted,
}

pub struct Thread {
    pub task: Option<TaskId>,
    pub name: String,
    pub priority: u8,
    pub state: ThreadState,
    pub suspend_count: u32,
    /// In a run queue now (the queue removes suspended threads lazily).
    pub queued: bool,
    pub wait_result: Option<WaitResult>,
    pub deadline: Option<u64>,
    /// Timer ticks spent on the CPU.
    pub ticks_run: u64,
    /// The wait queue it sits in while blocked in IPC.
    pub waiting_on: Option<crate::ipc::wait::WaitKey>,
    /// Where a receive it is blocked in wants its message: a sender may
    /// deliver straight into it (the RPC fast path).
    pub pending_receive: Option<crate::ipc::mach_msg::PendingReceive>,
    /// The result of a receive completed by such a direct delivery.
    pub delivered: Option<mach_abi::MachMsgReturn>,
    /// Where its faults go first (`thread_set_exception_port`).
    pub exception_handler: Option<crate::exception::Handler>,
    /// The reply to the exception it is waiting on, once it came.
    pub exception_reply: Option<mach_abi::KernReturn>,
    /// Its thread port (a kernel port tagged with this thread).
    pub port: Option<mach_ipc::PortId>,
    pub context: ThreadContext,
    /// None for the boot thread, which runs on the boot stack.
    pub kernel_stack: Option<KernelStack>,
}

impl Thread {
    pub fn new(
        task: Option<TaskId>,
        name: String,
        priority: u8,
        context: ThreadContext,
        stack: Option<KernelStack>,
    ) -> Self {
        Self {
            task,
            name,
            priority: priority.min(PRIORITY_LEVELS as u8 - 1),
            state: ThreadState::Ready,
            suspend_count: 0,
            queued: false,
            wait_result: None,
            deadline: None,
            ticks_run: 0,
            waiting_on: None,
            pending_receive: None,
            delivered: None,
            exception_handler: None,
            exception_reply: None,
            port: None,
            context,
            kernel_stack: stack,
        }
    }
}
