//! File-tree helpers the file tools share: kind names as GNU's messages
//! print them, interactive confirmation, where cp's and mv's operands go,
//! and copying a tree.

use crate::common::{quote, Command, Text};
use crate::complain;
use alloc::vec::Vec;
use posix::fs::FileType;
use posix::{Errno, Stat};

/// Where cp and mv put their sources: `SOURCE DEST`, `SOURCE... DIRECTORY`
/// or `-t DIRECTORY SOURCE...` (with -T, DEST is never a directory to go
/// into).
pub struct Destination<'a> {
    pub sources: Vec<&'a [u8]>,
    path: &'a [u8],
    into_directory: bool,
}

impl<'a> Destination<'a> {
    /// From the operands, -t's directory and -T. A problem is reported with
    /// GNU's message (a usage error through `command`) and its exit status
    /// returned.
    pub fn from_operands(
        command: &Command,
        mut operands: Vec<&'a [u8]>,
        target_directory: Option<&'a [u8]>,
        no_target: bool,
    ) -> Result<Self, i32> {
        if operands.is_empty() {
            return Err(command.usage_error(format_args!("missing file operand")));
        }
        if let Some(directory) = target_directory {
            match posix::fs::stat(directory) {
                Ok(stat) if stat.is_directory() => {}
                Ok(_) => {
                    complain!("target directory {}: {}", quote(directory), Errno(posix::ENOTDIR));
                    return Err(1);
                }
                Err(error) => {
                    complain!("target directory {}: {}", quote(directory), error);
                    return Err(1);
                }
            }
            return Ok(Destination { sources: operands, path: directory, into_directory: true });
        }
        if operands.len() == 1 {
            return Err(
                command.usage_error(format_args!("missing destination file operand after {}", quote(operands[0])))
            );
        }
        let path = operands.pop().unwrap_or_default();
        let is_directory = posix::fs::stat(path).is_ok_and(|stat| stat.is_directory());
        if no_target {
            if operands.len() > 1 {
                complain!("extra operand {}", quote(operands[1]));
                return Err(command.try_help());
            }
            Ok(Destination { sources: operands, path, into_directory: false })
        } else if operands.len() > 1 && !is_directory {
            let error = posix::fs::stat(path).err().unwrap_or(Errno(posix::ENOTDIR));
            complain!("target {}: {}", quote(path), error);
            Err(1)
        } else {
            Ok(Destination { sources: operands, path, into_directory: is_directory })
        }
    }

    /// Where `source` goes: DIRECTORY/its base name, or DEST.
    pub fn target(&self, source: &[u8]) -> Vec<u8> {
        if self.into_directory {
            posix::path::join(self.path, posix::path::base_name(source))
        } else {
            self.path.to_vec()
        }
    }
}

/// "regular file", "directory"... as `stat %F` and rm's prompts name them.
pub fn kind_name(stat: &Stat) -> &'static str {
    match stat.file_type() {
        FileType::Regular if stat.st_size == 0 => "regular empty file",
        FileType::Regular => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
        FileType::CharacterDevice => "character special file",
        FileType::BlockDevice => "block special file",
        FileType::Fifo => "fifo",
        FileType::Socket => "socket",
        FileType::Unknown => "weird file",
    }
}

/// Asks on standard error and reads a line from standard input: true for
/// an answer starting with 'y' or 'Y'.
pub fn confirm(question: core::fmt::Arguments<'_>) -> bool {
    posix::eprint!("{}: {}", crate::common::name(), question);
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = posix::fd::read(0, &mut byte) {
        if byte[0] == b'\n' {
            break;
        }
        answer.push(byte[0]);
    }
    matches!(answer.first(), Some(b'y') | Some(b'Y'))
}

/// Whether `path` names the same file as `other` (device and inode).
pub fn same_file(a: &Stat, b: &Stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// A lexically cleaned absolute path (for "into itself" checks): the
/// working directory prefixed to a relative path, "." and ".." resolved.
pub fn absolute(path: &[u8]) -> Vec<u8> {
    let mut full = if path.starts_with(b"/") { Vec::new() } else { posix::fs::current_directory().unwrap_or_default() };
    full.push(b'/');
    full.extend_from_slice(path);
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in full.split(|&byte| byte == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut cleaned = Vec::new();
    for part in parts {
        cleaned.push(b'/');
        cleaned.extend_from_slice(part);
    }
    if cleaned.is_empty() {
        cleaned.push(b'/');
    }
    cleaned
}

/// Whether `inner` is `outer` or lies below it (both absolute and clean).
pub fn is_within(inner: &[u8], outer: &[u8]) -> bool {
    inner == outer || (inner.starts_with(outer) && (outer == b"/" || inner.get(outer.len()) == Some(&b'/')))
}

/// How `copy` treats what it copies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyOptions {
    pub recursive: bool,
    /// Copy symbolic links as links (-P, -d, the default with -R).
    pub no_dereference: bool,
    pub preserve_mode: bool,
    pub preserve_ownership: bool,
    pub preserve_times: bool,
    /// Remove a destination that cannot be opened, then try again (-f).
    pub force: bool,
    /// Never overwrite (-n).
    pub no_clobber: bool,
    pub interactive: bool,
    pub verbose: bool,
    /// Make hard links instead of copies (-l).
    pub link: bool,
}

/// Copies files and trees with one set of options. It remembers the
/// directories it creates, so that a tree copied into itself stops at the
/// copy (as GNU's cp does) instead of recursing for ever.
pub struct Copier {
    pub options: CopyOptions,
    created: Vec<(u64, u64)>,
    top_source: Vec<u8>,
    top_destination: Vec<u8>,
    /// Set when a copy into itself was found: every level stops there.
    into_itself: bool,
}

impl Copier {
    pub fn new(options: CopyOptions) -> Copier {
        Copier { options, created: Vec::new(), top_source: Vec::new(), top_destination: Vec::new(), into_itself: false }
    }

    /// Copies operand `source` to `destination` (the caller resolved a
    /// destination directory already). Reports its own errors; returns
    /// false if any happened.
    pub fn copy_operand(&mut self, source: &[u8], destination: &[u8]) -> bool {
        self.top_source = source.to_vec();
        self.top_destination = destination.to_vec();
        self.into_itself = false;
        self.copy(source, destination)
    }

    fn copy(&mut self, source: &[u8], destination: &[u8]) -> bool {
        let options = self.options;
        let source_stat = if options.no_dereference { posix::fs::lstat(source) } else { posix::fs::stat(source) };
        let source_stat = match source_stat {
            Ok(stat) => stat,
            Err(error) => {
                complain!("cannot stat {}: {}", quote(source), error);
                return false;
            }
        };
        let destination_stat = posix::fs::lstat(destination).ok();
        if let Some(existing) = &destination_stat {
            let followed = posix::fs::stat(destination).ok();
            if same_file(existing, &source_stat) || followed.is_some_and(|stat| same_file(&stat, &source_stat)) {
                complain!("{} and {} are the same file", quote(source), quote(destination));
                return false;
            }
            if !source_stat.is_directory() && followed.is_some_and(|stat| stat.is_directory()) {
                complain!("cannot overwrite directory {} with non-directory", quote(destination));
                return false;
            }
            if options.no_clobber {
                return true;
            }
            if options.interactive
                && !source_stat.is_directory()
                && !confirm(format_args!("overwrite {}? ", quote(destination)))
            {
                return true;
            }
        }
        let done = match source_stat.file_type() {
            FileType::Directory => {
                if !options.recursive {
                    complain!("-r not specified; omitting directory {}", quote(source));
                    return false;
                }
                self.copy_directory(source, destination, &source_stat, destination_stat.as_ref())
            }
            FileType::Symlink => {
                if let Some(existing) = &destination_stat {
                    if !existing.is_directory() {
                        let _ = posix::fs::unlink(destination);
                    }
                }
                match posix::fs::read_link(source).and_then(|target| posix::fs::symbolic_link(&target, destination)) {
                    Ok(()) => true,
                    Err(error) => {
                        complain!("cannot create symbolic link {}: {}", quote(destination), error);
                        false
                    }
                }
            }
            FileType::Regular | FileType::Unknown => {
                if options.link {
                    if destination_stat.is_some() {
                        let _ = posix::fs::unlink(destination);
                    }
                    match posix::fs::hard_link(source, destination) {
                        Ok(()) => true,
                        Err(error) => {
                            complain!("cannot create hard link {} to {}: {}", quote(destination), quote(source), error);
                            false
                        }
                    }
                } else {
                    copy_file(source, destination, &source_stat, destination_stat.is_some(), &options)
                }
            }
            _ => {
                // Devices, FIFOs and sockets: their contents are not files to copy.
                complain!("cannot copy special file {}: {}", quote(source), Errno(posix::EINVAL));
                false
            }
        };
        if done {
            if options.verbose && !source_stat.is_directory() {
                posix::println!("{} -> {}", quote(source), quote(destination));
            }
            preserve(destination, &source_stat, &options);
        }
        done
    }

    fn copy_directory(&mut self, source: &[u8], destination: &[u8], stat: &Stat, existing: Option<&Stat>) -> bool {
        if self.created.contains(&(stat.st_dev, stat.st_ino)) {
            complain!(
                "cannot copy a directory, {}, into itself, {}",
                quote(&self.top_source),
                quote(&self.top_destination)
            );
            self.into_itself = true;
            return false;
        }
        match existing {
            Some(existing) if !existing.is_directory() => {
                complain!("cannot overwrite non-directory {} with directory {}", quote(destination), quote(source));
                return false;
            }
            Some(_) => {}
            None => {
                // Writable while we fill it; the final mode is set after.
                if let Err(error) = posix::fs::make_directory(destination, stat.permissions() | 0o700) {
                    complain!("cannot create directory {}: {}", quote(destination), error);
                    return false;
                }
                if let Ok(created) = posix::fs::stat(destination) {
                    self.created.push((created.st_dev, created.st_ino));
                }
            }
        }
        if self.options.verbose {
            posix::println!("{} -> {}", quote(source), quote(destination));
        }
        let mut entries = match posix::fs::read_directory(source) {
            Ok(entries) => entries,
            Err(error) => {
                complain!("cannot access {}: {}", quote(source), error);
                return false;
            }
        };
        // In inode order, as GNU's cp reads a directory (faster on ext2).
        entries.sort_by_key(|entry| entry.inode);
        let mut ok = true;
        for entry in entries {
            let from = posix::path::join(source, &entry.name);
            let to = posix::path::join(destination, &entry.name);
            ok &= self.copy(&from, &to);
            if self.into_itself {
                break;
            }
        }
        if existing.is_none() && !self.options.preserve_mode {
            let mask = posix::fs::umask();
            let _ = posix::fs::set_mode(destination, stat.permissions() & !mask);
        }
        ok
    }
}

fn preserve(destination: &[u8], source: &Stat, options: &CopyOptions) {
    let link = source.is_symlink();
    if options.preserve_ownership {
        let _ = posix::fs::set_owner(destination, source.st_uid, source.st_gid, !link);
    }
    if options.preserve_mode && !link {
        let _ = posix::fs::set_mode(destination, source.permissions());
    }
    if options.preserve_times {
        let times = [source.st_atim, source.st_mtim];
        let flags = if link { posix::AT_SYMLINK_NOFOLLOW } else { 0 };
        let _ = posix::fs::set_times(destination, Some(times), flags);
    }
}

fn copy_file(source: &[u8], destination: &[u8], stat: &Stat, exists: bool, options: &CopyOptions) -> bool {
    let input = match posix::fd::open(source, posix::O_RDONLY | posix::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(error) => {
            complain!("cannot open {} for reading: {}", quote(source), error);
            return false;
        }
    };
    let flags = posix::O_WRONLY | posix::O_CREAT | posix::O_TRUNC | posix::O_CLOEXEC;
    let mode = stat.permissions() & 0o777;
    let output = match posix::fd::open(destination, flags, mode) {
        Ok(fd) => fd,
        Err(_) if exists && options.force => {
            let _ = posix::fs::unlink(destination);
            match posix::fd::open(destination, flags, mode) {
                Ok(fd) => fd,
                Err(error) => {
                    complain!("cannot create regular file {}: {}", quote(destination), error);
                    return false;
                }
            }
        }
        Err(error) => {
            let verb = if exists { "cannot open" } else { "cannot create regular file" };
            let suffix = if exists { " for writing" } else { "" };
            complain!("{} {}{}: {}", verb, quote(destination), suffix, error);
            return false;
        }
    };
    let mut buffer = alloc::vec![0u8; 128 * 1024];
    loop {
        match input.read(&mut buffer) {
            Ok(0) => return true,
            Ok(count) => {
                if let Err(error) = output.write_all(&buffer[..count]) {
                    complain!("error writing {}: {}", quote(destination), error);
                    return false;
                }
            }
            Err(error) => {
                complain!("error reading {}: {}", quote(source), error);
                return false;
            }
        }
    }
}

/// Prints a message with a raw name (for tools that show names unquoted).
pub fn show(name: &[u8]) -> Text<'_> {
    Text(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_is_by_whole_components() {
        assert!(is_within(b"/a/b", b"/a"));
        assert!(is_within(b"/a", b"/a"));
        assert!(!is_within(b"/ab", b"/a"));
        assert!(is_within(b"/x", b"/"));
        assert_eq!(absolute(b"/a/./b/../c/"), b"/a/c");
        assert_eq!(absolute(b"/.."), b"/");
    }
}
