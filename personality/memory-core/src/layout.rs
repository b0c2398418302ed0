//! The layout of one address space and the POSIX memory calls on it.
//!
//! Every region here is exactly one region of the kernel's map (the kernel
//! does not merge regions, and neither does the layout), so the region
//! budget is the kernel's. Operations check everything before changing
//! anything: an error leaves the layout as it was and asks for no action.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::action::Action;
use crate::region::{Backing, FileKey, Region, Role};
use crate::{
    check_protection, map_flags, page_round_up, protection, remap_flags, sync_flags, Errno, MAPPING_BASE, PAGE_SIZE,
    REGIONS_MAX, UNLIMITED, USER_LOWEST, USER_TOP,
};

/// `RLIMIT_AS` and `RLIMIT_DATA`, in bytes ([`UNLIMITED`]: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub address_space: u64,
    pub data: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { address_space: UNLIMITED, data: UNLIMITED }
    }
}

/// What a successful operation asks of the server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The VM traps to make on the task, in order.
    pub actions: Vec<Action>,
    /// Files no region maps any more: the server may let their ports go.
    pub released: Vec<FileKey>,
}

/// One address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    regions: BTreeMap<u64, Region>,
    /// Kept as regions come and go: bytes mapped, bytes of data, and how
    /// many regions map each file.
    mapped: u64,
    data: u64,
    file_regions: BTreeMap<FileKey, usize>,
    break_start: u64,
    /// The break as the process last set it (not rounded).
    break_end: u64,
    limits: Limits,
}

/// How a range meets the layout: the pieces it would take away.
struct Removal {
    pieces: Vec<Region>,
    /// Region count change from splitting and removing (before adding).
    region_delta: isize,
}

impl Removal {
    fn bytes(&self) -> u64 {
        self.pieces.iter().map(Region::size).sum()
    }

    fn data_bytes(&self) -> u64 {
        self.pieces.iter().filter(|piece| piece.is_data()).map(Region::size).sum()
    }
}

impl Layout {
    /// An empty address space whose break starts at `break_start`.
    pub fn new(break_start: u64, limits: Limits) -> Layout {
        let break_start = page_round_up(break_start).unwrap_or(MAPPING_BASE).clamp(USER_LOWEST, MAPPING_BASE);
        Layout {
            regions: BTreeMap::new(),
            mapped: 0,
            data: 0,
            file_regions: BTreeMap::new(),
            break_start,
            break_end: break_start,
            limits,
        }
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    /// Bytes mapped (what `RLIMIT_AS` limits; guard pages are not mapped).
    pub fn mapped_bytes(&self) -> u64 {
        self.mapped
    }

    /// Bytes counted by `RLIMIT_DATA`.
    pub fn data_bytes(&self) -> u64 {
        self.data
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// New limits: what is mapped stays; later growth is held to them.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The break (brk(0)).
    pub fn break_value(&self) -> u64 {
        self.break_end
    }

    pub fn break_start(&self) -> u64 {
        self.break_start
    }

    /// Files some region maps.
    pub fn files(&self) -> BTreeSet<FileKey> {
        self.file_regions.keys().copied().collect()
    }

    /// Files `before` named that no region maps now.
    fn released_after(&self, before: &[FileKey]) -> Vec<FileKey> {
        before.iter().copied().filter(|file| !self.file_regions.contains_key(file)).collect()
    }

    /// Adds a region (over free space), keeping the counts.
    fn add(&mut self, region: Region) {
        self.mapped += region.size();
        if region.is_data() {
            self.data += region.size();
        }
        if let Some(file) = region.file() {
            *self.file_regions.entry(file).or_default() += 1;
        }
        self.regions.insert(region.start, region);
    }

    /// Takes the region starting at `start` out, keeping the counts.
    fn take(&mut self, start: u64) -> Option<Region> {
        let region = self.regions.remove(&start)?;
        self.mapped -= region.size();
        if region.is_data() {
            self.data -= region.size();
        }
        if let Some(file) = region.file() {
            if let Some(count) = self.file_regions.get_mut(&file) {
                *count -= 1;
                if *count == 0 {
                    self.file_regions.remove(&file);
                }
            }
        }
        Some(region)
    }

    /// The region holding `address`, if one does.
    pub fn region_at(&self, address: u64) -> Option<&Region> {
        self.regions.range(..=address).next_back().map(|(_, region)| region).filter(|region| address < region.end)
    }

    /// True if no region (nor a region's guard page) meets `[start, end)`,
    /// which lies inside user memory.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        if start < USER_LOWEST || end > USER_TOP || start >= end {
            return false;
        }
        // Regions are sorted and disjoint with their guards: only the last
        // one starting before `end` may reach into the range from below,
        // and only the first one starting at or after it may reach in with
        // its guard page.
        let below = self.regions.range(..end).next_back().map(|(_, region)| region);
        let above = self.regions.range(end..).next().map(|(_, region)| region);
        below.is_none_or(|region| region.end <= start) && above.is_none_or(|region| region.reserved_start() >= end)
    }

    fn removal(&self, start: u64, end: u64) -> Removal {
        let mut pieces = Vec::new();
        let mut region_delta = 0isize;
        let first = self.regions.range(..start).next_back().map_or(start, |(&key, _)| key);
        for region in self.regions.range(first..end).map(|(_, region)| region) {
            if region.end <= start || region.start >= end {
                continue;
            }
            let (cut_start, cut_end) = (region.start.max(start), region.end.min(end));
            pieces.push(region.piece(cut_start, cut_end));
            let keeps_below = region.start < cut_start;
            let keeps_above = cut_end < region.end;
            region_delta += match (keeps_below, keeps_above) {
                (true, true) => 1,
                (false, false) => -1,
                _ => 0,
            };
        }
        Removal { pieces, region_delta }
    }

    /// Takes `[start, end)` out of every region (splitting them), and drops
    /// the guard pages that lie in it.
    fn cut(&mut self, start: u64, end: u64) {
        let first = self.regions.range(..start).next_back().map_or(start, |(&key, _)| key);
        let touched: Vec<Region> = self
            .regions
            .range(first..)
            .map(|(_, region)| *region)
            .take_while(|region| region.reserved_start() < end)
            .filter(|region| region.end > start)
            .collect();
        for region in touched {
            self.take(region.start);
            if region.start < start {
                let below = region.piece(region.start, start.min(region.end));
                self.add(below);
            }
            if end < region.end {
                let mut above = region.piece(end.max(region.start), region.end);
                // A guard page inside the cut is gone with it.
                above.guard_below =
                    region.guard_below && above.start == region.start && region.start - PAGE_SIZE >= end;
                self.add(above);
            }
        }
    }

    /// Checks that adding `size` bytes (`data` of them data) and
    /// `new_regions` regions after `removal` stays within the limits.
    fn check_growth(&self, removal: &Removal, size: u64, data: u64, new_regions: usize) -> Result<(), Errno> {
        let mapped = self.mapped_bytes() - removal.bytes();
        if size > removal.bytes() && mapped.saturating_add(size) > self.limits.address_space {
            return Err(Errno::ENOMEM);
        }
        let data_now = self.data_bytes() - removal.data_bytes();
        if data > removal.data_bytes() && data_now.saturating_add(data) > self.limits.data {
            return Err(Errno::ENOMEM);
        }
        let count = self.regions.len() as isize + removal.region_delta + new_regions as isize;
        if count > REGIONS_MAX as isize {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// The first free place for `size` bytes (and a guard page below them
    /// if `guard`): from [`MAPPING_BASE`] up, then between the break and it.
    fn find_free(&self, size: u64, guard: bool) -> Option<u64> {
        let needed = size.checked_add(if guard { PAGE_SIZE } else { 0 })?;
        let low_start = page_round_up(self.break_end).unwrap_or(MAPPING_BASE).max(self.break_start);
        [(MAPPING_BASE, USER_TOP), (low_start, MAPPING_BASE)]
            .into_iter()
            .find_map(|(low, high)| self.first_fit(low, high, needed))
            .map(|place| if guard { place + PAGE_SIZE } else { place })
    }

    fn first_fit(&self, low: u64, high: u64, needed: u64) -> Option<u64> {
        let mut candidate = low;
        let first = self.regions.range(..low).next_back().map_or(low, |(&key, _)| key);
        for region in self.regions.range(first..).map(|(_, region)| region) {
            if region.end <= candidate {
                continue;
            }
            if region.reserved_start() >= candidate.checked_add(needed)? {
                break;
            }
            candidate = region.end;
            if candidate >= high {
                return None;
            }
        }
        (candidate.checked_add(needed)? <= high).then_some(candidate)
    }

    /// Adds `region` over `[region.start, region.end)` (whatever is there
    /// goes), with `creation` the actions that make it in the kernel.
    fn install(&mut self, region: Region, creation: Vec<Action>) -> Result<Outcome, Errno> {
        let removal = self.removal(region.start, region.end);
        let data = if region.is_data() { region.size() } else { 0 };
        self.check_growth(&removal, region.size(), data, 1)?;
        Ok(self.install_checked(region, creation))
    }

    /// [`Self::install`] once the limits were checked.
    fn install_checked(&mut self, region: Region, creation: Vec<Action>) -> Outcome {
        let removal = self.removal(region.start, region.end);
        let files: Vec<FileKey> = self.file_regions.keys().copied().collect();
        let mut actions = Vec::new();
        if !removal.pieces.is_empty() {
            actions.push(Action::Deallocate { address: region.start, size: region.size() });
        }
        actions.extend(creation);
        self.cut(region.start, region.end);
        if region.guard_below {
            // Nothing may sit in the guard page (placement and MAP_FIXED
            // only ask for one where it is free).
            debug_assert!(self.is_free(region.start - PAGE_SIZE, region.start));
        }
        self.add(region);
        Outcome { actions, released: self.released_after(&files) }
    }

    /// Where a new mapping of `size` bytes goes: `MAP_FIXED` at `hint`,
    /// else the hint when free, else the first free place. Returns the
    /// address and whether a guard page fits below it.
    fn place(&self, hint: u64, size: u64, flags: u32, stack: bool) -> Result<(u64, bool), Errno> {
        let fixed = flags & (map_flags::FIXED | map_flags::FIXED_NOREPLACE) != 0;
        if fixed {
            if !hint.is_multiple_of(PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            let end = hint.checked_add(size).ok_or(Errno::ENOMEM)?;
            if hint < USER_LOWEST || end > USER_TOP {
                return Err(Errno::ENOMEM);
            }
            if flags & map_flags::FIXED_NOREPLACE != 0 && !self.removal(hint, end).pieces.is_empty() {
                return Err(Errno::EEXIST);
            }
            let guard = stack && hint - PAGE_SIZE >= USER_LOWEST && self.is_free(hint - PAGE_SIZE, hint);
            return Ok((hint, guard));
        }
        let hint = hint & !(PAGE_SIZE - 1);
        if hint >= USER_LOWEST + if stack { PAGE_SIZE } else { 0 } {
            if let Some(end) = hint.checked_add(size) {
                let low = if stack { hint - PAGE_SIZE } else { hint };
                if end <= USER_TOP && self.is_free(low, end) {
                    return Ok((hint, stack));
                }
            }
        }
        self.find_free(size, stack).map(|address| (address, stack)).ok_or(Errno::ENOMEM)
    }

    /// Checks `mmap`'s length, protection and mapping type; the length in
    /// whole pages and whether the mapping is shared.
    fn check_mapping(length: u64, protection: u32, flags: u32) -> Result<(u64, u32, bool), Errno> {
        if length == 0 {
            return Err(Errno::EINVAL);
        }
        let size = page_round_up(length).ok_or(Errno::ENOMEM)?;
        let protection = check_protection(protection)?;
        let shared = match flags & map_flags::TYPE {
            map_flags::SHARED | map_flags::SHARED_VALIDATE => true,
            map_flags::PRIVATE => false,
            _ => return Err(Errno::EINVAL),
        };
        if flags & map_flags::HUGETLB != 0 {
            return Err(Errno::EINVAL);
        }
        Ok((size, protection, shared))
    }

    /// `mmap` of anonymous memory. Answers the address.
    pub fn allocate(&mut self, hint: u64, length: u64, protection: u32, flags: u32) -> Result<(u64, Outcome), Errno> {
        let (size, protection, shared) = Self::check_mapping(length, protection, flags)?;
        if flags & map_flags::ANONYMOUS == 0 {
            return Err(Errno::EINVAL);
        }
        let stack = flags & (map_flags::STACK | map_flags::GROWSDOWN) != 0;
        let (address, guard) = self.place(hint, size, flags, stack)?;
        let region = Region {
            start: address,
            end: address + size,
            protection,
            maximum: protection::ALL,
            backing: Backing::Anonymous,
            shared,
            role: Role::Mapping,
            guard_below: guard,
        };
        let outcome = self.install(region, anonymous_creation(&region))?;
        Ok((address, outcome))
    }

    /// `mmap` of a file (`file` the server's key for it), open for reading
    /// (`readable`) and perhaps writing (`writable`). Answers the address.
    #[allow(clippy::too_many_arguments)] // mmap's own arguments, and the open file's two modes
    pub fn map_file(
        &mut self,
        file: FileKey,
        offset: u64,
        hint: u64,
        length: u64,
        protection: u32,
        flags: u32,
        readable: bool,
        writable: bool,
    ) -> Result<(u64, Outcome), Errno> {
        let (size, protection, shared) = Self::check_mapping(length, protection, flags)?;
        if flags & map_flags::ANONYMOUS != 0 || !offset.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        offset.checked_add(size).ok_or(Errno::EINVAL)?;
        if !readable || (shared && protection & protection::WRITE != 0 && !writable) {
            return Err(Errno::EACCES);
        }
        let maximum = if shared && !writable { protection::READ | protection::EXECUTE } else { protection::ALL };
        let stack = flags & (map_flags::STACK | map_flags::GROWSDOWN) != 0;
        let (address, guard) = self.place(hint, size, flags, stack)?;
        let region = Region {
            start: address,
            end: address + size,
            protection,
            maximum,
            backing: Backing::File { file, offset, private: !shared },
            shared,
            role: Role::Mapping,
            guard_below: guard,
        };
        let outcome = self.install(region, file_creation(&region))?;
        Ok((address, outcome))
    }

    /// `munmap`.
    pub fn deallocate(&mut self, address: u64, length: u64) -> Result<Outcome, Errno> {
        if !address.is_multiple_of(PAGE_SIZE) || length == 0 {
            return Err(Errno::EINVAL);
        }
        let size = page_round_up(length).ok_or(Errno::EINVAL)?;
        let end = address.checked_add(size).ok_or(Errno::EINVAL)?;
        if end > USER_TOP {
            return Err(Errno::EINVAL);
        }
        let files: Vec<FileKey> = self.file_regions.keys().copied().collect();
        let removal = self.removal(address, end);
        let mut actions = Vec::new();
        if !removal.pieces.is_empty() {
            actions.push(Action::Deallocate { address, size });
        }
        self.cut(address, end);
        Ok(Outcome { actions, released: self.released_after(&files) })
    }

    /// The regions covering `[start, end)` without a gap, or `ENOMEM`.
    fn covering(&self, start: u64, end: u64) -> Result<Vec<Region>, Errno> {
        let removal = self.removal(start, end);
        let mut at = start;
        for piece in &removal.pieces {
            if piece.start != at {
                return Err(Errno::ENOMEM);
            }
            at = piece.end;
        }
        if at != end {
            return Err(Errno::ENOMEM);
        }
        Ok(removal.pieces)
    }

    fn split_at(&mut self, address: u64) {
        if let Some(region) = self.region_at(address).copied() {
            if region.start < address {
                self.take(region.start);
                self.add(region.piece(region.start, address));
                self.add(region.piece(address, region.end));
            }
        }
    }

    /// `mprotect`.
    pub fn protect(&mut self, address: u64, length: u64, protection: u32) -> Result<Outcome, Errno> {
        if !address.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let protection = check_protection(protection)?;
        if length == 0 {
            return Ok(Outcome::default());
        }
        let size = page_round_up(length).ok_or(Errno::ENOMEM)?;
        let end = address.checked_add(size).ok_or(Errno::ENOMEM)?;
        let pieces = self.covering(address, end)?;
        if pieces.iter().any(|piece| protection & !piece.maximum != 0) {
            return Err(Errno::EACCES);
        }
        let data_gained: u64 = pieces
            .iter()
            .filter(|piece| !piece.is_data() && Region { protection, ..**piece }.is_data())
            .map(Region::size)
            .sum();
        if data_gained > 0 && self.data_bytes().saturating_add(data_gained) > self.limits.data {
            return Err(Errno::ENOMEM);
        }
        let splits = usize::from(self.region_at(address).is_some_and(|region| region.start < address))
            + usize::from(self.region_at(end).is_some_and(|region| region.start < end));
        if self.regions.len() + splits > REGIONS_MAX {
            return Err(Errno::ENOMEM);
        }
        self.split_at(address);
        self.split_at(end);
        let starts: Vec<u64> = self.regions.range(address..end).map(|(&start, _)| start).collect();
        for start in starts {
            if let Some(region) = self.take(start) {
                self.add(Region { protection, ..region });
            }
        }
        Ok(Outcome { actions: alloc::vec![Action::Protect { address, size, protection }], released: Vec::new() })
    }

    /// `brk`: moves the break to `address` (0: asks). Answers the break,
    /// the old one if it cannot move (below its start, into something
    /// mapped, past a limit).
    pub fn set_break(&mut self, address: u64) -> (u64, Outcome) {
        let unchanged = (self.break_end, Outcome::default());
        if address == 0 || address < self.break_start || address > MAPPING_BASE {
            return unchanged;
        }
        let Some(new_end) = page_round_up(address) else { return unchanged };
        let Some(old_end) = page_round_up(self.break_end) else { return unchanged };
        if new_end > old_end {
            let size = new_end - old_end;
            if !self.is_free(old_end, new_end) {
                return unchanged;
            }
            let region = Region {
                start: old_end,
                end: new_end,
                protection: protection::READ | protection::WRITE,
                maximum: protection::ALL,
                backing: Backing::Anonymous,
                shared: false,
                role: Role::Break,
                guard_below: false,
            };
            match self.install(region, alloc::vec![Action::Allocate { address: old_end, size }]) {
                Ok(outcome) => {
                    self.break_end = address;
                    (address, outcome)
                }
                Err(_) => unchanged,
            }
        } else {
            let outcome = if new_end < old_end {
                match self.deallocate(new_end, old_end - new_end) {
                    Ok(outcome) => outcome,
                    Err(_) => return unchanged,
                }
            } else {
                Outcome::default()
            };
            self.break_end = address;
            (address, outcome)
        }
    }

    /// `mremap`. Answers the (new) address.
    pub fn remap(
        &mut self,
        address: u64,
        old_length: u64,
        new_length: u64,
        flags: u32,
        new_address: u64,
    ) -> Result<(u64, Outcome), Errno> {
        if !address.is_multiple_of(PAGE_SIZE)
            || new_length == 0
            || flags & !(remap_flags::MAYMOVE | remap_flags::FIXED) != 0
            || (flags & remap_flags::FIXED != 0 && flags & remap_flags::MAYMOVE == 0)
        {
            return Err(Errno::EINVAL);
        }
        let old_size = page_round_up(old_length).ok_or(Errno::EINVAL)?;
        let new_size = page_round_up(new_length).ok_or(Errno::ENOMEM)?;
        if old_size == 0 {
            // A length of 0 (duplicating a shared mapping) is not supported.
            return Err(Errno::EINVAL);
        }
        let old_end = address.checked_add(old_size).ok_or(Errno::EFAULT)?;
        let region = self.mapping_of(address, old_end)?;
        let fixed = flags & remap_flags::FIXED != 0;
        if !fixed && new_size <= old_size {
            let outcome = if new_size < old_size {
                self.deallocate(address + new_size, old_size - new_size)?
            } else {
                Outcome::default()
            };
            return Ok((address, outcome));
        }
        // Growing in place: the range must end its mapping and the room
        // above it be free.
        if !fixed && self.region_at(old_end - 1).is_some_and(|last| last.end == old_end) {
            let grow_end = address.checked_add(new_size).ok_or(Errno::ENOMEM)?;
            if self.is_free(old_end, grow_end) {
                let added = grow_end - old_end;
                let backing = match region.backing {
                    Backing::Anonymous => Backing::Anonymous,
                    Backing::File { file, offset, private } => {
                        let offset = offset + (old_end - region.start);
                        offset.checked_add(added).ok_or(Errno::EINVAL)?;
                        Backing::File { file, offset, private }
                    }
                };
                let tail = Region { start: old_end, end: grow_end, backing, guard_below: false, ..region };
                debug_assert!(region.end == old_end);
                let creation = creation_of(&tail);
                let outcome = self.install(tail, creation)?;
                return Ok((address, outcome));
            }
        }
        if flags & remap_flags::MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        self.move_mapping(&region, address, old_size, new_size, fixed.then_some(new_address))
    }

    /// The one mapping `[start, end)` lies in, as a region covering exactly
    /// that range: it may span several regions (a mapping grown in place by
    /// `mremap` is two) if they continue each other (same backing, file
    /// offsets following on, same protection and sharing). `EFAULT`
    /// otherwise.
    fn mapping_of(&self, start: u64, end: u64) -> Result<Region, Errno> {
        let pieces = self.covering(start, end).map_err(|_| Errno::EFAULT)?;
        let first = *pieces.first().ok_or(Errno::EFAULT)?;
        for piece in &pieces[1..] {
            let continues = match (first.backing, piece.backing) {
                (Backing::Anonymous, Backing::Anonymous) => true,
                (Backing::File { file, offset, private }, Backing::File { file: other, offset: at, private: also }) => {
                    file == other && private == also && at == offset + (piece.start - first.start)
                }
                _ => false,
            };
            if !continues || piece.protection != first.protection || piece.shared != first.shared {
                return Err(Errno::EFAULT);
            }
        }
        Ok(Region { end, guard_below: false, ..first })
    }

    /// `mremap` that moves: the new mapping is made, the pages that are the
    /// process's own are copied over, the old range goes.
    fn move_mapping(
        &mut self,
        region: &Region,
        address: u64,
        old_size: u64,
        new_size: u64,
        fixed: Option<u64>,
    ) -> Result<(u64, Outcome), Errno> {
        let old_end = address + old_size;
        let place_flags = if fixed.is_some() { map_flags::FIXED } else { 0 };
        let (target, _) = self.place(fixed.unwrap_or(0), new_size, place_flags, false)?;
        let target_end = target + new_size;
        if target < old_end && address < target_end {
            return Err(Errno::EINVAL);
        }
        let source = region.piece(address, old_end);
        let backing = match source.backing {
            Backing::Anonymous => Backing::Anonymous,
            Backing::File { file, offset, private } => {
                offset.checked_add(new_size).ok_or(Errno::EINVAL)?;
                Backing::File { file, offset, private }
            }
        };
        let moved = Region { start: target, end: target_end, backing, guard_below: false, ..source };
        // The copy needs write access on the new range for a moment.
        let copies = !matches!(source.backing, Backing::File { private: false, .. });
        // Limits: the old range goes, the new one comes.
        let mut removal = self.removal(target, target_end);
        removal.pieces.push(source);
        let source_pieces = self.removal(address, old_end);
        removal.region_delta += source_pieces.region_delta;
        let data = if moved.is_data() { moved.size() } else { 0 };
        self.check_growth(&removal, moved.size(), data, 1)?;
        let mut creation = match moved.backing {
            Backing::Anonymous => alloc::vec![Action::Allocate { address: target, size: new_size }],
            Backing::File { file, offset, private } => {
                let protection = if copies { protection::READ | protection::WRITE } else { visible(moved.protection) };
                alloc::vec![Action::Map { address: target, size: new_size, file, offset, private, protection }]
            }
        };
        if copies {
            if source.protection & protection::READ == 0 {
                // The old range goes right after: it may be read first.
                creation.push(Action::Protect { address, size: old_size, protection: protection::READ });
            }
            creation.push(Action::Copy { from: address, to: target, size: old_size.min(new_size) });
        }
        if (copies || moved.protection == protection::NONE) && moved.protection != protection::READ | protection::WRITE
        {
            creation.push(Action::Protect { address: target, size: new_size, protection: moved.protection });
        }
        if moved.shared {
            creation.push(Action::Inherit { address: target, size: new_size, share: true });
        }
        let files: Vec<FileKey> = self.file_regions.keys().copied().collect();
        let mut outcome = self.install_checked(moved, creation);
        outcome.actions.push(Action::Deallocate { address, size: old_size });
        self.cut(address, old_end);
        outcome.released = self.released_after(&files);
        Ok((target, outcome))
    }

    /// `msync`: the shared file mappings of the range, as `(file, offset,
    /// length)` to write back.
    pub fn sync(&self, address: u64, length: u64, flags: u32) -> Result<Vec<(FileKey, u64, u64)>, Errno> {
        if !address.is_multiple_of(PAGE_SIZE)
            || flags & !(sync_flags::ASYNC | sync_flags::INVALIDATE | sync_flags::SYNC) != 0
            || (flags & sync_flags::ASYNC != 0 && flags & sync_flags::SYNC != 0)
        {
            return Err(Errno::EINVAL);
        }
        if length == 0 {
            return Ok(Vec::new());
        }
        let size = page_round_up(length).ok_or(Errno::ENOMEM)?;
        let end = address.checked_add(size).ok_or(Errno::ENOMEM)?;
        let pieces = self.covering(address, end)?;
        Ok(pieces
            .iter()
            .filter_map(|piece| match piece.backing {
                Backing::File { file, offset, private: false } => Some((file, offset, piece.size())),
                _ => None,
            })
            .collect())
    }

    /// Adds regions made by exec (no checks: [`crate::image::plan`] made
    /// them disjoint, in range, within the limits).
    pub(crate) fn insert_planned(&mut self, region: Region) {
        self.add(region);
    }

    /// Checks the layout's invariants (the tests call it after every step):
    /// regions page aligned, non-empty, inside user memory, disjoint with
    /// their guard pages, within the region budget, protections within
    /// their maximum and never write with execute.
    pub fn check(&self) -> Result<(), &'static str> {
        let mut previous_end = 0;
        for (&start, region) in &self.regions {
            if start != region.start {
                return Err("a region is filed under another address");
            }
            if !region.start.is_multiple_of(PAGE_SIZE)
                || !region.end.is_multiple_of(PAGE_SIZE)
                || region.start >= region.end
            {
                return Err("a region is not whole pages");
            }
            if region.reserved_start() < USER_LOWEST || region.end > USER_TOP {
                return Err("a region is outside user memory");
            }
            if region.reserved_start() < previous_end {
                return Err("regions (or a guard page) overlap");
            }
            if region.protection & !region.maximum != 0 {
                return Err("a protection exceeds its maximum");
            }
            if region.protection & protection::WRITE != 0 && region.protection & protection::EXECUTE != 0 {
                return Err("a region is writable and executable");
            }
            if let Backing::File { private, .. } = region.backing {
                if private == region.shared {
                    return Err("a file region's sharing disagrees with its inheritance");
                }
            }
            previous_end = region.end;
        }
        if self.regions.len() > REGIONS_MAX {
            return Err("too many regions");
        }
        if self.break_end < self.break_start {
            return Err("the break is below its start");
        }
        let mapped: u64 = self.regions.values().map(Region::size).sum();
        let data: u64 = self.regions.values().filter(|region| region.is_data()).map(Region::size).sum();
        let files: BTreeSet<FileKey> = self.regions.values().filter_map(Region::file).collect();
        if mapped != self.mapped || data != self.data || files != self.files() {
            return Err("the kept counts disagree with the regions");
        }
        for (file, count) in &self.file_regions {
            if self.regions.values().filter(|region| region.file() == Some(*file)).count() != *count {
                return Err("a file's region count is wrong");
            }
        }
        Ok(())
    }
}

/// The protection a region is first mapped with: `vm_map` cannot map
/// `PROT_NONE`, so such a mapping is mapped read-only and protected after.
fn visible(protection: u32) -> u32 {
    if protection == protection::NONE {
        protection::READ
    } else {
        protection
    }
}

fn anonymous_creation(region: &Region) -> Vec<Action> {
    let (address, size) = (region.start, region.size());
    let mut actions = alloc::vec![Action::Allocate { address, size }];
    if region.protection != protection::READ | protection::WRITE {
        actions.push(Action::Protect { address, size, protection: region.protection });
    }
    if region.shared {
        actions.push(Action::Inherit { address, size, share: true });
    }
    actions
}

fn file_creation(region: &Region) -> Vec<Action> {
    let (address, size) = (region.start, region.size());
    let Backing::File { file, offset, private } = region.backing else { return anonymous_creation(region) };
    let mut actions =
        alloc::vec![Action::Map { address, size, file, offset, private, protection: visible(region.protection) }];
    if region.protection == protection::NONE {
        actions.push(Action::Protect { address, size, protection: protection::NONE });
    }
    if region.shared {
        actions.push(Action::Inherit { address, size, share: true });
    }
    actions
}

fn creation_of(region: &Region) -> Vec<Action> {
    match region.backing {
        Backing::Anonymous => anonymous_creation(region),
        Backing::File { .. } => file_creation(region),
    }
}
