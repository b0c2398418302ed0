//! More threads in the calling task: a server that must keep answering
//! while one of its threads waits (a pager faulting on its own objects, a
//! file server blocked on a disk) runs its work on several threads.
//!
//! [`spawn`] gives the new thread a stack of its own (anonymous memory with
//! an inaccessible guard page below it, so an overflow faults instead of
//! corrupting the memory underneath), starts it at `entry(argument)` and
//! returns a [`Thread`]. When `entry` returns the thread terminates itself;
//! [`Thread::join`] waits for that and frees the stack. A thread that never
//! returns (a server loop) keeps its stack for the life of the task.
//!
//! The thread's registers are set with the architecture's own thread state
//! (`mach_abi::NativeThreadState`).

use crate::trap::{
    task_self, thread_create, thread_resume, thread_self, thread_set_state, thread_sleep, thread_terminate,
    vm_allocate, vm_deallocate, vm_protect,
};
use mach_abi::{
    KernReturn, NativeThreadState, PortName, ThreadState, Trap, THREAD_BASIC_INFO, THREAD_BASIC_INFO_COUNT,
    VM_FLAGS_ANYWHERE, VM_PROT_NONE,
};

const PAGE: u64 = 4096;

/// Stack size when the caller has no reason to choose: 64 KiB.
pub const DEFAULT_STACK_SIZE: u64 = 64 * 1024;

/// A thread [`spawn`] started.
#[derive(Debug)]
pub struct Thread {
    port: PortName,
    /// The stack's region, guard page included.
    stack_base: u64,
    stack_size: u64,
}

/// Starts `entry(argument)` on a new thread of this task with a stack of
/// `stack_size` bytes (rounded up to pages).
pub fn spawn(entry: fn(usize), argument: usize, stack_size: u64) -> Result<Thread, KernReturn> {
    let task = task_self();
    let stack_size = stack_size.max(PAGE).div_ceil(PAGE) * PAGE;
    let region = stack_size.checked_add(PAGE).ok_or(KernReturn::InvalidArgument)?;
    let stack_base = vm_allocate(task, 0, region, VM_FLAGS_ANYWHERE)?;
    let started = start(task, entry, argument, stack_base, region);
    match started {
        Ok(port) => Ok(Thread { port, stack_base, stack_size: region }),
        Err(error) => {
            let _ = vm_deallocate(task, stack_base, region);
            Err(error)
        }
    }
}

fn start(
    task: PortName,
    entry: fn(usize),
    argument: usize,
    stack_base: u64,
    region: u64,
) -> Result<PortName, KernReturn> {
    vm_protect(task, stack_base, PAGE, false, VM_PROT_NONE)?;
    let port = thread_create(task)?;
    let mut state = NativeThreadState::default();
    // The SysV ABI enters a function with rsp 8 below a 16-byte boundary;
    // AAPCS64 keeps sp 16-byte aligned everywhere.
    let stack_top = if cfg!(target_arch = "x86_64") { stack_base + region - 8 } else { stack_base + region };
    state.set_argument(0, entry as *const () as u64);
    state.set_argument(1, argument as u64);
    state.set_sp(stack_top);
    state.set_pc(thread_start as *const () as u64);
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    let result = thread_set_state(port, NativeThreadState::FLAVOR, &words).and_then(|()| thread_resume(port));
    if let Err(error) = result {
        let _ = thread_terminate(port);
        return Err(error);
    }
    Ok(port)
}

/// Where a spawned thread begins: runs its entry, then ends itself. Its
/// arguments arrive in registers set by `start`: a Rust `fn` pointer is a
/// plain code address, so passing one through the C convention is sound
/// (nothing but this module calls it).
#[allow(improper_ctypes_definitions)]
extern "C" fn thread_start(entry: fn(usize), argument: usize) -> ! {
    entry(argument);
    let _ = thread_terminate(thread_self());
    // Not reached: the kernel does not return from terminating the caller.
    loop {
        let _ = thread_sleep(u64::MAX / 1_000_000);
    }
}

impl Thread {
    /// The name of a send right to the thread's port.
    pub fn port(&self) -> PortName {
        self.port
    }

    /// Waits until the thread has ended (its entry returned, or someone
    /// terminated it), then frees its stack and its port name.
    pub fn join(self) {
        while is_alive(self.port) {
            let _ = thread_sleep(1);
        }
        let _ = vm_deallocate(task_self(), self.stack_base, self.stack_size);
        let _ = crate::trap::port_deallocate(task_self(), self.port);
    }
}

/// True while `thread` names a thread that still exists.
fn is_alive(thread: PortName) -> bool {
    let mut info = [0u32; THREAD_BASIC_INFO_COUNT as usize];
    let mut count = THREAD_BASIC_INFO_COUNT;
    // SAFETY: the kernel writes at most `count` words into `info` and one
    // into `count`, both ours.
    let code = unsafe {
        crate::trap::raw_trap(
            Trap::ThreadInfo as u64,
            [thread as u64, THREAD_BASIC_INFO as u64, info.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    code == KernReturn::Success as u64
}

/// `thread`'s user registers (it must be stopped: suspended, or waiting in
/// the kernel), as the architecture's thread state.
pub fn get_state(thread: PortName) -> Result<NativeThreadState, KernReturn> {
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    crate::trap::thread_get_state(thread, NativeThreadState::FLAVOR, &mut words)?;
    NativeThreadState::load_words(&words).ok_or(KernReturn::Failure)
}

/// Sets `thread`'s user registers from the architecture's thread state.
pub fn set_state(thread: PortName, state: &NativeThreadState) -> Result<(), KernReturn> {
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    thread_set_state(thread, NativeThreadState::FLAVOR, &words)
}
