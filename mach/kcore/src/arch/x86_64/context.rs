//! Threads as the CPU sees them: kernel stacks, saved kernel contexts, the
//! saved user registers, FPU/SSE state, and the switch between threads.
//!
//! Every thread has its own kernel stack. When a thread enters the kernel
//! from user mode (trap, interrupt or `syscall`), its user registers are
//! saved as a [`TrapFrame`] at the very top of that stack; so for any thread
//! not running user code, `KernelStack::inspect_user_registers` finds them there
//! (a kernel thread's stack has none, and it knows). A thread that is
//! switched away also leaves its callee-saved registers on its stack and the
//! stack pointer in its [`ThreadContext`].
//!
//! FPU/SSE state is saved eagerly (`fxsave64`/`fxrstor64` on every switch):
//! 512 bytes, a few hundred cycles, and no device-not-available trap to get
//! right. Lazy switching can come later if measurements ask for it.
//!
//! The FS base (a thread's thread-local storage pointer, `thread_set_tls`)
//! is part of the context too: read back from the CPU on every switch
//! (user code can change it, loading a segment selector into FS) and
//! written only when the next thread's differs. New threads start at 0.

use super::idt::TrapFrame;
use super::paging;
use crate::memory::{frame, Frame, PAGE_SIZE};
use alloc::boxed::Box;
use core::cell::UnsafeCell;
use x86_64::registers::model_specific::{Efer, EferFlags, FsBase, GsBase, KernelGsBase, LStar, Msr, SFMask};
use x86_64::registers::rflags::RFlags;
use x86_64::VirtAddr;

/// The vector number `syscall_entry` stores in its frame.
pub const SYSCALL_VECTOR: u64 = 0x100;
const USER_CODE_SELECTOR: u64 = 0x23;
const USER_DATA_SELECTOR: u64 = 0x1b;
/// Interrupts on; nothing else a user may set but the arithmetic flags,
/// direction and the trap flag for debuggers.
const USER_FLAGS_ALLOWED: u64 = 0x0000_0cd5 | (1 << 8);
const USER_FLAGS_FORCED: u64 = 1 << 9 | 1 << 1;

pub const KERNEL_STACK_PAGES: usize = 4;

/// What `syscall_entry` finds through GS: the kernel stack of the running
/// thread and a slot for the user stack pointer.
#[repr(C)]
struct PerCpu {
    kernel_stack_top: u64,
    user_stack_scratch: u64,
}

struct PerCpuCell(UnsafeCell<PerCpu>);
// SAFETY: one CPU; the scheduler writes the area with interrupts off, and
// `syscall_entry` reads it on entry, never concurrently.
unsafe impl Sync for PerCpuCell {}

static PER_CPU: PerCpuCell = PerCpuCell(UnsafeCell::new(PerCpu { kernel_stack_top: 0, user_stack_scratch: 0 }));

unsafe extern "C" {
    fn syscall_entry();
    fn new_thread_start();
    fn kernel_thread_start();
    fn switch_kernel_context(save: *mut u64, load: u64);
}

/// Turns on `syscall`/`sysret`, SSE for user code, and the per-CPU area.
pub fn init() {
    const STAR: u32 = 0xc000_0081;
    // SAFETY: these MSR writes configure the `syscall` instruction to enter
    // `syscall_entry` on the kernel code segment with interrupts, traps and
    // alignment checks off; the selectors match the GDT's fixed order.
    unsafe {
        Efer::update(|flags| flags.insert(EferFlags::SYSTEM_CALL_EXTENSIONS));
        Msr::new(STAR).write((0x10u64 << 48) | (0x08u64 << 32));
        LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
        SFMask::write(
            RFlags::INTERRUPT_FLAG
                | RFlags::TRAP_FLAG
                | RFlags::DIRECTION_FLAG
                | RFlags::ALIGNMENT_CHECK
                | RFlags::NESTED_TASK,
        );
        GsBase::write(VirtAddr::from_ptr(PER_CPU.0.get()));
        KernelGsBase::write(VirtAddr::new(0));
    }
    // SSE for user code (the kernel itself is built without it).
    // SAFETY: clearing EM and setting MP/OSFXSR/OSXMMEXCPT enables SSE and
    // fxsave; the kernel never uses SSE registers, so nothing changes for it.
    unsafe {
        use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
        Cr0::update(|flags| {
            flags.remove(Cr0Flags::EMULATE_COPROCESSOR);
            flags.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|flags| flags.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
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

#[repr(C, align(16))]
struct FpuArea([u8; 512]);

impl FpuArea {
    /// The state `fninit` plus the default MXCSR would give: all exceptions
    /// masked, round to nearest.
    fn initial() -> Box<Self> {
        let mut area = Box::new(FpuArea([0; 512]));
        area.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        area.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        area
    }
}

/// What a switched-out thread leaves behind.
pub struct ThreadContext {
    saved_stack_pointer: u64,
    fpu: Box<FpuArea>,
    kernel_stack_top: u64,
    /// The FS base: its thread-local storage.
    fs_base: u64,
}

/// Where a new user thread starts.
#[derive(Clone, Copy, Debug)]
pub struct UserEntry {
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    pub argument: u64,
}

impl ThreadContext {
    /// The context of the code running now (the boot thread, which becomes
    /// the idle thread); filled in by its first switch.
    pub fn current_boot() -> Self {
        Self { saved_stack_pointer: 0, fpu: FpuArea::initial(), kernel_stack_top: 0, fs_base: 0 }
    }

    /// A kernel thread that runs `body` when first switched to.
    pub fn new_kernel(stack: &KernelStack, body: fn() -> !) -> Self {
        // What switch_kernel_context pops: r15 = body, five more registers,
        // then the return address. After the `ret` the stack pointer is
        // 16-byte aligned, as `call` in the trampoline expects.
        let switch_frame = [body as *const () as u64, 0, 0, 0, 0, 0, kernel_thread_start as *const () as u64];
        let switch_address = stack.top() - 16 - size_of_val(&switch_frame) as u64;
        // SAFETY: the stack was just allocated for this thread; the write
        // stays inside it and is 8-aligned.
        unsafe { (switch_address as *mut [u64; 7]).write(switch_frame) };
        Self { saved_stack_pointer: switch_address, fpu: FpuArea::initial(), kernel_stack_top: stack.top(), fs_base: 0 }
    }

    /// A thread that will enter user mode at `entry` when first switched to.
    pub fn new_user(stack: &mut KernelStack, entry: UserEntry) -> Self {
        stack.user = true;
        let frame_address = stack.user_frame_address();
        let frame = TrapFrame {
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            r11: 0,
            r10: 0,
            r9: 0,
            r8: 0,
            rbp: 0,
            rdi: entry.argument,
            rsi: 0,
            rdx: 0,
            rcx: 0,
            rbx: 0,
            rax: 0,
            vector: SYSCALL_VECTOR,
            error_code: 0,
            rip: entry.instruction_pointer,
            cs: USER_CODE_SELECTOR,
            rflags: USER_FLAGS_FORCED,
            rsp: entry.stack_pointer,
            ss: USER_DATA_SELECTOR,
        };
        // Below the frame: what switch_kernel_context pops (six callee-saved
        // registers) and the address it returns to.
        let switch_frame = [0u64, 0, 0, 0, 0, 0, new_thread_start as *const () as u64];
        let switch_address = frame_address - size_of_val(&switch_frame) as u64;
        // SAFETY: the stack's frames were just allocated for this thread and
        // nothing else uses them; both writes stay inside the stack and are
        // 8-aligned (the top is page aligned, TrapFrame is 22 words).
        unsafe {
            (frame_address as *mut TrapFrame).write(frame);
            (switch_address as *mut [u64; 7]).write(switch_frame);
        }
        Self { saved_stack_pointer: switch_address, fpu: FpuArea::initial(), kernel_stack_top: stack.top(), fs_base: 0 }
    }

    /// Sets the thread's thread-local storage base; `running`: the thread
    /// is the one on the CPU, whose base takes effect at once. Refuses
    /// (changing nothing) a base outside the user half: FS base must be
    /// canonical, and user TLS has no business in the kernel half.
    pub fn set_tls(&mut self, value: u64, running: bool) -> bool {
        if value >= paging::USER_END {
            return false;
        }
        self.fs_base = value;
        if running {
            FsBase::write(VirtAddr::new(value));
        }
        true
    }

    /// The thread's thread-local storage base (`running`: read from the CPU,
    /// where user code may have changed it).
    pub fn tls(&self, running: bool) -> u64 {
        if running {
            FsBase::read().as_u64()
        } else {
            self.fs_base
        }
    }
}

/// Writes `value` as the return value of the trap a thread is in (its
/// saved `rax`), for a trap whose result is decided while the thread is
/// not running (an abort). False, with nothing written, if the thread's
/// saved registers are not a trap's (it is in a fault, not a trap) or it
/// is a kernel thread.
pub fn set_trap_result(stack: &mut KernelStack, value: u64) -> bool {
    stack
        .change_user_registers(|frame| {
            if frame.vector != SYSCALL_VECTOR {
                return false;
            }
            frame.rax = value;
            true
        })
        .unwrap_or(false)
}

/// Makes a user-supplied register set safe to return to: user selectors,
/// only harmless flags (interrupts always on), a user-half instruction and
/// stack pointer (`iretq` to a non-canonical address would fault in the
/// kernel).
pub fn sanitize_user_registers(frame: &mut TrapFrame) -> bool {
    frame.cs = USER_CODE_SELECTOR;
    frame.ss = USER_DATA_SELECTOR;
    frame.rflags = (frame.rflags & USER_FLAGS_ALLOWED) | USER_FLAGS_FORCED;
    frame.rip < paging::USER_END && frame.rsp < paging::USER_END
}

/// Switches from the running thread to `to`.
///
/// # Safety
/// `from` must be the context of the thread running now and `to` that of a
/// different, live thread; both must stay allocated until this call returns
/// in `from`'s thread (the scheduler frees threads only when they are not
/// running). Interrupts must be off.
pub unsafe fn switch(from: *mut ThreadContext, to: *const ThreadContext) {
    // SAFETY: the caller guarantees both contexts are live and distinct.
    unsafe {
        let (from, to) = (&mut *from, &*to);
        if to.kernel_stack_top != 0 {
            set_kernel_stack(to.kernel_stack_top);
        }
        core::arch::asm!("fxsave64 [{}]", in(reg) from.fpu.0.as_mut_ptr(), options(nostack));
        core::arch::asm!("fxrstor64 [{}]", in(reg) to.fpu.0.as_ptr(), options(nostack));
        from.fs_base = FsBase::read().as_u64();
        if to.fs_base != from.fs_base {
            FsBase::write(VirtAddr::new_truncate(to.fs_base));
        }
        switch_kernel_context(&mut from.saved_stack_pointer, to.saved_stack_pointer);
    }
}

fn set_kernel_stack(top: u64) {
    super::gdt::set_kernel_stack(top);
    // SAFETY: one CPU, interrupts off: `syscall_entry` cannot run now.
    unsafe { (*PER_CPU.0.get()).kernel_stack_top = top };
}

/// The flavor and count `thread_get_state` / `thread_set_state` take here.
pub const THREAD_STATE_FLAVOR: u32 = mach_abi::X86_THREAD_STATE64;
pub const THREAD_STATE_COUNT: u32 = mach_abi::X86_THREAD_STATE64_COUNT;

/// The user registers as `x86_THREAD_STATE64` words.
pub fn thread_state_words(frame: &TrapFrame) -> alloc::vec::Vec<u32> {
    thread_state(frame).to_words().to_vec()
}

/// Installs `words` (`x86_THREAD_STATE64`) as the user registers, made
/// safe first; refuses (changing nothing) a malformed state or a user
/// instruction or stack pointer outside the user half.
pub fn set_thread_state_words(frame: &mut TrapFrame, words: &[u32]) -> bool {
    match mach_abi::X86ThreadState64::from_words(words) {
        Some(state) => set_thread_state(frame, &state),
        None => false,
    }
}

/// The user registers as the `x86_THREAD_STATE64` flavor.
pub fn thread_state(frame: &TrapFrame) -> mach_abi::X86ThreadState64 {
    mach_abi::X86ThreadState64 {
        rax: frame.rax,
        rbx: frame.rbx,
        rcx: frame.rcx,
        rdx: frame.rdx,
        rdi: frame.rdi,
        rsi: frame.rsi,
        rbp: frame.rbp,
        rsp: frame.rsp,
        r8: frame.r8,
        r9: frame.r9,
        r10: frame.r10,
        r11: frame.r11,
        r12: frame.r12,
        r13: frame.r13,
        r14: frame.r14,
        r15: frame.r15,
        rip: frame.rip,
        rflags: frame.rflags,
        cs: frame.cs,
        fs: 0,
        gs: 0,
    }
}

/// Installs `state` as the user registers, made safe first; refuses (and
/// changes nothing) when the instruction or stack pointer is not a user
/// address.
pub fn set_thread_state(frame: &mut TrapFrame, state: &mach_abi::X86ThreadState64) -> bool {
    let mut candidate = TrapFrame {
        r15: state.r15,
        r14: state.r14,
        r13: state.r13,
        r12: state.r12,
        r11: state.r11,
        r10: state.r10,
        r9: state.r9,
        r8: state.r8,
        rbp: state.rbp,
        rdi: state.rdi,
        rsi: state.rsi,
        rdx: state.rdx,
        rcx: state.rcx,
        rbx: state.rbx,
        rax: state.rax,
        vector: frame.vector,
        error_code: frame.error_code,
        rip: state.rip,
        cs: state.cs,
        rflags: state.rflags,
        rsp: state.rsp,
        ss: frame.ss,
    };
    if !sanitize_user_registers(&mut candidate) {
        return false;
    }
    *frame = candidate;
    true
}
