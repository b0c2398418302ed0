//! What the server does on the process's task to carry out a layout
//! change: each is one VM trap (docs/vm.md), done in order.

use crate::region::FileKey;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `vm_allocate(task, address, size, VM_FLAGS_FIXED)`: anonymous
    /// memory, read-write, inherited by copy. The range is free.
    Allocate { address: u64, size: u64 },
    /// `vm_map` of the file's memory object at `offset`, fixed at
    /// `address`, private (`VM_FLAGS_COPY`) or shared, with `protection`
    /// (`PROT_*`; `PROT_NONE` is mapped read-only and then protected). The
    /// range is free.
    Map { address: u64, size: u64, file: FileKey, offset: u64, private: bool, protection: u32 },
    /// `vm_protect(task, address, size, false, protection)`.
    Protect { address: u64, size: u64, protection: u32 },
    /// `vm_inherit(task, address, size, VM_INHERIT_SHARE or _COPY)`.
    Inherit { address: u64, size: u64, share: bool },
    /// `vm_deallocate(task, address, size)`: whatever of the range is there.
    Deallocate { address: u64, size: u64 },
    /// Writes zeros over `[address, address + size)` (`vm_write`; the range
    /// is writable then): the bss tail of an image's last file page.
    Zero { address: u64, size: u64 },
    /// Copies `size` bytes from `from` to `to` within the task (`vm_read`
    /// then `vm_write`, a chunk at a time): `mremap` moving a mapping whose
    /// pages are the process's own. Both ranges are mapped, `to` writable.
    Copy { from: u64, to: u64, size: u64 },
}
