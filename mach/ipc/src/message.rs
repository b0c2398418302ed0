//! Kernel-internal messages, and the copyin (send) and copyout (receive)
//! that turn user bytes into them and back.
//!
//! A [`KernelMessage`] holds its inline bytes and, instead of names, the
//! rights themselves ([`CarriedRight`]) and tokens for out-of-line memory.
//! Copyin is all-or-nothing: the whole message is validated against copies
//! of the sender's entries before any entry changes, so a failed send leaves
//! the sender exactly as it was.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use mach_abi::{
    msgh_bits, parse, receive_fits_with_trailer, CopyOption, Descriptor, Disposition, MachMsgAuditTrailer,
    MachMsgHeader, MachMsgReturn, MachMsgTrailer, MessageEncoder, NotifyId, PortName, TaskCredential,
    MACH_MSGH_BITS_COMPLEX, MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_BODY_SIZE, MACH_MSG_DESCRIPTOR_SIZE,
    MACH_MSG_HEADER_SIZE, MACH_MSG_IPC_SPACE, MACH_MSG_TRAILER_SIZE, MACH_MSG_VM_SPACE, MACH_PORT_DEAD, MACH_PORT_NULL,
};

use crate::notify::{Notification, NotificationKind};
use crate::port::Receiver;
use crate::right::{take_right, CarriedRight, EntryRights, RightKind, Taken};
use crate::{Ipc, PortId, ReceiveError, SendError, SendOutcome, SpaceId};

/// The kernel's access to a task's memory for out-of-line data, supplied
/// per call (the sender's on send, the receiver's on receive). The IPC core
/// never touches memory itself.
pub trait TaskMemory {
    /// Captures `size` bytes at `address` of the sender for transfer
    /// (copied now for `PhysicalCopy`, shared copy-on-write for
    /// `VirtualCopy`); returns a token for the captured region.
    fn capture_region(&mut self, address: u64, size: u32, copy: CopyOption) -> Result<u64, MachMsgReturn>;
    /// Reads an out-of-line array of `count` port names of the sender.
    fn read_port_names(&mut self, address: u64, count: u32) -> Result<Vec<PortName>, MachMsgReturn>;
    /// Deallocates the sender's range after a successful send that asked
    /// for it (`deallocate = 1`).
    fn deallocate(&mut self, address: u64, size: u64);
    /// Maps a captured region into the receiver; returns its address.
    fn map_region(&mut self, token: u64, size: u32) -> Result<u64, MachMsgReturn>;
    /// Writes names into new memory of the receiver; returns its address.
    fn write_port_names(&mut self, names: &[PortName]) -> Result<u64, MachMsgReturn>;
}

/// One descriptor of a kernel message.
#[derive(Debug, PartialEq, Eq)]
pub enum MessageItem {
    /// A port right, or `None` for `MACH_PORT_NULL`.
    Port(Option<CarriedRight>),
    /// Out-of-line memory captured under `token` (`None` for size 0).
    Memory { token: Option<u64>, size: u32, copy: CopyOption },
    /// Out-of-line port rights, all of one kind.
    Ports { rights: Vec<Option<CarriedRight>>, disposition: Disposition, copy: CopyOption },
}

/// A message inside the kernel.
#[derive(Debug, PartialEq, Eq)]
pub struct KernelMessage {
    pub(crate) id: i32,
    pub(crate) destination: CarriedRight,
    pub(crate) reply: Option<CarriedRight>,
    pub(crate) complex: bool,
    pub(crate) items: Vec<MessageItem>,
    pub(crate) inline_data: Vec<u8>,
    /// Task id of the sender for the trailer (0: the kernel).
    pub(crate) sender: u32,
    /// The sender's credential when it sent the message, for an audit
    /// trailer (`None`: all zeros, as for the kernel's own messages).
    pub(crate) credential: Option<Arc<TaskCredential>>,
    pub(crate) charged_to: Option<SpaceId>,
    pub(crate) arrival: u64,
}

impl KernelMessage {
    /// A message from the kernel (a reply of a kernel server, say): inline
    /// data only, to `destination`, optionally with a reply right. The data
    /// is zero-padded to 4 bytes; data that would make the message larger
    /// than `MACH_MSG_SIZE_MAX` is refused and the rights are handed back.
    pub fn from_kernel(
        destination: CarriedRight,
        id: i32,
        reply: Option<CarriedRight>,
        mut inline_data: Vec<u8>,
    ) -> Result<KernelMessage, KernelMessageTooLarge> {
        if inline_data.len() > mach_abi::MACH_MSG_SIZE_MAX - MACH_MSG_HEADER_SIZE {
            return Err(KernelMessageTooLarge { destination, reply });
        }
        inline_data.resize(inline_data.len().next_multiple_of(4), 0);
        Ok(KernelMessage::bare(destination, id, reply, inline_data))
    }

    /// A message the kernel builds that also carries port rights (as port
    /// descriptors, in order), such as an exception message carrying the
    /// faulting thread's and task's ports. The rights are kernel-held and
    /// travel with the message.
    pub fn from_kernel_with_ports(
        destination: CarriedRight,
        id: i32,
        reply: Option<CarriedRight>,
        ports: Vec<CarriedRight>,
        inline_data: Vec<u8>,
    ) -> Result<KernelMessage, KernelMessageTooLarge> {
        let mut message = KernelMessage::from_kernel(destination, id, reply, inline_data)?;
        message.complex = true;
        message.items = ports.into_iter().map(|right| MessageItem::Port(Some(right))).collect();
        Ok(message)
    }

    fn bare(destination: CarriedRight, id: i32, reply: Option<CarriedRight>, inline_data: Vec<u8>) -> KernelMessage {
        KernelMessage {
            id,
            destination,
            reply,
            complex: false,
            items: Vec::new(),
            inline_data,
            sender: 0,
            credential: None,
            charged_to: None,
            arrival: 0,
        }
    }

    fn with_items(mut self, items: Vec<MessageItem>) -> KernelMessage {
        self.items = items;
        self
    }

    pub(crate) fn from_notification(notification: Notification) -> KernelMessage {
        let Notification { destination, kind } = notification;
        let id = kind.id() as i32;
        let (items, inline_data) = match kind {
            NotificationKind::PortDeleted { name } | NotificationKind::DeadName { name } => {
                (Vec::new(), name.to_le_bytes().to_vec())
            }
            NotificationKind::NoSenders { make_send_count } => (Vec::new(), make_send_count.to_le_bytes().to_vec()),
            NotificationKind::SendOnce => (Vec::new(), Vec::new()),
            NotificationKind::PortDestroyed { receive } => (vec![MessageItem::Port(Some(receive))], Vec::new()),
        };
        let complex = !items.is_empty();
        KernelMessage {
            id,
            destination,
            reply: None,
            complex,
            items,
            inline_data,
            sender: 0,
            credential: None,
            charged_to: None,
            arrival: 0,
        }
    }

    /// `msgh_id`.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Inline bytes after the header and descriptors.
    pub fn inline_data(&self) -> &[u8] {
        &self.inline_data
    }

    /// The descriptors.
    pub fn items(&self) -> &[MessageItem] {
        &self.items
    }

    /// Takes the reply right out (a kernel server replies through it).
    pub fn take_reply(&mut self) -> Option<CarriedRight> {
        self.reply.take()
    }

    /// The size the message has in the receiver's buffer, trailer excluded.
    pub fn size(&self) -> usize {
        MACH_MSG_HEADER_SIZE
            + if self.complex { MACH_MSG_BODY_SIZE + self.items.len() * MACH_MSG_DESCRIPTOR_SIZE } else { 0 }
            + self.inline_data.len()
    }

    /// The most names a receiver may need for the rights the message
    /// carries (a right to a port the receiver already names needs none).
    pub(crate) fn names_needed(&self) -> usize {
        let in_items: usize = self
            .items
            .iter()
            .map(|item| match item {
                MessageItem::Port(right) => right.is_some() as usize,
                MessageItem::Memory { .. } => 0,
                MessageItem::Ports { rights, .. } => rights.iter().flatten().count(),
            })
            .sum();
        self.reply.is_some() as usize + in_items
    }

    /// True if the destination right is a send right (not send-once).
    fn has_send_destination(&self) -> bool {
        matches!(self.destination, CarriedRight::Port { kind: RightKind::Send, .. })
    }

    /// The sender's credential as it was at send time (zeros from the kernel).
    pub fn credential(&self) -> TaskCredential {
        self.credential.as_deref().copied().unwrap_or_default()
    }

    /// Every right the message holds (destination first) and its memory tokens.
    pub(crate) fn into_parts(self) -> (Vec<CarriedRight>, Vec<u64>) {
        let mut rights = vec![self.destination];
        rights.extend(self.reply);
        let mut regions = Vec::new();
        for item in self.items {
            match item {
                MessageItem::Port(right) => rights.extend(right),
                MessageItem::Memory { token, .. } => regions.extend(token),
                MessageItem::Ports { rights: list, .. } => rights.extend(list.into_iter().flatten()),
            }
        }
        (rights, regions)
    }

    /// Every right the message holds, borrowed.
    pub(crate) fn rights(&self) -> impl Iterator<Item = &CarriedRight> {
        let items = self.items.iter().flat_map(|item| -> Vec<&CarriedRight> {
            match item {
                MessageItem::Port(right) => right.iter().collect(),
                MessageItem::Memory { .. } => Vec::new(),
                MessageItem::Ports { rights, .. } => rights.iter().flatten().collect(),
            }
        });
        core::iter::once(&self.destination).chain(self.reply.iter()).chain(items)
    }

    /// Ports whose receive rights travel in this message.
    fn receive_rights(&self) -> impl Iterator<Item = PortId> + '_ {
        self.rights().filter_map(|right| match right.port() {
            Some((port, RightKind::Receive)) => Some(port),
            _ => None,
        })
    }
}

/// What a receive waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveSource {
    Port(PortId),
    Set(crate::PortSetId),
}

/// [`KernelMessage::from_kernel`] refused data too large for a message;
/// the rights it was given come back.
#[derive(Debug, PartialEq, Eq)]
pub struct KernelMessageTooLarge {
    pub destination: CarriedRight,
    pub reply: Option<CarriedRight>,
}

/// Receive options (from the `mach_msg` option word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// `MACH_RCV_LARGE`: a too-large message stays queued.
    pub large: bool,
    /// `MACH_RCV_TRAILER_AUDIT`: the message ends with a
    /// [`MachMsgAuditTrailer`] (the sender's credential at send time), and
    /// the receive-size rule counts that larger trailer.
    pub audit: bool,
    /// The kernel could not raise the receiver's name allowance: copy the
    /// message out anyway, destroying the rights that find no name
    /// (`MACH_MSG_IPC_SPACE`), as at the space's hard limit.
    pub allowance_final: bool,
}

impl ReceiveOptions {
    /// Bytes of trailer this receive appends after the message.
    pub const fn trailer_size(&self) -> usize {
        if self.audit {
            MACH_MSG_AUDIT_TRAILER_SIZE
        } else {
            MACH_MSG_TRAILER_SIZE
        }
    }
}

/// A received message, ready for the receiver's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Received {
    /// The message bytes with the trailer appended.
    pub bytes: Vec<u8>,
    /// The port it was received from.
    pub port: PortId,
    /// `MACH_MSG_IPC_SPACE` and/or `MACH_MSG_VM_SPACE` when rights or
    /// memory could not be given to the receiver (they were destroyed);
    /// the kernel returns `MACH_RCV_BODY_ERROR | bits` with the message.
    pub lost: u32,
}

/// A message [`Ipc::send_direct_into`] wrote into the caller's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct ReceivedInto {
    /// Bytes written, the trailer included.
    pub length: usize,
    /// The port it was received from.
    pub port: PortId,
    /// As [`Received::lost`].
    pub lost: u32,
}

/// Where a right being copied in sits in the message (for error codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Destination,
    Reply,
    Body,
}

impl Role {
    fn error(self) -> MachMsgReturn {
        match self {
            Role::Destination => MachMsgReturn::SendInvalidDest,
            Role::Reply => MachMsgReturn::SendInvalidReply,
            Role::Body => MachMsgReturn::SendInvalidRight,
        }
    }
}

/// A descriptor, validated, waiting for its rights and memory.
enum PlannedItem {
    Port { name: PortName, disposition: Disposition },
    Memory { address: u64, size: u32, deallocate: bool, copy: CopyOption },
    Ports { address: u64, names: Vec<PortName>, disposition: Disposition, deallocate: bool, copy: CopyOption },
}

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
    fn pick_receive_port(&self, space: SpaceId, name: PortName) -> Result<Option<PortId>, ReceiveError> {
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

    fn dequeue(&mut self, port: PortId) -> Option<KernelMessage> {
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
    fn is_circular(&self, destination: PortId, carried: PortId) -> bool {
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
    fn enqueue(&mut self, mut message: KernelMessage) -> Option<SendOutcome> {
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

    /// Copies a message in from `space`: validation, then (if everything is
    /// valid) the rights are taken and memory captured. With `handoff`, the
    /// destination must be that port or a member of that set with an empty
    /// queue, and queue limits do not apply.
    fn copyin_message(
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
    fn validate_rights(&self, space: SpaceId, plan: &CopyinPlan) -> Result<CheckedRights, SendError> {
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
    fn check_destination(
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
    fn capture_memory(
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
    fn commit_copyin(
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

    /// Copies a message out into `space`: names for its rights, addresses
    /// for its memory, the header swapped to the receiver's view, the
    /// trailer appended.
    fn copyout_message(
        &mut self,
        space: SpaceId,
        message: KernelMessage,
        port: PortId,
        seqno: u32,
        audit: bool,
        memory: &mut dyn TaskMemory,
    ) -> Received {
        let trailer_size = if audit { MACH_MSG_AUDIT_TRAILER_SIZE } else { MACH_MSG_TRAILER_SIZE };
        let mut bytes = vec![0u8; message.size() + trailer_size];
        let (length, lost) = self.copyout_message_into(space, message, port, seqno, audit, memory, &mut bytes);
        bytes.truncate(length);
        Received { bytes, port, lost }
    }

    /// [`Ipc::copyout_message`] into `out`, which holds at least the
    /// message's size and its trailer (the audit trailer with `audit`);
    /// returns the length written (trailer included) and the `lost` bits.
    #[allow(clippy::too_many_arguments)]
    fn copyout_message_into(
        &mut self,
        space: SpaceId,
        message: KernelMessage,
        port: PortId,
        seqno: u32,
        audit: bool,
        memory: &mut dyn TaskMemory,
        out: &mut [u8],
    ) -> (usize, u32) {
        let size = message.size();
        let KernelMessage { id, destination, reply, complex, items, inline_data, sender, credential, .. } = message;
        let mut lost = 0;
        let destination_type = match destination.port() {
            Some((_, kind)) => kind.received_type(),
            None => mach_abi::MACH_MSG_TYPE_PORT_SEND,
        };
        self.destroy_consumed_destination(destination);
        let local_port = self.space(space).and_then(|s| s.name_of(port)).unwrap_or(MACH_PORT_NULL);
        let (remote_port, reply_type) = match reply {
            None => (MACH_PORT_NULL, 0),
            Some(right) => {
                let kind = right.port().map_or(RightKind::Send, |(_, kind)| kind);
                match self.copyout_right(space, right) {
                    Some(name) => (name, kind.received_type()),
                    None => {
                        lost |= MACH_MSG_IPC_SPACE;
                        (MACH_PORT_NULL, 0)
                    }
                }
            }
        };
        let header = MachMsgHeader {
            bits: msgh_bits(reply_type, destination_type) | if complex { MACH_MSGH_BITS_COMPLEX } else { 0 },
            size: 0,
            remote_port,
            local_port,
            voucher_port: MACH_PORT_NULL,
            id,
        };
        let (body, _) = out.split_at_mut(size);
        let mut encoder = MessageEncoder::new(body, header, complex);
        for item in items {
            // A copied-in message had at most the maximum number of
            // descriptors and size, so the encoder cannot fail here.
            let descriptor = self.copyout_item(space, item, memory, &mut lost);
            let _ = encoder.descriptor(descriptor);
        }
        let _ = encoder.inline_data(&inline_data);
        let length = encoder.finish().unwrap_or(MACH_MSG_HEADER_SIZE);
        if audit {
            let credential = credential.as_deref().copied().unwrap_or_default();
            let trailer = MachMsgAuditTrailer::new(seqno, sender, credential).to_bytes();
            out[length..length + MACH_MSG_AUDIT_TRAILER_SIZE].copy_from_slice(&trailer);
            return (length + MACH_MSG_AUDIT_TRAILER_SIZE, lost);
        }
        out[length..length + MACH_MSG_TRAILER_SIZE].copy_from_slice(&MachMsgTrailer::new(seqno, sender).to_bytes());
        (length + MACH_MSG_TRAILER_SIZE, lost)
    }

    /// Copies one descriptor out: rights get names (or NULL, setting
    /// `MACH_MSG_IPC_SPACE` in `lost`), memory gets mapped (or address 0,
    /// setting `MACH_MSG_VM_SPACE`).
    fn copyout_item(
        &mut self,
        space: SpaceId,
        item: MessageItem,
        memory: &mut dyn TaskMemory,
        lost: &mut u32,
    ) -> Descriptor {
        let mut name_right = |ipc: &mut Ipc, right: Option<CarriedRight>| match right {
            None => MACH_PORT_NULL,
            Some(right) => ipc.copyout_right(space, right).unwrap_or_else(|| {
                *lost |= MACH_MSG_IPC_SPACE;
                MACH_PORT_NULL
            }),
        };
        match item {
            MessageItem::Port(right) => {
                let kind = right.as_ref().and_then(CarriedRight::port).map_or(RightKind::Send, |(_, kind)| kind);
                Descriptor::Port { name: name_right(self, right), disposition: received_disposition(kind) }
            }
            MessageItem::Memory { token, size, copy } => {
                let address = match token {
                    None => 0,
                    Some(token) => memory.map_region(token, size).unwrap_or_else(|_| {
                        self.released_regions.push(token);
                        *lost |= MACH_MSG_VM_SPACE;
                        0
                    }),
                };
                Descriptor::OutOfLineMemory {
                    address,
                    size: if address == 0 { 0 } else { size },
                    deallocate: false,
                    copy,
                }
            }
            MessageItem::Ports { rights, disposition, copy } => {
                let names: Vec<PortName> = rights.into_iter().map(|right| name_right(self, right)).collect();
                let address = if names.is_empty() {
                    0
                } else {
                    memory.write_port_names(&names).unwrap_or_else(|_| {
                        // The rights have names in the receiver but the
                        // array cannot reach it: destroy them again.
                        for name in names.iter().filter(|name| mach_abi::port_name_is_valid(**name)) {
                            let _ = self.deallocate_one_right(space, *name);
                        }
                        *lost |= MACH_MSG_VM_SPACE;
                        0
                    })
                };
                let count = if address == 0 { 0 } else { names.len() as u32 };
                let disposition = received_disposition(right_kind_of(disposition));
                Descriptor::OutOfLinePorts { address, count, disposition, deallocate: false, copy }
            }
        }
    }

    /// Removes one right a failed copyout had just named.
    fn deallocate_one_right(&mut self, space: SpaceId, name: PortName) -> Result<(), mach_abi::KernReturn> {
        match self.entry_rights(space, name)? {
            EntryRights::Port { receive: true, .. } => self.mod_refs(space, name, mach_abi::PortRight::Receive, -1),
            _ => self.deallocate(space, name),
        }
    }
}

/// Copies of the sender's entries that validation takes rights from. A
/// message names few distinct ports (an RPC two), so they sit in a small
/// inline array searched linearly; only a message with many distinct names
/// spills into the heap.
#[derive(Default)]
struct SimulatedEntries {
    inline: [(PortName, Option<EntryRights>); 4],
    inline_count: usize,
    spilled: Vec<(PortName, EntryRights)>,
}

enum SimulatedSlot {
    Inline(usize),
    Spilled(usize),
}

impl SimulatedEntries {
    fn position(&self, name: PortName) -> Option<SimulatedSlot> {
        if let Some(index) = self.inline[..self.inline_count].iter().position(|(entry, _)| *entry == name) {
            return Some(SimulatedSlot::Inline(index));
        }
        self.spilled.iter().position(|(entry, _)| *entry == name).map(SimulatedSlot::Spilled)
    }

    fn get_mut(&mut self, slot: SimulatedSlot) -> &mut EntryRights {
        match slot {
            SimulatedSlot::Inline(index) => {
                self.inline[index].1.as_mut().expect("inline slots below the count are set")
            }
            SimulatedSlot::Spilled(index) => &mut self.spilled[index].1,
        }
    }

    fn insert(&mut self, name: PortName, rights: EntryRights) -> &mut EntryRights {
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
struct CopyinPlan {
    destination: (PortName, Disposition),
    reply: Option<(PortName, Disposition)>,
    items: Vec<PlannedItem>,
}

/// What validation learned about the message.
struct CheckedRights {
    destination_port: PortId,
    destination_is_send_once: bool,
    moved_receive: Vec<PortId>,
}

/// Reads the header's rights and the descriptors into a plan (reading
/// out-of-line name arrays from the sender, which changes nothing).
fn plan_copyin(view: &mach_abi::MessageView<'_>, memory: &mut dyn TaskMemory) -> Result<CopyinPlan, SendError> {
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
    fn names_needed(&self) -> usize {
        let valid = |name: PortName| mach_abi::port_name_is_valid(name) as usize;
        let reply = self.reply.map_or(0, |(name, _)| valid(name));
        reply + self.items.iter().flat_map(PlannedItem::rights).map(|(name, _)| valid(name)).sum::<usize>()
    }
}

impl PlannedItem {
    /// The (name, disposition) pairs of the rights this descriptor carries.
    fn rights(&self) -> Vec<(PortName, Disposition)> {
        match self {
            PlannedItem::Port { name, disposition } => vec![(*name, *disposition)],
            PlannedItem::Ports { names, disposition, .. } => names.iter().map(|name| (*name, *disposition)).collect(),
            PlannedItem::Memory { .. } => Vec::new(),
        }
    }
}

/// What a receiver waiting for a handoff takes messages from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HandoffTarget {
    Port(PortId),
    Set(crate::PortSetId),
}

/// A handoff being tried: the receiver's source, how many more names its
/// allowance lets it take (`None`: only its hard limit applies), and
/// whether it asked for the audit trailer.
#[derive(Clone, Copy, Debug)]
struct Handoff {
    target: HandoffTarget,
    room: Option<usize>,
    audit: bool,
}

fn received_disposition(kind: RightKind) -> Disposition {
    match kind {
        RightKind::Receive => Disposition::MoveReceive,
        RightKind::Send => Disposition::MoveSend,
        RightKind::SendOnce => Disposition::MoveSendOnce,
    }
}

fn right_kind_of(disposition: Disposition) -> RightKind {
    match disposition.received_right() {
        mach_abi::PortRight::Receive => RightKind::Receive,
        mach_abi::PortRight::SendOnce => RightKind::SendOnce,
        _ => RightKind::Send,
    }
}

const _: () = assert!(NotifyId::SendOnce as u32 == 0o107);
