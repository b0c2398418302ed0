//! User memory as the kernel may touch it: never through user addresses.
//!
//! A pointer or length from a trap is an *allegation* ([`UserBuffer`]) until
//! checked against the task's address space. Copies walk it page by page,
//! require each page to be allowed to the user (and writable, for copies
//! out), and move the bytes through the direct map. A page the task may
//! access but that is not there yet (lazy zero-fill) or is shared
//! copy-on-write is resolved by the VM map first, exactly as the task's own
//! access would be. So a bad pointer is an error code for the caller, never
//! a kernel fault, and a task cannot make the kernel read or write kernel
//! memory on its behalf.
//!
//! Not resolved here: an object page only its object can bring (a pager's
//! page not in memory, or one it write-locked). The kernel cannot wait for
//! a pager in the middle of a trap, so such a copy fails with
//! [`UserMemoryError::NeedsPage`] and the map remembers the page; the trap
//! layer waits for it and runs the trap again (`vm_fault`).

use crate::arch::paging::{self, PageTables, USER_END};
use crate::memory::{PageFlags, PAGE_SIZE};
use crate::vm::{VmError, VmMap};
use mach_abi::{VM_PROT_READ, VM_PROT_WRITE};

/// A task's address space as user copies need it: its page tables and the
/// VM map that resolves faults in them.
pub struct UserSpace<'a> {
    pub tables: &'a mut PageTables,
    pub vm: &'a mut VmMap,
}

/// An address range a user task named: not yet trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserBuffer {
    pub address: u64,
    pub length: usize,
}

/// Why a user buffer could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserMemoryError {
    /// The range wraps around or reaches into the kernel half.
    OutOfRange,
    /// This address is not mapped.
    Unmapped(u64),
    /// Mapped, but not for user access, or not writable for a copy out.
    Protection(u64),
    /// The range is longer than the operation accepts.
    TooLong,
    /// This address is an object page only its object can bring: the map
    /// remembers it (`VmMap::take_wanted_page`) for the trap layer to wait.
    NeedsPage(u64),
    /// Bringing the page would pass the task's memory limit, or the
    /// machine has no memory left.
    ResourceShortage(u64),
}

impl UserBuffer {
    pub const fn new(address: u64, length: usize) -> Self {
        Self { address, length }
    }

    fn end(&self) -> Result<u64, UserMemoryError> {
        let end = self.address.checked_add(self.length as u64).ok_or(UserMemoryError::OutOfRange)?;
        if end > USER_END {
            return Err(UserMemoryError::OutOfRange);
        }
        Ok(end)
    }
}

/// True if a page mapped with `flags` may be accessed by the user so.
fn usable(flags: PageFlags, write: bool) -> bool {
    flags.contains(PageFlags::USER) && (!write || flags.contains(PageFlags::WRITABLE))
}

/// The physical page behind `address` as the user may access it (`write`
/// or read), resolving a lazy or copy-on-write page first.
#[inline(always)]
fn resolve(
    space: &mut UserSpace,
    address: u64,
    write: bool,
) -> Result<crate::memory::PhysicalAddress, UserMemoryError> {
    if let Some((physical, flags)) = space.tables.translate(address) {
        if usable(flags, write) {
            return Ok(physical);
        }
    }
    resolve_absent(space, address, write)
}

/// `resolve` for a page not mapped with the access wanted: what the
/// task's own fault would do, off the common path (every message copy
/// takes the one above).
#[cold]
#[inline(never)]
fn resolve_absent(
    space: &mut UserSpace,
    address: u64,
    write: bool,
) -> Result<crate::memory::PhysicalAddress, UserMemoryError> {
    let access = if write { VM_PROT_WRITE } else { VM_PROT_READ };
    match space.vm.touch_for_kernel(space.tables, address, access) {
        Ok(_) => {}
        Err(VmError::NotAllocated | VmError::InvalidRange) => return Err(UserMemoryError::Unmapped(address)),
        Err(VmError::ObjectPage { .. }) => return Err(UserMemoryError::NeedsPage(address)),
        Err(VmError::OutOfMemory) => return Err(UserMemoryError::ResourceShortage(address)),
        Err(_) => return Err(UserMemoryError::Protection(address)),
    }
    match space.tables.translate(address) {
        Some((physical, flags)) if usable(flags, write) => Ok(physical),
        _ => Err(UserMemoryError::Protection(address)),
    }
}

/// Visits `buffer` page by page as (kernel address, length) pieces after
/// checking (and resolving) each page.
fn for_each_piece(
    space: &mut UserSpace,
    buffer: UserBuffer,
    write: bool,
    mut visit: impl FnMut(usize, usize),
) -> Result<(), UserMemoryError> {
    let end = buffer.end()?;
    let mut address = buffer.address;
    while address < end {
        let page_end = (address / PAGE_SIZE as u64 + 1) * PAGE_SIZE as u64;
        let piece = (page_end.min(end) - address) as usize;
        let physical = resolve(space, address, write)?;
        visit(paging::direct_map_address(physical), piece);
        address += piece as u64;
    }
    Ok(())
}

/// Checks that the whole range may be read by the user.
pub fn check_readable(space: &mut UserSpace, buffer: UserBuffer) -> Result<(), UserMemoryError> {
    for_each_piece(space, buffer, false, |_, _| {})
}

/// Checks that the whole range may be written by the user.
pub fn check_writable(space: &mut UserSpace, buffer: UserBuffer) -> Result<(), UserMemoryError> {
    for_each_piece(space, buffer, true, |_, _| {})
}

/// Most pieces one copy remembers from its checking pass (64 KiB and a
/// page: any message); a longer copy walks the tables a second time.
const REMEMBERED_PIECES: usize = 17;

/// Resolves and checks every page of `buffer` first, so a failed copy
/// changes nothing, then hands `copy` each piece: (kernel address, offset
/// in the buffer, length). The pieces found while checking are reused, so
/// a message's pages are walked once.
fn copy_pieces(
    space: &mut UserSpace,
    buffer: UserBuffer,
    write: bool,
    mut copy: impl FnMut(usize, usize, usize),
) -> Result<(), UserMemoryError> {
    // Within one page (most copies: a message, an argument): one check, one
    // piece, no list to remember.
    let end = buffer.end()?;
    if buffer.length > 0 && buffer.address / PAGE_SIZE as u64 == (end - 1) / PAGE_SIZE as u64 {
        let physical = resolve(space, buffer.address, write)?;
        copy(paging::direct_map_address(physical), 0, buffer.length);
        return Ok(());
    }
    let mut pieces = [(0usize, 0usize); REMEMBERED_PIECES];
    let mut count = 0;
    for_each_piece(space, buffer, write, |kernel_address, length| {
        if count < REMEMBERED_PIECES {
            pieces[count] = (kernel_address, length);
        }
        count += 1;
    })?;
    if count <= REMEMBERED_PIECES {
        let mut offset = 0;
        for &(kernel_address, length) in &pieces[..count] {
            copy(kernel_address, offset, length);
            offset += length;
        }
        return Ok(());
    }
    let mut offset = 0;
    for_each_piece(space, buffer, write, |kernel_address, length| {
        copy(kernel_address, offset, length);
        offset += length;
    })
}

/// Copies `destination.len()` bytes from the user buffer.
pub fn copy_from_user(
    space: &mut UserSpace,
    source: UserBuffer,
    destination: &mut [u8],
) -> Result<(), UserMemoryError> {
    let source = UserBuffer::new(source.address, source.length.min(destination.len()));
    copy_pieces(space, source, false, |kernel_address, offset, length| {
        // SAFETY: `kernel_address..+length` is the direct-map view of a
        // frame the task maps for user access (checked in this pass); the
        // kernel lock is held, so the frame stays mapped and allocated.
        let bytes = unsafe { core::slice::from_raw_parts(kernel_address as *const u8, length) };
        destination[offset..offset + length].copy_from_slice(bytes);
    })
}

/// Copies `source` into the user buffer (which must be at least as long).
pub fn copy_to_user(space: &mut UserSpace, destination: UserBuffer, source: &[u8]) -> Result<(), UserMemoryError> {
    if destination.length < source.len() {
        return Err(UserMemoryError::TooLong);
    }
    let destination = UserBuffer::new(destination.address, source.len());
    copy_pieces(space, destination, true, |kernel_address, offset, length| {
        // SAFETY: as in `copy_from_user`, and the page is writable by the
        // user, so the kernel writing it on the user's behalf grants nothing new.
        let bytes = unsafe { core::slice::from_raw_parts_mut(kernel_address as *mut u8, length) };
        bytes.copy_from_slice(&source[offset..offset + length]);
    })
}

/// Reads one plain value (an integer) from user memory.
pub fn read_u64(space: &mut UserSpace, address: u64) -> Result<u64, UserMemoryError> {
    let mut bytes = [0u8; 8];
    copy_from_user(space, UserBuffer::new(address, 8), &mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Writes one plain value (an integer) to user memory.
pub fn write_u32(space: &mut UserSpace, address: u64, value: u32) -> Result<(), UserMemoryError> {
    copy_to_user(space, UserBuffer::new(address, 4), &value.to_le_bytes())
}
