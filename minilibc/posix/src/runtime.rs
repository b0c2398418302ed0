//! The program runtime: `entry!` (the C `main` crt0 calls), the global
//! allocator over minilibc's malloc, and the panic handler.
//!
//! A program is
//!
//! ```text
//! #![no_std]
//! #![no_main]
//! posix::entry!(main);
//! fn main(args: posix::Args, env: posix::Env) -> i32 { posix::println!("hello"); 0 }
//! ```
//!
//! built for `x86_64-unknown-linux-gnu` with `-C panic=abort` and linked by
//! `scripts/mcc` (crt1.o, libc.a); `build_minilibc_program` in
//! `scripts/lib/common.sh` does both.

use crate::environment::{Args, Env};
use crate::ffi;
use core::alloc::{GlobalAlloc, Layout};

/// The global allocator: minilibc's malloc (16-byte aligned blocks;
/// larger alignments through posix_memalign).
pub struct Malloc;

const MALLOC_ALIGNMENT: usize = 16;

// SAFETY: malloc/realloc/free honour the GlobalAlloc contract for alignments
// up to 16; larger ones go through posix_memalign, whose blocks free() takes.
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGNMENT {
            // SAFETY: plain allocation.
            unsafe { ffi::malloc(layout.size()) }
        } else {
            let mut block = core::ptr::null_mut();
            // SAFETY: a writable result pointer; the alignment is a power of two.
            match unsafe { ffi::posix_memalign(&mut block, layout.align(), layout.size()) } {
                0 => block,
                _ => core::ptr::null_mut(),
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGNMENT {
            // SAFETY: plain allocation.
            unsafe { ffi::calloc(1, layout.size()) }
        } else {
            // SAFETY: as `alloc`; the block is then zeroed over its size.
            unsafe {
                let block = self.alloc(layout);
                if !block.is_null() {
                    core::ptr::write_bytes(block, 0, layout.size());
                }
                block
            }
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, _layout: Layout) {
        // SAFETY: `block` came from malloc, calloc, realloc or posix_memalign.
        unsafe { ffi::free(block) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGNMENT {
            // SAFETY: `block` came from malloc; realloc keeps 16-byte alignment.
            unsafe { ffi::realloc(block, new_size) }
        } else {
            // SAFETY: a fresh aligned block, the old contents copied, the old block freed.
            unsafe {
                let fresh = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
                if !fresh.is_null() {
                    core::ptr::copy_nonoverlapping(block, fresh, layout.size().min(new_size));
                    ffi::free(block);
                }
                fresh
            }
        }
    }
}

extern "C" fn flush_at_exit() {
    // Output written after `main` returned (by atexit handlers of C code,
    // say) or before a direct C `exit`.
    let _ = crate::io::finish_output(0);
}

/// Runs `main` with the program's arguments and environment; called by
/// the C `main` that `entry!` defines. Returns the exit status, after
/// flushing standard output (a write error changes a 0 status to 1).
///
/// # Safety
/// `arguments` and `environment` are the argv and envp crt0 passed.
pub unsafe fn start(arguments: *const *const u8, environment: *const *const u8, main: fn(Args, Env) -> i32) -> i32 {
    // SAFETY: the caller's contract: crt0's arrays live for the whole process.
    let (arguments, environment) = unsafe { (Args::from_raw(arguments), Env::from_raw(environment)) };
    crate::io::set_program_name(crate::path::base_name(arguments.program()));
    // SAFETY: a plain function pointer.
    unsafe { ffi::atexit(flush_at_exit) };
    let status = main(arguments, environment);
    crate::io::finish_output(status)
}

struct PanicGuard(core::sync::atomic::AtomicBool);
static PANICKING: PanicGuard = PanicGuard(core::sync::atomic::AtomicBool::new(false));

/// The panic handler's body: prints "NAME: panicked at FILE:LINE:COLUMN:"
/// and the message to standard error, as Rust's own runtime does, flushes
/// standard output and exits with status 101. A panic while panicking
/// exits at once.
pub fn panic(information: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;
    if PANICKING.0.swap(true, core::sync::atomic::Ordering::Relaxed) {
        crate::process::exit_immediately(101);
    }
    let _ = crate::io::stdout().flush();
    let mut error = crate::io::stderr();
    let name = crate::io::program_name();
    if !name.is_empty() {
        error.write_bytes(name);
        error.write_bytes(b": ");
    }
    let _ = match information.location() {
        Some(location) => writeln!(error, "panicked at {location}:\n{}", information.message()),
        None => writeln!(error, "panicked:\n{}", information.message()),
    };
    let _ = error.flush();
    crate::process::exit(101)
}

/// Defines the program's entry: the C `main` crt0 calls (running `$main`
/// with `Args` and `Env` and exiting with its status), the panic handler and
/// the global allocator. In a test build it defines nothing, so the same
/// crate's unit tests run under the host's standard library.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[cfg(not(test))]
        #[export_name = "main"]
        extern "C" fn posix_c_main(_count: i32, arguments: *const *const u8, environment: *const *const u8) -> i32 {
            // SAFETY: crt0 passes argv and envp as the kernel laid them out.
            unsafe { $crate::runtime::start(arguments, environment, $main) }
        }

        #[cfg(not(test))]
        #[panic_handler]
        fn posix_panic(information: &core::panic::PanicInfo<'_>) -> ! {
            $crate::runtime::panic(information)
        }

        #[cfg(not(test))]
        #[global_allocator]
        static POSIX_ALLOCATOR: $crate::runtime::Malloc = $crate::runtime::Malloc;
    };
}
