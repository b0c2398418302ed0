//! aarch64 (QEMU's `virt` board).
//!
//! Boot: QEMU's `-kernel` loads the flat image with its arm64 Image header
//! (`boot.S`, docs/boot.md), the boot-module archive as the initrd, and the
//! device tree, which says where RAM, the initrd and every device are
//! (`device_tree.rs`). Devices used: the PL011 UART (console), the generic
//! timer (tick and clock), GICv3 or GICv2 (interrupts), the PL031 (the
//! real-time clock, read at boot), virtio-mmio transports (for user-space
//! drivers), and semihosting to leave QEMU in tests.
//!
//! The kernel runs at EL1 with TTBR1 holding the kernel half (direct map,
//! device window, image) and TTBR0 the running task's user half, tagged
//! with an ASID so a switch flushes nothing.

pub mod console;
pub mod context;
pub mod cpu;
mod device_tree;
pub mod exceptions;
pub mod interrupts;
/// The device lines `interrupt_bind` names: the GIC's shared peripheral interrupts.
pub use interrupts as interrupt_lines;
pub mod msi;
pub mod paging;
mod rtc;
mod semihosting;
pub mod timer;

use crate::{boot_info, command_line, klog, memory};

pub const NAME: &str = "aarch64";

/// No port I/O on aarch64: a task can be granted no ranges.
pub const MAX_IO_RANGES: usize = 0;

/// Port I/O grants: aarch64 has no I/O ports (devices are memory mapped),
/// so there is nothing to load on a switch.
pub fn set_io_permissions(ranges: &[(u16, u16)]) {
    debug_assert!(ranges.is_empty(), "aarch64 tasks hold no I/O port ranges");
}

/// The devices the bootstrap task hands on to drivers, from the device tree.
pub use device_tree::boot_devices;

core::arch::global_asm!(include_str!("boot.S"));
core::arch::global_asm!(include_str!("trap_entry.S"));

/// Called by `boot.S` at EL1 on the boot stack with the MMU on, physical
/// 0..8 GiB at the direct-map base and the kernel at its link address.
#[unsafe(no_mangle)]
extern "C" fn aarch64_entry(device_tree: u64) -> ! {
    timer::record_kernel_entry();
    exceptions::init();
    console::init_early();
    let (boot, devices) = match device_tree::parse(device_tree) {
        Ok(parsed) => parsed,
        Err(error) => {
            crate::println!("boot: cannot use the loader's information: {error:?}");
            stop_after_fatal_error()
        }
    };
    semihosting::configure(&boot.command_line);
    klog::init(command_line::log_level(&boot.command_line));
    context::init();
    memory::frame::init(&boot, paging::EARLY_DIRECT_MAP_END);
    paging::init_kernel_address_space(&boot);
    console::init(devices.uart);
    interrupts::init(&devices.interrupt_controller);
    timer::init(command_line::timer_hz(&boot.command_line));
    rtc::init(devices.rtc);
    device_tree::record_devices(devices);
    let boot = boot_info::set(boot);
    cpu::enable_interrupts();
    crate::entry::kernel_main(boot)
}

/// The status a test run leaves QEMU with: through semihosting's exit call
/// QEMU exits with the same statuses x86_64's `isa-debug-exit` gives (33
/// success, 35 failure), so scripts read both alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QemuExit {
    Success = 33,
    Failure = 35,
}

/// Leaves QEMU through semihosting (test builds; `scripts/lib/common.sh`
/// runs them with `-semihosting`); otherwise stops the CPU.
pub fn exit_qemu(status: QemuExit) -> ! {
    if cfg!(feature = "ktest") {
        semihosting::exit(status as u32);
    }
    cpu::halt_forever()
}

/// Powers the machine off (`host_power_off`): where semihosting is on
/// (test kernels, `semihosting=on`) QEMU exits with `status` through it;
/// then PSCI's SYSTEM_OFF through the conduit the device tree names
/// (QEMU's virt board: `hvc`), after which QEMU exits with 0 (the status
/// is in the log line before). Returns only if the machine stayed on (no
/// PSCI in the tree, or it refused).
pub fn power_off(status: u8) {
    if semihosting::enabled() {
        semihosting::exit(status as u32);
    }
    device_tree::psci_system_off();
}

/// After a fatal error: test builds leave QEMU with the failure status so the
/// run fails at once; normal builds stop the CPU so the report stays on screen.
pub fn stop_after_fatal_error() -> ! {
    if cfg!(feature = "ktest") {
        exit_qemu(QemuExit::Failure)
    }
    cpu::halt_forever()
}
