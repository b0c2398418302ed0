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

use alloc::collections::BTreeMap;
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
    let pages = pages_of(segments)?;
    // Runs of pages mapped alike: (start, end, page plan with the run's
    // first file offset and its zero ranges as absolute addresses).
    let mut runs: Vec<(u64, u64, Page)> = Vec::new();
    for (address, page) in pages {
        let zero: Vec<(u64, u64)> = page.zero.iter().map(|&(from, to)| (address + from, address + to)).collect();
        if let Some((start, end, run)) = runs.last_mut() {
            let contiguous = match (run.file_offset, page.file_offset) {
                (Some(first), Some(offset)) => offset == first + (address - *start),
                (None, None) => true,
                _ => false,
            };
            if *end == address && run.protection == page.protection && contiguous {
                run.zero.extend(zero);
                *end += PAGE_SIZE;
                continue;
            }
        }
        runs.push((address, address + PAGE_SIZE, Page { zero, ..page }));
    }
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

/// Every page the segments touch, with what it holds.
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
