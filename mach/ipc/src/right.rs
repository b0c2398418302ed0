//! Rights: the kinds, a right carried outside any space, and the transitions
//! a disposition makes on a space entry.
//!
//! [`take_right`] is the one definition of "what copying in a right with
//! this disposition does to the entry that names it". Message copyin runs it
//! twice: first on copies of the entries to validate the whole message, then
//! on the real entries; since the function is pure, the second pass cannot
//! fail where the first succeeded, and a failed send changes nothing.

use mach_abi::Disposition;

use crate::{PortId, PortSetId};

/// Largest user-reference count of a send right or dead name
/// (xnu's `MACH_PORT_UREFS_MAX`).
pub const USER_REFERENCES_MAX: u32 = 0xffff;

/// The kind of a right to a port (port sets and dead names are not rights to
/// a port and never travel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RightKind {
    Receive,
    Send,
    SendOnce,
}

impl RightKind {
    /// The received type value written in a delivered message.
    pub const fn received_type(self) -> u32 {
        match self {
            RightKind::Receive => mach_abi::MACH_MSG_TYPE_PORT_RECEIVE,
            RightKind::Send => mach_abi::MACH_MSG_TYPE_PORT_SEND,
            RightKind::SendOnce => mach_abi::MACH_MSG_TYPE_PORT_SEND_ONCE,
        }
    }
}

/// A right held outside every space: in a queued message, in a notification
/// request, or by the kernel between two calls.
///
/// Deliberately neither `Clone` nor `Copy`: a right exists once. The kernel
/// gives every one it holds back to [`crate::Ipc`] (insert, send, release);
/// [`crate::Ipc::check_invariants`] counts those it holds.
#[derive(Debug, PartialEq, Eq)]
pub enum CarriedRight {
    /// A right to a port.
    Port { port: PortId, kind: RightKind },
    /// A send or send-once right whose port was already dead when copied in:
    /// delivered as `MACH_PORT_DEAD`.
    Dead,
}

impl CarriedRight {
    /// The port and kind, for a right to a port.
    pub fn port(&self) -> Option<(PortId, RightKind)> {
        match self {
            CarriedRight::Port { port, kind } => Some((*port, *kind)),
            CarriedRight::Dead => None,
        }
    }
}

/// What a space entry holds, as far as right transitions are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryRights {
    /// The receive right and/or send user references under one name
    /// (at least one of them).
    Port { port: PortId, receive: bool, send_references: u32 },
    /// One send-once right (each has its own name).
    SendOnce { port: PortId },
    /// A dead name with user references.
    DeadName { references: u32 },
    /// A port set.
    PortSet { set: PortSetId },
}

impl EntryRights {
    /// True when nothing is left under the name.
    pub fn is_empty(&self) -> bool {
        matches!(
            self,
            EntryRights::Port { receive: false, send_references: 0, .. } | EntryRights::DeadName { references: 0 }
        )
    }
}

/// What [`take_right`] took from an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// A right to this port; `created` when it was made (MAKE_*) or copied
    /// (COPY_SEND) rather than moved out of the entry.
    Port { port: PortId, kind: RightKind, created: bool },
    /// A dead name used with a send disposition: the right travels as dead.
    Dead,
}

/// Why a right could not be taken (mapped to `KERN_*` or `MACH_SEND_*`
/// by the caller, depending on the operation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TakeError {
    /// The entry does not hold the right the disposition needs.
    InvalidRight,
}

/// Applies `disposition` to `entry`: the right is taken out (moves), or made
/// or copied (the entry is unchanged except for the make-send bookkeeping
/// the caller does on the port).
///
/// Mach's rules: MOVE_RECEIVE needs the receive right; MOVE_SEND one send
/// user reference; COPY_SEND a send right; MAKE_SEND and MAKE_SEND_ONCE the
/// receive right; MOVE_SEND_ONCE a send-once right. MOVE_SEND, COPY_SEND and
/// MOVE_SEND_ONCE on a dead name yield a dead right (and MOVE_* consume one
/// dead-name reference).
pub fn take_right(entry: &mut EntryRights, disposition: Disposition) -> Result<Taken, TakeError> {
    use Disposition::*;
    let moved = |port, kind| Taken::Port { port, kind, created: false };
    let made = |port, kind| Taken::Port { port, kind, created: true };
    let (next, taken) = match (*entry, disposition) {
        (EntryRights::Port { port, receive: true, send_references }, MoveReceive) => {
            (EntryRights::Port { port, receive: false, send_references }, moved(port, RightKind::Receive))
        }
        (EntryRights::Port { port, receive, send_references }, MoveSend) if send_references > 0 => {
            (EntryRights::Port { port, receive, send_references: send_references - 1 }, moved(port, RightKind::Send))
        }
        (current @ EntryRights::Port { port, send_references, .. }, CopySend) if send_references > 0 => {
            (current, made(port, RightKind::Send))
        }
        (current @ EntryRights::Port { port, receive: true, .. }, MakeSend) => (current, made(port, RightKind::Send)),
        (current @ EntryRights::Port { port, receive: true, .. }, MakeSendOnce) => {
            (current, made(port, RightKind::SendOnce))
        }
        // An emptied send-once entry becomes an empty port entry, which
        // `is_empty` reports so the caller frees the name.
        (EntryRights::SendOnce { port }, MoveSendOnce) => {
            (EntryRights::Port { port, receive: false, send_references: 0 }, moved(port, RightKind::SendOnce))
        }
        (EntryRights::DeadName { references }, MoveSend | MoveSendOnce) if references > 0 => {
            (EntryRights::DeadName { references: references - 1 }, Taken::Dead)
        }
        (current @ EntryRights::DeadName { references }, CopySend) if references > 0 => (current, Taken::Dead),
        _ => return Err(TakeError::InvalidRight),
    };
    *entry = next;
    Ok(taken)
}

/// True when a dead name's or send right's references may grow by `delta`.
pub fn references_fit(current: u32, delta: u32) -> bool {
    current.checked_add(delta).is_some_and(|total| total <= USER_REFERENCES_MAX)
}
