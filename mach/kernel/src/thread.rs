//! Threads: a saved CPU context, a kernel stack, a priority and a state.
//!
//! A thread belongs to a task (or to no task: the kernel's own idle and boot
//! threads). Its state changes only under the kernel lock, through the
//! scheduler.
#![forbid(unsafe_code)]

use crate::arch::context::{KernelStack, ThreadContext};
use crate::task::TaskId;
use alloc::string::String;

pub type ThreadId = crate::arena::Id<Thread>;

/// Highest priority + 1. Higher numbers run first.
pub const PRIORITY_LEVELS: usize = 32;
/// Most threads one task may have: each costs a 16 KiB kernel stack.
pub const MAX_THREADS_PER_TASK: usize = 1024;

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
    /// The priority it was given (Mach's base priority).
    pub base_priority: u8,
    /// The priority it runs at, the only one the run queues read: its base
    /// priority, or a more urgent client's while it serves that client's
    /// request (priority inheritance: docs/kernel.md, "Scheduler"). Changed
    /// only through the scheduler, which moves a queued thread with it.
    pub priority: u8,
    /// The client whose priority it runs at (it inherited it on a handoff).
    pub inherited_from: Option<ThreadId>,
    /// The server it lent its priority to, for the rest of the call it
    /// made: the mirror of that server's `inherited_from`.
    pub lent_to: Option<ThreadId>,
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
    /// The IPC wait it was last woken from (read by an abort that comes
    /// before the woken thread ran: the wake-up is handed to another waiter).
    pub woken_from: Option<crate::ipc::wait::WaitKey>,
    /// What the trap in progress returns if a wait in it that is not an
    /// IPC wait (a pager's page its buffer needs) is aborted; `None`:
    /// `KERN_ABORTED`. Set and cleared by the trap around such waits.
    pub abort_return: Option<u64>,
    /// An abort decided the trap's result and wrote it into the saved
    /// registers: the trap's return path must leave them alone.
    pub result_in_frame: bool,
    /// Where a receive it is blocked in wants its message: a sender may
    /// deliver straight into it (the RPC fast path).
    pub pending_receive: Option<crate::ipc::mach_msg::PendingReceive>,
    /// The result of a receive completed by such a direct delivery.
    pub delivered: Option<mach_abi::MachMsgReturn>,
    /// The check of the buffer its last call received in (a client calls,
    /// a server replies and receives, with the same buffer each time):
    /// the next call with the same buffer uses it while its task's page
    /// tables are unchanged instead of walking them again (ipc::mach_msg).
    pub checked_receive_buffer: Option<crate::memory::user::WritableBuffer>,
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
        let priority = priority.min(PRIORITY_LEVELS as u8 - 1);
        Self {
            task,
            name,
            base_priority: priority,
            priority,
            inherited_from: None,
            lent_to: None,
            state: ThreadState::Ready,
            suspend_count: 0,
            queued: false,
            wait_result: None,
            deadline: None,
            ticks_run: 0,
            waiting_on: None,
            woken_from: None,
            abort_return: None,
            result_in_frame: false,
            pending_receive: None,
            delivered: None,
            checked_receive_buffer: None,
            exception_handler: None,
            exception_reply: None,
            port: None,
            context,
            kernel_stack: stack,
        }
    }
}

impl crate::kernel::Kernel {
    /// `thread_abort`: ends the wait `id` is in, if any. A wait in a trap
    /// makes the trap return its "interrupted" code (`MACH_SEND_INTERRUPTED`
    /// or `MACH_RCV_INTERRUPTED` in `mach_msg`, `KERN_ABORTED` otherwise),
    /// written into the thread's saved registers at once, so a suspended
    /// thread (which stays suspended) shows its registers as they will be
    /// when the trap returns. A wait for a pager or an exception reply in a
    /// fault is abandoned and the faulting instruction runs again. A thread
    /// woken but not yet run counts as still waiting (its wake-up goes to
    /// another waiter); one a sender already handed a message to has
    /// nothing left to interrupt (its registers get the receive's result).
    /// Nothing queued is lost: a message waited for stays queued. A thread
    /// in no wait is left as it is.
    pub fn abort_thread(&mut self, id: ThreadId) -> Result<(), mach_abi::KernReturn> {
        use crate::ipc::wait::WaitKey;
        use mach_abi::{KernReturn, MachMsgReturn};
        let thread = self.threads.get(id).ok_or(KernReturn::InvalidArgument)?;
        if thread.task.is_none() {
            return Err(KernReturn::InvalidArgument);
        }
        let blocked = thread.state == ThreadState::Blocked;
        let woken = thread.state == ThreadState::Ready
            && thread.wait_result.is_some_and(|result| result != WaitResult::Aborted);
        if !blocked && !woken {
            return Ok(());
        }
        let result = if let Some(delivered) = thread.delivered {
            delivered as u64
        } else {
            let key = if blocked { thread.waiting_on } else { thread.woken_from };
            let result = match key {
                Some(WaitKey::Send(_)) => MachMsgReturn::SendInterrupted as u64,
                Some(WaitKey::Receive(_) | WaitKey::ReceiveSet(_)) => MachMsgReturn::ReceiveInterrupted as u64,
                None => thread.abort_return.unwrap_or(KernReturn::Aborted as u64),
            };
            if blocked {
                crate::memory_object::forget_waiter(self, id);
                crate::exception::forget_waiter(self, id);
                self.wake(id, WaitResult::Aborted);
            } else {
                let thread = self.threads.get_mut(id).expect("checked above");
                thread.wait_result = Some(WaitResult::Aborted);
                thread.exception_reply = None;
                if let Some(key) = key {
                    crate::ipc::wake_one(self, key);
                }
            }
            result
        };
        let thread = self.threads.get_mut(id).expect("checked above");
        if let Some(stack) = thread.kernel_stack.as_mut() {
            thread.result_in_frame = crate::arch::context::set_trap_result(stack, result);
        }
        Ok(())
    }
}
