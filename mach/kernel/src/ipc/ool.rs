//! Out-of-line memory and port arrays in messages: the kernel's side of
//! `mach_ipc::TaskMemory`.
//!
//! Sending captures the sender's pages into fresh frames (a physical copy,
//! for both copy options); with `deallocate` set the sender's range is then
//! deallocated, so a move leaves nothing behind in the sender. Receiving
//! maps the captured frames as a new read-write region of the receiver: no
//! second copy. Captured regions of messages that are destroyed unreceived
//! come back through `Ipc::take_released_regions` and are freed by
//! `ipc::settle`.
//!
//! Not yet: copy-on-write sharing for `MACH_MSG_VIRTUAL_COPY` and moves
//! that hand over the sender's frames without copying; both need frames
//! shared between maps, with reference counts, which the pager work brings.

use crate::arch::paging::PageTables;
use crate::memory::{frame, Frame, PAGE_SIZE};
use crate::vm::{self, VmMap};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use mach_abi::{CopyOption, MachMsgReturn, PortName, VM_PROT_DEFAULT, VM_PROT_READ};
use mach_ipc::TaskMemory;

const PAGE: u64 = PAGE_SIZE as u64;

/// Pages captured from a sender, waiting in a queued message.
pub struct Captured {
    frames: Vec<Frame>,
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
            for frame in captured.frames {
                let _ = frame::free(frame);
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
    /// The task's address space, for user copies.
    pub fn space(&mut self) -> crate::memory::user::UserSpace<'_> {
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

fn direct(frame: Frame) -> *mut u8 {
    crate::arch::paging::direct_map_address(frame.start()) as *mut u8
}

impl TaskMemory for TaskAccess<'_> {
    fn capture_region(&mut self, address: u64, size: u32, _copy: CopyOption) -> Result<u64, MachMsgReturn> {
        let start = address & !(PAGE - 1);
        let end = address.checked_add(size as u64).ok_or(MachMsgReturn::SendInvalidMemory)?.next_multiple_of(PAGE);
        if !crate::memory::can_spare((end - start) as usize) {
            return Err(MachMsgReturn::SendNoBuffer);
        }
        let mut frames = Vec::new();
        let release = |frames: Vec<Frame>| {
            for frame in frames {
                let _ = frame::free(frame);
            }
        };
        for page in (start..end).step_by(PAGE_SIZE) {
            let source = match self.vm.touch(self.tables, page, VM_PROT_READ) {
                Ok(source) => source,
                Err(_) => {
                    release(frames);
                    return Err(MachMsgReturn::SendInvalidMemory);
                }
            };
            let Ok(copy) = frame::allocate() else {
                release(frames);
                return Err(MachMsgReturn::SendNoBuffer);
            };
            // SAFETY: `source` is a frame of the sender's map (kernel lock
            // held), `copy` was just allocated; both are whole pages reached
            // through the direct map and do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(direct(source), direct(copy), PAGE_SIZE) };
            frames.push(copy);
        }
        let token = self.captured.next_token;
        self.captured.next_token += 1;
        self.captured.regions.insert(token, Captured { frames, offset: address - start });
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
        let pages = captured.frames.len() as u64;
        if self.vm.charge(pages as usize).is_err() {
            self.captured.regions.insert(token, captured);
            return Err(MachMsgReturn::ReceiveInvalidData);
        }
        let Some(start) = self.vm.find_space(pages * PAGE, 0) else {
            self.vm.uncharge(pages as usize);
            self.captured.regions.insert(token, captured);
            return Err(MachMsgReturn::ReceiveInvalidData);
        };
        if self.vm.insert(start, start + pages * PAGE, VM_PROT_DEFAULT, mach_abi::VM_PROT_ALL).is_err() {
            self.vm.uncharge(pages as usize);
            self.captured.regions.insert(token, captured);
            return Err(MachMsgReturn::ReceiveInvalidData);
        }
        let flags = vm::page_flags(VM_PROT_DEFAULT).expect("read-write maps");
        let offset = captured.offset;
        for (index, frame) in captured.frames.into_iter().enumerate() {
            let page = start + index as u64 * PAGE;
            if self.tables.map(page, frame, flags).is_err() {
                let _ = frame::free(frame);
                self.vm.uncharge(1);
            }
        }
        Ok(start + offset)
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
