//! Signals: sets, dispositions (sigaction), the mask, and the names
//! `kill -l` prints.

use crate::error::{check, Result};
use crate::ffi;
use crate::types::Sigaction;

/// A set of signals 1..=64 (`sigset_t`: bit `n - 1` is signal `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalSet(pub u64);

impl SignalSet {
    pub const EMPTY: SignalSet = SignalSet(0);
    pub const ALL: SignalSet = SignalSet(!0);

    /// The set holding just `signal`.
    pub fn of(signal: i32) -> SignalSet {
        SignalSet::EMPTY.with(signal)
    }

    /// This set and `signal`.
    pub fn with(self, signal: i32) -> SignalSet {
        match bit(signal) {
            Some(bit) => SignalSet(self.0 | bit),
            None => self,
        }
    }

    /// This set without `signal`.
    pub fn without(self, signal: i32) -> SignalSet {
        match bit(signal) {
            Some(bit) => SignalSet(self.0 & !bit),
            None => self,
        }
    }

    pub fn contains(self, signal: i32) -> bool {
        bit(signal).is_some_and(|bit| self.0 & bit != 0)
    }
}

fn bit(signal: i32) -> Option<u64> {
    (1..=64).contains(&signal).then(|| 1u64 << (signal - 1))
}

/// What a signal does when it arrives.
#[derive(Clone, Copy, Debug)]
pub enum Handler {
    /// The default action (SIG_DFL).
    Default,
    /// Nothing (SIG_IGN).
    Ignore,
    /// Calls the function with the signal number.
    Function(extern "C" fn(i32)),
}

impl Handler {
    fn to_raw(self) -> usize {
        match self {
            Handler::Default => 0,
            Handler::Ignore => 1,
            Handler::Function(function) => function as usize,
        }
    }
}

/// A disposition as sigaction reports it: the handler is a raw address
/// (0 default, 1 ignore), since it may have been installed by C code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disposition {
    pub handler: usize,
    pub mask: SignalSet,
    pub flags: i32,
}

impl Disposition {
    pub fn is_default(&self) -> bool {
        self.handler == 0
    }

    pub fn is_ignored(&self) -> bool {
        self.handler == 1
    }
}

/// Installs `handler` for `signal` with `flags` (`SA_RESTART`, ...) and
/// `mask` blocked while it runs; returns the previous disposition.
pub fn set_handler(signal: i32, handler: Handler, flags: i32, mask: SignalSet) -> Result<Disposition> {
    let action = Sigaction { sa_handler: handler.to_raw(), sa_mask: mask.0, sa_flags: flags, sa_restorer: 0 };
    let mut old = Sigaction::default();
    // SAFETY: valid records.
    check(unsafe { ffi::sigaction(signal, &action, &mut old) })?;
    Ok(Disposition { handler: old.sa_handler, mask: SignalSet(old.sa_mask), flags: old.sa_flags })
}

/// The current disposition of `signal`, unchanged.
pub fn disposition(signal: i32) -> Result<Disposition> {
    let mut old = Sigaction::default();
    // SAFETY: a null new action and a writable old one.
    check(unsafe { ffi::sigaction(signal, core::ptr::null(), &mut old) })?;
    Ok(Disposition { handler: old.sa_handler, mask: SignalSet(old.sa_mask), flags: old.sa_flags })
}

/// Puts a disposition back (as `set_handler` returned it).
pub fn restore_disposition(signal: i32, disposition: Disposition) -> Result<()> {
    let action = Sigaction {
        sa_handler: disposition.handler,
        sa_mask: disposition.mask.0,
        sa_flags: disposition.flags,
        sa_restorer: 0,
    };
    // SAFETY: a valid record.
    check(unsafe { ffi::sigaction(signal, &action, core::ptr::null_mut()) }).map(drop)
}

/// `sigprocmask(how, set)`: `SIG_BLOCK`, `SIG_UNBLOCK` or `SIG_SETMASK`;
/// returns the previous mask.
pub fn change_mask(how: i32, set: SignalSet) -> Result<SignalSet> {
    let mut old = 0u64;
    // SAFETY: valid masks.
    check(unsafe { ffi::sigprocmask(how, &set.0, &mut old) })?;
    Ok(SignalSet(old))
}

/// The current signal mask.
pub fn mask() -> SignalSet {
    let mut old = 0u64;
    // SAFETY: a null new mask and a writable old one.
    unsafe { ffi::sigprocmask(crate::SIG_BLOCK, core::ptr::null(), &mut old) };
    SignalSet(old)
}

/// The signals pending while blocked.
pub fn pending() -> SignalSet {
    let mut set = 0u64;
    // SAFETY: a writable set.
    unsafe { ffi::sigpending(&mut set) };
    SignalSet(set)
}

/// `sigsuspend(mask)`: waits for a signal with `mask` in force.
pub fn suspend(mask: SignalSet) {
    // SAFETY: a valid mask. sigsuspend always returns -1 with EINTR.
    unsafe { ffi::sigsuspend(&mask.0) };
}

/// `raise`.
pub fn raise(signal: i32) -> Result<()> {
    // SAFETY: no pointers.
    check(unsafe { ffi::raise(signal) }).map(drop)
}

/// `alarm`: SIGALRM after `seconds` (0 cancels); returns what was left of the previous one.
pub fn alarm(seconds: u32) -> u32 {
    // SAFETY: no pointers.
    unsafe { ffi::alarm(seconds) }
}

/// The signal names without "SIG", by number, as Linux and `kill -l` list them.
const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
    "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "POLL",
    "PWR", "SYS",
];

/// The lowest and highest real-time signal numbers.
pub const REAL_TIME_MINIMUM: i32 = 34;
pub const REAL_TIME_MAXIMUM: i32 = 64;

/// The name of `signal` without "SIG" ("INT", "RTMIN+3"), if it has one.
pub fn name(signal: i32) -> Option<alloc::string::String> {
    use alloc::format;
    use alloc::string::ToString;
    if (1..=31).contains(&signal) {
        return Some(NAMES[signal as usize - 1].to_string());
    }
    let middle = (REAL_TIME_MINIMUM + REAL_TIME_MAXIMUM) / 2;
    match signal {
        REAL_TIME_MINIMUM => Some("RTMIN".to_string()),
        REAL_TIME_MAXIMUM => Some("RTMAX".to_string()),
        n if n > REAL_TIME_MINIMUM && n <= middle => Some(format!("RTMIN+{}", n - REAL_TIME_MINIMUM)),
        n if n > middle && n < REAL_TIME_MAXIMUM => Some(format!("RTMAX-{}", REAL_TIME_MAXIMUM - n)),
        _ => None,
    }
}

/// The number of a signal named with or without "SIG", in any case ("int",
/// "SIGTERM", "IOT", "RTMIN+2"), or given as a number.
pub fn number(text: &[u8]) -> Option<i32> {
    let upper: alloc::vec::Vec<u8> = text.iter().map(u8::to_ascii_uppercase).collect();
    let bare = upper.strip_prefix(b"SIG").unwrap_or(&upper);
    if !bare.is_empty() && bare.iter().all(u8::is_ascii_digit) {
        let value: i32 = core::str::from_utf8(bare).ok()?.parse().ok()?;
        return (0..=64).contains(&value).then_some(value);
    }
    let aliases: [(&[u8], i32); 3] = [(b"IOT", crate::SIGABRT), (b"IO", crate::SIGIO), (b"CLD", crate::SIGCHLD)];
    if let Some(&(_, value)) = aliases.iter().find(|(alias, _)| *alias == bare) {
        return Some(value);
    }
    (1..=64).find(|&signal| name(signal).is_some_and(|known| known.as_bytes() == bare))
}

/// `strsignal`'s description ("Interrupt", "Killed").
pub fn description(signal: i32) -> &'static str {
    // SAFETY: strsignal returns a NUL-terminated string that stays valid.
    let bytes = unsafe { crate::c_string_bytes(ffi::strsignal(signal)) };
    core::str::from_utf8(bytes).unwrap_or("Unknown signal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_agree() {
        for signal in 1..=64 {
            let Some(known) = name(signal) else { continue };
            assert_eq!(number(known.as_bytes()), Some(signal), "{known}");
            assert_eq!(number(format!("SIG{known}").as_bytes()), Some(signal));
            assert_eq!(number(known.to_lowercase().as_bytes()), Some(signal));
        }
        assert_eq!(name(2).as_deref(), Some("INT"));
        assert_eq!(name(34).as_deref(), Some("RTMIN"));
        assert_eq!(name(37).as_deref(), Some("RTMIN+3"));
        assert_eq!(name(60).as_deref(), Some("RTMAX-4"));
        assert_eq!(name(32), None);
        assert_eq!(number(b"9"), Some(9));
        assert_eq!(number(b"IOT"), Some(6));
        assert_eq!(number(b"BOGUS"), None);
        assert_eq!(number(b"65"), None);
    }

    #[test]
    fn sets_hold_their_members() {
        let set = SignalSet::of(crate::SIGINT).with(crate::SIGTERM).with(64);
        assert!(set.contains(crate::SIGINT) && set.contains(64) && !set.contains(crate::SIGHUP));
        assert!(!set.without(crate::SIGINT).contains(crate::SIGINT));
        assert_eq!(SignalSet::EMPTY.with(0), SignalSet::EMPTY);
    }
}
