//! The mount table as a file: a small read-only file system (kind `proc`,
//! mounted at `/proc`) whose one file `mounts` holds a line per mount in
//! the format of Linux's `/proc/mounts` and `/etc/mtab`: "source directory
//! type options 0 0", blanks, tabs, newlines and backslashes in a field
//! written as octal escapes (`\040`). `/etc/mtab` on the root disk is a
//! symbolic link to it, so `getmntent`, `mount` and `df` read it as on
//! Linux.
//!
//! The file system knows nothing of the mounts: the file server owns the
//! text ([`MountListText`]) and rewrites it after every mount and unmount
//! (`FileServer::refresh_mount_list`); the file system reads whatever the
//! text is at the time of each read.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::errno::Errno;
use crate::filesystem::FileSystem;
use crate::node::{
    AttributeChanges, Attributes, Creation, DeviceNumber, DirectoryEntry, FileSystemStatistics, NewNode, NodeId,
    NodeKind, Timestamp,
};

/// Linux's `PROC_SUPER_MAGIC`.
pub const PROC_MAGIC: u64 = 0x9fa0;

const ROOT: NodeId = 1;
/// The node of `mounts` in its file system.
pub const MOUNTS: NodeId = 2;
const MOUNTS_NAME: &[u8] = b"mounts";

/// The text of the mount list, shared by the file server (which writes it)
/// and the file system (which serves it).
#[derive(Clone, Default)]
pub struct MountListText(Rc<RefCell<Vec<u8>>>);

impl MountListText {
    pub fn replace(&self, text: Vec<u8>) {
        *self.0.borrow_mut() = text;
    }

    pub fn length(&self) -> u64 {
        self.0.borrow().len() as u64
    }
}

/// One line of the list.
pub struct MountLine<'a> {
    pub source: &'a [u8],
    pub directory: &'a [u8],
    pub kind: &'a str,
    pub read_only: bool,
}

/// Appends `field` with blanks, tabs, newlines and backslashes escaped as
/// Linux writes them (`\040`, `\011`, `\012`, `\134`).
fn push_field(text: &mut Vec<u8>, field: &[u8]) {
    if field.is_empty() {
        text.push(b'-');
        return;
    }
    for &byte in field {
        if matches!(byte, b' ' | b'\t' | b'\n' | b'\\') {
            text.extend_from_slice(&[b'\\', b'0' + (byte >> 6), b'0' + ((byte >> 3) & 7), b'0' + (byte & 7)]);
        } else {
            text.push(byte);
        }
    }
}

/// The file's text for `lines`.
pub fn render(lines: &[MountLine<'_>]) -> Vec<u8> {
    let mut text = Vec::new();
    for line in lines {
        push_field(&mut text, line.source);
        text.push(b' ');
        push_field(&mut text, line.directory);
        text.push(b' ');
        push_field(&mut text, line.kind.as_bytes());
        text.extend_from_slice(if line.read_only { b" ro 0 0\n" } else { b" rw 0 0\n" });
    }
    text
}

/// The `proc` file system: a directory holding `mounts`.
pub struct MountListFileSystem {
    text: MountListText,
    time: Timestamp,
}

impl MountListFileSystem {
    pub fn new(text: MountListText, time: Timestamp) -> Self {
        MountListFileSystem { text, time }
    }

    fn known(node: NodeId) -> Result<(), Errno> {
        if node == ROOT || node == MOUNTS {
            Ok(())
        } else {
            Err(Errno::NoSuchEntry)
        }
    }
}

impl FileSystem for MountListFileSystem {
    fn kind_name(&self) -> &'static str {
        "proc"
    }

    fn root(&self) -> NodeId {
        ROOT
    }

    fn is_read_only(&self) -> bool {
        true
    }

    fn attributes(&mut self, node: NodeId) -> Result<Attributes, Errno> {
        Self::known(node)?;
        let (kind, permissions, links, size) = if node == ROOT {
            (NodeKind::Directory, 0o555, 2, 64)
        } else {
            (NodeKind::RegularFile, 0o444, 1, self.text.length())
        };
        Ok(Attributes {
            node,
            kind,
            permissions,
            links,
            uid: 0,
            gid: 0,
            size,
            blocks: 0,
            block_size: 1024,
            special: DeviceNumber::default(),
            device: 0,
            access_time: self.time,
            modification_time: self.time,
            change_time: self.time,
        })
    }

    fn change_attributes(&mut self, _: NodeId, _: &AttributeChanges, _: Timestamp) -> Result<(), Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn lookup(&mut self, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        Self::known(directory)?;
        if directory != ROOT {
            return Err(Errno::NotADirectory);
        }
        match name {
            b"." | b".." => Ok(ROOT),
            MOUNTS_NAME => Ok(MOUNTS),
            _ => Err(Errno::NoSuchEntry),
        }
    }

    fn create(&mut self, _: NodeId, _: &[u8], _: NewNode<'_>, _: &Creation) -> Result<NodeId, Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn link(&mut self, _: NodeId, _: NodeId, _: &[u8], _: Timestamp) -> Result<(), Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn unlink(&mut self, _: NodeId, _: &[u8], _: Timestamp) -> Result<(), Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn remove_directory(&mut self, _: NodeId, _: &[u8], _: Timestamp) -> Result<(), Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn rename(&mut self, _: NodeId, _: &[u8], _: NodeId, _: &[u8], _: Timestamp) -> Result<(), Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn read(&mut self, node: NodeId, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno> {
        Self::known(node)?;
        if node == ROOT {
            return Err(Errno::IsADirectory);
        }
        let text = self.text.0.borrow();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(text.len());
        let length = buffer.len().min(text.len() - start);
        buffer[..length].copy_from_slice(&text[start..start + length]);
        Ok(length)
    }

    fn write(&mut self, _: NodeId, _: u64, _: &[u8], _: Timestamp) -> Result<usize, Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn truncate(&mut self, _: NodeId, _: u64, _: Timestamp) -> Result<(), Errno> {
        Err(Errno::ReadOnlyFileSystem)
    }

    fn read_link(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        Self::known(node)?;
        Err(Errno::InvalidArgument)
    }

    fn read_directory(
        &mut self,
        directory: NodeId,
        position: u64,
        limit: usize,
    ) -> Result<(Vec<DirectoryEntry>, Option<u64>), Errno> {
        Self::known(directory)?;
        if directory != ROOT {
            return Err(Errno::NotADirectory);
        }
        let all = [
            (&b"."[..], ROOT, NodeKind::Directory),
            (b"..", ROOT, NodeKind::Directory),
            (MOUNTS_NAME, MOUNTS, NodeKind::RegularFile),
        ];
        let mut listing = Vec::new();
        for (index, (name, node, kind)) in all.iter().enumerate().skip(position.min(all.len() as u64) as usize) {
            if listing.len() == limit {
                return Ok((listing, Some(index as u64)));
            }
            listing.push(DirectoryEntry {
                position: index as u64,
                node: *node,
                name: name.to_vec(),
                kind: Some(*kind),
            });
        }
        Ok((listing, None))
    }

    fn statistics(&mut self) -> Result<FileSystemStatistics, Errno> {
        Ok(FileSystemStatistics {
            kind_magic: PROC_MAGIC,
            block_size: 1024,
            blocks: 0,
            free_blocks: 0,
            available_blocks: 0,
            files: 0,
            free_files: 0,
            name_max: 255,
        })
    }

    fn open_node(&mut self, node: NodeId) -> Result<(), Errno> {
        Self::known(node)
    }

    fn close_node(&mut self, node: NodeId, _: Timestamp) -> Result<(), Errno> {
        Self::known(node)
    }

    fn sync(&mut self) -> Result<(), Errno> {
        Ok(())
    }

    fn shrink_cache(&mut self) -> Result<usize, Errno> {
        Ok(0)
    }

    fn cached_bytes(&self) -> usize {
        0
    }

    fn unmount(&mut self) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_as_linux_writes_them() {
        let text = render(&[
            MountLine { source: b"/dev/vda", directory: b"/", kind: "ext2", read_only: false },
            MountLine { source: b"my disk", directory: b"/mnt/a\tb\\c", kind: "tmpfs", read_only: true },
            MountLine { source: b"", directory: b"/x\ny", kind: "tmpfs", read_only: false },
        ]);
        assert_eq!(
            text,
            b"/dev/vda / ext2 rw 0 0\nmy\\040disk /mnt/a\\011b\\134c tmpfs ro 0 0\n- /x\\012y tmpfs rw 0 0\n".to_vec()
        );
    }

    #[test]
    fn the_file_reads_the_current_text_and_refuses_changes() {
        let text = MountListText::default();
        let mut filesystem = MountListFileSystem::new(text.clone(), Timestamp::from_seconds(5));
        let mounts = filesystem.lookup(ROOT, b"mounts").unwrap();
        text.replace(b"a / ext2 rw 0 0\n".to_vec());
        assert_eq!(filesystem.attributes(mounts).unwrap().size, 16);
        let mut buffer = [0u8; 8];
        assert_eq!(filesystem.read(mounts, 2, &mut buffer), Ok(8));
        assert_eq!(&buffer, b"/ ext2 r");
        assert_eq!(filesystem.read(mounts, 16, &mut buffer), Ok(0));
        assert_eq!(filesystem.read(mounts, u64::MAX, &mut buffer), Ok(0));
        text.replace(Vec::new());
        assert_eq!(filesystem.read(mounts, 0, &mut buffer), Ok(0));
        assert_eq!(filesystem.write(mounts, 0, b"x", Timestamp::default()), Err(Errno::ReadOnlyFileSystem));
        assert_eq!(filesystem.lookup(ROOT, b"other"), Err(Errno::NoSuchEntry));
        assert_eq!(filesystem.lookup(mounts, b"x"), Err(Errno::NotADirectory));
        assert_eq!(filesystem.attributes(99), Err(Errno::NoSuchEntry));
        let (listing, next) = filesystem.read_directory(ROOT, 0, 2).unwrap();
        assert_eq!(listing.len(), 2);
        let (rest, end) = filesystem.read_directory(ROOT, next.unwrap(), 8).unwrap();
        assert_eq!((rest[0].name.as_slice(), end), (&b"mounts"[..], None));
    }
}
