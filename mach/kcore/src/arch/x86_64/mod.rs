//! x86_64 (PC, as QEMU's `q35`/`pc` machines emulate it).
//!
//! Boot: QEMU's `-kernel` Multiboot loader (see `boot.S` and
//! docs/boot.md) enters `_start32`, which enables long mode and calls
//! [`x86_64_entry`]. Devices used: COM1 (16550), the local APIC timer
//! (calibrated against PIT channel 2), and `isa-debug-exit` for tests.

pub mod console;
pub mod context;
pub mod cpu;
mod gdt;
/// Per-task I/O port grants, loaded into the TSS on switches.
pub use gdt::{set_io_permissions, MAX_IO_RANGES};

/// The devices the bootstrap task hands on to drivers: none, the PC's
/// devices are at fixed I/O ports (and PCI finds the rest).
pub fn boot_devices() -> alloc::vec::Vec<mach_abi::BootDevice> {
    alloc::vec::Vec::new()
}
pub mod idt;
pub mod ioapic;
/// The device lines `interrupt_bind` names: the I/O APIC's.
pub use ioapic as interrupt_lines;
pub mod msi;
mod multiboot;
pub mod paging;
mod port;
pub mod timer;

use crate::{boot_info, command_line, klog, memory};

pub const NAME: &str = "x86_64";

core::arch::global_asm!(include_str!("boot.S"), options(att_syntax));
core::arch::global_asm!(include_str!("trap_entry.S"), options(att_syntax));

/// Called by `boot.S` in long mode on the boot stack, with the first GiB of
/// physical memory mapped at 0, at the direct-map base and at the kernel base.
#[unsafe(no_mangle)]
extern "C" fn x86_64_entry(multiboot_magic: u32, multiboot_info: u32) -> ! {
    timer::record_kernel_entry();
    console::init();
    let boot = match multiboot::parse(multiboot_magic, multiboot_info) {
        Ok(boot) => boot,
        Err(error) => {
            crate::println!("boot: cannot use the loader's information: {error:?}");
            stop_after_fatal_error()
        }
    };
    klog::init(command_line::log_level(&boot.command_line));
    gdt::init();
    idt::init();
    context::init();
    memory::frame::init(&boot, paging::EARLY_DIRECT_MAP_END);
    paging::init_kernel_address_space(&boot);
    timer::init(command_line::timer_hz(&boot.command_line));
    ioapic::init();
    let boot = boot_info::set(boot);
    cpu::enable_interrupts();
    crate::entry::kernel_main(boot)
}

/// The status a test run leaves QEMU with (through `isa-debug-exit`, which
/// makes QEMU exit with `(value << 1) | 1`: 33 for success, 35 for failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QemuExit {
    Success = 0x10,
    Failure = 0x11,
}

/// Leaves QEMU if it has an `isa-debug-exit` device at port 0xf4; otherwise
/// (a normal boot) stops the CPU.
pub fn exit_qemu(status: QemuExit) -> ! {
    port::write_u32(0xf4, status as u32);
    cpu::halt_forever()
}

/// Powers the machine off (`host_power_off`): QEMU's isa-debug-exit at
/// 0xf4 (QEMU exits with `(status << 1) | 1`), then ACPI's sleep command on
/// q35's PM1a control register (0x604: SLP_EN with SLP_TYP 0), which a
/// real machine has too. Returns only if the machine stayed on.
pub fn power_off(status: u8) {
    port::write_u8(0xf4, status);
    port::write_u16(0x604, 0x2000);
}

/// After a fatal error: test builds leave QEMU with the failure status so the
/// run fails at once; normal builds stop the CPU so the report stays on screen.
pub fn stop_after_fatal_error() -> ! {
    if cfg!(feature = "ktest") {
        exit_qemu(QemuExit::Failure)
    }
    cpu::halt_forever()
}
