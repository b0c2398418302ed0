//! Arm semihosting, in test runs and where the command line says
//! `semihosting=on` (`scripts/run --arch aarch64` gives it, with QEMU's
//! `-semihosting-config`): to leave QEMU with a status, and as the debug
//! console (`console::write_debug_console`).
//!
//! QEMU with `-semihosting` treats `hlt #0xf000` as a call to the host:
//! `SYS_EXIT_EXTENDED`'s sibling on AArch64, `SYS_EXIT` (0x18), takes a
//! pointer to `{reason, subcode}` and QEMU exits with the subcode. Without
//! `-semihosting` the instruction is undefined: the first attempt's
//! exception would report and try again, so a second attempt only halts.

use core::sync::atomic::{AtomicBool, Ordering};

const SYS_EXIT: u64 = 0x18;
/// Writes a NUL-terminated string to the debug console.
const SYS_WRITE0: u64 = 0x04;
/// `ADP_Stopped_ApplicationExit`: a normal exit, with the subcode as status.
const APPLICATION_EXIT: u64 = 0x20026;

static TRIED: AtomicBool = AtomicBool::new(false);

/// Whether the host gives semihosting: always in test kernels; in normal
/// ones once the command line said so (a normal kernel may boot without
/// it, where the call would be an undefined instruction).
static ENABLED: AtomicBool = AtomicBool::new(cfg!(feature = "ktest"));

/// Whether semihosting calls may be made.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Takes the command line's word: `semihosting=on` turns it on.
pub fn configure(command_line: &str) {
    if crate::command_line::option(command_line, "semihosting") == Some("on") {
        ENABLED.store(true, Ordering::Relaxed);
    }
}

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

/// Writes `text` to the host's semihosting console, in pieces of up to 255
/// bytes (SYS_WRITE0 stops at a NUL: a NUL in `text` is left out).
pub fn write(text: &[u8]) {
    let mut buffer = [0u8; 256];
    let mut length = 0;
    let flush = |buffer: &mut [u8; 256], length: &mut usize| {
        if *length == 0 {
            return;
        }
        buffer[*length] = 0;
        // SAFETY: the semihosting call reads the NUL-terminated string in
        // `buffer`, which lives on this stack for the call; it writes nothing
        // here and returns.
        unsafe {
            core::arch::asm!("hlt #0xf000", inout("x0") SYS_WRITE0 => _, in("x1") buffer.as_ptr(), options(nostack, readonly));
        }
        *length = 0;
    };
    for &byte in text {
        if byte == 0 {
            continue;
        }
        buffer[length] = byte;
        length += 1;
        if length == buffer.len() - 1 {
            flush(&mut buffer, &mut length);
        }
    }
    flush(&mut buffer, &mut length);
}
