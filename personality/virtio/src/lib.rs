//! The virtio driver task (`src/bin/virtio/`) and the programs its kernel
//! tests boot: `block-checks` (a client of `block`, `block1` and `random`),
//! `msi-checks` (message-signalled interrupts against the entropy device),
//! `block-bench` (throughput and per-request cost) and `test-names` (a name
//! service standing in for the bootstrap task's in those tests).
//! docs/block-driver.md describes the driver.
//!
//! What is shared between them lives here: how the starter packs the
//! driver's rights into its one argument, the test disk's contents, and
//! looking a name up until it appears.
#![no_std]
#![forbid(unsafe_code)]

use libmach::abi::PortName;
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;

/// The driver's argument: the name of its bootstrap port (the name
/// service) in the low 32 bits, of the privileged host port in the high.
pub const fn driver_argument(bootstrap_port: PortName, host_port: PortName) -> u64 {
    bootstrap_port as u64 | (host_port as u64) << 32
}

/// The two names [`driver_argument`] packed.
pub const fn driver_ports(argument: u64) -> (PortName, PortName) {
    (argument as PortName, (argument >> 32) as PortName)
}

/// The byte at `offset` of the test disk `scripts/lib/common.sh`
/// (`build_test_disk`) makes: every sector different, every byte of one
/// predictable, so a read from the wrong place or a torn read shows.
pub const fn test_disk_byte(offset: u64) -> u8 {
    let sector = offset / 512;
    ((sector.wrapping_mul(31) ^ (sector >> 8)) as u8) ^ ((offset % 512) as u8).wrapping_mul(3) ^ 0x5a
}

/// The pattern `block-checks` writes at `offset` (bytes from the start of
/// the disk) in pass `pass`: the host checks the image for it afterwards
/// (scripts/tests/block-driver).
pub const fn written_byte(offset: u64, pass: u8) -> u8 {
    ((offset / 512) as u8).wrapping_mul(17) ^ (offset as u8).wrapping_mul(5) ^ pass.wrapping_mul(0x3b) ^ 0xa5
}

/// Looks `name` up until it is registered (and not dead), trying every
/// 10 ms for at most `milliseconds`.
pub fn lookup_until(names: &mut names::Client, name: &str, milliseconds: u64) -> Option<SendRight<SystemKernel>> {
    let mut waited = 0;
    loop {
        if let Ok(right) = names.lookup(name) {
            if !right.is_dead() && !is_dead_name(right.name()) {
                return Some(right);
            }
        }
        if waited >= milliseconds {
            return None;
        }
        let _ = libmach::trap::thread_sleep(10);
        waited += 10;
    }
}

/// True when `name` is a dead name in this task (its port died).
pub fn is_dead_name(name: PortName) -> bool {
    libmach::trap::port_type(libmach::trap::task_self(), name)
        .is_ok_and(|kind| kind & libmach::abi::MACH_PORT_TYPE_DEAD_NAME != 0)
}
