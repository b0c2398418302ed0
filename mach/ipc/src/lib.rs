//! mach-ipc: the portable Mach IPC object model the Mach_R kernel runs.
//!
//! One [`Ipc`] value owns every port, port set and IPC space in generational
//! arenas; the kernel keeps it behind one lock and calls into it from its
//! trap handlers. The crate has no global state, no threads and no
//! scheduler: it never blocks. Where Mach would block, it returns a value
//! that tells the kernel what to do:
//!
//! - a send to a full queue returns [`SendError::QueueFull`] with nothing
//!   changed; the kernel blocks the sender, times out or fails, and retries;
//! - a successful send returns a [`SendOutcome`] naming the port (and port
//!   set) that became non-empty, so the kernel wakes a receiver;
//! - a receive from an empty queue returns [`ReceiveError::Empty`];
//! - [`Ipc::send_direct`] hands a message straight to a waiting receiver
//!   (the RPC fast path): copyin from the sender and copyout into the
//!   receiver in one call, without queueing;
//! - notifications go to an outbox the kernel drains with
//!   [`Ipc::deliver_notifications`] after each operation.
//!
//! Invariants ([`Ipc::check_invariants`] verifies all of them):
//! - a port's send-right count equals the space entries holding send
//!   references to it, plus send rights in queued messages, in the
//!   notification outbox and held by the kernel; likewise for send-once
//!   rights (which also live in notification requests);
//! - a receive right has exactly one holder: a space entry, a message, the
//!   kernel, or none once the port is dead;
//! - one name per port per space for receive and send rights; a separate
//!   name for every send-once right;
//! - no id refers to a freed object; a dead port is freed as soon as no
//!   right to it remains.
//!
//! Destruction never recurses: receive rights found in the queue of a dying
//! port go on an explicit work list.
//!
//! Module map, one object per file: [`port`], [`space`], [`right`],
//! [`message`], [`port_set`], [`notify`]; and one job per file around
//! them: `transition` (an entry's rights taken, placed, detached),
//! `mach_port` (the port-management calls), `copyin` and `copyout` (a
//! message's rights and memory in and out), `queue` (a port's queue, send
//! and receive), `fastpath` (the RPC shapes), `invariants`.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod arena;
mod copyin;
mod copyout;
mod entry_table;
mod fastpath;
mod holders;
mod invariants;
mod kernel_handoff;
mod mach_port;
pub mod message;
pub mod notify;
pub mod port;
pub mod port_set;
mod queue;
pub mod right;
pub mod space;
mod transition;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use mach_abi::{KernReturn, MachMsgReturn, PortName};

use arena::{Arena, ArenaId};
pub use invariants::InvariantViolation;
pub use kernel_handoff::KernelRequest;
pub use message::{
    KernelMessage, KernelMessageTooLarge, MessageItem, ReceiveOptions, ReceiveSource, Received, ReceivedInto,
    TaskMemory,
};
pub use notify::{Notification, NotificationKind};
pub use port::{KernelObject, Port, Receiver};
pub use port_set::PortSet;
pub use right::{CarriedRight, RightKind, USER_REFERENCES_MAX};
pub use space::{Entry, Space, SpaceLimits};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(ArenaId);

        impl $name {
            /// Arena slot index, for the kernel's own tables and for logs.
            pub fn index(self) -> u32 {
                self.0.index
            }
        }
    };
}

id_type!(
    /// A port, as the kernel refers to it (never visible to user space).
    PortId
);
id_type!(
    /// A port set.
    PortSetId
);
id_type!(
    /// An IPC space (one per task).
    SpaceId
);

/// Why a send did not happen. Nothing was changed in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The destination's queue is at its limit: block, time out or fail.
    QueueFull { port: PortId },
    /// `send_direct` could not hand off (the receiver does not receive from
    /// this port, or messages are queued ahead): use [`Ipc::send`].
    HandoffNotPossible,
    /// The send failed with this code.
    Failed(MachMsgReturn),
}

impl From<MachMsgReturn> for SendError {
    fn from(code: MachMsgReturn) -> SendError {
        SendError::Failed(code)
    }
}

/// Why a receive returned no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveError {
    /// Nothing queued: block (or time out) and retry.
    Empty,
    /// The next message needs a buffer of `needed` bytes (trailer included).
    /// With `ReceiveOptions::large` it stays queued; without, Mach's rule
    /// applies and it was destroyed.
    TooLarge { needed: usize },
    /// The receive failed with this code (`MACH_RCV_INVALID_NAME`,
    /// `MACH_RCV_PORT_DIED`...).
    Failed(MachMsgReturn),
    /// Naming every right of the next message could take the space to
    /// `names` names, past its allowance ([`Ipc::set_name_allowance`]).
    /// Nothing was taken: raise the allowance and retry, or retry with
    /// `ReceiveOptions::allowance_final`.
    NamesNeeded { names: usize },
}

/// What a successful enqueue made non-empty: the kernel wakes a thread
/// receiving on `port`, or on `port_set` when the port is in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendOutcome {
    pub port: PortId,
    pub port_set: Option<PortSetId>,
    /// Where the receive right is: the kernel wakes a receiver in this space,
    /// or handles the message itself for a kernel port.
    pub receiver: Receiver,
}

/// The whole IPC state: every port, port set and space.
#[derive(Default)]
pub struct Ipc {
    pub(crate) ports: Arena<Port>,
    pub(crate) port_sets: Arena<PortSet>,
    pub(crate) spaces: Arena<Space>,
    pub(crate) outbox: VecDeque<Notification>,
    /// Out-of-line memory tokens of destroyed messages, for the kernel's VM
    /// to free ([`Ipc::take_released_regions`]).
    pub(crate) released_regions: Vec<u64>,
    /// Stamp given to each enqueued message, for FIFO across a port set.
    pub(crate) arrival_clock: u64,
    /// Kernel ports whose last send right went, for the kernel to look at
    /// ([`Ipc::take_kernel_ports_without_senders`]): a task nobody can
    /// name any more may have to go.
    pub(crate) kernel_ports_without_senders: Vec<PortId>,
    /// Spaces some of whose queued messages left their queues since the
    /// last [`Ipc::pop_sender_of_dequeued`].
    pub(crate) senders_of_dequeued: Vec<SpaceId>,
    /// Counts the receive rights that left their space (moved, destroyed)
    /// and the port sets destroyed: see [`Ipc::receivers_changed`].
    pub(crate) receivers_changed: u64,
}

impl Ipc {
    /// An empty IPC state.
    pub fn new() -> Ipc {
        Ipc::default()
    }

    /// A count that changes whenever a receive right leaves its space
    /// (moved in a message, destroyed), a kernel object's port is destroyed
    /// or a port set is destroyed: the only events after which a thread
    /// waiting to receive from a port or set, or for room in a port's
    /// queue, may wait in vain, or a device binding's port or owner (whose
    /// task port dies with it) may be gone. The kernel looks for such
    /// waiters and bindings again only when it changed.
    pub fn receivers_changed(&self) -> u64 {
        self.receivers_changed
    }

    /// The port, if the id is current.
    #[inline]
    pub fn port(&self, port: PortId) -> Option<&Port> {
        self.ports.get(port.0)
    }

    /// The space, if the id is current.
    #[inline]
    pub fn space(&self, space: SpaceId) -> Option<&Space> {
        self.spaces.get(space.0)
    }

    /// The port set, if the id is current.
    #[inline]
    pub fn port_set(&self, set: PortSetId) -> Option<&PortSet> {
        self.port_sets.get(set.0)
    }

    /// Number of ports allocated (alive or dead-but-referenced).
    pub fn port_count(&self) -> usize {
        self.ports.len()
    }

    /// Number of port sets.
    pub fn port_set_count(&self) -> usize {
        self.port_sets.len()
    }

    /// Number of spaces.
    pub fn space_count(&self) -> usize {
        self.spaces.len()
    }

    /// Notifications waiting in the outbox.
    pub fn pending_notifications(&self) -> impl Iterator<Item = &Notification> {
        self.outbox.iter()
    }

    /// Tokens of out-of-line regions whose messages were destroyed; the
    /// kernel frees them.
    /// True if notifications or released out-of-line regions wait for the
    /// kernel to handle them (what `deliver_notifications` and
    /// `take_released_regions` would hand over).
    pub fn has_pending_work(&self) -> bool {
        !self.outbox.is_empty() || !self.released_regions.is_empty() || !self.kernel_ports_without_senders.is_empty()
    }

    /// Kernel ports that lost their last send right since the last call
    /// (each at most once per loss; look at the port again: a right may
    /// have been made since).
    pub fn take_kernel_ports_without_senders(&mut self) -> Vec<PortId> {
        core::mem::take(&mut self.kernel_ports_without_senders)
    }

    /// True if queued messages left their queues since the last
    /// [`Ipc::pop_sender_of_dequeued`] emptied the list.
    pub fn has_senders_of_dequeued(&self) -> bool {
        !self.senders_of_dequeued.is_empty()
    }

    /// One of the spaces whose queued messages left their queues (received
    /// or destroyed) since it was last asked (each once in a row), or
    /// `None`. One at a time, so the list keeps its room: a message
    /// received costs no allocation.
    pub fn pop_sender_of_dequeued(&mut self) -> Option<SpaceId> {
        self.senders_of_dequeued.pop()
    }

    pub fn take_released_regions(&mut self) -> Vec<u64> {
        core::mem::take(&mut self.released_regions)
    }

    pub(crate) fn port_mut(&mut self, port: PortId) -> Option<&mut Port> {
        self.ports.get_mut(port.0)
    }

    pub(crate) fn space_mut(&mut self, space: SpaceId) -> Option<&mut Space> {
        self.spaces.get_mut(space.0)
    }

    // ---- Kernel-object ports and kernel-held rights ----

    /// Allocates a port whose receive right the kernel holds (a task,
    /// thread, host or device port), tagged with `object`.
    pub fn allocate_kernel_port(&mut self, object: KernelObject) -> PortId {
        PortId(self.ports.insert(Port::new(Receiver::Kernel, object)))
    }

    /// Re-tags a port (0 detaches the kernel object).
    pub fn set_kernel_object(&mut self, port: PortId, object: KernelObject) -> Result<(), KernReturn> {
        self.port_mut(port).ok_or(KernReturn::InvalidName)?.kernel_object = object;
        Ok(())
    }

    /// Makes a send right to a live port for the kernel to hand out
    /// (`task_self`...). Counts as a make-send.
    pub fn make_send(&mut self, port: PortId) -> Result<CarriedRight, KernReturn> {
        let port_object = self.port_mut(port).filter(|p| p.is_alive()).ok_or(KernReturn::InvalidName)?;
        port_object.make_send_count = port_object.make_send_count.wrapping_add(1);
        port_object.send_rights += 1;
        port_object.kernel_held.send += 1;
        Ok(CarriedRight::Port { port, kind: RightKind::Send })
    }

    /// Makes a send-once right to a live port for the kernel.
    pub fn make_send_once(&mut self, port: PortId) -> Result<CarriedRight, KernReturn> {
        let port_object = self.port_mut(port).filter(|p| p.is_alive()).ok_or(KernReturn::InvalidName)?;
        port_object.send_once_rights += 1;
        port_object.kernel_held.send_once += 1;
        Ok(CarriedRight::Port { port, kind: RightKind::SendOnce })
    }

    /// Gives back a right the kernel held, destroying it (send-once rights
    /// produce a send-once notification, receive rights destroy the port).
    pub fn release(&mut self, right: CarriedRight) {
        self.unhold(&right);
        self.destroy_rights(alloc::vec![right]);
    }

    /// Destroys a kernel-object port: like destroying a receive right.
    pub fn destroy_kernel_port(&mut self, port: PortId) -> Result<(), KernReturn> {
        let port_object = self.port_mut(port).ok_or(KernReturn::InvalidName)?;
        if port_object.receiver != Receiver::Kernel {
            return Err(KernReturn::InvalidRight);
        }
        port_object.receiver = Receiver::InTransit { queued_on: None };
        self.destroy_rights(alloc::vec![CarriedRight::Port { port, kind: RightKind::Receive }]);
        Ok(())
    }

    /// Marks a right as held by the kernel (it left the books of spaces and
    /// queues).
    pub(crate) fn hold(&mut self, right: &CarriedRight) {
        if let Some((port, kind)) = right.port() {
            if let Some(port_object) = self.port_mut(port) {
                let held = &mut port_object.kernel_held;
                match kind {
                    RightKind::Receive => held.receive += 1,
                    RightKind::Send => held.send += 1,
                    RightKind::SendOnce => held.send_once += 1,
                }
            }
        }
    }

    /// Marks a right as no longer held by the kernel.
    pub(crate) fn unhold(&mut self, right: &CarriedRight) {
        if let Some((port, kind)) = right.port() {
            if let Some(port_object) = self.port_mut(port) {
                let held = &mut port_object.kernel_held;
                let counter = match kind {
                    RightKind::Receive => &mut held.receive,
                    RightKind::Send => &mut held.send,
                    RightKind::SendOnce => &mut held.send_once,
                };
                *counter = counter.saturating_sub(1);
            }
        }
    }

    // ---- Destruction: the one path that releases rights ----

    /// Destroys rights that left every space and message. Uses an explicit
    /// work list: a receive right in the queue of a dying port is pushed,
    /// not recursed into.
    pub(crate) fn destroy_rights(&mut self, rights: Vec<CarriedRight>) {
        let mut work = rights;
        while let Some(right) = work.pop() {
            self.destroy_right(right, &mut work);
        }
    }

    /// [`Ipc::destroy_rights`] for the rights of one entry, in the same
    /// order (the last first), with a work list that allocates only if a
    /// destroyed receive right brings more (its queue, a no-senders right).
    pub(crate) fn destroy_detached(&mut self, rights: transition::DetachedRights) {
        let mut work = Vec::new();
        for right in rights.into_iter().rev() {
            self.destroy_right(right, &mut work);
            while let Some(right) = work.pop() {
                self.destroy_right(right, &mut work);
            }
        }
    }

    fn destroy_right(&mut self, right: CarriedRight, work: &mut Vec<CarriedRight>) {
        match right {
            CarriedRight::Dead => {}
            CarriedRight::Port { port, kind: RightKind::Send } => self.release_send(port),
            CarriedRight::Port { port, kind: RightKind::SendOnce } => self.release_send_once(port),
            CarriedRight::Port { port, kind: RightKind::Receive } => self.destroy_receive(port, work),
        }
    }

    /// One send right is gone.
    pub(crate) fn release_send(&mut self, port: PortId) {
        let Some(port_object) = self.port_mut(port) else {
            return;
        };
        port_object.send_rights = port_object.send_rights.saturating_sub(1);
        self.check_no_senders(port);
        self.free_if_unreferenced(port);
    }

    /// A send-once right is destroyed unused: if the port lives, the right
    /// is used to send it a send-once notification (Mach's rule); otherwise
    /// it is simply gone.
    pub(crate) fn release_send_once(&mut self, port: PortId) {
        let Some(port_object) = self.port_mut(port) else {
            return;
        };
        if port_object.is_alive() {
            self.outbox.push_back(Notification {
                destination: CarriedRight::Port { port, kind: RightKind::SendOnce },
                kind: NotificationKind::SendOnce,
            });
            return;
        }
        port_object.send_once_rights = port_object.send_once_rights.saturating_sub(1);
        self.free_if_unreferenced(port);
    }

    /// Fires the no-senders request if the port has no usable send right
    /// left and its make-send count reached the request's threshold.
    ///
    /// A send right that is the destination of a message queued on the port
    /// itself is not usable: it goes away when the message is received and
    /// cannot be copied or moved meanwhile. So the notification fires when
    /// the last *other* send right goes (the last `port_deallocate`, the
    /// holder's task ending) and is queued behind the messages sent before
    /// it, ahead of every message sent after it. A server receiving from a
    /// port set (which delivers in arrival order) therefore handles the
    /// requests sent before the last close, then the notification, then
    /// anything sent later; waiting for the queued destinations to be
    /// received would put the notification behind later requests.
    pub(crate) fn check_no_senders(&mut self, port: PortId) {
        let Some(port_object) = self.port_mut(port) else {
            return;
        };
        if !port_object.is_alive() || port_object.send_rights > port_object.queued_send_destinations {
            return;
        }
        if port_object.receiver == Receiver::Kernel && port_object.send_rights == 0 {
            self.kernel_ports_without_senders.push(port);
            return;
        }
        let make_send_count = port_object.make_send_count;
        let ready = matches!(port_object.requests.no_senders, Some((_, sync)) if make_send_count >= sync);
        if !ready {
            return;
        }
        if let Some((destination, _)) = port_object.requests.no_senders.take() {
            self.outbox.push_back(Notification { destination, kind: NotificationKind::NoSenders { make_send_count } });
        }
    }

    /// A queued message leaves its queue: its sender's counts go down, and
    /// the sender is reported ([`Ipc::pop_sender_of_dequeued`]) so the
    /// kernel can give back what it charged for the message.
    pub(crate) fn uncount_queued(&mut self, message: &KernelMessage) {
        let Some(space) = message.charged_to else { return };
        let Some(space_object) = self.space_mut(space) else { return };
        space_object.queued_messages = space_object.queued_messages.saturating_sub(1);
        space_object.queued_bytes = space_object.queued_bytes.saturating_sub(message.inline_data.len());
        if self.senders_of_dequeued.last() != Some(&space) {
            self.senders_of_dequeued.push(space);
        }
    }

    pub(crate) fn free_if_unreferenced(&mut self, port: PortId) {
        if self.port(port).is_some_and(|p| p.is_unreferenced() && p.queue.is_empty() && p.requests.is_empty()) {
            self.ports.free(port.0);
        }
    }

    /// The receive right of `port`, already detached from its holder
    /// (receiver is `InTransit`), is destroyed.
    fn destroy_receive(&mut self, port: PortId, work: &mut Vec<CarriedRight>) {
        self.receivers_changed = self.receivers_changed.wrapping_add(1);
        let Some(port_object) = self.port_mut(port) else {
            return;
        };
        // Mach: a port-destroyed request rescues the receive right, which
        // travels back to the requester in the notification.
        if let Some(destination) = port_object.requests.port_destroyed.take() {
            port_object.receiver = Receiver::InTransit { queued_on: None };
            let set = port_object.port_set.take();
            self.leave_port_set(port, set);
            self.outbox.push_back(Notification {
                destination,
                kind: NotificationKind::PortDestroyed {
                    receive: CarriedRight::Port { port, kind: RightKind::Receive },
                },
            });
            return;
        }
        port_object.receiver = Receiver::Dead;
        let set = port_object.port_set.take();
        let holders = core::mem::take(&mut port_object.holders);
        // (Most ports die with no request: an empty map is not taken and walked.)
        let dead_name_requests =
            (!port_object.requests.dead_name.is_empty()).then(|| core::mem::take(&mut port_object.requests.dead_name));
        let no_senders = port_object.requests.no_senders.take();
        let queue = core::mem::take(&mut port_object.queue);
        port_object.queued_send_destinations = 0;
        self.leave_port_set(port, set);
        for (space, name) in holders {
            self.entry_to_dead_name(space, name, port);
        }
        for ((space, name), destination) in dead_name_requests.into_iter().flatten() {
            // Mach: the notification holds one more reference on the dead
            // name, so the name is not reused before the holder sees it.
            if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
                if let right::EntryRights::DeadName { references } = &mut entry.rights {
                    if right::references_fit(*references, 1) {
                        *references += 1;
                    }
                }
            }
            self.outbox.push_back(Notification { destination, kind: NotificationKind::DeadName { name } });
        }
        if let Some((right, _)) = no_senders {
            work.push(right);
        }
        for message in queue {
            self.discard_message(message, work);
        }
        self.free_if_unreferenced(port);
    }

    /// Turns the entry `name` of `space`, which names the now dead `port`,
    /// into a dead name keeping its user references.
    fn entry_to_dead_name(&mut self, space: SpaceId, name: PortName, port: PortId) {
        let Some(space_object) = self.spaces.get_mut(space.0) else {
            return;
        };
        let Some(entry) = space_object.entries.get_mut(&name) else {
            return;
        };
        let (references, was_send, was_send_once) = match entry.rights {
            right::EntryRights::Port { port: entry_port, send_references, .. } if entry_port == port => {
                (send_references, send_references > 0, false)
            }
            right::EntryRights::SendOnce { port: entry_port } if entry_port == port => (1, false, true),
            _ => return,
        };
        space_object.names_by_port.remove(&port);
        if references == 0 {
            space_object.remove_name(name);
        } else {
            entry.rights = right::EntryRights::DeadName { references };
        }
        if let Some(port_object) = self.port_mut(port) {
            if was_send {
                port_object.send_rights = port_object.send_rights.saturating_sub(1);
            }
            if was_send_once {
                port_object.send_once_rights = port_object.send_once_rights.saturating_sub(1);
            }
        }
    }

    /// Destroys a message that will never be received: its rights are
    /// destroyed (receive rights pushed on `work`), its memory released.
    pub(crate) fn discard_message(&mut self, message: KernelMessage, work: &mut Vec<CarriedRight>) {
        self.uncount_queued(&message);
        let (rights, regions) = message.into_parts();
        self.released_regions.extend(regions);
        work.extend(rights);
    }

    pub(crate) fn leave_port_set(&mut self, port: PortId, set: Option<PortSetId>) {
        if let Some(set) = set {
            if let Some(set_object) = self.port_sets.get_mut(set.0) {
                set_object.members.remove(&port);
                set_object.mark_empty(port);
            }
        }
    }

    // ---- Notification delivery ----

    /// Delivers the oldest pending notification as a message. `None` when
    /// the outbox is empty; `Some(None)` when it was destroyed instead
    /// (its port died); `Some(Some(outcome))` when it was queued.
    pub fn deliver_notification(&mut self) -> Option<Option<SendOutcome>> {
        let notification = self.outbox.pop_front()?;
        let message = KernelMessage::from_notification(notification);
        Some(self.enqueue_kernel_message(message))
    }

    /// Delivers every pending notification (including those that delivery
    /// itself produces) and returns the ports that became non-empty.
    ///
    /// Terminates: every delivery consumes a send-once right and no
    /// delivery creates one.
    pub fn deliver_notifications(&mut self) -> Vec<SendOutcome> {
        let mut woken = Vec::new();
        while let Some(outcome) = self.deliver_notification() {
            woken.extend(outcome);
        }
        woken
    }
}
