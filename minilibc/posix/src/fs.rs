//! Operations on names: stat, mkdir, unlink, rename, links, modes, owners,
//! times, the working directory, and directory listing.

use crate::error::{check, check_size, Errno, Result};
use crate::fd::Fd;
use crate::ffi;
use crate::path::CPath;
use crate::types::{Stat, Timespec};
use alloc::vec::Vec;

/// The kind of file a mode or directory entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
    Unknown,
}

impl FileType {
    /// From `st_mode`'s `S_IFMT` bits.
    pub fn from_mode(mode: u32) -> FileType {
        match mode & crate::S_IFMT {
            crate::S_IFREG => FileType::Regular,
            crate::S_IFDIR => FileType::Directory,
            crate::S_IFLNK => FileType::Symlink,
            crate::S_IFCHR => FileType::CharacterDevice,
            crate::S_IFBLK => FileType::BlockDevice,
            crate::S_IFIFO => FileType::Fifo,
            crate::S_IFSOCK => FileType::Socket,
            _ => FileType::Unknown,
        }
    }

    /// From a `d_type` (`DT_UNKNOWN` when the file system does not say).
    pub fn from_directory_type(kind: u8) -> FileType {
        match kind {
            crate::DT_REG => FileType::Regular,
            crate::DT_DIR => FileType::Directory,
            crate::DT_LNK => FileType::Symlink,
            crate::DT_CHR => FileType::CharacterDevice,
            crate::DT_BLK => FileType::BlockDevice,
            crate::DT_FIFO => FileType::Fifo,
            crate::DT_SOCK => FileType::Socket,
            _ => FileType::Unknown,
        }
    }
}

impl Stat {
    /// The file's kind.
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.st_mode)
    }

    pub fn is_directory(&self) -> bool {
        self.file_type() == FileType::Directory
    }

    pub fn is_regular(&self) -> bool {
        self.file_type() == FileType::Regular
    }

    pub fn is_symlink(&self) -> bool {
        self.file_type() == FileType::Symlink
    }

    /// The permission bits with set-id and sticky (`mode & 07777`).
    pub fn permissions(&self) -> u32 {
        self.st_mode & 0o7777
    }

    /// Major and minor numbers of a device (`st_rdev`), Linux's encoding.
    pub fn device_numbers(&self) -> (u32, u32) {
        split_device(self.st_rdev)
    }
}

/// Linux's `major`/`minor` of a `dev_t`.
pub fn split_device(device: u64) -> (u32, u32) {
    let major = ((device >> 32) & 0xffff_f000) | ((device >> 8) & 0xfff);
    let minor = ((device >> 12) & 0xffff_ff00) | (device & 0xff);
    (major as u32, minor as u32)
}

/// `stat`: follows symbolic links.
pub fn stat<P: CPath + ?Sized>(path: &P) -> Result<Stat> {
    let mut buffer = Stat::default();
    // SAFETY: a NUL-terminated path and a writable record.
    path.with_c_path(|path| check(unsafe { ffi::stat(path.as_ptr().cast(), &mut buffer) }))??;
    Ok(buffer)
}

/// `lstat`: a symbolic link itself.
pub fn lstat<P: CPath + ?Sized>(path: &P) -> Result<Stat> {
    let mut buffer = Stat::default();
    // SAFETY: a NUL-terminated path and a writable record.
    path.with_c_path(|path| check(unsafe { ffi::lstat(path.as_ptr().cast(), &mut buffer) }))??;
    Ok(buffer)
}

/// `fstatat(directory, path, flags)`.
pub fn stat_at<P: CPath + ?Sized>(directory: &Fd, path: &P, flags: i32) -> Result<Stat> {
    let mut buffer = Stat::default();
    path.with_c_path(|path| {
        // SAFETY: a NUL-terminated path and a writable record.
        check(unsafe { ffi::fstatat(directory.raw(), path.as_ptr().cast(), &mut buffer, flags) })
    })??;
    Ok(buffer)
}

/// `access(path, mode)` (`F_OK`, or `R_OK | W_OK | X_OK`).
pub fn access<P: CPath + ?Sized>(path: &P, mode: i32) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::access(path.as_ptr().cast(), mode) }))?.map(drop)
}

/// `mkdir(path, mode)` (the umask applies).
pub fn make_directory<P: CPath + ?Sized>(path: &P, mode: u32) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::mkdir(path.as_ptr().cast(), mode) }))?.map(drop)
}

/// `rmdir`.
pub fn remove_directory<P: CPath + ?Sized>(path: &P) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::rmdir(path.as_ptr().cast()) }))?.map(drop)
}

/// `unlink`.
pub fn unlink<P: CPath + ?Sized>(path: &P) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::unlink(path.as_ptr().cast()) }))?.map(drop)
}

/// `unlinkat(directory, path, flags)` (`AT_REMOVEDIR` for a directory).
pub fn unlink_at<P: CPath + ?Sized>(directory: &Fd, path: &P, flags: i32) -> Result<()> {
    path.with_c_path(|path| {
        // SAFETY: a NUL-terminated path.
        check(unsafe { ffi::unlinkat(directory.raw(), path.as_ptr().cast(), flags) })
    })?
    .map(drop)
}

/// `rename(old, new)`.
pub fn rename<P: CPath + ?Sized, Q: CPath + ?Sized>(old: &P, new: &Q) -> Result<()> {
    old.with_c_path(|old| {
        // SAFETY: NUL-terminated paths.
        new.with_c_path(|new| check(unsafe { ffi::rename(old.as_ptr().cast(), new.as_ptr().cast()) }))
    })??
    .map(drop)
}

/// `link(existing, new)`: a hard link.
pub fn hard_link<P: CPath + ?Sized, Q: CPath + ?Sized>(existing: &P, new: &Q) -> Result<()> {
    existing
        .with_c_path(|existing| {
            // SAFETY: NUL-terminated paths.
            new.with_c_path(|new| check(unsafe { ffi::link(existing.as_ptr().cast(), new.as_ptr().cast()) }))
        })??
        .map(drop)
}

/// `symlink(target, path)`: `path` becomes a link whose content is `target`.
pub fn symbolic_link<P: CPath + ?Sized, Q: CPath + ?Sized>(target: &P, path: &Q) -> Result<()> {
    target
        .with_c_path(|target| {
            // SAFETY: NUL-terminated strings.
            path.with_c_path(|path| check(unsafe { ffi::symlink(target.as_ptr().cast(), path.as_ptr().cast()) }))
        })??
        .map(drop)
}

/// `readlink`: the content of a symbolic link, however long.
pub fn read_link<P: CPath + ?Sized>(path: &P) -> Result<Vec<u8>> {
    path.with_c_path(|path| {
        let mut capacity = 256;
        loop {
            let mut buffer = alloc::vec![0u8; capacity];
            // SAFETY: a NUL-terminated path, a writable buffer.
            let length = check_size(unsafe { ffi::readlink(path.as_ptr().cast(), buffer.as_mut_ptr(), capacity) })?;
            if length < capacity {
                buffer.truncate(length);
                return Ok(buffer);
            }
            capacity *= 2;
        }
    })?
}

/// `chmod`.
pub fn set_mode<P: CPath + ?Sized>(path: &P, mode: u32) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::chmod(path.as_ptr().cast(), mode) }))?.map(drop)
}

/// `chown` (follows links) or, with `follow` false, `lchown`; `u32::MAX` keeps an id.
pub fn set_owner<P: CPath + ?Sized>(path: &P, user: u32, group: u32, follow: bool) -> Result<()> {
    path.with_c_path(|path| {
        // SAFETY: a NUL-terminated path.
        check(unsafe {
            if follow {
                ffi::chown(path.as_ptr().cast(), user, group)
            } else {
                ffi::lchown(path.as_ptr().cast(), user, group)
            }
        })
    })?
    .map(drop)
}

/// `truncate(path, length)`.
pub fn truncate<P: CPath + ?Sized>(path: &P, length: u64) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::truncate(path.as_ptr().cast(), length as i64) }))?.map(drop)
}

/// `utimensat(AT_FDCWD, path, times, flags)`: access and modification times
/// (`None`: both now; a `tv_nsec` of `UTIME_NOW`/`UTIME_OMIT` as in C).
pub fn set_times<P: CPath + ?Sized>(path: &P, times: Option<[Timespec; 2]>, flags: i32) -> Result<()> {
    let pointer = times.as_ref().map_or(core::ptr::null(), |pair| pair.as_ptr());
    path.with_c_path(|path| {
        // SAFETY: a NUL-terminated path; null or two timespecs.
        check(unsafe { ffi::utimensat(crate::AT_FDCWD, path.as_ptr().cast(), pointer, flags) })
    })?
    .map(drop)
}

/// `sync`: writes every file system's cached data to its device.
pub fn sync_all() {
    // SAFETY: no arguments.
    unsafe { ffi::sync() }
}

/// `umask`: sets the mask, returns the old one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: no pointers.
    unsafe { ffi::umask(mask) }
}

/// The current umask (read by setting and restoring it).
pub fn umask() -> u32 {
    let mask = set_umask(0o022);
    set_umask(mask);
    mask
}

/// `getcwd`: the working directory, however long.
pub fn current_directory() -> Result<Vec<u8>> {
    let mut capacity = 256;
    loop {
        let mut buffer = alloc::vec![0u8; capacity];
        // SAFETY: a writable buffer of `capacity` bytes.
        if !unsafe { ffi::getcwd(buffer.as_mut_ptr(), capacity) }.is_null() {
            let length = buffer.iter().position(|&byte| byte == 0).unwrap_or(capacity);
            buffer.truncate(length);
            return Ok(buffer);
        }
        let error = Errno::last();
        if error.0 != crate::ERANGE || capacity >= 1 << 20 {
            return Err(error);
        }
        capacity *= 2;
    }
}

/// `chdir`.
pub fn change_directory<P: CPath + ?Sized>(path: &P) -> Result<()> {
    // SAFETY: a NUL-terminated path.
    path.with_c_path(|path| check(unsafe { ffi::chdir(path.as_ptr().cast()) }))?.map(drop)
}

/// `realpath`: the absolute path with every link and `.`/`..` resolved.
pub fn canonical_path<P: CPath + ?Sized>(path: &P) -> Result<Vec<u8>> {
    path.with_c_path(|path| {
        // SAFETY: a NUL-terminated path; a null buffer makes realpath allocate.
        let resolved = unsafe { ffi::realpath(path.as_ptr().cast(), core::ptr::null_mut()) };
        if resolved.is_null() {
            return Err(Errno::last());
        }
        // SAFETY: realpath returned a NUL-terminated malloc'd string, freed here.
        unsafe {
            let bytes = crate::c_string_bytes(resolved).to_vec();
            ffi::free(resolved);
            Ok(bytes)
        }
    })?
}

/// One directory entry: its name (never "." or ".." unless asked), inode
/// and the type the file system reports (`Unknown` if it does not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub name: Vec<u8>,
    pub inode: u64,
    pub file_type: FileType,
}

/// An open directory stream (`DIR *`), iterated for its entries.
pub struct Directory {
    stream: *mut ffi::Dir,
    include_dots: bool,
}

impl Directory {
    /// `opendir(path)`; "." and ".." are skipped unless `include_dots`.
    pub fn open<P: CPath + ?Sized>(path: &P, include_dots: bool) -> Result<Directory> {
        // SAFETY: a NUL-terminated path.
        let stream = path.with_c_path(|path| unsafe { ffi::opendir(path.as_ptr().cast()) })?;
        if stream.is_null() {
            return Err(Errno::last());
        }
        Ok(Directory { stream, include_dots })
    }

    /// `fdopendir`: the stream takes the descriptor over.
    pub fn from_fd(fd: Fd, include_dots: bool) -> Result<Directory> {
        // SAFETY: no pointers; on success the stream owns the descriptor.
        let stream = unsafe { ffi::fdopendir(fd.raw()) };
        if stream.is_null() {
            return Err(Errno::last());
        }
        fd.into_raw();
        Ok(Directory { stream, include_dots })
    }

    /// The stream's descriptor (for `*at` calls), still owned by the stream.
    pub fn raw_fd(&self) -> i32 {
        // SAFETY: a live stream.
        unsafe { ffi::dirfd(self.stream) }
    }

    /// The next entry, `None` at the end.
    pub fn next_entry(&mut self) -> Option<Result<DirectoryEntry>> {
        loop {
            Errno::set(0);
            // SAFETY: a live stream; the record stays valid until the next readdir.
            let record = unsafe { ffi::readdir(self.stream) };
            if record.is_null() {
                let error = Errno::last();
                return if error.0 == 0 { None } else { Some(Err(error)) };
            }
            // SAFETY: readdir returned a valid record with a NUL-terminated name.
            let (name, inode, kind) = unsafe {
                let name = crate::c_string_bytes((*record).d_name.as_ptr());
                (name, (*record).d_ino, (*record).d_type)
            };
            if !self.include_dots && (name == b"." || name == b"..") {
                continue;
            }
            return Some(Ok(DirectoryEntry {
                name: name.to_vec(),
                inode,
                file_type: FileType::from_directory_type(kind),
            }));
        }
    }
}

impl Iterator for Directory {
    type Item = Result<DirectoryEntry>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry()
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        // SAFETY: a live stream, closed once.
        unsafe { ffi::closedir(self.stream) };
    }
}

/// Every entry of directory `path` but "." and "..", in the order the file system gives.
pub fn read_directory<P: CPath + ?Sized>(path: &P) -> Result<Vec<DirectoryEntry>> {
    Directory::open(path, false)?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_split_as_linux_encodes_them() {
        assert_eq!(split_device(0x0801), (8, 1));
        assert_eq!(split_device((259u64 << 8) | 3), (259, 3));
        let big = ((0x1234u64 & 0xfff) << 8) | ((0x1234u64 & !0xfff) << 32) | 0x89 | ((0x789u64 & !0xff) << 12);
        assert_eq!(split_device(big), (0x1234, 0x789));
    }

    #[test]
    fn modes_name_their_types() {
        assert_eq!(FileType::from_mode(0o100644), FileType::Regular);
        assert_eq!(FileType::from_mode(0o040755), FileType::Directory);
        assert_eq!(FileType::from_mode(0o120777), FileType::Symlink);
        assert_eq!(FileType::from_directory_type(crate::DT_FIFO), FileType::Fifo);
        assert_eq!(FileType::from_directory_type(crate::DT_UNKNOWN), FileType::Unknown);
    }
}
