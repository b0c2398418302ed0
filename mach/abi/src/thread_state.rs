//! Thread state and task/thread information flavors.
//!
//! `thread_get_state` / `thread_set_state` use flavor
//! [`X86_THREAD_STATE64`] (xnu's number and field order); `task_info` and
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
    pub reserved: u32,
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

const _: () = assert!(core::mem::size_of::<X86ThreadState64>() == 168);
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
}
