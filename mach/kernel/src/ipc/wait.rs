//! Wait queues: threads blocked in `mach_msg`, first come first served.

use crate::thread::ThreadId;
use alloc::collections::{BTreeMap, VecDeque};
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

pub struct WaitQueues {
    queues: BTreeMap<WaitKey, VecDeque<ThreadId>>,
}

impl WaitQueues {
    pub const fn new() -> Self {
        Self { queues: BTreeMap::new() }
    }

    pub fn push(&mut self, key: WaitKey, thread: ThreadId) {
        self.queues.entry(key).or_default().push_back(thread);
    }

    /// Takes the longest-waiting thread off `key`'s queue.
    pub fn pop(&mut self, key: WaitKey) -> Option<ThreadId> {
        let queue = self.queues.get_mut(&key)?;
        let thread = queue.pop_front();
        if queue.is_empty() {
            self.queues.remove(&key);
        }
        thread
    }

    /// The longest-waiting thread on `key`, left in the queue.
    pub fn first(&self, key: WaitKey) -> Option<ThreadId> {
        self.queues.get(&key)?.front().copied()
    }

    /// Takes `thread` off `key`'s queue (it woke for another reason).
    pub fn remove(&mut self, key: WaitKey, thread: ThreadId) {
        if let Some(queue) = self.queues.get_mut(&key) {
            queue.retain(|&waiting| waiting != thread);
            if queue.is_empty() {
                self.queues.remove(&key);
            }
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = WaitKey> + '_ {
        self.queues.keys().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }
}
