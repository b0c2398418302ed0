//! The program's arguments and environment as byte strings, and the C
//! library's environment (getenv/setenv).

use crate::error::{check, Result};
use crate::ffi;
use crate::path::CPath;
use alloc::vec::Vec;

/// argv: the program's arguments as byte strings (they live as long as the
/// process). The first is the name the program was run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    items: Vec<&'static [u8]>,
}

impl Args {
    /// From argv as crt0 passes it.
    ///
    /// # Safety
    /// `array` is null or a NULL-terminated array of NUL-terminated strings
    /// valid for the rest of the process.
    pub unsafe fn from_raw(array: *const *const u8) -> Args {
        // SAFETY: the caller's contract.
        Args { items: unsafe { crate::process::c_array(array) } }
    }

    /// Arguments given directly (tests, multi-call dispatch).
    pub fn from_vec(items: Vec<&'static [u8]>) -> Args {
        Args { items }
    }

    pub fn as_slice(&self) -> &[&'static [u8]] {
        &self.items
    }

    /// The arguments after the program name.
    pub fn operands(&self) -> &[&'static [u8]] {
        self.items.get(1..).unwrap_or(&[])
    }

    /// The program name (argv[0]), empty if there is none.
    pub fn program(&self) -> &'static [u8] {
        self.items.first().copied().unwrap_or(b"")
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> core::slice::Iter<'_, &'static [u8]> {
        self.items.iter()
    }
}

/// envp as the program received it: "NAME=value" byte strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    items: Vec<&'static [u8]>,
}

impl Env {
    /// # Safety
    /// As `Args::from_raw`.
    pub unsafe fn from_raw(array: *const *const u8) -> Env {
        // SAFETY: the caller's contract.
        Env { items: unsafe { crate::process::c_array(array) } }
    }

    pub fn from_vec(items: Vec<&'static [u8]>) -> Env {
        Env { items }
    }

    /// The entries, "NAME=value".
    pub fn entries(&self) -> &[&'static [u8]] {
        &self.items
    }

    /// Name and value of each entry (an entry without '=' has an empty value).
    pub fn pairs(&self) -> impl Iterator<Item = (&'static [u8], &'static [u8])> + '_ {
        self.items.iter().map(|entry| split_entry(entry))
    }

    /// The value of `name` as the program received it.
    pub fn get(&self, name: &[u8]) -> Option<&'static [u8]> {
        self.pairs().find(|(key, _)| *key == name).map(|(_, value)| value)
    }
}

/// "NAME=value" split at the first '='.
pub fn split_entry(entry: &[u8]) -> (&[u8], &[u8]) {
    match entry.iter().position(|&byte| byte == b'=') {
        Some(equals) => (&entry[..equals], &entry[equals + 1..]),
        None => (entry, b""),
    }
}

/// `getenv`: the current value (a copy: setenv may free the original).
pub fn get<N: CPath + ?Sized>(name: &N) -> Option<Vec<u8>> {
    name.with_c_path(|name| {
        // SAFETY: a NUL-terminated name; getenv returns null or a NUL-terminated value, copied at once.
        unsafe {
            let value = ffi::getenv(name.as_ptr().cast());
            (!value.is_null()).then(|| crate::c_string_bytes(value).to_vec())
        }
    })
    .ok()
    .flatten()
}

/// `setenv(name, value, 1)`.
pub fn set<N: CPath + ?Sized, V: CPath + ?Sized>(name: &N, value: &V) -> Result<()> {
    name.with_c_path(|name| {
        // SAFETY: NUL-terminated strings.
        value.with_c_path(|value| check(unsafe { ffi::setenv(name.as_ptr().cast(), value.as_ptr().cast(), 1) }))
    })??
    .map(drop)
}

/// `unsetenv(name)`.
pub fn unset<N: CPath + ?Sized>(name: &N) -> Result<()> {
    // SAFETY: a NUL-terminated name.
    name.with_c_path(|name| check(unsafe { ffi::unsetenv(name.as_ptr().cast()) }))?.map(drop)
}

/// The current environment ("NAME=value" copies), as `environ` holds it now.
pub fn current() -> Vec<Vec<u8>> {
    // SAFETY: environ is the C library's NULL-terminated array.
    unsafe { crate::process::c_array(ffi::environ) }.into_iter().map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_at_the_first_equals() {
        assert_eq!(split_entry(b"A=b=c"), (&b"A"[..], &b"b=c"[..]));
        assert_eq!(split_entry(b"EMPTY="), (&b"EMPTY"[..], &b""[..]));
        assert_eq!(split_entry(b"ODD"), (&b"ODD"[..], &b""[..]));
        let env = Env::from_vec(alloc::vec![&b"HOME=/root"[..], b"PATH=/bin"]);
        assert_eq!(env.get(b"PATH"), Some(&b"/bin"[..]));
        assert_eq!(env.get(b"HOM"), None);
    }

    #[test]
    fn set_get_unset_round_trip() {
        set("POSIX_CRATE_TEST", b"value=1").unwrap();
        assert_eq!(get("POSIX_CRATE_TEST").as_deref(), Some(&b"value=1"[..]));
        unset("POSIX_CRATE_TEST").unwrap();
        assert_eq!(get("POSIX_CRATE_TEST"), None);
    }
}
