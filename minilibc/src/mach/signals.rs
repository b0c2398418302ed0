//! A process's signal state as minilibc keeps it on Mach_R: the action of
//! each signal, the blocked set, the signals pending here, and the
//! decisions POSIX asks for when a signal arrives, is unblocked or is
//! handled. The process server keeps a summary (caught, ignored, blocked,
//! SIGCHLD's flags: [`Summary`]) and applies default actions itself; what
//! is caught or blocked is posted to the process's signal port, where the
//! signal thread consults this state (docs/process-server.md, "Signals").
//! No locking, no Mach: the platform layer holds a lock around it.
#![forbid(unsafe_code)]

use crate::errno_table::EINVAL;

/// Signals are 1..=64.
pub const SIGNAL_COUNT: i32 = 64;
pub const SIGINT: i32 = 2;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGALRM: i32 = 14;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTTOU: i32 = 22;

/// `sa_handler` values.
pub const HANDLER_DEFAULT: usize = 0;
pub const HANDLER_IGNORE: usize = 1;

/// `<signal.h>`'s `sa_flags` bits.
pub const SA_NOCLDSTOP: u64 = 1;
pub const SA_NOCLDWAIT: u64 = 2;
pub const SA_SIGINFO: u64 = 4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `si_code` values.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;

/// `sigprocmask`'s `how`.
pub const SIG_BLOCK: i32 = 0;
pub const SIG_UNBLOCK: i32 = 1;
pub const SIG_SETMASK: i32 = 2;

/// The bit of `signal` in a 64-bit set (0 for a number out of range).
pub const fn bit(signal: i32) -> u64 {
    if signal >= 1 && signal <= SIGNAL_COUNT {
        1u64 << (signal - 1)
    } else {
        0
    }
}

/// SIGKILL and SIGSTOP: never caught, ignored or blocked.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// A signal's action: handler (0 default, 1 ignore, else a function), the
/// `SA_*` flags and the set blocked while the handler runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    pub handler: usize,
    pub flags: u64,
    pub mask: u64,
}

impl Action {
    pub fn is_caught(&self) -> bool {
        self.handler > HANDLER_IGNORE
    }
}

/// What a signal does by default (Linux's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    /// Terminate, with a core dump reported in the status.
    Core,
    Stop,
    Continue,
    Ignore,
}

pub fn default_action(signal: i32) -> DefaultAction {
    match signal {
        3 | 4 | 5 | 6 | 7 | 8 | 11 | 24 | 25 | 31 => DefaultAction::Core,
        17 | 23 | 28 => DefaultAction::Ignore,
        18 => DefaultAction::Continue,
        19..=22 => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}

/// A signal's `siginfo_t` fields, as `signal.defs` carries them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Information {
    pub signal: i32,
    pub code: i32,
    pub error: i32,
    pub pid: i32,
    pub uid: u32,
    pub status: i32,
    pub address: u64,
}

/// What the process server needs to know (proc's `set_dispositions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub caught: u64,
    pub ignored: u64,
    pub blocked: u64,
    pub no_child_stop: bool,
    pub no_child_wait: bool,
}

impl Summary {
    /// Whether the process server, holding `self`, must be told `now`: any
    /// change of the caught or ignored sets or of SIGCHLD's flags, and a
    /// change of the blocked set where the server applies default actions
    /// (a caught or ignored signal's blocking is this process's business).
    pub fn server_must_learn(&self, now: &Summary) -> bool {
        let defaulted = !(now.caught | now.ignored);
        self.caught != now.caught
            || self.ignored != now.ignored
            || self.no_child_stop != now.no_child_stop
            || self.no_child_wait != now.no_child_wait
            || (self.blocked ^ now.blocked) & defaulted != 0
    }
}

/// What to do with a signal that arrived or was unblocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Run the handler of `action` for `information`.
    Handle { information: Information, action: Action },
    /// Blocked: kept pending here until unblocked.
    Pending,
    /// Nothing to do (ignored, by choice or by default).
    Discard,
    /// Its action is the default, which the process server applies: tell it
    /// the current summary and send the signal to ourselves through it.
    Default(DefaultAction),
}

/// The state. `Default` is a process's at start: every action default,
/// nothing blocked or pending.
#[derive(Clone, Debug)]
pub struct SignalState {
    actions: [Action; SIGNAL_COUNT as usize],
    blocked: u64,
    pending: u64,
    pending_information: [Information; SIGNAL_COUNT as usize],
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState::new()
    }
}

const NO_ACTION: Action = Action { handler: HANDLER_DEFAULT, flags: 0, mask: 0 };
const NO_INFORMATION: Information = Information { signal: 0, code: 0, error: 0, pid: 0, uid: 0, status: 0, address: 0 };

fn index(signal: i32) -> Result<usize, i32> {
    if (1..=SIGNAL_COUNT).contains(&signal) {
        Ok(signal as usize - 1)
    } else {
        Err(EINVAL)
    }
}

impl SignalState {
    /// Every action default, nothing blocked or pending.
    pub const fn new() -> Self {
        SignalState {
            actions: [NO_ACTION; SIGNAL_COUNT as usize],
            blocked: 0,
            pending: 0,
            pending_information: [NO_INFORMATION; SIGNAL_COUNT as usize],
        }
    }

    /// A new image's state: `blocked` from the start block, `ignored` the
    /// signals the process server kept ignored across exec.
    pub fn starting(blocked: u64, ignored: u64) -> Self {
        let mut state = SignalState { blocked: blocked & !UNBLOCKABLE, ..SignalState::default() };
        for signal in 1..=SIGNAL_COUNT {
            if ignored & bit(signal) & !UNBLOCKABLE != 0 {
                state.actions[signal as usize - 1].handler = HANDLER_IGNORE;
            }
        }
        state
    }

    pub fn action(&self, signal: i32) -> Result<Action, i32> {
        Ok(self.actions[index(signal)?])
    }

    /// sigaction: installs `new` (if given) and returns the previous action.
    /// EINVAL for a bad number or for changing SIGKILL's or SIGSTOP's. A
    /// signal made ignored (explicitly, or a default that ignores) loses its
    /// pending instance, as POSIX says.
    pub fn set_action(&mut self, signal: i32, new: Option<Action>) -> Result<Action, i32> {
        let slot = index(signal)?;
        let old = self.actions[slot];
        if let Some(action) = new {
            if UNBLOCKABLE & bit(signal) != 0 {
                return Err(EINVAL);
            }
            self.actions[slot] = action;
            let ignores = action.handler == HANDLER_IGNORE
                || (action.handler == HANDLER_DEFAULT && default_action(signal) == DefaultAction::Ignore);
            if ignores {
                self.pending &= !bit(signal);
            }
        }
        Ok(old)
    }

    pub fn blocked(&self) -> u64 {
        self.blocked
    }

    /// sigprocmask: applies `how` with `set` (SIGKILL and SIGSTOP are left
    /// out silently) and returns the old mask. EINVAL for a bad `how`.
    pub fn change_blocked(&mut self, how: i32, set: u64) -> Result<u64, i32> {
        let old = self.blocked;
        self.blocked = match how {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(EINVAL),
        } & !UNBLOCKABLE;
        Ok(old)
    }

    /// Replaces the mask (a handler's return, sigsuspend's end).
    pub fn set_blocked(&mut self, mask: u64) {
        self.blocked = mask & !UNBLOCKABLE;
    }

    /// The signals pending here (blocked when they came).
    pub fn pending(&self) -> u64 {
        self.pending
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary { blocked: self.blocked, ..Summary::default() };
        for signal in 1..=SIGNAL_COUNT {
            let action = self.actions[signal as usize - 1];
            if action.is_caught() {
                summary.caught |= bit(signal);
            } else if action.handler == HANDLER_IGNORE {
                summary.ignored |= bit(signal);
            }
        }
        let child = self.actions[SIGCHLD as usize - 1];
        summary.no_child_stop = child.flags & SA_NOCLDSTOP != 0;
        summary.no_child_wait = child.flags & SA_NOCLDWAIT != 0;
        summary
    }

    /// Any handler installed (the process then needs its signal thread).
    pub fn catches_any(&self) -> bool {
        self.actions.iter().any(Action::is_caught)
    }

    /// A signal arrived (posted by the process server, or sent to
    /// ourselves): what to do with it now.
    pub fn arrive(&mut self, information: Information) -> Disposition {
        let Ok(slot) = index(information.signal) else {
            return Disposition::Discard;
        };
        let action = self.actions[slot];
        if action.handler == HANDLER_IGNORE && UNBLOCKABLE & bit(information.signal) == 0 {
            return Disposition::Discard;
        }
        if self.blocked & bit(information.signal) != 0 {
            // One instance of a standard signal is kept; a later one is lost.
            if self.pending & bit(information.signal) == 0 {
                self.pending |= bit(information.signal);
                self.pending_information[slot] = information;
            }
            return Disposition::Pending;
        }
        self.dispose(information, action)
    }

    fn dispose(&self, information: Information, action: Action) -> Disposition {
        if action.is_caught() {
            return Disposition::Handle { information, action };
        }
        match default_action(information.signal) {
            DefaultAction::Ignore => Disposition::Discard,
            other => Disposition::Default(other),
        }
    }

    /// The lowest pending signal that is no longer blocked, taken out of
    /// the pending set, with what to do with it.
    pub fn take_unblocked(&mut self) -> Option<(i32, Disposition)> {
        let ready = self.pending & !self.blocked;
        if ready == 0 {
            return None;
        }
        let signal = ready.trailing_zeros() as i32 + 1;
        self.pending &= !bit(signal);
        let information = self.pending_information[signal as usize - 1];
        Some((signal, self.dispose(information, self.actions[signal as usize - 1])))
    }

    /// Keeps a signal pending that is not blocked: it came while its
    /// handler could not run yet (a critical section), and
    /// [`SignalState::take_unblocked`] gives it back when that ends.
    pub fn defer(&mut self, information: Information) {
        if let Ok(slot) = index(information.signal) {
            if self.pending & bit(information.signal) == 0 {
                self.pending |= bit(information.signal);
                self.pending_information[slot] = information;
            }
        }
    }

    /// A handler of `signal` starts: blocks its mask (and the signal
    /// itself unless `SA_NODEFER`), resets the action for `SA_RESETHAND`.
    /// Returns the mask to restore when the handler returns.
    pub fn begin_handler(&mut self, signal: i32, action: Action) -> u64 {
        let old = self.blocked;
        let mut mask = action.mask;
        if action.flags & SA_NODEFER == 0 {
            mask |= bit(signal);
        }
        self.blocked = (old | mask) & !UNBLOCKABLE;
        if action.flags & SA_RESETHAND != 0 {
            if let Ok(slot) = index(signal) {
                self.actions[slot] = Action::default();
            }
        }
        old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGUSR1: i32 = 10;
    const SIGUSR2: i32 = 12;

    fn sent(signal: i32) -> Information {
        Information { signal, code: SI_USER, pid: 7, ..Information::default() }
    }

    fn handler(flags: u64, mask: u64) -> Action {
        Action { handler: 0x401000, flags, mask }
    }

    #[test]
    fn a_caught_signal_is_handled_with_its_mask_and_then_restored() {
        let mut state = SignalState::default();
        state.set_action(SIGUSR1, Some(handler(SA_RESTART, bit(SIGUSR2)))).unwrap();
        let Disposition::Handle { information, action } = state.arrive(sent(SIGUSR1)) else { panic!() };
        assert_eq!(information.pid, 7);
        let old = state.begin_handler(SIGUSR1, action);
        assert_eq!(old, 0);
        assert_eq!(state.blocked(), bit(SIGUSR1) | bit(SIGUSR2));
        // Another SIGUSR1 during the handler waits.
        assert_eq!(state.arrive(sent(SIGUSR1)), Disposition::Pending);
        state.set_blocked(old);
        assert!(matches!(state.take_unblocked(), Some((SIGUSR1, Disposition::Handle { .. }))));
        assert_eq!(state.take_unblocked(), None);
    }

    #[test]
    fn nodefer_and_resethand() {
        let mut state = SignalState::default();
        state.set_action(SIGUSR1, Some(handler(SA_NODEFER | SA_RESETHAND, 0))).unwrap();
        let Disposition::Handle { action, .. } = state.arrive(sent(SIGUSR1)) else { panic!() };
        state.begin_handler(SIGUSR1, action);
        assert_eq!(state.blocked(), 0, "SA_NODEFER leaves the signal unblocked");
        assert_eq!(state.action(SIGUSR1).unwrap(), Action::default(), "SA_RESETHAND reset it");
        assert_eq!(state.arrive(sent(SIGUSR1)), Disposition::Default(DefaultAction::Terminate));
    }

    #[test]
    fn blocked_signals_wait_and_one_instance_is_kept() {
        let mut state = SignalState::default();
        state.set_action(SIGUSR2, Some(handler(0, 0))).unwrap();
        state.change_blocked(SIG_BLOCK, bit(SIGUSR2) | bit(SIGUSR1)).unwrap();
        assert_eq!(state.arrive(Information { status: 1, ..sent(SIGUSR2) }), Disposition::Pending);
        assert_eq!(state.arrive(Information { status: 2, ..sent(SIGUSR2) }), Disposition::Pending);
        assert_eq!(state.arrive(sent(SIGUSR1)), Disposition::Pending);
        assert_eq!(state.pending(), bit(SIGUSR1) | bit(SIGUSR2));
        state.change_blocked(SIG_UNBLOCK, u64::MAX).unwrap();
        // The lowest first: SIGUSR1's default action, then SIGUSR2's handler with the first instance.
        assert_eq!(state.take_unblocked(), Some((SIGUSR1, Disposition::Default(DefaultAction::Terminate))));
        let Some((SIGUSR2, Disposition::Handle { information, .. })) = state.take_unblocked() else { panic!() };
        assert_eq!(information.status, 1);
        assert_eq!(state.pending(), 0);
    }

    #[test]
    fn a_deferred_signal_waits_unblocked_until_taken() {
        let mut state = SignalState::default();
        state.set_action(SIGUSR1, Some(handler(0, 0))).unwrap();
        state.defer(sent(SIGUSR1));
        state.defer(Information { status: 9, ..sent(SIGUSR1) });
        assert_eq!(state.pending(), bit(SIGUSR1));
        let Some((SIGUSR1, Disposition::Handle { information, .. })) = state.take_unblocked() else { panic!() };
        assert_eq!(information.status, 0, "the first instance");
        assert_eq!(state.take_unblocked(), None);
    }

    #[test]
    fn kill_and_stop_are_never_caught_blocked_or_ignored() {
        let mut state = SignalState::default();
        assert_eq!(state.set_action(SIGKILL, Some(handler(0, 0))), Err(EINVAL));
        assert_eq!(
            state.set_action(SIGSTOP, Some(Action { handler: HANDLER_IGNORE, ..Action::default() })),
            Err(EINVAL)
        );
        assert_eq!(state.set_action(SIGKILL, None), Ok(Action::default()), "asking is fine");
        state.change_blocked(SIG_SETMASK, u64::MAX).unwrap();
        assert_eq!(state.blocked(), !UNBLOCKABLE);
        assert_eq!(state.arrive(sent(SIGKILL)), Disposition::Default(DefaultAction::Terminate));
        assert_eq!(state.set_action(0, None), Err(EINVAL));
        assert_eq!(state.set_action(65, None), Err(EINVAL));
        assert_eq!(state.change_blocked(7, 0), Err(EINVAL));
    }

    #[test]
    fn ignoring_a_pending_signal_discards_it() {
        let mut state = SignalState::default();
        state.change_blocked(SIG_BLOCK, bit(SIGUSR1) | bit(SIGCHLD)).unwrap();
        state.arrive(sent(SIGUSR1));
        state.arrive(sent(SIGCHLD));
        state.set_action(SIGUSR1, Some(Action { handler: HANDLER_IGNORE, ..Action::default() })).unwrap();
        assert_eq!(state.pending(), bit(SIGCHLD));
        state.set_action(SIGCHLD, Some(Action::default())).unwrap();
        assert_eq!(state.pending(), 0, "SIGCHLD's default is to ignore");
        assert_eq!(state.arrive(sent(SIGUSR1)), Disposition::Discard);
    }

    #[test]
    fn the_summary_is_what_the_process_server_needs() {
        let mut state = SignalState::starting(bit(SIGUSR2) | bit(SIGKILL), bit(SIGINT));
        assert_eq!(state.blocked(), bit(SIGUSR2));
        assert_eq!(state.action(SIGINT).unwrap().handler, HANDLER_IGNORE);
        state.set_action(SIGUSR1, Some(handler(0, 0))).unwrap();
        state.set_action(SIGCHLD, Some(Action { handler: HANDLER_DEFAULT, flags: SA_NOCLDSTOP, mask: 0 })).unwrap();
        let summary = state.summary();
        assert_eq!(summary.caught, bit(SIGUSR1));
        assert_eq!(summary.ignored, bit(SIGINT));
        assert_eq!(summary.blocked, bit(SIGUSR2));
        assert!(summary.no_child_stop && !summary.no_child_wait);
        assert!(state.catches_any());
    }

    #[test]
    fn ignoring_a_signal_after_exec_is_news_to_the_server() {
        // What exec left the server with is the starting state's summary;
        // ignoring SIGINT (system()'s first step) must be told, or the
        // server applies SIGINT's default action and ends the caller.
        let mut state = SignalState::starting(0, 0);
        let told = state.summary();
        state.set_action(SIGINT, Some(Action { handler: HANDLER_IGNORE, ..Action::default() })).unwrap();
        assert!(told.server_must_learn(&state.summary()));
        // Blocking a caught signal is not the server's business; blocking a
        // defaulted one is (it holds it).
        let mut state = SignalState::starting(0, 0);
        state.set_action(SIGUSR1, Some(handler(0, 0))).unwrap();
        let told = state.summary();
        state.change_blocked(SIG_BLOCK, bit(SIGUSR1)).unwrap();
        assert!(!told.server_must_learn(&state.summary()));
        state.change_blocked(SIG_BLOCK, bit(SIGUSR2)).unwrap();
        assert!(told.server_must_learn(&state.summary()));
        assert!(!state.summary().server_must_learn(&state.summary()));
    }

    #[test]
    fn default_actions_follow_linux() {
        assert_eq!(default_action(SIGSEGV), DefaultAction::Core);
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGCONT), DefaultAction::Continue);
        assert_eq!(default_action(SIGTTOU), DefaultAction::Stop);
        assert_eq!(default_action(SIGALRM), DefaultAction::Terminate);
        assert_eq!(default_action(40), DefaultAction::Terminate);
    }
}
