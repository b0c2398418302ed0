//! The `mach_msg` trap: an optional send, then an optional receive, each
//! with an optional timeout.
//!
//! Send: the message is copied in from the caller's buffer (size checked
//! first), `Ipc::send` copies its rights in and queues it, and a receiver
//! waiting on the port (or its set) is woken. A full queue blocks the
//! sender on the port's `Send` wait queue until a receive makes room, the
//! timeout passes (`MACH_SEND_TIMEOUT`), or the port dies.
//!
//! Receive: the caller's buffer is checked writable first, so a received
//! message is never lost to a bad buffer; `Ipc::receive` takes the next
//! message of the right or set and copies its rights out; the bytes (with
//! the trailer) go to the buffer and a sender blocked on the queue is woken.
//! An empty queue blocks the receiver until a send, the timeout
//! (`MACH_RCV_TIMEOUT`) or the port's death.
//!
//! Out-of-line memory and port arrays go through `ool::TaskAccess`.
#![forbid(unsafe_code)]

use super::ool::TaskAccess;
use super::wait::WaitKey;
use super::{deliver_outcome, settle, wake_one};
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer};
use crate::scheduler;
use crate::thread::WaitResult;
use crate::vm_fault::Resolution;
use alloc::vec::Vec;
use mach_abi::{
    CopyOption, MachMsgReturn, PortName, MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_OPTION_USER, MACH_MSG_SIZE_MAX,
    MACH_MSG_SIZE_MIN, MACH_RCV_LARGE, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};
use mach_ipc::{ReceiveError, ReceiveOptions, SendError, SpaceId, TaskMemory};

/// The `TaskMemory` of a handoff, which carries inline messages only:
/// `hand_off` sends a complex message (out-of-line memory, port arrays)
/// down the queued path, which has both tasks' memory (`ool::TaskAccess`),
/// so these refusals are never reached; they fail loudly if they were.
struct InlineOnly;

impl TaskMemory for InlineOnly {
    fn capture_region(&mut self, _address: u64, _size: u32, _copy: CopyOption) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }

    fn read_port_names(&mut self, _address: u64, _count: u32) -> Result<Vec<PortName>, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }

    fn deallocate(&mut self, _address: u64, _size: u64) {
        // Nothing is ever captured, so nothing is ever deallocated.
    }

    fn map_region(&mut self, _token: u64, _size: u32) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }

    fn write_port_names(&mut self, _names: &[PortName]) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }
}

/// Messages up to this size go through the kernel's message buffers.
const SMALL_MESSAGE: usize = 512;

/// The buffers small messages are copied through: one for the bytes being
/// sent, one for a message handed straight to a waiting receiver (with the
/// largest trailer). Kept by the kernel and taken out while in use (the
/// kernel lock is held meanwhile), so a message costs no fresh buffer to
/// zero; a missing one (never used yet) is made on first use.
#[derive(Default)]
pub struct MessageBuffers {
    send: Option<alloc::boxed::Box<[u8; SMALL_MESSAGE]>>,
    handoff: Option<alloc::boxed::Box<[u8; SMALL_MESSAGE + MACH_MSG_AUDIT_TRAILER_SIZE]>>,
}

/// A receive a thread is blocked in: where its message should go.
#[derive(Debug)]
pub struct PendingReceive {
    pub target: ReceiveTarget,
    /// The buffer's check, made when the receive began: a sender handing
    /// a message over writes through it without walking the receiver's
    /// page tables again, if they have not changed since
    /// (`WritableBuffer::is_current`; otherwise the buffer is checked
    /// again, and a bad one declines the handoff as before). Taken by the
    /// first handoff that looks at it.
    pub buffer: Option<user::WritableBuffer>,
}

/// Where a blocked receive's message goes.
#[derive(Clone, Copy, Debug)]
pub struct ReceiveTarget {
    pub name: PortName,
    pub address: u64,
    pub size: usize,
    /// It asked for the audit trailer.
    pub audit: bool,
}

/// One step of a blocking operation, decided under the kernel lock.
enum Step {
    Done(MachMsgReturn),
    /// The buffer (or out-of-line memory) has a page only a pager can
    /// bring (task, address, access): resolve it, waiting if need be, and
    /// try again; the code is the answer if it cannot be had.
    Fault(crate::task::TaskId, u64, u32, MachMsgReturn),
    /// The thread is queued and marked blocked: give up the processor.
    Wait,
    /// Try again at once (the step changed what the next try does).
    Retry,
}

/// `mach_msg(message, option, send_size, receive_size, receive_name, timeout)`.
pub fn mach_msg(arguments: [u64; 6]) -> MachMsgReturn {
    let [address, option, send_size, receive_size, receive_name, timeout] = arguments;
    let option = option as u32;
    if option as u64 != arguments[1] || option & !MACH_MSG_OPTION_USER != 0 {
        return MachMsgReturn::SendInvalidHeader;
    }
    let deadline = |flag: u32| (option & flag != 0).then(|| deadline_after(timeout as u32));
    let receive_options = ReceiveOptions {
        large: option & MACH_RCV_LARGE != 0,
        audit: mach_abi::receive_trailer_size(option) == MACH_MSG_AUDIT_TRAILER_SIZE,
        allowance_final: false,
    };
    if option & (MACH_SEND_MSG | MACH_RCV_MSG) == MACH_SEND_MSG | MACH_RCV_MSG {
        let receive_deadline = deadline(MACH_RCV_TIMEOUT);
        let call = Call { address, send_size, receive_size, receive_name, options: receive_options };
        match call_fast(call, receive_deadline) {
            CallOutcome::Done(code) => return code,
            CallOutcome::SentThenReceive => {
                // The send is done (handed off); what is left is the
                // general receive, as after the general send.
                let Ok(name) = u32::try_from(receive_name) else { return MachMsgReturn::ReceiveInvalidName };
                return receive(address, receive_size, name, receive_options, receive_deadline);
            }
            CallOutcome::General => {}
        }
    }
    if option & MACH_SEND_MSG != 0 {
        let code = send(address, send_size, deadline(MACH_SEND_TIMEOUT), option & MACH_RCV_MSG != 0);
        if code != MachMsgReturn::Success {
            return code;
        }
    }
    if option & MACH_RCV_MSG != 0 {
        let Ok(name) = u32::try_from(receive_name) else { return MachMsgReturn::ReceiveInvalidName };
        return receive(address, receive_size, name, receive_options, deadline(MACH_RCV_TIMEOUT));
    }
    MachMsgReturn::Success
}

/// The arguments of a `mach_msg` that sends and then receives (an RPC's
/// call, a server's reply-and-receive).
#[derive(Clone, Copy)]
struct Call {
    address: u64,
    send_size: u64,
    receive_size: u64,
    receive_name: u64,
    options: ReceiveOptions,
}

/// What the call fast path did.
enum CallOutcome {
    /// Nothing: the general path sends and receives.
    General,
    /// The send was handed off and the receive finished (or failed) too.
    Done(MachMsgReturn),
    /// The send was handed off; the receive is the general one's to do
    /// (the reply port had a message already, or the wait ended without a
    /// message delivered into the buffer: a message queued, a port died).
    SentThenReceive,
}

/// The call/reply fast path (seL4's `fastpath_call`/`fastpath_reply_recv`
/// in Mach's terms): when the message is small and inline, a thread waits
/// to receive from its destination, the caller's receive buffer is
/// writable and nothing is queued for it yet, then in one kernel lock
/// section the message is copied in, handed to the waiting receiver
/// (`hand_off`: mach-ipc's fast path, the receiver woken, the audit
/// trailer, rights' accounting and notifications as always), the caller
/// blocks on its receive exactly as the general receive would (the same
/// wait queue, deadline and pending receive, so a reply handed to it, a
/// timeout, an abort or a dead port find the same state), and the
/// scheduler switches straight to the receiver (`Scheduler::handoff`,
/// unless something more urgent is ready) — where the general path takes
/// four lock sections, a failed receive attempt and a trip through the
/// `Step` machinery. Whatever the fast path cannot decide the same way as
/// the general path (a fault to wait for, a bad buffer, no receiver) it
/// leaves untouched to the general path: it declines before anything
/// changed.
fn call_fast(call: Call, receive_deadline: Option<u64>) -> CallOutcome {
    let size = call.send_size;
    if size < MACH_MSG_SIZE_MIN as u64 || !size.is_multiple_of(4) || size > SMALL_MESSAGE as u64 {
        return CallOutcome::General;
    }
    let Ok(name) = u32::try_from(call.receive_name) else { return CallOutcome::General };
    let receive_size = call.receive_size.min((MACH_MSG_SIZE_MAX + call.options.trailer_size()) as u64) as usize;
    let outcome = scheduler::with_kernel_then_switch(|kernel| {
        let mut buffer =
            kernel.message_buffers.send.take().unwrap_or_else(|| alloc::boxed::Box::new([0; SMALL_MESSAGE]));
        let outcome =
            call_step(kernel, call, name, receive_size, receive_deadline, &mut buffer[..call.send_size as usize]);
        kernel.message_buffers.send = Some(buffer);
        // Blocked: switch (to the receiver, normally) in this lock section.
        let blocked = outcome.is_none();
        (outcome, blocked)
    });
    if let Some(outcome) = outcome {
        return outcome;
    }
    // Woken: what the receive came to, in one more lock section.
    let (woke, delivered) = take_wake_outcome();
    if let Some(code) = delivered {
        return CallOutcome::Done(code);
    }
    match woke {
        WaitResult::TimedOut => CallOutcome::Done(MachMsgReturn::ReceiveTimedOut),
        WaitResult::Aborted => CallOutcome::Done(MachMsgReturn::ReceiveInterrupted),
        WaitResult::Woken => CallOutcome::SentThenReceive,
    }
}

/// [`call_fast`] under the kernel lock; `None`: the message was handed off
/// and the caller is blocked on its receive (the caller switches).
fn call_step(
    kernel: &mut Kernel,
    call: Call,
    name: PortName,
    receive_size: usize,
    receive_deadline: Option<u64>,
    bytes: &mut [u8],
) -> Option<CallOutcome> {
    let Some((task, space)) = current_space(kernel) else { return Some(CallOutcome::General) };
    // What the receive would wait on, with nothing queued there yet (a dead
    // name, a bad name or a message already waiting: the general path).
    let Some(key) = receive_wait_key(kernel, space, name) else { return Some(CallOutcome::General) };
    if !nothing_queued(kernel, key) {
        return Some(CallOutcome::General);
    }
    let current = kernel.current_thread();
    let checked = kernel.threads.get_mut(current).and_then(|thread| thread.checked_receive_buffer.take());
    let Ok(mut memory) = kernel.user_space(task) else { return Some(CallOutcome::General) };
    let (receive_end, send_end) =
        (call.address.saturating_add(receive_size as u64), call.address.saturating_add(bytes.len() as u64));
    // The message is sent from the buffer its reply will be received in:
    // when the receive covers it (an RPC's buffer does), the one check of
    // the receive buffer (a page written can be read) serves the copy in
    // too, with the pages it found.
    let covered = send_end <= receive_end;
    if memory.vm.absent_object_page(memory.tables, call.address, receive_end, true).is_some()
        || (!covered && memory.vm.absent_object_page(memory.tables, call.address, send_end, false).is_some())
    {
        return Some(CallOutcome::General);
    }
    // The check kept from this thread's last call, if it was made for
    // this buffer and the page tables are as they were; else a fresh one.
    let wanted = UserBuffer::new(call.address, receive_size);
    let receive_buffer = match checked.filter(|buffer| buffer.buffer() == wanted && buffer.is_current(&memory)) {
        Some(buffer) => buffer,
        None => match user::writable(&mut memory, wanted) {
            Ok(buffer) => buffer,
            Err(_) => return Some(CallOutcome::General),
        },
    };
    let copied = match covered {
        true => receive_buffer.read(&mut memory, bytes),
        false => user::copy_from_user(&mut memory, UserBuffer::new(call.address, bytes.len()), bytes),
    };
    if copied.is_err() {
        return Some(CallOutcome::General);
    }
    match hand_off(kernel, space, bytes, true, true) {
        None => return Some(CallOutcome::General),
        Some(MachMsgReturn::Success) => {}
        // The send failed: so does the whole call, as on the general path.
        Some(failed) => return Some(CallOutcome::Done(failed)),
    }
    let outcome = block_for_reply(kernel, call, name, key, receive_size, receive_deadline, receive_buffer);
    if outcome.is_some() {
        // No switch after all: the receiver waits its turn in a run queue.
        kernel.queue_handoff();
    }
    outcome
}

/// The rest of [`call_step`] once the message is handed off: block on the
/// receive (`None`) or answer.
fn block_for_reply(
    kernel: &mut Kernel,
    call: Call,
    name: PortName,
    key: WaitKey,
    receive_size: usize,
    receive_deadline: Option<u64>,
    receive_buffer: user::WritableBuffer,
) -> Option<CallOutcome> {
    // The general receive would find the queue as checked above unless the
    // handoff's notifications went there.
    if !nothing_queued(kernel, key) {
        return Some(CallOutcome::SentThenReceive);
    }
    if receive_deadline.is_some_and(scheduler::deadline_passed) {
        return Some(CallOutcome::Done(MachMsgReturn::ReceiveTimedOut));
    }
    kernel.prepare_block(receive_deadline, Some(key));
    let current = kernel.current_thread();
    let thread = kernel.threads.get_mut(current).expect("current thread");
    thread.pending_receive = Some(PendingReceive {
        target: ReceiveTarget { name, address: call.address, size: receive_size, audit: call.options.audit },
        buffer: Some(receive_buffer),
    });
    thread.delivered = None;
    None
}

/// No message waits to be received under `key`: a receive there would
/// block (`Ipc::receive`'s own test, without its side effects).
fn nothing_queued(kernel: &Kernel, key: WaitKey) -> bool {
    match key {
        WaitKey::Receive(port) => kernel.ipc.port(port).is_some_and(|port| port.message_count() == 0),
        WaitKey::ReceiveSet(set) => {
            let Some(set) = kernel.ipc.port_set(set) else { return false };
            !set.ready_members().any(|member| kernel.ipc.port(member).is_some_and(|port| port.message_count() > 0))
        }
        WaitKey::Send(_) => false,
    }
}

/// Brings a page of the message buffer (or of out-of-line memory) of
/// `task` a pager must supply; while waiting for it, an abort makes this
/// phase return `interrupted`.
fn resolve_fault(task: crate::task::TaskId, page: u64, access: u32, interrupted: MachMsgReturn) -> Resolution {
    let set = |value: Option<u64>| {
        with_kernel(|kernel| {
            let current = kernel.current_thread();
            if let Some(thread) = kernel.threads.get_mut(current) {
                thread.abort_return = value;
            }
        })
    };
    set(Some(interrupted as u64));
    let resolution = crate::vm_fault::resolve_in(task, page, access);
    set(None);
    resolution
}

/// When a wait of `milliseconds` ends (now, for a poll).
fn deadline_after(milliseconds: u32) -> u64 {
    scheduler::deadline_after(core::time::Duration::from_millis(milliseconds as u64))
}

fn current_space(kernel: &Kernel) -> Option<(crate::task::TaskId, SpaceId)> {
    let task = kernel.current_task()?;
    Some((task, kernel.tasks.get(task)?.space))
}

/// `waits`: the same `mach_msg` receives next (a call waits for its answer).
fn send(address: u64, size: u64, deadline: Option<u64>, waits: bool) -> MachMsgReturn {
    if size < MACH_MSG_SIZE_MIN as u64 || !size.is_multiple_of(4) {
        return MachMsgReturn::SendMsgTooSmall;
    }
    if size > MACH_MSG_SIZE_MAX as u64 {
        return MachMsgReturn::SendTooLarge;
    }
    // Small messages (RPCs) are copied in through the kernel's send buffer;
    // larger ones into kernel heap, refused rather than exhausting it.
    let size = size as usize;
    let mut large = Vec::new();
    if size > SMALL_MESSAGE {
        if !crate::memory::can_spare(size) || large.try_reserve_exact(size).is_err() {
            return MachMsgReturn::SendNoBuffer;
        }
        large.resize(size, 0);
    }
    loop {
        let step = with_kernel(|kernel| {
            if size > SMALL_MESSAGE {
                return send_step(kernel, address, &mut large, deadline, waits);
            }
            let mut buffer =
                kernel.message_buffers.send.take().unwrap_or_else(|| alloc::boxed::Box::new([0; SMALL_MESSAGE]));
            let step = send_step(kernel, address, &mut buffer[..size], deadline, waits);
            kernel.message_buffers.send = Some(buffer);
            step
        });
        match step {
            Step::Done(code) => return code,
            Step::Retry => {}
            Step::Fault(task, page, access, failure) => {
                match resolve_fault(task, page, access, MachMsgReturn::SendInterrupted) {
                    Resolution::Resolved => {}
                    Resolution::Aborted => return MachMsgReturn::SendInterrupted,
                    Resolution::Unresolvable => return failure,
                }
            }
            Step::Wait => match scheduler::finish_block() {
                WaitResult::TimedOut => return MachMsgReturn::SendTimedOut,
                WaitResult::Aborted => return MachMsgReturn::SendInterrupted,
                WaitResult::Woken => {}
            },
        }
    }
}

/// One try of a send, under the kernel lock: copy the message in from
/// `address` into `bytes` (its whole length), hand it to a waiting
/// receiver or queue it, or decide to wait.
fn send_step(kernel: &mut Kernel, address: u64, bytes: &mut [u8], deadline: Option<u64>, waits: bool) -> Step {
    let Some((task, space)) = current_space(kernel) else { return Step::Done(MachMsgReturn::SendInvalidDest) };
    let mut memory = kernel.user_space(task).expect("a running task has page tables");
    let end = address.saturating_add(bytes.len() as u64);
    if let Some(page) = memory.vm.absent_object_page(memory.tables, address, end, false) {
        return Step::Fault(task, page, mach_abi::VM_PROT_READ, MachMsgReturn::SendInvalidData);
    }
    if user::copy_from_user(&mut memory, UserBuffer::new(address, bytes.len()), bytes).is_err() {
        return Step::Done(MachMsgReturn::SendInvalidData);
    }
    if let Some(code) = hand_off(kernel, space, bytes, false, waits) {
        return Step::Done(code);
    }
    // Queued, its bytes are charged to the sender (ipc::queued).
    if crate::ipc::queued::reserve(kernel, task, space, bytes.len()).is_err() {
        return Step::Done(MachMsgReturn::SendNoBuffer);
    }
    let Kernel { ipc, tasks, captured, .. } = &mut *kernel;
    let object = tasks.get_mut(task).expect("current task");
    let mut memory = TaskAccess {
        tables: object.page_tables.as_mut().expect("a running task has page tables"),
        vm: &mut object.vm,
        captured,
    };
    let step = match ipc.send(space, bytes, &mut memory) {
        Ok(outcome) => {
            deliver_outcome(kernel, outcome);
            settle(kernel);
            Step::Done(MachMsgReturn::Success)
        }
        Err(SendError::QueueFull { port }) => {
            wait_or_time_out(kernel, deadline, WaitKey::Send(port), MachMsgReturn::SendTimedOut)
        }
        Err(SendError::Failed(code)) => {
            // Out-of-line memory with an object page its pager must bring:
            // the send changed nothing; wait and send again.
            let wanted = kernel.tasks.get_mut(task).and_then(|object| object.vm.take_wanted_page());
            if let (MachMsgReturn::SendInvalidMemory, Some((page, access))) = (code, wanted) {
                return Step::Fault(task, page, access, code);
            }
            settle(kernel);
            Step::Done(code)
        }
        Err(SendError::HandoffNotPossible) => Step::Done(MachMsgReturn::SendInvalidDest),
    };
    if !matches!(step, Step::Done(MachMsgReturn::Success)) {
        crate::ipc::queued::trim(kernel, task, space);
    }
    // A move may have unmapped the sender's last mapping of a kernel object.
    crate::memory_object::release_unmapped_by(kernel, task);
    step
}

/// The RPC fast path: if a thread is already blocked receiving from the
/// message's destination (or its set), the message goes straight from the
/// sender's bytes into that thread's buffer, never queued, and the
/// scheduler switches to that thread next. `None`: no such receiver, or the
/// IPC state declined (messages queued ahead, buffer too small); the caller
/// takes the ordinary path.
/// `direct`: the caller switches to the receiver in this lock section (or
/// calls `Kernel::queue_handoff`), see `Kernel::wake_for_handoff`.
/// `waits`: the sender waits for an answer in this trap; with a reply right
/// (send-once) in the message it lends the receiver its priority.
fn hand_off(kernel: &mut Kernel, space: SpaceId, bytes: &[u8], direct: bool, waits: bool) -> Option<MachMsgReturn> {
    // Out-of-line data needs both tasks' memory at once; such messages take
    // the queued path (the fast path is for small RPCs anyway).
    let header = mach_abi::MachMsgHeader::read_from(bytes)?;
    if mach_abi::msgh_bits_is_complex(header.bits) {
        return None;
    }
    let reply = mach_abi::msgh_bits_local(header.bits);
    let lends = waits
        && (reply == mach_abi::Disposition::MakeSendOnce as u32 || reply == mach_abi::Disposition::MoveSendOnce as u32);
    let port = kernel.ipc.destination_of(space, bytes)?;
    if !kernel.exception_waits.is_empty() && kernel.exception_waits.contains_key(&port) {
        // A handler's reply to the exception a thread waits on.
        return crate::exception::take_reply_in_place(kernel, space, bytes, port, direct);
    }
    let set = kernel.ipc.port(port)?.port_set();
    let (receiver, key) = [Some(WaitKey::Receive(port)), set.map(WaitKey::ReceiveSet)]
        .into_iter()
        .flatten()
        .find_map(|key| Some((kernel.wait_queues.first(key)?, key)))?;
    let thread = kernel.threads.get(receiver)?;
    let (pending, receiver_task) = (thread.pending_receive.as_ref()?.target, thread.task?);
    // The received message goes through the kernel's handoff buffer (a
    // larger one through the heap, bounded by the message size limit).
    let options = ReceiveOptions { audit: pending.audit, ..ReceiveOptions::default() };
    if bytes.len() > SMALL_MESSAGE {
        let mut large = alloc::vec![0; bytes.len() + options.trailer_size()];
        return deliver_directly(
            kernel,
            space,
            bytes,
            receiver,
            key,
            pending,
            receiver_task,
            options,
            &mut large,
            direct,
            lends,
        );
    }
    let mut buffer = kernel
        .message_buffers
        .handoff
        .take()
        .unwrap_or_else(|| alloc::boxed::Box::new([0; SMALL_MESSAGE + MACH_MSG_AUDIT_TRAILER_SIZE]));
    let result = deliver_directly(
        kernel,
        space,
        bytes,
        receiver,
        key,
        pending,
        receiver_task,
        options,
        &mut buffer[..],
        direct,
        lends,
    );
    kernel.message_buffers.handoff = Some(buffer);
    result
}

/// The rest of [`hand_off`], with `out` to write the received message in.
#[allow(clippy::too_many_arguments)]
fn deliver_directly(
    kernel: &mut Kernel,
    space: SpaceId,
    bytes: &[u8],
    receiver: crate::thread::ThreadId,
    key: WaitKey,
    pending: ReceiveTarget,
    receiver_task: crate::task::TaskId,
    options: ReceiveOptions,
    out: &mut [u8],
    direct: bool,
    lends: bool,
) -> Option<MachMsgReturn> {
    let Kernel { ipc, tasks, threads, .. } = &mut *kernel;
    let checked = threads.get_mut(receiver)?.pending_receive.as_mut()?.buffer.take();
    let receiver_task = tasks.get_mut(receiver_task)?;
    let receiver_space = receiver_task.space;
    let mut memory = receiver_task.user_space()?;
    // The check made when the receive began, if the receiver's page tables
    // are as they were; else the buffer is checked now.
    let buffer = match checked.filter(|buffer| buffer.is_current(&memory)) {
        Some(buffer) => buffer,
        None => user::writable(&mut memory, UserBuffer::new(pending.address, pending.size)).ok()?,
    };
    // The shapes of an RPC request and reply first (mach_ipc's fast path),
    // then anything else a waiting receiver can take.
    let delivered = match ipc.send_fast_into(space, bytes, receiver_space, pending.name, pending.size, options, out) {
        Some(received) => Ok(received),
        None => ipc.send_direct_into(
            space,
            bytes,
            &mut InlineOnly,
            receiver_space,
            pending.name,
            pending.size,
            options,
            &mut InlineOnly,
            out,
        ),
    };
    let code = match delivered {
        // The receiver's page tables are as checked (nothing above maps or
        // unmaps), so the write cannot fail; if it did, the receiver would
        // learn its message was lost.
        Ok(received) => match buffer.write(&mut memory, &out[..received.length]) {
            Ok(()) if received.lost == 0 => MachMsgReturn::Success,
            Ok(()) => MachMsgReturn::ReceiveBodyError,
            Err(_) => MachMsgReturn::ReceiveInvalidData,
        },
        Err(SendError::HandoffNotPossible) => return None,
        Err(SendError::QueueFull { .. }) => return None,
        Err(SendError::Failed(code)) => {
            settle(kernel);
            return Some(code);
        }
    };
    let thread = kernel.threads.get_mut(receiver)?;
    thread.delivered = Some(code);
    thread.pending_receive = None;
    // Its next call will likely receive into the same buffer.
    thread.checked_receive_buffer = Some(buffer);
    debug_assert_eq!(thread.waiting_on, Some(key));
    kernel.wake_for_handoff(receiver, direct, lends);
    // A handed-off message has only header rights and moves no receive
    // right, so no port died and no waiter lost its port: only queued
    // notifications (a consumed send-once right's, say) need settling.
    if kernel.ipc.has_pending_work() {
        settle(kernel);
    }
    Some(MachMsgReturn::Success)
}

/// After a blocked receive woke: why it woke, and the result of a message
/// a sender delivered straight into its buffer, if one did (its pending
/// receive is over either way).
fn take_wake_outcome() -> (WaitResult, Option<MachMsgReturn>) {
    with_kernel(|kernel| {
        let current = kernel.current_thread();
        let thread = kernel.threads.get_mut(current).expect("current thread");
        thread.pending_receive = None;
        (thread.wait_result.take().unwrap_or(WaitResult::Woken), thread.delivered.take())
    })
}

/// Blocks on `key` until `deadline` (or for good), or answers `timed_out`
/// if the deadline has already come.
fn wait_or_time_out(kernel: &mut Kernel, deadline: Option<u64>, key: WaitKey, timed_out: MachMsgReturn) -> Step {
    if deadline.is_some_and(scheduler::deadline_passed) {
        return Step::Done(timed_out);
    }
    kernel.prepare_block(deadline, Some(key));
    Step::Wait
}

/// What a receive on `name` in `space` waits for.
fn receive_wait_key(kernel: &Kernel, space: SpaceId, name: PortName) -> Option<WaitKey> {
    match kernel.ipc.space(space)?.entry(name)?.rights {
        mach_ipc::right::EntryRights::Port { port, receive: true, .. } => Some(WaitKey::Receive(port)),
        mach_ipc::right::EntryRights::PortSet { set } => Some(WaitKey::ReceiveSet(set)),
        _ => None,
    }
}

fn receive(address: u64, size: u64, name: PortName, options: ReceiveOptions, deadline: Option<u64>) -> MachMsgReturn {
    let size = size.min((MACH_MSG_SIZE_MAX + options.trailer_size()) as u64) as usize;
    let mut options = options;
    loop {
        let step = with_kernel(|kernel| {
            let Some((task, space)) = current_space(kernel) else {
                return Step::Done(MachMsgReturn::ReceiveInvalidName);
            };
            let Kernel { ipc, tasks, captured, .. } = &mut *kernel;
            let object = tasks.get_mut(task).expect("current task");
            let mut user_memory = object.user_space().expect("a running task has page tables");
            let end = address.saturating_add(size as u64);
            if let Some(page) = user_memory.vm.absent_object_page(user_memory.tables, address, end, true) {
                return Step::Fault(task, page, mach_abi::VM_PROT_WRITE, MachMsgReturn::ReceiveInvalidData);
            }
            let Ok(buffer) = user::writable(&mut user_memory, UserBuffer::new(address, size)) else {
                return Step::Done(MachMsgReturn::ReceiveInvalidData);
            };
            let mut memory = TaskAccess { tables: user_memory.tables, vm: user_memory.vm, captured };
            match ipc.receive(space, name, size, options, &mut memory) {
                Ok(received) => {
                    // Out-of-line memory received maps new pages and never
                    // unmaps the buffer's, so the write cannot fail; if it
                    // did, the receiver would learn its message was lost.
                    let written = buffer.write(&mut memory.space(), &received.bytes);
                    wake_one(kernel, WaitKey::Send(received.port));
                    settle(kernel);
                    Step::Done(match written {
                        Ok(()) if received.lost == 0 => MachMsgReturn::Success,
                        Ok(()) => MachMsgReturn::ReceiveBodyError,
                        Err(_) => MachMsgReturn::ReceiveInvalidData,
                    })
                }
                Err(ReceiveError::Empty) => match receive_wait_key(kernel, space, name) {
                    Some(key) => {
                        let step = wait_or_time_out(kernel, deadline, key, MachMsgReturn::ReceiveTimedOut);
                        if matches!(step, Step::Wait) {
                            let current = kernel.current_thread();
                            let thread = kernel.threads.get_mut(current).expect("current thread");
                            thread.pending_receive = Some(PendingReceive {
                                target: ReceiveTarget { name, address, size, audit: options.audit },
                                buffer: Some(buffer),
                            });
                            thread.delivered = None;
                        }
                        step
                    }
                    None => Step::Done(MachMsgReturn::ReceiveInvalidName),
                },
                Err(ReceiveError::TooLarge { needed }) => {
                    if options.large {
                        // Mach's rule: the needed size goes in msgh_size.
                        let _ = user::write_u32(&mut memory.space(), address + 4, needed as u32);
                    }
                    settle(kernel);
                    Step::Done(MachMsgReturn::ReceiveTooLarge)
                }
                Err(ReceiveError::Failed(code)) => Step::Done(code),
                Err(ReceiveError::NamesNeeded { names }) => {
                    // Buy the names the message needs; if the task cannot
                    // pay, receive as at the hard limit (rights that find
                    // no name are destroyed, MACH_MSG_IPC_SPACE).
                    let count = kernel.ipc.space(space).map_or(0, mach_ipc::Space::name_count);
                    if super::names::reserve(kernel, task, names.saturating_sub(count)).is_err() {
                        options.allowance_final = true;
                    }
                    Step::Retry
                }
            }
        });
        match step {
            Step::Done(code) => return code,
            Step::Retry => {}
            Step::Fault(task, page, access, failure) => {
                match resolve_fault(task, page, access, MachMsgReturn::ReceiveInterrupted) {
                    Resolution::Resolved => {}
                    Resolution::Aborted => return MachMsgReturn::ReceiveInterrupted,
                    Resolution::Unresolvable => return failure,
                }
            }
            Step::Wait => {
                scheduler::reschedule();
                // Why it woke, and whether a sender delivered straight into
                // the buffer (`finish_block` and this in one lock section).
                let (woke, delivered) = take_wake_outcome();
                if let Some(code) = delivered {
                    return code;
                }
                match woke {
                    WaitResult::TimedOut => return MachMsgReturn::ReceiveTimedOut,
                    WaitResult::Aborted => return MachMsgReturn::ReceiveInterrupted,
                    WaitResult::Woken => {}
                }
            }
        }
    }
}
