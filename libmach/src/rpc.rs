//! The client side of an RPC: one `mach_msg` that sends a request with a
//! `MAKE_SEND_ONCE` reply right and receives the reply on the reply port.

use mach_abi::{
    msgh_bits, parse_received, Disposition, MachMsgHeader, MachMsgReturn, MessageView, PortName, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};

use crate::kernel::PortKernel;
use crate::message::{release_received, DecodeError, InlineReader, WriteError};
use crate::mig::REPLY_ID_OFFSET;
use crate::rights::ReceiveRight;

/// Why an RPC failed below the interface's own errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcError {
    /// The request could not be written (an argument over its bound...).
    Write(WriteError),
    /// The send failed: nothing was sent and every right stayed with the
    /// caller (`MACH_SEND_INVALID_DEST` when the server is gone,
    /// `MACH_SEND_TIMED_OUT`...).
    Send(MachMsgReturn),
    /// The request was sent but no reply came (`MACH_RCV_TIMED_OUT`...).
    /// The reply port was replaced, so a late reply is never mistaken for
    /// the answer to a later call.
    Receive(MachMsgReturn),
    /// The reply does not have the shape the interface declares.
    Reply(DecodeError),
    /// The server refused the request with an RPC-layer code
    /// ([`crate::mig`]: `MIG_BAD_ID`, `MIG_BAD_ARGUMENTS`...).
    Server(i32),
    /// A return code that is neither 0, the interface's, nor MIG's.
    UnknownCode(i32),
    /// The server destroyed the reply right without answering (it dropped
    /// the request, or its task ended): the kernel's send-once
    /// notification arrived instead of a reply.
    ServerDied,
    /// No reply port could be allocated (when making a client).
    NoReplyPort(mach_abi::KernReturn),
}

/// What a generated client call returns on failure: an error the
/// interface declares, or an RPC failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The server answered with one of the interface's errors.
    Interface(E),
    /// The call did not complete.
    Rpc(RpcError),
}

impl<E> From<RpcError> for CallError<E> {
    fn from(error: RpcError) -> Self {
        CallError::Rpc(error)
    }
}

impl<E> From<WriteError> for CallError<E> {
    fn from(error: WriteError) -> Self {
        CallError::Rpc(RpcError::Write(error))
    }
}

impl From<WriteError> for RpcError {
    fn from(error: WriteError) -> Self {
        RpcError::Write(error)
    }
}

/// True when the request left the caller: the send phase succeeded, so the
/// rights the request moved now belong to the message.
pub fn request_was_sent(result: &Result<(), RpcError>) -> bool {
    !matches!(result, Err(RpcError::Send(_)) | Err(RpcError::Write(_)))
}

/// A request header: to `destination` (a send right the caller holds,
/// copied), with a send-once reply right made from `reply_port`.
pub fn request_header(destination: PortName, reply_port: PortName, id: i32) -> MachMsgHeader {
    MachMsgHeader {
        bits: msgh_bits(Disposition::CopySend as u32, Disposition::MakeSendOnce as u32),
        size: 0,
        remote_port: destination,
        local_port: reply_port,
        voucher_port: 0,
        id,
    }
}

/// A one-way message header (a `simpleroutine`): no reply port.
pub fn one_way_header(destination: PortName, id: i32) -> MachMsgHeader {
    MachMsgHeader {
        bits: msgh_bits(Disposition::CopySend as u32, 0),
        size: 0,
        remote_port: destination,
        local_port: 0,
        voucher_port: 0,
        id,
    }
}

/// `MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT` when a timeout is given.
fn timeout_options(timeout: Option<u32>) -> (u32, u32) {
    match timeout {
        Some(milliseconds) => (MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT, milliseconds),
        None => (0, 0),
    }
}

/// Sends the `request_length`-byte request in `buffer` and receives the
/// reply into `buffer` on `reply_port`, in one `mach_msg`. `timeout` (ms)
/// bounds each phase; `None` waits as long as it takes.
///
/// After a receive failure the reply port is replaced by a fresh one (the
/// old one is destroyed, so a reply that arrives late dies with it).
///
/// An interrupted receive (`MACH_RCV_INTERRUPTED`: `thread_abort`, which a
/// process's signal thread uses to run a handler) first looks for a reply
/// that already arrived, without waiting: if one is there the call
/// completed and that reply is the result. Otherwise the port is destroyed
/// as above, so a server answering later finds the reply right dead and
/// keeps what it would have sent (a pipe's data, a child to wait for); the
/// caller decides whether to call again (docs/personality.md, "Signals").
pub fn call<K: PortKernel>(
    kernel: &K,
    reply_port: &mut ReceiveRight<K>,
    buffer: &mut [u8],
    request_length: usize,
    timeout: Option<u32>,
) -> Result<(), RpcError> {
    let (options, milliseconds) = timeout_options(timeout);
    let result = kernel.mach_msg(
        buffer,
        MACH_SEND_MSG | MACH_RCV_MSG | options,
        request_length,
        reply_port.name(),
        milliseconds,
    );
    match result {
        // A reply that lost rights or memory on the way is still the reply;
        // the lost rights read as NULL and fail the reply's checks.
        Ok(()) | Err(MachMsgReturn::ReceiveBodyError) => Ok(()),
        Err(code) if code.is_send_error() => Err(RpcError::Send(code)),
        Err(MachMsgReturn::ReceiveInterrupted) if reply_arrived(kernel, reply_port, buffer) => Ok(()),
        Err(code) => {
            // Without a fresh port the old one is kept: the request was
            // sent, and the error must say so (its moved rights are gone).
            if let Ok(name) = kernel.reply_port() {
                *reply_port = ReceiveRight::from_name(kernel, name);
            }
            Err(RpcError::Receive(code))
        }
    }
}

/// Takes a reply already queued on `reply_port` into `buffer`, without
/// waiting; true if one was there.
fn reply_arrived<K: PortKernel>(kernel: &K, reply_port: &ReceiveRight<K>, buffer: &mut [u8]) -> bool {
    let result = kernel.mach_msg(buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply_port.name(), 0);
    matches!(result, Ok(()) | Err(MachMsgReturn::ReceiveBodyError))
}

/// Receives a reply on `reply_port` into `buffer`, waiting at most
/// `timeout` ms (`None`: as long as it takes): the second half of a call
/// whose request was sent alone (with a reply port in its header, as the
/// generated `send_NAME` does). Unlike [`call`], a failure keeps the reply
/// port: other replies may still be on their way to it.
pub fn receive<K: PortKernel>(
    kernel: &K,
    reply_port: &ReceiveRight<K>,
    buffer: &mut [u8],
    timeout: Option<u32>,
) -> Result<(), RpcError> {
    let (options, milliseconds) = timeout_options(timeout);
    match kernel.mach_msg(buffer, MACH_RCV_MSG | (options & MACH_RCV_TIMEOUT), 0, reply_port.name(), milliseconds) {
        Ok(()) | Err(MachMsgReturn::ReceiveBodyError) => Ok(()),
        Err(code) => Err(RpcError::Receive(code)),
    }
}

/// Sends a message without receiving: a one-way message, or a request whose
/// reply [`receive`] takes later.
pub fn send<K: PortKernel>(kernel: &K, buffer: &mut [u8], length: usize, timeout: Option<u32>) -> Result<(), RpcError> {
    let (options, milliseconds) = timeout_options(timeout);
    let send_options = options & MACH_SEND_TIMEOUT;
    kernel.mach_msg(buffer, MACH_SEND_MSG | send_options, length, 0, milliseconds).map_err(RpcError::Send)
}

/// Checks a received reply's header and reads its return code. On success
/// returns the message and a reader positioned after the code. A nonzero
/// code comes back as `Err(Ok(code))` after releasing anything the reply
/// carried; a malformed reply as `Err(Err(error))`, also released.
pub fn read_reply<'a, K: PortKernel>(
    kernel: &K,
    buffer: &'a [u8],
    request_id: i32,
) -> Result<(MessageView<'a>, InlineReader<'a>), Result<i32, RpcError>> {
    let (view, trailer) =
        parse_received(buffer).map_err(|error| Err(RpcError::Reply(DecodeError::Malformed(error))))?;
    // Sender 0 is the kernel: only it sends this notification.
    if view.header.id == mach_abi::NotifyId::SendOnce as i32 && trailer.sender == 0 {
        return Err(Err(RpcError::ServerDied));
    }
    let expected = request_id.wrapping_add(REPLY_ID_OFFSET);
    if view.header.id != expected {
        release_received(kernel, &view);
        return Err(Err(RpcError::Reply(DecodeError::WrongReplyId { expected, found: view.header.id })));
    }
    let mut reader = InlineReader::new(view.inline_data);
    let code = match reader.i32() {
        Ok(code) => code,
        Err(error) => {
            release_received(kernel, &view);
            return Err(Err(RpcError::Reply(error)));
        }
    };
    if code != 0 {
        release_received(kernel, &view);
        return Err(Ok(code));
    }
    Ok((view, reader))
}

/// Turns a nonzero reply code into the call's error: one of the
/// interface's errors when `interface_error` knows it, else an RPC error.
pub fn code_error<E>(code: i32, interface_error: impl Fn(i32) -> Option<E>) -> CallError<E> {
    match interface_error(code) {
        Some(error) => CallError::Interface(error),
        None if (-399..=-300).contains(&code) => CallError::Rpc(RpcError::Server(code)),
        None => CallError::Rpc(RpcError::UnknownCode(code)),
    }
}
