//! User memory as the kernel may touch it: never through user addresses.
//!
//! A pointer or length from a trap is an *allegation* ([`UserBuffer`]) until
//! checked against the task's page tables. Copies walk the tables page by
//! page, require each page to be mapped for user access (and writable, for
//! copies out), and move the bytes through the direct map. So a bad pointer
//! is an error code for the caller, never a kernel fault, and a task cannot
//! make the kernel read or write kernel memory on its behalf.

use crate::arch::paging::{self, PageTables, USER_END};
use crate::memory::{PageFlags, PAGE_SIZE};

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

/// Visits `buffer` page by page as (kernel address, length) pieces after
/// checking each page's rights.
fn for_each_piece(
    tables: &PageTables,
    buffer: UserBuffer,
    write: bool,
    mut visit: impl FnMut(usize, usize),
) -> Result<(), UserMemoryError> {
    let end = buffer.end()?;
    let mut address = buffer.address;
    while address < end {
        let page_end = (address / PAGE_SIZE as u64 + 1) * PAGE_SIZE as u64;
        let piece = (page_end.min(end) - address) as usize;
        let (physical, flags) = tables.translate(address).ok_or(UserMemoryError::Unmapped(address))?;
        if !flags.contains(PageFlags::USER) || (write && !flags.contains(PageFlags::WRITABLE)) {
            return Err(UserMemoryError::Protection(address));
        }
        visit(paging::direct_map_address(physical), piece);
        address += piece as u64;
    }
    Ok(())
}

/// Checks that the whole range may be written by the user.
pub fn check_writable(tables: &PageTables, buffer: UserBuffer) -> Result<(), UserMemoryError> {
    check(tables, buffer, true)
}

/// Checks the whole range first, so a failed copy changes nothing.
fn check(tables: &PageTables, buffer: UserBuffer, write: bool) -> Result<(), UserMemoryError> {
    for_each_piece(tables, buffer, write, |_, _| {})
}

/// Copies `destination.len()` bytes from the user buffer.
pub fn copy_from_user(tables: &PageTables, source: UserBuffer, destination: &mut [u8]) -> Result<(), UserMemoryError> {
    let source = UserBuffer::new(source.address, source.length.min(destination.len()));
    check(tables, source, false)?;
    let mut copied = 0;
    for_each_piece(tables, source, false, |kernel_address, length| {
        // SAFETY: `kernel_address..+length` is the direct-map view of a
        // frame the task maps for user access (checked above); the kernel
        // lock is held, so the frame stays mapped and allocated meanwhile.
        let bytes = unsafe { core::slice::from_raw_parts(kernel_address as *const u8, length) };
        destination[copied..copied + length].copy_from_slice(bytes);
        copied += length;
    })
}

/// Copies `source` into the user buffer (which must be at least as long).
pub fn copy_to_user(tables: &PageTables, destination: UserBuffer, source: &[u8]) -> Result<(), UserMemoryError> {
    if destination.length < source.len() {
        return Err(UserMemoryError::TooLong);
    }
    let destination = UserBuffer::new(destination.address, source.len());
    check(tables, destination, true)?;
    let mut copied = 0;
    for_each_piece(tables, destination, true, |kernel_address, length| {
        // SAFETY: as in `copy_from_user`, and the page is writable by the
        // user, so the kernel writing it on the user's behalf grants nothing new.
        let bytes = unsafe { core::slice::from_raw_parts_mut(kernel_address as *mut u8, length) };
        bytes.copy_from_slice(&source[copied..copied + length]);
        copied += length;
    })
}

/// Reads one plain value (an integer) from user memory.
pub fn read_u64(tables: &PageTables, address: u64) -> Result<u64, UserMemoryError> {
    let mut bytes = [0u8; 8];
    copy_from_user(tables, UserBuffer::new(address, 8), &mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Writes one plain value (an integer) to user memory.
pub fn write_u32(tables: &PageTables, address: u64, value: u32) -> Result<(), UserMemoryError> {
    copy_to_user(tables, UserBuffer::new(address, 4), &value.to_le_bytes())
}
