//! Mach_R: a Mach-style, port-based microkernel.
//!
//! The kernel exposes tasks, threads, ports with rights, messages and the
//! memory operations a user-level pager needs; everything else lives in
//! user-space servers. This crate is the kernel binary.
//!
//! Layout of the crate:
//! - `arch/<name>/`: everything specific to one architecture, behind the small
//!   interface documented in `arch/mod.rs`. Nothing outside `arch` touches
//!   CPU registers, page-table formats or device ports.
//! - `boot_info`: what the boot loader told us, in an architecture-neutral form.
//! - `memory/`: physical frames and the kernel heap.
//! - `log`, `time`, `panic`: the console logger, uptime, the panic handler.
//! - `ktest/`: the in-kernel test runner (feature `ktest`).
//!
//! Design rules: `unsafe` lives in `arch/` and in the few audited spots that
//! say why (`// SAFETY:`); the kernel never trusts user space; every failure
//! is a typed error, and a kernel bug stops the machine with a clear report.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
// The kernel's interfaces (unmap, protect, frame free, ...) are built ahead
// of their first callers outside the tests (user tasks come next), and each
// build (normal, test) leaves some of the other's code unused.
#![allow(dead_code)]

extern crate alloc;

mod account;
mod arch;
mod arena;
mod boot_info;
mod bootstrap;
mod command_line;
mod device;
mod exception;
mod ipc;
mod klog;
#[cfg(feature = "ktest")]
mod ktest;
mod loader;
mod memory;
mod memory_object;
mod panic;
mod scheduler;
mod task;
mod task_traps;
mod thread;
mod time;
mod trap;
#[cfg(feature = "ktest")]
mod usertest;
#[cfg(feature = "ktest")]
mod usertest_fs;
#[cfg(feature = "ktest")]
mod usertest_process;
#[cfg(feature = "ktest")]
mod usertest_virtio;
mod vm;
mod vm_fault;
mod vm_traps;

use boot_info::BootInfo;

/// The architecture-neutral start of the kernel, called by the architecture's
/// entry code once the CPU, the console, physical memory, the kernel page
/// tables, the heap and the timer are up.
pub fn kernel_main(boot: &'static BootInfo) -> ! {
    print_banner(boot);
    scheduler::start(BOOT_THREAD_PRIORITY);

    #[cfg(feature = "ktest")]
    ktest::run(boot);

    #[cfg(not(feature = "ktest"))]
    {
        start_first_task(boot);
        // scripts/bench reads the raw counter: under `-icount shift=0` it
        // counts guest instructions since reset.
        log::info!(
            "ready (cycle counter {}, {} since kernel entry)",
            arch::timer::raw_counter(),
            arch::timer::raw_counter() - arch::timer::raw_counter_at_kernel_entry()
        );
        // The boot thread's work is done; the idle thread takes over when
        // nothing else runs (Ctrl-A X leaves QEMU).
        loop {
            scheduler::block_current(None);
        }
    }
}

/// The boot thread runs above every user thread so it finishes booting
/// (and, in test builds, keeps control of the tests) whatever they do.
const BOOT_THREAD_PRIORITY: u8 = 30;

/// Starts the first boot module as the bootstrap task, with the others
/// readable by it (see `bootstrap`).
#[cfg(not(feature = "ktest"))]
fn start_first_task(boot: &'static BootInfo) {
    let Some((first, others)) = boot.modules.split_first() else {
        log::info!("no boot modules: no user task to start");
        return;
    };
    let image = memory::physical_bytes(first.range);
    let others: alloc::vec::Vec<bootstrap::ModuleImage> = others.iter().map(Into::into).collect();
    match bootstrap::start(first.name(), image, &others, thread::DEFAULT_PRIORITY) {
        Ok(task) => {
            log::info!("started bootstrap task {} ({task:?}) with {} more module(s)", first.name(), others.len())
        }
        Err(error) => log::error!("cannot start boot module {}: {error:?}", first.name()),
    }
}

fn print_banner(boot: &BootInfo) {
    let frames = memory::frame::statistics();
    let kib = |frames: usize| frames * memory::PAGE_SIZE / 1024;
    log::info!("Mach_R {} ({}) booted by {}", env!("CARGO_PKG_VERSION"), arch::NAME, boot.loader_name.as_str());
    log::info!(
        "memory: {} MiB usable, {} KiB free, {} KiB kernel image, {} KiB in {} boot module(s)",
        kib(frames.usable) / 1024,
        kib(frames.free),
        boot.kernel_image.size() / 1024,
        boot.modules.iter().map(|module| module.range.size()).sum::<u64>() / 1024,
        boot.modules.len()
    );
    for module in &boot.modules {
        log::info!("module {} at {:#x}, {} bytes", module.name(), module.range.start, module.range.size());
    }
    log::info!(
        "boot took {} us since reset ({} us in the kernel), timer at {} Hz",
        time::since_reset().as_micros(),
        time::uptime().as_micros(),
        time::timer_hz()
    );
}
