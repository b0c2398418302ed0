//! The signal frame minilibc's signal thread pushes on a thread's stack to
//! run a handler there (docs/personality.md, "Signals"): the records a
//! handler sees (`siginfo_t`, `ucontext_t` with glibc's x86_64 layout, as
//! `<signal.h>` and `<sys/ucontext.h>` declare them and
//! `crt/layout_checks.c` checks), where the frame goes (below the
//! interrupted stack's red zone, or on the alternate signal stack), and the
//! registers the thread resumes with to enter the handler. The entry stub
//! and the return trampoline that use this layout are assembly in the
//! platform layer (`platform/mach/signal_entry.rs`).
#![forbid(unsafe_code)]

use super::signals::{self, Information};
use mach_abi::X86ThreadState64;

/// `gregs` indices (`REG_*` of `<sys/ucontext.h>`).
pub mod register {
    pub const R8: usize = 0;
    pub const R9: usize = 1;
    pub const R10: usize = 2;
    pub const R11: usize = 3;
    pub const R12: usize = 4;
    pub const R13: usize = 5;
    pub const R14: usize = 6;
    pub const R15: usize = 7;
    pub const RDI: usize = 8;
    pub const RSI: usize = 9;
    pub const RBP: usize = 10;
    pub const RBX: usize = 11;
    pub const RDX: usize = 12;
    pub const RAX: usize = 13;
    pub const RCX: usize = 14;
    pub const RSP: usize = 15;
    pub const RIP: usize = 16;
    pub const EFL: usize = 17;
    pub const CSGSFS: usize = 18;
    pub const ERR: usize = 19;
    pub const TRAPNO: usize = 20;
    pub const OLDMASK: usize = 21;
    pub const CR2: usize = 22;
    pub const COUNT: usize = 23;
}

/// `siginfo_t` (128 bytes: Linux's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalInformation {
    pub signal: i32,
    pub error: i32,
    pub code: i32,
    pub padding: i32,
    /// The union: `si_pid` and `si_uid` (and `si_status` at word 2), or
    /// `si_addr` in words 0 and 1.
    pub fields: [u32; 28],
}

/// `stack_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackRecord {
    pub base: u64,
    pub flags: i32,
    pub padding: i32,
    pub size: u64,
}

/// `ss_flags`.
pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
/// `MINSIGSTKSZ`: sigaltstack refuses smaller stacks (ENOMEM).
pub const MINIMUM_SIGNAL_STACK: u64 = 2048;

/// `mcontext_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineContext {
    pub registers: [u64; register::COUNT],
    /// `fpregs`: where the interrupted floating-point state was saved (an
    /// `fxsave` image).
    pub floating_point: u64,
    pub reserved: [u64; 8],
}

/// `ucontext_t` (glibc's x86_64 layout, 968 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserContext {
    pub flags: u64,
    pub link: u64,
    pub stack: StackRecord,
    pub machine: MachineContext,
    /// `uc_sigmask`: minilibc's `sigset_t` is one word; glibc's is 16, kept
    /// for the layout.
    pub mask: u64,
    pub mask_rest: [u64; 15],
    pub floating_point_memory: [u8; 512],
    pub shadow_stack: [u64; 4],
}

/// What the signal thread writes on the stack, at a 64-byte boundary.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalFrame {
    /// The interrupted floating-point and SSE state (`fxsave`, by the entry
    /// stub on the thread itself: the signal thread cannot read it).
    pub floating_point: [u8; 512],
    pub context: UserContext,
    pub information: SignalInformation,
    /// The return trampoline builds its `iretq` frame (rip, cs, rflags,
    /// rsp, ss) here.
    pub return_frame: [u64; 5],
}

/// Offsets the assembly stubs use.
pub const FRAME_FLOATING_POINT: usize = core::mem::offset_of!(SignalFrame, floating_point);
pub const FRAME_CONTEXT: usize = core::mem::offset_of!(SignalFrame, context);
pub const FRAME_INFORMATION: usize = core::mem::offset_of!(SignalFrame, information);
pub const FRAME_RETURN: usize = core::mem::offset_of!(SignalFrame, return_frame);
/// Offset of `gregs[0]` in a `UserContext`.
pub const CONTEXT_REGISTERS: usize =
    core::mem::offset_of!(UserContext, machine) + core::mem::offset_of!(MachineContext, registers);
pub const CONTEXT_FLOATING_POINT: usize =
    core::mem::offset_of!(UserContext, machine) + core::mem::offset_of!(MachineContext, floating_point);
pub const CONTEXT_MASK: usize = core::mem::offset_of!(UserContext, mask);

/// The System V red zone below a stack pointer, which interrupted code may
/// be using.
pub const RED_ZONE: u64 = 128;

const RFLAGS_TRAP: u64 = 1 << 8;
const RFLAGS_DIRECTION: u64 = 1 << 10;

/// An alternate signal stack (sigaltstack).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlternateStack {
    pub base: u64,
    pub size: u64,
    pub enabled: bool,
}

impl AlternateStack {
    pub fn contains(&self, address: u64) -> bool {
        self.enabled && address > self.base && address - self.base <= self.size
    }

    /// The `stack_t` sigaltstack reports while the thread's stack pointer
    /// is `stack_pointer`.
    pub fn record(&self, stack_pointer: u64) -> StackRecord {
        let flags = if !self.enabled {
            SS_DISABLE
        } else if self.contains(stack_pointer) {
            SS_ONSTACK
        } else {
            0
        };
        StackRecord { base: self.base, flags, padding: 0, size: self.size }
    }
}

/// Where a frame for a handler with `flags` goes when the thread's stack
/// pointer is `stack_pointer`: below its red zone, or at the top of the
/// alternate stack (`SA_ONSTACK`, one is set up, the thread is not already
/// on it). Returns the frame's address and whether it is on the alternate
/// stack.
pub fn frame_address(stack_pointer: u64, alternate: &AlternateStack, flags: u64) -> (u64, bool) {
    let size = core::mem::size_of::<SignalFrame>() as u64;
    let use_alternate = flags & signals::SA_ONSTACK != 0 && alternate.enabled && !alternate.contains(stack_pointer);
    let top = if use_alternate { alternate.base + alternate.size } else { stack_pointer.wrapping_sub(RED_ZONE) };
    (top.wrapping_sub(size) & !63, use_alternate)
}

/// The `siginfo_t` of `information`: a child's pid, uid and status for
/// SIGCHLD, the faulting address for a fault, else the sender's pid and uid.
pub fn information_record(information: &Information) -> SignalInformation {
    let mut fields = [0u32; 28];
    let fault = matches!(
        information.signal,
        signals::SIGSEGV | signals::SIGBUS | signals::SIGILL | signals::SIGFPE | signals::SIGTRAP
    ) && information.code > 0;
    if fault {
        fields[0] = information.address as u32;
        fields[1] = (information.address >> 32) as u32;
    } else {
        fields[0] = information.pid as u32;
        fields[1] = information.uid;
        fields[2] = information.status as u32;
    }
    SignalInformation {
        signal: information.signal,
        error: information.error,
        code: information.code,
        padding: 0,
        fields,
    }
}

/// The `ucontext_t` of a thread interrupted with registers `state` and
/// signal mask `mask`; `floating_point` is where its FP state is saved.
pub fn context_of(state: &X86ThreadState64, mask: u64, stack: StackRecord, floating_point: u64) -> UserContext {
    let mut registers = [0u64; register::COUNT];
    for (index, value) in [
        (register::R8, state.r8),
        (register::R9, state.r9),
        (register::R10, state.r10),
        (register::R11, state.r11),
        (register::R12, state.r12),
        (register::R13, state.r13),
        (register::R14, state.r14),
        (register::R15, state.r15),
        (register::RDI, state.rdi),
        (register::RSI, state.rsi),
        (register::RBP, state.rbp),
        (register::RBX, state.rbx),
        (register::RDX, state.rdx),
        (register::RAX, state.rax),
        (register::RCX, state.rcx),
        (register::RSP, state.rsp),
        (register::RIP, state.rip),
        (register::EFL, state.rflags),
        (register::CSGSFS, state.cs & 0xffff),
        (register::OLDMASK, mask),
    ] {
        registers[index] = value;
    }
    UserContext {
        flags: 0,
        link: 0,
        stack,
        machine: MachineContext { registers, floating_point, reserved: [0; 8] },
        mask,
        mask_rest: [0; 15],
        floating_point_memory: [0; 512],
        shadow_stack: [0; 4],
    }
}

/// The registers that enter the handler through the entry stub at
/// `entry`, with the frame at `frame`: `rdi`, `rsi`, `rdx` are the
/// handler's arguments (signal, `&siginfo`, `&ucontext`); the stub finds the
/// handler in `r12`, the context in `r13` and the FP save area in `r14`
/// (registers the handler preserves); the direction and trap flags are
/// cleared, as the ABI wants at a call.
pub fn entry_state(
    interrupted: &X86ThreadState64,
    frame: u64,
    entry: u64,
    handler: u64,
    signal: i32,
) -> X86ThreadState64 {
    let context = frame + FRAME_CONTEXT as u64;
    X86ThreadState64 {
        rip: entry,
        rsp: frame,
        rdi: signal as u64,
        rsi: frame + FRAME_INFORMATION as u64,
        rdx: context,
        r12: handler,
        r13: context,
        r14: frame + FRAME_FLOATING_POINT as u64,
        rflags: interrupted.rflags & !(RFLAGS_DIRECTION | RFLAGS_TRAP),
        ..*interrupted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn the_records_have_glibcs_layout() {
        assert_eq!(size_of::<SignalInformation>(), 128);
        assert_eq!(size_of::<StackRecord>(), 24);
        assert_eq!(size_of::<MachineContext>(), 256);
        assert_eq!(size_of::<UserContext>(), 968);
        assert_eq!(offset_of!(UserContext, stack), 16);
        assert_eq!(offset_of!(UserContext, machine), 40);
        assert_eq!(CONTEXT_MASK, 296);
        assert_eq!(offset_of!(UserContext, floating_point_memory), 424);
        assert_eq!(CONTEXT_REGISTERS, 40);
        assert_eq!(CONTEXT_FLOATING_POINT, 40 + 23 * 8);
        assert_eq!(FRAME_FLOATING_POINT % 16, 0, "fxsave needs 16-byte alignment");
        assert_eq!(size_of::<SignalFrame>() % 64, 0);
    }

    #[test]
    fn a_frame_skips_the_red_zone_and_is_aligned() {
        let none = AlternateStack::default();
        let (frame, alternate) = frame_address(0x7fff_1234, &none, signals::SA_ONSTACK);
        assert!(!alternate);
        assert_eq!(frame % 64, 0);
        assert!(frame + size_of::<SignalFrame>() as u64 <= 0x7fff_1234 - RED_ZONE);
        assert!(frame + size_of::<SignalFrame>() as u64 + 64 > 0x7fff_1234 - RED_ZONE);
    }

    #[test]
    fn sa_onstack_uses_the_alternate_stack_unless_already_on_it() {
        let alternate = AlternateStack { base: 0x10000, size: 0x4000, enabled: true };
        let (frame, on) = frame_address(0x7fff_0000, &alternate, signals::SA_ONSTACK);
        assert!(on);
        assert!(frame >= 0x10000 && frame + size_of::<SignalFrame>() as u64 <= 0x14000);
        let (frame, on) = frame_address(0x7fff_0000, &alternate, 0);
        assert!(!on && frame > 0x7000_0000, "without SA_ONSTACK the thread's stack");
        let (nested, on) = frame_address(0x12000, &alternate, signals::SA_ONSTACK);
        assert!(!on && nested < 0x12000 - RED_ZONE, "a nested signal stays below on the alternate stack");
        assert_eq!(alternate.record(0x12000).flags, SS_ONSTACK);
        assert_eq!(alternate.record(0x7fff_0000).flags, 0);
        assert_eq!(AlternateStack::default().record(0).flags, SS_DISABLE);
    }

    #[test]
    fn siginfo_carries_the_child_or_the_faulting_address() {
        let child =
            Information { signal: signals::SIGCHLD, code: 1, pid: 42, uid: 1000, status: 3, ..Default::default() };
        let record = information_record(&child);
        assert_eq!(
            (record.signal, record.code, record.fields[0], record.fields[1], record.fields[2]),
            (17, 1, 42, 1000, 3)
        );
        let fault = Information { signal: signals::SIGSEGV, code: 1, address: 0xdead_beef_0000, ..Default::default() };
        let record = information_record(&fault);
        assert_eq!(u64::from(record.fields[0]) | u64::from(record.fields[1]) << 32, 0xdead_beef_0000);
        let sent = Information { signal: signals::SIGSEGV, code: signals::SI_USER, pid: 9, ..Default::default() };
        assert_eq!(information_record(&sent).fields[0], 9, "kill(SIGSEGV) names the sender");
    }

    #[test]
    fn the_handler_is_entered_with_its_arguments_and_the_interrupted_state_kept() {
        let interrupted = X86ThreadState64 {
            rip: 0x401234,
            rsp: 0x7fff_8000,
            rax: 0x1000_4005,
            rbx: 5,
            rflags: 0x202 | RFLAGS_DIRECTION,
            cs: 0x2b,
            ..Default::default()
        };
        let context = context_of(&interrupted, 0b1010, StackRecord::default(), 0x5000);
        assert_eq!(context.machine.registers[register::RIP], 0x401234);
        assert_eq!(context.machine.registers[register::RAX], 0x1000_4005);
        assert_eq!(context.machine.registers[register::EFL], 0x202 | RFLAGS_DIRECTION);
        assert_eq!((context.mask, context.machine.floating_point), (0b1010, 0x5000));
        let entry = entry_state(&interrupted, 0x7fff_0000, 0x402000, 0x403000, 10);
        assert_eq!((entry.rip, entry.rsp, entry.rdi, entry.r12), (0x402000, 0x7fff_0000, 10, 0x403000));
        assert_eq!(entry.rsi, 0x7fff_0000 + FRAME_INFORMATION as u64);
        assert_eq!(entry.rdx, entry.r13);
        assert_eq!(entry.rflags, 0x202, "direction flag cleared for the handler");
        assert_eq!((entry.cs, entry.rbx), (0x2b, 5));
    }
}
