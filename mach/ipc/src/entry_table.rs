//! A space's entries, by name: the table behind every right lookup.
//!
//! Names are `index << 8 | generation`. The indices the space hands out
//! itself stay below `max_entries + 2` (a full space refuses, and a freed
//! index is reused before a new one is taken), so those live in a table
//! indexed by the index: a lookup is two bounds checks and a generation
//! compare, and naming or freeing a right (each RPC names a reply right and
//! frees it again) touches no tree and allocates nothing once the table has
//! grown. Freed indices are reused last freed first (a stack, as xnu's and
//! seL4's free lists): the reply right an RPC names and frees again takes
//! the same index every time, with a push and a pop instead of a heap's
//! sifting.
//! The table is a list of fixed chunks of [`CHUNK`] slots, so a space of
//! 65,536 names never asks for one large contiguous block nor copies its
//! entries when it grows. Names a task chooses itself (`port_insert_right`)
//! may have any index; those above the dense part go to a B-tree.
//!
//! One index holds one name at a time, whatever its generation (xnu's rule):
//! [`EntryTable::index_taken_by_other`] lets callers refuse a chosen name
//! whose index is in use under another generation.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use mach_abi::{port_generation, port_index, port_make, port_name_is_valid, PortName, MACH_PORT_GENERATIONS};

use crate::space::Entry;

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// The generation of the live name, or of the next name when free.
    generation: u32,
    entry: Option<Entry>,
    /// In `free` (so it is pushed at most once).
    queued_free: bool,
}

/// Slots per chunk of the dense table: a power of two (an index splits
/// with a shift and a mask; every right lookup does it), 3 KiB.
const CHUNK: usize = 128;

#[derive(Debug)]
pub(crate) struct EntryTable {
    /// Index `i` at `dense[i / CHUNK][i % CHUNK]` for `i < dense_limit`
    /// (index 0 is never a name). Each chunk is its own allocation on
    /// purpose: growing the table never moves or copies the entries there.
    #[allow(clippy::vec_box)]
    dense: Vec<Box<[Slot; CHUNK]>>,
    dense_limit: u32,
    /// Names with an index at or above `dense_limit` (chosen by the task).
    far: BTreeMap<PortName, Entry>,
    /// Freed dense indices below `next_index`, the last freed on top. An
    /// index is here at most once (`Slot::queued_free`); one a chosen name
    /// took meanwhile is skipped when popped.
    free: Vec<u32>,
    /// The lowest index never handed out.
    next_index: u32,
    /// One past the highest dense index ever holding a name: iterating the
    /// table stops there, not at the end of the last chunk.
    high_water: u32,
    len: usize,
}

impl EntryTable {
    /// A table for a space of at most `max_entries` names.
    pub(crate) fn new(max_entries: usize) -> Self {
        let dense_limit =
            u32::try_from(max_entries.saturating_add(2)).unwrap_or(u32::MAX).min(mach_abi::MACH_PORT_INDEX_MAX + 1);
        Self {
            dense: Vec::new(),
            dense_limit,
            far: BTreeMap::new(),
            free: Vec::new(),
            next_index: 1,
            high_water: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, name: PortName) -> Option<&Slot> {
        let index = port_index(name);
        if index >= self.dense_limit {
            return None;
        }
        let index = index as usize;
        self.dense.get(index / CHUNK).map(|chunk| &chunk[index % CHUNK])
    }

    fn existing_slot_mut(&mut self, index: u32) -> Option<&mut Slot> {
        let index = index as usize;
        self.dense.get_mut(index / CHUNK).map(|chunk| &mut chunk[index % CHUNK])
    }

    pub(crate) fn get(&self, name: &PortName) -> Option<&Entry> {
        let name = *name;
        if port_index(name) >= self.dense_limit {
            return self.far.get(&name);
        }
        let slot = self.slot(name)?;
        slot.entry.as_ref().filter(|_| slot.generation == port_generation(name))
    }

    pub(crate) fn get_mut(&mut self, name: &PortName) -> Option<&mut Entry> {
        let name = *name;
        let index = port_index(name);
        if index >= self.dense_limit {
            return self.far.get_mut(&name);
        }
        let slot = self.existing_slot_mut(index)?;
        if slot.generation != port_generation(name) {
            return None;
        }
        slot.entry.as_mut()
    }

    /// True if `name`'s index holds a live name of another generation.
    pub(crate) fn index_taken_by_other(&self, name: PortName) -> bool {
        let index = port_index(name);
        if index >= self.dense_limit {
            let same_index = port_make(index, 0)..=port_make(index, 0xff);
            return self.far.range(same_index).any(|(&other, _)| other != name);
        }
        self.slot(name).is_some_and(|slot| slot.entry.is_some() && slot.generation != port_generation(name))
    }

    /// Every name with its entry, in ascending name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (PortName, &Entry)> {
        let dense =
            self.dense.iter().flat_map(|chunk| chunk.iter()).take(self.high_water as usize).enumerate().filter_map(
                |(index, slot)| slot.entry.as_ref().map(|entry| (port_make(index as u32, slot.generation), entry)),
            );
        dense.chain(self.far.iter().map(|(&name, entry)| (name, entry)))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = PortName> + '_ {
        self.iter().map(|(name, _)| name)
    }

    fn dense_slot_mut(&mut self, index: u32) -> &mut Slot {
        let index = index as usize;
        while self.dense.len() <= index / CHUNK {
            // Built in place on the heap (not on the stack and copied).
            let chunk: Box<[Slot]> = alloc::vec![Slot::default(); CHUNK].into_boxed_slice();
            self.dense.push(chunk.try_into().expect("a chunk has CHUNK slots"));
        }
        &mut self.dense[index / CHUNK][index % CHUNK]
    }

    /// A fresh name (the last freed index, with its next generation, else
    /// a new index); the caller checks the space's limit first. `None` if
    /// no index is left.
    pub(crate) fn allocate_name(&mut self) -> Option<PortName> {
        while let Some(index) = self.free.pop() {
            let slot = self.dense_slot_mut(index);
            slot.queued_free = false;
            let name = port_make(index, slot.generation);
            if slot.entry.is_none() && port_name_is_valid(name) {
                return Some(name);
            }
        }
        while self.next_index < self.dense_limit {
            let index = self.next_index;
            self.next_index += 1;
            let slot = self.dense_slot_mut(index);
            let name = port_make(index, slot.generation);
            if slot.entry.is_none() && port_name_is_valid(name) {
                return Some(name);
            }
        }
        None
    }

    /// Enters `name` (new, or replacing its own entry). The caller has made
    /// sure the index is not taken under another generation.
    pub(crate) fn insert(&mut self, name: PortName, entry: Entry) {
        let index = port_index(name);
        if index >= self.dense_limit {
            if self.far.insert(name, entry).is_none() {
                self.len += 1;
            }
            return;
        }
        self.high_water = self.high_water.max(index + 1);
        let slot = self.dense_slot_mut(index);
        debug_assert!(slot.entry.is_none() || slot.generation == port_generation(name), "index taken");
        let new = slot.entry.is_none();
        slot.generation = port_generation(name);
        slot.entry = Some(entry);
        self.len += new as usize;
    }

    /// Removes `name`; its index comes back with the next generation.
    pub(crate) fn remove(&mut self, name: PortName) -> Option<Entry> {
        let index = port_index(name);
        if index >= self.dense_limit {
            let entry = self.far.remove(&name)?;
            self.len -= 1;
            return Some(entry);
        }
        let next_index = self.next_index;
        let slot = self.existing_slot_mut(index)?;
        if slot.generation != port_generation(name) {
            return None;
        }
        let entry = slot.entry.take()?;
        slot.generation = (port_generation(name) + 1) % MACH_PORT_GENERATIONS;
        let queue = index < next_index && !slot.queued_free;
        slot.queued_free |= queue;
        self.len -= 1;
        if queue {
            self.free.push(index);
        }
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::right::EntryRights;

    fn entry(references: u32) -> Entry {
        Entry { rights: EntryRights::DeadName { references } }
    }

    #[test]
    fn names_come_new_index_first_and_freed_indices_return_with_the_next_generation() {
        let mut table = EntryTable::new(16);
        let first = table.allocate_name().expect("a name");
        table.insert(first, entry(1));
        let second = table.allocate_name().expect("a name");
        table.insert(second, entry(2));
        assert_eq!((port_index(first), port_index(second)), (1, 2));
        assert_eq!(table.remove(first).map(|entry| entry.rights), Some(EntryRights::DeadName { references: 1 }));
        assert_eq!(table.get(&first), None);
        let again = table.allocate_name().expect("a name");
        assert_eq!((port_index(again), port_generation(again)), (1, 1));
        assert!(!table.index_taken_by_other(first));
        table.insert(again, entry(3));
        assert!(table.index_taken_by_other(first));
        assert_eq!(table.keys().collect::<Vec<_>>(), [again, second]);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn chosen_names_far_above_the_dense_part_work_and_order_last() {
        let mut table = EntryTable::new(4);
        let far = port_make(0x00ab_cdef, 3);
        table.insert(far, entry(1));
        let near = table.allocate_name().expect("a name");
        table.insert(near, entry(2));
        assert!(table.get(&far).is_some());
        assert_eq!(table.keys().collect::<Vec<_>>(), [near, far]);
        assert!(table.remove(far).is_some());
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_table_of_n_names_never_hands_out_an_index_above_n_plus_one() {
        let mut table = EntryTable::new(8);
        let mut names = Vec::new();
        for round in 0..50u32 {
            while table.len() < 8 {
                let name = table.allocate_name().expect("room");
                assert!(port_index(name) <= 9, "index {} in round {round}", port_index(name));
                table.insert(name, entry(1));
                names.push(name);
            }
            let victim = names.remove((round as usize * 7) % names.len());
            table.remove(victim);
        }
    }

    #[test]
    fn the_last_freed_index_comes_back_first() {
        let mut table = EntryTable::new(16);
        let names: Vec<PortName> = (0..4)
            .map(|references| {
                let name = table.allocate_name().expect("a name");
                table.insert(name, entry(references));
                name
            })
            .collect();
        table.remove(names[0]);
        table.remove(names[2]);
        let again = table.allocate_name().expect("a name");
        assert_eq!((port_index(again), port_generation(again)), (port_index(names[2]), 1));
        table.insert(again, entry(9));
        assert_eq!(port_index(table.allocate_name().expect("a name")), port_index(names[0]));
    }

    #[test]
    fn a_freed_index_a_chosen_name_took_is_skipped_and_freed_once() {
        let mut table = EntryTable::new(16);
        let first = table.allocate_name().expect("a name");
        table.insert(first, entry(1));
        let second = table.allocate_name().expect("a name");
        table.insert(second, entry(2));
        table.remove(first);
        table.remove(second);
        // The task chooses a name at the freed index 2, under generation 7.
        let chosen = port_make(port_index(second), 7);
        assert!(!table.index_taken_by_other(chosen));
        table.insert(chosen, entry(3));
        let fresh = table.allocate_name().expect("a name");
        assert_eq!(port_index(fresh), port_index(first), "index 2 is taken: skipped");
        table.insert(fresh, entry(4));
        table.remove(chosen);
        let reused = table.allocate_name().expect("a name");
        assert_eq!((port_index(reused), port_generation(reused)), (port_index(second), 8));
        table.insert(reused, entry(5));
        assert_eq!(port_index(table.allocate_name().expect("a name")), 3, "index 2 was on the stack once");
    }

    /// What the table must do, checked against plain sets of names.
    #[derive(Clone, Debug)]
    enum Operation {
        Allocate,
        /// Removes the live name at this position (modulo their count).
        Remove(usize),
        /// A name the task chooses: this index (modulo 24) and generation.
        Choose(u32, u32),
    }

    fn operation() -> impl proptest::strategy::Strategy<Value = Operation> {
        use proptest::prelude::*;
        prop_oneof![
            3 => Just(Operation::Allocate),
            2 => any::<usize>().prop_map(Operation::Remove),
            1 => (1u32..24, 0u32..MACH_PORT_GENERATIONS).prop_map(|(index, generation)| Operation::Choose(index, generation)),
        ]
    }

    proptest::proptest! {
        #[test]
        fn names_stay_unique_by_index_reuse_freed_indices_last_first_and_stay_dense(
            operations in proptest::collection::vec(operation(), 1..200)
        ) {
            const MAX: usize = 12;
            let mut table = EntryTable::new(MAX);
            let mut live: BTreeMap<u32, PortName> = BTreeMap::new();
            // Indices freed (removed names the table handed out or took at a
            // handed-out index), in order; the model's stack.
            let mut freed: Vec<u32> = Vec::new();
            let mut handed_out = 0u32;
            for operation in operations {
                match operation {
                    Operation::Allocate if live.len() < MAX => {
                        let name = table.allocate_name().expect("room below the limit");
                        let index = port_index(name);
                        proptest::prop_assert!(!live.contains_key(&index), "index {index} holds a name already");
                        proptest::prop_assert!(index as usize <= MAX + 1, "index {index} past the dense part");
                        while freed.last().is_some_and(|top| live.contains_key(top)) {
                            freed.pop();
                        }
                        match freed.pop() {
                            Some(expected) => proptest::prop_assert_eq!(index, expected, "not the last freed index"),
                            None => {
                                proptest::prop_assert!(index > handed_out, "a new index below one handed out");
                                handed_out = index;
                            }
                        }
                        table.insert(name, entry(1));
                        live.insert(index, name);
                    }
                    Operation::Allocate => {}
                    Operation::Remove(position) if !live.is_empty() => {
                        let (&index, &name) = live.iter().nth(position % live.len()).expect("in range");
                        proptest::prop_assert!(table.remove(name).is_some());
                        proptest::prop_assert!(table.get(&name).is_none(), "a removed name still found");
                        live.remove(&index);
                        if index <= handed_out && !freed.contains(&index) {
                            freed.push(index);
                        }
                    }
                    Operation::Remove(_) => {}
                    Operation::Choose(index, generation) => {
                        let name = port_make(index, generation);
                        let taken = live.contains_key(&index);
                        proptest::prop_assert_eq!(table.index_taken_by_other(name), taken && live[&index] != name);
                        if !taken && live.len() < MAX {
                            table.insert(name, entry(2));
                            live.insert(index, name);
                        }
                    }
                }
                proptest::prop_assert_eq!(table.len(), live.len());
                proptest::prop_assert_eq!(table.keys().collect::<Vec<_>>(), live.values().copied().collect::<Vec<_>>());
            }
        }
    }
}
