//! A toy pager: serves memory objects to `pager-client` the way the memory
//! server will (docs/vm.md), from one port that takes both the client's
//! requests and the kernel's pager messages.
//!
//! Objects: Z, zero-filled; A, a "parent" with contents ('A' and 'B' pages);
//! E, whose pages cannot be had (data_error). On the client's "fork" it
//! write-locks A, takes back A's resident pages as the snapshot, and makes
//! B, the "child", whose pages are the snapshot, supplied write-locked. A
//! write to either side sends data_unlock: the pager gives the page to the
//! writer alone (B's copy is already its own frame; A's is unlocked once B
//! has the snapshot), so neither side sees the other's writes: copy on
//! write, built from pager locks. Client requests (ids 1..=5) and replies
//! are described in `pager-client.rs`.
#![no_std]
#![no_main]

use libmach::abi::{
    msgh_bits, parse_received, Descriptor, Disposition, KernReturn, MachMsgHeader, MessageEncoder, PagerRequestBody,
    PortName, MACH_RCV_MSG, MACH_SEND_MSG, MEMORY_OBJECT_DATA_REQUEST_ID, MEMORY_OBJECT_DATA_UNLOCK_ID,
    MEMORY_OBJECT_FLUSH, MEMORY_OBJECT_RETURN_ALL, VM_PROT_NONE, VM_PROT_WRITE,
};
use libmach::pager::{data_error, data_supply, data_unavailable, lock_request, memory_object_create};
use libmach::trap::{mach_msg, port_deallocate, task_self, MessageBuffer};
use mach_usertests::{message, println};

libmach::entry!(main);

const PAGE: usize = 4096;

struct Pager {
    service: PortName,
    zero: PortName,
    parent: PortName,
    child: PortName,
    broken: PortName,
    bench: PortName,
    /// The parent's backing store, and the child's view from the fork.
    parent_store: [[u8; PAGE]; 2],
    snapshot: [[u8; PAGE]; 2],
    forked: bool,
    child_private: [bool; 2],
    requests: u32,
    unlocks: u32,
}

fn main(argument: u64) {
    let mut pager = Pager {
        service: argument as u32,
        zero: 0,
        parent: 0,
        child: 0,
        broken: 0,
        bench: 0,
        parent_store: [[0; PAGE]; 2],
        snapshot: [[0; PAGE]; 2],
        forked: false,
        child_private: [false; 2],
        requests: 0,
        unlocks: 0,
    };
    pager.parent_store[0].fill(b'A');
    pager.parent_store[1].fill(b'B');
    let mut buffer = MessageBuffer::<512>::new();
    loop {
        if let Err(error) = mach_msg(&mut buffer, MACH_RCV_MSG, 0, pager.service, 0) {
            println!("pager: receive failed: {error:?}");
            return;
        }
        if let Err(error) = pager.handle(&mut buffer) {
            println!("pager: request {} failed: {error:?}", message::id(&buffer));
        }
    }
}

impl Pager {
    fn handle(&mut self, buffer: &mut MessageBuffer<512>) -> Result<(), KernReturn> {
        let id = message::id(buffer);
        if id == MEMORY_OBJECT_DATA_REQUEST_ID || id == MEMORY_OBJECT_DATA_UNLOCK_ID {
            let (view, _) = parse_received(&buffer.0).map_err(|_| KernReturn::InvalidArgument)?;
            let Some(Descriptor::Port { name: object, .. }) = view.descriptors().next() else {
                return Err(KernReturn::InvalidArgument);
            };
            let body = PagerRequestBody::from_bytes(view.inline_data).ok_or(KernReturn::InvalidArgument)?;
            // The message carried one more reference to a name we hold.
            let _ = port_deallocate(task_self(), object);
            return if id == MEMORY_OBJECT_DATA_REQUEST_ID {
                self.requests += 1;
                self.supply(object, body.offset)
            } else {
                self.unlocks += 1;
                self.unlock(object, body.offset)
            };
        }
        let reply = message::word(buffer, 2);
        match id {
            1 => {
                self.zero = memory_object_create(self.service, 4 * PAGE as u64)?;
                self.parent = memory_object_create(self.service, 2 * PAGE as u64)?;
                self.broken = memory_object_create(self.service, PAGE as u64)?;
                send_rights(reply, 101, &[self.zero, self.parent, self.broken])
            }
            2 => {
                self.fork()?;
                send_rights(reply, 102, &[self.child])
            }
            3 => send_words(reply, 103, &[self.requests, self.unlocks]),
            5 => {
                // Drop Z's page 1 from memory without taking it back: the
                // next touch asks again and gets a zero page.
                lock_request(self.zero, PAGE as u64, PAGE as u64, VM_PROT_NONE, MEMORY_OBJECT_FLUSH, None)?;
                send_words(reply, 105, &[])
            }
            4 => {
                let pages = message::word(buffer, 6) as u64;
                self.bench = memory_object_create(self.service, pages * PAGE as u64)?;
                send_rights(reply, 104, &[self.bench])
            }
            _ => Err(KernReturn::InvalidArgument),
        }
    }

    fn supply(&mut self, object: PortName, offset: u64) -> Result<(), KernReturn> {
        let page = (offset as usize / PAGE).min(1);
        if object == self.parent {
            let lock = if self.forked { VM_PROT_WRITE } else { VM_PROT_NONE };
            data_supply(object, offset, &self.parent_store[page], lock)
        } else if object == self.child {
            let lock = if self.child_private[page] { VM_PROT_NONE } else { VM_PROT_WRITE };
            data_supply(object, offset, &self.snapshot[page], lock)
        } else if object == self.broken {
            data_error(object, offset, PAGE as u64, KernReturn::MemoryError)
        } else if object == self.zero || object == self.bench {
            data_unavailable(object, offset, PAGE as u64)
        } else {
            // Not one of ours (a client made an object naming our port):
            // never answered, so its toucher waits until we die.
            println!("pager: not answering for an object it did not make");
            Ok(())
        }
    }

    /// A write hit a write-locked page: from now on it is the writer's own.
    fn unlock(&mut self, object: PortName, offset: u64) -> Result<(), KernReturn> {
        if object == self.child {
            self.child_private[(offset as usize / PAGE).min(1)] = true;
        }
        // The parent's page may change now: the child's view of it is the
        // snapshot, taken at the fork.
        lock_request(object, offset, PAGE as u64, VM_PROT_NONE, 0, None)
    }

    /// Write-locks the parent, takes its current pages as the snapshot and
    /// makes the child object.
    fn fork(&mut self) -> Result<(), KernReturn> {
        let mut returned = [0u8; 2 * PAGE];
        returned[..PAGE].copy_from_slice(&self.parent_store[0]);
        returned[PAGE..].copy_from_slice(&self.parent_store[1]);
        lock_request(self.parent, 0, 2 * PAGE as u64, VM_PROT_WRITE, MEMORY_OBJECT_RETURN_ALL, Some(&mut returned))?;
        for page in 0..2 {
            self.snapshot[page].copy_from_slice(&returned[page * PAGE..(page + 1) * PAGE]);
            self.parent_store[page].copy_from_slice(&returned[page * PAGE..(page + 1) * PAGE]);
        }
        self.forked = true;
        self.child = memory_object_create(self.service, 2 * PAGE as u64)?;
        Ok(())
    }
}

fn send_rights(reply: PortName, id: i32, rights: &[PortName]) -> Result<(), KernReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let header = MachMsgHeader {
        bits: msgh_bits(Disposition::MoveSendOnce as u32, 0),
        size: 0,
        remote_port: reply,
        local_port: 0,
        voucher_port: 0,
        id,
    };
    let mut encoder = MessageEncoder::new(&mut buffer.0, header, true);
    for &name in rights {
        encoder
            .descriptor(Descriptor::Port { name, disposition: Disposition::CopySend })
            .map_err(|_| KernReturn::InvalidArgument)?;
    }
    let size = encoder.finish().map_err(|_| KernReturn::InvalidArgument)?;
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0).map_err(|error| {
        println!("pager: reply {id} not sent: {error:?}");
        KernReturn::Failure
    })
}

fn send_words(reply: PortName, id: i32, words: &[u32]) -> Result<(), KernReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let size = message::write(&mut buffer, reply, Disposition::MoveSendOnce as u32, 0, 0, id, words);
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0).map_err(|_| KernReturn::Failure)
}
