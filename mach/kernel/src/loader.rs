//! Loads an ELF executable into a new task (boot modules: the bootstrap
//! task and the kernel's user-mode tests).
//!
//! The file is untrusted: every field is checked before use (class,
//! machine, type, segment count, that each segment lies in the user half
//! above the null page and inside the file, sizes, total memory), and any
//! problem is an [`ElfError`], never a panic. Segments are copied into fresh
//! frames (the module itself stays read-only), their rights are taken from
//! the program header (write and execute never both), and a stack with an
//! unmapped guard page below it is added.
#![forbid(unsafe_code)]

use crate::arch::context::UserEntry;
use crate::arch::paging::{PageTables, USER_END};
use crate::memory::{frame, Frame, MapError, PageFlags, PAGE_SIZE};

/// Where the initial stack ends (its top); the stack grows down from here.
pub const STACK_TOP: u64 = 0x0000_7fff_ff00_0000;
pub const STACK_SIZE: u64 = 256 * 1024;
/// Most memory one loaded image may ask for.
const MAX_IMAGE_BYTES: u64 = 256 * 1024 * 1024;
const NULL_GUARD_END: u64 = 0x1000;

/// Why an image could not be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The file breaks a rule of `mach-elf` (the checks every loader shares).
    Format(mach_elf::ElfError),
    OutOfMemory,
}

impl From<mach_elf::ElfError> for ElfError {
    fn from(error: mach_elf::ElfError) -> Self {
        ElfError::Format(error)
    }
}

impl From<MapError> for ElfError {
    fn from(error: MapError) -> Self {
        match error {
            MapError::OutOfMemory => ElfError::OutOfMemory,
            // mach-elf refused overlaps and addresses outside the user half
            // already; anything else here is a page the loader shares.
            MapError::AlreadyMapped => ElfError::Format(mach_elf::ElfError::OverlappingSegments),
            _ => ElfError::Format(mach_elf::ElfError::SegmentOutsideUserSpace),
        }
    }
}

/// Where a boot image may put its segments: above the null page, below the
/// stack and its guard page.
const LAYOUT: mach_elf::Layout = mach_elf::Layout {
    lowest: NULL_GUARD_END,
    highest: STACK_TOP - STACK_SIZE - PAGE_SIZE as u64,
    most_bytes: MAX_IMAGE_BYTES,
    page_size: PAGE_SIZE as u64,
    // The kernel copies segments into fresh frames, so any alignment loads.
    require_mappable: false,
};

fn page_flags(rights: mach_elf::Rights) -> PageFlags {
    let mut flags = PageFlags::USER;
    flags.set(PageFlags::WRITABLE, rights.write);
    flags.set(PageFlags::EXECUTABLE, rights.execute);
    flags
}

/// Maps a zeroed frame at `page` or, if a previous segment already mapped
/// it, widens that mapping's rights. Returns the frame.
fn page_for(tables: &mut PageTables, page: u64, flags: PageFlags) -> Result<Frame, ElfError> {
    if let Some((physical, existing)) = tables.translate(page) {
        let union = existing | flags;
        if union.contains(PageFlags::WRITABLE | PageFlags::EXECUTABLE) {
            return Err(mach_elf::ElfError::OverlappingSegments.into());
        }
        tables.protect(page, union)?;
        return Ok(Frame::containing(physical));
    }
    let frame = frame::allocate().map_err(|_| ElfError::OutOfMemory)?;
    frame.zero();
    if let Err(error) = tables.map(page, frame, flags) {
        let _ = frame::free(frame);
        return Err(error.into());
    }
    Ok(frame)
}

fn load_segment(tables: &mut PageTables, file: &[u8], segment: &mach_elf::Segment) -> Result<(), ElfError> {
    let first_page = segment.first_page(PAGE_SIZE as u64);
    let end = segment.end();
    let file_bytes = &file[segment.file_offset as usize..(segment.file_offset + segment.file_size) as usize];
    let file_end = segment.address + segment.file_size;
    for page in (first_page..end).step_by(PAGE_SIZE) {
        let kernel_page = page_for(tables, page, page_flags(segment.rights))?;
        // Copy the part of this page the file supplies; the rest is zero.
        let copy_start = page.max(segment.address);
        let copy_end = (page + PAGE_SIZE as u64).min(file_end);
        if copy_start < copy_end {
            let source = &file_bytes[(copy_start - segment.address) as usize..(copy_end - segment.address) as usize];
            kernel_page.write((copy_start - page) as usize, source);
        }
    }
    Ok(())
}

/// A region of a loaded image: start, end, VM protection.
pub type LoadedRegion = (u64, u64, u32);

/// The regions the pages of `ranges` ended up with: consecutive pages of
/// equal rights form one region (segments sharing a page got the union).
fn regions_of(tables: &PageTables, ranges: &[(u64, u64)]) -> alloc::vec::Vec<LoadedRegion> {
    let mut pages: alloc::vec::Vec<(u64, u32)> = alloc::vec::Vec::new();
    for &(start, end) in ranges {
        for page in (start..end).step_by(PAGE_SIZE) {
            if let Some((_, flags)) = tables.translate(page) {
                let mut protection = mach_abi::VM_PROT_READ;
                if flags.contains(PageFlags::WRITABLE) {
                    protection |= mach_abi::VM_PROT_WRITE;
                }
                if flags.contains(PageFlags::EXECUTABLE) {
                    protection |= mach_abi::VM_PROT_EXECUTE;
                }
                pages.push((page, protection));
            }
        }
    }
    pages.sort_unstable();
    pages.dedup_by_key(|(page, _)| *page);
    let mut regions: alloc::vec::Vec<LoadedRegion> = alloc::vec::Vec::new();
    for (page, protection) in pages {
        match regions.last_mut() {
            Some((_, end, last)) if *end == page && *last == protection => *end += PAGE_SIZE as u64,
            _ => regions.push((page, page + PAGE_SIZE as u64, protection)),
        }
    }
    regions
}

/// Builds the page tables of a new task from `file`: its segments, and a
/// stack of `STACK_SIZE` under `STACK_TOP` with a guard page below, and the
/// regions describing them. On any error everything allocated is freed.
pub fn load(file: &[u8], argument: u64) -> Result<(PageTables, UserEntry, alloc::vec::Vec<LoadedRegion>), ElfError> {
    let image = mach_elf::parse(file, file.len() as u64, mach_elf::Machine::native(), &LAYOUT)?;
    let (segments, entry) = (image.segments, image.entry);
    let mut tables = PageTables::new_user().map_err(|_| ElfError::OutOfMemory)?;
    let result = (|| {
        for segment in &segments {
            load_segment(&mut tables, file, segment)?;
        }
        for page in (STACK_TOP - STACK_SIZE..STACK_TOP).step_by(PAGE_SIZE) {
            page_for(&mut tables, page, PageFlags::USER | PageFlags::WRITABLE)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            let mut ranges: alloc::vec::Vec<(u64, u64)> = segments
                .iter()
                .map(|segment| (segment.first_page(PAGE_SIZE as u64), segment.end_page(PAGE_SIZE as u64)))
                .collect();
            ranges.push((STACK_TOP - STACK_SIZE, STACK_TOP));
            let regions = regions_of(&tables, &ranges);
            Ok((tables, UserEntry { instruction_pointer: entry, stack_pointer: STACK_TOP, argument }, regions))
        }
        Err(error) => {
            tables.destroy_user();
            Err(error)
        }
    }
}

const _: () = assert!(STACK_TOP < USER_END);

/// Copies `bytes` into fresh frames mapped read-only at the page-aligned
/// `address` of a task, recorded as a region of its map (the bootstrap
/// task's module copies and info page). On error the caller terminates the
/// task.
pub fn copy_into(
    tables: &mut PageTables,
    vm: &mut crate::vm::VmMap,
    address: u64,
    bytes: &[u8],
) -> Result<(), ElfError> {
    let flags = PageFlags::USER;
    let end =
        address.checked_add(bytes.len() as u64).ok_or(ElfError::Format(mach_elf::ElfError::SegmentOutsideUserSpace))?;
    if !address.is_multiple_of(PAGE_SIZE as u64) || end > LAYOUT.highest {
        return Err(mach_elf::ElfError::SegmentOutsideUserSpace.into());
    }
    for (index, chunk) in bytes.chunks(PAGE_SIZE).enumerate() {
        let page = address + (index * PAGE_SIZE) as u64;
        let kernel_page = page_for(tables, page, flags)?;
        kernel_page.write(0, chunk);
    }
    let pages_end = address + (bytes.len() as u64).next_multiple_of(PAGE_SIZE as u64).max(PAGE_SIZE as u64);
    vm.charge(tables, ((pages_end - address) / PAGE_SIZE as u64) as usize).map_err(|_| ElfError::OutOfMemory)?;
    if bytes.is_empty() {
        page_for(tables, address, flags)?;
    }
    vm.insert(address, pages_end, mach_abi::VM_PROT_READ, mach_abi::VM_PROT_READ)
        .map_err(|_| ElfError::Format(mach_elf::ElfError::OverlappingSegments))
}
