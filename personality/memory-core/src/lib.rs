//! The memory server's portable logic: the layout of one process's address
//! space, with no I/O and no Mach in it.
//!
//! [`Layout`] holds the regions of one address space — the image's
//! segments, the break, mappings, the stack, the guard pages below stacks —
//! and every rule about them: where a mapping goes, what `MAP_FIXED`
//! replaces, how `munmap`, `mprotect` and `mremap` split and join regions,
//! W^X, the protections a file mapping allows, `RLIMIT_AS` and
//! `RLIMIT_DATA`, the region budget. Each operation checks everything
//! first and changes nothing when it fails; when it succeeds it returns the
//! [`Action`]s the server must make on the process's task, in order (the VM
//! traps of docs/vm.md: allocate, map an object shared or private, protect,
//! inherit, deallocate, zero, copy). [`image::plan`] turns an executable's
//! segments into the actions of exec (text shared from the file, data
//! private, bss anonymous, the tail of the last file page zeroed).
//!
//! Anonymous memory is the kernel's: zero fill and copy-on-write happen in
//! its fault handler. So a fork is nothing here but a copy of the layout
//! ([`Layout::clone`]): the kernel copies the memory by each region's
//! inheritance (`MAP_SHARED` shares, `MAP_PRIVATE` copies), which the
//! actions set when the region is made.
//!
//! Tested on the host against a page-by-page model of the kernel's map
//! (`tests/model.rs`): random operations, and after each the model built
//! only from the actions must agree with the layout, page by page.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod action;
pub mod image;
pub mod layout;
pub mod region;

pub use action::Action;
pub use layout::{Layout, Limits, Outcome};
pub use region::{Backing, FileKey, Region, Role};

/// The page size.
pub const PAGE_SIZE: u64 = 4096;
/// Lowest address a region may use: the first page stays unmapped so a
/// null pointer faults.
pub const USER_LOWEST: u64 = PAGE_SIZE;
/// One past the highest user address (the kernel's user limit): the stack
/// ends here.
pub const USER_TOP: u64 = 0x0000_7fff_ff00_0000;
/// Where mappings without `MAP_FIXED` start being placed (the break grows
/// up towards it).
pub const MAPPING_BASE: u64 = 0x0000_1000_0000_0000;
/// The largest stack exec makes (RLIMIT_STACK above it is cut to it).
pub const STACK_MAX: u64 = 1 << 30;
/// The stack exec makes when RLIMIT_STACK is smaller than this.
pub const STACK_MIN: u64 = 64 * 1024;
/// Most regions one layout may have (the kernel allows 4096 a task; this
/// leaves it room for the pieces an image's segments may need).
pub const REGIONS_MAX: usize = 4000;

/// `RLIM_INFINITY`: no limit.
pub const UNLIMITED: u64 = u64::MAX;

/// `PROT_*` (the same bits as the kernel's `VM_PROT_*`).
pub mod protection {
    pub const NONE: u32 = 0;
    pub const READ: u32 = 1;
    pub const WRITE: u32 = 2;
    pub const EXECUTE: u32 = 4;
    pub const ALL: u32 = READ | WRITE | EXECUTE;
}

/// `MAP_*` flags (Linux's values, as minilibc's `<sys/mman.h>`).
pub mod map_flags {
    pub const SHARED: u32 = 0x01;
    pub const PRIVATE: u32 = 0x02;
    pub const SHARED_VALIDATE: u32 = 0x03;
    pub const TYPE: u32 = 0x0f;
    pub const FIXED: u32 = 0x10;
    pub const ANONYMOUS: u32 = 0x20;
    pub const GROWSDOWN: u32 = 0x100;
    pub const NORESERVE: u32 = 0x4000;
    pub const POPULATE: u32 = 0x8000;
    pub const STACK: u32 = 0x20000;
    pub const HUGETLB: u32 = 0x40000;
    pub const FIXED_NOREPLACE: u32 = 0x10_0000;
}

/// `mremap` flags.
pub mod remap_flags {
    pub const MAYMOVE: u32 = 1;
    pub const FIXED: u32 = 2;
}

/// `msync` flags.
pub mod sync_flags {
    pub const ASYNC: u32 = 1;
    pub const INVALIDATE: u32 = 2;
    pub const SYNC: u32 = 4;
}

/// A POSIX error number (Linux's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOEXEC: Errno = Errno(8);
    pub const EBADF: Errno = Errno(9);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EFAULT: Errno = Errno(14);
    pub const EEXIST: Errno = Errno(17);
    pub const ENODEV: Errno = Errno(19);
    pub const EINVAL: Errno = Errno(22);
}

/// Rounds up to a whole page; `None` if that overflows.
pub fn page_round_up(value: u64) -> Option<u64> {
    value.checked_add(PAGE_SIZE - 1).map(|value| value & !(PAGE_SIZE - 1))
}

/// Rounds down to a page.
pub const fn page_round_down(value: u64) -> u64 {
    value & !(PAGE_SIZE - 1)
}

/// Checks a protection: only `PROT_*` bits (`EINVAL`), never write with
/// execute (`EACCES`: W^X).
pub fn check_protection(value: u32) -> Result<u32, Errno> {
    if value & !protection::ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if value & protection::WRITE != 0 && value & protection::EXECUTE != 0 {
        return Err(Errno::EACCES);
    }
    Ok(value)
}

/// The kernel page limit for a task whose address space is limited to
/// `address_space` bytes: its pages, the page tables that map them (one
/// table page per 512 pages, and the upper levels), and a little for what
/// the kernel holds for the task besides (kernel stacks, objects). `None`
/// for no limit (the kernel's default then applies).
pub fn kernel_page_limit(address_space: u64) -> Option<u64> {
    if address_space == UNLIMITED {
        return None;
    }
    let pages = address_space.div_ceil(PAGE_SIZE);
    Some(pages.saturating_add(pages / 512).saturating_add(64))
}
