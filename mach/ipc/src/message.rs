//! Kernel-internal messages: [`KernelMessage`], the types of a send and a
//! receive, and the [`TaskMemory`] a transfer of out-of-line memory goes
//! through (as xnu's ipc_kmsg.h). The transfer itself: `copyin` (user bytes
//! and names into a message, all or nothing), `copyout` (a message into the
//! receiver's names and bytes) and `queue` (a port's queue and the send and
//! receive operations on it, as xnu's ipc_mqueue.c).
//!
//! A [`KernelMessage`] holds its inline bytes and, instead of names, the
//! rights themselves ([`CarriedRight`]) and tokens for out-of-line memory.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use mach_abi::{
    CopyOption, Disposition, MachMsgReturn, NotifyId, PortName, TaskCredential, MACH_MSG_AUDIT_TRAILER_SIZE,
    MACH_MSG_BODY_SIZE, MACH_MSG_DESCRIPTOR_SIZE, MACH_MSG_HEADER_SIZE, MACH_MSG_TRAILER_SIZE,
};

use crate::notify::{Notification, NotificationKind};
use crate::right::{CarriedRight, RightKind};
use crate::{PortId, SpaceId};

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

    pub(crate) fn bare(
        destination: CarriedRight,
        id: i32,
        reply: Option<CarriedRight>,
        inline_data: Vec<u8>,
    ) -> KernelMessage {
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

    pub(crate) fn with_items(mut self, items: Vec<MessageItem>) -> KernelMessage {
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
    pub(crate) fn has_send_destination(&self) -> bool {
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
    pub(crate) fn receive_rights(&self) -> impl Iterator<Item = PortId> + '_ {
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

pub(crate) fn received_disposition(kind: RightKind) -> Disposition {
    match kind {
        RightKind::Receive => Disposition::MoveReceive,
        RightKind::Send => Disposition::MoveSend,
        RightKind::SendOnce => Disposition::MoveSendOnce,
    }
}

pub(crate) fn right_kind_of(disposition: Disposition) -> RightKind {
    match disposition.received_right() {
        mach_abi::PortRight::Receive => RightKind::Receive,
        mach_abi::PortRight::SendOnce => RightKind::SendOnce,
        _ => RightKind::Send,
    }
}

const _: () = assert!(NotifyId::SendOnce as u32 == 0o107);
