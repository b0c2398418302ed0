//! Memory objects and their pagers: the messages the kernel sends a pager
//! and the flags of the pager's traps.
//!
//! A pager is any task holding the receive right of a port it named when
//! it created the object (`memory_object_create(pager, size, &object)`).
//! With `MACH_PORT_NULL` as the pager the object is a *kernel object*: the
//! kernel zero-fills its pages on first touch and no message is ever sent
//! (anonymous shared memory).
//! The object's port (a kernel port; `object` above) is what regions map
//! (`vm_map`) and what the pager's answers name. When a thread touches a
//! page of a mapped object that is not in memory, the kernel sends the
//! pager a [`MEMORY_OBJECT_DATA_REQUEST_ID`] message and the thread waits;
//! the pager answers with `memory_object_data_supply`,
//! `memory_object_data_unavailable` (zero fill) or `memory_object_data_error`
//! (the waiting threads take an `EXC_BAD_ACCESS` exception). A write to a
//! page the pager supplied write-locked sends [`MEMORY_OBJECT_DATA_UNLOCK_ID`]
//! instead; the pager lifts the lock with `memory_object_lock_request`.
//!
//! Both messages carry, in order: a port descriptor with a send right to the
//! object's port (the same name the pager already holds for it; it should
//! deallocate the extra reference), then a [`PagerRequestBody`].

/// `memory_object_data_request`: the page at `offset` is wanted for `access`.
pub const MEMORY_OBJECT_DATA_REQUEST_ID: i32 = 2200;
/// `memory_object_data_unlock`: a write hit a write-locked page.
pub const MEMORY_OBJECT_DATA_UNLOCK_ID: i32 = 2201;

/// The inline part of a pager request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagerRequestBody {
    /// Byte offset in the object of the first page wanted.
    pub offset: u64,
    /// Bytes wanted (a whole number of pages; one page today).
    pub length: u64,
    /// `VM_PROT_*` access the faulting thread needs.
    pub access: u32,
    pub _reserved: u32,
}

pub const PAGER_REQUEST_BODY_SIZE: usize = core::mem::size_of::<PagerRequestBody>();
const _: () = assert!(PAGER_REQUEST_BODY_SIZE == 24);

impl PagerRequestBody {
    pub fn to_bytes(self) -> [u8; PAGER_REQUEST_BODY_SIZE] {
        let mut bytes = [0; PAGER_REQUEST_BODY_SIZE];
        bytes[0..8].copy_from_slice(&self.offset.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.length.to_le_bytes());
        bytes[16..20].copy_from_slice(&self.access.to_le_bytes());
        bytes
    }

    /// Reads a body; `None` if `bytes` is too short.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes = bytes.get(..PAGER_REQUEST_BODY_SIZE)?;
        let word = |range: core::ops::Range<usize>| u64::from_le_bytes(bytes[range].try_into().expect("8 bytes"));
        Some(Self {
            offset: word(0..8),
            length: word(8..16),
            access: u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes")),
            _reserved: 0,
        })
    }
}

/// `memory_object_lock_request` flags (its fifth argument).
/// Copy every resident page of the range into the caller's buffer (the
/// sixth argument) at the page's offset from the range's start.
pub const MEMORY_OBJECT_RETURN_ALL: u32 = 1;
/// Drop the range's pages from memory (every mapping and the object's
/// cache); the next touch asks the pager again. Applied after the return.
pub const MEMORY_OBJECT_FLUSH: u32 = 2;

/// Largest memory object (and largest single supply or return): 1 GiB.
pub const MEMORY_OBJECT_SIZE_MAX: u64 = 1 << 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies_round_trip() {
        let body = PagerRequestBody { offset: 0x5000, length: 4096, access: 3, _reserved: 0 };
        assert_eq!(PagerRequestBody::from_bytes(&body.to_bytes()), Some(body));
        assert_eq!(PagerRequestBody::from_bytes(&[0; 23]), None);
    }
}
