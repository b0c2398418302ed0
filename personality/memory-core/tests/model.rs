//! The layout against a model of the kernel's map: every action an
//! operation asks for is applied to the model as the kernel would (regions
//! made only over free space, split by protect, inherit and deallocate,
//! contents moved by copies), and after each operation the model must hold
//! exactly the layout's regions. Random sequences of operations, and the
//! cases one by one.

use std::collections::BTreeMap;

use memory_core::image::{plan, Segment};
use memory_core::{
    map_flags, protection, remap_flags, Action, Backing, Errno, Layout, Limits, Region, Role, MAPPING_BASE, PAGE_SIZE,
    REGIONS_MAX, UNLIMITED, USER_TOP,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

const RW: u32 = protection::READ | protection::WRITE;
const RX: u32 = protection::READ | protection::EXECUTE;
const PRIVATE_ANONYMOUS: u32 = map_flags::PRIVATE | map_flags::ANONYMOUS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KernelBacking {
    Anonymous,
    Object { file: u64, offset: u64, private: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KernelRegion {
    end: u64,
    backing: KernelBacking,
    protection: u32,
    share: bool,
}

/// The kernel's map as the VM traps leave it, and what each page holds
/// (a tag per page the process wrote; untouched pages read as their
/// backing says).
#[derive(Clone, Debug, Default)]
struct Kernel {
    regions: BTreeMap<u64, KernelRegion>,
    written: BTreeMap<u64, u64>,
}

impl Kernel {
    fn is_free(&self, start: u64, end: u64) -> bool {
        self.regions.iter().all(|(&region_start, region)| region.end <= start || region_start >= end)
    }

    fn covered(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        for (&region_start, region) in &self.regions {
            if region.end <= at || region_start >= end {
                continue;
            }
            if region_start > at {
                return false;
            }
            at = region.end;
        }
        at >= end
    }

    fn split(&mut self, address: u64) {
        let Some((&start, &region)) = self.regions.range(..address).next_back() else { return };
        if region.end <= address {
            return;
        }
        let mut above = region;
        if let KernelBacking::Object { file, offset, private } = region.backing {
            above.backing = KernelBacking::Object { file, offset: offset + (address - start), private };
        }
        self.regions.insert(start, KernelRegion { end: address, ..region });
        self.regions.insert(address, above);
    }

    fn each_in(&mut self, start: u64, end: u64, mut change: impl FnMut(&mut KernelRegion)) {
        self.split(start);
        self.split(end);
        for (_, region) in self.regions.range_mut(start..end) {
            change(region);
        }
    }

    fn region_of(&self, page: u64) -> Option<(u64, KernelRegion)> {
        self.regions
            .range(..=page)
            .next_back()
            .map(|(&start, region)| (start, *region))
            .filter(|(_, region)| page < region.end)
    }

    fn content(&self, page: u64) -> u64 {
        if let Some(&tag) = self.written.get(&page) {
            return tag;
        }
        match self.region_of(page).map(|(start, region)| (start, region.backing)) {
            Some((start, KernelBacking::Object { file, offset, .. })) => file << 40 | (offset + page - start),
            _ => 0,
        }
    }

    /// The process writes `tag` into `page` (which must be writable).
    fn write(&mut self, page: u64, tag: u64) {
        let (_, region) = self.region_of(page).expect("a mapped page");
        assert!(region.protection & protection::WRITE != 0);
        self.written.insert(page, tag);
    }

    fn apply(&mut self, action: &Action) {
        match *action {
            Action::Allocate { address, size } => {
                assert!(self.is_free(address, address + size), "allocate over a used range: {action:?}");
                self.regions.insert(
                    address,
                    KernelRegion {
                        end: address + size,
                        backing: KernelBacking::Anonymous,
                        protection: RW,
                        share: false,
                    },
                );
                self.forget(address, address + size);
            }
            Action::Map { address, size, file, offset, private, protection } => {
                assert!(self.is_free(address, address + size), "map over a used range: {action:?}");
                assert!(protection != 0 && protection & !protection::ALL == 0 && protection != 6 && protection != 7);
                let backing = KernelBacking::Object { file, offset, private };
                self.regions.insert(address, KernelRegion { end: address + size, backing, protection, share: false });
                self.forget(address, address + size);
            }
            Action::Protect { address, size, protection } => {
                assert!(self.covered(address, address + size), "protect of an unmapped range: {action:?}");
                assert!(protection & protection::WRITE == 0 || protection & protection::EXECUTE == 0, "W^X");
                self.each_in(address, address + size, |region| region.protection = protection);
            }
            Action::Inherit { address, size, share } => {
                assert!(self.covered(address, address + size), "inherit of an unmapped range: {action:?}");
                self.each_in(address, address + size, |region| region.share = share);
            }
            Action::Deallocate { address, size } => {
                let end = address + size;
                self.split(address);
                self.split(end);
                let inside: Vec<u64> = self.regions.range(address..end).map(|(&start, _)| start).collect();
                for start in inside {
                    self.regions.remove(&start);
                }
                self.forget(address, end);
            }
            Action::Zero { address, size } => {
                for page in (address & !(PAGE_SIZE - 1)..address + size).step_by(PAGE_SIZE as usize) {
                    let (_, region) = self.region_of(page).expect("zeroing a mapped page");
                    assert!(region.protection & protection::WRITE != 0, "zeroing a read-only page");
                }
            }
            Action::Copy { from, to, size } => {
                for index in 0..size / PAGE_SIZE {
                    let (source, target) = (from + index * PAGE_SIZE, to + index * PAGE_SIZE);
                    let (_, from_region) = self.region_of(source).expect("copy from an unmapped page");
                    assert!(from_region.protection & protection::READ != 0, "copy from an unreadable page");
                    let (_, region) = self.region_of(target).expect("copy to an unmapped page");
                    assert!(region.protection & protection::WRITE != 0, "copy to a read-only page");
                    let tag = self.content(source);
                    self.written.insert(target, tag);
                }
            }
        }
    }

    fn forget(&mut self, start: u64, end: u64) {
        let pages: Vec<u64> = self.written.range(start..end).map(|(&page, _)| page).collect();
        for page in pages {
            self.written.remove(&page);
        }
    }

    fn agrees_with(&self, layout: &Layout) -> Result<(), String> {
        let expected: Vec<(u64, KernelRegion)> = layout
            .regions()
            .map(|region| {
                let backing = match region.backing {
                    Backing::Anonymous => KernelBacking::Anonymous,
                    Backing::File { file, offset, private } => KernelBacking::Object { file, offset, private },
                };
                (
                    region.start,
                    KernelRegion { end: region.end, backing, protection: region.protection, share: region.shared },
                )
            })
            .collect();
        let actual: Vec<(u64, KernelRegion)> = self.regions.iter().map(|(&start, region)| (start, *region)).collect();
        if expected == actual {
            Ok(())
        } else {
            Err(format!("the kernel holds\n{actual:#x?}\nthe layout says\n{expected:#x?}"))
        }
    }
}

/// Runs an operation: on success its actions go to the kernel model; on
/// failure the layout must be unchanged. Then both must agree.
fn step<T>(
    layout: &mut Layout,
    kernel: &mut Kernel,
    operation: impl FnOnce(&mut Layout) -> Result<(T, memory_core::Outcome), Errno>,
) -> Result<T, Errno> {
    let before = layout.clone();
    let result = operation(layout);
    match result {
        Ok((value, outcome)) => {
            for action in &outcome.actions {
                kernel.apply(action);
            }
            for file in &outcome.released {
                assert!(!layout.files().contains(file), "a released file is still mapped");
                assert!(before.files().contains(file), "a released file was not mapped");
            }
            layout.check().unwrap();
            kernel.agrees_with(layout).unwrap();
            Ok(value)
        }
        Err(error) => {
            assert_eq!(*layout, before, "a failed operation changed the layout");
            Err(error)
        }
    }
}

fn fresh() -> (Layout, Kernel) {
    (Layout::new(0x60_0000, Limits::default()), Kernel::default())
}

fn allocate(
    layout: &mut Layout,
    kernel: &mut Kernel,
    hint: u64,
    length: u64,
    prot: u32,
    flags: u32,
) -> Result<u64, Errno> {
    step(layout, kernel, |layout| layout.allocate(hint, length, prot, flags))
}

#[test]
fn anonymous_mappings_go_up_from_the_mapping_base_and_honour_free_hints() {
    let (mut layout, mut kernel) = fresh();
    let first = allocate(&mut layout, &mut kernel, 0, 3 * PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    assert_eq!(first, MAPPING_BASE);
    let second = allocate(&mut layout, &mut kernel, 0, 1, protection::READ, PRIVATE_ANONYMOUS).unwrap();
    assert_eq!(second, MAPPING_BASE + 3 * PAGE_SIZE, "a byte takes a page");
    let hinted = allocate(&mut layout, &mut kernel, 0x7000_0000_0123, PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    assert_eq!(hinted, 0x7000_0000_0000, "a free hint is taken, rounded down");
    let taken = allocate(&mut layout, &mut kernel, first, PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    assert_eq!(taken, MAPPING_BASE + 4 * PAGE_SIZE, "a used hint is not");
    assert_eq!(layout.mapped_bytes(), 6 * PAGE_SIZE);
}

#[test]
fn bad_mmap_arguments_are_refused() {
    let (mut layout, mut kernel) = fresh();
    let cases = [
        (0, 0, RW, PRIVATE_ANONYMOUS, Errno::EINVAL),
        (0, PAGE_SIZE, RW, map_flags::ANONYMOUS, Errno::EINVAL),
        (0, PAGE_SIZE, RW, map_flags::PRIVATE, Errno::EINVAL),
        (0, PAGE_SIZE, 8, PRIVATE_ANONYMOUS, Errno::EINVAL),
        (0, PAGE_SIZE, protection::WRITE | protection::EXECUTE, PRIVATE_ANONYMOUS, Errno::EACCES),
        (0x1234, PAGE_SIZE, RW, PRIVATE_ANONYMOUS | map_flags::FIXED, Errno::EINVAL),
        (0, PAGE_SIZE, RW, PRIVATE_ANONYMOUS | map_flags::FIXED, Errno::ENOMEM),
        (USER_TOP, PAGE_SIZE, RW, PRIVATE_ANONYMOUS | map_flags::FIXED, Errno::ENOMEM),
        (0, u64::MAX, RW, PRIVATE_ANONYMOUS, Errno::ENOMEM),
        (0, PAGE_SIZE, RW, PRIVATE_ANONYMOUS | map_flags::HUGETLB, Errno::EINVAL),
    ];
    for (hint, length, prot, flags, error) in cases {
        assert_eq!(
            allocate(&mut layout, &mut kernel, hint, length, prot, flags),
            Err(error),
            "{hint:#x} {length:#x} {prot} {flags:#x}"
        );
    }
    assert_eq!(layout.region_count(), 0);
}

#[test]
fn map_fixed_replaces_what_was_there_and_noreplace_refuses() {
    let (mut layout, mut kernel) = fresh();
    let base = allocate(&mut layout, &mut kernel, 0, 8 * PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    let middle = base + 2 * PAGE_SIZE;
    let fixed = allocate(
        &mut layout,
        &mut kernel,
        middle,
        2 * PAGE_SIZE,
        protection::READ,
        map_flags::SHARED | map_flags::ANONYMOUS | map_flags::FIXED,
    );
    assert_eq!(fixed, Ok(middle));
    assert_eq!(layout.region_count(), 3, "the old mapping split around the new one");
    assert!(layout.region_at(middle).unwrap().shared);
    let noreplace = map_flags::PRIVATE | map_flags::ANONYMOUS | map_flags::FIXED_NOREPLACE;
    assert_eq!(allocate(&mut layout, &mut kernel, base, PAGE_SIZE, RW, noreplace), Err(Errno::EEXIST));
    assert_eq!(
        allocate(&mut layout, &mut kernel, base + 8 * PAGE_SIZE, PAGE_SIZE, RW, noreplace),
        Ok(base + 8 * PAGE_SIZE)
    );
    assert_eq!(layout.mapped_bytes(), 9 * PAGE_SIZE);
}

#[test]
fn a_stack_mapping_keeps_a_guard_page_that_nothing_else_takes() {
    let (mut layout, mut kernel) = fresh();
    let stack_flags = PRIVATE_ANONYMOUS | map_flags::STACK;
    let stack = allocate(&mut layout, &mut kernel, 0, 4 * PAGE_SIZE, RW, stack_flags).unwrap();
    assert_eq!(stack, MAPPING_BASE + PAGE_SIZE, "the guard page sits below");
    assert!(!layout.is_free(MAPPING_BASE, MAPPING_BASE + PAGE_SIZE));
    assert_eq!(layout.mapped_bytes(), 4 * PAGE_SIZE, "a guard page is not mapped");
    // A mapping asking for the guard's place gets another.
    let other = allocate(&mut layout, &mut kernel, MAPPING_BASE, PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    assert_ne!(other, MAPPING_BASE);
    // Unmapping the stack frees its guard too.
    step(&mut layout, &mut kernel, |layout| layout.deallocate(stack, 4 * PAGE_SIZE).map(|outcome| ((), outcome)))
        .unwrap();
    assert!(layout.is_free(MAPPING_BASE, MAPPING_BASE + 5 * PAGE_SIZE));
}

#[test]
fn mprotect_checks_the_maximum_w_x_and_holes() {
    let (mut layout, _) = fresh();
    let (file_address, _) =
        layout.map_file(7, 0, 0, 2 * PAGE_SIZE, protection::READ, map_flags::SHARED, true, false).unwrap();
    let mut kernel = Kernel::default();
    for action in &layout.clone().regions().copied().collect::<Vec<Region>>() {
        let Backing::File { file, offset, private } = action.backing else { unreachable!() };
        kernel.apply(&Action::Map {
            address: action.start,
            size: action.size(),
            file,
            offset,
            private,
            protection: protection::READ,
        });
        kernel.apply(&Action::Inherit { address: action.start, size: action.size(), share: true });
    }
    let protect = |layout: &mut Layout, kernel: &mut Kernel, address, length, prot| {
        step(layout, kernel, |layout| layout.protect(address, length, prot).map(|outcome| ((), outcome)))
    };
    assert_eq!(
        protect(&mut layout, &mut kernel, file_address, PAGE_SIZE, RW),
        Err(Errno::EACCES),
        "a read-only file shared"
    );
    assert_eq!(protect(&mut layout, &mut kernel, file_address, PAGE_SIZE, RX), Ok(()));
    assert_eq!(layout.region_count(), 2);
    let anonymous = allocate(&mut layout, &mut kernel, 0, 2 * PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    assert_eq!(protect(&mut layout, &mut kernel, anonymous, PAGE_SIZE, 7), Err(Errno::EACCES), "W^X");
    assert_eq!(
        protect(&mut layout, &mut kernel, anonymous, 4 * PAGE_SIZE, protection::READ),
        Err(Errno::ENOMEM),
        "a hole"
    );
    assert_eq!(protect(&mut layout, &mut kernel, anonymous + 1, PAGE_SIZE, protection::READ), Err(Errno::EINVAL));
    assert_eq!(protect(&mut layout, &mut kernel, anonymous, 2 * PAGE_SIZE, protection::NONE), Ok(()));
}

#[test]
fn file_mappings_need_the_access_their_open_file_allows() {
    let (mut layout, _) = fresh();
    assert_eq!(
        layout.map_file(1, 0, 0, PAGE_SIZE, protection::READ, map_flags::PRIVATE, false, true),
        Err(Errno::EACCES)
    );
    assert_eq!(layout.map_file(1, 0, 0, PAGE_SIZE, RW, map_flags::SHARED, true, false), Err(Errno::EACCES));
    assert!(
        layout.map_file(1, 0, 0, PAGE_SIZE, RW, map_flags::PRIVATE, true, false).is_ok(),
        "private writes are the process's own"
    );
    assert!(layout.map_file(1, 0, 0, PAGE_SIZE, RW, map_flags::SHARED, true, true).is_ok());
    assert_eq!(
        layout.map_file(1, 100, 0, PAGE_SIZE, protection::READ, map_flags::PRIVATE, true, true),
        Err(Errno::EINVAL)
    );
}

#[test]
fn unmapping_the_last_region_of_a_file_releases_it() {
    let (mut layout, mut kernel) = fresh();
    let address = step(&mut layout, &mut kernel, |layout| {
        layout.map_file(5, 0, 0, 4 * PAGE_SIZE, protection::READ, map_flags::PRIVATE, true, false)
    })
    .unwrap();
    let outcome = layout.deallocate(address, PAGE_SIZE).unwrap();
    assert!(outcome.released.is_empty(), "three pages still map it");
    let outcome = layout.deallocate(address, 4 * PAGE_SIZE).unwrap();
    assert_eq!(outcome.released, vec![5]);
}

#[test]
fn the_break_grows_shrinks_and_stops_at_a_mapping_or_a_limit() {
    let mut layout = Layout::new(0x60_0000, Limits { address_space: UNLIMITED, data: 16 * PAGE_SIZE });
    let mut kernel = Kernel::default();
    let brk = |layout: &mut Layout, kernel: &mut Kernel, address| {
        step(layout, kernel, |layout| Ok::<_, Errno>(layout.set_break(address))).unwrap()
    };
    assert_eq!(brk(&mut layout, &mut kernel, 0), 0x60_0000);
    assert_eq!(brk(&mut layout, &mut kernel, 0x60_0010), 0x60_0010, "a byte of break");
    assert_eq!(layout.mapped_bytes(), PAGE_SIZE);
    assert_eq!(brk(&mut layout, &mut kernel, 0x60_3000), 0x60_3000);
    assert_eq!(brk(&mut layout, &mut kernel, 0x5f_0000), 0x60_3000, "below its start: unchanged");
    assert_eq!(brk(&mut layout, &mut kernel, 0x60_0000 + 17 * PAGE_SIZE), 0x60_3000, "past RLIMIT_DATA");
    // A mapping just above stops it.
    allocate(&mut layout, &mut kernel, 0x60_5000, PAGE_SIZE, RW, PRIVATE_ANONYMOUS | map_flags::FIXED).unwrap();
    assert_eq!(brk(&mut layout, &mut kernel, 0x60_6000), 0x60_3000);
    assert_eq!(brk(&mut layout, &mut kernel, 0x60_5000), 0x60_5000, "up to it is fine");
    assert_eq!(brk(&mut layout, &mut kernel, 0x60_1000), 0x60_1000);
    assert_eq!(layout.mapped_bytes(), 2 * PAGE_SIZE, "the break shrank to a page; the mapping stays");
}

#[test]
fn rlimit_as_holds_for_every_way_of_growing() {
    let mut layout = Layout::new(0x60_0000, Limits { address_space: 8 * PAGE_SIZE, data: UNLIMITED });
    let mut kernel = Kernel::default();
    let first = allocate(&mut layout, &mut kernel, 0, 6 * PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    assert_eq!(allocate(&mut layout, &mut kernel, 0, 3 * PAGE_SIZE, RW, PRIVATE_ANONYMOUS), Err(Errno::ENOMEM));
    // Replacing what is there grows nothing.
    assert_eq!(
        allocate(
            &mut layout,
            &mut kernel,
            first,
            6 * PAGE_SIZE,
            protection::READ,
            PRIVATE_ANONYMOUS | map_flags::FIXED
        ),
        Ok(first)
    );
    let remap = step(&mut layout, &mut kernel, |layout| {
        layout.remap(first, 6 * PAGE_SIZE, 9 * PAGE_SIZE, remap_flags::MAYMOVE, 0)
    });
    assert_eq!(remap, Err(Errno::ENOMEM));
    assert_eq!(
        step(&mut layout, &mut kernel, |layout| Ok::<_, Errno>(layout.set_break(0x60_0000 + 3 * PAGE_SIZE))),
        Ok(0x60_0000)
    );
    assert_eq!(layout.mapped_bytes(), 6 * PAGE_SIZE);
}

#[test]
fn mremap_shrinks_grows_in_place_and_moves_with_the_contents() {
    let (mut layout, mut kernel) = fresh();
    let address = allocate(&mut layout, &mut kernel, 0, 2 * PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    kernel.write(address, 11);
    kernel.write(address + PAGE_SIZE, 12);
    let grown =
        step(&mut layout, &mut kernel, |layout| layout.remap(address, 2 * PAGE_SIZE, 4 * PAGE_SIZE, 0, 0)).unwrap();
    assert_eq!(grown, address, "room above: in place");
    assert_eq!(kernel.content(address + PAGE_SIZE), 12);
    // Something right above: it must move, keeping the contents.
    allocate(&mut layout, &mut kernel, address + 4 * PAGE_SIZE, PAGE_SIZE, RW, PRIVATE_ANONYMOUS | map_flags::FIXED)
        .unwrap();
    assert_eq!(
        step(&mut layout, &mut kernel, |layout| layout.remap(address, 4 * PAGE_SIZE, 8 * PAGE_SIZE, 0, 0)),
        Err(Errno::ENOMEM),
        "no MAYMOVE"
    );
    let moved = step(&mut layout, &mut kernel, |layout| {
        layout.remap(address, 4 * PAGE_SIZE, 8 * PAGE_SIZE, remap_flags::MAYMOVE, 0)
    })
    .unwrap();
    assert_ne!(moved, address);
    assert_eq!((kernel.content(moved), kernel.content(moved + PAGE_SIZE)), (11, 12));
    assert!(layout.region_at(address).is_none(), "the old range is gone");
    let shrunk = step(&mut layout, &mut kernel, |layout| layout.remap(moved, 8 * PAGE_SIZE, PAGE_SIZE, 0, 0)).unwrap();
    assert_eq!(shrunk, moved);
    assert_eq!(layout.region_at(moved).unwrap().size(), PAGE_SIZE);
}

#[test]
fn msync_names_the_shared_file_pieces_of_its_range() {
    let (mut layout, _) = fresh();
    let (shared, _) = layout.map_file(3, 2 * PAGE_SIZE, 0, 2 * PAGE_SIZE, RW, map_flags::SHARED, true, true).unwrap();
    let (private, _) = layout
        .map_file(4, 0, shared + 2 * PAGE_SIZE, PAGE_SIZE, RW, map_flags::PRIVATE | map_flags::FIXED, true, true)
        .unwrap();
    assert_eq!(private, shared + 2 * PAGE_SIZE);
    assert_eq!(layout.sync(shared + PAGE_SIZE, 2 * PAGE_SIZE, 4), Ok(vec![(3, 3 * PAGE_SIZE, PAGE_SIZE)]));
    assert_eq!(layout.sync(shared, 8 * PAGE_SIZE, 4), Err(Errno::ENOMEM));
    assert_eq!(layout.sync(shared, PAGE_SIZE, 5), Err(Errno::EINVAL));
}

#[test]
fn fork_copies_the_layout_and_each_region_says_how_the_kernel_inherits_it() {
    let (mut layout, mut kernel) = fresh();
    allocate(&mut layout, &mut kernel, 0, PAGE_SIZE, RW, map_flags::SHARED | map_flags::ANONYMOUS).unwrap();
    allocate(&mut layout, &mut kernel, 0, PAGE_SIZE, RW, PRIVATE_ANONYMOUS).unwrap();
    let child = layout.clone();
    assert_eq!(child, layout);
    let shares: Vec<bool> = kernel.regions.values().map(|region| region.share).collect();
    assert_eq!(shares, vec![true, false], "MAP_SHARED is inherited shared, MAP_PRIVATE by copy");
}

#[test]
fn the_region_budget_is_the_kernels() {
    let (mut layout, mut kernel) = fresh();
    let mut made = 0;
    loop {
        // Alternate protections so nothing could be merged even by a kernel that merged.
        let prot = if made % 2 == 0 { RW } else { protection::READ };
        match layout.allocate(0, PAGE_SIZE, prot, PRIVATE_ANONYMOUS) {
            Ok((_, outcome)) => {
                outcome.actions.iter().for_each(|action| kernel.apply(action));
                made += 1;
            }
            Err(error) => {
                assert_eq!(error, Errno::ENOMEM);
                break;
            }
        }
    }
    assert_eq!(made, REGIONS_MAX);
    layout.check().unwrap();
    kernel.agrees_with(&layout).unwrap();
    // Splitting one more region by mprotect is refused too; unmapping one makes room.
    let first = layout.regions().next().unwrap().start;
    assert_eq!(layout.protect(first, PAGE_SIZE, protection::NONE).map(|_| ()), Ok(()), "no split: whole region");
    assert!(layout.deallocate(first, PAGE_SIZE).is_ok());
    assert!(layout.allocate(0, PAGE_SIZE, RW, PRIVATE_ANONYMOUS).is_ok());
}

// ----- exec ------------------------------------------------------------------

fn segment(address: u64, memory_size: u64, file_offset: u64, file_size: u64, protection: u32) -> Segment {
    Segment { address, memory_size, file_offset, file_size, protection }
}

#[test]
fn an_image_maps_text_and_data_from_the_file_bss_anonymous_and_the_stack_on_top() {
    // A typical static program: text, read-only data, data whose bss runs
    // two pages past its last file page.
    let segments = [
        segment(0x40_1000, 0x2345, 0x1000, 0x2345, RX),
        segment(0x40_4000, 0x800, 0x4000, 0x800, protection::READ),
        segment(0x40_5f00, 0x2300, 0x4f00, 0x200, RW),
    ];
    let plan = plan(9, &segments, 8 << 20, Limits::default()).unwrap();
    let mut kernel = Kernel::default();
    for action in &plan.outcome.actions {
        kernel.apply(action);
    }
    kernel.agrees_with(&plan.layout).unwrap();
    plan.layout.check().unwrap();
    let regions: Vec<Region> = plan.layout.regions().copied().collect();
    assert_eq!(regions[0].backing, Backing::File { file: 9, offset: 0x1000, private: true });
    assert_eq!((regions[0].start, regions[0].end, regions[0].protection), (0x40_1000, 0x40_4000, RX));
    assert_eq!((regions[1].start, regions[1].end, regions[1].protection), (0x40_4000, 0x40_5000, protection::READ));
    // Data: one file page (0x40_5000, offset 0x4000), its tail zeroed; then anonymous.
    assert_eq!(regions[2].backing, Backing::File { file: 9, offset: 0x4000, private: true });
    assert_eq!((regions[2].start, regions[2].end, regions[2].protection), (0x40_5000, 0x40_7000, RW));
    assert_eq!(regions[3].backing, Backing::Anonymous);
    assert_eq!((regions[3].start, regions[3].end), (0x40_7000, 0x40_9000));
    assert!(
        plan.outcome.actions.contains(&Action::Zero { address: 0x40_6100, size: 0xf00 }),
        "{:#x?}",
        plan.outcome.actions
    );
    assert_eq!(plan.layout.break_start(), 0x40_9000);
    let stack = regions.last().unwrap();
    assert_eq!((stack.role, stack.end, stack.size(), stack.guard_below), (Role::Stack, USER_TOP, 8 << 20, true));
    assert_eq!(plan.stack_top % 16, 0);
    assert!(plan.layout.data_bytes() >= 0x4000, "data and bss count as data");
}

#[test]
fn segments_sharing_a_page_take_the_union_and_must_agree_on_its_offset() {
    let shared_page =
        [segment(0x40_0000, 0x1800, 0, 0x1800, RX), segment(0x40_1800, 0x100, 0x1800, 0x100, protection::READ)];
    let plan = plan(1, &shared_page, 0, Limits::default()).unwrap();
    let first: Vec<(u64, u64, u32)> =
        plan.layout.regions().map(|region| (region.start, region.end, region.protection)).take(1).collect();
    assert_eq!(first, vec![(0x40_0000, 0x40_2000, RX)]);
    let disagreeing =
        [segment(0x40_0000, 0x1800, 0, 0x1800, RX), segment(0x40_1800, 0x100, 0x3800, 0x100, protection::READ)];
    assert_eq!(memory_core::image::plan(1, &disagreeing, 0, Limits::default()), Err(Errno::EINVAL));
}

#[test]
fn bad_segments_and_limits_are_refused() {
    let good = segment(0x40_0000, 0x1000, 0, 0x1000, RX);
    let cases = [
        vec![],
        vec![segment(0, 0x1000, 0, 0x1000, RX)],
        vec![segment(0x40_0000, 0x1000, 0x10, 0x1000, RX)],
        vec![segment(0x40_0000, 0x100, 0, 0x200, RX)],
        vec![segment(0x40_0000, 0x1000, 0, 0x1000, 6)],
        vec![good, segment(0x40_0800, 0x1000, 0x800, 0x100, protection::READ)],
        vec![segment(MAPPING_BASE - 0x1000, 0x2000, 0, 0x1000, RX)],
        vec![segment(0x40_0000, u64::MAX, 0, 0x1000, RX)],
    ];
    for segments in cases {
        assert_eq!(plan(1, &segments, 0, Limits::default()), Err(Errno::EINVAL), "{segments:x?}");
    }
    let tight = Limits { address_space: 64 * 1024, data: UNLIMITED };
    assert_eq!(plan(1, &[good], 8 << 20, tight), Err(Errno::ENOMEM));
}

// ----- random sequences --------------------------------------------------------

#[derive(Clone, Debug)]
enum Operation {
    Allocate {
        hint: u64,
        pages: u64,
        extra: u64,
        prot: u32,
        shared: bool,
        fixed: bool,
        noreplace: bool,
        stack: bool,
    },
    MapFile {
        file: u64,
        offset_pages: u64,
        hint: u64,
        pages: u64,
        prot: u32,
        shared: bool,
        fixed: bool,
        writable: bool,
    },
    Deallocate {
        at: u64,
        pages: u64,
    },
    Protect {
        at: u64,
        pages: u64,
        prot: u32,
    },
    Remap {
        at: u64,
        old_pages: u64,
        new_pages: u64,
        flags: u32,
        target: u64,
    },
    Break {
        pages: u64,
        extra: u64,
    },
    Write {
        at: u64,
        tag: u64,
    },
    Limits {
        address_space: Option<u64>,
        data: Option<u64>,
    },
}

/// Addresses in a small window above the mapping base and around the
/// break, so operations meet each other.
fn address() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => (0u64..48).prop_map(|page| MAPPING_BASE + page * PAGE_SIZE),
        1 => (0u64..16).prop_map(|page| 0x60_0000 + page * PAGE_SIZE),
        1 => Just(0u64),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => (address(), 1u64..12, 0u64..PAGE_SIZE, 0u32..8, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(hint, pages, extra, prot, shared, fixed, noreplace, stack)| Operation::Allocate { hint, pages, extra, prot, shared, fixed, noreplace, stack }
        ),
        2 => (1u64..4, 0u64..8, address(), 1u64..8, 0u32..8, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(file, offset_pages, hint, pages, prot, shared, fixed, writable)| Operation::MapFile { file, offset_pages, hint, pages, prot, shared, fixed, writable }
        ),
        2 => (address(), 1u64..16).prop_map(|(at, pages)| Operation::Deallocate { at, pages }),
        2 => (address(), 1u64..8, 0u32..8).prop_map(|(at, pages, prot)| Operation::Protect { at, pages, prot }),
        2 => (address(), 1u64..6, 1u64..12, 0u32..4, address()).prop_map(
            |(at, old_pages, new_pages, flags, target)| Operation::Remap { at, old_pages, new_pages, flags, target }
        ),
        2 => (0u64..20, 0u64..PAGE_SIZE).prop_map(|(pages, extra)| Operation::Break { pages, extra }),
        2 => (address(), 1u64..1000).prop_map(|(at, tag)| Operation::Write { at, tag }),
        1 => (proptest::option::of(8u64..64), proptest::option::of(4u64..32)).prop_map(|(address_space, data)| Operation::Limits {
            address_space: address_space.map(|pages| pages * PAGE_SIZE),
            data: data.map(|pages| pages * PAGE_SIZE),
        }),
    ]
}

static SUCCEEDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static TRIED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn run(layout: &mut Layout, kernel: &mut Kernel, operation: &Operation) {
    let before = layout.clone();
    run_operation(layout, kernel, operation);
    TRIED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if *layout != before {
        SUCCEEDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn run_operation(layout: &mut Layout, kernel: &mut Kernel, operation: &Operation) {
    match *operation {
        Operation::Allocate { hint, pages, extra, prot, shared, fixed, noreplace, stack } => {
            let mut flags = map_flags::ANONYMOUS | if shared { map_flags::SHARED } else { map_flags::PRIVATE };
            if fixed {
                flags |= if noreplace { map_flags::FIXED_NOREPLACE } else { map_flags::FIXED };
            }
            if stack {
                flags |= map_flags::STACK;
            }
            let length = pages * PAGE_SIZE - extra.min(PAGE_SIZE - 1);
            if let Ok(address) = allocate(layout, kernel, hint, length, prot, flags) {
                assert_eq!(address % PAGE_SIZE, 0);
                if fixed {
                    assert_eq!(address, hint);
                }
            }
        }
        Operation::MapFile { file, offset_pages, hint, pages, prot, shared, fixed, writable } => {
            let mut flags = if shared { map_flags::SHARED } else { map_flags::PRIVATE };
            if fixed {
                flags |= map_flags::FIXED;
            }
            let _ = step(layout, kernel, |layout| {
                layout.map_file(file, offset_pages * PAGE_SIZE, hint, pages * PAGE_SIZE, prot, flags, true, writable)
            });
        }
        Operation::Deallocate { at, pages } => {
            let _ =
                step(layout, kernel, |layout| layout.deallocate(at, pages * PAGE_SIZE).map(|outcome| ((), outcome)));
        }
        Operation::Protect { at, pages, prot } => {
            let _ =
                step(layout, kernel, |layout| layout.protect(at, pages * PAGE_SIZE, prot).map(|outcome| ((), outcome)));
        }
        Operation::Remap { at, old_pages, new_pages, flags, target } => {
            // Contents of the old range as the process sees them.
            let before: Vec<u64> =
                (0..old_pages.min(new_pages)).map(|page| kernel.content(at + page * PAGE_SIZE)).collect();
            let moved = layout
                .region_at(at)
                .is_some_and(|region| !matches!(region.backing, Backing::File { private: false, .. }));
            if let Ok(address) = step(layout, kernel, |layout| {
                layout.remap(at, old_pages * PAGE_SIZE, new_pages * PAGE_SIZE, flags, target)
            }) {
                if moved {
                    let after: Vec<u64> =
                        (0..old_pages.min(new_pages)).map(|page| kernel.content(address + page * PAGE_SIZE)).collect();
                    assert_eq!(after, before, "mremap kept the contents");
                }
            }
        }
        Operation::Break { pages, extra } => {
            let target = layout.break_start() + pages * PAGE_SIZE + extra;
            let _ = step(layout, kernel, |layout| Ok::<_, Errno>(layout.set_break(target)));
        }
        Operation::Write { at, tag } => {
            let writable = kernel.region_of(at).is_some_and(|(_, region)| region.protection & protection::WRITE != 0);
            if writable {
                kernel.write(at, tag);
            }
        }
        Operation::Limits { address_space, data } => {
            layout.set_limits(Limits {
                address_space: address_space.unwrap_or(UNLIMITED),
                data: data.unwrap_or(UNLIMITED),
            });
        }
    }
    assert!(layout.mapped_bytes() <= USER_TOP);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_kernel_and_the_layout_in_agreement(operations in proptest::collection::vec(operation(), 1..60)) {
        let (mut layout, mut kernel) = fresh();
        for operation in &operations {
            let before = (layout.mapped_bytes(), layout.data_bytes());
            let limits = layout.limits();
            run(&mut layout, &mut kernel, operation);
            // Growth never passes a limit (shrinking below one is always fine).
            if layout.mapped_bytes() > before.0 {
                prop_assert!(layout.mapped_bytes() <= limits.address_space);
            }
            if layout.data_bytes() > before.1 {
                prop_assert!(layout.data_bytes() <= limits.data);
            }
        }
    }
}

/// The random operations are not mostly refused: at least a third of them
/// change the layout (so the agreement above is tested on real changes).
#[test]
fn random_operations_mostly_do_something() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::collection::vec(operation(), 40);
    for _ in 0..64 {
        let operations = strategy.new_tree(&mut runner).unwrap().current();
        let (mut layout, mut kernel) = fresh();
        for operation in &operations {
            run(&mut layout, &mut kernel, operation);
        }
    }
    let (succeeded, tried) =
        (SUCCEEDED.load(std::sync::atomic::Ordering::Relaxed), TRIED.load(std::sync::atomic::Ordering::Relaxed));
    eprintln!("{succeeded} of {tried} random operations changed the layout");
    assert!(succeeded * 3 >= tried, "{succeeded} of {tried}");
}
