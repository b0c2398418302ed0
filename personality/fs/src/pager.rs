//! The pager side of mapped files: the kernel's page requests, answered
//! from the core ([`mach_vfs::server::mapping`]).
//!
//! The kernel sends `MEMORY_OBJECT_DATA_REQUEST` (a page is touched and not
//! cached) and `MEMORY_OBJECT_DATA_UNLOCK` (a write hit a write-locked page)
//! to the pager port every object was made with; both carry a send right
//! to the object's port (the name the server already holds: the extra
//! reference is released) and the page's offset. Only the kernel's are
//! served (trailer sender 0): a task cannot make the server supply pages.

use libmach::abi::{
    parse_received, Descriptor, KernReturn, PagerRequestBody, PortName, MEMORY_OBJECT_DATA_REQUEST_ID,
    MEMORY_OBJECT_DATA_UNLOCK_ID,
};
use libmach::{Dispatch, PortKernel, SendRight};
use mach_vfs::server::mapping::{PageAnswer, PAGE_SIZE};
use mach_vfs::Errno;

use crate::FileService;

/// The kernel calls a pager answers with (`libmach::pager` on Mach_R).
pub trait KernelPager {
    /// `memory_object_data_supply`.
    fn supply(&mut self, object: PortName, offset: u64, data: &[u8], write_locked: bool) -> Result<(), KernReturn>;
    /// `memory_object_data_error`: the touching threads fault.
    fn refuse(&mut self, object: PortName, offset: u64, size: u64) -> Result<(), KernReturn>;
    /// `memory_object_lock_request(..., VM_PROT_NONE, ...)`: lifts the write lock.
    fn unlock(&mut self, object: PortName, offset: u64, size: u64) -> Result<(), KernReturn>;
}

/// What the kernel asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagerRequest {
    pub object: PortName,
    pub offset: u64,
    pub length: u64,
    /// A write hit a write-locked page (else: a page is wanted).
    pub unlock: bool,
}

impl PagerRequest {
    /// Reads a pager request, if `message` is one the kernel sent; the
    /// object reference it carried is released.
    pub fn parse<K: PortKernel>(kernel: &K, message: &[u8]) -> Option<PagerRequest> {
        let (view, trailer) = parse_received(message).ok()?;
        let unlock = match view.header.id {
            MEMORY_OBJECT_DATA_REQUEST_ID => false,
            MEMORY_OBJECT_DATA_UNLOCK_ID => true,
            _ => return None,
        };
        let object = match view.descriptors().next() {
            Some(Descriptor::Port { name, .. }) => name,
            _ => return None,
        };
        // The message added a reference to a name we hold: give it back.
        drop(SendRight::from_received(kernel, object));
        if trailer.sender != 0 {
            return None;
        }
        let body = PagerRequestBody::from_bytes(view.inline_data)?;
        Some(PagerRequest { object, offset: body.offset, length: body.length, unlock })
    }
}

impl<K: PortKernel> FileService<K> {
    /// A send right to `object` (one of the objects the server made) for a
    /// client that maps it.
    pub(crate) fn object_right(&self, object: u64) -> Result<SendRight<K>, Errno> {
        let name = PortName::try_from(object).map_err(|_| Errno::InvalidArgument)?;
        let ours = SendRight::from_name(&self.kernel, name);
        let copy = ours.try_clone().map_err(|_| Errno::OutOfMemory);
        // The server's own reference stays; only the copy goes out.
        ours.into_name();
        copy
    }

    /// Serves a pager message, if `message` is one: `Dispatch::NoReply`
    /// (the kernel wants calls, not a reply), else `Dispatch::UnknownId`.
    pub fn pager_message(&mut self, message: &[u8], pager: &mut dyn KernelPager) -> Dispatch {
        let Some(header) = libmach::abi::MachMsgHeader::read_from(message) else { return Dispatch::UnknownId };
        if header.id != MEMORY_OBJECT_DATA_REQUEST_ID && header.id != MEMORY_OBJECT_DATA_UNLOCK_ID {
            return Dispatch::UnknownId;
        }
        if let Some(request) = PagerRequest::parse(&self.kernel, message) {
            self.serve_page(request, pager);
        }
        Dispatch::NoReply
    }

    fn serve_page(&mut self, request: PagerRequest, pager: &mut dyn KernelPager) {
        let object = request.object as u64;
        let pages = request.length.max(PAGE_SIZE).div_ceil(PAGE_SIZE);
        for index in 0..pages {
            let offset = request.offset + index * PAGE_SIZE;
            if request.unlock {
                match self.core.page_unlock(object, offset) {
                    Ok(()) => {
                        let _ = pager.unlock(request.object, offset, PAGE_SIZE);
                    }
                    Err(_) => {
                        let _ = pager.refuse(request.object, offset, PAGE_SIZE);
                    }
                }
                continue;
            }
            match self.core.page_request(object, offset) {
                PageAnswer::Data { contents, write_locked } => {
                    if pager.supply(request.object, offset, &contents, write_locked).is_err() {
                        let _ = pager.refuse(request.object, offset, PAGE_SIZE);
                    }
                }
                PageAnswer::Error(_) => {
                    let _ = pager.refuse(request.object, offset, PAGE_SIZE);
                }
            }
        }
    }
}
