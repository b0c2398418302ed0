//! `<spawn.h>`: posix_spawn and its file actions and attributes. The C
//! records are kept here (the actions in a malloc'd array the file-actions
//! object points to) and handed to `platform::spawn` as one request.

use super::c_string;
use super::memory::{free, realloc};
use super::runtime::{environ, getenv};
use super::string::strdup;
use crate::errno_table::{EBADF, EINVAL, ENOMEM};
use crate::platform::{self, SpawnAction, SpawnAttributes};
use alloc::vec::Vec;
use core::ptr;

/// `posix_spawn_file_actions_t` (see `<spawn.h>`).
#[repr(C)]
pub struct FileActions {
    allocated: i32,
    used: i32,
    actions: *mut StoredAction,
    padding: [i32; 16],
}

/// `posix_spawnattr_t` (see `<spawn.h>`).
#[repr(C)]
pub struct Attributes {
    flags: i16,
    process_group: i32,
    default_signals: u64,
    signal_mask: u64,
    padding: [i32; 32],
}

/// One file action as stored; `path` is ours (strdup'd), freed by destroy.
#[repr(C)]
#[derive(Clone, Copy)]
struct StoredAction {
    kind: i32,
    fd: i32,
    other: i32,
    flags: i32,
    mode: u32,
    path: *mut u8,
}

const OPEN: i32 = 1;
const CLOSE: i32 = 2;
const DUPLICATE: i32 = 3;
const CHANGE_DIRECTORY: i32 = 4;
const CHANGE_DIRECTORY_TO: i32 = 5;
const TERMINAL_FOREGROUND: i32 = 6;

const POSIX_SPAWN_SETPGROUP: i16 = 0x02;
const POSIX_SPAWN_SETSIGDEF: i16 = 0x04;
const POSIX_SPAWN_SETSIGMASK: i16 = 0x08;
const POSIX_SPAWN_USEVFORK: i16 = 0x40;
const POSIX_SPAWN_SETSID: i16 = 0x80;
/// What minilibc implements; USEVFORK is only a hint and changes nothing.
const SUPPORTED_FLAGS: i16 =
    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID;

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_init(actions: *mut FileActions) -> i32 {
    // SAFETY: a writable record.
    unsafe { ptr::write(actions, FileActions { allocated: 0, used: 0, actions: ptr::null_mut(), padding: [0; 16] }) };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_destroy(actions: *mut FileActions) -> i32 {
    // SAFETY: an initialised record whose array holds `used` actions.
    unsafe {
        for index in 0..(*actions).used as usize {
            free((*(*actions).actions.add(index)).path);
        }
        free((*actions).actions.cast());
        (*actions).actions = ptr::null_mut();
        (*actions).allocated = 0;
        (*actions).used = 0;
    }
    0
}

/// Appends `action`; ENOMEM when the array cannot grow.
///
/// # Safety
/// `actions` is an initialised record.
unsafe fn push(actions: *mut FileActions, action: StoredAction) -> i32 {
    // SAFETY: the array holds `allocated` records.
    unsafe {
        if (*actions).used == (*actions).allocated {
            let capacity = ((*actions).allocated as usize).max(4) * 2;
            let grown = realloc((*actions).actions.cast(), capacity * core::mem::size_of::<StoredAction>());
            if grown.is_null() {
                return ENOMEM;
            }
            (*actions).actions = grown.cast();
            (*actions).allocated = capacity as i32;
        }
        *(*actions).actions.add((*actions).used as usize) = action;
        (*actions).used += 1;
    }
    0
}

fn action(kind: i32, fd: i32) -> StoredAction {
    StoredAction { kind, fd, other: 0, flags: 0, mode: 0, path: ptr::null_mut() }
}

/// A copy of `path` for the action list, or None when memory is short.
///
/// # Safety
/// `path` is NUL-terminated.
unsafe fn copy_path(path: *const u8) -> Option<*mut u8> {
    // SAFETY: NUL-terminated.
    let copy = unsafe { strdup(path) };
    (!copy.is_null()).then_some(copy)
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_addopen(
    actions: *mut FileActions,
    fd: i32,
    path: *const u8,
    flags: i32,
    mode: u32,
) -> i32 {
    if fd < 0 {
        return EBADF;
    }
    // SAFETY: NUL-terminated path; an initialised record.
    unsafe {
        let Some(copy) = copy_path(path) else { return ENOMEM };
        let result = push(actions, StoredAction { flags, mode, path: copy, ..action(OPEN, fd) });
        if result != 0 {
            free(copy);
        }
        result
    }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_addclose(actions: *mut FileActions, fd: i32) -> i32 {
    if fd < 0 {
        return EBADF;
    }
    // SAFETY: an initialised record.
    unsafe { push(actions, action(CLOSE, fd)) }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_adddup2(actions: *mut FileActions, fd: i32, new_fd: i32) -> i32 {
    if fd < 0 || new_fd < 0 {
        return EBADF;
    }
    // SAFETY: an initialised record.
    unsafe { push(actions, StoredAction { other: new_fd, ..action(DUPLICATE, fd) }) }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_addchdir_np(actions: *mut FileActions, path: *const u8) -> i32 {
    // SAFETY: NUL-terminated path; an initialised record.
    unsafe {
        let Some(copy) = copy_path(path) else { return ENOMEM };
        let result = push(actions, StoredAction { path: copy, ..action(CHANGE_DIRECTORY, 0) });
        if result != 0 {
            free(copy);
        }
        result
    }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_addfchdir_np(actions: *mut FileActions, fd: i32) -> i32 {
    if fd < 0 {
        return EBADF;
    }
    // SAFETY: an initialised record.
    unsafe { push(actions, action(CHANGE_DIRECTORY_TO, fd)) }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_addtcsetpgrp_np(actions: *mut FileActions, fd: i32) -> i32 {
    if fd < 0 {
        return EBADF;
    }
    // SAFETY: an initialised record.
    unsafe { push(actions, action(TERMINAL_FOREGROUND, fd)) }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_init(attributes: *mut Attributes) -> i32 {
    // SAFETY: a writable record.
    unsafe {
        ptr::write(
            attributes,
            Attributes { flags: 0, process_group: 0, default_signals: 0, signal_mask: 0, padding: [0; 32] },
        )
    };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_destroy(_attributes: *mut Attributes) -> i32 {
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_getflags(attributes: *const Attributes, flags: *mut i16) -> i32 {
    // SAFETY: valid records.
    unsafe { *flags = (*attributes).flags };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_setflags(attributes: *mut Attributes, flags: i16) -> i32 {
    if flags & !SUPPORTED_FLAGS != 0 {
        return EINVAL;
    }
    // SAFETY: a valid record.
    unsafe { (*attributes).flags = flags };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_getpgroup(attributes: *const Attributes, group: *mut i32) -> i32 {
    // SAFETY: valid records.
    unsafe { *group = (*attributes).process_group };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_setpgroup(attributes: *mut Attributes, group: i32) -> i32 {
    // SAFETY: a valid record.
    unsafe { (*attributes).process_group = group };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_getsigdefault(attributes: *const Attributes, signals: *mut u64) -> i32 {
    // SAFETY: valid records.
    unsafe { *signals = (*attributes).default_signals };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_setsigdefault(attributes: *mut Attributes, signals: *const u64) -> i32 {
    // SAFETY: valid records.
    unsafe { (*attributes).default_signals = *signals };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_getsigmask(attributes: *const Attributes, mask: *mut u64) -> i32 {
    // SAFETY: valid records.
    unsafe { *mask = (*attributes).signal_mask };
    0
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnattr_setsigmask(attributes: *mut Attributes, mask: *const u64) -> i32 {
    // SAFETY: valid records.
    unsafe { (*attributes).signal_mask = *mask };
    0
}

/// The shared body of posix_spawn and posix_spawnp: returns an error number.
///
/// # Safety
/// C's posix_spawn contract.
unsafe fn spawn(
    pid: *mut i32,
    path: *const u8,
    search: Option<&[u8]>,
    actions: *const FileActions,
    attributes: *const Attributes,
    arguments: *const *const u8,
    environment: *const *const u8,
) -> i32 {
    // SAFETY: null or initialised records; NUL-terminated strings.
    unsafe {
        let mut steps = Vec::new();
        if !actions.is_null() {
            for index in 0..(*actions).used as usize {
                let stored = *(*actions).actions.add(index);
                steps.push(match stored.kind {
                    OPEN => {
                        SpawnAction::Open { fd: stored.fd, path: stored.path, flags: stored.flags, mode: stored.mode }
                    }
                    CLOSE => SpawnAction::Close { fd: stored.fd },
                    DUPLICATE => SpawnAction::Duplicate { from: stored.fd, to: stored.other },
                    CHANGE_DIRECTORY => SpawnAction::ChangeDirectory { path: stored.path },
                    CHANGE_DIRECTORY_TO => SpawnAction::ChangeDirectoryTo { fd: stored.fd },
                    TERMINAL_FOREGROUND => SpawnAction::TerminalForeground { fd: stored.fd },
                    _ => return EINVAL,
                });
            }
        }
        let settings = if attributes.is_null() {
            SpawnAttributes::default()
        } else {
            SpawnAttributes {
                flags: (*attributes).flags as u16 as u32,
                process_group: (*attributes).process_group,
                default_signals: (*attributes).default_signals,
                signal_mask: (*attributes).signal_mask,
            }
        };
        let environment = if environment.is_null() { environ.get() as *const *const u8 } else { environment };
        match platform::spawn(path, search, arguments, environment, &steps, &settings) {
            Ok(child) => {
                if !pid.is_null() {
                    *pid = child as i32;
                }
                0
            }
            Err(error) => error.0,
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut i32,
    path: *const u8,
    actions: *const FileActions,
    attributes: *const Attributes,
    arguments: *const *const u8,
    environment: *const *const u8,
) -> i32 {
    // SAFETY: C's contract.
    unsafe { spawn(pid, path, None, actions, attributes, arguments, environment) }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut i32,
    file: *const u8,
    actions: *const FileActions,
    attributes: *const Attributes,
    arguments: *const *const u8,
    environment: *const *const u8,
) -> i32 {
    // SAFETY: C's contract; PATH is NUL-terminated when set.
    unsafe {
        let path_variable = getenv(c"PATH".as_ptr().cast::<u8>());
        let search: &[u8] = if path_variable.is_null() { b"/bin:/usr/bin" } else { c_string(path_variable) };
        spawn(pid, file, Some(search), actions, attributes, arguments, environment)
    }
}
