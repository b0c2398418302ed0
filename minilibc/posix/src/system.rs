//! The system's identity (uname, host name) and resource limits.

use crate::error::{check, Result};
use crate::ffi;
use crate::types::{Rlimit, Utsname};
use alloc::vec::Vec;

/// `uname`'s fields as byte strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemName {
    pub system: Vec<u8>,
    pub node: Vec<u8>,
    pub release: Vec<u8>,
    pub version: Vec<u8>,
    pub machine: Vec<u8>,
}

fn field(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|&byte| byte == 0).unwrap_or(bytes.len());
    bytes[..end].to_vec()
}

/// `uname`.
pub fn system_name() -> Result<SystemName> {
    let mut name = Utsname {
        sysname: [0; 65],
        nodename: [0; 65],
        release: [0; 65],
        version: [0; 65],
        machine: [0; 65],
        domainname: [0; 65],
    };
    // SAFETY: a writable record.
    check(unsafe { ffi::uname(&mut name) })?;
    Ok(SystemName {
        system: field(&name.sysname),
        node: field(&name.nodename),
        release: field(&name.release),
        version: field(&name.version),
        machine: field(&name.machine),
    })
}

/// `gethostname`.
pub fn host_name() -> Result<Vec<u8>> {
    let mut buffer = [0u8; 256];
    // SAFETY: a writable buffer.
    check(unsafe { ffi::gethostname(buffer.as_mut_ptr(), buffer.len()) })?;
    Ok(field(&buffer))
}

/// `getrlimit(resource)`: the soft and hard limits.
pub fn resource_limit(resource: i32) -> Result<Rlimit> {
    let mut limit = Rlimit::default();
    // SAFETY: a writable record.
    check(unsafe { ffi::getrlimit(resource, &mut limit) })?;
    Ok(limit)
}

/// `statfs`: the file system holding `path` (its type number too).
pub fn file_system<P: crate::CPath + ?Sized>(path: &P) -> Result<crate::types::Statfs> {
    let mut buffer = crate::types::Statfs::default();
    // SAFETY: a NUL-terminated path and a writable record.
    path.with_c_path(|path| check(unsafe { ffi::statfs(path.as_ptr().cast(), &mut buffer) }))??;
    Ok(buffer)
}

/// `statvfs`.
pub fn file_system_sizes<P: crate::CPath + ?Sized>(path: &P) -> Result<crate::types::Statvfs> {
    let mut buffer = crate::types::Statvfs::default();
    // SAFETY: a NUL-terminated path and a writable record.
    path.with_c_path(|path| check(unsafe { ffi::statvfs(path.as_ptr().cast(), &mut buffer) }))??;
    Ok(buffer)
}

/// One line of the mount table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub source: Vec<u8>,
    pub directory: Vec<u8>,
    pub kind: Vec<u8>,
    pub options: Vec<u8>,
}

/// The mounted file systems, from the mount table (`MOUNTED`, /etc/mtab).
pub fn mounts() -> Result<Vec<Mount>> {
    mount_table(c"/etc/mtab")
}

/// The entries of a mount table file (/etc/mtab, /etc/fstab) through
/// setmntent/getmntent_r.
pub fn mount_table(path: &core::ffi::CStr) -> Result<Vec<Mount>> {
    // SAFETY: NUL-terminated strings; the stream is ended before returning;
    // each entry's strings live in `buffer` and are copied at once.
    unsafe {
        let stream = ffi::setmntent(path.as_ptr().cast(), c"r".as_ptr().cast());
        if stream.is_null() {
            return Err(crate::Errno::last());
        }
        let mut list = Vec::new();
        let mut buffer = alloc::vec![0u8; 8192];
        loop {
            let mut entry = crate::types::Mntent {
                mnt_fsname: core::ptr::null_mut(),
                mnt_dir: core::ptr::null_mut(),
                mnt_type: core::ptr::null_mut(),
                mnt_opts: core::ptr::null_mut(),
                mnt_freq: 0,
                mnt_passno: 0,
            };
            if ffi::getmntent_r(stream, &mut entry, buffer.as_mut_ptr(), buffer.len() as i32).is_null() {
                break;
            }
            list.push(Mount {
                source: crate::c_string_bytes(entry.mnt_fsname).to_vec(),
                directory: crate::c_string_bytes(entry.mnt_dir).to_vec(),
                kind: crate::c_string_bytes(entry.mnt_type).to_vec(),
                options: crate::c_string_bytes(entry.mnt_opts).to_vec(),
            });
        }
        ffi::endmntent(stream);
        Ok(list)
    }
}

/// `mount(source, target, kind, flags, data)`.
pub fn mount(source: &[u8], target: &[u8], kind: &[u8], flags: u64, data: Option<&[u8]>) -> Result<()> {
    use crate::CPath;
    source
        .with_c_path(|source| {
            target.with_c_path(|target| {
                kind.with_c_path(|kind| match data {
                    Some(data) => data.with_c_path(|data| {
                        // SAFETY: NUL-terminated strings.
                        check(unsafe {
                            ffi::mount(
                                source.as_ptr().cast(),
                                target.as_ptr().cast(),
                                kind.as_ptr().cast(),
                                flags,
                                data.as_ptr().cast(),
                            )
                        })
                    }),
                    // SAFETY: NUL-terminated strings and a null data pointer.
                    None => Ok(check(unsafe {
                        ffi::mount(
                            source.as_ptr().cast(),
                            target.as_ptr().cast(),
                            kind.as_ptr().cast(),
                            flags,
                            core::ptr::null(),
                        )
                    })),
                })
            })
        })????
        .map(drop)
}

/// `umount2(target, flags)`.
pub fn unmount<P: crate::CPath + ?Sized>(target: &P, flags: i32) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    target.with_c_path(|target| check(unsafe { ffi::umount2(target.as_ptr().cast(), flags) }))?.map(drop)
}

/// `reboot(command)` (`RB_POWER_OFF`, `RB_AUTOBOOT`, `RB_HALT_SYSTEM`):
/// returns only if it failed.
pub fn reboot(command: u32) -> crate::Errno {
    // SAFETY: no pointers.
    match check(unsafe { ffi::reboot(command) }) {
        Ok(_) => crate::Errno(0),
        Err(error) => error,
    }
}

/// The kernel log, whole (`klogctl`: its size, then a read of it all).
pub fn kernel_log() -> Result<Vec<u8>> {
    // SAFETY: command 10 takes no buffer.
    let size = check(unsafe { ffi::klogctl(10, core::ptr::null_mut(), 0) })?.max(4096) as usize;
    let mut buffer = alloc::vec![0u8; size];
    // SAFETY: a writable buffer of `size` bytes.
    let length = check(unsafe { ffi::klogctl(3, buffer.as_mut_ptr(), size as i32) })? as usize;
    buffer.truncate(length);
    Ok(buffer)
}

/// Empties the kernel log (`klogctl` command 5).
pub fn clear_kernel_log() -> Result<()> {
    // SAFETY: command 5 takes no buffer.
    check(unsafe { ffi::klogctl(5, core::ptr::null_mut(), 0) }).map(drop)
}

/// Every process (`getprocinfo`), asking again with more room while the
/// list grows.
pub fn processes() -> Result<Vec<crate::types::Procinfo>> {
    let mut capacity = 256;
    loop {
        let mut list = alloc::vec![crate::types::Procinfo::EMPTY; capacity];
        // SAFETY: a writable array of `capacity` records.
        let count = unsafe { ffi::getprocinfo(list.as_mut_ptr(), capacity) };
        if count < 0 {
            return Err(crate::Errno::last());
        }
        let count = count as usize;
        if count <= capacity {
            list.truncate(count);
            return Ok(list);
        }
        capacity = count + 64;
    }
}
