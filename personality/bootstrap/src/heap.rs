//! The bootstrap task's heap: a buddy allocator over memory from
//! `vm_allocate` (the name service's tables and the ELF reader need one).

use buddy_system_allocator::LockedHeap;
use libmach::abi::VM_FLAGS_ANYWHERE;
use libmach::trap::{task_self, vm_allocate};

const HEAP_SIZE: u64 = 1024 * 1024;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Gives the heap its memory. Allocation fails (and panics) before this.
pub fn init() {
    if let Ok(start) = vm_allocate(task_self(), 0, HEAP_SIZE, VM_FLAGS_ANYWHERE) {
        // SAFETY: `vm_allocate` just gave this task `HEAP_SIZE` bytes of
        // zeroed read-write memory at `start`, used by nothing else.
        unsafe { HEAP.lock().init(start as usize, HEAP_SIZE as usize) };
    }
}
