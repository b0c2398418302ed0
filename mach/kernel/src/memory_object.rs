//! Memory objects: ranges of pages mapped into tasks' address spaces by
//! `vm_map`, whose contents a user-level pager supplies, or, for a *kernel
//! object* (made with `MACH_PORT_NULL` as the pager, or from an anonymous
//! region shared by `task_create`), that the kernel zero-fills on first
//! touch: anonymous shared memory.
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
//! or an error; a kernel object's page is zero-filled at once, with no
//! message. A cached page is shared by every shared mapping (the frame has
//! one owner for the cache and one per mapping, `memory::share`); a private
//! mapping (`VM_FLAGS_COPY`) maps it read-only and copies it on a write
//! (`vm`). The pager may write-lock pages; a write to one in a shared
//! mapping sends `memory_object_data_unlock` and waits for
//! `memory_object_lock_request` to lift the lock.
//!
//! Resources: an object and its cached pages are charged to the task that
//! created it (one page for the object itself), so they are bounded by that
//! task's limit. A pager's object dies with its creator. A kernel object
//! lives while a region maps it or a send right to it exists; when its
//! creator ends first, it (and its charge) passes to a task that maps it
//! or holds a right to it.
#![forbid(unsafe_code)]

use crate::arena::{Arena, Id};
use crate::ipc::object::{memory_object_named, KernelObjectRef};
use crate::ipc::port_traps::{caller, give_send_right};
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer};
use crate::memory::{frame, share, Frame, PAGE_SIZE};
use crate::task::TaskId;
use crate::thread::ThreadId;
use crate::vm::VmError;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use mach_abi::{
    KernReturn, PagerRequestBody, PortName, MACH_PORT_NULL, MEMORY_OBJECT_DATA_REQUEST_ID,
    MEMORY_OBJECT_DATA_UNLOCK_ID, MEMORY_OBJECT_FLUSH, MEMORY_OBJECT_RETURN_ALL, MEMORY_OBJECT_SIZE_MAX,
    VM_FLAGS_ANYWHERE, VM_FLAGS_COPY, VM_MAP_FLAGS_ALL, VM_PROT_NONE, VM_PROT_READ, VM_PROT_WRITE,
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
    /// Charged for the object and its cached pages. `None`: a kernel object
    /// whose creator ended while only messages carried rights to it; the
    /// next task to map it takes it over.
    owner: Option<TaskId>,
    port: PortId,
    /// The pager's port; `None` for a kernel object (zero-filled by the kernel).
    pager: Option<CarriedRight>,
    size: u64,
    pages: BTreeMap<u64, CachedPage>,
    /// Offsets asked of the pager (data or unlock) and not yet answered.
    requested: BTreeSet<u64>,
    /// Threads waiting for a page, by offset.
    waiters: BTreeMap<u64, Vec<ThreadId>>,
}

impl MemoryObject {
    /// Pages charged to the owner: the object itself and its cache.
    fn charge(&self) -> usize {
        1 + self.pages.values().filter(|page| matches!(page, CachedPage::Resident { .. })).count()
    }
}

/// What a fault on an object page comes to.
pub enum ObjectFault {
    /// The page is mapped now (with the access asked for): retry.
    Resolved,
    /// The pager was asked; the thread is marked blocked (finish the block).
    Wait,
    /// It cannot be had: `KERN_MEMORY_ERROR` (no such object any more, its
    /// pager is gone or answered an error) or `KERN_RESOURCE_SHORTAGE` (a
    /// task's limit or the machine's memory).
    Fail(KernReturn),
}

/// Every memory object.
pub struct Objects {
    arena: Arena<MemoryObject>,
    /// Objects with threads waiting on their pager (checked after IPC
    /// changes for a pager that died: empty almost always).
    awaiting_pager: BTreeSet<ObjectId>,
    /// Kernel objects no region maps: they live while send rights to them
    /// exist (checked after IPC changes: empty almost always).
    unmapped: BTreeSet<ObjectId>,
}

impl Default for Objects {
    fn default() -> Self {
        Self { arena: Arena::new(), awaiting_pager: BTreeSet::new(), unmapped: BTreeSet::new() }
    }
}

impl Objects {
    pub fn get(&self, object: ObjectId) -> Option<&MemoryObject> {
        self.arena.get(object)
    }

    pub fn len(&self) -> usize {
        self.arena.len()
    }

    /// Threads waiting for a pager's page, in all (for tests: an aborted
    /// wait must leave no trace).
    pub fn waiting_threads(&self) -> usize {
        self.arena.iter().map(|(_, object)| object.waiters.values().map(Vec::len).sum::<usize>()).sum()
    }

    /// Pages charged to `task` for the objects it owns (for tests of the
    /// accounting).
    pub fn charged_to(&self, task: TaskId) -> usize {
        self.arena.iter().filter(|(_, object)| object.owner == Some(task)).map(|(_, object)| object.charge()).sum()
    }

    /// The objects `task` created.
    fn owned_by(&self, task: TaskId) -> Vec<ObjectId> {
        self.arena.iter().filter(|(_, object)| object.owner == Some(task)).map(|(id, _)| id).collect()
    }
}

fn vm_failure(error: VmError) -> KernReturn {
    match error {
        VmError::OutOfMemory => KernReturn::ResourceShortage,
        _ => KernReturn::MemoryError,
    }
}

/// Runs `change` on `task`'s map and page tables.
fn with_map(
    kernel: &mut Kernel,
    task: TaskId,
    change: impl FnOnce(&mut crate::vm::VmMap, &mut crate::arch::paging::PageTables) -> Result<(), VmError>,
) -> ObjectFault {
    let Some(target) = kernel.tasks.get_mut(task) else { return ObjectFault::Fail(KernReturn::MemoryError) };
    let Some(tables) = target.page_tables.as_mut() else { return ObjectFault::Fail(KernReturn::MemoryError) };
    match change(&mut target.vm, tables) {
        Ok(()) => ObjectFault::Resolved,
        Err(error) => ObjectFault::Fail(vm_failure(error)),
    }
}

/// A fault of the current thread on `page` of `task` wanting `access`,
/// where `task`'s map said the page is `offset` of `object`, mapped
/// privately or not.
pub fn fault(
    kernel: &mut Kernel,
    task: TaskId,
    page: u64,
    access: u32,
    id: ObjectId,
    offset: u64,
    private: bool,
) -> ObjectFault {
    let Some(object) = kernel.objects.arena.get(id) else { return ObjectFault::Fail(KernReturn::MemoryError) };
    let write = access & VM_PROT_WRITE != 0;
    let kernel_object = object.pager.is_none();
    match object.pages.get(&offset).copied() {
        Some(CachedPage::Error) => ObjectFault::Fail(KernReturn::MemoryError),
        // A private mapping reads the object's page and copies it on a
        // write, whatever the pager's lock (the object never sees the write).
        Some(CachedPage::Resident { frame, .. }) if private => {
            let around = if write { Vec::new() } else { resident_around(object, page, offset) };
            with_map(kernel, task, |vm, tables| {
                if write {
                    return vm.copy_in_private(tables, page, frame);
                }
                vm.map_object_page(tables, page, frame, false)?;
                vm.map_object_pages_around(tables, page, &around);
                Ok(())
            })
        }
        Some(CachedPage::Resident { write_locked: true, .. }) if write => {
            ask_pager(kernel, id, offset, MEMORY_OBJECT_DATA_UNLOCK_ID, access)
        }
        Some(CachedPage::Resident { frame, write_locked }) => with_map(kernel, task, |vm, tables| {
            if tables.translate(page).is_some() {
                vm.allow_write(tables, page)
            } else {
                vm.map_object_page(tables, page, frame, !write_locked)
            }
        }),
        // A kernel object's page never touched is zero: a private write
        // needs no object page at all.
        None if kernel_object && private && write => {
            with_map(kernel, task, |vm, tables| vm.zero_fill_private(tables, page))
        }
        None if kernel_object => match zero_fill(kernel, id, offset, task) {
            Ok(()) => fault(kernel, task, page, access, id, offset, private),
            Err(error) => ObjectFault::Fail(error),
        },
        // A private mapping only ever reads the object.
        None if private => ask_pager(kernel, id, offset, MEMORY_OBJECT_DATA_REQUEST_ID, VM_PROT_READ),
        None => ask_pager(kernel, id, offset, MEMORY_OBJECT_DATA_REQUEST_ID, access),
    }
}

/// Pages read through a private mapping are mapped this many at a time
/// (an aligned window around the faulting page, as Linux's fault-around):
/// a program's text and read-only data come in a few faults, not one a page
/// (a new image of a small program took some 25 faults, each a trap and a
/// walk of the map).
const FAULT_AROUND_PAGES: u64 = 16;

/// The object's resident pages in the aligned window of
/// [`FAULT_AROUND_PAGES`] around `page` (which is `offset`), but `page`
/// itself: (address, frame). Only cached pages: nothing is asked of a
/// pager, no frame is taken.
fn resident_around(object: &MemoryObject, page: u64, offset: u64) -> Vec<(u64, Frame)> {
    let window = FAULT_AROUND_PAGES * PAGE;
    let first = (page & !(window - 1)).max(page.saturating_sub(offset));
    let last = (page & !(window - 1)).saturating_add(window);
    let (first_offset, last_offset) = (offset - (page - first), offset + (last - page));
    object
        .pages
        .range(first_offset..last_offset)
        .filter_map(|(&at, cached)| match cached {
            CachedPage::Resident { frame, .. } if at != offset => {
                Some((page.wrapping_sub(offset).wrapping_add(at), *frame))
            }
            _ => None,
        })
        .collect()
}

/// True if a fault on `offset` of `id` for `access` is resolved without
/// waiting for a pager (the page is cached and, for a write through a
/// shared mapping, not write-locked; or the object is a kernel object), so
/// a trap may resolve it in place instead of failing and waiting.
pub fn answers_at_once(kernel: &Kernel, id: ObjectId, offset: u64, access: u32, private: bool) -> bool {
    let Some(object) = kernel.objects.arena.get(id) else { return true };
    match object.pages.get(&offset) {
        Some(CachedPage::Resident { write_locked, .. }) => private || !*write_locked || access & VM_PROT_WRITE == 0,
        Some(CachedPage::Error) => true,
        None => object.pager.is_none(),
    }
}

/// Puts a zeroed page into a kernel object's cache at `offset`, charged to
/// its owner (`toucher` takes over an orphaned object).
fn zero_fill(kernel: &mut Kernel, id: ObjectId, offset: u64, toucher: TaskId) -> Result<(), KernReturn> {
    if kernel.objects.arena.get(id).is_some_and(|object| object.owner.is_none()) {
        adopt(kernel, id, toucher);
    }
    supply_pages(kernel, id, offset, PAGE, false, |_, _, frame| {
        frame.zero();
        Ok(())
    })
}

/// Sends the pager a request about `offset` (unless one is outstanding)
/// and queues the current thread for the answer.
fn ask_pager(kernel: &mut Kernel, id: ObjectId, offset: u64, message_id: i32, access: u32) -> ObjectFault {
    let thread = kernel.current_thread();
    let Some(object) = kernel.objects.arena.get_mut(id) else { return ObjectFault::Fail(KernReturn::MemoryError) };
    if !object.requested.contains(&offset) {
        let port = object.port;
        let Some(pager) = object.pager.as_ref().and_then(|pager| pager.port()).map(|(port, _)| port) else {
            return ObjectFault::Fail(KernReturn::MemoryError);
        };
        if !send_request(kernel, pager, port, message_id, offset, access) {
            return ObjectFault::Fail(KernReturn::MemoryError);
        }
    }
    let Some(object) = kernel.objects.arena.get_mut(id) else { return ObjectFault::Fail(KernReturn::MemoryError) };
    object.requested.insert(offset);
    object.waiters.entry(offset).or_default().push(thread);
    kernel.objects.awaiting_pager.insert(id);
    kernel.prepare_block(None, None);
    ObjectFault::Wait
}

/// Forgets `thread` as a waiter for any page: its wait ended otherwise
/// (it was aborted), so the pager's answer must not wake it later.
pub fn forget_waiter(kernel: &mut Kernel, thread: ThreadId) {
    let awaiting: Vec<ObjectId> = kernel.objects.awaiting_pager.iter().copied().collect();
    for id in awaiting {
        let Some(object) = kernel.objects.arena.get_mut(id) else { continue };
        object.waiters.retain(|_, threads| {
            threads.retain(|&waiting| waiting != thread);
            !threads.is_empty()
        });
        if object.waiters.is_empty() {
            kernel.objects.awaiting_pager.remove(&id);
        }
    }
}

/// Sends `message_id` with a send right to the object's `port` and a
/// `PagerRequestBody`. False if the pager's port is dead.
fn send_request(kernel: &mut Kernel, pager: PortId, port: PortId, message_id: i32, offset: u64, access: u32) -> bool {
    let body = PagerRequestBody { offset, length: PAGE, access, _reserved: 0 }.to_bytes();
    // Written straight into a pager thread waiting in its receive (no
    // message built), which the faulting thread then switches to
    // (`vm_fault`); else built and sent below.
    let request =
        mach_ipc::KernelRequest { destination: pager, id: message_id, reply: None, port: Some(port), data: &body };
    if crate::ipc::kernel_handoff::send_request(kernel, request) {
        return true;
    }
    let rights = (kernel.ipc.make_send(pager), kernel.ipc.make_send(port));
    let (Ok(destination), Ok(object_right)) = rights else {
        for right in [rights.0, rights.1].into_iter().flatten() {
            kernel.ipc.release(right);
        }
        return false;
    };
    let message = mach_ipc::KernelMessage::from_kernel_with_ports(
        destination,
        message_id,
        None,
        alloc::vec![object_right],
        body.to_vec(),
    )
    .expect("a pager request is far below the size limit");
    // No waiting pager thread could take it: queued, a receiver woken.
    let sent = crate::ipc::kernel_handoff::send(kernel, message);
    if kernel.ipc.has_pending_work() || !sent {
        crate::ipc::settle(kernel);
    }
    sent
}

/// Wakes every thread waiting on a page of `[start, end)` of `object`. The
/// first is made the next to run (`Kernel::wake_for_handoff`): a pager that
/// answers and then waits for its next request switches straight to it.
fn wake_waiters(kernel: &mut Kernel, id: ObjectId, start: u64, end: u64) {
    let Some(object) = kernel.objects.arena.get_mut(id) else { return };
    let mut threads = Vec::new();
    if end - start == PAGE {
        // One page (every fault's answer): no list of offsets.
        object.requested.remove(&start);
        threads = object.waiters.remove(&start).unwrap_or_default();
    } else {
        let offsets: Vec<u64> = object.waiters.range(start..end).map(|(&offset, _)| offset).collect();
        for offset in offsets {
            object.requested.remove(&offset);
            threads.extend(object.waiters.remove(&offset).unwrap_or_default());
        }
        object.requested.retain(|&offset| !(start..end).contains(&offset));
    }
    if object.waiters.is_empty() {
        kernel.objects.awaiting_pager.remove(&id);
    }
    for (index, thread) in threads.into_iter().enumerate() {
        if index == 0 {
            kernel.wake_for_handoff(thread, false, false);
        } else {
            kernel.wake(thread, crate::thread::WaitResult::Woken);
        }
    }
}

/// Applies `change` to every object page of the object's `[start, end)`
/// that a map holds (mapped or parked; not private copies), in every task:
/// `(map, tables, page)`.
fn for_each_mapping(
    kernel: &mut Kernel,
    id: ObjectId,
    start: u64,
    end: u64,
    mut change: impl FnMut(&mut crate::vm::VmMap, &mut crate::arch::paging::PageTables, u64),
) {
    for (_, task) in kernel.tasks.iter_mut() {
        if !task.vm.maps_object(id) {
            continue;
        }
        let Some(tables) = task.page_tables.as_mut() else { continue };
        let mapped: Vec<(u64, u64)> = task
            .vm
            .regions()
            .filter_map(|(region_start, region)| match region.backing {
                crate::vm::Backing::Object { object, offset, .. } if object == id => {
                    let first = offset.max(start);
                    let last = (offset + (region.end - region_start)).min(end);
                    (first < last).then_some((region_start + (first - offset), region_start + (last - offset)))
                }
                _ => None,
            })
            .collect();
        for (first, last) in mapped {
            for page in task.vm.object_pages_in(tables, first, last) {
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
    kernel.objects.unmapped.remove(&id);
    if let Some(pager) = object.pager {
        kernel.ipc.release(pager);
    }
    let _ = kernel.ipc.destroy_kernel_port(object.port);
    uncharge(kernel, object.owner, 1);
    crate::ipc::settle(kernel);
}

/// What IPC changes (`ipc::settle`: ports died, rights went) mean for
/// memory objects: threads waiting on a dead pager wake (`wake_orphans`),
/// kernel objects nobody maps or names any more go (`free_unreferenced`).
/// Nothing to do, and nearly free, when no thread waits on a pager and
/// every kernel object is mapped, which is almost always.
#[inline]
pub fn after_ipc_changes(kernel: &mut Kernel) {
    if kernel.objects.awaiting_pager.is_empty() && kernel.objects.unmapped.is_empty() {
        return;
    }
    wake_orphans(kernel);
    free_unreferenced(kernel);
}

/// Wakes the threads waiting on a pager whose port has died (its task
/// ended, or it destroyed the port): they fault again, the request cannot
/// be sent, and they take an exception instead of waiting for ever.
fn wake_orphans(kernel: &mut Kernel) {
    if kernel.objects.awaiting_pager.is_empty() {
        return;
    }
    let orphaned: Vec<ObjectId> = kernel
        .objects
        .awaiting_pager
        .iter()
        .copied()
        .filter(|&id| {
            let pager = kernel
                .objects
                .arena
                .get(id)
                .and_then(|object| object.pager.as_ref())
                .and_then(|pager| pager.port())
                .map(|(port, _)| port);
            !pager.and_then(|port| kernel.ipc.port(port)).is_some_and(|port| port.is_alive())
        })
        .collect();
    for id in orphaned {
        wake_waiters(kernel, id, 0, u64::MAX);
        kernel.objects.awaiting_pager.remove(&id);
    }
}

/// True if some task's map maps `id`.
fn mapped_anywhere(kernel: &Kernel, id: ObjectId) -> bool {
    kernel.tasks.iter().any(|(_, task)| task.vm.maps_object(id))
}

/// Send rights to the object's port in existence (in spaces, messages, or
/// held by the kernel).
fn send_rights(kernel: &Kernel, id: ObjectId) -> u32 {
    let port = kernel.objects.arena.get(id).map(|object| object.port);
    port.and_then(|port| kernel.ipc.port(port)).map_or(0, |port| port.send_rights())
}

/// Some map stopped mapping each of `ids` (a deallocation, a task's end):
/// a kernel object no map maps and no right names is freed; one that
/// rights still name waits for them to go (`free_unreferenced`).
pub fn release_unmapped(kernel: &mut Kernel, ids: Vec<ObjectId>) {
    for id in ids {
        let kernel_object = kernel.objects.arena.get(id).is_some_and(|object| object.pager.is_none());
        if !kernel_object || mapped_anywhere(kernel, id) {
            continue;
        }
        if send_rights(kernel, id) == 0 {
            destroy(kernel, id);
        } else {
            kernel.objects.unmapped.insert(id);
        }
    }
}

/// `release_unmapped` for what `task`'s map reports unmapped.
pub fn release_unmapped_by(kernel: &mut Kernel, task: TaskId) {
    let ids = match kernel.tasks.get_mut(task) {
        Some(object) if object.vm.has_unmapped_objects() => object.vm.take_unmapped_objects(),
        _ => return,
    };
    release_unmapped(kernel, ids);
}

/// Frees the kernel objects that no map maps once the last send right to
/// them is gone.
fn free_unreferenced(kernel: &mut Kernel) {
    if kernel.objects.unmapped.is_empty() {
        return;
    }
    let unmapped: Vec<ObjectId> = kernel.objects.unmapped.iter().copied().collect();
    let mut unreferenced = Vec::new();
    for id in unmapped {
        if kernel.objects.arena.get(id).is_none() || mapped_anywhere(kernel, id) {
            kernel.objects.unmapped.remove(&id);
        } else if send_rights(kernel, id) == 0 {
            kernel.objects.unmapped.remove(&id);
            unreferenced.push(id);
        }
    }
    for id in unreferenced {
        destroy(kernel, id);
    }
}

/// `task` is ending: the pagers' objects it created die with it; each
/// kernel object it created passes, with its charge, to another task that
/// maps it, else to one that holds a right to it, else to nobody until a
/// task maps it (only messages in flight name it then).
pub fn release_owned_by(kernel: &mut Kernel, task: TaskId) {
    for id in kernel.objects.owned_by(task) {
        if kernel.objects.arena.get(id).is_some_and(|object| object.pager.is_some()) {
            destroy(kernel, id);
            continue;
        }
        let space = kernel.tasks.get(task).map(|object| object.space);
        let port = kernel.objects.arena.get(id).map(|object| object.port);
        let heir = kernel
            .tasks
            .iter()
            .find(|(other, object)| *other != task && !object.terminated && object.vm.maps_object(id))
            .map(|(other, _)| other)
            .or_else(|| {
                let holders: Vec<mach_ipc::SpaceId> = port
                    .and_then(|port| kernel.ipc.port(port))
                    .map(|port| port.holder_spaces().filter(|&holder| Some(holder) != space).collect())
                    .unwrap_or_default();
                kernel
                    .tasks
                    .iter()
                    .find(|(other, object)| *other != task && !object.terminated && holders.contains(&object.space))
                    .map(|(other, _)| other)
            });
        let Some(object) = kernel.objects.arena.get_mut(id) else { continue };
        let charge = object.charge();
        object.owner = None;
        uncharge(kernel, Some(task), charge);
        if let Some(heir) = heir {
            adopt(kernel, id, heir);
        }
    }
}

/// Makes `task` the owner of the orphaned object `id`, charged for it
/// whatever its limit (the pages exist already).
fn adopt(kernel: &mut Kernel, id: ObjectId, task: TaskId) {
    let Some(object) = kernel.objects.arena.get_mut(id) else { return };
    if object.owner.is_some() {
        return;
    }
    let charge = object.charge();
    let Some(heir) = kernel.tasks.get_mut(task) else { return };
    heir.vm.force_charge_held(charge);
    if let Some(object) = kernel.objects.arena.get_mut(id) {
        object.owner = Some(task);
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

/// Like `object_range`, for the traps only a pager answers with: a kernel
/// object has no pager (the kernel fills its pages), so they are refused.
fn pager_object_range(kernel: &Kernel, object: u64, offset: u64, size: u64) -> Result<(TaskId, ObjectId), KernReturn> {
    let (caller, id) = object_range(kernel, object, offset, size)?;
    if kernel.objects.arena.get(id).is_some_and(|object| object.pager.is_none()) {
        return Err(KernReturn::InvalidArgument);
    }
    Ok((caller, id))
}

/// Makes a new object of `size` bytes for `owner` (charged one page), with
/// its port tagged; no right to it exists yet.
fn create(kernel: &mut Kernel, owner: TaskId, pager: Option<CarriedRight>, size: u64) -> Result<ObjectId, KernReturn> {
    let charged = kernel.tasks.get_mut(owner).ok_or(KernReturn::InvalidTask).and_then(|task| {
        let tables = task.page_tables.as_ref().ok_or(KernReturn::InvalidTask)?;
        task.vm.charge_held(tables, 1).map_err(|_| KernReturn::ResourceShortage)
    });
    if let Err(error) = charged {
        if let Some(pager) = pager {
            kernel.ipc.release(pager);
        }
        return Err(error);
    }
    let port = kernel.ipc.allocate_kernel_port(0);
    let object = MemoryObject {
        owner: Some(owner),
        port,
        pager,
        size,
        pages: BTreeMap::new(),
        requested: BTreeSet::new(),
        waiters: BTreeMap::new(),
    };
    let kernel_object = object.pager.is_none();
    let id = kernel.objects.arena.insert(object);
    if let Err(error) = kernel.ipc.set_kernel_object(port, KernelObjectRef::MemoryObject(id).tag()) {
        destroy(kernel, id);
        return Err(error);
    }
    if kernel_object {
        // Mapped by nobody yet: it lives while rights to it do (dropped
        // from this set once mapped, `free_unreferenced`).
        kernel.objects.unmapped.insert(id);
    }
    Ok(id)
}

/// `memory_object_create(pager, size, object_out)`: a new object of `size`
/// bytes whose pages the port `pager` (a send or receive right of the
/// caller) supplies, or, with `MACH_PORT_NULL`, a kernel object whose pages
/// the kernel zero-fills (anonymous shared memory); the caller gets a send
/// right to the object's port.
pub fn memory_object_create([pager, size, object_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if size == 0 || !size.is_multiple_of(PAGE) || size > MEMORY_OBJECT_SIZE_MAX {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let mut space = kernel.user_space(caller.task)?;
        user::check_writable(&mut space, UserBuffer::new(object_out, 4))?;
        let pager = PortName::try_from(pager).map_err(|_| KernReturn::InvalidName)?;
        let pager = if pager == MACH_PORT_NULL {
            None
        } else {
            let right = match kernel.ipc.extract_right(caller.space, pager, mach_abi::Disposition::CopySend as u32) {
                Ok((right, _)) => right,
                Err(_) => kernel.ipc.extract_right(caller.space, pager, mach_abi::Disposition::MakeSend as u32)?.0,
            };
            Some(right)
        };
        let id = create(kernel, caller.task, pager, size)?;
        let port = kernel.objects.arena.get(id).map(|object| object.port).ok_or(KernReturn::Failure)?;
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

/// Turns `task`'s anonymous region `[start, start + size)` into a mapping
/// of a new kernel object holding its pages: `VM_INHERIT_SHARE` of
/// anonymous memory, so that a child mapping the same object shares every
/// page, even those neither has touched yet. `task` owns the object and
/// pays for its pages, as it paid for them before.
pub fn share_anonymous_region(kernel: &mut Kernel, task: TaskId, start: u64, size: u64) -> Result<(), KernReturn> {
    let id = create(kernel, task, None, size)?;
    let converted = kernel.tasks.get_mut(task).ok_or(KernReturn::InvalidTask).and_then(|object| {
        let tables = object.page_tables.as_mut().ok_or(KernReturn::InvalidTask)?;
        object.vm.convert_to_object(tables, start, id).map_err(KernReturn::from)
    });
    let pages = match converted {
        Ok(pages) => pages,
        Err(error) => {
            destroy(kernel, id);
            return Err(error);
        }
    };
    if let Some(owner) = kernel.tasks.get_mut(task) {
        owner.vm.force_charge_held(pages.len());
    }
    let object = kernel.objects.arena.get_mut(id).ok_or(KernReturn::Failure)?;
    for (offset, frame) in pages {
        share::share(frame);
        object.pages.insert(offset, CachedPage::Resident { frame, write_locked: false });
    }
    Ok(())
}

/// Gives back pages charged to `task` for its objects (if it still exists).
fn uncharge(kernel: &mut Kernel, task: Option<TaskId>, pages: usize) {
    if let Some(task) = task.and_then(|task| kernel.tasks.get_mut(task)) {
        task.vm.uncharge_held(pages);
    }
}

/// `vm_map(task, address_in_out, size, flags, object, offset)`: maps
/// `[offset, offset + size)` of the object into `task` (anywhere, or at
/// `*address` with `VM_FLAGS_FIXED`), shared or, with `VM_FLAGS_COPY`,
/// private, with the protection packed in `flags` (read-write if none).
pub fn vm_map([task, address_in_out, size, flags, object, offset]: [u64; 6]) -> Result<(), KernReturn> {
    let flags = u32::try_from(flags).map_err(|_| KernReturn::InvalidArgument)?;
    if flags & !VM_MAP_FLAGS_ALL != 0 {
        return Err(KernReturn::InvalidArgument);
    }
    let protection = mach_abi::vm_map_protection(flags);
    crate::vm::check_protection(protection)?;
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
        let start = if flags & VM_FLAGS_ANYWHERE != 0 {
            map.find_space(size, requested).ok_or(KernReturn::NoSpace)?
        } else {
            requested
        };
        let (start, end) = crate::vm::checked_range(start, size)?;
        let backing = crate::vm::Backing::Object { object: id, offset, private: flags & VM_FLAGS_COPY != 0 };
        // The maximum stays open: text mapped read-execute may be made
        // writable by its owner later (W^X still holds).
        map.insert_backed(start, end, protection, mach_abi::VM_PROT_ALL, backing)?;
        kernel.objects.unmapped.remove(&id);
        adopt(kernel, id, target);
        let mut own = kernel.user_space(caller)?;
        user::copy_to_user(&mut own, UserBuffer::new(address_in_out, 8), &start.to_le_bytes())?;
        Ok(())
    })
}

/// Puts pages into the cache at `[offset, offset + pages)`, filled by
/// `fill(index, frame)`; pages already resident are left as they are
/// (as Mach does). Charged to the object's owner.
fn supply_pages(
    kernel: &mut Kernel,
    id: ObjectId,
    offset: u64,
    size: u64,
    write_locked: bool,
    mut fill: impl FnMut(&mut Kernel, u64, Frame) -> Result<(), KernReturn>,
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
        let owner_task = owner.and_then(|owner| kernel.tasks.get_mut(owner)).ok_or(KernReturn::ResourceShortage)?;
        let owner_tables = owner_task.page_tables.as_ref().ok_or(KernReturn::InvalidTask)?;
        owner_task.vm.charge_held(owner_tables, 1).map_err(|_| KernReturn::ResourceShortage)?;
        let Ok(frame) = frame::allocate() else {
            uncharge(kernel, owner, 1);
            return Err(KernReturn::ResourceShortage);
        };
        if let Err(error) = fill(kernel, index, frame) {
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
        let (caller, id) = pager_object_range(kernel, object, offset, size)?;
        // Check the whole source first, so a bad buffer supplies nothing.
        user::check_readable(&mut kernel.user_space(caller)?, UserBuffer::new(data, size as usize))?;
        let result = supply_pages(kernel, id, offset, size, write_locked, |kernel, index, frame| {
            let mut space = kernel.user_space(caller)?;
            user::copy_from_user_to_frame(&mut space, UserBuffer::new(data + index * PAGE, PAGE_SIZE), frame)?;
            Ok(())
        });
        wake_waiters(kernel, id, offset, offset + size);
        result
    })
}

/// `memory_object_data_unavailable(object, offset, size)`: zero-filled pages.
pub fn memory_object_data_unavailable([object, offset, size, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let (_, id) = pager_object_range(kernel, object, offset, size)?;
        let result = supply_pages(kernel, id, offset, size, false, |_, _, frame| {
            frame.zero();
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
        let (_, id) = pager_object_range(kernel, object, offset, size)?;
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
/// `MEMORY_OBJECT_FLUSH` then drops the pages from memory. A kernel object
/// takes no write lock (nobody would answer the unlock), but returns and
/// flushes (its flushed pages come back zero).
pub fn memory_object_lock_request(
    [object, offset, size, lock, flags, return_buffer]: [u64; 6],
) -> Result<(), KernReturn> {
    let write_locked = lock_value(lock)?;
    let flags = u32::try_from(flags).map_err(|_| KernReturn::InvalidArgument)?;
    if flags & !(MEMORY_OBJECT_RETURN_ALL | MEMORY_OBJECT_FLUSH) != 0 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let (caller, id) = if write_locked {
            pager_object_range(kernel, object, offset, size)?
        } else {
            object_range(kernel, object, offset, size)?
        };
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
                let destination = UserBuffer::new(return_buffer + (page_offset - offset), PAGE_SIZE);
                user::copy_frame_to_user(&mut space, destination, frame)?;
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

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::arch::paging::PageTables;
    use crate::ktest::Failure;
    use crate::memory::heap;
    use crate::vm::Backing;
    use crate::{ensure, ensure_eq, ktest};
    use mach_abi::{VM_PROT_ALL, VM_PROT_DEFAULT};

    /// A kernel object made by `first`, named by `second` and, if
    /// `mapped`, mapped by it with one page touched: what happens as each
    /// lets go.
    fn creator_ends_first(mapped: bool) -> Result<(), Failure> {
        let tables = (PageTables::new_user().map_err(|_| "tables")?, PageTables::new_user().map_err(|_| "tables")?);
        with_kernel(|kernel| -> Result<(), Failure> {
            let first = kernel.create_task("object-creator", tables.0)?;
            let second = kernel.create_task("object-user", tables.1)?;
            let id = create(kernel, first, None, 4 * PAGE)?;
            let port = kernel.objects.arena.get(id).ok_or("no object")?.port;
            let space = kernel.tasks.get(second).ok_or("no task")?.space;
            let name = give_send_right(kernel, space, port)?;
            let user = kernel.tasks.get_mut(second).ok_or("no task")?;
            let start = user.vm.find_space(4 * PAGE, 0).ok_or("no space")?;
            // What the kernel holds for each beyond the names it bought.
            let held = |kernel: &Kernel, task| kernel.tasks.get(task).map(|task| task.vm.held() - task.name_pages);
            let pages = if mapped {
                let backing = Backing::Object { object: id, offset: 0, private: false };
                user.vm
                    .insert_backed(start, start + 4 * PAGE, VM_PROT_DEFAULT, VM_PROT_ALL, backing)
                    .map_err(|_| "map")?;
                let touched = fault(kernel, second, start, VM_PROT_WRITE, id, 0, false);
                ensure!(matches!(touched, ObjectFault::Resolved), "the first touch of a kernel object's page");
                2
            } else {
                1
            };
            // The object (and its page) are the creator's to pay for.
            ensure_eq!((held(kernel, first), held(kernel, second)), (Some(pages), Some(0)));
            kernel.terminate_task(first);
            ensure!(kernel.objects.get(id).is_some(), "the object died with its creator while used");
            ensure_eq!(held(kernel, second), Some(pages));
            if mapped {
                // Unmapped, it lives on while the right does.
                let user = kernel.tasks.get_mut(second).ok_or("no task")?;
                let user_tables = user.page_tables.as_mut().ok_or("no tables")?;
                user.vm.deallocate(user_tables, start, start + 4 * PAGE);
                release_unmapped_by(kernel, second);
                ensure!(kernel.objects.get(id).is_some(), "the object died while a right named it");
            }
            kernel.ipc.deallocate(space, name)?;
            crate::ipc::settle(kernel);
            ensure!(kernel.objects.get(id).is_none(), "the object outlived its last mapping and right");
            ensure_eq!(held(kernel, second), Some(0));
            kernel.terminate_task(second);
            Ok(())
        })
    }

    ktest! {
        fn a_kernel_object_lives_while_mapped_or_named_and_passes_to_a_user() {
            creator_ends_first(true)?;
            // Frames other tests hold back (a dead driver's DMA memory in
            // quarantine) may come free meanwhile: they count as free.
            let free = || heap::frames_free_counting_the_heap() + with_kernel(|kernel| crate::device::quarantined_frames(kernel));
            let before = (free(), share::shared_frame_count());
            creator_ends_first(true)?;
            creator_ends_first(false)?;
            ensure_eq!(free(), before.0);
            ensure!(share::shared_frame_count() <= before.1, "shared frames left behind");
            Ok(())
        }
    }
}
