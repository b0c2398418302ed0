//! Signal numbers (Linux's, as minilibc's `<signal.h>`), sets of them, and
//! what each does by default.

use core::fmt;

/// A signal number, 1 to 64.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(u8);

impl Signal {
    pub const HANGUP: Signal = Signal(1);
    pub const INTERRUPT: Signal = Signal(2);
    pub const QUIT: Signal = Signal(3);
    pub const ILLEGAL_INSTRUCTION: Signal = Signal(4);
    pub const TRAP: Signal = Signal(5);
    pub const ABORT: Signal = Signal(6);
    pub const BUS: Signal = Signal(7);
    pub const FLOATING_POINT: Signal = Signal(8);
    pub const KILL: Signal = Signal(9);
    pub const USER1: Signal = Signal(10);
    pub const SEGMENTATION: Signal = Signal(11);
    pub const USER2: Signal = Signal(12);
    pub const PIPE: Signal = Signal(13);
    pub const ALARM: Signal = Signal(14);
    pub const TERMINATE: Signal = Signal(15);
    pub const STACK_FAULT: Signal = Signal(16);
    pub const CHILD: Signal = Signal(17);
    pub const CONTINUE: Signal = Signal(18);
    pub const STOP: Signal = Signal(19);
    pub const TERMINAL_STOP: Signal = Signal(20);
    pub const TERMINAL_INPUT: Signal = Signal(21);
    pub const TERMINAL_OUTPUT: Signal = Signal(22);
    pub const URGENT: Signal = Signal(23);
    pub const CPU_LIMIT: Signal = Signal(24);
    pub const FILE_SIZE_LIMIT: Signal = Signal(25);
    pub const VIRTUAL_ALARM: Signal = Signal(26);
    pub const PROFILE: Signal = Signal(27);
    pub const WINDOW_CHANGE: Signal = Signal(28);
    pub const IO: Signal = Signal(29);
    pub const POWER: Signal = Signal(30);
    pub const BAD_SYSTEM_CALL: Signal = Signal(31);

    /// Highest signal number (`NSIG - 1`).
    pub const MAX: u8 = 64;

    /// The signal with this number, if it is one (0 is not: `kill(pid, 0)`
    /// only checks).
    pub const fn new(number: u32) -> Option<Signal> {
        if number >= 1 && number <= Signal::MAX as u32 {
            Some(Signal(number as u8))
        } else {
            None
        }
    }

    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// SIGKILL and SIGSTOP can be neither caught, blocked nor ignored.
    pub const fn is_uncatchable(self) -> bool {
        self.0 == Signal::KILL.0 || self.0 == Signal::STOP.0
    }

    /// What happens when nobody catches it.
    pub const fn default_action(self) -> DefaultAction {
        match self.0 {
            17 | 23 | 28 => DefaultAction::Ignore,
            18 => DefaultAction::Continue,
            19..=22 => DefaultAction::Stop,
            3..=8 | 11 | 24 | 25 | 31 => DefaultAction::Core,
            _ => DefaultAction::Terminate,
        }
    }

    /// One of the stop signals a terminal sends (discarded for a process in
    /// an orphaned process group: nobody could continue it).
    pub const fn is_terminal_stop(self) -> bool {
        matches!(self.0, 20..=22)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Signal({})", self.0)
    }
}

/// A signal's default action (POSIX's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    /// Terminate "with a core dump": there are no core files here, so this
    /// terminates with the core bit set in the wait status.
    Core,
    Stop,
    Continue,
    Ignore,
}

/// A set of signals (`sigset_t`: bit `n - 1` for signal `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalSet(pub u64);

impl SignalSet {
    pub const EMPTY: SignalSet = SignalSet(0);

    pub const fn contains(self, signal: Signal) -> bool {
        self.0 & (1 << (signal.0 - 1)) != 0
    }

    pub fn insert(&mut self, signal: Signal) {
        self.0 |= 1 << (signal.0 - 1);
    }

    pub fn remove(&mut self, signal: Signal) {
        self.0 &= !(1 << (signal.0 - 1));
    }
}

/// How the process server treats a signal for one process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Disposition {
    /// The process server applies the default action itself.
    #[default]
    Default,
    /// Dropped (`SIG_IGN`).
    Ignore,
    /// Sent to the process's signal port: it has a handler, or the signal is
    /// blocked and the process will decide when it unblocks it.
    Post,
}

/// The per-process summary of dispositions minilibc reports
/// (`set_dispositions`, on `sigaction` and on every change of the signal
/// mask), plus the SIGCHLD flags the process server acts on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispositions {
    /// Signals with a handler.
    pub caught: SignalSet,
    /// Signals set to `SIG_IGN`.
    pub ignored: SignalSet,
    /// The signal mask.
    pub blocked: SignalSet,
    /// `SA_NOCLDSTOP` on SIGCHLD: no SIGCHLD when a child stops or continues.
    pub no_child_stop: bool,
    /// `SA_NOCLDWAIT` on SIGCHLD: children are reaped at once, never zombies.
    pub no_child_wait: bool,
}

impl Dispositions {
    /// What happens to `signal` now. SIGKILL and SIGSTOP are always
    /// `Default`, whatever was set. A caught or blocked signal is posted
    /// (a blocked one stays pending with the process, even if ignored, as
    /// on Linux); an ignored one is dropped.
    pub fn of(&self, signal: Signal) -> Disposition {
        if signal.is_uncatchable() {
            Disposition::Default
        } else if self.caught.contains(signal) || self.blocked.contains(signal) {
            Disposition::Post
        } else if self.ignored.contains(signal) {
            Disposition::Ignore
        } else {
            Disposition::Default
        }
    }

    /// Whether the process ignores or blocks `signal` (job control's
    /// question for SIGTTIN and SIGTTOU).
    pub fn ignores_or_blocks(&self, signal: Signal) -> bool {
        !signal.is_uncatchable() && (self.ignored.contains(signal) || self.blocked.contains(signal))
    }

    /// What exec leaves: caught signals go back to default, ignored ones
    /// stay ignored (POSIX); the mask is the new image's; the SIGCHLD flags
    /// stay.
    pub fn after_exec(&self, blocked: SignalSet) -> Dispositions {
        Dispositions { caught: SignalSet::EMPTY, blocked, ..*self }
    }

    /// True when SIGCHLD is ignored (not caught) or `SA_NOCLDWAIT` is set: a
    /// child of this process is reaped as it ends.
    pub fn reaps_children_at_once(&self) -> bool {
        self.no_child_wait || (self.ignored.contains(Signal::CHILD) && !self.caught.contains(Signal::CHILD))
    }
}

/// Why a signal was sent (`si_code` and the sender, for `siginfo_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `kill`/`killpg`/`raise` by a process: `SI_USER` with its pid and uid.
    Process { pid: u32, uid: u32 },
    /// The terminal (^C, ^Z, ^\, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH): `SI_KERNEL`.
    Terminal,
    /// A child changed state: `CLD_EXITED`, `CLD_KILLED`, ... with its pid, uid and status.
    Child { pid: u32, uid: u32, code: ChildCode, status: i32 },
    /// A timer of the process (`SI_TIMER`).
    Timer,
    /// A write to a pipe nobody reads.
    BrokenPipe,
    /// A fault in one of its threads (the exception path; `si_code` and
    /// address are the exception's).
    Fault { code: i32, address: u64 },
    /// The system itself (orphaned process group, shutdown): `SI_KERNEL`.
    System,
}

/// `si_code` values of SIGCHLD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildCode {
    Exited = 1,
    Killed = 2,
    Dumped = 3,
    Stopped = 5,
    Continued = 6,
}
