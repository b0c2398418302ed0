//! A task's virtual memory map: regions of its user half and what backs them.
//!
//! A region is a page-aligned range with a current protection, a maximum
//! protection, an inheritance attribute (what a child made by `task_create`
//! with `TASK_CREATE_INHERIT_MEMORY` gets of it) and a backing: anonymous
//! zero-filled memory, wired RAM (DMA buffers), device registers, or a
//! memory object at an offset, mapped shared or private.
//!
//! Anonymous memory is the kernel's. Pages come lazily: a region starts
//! with no frames; the first access faults, and [`VmMap::touch`] gives an
//! anonymous page a zeroed frame (or says which object page is wanted).
//! Kernel copies to and from user memory go through the same function, so
//! a trap argument in untouched memory works as it would for the task.
//!
//! Frames can be shared (`memory::share`): an out-of-line copy or a fork
//! shares the frames of anonymous memory between maps. A shared anonymous
//! frame is never mapped writable; a write fault copies it (copy-on-write)
//! or, once it is the last owner, just makes it writable again.
//!
//! An object's pages are the object's (its cache, `memory_object`), mapped
//! into every region that maps them. In a *private* mapping
//! (`Backing::Object { private: true, .. }`, `vm_map` with `VM_FLAGS_COPY`)
//! the object's pages are mapped read-only and a write copies the page into
//! a frame of this map alone, marked `PageFlags::PRIVATE` in the page
//! table: from then on it is anonymous memory of the map (copy-on-write
//! after a fork, charged to the task), and the object never sees it.
//!
//! Pages of a region protected `VM_PROT_NONE` are taken out of the page
//! tables and kept in the map (`parked`), so their contents survive until
//! access is allowed again. Write and execute are never granted together
//! (W^X): a protection asking for both is refused.
//!
//! Accounting: `resident` counts every RAM page the map holds (mapped or
//! parked); of those, `object_pages` are object pages, which are charged
//! to the object's creator (as its cache), not to this map. A task may hold
//! at most its limit (`task_set_memory_limit`, by default half of RAM).
#![forbid(unsafe_code)]

use crate::account::{Account, AccountRef};
use crate::arch::paging::PageTables;
use crate::memory::{frame, share, Frame, MapError, PageFlags, PAGE_SIZE};
use crate::memory_object::ObjectId;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use mach_abi::{
    VM_INHERIT_COPY, VM_INHERIT_DEFAULT, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_PROT_ALL, VM_PROT_EXECUTE, VM_PROT_NONE,
    VM_PROT_WRITE,
};

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
    /// shared by an out-of-line copy or a fork).
    Anonymous,
    /// RAM whose physical frames must not change (DMA buffers a device
    /// reads and writes): never shared copy-on-write, so out-of-line sends
    /// copy it and a child never inherits it.
    Wired,
    /// Device registers: the frames are not RAM the kernel owns, so they are
    /// only ever unmapped, never freed, and their protection is fixed.
    Device,
    /// A memory object: the region's first page is the object's page at
    /// `offset`. Shared: its pages are the object's, shared by every shared
    /// mapping. Private: the object's pages are read, a write makes a copy
    /// of the map's own (`PageFlags::PRIVATE`).
    Object { object: ObjectId, offset: u64, private: bool },
}

impl Region {
    pub fn is_device(&self) -> bool {
        self.backing == Backing::Device
    }

    /// The same region cut to start at `new_start` (was `start`).
    fn cut_at(self, start: u64, new_start: u64) -> Self {
        let backing = match self.backing {
            Backing::Object { object, offset, private } => {
                Backing::Object { object, offset: offset + (new_start - start), private }
            }
            other => other,
        };
        Self { backing, ..self }
    }
}

impl Backing {
    fn object(self) -> Option<ObjectId> {
        match self {
            Backing::Object { object, .. } => Some(object),
            _ => None,
        }
    }

    /// True if a page of this backing mapped with `flags` is the map's own
    /// RAM (charged to it, copy-on-write when shared): anonymous and wired
    /// pages, and private copies in object mappings.
    fn owns(self, flags: PageFlags) -> bool {
        match self {
            Backing::Anonymous | Backing::Wired => true,
            Backing::Object { .. } => flags.contains(PageFlags::PRIVATE),
            Backing::Device => false,
        }
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
    /// An unknown protection or inheritance value, or one the region
    /// cannot take.
    InvalidValue,
    /// The task's limit, or the machine's memory, is reached.
    OutOfMemory,
    /// The page belongs to a memory object: absent, or present without the
    /// access asked for. Its object (through `memory_object`) decides;
    /// `private` says the region maps it privately.
    ObjectPage { object: ObjectId, offset: u64, private: bool },
}

impl crate::memory::user::ResolveFault for VmMap {
    fn resolve_for_kernel(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        write: bool,
    ) -> Result<(), crate::memory::user::Unresolved> {
        use crate::memory::user::Unresolved;
        let access = if write { mach_abi::VM_PROT_WRITE } else { mach_abi::VM_PROT_READ };
        match self.touch_for_kernel(tables, page, access) {
            Ok(_) => Ok(()),
            Err(VmError::NotAllocated | VmError::InvalidRange) => Err(Unresolved::Unmapped),
            Err(VmError::ObjectPage { .. }) => Err(Unresolved::NeedsPage),
            Err(VmError::OutOfMemory) => Err(Unresolved::ResourceShortage),
            Err(_) => Err(Unresolved::Protection),
        }
    }
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

/// Refuses unknown protection bits and write with execute (W^X).
pub fn check_protection(protection: u32) -> Result<(), VmError> {
    if protection & !VM_PROT_ALL != 0 {
        return Err(VmError::InvalidValue);
    }
    if protection & (VM_PROT_WRITE | VM_PROT_EXECUTE) == VM_PROT_WRITE | VM_PROT_EXECUTE {
        return Err(VmError::ProtectionFailure);
    }
    Ok(())
}

/// A page taken out of the page tables by `VM_PROT_NONE`.
#[derive(Clone, Copy, Debug)]
struct ParkedPage {
    frame: Frame,
    /// It was mapped with `PageFlags::PRIVATE` (a private copy in an
    /// object mapping).
    private: bool,
}

pub struct VmMap {
    /// Regions by start address; they never overlap.
    regions: BTreeMap<u64, Region>,
    /// Frames of pages in `VM_PROT_NONE` regions, by page address.
    parked: BTreeMap<u64, ParkedPage>,
    /// Frames of RAM this map holds (mapped or parked; device pages are not
    /// RAM and not counted).
    resident: usize,
    /// Of those, pages of memory objects (their creators pay for them).
    object_pages: usize,
    /// Pages the kernel holds for the task outside its page tables: the
    /// memory objects it created and their cached pages, its threads'
    /// kernel stacks.
    held_for_task: usize,
    /// Most pages the task may be charged for (`task_page_limit()` to
    /// begin with).
    limit: usize,
    /// The account the task belongs to (`crate::account`), none for a map
    /// that belongs to no task (a placeholder while a fork builds one).
    account: Option<AccountRef>,
    /// What the account was last told this map holds, of its own pages and
    /// of its page tables (`sync_account`).
    reported_own: usize,
    reported_tables: usize,
    /// Regions mapping each memory object (so the common case, none, is
    /// answered without a search).
    object_regions: BTreeMap<ObjectId, usize>,
    /// Objects whose last region in this map went away since the object
    /// layer last looked (`take_unmapped_objects`).
    unmapped_objects: Vec<ObjectId>,
    /// An object page a kernel copy needed and could not have without its
    /// pager: (page, access). The trap layer waits for it and runs the trap
    /// again (`vm_fault::wait_for_wanted_page`).
    wanted_page: Option<(u64, u32)>,
}

impl Default for VmMap {
    fn default() -> Self {
        Self {
            regions: BTreeMap::new(),
            parked: BTreeMap::new(),
            resident: 0,
            object_pages: 0,
            held_for_task: 0,
            limit: task_page_limit(),
            account: None,
            reported_own: 0,
            reported_tables: 0,
            object_regions: BTreeMap::new(),
            unmapped_objects: Vec::new(),
            wanted_page: None,
        }
    }
}

/// The default most pages of RAM one task may hold: half of usable memory,
/// so no task can starve the others (the kernel keeps its own reserve
/// besides).
pub fn task_page_limit() -> usize {
    (frame::usable_frames() / 2).max(1024)
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
    /// Pages of RAM the map holds (its own and object pages it maps).
    pub fn resident(&self) -> usize {
        self.resident
    }

    /// Of `resident`, the object pages (charged to their objects' creators).
    pub fn object_pages(&self) -> usize {
        self.object_pages
    }

    /// Pages the kernel holds for the task outside its page tables.
    pub fn held(&self) -> usize {
        self.held_for_task
    }

    /// Everything charged to the task: its own pages, what the kernel holds
    /// for it, and its page tables.
    pub fn charged(&self, tables: &PageTables) -> usize {
        self.resident - self.object_pages + self.held_for_task + tables.table_pages()
    }

    /// The most pages the task may be charged for.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// `task_set_memory_limit`: from now on charges past `pages` fail
    /// (what is already held stays), and the task is the first of an
    /// account of its own of that many pages (the tasks it creates from
    /// now on join it). A map in no account stays in none.
    pub fn set_limit(&mut self, pages: usize) {
        self.limit = pages;
        if let Some(old) = self.account.as_ref() {
            self.found_account(Account::new(pages, old.task_limit()));
        }
    }

    /// Makes the task the first of `account`, a new one, moving its charge
    /// there from the account it was in.
    pub fn found_account(&mut self, account: AccountRef) {
        let (own, tables) = (self.reported_own, self.reported_tables);
        self.leave_account();
        account.admit_task();
        account.recount(0, own + tables);
        (self.reported_own, self.reported_tables) = (own, tables);
        self.account = Some(account);
    }

    /// Refuses `pages` more if they would pass the task's limit, or if its
    /// account is full (page tables, which grow with the task's pages, count
    /// there).
    fn room_for(&mut self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        if self.charged(tables) + pages > self.limit() {
            return Err(VmError::OutOfMemory);
        }
        self.sync_account(tables);
        if self.account.as_ref().is_some_and(|account| !account.has_room(0)) {
            return Err(VmError::OutOfMemory);
        }
        Ok(())
    }

    /// Refuses `pages` more of kernel memory held for the task if they
    /// would pass the task's limit or its account's.
    fn room_for_held(&mut self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        self.room_for(tables, pages)?;
        if self.account.as_ref().is_some_and(|account| !account.has_room(pages)) {
            return Err(VmError::OutOfMemory);
        }
        Ok(())
    }

    /// What the account counts of the task outside its page tables: the
    /// kernel memory held for it. Its own RAM pages are bounded by its own
    /// limit only: a page shared copy-on-write counts in full for each task
    /// that maps it, so an account of forked tasks would count one frame
    /// many times (docs/resources.md).
    fn own_pages(&self) -> usize {
        self.held_for_task
    }

    /// Tells the account what the map holds now, page tables included.
    pub fn sync_account(&mut self, tables: &PageTables) {
        self.sync_own_pages();
        let now = tables.table_pages();
        if let Some(account) = &self.account {
            account.recount(self.reported_tables, now);
        }
        self.reported_tables = now;
    }

    /// Tells the account what the map holds now outside its page tables
    /// (what changes without them at hand; the tables are counted at the
    /// next charge).
    fn sync_own_pages(&mut self) {
        let now = self.own_pages();
        if let Some(account) = &self.account {
            account.recount(self.reported_own, now);
        }
        self.reported_own = now;
    }

    /// Records `pages` more pages of RAM given to the map, or refuses if
    /// that would pass the task's limit.
    pub fn charge(&mut self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        self.room_for(tables, pages)?;
        self.resident += pages;
        self.sync_own_pages();
        Ok(())
    }

    /// Like `charge`, for pages the kernel holds for the task outside its
    /// page tables (memory objects and their caches), under the same limit.
    pub fn charge_held(&mut self, tables: &PageTables, pages: usize) -> Result<(), VmError> {
        self.room_for_held(tables, pages)?;
        self.held_for_task += pages;
        self.sync_own_pages();
        Ok(())
    }

    /// Charges held pages whatever the limit: pages that already exist and
    /// change hands (an orphaned object's cache adopted by a task that maps
    /// it). Later charges fail until the task is back under its limit.
    pub fn force_charge_held(&mut self, pages: usize) {
        self.held_for_task += pages;
        self.sync_own_pages();
    }

    pub fn uncharge_held(&mut self, pages: usize) {
        self.held_for_task = self.held_for_task.saturating_sub(pages);
        self.sync_own_pages();
    }

    /// Records pages given back.
    pub fn uncharge(&mut self, pages: usize) {
        self.resident = self.resident.saturating_sub(pages);
        self.sync_own_pages();
    }

    /// The account the task belongs to.
    pub fn account(&self) -> Option<&AccountRef> {
        self.account.as_ref()
    }

    /// Moves the task into `account` (counted as one of its tasks, with
    /// everything it is charged), out of the one it was in. Refused, with
    /// nothing changed, when `account` holds as many tasks as it may.
    /// Refused too when the account cannot pay for what the task holds.
    pub fn join_account(&mut self, tables: &PageTables, account: AccountRef) -> Result<(), VmError> {
        if !account.has_room(self.own_pages() + tables.table_pages()) || !account.admit_task() {
            return Err(VmError::OutOfMemory);
        }
        self.leave_account();
        self.account = Some(account);
        self.sync_account(tables);
        Ok(())
    }

    /// Takes the task's charge and its count out of its account.
    fn leave_account(&mut self) {
        if let Some(account) = self.account.take() {
            account.recount(self.reported_own + self.reported_tables, 0);
            account.release_task();
        }
        self.reported_own = 0;
        self.reported_tables = 0;
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

    /// True if some region of this map maps `object`.
    pub fn maps_object(&self, object: ObjectId) -> bool {
        self.object_regions.contains_key(&object)
    }

    /// The objects whose last region in this map went away since the last
    /// call (the object layer frees kernel objects nobody uses any more).
    pub fn take_unmapped_objects(&mut self) -> Vec<ObjectId> {
        core::mem::take(&mut self.unmapped_objects)
    }

    pub fn has_unmapped_objects(&self) -> bool {
        !self.unmapped_objects.is_empty()
    }

    fn note_region_added(&mut self, backing: Backing) {
        if let Some(object) = backing.object() {
            *self.object_regions.entry(object).or_insert(0) += 1;
        }
    }

    fn note_region_removed(&mut self, backing: Backing) {
        let Some(object) = backing.object() else { return };
        if let Some(count) = self.object_regions.get_mut(&object) {
            *count -= 1;
            if *count == 0 {
                self.object_regions.remove(&object);
                self.unmapped_objects.push(object);
            }
        }
    }

    /// Records that a kernel copy needs `page` of an object for `access`.
    pub fn want_page(&mut self, page: u64, access: u32) {
        self.wanted_page = Some((page & !(PAGE - 1), access));
    }

    /// The page a kernel copy wanted (and forgets it).
    pub fn take_wanted_page(&mut self) -> Option<(u64, u32)> {
        self.wanted_page.take()
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
        self.note_region_added(backing);
        Ok(())
    }

    /// The first page of `[start, end)` in an object-backed region that is
    /// not mapped with the access asked for: one the kernel cannot copy to
    /// or from without its object, so a trap resolves it (waiting) first.
    pub fn absent_object_page(&self, tables: &PageTables, start: u64, end: u64, write: bool) -> Option<u64> {
        if self.object_regions.is_empty() || start >= end {
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
            inheritance: VM_INHERIT_NONE,
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
                self.note_region_added(region.backing);
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

    /// Gives up the map's hold on a page's `frame` (already out of the page
    /// tables and the parking): RAM is released, device frames only left.
    fn drop_page(&mut self, backing: Backing, frame: Frame, owned: bool) {
        if backing == Backing::Device {
            return;
        }
        share::release(frame);
        self.uncharge(1);
        if !owned {
            self.object_pages -= 1;
        }
    }

    /// Removes the regions of `[start, end)` (any part not allocated is
    /// ignored, as Mach's vm_deallocate does) and frees their pages.
    pub fn deallocate(&mut self, tables: &mut PageTables, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let starts: Vec<u64> = self.regions.range(start..end).map(|(&start, _)| start).collect();
        for region_start in starts {
            let region = self.regions.remove(&region_start).expect("listed above");
            self.note_region_removed(region.backing);
            let object = matches!(region.backing, Backing::Object { .. });
            tables.unmap_in(region_start, region.end, &mut |_, frame, flags| {
                self.drop_page(region.backing, frame, !object || region.backing.owns(flags));
            });
            let parked: Vec<u64> = self.parked.range(region_start..region.end).map(|(&page, _)| page).collect();
            for page in parked {
                if let Some(parked) = self.parked.remove(&page) {
                    let owned = region.backing.owns(parked_flags(parked));
                    self.drop_page(region.backing, parked.frame, owned);
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
        let present = tables.translate(page).map(|(physical, flags)| (Frame::containing(physical), flags));
        match (page_flags(protection), present) {
            (Some(flags), Some((frame, current))) => {
                let private = current.contains(PageFlags::PRIVATE);
                tables.protect(page, mapping_flags(flags, backing, frame, private)).map_err(|_| VmError::OutOfMemory)
            }
            (Some(flags), None) => match self.parked.remove(&page) {
                Some(parked) => tables
                    .map(page, parked.frame, mapping_flags(flags, backing, parked.frame, parked.private))
                    .map_err(|_| VmError::OutOfMemory),
                None => Ok(()),
            },
            (None, Some((_, current))) => {
                let frame = tables.unmap(page).map_err(|_| VmError::OutOfMemory)?;
                self.parked.insert(page, ParkedPage { frame, private: current.contains(PageFlags::PRIVATE) });
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// `vm_inherit` on `[start, end)`. A private mapping cannot be shared:
    /// its private pages are no object's to share (POSIX never asks for it:
    /// `MAP_PRIVATE` is copied at fork).
    pub fn inherit(&mut self, start: u64, end: u64, inheritance: u32) -> Result<(), VmError> {
        if inheritance > VM_INHERIT_NONE {
            return Err(VmError::InvalidValue);
        }
        self.update(start, end, |region| {
            if inheritance == VM_INHERIT_SHARE && matches!(region.backing, Backing::Object { private: true, .. }) {
                return Err(VmError::InvalidValue);
            }
            region.inheritance = inheritance;
            Ok(())
        })
    }

    /// The frame behind `page` if its region allows `access` (VM_PROT_*
    /// bits), after resolving what a fault on it would: an anonymous page
    /// gets a zeroed frame on first touch, a write to a shared anonymous
    /// frame copies it, a write to an object page of a private mapping
    /// copies it into the map's own. Anything else about an object page
    /// (absent, or present without the write access asked for) is
    /// `VmError::ObjectPage`: only its object knows what to do.
    pub fn touch(&mut self, tables: &mut PageTables, page: u64, access: u32) -> Result<Frame, VmError> {
        let page = page & !(PAGE - 1);
        let (start, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        if access & !region.protection != 0 {
            return Err(VmError::ProtectionFailure);
        }
        let flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        let object_page = |backing| match backing {
            Backing::Object { object, offset, private } => {
                Err(VmError::ObjectPage { object, offset: offset + (page - start), private })
            }
            _ => Err(VmError::NotAllocated),
        };
        match tables.translate(page) {
            Some((physical, mapped)) => {
                let frame = Frame::containing(physical);
                if access & VM_PROT_WRITE == 0 || mapped.contains(PageFlags::WRITABLE) {
                    return Ok(frame);
                }
                match region.backing {
                    Backing::Anonymous => self.copy_on_write(tables, page, (frame, mapped), flags),
                    Backing::Object { private: true, .. } if mapped.contains(PageFlags::PRIVATE) => {
                        self.copy_on_write(tables, page, (frame, mapped), flags | PageFlags::PRIVATE)
                    }
                    Backing::Object { private: true, .. } => self.private_copy(tables, page, (frame, mapped), flags),
                    backing => object_page(backing),
                }
            }
            None => match region.backing {
                Backing::Anonymous => self.zero_fill(tables, page, flags),
                backing => object_page(backing),
            },
        }
    }

    /// `touch` for the kernel's own copies: an object page it cannot have
    /// without the object is remembered (`take_wanted_page`), so the trap
    /// layer can wait for it and run the trap again.
    pub fn touch_for_kernel(&mut self, tables: &mut PageTables, page: u64, access: u32) -> Result<Frame, VmError> {
        let result = self.touch(tables, page, access);
        if let Err(VmError::ObjectPage { .. }) = result {
            self.want_page(page, access);
        }
        result
    }

    /// A write to an anonymous page mapped read-only because its frame is
    /// (or was) shared: the last owner just gets write access back; any
    /// other gets its own copy.
    fn copy_on_write(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        (frame, mapped): (Frame, PageFlags),
        flags: PageFlags,
    ) -> Result<Frame, VmError> {
        if !share::is_shared(frame) {
            tables.protect(page, flags).map_err(|_| VmError::OutOfMemory)?;
            return Ok(frame);
        }
        // The map holds as many pages as before: nothing more to charge.
        let copy = new_frame(Some(frame))?;
        self.replace_mapping(tables, page, (frame, mapped), copy, flags)
    }

    /// A write to an object page mapped read-only in a private mapping:
    /// the page is copied into a frame of the map's own, and the object's
    /// frame leaves this mapping.
    fn private_copy(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        object_page: (Frame, PageFlags),
        flags: PageFlags,
    ) -> Result<Frame, VmError> {
        // The page stops being the object's and becomes the map's: one more
        // page charged to it.
        self.room_for(tables, 1)?;
        let copy = new_frame(Some(object_page.0))?;
        let copy = self.replace_mapping(tables, page, object_page, copy, flags | PageFlags::PRIVATE)?;
        self.object_pages -= 1;
        Ok(copy)
    }

    /// Puts `copy` (charged) with `flags` where `old` was mapped at `page`
    /// with `old_flags`, giving up the map's hold on `old`.
    fn replace_mapping(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        (old, old_flags): (Frame, PageFlags),
        copy: Frame,
        flags: PageFlags,
    ) -> Result<Frame, VmError> {
        tables.unmap(page).map_err(|_| VmError::OutOfMemory)?;
        if tables.map(page, copy, flags).is_err() {
            // Cannot happen (the tables for `page` exist); keep the old page.
            let _ = tables.map(page, old, old_flags);
            let _ = frame::free(copy);
            return Err(VmError::OutOfMemory);
        }
        share::release(old);
        Ok(copy)
    }

    /// A new frame charged to the map (counted resident): a copy of
    /// `source`, or zeroed.
    fn new_charged_frame(&mut self, tables: &PageTables, source: Option<Frame>) -> Result<Frame, VmError> {
        self.charge(tables, 1)?;
        new_frame(source).inspect_err(|_| self.uncharge(1))
    }

    /// First touch of an anonymous page: a zeroed frame, charged to the map.
    fn zero_fill(&mut self, tables: &mut PageTables, page: u64, flags: PageFlags) -> Result<Frame, VmError> {
        let frame = self.new_charged_frame(tables, None)?;
        self.map_new(tables, page, frame, flags)?;
        Ok(frame)
    }

    /// A write to an absent page of a private mapping of an object whose
    /// page is zero (a kernel object's page never touched): a zeroed frame
    /// of the map's own, without making the object a page.
    pub fn zero_fill_private(&mut self, tables: &mut PageTables, page: u64) -> Result<(), VmError> {
        let (_, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        let flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        self.zero_fill(tables, page, flags | PageFlags::PRIVATE).map(|_| ())
    }

    /// A write to an absent page of a private mapping whose object has the
    /// page in its cache: a copy of `source` of the map's own.
    pub fn copy_in_private(&mut self, tables: &mut PageTables, page: u64, source: Frame) -> Result<(), VmError> {
        let (_, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        let flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        let copy = self.new_charged_frame(tables, Some(source))?;
        self.map_new(tables, page, copy, flags | PageFlags::PRIVATE)
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

    /// Maps a page of an object's cache (one more owner of its frame) at
    /// the absent `page`, writable only if `writable` and the region allows
    /// it. Not charged to this map (the object's creator pays for its
    /// cache), but refused when the task is at its limit, since the page
    /// may need a page table, which is.
    pub fn map_object_page(
        &mut self,
        tables: &mut PageTables,
        page: u64,
        frame: Frame,
        writable: bool,
    ) -> Result<(), VmError> {
        let (_, region) = self.region_at(page).ok_or(VmError::NotAllocated)?;
        let mut flags = page_flags(region.protection).ok_or(VmError::ProtectionFailure)?;
        if !writable || matches!(region.backing, Backing::Object { private: true, .. }) {
            flags.remove(PageFlags::WRITABLE);
        }
        self.room_for(tables, 1)?;
        share::share(frame);
        self.resident += 1;
        self.object_pages += 1;
        if let Err(error) = tables.map(page, frame, flags) {
            share::release(frame);
            self.resident -= 1;
            self.object_pages -= 1;
            return Err(match error {
                MapError::OutOfMemory => VmError::OutOfMemory,
                _ => VmError::InvalidRange,
            });
        }
        Ok(())
    }

    /// Maps read-only, as `map_object_page` would, each of `pages` (object
    /// pages resident near `page`, which a read of the private object
    /// mapping there just mapped) that lies in the same region and is not
    /// mapped yet; stops at the first it cannot map (the task's limit).
    /// Only pages in `page`'s page table are taken, so no table is made.
    pub fn map_object_pages_around(&mut self, tables: &mut PageTables, page: u64, pages: &[(u64, Frame)]) {
        const TABLE_SPAN: u64 = 512 * PAGE;
        let Some((start, region)) = self.region_at(page) else { return };
        if !matches!(region.backing, Backing::Object { private: true, .. }) {
            return;
        }
        let table = page & !(TABLE_SPAN - 1);
        for &(neighbour, frame) in pages {
            let inside = neighbour >= start && neighbour < region.end && neighbour & !(TABLE_SPAN - 1) == table;
            if !inside || tables.translate(neighbour).is_some() || self.parked.contains_key(&neighbour) {
                continue;
            }
            if self.map_object_page(tables, neighbour, frame, false).is_err() {
                return;
            }
        }
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
            self.parked.insert(page, ParkedPage { frame, private: false });
            return;
        };
        let _ = self.map_new(tables, page, frame, mapping_flags(flags, region.backing, frame, false));
    }

    /// `adopt` for a received region's frames (`(page index, frame)`, in
    /// increasing order) at the region that starts at `start`: the region
    /// is looked up once, not once per page.
    pub fn adopt_run(&mut self, tables: &mut PageTables, start: u64, frames: Vec<(u64, Frame)>) {
        let region = self.region_at(start).map(|(_, region)| region);
        for (index, frame) in frames {
            let page = start + index * PAGE;
            match region {
                Some(region) if page < region.end => match page_flags(region.protection) {
                    Some(flags) => {
                        let _ = self.map_new(tables, page, frame, mapping_flags(flags, region.backing, frame, false));
                    }
                    None => {
                        self.parked.insert(page, ParkedPage { frame, private: false });
                    }
                },
                // Not where the caller put the region: its own lookups, as
                // a page at a time would.
                _ => self.adopt(tables, page, frame),
            }
        }
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

    /// `deny_write` for a `page` known to be mapped with `flags` (the
    /// caller just translated it): one page-table walk fewer.
    pub fn deny_write_mapped(&mut self, tables: &mut PageTables, page: u64, flags: PageFlags) {
        let _ = tables.protect(page, flags.difference(PageFlags::WRITABLE));
    }

    /// The pages of `[start, end)` the map holds: mapped or parked.
    pub fn present_in(&self, tables: &PageTables, start: u64, end: u64) -> Vec<u64> {
        let mut pages: Vec<u64> = tables.mapped_in(start, end).into_iter().map(|(page, _)| page).collect();
        pages.extend(self.parked.range(start..end).map(|(&page, _)| page));
        pages
    }

    /// The object pages of `[start, end)` (a range of an object mapping)
    /// the map holds, mapped or parked: not its private copies.
    pub fn object_pages_in(&self, tables: &PageTables, start: u64, end: u64) -> Vec<u64> {
        let mut pages: Vec<u64> = tables
            .mapped_entries_in(start, end)
            .into_iter()
            .filter(|(_, _, flags)| !flags.contains(PageFlags::PRIVATE))
            .map(|(page, _, _)| page)
            .collect();
        pages.extend(self.parked.range(start..end).filter(|(_, parked)| !parked.private).map(|(&page, _)| page));
        pages
    }

    /// Takes the object page at `page` out of the map's page tables (and
    /// parking), giving up the map's hold on its frame. For flushing and
    /// destroying objects; a private copy there is left alone.
    pub fn evict(&mut self, tables: &mut PageTables, page: u64) {
        if tables.translate(page).is_some_and(|(_, flags)| flags.contains(PageFlags::PRIVATE)) {
            return;
        }
        let frame = match tables.unmap(page) {
            Ok(frame) => Some(frame),
            Err(_) => match self.parked.get(&page) {
                Some(parked) if !parked.private => self.parked.remove(&page).map(|parked| parked.frame),
                _ => None,
            },
        };
        if let Some(frame) = frame {
            self.drop_page(Backing::Anonymous, frame, false);
        }
    }

    /// Pages of `[start, end)` present in memory (mapped or parked).
    pub fn resident_pages(&self, tables: &PageTables, start: u64, end: u64) -> u32 {
        (tables.mapped_in(start, end).len() + self.parked.range(start..end).count()) as u32
    }

    /// Recounts the RAM pages the map holds (mapped outside device regions,
    /// or parked) and how many of them are object pages, for tests of the
    /// `resident` and `object_pages` bookkeeping.
    pub fn count_resident(&self, tables: &PageTables) -> (usize, usize) {
        let (mut resident, mut objects) = (0, 0);
        for (&start, region) in self.regions.iter().filter(|(_, region)| !region.is_device()) {
            for (_, _, flags) in tables.mapped_entries_in(start, region.end) {
                resident += 1;
                objects += !region.backing.owns(flags) as usize;
            }
            for (_, parked) in self.parked.range(start..region.end) {
                resident += 1;
                objects += !region.backing.owns(parked_flags(*parked)) as usize;
            }
        }
        (resident, objects)
    }

    /// Frees parked frames and takes device mappings out of the page tables
    /// (which then free every frame still mapped: the task's own RAM).
    pub fn destroy(&mut self, tables: &mut PageTables) {
        for (_, parked) in core::mem::take(&mut self.parked) {
            share::release(parked.frame);
        }
        self.resident = 0;
        self.object_pages = 0;
        self.leave_account();
        for (&start, region) in self.regions.iter().filter(|(_, region)| region.is_device()) {
            for (page, _) in tables.mapped_in(start, region.end) {
                let _ = tables.unmap(page);
            }
        }
        self.regions.clear();
        let objects: Vec<ObjectId> = core::mem::take(&mut self.object_regions).into_keys().collect();
        self.unmapped_objects.extend(objects);
    }

    /// Turns the anonymous region at `start` into a mapping of `object` (a
    /// kernel object of the region's size, made by the caller): the region
    /// is then shared memory, for `VM_INHERIT_SHARE`. Returns the region's
    /// present pages as (offset, frame): the object's cache takes each as
    /// its own (one more owner). A frame other owners hold copy-on-write
    /// (an earlier fork, an out-of-line copy) is first replaced by a copy,
    /// so their view stays theirs. Those pages are now object pages, no
    /// longer charged to this map: the caller charges the object's creator.
    pub fn convert_to_object(
        &mut self,
        tables: &mut PageTables,
        start: u64,
        object: ObjectId,
    ) -> Result<Vec<(u64, Frame)>, VmError> {
        let region = *self.regions.get(&start).ok_or(VmError::NotAllocated)?;
        if region.backing != Backing::Anonymous {
            return Err(VmError::InvalidValue);
        }
        let mapped = tables.mapped_entries_in(start, region.end);
        let shared = mapped.iter().filter(|(_, frame, _)| share::is_shared(*frame)).count()
            + self.parked.range(start..region.end).filter(|(_, parked)| share::is_shared(parked.frame)).count();
        if !crate::memory::can_spare(shared * PAGE_SIZE) {
            return Err(VmError::OutOfMemory);
        }
        self.room_for(tables, shared)?;
        let mut pages = Vec::new();
        pages
            .try_reserve_exact(mapped.len() + self.parked.range(start..region.end).count())
            .map_err(|_| VmError::OutOfMemory)?;
        for (page, mut frame, flags) in mapped {
            if share::is_shared(frame) {
                let copy = new_frame(Some(frame))?;
                frame = self.replace_mapping(tables, page, (frame, flags), copy, flags)?;
            }
            pages.push((page - start, frame));
        }
        let parked: Vec<u64> = self.parked.range(start..region.end).map(|(&page, _)| page).collect();
        for page in parked {
            let mut parked = self.parked[&page];
            if share::is_shared(parked.frame) {
                let copy = new_frame(Some(parked.frame))?;
                share::release(parked.frame);
                parked.frame = copy;
            }
            self.parked.insert(page, ParkedPage { frame: parked.frame, private: false });
            pages.push((page - start, parked.frame));
        }
        self.object_pages += pages.len();
        let backing = Backing::Object { object, offset: 0, private: false };
        self.regions.insert(start, Region { backing, ..region });
        self.note_region_added(backing);
        Ok(pages)
    }

    /// The anonymous regions `task_create` must turn into shared objects
    /// before a fork: (start, size) of each `VM_INHERIT_SHARE` one.
    pub fn anonymous_shared_regions(&self) -> Vec<(u64, u64)> {
        self.regions
            .iter()
            .filter(|(_, region)| region.backing == Backing::Anonymous && region.inheritance == VM_INHERIT_SHARE)
            .map(|(&start, region)| (start, region.end - start))
            .collect()
    }

    /// Builds `child`'s map (empty, with its own empty `child_tables`) from
    /// this one, region by region, by inheritance. `VM_INHERIT_COPY`: the
    /// child gets the region copy-on-write (an object mapping becomes a
    /// private mapping of the object); the pages this map owns gain the
    /// child as an owner and lose write access on both sides: no page is
    /// copied and no frame allocated (but the child's page tables), pages
    /// never touched stay untouched on both sides; the object pages a
    /// private object mapping has mapped (read-only) are mapped in the
    /// child too. `VM_INHERIT_SHARE`: the
    /// child maps the same object (anonymous shared regions were made
    /// objects first, `convert_to_object`); its pages come to the child on
    /// first touch. `VM_INHERIT_NONE`, device and wired regions: absent.
    ///
    /// On an error the child is half built: the caller destroys it (which
    /// gives back every frame it took). This map stays as it was, but for
    /// write access taken from its shared pages (a later write just gives
    /// it back).
    pub fn fork_into(
        &mut self,
        tables: &mut PageTables,
        child: &mut VmMap,
        child_tables: &mut PageTables,
    ) -> Result<(), VmError> {
        child.limit = self.limit;
        let regions: Vec<(u64, Region)> = self.regions.iter().map(|(&start, &region)| (start, region)).collect();
        for (start, region) in regions {
            let backing = match (region.backing, region.inheritance) {
                (Backing::Device | Backing::Wired, _) | (_, VM_INHERIT_NONE) => continue,
                (Backing::Anonymous, VM_INHERIT_COPY) => Backing::Anonymous,
                (Backing::Object { object, offset, private: false }, VM_INHERIT_SHARE) => {
                    Backing::Object { object, offset, private: false }
                }
                (Backing::Object { object, offset, .. }, _) => Backing::Object { object, offset, private: true },
                // An anonymous shared region not made an object first.
                (Backing::Anonymous, _) => return Err(VmError::InvalidValue),
            };
            child.regions.insert(start, Region { backing, ..region });
            child.note_region_added(backing);
            if region.inheritance == VM_INHERIT_COPY {
                self.share_owned_pages(tables, start, region, child, child_tables)?;
            }
        }
        child.sync_account(child_tables);
        if child.charged(child_tables) > child.limit()
            || child.account.as_ref().is_some_and(|account| !account.has_room(0))
        {
            return Err(VmError::OutOfMemory);
        }
        Ok(())
    }

    /// The copy-on-write half of `fork_into` for one region: every page
    /// this map owns there (mapped or parked) gets the child as one more
    /// owner, read-only on both sides.
    fn share_owned_pages(
        &mut self,
        tables: &mut PageTables,
        start: u64,
        region: Region,
        child: &mut VmMap,
        child_tables: &mut PageTables,
    ) -> Result<(), VmError> {
        let private = matches!(region.backing, Backing::Object { .. });
        let backing = region.backing;
        // The object's pages a private mapping has mapped (read-only: text,
        // read-only data, data not written yet) are mapped in the child too,
        // as a fault there would map them (they stay the object's, charged
        // to its creator): a forked child runs its parent's code without a
        // fault for each page of it.
        let private_mapping = matches!(backing, Backing::Object { private: true, .. });
        let mut object_pages = 0;
        let shared = tables.share_into(
            child_tables,
            start,
            region.end,
            &mut |flags| {
                if backing.owns(flags) {
                    true
                } else if private_mapping {
                    object_pages += 1;
                    true
                } else {
                    false
                }
            },
            &mut |frame| share::share(frame),
        );
        child.resident += match shared {
            Ok(pages) => pages,
            Err(MapError::OutOfMemory) => return Err(VmError::OutOfMemory),
            Err(_) => return Err(VmError::InvalidRange),
        };
        child.object_pages += object_pages;
        let parked: Vec<(u64, ParkedPage)> = self
            .parked
            .range(start..region.end)
            .filter(|(_, parked)| !private || parked.private)
            .map(|(&page, &parked)| (page, parked))
            .collect();
        for (page, parked) in parked {
            share::share(parked.frame);
            child.parked.insert(page, parked);
            child.resident += 1;
        }
        Ok(())
    }
}

/// A new frame, a copy of `source` (a frame a map holds) or zeroed, if the
/// kernel can spare it.
fn new_frame(source: Option<Frame>) -> Result<Frame, VmError> {
    if !crate::memory::can_spare(PAGE_SIZE) {
        return Err(VmError::OutOfMemory);
    }
    let frame = frame::allocate().map_err(|_| VmError::OutOfMemory)?;
    match source {
        Some(source) => frame.copy_from(source),
        None => frame.zero(),
    }
    Ok(frame)
}

/// The flags a parked page had, as far as `Backing::owns` asks.
fn parked_flags(parked: ParkedPage) -> PageFlags {
    if parked.private {
        PageFlags::PRIVATE
    } else {
        PageFlags::empty()
    }
}

/// The page-table rights for a present page: the region's, without write
/// access where a write must fault first (a shared frame of the map's own,
/// which is copied; an object page, whose pager may have write-locked it or
/// which a private mapping copies), with `PRIVATE` for a private copy.
fn mapping_flags(flags: PageFlags, backing: Backing, frame: Frame, private: bool) -> PageFlags {
    match backing {
        Backing::Anonymous if share::is_shared(frame) => flags.difference(PageFlags::WRITABLE),
        Backing::Object { .. } if private && share::is_shared(frame) => {
            (flags | PageFlags::PRIVATE).difference(PageFlags::WRITABLE)
        }
        Backing::Object { .. } if private => flags | PageFlags::PRIVATE,
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
