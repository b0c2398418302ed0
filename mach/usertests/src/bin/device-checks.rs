//! Device traps from a user-space driver holding the device (privileged
//! host) port, named by its argument. Prints `device-checks: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{Disposition, KernReturn, PortRight, Trap, INTERRUPT_MESSAGE_ID, MACH_RCV_MSG, MACH_RCV_TIMEOUT};
use libmach::trap::*;
use mach_usertests::{message, Checks};

libmach::entry!(main);

fn call(trap: Trap, arguments: [u64; 6]) -> Result<(), KernReturn> {
    // SAFETY: every pointer argument below points at a local the kernel
    // may write (or is deliberately refused before any write).
    let code = unsafe { raw_trap(trap as u64, arguments) };
    match KernReturn::from_u32(code as u32) {
        Some(KernReturn::Success) => Ok(()),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

#[cfg(target_arch = "x86_64")]
fn main(device: u64) {
    let mut checks = Checks::new("device-checks");
    let task = task_self() as u64;

    // Device memory: the HPET's registers.
    let mut address = 0u64;
    checks.equal(
        "map the HPET",
        call(Trap::DeviceMapMemory, [device, 0xfed0_0000, 4096, &raw mut address as u64, 0, 0]),
        Ok(()),
    );
    // SAFETY: the kernel mapped the HPET's register page at `address`.
    let capabilities = unsafe { core::ptr::read_volatile(address as *const u64) };
    checks.equal("HPET vendor is 0x8086", (capabilities >> 16) & 0xffff, 0x8086);
    checks.equal("unmap it", vm_deallocate(task as u32, address, 4096), Ok(()));
    checks.equal(
        "RAM is not device memory",
        call(Trap::DeviceMapMemory, [device, 0x10_0000, 4096, &raw mut address as u64, 0, 0]),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal(
        "unaligned",
        call(Trap::DeviceMapMemory, [device, 0xfed0_0010, 4096, &raw mut address as u64, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "without the device port",
        call(Trap::DeviceMapMemory, [task, 0xfed0_0000, 4096, &raw mut address as u64, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    // Powering off needs the privileged host port too (with it the machine
    // would go: scripts/tests/power-off checks that).
    checks.equal(
        "power off without the host port",
        call(Trap::HostPowerOff, [task, 1, 0, 0, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal(
        "power off with no port",
        call(Trap::HostPowerOff, [0, 1, 0, 0, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );

    // DMA memory.
    let (mut virtual_address, mut physical) = (0u64, 0u64);
    checks.equal(
        "DMA 8 KiB",
        call(Trap::DeviceDmaAllocate, [device, 8192, &raw mut virtual_address as u64, &raw mut physical as u64, 0, 0]),
        Ok(()),
    );
    checks.equal("page aligned physical address", physical % 4096 == 0 && physical != 0, true);
    // SAFETY: the kernel mapped 8 KiB of zeroed DMA memory at `virtual_address`.
    let dma = unsafe { core::slice::from_raw_parts_mut(virtual_address as *mut u8, 8192) };
    checks.equal("zeroed", dma.iter().all(|&byte| byte == 0), true);
    dma.fill(0x3c);
    checks.equal(
        "DMA without the device port",
        call(Trap::DeviceDmaAllocate, [task, 8192, &raw mut virtual_address as u64, &raw mut physical as u64, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal(
        "too much DMA",
        call(
            Trap::DeviceDmaAllocate,
            [device, 1 << 30, &raw mut virtual_address as u64, &raw mut physical as u64, 0, 0],
        ),
        Err(KernReturn::InvalidArgument),
    );

    // Interrupts as messages: the PIT on line 0, acknowledged each time.
    let port = port_allocate(task as u32, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task as u32, port, port, Disposition::MakeSend as u32);
    checks.equal(
        "bind without the device port",
        call(Trap::InterruptBind, [task, 0, port as u64, 0, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal(
        "bind a line that does not exist",
        call(Trap::InterruptBind, [device, 99, port as u64, 0, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal("bind line 0", call(Trap::InterruptBind, [device, 0, port as u64, 0, 0, 0]), Ok(()));
    let mut buffer = MessageBuffer::<64>::new();
    let mut received = 0;
    for _ in 0..3 {
        if mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, 1000).is_ok()
            && message::id(&buffer) == INTERRUPT_MESSAGE_ID
            && message::word(&buffer, 6) == 0
        {
            received += 1;
        }
        let _ = call(Trap::InterruptAcknowledge, [device, 0, 0, 0, 0, 0]);
    }
    checks.equal("three timer interrupts as messages", received, 3);
    checks.equal("unbind", call(Trap::InterruptBind, [device, 0, 0, 0, 0, 0]), Ok(()));
    checks.equal(
        "acknowledge an unbound line",
        call(Trap::InterruptAcknowledge, [device, 0, 0, 0, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    // I/O ports: refused without the device port or with a bad range;
    // granted, `in` works on the serial port's line status register.
    checks.equal(
        "I/O ports without the device port",
        call(Trap::IoPortAccess, [libmach::trap::task_self() as u64, 0x3f8, 8, 0, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal("no ports", call(Trap::IoPortAccess, [device, 0x3f8, 0, 0, 0, 0]), Err(KernReturn::InvalidArgument));
    checks.equal(
        "past the last port",
        call(Trap::IoPortAccess, [device, 0xfff8, 9, 0, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "a target that is no task",
        call(Trap::IoPortAccess, [device, 0x3f8, 8, device, 0, 0]),
        Err(KernReturn::InvalidTask),
    );
    checks.equal(
        "a target name the caller does not hold",
        call(Trap::IoPortAccess, [device, 0x3f8, 8, 0x7f00, 0, 0]),
        Err(KernReturn::InvalidName),
    );
    checks.equal(
        "a target name too large to be a name",
        call(Trap::IoPortAccess, [device, 0x3f8, 8, 1 << 40, 0, 0]),
        Err(KernReturn::InvalidTask),
    );
    // The caller's task named by its own task port: the same as MACH_PORT_NULL.
    checks.equal(
        "COM1's eight ports, to the caller's task by its port",
        call(Trap::IoPortAccess, [device, 0x3f8, 4, libmach::trap::task_self() as u64, 0, 0]),
        Ok(()),
    );
    checks.equal("COM1's eight ports", call(Trap::IoPortAccess, [device, 0x3f8, 8, 0, 0, 0]), Ok(()));
    let status: u8;
    // SAFETY: reading the 16550's line status register has no side effect;
    // the kernel granted this task ports 0x3f8..0x400.
    unsafe { core::arch::asm!("in al, dx", in("dx") 0x3fdu16, out("al") status, options(nomem, nostack)) };
    checks.equal("read the line status: transmitter empty", status & 0x20, 0x20);
    checks.finish();
}

/// The virt board's PL031 real-time clock: its registers and its line.
#[cfg(target_arch = "aarch64")]
const PL031: u64 = 0x0901_0000;
#[cfg(target_arch = "aarch64")]
const PL031_LINE: u64 = 2;

/// aarch64: the PL031's page as device memory, DMA, the PL031's alarm
/// interrupt as messages, and no I/O ports or message-signalled interrupts
/// (the kernel says so: `KERN_NOT_SUPPORTED`).
#[cfg(target_arch = "aarch64")]
fn main(device: u64) {
    let mut checks = Checks::new("device-checks");
    let task = task_self() as u64;

    let mut address = 0u64;
    checks.equal(
        "map the PL031",
        call(Trap::DeviceMapMemory, [device, PL031, 4096, &raw mut address as u64, 0, 0]),
        Ok(()),
    );
    let register = |offset: u64| (address + offset) as *mut u32;
    // SAFETY: the kernel mapped the PL031's register page at `address`;
    // RTCDR (offset 0) is its 32-bit count of seconds.
    let seconds = unsafe { core::ptr::read_volatile(register(0)) };
    checks.equal("the PL031 counts seconds since 1970, past 2020", seconds > 1_577_836_800, true);
    let mut refused = 0u64;
    checks.equal(
        "RAM is not device memory",
        call(Trap::DeviceMapMemory, [device, 0x4000_0000, 4096, &raw mut refused as u64, 0, 0]),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal(
        "unaligned",
        call(Trap::DeviceMapMemory, [device, PL031 + 0x10, 4096, &raw mut refused as u64, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "without the device port",
        call(Trap::DeviceMapMemory, [task, PL031, 4096, &raw mut refused as u64, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );

    let (mut virtual_address, mut physical) = (0u64, 0u64);
    checks.equal(
        "DMA 8 KiB",
        call(Trap::DeviceDmaAllocate, [device, 8192, &raw mut virtual_address as u64, &raw mut physical as u64, 0, 0]),
        Ok(()),
    );
    checks.equal("page aligned physical address", physical % 4096 == 0 && physical != 0, true);
    // SAFETY: the kernel mapped 8 KiB of zeroed DMA memory at `virtual_address`.
    let dma = unsafe { core::slice::from_raw_parts_mut(virtual_address as *mut u8, 8192) };
    checks.equal("zeroed", dma.iter().all(|&byte| byte == 0), true);
    dma.fill(0x3c);

    // The PL031's alarm on its line: an alarm set to the current second
    // fires at once; clearing it at the device and acknowledging the line
    // lets the next one through.
    let port = port_allocate(task as u32, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task as u32, port, port, Disposition::MakeSend as u32);
    checks.equal(
        "bind without the device port",
        call(Trap::InterruptBind, [task, PL031_LINE, port as u64, 0, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal(
        "bind a line that does not exist",
        call(Trap::InterruptBind, [device, 99, port as u64, 0, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "bind the PL031's line",
        call(Trap::InterruptBind, [device, PL031_LINE, port as u64, 0, 0, 0]),
        Ok(()),
    );
    let mut buffer = MessageBuffer::<64>::new();
    let mut received = 0;
    // SAFETY (each access): PL031 registers in the page mapped above:
    // IMSC (0x10) unmasks the alarm, MR (0x04) sets it, ICR (0x1c) clears it.
    unsafe { core::ptr::write_volatile(register(0x10), 1) };
    for _ in 0..3 {
        unsafe { core::ptr::write_volatile(register(0x04), core::ptr::read_volatile(register(0))) };
        if mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, 1000).is_ok()
            && message::id(&buffer) == INTERRUPT_MESSAGE_ID
            && message::word(&buffer, 6) == PL031_LINE as u32
        {
            received += 1;
        }
        unsafe { core::ptr::write_volatile(register(0x1c), 1) };
        let _ = call(Trap::InterruptAcknowledge, [device, PL031_LINE, 0, 0, 0, 0]);
    }
    unsafe { core::ptr::write_volatile(register(0x10), 0) };
    checks.equal("three alarm interrupts as messages", received, 3);
    checks.equal("unbind", call(Trap::InterruptBind, [device, PL031_LINE, 0, 0, 0, 0]), Ok(()));
    checks.equal(
        "acknowledge an unbound line",
        call(Trap::InterruptAcknowledge, [device, PL031_LINE, 0, 0, 0, 0]),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal("unmap it", vm_deallocate(task as u32, address, 4096), Ok(()));

    checks.equal(
        "I/O ports without the device port",
        call(Trap::IoPortAccess, [task, 0x3f8, 8, 0, 0, 0]),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal(
        "no I/O ports on aarch64",
        call(Trap::IoPortAccess, [device, 0x3f8, 8, 0, 0, 0]),
        Err(KernReturn::NotSupported),
    );
    let (mut msi_address, mut msi_data) = (0u64, 0u32);
    checks.equal(
        "no message-signalled interrupts on this board",
        call(
            Trap::InterruptBindMsi,
            [device, port as u64, &raw mut msi_address as u64, &raw mut msi_data as u64, 0, 0],
        ),
        Err(KernReturn::NotSupported),
    );
    checks.finish();
}
