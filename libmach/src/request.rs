//! What a server method knows of the request it serves, and the reply right
//! it may keep to answer later.
//!
//! - [`Context`]: made by the generated dispatch for every request and
//!   passed to the server method: the port the request arrived on (a server
//!   with one port per object, such as an open file, finds the object by
//!   it), the sending task, and — when the server loop asked for the audit
//!   trailer ([`crate::server::ServeOptions::audit`]) — the sender's
//!   credential as the kernel stamped it. A credential written in a message
//!   body means nothing; only [`Context::credential`] is to be trusted.
//! - [`ReplyRight`], [`Answer`], [`ReplyFailed`]: deferred replies. The
//!   method of a routine declared `deferrable` returns
//!   `Result<Answer<T>, Error>`; to answer later it takes the request's
//!   reply right with the generated `Pending<Routine>::keep(context)`,
//!   stores it, returns `Ok(Answer::Later)`, and answers once through the
//!   stored value's typed `send`. The right is an owned value: sending
//!   consumes it, and dropping it unanswered destroys the right, which ends
//!   the client's call with a send-once notification
//!   (`RpcError::ServerDied`) instead of leaving it waiting.
//!
//! Invariants: a context never hands the reply right out twice, nor for a
//! routine other than the request's; the trailer is read only within the
//! bytes the kernel said it wrote (`trailer_size`), so stale buffer bytes
//! never pass for a credential.

use core::cell::Cell;
use core::mem::offset_of;

use mach_abi::{
    MachMsgHeader, MachMsgReturn, PortName, TaskCredential, CREDENTIAL_GROUPS_MAX, MACH_MSG_AUDIT_TRAILER_SIZE,
    MACH_MSG_TRAILER_FORMAT_0, MACH_MSG_TRAILER_SIZE, MACH_PORT_TYPE_DEAD_NAME, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};

use crate::kernel::{PortKernel, SystemKernel};
use crate::rights::ReceiveRight;
use crate::server::{has_reply_port, reply_header};

/// What a server method knows of its request besides the arguments.
pub struct Context<'a, K: PortKernel = SystemKernel> {
    kernel: &'a K,
    header: MachMsgHeader,
    /// The trailer as the kernel wrote it (`trailer_size` bytes), or empty.
    trailer: &'a [u8],
    /// Set once a deferred reply took the reply right.
    reply_kept: Cell<bool>,
}

impl<'a, K: PortKernel> Context<'a, K> {
    /// The context of the received request `request` (message and
    /// trailer, as in the receive buffer) whose header is `header`.
    pub fn new(kernel: &'a K, header: &MachMsgHeader, request: &'a [u8]) -> Self {
        Context { kernel, header: *header, trailer: trailer_of(header, request), reply_kept: Cell::new(false) }
    }

    /// The kernel handle of the serving task.
    pub fn kernel(&self) -> &'a K {
        self.kernel
    }

    /// The name of the receive right the request arrived on (a member of
    /// the port set the server receives from, not the set).
    pub fn port(&self) -> PortName {
        self.header.local_port
    }

    /// The request's message id.
    pub fn id(&self) -> i32 {
        self.header.id
    }

    /// The request's header as received.
    pub fn header(&self) -> &MachMsgHeader {
        &self.header
    }

    /// The sending task's kernel-assigned id (0: the kernel itself), or
    /// `None` if the request came without a trailer (only hand-made test
    /// buffers do).
    pub fn sender(&self) -> Option<u32> {
        mach_abi::read_u32(self.trailer, 12)
    }

    /// True when the kernel itself sent the message (a notification).
    pub fn is_from_kernel(&self) -> bool {
        self.sender() == Some(0)
    }

    /// The port's sequence number for this message.
    pub fn sequence_number(&self) -> Option<u32> {
        mach_abi::read_u32(self.trailer, 8)
    }

    /// The sender's credential as it was when the message was sent, from the
    /// audit trailer; `None` when the server loop did not ask for it (or the
    /// kernel did not give it). All zero when the kernel sent the message.
    pub fn credential(&self) -> Option<TaskCredential> {
        if self.trailer.len() != MACH_MSG_AUDIT_TRAILER_SIZE {
            return None;
        }
        let credential = &self.trailer[MACH_MSG_TRAILER_SIZE..];
        // Each field where mach-abi's layout puts it (a field added there
        // fails to compile here until it is read too).
        let field = |offset: usize| mach_abi::read_u32(credential, offset);
        let group_count = field(offset_of!(TaskCredential, group_count))?;
        if group_count as usize > CREDENTIAL_GROUPS_MAX {
            return None;
        }
        let mut groups = [0u32; CREDENTIAL_GROUPS_MAX];
        for (index, group) in groups.iter_mut().enumerate() {
            *group = field(offset_of!(TaskCredential, groups) + 4 * index)?;
        }
        Some(TaskCredential {
            pid: field(offset_of!(TaskCredential, pid))?,
            pgid: field(offset_of!(TaskCredential, pgid))?,
            sid: field(offset_of!(TaskCredential, sid))?,
            ruid: field(offset_of!(TaskCredential, ruid))?,
            euid: field(offset_of!(TaskCredential, euid))?,
            rgid: field(offset_of!(TaskCredential, rgid))?,
            egid: field(offset_of!(TaskCredential, egid))?,
            group_count,
            groups,
        })
    }

    /// Takes the request's reply right to answer later: what the generated
    /// `Pending<Routine>::keep` calls with its routine's id. `None` when the
    /// request is not of that routine, has no reply port, or the right was
    /// already taken.
    pub fn keep_reply(&self, routine_id: i32) -> Option<ReplyRight<K>> {
        if self.reply_kept.get() || self.header.id != routine_id || !has_reply_port(&self.header) {
            return None;
        }
        self.reply_kept.set(true);
        Some(ReplyRight {
            kernel: self.kernel.clone(),
            name: self.header.remote_port,
            header: reply_header(&self.header),
        })
    }

    /// True once [`Context::keep_reply`] handed the reply right out.
    pub fn reply_was_kept(&self) -> bool {
        self.reply_kept.get()
    }
}

impl<K: PortKernel> core::fmt::Debug for Context<'_, K> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Context")
            .field("port", &self.port())
            .field("id", &self.id())
            .field("sender", &self.sender())
            .field("audited", &(self.trailer.len() == MACH_MSG_AUDIT_TRAILER_SIZE))
            .field("reply_kept", &self.reply_kept.get())
            .finish()
    }
}

/// The trailer after the message `header` describes, if `request` holds one
/// of a size the kernel writes (the plain or the audit trailer).
fn trailer_of<'a>(header: &MachMsgHeader, request: &'a [u8]) -> &'a [u8] {
    let start = header.size as usize;
    let Some(trailer) = request.get(start..) else {
        return &[];
    };
    let size = mach_abi::read_u32(trailer, 4).unwrap_or(0) as usize;
    let format = mach_abi::read_u32(trailer, 0);
    if format != Some(MACH_MSG_TRAILER_FORMAT_0)
        || (size != MACH_MSG_TRAILER_SIZE && size != MACH_MSG_AUDIT_TRAILER_SIZE)
    {
        return &[];
    }
    trailer.get(..size).unwrap_or(&[])
}

/// What the method of a `deferrable` routine returns when it succeeds.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    /// The results, answered now (sent by the server loop with its next
    /// receive, like any other reply).
    Now(T),
    /// The method kept the reply right (`Pending<Routine>::keep`) and will
    /// answer through it. Returned without keeping it, the dispatch
    /// destroys the right: the client's call ends with `ServerDied`.
    Later,
}

/// A deferred reply's answer could not be sent (nothing was): the client
/// is gone (`MACH_SEND_INVALID_DEST`: it destroyed its reply port, as an
/// interrupted call does) or the reply was refused. The results come back
/// untouched, so data taken for the answer can be put back.
#[derive(Debug)]
pub struct ReplyFailed<R> {
    /// Why the send failed.
    pub error: MachMsgReturn,
    /// What was to be sent: every right and region in it is still owned.
    pub result: R,
}

/// The reply right of a request kept to answer later. Generated
/// `Pending<Routine>` values wrap it and write the answer; this type only
/// owns the right: dropped unanswered, it destroys the right and the
/// client's call ends with `RpcError::ServerDied`.
#[derive(Debug)]
pub struct ReplyRight<K: PortKernel = SystemKernel> {
    kernel: K,
    name: PortName,
    header: MachMsgHeader,
}

impl<K: PortKernel> ReplyRight<K> {
    /// The right's name in this task (a send-once right, or a dead name
    /// once the client destroyed its reply port).
    pub fn name(&self) -> PortName {
        self.name
    }

    /// The id of the request this right answers.
    pub fn request_id(&self) -> i32 {
        self.header.id.wrapping_sub(crate::mig::REPLY_ID_OFFSET)
    }

    /// True when nobody waits for the answer any more: the client destroyed
    /// its reply port (an interrupted call does), so the right is a dead
    /// name. Check before taking data for the answer; the send also tells
    /// ([`ReplyFailed`]), giving the data back.
    pub fn is_abandoned(&self) -> bool {
        match self.kernel.port_type(self.name) {
            Ok(kind) => kind & MACH_PORT_TYPE_DEAD_NAME != 0,
            Err(_) => true,
        }
    }

    /// Asks for a dead-name notification when the client gives up waiting:
    /// `MACH_NOTIFY_DEAD_NAME` with this right's [`ReplyRight::name`],
    /// sent to `notify` (see [`crate::notify`]). A right already dead
    /// notifies at once.
    pub fn notify_when_abandoned(&self, notify: &ReceiveRight<K>) -> Result<(), mach_abi::KernReturn> {
        crate::notify::request(
            &self.kernel,
            self.name,
            mach_abi::NotifyId::DeadName,
            0,
            notify.name(),
            mach_abi::Disposition::MakeSendOnce,
        )
    }

    /// The header of the answer: through this right, the request's id + 100.
    pub fn reply_header(&self) -> MachMsgHeader {
        self.header
    }

    /// Sends the `length`-byte answer written in `buffer` (generated code
    /// writes it from the routine's results). Never waits: a send-once
    /// right needs no queue room. On failure nothing was sent and the right
    /// is released; the rights and regions the answer would have moved are
    /// still owned by the values they came from.
    pub fn send(self, buffer: &mut [u8], length: usize) -> Result<(), MachMsgReturn> {
        if length > buffer.len() {
            return Err(MachMsgReturn::SendTooLarge);
        }
        self.kernel.mach_msg(buffer, MACH_SEND_MSG | MACH_SEND_TIMEOUT, length, 0, 0)?;
        core::mem::forget(self);
        Ok(())
    }
}

impl<K: PortKernel> Drop for ReplyRight<K> {
    fn drop(&mut self) {
        // Unanswered (or the answer failed): destroying the send-once right
        // sends the client a send-once notification; a dead name just goes.
        let _ = self.kernel.port_deallocate(self.name);
    }
}
