//! The process table: processes, groups, sessions, and every rule that
//! relates them.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use crate::credentials::Credentials;
use crate::limits::{resource, Limits};
use crate::signal::{ChildCode, DefaultAction, Disposition, Dispositions, Origin, Signal, SignalSet};
use crate::status::WaitStatus;
use crate::Errno;

/// A process id (also names process groups and sessions, by their leader).
pub type Pid = u32;

/// The first process: reaps orphans; its death ends the system.
pub const INIT: Pid = 1;
/// Pids are taken from 2 up to this, then from 2 again.
pub const PID_MAX: Pid = 32_767;
/// Longest command line kept for the process listing.
pub const COMMAND_MAX: usize = 256;

/// Which terminal, as the console server numbers them.
pub type TerminalId = u32;

/// What a process is doing, as the table sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    Stopped(Signal),
    /// Ended, not yet reaped by its parent's `wait`.
    Zombie(WaitStatus),
}

/// A stop or continue the parent has not collected with `wait` yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Report {
    Stopped(Signal),
    Continued,
}

/// CPU time in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub user_milliseconds: u64,
    pub system_milliseconds: u64,
}

impl Usage {
    fn add(&mut self, other: Usage) {
        self.user_milliseconds += other.user_milliseconds;
        self.system_milliseconds += other.system_milliseconds;
    }
}

/// The real-time interval timer (`alarm`, `setitimer(ITIMER_REAL)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    /// When it fires next, in milliseconds since boot (0: disarmed).
    pub deadline: u64,
    /// Rearmed by this much after firing (0: once).
    pub interval: u64,
}

/// One process.
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: Pid,
    pub parent: Pid,
    pub group: Pid,
    pub session: Pid,
    pub state: State,
    report: Option<Report>,
    pub credentials: Credentials,
    pub dispositions: Dispositions,
    pub limits: Limits,
    /// It has called exec since fork (its parent may no longer change its group).
    pub has_execed: bool,
    /// The command line, for `ps` (bounded).
    pub command: String,
    pub started_at: u64,
    /// Its own CPU time, as last reported by the server.
    pub usage: Usage,
    /// Its reaped children's CPU time (`RUSAGE_CHILDREN`).
    pub children_usage: Usage,
    pub timer: Timer,
    children: BTreeSet<Pid>,
}

impl Process {
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, State::Zombie(_))
    }

    pub fn children(&self) -> impl Iterator<Item = Pid> + '_ {
        self.children.iter().copied()
    }
}

#[derive(Clone, Debug, Default)]
struct Group {
    session: Pid,
    members: BTreeSet<Pid>,
}

#[derive(Clone, Debug, Default)]
struct Session {
    terminal: Option<TerminalId>,
    foreground: Option<Pid>,
    groups: BTreeSet<Pid>,
}

/// What the server must do after an operation, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// End the process's task (it is a zombie now).
    Terminate { pid: Pid },
    /// Stop every thread of the task (job control stop).
    Suspend { pid: Pid },
    /// Let it run again (SIGCONT).
    Resume { pid: Pid },
    /// Send the signal to the process's signal port (it catches it, or has
    /// it blocked and decides later).
    Post { pid: Pid, signal: Signal, origin: Origin },
    /// Parked `wait` calls of this process may complete now: run them again.
    WakeWaiters { parent: Pid },
    /// The process is gone from the table (reaped): release what the server
    /// holds for it.
    Reaped { pid: Pid },
    /// The process's ids, group or session changed: update its kernel credential.
    UpdateCredential { pid: Pid },
    /// The terminal no longer belongs to a session.
    TerminalReleased { terminal: TerminalId },
}

/// Who sends a signal.
#[derive(Clone, Debug)]
pub enum Sender {
    Process(Pid),
    /// The console (^C and friends), the system, a timer: always permitted.
    System(Origin),
}

/// What [`ProcessTable::job_control`] did (the console server's answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobControl {
    /// The group got the signal.
    Signalled = 0,
    /// The process ignores or blocks it.
    IgnoredOrBlocked = 1,
    /// Its group is orphaned.
    Orphaned = 2,
}

/// `kill`'s first argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillTarget {
    /// `pid > 0`.
    Process(Pid),
    /// `pid < -1`: the group `-pid`.
    Group(Pid),
    /// `pid == 0`: the sender's own group.
    OwnGroup,
    /// `pid == -1`: every process the sender may signal except init and itself.
    All,
}

impl KillTarget {
    /// From `kill`'s `pid_t` argument.
    pub fn from_pid_argument(pid: i32) -> KillTarget {
        match pid {
            0 => KillTarget::OwnGroup,
            -1 => KillTarget::All,
            pid if pid < 0 => KillTarget::Group(pid.unsigned_abs()),
            pid => KillTarget::Process(pid as Pid),
        }
    }
}

/// Which children a `wait` is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitSelector {
    Child(Pid),
    AnyChild,
    /// Children in the caller's own group (`pid == 0`).
    OwnGroup,
    Group(Pid),
}

impl WaitSelector {
    /// From `waitpid`'s `pid_t` argument.
    pub fn from_pid_argument(pid: i32) -> WaitSelector {
        match pid {
            -1 => WaitSelector::AnyChild,
            0 => WaitSelector::OwnGroup,
            pid if pid < 0 => WaitSelector::Group(pid.unsigned_abs()),
            pid => WaitSelector::Child(pid as Pid),
        }
    }
}

/// `wait` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitOptions {
    pub no_hang: bool,
    pub untraced: bool,
    pub continued: bool,
}

/// What a `wait` gets now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// A child's state change; for an ended child, its usage (the child is
    /// reaped).
    Child { pid: Pid, status: WaitStatus, usage: Usage },
    /// `WNOHANG` and nothing to report: `wait` returns 0.
    NothingYet,
    /// The call must wait; run it again after a [`Effect::WakeWaiters`] for the caller.
    MustWait,
}

/// The table.
#[derive(Clone, Debug, Default)]
pub struct ProcessTable {
    processes: BTreeMap<Pid, Process>,
    groups: BTreeMap<Pid, Group>,
    sessions: BTreeMap<Pid, Session>,
    terminals: BTreeMap<TerminalId, Pid>,
    next_pid: Pid,
}

fn bounded_command(command: &str) -> String {
    let mut end = command.len().min(COMMAND_MAX);
    while !command.is_char_boundary(end) {
        end -= 1;
    }
    String::from(&command[..end])
}

impl ProcessTable {
    /// A table holding only init (pid 1, its own group and session, root).
    pub fn new(init_command: &str, now: u64) -> ProcessTable {
        let mut table = ProcessTable { next_pid: 2, ..ProcessTable::default() };
        table.processes.insert(
            INIT,
            Process {
                pid: INIT,
                parent: 0,
                group: INIT,
                session: INIT,
                state: State::Running,
                report: None,
                credentials: Credentials::root(),
                dispositions: Dispositions::default(),
                limits: Limits::default(),
                has_execed: true,
                command: bounded_command(init_command),
                started_at: now,
                usage: Usage::default(),
                children_usage: Usage::default(),
                timer: Timer::default(),
                children: BTreeSet::new(),
            },
        );
        table.groups.insert(INIT, Group { session: INIT, members: [INIT].into_iter().collect() });
        table.sessions.insert(INIT, Session { groups: [INIT].into_iter().collect(), ..Session::default() });
        table
    }

    pub fn get(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(&pid)
    }

    /// Every process, zombies included, by pid.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.processes.values()
    }

    fn process(&self, pid: Pid) -> Result<&Process, Errno> {
        self.processes.get(&pid).ok_or(Errno::ESRCH)
    }

    fn process_mut(&mut self, pid: Pid) -> Result<&mut Process, Errno> {
        self.processes.get_mut(&pid).ok_or(Errno::ESRCH)
    }

    /// A living (not zombie) process.
    fn living(&self, pid: Pid) -> Result<&Process, Errno> {
        self.process(pid).and_then(|process| if process.is_zombie() { Err(Errno::ESRCH) } else { Ok(process) })
    }

    /// The terminal of a session, if it has one.
    pub fn terminal_of_session(&self, session: Pid) -> Option<TerminalId> {
        self.sessions.get(&session).and_then(|session| session.terminal)
    }

    /// The foreground process group of a terminal.
    pub fn foreground(&self, terminal: TerminalId) -> Option<Pid> {
        let session = self.terminals.get(&terminal)?;
        self.sessions.get(session)?.foreground
    }

    fn pid_in_use(&self, pid: Pid) -> bool {
        self.processes.contains_key(&pid) || self.groups.contains_key(&pid) || self.sessions.contains_key(&pid)
    }

    fn allocate_pid(&mut self) -> Option<Pid> {
        for _ in 0..PID_MAX {
            let candidate = self.next_pid;
            self.next_pid = if self.next_pid >= PID_MAX { 2 } else { self.next_pid + 1 };
            if !self.pid_in_use(candidate) {
                return Some(candidate);
            }
        }
        None
    }

    /// How many processes (zombies included) have this real user id.
    fn processes_of_user(&self, user: u32) -> u64 {
        self.processes.values().filter(|process| process.credentials.real_user == user).count() as u64
    }

    /// `fork`: a child in the parent's group and session, with its
    /// credentials, dispositions and limits. `EAGAIN` past `RLIMIT_NPROC`
    /// (for an unprivileged parent) or when no pid is free.
    pub fn fork(&mut self, parent: Pid, now: u64) -> Result<Pid, Errno> {
        let parent_process = self.living(parent)?;
        let user = parent_process.credentials.real_user;
        let limit = parent_process.limits.current(resource::PROCESSES);
        if !parent_process.credentials.is_privileged() && self.processes_of_user(user) >= limit {
            return Err(Errno::EAGAIN);
        }
        let mut child = parent_process.clone();
        let pid = self.allocate_pid().ok_or(Errno::EAGAIN)?;
        child.pid = pid;
        child.parent = parent;
        child.state = State::Running;
        child.report = None;
        child.has_execed = false;
        child.started_at = now;
        child.usage = Usage::default();
        child.children_usage = Usage::default();
        child.timer = Timer::default();
        child.children = BTreeSet::new();
        let group = child.group;
        self.processes.insert(pid, child);
        self.process_mut(parent)?.children.insert(pid);
        self.groups.entry(group).or_default().members.insert(pid);
        Ok(pid)
    }

    /// Undoes a [`Self::fork`] whose child never ran (its task could not
    /// be made): it goes from the table with no zombie, no SIGCHLD and no
    /// trace in its parent.
    pub fn abandon_fork(&mut self, child: Pid) {
        let Some(process) = self.processes.get(&child) else { return };
        if !process.children.is_empty() {
            return;
        }
        let parent = process.parent;
        self.leave_group(child);
        self.processes.remove(&child);
        if let Some(parent) = self.processes.get_mut(&parent) {
            parent.children.remove(&child);
        }
    }

    /// `execve` succeeded: caught signals go back to default, set-id bits
    /// take effect, the command line is the new one.
    pub fn exec(
        &mut self,
        pid: Pid,
        command: &str,
        set_user: Option<u32>,
        set_group: Option<u32>,
        blocked: SignalSet,
    ) -> Result<Vec<Effect>, Errno> {
        let process = self.processes.get_mut(&pid).filter(|process| !process.is_zombie()).ok_or(Errno::ESRCH)?;
        process.has_execed = true;
        process.dispositions = process.dispositions.after_exec(blocked);
        process.command = bounded_command(command);
        process.credentials.exec(set_user, set_group);
        Ok(alloc::vec![Effect::UpdateCredential { pid }])
    }

    /// Changes a process's credentials through `change` (the setuid family).
    pub fn change_credentials(
        &mut self,
        pid: Pid,
        change: impl FnOnce(&mut Credentials) -> Result<(), Errno>,
    ) -> Result<Vec<Effect>, Errno> {
        let process = self.processes.get_mut(&pid).filter(|process| !process.is_zombie()).ok_or(Errno::ESRCH)?;
        change(&mut process.credentials)?;
        Ok(alloc::vec![Effect::UpdateCredential { pid }])
    }

    /// The process's summary of dispositions changed (`sigaction`, or a
    /// blocked signal it wants posted). Setting SIGCHLD to ignore reaps the
    /// zombies it has.
    pub fn set_dispositions(&mut self, pid: Pid, dispositions: Dispositions) -> Result<Vec<Effect>, Errno> {
        let process = self.processes.get_mut(&pid).filter(|process| !process.is_zombie()).ok_or(Errno::ESRCH)?;
        process.dispositions = dispositions;
        let mut effects = Vec::new();
        if dispositions.reaps_children_at_once() {
            let children: Vec<Pid> = process.children.iter().copied().collect();
            let zombies: Vec<Pid> = children.into_iter().filter(|child| self.processes[child].is_zombie()).collect();
            for zombie in zombies {
                self.reap(zombie, &mut effects);
            }
            effects.push(Effect::WakeWaiters { parent: pid });
        }
        Ok(effects)
    }

    /// Records the CPU time the server read from the task.
    pub fn record_usage(&mut self, pid: Pid, usage: Usage) {
        if let Some(process) = self.processes.get_mut(&pid) {
            process.usage = usage;
        }
    }

    pub fn limits(&self, pid: Pid) -> Result<&Limits, Errno> {
        Ok(&self.living(pid)?.limits)
    }

    /// `setrlimit` (privileged processes may raise hard limits).
    pub fn set_limit(&mut self, pid: Pid, resource: u32, limit: crate::limits::Limit) -> Result<(), Errno> {
        let process = self.processes.get_mut(&pid).filter(|process| !process.is_zombie()).ok_or(Errno::ESRCH)?;
        let privileged = process.credentials.is_privileged();
        process.limits.set(resource, limit, privileged)
    }

    // ----- groups and sessions -------------------------------------------------

    /// `setpgid(pid, group)` called by `caller` (0s already replaced: `pid`
    /// 0 is the caller, `group` 0 is `pid`).
    pub fn set_process_group(&mut self, caller: Pid, pid: Pid, group: Pid) -> Result<Vec<Effect>, Errno> {
        let caller_process = self.living(caller)?;
        let target = self.living(pid)?;
        if pid != caller && target.parent != caller {
            return Err(Errno::ESRCH);
        }
        if pid != caller && target.has_execed {
            return Err(Errno::EACCES);
        }
        if target.session != caller_process.session || target.session == pid {
            return Err(Errno::EPERM);
        }
        if group != pid && self.groups.get(&group).is_none_or(|existing| existing.session != target.session) {
            return Err(Errno::EPERM);
        }
        let session = target.session;
        let old_group = target.group;
        if old_group == group {
            return Ok(Vec::new());
        }
        let mut effects = Vec::new();
        let before = self.orphan_candidates(pid);
        self.leave_group(pid);
        self.groups.entry(group).or_insert_with(|| Group { session, members: BTreeSet::new() }).members.insert(pid);
        self.sessions.entry(session).or_default().groups.insert(group);
        self.process_mut(pid)?.group = group;
        effects.push(Effect::UpdateCredential { pid });
        self.handle_newly_orphaned(before, &mut effects);
        Ok(effects)
    }

    /// `setsid`: a new session and group led by the caller, without a
    /// terminal. Refused for a group leader.
    pub fn new_session(&mut self, caller: Pid) -> Result<(Pid, Vec<Effect>), Errno> {
        self.living(caller)?;
        if self.groups.contains_key(&caller) {
            return Err(Errno::EPERM);
        }
        let mut effects = Vec::new();
        let before = self.orphan_candidates(caller);
        self.leave_group(caller);
        self.groups.insert(caller, Group { session: caller, members: [caller].into_iter().collect() });
        self.sessions.insert(caller, Session { groups: [caller].into_iter().collect(), ..Session::default() });
        let process = self.process_mut(caller)?;
        process.group = caller;
        process.session = caller;
        effects.push(Effect::UpdateCredential { pid: caller });
        self.handle_newly_orphaned(before, &mut effects);
        Ok((caller, effects))
    }

    /// Takes `pid` out of its group, removing the group (and an emptied
    /// session) when it was the last member.
    fn leave_group(&mut self, pid: Pid) {
        let Some(process) = self.processes.get(&pid) else { return };
        let (group, session) = (process.group, process.session);
        let Some(entry) = self.groups.get_mut(&group) else { return };
        entry.members.remove(&pid);
        if !entry.members.is_empty() {
            return;
        }
        self.groups.remove(&group);
        if let Some(entry) = self.sessions.get_mut(&session) {
            entry.groups.remove(&group);
            if entry.foreground == Some(group) {
                entry.foreground = None;
            }
            if entry.groups.is_empty() {
                if let Some(terminal) = entry.terminal {
                    self.terminals.remove(&terminal);
                }
                self.sessions.remove(&session);
            }
        }
    }

    pub fn process_group(&self, pid: Pid) -> Result<Pid, Errno> {
        Ok(self.process(pid)?.group)
    }

    pub fn session(&self, pid: Pid) -> Result<Pid, Errno> {
        Ok(self.process(pid)?.session)
    }

    /// `TIOCSCTTY`: the caller, a session leader without a terminal, makes
    /// `terminal` its session's controlling terminal. A terminal already
    /// controlling another session is taken only with `steal` by a
    /// privileged caller.
    pub fn set_controlling_terminal(&mut self, caller: Pid, terminal: TerminalId, steal: bool) -> Result<(), Errno> {
        let process = self.living(caller)?;
        let (session, privileged) = (process.session, process.credentials.is_privileged());
        if session != caller || self.sessions.get(&session).is_some_and(|entry| entry.terminal.is_some()) {
            return Err(Errno::EPERM);
        }
        if let Some(&owner) = self.terminals.get(&terminal) {
            if !(steal && privileged) {
                return Err(Errno::EPERM);
            }
            if let Some(entry) = self.sessions.get_mut(&owner) {
                entry.terminal = None;
                entry.foreground = None;
            }
        }
        self.terminals.insert(terminal, session);
        let group = self.process(caller)?.group;
        let entry = self.sessions.entry(session).or_default();
        entry.terminal = Some(terminal);
        entry.foreground = Some(group);
        Ok(())
    }

    /// `tcsetpgrp`: the caller's session must own the terminal and `group`
    /// must be one of its groups.
    pub fn set_foreground(&mut self, caller: Pid, terminal: TerminalId, group: Pid) -> Result<(), Errno> {
        let session = self.living(caller)?.session;
        if self.terminals.get(&terminal) != Some(&session) {
            return Err(Errno::ENOTTY);
        }
        if self.groups.get(&group).is_none_or(|entry| entry.session != session) {
            return Err(Errno::EPERM);
        }
        self.sessions.entry(session).or_default().foreground = Some(group);
        Ok(())
    }

    /// The terminal went away (hangup): SIGHUP and SIGCONT to its
    /// foreground group, and the session loses it.
    pub fn hang_up(&mut self, terminal: TerminalId) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(session) = self.terminals.remove(&terminal) else { return effects };
        let foreground = self.sessions.get_mut(&session).and_then(|entry| {
            entry.terminal = None;
            entry.foreground.take()
        });
        if let Some(group) = foreground {
            self.signal_group(group, Signal::HANGUP, Origin::Terminal, &mut effects);
            self.signal_group(group, Signal::CONTINUE, Origin::Terminal, &mut effects);
        }
        effects.push(Effect::TerminalReleased { terminal });
        effects
    }

    // ----- orphaned process groups --------------------------------------------

    /// Is `group` a process group of session `session`? (tcsetpgrp's check.)
    pub fn group_in_session(&self, group: Pid, session: Pid) -> bool {
        self.groups.get(&group).is_some_and(|entry| entry.session == session)
    }

    /// Job control: process `pid` of group `group` used its controlling
    /// terminal from the background with `signal` (SIGTTIN or SIGTTOU)
    /// guarding it. If it ignores or blocks the signal, nothing is sent;
    /// if its group is orphaned, nothing is sent either (the terminal
    /// answers EIO); otherwise the whole group gets the signal.
    pub fn job_control(&mut self, pid: Pid, group: Pid, signal: Signal) -> Result<(JobControl, Vec<Effect>), Errno> {
        let process = self.living(pid)?;
        if process.group != group {
            return Err(Errno::ESRCH);
        }
        if process.dispositions.ignores_or_blocks(signal) {
            return Ok((JobControl::IgnoredOrBlocked, Vec::new()));
        }
        if self.is_orphaned(group) {
            return Ok((JobControl::Orphaned, Vec::new()));
        }
        let mut effects = Vec::new();
        self.signal_group(group, signal, Origin::Terminal, &mut effects);
        Ok((JobControl::Signalled, effects))
    }

    /// A group is orphaned when no living member has a living parent in
    /// another group of the same session.
    pub fn is_orphaned(&self, group: Pid) -> bool {
        let Some(entry) = self.groups.get(&group) else { return false };
        !entry
            .members
            .iter()
            .filter_map(|member| self.processes.get(member))
            .filter(|process| !process.is_zombie())
            .any(|process| {
                self.processes.get(&process.parent).is_some_and(|parent| {
                    !parent.is_zombie() && parent.group != group && parent.session == entry.session
                })
            })
    }

    /// The groups whose orphan status may change when `pid` changes group
    /// or ends: its own and its children's, with their status now.
    fn orphan_candidates(&self, pid: Pid) -> Vec<(Pid, bool)> {
        let Some(process) = self.processes.get(&pid) else { return Vec::new() };
        let mut groups: BTreeSet<Pid> =
            process.children.iter().filter_map(|child| self.processes.get(child)).map(|child| child.group).collect();
        groups.insert(process.group);
        groups.into_iter().map(|group| (group, self.is_orphaned(group))).collect()
    }

    /// POSIX: a group that becomes orphaned with a stopped member gets
    /// SIGHUP then SIGCONT, so nothing stays stopped with nobody to
    /// continue it.
    fn handle_newly_orphaned(&mut self, before: Vec<(Pid, bool)>, effects: &mut Vec<Effect>) {
        for (group, was_orphaned) in before {
            if was_orphaned || !self.is_orphaned(group) {
                continue;
            }
            let has_stopped = self.groups.get(&group).is_some_and(|entry| {
                entry.members.iter().any(|member| matches!(self.processes[member].state, State::Stopped(_)))
            });
            if has_stopped {
                self.signal_group(group, Signal::HANGUP, Origin::System, effects);
                self.signal_group(group, Signal::CONTINUE, Origin::System, effects);
            }
        }
    }

    // ----- signals ------------------------------------------------------------------

    /// `kill`: the permission rules, then each permitted target gets the
    /// signal (`None`: only check, `kill(pid, 0)`).
    pub fn kill(&mut self, sender: &Sender, target: KillTarget, signal: Option<Signal>) -> Result<Vec<Effect>, Errno> {
        let sender_pid = match sender {
            Sender::Process(pid) => Some(*pid),
            Sender::System(_) => None,
        };
        let candidates: Vec<Pid> = match target {
            KillTarget::Process(pid) => self.processes.contains_key(&pid).then_some(pid).into_iter().collect(),
            KillTarget::Group(group) => self.members(group),
            KillTarget::OwnGroup => {
                let pid = sender_pid.ok_or(Errno::ESRCH)?;
                self.members(self.process(pid)?.group)
            }
            KillTarget::All => {
                self.processes.keys().copied().filter(|&pid| pid != INIT && Some(pid) != sender_pid).collect()
            }
        };
        if candidates.is_empty() {
            return Err(Errno::ESRCH);
        }
        let permitted: Vec<Pid> = candidates.into_iter().filter(|&pid| self.may_signal(sender, pid, signal)).collect();
        if permitted.is_empty() {
            return Err(Errno::EPERM);
        }
        let mut effects = Vec::new();
        if let Some(signal) = signal {
            let origin = match sender {
                Sender::Process(pid) => Origin::Process {
                    pid: *pid,
                    uid: self.process(*pid).map_or(0, |process| process.credentials.real_user),
                },
                Sender::System(origin) => *origin,
            };
            for pid in permitted {
                self.deliver(pid, signal, origin, &mut effects);
            }
        }
        Ok(effects)
    }

    fn members(&self, group: Pid) -> Vec<Pid> {
        self.groups.get(&group).map(|entry| entry.members.iter().copied().collect()).unwrap_or_default()
    }

    fn may_signal(&self, sender: &Sender, target: Pid, signal: Option<Signal>) -> bool {
        let Sender::Process(pid) = sender else { return true };
        let (Some(sender), Some(target)) = (self.processes.get(pid), self.processes.get(&target)) else {
            return false;
        };
        sender.credentials.may_signal(&target.credentials)
            || (signal == Some(Signal::CONTINUE) && sender.session == target.session)
    }

    /// Sends `signal` from the system (a terminal, a timer, a fault, a
    /// broken pipe) to one process, with no permission check.
    pub fn signal(&mut self, pid: Pid, signal: Signal, origin: Origin) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.deliver(pid, signal, origin, &mut effects);
        effects
    }

    /// Sends `signal` to every member of a group (the terminal's ^C).
    pub fn signal_process_group(&mut self, group: Pid, signal: Signal, origin: Origin) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.signal_group(group, signal, origin, &mut effects);
        effects
    }

    fn signal_group(&mut self, group: Pid, signal: Signal, origin: Origin, effects: &mut Vec<Effect>) {
        for pid in self.members(group) {
            self.deliver(pid, signal, origin, effects);
        }
    }

    /// What a signal does to one process.
    fn deliver(&mut self, pid: Pid, signal: Signal, origin: Origin, effects: &mut Vec<Effect>) {
        let Some(process) = self.processes.get(&pid) else { return };
        if process.is_zombie() {
            return;
        }
        let disposition = process.dispositions.of(signal);
        let group = process.group;
        // As Linux protects init: only signals it catches reach it; no
        // default action (not even SIGKILL's or SIGSTOP's) applies to it.
        if pid == INIT && disposition != Disposition::Post {
            return;
        }
        if signal == Signal::CONTINUE {
            self.continue_process(pid, effects);
        }
        match disposition {
            Disposition::Ignore => {}
            Disposition::Post => effects.push(Effect::Post { pid, signal, origin }),
            Disposition::Default => match signal.default_action() {
                DefaultAction::Terminate => self.exit(pid, WaitStatus::Signaled { signal, core: false }, effects),
                DefaultAction::Core => self.exit(pid, WaitStatus::Signaled { signal, core: true }, effects),
                DefaultAction::Stop => {
                    if !(signal.is_terminal_stop() && self.is_orphaned(group)) {
                        self.stop_process(pid, signal, effects);
                    }
                }
                DefaultAction::Continue | DefaultAction::Ignore => {}
            },
        }
    }

    fn stop_process(&mut self, pid: Pid, signal: Signal, effects: &mut Vec<Effect>) {
        let Some(process) = self.processes.get_mut(&pid) else { return };
        if process.state != State::Running {
            return;
        }
        process.state = State::Stopped(signal);
        process.report = Some(Report::Stopped(signal));
        let (parent, uid) = (process.parent, process.credentials.real_user);
        effects.push(Effect::Suspend { pid });
        self.notify_parent(parent, pid, uid, ChildCode::Stopped, signal.number() as i32, effects);
    }

    fn continue_process(&mut self, pid: Pid, effects: &mut Vec<Effect>) {
        let Some(process) = self.processes.get_mut(&pid) else { return };
        if !matches!(process.state, State::Stopped(_)) {
            return;
        }
        process.state = State::Running;
        process.report = Some(Report::Continued);
        let (parent, uid) = (process.parent, process.credentials.real_user);
        effects.push(Effect::Resume { pid });
        self.notify_parent(parent, pid, uid, ChildCode::Continued, Signal::CONTINUE.number() as i32, effects);
    }

    /// SIGCHLD for a stop or continue (unless the parent set `SA_NOCLDSTOP`),
    /// and the parent's waiters woken.
    fn notify_parent(
        &mut self,
        parent: Pid,
        child: Pid,
        uid: u32,
        code: ChildCode,
        status: i32,
        effects: &mut Vec<Effect>,
    ) {
        let Some(parent_process) = self.processes.get(&parent) else { return };
        if !parent_process.dispositions.no_child_stop {
            let origin = Origin::Child { pid: child, uid, code, status };
            self.deliver(parent, Signal::CHILD, origin, effects);
        }
        effects.push(Effect::WakeWaiters { parent });
    }

    // ----- ending and waiting -----------------------------------------------------

    /// `_exit`, a fatal signal, or a task that died: the process becomes a
    /// zombie (or is reaped at once if its parent asked for that), its
    /// children go to init, its session loses its terminal if it led it,
    /// groups it orphans are told, and its parent gets SIGCHLD.
    pub fn exit_process(&mut self, pid: Pid, status: WaitStatus) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.exit(pid, status, &mut effects);
        effects
    }

    fn exit(&mut self, pid: Pid, status: WaitStatus, effects: &mut Vec<Effect>) {
        let Some(process) = self.processes.get(&pid) else { return };
        if process.is_zombie() {
            return;
        }
        let before = self.orphan_candidates(pid);
        let process = self.processes.get_mut(&pid).expect("checked above");
        process.state = State::Zombie(status);
        process.report = None;
        process.timer = Timer::default();
        let (parent, session, uid) = (process.parent, process.session, process.credentials.real_user);
        let children: Vec<Pid> = core::mem::take(&mut process.children).into_iter().collect();
        effects.push(Effect::Terminate { pid });

        // The controlling process of a terminal ends: its foreground group is
        // hung up and the terminal is free.
        if session == pid {
            if let Some(terminal) = self.terminal_of_session(session) {
                let released = self.hang_up(terminal);
                effects.extend(released);
            }
        }

        // Children go to init; zombies among them are init's to reap.
        let mut init_has_zombies = false;
        for child in children {
            if let Some(child_process) = self.processes.get_mut(&child) {
                child_process.parent = INIT;
                init_has_zombies |= child_process.is_zombie();
            }
            if let Some(init) = self.processes.get_mut(&INIT) {
                init.children.insert(child);
            }
        }
        if init_has_zombies && pid != INIT {
            effects.push(Effect::WakeWaiters { parent: INIT });
        }

        self.handle_newly_orphaned(before, effects);

        let code = match status {
            WaitStatus::Signaled { core: true, .. } => ChildCode::Dumped,
            WaitStatus::Signaled { .. } => ChildCode::Killed,
            _ => ChildCode::Exited,
        };
        // Init is never reaped: its end is the system's (the server shuts
        // down), and the table keeps it so every orphan still has a parent.
        let reap_at_once = pid != INIT
            && self.processes.get(&parent).is_none_or(|parent| parent.dispositions.reaps_children_at_once());
        if reap_at_once {
            self.reap(pid, effects);
        } else {
            let origin = Origin::Child { pid, uid, code, status: status.encode() };
            self.deliver(parent, Signal::CHILD, origin, effects);
        }
        effects.push(Effect::WakeWaiters { parent });
    }

    /// Removes a zombie from the table; its usage goes to its parent's
    /// children's usage.
    fn reap(&mut self, pid: Pid, effects: &mut Vec<Effect>) -> Usage {
        let Some(process) = self.processes.get(&pid) else { return Usage::default() };
        let mut usage = process.usage;
        usage.add(process.children_usage);
        let parent = process.parent;
        self.leave_group(pid);
        self.processes.remove(&pid);
        if let Some(parent) = self.processes.get_mut(&parent) {
            parent.children.remove(&pid);
            parent.children_usage.add(usage);
        }
        effects.push(Effect::Reaped { pid });
        usage
    }

    /// `wait4`: a child's change of state, if one matches; the child is
    /// reaped (or its report cleared) at once. [`Self::peek_wait`] and
    /// [`Self::consume_wait`] are the same in two steps.
    pub fn wait(
        &mut self,
        caller: Pid,
        selector: WaitSelector,
        options: WaitOptions,
    ) -> Result<(WaitOutcome, Vec<Effect>), Errno> {
        let outcome = self.peek_wait(caller, selector, options)?;
        let effects = match outcome {
            WaitOutcome::Child { pid, .. } => self.consume_wait(caller, pid),
            _ => Vec::new(),
        };
        Ok((outcome, effects))
    }

    /// What `wait4` would answer now, changing nothing: the server sends
    /// the answer first and consumes it ([`Self::consume_wait`]) only if
    /// the caller got it, so a caller that gave up (a signal interrupted
    /// it) loses nothing. An ended child comes first, then a stop or
    /// continue report.
    pub fn peek_wait(&self, caller: Pid, selector: WaitSelector, options: WaitOptions) -> Result<WaitOutcome, Errno> {
        let caller_process = self.living(caller)?;
        let caller_group = caller_process.group;
        let matching: Vec<Pid> = caller_process
            .children
            .iter()
            .copied()
            .filter(|child| {
                let group = self.processes[child].group;
                match selector {
                    WaitSelector::Child(pid) => *child == pid,
                    WaitSelector::AnyChild => true,
                    WaitSelector::OwnGroup => group == caller_group,
                    WaitSelector::Group(wanted) => group == wanted,
                }
            })
            .collect();
        if matching.is_empty() {
            return Err(Errno::ECHILD);
        }
        for &child in &matching {
            let process = &self.processes[&child];
            if let State::Zombie(status) = process.state {
                let mut usage = process.usage;
                usage.add(process.children_usage);
                return Ok(WaitOutcome::Child { pid: child, status, usage });
            }
        }
        for &child in &matching {
            let status = match self.processes[&child].report {
                Some(Report::Stopped(signal)) if options.untraced => WaitStatus::Stopped(signal),
                Some(Report::Continued) if options.continued => WaitStatus::Continued,
                _ => continue,
            };
            return Ok(WaitOutcome::Child { pid: child, status, usage: Usage::default() });
        }
        Ok(if options.no_hang { WaitOutcome::NothingYet } else { WaitOutcome::MustWait })
    }

    /// The caller received [`Self::peek_wait`]'s answer about `child`:
    /// reap it if it ended, else clear the report it had.
    pub fn consume_wait(&mut self, caller: Pid, child: Pid) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(process) = self.processes.get_mut(&child) else { return effects };
        if process.parent != caller {
            return effects;
        }
        if process.is_zombie() {
            self.reap(child, &mut effects);
        } else {
            process.report = None;
        }
        effects
    }

    // ----- the real-time timer --------------------------------------------------

    /// `setitimer(ITIMER_REAL)` / `alarm`: arms (or with `value` 0 disarms)
    /// the timer; returns the old one's time left and interval.
    pub fn set_timer(&mut self, pid: Pid, now: u64, value: u64, interval: u64) -> Result<(u64, u64), Errno> {
        let process = self.processes.get_mut(&pid).filter(|process| !process.is_zombie()).ok_or(Errno::ESRCH)?;
        let old = process.timer;
        let left = if old.deadline == 0 { 0 } else { old.deadline.saturating_sub(now).max(1) };
        process.timer =
            if value == 0 { Timer::default() } else { Timer { deadline: now.saturating_add(value), interval } };
        Ok((left, old.interval))
    }

    /// When the next timer fires, if any is armed.
    pub fn next_deadline(&self) -> Option<u64> {
        self.processes.values().map(|process| process.timer.deadline).filter(|&deadline| deadline != 0).min()
    }

    /// Fires every timer due at `now`: SIGALRM, rearmed by its interval.
    pub fn expire_timers(&mut self, now: u64) -> Vec<Effect> {
        let due: Vec<Pid> = self
            .processes
            .values()
            .filter(|process| process.timer.deadline != 0 && process.timer.deadline <= now)
            .map(|process| process.pid)
            .collect();
        let mut effects = Vec::new();
        for pid in due {
            let process = self.processes.get_mut(&pid).expect("due processes exist");
            let timer = process.timer;
            process.timer = if timer.interval == 0 {
                Timer::default()
            } else {
                Timer {
                    deadline: now + timer.interval - (now - timer.deadline) % timer.interval,
                    interval: timer.interval,
                }
            };
            self.deliver(pid, Signal::ALARM, Origin::Timer, &mut effects);
        }
        effects
    }

    // ----- consistency ---------------------------------------------------------------

    /// Checks the table's invariants (used by the tests after every step):
    /// parents and children agree, every process is in its group and its
    /// group in its session, zombies have no children, init exists.
    pub fn check(&self) -> Result<(), &'static str> {
        if !self.processes.contains_key(&INIT) {
            return Err("init is missing");
        }
        for process in self.processes.values() {
            if process.pid != INIT {
                let parent = self.processes.get(&process.parent).ok_or("a process's parent is missing")?;
                if !parent.children.contains(&process.pid) {
                    return Err("a parent does not list its child");
                }
                if parent.is_zombie() && parent.pid != INIT {
                    return Err("a zombie has a child");
                }
            }
            for child in &process.children {
                if self.processes.get(child).map(|child| child.parent) != Some(process.pid) {
                    return Err("a child does not name its parent");
                }
            }
            let group = self.groups.get(&process.group).ok_or("a process's group is missing")?;
            if !group.members.contains(&process.pid) {
                return Err("a group does not list its member");
            }
            if group.session != process.session {
                return Err("a process is in a group of another session");
            }
            if !self.sessions.get(&process.session).is_some_and(|session| session.groups.contains(&process.group)) {
                return Err("a session does not list its group");
            }
        }
        for (pid, group) in &self.groups {
            if group.members.is_empty() {
                return Err("an empty group remains");
            }
            if group.members.iter().any(|member| self.processes.get(member).map(|process| process.group) != Some(*pid))
            {
                return Err("a group lists a process of another group");
            }
        }
        for (terminal, session) in &self.terminals {
            if self.sessions.get(session).and_then(|entry| entry.terminal) != Some(*terminal) {
                return Err("a terminal and its session disagree");
            }
        }
        Ok(())
    }
}
