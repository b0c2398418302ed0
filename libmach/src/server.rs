//! The server side: replies, error replies and the receive loop.
//!
//! A handler (generated `*_dispatch` functions, or closures combining
//! several with [`Dispatch::or_else`], notifications included through
//! [`crate::notify::dispatch`]) takes a received request (message and
//! trailer) and writes its reply into a second buffer, returning a
//! [`Dispatch`]. [`handle_one`] receives one request on a port or port set,
//! runs the handler and sends the reply; [`run`] repeats it forever, and
//! [`run_with`] does so with [`ServeOptions`] (the audit trailer that
//! carries each sender's credential). One thread runs the loop today;
//! several threads can each run [`run`] on the same port set with their own
//! buffers (the kernel gives each message to one waiting thread), provided
//! the handler's state is shared safely between them.

use mach_abi::{
    msgh_bits, msgh_bits_remote, parse_received, MachMsgHeader, MachMsgOption, MachMsgReturn, MessageView, PortName,
    MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_RCV_TRAILER_AUDIT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};

use crate::kernel::PortKernel;
use crate::message::{release_received, release_unsent, MessageWriter};
use crate::mig::{MIG_BAD_ARGUMENTS, MIG_BAD_ID, REPLY_ID_OFFSET};

/// What a handler did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// A reply of this many bytes is in the reply buffer; send it.
    Reply(usize),
    /// Nothing to send (a one-way message, or no reply port to answer on).
    NoReply,
    /// The message id is not this handler's: the request is untouched, so
    /// another handler may take it.
    UnknownId,
}

impl Dispatch {
    /// This result, or if the id was not this handler's, `next`'s: chains
    /// the dispatch functions of the interfaces (and notifications) one
    /// port set serves.
    pub fn or_else(self, next: impl FnOnce() -> Dispatch) -> Dispatch {
        match self {
            Dispatch::UnknownId => next(),
            handled => handled,
        }
    }
}

/// How a server loop receives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// Ask for the audit trailer (`MACH_RCV_TRAILER_AUDIT`): each request
    /// then carries its sender's credential
    /// ([`crate::request::Context::credential`]). The buffers must have room
    /// for the larger trailer (generated `BUFFER_SIZE`s do). A kernel that
    /// does not implement it refuses the receive, and the loop stops with
    /// that error rather than serve without credentials.
    pub audit: bool,
}

impl ServeOptions {
    /// The `mach_msg` receive options these ask for.
    pub const fn receive_options(self) -> MachMsgOption {
        if self.audit {
            MACH_RCV_MSG | MACH_RCV_TRAILER_AUDIT
        } else {
            MACH_RCV_MSG
        }
    }
}

/// True when the request carries a reply right to answer through.
pub fn has_reply_port(header: &MachMsgHeader) -> bool {
    msgh_bits_remote(header.bits) != 0 && mach_abi::port_name_is_valid(header.remote_port)
}

/// The header of the reply to `request`: through its reply right (moved:
/// the received type of a right equals the disposition that moves it),
/// with the request's id + 100.
pub fn reply_header(request: &MachMsgHeader) -> MachMsgHeader {
    MachMsgHeader {
        bits: msgh_bits(msgh_bits_remote(request.bits), 0),
        size: 0,
        remote_port: request.remote_port,
        local_port: 0,
        voucher_port: 0,
        id: request.id.wrapping_add(REPLY_ID_OFFSET),
    }
}

/// Refuses a request: releases every right and region it carried and, if
/// it has a reply port, writes a reply carrying only `code`.
pub fn error_reply<K: PortKernel>(kernel: &K, view: &MessageView<'_>, code: i32, reply: &mut [u8]) -> Dispatch {
    release_received(kernel, view);
    reply_with_code(kernel, &view.header, code, reply)
}

/// Writes a reply carrying only `code` to the request with `header`,
/// without releasing anything the request carried (the handler owns it
/// by now). No reply port: nothing is written.
pub fn reply_with_code<K: PortKernel>(kernel: &K, header: &MachMsgHeader, code: i32, reply: &mut [u8]) -> Dispatch {
    if !has_reply_port(header) {
        return Dispatch::NoReply;
    }
    let mut writer = MessageWriter::new(reply, reply_header(header));
    let written = writer.i32(code).and_then(|()| writer.finish());
    match written {
        Ok(length) => Dispatch::Reply(length),
        Err(_) => {
            // A reply buffer too small even for a code: give the reply
            // right back so the client's receive ends (send-once notice).
            let _ = kernel.port_deallocate(header.remote_port);
            Dispatch::NoReply
        }
    }
}

/// Refuses bytes that are not a valid received message at all (they cannot
/// come from the kernel; tests and fuzzers feed them): answers
/// `MIG_BAD_ARGUMENTS` if a reply port can be read from the header. The
/// descriptors cannot be trusted, so no right is released.
pub fn reject_unparsable<K: PortKernel>(kernel: &K, request: &[u8], reply: &mut [u8]) -> Dispatch {
    match MachMsgHeader::read_from(request) {
        Some(header) => reply_with_code(kernel, &header, MIG_BAD_ARGUMENTS, reply),
        None => Dispatch::NoReply,
    }
}

/// Gives back a reply right nobody will answer through (a one-way
/// message that came with one): the client's receive sees a send-once
/// notification instead of waiting.
pub fn discard_reply_port<K: PortKernel>(kernel: &K, header: &MachMsgHeader) {
    if has_reply_port(header) {
        let _ = kernel.port_deallocate(header.remote_port);
    }
}

/// What [`handle_one`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The request was answered.
    Replied,
    /// The request needed no reply (or could not get one).
    NoReply,
    /// No handler knew the id: `MIG_BAD_ID` was answered.
    UnknownId,
    /// The reply could not be sent (the client's reply port is gone); its
    /// rights were released.
    ReplyFailed(MachMsgReturn),
    /// A request larger than the buffer arrived and was destroyed by the
    /// kernel (Mach's rule without `MACH_RCV_LARGE`).
    RequestTooLarge,
}

/// Receives one request on `receive_name` (a receive right or port set)
/// into `request`, lets `handler` answer into `reply`, and sends the reply.
/// `timeout` (ms) bounds the wait; `None` waits for ever. Errors are the
/// receive's (`MACH_RCV_TIMED_OUT`, `MACH_RCV_INVALID_NAME`...).
pub fn handle_one<K, H>(
    kernel: &K,
    receive_name: PortName,
    request: &mut [u8],
    reply: &mut [u8],
    timeout: Option<u32>,
    handler: &mut H,
) -> Result<Handled, MachMsgReturn>
where
    K: PortKernel,
    H: FnMut(&[u8], &mut [u8]) -> Dispatch,
{
    handle_one_with(kernel, receive_name, ServeOptions::default(), request, reply, timeout, handler)
}

/// [`handle_one`] receiving with `options`.
pub fn handle_one_with<K, H>(
    kernel: &K,
    receive_name: PortName,
    options: ServeOptions,
    request: &mut [u8],
    reply: &mut [u8],
    timeout: Option<u32>,
    handler: &mut H,
) -> Result<Handled, MachMsgReturn>
where
    K: PortKernel,
    H: FnMut(&[u8], &mut [u8]) -> Dispatch,
{
    let (options, milliseconds) = match timeout {
        Some(milliseconds) => (options.receive_options() | MACH_RCV_TIMEOUT, milliseconds),
        None => (options.receive_options(), 0),
    };
    match kernel.mach_msg(request, options, 0, receive_name, milliseconds) {
        Ok(()) | Err(MachMsgReturn::ReceiveBodyError) => {}
        Err(MachMsgReturn::ReceiveTooLarge) => return Ok(Handled::RequestTooLarge),
        Err(code) => return Err(code),
    }
    let (dispatch, handled) = answer(kernel, request, reply, handler);
    let Dispatch::Reply(length) = dispatch else {
        return Ok(if handled == Handled::UnknownId { handled } else { Handled::NoReply });
    };
    match send_reply(kernel, reply, length) {
        Ok(()) => Ok(handled),
        Err(code) => Ok(Handled::ReplyFailed(code)),
    }
}

/// A server loop that does other work between requests (timers, queued
/// signals: the process server) yet sends each reply and receives the next
/// request in one `mach_msg`, as [`run`] does: [`ServerLoop::handle_one`]
/// is [`handle_one_with`] whose reply stays pending until the next call
/// sends it with that call's receive (one trap where `handle_one_with`
/// takes two, and the client's reply lands straight in its buffer while
/// the server goes on to wait). The two buffers swap roles as in [`run`],
/// so both must be large enough for any request. Before the server stops
/// or blocks on anything but its port, [`ServerLoop::flush`] sends a reply
/// still pending.
pub struct ServerLoop<'a> {
    incoming: &'a mut [u8],
    outgoing: &'a mut [u8],
    /// The length of the reply in `outgoing` not sent yet.
    pending_reply: Option<usize>,
    /// Why the last pending reply could not be sent (its rights were
    /// released), until [`ServerLoop::take_reply_failure`].
    reply_failure: Option<MachMsgReturn>,
}

impl<'a> ServerLoop<'a> {
    pub fn new(request: &'a mut [u8], reply: &'a mut [u8]) -> ServerLoop<'a> {
        ServerLoop { incoming: request, outgoing: reply, pending_reply: None, reply_failure: None }
    }

    /// Sends the previous request's reply (if any) and receives the next
    /// request on `receive_name` in one `mach_msg`, runs `handler` on it
    /// and keeps its reply for the next call. `timeout` (ms) bounds the
    /// wait for the request; `None` waits for ever. Errors are the
    /// receive's; a reply that could not be sent is released (the request
    /// is then received on its own) and reported by
    /// [`ServerLoop::take_reply_failure`].
    pub fn handle_one<K, H>(
        &mut self,
        kernel: &K,
        receive_name: PortName,
        options: ServeOptions,
        timeout: Option<u32>,
        handler: &mut H,
    ) -> Result<Handled, MachMsgReturn>
    where
        K: PortKernel,
        H: FnMut(&[u8], &mut [u8]) -> Dispatch,
    {
        let (receive, milliseconds) = match timeout {
            Some(milliseconds) => (options.receive_options() | MACH_RCV_TIMEOUT, milliseconds),
            None => (options.receive_options(), 0),
        };
        let received = match self.pending_reply.take() {
            Some(length) => {
                let combined = MACH_SEND_MSG | MACH_SEND_TIMEOUT | receive;
                match kernel.mach_msg(self.outgoing, combined, length, receive_name, milliseconds) {
                    Err(code) if code.is_send_error() => {
                        release_reply(kernel, &self.outgoing[..length]);
                        self.reply_failure = Some(code);
                        kernel.mach_msg(self.incoming, receive, 0, receive_name, milliseconds)
                    }
                    result => {
                        // The next request is in `outgoing`: swap roles.
                        core::mem::swap(&mut self.incoming, &mut self.outgoing);
                        result
                    }
                }
            }
            None => kernel.mach_msg(self.incoming, receive, 0, receive_name, milliseconds),
        };
        match received {
            Ok(()) | Err(MachMsgReturn::ReceiveBodyError) => {}
            Err(MachMsgReturn::ReceiveTooLarge) => return Ok(Handled::RequestTooLarge),
            Err(code) => return Err(code),
        }
        let (dispatch, handled) = answer(kernel, self.incoming, self.outgoing, handler);
        match dispatch {
            // As `send_reply` refuses it in `handle_one_with`.
            Dispatch::Reply(length) if length > self.outgoing.len() => {
                Ok(Handled::ReplyFailed(MachMsgReturn::SendTooLarge))
            }
            Dispatch::Reply(length) => {
                self.pending_reply = Some(length);
                Ok(handled)
            }
            _ if handled == Handled::UnknownId => Ok(handled),
            _ => Ok(Handled::NoReply),
        }
    }

    /// Sends the reply still pending, alone (the server is about to stop,
    /// or to wait on something other than its port).
    pub fn flush<K: PortKernel>(&mut self, kernel: &K) -> Result<(), MachMsgReturn> {
        match self.pending_reply.take() {
            Some(length) => send_reply(kernel, self.outgoing, length),
            None => Ok(()),
        }
    }

    /// Why the last pending reply could not be sent, once.
    pub fn take_reply_failure(&mut self) -> Option<MachMsgReturn> {
        self.reply_failure.take()
    }
}

/// Runs the handler on a received request; answers `MIG_BAD_ID` (releasing
/// what the request carried) when no handler knew its id.
fn answer<K, H>(kernel: &K, request: &[u8], reply: &mut [u8], handler: &mut H) -> (Dispatch, Handled)
where
    K: PortKernel,
    H: FnMut(&[u8], &mut [u8]) -> Dispatch,
{
    match handler(request, reply) {
        Dispatch::UnknownId => match parse_received(request) {
            Ok((view, _)) => (error_reply(kernel, &view, MIG_BAD_ID, reply), Handled::UnknownId),
            Err(_) => (reject_unparsable(kernel, request, reply), Handled::UnknownId),
        },
        other => (other, Handled::Replied),
    }
}

/// Releases what an unsent reply carried: the rights it was moving and the
/// reply right it was going through.
fn release_reply<K: PortKernel>(kernel: &K, reply: &[u8]) {
    if let Ok(view) = mach_abi::parse(reply) {
        release_unsent(kernel, &view);
    }
    if let Some(header) = MachMsgHeader::read_from(reply) {
        let _ = kernel.port_deallocate(header.remote_port);
    }
}

/// Sends a reply without waiting (a reply goes through a send-once right,
/// which never waits for queue room). If the send fails, the rights the
/// reply was moving and the reply right itself are released.
pub fn send_reply<K: PortKernel>(kernel: &K, reply: &mut [u8], length: usize) -> Result<(), MachMsgReturn> {
    if length > reply.len() {
        return Err(MachMsgReturn::SendTooLarge);
    }
    let result = kernel.mach_msg(reply, MACH_SEND_MSG | MACH_SEND_TIMEOUT, length, 0, 0);
    if let Err(code) = result {
        release_reply(kernel, &reply[..length]);
        return Err(code);
    }
    Ok(())
}

/// Serves `receive_name` for ever; returns only when receiving fails for
/// good (the port or set was destroyed: `MACH_RCV_INVALID_NAME`,
/// `MACH_RCV_PORT_DIED`). Interrupted receives are retried. (The host's
/// fake kernel cannot block: it answers a receive that would wait with
/// `MACH_RCV_TIMED_OUT`, which ends the loop there.)
///
/// Each reply and the next receive are one `mach_msg` (MIG's
/// `mach_msg_server` shape): the reply is sent from one buffer, the next
/// request received into the same buffer, and the two buffers then swap
/// roles, so both must be large enough for any request.
pub fn run<K, H>(
    kernel: &K,
    receive_name: PortName,
    request: &mut [u8],
    reply: &mut [u8],
    handler: &mut H,
) -> MachMsgReturn
where
    K: PortKernel,
    H: FnMut(&[u8], &mut [u8]) -> Dispatch,
{
    run_with(kernel, receive_name, ServeOptions::default(), request, reply, handler)
}

/// [`run`] receiving with `options` (the audit trailer: see
/// [`ServeOptions::audit`]; a kernel that refuses it ends the loop at once
/// with its error).
pub fn run_with<K, H>(
    kernel: &K,
    receive_name: PortName,
    options: ServeOptions,
    request: &mut [u8],
    reply: &mut [u8],
    handler: &mut H,
) -> MachMsgReturn
where
    K: PortKernel,
    H: FnMut(&[u8], &mut [u8]) -> Dispatch,
{
    let receive = options.receive_options();
    let (mut incoming, mut outgoing) = (request, reply);
    let mut pending_reply: Option<usize> = None;
    loop {
        let received = match pending_reply.take() {
            Some(length) => {
                let options = MACH_SEND_MSG | MACH_SEND_TIMEOUT | receive;
                match kernel.mach_msg(outgoing, options, length, receive_name, 0) {
                    Err(code) if code.is_send_error() => {
                        // Nothing was sent and nothing received: give back
                        // what the reply held, then receive on its own.
                        release_reply(kernel, &outgoing[..length]);
                        kernel.mach_msg(incoming, receive, 0, receive_name, 0)
                    }
                    result => {
                        // The next request is in `outgoing`: swap roles.
                        core::mem::swap(&mut incoming, &mut outgoing);
                        result
                    }
                }
            }
            None => kernel.mach_msg(incoming, receive, 0, receive_name, 0),
        };
        match received {
            Ok(()) | Err(MachMsgReturn::ReceiveBodyError) => {}
            Err(MachMsgReturn::ReceiveTooLarge) | Err(MachMsgReturn::ReceiveInterrupted) => continue,
            Err(code) => return code,
        }
        if let (Dispatch::Reply(length), _) = answer(kernel, incoming, outgoing, handler) {
            pending_reply = Some(length);
        }
    }
}
