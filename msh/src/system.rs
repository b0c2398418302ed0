//! What the shell asks of the operating system: the `System` trait.
//!
//! The interpreter, the builtins and the line editor's driver reach the
//! system only through this trait, so the whole shell runs on the host in
//! tests with a model, and as the real program over minilibc (the `msh`
//! binary implements it with the `posix` crate). Numbers follow minilibc's
//! headers, which use Linux's values on every back end: error numbers,
//! signal numbers, mode bits.

use alloc::vec::Vec;

pub type ProcessId = i32;

/// A POSIX error number (the values of minilibc's `<errno.h>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const PERMISSION: Errno = Errno(1);
    pub const NOT_FOUND: Errno = Errno(2);
    pub const NO_SUCH_PROCESS: Errno = Errno(3);
    pub const INTERRUPTED: Errno = Errno(4);
    pub const NOT_EXECUTABLE: Errno = Errno(8);
    pub const BAD_DESCRIPTOR: Errno = Errno(9);
    pub const NO_CHILD: Errno = Errno(10);
    pub const AGAIN: Errno = Errno(11);
    pub const ACCESS: Errno = Errno(13);
    pub const EXISTS: Errno = Errno(17);
    pub const NOT_DIRECTORY: Errno = Errno(20);
    pub const IS_DIRECTORY: Errno = Errno(21);
    pub const INVALID: Errno = Errno(22);
    pub const NOT_TERMINAL: Errno = Errno(25);
    pub const BROKEN_PIPE: Errno = Errno(32);
    pub const NAME_TOO_LONG: Errno = Errno(36);
}

/// What `fork` returned on this side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fork {
    Child,
    Parent(ProcessId),
}

/// How a child changed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signaled { signal: i32, core_dumped: bool },
    Stopped(i32),
    Continued,
}

impl WaitStatus {
    /// `$?` for this status: the exit status, or 128 + the signal.
    pub fn shell_status(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => code,
            WaitStatus::Signaled { signal, .. } | WaitStatus::Stopped(signal) => 128 + signal,
            WaitStatus::Continued => 0,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitOptions {
    /// Return `None` instead of blocking when no child changed state.
    pub no_hang: bool,
    /// Report stopped children too (`WUNTRACED`).
    pub stopped: bool,
}

/// How a redirection opens its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// `<`
    Read,
    /// `>` (truncates; creates with mode 0666 less the umask).
    Write,
    /// `>` under `set -C`: refuses to replace an existing regular file.
    WriteNew,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
}

/// One step a new process takes before it runs its program, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileAction {
    /// `dup2(from, to)`.
    Duplicate {
        from: i32,
        to: i32,
    },
    Close(i32),
}

/// How a spawned process starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpawnAttributes {
    /// Put the child in this process group (0: a new group it leads).
    pub process_group: Option<ProcessId>,
    /// Make the child's group the foreground group of this terminal (after
    /// `process_group` took effect).
    pub foreground_terminal: Option<i32>,
    /// Signals whose action returns to the default in the child (the shell
    /// ignores some, and ignored signals stay ignored across exec).
    pub default_signals: Vec<i32>,
    /// Signals the child ignores (a background command in a script ignores
    /// SIGINT and SIGQUIT).
    pub ignored_signals: Vec<i32>,
}

/// What a signal does in the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalAction {
    Default,
    Ignore,
    /// Noted (see `System::take_caught_signals`) and interrupts a blocking
    /// call (no restart).
    Catch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    SymbolicLink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
    Unknown,
}

/// What `test` and the path search want to know about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    /// Permission bits with set-user-id, set-group-id and sticky (07777).
    pub mode: u32,
    pub user: u32,
    pub group: u32,
    pub size: u64,
    pub device: u64,
    pub inode: u64,
    /// Modification time: seconds and nanoseconds.
    pub modified: (i64, i64),
}

/// Which permissions `access` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Exists,
    Read,
    Write,
    Execute,
}

pub type Result<T> = core::result::Result<T, Errno>;

/// A user's entry in the password database, as a login uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: Vec<u8>,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// The operating system, as the shell uses it.
pub trait System {
    /// A terminal's saved modes (termios).
    type TerminalModes: Clone;

    // ---- processes ----
    fn fork(&mut self) -> Result<Fork>;
    /// Starts `path` with `arguments` (argv) and `environment` ("NAME=value"),
    /// after the file actions and attributes (posix_spawn).
    fn spawn(
        &mut self,
        path: &[u8],
        arguments: &[Vec<u8>],
        environment: &[Vec<u8>],
        actions: &[FileAction],
        attributes: &SpawnAttributes,
    ) -> Result<ProcessId>;
    /// Replaces this process's program (execve); returns only on failure.
    fn execute(&mut self, path: &[u8], arguments: &[Vec<u8>], environment: &[Vec<u8>]) -> Errno;
    /// Ends this process at once (no buffers to flush: the shell writes directly).
    fn exit(&mut self, status: i32) -> !;
    /// waitpid. `Ok(None)` only with `no_hang`.
    fn wait(&mut self, pid: ProcessId, options: WaitOptions) -> Result<Option<(ProcessId, WaitStatus)>>;
    fn kill(&mut self, pid: ProcessId, signal: i32) -> Result<()>;
    fn process_id(&mut self) -> ProcessId;
    fn parent_process_id(&mut self) -> ProcessId;
    fn set_process_group(&mut self, pid: ProcessId, group: ProcessId) -> Result<()>;
    fn process_group(&mut self) -> ProcessId;
    fn set_signal_action(&mut self, signal: i32, action: SignalAction) -> Result<()>;
    /// Whether `signal` was ignored when the shell started (POSIX: a
    /// non-interactive shell cannot undo that).
    fn signal_ignored_at_start(&mut self, signal: i32) -> bool;
    /// The signals caught (`SignalAction::Catch`) since the last call, as a
    /// set (bit `n - 1` for signal `n`).
    fn take_caught_signals(&mut self) -> u64;

    // ---- terminals ----
    fn is_terminal(&mut self, fd: i32) -> bool;
    fn terminal_modes(&mut self, fd: i32) -> Result<Self::TerminalModes>;
    fn set_terminal_modes(&mut self, fd: i32, modes: &Self::TerminalModes) -> Result<()>;
    /// The modes the line editor works in: no echo, no line editing, no
    /// signals from keys, no output processing, a byte at a time.
    fn raw_modes(&mut self, modes: &Self::TerminalModes) -> Self::TerminalModes;
    fn terminal_process_group(&mut self, fd: i32) -> Result<ProcessId>;
    fn set_terminal_process_group(&mut self, fd: i32, group: ProcessId) -> Result<()>;
    /// setsid, then TIOCSCTTY: this process leads a new session whose
    /// controlling terminal is the one on `fd`.
    fn lead_session_on_terminal(&mut self, fd: i32) -> Result<()>;
    /// Whether `SpawnAttributes::foreground_terminal` gives the child the
    /// terminal before it runs (on Linux: the child's tcsetpgrp before
    /// exec). If not, the shell gives it after the spawn and continues a
    /// job the terminal stopped meanwhile.
    fn spawn_gives_terminal(&mut self) -> bool;
    /// Columns of the terminal's window, if it knows.
    fn terminal_columns(&mut self, fd: i32) -> Option<usize>;

    // ---- descriptors ----
    fn open(&mut self, path: &[u8], mode: OpenMode) -> Result<i32>;
    fn close(&mut self, fd: i32) -> Result<()>;
    /// dup2(from, to).
    fn duplicate(&mut self, from: i32, to: i32) -> Result<()>;
    /// A close-on-exec copy of `fd` numbered at least `minimum` (F_DUPFD_CLOEXEC).
    fn duplicate_above(&mut self, fd: i32, minimum: i32) -> Result<i32>;
    /// A pipe (read end, write end), both close-on-exec.
    fn pipe(&mut self) -> Result<(i32, i32)>;
    fn read(&mut self, fd: i32, buffer: &mut [u8]) -> Result<usize>;
    fn write(&mut self, fd: i32, bytes: &[u8]) -> Result<usize>;
    /// lseek(fd, offset, SEEK_CUR): the new offset (fails on pipes and terminals).
    fn seek_relative(&mut self, fd: i32, offset: i64) -> Result<u64>;

    // ---- files ----
    fn change_directory(&mut self, path: &[u8]) -> Result<()>;
    fn current_directory(&mut self) -> Result<Vec<u8>>;
    /// stat (`follow`) or lstat.
    fn metadata(&mut self, path: &[u8], follow: bool) -> Result<Metadata>;
    fn descriptor_metadata(&mut self, fd: i32) -> Result<Metadata>;
    fn access(&mut self, path: &[u8], access: Access) -> bool;
    /// The names in a directory (including `.` and `..`), unsorted.
    fn read_directory(&mut self, path: &[u8]) -> Result<Vec<Vec<u8>>>;
    /// Sets the file mode creation mask; returns the previous one.
    fn set_umask(&mut self, mask: u32) -> u32;
    /// The home directory of `user` (from the password database).
    fn home_directory(&mut self, user: &[u8]) -> Option<Vec<u8>>;
    /// The password database's entry for the real user id (what a login
    /// shell takes HOME, USER, LOGNAME and SHELL from).
    fn login_account(&mut self) -> Option<Account>;
    fn effective_user_id(&mut self) -> u32;
    fn effective_group_id(&mut self) -> u32;
    /// The text of an error number (strerror).
    fn error_message(&mut self, error: Errno) -> Vec<u8>;
}

/// Signal numbers (minilibc's `<signal.h>`, Linux numbering).
pub mod signal {
    pub const HANGUP: i32 = 1;
    pub const INTERRUPT: i32 = 2;
    pub const QUIT: i32 = 3;
    pub const KILL: i32 = 9;
    pub const PIPE: i32 = 13;
    pub const TERMINATE: i32 = 15;
    pub const CHILD: i32 = 17;
    pub const CONTINUE: i32 = 18;
    pub const STOP: i32 = 19;
    pub const TERMINAL_STOP: i32 = 20;
    pub const TERMINAL_INPUT: i32 = 21;
    pub const TERMINAL_OUTPUT: i32 = 22;

    /// Names without the `SIG` prefix, by number (1..=31), as `kill -l` lists them.
    pub const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    ];

    /// The number of a signal named with or without `SIG`, in any case, or by number.
    pub fn number(name: &[u8]) -> Option<i32> {
        if !name.is_empty() && name.iter().all(u8::is_ascii_digit) {
            let value = core::str::from_utf8(name).ok()?.parse::<i32>().ok()?;
            return (0..=64).contains(&value).then_some(value);
        }
        let upper: alloc::vec::Vec<u8> = name.iter().map(u8::to_ascii_uppercase).collect();
        let bare = upper.strip_prefix(b"SIG").unwrap_or(&upper);
        match bare {
            b"IOT" => return Some(6),
            b"POLL" => return Some(29),
            b"EXIT" => return Some(0),
            _ => {}
        }
        NAMES.iter().position(|candidate| candidate.as_bytes() == bare).map(|index| index as i32 + 1)
    }

    /// The name of a signal (without `SIG`), if it has one.
    pub fn name(number: i32) -> Option<&'static str> {
        usize::try_from(number - 1).ok().and_then(|index| NAMES.get(index)).copied()
    }

    /// How a job killed by this signal is described, as shells print it.
    pub fn description(number: i32) -> &'static str {
        match number {
            HANGUP => "Hangup",
            INTERRUPT => "Interrupt",
            QUIT => "Quit",
            4 => "Illegal instruction",
            5 => "Trace/breakpoint trap",
            6 => "Aborted",
            7 => "Bus error",
            8 => "Floating point exception",
            KILL => "Killed",
            10 => "User defined signal 1",
            11 => "Segmentation fault",
            12 => "User defined signal 2",
            PIPE => "Broken pipe",
            14 => "Alarm clock",
            TERMINATE => "Terminated",
            STOP | TERMINAL_STOP | TERMINAL_INPUT | TERMINAL_OUTPUT => "Stopped",
            _ => "Killed by a signal",
        }
    }
}
