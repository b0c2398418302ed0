//! The one way up: what the core calls in the kernel crate above it.
//!
//! The core cannot name the kernel crate (Cargo builds the core first and
//! the kernel depends on it, so the layers look down by construction). The
//! few calls that must go up are symbols the kernel crate defines with
//! [`kernel_entry!`](crate::kernel_entry): the entry point, the system-call
//! dispatcher, and the [`Handlers`] of user faults, ticks and device
//! interrupts. Each is a direct call to a fixed symbol, as a call between
//! two modules of one crate was: no table in memory, no indirect call
//! (docs/kernel.md, "Layers", has the figures). The macro writes each
//! symbol with exactly the signature declared here and type-checks the
//! kernel's function against it; a kernel without the macro does not link,
//! one with it twice neither.

use crate::arch::{Handlers, UserFault};
use crate::boot_info::BootInfo;

// The symbols `kernel_entry!` defines.
unsafe extern "Rust" {
    fn mach_kernel_main(boot: &'static BootInfo) -> !;
    fn mach_kernel_system_call(number: u64, arguments: [u64; 6], return_register: &mut u64);
    fn mach_kernel_user_page_fault(address: u64, access: u32) -> bool;
    fn mach_kernel_user_fault(fault: UserFault);
    fn mach_kernel_tick();
    fn mach_kernel_device_interrupt(line: u32);
    fn mach_kernel_message_signalled_interrupt(vector: u8);
}

/// The architecture-neutral start of the kernel, called by the
/// architecture's entry code once the CPU, the console, physical memory,
/// the kernel page tables, the heap and the timer are up.
#[inline(always)]
pub(crate) fn kernel_main(boot: &'static BootInfo) -> ! {
    // SAFETY: `kernel_entry!` defines the symbol with this signature (it
    // is the only definition: the macro's function name is fixed and a
    // second one would not link); the function is safe Rust.
    unsafe { mach_kernel_main(boot) }
}

/// A system call: `number` and its six `arguments` from the user's
/// registers; the result goes in `return_register` (the saved register
/// the user reads it from).
#[inline(always)]
pub(crate) fn system_call(number: u64, arguments: [u64; 6], return_register: &mut u64) {
    // SAFETY: as for `kernel_main`.
    unsafe { mach_kernel_system_call(number, arguments, return_register) }
}

#[inline(always)]
fn user_page_fault(address: u64, access: u32) -> bool {
    // SAFETY: as for `kernel_main`.
    unsafe { mach_kernel_user_page_fault(address, access) }
}

#[inline(always)]
fn user_fault(fault: UserFault) {
    // SAFETY: as for `kernel_main`.
    unsafe { mach_kernel_user_fault(fault) }
}

#[inline(always)]
fn tick() {
    // SAFETY: as for `kernel_main`.
    unsafe { mach_kernel_tick() }
}

#[inline(always)]
fn device_interrupt(line: u32) {
    // SAFETY: as for `kernel_main`.
    unsafe { mach_kernel_device_interrupt(line) }
}

#[inline(always)]
fn message_signalled_interrupt(vector: u8) {
    // SAFETY: as for `kernel_main`.
    unsafe { mach_kernel_message_signalled_interrupt(vector) }
}

/// The kernel's handlers, as the architecture calls them (`arch::handlers`).
pub(crate) const HANDLERS: Handlers =
    Handlers { user_page_fault, user_fault, tick, device_interrupt, message_signalled_interrupt };

/// Defines what the core calls in the kernel crate (see [`entry`](crate::entry)):
///
/// ```ignore
/// mach_kcore::kernel_entry! {
///     main: kernel_main,            // fn(&'static BootInfo) -> !
///     system_call: trap::dispatch,  // fn(u64, [u64; 6], &mut u64)
///     handlers: HANDLERS,           // a `const` arch::Handlers
/// }
/// ```
///
/// `handlers` must be a constant, so that each symbol calls its handler
/// directly. Used once, in the kernel crate's root.
#[macro_export]
macro_rules! kernel_entry {
    (main: $main:path, system_call: $system_call:path, handlers: $handlers:path $(,)?) => {
        const _: () = {
            const KERNEL_ENTRY_HANDLERS: $crate::arch::Handlers = $handlers;

            #[unsafe(no_mangle)]
            fn mach_kernel_main(boot: &'static $crate::boot_info::BootInfo) -> ! {
                $main(boot)
            }

            // Inlined into the architecture's system-call entry under the
            // kernel's LTO (build_kernel), as trap::dispatch is into this.
            #[inline(always)]
            #[unsafe(no_mangle)]
            fn mach_kernel_system_call(number: u64, arguments: [u64; 6], return_register: &mut u64) {
                $system_call(number, arguments, return_register)
            }

            #[unsafe(no_mangle)]
            fn mach_kernel_user_page_fault(address: u64, access: u32) -> bool {
                (KERNEL_ENTRY_HANDLERS.user_page_fault)(address, access)
            }

            #[unsafe(no_mangle)]
            fn mach_kernel_user_fault(fault: $crate::arch::UserFault) {
                (KERNEL_ENTRY_HANDLERS.user_fault)(fault)
            }

            #[unsafe(no_mangle)]
            fn mach_kernel_tick() {
                (KERNEL_ENTRY_HANDLERS.tick)()
            }

            #[unsafe(no_mangle)]
            fn mach_kernel_device_interrupt(line: u32) {
                (KERNEL_ENTRY_HANDLERS.device_interrupt)(line)
            }

            #[unsafe(no_mangle)]
            fn mach_kernel_message_signalled_interrupt(vector: u8) {
                (KERNEL_ENTRY_HANDLERS.message_signalled_interrupt)(vector)
            }
        };
    };
}
