//! Memory objects: ranges of pages whose contents a user-level pager
//! supplies, mapped into tasks' address spaces by `vm_map`.
//!
//! An object is a kernel object with a port (tagged `MemoryObject`); a send
//! right to that port is the authority both to map the object and to answer
//! for it (supply, lock, destroy): the pager that created it holds one and
//! may hand others out. The kernel keeps a send right to the pager's port.
//!
//! The kernel caches the object's pages. A fault on a page not in the cache
//! sends the pager `memory_object_data_request` (`mach_abi::pager`) once,
//! and every thread touching that page waits until the pager answers with
//! data (copied into a fresh frame: the pager keeps its buffer), zero fill,
//! or an error. A cached page is shared by every mapping (the frame has one
//! owner for the cache and one per mapping, `memory::share`). The pager may
//! write-lock pages; a write to one sends `memory_object_data_unlock` and
//! waits for `memory_object_lock_request` to lift the lock. Copy-on-write
//! between two objects is built from that by the pager (docs/vm.md).
//!
//! Resources: an object and its cached pages are charged to the task that
//! created it (one page for the object itself), so they are bounded by that
//! task's limit, and they die with it.

use crate::arena::{Arena, Id};
use crate::ipc::object::{memory_object_named, KernelObjectRef};
use crate::ipc::port_traps::{caller, give_send_right};
use crate::memory::user::{self, UserBuffer};
use crate::memory::{frame, share, Frame, PAGE_SIZE};
use crate::scheduler::{with_kernel, Kernel};
use crate::task::TaskId;
use crate::thread::ThreadId;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use mach_abi::{
    KernReturn, PagerRequestBody, PortName, MEMORY_OBJECT_DATA_REQUEST_ID, MEMORY_OBJECT_DATA_UNLOCK_ID,
    MEMORY_OBJECT_FLUSH, MEMORY_OBJECT_RETURN_ALL, MEMORY_OBJECT_SIZE_MAX, VM_PROT_NONE, VM_PROT_WRITE,
};
use mach_ipc::{CarriedRight, PortId};

const PAGE: u64 = PAGE_SIZE as u64;

pub type ObjectId = Id<MemoryObject>;

/// One page of an object as the cache knows it.
#[derive(Clone, Copy, Debug)]
enum CachedPage {
    Resident {
        frame: Frame,
        write_locked: bool,
    },
    /// The pager answered with an error: touching the page raises an exception.
    Error,
}

pub struct MemoryObject {
    /// Charged for the object and its cached pages; the object dies with it.
    owner: TaskId,
    port: PortId,
    pager: CarriedRight,
    size: u64,
    pages: BTreeMap<u64, CachedPage>,
    /// Offsets asked of the pager (data or unlock) and not yet answered.
    requested: BTreeSet<u64>,
    /// Threads waiting for a page, by offset.
    waiters: BTreeMap<u64, Vec<ThreadId>>,
}

/// What a fault on an object page comes to.
pub enum ObjectFault {
    /// The page is mapped now (with the access asked for): retry.
    Resolved,
    /// The pager was asked; the thread is marked blocked (finish the block).
    Wait,
    /// No such object any more, its pager is gone, or it answered an error.
    Fail,
}

/// Every memory object.
pub struct Objects {
    arena: Arena<MemoryObject>,
    /// Objects with threads waiting on their pager (checked after IPC
    /// changes for a pager that died: empty almost always).
    awaiting_pager: BTreeSet<ObjectId>,
}

impl Default for Objects {
    fn default() -> Self {
        Self { arena: Arena::new(), awaiting_pager: BTreeSet::new() }
    }
}

impl Objects {
    pub fn get(&self, object: ObjectId) -> Option<&MemoryObject> {
        self.arena.get(object)
    }

    pub fn len(&self) -> usize {
        self.arena.len()
    }

    /// The objects `task` created.
    fn owned_by(&self, task: TaskId) -> Vec<ObjectId> {
        self.arena.iter().filter(|(_, object)| object.owner == task).map(|(id, _)| id).collect()
    }
}

/// The fault of the current thread on `page` (of its task) wanting
/// `access`, where the VM map said the page is `offset` of `object`.
pub fn fault(kernel: &mut Kernel, task: TaskId, page: u64, access: u32, object: ObjectId, offset: u64) -> ObjectFault {
    let Some(cached) = kernel.objects.arena.get(object).map(|object| object.pages.get(&offset).copied()) else {
        return ObjectFault::Fail;
    };
    match cached {
        Some(CachedPage::Error) => ObjectFault::Fail,
        Some(CachedPage::Resident { write_locked: true, .. }) if access & VM_PROT_WRITE != 0 => {
            ask_pager(kernel, object, offset, MEMORY_OBJECT_DATA_UNLOCK_ID, access)
        }
        Some(CachedPage::Resident { frame, write_locked }) => {
            let Some(target) = kernel.tasks.get_mut(task) else { return ObjectFault::Fail };
            let Some(tables) = target.page_tables.as_mut() else { return ObjectFault::Fail };
            let result = if tables.translate(page).is_some() {
                target.vm.allow_write(tables, page)
            } else {
                target.vm.map_shared(tables, page, frame, !write_locked)
            };
            match result {
                Ok(()) => ObjectFault::Resolved,
                Err(_) => ObjectFault::Fail,
            }
        }
        None => ask_pager(kernel, object, offset, MEMORY_OBJECT_DATA_REQUEST_ID, access),
    }
}

/// Sends the pager a request about `offset` (unless one is outstanding)
/// and queues the current thread for the answer.
fn ask_pager(kernel: &mut Kernel, id: ObjectId, offset: u64, message_id: i32, access: u32) -> ObjectFault {
    let thread = kernel.current_thread();
    let Some(object) = kernel.objects.arena.get_mut(id) else { return ObjectFault::Fail };
    if !object.requested.contains(&offset) {
        let (port, pager) = (object.port, object.pager.port().map(|(port, _)| port));
        let Some(pager) = pager else { return ObjectFault::Fail };
        if !send_request(kernel, pager, port, message_id, offset, access) {
            return ObjectFault::Fail;
        }
    }
    let Some(object) = kernel.objects.arena.get_mut(id) else { return ObjectFault::Fail };
    object.requested.insert(offset);
    object.waiters.entry(offset).or_default().push(thread);
    kernel.objects.awaiting_pager.insert(id);
    kernel.prepare_block(None, None);
    ObjectFault::Wait
}

/// Sends `message_id` with a send right to the object's `port` and a
/// `PagerRequestBody`. False if the pager's port is dead.
fn send_request(kernel: &mut Kernel, pager: PortId, port: PortId, message_id: i32, offset: u64, access: u32) -> bool {
    let rights = (kernel.ipc.make_send(pager), kernel.ipc.make_send(port));
    let (Ok(destination), Ok(object_right)) = rights else {
        for right in [rights.0, rights.1].into_iter().flatten() {
            kernel.ipc.release(right);
        }
        return false;
    };
    let body = PagerRequestBody { offset, length: PAGE, access, _reserved: 0 };
    let message = mach_ipc::KernelMessage::from_kernel_with_ports(
        destination,
        message_id,
        None,
        alloc::vec![object_right],
        body.to_bytes().to_vec(),
    )
    .expect("a pager request is far below the size limit");
    let sent = match kernel.ipc.send_kernel_message(message) {
        Some(outcome) => {
            crate::ipc::deliver_outcome(kernel, outcome);
            true
        }
        None => false,
    };
    crate::ipc::settle(kernel);
    sent
}

/// Wakes every thread waiting on a page of `[start, end)` of `object`.
fn wake_waiters(kernel: &mut Kernel, id: ObjectId, start: u64, end: u64) {
    let Some(object) = kernel.objects.arena.get_mut(id) else { return };
    let offsets: Vec<u64> = object.waiters.range(start..end).map(|(&offset, _)| offset).collect();
    let mut threads = Vec::new();
    for offset in offsets {
        object.requested.remove(&offset);
        threads.extend(object.waiters.remove(&offset).unwrap_or_default());
    }
    object.requested.retain(|&offset| !(start..end).contains(&offset));
    if object.waiters.is_empty() {
        kernel.objects.awaiting_pager.remove(&id);
    }
    for thread in threads {
        kernel.wake(thread, crate::thread::WaitResult::Woken);
    }
}

/// Applies `change` to every page of the object's `[start, end)` that a
/// map holds (mapped or parked), in every task: `(map, tables, page)`.
fn for_each_mapping(
    kernel: &mut Kernel,
    id: ObjectId,
    start: u64,
    end: u64,
    mut change: impl FnMut(&mut crate::vm::VmMap, &mut crate::arch::paging::PageTables, u64),
) {
    for (_, task) in kernel.tasks.iter_mut() {
        let Some(tables) = task.page_tables.as_mut() else { continue };
        let mapped: Vec<(u64, u64)> = task
            .vm
            .regions()
            .filter_map(|(region_start, region)| match region.backing {
                crate::vm::Backing::Object { object, offset } if object == id => {
                    let first = offset.max(start);
                    let last = (offset + (region.end - region_start)).min(end);
                    (first < last).then_some((region_start + (first - offset), region_start + (last - offset)))
                }
                _ => None,
            })
            .collect();
        for (first, last) in mapped {
            for page in task.vm.present_in(tables, first, last) {
                change(&mut task.vm, tables, page);
            }
        }
    }
}

/// Removes the cached page at `offset` from every mapping and the cache.
fn flush_page(kernel: &mut Kernel, id: ObjectId, offset: u64) {
    for_each_mapping(kernel, id, offset, offset + PAGE, |vm, tables, page| vm.evict(tables, page));
    let Some(object) = kernel.objects.arena.get_mut(id) else { return };
    let owner = object.owner;
    if let Some(CachedPage::Resident { frame, .. }) = object.pages.remove(&offset) {
        share::release(frame);
        uncharge(kernel, owner, 1);
    }
}

/// Destroys `id`: its pages leave every mapping, waiting threads wake (and
/// fault again, finding no object: an exception), its port dies.
pub fn destroy(kernel: &mut Kernel, id: ObjectId) {
    let Some(object) = kernel.objects.arena.get(id) else { return };
    let offsets: Vec<u64> = object.pages.keys().copied().collect();
    for offset in offsets {
        flush_page(kernel, id, offset);
    }
    wake_waiters(kernel, id, 0, u64::MAX);
    let Some(object) = kernel.objects.arena.remove(id) else { return };
    kernel.ipc.release(object.pager);
    let _ = kernel.ipc.destroy_kernel_port(object.port);
    uncharge(kernel, object.owner, 1);
    crate::ipc::settle(kernel);
}

/// Wakes the threads waiting on a pager whose port has died (its task
/// ended, or it destroyed the port): they fault again, the request cannot
/// be sent, and they take an exception instead of waiting for ever. Cheap
/// when no thread waits on any pager, which is almost always.
pub fn wake_orphans(kernel: &mut Kernel) {
    if kernel.objects.awaiting_pager.is_empty() {
        return;
    }
    let orphaned: Vec<ObjectId> = kernel
        .objects
        .awaiting_pager
        .iter()
        .copied()
        .filter(|&id| {
            let pager = kernel.objects.arena.get(id).and_then(|object| object.pager.port()).map(|(port, _)| port);
            !pager.and_then(|port| kernel.ipc.port(port)).is_some_and(|port| port.is_alive())
        })
        .collect();
    for id in orphaned {
        wake_waiters(kernel, id, 0, u64::MAX);
        kernel.objects.awaiting_pager.remove(&id);
    }
}

/// Destroys every object `task` created (it is terminating).
pub fn destroy_owned_by(kernel: &mut Kernel, task: TaskId) {
    for id in kernel.objects.owned_by(task) {
        destroy(kernel, id);
    }
}

/// The traps' common check: the caller names an object; `[offset, offset +
/// size)` is a non-empty page-aligned part of it.
fn object_range(kernel: &Kernel, object: u64, offset: u64, size: u64) -> Result<(TaskId, ObjectId), KernReturn> {
    let caller = caller(kernel)?;
    let id =
        memory_object_named(kernel, caller.space, PortName::try_from(object).map_err(|_| KernReturn::InvalidName)?)?;
    let end = offset.checked_add(size).ok_or(KernReturn::InvalidArgument)?;
    let object_size = kernel.objects.arena.get(id).map(|object| object.size).ok_or(KernReturn::InvalidArgument)?;
    if size == 0 || !offset.is_multiple_of(PAGE) || !size.is_multiple_of(PAGE) || end > object_size {
        return Err(KernReturn::InvalidArgument);
    }
    Ok((caller.task, id))
}

/// `memory_object_create(pager, size, object_out)`: a new object of `size`
/// bytes whose pages the port `pager` (a send or receive right of the
/// caller) supplies; the caller gets a send right to the object's port.
pub fn memory_object_create([pager, size, object_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if size == 0 || !size.is_multiple_of(PAGE) || size > MEMORY_OBJECT_SIZE_MAX {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let mut space = kernel.user_space(caller.task)?;
        user::check_writable(&mut space, UserBuffer::new(object_out, 4))?;
        space.vm.charge_held(space.tables, 1).map_err(|_| KernReturn::ResourceShortage)?;
        let pager = PortName::try_from(pager).map_err(|_| KernReturn::InvalidName)?;
        let pager = match kernel.ipc.extract_right(caller.space, pager, mach_abi::Disposition::CopySend as u32) {
            Ok((right, _)) => Ok(right),
            Err(_) => kernel
                .ipc
                .extract_right(caller.space, pager, mach_abi::Disposition::MakeSend as u32)
                .map(|(right, _)| right),
        };
        let pager = match pager {
            Ok(pager) => pager,
            Err(error) => {
                uncharge(kernel, caller.task, 1);
                return Err(error);
            }
        };
        let port = kernel.ipc.allocate_kernel_port(0);
        let object = MemoryObject {
            owner: caller.task,
            port,
            pager,
            size,
            pages: BTreeMap::new(),
            requested: BTreeSet::new(),
            waiters: BTreeMap::new(),
        };
        let id = kernel.objects.arena.insert(object);
        kernel.ipc.set_kernel_object(port, KernelObjectRef::MemoryObject(id).tag())?;
        let name = match give_send_right(kernel, caller.space, port) {
            Ok(name) => name,
            Err(error) => {
                destroy(kernel, id);
                return Err(error);
            }
        };
        let mut space = kernel.user_space(caller.task)?;
        user::write_u32(&mut space, object_out, name)?;
        Ok(())
    })
}

/// Gives back pages charged to `task` for its objects (if it still exists).
fn uncharge(kernel: &mut Kernel, task: TaskId, pages: usize) {
    if let Some(task) = kernel.tasks.get_mut(task) {
        task.vm.uncharge_held(pages);
    }
}

/// `vm_map(task, address_in_out, size, flags, object, offset)`: maps
/// `[offset, offset + size)` of the object into `task` as a read-write
/// region (anywhere, or at `*address` with `VM_FLAGS_FIXED`).
pub fn vm_map([task, address_in_out, size, flags, object, offset]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (caller, id) = object_range(kernel, object, offset, size)?;
        let space = kernel.tasks.get(caller).ok_or(KernReturn::InvalidTask)?.space;
        let target =
            crate::ipc::object::task_named(kernel, space, u32::try_from(task).map_err(|_| KernReturn::InvalidName)?)?;
        let mut own = kernel.user_space(caller)?;
        let mut requested = [0u8; 8];
        user::copy_from_user(&mut own, UserBuffer::new(address_in_out, 8), &mut requested)?;
        user::check_writable(&mut own, UserBuffer::new(address_in_out, 8))?;
        let requested = u64::from_le_bytes(requested);
        let map = &mut kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?.vm;
        let start = match flags as u32 {
            mach_abi::VM_FLAGS_ANYWHERE => map.find_space(size, requested).ok_or(KernReturn::NoSpace)?,
            mach_abi::VM_FLAGS_FIXED => requested,
            _ => return Err(KernReturn::InvalidArgument),
        };
        let (start, end) = crate::vm::checked_range(start, size)?;
        let backing = crate::vm::Backing::Object { object: id, offset };
        // Read-write now; may become read-execute (text mapped from a file).
        map.insert_backed(start, end, mach_abi::VM_PROT_DEFAULT, mach_abi::VM_PROT_ALL, backing)?;
        let mut own = kernel.user_space(caller)?;
        user::copy_to_user(&mut own, UserBuffer::new(address_in_out, 8), &start.to_le_bytes())?;
        Ok(())
    })
}

/// Puts pages into the cache at `[offset, offset + pages)`, filled by
/// `fill(index, page bytes)`; pages already resident are left as they are
/// (as Mach does). Charged to the object's owner.
fn supply_pages(
    kernel: &mut Kernel,
    id: ObjectId,
    offset: u64,
    size: u64,
    write_locked: bool,
    mut fill: impl FnMut(&mut Kernel, u64, &mut [u8]) -> Result<(), KernReturn>,
) -> Result<(), KernReturn> {
    let owner = kernel.objects.arena.get(id).ok_or(KernReturn::InvalidArgument)?.owner;
    for index in 0..size / PAGE {
        let page_offset = offset + index * PAGE;
        let resident = matches!(
            kernel.objects.arena.get(id).and_then(|object| object.pages.get(&page_offset)),
            Some(CachedPage::Resident { .. })
        );
        if resident {
            continue;
        }
        if !crate::memory::can_spare(PAGE_SIZE) {
            return Err(KernReturn::ResourceShortage);
        }
        let owner_task = kernel.tasks.get_mut(owner).ok_or(KernReturn::InvalidTask)?;
        let owner_tables = owner_task.page_tables.as_ref().ok_or(KernReturn::InvalidTask)?;
        owner_task.vm.charge_held(owner_tables, 1).map_err(|_| KernReturn::ResourceShortage)?;
        let Ok(frame) = frame::allocate() else {
            uncharge(kernel, owner, 1);
            return Err(KernReturn::ResourceShortage);
        };
        // SAFETY: the frame was just allocated: nothing else reaches it.
        let bytes = unsafe { core::slice::from_raw_parts_mut(frame.kernel_pointer(), PAGE_SIZE) };
        if let Err(error) = fill(kernel, index, bytes) {
            let _ = frame::free(frame);
            uncharge(kernel, owner, 1);
            return Err(error);
        }
        let object = kernel.objects.arena.get_mut(id).ok_or(KernReturn::InvalidArgument)?;
        object.pages.insert(page_offset, CachedPage::Resident { frame, write_locked });
    }
    Ok(())
}

/// `memory_object_data_supply(object, offset, data, size, lock)`: the
/// pager's answer with the pages' contents, copied from its `data`; `lock`
/// `VM_PROT_WRITE` supplies them write-locked.
pub fn memory_object_data_supply([object, offset, data, size, lock, ..]: [u64; 6]) -> Result<(), KernReturn> {
    let write_locked = lock_value(lock)?;
    with_kernel(|kernel| {
        let (caller, id) = object_range(kernel, object, offset, size)?;
        // Check the whole source first, so a bad buffer supplies nothing.
        user::check_readable(&mut kernel.user_space(caller)?, UserBuffer::new(data, size as usize))?;
        let result = supply_pages(kernel, id, offset, size, write_locked, |kernel, index, bytes| {
            let mut space = kernel.user_space(caller)?;
            user::copy_from_user(&mut space, UserBuffer::new(data + index * PAGE, PAGE_SIZE), bytes)?;
            Ok(())
        });
        wake_waiters(kernel, id, offset, offset + size);
        result
    })
}

/// `memory_object_data_unavailable(object, offset, size)`: zero-filled pages.
pub fn memory_object_data_unavailable([object, offset, size, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (_, id) = object_range(kernel, object, offset, size)?;
        let result = supply_pages(kernel, id, offset, size, false, |_, _, bytes| {
            bytes.fill(0);
            Ok(())
        });
        wake_waiters(kernel, id, offset, offset + size);
        result
    })
}

/// `memory_object_data_error(object, offset, size, error)`: the pages
/// cannot be had; threads touching them take an `EXC_BAD_ACCESS` exception
/// (until the pager supplies them after all).
pub fn memory_object_data_error([object, offset, size, _error, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (_, id) = object_range(kernel, object, offset, size)?;
        let object = kernel.objects.arena.get_mut(id).ok_or(KernReturn::InvalidArgument)?;
        for page_offset in (offset..offset + size).step_by(PAGE_SIZE) {
            object.pages.entry(page_offset).or_insert(CachedPage::Error);
        }
        wake_waiters(kernel, id, offset, offset + size);
        Ok(())
    })
}

fn lock_value(lock: u64) -> Result<bool, KernReturn> {
    match u32::try_from(lock) {
        Ok(VM_PROT_NONE) => Ok(false),
        Ok(VM_PROT_WRITE) => Ok(true),
        _ => Err(KernReturn::InvalidArgument),
    }
}

/// `memory_object_lock_request(object, offset, size, lock, flags,
/// return_buffer)`: sets the write lock of the range's resident pages
/// (`VM_PROT_WRITE` locks, `VM_PROT_NONE` unlocks and answers waiting
/// unlock requests); `MEMORY_OBJECT_RETURN_ALL` first copies every resident
/// page into `return_buffer` at its offset from `offset`;
/// `MEMORY_OBJECT_FLUSH` then drops the pages from memory.
pub fn memory_object_lock_request(
    [object, offset, size, lock, flags, return_buffer]: [u64; 6],
) -> Result<(), KernReturn> {
    let write_locked = lock_value(lock)?;
    let flags = u32::try_from(flags).map_err(|_| KernReturn::InvalidArgument)?;
    if flags & !(MEMORY_OBJECT_RETURN_ALL | MEMORY_OBJECT_FLUSH) != 0 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let (caller, id) = object_range(kernel, object, offset, size)?;
        let resident: Vec<(u64, Frame)> = kernel
            .objects
            .arena
            .get(id)
            .ok_or(KernReturn::InvalidArgument)?
            .pages
            .range(offset..offset + size)
            .filter_map(|(&page_offset, page)| match page {
                CachedPage::Resident { frame, .. } => Some((page_offset, *frame)),
                CachedPage::Error => None,
            })
            .collect();
        if flags & MEMORY_OBJECT_RETURN_ALL != 0 {
            let mut space = kernel.user_space(caller)?;
            user::check_writable(&mut space, UserBuffer::new(return_buffer, size as usize))?;
            for &(page_offset, frame) in &resident {
                // SAFETY: the frame is a cached page of the object (kernel lock held).
                let bytes = unsafe { core::slice::from_raw_parts(frame.kernel_pointer(), PAGE_SIZE) };
                let destination = UserBuffer::new(return_buffer + (page_offset - offset), PAGE_SIZE);
                user::copy_to_user(&mut space, destination, bytes)?;
            }
        }
        if flags & MEMORY_OBJECT_FLUSH != 0 {
            for &(page_offset, _) in &resident {
                flush_page(kernel, id, page_offset);
            }
        } else {
            let object = kernel.objects.arena.get_mut(id).ok_or(KernReturn::InvalidArgument)?;
            for (_, page) in object.pages.range_mut(offset..offset + size) {
                if let CachedPage::Resident { write_locked: locked, .. } = page {
                    *locked = write_locked;
                }
            }
            if write_locked {
                for_each_mapping(kernel, id, offset, offset + size, |vm, tables, page| vm.deny_write(tables, page));
            }
        }
        if !write_locked || flags & MEMORY_OBJECT_FLUSH != 0 {
            wake_waiters(kernel, id, offset, offset + size);
        }
        Ok(())
    })
}

/// `memory_object_destroy(object, reason)`.
pub fn memory_object_destroy([object, _reason, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let id = memory_object_named(
            kernel,
            caller.space,
            PortName::try_from(object).map_err(|_| KernReturn::InvalidName)?,
        )?;
        destroy(kernel, id);
        Ok(())
    })
}

/// `thread_abort` on a thread waiting for a pager: it no longer waits for
/// the page (the request stays outstanding; the pager's answer fills the
/// cache for the next touch).
pub fn forget_waiter(kernel: &mut Kernel, thread: ThreadId) {
    let awaiting: Vec<ObjectId> = kernel.objects.awaiting_pager.iter().copied().collect();
    for id in awaiting {
        let Some(object) = kernel.objects.arena.get_mut(id) else { continue };
        for waiters in object.waiters.values_mut() {
            waiters.retain(|&waiter| waiter != thread);
        }
        object.waiters.retain(|_, waiters| !waiters.is_empty());
        if object.waiters.is_empty() {
            kernel.objects.awaiting_pager.remove(&id);
        }
    }
}
