//! The programs' heap: a buddy allocator over memory from `vm_allocate`.
//! Each program includes this file (`#[path]`): it is no part of the
//! library, which is also built on the host with `std`'s allocator.

use buddy_system_allocator::LockedHeap;
use libmach::abi::{KernReturn, VM_FLAGS_ANYWHERE};
use libmach::trap::{task_self, vm_allocate};

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Gives the heap `size` bytes of fresh memory. Allocation fails (and the
/// program stops) before this.
pub fn init(size: u64) -> Result<(), KernReturn> {
    let start = vm_allocate(task_self(), 0, size, VM_FLAGS_ANYWHERE)?;
    // SAFETY: `vm_allocate` just gave this task `size` bytes of zeroed
    // read-write memory at `start`, used by nothing else.
    unsafe { HEAP.lock().init(start as usize, size as usize) };
    Ok(())
}
