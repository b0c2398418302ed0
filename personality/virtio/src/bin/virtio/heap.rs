//! The driver's heap: a buddy allocator over memory from `vm_allocate`
//! (the device tables are vectors).

use buddy_system_allocator::LockedHeap;
use libmach::abi::VM_FLAGS_ANYWHERE;
use libmach::trap::{task_self, vm_allocate};

const HEAP_SIZE: u64 = 256 * 1024;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Gives the heap its memory; false if there is none to be had.
pub fn init() -> bool {
    match vm_allocate(task_self(), 0, HEAP_SIZE, VM_FLAGS_ANYWHERE) {
        Ok(start) => {
            // SAFETY: `vm_allocate` just gave this task `HEAP_SIZE` bytes of
            // zeroed read-write memory at `start`, used by nothing else.
            unsafe { HEAP.lock().init(start as usize, HEAP_SIZE as usize) };
            true
        }
        Err(_) => false,
    }
}
