//! A message the kernel builds (an exception raise, a pager's data
//! request) handed straight to a receiver already waiting for it, as
//! [`Ipc::send_direct_into`] hands a task's message: never queued, copied
//! out into the receiver's space and bytes at once. The kernel then makes
//! that receiver the next thread to run, so a faulting thread's message
//! reaches its handler or pager in the fault's own lock section.
//!
//! The other way, [`Ipc::send_to_kernel`] copies in a task's message to a
//! kernel port and gives it to the kernel at once (an exception reply,
//! which the kernel consumes for the thread waiting on it), as a send then
//! [`Ipc::receive_kernel_message`] would, without queueing it.

use mach_abi::{msgh_bits_is_complex, receive_fits_with_trailer, Disposition, MachMsgHeader, MachMsgReturn, PortName};

use crate::message::{KernelMessage, MessageItem, ReceiveOptions, ReceivedInto, TaskMemory};
use crate::port::Receiver;
use crate::right::{CarriedRight, EntryRights};
use crate::{Ipc, PortId, SendError, SpaceId};

/// The receiver's memory for a kernel message, which carries no
/// out-of-line memory or port arrays (`send_kernel_into` declines those):
/// never called.
struct NoMemory;

impl TaskMemory for NoMemory {
    fn capture_region(&mut self, _: u64, _: u32, _: mach_abi::CopyOption) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }

    fn read_port_names(&mut self, _: u64, _: u32) -> Result<alloc::vec::Vec<PortName>, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }

    fn deallocate(&mut self, _: u64, _: u64) {}

    fn map_region(&mut self, _: u64, _: u32) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }

    fn write_port_names(&mut self, _: &[PortName]) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }
}

/// A kernel request [`Ipc::send_kernel_request_into`] writes without a
/// message: its destination, id, optional send-once reply right (made from
/// a kernel port), optional send right carried as its one port descriptor,
/// and inline data.
#[derive(Clone, Copy, Debug)]
pub struct KernelRequest<'a> {
    pub destination: PortId,
    pub id: i32,
    pub reply: Option<PortId>,
    pub port: Option<PortId>,
    pub data: &'a [u8],
}

impl KernelMessage {
    /// The port the message goes to (`None`: its destination right is dead).
    pub fn destination_port(&self) -> Option<PortId> {
        self.destination.port().map(|(port, _)| port)
    }
}

impl Ipc {
    /// Delivers `message`, built by the kernel, into `out` for a receiver
    /// of space `receiver` waiting on the receive right or port set it
    /// names `receive_name` with a buffer of `receive_size` bytes, when the
    /// message's destination is that port (or a member of that set) and
    /// its queue is empty, the message carries only port rights (no
    /// out-of-line memory, no receive right), fits the buffer and `out`
    /// with the trailer `options` ask for, and the receiver's name
    /// allowance has room for its rights. The result is what
    /// [`Ipc::send_kernel_message`] then a receive would give: the same
    /// bytes, sequence number, names and rights. Otherwise the message
    /// comes back untouched (`Err`) for the caller to queue.
    pub fn send_kernel_into(
        &mut self,
        message: KernelMessage,
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        out: &mut [u8],
    ) -> Result<ReceivedInto, KernelMessage> {
        let Some(port) = self.kernel_handoff_port(&message, receiver, receive_name, receive_size, options, out.len())
        else {
            return Err(message);
        };
        // The kernel held the rights; now the message does, as when queued.
        for right in message.rights() {
            self.unhold(right);
        }
        let seqno = self.next_seqno(port);
        let (length, lost) =
            self.copyout_message_into(receiver, message, port, seqno, options.audit, &mut NoMemory, out);
        Ok(ReceivedInto { length, port, lost })
    }

    /// Copies in `bytes`, sent from `space` to a kernel port, and hands the
    /// message to the kernel: the destination right is consumed and the
    /// kernel holds the message's other rights (it must release them), as
    /// after [`Ipc::send_kernel_message`]'s queue and
    /// [`Ipc::receive_kernel_message`]. A complex message, or one whose
    /// destination is not a kernel port, is `HandoffNotPossible` with
    /// nothing changed; a send the general path would refuse fails the
    /// same way, with nothing changed.
    pub fn send_to_kernel(&mut self, space: SpaceId, bytes: &[u8]) -> Result<KernelMessage, SendError> {
        let header = MachMsgHeader::read_from(bytes).ok_or(SendError::HandoffNotPossible)?;
        let port = self.destination_of(space, bytes).ok_or(SendError::HandoffNotPossible)?;
        if msgh_bits_is_complex(header.bits) || self.port(port).map(|port| port.receiver) != Some(Receiver::Kernel) {
            return Err(SendError::HandoffNotPossible);
        }
        let mut message = self.copyin_message(space, bytes, &mut NoMemory, None)?;
        message.charged_to = None;
        // Received, as far as the port can tell.
        self.next_seqno(port);
        let destination = core::mem::replace(&mut message.destination, CarriedRight::Dead);
        self.destroy_consumed_destination(destination);
        for right in message.rights() {
            self.hold(right);
        }
        Ok(message)
    }

    /// [`Ipc::send_to_kernel`] for the shape of a reply (a header with a
    /// `MOVE_SEND_ONCE` destination naming a kernel port, no reply port, no
    /// voucher, no descriptors, then inline data), without building a
    /// message: the send-once right is consumed and the port returned; the
    /// kernel reads the id and the data from `bytes` itself. `None`, with
    /// nothing changed, for anything else (then [`Ipc::send_to_kernel`]).
    pub fn send_reply_to_kernel(&mut self, space: SpaceId, bytes: &[u8]) -> Option<PortId> {
        let header = MachMsgHeader::read_from(bytes)?;
        if header.size as usize != bytes.len()
            || !bytes.len().is_multiple_of(4)
            || bytes.len() > mach_abi::MACH_MSG_SIZE_MAX
            || header.bits != mach_abi::msgh_bits(Disposition::MoveSendOnce as u32, 0)
            || header.local_port != mach_abi::MACH_PORT_NULL
            || header.voucher_port != mach_abi::MACH_PORT_NULL
        {
            return None;
        }
        let port = match self.space(space)?.entries.get(&header.remote_port)?.rights {
            EntryRights::SendOnce { port } => port,
            _ => return None,
        };
        if self.port(port)?.receiver != Receiver::Kernel {
            return None;
        }
        let destination = self.commit_take(space, header.remote_port, Disposition::MoveSendOnce).ok()?;
        self.destroy_consumed_destination(destination);
        self.next_seqno(port);
        Some(port)
    }

    /// [`Ipc::send_kernel_into`] for a kernel request of the usual shapes,
    /// without building a [`KernelMessage`]: to `request.destination` (a
    /// live port the kernel holds a send right to), optionally with a
    /// send-once reply right made from the kernel port `request.reply`,
    /// optionally carrying a send right to `request.port` as its one port
    /// descriptor, then `request.data` inline (a whole number of words). It
    /// writes the bytes and leaves the spaces and ports (make-send counts
    /// included) exactly as `make_send`, `make_send_once`,
    /// `KernelMessage::from_kernel` (or `from_kernel_with_ports`) and
    /// [`Ipc::send_kernel_into`] would. `None`, with nothing changed, when
    /// that would decline (or the data is not whole words): the caller
    /// builds the message and takes that way.
    pub fn send_kernel_request_into(
        &mut self,
        request: KernelRequest<'_>,
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        out: &mut [u8],
    ) -> Option<ReceivedInto> {
        let KernelRequest { destination, id, reply, port, data } = request;
        let complex = port.is_some();
        let length = mach_abi::MACH_MSG_HEADER_SIZE
            + if complex { mach_abi::MACH_MSG_BODY_SIZE + mach_abi::MACH_MSG_DESCRIPTOR_SIZE } else { 0 }
            + data.len();
        let trailer_size = options.trailer_size();
        if !data.len().is_multiple_of(4)
            || length > mach_abi::MACH_MSG_SIZE_MAX
            || !receive_fits_with_trailer(length, receive_size, trailer_size)
            || out.len() < length + trailer_size
            || reply.is_some_and(|reply| !self.port(reply).is_some_and(|port| port.is_alive()))
            || port.is_some_and(|port| !self.port(port).is_some_and(|port| port.is_alive()))
        {
            return None;
        }
        let port_object = self.port(destination)?;
        if !port_object.is_alive() || !port_object.queue.is_empty() {
            return None;
        }
        let receiver_space = self.space(receiver)?;
        let local_port = match receiver_space.entries.get(&receive_name)?.rights {
            EntryRights::Port { port: wanted, receive: true, .. } if wanted == destination => receive_name,
            EntryRights::PortSet { set } if port_object.port_set == Some(set) => receiver_space.name_of(destination)?,
            _ => return None,
        };
        let names_needed = usize::from(reply.is_some()) + usize::from(complex);
        if receiver_space.room_before_allowance().is_some_and(|room| room < names_needed) {
            return None;
        }
        // The send right made for the message and released on its receipt:
        // only the make-send count stays changed (another send right, the
        // kernel's, remains, so no no-senders can fire).
        let port_object = self.port_mut(destination)?;
        port_object.make_send_count = port_object.make_send_count.wrapping_add(1);
        let seqno = self.next_seqno(destination);
        // The reply right, send-once, always gets a fresh name (first, as
        // the general copy-out names it).
        let (remote_port, reply_type, mut lost) = self.name_new_send_once(receiver, reply)?;
        let header = MachMsgHeader {
            bits: mach_abi::msgh_bits(reply_type, mach_abi::MACH_MSG_TYPE_PORT_SEND)
                | if complex { mach_abi::MACH_MSGH_BITS_COMPLEX } else { 0 },
            size: 0,
            remote_port,
            local_port,
            voucher_port: mach_abi::MACH_PORT_NULL,
            id,
        };
        let carried = match port {
            Some(port) => {
                let right = self.make_send(port).ok()?;
                self.unhold(&right);
                Some(self.copyout_right(receiver, right).unwrap_or_else(|| {
                    lost |= mach_abi::MACH_MSG_IPC_SPACE;
                    mach_abi::MACH_PORT_NULL
                }))
            }
            None => None,
        };
        match carried {
            // Inline only (an exception raise): the header and the words.
            None => {
                let header = MachMsgHeader { size: length as u32, ..header };
                let _ = header.write_to(&mut out[..mach_abi::MACH_MSG_HEADER_SIZE]);
                out[mach_abi::MACH_MSG_HEADER_SIZE..length].copy_from_slice(data);
            }
            Some(name) => {
                let (body, _) = out.split_at_mut(length);
                let mut encoder = mach_abi::MessageEncoder::new(body, header, complex);
                let _ = encoder.descriptor(mach_abi::Descriptor::Port { name, disposition: Disposition::MoveSend });
                let _ = encoder.inline_data(data);
                encoder.finish().ok()?;
            }
        }
        let trailer = &mut out[length..length + trailer_size];
        if options.audit {
            trailer.copy_from_slice(&mach_abi::MachMsgAuditTrailer::new(seqno, 0, Default::default()).to_bytes());
        } else {
            trailer.copy_from_slice(&mach_abi::MachMsgTrailer::new(seqno, 0).to_bytes());
        }
        Some(ReceivedInto { length: length + trailer_size, port: destination, lost })
    }

    /// [`Ipc::send_kernel_into`]'s conditions, read without changing
    /// anything: the destination port if they hold.
    fn kernel_handoff_port(
        &self,
        message: &KernelMessage,
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        out_length: usize,
    ) -> Option<PortId> {
        let port = message.destination_port()?;
        let port_object = self.port(port)?;
        if !port_object.is_alive() || !port_object.queue.is_empty() {
            return None;
        }
        let plain = message.items.iter().all(|item| matches!(item, MessageItem::Port(_)))
            && message.receive_rights().next().is_none();
        let size = message.size();
        let trailer_size = options.trailer_size();
        if !plain || !receive_fits_with_trailer(size, receive_size, trailer_size) || out_length < size + trailer_size {
            return None;
        }
        let receiver_space = self.space(receiver)?;
        let waits_here = match receiver_space.entries.get(&receive_name)?.rights {
            EntryRights::Port { port: wanted, receive: true, .. } => wanted == port,
            EntryRights::PortSet { set } => port_object.port_set == Some(set),
            _ => false,
        };
        let room = receiver_space.room_before_allowance();
        (waits_here && room.is_none_or(|room| room >= message.names_needed())).then_some(port)
    }
}
