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
//!
//! This layer does not know the VM policy: what brings a page is the
//! [`ResolveFault`] the caller's [`UserSpace`] carries (the task's VM map).
//!
//! A check that a buffer is writable returns a [`WritableBuffer`], the
//! token the copy out consumes: the pages the check found are written
//! without a second walk, and nothing can fail there unless the task's
//! page tables changed in between (then the copy checks again).

use crate::arch::paging::{self, PageTables, USER_END};
use crate::memory::{Frame, PageFlags, PAGE_SIZE};

/// Why a page the user may access could not be brought for the kernel's
/// copy (what [`ResolveFault::resolve_for_kernel`] answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// No region covers the address.
    Unmapped,
    /// A region covers it, but not for this access.
    Protection,
    /// An object page only its object can bring (remembered for the trap
    /// layer to wait for).
    NeedsPage,
    /// The task's memory limit or the machine's memory is reached.
    ResourceShortage,
}

/// What brings a page the user may access but that is not mapped so (a
/// lazy zero-fill, a copy-on-write break), exactly as the task's own
/// access would: the VM map, a layer above this one.
pub trait ResolveFault {
    /// Makes `page` accessible in `tables` for `write` or read, or says why not.
    fn resolve_for_kernel(&mut self, tables: &mut PageTables, page: u64, write: bool) -> Result<(), Unresolved>;
}

/// A task's address space as user copies need it: its page tables and
/// what resolves faults in them (`M`: the task's VM map).
pub struct UserSpace<'a, M: ResolveFault> {
    pub tables: &'a mut PageTables,
    pub vm: &'a mut M,
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
fn resolve<M: ResolveFault>(
    space: &mut UserSpace<M>,
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
fn resolve_absent<M: ResolveFault>(
    space: &mut UserSpace<M>,
    address: u64,
    write: bool,
) -> Result<crate::memory::PhysicalAddress, UserMemoryError> {
    match space.vm.resolve_for_kernel(space.tables, address & !(PAGE_SIZE as u64 - 1), write) {
        Ok(()) => {}
        Err(Unresolved::Unmapped) => return Err(UserMemoryError::Unmapped(address)),
        Err(Unresolved::NeedsPage) => return Err(UserMemoryError::NeedsPage(address)),
        Err(Unresolved::ResourceShortage) => return Err(UserMemoryError::ResourceShortage(address)),
        Err(Unresolved::Protection) => return Err(UserMemoryError::Protection(address)),
    }
    match space.tables.translate(address) {
        Some((physical, flags)) if usable(flags, write) => Ok(physical),
        _ => Err(UserMemoryError::Protection(address)),
    }
}

/// Visits `buffer` page by page as (kernel address, length) pieces after
/// checking (and resolving) each page.
fn for_each_piece<M: ResolveFault>(
    space: &mut UserSpace<M>,
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
pub fn check_readable<M: ResolveFault>(space: &mut UserSpace<M>, buffer: UserBuffer) -> Result<(), UserMemoryError> {
    for_each_piece(space, buffer, false, |_, _| {})
}

/// Checks that the whole range may be written by the user (bringing its
/// pages), for a trap that then writes it piece by piece with
/// [`copy_to_user`] (each copy may still fail); a trap that writes it in
/// one copy takes [`writable`]'s token instead.
pub fn check_writable<M: ResolveFault>(space: &mut UserSpace<M>, buffer: UserBuffer) -> Result<(), UserMemoryError> {
    for_each_piece(space, buffer, true, |_, _| {})
}

/// Proof that `buffer` was checked writable by the user, with the direct-map
/// pieces the check found; consumed by [`WritableBuffer::write`]. Valid
/// while the page tables keep the change count they had at the check (no
/// mapping removed or re-protected since). It keeps two pieces: any buffer
/// of up to a page, however aligned (a message, an output integer); a
/// longer one is checked again when written. Five words, as it is moved
/// around a trap.
#[derive(Debug)]
#[must_use = "the check's token is consumed by the copy out"]
pub struct WritableBuffer {
    buffer: UserBuffer,
    change_count: u64,
    /// The direct-map address of the buffer's first byte (its first piece
    /// runs to the end of that page or of the buffer).
    first: usize,
    /// The direct-map address of the second page's first byte: `NO_PAGE`
    /// if the buffer does not reach there, `MORE_PAGES` if it reaches into
    /// a third (then the write walks it again).
    second: usize,
}

/// `WritableBuffer::second` of a buffer within one page (the direct map
/// never starts at 0).
const NO_PAGE: usize = 0;
/// `WritableBuffer::second` of a buffer longer than two pieces.
const MORE_PAGES: usize = usize::MAX;

/// Checks that the whole range may be written by the user (bringing its
/// pages) and returns the token its copy out consumes.
pub fn writable<M: ResolveFault>(
    space: &mut UserSpace<M>,
    buffer: UserBuffer,
) -> Result<WritableBuffer, UserMemoryError> {
    let end = buffer.end()?;
    let mut token = WritableBuffer { buffer, change_count: 0, first: 0, second: NO_PAGE };
    if buffer.length > 0 && buffer.address / PAGE_SIZE as u64 == (end - 1) / PAGE_SIZE as u64 {
        // Within one page (most buffers): one check, no list.
        token.first = paging::direct_map_address(resolve(space, buffer.address, true)?);
    } else {
        let mut count = 0;
        for_each_piece(space, buffer, true, |kernel_address, _| {
            match count {
                0 => token.first = kernel_address,
                1 => token.second = kernel_address,
                _ => token.second = MORE_PAGES,
            }
            count += 1;
        })?;
    }
    token.change_count = space.tables.change_count();
    Ok(token)
}

impl WritableBuffer {
    /// The buffer checked.
    pub fn buffer(&self) -> UserBuffer {
        self.buffer
    }

    /// True while the page tables are as they were at the check, so
    /// [`WritableBuffer::write`] writes the pieces found then and cannot
    /// fail. A token kept past its trap (a blocked receive's buffer, used
    /// when a sender hands it a message) is asked this first: `space` must
    /// be the task's it was checked in (a task keeps its page tables for
    /// life).
    pub fn is_current<M: ResolveFault>(&self, space: &UserSpace<M>) -> bool {
        self.change_count == space.tables.change_count()
    }

    /// Copies the first `destination.len()` bytes of the checked buffer out
    /// (a call's message, sent from the buffer its reply will be received
    /// in). A page the user may write it may read, so with the page tables
    /// unchanged the pieces found by the check serve, without a second
    /// walk; otherwise it reads as [`copy_from_user`] does.
    pub fn read<M: ResolveFault>(
        &self,
        space: &mut UserSpace<M>,
        destination: &mut [u8],
    ) -> Result<(), UserMemoryError> {
        if self.buffer.length < destination.len() {
            return Err(UserMemoryError::TooLong);
        }
        if !self.is_current(space) || self.second == MORE_PAGES {
            return copy_from_user(space, self.buffer, destination);
        }
        let first_length = PAGE_SIZE - (self.buffer.address % PAGE_SIZE as u64) as usize;
        let (head, tail) = destination.split_at_mut(first_length.min(destination.len()));
        if !head.is_empty() {
            // SAFETY: the source is the direct-map view of a frame the task
            // maps writable (so readable) for the user, found by the check,
            // with `head.len()` bytes to the end of its page; the page
            // tables have not changed since (same change count), so the
            // frame is still mapped and allocated; the kernel lock is held.
            unsafe { core::ptr::copy_nonoverlapping(self.first as *const u8, head.as_mut_ptr(), head.len()) };
        }
        if !tail.is_empty() {
            if self.second == NO_PAGE {
                return Err(UserMemoryError::TooLong);
            }
            // SAFETY: as for `head`, in the second page, which the buffer
            // (at least `destination` long, at most two pages) ends in.
            unsafe { core::ptr::copy_nonoverlapping(self.second as *const u8, tail.as_mut_ptr(), tail.len()) };
        }
        Ok(())
    }

    /// Copies `source` to the start of the checked buffer. With the page
    /// tables unchanged since the check (the rule under the kernel lock)
    /// it writes the pieces found then, and cannot fail; otherwise it
    /// checks the buffer again as [`copy_to_user`] does.
    ///
    /// The token stays valid after a write: a thread that receives into
    /// the same buffer again keeps it (`Thread::checked_receive_buffer`)
    /// and is spared the check while the tables do not change.
    pub fn write<M: ResolveFault>(&self, space: &mut UserSpace<M>, source: &[u8]) -> Result<(), UserMemoryError> {
        if self.buffer.length < source.len() {
            return Err(UserMemoryError::TooLong);
        }
        if !self.is_current(space) || self.second == MORE_PAGES {
            return copy_to_user(space, self.buffer, source);
        }
        let first_length = PAGE_SIZE - (self.buffer.address % PAGE_SIZE as u64) as usize;
        let (head, tail) = source.split_at(first_length.min(source.len()));
        if !head.is_empty() {
            // SAFETY: the destination is the direct-map view of a frame the
            // task maps writable for the user, found by the check, with
            // room for `head` (up to the end of its page); the page tables
            // have not changed since (same change count), so the frame is
            // still mapped and allocated; no reference to it exists (kernel
            // lock held).
            unsafe { core::ptr::copy_nonoverlapping(head.as_ptr(), self.first as *mut u8, head.len()) };
        }
        if !tail.is_empty() {
            if self.second == NO_PAGE {
                return Err(UserMemoryError::TooLong);
            }
            // SAFETY: as for `head`, in the second page, which the buffer
            // (at least `source` long, at most two pages) ends in.
            unsafe { core::ptr::copy_nonoverlapping(tail.as_ptr(), self.second as *mut u8, tail.len()) };
        }
        Ok(())
    }
}

/// Most pieces one copy remembers from its checking pass (64 KiB and a
/// page: any message); a longer copy walks the tables a second time.
const REMEMBERED_PIECES: usize = 17;

/// Resolves and checks every page of `buffer` first, so a failed copy
/// changes nothing, then hands `copy` each piece: (kernel address, offset
/// in the buffer, length). The pieces found while checking are reused, so
/// a message's pages are walked once.
fn copy_pieces<M: ResolveFault>(
    space: &mut UserSpace<M>,
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
pub fn copy_from_user<M: ResolveFault>(
    space: &mut UserSpace<M>,
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
pub fn copy_to_user<M: ResolveFault>(
    space: &mut UserSpace<M>,
    destination: UserBuffer,
    source: &[u8],
) -> Result<(), UserMemoryError> {
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

/// Copies a page from the user buffer (at most a page long) into `frame`.
pub fn copy_from_user_to_frame<M: ResolveFault>(
    space: &mut UserSpace<M>,
    source: UserBuffer,
    frame: Frame,
) -> Result<(), UserMemoryError> {
    let source = UserBuffer::new(source.address, source.length.min(PAGE_SIZE));
    let destination = frame.kernel_pointer();
    copy_pieces(space, source, false, |kernel_address, offset, length| {
        // SAFETY: the source piece is as in `copy_from_user`; the
        // destination is `frame` (module rule "Frame bytes"), `offset +
        // length` at most a page; a user page and the frame being filled
        // are different frames.
        unsafe { core::ptr::copy_nonoverlapping(kernel_address as *const u8, destination.add(offset), length) };
    })
}

/// Copies all of `frame` into the user buffer (at least a page long).
pub fn copy_frame_to_user<M: ResolveFault>(
    space: &mut UserSpace<M>,
    destination: UserBuffer,
    frame: Frame,
) -> Result<(), UserMemoryError> {
    if destination.length < PAGE_SIZE {
        return Err(UserMemoryError::TooLong);
    }
    let destination = UserBuffer::new(destination.address, PAGE_SIZE);
    let source = frame.kernel_pointer();
    copy_pieces(space, destination, true, |kernel_address, offset, length| {
        // SAFETY: as in `copy_from_user_to_frame`, in the other direction
        // (a page a task may write may be the very frame being read: a
        // copy between overlapping ranges, so `copy`, not `_nonoverlapping`).
        unsafe { core::ptr::copy(source.add(offset), kernel_address as *mut u8, length) };
    })
}

/// Reads one plain value (an integer) from user memory.
pub fn read_u64<M: ResolveFault>(space: &mut UserSpace<M>, address: u64) -> Result<u64, UserMemoryError> {
    let mut bytes = [0u8; 8];
    copy_from_user(space, UserBuffer::new(address, 8), &mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Writes one plain value (an integer) to user memory.
pub fn write_u32<M: ResolveFault>(space: &mut UserSpace<M>, address: u64, value: u32) -> Result<(), UserMemoryError> {
    copy_to_user(space, UserBuffer::new(address, 4), &value.to_le_bytes())
}

/// Writes one plain value (an integer) into a buffer checked writable.
pub fn write_u32_checked<M: ResolveFault>(
    space: &mut UserSpace<M>,
    token: WritableBuffer,
    value: u32,
) -> Result<(), UserMemoryError> {
    token.write(space, &value.to_le_bytes())
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::memory::frame;
    use crate::{ensure, ensure_eq, ktest};

    /// A resolver for tables whose every mapping is made by the test: any
    /// page not mapped so is refused.
    struct NothingToResolve;

    impl ResolveFault for NothingToResolve {
        fn resolve_for_kernel(&mut self, _: &mut PageTables, _: u64, _: bool) -> Result<(), Unresolved> {
            Err(Unresolved::Protection)
        }
    }

    const BASE: u64 = 0x1000_0000;

    /// User tables with two fresh zeroed frames at `BASE`, the second
    /// mapped `second_flags`.
    fn two_pages(second_flags: PageFlags) -> Result<(PageTables, [Frame; 2]), &'static str> {
        let mut tables = PageTables::new_user().map_err(|_| "no page tables")?;
        let frames = [frame::allocate().map_err(|_| "no frame")?, frame::allocate().map_err(|_| "no frame")?];
        for (index, (frame, flags)) in
            frames.iter().zip([PageFlags::USER | PageFlags::WRITABLE, second_flags]).enumerate()
        {
            frame.zero();
            tables.map(BASE + (index * PAGE_SIZE) as u64, *frame, flags).map_err(|_| "map")?;
        }
        Ok((tables, frames))
    }

    ktest! {
        fn a_checked_buffer_is_written_through_its_token_across_pages() {
            let (mut tables, frames) = two_pages(PageFlags::USER | PageFlags::WRITABLE)?;
            let mut resolver = NothingToResolve;
            let mut space = UserSpace { tables: &mut tables, vm: &mut resolver };
            let buffer = UserBuffer::new(BASE + PAGE_SIZE as u64 - 96, 200);
            let token = writable(&mut space, buffer)?;
            let bytes: [u8; 200] = core::array::from_fn(|index| index as u8 + 1);
            token.write(&mut space, &bytes)?;
            let (mut first, mut second) = ([0u8; 96], [0u8; 104]);
            frames[0].read(PAGE_SIZE - 96, &mut first);
            frames[1].read(0, &mut second);
            ensure_eq!(first[..], bytes[..96]);
            ensure_eq!(second[..], bytes[96..]);
            tables.destroy_user();
            Ok(())
        }

        fn a_token_checks_again_once_the_page_tables_changed() {
            let (mut tables, frames) = two_pages(PageFlags::USER | PageFlags::WRITABLE)?;
            let mut resolver = NothingToResolve;
            let mut space = UserSpace { tables: &mut tables, vm: &mut resolver };
            let token = writable(&mut space, UserBuffer::new(BASE + PAGE_SIZE as u64, 8))?;
            // The page leaves the task after the check: the token's piece is
            // stale, and the write must not reach the old frame.
            let unmapped = space.tables.unmap(BASE + PAGE_SIZE as u64).map_err(|_| "unmap")?;
            ensure_eq!(unmapped, frames[1]);
            let result = token.write(&mut space, &[0xaa; 8]);
            ensure!(matches!(result, Err(UserMemoryError::Protection(_))), "write after unmap: {result:?}");
            let mut old = [0u8; 8];
            frames[1].read(0, &mut old);
            ensure_eq!(old, [0u8; 8]);
            frame::free(frames[1]).map_err(|_| "free")?;
            tables.destroy_user();
            Ok(())
        }

        fn a_checked_buffer_is_read_through_its_token_across_pages_and_again_after_a_change() {
            let (mut tables, frames) = two_pages(PageFlags::USER | PageFlags::WRITABLE)?;
            let bytes: [u8; 200] = core::array::from_fn(|index| index as u8 + 1);
            frames[0].write(PAGE_SIZE - 96, &bytes[..96]);
            frames[1].write(0, &bytes[96..]);
            let mut resolver = NothingToResolve;
            let mut space = UserSpace { tables: &mut tables, vm: &mut resolver };
            let token = writable(&mut space, UserBuffer::new(BASE + PAGE_SIZE as u64 - 96, 256))?;
            ensure!(token.is_current(&space), "a fresh token is current");
            let mut read = [0u8; 200];
            token.read(&mut space, &mut read)?;
            ensure_eq!(read[..], bytes[..]);
            let mut too_long = [0u8; 257];
            ensure_eq!(token.read(&mut space, &mut too_long), Err(UserMemoryError::TooLong));
            // The second page leaves the task: the token is stale, and a
            // read walks the tables again (and finds the page gone).
            let unmapped = space.tables.unmap(BASE + PAGE_SIZE as u64).map_err(|_| "unmap")?;
            ensure_eq!(unmapped, frames[1]);
            ensure!(!token.is_current(&space), "a token outlives a change of the tables");
            let result = token.read(&mut space, &mut read);
            ensure!(matches!(result, Err(UserMemoryError::Protection(_) | UserMemoryError::Unmapped(_))), "read after unmap: {result:?}");
            frame::free(frames[1]).map_err(|_| "free")?;
            tables.destroy_user();
            Ok(())
        }

        fn a_read_only_page_gets_no_token_and_nothing_is_written() {
            let (mut tables, frames) = two_pages(PageFlags::USER)?;
            let mut resolver = NothingToResolve;
            let mut space = UserSpace { tables: &mut tables, vm: &mut resolver };
            let result = writable(&mut space, UserBuffer::new(BASE + PAGE_SIZE as u64 - 4, 8));
            ensure!(matches!(result, Err(UserMemoryError::Protection(address)) if address == BASE + PAGE_SIZE as u64), "{:?}", result.err());
            let too_short = writable(&mut space, UserBuffer::new(BASE, 4))?;
            ensure_eq!(too_short.write(&mut space, &[1; 8]), Err(UserMemoryError::TooLong));
            let mut first = [0u8; 8];
            frames[0].read(0, &mut first);
            ensure_eq!(first, [0u8; 8]);
            tables.destroy_user();
            Ok(())
        }
    }
}
