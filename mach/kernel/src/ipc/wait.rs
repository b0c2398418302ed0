//! Wait queues: threads blocked in `mach_msg`, first come first served.
//!
//! In a microkernel every idle server thread is blocked in a receive, and
//! every client in an RPC waits on its reply port, so blocked threads are
//! many, and the RPC path looks up a port's waiter on every call. The
//! queues are [`BUCKETS`] lists of (what, who) in arrival order, a key's
//! bucket chosen by its port or set index: all waiters of one key sit in
//! one list, in their order, and a lookup scans only the few entries of
//! that bucket instead of every blocked thread. Once a bucket has grown to
//! its working size, blocking and waking allocate nothing (which matters on
//! the RPC path, where every call blocks twice); a bucket that empties
//! gives a larger allocation back, so what the lists hold stays bounded by
//! the threads blocked now.
#![forbid(unsafe_code)]

use crate::thread::ThreadId;
use alloc::vec::Vec;
use mach_ipc::{PortId, PortSetId};

/// What a blocked thread waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaitKey {
    /// A message on this port (a receive right).
    Receive(PortId),
    /// A message on any member of this port set.
    ReceiveSet(PortSetId),
    /// Room in this port's queue.
    Send(PortId),
}

/// Lists the waiters are spread over (a power of two).
const BUCKETS: usize = 64;

/// Entries a bucket keeps room for after it empties.
const KEPT_CAPACITY: usize = 8;

impl WaitKey {
    fn bucket(self) -> usize {
        let (kind, index) = match self {
            WaitKey::Receive(port) => (0, port.index()),
            WaitKey::ReceiveSet(set) => (1, set.index()),
            WaitKey::Send(port) => (2, port.index()),
        };
        (index as usize).wrapping_mul(3).wrapping_add(kind) % BUCKETS
    }
}

/// The queues; `Waiter` is a thread (another type in the tests).
pub struct WaitQueues<Waiter = ThreadId> {
    buckets: [Vec<(WaitKey, Waiter)>; BUCKETS],
    /// Bit n set: bucket n is not empty (so walking every waiter, as
    /// `ipc::settle` does, visits only buckets with someone in them).
    occupied: u64,
    /// `Ipc::receivers_changed` when `ipc::settle` last looked for waits
    /// that can no longer succeed (None: never).
    pub looked_at: Option<u64>,
}

impl<Waiter: Copy + PartialEq> WaitQueues<Waiter> {
    pub const fn new() -> Self {
        Self { buckets: [const { Vec::new() }; BUCKETS], occupied: 0, looked_at: None }
    }

    pub fn push(&mut self, key: WaitKey, thread: Waiter) {
        let bucket = key.bucket();
        self.buckets[bucket].push((key, thread));
        self.occupied |= 1 << bucket;
    }

    /// The longest-waiting thread on `key`, left in the queue.
    pub fn first(&self, key: WaitKey) -> Option<Waiter> {
        self.buckets[key.bucket()].iter().find(|(waiting_for, _)| *waiting_for == key).map(|&(_, thread)| thread)
    }

    /// Takes the longest-waiting thread off `key`'s queue.
    pub fn pop(&mut self, key: WaitKey) -> Option<Waiter> {
        let number = key.bucket();
        let bucket = &mut self.buckets[number];
        let index = bucket.iter().position(|(waiting_for, _)| *waiting_for == key)?;
        let thread = bucket.remove(index).1;
        self.emptied(number);
        Some(thread)
    }

    /// Takes `thread` off `key`'s queue (it woke for another reason).
    pub fn remove(&mut self, key: WaitKey, thread: Waiter) {
        let number = key.bucket();
        let bucket = &mut self.buckets[number];
        if let Some(index) = bucket.iter().position(|&entry| entry == (key, thread)) {
            bucket.remove(index);
            self.emptied(number);
        }
    }

    /// After a removal from bucket `number`: if it is empty, it is no
    /// longer occupied, and if it once held many waiters it gives its
    /// memory back.
    fn emptied(&mut self, number: usize) {
        let bucket = &mut self.buckets[number];
        if bucket.is_empty() {
            self.occupied &= !(1 << number);
            if bucket.capacity() > KEPT_CAPACITY {
                *bucket = Vec::new();
            }
        }
    }

    /// Every key someone waits on (a key may repeat).
    pub fn keys(&self) -> impl Iterator<Item = WaitKey> + '_ {
        let mut occupied = self.occupied;
        let numbers = core::iter::from_fn(move || {
            let number = (occupied != 0).then(|| occupied.trailing_zeros() as usize)?;
            occupied &= occupied - 1;
            Some(number)
        });
        numbers.flat_map(|number| self.buckets[number].iter().map(|&(key, _)| key))
    }

    pub fn is_empty(&self) -> bool {
        self.occupied == 0
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use super::{WaitKey, WaitQueues, BUCKETS, KEPT_CAPACITY};
    use crate::{ensure, ensure_eq, ktest};

    ktest! {
        fn wait_queues_keep_each_keys_order_and_give_memory_back() {
            let mut ipc = mach_ipc::Ipc::new();
            let ports: alloc::vec::Vec<_> = (0..2 * BUCKETS as u64).map(|tag| ipc.allocate_kernel_port(tag)).collect();
            let mut queues = WaitQueues::<u32>::new();
            // Keys that share a bucket, interleaved: each keeps its own order.
            let colliding: alloc::vec::Vec<_> =
                ports.iter().map(|&port| WaitKey::Receive(port)).filter(|key| key.bucket() == 5).collect();
            ensure!(colliding.len() >= 2, "no two keys share a bucket");
            let (a, b) = (colliding[0], colliding[1]);
            for waiter in 0..4 {
                queues.push(a, waiter);
                queues.push(b, 100 + waiter);
                queues.push(WaitKey::Send(ports[0]), 200 + waiter);
            }
            ensure_eq!(queues.first(a), Some(0));
            ensure_eq!(queues.first(b), Some(100));
            queues.remove(a, 1);
            ensure_eq!(queues.pop(a), Some(0));
            ensure_eq!(queues.pop(a), Some(2));
            ensure_eq!(queues.pop(b), Some(100));
            ensure_eq!(queues.keys().filter(|&key| key == a).count(), 1);
            ensure_eq!(queues.pop(a), Some(3));
            ensure_eq!(queues.pop(a), None);
            ensure_eq!(queues.first(WaitKey::Send(ports[0])), Some(200));
            ensure_eq!(queues.first(WaitKey::Receive(ports[0])), None);
            // Many waiters on one key, then none: the bucket shrinks back.
            let key = WaitKey::Receive(ports[2 * BUCKETS - 1]);
            for waiter in 0..100 {
                queues.push(key, waiter);
            }
            for waiter in 0..100 {
                ensure_eq!(queues.pop(key), Some(waiter));
            }
            ensure!(queues.buckets[key.bucket()].capacity() <= KEPT_CAPACITY);
            while queues.pop(b).is_some() {}
            for waiter in 0..4 {
                queues.remove(WaitKey::Send(ports[0]), 200 + waiter);
            }
            ensure!(queues.is_empty());
            Ok(())
        }
    }
}
