//! Lookups waiting for a name to be registered (`lookup_wait`).
//!
//! A waiting lookup is parked here with its client, the name, a deadline
//! and whatever the caller needs to answer it later (the bootstrap task
//! keeps the request itself, whose reply right it holds). It leaves when
//! the name is registered or the deadline passes, oldest first, or when
//! its client ends. The table is fixed: at most [`WAITERS_MAX`] lookups
//! wait, at most [`WAITERS_PER_CLIENT_MAX`] from one client, so no client
//! can take every place.

use crate::registry::NAME_LENGTH_MAX;

/// Most lookups waiting at once.
pub const WAITERS_MAX: usize = 32;
/// Most lookups one client may have waiting.
pub const WAITERS_PER_CLIENT_MAX: usize = 4;

struct Waiter<T> {
    client: usize,
    name: [u8; NAME_LENGTH_MAX],
    length: usize,
    deadline: u64,
    /// Arrival order: answers go oldest first.
    sequence: u64,
    value: T,
}

/// The waiting lookups, each carrying a `T`.
pub struct Waiters<T> {
    slots: [Option<Waiter<T>>; WAITERS_MAX],
    next_sequence: u64,
}

impl<T> Default for Waiters<T> {
    fn default() -> Self {
        Self { slots: core::array::from_fn(|_| None), next_sequence: 0 }
    }
}

impl<T> Waiters<T> {
    /// Whether `client` may park one more lookup.
    pub fn has_room(&self, client: usize) -> bool {
        let mine = self.waiting().filter(|waiter| waiter.client == client).count();
        mine < WAITERS_PER_CLIENT_MAX && self.slots.iter().any(Option::is_none)
    }

    /// Parks a lookup of `name` by `client` until `deadline`; gives `value`
    /// back if there is no room (see [`Waiters::has_room`]) or the name is
    /// longer than a registered name can be.
    pub fn park(&mut self, client: usize, name: &[u8], deadline: u64, value: T) -> Result<(), T> {
        if name.len() > NAME_LENGTH_MAX || !self.has_room(client) {
            return Err(value);
        }
        let Some(slot) = self.slots.iter_mut().find(|slot| slot.is_none()) else { return Err(value) };
        let mut stored = [0; NAME_LENGTH_MAX];
        stored[..name.len()].copy_from_slice(name);
        *slot =
            Some(Waiter { client, name: stored, length: name.len(), deadline, sequence: self.next_sequence, value });
        self.next_sequence += 1;
        Ok(())
    }

    /// Takes the oldest lookup that can be answered at `now`: its name is
    /// registered (`registered` says) or its deadline has come.
    pub fn take_ready(&mut self, now: u64, registered: impl Fn(&[u8]) -> bool) -> Option<T> {
        self.take_oldest(|waiter| waiter.deadline <= now || registered(&waiter.name[..waiter.length]))
    }

    /// Takes the oldest lookup of `client` (it ended: nobody will read the answer).
    pub fn take_client(&mut self, client: usize) -> Option<T> {
        self.take_oldest(|waiter| waiter.client == client)
    }

    /// The earliest deadline of a waiting lookup.
    pub fn next_deadline(&self) -> Option<u64> {
        self.waiting().map(|waiter| waiter.deadline).min()
    }

    /// How many lookups wait.
    pub fn len(&self) -> usize {
        self.waiting().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn waiting(&self) -> impl Iterator<Item = &Waiter<T>> {
        self.slots.iter().flatten()
    }

    fn take_oldest(&mut self, mut matches: impl FnMut(&Waiter<T>) -> bool) -> Option<T> {
        let slot = self
            .slots
            .iter_mut()
            .filter(|slot| slot.as_ref().is_some_and(&mut matches))
            .min_by_key(|slot| slot.as_ref().map_or(u64::MAX, |waiter| waiter.sequence))?;
        slot.take().map(|waiter| waiter.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn a_registration_or_the_deadline_releases_a_waiter_oldest_first() {
        let mut waiters = Waiters::default();
        waiters.park(0, b"fs", 100, "first fs").unwrap();
        waiters.park(1, b"console", 50, "console").unwrap();
        waiters.park(2, b"fs", 300, "second fs").unwrap();
        assert_eq!(waiters.next_deadline(), Some(50));
        let none = |_: &[u8]| false;
        assert_eq!(waiters.take_ready(10, none), None, "nothing registered, no deadline passed");
        let fs = |name: &[u8]| name == b"fs";
        assert_eq!(waiters.take_ready(10, fs), Some("first fs"));
        assert_eq!(waiters.take_ready(10, fs), Some("second fs"));
        assert_eq!(waiters.take_ready(10, fs), None);
        assert_eq!(waiters.take_ready(50, none), Some("console"), "its deadline");
        assert!(waiters.is_empty());
        assert_eq!(waiters.next_deadline(), None);
    }

    #[test]
    fn one_client_cannot_take_every_place() {
        let mut waiters = Waiters::default();
        for index in 0..WAITERS_PER_CLIENT_MAX {
            waiters.park(7, b"x", 10, index).unwrap();
        }
        assert!(!waiters.has_room(7));
        assert_eq!(waiters.park(7, b"x", 10, 99), Err(99), "the value comes back");
        assert!(waiters.has_room(8));
        let mut client = 0;
        while waiters.len() < WAITERS_MAX {
            client += 1;
            waiters.park(100 + client / WAITERS_PER_CLIENT_MAX, b"y", 10, 0).unwrap();
        }
        assert!(!waiters.has_room(1000), "the table is full");
        assert_eq!(waiters.park(1000, b"y", 10, 5), Err(5));
        assert_eq!(waiters.park(1000, &[b'n'; NAME_LENGTH_MAX + 1], 10, 6), Err(6));
    }

    #[test]
    fn an_ended_client_takes_its_waiters_with_it() {
        let mut waiters = Waiters::default();
        waiters.park(1, b"a", 10, 'a').unwrap();
        waiters.park(2, b"b", 10, 'b').unwrap();
        waiters.park(1, b"c", 10, 'c').unwrap();
        let mut taken = Vec::new();
        while let Some(value) = waiters.take_client(1) {
            taken.push(value);
        }
        assert_eq!(taken, ['a', 'c']);
        assert_eq!(waiters.len(), 1);
    }
}
