//! A split virtqueue (virtio 1.0, 2.4): descriptor table, available ring
//! and used ring in DMA memory, shared with the device.
//!
//! The driver's own bookkeeping (the free list, which heads are in flight
//! and how long their chains are) is kept in ordinary memory, never read
//! back from the shared rings, so a device that writes garbage into the
//! used ring gets [`QueueError::DeviceMisbehaved`] instead of making the
//! driver follow its pointers.
//!
//! Layout in the DMA region, from `base`: descriptors (16 bytes each,
//! 16-aligned), the available ring (flags, index, `size` entries, event),
//! then, at the next 4 KiB boundary, the used ring (flags, index, `size`
//! entries of 8 bytes, event). [`SplitQueue::region_size`] says how much
//! that takes.

use crate::memory::{AccessError, Memory};
use crate::transport::{QueueAddresses, QueueNotifier, Transport};
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};

const DESCRIPTOR_NEXT: u16 = 1;
const DESCRIPTOR_WRITE: u16 = 2;
const USED_NO_NOTIFY: u16 = 1;
const PAGE: usize = 4096;

/// One buffer of a request: `length` bytes at `physical`, which the
/// device reads (`device_writes` false) or fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub physical: u64,
    pub length: u32,
    pub device_writes: bool,
}

/// A request the device has finished: the head descriptor [`SplitQueue::push`]
/// returned, and how many bytes the device wrote into its buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    pub head: u16,
    pub written: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// Not enough free descriptors for the chain.
    Full,
    /// A chain of no buffers, or longer than the queue.
    BadChain,
    /// The used ring names a head that is not in flight, or a used index
    /// that ran ahead of what was made available.
    DeviceMisbehaved,
    Access,
}

impl From<AccessError> for QueueError {
    fn from(_: AccessError) -> Self {
        QueueError::Access
    }
}

pub struct SplitQueue {
    size: u16,
    base: usize,
    physical: u64,
    /// Next free descriptor after each free one (the free list).
    next: Vec<u16>,
    free_head: u16,
    free_count: u16,
    /// For each head in flight: the length of its chain.
    in_flight: Vec<Option<u16>>,
    next_available: u16,
    last_used: u16,
}

impl SplitQueue {
    /// Bytes of DMA memory a queue of `size` entries takes.
    pub fn region_size(size: u16) -> usize {
        let size = size as usize;
        let used = (16 * size + 6 + 2 * size).div_ceil(PAGE) * PAGE;
        used + (6 + 8 * size).div_ceil(PAGE) * PAGE
    }

    fn available_offset(&self) -> usize {
        self.base + 16 * self.size as usize
    }

    fn used_offset(&self) -> usize {
        self.base + (16 * self.size as usize + 6 + 2 * self.size as usize).div_ceil(PAGE) * PAGE
    }

    /// A queue of `size` entries (a power of two) in `memory` from `base`,
    /// whose physical address is `physical`; zeroes its rings.
    pub fn new(memory: &impl Memory, base: usize, physical: u64, size: u16) -> Result<Self, QueueError> {
        if size == 0 || !size.is_power_of_two() || !base.is_multiple_of(PAGE) {
            return Err(QueueError::BadChain);
        }
        if base.checked_add(Self::region_size(size)).is_none_or(|end| end > memory.size()) {
            return Err(QueueError::Access);
        }
        memory.zero(base, Self::region_size(size))?;
        Ok(Self {
            size,
            base,
            physical,
            next: (1..=size).collect(),
            free_head: 0,
            free_count: size,
            in_flight: alloc::vec![None; size as usize],
            next_available: 0,
            last_used: 0,
        })
    }

    pub fn size(&self) -> u16 {
        self.size
    }

    /// How many more descriptors fit.
    pub fn free_descriptors(&self) -> u16 {
        self.free_count
    }

    /// How many requests the device has not finished.
    pub fn in_flight(&self) -> usize {
        self.in_flight.iter().filter(|chain| chain.is_some()).count()
    }

    /// The physical addresses to give the device.
    pub fn addresses(&self) -> QueueAddresses {
        let offset = |at: usize| self.physical + (at - self.base) as u64;
        QueueAddresses {
            descriptors: self.physical,
            available: offset(self.available_offset()),
            used: offset(self.used_offset()),
        }
    }

    /// Makes `chain` available to the device; returns its head (the
    /// request's token until [`Self::pop_used`] returns it).
    pub fn push(&mut self, memory: &impl Memory, chain: &[Buffer]) -> Result<u16, QueueError> {
        if chain.is_empty() || chain.len() > self.size as usize {
            return Err(QueueError::BadChain);
        }
        if chain.len() > self.free_count as usize {
            return Err(QueueError::Full);
        }
        let head = self.free_head;
        let mut index = head;
        for (position, buffer) in chain.iter().enumerate() {
            let last = position + 1 == chain.len();
            let next = self.next[index as usize];
            let descriptor = self.base + 16 * index as usize;
            let flags =
                if last { 0 } else { DESCRIPTOR_NEXT } | if buffer.device_writes { DESCRIPTOR_WRITE } else { 0 };
            memory.write_u64(descriptor, buffer.physical)?;
            memory.write_u32(descriptor + 8, buffer.length)?;
            memory.write_u16(descriptor + 12, flags)?;
            memory.write_u16(descriptor + 14, if last { 0 } else { next })?;
            if !last {
                index = next;
            } else {
                self.free_head = next;
            }
        }
        self.free_count -= chain.len() as u16;
        self.in_flight[head as usize] = Some(chain.len() as u16);
        let available = self.available_offset();
        let slot = available + 4 + 2 * (self.next_available % self.size) as usize;
        memory.write_u16(slot, head)?;
        // The device must see the descriptors and the ring entry before
        // the new index.
        fence(Ordering::SeqCst);
        self.next_available = self.next_available.wrapping_add(1);
        memory.write_u16(available + 2, self.next_available)?;
        fence(Ordering::SeqCst);
        Ok(head)
    }

    /// Whether the device wants to be told about new buffers (it may say
    /// it is polling the ring already).
    pub fn needs_notification(&self, memory: &impl Memory) -> Result<bool, QueueError> {
        fence(Ordering::SeqCst);
        Ok(memory.read_u16(self.used_offset())? & USED_NO_NOTIFY == 0)
    }

    /// The next request the device finished, if any; its descriptors are
    /// free again.
    pub fn pop_used(&mut self, memory: &impl Memory) -> Result<Option<Used>, QueueError> {
        let used = self.used_offset();
        let device_index = memory.read_u16(used + 2)?;
        if device_index == self.last_used {
            return Ok(None);
        }
        let outstanding = self.next_available.wrapping_sub(self.last_used);
        if device_index.wrapping_sub(self.last_used) > outstanding {
            return Err(QueueError::DeviceMisbehaved);
        }
        // Read the element only after seeing the index that covers it.
        fence(Ordering::SeqCst);
        let element = used + 4 + 8 * (self.last_used % self.size) as usize;
        let head = memory.read_u32(element)?;
        let written = memory.read_u32(element + 4)?;
        let head = u16::try_from(head).ok().filter(|&head| head < self.size).ok_or(QueueError::DeviceMisbehaved)?;
        let length = self.in_flight[head as usize].take().ok_or(QueueError::DeviceMisbehaved)?;
        // Give the chain back: walk our own copy of its links.
        let mut last = head;
        for _ in 1..length {
            last = self.next[last as usize];
        }
        self.next[last as usize] = self.free_head;
        self.free_head = head;
        self.free_count += length;
        self.last_used = self.last_used.wrapping_add(1);
        Ok(Some(Used { head, written }))
    }
}

/// A queue set up on a device: submitting tells the device (unless it
/// asked not to be told), completing reads the used ring.
pub struct DeviceQueue {
    queue: SplitQueue,
    notifier: QueueNotifier,
}

impl DeviceQueue {
    pub fn new(queue: SplitQueue, notifier: QueueNotifier) -> Self {
        Self { queue, notifier }
    }

    pub fn queue(&self) -> &SplitQueue {
        &self.queue
    }

    /// Makes `chain` available and notifies the device; returns its token.
    pub fn submit<M: Memory, R: Memory>(
        &mut self,
        transport: &Transport<M>,
        rings: &R,
        chain: &[Buffer],
    ) -> Result<u16, QueueError> {
        let token = self.queue.push(rings, chain)?;
        if self.queue.needs_notification(rings)? {
            transport.notify(self.notifier).map_err(|_| QueueError::Access)?;
        }
        Ok(token)
    }

    /// The next finished request.
    pub fn complete<R: Memory>(&mut self, rings: &R) -> Result<Option<Used>, QueueError> {
        self.queue.pop_used(rings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::fake::FakeMemory;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// The device's side of a queue, reading the rings as a device would.
    struct FakeDevice {
        size: u16,
        seen: u16,
        used: u16,
    }

    impl FakeDevice {
        /// Chains made available since last time: (head, buffers).
        fn take_available(&mut self, memory: &FakeMemory, queue: &SplitQueue) -> Vec<(u16, Vec<Buffer>)> {
            let available = queue.available_offset();
            let index = memory.read_u16(available + 2).unwrap();
            let mut chains = Vec::new();
            while self.seen != index {
                let head = memory.read_u16(available + 4 + 2 * (self.seen % self.size) as usize).unwrap();
                let mut buffers = Vec::new();
                let mut descriptor = head;
                loop {
                    let at = queue.base + 16 * descriptor as usize;
                    let flags = memory.read_u16(at + 12).unwrap();
                    buffers.push(Buffer {
                        physical: memory.read_u64(at).unwrap(),
                        length: memory.read_u32(at + 8).unwrap(),
                        device_writes: flags & DESCRIPTOR_WRITE != 0,
                    });
                    if flags & DESCRIPTOR_NEXT == 0 {
                        break;
                    }
                    descriptor = memory.read_u16(at + 14).unwrap();
                    assert!(buffers.len() <= self.size as usize, "descriptor loop");
                }
                chains.push((head, buffers));
                self.seen = self.seen.wrapping_add(1);
            }
            chains
        }

        fn complete(&mut self, memory: &FakeMemory, queue: &SplitQueue, head: u32, written: u32) {
            let used = queue.used_offset();
            let element = used + 4 + 8 * (self.used % self.size) as usize;
            memory.write_u32(element, head).unwrap();
            memory.write_u32(element + 4, written).unwrap();
            self.used = self.used.wrapping_add(1);
            memory.write_u16(used + 2, self.used).unwrap();
        }
    }

    fn buffer(physical: u64, length: u32, device_writes: bool) -> Buffer {
        Buffer { physical, length, device_writes }
    }

    #[test]
    fn a_request_goes_round_and_its_descriptors_come_back() {
        let memory = FakeMemory::new(SplitQueue::region_size(8));
        let mut queue = SplitQueue::new(&memory, 0, 0x10_0000, 8).unwrap();
        let mut device = FakeDevice { size: 8, seen: 0, used: 0 };
        let chain = [buffer(0x2000, 16, false), buffer(0x3000, 512, true), buffer(0x4000, 1, true)];
        let head = queue.push(&memory, &chain).unwrap();
        assert_eq!(queue.free_descriptors(), 5);
        let seen = device.take_available(&memory, &queue);
        assert_eq!(seen, [(head, chain.to_vec())]);
        assert_eq!(queue.pop_used(&memory), Ok(None));
        device.complete(&memory, &queue, head as u32, 513);
        assert_eq!(queue.pop_used(&memory), Ok(Some(Used { head, written: 513 })));
        assert_eq!(queue.free_descriptors(), 8);
        assert_eq!(queue.pop_used(&memory), Ok(None));
        let addresses = queue.addresses();
        assert_eq!(addresses.descriptors, 0x10_0000);
        assert_eq!(addresses.available, 0x10_0000 + 128);
        assert_eq!(addresses.used % 4096, 0);
    }

    #[test]
    fn a_full_queue_refuses_and_bad_chains_are_refused() {
        let memory = FakeMemory::new(SplitQueue::region_size(4));
        let mut queue = SplitQueue::new(&memory, 0, 0, 4).unwrap();
        assert_eq!(queue.push(&memory, &[]), Err(QueueError::BadChain));
        assert!(queue.push(&memory, &[buffer(0, 1, false); 3]).is_ok());
        assert_eq!(queue.push(&memory, &[buffer(0, 1, false); 2]), Err(QueueError::Full));
        assert_eq!(queue.push(&memory, &[buffer(0, 1, false); 5]), Err(QueueError::BadChain));
        assert!(SplitQueue::new(&memory, 0, 0, 3).is_err());
        assert!(SplitQueue::new(&memory, 0, 0, 256).is_err(), "does not fit");
    }

    #[test]
    fn a_misbehaving_device_is_caught() {
        let memory = FakeMemory::new(SplitQueue::region_size(8));
        let mut queue = SplitQueue::new(&memory, 0, 0, 8).unwrap();
        let mut device = FakeDevice { size: 8, seen: 0, used: 0 };
        let head = queue.push(&memory, &[buffer(0, 1, true)]).unwrap();
        device.take_available(&memory, &queue);
        // A head that is not in flight.
        device.complete(&memory, &queue, (head + 1) as u32, 0);
        assert_eq!(queue.pop_used(&memory), Err(QueueError::DeviceMisbehaved));
        // A head beyond the queue.
        let memory = FakeMemory::new(SplitQueue::region_size(8));
        let mut queue = SplitQueue::new(&memory, 0, 0, 8).unwrap();
        let mut device = FakeDevice { size: 8, seen: 0, used: 0 };
        queue.push(&memory, &[buffer(0, 1, true)]).unwrap();
        device.complete(&memory, &queue, 4000, 0);
        assert_eq!(queue.pop_used(&memory), Err(QueueError::DeviceMisbehaved));
        // A used index running ahead of what was made available.
        let memory = FakeMemory::new(SplitQueue::region_size(8));
        let mut queue = SplitQueue::new(&memory, 0, 0, 8).unwrap();
        memory.write_u16(queue.used_offset() + 2, 5).unwrap();
        assert_eq!(queue.pop_used(&memory), Err(QueueError::DeviceMisbehaved));
    }

    proptest! {
        /// Random pushes of random chains and completions in any order, over
        /// many wraps of the 16-bit indices: every request comes back once,
        /// with what the device wrote, and no descriptor is lost.
        #[test]
        fn requests_complete_once_in_any_order(
            operations in proptest::collection::vec((0u8..3, 1usize..5, any::<u16>()), 1..400),
        ) {
            let size = 16u16;
            let memory = FakeMemory::new(SplitQueue::region_size(size));
            let mut queue = SplitQueue::new(&memory, 0, 0x1000, size).unwrap();
            let mut device = FakeDevice { size, seen: 0, used: 0 };
            let mut device_pending: VecDeque<(u16, Vec<Buffer>)> = VecDeque::new();
            let mut expected: std::collections::BTreeMap<u16, (Vec<Buffer>, u32)> = Default::default();
            let mut tag = 0u64;
            for (operation, length, choice) in operations {
                match operation {
                    0 => {
                        tag += 1;
                        let chain: Vec<Buffer> = (0..length).map(|i| buffer(tag << 8 | i as u64, i as u32 + 1, i % 2 == 1)).collect();
                        match queue.push(&memory, &chain) {
                            Ok(head) => { expected.insert(head, (chain, 0)); }
                            Err(QueueError::Full) => prop_assert!(queue.free_descriptors() < length as u16),
                            Err(other) => prop_assert!(false, "push failed: {other:?}"),
                        }
                        device_pending.extend(device.take_available(&memory, &queue));
                    }
                    1 if !device_pending.is_empty() => {
                        let index = choice as usize % device_pending.len();
                        let (head, chain) = device_pending.remove(index).unwrap();
                        prop_assert_eq!(&expected[&head].0, &chain);
                        expected.get_mut(&head).unwrap().1 = choice as u32;
                        device.complete(&memory, &queue, head as u32, choice as u32);
                    }
                    _ => {
                        while let Some(used) = queue.pop_used(&memory).unwrap() {
                            let (_, written) = expected.remove(&used.head).expect("completed once");
                            prop_assert_eq!(written, used.written);
                        }
                    }
                }
                let in_chains: usize = expected.values().map(|(chain, _)| chain.len()).sum();
                prop_assert_eq!(queue.free_descriptors() as usize + in_chains, size as usize);
                prop_assert_eq!(queue.in_flight(), expected.len());
            }
        }
    }
}
