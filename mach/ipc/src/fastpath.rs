//! The call/reply fast path (after seL4's `fastpath_call` and
//! `fastpath_reply_recv`): the message shapes every RPC uses, handed from
//! the sender's bytes straight into a waiting receiver's buffer.
//!
//! [`Ipc::send_direct_into`] handles any message a waiting receiver can
//! take, through the general machinery: parse every descriptor, plan the
//! copyin into vectors, simulate every right transition on copies of the
//! entries, commit them, build a [`KernelMessage`](crate::message::KernelMessage)
//! (its inline data copied into a fresh vector), then encode it again for
//! the receiver. For a request or a reply none of that is needed: the
//! message is a header and inline words, its destination a send or
//! send-once right, its reply port (if any) made send-once from a receive
//! right. [`Ipc::send_fast_into`] checks exactly that shape with a few
//! reads, then makes the same transitions through the same primitives the
//! general path commits with (`commit_take`, `destroy_consumed_destination`,
//! `copyout_right`), so both paths leave every space and port the same and
//! write the same bytes (the model tests in `tests/fastpath.rs` compare
//! them). Anything else declines with nothing changed, and the caller takes
//! the general path.

use mach_abi::{
    msgh_bits, msgh_bits_local, msgh_bits_remote, Disposition, MachMsgAuditTrailer, MachMsgHeader, MachMsgTrailer,
    PortName, MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_HEADER_SIZE, MACH_MSG_TRAILER_SIZE, MACH_PORT_NULL,
};

use crate::message::{ReceiveOptions, ReceivedInto};
use crate::right::{EntryRights, RightKind};
use crate::{Ipc, PortId, SpaceId};

/// The header bits a fast message may have: its two header dispositions,
/// nothing else (no complex bit, no voucher).
const FAST_BITS: u32 = 0xffff;

/// What the fast path checked, for the commit.
struct FastMessage {
    destination_name: PortName,
    destination_disposition: Disposition,
    port: PortId,
    reply_name: PortName,
}

impl Ipc {
    /// Delivers `bytes`, sent from `sender`, straight into `out` for a
    /// receiver of space `receiver` waiting on the receive right it names
    /// `receive_name` (not a port set) with a buffer of `receive_size`
    /// bytes, if the message has the shape of an RPC request or reply: no
    /// descriptors, a `COPY_SEND` or `MOVE_SEND_ONCE` destination naming
    /// that port, whose queue is empty, and either no reply port or one
    /// made send-once from a receive right of the sender. `None` when it
    /// has not (or the receiver could not take it: its buffer, its name
    /// allowance), with nothing changed: the caller then takes the general
    /// path ([`Ipc::send_direct_into`] or a queued send), which gives the
    /// same answer for the messages accepted here.
    #[allow(clippy::too_many_arguments)]
    pub fn send_fast_into(
        &mut self,
        sender: SpaceId,
        bytes: &[u8],
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        out: &mut [u8],
    ) -> Option<ReceivedInto> {
        let fast = self.check_fast(sender, bytes, receiver, receive_name, receive_size, options, out.len())?;
        let header = MachMsgHeader::read_from(bytes)?;
        // The checks above are everything `commit_take` could refuse, so
        // the commit below cannot fail half-way.
        let destination = self.commit_take(sender, fast.destination_name, fast.destination_disposition).ok()?;
        let reply = match fast.reply_name {
            MACH_PORT_NULL => None,
            name => Some(self.commit_take(sender, name, Disposition::MakeSendOnce).ok()?),
        };
        let seqno = self.next_seqno(fast.port);
        let destination_type =
            destination.port().map_or(mach_abi::MACH_MSG_TYPE_PORT_SEND, |(_, kind)| kind.received_type());
        self.destroy_consumed_destination(destination);
        let local_port = self.space(receiver).and_then(|space| space.name_of(fast.port)).unwrap_or(MACH_PORT_NULL);
        let mut lost = 0;
        let (remote_port, reply_type) = match reply {
            None => (MACH_PORT_NULL, 0),
            Some(right) => match self.copyout_right(receiver, right) {
                Some(name) => (name, RightKind::SendOnce.received_type()),
                None => {
                    lost |= mach_abi::MACH_MSG_IPC_SPACE;
                    (MACH_PORT_NULL, 0)
                }
            },
        };
        let length = bytes.len();
        let received = MachMsgHeader {
            bits: msgh_bits(reply_type, destination_type),
            size: length as u32,
            remote_port,
            local_port,
            voucher_port: MACH_PORT_NULL,
            id: header.id,
        };
        received.write_to(&mut out[..MACH_MSG_HEADER_SIZE]);
        out[MACH_MSG_HEADER_SIZE..length].copy_from_slice(&bytes[MACH_MSG_HEADER_SIZE..]);
        let sender_space = self.space(sender)?;
        let task_id = sender_space.task_id;
        let trailer_length = if options.audit {
            let credential = sender_space.credential.as_deref().copied().unwrap_or_default();
            let trailer = MachMsgAuditTrailer::new(seqno, task_id, credential).to_bytes();
            out[length..length + MACH_MSG_AUDIT_TRAILER_SIZE].copy_from_slice(&trailer);
            MACH_MSG_AUDIT_TRAILER_SIZE
        } else {
            out[length..length + MACH_MSG_TRAILER_SIZE]
                .copy_from_slice(&MachMsgTrailer::new(seqno, task_id).to_bytes());
            MACH_MSG_TRAILER_SIZE
        };
        Some(ReceivedInto { length: length + trailer_length, port: fast.port, lost })
    }

    /// The fast path's conditions, read without changing anything.
    #[allow(clippy::too_many_arguments)]
    fn check_fast(
        &self,
        sender: SpaceId,
        bytes: &[u8],
        receiver: SpaceId,
        receive_name: PortName,
        receive_size: usize,
        options: ReceiveOptions,
        out_length: usize,
    ) -> Option<FastMessage> {
        let length = bytes.len();
        let header = MachMsgHeader::read_from(bytes)?;
        if header.size as usize != length
            || !length.is_multiple_of(4)
            || length > mach_abi::MACH_MSG_SIZE_MAX
            || header.bits & !FAST_BITS != 0
            || header.voucher_port != MACH_PORT_NULL
        {
            return None;
        }
        let trailer_size = options.trailer_size();
        if !mach_abi::receive_fits_with_trailer(length, receive_size, trailer_size)
            || out_length < length + trailer_size
        {
            return None;
        }
        let destination_disposition = match Disposition::from_u32(msgh_bits_remote(header.bits))? {
            disposition @ (Disposition::CopySend | Disposition::MoveSendOnce) => disposition,
            _ => return None,
        };
        let reply_name = match (header.local_port, msgh_bits_local(header.bits)) {
            (MACH_PORT_NULL, 0) => MACH_PORT_NULL,
            (name, disposition) if disposition == Disposition::MakeSendOnce as u32 => name,
            _ => return None,
        };
        let destination_name = header.remote_port;
        if !mach_abi::port_name_is_valid(destination_name) || reply_name == destination_name {
            return None;
        }
        let sender_space = self.space(sender)?;
        let port = match (sender_space.entries.get(&destination_name)?.rights, destination_disposition) {
            (EntryRights::Port { port, send_references, .. }, Disposition::CopySend) if send_references > 0 => port,
            (EntryRights::SendOnce { port }, Disposition::MoveSendOnce) => port,
            _ => return None,
        };
        if reply_name != MACH_PORT_NULL {
            match sender_space.entries.get(&reply_name)?.rights {
                EntryRights::Port { port: reply_port, receive: true, .. } if self.port(reply_port)?.is_alive() => {}
                _ => return None,
            }
        }
        let port_object = self.port(port)?;
        if !port_object.is_alive() || !port_object.queue.is_empty() || port_object.port_set.is_some() {
            return None;
        }
        let receiver_space = self.space(receiver)?;
        match receiver_space.entries.get(&receive_name)?.rights {
            EntryRights::Port { port: wanted, receive: true, .. } if wanted == port => {}
            _ => return None,
        }
        let names_needed = usize::from(reply_name != MACH_PORT_NULL);
        if receiver_space.room_before_allowance().is_some_and(|room| room < names_needed) {
            return None;
        }
        Some(FastMessage { destination_name, destination_disposition, port, reply_name })
    }
}
