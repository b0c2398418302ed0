//! The server's heap: a buddy allocator that grows by `vm_allocate` when it
//! runs out (a memory server's layouts grow with the processes it serves).

use buddy_system_allocator::{Heap, LockedHeapWithRescue};
use core::alloc::Layout;
use libmach::abi::VM_FLAGS_ANYWHERE;
use libmach::trap::{task_self, vm_allocate};

/// The least the heap grows by at a time.
const GROWTH: u64 = 1 << 20;

#[global_allocator]
static HEAP: LockedHeapWithRescue<32> = LockedHeapWithRescue::new(grow);

/// Gives the heap more memory: at least twice what the failed request
/// needs. A failure leaves the request failing (the allocation error).
fn grow(heap: &mut Heap<32>, layout: &Layout) {
    let size = (layout.size().max(layout.align()) as u64 * 2).max(GROWTH).next_multiple_of(4096);
    if let Ok(start) = vm_allocate(task_self(), 0, size, VM_FLAGS_ANYWHERE) {
        // SAFETY: `vm_allocate` just gave this task `size` bytes of zeroed
        // read-write memory at `start`, used by nothing else.
        unsafe { heap.add_to_heap(start as usize, (start + size) as usize) };
    }
}
