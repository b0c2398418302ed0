//! The console server's core: one terminal (the serial line) and the files
//! open on it, as a state machine with no I/O and no Mach in it.
//!
//! The transport (the server program) feeds it:
//!
//! - requests, with the sender's [`Caller`] from the audit trailer: opens
//!   ([`Console::open`]), closes (the no-senders notification of an open
//!   file's port), reads, writes and the terminal requests. Each answers
//!   [`Answer::Now`] or [`Answer::Later`] with a [`WaitId`]: the transport
//!   keeps the reply right under it;
//! - the UART: [`Console`] is the UART driver's [`Line`]: received bytes
//!   go through the line discipline (echo, editing, signals), bytes to send
//!   come from its transmit queue;
//! - time ([`Console::set_time`]), and what the process server answered
//!   ([`Console::job_control_outcome`], [`Console::group_in_session`]).
//!
//! and takes out of it:
//!
//! - completions of waiting requests, one at a time ([`Console::next_offer`]):
//!   the transport sends each and reports with [`Console::finish`] whether
//!   the client got it; only then is anything taken (the input a read
//!   returns, the settings a `TCSADRAIN` applies), so a client that went
//!   away (an interrupted call destroys its reply port) loses nothing;
//! - [`Outgoing`] requests for the process server ([`Console::take_outgoing`]):
//!   signals for process groups, job-control checks, group lookups;
//! - the deadline of the earliest read timer ([`Console::next_deadline`]);
//! - whether kernel log lines may be shown now, and how many bytes of them
//!   ([`Console::kernel_log_wanted`], [`crate::screen`] has the rule).
//!
//! Nothing here blocks: a request that cannot finish waits as a [`Wait`]
//! record, and every record is looked at again after each event.

use crate::caller::Caller;
use crate::errno::Errno;
use crate::screen::{format_kernel_lines, ScreenLine, ERASE_LINE};
use crate::signal::Signal;
use crate::uart::Line;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use tty::termios::local;
use tty::{LineDiscipline, ReadOutcome, ReadTimer, Termios, WindowSize};

/// The transport's name for an open file (its port's name).
pub type Handle = u64;
/// A waiting request.
pub type WaitId = u64;
/// A request to the process server whose answer the console waits for.
pub type RequestId = u64;

/// Program output waits once this many bytes are queued for the UART.
pub const WRITE_LIMIT: usize = 4096;
/// Echo and kernel log lines are dropped past this many queued bytes (only
/// reached when output is stopped with ^S and someone keeps typing).
pub const QUEUE_LIMIT: usize = 16384;
/// The most bytes one read returns.
pub const READ_MAX: usize = 8192;
/// The most signal records kept for [`Console::recorded_signals`].
pub const SIGNAL_RECORDS_MAX: usize = 64;
/// The most files open on the terminal at once (each is a port and a
/// record in the server): past it, `open` answers `ENFILE`.
pub const OPENS_MAX: usize = 4096;
/// The most requests waiting at once (a client cannot make the server
/// grow without bound): past it a request that would wait gets `EAGAIN`.
pub const WAITS_MAX: usize = 256;

/// `open` flags (Linux's values, as minilibc's `<fcntl.h>` has them).
pub mod open_flags {
    pub const ACCESS_MODE: u32 = 0o3;
    pub const READ_ONLY: u32 = 0;
    pub const WRITE_ONLY: u32 = 1;
    pub const READ_WRITE: u32 = 2;
    pub const NO_CONTROLLING_TERMINAL: u32 = 0o400;
    pub const APPEND: u32 = 0o2000;
    pub const NONBLOCK: u32 = 0o4000;
}

/// `poll` events.
pub mod poll_events {
    pub const IN: u32 = 0x001;
    pub const OUT: u32 = 0x004;
    pub const ERROR: u32 = 0x008;
    pub const HANG_UP: u32 = 0x010;
    pub const INVALID: u32 = 0x020;
    pub const READ_NORMAL: u32 = 0x040;
    pub const WRITE_NORMAL: u32 = 0x100;
}

/// The device a unit number names (major:minor as Linux numbers them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// 4:64, `/dev/ttyS0`: the serial line.
    Serial,
    /// 5:0, `/dev/tty`: the opener's controlling terminal.
    Controlling,
    /// 5:1, `/dev/console`.
    Console,
}

impl Unit {
    /// The unit of device `major:minor`, if the console serves it.
    pub fn from_device(major: u32, minor: u32) -> Option<Unit> {
        match (major, minor) {
            (4, 64) => Some(Unit::Serial),
            (5, 0) => Some(Unit::Controlling),
            (5, 1) => Some(Unit::Console),
            _ => None,
        }
    }

    /// Its `major:minor`.
    pub fn device(self) -> (u32, u32) {
        match self {
            Unit::Serial => (4, 64),
            Unit::Controlling => (5, 0),
            Unit::Console => (5, 1),
        }
    }
}

/// `tcsetattr`'s `optional_actions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetAction {
    /// `TCSANOW`.
    Now,
    /// `TCSADRAIN`: after the output queued so far has been sent.
    Drain,
    /// `TCSAFLUSH`: after that, and discarding unread input.
    Flush,
}

/// `tcflush`'s queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushQueue {
    Input,
    Output,
    Both,
}

/// The terminal's owner and permission bits (`fchown`, `fchmod`; a login
/// program gives the terminal to the user, `mesg` changes its mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ownership {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (`0620` to start with).
    pub permissions: u32,
}

/// What `fstat` says about an open terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminalStat {
    /// `S_IFCHR | 0620`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub device_major: u32,
    pub device_minor: u32,
}

/// The answer to a request: now, or later through [`Console::next_offer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    Now(Result<T, Errno>),
    Later(WaitId),
}

/// What a waiting request gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// A read: the bytes (empty at end of file).
    Read(Result<Vec<u8>, Errno>),
    /// A write: the bytes written.
    Write(Result<usize, Errno>),
    /// `tcdrain`, `tcsetattr` with a drain, `tcsetpgrp`.
    Done(Result<(), Errno>),
    /// `poll`: the events ready (0 when cancelled).
    Poll(Result<u32, Errno>),
}

/// A completion for the transport to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub wait: WaitId,
    pub completion: Completion,
}

/// A request for the process server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// Send `signal` to process group `group` (^C, ^\, ^Z, a window size
    /// change, a hang-up); nothing waits for the answer.
    SignalGroup { group: u32, signal: Signal },
    /// Process `pid` of group `group` touched its controlling terminal from
    /// the background: if it neither ignores nor blocks `signal` and its
    /// group is not orphaned, send `signal` to the group. The answer,
    /// [`Console::job_control_outcome`], says which happened.
    JobControl { request: RequestId, pid: u32, group: u32, signal: Signal },
    /// Is `group` a process group of `session`? (`tcsetpgrp`.) The answer is
    /// [`Console::group_in_session`].
    GroupInSession { request: RequestId, group: u32, session: u32 },
}

/// What the process server did with an [`Outgoing::JobControl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobControlOutcome {
    /// The signal went to the group: the process stops (or runs a handler,
    /// which interrupts the waiting call).
    Signalled,
    /// The process ignores or blocks the signal: `SIGTTIN` reads fail with
    /// `EIO`, `SIGTTOU` writes and changes go ahead.
    IgnoredOrBlocked,
    /// Its group is orphaned: `EIO`.
    Orphaned,
}

/// One signal the terminal asked for, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalRecord {
    /// The group it was for; `None`: the terminal had no foreground group,
    /// so it went nowhere.
    pub group: Option<u32>,
    pub signal: Signal,
}

#[derive(Clone, Copy, Debug)]
struct OpenFile {
    unit: Unit,
    readable: bool,
    writable: bool,
    flags: u32,
}

impl OpenFile {
    fn nonblocking(&self) -> bool {
        self.flags & open_flags::NONBLOCK != 0
    }
}

/// Where a background caller's request stands (job control).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    /// Not in the background (or nothing to check).
    Clear,
    /// Waiting for the process server's answer.
    Asked { request: RequestId, signal: Signal },
    /// The group was signalled: wait until it is in the foreground again.
    Stopped,
    /// The process ignores or blocks `SIGTTOU`: go ahead.
    Allowed,
    /// Refused.
    Refused(Errno),
}

#[derive(Clone, Debug)]
enum WaitKind {
    Read { count: usize, started: u64 },
    Write { remaining: Vec<u8>, written: usize },
    Drain,
    SetTermios { termios: Termios, flush: bool, drain: bool },
    SetForeground { group: u32, request: Option<RequestId>, answer: Option<bool> },
    Poll { events: u32, poll_id: u64, cancelled: bool },
}

/// A request that could not finish when it came.
#[derive(Clone, Debug)]
struct Wait {
    id: WaitId,
    handle: Handle,
    caller: Caller,
    job: Job,
    kind: WaitKind,
}

/// What an offer does once the client got it.
#[derive(Clone, Copy, Debug)]
enum Commit {
    Nothing,
    Consume(ReadOutcome),
    SetTermios { termios: Termios, flush: bool },
    SetForeground(u32),
}

enum Gate {
    Proceed,
    Hold,
    Fail(Errno),
}

/// The terminal and everything open on it.
pub struct Console {
    discipline: LineDiscipline,
    /// Bytes for the UART, echo and program output in order.
    transmit: VecDeque<u8>,
    screen: ScreenLine,
    /// The session whose controlling terminal this is, and its foreground
    /// process group.
    session: Option<u32>,
    foreground: Option<u32>,
    /// True once the UART has sent its last byte (for drains).
    transmitter_empty: bool,
    opens: BTreeMap<Handle, OpenFile>,
    waits: Vec<Wait>,
    next_wait: WaitId,
    next_request: RequestId,
    outgoing: Vec<Outgoing>,
    signals: VecDeque<SignalRecord>,
    /// Signals recorded since the start (the history keeps the last ones).
    signals_total: u64,
    /// Milliseconds, from the transport's clock.
    now: u64,
    /// When the last byte arrived (for `VTIME` between bytes).
    last_input_at: u64,
    /// The offer made and not yet finished, and what it does once delivered.
    offered: Option<(WaitId, Commit)>,
    /// The kernel said it has new log lines.
    kernel_log_pending: bool,
    ownership: Ownership,
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

/// Where the line discipline's output goes: the transmit queue, followed
/// by the screen tracker.
struct Transmitter<'a> {
    queue: &'a mut VecDeque<u8>,
    screen: &'a mut ScreenLine,
}

impl tty::Output for Transmitter<'_> {
    fn put(&mut self, byte: u8) {
        if self.queue.len() < QUEUE_LIMIT {
            self.queue.push_back(byte);
            self.screen.track(byte);
        }
    }
}

impl Console {
    /// A console as a serial terminal starts: canonical mode with echo,
    /// 24x80, no session.
    pub fn new() -> Console {
        Console {
            discipline: LineDiscipline::default(),
            transmit: VecDeque::new(),
            screen: ScreenLine::default(),
            session: None,
            foreground: None,
            transmitter_empty: true,
            opens: BTreeMap::new(),
            waits: Vec::new(),
            next_wait: 1,
            next_request: 1,
            outgoing: Vec::new(),
            signals: VecDeque::new(),
            signals_total: 0,
            now: 0,
            last_input_at: 0,
            offered: None,
            kernel_log_pending: false,
            ownership: Ownership { uid: 0, gid: TTY_GROUP, permissions: 0o620 },
        }
    }

    /// Sets the clock (milliseconds, never going back).
    pub fn set_time(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    /// The clock as last set.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// What the UART says about its transmitter: true once the last byte
    /// left it.
    pub fn set_transmitter_empty(&mut self, empty: bool) {
        self.transmitter_empty = empty;
    }

    pub fn termios(&self) -> &Termios {
        self.discipline.termios()
    }

    /// The session whose controlling terminal this is, and its foreground group.
    pub fn session(&self) -> Option<u32> {
        self.session
    }

    pub fn foreground(&self) -> Option<u32> {
        self.foreground
    }

    /// Bytes queued for the UART.
    pub fn queued(&self) -> usize {
        self.transmit.len()
    }

    /// The open files.
    pub fn open_count(&self) -> usize {
        self.opens.len()
    }

    /// The requests waiting.
    pub fn waiting_count(&self) -> usize {
        self.waits.len()
    }

    /// The signals the terminal asked for, oldest first (the last
    /// [`SIGNAL_RECORDS_MAX`]).
    pub fn recorded_signals(&self) -> impl Iterator<Item = &SignalRecord> {
        self.signals.iter()
    }

    /// How many signals were recorded since the start (the history keeps
    /// the last [`SIGNAL_RECORDS_MAX`]).
    pub fn signals_recorded_total(&self) -> u64 {
        self.signals_total
    }

    /// The signals recorded after the first `seen` of all time, as far as
    /// the history still has them.
    pub fn signals_recorded_since(&self, seen: u64) -> impl Iterator<Item = &SignalRecord> {
        let new = self.signals_total.saturating_sub(seen).min(self.signals.len() as u64) as usize;
        self.signals.iter().skip(self.signals.len() - new)
    }

    /// True while a drain waits for the UART to finish its last bytes: the
    /// UART does not interrupt for that, so the transport looks again soon.
    pub fn waits_for_transmitter(&self) -> bool {
        self.transmit.is_empty()
            && !self.transmitter_empty
            && self
                .waits
                .iter()
                .any(|wait| matches!(wait.kind, WaitKind::Drain | WaitKind::SetTermios { drain: true, .. }))
    }

    /// The requests for the process server since the last call.
    pub fn take_outgoing(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.outgoing)
    }

    // ---- Opening and closing ----

    /// Opens `unit` for `opener` as the transport's `handle` (a new port).
    /// A session leader without a controlling terminal that opens the
    /// terminal (without `O_NOCTTY`) while no session has it gets it as its
    /// controlling terminal, as on Linux.
    pub fn open(&mut self, handle: Handle, unit: Unit, flags: u32, opener: &Caller) -> Result<(), Errno> {
        let (readable, writable) = match flags & open_flags::ACCESS_MODE {
            open_flags::READ_ONLY => (true, false),
            open_flags::WRITE_ONLY => (false, true),
            open_flags::READ_WRITE => (true, true),
            _ => return Err(Errno::InvalidArgument),
        };
        if self.opens.contains_key(&handle) {
            return Err(Errno::InvalidArgument);
        }
        if self.opens.len() >= OPENS_MAX {
            return Err(Errno::TooManyOpenFiles);
        }
        if unit == Unit::Controlling && !self.is_controlling_terminal_of(opener) {
            return Err(Errno::NoSuchDevice);
        }
        if unit != Unit::Controlling
            && flags & open_flags::NO_CONTROLLING_TERMINAL == 0
            && opener.is_session_leader()
            && self.session.is_none()
        {
            self.session = Some(opener.sid);
            self.foreground = Some(opener.pgid);
        }
        let flags = flags & (open_flags::APPEND | open_flags::NONBLOCK);
        self.opens.insert(handle, OpenFile { unit, readable, writable, flags });
        Ok(())
    }

    /// The open file `handle` is gone (its last send right): requests still
    /// waiting on it end with `EBADF`.
    pub fn close(&mut self, handle: Handle) {
        self.opens.remove(&handle);
    }

    fn open_file(&self, handle: Handle) -> Result<OpenFile, Errno> {
        self.opens.get(&handle).copied().ok_or(Errno::BadFile)
    }

    fn is_controlling_terminal_of(&self, caller: &Caller) -> bool {
        caller.is_process() && self.session == Some(caller.sid)
    }

    /// True if `caller` is a process of the terminal's session outside the
    /// foreground group: job control applies.
    fn is_background(&self, caller: &Caller) -> bool {
        self.is_controlling_terminal_of(caller) && self.foreground.is_some_and(|group| group != caller.pgid)
    }

    fn new_wait(&mut self, handle: Handle, caller: &Caller, job: Job, kind: WaitKind) -> Result<WaitId, Errno> {
        if self.waits.len() >= WAITS_MAX {
            return Err(Errno::WouldBlock);
        }
        let id = self.next_wait;
        self.next_wait += 1;
        self.waits.push(Wait { id, handle, caller: *caller, job, kind });
        Ok(id)
    }

    fn new_request(&mut self) -> RequestId {
        let request = self.next_request;
        self.next_request += 1;
        request
    }

    /// Job control for `caller` about to use the terminal in a way
    /// `signal` guards: in the background, the process server is asked.
    fn job_check(&mut self, caller: &Caller, signal: Signal) -> Job {
        if !self.is_background(caller) {
            return Job::Clear;
        }
        let request = self.new_request();
        self.outgoing.push(Outgoing::JobControl { request, pid: caller.pid, group: caller.pgid, signal });
        Job::Asked { request, signal }
    }

    // ---- Data ----

    /// Reads up to `count` bytes. Whatever the input holds, the answer comes
    /// through [`Console::next_offer`] (so it is taken only once delivered);
    /// errors and empty reads come now.
    pub fn read(&mut self, handle: Handle, count: usize, caller: &Caller) -> Answer<Vec<u8>> {
        let file = match self.open_file(handle) {
            Ok(file) if file.readable => file,
            Ok(_) | Err(_) => return Answer::Now(Err(Errno::BadFile)),
        };
        if count == 0 {
            return Answer::Now(Ok(Vec::new()));
        }
        let job = self.job_check(caller, Signal::TerminalInput);
        if job == Job::Clear && file.nonblocking() {
            let mut probe = vec![0u8; count.min(READ_MAX)];
            if self.discipline.peek(&mut probe, self.read_timer_expired(self.now)) == ReadOutcome::Wait {
                return Answer::Now(Err(Errno::WouldBlock));
            }
        }
        let kind = WaitKind::Read { count: count.min(READ_MAX), started: self.now };
        self.wait_or_error(handle, caller, job, kind)
    }

    /// Writes `data` (output processing applies: `ONLCR` and the rest). It
    /// goes into the transmit queue as far as [`WRITE_LIMIT`] allows; a
    /// blocking write answers once all of it is queued, a non-blocking one
    /// takes what fits now. A background process writing with `TOSTOP` set
    /// gets `SIGTTOU` first.
    pub fn write(&mut self, handle: Handle, data: &[u8], caller: &Caller) -> Answer<usize> {
        let file = match self.open_file(handle) {
            Ok(file) if file.writable => file,
            Ok(_) | Err(_) => return Answer::Now(Err(Errno::BadFile)),
        };
        if data.is_empty() {
            return Answer::Now(Ok(0));
        }
        let job = if self.discipline.termios().local(local::TOSTOP) {
            self.job_check(caller, Signal::TerminalOutput)
        } else {
            Job::Clear
        };
        let writer_waiting = self.waits.iter().any(|wait| matches!(wait.kind, WaitKind::Write { .. }));
        let mut written = 0;
        if job == Job::Clear && !writer_waiting {
            written = self.queue_output(data);
            if written == data.len() {
                return Answer::Now(Ok(written));
            }
        }
        if file.nonblocking() && job == Job::Clear {
            return Answer::Now(if written > 0 { Ok(written) } else { Err(Errno::WouldBlock) });
        }
        let kind = WaitKind::Write { remaining: data[written..].to_vec(), written };
        match self.new_wait(handle, caller, job, kind) {
            Ok(wait) => Answer::Later(wait),
            Err(_) if written > 0 => Answer::Now(Ok(written)),
            Err(error) => Answer::Now(Err(error)),
        }
    }

    /// Puts program output into the transmit queue until it holds
    /// [`WRITE_LIMIT`] bytes; returns how many bytes of `data` went in.
    fn queue_output(&mut self, data: &[u8]) -> usize {
        let mut taken = 0;
        for &byte in data {
            if self.transmit.len() >= WRITE_LIMIT {
                break;
            }
            let mut transmitter = Transmitter { queue: &mut self.transmit, screen: &mut self.screen };
            self.discipline.write(&[byte], &mut transmitter);
            taken += 1;
        }
        taken
    }

    /// Moves waiting writers' bytes into the transmit queue as room frees,
    /// oldest writer first.
    fn pump_writers(&mut self) {
        for index in 0..self.waits.len() {
            if self.transmit.len() >= WRITE_LIMIT {
                return;
            }
            if !matches!(self.gate(&self.waits[index]), Gate::Proceed) {
                continue;
            }
            let WaitKind::Write { remaining, .. } = &mut self.waits[index].kind else { continue };
            let data = core::mem::take(remaining);
            let taken = self.queue_output(&data);
            let WaitKind::Write { remaining, written } = &mut self.waits[index].kind else { continue };
            *written += taken;
            *remaining = data[taken..].to_vec();
        }
    }

    /// `FIONREAD`: bytes a read could take now.
    pub fn readable_bytes(&self, handle: Handle) -> Result<usize, Errno> {
        self.open_file(handle)?;
        Ok(self.discipline.available_bytes())
    }

    /// `fstat`.
    pub fn stat(&self, handle: Handle) -> Result<TerminalStat, Errno> {
        let file = self.open_file(handle)?;
        let (device_major, device_minor) = file.unit.device();
        Ok(TerminalStat {
            mode: CHARACTER_DEVICE | self.ownership.permissions,
            uid: self.ownership.uid,
            gid: self.ownership.gid,
            device_major,
            device_minor,
        })
    }

    /// The unit `handle` was opened as.
    pub fn unit(&self, handle: Handle) -> Result<Unit, Errno> {
        Ok(self.open_file(handle)?.unit)
    }

    /// `fchmod`: the owner or the superuser sets the permission bits.
    pub fn change_mode(&mut self, handle: Handle, mode: u32, caller: &Caller) -> Result<(), Errno> {
        self.open_file(handle)?;
        if !caller.is_superuser() && caller.uid != self.ownership.uid {
            return Err(Errno::NotPermitted);
        }
        self.ownership.permissions = mode & 0o7777;
        Ok(())
    }

    /// `fchown` (`u32::MAX`: keep that id): the superuser's.
    pub fn change_owner(&mut self, handle: Handle, uid: u32, gid: u32, caller: &Caller) -> Result<(), Errno> {
        self.open_file(handle)?;
        if !caller.is_superuser() {
            return Err(Errno::NotPermitted);
        }
        if uid != u32::MAX {
            self.ownership.uid = uid;
        }
        if gid != u32::MAX {
            self.ownership.gid = gid;
        }
        Ok(())
    }

    /// `fcntl(F_GETFL)`: the access mode and status flags.
    pub fn flags(&self, handle: Handle) -> Result<u32, Errno> {
        let file = self.open_file(handle)?;
        let access = match (file.readable, file.writable) {
            (true, true) => open_flags::READ_WRITE,
            (false, true) => open_flags::WRITE_ONLY,
            _ => open_flags::READ_ONLY,
        };
        Ok(access | file.flags)
    }

    /// `fcntl(F_SETFL)`: `O_NONBLOCK` and `O_APPEND` change, other bits are
    /// ignored (as on Linux).
    pub fn set_flags(&mut self, handle: Handle, flags: u32) -> Result<(), Errno> {
        let file = self.opens.get_mut(&handle).ok_or(Errno::BadFile)?;
        file.flags = flags & (open_flags::APPEND | open_flags::NONBLOCK);
        Ok(())
    }

    // ---- Terminal requests ----

    /// `TCGETS`.
    pub fn get_termios(&self, handle: Handle) -> Result<Termios, Errno> {
        self.open_file(handle)?;
        Ok(*self.discipline.termios())
    }

    /// `TCSETS`, `TCSETSW`, `TCSETSF`. From the background it needs
    /// `SIGTTOU` first (unless ignored or blocked).
    pub fn set_termios(&mut self, handle: Handle, termios: Termios, action: SetAction, caller: &Caller) -> Answer<()> {
        if let Err(error) = self.open_file(handle) {
            return Answer::Now(Err(error));
        }
        let job = self.job_check(caller, Signal::TerminalOutput);
        if action == SetAction::Now && job == Job::Clear {
            self.discipline.set_termios(termios, false);
            return Answer::Now(Ok(()));
        }
        let kind = WaitKind::SetTermios { termios, flush: action == SetAction::Flush, drain: action != SetAction::Now };
        self.wait_or_error(handle, caller, job, kind)
    }

    fn wait_or_error<T>(&mut self, handle: Handle, caller: &Caller, job: Job, kind: WaitKind) -> Answer<T> {
        match self.new_wait(handle, caller, job, kind) {
            Ok(wait) => Answer::Later(wait),
            Err(error) => Answer::Now(Err(error)),
        }
    }

    /// `TIOCGWINSZ`.
    pub fn window_size(&self, handle: Handle) -> Result<WindowSize, Errno> {
        self.open_file(handle)?;
        Ok(self.discipline.window_size())
    }

    /// `TIOCSWINSZ`: a change sends `SIGWINCH` to the foreground group.
    pub fn set_window_size(&mut self, handle: Handle, window: WindowSize) -> Result<(), Errno> {
        self.open_file(handle)?;
        if window != self.discipline.window_size() {
            self.discipline.set_window_size(window);
            self.signal_foreground(Signal::WindowChange);
        }
        Ok(())
    }

    /// `TIOCGPGRP`: the foreground process group (0 when there is none) of
    /// the caller's controlling terminal.
    pub fn foreground_group(&self, handle: Handle, caller: &Caller) -> Result<u32, Errno> {
        self.open_file(handle)?;
        if !self.is_controlling_terminal_of(caller) {
            return Err(Errno::NotTerminal);
        }
        Ok(self.foreground.unwrap_or(0))
    }

    /// `TIOCSPGRP`: makes `group` (of the caller's session) the foreground
    /// group. A group other than the caller's own is checked with the
    /// process server ([`Outgoing::GroupInSession`]).
    pub fn set_foreground_group(&mut self, handle: Handle, group: u32, caller: &Caller) -> Answer<()> {
        if let Err(error) = self.open_file(handle) {
            return Answer::Now(Err(error));
        }
        if !self.is_controlling_terminal_of(caller) {
            return Answer::Now(Err(Errno::NotTerminal));
        }
        if group == 0 || group > i32::MAX as u32 {
            return Answer::Now(Err(Errno::InvalidArgument));
        }
        let job = self.job_check(caller, Signal::TerminalOutput);
        if group == caller.pgid && job == Job::Clear {
            self.foreground = Some(group);
            return Answer::Now(Ok(()));
        }
        let (request, answer) = if group == caller.pgid {
            (None, Some(true))
        } else {
            let request = self.new_request();
            self.outgoing.push(Outgoing::GroupInSession { request, group, session: caller.sid });
            (Some(request), None)
        };
        self.wait_or_error(handle, caller, job, WaitKind::SetForeground { group, request, answer })
    }

    /// `TIOCSCTTY`: the caller, a session leader, takes the terminal as its
    /// session's controlling terminal; `steal` (by the superuser) takes it
    /// from another session.
    pub fn set_controlling_terminal(&mut self, handle: Handle, steal: bool, caller: &Caller) -> Result<(), Errno> {
        self.open_file(handle)?;
        if !caller.is_session_leader() {
            return Err(Errno::NotPermitted);
        }
        if self.session == Some(caller.sid) {
            return Ok(());
        }
        if self.session.is_some() && !(steal && caller.is_superuser()) {
            return Err(Errno::NotPermitted);
        }
        self.session = Some(caller.sid);
        self.foreground = Some(caller.pgid);
        Ok(())
    }

    /// The process server says session `session` ended (its leader exited):
    /// the foreground group gets `SIGHUP` and `SIGCONT`, and the terminal
    /// belongs to no session.
    pub fn session_ended(&mut self, session: u32) {
        if self.session != Some(session) {
            return;
        }
        self.signal_foreground(Signal::Hangup);
        self.signal_foreground(Signal::Continue);
        self.session = None;
        self.foreground = None;
    }

    /// `TCFLSH`.
    pub fn flush(&mut self, handle: Handle, queue: FlushQueue) -> Result<(), Errno> {
        self.open_file(handle)?;
        if matches!(queue, FlushQueue::Input | FlushQueue::Both) {
            self.discipline.flush_input();
        }
        if matches!(queue, FlushQueue::Output | FlushQueue::Both) {
            self.transmit.clear();
        }
        Ok(())
    }

    /// `tcdrain`: answers once everything queued has left the UART.
    pub fn drain(&mut self, handle: Handle, caller: &Caller) -> Answer<()> {
        if let Err(error) = self.open_file(handle) {
            return Answer::Now(Err(error));
        }
        if self.drained() {
            return Answer::Now(Ok(()));
        }
        self.wait_or_error(handle, caller, Job::Clear, WaitKind::Drain)
    }

    fn drained(&self) -> bool {
        self.transmit.is_empty() && self.transmitter_empty
    }

    /// `poll`: the events of interest ready now (errors and hang-ups are
    /// always reported); with `wait` and none ready, the answer comes when
    /// one is, or 0 after [`Console::poll_cancel`] with the same `poll_id`.
    pub fn poll(&mut self, handle: Handle, events: u32, wait: bool, poll_id: u64, caller: &Caller) -> Answer<u32> {
        let file = match self.open_file(handle) {
            Ok(file) => file,
            Err(_) => return Answer::Now(Ok(poll_events::INVALID)),
        };
        let ready = self.ready_events(&file) & (events | poll_events::ERROR | poll_events::HANG_UP);
        if ready != 0 || !wait {
            return Answer::Now(Ok(ready));
        }
        self.wait_or_error(handle, caller, Job::Clear, WaitKind::Poll { events, poll_id, cancelled: false })
    }

    /// Ends the waiting `poll` on `handle` with `poll_id` (it answers 0).
    pub fn poll_cancel(&mut self, handle: Handle, poll_id: u64) {
        for wait in &mut self.waits {
            if let WaitKind::Poll { poll_id: id, cancelled, .. } = &mut wait.kind {
                if wait.handle == handle && *id == poll_id {
                    *cancelled = true;
                }
            }
        }
    }

    fn ready_events(&self, file: &OpenFile) -> u32 {
        let mut ready = 0;
        if file.readable && (self.discipline.readable() || self.discipline.available_bytes() > 0) {
            ready |= poll_events::IN | poll_events::READ_NORMAL;
        }
        let writer_waiting = self.waits.iter().any(|wait| matches!(wait.kind, WaitKind::Write { .. }));
        if file.writable && self.transmit.len() < WRITE_LIMIT && !writer_waiting {
            ready |= poll_events::OUT | poll_events::WRITE_NORMAL;
        }
        ready
    }

    // ---- Signals and the process server ----

    fn signal_foreground(&mut self, signal: Signal) {
        if self.signals.len() == SIGNAL_RECORDS_MAX {
            self.signals.pop_front();
        }
        self.signals.push_back(SignalRecord { group: self.foreground, signal });
        self.signals_total += 1;
        if let Some(group) = self.foreground {
            self.outgoing.push(Outgoing::SignalGroup { group, signal });
        }
    }

    /// The process server's answer to an [`Outgoing::JobControl`].
    pub fn job_control_outcome(&mut self, request: RequestId, outcome: JobControlOutcome) {
        for wait in &mut self.waits {
            let Job::Asked { request: asked, signal } = wait.job else { continue };
            if asked != request {
                continue;
            }
            wait.job = match (outcome, signal) {
                (JobControlOutcome::Signalled, _) => Job::Stopped,
                (JobControlOutcome::IgnoredOrBlocked, Signal::TerminalOutput) => Job::Allowed,
                (JobControlOutcome::IgnoredOrBlocked, _) | (JobControlOutcome::Orphaned, _) => {
                    Job::Refused(Errno::InputOutput)
                }
            };
        }
    }

    /// The process server's answer to an [`Outgoing::GroupInSession`].
    pub fn group_in_session(&mut self, request: RequestId, member: bool) {
        for wait in &mut self.waits {
            if let WaitKind::SetForeground { request: Some(asked), answer, .. } = &mut wait.kind {
                if *asked == request {
                    *answer = Some(member);
                }
            }
        }
    }

    fn gate(&self, wait: &Wait) -> Gate {
        match wait.job {
            Job::Clear | Job::Allowed => Gate::Proceed,
            Job::Refused(error) => Gate::Fail(error),
            Job::Asked { .. } | Job::Stopped => {
                if self.is_background(&wait.caller) {
                    Gate::Hold
                } else {
                    Gate::Proceed
                }
            }
        }
    }

    // ---- Completions ----

    fn read_timer_expired(&self, started: u64) -> bool {
        match self.discipline.read_timer() {
            ReadTimer::None => false,
            ReadTimer::FromStart(milliseconds) => self.now >= started + milliseconds as u64,
            ReadTimer::BetweenBytes(milliseconds) => {
                self.discipline.available_bytes() > 0 && self.now >= self.last_input_at + milliseconds as u64
            }
        }
    }

    /// When the earliest read timer runs out (milliseconds on the
    /// transport's clock), if any read waits on one.
    pub fn next_deadline(&self) -> Option<u64> {
        let timer = self.discipline.read_timer();
        self.waits
            .iter()
            .filter(|wait| matches!(self.gate(wait), Gate::Proceed))
            .filter_map(|wait| match (&wait.kind, timer) {
                (WaitKind::Read { started, .. }, ReadTimer::FromStart(milliseconds)) => {
                    Some(started + milliseconds as u64)
                }
                (WaitKind::Read { .. }, ReadTimer::BetweenBytes(milliseconds))
                    if self.discipline.available_bytes() > 0 =>
                {
                    Some(self.last_input_at + milliseconds as u64)
                }
                _ => None,
            })
            .min()
    }

    /// The next waiting request that can finish, with what it gets. Send it,
    /// then call [`Console::finish`] before asking again.
    pub fn next_offer(&mut self) -> Option<Offer> {
        self.pump_writers();
        self.offered = None;
        for index in 0..self.waits.len() {
            if let Some((completion, commit)) = self.try_complete(index) {
                let wait = self.waits[index].id;
                self.offered = Some((wait, commit));
                return Some(Offer { wait, completion });
            }
        }
        None
    }

    /// The offer for `wait` alone, if it can finish now (for a routine
    /// that must answer before the handler returns); finish it like any.
    pub fn offer_for(&mut self, wait: WaitId) -> Option<Offer> {
        self.offered = None;
        let index = self.waits.iter().position(|candidate| candidate.id == wait)?;
        let (completion, commit) = self.try_complete(index)?;
        self.offered = Some((wait, commit));
        Some(Offer { wait, completion })
    }

    fn try_complete(&self, index: usize) -> Option<(Completion, Commit)> {
        let wait = &self.waits[index];
        let file = match self.open_file(wait.handle) {
            Ok(file) => file,
            Err(error) => return Some((failure(&wait.kind, error), Commit::Nothing)),
        };
        match self.gate(wait) {
            Gate::Hold => return None,
            Gate::Fail(error) => return Some((failure(&wait.kind, error), Commit::Nothing)),
            Gate::Proceed => {}
        }
        let done = |result| (Completion::Done(result), Commit::Nothing);
        match &wait.kind {
            WaitKind::Read { count, started } => {
                let mut buffer = vec![0u8; *count];
                let outcome = self.discipline.peek(&mut buffer, self.read_timer_expired(*started));
                match outcome {
                    ReadOutcome::Wait if file.nonblocking() => {
                        Some((Completion::Read(Err(Errno::WouldBlock)), Commit::Nothing))
                    }
                    ReadOutcome::Wait => None,
                    ReadOutcome::Data(count) => {
                        buffer.truncate(count);
                        Some((Completion::Read(Ok(buffer)), Commit::Consume(outcome)))
                    }
                    ReadOutcome::EndOfFile => Some((Completion::Read(Ok(Vec::new())), Commit::Consume(outcome))),
                }
            }
            WaitKind::Write { remaining, written } => {
                let completion = if remaining.is_empty() {
                    Completion::Write(Ok(*written))
                } else if file.nonblocking() {
                    // Non-blocking, after job control let it through.
                    Completion::Write(if *written > 0 { Ok(*written) } else { Err(Errno::WouldBlock) })
                } else {
                    return None;
                };
                Some((completion, Commit::Nothing))
            }
            WaitKind::Drain => self.drained().then(|| done(Ok(()))),
            WaitKind::SetTermios { termios, flush, drain } => (!*drain || self.drained())
                .then_some((Completion::Done(Ok(())), Commit::SetTermios { termios: *termios, flush: *flush })),
            WaitKind::SetForeground { group, answer, .. } => match answer {
                None => None,
                Some(true) => Some((Completion::Done(Ok(())), Commit::SetForeground(*group))),
                Some(false) => Some(done(Err(Errno::NotPermitted))),
            },
            WaitKind::Poll { events, cancelled, .. } => {
                if *cancelled {
                    return Some((Completion::Poll(Ok(0)), Commit::Nothing));
                }
                let ready = self.ready_events(&file) & (events | poll_events::ERROR | poll_events::HANG_UP);
                (ready != 0).then_some((Completion::Poll(Ok(ready)), Commit::Nothing))
            }
        }
    }

    /// The transport sent the offer for `wait`: `delivered` if the client
    /// got it. Only then does it take effect (input taken, settings or
    /// foreground group changed); either way the wait is over.
    pub fn finish(&mut self, wait: WaitId, delivered: bool) {
        let Some(index) = self.waits.iter().position(|candidate| candidate.id == wait) else { return };
        self.waits.remove(index);
        let commit = match self.offered.take() {
            Some((offered, commit)) if offered == wait => commit,
            _ => Commit::Nothing,
        };
        if !delivered {
            return;
        }
        match commit {
            Commit::Nothing => {}
            Commit::Consume(outcome) => self.discipline.consume(outcome),
            Commit::SetTermios { termios, flush } => self.discipline.set_termios(termios, flush),
            Commit::SetForeground(group) => self.foreground = Some(group),
        }
    }

    /// The client of `wait` went away before it could be answered (its
    /// reply right died): the wait ends, nothing is taken.
    pub fn abandon(&mut self, wait: WaitId) {
        self.finish(wait, false);
    }

    // ---- The kernel log on the screen ----

    /// The kernel has new log lines (its notice came).
    pub fn kernel_log_waiting(&mut self) {
        self.kernel_log_pending = true;
    }

    /// How many bytes of kernel log lines to read and show now, or `None`:
    /// nothing waits, or the screen is not in a state to show them (the
    /// rule in [`crate::screen`]), or the transmit queue is too full.
    pub fn kernel_log_wanted(&self) -> Option<usize> {
        if !self.kernel_log_pending || !self.discipline.is_canonical() || self.screen.replay().is_none() {
            return None;
        }
        // Formatting at most doubles the text; the redraw adds the line.
        let room =
            QUEUE_LIMIT.saturating_sub(self.transmit.len() + ERASE_LINE.len() + 2 * crate::screen::SCREEN_LINE_MAX);
        let wanted = (room / 2).min(4096);
        (wanted >= mach_abi::KERNEL_LOG_LINE_MAX).then_some(wanted)
    }

    /// Shows kernel log lines (whole lines, as read from the kernel; `lost`
    /// lines were overwritten before they could be read). Nothing read
    /// means the kernel has no more: the console stops asking until the
    /// next notice.
    pub fn show_kernel_lines(&mut self, text: &[u8], lost: u64) {
        if text.is_empty() && lost == 0 {
            self.kernel_log_pending = false;
            return;
        }
        let mut formatted = Vec::new();
        format_kernel_lines(text, lost, &mut formatted);
        let redraw = if self.screen.at_line_start() && !self.discipline.is_editing() {
            None
        } else {
            self.screen.replay().map(<[u8]>::to_vec)
        };
        if redraw.is_some() {
            // Not tracked: the screen line is written again below.
            self.transmit.extend(ERASE_LINE);
        }
        let mut transmitter = Transmitter { queue: &mut self.transmit, screen: &mut self.screen };
        for &byte in formatted.iter().chain(redraw.iter().flatten()) {
            tty::Output::put(&mut transmitter, byte);
        }
    }
}

/// The owner of the terminal devices' group (`tty`, 5 on Debian).
pub const TTY_GROUP: u32 = 5;
/// `S_IFCHR`.
pub const CHARACTER_DEVICE: u32 = 0o020000;

fn failure(kind: &WaitKind, error: Errno) -> Completion {
    match kind {
        WaitKind::Read { .. } => Completion::Read(Err(error)),
        WaitKind::Write { written, .. } if *written > 0 => Completion::Write(Ok(*written)),
        WaitKind::Write { .. } => Completion::Write(Err(error)),
        WaitKind::Poll { .. } => Completion::Poll(Err(error)),
        WaitKind::Drain | WaitKind::SetTermios { .. } | WaitKind::SetForeground { .. } => Completion::Done(Err(error)),
    }
}

/// The UART driver's view: received bytes go through the line discipline,
/// the bytes to send come from the transmit queue (none while ^S holds
/// output).
impl Line for Console {
    fn received(&mut self, byte: u8) {
        self.last_input_at = self.now;
        let mut transmitter = Transmitter { queue: &mut self.transmit, screen: &mut self.screen };
        if let Some(signal) = self.discipline.receive(byte, &mut transmitter) {
            self.signal_foreground(signal.into());
        }
    }

    fn transmit(&mut self, buffer: &mut [u8]) -> usize {
        if self.discipline.stopped() {
            return 0;
        }
        let count = buffer.len().min(self.transmit.len());
        for (slot, byte) in buffer.iter_mut().zip(self.transmit.drain(..count)) {
            *slot = byte;
        }
        if count > 0 {
            self.transmitter_empty = false;
            self.pump_writers();
        }
        count
    }

    fn wants_to_transmit(&self) -> bool {
        !self.discipline.stopped() && !self.transmit.is_empty()
    }
}
