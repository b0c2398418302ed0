//! The virtio driver's portable logic (the driver task is
//! `personality/virtio`; docs/block-driver.md has the whole picture).
//!
//! - [`bar_assignment`]: addresses for memory BARs the firmware left empty;
//! - [`pci`]: configuration space (the legacy 0xcf8/0xcfc mechanism
//!   behind a trait), enumeration through bridges, capabilities, BARs;
//! - [`transport`]: the virtio 1.0 transports, PCI (where a device's
//!   structures are, the MSI-X table) and MMIO (one register window, an
//!   interrupt line): the status handshake, features, queues,
//!   notification, device configuration;
//! - [`queue`]: split virtqueues in DMA memory, with the driver's
//!   bookkeeping kept apart from what the device can write;
//! - [`device`]: bringing any virtio device up (reset first, so a restarted
//!   driver starts clean);
//! - [`block`]: virtio-blk's geometry, run checks, request format;
//! - [`memory`]: device and DMA memory as checked offsets;
//! - [`memory_disk`]: a block.defs server over memory, answering exactly
//!   as the driver does, for host tests of block clients (the file server).
//!
//! No traps are made here except the configuration-port `in`/`out` of
//! [`pci::PortConfigurationAccess`]; everything is tested on the host
//! against simulated functions and devices (`simulation`, test builds).
//! Bad data from a device is an error, never a panic.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod bar_assignment;
pub mod block;
pub mod device;
pub mod memory;
pub mod memory_disk;
pub mod pci;
pub mod queue;
pub mod transport;

#[cfg(test)]
mod simulation;
