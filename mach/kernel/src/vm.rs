//! A task's virtual memory map: regions of its user half and what backs them.
//!
//! A region is a page-aligned range with a current protection, a maximum
//! protection, an inheritance attribute (for the memory server's fork) and a
//! backing: anonymous zero-filled memory, device registers, or a memory
//! object at an offset (whose pages a user-level pager supplies; see
//! `memory_object`).
//!
//! Pages come lazily. A region starts with no frames; the first access
//! faults, and [`VmMap::touch`] gives an anonymous page a zeroed frame (or
//! says which object page is wanted). Kernel copies to and from user memory
//! go through the same function, so a trap argument in untouched memory
//! works as it would for the task itself.
//!
//! Frames can be shared (`memory::share`): an out-of-line copy shares the
//! sender's frames with the message and then the receiver. A shared
//! anonymous frame is never mapped writable; a write fault copies it
//! (copy-on-write) or, once it is the last owner, just makes it writable.
//!
//! Pages of a region protected `VM_PROT_NONE` are taken out of the page
//! tables and kept in the map (`parked`), so their contents survive until
//! access is allowed again. Write and execute are never granted together
//! (W^X): a protection asking for both is refused.

use crate::arch::paging::PageTables;
use crate::memory::{frame, share, Frame, MapError, PageFlags, PAGE_SIZE};
use crate::memory_object::ObjectId;
use alloc::collections::BTreeMap;
use mach_abi::{VM_INHERIT_DEFAULT, VM_PROT_ALL, VM_PROT_EXECUTE, VM_PROT_NONE, VM_PROT_WRITE};

const PAGE: u64 = PAGE_SIZE as u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub end: u64,
    pub protection: u32,
    pub max_protection: u32,
    pub inheritance: u32,
    pub backing: Backing,
}

/// What a region's pages come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Zero-filled on first touch, private to the map (copy-on-write when
    /// shared by an out-of-line copy).
    Anonymous,
    /// Device registers: the frames are not RAM the kernel owns, so they are
    /// only ever unmapped, never freed, and their protection is fixed.
    Device,
    /// A memory object: the region's first page is the object's page at
    /// `offset`. Its pages are the object's, shared by every mapping.
    Object { object: ObjectId, offset: u64 },
}

impl Region {
    pub fn is_device(&self) -> bool {
        self.backing == Backing::Device
    }

    /// The same region cut to start at `new_start` (was `start`).
    fn cut_at(self, start: u64, new_start: u64) -> Self {
        let backing = match self.backing {
            Backing::Object { object, offset } => Backing::Object { object, offset: offset + (new_start - start) },
            other => other,
        };
        Self { backing, ..self }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmError {
    /// Not page aligned, empty, wrapping, or outside the usable user range.
    InvalidRange,
    /// Part of the range is already allocated (fixed allocation).
    NoSpace,
    /// Part of the range is not allocated.
    NotAllocated,
    /// The protection exceeds the maximum, or asks for write and execute.
    ProtectionFailure,
    /// An unknown protection or inheritance value.
    InvalidValue,
    OutOfMemory,
    /// The page belongs to a memory object: absent, or present without the
    /// write access asked for. Its pager (through `memory_object`) decides.
    ObjectPage {
        object: ObjectId,
        offset: u64,
    },
}

impl From<VmError> for mach_abi::KernReturn {
    fn from(error: VmError) -> Self {
        use mach_abi::KernReturn;
        match error {
            VmError::InvalidRange | VmError::NotAllocated => KernReturn::InvalidAddress,
            VmError::NoSpace => KernReturn::NoSpace,
            VmError::ProtectionFailure => KernReturn::ProtectionFailure,
            VmError::InvalidValue => KernReturn::InvalidArgument,
            VmError::OutOfMemory => KernReturn::ResourceShortage,
            VmError::ObjectPage { .. } => KernReturn::MemoryFailure,
        }
    }
}

/// The page-table rights a protection maps to (`None` for no access).
pub fn page_flags(protection: u32) -> Option<PageFlags> {
    if protection & VM_PROT_ALL == VM_PROT_NONE {
        return None;
    }
    let mut flags = PageFlags::USER;
    flags.set(PageFlags::WRITABLE, protection & VM_PROT_WRITE != 0);
    flags.set(PageFlags::EXECUTABLE, protection & VM_PROT_EXECUTE != 0);
    Some(flags)
}

fn check_protection(protection: u32) -> Result<(), VmError> {
    if protection & !VM_PROT_ALL != 0 {
        return Err(VmError::InvalidValue);
    }
    if protection & (VM_PROT_WRITE | VM_PROT_EXECUTE) == VM_PROT_WRITE | VM_PROT_EXECUTE {
        return Err(VmError::ProtectionFailure);
    }
    Ok(())
}

#[derive(Default)]
pub struct VmMap {
    /// Regions by start address; they never overlap.
    regions: BTreeMap<u64, Region>,
    /// Frames of pages in `VM_PROT_NONE` regions, by page address.
    parked: BTreeMap<u64, Frame>,
    /// Frames of RAM this map owns (mapped or parked; device pages are not
    /// RAM and not counted): what the task's memory costs the machine.
    resident: usize,
    /// Pages the kernel holds for the task outside its page tables: the
    /// memory objects it created and their cached pages.
    held_for_task: usize,
    /// How many regions are object-backed (so the common case, none, is
    /// answered without a search).
    object_regions: usize,
}

/// Most pages of RAM one task may hold: half of usable memory, so no task
/// can starve the others (the kernel keeps its own reserve besides).
pub fn task_page_limit() -> usize {
    (frame::statistics().usable / 2).max(1024)
}

/// Most regions one map may have: each costs the kernel a tree node.
pub const MAX_REGIONS: usize = 4096;

/// Lowest address `vm_allocate` anywhere hands out, and the end of the
/// range it may use (the stack and its guard sit above).
pub const ALLOCATE_BASE: u64 = 0x0000_0001_0000_0000;
pub const USER_LIMIT: u64 = crate::loader::STACK_TOP;

/// Checks a user range: page aligned, non-empty, inside [PAGE, USER_LIMIT).
pub fn checked_range(address: u64, size: u64) -> Result<(u64, u64), VmError> {
    let end = address.checked_add(size).ok_or(VmError::InvalidRange)?;
    if size == 0 || !address.is_multiple_of(PAGE) || !size.is_multiple_of(PAGE) || address < PAGE || end > USER_LIMIT {
        return Err(VmError::InvalidRange);
    }
    Ok((address, end))
}

impl VmMap {
    /// Pages of RAM the map holds.
    pub fn resident(&self) -> usize {
        self.resident
    }

    /// Everything charged to the task: its pages, what the kernel holds for
    /// it, and its page tables.
    pub fn charged(&self, tables: &PageTables) -> usize {
        self.resident + self.held_for_task + tables.table_pages()
    }

    /// Refuses `pages` more if they would pass the task's limit.
    fn room_for(&self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        if self.charged(tables) + pages > task_page_limit() {
            return Err(VmError::OutOfMemory);
        }
        Ok(())
    }

    /// Records `pages` more pages of RAM given to the map, or refuses if
    /// that would pass the task's limit.
    pub fn charge(&mut self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        self.room_for(tables, pages)?;
        self.resident += pages;
        Ok(())
    }

    /// Like `charge`, for pages the kernel holds for the task outside its
    /// page tables (memory objects and their caches), under the same limit.
    pub fn charge_held(&mut self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        self.room_for(tables, pages)?;
        self.held_for_task += pages;
        Ok(())
    }

    pub fn uncharge_held(&mut self, pages: usize) {
        self.held_for_task = self.held_for_task.saturating_sub(pages);
    }

    /// Records pages given back.
    pub fn uncharge(&mut self, pages: usize) {
        self.resident = self.resident.saturating_sub(pages);
    }

    /// The region containing `address`, with its start.
    pub fn region_at(&self, address: u64) -> Option<(u64, Region)> {
        let (&start, &region) = self.regions.range(..=address).next_back()?;
        (address < region.end).then_some((start, region))
    }

    /// The first region ending above `address`.
    pub fn region_from(&self, address: u64) -> Option<(u64, Region)> {
        self.region_at(address)
            .or_else(|| self.regions.range(address..).next().map(|(&start, &region)| (start, region)))
    }

    fn is_free(&self, start: u64, end: u64) -> bool {
        self.region_from(start).is_none_or(|(first, _)| first >= end)
    }

    /// True if every page of `[start, end)` lies in some region.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut address = start;
        while address < end {
            match self.region_at(address) {
                Some((_, region)) => address = region.end,
                None => return false,
            }
        }
        true
    }

    /// Adds an anonymous region over free space.
    pub fn insert(&mut self, start: u64, end: u64, protection: u32, max_protection: u32) -> Result<(), VmError> {
        self.insert_backed(start, end, protection, max_protection, Backing::Anonymous)
    }

    /// Adds a region with `backing` over free space.
    pub fn insert_backed(
        &mut self,
        start: u64,
        end: u64,
        protection: u32,
        max_protection: u32,
        backing: Backing,
    ) -> Result<(), VmError> {
        check_protection(protection)?;
        if !self.is_free(start, end) {
            return Err(VmError::NoSpace);
        }
        // Room for this one and for splitting two others around a later change.
        if self.regions.len() + 3 > MAX_REGIONS {
            return Err(VmError::OutOfMemory);
        }
        let region = Region { end, protection, max_protection, inheritance: VM_INHERIT_DEFAULT, backing };
        self.regions.insert(start, region);
        self.object_regions += matches!(backing, Backing::Object { .. }) as usize;
        Ok(())
    }

    /// The first page of `[start, end)` in an object-backed region that is
    /// not mapped with the access asked for: one the kernel cannot copy to
    /// or from without its pager, so a trap resolves it (waiting) first.
    pub fn absent_object_page(&self, tables: &PageTables, start: u64, end: u64, write: bool) -> Option<u64> {
        if self.object_regions == 0 || start >= end {
            return None;
        }
        let first = self.region_at(start).map_or(start, |(region_start, _)| region_start);
        self.regions
            .range(first..end)
            .filter(|(_, region)| matches!(region.backing, Backing::Object { .. }))
            .flat_map(|(&region_start, region)| {
                (region_start.max(start & !(PAGE - 1))..region.end.min(end)).step_by(PAGE_SIZE)
            })
            .find(|&page| match tables.translate(page) {
                Some((_, flags)) => write && !flags.contains(PageFlags::WRITABLE),
                None => true,
            })
    }

    /// Every region, by start address.
    pub fn regions(&self) -> impl Iterator<Item = (u64, &Region)> {
        self.regions.iter().map(|(&start, region)| (start, region))
    }

    /// Maps `pages` device frames from `physical` at `[start, ..)`, uncached,
    /// read-write, as a device region.
    pub fn insert_device(
        &mut self,
        tables: &mut PageTables,
        start: u64,
        physical: u64,
        pages: u64,
    ) -> Result<(), VmError> {
        let end = start + pages * PAGE;
        if !self.is_free(start, end) {
            return Err(VmError::NoSpace);
        }
        let flags = PageFlags::USER | PageFlags::WRITABLE | PageFlags::UNCACHED;
        for index in 0..pages {
            let frame = Frame::containing(crate::memory::PhysicalAddress(physical + index * PAGE));
            if tables.map(start + index * PAGE, frame, flags).is_err() {
                for mapped in 0..index {
                    let _ = tables.unmap(start + mapped * PAGE);
                }
                return Err(VmError::OutOfMemory);
            }
        }
        let region = Region {
            end,
            protection: VM_PROT_WRITE | mach_abi::VM_PROT_READ,
            max_protection: VM_PROT_WRITE | mach_abi::VM_PROT_READ,
            inheritance: mach_abi::VM_INHERIT_NONE,
            backing: Backing::Device,
        };
        self.regions.insert(start, region);
        Ok(())
    }

    /// The lowest free, page-aligned range of `size` bytes at or above `from`.
    pub fn find_space(&self, size: u64, from: u64) -> Option<u64> {
        let mut candidate = from.max(ALLOCATE_BASE);
        loop {
            let end = candidate.checked_add(size)?;
            if end > USER_LIMIT - crate::loader::STACK_SIZE - PAGE {
                return None;
            }
            match self.region_from(candidate) {
                Some((start, region)) if start < end => candidate = region.end,
                _ => return Some(candidate),
            }
        }
    }

    /// Makes `address` a region boundary (splitting the region there).
    fn split_at(&mut self, address: u64) {
        if let Some((start, region)) = self.region_at(address) {
            if start < address {
                self.regions.insert(start, Region { end: address, ..region });
                self.regions.insert(address, region.cut_at(start, address));
                self.object_regions += matches!(region.backing, Backing::Object { .. }) as usize;
            }
        }
    }

    /// Applies `change` to every region within `[start, end)` (which must be
    /// fully allocated), splitting regions at the edges first.
    fn update(
        &mut self,
        start: u64,
        end: u64,
        mut change: impl FnMut(&mut Region) -> Result<(), VmError>,
    ) -> Result<(), VmError> {
        if !self.covers(start, end) {
            return Err(VmError::NotAllocated);
        }
        // Check every region first, so a refusal changes nothing.
        for (_, region) in self.regions.range(..end).filter(|(_, region)| region.end > start) {
            change(&mut region.clone())?;
        }
        self.split_at(start);
        self.split_at(end);
        for (_, region) in self.regions.range_mut(start..end) {
            change(region)?;
        }
        Ok(())
    }

    /// Removes the regions of `[start, end)` (any part not allocated is
    /// ignored, as Mach's vm_deallocate does) and frees their pages.
    pub fn deallocate(&mut self, tables: &mut PageTables, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let starts: alloc::vec::Vec<u64> = self.regions.range(start..end).map(|(&start, _)| start).collect();
        for region_start in starts {
            let region = self.regions.remove(&region_start).expect("listed above");
            self.object_regions -= matches!(region.backing, Backing::Object { .. }) as usize;
            for (page, _) in tables.mapped_in(region_start, region.end) {
                if let Ok(frame) = tables.unmap(page) {
                    if !region.is_device() {
                        share::release(frame);
                        self.uncharge(1);
                    }
                }
            }
            let parked: alloc::vec::Vec<u64> =
                self.parked.range(region_start..region.end).map(|(&page, _)| page).collect();
            for page in parked {
                if let Some(frame) = self.parked.remove(&page) {
                    share::release(frame);
                    self.uncharge(1);
                }
            }
        }
    }

    /// `vm_protect`: sets the current (or, with `set_maximum`, the maximum)
    /// protection of `[start, end)` and updates the pages already present.
    pub fn protect(
        &mut self,
        tables: &mut PageTables,
        start: u64,
        end: u64,
        set_maximum: bool,
        protection: u32,
    ) -> Result<(), VmError> {
        check_protection(protection)?;
        self.update(start, end, |region| {
            if region.is_device() {
                return Err(VmError::ProtectionFailure);
            }
            if set_maximum {
                region.max_protection = protection;
                region.protection &= protection;
            } else {
                if protection & !region.max_protection != 0 {
                    return Err(VmError::ProtectionFailure);
                }
                region.protection = protection;
            }
            Ok(())
        })?;
        // Only pages present (mapped or parked) change; absent ones get the
        // region's protection when they come.
        for page in self.present_in(tables, start, end) {
            let protection = self.region_at(page).map(|(_, region)| region.protection).unwrap_or(VM_PROT_NONE);
            self.apply_protection(tables, page, protection)?;
        }
        Ok(())
    }

    /// Brings one present (or parked) page in line with `protection`. A page
    /// not yet touched stays absent: its first access brings it.
    fn apply_protection(&mut self, tables: &mut PageTables, page: u64, protection: u32) -> Result<(), VmError> {
        let backing = self.region_at(page).map(|(_, region)| region.backing).unwrap_or(Backing::Anonymous);
        let present = tables.translate(page).map(|(physical, _)| Frame::containing(physical));
        match (page_flags(protection), present) {
            (Some(flags), Some(frame)) => {
                tables.protect(page, mapping_flags(flags, backing, frame)).map_err(|_| VmError::OutOfMemory)
            }
            (Some(flags), None) => match self.parked.remove(&page) {
                Some(frame) => {
                    tables.map(page, frame, mapping_flags(flags, backing, frame)).map_err(|_| VmError::OutOfMemory)
                }
                None => Ok(()),
            },
            (None, Some(_)) => {
                let frame = tables.unmap(page).map_err(|_| VmError::OutOfMemory)?;
                self.parked.insert(page, frame);
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// `vm_inherit` on `[start, end)`.
    pub fn inherit(&mut self, start: u64, end: u64, inheritance: u32) -> Result<(), VmError> {
        if inheritance > mach_abi::VM_INHERIT_NONE {
            return Err(VmError::InvalidValue);
        }
        self.update(start, end, |region| {
            region.inheritance = inheritance;
            Ok(())
        })
    }

    /// The frame behind `page` if its region allows `access` (VM_PROT_*
    /// bits), after resolving what a fault on it would: an anonymous page
    /// gets a zeroed frame on first touch, and a write to a shared
    /// anonymous frame copies it. An object page that is absent, or present
    /// without the write access asked for, is `VmError::ObjectPage`: only
    /// its object knows what to do.
    pub fn touch(&mut self, tables: &mut PageTables, page: u64, access: u32) -> Result<Frame, VmError> {
        let page = page & !(PAGE - 1);
        let (start, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        if access & !region.protection != 0 {
            return Err(VmError::ProtectionFailure);
        }
        let flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        let object_page = |backing| match backing {
            Backing::Object { object, offset } => Err(VmError::ObjectPage { object, offset: offset + (page - start) }),
            _ => Err(VmError::NotAllocated),
        };
        match tables.translate(page) {
            Some((physical, mapped)) => {
                let frame = Frame::containing(physical);
                if access & VM_PROT_WRITE == 0 || mapped.contains(PageFlags::WRITABLE) {
                    return Ok(frame);
                }
                match region.backing {
                    Backing::Anonymous => self.copy_on_write(tables, page, frame, flags),
                    backing => object_page(backing),
                }
            }
            None => match region.backing {
                Backing::Anonymous => self.zero_fill(tables, page, flags),
                backing => object_page(backing),
            },
        }
    }

    /// A write to an anonymous page mapped read-only because its frame is
    /// (or was) shared: the last owner just gets write access back; any
    /// other gets its own copy.
    fn copy_on_write(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        frame: Frame,
        flags: PageFlags,
    ) -> Result<Frame, VmError> {
        if !share::is_shared(frame) {
            tables.protect(page, flags).map_err(|_| VmError::OutOfMemory)?;
            return Ok(frame);
        }
        let copy = frame::allocate().map_err(|_| VmError::OutOfMemory)?;
        // SAFETY: `copy` was just allocated; `frame` is mapped by this map
        // (kernel lock held). Both are whole pages in the direct map.
        unsafe { core::ptr::copy_nonoverlapping(frame.kernel_pointer(), copy.kernel_pointer(), PAGE_SIZE) };
        tables.unmap(page).map_err(|_| VmError::OutOfMemory)?;
        if tables.map(page, copy, flags).is_err() {
            // Cannot happen (the tables for `page` exist); keep the old page.
            let _ = tables.map(page, frame, flags.difference(PageFlags::WRITABLE));
            let _ = frame::free(copy);
            return Err(VmError::OutOfMemory);
        }
        share::release(frame);
        Ok(copy)
    }

    /// First touch of an anonymous page: a zeroed frame, charged to the map.
    fn zero_fill(&mut self, tables: &mut PageTables, page: u64, flags: PageFlags) -> Result<Frame, VmError> {
        if !crate::memory::can_spare(PAGE_SIZE) {
            return Err(VmError::OutOfMemory);
        }
        self.charge(tables, 1)?;
        let Ok(frame) = frame::allocate() else {
            self.uncharge(1);
            return Err(VmError::OutOfMemory);
        };
        // SAFETY: the frame was just allocated, so nothing else uses it.
        unsafe { core::ptr::write_bytes(frame.kernel_pointer(), 0, PAGE_SIZE) };
        self.map_new(tables, page, frame, flags)?;
        Ok(frame)
    }

    /// Maps `frame` (already charged) at `page`; on failure gives it up.
    fn map_new(&mut self, tables: &mut PageTables, page: u64, frame: Frame, flags: PageFlags) -> Result<(), VmError> {
        if let Err(error) = tables.map(page, frame, flags) {
            share::release(frame);
            self.uncharge(1);
            return Err(match error {
                MapError::OutOfMemory => VmError::OutOfMemory,
                _ => VmError::InvalidRange,
            });
        }
        Ok(())
    }

    /// Maps a frame this map now co-owns (an object page, or a page of a
    /// received out-of-line copy) at the absent `page`, writable only if
    /// `writable` and the region allows it.
    pub fn map_shared(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        frame: Frame,
        writable: bool,
    ) -> Result<(), VmError> {
        let (_, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        let mut flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        if !writable {
            flags.remove(PageFlags::WRITABLE);
        }
        self.charge(tables, 1)?;
        share::share(frame);
        self.map_new(tables, page, frame, flags)
    }

    /// Maps `frame`, whose owner (a received message) hands it to this
    /// map, at the absent anonymous `page`; the map was already charged.
    /// Writable only if nobody else owns the frame (else copy-on-write).
    pub fn adopt(&mut self, tables: &mut PageTables, page: u64, frame: Frame) {
        let Some((_, region)) = self.region_at(page) else {
            share::release(frame);
            self.uncharge(1);
            return;
        };
        let Some(flags) = page_flags(region.protection) else {
            self.parked.insert(page, frame);
            return;
        };
        let _ = self.map_new(tables, page, frame, mapping_flags(flags, region.backing, frame));
    }

    /// Gives an object page mapped read-only write access (its pager
    /// allowed it).
    pub fn allow_write(&mut self, tables: &mut PageTables, page: u64) -> Result<(), VmError> {
        let (_, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        let flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        tables.protect(page, flags).map_err(|_| VmError::OutOfMemory)
    }

    /// Takes away write access to `page` (if present), for copy-on-write.
    pub fn deny_write(&mut self, tables: &mut PageTables, page: u64) {
        if let Some((_, flags)) = tables.translate(page) {
            if flags.contains(PageFlags::WRITABLE) {
                let _ = tables.protect(page, flags.difference(PageFlags::WRITABLE));
            }
        }
    }

    /// The pages of `[start, end)` the map holds: mapped or parked.
    pub fn present_in(&self, tables: &PageTables, start: u64, end: u64) -> alloc::vec::Vec<u64> {
        let mut pages: alloc::vec::Vec<u64> = tables.mapped_in(start, end).into_iter().map(|(page, _)| page).collect();
        pages.extend(self.parked.range(start..end).map(|(&page, _)| page));
        pages
    }

    /// Takes `page` out of the map's page tables (and parking), giving up
    /// the map's hold on its frame. For flushing object pages.
    pub fn evict(&mut self, tables: &mut PageTables, page: u64) {
        let frame = tables.unmap(page).ok().or_else(|| self.parked.remove(&page));
        if let Some(frame) = frame {
            share::release(frame);
            self.uncharge(1);
        }
    }

    /// Pages of `[start, end)` present in memory (mapped or parked).
    pub fn resident_pages(&self, tables: &PageTables, start: u64, end: u64) -> u32 {
        (tables.mapped_in(start, end).len() + self.parked.range(start..end).count()) as u32
    }

    /// Recounts the RAM pages the map holds (mapped outside device regions,
    /// or parked), for tests of the `resident` bookkeeping.
    pub fn count_resident(&self, tables: &PageTables) -> usize {
        let mapped: usize = self
            .regions
            .iter()
            .filter(|(_, region)| !region.is_device())
            .map(|(&start, region)| tables.mapped_in(start, region.end).len())
            .sum();
        mapped + self.parked.len()
    }

    /// Frees parked frames and takes device mappings out of the page tables
    /// (which then free every frame still mapped: the task's own RAM).
    pub fn destroy(&mut self, tables: &mut PageTables) {
        for (_, frame) in core::mem::take(&mut self.parked) {
            share::release(frame);
        }
        self.resident = 0;
        for (&start, region) in self.regions.iter().filter(|(_, region)| region.is_device()) {
            for (page, _) in tables.mapped_in(start, region.end) {
                let _ = tables.unmap(page);
            }
        }
        self.regions.clear();
        self.object_regions = 0;
    }
}

/// The page-table rights for a present page: the region's, without write
/// access where a write must fault first (a shared anonymous frame, which
/// is copied; an object page, whose pager may have write-locked it).
fn mapping_flags(flags: PageFlags, backing: Backing, frame: Frame) -> PageFlags {
    match backing {
        Backing::Anonymous if share::is_shared(frame) => flags.difference(PageFlags::WRITABLE),
        Backing::Object { .. } => flags.difference(PageFlags::WRITABLE),
        _ => flags,
    }
}

/// Allocates `[start, end)` as a new anonymous region with `protection`.
/// No frame is given yet: each page gets its zeroed frame on first touch,
/// charged to the map then (so a sparse region costs only what is used).
pub fn allocate(vm: &mut VmMap, start: u64, end: u64, protection: u32) -> Result<(), VmError> {
    vm.insert(start, end, protection, VM_PROT_ALL)
}
