//! `thread_abort` on every kind of wait, from threads of one task: a
//! blocked `mach_msg` (send and receive phases, an RPC whose reply must not
//! be lost), a `thread_switch` sleep, a wait for a pager (this task plays
//! the pager) and for an exception reply (this task is the handler); on a
//! suspended thread, the way a signal is delivered (suspend, abort, get
//! state, set state, resume); a thread woken but not yet run; and a thread
//! that suspends itself stops at once; and a blocked receive whose buffer
//! is unmapped, or replaced by another page, before a message is handed to
//! it (the kernel keeps the buffer's check from when the receive began).
//! Prints `abort-checks: N passed, N failed`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use libmach::abi::{
    Disposition, KernReturn, MachMsgReturn, PortRight, ThreadState, Trap, EXCEPTION_RAISE_ID, EXCEPTION_RAISE_REPLY_ID,
    EXC_MASK_BAD_INSTRUCTION, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG, THREAD_BASIC_INFO, TH_STATE_STOPPED,
    TH_STATE_WAITING,
};
use libmach::pager::{data_supply, memory_object_create, vm_map};
use libmach::thread::{spawn, Thread, DEFAULT_STACK_SIZE};
use libmach::trap::*;
use mach_usertests::{message, Checks};

libmach::entry!(main);

const PAGE: u64 = 4096;
/// What a worker stores before its operation returns.
const NOT_YET: u64 = u64::MAX;

/// Each worker's result (the code its call returned, or a value read).
static RESULT: AtomicU64 = AtomicU64::new(NOT_YET);
/// Set by `landing`, where a redirected thread goes instead.
static LANDED: AtomicU64 = AtomicU64::new(NOT_YET);
/// Ports and addresses the workers use, set by `main` before each starts.
static PORT: AtomicU64 = AtomicU64::new(0);
static ADDRESS: AtomicU64 = AtomicU64::new(0);
/// The reply right `request_taker` received (0: its receive failed).
static REPLY_RIGHT: AtomicU64 = AtomicU64::new(NOT_YET);

fn code_of<T>(result: Result<T, MachMsgReturn>) -> u64 {
    match result {
        Ok(_) => 0,
        Err(error) => error as u64,
    }
}

/// Receives on PORT (blocking), recording the message id, or the code.
fn receiver(_: usize) {
    let mut buffer = MessageBuffer::<256>::new();
    let result = mach_msg(&mut buffer, MACH_RCV_MSG, 0, PORT.load(Ordering::SeqCst) as u32, 0);
    let recorded = if result.is_ok() { message::id(&buffer) as u64 } else { code_of(result) };
    RESULT.store(recorded, Ordering::SeqCst);
}

/// Receives on PORT (blocking) into the page at ADDRESS, recording the code.
fn page_receiver(_: usize) {
    let (port, address) = (PORT.load(Ordering::SeqCst), ADDRESS.load(Ordering::SeqCst));
    // SAFETY: the kernel checks the buffer (ours, or unmapped on purpose)
    // and answers with a code.
    let code = unsafe { raw_trap(Trap::MachMsg as u64, [address, MACH_RCV_MSG as u64, 0, 256, port, 0]) };
    RESULT.store(code, Ordering::SeqCst);
}

/// Sends to PORT (blocking on a full queue), recording the code.
fn sender(_: usize) {
    let mut buffer = MessageBuffer::<256>::new();
    let size =
        message::write(&mut buffer, PORT.load(Ordering::SeqCst) as u32, Disposition::CopySend as u32, 0, 0, 7, &[]);
    RESULT.store(code_of(mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)), Ordering::SeqCst);
}

/// Sleeps ten seconds, recording the code.
fn sleeper(_: usize) {
    let code = match thread_sleep(10_000) {
        Ok(()) => 0,
        Err(error) => error as u64,
    };
    RESULT.store(code, Ordering::SeqCst);
}

/// Calls PORT (send, then receive the reply on its own reply port); after
/// an interrupted receive, takes the reply that may have come meanwhile
/// without waiting, as minilibc does.
fn caller(_: usize) {
    let reply = mach_reply_port();
    ADDRESS.store(reply as u64, Ordering::SeqCst);
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(
        &mut buffer,
        PORT.load(Ordering::SeqCst) as u32,
        Disposition::CopySend as u32,
        reply,
        Disposition::MakeSendOnce as u32,
        8,
        &[],
    );
    let first = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0);
    RESULT.store(code_of(first), Ordering::SeqCst);
    while LANDED.load(Ordering::SeqCst) == NOT_YET {
        let _ = thread_sleep(1);
    }
    let later = mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, reply, 0);
    LANDED.store(if later.is_ok() { message::id(&buffer) as u64 } else { code_of(later) }, Ordering::SeqCst);
}

/// Receives one request on PORT, waiting for it (so a caller's send is
/// handed straight to it), and keeps the reply right's name; never answers.
fn request_taker(_: usize) {
    let mut buffer = MessageBuffer::<256>::new();
    let result = mach_msg(&mut buffer, MACH_RCV_MSG, 0, PORT.load(Ordering::SeqCst) as u32, 0);
    REPLY_RIGHT.store(if result.is_ok() { message::word(&buffer, 2) as u64 } else { 0 }, Ordering::SeqCst);
}

/// Calls PORT with a 20 ms receive timeout, recording the code.
fn timed_caller(_: usize) {
    let reply = mach_reply_port();
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(
        &mut buffer,
        PORT.load(Ordering::SeqCst) as u32,
        Disposition::CopySend as u32,
        reply,
        Disposition::MakeSendOnce as u32,
        9,
        &[],
    );
    let result = mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, size, reply, 20);
    RESULT.store(code_of(result), Ordering::SeqCst);
}

/// Reads the byte at ADDRESS (a page only a pager can bring).
fn toucher(_: usize) {
    // SAFETY: ADDRESS is a page of a memory object mapped in this task.
    let byte = unsafe { core::ptr::read_volatile(ADDRESS.load(Ordering::SeqCst) as *const u8) };
    RESULT.store(byte as u64, Ordering::SeqCst);
}

/// Sends a message whose bytes are in ADDRESS's page (one only a pager can
/// bring), recording the code.
fn object_sender(_: usize) {
    // SAFETY: ADDRESS is a page of a memory object mapped in this task; the
    // kernel reads it (after the pager supplies it).
    let buffer = unsafe { core::slice::from_raw_parts_mut(ADDRESS.load(Ordering::SeqCst) as *mut u8, 64) };
    RESULT.store(code_of(mach_msg_bytes(buffer, MACH_SEND_MSG, 64, 0, 0)), Ordering::SeqCst);
}

/// Receives on PORT into ADDRESS's page (one only a pager can bring),
/// recording the code.
fn object_receiver(_: usize) {
    // SAFETY: as in `object_sender`; the kernel writes the page.
    let buffer = unsafe { core::slice::from_raw_parts_mut(ADDRESS.load(Ordering::SeqCst) as *mut u8, 256) };
    RESULT.store(
        code_of(mach_msg_bytes(buffer, MACH_RCV_MSG, 0, PORT.load(Ordering::SeqCst) as u32, 0)),
        Ordering::SeqCst,
    );
}

/// Executes an undefined instruction with its exception port set to PORT;
/// the handler steps over it (by the marker register).
fn faulter(_: usize) {
    let port = PORT.load(Ordering::SeqCst);
    // SAFETY: names and a mask only.
    unsafe {
        raw_trap(
            Trap::ThreadSetExceptionPort as u64,
            [thread_self() as u64, EXC_MASK_BAD_INSTRUCTION as u64, port, 0, 0, 0],
        )
    };
    // The handler moves the pc past it (by the marker register).
    mach_usertests::faults::undefined_instruction();
    RESULT.store(1, Ordering::SeqCst);
}

/// Suspends itself; records that it went on only once resumed.
fn self_suspender(_: usize) {
    let _ = thread_suspend(thread_self());
    RESULT.store(1, Ordering::SeqCst);
}

/// Where a redirected thread runs instead of returning from its call (a
/// signal handler, as the signal thread would set it up).
extern "C" fn landing(code: u64) -> ! {
    LANDED.store(code, Ordering::SeqCst);
    let _ = thread_terminate(thread_self());
    libmach::runtime::park()
}

fn info(thread: u32) -> [u32; 6] {
    let mut words = [0u32; 6];
    let mut count = 6u32;
    // SAFETY: the kernel writes at most `count` words into `words` and one into `count`.
    unsafe {
        raw_trap(
            Trap::ThreadInfo as u64,
            [thread as u64, THREAD_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0],
        )
    };
    words
}

/// Waits (up to a second) until `thread` is blocked in the kernel.
fn until_waiting(thread: &Thread) -> bool {
    for _ in 0..1000 {
        if info(thread.port())[0] == TH_STATE_WAITING {
            return true;
        }
        let _ = thread_sleep(1);
    }
    false
}

/// Waits (up to a second) until `value` is no longer NOT_YET.
fn until_set(value: &AtomicU64) -> u64 {
    for _ in 0..1000 {
        let current = value.load(Ordering::SeqCst);
        if current != NOT_YET {
            return current;
        }
        let _ = thread_sleep(1);
    }
    NOT_YET
}

fn start(entry: fn(usize)) -> Option<Thread> {
    RESULT.store(NOT_YET, Ordering::SeqCst);
    LANDED.store(NOT_YET, Ordering::SeqCst);
    spawn(entry, 0, DEFAULT_STACK_SIZE).ok()
}

/// Sends `thread` (suspended, its call aborted) to `landing(code)` on its
/// own stack, as a signal thread does, and resumes it. Returns the return
/// register the aborted call left.
fn redirect(thread: &Thread, code: u64) -> Option<u64> {
    let mut state = libmach::thread::get_state(thread.port()).ok()?;
    let returned = state.trap_result();
    // A frame below the interrupted one, aligned as if `landing` were
    // called (x86_64's call leaves the stack 8 below a 16-byte boundary).
    let below = (state.sp() - 512) & !0xf;
    let stack = if cfg!(target_arch = "x86_64") { below - 8 } else { below };
    state.set_pc(landing as *const () as u64);
    state.set_sp(stack);
    state.set_argument(0, code);
    libmach::thread::set_state(thread.port(), &state).ok()?;
    thread_resume(thread.port()).ok()?;
    Some(returned)
}

fn new_port(task: u32) -> u32 {
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, port, port, Disposition::MakeSend as u32);
    port
}

fn send(port: u32, id: i32) -> Result<(), MachMsgReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(&mut buffer, port, Disposition::CopySend as u32, 0, 0, id, &[]);
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)
}

/// A message carrying a send right: it cannot be handed off directly, it
/// is queued.
fn send_complex(port: u32, id: i32, carried: u32) -> Result<(), MachMsgReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let header = libmach::abi::MachMsgHeader {
        bits: libmach::abi::msgh_bits(Disposition::CopySend as u32, 0),
        size: 0,
        remote_port: port,
        local_port: 0,
        voucher_port: 0,
        id,
    };
    let mut encoder = libmach::abi::MessageEncoder::new(&mut buffer.0, header, true);
    let _ = encoder.descriptor(libmach::abi::Descriptor::Port { name: carried, disposition: Disposition::CopySend });
    let size = encoder.finish().unwrap_or(0);
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)
}

fn receive_now(port: u32) -> Option<MessageBuffer<256>> {
    let mut buffer = MessageBuffer::<256>::new();
    mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, 0).ok()?;
    Some(buffer)
}

const RCV_INTERRUPTED: u64 = MachMsgReturn::ReceiveInterrupted as u64;
const SEND_INTERRUPTED: u64 = MachMsgReturn::SendInterrupted as u64;

fn main(_argument: u64) {
    let mut checks = Checks::new("abort-checks");
    let task = task_self();
    checks.equal("abort a bogus name", thread_abort(0x0abc_de00), Err(KernReturn::InvalidName));
    checks.equal("abort a task port", thread_abort(task), Err(KernReturn::InvalidArgument));
    checks.equal("abort myself: nothing to interrupt", thread_abort(thread_self()), Ok(()));

    // A blocked receive returns MACH_RCV_INTERRUPTED.
    let port = new_port(task);
    PORT.store(port as u64, Ordering::SeqCst);
    if let Some(thread) = start(receiver) {
        checks.equal("receiver blocked", until_waiting(&thread), true);
        checks.equal("abort the receive", thread_abort(thread.port()), Ok(()));
        checks.equal("receive interrupted", until_set(&RESULT), RCV_INTERRUPTED);
        thread.join();
    }

    // A receive blocked with a good buffer that is then unmapped: the
    // message sent meanwhile is not written through the receive's old
    // check (the page is gone), it is queued, and the receive fails with
    // MACH_RCV_INVALID_DATA; the message waits for the next receive.
    let page = vm_allocate(task, 0, PAGE, libmach::abi::VM_FLAGS_ANYWHERE).unwrap_or(0);
    ADDRESS.store(page, Ordering::SeqCst);
    if let Some(thread) = start(page_receiver) {
        checks.equal("receiver blocked on its page", until_waiting(&thread), true);
        checks.equal("unmap its buffer", vm_deallocate(task, page, PAGE), Ok(()));
        checks.equal("send to it", send(port, 41), Ok(()));
        checks.equal("its receive fails", until_set(&RESULT), MachMsgReturn::ReceiveInvalidData as u64);
        thread.join();
    }
    checks.equal("the message was kept", receive_now(port).map(|buffer| message::id(&buffer)), Some(41));
    // The same with a fresh page mapped where the buffer was: the message
    // lands in the new page, not the old one.
    let page = vm_allocate(task, 0, PAGE, libmach::abi::VM_FLAGS_ANYWHERE).unwrap_or(0);
    ADDRESS.store(page, Ordering::SeqCst);
    if let Some(thread) = start(page_receiver) {
        checks.equal("receiver blocked on its page again", until_waiting(&thread), true);
        checks.equal("unmap that buffer", vm_deallocate(task, page, PAGE), Ok(()));
        checks.equal(
            "and map a fresh page there",
            vm_allocate(task, page, PAGE, libmach::abi::VM_FLAGS_FIXED),
            Ok(page),
        );
        checks.equal("send to it", send(port, 42), Ok(()));
        checks.equal("its receive succeeds", until_set(&RESULT), 0);
        // SAFETY: the page is mapped (above) and the receive is over.
        let id = unsafe { core::ptr::read_volatile((page + 20) as *const i32) };
        checks.equal("into the fresh page", id, 42);
        thread.join();
    }
    let _ = vm_deallocate(task, page, PAGE);

    // A send blocked on a full queue returns MACH_SEND_INTERRUPTED, and the
    // queue keeps what it had.
    checks.equal("queue limit 1", port_set_attributes(task, port, 1, &[1]), Ok(()));
    checks.equal("fill the queue", send(port, 1), Ok(()));
    if let Some(thread) = start(sender) {
        checks.equal("sender blocked", until_waiting(&thread), true);
        checks.equal("abort the send", thread_abort(thread.port()), Ok(()));
        checks.equal("send interrupted", until_set(&RESULT), SEND_INTERRUPTED);
        thread.join();
    }
    checks.equal("the queued message is still there", receive_now(port).map(|buffer| message::id(&buffer)), Some(1));
    checks.equal("and nothing else", receive_now(port).is_none(), true);
    checks.equal("queue limit back to 5", port_set_attributes(task, port, 1, &[5]), Ok(()));

    // A thread_switch sleep returns KERN_ABORTED at once.
    if let Some(thread) = start(sleeper) {
        checks.equal("sleeper blocked", until_waiting(&thread), true);
        let before = clock_get_time().unwrap_or(0);
        checks.equal("abort the sleep", thread_abort(thread.port()), Ok(()));
        checks.equal("sleep aborted", until_set(&RESULT), KernReturn::Aborted as u64);
        checks.equal("well before its ten seconds", clock_get_time().unwrap_or(0) - before < 1_000_000_000, true);
        thread.join();
    }

    // Suspended, blocked in a receive: the abort takes effect, the thread
    // stays suspended with MACH_RCV_INTERRUPTED in its return register, and
    // is sent to a handler (a signal delivered).
    if let Some(thread) = start(receiver) {
        checks.equal("receiver blocked", until_waiting(&thread), true);
        checks.equal("suspend it", thread_suspend(thread.port()), Ok(()));
        checks.equal("abort it", thread_abort(thread.port()), Ok(()));
        let stopped = info(thread.port());
        checks.equal("still suspended", (stopped[0], stopped[2]), (TH_STATE_STOPPED, 1));
        let _ = thread_sleep(5);
        checks.equal("nothing ran yet", RESULT.load(Ordering::SeqCst), NOT_YET);
        checks.equal("its registers show the interrupted receive", redirect(&thread, 31), Some(RCV_INTERRUPTED));
        checks.equal("the handler ran", until_set(&LANDED), 31);
        checks.equal("the interrupted code never went on", RESULT.load(Ordering::SeqCst), NOT_YET);
        thread.join();
    }

    // Suspended in a receive when a message is handed straight to it: the
    // message was delivered, so the receive succeeded and nothing is lost.
    if let Some(thread) = start(receiver) {
        checks.equal("receiver blocked", until_waiting(&thread), true);
        checks.equal("suspend it", thread_suspend(thread.port()), Ok(()));
        checks.equal("hand it a message", send(port, 41), Ok(()));
        checks.equal("abort it", thread_abort(thread.port()), Ok(()));
        let state = libmach::thread::get_state(thread.port()).unwrap_or_default();
        checks.equal("its receive succeeded", state.trap_result(), 0);
        checks.equal("resume it", thread_resume(thread.port()), Ok(()));
        checks.equal("it has the message", until_set(&RESULT), 41);
        thread.join();
    }

    // Suspended in a receive when a message is queued (woken, not yet run):
    // the receive is interrupted and the message stays queued.
    if let Some(thread) = start(receiver) {
        checks.equal("receiver blocked", until_waiting(&thread), true);
        checks.equal("suspend it", thread_suspend(thread.port()), Ok(()));
        checks.equal("queue a message for it", send_complex(port, 51, port), Ok(()));
        checks.equal("abort it", thread_abort(thread.port()), Ok(()));
        checks.equal("its receive was interrupted", redirect(&thread, 52), Some(RCV_INTERRUPTED));
        checks.equal("the handler ran", until_set(&LANDED), 52);
        checks.equal("the message is still queued", receive_now(port).map(|buffer| message::id(&buffer)), Some(51));
        thread.join();
    }

    // An RPC interrupted in its receive phase: the request was sent, and the
    // reply that comes afterwards is not lost.
    let service = new_port(task);
    PORT.store(service as u64, Ordering::SeqCst);
    if let Some(thread) = start(caller) {
        checks.equal("caller blocked for the reply", until_waiting(&thread), true);
        checks.equal("abort the call", thread_abort(thread.port()), Ok(()));
        checks.equal("receive interrupted", until_set(&RESULT), RCV_INTERRUPTED);
        let request = receive_now(service);
        checks.equal("the request arrived", request.as_ref().map(message::id), Some(8));
        if let Some(mut request) = request {
            let reply = message::word(&request, 2);
            let size = message::write(&mut request, reply, Disposition::MoveSendOnce as u32, 0, 0, 108, &[]);
            checks.equal("reply sent", mach_msg(&mut request, MACH_SEND_MSG, size, 0, 0), Ok(()));
        }
        LANDED.store(0, Ordering::SeqCst);
        for _ in 0..1000 {
            if LANDED.load(Ordering::SeqCst) != 0 {
                break;
            }
            let _ = thread_sleep(1);
        }
        checks.equal("the caller took the reply afterwards", LANDED.load(Ordering::SeqCst), 108);
        thread.join();
    }

    // The same with a receiver already waiting, so the call takes the
    // kernel's call path (the request handed off and the caller blocked for
    // the reply in one step): interrupted alike, the late reply not lost.
    REPLY_RIGHT.store(NOT_YET, Ordering::SeqCst);
    if let Some(taker) = start(request_taker) {
        checks.equal("a receiver waits on the service", until_waiting(&taker), true);
        if let Some(thread) = start(caller) {
            checks.equal("handed-off caller blocked for the reply", until_waiting(&thread), true);
            let reply = until_set(&REPLY_RIGHT);
            checks.equal("the request was handed to the receiver", reply != NOT_YET && reply != 0, true);
            checks.equal("abort the handed-off call", thread_abort(thread.port()), Ok(()));
            checks.equal("its receive interrupted", until_set(&RESULT), RCV_INTERRUPTED);
            let mut buffer = MessageBuffer::<256>::new();
            let size = message::write(&mut buffer, reply as u32, Disposition::MoveSendOnce as u32, 0, 0, 109, &[]);
            checks.equal("late reply sent", mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0), Ok(()));
            LANDED.store(0, Ordering::SeqCst);
            for _ in 0..1000 {
                if LANDED.load(Ordering::SeqCst) != 0 {
                    break;
                }
                let _ = thread_sleep(1);
            }
            checks.equal("the handed-off caller took the reply afterwards", LANDED.load(Ordering::SeqCst), 109);
            thread.join();
        }
        taker.join();
    }
    // And a receive timeout after the handoff: MACH_RCV_TIMED_OUT.
    REPLY_RIGHT.store(NOT_YET, Ordering::SeqCst);
    if let Some(taker) = start(request_taker) {
        checks.equal("a receiver waits again", until_waiting(&taker), true);
        if let Some(thread) = start(timed_caller) {
            checks.equal(
                "a handed-off call times out waiting for its reply",
                until_set(&RESULT),
                MachMsgReturn::ReceiveTimedOut as u64,
            );
            let reply = until_set(&REPLY_RIGHT);
            checks.equal("its request was handed over", reply != NOT_YET && reply != 0, true);
            if reply != NOT_YET && reply != 0 {
                let _ = port_deallocate(task, reply as u32);
            }
            thread.join();
        }
        taker.join();
    }

    // A fault waiting for a pager (this task): the wait is abandoned and the
    // instruction runs again (faulting again, waiting again); suspended, the
    // thread can be sent elsewhere instead.
    let pager = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let object = memory_object_create(pager, 2 * PAGE).unwrap_or(0);
    let mapped = vm_map(task, 2 * PAGE, object, 0).unwrap_or(0);
    checks.equal("an object mapped", mapped != 0, true);
    ADDRESS.store(mapped, Ordering::SeqCst);
    if let Some(thread) = start(toucher) {
        checks.equal("the pager is asked", receive_now_waiting(pager).is_some(), true);
        checks.equal("toucher waits for the pager", until_waiting(&thread), true);
        checks.equal("abort the wait", thread_abort(thread.port()), Ok(()));
        let _ = thread_sleep(5);
        checks.equal("it faulted again and waits again", until_waiting(&thread), true);
        checks.equal("no second request (one is outstanding)", receive_now(pager).is_none(), true);
        let mut page = [0u8; PAGE as usize];
        page[0] = 0x6b;
        checks.equal("the pager answers", data_supply(object, 0, &page, 0), Ok(()));
        checks.equal("the touch completed", until_set(&RESULT), 0x6b);
        thread.join();
    }
    ADDRESS.store(mapped + PAGE, Ordering::SeqCst);
    if let Some(thread) = start(toucher) {
        checks.equal("the pager is asked", receive_now_waiting(pager).is_some(), true);
        checks.equal("toucher waits for the pager", until_waiting(&thread), true);
        checks.equal("suspend it", thread_suspend(thread.port()), Ok(()));
        checks.equal("abort the wait", thread_abort(thread.port()), Ok(()));
        let state = libmach::thread::get_state(thread.port()).unwrap_or_default();
        checks.equal("at the faulting instruction, in the toucher", state.pc() >= toucher as *const () as u64, true);
        checks.equal("sent elsewhere", redirect(&thread, 61).is_some(), true);
        checks.equal("the handler ran instead", until_set(&LANDED), 61);
        checks.equal("the touch never completed", RESULT.load(Ordering::SeqCst), NOT_YET);
        thread.join();
    }

    // mach_msg waiting for a pager's page of its message buffer: the phase
    // it is in returns its interrupted code.
    let buffers = memory_object_create(pager, 2 * PAGE).unwrap_or(0);
    let buffers_mapped = vm_map(task, 2 * PAGE, buffers, 0).unwrap_or(0);
    PORT.store(port as u64, Ordering::SeqCst);
    for (page, entry, interrupted, phase) in [
        (0, object_sender as fn(usize), SEND_INTERRUPTED, "the send phase interrupted"),
        (1, object_receiver, RCV_INTERRUPTED, "the receive phase interrupted"),
    ] {
        ADDRESS.store(buffers_mapped + page * PAGE, Ordering::SeqCst);
        if let Some(thread) = start(entry) {
            checks.equal("the pager is asked for the buffer's page", receive_now_waiting(pager).is_some(), true);
            checks.equal("mach_msg waits for the pager", until_waiting(&thread), true);
            checks.equal("abort the wait", thread_abort(thread.port()), Ok(()));
            checks.equal(phase, until_set(&RESULT), interrupted);
            thread.join();
        }
    }

    // A fault waiting for an exception reply (this task is the handler):
    // the wait is abandoned, the instruction runs again and raises again.
    let handler = new_port(task);
    PORT.store(handler as u64, Ordering::SeqCst);
    if let Some(thread) = start(faulter) {
        let first = receive_now_waiting(handler);
        checks.equal("the exception arrives", first.as_ref().map(message::id), Some(EXCEPTION_RAISE_ID));
        checks.equal("faulter waits for the verdict", until_waiting(&thread), true);
        checks.equal("abort the wait", thread_abort(thread.port()), Ok(()));
        let second = receive_now_waiting(handler);
        checks.equal("the instruction raised again", second.as_ref().map(message::id), Some(EXCEPTION_RAISE_ID));
        if let Some(mut second) = second {
            let reply = message::word(&second, 2);
            let verdict = step_over(message::word(&second, 7));
            let size = message::write(
                &mut second,
                reply,
                Disposition::MoveSendOnce as u32,
                0,
                0,
                EXCEPTION_RAISE_REPLY_ID,
                &[verdict],
            );
            checks.equal("reply to the second", mach_msg(&mut second, MACH_SEND_MSG, size, 0, 0), Ok(()));
        }
        checks.equal("the faulter went on", until_set(&RESULT), 1);
        if let Some(first) = first {
            // The first exception's reply right died with the abandoned wait.
            checks.equal(
                "the first reply right is dead",
                port_type(task, message::word(&first, 2)),
                Ok(libmach::abi::MACH_PORT_TYPE_DEAD_NAME),
            );
        }
        thread.join();
    }

    // A thread that suspends itself stops before returning to user mode.
    if let Some(thread) = start(self_suspender) {
        let _ = thread_sleep(20);
        checks.equal(
            "it stopped in its trap",
            (RESULT.load(Ordering::SeqCst), info(thread.port())[0]),
            (NOT_YET, TH_STATE_STOPPED),
        );
        checks.equal("resume it", thread_resume(thread.port()), Ok(()));
        checks.equal("it went on once resumed", until_set(&RESULT), 1);
        thread.join();
    }
    checks.finish();
}

/// Receives on `port`, waiting up to a second.
fn receive_now_waiting(port: u32) -> Option<MessageBuffer<256>> {
    let mut buffer = MessageBuffer::<256>::new();
    mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, 1000).ok()?;
    Some(buffer)
}

/// Moves `thread`'s pc past the faulting instruction (by its marker
/// register); the verdict for the reply.
fn step_over(thread: u32) -> u32 {
    let Ok(mut state) = libmach::thread::get_state(thread) else { return KernReturn::Failure as u32 };
    state.set_pc(state.pc() + state.marker());
    match libmach::thread::set_state(thread, &state) {
        Ok(()) => KernReturn::Success as u32,
        Err(error) => error as u32,
    }
}
