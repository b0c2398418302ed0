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
//! `crate::kernel_main`.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;
