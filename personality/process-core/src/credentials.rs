//! User and group ids of a process and the POSIX rules for changing them.

use crate::Errno;

/// Most supplementary groups (the kernel credential's `CREDENTIAL_GROUPS_MAX`).
pub const GROUPS_MAX: usize = 16;

/// A process's ids: real, effective and saved set-user-ID and group-ID, and
/// its supplementary groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub real_user: u32,
    pub effective_user: u32,
    pub saved_user: u32,
    pub real_group: u32,
    pub effective_group: u32,
    pub saved_group: u32,
    pub groups: heapless_groups::Groups,
}

/// Which id a change names: `-1` in C leaves it as it is.
pub type IdChange = Option<u32>;

impl Credentials {
    /// Root, as init and the servers run.
    pub fn root() -> Credentials {
        Credentials::default()
    }

    /// A user's credentials as a login would set them.
    pub fn user(user: u32, group: u32) -> Credentials {
        Credentials {
            real_user: user,
            effective_user: user,
            saved_user: user,
            real_group: group,
            effective_group: group,
            saved_group: group,
            groups: heapless_groups::Groups::default(),
        }
    }

    /// An effective user id of 0 may do anything (no finer capabilities).
    pub fn is_privileged(&self) -> bool {
        self.effective_user == 0
    }

    /// `setuid`: a privileged process sets all three; another may set its
    /// effective id to its real or saved one.
    pub fn set_user(&mut self, user: u32) -> Result<(), Errno> {
        if self.is_privileged() {
            self.real_user = user;
            self.effective_user = user;
            self.saved_user = user;
            Ok(())
        } else if user == self.real_user || user == self.saved_user {
            self.effective_user = user;
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// `seteuid`.
    pub fn set_effective_user(&mut self, user: u32) -> Result<(), Errno> {
        self.set_user_ids(None, Some(user), None)
    }

    /// `setreuid` (Linux's rule: the saved id follows the new effective id
    /// when the real id is set, or the effective id is set to something
    /// other than the old real id).
    pub fn set_real_and_effective_user(&mut self, real: IdChange, effective: IdChange) -> Result<(), Errno> {
        if !self.is_privileged() {
            let real_allowed = real.is_none_or(|id| id == self.real_user || id == self.effective_user);
            let effective_allowed =
                effective.is_none_or(|id| id == self.real_user || id == self.effective_user || id == self.saved_user);
            if !real_allowed || !effective_allowed {
                return Err(Errno::EPERM);
            }
        }
        let old_real = self.real_user;
        if let Some(id) = real {
            self.real_user = id;
        }
        if let Some(id) = effective {
            self.effective_user = id;
        }
        if real.is_some() || effective.is_some_and(|id| id != old_real) {
            self.saved_user = self.effective_user;
        }
        Ok(())
    }

    /// `setresuid`: an unprivileged process may set each to any of its
    /// current three.
    pub fn set_user_ids(&mut self, real: IdChange, effective: IdChange, saved: IdChange) -> Result<(), Errno> {
        let current = [self.real_user, self.effective_user, self.saved_user];
        if !self.is_privileged() && [real, effective, saved].iter().flatten().any(|id| !current.contains(id)) {
            return Err(Errno::EPERM);
        }
        if let Some(id) = real {
            self.real_user = id;
        }
        if let Some(id) = effective {
            self.effective_user = id;
        }
        if let Some(id) = saved {
            self.saved_user = id;
        }
        Ok(())
    }

    /// `setgid`: as `setuid`, for groups (privilege is still the user's).
    pub fn set_group(&mut self, group: u32) -> Result<(), Errno> {
        if self.is_privileged() {
            self.real_group = group;
            self.effective_group = group;
            self.saved_group = group;
            Ok(())
        } else if group == self.real_group || group == self.saved_group {
            self.effective_group = group;
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// `setregid`.
    pub fn set_real_and_effective_group(&mut self, real: IdChange, effective: IdChange) -> Result<(), Errno> {
        if !self.is_privileged() {
            let real_allowed = real.is_none_or(|id| id == self.real_group || id == self.effective_group);
            let effective_allowed = effective
                .is_none_or(|id| id == self.real_group || id == self.effective_group || id == self.saved_group);
            if !real_allowed || !effective_allowed {
                return Err(Errno::EPERM);
            }
        }
        let old_real = self.real_group;
        if let Some(id) = real {
            self.real_group = id;
        }
        if let Some(id) = effective {
            self.effective_group = id;
        }
        if real.is_some() || effective.is_some_and(|id| id != old_real) {
            self.saved_group = self.effective_group;
        }
        Ok(())
    }

    /// `setresgid`.
    pub fn set_group_ids(&mut self, real: IdChange, effective: IdChange, saved: IdChange) -> Result<(), Errno> {
        let current = [self.real_group, self.effective_group, self.saved_group];
        if !self.is_privileged() && [real, effective, saved].iter().flatten().any(|id| !current.contains(id)) {
            return Err(Errno::EPERM);
        }
        if let Some(id) = real {
            self.real_group = id;
        }
        if let Some(id) = effective {
            self.effective_group = id;
        }
        if let Some(id) = saved {
            self.saved_group = id;
        }
        Ok(())
    }

    /// `setgroups`: privileged only; at most [`GROUPS_MAX`].
    pub fn set_groups(&mut self, groups: &[u32]) -> Result<(), Errno> {
        if !self.is_privileged() {
            return Err(Errno::EPERM);
        }
        self.groups = heapless_groups::Groups::from_slice(groups).ok_or(Errno::EINVAL)?;
        Ok(())
    }

    /// Exec of a set-user-ID or set-group-ID file: the effective id becomes
    /// the file's owner (group); the saved ids take the effective ones.
    pub fn exec(&mut self, set_user: Option<u32>, set_group: Option<u32>) {
        if let Some(user) = set_user {
            self.effective_user = user;
        }
        if let Some(group) = set_group {
            self.effective_group = group;
        }
        self.saved_user = self.effective_user;
        self.saved_group = self.effective_group;
    }

    /// May a process with these credentials send a signal to one with
    /// `target`? Root may; otherwise the sender's real or effective user id
    /// must be the target's real or saved one.
    pub fn may_signal(&self, target: &Credentials) -> bool {
        self.is_privileged()
            || [self.real_user, self.effective_user]
                .iter()
                .any(|id| *id == target.real_user || *id == target.saved_user)
    }
}

/// A bounded list of group ids without allocation.
pub mod heapless_groups {
    use super::GROUPS_MAX;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Groups {
        ids: [u32; GROUPS_MAX],
        count: usize,
    }

    impl Groups {
        pub fn from_slice(ids: &[u32]) -> Option<Groups> {
            if ids.len() > GROUPS_MAX {
                return None;
            }
            let mut groups = Groups::default();
            groups.ids[..ids.len()].copy_from_slice(ids);
            groups.count = ids.len();
            Some(groups)
        }

        pub fn as_slice(&self) -> &[u32] {
            &self.ids[..self.count]
        }
    }
}
