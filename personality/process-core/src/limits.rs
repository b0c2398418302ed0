//! Resource limits (`getrlimit`/`setrlimit`), with Linux's resource
//! numbers.

use crate::Errno;

/// `RLIM_INFINITY`.
pub const INFINITY: u64 = u64::MAX;

/// Resource numbers (minilibc's `<sys/resource.h>`).
pub mod resource {
    pub const CPU: u32 = 0;
    pub const FILE_SIZE: u32 = 1;
    pub const DATA: u32 = 2;
    pub const STACK: u32 = 3;
    pub const CORE: u32 = 4;
    pub const RESIDENT: u32 = 5;
    pub const PROCESSES: u32 = 6;
    pub const OPEN_FILES: u32 = 7;
    pub const LOCKED_MEMORY: u32 = 8;
    pub const ADDRESS_SPACE: u32 = 9;
}

/// How many resources there are (`RLIMIT_NLIMITS`).
pub const COUNT: usize = 16;

/// One limit: the soft (current) and hard (maximum) values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub current: u64,
    pub maximum: u64,
}

/// A process's limits; inherited by fork and kept across exec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    limits: [Limit; COUNT],
}

impl Default for Limits {
    /// What init starts with (Linux's defaults, with the process count
    /// bounded so a fork bomb ends long before the system does).
    fn default() -> Self {
        let unlimited = Limit { current: INFINITY, maximum: INFINITY };
        let mut limits = [unlimited; COUNT];
        limits[resource::STACK as usize] = Limit { current: 8 << 20, maximum: INFINITY };
        limits[resource::CORE as usize] = Limit { current: 0, maximum: INFINITY };
        limits[resource::OPEN_FILES as usize] = Limit { current: 1024, maximum: 65536 };
        limits[resource::PROCESSES as usize] = Limit { current: 512, maximum: 512 };
        limits[resource::LOCKED_MEMORY as usize] = Limit { current: 8 << 20, maximum: 8 << 20 };
        Limits { limits }
    }
}

impl Limits {
    pub fn get(&self, resource: u32) -> Result<Limit, Errno> {
        self.limits.get(resource as usize).copied().ok_or(Errno::EINVAL)
    }

    /// `setrlimit`: the soft limit stays at or below the hard one; only a
    /// privileged process raises a hard limit.
    pub fn set(&mut self, resource: u32, limit: Limit, privileged: bool) -> Result<(), Errno> {
        let slot = self.limits.get_mut(resource as usize).ok_or(Errno::EINVAL)?;
        if limit.current > limit.maximum {
            return Err(Errno::EINVAL);
        }
        if limit.maximum > slot.maximum && !privileged {
            return Err(Errno::EPERM);
        }
        *slot = limit;
        Ok(())
    }

    /// The soft limit of `resource` (a known resource number).
    pub fn current(&self, resource: u32) -> u64 {
        self.limits.get(resource as usize).map_or(INFINITY, |limit| limit.current)
    }
}
