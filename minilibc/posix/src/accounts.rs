//! Users and groups from the account databases (`/etc/passwd`, `/etc/group`).

use crate::ffi;
use crate::path::CPath;
use crate::types::{Group as CGroup, Passwd};
use alloc::vec::Vec;

/// A user record (copied out of the C library's static buffer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub gecos: Vec<u8>,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// A group record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: Vec<u8>,
    pub gid: u32,
    pub members: Vec<Vec<u8>>,
}

/// # Safety
/// `record` is null or a valid `struct passwd`.
unsafe fn user_from(record: *const Passwd) -> Option<User> {
    if record.is_null() {
        return None;
    }
    // SAFETY: the caller's contract; the strings are NUL-terminated (or null).
    unsafe {
        let text =
            |pointer: *mut u8| if pointer.is_null() { Vec::new() } else { crate::c_string_bytes(pointer).to_vec() };
        Some(User {
            name: text((*record).pw_name),
            uid: (*record).pw_uid,
            gid: (*record).pw_gid,
            gecos: text((*record).pw_gecos),
            home: text((*record).pw_dir),
            shell: text((*record).pw_shell),
        })
    }
}

/// # Safety
/// `record` is null or a valid `struct group`.
unsafe fn group_from(record: *const CGroup) -> Option<Group> {
    if record.is_null() {
        return None;
    }
    // SAFETY: the caller's contract; gr_mem is a NULL-terminated array.
    unsafe {
        let members = crate::process::c_array((*record).gr_mem as *const *const u8);
        Some(Group {
            name: crate::c_string_bytes((*record).gr_name).to_vec(),
            gid: (*record).gr_gid,
            members: members.into_iter().map(<[u8]>::to_vec).collect(),
        })
    }
}

/// `getpwuid`.
pub fn user_by_id(uid: u32) -> Option<User> {
    // SAFETY: getpwuid returns null or a valid record, copied at once.
    unsafe { user_from(ffi::getpwuid(uid)) }
}

/// `getpwnam`.
pub fn user_by_name<N: CPath + ?Sized>(name: &N) -> Option<User> {
    // SAFETY: a NUL-terminated name; the record is copied at once.
    name.with_c_path(|name| unsafe { user_from(ffi::getpwnam(name.as_ptr().cast())) }).ok().flatten()
}

/// `getgrgid`.
pub fn group_by_id(gid: u32) -> Option<Group> {
    // SAFETY: getgrgid returns null or a valid record, copied at once.
    unsafe { group_from(ffi::getgrgid(gid)) }
}

/// `getgrnam`.
pub fn group_by_name<N: CPath + ?Sized>(name: &N) -> Option<Group> {
    // SAFETY: a NUL-terminated name; the record is copied at once.
    name.with_c_path(|name| unsafe { group_from(ffi::getgrnam(name.as_ptr().cast())) }).ok().flatten()
}

/// `getgroups`: the caller's supplementary groups.
pub fn supplementary_groups() -> crate::Result<Vec<u32>> {
    // SAFETY: size 0 asks for the count only.
    let count = crate::error::check(unsafe { ffi::getgroups(0, core::ptr::null_mut()) })?;
    let mut list = alloc::vec![0u32; count as usize];
    // SAFETY: a writable array of `count` ids.
    let filled = crate::error::check(unsafe { ffi::getgroups(count, list.as_mut_ptr()) })?;
    list.truncate(filled as usize);
    Ok(list)
}

/// `getgrouplist(user, group)`: `group` and the groups listing `user`.
pub fn group_list<N: CPath + ?Sized>(user: &N, group: u32) -> Vec<u32> {
    user.with_c_path(|user| {
        let mut capacity = 32i32;
        loop {
            let mut list = alloc::vec![0u32; capacity as usize];
            let mut count = capacity;
            // SAFETY: a NUL-terminated name, a writable array of `count` ids.
            let result = unsafe { ffi::getgrouplist(user.as_ptr().cast(), group, list.as_mut_ptr(), &mut count) };
            if result >= 0 {
                list.truncate(result as usize);
                return list;
            }
            capacity = count.max(capacity * 2);
        }
    })
    .unwrap_or_default()
}
