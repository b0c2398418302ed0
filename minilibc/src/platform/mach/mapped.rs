//! Reads of regular files from a mapping of the file's memory object
//! (docs/file-server.md, "Reads from a mapping"; the bookkeeping is
//! [`crate::mach::mapped_reads`]). A file opened here for reading is
//! mapped at its first `read`; its reads then copy from the mapping with
//! the offset kept here, checked against the status page the server
//! writes: the count is read before and after the copy, and a copy made
//! while it was odd or while it moved is thrown away and the read asked of
//! the server (`io.read_at` at the offset) instead.
//!
//! Before anything else that depends on the open file's offset, and
//! before the process shares its open files (fork, exec, spawn), the file
//! is settled: the server is sought to the offset and the status page
//! goes. The file's mapping is kept (a few, the oldest dropped first) for
//! the next open of the same file, whose pages are then in the page tables
//! already: a file read again costs no faults.
//! Everything here runs in a critical section (the table is the main
//! thread's; a handler reading the same descriptor must not meet an
//! offset half-advanced).
//!
//! The mappings are placed by the kernel (`vm_map` anywhere), as
//! out-of-line data received in messages is: below the memory server's
//! mapping base, in the range it never hands out.

use super::{call, Critical, Failure, MainThreadCell, KERNEL};
use crate::mach::mapped_reads::{mapped_length, plan_read, KeptMapping, MappedFile, MappedFiles, ReadPlan};
use core::sync::atomic::{fence, AtomicU64, Ordering};
use libmach::abi::{PortName, VM_PROT_READ};
use libmach::PortKernel;
use personality_interfaces::status_page;

static MAPPED: MainThreadCell<MappedFiles> = MainThreadCell::new(MappedFiles::new());

const PAGE: u64 = 4096;
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const O_ACCMODE: i32 = 3;
const O_WRONLY: i32 = 1;
const O_PATH: i32 = 0o10000000;

/// `open` gave `port` (an object of `kind`, the st_mode type bits) for
/// `flags`: a regular file open for reading may be read from a mapping.
pub(crate) fn opened(port: PortName, kind: u32, flags: i32) {
    if kind & S_IFMT == S_IFREG && flags & O_ACCMODE != O_WRONLY && flags & O_PATH == 0 {
        MAPPED.with(|files| files.opened(port));
    }
}

/// A read of `port` from its mapping, if it is (or now becomes) mapped;
/// `None`: read through the server as usual.
///
/// # Safety
/// `buffer` writable for `count` bytes.
pub(crate) unsafe fn read(port: PortName, buffer: *mut u8, count: usize) -> Option<Result<usize, Failure>> {
    let _section = Critical::enter();
    let file = match MAPPED.with(|files| files.get(port).copied()) {
        Some(file) => file,
        None => {
            if !MAPPED.with(|files| files.take_eligible(port)) {
                return None;
            }
            let file = map(port)?;
            MAPPED.with(|files| files.insert(file));
            file
        }
    };
    // SAFETY: the caller's buffer; the mapping is ours while the table
    // holds it (we are in a critical section: nothing unmaps it meanwhile).
    let result = unsafe { read_mapped(&file, buffer, count) };
    if let Ok(length) = result {
        MAPPED.with(|files| {
            if let Some(entry) = files.get_mut(port) {
                entry.offset += length as u64;
            }
        });
    }
    Some(result)
}

/// # Safety
/// `buffer` writable for `count` bytes; `file`'s mappings present.
unsafe fn read_mapped(file: &MappedFile, buffer: *mut u8, count: usize) -> Result<usize, Failure> {
    let (change_count, size) = status_words(file.status);
    let before = change_count.load(Ordering::Acquire);
    let length = match plan_read(file.offset, count, before, size.load(Ordering::Relaxed), file.data_length) {
        ReadPlan::Copy { length } => length,
        ReadPlan::Server => return read_from_server(file, buffer, count),
    };
    // SAFETY: `plan_read` keeps the range inside the mapping (`data_length`
    // bytes at `data`) and inside the caller's buffer; the mapping is
    // read-only here, so the two cannot overlap in a way a copy would
    // corrupt (the caller's buffer is writable).
    if length > 0 && !unsafe { copy_from_mapping((file.data + file.offset) as *const u8, buffer, length) } {
        // A page the server could not supply (a disk error, the server
        // gone): the server answers for the same range, as read(2) must
        // (`EIO`, or the bytes before the bad block), never SIGBUS.
        return read_from_server(file, buffer, count);
    }
    // The copy's loads happen before the second look at the count.
    fence(Ordering::Acquire);
    if change_count.load(Ordering::Relaxed) != before {
        // The file changed during the copy: what was copied may mix the
        // old and the new. The server answers instead.
        return read_from_server(file, buffer, count);
    }
    Ok(length)
}

/// Copies `length` bytes of a file's mapping at `source` to `destination`;
/// false if a page could not be supplied partway. The copy runs under the
/// memory-error landing (`personality_interfaces::memory_error_landing`):
/// the tag and the landing in their registers while it copies, the tag
/// cleared when it is done, so a memory error moves the thread to the
/// landing with the tag still set instead of raising SIGBUS. Whole words,
/// then the bytes left (under `-icount` every `rep movs` iteration is an
/// instruction: `movsb` alone would cost eight times `movsq`).
///
/// # Safety
/// `source` readable and `destination` writable for `length` bytes, not
/// overlapping (a page of `source` may fail: that is the point).
#[cfg(target_arch = "x86_64")]
unsafe fn copy_from_mapping(source: *const u8, destination: *mut u8, length: usize) -> bool {
    let status: u64;
    // SAFETY: the caller's ranges; the direction flag is clear (the ABI's
    // rule at every call). The landing `2:` is inside this block, with the
    // registers it reads (rax) already outputs.
    unsafe {
        core::arch::asm!(
            "lea rdx, [rip + 2f]",
            "rep movsq",
            "mov rcx, {tail}",
            "rep movsb",
            "xor eax, eax",
            "2:",
            tail = in(reg) length % 8,
            inout("rax") personality_interfaces::memory_error_landing::TAG => status,
            inout("rcx") length / 8 => _,
            inout("rsi") source => _,
            inout("rdi") destination => _,
            out("rdx") _,
            options(nostack),
        );
    }
    status == 0
}

/// Copies `length` bytes of a file's mapping at `source` to `destination`;
/// false if a page could not be supplied partway (see the x86_64 version:
/// the same, with `x9` the tag and `x10` the landing).
///
/// # Safety
/// `source` readable and `destination` writable for `length` bytes, not
/// overlapping.
#[cfg(target_arch = "aarch64")]
unsafe fn copy_from_mapping(source: *const u8, destination: *mut u8, length: usize) -> bool {
    let status: u64;
    // SAFETY: the caller's ranges; unaligned loads and stores of normal
    // memory are allowed (SCTLR_EL1.A is clear). The landing `2:` is
    // inside this block, with the register it reads (x9) an output.
    unsafe {
        core::arch::asm!(
            "adr x10, 2f",
            "cbz {words}, 1f",
            "0:",
            "ldr {value}, [{source}], #8",
            "str {value}, [{destination}], #8",
            "subs {words}, {words}, #1",
            "b.ne 0b",
            "1:",
            "cbz {tail}, 4f",
            "3:",
            "ldrb {value:w}, [{source}], #1",
            "strb {value:w}, [{destination}], #1",
            "subs {tail}, {tail}, #1",
            "b.ne 3b",
            "4:",
            "mov x9, xzr",
            "2:",
            words = inout(reg) length / 8 => _,
            tail = inout(reg) length % 8 => _,
            source = inout(reg) source => _,
            destination = inout(reg) destination => _,
            value = out(reg) _,
            inout("x9") personality_interfaces::memory_error_landing::TAG => status,
            out("x10") _,
            options(nostack),
        );
    }
    status == 0
}

/// The status page's two words.
fn status_words(status: u64) -> (&'static AtomicU64, &'static AtomicU64) {
    // SAFETY: `status` is the page `map` mapped read-only, kept mapped while
    // the table holds it (the caller's); both words are 8-byte aligned in
    // it. The server writes them (with atomics) while we read.
    unsafe {
        (
            &*((status as usize + status_page::CHANGE_COUNT) as *const AtomicU64),
            &*((status as usize + status_page::SIZE) as *const AtomicU64),
        )
    }
}

/// # Safety
/// `buffer` writable for `count` bytes.
unsafe fn read_from_server(file: &MappedFile, buffer: *mut u8, count: usize) -> Result<usize, Failure> {
    // SAFETY: the caller's buffer.
    unsafe { super::files::read_into(file.port, Some(file.offset), buffer, count) }
}

/// Maps `port`'s file: its object, its status page, and the server's
/// offset, which is kept here from now on. `None` when the server will not
/// (not a file it maps, no room): the file is read through the server.
fn map(port: PortName) -> Option<MappedFile> {
    let reply = call!(io, port, |client| client.map_for_reading()).ok()?;
    let task = libmach::trap::task_self();
    let object = reply.object.into_name();
    let status_object = reply.status.into_name();
    let read_only = libmach::abi::vm_map_flags(true, false, VM_PROT_READ);
    let release = |rights: &[PortName]| {
        for &right in rights {
            let _ = KERNEL.port_deallocate(right);
        }
    };
    let Ok(status) = libmach::pager::vm_map_with(task, 0, PAGE, read_only, status_object, 0) else {
        release(&[object, status_object]);
        return None;
    };
    let (_, size) = status_words(status);
    let wanted = mapped_length(size.load(Ordering::Acquire), reply.object_size, PAGE);
    // The file mapped before (read earlier by this process): its pages are
    // in our page tables already. The reply's right merged into the kept
    // one's name: one reference goes back.
    let kept = MAPPED.with(|files| files.take_kept(object));
    if let Some(kept) = kept {
        let _ = KERNEL.port_deallocate(object);
        if kept.data_length >= wanted {
            let (data, data_length) = (kept.data, kept.data_length);
            return Some(MappedFile { port, offset: reply.offset, object, data, data_length, status_object, status });
        }
        if kept.data_length != 0 {
            let _ = libmach::trap::vm_deallocate(task, kept.data, kept.data_length);
        }
    }
    let data_length = wanted;
    let data = if data_length == 0 {
        0
    } else {
        match libmach::pager::vm_map_with(task, 0, data_length, read_only, object, 0) {
            Ok(data) => data,
            Err(_) => {
                let _ = libmach::trap::vm_deallocate(task, status, PAGE);
                release(&[object, status_object]);
                return None;
            }
        }
    };
    Some(MappedFile { port, offset: reply.offset, object, data, data_length, status_object, status })
}

/// The status page of `file` goes; its file's mapping is kept for a later
/// open of the same file (the oldest kept one goes if there is no room).
fn unmap(file: &MappedFile) {
    let task = libmach::trap::task_self();
    let _ = libmach::trap::vm_deallocate(task, file.status, PAGE);
    let _ = KERNEL.port_deallocate(file.status_object);
    let kept = KeptMapping { object: file.object, data: file.data, data_length: file.data_length };
    if let Some(evicted) = MAPPED.with(|files| files.keep(kept)) {
        drop_kept(&evicted);
    }
}

fn drop_kept(kept: &KeptMapping) {
    if kept.data_length != 0 {
        let _ = libmach::trap::vm_deallocate(libmach::trap::task_self(), kept.data, kept.data_length);
    }
    let _ = KERNEL.port_deallocate(kept.object);
}

/// A child of fork: it inherited the kept mappings (copied) and their
/// rights (every send right is inherited under its name); they go.
pub(crate) fn after_fork() {
    let _section = Critical::enter();
    for kept in MAPPED.with(|files| files.take_all_kept()) {
        drop_kept(&kept);
    }
}

/// Before a request on `port` that depends on or moves the open file's
/// offset: if it is mapped here, the server is sought to our offset and
/// the mapping goes (a later read through the server goes on from there).
pub(crate) fn settle(port: PortName) -> Result<(), Failure> {
    let _section = Critical::enter();
    match MAPPED.with(|files| files.remove(port)) {
        Some(file) => settle_file(&file),
        None => Ok(()),
    }
}

fn settle_file(file: &MappedFile) -> Result<(), Failure> {
    unmap(file);
    const SEEK_SET: u32 = 0;
    let offset = i64::try_from(file.offset).map_err(|_| Failure::Error(crate::errno_table::EOVERFLOW))?;
    super::uninterrupted(|| call!(io, file.port, |client| client.seek(offset, SEEK_SET)))
        .map(|_| ())
        .map_err(|error| Failure::Error(error.0))
}

/// Before the process shares its open files (fork, exec, spawn): every
/// mapped file is settled and none stays eligible. Returns the first
/// failure (the others are settled all the same).
pub(crate) fn settle_all() -> Result<(), Failure> {
    let _section = Critical::enter();
    let files = MAPPED.with(|files| if files.is_empty() { alloc::vec::Vec::new() } else { files.take_all() });
    let mut result = Ok(());
    for file in &files {
        let settled = settle_file(file);
        if result.is_ok() {
            result = settled;
        }
    }
    result
}

/// The process's last descriptor of `port` closed: its mapping goes
/// unsettled (the open file ends with the last send right, and nobody else
/// holds one).
pub(crate) fn closed(port: PortName) {
    let _section = Critical::enter();
    if let Some(file) = MAPPED.with(|files| files.remove(port)) {
        unmap(&file);
    }
}

/// `lseek` of a mapped file, answered here (`None`: not mapped; ask the
/// server). `SEEK_END` reads the size from the status page (when no change
/// is under way; else the server is asked after settling).
pub(crate) fn seek(port: PortName, offset: i64, whence: i32) -> Option<Result<u64, Failure>> {
    let _section = Critical::enter();
    let file = MAPPED.with(|files| files.get(port).copied())?;
    let base = match whence {
        0 => 0i128,
        1 => file.offset as i128,
        2 => {
            let (change_count, size) = status_words(file.status);
            let before = change_count.load(Ordering::Acquire);
            let size = size.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if before % 2 == 1 || change_count.load(Ordering::Relaxed) != before {
                return None;
            }
            size as i128
        }
        _ => return Some(Err(Failure::Error(crate::errno_table::EINVAL))),
    };
    let target = base + offset as i128;
    if target < 0 {
        return Some(Err(Failure::Error(crate::errno_table::EINVAL)));
    }
    if target > i64::MAX as i128 {
        return Some(Err(Failure::Error(crate::errno_table::EOVERFLOW)));
    }
    MAPPED.with(|files| {
        if let Some(entry) = files.get_mut(port) {
            entry.offset = target as u64;
        }
    });
    Some(Ok(target as u64))
}
