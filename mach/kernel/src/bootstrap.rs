//! Starting the first user task: the bootstrap task.
//!
//! The first boot module is loaded as an ELF executable. The others are
//! copied read-only into its address space from `MODULES_BASE` on, and a
//! read-only [`BootstrapInfo`] header at `INFO_ADDRESS`, followed by one
//! [`BootModule`] entry per module, lists them and names the send right to
//! the privileged host port the task is given. The task's first argument
//! register holds `INFO_ADDRESS`. The device list at
//! `BootstrapInfo::DEVICES_OFFSET` names the devices the firmware described
//! (aarch64's device tree; empty on x86_64), for the drivers. From there the bootstrap task starts
//! every other server (docs/bootstrap.md).
#![forbid(unsafe_code)]

use crate::boot_info::Module;
use crate::task::{self, SpawnError, TaskId};
use mach_abi::{
    BootDevice, BootModule, BootstrapInfo, BOOTSTRAP_DEVICES_MAX, BOOTSTRAP_INFO_MAGIC, BOOTSTRAP_INFO_REGION_SIZE,
    BOOTSTRAP_INFO_VERSION, BOOTSTRAP_MODULES_MAX, BOOTSTRAP_MODULE_NAME_MAX,
};

/// Where the info header and entries are mapped in the bootstrap task.
pub const INFO_ADDRESS: u64 = 0x0000_0010_0000_0000;
/// Where the module copies start (each page aligned, one after another).
pub const MODULES_BASE: u64 = INFO_ADDRESS + BOOTSTRAP_INFO_REGION_SIZE as u64;

/// A module to hand the bootstrap task: its name and contents.
#[derive(Clone, Copy, Debug)]
pub struct ModuleImage<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

impl From<&'static Module> for ModuleImage<'static> {
    fn from(module: &'static Module) -> Self {
        ModuleImage { name: module.name(), bytes: crate::memory::physical_bytes(module.range) }
    }
}

/// Starts `image` as the bootstrap task with `modules` readable and the
/// privileged host port. More than [`BOOTSTRAP_MODULES_MAX`] modules, or a
/// name longer than [`BOOTSTRAP_MODULE_NAME_MAX`], are refused
/// (`SpawnError::TooManyModules`, `SpawnError::ModuleNameTooLong`).
pub fn start(name: &str, image: &[u8], modules: &[ModuleImage], priority: u8) -> Result<TaskId, SpawnError> {
    if modules.len() > BOOTSTRAP_MODULES_MAX {
        return Err(SpawnError::TooManyModules);
    }
    if modules.iter().any(|module| module.name.len() > BOOTSTRAP_MODULE_NAME_MAX) {
        return Err(SpawnError::ModuleNameTooLong);
    }
    let mut failure = None;
    let task = task::spawn_with(name, image, priority, |kernel, task| match prepare(kernel, task, modules) {
        Ok(()) => INFO_ADDRESS,
        Err(error) => {
            failure = Some(error);
            0
        }
    })?;
    if let Some(error) = failure {
        crate::kernel::with_kernel(|kernel| kernel.terminate_task(task));
        return Err(error);
    }
    Ok(task)
}

fn prepare(kernel: &mut crate::kernel::Kernel, task: TaskId, modules: &[ModuleImage]) -> Result<(), SpawnError> {
    let host = kernel.host_privileged_port.ok_or(SpawnError::OutOfMemory)?;
    // The root of the system's tasks: its account is the machine (each
    // task still has its own limit; the holder of the privileged host port
    // hands out smaller accounts with `task_set_memory_limit`).
    let root = crate::account::Account::new(crate::memory::frame::usable_frames(), crate::kernel::MAX_TASKS);
    kernel.tasks.get_mut(task).ok_or(SpawnError::OutOfMemory)?.vm.found_account(root);
    let space = kernel.tasks.get(task).ok_or(SpawnError::OutOfMemory)?.space;
    let host_name =
        crate::ipc::port_traps::give_send_right(kernel, space, host).map_err(|_| SpawnError::OutOfMemory)?;
    let object = kernel.tasks.get_mut(task).ok_or(SpawnError::OutOfMemory)?;
    let (tables, vm) = (object.page_tables.as_mut().ok_or(SpawnError::OutOfMemory)?, &mut object.vm);
    let info = BootstrapInfo {
        magic: BOOTSTRAP_INFO_MAGIC,
        version: BOOTSTRAP_INFO_VERSION,
        host_port: host_name,
        module_count: modules.len() as u32,
        modules: [],
    };
    let mut bytes = info_bytes(&info);
    let mut address = MODULES_BASE;
    for module in modules {
        crate::loader::copy_into(tables, vm, address, module.bytes).map_err(SpawnError::Elf)?;
        let mut name = [0u8; BOOTSTRAP_MODULE_NAME_MAX];
        name[..module.name.len()].copy_from_slice(module.name.as_bytes());
        let entry = BootModule { address, size: module.bytes.len() as u64, name };
        bytes.extend_from_slice(&entry.address.to_le_bytes());
        bytes.extend_from_slice(&entry.size.to_le_bytes());
        bytes.extend_from_slice(&entry.name);
        address += (module.bytes.len() as u64)
            .next_multiple_of(crate::memory::PAGE_SIZE as u64)
            .max(crate::memory::PAGE_SIZE as u64);
    }
    // The device list at its fixed offset, ending with an END entry.
    bytes.resize(BootstrapInfo::DEVICES_OFFSET, 0);
    let devices = crate::arch::boot_devices();
    for device in devices.iter().take(BOOTSTRAP_DEVICES_MAX).chain(core::iter::once(&BootDevice::END)) {
        bytes.extend_from_slice(&device.kind.to_le_bytes());
        bytes.extend_from_slice(&device.line.to_le_bytes());
        bytes.extend_from_slice(&device.address.to_le_bytes());
    }
    debug_assert!(bytes.len() <= BOOTSTRAP_INFO_REGION_SIZE);
    crate::loader::copy_into(tables, vm, INFO_ADDRESS, &bytes).map_err(SpawnError::Elf)
}

/// The header's bytes, field by field in the `repr(C)` layout.
fn info_bytes(info: &BootstrapInfo) -> alloc::vec::Vec<u8> {
    let capacity = BootstrapInfo::MODULES_OFFSET + info.module_count as usize * size_of::<BootModule>();
    let mut bytes = alloc::vec::Vec::with_capacity(capacity);
    for word in [info.magic, info.version, info.host_port, info.module_count] {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    debug_assert_eq!(bytes.len(), BootstrapInfo::MODULES_OFFSET);
    bytes
}
