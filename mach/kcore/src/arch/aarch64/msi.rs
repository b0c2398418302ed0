//! Message-signalled interrupts: none on this port.
//!
//! The virt board's devices that user-space drivers serve (virtio-mmio)
//! interrupt through wired lines (`interrupts.rs`), so no vector space is
//! handed out: `interrupt_bind_msi` answers `KERN_NOT_SUPPORTED` here
//! (docs/vm.md, "Devices"). A port to PCI devices on this board would give
//! out GICv2m or ITS vectors behind the same interface as x86_64's `msi.rs`.

/// How many vectors there are to hand out.
pub const VECTOR_COUNT: usize = 0;

/// The vector of binding slot `index` (there are none).
pub const fn vector_of(index: usize) -> u8 {
    index as u8
}

/// The binding slot of `vector`: never one, there are no vectors.
pub fn index_of_vector(_vector: u64) -> Option<usize> {
    None
}

/// The address a device would write (unused: no slot is ever handed out).
pub fn message_address() -> u64 {
    0
}

/// The data a device would write (unused: no slot is ever handed out).
pub const fn message_data(vector: u8) -> u32 {
    vector as u32
}
