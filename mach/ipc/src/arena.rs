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
//!
//! A chunk whose last object goes is freed (but one kept as a spare), so the
//! kernel heap gets back what a task that filled memory with ports took,
//! instead of keeping the arena at its largest size for the rest of the
//! boot. Its slots' generations are remembered in a word, so ids from before
//! still miss when the chunk is made again.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// A slot index plus the generation it was filled at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArenaId {
    pub index: u32,
    pub generation: u32,
}

struct Slot<T> {
    /// The generation of the live object, or the next one's when empty
    /// (advanced when an object leaves, so its id misses from then on).
    generation: u32,
    /// For an empty slot: the next empty slot of its chunk (an offset).
    next_free: u32,
    value: Option<T>,
}

/// The end of a free list.
const NO_SLOT: u32 = u32::MAX;

/// Bytes of slots per chunk (a power of two: one block of the kernel heap).
const CHUNK_BYTES: usize = 16 * 1024;

type Chunk<T> = Box<[Slot<T>]>;

/// What the arena knows of a chunk, kept while the chunk itself is freed.
#[derive(Clone, Copy)]
struct ChunkState {
    /// Live objects in it.
    live: u32,
    /// Its first empty slot (an offset), threaded through `next_free`
    /// (last in, first out).
    free_head: u32,
    /// On the `with_room` stack.
    listed: bool,
    /// While freed: the generation its slots start at when it is made
    /// again, above every generation any of them had.
    base_generation: u32,
}

/// Objects addressed by [`ArenaId`].
pub struct Arena<T> {
    /// `None`: freed (every slot empty).
    chunks: Vec<Option<Chunk<T>>>,
    states: Vec<ChunkState>,
    /// Chunks that may have an empty slot, each once (`listed`); inserts
    /// take from the last. Its capacity never falls below `chunks.len()`,
    /// so pushing a chunk on it never allocates: freeing an object never
    /// allocates, and tearing down a task that filled memory cannot fail.
    with_room: Vec<u32>,
    /// The one empty chunk kept rather than freed, so that a port made and
    /// destroyed again and again at a chunk's edge does not allocate and
    /// free a chunk each time.
    spare: Option<u32>,
    length: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { chunks: Vec::new(), states: Vec::new(), with_room: Vec::new(), spare: None, length: 0 }
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

    /// A chunk of empty slots of generation `generation`, each on the free
    /// list in order.
    fn new_chunk(generation: u32) -> Chunk<T> {
        (0..Self::CHUNK)
            .map(|offset| Slot {
                generation,
                next_free: if offset + 1 == Self::CHUNK { NO_SLOT } else { offset as u32 + 1 },
                value: None,
            })
            .collect()
    }

    fn split(index: u32) -> (usize, usize) {
        let index = index as usize;
        (index / Self::CHUNK, index % Self::CHUNK)
    }

    fn slot(&self, index: u32) -> Option<&Slot<T>> {
        let (chunk, offset) = Self::split(index);
        self.chunks.get(chunk)?.as_ref()?.get(offset)
    }

    fn slot_mut(&mut self, index: u32) -> Option<&mut Slot<T>> {
        let (chunk, offset) = Self::split(index);
        self.chunks.get_mut(chunk)?.as_mut()?.get_mut(offset)
    }

    /// A chunk with an empty slot (made or made again if need be), listed.
    fn chunk_with_room(&mut self) -> usize {
        while let Some(&chunk) = self.with_room.last() {
            let chunk = chunk as usize;
            let state = self.states[chunk];
            if self.chunks[chunk].is_none() {
                self.chunks[chunk] = Some(Self::new_chunk(state.base_generation));
                self.states[chunk].free_head = 0;
                return chunk;
            }
            if state.free_head != NO_SLOT {
                return chunk;
            }
            self.with_room.pop();
            self.states[chunk].listed = false;
        }
        let chunk = self.chunks.len();
        self.chunks.push(Some(Self::new_chunk(0)));
        self.states.push(ChunkState { live: 0, free_head: 0, listed: true, base_generation: 0 });
        // Room on the stack for every chunk (see `with_room`).
        self.with_room.reserve(self.chunks.len() - self.with_room.len());
        self.with_room.push(chunk as u32);
        chunk
    }

    /// Stores `value` and returns its id.
    pub fn insert(&mut self, value: T) -> ArenaId {
        let chunk = self.chunk_with_room();
        if self.spare == Some(chunk as u32) {
            self.spare = None;
        }
        let offset = self.states[chunk].free_head;
        let slot = &mut self.chunks[chunk].as_mut().expect("a chunk with room is made")[offset as usize];
        let next = core::mem::replace(&mut slot.next_free, NO_SLOT);
        slot.value = Some(value);
        let generation = slot.generation;
        let state = &mut self.states[chunk];
        state.free_head = next;
        state.live += 1;
        self.length += 1;
        ArenaId { index: (chunk * Self::CHUNK) as u32 + offset, generation }
    }

    /// Removes and returns the object, if the id is current.
    pub fn remove(&mut self, id: ArenaId) -> Option<T> {
        self.vacate(id, Option::take).flatten()
    }

    /// Removes the object and drops it where it lies (a port is a few
    /// hundred bytes: [`Arena::remove`] would copy it out only to drop
    /// it). False if the id is not current.
    pub fn free(&mut self, id: ArenaId) -> bool {
        self.vacate(id, |value| *value = None).is_some()
    }

    /// Empties the slot of `id` with `empty` (which must leave it `None`)
    /// and puts it on its chunk's free list.
    fn vacate<R>(&mut self, id: ArenaId, empty: impl FnOnce(&mut Option<T>) -> R) -> Option<R> {
        let (chunk, offset) = Self::split(id.index);
        let free_head = self.states.get(chunk)?.free_head;
        let slot = self.slot_mut(id.index)?;
        if slot.generation != id.generation || slot.value.is_none() {
            return None;
        }
        let value = empty(&mut slot.value);
        debug_assert!(slot.value.is_none(), "a vacated slot is empty");
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = free_head;
        self.length -= 1;
        let state = &mut self.states[chunk];
        state.free_head = offset as u32;
        state.live -= 1;
        if !state.listed {
            state.listed = true;
            // Within the capacity reserved when the chunk was made.
            self.with_room.push(chunk as u32);
        }
        if state.live == 0 {
            self.release_empty(chunk);
        }
        Some(value)
    }

    /// `chunk` has just become empty: it becomes the spare, or is freed if
    /// there is one already.
    fn release_empty(&mut self, chunk: usize) {
        match self.spare {
            None => self.spare = Some(chunk as u32),
            Some(spare) if spare as usize == chunk => {}
            Some(_) => {
                let Some(slots) = self.chunks[chunk].take() else { return };
                // The next generation of every slot is at most this (each
                // moved past its last id when emptied): made again from
                // it, no slot can hand out an id it handed out before, as
                // long as generations do not wrap (as for a kept chunk).
                let base = slots.iter().map(|slot| slot.generation).max().unwrap_or(0);
                self.states[chunk].base_generation = base;
                self.states[chunk].free_head = NO_SLOT;
            }
        }
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

    /// Chunks allocated now (a measure of the memory the arena holds).
    #[cfg(test)]
    pub fn chunks_held(&self) -> usize {
        self.chunks.iter().filter(|chunk| chunk.is_some()).count()
    }

    /// Every live object with its id.
    pub fn iter(&self) -> impl Iterator<Item = (ArenaId, &T)> {
        self.chunks.iter().enumerate().filter_map(|(chunk_index, chunk)| Some((chunk_index, chunk.as_ref()?))).flat_map(
            |(chunk_index, chunk)| {
                chunk.iter().enumerate().filter_map(move |(offset, slot)| {
                    let index = (chunk_index * Self::CHUNK + offset) as u32;
                    slot.value.as_ref().map(|value| (ArenaId { index, generation: slot.generation }, value))
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    #[test]
    fn freeing_drops_in_place_and_the_slot_comes_back_with_a_new_generation() {
        let mut arena = Arena::default();
        let value = alloc::rc::Rc::new(7u32);
        let first = arena.insert(alloc::rc::Rc::clone(&value));
        let second = arena.insert(alloc::rc::Rc::clone(&value));
        assert!(arena.free(first));
        assert_eq!(alloc::rc::Rc::strong_count(&value), 2, "the freed object was dropped");
        assert!(!arena.free(first), "a stale id frees nothing");
        assert!(arena.get(first).is_none());
        let third = arena.insert(alloc::rc::Rc::clone(&value));
        assert_eq!(third.index, first.index);
        assert_ne!(third.generation, first.generation);
        assert_eq!(arena.remove(second).map(|kept| *kept), Some(7));
        assert_eq!(arena.len(), 1);
    }

    #[test]
    fn emptied_chunks_are_freed_but_one_and_old_ids_still_miss() {
        let mut arena = Arena::default();
        let chunk = Arena::<u64>::CHUNK;
        let ids: Vec<ArenaId> = (0..chunk * 4).map(|value| arena.insert(value as u64)).collect();
        assert_eq!(arena.chunks_held(), 4);
        for &id in &ids {
            assert!(arena.remove(id).is_some());
        }
        // The regression: every chunk stayed allocated for good.
        assert_eq!(arena.chunks_held(), 1, "one spare chunk kept, the others freed");
        assert_eq!(arena.len(), 0);
        let again: Vec<ArenaId> = (0..chunk * 4).map(|value| arena.insert(value as u64)).collect();
        assert_eq!(arena.chunks_held(), 4, "freed chunks are made again, no new index range");
        assert!(again.iter().all(|id| (id.index as usize) < chunk * 4));
        for id in &ids {
            assert_eq!(arena.get(*id), None, "a stale id {id:?} found an object");
        }
        for (value, id) in again.iter().enumerate() {
            assert_eq!(arena.get(*id), Some(&(value as u64)));
        }
    }

    #[test]
    fn allocating_and_freeing_at_a_chunk_edge_keeps_the_spare() {
        let mut arena = Arena::default();
        let chunk = Arena::<u64>::CHUNK;
        let _full: Vec<ArenaId> = (0..chunk).map(|value| arena.insert(value as u64)).collect();
        for round in 0..1000u64 {
            let id = arena.insert(round);
            assert_eq!(arena.chunks_held(), 2);
            assert_eq!(arena.remove(id), Some(round));
            assert_eq!(arena.chunks_held(), 2);
        }
    }

    proptest! {
        /// Any sequence of inserts and removes: the arena agrees with a
        /// plain list of live objects, stale ids miss, and it holds no more
        /// chunks than its live objects need plus the spare.
        #[test]
        fn behaves_like_a_list_of_live_objects(operations in proptest::collection::vec((any::<bool>(), any::<u16>()), 1..3000)) {
            let mut arena = Arena::default();
            let chunk = Arena::<u32>::CHUNK;
            let mut live: Vec<(ArenaId, u32)> = Vec::new();
            let mut dead: Vec<ArenaId> = Vec::new();
            for (value, (insert, pick)) in operations.into_iter().enumerate() {
                if insert || live.is_empty() {
                    let id = arena.insert(value as u32);
                    prop_assert!(live.iter().all(|(other, _)| *other != id));
                    live.push((id, value as u32));
                } else {
                    let (id, expected) = live.swap_remove(pick as usize % live.len());
                    prop_assert_eq!(arena.remove(id), Some(expected));
                    prop_assert_eq!(arena.remove(id), None);
                    dead.push(id);
                }
                prop_assert_eq!(arena.len(), live.len());
            }
            for (id, value) in &live {
                prop_assert_eq!(arena.get(*id), Some(value));
            }
            for id in &dead {
                prop_assert_eq!(arena.get(*id), None);
            }
            prop_assert_eq!(arena.iter().count(), live.len());
            for (id, _) in live.clone() {
                arena.remove(id);
            }
            prop_assert!(arena.chunks_held() <= 1, "{} chunks held with nothing in them (chunk of {chunk})", arena.chunks_held());
        }
    }
}
