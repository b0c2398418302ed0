//! Mach_R: a Mach-style, port-based microkernel.
//!
//! The kernel exposes tasks, threads, ports with rights, messages and the
//! memory operations a user-level pager needs; everything else lives in
//! user-space servers. This crate is the kernel binary.
//!
//! Layout, bottom layer first (docs/kernel.md, "Layers"):
//! - the core, the crate `mach-kcore` (the only kernel code allowed
//!   `unsafe`): `arch` (everything specific to one architecture), `memory`
//!   (physical frames and their bytes, the kernel heap, shared-frame counts,
//!   user copies), the kernel log's ring and channels (`mach_kcore::klog`),
//!   and the plain `boot_info`, `command_line` and `time`. Re-exported
//!   below, so that `crate::arch::...` and `crate::memory::...` name them
//!   here; the core reaches this crate only through the symbols
//!   `mach_kcore::kernel_entry!` defines below;
//! - the objects: `arena` (generational ids), `account`, `task`, `thread`,
//!   `vm` (VM maps), and the IPC state in the `mach-ipc` crate;
//! - the services: `kernel` (the `Kernel` tables behind one lock,
//!   `with_kernel`, the life of tasks and threads), `scheduler` (who runs:
//!   run queues, blocking, the tick, the switch), `ipc/` (the IPC paths:
//!   `mach_msg`, wait queues, names, out-of-line memory), `exception`, `memory_object`, `vm_fault`,
//!   `device`, `loader`, `bootstrap`, `klog` (the log's traps), `panic`;
//! - trap decoding: `trap` (the table) and the `*_traps` modules
//!   (`ipc/port_traps`, `task_control`, `task_traps`, `vm_traps`);
//! - `ktest/` and `usertest*`: the in-kernel tests (feature `ktest`).
//!
//! Design rules: Cargo keeps the core from naming this crate; this crate
//! denies unsafe code, every module forbids it but `scheduler` (its one
//! context-switch call), and `scripts/tests/kernel-layers` checks that.
//! The kernel never trusts user space; every failure is a typed error,
//! and a kernel bug stops the machine with a clear report.
#![no_std]
#![no_main]
#![deny(unsafe_code)]
// The kernel's interfaces (unmap, protect, frame free, ...) are built ahead
// of their first callers outside the tests (user tasks come next), and each
// build (normal, test) leaves some of the other's code unused.
#![allow(dead_code)]

extern crate alloc;

mod account;
mod arena;
mod bootstrap;
mod device;
mod exception;
mod ipc;
mod kernel;
mod klog;
#[cfg(feature = "ktest")]
mod ktest;
mod loader;
mod memory_object;
mod panic;
#[allow(unsafe_code)]
mod scheduler;
mod task;
mod task_control;
mod task_traps;
mod thread;
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

// The core, under the names its modules had when they were part of this
// crate, and its macros (`ktest!` and `ensure!` with the feature).
pub use mach_kcore::{arch, boot_info, command_line, memory, time};
#[cfg(feature = "ktest")]
use mach_kcore::{ensure, ensure_eq, ktest};
use mach_kcore::{print, println};

use boot_info::BootInfo;

// What the core calls up here: the entry point, the system calls and the
// handlers below (docs/kernel.md, "Layers").
mach_kcore::kernel_entry! {
    main: kernel_main,
    system_call: trap::dispatch,
    handlers: HANDLERS,
}

/// What the kernel does with what the architecture reports (`arch::Handlers`).
const HANDLERS: arch::Handlers = arch::Handlers {
    user_page_fault: vm_fault::resolve_user_page_fault,
    user_fault: exception::user_fault,
    tick: scheduler::on_tick,
    device_interrupt: device::interrupt,
    message_signalled_interrupt: device::message_signalled_interrupt,
};

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
