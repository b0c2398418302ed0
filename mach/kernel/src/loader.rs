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

use crate::arch::context::UserEntry;
use crate::arch::paging::{PageTables, USER_END};
use crate::memory::{frame, MapError, PageFlags, PAGE_SIZE};
use goblin::elf::program_header::{PF_W, PF_X, PT_LOAD};
use goblin::elf::{header, Elf};

/// Where the initial stack ends (its top); the stack grows down from here.
pub const STACK_TOP: u64 = 0x0000_7fff_ff00_0000;
pub const STACK_SIZE: u64 = 256 * 1024;
const MAX_SEGMENTS: usize = 16;
/// Most memory one loaded image may ask for.
const MAX_IMAGE_BYTES: u64 = 256 * 1024 * 1024;
const NULL_GUARD_END: u64 = 0x1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not a parsable ELF file (bad magic, truncated headers, ...).
    Malformed,
    NotSixtyFourBit,
    WrongMachine(u16),
    NotExecutable(u16),
    NoLoadableSegments,
    TooManySegments(usize),
    /// A segment's file bytes lie outside the file.
    SegmentOutsideFile,
    /// A segment reaches into the null page or the kernel half, or wraps.
    SegmentOutsideUserSpace,
    SegmentFileSizeExceedsMemorySize,
    /// Two segments claim one page with incompatible contents.
    OverlappingSegments,
    WritableAndExecutable,
    EntryOutsideCode,
    TooLarge(u64),
    OutOfMemory,
}

impl From<MapError> for ElfError {
    fn from(error: MapError) -> Self {
        match error {
            MapError::AlreadyMapped => ElfError::OverlappingSegments,
            MapError::OutOfMemory => ElfError::OutOfMemory,
            _ => ElfError::SegmentOutsideUserSpace,
        }
    }
}

struct Segment {
    virtual_address: u64,
    memory_size: u64,
    file_offset: u64,
    file_size: u64,
    flags: PageFlags,
}

fn checked_segments(file: &[u8], elf: &Elf) -> Result<heapless::Vec<Segment, MAX_SEGMENTS>, ElfError> {
    let mut segments = heapless::Vec::new();
    let mut total = 0u64;
    for header in elf.program_headers.iter().filter(|header| header.p_type == PT_LOAD) {
        if header.p_memsz == 0 {
            continue;
        }
        let end = header.p_vaddr.checked_add(header.p_memsz).ok_or(ElfError::SegmentOutsideUserSpace)?;
        if header.p_vaddr < NULL_GUARD_END || end > STACK_TOP - STACK_SIZE - PAGE_SIZE as u64 {
            return Err(ElfError::SegmentOutsideUserSpace);
        }
        if header.p_filesz > header.p_memsz {
            return Err(ElfError::SegmentFileSizeExceedsMemorySize);
        }
        let file_end = header.p_offset.checked_add(header.p_filesz).ok_or(ElfError::SegmentOutsideFile)?;
        if file_end > file.len() as u64 {
            return Err(ElfError::SegmentOutsideFile);
        }
        let writable = header.p_flags & PF_W != 0;
        let executable = header.p_flags & PF_X != 0;
        if writable && executable {
            return Err(ElfError::WritableAndExecutable);
        }
        total = total.saturating_add(header.p_memsz);
        if total > MAX_IMAGE_BYTES {
            return Err(ElfError::TooLarge(total));
        }
        let mut flags = PageFlags::USER;
        flags.set(PageFlags::WRITABLE, writable);
        flags.set(PageFlags::EXECUTABLE, executable);
        let segment = Segment {
            virtual_address: header.p_vaddr,
            memory_size: header.p_memsz,
            file_offset: header.p_offset,
            file_size: header.p_filesz,
            flags,
        };
        segments.push(segment).map_err(|_| ElfError::TooManySegments(MAX_SEGMENTS + 1))?;
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegments);
    }
    Ok(segments)
}

/// Checks `file` and returns its segments and entry point without loading.
fn validate(file: &[u8]) -> Result<(heapless::Vec<Segment, MAX_SEGMENTS>, u64), ElfError> {
    let elf = Elf::parse(file).map_err(|_| ElfError::Malformed)?;
    if !elf.is_64 {
        return Err(ElfError::NotSixtyFourBit);
    }
    if elf.header.e_machine != header::EM_X86_64 {
        return Err(ElfError::WrongMachine(elf.header.e_machine));
    }
    if elf.header.e_type != header::ET_EXEC {
        return Err(ElfError::NotExecutable(elf.header.e_type));
    }
    let loadable = elf.program_headers.iter().filter(|header| header.p_type == PT_LOAD).count();
    if loadable > MAX_SEGMENTS {
        return Err(ElfError::TooManySegments(loadable));
    }
    let segments = checked_segments(file, &elf)?;
    let entry = elf.header.e_entry;
    let in_code = segments.iter().any(|segment| {
        segment.flags.contains(PageFlags::EXECUTABLE)
            && (segment.virtual_address..segment.virtual_address + segment.memory_size).contains(&entry)
    });
    if !in_code {
        return Err(ElfError::EntryOutsideCode);
    }
    Ok((segments, entry))
}

/// Maps a zeroed frame at `page` or, if a previous segment already mapped
/// it, widens that mapping's rights. Returns the frame's direct-map address.
fn page_for(tables: &mut PageTables, page: u64, flags: PageFlags) -> Result<usize, ElfError> {
    if let Some((physical, existing)) = tables.translate(page) {
        let union = existing | flags;
        if union.contains(PageFlags::WRITABLE | PageFlags::EXECUTABLE) {
            return Err(ElfError::OverlappingSegments);
        }
        tables.protect(page, union)?;
        return Ok(crate::arch::paging::direct_map_address(physical));
    }
    let frame = frame::allocate().map_err(|_| ElfError::OutOfMemory)?;
    let address = crate::arch::paging::direct_map_address(frame.start());
    // SAFETY: the frame was just allocated, so this is its only user.
    unsafe { core::ptr::write_bytes(address as *mut u8, 0, PAGE_SIZE) };
    if let Err(error) = tables.map(page, frame, flags) {
        let _ = frame::free(frame);
        return Err(error.into());
    }
    Ok(address)
}

fn load_segment(tables: &mut PageTables, file: &[u8], segment: &Segment) -> Result<(), ElfError> {
    let first_page = segment.virtual_address / PAGE_SIZE as u64 * PAGE_SIZE as u64;
    let end = segment.virtual_address + segment.memory_size;
    let file_bytes = &file[segment.file_offset as usize..(segment.file_offset + segment.file_size) as usize];
    let file_end = segment.virtual_address + segment.file_size;
    for page in (first_page..end).step_by(PAGE_SIZE) {
        let kernel_page = page_for(tables, page, segment.flags)?;
        // Copy the part of this page the file supplies; the rest is zero.
        let copy_start = page.max(segment.virtual_address);
        let copy_end = (page + PAGE_SIZE as u64).min(file_end);
        if copy_start < copy_end {
            let source = &file_bytes
                [(copy_start - segment.virtual_address) as usize..(copy_end - segment.virtual_address) as usize];
            let destination = kernel_page + (copy_start - page) as usize;
            // SAFETY: `destination..+len` lies inside the page frame mapped
            // above, reached through the direct map; the task is not running.
            unsafe { core::ptr::copy_nonoverlapping(source.as_ptr(), destination as *mut u8, source.len()) };
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
    let (segments, entry) = validate(file)?;
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
                .map(|segment| {
                    let start = segment.virtual_address / PAGE_SIZE as u64 * PAGE_SIZE as u64;
                    (start, (segment.virtual_address + segment.memory_size).next_multiple_of(PAGE_SIZE as u64))
                })
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
    let end = address.checked_add(bytes.len() as u64).ok_or(ElfError::SegmentOutsideUserSpace)?;
    if !address.is_multiple_of(PAGE_SIZE as u64) || end > STACK_TOP - STACK_SIZE - PAGE_SIZE as u64 {
        return Err(ElfError::SegmentOutsideUserSpace);
    }
    for (index, chunk) in bytes.chunks(PAGE_SIZE).enumerate() {
        let page = address + (index * PAGE_SIZE) as u64;
        let kernel_page = page_for(tables, page, flags)?;
        // SAFETY: a fresh, zeroed frame mapped above, reached through the
        // direct map; the chunk is at most a page.
        unsafe { core::ptr::copy_nonoverlapping(chunk.as_ptr(), kernel_page as *mut u8, chunk.len()) };
    }
    let pages_end = address + (bytes.len() as u64).next_multiple_of(PAGE_SIZE as u64).max(PAGE_SIZE as u64);
    vm.charge(tables, ((pages_end - address) / PAGE_SIZE as u64) as usize).map_err(|_| ElfError::OutOfMemory)?;
    if bytes.is_empty() {
        page_for(tables, address, flags)?;
    }
    vm.insert(address, pages_end, mach_abi::VM_PROT_READ, mach_abi::VM_PROT_READ)
        .map_err(|_| ElfError::OverlappingSegments)
}
