//! The message layout: header, bits, body, descriptors, options, trailer, limits.
//!
//! All structures are little-endian, `#[repr(C, packed(4))]` (C: `#pragma
//! pack(4)`, like xnu), so a message buffer needs only 4-byte alignment and
//! a descriptor's 64-bit address may sit at an offset that is 4 mod 8.

use crate::code_enum::code_enum;
use crate::port::PortName;

/// `mach_msg_header_t`: the 24-byte header every message starts with.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgHeader {
    /// `msgh_bits`: dispositions of the header ports and the complex bit.
    pub bits: u32,
    /// `msgh_size`: total size in bytes, header included, trailer excluded.
    pub size: u32,
    /// `msgh_remote_port`: the destination (on receive: the reply port).
    pub remote_port: PortName,
    /// `msgh_local_port`: the reply port (on receive: the destination).
    pub local_port: PortName,
    /// `msgh_voucher_port`: reserved, must be `MACH_PORT_NULL` (no vouchers).
    pub voucher_port: PortName,
    /// `msgh_id`: the operation number, chosen by the interface.
    pub id: i32,
}

/// `mach_msg_body_t`: follows the header when `MACH_MSGH_BITS_COMPLEX` is set.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgBody {
    /// Number of 16-byte descriptors that follow.
    pub descriptor_count: u32,
}

/// `mach_msg_port_descriptor_t`: carries one port right.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgPortDescriptor {
    /// The right's name in the sender's (or, received, the receiver's) space.
    pub name: PortName,
    /// Must be zero.
    pub pad1: u32,
    /// Must be zero.
    pub pad2: u16,
    /// A [`crate::Disposition`] value (received: `MACH_MSG_TYPE_PORT_*`).
    pub disposition: u8,
    /// [`DescriptorType::Port`].
    pub descriptor_type: u8,
    /// Must be zero (pads the descriptor to the common 16 bytes).
    pub pad3: u32,
}

/// `mach_msg_ool_descriptor_t`: out-of-line memory.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgOolDescriptor {
    /// Start of the region in the sender's (received: receiver's) space.
    pub address: u64,
    /// 1: the sender's region is deallocated by the send (a move).
    pub deallocate: u8,
    /// A [`CopyOption`] value.
    pub copy: u8,
    /// Must be zero.
    pub pad1: u8,
    /// [`DescriptorType::OutOfLineMemory`].
    pub descriptor_type: u8,
    /// Size in bytes.
    pub size: u32,
}

/// `mach_msg_ool_ports_descriptor_t`: an out-of-line array of port names.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgOolPortsDescriptor {
    /// Address of an array of `count` port names.
    pub address: u64,
    /// 1: the sender's array is deallocated by the send.
    pub deallocate: u8,
    /// A [`CopyOption`] value.
    pub copy: u8,
    /// One [`crate::Disposition`] applied to every name of the array.
    pub disposition: u8,
    /// [`DescriptorType::OutOfLinePorts`].
    pub descriptor_type: u8,
    /// Number of names in the array.
    pub count: u32,
}

/// `mach_msg_trailer_t` as Mach_R always appends it on receive.
///
/// Mach_R always delivers this one trailer (xnu's
/// `MACH_RCV_TRAILER_SENDER` elements, with the sender as a task id instead
/// of a security token); `trailer_size` says how many bytes are valid.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgTrailer {
    /// `MACH_MSG_TRAILER_FORMAT_0`.
    pub trailer_type: u32,
    /// Size of this trailer in bytes (16).
    pub trailer_size: u32,
    /// The port's sequence number for this message.
    pub seqno: u32,
    /// Kernel-assigned id of the sending task; 0 for the kernel itself.
    pub sender: u32,
}

/// Most supplementary groups a [`TaskCredential`] carries (`NGROUPS_MAX`
/// of the POSIX personality).
pub const CREDENTIAL_GROUPS_MAX: usize = 16;

/// A task's credential: who it acts for. The kernel keeps one per task
/// (a new task starts with its creator's), only the holder of the
/// privileged host port may set it (`task_set_credential`), and a receiver
/// that asks with [`MACH_RCV_TRAILER_AUDIT`] gets the sender's credential as
/// it was when the message was sent, in a [`MachMsgAuditTrailer`] (xnu's
/// audit token). Servers check permissions against it, never against an
/// identity written in a message body.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskCredential {
    /// The POSIX process id (0: not a process, e.g. a server).
    pub pid: u32,
    /// Its process group and session (kept current by the process server,
    /// so the console server can apply job control without asking it).
    pub pgid: u32,
    pub sid: u32,
    /// Real user id.
    pub ruid: u32,
    /// Effective user id: the one permission checks use.
    pub euid: u32,
    /// Real group id.
    pub rgid: u32,
    /// Effective group id.
    pub egid: u32,
    /// How many entries of `groups` are valid (at most [`CREDENTIAL_GROUPS_MAX`]).
    pub group_count: u32,
    /// Supplementary group ids.
    pub groups: [u32; CREDENTIAL_GROUPS_MAX],
}

/// The trailer a receive with [`MACH_RCV_TRAILER_AUDIT`] gets: the
/// [`MachMsgTrailer`] fields, then the sender's [`TaskCredential`].
/// `trailer_size` is [`MACH_MSG_AUDIT_TRAILER_SIZE`].
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachMsgAuditTrailer {
    /// `MACH_MSG_TRAILER_FORMAT_0`.
    pub trailer_type: u32,
    /// Size of this trailer in bytes ([`MACH_MSG_AUDIT_TRAILER_SIZE`]).
    pub trailer_size: u32,
    /// The port's sequence number for this message.
    pub seqno: u32,
    /// Kernel-assigned id of the sending task; 0 for the kernel itself.
    pub sender: u32,
    /// The sender's credential when it sent the message (all zero from the
    /// kernel).
    pub credential: TaskCredential,
}

/// Byte size of [`MachMsgHeader`].
pub const MACH_MSG_HEADER_SIZE: usize = 24;
/// Byte size of [`MachMsgBody`].
pub const MACH_MSG_BODY_SIZE: usize = 4;
/// Byte size of every descriptor.
pub const MACH_MSG_DESCRIPTOR_SIZE: usize = 16;
/// Byte size of [`MachMsgTrailer`].
pub const MACH_MSG_TRAILER_SIZE: usize = 16;
/// Byte size of [`TaskCredential`].
pub const TASK_CREDENTIAL_SIZE: usize = 32 + 4 * CREDENTIAL_GROUPS_MAX;
/// Byte size of [`MachMsgAuditTrailer`].
pub const MACH_MSG_AUDIT_TRAILER_SIZE: usize = MACH_MSG_TRAILER_SIZE + TASK_CREDENTIAL_SIZE;
/// Offset of the type byte common to all descriptors.
pub const MACH_MSG_DESCRIPTOR_TYPE_OFFSET: usize = 11;

const _: () = assert!(core::mem::size_of::<MachMsgHeader>() == MACH_MSG_HEADER_SIZE);
const _: () = assert!(core::mem::size_of::<MachMsgBody>() == MACH_MSG_BODY_SIZE);
const _: () = assert!(core::mem::size_of::<MachMsgPortDescriptor>() == MACH_MSG_DESCRIPTOR_SIZE);
const _: () = assert!(core::mem::size_of::<MachMsgOolDescriptor>() == MACH_MSG_DESCRIPTOR_SIZE);
const _: () = assert!(core::mem::size_of::<MachMsgOolPortsDescriptor>() == MACH_MSG_DESCRIPTOR_SIZE);
const _: () = assert!(core::mem::size_of::<MachMsgTrailer>() == MACH_MSG_TRAILER_SIZE);
const _: () = assert!(core::mem::align_of::<MachMsgOolDescriptor>() == 4);
const _: () = assert!(core::mem::size_of::<TaskCredential>() == TASK_CREDENTIAL_SIZE);
const _: () = assert!(core::mem::offset_of!(TaskCredential, group_count) == 28);
const _: () = assert!(core::mem::offset_of!(TaskCredential, groups) == 32);
const _: () = assert!(core::mem::size_of::<MachMsgAuditTrailer>() == MACH_MSG_AUDIT_TRAILER_SIZE);
const _: () = assert!(core::mem::offset_of!(MachMsgPortDescriptor, descriptor_type) == MACH_MSG_DESCRIPTOR_TYPE_OFFSET);
const _: () = assert!(core::mem::offset_of!(MachMsgOolDescriptor, descriptor_type) == MACH_MSG_DESCRIPTOR_TYPE_OFFSET);
const _: () =
    assert!(core::mem::offset_of!(MachMsgOolPortsDescriptor, descriptor_type) == MACH_MSG_DESCRIPTOR_TYPE_OFFSET);
const _: () = assert!(core::mem::offset_of!(MachMsgHeader, id) == 20);
const _: () = assert!(core::mem::offset_of!(MachMsgOolDescriptor, size) == 12);

code_enum! {
    /// `mach_msg_descriptor_type_t`: the tag at byte 11 of every descriptor.
    pub enum DescriptorType {
        Port = 0 => "MACH_MSG_PORT_DESCRIPTOR",
        OutOfLineMemory = 1 => "MACH_MSG_OOL_DESCRIPTOR",
        OutOfLinePorts = 2 => "MACH_MSG_OOL_PORTS_DESCRIPTOR",
    }
}

code_enum! {
    /// `mach_msg_copy_options_t` for out-of-line data.
    ///
    /// A *move* is `VirtualCopy` with `deallocate = 1`: the pages leave the
    /// sender and are mapped in the receiver without copying bytes.
    pub enum CopyOption {
        /// The kernel copies the bytes at send time.
        PhysicalCopy = 0 => "MACH_MSG_PHYSICAL_COPY",
        /// The kernel shares the pages copy-on-write (or moves them).
        VirtualCopy = 1 => "MACH_MSG_VIRTUAL_COPY",
    }
}

/// `MACH_MSGH_BITS_ZERO`.
pub const MACH_MSGH_BITS_ZERO: u32 = 0;
/// Disposition of `remote_port`.
pub const MACH_MSGH_BITS_REMOTE_MASK: u32 = 0x0000_001f;
/// Disposition of `local_port`.
pub const MACH_MSGH_BITS_LOCAL_MASK: u32 = 0x0000_1f00;
/// Disposition of `voucher_port`.
pub const MACH_MSGH_BITS_VOUCHER_MASK: u32 = 0x001f_0000;
/// All three port dispositions.
pub const MACH_MSGH_BITS_PORTS_MASK: u32 =
    MACH_MSGH_BITS_REMOTE_MASK | MACH_MSGH_BITS_LOCAL_MASK | MACH_MSGH_BITS_VOUCHER_MASK;
/// The message has a body and descriptors.
pub const MACH_MSGH_BITS_COMPLEX: u32 = 0x8000_0000;
/// Every bit a sender may set; others are `MACH_SEND_INVALID_HEADER`.
pub const MACH_MSGH_BITS_USER: u32 = 0x801f_1f1f;

/// `MACH_MSGH_BITS(remote, local)`.
pub const fn msgh_bits(remote: u32, local: u32) -> u32 {
    remote | (local << 8)
}

/// `MACH_MSGH_BITS_SET_PORTS(remote, local, voucher)`.
pub const fn msgh_bits_set_ports(remote: u32, local: u32, voucher: u32) -> u32 {
    (remote & MACH_MSGH_BITS_REMOTE_MASK)
        | ((local << 8) & MACH_MSGH_BITS_LOCAL_MASK)
        | ((voucher << 16) & MACH_MSGH_BITS_VOUCHER_MASK)
}

/// `MACH_MSGH_BITS_SET(remote, local, voucher, other)`.
pub const fn msgh_bits_set(remote: u32, local: u32, voucher: u32, other: u32) -> u32 {
    msgh_bits_set_ports(remote, local, voucher) | (other & !MACH_MSGH_BITS_PORTS_MASK)
}

/// `MACH_MSGH_BITS_REMOTE(bits)`.
pub const fn msgh_bits_remote(bits: u32) -> u32 {
    bits & MACH_MSGH_BITS_REMOTE_MASK
}

/// `MACH_MSGH_BITS_LOCAL(bits)`.
pub const fn msgh_bits_local(bits: u32) -> u32 {
    (bits & MACH_MSGH_BITS_LOCAL_MASK) >> 8
}

/// `MACH_MSGH_BITS_VOUCHER(bits)`.
pub const fn msgh_bits_voucher(bits: u32) -> u32 {
    (bits & MACH_MSGH_BITS_VOUCHER_MASK) >> 16
}

/// `MACH_MSGH_BITS_IS_COMPLEX(bits)`.
pub const fn msgh_bits_is_complex(bits: u32) -> bool {
    bits & MACH_MSGH_BITS_COMPLEX != 0
}

/// `mach_msg_option_t`: the options word of `mach_msg`.
pub type MachMsgOption = u32;
/// No send, no receive.
pub const MACH_MSG_OPTION_NONE: MachMsgOption = 0;
/// Send the message in the buffer.
pub const MACH_SEND_MSG: MachMsgOption = 0x0000_0001;
/// Receive a message into the buffer.
pub const MACH_RCV_MSG: MachMsgOption = 0x0000_0002;
/// A message too large for the buffer stays queued; its size is reported.
pub const MACH_RCV_LARGE: MachMsgOption = 0x0000_0004;
/// The send gives up after `timeout` ms if the queue stays full.
pub const MACH_SEND_TIMEOUT: MachMsgOption = 0x0000_0010;
/// Return `MACH_SEND_INTERRUPTED` instead of restarting after an interruption.
pub const MACH_SEND_INTERRUPT: MachMsgOption = 0x0000_0040;
/// The receive gives up after `timeout` ms.
pub const MACH_RCV_TIMEOUT: MachMsgOption = 0x0000_0100;
/// Return `MACH_RCV_INTERRUPTED` instead of restarting after an interruption.
pub const MACH_RCV_INTERRUPT: MachMsgOption = 0x0000_0400;
/// Ask for the sender's credential: the received message ends with a
/// [`MachMsgAuditTrailer`] instead of a [`MachMsgTrailer`] (xnu's
/// `MACH_RCV_TRAILER_ELEMENTS(MACH_RCV_TRAILER_AUDIT)`). The receive buffer
/// must then have room for the larger trailer.
pub const MACH_RCV_TRAILER_AUDIT: MachMsgOption = 3 << 24;
/// Every option bit Mach_R understands; a call with any other bit set fails
/// with `MACH_SEND_INVALID_HEADER` before doing anything.
pub const MACH_MSG_OPTION_USER: MachMsgOption = MACH_SEND_MSG
    | MACH_RCV_MSG
    | MACH_RCV_LARGE
    | MACH_SEND_TIMEOUT
    | MACH_SEND_INTERRUPT
    | MACH_RCV_TIMEOUT
    | MACH_RCV_INTERRUPT
    | MACH_RCV_TRAILER_AUDIT;

/// `mach_msg_timeout_t`: milliseconds.
pub type MachMsgTimeout = u32;
/// With `MACH_*_TIMEOUT`: do not wait at all (poll). Without the option the
/// timeout argument is ignored and the call waits as long as needed.
pub const MACH_MSG_TIMEOUT_NONE: MachMsgTimeout = 0;

/// `MACH_MSG_TRAILER_FORMAT_0`, the only trailer type.
pub const MACH_MSG_TRAILER_FORMAT_0: u32 = 0;

/// Largest message a sender may pass, header and inline data and descriptors
/// included (trailer excluded): 64 KiB.
///
/// Inline bytes are copied twice (into the kernel, out to the receiver) and a
/// queued message holds kernel heap, so the bound keeps one port's worst case
/// at `MACH_PORT_QLIMIT_MAX * 64 KiB` = 64 MiB and makes anything larger
/// travel as out-of-line memory, which costs no byte copies. 64 KiB still
/// holds any request of a POSIX server (a path, a 4 KiB page of read data).
pub const MACH_MSG_SIZE_MAX: usize = 64 * 1024;
/// Smallest message: a bare header.
pub const MACH_MSG_SIZE_MIN: usize = MACH_MSG_HEADER_SIZE;
/// Most descriptors in one message. Every descriptor may carry a right and
/// the kernel holds a reference for each while queued, so the count is bounded
/// well below what 64 KiB could hold.
pub const MACH_MSG_DESCRIPTORS_MAX: usize = 256;
/// Most names in one out-of-line ports array.
pub const MACH_MSG_OOL_PORTS_MAX: usize = 1024;
/// Largest out-of-line region in one descriptor (1 GiB).
pub const MACH_MSG_OOL_SIZE_MAX: u64 = 1 << 30;

/// Default queue limit of a new port (`MACH_PORT_QLIMIT_DEFAULT`, xnu's 5).
pub const MACH_PORT_QLIMIT_DEFAULT: u32 = 5;
/// Largest queue limit a task may set (`MACH_PORT_QLIMIT_MAX`, xnu's 1024).
pub const MACH_PORT_QLIMIT_MAX: u32 = 1024;
/// Smallest queue limit (`MACH_PORT_QLIMIT_ZERO`): every send must hand off
/// directly to a waiting receiver or wait.
pub const MACH_PORT_QLIMIT_ZERO: u32 = 0;

/// Receive-size rule: a receive into a buffer of `receive_size` bytes takes a
/// message of `message_size` bytes only if it and the trailer fit.
pub const fn receive_fits(message_size: usize, receive_size: usize) -> bool {
    receive_fits_with_trailer(message_size, receive_size, MACH_MSG_TRAILER_SIZE)
}

/// The receive-size rule for a receive that asked for a trailer of
/// `trailer_size` bytes ([`receive_trailer_size`]).
pub const fn receive_fits_with_trailer(message_size: usize, receive_size: usize, trailer_size: usize) -> bool {
    message_size + trailer_size <= receive_size
}

/// The trailer elements a receive with `option` asks for (xnu's
/// `MACH_RCV_TRAILER_ELEMENTS` field, bits 24..28).
pub const fn receive_trailer_elements(option: MachMsgOption) -> u32 {
    (option >> 24) & 0xf
}

/// Size of the trailer a receive with `option` gets: the
/// [`MachMsgAuditTrailer`] with [`MACH_RCV_TRAILER_AUDIT`], else the
/// [`MachMsgTrailer`] (which already holds the sequence number and sender
/// that smaller element requests ask for).
pub const fn receive_trailer_size(option: MachMsgOption) -> usize {
    if receive_trailer_elements(option) >= receive_trailer_elements(MACH_RCV_TRAILER_AUDIT) {
        MACH_MSG_AUDIT_TRAILER_SIZE
    } else {
        MACH_MSG_TRAILER_SIZE
    }
}

impl MachMsgHeader {
    /// The header from the first 24 bytes of `bytes`, if there are that many.
    pub fn read_from(bytes: &[u8]) -> Option<MachMsgHeader> {
        Some(MachMsgHeader {
            bits: read_u32(bytes, 0)?,
            size: read_u32(bytes, 4)?,
            remote_port: read_u32(bytes, 8)?,
            local_port: read_u32(bytes, 12)?,
            voucher_port: read_u32(bytes, 16)?,
            id: read_u32(bytes, 20)? as i32,
        })
    }

    /// Writes the header into the first 24 bytes of `bytes`.
    pub fn write_to(&self, bytes: &mut [u8]) -> Option<()> {
        write_u32(bytes, 0, self.bits)?;
        write_u32(bytes, 4, self.size)?;
        write_u32(bytes, 8, self.remote_port)?;
        write_u32(bytes, 12, self.local_port)?;
        write_u32(bytes, 16, self.voucher_port)?;
        write_u32(bytes, 20, self.id as u32)
    }
}

impl MachMsgTrailer {
    /// The trailer for a message with this sequence number and sender.
    pub const fn new(seqno: u32, sender: u32) -> MachMsgTrailer {
        MachMsgTrailer {
            trailer_type: MACH_MSG_TRAILER_FORMAT_0,
            trailer_size: MACH_MSG_TRAILER_SIZE as u32,
            seqno,
            sender,
        }
    }

    /// The trailer's 16 bytes, as appended after the message.
    pub fn to_bytes(&self) -> [u8; MACH_MSG_TRAILER_SIZE] {
        let mut bytes = [0u8; MACH_MSG_TRAILER_SIZE];
        let words = [self.trailer_type, self.trailer_size, self.seqno, self.sender];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    /// The trailer from 16 bytes.
    pub fn read_from(bytes: &[u8]) -> Option<MachMsgTrailer> {
        Some(MachMsgTrailer {
            trailer_type: read_u32(bytes, 0)?,
            trailer_size: read_u32(bytes, 4)?,
            seqno: read_u32(bytes, 8)?,
            sender: read_u32(bytes, 12)?,
        })
    }
}

impl TaskCredential {
    /// True if the credential is one a task may hold: at most
    /// [`CREDENTIAL_GROUPS_MAX`] supplementary groups.
    pub const fn is_valid(&self) -> bool {
        self.group_count as usize <= CREDENTIAL_GROUPS_MAX
    }

    /// The same credential with the group slots past `group_count` zeroed,
    /// so two equal credentials are equal byte for byte.
    pub fn canonical(mut self) -> TaskCredential {
        let count = (self.group_count as usize).min(CREDENTIAL_GROUPS_MAX);
        for group in &mut self.groups[count..] {
            *group = 0;
        }
        self
    }

    /// The credential's bytes, as a trailer and `task_set_credential` carry it
    /// (the C layout: eight words, then the groups).
    pub fn to_bytes(&self) -> [u8; TASK_CREDENTIAL_SIZE] {
        let mut bytes = [0u8; TASK_CREDENTIAL_SIZE];
        self.write_to(&mut bytes);
        bytes
    }

    /// Writes [`TaskCredential::to_bytes`] into `out`, which is
    /// [`TASK_CREDENTIAL_SIZE`] bytes long. Every RPC's audit trailer is
    /// written through this, so it is a flat word array stored in place
    /// (a chained, enumerated iterator cost about 400 instructions a
    /// message).
    pub fn write_to(&self, out: &mut [u8; TASK_CREDENTIAL_SIZE]) {
        let mut words = [0u32; TASK_CREDENTIAL_SIZE / 4];
        words[..8].copy_from_slice(&[
            self.pid,
            self.pgid,
            self.sid,
            self.ruid,
            self.euid,
            self.rgid,
            self.egid,
            self.group_count,
        ]);
        words[8..].copy_from_slice(&self.groups);
        for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
    }

    /// The credential from its bytes ([`TaskCredential::to_bytes`]'s
    /// layout), or `None` if there are too few.
    pub fn read_from(bytes: &[u8]) -> Option<TaskCredential> {
        if bytes.len() < TASK_CREDENTIAL_SIZE {
            return None;
        }
        let word = |index: usize| read_u32(bytes, index * 4).unwrap_or(0);
        let mut groups = [0u32; CREDENTIAL_GROUPS_MAX];
        for (index, group) in groups.iter_mut().enumerate() {
            *group = word(8 + index);
        }
        Some(TaskCredential {
            pid: word(0),
            pgid: word(1),
            sid: word(2),
            ruid: word(3),
            euid: word(4),
            rgid: word(5),
            egid: word(6),
            group_count: word(7),
            groups,
        })
    }
}

impl MachMsgAuditTrailer {
    /// The audit trailer for a message with this sequence number, sender and
    /// the sender's credential at send time.
    pub const fn new(seqno: u32, sender: u32, credential: TaskCredential) -> MachMsgAuditTrailer {
        MachMsgAuditTrailer {
            trailer_type: MACH_MSG_TRAILER_FORMAT_0,
            trailer_size: MACH_MSG_AUDIT_TRAILER_SIZE as u32,
            seqno,
            sender,
            credential,
        }
    }

    /// The trailer's bytes, as appended after the message.
    pub fn to_bytes(&self) -> [u8; MACH_MSG_AUDIT_TRAILER_SIZE] {
        let mut bytes = [0u8; MACH_MSG_AUDIT_TRAILER_SIZE];
        self.write_to(&mut bytes);
        bytes
    }

    /// Writes [`MachMsgAuditTrailer::to_bytes`] into `out` in place (the
    /// IPC fast path writes it straight after the received message).
    pub fn write_to(&self, out: &mut [u8; MACH_MSG_AUDIT_TRAILER_SIZE]) {
        let (head, credential) = out.split_at_mut(MACH_MSG_TRAILER_SIZE);
        for (chunk, word) in
            head.chunks_exact_mut(4).zip([self.trailer_type, self.trailer_size, self.seqno, self.sender])
        {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        if let Ok(credential_bytes) = <&mut [u8; TASK_CREDENTIAL_SIZE]>::try_from(credential) {
            self.credential.write_to(credential_bytes);
        }
    }

    /// The audit trailer from its bytes, or `None` if there are too few or
    /// the trailer is not an audit trailer (its size says so).
    pub fn read_from(bytes: &[u8]) -> Option<MachMsgAuditTrailer> {
        let head = MachMsgTrailer::read_from(bytes)?;
        if head.trailer_size as usize != MACH_MSG_AUDIT_TRAILER_SIZE {
            return None;
        }
        let credential = TaskCredential::read_from(bytes.get(MACH_MSG_TRAILER_SIZE..)?)?;
        Some(MachMsgAuditTrailer {
            trailer_type: head.trailer_type,
            trailer_size: head.trailer_size,
            seqno: head.seqno,
            sender: head.sender,
            credential,
        })
    }
}

/// Little-endian `u32` at `offset`, or `None` past the end.
pub fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let slice = bytes.get(offset..end)?;
    Some(u32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

/// Little-endian `u64` at `offset`, or `None` past the end.
pub fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    let low = read_u32(bytes, offset)? as u64;
    let high = read_u32(bytes, offset.checked_add(4)?)? as u64;
    Some(low | (high << 32))
}

/// Writes a little-endian `u32` at `offset`; `None` past the end.
pub fn write_u32(bytes: &mut [u8], offset: usize, value: u32) -> Option<()> {
    let end = offset.checked_add(4)?;
    bytes.get_mut(offset..end)?.copy_from_slice(&value.to_le_bytes());
    Some(())
}

/// Writes a little-endian `u64` at `offset`; `None` past the end.
pub fn write_u64(bytes: &mut [u8], offset: usize, value: u64) -> Option<()> {
    let end = offset.checked_add(8)?;
    bytes.get_mut(offset..end)?.copy_from_slice(&value.to_le_bytes());
    Some(())
}
