//! The scheduler: 32 priority levels, round robin within a level, a timer-
//! driven quantum, blocking with deadlines, and an idle thread. Its state
//! lives in the one [`Kernel`] (`kernel.rs`) with every other object.
//!
//! A switch is decided under the lock ([`pick_next`] returns the two
//! contexts) and carried out after the lock is dropped, so the next thread
//! never finds it held.
//!
//! Priority inheritance on the RPC handoff: a client that hands a request
//! carrying a reply right (send-once) to a waiting server thread, and waits
//! for the answer in the same `mach_msg`, lends that thread its priority
//! for the rest of the call ([`Kernel::lend_priority`], [`Kernel::end_loan`];
//! the rules are in docs/kernel.md, "Scheduler"). Every decision here reads
//! only the effective `priority`, so a loan moves a queued thread between
//! run queues and nothing else.

use crate::arch::context::ThreadContext;
use crate::arena::Arena;
use crate::kernel::KERNEL;
use crate::kernel::{with_kernel, Kernel};
use crate::task::TaskId;
use crate::thread::{Thread, ThreadId, ThreadState, WaitResult, PRIORITY_LEVELS};
use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;

pub struct Scheduler {
    run_queues: [VecDeque<ThreadId>; PRIORITY_LEVELS],
    /// Bit n set: run queue n may be non-empty.
    ready_levels: u32,
    current: Option<ThreadId>,
    idle: Option<ThreadId>,
    /// (deadline in uptime nanoseconds, thread) of blocked threads with one.
    sleepers: BTreeSet<(u64, ThreadId)>,
    /// Dead threads not yet freed (one of them may still be on the CPU).
    zombies: Vec<ThreadId>,
    quantum_left: u64,
    pub context_switches: u64,
    /// A thread that just got a message handed to it: run it next if it is
    /// as urgent as anything ready (the RPC fast path's direct switch).
    pub handoff: Option<ThreadId>,
    /// A task or thread was suspended since the last trap exit: the running
    /// thread checks whether it was one of them before returning to user
    /// mode (a rare event; every trap exit would otherwise look its task up).
    pub suspension_pending: bool,
}

const EMPTY_QUEUE: VecDeque<ThreadId> = VecDeque::new();
/// Ticks a thread runs before others of its priority get the CPU.
const QUANTUM_MILLISECONDS: u64 = 10;

impl Scheduler {
    /// Takes a thread that just died out of the scheduler's hands: its
    /// deadline, its place in a run queue (`queued_at`: its priority, if
    /// queued; a thread created and killed without ever running would
    /// otherwise stay there for good), and keeps it to be freed once off
    /// the CPU (`reap`).
    pub(crate) fn retire(&mut self, id: ThreadId, deadline: Option<u64>, queued_at: Option<u8>) {
        if let Some(deadline) = deadline {
            self.sleepers.remove(&(deadline, id));
        }
        if let Some(level) = queued_at {
            self.run_queues[level as usize].retain(|&queued| queued != id);
        }
        self.zombies.push(id);
    }
}

fn quantum_ticks() -> u64 {
    (crate::time::timer_hz() as u64 * QUANTUM_MILLISECONDS / 1000).max(1)
}

impl Kernel {
    pub fn current_thread(&self) -> ThreadId {
        self.scheduler.current.expect("no current thread before the scheduler started")
    }

    pub fn current_task(&self) -> Option<TaskId> {
        self.threads.get(self.current_thread()).and_then(|thread| thread.task)
    }

    fn is_runnable(&self, id: ThreadId) -> bool {
        self.threads.get(id).is_some_and(|thread| thread.state == ThreadState::Ready)
            && self.is_runnable_ignoring_state(id)
    }

    /// Neither the thread nor its task is suspended.
    fn is_runnable_ignoring_state(&self, id: ThreadId) -> bool {
        let Some(thread) = self.threads.get(id) else { return false };
        let task_suspended =
            thread.task.and_then(|task| self.tasks.get(task)).is_some_and(|task| task.suspend_count > 0);
        thread.suspend_count == 0 && !task_suspended
    }

    /// Puts a ready thread at the back of its priority's queue.
    pub fn make_runnable(&mut self, id: ThreadId) {
        if Some(id) == self.scheduler.idle || !self.is_runnable(id) {
            return;
        }
        let thread = self.threads.get_mut(id).expect("runnable thread exists");
        if thread.queued {
            return;
        }
        thread.queued = true;
        let level = thread.priority as usize;
        self.scheduler.run_queues[level].push_back(id);
        self.scheduler.ready_levels |= 1 << level;
    }

    /// Wakes a blocked thread with `result`. No effect on other states.
    pub fn wake(&mut self, id: ThreadId, result: WaitResult) {
        if self.wake_unqueued(id, result) {
            self.make_runnable(id);
        }
    }

    /// Wakes a thread a message was just handed to (`ipc::mach_msg`'s
    /// handoff) and makes it the one to run next if nothing more urgent is
    /// ready. With `direct` (the caller switches in this lock section, or
    /// calls [`Kernel::queue_handoff`] before dropping the lock), a thread
    /// that may run at once is not put in a run queue at all: `pick_next`
    /// takes it as it is (the call fast path's direct switch). With `lends`
    /// (the message carries a reply right and the running thread waits for
    /// the answer in this trap), the running thread lends it its priority
    /// first ([`Kernel::lend_priority`]), so a low-priority server answering
    /// an urgent client runs next.
    pub fn wake_for_handoff(&mut self, id: ThreadId, direct: bool, lends: bool) {
        if !self.wake_unqueued(id, WaitResult::Woken) {
            return;
        }
        if lends {
            self.lend_priority(self.current_thread(), id);
        }
        self.scheduler.handoff = Some(id);
        if !direct || !self.may_run_next(id) {
            self.make_runnable(id);
        }
    }

    /// `client` lends its effective priority to `server`, a thread it just
    /// handed a request to (blocked until now, so in no run queue), for the
    /// rest of the call `client` is in. One loan per thread either way: a
    /// loan `client` made before ends, and the server's loan from an
    /// earlier request (it received again without answering that one) is
    /// replaced by this one: it serves this request now. A server at least
    /// as urgent as the client borrows nothing (and keeps no older loan).
    /// The loan is the client's priority now; nothing later follows it
    /// along a chain of calls (each handoff costs the same, however long
    /// the chain: a chain built call by call passes the first client's
    /// priority on anyway, each server lending what it borrowed).
    pub fn lend_priority(&mut self, client: ThreadId, server: ThreadId) {
        // The common case, on every call to a server at least as urgent as
        // its client: nothing to lend, no older loan to end.
        let Some(lender) = self.threads.get(client) else { return };
        let (priority, earlier) = (lender.priority, lender.lent_to);
        let Some(thread) = self.threads.get(server) else { return };
        if priority <= thread.base_priority && thread.inherited_from.is_none() && earlier.is_none() {
            return;
        }
        self.change_loan(client, server);
    }

    /// [`Kernel::lend_priority`] when a loan is made or one ends.
    #[inline(never)]
    fn change_loan(&mut self, client: ThreadId, server: ThreadId) {
        self.end_loan(client);
        let Some(priority) = self.threads.get(client).map(|thread| thread.priority) else { return };
        let Some(thread) = self.threads.get_mut(server) else { return };
        let base = thread.base_priority;
        if let Some(previous) = thread.inherited_from.take() {
            if let Some(previous) = self.threads.get_mut(previous) {
                previous.lent_to = None;
            }
        }
        if priority <= base {
            self.set_priority(server, base);
            return;
        }
        self.threads.get_mut(server).expect("checked above").inherited_from = Some(client);
        if let Some(client) = self.threads.get_mut(client) {
            client.lent_to = Some(server);
        }
        self.set_priority(server, priority);
    }

    /// The call `client` lent its priority for is over (its `mach_msg`
    /// returns, it woke from its wait for the reply, or it died): the
    /// server it lent to, if that loan still stands, goes back to its base
    /// priority. No effect if it lent nothing.
    #[inline(never)]
    pub fn end_loan(&mut self, client: ThreadId) {
        let Some(server) = self.threads.get_mut(client).and_then(|thread| thread.lent_to.take()) else { return };
        let Some(thread) = self.threads.get_mut(server) else { return };
        if thread.inherited_from != Some(client) {
            return;
        }
        thread.inherited_from = None;
        let base = thread.base_priority;
        self.set_priority(server, base);
    }

    /// A thread that dies ends the loan it made and the one it holds.
    pub fn end_loans_of(&mut self, id: ThreadId) {
        self.end_loan(id);
        let Some(client) = self.threads.get_mut(id).and_then(|thread| thread.inherited_from.take()) else { return };
        if let Some(client) = self.threads.get_mut(client).filter(|client| client.lent_to == Some(id)) {
            client.lent_to = None;
        }
    }

    /// Sets a thread's effective priority, moving it to the new level's run
    /// queue (at the back) if it is in one.
    #[inline(never)]
    fn set_priority(&mut self, id: ThreadId, priority: u8) {
        let Some(thread) = self.threads.get_mut(id) else { return };
        let old = thread.priority as usize;
        if old == priority as usize {
            return;
        }
        thread.priority = priority;
        if !thread.queued {
            return;
        }
        self.scheduler.run_queues[old].retain(|&queued| queued != id);
        if self.scheduler.run_queues[old].is_empty() {
            // A stale bit would make `take_handoff` and `leave_trap` see a
            // more urgent thread ready where none is.
            self.scheduler.ready_levels &= !(1 << old);
        }
        self.scheduler.run_queues[priority as usize].push_back(id);
        self.scheduler.ready_levels |= 1 << priority;
    }

    /// Puts the handoff target in its run queue if it is not in one (the
    /// call fast path did not switch after all). No effect otherwise.
    pub fn queue_handoff(&mut self) {
        if let Some(target) = self.scheduler.handoff {
            self.make_runnable(target);
        }
    }

    /// A ready thread that may take the processor now: not suspended, and
    /// nothing of a higher priority ready.
    fn may_run_next(&self, id: ThreadId) -> bool {
        let Some(thread) = self.threads.get(id) else { return false };
        Some(id) != self.scheduler.idle
            && self.is_runnable(id)
            && self.highest_ready_level().is_none_or(|highest| highest <= thread.priority as usize)
    }

    /// `wake` but for the run queue: true if the thread was blocked (and is
    /// now ready, though in no run queue yet).
    fn wake_unqueued(&mut self, id: ThreadId, result: WaitResult) -> bool {
        let Some(thread) = self.threads.get_mut(id) else { return false };
        if thread.state != ThreadState::Blocked {
            return false;
        }
        let thread = if thread.lent_to.is_some() {
            // Whatever woke it (the reply, a timeout, an abort, a dead
            // port), it no longer waits on the server it lent to.
            self.end_loan(id);
            self.threads.get_mut(id).expect("thread exists")
        } else {
            thread
        };
        // What it waited for, for an abort before it runs (`wake_one` took
        // it off its queue and recorded it already; `prepare_block` cleared
        // it for a wait that is not IPC).
        if let Some(key) = thread.waiting_on.take() {
            thread.woken_from = Some(key);
            self.wait_queues.remove(key, id);
        }
        let thread = self.threads.get_mut(id).expect("thread exists");
        thread.state = ThreadState::Ready;
        thread.wait_result = Some(result);
        if let Some(deadline) = thread.deadline.take() {
            self.scheduler.sleepers.remove(&(deadline, id));
        }
        true
    }

    /// Frees dead threads other than `keep` (the one still on the CPU).
    fn reap(&mut self, keep: ThreadId) {
        let mut index = 0;
        while index < self.scheduler.zombies.len() {
            let id = self.scheduler.zombies[index];
            if id == keep {
                index += 1;
                continue;
            }
            self.scheduler.zombies.swap_remove(index);
            let Some(thread) = self.threads.remove(id) else { continue };
            let Some(task) = thread.task else { continue };
            let Some(object) = self.tasks.get_mut(task) else { continue };
            object.threads.retain(|&other| other != id);
            object.vm.uncharge_held(crate::arch::context::KERNEL_STACK_PAGES);
            if object.threads.is_empty() && object.terminated {
                self.free_task(task);
            }
        }
    }

    fn highest_ready_level(&self) -> Option<usize> {
        (self.scheduler.ready_levels != 0).then(|| 31 - self.scheduler.ready_levels.leading_zeros() as usize)
    }

    /// The handoff target, if nothing more urgent is ready: as it is if
    /// `wake_for_handoff` left it out of the run queues, else taken off the
    /// back of its run queue (where its wake-up just put it).
    fn take_handoff(&mut self) -> Option<ThreadId> {
        let target = self.scheduler.handoff.take()?;
        let thread = self.threads.get(target)?;
        let (level, queued) = (thread.priority as usize, thread.queued);
        if !self.is_runnable(target) || self.highest_ready_level().is_some_and(|highest| highest > level) {
            // It waits its turn like any woken thread (a thread left out
            // of the queues goes in now; one that cannot run stays out).
            self.make_runnable(target);
            return None;
        }
        if !queued {
            return Some(target);
        }
        if self.scheduler.run_queues[level].back() != Some(&target) {
            return None;
        }
        self.scheduler.run_queues[level].pop_back();
        if self.scheduler.run_queues[level].is_empty() {
            self.scheduler.ready_levels &= !(1 << level);
        }
        self.threads.get_mut(target)?.queued = false;
        Some(target)
    }

    fn pop_runnable(&mut self) -> Option<ThreadId> {
        while let Some(level) = self.highest_ready_level() {
            let Some(id) = self.scheduler.run_queues[level].pop_front() else {
                self.scheduler.ready_levels &= !(1 << level);
                continue;
            };
            if let Some(thread) = self.threads.get_mut(id) {
                thread.queued = false;
            }
            if self.is_runnable(id) {
                return Some(id);
            }
        }
        None
    }

    /// Chooses the thread to run next and prepares the switch: the new
    /// thread's page tables become current. Returns the contexts to switch
    /// between, or None to keep running the current thread.
    fn pick_next(&mut self) -> Option<(*mut ThreadContext, *const ThreadContext)> {
        let current = self.current_thread();
        if self.threads.get(current).is_some_and(|thread| thread.state == ThreadState::Running) {
            self.threads.get_mut(current).expect("current thread").state = ThreadState::Ready;
            self.make_runnable(current);
        }
        let next = match self.take_handoff().or_else(|| self.pop_runnable()) {
            Some(next) => next,
            None if self.is_runnable(current) || current == self.idle_thread() => current,
            None => self.idle_thread(),
        };
        self.threads.get_mut(next).expect("next thread").state = ThreadState::Running;
        self.scheduler.quantum_left = quantum_ticks();
        if next == current {
            self.reap(current);
            return None;
        }
        self.scheduler.current = Some(next);
        self.scheduler.context_switches += 1;
        match self.threads.get(next).and_then(|thread| thread.task).and_then(|task| self.tasks.get(task)) {
            Some(task) => {
                task.page_tables.as_ref().expect("a live task has page tables").activate();
                crate::arch::set_io_permissions(&task.io_ports);
            }
            None => {
                crate::arch::paging::activate_kernel();
                crate::arch::set_io_permissions(&[]);
            }
        }
        self.reap(current);
        let from: *mut ThreadContext = &mut self.threads.get_mut(current).expect("current thread").context;
        let to: *const ThreadContext = &self.threads.get(next).expect("next thread").context;
        Some((from, to))
    }

    fn idle_thread(&self) -> ThreadId {
        self.scheduler.idle.expect("scheduler started without an idle thread")
    }
}

/// Gives the CPU to the most urgent runnable thread (maybe the caller).
pub fn reschedule() {
    crate::arch::cpu::without_interrupts(|| {
        let contexts = KERNEL.lock().as_mut().and_then(Kernel::pick_next);
        switch_to(contexts);
    });
}

/// Switches from the running thread to the one `pick_next` chose, if it
/// chose one; called with interrupts off and the kernel lock dropped.
/// Returns when the running thread runs again.
fn switch_to(contexts: Option<(*mut ThreadContext, *const ThreadContext)>) {
    if let Some((from, to)) = contexts {
        // SAFETY: `pick_next` returned the running thread's context and a
        // different live thread's; dead threads are freed only by `reap`,
        // never while on the CPU, so both outlive the switch. Both callers
        // run with interrupts off.
        unsafe { crate::arch::context::switch(from, to) };
    }
}

/// Runs `action` on the kernel's objects and, if it answers `true` (it
/// blocked the running thread, having handed a message to the thread that
/// should run next), chooses the next thread in the same lock section and
/// switches to it once the lock is dropped: the IPC fast path's direct
/// switch, one lock section where `with_kernel` then [`reschedule`] take
/// two. Returns when the running thread runs again.
pub fn with_kernel_then_switch<R>(action: impl FnOnce(&mut Kernel) -> (R, bool)) -> R {
    crate::arch::cpu::without_interrupts(|| {
        let mut guard = KERNEL.lock();
        let kernel = guard.as_mut().expect("kernel objects used before scheduler::start");
        let (result, switch) = action(kernel);
        let contexts = if switch { kernel.pick_next() } else { None };
        drop(guard);
        switch_to(contexts);
        result
    })
}

/// The running thread steps back behind the others of its priority.
pub fn yield_now() {
    reschedule();
}

impl Kernel {
    /// Marks the running thread blocked (in `queue`, if given) until `wake`
    /// or `deadline` (see [`deadline_after`]). The caller then drops the lock and
    /// calls [`finish_block`]: deciding to wait and queueing happen under
    /// one lock, so no wake-up can fall between them.
    pub fn prepare_block(&mut self, deadline: Option<u64>, queue: Option<crate::ipc::wait::WaitKey>) {
        let current = self.current_thread();
        let thread = self.threads.get_mut(current).expect("current thread");
        thread.state = ThreadState::Blocked;
        thread.wait_result = None;
        thread.woken_from = None;
        thread.deadline = deadline;
        thread.waiting_on = queue;
        if let Some(deadline) = deadline {
            self.scheduler.sleepers.insert((deadline, current));
        }
        if let Some(key) = queue {
            self.wait_queues.push(key, current);
        }
    }
}

/// Gives up the processor after `Kernel::prepare_block` and returns why the
/// thread woke.
pub fn finish_block() -> WaitResult {
    reschedule();
    with_kernel(|kernel| {
        let current = kernel.current_thread();
        kernel.threads.get_mut(current).and_then(|thread| thread.wait_result.take()).unwrap_or(WaitResult::Woken)
    })
}

/// Blocks the running thread until `wake` or `deadline` (see [`deadline_after`]).
pub fn block_current(deadline: Option<u64>) -> WaitResult {
    with_kernel(|kernel| kernel.prepare_block(deadline, None));
    finish_block()
}

/// Deadlines are nanoseconds of uptime, the clock `clock_get_time` reads,
/// so a thread that waited until a deadline sees at least that much time
/// pass. They are checked at every tick, so a wait ends within one tick
/// period after its deadline.
pub fn deadline_after(duration: core::time::Duration) -> u64 {
    (crate::time::uptime() + duration).as_nanos() as u64
}

/// True once `deadline` has passed.
pub fn deadline_passed(deadline: u64) -> bool {
    crate::time::uptime().as_nanos() as u64 >= deadline
}

/// Sleeps for at least `duration` (less if aborted: `WaitResult::Aborted`).
pub fn sleep_for(duration: core::time::Duration) -> WaitResult {
    block_current(Some(deadline_after(duration)))
}

/// The timer tick: wakes expired sleepers, charges the running thread and
/// preempts it when its quantum is used up or a more urgent thread is ready.
pub fn on_tick() {
    crate::klog::notify_reader();
    let preempt = crate::arch::cpu::without_interrupts(|| {
        let mut guard = KERNEL.lock();
        let Some(kernel) = guard.as_mut() else { return false }; // ticks before the scheduler starts
        let Some(current) = kernel.scheduler.current else { return false };
        let now = crate::time::uptime().as_nanos() as u64;
        while let Some(&(deadline, id)) = kernel.scheduler.sleepers.first() {
            if deadline > now {
                break;
            }
            kernel.wake(id, WaitResult::TimedOut);
        }
        let current_priority = kernel.threads.get_mut(current).map(|thread| {
            thread.ticks_run += 1;
            thread.priority as usize
        });
        kernel.scheduler.quantum_left = kernel.scheduler.quantum_left.saturating_sub(1);
        let more_urgent =
            kernel.highest_ready_level().is_some_and(|level| current_priority.is_none_or(|own| level > own));
        let idle = Some(current) == kernel.scheduler.idle;
        more_urgent || (kernel.scheduler.quantum_left == 0 && (idle || kernel.highest_ready_level().is_some()))
    });
    if preempt {
        reschedule();
    }
}

/// The running thread is leaving a trap: whether an abort already wrote the
/// trap's result into its saved registers (which then stay as they are),
/// and whether it must give up the processor before returning to user mode
/// (it blocked, died or was suspended, a more urgent thread is ready, or it
/// asked to yield). The caller writes the result, then switches: a thread
/// stopped here has its final user registers saved, so `thread_get_state`
/// sees exactly what it will resume with.
pub fn leave_trap(yield_requested: bool) -> (bool, bool) {
    with_kernel(|kernel| {
        let Some(current) = kernel.scheduler.current else { return (false, false) };
        let suspended =
            core::mem::take(&mut kernel.scheduler.suspension_pending) && !kernel.is_runnable_ignoring_state(current);
        let highest = kernel.highest_ready_level();
        let Some(thread) = kernel.threads.get_mut(current) else { return (false, true) };
        let result_in_frame = core::mem::take(&mut thread.result_in_frame);
        let stopped = thread.state != ThreadState::Running || suspended;
        let outranked = highest.is_some_and(|level| level > thread.priority as usize);
        if thread.lent_to.is_some() {
            // The call it lent its priority for ends with this trap (it
            // found its reply without waiting, or gave up). The server's
            // priority can only fall, so `outranked` errs on the side of
            // one needless pass through the scheduler.
            kernel.end_loan(current);
        }
        (result_in_frame, yield_requested || stopped || outranked)
    })
}

/// Preempts the running thread if a more urgent one became ready (called on
/// the way back to user mode, after a trap may have woken someone).
pub fn preempt_if_needed() {
    let needed = with_kernel(|kernel| {
        let Some(current) = kernel.scheduler.current else { return false };
        let running = kernel.threads.get(current).is_some_and(|thread| thread.state == ThreadState::Running);
        let own = kernel.threads.get(current).map(|thread| thread.priority as usize).unwrap_or(0);
        !running || kernel.highest_ready_level().is_some_and(|level| level > own)
    });
    if needed {
        reschedule();
    }
}

fn idle_loop() -> ! {
    crate::arch::cpu::idle_forever()
}

/// Turns the boot code into the first kernel thread (it keeps running) and
/// creates the idle thread. Called once, before any other thread exists.
pub fn start(boot_thread_priority: u8) {
    let idle_stack = crate::arch::context::KernelStack::new().expect("no memory for the idle thread");
    let idle_context = ThreadContext::new_kernel(&idle_stack, idle_loop);
    crate::arch::cpu::without_interrupts(|| {
        *KERNEL.lock() = Some(Kernel {
            tasks: Arena::new(),
            threads: Arena::new(),
            ipc: mach_ipc::Ipc::new(),
            wait_queues: crate::ipc::wait::WaitQueues::new(),
            message_buffers: crate::ipc::mach_msg::MessageBuffers::default(),
            exception_waits: alloc::collections::BTreeMap::new(),
            captured: crate::ipc::ool::CapturedRegions::default(),
            objects: crate::memory_object::Objects::default(),
            devices: crate::device::Devices::default(),
            host_name_port: None,
            host_privileged_port: None,
            next_space_number: 0,
            space_owners: alloc::collections::BTreeMap::new(),
            #[cfg(feature = "ktest")]
            freed_tasks: VecDeque::new(),
            scheduler: Scheduler {
                run_queues: [EMPTY_QUEUE; PRIORITY_LEVELS],
                ready_levels: 0,
                current: None,
                idle: None,
                sleepers: BTreeSet::new(),
                zombies: Vec::new(),
                quantum_left: 0,
                context_switches: 0,
                handoff: None,
                suspension_pending: false,
            },
        });
    });
    with_kernel(|kernel| {
        use crate::ipc::object::KernelObjectRef;
        kernel.host_name_port =
            Some(kernel.ipc.allocate_kernel_port(KernelObjectRef::Host { privileged: false }.tag()));
        kernel.host_privileged_port =
            Some(kernel.ipc.allocate_kernel_port(KernelObjectRef::Host { privileged: true }.tag()));
        let boot = Thread::new(None, "boot".into(), boot_thread_priority, ThreadContext::current_boot(), None);
        let boot = kernel.threads.insert(boot);
        kernel.threads.get_mut(boot).expect("boot thread").state = ThreadState::Running;
        kernel.scheduler.current = Some(boot);
        let mut idle = Thread::new(None, "idle".into(), 0, idle_context, Some(idle_stack));
        idle.state = ThreadState::Ready;
        kernel.scheduler.idle = Some(kernel.threads.insert(idle));
        kernel.scheduler.quantum_left = quantum_ticks();
    });
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::arch::context::KernelStack;
    use crate::ktest::Failure;
    use crate::{ensure, ensure_eq, ktest};

    /// A kernel thread for the loan bookkeeping only: blocked, in no queue,
    /// never run, removed by [`remove`].
    fn parked(kernel: &mut Kernel, priority: u8) -> Result<ThreadId, Failure> {
        let stack = KernelStack::new()?;
        let context = ThreadContext::new_kernel(&stack, idle_loop);
        let mut thread = Thread::new(None, "loan".into(), priority, context, Some(stack));
        thread.state = ThreadState::Blocked;
        Ok(kernel.threads.insert(thread))
    }

    fn remove(kernel: &mut Kernel, threads: &[ThreadId]) {
        for &id in threads {
            if let Some(thread) = kernel.threads.remove(id) {
                if thread.queued {
                    kernel.scheduler.run_queues[thread.priority as usize].retain(|&queued| queued != id);
                }
            }
        }
    }

    fn priority(kernel: &Kernel, id: ThreadId) -> Option<u8> {
        kernel.threads.get(id).map(|thread| thread.priority)
    }

    /// Runs `check` on threads made at `priorities`, removing them after
    /// whatever it answers; all under one lock section, so the scheduler
    /// never sees them.
    fn with_threads<const N: usize>(
        priorities: [u8; N],
        check: impl FnOnce(&mut Kernel, [ThreadId; N]) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        with_kernel(|kernel| {
            let mut made = Vec::new();
            for priority in priorities {
                match parked(kernel, priority) {
                    Ok(id) => made.push(id),
                    Err(failure) => {
                        remove(kernel, &made);
                        return Err(failure);
                    }
                }
            }
            let ids: [ThreadId; N] = made.clone().try_into().map_err(|_| "thread count")?;
            let result = check(kernel, ids);
            remove(kernel, &made);
            result
        })
    }

    ktest! {
        fn a_loan_travels_down_a_chain_of_calls_and_ends_call_by_call() {
            with_threads([30, 10, 5], |kernel, [client, first, second]| {
                kernel.lend_priority(client, first);
                ensure_eq!(priority(kernel, first), Some(30));
                kernel.lend_priority(first, second);
                ensure_eq!(priority(kernel, second), Some(30));
                // The second server answers the first: the first keeps the
                // client's loan.
                kernel.end_loan(first);
                ensure_eq!((priority(kernel, second), priority(kernel, first)), (Some(5), Some(30)));
                kernel.end_loan(client);
                ensure_eq!(priority(kernel, first), Some(10));
                let loans = [client, first, second].map(|id| kernel.threads.get(id).map(|thread| (thread.lent_to, thread.inherited_from)));
                ensure!(loans.iter().all(|loan| *loan == Some((None, None))), "loans left: {loans:?}");
                Ok(())
            })
        }

        fn a_new_request_replaces_a_servers_loan_and_a_less_urgent_client_lends_nothing() {
            with_threads([20, 15, 3, 5], |kernel, [urgent, middle, idle, server]| {
                kernel.lend_priority(urgent, server);
                ensure_eq!(priority(kernel, server), Some(20));
                kernel.lend_priority(middle, server);
                ensure_eq!(priority(kernel, server), Some(15));
                ensure_eq!(kernel.threads.get(urgent).and_then(|thread| thread.lent_to), None);
                // Ending the replaced loan changes nothing.
                kernel.end_loan(urgent);
                ensure_eq!(priority(kernel, server), Some(15));
                kernel.lend_priority(idle, server);
                ensure_eq!(priority(kernel, server), Some(5));
                ensure_eq!(kernel.threads.get(middle).and_then(|thread| thread.lent_to), None);
                ensure_eq!(kernel.threads.get(server).and_then(|thread| thread.inherited_from), None);
                Ok(())
            })
        }

        fn a_loan_ends_when_the_client_wakes_or_either_thread_dies() {
            with_threads([25, 5, 25, 5], |kernel, [client, server, dying_client, orphan]| {
                kernel.lend_priority(client, server);
                ensure!(kernel.wake_unqueued(client, WaitResult::TimedOut));
                ensure_eq!(priority(kernel, server), Some(5));
                kernel.lend_priority(dying_client, orphan);
                ensure_eq!(priority(kernel, orphan), Some(25));
                kernel.end_loans_of(dying_client);
                ensure_eq!(priority(kernel, orphan), Some(5));
                kernel.lend_priority(client, server);
                kernel.end_loans_of(server);
                ensure_eq!(kernel.threads.get(client).and_then(|thread| thread.lent_to), None);
                Ok(())
            })
        }

        fn a_loan_moves_a_queued_thread_between_run_queues() {
            with_threads([25, 5], |kernel, [client, server]| {
                kernel.threads.get_mut(server).ok_or("server")?.state = ThreadState::Ready;
                kernel.make_runnable(server);
                ensure_eq!(kernel.scheduler.run_queues[5].back(), Some(&server));
                kernel.lend_priority(client, server);
                ensure!(!kernel.scheduler.run_queues[5].contains(&server));
                ensure_eq!(kernel.scheduler.run_queues[25].back(), Some(&server));
                kernel.end_loan(client);
                ensure!(!kernel.scheduler.run_queues[25].contains(&server));
                ensure_eq!(kernel.scheduler.run_queues[5].back(), Some(&server));
                Ok(())
            })
        }
    }
}
