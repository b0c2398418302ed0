//! File locks as state machines: POSIX record locks (`fcntl` `F_SETLK`,
//! owned by a process, byte ranges, shared or exclusive) and BSD `flock`
//! locks (owned by an open file, the whole file).
//!
//! Each owner's record locks on one file are kept normalized: ranges that
//! do not overlap, neighbours of the same kind merged. Setting a lock
//! replaces whatever the owner held on that range (a shared lock becomes
//! exclusive, a range is split by an unlock in its middle); locks of
//! different owners conflict when their ranges overlap and one of them is
//! exclusive. Who waits for a lock, and deadlock detection, are the
//! server's (it knows the waiting requests); this says what conflicts.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Who holds a record lock: a process (`pid`) or, for senders that are not
/// processes, the sending task (see `server`).
pub type LockOwner = u64;

/// Shared (`F_RDLCK`, `LOCK_SH`) or exclusive (`F_WRLCK`, `LOCK_EX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockKind {
    Shared,
    Exclusive,
}

/// Bytes `[start, end)`; `end == u64::MAX` reaches past any end of file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn overlaps(&self, other: &ByteRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// One lock, as `F_GETLK` reports a conflicting one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLock {
    pub owner: LockOwner,
    pub kind: LockKind,
    pub range: ByteRange,
}

/// The record locks of one file.
#[derive(Clone, Debug, Default)]
pub struct RecordLocks {
    /// Per owner: start → (end, kind), normalized.
    by_owner: BTreeMap<LockOwner, BTreeMap<u64, (u64, LockKind)>>,
}

impl RecordLocks {
    pub fn is_empty(&self) -> bool {
        self.by_owner.is_empty()
    }

    /// The first lock of another owner that `kind` over `range` would
    /// conflict with.
    pub fn conflict(&self, owner: LockOwner, kind: LockKind, range: ByteRange) -> Option<RecordLock> {
        for (holder, locks) in &self.by_owner {
            if *holder == owner {
                continue;
            }
            for (start, (end, held)) in locks.range(..range.end) {
                let held_range = ByteRange { start: *start, end: *end };
                if held_range.overlaps(&range) && (kind == LockKind::Exclusive || *held == LockKind::Exclusive) {
                    return Some(RecordLock { owner: *holder, kind: *held, range: held_range });
                }
            }
        }
        None
    }

    /// Every owner that holds a lock conflicting with `kind` over `range`.
    pub fn conflicting_owners(&self, owner: LockOwner, kind: LockKind, range: ByteRange) -> Vec<LockOwner> {
        self.by_owner
            .iter()
            .filter(|(holder, locks)| {
                **holder != owner
                    && locks.range(..range.end).any(|(start, (end, held))| {
                        ByteRange { start: *start, end: *end }.overlaps(&range)
                            && (kind == LockKind::Exclusive || *held == LockKind::Exclusive)
                    })
            })
            .map(|(holder, _)| *holder)
            .collect()
    }

    /// Sets (`Some(kind)`) or removes (`None`) `owner`'s lock over `range`,
    /// replacing what it held there. The caller checked for conflicts.
    pub fn apply(&mut self, owner: LockOwner, kind: Option<LockKind>, range: ByteRange) {
        let locks = self.by_owner.entry(owner).or_default();
        // Cut the owner's locks at the range's edges, dropping what is inside.
        let touched: Vec<(u64, u64, LockKind)> = locks
            .range(..range.end)
            .filter(|(start, (end, _))| ByteRange { start: **start, end: *end }.overlaps(&range))
            .map(|(start, (end, held))| (*start, *end, *held))
            .collect();
        for (start, end, held) in touched {
            locks.remove(&start);
            if start < range.start {
                locks.insert(start, (range.start, held));
            }
            if end > range.end {
                locks.insert(range.end, (end, held));
            }
        }
        if let Some(kind) = kind {
            let (mut start, mut end) = (range.start, range.end);
            // Merge with a same-kind neighbour ending where this starts...
            let before = locks.range(..start).next_back().map(|(s, (e, k))| (*s, *e, *k));
            if let Some((before_start, before_end, before_kind)) = before {
                if before_end == start && before_kind == kind {
                    locks.remove(&before_start);
                    start = before_start;
                }
            }
            // ...and one starting where this ends.
            if let Some(&(after_end, after_kind)) = locks.get(&end) {
                if after_kind == kind {
                    locks.remove(&end);
                    end = after_end;
                }
            }
            locks.insert(start, (end, kind));
        }
        if locks.is_empty() {
            self.by_owner.remove(&owner);
        }
    }

    /// Drops every lock of `owner` (its process ended, or closed the file).
    pub fn release_owner(&mut self, owner: LockOwner) {
        self.by_owner.remove(&owner);
    }

    /// `owner`'s locks, in order (for tests and listings).
    pub fn locks_of(&self, owner: LockOwner) -> Vec<RecordLock> {
        self.by_owner.get(&owner).map_or_else(Vec::new, |locks| {
            locks
                .iter()
                .map(|(start, (end, kind))| RecordLock {
                    owner,
                    kind: *kind,
                    range: ByteRange { start: *start, end: *end },
                })
                .collect()
        })
    }
}

/// The `flock` locks of one file; owners are open files.
#[derive(Clone, Debug, Default)]
pub struct FlockLocks {
    holders: BTreeMap<u64, LockKind>,
}

impl FlockLocks {
    pub fn is_empty(&self) -> bool {
        self.holders.is_empty()
    }

    /// What `holder` holds.
    pub fn held_by(&self, holder: u64) -> Option<LockKind> {
        self.holders.get(&holder).copied()
    }

    /// True when `holder` may take `kind` now (other holders permitting).
    pub fn can_take(&self, holder: u64, kind: LockKind) -> bool {
        self.holders
            .iter()
            .all(|(other, held)| *other == holder || (kind == LockKind::Shared && *held == LockKind::Shared))
    }

    /// Records `holder`'s lock (the caller checked [`FlockLocks::can_take`]).
    pub fn take(&mut self, holder: u64, kind: LockKind) {
        self.holders.insert(holder, kind);
    }

    /// `LOCK_UN`, or the open file went away.
    pub fn release(&mut self, holder: u64) {
        self.holders.remove(&holder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMIT: u64 = 48;

    fn range(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn unlocking_the_middle_splits_a_lock() {
        let mut locks = RecordLocks::default();
        locks.apply(1, Some(LockKind::Exclusive), range(0, 100));
        locks.apply(1, None, range(40, 60));
        assert_eq!(
            locks.locks_of(1),
            [
                RecordLock { owner: 1, kind: LockKind::Exclusive, range: range(0, 40) },
                RecordLock { owner: 1, kind: LockKind::Exclusive, range: range(60, 100) },
            ]
        );
        assert_eq!(locks.conflict(2, LockKind::Shared, range(40, 60)), None);
        assert_eq!(locks.conflict(2, LockKind::Shared, range(59, 61)).map(|lock| lock.range), Some(range(60, 100)));
    }

    #[test]
    fn shared_locks_share_and_neighbours_merge() {
        let mut locks = RecordLocks::default();
        locks.apply(1, Some(LockKind::Shared), range(0, 10));
        locks.apply(2, Some(LockKind::Shared), range(5, u64::MAX));
        assert_eq!(locks.conflict(3, LockKind::Shared, range(0, 1000)), None);
        assert_eq!(locks.conflicting_owners(3, LockKind::Exclusive, range(7, 8)), [1, 2]);
        locks.apply(1, Some(LockKind::Shared), range(10, 20));
        assert_eq!(locks.locks_of(1), [RecordLock { owner: 1, kind: LockKind::Shared, range: range(0, 20) }]);
        locks.release_owner(2);
        locks.release_owner(1);
        assert!(locks.is_empty());
    }

    #[test]
    fn flock_is_shared_or_exclusive_per_open_file() {
        let mut locks = FlockLocks::default();
        assert!(locks.can_take(1, LockKind::Shared));
        locks.take(1, LockKind::Shared);
        assert!(locks.can_take(2, LockKind::Shared));
        locks.take(2, LockKind::Shared);
        assert!(!locks.can_take(3, LockKind::Exclusive));
        assert!(!locks.can_take(1, LockKind::Exclusive), "another open file shares it");
        locks.release(2);
        assert!(locks.can_take(1, LockKind::Exclusive), "the only holder may convert");
        locks.take(1, LockKind::Exclusive);
        assert!(!locks.can_take(2, LockKind::Shared));
    }

    /// The model: what each owner holds on each byte below LIMIT, and in
    /// one bucket (index LIMIT) for every byte from LIMIT on, which only a
    /// range "to infinity" reaches.
    type Model = BTreeMap<LockOwner, [Option<LockKind>; LIMIT as usize + 1]>;

    fn buckets(range: ByteRange) -> impl Iterator<Item = usize> {
        let infinite = range.end == u64::MAX;
        (range.start..range.end.min(LIMIT)).map(|byte| byte as usize).chain(infinite.then_some(LIMIT as usize))
    }

    fn model_apply(model: &mut Model, owner: LockOwner, kind: Option<LockKind>, range: ByteRange) {
        let bytes = model.entry(owner).or_insert([None; LIMIT as usize + 1]);
        for bucket in buckets(range) {
            bytes[bucket] = kind;
        }
    }

    fn model_conflicts(model: &Model, owner: LockOwner, kind: LockKind, range: ByteRange) -> bool {
        model.iter().any(|(holder, bytes)| {
            *holder != owner
                && buckets(range).any(|bucket| match bytes[bucket] {
                    Some(held) => kind == LockKind::Exclusive || held == LockKind::Exclusive,
                    None => false,
                })
        })
    }

    fn arbitrary_range() -> impl Strategy<Value = ByteRange> {
        (0..LIMIT - 1, 1..LIMIT, any::<bool>()).prop_map(|(start, length, to_infinity)| ByteRange {
            start,
            end: if to_infinity { u64::MAX } else { (start + length).min(LIMIT) },
        })
    }

    proptest! {
        #[test]
        fn record_locks_agree_with_a_byte_model(steps in proptest::collection::vec(
            (1u64..4, proptest::option::of(prop_oneof![Just(LockKind::Shared), Just(LockKind::Exclusive)]), arbitrary_range()),
            1..60,
        )) {
            let mut locks = RecordLocks::default();
            let mut model = Model::new();
            for (owner, kind, range) in steps {
                let conflict = kind.is_some_and(|kind| locks.conflict(owner, kind, range).is_some());
                let model_conflict = kind.is_some_and(|kind| model_conflicts(&model, owner, kind, range));
                prop_assert_eq!(conflict, model_conflict);
                if !conflict {
                    locks.apply(owner, kind, range);
                    model_apply(&mut model, owner, kind, range);
                }
                // Normalized: sorted, disjoint, same-kind neighbours merged.
                for owner in 1..4 {
                    let held = locks.locks_of(owner);
                    for pair in held.windows(2) {
                        prop_assert!(pair[0].range.end <= pair[1].range.start);
                        prop_assert!(!(pair[0].range.end == pair[1].range.start && pair[0].kind == pair[1].kind));
                    }
                    let mut bytes = [None; LIMIT as usize + 1];
                    for lock in &held {
                        prop_assert!(lock.range.start < lock.range.end);
                        for bucket in buckets(lock.range) {
                            bytes[bucket] = Some(lock.kind);
                        }
                    }
                    let expected = model.get(&owner).copied().unwrap_or([None; LIMIT as usize + 1]);
                    prop_assert_eq!(bytes, expected);
                }
            }
        }
    }
}
