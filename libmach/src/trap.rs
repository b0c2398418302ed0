//! Traps into the kernel.
//!
//! x86_64: `syscall` with the trap number in RAX and up to six arguments in
//! RDI, RSI, RDX, R10, R8, R9; the kernel's answer comes back in RAX. RCX and
//! R11 are clobbered by the instruction itself.

use mach_abi::{KernReturn, Trap};

/// Enters the kernel with `number` and `arguments`, returning RAX.
///
/// # Safety
/// Traps that write to memory write where the arguments say: the caller must
/// pass addresses it owns and may have overwritten (or deliberately bad
/// ones, which the kernel refuses with an error without touching them).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn raw_trap(number: u64, arguments: [u64; 6]) -> u64 {
    let result: u64;
    // SAFETY: `syscall` transfers to the kernel, which preserves every
    // register but RAX (result), RCX and R11; memory effects are the
    // caller's contract above.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => result,
            in("rdi") arguments[0],
            in("rsi") arguments[1],
            in("rdx") arguments[2],
            in("r10") arguments[3],
            in("r8") arguments[4],
            in("r9") arguments[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack)
        );
    }
    result
}

fn to_result(value: u64) -> Result<(), KernReturn> {
    match u32::try_from(value).ok().and_then(KernReturn::from_u32) {
        Some(KernReturn::Success) => Ok(()),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

/// Traps with arguments that carry no pointers the kernel writes through.
fn trap(number: Trap, arguments: [u64; 6]) -> Result<(), KernReturn> {
    // SAFETY: every caller passes only values, or pointers the kernel only
    // reads (checked by the kernel), so the trap cannot write our memory.
    to_result(unsafe { raw_trap(number as u64, arguments) })
}

/// Writes `text` to the kernel console (bring-up and tests).
pub fn debug_print(text: &str) -> Result<(), KernReturn> {
    trap(Trap::DebugPrint, [text.as_ptr() as u64, text.len() as u64, 0, 0, 0, 0])
}

/// Gives the processor to another thread of the same or higher priority.
pub fn thread_yield() -> Result<(), KernReturn> {
    trap(Trap::ThreadSwitch, [0, mach_abi::SWITCH_OPTION_NONE as u64, 0, 0, 0, 0])
}

/// Sleeps for at least `milliseconds`.
pub fn thread_sleep(milliseconds: u64) -> Result<(), KernReturn> {
    trap(Trap::ThreadSwitch, [0, mach_abi::SWITCH_OPTION_WAIT as u64, milliseconds, 0, 0, 0])
}

/// Nanoseconds since the kernel started.
pub fn clock_get_time() -> Result<u64, KernReturn> {
    let mut nanoseconds = 0u64;
    // SAFETY: the kernel writes 8 bytes at the address of `nanoseconds`,
    // which we own and may overwrite.
    to_result(unsafe { raw_trap(Trap::ClockGetTime as u64, [&raw mut nanoseconds as u64, 0, 0, 0, 0, 0]) })?;
    Ok(nanoseconds)
}
