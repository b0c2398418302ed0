//! mach-elf: the one ELF reader. It checks an executable and gives back
//! what a loader needs — its loadable segments with their rights, the
//! entry point, where the program headers are in memory (`AT_PHDR`) and
//! where the break starts — so the kernel's boot loader, the bootstrap task
//! and the process server's `exec` apply the same rules and differ only in
//! how they put pages in place (copy, `vm_write`, map the file).
//!
//! The file is untrusted: [`parse`] reads only the ELF header and the
//! program headers (a prefix of the file is enough; the file's full size is
//! an argument, so a server can read the first page and check every
//! segment against the real size), checks every field (class, byte order,
//! machine, type, no interpreter, segment count, each segment inside the
//! file and inside the user range the caller gives, sizes, total memory,
//! write and execute never together, the entry in executable code), and any
//! problem is an [`ElfError`], never a panic.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{self, Header};
use goblin::elf::program_header::{ProgramHeader, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR};

/// Most loadable segments an image may have.
pub const MAX_SEGMENTS: usize = 16;
/// Bytes of the ELF64 header.
pub const HEADER_SIZE: usize = 64;
/// Bytes of one ELF64 program header.
pub const PROGRAM_HEADER_SIZE: usize = 56;
/// Most program headers (of any type) an image may have.
pub const MAX_PROGRAM_HEADERS: usize = 64;

/// The processor an image must be for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    X86_64,
    Aarch64,
}

impl Machine {
    const fn code(self) -> u16 {
        match self {
            Machine::X86_64 => header::EM_X86_64,
            Machine::Aarch64 => header::EM_AARCH64,
        }
    }

    /// The machine this code is compiled for.
    pub const fn native() -> Machine {
        if cfg!(target_arch = "aarch64") {
            Machine::Aarch64
        } else {
            Machine::X86_64
        }
    }
}

/// Where an image may place its segments, and how large it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Lowest address a segment may use (above the null page).
    pub lowest: u64,
    /// Segments must end at or below this.
    pub highest: u64,
    /// Most bytes of memory all segments together may ask for.
    pub most_bytes: u64,
    /// Page size: segments must be congruent to their file offset modulo
    /// it when `require_mappable` is set.
    pub page_size: u64,
    /// Refuse segments whose address and file offset differ modulo the
    /// page size (a loader that maps file pages needs them congruent; one
    /// that copies does not).
    pub require_mappable: bool,
}

/// Why an image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not an ELF file at all, or the headers are cut short.
    Malformed,
    /// The program headers lie beyond the bytes given: read this many bytes
    /// from the start of the file and call again.
    NeedMore(usize),
    NotSixtyFourBit,
    NotLittleEndian,
    WrongMachine(u16),
    NotExecutable(u16),
    /// A dynamically linked program: it names an interpreter. Only static
    /// programs are supported.
    NeedsInterpreter,
    NoLoadableSegments,
    TooManySegments(usize),
    /// A segment's file bytes lie outside the file.
    SegmentOutsideFile,
    /// A segment reaches below `lowest` or above `highest`, or wraps.
    SegmentOutsideUserSpace,
    SegmentFileSizeExceedsMemorySize,
    /// Two segments share a page with rights that cannot be merged.
    OverlappingSegments,
    /// A segment's address and file offset differ modulo the page size.
    MisalignedSegment,
    WritableAndExecutable,
    EntryOutsideCode,
    TooLarge(u64),
}

/// Access rights of a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rights {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

/// One loadable segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where it starts in memory (not necessarily page aligned).
    pub address: u64,
    /// Bytes of memory (the part past `file_size` is zero: bss).
    pub memory_size: u64,
    /// Where its bytes start in the file.
    pub file_offset: u64,
    /// Bytes taken from the file.
    pub file_size: u64,
    pub rights: Rights,
}

impl Segment {
    /// One past its last byte in memory.
    pub fn end(&self) -> u64 {
        self.address + self.memory_size
    }

    /// First page it touches.
    pub fn first_page(&self, page_size: u64) -> u64 {
        self.address / page_size * page_size
    }

    /// One past the last page it touches.
    pub fn end_page(&self, page_size: u64) -> u64 {
        self.end().next_multiple_of(page_size)
    }
}

/// A checked executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub entry: u64,
    /// Loadable segments in file order.
    pub segments: heapless::Vec<Segment, MAX_SEGMENTS>,
    /// Where the program headers are in the loaded image (`AT_PHDR`), if a
    /// segment maps them.
    pub program_headers_address: Option<u64>,
    /// `AT_PHNUM`.
    pub program_header_count: u16,
    /// `AT_PHENT`.
    pub program_header_size: u16,
    /// The first page after the highest segment: where the break starts.
    pub break_start: u64,
}

/// Bytes of the file's start that hold the ELF header and every program
/// header, once the header is readable: how much to read before [`parse`].
pub fn headers_length(prefix: &[u8]) -> Result<usize, ElfError> {
    let header = read_header(prefix)?;
    program_headers_end(&header)
}

fn read_header(bytes: &[u8]) -> Result<Header, ElfError> {
    if bytes.len() < HEADER_SIZE {
        return if bytes.starts_with(&header::ELFMAG[..bytes.len().min(4)]) {
            Err(ElfError::NeedMore(HEADER_SIZE))
        } else {
            Err(ElfError::Malformed)
        };
    }
    if &bytes[..4] != header::ELFMAG {
        return Err(ElfError::Malformed);
    }
    if bytes[header::EI_CLASS] != header::ELFCLASS64 {
        return Err(ElfError::NotSixtyFourBit);
    }
    if bytes[header::EI_DATA] != header::ELFDATA2LSB {
        return Err(ElfError::NotLittleEndian);
    }
    goblin::elf::Elf::parse_header(bytes).map_err(|_| ElfError::Malformed)
}

fn program_headers_end(header: &Header) -> Result<usize, ElfError> {
    if header.e_phentsize as usize != PROGRAM_HEADER_SIZE {
        return Err(ElfError::Malformed);
    }
    let count = header.e_phnum as usize;
    if count > MAX_PROGRAM_HEADERS {
        return Err(ElfError::TooManySegments(count));
    }
    let offset = usize::try_from(header.e_phoff).map_err(|_| ElfError::Malformed)?;
    offset.checked_add(count * PROGRAM_HEADER_SIZE).ok_or(ElfError::Malformed)
}

/// Checks an executable from `prefix` (its first bytes, at least the
/// headers: see [`ElfError::NeedMore`]) and `file_size` (its whole size).
pub fn parse(prefix: &[u8], file_size: u64, machine: Machine, layout: &Layout) -> Result<Image, ElfError> {
    if file_size < HEADER_SIZE as u64 {
        return Err(ElfError::Malformed);
    }
    let header = read_header(prefix)?;
    if header.e_machine != machine.code() {
        return Err(ElfError::WrongMachine(header.e_machine));
    }
    if header.e_type != header::ET_EXEC {
        return Err(ElfError::NotExecutable(header.e_type));
    }
    let headers_end = program_headers_end(&header)?;
    if headers_end as u64 > file_size {
        return Err(ElfError::Malformed);
    }
    if headers_end > prefix.len() {
        return Err(ElfError::NeedMore(headers_end));
    }
    let context = Ctx::new(Container::Big, Endian::Little);
    let program_headers = ProgramHeader::parse(prefix, header.e_phoff as usize, header.e_phnum as usize, context)
        .map_err(|_| ElfError::Malformed)?;
    if program_headers.iter().any(|program_header| program_header.p_type == PT_INTERP) {
        return Err(ElfError::NeedsInterpreter);
    }
    let loadable = program_headers.iter().filter(|program_header| program_header.p_type == PT_LOAD).count();
    if loadable > MAX_SEGMENTS {
        return Err(ElfError::TooManySegments(loadable));
    }
    let segments = checked_segments(&program_headers, file_size, layout)?;
    check_shared_pages(&segments, layout.page_size)?;
    let entry = header.e_entry;
    let in_code =
        segments.iter().any(|segment| segment.rights.execute && (segment.address..segment.end()).contains(&entry));
    if !in_code {
        return Err(ElfError::EntryOutsideCode);
    }
    let break_start =
        segments.iter().map(|segment| segment.end_page(layout.page_size)).max().ok_or(ElfError::NoLoadableSegments)?;
    Ok(Image {
        entry,
        program_headers_address: program_headers_address(&program_headers, &segments, header.e_phoff),
        program_header_count: header.e_phnum,
        program_header_size: header.e_phentsize,
        break_start,
        segments,
    })
}

fn checked_segments(
    program_headers: &[ProgramHeader],
    file_size: u64,
    layout: &Layout,
) -> Result<heapless::Vec<Segment, MAX_SEGMENTS>, ElfError> {
    let mut segments = heapless::Vec::new();
    let mut total = 0u64;
    for program_header in program_headers.iter().filter(|program_header| program_header.p_type == PT_LOAD) {
        if program_header.p_memsz == 0 {
            continue;
        }
        let end =
            program_header.p_vaddr.checked_add(program_header.p_memsz).ok_or(ElfError::SegmentOutsideUserSpace)?;
        if program_header.p_vaddr < layout.lowest || end > layout.highest {
            return Err(ElfError::SegmentOutsideUserSpace);
        }
        if program_header.p_filesz > program_header.p_memsz {
            return Err(ElfError::SegmentFileSizeExceedsMemorySize);
        }
        let file_end =
            program_header.p_offset.checked_add(program_header.p_filesz).ok_or(ElfError::SegmentOutsideFile)?;
        if file_end > file_size {
            return Err(ElfError::SegmentOutsideFile);
        }
        if layout.require_mappable
            && program_header.p_vaddr % layout.page_size != program_header.p_offset % layout.page_size
        {
            return Err(ElfError::MisalignedSegment);
        }
        let rights = Rights {
            read: program_header.p_flags & PF_R != 0,
            write: program_header.p_flags & PF_W != 0,
            execute: program_header.p_flags & PF_X != 0,
        };
        if rights.write && rights.execute {
            return Err(ElfError::WritableAndExecutable);
        }
        total = total.saturating_add(program_header.p_memsz);
        if total > layout.most_bytes {
            return Err(ElfError::TooLarge(total));
        }
        let segment = Segment {
            address: program_header.p_vaddr,
            memory_size: program_header.p_memsz,
            file_offset: program_header.p_offset,
            file_size: program_header.p_filesz,
            rights,
        };
        segments.push(segment).map_err(|_| ElfError::TooManySegments(MAX_SEGMENTS + 1))?;
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegments);
    }
    Ok(segments)
}

/// Two segments may share a page (linkers pack small programs that way)
/// only if the page's merged rights are not writable and executable.
fn check_shared_pages(segments: &[Segment], page_size: u64) -> Result<(), ElfError> {
    for (index, first) in segments.iter().enumerate() {
        for second in &segments[index + 1..] {
            let overlap_start = first.first_page(page_size).max(second.first_page(page_size));
            let overlap_end = first.end_page(page_size).min(second.end_page(page_size));
            if overlap_start >= overlap_end {
                continue;
            }
            if first.address < second.end() && second.address < first.end() {
                return Err(ElfError::OverlappingSegments);
            }
            let write = first.rights.write || second.rights.write;
            let execute = first.rights.execute || second.rights.execute;
            if write && execute {
                return Err(ElfError::OverlappingSegments);
            }
        }
    }
    Ok(())
}

/// Where the program headers are once loaded: a `PT_PHDR` entry says so, or
/// the loadable segment whose file bytes hold them.
fn program_headers_address(program_headers: &[ProgramHeader], segments: &[Segment], offset: u64) -> Option<u64> {
    if let Some(entry) = program_headers.iter().find(|program_header| program_header.p_type == PT_PHDR) {
        return Some(entry.p_vaddr);
    }
    segments
        .iter()
        .find(|segment| (segment.file_offset..segment.file_offset + segment.file_size).contains(&offset))
        .map(|segment| segment.address + (offset - segment.file_offset))
}
