//! Arm semihosting, only to leave QEMU with a status (test runs).
//!
//! QEMU with `-semihosting` treats `hlt #0xf000` as a call to the host:
//! `SYS_EXIT_EXTENDED`'s sibling on AArch64, `SYS_EXIT` (0x18), takes a
//! pointer to `{reason, subcode}` and QEMU exits with the subcode. Without
//! `-semihosting` the instruction is undefined: the first attempt's
//! exception would report and try again, so a second attempt only halts.

use core::sync::atomic::{AtomicBool, Ordering};

const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: a normal exit, with the subcode as status.
const APPLICATION_EXIT: u64 = 0x20026;

static TRIED: AtomicBool = AtomicBool::new(false);

/// Leaves QEMU with `status`; returns only if semihosting is off.
pub fn exit(status: u32) {
    if TRIED.swap(true, Ordering::SeqCst) {
        return;
    }
    let block = [APPLICATION_EXIT, status as u64];
    // SAFETY: the semihosting call reads the two-word block, which lives on
    // this stack for the call; QEMU then exits and nothing returns.
    unsafe {
        core::arch::asm!("hlt #0xf000", in("x0") SYS_EXIT, in("x1") block.as_ptr(), options(nostack, readonly));
    }
}
