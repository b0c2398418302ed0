//! Name operations sent to a directory's open file (mkdir, mknod,
//! symlink, unlink, rmdir, rename, link, readlink, stat, chmod, chown,
//! utimens, access, truncate, statfs by path), mounts, shutdown and the
//! cache's memory.

#[allow(unused_imports)]
use super::*;

impl FileServer {
    /// `mkdir`.
    pub fn make_directory(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        mode: u32,
    ) -> Result<(), Errno> {
        let start = self.start_of(directory)?;
        self.vfs.make(&start, path, NewNode::Directory, mode, &request.caller()).map(|_| ())
    }

    /// `mknod` (regular files, FIFOs, sockets; devices for the superuser).
    pub fn make_node(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        mode: u32,
        device: u64,
    ) -> Result<(), Errno> {
        let start = self.start_of(directory)?;
        let number = DeviceNumber::decode(device);
        let node = match NodeKind::from_mode(mode) {
            Some(NodeKind::RegularFile) => NewNode::RegularFile,
            Some(NodeKind::Fifo) => NewNode::Fifo,
            Some(NodeKind::Socket) => NewNode::Socket,
            Some(NodeKind::CharacterDevice) => NewNode::CharacterDevice(number),
            Some(NodeKind::BlockDevice) => NewNode::BlockDevice(number),
            None if mode & 0o170000 == 0 => NewNode::RegularFile,
            Some(NodeKind::Directory) | Some(NodeKind::Symlink) | None => return Err(Errno::InvalidArgument),
        };
        self.vfs.make(&start, path, node, mode & 0o7777, &request.caller()).map(|_| ())
    }

    /// `symlink(target, path)`.
    pub fn symlink(&mut self, request: &Request, directory: Handle, target: &[u8], path: &[u8]) -> Result<(), Errno> {
        let start = self.start_of(directory)?;
        if target.is_empty() {
            return Err(Errno::NoSuchEntry);
        }
        if target.len() >= crate::vfs::PATH_MAX || target.contains(&0) {
            return Err(Errno::NameTooLong);
        }
        self.vfs.make(&start, path, NewNode::Symlink(target), 0o777, &request.caller()).map(|_| ())
    }

    /// `unlink` (`remove_directory` false) or `rmdir` (true).
    pub fn remove(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        remove_directory: bool,
    ) -> Result<(), Errno> {
        let start = self.start_of(directory)?;
        if remove_directory {
            self.vfs.remove_directory(&start, path, &request.caller())
        } else {
            self.vfs.unlink(&start, path, &request.caller())
        }
    }

    /// `renameat(from_directory, from_path, to_directory, to_path)`.
    pub fn rename(
        &mut self,
        request: &Request,
        from_directory: Handle,
        from_path: &[u8],
        to_directory: Handle,
        to_path: &[u8],
    ) -> Result<(), Errno> {
        let from = self.start_of(from_directory)?;
        let to = self.start_of(to_directory)?;
        check_path(from_path)?;
        check_path(to_path)?;
        self.vfs.rename(&from, from_path, &to, to_path, &request.caller())
    }

    /// `linkat`.
    pub fn link(
        &mut self,
        request: &Request,
        from_directory: Handle,
        from_path: &[u8],
        follow: bool,
        to_directory: Handle,
        to_path: &[u8],
    ) -> Result<(), Errno> {
        let from = self.start_of(from_directory)?;
        let to = self.start_of(to_directory)?;
        check_path(to_path)?;
        let follow = if follow { Follow::Follow } else { Follow::NoFollow };
        self.vfs.link(&from, from_path, follow, &to, to_path, &request.caller())
    }

    /// `readlink`.
    pub fn read_link(&mut self, request: &Request, directory: Handle, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let start = self.start_of(directory)?;
        self.vfs.read_link(&start, path, &request.credential)
    }

    pub(super) fn resolve(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        follow: bool,
    ) -> Result<NodeRef, Errno> {
        let start = self.start_of(directory)?;
        let follow = if follow { Follow::Follow } else { Follow::NoFollow };
        self.vfs.resolve(&start, path, follow, &request.credential)
    }

    /// `stat` (`follow`) / `lstat`.
    pub fn stat_path(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        follow: bool,
    ) -> Result<Stat, Errno> {
        let node = self.resolve(request, directory, path, follow)?;
        Ok(Stat::from_attributes(&self.vfs.attributes(node)?))
    }

    /// `fchmodat`.
    pub fn change_mode_path(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        mode: u32,
        follow: bool,
    ) -> Result<(), Errno> {
        let node = self.resolve(request, directory, path, follow)?;
        if !follow && self.vfs.attributes(node)?.kind == NodeKind::Symlink {
            // Linux: links have no mode of their own to change.
            return Err(Errno::NotSupported);
        }
        self.vfs.change_mode(node, mode, &request.caller())
    }

    /// `fchownat` (`u32::MAX`: keep).
    pub fn change_owner_path(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        uid: u32,
        gid: u32,
        follow: bool,
    ) -> Result<(), Errno> {
        let node = self.resolve(request, directory, path, follow)?;
        self.vfs.change_owner(node, keep_id(uid), keep_id(gid), &request.caller())
    }

    /// `utimensat`.
    pub fn change_times_path(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        access: TimeChange,
        modification: TimeChange,
        follow: bool,
    ) -> Result<(), Errno> {
        let node = self.resolve(request, directory, path, follow)?;
        self.vfs.change_times(node, access, modification, &request.caller())
    }

    /// `faccessat` (`effective`: `AT_EACCESS`).
    pub fn access(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        mode: u32,
        effective: bool,
        follow: bool,
    ) -> Result<(), Errno> {
        if mode & !7 != 0 {
            return Err(Errno::InvalidArgument);
        }
        let credential = if effective { request.credential } else { request.credential.with_real_ids() };
        let start = self.start_of(directory)?;
        let follow = if follow { Follow::Follow } else { Follow::NoFollow };
        let node = self.vfs.resolve(&start, path, follow, &credential)?;
        self.vfs.check_access_by(node, Access::from_bits(mode), &request.credential, effective)
    }

    /// `truncate` by path.
    pub fn truncate_path(&mut self, request: &Request, directory: Handle, path: &[u8], size: u64) -> Result<(), Errno> {
        if size > i64::MAX as u64 {
            return Err(Errno::InvalidArgument);
        }
        let node = self.resolve(request, directory, path, true)?;
        self.before_file_access(node, request.time)?;
        self.file_changing(node);
        let truncated = self
            .vfs
            .truncate(node, size, &request.caller())
            .and_then(|()| self.after_file_change(node, size, u64::MAX));
        self.file_changed(node);
        truncated?;
        self.clear_set_id_bits(node, request)
    }

    /// `statfs` by path.
    pub fn statfs_path(&mut self, request: &Request, directory: Handle, path: &[u8]) -> Result<FileSystemStat, Errno> {
        let node = self.resolve(request, directory, path, true)?;
        self.statfs_of(node)
    }

    /// `chroot`-style: opens `path` (a searchable directory) as a
    /// directory whose root is itself, under `new_handle`. Superuser only.
    pub fn open_as_root(
        &mut self,
        request: &Request,
        directory: Handle,
        path: &[u8],
        new_handle: Handle,
    ) -> Result<(), Errno> {
        if !request.credential.is_superuser() {
            return Err(Errno::NotPermitted);
        }
        let node = self.resolve(request, directory, path, true)?;
        let attributes = self.vfs.attributes(node)?;
        if attributes.kind != NodeKind::Directory {
            return Err(Errno::NotADirectory);
        }
        check_access(&attributes, &request.credential, Access::EXECUTE)?;
        self.vfs.filesystem(node)?.open_node(node.node)?;
        let file = OpenFile {
            object: Object::Directory(node),
            readable: true,
            writable: false,
            path_only: false,
            status: 0,
            offset: 0,
            root: node,
            origin: None,
        };
        self.install(new_handle, file)
    }

    /// `mount(source, target, kind, flags)`: `ext2` from a disk's block
    /// device node, or a `tmpfs`. Superuser only.
    pub fn mount(
        &mut self,
        request: &Request,
        directory: Handle,
        source: &[u8],
        target: &[u8],
        kind: &[u8],
        read_only: bool,
    ) -> Result<(), Errno> {
        if !request.credential.is_superuser() {
            return Err(Errno::NotPermitted);
        }
        let start = self.start_of(directory)?;
        let flags = MountFlags { read_only };
        match kind {
            b"ext2" => {
                let device_node = self.vfs.resolve(&start, source, Follow::Follow, &request.credential)?;
                let attributes = self.vfs.attributes(device_node)?;
                if attributes.kind != NodeKind::BlockDevice {
                    return Err(Errno::NotABlockDevice);
                }
                let Some(DeviceKind::Local(LocalDevice::Disk(index))) = self.devices.lookup(attributes.special) else {
                    return Err(Errno::NoSuchDeviceOrAddress);
                };
                if self.mounted_disks.contains_key(&index) || self.disk_open_for_writing(index) {
                    return Err(Errno::Busy);
                }
                let mut device = BoxedDevice(self.disks.open(index)?);
                let options = ext2::MountOptions {
                    read_only,
                    cache_blocks: cache_blocks(&mut device, self.options.cache_bytes),
                    time: request.time.ext2_seconds(),
                    ..Default::default()
                };
                let filesystem = Ext2FileSystem::mount(device, options)?;
                let mount =
                    NewMount { filesystem: Box::new(filesystem), flags, device: attributes.special.encoded(), source };
                let id = self.vfs.mount(&start, target, mount, &request.credential)?;
                self.mounted_disks.insert(index, id);
                self.refresh_mount_list();
                Ok(())
            }
            b"tmpfs" => {
                let filesystem = MemoryFileSystem::new(
                    self.options.temporary_capacity,
                    65_536,
                    &Creation { permissions: 0o1777, uid: 0, gid: 0, time: request.time },
                );
                let device = TEMPORARY_DEVICE + 0x100 + self.vfs.list_mounts().len() as u64;
                let mount = NewMount { filesystem: Box::new(filesystem), flags, device, source };
                self.vfs.mount(&start, target, mount, &request.credential)?;
                self.refresh_mount_list();
                Ok(())
            }
            _ => Err(Errno::NoSuchDevice),
        }
    }

    pub(super) fn disk_open_for_writing(&self, index: u32) -> bool {
        self.files.values().any(|file| {
            file.writable
                && matches!(file.object, Object::Device { device: LocalDevice::Disk(open), .. } if open == index)
        })
    }

    /// `umount(target)`: `EBUSY` while anything is open on the mount
    /// (files, directories: a process's working directory is one) or
    /// another mount sits on it. Superuser only.
    pub fn unmount(&mut self, request: &Request, directory: Handle, target: &[u8]) -> Result<(), Errno> {
        let start = self.start_of(directory)?;
        let id = self.vfs.mount_at(&start, target, &request.credential)?;
        let in_use = self
            .files
            .values()
            .any(|file| file.object.node().is_some_and(|node| node.mount == id) || file.root.mount == id);
        if in_use || self.fifos.keys().any(|node| node.mount == id) {
            return Err(Errno::Busy);
        }
        // Objects of files nobody has open any more go with the mount.
        let mapped: Vec<NodeRef> = self.mappings.by_node.keys().filter(|node| node.mount == id).copied().collect();
        for node in mapped {
            self.drop_mapping(node, request.time);
        }
        self.vfs.unmount(id)?;
        self.mounted_disks.retain(|_, mount| *mount != id);
        self.refresh_mount_list();
        Ok(())
    }

    /// Shuts every file system down cleanly (the shutdown routine): syncs,
    /// unmounts every mount but the root, syncs the root. Open files are
    /// left; the server is not expected to serve afterwards.
    pub fn shutdown(&mut self, time: Timestamp) -> Result<(), Errno> {
        let mut result = self.sync_all(time);
        let mapped: Vec<NodeRef> = self.mappings.by_node.keys().copied().collect();
        for node in mapped {
            self.drop_mapping(node, time);
        }
        let mut mounts = self.vfs.list_mounts();
        // Children before parents: unmount in reverse order of creation.
        mounts.reverse();
        for info in mounts {
            if info.covered.is_none() {
                continue;
            }
            if let Err(error) = self.vfs.mounts_mut().unmount(info.id) {
                result = result.and(Err(error));
            }
        }
        let root_mount = self.vfs.mounts().root().mount;
        if let Ok(filesystem) = self.vfs.mounts_mut().filesystem(root_mount) {
            if let Err(error) = filesystem.unmount() {
                result = result.and(Err(error));
            }
        }
        result
    }

    /// Gives cache memory back (memory pressure, or the periodic flush
    /// finding the server above its budget); returns the bytes freed.
    pub fn shrink_caches(&mut self) -> usize {
        let mut freed = 0;
        for id in self.vfs.mounts().ids() {
            if let Ok(filesystem) = self.vfs.mounts_mut().filesystem(id) {
                freed += filesystem.shrink_cache().unwrap_or(0);
            }
        }
        freed
    }

    /// Bytes of cached disk data over every mount.
    pub fn cached_bytes(&mut self) -> usize {
        let mut total = 0;
        for id in self.vfs.mounts().ids() {
            if let Ok(filesystem) = self.vfs.mounts_mut().filesystem(id) {
                total += filesystem.cached_bytes();
            }
        }
        total
    }
}
