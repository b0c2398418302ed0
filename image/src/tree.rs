//! Copying a host directory tree, and device nodes from a spec file, into
//! the mounted image.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use ext2::{BlockDevice, Error, FileKind, Filesystem, ROOT_INODE};

/// What was copied, for the summary line.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub directories: u64,
    pub files: u64,
    pub symlinks: u64,
    pub special: u64,
}

/// Copies into one file system; every file gets uid 0 and gid 0.
pub struct Copier<'a, D: BlockDevice> {
    filesystem: &'a mut Filesystem<D>,
    time: u32,
    /// Host (device, inode) of files with several links → image inode.
    hard_links: HashMap<(u64, u64), u32>,
    counts: Counts,
}

const COPY_CHUNK: usize = 1 << 20;

impl<'a, D: BlockDevice> Copier<'a, D> {
    pub fn new(filesystem: &'a mut Filesystem<D>, time: u32) -> Self {
        Copier { filesystem, time, hard_links: HashMap::new(), counts: Counts::default() }
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Copies the contents of `source` into the image's root directory.
    pub fn copy_tree(&mut self, source: &Path) -> Result<(), String> {
        let metadata = fs::metadata(source).map_err(|error| format!("{}: {error}", source.display()))?;
        if !metadata.is_dir() {
            return Err(format!("{}: not a directory", source.display()));
        }
        self.copy_directory(source, ROOT_INODE)
    }

    fn copy_directory(&mut self, source: &Path, directory: u32) -> Result<(), String> {
        let mut entries: Vec<_> = fs::read_dir(source)
            .map_err(|error| format!("{}: {error}", source.display()))?
            .collect::<Result<_, _>>()
            .map_err(|error| format!("{}: {error}", source.display()))?;
        // Sorted, so the same tree always gives the same image.
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.as_bytes();
            let metadata = fs::symlink_metadata(&path).map_err(|error| format!("{}: {error}", path.display()))?;
            let context = |error: Error| format!("{}: {error}", path.display());
            let permissions = (metadata.mode() & 0o7777) as u16;
            let file_type = metadata.file_type();
            if metadata.nlink() > 1 && !file_type.is_dir() {
                if let Some(&inode) = self.hard_links.get(&(metadata.dev(), metadata.ino())) {
                    self.filesystem.link(inode, directory, name, self.time).map_err(context)?;
                    continue;
                }
            }
            let inode = if file_type.is_dir() {
                let inode =
                    self.filesystem.make_directory(directory, name, permissions, 0, 0, self.time).map_err(context)?;
                self.counts.directories += 1;
                self.copy_directory(&path, inode)?;
                inode
            } else if file_type.is_file() {
                let inode = self.filesystem.create(directory, name, permissions, 0, 0, self.time).map_err(context)?;
                self.copy_file_contents(&path, inode, metadata.len())?;
                self.counts.files += 1;
                inode
            } else if file_type.is_symlink() {
                let target = fs::read_link(&path).map_err(|error| format!("{}: {error}", path.display()))?;
                let inode = self
                    .filesystem
                    .symlink(directory, name, target.as_os_str().as_bytes(), 0, 0, self.time)
                    .map_err(context)?;
                self.counts.symlinks += 1;
                inode
            } else {
                let kind = if file_type.is_char_device() {
                    FileKind::CharacterDevice
                } else if file_type.is_block_device() {
                    FileKind::BlockDevice
                } else if file_type.is_fifo() {
                    FileKind::Fifo
                } else {
                    FileKind::Socket
                };
                let device = metadata.rdev();
                let major = ((device >> 8) & 0xFFF) as u32 | ((device >> 32) & !0xFFF) as u32;
                let minor = (device & 0xFF) as u32 | ((device >> 12) & !0xFF) as u32;
                let inode = self
                    .filesystem
                    .make_node_of_kind(directory, name, kind, permissions, (major, minor), 0, 0, self.time)
                    .map_err(context)?;
                self.counts.special += 1;
                inode
            };
            if metadata.nlink() > 1 && !file_type.is_dir() {
                self.hard_links.insert((metadata.dev(), metadata.ino()), inode);
            }
        }
        Ok(())
    }

    /// Copies a file; all-zero blocks are skipped so they stay holes.
    fn copy_file_contents(&mut self, path: &Path, inode: u32, length: u64) -> Result<(), String> {
        let mut file = fs::File::open(path).map_err(|error| format!("{}: {error}", path.display()))?;
        let block_size = self.filesystem.block_size() as usize;
        let mut buffer = vec![0u8; COPY_CHUNK];
        let mut offset = 0u64;
        loop {
            let count = read_full(&mut file, &mut buffer).map_err(|error| format!("{}: {error}", path.display()))?;
            if count == 0 {
                break;
            }
            for (index, piece) in buffer[..count].chunks(block_size).enumerate() {
                if piece.iter().all(|&byte| byte == 0) {
                    continue;
                }
                let at = offset + (index * block_size) as u64;
                let written = self
                    .filesystem
                    .write(inode, at, piece, self.time)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
                if written != piece.len() {
                    return Err(format!("{}: {}", path.display(), Error::NoSpace));
                }
            }
            offset += count as u64;
        }
        if offset != length {
            return Err(format!("{}: file changed while being copied", path.display()));
        }
        // A trailing hole still counts in the size.
        self.filesystem.truncate(inode, length, self.time).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// Adds the nodes listed in a spec file of `path type major minor mode`.
    pub fn add_device_nodes(&mut self, spec: &Path) -> Result<(), String> {
        let text = fs::read_to_string(spec).map_err(|error| format!("{}: {error}", spec.display()))?;
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let where_ = || format!("{}:{}", spec.display(), number + 1);
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() != 5 {
                return Err(format!("{}: expected 'path type major minor mode'", where_()));
            }
            let kind = match fields[1] {
                "c" => FileKind::CharacterDevice,
                "b" => FileKind::BlockDevice,
                "p" => FileKind::Fifo,
                other => return Err(format!("{}: type '{other}' is not c, b or p", where_())),
            };
            let major: u32 = fields[2].parse().map_err(|_| format!("{}: bad major number", where_()))?;
            let minor: u32 = fields[3].parse().map_err(|_| format!("{}: bad minor number", where_()))?;
            let mode = u16::from_str_radix(fields[4], 8).map_err(|_| format!("{}: bad octal mode", where_()))?;
            let (directory, name) = self.make_parents(fields[0]).map_err(|error| format!("{}: {error}", where_()))?;
            self.filesystem
                .make_node_of_kind(directory, name.as_bytes(), kind, mode & 0o7777, (major, minor), 0, 0, self.time)
                .map_err(|error| format!("{}: {}: {error}", where_(), fields[0]))?;
            self.counts.special += 1;
        }
        Ok(())
    }

    /// `mkdir -p` of a path's parent; returns it and the last component.
    fn make_parents<'p>(&mut self, path: &'p str) -> Result<(u32, &'p str), Error> {
        let components: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
        let (name, parents) = components.split_last().ok_or(Error::InvalidName)?;
        let mut directory = ROOT_INODE;
        for part in parents {
            directory = match self.filesystem.lookup(directory, part.as_bytes()) {
                Ok(inode) => inode,
                Err(Error::NotFound) => {
                    self.counts.directories += 1;
                    self.filesystem.make_directory(directory, part.as_bytes(), 0o755, 0, 0, self.time)?
                }
                Err(error) => return Err(error),
            };
        }
        Ok((directory, name))
    }
}

/// Number of entries under `root` (symbolic links not followed), to size
/// the inode tables.
pub fn count_entries(root: &Path) -> Result<u64, String> {
    let mut count = 0u64;
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in fs::read_dir(&directory).map_err(|error| format!("{}: {error}", directory.display()))? {
            let entry = entry.map_err(|error| format!("{}: {error}", directory.display()))?;
            count += 1;
            if entry.file_type().map_err(|error| format!("{}: {error}", entry.path().display()))?.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    Ok(count)
}

fn read_full(file: &mut fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    while total < buffer.len() {
        match file.read(&mut buffer[total..])? {
            0 => break,
            count => total += count,
        }
    }
    Ok(total)
}
