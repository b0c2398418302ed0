//! Notification message ids, bodies and request kinds.
//!
//! The kernel sends a notification as an ordinary message through a
//! send-once right the requester supplied. Ids are Mach's (octal, as in
//! `mach/notify.h`). Layout of each (inline, after the 24-byte header):
//!
//! | id | name | after the header |
//! |----|------|------------------|
//! | 0101 | `MACH_NOTIFY_PORT_DELETED` | `u32` name whose send right was deleted |
//! | 0105 | `MACH_NOTIFY_PORT_DESTROYED` | complex: body + one port descriptor moving the receive right |
//! | 0106 | `MACH_NOTIFY_NO_SENDERS` | `u32` make-send count |
//! | 0107 | `MACH_NOTIFY_SEND_ONCE` | nothing |
//! | 0110 | `MACH_NOTIFY_DEAD_NAME` | `u32` name that became a dead name |
//!
//! xnu puts an 8-byte NDR record before the payload; Mach_R has one data
//! representation and leaves it out.

use crate::code_enum::code_enum;
use crate::message::MachMsgHeader;
use crate::port::PortName;

code_enum! {
    /// Notification message ids (`msgh_id` of a notification).
    pub enum NotifyId {
        PortDeleted = 0o101 => "MACH_NOTIFY_PORT_DELETED",
        PortDestroyed = 0o105 => "MACH_NOTIFY_PORT_DESTROYED",
        NoSenders = 0o106 => "MACH_NOTIFY_NO_SENDERS",
        SendOnce = 0o107 => "MACH_NOTIFY_SEND_ONCE",
        DeadName = 0o110 => "MACH_NOTIFY_DEAD_NAME",
    }
}

/// First id of the notification range (`MACH_NOTIFY_FIRST`).
pub const MACH_NOTIFY_FIRST: u32 = 0o100;
/// Last id of the notification range (`MACH_NOTIFY_LAST`).
pub const MACH_NOTIFY_LAST: u32 = 0o177;

impl NotifyId {
    /// True for the kinds `port_request_notification` accepts: dead-name,
    /// no-senders and port-destroyed. Port-deleted comes with a dead-name
    /// request; send-once needs no request.
    pub const fn is_requestable(self) -> bool {
        matches!(self, NotifyId::DeadName | NotifyId::NoSenders | NotifyId::PortDestroyed)
    }
}

/// `mach_port_deleted_notification_t` and `mach_dead_name_notification_t`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameNotification {
    /// The header; `id` is `MACH_NOTIFY_PORT_DELETED` or `MACH_NOTIFY_DEAD_NAME`.
    pub header: MachMsgHeader,
    /// The name concerned, in the receiver of the notification's space
    /// (the space that made the request).
    pub name: PortName,
}

/// `mach_no_senders_notification_t`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoSendersNotification {
    /// The header; `id` is `MACH_NOTIFY_NO_SENDERS`.
    pub header: MachMsgHeader,
    /// The port's make-send count when its last send right went away.
    pub make_send_count: u32,
}

/// `mach_port_destroyed_notification_t`: carries the receive right back.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortDestroyedNotification {
    /// The header; complex, `id` is `MACH_NOTIFY_PORT_DESTROYED`.
    pub header: MachMsgHeader,
    /// One descriptor.
    pub body: crate::message::MachMsgBody,
    /// The receive right (received type `MACH_MSG_TYPE_PORT_RECEIVE`).
    pub right: crate::message::MachMsgPortDescriptor,
}

/// `mach_send_once_notification_t`: the header alone.
pub type SendOnceNotification = MachMsgHeader;

const _: () = assert!(core::mem::size_of::<NameNotification>() == 28);
const _: () = assert!(core::mem::size_of::<NoSendersNotification>() == 28);
const _: () = assert!(core::mem::size_of::<PortDestroyedNotification>() == 44);
