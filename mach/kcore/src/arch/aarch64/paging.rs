//! aarch64 4-level paging (4 KiB granule, 48-bit halves) and ASIDs.
//!
//! Virtual layout (docs/memory.md), the same as x86_64's:
//! - `0x0000_0000_0000_0000 .. 0x0000_8000_0000_0000`: user space, through
//!   TTBR0 (the running task's tables, tagged with its ASID);
//! - `DIRECT_MAP_BASE = 0xffff_8000_0000_0000 + phys`: all usable RAM, 2 MiB
//!   blocks, read-write, never executable;
//! - `DEVICE_WINDOW_BASE = 0xffff_ff00_0000_0000`: device registers
//!   (device-nGnRE) mapped on demand;
//! - `KERNEL_VIRTUAL_BASE = 0xffff_ffff_8000_0000 + (phys - RAM base)`: the
//!   kernel image, 4 KiB pages with per-section rights, an unmapped guard
//!   page under the boot stack.
//!
//! The kernel half lives in its own tables (TTBR1), so a task's tables hold
//! only its user half. **ASIDs**: each user `PageTables` gets an 8-bit ASID
//! of the current generation when it is first activated; when the 255
//! ASIDs of a generation are used up, a new generation starts with the whole
//! TLB flushed, and tables from older generations take a fresh ASID at
//! their next activation. Switching tasks therefore flushes nothing, and
//! changing a mapping invalidates just that page for that ASID. One CPU, so
//! that is the whole shootdown.

use crate::boot_info::{BootInfo, RegionKind};
use crate::memory::{frame, Frame, MapError, PageFlags, PhysicalAddress, PhysicalRange, PAGE_SIZE};
use core::sync::atomic::{AtomicU64, Ordering};

pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
pub const DEVICE_WINDOW_BASE: u64 = 0xffff_ff00_0000_0000;
pub const KERNEL_VIRTUAL_BASE: u64 = 0xffff_ffff_8000_0000;
/// Where the virt board's RAM starts: the kernel image's physical base.
pub const RAM_BASE: u64 = 0x4000_0000;
/// How much of physical memory the boot page tables map at the direct-map
/// base, until the kernel's own tables take over.
pub const EARLY_DIRECT_MAP_END: PhysicalAddress = PhysicalAddress(8 << 30);
/// Highest user address + 1.
pub const USER_END: u64 = 0x0000_8000_0000_0000;
/// Lowest address of the kernel half (TTBR1, 48 bits).
const KERNEL_HALF_START: u64 = 0xffff_0000_0000_0000;

const LARGE_PAGE_SIZE: u64 = 2 * 1024 * 1024;

// Descriptor bits.
const VALID: u64 = 1 << 0;
/// At levels 0..2: the entry points at a table (else a block); at level 3: a page.
const TABLE_OR_PAGE: u64 = 1 << 1;
const ATTRIBUTE_SHIFT: u64 = 2;
const ATTRIBUTE_NORMAL: u64 = 0;
const ATTRIBUTE_DEVICE: u64 = 1;
const ACCESS_EL0: u64 = 1 << 6;
const READ_ONLY: u64 = 1 << 7;
const INNER_SHAREABLE: u64 = 3 << 8;
const ACCESSED: u64 = 1 << 10;
const NOT_GLOBAL: u64 = 1 << 11;
/// Bits 55..58 of a leaf are the software's: bit 55 carries `PageFlags::PRIVATE`.
const SOFTWARE_PRIVATE: u64 = 1 << 55;
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const USER_EXECUTE_NEVER: u64 = 1 << 54;
const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;

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
    // SAFETY: the caller reserved `range` so nothing else uses it; it is RAM
    // below 8 GiB, mapped read-write at the direct-map base by the boot
    // tables and (as usable RAM) by the kernel's; the start is page aligned.
    unsafe { core::slice::from_raw_parts_mut(pointer, count) }
}

#[derive(Clone, Copy)]
enum Symbol {
    ImageStart,
    TextStart,
    RodataStart,
    DataStart,
    StackGuard,
    StackBottom,
    KernelEnd,
}

fn symbol_address(symbol: Symbol) -> u64 {
    unsafe extern "C" {
        static __image_start: u8;
        static __kernel_text_start: u8;
        static __kernel_rodata_start: u8;
        static __kernel_data_start: u8;
        static __boot_stack_guard: u8;
        static __boot_stack_bottom: u8;
        static __kernel_end: u8;
    }
    // Only the symbols' addresses are taken; nothing is read through them.
    (match symbol {
        Symbol::ImageStart => &raw const __image_start,
        Symbol::TextStart => &raw const __kernel_text_start,
        Symbol::RodataStart => &raw const __kernel_rodata_start,
        Symbol::DataStart => &raw const __kernel_data_start,
        Symbol::StackGuard => &raw const __boot_stack_guard,
        Symbol::StackBottom => &raw const __boot_stack_bottom,
        Symbol::KernelEnd => &raw const __kernel_end,
    }) as u64
}

fn kernel_physical(virtual_address: u64) -> u64 {
    virtual_address - KERNEL_VIRTUAL_BASE + RAM_BASE
}

/// Physical extent of the kernel image, from the linker script's symbols.
pub fn kernel_image_physical_range() -> PhysicalRange {
    PhysicalRange::new(
        kernel_physical(symbol_address(Symbol::ImageStart)),
        kernel_physical(symbol_address(Symbol::KernelEnd)),
    )
}

/// One page table: 512 descriptors, reached through the direct map.
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// The table in `frame`.
///
/// # Safety
/// `frame` must hold a page table owned by the caller's `PageTables` (or be
/// a fresh frame about to become one), and no other reference to it may be
/// live while the result is used.
unsafe fn table_in(frame: PhysicalAddress) -> &'static mut Table {
    // SAFETY: the direct map covers all RAM read-write; exclusivity is the
    // caller's promise.
    unsafe { &mut *(direct_map_address(frame) as *mut Table) }
}

fn index(virtual_address: u64, level: u32) -> usize {
    ((virtual_address >> (39 - 9 * level)) & 0x1ff) as usize
}

fn hardware_flags(flags: PageFlags) -> u64 {
    let mut bits = VALID | TABLE_OR_PAGE | ACCESSED;
    if flags.contains(PageFlags::UNCACHED) {
        bits |= ATTRIBUTE_DEVICE << ATTRIBUTE_SHIFT;
    } else {
        bits |= ATTRIBUTE_NORMAL << ATTRIBUTE_SHIFT | INNER_SHAREABLE;
    }
    if !flags.contains(PageFlags::WRITABLE) {
        bits |= READ_ONLY;
    }
    if flags.contains(PageFlags::USER) {
        bits |= ACCESS_EL0 | NOT_GLOBAL | PRIVILEGED_EXECUTE_NEVER;
        if !flags.contains(PageFlags::EXECUTABLE) {
            bits |= USER_EXECUTE_NEVER;
        }
    } else {
        bits |= USER_EXECUTE_NEVER;
        if !flags.contains(PageFlags::EXECUTABLE) {
            bits |= PRIVILEGED_EXECUTE_NEVER;
        }
    }
    if flags.contains(PageFlags::PRIVATE) {
        bits |= SOFTWARE_PRIVATE;
    }
    bits
}

fn neutral_flags(bits: u64) -> PageFlags {
    let user = bits & ACCESS_EL0 != 0;
    let mut flags = PageFlags::empty();
    flags.set(PageFlags::WRITABLE, bits & READ_ONLY == 0);
    flags.set(PageFlags::USER, user);
    let execute_never = if user { USER_EXECUTE_NEVER } else { PRIVILEGED_EXECUTE_NEVER };
    flags.set(PageFlags::EXECUTABLE, bits & execute_never == 0);
    flags.set(PageFlags::UNCACHED, (bits >> ATTRIBUTE_SHIFT) & 7 == ATTRIBUTE_DEVICE);
    flags.set(PageFlags::PRIVATE, bits & SOFTWARE_PRIVATE != 0);
    flags
}

/// ASID generations: the low 8 bits of a tables' tag are its ASID, the rest
/// the generation it belongs to.
static ASID_STATE: spin::Mutex<(u64, u64)> = spin::Mutex::new((1, 0)); // (generation, last ASID)
const ASID_COUNT: u64 = 256;

/// One set of 4-level tables: a task's user half (TTBR0) or the kernel half
/// (TTBR1). Frames mapped in a user half belong to the tables and are freed
/// with them.
pub struct PageTables {
    root: PhysicalAddress,
    kernel: bool,
    /// Table frames allocated below the root for user mappings.
    table_pages: usize,
    /// Counts changes that may take away a mapping or some of its rights
    /// (`unmap`, `protect`, `share_into`): a translation found at one
    /// count holds while the count stays (`memory::user::WritableBuffer`).
    change_count: u64,
    /// `generation << 8 | asid`, 0 before the first activation.
    asid_tag: AtomicU64,
}

static KERNEL_SPACE: spin::Mutex<Option<PageTables>> = spin::Mutex::new(None);
/// An empty TTBR0 table for kernel threads (no user half at all).
static EMPTY_USER_ROOT: AtomicU64 = AtomicU64::new(0);

impl PageTables {
    fn empty(kernel: bool) -> Result<Self, MapError> {
        let root = frame::allocate().map_err(|_| MapError::OutOfMemory)?.start();
        // SAFETY: the frame was just allocated, so it is ours alone.
        unsafe { table_in(root) }.0 = [0; 512];
        Ok(Self { root, kernel, table_pages: 0, change_count: 0, asid_tag: AtomicU64::new(0) })
    }

    /// Tables for a new task: an empty user half (the kernel half is TTBR1's).
    pub fn new_user() -> Result<Self, MapError> {
        Self::empty(false)
    }

    /// Frames of page tables below the root built for user mappings.
    /// See the field: unchanged, every translation found since holds.
    pub fn change_count(&self) -> u64 {
        self.change_count
    }

    pub fn table_pages(&self) -> usize {
        self.table_pages
    }

    /// The physical frame of the top-level table.
    pub fn root(&self) -> Frame {
        Frame::containing(self.root)
    }

    fn covers(&self, virtual_address: u64) -> bool {
        if self.kernel {
            virtual_address >= KERNEL_HALF_START
        } else {
            virtual_address < USER_END
        }
    }

    /// The level-3 entry for `virtual_address`, creating tables on the way
    /// if `create`.
    fn leaf_entry(&mut self, virtual_address: u64, create: bool) -> Result<&'static mut u64, MapError> {
        let mut table_address = self.root;
        for level in 0..3 {
            // SAFETY: `table_address` is a table of these tables (`&mut
            // self`: no other reference to it lives).
            let table = unsafe { table_in(table_address) };
            let entry = &mut table.0[index(virtual_address, level)];
            if *entry & VALID == 0 {
                if !create {
                    return Err(MapError::NotMapped);
                }
                let fresh = frame::allocate().map_err(|_| MapError::OutOfMemory)?.start();
                // SAFETY: a fresh frame, ours alone.
                unsafe { table_in(fresh) }.0 = [0; 512];
                if !self.kernel {
                    self.table_pages += 1;
                }
                // Make the zeroed table visible to the walker before linking it.
                barrier_store();
                *entry = fresh.0 | VALID | TABLE_OR_PAGE;
            } else if *entry & TABLE_OR_PAGE == 0 {
                return Err(MapError::InsideLargePage);
            }
            table_address = PhysicalAddress(*entry & ADDRESS_MASK);
        }
        // SAFETY: as above, for the level-3 table.
        Ok(&mut unsafe { table_in(table_address) }.0[index(virtual_address, 3)])
    }

    fn check_address(&self, virtual_address: u64, flags: Option<PageFlags>) -> Result<(), MapError> {
        if !virtual_address.is_multiple_of(PAGE_SIZE as u64) || !self.covers(virtual_address) {
            return Err(MapError::InvalidAddress);
        }
        if let Some(flags) = flags {
            if flags.contains(PageFlags::USER) == self.kernel {
                return Err(MapError::InvalidAddress);
            }
        }
        Ok(())
    }

    /// Maps `frame` at the page-aligned `virtual_address`. User mappings
    /// must lie in the user half; kernel mappings in the kernel half.
    pub fn map(&mut self, virtual_address: u64, frame: Frame, flags: PageFlags) -> Result<(), MapError> {
        self.check_address(virtual_address, Some(flags))?;
        let entry = self.leaf_entry(virtual_address, true)?;
        if *entry & VALID != 0 {
            return Err(MapError::AlreadyMapped);
        }
        *entry = frame.start().0 | hardware_flags(flags);
        // An invalid entry is never cached: publishing the new one is enough.
        barrier_store();
        instruction_barrier();
        Ok(())
    }

    /// Removes the mapping at `virtual_address` and returns its frame.
    pub fn unmap(&mut self, virtual_address: u64) -> Result<Frame, MapError> {
        self.change_count += 1;
        self.check_address(virtual_address, None)?;
        let entry = self.leaf_entry(virtual_address, false)?;
        if *entry & VALID == 0 {
            return Err(MapError::NotMapped);
        }
        let frame = Frame::containing(PhysicalAddress(*entry & ADDRESS_MASK));
        *entry = 0;
        self.invalidate(virtual_address);
        Ok(frame)
    }

    /// Changes the rights of the mapping at `virtual_address`.
    pub fn protect(&mut self, virtual_address: u64, flags: PageFlags) -> Result<(), MapError> {
        self.change_count += 1;
        self.check_address(virtual_address, None)?;
        let entry = self.leaf_entry(virtual_address, false)?;
        if *entry & VALID == 0 {
            return Err(MapError::NotMapped);
        }
        let user = *entry & ACCESS_EL0 != 0;
        let flags = if user { flags | PageFlags::USER } else { flags - PageFlags::USER };
        *entry = (*entry & ADDRESS_MASK) | hardware_flags(flags);
        self.invalidate(virtual_address);
        Ok(())
    }

    /// Drops the TLB's copy of the translation of `virtual_address`.
    fn invalidate(&self, virtual_address: u64) {
        let page = (virtual_address >> 12) & ((1 << 44) - 1);
        barrier_store();
        if self.kernel {
            // SAFETY: TLB maintenance has no effect on memory contents.
            unsafe { core::arch::asm!("tlbi vaae1is, {}", in(reg) page, options(nostack)) };
        } else {
            let asid = self.asid_tag.load(Ordering::Relaxed) & 0xff;
            // SAFETY: as above; an ASID not in use invalidates nothing of value.
            unsafe { core::arch::asm!("tlbi vae1is, {}", in(reg) page | asid << 48, options(nostack)) };
        }
        // SAFETY: barriers only order the maintenance before later accesses.
        unsafe { core::arch::asm!("dsb ish", "isb", options(nostack)) };
    }

    /// Where `virtual_address` leads, with the mapping's rights, if mapped.
    pub fn translate(&self, virtual_address: u64) -> Option<(PhysicalAddress, PageFlags)> {
        if !self.covers(virtual_address) {
            return None;
        }
        let mut table_address = self.root;
        for level in 0..4 {
            // SAFETY: `&self` keeps the tables alive and unchanged; reads only.
            let entry = unsafe { table_in(table_address) }.0[index(virtual_address, level)];
            if entry & VALID == 0 {
                return None;
            }
            let leaf = level == 3 || entry & TABLE_OR_PAGE == 0;
            if leaf {
                let shift = 39 - 9 * level as u64;
                let offset = virtual_address & ((1u64 << shift) - 1);
                let base = entry & ADDRESS_MASK & !((1u64 << shift) - 1);
                return Some((PhysicalAddress(base + offset), neutral_flags(entry)));
            }
            table_address = PhysicalAddress(entry & ADDRESS_MASK);
        }
        None
    }

    /// Makes these (user) tables the CPU's current user half.
    pub fn activate(&self) {
        assert!(!self.kernel, "the kernel half is always active");
        let mut tag = self.asid_tag.load(Ordering::Relaxed);
        {
            let mut state = ASID_STATE.lock();
            if tag >> 8 != state.0 {
                if state.1 + 1 >= ASID_COUNT {
                    // A new generation: every ASID is free again, and no
                    // translation of an old one may survive.
                    state.0 += 1;
                    state.1 = 0;
                    // SAFETY: TLB maintenance has no effect on memory contents.
                    unsafe { core::arch::asm!("tlbi vmalle1is", "dsb ish", "isb", options(nostack)) };
                }
                state.1 += 1;
                tag = state.0 << 8 | state.1;
                self.asid_tag.store(tag, Ordering::Relaxed);
            }
        }
        write_user_root(self.root.0 | (tag & 0xff) << 48);
    }

    /// Frees every user page, every table below the root and the root. The
    /// caller makes sure these tables are not the CPU's current ones.
    pub fn destroy_user(self) {
        assert!(!self.kernel, "destroying the kernel's tables");
        assert!(current_user_root() != self.root.0, "destroying the active page tables");
        free_table_tree(self.root, 0);
    }

    /// The user pages mapped in `[start, end)`, in address order, with
    /// their frames. Walks only present tables.
    pub fn mapped_in(&self, start: u64, end: u64) -> alloc::vec::Vec<(u64, Frame)> {
        let mut found = alloc::vec::Vec::new();
        self.visit_mapped(start, end, &mut |page, frame, _| {
            found.push((page, frame));
            true
        });
        found
    }

    /// Removes every mapping in `[start, end)`, telling `each` its page,
    /// frame and rights (x86_64 does it in one walk; here the mappings are
    /// listed, then unmapped one by one).
    pub fn unmap_in(&mut self, start: u64, end: u64, each: &mut dyn FnMut(u64, Frame, PageFlags)) {
        for (page, _, flags) in self.mapped_entries_in(start, end) {
            if let Ok(frame) = self.unmap(page) {
                each(page, frame, flags);
            }
        }
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

    /// Calls `visit` on each user mapping in `[start, end)` in address
    /// order while it answers true.
    fn visit_mapped(&self, start: u64, end: u64, visit: &mut dyn FnMut(u64, Frame, PageFlags) -> bool) {
        let end = end.min(USER_END);
        if start < end && !self.kernel {
            collect_mapped(self.root, 0, 0, start, end, visit);
        }
    }

    /// Fork's copy-on-write sharing on the tables themselves (as x86_64's):
    /// every page mapped in `[start, end)` whose rights `take` accepts is
    /// made read-only here and mapped read-only at the same address in
    /// `child` (which must have nothing there yet; missing child tables are
    /// made), and `shared` is told its frame. One walk of both trees.
    /// Returns how many pages were shared. On an error (no memory for a
    /// child table) the pages shared so far stay shared and mapped in
    /// `child`, consistently with what `shared` was told.
    pub fn share_into(
        &mut self,
        child: &mut PageTables,
        start: u64,
        end: u64,
        take: &mut dyn FnMut(PageFlags) -> bool,
        shared: &mut dyn FnMut(Frame),
    ) -> Result<usize, MapError> {
        self.change_count += 1;
        assert!(!self.kernel && !child.kernel, "sharing the kernel's tables");
        let end = end.min(USER_END);
        let mut walk = ShareWalk { start, end, take, shared, pages: 0, child_tables: 0, write_protected: false };
        let result = if start < end { walk.level(self.root, child.root, 0, 0) } else { Ok(()) };
        child.table_pages += walk.child_tables;
        // The child's new entries were invalid before: publishing is enough.
        barrier_store();
        if walk.write_protected {
            // Entries lost write access: no writable translation of this
            // ASID may survive in any TLB.
            let asid = self.asid_tag.load(Ordering::Relaxed) & 0xff;
            // SAFETY: TLB maintenance has no effect on memory contents.
            unsafe { core::arch::asm!("tlbi aside1is, {}", "dsb ish", "isb", in(reg) asid << 48, options(nostack)) };
        }
        result.map(|()| walk.pages)
    }

    /// Pages mapped in the user half.
    pub fn user_page_count(&self) -> usize {
        if self.kernel {
            0
        } else {
            count_leaves(self.root, 0)
        }
    }
}

/// The indexes of a table's entries (each covering `span` bytes from
/// `base` on) that overlap `[start, end)`: walks visit only those.
fn entries_in(base: u64, span: u64, start: u64, end: u64) -> core::ops::Range<usize> {
    let table_end = base.saturating_add(512 * span);
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
    /// Shares what the parent's table `parent` (at `level`, covering
    /// addresses from `base`) maps in the walk's range into `child`, the
    /// child's table for the same addresses.
    fn level(
        &mut self,
        parent: PhysicalAddress,
        child: PhysicalAddress,
        level: u32,
        base: u64,
    ) -> Result<(), MapError> {
        let span = 1u64 << (39 - 9 * level);
        for slot in entries_in(base, span, self.start, self.end) {
            let entry_start = base + slot as u64 * span;
            // SAFETY: `parent` and `child` are tables of two distinct trees
            // the caller holds exclusively; each reference lives only for
            // this statement.
            let entry = unsafe { table_in(parent) }.0[slot];
            if entry & VALID == 0 || (level < 3 && entry & TABLE_OR_PAGE == 0) {
                continue; // absent, or a block (never in user halves)
            }
            if level == 3 {
                if !(self.take)(neutral_flags(entry)) {
                    continue;
                }
                // SAFETY: as above.
                let child_entry = &mut unsafe { table_in(child) }.0[slot];
                if *child_entry & VALID != 0 {
                    return Err(MapError::AlreadyMapped);
                }
                let read_only = entry | READ_ONLY;
                if entry & READ_ONLY == 0 {
                    // SAFETY: as above.
                    unsafe { table_in(parent) }.0[slot] = read_only;
                    self.write_protected = true;
                }
                *child_entry = read_only;
                (self.shared)(Frame::containing(PhysicalAddress(entry & ADDRESS_MASK)));
                self.pages += 1;
                continue;
            }
            // SAFETY: as above.
            let child_entry = unsafe { table_in(child) }.0[slot];
            let child_next = if child_entry & VALID != 0 {
                PhysicalAddress(child_entry & ADDRESS_MASK)
            } else {
                if !crate::memory::can_spare(PAGE_SIZE) {
                    return Err(MapError::OutOfMemory);
                }
                let fresh = frame::allocate().map_err(|_| MapError::OutOfMemory)?.start();
                // SAFETY: a fresh frame, ours alone; it becomes a table of the child's tree.
                unsafe { table_in(fresh) }.0 = [0; 512];
                barrier_store();
                // SAFETY: as above.
                unsafe { table_in(child) }.0[slot] = fresh.0 | VALID | TABLE_OR_PAGE;
                self.child_tables += 1;
                fresh
            };
            self.level(PhysicalAddress(entry & ADDRESS_MASK), child_next, level + 1, entry_start)?;
        }
        Ok(())
    }
}

/// Visits the leaves of `table` (at `level`, covering addresses from
/// `base`) that lie in `[start, end)`, while `found` answers true; false if
/// it stopped.
fn collect_mapped(
    table: PhysicalAddress,
    level: u32,
    base: u64,
    start: u64,
    end: u64,
    found: &mut dyn FnMut(u64, Frame, PageFlags) -> bool,
) -> bool {
    let span = 1u64 << (39 - 9 * level);
    for slot in entries_in(base, span, start, end) {
        // SAFETY: a present table of tables the caller holds; reads only.
        let entry = unsafe { table_in(table) }.0[slot];
        let entry_start = base + slot as u64 * span;
        if entry & VALID == 0 {
            continue;
        }
        let next = PhysicalAddress(entry & ADDRESS_MASK);
        let going_on = if level == 3 {
            found(entry_start, Frame::containing(next), neutral_flags(entry))
        } else if entry & TABLE_OR_PAGE != 0 {
            collect_mapped(next, level + 1, entry_start, start, end, found)
        } else {
            true
        };
        if !going_on {
            return false;
        }
    }
    true
}

fn count_leaves(table: PhysicalAddress, level: u32) -> usize {
    // SAFETY: called for tables `user_page_count`'s caller holds; reads only.
    let entries = unsafe { table_in(table) }.0;
    entries
        .iter()
        .filter(|entry| *entry & VALID != 0)
        .map(|entry| if level == 3 { 1 } else { count_leaves(PhysicalAddress(entry & ADDRESS_MASK), level + 1) })
        .sum()
}

/// Frees the table at `level` in `table`, the tables below it and the user
/// pages they map.
fn free_table_tree(table: PhysicalAddress, level: u32) {
    // SAFETY: called only from `destroy_user`, which owns the whole tree.
    let entries = unsafe { table_in(table) }.0;
    for entry in entries.iter().filter(|entry| *entry & VALID != 0) {
        let next = PhysicalAddress(entry & ADDRESS_MASK);
        if level == 3 {
            // A user page may be shared (copy-on-write, memory objects):
            // the last owner frees it.
            crate::memory::share::release(Frame::containing(next));
        } else {
            free_table_tree(next, level + 1);
        }
    }
    let _ = frame::free(Frame::containing(table));
}

fn barrier_store() {
    // SAFETY: a barrier only orders memory accesses.
    unsafe { core::arch::asm!("dsb ishst", options(nostack)) };
}

fn instruction_barrier() {
    // SAFETY: a context synchronisation only; no memory effect.
    unsafe { core::arch::asm!("isb", options(nostack)) };
}

fn write_user_root(value: u64) {
    // SAFETY: TTBR0 holds only the user half; the kernel runs from TTBR1's
    // half, so changing it never unmaps kernel code, data or stacks.
    unsafe { core::arch::asm!("msr ttbr0_el1, {}", "isb", in(reg) value, options(nostack)) };
}

fn current_user_root() -> u64 {
    let value: u64;
    // SAFETY: reads TTBR0.
    unsafe { core::arch::asm!("mrs {}, ttbr0_el1", out(reg) value, options(nomem, nostack)) };
    value & ADDRESS_MASK
}

/// Builds the kernel's tables (direct map of all usable RAM, the kernel
/// image by section) and switches TTBR1 to them; TTBR0 gets an empty table
/// (the boot identity map goes away).
pub fn init_kernel_address_space(boot: &BootInfo) {
    let mut space = PageTables::empty(true).expect("no frame for the kernel's top-level page table");
    map_direct(&mut space, boot);
    map_kernel_image(&mut space);
    // Its root frame stays allocated for the kernel's lifetime (PageTables
    // frees nothing when dropped: only `destroy_user` does).
    let empty = PageTables::empty(false).expect("no frame for the empty user table");
    EMPTY_USER_ROOT.store(empty.root.0, Ordering::Relaxed);
    barrier_store();
    // SAFETY: the new TTBR1 tables map the kernel image where it runs, the
    // stack in use and the direct map; the TLB is flushed so no boot
    // translation survives; TTBR0 gets a table with nothing in it.
    unsafe {
        core::arch::asm!(
            "msr ttbr1_el1, {kernel}",
            "msr ttbr0_el1, {user}",
            "isb",
            "tlbi vmalle1is",
            "dsb ish",
            "isb",
            kernel = in(reg) space.root.0,
            user = in(reg) EMPTY_USER_ROOT.load(Ordering::Relaxed),
            options(nostack)
        );
    }
    *KERNEL_SPACE.lock() = Some(space);
}

fn map_direct(space: &mut PageTables, boot: &BootInfo) {
    let bits = VALID
        | ACCESSED
        | INNER_SHAREABLE
        | ATTRIBUTE_NORMAL << ATTRIBUTE_SHIFT
        | USER_EXECUTE_NEVER
        | PRIVILEGED_EXECUTE_NEVER;
    for region in boot.memory_map.iter().filter(|region| region.kind == RegionKind::Usable) {
        let start = region.range.start.0 / LARGE_PAGE_SIZE * LARGE_PAGE_SIZE;
        let end = region.range.end.0.next_multiple_of(LARGE_PAGE_SIZE);
        for physical in (start..end).step_by(LARGE_PAGE_SIZE as usize) {
            let virtual_address = DIRECT_MAP_BASE + physical;
            let mut table_address = space.root;
            for level in 0..2 {
                // SAFETY: tables of the kernel space being built, ours alone.
                let entry = &mut unsafe { table_in(table_address) }.0[index(virtual_address, level)];
                if *entry & VALID == 0 {
                    let fresh = frame::allocate().expect("no frame for the direct map").start();
                    // SAFETY: a fresh frame.
                    unsafe { table_in(fresh) }.0 = [0; 512];
                    *entry = fresh.0 | VALID | TABLE_OR_PAGE;
                }
                table_address = PhysicalAddress(*entry & ADDRESS_MASK);
            }
            // SAFETY: as above, the level-2 table.
            let entry = &mut unsafe { table_in(table_address) }.0[index(virtual_address, 2)];
            if *entry & VALID == 0 {
                *entry = physical | bits; // a 2 MiB block (two regions may share one)
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
            let frame = Frame::containing(PhysicalAddress(kernel_physical(virtual_address)));
            space.map(virtual_address, frame, flags).expect("cannot map the kernel image");
        }
    }
}

fn with_space<T>(action: impl FnOnce(&mut PageTables) -> T) -> T {
    let mut guard = KERNEL_SPACE.lock();
    action(guard.as_mut().expect("kernel address space used before init"))
}

/// Maps `frame` at the page-aligned kernel address `virtual_address`.
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

/// Leaves no user half current (before a task's tables are destroyed, and
/// for kernel threads).
pub fn activate_kernel() {
    write_user_root(EMPTY_USER_ROOT.load(Ordering::Relaxed));
}

/// True if `length` bytes from `virtual_address` are mapped in the kernel's
/// address space. Never waits: if the tables are locked, it answers false.
pub fn is_kernel_readable(virtual_address: u64, length: u64) -> bool {
    let Some(guard) = KERNEL_SPACE.try_lock() else { return false };
    let Some(space) = guard.as_ref() else { return false };
    let Some(end) = virtual_address.checked_add(length) else { return false };
    let first = virtual_address / PAGE_SIZE as u64;
    let last = (end - 1) / PAGE_SIZE as u64;
    (first..=last).all(|page| space.translate(page * PAGE_SIZE as u64).is_some())
}

static NEXT_DEVICE_PAGE: AtomicU64 = AtomicU64::new(DEVICE_WINDOW_BASE);

/// Maps `pages` pages of device registers at `physical` (device-nGnRE) in
/// the device window and returns their kernel address.
pub fn map_device(physical: PhysicalAddress, pages: usize) -> Result<u64, MapError> {
    let base = NEXT_DEVICE_PAGE.fetch_add((pages * PAGE_SIZE) as u64, Ordering::Relaxed);
    for page in 0..pages {
        let offset = (page * PAGE_SIZE) as u64;
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
    use crate::{ensure, ensure_eq, ktest};

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
            let ram = direct_map_address(PhysicalAddress(RAM_BASE)) as u64;
            ensure_eq!(unmap(ram + 0x20_0000), Err(MapError::InsideLargePage));
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
            ensure_eq!(translate(RAM_BASE + 0x20_0000), None);
            // The tests run in the boot thread, which has no user half.
            ensure_eq!(current_user_root(), EMPTY_USER_ROOT.load(Ordering::Relaxed));
            for region in crate::boot_info::get().memory_map.iter().filter(|region| region.kind == RegionKind::Usable) {
                let last = PhysicalAddress(region.range.end.0 - 1);
                let seen = translate(direct_map_address(last) as u64).map(|(address, _)| address);
                ensure_eq!(seen, Some(last));
            }
            Ok(())
        }

        fn page_tables_are_freed_frames_reused() {
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

        fn user_tables_take_an_asid_and_keep_it() {
            let tables = PageTables::new_user().map_err(|error| alloc::format!("{error:?}"))?;
            tables.activate();
            let first = tables.asid_tag.load(Ordering::Relaxed);
            ensure!(first & 0xff != 0, "ASID 0 is the kernel's");
            tables.activate();
            ensure_eq!(tables.asid_tag.load(Ordering::Relaxed), first);
            activate_kernel();
            tables.destroy_user();
            Ok(())
        }
    }
}
