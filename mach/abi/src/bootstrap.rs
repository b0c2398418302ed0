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
//! right to the privileged host port), and one [`AT_MACH_IO_PORTS`] per I/O
//! port range the entry grants. See docs/bootstrap.md.

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
/// Auxiliary vector: one I/O port range the program's manifest entry grants
/// (`io-ports=`), one entry per range: [`io_port_range`] makes the value,
/// [`io_port_range_of`] reads it. A program checks here before `in`/`out`
/// on a port it may lack: an ungranted port faults. (It was 0x1002 until
/// 2026-12-07, the number of [`AT_MACH_PROC`] too: every `AT_MACH_*` key is
/// distinct now, a test in `c_header` checks it.)
pub const AT_MACH_IO_PORTS: u64 = 0x100e;

/// An [`AT_MACH_IO_PORTS`] value: the first port in bits 0-15, the count
/// (1 to 65,536) in bits 16-32.
pub const fn io_port_range(first: u16, count: u32) -> u64 {
    first as u64 | (count as u64) << 16
}

/// The `(first, count)` of an [`AT_MACH_IO_PORTS`] value.
pub const fn io_port_range_of(value: u64) -> (u16, u32) {
    (value as u16, ((value >> 16) & 0x1_ffff) as u32)
}

// The System V entries the process server puts in a process's auxiliary
// vector at exec (Linux's numbers).
/// Auxiliary vector: where the program headers are in memory.
pub const AT_PHDR: u64 = 3;
/// Auxiliary vector: the size of one program header.
pub const AT_PHENT: u64 = 4;
/// Auxiliary vector: how many program headers there are.
pub const AT_PHNUM: u64 = 5;
/// Auxiliary vector: the program's entry point.
pub const AT_ENTRY: u64 = 9;
/// Auxiliary vector: the real and effective user and group ids.
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
/// Auxiliary vector: 1 if the image runs with ids other than its caller's
/// (set-user-ID or set-group-ID), else 0.
pub const AT_SECURE: u64 = 23;
/// Auxiliary vector: the address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;

// Mach_R's entries of a process's auxiliary vector (the process server's;
// docs/personality.md, "What a process holds", and docs/process-server.md).
/// Auxiliary vector: the name of the process's send right to its process
/// port at the process server.
pub const AT_MACH_PROC: u64 = 0x1002;
/// Auxiliary vector: the name of the process's send right to its address
/// space at the memory server.
pub const AT_MACH_MEMORY: u64 = 0x1003;
/// Auxiliary vector: the name of the send right to the root directory (an
/// open directory of the file server), 0 if none.
pub const AT_MACH_ROOT: u64 = 0x1004;
/// Auxiliary vector: the name of the send right to the working directory,
/// 0 if none.
pub const AT_MACH_CWD: u64 = 0x1005;
/// Auxiliary vector: the address of the descriptor table, an array of
/// [`ProcessDescriptor`] records on the initial stack, by increasing number.
pub const AT_MACH_FDS: u64 = 0x1006;
/// Auxiliary vector: how many records the descriptor table has.
pub const AT_MACH_FD_COUNT: u64 = 0x1007;
/// Auxiliary vector: the signal mask the image starts with (bit `n - 1` for
/// signal `n`).
pub const AT_MACH_SIGNAL_MASK: u64 = 0x1008;
/// Auxiliary vector: the file creation mask (`umask`).
pub const AT_MACH_UMASK: u64 = 0x1009;
/// Auxiliary vector: the process's pid (which never changes).
pub const AT_MACH_PID: u64 = 0x100a;
/// Auxiliary vector: the wall clock at the kernel clock's zero, in
/// nanoseconds since the epoch (UTC): `clock_gettime(CLOCK_REALTIME)` is
/// this plus `clock_get_time`.
pub const AT_MACH_BOOT_TIME: u64 = 0x100b;
/// Auxiliary vector (posix_spawn with a foreground terminal only): the
/// descriptor of a terminal whose foreground process group the new image
/// makes its own group before `main` (`tcsetpgrp(fd, getpgrp())` with
/// SIGTTOU blocked).
pub const AT_MACH_FOREGROUND: u64 = 0x100c;
/// Auxiliary vector: the signals the new image starts ignoring (kept
/// ignored across exec, as POSIX wants), bit `n - 1` for signal `n`.
/// minilibc reads it (docs/minilibc.md, "Needs from the process server");
/// the process server does not send it yet, and without it the image
/// believes none is ignored.
pub const AT_MACH_SIGNAL_IGNORED: u64 = 0x100d;

/// One entry of a process's descriptor table ([`AT_MACH_FDS`]): the
/// descriptor's number, the name of its send right, its descriptor flags
/// (`FD_CLOEXEC` = 1; never set at exec).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessDescriptor {
    pub number: i32,
    pub name: u32,
    pub flags: u32,
}

const _: () = assert!(core::mem::size_of::<ProcessDescriptor>() == 12);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_port_ranges_round_trip_to_the_whole_port_space() {
        for (first, count) in [(0x70, 2), (0xf4, 4), (0, 65_536), (0xffff, 1), (0xcf9, 1)] {
            assert_eq!(io_port_range_of(io_port_range(first, count)), (first, count));
        }
    }
}
