//! Who sent a request: the credential the kernel stamped on it (the audit
//! trailer), never anything the message body claims.

use mach_abi::TaskCredential;

/// The parts of a sender's credential the console decides with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The process id; 0 for a task that is no process (a server).
    pub pid: u32,
    /// Its process group and session.
    pub pgid: u32,
    pub sid: u32,
    /// Effective user and group ids.
    pub uid: u32,
    pub gid: u32,
}

impl Caller {
    /// A task that is not a process (pid 0): no job control applies to it.
    pub const SERVER: Caller = Caller { pid: 0, pgid: 0, sid: 0, uid: 0, gid: 0 };

    /// True for a process (the process server gave it a pid).
    pub const fn is_process(&self) -> bool {
        self.pid != 0
    }

    /// True for the leader of its session.
    pub const fn is_session_leader(&self) -> bool {
        self.pid != 0 && self.pid == self.sid
    }

    /// True for the superuser.
    pub const fn is_superuser(&self) -> bool {
        self.uid == 0
    }
}

impl From<&TaskCredential> for Caller {
    fn from(credential: &TaskCredential) -> Caller {
        Caller {
            pid: credential.pid,
            pgid: credential.pgid,
            sid: credential.sid,
            uid: credential.euid,
            gid: credential.egid,
        }
    }
}
