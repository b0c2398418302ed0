//! Started the way the kernel starts the bootstrap task: checks the info
//! page (magic, version), the privileged host port, `host_self`, and that
//! each `ktest-module-N` module reads back as `ktest module N` lines, and
//! the device list (one `boot-checks: device` line each, which the kernel
//! test compares with what it read from the device tree).
#![no_std]
#![no_main]

use libmach::abi::{
    device_entry, device_entry_of, BootDevice, BootstrapInfo, Trap, BOOTSTRAP_DEVICES_MAX, BOOTSTRAP_INFO_MAGIC,
    BOOTSTRAP_INFO_VERSION, BOOTSTRAP_MODULES_MAX, BOOT_DEVICE_END, BOOT_DEVICE_UART, MACH_PORT_TYPE_SEND,
};
use libmach::trap::{port_type, raw_trap, task_self};
use mach_usertests::Checks;

libmach::entry!(main);

fn main(info_address: u64) {
    let mut checks = Checks::new("boot-checks");
    // SAFETY: the kernel maps a BootstrapInfo, read-only, at the address in
    // our first argument; it stays mapped for the task's life.
    let info = unsafe { &*(info_address as *const BootstrapInfo) };
    checks.equal("magic", info.magic, BOOTSTRAP_INFO_MAGIC);
    checks.equal("version", info.version, BOOTSTRAP_INFO_VERSION);
    let task = task_self();
    checks.equal("host port is a send right", port_type(task, info.host_port), Ok(MACH_PORT_TYPE_SEND));
    // SAFETY: host_self takes no arguments and only returns a name.
    let host_name = unsafe { raw_trap(Trap::HostSelf as u64, [0; 6]) } as u32;
    checks.equal("host_self gives a send right", port_type(task, host_name), Ok(MACH_PORT_TYPE_SEND));
    checks.equal("host_self is not the privileged port", host_name != info.host_port, true);
    checks.equal("no more modules than the kernel lists", info.module_count as usize <= BOOTSTRAP_MODULES_MAX, true);
    let count = (info.module_count as usize).min(BOOTSTRAP_MODULES_MAX);
    // SAFETY: the kernel maps `module_count` entries right after the header,
    // read-only, for the task's life (docs/bootstrap.md).
    let modules = unsafe {
        core::slice::from_raw_parts(
            (info_address as usize + BootstrapInfo::MODULES_OFFSET) as *const libmach::abi::BootModule,
            count,
        )
    };
    // The kernel test compares this with the number of modules it passed.
    mach_usertests::print(format_args!("boot-checks: sees {count} modules\n"));
    let mut seen = 0;
    for module in modules {
        let name = module.name();
        let Some(number) = name.strip_prefix(b"ktest-module-") else { continue };
        seen += 1;
        // SAFETY: the kernel mapped `size` bytes of the module read-only at
        // `address` for the task's life.
        let bytes = unsafe { core::slice::from_raw_parts(module.address as *const u8, module.size as usize) };
        let mut line = [0u8; 32];
        let prefix = b"ktest module ";
        line[..prefix.len()].copy_from_slice(prefix);
        line[prefix.len()..prefix.len() + number.len()].copy_from_slice(number);
        line[prefix.len() + number.len()] = b'\n';
        let line = &line[..prefix.len() + number.len() + 1];
        let intact = bytes.len() % line.len() == 0 && bytes.chunks(line.len()).all(|chunk| chunk == line);
        checks.equal("module contents", intact, true);
    }
    checks.equal("both test modules listed", seen, 2);
    // SAFETY: the kernel maps the device list, up to BOOTSTRAP_DEVICES_MAX
    // entries and an END entry, read-only at DEVICES_OFFSET (docs/bootstrap.md).
    let listed = unsafe {
        core::slice::from_raw_parts(
            (info_address as usize + BootstrapInfo::DEVICES_OFFSET) as *const BootDevice,
            BOOTSTRAP_DEVICES_MAX + 1,
        )
    };
    let end = listed.iter().position(|device| device.kind == BOOT_DEVICE_END);
    checks.equal("the device list ends", end.is_some(), true);
    let devices = &listed[..end.unwrap_or(0)];
    for device in devices {
        mach_usertests::print(format_args!(
            "boot-checks: device {} line {} at {:#x}\n",
            device.kind, device.line, device.address
        ));
        // What the bootstrap task passes on must say the same.
        checks.equal(
            "the device fits an AT_MACH_DEVICE entry",
            device_entry(device).map(device_entry_of),
            Some(*device),
        );
    }
    let uarts = devices.iter().filter(|device| device.kind == BOOT_DEVICE_UART).count();
    // The device tree must name a UART (the kernel stops without one); x86_64 lists none.
    checks.equal("one UART listed on aarch64, none on x86_64", uarts, usize::from(cfg!(target_arch = "aarch64")));
    mach_usertests::print(format_args!("boot-checks: sees {} devices\n", devices.len()));
    checks.finish();
}
