//! `task_create` with `TASK_CREATE_INHERIT_MEMORY` (fork), private
//! copy-on-write mappings and kernel objects (anonymous shared memory),
//! checked from user mode. Prints `fork-checks: N passed, N failed`, then
//! forks a last child and ends itself: the child prints
//! `fork-checks child: ... done` after its parent is gone (the kernel test
//! checks that, and that everything is freed once the child ends too).
//!
//! Children run threads of this program's own code (they inherit its text):
//! `child_main` does the writes a `ChildWork` in its memory describes,
//! then sets `done`. The parent reads and writes their memory with
//! `vm_read` / `vm_write`.
//!
//! Argument bit 32: instead, the benchmarks (`bench fork_cow_copy_1mib`
//! and `bench fork_cow_copy_64mib`, then `bench fork done`; an empty
//! `task_create` is `ipc-bench`'s `task_create_empty`).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use libmach::abi::{
    vm_map_flags, KernReturn, PortName, Trap, TASK_BASIC_INFO, TASK_CREATE_INHERIT_MEMORY, VM_FLAGS_ANYWHERE,
    VM_INHERIT_COPY, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_PROT_ALL, VM_PROT_DEFAULT, VM_PROT_EXECUTE, VM_PROT_NONE,
    VM_PROT_READ,
};
use libmach::pager::{memory_object_create, vm_map_with};
use libmach::trap::{
    port_deallocate, raw_trap, task_create_with, task_self, task_terminate, thread_sleep, vm_allocate, vm_deallocate,
    vm_inherit, vm_protect, vm_read, vm_region, vm_write,
};
use mach_usertests::{println, read_u64_of, start_thread, sync_code, wait_for_value, Checks, RETURN_42};

libmach::entry!(main);

const PAGE: u64 = 4096;

/// What a child's thread does: the writes, then `done = 1`.
#[repr(C)]
struct ChildWork {
    writes: [(u64, u64); 4],
    count: u64,
    done: u64,
}

fn bytes_at(address: u64, length: usize) -> &'static mut [u8] {
    // SAFETY: callers pass memory this task allocated or mapped and keeps
    // mapped read-write while used here.
    unsafe { core::slice::from_raw_parts_mut(address as *mut u8, length) }
}

fn byte(address: u64) -> u8 {
    // SAFETY: as in `bytes_at`, read only.
    unsafe { core::ptr::read_volatile(address as *const u8) }
}

fn set_byte(address: u64, value: u8) {
    // SAFETY: as in `bytes_at`.
    unsafe { core::ptr::write_volatile(address as *mut u8, value) }
}

/// A child's thread: does its `ChildWork` (at `work` in its memory), then
/// waits to be terminated.
extern "C" fn child_main(work: u64) -> ! {
    // SAFETY: the parent wrote a `ChildWork` at `work` in this task's
    // memory (its own copy) before starting this thread.
    let work = unsafe { &mut *(work as *mut ChildWork) };
    for &(address, value) in &work.writes[..work.count.min(4) as usize] {
        set_byte(address, value as u8);
    }
    // SAFETY: `done` is a field of the work record above.
    unsafe { core::ptr::write_volatile(&raw mut work.done, 1) };
    libmach::runtime::park()
}

/// The byte at `address` in `task`.
fn byte_of(task: PortName, address: u64) -> Result<u8, KernReturn> {
    read_u64_of(task, address).map(|value| value as u8)
}

fn fork() -> Result<PortName, KernReturn> {
    task_create_with(task_self(), TASK_CREATE_INHERIT_MEMORY)
}

fn resident(task: PortName, address: u64) -> Result<u32, KernReturn> {
    vm_region(task, address).map(|(_, _, info)| info.resident_pages)
}

/// Runs `writes` in `child` by a thread of its own (its stack at
/// `stack_top`, the work record at `work`); true once it is done.
fn run_child(child: PortName, work: u64, stack_top: u64, writes: &[(u64, u8)]) -> bool {
    let mut record = ChildWork { writes: [(0, 0); 4], count: writes.len() as u64, done: 0 };
    for (slot, &(address, value)) in record.writes.iter_mut().zip(writes) {
        *slot = (address, value as u64);
    }
    // SAFETY: `ChildWork` is plain integers; viewing it as bytes is sound.
    let bytes =
        unsafe { core::slice::from_raw_parts(&raw const record as *const u8, core::mem::size_of::<ChildWork>()) };
    if vm_write(child, work, bytes).is_err() || start_thread(child, child_main, work, stack_top).is_err() {
        return false;
    }
    wait_for_value(child, work + core::mem::offset_of!(ChildWork, done) as u64, 1, 2000)
}

fn main(argument: u64) {
    if argument >> 32 & 1 == 1 {
        benchmarks();
        return;
    }
    let mut checks = Checks::new("fork-checks");
    let task = task_self();
    // Stacks and work records for children's threads: copied to each child.
    let stacks = vm_allocate(task, 0, 16 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    let work = stacks;
    let stack_top = stacks + 16 * PAGE;

    // VM_INHERIT_COPY (the default): 16 pages, 8 of them touched.
    let copied = vm_allocate(task, 0, 16 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    for page in 0..8 {
        bytes_at(copied + page * PAGE, PAGE as usize).fill(b'P');
    }
    // VM_INHERIT_SHARE: 8 pages, only the first touched before the fork.
    let shared = vm_allocate(task, 0, 8 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    checks.equal("share a region", vm_inherit(task, shared, 8 * PAGE, VM_INHERIT_SHARE), Ok(()));
    set_byte(shared, b'S');
    // A page parked by VM_PROT_NONE (its contents kept out of the tables).
    let parked = vm_allocate(task, 0, 2 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    set_byte(parked, b'K');
    checks.equal("park a page", vm_protect(task, parked, 2 * PAGE, false, VM_PROT_NONE), Ok(()));
    // VM_INHERIT_NONE.
    let absent = vm_allocate(task, 0, 2 * PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    set_byte(absent, b'N');
    checks.equal("keep a region from children", vm_inherit(task, absent, 2 * PAGE, VM_INHERIT_NONE), Ok(()));

    let child = fork();
    checks.equal("fork", child.is_ok(), true);
    let child = child.unwrap_or(0);

    // Copy-on-write: nothing copied, untouched pages untouched on both sides.
    checks.equal(
        "copied region: 8 pages shared, none added",
        (resident(task, copied), resident(child, copied)),
        (Ok(8), Ok(8)),
    );
    checks.equal(
        "the child's region is the parent's",
        vm_region(child, copied).map(|(start, size, info)| (start, size, info.protection, info.inheritance)),
        Ok((copied, 16 * PAGE, VM_PROT_DEFAULT, VM_INHERIT_COPY)),
    );
    checks.equal("the child sees the parent's page", byte_of(child, copied), Ok(b'P'));
    checks.equal("an untouched page reads zero in the child", byte_of(child, copied + 12 * PAGE), Ok(0));
    set_byte(copied, b'Q');
    checks.equal("a parent write after the fork is the parent's alone", byte_of(child, copied), Ok(b'P'));
    checks.equal("vm_write into the child", vm_write(child, copied + PAGE, b"C"), Ok(()));
    checks.equal("is the child's alone", (byte(copied + PAGE), byte_of(child, copied + PAGE)), (b'P', Ok(b'C')));
    let ran = run_child(
        child,
        work,
        stack_top,
        &[(copied + 2 * PAGE, b'c'), (copied + 9 * PAGE, b'u'), (shared + 2 * PAGE, b'U')],
    );
    checks.equal("a thread of the child writes", ran, true);
    checks.equal("the parent still has 8 pages there", resident(task, copied), Ok(8));
    checks.equal(
        "its copy-on-write write is its own",
        (byte(copied + 2 * PAGE), byte_of(child, copied + 2 * PAGE)),
        (b'P', Ok(b'c')),
    );
    checks.equal(
        "its write to a page untouched at the fork too",
        (byte(copied + 9 * PAGE), byte_of(child, copied + 9 * PAGE)),
        (0, Ok(b'u')),
    );

    // Shared: both see every page, even those untouched at the fork.
    checks.equal(
        "the shared region is shared in the child",
        vm_region(child, shared).map(|(start, _, info)| (start, info.inheritance)),
        Ok((shared, VM_INHERIT_SHARE)),
    );
    checks.equal("the child sees the shared page", byte_of(child, shared), Ok(b'S'));
    checks.equal("the child's write to an untouched shared page reaches the parent", byte(shared + 2 * PAGE), b'U');
    set_byte(shared + PAGE, b'T');
    checks.equal(
        "a parent write to an untouched shared page reaches the child",
        byte_of(child, shared + PAGE),
        Ok(b'T'),
    );
    checks.equal("vm_write into the child's shared page", vm_write(child, shared + 3 * PAGE, b"V"), Ok(()));
    checks.equal("reaches the parent", byte(shared + 3 * PAGE), b'V');

    // A parked page is shared copy-on-write too.
    checks.equal(
        "the child has the parked page, parked",
        vm_region(child, parked).map(|(_, _, info)| (info.protection, info.resident_pages)),
        Ok((VM_PROT_NONE, 1)),
    );
    checks.equal("the child unparks it", vm_protect(child, parked, 2 * PAGE, false, VM_PROT_DEFAULT), Ok(()));
    checks.equal("and finds its contents", byte_of(child, parked), Ok(b'K'));
    let _ = vm_protect(task, parked, 2 * PAGE, false, VM_PROT_DEFAULT);
    set_byte(parked, b'k');
    checks.equal("a parent write after unparking is its own", (byte(parked), byte_of(child, parked)), (b'k', Ok(b'K')));

    // VM_INHERIT_NONE: absent in the child.
    checks.equal("an uninherited region is absent", vm_read(child, absent, 8), Err(KernReturn::InvalidAddress));
    checks.equal(
        "and vm_region passes over it",
        vm_region(child, absent).map(|(start, _, _)| start != absent),
        Ok(true),
    );

    // A grandchild: forked from the child, by the parent (it holds the
    // child's port).
    let grandchild = task_create_with(child, TASK_CREATE_INHERIT_MEMORY);
    checks.equal("fork the child", grandchild.is_ok(), true);
    let grandchild = grandchild.unwrap_or(0);
    checks.equal(
        "the grandchild sees the child's memory",
        (byte_of(grandchild, copied), byte_of(grandchild, copied + PAGE), byte_of(grandchild, copied + 9 * PAGE)),
        (Ok(b'P'), Ok(b'C'), Ok(b'u')),
    );
    set_byte(shared + 4 * PAGE, b'W');
    checks.equal("a shared page reaches all three", byte_of(grandchild, shared + 4 * PAGE), Ok(b'W'));
    checks.equal("vm_write into the grandchild", vm_write(grandchild, copied + 5 * PAGE, b"G"), Ok(()));
    checks.equal(
        "is the grandchild's alone",
        (byte(copied + 5 * PAGE), byte_of(child, copied + 5 * PAGE), byte_of(grandchild, copied + 5 * PAGE)),
        (b'P', Ok(b'P'), Ok(b'G')),
    );
    checks.equal("the child ends first", task_terminate(child), Ok(()));
    checks.equal(
        "the grandchild keeps its pages",
        (byte_of(grandchild, copied + PAGE), byte_of(grandchild, shared + 2 * PAGE)),
        (Ok(b'C'), Ok(b'U')),
    );
    checks.equal("the grandchild ends", task_terminate(grandchild), Ok(()));
    let _ = port_deallocate(task, child);
    let _ = port_deallocate(task, grandchild);
    checks.equal("the parent keeps its shared pages", (byte(shared + 2 * PAGE), byte(shared + PAGE)), (b'U', b'T'));

    private_mappings(&mut checks, stacks, stack_top);
    checks.finish();

    // A last child outlives its parent: it checks its memory after this
    // task has ended and prints what it found.
    set_byte(copied, b'L');
    set_byte(shared, b'M');
    // The survivor finds the shared page's address in its own copy of this
    // task's data.
    SURVIVOR_SHARED.store(shared, Ordering::SeqCst);
    if let Ok(last) = fork() {
        let _ = start_thread(last, survivor, copied, stack_top);
    }
    println!("fork-checks: parent ending");
    let _ = task_terminate(task);
}

/// The shared page the last child reads after its parent ended.
static SURVIVOR_SHARED: AtomicU64 = AtomicU64::new(0);

/// Private (copy-on-write) mappings of a kernel object, and what a fork
/// makes of object mappings.
fn private_mappings(checks: &mut Checks, work: u64, stack_top: u64) {
    let task = task_self();
    let object = memory_object_create(0, 4 * PAGE);
    checks.equal("a kernel object (no pager)", object.is_ok(), true);
    let object = object.unwrap_or(0);
    let shared = vm_map_with(task, 0, 4 * PAGE, vm_map_flags(true, false, VM_PROT_DEFAULT), object, 0).unwrap_or(0);
    checks.equal("its pages come zero", byte(shared + 3 * PAGE), 0);
    set_byte(shared, b'O');
    let private = vm_map_with(task, 0, 4 * PAGE, vm_map_flags(true, true, VM_PROT_DEFAULT), object, 0);
    checks.equal("map it privately", private.is_ok(), true);
    let private = private.unwrap_or(0);
    checks.equal("a private mapping reads the object", byte(private), b'O');
    set_byte(private, b'p');
    checks.equal("a private write is the mapping's alone", (byte(private), byte(shared)), (b'p', b'O'));
    set_byte(shared + PAGE, b'X');
    checks.equal("an unwritten page still comes from the object", byte(private + PAGE), b'X');
    set_byte(private + PAGE, b'y');
    checks.equal("until the mapping writes it", (byte(private + PAGE), byte(shared + PAGE)), (b'y', b'X'));
    let second = vm_map_with(task, 0, 4 * PAGE, vm_map_flags(true, true, VM_PROT_DEFAULT), object, 0).unwrap_or(0);
    checks.equal("a second private mapping sees the object", (byte(second), byte(second + PAGE)), (b'O', b'X'));
    checks.equal(
        "a private write through vm_write",
        vm_write(task, second + 2 * PAGE, b"v").map(|()| (byte(second + 2 * PAGE), byte(shared + 2 * PAGE))),
        Ok((b'v', 0)),
    );
    checks.equal(
        "a private mapping cannot be shared",
        vm_inherit(task, private, 4 * PAGE, VM_INHERIT_SHARE),
        Err(KernReturn::InvalidArgument),
    );

    // Protections: read-only, read-execute, never write and execute.
    checks.equal(
        "write and execute refused",
        vm_map_with(task, 0, PAGE, vm_map_flags(true, true, VM_PROT_ALL), object, 0),
        Err(KernReturn::ProtectionFailure),
    );
    checks.equal(
        "unknown flags refused",
        vm_map_with(task, 0, PAGE, 1 << 20 | VM_FLAGS_ANYWHERE, object, 0),
        Err(KernReturn::InvalidArgument),
    );
    let read_only = vm_map_with(task, 0, PAGE, vm_map_flags(true, false, VM_PROT_READ), object, 0).unwrap_or(0);
    checks.equal(
        "read-only mapping",
        (byte(read_only), vm_region(task, read_only).map(|(_, _, info)| info.protection)),
        (b'O', Ok(VM_PROT_READ)),
    );
    checks.equal("cannot be written", vm_write(task, read_only, b"w"), Err(KernReturn::ProtectionFailure));
    // Code in the object (as exec maps text from a file), run through a
    // private read-execute mapping.
    bytes_at(shared + 3 * PAGE, RETURN_42.len()).copy_from_slice(&RETURN_42);
    let text = vm_map_with(task, 0, PAGE, vm_map_flags(true, true, VM_PROT_READ | VM_PROT_EXECUTE), object, 3 * PAGE);
    if let Ok(address) = text {
        sync_code(shared + 3 * PAGE, address);
    }
    checks.equal("map code read-execute", text.is_ok(), true);
    // SAFETY: the page holds exactly the function written above, mapped
    // read-execute.
    let function: extern "C" fn() -> u32 = unsafe { core::mem::transmute(text.unwrap_or(0) as usize) };
    checks.equal("run it", text.map(|_| function()), Ok(42));

    // A fork: the private mapping stays private (its copies shared
    // copy-on-write), the shared mapping with VM_INHERIT_SHARE stays shared.
    checks.equal("share the shared mapping", vm_inherit(task, shared, 4 * PAGE, VM_INHERIT_SHARE), Ok(()));
    let child = fork().unwrap_or(0);
    checks.equal("the child has the private copy", byte_of(child, private), Ok(b'p'));
    checks.equal("and the object's pages", byte_of(child, private + 3 * PAGE), Ok(RETURN_42[0]));
    set_byte(private, b'q');
    checks.equal("a parent write to its private page is its own", byte_of(child, private), Ok(b'p'));
    let ran = run_child(child, work, stack_top, &[(shared + 2 * PAGE, b'k'), (private + 2 * PAGE, b'r')]);
    checks.equal("a thread of the child writes both mappings", ran, true);
    // The parent's private page 2 was never written: it shows the object.
    checks.equal(
        "the shared write reaches the parent, the private one does not",
        (byte(shared + 2 * PAGE), byte(private + 2 * PAGE), byte_of(child, private + 2 * PAGE)),
        (b'k', b'k', Ok(b'r')),
    );
    checks.equal("end the child", task_terminate(child), Ok(()));
    let _ = port_deallocate(task, child);
    let basic = info_words(task);
    checks.equal("task_info counts every mapped page", basic[2] > 0, true);

    // Freed when the last mapping and the last right are gone (the kernel
    // test checks no object is left).
    for (address, size) in [(shared, 4), (private, 4), (second, 4), (read_only, 1), (text.unwrap_or(0), 1)] {
        let _ = vm_deallocate(task, address, size * PAGE);
    }
    checks.equal("give up the object's right", port_deallocate(task, object), Ok(()));
}

fn info_words(task: PortName) -> [u32; 6] {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most 6 words and the count, both ours.
    unsafe {
        raw_trap(
            Trap::TaskInfo as u64,
            [task as u64, TASK_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    words
}

/// The last child's thread: after its parent has ended, reads the copied
/// page (at `copied`) and the shared one, writes both, prints what it saw.
extern "C" fn survivor(copied: u64) -> ! {
    let _ = thread_sleep(100);
    let shared = SURVIVOR_SHARED.load(Ordering::SeqCst);
    let before = (byte(copied), byte(shared));
    set_byte(copied, b'Z');
    set_byte(shared, b'Y');
    println!(
        "fork-checks child: after the parent ended, copied {} then {}, shared {} then {}: done",
        before.0 as char,
        byte(copied) as char,
        before.1 as char,
        byte(shared) as char
    );
    libmach::runtime::park()
}

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
}

/// Forks this task with `megabytes` of anonymous memory written, and
/// prints the ticks the fork took.
fn bench_fork(region: u64, megabytes: u64) {
    for page in 0..megabytes * 256 {
        set_byte(region + page * PAGE, 1);
    }
    let start = ticks();
    let child = fork();
    let elapsed = ticks() - start;
    match child {
        Ok(child) => {
            println!("bench fork_cow_copy_{megabytes}mib {elapsed}");
            let _ = task_terminate(child);
            let _ = port_deallocate(task_self(), child);
        }
        Err(error) => println!("bench fork_cow_copy_{megabytes}mib failed: {error:?}"),
    }
}

fn benchmarks() {
    let task = task_self();
    match vm_allocate(task, 0, 64 << 20, VM_FLAGS_ANYWHERE) {
        Ok(region) => {
            bench_fork(region, 1);
            bench_fork(region, 64);
        }
        Err(error) => println!("bench fork: no 64 MiB: {error:?}"),
    }
    println!("bench fork done");
}
