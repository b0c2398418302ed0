//! The port-management calls on a space (as xnu's mach_port.c):
//! allocate, deallocate, destroy, user references, rights inserted and
//! extracted, port types, set membership, attributes and notification
//! requests.

use alloc::vec;
use alloc::vec::Vec;

use mach_abi::{
    port_name_is_valid, Disposition, KernReturn, NotifyId, PortFlavor, PortLimits, PortName, PortRight, PortStatus,
    PortType, MACH_PORT_NULL, MACH_PORT_QLIMIT_MAX, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_DNREQUEST,
    MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE,
};

use crate::notify::{Notification, NotificationKind};
use crate::port::{Port, Receiver};
use crate::port_set::PortSet;
use crate::right::{references_fit, take_right, CarriedRight, EntryRights, RightKind, Taken, USER_REFERENCES_MAX};
use crate::space::Space;
use crate::{Ipc, PortId, SpaceId};

/// Attributes returned by [`Ipc::get_attributes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortAttributes {
    Limits(PortLimits),
    Status(PortStatus),
    DeadNameRequestCount(u32),
}

impl PortAttributes {
    /// The attributes as the `u32` words the trap copies out.
    pub fn to_words(&self) -> Vec<u32> {
        match self {
            PortAttributes::Limits(limits) => vec![limits.queue_limit],
            PortAttributes::Status(status) => status.to_words().to_vec(),
            PortAttributes::DeadNameRequestCount(count) => vec![*count],
        }
    }
}

impl Ipc {
    /// `mach_port_allocate`: a new receive right, port set or dead name.
    pub fn allocate(&mut self, space: SpaceId, right: PortRight) -> Result<PortName, KernReturn> {
        let space_object = self.space_mut(space).ok_or(KernReturn::InvalidTask)?;
        if !matches!(right, PortRight::Receive | PortRight::PortSet | PortRight::DeadName) {
            return Err(KernReturn::InvalidValue);
        }
        let name = space_object.allocate_name().ok_or(KernReturn::NoSpace)?;
        match right {
            PortRight::Receive => {
                let port = PortId(self.ports.insert(Port::new(Receiver::Space { space, name }, 0)));
                self.place_entry(space, name, EntryRights::Port { port, receive: true, send_references: 0 });
            }
            PortRight::PortSet => {
                let set = crate::PortSetId(self.port_sets.insert(PortSet::new(space, name)));
                self.place_entry(space, name, EntryRights::PortSet { set });
            }
            _ => self.place_entry(space, name, EntryRights::DeadName { references: 1 }),
        }
        Ok(name)
    }

    /// `mach_port_deallocate`: drops one user reference of a send right or
    /// dead name, or a send-once right. NULL and DEAD succeed doing nothing.
    pub fn deallocate(&mut self, space: SpaceId, name: PortName) -> Result<(), KernReturn> {
        if self.space(space).is_none() {
            return Err(KernReturn::InvalidTask);
        }
        if !port_name_is_valid(name) {
            return Ok(());
        }
        match self.entry_rights(space, name)? {
            EntryRights::Port { send_references, .. } if send_references > 0 => {
                self.add_send_references(space, name, -1)
            }
            EntryRights::SendOnce { .. } => {
                let rights = self.detach_entry(space, name);
                self.destroy_detached(rights);
                Ok(())
            }
            EntryRights::DeadName { .. } => self.add_dead_references(space, name, -1),
            _ => Err(KernReturn::InvalidRight),
        }
    }

    /// `mach_port_destroy`: removes every right the name denotes.
    pub fn destroy(&mut self, space: SpaceId, name: PortName) -> Result<(), KernReturn> {
        if self.space(space).is_none() {
            return Err(KernReturn::InvalidTask);
        }
        if !port_name_is_valid(name) {
            return Ok(());
        }
        self.entry_rights(space, name)?;
        let rights = self.detach_entry(space, name);
        self.destroy_detached(rights);
        Ok(())
    }

    /// `mach_port_mod_refs`.
    pub fn mod_refs(&mut self, space: SpaceId, name: PortName, right: PortRight, delta: i32) -> Result<(), KernReturn> {
        if self.space(space).is_none() {
            return Err(KernReturn::InvalidTask);
        }
        if !port_name_is_valid(name) {
            return if delta == 0 { Ok(()) } else { Err(KernReturn::InvalidName) };
        }
        let rights = self.entry_rights(space, name)?;
        match (right, rights) {
            (PortRight::Send, EntryRights::Port { send_references, .. }) if send_references > 0 => {
                self.add_send_references(space, name, delta)
            }
            (PortRight::DeadName, EntryRights::DeadName { .. }) => self.add_dead_references(space, name, delta),
            (PortRight::Receive, EntryRights::Port { port, receive: true, .. }) => match delta {
                0 => Ok(()),
                -1 => {
                    self.take_receive_from_entry(space, name, port);
                    self.destroy_rights(vec![CarriedRight::Port { port, kind: RightKind::Receive }]);
                    Ok(())
                }
                _ => Err(KernReturn::InvalidValue),
            },
            (PortRight::SendOnce, EntryRights::SendOnce { .. }) | (PortRight::PortSet, EntryRights::PortSet { .. }) => {
                match delta {
                    0 => Ok(()),
                    -1 => {
                        let rights = self.detach_entry(space, name);
                        self.destroy_detached(rights);
                        Ok(())
                    }
                    _ => Err(KernReturn::InvalidValue),
                }
            }
            _ => Err(KernReturn::InvalidRight),
        }
    }

    /// Removes the receive bit of an entry (the send references stay under
    /// the name) and detaches the receive right.
    pub(crate) fn take_receive_from_entry(&mut self, space: SpaceId, name: PortName, port: PortId) {
        if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
            if let EntryRights::Port { receive, .. } = &mut entry.rights {
                *receive = false;
            }
        }
        self.detach_receive(port);
        self.remove_if_empty(space, name);
    }

    pub(crate) fn add_send_references(&mut self, space: SpaceId, name: PortName, delta: i32) -> Result<(), KernReturn> {
        let Ok(EntryRights::Port { port, receive, send_references }) = self.entry_rights(space, name) else {
            return Err(KernReturn::InvalidRight);
        };
        let updated = apply_delta(send_references, delta)?;
        if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
            entry.rights = EntryRights::Port { port, receive, send_references: updated };
        }
        if updated == 0 {
            self.cancel_dead_name_request(space, name, port);
            self.remove_if_empty(space, name);
            self.release_send(port);
        }
        Ok(())
    }

    pub(crate) fn add_dead_references(&mut self, space: SpaceId, name: PortName, delta: i32) -> Result<(), KernReturn> {
        let Ok(EntryRights::DeadName { references }) = self.entry_rights(space, name) else {
            return Err(KernReturn::InvalidRight);
        };
        let updated = apply_delta(references, delta)?;
        if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
            entry.rights = EntryRights::DeadName { references: updated };
        }
        self.remove_if_empty(space, name);
        Ok(())
    }

    /// `mach_port_type`.
    pub fn port_type(&self, space: SpaceId, name: PortName) -> Result<PortType, KernReturn> {
        let rights = self.entry_rights(space, name)?;
        let mut port_type = match rights {
            EntryRights::Port { receive, send_references, .. } => {
                (if receive { MACH_PORT_TYPE_RECEIVE } else { 0 })
                    | (if send_references > 0 { MACH_PORT_TYPE_SEND } else { 0 })
            }
            EntryRights::SendOnce { .. } => MACH_PORT_TYPE_SEND_ONCE,
            EntryRights::DeadName { .. } => MACH_PORT_TYPE_DEAD_NAME,
            EntryRights::PortSet { .. } => MACH_PORT_TYPE_PORT_SET,
        };
        if let EntryRights::Port { port, .. } | EntryRights::SendOnce { port } = rights {
            if self.port(port).is_some_and(|p| p.requests.dead_name.contains_key(&(space, name))) {
                port_type |= MACH_PORT_TYPE_DNREQUEST;
            }
        }
        Ok(port_type)
    }

    /// User references of `right` under `name` (`mach_port_get_refs`).
    pub fn get_refs(&self, space: SpaceId, name: PortName, right: PortRight) -> Result<u32, KernReturn> {
        let rights = self.entry_rights(space, name)?;
        Ok(match (right, rights) {
            (PortRight::Send, EntryRights::Port { send_references, .. }) => send_references,
            (PortRight::Receive, EntryRights::Port { receive, .. }) => receive as u32,
            (PortRight::SendOnce, EntryRights::SendOnce { .. }) => 1,
            (PortRight::PortSet, EntryRights::PortSet { .. }) => 1,
            (PortRight::DeadName, EntryRights::DeadName { references }) => references,
            _ => 0,
        })
    }

    /// `mach_port_insert_right`: takes a right from `source` (by name and
    /// disposition, like a message copyin) and gives it the name `name` in
    /// `target`. Fails without effect when `name` is taken by another
    /// right (`KERN_NAME_EXISTS`) or the port already has another name there
    /// (`KERN_RIGHT_EXISTS`).
    pub fn insert_right(
        &mut self,
        target: SpaceId,
        name: PortName,
        source: SpaceId,
        source_name: PortName,
        disposition: u32,
    ) -> Result<(), KernReturn> {
        let disposition = Disposition::from_u32(disposition).ok_or(KernReturn::InvalidValue)?;
        if self.space(target).is_none() || self.space(source).is_none() {
            return Err(KernReturn::InvalidTask);
        }
        if !port_name_is_valid(name) {
            return Err(KernReturn::InvalidValue);
        }
        if self.space(target).is_some_and(|space| space.entries.index_taken_by_other(name)) {
            return Err(KernReturn::NameExists);
        }
        let mut simulated = self.entry_rights(source, source_name)?;
        let taken = take_right(&mut simulated, disposition).map_err(|_| KernReturn::InvalidRight)?;
        let target_space = self.space(target).ok_or(KernReturn::InvalidTask)?;
        let existing = target_space.entries.get(&name).map(|entry| entry.rights);
        let merge = match taken {
            Taken::Dead => match existing {
                Some(EntryRights::DeadName { references }) if references_fit(references, 1) => true,
                Some(EntryRights::DeadName { .. }) => return Err(KernReturn::UrefsOverflow),
                Some(_) => return Err(KernReturn::NameExists),
                None => false,
            },
            Taken::Port { port, kind, .. } => {
                match target_space.name_of(port) {
                    Some(other) if other != name && kind != RightKind::SendOnce => return Err(KernReturn::RightExists),
                    _ => {}
                }
                match (existing, kind) {
                    (None, _) => false,
                    (Some(EntryRights::Port { port: existing_port, send_references, .. }), RightKind::Send)
                        if existing_port == port =>
                    {
                        if !references_fit(send_references, 1) {
                            return Err(KernReturn::UrefsOverflow);
                        }
                        true
                    }
                    (Some(EntryRights::Port { port: existing_port, receive: false, .. }), RightKind::Receive)
                        if existing_port == port =>
                    {
                        true
                    }
                    _ => return Err(KernReturn::NameExists),
                }
            }
        };
        if !merge && self.space(target).is_some_and(Space::is_full) {
            return Err(KernReturn::NoSpace);
        }
        let right = self.commit_take(source, source_name, disposition)?;
        self.place_right_at(target, name, right);
        Ok(())
    }

    /// Puts a detached right under a chosen name (checked by the caller).
    pub(crate) fn place_right_at(&mut self, space: SpaceId, name: PortName, right: CarriedRight) {
        match right {
            CarriedRight::Dead => {
                let existing = self.entry_rights(space, name).ok();
                let references = match existing {
                    Some(EntryRights::DeadName { references }) => references + 1,
                    _ => 1,
                };
                if let Some(space_object) = self.space_mut(space) {
                    space_object.insert_entry(name, EntryRights::DeadName { references });
                }
            }
            CarriedRight::Port { port, kind } => match (self.entry_rights(space, name).ok(), kind) {
                (Some(EntryRights::Port { receive, send_references, .. }), RightKind::Send) => {
                    if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
                        entry.rights = EntryRights::Port { port, receive, send_references: send_references + 1 };
                    }
                    if send_references > 0 {
                        self.release_send(port);
                    }
                }
                (Some(EntryRights::Port { send_references, .. }), RightKind::Receive) => {
                    if let Some(entry) = self.space_mut(space).and_then(|s| s.entries.get_mut(&name)) {
                        entry.rights = EntryRights::Port { port, receive: true, send_references };
                    }
                    self.attach_receive(port, space, name);
                }
                (_, RightKind::Receive) => {
                    self.place_entry(space, name, EntryRights::Port { port, receive: true, send_references: 0 });
                    self.attach_receive(port, space, name);
                }
                (_, RightKind::Send) => {
                    self.place_entry(space, name, EntryRights::Port { port, receive: false, send_references: 1 })
                }
                (_, RightKind::SendOnce) => self.place_entry(space, name, EntryRights::SendOnce { port }),
            },
        }
    }

    /// `mach_port_extract_right`: takes a right out of `space` for the
    /// kernel (which then holds it). Returns the right and its received type.
    pub fn extract_right(
        &mut self,
        space: SpaceId,
        name: PortName,
        disposition: u32,
    ) -> Result<(CarriedRight, u32), KernReturn> {
        let disposition = Disposition::from_u32(disposition).ok_or(KernReturn::InvalidValue)?;
        if self.space(space).is_none() {
            return Err(KernReturn::InvalidTask);
        }
        let right = self.commit_take(space, name, disposition)?;
        self.hold(&right);
        Ok((right, disposition.received_type()))
    }

    /// Gives a kernel-held right a name in `space` (the kernel's copyout:
    /// `task_self`, rights in kernel replies). Returns the name
    /// (`MACH_PORT_DEAD` for a dead right). On failure (`KERN_INVALID_TASK`,
    /// `KERN_NO_SPACE`) the right is handed back, still held by the kernel.
    pub fn insert_carried(
        &mut self,
        space: SpaceId,
        right: CarriedRight,
    ) -> Result<PortName, (KernReturn, CarriedRight)> {
        if self.space(space).is_none() {
            return Err((KernReturn::InvalidTask, right));
        }
        let needs_entry = match right.port() {
            Some((port, RightKind::SendOnce)) => self.port(port).is_some_and(Port::is_alive),
            Some((port, _)) => self.space(space).and_then(|s| s.name_of(port)).is_none(),
            None => false,
        };
        if needs_entry && self.space(space).is_some_and(Space::is_full) {
            return Err((KernReturn::NoSpace, right));
        }
        self.unhold(&right);
        // Cannot fail: the space has room, or the right joins a name.
        Ok(self.copyout_right(space, right).unwrap_or(MACH_PORT_NULL))
    }

    /// `mach_reply_port`: a new receive right in `space`.
    pub fn reply_port(&mut self, space: SpaceId) -> Result<PortName, KernReturn> {
        self.allocate(space, PortRight::Receive)
    }

    /// The port a name's receive, send or send-once right refers to.
    pub fn port_of(&self, space: SpaceId, name: PortName) -> Result<PortId, KernReturn> {
        match self.entry_rights(space, name)? {
            EntryRights::Port { port, .. } | EntryRights::SendOnce { port } => Ok(port),
            _ => Err(KernReturn::InvalidRight),
        }
    }

    /// `mach_port_move_member`: moves the receive right `member` into the
    /// set `after`, or out of its set when `after` is `MACH_PORT_NULL`.
    pub fn move_member(&mut self, space: SpaceId, member: PortName, after: PortName) -> Result<(), KernReturn> {
        let port = match self.entry_rights(space, member)? {
            EntryRights::Port { port, receive: true, .. } => port,
            _ => return Err(KernReturn::InvalidRight),
        };
        let target = if after == MACH_PORT_NULL {
            None
        } else {
            match self.entry_rights(space, after)? {
                EntryRights::PortSet { set } => Some(set),
                _ => return Err(KernReturn::InvalidRight),
            }
        };
        let current = self.port(port).and_then(Port::port_set);
        if target.is_none() && current.is_none() {
            return Err(KernReturn::NotInSet);
        }
        self.leave_port_set(port, current);
        let head = self.port(port).and_then(Port::head_arrival);
        if let Some(set) = target {
            if let Some(set_object) = self.port_sets.get_mut(set.0) {
                set_object.members.insert(port);
                if let Some(arrival) = head {
                    set_object.mark_ready(port, arrival);
                }
            }
        }
        if let Some(port_object) = self.port_mut(port) {
            port_object.port_set = target;
        }
        Ok(())
    }

    /// `mach_port_get_attributes` on a receive right.
    pub fn get_attributes(&self, space: SpaceId, name: PortName, flavor: u32) -> Result<PortAttributes, KernReturn> {
        let flavor = PortFlavor::from_u32(flavor).ok_or(KernReturn::InvalidArgument)?;
        let port = match self.entry_rights(space, name)? {
            EntryRights::Port { port, receive: true, .. } => port,
            _ => return Err(KernReturn::InvalidRight),
        };
        let port_object = self.port(port).ok_or(KernReturn::InvalidName)?;
        Ok(match flavor {
            PortFlavor::LimitsInfo => PortAttributes::Limits(PortLimits { queue_limit: port_object.queue_limit }),
            PortFlavor::ReceiveStatus => {
                let port_set = port_object
                    .port_set
                    .and_then(|set| self.port_set(set))
                    .map(|set| set.name)
                    .unwrap_or(MACH_PORT_NULL);
                PortAttributes::Status(PortStatus {
                    port_set,
                    seqno: port_object.seqno,
                    make_send_count: port_object.make_send_count,
                    queue_limit: port_object.queue_limit,
                    message_count: port_object.queue.len() as u32,
                    send_once_rights: port_object.send_once_rights,
                    send_rights: (port_object.send_rights > 0) as u32,
                    port_destroyed_request: port_object.requests.port_destroyed.is_some() as u32,
                    no_senders_request: port_object.requests.no_senders.is_some() as u32,
                    flags: 0,
                })
            }
            PortFlavor::DnrequestsSize => {
                PortAttributes::DeadNameRequestCount(port_object.requests.dead_name.len() as u32)
            }
        })
    }

    /// `mach_port_set_attributes`: only `MACH_PORT_LIMITS_INFO` is settable.
    pub fn set_attributes(
        &mut self,
        space: SpaceId,
        name: PortName,
        flavor: u32,
        words: &[u32],
    ) -> Result<(), KernReturn> {
        let flavor = PortFlavor::from_u32(flavor).ok_or(KernReturn::InvalidArgument)?;
        let port = match self.entry_rights(space, name)? {
            EntryRights::Port { port, receive: true, .. } => port,
            _ => return Err(KernReturn::InvalidRight),
        };
        match flavor {
            PortFlavor::LimitsInfo => {
                let &[queue_limit, ..] = words else {
                    return Err(KernReturn::InvalidArgument);
                };
                if queue_limit > MACH_PORT_QLIMIT_MAX {
                    return Err(KernReturn::InvalidValue);
                }
                self.port_mut(port).ok_or(KernReturn::InvalidName)?.queue_limit = queue_limit;
                Ok(())
            }
            _ => Err(KernReturn::InvalidArgument),
        }
    }

    /// `mach_port_request_notification`. `message_id` is the kind
    /// (`MACH_NOTIFY_DEAD_NAME`, `NO_SENDERS`, `PORT_DESTROYED`); `notify` a
    /// name in the same space used with `notify_disposition` (MAKE_SEND_ONCE
    /// or MOVE_SEND_ONCE), or `MACH_PORT_NULL` to cancel. Returns the name of
    /// the previous request's send-once right, copied out into the space
    /// (`MACH_PORT_NULL` if there was none).
    pub fn request_notification(
        &mut self,
        space: SpaceId,
        name: PortName,
        message_id: u32,
        sync: u32,
        notify: PortName,
        notify_disposition: u32,
    ) -> Result<PortName, KernReturn> {
        let kind =
            NotifyId::from_u32(message_id).filter(|kind| kind.is_requestable()).ok_or(KernReturn::InvalidValue)?;
        let rights = self.entry_rights(space, name)?;
        let target_port = match (kind, rights) {
            (NotifyId::DeadName, EntryRights::Port { port, send_references, .. }) if send_references > 0 => Some(port),
            (NotifyId::DeadName, EntryRights::SendOnce { port }) => Some(port),
            (NotifyId::DeadName, EntryRights::DeadName { .. }) => None,
            (NotifyId::NoSenders | NotifyId::PortDestroyed, EntryRights::Port { port, receive: true, .. }) => {
                Some(port)
            }
            _ => return Err(KernReturn::InvalidRight),
        };
        if kind == NotifyId::PortDestroyed && sync != 0 {
            return Err(KernReturn::InvalidValue);
        }
        let new_right = if notify == MACH_PORT_NULL {
            None
        } else {
            let disposition = Disposition::from_u32(notify_disposition)
                .filter(|d| matches!(d, Disposition::MakeSendOnce | Disposition::MoveSendOnce))
                .ok_or(KernReturn::InvalidValue)?;
            let mut simulated = self.entry_rights(space, notify).map_err(|_| KernReturn::InvalidCapability)?;
            take_right(&mut simulated, disposition).map_err(|_| KernReturn::InvalidCapability)?;
            let right = self.commit_take(space, notify, disposition)?;
            // Moving the watched send-once right itself as the notify right
            // leaves nothing to watch.
            if right == CarriedRight::Dead || self.entry_rights(space, name) != Ok(rights) {
                self.destroy_rights(vec![right]);
                return Err(KernReturn::InvalidCapability);
            }
            Some(right)
        };
        let Some(port) = target_port else {
            // A dead-name request on a name that is already dead fires at once.
            if let Some(destination) = new_right {
                let _ = self.add_dead_references(space, name, 1);
                self.outbox.push_back(Notification { destination, kind: NotificationKind::DeadName { name } });
            }
            return Ok(MACH_PORT_NULL);
        };
        let port_object = self.port_mut(port).ok_or(KernReturn::InvalidName)?;
        let previous = match kind {
            NotifyId::DeadName => match new_right {
                Some(right) => port_object.requests.dead_name.insert((space, name), right),
                None => port_object.requests.dead_name.remove(&(space, name)),
            },
            NotifyId::PortDestroyed => core::mem::replace(&mut port_object.requests.port_destroyed, new_right),
            _ => {
                let previous =
                    core::mem::replace(&mut port_object.requests.no_senders, new_right.map(|right| (right, sync)));
                previous.map(|(right, _)| right)
            }
        };
        if kind == NotifyId::NoSenders {
            self.check_no_senders(port);
        }
        Ok(match previous {
            Some(right) => self.copyout_right(space, right).unwrap_or(MACH_PORT_NULL),
            None => MACH_PORT_NULL,
        })
    }
}

/// Applies a signed delta to user references, with Mach's errors.
pub(crate) fn apply_delta(current: u32, delta: i32) -> Result<u32, KernReturn> {
    if delta < 0 {
        current.checked_sub(delta.unsigned_abs()).ok_or(KernReturn::InvalidValue)
    } else if references_fit(current, delta as u32) {
        Ok(current + delta as u32)
    } else {
        Err(KernReturn::UrefsOverflow)
    }
}

const _: () = assert!(USER_REFERENCES_MAX < u32::MAX);
