//! Ports: a message queue with a limit, its counters and who receives it.

use alloc::collections::VecDeque;

use mach_abi::{PortName, MACH_PORT_QLIMIT_DEFAULT};

use crate::message::KernelMessage;
use crate::notify::NotificationRequests;
use crate::{PortSetId, SpaceId};

/// Where a port's receive right is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// Held by a space under a name.
    Space { space: SpaceId, name: PortName },
    /// Travelling inside a message: queued on `queued_on`, or held by the
    /// kernel (`None`) between copyin and enqueue or after a kernel receive.
    InTransit { queued_on: Option<crate::PortId> },
    /// Held by the kernel: a kernel-object port (task, thread, host, device)
    /// whose messages the kernel itself receives.
    Kernel,
    /// The receive right was destroyed. The port lingers only while rights
    /// to it remain in messages or held by the kernel; they deliver as
    /// `MACH_PORT_DEAD`.
    Dead,
}

/// An opaque tag the kernel attaches to a port to find its object (task,
/// thread, host, device...). 0 means "none"; the IPC core never interprets it.
pub type KernelObject = u64;

/// A port.
#[derive(Debug)]
pub struct Port {
    pub(crate) receiver: Receiver,
    pub(crate) queue: VecDeque<KernelMessage>,
    pub(crate) queue_limit: u32,
    /// Sequence number of the next message dequeued.
    pub(crate) seqno: u32,
    pub(crate) make_send_count: u32,
    /// Send rights in existence: each space entry holding send references
    /// counts once, each send right in a message or held by the kernel once.
    pub(crate) send_rights: u32,
    /// Messages in this port's own queue whose destination is a send right:
    /// those send rights are used up when the message is received, and can
    /// never send again, so no-senders does not wait for them (see
    /// `Ipc::check_no_senders`).
    pub(crate) queued_send_destinations: u32,
    pub(crate) send_once_rights: u32,
    pub(crate) port_set: Option<PortSetId>,
    pub(crate) requests: NotificationRequests,
    pub(crate) kernel_object: KernelObject,
    /// Space entries that name this port (send or send-once rights, and the
    /// receive right): what death turns into dead names.
    pub(crate) holders: crate::holders::Holders,
    /// Rights to this port the kernel holds between calls (handed out by
    /// `extract_right`, `make_send`, a kernel receive...), counted so the
    /// invariant check can balance the books.
    pub(crate) kernel_held: KernelHeld,
}

/// Counts of rights held by the kernel outside every space and queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelHeld {
    pub receive: u32,
    pub send: u32,
    pub send_once: u32,
}

impl Port {
    pub(crate) fn new(receiver: Receiver, kernel_object: KernelObject) -> Port {
        Port {
            receiver,
            queue: VecDeque::new(),
            queue_limit: MACH_PORT_QLIMIT_DEFAULT,
            seqno: 0,
            make_send_count: 0,
            send_rights: 0,
            queued_send_destinations: 0,
            send_once_rights: 0,
            port_set: None,
            requests: NotificationRequests::default(),
            kernel_object,
            holders: crate::holders::Holders::default(),
            kernel_held: KernelHeld::default(),
        }
    }

    /// Where the receive right is.
    pub fn receiver(&self) -> Receiver {
        self.receiver
    }

    /// True until the receive right is destroyed.
    pub fn is_alive(&self) -> bool {
        self.receiver != Receiver::Dead
    }

    /// Messages queued.
    pub fn message_count(&self) -> usize {
        self.queue.len()
    }

    pub fn queue_limit(&self) -> u32 {
        self.queue_limit
    }

    pub fn seqno(&self) -> u32 {
        self.seqno
    }

    pub fn make_send_count(&self) -> u32 {
        self.make_send_count
    }

    pub fn send_rights(&self) -> u32 {
        self.send_rights
    }

    pub fn send_once_rights(&self) -> u32 {
        self.send_once_rights
    }

    pub fn port_set(&self) -> Option<PortSetId> {
        self.port_set
    }

    /// The spaces that name this port (hold a right to it), each once per
    /// name: who to charge for a kernel object whose creator is gone.
    pub fn holder_spaces(&self) -> impl Iterator<Item = SpaceId> + '_ {
        self.holders.iter().map(|(space, _)| space)
    }

    pub fn kernel_object(&self) -> KernelObject {
        self.kernel_object
    }

    /// True when a send with a (non send-once) right must wait.
    pub fn is_full(&self) -> bool {
        self.queue.len() >= self.queue_limit as usize
    }

    /// Arrival stamp of the first queued message, for port-set FIFO.
    pub(crate) fn head_arrival(&self) -> Option<u64> {
        self.queue.front().map(|message| message.arrival)
    }

    /// A dead port with no right left anywhere can be freed.
    pub(crate) fn is_unreferenced(&self) -> bool {
        !self.is_alive() && self.send_rights == 0 && self.send_once_rights == 0 && self.kernel_held.receive == 0
    }
}
