//! Path helpers over the inode operations: resolve a slash-separated path
//! from the root (or a starting directory), following symbolic links.

use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::error::Error;
use crate::filesystem::Filesystem;
use crate::inode::FileKind;
use crate::superblock::ROOT_INODE;
use crate::Result;

/// Most symbolic links followed while resolving one path (Linux's limit).
pub const SYMLINK_LIMIT: u32 = 40;
/// Longest path accepted, link targets included.
pub const PATH_MAX: usize = 4096;

impl<D: BlockDevice> Filesystem<D> {
    /// The inode `path` names, following every symbolic link.
    pub fn resolve(&mut self, path: &[u8]) -> Result<u32> {
        self.resolve_at(ROOT_INODE, path, true)
    }

    /// The inode `path` names; a final symbolic link is not followed.
    pub fn resolve_no_follow(&mut self, path: &[u8]) -> Result<u32> {
        self.resolve_at(ROOT_INODE, path, false)
    }

    /// The directory holding the last component of `path`, and that name.
    pub fn resolve_parent(&mut self, path: &[u8]) -> Result<(u32, Vec<u8>)> {
        let trimmed = trim_trailing_slashes(path);
        let (directory, name) = match trimmed.iter().rposition(|&byte| byte == b'/') {
            Some(position) => (&trimmed[..position], &trimmed[position + 1..]),
            None => (&b""[..], trimmed),
        };
        if name.is_empty() {
            return Err(Error::InvalidName);
        }
        let parent = self.resolve_at(ROOT_INODE, directory, true)?;
        Ok((parent, name.to_vec()))
    }

    /// Resolves `path` from directory `start` (an absolute path starts at
    /// the root). Bounded: at most `SYMLINK_LIMIT` (40) links, and the pending
    /// path never exceeds `PATH_MAX` (4096) bytes.
    pub fn resolve_at(&mut self, start: u32, path: &[u8], follow_final: bool) -> Result<u32> {
        if path.len() > PATH_MAX {
            return Err(Error::NameTooLong);
        }
        let mut current = if path.first() == Some(&b'/') { ROOT_INODE } else { start };
        // Components still to walk, last one at the bottom of the stack.
        let mut pending: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
        let mut pending_bytes = path.len();
        let mut links_followed = 0;
        while let Some(component) = pending.pop() {
            pending_bytes = pending_bytes.saturating_sub(component.len() + 1);
            if component == b"." {
                continue;
            }
            let child = self.lookup(current, &component)?;
            let is_last = pending.is_empty();
            let metadata = self.metadata(child)?;
            if metadata.kind == FileKind::Symlink && (!is_last || follow_final) {
                links_followed += 1;
                if links_followed > SYMLINK_LIMIT {
                    return Err(Error::SymlinkLoop);
                }
                let target = self.read_link(child)?;
                pending_bytes += target.len() + 1;
                if pending_bytes > PATH_MAX {
                    return Err(Error::NameTooLong);
                }
                if target.first() == Some(&b'/') {
                    current = ROOT_INODE;
                }
                for part in components(&target).rev() {
                    pending.push(part.to_vec());
                }
                continue;
            }
            current = child;
        }
        Ok(current)
    }
}

fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&byte| byte == b'/').filter(|part| !part.is_empty())
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}
