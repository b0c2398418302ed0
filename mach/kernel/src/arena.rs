//! A generational arena: kernel objects named by (index, generation).
//!
//! A stale id (its object destroyed, the slot reused) never reaches the new
//! occupant: the generation no longer matches, so lookups answer `None`.
//! Objects are boxed so their addresses stay fixed while the arena grows
//! (a thread's saved context is read by the context switch through a
//! pointer taken under the kernel lock).
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::marker::PhantomData;

pub struct Id<T> {
    index: u32,
    generation: u32,
    _object: PhantomData<fn() -> T>,
}

/// Generations wrap within 29 bits, so an id fits in 61 bits and a kernel
/// object tag (three bits) fits beside it in a port's 64-bit object word.
const GENERATION_MASK: u32 = (1 << 29) - 1;

impl<T> Id<T> {
    /// A number for logs and `ps`, and the id's form inside port tags:
    /// stable for the object's life, never above 2^61.
    pub fn number(&self) -> u64 {
        (self.generation as u64) << 32 | self.index as u64
    }

    /// The id a `number()` came from (which may since have gone stale).
    pub fn from_number(number: u64) -> Self {
        Self { index: number as u32, generation: (number >> 32) as u32 & GENERATION_MASK, _object: PhantomData }
    }
}

impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.generation == other.generation
    }
}
impl<T> Eq for Id<T> {}
impl<T> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.index, self.generation).cmp(&(other.index, other.generation))
    }
}
impl<T> core::fmt::Debug for Id<T> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(formatter, "#{}.{}", self.index, self.generation)
    }
}

struct Slot<T> {
    generation: u32,
    object: Option<Box<T>>,
}

pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Arena<T> {
    pub const fn new() -> Self {
        Self { slots: Vec::new(), free: Vec::new(), live: 0 }
    }

    pub fn insert(&mut self, object: T) -> Id<T> {
        self.live += 1;
        let object = Some(Box::new(object));
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.object = object;
            return Id { index, generation: slot.generation, _object: PhantomData };
        }
        self.slots.push(Slot { generation: 0, object });
        Id { index: (self.slots.len() - 1) as u32, generation: 0, _object: PhantomData }
    }

    pub fn get(&self, id: Id<T>) -> Option<&T> {
        let slot = self.slots.get(id.index as usize)?;
        (slot.generation == id.generation).then_some(slot.object.as_deref()).flatten()
    }

    pub fn get_mut(&mut self, id: Id<T>) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.object.as_deref_mut()
    }

    pub fn remove(&mut self, id: Id<T>) -> Option<T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let object = slot.object.take()?;
        slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
        self.free.push(id.index);
        self.live -= 1;
        Some(*object)
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn iter(&self) -> impl Iterator<Item = (Id<T>, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let id = Id { index: index as u32, generation: slot.generation, _object: PhantomData };
            slot.object.as_deref().map(|object| (id, object))
        })
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Id<T>, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(index, slot)| {
            let id = Id { index: index as u32, generation: slot.generation, _object: PhantomData };
            slot.object.as_deref_mut().map(|object| (id, object))
        })
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};

    ktest! {
        fn stale_ids_miss_reused_slots() {
            let mut arena = Arena::new();
            let first = arena.insert(1u32);
            ensure_eq!(arena.remove(first), Some(1));
            let second = arena.insert(2u32);
            ensure!(arena.get(first).is_none(), "stale id reached the new object");
            ensure_eq!(arena.get(second), Some(&2));
            ensure_eq!(arena.remove(first), None);
            ensure_eq!(arena.len(), 1);
            Ok(())
        }
    }
}
