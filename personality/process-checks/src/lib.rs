//! What a process needs to call the process and memory servers before
//! minilibc runs on Mach_R: the rights its start block names, fork (the
//! registers saved as `setjmp` saves them), exec and spawn (the file opened
//! at the file server first, as minilibc does), wait, exit, and a signal
//! thread's port. The programs in `src/bin/` are the system tests' checks
//! and the benchmark of `scripts/bench`; they are started by init (through
//! `scripts/run -c`) from the root disk.
#![no_std]

extern crate alloc;

#[cfg(target_os = "none")]
mod heap {
    //! A heap for the programs: a buddy allocator over `vm_allocate`
    //! memory, grown when it runs out.
    use buddy_system_allocator::{Heap, LockedHeapWithRescue};
    use core::alloc::Layout;
    use libmach::abi::VM_FLAGS_ANYWHERE;
    use libmach::trap::{task_self, vm_allocate};

    #[global_allocator]
    static HEAP: LockedHeapWithRescue<32> = LockedHeapWithRescue::new(grow);

    fn grow(heap: &mut Heap<32>, layout: &Layout) {
        let size = (layout.size().max(layout.align()) as u64 * 2).max(1 << 20).next_multiple_of(4096);
        if let Ok(start) = vm_allocate(task_self(), 0, size, VM_FLAGS_ANYWHERE) {
            // SAFETY: `vm_allocate` just gave this task `size` bytes of
            // zeroed read-write memory at `start`, used by nothing else.
            unsafe { heap.add_to_heap(start as usize, (start + size) as usize) };
        }
    }
}

use alloc::vec::Vec;
use libmach::abi::{PortName, AT_MACH_BOOTSTRAP, AT_MACH_CWD, AT_MACH_MEMORY, AT_MACH_PID, AT_MACH_PROC, AT_MACH_ROOT};
use libmach::runtime::{auxiliary, descriptors};
use libmach::{PortKernel, SendRight, SystemKernel};
use personality_interfaces::{fs, memory, proc};

pub use mach_usertests::{println, Checks};

/// The names a process's start block gives.
#[derive(Clone, Copy, Debug)]
pub struct Names {
    pub proc: PortName,
    pub memory: PortName,
    pub root: PortName,
    pub cwd: PortName,
    pub bootstrap: PortName,
    pub pid: i32,
}

impl Names {
    /// From the start block.
    pub fn of_this_process() -> Names {
        let name = |key| auxiliary(key).unwrap_or(0) as PortName;
        Names {
            proc: name(AT_MACH_PROC),
            memory: name(AT_MACH_MEMORY),
            root: name(AT_MACH_ROOT),
            cwd: name(AT_MACH_CWD),
            bootstrap: name(AT_MACH_BOOTSTRAP),
            pid: auxiliary(AT_MACH_PID).unwrap_or(0) as i32,
        }
    }
}

/// A client on a new reference to the send right `name` (the process keeps its own).
fn reference(name: PortName) -> SendRight<SystemKernel> {
    let _ = SystemKernel.port_mod_refs(name, libmach::abi::PortRight::Send, 1);
    SendRight::from_name(&SystemKernel, name)
}

/// The process and memory servers' clients of this process.
pub struct Process {
    pub names: Names,
    pub proc: proc::Client<SystemKernel>,
    pub memory: memory::Client<SystemKernel>,
}

impl Process {
    /// This process, from its start block; `None` if it was not started by
    /// the process server.
    pub fn new() -> Option<Process> {
        let names = Names::of_this_process();
        if names.proc == 0 || names.memory == 0 {
            return None;
        }
        let proc = proc::Client::new(&SystemKernel, reference(names.proc)).ok()?;
        let memory = memory::Client::new(&SystemKernel, reference(names.memory)).ok()?;
        Some(Process { names, proc, memory })
    }

    /// `_exit(status)`.
    pub fn exit(&mut self, status: i32) -> ! {
        let _ = self.proc.exit(status);
        libmach::runtime::park()
    }

    /// `fork()`: the child's pid in the parent, 0 in the child (whose
    /// clients are made again: a child has none of its parent's reply
    /// ports).
    pub fn fork(&mut self) -> Result<i32, libmach::CallError<proc::Error>> {
        let mut state = proc::ResumeState::default();
        if save_registers(&mut state) == 0 {
            // The child: the parent's clients' reply ports are not ours.
            self.renew();
            return Ok(0);
        }
        let task = libmach::trap::task_self();
        let thread = libmach::trap::thread_self();
        let forked = self.proc.fork(&state, task, thread);
        let _ = libmach::trap::port_deallocate(task, thread);
        forked
    }

    /// A forked child's clients: new reply ports, the same servers. The
    /// parent's clients are forgotten, not dropped (dropping would release
    /// the server rights the child inherited, and reply ports it never had).
    fn renew(&mut self) {
        let names = self.names;
        let proc = proc::Client::new(&SystemKernel, reference(names.proc));
        let memory = memory::Client::new(&SystemKernel, reference(names.memory));
        if let (Ok(proc), Ok(memory)) = (proc, memory) {
            core::mem::forget(core::mem::replace(&mut self.proc, proc));
            core::mem::forget(core::mem::replace(&mut self.memory, memory));
        }
    }

    /// Opens `path` from the root for exec (read-only).
    pub fn open(&self, path: &[u8]) -> Result<SendRight<SystemKernel>, libmach::CallError<fs::Error>> {
        let mut root = fs::Client::new(&SystemKernel, reference(self.names.root)).map_err(libmach::CallError::Rpc)?;
        root.open(path, 0, 0).map(|reply| reply.file)
    }

    /// The descriptors to keep (those of the start block).
    pub fn kept(&self) -> Vec<proc::Descriptor> {
        descriptors()
            .map(|descriptor| proc::Descriptor { number: descriptor.number, name: descriptor.name, flags: 0 })
            .collect()
    }

    /// `execve(path, arguments, environment)`; returns only on an error.
    pub fn exec(&mut self, path: &[u8], arguments: &[&[u8]], environment: &[&[u8]]) -> Result<(), ExecError> {
        let file = self.open(path).map_err(ExecError::Open)?;
        let strings = strings(arguments, environment);
        let kept = self.kept();
        let names = self.names;
        self.proc
            .exec(
                &file,
                &strings,
                arguments.len() as u32,
                environment.len() as u32,
                &kept,
                names.root,
                names.cwd,
                names.bootstrap,
                0,
                0o022,
            )
            .map_err(ExecError::Exec)
    }

    /// posix_spawn of `path` with `arguments`; the child's pid.
    pub fn spawn(&mut self, path: &[u8], arguments: &[&[u8]]) -> Result<i32, ExecError> {
        let file = self.open(path).map_err(ExecError::Open)?;
        let strings = strings(arguments, &[]);
        let kept = self.kept();
        let names = self.names;
        self.proc
            .spawn(
                &file,
                &strings,
                arguments.len() as u32,
                0,
                &kept,
                names.root,
                names.cwd,
                names.bootstrap,
                &[],
                -1,
                false,
                -1,
                0,
                0,
                false,
                0o022,
            )
            .map_err(ExecError::Exec)
    }

    /// `waitpid(pid, &status, options)`: the child and its status word.
    pub fn wait(&mut self, pid: i32, options: i32) -> Result<(i32, i32), libmach::CallError<proc::Error>> {
        self.proc.wait(pid, options).map(|reply| (reply.child, reply.status))
    }
}

/// Why exec or spawn failed.
#[derive(Debug)]
pub enum ExecError {
    Open(libmach::CallError<fs::Error>),
    Exec(libmach::CallError<proc::Error>),
}

/// argv then envp, each NUL-terminated: exec's `strings`.
pub fn strings(arguments: &[&[u8]], environment: &[&[u8]]) -> Vec<u8> {
    let mut blob = Vec::new();
    for string in arguments.iter().chain(environment) {
        blob.extend_from_slice(string);
        blob.push(0);
    }
    blob
}

/// (A naked function: its body is the assembly below and nothing else; it
/// reads and writes only `state`, which the caller lends it.)
///
/// Saves what `fork` resumes the child with, as `setjmp` does: the return
/// address as the pc, the stack pointer after the return, the callee-saved
/// registers and the flags (the thread pointer stays 0: these programs
/// use none). Returns 1; the forked child, started at the saved registers
/// with 0 as the call's result, sees it return 0.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
extern "C" fn save_registers(state: &mut proc::ResumeState) -> u64 {
    core::arch::naked_asm!(
        "mov rax, [rsp]",
        "mov [rdi + {pc}], rax",
        "lea rax, [rsp + 8]",
        "mov [rdi + {sp}], rax",
        "mov [rdi + {saved}], rbx",
        "mov [rdi + {saved} + 8], rbp",
        "mov [rdi + {saved} + 16], r12",
        "mov [rdi + {saved} + 24], r13",
        "mov [rdi + {saved} + 32], r14",
        "mov [rdi + {saved} + 40], r15",
        "pushfq",
        "pop rax",
        "mov [rdi + {flags}], rax",
        "mov eax, 1",
        "ret",
        pc = const core::mem::offset_of!(proc::ResumeState, pc),
        sp = const core::mem::offset_of!(proc::ResumeState, sp),
        saved = const core::mem::offset_of!(proc::ResumeState, saved),
        flags = const core::mem::offset_of!(proc::ResumeState, flags),
    )
}

/// The same on aarch64: the pc is the link register (where the call
/// returns), the saved registers x19..x28, the frame pointer and the link
/// register, the flags NZCV.
#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
extern "C" fn save_registers(state: &mut proc::ResumeState) -> u64 {
    core::arch::naked_asm!(
        "str x30, [x0, #{pc}]",
        "mov x9, sp",
        "str x9, [x0, #{sp}]",
        "stp x19, x20, [x0, #{saved}]",
        "stp x21, x22, [x0, #{saved} + 16]",
        "stp x23, x24, [x0, #{saved} + 32]",
        "stp x25, x26, [x0, #{saved} + 48]",
        "stp x27, x28, [x0, #{saved} + 64]",
        "stp x29, x30, [x0, #{saved} + 80]",
        "mrs x9, nzcv",
        "str x9, [x0, #{flags}]",
        "mov x0, #1",
        "ret",
        pc = const core::mem::offset_of!(proc::ResumeState, pc),
        sp = const core::mem::offset_of!(proc::ResumeState, sp),
        saved = const core::mem::offset_of!(proc::ResumeState, saved),
        flags = const core::mem::offset_of!(proc::ResumeState, flags),
    )
}

/// `WIFEXITED` and `WEXITSTATUS` of a status word.
pub fn exited(status: i32) -> Option<i32> {
    (status & 0x7f == 0).then_some((status >> 8) & 0xff)
}

/// `WIFSIGNALED` and `WTERMSIG`.
pub fn killed_by(status: i32) -> Option<i32> {
    let signal = status & 0x7f;
    (signal != 0 && signal != 0x7f).then_some(signal)
}
