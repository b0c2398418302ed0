//! `System` over minilibc's C API (the `posix` crate): the shell's only
//! contact with the operating system. On Mach_R each call becomes messages
//! to the personality servers inside minilibc; nothing here changes.
//!
//! Descriptors are plain numbers here (the shell keeps its own table of
//! which are open); a `posix::Fd` is only borrowed for a call.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::mem::ManuallyDrop;
use core::sync::atomic::{AtomicU64, Ordering};

use msh::system::{
    Access, Account, Errno, FileAction, FileKind, Fork, Metadata, OpenMode, ProcessId, Result, SignalAction,
    SpawnAttributes, System, WaitOptions, WaitStatus,
};
use posix::signal::{Handler, SignalSet};
use posix::spawn::Spawn;
use posix::types::Termios;

/// Signals caught since the shell last asked (bit `n - 1` for signal `n`).
static CAUGHT: AtomicU64 = AtomicU64::new(0);

extern "C" fn note_signal(signal: i32) {
    if (1..=64).contains(&signal) {
        CAUGHT.fetch_or(1 << (signal - 1), Ordering::SeqCst);
    }
}

pub struct PosixSystem {
    /// Signals that were ignored when the shell started.
    ignored_at_start: u64,
}

impl PosixSystem {
    pub fn new() -> Self {
        let mut ignored_at_start = 0;
        for signal in 1..32 {
            if posix::signal::disposition(signal).is_ok_and(|disposition| disposition.is_ignored()) {
                ignored_at_start |= 1 << (signal - 1);
            }
        }
        PosixSystem { ignored_at_start }
    }
}

/// A `posix::Fd` for a descriptor the shell owns, never closed by it.
fn borrowed(fd: i32) -> ManuallyDrop<posix::Fd> {
    ManuallyDrop::new(posix::Fd::from_raw(fd))
}

fn errno(error: posix::Errno) -> Errno {
    Errno(error.0)
}

fn convert<T>(result: posix::Result<T>) -> Result<T> {
    result.map_err(errno)
}

fn metadata_of(stat: &posix::Stat) -> Metadata {
    use posix::fs::FileType;
    let kind = match stat.file_type() {
        FileType::Regular => FileKind::Regular,
        FileType::Directory => FileKind::Directory,
        FileType::Symlink => FileKind::SymbolicLink,
        FileType::CharacterDevice => FileKind::CharacterDevice,
        FileType::BlockDevice => FileKind::BlockDevice,
        FileType::Fifo => FileKind::Fifo,
        FileType::Socket => FileKind::Socket,
        FileType::Unknown => FileKind::Unknown,
    };
    Metadata {
        kind,
        mode: stat.permissions(),
        user: stat.st_uid,
        group: stat.st_gid,
        size: stat.st_size.max(0) as u64,
        device: stat.st_dev,
        inode: stat.st_ino,
        modified: (stat.st_mtim.tv_sec, stat.st_mtim.tv_nsec),
    }
}

impl System for PosixSystem {
    type TerminalModes = Termios;

    fn fork(&mut self) -> Result<Fork> {
        match convert(posix::process::fork())? {
            posix::process::Forked::Child => {
                // The child's own catches start afresh.
                CAUGHT.store(0, Ordering::SeqCst);
                Ok(Fork::Child)
            }
            posix::process::Forked::Parent(pid) => Ok(Fork::Parent(pid)),
        }
    }

    fn spawn(
        &mut self,
        path: &[u8],
        arguments: &[Vec<u8>],
        environment: &[Vec<u8>],
        actions: &[FileAction],
        attributes: &SpawnAttributes,
    ) -> Result<ProcessId> {
        let mut spawn = convert(Spawn::new(path, arguments))?;
        spawn = convert(spawn.environment(environment))?;
        if let Some(group) = attributes.process_group {
            spawn = spawn.process_group(group);
        }
        for action in actions {
            spawn = match *action {
                FileAction::Duplicate { from, to } => spawn.duplicate(from, to),
                FileAction::Close(fd) => spawn.close(fd),
            };
        }
        if let Some(fd) = attributes.foreground_terminal {
            spawn = spawn.terminal_foreground(fd);
        }
        let mut defaults = SignalSet::EMPTY;
        for &signal in &attributes.default_signals {
            defaults = defaults.with(signal);
        }
        if defaults != SignalSet::EMPTY {
            spawn = spawn.default_signals(defaults);
        }
        // Ignored signals stay ignored across exec: ignore them here for the
        // moment of the spawn, so the child starts with them ignored.
        let mut previous = Vec::new();
        for &signal in &attributes.ignored_signals {
            if let Ok(disposition) = posix::signal::set_handler(signal, Handler::Ignore, 0, SignalSet::EMPTY) {
                previous.push((signal, disposition));
            }
        }
        let result = convert(spawn.spawn());
        for (signal, disposition) in previous {
            let _ = posix::signal::restore_disposition(signal, disposition);
        }
        result
    }

    fn execute(&mut self, path: &[u8], arguments: &[Vec<u8>], environment: &[Vec<u8>]) -> Errno {
        let arguments = match posix::process::CStringArray::new(arguments) {
            Ok(arguments) => arguments,
            Err(error) => return errno(error),
        };
        let environment = match posix::process::CStringArray::new(environment) {
            Ok(environment) => environment,
            Err(error) => return errno(error),
        };
        errno(posix::process::execute(path, &arguments, &environment))
    }

    fn exit(&mut self, status: i32) -> ! {
        posix::process::exit_immediately(status)
    }

    fn wait(&mut self, pid: ProcessId, options: WaitOptions) -> Result<Option<(ProcessId, WaitStatus)>> {
        let mut flags = 0;
        if options.no_hang {
            flags |= posix::WNOHANG;
        }
        if options.stopped {
            flags |= posix::WUNTRACED;
        }
        // Not retried on EINTR: a caught ^C or trapped signal ends the wait.
        let Some((child, status)) = convert(posix::process::wait_once(pid, flags))? else { return Ok(None) };
        let status = match status {
            posix::process::WaitStatus::Exited(code) => WaitStatus::Exited(code),
            posix::process::WaitStatus::Signaled(signal, core_dumped) => WaitStatus::Signaled { signal, core_dumped },
            posix::process::WaitStatus::Stopped(signal) => WaitStatus::Stopped(signal),
            posix::process::WaitStatus::Continued => WaitStatus::Continued,
        };
        Ok(Some((child, status)))
    }

    fn kill(&mut self, pid: ProcessId, signal: i32) -> Result<()> {
        convert(posix::process::kill(pid, signal))
    }

    fn process_id(&mut self) -> ProcessId {
        posix::process::process_id()
    }

    fn parent_process_id(&mut self) -> ProcessId {
        posix::process::parent_process_id()
    }

    fn set_process_group(&mut self, pid: ProcessId, group: ProcessId) -> Result<()> {
        convert(posix::process::set_process_group(pid, group))
    }

    fn process_group(&mut self) -> ProcessId {
        posix::process::process_group()
    }

    fn set_signal_action(&mut self, signal: i32, action: SignalAction) -> Result<()> {
        let handler = match action {
            SignalAction::Default => Handler::Default,
            SignalAction::Ignore => Handler::Ignore,
            SignalAction::Catch => Handler::Function(note_signal),
        };
        // No SA_RESTART: a caught signal interrupts the call waiting for it.
        convert(posix::signal::set_handler(signal, handler, 0, SignalSet::EMPTY)).map(drop)
    }

    fn signal_ignored_at_start(&mut self, signal: i32) -> bool {
        (1..=64).contains(&signal) && self.ignored_at_start & (1 << (signal - 1)) != 0
    }

    fn take_caught_signals(&mut self) -> u64 {
        CAUGHT.swap(0, Ordering::SeqCst)
    }

    fn is_terminal(&mut self, fd: i32) -> bool {
        posix::fd::is_terminal(fd)
    }

    fn terminal_modes(&mut self, fd: i32) -> Result<Termios> {
        convert(posix::terminal::attributes(fd))
    }

    fn set_terminal_modes(&mut self, fd: i32, modes: &Termios) -> Result<()> {
        convert(posix::terminal::set_attributes(fd, posix::TCSADRAIN, modes))
    }

    fn raw_modes(&mut self, modes: &Termios) -> Termios {
        let mut raw = *modes;
        raw.c_iflag &= !(posix::BRKINT | posix::ICRNL | posix::INPCK | posix::ISTRIP | posix::IXON);
        raw.c_oflag &= !posix::OPOST;
        raw.c_lflag &= !(posix::ECHO | posix::ICANON | posix::IEXTEN | posix::ISIG);
        raw.c_cc[posix::VMIN] = 1;
        raw.c_cc[posix::VTIME] = 0;
        raw
    }

    fn terminal_process_group(&mut self, fd: i32) -> Result<ProcessId> {
        convert(posix::terminal::foreground_group(fd))
    }

    fn set_terminal_process_group(&mut self, fd: i32, group: ProcessId) -> Result<()> {
        convert(posix::terminal::set_foreground_group(fd, group))
    }

    fn lead_session_on_terminal(&mut self, fd: i32) -> Result<()> {
        convert(posix::process::create_session())?;
        convert(posix::terminal::set_controlling(fd, false))
    }

    fn spawn_gives_terminal(&mut self) -> bool {
        // On Mach_R too: the child takes the terminal from its start-up code
        // (minilibc's AT_MACH_FOREGROUND, the shell's close-on-exec copy
        // kept for it alone) and posix_spawn returns once it did
        // (docs/process-server.md, "posix_spawn").
        true
    }

    fn terminal_columns(&mut self, fd: i32) -> Option<usize> {
        posix::terminal::window_size(fd).ok().map(|size| usize::from(size.ws_col)).filter(|&columns| columns > 0)
    }

    fn open(&mut self, path: &[u8], mode: OpenMode) -> Result<i32> {
        let flags = match mode {
            OpenMode::Read => posix::O_RDONLY,
            OpenMode::Write => posix::O_WRONLY | posix::O_CREAT | posix::O_TRUNC,
            OpenMode::WriteNew => posix::O_WRONLY | posix::O_CREAT | posix::O_EXCL,
            OpenMode::Append => posix::O_WRONLY | posix::O_CREAT | posix::O_APPEND,
            OpenMode::ReadWrite => posix::O_RDWR | posix::O_CREAT,
        };
        let fd = convert(posix::fd::open(path, flags | posix::O_NOCTTY, 0o666))?;
        Ok(fd.into_raw())
    }

    fn close(&mut self, fd: i32) -> Result<()> {
        convert(posix::Fd::from_raw(fd).close())
    }

    fn duplicate(&mut self, from: i32, to: i32) -> Result<()> {
        convert(posix::fd::duplicate_onto(from, to))
    }

    fn duplicate_above(&mut self, fd: i32, minimum: i32) -> Result<i32> {
        convert(borrowed(fd).duplicate_at_least(minimum)).map(posix::Fd::into_raw)
    }

    fn pipe(&mut self) -> Result<(i32, i32)> {
        let (read, write) = convert(posix::fd::pipe(posix::O_CLOEXEC))?;
        Ok((read.into_raw(), write.into_raw()))
    }

    fn read(&mut self, fd: i32, buffer: &mut [u8]) -> Result<usize> {
        // Not retried on EINTR: a caught ^C ends a `read` builtin.
        convert(posix::fd::read_once(fd, buffer))
    }

    fn write(&mut self, fd: i32, bytes: &[u8]) -> Result<usize> {
        convert(posix::fd::write(fd, bytes))
    }

    fn seek_relative(&mut self, fd: i32, offset: i64) -> Result<u64> {
        convert(borrowed(fd).seek(offset, posix::SEEK_CUR))
    }

    fn change_directory(&mut self, path: &[u8]) -> Result<()> {
        convert(posix::fs::change_directory(path))
    }

    fn current_directory(&mut self) -> Result<Vec<u8>> {
        convert(posix::fs::current_directory())
    }

    fn metadata(&mut self, path: &[u8], follow: bool) -> Result<Metadata> {
        let stat = if follow { posix::fs::stat(path) } else { posix::fs::lstat(path) };
        convert(stat).map(|stat| metadata_of(&stat))
    }

    fn descriptor_metadata(&mut self, fd: i32) -> Result<Metadata> {
        convert(borrowed(fd).stat()).map(|stat| metadata_of(&stat))
    }

    fn access(&mut self, path: &[u8], access: Access) -> bool {
        let mode = match access {
            Access::Exists => posix::F_OK,
            Access::Read => posix::R_OK,
            Access::Write => posix::W_OK,
            Access::Execute => posix::X_OK,
        };
        posix::fs::access(path, mode).is_ok()
    }

    fn read_directory(&mut self, path: &[u8]) -> Result<Vec<Vec<u8>>> {
        let directory = convert(posix::fs::Directory::open(path, true))?;
        let mut names = Vec::new();
        for entry in directory {
            names.push(convert(entry)?.name);
        }
        Ok(names)
    }

    fn set_umask(&mut self, mask: u32) -> u32 {
        posix::fs::set_umask(mask)
    }

    fn home_directory(&mut self, user: &[u8]) -> Option<Vec<u8>> {
        posix::accounts::user_by_name(user).map(|user| user.home)
    }

    fn login_account(&mut self) -> Option<Account> {
        posix::accounts::user_by_id(posix::process::user_id()).map(|user| Account {
            name: user.name,
            home: user.home,
            shell: user.shell,
        })
    }

    fn effective_user_id(&mut self) -> u32 {
        posix::process::effective_user_id()
    }

    fn effective_group_id(&mut self) -> u32 {
        posix::process::effective_group_id()
    }

    fn error_message(&mut self, error: Errno) -> Vec<u8> {
        posix::Errno(error.0).message().as_bytes().to_vec()
    }
}
