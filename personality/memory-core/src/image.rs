//! exec's address space: an executable's segments mapped from its file, the
//! break after them, the stack at the top.
//!
//! Every page of a segment that holds file bytes is a **private** mapping
//! of the file's memory object (`vm_map` with `VM_FLAGS_COPY`): the object's
//! pages are mapped read-only into every process running the program, so
//! text and read-only data exist once in memory whoever runs them, and a
//! write (writable data, or text after `mprotect`) copies that page into
//! the process's own memory, never reaching the file. Where a segment's
//! memory goes past its file bytes (bss), the rest of its last file page
//! is zeroed (a write: that page becomes private), and whole pages past it
//! are anonymous. Segments may share a page (small programs are linked
//! that way) if they agree on its file offset; its protection is the union
//! of theirs (W^X holds: the reader refused anything else).

use alloc::vec::Vec;

use crate::action::Action;
use crate::layout::{Layout, Limits, Outcome};
use crate::region::{Backing, FileKey, Region, Role};
use crate::{
    check_protection, page_round_down, page_round_up, protection, Errno, MAPPING_BASE, PAGE_SIZE, REGIONS_MAX,
    STACK_MAX, STACK_MIN, USER_LOWEST, USER_TOP,
};

/// A loadable segment, as `mach-elf` checked it (memory.defs' `segment`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub address: u64,
    pub memory_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    /// `PROT_*`.
    pub protection: u32,
}

/// The plan of a new image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub layout: Layout,
    pub outcome: Outcome,
    /// The top of the stack (16-byte aligned): the start block goes below.
    pub stack_top: u64,
    pub stack_size: u64,
}

#[derive(Clone, Debug, Default)]
struct Page {
    /// The file offset of the page, if a segment has file bytes in it.
    file_offset: Option<u64>,
    protection: u32,
    /// Parts of the page to zero (bss in a page that holds file bytes),
    /// as offsets within the page.
    zero: Vec<(u64, u64)>,
}

/// Lays out the image of `segments` (from `file`) with a stack of
/// `stack_size` bytes (cut to [`STACK_MIN`]..=[`STACK_MAX`]) under `limits`.
/// `EINVAL` for segments that cannot be mapped (outside the image area,
/// overlapping, misaligned with their file offsets, sharing a page at
/// different offsets, write with execute); `ENOMEM` past a limit.
pub fn plan(file: FileKey, segments: &[Segment], stack_size: u64, limits: Limits) -> Result<Plan, Errno> {
    let runs = runs_of(pieces_of(segments)?);
    let mut layout = Layout::new(runs.iter().map(|(_, end, _)| *end).max().unwrap_or(USER_LOWEST), limits);
    let mut actions = Vec::new();
    for (start, end, run) in &runs {
        let (start, end) = (*start, *end);
        let size = end - start;
        let final_protection = run.protection;
        let region = match run.file_offset {
            Some(offset) => {
                let zeroing = !run.zero.is_empty();
                let mapped_with = if zeroing {
                    protection::READ | protection::WRITE
                } else if final_protection == protection::NONE {
                    protection::READ
                } else {
                    final_protection
                };
                actions.push(Action::Map {
                    address: start,
                    size,
                    file,
                    offset,
                    private: true,
                    protection: mapped_with,
                });
                for &(from, to) in &run.zero {
                    actions.push(Action::Zero { address: from, size: to - from });
                }
                if mapped_with != final_protection {
                    actions.push(Action::Protect { address: start, size, protection: final_protection });
                }
                Backing::File { file, offset, private: true }
            }
            None => {
                actions.push(Action::Allocate { address: start, size });
                if final_protection != protection::READ | protection::WRITE {
                    actions.push(Action::Protect { address: start, size, protection: final_protection });
                }
                Backing::Anonymous
            }
        };
        layout.insert_planned(Region {
            start,
            end,
            protection: final_protection,
            maximum: protection::ALL,
            backing: region,
            shared: false,
            role: Role::Image,
            guard_below: false,
        });
    }
    let stack_size = add_stack(&mut layout, &mut actions, stack_size);
    if layout.mapped_bytes() > limits.address_space || layout.data_bytes() > limits.data {
        return Err(Errno::ENOMEM);
    }
    if layout.region_count() > REGIONS_MAX {
        return Err(Errno::ENOMEM);
    }
    Ok(Plan { layout, outcome: Outcome { actions, released: Vec::new() }, stack_top: USER_TOP, stack_size })
}

/// A space with only a stack (a task whose image its maker puts in place
/// itself): the break starts at the first page above the null page.
pub fn stack_only(stack_size: u64, limits: Limits) -> Result<Plan, Errno> {
    let mut layout = Layout::new(USER_LOWEST, limits);
    let mut actions = Vec::new();
    let stack_size = add_stack(&mut layout, &mut actions, stack_size);
    if layout.mapped_bytes() > limits.address_space {
        return Err(Errno::ENOMEM);
    }
    Ok(Plan { layout, outcome: Outcome { actions, released: Vec::new() }, stack_top: USER_TOP, stack_size })
}

/// The stack at the top of user memory, its guard page below; answers its size.
fn add_stack(layout: &mut Layout, actions: &mut Vec<Action>, stack_size: u64) -> u64 {
    let stack_size = page_round_up(stack_size.clamp(STACK_MIN, STACK_MAX)).unwrap_or(STACK_MAX);
    let stack_bottom = USER_TOP - stack_size;
    actions.push(Action::Allocate { address: stack_bottom, size: stack_size });
    layout.insert_planned(Region {
        start: stack_bottom,
        end: USER_TOP,
        protection: protection::READ | protection::WRITE,
        maximum: protection::ALL,
        backing: Backing::Anonymous,
        shared: false,
        role: Role::Stack,
        guard_below: true,
    });
    stack_size
}

/// Runs of pages mapped alike, from `pieces` in address order: (start,
/// end, page plan with the run's first file offset and its zero ranges as
/// absolute addresses).
fn runs_of(pieces: Vec<(u64, u64, Page)>) -> Vec<(u64, u64, Page)> {
    let mut runs: Vec<(u64, u64, Page)> = Vec::new();
    for (address, piece_end, page) in pieces {
        let zero: Vec<(u64, u64)> = page.zero.iter().map(|&(from, to)| (address + from, address + to)).collect();
        if let Some((start, end, run)) = runs.last_mut() {
            let contiguous = match (run.file_offset, page.file_offset) {
                (Some(first), Some(offset)) => offset == first + (address - *start),
                (None, None) => true,
                _ => false,
            };
            if *end == address && run.protection == page.protection && contiguous {
                run.zero.extend(zero);
                *end = piece_end;
                continue;
            }
        }
        runs.push((address, piece_end, Page { zero, ..page }));
    }
    runs
}

/// Every page the segments touch, with what it holds, as pieces in address
/// order: `(start, end, page)`, where a piece of several pages holds pages
/// alike (`file_offset` is its first page's; no zero ranges), and a page
/// two segments share, or one with bytes to zero, is a piece alone. A
/// segment is at most five pieces whatever its size: exec planned page by
/// page once, 70,000 instructions of the memory server for a 200 KiB
/// program.
fn pieces_of(segments: &[Segment]) -> Result<Vec<(u64, u64, Page)>, Errno> {
    let mut sorted: Vec<Segment> = segments.iter().copied().filter(|segment| segment.memory_size > 0).collect();
    if sorted.is_empty() {
        return Err(Errno::EINVAL);
    }
    sorted.sort_by_key(|segment| segment.address);
    let mut pieces: Vec<(u64, u64, Page)> = Vec::new();
    let mut previous_end = 0;
    for segment in &sorted {
        let end = segment.address.checked_add(segment.memory_size).ok_or(Errno::EINVAL)?;
        let file_end = segment.address.checked_add(segment.file_size).ok_or(Errno::EINVAL)?;
        if segment.address < USER_LOWEST
            || end > MAPPING_BASE
            || segment.file_size > segment.memory_size
            || segment.address % PAGE_SIZE != segment.file_offset % PAGE_SIZE
            || segment.file_offset.checked_add(segment.file_size).is_none()
            || segment.address < previous_end
        {
            return Err(Errno::EINVAL);
        }
        check_protection(segment.protection).map_err(|_| Errno::EINVAL)?;
        previous_end = end;
        let first = page_round_down(segment.address);
        let last = page_round_up(end).ok_or(Errno::EINVAL)?;
        let offset_of = |page: u64| page_round_down(segment.file_offset) + (page - first);
        // What the segment puts in `page`: its file offset if the page
        // holds file bytes, the part past them to zero.
        let page_of = |page: u64| {
            let zero_from = file_end.max(page).max(segment.address);
            let zero_to = end.min(page + PAGE_SIZE);
            Page {
                file_offset: (page < file_end).then(|| offset_of(page)),
                protection: segment.protection,
                zero: if zero_from < zero_to { alloc::vec![(zero_from - page, zero_to - page)] } else { Vec::new() },
            }
        };
        // The pages alone: the first and the last (which a neighbour may
        // share) and the one where the file bytes end mid-page; between
        // them, whole file pages, then whole pages past the file bytes.
        let file_pages_end = page_round_down(file_end).max(first);
        let mut alone: Vec<u64> = alloc::vec![first, last - PAGE_SIZE];
        if file_end % PAGE_SIZE != 0 && file_end > segment.address {
            alone.push(page_round_down(file_end));
        }
        alone.sort_unstable();
        alone.dedup();
        let mut cursor = first;
        for page in alone.iter().copied().chain(core::iter::once(last)) {
            if cursor < page {
                // Whole pages between two pages alone: all file pages, or
                // all past the file bytes (the boundary is a page alone or
                // page-aligned).
                for (from, to) in [(cursor, page.min(file_pages_end.max(cursor))), (file_pages_end.max(cursor), page)] {
                    if from < to {
                        pieces_add(&mut pieces, from, to, page_of(from))?;
                    }
                }
            }
            if page < last {
                pieces_add(&mut pieces, page, page + PAGE_SIZE, page_of(page))?;
            }
            cursor = page + PAGE_SIZE;
        }
    }
    for (_, _, page) in &mut pieces {
        check_protection(page.protection).map_err(|_| Errno::EINVAL)?;
        if page.file_offset.is_none() {
            // An anonymous page is zero already.
            page.zero.clear();
        }
    }
    Ok(pieces)
}

/// Adds a piece after the others; a page a previous segment already put
/// there (their shared page) takes both: the union of their protections,
/// one file offset, both zero ranges.
fn pieces_add(pieces: &mut Vec<(u64, u64, Page)>, start: u64, end: u64, page: Page) -> Result<(), Errno> {
    if let Some((previous_start, previous_end, previous)) = pieces.last_mut() {
        if *previous_end > start {
            // Segments are sorted and disjoint: only a last page meets a
            // first page.
            debug_assert!(*previous_start == start && *previous_end == end && end - start == PAGE_SIZE);
            previous.protection |= page.protection;
            match (previous.file_offset, page.file_offset) {
                (Some(existing), Some(offset)) if existing != offset => return Err(Errno::EINVAL),
                (None, Some(offset)) => previous.file_offset = Some(offset),
                _ => {}
            }
            previous.zero.extend(page.zero);
            return Ok(());
        }
    }
    pieces.push((start, end, page));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    /// The page-by-page planning this replaced: the oracle.
    fn pages_of(segments: &[Segment]) -> Result<BTreeMap<u64, Page>, Errno> {
        let mut sorted: Vec<Segment> = segments.iter().copied().filter(|segment| segment.memory_size > 0).collect();
        if sorted.is_empty() {
            return Err(Errno::EINVAL);
        }
        sorted.sort_by_key(|segment| segment.address);
        let mut pages: BTreeMap<u64, Page> = BTreeMap::new();
        let mut previous_end = 0;
        for segment in &sorted {
            let end = segment.address.checked_add(segment.memory_size).ok_or(Errno::EINVAL)?;
            let file_end = segment.address.checked_add(segment.file_size).ok_or(Errno::EINVAL)?;
            if segment.address < USER_LOWEST
                || end > MAPPING_BASE
                || segment.file_size > segment.memory_size
                || segment.address % PAGE_SIZE != segment.file_offset % PAGE_SIZE
                || segment.file_offset.checked_add(segment.file_size).is_none()
                || segment.address < previous_end
            {
                return Err(Errno::EINVAL);
            }
            check_protection(segment.protection).map_err(|_| Errno::EINVAL)?;
            previous_end = end;
            let first = page_round_down(segment.address);
            let last = page_round_up(end).ok_or(Errno::EINVAL)?;
            for page in (first..last).step_by(PAGE_SIZE as usize) {
                let entry = pages.entry(page).or_default();
                entry.protection |= segment.protection;
                if page < file_end {
                    // The page holds file bytes of this segment: its offset.
                    let offset = page_round_down(segment.file_offset) + (page - first);
                    match entry.file_offset {
                        Some(existing) if existing != offset => return Err(Errno::EINVAL),
                        _ => entry.file_offset = Some(offset),
                    }
                }
                // This segment's bytes in the page past its file bytes.
                let zero_from = file_end.max(page).max(segment.address);
                let zero_to = end.min(page + PAGE_SIZE);
                if zero_from < zero_to {
                    entry.zero.push((zero_from - page, zero_to - page));
                }
            }
        }
        for page in pages.values_mut() {
            check_protection(page.protection).map_err(|_| Errno::EINVAL)?;
            if page.file_offset.is_none() {
                // An anonymous page is zero already.
                page.zero.clear();
            }
        }
        Ok(pages)
    }

    /// A page as the tests compare it: file offset, protection, zero ranges.
    type PageView = (Option<u64>, u32, Vec<(u64, u64)>);

    fn expanded(pieces: &[(u64, u64, Page)]) -> BTreeMap<u64, PageView> {
        let mut pages = BTreeMap::new();
        for (start, end, page) in pieces {
            for address in (*start..*end).step_by(PAGE_SIZE as usize) {
                let offset = page.file_offset.map(|offset| offset + (address - start));
                let mut zero = page.zero.clone();
                zero.sort_unstable();
                pages.insert(address, (offset, page.protection, zero));
            }
        }
        pages
    }

    /// Segments one after the other (most lists valid), at odd places and
    /// sizes, so that they share pages, end mid-page, have bss; now and
    /// then overlapping or disagreeing on a shared page's offset.
    fn segments() -> impl Strategy<Value = Vec<Segment>> {
        let one = (
            0u64..(2 * 4096),
            0u64..(5 * 4096),
            0u64..(6 * 4096),
            0u64..3,
            prop::sample::select(alloc::vec![1u32, 3, 5]),
        );
        prop::collection::vec(one, 1..5).prop_map(|parts| {
            let mut address = 0x40_0000;
            let mut segments = Vec::new();
            for (gap, memory_size, file_size, offset_pages, protection) in parts {
                // A gap of 0 to 7 bytes below 8 lets a segment start before
                // its predecessor's end now and then (refused).
                address = (address + gap).saturating_sub(if gap < 8 { gap } else { 0 });
                segments.push(Segment {
                    address,
                    memory_size,
                    file_offset: offset_pages * PAGE_SIZE + address % PAGE_SIZE,
                    file_size: file_size.min(memory_size),
                    protection,
                });
                address += memory_size;
            }
            segments
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        #[test]
        fn pieces_are_the_pages_the_page_by_page_planning_found(segments in segments()) {
            let oracle = pages_of(&segments);
            let pieces = pieces_of(&segments);
            match (oracle, pieces) {
                (Ok(pages), Ok(pieces)) => {
                    let pages_as_pieces: Vec<(u64, u64, Page)> =
                        pages.iter().map(|(&address, page)| (address, address + PAGE_SIZE, page.clone())).collect();
                    prop_assert_eq!(expanded(&pieces), expanded(&pages_as_pieces));
                    for window in pieces.windows(2) {
                        prop_assert!(window[0].1 <= window[1].0, "pieces overlap: {:x?}", window);
                    }
                    let mut runs = runs_of(pieces);
                    let mut page_runs = runs_of(pages_as_pieces);
                    for (_, _, run) in runs.iter_mut().chain(page_runs.iter_mut()) {
                        run.zero.sort_unstable();
                    }
                    prop_assert_eq!(alloc::format!("{runs:?}"), alloc::format!("{page_runs:?}"));
                }
                (Err(expected), Err(found)) => prop_assert_eq!(expected, found),
                (expected, found) => prop_assert!(false, "{:?} against {:?}", expected.map(|_| ()), found.map(|_| ())),
            }
        }
    }
}
