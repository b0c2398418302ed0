//! `<pwd.h>` and `<grp.h>` over the files `/etc/passwd` and `/etc/group`
//! (parsed by `crate::account`). Results of the non-`_r` functions live in
//! static storage overwritten by the next call, as C specifies.

use super::memory::memcpy;
use super::stdio::{fclose, fopen, getline, File};
use super::{c_string, set_errno, CGlobal};
use crate::account::{parse_group, parse_user};
use crate::errno_table::ERANGE;
use core::ptr;

/// C's `struct passwd`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Passwd {
    name: *mut u8,
    password: *mut u8,
    user: u32,
    group: u32,
    comment: *mut u8,
    home: *mut u8,
    shell: *mut u8,
}

/// C's `struct group`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Group {
    name: *mut u8,
    password: *mut u8,
    group: u32,
    members: *mut *mut u8,
}

const STORAGE: usize = 4096;

static USER: CGlobal<Passwd> = CGlobal::new(Passwd {
    name: ptr::null_mut(),
    password: ptr::null_mut(),
    user: 0,
    group: 0,
    comment: ptr::null_mut(),
    home: ptr::null_mut(),
    shell: ptr::null_mut(),
});
static USER_TEXT: CGlobal<[u8; STORAGE]> = CGlobal::new([0; STORAGE]);
static GROUP: CGlobal<Group> =
    CGlobal::new(Group { name: ptr::null_mut(), password: ptr::null_mut(), group: 0, members: ptr::null_mut() });
static GROUP_TEXT: CGlobal<[u8; STORAGE]> = CGlobal::new([0; STORAGE]);

/// Copies NUL-terminated strings into a caller's buffer.
struct Packer {
    buffer: *mut u8,
    capacity: usize,
    used: usize,
}

impl Packer {
    fn put(&mut self, bytes: &[u8]) -> Option<*mut u8> {
        if self.used + bytes.len() + 1 > self.capacity {
            return None;
        }
        // SAFETY: the buffer holds `capacity` bytes; we stay below it.
        unsafe {
            let target = self.buffer.add(self.used);
            memcpy(target, bytes.as_ptr(), bytes.len());
            *target.add(bytes.len()) = 0;
            self.used += bytes.len() + 1;
            Some(target)
        }
    }
}

/// Calls `visit` with each line of `path` until it returns true; false when
/// the file cannot be read or no line matched.
fn scan_file(path: &core::ffi::CStr, mut visit: impl FnMut(&[u8]) -> bool) -> bool {
    // SAFETY: NUL-terminated strings; the stream is closed before returning.
    unsafe {
        let file: *mut File = fopen(path.as_ptr().cast::<u8>(), c"re".as_ptr().cast::<u8>());
        if file.is_null() {
            return false;
        }
        let mut line: *mut u8 = ptr::null_mut();
        let mut capacity = 0usize;
        let mut found = false;
        loop {
            let length = getline(&mut line, &mut capacity, file);
            if length < 0 {
                break;
            }
            if visit(core::slice::from_raw_parts(line, length as usize)) {
                found = true;
                break;
            }
        }
        super::memory::free(line);
        fclose(file);
        found
    }
}

/// Finds a user by `matches` and fills `result`, with its strings in
/// `buffer`: Ok(found), or Err(ERANGE) when the buffer is too small.
///
/// # Safety
/// `result` writable; `buffer` holds `capacity` bytes.
unsafe fn find_user(
    matches: impl Fn(&crate::account::UserRecord) -> bool,
    result: *mut Passwd,
    buffer: *mut u8,
    capacity: usize,
) -> Result<bool, i32> {
    let mut outcome = Ok(false);
    scan_file(c"/etc/passwd", |line| {
        let Some(record) = parse_user(line) else {
            return false;
        };
        if !matches(&record) {
            return false;
        }
        let mut packer = Packer { buffer, capacity, used: 0 };
        let filled = (|| {
            Some(Passwd {
                name: packer.put(record.name)?,
                password: packer.put(record.password)?,
                user: record.user,
                group: record.group,
                comment: packer.put(record.comment)?,
                home: packer.put(record.home)?,
                shell: packer.put(record.shell)?,
            })
        })();
        outcome = match filled {
            // SAFETY: a writable struct passwd, per the caller.
            Some(entry) => unsafe {
                *result = entry;
                Ok(true)
            },
            None => Err(ERANGE),
        };
        true
    });
    outcome
}

/// As `find_user`, for groups; the member array is placed in `buffer` too.
///
/// # Safety
/// `result` writable; `buffer` holds `capacity` bytes.
unsafe fn find_group(
    matches: impl Fn(&crate::account::GroupRecord) -> bool,
    result: *mut Group,
    buffer: *mut u8,
    capacity: usize,
) -> Result<bool, i32> {
    let mut outcome = Ok(false);
    scan_file(c"/etc/group", |line| {
        let Some(record) = parse_group(line) else {
            return false;
        };
        if !matches(&record) {
            return false;
        }
        // The member array goes first (pointer-aligned), then the strings.
        let count = if record.members.is_empty() { 0 } else { record.members.split(|&b| b == b',').count() };
        let array_bytes = (count + 1) * core::mem::size_of::<*mut u8>();
        let aligned_start = (buffer as usize).next_multiple_of(core::mem::align_of::<*mut u8>()) - buffer as usize;
        if aligned_start + array_bytes > capacity {
            outcome = Err(ERANGE);
            return true;
        }
        // SAFETY: the array fits in the caller's buffer (checked above).
        let members = unsafe { buffer.add(aligned_start) } as *mut *mut u8;
        let mut packer = Packer { buffer, capacity, used: aligned_start + array_bytes };
        let mut filled = true;
        if count > 0 {
            for (index, member) in record.members.split(|&b| b == b',').enumerate() {
                match packer.put(member) {
                    // SAFETY: index < count, inside the array.
                    Some(text) => unsafe { *members.add(index) = text },
                    None => filled = false,
                }
            }
        }
        // SAFETY: the terminator slot is inside the array.
        unsafe { *members.add(count) = ptr::null_mut() };
        let name = packer.put(record.name);
        let password = packer.put(record.password);
        outcome = match (filled, name, password) {
            // SAFETY: a writable struct group, per the caller.
            (true, Some(name), Some(password)) => unsafe {
                *result = Group { name, password, group: record.group, members };
                Ok(true)
            },
            _ => Err(ERANGE),
        };
        true
    });
    outcome
}

/// Shared tail of the `_r` functions: stores the result pointer, returns the error number.
///
/// # Safety
/// `result` writable.
unsafe fn finish<T>(found: Result<bool, i32>, entry: *mut T, result: *mut *mut T) -> i32 {
    // SAFETY: `result` is writable, per the caller.
    unsafe {
        *result = ptr::null_mut();
        match found {
            Ok(true) => {
                *result = entry;
                0
            }
            Ok(false) => 0,
            Err(error) => error,
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn getpwnam_r(
    name: *const u8,
    entry: *mut Passwd,
    buffer: *mut u8,
    capacity: usize,
    result: *mut *mut Passwd,
) -> i32 {
    // SAFETY: NUL-terminated name; C's contract for the rest.
    unsafe {
        let wanted = c_string(name);
        finish(find_user(|record| record.name == wanted, entry, buffer, capacity), entry, result)
    }
}

#[no_mangle]
pub unsafe extern "C" fn getpwuid_r(
    user: u32,
    entry: *mut Passwd,
    buffer: *mut u8,
    capacity: usize,
    result: *mut *mut Passwd,
) -> i32 {
    // SAFETY: C's contract.
    unsafe { finish(find_user(|record| record.user == user, entry, buffer, capacity), entry, result) }
}

#[no_mangle]
pub unsafe extern "C" fn getpwnam(name: *const u8) -> *mut Passwd {
    let mut result = ptr::null_mut();
    // SAFETY: static storage for the non-reentrant variant.
    let error = unsafe { getpwnam_r(name, USER.as_ptr(), USER_TEXT.as_ptr() as *mut u8, STORAGE, &mut result) };
    if error != 0 {
        set_errno(error);
    }
    result
}

#[no_mangle]
pub unsafe extern "C" fn getpwuid(user: u32) -> *mut Passwd {
    let mut result = ptr::null_mut();
    // SAFETY: static storage for the non-reentrant variant.
    let error = unsafe { getpwuid_r(user, USER.as_ptr(), USER_TEXT.as_ptr() as *mut u8, STORAGE, &mut result) };
    if error != 0 {
        set_errno(error);
    }
    result
}

#[no_mangle]
pub unsafe extern "C" fn getgrnam_r(
    name: *const u8,
    entry: *mut Group,
    buffer: *mut u8,
    capacity: usize,
    result: *mut *mut Group,
) -> i32 {
    // SAFETY: NUL-terminated name; C's contract for the rest.
    unsafe {
        let wanted = c_string(name);
        finish(find_group(|record| record.name == wanted, entry, buffer, capacity), entry, result)
    }
}

#[no_mangle]
pub unsafe extern "C" fn getgrgid_r(
    group: u32,
    entry: *mut Group,
    buffer: *mut u8,
    capacity: usize,
    result: *mut *mut Group,
) -> i32 {
    // SAFETY: C's contract.
    unsafe { finish(find_group(|record| record.group == group, entry, buffer, capacity), entry, result) }
}

#[no_mangle]
pub unsafe extern "C" fn getgrnam(name: *const u8) -> *mut Group {
    let mut result = ptr::null_mut();
    // SAFETY: static storage for the non-reentrant variant.
    let error = unsafe { getgrnam_r(name, GROUP.as_ptr(), GROUP_TEXT.as_ptr() as *mut u8, STORAGE, &mut result) };
    if error != 0 {
        set_errno(error);
    }
    result
}

#[no_mangle]
pub unsafe extern "C" fn getgrgid(group: u32) -> *mut Group {
    let mut result = ptr::null_mut();
    // SAFETY: static storage for the non-reentrant variant.
    let error = unsafe { getgrgid_r(group, GROUP.as_ptr(), GROUP_TEXT.as_ptr() as *mut u8, STORAGE, &mut result) };
    if error != 0 {
        set_errno(error);
    }
    result
}

/// `getgrouplist`: `group` and every group of `/etc/group` listing `user`
/// as a member, without repeats. Fills up to `*count` ids; returns how many
/// there are, or -1 (with `*count` set to that number) if they do not fit.
#[no_mangle]
pub unsafe extern "C" fn getgrouplist(user: *const u8, group: u32, groups: *mut u32, count: *mut i32) -> i32 {
    // SAFETY: NUL-terminated name; `groups` holds `*count` ids.
    unsafe {
        let name = c_string(user);
        let capacity = (*count).max(0) as usize;
        let mut found: alloc::vec::Vec<u32> = alloc::vec![group];
        scan_file(c"/etc/group", |line| {
            if let Some(record) = parse_group(line) {
                let member = record.members.split(|&byte| byte == b',').any(|member| member == name);
                if member && !found.contains(&record.group) {
                    found.push(record.group);
                }
            }
            false
        });
        for (index, &id) in found.iter().take(capacity).enumerate() {
            *groups.add(index) = id;
        }
        let total = found.len() as i32;
        *count = total;
        if found.len() > capacity {
            -1
        } else {
            total
        }
    }
}
