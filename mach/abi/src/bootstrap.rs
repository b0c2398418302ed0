//! What the kernel hands the first user task (the bootstrap task).
//!
//! The bootstrap task starts with its first argument register pointing at a
//! read-only [`BootstrapInfo`] page in its address space. It names, in the
//! task's own IPC space, a send right to the privileged host port (the
//! authority later traps ask for to create device ports and the like), and
//! lists the other boot modules, each copied read-only into the task's
//! address space.

/// `BootstrapInfo::magic`: "MRBI".
pub const BOOTSTRAP_INFO_MAGIC: u32 = 0x4942_524d;
pub const BOOTSTRAP_INFO_VERSION: u32 = 1;
/// Most modules listed.
pub const BOOTSTRAP_MODULES_MAX: usize = 15;
/// Longest module name kept (NUL-padded, not necessarily NUL-terminated).
pub const BOOTSTRAP_MODULE_NAME_MAX: usize = 48;

/// One boot module as the bootstrap task sees it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootModule {
    /// Where its bytes are mapped, read-only, in the bootstrap task.
    pub address: u64,
    pub size: u64,
    /// Its name: the file name it was loaded from.
    pub name: [u8; BOOTSTRAP_MODULE_NAME_MAX],
}

impl BootModule {
    pub const EMPTY: BootModule = BootModule { address: 0, size: 0, name: [0; BOOTSTRAP_MODULE_NAME_MAX] };

    /// The name up to its first NUL.
    pub fn name(&self) -> &[u8] {
        let end = self.name.iter().position(|&byte| byte == 0).unwrap_or(self.name.len());
        &self.name[..end]
    }
}

/// The page the bootstrap task's first argument points at.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootstrapInfo {
    pub magic: u32,
    pub version: u32,
    /// Name of a send right to the privileged host port.
    pub host_port: u32,
    pub module_count: u32,
    pub modules: [BootModule; BOOTSTRAP_MODULES_MAX],
}

const _: () = assert!(core::mem::size_of::<BootModule>() == 64);
const _: () = assert!(core::mem::size_of::<BootstrapInfo>() == 16 + 64 * BOOTSTRAP_MODULES_MAX);
const _: () = assert!(core::mem::size_of::<BootstrapInfo>() <= 4096);
