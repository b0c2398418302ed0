//! The bootstrap task: the first user task, the root of the personality.
//!
//! The kernel starts it with its first argument pointing at a read-only
//! `BootstrapInfo` header, followed by one entry per boot module: a send
//! right to the privileged host port and the other boot modules, copied
//! read-only into its address space. It
//!
//! 1. reads the boot manifest (the module `system.manifest`,
//!    `mach_bootstrap_core::manifest`) and checks that every program it
//!    lists is a boot module; a bad manifest is reported with its line and
//!    column, and nothing is started;
//! 2. starts each program ([`supervisor`], [`spawn`]) once the names it
//!    needs are registered, in a new task it builds itself, giving it only
//!    what its manifest line lists: a send right to a bootstrap port of its
//!    own (always), the host port, I/O port ranges, its arguments;
//! 3. serves the name service on those ports
//!    (`mach_bootstrap_core::server`): a program registers only the names
//!    its line lists; a lookup may wait for a name, without blocking the
//!    service;
//! 4. supervises the children: it is their exception port and holds
//!    dead-name requests on their task ports, so it learns why and when
//!    each one ends, and restarts it if its line says so, within a budget.
//!
//! Everything arrives on one port set: the supervisor port (exceptions,
//! notifications) and the children's bootstrap ports. See docs/bootstrap.md.
#![no_std]
#![no_main]

extern crate alloc;

mod clock;
mod heap;
mod names;
mod power;
mod spawn;
mod supervisor;

use libmach::abi::{
    BootDevice, BootModule, BootstrapInfo, BOOTSTRAP_DEVICES_MAX, BOOTSTRAP_INFO_MAGIC, BOOTSTRAP_INFO_VERSION,
    BOOTSTRAP_MODULES_MAX, BOOT_DEVICE_END,
};
use mach_bootstrap_core::manifest::{Manifest, MANIFEST_MODULE};

libmach::entry!(main);

/// Prints a line of the bootstrap task's log.
pub fn report(arguments: core::fmt::Arguments) {
    libmach::println!("{arguments}");
}

mod heapless_line {
    /// A 256-byte line buffer (no allocation), for the reasons in the log.
    pub struct Line {
        bytes: [u8; 256],
        length: usize,
    }

    impl Default for Line {
        fn default() -> Self {
            Self { bytes: [0; 256], length: 0 }
        }
    }

    impl Line {
        pub fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("<not UTF-8>")
        }
    }

    impl core::fmt::Write for Line {
        fn write_str(&mut self, text: &str) -> core::fmt::Result {
            let take = text.len().min(self.bytes.len() - self.length);
            self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
            self.length += take;
            Ok(())
        }
    }
}

pub fn module_name(module: &BootModule) -> &str {
    core::str::from_utf8(module.name()).unwrap_or("<module name not UTF-8>")
}

/// The bytes of `module`.
fn module_bytes(module: &BootModule) -> &'static [u8] {
    // SAFETY: the kernel copied the module read-only to `address`, `size`
    // bytes long, for the life of this task.
    unsafe { core::slice::from_raw_parts(module.address as *const u8, module.size as usize) }
}

/// Reports a line and then serves nobody: the bootstrap task stays (its
/// log is the system's only account of what went wrong).
fn stop(arguments: core::fmt::Arguments) -> ! {
    report(arguments);
    libmach::runtime::park()
}

/// Says which devices the kernel found in the firmware's description of
/// the board (none on x86_64): the drivers get these addresses.
fn report_devices(devices: &[BootDevice]) {
    use core::fmt::Write;
    use libmach::abi::{BOOT_DEVICE_RTC, BOOT_DEVICE_UART, BOOT_DEVICE_VIRTIO_MMIO};
    if devices.is_empty() {
        return;
    }
    let mut line = heapless_line::Line::default();
    let _ = write!(line, "bootstrap: devices from the kernel:");
    for device in devices.iter().filter(|device| device.kind != BOOT_DEVICE_VIRTIO_MMIO) {
        let kind = match device.kind {
            BOOT_DEVICE_UART => "uart",
            BOOT_DEVICE_RTC => "rtc",
            _ => "unknown",
        };
        let _ = write!(line, " {kind} {:#x}", device.address);
    }
    let mut transports = devices.iter().filter(|device| device.kind == BOOT_DEVICE_VIRTIO_MMIO);
    if let Some(first) = transports.next() {
        let _ = write!(line, ", {} virtio-mmio from {:#x}", 1 + transports.count(), first.address);
    }
    report(format_args!("{}", line.as_str()));
}

fn main(info_address: u64) {
    // SAFETY: the kernel maps a `BootstrapInfo` header read-only at the
    // address in our first argument for the whole life of this task.
    let info = unsafe { &*(info_address as *const BootstrapInfo) };
    if info.magic != BOOTSTRAP_INFO_MAGIC || info.version != BOOTSTRAP_INFO_VERSION {
        stop(format_args!("bootstrap: no valid bootstrap information at {info_address:#x}"));
    }
    let count = (info.module_count as usize).min(BOOTSTRAP_MODULES_MAX);
    // SAFETY: `module_count` entries follow the header, mapped read-only
    // with it for the life of this task (docs/bootstrap.md).
    let modules: &'static [BootModule] = unsafe {
        core::slice::from_raw_parts((info_address as usize + BootstrapInfo::MODULES_OFFSET) as *const BootModule, count)
    };
    // SAFETY: the kernel writes the device list, up to
    // BOOTSTRAP_DEVICES_MAX entries and an END entry, at DEVICES_OFFSET of
    // the same read-only region (docs/bootstrap.md).
    let listed: &'static [BootDevice] = unsafe {
        core::slice::from_raw_parts(
            (info_address as usize + BootstrapInfo::DEVICES_OFFSET) as *const BootDevice,
            BOOTSTRAP_DEVICES_MAX + 1,
        )
    };
    let devices = &listed[..listed.iter().position(|device| device.kind == BOOT_DEVICE_END).unwrap_or(0)];
    heap::init();
    report(format_args!("bootstrap: {} module(s), host port {}", modules.len(), info.host_port));
    report_devices(devices);
    let Some(manifest_module) = modules.iter().find(|module| module.name() == MANIFEST_MODULE.as_bytes()) else {
        stop(format_args!("bootstrap: no {MANIFEST_MODULE} module: nothing to start (docs/bootstrap.md)"));
    };
    let manifest = match Manifest::parse_bytes(module_bytes(manifest_module)) {
        Ok(manifest) => manifest,
        Err(error) => stop(format_args!("bootstrap: {MANIFEST_MODULE}:{error}; starting nothing")),
    };
    for module in modules {
        let name = module_name(module);
        if name != MANIFEST_MODULE && !manifest.programs().any(|program| program.module() == name) {
            report(format_args!("bootstrap: module {name} is not in {MANIFEST_MODULE}: not started"));
        }
    }
    let mut supervisor = match supervisor::Supervisor::new(manifest, modules, devices, info.host_port) {
        Ok(supervisor) => supervisor,
        Err(supervisor::SetupError::MissingModule { line, module }) => stop(format_args!(
            "bootstrap: {MANIFEST_MODULE}:{line}: no boot module is called {module}; starting nothing"
        )),
        Err(supervisor::SetupError::Ports(error)) => stop(format_args!("bootstrap: cannot make its ports: {error:?}")),
    };
    supervisor.start_ready();
    report(format_args!("bootstrap: started {} task(s)", supervisor.running()));
    supervisor.serve();
}
