//! Starting a program in a new task, entirely from user space: the kernel
//! only provides tasks, threads and memory operations on them.
//!
//! 1. `mach-elf` checks the image (the one ELF reader, shared with the
//!    kernel's boot loader and the process server's exec);
//! 2. `task_create` gives an empty task;
//! 3. the pages the segments cover are allocated as runs of pages with the
//!    same rights (one region per run, not per page: a page two segments
//!    share gets the union of their rights, which the reader checked is
//!    never writable and executable), the file bytes written with
//!    `vm_write` (the rest stays zero), then each run protected;
//! 4. a stack from `vm_allocate`;
//! 5. the caller's `prepare` gives the task its rights, writes its start
//!    block on the stack and chooses the registers (see `docs/bootstrap.md`);
//! 6. `thread_create` (suspended), `thread_set_state` (entry point, stack
//!    pointer, first and second argument), `thread_resume`.
//!
//! A failure terminates the half-built task.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use libmach::abi::{
    KernReturn, NativeThreadState, PortName, ThreadState, VM_FLAGS_ANYWHERE, VM_FLAGS_FIXED, VM_PROT_EXECUTE,
    VM_PROT_READ, VM_PROT_WRITE,
};
use libmach::trap::{
    port_deallocate, task_create, task_self, task_terminate, thread_create, thread_resume, thread_set_state,
    vm_allocate, vm_protect, vm_write,
};
use mach_elf::{ElfError, Image, Layout, Machine};

const PAGE: u64 = 4096;
/// Each program's stack (its start block at the top included).
pub const STACK_SIZE: u64 = 256 * 1024;

/// Where a program's segments may go: above the null page, below where
/// `vm_allocate` anywhere starts (its stack goes there). The bootstrap task
/// copies the bytes, so segments need not be page-aligned with the file.
const LAYOUT: Layout =
    Layout { lowest: PAGE, highest: 0x1_0000_0000, most_bytes: 256 << 20, page_size: PAGE, require_mappable: false };

/// The registers a program's thread starts with.
pub struct Entry {
    pub first_argument: u64,
    pub second_argument: u64,
    pub stack_pointer: u64,
}

#[derive(Debug)]
#[allow(dead_code)] // the reasons are read through Debug in the report
pub enum SpawnError {
    NotAnExecutable(ElfError),
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

/// Runs of pages with the same rights: `(start, end, protection)`, in
/// address order, covering every page a segment touches.
fn page_runs(image: &Image) -> Vec<(u64, u64, u32)> {
    let mut pages: BTreeMap<u64, u32> = BTreeMap::new();
    for segment in &image.segments {
        let mut protection = VM_PROT_READ;
        if segment.rights.write {
            protection |= VM_PROT_WRITE;
        }
        if segment.rights.execute {
            protection |= VM_PROT_EXECUTE;
        }
        let mut page = segment.first_page(PAGE);
        while page < segment.end_page(PAGE) {
            *pages.entry(page).or_default() |= protection;
            page += PAGE;
        }
    }
    let mut runs: Vec<(u64, u64, u32)> = Vec::new();
    for (page, protection) in pages {
        match runs.last_mut() {
            Some((_, end, rights)) if *end == page && *rights == protection => *end += PAGE,
            _ => runs.push((page, page + PAGE, protection)),
        }
    }
    runs
}

/// Builds a task running `image` and returns its task port's name.
/// `prepare` runs on the built task (and the top of its stack) before its
/// thread starts and returns the thread's registers.
pub fn start(
    image: &[u8],
    prepare: impl FnOnce(PortName, u64) -> Result<Entry, KernReturn>,
) -> Result<PortName, SpawnError> {
    let checked =
        mach_elf::parse(image, image.len() as u64, Machine::native(), &LAYOUT).map_err(SpawnError::NotAnExecutable)?;
    let task = task_create(task_self())?;
    let built = build(task, image, &checked, prepare);
    if built.is_err() {
        let _ = task_terminate(task);
    }
    built.map(|()| task)
}

fn build(
    task: PortName,
    image: &[u8],
    checked: &Image,
    prepare: impl FnOnce(PortName, u64) -> Result<Entry, KernReturn>,
) -> Result<(), SpawnError> {
    let runs = page_runs(checked);
    for &(start, end, _) in &runs {
        vm_allocate(task, start, end - start, VM_FLAGS_FIXED)?;
    }
    for segment in &checked.segments {
        // mach-elf checked the file bytes lie inside the image.
        let bytes = &image[segment.file_offset as usize..(segment.file_offset + segment.file_size) as usize];
        if !bytes.is_empty() {
            vm_write(task, segment.address, bytes)?;
        }
    }
    for &(start, end, protection) in &runs {
        vm_protect(task, start, end - start, false, protection)?;
    }
    let stack = vm_allocate(task, 0, STACK_SIZE, VM_FLAGS_ANYWHERE)?;
    let entry = prepare(task, stack + STACK_SIZE)?;
    let thread = thread_create(task)?;
    let started = set_entry(thread, checked.entry, &entry).and_then(|()| thread_resume(thread));
    // The task holds its thread; bootstrap needs no right to it.
    let _ = port_deallocate(task_self(), thread);
    started?;
    Ok(())
}
