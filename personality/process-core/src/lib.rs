//! The process server's portable logic: a state machine with no I/O.
//!
//! - [`table::ProcessTable`]: pids, parents and children, process groups,
//!   sessions and controlling terminals; fork, exec, exit, wait; `kill` with
//!   its permission rules and every default action (terminate, core,
//!   stop, continue, ignore); job control (stop and continue reported to
//!   the parent, orphaned process groups sent SIGHUP and SIGCONT);
//!   orphans reparented to init; resource limits; the real-time timer.
//! - [`credentials::Credentials`]: real, effective and saved ids and the
//!   POSIX rules for changing them.
//! - [`signal`]: signal numbers, sets, default actions, and the per-process
//!   summary of dispositions the process server acts on.
//! - [`status`]: the wait status word.
//! - [`start_block`]: a new image's start block (argv, envp, the auxiliary
//!   vector, the descriptor table, random bytes), and the exec request's
//!   strings; [`spawn`]: the descriptor table exec keeps and posix_spawn's
//!   file actions make.
//!
//! Every operation returns the [`table::Effect`]s the server must carry out
//! (terminate a task, suspend or resume it, post a signal to a process,
//! wake waiting `wait` calls, update a kernel credential): the table never
//! blocks and knows nothing of ports, so it is tested on the host against
//! a model (`tests/`). Time is an argument (milliseconds since boot).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod credentials;
pub mod limits;
pub mod signal;
pub mod spawn;
pub mod start_block;
pub mod status;
pub mod table;

pub use credentials::Credentials;
pub use signal::{Disposition, Dispositions, Origin, Signal, SignalSet};
pub use status::WaitStatus;
pub use table::{Effect, JobControl, KillTarget, Pid, ProcessTable, Sender, WaitOptions, WaitOutcome, WaitSelector};

/// A POSIX error number (Linux's numbering, as minilibc's `<errno.h>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ESRCH: Errno = Errno(3);
    pub const EINTR: Errno = Errno(4);
    pub const ECHILD: Errno = Errno(10);
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EINVAL: Errno = Errno(22);
    pub const ENOTTY: Errno = Errno(25);
    pub const E2BIG: Errno = Errno(7);
    pub const ENOEXEC: Errno = Errno(8);
    pub const EBADF: Errno = Errno(9);
    pub const EFAULT: Errno = Errno(14);
    pub const EIO: Errno = Errno(5);
}
