//! A task's virtual memory map: regions of its user half and the
//! anonymous, zero-filled memory behind them.
//!
//! A region is a page-aligned range with a current protection, a maximum
//! protection and an inheritance attribute (for fork-like copies, later).
//! Anonymous memory is allocated eagerly: `vm_allocate` gives every page a
//! zeroed frame at once (after checking the kernel can spare them), so the
//! kernel's copies to and from user memory never meet a page that is
//! allocated but absent. Lazy zero-fill arrives with pagers (issue 5), where
//! faults in kernel copies must be handled in general anyway. The page
//! tables hold the frames of accessible pages; pages of a region protected
//! `VM_PROT_NONE` are taken out of the page tables and kept in the map
//! (`parked`), so their contents survive until access is allowed again.
//!
//! Write and execute are never granted together (W^X): a protection asking
//! for both is refused.

use crate::arch::paging::PageTables;
use crate::memory::{frame, Frame, MapError, PageFlags, PAGE_SIZE};
use alloc::collections::BTreeMap;
use mach_abi::{VM_INHERIT_DEFAULT, VM_PROT_ALL, VM_PROT_EXECUTE, VM_PROT_NONE, VM_PROT_WRITE};

const PAGE: u64 = PAGE_SIZE as u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub end: u64,
    pub protection: u32,
    pub max_protection: u32,
    pub inheritance: u32,
    /// Device registers: the frames are not RAM the kernel owns, so they are
    /// only ever unmapped, never freed, and their protection is fixed.
    pub device: bool,
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
}

/// Most pages of RAM one task may hold: half of usable memory, so no task
/// can starve the others (the kernel keeps its own reserve besides).
pub fn task_page_limit() -> usize {
    (frame::statistics().usable / 2).max(1024)
}

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

    /// Records `pages` more pages of RAM given to the map, or refuses if
    /// that would pass the task's limit.
    pub fn charge(&mut self, pages: usize) -> Result<(), VmError> {
        if self.resident + pages > task_page_limit() {
            return Err(VmError::OutOfMemory);
        }
        self.resident += pages;
        Ok(())
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

    /// Adds a region over free space.
    pub fn insert(&mut self, start: u64, end: u64, protection: u32, max_protection: u32) -> Result<(), VmError> {
        check_protection(protection)?;
        if !self.is_free(start, end) {
            return Err(VmError::NoSpace);
        }
        let region = Region { end, protection, max_protection, inheritance: VM_INHERIT_DEFAULT, device: false };
        self.regions.insert(start, region);
        Ok(())
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
            device: true,
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
                self.regions.insert(address, region);
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
            for page in (region_start..region.end).step_by(PAGE_SIZE) {
                if let Ok(frame) = tables.unmap(page) {
                    if !region.device {
                        let _ = frame::free(frame);
                        self.uncharge(1);
                    }
                }
                if let Some(frame) = self.parked.remove(&page) {
                    let _ = frame::free(frame);
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
            if region.device {
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
        for page in (start..end).step_by(PAGE_SIZE) {
            let protection = self.region_at(page).map(|(_, region)| region.protection).unwrap_or(VM_PROT_NONE);
            self.apply_protection(tables, page, protection)?;
        }
        Ok(())
    }

    /// Brings one present (or parked) page in line with `protection`.
    fn apply_protection(&mut self, tables: &mut PageTables, page: u64, protection: u32) -> Result<(), VmError> {
        match (page_flags(protection), tables.translate(page).is_some()) {
            (Some(flags), true) => tables.protect(page, flags).map_err(|_| VmError::OutOfMemory),
            (Some(flags), false) => match self.parked.remove(&page) {
                Some(frame) => tables.map(page, frame, flags).map_err(|_| VmError::OutOfMemory),
                // Allocated while inaccessible: its zeroed frame comes now.
                None => self.touch(tables, page, VM_PROT_NONE).map(|_| ()),
            },
            (None, true) => {
                let frame = tables.unmap(page).map_err(|_| VmError::OutOfMemory)?;
                self.parked.insert(page, frame);
                Ok(())
            }
            (None, false) => Ok(()),
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
    /// bits), giving it a zeroed one first if it has none.
    pub fn touch(&mut self, tables: &mut PageTables, page: u64, access: u32) -> Result<Frame, VmError> {
        let (_, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        if access & !region.protection != 0 {
            return Err(VmError::ProtectionFailure);
        }
        if let Some((physical, _)) = tables.translate(page) {
            return Ok(Frame::containing(physical));
        }
        let flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        self.charge(1)?;
        let Ok(frame) = frame::allocate() else {
            self.uncharge(1);
            return Err(VmError::OutOfMemory);
        };
        let address = crate::arch::paging::direct_map_address(frame.start());
        // SAFETY: the frame was just allocated, so nothing else uses it.
        unsafe { core::ptr::write_bytes(address as *mut u8, 0, PAGE_SIZE) };
        if let Err(error) = tables.map(page, frame, flags) {
            let _ = frame::free(frame);
            self.uncharge(1);
            return Err(match error {
                MapError::OutOfMemory => VmError::OutOfMemory,
                _ => VmError::InvalidRange,
            });
        }
        Ok(frame)
    }

    /// Pages of `[start, end)` present in memory (mapped or parked).
    pub fn resident_pages(&self, tables: &PageTables, start: u64, end: u64) -> u32 {
        (start..end)
            .step_by(PAGE_SIZE)
            .filter(|&page| tables.translate(page).is_some() || self.parked.contains_key(&page))
            .count() as u32
    }

    /// Recounts the RAM pages the map holds (mapped outside device regions,
    /// or parked), for tests of the `resident` bookkeeping.
    pub fn count_resident(&self, tables: &PageTables) -> usize {
        let mapped: usize = self
            .regions
            .iter()
            .filter(|(_, region)| !region.device)
            .map(|(&start, region)| {
                (start..region.end).step_by(PAGE_SIZE).filter(|&page| tables.translate(page).is_some()).count()
            })
            .sum();
        mapped + self.parked.len()
    }

    /// Frees parked frames and takes device mappings out of the page tables
    /// (which then free every frame still mapped: the task's own RAM).
    pub fn destroy(&mut self, tables: &mut PageTables) {
        for (_, frame) in core::mem::take(&mut self.parked) {
            let _ = frame::free(frame);
        }
        self.resident = 0;
        for (&start, region) in self.regions.iter().filter(|(_, region)| region.device) {
            for page in (start..region.end).step_by(PAGE_SIZE) {
                let _ = tables.unmap(page);
            }
        }
        self.regions.clear();
    }
}

/// Allocates `[start, end)` as a new region with `protection` and gives
/// every page a zeroed frame. On failure nothing is left allocated.
pub fn allocate(vm: &mut VmMap, tables: &mut PageTables, start: u64, end: u64, protection: u32) -> Result<(), VmError> {
    if !crate::memory::can_spare((end - start) as usize)
        || vm.resident + ((end - start) / PAGE) as usize > task_page_limit()
    {
        return Err(VmError::OutOfMemory);
    }
    vm.insert(start, end, protection, VM_PROT_ALL)?;
    if page_flags(protection).is_none() {
        return Ok(()); // frames come when access is first allowed
    }
    for page in (start..end).step_by(PAGE_SIZE) {
        let result = vm.touch(tables, page, VM_PROT_NONE);
        if let Err(error) = result {
            vm.deallocate(tables, start, end);
            return Err(error);
        }
    }
    Ok(())
}
