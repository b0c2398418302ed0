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
//! reads, then makes only the transitions it needs, through the primitives
//! the general path commits with (for a send-once destination, what
//! `commit_take` and `destroy_consumed_destination` do to it, in
//! [`Ipc::consume_send_once`]; a fresh name and `place_entry` for the reply
//! right; a copied send right, made and released again on delivery, is
//! left out), so both paths leave every
//! space and port the same and write the same bytes (the model tests in
//! `tests/fastpath.rs` compare them). Anything else declines with nothing
//! changed, and the caller takes the general path.

use mach_abi::{
    msgh_bits, msgh_bits_local, msgh_bits_remote, Disposition, MachMsgAuditTrailer, MachMsgHeader, MachMsgTrailer,
    PortName, MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_HEADER_SIZE, MACH_MSG_TRAILER_SIZE, MACH_PORT_NULL,
};

use crate::message::{ReceiveOptions, ReceivedInto};
use crate::right::{CarriedRight, EntryRights, RightKind};
use crate::{Ipc, PortId, SpaceId};

/// The header bits a fast message may have: its two header dispositions,
/// nothing else (no complex bit, no voucher).
const FAST_BITS: u32 = 0xffff;

/// What the fast path checked, for the commit.
struct FastMessage {
    destination_name: PortName,
    destination_disposition: Disposition,
    port: PortId,
    /// The port of the sender's receive right the reply right is made from.
    reply: Option<PortId>,
    /// The receiver's name for the port (its receive right).
    local_port: PortName,
}

impl Ipc {
    /// Delivers `bytes`, sent from `sender`, straight into `out` for a
    /// receiver of space `receiver` waiting on the receive right or the
    /// port set it names `receive_name` with a buffer of `receive_size`
    /// bytes, if the message has the shape of an RPC request or reply: no
    /// descriptors, a `COPY_SEND` or `MOVE_SEND_ONCE` destination naming
    /// that port (or a member of that set: servers receive on sets), whose
    /// queue is empty, and either no reply port or one
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
        // The checks above are everything the transitions below could
        // refuse, so the commit cannot stop half-way.
        let destination_type = match fast.destination_disposition {
            // A copied send right would be made and, the message
            // delivered, released again: the sender's entry still holds
            // one, so no no-senders can fire, and nothing changes.
            Disposition::CopySend => mach_abi::MACH_MSG_TYPE_PORT_SEND,
            _ => {
                self.consume_send_once(sender, fast.destination_name, fast.port)?;
                mach_abi::MACH_MSG_TYPE_PORT_SEND_ONCE
            }
        };
        let seqno = self.next_seqno(fast.port);
        let (remote_port, reply_type, lost) = self.name_new_send_once(receiver, fast.reply)?;
        let local_port = fast.local_port;
        let length = bytes.len();
        let received = MachMsgHeader {
            bits: msgh_bits(reply_type, destination_type),
            size: length as u32,
            remote_port,
            local_port,
            voucher_port: MACH_PORT_NULL,
            id: header.id,
        };
        let _ = received.write_to(&mut out[..MACH_MSG_HEADER_SIZE]);
        out[MACH_MSG_HEADER_SIZE..length].copy_from_slice(&bytes[MACH_MSG_HEADER_SIZE..]);
        let sender_space = self.space(sender)?;
        let task_id = sender_space.task_id;
        let trailer_length = if options.audit {
            let credential = sender_space.credential.as_deref().copied().unwrap_or_default();
            let trailer = MachMsgAuditTrailer::new(seqno, task_id, credential);
            // Exactly the trailer's length (checked room), so always taken.
            if let Ok(place) = <&mut [u8; MACH_MSG_AUDIT_TRAILER_SIZE]>::try_from(
                &mut out[length..length + MACH_MSG_AUDIT_TRAILER_SIZE],
            ) {
                trailer.write_to(place);
            }
            MACH_MSG_AUDIT_TRAILER_SIZE
        } else {
            out[length..length + MACH_MSG_TRAILER_SIZE]
                .copy_from_slice(&MachMsgTrailer::new(seqno, task_id).to_bytes());
            MACH_MSG_TRAILER_SIZE
        };
        Some(ReceivedInto { length: length + trailer_length, port: fast.port, lost })
    }

    /// Names a new send-once right to `reply` (made from a receive right:
    /// its count goes up first) in `receiver`'s space, as a handoff's
    /// reply right: the name, its type, and the `MACH_MSG_IPC_SPACE` bit
    /// if the space was full (the right is then destroyed, as the general
    /// path's copy-out does at the hard limit). `None` if `reply` is gone.
    pub(crate) fn name_new_send_once(
        &mut self,
        receiver: SpaceId,
        reply: Option<PortId>,
    ) -> Option<(PortName, u32, u32)> {
        let Some(reply) = reply else { return Some((MACH_PORT_NULL, 0, 0)) };
        self.port_mut(reply)?.send_once_rights += 1;
        match self.space_mut(receiver).and_then(crate::Space::allocate_name) {
            Some(name) => {
                self.place_entry(receiver, name, EntryRights::SendOnce { port: reply });
                Some((name, mach_abi::MACH_MSG_TYPE_PORT_SEND_ONCE, 0))
            }
            None => {
                self.destroy_rights(alloc::vec![CarriedRight::Port { port: reply, kind: RightKind::SendOnce }]);
                Some((MACH_PORT_NULL, 0, mach_abi::MACH_MSG_IPC_SPACE))
            }
        }
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
        // A message to another thread of the sender's own task is left to
        // the general path (one space on both sides: nothing to gain).
        if !mach_abi::port_name_is_valid(destination_name) || reply_name == destination_name || sender == receiver {
            return None;
        }
        let sender_space = self.space(sender)?;
        let port = match (sender_space.entries.get(&destination_name)?.rights, destination_disposition) {
            (EntryRights::Port { port, send_references, .. }, Disposition::CopySend) if send_references > 0 => port,
            (EntryRights::SendOnce { port }, Disposition::MoveSendOnce) => port,
            _ => return None,
        };
        let reply = match reply_name {
            MACH_PORT_NULL => None,
            _ => match sender_space.entries.get(&reply_name)?.rights {
                EntryRights::Port { port: reply_port, receive: true, .. } if self.port(reply_port)?.is_alive() => {
                    Some(reply_port)
                }
                _ => return None,
            },
        };
        let port_object = self.port(port)?;
        if !port_object.is_alive() || !port_object.queue.is_empty() {
            return None;
        }
        let receiver_space = self.space(receiver)?;
        let local_port = match receiver_space.entries.get(&receive_name)?.rights {
            // The receive right it waits on.
            EntryRights::Port { port: wanted, receive: true, .. }
                if wanted == port && port_object.port_set.is_none() =>
            {
                receive_name
            }
            // A set it waits on, which the port is a member of: its queue
            // is empty (the receiver would not wait otherwise), so the set's
            // order of ready members is not touched.
            EntryRights::PortSet { set } if port_object.port_set == Some(set) => receiver_space.name_of(port)?,
            _ => return None,
        };
        let names_needed = usize::from(reply.is_some());
        if receiver_space.room_before_allowance().is_some_and(|room| room < names_needed) {
            return None;
        }
        Some(FastMessage { destination_name, destination_disposition, port, reply, local_port })
    }
}
