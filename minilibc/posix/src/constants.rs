//! The numbers of minilibc's headers (open flags, modes, signals, errno
//! values, terminal flags...), each with its C name. The host test compiles
//! a `_Static_assert` per constant against `minilibc/include`.

macro_rules! constants {
    ($($(#[$attribute:meta])* $name:ident: $type:ty = $value:expr;)*) => {
        $($(#[$attribute])* pub const $name: $type = $value;)*

        /// Every constant with its C name, for the header check.
        #[cfg(test)]
        pub(crate) const ALL: &[(&str, i128)] = &[$((stringify!($name), $name as i128)),*];
    };
}

constants! {
    // <errno.h>
    EPERM: i32 = 1;
    ENOENT: i32 = 2;
    ESRCH: i32 = 3;
    EINTR: i32 = 4;
    EIO: i32 = 5;
    ENXIO: i32 = 6;
    E2BIG: i32 = 7;
    ENOEXEC: i32 = 8;
    EBADF: i32 = 9;
    ECHILD: i32 = 10;
    EAGAIN: i32 = 11;
    ENOMEM: i32 = 12;
    EACCES: i32 = 13;
    EFAULT: i32 = 14;
    EBUSY: i32 = 16;
    EEXIST: i32 = 17;
    EXDEV: i32 = 18;
    ENODEV: i32 = 19;
    ENOTDIR: i32 = 20;
    EISDIR: i32 = 21;
    EINVAL: i32 = 22;
    EMFILE: i32 = 24;
    ENOTTY: i32 = 25;
    EFBIG: i32 = 27;
    ENOSPC: i32 = 28;
    ESPIPE: i32 = 29;
    EROFS: i32 = 30;
    EMLINK: i32 = 31;
    EPIPE: i32 = 32;
    ERANGE: i32 = 34;
    ENAMETOOLONG: i32 = 36;
    ENOSYS: i32 = 38;
    ENOTEMPTY: i32 = 39;
    ELOOP: i32 = 40;
    EOVERFLOW: i32 = 75;
    EILSEQ: i32 = 84;

    // <fcntl.h>
    O_RDONLY: i32 = 0;
    O_WRONLY: i32 = 0o1;
    O_RDWR: i32 = 0o2;
    O_ACCMODE: i32 = 0o3;
    O_CREAT: i32 = 0o100;
    O_EXCL: i32 = 0o200;
    O_NOCTTY: i32 = 0o400;
    O_TRUNC: i32 = 0o1000;
    O_APPEND: i32 = 0o2000;
    O_NONBLOCK: i32 = 0o4000;
    O_DIRECTORY: i32 = 0o200000;
    O_NOFOLLOW: i32 = 0o400000;
    O_CLOEXEC: i32 = 0o2000000;
    F_DUPFD: i32 = 0;
    F_GETFD: i32 = 1;
    F_SETFD: i32 = 2;
    F_GETFL: i32 = 3;
    F_SETFL: i32 = 4;
    F_DUPFD_CLOEXEC: i32 = 1030;
    FD_CLOEXEC: i32 = 1;
    AT_FDCWD: i32 = -100;
    AT_SYMLINK_NOFOLLOW: i32 = 0x100;
    AT_REMOVEDIR: i32 = 0x200;
    AT_SYMLINK_FOLLOW: i32 = 0x400;

    // <unistd.h>
    STDIN_FILENO: i32 = 0;
    STDOUT_FILENO: i32 = 1;
    STDERR_FILENO: i32 = 2;
    F_OK: i32 = 0;
    X_OK: i32 = 1;
    W_OK: i32 = 2;
    R_OK: i32 = 4;
    SEEK_SET: i32 = 0;
    SEEK_CUR: i32 = 1;
    SEEK_END: i32 = 2;

    // <sys/stat.h>
    S_IFMT: u32 = 0o170000;
    S_IFDIR: u32 = 0o040000;
    S_IFCHR: u32 = 0o020000;
    S_IFBLK: u32 = 0o060000;
    S_IFREG: u32 = 0o100000;
    S_IFIFO: u32 = 0o010000;
    S_IFLNK: u32 = 0o120000;
    S_IFSOCK: u32 = 0o140000;
    S_ISUID: u32 = 0o4000;
    S_ISGID: u32 = 0o2000;
    S_ISVTX: u32 = 0o1000;
    UTIME_NOW: i64 = (1 << 30) - 1;
    UTIME_OMIT: i64 = (1 << 30) - 2;

    // <dirent.h>
    DT_UNKNOWN: u8 = 0;
    DT_FIFO: u8 = 1;
    DT_CHR: u8 = 2;
    DT_DIR: u8 = 4;
    DT_BLK: u8 = 6;
    DT_REG: u8 = 8;
    DT_LNK: u8 = 10;
    DT_SOCK: u8 = 12;

    // <signal.h>
    SIGHUP: i32 = 1;
    SIGINT: i32 = 2;
    SIGQUIT: i32 = 3;
    SIGILL: i32 = 4;
    SIGTRAP: i32 = 5;
    SIGABRT: i32 = 6;
    SIGBUS: i32 = 7;
    SIGFPE: i32 = 8;
    SIGKILL: i32 = 9;
    SIGUSR1: i32 = 10;
    SIGSEGV: i32 = 11;
    SIGUSR2: i32 = 12;
    SIGPIPE: i32 = 13;
    SIGALRM: i32 = 14;
    SIGTERM: i32 = 15;
    SIGSTKFLT: i32 = 16;
    SIGCHLD: i32 = 17;
    SIGCONT: i32 = 18;
    SIGSTOP: i32 = 19;
    SIGTSTP: i32 = 20;
    SIGTTIN: i32 = 21;
    SIGTTOU: i32 = 22;
    SIGURG: i32 = 23;
    SIGXCPU: i32 = 24;
    SIGXFSZ: i32 = 25;
    SIGVTALRM: i32 = 26;
    SIGPROF: i32 = 27;
    SIGWINCH: i32 = 28;
    SIGIO: i32 = 29;
    SIGPWR: i32 = 30;
    SIGSYS: i32 = 31;
    SA_NOCLDSTOP: i32 = 1;
    SA_SIGINFO: i32 = 4;
    SA_RESTART: i32 = 0x1000_0000;
    SA_NODEFER: i32 = 0x4000_0000;
    SA_RESETHAND: u32 = 0x8000_0000;
    SIG_BLOCK: i32 = 0;
    SIG_UNBLOCK: i32 = 1;
    SIG_SETMASK: i32 = 2;

    // <sys/wait.h>
    WNOHANG: i32 = 1;
    WUNTRACED: i32 = 2;
    WCONTINUED: i32 = 8;

    // <spawn.h>
    POSIX_SPAWN_SETPGROUP: i16 = 0x02;
    POSIX_SPAWN_SETSIGDEF: i16 = 0x04;
    POSIX_SPAWN_SETSIGMASK: i16 = 0x08;
    POSIX_SPAWN_SETSID: i16 = 0x80;

    // <termios.h>
    VINTR: usize = 0;
    VQUIT: usize = 1;
    VERASE: usize = 2;
    VKILL: usize = 3;
    VEOF: usize = 4;
    VTIME: usize = 5;
    VMIN: usize = 6;
    VSUSP: usize = 10;
    VWERASE: usize = 14;
    ICRNL: u32 = 0o400;
    IXON: u32 = 0o2000;
    BRKINT: u32 = 0o2;
    ISTRIP: u32 = 0o40;
    INPCK: u32 = 0o20;
    OPOST: u32 = 0o1;
    ONLCR: u32 = 0o4;
    CS8: u32 = 0o60;
    ISIG: u32 = 0o1;
    ICANON: u32 = 0o2;
    ECHO: u32 = 0o10;
    ECHOE: u32 = 0o20;
    ECHOK: u32 = 0o40;
    ECHONL: u32 = 0o100;
    TOSTOP: u32 = 0o400;
    IEXTEN: u32 = 0o100000;
    TCSANOW: i32 = 0;
    TCSADRAIN: i32 = 1;
    TCSAFLUSH: i32 = 2;
    TCIFLUSH: i32 = 0;

    // <sys/ioctl.h>
    TIOCSCTTY: u64 = 0x540E;
    TIOCGWINSZ: u64 = 0x5413;
    TIOCSWINSZ: u64 = 0x5414;
    FIONREAD: u64 = 0x541B;

    // <poll.h>
    POLLIN: i16 = 0x001;
    POLLOUT: i16 = 0x004;
    POLLERR: i16 = 0x008;
    POLLHUP: i16 = 0x010;

    // <sys/mount.h>, <sys/reboot.h>
    MS_RDONLY: u64 = 1;
    MS_NOSUID: u64 = 2;
    MS_NODEV: u64 = 4;
    MS_NOEXEC: u64 = 8;
    MS_REMOUNT: u64 = 32;
    MS_NOATIME: u64 = 1024;
    MS_BIND: u64 = 4096;
    MNT_FORCE: i32 = 1;
    MNT_DETACH: i32 = 2;
    RB_AUTOBOOT: u32 = 0x0123_4567;
    RB_HALT_SYSTEM: u32 = 0xcdef_0123;
    RB_POWER_OFF: u32 = 0x4321_fedc;

    // <time.h>
    CLOCK_REALTIME: i32 = 0;
    CLOCK_MONOTONIC: i32 = 1;
}
