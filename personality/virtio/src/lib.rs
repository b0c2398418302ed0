//! The virtio driver task (`src/bin/virtio/`) and the programs its kernel
//! tests boot: `block-checks` (a client of `block`, `block1`, `block2` and
//! `random`), `msi-checks` (message-signalled interrupts against the
//! entropy device) and `block-bench` (throughput and per-request cost).
//! docs/block-driver.md describes the driver.
//!
//! What is shared between them lives here: the test disk's contents, and
//! looking a name up until a live right is registered under it.
#![no_std]
#![forbid(unsafe_code)]

use libmach::abi::PortName;
use libmach::{SendRight, SystemKernel};
use mach_bootstrap_core::names;

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

/// Looks `name` up until a live right is registered under it, for at most
/// about `milliseconds`: `lookup_wait` waits for a registration; a right
/// whose server died before the name service noticed is dead, and the
/// lookup is made again.
pub fn lookup_until(names: &mut names::Client, name: &str, milliseconds: u64) -> Option<SendRight<SystemKernel>> {
    let mut waited = 0;
    loop {
        let left = milliseconds.saturating_sub(waited).min(u32::MAX as u64) as u32;
        match names.lookup_wait(name, left) {
            Ok(right) if !right.is_dead() && !is_dead_name(right.name()) => return Some(right),
            Ok(_) => {}
            Err(_) if waited >= milliseconds => return None,
            Err(_) => {}
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
