//! What the kernel hands the first user task (the bootstrap task), and what
//! the bootstrap task hands each program it starts.
//!
//! **The bootstrap task** starts with its first argument register pointing
//! at a read-only [`BootstrapInfo`] header in its address space, followed
//! directly by `module_count` [`BootModule`] entries (version 2: as many as
//! there are modules, up to [`BOOTSTRAP_MODULES_MAX`]; version 1 had a fixed
//! array of 15). It names, in the task's own IPC space, a send right to the
//! privileged host port (the authority later traps ask for to create device
//! ports and the like), and lists the other boot modules, each copied
//! read-only into the task's address space.
//!
//! **A program the bootstrap task starts** gets, in its first argument
//! register, the name of a send right to its bootstrap port, and in its
//! second the address of its start block: the System V initial stack
//! (`argc`, `argv[]`, `NULL`, `envp[]` (empty), `NULL`, then auxiliary
//! vector pairs ending with [`AT_NULL`]). The auxiliary vector carries
//! [`AT_PAGESZ`], [`AT_MACH_BOOTSTRAP`] (the bootstrap port again) and, only
//! for programs whose manifest entry grants it, [`AT_MACH_HOST`] (a send
//! right to the privileged host port). See docs/bootstrap.md.

/// `BootstrapInfo::magic`: "MRBI".
pub const BOOTSTRAP_INFO_MAGIC: u32 = 0x4942_524d;
/// Version 2: the module entries follow the header, `module_count` of them.
pub const BOOTSTRAP_INFO_VERSION: u32 = 2;
/// Most boot modules the kernel accepts, the bootstrap task's own included.
/// A boot with more is refused (the kernel stops with an error), and the
/// build scripts refuse to assemble such a list.
pub const BOOT_MODULES_MAX: usize = 256;
/// Most modules listed to the bootstrap task (every module but its own).
pub const BOOTSTRAP_MODULES_MAX: usize = BOOT_MODULES_MAX - 1;
/// Longest module name (the file name it was loaded from), in bytes. The
/// kernel refuses a boot with a longer one.
pub const BOOTSTRAP_MODULE_NAME_MAX: usize = 48;
/// Bytes of the bootstrap task's address space the header and the module
/// entries may take (the module copies start after them).
pub const BOOTSTRAP_INFO_REGION_SIZE: usize = (core::mem::size_of::<BootstrapInfo>()
    + BOOTSTRAP_MODULES_MAX * core::mem::size_of::<BootModule>())
.next_multiple_of(4096);

/// One boot module as the bootstrap task sees it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootModule {
    /// Where its bytes are mapped, read-only, in the bootstrap task.
    pub address: u64,
    pub size: u64,
    /// Its name: the file name it was loaded from, NUL-padded (not
    /// terminated when it is [`BOOTSTRAP_MODULE_NAME_MAX`] bytes long).
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

/// The header the bootstrap task's first argument points at; the
/// `module_count` entries follow it at [`BootstrapInfo::MODULES_OFFSET`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootstrapInfo {
    pub magic: u32,
    pub version: u32,
    /// Name of a send right to the privileged host port.
    pub host_port: u32,
    /// How many [`BootModule`] entries follow (at most [`BOOTSTRAP_MODULES_MAX`]).
    pub module_count: u32,
    /// Where the entries start (a C flexible array member).
    pub modules: [BootModule; 0],
}

impl BootstrapInfo {
    /// Byte offset of the first module entry from the header's start.
    pub const MODULES_OFFSET: usize = core::mem::offset_of!(BootstrapInfo, modules);
}

const _: () = assert!(core::mem::size_of::<BootModule>() == 64);
const _: () = assert!(core::mem::size_of::<BootstrapInfo>() == 16);
const _: () = assert!(BootstrapInfo::MODULES_OFFSET == 16);
const _: () = assert!(BOOTSTRAP_INFO_REGION_SIZE == 16 * 1024);

/// Auxiliary vector: the end of the vector.
pub const AT_NULL: u64 = 0;
/// Auxiliary vector: the page size.
pub const AT_PAGESZ: u64 = 6;
/// Auxiliary vector: the name of the program's send right to its bootstrap
/// port (the name service). Values from 0x1000 are Mach_R's (unused by Linux).
pub const AT_MACH_BOOTSTRAP: u64 = 0x1000;
/// Auxiliary vector: the name of a send right to the privileged host port,
/// present only when the program's manifest entry grants `host-port`.
pub const AT_MACH_HOST: u64 = 0x1001;
