//! The signal frame on aarch64 (the x86_64 one is [`super::frame`], whose
//! `siginfo_t`, `stack_t` and alternate stack this shares): `ucontext_t`
//! with glibc's aarch64 layout (`<sys/ucontext.h>`), the FP/SIMD state in
//! its reserved area as Linux's `fpsimd_context` record, where the frame
//! goes, the registers that enter the handler, and the registers the
//! thread resumes with from a context when the handler returns.
//!
//! aarch64 user code cannot load every register and branch (a branch needs
//! a register), so the return goes through the signal thread: the entry
//! stub restores the FP/SIMD state, sends `signal_thread.restore` and
//! waits on a port nobody sends to; the signal thread sets the main
//! thread's registers from the context ([`resume_state`]).
#![forbid(unsafe_code)]

use super::frame::{SignalInformation, StackRecord};
use mach_abi::thread_state::ArmThreadState64;

/// `fpsimd_context`'s magic and size (Linux's `FPSIMD_MAGIC`).
pub const FPSIMD_MAGIC: u32 = 0x4650_8001;
pub const FPSIMD_SIZE: u32 = 528;

/// `mcontext_t`: the general registers, sp, pc, pstate, and 4096 bytes
/// of records (the FP/SIMD state first).
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineContext {
    pub fault_address: u64,
    /// x0..x30 (x29 the frame pointer, x30 the link register).
    pub registers: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
    pub padding: u64,
    pub reserved: [u8; 4096],
}

/// `ucontext_t` (glibc's aarch64 layout, 4560 bytes).
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserContext {
    pub flags: u64,
    pub link: u64,
    pub stack: StackRecord,
    /// `uc_sigmask`: minilibc's `sigset_t` is one word; glibc's is 16.
    pub mask: u64,
    pub mask_rest: [u64; 15],
    pub padding: u64,
    pub machine: MachineContext,
}

/// What the signal thread writes on the stack, at a 64-byte boundary.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalFrame {
    pub context: UserContext,
    pub information: SignalInformation,
    /// The return path's `mach_msg` arguments (x0..x5), then its message
    /// (written by `handler_returned` on the thread itself).
    pub return_arguments: [u64; 6],
    pub return_message: [u64; 8],
}

/// Offsets the assembly stubs use.
pub const FRAME_CONTEXT: usize = core::mem::offset_of!(SignalFrame, context);
pub const FRAME_INFORMATION: usize = core::mem::offset_of!(SignalFrame, information);
/// The `fpsimd_context` record: magic and size, fpsr at +8, fpcr at +12,
/// v0..v31 from +16.
pub const FRAME_FLOATING_POINT: usize = FRAME_CONTEXT + CONTEXT_FLOATING_POINT;
pub const CONTEXT_FLOATING_POINT: usize =
    core::mem::offset_of!(UserContext, machine) + core::mem::offset_of!(MachineContext, reserved);
pub const CONTEXT_MASK: usize = core::mem::offset_of!(UserContext, mask);
pub const CONTEXT_RETURN_ARGUMENTS: usize =
    core::mem::offset_of!(SignalFrame, return_arguments) - core::mem::offset_of!(SignalFrame, context);

/// aarch64 has no red zone: the frame goes right below the stack pointer.
pub const RED_ZONE: u64 = 0;

/// The condition flags (N, Z, C, V) of pstate: all a thread state keeps.
const CONDITION_FLAGS: u64 = 0xf000_0000;

/// Where a frame for a handler with `flags` goes (as on x86_64, without
/// the red zone).
pub fn frame_address(stack_pointer: u64, alternate: &super::frame::AlternateStack, flags: u64) -> (u64, bool) {
    let size = core::mem::size_of::<SignalFrame>() as u64;
    let use_alternate =
        flags & super::signals::SA_ONSTACK != 0 && alternate.enabled && !alternate.contains(stack_pointer);
    let top = if use_alternate { alternate.base + alternate.size } else { stack_pointer.wrapping_sub(RED_ZONE) };
    (top.wrapping_sub(size) & !63, use_alternate)
}

/// The `ucontext_t` of a thread interrupted with registers `state` and
/// signal mask `mask`; its FP/SIMD record's header is written (the entry
/// stub fills the registers: only the thread itself can read them).
pub fn context_of(state: &ArmThreadState64, mask: u64, stack: StackRecord) -> UserContext {
    let mut registers = [0u64; 31];
    registers[..29].copy_from_slice(&state.x);
    registers[29] = state.fp;
    registers[30] = state.lr;
    let mut reserved = [0u8; 4096];
    reserved[..4].copy_from_slice(&FPSIMD_MAGIC.to_le_bytes());
    reserved[4..8].copy_from_slice(&FPSIMD_SIZE.to_le_bytes());
    UserContext {
        flags: 0,
        link: 0,
        stack,
        mask,
        mask_rest: [0; 15],
        padding: 0,
        machine: MachineContext {
            fault_address: 0,
            registers,
            sp: state.sp,
            pc: state.pc,
            pstate: u64::from(state.cpsr) & CONDITION_FLAGS,
            padding: 0,
            reserved,
        },
    }
}

/// The registers that enter the handler through the entry stub at
/// `entry`, with the frame at `frame`: x0, x1, x2 the handler's arguments
/// (signal, `&siginfo`, `&ucontext`); the stub finds the handler in x19,
/// the context in x20 and the FP/SIMD record in x21 (registers the handler
/// preserves); the link register 0 (the stub never returns).
pub fn entry_state(
    interrupted: &ArmThreadState64,
    frame: u64,
    entry: u64,
    handler: u64,
    signal: i32,
) -> ArmThreadState64 {
    let context = frame + FRAME_CONTEXT as u64;
    let mut state = ArmThreadState64 { pc: entry, sp: frame, lr: 0, ..*interrupted };
    state.x[0] = signal as u64;
    state.x[1] = frame + FRAME_INFORMATION as u64;
    state.x[2] = context;
    state.x[19] = handler;
    state.x[20] = context;
    state.x[21] = frame + FRAME_FLOATING_POINT as u64;
    state
}

/// The registers a thread resumes with from `context` when its handler
/// returned (a handler may have changed them); only the condition flags
/// of pstate count.
pub fn resume_state(context: &UserContext) -> ArmThreadState64 {
    let machine = &context.machine;
    let mut state = ArmThreadState64 {
        fp: machine.registers[29],
        lr: machine.registers[30],
        sp: machine.sp,
        pc: machine.pc,
        cpsr: (machine.pstate & CONDITION_FLAGS) as u32,
        ..ArmThreadState64::default()
    };
    state.x.copy_from_slice(&machine.registers[..29]);
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mach::frame::AlternateStack;
    use core::mem::{offset_of, size_of};

    #[test]
    fn the_records_have_glibcs_aarch64_layout() {
        assert_eq!(size_of::<MachineContext>(), 4384);
        assert_eq!(offset_of!(MachineContext, registers), 8);
        assert_eq!(offset_of!(MachineContext, sp), 256);
        assert_eq!(offset_of!(MachineContext, pc), 264);
        assert_eq!(offset_of!(MachineContext, pstate), 272);
        assert_eq!(offset_of!(MachineContext, reserved), 288);
        assert_eq!(size_of::<UserContext>(), 4560);
        assert_eq!(offset_of!(UserContext, stack), 16);
        assert_eq!(CONTEXT_MASK, 40);
        assert_eq!(offset_of!(UserContext, machine), 176);
        assert_eq!(FRAME_FLOATING_POINT % 16, 0, "q registers stored in pairs need 16-byte alignment");
        assert_eq!(size_of::<SignalFrame>() % 64, 0);
        assert_eq!(FPSIMD_SIZE as usize, 16 + 32 * 16);
    }

    #[test]
    fn a_frame_is_below_the_stack_pointer_and_aligned() {
        let (frame, alternate) = frame_address(0x7fff_1234, &AlternateStack::default(), 0);
        assert!(!alternate);
        assert_eq!(frame % 64, 0);
        assert!(frame + size_of::<SignalFrame>() as u64 <= 0x7fff_1234);
        assert!(frame + size_of::<SignalFrame>() as u64 + 64 > 0x7fff_1234);
        let stack = AlternateStack { base: 0x10000, size: 0x4000, enabled: true };
        let (frame, on) = frame_address(0x7fff_0000, &stack, super::super::signals::SA_ONSTACK);
        assert!(on && frame >= 0x10000 && frame + size_of::<SignalFrame>() as u64 <= 0x14000);
    }

    #[test]
    fn the_handler_is_entered_with_its_arguments_and_the_context_gives_the_state_back() {
        let mut interrupted = ArmThreadState64 {
            pc: 0x401234,
            sp: 0x7fff_8000,
            fp: 0x7fff_8010,
            lr: 0x401000,
            cpsr: 0x6000_0000,
            ..Default::default()
        };
        for (index, register) in interrupted.x.iter_mut().enumerate() {
            *register = 100 + index as u64;
        }
        let context = context_of(&interrupted, 0b1010, StackRecord::default());
        assert_eq!(
            (context.machine.pc, context.machine.sp, context.machine.registers[30]),
            (0x401234, 0x7fff_8000, 0x401000)
        );
        assert_eq!(context.machine.pstate, 0x6000_0000);
        assert_eq!(&context.machine.reserved[..8], &[0x01, 0x80, 0x50, 0x46, 0x10, 0x02, 0, 0]);
        assert_eq!(context.mask, 0b1010);
        assert_eq!(resume_state(&context), interrupted, "the context gives back every register");
        let entry = entry_state(&interrupted, 0x7fff_0000, 0x402000, 0x403000, 10);
        assert_eq!((entry.pc, entry.sp, entry.x[0], entry.x[19], entry.lr), (0x402000, 0x7fff_0000, 10, 0x403000, 0));
        assert_eq!(entry.x[1], 0x7fff_0000 + FRAME_INFORMATION as u64);
        assert_eq!(entry.x[2], entry.x[20]);
        assert_eq!(entry.x[21], 0x7fff_0000 + FRAME_FLOATING_POINT as u64);
        assert_eq!((entry.x[3], entry.x[28], entry.cpsr), (103, 128, 0x6000_0000), "the rest as interrupted");
        // A handler's change to the context is what the thread resumes with.
        let mut changed = context;
        changed.machine.pc = 0x405000;
        changed.machine.pstate = 0xffff_ffff;
        let resumed = resume_state(&changed);
        assert_eq!((resumed.pc, resumed.cpsr), (0x405000, 0xf000_0000), "only the condition flags of pstate");
    }
}
