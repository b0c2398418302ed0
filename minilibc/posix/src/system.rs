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
