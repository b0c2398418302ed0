//! Shared helpers for the user-mode test programs: checks that count and
//! report, and message helpers. Printing is libmach's kernel log
//! (`println!` here is `libmach::logln!`, `print` is `libmach::print::log`):
//! the tests read it there, also from programs the process server runs
//! (personality/process-checks), whose `libmach::println!` would go to
//! their standard output.
//!
//! Each program in `src/bin/` is a boot module for one kind of kernel test
//! (see `mach/kernel/src/usertest.rs`), which reads what the program prints.
#![no_std]

pub use libmach::logln as println;
pub use libmach::print::log as print;

/// Counts checks and prints each failure; `finish` prints the summary line
/// the kernel test looks for: `<program>: N passed, N failed`.
pub struct Checks {
    program: &'static str,
    passed: u32,
    failed: u32,
}

impl Checks {
    pub const fn new(program: &'static str) -> Self {
        Self { program, passed: 0, failed: 0 }
    }

    /// Records `got == expected` for the check `name`.
    pub fn equal<T: PartialEq + core::fmt::Debug>(&mut self, name: &str, got: T, expected: T) {
        if got == expected {
            self.passed += 1;
        } else {
            self.failed += 1;
            print(format_args!("check {name} FAILED: got {got:?}, expected {expected:?}\n"));
        }
    }

    /// How many checks failed so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    pub fn finish(&self) {
        print(format_args!("{}: {} passed, {} failed\n", self.program, self.passed, self.failed));
    }
}

pub mod message {
    //! Small helpers to build and read the test messages.
    use libmach::abi::{msgh_bits, MachMsgHeader, PortName};
    use libmach::trap::MessageBuffer;

    pub const HEADER: usize = 24;

    /// Writes a header and `words` of inline data; returns the size.
    pub fn write<const N: usize>(
        buffer: &mut MessageBuffer<N>,
        remote: PortName,
        remote_disposition: u32,
        local: PortName,
        local_disposition: u32,
        id: i32,
        words: &[u32],
    ) -> usize {
        let size = HEADER + words.len() * 4;
        let header = MachMsgHeader {
            bits: msgh_bits(remote_disposition, local_disposition),
            size: size as u32,
            remote_port: remote,
            local_port: local,
            voucher_port: 0,
            id,
        };
        let fields =
            [header.bits, header.size, header.remote_port, header.local_port, header.voucher_port, header.id as u32];
        for (index, word) in fields.iter().chain(words).enumerate() {
            buffer.0[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        size
    }

    /// Writes a header for a message of `size` bytes whose words are
    /// already in the buffer (an answer made in place); returns the size.
    pub fn write_header<const N: usize>(
        buffer: &mut MessageBuffer<N>,
        remote: PortName,
        remote_disposition: u32,
        local: PortName,
        local_disposition: u32,
        id: i32,
        size: usize,
    ) -> usize {
        let size = size.clamp(HEADER, N) & !3;
        let header = MachMsgHeader {
            bits: msgh_bits(remote_disposition, local_disposition),
            size: size as u32,
            remote_port: remote,
            local_port: local,
            voucher_port: 0,
            id,
        };
        let _ = header.write_to(&mut buffer.0[..HEADER]);
        size
    }

    /// The `index`th 32-bit word of the buffer (0..6 are the header).
    pub fn word<const N: usize>(buffer: &MessageBuffer<N>, index: usize) -> u32 {
        u32::from_le_bytes(buffer.0[index * 4..index * 4 + 4].try_into().unwrap_or([0; 4]))
    }

    pub fn id<const N: usize>(buffer: &MessageBuffer<N>) -> i32 {
        word(buffer, 5) as i32
    }
}

/// Deliberate faults for the exception tests, one function per kind, on
/// each architecture. Before faulting, each puts in the thread state's
/// marker register (`mach_abi::ThreadState::marker`: r12, x12) how far a
/// handler must move the program counter to step over the instruction
/// (0 where the CPU already moved it: x86_64's `int3`).
pub mod faults {
    /// An undefined instruction (`ud2`, `udf`): `EXC_BAD_INSTRUCTION`.
    pub fn undefined_instruction() {
        // SAFETY: faults on purpose; a handler steps over it (or the task
        // dies); only the marker register changes.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("mov r12, 2", "ud2", out("r12") _)
        };
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("mov x12, #4", "udf #0", out("x12") _)
        };
    }

    /// A breakpoint (`int3`, `brk`): `EXC_BREAKPOINT`.
    pub fn breakpoint() {
        // SAFETY: as for `undefined_instruction`.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("mov r12, 0", "int3", out("r12") _)
        };
        // SAFETY: as above; `brk` leaves the pc on itself.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("mov x12, #4", "brk #0", out("x12") _)
        };
    }

    /// An integer division by zero: `EXC_ARITHMETIC` on x86_64. aarch64
    /// does not trap on it (the quotient is 0): false there, nothing raised.
    pub fn divide_by_zero() -> bool {
        // SAFETY: as for `undefined_instruction`; the registers named are
        // the only ones changed.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("xor edx, edx", "xor eax, eax", "xor ecx, ecx", "mov r12, 2", "div ecx",
                out("r12") _, out("eax") _, out("ecx") _, out("edx") _)
        };
        cfg!(target_arch = "x86_64")
    }

    /// A read of address 8 (unmapped): `EXC_BAD_ACCESS`, invalid address 8.
    pub fn read_address_8() {
        // SAFETY: as for `undefined_instruction`.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("mov rax, 8", "mov r12, 3", "mov rax, [rax]", out("r12") _, out("rax") _)
        };
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("mov x9, #8", "mov x12, #4", "ldr x9, [x9]", out("x12") _, out("x9") _)
        };
    }

    /// An instruction user mode may not execute: `hlt` (a general
    /// protection fault: `EXC_BAD_ACCESS`, protection failure) on x86_64;
    /// reading SCTLR_EL1 (undefined at EL0: `EXC_BAD_INSTRUCTION`) on aarch64.
    pub fn privileged_instruction() {
        // SAFETY: as for `undefined_instruction`.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("mov r12, 1", "hlt", out("r12") _)
        };
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("mov x12, #4", "mrs x9, sctlr_el1", out("x12") _, out("x9") _)
        };
    }
}

/// A function returning 42, as machine code: `mov eax, 42; ret` /
/// `mov w0, #42; ret`.
#[cfg(target_arch = "x86_64")]
pub const RETURN_42: [u8; 6] = [0xb8, 42, 0, 0, 0, 0xc3];
#[cfg(target_arch = "aarch64")]
pub const RETURN_42: [u8; 8] = [0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6];

/// Makes code just written through the data side at `written` visible to
/// instruction fetch at `executed` (the same memory, perhaps through
/// another mapping). x86_64 keeps them coherent; aarch64 needs the line
/// cleaned to the point of unification and the instruction cache
/// invalidated (EL0 may do both: SCTLR_EL1.UCI).
pub fn sync_code(written: u64, executed: u64) {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: cache maintenance on memory of ours; no memory changes.
    unsafe {
        core::arch::asm!("dc cvau, {0}", "dsb ish", "ic ivau, {1}", "dsb ish", "isb", in(reg) written, in(reg) executed, options(nostack))
    };
    let _ = (written, executed);
}

/// Starts a thread in `task` (this task, or a child that has this
/// program's text, as one made by `task_create` with
/// `TASK_CREATE_INHERIT_MEMORY` has) at `entry(argument)` with its stack
/// pointer at `stack_top` (16-byte aligned; on x86_64 `entry` finds it 8
/// below, as after a call). Returns the thread's port.
pub fn start_thread(
    task: libmach::abi::PortName,
    entry: extern "C" fn(u64) -> !,
    argument: u64,
    stack_top: u64,
) -> Result<libmach::abi::PortName, libmach::abi::KernReturn> {
    use libmach::abi::{NativeThreadState, ThreadState};
    let thread = libmach::trap::thread_create(task)?;
    let mut state = NativeThreadState::default();
    state.set_pc(entry as usize as u64);
    state.set_argument(0, argument);
    // The System V ABI enters a function 8 below a 16-byte boundary (a
    // return address pushed); AAPCS64 keeps sp aligned at every call.
    state.set_sp(if cfg!(target_arch = "x86_64") { stack_top - 8 } else { stack_top });
    let mut words = [0u32; NativeThreadState::COUNT as usize];
    state.store_words(&mut words);
    let started = libmach::trap::thread_set_state(thread, NativeThreadState::FLAVOR, &words)
        .and_then(|()| libmach::trap::thread_resume(thread));
    if let Err(error) = started {
        let _ = libmach::trap::thread_terminate(thread);
        return Err(error);
    }
    Ok(thread)
}

/// Reads the 64-bit value at `address` in `task` (through `vm_read`).
pub fn read_u64_of(task: libmach::abi::PortName, address: u64) -> Result<u64, libmach::abi::KernReturn> {
    let copy = libmach::trap::vm_read(task, address, 8)?;
    // SAFETY: `vm_read` just gave this task a fresh mapping of at least 8
    // bytes at `copy`, which nothing else uses.
    let value = unsafe { core::ptr::read_volatile(copy as *const u64) };
    let _ = libmach::trap::vm_deallocate(libmach::trap::task_self(), copy, 4096);
    Ok(value)
}

/// Waits (polling every millisecond, up to `milliseconds`) until the
/// 64-bit value at `address` in `task` is `value`.
pub fn wait_for_value(task: libmach::abi::PortName, address: u64, value: u64, milliseconds: u64) -> bool {
    for _ in 0..milliseconds {
        if read_u64_of(task, address) == Ok(value) {
            return true;
        }
        let _ = libmach::trap::thread_sleep(1);
    }
    read_u64_of(task, address) == Ok(value)
}
