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
