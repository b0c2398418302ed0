//! Port names, right kinds, port types, dispositions and port attributes.

use crate::code_enum::code_enum;

/// `mach_port_name_t`: a task-local name for a right.
///
/// A name packs an index into the task's IPC space (upper 24 bits) and a
/// generation (lower 8 bits), as xnu's `MACH_PORT_MAKE` does, so a stale name
/// reused after deallocation is detected (`KERN_INVALID_NAME`) until the
/// generation wraps around after 256 reuses of the same slot.
pub type PortName = u32;

/// `MACH_PORT_NULL`: no right.
pub const MACH_PORT_NULL: PortName = 0;
/// `MACH_PORT_DEAD`: a right whose port died while in transit.
pub const MACH_PORT_DEAD: PortName = !0;
/// Largest index a name can carry; index 0 is never used so that no live name
/// equals `MACH_PORT_NULL`, and the all-ones index is excluded so that no live
/// name equals `MACH_PORT_DEAD`.
pub const MACH_PORT_INDEX_MAX: u32 = 0x00ff_fffe;
/// Number of generation values before a slot's names repeat.
pub const MACH_PORT_GENERATIONS: u32 = 256;

/// `MACH_PORT_INDEX(name)`.
pub const fn port_index(name: PortName) -> u32 {
    name >> 8
}

/// `MACH_PORT_GEN(name)`: the generation, here as the plain low 8 bits.
pub const fn port_generation(name: PortName) -> u32 {
    name & 0xff
}

/// `MACH_PORT_MAKE(index, generation)`.
pub const fn port_make(index: u32, generation: u32) -> PortName {
    (index << 8) | (generation & 0xff)
}

/// True for a name that can denote an entry (neither NULL nor DEAD).
pub const fn port_name_is_valid(name: PortName) -> bool {
    name != MACH_PORT_NULL && name != MACH_PORT_DEAD
}

code_enum! {
    /// `mach_port_right_t`: the kinds of right, as `mach_port_allocate` and
    /// `mach_port_mod_refs` take them.
    pub enum PortRight {
        Send = 0 => "MACH_PORT_RIGHT_SEND",
        Receive = 1 => "MACH_PORT_RIGHT_RECEIVE",
        SendOnce = 2 => "MACH_PORT_RIGHT_SEND_ONCE",
        PortSet = 3 => "MACH_PORT_RIGHT_PORT_SET",
        DeadName = 4 => "MACH_PORT_RIGHT_DEAD_NAME",
    }
}

/// Number of right kinds (`MACH_PORT_RIGHT_NUMBER`).
pub const MACH_PORT_RIGHT_NUMBER: u32 = 5;

/// `mach_port_type_t`: a bit set of the rights a name denotes.
pub type PortType = u32;

/// `MACH_PORT_TYPE(right)`.
pub const fn port_type_of(right: PortRight) -> PortType {
    1 << (right as u32 + 16)
}

/// No rights.
pub const MACH_PORT_TYPE_NONE: PortType = 0;
/// A send right (`MACH_PORT_TYPE_SEND`).
pub const MACH_PORT_TYPE_SEND: PortType = port_type_of(PortRight::Send);
/// The receive right (`MACH_PORT_TYPE_RECEIVE`).
pub const MACH_PORT_TYPE_RECEIVE: PortType = port_type_of(PortRight::Receive);
/// A send-once right (`MACH_PORT_TYPE_SEND_ONCE`).
pub const MACH_PORT_TYPE_SEND_ONCE: PortType = port_type_of(PortRight::SendOnce);
/// A port set (`MACH_PORT_TYPE_PORT_SET`).
pub const MACH_PORT_TYPE_PORT_SET: PortType = port_type_of(PortRight::PortSet);
/// A dead name (`MACH_PORT_TYPE_DEAD_NAME`).
pub const MACH_PORT_TYPE_DEAD_NAME: PortType = port_type_of(PortRight::DeadName);
/// Receive and send rights under one name.
pub const MACH_PORT_TYPE_SEND_RECEIVE: PortType = MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE;
/// The name has a dead-name notification request registered.
pub const MACH_PORT_TYPE_DNREQUEST: PortType = 0x8000_0000;

code_enum! {
    /// `mach_msg_type_name_t`: what happens to a right carried in a message.
    ///
    /// The first six are the dispositions a sender writes; on receive the
    /// kernel rewrites them to the received types `PORT_RECEIVE`, `PORT_SEND`
    /// and `PORT_SEND_ONCE`, which share the values 16, 17 and 18.
    pub enum Disposition {
        /// Moves the receive right (the sender loses it).
        MoveReceive = 16 => "MACH_MSG_TYPE_MOVE_RECEIVE",
        /// Moves one user reference of a send right.
        MoveSend = 17 => "MACH_MSG_TYPE_MOVE_SEND",
        /// Moves a send-once right.
        MoveSendOnce = 18 => "MACH_MSG_TYPE_MOVE_SEND_ONCE",
        /// Copies a send right (the sender keeps its reference).
        CopySend = 19 => "MACH_MSG_TYPE_COPY_SEND",
        /// Makes a new send right from the receive right.
        MakeSend = 20 => "MACH_MSG_TYPE_MAKE_SEND",
        /// Makes a new send-once right from the receive right.
        MakeSendOnce = 21 => "MACH_MSG_TYPE_MAKE_SEND_ONCE",
    }
}

/// Received type: a receive right (`MACH_MSG_TYPE_PORT_RECEIVE`).
pub const MACH_MSG_TYPE_PORT_RECEIVE: u32 = 16;
/// Received type: a send right (`MACH_MSG_TYPE_PORT_SEND`).
pub const MACH_MSG_TYPE_PORT_SEND: u32 = 17;
/// Received type: a send-once right (`MACH_MSG_TYPE_PORT_SEND_ONCE`).
pub const MACH_MSG_TYPE_PORT_SEND_ONCE: u32 = 18;
/// Bare port name, no right (`MACH_MSG_TYPE_PORT_NAME`). Not accepted in
/// messages by Mach_R; listed so C code compiles and for `extract_right`.
pub const MACH_MSG_TYPE_PORT_NAME: u32 = 15;

impl Disposition {
    /// The right the receiver gets for a right sent with this disposition.
    pub const fn received_right(self) -> PortRight {
        match self {
            Disposition::MoveReceive => PortRight::Receive,
            Disposition::MoveSend | Disposition::CopySend | Disposition::MakeSend => PortRight::Send,
            Disposition::MoveSendOnce | Disposition::MakeSendOnce => PortRight::SendOnce,
        }
    }

    /// The received type value (`MACH_MSG_TYPE_PORT_*`) for this disposition.
    pub const fn received_type(self) -> u32 {
        match self.received_right() {
            PortRight::Receive => MACH_MSG_TYPE_PORT_RECEIVE,
            PortRight::SendOnce => MACH_MSG_TYPE_PORT_SEND_ONCE,
            _ => MACH_MSG_TYPE_PORT_SEND,
        }
    }

    /// True when the disposition yields a send or send-once right, the only
    /// kinds a message destination or reply port may carry.
    pub const fn is_send_kind(self) -> bool {
        !matches!(self, Disposition::MoveReceive)
    }
}

code_enum! {
    /// `mach_port_flavor_t`: flavors of `port_get_attributes` /
    /// `port_set_attributes`.
    pub enum PortFlavor {
        /// [`PortLimits`]: the queue limit (get and set).
        LimitsInfo = 1 => "MACH_PORT_LIMITS_INFO",
        /// [`PortStatus`]: the receive right's status (get only).
        ReceiveStatus = 2 => "MACH_PORT_RECEIVE_STATUS",
        /// One `u32`: how many dead-name requests the port holds (get only).
        DnrequestsSize = 3 => "MACH_PORT_DNREQUESTS_SIZE",
    }
}

/// `mach_port_limits_t`, flavor `MACH_PORT_LIMITS_INFO`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortLimits {
    /// Queue limit: messages the port queues before senders see it full.
    pub queue_limit: u32,
}

/// `mach_port_status_t`, flavor `MACH_PORT_RECEIVE_STATUS`. Field order and
/// meaning as xnu's `mps_*` fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStatus {
    /// Name of the port set containing the port in the receiver's space, or 0.
    pub port_set: PortName,
    /// Sequence number the next dequeued message will get.
    pub seqno: u32,
    /// Make-send count.
    pub make_send_count: u32,
    /// Queue limit.
    pub queue_limit: u32,
    /// Messages currently queued.
    pub message_count: u32,
    /// Send-once rights in existence.
    pub send_once_rights: u32,
    /// 1 if send rights exist (`mps_srights`).
    pub send_rights: u32,
    /// 1 if a port-destroyed request is registered.
    pub port_destroyed_request: u32,
    /// 1 if a no-senders request is registered.
    pub no_senders_request: u32,
    /// Flags; none are defined by Mach_R yet, always 0.
    pub flags: u32,
}

/// `MACH_PORT_LIMITS_INFO_COUNT`, in `u32` units.
pub const PORT_LIMITS_INFO_COUNT: u32 = (core::mem::size_of::<PortLimits>() / 4) as u32;
/// `MACH_PORT_RECEIVE_STATUS_COUNT`, in `u32` units.
pub const PORT_RECEIVE_STATUS_COUNT: u32 = (core::mem::size_of::<PortStatus>() / 4) as u32;

const _: () = assert!(core::mem::size_of::<PortLimits>() == 4);
const _: () = assert!(core::mem::size_of::<PortStatus>() == 40);

impl PortStatus {
    /// The structure as the `u32` words the trap copies out.
    pub const fn to_words(&self) -> [u32; 10] {
        [
            self.port_set,
            self.seqno,
            self.make_send_count,
            self.queue_limit,
            self.message_count,
            self.send_once_rights,
            self.send_rights,
            self.port_destroyed_request,
            self.no_senders_request,
            self.flags,
        ]
    }
}
