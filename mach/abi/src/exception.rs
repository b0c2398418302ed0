//! Exceptions as messages: types, masks and the `exception_raise`
//! request/reply, with xnu's numbers.
//!
//! A fault in user mode becomes an `exception_raise` request (id
//! [`EXCEPTION_RAISE_ID`]) to the thread's exception port if its mask
//! covers the exception, else the task's. The request carries, in order, a
//! send right to the faulting thread's port and one to its task's port
//! (port descriptors), then inline [`ExceptionRaiseBody`]. The thread
//! waits for the reply (id [`EXCEPTION_RAISE_REPLY_ID`], inline `u32`
//! return code right after the header): `KERN_SUCCESS` resumes it (with
//! whatever registers the handler set with `thread_set_state`); any other
//! code passes the exception to the task's handler, and if that fails too
//! the task is terminated.
//!
//! That is the behaviour [`EXCEPTION_DEFAULT`]. A handler set with
//! [`EXCEPTION_STATE`] (`task_set_exception_port`'s fourth argument, as
//! Mach's `behavior`) gets `exception_raise_state` instead
//! ([`EXCEPTION_RAISE_STATE_ID`]): no port descriptors, the body followed
//! by the faulting thread's registers ([`ExceptionStateHeader`] then the
//! architecture's thread-state words, the flavor `thread_get_state` gives);
//! its reply ([`EXCEPTION_RAISE_STATE_REPLY_ID`]) carries the return code,
//! then a flavor, a count and the registers the thread resumes with. A
//! handler that only steps over an instruction or emulates one thus needs
//! no `thread_get_state`/`thread_set_state` and no port rights to clean
//! up: one receive and one reply (with its next receive, in one
//! `mach_msg`). [`EXCEPTION_STATE_IDENTITY`] carries both the two port
//! descriptors and the state ([`EXCEPTION_RAISE_STATE_IDENTITY_ID`]), and
//! is answered like `EXCEPTION_STATE`. A state reply whose flavor, count or
//! registers the kernel refuses (as `thread_set_state` would) counts as a
//! failure: the thread is not resumed with it.

/// `EXC_BAD_ACCESS`: a memory access the task may not make.
pub const EXC_BAD_ACCESS: u32 = 1;
/// `EXC_BAD_INSTRUCTION`: an invalid or privileged instruction.
pub const EXC_BAD_INSTRUCTION: u32 = 2;
/// `EXC_ARITHMETIC`: divide error and the like.
pub const EXC_ARITHMETIC: u32 = 3;
/// `EXC_BREAKPOINT`: `int3` or a debug trap.
pub const EXC_BREAKPOINT: u32 = 6;

pub const EXC_MASK_BAD_ACCESS: u32 = 1 << EXC_BAD_ACCESS;
pub const EXC_MASK_BAD_INSTRUCTION: u32 = 1 << EXC_BAD_INSTRUCTION;
pub const EXC_MASK_ARITHMETIC: u32 = 1 << EXC_ARITHMETIC;
pub const EXC_MASK_BREAKPOINT: u32 = 1 << EXC_BREAKPOINT;
pub const EXC_MASK_ALL: u32 =
    EXC_MASK_BAD_ACCESS | EXC_MASK_BAD_INSTRUCTION | EXC_MASK_ARITHMETIC | EXC_MASK_BREAKPOINT;

/// `exception_raise` request id and its reply id (request + 100, as MIG).
pub const EXCEPTION_RAISE_ID: i32 = 2401;
pub const EXCEPTION_RAISE_REPLY_ID: i32 = 2501;
/// `exception_raise_state`: the body, then the thread's state.
pub const EXCEPTION_RAISE_STATE_ID: i32 = 2402;
pub const EXCEPTION_RAISE_STATE_REPLY_ID: i32 = 2502;
/// `exception_raise_state_identity`: the thread and task ports, the body,
/// then the thread's state.
pub const EXCEPTION_RAISE_STATE_IDENTITY_ID: i32 = 2403;
pub const EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID: i32 = 2503;

/// Behaviours (`task_set_exception_port`'s fourth argument; 0 is taken as
/// `EXCEPTION_DEFAULT`), with xnu's numbers.
pub const EXCEPTION_DEFAULT: u32 = 1;
pub const EXCEPTION_STATE: u32 = 2;
pub const EXCEPTION_STATE_IDENTITY: u32 = 3;

/// What follows [`ExceptionRaiseBody`] in a state request, and the return
/// code in a state reply: the flavor and the count of 32-bit words of
/// state that come next.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExceptionStateHeader {
    pub flavor: u32,
    pub count: u32,
}

/// The request id a handler of `behavior` receives, and the reply id it
/// answers with (`None`: no such behaviour).
pub const fn exception_ids(behavior: u32) -> Option<(i32, i32)> {
    match behavior {
        0 | EXCEPTION_DEFAULT => Some((EXCEPTION_RAISE_ID, EXCEPTION_RAISE_REPLY_ID)),
        EXCEPTION_STATE => Some((EXCEPTION_RAISE_STATE_ID, EXCEPTION_RAISE_STATE_REPLY_ID)),
        EXCEPTION_STATE_IDENTITY => Some((EXCEPTION_RAISE_STATE_IDENTITY_ID, EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID)),
        _ => None,
    }
}

/// The inline part of an `exception_raise` request, after the two port
/// descriptors. `code[0]` is a `KERN_*` code for bad accesses
/// (`KERN_INVALID_ADDRESS` for a missing page, `KERN_PROTECTION_FAILURE`
/// for an access not allowed, `KERN_RESOURCE_SHORTAGE` for a page past the
/// task's memory limit, `KERN_MEMORY_ERROR` for an object page its pager
/// could not supply) or the CPU vector; `code[1]` the faulting address for
/// bad accesses, else the instruction pointer.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExceptionRaiseBody {
    pub exception: u32,
    pub code_count: u32,
    pub code: [i64; 2],
}

/// Bytes of a whole `exception_raise` request: header, descriptor count,
/// two port descriptors, the body.
pub const EXCEPTION_RAISE_SIZE: usize = 24 + 4 + 2 * 16 + core::mem::size_of::<ExceptionRaiseBody>();

const _: () = assert!(core::mem::size_of::<ExceptionRaiseBody>() == 24);
