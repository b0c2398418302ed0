//! The thread traps the signal machinery and thread-local storage need
//! beyond libmach's: `thread_abort` (48), `thread_set_tls` (49) and
//! `thread_get_state` (44), with the calling convention of docs/abi.md.
//! (Branch `kipc` adds the same wrappers to `libmach::trap`; these go when
//! it is merged.)

use libmach::abi::{KernReturn, PortName};

const THREAD_GET_STATE: u64 = 44;
const THREAD_ABORT: u64 = 48;
const THREAD_SET_TLS: u64 = 49;

fn result(value: u64) -> Result<(), KernReturn> {
    match u32::try_from(value).ok().and_then(KernReturn::from_u32) {
        Some(KernReturn::Success) => Ok(()),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

/// Interrupts what `thread` waits for in the kernel (a `mach_msg` returns
/// `MACH_RCV_INTERRUPTED`/`MACH_SEND_INTERRUPTED`, a `thread_switch` wait
/// `KERN_ABORTED`); a thread running user code is left as it is.
pub(crate) fn thread_abort(thread: PortName) -> Result<(), KernReturn> {
    // SAFETY: the trap takes a name and writes nothing of ours.
    result(unsafe { libmach::trap::raw_trap(THREAD_ABORT, [thread as u64, 0, 0, 0, 0, 0]) })
}

/// Sets `thread`'s FS base.
pub(crate) fn thread_set_tls(thread: PortName, value: u64) -> Result<(), KernReturn> {
    // SAFETY: the trap takes values and writes nothing of ours.
    result(unsafe { libmach::trap::raw_trap(THREAD_SET_TLS, [thread as u64, value, 0, 0, 0, 0]) })
}

/// Reads `thread`'s registers as `flavor` into `state`; returns the words written.
pub(crate) fn thread_get_state(thread: PortName, flavor: u32, state: &mut [u32]) -> Result<usize, KernReturn> {
    let mut count = state.len() as u32;
    let arguments = [thread as u64, flavor as u64, state.as_mut_ptr() as u64, &raw mut count as u64, 0, 0];
    // SAFETY: the kernel writes at most `count` (= state.len()) words into
    // `state` and one into `count`, both ours.
    result(unsafe { libmach::trap::raw_trap(THREAD_GET_STATE, arguments) })?;
    Ok(count as usize)
}
