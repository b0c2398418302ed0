//! Copy-in: a sender's bytes and names into a [`KernelMessage`].
//!
//! All or nothing: the whole message is validated against copies of the
//! sender's entries (`SimulatedEntries`) before any entry changes, so a
//! failed send leaves the sender exactly as it was; then the rights are
//! taken and out-of-line memory captured (as xnu's ipc_kmsg_copyin).

use alloc::vec;
use alloc::vec::Vec;

use mach_abi::{parse, CopyOption, Descriptor, Disposition, MachMsgReturn, PortName, MACH_PORT_DEAD, MACH_PORT_NULL};

use crate::message::{KernelMessage, MessageItem, TaskMemory};
use crate::right::{take_right, CarriedRight, EntryRights, RightKind, Taken};
use crate::{Ipc, PortId, SendError, SpaceId};

/// Where a right being copied in sits in the message (for error codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Destination,
    Reply,
    Body,
}

impl Role {
    pub(crate) fn error(self) -> MachMsgReturn {
        match self {
            Role::Destination => MachMsgReturn::SendInvalidDest,
            Role::Reply => MachMsgReturn::SendInvalidReply,
            Role::Body => MachMsgReturn::SendInvalidRight,
        }
    }
}

/// A descriptor, validated, waiting for its rights and memory.
pub(crate) enum PlannedItem {
    Port { name: PortName, disposition: Disposition },
    Memory { address: u64, size: u32, deallocate: bool, copy: CopyOption },
    Ports { address: u64, names: Vec<PortName>, disposition: Disposition, deallocate: bool, copy: CopyOption },
}

impl Ipc {
    /// Copies a message in from `space`: validation, then (if everything is
    /// valid) the rights are taken and memory captured. With `handoff`, the
    /// destination must be that port or a member of that set with an empty
    /// queue, and queue limits do not apply.
    pub(crate) fn copyin_message(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        memory: &mut dyn TaskMemory,
        handoff: Option<Handoff>,
    ) -> Result<KernelMessage, SendError> {
        let view = parse(bytes).map_err(|error| SendError::Failed(error.to_mach_msg_return()))?;
        let sender = self.space(space).ok_or(SendError::Failed(MachMsgReturn::SendInvalidDest))?;
        // A message handed straight to a receiver that did not ask for the
        // audit trailer never needs the credential: no reference is taken.
        let credential = match handoff {
            Some(Handoff { audit: false, .. }) => None,
            _ => sender.credential.clone(),
        };
        let sender = sender.task_id;
        let plan = plan_copyin(&view, memory)?;
        if let Some(Handoff { room: Some(room), .. }) = handoff {
            if plan.names_needed() > room {
                return Err(SendError::HandoffNotPossible);
            }
        }
        let checked = self.validate_rights(space, &plan)?;
        self.check_destination(space, &checked, handoff.map(|handoff| handoff.target))?;
        let tokens = self.capture_memory(&plan.items, memory)?;
        let mut message = self.commit_copyin(space, plan, tokens, memory);
        message.id = view.header.id;
        message.complex = view.is_complex();
        message.inline_data = view.inline_data.to_vec();
        message.sender = sender;
        message.credential = credential;
        message.charged_to = if handoff.is_some() { None } else { Some(space) };
        Ok(message)
    }

    /// The validation pass: every right of the message is taken from copies
    /// of the sender's entries, in message order, so nothing changes yet.
    pub(crate) fn validate_rights(&self, space: SpaceId, plan: &CopyinPlan) -> Result<CheckedRights, SendError> {
        let mut simulated = SimulatedEntries::default();
        let mut simulate = |name: PortName, disposition: Disposition, role: Role| -> Result<Option<Taken>, SendError> {
            if role != Role::Destination && !mach_abi::port_name_is_valid(name) {
                // NULL and DEAD carry no right (DEAD travels as dead).
                return Ok(None);
            }
            let entry = match simulated.position(name) {
                Some(index) => simulated.get_mut(index),
                None => {
                    let rights = self.entry_rights(space, name).map_err(|_| role.error())?;
                    simulated.insert(name, rights)
                }
            };
            Ok(Some(take_right(entry, disposition).map_err(|_| role.error())?))
        };
        let (destination_name, destination_disposition) = plan.destination;
        let (destination_port, destination_is_send_once) =
            match simulate(destination_name, destination_disposition, Role::Destination)? {
                Some(Taken::Port { port, kind: RightKind::Send, .. }) => (port, false),
                Some(Taken::Port { port, kind: RightKind::SendOnce, .. }) => (port, true),
                _ => return Err(MachMsgReturn::SendInvalidDest.into()),
            };
        if let Some((name, disposition)) = plan.reply {
            simulate(name, disposition, Role::Reply)?;
        }
        let mut moved_receive = Vec::new();
        for item in &plan.items {
            for (name, disposition) in item.rights() {
                if let Some(Taken::Port { port, kind: RightKind::Receive, .. }) =
                    simulate(name, disposition, Role::Body)?
                {
                    moved_receive.push(port);
                }
            }
        }
        Ok(CheckedRights { destination_port, destination_is_send_once, moved_receive })
    }

    /// Handoff target, queue limit, the sender's bound, and cycles.
    pub(crate) fn check_destination(
        &self,
        space: SpaceId,
        checked: &CheckedRights,
        handoff: Option<HandoffTarget>,
    ) -> Result<(), SendError> {
        let destination = checked.destination_port;
        let port = self.port(destination).ok_or(MachMsgReturn::SendInvalidDest)?;
        match handoff {
            Some(target) => {
                let matches_target = match target {
                    HandoffTarget::Port(wanted) => wanted == destination,
                    HandoffTarget::Set(set) => port.port_set == Some(set),
                };
                if !matches_target || !port.queue.is_empty() {
                    return Err(SendError::HandoffNotPossible);
                }
            }
            None => {
                if !checked.destination_is_send_once && port.is_full() {
                    return Err(SendError::QueueFull { port: destination });
                }
                let sender = self.space(space).ok_or(MachMsgReturn::SendInvalidDest)?;
                if sender.queued_messages >= sender.limits.max_queued_messages {
                    return Err(MachMsgReturn::SendNoBuffer.into());
                }
            }
        }
        if checked.moved_receive.iter().any(|carried| self.is_circular(destination, *carried)) {
            return Err(MachMsgReturn::SendInvalidRight.into());
        }
        Ok(())
    }

    /// Captures every out-of-line region; on failure releases what was
    /// captured and fails the send.
    pub(crate) fn capture_memory(
        &mut self,
        items: &[PlannedItem],
        memory: &mut dyn TaskMemory,
    ) -> Result<Vec<Option<u64>>, SendError> {
        let mut tokens = Vec::new();
        for item in items {
            let PlannedItem::Memory { address, size, copy, .. } = *item else {
                continue;
            };
            if size == 0 {
                tokens.push(None);
                continue;
            }
            match memory.capture_region(address, size, copy) {
                Ok(token) => tokens.push(Some(token)),
                Err(error) => {
                    self.released_regions.extend(tokens.into_iter().flatten());
                    return Err(error.into());
                }
            }
        }
        Ok(tokens)
    }

    /// The commit pass: the same transitions as `validate_rights`, on the
    /// real entries (so they cannot fail), and the sender's deallocations.
    pub(crate) fn commit_copyin(
        &mut self,
        space: SpaceId,
        plan: CopyinPlan,
        tokens: Vec<Option<u64>>,
        memory: &mut dyn TaskMemory,
    ) -> KernelMessage {
        let commit = |ipc: &mut Ipc, name: PortName, disposition: Disposition| -> Option<CarriedRight> {
            match name {
                MACH_PORT_NULL => None,
                MACH_PORT_DEAD => Some(CarriedRight::Dead),
                _ => ipc.commit_take(space, name, disposition).ok(),
            }
        };
        let (destination_name, destination_disposition) = plan.destination;
        let destination = commit(self, destination_name, destination_disposition).unwrap_or(CarriedRight::Dead);
        let reply = plan.reply.and_then(|(name, disposition)| commit(self, name, disposition));
        let mut items = Vec::with_capacity(plan.items.len());
        let mut tokens = tokens.into_iter();
        for item in plan.items {
            items.push(match item {
                PlannedItem::Port { name, disposition } => MessageItem::Port(commit(self, name, disposition)),
                PlannedItem::Memory { address, size, deallocate, copy } => {
                    if deallocate && size > 0 {
                        memory.deallocate(address, size as u64);
                    }
                    MessageItem::Memory { token: tokens.next().flatten(), size, copy }
                }
                PlannedItem::Ports { address, names, disposition, deallocate, copy } => {
                    if deallocate && !names.is_empty() {
                        memory.deallocate(address, names.len() as u64 * 4);
                    }
                    let rights = names.iter().map(|name| commit(self, *name, disposition)).collect();
                    MessageItem::Ports { rights, disposition, copy }
                }
            });
        }
        KernelMessage::bare(destination, 0, reply, Vec::new()).with_items(items)
    }
}

/// Copies of the sender's entries that validation takes rights from. A
/// message names few distinct ports (an RPC two), so they sit in a small
/// inline array searched linearly; only a message with many distinct names
/// spills into the heap.
#[derive(Default)]
pub(crate) struct SimulatedEntries {
    inline: [(PortName, Option<EntryRights>); 4],
    inline_count: usize,
    spilled: Vec<(PortName, EntryRights)>,
}

pub(crate) enum SimulatedSlot {
    Inline(usize),
    Spilled(usize),
}

impl SimulatedEntries {
    pub(crate) fn position(&self, name: PortName) -> Option<SimulatedSlot> {
        if let Some(index) = self.inline[..self.inline_count].iter().position(|(entry, _)| *entry == name) {
            return Some(SimulatedSlot::Inline(index));
        }
        self.spilled.iter().position(|(entry, _)| *entry == name).map(SimulatedSlot::Spilled)
    }

    pub(crate) fn get_mut(&mut self, slot: SimulatedSlot) -> &mut EntryRights {
        match slot {
            SimulatedSlot::Inline(index) => {
                self.inline[index].1.as_mut().expect("inline slots below the count are set")
            }
            SimulatedSlot::Spilled(index) => &mut self.spilled[index].1,
        }
    }

    pub(crate) fn insert(&mut self, name: PortName, rights: EntryRights) -> &mut EntryRights {
        if self.inline_count < self.inline.len() {
            let index = self.inline_count;
            self.inline[index] = (name, Some(rights));
            self.inline_count += 1;
            return self.get_mut(SimulatedSlot::Inline(index));
        }
        self.spilled.push((name, rights));
        let index = self.spilled.len() - 1;
        &mut self.spilled[index].1
    }
}

/// The header rights and descriptors of a message being copied in.
pub(crate) struct CopyinPlan {
    destination: (PortName, Disposition),
    reply: Option<(PortName, Disposition)>,
    items: Vec<PlannedItem>,
}

/// What validation learned about the message.
pub(crate) struct CheckedRights {
    destination_port: PortId,
    destination_is_send_once: bool,
    moved_receive: Vec<PortId>,
}

/// Reads the header's rights and the descriptors into a plan (reading
/// out-of-line name arrays from the sender, which changes nothing).
pub(crate) fn plan_copyin(
    view: &mach_abi::MessageView<'_>,
    memory: &mut dyn TaskMemory,
) -> Result<CopyinPlan, SendError> {
    let header = view.header;
    let destination_disposition = view.remote_disposition().ok_or(MachMsgReturn::SendInvalidHeader)?;
    if !mach_abi::port_name_is_valid(header.remote_port) {
        return Err(MachMsgReturn::SendInvalidDest.into());
    }
    let reply = match (header.local_port, view.local_disposition()) {
        (MACH_PORT_NULL, _) => None,
        (name, Some(disposition)) => Some((name, disposition)),
        (_, None) => return Err(MachMsgReturn::SendInvalidReply.into()),
    };
    let mut items = Vec::with_capacity(view.descriptor_count());
    for descriptor in view.descriptors() {
        items.push(match descriptor {
            Descriptor::Port { name, disposition } => PlannedItem::Port { name, disposition },
            Descriptor::OutOfLineMemory { address, size, deallocate, copy } => {
                PlannedItem::Memory { address, size, deallocate, copy }
            }
            Descriptor::OutOfLinePorts { address, count, disposition, deallocate, copy } => {
                let names = if count == 0 { Vec::new() } else { memory.read_port_names(address, count)? };
                if names.len() != count as usize {
                    return Err(MachMsgReturn::SendInvalidMemory.into());
                }
                PlannedItem::Ports { address, names, disposition, deallocate, copy }
            }
        });
    }
    Ok(CopyinPlan { destination: (header.remote_port, destination_disposition), reply, items })
}

impl CopyinPlan {
    /// The most names a receiver may need for the rights in the message.
    pub(crate) fn names_needed(&self) -> usize {
        let valid = |name: PortName| mach_abi::port_name_is_valid(name) as usize;
        let reply = self.reply.map_or(0, |(name, _)| valid(name));
        reply + self.items.iter().flat_map(PlannedItem::rights).map(|(name, _)| valid(name)).sum::<usize>()
    }
}

impl PlannedItem {
    /// The (name, disposition) pairs of the rights this descriptor carries.
    pub(crate) fn rights(&self) -> Vec<(PortName, Disposition)> {
        match self {
            PlannedItem::Port { name, disposition } => vec![(*name, *disposition)],
            PlannedItem::Ports { names, disposition, .. } => names.iter().map(|name| (*name, *disposition)).collect(),
            PlannedItem::Memory { .. } => Vec::new(),
        }
    }
}

/// What a receiver waiting for a handoff takes messages from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandoffTarget {
    Port(PortId),
    Set(crate::PortSetId),
}

/// A handoff being tried: the receiver's source, how many more names its
/// allowance lets it take (`None`: only its hard limit applies), and
/// whether it asked for the audit trailer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Handoff {
    pub(crate) target: HandoffTarget,
    pub(crate) room: Option<usize>,
    pub(crate) audit: bool,
}
