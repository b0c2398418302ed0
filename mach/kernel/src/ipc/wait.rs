//! Wait queues: threads blocked in `mach_msg`, first come first served.
//!
//! One list of (what, who) in arrival order. Blocked threads are few (at
//! most one entry per thread), so a linear scan is cheap, and once the list
//! has grown to its working size blocking and waking allocate nothing —
//! which matters on the RPC path, where every call blocks twice.

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

pub struct WaitQueues {
    waiting: Vec<(WaitKey, ThreadId)>,
}

impl WaitQueues {
    pub const fn new() -> Self {
        Self { waiting: Vec::new() }
    }

    pub fn push(&mut self, key: WaitKey, thread: ThreadId) {
        self.waiting.push((key, thread));
    }

    /// The longest-waiting thread on `key`, left in the queue.
    pub fn first(&self, key: WaitKey) -> Option<ThreadId> {
        self.waiting.iter().find(|(waiting_for, _)| *waiting_for == key).map(|&(_, thread)| thread)
    }

    /// Takes the longest-waiting thread off `key`'s queue.
    pub fn pop(&mut self, key: WaitKey) -> Option<ThreadId> {
        let index = self.waiting.iter().position(|(waiting_for, _)| *waiting_for == key)?;
        Some(self.waiting.remove(index).1)
    }

    /// Takes `thread` off `key`'s queue (it woke for another reason).
    pub fn remove(&mut self, key: WaitKey, thread: ThreadId) {
        if let Some(index) = self.waiting.iter().position(|&entry| entry == (key, thread)) {
            self.waiting.remove(index);
        }
    }

    /// Every key someone waits on (a key may repeat).
    pub fn keys(&self) -> impl Iterator<Item = WaitKey> + '_ {
        self.waiting.iter().map(|&(key, _)| key)
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}
