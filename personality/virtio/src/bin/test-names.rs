//! A name service for the virtio driver's kernel tests: the bootstrap
//! task's `NameService` over a registry, served on the receive right named
//! by the argument. It stands in for the bootstrap task, which cannot yet
//! hand the driver the host port (docs/block-driver.md, "Starting it").
//! A registered right is not watched for death; a name held by a dead
//! right is taken over by the next registration, as in the bootstrap task.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use libmach::abi::PortName;
use libmach::SystemKernel;
use mach_bootstrap_core::names;
use mach_bootstrap_core::registry::Registry;
use mach_bootstrap_core::service::NameService;

libmach::entry!(main);

fn main(port: u64) {
    let mut registry = Registry::default();
    let mut registered = false;
    let mut service =
        NameService { kernel: &SystemKernel, registry: &mut registry, registered: &mut registered, watch: |_| true };
    let code = names::serve(&mut service, &SystemKernel, port as PortName);
    mach_usertests::println!("test-names: stopped: {code:?}");
}
