//! Shared helpers for the user-mode test programs: checks that count and
//! report, and message helpers. Printing is libmach's (`println!` here is
//! `libmach::println!`).
//!
//! Each program in `src/bin/` is a boot module for one kind of kernel test
//! (see `mach/kernel/src/usertest.rs`), which reads what the program prints.
#![no_std]

pub use libmach::print::print;
pub use libmach::println;

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

/// Starts a thread in `task` (this task, or a child that has this
/// program's text, as one made by `task_create` with
/// `TASK_CREATE_INHERIT_MEMORY` has) at `entry(argument)` with its stack
/// pointer at `stack_top` (16-byte aligned; `entry` finds it 8 below, as
/// after a call). Returns the thread's port.
pub fn start_thread(
    task: libmach::abi::PortName,
    entry: extern "C" fn(u64) -> !,
    argument: u64,
    stack_top: u64,
) -> Result<libmach::abi::PortName, libmach::abi::KernReturn> {
    use libmach::abi::{X86ThreadState64, X86_THREAD_STATE64};
    let thread = libmach::trap::thread_create(task)?;
    let state =
        X86ThreadState64 { rip: entry as usize as u64, rdi: argument, rsp: stack_top - 8, ..Default::default() };
    let started = libmach::trap::thread_set_state(thread, X86_THREAD_STATE64, &state.to_words())
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
