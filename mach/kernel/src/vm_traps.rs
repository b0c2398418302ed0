//! The virtual-memory traps, on any task whose port the caller names:
//! `vm_allocate`, `vm_deallocate`, `vm_protect`, `vm_inherit`,
//! `vm_region`, `vm_read`, `vm_write`, `task_set_memory_limit`; and the
//! memory half of `task_create` with `TASK_CREATE_INHERIT_MEMORY`
//! ([`inherit_memory`]).
//!
//! Copies between tasks go a page at a time through a kernel buffer, from
//! frames the source maps readable to frames the destination maps
//! writable. Every page of both ranges is brought in first (zero fill,
//! copy-on-write, an object's page), so a range that is not allocated,
//! lacks the right protection, or has a page only a pager can bring fails
//! the whole trap before anything is written (and the trap layer waits for
//! such a page and runs the trap again).
#![forbid(unsafe_code)]

use crate::ipc::object::task_named;
use crate::ipc::port_traps::caller;
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer};
use crate::memory::PAGE_SIZE;
use crate::task::TaskId;
use crate::vm::{self, checked_range};
use mach_abi::{
    KernReturn, PortName, VM_FLAGS_ANYWHERE, VM_FLAGS_FIXED, VM_PROT_DEFAULT, VM_PROT_READ, VM_PROT_WRITE,
    VM_REGION_BASIC_INFO,
};

const PAGE: u64 = PAGE_SIZE as u64;
/// Largest `vm_read` / `vm_write` in one trap.
const COPY_LIMIT: u64 = 64 * 1024 * 1024;

/// The caller's task and the target task its `task` name refers to.
fn tasks(kernel: &Kernel, task: u64) -> Result<(TaskId, TaskId), KernReturn> {
    let caller = caller(kernel)?;
    let target =
        task_named(kernel, caller.space, u32::try_from(task).map_err(|_| KernReturn::InvalidName)? as PortName)?;
    Ok((caller.task, target))
}

fn write_output(kernel: &mut Kernel, task: TaskId, address: u64, bytes: &[u8]) -> Result<(), KernReturn> {
    let mut space = kernel.user_space(task)?;
    user::copy_to_user(&mut space, UserBuffer::new(address, bytes.len()), bytes)?;
    Ok(())
}

fn read_input(kernel: &mut Kernel, task: TaskId, address: u64, bytes: &mut [u8]) -> Result<(), KernReturn> {
    let mut space = kernel.user_space(task)?;
    user::copy_from_user(&mut space, UserBuffer::new(address, bytes.len()), bytes)?;
    Ok(())
}

fn check_output(kernel: &mut Kernel, task: TaskId, address: u64, length: usize) -> Result<(), KernReturn> {
    let mut space = kernel.user_space(task)?;
    user::check_writable(&mut space, UserBuffer::new(address, length))?;
    Ok(())
}

/// `vm_allocate(task, address_in_out, size, flags)`: zeroed, read-write.
pub fn vm_allocate([task, address_in_out, size, flags, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (caller, target) = tasks(kernel, task)?;
        let mut requested = [0u8; 8];
        read_input(kernel, caller, address_in_out, &mut requested)?;
        check_output(kernel, caller, address_in_out, 8)?;
        let requested = u64::from_le_bytes(requested);
        let size = size.checked_next_multiple_of(PAGE).ok_or(KernReturn::InvalidArgument)?;
        let object = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
        let start = match flags as u32 {
            VM_FLAGS_ANYWHERE => object.vm.find_space(size, requested).ok_or(KernReturn::NoSpace)?,
            VM_FLAGS_FIXED => requested,
            _ => return Err(KernReturn::InvalidArgument),
        };
        let (start, end) = checked_range(start, size)?;
        vm::allocate(&mut object.vm, start, end, VM_PROT_DEFAULT)?;
        write_output(kernel, caller, address_in_out, &start.to_le_bytes())
    })
}

/// The pages `[address, address + size)` touches, as Mach rounds a range:
/// from the page holding `address` to the end of the page holding its last
/// byte. (Rounding only the size from the page start missed the last page of
/// a range that starts inside a page: an out-of-line region received at its
/// sender's offset, freed with its address and size, left its last page
/// and region behind, one per message.)
fn pages_of(address: u64, size: u64) -> Result<(u64, u64), KernReturn> {
    let start = address & !(PAGE - 1);
    let length = match address.checked_add(size).and_then(|end| end.checked_next_multiple_of(PAGE)) {
        // An empty range stays empty (refused as before).
        Some(_) if size == 0 => 0,
        Some(end) => end - start,
        None => size.checked_next_multiple_of(PAGE).ok_or(KernReturn::InvalidArgument)?,
    };
    Ok(checked_range(start, length)?)
}

/// `vm_deallocate(task, address, size)`: frees whatever of the range is allocated.
pub fn vm_deallocate([task, address, size, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (_, target) = tasks(kernel, task)?;
        let (start, end) = pages_of(address, size)?;
        let object = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
        let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
        object.vm.deallocate(tables, start, end);
        crate::memory_object::release_unmapped_by(kernel, target);
        Ok(())
    })
}

/// `vm_protect(task, address, size, set_maximum, protection)`.
pub fn vm_protect([task, address, size, set_maximum, protection, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (_, target) = tasks(kernel, task)?;
        let (start, end) = pages_of(address, size)?;
        let protection = u32::try_from(protection).map_err(|_| KernReturn::InvalidArgument)?;
        let object = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
        let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
        object.vm.protect(tables, start, end, set_maximum != 0, protection)?;
        Ok(())
    })
}

/// `vm_inherit(task, address, size, inheritance)`.
pub fn vm_inherit([task, address, size, inheritance, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (_, target) = tasks(kernel, task)?;
        let (start, end) = pages_of(address, size)?;
        let inheritance = u32::try_from(inheritance).map_err(|_| KernReturn::InvalidArgument)?;
        let object = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
        object.vm.inherit(start, end, inheritance)?;
        Ok(())
    })
}

/// `vm_region(task, address_in_out, size_out, flavor, info_out, count_in_out)`:
/// the first region at or above the address.
pub fn vm_region([task, address_in_out, size_out, flavor, info_out, count_in_out]: [u64; 6]) -> Result<(), KernReturn> {
    if flavor != VM_REGION_BASIC_INFO as u64 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let (caller, target) = tasks(kernel, task)?;
        let mut address = [0u8; 8];
        read_input(kernel, caller, address_in_out, &mut address)?;
        let mut capacity = [0u8; 4];
        read_input(kernel, caller, count_in_out, &mut capacity)?;
        if u32::from_le_bytes(capacity) < mach_abi::VM_REGION_BASIC_INFO_COUNT {
            return Err(KernReturn::InvalidArgument);
        }
        for (output, length) in [(address_in_out, 8), (size_out, 8), (info_out, 16), (count_in_out, 4)] {
            check_output(kernel, caller, output, length)?;
        }
        let object = kernel.tasks.get(target).ok_or(KernReturn::InvalidTask)?;
        let (start, region) = object.vm.region_from(u64::from_le_bytes(address)).ok_or(KernReturn::InvalidAddress)?;
        let tables = object.page_tables.as_ref().ok_or(KernReturn::InvalidTask)?;
        let resident = object.vm.resident_pages(tables, start, region.end);
        let mut info = [0u8; 16];
        for (index, word) in [region.protection, region.max_protection, region.inheritance, resident].iter().enumerate()
        {
            info[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        write_output(kernel, caller, address_in_out, &start.to_le_bytes())?;
        write_output(kernel, caller, size_out, &(region.end - start).to_le_bytes())?;
        write_output(kernel, caller, info_out, &info)?;
        write_output(kernel, caller, count_in_out, &mach_abi::VM_REGION_BASIC_INFO_COUNT.to_le_bytes())
    })
}

/// Checks that `[address, address + length)` of `task` is allocated with
/// `access`, so a copy of it cannot fail half way.
fn check_access(kernel: &Kernel, task: TaskId, address: u64, length: u64, access: u32) -> Result<(), KernReturn> {
    let end = address.checked_add(length).ok_or(KernReturn::InvalidAddress)?;
    let object = kernel.tasks.get(task).ok_or(KernReturn::InvalidTask)?;
    let mut page = address & !(PAGE - 1);
    while page < end {
        let (_, region) = object.vm.region_at(page).ok_or(KernReturn::InvalidAddress)?;
        if access & !region.protection != 0 {
            return Err(KernReturn::ProtectionFailure);
        }
        page = region.end.min(end.next_multiple_of(PAGE));
    }
    Ok(())
}

/// Brings every page of `task`'s `[address, address + length)` in for
/// `access` (zero fill, copy-on-write, a private copy, an object's cached
/// page), so a copy of the range cannot fail half way. A page only a pager
/// can bring fails with `KERN_MEMORY_FAILURE`, remembered for the trap
/// layer to wait for.
fn bring_in(kernel: &mut Kernel, task: TaskId, address: u64, length: u64, access: u32) -> Result<(), KernReturn> {
    let end = address.checked_add(length).ok_or(KernReturn::InvalidAddress)?;
    let mut page = address & !(PAGE - 1);
    while page < end {
        let object = kernel.tasks.get_mut(task).ok_or(KernReturn::InvalidTask)?;
        let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
        match object.vm.touch(tables, page, access) {
            Ok(_) => page += PAGE,
            // A page its object answers for at once (cached, or a kernel
            // object's) comes now; one its pager must bring is waited for
            // by the trap layer.
            Err(vm::VmError::ObjectPage { object: id, offset, private }) => {
                if !crate::memory_object::answers_at_once(kernel, id, offset, access, private) {
                    object_of(kernel, task)?.vm.want_page(page, access);
                    return Err(KernReturn::MemoryFailure);
                }
                match crate::memory_object::fault(kernel, task, page, access, id, offset, private) {
                    crate::memory_object::ObjectFault::Resolved => {}
                    crate::memory_object::ObjectFault::Fail(error) => return Err(error),
                    crate::memory_object::ObjectFault::Wait => unreachable!("the object answers at once"),
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

fn object_of(kernel: &mut Kernel, task: TaskId) -> Result<&mut crate::task::Task, KernReturn> {
    kernel.tasks.get_mut(task).ok_or(KernReturn::InvalidTask)
}

/// Copies `length` bytes from `source` (at `from`) to `destination` (at
/// `to`), a page-sized piece at a time, both ranges brought in beforehand.
fn copy_between(
    kernel: &mut Kernel,
    source: TaskId,
    from: u64,
    destination: TaskId,
    to: u64,
    length: u64,
) -> Result<(), KernReturn> {
    let mut buffer = [0u8; PAGE_SIZE];
    let mut done = 0u64;
    while done < length {
        let piece = (length - done).min(PAGE - (from + done) % PAGE).min(PAGE - (to + done) % PAGE) as usize;
        {
            let object = kernel.tasks.get_mut(source).ok_or(KernReturn::InvalidTask)?;
            let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
            let frame = object.vm.touch_for_kernel(tables, (from + done) & !(PAGE - 1), VM_PROT_READ)?;
            frame.read(((from + done) % PAGE) as usize, &mut buffer[..piece]);
        }
        {
            let object = kernel.tasks.get_mut(destination).ok_or(KernReturn::InvalidTask)?;
            let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
            let frame = object.vm.touch_for_kernel(tables, (to + done) & !(PAGE - 1), VM_PROT_WRITE)?;
            frame.write(((to + done) % PAGE) as usize, &buffer[..piece]);
        }
        done += piece as u64;
    }
    Ok(())
}

/// `vm_write(task, address, data, count)`: copies `count` bytes from the
/// caller's `data` into `task` at `address`, which must be writable.
pub fn vm_write([task, address, data, count, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if count > COPY_LIMIT {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let (caller, target) = tasks(kernel, task)?;
        check_access(kernel, caller, data, count, VM_PROT_READ)?;
        check_access(kernel, target, address, count, VM_PROT_WRITE)?;
        bring_in(kernel, caller, data, count, VM_PROT_READ)?;
        bring_in(kernel, target, address, count, VM_PROT_WRITE)?;
        copy_between(kernel, caller, data, target, address, count)
    })
}

/// `vm_read(task, address, size, data_out, count_out)`: copies the range
/// into new memory of the caller and returns its address and size.
pub fn vm_read([task, address, size, data_out, count_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if size > COPY_LIMIT || size == 0 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let (caller, target) = tasks(kernel, task)?;
        check_output(kernel, caller, data_out, 8)?;
        check_output(kernel, caller, count_out, 4)?;
        check_access(kernel, target, address, size, VM_PROT_READ)?;
        bring_in(kernel, target, address, size, VM_PROT_READ)?;
        let pages = size.next_multiple_of(PAGE);
        let object = kernel.tasks.get_mut(caller).ok_or(KernReturn::InvalidTask)?;
        let start = object.vm.find_space(pages, 0).ok_or(KernReturn::NoSpace)?;
        vm::allocate(&mut object.vm, start, start + pages, VM_PROT_DEFAULT).map_err(KernReturn::from)?;
        if let Err(error) = copy_between(kernel, target, address, caller, start, size) {
            let object = kernel.tasks.get_mut(caller).ok_or(KernReturn::InvalidTask)?;
            let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
            object.vm.deallocate(tables, start, start + pages);
            return Err(error);
        }
        write_output(kernel, caller, data_out, &start.to_le_bytes())?;
        write_output(kernel, caller, count_out, &(size as u32).to_le_bytes())
    })
}

/// `task_set_memory_limit(host, task, pages)`: with a send right to the
/// privileged host port, sets the most pages `task` may be charged for
/// (its own memory, the objects it created and their caches, its page
/// tables and kernel stacks). What it holds already stays; later charges
/// past the limit fail (a fault becomes `EXC_BAD_ACCESS` with
/// `KERN_RESOURCE_SHORTAGE`, a kernel copy returns it). The default is
/// half of RAM; a child made with `TASK_CREATE_INHERIT_MEMORY` starts with
/// its parent's limit.
pub fn task_set_memory_limit([host, task, pages, ..]: [u64; 6]) -> Result<(), KernReturn> {
    let pages = usize::try_from(pages).map_err(|_| KernReturn::InvalidArgument)?;
    if pages == 0 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let host = u32::try_from(host).map_err(|_| KernReturn::InvalidHost)?;
        let port = kernel.ipc.port_of(caller.space, host).map_err(|_| KernReturn::InvalidHost)?;
        let tag = kernel.ipc.port(port).map_or(0, |port| port.kernel_object());
        if crate::ipc::object::KernelObjectRef::from_tag(tag)
            != Some(crate::ipc::object::KernelObjectRef::Host { privileged: true })
        {
            return Err(KernReturn::InvalidHost);
        }
        let (_, target) = tasks(kernel, task)?;
        kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?.vm.set_limit(pages);
        Ok(())
    })
}

/// The memory half of `task_create(parent, TASK_CREATE_INHERIT_MEMORY, ..)`:
/// builds the new, empty `child`'s address space from `parent`'s, region by
/// region, by inheritance (`VmMap::fork_into`). Anonymous regions the
/// parent shares become kernel objects first, so parent and child see the
/// same pages, even those neither has touched yet. On an error the caller
/// destroys the child, which gives back everything it took.
pub fn inherit_memory(kernel: &mut Kernel, parent: TaskId, child: TaskId) -> Result<(), KernReturn> {
    let shared = kernel.tasks.get(parent).ok_or(KernReturn::InvalidTask)?.vm.anonymous_shared_regions();
    for (start, size) in shared {
        crate::memory_object::share_anonymous_region(kernel, parent, start, size)?;
    }
    let child_object = kernel.tasks.get_mut(child).ok_or(KernReturn::InvalidTask)?;
    let mut child_vm = core::mem::take(&mut child_object.vm);
    let mut child_tables = child_object.page_tables.take().ok_or(KernReturn::InvalidTask)?;
    let result = match kernel.tasks.get_mut(parent).and_then(|task| Some((&mut task.vm, task.page_tables.as_mut()?))) {
        Some((vm, tables)) => vm.fork_into(tables, &mut child_vm, &mut child_tables).map_err(KernReturn::from),
        None => Err(KernReturn::InvalidTask),
    };
    let child_object = kernel.tasks.get_mut(child).expect("the child exists: nothing ran since it was taken");
    child_object.vm = child_vm;
    child_object.page_tables = Some(child_tables);
    result
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::arch::paging::PageTables;
    use crate::ktest::Failure;
    use crate::memory::{frame, heap, share};
    use crate::{ensure, ensure_eq, ktest};

    /// What a fork of a task with `pages` pages of anonymous memory written
    /// took: (frames besides the child's page tables and kernel heap
    /// growth, the child's page-table frames, heap growth in bytes).
    fn fork_frames(pages: u64) -> Result<(usize, usize, usize), Failure> {
        let parent_tables = PageTables::new_user().map_err(|_| "no page tables")?;
        let child_tables = PageTables::new_user().map_err(|_| "no page tables")?;
        with_kernel(|kernel| -> Result<(usize, usize, usize), Failure> {
            let parent = kernel.create_task("fork-frames", parent_tables)?;
            let child = kernel.create_task("fork-frames", child_tables)?;
            let object = kernel.tasks.get_mut(parent).ok_or("no parent")?;
            let tables = object.page_tables.as_mut().ok_or("no tables")?;
            object.vm.set_limit(frame::statistics().usable);
            let start = object.vm.find_space(pages * PAGE, 0).ok_or("no space")?;
            vm::allocate(&mut object.vm, start, start + pages * PAGE, VM_PROT_DEFAULT).map_err(|_| "allocate")?;
            for page in 0..pages {
                object.vm.touch(tables, start + page * PAGE, VM_PROT_WRITE).map_err(|_| "touch")?;
            }
            let (frames_before, heap_before) = (heap::frames_free_counting_the_heap(), heap::usage().1);
            inherit_memory(kernel, parent, child)?;
            let (frames_after, heap_after) = (heap::frames_free_counting_the_heap(), heap::usage().1);
            let child_object = kernel.tasks.get(child).ok_or("no child")?;
            let child_tables = child_object.page_tables.as_ref().ok_or("no child tables")?.table_pages();
            ensure_eq!(child_object.vm.resident(), pages as usize);
            let parent_object = kernel.tasks.get(parent).ok_or("no parent")?;
            let tables = parent_object.page_tables.as_ref().ok_or("no tables")?;
            for (page, frame, flags) in tables.mapped_entries_in(start, start + pages * PAGE) {
                ensure!(share::owners(frame) == 2, "page {page:#x} has {} owners", share::owners(frame));
                ensure!(!flags.contains(crate::memory::PageFlags::WRITABLE), "page {page:#x} still writable");
            }
            let heap_growth = heap_after.saturating_sub(heap_before);
            let taken = frames_before - frames_after;
            kernel.terminate_task(child);
            kernel.terminate_task(parent);
            Ok((taken - child_tables, child_tables, heap_growth))
        })
    }

    ktest! {
        fn a_fork_allocates_no_frame_but_the_childs_page_tables() {
            // 1 MiB and 64 MiB resident (8 MiB where RAM is too small).
            let big = if frame::statistics().free > 16384 + 8192 { 16384 } else { 2048 };
            fork_frames(256)?;
            // Frames other tests hold back (a dead driver's DMA memory in
            // quarantine) may come free meanwhile: they count as free.
            let free = || heap::frames_free_counting_the_heap() + with_kernel(|kernel| crate::device::quarantined_frames(kernel));
            let before = (free(), share::shared_frame_count());
            let small = fork_frames(256)?;
            let large = fork_frames(big)?;
            ensure_eq!((small.0, large.0), (0, 0));
            crate::println!(
                "fork of {} KiB: {} page-table frames, heap +{} bytes; of {} KiB: {} page-table frames, heap +{} bytes",
                256 * 4, small.1, small.2, big * 4, large.1, large.2
            );
            ensure!(share::shared_frame_count() <= before.1, "shared frames left behind");
            ensure_eq!(free(), before.0);
            Ok(())
        }
    }
}
