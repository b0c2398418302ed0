//! Starting the first user task: the bootstrap task.
//!
//! The first boot module is loaded as an ELF executable. The others are
//! copied read-only into its address space from `MODULES_BASE` on, and a
//! read-only [`BootstrapInfo`] page at `INFO_ADDRESS` lists them and names
//! the send right to the privileged host port the task is given. The
//! task's first argument register holds `INFO_ADDRESS`. From there the
//! bootstrap task starts every other server (issue 6).

use crate::boot_info::Module;
use crate::task::{self, SpawnError, TaskId};
use mach_abi::{
    BootModule, BootstrapInfo, BOOTSTRAP_INFO_MAGIC, BOOTSTRAP_INFO_VERSION, BOOTSTRAP_MODULES_MAX,
    BOOTSTRAP_MODULE_NAME_MAX,
};

/// Where the info page is mapped in the bootstrap task.
pub const INFO_ADDRESS: u64 = 0x0000_0010_0000_0000;
/// Where the module copies start (each page aligned, one after another).
pub const MODULES_BASE: u64 = INFO_ADDRESS + 0x1000;

/// Starts `image` as the bootstrap task with `modules` readable and the
/// privileged host port.
pub fn start(name: &str, image: &[u8], modules: &[&Module], priority: u8) -> Result<TaskId, SpawnError> {
    let mut failure = None;
    let task = task::spawn_with(name, image, priority, |kernel, task| match prepare(kernel, task, modules) {
        Ok(()) => INFO_ADDRESS,
        Err(error) => {
            failure = Some(error);
            0
        }
    })?;
    if let Some(error) = failure {
        crate::scheduler::with_kernel(|kernel| kernel.terminate_task(task));
        return Err(error);
    }
    Ok(task)
}

fn prepare(kernel: &mut crate::scheduler::Kernel, task: TaskId, modules: &[&Module]) -> Result<(), SpawnError> {
    let host = kernel.host_privileged_port.ok_or(SpawnError::OutOfMemory)?;
    let space = kernel.tasks.get(task).ok_or(SpawnError::OutOfMemory)?.space;
    let host_name =
        crate::ipc::port_traps::give_send_right(kernel, space, host).map_err(|_| SpawnError::OutOfMemory)?;
    let object = kernel.tasks.get_mut(task).ok_or(SpawnError::OutOfMemory)?;
    let (tables, vm) = (object.page_tables.as_mut().ok_or(SpawnError::OutOfMemory)?, &mut object.vm);
    let mut info = BootstrapInfo {
        magic: BOOTSTRAP_INFO_MAGIC,
        version: BOOTSTRAP_INFO_VERSION,
        host_port: host_name,
        module_count: 0,
        modules: [BootModule::EMPTY; BOOTSTRAP_MODULES_MAX],
    };
    let mut address = MODULES_BASE;
    for (slot, module) in info.modules.iter_mut().zip(modules) {
        let bytes = crate::memory::physical_bytes(module.range);
        crate::loader::copy_into(tables, vm, address, bytes).map_err(SpawnError::Elf)?;
        let mut name = [0u8; BOOTSTRAP_MODULE_NAME_MAX];
        let source = module.name().as_bytes();
        let length = source.len().min(BOOTSTRAP_MODULE_NAME_MAX);
        name[..length].copy_from_slice(&source[..length]);
        *slot = BootModule { address, size: bytes.len() as u64, name };
        info.module_count += 1;
        address +=
            (bytes.len() as u64).next_multiple_of(crate::memory::PAGE_SIZE as u64).max(crate::memory::PAGE_SIZE as u64);
    }
    if modules.len() > BOOTSTRAP_MODULES_MAX {
        log::warn!("{} boot modules; the bootstrap task sees the first {BOOTSTRAP_MODULES_MAX}", modules.len());
    }
    crate::loader::copy_into(tables, vm, INFO_ADDRESS, info_bytes(&info).as_slice()).map_err(SpawnError::Elf)
}

/// The info page's bytes, field by field in the `repr(C)` layout.
fn info_bytes(info: &BootstrapInfo) -> alloc::vec::Vec<u8> {
    let mut bytes = alloc::vec::Vec::with_capacity(size_of::<BootstrapInfo>());
    for word in [info.magic, info.version, info.host_port, info.module_count] {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    for module in &info.modules {
        bytes.extend_from_slice(&module.address.to_le_bytes());
        bytes.extend_from_slice(&module.size.to_le_bytes());
        bytes.extend_from_slice(&module.name);
    }
    debug_assert_eq!(bytes.len(), size_of::<BootstrapInfo>());
    bytes
}
