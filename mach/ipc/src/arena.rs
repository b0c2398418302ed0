//! A generational arena: the storage behind ports, port sets and spaces.
//!
//! An id is an index plus the slot's generation at insertion, so an id kept
//! after its object was freed finds nothing instead of a newer object.

use alloc::vec::Vec;

/// A slot index plus the generation it was filled at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArenaId {
    pub index: u32,
    pub generation: u32,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Objects addressed by [`ArenaId`].
pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    length: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { slots: Vec::new(), free: Vec::new(), length: 0 }
    }
}

impl<T> Arena<T> {
    /// Stores `value` and returns its id.
    pub fn insert(&mut self, value: T) -> ArenaId {
        self.length += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.generation = slot.generation.wrapping_add(1);
            slot.value = Some(value);
            return ArenaId { index, generation: slot.generation };
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot { generation: 0, value: Some(value) });
        ArenaId { index, generation: 0 }
    }

    /// Removes and returns the object, if the id is current.
    pub fn remove(&mut self, id: ArenaId) -> Option<T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation || slot.value.is_none() {
            return None;
        }
        self.free.push(id.index);
        self.length -= 1;
        slot.value.take()
    }

    pub fn get(&self, id: ArenaId) -> Option<&T> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub fn get_mut(&mut self, id: ArenaId) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index as usize)?;
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
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            slot.value.as_ref().map(|value| (ArenaId { index: index as u32, generation: slot.generation }, value))
        })
    }
}
