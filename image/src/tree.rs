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
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub directories: u64,
    pub files: u64,
    pub symlinks: u64,
    pub special: u64,
    /// Entries an update put in place of the image's own (`Existing::Replace`).
    pub replaced: u64,
    /// Entries an update found already there and left as they were.
    pub kept: u64,
}

/// What a copy does with a name the image already has (an update of an
/// existing disk: `mkimage update`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// It is an error (a new image has nothing yet).
    Refuse,
    /// The image's entry stays as it is (a person's edits of /etc survive).
    Keep,
    /// A file or symbolic link whose contents, target or permissions differ
    /// is replaced by the host's (rebuilt programs replace theirs); one
    /// equal to the host's is left alone.
    Replace,
}

/// Copies into one file system; every file gets uid 0 and gid 0.
pub struct Copier<'a, D: BlockDevice> {
    filesystem: &'a mut Filesystem<D>,
    time: u32,
    /// Host (device, inode) of files with several links → image inode.
    hard_links: HashMap<(u64, u64), u32>,
    counts: Counts,
    existing: Existing,
}

const COPY_CHUNK: usize = 1 << 20;

impl<'a, D: BlockDevice> Copier<'a, D> {
    pub fn new(filesystem: &'a mut Filesystem<D>, time: u32) -> Self {
        Copier { filesystem, time, hard_links: HashMap::new(), counts: Counts::default(), existing: Existing::Refuse }
    }

    /// What the next copies do with names the image has.
    pub fn set_existing(&mut self, existing: Existing) {
        self.existing = existing;
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
            if self.existing != Existing::Refuse {
                match self.filesystem.lookup(directory, name) {
                    Ok(present) => {
                        let image = self.filesystem.metadata(present).map_err(context)?;
                        if file_type.is_dir() && (image.kind == FileKind::Directory || self.existing == Existing::Keep)
                        {
                            if image.kind == FileKind::Directory {
                                self.copy_directory(&path, present)?;
                            } else {
                                self.counts.kept += 1;
                            }
                            continue;
                        }
                        if file_type.is_dir() {
                            {
                                return Err(format!(
                                    "{}: a directory on the host, something else in the image: not replaced",
                                    path.display()
                                ));
                            }
                        }
                        if self.existing == Existing::Keep || self.equal(&path, &metadata, present, &image)? {
                            self.counts.kept += 1;
                            continue;
                        }
                        if image.kind == FileKind::Directory {
                            return Err(format!(
                                "{}: a directory in the image, not one on the host: not replaced",
                                path.display()
                            ));
                        }
                        self.filesystem.unlink(directory, name, self.time).map_err(context)?;
                        self.counts.replaced += 1;
                    }
                    Err(Error::NotFound) => {}
                    Err(error) => return Err(context(error)),
                }
            }
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

    /// Whether the image's entry `inode` (`image`) already is the host's
    /// `path`: the same kind, permissions and contents (or link target).
    fn equal(
        &mut self,
        path: &Path,
        metadata: &fs::Metadata,
        inode: u32,
        image: &ext2::Metadata,
    ) -> Result<bool, String> {
        let file_type = metadata.file_type();
        let context = |error: Error| format!("{}: {error}", path.display());
        if file_type.is_symlink() {
            let target = fs::read_link(path).map_err(|error| format!("{}: {error}", path.display()))?;
            return Ok(image.kind == FileKind::Symlink
                && self.filesystem.read_link(inode).map_err(context)? == target.as_os_str().as_bytes());
        }
        if !file_type.is_file()
            || image.kind != FileKind::RegularFile
            || image.size != metadata.len()
            || u32::from(image.permissions) != metadata.mode() & 0o7777
        {
            return Ok(false);
        }
        let mut file = fs::File::open(path).map_err(|error| format!("{}: {error}", path.display()))?;
        let mut host = vec![0u8; COPY_CHUNK];
        let mut ours = vec![0u8; COPY_CHUNK];
        let mut offset = 0u64;
        loop {
            let count = read_full(&mut file, &mut host).map_err(|error| format!("{}: {error}", path.display()))?;
            if count == 0 {
                return Ok(offset == image.size);
            }
            let read = self.filesystem.read(inode, offset, &mut ours[..count]).map_err(context)?;
            if read != count || host[..count] != ours[..count] {
                return Ok(false);
            }
            offset += count as u64;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ext2::{format, FormatOptions, MemoryDevice, MountOptions};
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    /// A host directory of its own, removed at the end.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("mkimage-tree-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    fn write(path: &Path, contents: &[u8], mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn new_image(from: &Path) -> Filesystem<MemoryDevice> {
        let mut device = MemoryDevice::new(4 << 20);
        format(&mut device, &FormatOptions::default()).unwrap();
        let mut filesystem = Filesystem::mount(device, MountOptions::default()).unwrap();
        Copier::new(&mut filesystem, 1).copy_tree(from).unwrap();
        filesystem
    }

    fn inode_of(filesystem: &mut Filesystem<MemoryDevice>, path: &str) -> Option<u32> {
        let mut inode = ROOT_INODE;
        for part in path.split('/').filter(|part| !part.is_empty()) {
            inode = filesystem.lookup(inode, part.as_bytes()).ok()?;
        }
        Some(inode)
    }

    fn contents(filesystem: &mut Filesystem<MemoryDevice>, path: &str) -> Option<Vec<u8>> {
        let inode = inode_of(filesystem, path)?;
        let size = filesystem.metadata(inode).ok()?.size as usize;
        let mut buffer = vec![0u8; size];
        let read = filesystem.read(inode, 0, &mut buffer).ok()?;
        buffer.truncate(read);
        Some(buffer)
    }

    #[test]
    fn an_update_replaces_changed_programs_keeps_edits_and_adds_what_is_new() {
        let first = scratch("first");
        write(&first.0.join("bin/ls"), b"old ls", 0o755);
        write(&first.0.join("bin/cat"), b"same cat", 0o755);
        std::os::unix::fs::symlink("ls", first.0.join("bin/dir")).unwrap();
        write(&first.0.join("etc/profile"), b"PATH=/bin\n", 0o644);
        let mut filesystem = new_image(&first.0);
        // What a person did in the image since: an edit and a new file.
        let etc = inode_of(&mut filesystem, "/etc").unwrap();
        let profile = inode_of(&mut filesystem, "/etc/profile").unwrap();
        filesystem.truncate(profile, 0, 2).unwrap();
        filesystem.write(profile, 0, b"PATH=/bin:/usr/bin\n", 2).unwrap();
        let notes = filesystem.create(etc, b"notes", 0o644, 0, 0, 2).unwrap();
        filesystem.write(notes, 0, b"mine", 2).unwrap();
        let cat_before = inode_of(&mut filesystem, "/bin/cat").unwrap();

        // The next build: ls rebuilt, cat the same, dir now points at cat,
        // a new program, and a newer /etc/profile in the skeleton.
        let programs = scratch("programs");
        write(&programs.0.join("bin/ls"), b"new ls, longer", 0o755);
        write(&programs.0.join("bin/cat"), b"same cat", 0o755);
        write(&programs.0.join("bin/wc"), b"wc", 0o755);
        std::os::unix::fs::symlink("cat", programs.0.join("bin/dir")).unwrap();
        let skeleton = scratch("skeleton");
        write(&skeleton.0.join("etc/profile"), b"PATH=/sbin\n", 0o644);
        write(&skeleton.0.join("usr/src/hello.c"), b"int main(void) { return 0; }\n", 0o644);

        let mut copier = Copier::new(&mut filesystem, 3);
        copier.set_existing(Existing::Keep);
        copier.copy_tree(&skeleton.0).unwrap();
        copier.set_existing(Existing::Replace);
        copier.copy_tree(&programs.0).unwrap();
        let counts = copier.counts();
        assert_eq!(
            (counts.replaced, counts.kept),
            (2, 2),
            "ls and dir replaced; /etc/profile and cat kept: {counts:?}"
        );

        assert_eq!(contents(&mut filesystem, "/bin/ls").unwrap(), b"new ls, longer");
        assert_eq!(contents(&mut filesystem, "/bin/wc").unwrap(), b"wc");
        assert_eq!(inode_of(&mut filesystem, "/bin/cat"), Some(cat_before), "an equal program is not rewritten");
        let dir = inode_of(&mut filesystem, "/bin/dir").unwrap();
        assert_eq!(filesystem.read_link(dir).unwrap(), b"cat");
        assert_eq!(contents(&mut filesystem, "/etc/profile").unwrap(), b"PATH=/bin:/usr/bin\n", "the edit stays");
        assert_eq!(contents(&mut filesystem, "/etc/notes").unwrap(), b"mine");
        assert_eq!(contents(&mut filesystem, "/usr/src/hello.c").unwrap(), b"int main(void) { return 0; }\n");
        filesystem.verify_free_counts().unwrap();
        // The replaced files' blocks and inodes came back: a second update
        // with the same trees changes nothing and frees nothing more.
        let free = filesystem.statistics();
        let mut copier = Copier::new(&mut filesystem, 4);
        copier.set_existing(Existing::Replace);
        copier.copy_tree(&programs.0).unwrap();
        assert_eq!(copier.counts().replaced, 0);
        assert_eq!(filesystem.statistics(), free);
    }

    #[test]
    fn a_program_of_other_permissions_is_replaced_and_a_directory_is_never_replaced_by_a_file() {
        let first = scratch("modes");
        write(&first.0.join("bin/tool"), b"tool", 0o644);
        fs::create_dir_all(first.0.join("bin/thing")).unwrap();
        let mut filesystem = new_image(&first.0);
        let next = scratch("modes-next");
        write(&next.0.join("bin/tool"), b"tool", 0o755);
        let mut copier = Copier::new(&mut filesystem, 2);
        copier.set_existing(Existing::Replace);
        copier.copy_tree(&next.0).unwrap();
        assert_eq!(copier.counts().replaced, 1);
        let tool = inode_of(&mut filesystem, "/bin/tool").unwrap();
        assert_eq!(filesystem.metadata(tool).unwrap().permissions, 0o755);

        let clash = scratch("modes-clash");
        write(&clash.0.join("bin/thing"), b"a file now", 0o755);
        let mut copier = Copier::new(&mut filesystem, 3);
        copier.set_existing(Existing::Replace);
        let error = copier.copy_tree(&clash.0).unwrap_err();
        assert!(error.contains("a directory in the image"), "{error}");
        assert!(inode_of(&mut filesystem, "/bin/thing").is_some());
    }

    #[test]
    fn a_new_image_refuses_a_name_twice() {
        let first = scratch("twice");
        write(&first.0.join("a"), b"a", 0o644);
        let mut filesystem = new_image(&first.0);
        let error = Copier::new(&mut filesystem, 2).copy_tree(&first.0).unwrap_err();
        assert!(error.contains("exists"), "{error}");
    }
}
