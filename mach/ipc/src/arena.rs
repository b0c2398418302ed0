//! A generational arena: the storage behind ports, port sets and spaces.
//!
//! An id is an index plus the slot's generation at insertion, so an id kept
//! after its object was freed finds nothing instead of a newer object.
//!
//! Slots live in fixed chunks of about [`CHUNK_BYTES`] rather than one
//! vector: a system with hundreds of thousands of ports (65,536 names per
//! task) never needs one huge contiguous allocation, and growing never moves
//! the objects already there (a reallocation would copy megabytes inside a
//! trap).

use alloc::boxed::Box;
use alloc::vec::Vec;

/// A slot index plus the generation it was filled at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArenaId {
    pub index: u32,
    pub generation: u32,
}

struct Slot<T> {
    generation: u32,
    /// For an empty slot on the free list: the next one on it.
    next_free: u32,
    value: Option<T>,
}

/// The end of the free list.
const NO_SLOT: u32 = u32::MAX;

/// Bytes of slots per chunk (a power of two: one block of the kernel heap).
const CHUNK_BYTES: usize = 16 * 1024;

type Chunk<T> = Box<[Slot<T>]>;

/// Objects addressed by [`ArenaId`].
pub struct Arena<T> {
    chunks: Vec<Chunk<T>>,
    /// Slots handed out so far (the next fresh index).
    used: u32,
    /// The most recently freed slot, first of a list threaded through the
    /// empty slots themselves (last in, first out): freeing never
    /// allocates, so tearing down a task that filled memory cannot fail.
    free_head: u32,
    length: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { chunks: Vec::new(), used: 0, free_head: NO_SLOT, length: 0 }
    }
}

impl<T> Arena<T> {
    /// Slots per chunk: the largest power of two that fits in
    /// `CHUNK_BYTES` (a power of two, so an index splits with a shift and a
    /// mask: lookups are on every IPC path).
    const CHUNK: usize = {
        let slots = CHUNK_BYTES / core::mem::size_of::<Slot<T>>();
        if slots == 0 {
            1
        } else {
            1 << (usize::BITS - 1 - slots.leading_zeros())
        }
    };

    fn new_chunk() -> Chunk<T> {
        (0..Self::CHUNK).map(|_| Slot { generation: 0, next_free: NO_SLOT, value: None }).collect()
    }

    fn slot(&self, index: u32) -> Option<&Slot<T>> {
        let index = index as usize;
        self.chunks.get(index / Self::CHUNK)?.get(index % Self::CHUNK)
    }

    fn slot_mut(&mut self, index: u32) -> Option<&mut Slot<T>> {
        let index = index as usize;
        self.chunks.get_mut(index / Self::CHUNK)?.get_mut(index % Self::CHUNK)
    }

    /// Stores `value` and returns its id.
    pub fn insert(&mut self, value: T) -> ArenaId {
        self.length += 1;
        if self.free_head != NO_SLOT {
            let index = self.free_head;
            let slot = self.slot_mut(index).expect("freed indices are below `used`");
            let next = core::mem::replace(&mut slot.next_free, NO_SLOT);
            self.free_head = next;
            let slot = self.slot_mut(index).expect("freed indices are below `used`");
            slot.generation = slot.generation.wrapping_add(1);
            slot.value = Some(value);
            return ArenaId { index, generation: slot.generation };
        }
        let index = self.used;
        if index as usize == self.chunks.len() * Self::CHUNK {
            self.chunks.push(Self::new_chunk());
        }
        self.used += 1;
        let slot = self.slot_mut(index).expect("the chunk was just made");
        slot.value = Some(value);
        ArenaId { index, generation: slot.generation }
    }

    /// Removes and returns the object, if the id is current.
    pub fn remove(&mut self, id: ArenaId) -> Option<T> {
        let free_head = self.free_head;
        let slot = self.slot_mut(id.index)?;
        if slot.generation != id.generation || slot.value.is_none() {
            return None;
        }
        let value = slot.value.take();
        slot.next_free = free_head;
        self.free_head = id.index;
        self.length -= 1;
        value
    }

    pub fn get(&self, id: ArenaId) -> Option<&T> {
        let slot = self.slot(id.index)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub fn get_mut(&mut self, id: ArenaId) -> Option<&mut T> {
        let slot = self.slot_mut(id.index)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_mut()
    }

    pub fn contains(&self, id: ArenaId) -> bool {
        self.get(id).is_some()
    }

    pub fn len(&self) -> usize {
        self.length
    }

    /// Every live object with its id.
    pub fn iter(&self) -> impl Iterator<Item = (ArenaId, &T)> {
        self.chunks.iter().enumerate().flat_map(|(chunk_index, chunk)| {
            chunk.iter().enumerate().filter_map(move |(offset, slot)| {
                let index = (chunk_index * Self::CHUNK + offset) as u32;
                slot.value.as_ref().map(|value| (ArenaId { index, generation: slot.generation }, value))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_survive_growth_across_chunks_and_stale_ids_miss() {
        let mut arena = Arena::default();
        let chunk = Arena::<u32>::CHUNK as u32;
        let ids: Vec<ArenaId> = (0..chunk * 3 + 5).map(|value| arena.insert(value)).collect();
        for (value, id) in ids.iter().enumerate() {
            assert_eq!(arena.get(*id), Some(&(value as u32)));
        }
        let removed = ids[chunk as usize + 1];
        assert_eq!(arena.remove(removed), Some(chunk + 1));
        assert_eq!(arena.get(removed), None);
        let reused = arena.insert(7);
        assert_eq!(reused.index, removed.index);
        assert_ne!(reused.generation, removed.generation);
        assert_eq!(arena.get(removed), None);
        assert_eq!(arena.len(), ids.len());
        assert_eq!(arena.iter().count(), ids.len());
        assert_eq!(arena.iter().find(|(id, _)| *id == reused).map(|(_, value)| *value), Some(7));
    }
}
