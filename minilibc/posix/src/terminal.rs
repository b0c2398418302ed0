//! Terminals: attributes (termios), raw mode, window size, foreground group.

use crate::error::{check, Result};
use crate::ffi;
use crate::types::{Termios, Winsize};

/// `tcgetattr`.
pub fn attributes(fd: i32) -> Result<Termios> {
    let mut terminal = Termios::default();
    // SAFETY: a writable record.
    check(unsafe { ffi::tcgetattr(fd, &mut terminal) })?;
    Ok(terminal)
}

/// `tcsetattr(fd, when, attributes)` (`TCSANOW`, `TCSADRAIN`, `TCSAFLUSH`).
pub fn set_attributes(fd: i32, when: i32, terminal: &Termios) -> Result<()> {
    // SAFETY: a valid record.
    check(unsafe { ffi::tcsetattr(fd, when, terminal) }).map(drop)
}

/// `cfmakeraw`'s changes applied to a copy of `terminal`.
pub fn raw(terminal: &Termios) -> Termios {
    let mut raw = *terminal;
    // SAFETY: a valid record.
    unsafe { ffi::cfmakeraw(&mut raw) };
    raw
}

/// The terminal in raw mode until this value is dropped (the previous
/// attributes come back then): for a full-screen program.
pub struct RawMode {
    fd: i32,
    saved: Termios,
}

impl RawMode {
    /// Switches `fd` to raw mode (no echo, no line editing, no signals from
    /// keys, bytes as they come).
    /// Keys typed before are kept (`TCSANOW`, as vim and BusyBox do).
    pub fn enter(fd: i32) -> Result<RawMode> {
        let saved = attributes(fd)?;
        set_attributes(fd, crate::TCSANOW, &raw(&saved))?;
        Ok(RawMode { fd, saved })
    }

    /// As `enter`, but output processing stays as it was (a newline still
    /// goes to the start of the next line): for a pager writing lines.
    pub fn enter_keeping_output(fd: i32) -> Result<RawMode> {
        let saved = attributes(fd)?;
        let mut attributes = raw(&saved);
        attributes.c_oflag = saved.c_oflag;
        set_attributes(fd, crate::TCSANOW, &attributes)?;
        Ok(RawMode { fd, saved })
    }

    /// The attributes the terminal had before.
    pub fn saved(&self) -> &Termios {
        &self.saved
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = set_attributes(self.fd, crate::TCSADRAIN, &self.saved);
    }
}

/// The window size (`TIOCGWINSZ`).
pub fn window_size(fd: i32) -> Result<Winsize> {
    let mut size = Winsize::default();
    // SAFETY: TIOCGWINSZ writes a struct winsize.
    check(unsafe { ffi::ioctl(fd, crate::TIOCGWINSZ, &mut size as *mut Winsize) })?;
    Ok(size)
}

/// `tcgetpgrp`: the terminal's foreground process group.
pub fn foreground_group(fd: i32) -> Result<i32> {
    // SAFETY: no pointers.
    check(unsafe { ffi::tcgetpgrp(fd) })
}

/// `tcsetpgrp`.
pub fn set_foreground_group(fd: i32, group: i32) -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { ffi::tcsetpgrp(fd, group) }).map(drop)
}

/// `TIOCSCTTY`: the terminal becomes the controlling terminal of the
/// caller's session (the caller must lead it); `steal` (the superuser's)
/// takes it from another session.
pub fn set_controlling(fd: i32, steal: bool) -> Result<()> {
    // SAFETY: TIOCSCTTY takes an integer, no pointer.
    check(unsafe { ffi::ioctl(fd, crate::TIOCSCTTY, i32::from(steal)) }).map(drop)
}

/// `tcflush(fd, queue)`.
pub fn flush(fd: i32, queue: i32) -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { ffi::tcflush(fd, queue) }).map(drop)
}

/// `ttyname`: the terminal's device path.
pub fn name(fd: i32) -> Option<alloc::vec::Vec<u8>> {
    // SAFETY: ttyname returns null or a NUL-terminated static buffer, copied at once.
    unsafe {
        let name = ffi::ttyname(fd);
        (!name.is_null()).then(|| crate::c_string_bytes(name).to_vec())
    }
}
