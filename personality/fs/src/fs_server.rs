//! `fs.defs`: name operations sent to a directory's port.

use libmach::abi::PortName;
use libmach::request::Answer as Reply;
use libmach::{BoundedBytes, Context, PortKernel, SendRight};
use mach_vfs::node::NodeKind;
use mach_vfs::server::records::Stat;
use mach_vfs::server::{Answer, Handle, Opened};
use mach_vfs::Errno;

use crate::io_server::time_change;
use crate::waits::open_kind;
use crate::{device, fs, fs_error, FileService, PendingReply};

fn fs_stat(stat: Stat) -> fs::Stat {
    fs::Stat {
        device: stat.device,
        node: stat.node,
        links: stat.links,
        mode: stat.mode,
        uid: stat.uid,
        gid: stat.gid,
        special_device: stat.special_device,
        file_size: stat.size,
        block_size: stat.block_size,
        blocks: stat.blocks,
        access_seconds: stat.access_seconds,
        access_nanoseconds: stat.access_nanoseconds,
        modification_seconds: stat.modification_seconds,
        modification_nanoseconds: stat.modification_nanoseconds,
        change_seconds: stat.change_seconds,
        change_nanoseconds: stat.change_nanoseconds,
    }
}

impl<K: PortKernel> FileService<K> {
    /// The handle of a directory port a client passed (`to_directory` of
    /// rename and link): one of ours, or `EXDEV` (another server's).
    fn handle_of(&self, directory: &SendRight<K>) -> Result<Handle, Errno> {
        let name: PortName = directory.name();
        if self.ports.contains_key(&name) {
            Ok(name as Handle)
        } else {
            Err(Errno::CrossDevice)
        }
    }

    fn open_file(
        &mut self,
        context: &Context<'_, K>,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<Reply<fs::OpenReply<K>>, Errno> {
        use mach_vfs::server::records::open_flags::{CREATE, TRUNCATE};
        // Only a creating or truncating open sets time stamps.
        let request = if flags & (CREATE | TRUNCATE) != 0 {
            self.check_running()?;
            self.request(context)
        } else {
            self.request_without_time(context)
        };
        let port = self.new_port()?;
        let handle = port.name() as Handle;
        match self.core.open(&request, context.port() as Handle, path, flags, mode, handle)? {
            Answer::Now(Opened::Local { kind }) => {
                let file = self.activate(port)?;
                Ok(Reply::Now(fs::OpenReply { file, kind: open_kind(kind) }))
            }
            Answer::Now(Opened::Remote { service, device, flags }) => {
                drop(port);
                let credential = request.credential;
                let opener = device::Opener {
                    pid: credential.pid,
                    process_group: 0,
                    session: 0,
                    uid: credential.effective_uid,
                    gid: credential.effective_gid,
                };
                let opener = match context.credential() {
                    Some(trailer) => device::Opener { process_group: trailer.pgid, session: trailer.sid, ..opener },
                    None => opener,
                };
                let file = self.remote.open(service, device.encoded(), flags, &opener)?;
                Ok(Reply::Now(fs::OpenReply { file, kind: open_kind(NodeKind::CharacterDevice) }))
            }
            Answer::Later(wait) => match fs::PendingOpen::keep(context) {
                Some(pending) => {
                    self.pending.insert(wait, PendingReply::Open(pending, port));
                    Ok(Reply::Later)
                }
                None => {
                    self.core.cancel(wait);
                    Err(Errno::InvalidArgument)
                }
            },
        }
    }

    fn superuser_only(&self, context: &Context<'_, K>) -> Result<(), Errno> {
        if self.request(context).credential.is_superuser() {
            Ok(())
        } else {
            Err(Errno::NotPermitted)
        }
    }
}

impl<K: PortKernel> fs::Server<K> for FileService<K> {
    fn open(
        &mut self,
        context: &Context<'_, K>,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<Reply<fs::OpenReply<K>>, fs::Error> {
        self.open_file(context, path, flags, mode).map_err(fs_error)
    }

    fn make_directory(&mut self, context: &Context<'_, K>, path: &[u8], mode: u32) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.make_directory(&request, context.port() as Handle, path, mode).map_err(fs_error)
    }

    fn make_node(&mut self, context: &Context<'_, K>, path: &[u8], mode: u32, device: u64) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.make_node(&request, context.port() as Handle, path, mode, device).map_err(fs_error)
    }

    fn symlink(&mut self, context: &Context<'_, K>, target: &[u8], path: &[u8]) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.symlink(&request, context.port() as Handle, target, path).map_err(fs_error)
    }

    fn unlink(&mut self, context: &Context<'_, K>, path: &[u8], remove_directory: bool) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.remove(&request, context.port() as Handle, path, remove_directory).map_err(fs_error)
    }

    fn rename(
        &mut self,
        context: &Context<'_, K>,
        from_path: &[u8],
        to_directory: SendRight<K>,
        to_path: &[u8],
    ) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        let to = self.handle_of(&to_directory).map_err(fs_error)?;
        self.core.rename(&request, context.port() as Handle, from_path, to, to_path).map_err(fs_error)
    }

    fn link(
        &mut self,
        context: &Context<'_, K>,
        from_path: &[u8],
        follow: bool,
        to_directory: SendRight<K>,
        to_path: &[u8],
    ) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        let to = self.handle_of(&to_directory).map_err(fs_error)?;
        self.core.link(&request, context.port() as Handle, from_path, follow, to, to_path).map_err(fs_error)
    }

    fn read_link(&mut self, context: &Context<'_, K>, path: &[u8]) -> Result<BoundedBytes<4096>, fs::Error> {
        let request = self.request_without_time(context);
        let target = self.core.read_link(&request, context.port() as Handle, path).map_err(fs_error)?;
        BoundedBytes::from_slice(&target).ok_or(fs::Error::NameTooLong)
    }

    fn stat(&mut self, context: &Context<'_, K>, path: &[u8], follow: bool) -> Result<fs::Stat, fs::Error> {
        let request = self.request_without_time(context);
        self.core.stat_path(&request, context.port() as Handle, path, follow).map(fs_stat).map_err(fs_error)
    }

    fn change_mode(&mut self, context: &Context<'_, K>, path: &[u8], mode: u32, follow: bool) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.change_mode_path(&request, context.port() as Handle, path, mode, follow).map_err(fs_error)
    }

    fn change_owner(
        &mut self,
        context: &Context<'_, K>,
        path: &[u8],
        uid: u32,
        gid: u32,
        follow: bool,
    ) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.change_owner_path(&request, context.port() as Handle, path, uid, gid, follow).map_err(fs_error)
    }

    fn change_times(
        &mut self,
        context: &Context<'_, K>,
        path: &[u8],
        access_seconds: i64,
        access_nanoseconds: i64,
        modification_seconds: i64,
        modification_nanoseconds: i64,
        follow: bool,
    ) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        let access = time_change(access_seconds, access_nanoseconds).map_err(fs_error)?;
        let modification = time_change(modification_seconds, modification_nanoseconds).map_err(fs_error)?;
        self.core
            .change_times_path(&request, context.port() as Handle, path, access, modification, follow)
            .map_err(fs_error)
    }

    fn access(
        &mut self,
        context: &Context<'_, K>,
        path: &[u8],
        mode: u32,
        effective: bool,
        follow: bool,
    ) -> Result<(), fs::Error> {
        let request = self.request_without_time(context);
        self.core.access(&request, context.port() as Handle, path, mode, effective, follow).map_err(fs_error)
    }

    fn truncate(&mut self, context: &Context<'_, K>, path: &[u8], length: u64) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core.truncate_path(&request, context.port() as Handle, path, length).map_err(fs_error)
    }

    fn statfs(&mut self, context: &Context<'_, K>, path: &[u8]) -> Result<fs::Statfs, fs::Error> {
        let request = self.request_without_time(context);
        let stat = self.core.statfs_path(&request, context.port() as Handle, path).map_err(fs_error)?;
        Ok(fs::Statfs {
            kind: stat.kind,
            block_size: stat.block_size,
            blocks: stat.blocks,
            free_blocks: stat.free_blocks,
            available_blocks: stat.available_blocks,
            files: stat.files,
            free_files: stat.free_files,
            file_system_id: stat.file_system_id,
            name_max: stat.name_max,
            flags: stat.flags,
        })
    }

    fn mount(
        &mut self,
        context: &Context<'_, K>,
        source: &[u8],
        target: &[u8],
        kind: &str,
        read_only: bool,
    ) -> Result<(), fs::Error> {
        self.check_running().map_err(fs_error)?;
        let request = self.request(context);
        self.core
            .mount(&request, context.port() as Handle, source, target, kind.as_bytes(), read_only)
            .map_err(fs_error)
    }

    fn unmount(&mut self, context: &Context<'_, K>, target: &[u8]) -> Result<(), fs::Error> {
        let request = self.request(context);
        self.core.unmount(&request, context.port() as Handle, target).map_err(fs_error)
    }

    fn sync(&mut self, _context: &Context<'_, K>) -> Result<(), fs::Error> {
        let now = self.clock.now();
        self.core.sync_all(now).map_err(fs_error)
    }

    fn pipe(&mut self, _context: &Context<'_, K>, flags: u32) -> Result<fs::PipeReply<K>, fs::Error> {
        let reader = self.new_port().map_err(fs_error)?;
        let writer = self.new_port().map_err(fs_error)?;
        self.core.pipe(reader.name() as Handle, writer.name() as Handle, flags).map_err(fs_error)?;
        let writer_name = writer.name() as Handle;
        let read_end = match self.activate(reader) {
            Ok(send) => send,
            Err(error) => {
                let _ = self.core.release(writer_name, self.clock.now());
                return Err(fs_error(error));
            }
        };
        let write_end = self.activate(writer).map_err(fs_error)?;
        Ok(fs::PipeReply { read_end, write_end })
    }

    fn open_root(&mut self, context: &Context<'_, K>, path: &[u8]) -> Result<SendRight<K>, fs::Error> {
        let request = self.request(context);
        let port = self.new_port().map_err(fs_error)?;
        self.core.open_as_root(&request, context.port() as Handle, path, port.name() as Handle).map_err(fs_error)?;
        self.activate(port).map_err(fs_error)
    }

    fn process_exited(&mut self, context: &Context<'_, K>, pid: u32) -> Result<(), fs::Error> {
        self.superuser_only(context).map_err(fs_error)?;
        self.core.process_exited(pid);
        Ok(())
    }

    fn shutdown(&mut self, context: &Context<'_, K>) -> Result<(), fs::Error> {
        self.superuser_only(context).map_err(fs_error)?;
        self.shut_down().map_err(fs_error)
    }
}
