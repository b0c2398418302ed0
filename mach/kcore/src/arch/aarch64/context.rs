//! Threads as the CPU sees them: kernel stacks, saved kernel contexts, the
//! saved user registers, and the switch between threads.
//!
//! Every thread has its own kernel stack. When a thread enters the kernel
//! from EL0 its registers are saved as a [`TrapFrame`] at the very top of
//! that stack (SP_EL1 is the stack's top whenever the thread runs user
//! code), so for any thread not running user code
//! `KernelStack::inspect_user_registers` finds them there. The frame holds
//! the FP/SIMD registers too (`trap_entry.S` says why), so a switch saves
//! only the callee-saved registers and the stack pointer in the
//! [`ThreadContext`].
//!
//! TPIDR_EL0 (a thread's thread-local storage pointer, `thread_set_tls`)
//! is part of the context: user code may write it itself, so it is read
//! back on every switch and written when the next thread's differs.

use super::paging;
use crate::memory::{frame, Frame, PAGE_SIZE};

/// What `trap_entry.S` saves, lowest address first (`FRAME_SIZE` 832 there).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TrapFrame {
    /// x0..x30 (x29 the frame pointer, x30 the link register).
    pub x: [u64; 31],
    pub sp: u64,
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
    pub kind: u64,
    pub padding: u64,
    /// q0..q31, then FPCR and FPSR.
    pub fp: [u128; 32],
    pub fpcr: u64,
    pub fpsr: u64,
}

const _: () = assert!(size_of::<TrapFrame>() == 832);
const _: () = assert!(core::mem::offset_of!(TrapFrame, kind) == 288);
const _: () = assert!(core::mem::offset_of!(TrapFrame, fp) == 304);

/// `TrapFrame::kind` values (the `KIND_*` of `trap_entry.S`).
pub const KIND_EL1_SYNC: u64 = 0;
pub const KIND_EL1_IRQ: u64 = 1;
pub const KIND_EL0_SYNC: u64 = 2;
pub const KIND_EL0_IRQ: u64 = 3;
pub const KIND_UNEXPECTED: u64 = 4;
pub const KIND_STACK_OVERFLOW: u64 = 5;

/// ESR_EL1's exception class of `svc` from AArch64.
pub const EXCEPTION_CLASS_SVC: u64 = 0x15;

/// SPSR for user code: EL0t, AArch64, no interrupt masked.
const USER_SPSR: u64 = 0;
/// The condition flags (N, Z, C, V): all a user may set in its SPSR.
const USER_SPSR_ALLOWED: u64 = 0xf000_0000;

pub const KERNEL_STACK_PAGES: usize = 8;

unsafe extern "C" {
    fn new_thread_start();
    fn kernel_thread_start();
    fn switch_kernel_context(save: *mut u64, load: u64);
}

/// Lets user code read the cycle counter (benchmarks read it as
/// instructions under `-icount`) and starts it.
pub fn init() {
    // SAFETY: PMCR_EL0.E and PMCNTENSET_EL0.C start the cycle counter;
    // PMUSERENR_EL0.EN|CR lets EL0 read it (and nothing else of the PMU's
    // state it could change: EN opens the registers, but the counters only
    // measure). Timing is not secret here: x86_64 gives user code rdtsc.
    unsafe {
        core::arch::asm!(
            "mrs {scratch}, pmcr_el0",
            "orr {scratch}, {scratch}, #1",
            "msr pmcr_el0, {scratch}",
            "mov {scratch}, #(1 << 31)",
            "msr pmcntenset_el0, {scratch}",
            "mov {scratch}, #5",
            "msr pmuserenr_el0, {scratch}",
            "isb",
            scratch = out(reg) _,
            options(nostack)
        );
    }
}

/// A thread's kernel stack: physically contiguous frames used through the
/// direct map.
pub struct KernelStack {
    first: Frame,
    /// The stack is a user thread's (`ThreadContext::new_user` made it
    /// so): its top holds the thread's saved user registers whenever the
    /// thread is not running user code. A kernel thread's top is its live
    /// stack, which the register accessors below must never touch.
    user: bool,
}

impl KernelStack {
    pub fn new() -> Result<Self, frame::FrameError> {
        Ok(Self { first: frame::allocate_contiguous(KERNEL_STACK_PAGES, 1)?, user: false })
    }

    /// Runs `inspect` on the saved user registers of the thread this stack
    /// belongs to (exact when it is not running user code), in place;
    /// `None`, with nothing run, for a kernel thread's stack.
    pub fn inspect_user_registers<R>(&self, inspect: impl FnOnce(&TrapFrame) -> R) -> Option<R> {
        if !self.user {
            return None;
        }
        // SAFETY: a user thread's stack holds a `TrapFrame` at its top
        // (`new_user` wrote the first, every entry from user mode writes
        // it again); the address is inside the stack's frames and aligned
        // for `TrapFrame`, which is plain integers; `&self` keeps the stack
        // alive, and the kernel lock keeps anyone from changing the frame
        // while the reference lives (for `inspect` only).
        let frame = unsafe { &*(self.user_frame_address() as *const TrapFrame) };
        Some(inspect(frame))
    }

    /// Runs `change` on the saved user registers (see
    /// [`Self::inspect_user_registers`]) in place; `None`, with nothing run, for a
    /// kernel thread's stack. What `change` leaves must be safe to return
    /// to (`sanitize_user_registers`).
    pub fn change_user_registers<R>(&mut self, change: impl FnOnce(&mut TrapFrame) -> R) -> Option<R> {
        if !self.user {
            return None;
        }
        // SAFETY: as in `inspect_user_registers`; `&mut self` is the only handle on
        // the stack, and the frame region is the user thread's saved
        // registers, which no kernel code of that thread holds a reference
        // to while it does not run. The reference lives for `change` only.
        let frame = unsafe { &mut *(self.user_frame_address() as *mut TrapFrame) };
        Some(change(frame))
    }

    pub fn top(&self) -> u64 {
        (paging::direct_map_address(self.first.start()) + KERNEL_STACK_PAGES * PAGE_SIZE) as u64
    }

    fn user_frame_address(&self) -> u64 {
        self.top() - size_of::<TrapFrame>() as u64
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        frame::free_contiguous(self.first, KERNEL_STACK_PAGES).expect("kernel stack freed twice");
    }
}

/// What a switched-out thread leaves behind.
pub struct ThreadContext {
    saved_stack_pointer: u64,
    /// TPIDR_EL0: its thread-local storage pointer.
    tls: u64,
}

/// Where a new user thread starts.
#[derive(Clone, Copy, Debug)]
pub struct UserEntry {
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    pub argument: u64,
}

/// What `switch_kernel_context` pops: x19..x30, then d8..d15.
const SWITCH_FRAME_WORDS: usize = 20;

impl ThreadContext {
    /// The context of the code running now (the boot thread, which becomes
    /// the idle thread); filled in by its first switch.
    pub fn current_boot() -> Self {
        Self { saved_stack_pointer: 0, tls: 0 }
    }

    /// A kernel thread that runs `body` when first switched to.
    pub fn new_kernel(stack: &KernelStack, body: fn() -> !) -> Self {
        let mut switch_frame = [0u64; SWITCH_FRAME_WORDS];
        switch_frame[0] = body as *const () as u64; // x19
        switch_frame[11] = kernel_thread_start as *const () as u64; // x30
        let switch_address = stack.top() - 16 - size_of_val(&switch_frame) as u64;
        // SAFETY: the stack was just allocated for this thread; the write
        // stays inside it and is 16-aligned.
        unsafe { (switch_address as *mut [u64; SWITCH_FRAME_WORDS]).write(switch_frame) };
        Self { saved_stack_pointer: switch_address, tls: 0 }
    }

    /// A thread that will enter user mode at `entry` when first switched to.
    pub fn new_user(stack: &mut KernelStack, entry: UserEntry) -> Self {
        stack.user = true;
        let frame_address = stack.user_frame_address();
        let mut registers = [0u64; 31];
        registers[0] = entry.argument;
        let frame = TrapFrame {
            x: registers,
            sp: entry.stack_pointer,
            elr: entry.instruction_pointer,
            spsr: USER_SPSR,
            esr: EXCEPTION_CLASS_SVC << 26,
            far: 0,
            kind: KIND_EL0_SYNC,
            padding: 0,
            fp: [0; 32],
            fpcr: 0,
            fpsr: 0,
        };
        let mut switch_frame = [0u64; SWITCH_FRAME_WORDS];
        switch_frame[11] = new_thread_start as *const () as u64; // x30
        let switch_address = frame_address - size_of_val(&switch_frame) as u64;
        // SAFETY: the stack's frames were just allocated for this thread and
        // nothing else uses them; both writes stay inside the stack and are
        // 16-aligned (the frame is 52 quadwords below the page-aligned top).
        unsafe {
            (frame_address as *mut TrapFrame).write(frame);
            (switch_address as *mut [u64; SWITCH_FRAME_WORDS]).write(switch_frame);
        }
        Self { saved_stack_pointer: switch_address, tls: 0 }
    }

    /// Sets the thread's thread-local storage pointer; `running`: the thread
    /// is the one on the CPU, whose value takes effect at once. Refuses
    /// (changing nothing) a value outside the user half, as x86_64 does.
    pub fn set_tls(&mut self, value: u64, running: bool) -> bool {
        if value >= paging::USER_END {
            return false;
        }
        self.tls = value;
        if running {
            write_tls(value);
        }
        true
    }

    /// The thread's thread-local storage pointer (`running`: read from the
    /// CPU, where user code may have changed it).
    pub fn tls(&self, running: bool) -> u64 {
        if running {
            read_tls()
        } else {
            self.tls
        }
    }
}

fn read_tls() -> u64 {
    let value: u64;
    // SAFETY: reads TPIDR_EL0.
    unsafe { core::arch::asm!("mrs {}, tpidr_el0", out(reg) value, options(nomem, nostack)) };
    value
}

fn write_tls(value: u64) {
    // SAFETY: TPIDR_EL0 is user state only; the kernel does not use it.
    unsafe { core::arch::asm!("msr tpidr_el0, {}", in(reg) value, options(nomem, nostack)) };
}

/// True if the frame was saved by an `svc` (a trap), not a fault or an
/// interrupt.
fn is_trap(frame: &TrapFrame) -> bool {
    frame.kind == KIND_EL0_SYNC && frame.esr >> 26 == EXCEPTION_CLASS_SVC
}

/// Writes `value` as the return value of the trap a thread is in (its
/// saved `x0`). False, with nothing written, if its saved registers are not
/// a trap's or it is a kernel thread.
pub fn set_trap_result(stack: &mut KernelStack, value: u64) -> bool {
    stack
        .change_user_registers(|frame| {
            if !is_trap(frame) {
                return false;
            }
            frame.x[0] = value;
            true
        })
        .unwrap_or(false)
}

/// Switches from the running thread to `to`.
///
/// # Safety
/// `from` must be the context of the thread running now and `to` that of a
/// different, live thread; both must stay allocated until this call returns
/// in `from`'s thread. Interrupts must be off.
pub unsafe fn switch(from: *mut ThreadContext, to: *const ThreadContext) {
    // SAFETY: the caller guarantees both contexts are live and distinct.
    unsafe {
        let (from, to) = (&mut *from, &*to);
        from.tls = read_tls();
        if to.tls != from.tls {
            write_tls(to.tls);
        }
        switch_kernel_context(&mut from.saved_stack_pointer, to.saved_stack_pointer);
    }
}

/// The flavor and count `thread_get_state` / `thread_set_state` take here.
pub const THREAD_STATE_FLAVOR: u32 = mach_abi::ARM_THREAD_STATE64;
pub const THREAD_STATE_COUNT: u32 = mach_abi::ARM_THREAD_STATE64_COUNT;

/// The user registers as `ARM_THREAD_STATE64` words.
pub fn thread_state_words(frame: &TrapFrame) -> alloc::vec::Vec<u32> {
    let mut state = mach_abi::ArmThreadState64 {
        fp: frame.x[29],
        lr: frame.x[30],
        sp: frame.sp,
        pc: frame.elr,
        cpsr: frame.spsr as u32,
        ..Default::default()
    };
    state.x.copy_from_slice(&frame.x[..29]);
    state.to_words().to_vec()
}

/// Installs `words` (`ARM_THREAD_STATE64`) as the user registers, made safe
/// first: only the condition flags of `cpsr` are taken (EL0, AArch64,
/// interrupts on are forced); refuses (changing nothing) a malformed
/// state, a non-zero `pad`, or a `pc`/`sp` outside the user half.
pub fn set_thread_state_words(frame: &mut TrapFrame, words: &[u32]) -> bool {
    let Some(state) = mach_abi::ArmThreadState64::from_words(words) else { return false };
    if state.pad != 0 || state.pc >= paging::USER_END || state.sp >= paging::USER_END {
        return false;
    }
    frame.x[..29].copy_from_slice(&state.x);
    frame.x[29] = state.fp;
    frame.x[30] = state.lr;
    frame.sp = state.sp;
    frame.elr = state.pc;
    frame.spsr = (state.cpsr as u64 & USER_SPSR_ALLOWED) | USER_SPSR;
    true
}
