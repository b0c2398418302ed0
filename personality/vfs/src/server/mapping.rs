//! Files as memory objects: the file server is the pager of each mapped
//! file (docs/vm.md, "Memory objects and user-level pagers").
//!
//! `io.map` gives the file's one object (made on first use), so every
//! mapping of a file shares its pages. The kernel asks for a page when a
//! mapping first touches it ([`FileServer::page_request`]): it is read from
//! the file (zeros past the end) and supplied — write-locked unless the
//! object is *writable*, which only a `map` from an open file allowed to
//! write makes it; a write to a locked page asks to unlock it
//! ([`FileServer::page_unlock`]), refused for a read-only object.
//!
//! Written pages reach the file when the server takes them back from the
//! kernel ([`MemoryObjects::return_pages`], `lock_request` with
//! `RETURN_ALL`): on `msync`, `fsync`, `sync`, the periodic flush, and
//! before a `read`, `write` or `truncate` of the file, so the two views
//! agree; a `write` or `truncate` then drops the object's cached pages of
//! the range so the next touch reads the new contents. The kernel keeps no
//! dirty bits, so every page the server supplied (it remembers which) is
//! taken back and written: only pages below the file's size are written.
//!
//! An object lives while its file does: until the file is unlinked and no
//! longer open, an unmount, or shutdown. A process mapping a file keeps an
//! open file for as long as it maps it (the process server keeps the
//! executable's), or the object may go when the file is deleted; its pages
//! then fault.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

#[allow(unused_imports)]
use super::*;

/// The page size objects are paged in.
pub const PAGE_SIZE: u64 = 4096;
/// Largest object (the kernel's bound): a bigger file maps its first 1 GiB.
pub const OBJECT_SIZE_MAX: u64 = 1 << 30;
/// Most objects at once (`ENOMEM` beyond).
pub const OBJECTS_MAX: usize = 4096;
/// Bytes taken back from the kernel per `lock_request` (the buffer is this big).
const RETURN_CHUNK: u64 = 256 * 1024;

/// What the server needs from the kernel for its objects (the transport
/// implements it with libmach's pager calls; tests with a model cache).
pub trait MemoryObjects {
    /// A new object of `size` bytes paged by this server; its name.
    fn create(&mut self, size: u64) -> Result<u64, Errno>;
    /// Copies the pages of `[offset, offset + buffer.len())` the kernel has
    /// cached into `buffer` at their offsets (others are left as they are),
    /// keeping them cached.
    fn return_pages(&mut self, object: u64, offset: u64, buffer: &mut [u8]) -> Result<(), Errno>;
    /// Drops the range's cached pages from every mapping.
    fn flush_pages(&mut self, object: u64, offset: u64, size: u64) -> Result<(), Errno>;
    /// Destroys the object: its pages leave every mapping.
    fn destroy(&mut self, object: u64);
    /// A new status page: one page of shared memory (a kernel object) the
    /// server writes and a client maps read-only; its name.
    fn create_status(&mut self) -> Result<u64, Errno>;
    /// Writes `size` then `change_count` into the status page (the count
    /// last, with release ordering: a reader that sees the count sees the
    /// size written with it).
    fn publish_status(&mut self, status: u64, change_count: u64, size: u64);
    /// The server's hold on the status page goes (a client's mapping keeps
    /// the page until it unmaps it).
    fn destroy_status(&mut self, status: u64);
}

/// Objects for servers that have no kernel to page for (host tools):
/// every call refuses (`ENODEV`), so `map` fails cleanly.
pub struct NoMemoryObjects;

impl MemoryObjects for NoMemoryObjects {
    fn create(&mut self, _size: u64) -> Result<u64, Errno> {
        Err(Errno::NoSuchDevice)
    }
    fn return_pages(&mut self, _object: u64, _offset: u64, _buffer: &mut [u8]) -> Result<(), Errno> {
        Err(Errno::NoSuchDevice)
    }
    fn flush_pages(&mut self, _object: u64, _offset: u64, _size: u64) -> Result<(), Errno> {
        Err(Errno::NoSuchDevice)
    }
    fn destroy(&mut self, _object: u64) {}
    fn create_status(&mut self) -> Result<u64, Errno> {
        Err(Errno::NoSuchDevice)
    }
    fn publish_status(&mut self, _status: u64, _change_count: u64, _size: u64) {}
    fn destroy_status(&mut self, _status: u64) {}
}

/// One mapped file's object.
#[derive(Debug)]
pub(super) struct MappedObject {
    pub(super) object: u64,
    pub(super) size: u64,
    /// A shared writable mapping was allowed: pages are supplied unlocked
    /// and taken back to be written.
    pub(super) writable: bool,
    /// Offsets of the pages supplied and not flushed since: what the
    /// kernel holds.
    pub(super) resident: BTreeSet<u64>,
}

/// Every mapped file's object.
#[derive(Debug, Default)]
pub(super) struct Mappings {
    pub(super) by_node: BTreeMap<NodeRef, MappedObject>,
    pub(super) by_object: BTreeMap<u64, NodeRef>,
    /// Pages supplied and not flushed, over every object (bounded by
    /// [`RESIDENT_PAGES_MAX`]).
    pub(super) resident_total: usize,
    /// Status pages of open files read through a mapping, by open file.
    pub(super) statuses: BTreeMap<Handle, StatusPage>,
    /// The open files with a status page, by file.
    pub(super) statuses_by_node: BTreeMap<NodeRef, BTreeSet<Handle>>,
}

/// An open file's status page (`io.map_for_reading`): the file's size
/// and a change count the client checks around each copy from the
/// mapping. The count is odd while the server changes the file (between
/// [`FileServer::file_changing`] and [`FileServer::file_changed`]).
#[derive(Debug)]
pub(super) struct StatusPage {
    pub(super) page: u64,
    pub(super) node: NodeRef,
    pub(super) change_count: u64,
    /// The size last published.
    pub(super) size: u64,
}

/// Most status pages at once (`ENOMEM` beyond: the client reads through
/// the server instead). Each is a page of the server's memory.
pub const STATUS_PAGES_MAX: usize = 4096;
/// Most object pages the kernel holds for the server at once (16 MiB):
/// past it, read-only objects' pages are flushed (clean: they come back
/// from the file when touched again). Writable objects' pages stay (a
/// write through a mapping between taking a page back and flushing it
/// would be lost).
pub const RESIDENT_PAGES_MAX: usize = 4096;

/// What the kernel gets for a page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageAnswer {
    /// The page's contents; `write_locked`: a write must ask first.
    Data { contents: Vec<u8>, write_locked: bool },
    /// The object is gone or the file could not be read: the toucher faults.
    Error(Errno),
}

impl FileServer {
    /// `io.map`: the file's object (made on first use) and its size.
    /// `writable`: for a shared writable mapping (the open file must allow
    /// writing). Only regular files map (`ENODEV`); the open file must be
    /// readable (`EACCES`).
    pub fn map(&mut self, handle: Handle, writable: bool) -> Result<(u64, u64), Errno> {
        let file = self.file(handle)?.clone();
        let Object::Node(node) = file.object else { return Err(Errno::NoSuchDevice) };
        if file.path_only {
            return Err(Errno::BadDescriptor);
        }
        if self.vfs.attributes(node)?.kind != NodeKind::RegularFile {
            return Err(Errno::NoSuchDevice);
        }
        if !file.readable || (writable && !file.writable) {
            return Err(Errno::AccessDenied);
        }
        if let Some(mapped) = self.mappings.by_node.get_mut(&node) {
            mapped.writable |= writable;
            return Ok((mapped.object, mapped.size));
        }
        if self.mappings.by_node.len() >= OBJECTS_MAX {
            return Err(Errno::OutOfMemory);
        }
        let size = OBJECT_SIZE_MAX;
        let object = self.objects.create(size)?;
        // The object keeps the file: an unlinked mapped file stays readable.
        if let Err(error) = self.vfs.filesystem(node).and_then(|filesystem| filesystem.open_node(node.node)) {
            self.objects.destroy(object);
            return Err(error);
        }
        self.mappings.by_node.insert(node, MappedObject { object, size, writable, resident: BTreeSet::new() });
        self.mappings.by_object.insert(object, node);
        Ok((object, size))
    }

    /// `io.map_for_reading`: the file's object as [`FileServer::map`] gives
    /// it (read-only), this open file's status page (made on first use,
    /// kept until the open file ends) published with the file's size, and
    /// the open file's offset: the client keeps the offset from now on,
    /// and seeks the server to it before anything else on the file.
    /// Returns `(object, status page, object size, offset)`.
    pub fn map_for_reading(&mut self, handle: Handle) -> Result<(u64, u64, u64, u64), Errno> {
        let (object, object_size) = self.map(handle, false)?;
        let file = self.file(handle)?;
        let offset = file.offset;
        let node = file.object.node().ok_or(Errno::NoSuchDevice)?;
        let size = self.vfs.attributes(node)?.size;
        let page = match self.mappings.statuses.get(&handle) {
            Some(status) => status.page,
            None => {
                if self.mappings.statuses.len() >= STATUS_PAGES_MAX {
                    return Err(Errno::OutOfMemory);
                }
                let page = self.objects.create_status()?;
                self.mappings.statuses.insert(handle, StatusPage { page, node, change_count: 0, size });
                self.mappings.statuses_by_node.entry(node).or_default().insert(handle);
                page
            }
        };
        if let Some(status) = self.mappings.statuses.get_mut(&handle) {
            // A client asking again (after settling) while no change is
            // under way: the size is the file's now.
            if status.change_count % 2 == 0 {
                status.size = size;
                self.objects.publish_status(page, status.change_count, size);
            }
        }
        Ok((object, page, object_size, offset))
    }

    /// Before the server changes `node`'s data or size: its status pages'
    /// counts become odd, so a client copying from the mapping now finds
    /// its copy suspect and asks the server.
    pub(super) fn file_changing(&mut self, node: NodeRef) {
        self.advance_statuses(node, None);
    }

    /// After the change (and after the object's changed pages were
    /// flushed): the counts become even again, with the new size.
    pub(super) fn file_changed(&mut self, node: NodeRef) {
        if !self.mappings.statuses_by_node.contains_key(&node) {
            return;
        }
        let size = self.vfs.attributes(node).map(|attributes| attributes.size).unwrap_or(0);
        self.advance_statuses(node, Some(size));
    }

    fn advance_statuses(&mut self, node: NodeRef, size: Option<u64>) {
        let Some(handles) = self.mappings.statuses_by_node.get(&node) else { return };
        for handle in handles {
            let Some(status) = self.mappings.statuses.get_mut(handle) else { continue };
            // Odd while changing, even after; the size only changes with
            // an even count.
            let odd_now = status.change_count % 2 == 1;
            let odd_wanted = size.is_none();
            status.change_count += if odd_now == odd_wanted { 2 } else { 1 };
            if let Some(size) = size {
                status.size = size;
            }
            self.objects.publish_status(status.page, status.change_count, status.size);
        }
    }

    /// The open file ended: its status page goes.
    pub(super) fn drop_status(&mut self, handle: Handle) {
        let Some(status) = self.mappings.statuses.remove(&handle) else { return };
        if let Some(handles) = self.mappings.statuses_by_node.get_mut(&status.node) {
            handles.remove(&handle);
            if handles.is_empty() {
                self.mappings.statuses_by_node.remove(&status.node);
            }
        }
        self.objects.destroy_status(status.page);
    }

    /// Status pages now.
    pub fn status_count(&self) -> usize {
        self.mappings.statuses.len()
    }

    /// The change count `handle`'s status page holds now, if it has one.
    pub fn status_change_count(&self, handle: Handle) -> Option<u64> {
        self.mappings.statuses.get(&handle).map(|status| status.change_count)
    }

    /// The kernel wants the page at `offset` of `object`.
    pub fn page_request(&mut self, object: u64, offset: u64) -> PageAnswer {
        let Some(&node) = self.mappings.by_object.get(&object) else { return PageAnswer::Error(Errno::Stale) };
        let Some(mapped) = self.mappings.by_node.get(&node) else { return PageAnswer::Error(Errno::Stale) };
        if !offset.is_multiple_of(PAGE_SIZE) || offset >= mapped.size {
            return PageAnswer::Error(Errno::InvalidArgument);
        }
        let write_locked = !mapped.writable;
        let mut contents = vec![0u8; PAGE_SIZE as usize];
        let read = self.vfs.filesystem(node).and_then(|filesystem| filesystem.read(node.node, offset, &mut contents));
        if let Err(error) = read {
            return PageAnswer::Error(error);
        }
        if let Some(mapped) = self.mappings.by_node.get_mut(&node) {
            if mapped.resident.insert(offset) {
                self.mappings.resident_total += 1;
            }
        }
        if self.mappings.resident_total > RESIDENT_PAGES_MAX {
            self.shed_clean_pages(object, offset);
        }
        PageAnswer::Data { contents, write_locked }
    }

    /// Too many pages held: every read-only object gives its pages back
    /// to the kernel's free memory (mappings touching them again ask
    /// again), all but the page at `keep_offset` of `keep`, which is being
    /// supplied (not cached yet, so the flush leaves it alone; still
    /// counted, so a later change of the file drops it).
    fn shed_clean_pages(&mut self, keep: u64, keep_offset: u64) {
        let mut flushes = Vec::new();
        for mapped in self.mappings.by_node.values_mut() {
            if mapped.writable || mapped.resident.is_empty() {
                continue;
            }
            let first = mapped.resident.first().copied().unwrap_or(0);
            let end = mapped.resident.last().copied().unwrap_or(0) + PAGE_SIZE;
            self.mappings.resident_total -= mapped.resident.len();
            mapped.resident.clear();
            if mapped.object == keep {
                mapped.resident.insert(keep_offset);
                self.mappings.resident_total += 1;
            }
            flushes.push((mapped.object, first, end - first));
        }
        for (object, first, length) in flushes {
            // A failed flush leaves pages the count no longer holds: the
            // kernel still bounds them by the server's page limit.
            let _ = self.objects.flush_pages(object, first, length);
        }
    }

    /// A write hit a write-locked page of `object`: allowed (the kernel is
    /// told to unlock it) only for a writable object.
    pub fn page_unlock(&mut self, object: u64, offset: u64) -> Result<(), Errno> {
        let node = self.mappings.by_object.get(&object).ok_or(Errno::Stale)?;
        let mapped = self.mappings.by_node.get(node).ok_or(Errno::Stale)?;
        if offset >= mapped.size {
            return Err(Errno::InvalidArgument);
        }
        if mapped.writable {
            Ok(())
        } else {
            Err(Errno::AccessDenied)
        }
    }

    /// Takes the pages of `node`'s writable object back from the kernel
    /// and writes those below the file's size into the file.
    pub(super) fn write_back_mapping(&mut self, node: NodeRef, time: Timestamp) -> Result<(), Errno> {
        let Some(mapped) = self.mappings.by_node.get(&node) else { return Ok(()) };
        if !mapped.writable || mapped.resident.is_empty() {
            return Ok(());
        }
        let object = mapped.object;
        let resident: Vec<u64> = mapped.resident.iter().copied().collect();
        let size = self.vfs.attributes(node)?.size;
        let mut buffer = vec![0u8; RETURN_CHUNK as usize];
        let mut chunk_start = None;
        for &page in &resident {
            if page >= size {
                break;
            }
            let start = page / RETURN_CHUNK * RETURN_CHUNK;
            if chunk_start != Some(start) {
                let length = RETURN_CHUNK.min(OBJECT_SIZE_MAX - start) as usize;
                self.objects.return_pages(object, start, &mut buffer[..length])?;
                chunk_start = Some(start);
            }
            let within = (page - start) as usize;
            let length = PAGE_SIZE.min(size - page) as usize;
            let data = &buffer[within..within + length];
            self.vfs.filesystem(node)?.write(node.node, page, data, time)?;
        }
        Ok(())
    }

    /// Before the server reads or changes `node`'s data itself: the mapped
    /// writes reach the file first.
    pub(super) fn before_file_access(&mut self, node: NodeRef, time: Timestamp) -> Result<(), Errno> {
        if self.mappings.by_node.is_empty() {
            return Ok(());
        }
        self.write_back_mapping(node, time)
    }

    /// After the server changed `[offset, offset + length)` of `node` (a
    /// write, a truncate): the object's cached pages there go, so mappings
    /// read the new contents.
    pub(super) fn after_file_change(&mut self, node: NodeRef, offset: u64, length: u64) -> Result<(), Errno> {
        let Some(mapped) = self.mappings.by_node.get_mut(&node) else { return Ok(()) };
        if offset >= mapped.size || length == 0 {
            return Ok(());
        }
        let first = offset / PAGE_SIZE * PAGE_SIZE;
        let end = offset.saturating_add(length).min(mapped.size).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let object = mapped.object;
        let touched: Vec<u64> = mapped.resident.range(first..end).copied().collect();
        if touched.is_empty() {
            return Ok(());
        }
        for page in touched {
            mapped.resident.remove(&page);
            self.mappings.resident_total -= 1;
        }
        self.objects.flush_pages(object, first, end - first)
    }

    /// `msync`: the mapped pages of the range reach the file and the disk;
    /// `invalidate` also drops them.
    pub fn map_sync(
        &mut self,
        handle: Handle,
        offset: u64,
        length: u64,
        invalidate: bool,
        time: Timestamp,
    ) -> Result<(), Errno> {
        let node = self.file(handle)?.object.node().ok_or(Errno::BadDescriptor)?;
        self.write_back_mapping(node, time)?;
        self.vfs.filesystem(node)?.sync()?;
        if invalidate {
            self.after_file_change(node, offset, length.max(1))?;
        }
        Ok(())
    }

    /// Every writable object's pages reach their files (sync, the periodic
    /// flush, shutdown).
    pub fn write_back_all_mappings(&mut self, time: Timestamp) -> Result<(), Errno> {
        let nodes: Vec<NodeRef> =
            self.mappings.by_node.iter().filter(|(_, mapped)| mapped.writable).map(|(node, _)| *node).collect();
        let mut result = Ok(());
        for node in nodes {
            if let Err(error) = self.write_back_mapping(node, time) {
                result = result.and(Err(error));
            }
        }
        result
    }

    /// Ends `node`'s object (its file is gone, or its file system is
    /// unmounted), after writing its pages back.
    pub(super) fn drop_mapping(&mut self, node: NodeRef, time: Timestamp) {
        let _ = self.write_back_mapping(node, time);
        if let Some(mapped) = self.mappings.by_node.remove(&node) {
            self.mappings.resident_total -= mapped.resident.len();
            self.mappings.by_object.remove(&mapped.object);
            self.objects.destroy(mapped.object);
            if let Ok(filesystem) = self.vfs.filesystem(node) {
                let _ = filesystem.close_node(node.node, time);
            }
        }
    }

    /// Objects of files that are unlinked and no longer open go (called
    /// after an open file ends).
    pub(super) fn drop_orphaned_mapping(&mut self, node: NodeRef, time: Timestamp) {
        if !self.mappings.by_node.contains_key(&node) {
            return;
        }
        let still_open = self.files.values().any(|file| file.object.node() == Some(node));
        let linked = self.vfs.attributes(node).map(|attributes| attributes.links > 0).unwrap_or(false);
        if !still_open && !linked {
            self.drop_mapping(node, time);
        }
    }

    /// Objects mapped now.
    pub fn mapping_count(&self) -> usize {
        self.mappings.by_node.len()
    }
}
