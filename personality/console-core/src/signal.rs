//! The signals a terminal sends, with Linux's x86_64 numbers.

/// A signal for a process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Signal {
    /// The session's terminal is gone (its leader ended).
    Hangup = 1,
    /// ^C.
    Interrupt = 2,
    /// ^\.
    Quit = 3,
    /// Sent after `Hangup` so that a stopped group sees it.
    Continue = 18,
    /// ^Z.
    TerminalStop = 20,
    /// A background process read its controlling terminal.
    TerminalInput = 21,
    /// A background process wrote (with `TOSTOP`) or changed its settings.
    TerminalOutput = 22,
    /// The window size changed.
    WindowChange = 28,
}

impl Signal {
    /// The signal number.
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// Its usual name (`SIGINT`).
    pub const fn name(self) -> &'static str {
        match self {
            Signal::Hangup => "SIGHUP",
            Signal::Interrupt => "SIGINT",
            Signal::Quit => "SIGQUIT",
            Signal::Continue => "SIGCONT",
            Signal::TerminalStop => "SIGTSTP",
            Signal::TerminalInput => "SIGTTIN",
            Signal::TerminalOutput => "SIGTTOU",
            Signal::WindowChange => "SIGWINCH",
        }
    }
}

impl From<tty::Signal> for Signal {
    fn from(signal: tty::Signal) -> Signal {
        match signal {
            tty::Signal::Interrupt => Signal::Interrupt,
            tty::Signal::Quit => Signal::Quit,
            tty::Signal::Suspend => Signal::TerminalStop,
        }
    }
}
