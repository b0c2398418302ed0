//! File systems and the system: statfs/statvfs, the mount table
//! (`<mntent.h>`), mount and unmount, reboot, supplementary groups, the
//! kernel log (`klogctl`) and the process listing (`getprocinfo`, minilibc's
//! own: on Mach_R the process server answers it, on Linux /proc).

use super::memory::free;
use super::stdio::{fclose, fopen, getline, File};
use super::{c_result, c_string, set_errno, CGlobal};
use crate::errno_table::{EINVAL, ERANGE};
use crate::mount_table::{find_option, parse_entry};
use crate::platform::{self, ProcessRecord};
use core::ptr;

/// Linux's `struct statfs`, which the platform fills (`<sys/statfs.h>`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Statfs {
    kind: i64,
    block_size: i64,
    blocks: u64,
    free: u64,
    available: u64,
    files: u64,
    free_files: u64,
    identifier: [i32; 2],
    name_length: i64,
    fragment_size: i64,
    flags: i64,
    spare: [i64; 4],
}

/// `struct statvfs` (`<sys/statvfs.h>`, glibc's layout).
#[repr(C)]
pub struct Statvfs {
    block_size: u64,
    fragment_size: u64,
    blocks: u64,
    free: u64,
    available: u64,
    files: u64,
    free_files: u64,
    available_files: u64,
    identifier: u64,
    flags: u64,
    name_length: u64,
    spare: [i32; 6],
}

#[no_mangle]
pub unsafe extern "C" fn statfs(path: *const u8, buffer: *mut Statfs) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::statfs(path, buffer.cast()) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn fstatfs(fd: i32, buffer: *mut Statfs) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::fstatfs(fd, buffer.cast()) }) as i32
}

/// statvfs from statfs: the mount flags (ST_*) are statfs's f_flags less
/// Linux's ST_VALID bit.
fn to_statvfs(from: &Statfs, to: *mut Statvfs) {
    const ST_VALID: i64 = 0x20;
    let identifier = (from.identifier[0] as u32 as u64) | ((from.identifier[1] as u32 as u64) << 32);
    let fragment = if from.fragment_size != 0 { from.fragment_size } else { from.block_size };
    // SAFETY: the caller passes a writable record.
    unsafe {
        ptr::write(
            to,
            Statvfs {
                block_size: from.block_size as u64,
                fragment_size: fragment as u64,
                blocks: from.blocks,
                free: from.free,
                available: from.available,
                files: from.files,
                free_files: from.free_files,
                available_files: from.free_files,
                identifier,
                flags: (from.flags & !ST_VALID) as u64,
                name_length: from.name_length as u64,
                spare: [0; 6],
            },
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn statvfs(path: *const u8, buffer: *mut Statvfs) -> i32 {
    let mut raw = Statfs::default();
    // SAFETY: NUL-terminated path; a local record.
    if c_result(unsafe { platform::statfs(path, (&mut raw as *mut Statfs).cast()) }) < 0 {
        return -1;
    }
    to_statvfs(&raw, buffer);
    0
}

#[no_mangle]
pub unsafe extern "C" fn fstatvfs(fd: i32, buffer: *mut Statvfs) -> i32 {
    let mut raw = Statfs::default();
    // SAFETY: a local record.
    if c_result(unsafe { platform::fstatfs(fd, (&mut raw as *mut Statfs).cast()) }) < 0 {
        return -1;
    }
    to_statvfs(&raw, buffer);
    0
}

// ---- <mntent.h> ----

/// `struct mntent`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MountEntry {
    fsname: *mut u8,
    dir: *mut u8,
    kind: *mut u8,
    options: *mut u8,
    frequency: i32,
    pass: i32,
}

static ENTRY: CGlobal<MountEntry> = CGlobal::new(MountEntry {
    fsname: ptr::null_mut(),
    dir: ptr::null_mut(),
    kind: ptr::null_mut(),
    options: ptr::null_mut(),
    frequency: 0,
    pass: 0,
});
static ENTRY_TEXT: CGlobal<[u8; 4096]> = CGlobal::new([0; 4096]);

#[no_mangle]
pub unsafe extern "C" fn setmntent(path: *const u8, mode: *const u8) -> *mut File {
    // SAFETY: C's contract.
    unsafe { fopen(path, mode) }
}

#[no_mangle]
pub unsafe extern "C" fn endmntent(file: *mut File) -> i32 {
    if !file.is_null() {
        // SAFETY: a stream from setmntent.
        unsafe { fclose(file) };
    }
    1
}

/// Reads the next entry into `entry`, its strings in `buffer`.
#[no_mangle]
pub unsafe extern "C" fn getmntent_r(
    file: *mut File,
    entry: *mut MountEntry,
    buffer: *mut u8,
    size: i32,
) -> *mut MountEntry {
    // SAFETY: a stream from setmntent; `buffer` holds `size` bytes.
    unsafe {
        let mut line: *mut u8 = ptr::null_mut();
        let mut capacity = 0usize;
        let result = loop {
            let length = getline(&mut line, &mut capacity, file);
            if length < 0 {
                break ptr::null_mut();
            }
            let bytes = core::slice::from_raw_parts_mut(line, length as usize);
            let Some(fields) = parse_entry(bytes) else { continue };
            // Lay the four strings out in the caller's buffer.
            let needed = [fields.fsname, fields.dir, fields.kind, fields.options]
                .iter()
                .map(|range| range.1 - range.0 + 1)
                .sum::<usize>();
            if size < 0 || needed > size as usize {
                set_errno(ERANGE);
                break ptr::null_mut();
            }
            let mut used = 0;
            let mut place = |range: (usize, usize)| {
                let piece = &bytes[range.0..range.1];
                let target = buffer.add(used);
                ptr::copy_nonoverlapping(piece.as_ptr(), target, piece.len());
                *target.add(piece.len()) = 0;
                used += piece.len() + 1;
                target
            };
            (*entry).fsname = place(fields.fsname);
            (*entry).dir = place(fields.dir);
            (*entry).kind = place(fields.kind);
            (*entry).options = place(fields.options);
            (*entry).frequency = fields.frequency;
            (*entry).pass = fields.pass;
            break entry;
        };
        free(line);
        result
    }
}

#[no_mangle]
pub unsafe extern "C" fn getmntent(file: *mut File) -> *mut MountEntry {
    // SAFETY: static storage, as C specifies for getmntent.
    unsafe { getmntent_r(file, ENTRY.as_ptr(), ENTRY_TEXT.as_ptr().cast(), 4096) }
}

#[no_mangle]
pub unsafe extern "C" fn hasmntopt(entry: *const MountEntry, option: *const u8) -> *mut u8 {
    // SAFETY: a valid entry and NUL-terminated strings.
    unsafe {
        let options = (*entry).options;
        if options.is_null() {
            return ptr::null_mut();
        }
        match find_option(c_string(options), c_string(option)) {
            Some(offset) => options.add(offset),
            None => ptr::null_mut(),
        }
    }
}

// ---- mount, reboot, groups, kernel log ----

#[no_mangle]
pub unsafe extern "C" fn mount(
    source: *const u8,
    target: *const u8,
    kind: *const u8,
    flags: u64,
    data: *const u8,
) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::mount(source, target, kind, flags, data) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn umount(target: *const u8) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::unmount(target, 0) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn umount2(target: *const u8, flags: i32) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::unmount(target, flags) }) as i32
}

#[no_mangle]
pub extern "C" fn reboot(command: i32) -> i32 {
    c_result(platform::reboot(command as u32)) as i32
}

#[no_mangle]
pub unsafe extern "C" fn getgroups(size: i32, list: *mut u32) -> i32 {
    if size < 0 {
        set_errno(EINVAL);
        return -1;
    }
    // SAFETY: `list` holds `size` ids.
    c_result(unsafe { platform::getgroups(size, list) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn klogctl(command: i32, buffer: *mut u8, length: i32) -> i32 {
    // SAFETY: C's contract.
    c_result(unsafe { platform::kernel_log(command, buffer, length) }) as i32
}

/// Fills `list` with up to `capacity` processes; returns how many there
/// are (call again with more room if that is larger), or -1.
#[no_mangle]
pub unsafe extern "C" fn getprocinfo(list: *mut ProcessRecord, capacity: usize) -> isize {
    // SAFETY: `list` holds `capacity` records (or is null with 0).
    let records: &mut [ProcessRecord] = if capacity == 0 || list.is_null() {
        &mut []
    } else {
        unsafe { core::slice::from_raw_parts_mut(list, capacity) }
    };
    c_result(platform::process_list(records))
}
