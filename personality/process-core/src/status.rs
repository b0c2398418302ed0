//! The status word `wait` returns (Linux's encoding, which minilibc's
//! `WIFEXITED` and friends decode).

use crate::signal::Signal;

/// How a process ended, stopped or continued, as `wait` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// `_exit(code)`: only the low 8 bits are kept.
    Exited(u8),
    /// Killed by a signal; `core` marks a default action of "core".
    Signaled { signal: Signal, core: bool },
    /// Stopped by a signal (`WUNTRACED`).
    Stopped(Signal),
    /// Continued by SIGCONT (`WCONTINUED`).
    Continued,
}

impl WaitStatus {
    /// The `int` status word.
    pub fn encode(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => (code as i32) << 8,
            WaitStatus::Signaled { signal, core } => signal.number() as i32 | if core { 0x80 } else { 0 },
            WaitStatus::Stopped(signal) => ((signal.number() as i32) << 8) | 0x7f,
            WaitStatus::Continued => 0xffff,
        }
    }

    /// The status from the `int` word, if it is one of the four forms.
    pub fn decode(word: i32) -> Option<WaitStatus> {
        let low = word & 0x7f;
        if word == 0xffff {
            Some(WaitStatus::Continued)
        } else if word & 0xff == 0x7f {
            Signal::new(((word >> 8) & 0xff) as u32).map(WaitStatus::Stopped)
        } else if low == 0 {
            Some(WaitStatus::Exited(((word >> 8) & 0xff) as u8))
        } else {
            Signal::new(low as u32).map(|signal| WaitStatus::Signaled { signal, core: word & 0x80 != 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_round_trips_and_matches_the_c_macros() {
        let exited = WaitStatus::Exited(3).encode();
        assert_eq!((exited & 0xff00) >> 8, 3); // WEXITSTATUS
        assert_eq!(exited & 0x7f, 0); // WIFEXITED
        let killed = WaitStatus::Signaled { signal: Signal::SEGMENTATION, core: true }.encode();
        assert_eq!(killed & 0x7f, 11); // WTERMSIG
        assert!(((killed & 0xffff) - 1) < 0xff); // WIFSIGNALED
        assert_ne!(killed & 0x80, 0); // WCOREDUMP
        let stopped = WaitStatus::Stopped(Signal::TERMINAL_STOP).encode();
        assert_eq!(stopped & 0xff, 0x7f); // WIFSTOPPED
        assert_eq!((stopped & 0xff00) >> 8, 20); // WSTOPSIG
        assert_eq!(WaitStatus::Continued.encode(), 0xffff);
        for status in [
            WaitStatus::Exited(0),
            WaitStatus::Exited(255),
            WaitStatus::Signaled { signal: Signal::KILL, core: false },
            WaitStatus::Stopped(Signal::STOP),
            WaitStatus::Continued,
        ] {
            assert_eq!(WaitStatus::decode(status.encode()), Some(status));
        }
    }
}
