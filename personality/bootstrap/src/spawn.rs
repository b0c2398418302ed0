//! Starting a program in a new task, entirely from user space: the kernel
//! only provides tasks, threads and memory operations on them.
//!
//! 1. `task_create` gives an empty task;
//! 2. for each loadable segment, `vm_allocate` at its address, `vm_write`
//!    the file bytes (the rest stays zero) and `vm_protect` it to the
//!    segment's rights (never write and execute together);
//! 3. a stack from `vm_allocate`;
//! 4. the caller's `prepare` gives the task its rights, writes its start
//!    block on the stack and chooses the registers (see `docs/bootstrap.md`);
//! 5. `thread_create` (suspended), `thread_set_state` (entry point, stack
//!    pointer, first and second argument), `thread_resume`.
//!
//! The image is checked by goblin and by the kernel (whose VM traps refuse
//! bad addresses); a failure terminates the half-built task.

use alloc::vec::Vec;
use goblin::elf::program_header::{PF_W, PF_X, PT_LOAD};
use goblin::elf::{header, Elf};
use libmach::abi::{
    KernReturn, NativeThreadState, PortName, ThreadState, VM_FLAGS_ANYWHERE, VM_FLAGS_FIXED, VM_PROT_EXECUTE,
    VM_PROT_READ, VM_PROT_WRITE,
};
use libmach::trap::{
    port_deallocate, task_create, task_self, task_terminate, thread_create, thread_resume, thread_set_state,
    vm_allocate, vm_protect, vm_write,
};

const PAGE: u64 = 4096;

/// The ELF machine of the programs this bootstrap task can start: its own.
#[cfg(target_arch = "aarch64")]
const NATIVE_MACHINE: u16 = header::EM_AARCH64;
#[cfg(not(target_arch = "aarch64"))]
const NATIVE_MACHINE: u16 = header::EM_X86_64;
/// Each program's stack (its start block at the top included).
pub const STACK_SIZE: u64 = 256 * 1024;

/// The registers a program's thread starts with.
pub struct Entry {
    pub first_argument: u64,
    pub second_argument: u64,
    pub stack_pointer: u64,
}

#[derive(Debug)]
#[allow(dead_code)] // the kernel's code is read through Debug in the report
pub enum SpawnError {
    NotAnExecutable,
    Kernel(KernReturn),
}

impl From<KernReturn> for SpawnError {
    fn from(error: KernReturn) -> Self {
        SpawnError::Kernel(error)
    }
}

fn set_entry(thread: PortName, address: u64, entry: &Entry) -> Result<(), KernReturn> {
    let mut state = NativeThreadState::default();
    state.set_argument(0, entry.first_argument);
    state.set_argument(1, entry.second_argument);
    state.set_sp(entry.stack_pointer);
    state.set_pc(address);
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    thread_set_state(thread, NativeThreadState::FLAVOR, &words)
}

struct Segment {
    start: u64,
    end: u64,
    file_offset: usize,
    file_size: usize,
    address: u64,
    protection: u32,
}

fn segments(image: &[u8], elf: &Elf) -> Result<Vec<Segment>, SpawnError> {
    let mut segments = Vec::new();
    for header in elf.program_headers.iter().filter(|header| header.p_type == PT_LOAD && header.p_memsz > 0) {
        let end = header.p_vaddr.checked_add(header.p_memsz).ok_or(SpawnError::NotAnExecutable)?;
        let file_end = header.p_offset.checked_add(header.p_filesz).ok_or(SpawnError::NotAnExecutable)?;
        if header.p_filesz > header.p_memsz || file_end > image.len() as u64 {
            return Err(SpawnError::NotAnExecutable);
        }
        let mut protection = VM_PROT_READ;
        if header.p_flags & PF_W != 0 {
            protection |= VM_PROT_WRITE;
        }
        if header.p_flags & PF_X != 0 {
            protection |= VM_PROT_EXECUTE;
        }
        segments.push(Segment {
            start: header.p_vaddr / PAGE * PAGE,
            end: end.div_ceil(PAGE) * PAGE,
            file_offset: header.p_offset as usize,
            file_size: header.p_filesz as usize,
            address: header.p_vaddr,
            protection,
        });
    }
    Ok(segments)
}

/// Builds a task running `image` and returns its task port's name.
/// `prepare` runs on the built task (and the top of its stack) before its
/// thread starts and returns the thread's registers.
pub fn start(
    image: &[u8],
    prepare: impl FnOnce(PortName, u64) -> Result<Entry, KernReturn>,
) -> Result<PortName, SpawnError> {
    let elf = Elf::parse(image).map_err(|_| SpawnError::NotAnExecutable)?;
    if !elf.is_64 || elf.header.e_machine != NATIVE_MACHINE || elf.header.e_type != header::ET_EXEC {
        return Err(SpawnError::NotAnExecutable);
    }
    let segments = segments(image, &elf)?;
    let task = task_create(task_self())?;
    let built = build(task, image, &segments, elf.header.e_entry, prepare);
    if built.is_err() {
        let _ = task_terminate(task);
    }
    built.map(|()| task)
}

fn build(
    task: PortName,
    image: &[u8],
    segments: &[Segment],
    address: u64,
    prepare: impl FnOnce(PortName, u64) -> Result<Entry, KernReturn>,
) -> Result<(), SpawnError> {
    // Segments may share a page; allocate each page once, write all the
    // bytes, then give each page the union of its segments' rights.
    let mut allocated: Vec<(u64, u64)> = Vec::new();
    for segment in segments {
        let mut page = segment.start;
        while page < segment.end {
            if !allocated.iter().any(|&(start, end)| (start..end).contains(&page)) {
                vm_allocate(task, page, PAGE, VM_FLAGS_FIXED)?;
                allocated.push((page, page + PAGE));
            }
            page += PAGE;
        }
        vm_write(task, segment.address, &image[segment.file_offset..segment.file_offset + segment.file_size])?;
    }
    for &(page, _) in &allocated {
        let protection = segments
            .iter()
            .filter(|segment| (segment.start..segment.end).contains(&page))
            .fold(0, |rights, segment| rights | segment.protection);
        vm_protect(task, page, PAGE, false, protection)?;
    }
    let stack = vm_allocate(task, 0, STACK_SIZE, VM_FLAGS_ANYWHERE)?;
    let entry = prepare(task, stack + STACK_SIZE)?;
    let thread = thread_create(task)?;
    let started = set_entry(thread, address, &entry).and_then(|()| thread_resume(thread));
    // The task holds its thread; bootstrap needs no right to it.
    let _ = port_deallocate(task_self(), thread);
    started?;
    Ok(())
}
