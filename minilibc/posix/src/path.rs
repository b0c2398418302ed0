//! `CPath`: anything that can be handed to C as a NUL-terminated path (a
//! `CStr` as it is; byte strings copied with a terminator, on the stack when
//! short). An interior NUL is `EINVAL`: C would see a shorter name.

use crate::error::{Errno, Result};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::CStr;

/// A path (or other string) C can take.
pub trait CPath {
    /// Calls `body` with the string NUL-terminated.
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R>;
}

impl CPath for CStr {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        Ok(body(self))
    }
}

impl CPath for CString {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        Ok(body(self))
    }
}

impl CPath for [u8] {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        const SHORT: usize = 256;
        if self.len() < SHORT {
            let mut buffer = [0u8; SHORT];
            buffer[..self.len()].copy_from_slice(self);
            let text = CStr::from_bytes_until_nul(&buffer).map_err(|_| Errno(crate::EINVAL))?;
            if text.to_bytes().len() != self.len() {
                return Err(Errno(crate::EINVAL));
            }
            return Ok(body(text));
        }
        let owned = CString::new(self).map_err(|_| Errno(crate::EINVAL))?;
        Ok(body(&owned))
    }
}

impl<const N: usize> CPath for [u8; N] {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        self[..].with_c_path(body)
    }
}

impl CPath for Vec<u8> {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        self[..].with_c_path(body)
    }
}

impl CPath for str {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        self.as_bytes().with_c_path(body)
    }
}

impl CPath for String {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        self.as_bytes().with_c_path(body)
    }
}

impl<T: CPath + ?Sized> CPath for &T {
    fn with_c_path<R>(&self, body: impl FnOnce(&CStr) -> R) -> Result<R> {
        (**self).with_c_path(body)
    }
}

/// The last component of `path` as `basename(1)` prints it ("/a/b/" gives
/// "b", "/" gives "/", "" gives ".").
pub fn base_name(path: &[u8]) -> &[u8] {
    let trimmed = trim_trailing_slashes(path);
    if trimmed.is_empty() {
        return if path.is_empty() { b"." } else { b"/" };
    }
    match trimmed.iter().rposition(|&byte| byte == b'/') {
        Some(slash) => &trimmed[slash + 1..],
        None => trimmed,
    }
}

/// Everything before the last component, as `dirname(1)` prints it
/// ("/a/b" gives "/a", "a" gives ".", "/a" gives "/").
pub fn directory_name(path: &[u8]) -> &[u8] {
    let trimmed = trim_trailing_slashes(path);
    if trimmed.is_empty() {
        return if path.is_empty() { b"." } else { b"/" };
    }
    match trimmed.iter().rposition(|&byte| byte == b'/') {
        None => b".",
        Some(slash) => {
            let parent = trim_trailing_slashes(&trimmed[..slash]);
            if parent.is_empty() {
                b"/"
            } else {
                parent
            }
        }
    }
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 0 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

/// `directory/name`, without doubling a slash `directory` already ends with.
pub fn join(directory: &[u8], name: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(directory.len() + name.len() + 1);
    path.extend_from_slice(directory);
    if !directory.is_empty() && !directory.ends_with(b"/") {
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_split_as_basename_and_dirname_do() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"/usr/lib", b"lib", b"/usr"),
            (b"/usr/", b"usr", b"/"),
            (b"usr", b"usr", b"."),
            (b"/", b"/", b"/"),
            (b"//", b"/", b"/"),
            (b"", b".", b"."),
            (b"a/b//", b"b", b"a"),
            (b"a//b", b"b", b"a"),
            (b"/a", b"a", b"/"),
        ];
        for &(path, base, directory) in cases {
            assert_eq!(base_name(path), base, "base of {:?}", path);
            assert_eq!(directory_name(path), directory, "directory of {:?}", path);
        }
    }

    #[test]
    fn join_adds_one_slash() {
        assert_eq!(join(b"a", b"b"), b"a/b");
        assert_eq!(join(b"a/", b"b"), b"a/b");
        assert_eq!(join(b"/", b"b"), b"/b");
        assert_eq!(join(b"", b"b"), b"b");
    }

    #[test]
    fn interior_nul_is_refused() {
        assert_eq!(b"a\0b"[..].with_c_path(|_| ()), Err(Errno(crate::EINVAL)));
        let long = [b'x'; 600];
        assert_eq!(long[..].with_c_path(|text| text.to_bytes().len()), Ok(600));
        let mut long_with_nul = long;
        long_with_nul[300] = 0;
        assert_eq!(long_with_nul[..].with_c_path(|_| ()), Err(Errno(crate::EINVAL)));
    }

    proptest! {
        #[test]
        fn short_and_long_paths_pass_through(bytes in proptest::collection::vec(1u8..=255, 0..700)) {
            let seen = bytes[..].with_c_path(|text| text.to_bytes().to_vec()).unwrap();
            prop_assert_eq!(seen, bytes);
        }

        #[test]
        fn directory_and_base_rebuild_the_path(parts in proptest::collection::vec("[a-z]{1,4}", 1..5)) {
            let path = parts.join("/");
            let rebuilt = join(directory_name(path.as_bytes()), base_name(path.as_bytes()));
            if parts.len() == 1 {
                prop_assert_eq!(rebuilt, format!("./{}", path).into_bytes());
            } else {
                prop_assert_eq!(rebuilt, path.into_bytes());
            }
        }
    }
}
