//! IPC spaces: a task's names for rights.
//!
//! A space maps names to entries. Mach's naming rules hold: a space names a
//! port's receive right and its send rights with one name (user references
//! count the send rights), every send-once right gets a name of its own,
//! and a right whose port died becomes a dead name with the same name and
//! references. Names are `index << 8 | generation`; a freed index comes
//! back with the next generation, the last freed first.
//!
//! How an entry's rights change (taken, placed, detached) is `transition`
//! (as xnu's ipc_right.c); the port-management calls on a space are
//! `mach_port` (as xnu's mach_port.c).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use mach_abi::{KernReturn, PortName, TaskCredential};

use crate::entry_table::EntryTable;
use crate::right::EntryRights;
use crate::{Ipc, PortId, SpaceId};

pub use crate::mach_port::PortAttributes;

/// Bounds of one space, fixed at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceLimits {
    /// Most names in use at once. Allocation beyond fails with
    /// `KERN_NO_SPACE`; a received right that cannot get a name is destroyed
    /// and the receive reports `MACH_MSG_IPC_SPACE`.
    pub max_entries: usize,
    /// Most messages sent by this space that may sit in queues at once.
    /// A send beyond fails with `MACH_SEND_NO_BUFFER`.
    pub max_queued_messages: usize,
}

impl Default for SpaceLimits {
    fn default() -> Self {
        SpaceLimits { max_entries: 4096, max_queued_messages: 1024 }
    }
}

/// One name's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub rights: EntryRights,
}

/// A task's IPC space.
#[derive(Debug)]
pub struct Space {
    pub(crate) task_id: u32,
    pub(crate) entries: EntryTable,
    /// The name of each port this space holds a receive or send right to.
    pub(crate) names_by_port: BTreeMap<PortId, PortName>,
    pub(crate) limits: SpaceLimits,
    /// Names the space may hold now (at most `limits.max_entries`): the
    /// kernel raises it as it charges the task for the memory names take.
    pub(crate) name_allowance: usize,
    pub(crate) queued_messages: usize,
    /// The inline bytes of those messages (what they hold of the kernel
    /// heap), for the kernel to charge the sender.
    pub(crate) queued_bytes: usize,
    /// Who the task acts for; every message it sends carries the credential
    /// of the moment (shared, so a send costs a reference count, and a later
    /// change leaves queued messages as they were). `None` is all zeros.
    pub(crate) credential: Option<Arc<TaskCredential>>,
}

impl Space {
    fn new(task_id: u32, limits: SpaceLimits) -> Space {
        Space {
            task_id,
            entries: EntryTable::new(limits.max_entries),
            names_by_port: BTreeMap::new(),
            limits,
            name_allowance: limits.max_entries,
            queued_messages: 0,
            queued_bytes: 0,
            credential: None,
        }
    }

    /// The credential the space's task acts for (all zeros until set).
    pub fn credential(&self) -> TaskCredential {
        self.credential.as_deref().copied().unwrap_or_default()
    }

    /// Names in use.
    pub fn name_count(&self) -> usize {
        self.entries.len()
    }

    /// Names the space may hold now (see [`Ipc::set_name_allowance`]).
    pub fn name_allowance(&self) -> usize {
        self.name_allowance
    }

    /// The bounds fixed at creation.
    pub fn limits(&self) -> SpaceLimits {
        self.limits
    }

    /// Most names the space may hold now: its allowance, never past its limit.
    pub(crate) fn name_capacity(&self) -> usize {
        self.name_allowance.min(self.limits.max_entries)
    }

    /// How many more names the space may take before its allowance (not its
    /// hard limit) is what stops it: `None` when the allowance is not below
    /// the limit, so only the limit applies.
    pub(crate) fn room_before_allowance(&self) -> Option<usize> {
        (self.name_allowance < self.limits.max_entries).then(|| self.name_allowance.saturating_sub(self.entries.len()))
    }

    /// The entry a name denotes.
    pub fn entry(&self, name: PortName) -> Option<&Entry> {
        self.entries.get(&name)
    }

    /// Every name with its entry.
    pub fn entries(&self) -> impl Iterator<Item = (PortName, &Entry)> {
        self.entries.iter()
    }

    /// The task id the kernel gave this space (the trailer's sender).
    pub fn task_id(&self) -> u32 {
        self.task_id
    }

    /// Messages sent from this space now queued somewhere.
    pub fn queued_messages(&self) -> usize {
        self.queued_messages
    }

    /// The inline bytes of those messages.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// The name under which this space holds the receive or send right of `port`.
    pub fn name_of(&self, port: PortId) -> Option<PortName> {
        self.names_by_port.get(&port).copied()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() >= self.name_capacity()
    }

    /// A fresh name, or `None` when the space is full.
    pub(crate) fn allocate_name(&mut self) -> Option<PortName> {
        if self.is_full() {
            return None;
        }
        self.entries.allocate_name()
    }

    /// Removes a name; its index comes back with the next generation.
    pub(crate) fn remove_name(&mut self, name: PortName) -> Option<Entry> {
        self.entries.remove(name)
    }

    pub(crate) fn insert_entry(&mut self, name: PortName, rights: EntryRights) {
        self.entries.insert(name, Entry { rights });
    }
}

impl Ipc {
    // ---- Spaces ----

    /// Creates an empty space for the task with this id.
    pub fn create_space(&mut self, task_id: u32, limits: SpaceLimits) -> SpaceId {
        SpaceId(self.spaces.insert(Space::new(task_id, limits)))
    }

    /// Sets the credential of the space's task (`task_set_credential`):
    /// messages sent from now on carry it; messages already sent keep the
    /// one they were sent with. Group slots past the count are zeroed.
    pub fn set_credential(&mut self, space: SpaceId, credential: TaskCredential) -> Result<(), KernReturn> {
        if !credential.is_valid() {
            return Err(KernReturn::InvalidArgument);
        }
        let space_object = self.space_mut(space).ok_or(KernReturn::InvalidTask)?;
        let credential = credential.canonical();
        space_object.credential = (credential != TaskCredential::default()).then(|| Arc::new(credential));
        Ok(())
    }

    /// Gives `to` the credential of `from` (a new task starts with its
    /// creator's); the two share it until either changes.
    pub fn copy_credential(&mut self, from: SpaceId, to: SpaceId) -> Result<(), KernReturn> {
        let credential = self.space(from).ok_or(KernReturn::InvalidTask)?.credential.clone();
        self.space_mut(to).ok_or(KernReturn::InvalidTask)?.credential = credential;
        Ok(())
    }

    /// Sets how many names `space` may hold now. The kernel charges a task
    /// for the memory its names take and raises the allowance as it charges
    /// (never past the space's `max_entries`). At the allowance, allocation
    /// fails with `KERN_NO_SPACE`, a receive that would need more names
    /// answers [`crate::ReceiveError::NamesNeeded`] (nothing taken), and a
    /// handoff into the space is declined.
    pub fn set_name_allowance(&mut self, space: SpaceId, names: usize) -> Result<(), KernReturn> {
        let space_object = self.space_mut(space).ok_or(KernReturn::InvalidTask)?;
        space_object.name_allowance = names.min(space_object.limits.max_entries);
        Ok(())
    }

    /// `task_create` with `TASK_CREATE_INHERIT_SEND_RIGHTS`: gives `child`
    /// every send right of `parent` (with its user references) and every
    /// dead name (with its references), under the same names. Receive
    /// rights, send-once rights, port sets and notification requests are
    /// not copied. All or nothing: if `child` cannot take every name (its
    /// allowance or limit, or a name or port it already holds), nothing
    /// changes. Copying a send right is not a make-send: no-senders
    /// thresholds are not affected. Returns how many names were copied.
    pub fn inherit_send_rights(&mut self, parent: SpaceId, child: SpaceId) -> Result<usize, KernReturn> {
        if parent == child {
            return Err(KernReturn::InvalidArgument);
        }
        let parent_space = self.space(parent).ok_or(KernReturn::InvalidTask)?;
        let copies: Vec<(PortName, EntryRights)> = parent_space
            .entries
            .iter()
            .filter_map(|(name, entry)| match entry.rights {
                EntryRights::Port { port, send_references, .. } if send_references > 0 => {
                    Some((name, EntryRights::Port { port, receive: false, send_references }))
                }
                EntryRights::DeadName { references } => Some((name, EntryRights::DeadName { references })),
                _ => None,
            })
            .collect();
        let child_space = self.space(child).ok_or(KernReturn::InvalidTask)?;
        if child_space.entries.len() + copies.len() > child_space.name_capacity() {
            return Err(KernReturn::NoSpace);
        }
        // (A new task's space is empty: nothing to collide with.)
        for (name, rights) in copies.iter().filter(|_| child_space.entries.len() > 0) {
            if child_space.entries.get(name).is_some() || child_space.entries.index_taken_by_other(*name) {
                return Err(KernReturn::NameExists);
            }
            if let EntryRights::Port { port, .. } = rights {
                if child_space.names_by_port.contains_key(port) {
                    return Err(KernReturn::RightExists);
                }
            }
        }
        let count = copies.len();
        let mut reverse = Vec::with_capacity(count);
        for &(name, rights) in &copies {
            if let EntryRights::Port { port, .. } = rights {
                if let Some(port_object) = self.port_mut(port) {
                    port_object.send_rights += 1;
                    port_object.holders.insert((child, name));
                }
                reverse.push((port, name));
            }
        }
        let child_space = self.space_mut(child).ok_or(KernReturn::InvalidTask)?;
        for (name, rights) in copies {
            child_space.insert_entry(name, rights);
        }
        // A new task's reverse map is empty: built in one pass, not by
        // thousands of inserts.
        if child_space.names_by_port.is_empty() {
            reverse.sort_unstable();
            child_space.names_by_port = reverse.into_iter().collect();
        } else {
            child_space.names_by_port.extend(reverse);
        }
        Ok(count)
    }

    /// Destroys a space (task exit): every right it holds is destroyed as if
    /// `destroy` were called on every name, with all notifications.
    ///
    /// A batch of names at a time: a full space holds 69,632 names, and
    /// listing them all at once would need a megabyte of contiguous kernel
    /// heap just when a task that filled memory goes away. Destroying a
    /// receive right of the batch turns this space's own send rights to it
    /// into dead names, which a later batch destroys.
    pub fn destroy_space(&mut self, space: SpaceId) -> Result<(), KernReturn> {
        const BATCH: usize = 64;
        self.space(space).ok_or(KernReturn::InvalidTask)?;
        while let Some(space_object) = self.space(space) {
            let mut names = [0 as PortName; BATCH];
            let mut count = 0;
            for (slot, name) in names.iter_mut().zip(space_object.entries.keys()) {
                *slot = name;
                count += 1;
            }
            if count == 0 {
                break;
            }
            let mut rights = Vec::new();
            for &name in &names[..count] {
                rights.extend(self.detach_entry(space, name));
            }
            self.destroy_rights(rights);
        }
        self.spaces.remove(space.0);
        Ok(())
    }
}
