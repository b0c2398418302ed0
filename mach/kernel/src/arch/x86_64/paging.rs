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
use x86_64::structures::paging::mapper::{MapToError, Translate, TranslateResult, UnmapError};
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

struct KernelAddressSpace {
    tables: OffsetPageTable<'static>,
    root: PhysFrame,
}

// SAFETY: the page tables are reached only through the mutex below.
unsafe impl Send for KernelAddressSpace {}

static KERNEL_SPACE: spin::Mutex<Option<KernelAddressSpace>> = spin::Mutex::new(None);

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
    result
}

fn neutral_flags(flags: PageTableFlags) -> PageFlags {
    let mut result = PageFlags::empty();
    result.set(PageFlags::WRITABLE, flags.contains(PageTableFlags::WRITABLE));
    result.set(PageFlags::EXECUTABLE, !flags.contains(PageTableFlags::NO_EXECUTE));
    result.set(PageFlags::USER, flags.contains(PageTableFlags::USER_ACCESSIBLE));
    result.set(PageFlags::UNCACHED, flags.contains(PageTableFlags::NO_CACHE));
    result
}

/// Builds the kernel's page tables (direct map of all usable RAM, the kernel
/// image by section) and switches to them, dropping the boot tables'
/// identity map.
pub fn init_kernel_address_space(boot: &BootInfo) {
    let root = frame::allocate().expect("no frame for the kernel's top-level page table");
    let root_table = direct_map_address(root.start()) as *mut PageTable;
    // SAFETY: the frame was just allocated, so it is ours alone; it lies in
    // the first GiB (the allocator hands out low frames first and the bitmap
    // sits there), which the boot tables map at the direct-map base.
    let tables = unsafe {
        root_table.write(PageTable::new());
        OffsetPageTable::new(&mut *root_table, VirtAddr::new(DIRECT_MAP_BASE))
    };
    let mut space = KernelAddressSpace { tables, root: PhysFrame::containing_address(PhysAddr::new(root.start().0)) };
    map_direct(&mut space, boot);
    map_kernel_image(&mut space);

    // SAFETY: the new tables map the kernel image exactly where it runs, the
    // stack in use, and the direct map; global pages are only kernel pages.
    unsafe {
        Cr4::update(|flags| flags.insert(Cr4Flags::PAGE_GLOBAL));
        Cr3::write(space.root, Cr3Flags::empty());
    }
    *KERNEL_SPACE.lock() = Some(space);
}

fn map_direct(space: &mut KernelAddressSpace, boot: &BootInfo) {
    let flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE | PageTableFlags::GLOBAL;
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
                Ok(flush) => flush.ignore(), // not active yet
                Err(MapToError::PageAlreadyMapped(_)) => {} // two regions share a 2 MiB page
                Err(error) => panic!("cannot build the direct map: {error:?}"),
            }
        }
    }
}

fn map_kernel_image(space: &mut KernelAddressSpace) {
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
            map_in(space, virtual_address, frame, flags).expect("cannot map the kernel image");
        }
    }
}

fn page_at(virtual_address: u64) -> Result<Page<Size4KiB>, MapError> {
    let address = VirtAddr::try_new(virtual_address).map_err(|_| MapError::InvalidAddress)?;
    Page::from_start_address(address).map_err(|_| MapError::InvalidAddress)
}

fn map_in(space: &mut KernelAddressSpace, virtual_address: u64, frame: Frame, flags: PageFlags) -> Result<(), MapError> {
    let page = page_at(virtual_address)?;
    let physical = PhysFrame::containing_address(PhysAddr::new(frame.start().0));
    // SAFETY: mapping a frame the caller owns at a free kernel address cannot
    // break Rust's guarantees for memory already in use; callers of `map`
    // own the frame (see its contract).
    match unsafe { space.tables.map_to(page, physical, hardware_flags(flags), &mut TableFrames) } {
        Ok(flush) => {
            flush.flush();
            Ok(())
        }
        Err(MapToError::PageAlreadyMapped(_)) => Err(MapError::AlreadyMapped),
        Err(MapToError::ParentEntryHugePage) => Err(MapError::InsideLargePage),
        Err(MapToError::FrameAllocationFailed) => Err(MapError::OutOfMemory),
    }
}

fn with_space<T>(action: impl FnOnce(&mut KernelAddressSpace) -> T) -> T {
    let mut guard = KERNEL_SPACE.lock();
    action(guard.as_mut().expect("kernel address space used before init"))
}

/// Maps `frame` at the page-aligned kernel address `virtual_address`.
/// The caller owns `frame`; the mapping is visible at once on this CPU.
pub fn map(virtual_address: u64, frame: Frame, flags: PageFlags) -> Result<(), MapError> {
    with_space(|space| map_in(space, virtual_address, frame, flags))
}

/// Removes the mapping at `virtual_address` and returns the frame it mapped.
pub fn unmap(virtual_address: u64) -> Result<Frame, MapError> {
    let page = page_at(virtual_address)?;
    with_space(|space| match space.tables.unmap(page) {
        Ok((frame, flush)) => {
            flush.flush();
            Ok(Frame::containing(PhysicalAddress(frame.start_address().as_u64())))
        }
        Err(UnmapError::PageNotMapped) => Err(MapError::NotMapped),
        Err(UnmapError::ParentEntryHugePage) => Err(MapError::InsideLargePage),
        Err(UnmapError::InvalidFrameAddress(_)) => Err(MapError::InvalidAddress),
    })
}

/// Changes the rights of the mapping at `virtual_address`.
pub fn protect(virtual_address: u64, flags: PageFlags) -> Result<(), MapError> {
    let page = page_at(virtual_address)?;
    with_space(|space| {
        // SAFETY: changing rights cannot make memory reachable that was not;
        // the caller owns the mapping it changes.
        match unsafe { space.tables.update_flags(page, hardware_flags(flags)) } {
            Ok(flush) => {
                flush.flush();
                Ok(())
            }
            Err(x86_64::structures::paging::mapper::FlagUpdateError::PageNotMapped) => Err(MapError::NotMapped),
            Err(x86_64::structures::paging::mapper::FlagUpdateError::ParentEntryHugePage) => {
                Err(MapError::InsideLargePage)
            }
        }
    })
}

/// Where `virtual_address` leads, with the mapping's rights, if mapped.
pub fn translate(virtual_address: u64) -> Option<(PhysicalAddress, PageFlags)> {
    let address = VirtAddr::try_new(virtual_address).ok()?;
    with_space(|space| translate_in(space, address))
}

fn translate_in(space: &KernelAddressSpace, address: VirtAddr) -> Option<(PhysicalAddress, PageFlags)> {
    match space.tables.translate(address) {
        TranslateResult::Mapped { frame, offset, flags } => {
            Some((PhysicalAddress(frame.start_address().as_u64() + offset), neutral_flags(flags)))
        }
        _ => None,
    }
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
    (first..=last).all(|page| {
        VirtAddr::try_new(page * PAGE_SIZE as u64).is_ok_and(|address| translate_in(space, address).is_some())
    })
}

static NEXT_DEVICE_PAGE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(DEVICE_WINDOW_BASE);

/// Maps `pages` pages of device registers at `physical` uncached in the
/// device window and returns their kernel address.
pub fn map_device(physical: PhysicalAddress, pages: usize) -> Result<u64, MapError> {
    let base = NEXT_DEVICE_PAGE.fetch_add((pages * PAGE_SIZE) as u64, core::sync::atomic::Ordering::Relaxed);
    for index in 0..pages {
        let offset = (index * PAGE_SIZE) as u64;
        map(base + offset, Frame::containing(PhysicalAddress(physical.0 + offset)), PageFlags::WRITABLE | PageFlags::UNCACHED)?;
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
