//! Copy-out: a [`KernelMessage`] into the receiver's space and bytes:
//! names for its rights, addresses for its memory, the header swapped to
//! the receiver's view, the trailer appended (as xnu's ipc_kmsg_copyout).

use alloc::vec;
use alloc::vec::Vec;

use mach_abi::{
    msgh_bits, Descriptor, MachMsgAuditTrailer, MachMsgHeader, MachMsgTrailer, MessageEncoder, PortName,
    MACH_MSGH_BITS_COMPLEX, MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_HEADER_SIZE, MACH_MSG_IPC_SPACE,
    MACH_MSG_TRAILER_SIZE, MACH_MSG_VM_SPACE, MACH_PORT_NULL,
};

use crate::message::{received_disposition, right_kind_of, KernelMessage, MessageItem, Received, TaskMemory};
use crate::right::{CarriedRight, EntryRights, RightKind};
use crate::{Ipc, PortId, SpaceId};

impl Ipc {
    /// Copies a message out into `space`: names for its rights, addresses
    /// for its memory, the header swapped to the receiver's view, the
    /// trailer appended.
    pub(crate) fn copyout_message(
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
    pub(crate) fn copyout_message_into(
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
    pub(crate) fn copyout_item(
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
    pub(crate) fn deallocate_one_right(&mut self, space: SpaceId, name: PortName) -> Result<(), mach_abi::KernReturn> {
        match self.entry_rights(space, name)? {
            EntryRights::Port { receive: true, .. } => self.mod_refs(space, name, mach_abi::PortRight::Receive, -1),
            _ => self.deallocate(space, name),
        }
    }
}
