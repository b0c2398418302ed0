//! The records of minilibc's headers, field for field (`#[repr(C)]`, the
//! x86_64 LP64 layouts). `tests::layouts_match_the_c_headers` compiles
//! `_Static_assert`s generated from these definitions against
//! `minilibc/include`, so a drift on either side fails the host tests.

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// `struct timeval`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

/// `struct stat` (the Linux x86_64 kernel layout, which minilibc keeps).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub padding: i32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atim: Timespec,
    pub st_mtim: Timespec,
    pub st_ctim: Timespec,
    pub reserved: [i64; 3],
}

/// `struct dirent` (Linux's `linux_dirent64`).
#[repr(C)]
pub struct Dirent {
    pub d_ino: u64,
    pub d_off: i64,
    pub d_reclen: u16,
    pub d_type: u8,
    pub d_name: [u8; 256],
}

/// `NCCS`: the number of control characters in `struct termios`.
pub const NCCS: usize = 32;

/// `struct termios`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; NCCS],
    pub c_ispeed: u32,
    pub c_ospeed: u32,
}

/// `struct winsize`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

/// `struct sigaction`: the handler (or `sa_sigaction`), the mask, the flags
/// and the restorer minilibc fills itself.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigaction {
    pub sa_handler: usize,
    pub sa_mask: u64,
    pub sa_flags: i32,
    pub sa_restorer: usize,
}

/// `siginfo_t` (the kernel's 128-byte record); the common fields are named,
/// the union is kept as words.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Siginfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    pub padding: i32,
    pub fields: [i32; 28],
}

/// `struct utsname`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

/// `struct tm`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub tm_sec: i32,
    pub tm_min: i32,
    pub tm_hour: i32,
    pub tm_mday: i32,
    pub tm_mon: i32,
    pub tm_year: i32,
    pub tm_wday: i32,
    pub tm_yday: i32,
    pub tm_isdst: i32,
    pub tm_gmtoff: i64,
    pub tm_zone: *const u8,
}

impl Default for Tm {
    fn default() -> Self {
        Tm {
            tm_sec: 0,
            tm_min: 0,
            tm_hour: 0,
            tm_mday: 0,
            tm_mon: 0,
            tm_year: 0,
            tm_wday: 0,
            tm_yday: 0,
            tm_isdst: 0,
            tm_gmtoff: 0,
            tm_zone: core::ptr::null(),
        }
    }
}

/// `struct passwd`.
#[repr(C)]
pub struct Passwd {
    pub pw_name: *mut u8,
    pub pw_passwd: *mut u8,
    pub pw_uid: u32,
    pub pw_gid: u32,
    pub pw_gecos: *mut u8,
    pub pw_dir: *mut u8,
    pub pw_shell: *mut u8,
}

/// `struct group`.
#[repr(C)]
pub struct Group {
    pub gr_name: *mut u8,
    pub gr_passwd: *mut u8,
    pub gr_gid: u32,
    pub gr_mem: *mut *mut u8,
}

/// `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pollfd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

/// `struct rlimit`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    pub rlim_cur: u64,
    pub rlim_max: u64,
}

/// `posix_spawn_file_actions_t` (its contents are minilibc's business).
#[repr(C)]
pub struct SpawnFileActions {
    pub allocated: i32,
    pub used: i32,
    pub actions: *mut u8,
    pub padding: [i32; 16],
}

/// `posix_spawnattr_t`.
#[repr(C)]
pub struct SpawnAttributes {
    pub flags: i16,
    pub process_group: i32,
    pub default_signals: u64,
    pub signal_mask: u64,
    pub padding: [i32; 32],
}

/// `struct statfs` (`<sys/statfs.h>`, Linux's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statfs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}

/// `struct statvfs`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statvfs {
    pub f_bsize: u64,
    pub f_frsize: u64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_favail: u64,
    pub f_fsid: u64,
    pub f_flag: u64,
    pub f_namemax: u64,
    pub spare: [i32; 6],
}

/// `struct mntent`.
#[repr(C)]
pub struct Mntent {
    pub mnt_fsname: *mut u8,
    pub mnt_dir: *mut u8,
    pub mnt_type: *mut u8,
    pub mnt_opts: *mut u8,
    pub mnt_freq: i32,
    pub mnt_passno: i32,
}

/// `struct procinfo` (`<sys/procinfo.h>`, minilibc's process listing).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Procinfo {
    pub pi_pid: i32,
    pub pi_ppid: i32,
    pub pi_pgid: i32,
    pub pi_sid: i32,
    pub pi_uid: u32,
    pub pi_gid: u32,
    pub pi_tty: u64,
    pub pi_state: u8,
    pub padding: [u8; 3],
    pub pi_nice: i32,
    pub pi_threads: i32,
    pub padding2: i32,
    pub pi_size: u64,
    pub pi_resident: u64,
    pub pi_cpu_us: u64,
    pub pi_start: i64,
    pub pi_comm: [u8; 32],
    pub pi_args: [u8; 256],
}

impl Procinfo {
    pub const EMPTY: Procinfo = Procinfo {
        pi_pid: 0,
        pi_ppid: 0,
        pi_pgid: 0,
        pi_sid: 0,
        pi_uid: 0,
        pi_gid: 0,
        pi_tty: 0,
        pi_state: 0,
        padding: [0; 3],
        pi_nice: 0,
        pi_threads: 0,
        padding2: 0,
        pi_size: 0,
        pi_resident: 0,
        pi_cpu_us: 0,
        pi_start: 0,
        pi_comm: [0; 32],
        pi_args: [0; 256],
    };
}

#[cfg(test)]
pub(crate) use layout::layout_checks;

#[cfg(test)]
mod layout {
    use super::*;
    use core::mem::{offset_of, size_of};
    use std::fmt::Write;
    use std::string::String;

    /// `_Static_assert`s on the size of `$c` and the offset of each listed field.
    macro_rules! checks {
        ($out:expr, $rust:ty, $c:expr, [$($field:ident => $c_field:expr),* $(,)?]) => {{
            writeln!($out, "_Static_assert(sizeof({}) == {}, \"size of {}\");", $c, size_of::<$rust>(), $c).unwrap();
            $(
                writeln!($out, "_Static_assert(offsetof({}, {}) == {}, \"{}.{}\");",
                    $c, $c_field, offset_of!($rust, $field), $c, $c_field).unwrap();
            )*
        }};
    }

    /// The C checks of every record above.
    pub(crate) fn layout_checks() -> String {
        let mut out = String::new();
        checks!(out, Timespec, "struct timespec", [tv_sec => "tv_sec", tv_nsec => "tv_nsec"]);
        checks!(out, Timeval, "struct timeval", [tv_sec => "tv_sec", tv_usec => "tv_usec"]);
        checks!(out, Stat, "struct stat", [
            st_dev => "st_dev", st_ino => "st_ino", st_nlink => "st_nlink", st_mode => "st_mode",
            st_uid => "st_uid", st_gid => "st_gid", st_rdev => "st_rdev", st_size => "st_size",
            st_blksize => "st_blksize", st_blocks => "st_blocks", st_atim => "st_atim",
            st_mtim => "st_mtim", st_ctim => "st_ctim",
        ]);
        checks!(out, Dirent, "struct dirent", [
            d_ino => "d_ino", d_off => "d_off", d_reclen => "d_reclen", d_type => "d_type", d_name => "d_name",
        ]);
        checks!(out, Termios, "struct termios", [
            c_iflag => "c_iflag", c_oflag => "c_oflag", c_cflag => "c_cflag", c_lflag => "c_lflag",
            c_line => "c_line", c_cc => "c_cc", c_ispeed => "c_ispeed", c_ospeed => "c_ospeed",
        ]);
        writeln!(out, "_Static_assert(NCCS == {NCCS}, \"NCCS\");").unwrap();
        checks!(out, Winsize, "struct winsize", [
            ws_row => "ws_row", ws_col => "ws_col", ws_xpixel => "ws_xpixel", ws_ypixel => "ws_ypixel",
        ]);
        checks!(out, Sigaction, "struct sigaction", [
            sa_handler => "sa_handler", sa_mask => "sa_mask", sa_flags => "sa_flags", sa_restorer => "sa_restorer",
        ]);
        checks!(out, Siginfo, "siginfo_t", [si_signo => "si_signo", si_errno => "si_errno", si_code => "si_code"]);
        checks!(out, Utsname, "struct utsname", [
            sysname => "sysname", nodename => "nodename", release => "release", version => "version",
            machine => "machine", domainname => "domainname",
        ]);
        checks!(out, Tm, "struct tm", [
            tm_sec => "tm_sec", tm_min => "tm_min", tm_hour => "tm_hour", tm_mday => "tm_mday",
            tm_mon => "tm_mon", tm_year => "tm_year", tm_wday => "tm_wday", tm_yday => "tm_yday",
            tm_isdst => "tm_isdst", tm_gmtoff => "tm_gmtoff", tm_zone => "tm_zone",
        ]);
        checks!(out, Passwd, "struct passwd", [
            pw_name => "pw_name", pw_passwd => "pw_passwd", pw_uid => "pw_uid", pw_gid => "pw_gid",
            pw_gecos => "pw_gecos", pw_dir => "pw_dir", pw_shell => "pw_shell",
        ]);
        checks!(out, Group, "struct group", [
            gr_name => "gr_name", gr_passwd => "gr_passwd", gr_gid => "gr_gid", gr_mem => "gr_mem",
        ]);
        checks!(out, Pollfd, "struct pollfd", [fd => "fd", events => "events", revents => "revents"]);
        checks!(out, Rlimit, "struct rlimit", [rlim_cur => "rlim_cur", rlim_max => "rlim_max"]);
        checks!(out, SpawnFileActions, "posix_spawn_file_actions_t", [
            allocated => "__allocated", used => "__used", actions => "__actions",
        ]);
        checks!(out, Statfs, "struct statfs", [
            f_type => "f_type", f_bsize => "f_bsize", f_blocks => "f_blocks", f_bfree => "f_bfree",
            f_bavail => "f_bavail", f_files => "f_files", f_ffree => "f_ffree", f_fsid => "f_fsid",
            f_namelen => "f_namelen", f_frsize => "f_frsize", f_flags => "f_flags",
        ]);
        checks!(out, Statvfs, "struct statvfs", [
            f_bsize => "f_bsize", f_frsize => "f_frsize", f_blocks => "f_blocks", f_bfree => "f_bfree",
            f_bavail => "f_bavail", f_files => "f_files", f_ffree => "f_ffree", f_favail => "f_favail",
            f_fsid => "f_fsid", f_flag => "f_flag", f_namemax => "f_namemax",
        ]);
        checks!(out, Mntent, "struct mntent", [
            mnt_fsname => "mnt_fsname", mnt_dir => "mnt_dir", mnt_type => "mnt_type", mnt_opts => "mnt_opts",
            mnt_freq => "mnt_freq", mnt_passno => "mnt_passno",
        ]);
        checks!(out, Procinfo, "struct procinfo", [
            pi_pid => "pi_pid", pi_ppid => "pi_ppid", pi_pgid => "pi_pgid", pi_sid => "pi_sid", pi_uid => "pi_uid",
            pi_gid => "pi_gid", pi_tty => "pi_tty", pi_state => "pi_state", pi_nice => "pi_nice",
            pi_threads => "pi_threads", pi_size => "pi_size", pi_resident => "pi_resident", pi_cpu_us => "pi_cpu_us",
            pi_start => "pi_start", pi_comm => "pi_comm", pi_args => "pi_args",
        ]);
        checks!(out, SpawnAttributes, "posix_spawnattr_t", [
            flags => "__flags", process_group => "__process_group",
            default_signals => "__default_signals", signal_mask => "__signal_mask",
        ]);
        out
    }
}
