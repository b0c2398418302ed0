//! Kernel notifications as typed values, for servers that receive them
//! beside their requests.
//!
//! A server asks for a notification with [`request`] (or the right's own
//! helpers: [`crate::ReceiveRight::request_no_senders`],
//! [`crate::SendRight::request_dead_name`],
//! [`crate::request::ReplyRight::notify_when_abandoned`]); the kernel then
//! sends it as a message to the port named in the request. [`dispatch`]
//! turns such a message into a [`Notification`] and calls the server's
//! handler with it, so it chains after the generated dispatch functions of
//! the interfaces the same port set serves:
//!
//! ```text
//! io::dispatch(&mut server, &kernel, request, reply)
//!     .or_else(|| fs::dispatch(&mut server, &kernel, request, reply))
//!     .or_else(|| libmach::notify::dispatch(&kernel, request, |notification| server.notified(notification)))
//! ```
//!
//! Which port a notification is about: a no-senders notification requested
//! with [`crate::ReceiveRight::request_no_senders`] is sent to the port
//! itself, so [`Notification::NoSenders`] names the port it arrived on; a
//! dead-name or port-deleted notification carries the name in its body.
//!
//! Only the kernel sends notifications: a message with a notification id
//! from a task (trailer sender not 0) is not one, and [`dispatch`] leaves
//! it to the loop ([`Dispatch::UnknownId`]), which answers `MIG_BAD_ID` and
//! releases what it carried. A forged no-senders notification therefore
//! never reaches the handler.

use mach_abi::{
    parse_received, Disposition, KernReturn, MessageView, NotifyId, PortName, MACH_NOTIFY_FIRST, MACH_NOTIFY_LAST,
    MACH_PORT_NULL,
};

use crate::kernel::{PortKernel, SystemKernel};
use crate::message::{expect_descriptor_count, expect_port, release_received, ExpectedRight, InlineReader};
use crate::rights::ReceiveRight;
use crate::server::Dispatch;

/// A notification the kernel sent.
#[derive(Debug)]
pub enum Notification<K: PortKernel = SystemKernel> {
    /// No send right to `port` remains anywhere (`MACH_NOTIFY_NO_SENDERS`):
    /// `port` is the receive right the notification arrived on, the port
    /// itself when requested with [`crate::ReceiveRight::request_no_senders`].
    NoSenders { port: PortName, make_send_count: u32 },
    /// The port `name` denoted died; `name` is now a dead name
    /// (`MACH_NOTIFY_DEAD_NAME`). The reference the notification added to
    /// it is released by [`dispatch`] after the handler returns; the
    /// references the server's own values hold stay theirs.
    DeadName { name: PortName },
    /// The watched send right `name` was deallocated before its port died
    /// (`MACH_NOTIFY_PORT_DELETED`).
    PortDeleted { name: PortName },
    /// The receive right of a port that was being destroyed comes back
    /// (`MACH_NOTIFY_PORT_DESTROYED`); `port` is where the notice arrived.
    PortDestroyed { port: PortName, right: ReceiveRight<K> },
    /// A send-once right to `port` was destroyed unused
    /// (`MACH_NOTIFY_SEND_ONCE`).
    SendOnce { port: PortName },
}

/// Asks the kernel for notification `kind` about `name`, sent to `notify`
/// with `notify_disposition` (`MakeSendOnce` from a receive right the task
/// holds, or `MoveSendOnce`). `sync` is the make-send count threshold of a
/// no-senders request (0 otherwise). A previous request of the same kind is
/// replaced; its send-once right is released (its port gets a send-once
/// notification).
pub fn request<K: PortKernel>(
    kernel: &K,
    name: PortName,
    kind: NotifyId,
    sync: u32,
    notify: PortName,
    notify_disposition: Disposition,
) -> Result<(), KernReturn> {
    let previous = kernel.port_request_notification(name, kind.as_u32(), sync, notify, notify_disposition as u32)?;
    if previous != MACH_PORT_NULL {
        let _ = kernel.port_deallocate(previous);
    }
    Ok(())
}

/// Handles `request` (message and trailer) if it is a kernel notification:
/// decodes it and calls `handler` with it. Anything else — another id, or
/// a notification id from a task — is [`Dispatch::UnknownId`], untouched.
/// A notification never gets a reply: the result is [`Dispatch::NoReply`].
pub fn dispatch<K: PortKernel, H: FnOnce(Notification<K>)>(kernel: &K, request: &[u8], handler: H) -> Dispatch {
    let Some(header) = mach_abi::MachMsgHeader::read_from(request) else {
        return Dispatch::UnknownId;
    };
    if !(MACH_NOTIFY_FIRST as i32..=MACH_NOTIFY_LAST as i32).contains(&header.id) {
        return Dispatch::UnknownId;
    }
    let Ok((view, trailer)) = parse_received(request) else {
        return Dispatch::UnknownId;
    };
    if trailer.sender != 0 {
        return Dispatch::UnknownId;
    }
    match decode(kernel, &view) {
        Some(notification) => {
            let dead_name = match notification {
                Notification::DeadName { name } => Some(name),
                _ => None,
            };
            handler(notification);
            if let Some(name) = dead_name {
                // The notification added one reference to the dead name.
                let _ = kernel.port_deallocate(name);
            }
        }
        // A kernel message of an id the kernel does not send, or of the
        // wrong shape: nothing to do but release what it carried.
        None => release_received(kernel, &view),
    }
    Dispatch::NoReply
}

fn decode<K: PortKernel>(kernel: &K, view: &MessageView<'_>) -> Option<Notification<K>> {
    let port = view.header.local_port;
    let kind = NotifyId::from_u32(view.header.id as u32)?;
    if kind == NotifyId::PortDestroyed {
        expect_descriptor_count(view, 1).ok()?;
        let name = expect_port(view, 0, ExpectedRight::Receive).ok()?;
        if !view.inline_data.is_empty() {
            return None;
        }
        return Some(Notification::PortDestroyed { port, right: ReceiveRight::from_received(kernel, name) });
    }
    expect_descriptor_count(view, 0).ok()?;
    let mut reader = InlineReader::new(view.inline_data);
    let notification = match kind {
        NotifyId::NoSenders => Notification::NoSenders { port, make_send_count: reader.u32().ok()? },
        NotifyId::DeadName => Notification::DeadName { name: reader.u32().ok()? },
        NotifyId::PortDeleted => Notification::PortDeleted { name: reader.u32().ok()? },
        NotifyId::SendOnce => Notification::SendOnce { port },
        NotifyId::PortDestroyed => return None,
    };
    reader.finish().ok()?;
    Some(notification)
}
