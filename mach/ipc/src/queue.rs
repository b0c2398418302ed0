//! A port's message queue and the send and receive operations on it (as
//! xnu's ipc_mqueue.c): `send`, the direct sends of a handoff, `receive`,
//! the kernel's own messages, and the queue's order, limits and sequence
//! numbers.

use alloc::vec;
use alloc::vec::Vec;

use mach_abi::{receive_fits_with_trailer, MachMsgHeader, MachMsgReturn, PortName};

use crate::copyin::{Handoff, HandoffTarget};
use crate::message::{KernelMessage, ReceiveOptions, ReceiveSource, Received, ReceivedInto, TaskMemory};
use crate::port::Receiver;
use crate::right::{CarriedRight, EntryRights, RightKind};
use crate::{Ipc, PortId, ReceiveError, SendError, SendOutcome, SpaceId};

impl Ipc {
    /// The send half of `mach_msg`: copies `bytes` in from `space` and
    /// queues the message. `QueueFull` and every error leave all state as
    /// it was. Sends through a send-once right ignore the queue limit
    /// (replies and notifications can never block).
    pub fn send(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        memory: &mut dyn TaskMemory,
    ) -> Result<SendOutcome, SendError> {
        let message = self.copyin_message(space, bytes, memory, None)?;
        self.enqueue(message).ok_or(SendError::Failed(MachMsgReturn::SendInvalidDest))
    }

    /// The RPC fast path: when a thread of `receiver` waits in a receive on
    /// `receive_name` (a receive right or port set) and the destination of
    /// the message is that port (or a member of that set) with an empty
    /// queue, the message is copied in from `sender` and straight out into
    /// `receiver`, never queued. Otherwise `HandoffNotPossible` with nothing
    /// changed: the kernel falls back to [`Ipc::send`].
    #[allow(clippy::too_many_arguments)]
    pub fn send_direct(
        &mut self,
        sender: SpaceId,
        bytes: &[u8],
        sender_memory: &mut dyn TaskMemory,
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        receiver_memory: &mut dyn TaskMemory,
    ) -> Result<Received, SendError> {
        let mut out = vec![0u8; bytes.len() + options.trailer_size()];
        let into = self.send_direct_into(
            sender,
            bytes,
            sender_memory,
            receiver,
            receive_name,
            receive_size,
            options,
            receiver_memory,
            &mut out,
        )?;
        out.truncate(into.length);
        Ok(Received { bytes: out, port: into.port, lost: into.lost })
    }

    /// [`Ipc::send_direct`] writing the received message (with its trailer)
    /// into `out` instead of a new allocation: the kernel passes a buffer on
    /// its stack. `out` must hold the sent bytes and the trailer `options`
    /// ask for, else `HandoffNotPossible` with nothing changed. The same
    /// answer when the receiver's name allowance could not name every right
    /// the message carries (its own receive then lets the kernel raise it).
    #[allow(clippy::too_many_arguments)]
    pub fn send_direct_into(
        &mut self,
        sender: SpaceId,
        bytes: &[u8],
        sender_memory: &mut dyn TaskMemory,
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        receiver_memory: &mut dyn TaskMemory,
        out: &mut [u8],
    ) -> Result<ReceivedInto, SendError> {
        let receiver_space = self.space(receiver).ok_or(SendError::HandoffNotPossible)?;
        let target = match receiver_space.entries.get(&receive_name).map(|entry| entry.rights) {
            Some(EntryRights::Port { port, receive: true, .. }) => HandoffTarget::Port(port),
            Some(EntryRights::PortSet { set }) => HandoffTarget::Set(set),
            _ => return Err(SendError::HandoffNotPossible),
        };
        let room = receiver_space.room_before_allowance();
        // A received message is exactly as long as the sent one; if it does
        // not fit, the normal path queues it and the receiver gets
        // MACH_RCV_TOO_LARGE (or MACH_RCV_LARGE's size) from its receive.
        let trailer_size = options.trailer_size();
        if !receive_fits_with_trailer(bytes.len(), receive_size, trailer_size) || out.len() < bytes.len() + trailer_size
        {
            return Err(SendError::HandoffNotPossible);
        }
        let handoff = Handoff { target, room, audit: options.audit };
        let message = self.copyin_message(sender, bytes, sender_memory, Some(handoff))?;
        let destination = message.destination.port().map(|(port, _)| port);
        let Some(port) = destination else {
            self.release_message(message);
            return Err(SendError::Failed(MachMsgReturn::SendInvalidDest));
        };
        let seqno = self.next_seqno(port);
        let (length, lost) =
            self.copyout_message_into(receiver, message, port, seqno, options.audit, receiver_memory, out);
        Ok(ReceivedInto { length, port, lost })
    }

    /// The receive half of `mach_msg` on a receive right or port set.
    pub fn receive(
        &mut self,
        space: SpaceId,
        name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        memory: &mut dyn TaskMemory,
    ) -> Result<Received, ReceiveError> {
        let port = self.pick_receive_port(space, name)?.ok_or(ReceiveError::Empty)?;
        let head = self.port(port).and_then(|p| p.queue.front()).ok_or(ReceiveError::Empty)?;
        let (size, names_needed) = (head.size(), head.names_needed());
        let trailer_size = options.trailer_size();
        if !receive_fits_with_trailer(size, receive_size, trailer_size) {
            let needed = size + trailer_size;
            if !options.large {
                if let Some(message) = self.dequeue(port) {
                    self.release_message(message);
                }
            }
            return Err(ReceiveError::TooLarge { needed });
        }
        if !options.allowance_final {
            let space_object = self.space(space).ok_or(ReceiveError::Failed(MachMsgReturn::ReceiveInvalidName))?;
            if space_object.room_before_allowance().is_some_and(|room| room < names_needed) {
                return Err(ReceiveError::NamesNeeded { names: space_object.name_count() + names_needed });
            }
        }
        let seqno = self.port(port).map_or(0, |p| p.seqno);
        let message = self.dequeue(port).ok_or(ReceiveError::Empty)?;
        Ok(self.copyout_message(space, message, port, seqno, options.audit, memory))
    }

    /// Queues a message the kernel built (a kernel server's reply). Ignores
    /// queue limits; a message to a dead port is destroyed (`None`).
    pub fn send_kernel_message(&mut self, message: KernelMessage) -> Option<SendOutcome> {
        let rights: Vec<(PortId, RightKind)> = message.rights().filter_map(CarriedRight::port).collect();
        for (port, kind) in rights {
            self.unhold(&CarriedRight::Port { port, kind });
        }
        self.enqueue_kernel_message(message)
    }

    /// Destroys a message the kernel holds (a request it has finished
    /// with): every right left in it is released, its memory freed.
    pub fn release_kernel_message(&mut self, message: KernelMessage) {
        let rights: Vec<(PortId, RightKind)> = message.rights().filter_map(CarriedRight::port).collect();
        for (port, kind) in rights {
            self.unhold(&CarriedRight::Port { port, kind });
        }
        self.release_message(message);
    }

    /// Takes the next message queued on a kernel port. The kernel then holds
    /// its rights and must give each back (reply, release).
    pub fn receive_kernel_message(&mut self, port: PortId) -> Option<KernelMessage> {
        if self.port(port)?.receiver != Receiver::Kernel {
            return None;
        }
        let mut message = self.dequeue(port)?;
        // The destination right is consumed by the receipt.
        let destination = core::mem::replace(&mut message.destination, CarriedRight::Dead);
        self.destroy_consumed_destination(destination);
        for right in message.rights().filter_map(CarriedRight::port).collect::<Vec<_>>() {
            self.hold(&CarriedRight::Port { port: right.0, kind: right.1 });
        }
        Some(message)
    }

    /// What a receive on `name` in `space` waits for: a port or a port set.
    /// The kernel records a blocked receiver under this key, and wakes it
    /// when a [`SendOutcome`] names that port or set.
    pub fn receive_source(&self, space: SpaceId, name: PortName) -> Result<ReceiveSource, MachMsgReturn> {
        match self.entry_rights(space, name) {
            Ok(EntryRights::Port { port, receive: true, .. }) => Ok(ReceiveSource::Port(port)),
            Ok(EntryRights::PortSet { set }) => Ok(ReceiveSource::Set(set)),
            Ok(EntryRights::DeadName { .. }) => Err(MachMsgReturn::ReceivePortDied),
            _ => Err(MachMsgReturn::ReceiveInvalidName),
        }
    }

    /// The port a message from `space` would go to, read from the header
    /// without validating or changing anything: lets the kernel look for a
    /// waiting receiver (on the port, or on `Port::port_set`) before choosing
    /// between [`Ipc::send_direct`] and [`Ipc::send`].
    pub fn destination_of(&self, space: SpaceId, bytes: &[u8]) -> Option<PortId> {
        let header = MachMsgHeader::read_from(bytes)?;
        match self.entry_rights(space, header.remote_port).ok()? {
            EntryRights::Port { port, .. } | EntryRights::SendOnce { port } => Some(port),
            _ => None,
        }
    }

    // ---- Internals ----

    /// Chooses the port to take the next message from.
    pub(crate) fn pick_receive_port(&self, space: SpaceId, name: PortName) -> Result<Option<PortId>, ReceiveError> {
        let rights =
            self.entry_rights(space, name).map_err(|_| ReceiveError::Failed(MachMsgReturn::ReceiveInvalidName))?;
        match rights {
            EntryRights::Port { port, receive: true, .. } => {
                Ok(self.port(port).filter(|p| !p.queue.is_empty()).map(|_| port))
            }
            EntryRights::PortSet { set } => {
                let set_object = self.port_set(set).ok_or(ReceiveError::Failed(MachMsgReturn::ReceiveInvalidName))?;
                Ok(set_object.ready_members().find(|member| self.port(*member).is_some_and(|p| !p.queue.is_empty())))
            }
            EntryRights::DeadName { .. } => Err(ReceiveError::Failed(MachMsgReturn::ReceivePortDied)),
            _ => Err(ReceiveError::Failed(MachMsgReturn::ReceiveInvalidName)),
        }
    }

    pub(crate) fn next_seqno(&mut self, port: PortId) -> u32 {
        let Some(port_object) = self.port_mut(port) else {
            return 0;
        };
        let seqno = port_object.seqno;
        port_object.seqno = port_object.seqno.wrapping_add(1);
        seqno
    }

    pub(crate) fn dequeue(&mut self, port: PortId) -> Option<KernelMessage> {
        let port_object = self.port_mut(port)?;
        let message = port_object.queue.pop_front()?;
        port_object.seqno = port_object.seqno.wrapping_add(1);
        if message.has_send_destination() {
            port_object.queued_send_destinations -= 1;
        }
        // The set orders its members by their queue's new head.
        let head = port_object.head_arrival();
        if let Some(set_object) = port_object.port_set.and_then(|set| self.port_sets.get_mut(set.0)) {
            match head {
                Some(arrival) => set_object.mark_ready(port, arrival),
                None => set_object.mark_empty(port),
            }
        }
        self.uncount_queued(&message);
        for carried in message.receive_rights().collect::<Vec<_>>() {
            if let Some(port_object) = self.port_mut(carried) {
                port_object.receiver = Receiver::InTransit { queued_on: None };
            }
        }
        Some(message)
    }

    /// Destroys a message that is not in any queue.
    pub fn release_message(&mut self, message: KernelMessage) {
        let mut work = Vec::new();
        // Not queued, so not charged to any space any more.
        let message = KernelMessage { charged_to: None, ..message };
        self.discard_message(message, &mut work);
        self.destroy_rights(work);
    }

    /// The destination right of a received message is used up: a send right
    /// is released (maybe firing no-senders), a send-once right simply ends.
    pub(crate) fn destroy_consumed_destination(&mut self, destination: CarriedRight) {
        match destination.port() {
            Some((port, RightKind::SendOnce)) => {
                if let Some(port_object) = self.port_mut(port) {
                    port_object.send_once_rights = port_object.send_once_rights.saturating_sub(1);
                }
                self.free_if_unreferenced(port);
            }
            Some((port, RightKind::Send)) => self.release_send(port),
            _ => self.destroy_rights(vec![destination]),
        }
    }

    /// True when queueing a message carrying the receive right of `carried`
    /// on `destination` would make a cycle no space could ever reach.
    pub(crate) fn is_circular(&self, destination: PortId, carried: PortId) -> bool {
        let mut current = destination;
        for _ in 0..=self.ports.len() {
            if current == carried {
                return true;
            }
            match self.port(current).map(|p| p.receiver) {
                Some(Receiver::InTransit { queued_on: Some(next) }) => current = next,
                _ => return false,
            }
        }
        true
    }

    /// Queues a message (limits already checked by the caller). A message to
    /// a dead port, or one that would close a cycle, is destroyed: `None`.
    pub(crate) fn enqueue(&mut self, mut message: KernelMessage) -> Option<SendOutcome> {
        let Some((port, _)) = message.destination.port() else {
            self.release_message(message);
            return None;
        };
        let alive = self.port(port).is_some_and(|p| p.is_alive());
        let circular = message.receive_rights().any(|carried| self.is_circular(port, carried));
        if !alive || circular {
            self.release_message(message);
            return None;
        }
        self.arrival_clock += 1;
        message.arrival = self.arrival_clock;
        if let Some(space) = message.charged_to {
            let bytes = message.inline_data.len();
            match self.space_mut(space) {
                Some(space_object) => {
                    space_object.queued_messages += 1;
                    space_object.queued_bytes += bytes;
                }
                None => message.charged_to = None,
            }
        }
        for carried in message.receive_rights().collect::<Vec<_>>() {
            if let Some(port_object) = self.port_mut(carried) {
                port_object.receiver = Receiver::InTransit { queued_on: Some(port) };
            }
        }
        let send_destination = message.has_send_destination();
        let port_object = self.port_mut(port)?;
        port_object.queue.push_back(message);
        let outcome = SendOutcome { port, port_set: port_object.port_set, receiver: port_object.receiver };
        let check_no_senders = send_destination && {
            port_object.queued_send_destinations += 1;
            port_object.requests.no_senders.is_some()
        };
        let head = port_object.head_arrival();
        if let (Some(set_object), Some(arrival)) =
            (outcome.port_set.and_then(|set| self.port_sets.get_mut(set.0)), head)
        {
            set_object.mark_ready(port, arrival);
        }
        // A message that took the last usable send right with it (a
        // `MOVE_SEND` of the last reference) leaves no sender behind.
        if check_no_senders {
            self.check_no_senders(port);
        }
        Some(outcome)
    }

    pub(crate) fn enqueue_kernel_message(&mut self, message: KernelMessage) -> Option<SendOutcome> {
        self.enqueue(message)
    }
}
