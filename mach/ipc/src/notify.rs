//! Notification requests held by a port, and the notifications produced.
//!
//! Every request holds a send-once right to the requester's notify port;
//! a notification is a message sent with that right. The core never sends
//! them itself: operations append [`Notification`] values to an outbox and
//! the kernel delivers them afterwards with
//! [`crate::Ipc::deliver_notification`] (or all at once with
//! [`crate::Ipc::deliver_notifications`]), outside any re-entrant path.

use alloc::collections::BTreeMap;

use mach_abi::{NotifyId, PortName};

use crate::right::CarriedRight;
use crate::SpaceId;

/// The requests registered on one port.
#[derive(Debug, Default)]
pub struct NotificationRequests {
    /// Dead-name requests, by the (space, name) of the right they watch.
    pub(crate) dead_name: BTreeMap<(SpaceId, PortName), CarriedRight>,
    /// The no-senders request: its send-once right and the make-send count
    /// at or after which it may fire.
    pub(crate) no_senders: Option<(CarriedRight, u32)>,
    /// The port-destroyed request.
    pub(crate) port_destroyed: Option<CarriedRight>,
}

impl NotificationRequests {
    pub(crate) fn is_empty(&self) -> bool {
        self.dead_name.is_empty() && self.no_senders.is_none() && self.port_destroyed.is_none()
    }
}

/// What a notification says.
#[derive(Debug, PartialEq, Eq)]
pub enum NotificationKind {
    /// `MACH_NOTIFY_PORT_DELETED`: the watched send right's name went away
    /// before the port died.
    PortDeleted { name: PortName },
    /// `MACH_NOTIFY_PORT_DESTROYED`: the receive right is handed back.
    PortDestroyed { receive: CarriedRight },
    /// `MACH_NOTIFY_NO_SENDERS`.
    NoSenders { make_send_count: u32 },
    /// `MACH_NOTIFY_SEND_ONCE`: a send-once right was destroyed unused.
    SendOnce,
    /// `MACH_NOTIFY_DEAD_NAME`: the watched name is now a dead name.
    DeadName { name: PortName },
}

impl NotificationKind {
    /// The message id the notification is sent with.
    pub fn id(&self) -> NotifyId {
        match self {
            NotificationKind::PortDeleted { .. } => NotifyId::PortDeleted,
            NotificationKind::PortDestroyed { .. } => NotifyId::PortDestroyed,
            NotificationKind::NoSenders { .. } => NotifyId::NoSenders,
            NotificationKind::SendOnce => NotifyId::SendOnce,
            NotificationKind::DeadName { .. } => NotifyId::DeadName,
        }
    }
}

/// A notification waiting to be delivered: a send-once right to the notify
/// port and what to say through it.
#[derive(Debug, PartialEq, Eq)]
pub struct Notification {
    /// The send-once right the message is sent with.
    pub destination: CarriedRight,
    pub kind: NotificationKind,
}
