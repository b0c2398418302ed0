//! Who is asking, and what the mode bits let them do.
//!
//! The transport fills a [`Credential`] from the kernel's audit trailer of
//! each request (never from the message body), so every check here is
//! against the identity the kernel vouches for.

use crate::errno::Errno;
use crate::node::{Attributes, NodeKind};

/// Most supplementary groups a credential carries (the kernel's bound).
pub const GROUPS_MAX: usize = 16;

/// The identity of a request's sender.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credential {
    /// The POSIX process id (0: not a process, e.g. another server).
    pub pid: u32,
    pub real_uid: u32,
    pub effective_uid: u32,
    pub real_gid: u32,
    pub effective_gid: u32,
    group_count: usize,
    groups: [u32; GROUPS_MAX],
}

impl Credential {
    /// A credential with these ids; groups past [`GROUPS_MAX`] are dropped
    /// (the kernel never sends more).
    pub fn new(pid: u32, uid: u32, gid: u32, groups: &[u32]) -> Self {
        let mut credential = Credential {
            pid,
            real_uid: uid,
            effective_uid: uid,
            real_gid: gid,
            effective_gid: gid,
            group_count: 0,
            groups: [0; GROUPS_MAX],
        };
        credential.set_groups(groups);
        credential
    }

    /// The superuser, as the servers themselves act.
    pub fn root() -> Self {
        Credential::new(0, 0, 0, &[])
    }

    /// Replaces the supplementary groups (at most [`GROUPS_MAX`] kept).
    pub fn set_groups(&mut self, groups: &[u32]) {
        let count = groups.len().min(GROUPS_MAX);
        self.groups[..count].copy_from_slice(&groups[..count]);
        self.group_count = count;
    }

    pub fn groups(&self) -> &[u32] {
        &self.groups[..self.group_count]
    }

    pub fn is_superuser(&self) -> bool {
        self.effective_uid == 0
    }

    /// True when `gid` is the effective group or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.effective_gid == gid || self.groups().contains(&gid)
    }

    /// The same person with the real ids in the effective places: what
    /// `access()` checks against (POSIX).
    pub fn with_real_ids(&self) -> Self {
        Credential { effective_uid: self.real_uid, effective_gid: self.real_gid, ..*self }
    }
}

/// What a caller wants to do with a node (`R_OK`, `W_OK`, `X_OK` bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl Access {
    pub const READ: Access = Access { read: true, write: false, execute: false };
    pub const WRITE: Access = Access { read: false, write: true, execute: false };
    /// Execute a file, or search a directory.
    pub const EXECUTE: Access = Access { read: false, write: false, execute: true };
    pub const READ_WRITE: Access = Access { read: true, write: true, execute: false };
    /// What changing a directory's entries needs.
    pub const WRITE_SEARCH: Access = Access { read: false, write: true, execute: true };

    /// From `access()`'s mode (`R_OK` 4, `W_OK` 2, `X_OK` 1).
    pub fn from_bits(bits: u32) -> Self {
        Access { read: bits & 4 != 0, write: bits & 2 != 0, execute: bits & 1 != 0 }
    }

    fn bits(self) -> u32 {
        (self.read as u32) << 2 | (self.write as u32) << 1 | self.execute as u32
    }
}

/// Checks `wanted` against the node's mode bits for `credential`: the
/// owner's bits if the caller owns it, else the group's if the caller is
/// in its group, else the others' (POSIX: only one class applies). The
/// superuser may read and write anything, and execute anything that some
/// class may execute (or search any directory).
pub fn check_access(attributes: &Attributes, credential: &Credential, wanted: Access) -> Result<(), Errno> {
    let mode = attributes.permissions;
    if credential.is_superuser() {
        let executable = attributes.kind == NodeKind::Directory || mode & 0o111 != 0;
        return if wanted.execute && !executable { Err(Errno::AccessDenied) } else { Ok(()) };
    }
    let class_bits = if credential.effective_uid == attributes.uid {
        (mode >> 6) & 7
    } else if credential.in_group(attributes.gid) {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    let wanted = wanted.bits();
    if class_bits & wanted == wanted {
        Ok(())
    } else {
        Err(Errno::AccessDenied)
    }
}

/// The owner or the superuser: who may chmod, utimes to a chosen time, and
/// so on (`EPERM` for anyone else).
pub fn check_owner(attributes: &Attributes, credential: &Credential) -> Result<(), Errno> {
    if credential.is_superuser() || credential.effective_uid == attributes.uid {
        Ok(())
    } else {
        Err(Errno::NotPermitted)
    }
}

/// The sticky-bit rule for removing or renaming `victim` out of `directory`:
/// in a sticky directory only the file's owner, the directory's owner or
/// the superuser may (`EPERM` otherwise).
pub fn check_sticky(directory: &Attributes, victim: &Attributes, credential: &Credential) -> Result<(), Errno> {
    if directory.permissions & 0o1000 == 0
        || credential.is_superuser()
        || credential.effective_uid == victim.uid
        || credential.effective_uid == directory.uid
    {
        Ok(())
    } else {
        Err(Errno::NotPermitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{DeviceNumber, Timestamp};

    fn node(kind: NodeKind, permissions: u32, uid: u32, gid: u32) -> Attributes {
        Attributes {
            node: 1,
            kind,
            permissions,
            links: 1,
            uid,
            gid,
            size: 0,
            blocks: 0,
            block_size: 4096,
            special: DeviceNumber::default(),
            device: 0,
            access_time: Timestamp::default(),
            modification_time: Timestamp::default(),
            change_time: Timestamp::default(),
        }
    }

    #[test]
    fn only_one_class_of_bits_applies() {
        // Owner has no read bit though others do: the owner is refused.
        let file = node(NodeKind::RegularFile, 0o044, 100, 200);
        let owner = Credential::new(1, 100, 999, &[]);
        assert_eq!(check_access(&file, &owner, Access::READ), Err(Errno::AccessDenied));
        let group_member = Credential::new(1, 101, 999, &[200]);
        assert_eq!(check_access(&file, &group_member, Access::READ), Ok(()));
        let other = Credential::new(1, 102, 999, &[]);
        assert_eq!(check_access(&file, &other, Access::READ), Ok(()));
        assert_eq!(check_access(&file, &other, Access::WRITE), Err(Errno::AccessDenied));
    }

    #[test]
    fn the_superuser_reads_and_writes_anything_but_executes_only_executables() {
        let root = Credential::root();
        let file = node(NodeKind::RegularFile, 0o000, 100, 100);
        assert_eq!(check_access(&file, &root, Access::READ_WRITE), Ok(()));
        assert_eq!(check_access(&file, &root, Access::EXECUTE), Err(Errno::AccessDenied));
        let script = node(NodeKind::RegularFile, 0o001, 100, 100);
        assert_eq!(check_access(&script, &root, Access::EXECUTE), Ok(()));
        let directory = node(NodeKind::Directory, 0o000, 100, 100);
        assert_eq!(check_access(&directory, &root, Access::EXECUTE), Ok(()));
    }

    #[test]
    fn sticky_directories_protect_other_peoples_files() {
        let tmp = node(NodeKind::Directory, 0o1777, 0, 0);
        let file = node(NodeKind::RegularFile, 0o666, 100, 100);
        assert_eq!(check_sticky(&tmp, &file, &Credential::new(1, 101, 101, &[])), Err(Errno::NotPermitted));
        assert_eq!(check_sticky(&tmp, &file, &Credential::new(1, 100, 101, &[])), Ok(()));
        assert_eq!(check_sticky(&tmp, &file, &Credential::root()), Ok(()));
    }

    #[test]
    fn access_uses_the_real_ids() {
        let mut setuid = Credential::new(1, 100, 100, &[]);
        setuid.effective_uid = 0;
        assert!(setuid.is_superuser());
        assert!(!setuid.with_real_ids().is_superuser());
    }
}
