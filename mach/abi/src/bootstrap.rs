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
//! port range the entry grants, [`AT_MACH_POWER_OFF`] if it grants
//! `power-off`, and, with the host port, one
//! [`AT_MACH_DEVICE`] per device the kernel found in the firmware's
//! description of the board (aarch64's device tree). See docs/bootstrap.md.

/// `BootstrapInfo::magic`: "MRBI".
pub const BOOTSTRAP_INFO_MAGIC: u32 = 0x4942_524d;
/// Version 3: the module entries follow the header, `module_count` of them,
/// and the device list is at [`BootstrapInfo::DEVICES_OFFSET`] (version 2
/// had no device list).
pub const BOOTSTRAP_INFO_VERSION: u32 = 3;
/// Most boot modules the kernel accepts, the bootstrap task's own included.
/// A boot with more is refused (the kernel stops with an error), and the
/// build scripts refuse to assemble such a list.
pub const BOOT_MODULES_MAX: usize = 256;
/// Most modules listed to the bootstrap task (every module but its own).
pub const BOOTSTRAP_MODULES_MAX: usize = BOOT_MODULES_MAX - 1;
/// Longest module name (the file name it was loaded from), in bytes. The
/// kernel refuses a boot with a longer one.
pub const BOOTSTRAP_MODULE_NAME_MAX: usize = 48;
/// Most devices listed to the bootstrap task (QEMU virt has a PL011, a
/// PL031 and 32 virtio-mmio transports).
pub const BOOTSTRAP_DEVICES_MAX: usize = 48;
/// Bytes of the bootstrap task's address space the header, the module
/// entries and the device list may take (the module copies start after
/// them).
pub const BOOTSTRAP_INFO_REGION_SIZE: usize = (core::mem::size_of::<BootstrapInfo>()
    + BOOTSTRAP_MODULES_MAX * core::mem::size_of::<BootModule>()
    + (BOOTSTRAP_DEVICES_MAX + 1) * core::mem::size_of::<BootDevice>())
.next_multiple_of(4096);

/// [`BootDevice::kind`]: the end of the device list.
pub const BOOT_DEVICE_END: u32 = 0;
/// [`BootDevice::kind`]: the serial line (an ARM PL011), its register page.
pub const BOOT_DEVICE_UART: u32 = 1;
/// [`BootDevice::kind`]: the real-time clock (an ARM PL031), its register page.
pub const BOOT_DEVICE_RTC: u32 = 2;
/// [`BootDevice::kind`]: one virtio-mmio transport, its register window.
pub const BOOT_DEVICE_VIRTIO_MMIO: u32 = 3;

/// One device the kernel read from the firmware's description of the board
/// (the device tree on aarch64; none on x86_64, whose devices are at the
/// PC's fixed ports). The list at [`BootstrapInfo::DEVICES_OFFSET`] ends
/// with a [`BOOT_DEVICE_END`] entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootDevice {
    /// `BOOT_DEVICE_*`.
    pub kind: u32,
    /// Its interrupt line as `interrupt_bind` takes it (the GIC's shared
    /// peripheral interrupt number), [`BOOT_DEVICE_NO_LINE`] if it has none.
    pub line: u32,
    /// The physical address of its registers.
    pub address: u64,
}

/// [`BootDevice::line`] of a device without an interrupt line.
pub const BOOT_DEVICE_NO_LINE: u32 = u32::MAX;

impl BootDevice {
    pub const END: BootDevice = BootDevice { kind: BOOT_DEVICE_END, line: 0, address: 0 };
}

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
    /// Byte offset of the device list from the header's start: after room
    /// for [`BOOTSTRAP_MODULES_MAX`] module entries, whatever their count.
    pub const DEVICES_OFFSET: usize = Self::MODULES_OFFSET + BOOTSTRAP_MODULES_MAX * core::mem::size_of::<BootModule>();
}

const _: () = assert!(core::mem::size_of::<BootModule>() == 64);
const _: () = assert!(core::mem::size_of::<BootstrapInfo>() == 16);
const _: () = assert!(BootstrapInfo::MODULES_OFFSET == 16);
const _: () = assert!(core::mem::size_of::<BootDevice>() == 16);
const _: () = assert!(BootstrapInfo::DEVICES_OFFSET.is_multiple_of(8));
const _: () = assert!(BOOTSTRAP_INFO_REGION_SIZE == 20 * 1024);

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

/// Auxiliary vector: present (value 1) only when the program's manifest
/// entry grants `power-off`: the program may power the machine off
/// (`host_power_off`, with the host port it is granted too). The process
/// server powers off at init's end only with it (docs/process-server.md,
/// "Power-off"); a system booted inside a test machine is not granted it.
pub const AT_MACH_POWER_OFF: u64 = 0x1010;

/// An [`AT_MACH_IO_PORTS`] value: the first port in bits 0-15, the count
/// (1 to 65,536) in bits 16-32.
pub const fn io_port_range(first: u16, count: u32) -> u64 {
    first as u64 | (count as u64) << 16
}

/// The `(first, count)` of an [`AT_MACH_IO_PORTS`] value.
pub const fn io_port_range_of(value: u64) -> (u16, u32) {
    (value as u16, ((value >> 16) & 0x1_ffff) as u32)
}

/// Auxiliary vector: one device of the board, for programs whose manifest
/// entry grants `host-port` (the authority that maps device memory and
/// binds interrupt lines), one entry per [`BootDevice`] the kernel listed:
/// [`device_entry`] makes the value, [`device_entry_of`] reads it. Absent
/// on x86_64.
pub const AT_MACH_DEVICE: u64 = 0x100f;

/// Bits of an [`AT_MACH_DEVICE`] value that hold the address (bits 0-47),
/// the line (bits 48-59; all ones for none) and the kind (bits 60-63).
const DEVICE_ADDRESS_BITS: u32 = 48;
const DEVICE_LINE_BITS: u32 = 12;
const DEVICE_LINE_NONE: u64 = (1 << DEVICE_LINE_BITS) - 1;

/// The [`AT_MACH_DEVICE`] value of `device`; `None` if it does not fit
/// (an address from 2^48, a line from 4095, a kind from 16).
pub const fn device_entry(device: &BootDevice) -> Option<u64> {
    let line = if device.line == BOOT_DEVICE_NO_LINE { DEVICE_LINE_NONE } else { device.line as u64 };
    if device.address >> DEVICE_ADDRESS_BITS != 0 || line > DEVICE_LINE_NONE || device.kind >= 16 {
        return None;
    }
    if device.line != BOOT_DEVICE_NO_LINE && line == DEVICE_LINE_NONE {
        return None;
    }
    Some(
        device.address | line << DEVICE_ADDRESS_BITS | (device.kind as u64) << (DEVICE_ADDRESS_BITS + DEVICE_LINE_BITS),
    )
}

/// The device an [`AT_MACH_DEVICE`] value describes.
pub const fn device_entry_of(value: u64) -> BootDevice {
    let line = (value >> DEVICE_ADDRESS_BITS) & DEVICE_LINE_NONE;
    BootDevice {
        kind: (value >> (DEVICE_ADDRESS_BITS + DEVICE_LINE_BITS)) as u32,
        line: if line == DEVICE_LINE_NONE { BOOT_DEVICE_NO_LINE } else { line as u32 },
        address: value & ((1 << DEVICE_ADDRESS_BITS) - 1),
    }
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

    #[test]
    fn device_entries_round_trip_for_qemu_virts_devices() {
        let devices = [
            BootDevice { kind: BOOT_DEVICE_UART, line: 1, address: 0x0900_0000 },
            BootDevice { kind: BOOT_DEVICE_RTC, line: BOOT_DEVICE_NO_LINE, address: 0x0901_0000 },
            BootDevice { kind: BOOT_DEVICE_VIRTIO_MMIO, line: 47, address: 0x0a00_3e00 },
            BootDevice { kind: BOOT_DEVICE_VIRTIO_MMIO, line: 4094, address: (1 << 48) - 1 },
        ];
        for device in devices {
            let value = device_entry(&device).expect("fits");
            assert_eq!(device_entry_of(value), device);
        }
    }

    #[test]
    fn device_entries_that_do_not_fit_are_refused() {
        for device in [
            BootDevice { kind: BOOT_DEVICE_UART, line: 1, address: 1 << 48 },
            BootDevice { kind: BOOT_DEVICE_UART, line: 4095, address: 0 },
            BootDevice { kind: 16, line: 0, address: 0 },
        ] {
            assert_eq!(device_entry(&device), None, "{device:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_fitting_device_entry_round_trips(kind in 0u32..16, line in 0u32..4095, address in 0u64..(1 << 48)) {
            let device = BootDevice { kind, line, address };
            proptest::prop_assert_eq!(device_entry(&device).map(device_entry_of), Some(device));
        }
    }
}
