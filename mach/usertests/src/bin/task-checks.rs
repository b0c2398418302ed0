//! Task and thread traps checked from user mode: info, state, creating and
//! starting a thread, suspend/resume/terminate, creating and terminating a
//! task, and finally terminating itself. Prints `task-checks: N passed,
//! N failed` and then `terminating myself`.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};
use libmach::abi::{
    KernReturn, NativeThreadState, ThreadState, Trap, MACH_PORT_TYPE_DEAD_NAME, TASK_BASIC_INFO,
    TASK_CREATE_INHERIT_MEMORY, THREAD_BASIC_INFO, TH_STATE_RUNNING, TH_STATE_STOPPED,
};
use libmach::trap::*;
use mach_usertests::{println, Checks};

libmach::entry!(main);

/// Bumped by the second thread, so the first can see it ran.
static WORKER_RUNS: AtomicU64 = AtomicU64::new(0);

struct Stack(UnsafeCell<[u8; 16384]>);
// SAFETY: only the worker thread uses this memory, as its stack.
unsafe impl Sync for Stack {}
static WORKER_STACK: Stack = Stack(UnsafeCell::new([0; 16384]));

extern "C" fn worker(argument: u64) -> ! {
    WORKER_RUNS.fetch_add(argument, Ordering::SeqCst);
    libmach::runtime::park()
}

fn info(trap: Trap, target: u32, flavor: u32) -> Result<[u32; 6], KernReturn> {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most `count` words into `words` and one
    // into `count`, both ours.
    let code = unsafe {
        raw_trap(trap as u64, [target as u64, flavor as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0])
    };
    match KernReturn::from_u32(code as u32) {
        Some(KernReturn::Success) => Ok(words),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

/// Nanoseconds on the kernel clock from the thread's next charged tick to
/// the second after it (a lower bound of two periods less the clock
/// readings: being preempted only lengthens it).
fn spin_two_ticks(thread: u32) -> u64 {
    let ticks = || thread_basic_info(thread).map(|info| info.cpu_ticks).unwrap_or(u64::MAX);
    let start = ticks();
    while ticks() == start {}
    let (from, first) = (clock_get_time().unwrap_or(0), ticks());
    while ticks() < first.saturating_add(2) {}
    clock_get_time().unwrap_or(0).saturating_sub(from)
}

fn get_state(thread: u32) -> Result<NativeThreadState, KernReturn> {
    libmach::thread::get_state(thread)
}

/// `thread_set_state` with the state's first `count` words.
fn set_state(thread: u32, state: &NativeThreadState, count: u32) -> Result<(), KernReturn> {
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    let words = &words[..(count as usize).min(words.len())];
    // SAFETY: the kernel only reads `words` (as many as `count` says).
    let code = unsafe {
        raw_trap(
            Trap::ThreadSetState as u64,
            [thread as u64, NativeThreadState::FLAVOR as u64, words.as_ptr() as u64, count as u64, 0, 0],
        )
    };
    if code == 0 {
        Ok(())
    } else {
        Err(KernReturn::from_u32(code as u32).unwrap_or(KernReturn::Failure))
    }
}

fn task_create(parent: u32, inherit: u64) -> Result<u32, KernReturn> {
    let mut child = 0u32;
    // SAFETY: the kernel writes 4 bytes into `child`.
    let code = unsafe { raw_trap(Trap::TaskCreate as u64, [parent as u64, inherit, &raw mut child as u64, 0, 0, 0]) };
    if code == 0 {
        Ok(child)
    } else {
        Err(KernReturn::from_u32(code as u32).unwrap_or(KernReturn::Failure))
    }
}

fn thread_create(task: u32) -> Result<u32, KernReturn> {
    let mut thread = 0u32;
    // SAFETY: the kernel writes 4 bytes into `thread`.
    let code = unsafe { raw_trap(Trap::ThreadCreate as u64, [task as u64, &raw mut thread as u64, 0, 0, 0, 0]) };
    if code == 0 {
        Ok(thread)
    } else {
        Err(KernReturn::from_u32(code as u32).unwrap_or(KernReturn::Failure))
    }
}

fn main(_argument: u64) {
    let mut checks = Checks::new("task-checks");
    let task = task_self();
    let me = thread_self();
    let task_info = info(Trap::TaskInfo, task, TASK_BASIC_INFO);
    checks.equal("task_info: one thread", task_info.map(|words| words[1]), Ok(1));
    checks.equal("task_info: pages resident", task_info.map(|words| words[2] > 4), Ok(true));
    checks.equal("task_set_name", task_set_name(task_self(), "task-checks"), Ok(()));
    checks.equal("task_set_name: empty", task_set_name(task_self(), ""), Err(KernReturn::InvalidArgument));
    checks.equal(
        "task_set_name: too long",
        task_set_name(task_self(), "a name far longer than thirty-two bytes"),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal("task_set_name: no task port", task_set_name(0x0abc_de00, "x"), Err(KernReturn::InvalidName));
    // SAFETY: the kernel only reads; the pointer is in the kernel half and must be refused.
    let kernel_pointer =
        unsafe { raw_trap(Trap::TaskSetName as u64, [task_self() as u64, 0xffff_8000_0000_0000, 4, 0, 0, 0]) };
    checks.equal("task_set_name: kernel pointer", kernel_pointer, KernReturn::InvalidAddress as u64);
    let not_utf8 = [0xffu8, 0xfe];
    // SAFETY: the kernel only reads the two bytes.
    let refused =
        unsafe { raw_trap(Trap::TaskSetName as u64, [task_self() as u64, not_utf8.as_ptr() as u64, 2, 0, 0, 0]) };
    checks.equal("task_set_name: not UTF-8", refused, KernReturn::InvalidArgument as u64);
    let thread_info = info(Trap::ThreadInfo, me, THREAD_BASIC_INFO);
    checks.equal("thread_info: running", thread_info.map(|words| words[0]), Ok(TH_STATE_RUNNING));
    // The tick's length: `hz=` is 10 to 10000, so 100 us to 100 ms.
    let tick_nanoseconds = thread_info.map(|words| words[3]).unwrap_or(0);
    checks.equal(
        "thread_info: the tick's length is that of 10 to 10000 Hz",
        (100_000..=100_000_000).contains(&tick_nanoseconds),
        true,
    );
    checks.equal(
        "thread_info: two ticks charged while spinning take at least one tick on the clock",
        spin_two_ticks(me) >= u64::from(tick_nanoseconds),
        true,
    );
    checks.equal("task_info on a thread port", info(Trap::TaskInfo, me, TASK_BASIC_INFO), Err(KernReturn::InvalidTask));
    checks.equal("unknown info flavor", info(Trap::TaskInfo, task, 99), Err(KernReturn::InvalidArgument));

    let own = get_state(me);
    checks.equal("own rip is in user space", own.map(|state| state.pc() < 0x8000_0000_0000), Ok(true));
    checks.equal("own rsp is on the stack", own.map(|state| state.sp() > 0x7fff_0000_0000), Ok(true));

    // A second thread: created suspended, given registers, resumed.
    let second = thread_create(task);
    checks.equal("thread_create", second.is_ok(), true);
    let second = second.unwrap_or(0);
    checks.equal(
        "new thread is stopped",
        info(Trap::ThreadInfo, second, THREAD_BASIC_INFO).map(|words| words[0]),
        Ok(TH_STATE_STOPPED),
    );
    let mut state = NativeThreadState::default();
    state.set_pc(worker as *const () as u64);
    // As if called: x86_64's return-address slot below a 16-byte aligned
    // top; aarch64 keeps the stack pointer 16-byte aligned.
    let top = WORKER_STACK.0.get() as u64 + 16384;
    state.set_sp(if cfg!(target_arch = "x86_64") { top - 8 } else { top });
    state.set_argument(0, 5);
    checks.equal(
        "set_state with a short count",
        set_state(second, &state, NativeThreadState::COUNT - 2),
        Err(KernReturn::InvalidArgument),
    );
    let mut kernel_rip = state;
    kernel_rip.set_pc(0xffff_ffff_8010_0000);
    checks.equal(
        "set_state into the kernel half",
        set_state(second, &kernel_rip, NativeThreadState::COUNT),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal("set_state", set_state(second, &state, NativeThreadState::COUNT), Ok(()));
    checks.equal("read back rip", get_state(second).map(|state| state.pc()), Ok(worker as *const () as u64));
    checks.equal("resume", thread_resume(second), Ok(()));
    let _ = thread_sleep(30);
    checks.equal("the second thread ran", WORKER_RUNS.load(Ordering::SeqCst), 5);
    checks.equal("two threads now", info(Trap::TaskInfo, task, TASK_BASIC_INFO).map(|words| words[1]), Ok(2));
    checks.equal("resume a running thread", thread_resume(second), Err(KernReturn::Failure));
    checks.equal("suspend", thread_suspend(second), Ok(()));
    checks.equal(
        "suspended is stopped",
        info(Trap::ThreadInfo, second, THREAD_BASIC_INFO).map(|words| words[0]),
        Ok(TH_STATE_STOPPED),
    );
    checks.equal("terminate it", thread_terminate(second), Ok(()));
    let _ = thread_sleep(20);
    checks.equal("its port is now a dead name", port_type(task, second), Ok(MACH_PORT_TYPE_DEAD_NAME));
    checks.equal("one thread again", info(Trap::TaskInfo, task, TASK_BASIC_INFO).map(|words| words[1]), Ok(1));

    // A child task.
    // Flags: bit 0 inherits memory (fork-checks covers it), bit 1 send
    // rights (inherit-checks); nothing else is defined.
    checks.equal("task_create with unknown flags", task_create(task, 1 << 7), Err(KernReturn::InvalidArgument));
    let inherited = task_create(task, TASK_CREATE_INHERIT_MEMORY);
    checks.equal(
        "task_create inheriting memory has this task's pages",
        inherited.and_then(|child| info(Trap::TaskInfo, child, TASK_BASIC_INFO)).map(|words| words[2] > 0),
        Ok(true),
    );
    checks.equal("terminate the inheriting child", inherited.and_then(task_terminate), Ok(()));
    let child = task_create(task, 0);
    checks.equal("task_create", child.is_ok(), true);
    let child = child.unwrap_or(0);
    checks.equal(
        "child is empty",
        info(Trap::TaskInfo, child, TASK_BASIC_INFO).map(|words| (words[1], words[2])),
        Ok((0, 0)),
    );
    checks.equal("thread in child", thread_create(child).is_ok(), true);
    checks.equal("terminate child", task_terminate(child), Ok(()));
    checks.equal("child port is a dead name", port_type(task, child), Ok(MACH_PORT_TYPE_DEAD_NAME));
    checks.equal("task_create from a bogus parent", task_create(0x0abc_de00, 0), Err(KernReturn::InvalidName));

    checks.finish();
    println!("terminating myself");
    let _ = task_terminate(task);
    println!("still here after task_terminate");
}
