//! Thread state and task/thread information flavors.
//!
//! `thread_get_state` / `thread_set_state` use flavor
//! [`X86_THREAD_STATE64`] on x86_64 and [`ARM_THREAD_STATE64`] on aarch64
//! (xnu's numbers and field orders; a kernel takes only its own
//! architecture's flavor); `task_info` and
//! `thread_info` use [`TASK_BASIC_INFO`] and [`THREAD_BASIC_INFO`], whose
//! layouts are Mach_R's own (what `ps` needs), counted in 32-bit words like
//! every Mach flavor.

/// `x86_THREAD_STATE64`: the general registers of an x86_64 thread.
pub const X86_THREAD_STATE64: u32 = 4;

/// `x86_thread_state64_t`. On `thread_set_state` the kernel forces the
/// segment selectors, keeps only the arithmetic, direction and trap flags
/// of `rflags`, and refuses an `rip` or `rsp` outside the user half.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct X86ThreadState64 {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub cs: u64,
    pub fs: u64,
    pub gs: u64,
}

/// `x86_THREAD_STATE64_COUNT`, in 32-bit words.
pub const X86_THREAD_STATE64_COUNT: u32 = (core::mem::size_of::<X86ThreadState64>() / 4) as u32;

/// `TASK_BASIC_INFO` flavor of `task_info`.
pub const TASK_BASIC_INFO: u32 = 5;

/// `task_basic_info_t` (Mach_R layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskBasicInfo {
    pub suspend_count: u32,
    pub thread_count: u32,
    /// Pages mapped in its user half.
    pub resident_pages: u32,
    /// Names in its IPC space.
    pub port_names: u32,
    /// Timer ticks its threads have run.
    pub cpu_ticks: u64,
}

pub const TASK_BASIC_INFO_COUNT: u32 = (core::mem::size_of::<TaskBasicInfo>() / 4) as u32;

/// `THREAD_BASIC_INFO` flavor of `thread_info`.
pub const THREAD_BASIC_INFO: u32 = 3;

/// `TH_STATE_*` values of [`ThreadBasicInfo::run_state`] (xnu's).
pub const TH_STATE_RUNNING: u32 = 1;
pub const TH_STATE_STOPPED: u32 = 2;
pub const TH_STATE_WAITING: u32 = 3;
pub const TH_STATE_HALTED: u32 = 5;

/// `thread_basic_info_t` (Mach_R layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadBasicInfo {
    pub run_state: u32,
    pub priority: u32,
    pub suspend_count: u32,
    /// How long one timer tick is, in nanoseconds (the kernel's `hz=`:
    /// 10,000,000 at the default 100 Hz), so that `cpu_ticks` converts to
    /// time without the caller measuring the tick; 0 before the timer runs.
    pub tick_nanoseconds: u32,
    /// Timer ticks the thread has run.
    pub cpu_ticks: u64,
}

pub const THREAD_BASIC_INFO_COUNT: u32 = (core::mem::size_of::<ThreadBasicInfo>() / 4) as u32;

impl X86ThreadState64 {
    /// The state as 32-bit words, as `thread_get_state` returns it.
    pub fn to_words(&self) -> [u32; X86_THREAD_STATE64_COUNT as usize] {
        let fields = self.as_array();
        let mut words = [0u32; X86_THREAD_STATE64_COUNT as usize];
        for (index, value) in fields.iter().enumerate() {
            words[index * 2] = *value as u32;
            words[index * 2 + 1] = (*value >> 32) as u32;
        }
        words
    }

    /// The state from 32-bit words, as `thread_set_state` takes it.
    pub fn from_words(words: &[u32]) -> Option<Self> {
        if words.len() != X86_THREAD_STATE64_COUNT as usize {
            return None;
        }
        let mut fields = [0u64; 21];
        for (index, field) in fields.iter_mut().enumerate() {
            *field = words[index * 2] as u64 | (words[index * 2 + 1] as u64) << 32;
        }
        let [rax, rbx, rcx, rdx, rdi, rsi, rbp, rsp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags, cs, fs, gs] =
            fields;
        Some(Self {
            rax,
            rbx,
            rcx,
            rdx,
            rdi,
            rsi,
            rbp,
            rsp,
            r8,
            r9,
            r10,
            r11,
            r12,
            r13,
            r14,
            r15,
            rip,
            rflags,
            cs,
            fs,
            gs,
        })
    }

    fn as_array(&self) -> [u64; 21] {
        [
            self.rax,
            self.rbx,
            self.rcx,
            self.rdx,
            self.rdi,
            self.rsi,
            self.rbp,
            self.rsp,
            self.r8,
            self.r9,
            self.r10,
            self.r11,
            self.r12,
            self.r13,
            self.r14,
            self.r15,
            self.rip,
            self.rflags,
            self.cs,
            self.fs,
            self.gs,
        ]
    }
}

/// `ARM_THREAD_STATE64`: the general registers of an aarch64 thread.
pub const ARM_THREAD_STATE64: u32 = 6;

/// `arm_thread_state64_t` (xnu's layout): `x0`..`x28`, the frame pointer
/// (`x29`), the link register (`x30`), the stack pointer, the program
/// counter and the processor state (`cpsr`: SPSR_EL1's low 32 bits). On
/// `thread_set_state` the kernel keeps only the condition flags (N, Z, C,
/// V) of `cpsr`, forces user mode (EL0, AArch64, interrupts unmasked), and
/// refuses a `pc` or `sp` outside the user half; `pad` must be 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArmThreadState64 {
    pub x: [u64; 29],
    pub fp: u64,
    pub lr: u64,
    pub sp: u64,
    pub pc: u64,
    pub cpsr: u32,
    pub pad: u32,
}

/// `ARM_THREAD_STATE64_COUNT`, in 32-bit words.
pub const ARM_THREAD_STATE64_COUNT: u32 = (core::mem::size_of::<ArmThreadState64>() / 4) as u32;

impl ArmThreadState64 {
    /// The state as 32-bit words, as `thread_get_state` returns it.
    pub fn to_words(&self) -> [u32; ARM_THREAD_STATE64_COUNT as usize] {
        let mut words = [0u32; ARM_THREAD_STATE64_COUNT as usize];
        let registers = self.x.iter().chain([&self.fp, &self.lr, &self.sp, &self.pc]);
        for (index, value) in registers.enumerate() {
            words[index * 2] = *value as u32;
            words[index * 2 + 1] = (*value >> 32) as u32;
        }
        words[66] = self.cpsr;
        words[67] = self.pad;
        words
    }

    /// The state from 32-bit words, as `thread_set_state` takes it.
    pub fn from_words(words: &[u32]) -> Option<Self> {
        if words.len() != ARM_THREAD_STATE64_COUNT as usize {
            return None;
        }
        let register = |index: usize| words[index * 2] as u64 | (words[index * 2 + 1] as u64) << 32;
        let mut state =
            Self { fp: register(29), lr: register(30), sp: register(31), pc: register(32), ..Self::default() };
        for (index, value) in state.x.iter_mut().enumerate() {
            *value = register(index);
        }
        state.cpsr = words[66];
        state.pad = words[67];
        Some(state)
    }
}

/// The registers user space sets and reads through a thread-state flavor,
/// named the same on every architecture: what a loader, a thread library
/// or an exception handler needs, so they are written once.
pub trait ThreadState: Copy + Default {
    /// The flavor number and its count in 32-bit words.
    const FLAVOR: u32;
    const COUNT: u32;
    /// The program counter (`rip`, `pc`).
    fn pc(&self) -> u64;
    fn set_pc(&mut self, value: u64);
    /// The stack pointer (`rsp`, `sp`).
    fn sp(&self) -> u64;
    fn set_sp(&mut self, value: u64);
    /// Argument register `index` (0..6) of the C calling convention (System
    /// V's `rdi, rsi, rdx, rcx, r8, r9`; AAPCS64's `x0..x5`). Argument 0
    /// also holds a trap's result on aarch64; [`ThreadState::trap_result`]
    /// names the register for both.
    fn argument(&self, index: usize) -> u64;
    fn set_argument(&mut self, index: usize, value: u64);
    /// Where a trap leaves its result (`rax`, `x0`).
    fn trap_result(&self) -> u64;
    /// A scratch register the tests use as a marker (`r12`, `x12`):
    /// callee-saved on x86_64, temporary on aarch64, never an argument.
    fn marker(&self) -> u64;
    fn set_marker(&mut self, value: u64);
    /// The state as `COUNT` words into `words` (false if it is too short).
    fn store_words(&self, words: &mut [u32]) -> bool;
    /// The state from exactly `COUNT` words.
    fn load_words(words: &[u32]) -> Option<Self>;
}

impl ThreadState for X86ThreadState64 {
    const FLAVOR: u32 = X86_THREAD_STATE64;
    const COUNT: u32 = X86_THREAD_STATE64_COUNT;
    fn pc(&self) -> u64 {
        self.rip
    }
    fn set_pc(&mut self, value: u64) {
        self.rip = value;
    }
    fn sp(&self) -> u64 {
        self.rsp
    }
    fn set_sp(&mut self, value: u64) {
        self.rsp = value;
    }
    fn argument(&self, index: usize) -> u64 {
        [self.rdi, self.rsi, self.rdx, self.rcx, self.r8, self.r9][index]
    }
    fn set_argument(&mut self, index: usize, value: u64) {
        let register = match index {
            0 => &mut self.rdi,
            1 => &mut self.rsi,
            2 => &mut self.rdx,
            3 => &mut self.rcx,
            4 => &mut self.r8,
            _ => &mut self.r9,
        };
        *register = value;
    }
    fn trap_result(&self) -> u64 {
        self.rax
    }
    fn marker(&self) -> u64 {
        self.r12
    }
    fn set_marker(&mut self, value: u64) {
        self.r12 = value;
    }
    fn store_words(&self, words: &mut [u32]) -> bool {
        let Some(out) = words.get_mut(..Self::COUNT as usize) else { return false };
        out.copy_from_slice(&self.to_words());
        true
    }
    fn load_words(words: &[u32]) -> Option<Self> {
        Self::from_words(words)
    }
}

impl ThreadState for ArmThreadState64 {
    const FLAVOR: u32 = ARM_THREAD_STATE64;
    const COUNT: u32 = ARM_THREAD_STATE64_COUNT;
    fn pc(&self) -> u64 {
        self.pc
    }
    fn set_pc(&mut self, value: u64) {
        self.pc = value;
    }
    fn sp(&self) -> u64 {
        self.sp
    }
    fn set_sp(&mut self, value: u64) {
        self.sp = value;
    }
    fn argument(&self, index: usize) -> u64 {
        self.x[index.min(5)]
    }
    fn set_argument(&mut self, index: usize, value: u64) {
        self.x[index.min(5)] = value;
    }
    fn trap_result(&self) -> u64 {
        self.x[0]
    }
    fn marker(&self) -> u64 {
        self.x[12]
    }
    fn set_marker(&mut self, value: u64) {
        self.x[12] = value;
    }
    fn store_words(&self, words: &mut [u32]) -> bool {
        let Some(out) = words.get_mut(..Self::COUNT as usize) else { return false };
        out.copy_from_slice(&self.to_words());
        true
    }
    fn load_words(words: &[u32]) -> Option<Self> {
        Self::from_words(words)
    }
}

/// The thread state of the architecture this crate is compiled for: what
/// `thread_get_state` / `thread_set_state` take there. Host builds (tests,
/// tools) see x86_64's.
#[cfg(target_arch = "aarch64")]
pub type NativeThreadState = ArmThreadState64;
#[cfg(not(target_arch = "aarch64"))]
pub type NativeThreadState = X86ThreadState64;

const _: () = assert!(core::mem::size_of::<X86ThreadState64>() == 168);
const _: () = assert!(core::mem::size_of::<ArmThreadState64>() == 272);
const _: () = assert!(core::mem::size_of::<TaskBasicInfo>() == 24);
const _: () = assert!(core::mem::size_of::<ThreadBasicInfo>() == 24);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_state_words_round_trip() {
        let state = X86ThreadState64 { rax: 1, rsp: 0x7fff_0000_1234, rip: u64::MAX, gs: 9, ..Default::default() };
        assert_eq!(X86ThreadState64::from_words(&state.to_words()), Some(state));
        assert_eq!(X86ThreadState64::from_words(&[0; 41]), None);
    }

    #[test]
    fn arm_thread_state_words_round_trip() {
        let mut state = ArmThreadState64 {
            fp: 7,
            lr: 8,
            sp: 0x7fff_0000_1230,
            pc: u64::MAX,
            cpsr: 0x6000_0000,
            ..Default::default()
        };
        for (index, value) in state.x.iter_mut().enumerate() {
            *value = (index as u64) << 40 | index as u64;
        }
        let words = state.to_words();
        assert_eq!(words.len(), 68);
        assert_eq!((words[0], words[1]), (0, 0));
        assert_eq!((words[2], words[3]), (1, 1 << 8));
        assert_eq!((words[62], words[63]), (0x0000_1230, 0x7fff));
        assert_eq!(words[66], 0x6000_0000);
        assert_eq!(ArmThreadState64::from_words(&words), Some(state));
        assert_eq!(ArmThreadState64::from_words(&[0; 67]), None);
    }

    fn registers_by_role<State: ThreadState>() {
        let mut state = State::default();
        state.set_pc(0x40_1000);
        state.set_sp(0x7fff_fff0);
        for index in 0..6 {
            state.set_argument(index, 100 + index as u64);
        }
        state.set_marker(7);
        let mut words = [0u32; 68];
        assert!(state.store_words(&mut words));
        assert!(!state.store_words(&mut words[..State::COUNT as usize - 1]));
        let back = State::load_words(&words[..State::COUNT as usize]).expect("round trip");
        assert_eq!((back.pc(), back.sp(), back.marker()), (0x40_1000, 0x7fff_fff0, 7));
        for index in 0..6 {
            assert_eq!(back.argument(index), 100 + index as u64);
        }
    }

    #[test]
    fn registers_are_found_by_role_on_both_architectures() {
        registers_by_role::<X86ThreadState64>();
        registers_by_role::<ArmThreadState64>();
        let mut arm = ArmThreadState64::default();
        arm.set_argument(0, 5);
        assert_eq!(arm.trap_result(), 5, "x0 is both the first argument and the result");
    }
}
