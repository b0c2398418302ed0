//! The space entries that name one port: a set kept inline for the usual
//! few holders (the receiver, a client, the client's forked child) and in a
//! B-tree beyond, so a port costs no heap allocation for its holders until
//! a fifth entry names it. With 65,536 names per task the inline case is
//! what keeps a port small, and a fork (every send right gains a holder)
//! cheap; a port named by thousands of spaces still finds, adds and removes
//! a holder in logarithmic time.

use alloc::collections::BTreeSet;

use mach_abi::PortName;

use crate::SpaceId;

/// One entry naming a port: the space and the name.
pub(crate) type Holder = (SpaceId, PortName);

/// How many holders stay inline before the set moves to a tree.
const INLINE: usize = 4;

#[derive(Debug)]
pub(crate) enum Holders {
    /// The first `length` entries are the holders.
    Inline {
        entries: [Holder; INLINE],
        length: u8,
    },
    Tree(BTreeSet<Holder>),
}

const UNUSED: Holder = (SpaceId(crate::arena::ArenaId { index: 0, generation: 0 }), 0);

impl Default for Holders {
    fn default() -> Self {
        Holders::Inline { entries: [UNUSED; INLINE], length: 0 }
    }
}

impl Holders {
    /// Adds a holder; false if it was there already.
    pub(crate) fn insert(&mut self, holder: Holder) -> bool {
        match self {
            Holders::Inline { entries, length } => {
                let used = *length as usize;
                if entries[..used].contains(&holder) {
                    return false;
                }
                if used < INLINE {
                    entries[used] = holder;
                    *length += 1;
                    return true;
                }
                let mut tree: BTreeSet<Holder> = entries.iter().copied().collect();
                tree.insert(holder);
                *self = Holders::Tree(tree);
                true
            }
            Holders::Tree(tree) => tree.insert(holder),
        }
    }

    /// Removes a holder; false if it was not there.
    pub(crate) fn remove(&mut self, holder: &Holder) -> bool {
        match self {
            Holders::Inline { entries, length } => {
                let used = *length as usize;
                match entries[..used].iter().position(|entry| entry == holder) {
                    Some(index) => {
                        entries[index] = entries[used - 1];
                        entries[used - 1] = UNUSED;
                        *length -= 1;
                        true
                    }
                    None => false,
                }
            }
            Holders::Tree(tree) => {
                let removed = tree.remove(holder);
                if tree.len() <= INLINE / 2 {
                    // Back inline, with room to grow again before a new tree.
                    let mut entries = [UNUSED; INLINE];
                    for (slot, holder) in entries.iter_mut().zip(tree.iter()) {
                        *slot = *holder;
                    }
                    *self = Holders::Inline { entries, length: tree.len() as u8 };
                }
                removed
            }
        }
    }

    pub(crate) fn contains(&self, holder: &Holder) -> bool {
        match self {
            Holders::Inline { entries, length } => entries[..*length as usize].contains(holder),
            Holders::Tree(tree) => tree.contains(holder),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Holders::Inline { length, .. } => *length == 0,
            Holders::Tree(tree) => tree.is_empty(),
        }
    }

    /// Every holder (inline ones in no particular order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Holder> + '_ {
        let (inline, tree) = match self {
            Holders::Inline { entries, length } => (Some(entries[..*length as usize].iter().copied()), None),
            Holders::Tree(tree) => (None, Some(tree.iter().copied())),
        };
        inline.into_iter().flatten().chain(tree.into_iter().flatten())
    }
}

/// The holders taken out of a port (a dying port's), without a copy.
pub(crate) enum IntoIter {
    Inline(core::iter::Take<core::array::IntoIter<Holder, INLINE>>),
    Tree(alloc::collections::btree_set::IntoIter<Holder>),
}

impl Iterator for IntoIter {
    type Item = Holder;

    fn next(&mut self) -> Option<Holder> {
        match self {
            IntoIter::Inline(inline) => inline.next(),
            IntoIter::Tree(tree) => tree.next(),
        }
    }
}

impl IntoIterator for Holders {
    type Item = Holder;
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        match self {
            Holders::Inline { entries, length } => IntoIter::Inline(entries.into_iter().take(length as usize)),
            Holders::Tree(tree) => IntoIter::Tree(tree.into_iter()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::ArenaId;
    use alloc::vec::Vec;

    fn holder(space: u32, name: PortName) -> Holder {
        (SpaceId(ArenaId { index: space, generation: 0 }), name)
    }

    #[test]
    fn grows_into_a_tree_and_back_keeping_every_holder() {
        let mut holders = Holders::default();
        assert!(holders.is_empty());
        for space in 0..10 {
            assert!(holders.insert(holder(space, 0x100)));
            assert!(!holders.insert(holder(space, 0x100)));
        }
        assert!(matches!(holders, Holders::Tree(_)));
        assert_eq!(holders.iter().count(), 10);
        for space in 0..9 {
            assert!(holders.remove(&holder(space, 0x100)));
            assert!(!holders.remove(&holder(space, 0x100)));
        }
        assert!(matches!(holders, Holders::Inline { .. }));
        assert!(holders.contains(&holder(9, 0x100)));
        assert_eq!(holders.into_iter().collect::<Vec<_>>(), [holder(9, 0x100)]);
    }
}
