//! Checks that a program gets exactly the rights its boot-manifest line
//! lists. Started twice by the kernel test:
//!
//! - `rights-checks host-port io-ports=0x70-0x71 -- privileged`: it holds a
//!   send right to the privileged host port (named in its auxiliary
//!   vector), which a device trap accepts, and may read the CMOS ports
//!   0x70-0x71, the one grant its auxiliary vector tells (`AT_MACH_IO_PORTS`);
//! - `rights-checks -- unprivileged`: no host port nor I/O port grant in its
//!   auxiliary vector,
//!   none of the rights in its space is accepted by a device trap, and its
//!   only send right is its bootstrap port; then it reads port 0x71, which
//!   nobody granted it, and is killed for it.
//!
//! Prints `rights-checks privileged: N passed, N failed` (or unprivileged).
#![no_std]
#![no_main]

use libmach::abi::{KernReturn, PortName, MACH_PORT_TYPE_SEND};
use libmach::trap::{io_port_access, port_type, task_self};
use mach_examples::{println, Checks};

libmach::entry!(main);

/// Reads the CMOS data port: faults unless the task may use port 0x71.
#[cfg(target_arch = "x86_64")]
fn read_cmos_seconds() -> u8 {
    let value: u8;
    // SAFETY: selecting CMOS register 0 (seconds) and reading it has no
    // effect beyond the read; without a grant the CPU faults instead,
    // which is what the unprivileged run checks.
    unsafe {
        core::arch::asm!("out 0x70, al", in("al") 0u8, options(nomem, nostack));
        core::arch::asm!("in al, 0x71", out("al") value, options(nomem, nostack));
    }
    value
}

/// aarch64 has no I/O ports: a device is reached only through a mapping
/// the device port buys. Reads the PL031's physical address as if it were
/// mapped: it is not, so the task faults.
#[cfg(target_arch = "aarch64")]
fn read_cmos_seconds() -> u8 {
    // SAFETY: deliberately reads an address this task has not mapped (the
    // PL031's physical page): the kernel kills the task before any effect.
    unsafe { core::ptr::read_volatile(core::hint::black_box(0x0901_0000usize) as *const u8) }
}

/// What a device trap answers a right the kernel accepts as the device
/// port: x86_64 grants the port range; aarch64 has no I/O ports to grant,
/// which it says only once it has accepted the right.
#[cfg(target_arch = "x86_64")]
const DEVICE_TRAP_ACCEPTED: Result<(), KernReturn> = Ok(());
#[cfg(target_arch = "aarch64")]
const DEVICE_TRAP_ACCEPTED: Result<(), KernReturn> = Err(KernReturn::NotSupported);

/// The names of the rights a fresh space holds: index 1.., generation 0.
fn candidate_names() -> impl Iterator<Item = PortName> {
    (1..64u32).map(|index| index << 8)
}

fn main(bootstrap_port: u64) {
    let mode = libmach::runtime::argument(1).unwrap_or(b"");
    let privileged = mode == b"privileged";
    let mut checks = Checks::new(if privileged { "rights-checks privileged" } else { "rights-checks unprivileged" });
    checks.equal("argv[0] is the module", libmach::runtime::argument(0), Some(&b"rights-checks"[..]));
    checks.equal("two arguments", libmach::runtime::argument_count(), 2);
    checks.equal(
        "the auxiliary vector names the bootstrap port",
        libmach::runtime::auxiliary(libmach::abi::AT_MACH_BOOTSTRAP),
        Some(bootstrap_port),
    );
    let task = task_self();
    if privileged {
        let host = libmach::runtime::host_port();
        checks.equal("a host port is named", host.is_some(), true);
        let host = host.unwrap_or(0);
        checks.equal("it is a send right", port_type(task, host), Ok(MACH_PORT_TYPE_SEND));
        checks.equal("a device trap accepts it", io_port_access(host, 0x80, 1, 0), DEVICE_TRAP_ACCEPTED);
        // The granted ports work without a fault (the seconds are BCD, < 0x60).
        #[cfg(target_arch = "x86_64")]
        checks.equal("the granted CMOS ports", read_cmos_seconds() < 0x60, true);
        // The device tree's PL031, told in the auxiliary vector with the
        // host port (AT_MACH_DEVICE), which buys a mapping of it: its count
        // is after 2020.
        #[cfg(target_arch = "aarch64")]
        {
            let clock = libmach::runtime::device(libmach::abi::BOOT_DEVICE_RTC);
            checks.equal("the device tree's PL031 is told", clock.is_some(), true);
            checks.equal(
                "the PL031 mapped with the host port",
                libmach::device::map_memory(host, clock.map_or(0, |clock| clock.address), 4096)
                    .and_then(|clock| clock.read_u32(0))
                    .map(|seconds| seconds > 1_577_836_800),
                Ok(true),
            );
        }
        // x86_64's devices are at fixed ports: no device is told.
        #[cfg(target_arch = "x86_64")]
        checks.equal("no device is told", libmach::runtime::devices().count(), 0);
        // The one I/O port grant, told in the auxiliary vector (x86_64: no ports elsewhere).
        #[cfg(target_arch = "x86_64")]
        checks.equal(
            "the auxiliary vector tells the one grant",
            (libmach::runtime::io_port_ranges().count(), libmach::runtime::io_port_ranges().next()),
            (1, Some((0x70, 2))),
        );
        #[cfg(target_arch = "x86_64")]
        checks.equal("0x70-0x71 granted", libmach::runtime::io_ports_granted(0x70, 2), true);
        checks.equal("0x70-0x72 not all granted", libmach::runtime::io_ports_granted(0x70, 3), false);
    } else {
        checks.equal("no I/O port grant is told", libmach::runtime::io_port_ranges().count(), 0);
        checks.equal("0x70 not granted", libmach::runtime::io_ports_granted(0x70, 1), false);
        checks.equal("no host port is named", libmach::runtime::host_port(), None);
        checks.equal("no device is told without the host port", libmach::runtime::devices().count(), 0);
        let mut send_rights = 0;
        // Our task's and thread's own ports aside (every task has those).
        let own = [task, libmach::trap::thread_self()];
        for name in candidate_names().filter(|name| !own.contains(name)) {
            if port_type(task, name).is_ok_and(|kind| kind & MACH_PORT_TYPE_SEND != 0) {
                send_rights += 1;
                checks.equal(
                    "no right in the space is the host port",
                    io_port_access(name, 0x80, 1, 0),
                    Err(KernReturn::InvalidCapability),
                );
            }
        }
        checks.equal("one send right: the bootstrap port", send_rights, 1);
        checks.equal(
            "the bootstrap port is no device port",
            io_port_access(bootstrap_port as PortName, 0x80, 1, 0),
            Err(KernReturn::InvalidCapability),
        );
    }
    checks.finish();
    if !privileged {
        println!("rights-checks: reading port 0x71 without a grant");
        let value = read_cmos_seconds();
        println!("rights-checks: still alive after an ungranted port read ({value})");
    }
}
