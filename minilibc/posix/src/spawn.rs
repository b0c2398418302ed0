//! `Spawn`: a program started with posix_spawn, its file actions and
//! attributes gathered by a builder (one request to the process server on
//! Mach_R).

use crate::error::{Errno, Result};
use crate::ffi;
use crate::process::CStringArray;
use crate::signal::SignalSet;
use crate::types::{SpawnAttributes, SpawnFileActions};
use alloc::ffi::CString;
use alloc::vec::Vec;

/// One file action, applied in the child in the order added.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Open { fd: i32, path: CString, flags: i32, mode: u32 },
    Close(i32),
    Duplicate { from: i32, to: i32 },
    ChangeDirectory(CString),
    TerminalForeground(i32),
}

/// A program to start: `Spawn::new(program, arguments)`, then the steps,
/// then `spawn()` for the child's pid.
///
/// ```text
/// let pid = Spawn::new(b"ls", &[b"ls", b"-l"])?.search_path().process_group(0).spawn()?;
/// ```
pub struct Spawn {
    program: CString,
    arguments: CStringArray,
    environment: Option<CStringArray>,
    search: bool,
    actions: Vec<Action>,
    process_group: Option<i32>,
    signal_mask: Option<SignalSet>,
    default_signals: Option<SignalSet>,
    new_session: bool,
}

impl Spawn {
    /// `program` (a path, or a name with `search_path`) with `arguments`
    /// (argv, its first element included).
    pub fn new<A: AsRef<[u8]>>(program: &[u8], arguments: &[A]) -> Result<Spawn> {
        Ok(Spawn {
            program: CString::new(program).map_err(|_| Errno(crate::EINVAL))?,
            arguments: CStringArray::new(arguments.iter().map(AsRef::as_ref))?,
            environment: None,
            search: false,
            actions: Vec::new(),
            process_group: None,
            signal_mask: None,
            default_signals: None,
            new_session: false,
        })
    }

    /// Looks a program name without a slash up in PATH (posix_spawnp).
    pub fn search_path(mut self) -> Spawn {
        self.search = true;
        self
    }

    /// The child's environment ("NAME=value" entries) instead of the caller's.
    pub fn environment<E: AsRef<[u8]>>(mut self, entries: &[E]) -> Result<Spawn> {
        self.environment = Some(CStringArray::new(entries.iter().map(AsRef::as_ref))?);
        Ok(self)
    }

    /// Opens `path` as descriptor `fd` in the child.
    pub fn open(mut self, fd: i32, path: &[u8], flags: i32, mode: u32) -> Result<Spawn> {
        let path = CString::new(path).map_err(|_| Errno(crate::EINVAL))?;
        self.actions.push(Action::Open { fd, path, flags, mode });
        Ok(self)
    }

    /// Closes `fd` in the child.
    pub fn close(mut self, fd: i32) -> Spawn {
        self.actions.push(Action::Close(fd));
        self
    }

    /// Makes `to` a copy of `from` in the child (`from == to` keeps it across exec).
    pub fn duplicate(mut self, from: i32, to: i32) -> Spawn {
        self.actions.push(Action::Duplicate { from, to });
        self
    }

    /// Changes the child's working directory.
    pub fn change_directory(mut self, path: &[u8]) -> Result<Spawn> {
        self.actions.push(Action::ChangeDirectory(CString::new(path).map_err(|_| Errno(crate::EINVAL))?));
        Ok(self)
    }

    /// Makes the child's process group the foreground group of terminal `fd`
    /// (after `process_group` took effect: a shell's foreground job).
    pub fn terminal_foreground(mut self, fd: i32) -> Spawn {
        self.actions.push(Action::TerminalForeground(fd));
        self
    }

    /// Puts the child in process group `group` (0: a new group it leads).
    pub fn process_group(mut self, group: i32) -> Spawn {
        self.process_group = Some(group);
        self
    }

    /// The child's signal mask (else the caller's).
    pub fn signal_mask(mut self, mask: SignalSet) -> Spawn {
        self.signal_mask = Some(mask);
        self
    }

    /// Signals whose action the child resets to the default (ignored ones
    /// would otherwise stay ignored across exec).
    pub fn default_signals(mut self, signals: SignalSet) -> Spawn {
        self.default_signals = Some(signals);
        self
    }

    /// Starts the child in a new session.
    pub fn new_session(mut self) -> Spawn {
        self.new_session = true;
        self
    }

    /// Starts the program; returns its pid. An error in the child before it
    /// runs the program (a missing file, a failed open) is returned here.
    pub fn spawn(&self) -> Result<i32> {
        crate::io::flush_standard_streams();
        let mut records = Records::new();
        for action in &self.actions {
            // SAFETY: initialised records; the strings outlive the spawn call
            // (minilibc copies them anyway).
            let status = unsafe {
                match action {
                    Action::Open { fd, path, flags, mode } => ffi::posix_spawn_file_actions_addopen(
                        &mut records.actions,
                        *fd,
                        path.as_ptr().cast(),
                        *flags,
                        *mode,
                    ),
                    Action::Close(fd) => ffi::posix_spawn_file_actions_addclose(&mut records.actions, *fd),
                    Action::Duplicate { from, to } => {
                        ffi::posix_spawn_file_actions_adddup2(&mut records.actions, *from, *to)
                    }
                    Action::ChangeDirectory(path) => {
                        ffi::posix_spawn_file_actions_addchdir_np(&mut records.actions, path.as_ptr().cast())
                    }
                    Action::TerminalForeground(fd) => {
                        ffi::posix_spawn_file_actions_addtcsetpgrp_np(&mut records.actions, *fd)
                    }
                }
            };
            if status != 0 {
                return Err(Errno(status));
            }
        }
        let mut flags = 0i16;
        // SAFETY: initialised records.
        unsafe {
            if let Some(group) = self.process_group {
                flags |= crate::POSIX_SPAWN_SETPGROUP;
                ffi::posix_spawnattr_setpgroup(records.attributes_mut(), group);
            }
            if let Some(mask) = self.signal_mask {
                flags |= crate::POSIX_SPAWN_SETSIGMASK;
                ffi::posix_spawnattr_setsigmask(records.attributes_mut(), &mask.0);
            }
            if let Some(signals) = self.default_signals {
                flags |= crate::POSIX_SPAWN_SETSIGDEF;
                ffi::posix_spawnattr_setsigdefault(records.attributes_mut(), &signals.0);
            }
            if self.new_session {
                flags |= crate::POSIX_SPAWN_SETSID;
            }
            let status = ffi::posix_spawnattr_setflags(records.attributes_mut(), flags);
            if status != 0 {
                return Err(Errno(status));
            }
        }
        let environment = match &self.environment {
            Some(entries) => entries.as_ptr(),
            // SAFETY: the C library's current environment array.
            None => unsafe { ffi::environ },
        };
        let mut pid = 0;
        // SAFETY: initialised records; NUL-terminated program; NULL-terminated arrays.
        let status = unsafe {
            if self.search {
                ffi::posix_spawnp(
                    &mut pid,
                    self.program.as_ptr().cast(),
                    &records.actions,
                    records.attributes_mut(),
                    self.arguments.as_ptr(),
                    environment,
                )
            } else {
                ffi::posix_spawn(
                    &mut pid,
                    self.program.as_ptr().cast(),
                    &records.actions,
                    records.attributes_mut(),
                    self.arguments.as_ptr(),
                    environment,
                )
            }
        };
        if status != 0 {
            return Err(Errno(status));
        }
        Ok(pid)
    }
}

/// The C records for one spawn call, destroyed on drop. The attributes are
/// only touched through the C setters, so their storage is sized for the
/// largest layout among C libraries (glibc's is 336 bytes; minilibc's, in
/// `SpawnAttributes`, 152): the host tests call glibc.
struct Records {
    actions: SpawnFileActions,
    attributes: [u64; 48],
}

impl Records {
    fn new() -> Records {
        let mut records = Records {
            actions: SpawnFileActions { allocated: 0, used: 0, actions: core::ptr::null_mut(), padding: [0; 16] },
            attributes: [0; 48],
        };
        // SAFETY: writable records.
        unsafe {
            ffi::posix_spawn_file_actions_init(&mut records.actions);
            ffi::posix_spawnattr_init(records.attributes_mut());
        }
        records
    }
}

impl Records {
    fn attributes_mut(&mut self) -> *mut SpawnAttributes {
        self.attributes.as_mut_ptr().cast()
    }
}

impl Drop for Records {
    fn drop(&mut self) {
        // SAFETY: initialised records, destroyed once.
        unsafe {
            ffi::posix_spawn_file_actions_destroy(&mut self.actions);
            ffi::posix_spawnattr_destroy(self.attributes_mut());
        }
    }
}
