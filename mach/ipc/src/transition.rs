//! Right transitions: how the rights of a space's entry are taken, placed
//! and detached, and a port's receive right attached to an entry (as xnu's
//! ipc_right.c). Copy-in, copy-out and the port calls are built on these.

use alloc::vec;

use mach_abi::{Disposition, KernReturn, PortName};

use crate::notify::{Notification, NotificationKind};
use crate::port::{Port, Receiver};
use crate::right::{references_fit, take_right, CarriedRight, EntryRights, RightKind, Taken};
use crate::space::Space;
use crate::{Ipc, PortId, SpaceId};

/// The rights one entry held, taken out of its space: at most a receive
/// and a send right (or one send-once right), kept inline, so destroying a
/// name allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct DetachedRights {
    rights: [Option<CarriedRight>; 2],
}

impl DetachedRights {
    fn push(&mut self, right: CarriedRight) {
        let slot = self.rights.iter_mut().find(|slot| slot.is_none()).expect("an entry holds at most two rights");
        *slot = Some(right);
    }
}

impl IntoIterator for DetachedRights {
    type Item = CarriedRight;
    type IntoIter = core::iter::Flatten<core::array::IntoIter<Option<CarriedRight>, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.rights.into_iter().flatten()
    }
}

impl Ipc {
    pub(crate) fn entry_rights(&self, space: SpaceId, name: PortName) -> Result<EntryRights, KernReturn> {
        let space_object = self.space(space).ok_or(KernReturn::InvalidTask)?;
        space_object.entries.get(&name).map(|entry| entry.rights).ok_or(KernReturn::InvalidName)
    }

    /// Removes a name and returns the rights it held, detached (receive
    /// rights leave their port set and become in transit). A dead-name
    /// request on the name is cancelled with a port-deleted notification.
    pub(crate) fn detach_entry(&mut self, space: SpaceId, name: PortName) -> DetachedRights {
        let Some(entry) = self.space_mut(space).and_then(|s| s.remove_name(name)) else {
            return DetachedRights::default();
        };
        let mut rights = DetachedRights::default();
        match entry.rights {
            EntryRights::Port { port, receive, send_references } => {
                if let Some(space_object) = self.space_mut(space) {
                    space_object.names_by_port.remove(&port);
                }
                self.cancel_dead_name_request(space, name, port);
                if let Some(port_object) = self.port_mut(port) {
                    port_object.holders.remove(&(space, name));
                }
                if receive {
                    self.detach_receive(port);
                    rights.push(CarriedRight::Port { port, kind: RightKind::Receive });
                }
                if send_references > 0 {
                    rights.push(CarriedRight::Port { port, kind: RightKind::Send });
                }
            }
            EntryRights::SendOnce { port } => {
                self.cancel_dead_name_request(space, name, port);
                if let Some(port_object) = self.port_mut(port) {
                    port_object.holders.remove(&(space, name));
                }
                rights.push(CarriedRight::Port { port, kind: RightKind::SendOnce });
            }
            EntryRights::DeadName { .. } => {}
            EntryRights::PortSet { set } => {
                if let Some(set_object) = self.port_sets.remove(set.0) {
                    self.receivers_changed = self.receivers_changed.wrapping_add(1);
                    for member in set_object.members {
                        if let Some(port_object) = self.port_mut(member) {
                            port_object.port_set = None;
                        }
                    }
                }
            }
        }
        rights
    }

    /// The receive right of `port` leaves its space: in transit, out of its set.
    pub(crate) fn detach_receive(&mut self, port: PortId) {
        self.receivers_changed = self.receivers_changed.wrapping_add(1);
        if let Some(port_object) = self.port_mut(port) {
            port_object.receiver = Receiver::InTransit { queued_on: None };
            let set = port_object.port_set.take();
            self.leave_port_set(port, set);
        }
    }

    /// Cancels the dead-name request registered for (space, name) on `port`,
    /// sending port-deleted through its right.
    pub(crate) fn cancel_dead_name_request(&mut self, space: SpaceId, name: PortName, port: PortId) {
        let request = self.port_mut(port).and_then(|p| p.requests.dead_name.remove(&(space, name)));
        if let Some(destination) = request {
            self.outbox.push_back(Notification { destination, kind: NotificationKind::PortDeleted { name } });
        }
    }

    /// Frees `name` if its entry holds nothing any more, keeping the port's
    /// bookkeeping in step.
    pub(crate) fn remove_if_empty(&mut self, space: SpaceId, name: PortName) {
        let Ok(rights) = self.entry_rights(space, name) else {
            return;
        };
        if !rights.is_empty() {
            return;
        }
        if let EntryRights::Port { port, .. } = rights {
            self.cancel_dead_name_request(space, name, port);
            if let Some(port_object) = self.port_mut(port) {
                port_object.holders.remove(&(space, name));
            }
            if let Some(space_object) = self.space_mut(space) {
                space_object.names_by_port.remove(&port);
            }
        }
        if let Some(space_object) = self.space_mut(space) {
            space_object.remove_name(name);
        }
    }

    /// Takes a right out of an entry for real (the commit step of a copyin)
    /// and keeps the port's counters right. The right is returned detached.
    pub(crate) fn commit_take(
        &mut self,
        space: SpaceId,
        name: PortName,
        disposition: Disposition,
    ) -> Result<CarriedRight, KernReturn> {
        let mut rights = self.entry_rights(space, name)?;
        let before = rights;
        let taken = take_right(&mut rights, disposition).map_err(|_| KernReturn::InvalidRight)?;
        if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
            entry.rights = rights;
        }
        let carried = match taken {
            Taken::Dead => CarriedRight::Dead,
            Taken::Port { port, kind, created } => {
                let port_object = self.port_mut(port).ok_or(KernReturn::InvalidName)?;
                match (kind, created) {
                    (RightKind::Send, true) => {
                        port_object.send_rights += 1;
                        if disposition == Disposition::MakeSend {
                            port_object.make_send_count = port_object.make_send_count.wrapping_add(1);
                        }
                    }
                    (RightKind::SendOnce, true) => port_object.send_once_rights += 1,
                    (RightKind::Send, false) => {
                        let remaining =
                            matches!(rights, EntryRights::Port { send_references, .. } if send_references > 0);
                        if remaining {
                            // The entry still counts as one send right; the
                            // moved reference is a second one.
                            port_object.send_rights += 1;
                        } else {
                            // The entry no longer holds send rights: a
                            // dead-name request on it is cancelled.
                            self.cancel_dead_name_request(space, name, port);
                        }
                    }
                    (RightKind::Receive, _) => self.detach_receive(port),
                    (RightKind::SendOnce, false) => {
                        if let Some(port_object) = self.port_mut(port) {
                            port_object.holders.remove(&(space, name));
                        }
                        self.cancel_dead_name_request(space, name, port);
                    }
                }
                CarriedRight::Port { port, kind }
            }
        };
        if matches!(before, EntryRights::SendOnce { .. }) && rights.is_empty() {
            if let Some(space_object) = self.space_mut(space) {
                space_object.remove_name(name);
            }
        } else {
            self.remove_if_empty(space, name);
        }
        Ok(carried)
    }

    /// Gives a detached right a name in `space` (message copyout, kernel
    /// insertion). Returns the name, or `None` when the space is full, in
    /// which case the right is destroyed. Rights to dead ports become
    /// `MACH_PORT_DEAD`.
    pub(crate) fn copyout_right(&mut self, space: SpaceId, right: CarriedRight) -> Option<PortName> {
        let Some((port, kind)) = right.port() else {
            return Some(mach_abi::MACH_PORT_DEAD);
        };
        if !self.port(port).is_some_and(Port::is_alive) || self.space(space).is_none() {
            self.destroy_rights(vec![right]);
            return Some(mach_abi::MACH_PORT_DEAD);
        }
        let existing = self.space(space).and_then(|s| s.name_of(port));
        match (kind, existing) {
            (RightKind::Send, Some(name)) => {
                if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
                    if let EntryRights::Port { send_references, .. } = &mut entry.rights {
                        if *send_references == 0 {
                            // The entry had the receive right only: the
                            // carried right becomes the entry's send right.
                            *send_references = 1;
                            return Some(name);
                        }
                        if references_fit(*send_references, 1) {
                            *send_references += 1;
                        }
                    }
                }
                // Two send rights became one entry's count (or, at the
                // reference limit, the incoming right is dropped: xnu
                // saturates too).
                self.release_send(port);
                Some(name)
            }
            (RightKind::Receive, Some(name)) => {
                if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
                    if let EntryRights::Port { receive, .. } = &mut entry.rights {
                        *receive = true;
                    }
                }
                self.attach_receive(port, space, name);
                Some(name)
            }
            _ => {
                let Some(name) = self.space_mut(space).and_then(Space::allocate_name) else {
                    self.destroy_rights(vec![right]);
                    return None;
                };
                let rights = match kind {
                    RightKind::Receive => EntryRights::Port { port, receive: true, send_references: 0 },
                    RightKind::Send => EntryRights::Port { port, receive: false, send_references: 1 },
                    RightKind::SendOnce => EntryRights::SendOnce { port },
                };
                self.place_entry(space, name, rights);
                if kind == RightKind::Receive {
                    self.attach_receive(port, space, name);
                }
                Some(name)
            }
        }
    }

    /// Inserts a new entry for a right to `port` and records the holder.
    /// A send-once right used as a message's destination (MOVE_SEND_ONCE)
    /// and consumed by its delivery: what [`Ipc::commit_take`] and
    /// [`Ipc::destroy_consumed_destination`] do to it, in that order,
    /// without their general dispatch (the fast path's reply, whose entry
    /// `name` it checked to be the send-once right of `port`). `None`, with
    /// nothing changed, if it is not.
    pub(crate) fn consume_send_once(&mut self, space: SpaceId, name: PortName, port: PortId) -> Option<()> {
        match self.space(space)?.entries.get(&name)?.rights {
            EntryRights::SendOnce { port: held } if held == port => {}
            _ => return None,
        }
        self.port_mut(port)?.holders.remove(&(space, name));
        self.cancel_dead_name_request(space, name, port);
        self.space_mut(space)?.remove_name(name);
        let port_object = self.port_mut(port)?;
        port_object.send_once_rights = port_object.send_once_rights.saturating_sub(1);
        self.free_if_unreferenced(port);
        Some(())
    }

    pub(crate) fn place_entry(&mut self, space: SpaceId, name: PortName, rights: EntryRights) {
        let port = match rights {
            EntryRights::Port { port, .. } | EntryRights::SendOnce { port } => Some(port),
            _ => None,
        };
        if let Some(space_object) = self.space_mut(space) {
            space_object.insert_entry(name, rights);
            if let (Some(port), EntryRights::Port { .. }) = (port, rights) {
                space_object.names_by_port.insert(port, name);
            }
        }
        if let Some(port) = port {
            if let Some(port_object) = self.port_mut(port) {
                port_object.holders.insert((space, name));
            }
        }
    }

    pub(crate) fn attach_receive(&mut self, port: PortId, space: SpaceId, name: PortName) {
        if let Some(port_object) = self.port_mut(port) {
            port_object.receiver = Receiver::Space { space, name };
            port_object.holders.insert((space, name));
        }
    }
}
