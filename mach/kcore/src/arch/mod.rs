//! The architecture boundary.
//!
//! Each architecture is one sibling module (`x86_64/`, later `aarch64/`)
//! that provides the same small interface; the rest of the kernel uses only
//! this interface and never names CPU registers or page-table formats:
//!
//! - `NAME`: the architecture's name for banners;
//! - `console::write_serial`, `write_serial_bytes`, `write_debug_console`:
//!   the serial line and the debug console (the kernel log's channels, `klog`);
//! - `cpu`: `idle_forever`, `wait_for_interrupt`, `without_interrupts`,
//!   `disable_interrupts`, `print_backtrace`, and `cpu::fault` (deliberate
//!   faults for the fault tests);
//! - `paging`: `direct_map_address`, `direct_map_words`, and the kernel
//!   address space's `map`, `unmap`, `translate`, `protect` (with TLB
//!   invalidation on this CPU);
//! - `timer`: `hz`, `nanoseconds_since_kernel_entry`,
//!   `nanoseconds_since_reset`, `raw_counter`; the timer interrupt calls `time::tick`;
//! - `exit_qemu` and `stop_after_fatal_error`.
//!
//! docs/porting.md lists the whole interface (context switching, trap
//! frames and thread state, interrupt lines, message-signalled interrupts,
//! I/O port grants) for whoever adds a third architecture.
//!
//! The architecture's entry point brings up the CPU, console, boot
//! information, physical memory, kernel page tables and timer, then calls
//! `crate::entry::kernel_main` (the kernel crate's `kernel_main`).
//!
//! What the CPU reports goes up without this crate naming the kernel crate
//! (it cannot: docs/kernel.md, "Layers"): a user fault is sorted into a
//! [`UserFault`], and it, a user page fault, the timer tick's scheduling
//! and device interrupts go to the kernel's [`Handlers`] (as Asterinas's
//! OSTD takes injected handlers), system calls to
//! `crate::entry::system_call`: symbols the kernel crate defines, called
//! directly.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

/// A CPU exception raised by user code, in architecture-neutral terms.
#[derive(Clone, Copy, Debug)]
pub struct UserFault {
    pub name: &'static str,
    /// The CPU's exception vector (x86_64) or exception class (aarch64).
    pub vector: u64,
    pub instruction_pointer: u64,
    /// The address the access went to, for memory faults.
    pub address: Option<u64>,
    /// The error code (x86_64) or syndrome (aarch64).
    pub error_code: u64,
    /// What kind of Mach exception it is.
    pub kind: FaultKind,
}

/// The Mach exception a CPU exception becomes, as the architecture sorts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A page fault the VM system could not resolve (`protection`: the
    /// page was there, the access not allowed).
    PageFault {
        protection: bool,
    },
    /// Any other protection or alignment violation.
    Protection,
    Arithmetic,
    Breakpoint,
    BadInstruction,
}

/// What the kernel does with the events the architecture reports: the
/// kernel crate fills one as a `const` and hands it to `kernel_entry!`,
/// which defines a symbol per handler calling it directly (a `static`
/// table the compiler cannot see through cost a page fault about 15
/// instructions); the core calls those symbols through
/// `crate::entry::HANDLERS`.
pub struct Handlers {
    /// A user-mode page fault at `address` for `access` (`VM_PROT_*`):
    /// true if the thread may retry the instruction (resolved, or a wait
    /// for a pager aborted), false to raise the fault as an exception.
    pub user_page_fault: fn(address: u64, access: u32) -> bool,
    /// A user-mode fault nothing resolved: an exception message, or the
    /// task's end; may switch away and never come back.
    pub user_fault: fn(UserFault),
    /// The timer ticked (after the architecture's own bookkeeping; the
    /// scheduler ignores ticks before it starts).
    pub tick: fn(),
    /// A device interrupt line fired (masked until acknowledged).
    pub device_interrupt: fn(line: u32),
    /// A message-signalled interrupt arrived on `vector`.
    pub message_signalled_interrupt: fn(vector: u8),
}

/// The kernel's handlers (see [`Handlers`]).
pub(crate) fn handlers() -> &'static Handlers {
    &crate::entry::HANDLERS
}
