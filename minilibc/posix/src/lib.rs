//! posix: minilibc's C API for Rust programs (msh, coreutils).
//!
//! A `#![no_std]` program links against minilibc's `libc.a` and uses this
//! crate for everything the operating system does: the same C functions C
//! programs call, declared in `ffi` with the records of `types` (checked
//! against minilibc's headers by a host test), wrapped safely:
//!
//! - errors are `Errno` (`Result<T>`), printed with `strerror`'s text;
//! - `Fd` owns a descriptor and closes it on drop (`into_raw` keeps it open);
//! - paths are anything `CPath` (`&CStr`, byte strings, `str`);
//! - `fs` (stat, directories, links, modes), `process` (fork, exec, wait,
//!   ids, kill), `spawn` (posix_spawn with file actions and attributes),
//!   `signal`, `terminal`, `time`, `environment`, `accounts`, `system`;
//! - `io`: buffered standard output and error behind `print!`/`println!`/
//!   `eprint!`/`eprintln!`, flushed at exit (a write error reported as GNU
//!   does), and `BufferedReader`;
//! - `runtime`: `entry!(main)` with `fn main(Args, Env) -> i32`, the global
//!   allocator over malloc, a panic handler that prints to standard error
//!   and exits with status 101.
//!
//! The program runs unchanged on Mach_R and on Linux: only the `libc.a` it
//! is linked with differs. Host unit tests (`cargo test -p posix`) link the
//! same declarations against glibc, whose x86_64 layouts are the same, and
//! exercise the pure parts.
//!
//! Single-threaded, as minilibc is. The unsafe code is the C boundary; each
//! block says what the C function requires.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod accounts;
pub mod constants;
pub mod environment;
pub mod error;
pub mod fd;
pub mod ffi;
pub mod fs;
pub mod io;
pub mod path;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod spawn;
pub mod system;
pub mod terminal;
pub mod time;
pub mod types;

pub use constants::*;
pub use environment::{Args, Env};
pub use error::{Errno, Result};
pub use fd::Fd;
pub use path::CPath;
pub use types::{Stat, Timespec};

/// The bytes of a NUL-terminated C string, without the NUL.
///
/// # Safety
/// `text` points to a NUL-terminated string that lives for `'a`.
pub unsafe fn c_string_bytes<'a>(text: *const u8) -> &'a [u8] {
    // SAFETY: the caller's contract.
    unsafe { core::ffi::CStr::from_ptr(text.cast()).to_bytes() }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::process::Command;

    /// Every record of `types` and every constant of `constants`, checked
    /// against minilibc's headers by compiling `_Static_assert`s with gcc.
    #[test]
    fn layouts_match_the_c_headers() {
        let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../include");
        let mut source = String::from(
            "#define _GNU_SOURCE\n#include <dirent.h>\n#include <errno.h>\n#include <fcntl.h>\n#include <grp.h>\n\
             #include <poll.h>\n#include <pwd.h>\n#include <signal.h>\n#include <spawn.h>\n#include <stddef.h>\n\
             #include <sys/ioctl.h>\n#include <sys/resource.h>\n#include <sys/stat.h>\n#include <sys/utsname.h>\n\
             #include <sys/wait.h>\n#include <termios.h>\n#include <time.h>\n#include <unistd.h>\n\
             #include <mntent.h>\n#include <sys/procinfo.h>\n#include <sys/statfs.h>\n#include <sys/statvfs.h>\n\
             #include <sys/mount.h>\n#include <sys/reboot.h>\n",
        );
        source.push_str(&crate::types::layout_checks());
        for (name, value) in crate::constants::ALL {
            source.push_str(&format!("_Static_assert({name} == {value}, \"{name}\");\n"));
        }
        let directory = std::env::temp_dir().join(format!("posix-layout-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let file = directory.join("checks.c");
        std::fs::File::create(&file).unwrap().write_all(source.as_bytes()).unwrap();
        let output = Command::new("gcc")
            .args(["-fsyntax-only", "-nostdinc", "-isystem", include, "-std=gnu11"])
            .arg(&file)
            .output()
            .expect("gcc runs");
        std::fs::remove_dir_all(&directory).unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
}
