//! x86_64 4-level paging: the kernel's address space and its operations.
//!
//! Virtual layout (see docs/memory.md):
//! - `0x0000_0000_0000_0000 .. 0x0000_8000_0000_0000`: user space (later);
//! - `DIRECT_MAP_BASE = 0xffff_8000_0000_0000`: all usable RAM, 2 MiB pages,
//!   read-write, no-execute;
//! - `DEVICE_WINDOW_BASE = 0xffff_ff00_0000_0000`: device registers mapped
//!   uncached on demand (the local APIC);
//! - `KERNEL_VIRTUAL_BASE = 0xffff_ffff_8000_0000`: the kernel image, 4 KiB
//!   pages with per-section rights (text read-execute, rodata read-only,
//!   data read-write no-execute) and an unmapped guard page under the boot
//!   stack.
//!
//! The page-table walking itself is the `x86_64` crate's `OffsetPageTable`,
//! which reaches table frames through the direct map; this module adds the
//! kernel's layout, locking, architecture-neutral flags and errors.
//! TLB shootdown is local `invlpg`: one CPU for now.

use crate::boot_info::{BootInfo, RegionKind};
use crate::memory::{frame, Frame, MapError, PageFlags, PhysicalAddress, PhysicalRange, PAGE_SIZE};
use x86_64::registers::control::{Cr3, Cr3Flags, Cr4, Cr4Flags};
use x86_64::structures::paging::mapper::{MapToError, UnmapError};
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags, PhysFrame, Size2MiB, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
pub const DEVICE_WINDOW_BASE: u64 = 0xffff_ff00_0000_0000;
pub const KERNEL_VIRTUAL_BASE: u64 = 0xffff_ffff_8000_0000;
/// How much of physical memory the boot page tables map at the direct-map
/// base, until the kernel's own tables take over.
pub const EARLY_DIRECT_MAP_END: PhysicalAddress = PhysicalAddress(1 << 30);

const LARGE_PAGE_SIZE: u64 = 2 * 1024 * 1024;

/// The direct-map virtual address of a physical address.
pub fn direct_map_address(address: PhysicalAddress) -> usize {
    (DIRECT_MAP_BASE + address.0) as usize
}

/// Hands out `range` (reserved by the caller for this use alone) as a slice
/// of `count` words through the direct map.
pub fn direct_map_words(range: PhysicalRange, count: usize) -> &'static mut [u64] {
    assert!(count * 8 <= range.size() as usize && range.start.is_page_aligned());
    assert!(range.end <= EARLY_DIRECT_MAP_END, "direct_map_words used beyond the early map");
    let pointer = direct_map_address(range.start) as *mut u64;
    // SAFETY: the caller reserved `range` so nothing else uses it; it lies in
    // the first GiB, mapped read-write at the direct-map base before and
    // after the switch to the kernel's tables; `count` words fit in it and
    // the start is page aligned, hence aligned for u64.
    unsafe { core::slice::from_raw_parts_mut(pointer, count) }
}

/// Physical extent of the kernel image, from the linker script's symbols.
pub fn kernel_image_physical_range() -> PhysicalRange {
    let (start, end) = (symbol_address(Symbol::LoadStart), symbol_address(Symbol::KernelEnd));
    PhysicalRange::new(start, end - KERNEL_VIRTUAL_BASE)
}

#[derive(Clone, Copy)]
enum Symbol {
    LoadStart,
    TextStart,
    RodataStart,
    DataStart,
    StackGuard,
    StackBottom,
    KernelEnd,
}

fn symbol_address(symbol: Symbol) -> u64 {
    unsafe extern "C" {
        static __load_start_phys: u8;
        static __kernel_text_start: u8;
        static __kernel_rodata_start: u8;
        static __kernel_data_start: u8;
        static __boot_stack_guard: u8;
        static __boot_stack_bottom: u8;
        static __kernel_end: u8;
    }
    // Only the symbols' addresses are taken; nothing is read through them.
    (match symbol {
        Symbol::LoadStart => &raw const __load_start_phys,
        Symbol::TextStart => &raw const __kernel_text_start,
        Symbol::RodataStart => &raw const __kernel_rodata_start,
        Symbol::DataStart => &raw const __kernel_data_start,
        Symbol::StackGuard => &raw const __boot_stack_guard,
        Symbol::StackBottom => &raw const __boot_stack_bottom,
        Symbol::KernelEnd => &raw const __kernel_end,
    }) as u64
}

/// Page-table frames come from the frame allocator.
struct TableFrames;

// SAFETY: `frame::allocate` hands out each frame once, never one in use.
unsafe impl FrameAllocator<Size4KiB> for TableFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let frame = frame::allocate().ok()?;
        Some(PhysFrame::containing_address(PhysAddr::new(frame.start().0)))
    }
}

/// `TableFrames` that counts what it hands out, so a task's page tables
/// can be charged to it.
struct CountedTableFrames<'a>(&'a mut usize);

// SAFETY: as for `TableFrames`, which does the allocating.
unsafe impl FrameAllocator<Size4KiB> for CountedTableFrames<'_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let frame = TableFrames.allocate_frame()?;
        *self.0 += 1;
        Some(frame)
    }
}

/// One set of 4-level page tables, reached through the direct map.
///
/// The kernel has one (in `KERNEL_SPACE`); each task has one whose upper
/// half (PML4 entries 256..512) points at the kernel's own tables, so every
/// address space sees the same kernel. All 256 kernel PML4 entries exist
/// from boot on, so later kernel mappings reach every space at once.
/// Frames mapped in the user half belong to the tables and are freed with
/// them.
pub struct PageTables {
    tables: OffsetPageTable<'static>,
    root: PhysFrame,
    /// Table frames allocated below the root for user mappings (kept until
    /// the tables are destroyed).
    table_pages: usize,
    /// Counts changes that may take away a mapping or some of its rights
    /// (`unmap`, `protect`, `share_into`): a translation found at one
    /// count holds while the count stays (`memory::user::WritableBuffer`).
    change_count: u64,
}

// SAFETY: a `PageTables` is owned by one holder (the kernel's static mutex,
// or one task's address space behind the task's lock); its frames are
// reachable only through it.
unsafe impl Send for PageTables {}

static KERNEL_SPACE: spin::Mutex<Option<PageTables>> = spin::Mutex::new(None);

/// Highest user address + 1: the lower canonical half.
pub const USER_END: u64 = 0x0000_8000_0000_0000;
const KERNEL_HALF_FIRST_ENTRY: usize = 256;

fn hardware_flags(flags: PageFlags) -> PageTableFlags {
    let mut result = PageTableFlags::PRESENT;
    if flags.contains(PageFlags::WRITABLE) {
        result |= PageTableFlags::WRITABLE;
    }
    if !flags.contains(PageFlags::EXECUTABLE) {
        result |= PageTableFlags::NO_EXECUTE;
    }
    if flags.contains(PageFlags::USER) {
        result |= PageTableFlags::USER_ACCESSIBLE;
    } else {
        result |= PageTableFlags::GLOBAL;
    }
    if flags.contains(PageFlags::UNCACHED) {
        result |= PageTableFlags::NO_CACHE | PageTableFlags::WRITE_THROUGH;
    }
    if flags.contains(PageFlags::PRIVATE) {
        result |= SOFTWARE_PRIVATE;
    }
    result
}

/// The rights of the tables above a user mapping.
const USER_PARENT_FLAGS: PageTableFlags =
    PageTableFlags::PRESENT.union(PageTableFlags::WRITABLE).union(PageTableFlags::USER_ACCESSIBLE);

/// The entry bit (one the hardware leaves to software) that carries
/// `PageFlags::PRIVATE`.
const SOFTWARE_PRIVATE: PageTableFlags = PageTableFlags::BIT_9;

fn neutral_flags(flags: PageTableFlags) -> PageFlags {
    let mut result = PageFlags::empty();
    result.set(PageFlags::WRITABLE, flags.contains(PageTableFlags::WRITABLE));
    result.set(PageFlags::EXECUTABLE, !flags.contains(PageTableFlags::NO_EXECUTE));
    result.set(PageFlags::USER, flags.contains(PageTableFlags::USER_ACCESSIBLE));
    result.set(PageFlags::UNCACHED, flags.contains(PageTableFlags::NO_CACHE));
    result.set(PageFlags::PRIVATE, flags.contains(SOFTWARE_PRIVATE));
    result
}

fn to_phys_frame(frame: Frame) -> PhysFrame {
    PhysFrame::containing_address(PhysAddr::new(frame.start().0))
}

fn from_phys_frame(frame: PhysFrame) -> Frame {
    Frame::containing(PhysicalAddress(frame.start_address().as_u64()))
}

/// The page table stored in `frame`.
///
/// # Safety
/// `frame` must hold a page table owned by the caller's `PageTables` (or be
/// a fresh frame about to become one), and no other reference to it may be
/// live while the result is used.
unsafe fn table_in(frame: PhysFrame) -> &'static mut PageTable {
    let address = direct_map_address(PhysicalAddress(frame.start_address().as_u64())) as *mut PageTable;
    // SAFETY: the direct map covers all RAM read-write; exclusivity is the
    // caller's promise.
    unsafe { &mut *address }
}

fn page_at(virtual_address: u64) -> Result<Page<Size4KiB>, MapError> {
    let address = VirtAddr::try_new(virtual_address).map_err(|_| MapError::InvalidAddress)?;
    Page::from_start_address(address).map_err(|_| MapError::InvalidAddress)
}

impl PageTables {
    /// Empty tables in a fresh frame.
    fn empty() -> Result<Self, MapError> {
        let root = to_phys_frame(frame::allocate().map_err(|_| MapError::OutOfMemory)?);
        // SAFETY: the frame was just allocated, so it is ours alone.
        let table = unsafe { table_in(root) };
        *table = PageTable::new();
        // SAFETY: `table` is a valid, exclusively owned top-level table and
        // the direct map is at DIRECT_MAP_BASE.
        let tables = unsafe { OffsetPageTable::new(table, VirtAddr::new(DIRECT_MAP_BASE)) };
        Ok(Self { tables, root, table_pages: 0, change_count: 0 })
    }

    /// Tables for a new task: an empty user half and the kernel's upper half.
    pub fn new_user() -> Result<Self, MapError> {
        let mut tables = Self::empty()?;
        let kernel = KERNEL_SPACE.lock();
        let kernel = kernel.as_ref().expect("user page tables made before the kernel's");
        for index in KERNEL_HALF_FIRST_ENTRY..512 {
            tables.tables.level_4_table_mut()[index] = kernel.tables.level_4_table()[index].clone();
        }
        Ok(tables)
    }

    /// Frames of page tables below the root built for user mappings: what
    /// the task's address space costs beyond its pages.
    /// See the field: unchanged, every translation found since holds.
    pub fn change_count(&self) -> u64 {
        self.change_count
    }

    pub fn table_pages(&self) -> usize {
        self.table_pages
    }

    /// The physical frame of the top-level table (what CR3 holds).
    pub fn root(&self) -> Frame {
        from_phys_frame(self.root)
    }

    /// Maps `frame` at the page-aligned `virtual_address`. User mappings
    /// must lie in the user half; kernel mappings in the kernel half.
    pub fn map(&mut self, virtual_address: u64, frame: Frame, flags: PageFlags) -> Result<(), MapError> {
        let page = page_at(virtual_address)?;
        let user = flags.contains(PageFlags::USER);
        if user != (virtual_address < USER_END) {
            return Err(MapError::InvalidAddress);
        }
        if user {
            if let Some(entry) = self.user_leaf_entry(virtual_address) {
                if !entry.is_unused() {
                    return Err(MapError::AlreadyMapped);
                }
                entry.set_addr(to_phys_frame(frame).start_address(), hardware_flags(flags));
                x86_64::instructions::tlb::flush(page.start_address());
                return Ok(());
            }
        }
        let parent_flags = if user { USER_PARENT_FLAGS } else { PageTableFlags::PRESENT | PageTableFlags::WRITABLE };
        // SAFETY: mapping a frame the caller owns at a free address cannot
        // alias memory Rust code uses: user pages are never dereferenced by
        // the kernel through user addresses, and kernel callers own the frame.
        let result = unsafe {
            self.tables.map_to_with_table_flags(
                page,
                to_phys_frame(frame),
                hardware_flags(flags),
                parent_flags,
                &mut CountedTableFrames(&mut self.table_pages),
            )
        };
        match result {
            Ok(flush) => {
                flush.flush();
                Ok(())
            }
            Err(MapToError::PageAlreadyMapped(_)) => Err(MapError::AlreadyMapped),
            Err(MapToError::ParentEntryHugePage) => Err(MapError::InsideLargePage),
            Err(MapToError::FrameAllocationFailed) => Err(MapError::OutOfMemory),
        }
    }

    /// The level-1 entry of the user page at `virtual_address` when every
    /// table above it is there with a user mapping's parent rights (all
    /// `map_to_with_table_flags` would check, and add when missing): `map`'s
    /// fast path, a plain walk where the generic mapper costs about 300
    /// instructions a page (a received out-of-line region maps 17 pages).
    /// `None`: a table to make or rights to add, for the generic mapper.
    fn user_leaf_entry(
        &mut self,
        virtual_address: u64,
    ) -> Option<&mut x86_64::structures::paging::page_table::PageTableEntry> {
        // SAFETY: `&mut self` holds the tables exclusively; the walk only
        // follows present, non-huge entries, which point at tables of these
        // tables (user half: never shared with another space).
        let mut table: &mut PageTable = unsafe { table_in(self.root) };
        for level in (2..=4u32).rev() {
            let shift = 12 + 9 * (level - 1);
            let entry = &table[((virtual_address >> shift) & 0x1ff) as usize];
            let flags = entry.flags();
            if !flags.contains(USER_PARENT_FLAGS) || flags.contains(PageTableFlags::HUGE_PAGE) {
                return None;
            }
            // SAFETY: as above: the next table down, ours alone.
            table = unsafe { table_in(PhysFrame::containing_address(entry.addr())) };
        }
        Some(&mut table[((virtual_address >> 12) & 0x1ff) as usize])
    }

    /// Removes the mapping at `virtual_address` and returns its frame.
    pub fn unmap(&mut self, virtual_address: u64) -> Result<Frame, MapError> {
        self.change_count += 1;
        let page = page_at(virtual_address)?;
        match self.tables.unmap(page) {
            Ok((frame, flush)) => {
                flush.flush();
                Ok(from_phys_frame(frame))
            }
            Err(UnmapError::PageNotMapped) => Err(MapError::NotMapped),
            Err(UnmapError::ParentEntryHugePage) => Err(MapError::InsideLargePage),
            Err(UnmapError::InvalidFrameAddress(_)) => Err(MapError::InvalidAddress),
        }
    }

    /// Changes the rights of the mapping at `virtual_address`.
    pub fn protect(&mut self, virtual_address: u64, flags: PageFlags) -> Result<(), MapError> {
        self.change_count += 1;
        use x86_64::structures::paging::mapper::FlagUpdateError;
        let page = page_at(virtual_address)?;
        // SAFETY: changing rights cannot make memory reachable that was not;
        // the caller owns the mapping it changes.
        match unsafe { self.tables.update_flags(page, hardware_flags(flags)) } {
            Ok(flush) => {
                flush.flush();
                Ok(())
            }
            Err(FlagUpdateError::PageNotMapped) => Err(MapError::NotMapped),
            Err(FlagUpdateError::ParentEntryHugePage) => Err(MapError::InsideLargePage),
        }
    }

    /// Where `virtual_address` leads, with the mapping's rights, if mapped.
    /// A plain four-level walk through the direct map: every user copy and
    /// fault asks this, so it avoids the generic walker's overhead.
    pub fn translate(&self, virtual_address: u64) -> Option<(PhysicalAddress, PageFlags)> {
        VirtAddr::try_new(virtual_address).ok()?;
        // SAFETY: `&self` keeps the tables alive and unchanged; reads only.
        let mut table: &PageTable = unsafe { table_in(self.root) };
        for level in (1..=4u32).rev() {
            let shift = 12 + 9 * (level - 1);
            let entry = &table[((virtual_address >> shift) & 0x1ff) as usize];
            let flags = entry.flags();
            if !flags.contains(PageTableFlags::PRESENT) {
                return None;
            }
            if level == 1 || flags.contains(PageTableFlags::HUGE_PAGE) {
                let offset = virtual_address & ((1u64 << shift) - 1);
                return Some((PhysicalAddress(entry.addr().as_u64() + offset), neutral_flags(flags)));
            }
            // SAFETY: a present, non-huge entry above level 1 points at the
            // next table, inside the tables `&self` holds; reads only.
            table = unsafe { table_in(PhysFrame::containing_address(entry.addr())) };
        }
        None
    }

    /// Makes these tables the CPU's current ones.
    pub fn activate(&self) {
        if Cr3::read().0 != self.root {
            // SAFETY: every `PageTables` maps the kernel half identically, so
            // the running kernel code, data and stack stay mapped.
            unsafe { Cr3::write(self.root, Cr3Flags::empty()) };
        }
    }

    /// Frees every user page, every user-half table and the top-level
    /// table. The kernel half is shared and left alone. The caller makes
    /// sure these tables are not the CPU's current ones.
    pub fn destroy_user(self) {
        assert!(Cr3::read().0 != self.root, "destroying the active page tables");
        // SAFETY: `self` is consumed: nothing else reaches these tables.
        let top = unsafe { table_in(self.root) };
        for entry in top.iter().take(KERNEL_HALF_FIRST_ENTRY) {
            if let Ok(frame) = entry.frame() {
                free_table_tree(frame, 3);
            }
        }
        let _ = frame::free(from_phys_frame(self.root));
    }
}

impl PageTables {
    /// The user pages mapped in `[start, end)`, in address order, with
    /// their frames. Walks only present tables, so a huge sparse range
    /// costs what is mapped in it, not its size.
    pub fn mapped_in(&self, start: u64, end: u64) -> alloc::vec::Vec<(u64, Frame)> {
        let mut found = alloc::vec::Vec::new();
        self.visit_mapped(start, end, &mut |page, frame, _| {
            found.push((page, frame));
            true
        });
        found
    }

    /// Like `mapped_in`, with each mapping's rights.
    pub fn mapped_entries_in(&self, start: u64, end: u64) -> alloc::vec::Vec<(u64, Frame, PageFlags)> {
        let mut found = alloc::vec::Vec::new();
        self.visit_mapped(start, end, &mut |page, frame, flags| {
            found.push((page, frame, flags));
            true
        });
        found
    }

    /// Calls `visit` on each mapping in `[start, end)` in address order
    /// while it answers true.
    fn visit_mapped(&self, start: u64, end: u64, visit: &mut dyn FnMut(u64, Frame, PageFlags) -> bool) {
        let end = end.min(USER_END);
        if start < end {
            // SAFETY: `&self` keeps the tables alive and unchanged; reads only.
            let top = unsafe { table_in(self.root) };
            collect_mapped(top, 4, 0, start, end, visit);
        }
    }

    /// Removes every mapping in `[start, end)` (of the user half), telling
    /// `each` its page, frame and rights: one walk of the tables, where
    /// listing the mappings (`mapped_entries_in`) and then `unmap` of each
    /// walked them twice and filled a vector (about 200 instructions a
    /// page; a pipe's 64 KiB frees 34 pages).
    pub fn unmap_in(&mut self, start: u64, end: u64, each: &mut dyn FnMut(u64, Frame, PageFlags)) {
        self.change_count += 1;
        let end = end.min(USER_END);
        if start < end {
            // SAFETY: `&mut self` holds the tables exclusively; only the
            // user half, which no other space shares, is changed.
            let top = unsafe { table_in(self.root) };
            unmap_leaves(top, 4, 0, start, end, each);
        }
    }

    /// Fork's copy-on-write sharing, done on the page tables themselves:
    /// every page mapped in `[start, end)` whose rights `take` accepts is
    /// made read-only here and mapped read-only at the same address in
    /// `child` (whose tables must have nothing there yet; missing child
    /// tables are made), and `shared` is told its frame (to count the new
    /// owner). One walk of these tables, no per-page walk of either: a
    /// fork costs a few instructions a page. Returns how many pages were
    /// shared. On an error (no memory for a child table) the pages shared
    /// so far stay shared and mapped in `child`, consistently with what
    /// `shared` was told.
    pub fn share_into(
        &mut self,
        child: &mut PageTables,
        start: u64,
        end: u64,
        take: &mut dyn FnMut(PageFlags) -> bool,
        shared: &mut dyn FnMut(Frame),
    ) -> Result<usize, MapError> {
        self.change_count += 1;
        let end = end.min(USER_END);
        let mut walk = ShareWalk { start, end, take, shared, pages: 0, child_tables: 0, write_protected: false };
        let result = if start < end {
            // SAFETY: `&mut self` and `&mut child` hold both trees
            // exclusively; they are distinct trees (a child's tables are
            // its own), so no table is reached twice at once.
            let (parent_top, child_top) = unsafe { (table_in(self.root), table_in(child.root)) };
            walk.level(parent_top, child_top, 4, 0)
        } else {
            Ok(())
        };
        child.table_pages += walk.child_tables;
        if walk.write_protected && Cr3::read().0 == self.root {
            // Entries lost write access: no stale writable translation may
            // stay in this CPU's TLB (user pages are never global).
            x86_64::instructions::tlb::flush_all();
        }
        result.map(|()| walk.pages)
    }

    /// Pages mapped in the user half.
    pub fn user_page_count(&self) -> usize {
        // SAFETY: `&self` keeps the tables alive and unchanged; reads only.
        let top = unsafe { table_in(self.root) };
        top.iter()
            .take(KERNEL_HALF_FIRST_ENTRY)
            .filter_map(|entry| entry.frame().ok())
            .map(|frame| count_leaves(frame, 3))
            .sum()
    }
}

/// The indexes of a table's entries (each covering `span` bytes from
/// `base` on) that overlap `[start, end)`: walks visit only those, not all
/// 512 at every level.
fn entries_in(base: u64, span: u64, start: u64, end: u64) -> core::ops::Range<usize> {
    let table_end = base + 512 * span;
    if end <= base || start >= table_end || start >= end {
        return 0..0;
    }
    let first = (start.max(base) - base) / span;
    let last = (end.min(table_end) - 1 - base) / span;
    first as usize..last as usize + 1
}

/// One `PageTables::share_into`.
struct ShareWalk<'a> {
    start: u64,
    end: u64,
    take: &'a mut dyn FnMut(PageFlags) -> bool,
    shared: &'a mut dyn FnMut(Frame),
    pages: usize,
    child_tables: usize,
    write_protected: bool,
}

impl ShareWalk<'_> {
    /// Shares what `parent` (a table at `level`, covering addresses from
    /// `base`) maps in the walk's range into `child`, the child's table for
    /// the same addresses.
    fn level(&mut self, parent: &mut PageTable, child: &mut PageTable, level: u8, base: u64) -> Result<(), MapError> {
        let span = 1u64 << (12 + 9 * (level as u32 - 1));
        for index in entries_in(base, span, self.start, self.end) {
            let entry_start = base + index as u64 * span;
            // Absent, or a huge page (never in user halves).
            let Ok(frame) = parent[index].frame() else { continue };
            if level == 1 {
                let flags = parent[index].flags();
                if !(self.take)(neutral_flags(flags)) {
                    continue;
                }
                if !child[index].is_unused() {
                    return Err(MapError::AlreadyMapped);
                }
                let read_only = flags.difference(PageTableFlags::WRITABLE);
                if flags.contains(PageTableFlags::WRITABLE) {
                    parent[index].set_flags(read_only);
                    self.write_protected = true;
                }
                child[index].set_addr(frame.start_address(), read_only);
                (self.shared)(from_phys_frame(frame));
                self.pages += 1;
                continue;
            }
            let child_next = match child[index].frame() {
                Ok(next) => next,
                Err(_) => {
                    if !crate::memory::can_spare(PAGE_SIZE) {
                        return Err(MapError::OutOfMemory);
                    }
                    let next = to_phys_frame(frame::allocate().map_err(|_| MapError::OutOfMemory)?);
                    // SAFETY: the frame was just allocated: it is ours alone
                    // and becomes a table of the child's tree below.
                    *unsafe { table_in(next) } = PageTable::new();
                    let flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE | PageTableFlags::USER_ACCESSIBLE;
                    child[index].set_addr(next.start_address(), flags);
                    self.child_tables += 1;
                    next
                }
            };
            // SAFETY: `frame` is a present lower-level table of the parent's
            // tree and `child_next` of the child's; the caller holds both
            // trees exclusively and they share no table.
            let (parent_next, child_next) = unsafe { (table_in(frame), table_in(child_next)) };
            self.level(parent_next, child_next, level - 1, entry_start)?;
        }
        Ok(())
    }
}

/// Visits the leaves of `table` (at `level`, covering addresses from
/// `base`) that lie in `[start, end)`, while `found` answers true; false if
/// it stopped.
fn collect_mapped(
    table: &PageTable,
    level: u8,
    base: u64,
    start: u64,
    end: u64,
    found: &mut dyn FnMut(u64, Frame, PageFlags) -> bool,
) -> bool {
    let span = 1u64 << (12 + 9 * (level as u32 - 1));
    for index in entries_in(base, span, start, end) {
        let entry = &table[index];
        let entry_start = base + index as u64 * span;
        let Ok(frame) = entry.frame() else { continue }; // absent, or a huge page (never in user halves)
        let going_on = if level == 1 {
            found(entry_start, from_phys_frame(frame), neutral_flags(entry.flags()))
        } else {
            // SAFETY: a present lower-level table of tables the caller holds; reads only.
            collect_mapped(unsafe { table_in(frame) }, level - 1, entry_start, start, end, found)
        };
        if !going_on {
            return false;
        }
    }
    true
}

/// `PageTables::unmap_in` below `table` (at `level`, covering addresses
/// from `base`): clears the leaves in `[start, end)`, each page's TLB entry
/// flushed before `each` hears of its frame.
fn unmap_leaves(
    table: &mut PageTable,
    level: u8,
    base: u64,
    start: u64,
    end: u64,
    each: &mut dyn FnMut(u64, Frame, PageFlags),
) {
    let span = 1u64 << (12 + 9 * (level as u32 - 1));
    for index in entries_in(base, span, start, end) {
        let entry_start = base + index as u64 * span;
        let entry = &mut table[index];
        let Ok(frame) = entry.frame() else { continue }; // absent, or a huge page (never in user halves)
        if level == 1 {
            let flags = neutral_flags(entry.flags());
            entry.set_unused();
            x86_64::instructions::tlb::flush(VirtAddr::new(entry_start));
            each(entry_start, from_phys_frame(frame), flags);
        } else {
            // SAFETY: a present lower-level table of the user half of
            // tables the caller holds exclusively.
            unmap_leaves(unsafe { table_in(frame) }, level - 1, entry_start, start, end, each);
        }
    }
}

fn count_leaves(table_frame: PhysFrame, level: u8) -> usize {
    // SAFETY: called from `user_page_count`, which holds the tables; reads only.
    let table = unsafe { table_in(table_frame) };
    table
        .iter()
        .filter_map(|entry| entry.frame().ok())
        .map(|frame| if level == 1 { 1 } else { count_leaves(frame, level - 1) })
        .sum()
}

/// Frees the table in `frame` at `level` (3 = PDPT, 2 = PD, 1 = PT), the
/// tables below it and the pages they map.
fn free_table_tree(table_frame: PhysFrame, level: u8) {
    // SAFETY: called only from `destroy_user`, which owns the whole tree.
    let table: &PageTable = unsafe { table_in(table_frame) };
    // SAFETY: `PageTable` is `repr(C)` of 512 `repr(transparent)` u64
    // entries; both are shared views that only read.
    let words = unsafe { &*(table as *const PageTable as *const [u64; 512]) };
    // Most of a table's entries are empty: eight at a time are skipped with
    // one test (entry by entry, freeing a child's nine tables took 37,000
    // instructions of a fork+exit+wait's 280,000).
    for (chunk_index, chunk) in words.chunks_exact(8).enumerate() {
        if chunk.iter().fold(0, |any, &word| any | word) == 0 {
            continue;
        }
        for (offset, &word) in chunk.iter().enumerate() {
            if word == 0 {
                continue;
            }
            let Ok(frame) = table[chunk_index * 8 + offset].frame() else { continue }; // not present, or a huge page (never in user halves)
            if level == 1 {
                // A user page may be shared (copy-on-write, memory objects):
                // the last owner frees it.
                crate::memory::share::release(from_phys_frame(frame));
            } else {
                free_table_tree(frame, level - 1);
            }
        }
    }
    let _ = frame::free(from_phys_frame(table_frame));
}

/// Builds the kernel's page tables (direct map of all usable RAM, the kernel
/// image by section, all kernel-half top-level entries) and switches to
/// them, dropping the boot tables' identity map.
pub fn init_kernel_address_space(boot: &BootInfo) {
    let mut space = PageTables::empty().expect("no frame for the kernel's top-level page table");
    map_direct(&mut space, boot);
    map_kernel_image(&mut space);
    for index in KERNEL_HALF_FIRST_ENTRY..512 {
        if space.tables.level_4_table()[index].is_unused() {
            let table = TableFrames.allocate_frame().expect("no frame for kernel page tables");
            // SAFETY: a fresh frame, ours alone.
            *unsafe { table_in(table) } = PageTable::new();
            space.tables.level_4_table_mut()[index]
                .set_frame(table, PageTableFlags::PRESENT | PageTableFlags::WRITABLE);
        }
    }
    // SAFETY: the new tables map the kernel image exactly where it runs, the
    // stack in use, and the direct map; global pages are only kernel pages.
    unsafe {
        Cr4::update(|flags| flags.insert(Cr4Flags::PAGE_GLOBAL));
        Cr3::write(space.root, Cr3Flags::empty());
    }
    *KERNEL_SPACE.lock() = Some(space);
}

fn map_direct(space: &mut PageTables, boot: &BootInfo) {
    let flags =
        PageTableFlags::PRESENT | PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE | PageTableFlags::GLOBAL;
    for region in boot.memory_map.iter().filter(|region| region.kind == RegionKind::Usable) {
        let start = region.range.start.0 / LARGE_PAGE_SIZE * LARGE_PAGE_SIZE;
        let end = region.range.end.0.next_multiple_of(LARGE_PAGE_SIZE);
        for physical in (start..end).step_by(LARGE_PAGE_SIZE as usize) {
            let page = Page::<Size2MiB>::containing_address(VirtAddr::new(DIRECT_MAP_BASE + physical));
            let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(physical));
            // SAFETY: the direct map aliases RAM only in the kernel half,
            // read-write and never executable; Rust code reaches RAM through
            // it only for frames it owns.
            match unsafe { space.tables.map_to(page, frame, flags, &mut TableFrames) } {
                Ok(flush) => flush.ignore(),                // not active yet
                Err(MapToError::PageAlreadyMapped(_)) => {} // two regions share a 2 MiB page
                Err(error) => panic!("cannot build the direct map: {error:?}"),
            }
        }
    }
}

fn map_kernel_image(space: &mut PageTables) {
    let sections = [
        (Symbol::TextStart, Symbol::RodataStart, PageFlags::EXECUTABLE),
        (Symbol::RodataStart, Symbol::DataStart, PageFlags::empty()),
        (Symbol::DataStart, Symbol::StackGuard, PageFlags::WRITABLE),
        // The guard page between StackGuard and StackBottom stays unmapped.
        (Symbol::StackBottom, Symbol::KernelEnd, PageFlags::WRITABLE),
    ];
    for (start, end, flags) in sections {
        for virtual_address in (symbol_address(start)..symbol_address(end)).step_by(PAGE_SIZE) {
            let frame = Frame::containing(PhysicalAddress(virtual_address - KERNEL_VIRTUAL_BASE));
            space.map(virtual_address, frame, flags).expect("cannot map the kernel image");
        }
    }
}

fn with_space<T>(action: impl FnOnce(&mut PageTables) -> T) -> T {
    let mut guard = KERNEL_SPACE.lock();
    action(guard.as_mut().expect("kernel address space used before init"))
}

/// Maps `frame` at the page-aligned kernel address `virtual_address`.
/// The caller owns `frame`; the mapping is visible at once on this CPU.
pub fn map(virtual_address: u64, frame: Frame, flags: PageFlags) -> Result<(), MapError> {
    with_space(|space| space.map(virtual_address, frame, flags))
}

/// Removes the kernel mapping at `virtual_address` and returns its frame.
pub fn unmap(virtual_address: u64) -> Result<Frame, MapError> {
    with_space(|space| space.unmap(virtual_address))
}

/// Changes the rights of the kernel mapping at `virtual_address`.
pub fn protect(virtual_address: u64, flags: PageFlags) -> Result<(), MapError> {
    with_space(|space| space.protect(virtual_address, flags))
}

/// Where the kernel address `virtual_address` leads, if mapped.
pub fn translate(virtual_address: u64) -> Option<(PhysicalAddress, PageFlags)> {
    with_space(|space| space.translate(virtual_address))
}

/// Switches back to the kernel's own tables (before a task's are destroyed).
pub fn activate_kernel() {
    with_space(|space| space.activate());
}

/// True if `length` bytes from `virtual_address` are mapped in the kernel's
/// address space. Never waits: if the page tables are locked (a fault inside
/// a page-table operation), it answers false.
pub fn is_kernel_readable(virtual_address: u64, length: u64) -> bool {
    let Some(guard) = KERNEL_SPACE.try_lock() else { return false };
    let Some(space) = guard.as_ref() else { return false };
    let Some(end) = virtual_address.checked_add(length) else { return false };
    let first = virtual_address / PAGE_SIZE as u64;
    let last = (end - 1) / PAGE_SIZE as u64;
    (first..=last).all(|page| space.translate(page * PAGE_SIZE as u64).is_some())
}

static NEXT_DEVICE_PAGE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(DEVICE_WINDOW_BASE);

/// Maps `pages` pages of device registers at `physical` uncached in the
/// device window and returns their kernel address.
pub fn map_device(physical: PhysicalAddress, pages: usize) -> Result<u64, MapError> {
    let base = NEXT_DEVICE_PAGE.fetch_add((pages * PAGE_SIZE) as u64, core::sync::atomic::Ordering::Relaxed);
    for index in 0..pages {
        let offset = (index * PAGE_SIZE) as u64;
        map(
            base + offset,
            Frame::containing(PhysicalAddress(physical.0 + offset)),
            PageFlags::WRITABLE | PageFlags::UNCACHED,
        )?;
    }
    Ok(base)
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure_eq, ktest};

    /// A kernel address range the tests may map and unmap freely.
    const SCRATCH: u64 = 0xffff_fe00_0000_0000;

    ktest! {
        fn map_translate_unmap() {
            let frame = frame::allocate()?;
            map(SCRATCH, frame, PageFlags::WRITABLE)?;
            ensure_eq!(translate(SCRATCH + 0x123), Some((PhysicalAddress(frame.start().0 + 0x123), PageFlags::WRITABLE)));
            ensure_eq!(unmap(SCRATCH)?, frame);
            ensure_eq!(translate(SCRATCH), None);
            frame::free(frame)?;
            Ok(())
        }

        fn writes_through_a_mapping_reach_the_frame() {
            let frame = frame::allocate()?;
            map(SCRATCH + 0x1000, frame, PageFlags::WRITABLE)?;
            let mapped = (SCRATCH + 0x1000) as *mut u64;
            let direct = direct_map_address(frame.start()) as *const u64;
            // SAFETY: both addresses map the frame just allocated and mapped,
            // owned by this test; u64 accesses at a page start are aligned.
            let seen = unsafe {
                mapped.write_volatile(0x1234_5678_9abc_def0);
                direct.read_volatile()
            };
            ensure_eq!(seen, 0x1234_5678_9abc_def0);
            unmap(SCRATCH + 0x1000)?;
            frame::free(frame)?;
            Ok(())
        }

        fn protect_changes_rights() {
            let frame = frame::allocate()?;
            map(SCRATCH + 0x2000, frame, PageFlags::WRITABLE)?;
            protect(SCRATCH + 0x2000, PageFlags::empty())?;
            ensure_eq!(translate(SCRATCH + 0x2000).map(|(_, flags)| flags), Some(PageFlags::empty()));
            protect(SCRATCH + 0x2000, PageFlags::WRITABLE | PageFlags::EXECUTABLE)?;
            ensure_eq!(
                translate(SCRATCH + 0x2000).map(|(_, flags)| flags),
                Some(PageFlags::WRITABLE | PageFlags::EXECUTABLE)
            );
            unmap(SCRATCH + 0x2000)?;
            frame::free(frame)?;
            Ok(())
        }

        fn errors_are_reported() {
            let frame = frame::allocate()?;
            ensure_eq!(map(SCRATCH + 1, frame, PageFlags::empty()), Err(MapError::InvalidAddress));
            ensure_eq!(map(0x0000_8000_0000_0000, frame, PageFlags::empty()), Err(MapError::InvalidAddress));
            map(SCRATCH + 0x3000, frame, PageFlags::empty())?;
            ensure_eq!(map(SCRATCH + 0x3000, frame, PageFlags::empty()), Err(MapError::AlreadyMapped));
            unmap(SCRATCH + 0x3000)?;
            ensure_eq!(unmap(SCRATCH + 0x3000), Err(MapError::NotMapped));
            ensure_eq!(protect(SCRATCH + 0x3000, PageFlags::empty()), Err(MapError::NotMapped));
            ensure_eq!(unmap(DIRECT_MAP_BASE + 0x20_0000), Err(MapError::InsideLargePage));
            frame::free(frame)?;
            Ok(())
        }

        fn kernel_sections_have_their_rights() {
            let text = translate(symbol_address(Symbol::TextStart)).map(|(_, flags)| flags);
            ensure_eq!(text, Some(PageFlags::EXECUTABLE));
            let rodata = translate(symbol_address(Symbol::RodataStart)).map(|(_, flags)| flags);
            ensure_eq!(rodata, Some(PageFlags::empty()));
            let data = translate(symbol_address(Symbol::DataStart)).map(|(_, flags)| flags);
            ensure_eq!(data, Some(PageFlags::WRITABLE));
            ensure_eq!(translate(symbol_address(Symbol::StackGuard)), None);
            Ok(())
        }

        fn identity_map_is_gone_and_direct_map_covers_ram() {
            ensure_eq!(translate(0x10_0000), None);
            for region in crate::boot_info::get().memory_map.iter().filter(|region| region.kind == RegionKind::Usable) {
                let last = PhysicalAddress(region.range.end.0 - 1);
                let seen = translate(direct_map_address(last) as u64).map(|(address, _)| address);
                ensure_eq!(seen, Some(last));
            }
            Ok(())
        }

        fn page_tables_are_freed_frames_reused() {
            // Mapping and unmapping the same scratch page many times must not
            // keep taking frames: intermediate tables are created once.
            let frame = frame::allocate()?;
            map(SCRATCH + 0x4000, frame, PageFlags::WRITABLE)?;
            unmap(SCRATCH + 0x4000)?;
            let before = frame::statistics();
            for _ in 0..1000 {
                map(SCRATCH + 0x4000, frame, PageFlags::WRITABLE)?;
                unmap(SCRATCH + 0x4000)?;
            }
            ensure_eq!(frame::statistics(), before);
            frame::free(frame)?;
            Ok(())
        }
    }
}
