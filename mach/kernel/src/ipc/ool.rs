//! Out-of-line memory and port arrays in messages: the kernel's side of
//! `mach_ipc::TaskMemory`.
//!
//! Sending captures the sender's anonymous pages without copying a byte:
//! each present frame gets one more owner (the message, `memory::share`)
//! and the sender's mapping loses write access, so whichever side writes
//! first copies the page (copy-on-write, `VmMap::touch`). Pages never
//! touched are not captured at all: they arrive as zero-fill, so a sparse
//! region costs only its touched pages. With `deallocate` set the sender's
//! range is then deallocated, so a move hands the frames over outright.
//! Private copies in object mappings are the sender's own and shared the
//! same way. Object pages, wired (DMA) pages and device registers are
//! copied (their frames are not the sender's to share, or must not move). Receiving maps the captured frames as a new
//! read-write anonymous region of the receiver, write access coming back
//! page by page on the first write. Captured regions of messages that are
//! destroyed unreceived come back through `Ipc::take_released_regions` and
//! are released by `ipc::settle`. A page of an object mapping that only its
//! pager can bring fails the send with nothing changed; `mach_msg` waits
//! for the page (`VmMap::take_wanted_page`) and sends again.
#![forbid(unsafe_code)]

use crate::arch::paging::PageTables;
use crate::memory::{frame, share, Frame, PageFlags, PAGE_SIZE};
use crate::vm::{self, VmMap};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use mach_abi::{CopyOption, MachMsgReturn, PortName, VM_PROT_DEFAULT, VM_PROT_READ};
use mach_ipc::TaskMemory;

const PAGE: u64 = PAGE_SIZE as u64;

/// Captured pages a region's frame list has room for before it grows
/// (1 KiB of list).
const RESERVED_PAGES: usize = 64;

/// Pages captured from a sender, waiting in a queued message.
pub struct Captured {
    /// The captured frames with their page indexes, in increasing order; a
    /// missing index is a page the sender never touched (zero). A vector,
    /// not a map: it is only ever filled in order and walked in order (a
    /// `BTreeMap` cost about 200 instructions a page to fill and walk).
    frames: Vec<(u64, Frame)>,
    pages: u64,
    /// Where the data starts in the first page.
    offset: u64,
}

#[derive(Default)]
pub struct CapturedRegions {
    regions: BTreeMap<u64, Captured>,
    next_token: u64,
}

impl CapturedRegions {
    /// Frees a region whose message will never be received.
    pub fn release(&mut self, token: u64) {
        if let Some(captured) = self.regions.remove(&token) {
            for (_, frame) in captured.frames {
                share::release(frame);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }
}

/// One task's memory, as a message's sender or receiver sees it.
pub struct TaskAccess<'a> {
    pub tables: &'a mut PageTables,
    pub vm: &'a mut VmMap,
    pub captured: &'a mut CapturedRegions,
}

impl TaskAccess<'_> {
    /// One page of a region being sent, in `region` (the sender's region
    /// containing it): the frame the message will own (shared
    /// copy-on-write, or a copy for object and device pages), or `None` for
    /// an anonymous page never touched.
    fn capture_page(&mut self, page: u64, region: vm::Region) -> Result<Option<Frame>, MachMsgReturn> {
        if region.protection & VM_PROT_READ == 0 {
            return Err(MachMsgReturn::SendInvalidMemory);
        }
        if region.backing == vm::Backing::Anonymous {
            let Some((physical, flags)) = self.tables.translate(page) else { return Ok(None) };
            return Ok(Some(self.share_page(page, physical, flags)));
        }
        self.capture_other_page(page, region.backing)
    }

    /// `capture_page` for pages not of anonymous memory: a private copy in
    /// an object mapping is the sender's own too (shared the same way);
    /// anything else is copied.
    #[inline(never)]
    fn capture_other_page(&mut self, page: u64, backing: vm::Backing) -> Result<Option<Frame>, MachMsgReturn> {
        if let vm::Backing::Object { .. } = backing {
            if let Some((physical, flags)) = self.tables.translate(page) {
                if flags.contains(PageFlags::PRIVATE) {
                    return Ok(Some(self.share_page(page, physical, flags)));
                }
            }
        }
        if !crate::memory::can_spare(PAGE_SIZE) {
            return Err(MachMsgReturn::SendNoBuffer);
        }
        // An object page the pager must bring is remembered: the send fails
        // having changed nothing, `mach_msg` waits for the page and sends
        // again.
        let source =
            self.vm.touch_for_kernel(self.tables, page, VM_PROT_READ).map_err(|_| MachMsgReturn::SendInvalidMemory)?;
        let copy = frame::allocate().map_err(|_| MachMsgReturn::SendNoBuffer)?;
        copy.copy_from(source);
        Ok(Some(copy))
    }

    /// Shares the sender's own frame at `page` (at `physical`, mapped with
    /// `flags`) with the message, copy-on-write.
    fn share_page(&mut self, page: u64, physical: crate::memory::PhysicalAddress, flags: PageFlags) -> Frame {
        let frame = Frame::containing(physical);
        share::share(frame);
        if flags.contains(PageFlags::WRITABLE) {
            self.vm.deny_write_mapped(self.tables, page, flags);
        }
        frame
    }

    /// The task's address space, for user copies.
    pub fn space(&mut self) -> crate::memory::user::UserSpace<'_, crate::vm::VmMap> {
        crate::memory::user::UserSpace { tables: self.tables, vm: self.vm }
    }

    /// Allocates `pages` read-write pages anywhere in the task.
    fn allocate(&mut self, pages: u64) -> Result<u64, MachMsgReturn> {
        let start = self.vm.find_space(pages * PAGE, 0).ok_or(MachMsgReturn::ReceiveInvalidData)?;
        vm::allocate(self.vm, start, start + pages * PAGE, VM_PROT_DEFAULT)
            .map_err(|_| MachMsgReturn::ReceiveInvalidData)?;
        Ok(start)
    }
}

/// Gives up a partly captured region's frames (its send failed).
fn release_frames(frames: Vec<(u64, Frame)>) {
    for (_, frame) in frames {
        share::release(frame);
    }
}

impl TaskMemory for TaskAccess<'_> {
    fn capture_region(&mut self, address: u64, size: u32, _copy: CopyOption) -> Result<u64, MachMsgReturn> {
        let start = address & !(PAGE - 1);
        let end = address.checked_add(size as u64).ok_or(MachMsgReturn::SendInvalidMemory)?.next_multiple_of(PAGE);
        // Room for a small region's pages at once (a 64 KiB write is 17),
        // then grown as pages are found: a large sparse region's untouched
        // pages cost nothing. No memory for it is SendNoBuffer.
        let mut frames: Vec<(u64, Frame)> = Vec::new();
        if frames.try_reserve_exact((((end - start) / PAGE) as usize).min(RESERVED_PAGES)).is_err() {
            return Err(MachMsgReturn::SendNoBuffer);
        }
        // The region containing the page, looked up once per region rather
        // than once per page (a run is almost always one region).
        let mut current: Option<vm::Region> = None;
        for (index, page) in (start..end).step_by(PAGE_SIZE).enumerate() {
            let region = match current {
                Some(region) if page < region.end => region,
                _ => match self.vm.region_at(page) {
                    Some((_, region)) => *current.insert(region),
                    None => {
                        release_frames(frames);
                        return Err(MachMsgReturn::SendInvalidMemory);
                    }
                },
            };
            match self.capture_page(page, region) {
                Ok(Some(frame)) => {
                    if frames.len() == frames.capacity() && frames.try_reserve(1).is_err() {
                        share::release(frame);
                        release_frames(frames);
                        return Err(MachMsgReturn::SendNoBuffer);
                    }
                    frames.push((index as u64, frame));
                }
                Ok(None) => {}
                Err(error) => {
                    release_frames(frames);
                    return Err(error);
                }
            }
        }
        let token = self.captured.next_token;
        self.captured.next_token += 1;
        let captured = Captured { frames, pages: (end - start) / PAGE, offset: address - start };
        self.captured.regions.insert(token, captured);
        Ok(token)
    }

    fn read_port_names(&mut self, address: u64, count: u32) -> Result<Vec<PortName>, MachMsgReturn> {
        let mut bytes = alloc::vec![0u8; count as usize * 4];
        crate::memory::user::copy_from_user(
            &mut self.space(),
            crate::memory::user::UserBuffer::new(address, bytes.len()),
            &mut bytes,
        )
        .map_err(|_| MachMsgReturn::SendInvalidMemory)?;
        Ok(bytes.chunks(4).map(|chunk| u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])).collect())
    }

    fn deallocate(&mut self, address: u64, size: u64) {
        let start = address & !(PAGE - 1);
        let end = address.saturating_add(size).next_multiple_of(PAGE).min(vm::USER_LIMIT);
        if start < end {
            self.vm.deallocate(self.tables, start, end);
        }
    }

    fn map_region(&mut self, token: u64, _size: u32) -> Result<u64, MachMsgReturn> {
        let captured = self.captured.regions.remove(&token).ok_or(MachMsgReturn::ReceiveInvalidData)?;
        let size = captured.pages * PAGE;
        let Some(start) = self.vm.find_space(size, 0) else {
            self.captured.regions.insert(token, captured);
            return Err(MachMsgReturn::ReceiveInvalidData);
        };
        if self.vm.charge(self.tables, captured.frames.len()).is_err()
            || self.vm.insert(start, start + size, VM_PROT_DEFAULT, mach_abi::VM_PROT_ALL).is_err()
        {
            self.vm.uncharge(captured.frames.len());
            self.captured.regions.insert(token, captured);
            return Err(MachMsgReturn::ReceiveInvalidData);
        }
        self.vm.adopt_run(self.tables, start, captured.frames);
        Ok(start + captured.offset)
    }

    fn write_port_names(&mut self, names: &[PortName]) -> Result<u64, MachMsgReturn> {
        let bytes: Vec<u8> = names.iter().flat_map(|name| name.to_le_bytes()).collect();
        let pages = (bytes.len() as u64).div_ceil(PAGE).max(1);
        let start = self.allocate(pages)?;
        crate::memory::user::copy_to_user(
            &mut self.space(),
            crate::memory::user::UserBuffer::new(start, bytes.len()),
            &bytes,
        )
        .map_err(|_| MachMsgReturn::ReceiveInvalidData)?;
        Ok(start)
    }
}
