//! The shell's state and its entry points: `Shell` holds variables,
//! functions, positional parameters, options and jobs, and runs programs
//! over a `System`.
//!
//! How a program runs is split by concern: `execute` (commands, pipelines,
//! redirections, processes and jobs), `expand` (words into fields),
//! `builtins`; this module has the state, the control-flow type that
//! carries `break`, `return`, `exit` and fatal errors up the tree, error
//! reporting, and reading and running whole texts (scripts, `-c`, `.`).

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;

use crate::jobs::JobTable;
use crate::parser::{ParseError, Parser};
use crate::syntax::{CompoundCommand, Redirection};
use crate::system::{Errno, OpenMode, ProcessId, SignalAction, System};
use crate::variables::{VariableError, Variables};

/// Why execution stops before the end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// `break n`: leave n enclosing loops.
    Break(usize),
    /// `continue n`.
    Continue(usize),
    /// `return`: leave the function or sourced file with this status.
    Return(i32),
    /// `exit`, or `set -e` after a failure: the shell ends with this status.
    Exit(i32),
    /// An error that abandons the command line being run: an interactive
    /// shell goes back to the prompt, any other shell exits with the status
    /// (expansion errors, special builtin errors, syntax errors in `eval`).
    Abort(i32),
}

/// The status of a command, or why it stopped everything around it.
pub type Outcome = Result<i32, Interrupt>;

/// The options `set` changes (and `$-` shows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-a`: export every variable assigned.
    pub all_export: bool,
    /// `-e`: exit when a command fails outside a condition.
    pub errexit: bool,
    /// `-f`: no pathname expansion.
    pub noglob: bool,
    /// `-C`: `>` does not overwrite existing files.
    pub noclobber: bool,
    /// `-m`: job control (each pipeline its own process group, the terminal
    /// follows the foreground job).
    pub monitor: bool,
    /// `-n`: read commands without running them.
    pub noexec: bool,
    /// `-u`: expanding an unset variable is an error.
    pub nounset: bool,
    /// `-v`: print input lines as they are read.
    pub verbose: bool,
    /// `-x`: print commands before running them.
    pub xtrace: bool,
    /// `-i`: interactive (set at start only).
    pub interactive: bool,
}

/// The single-letter options with their long names (`set -o name`).
pub const OPTION_NAMES: &[(u8, &str)] = &[
    (b'a', "allexport"),
    (b'C', "noclobber"),
    (b'e', "errexit"),
    (b'f', "noglob"),
    (b'm', "monitor"),
    (b'n', "noexec"),
    (b'u', "nounset"),
    (b'v', "verbose"),
    (b'x', "xtrace"),
];

impl Options {
    pub fn flag_mut(&mut self, letter: u8) -> Option<&mut bool> {
        Some(match letter {
            b'a' => &mut self.all_export,
            b'C' => &mut self.noclobber,
            b'e' => &mut self.errexit,
            b'f' => &mut self.noglob,
            b'm' => &mut self.monitor,
            b'n' => &mut self.noexec,
            b'u' => &mut self.nounset,
            b'v' => &mut self.verbose,
            b'x' => &mut self.xtrace,
            _ => return None,
        })
    }

    pub fn flag(&self, letter: u8) -> bool {
        let mut copy = *self;
        copy.flag_mut(letter).is_some_and(|flag| *flag)
    }

    /// `$-`: the letters of the options on.
    pub fn letters(&self) -> Vec<u8> {
        let mut letters: Vec<u8> =
            OPTION_NAMES.iter().map(|(letter, _)| *letter).filter(|&letter| self.flag(letter)).collect();
        if self.interactive {
            letters.push(b'i');
        }
        letters
    }
}

/// The terminal a job-control shell owns.
#[derive(Clone, Debug)]
pub struct Terminal<M> {
    /// The shell's own descriptor for it (close-on-exec, above 9).
    pub fd: i32,
    /// The shell's process group, given the terminal back after each job.
    pub shell_group: ProcessId,
    /// The modes the shell restores after a job (the user's cooked modes).
    pub modes: Option<M>,
}

/// A function: its body and the redirections written after it.
pub type Function = Rc<(CompoundCommand, Vec<Redirection>)>;

pub struct Shell<S: System> {
    pub system: S,
    pub variables: Variables,
    pub functions: BTreeMap<Vec<u8>, Function>,
    /// `$1`, `$2`...
    pub positional: Vec<Vec<u8>>,
    /// `$0`.
    pub name: Vec<u8>,
    /// `$?`.
    pub last_status: i32,
    /// `$!`.
    pub last_background: Option<ProcessId>,
    /// `$$` (the original shell's pid, also in subshells).
    pub shell_process_id: ProcessId,
    pub options: Options,
    pub jobs: JobTable<S::TerminalModes>,
    pub terminal: Option<Terminal<S::TerminalModes>>,
    /// This process is a subshell the shell forked.
    pub forked: bool,
    /// Loops around the command running now (for `break` and `continue`).
    pub(crate) loop_depth: usize,
    /// Functions and sourced files being run (for `return`).
    pub(crate) function_depth: usize,
    /// Inside a condition (`if`, `while`, `&&`, `!`...): `set -e` does not apply.
    pub(crate) condition_depth: usize,
    /// Variables `local` saved in each running function, restored on return.
    pub(crate) local_frames: Vec<crate::variables::SavedVariables>,
    /// Where commands were found in PATH (forgotten when PATH changes).
    pub(crate) command_paths: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Stopped jobs were reported by a first `exit`: the second one exits.
    pub(crate) exit_warned: bool,
    /// Command substitutions run so far (a command of assignments alone
    /// takes the status of its last substitution).
    pub(crate) substitutions: usize,
    /// `trap` actions by signal number (0 is EXIT); an empty action ignores.
    pub traps: BTreeMap<i32, Vec<u8>>,
    /// Signals caught and not yet acted on (bit `n - 1` for signal `n`).
    pub(crate) pending_signals: u64,
    /// `getopts`' place inside the current argument, and the OPTIND it
    /// belongs to (a script resetting OPTIND starts over).
    pub(crate) option_position: (usize, Vec<u8>),
    /// Commands running inside one another now (each level is a few stack
    /// frames of the interpreter): bounded by `MAX_EXECUTION_DEPTH`.
    pub(crate) execution_depth: usize,
}

/// Nesting limit for function calls, `eval` and `.`: deep enough for real
/// scripts, shallow enough that runaway recursion is an error, not a crash.
pub const MAX_CALL_DEPTH: usize = 400;

/// Nesting limit for commands inside commands (function calls and compound
/// commands together): the interpreter recurses once per level, so this
/// bounds the stack it needs (about 0.4 KiB a level in the release program,
/// so under 1 MiB at the limit; scripts/tests/msh checks that the limit is
/// reached, as an error, within a 1 MiB stack).
pub const MAX_EXECUTION_DEPTH: usize = 1200;

impl<S: System> Shell<S> {
    /// A shell with the given environment ("NAME=value" entries), `$0` and
    /// positional parameters.
    pub fn new<'a>(
        mut system: S,
        environment: impl IntoIterator<Item = &'a [u8]>,
        name: Vec<u8>,
        positional: Vec<Vec<u8>>,
    ) -> Self {
        let mut variables = Variables::from_environment(environment);
        let shell_process_id = system.process_id();
        let parent = system.parent_process_id();
        let _ = variables.set(b"PPID", alloc::format!("{parent}").as_bytes());
        if variables.get(b"IFS").is_none() {
            let _ = variables.set(b"IFS", b" \t\n");
        }
        if variables.get(b"PS2").is_none() {
            let _ = variables.set(b"PS2", b"> ");
        }
        if variables.get(b"PS4").is_none() {
            let _ = variables.set(b"PS4", b"+ ");
        }
        if variables.get(b"OPTIND").is_none() {
            let _ = variables.set(b"OPTIND", b"1");
        }
        let mut shell = Shell {
            system,
            variables,
            functions: BTreeMap::new(),
            positional,
            name,
            last_status: 0,
            last_background: None,
            shell_process_id,
            options: Options::default(),
            jobs: JobTable::default(),
            terminal: None,
            forked: false,
            loop_depth: 0,
            function_depth: 0,
            condition_depth: 0,
            local_frames: Vec::new(),
            command_paths: BTreeMap::new(),
            exit_warned: false,
            substitutions: 0,
            traps: BTreeMap::new(),
            pending_signals: 0,
            option_position: (0, Vec::new()),
            execution_depth: 0,
        };
        shell.initialize_working_directory();
        shell
    }

    /// PWD from the environment if it names the working directory, else
    /// the physical path.
    fn initialize_working_directory(&mut self) {
        let inherited = self.variables.get(b"PWD").map(<[u8]>::to_vec);
        if let Some(inherited) = inherited {
            if inherited.first() == Some(&b'/') && !has_dot_components(&inherited) {
                let here = self.system.metadata(b".", true);
                let there = self.system.metadata(&inherited, true);
                if let (Ok(here), Ok(there)) = (here, there) {
                    if here.device == there.device && here.inode == there.inode {
                        return;
                    }
                }
            }
        }
        if let Ok(physical) = self.system.current_directory() {
            let _ = self.variables.set(b"PWD", &physical);
        }
    }

    // ---- output ----

    /// Writes all of `bytes` to `fd` (a short write is continued; an
    /// interrupted one retried).
    pub fn write_all(&mut self, fd: i32, mut bytes: &[u8]) -> Result<(), Errno> {
        while !bytes.is_empty() {
            match self.system.write(fd, bytes) {
                Ok(0) => return Err(Errno(5)),
                Ok(written) => bytes = &bytes[written.min(bytes.len())..],
                Err(Errno::INTERRUPTED) => continue,
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Prints `msh: ` and the pieces to standard error, with a newline.
    pub fn error(&mut self, pieces: &[&[u8]]) {
        let mut line = b"msh: ".to_vec();
        for piece in pieces {
            line.extend_from_slice(piece);
        }
        line.push(b'\n');
        let _ = self.write_all(2, &line);
    }

    /// `msh: what: message for error`.
    pub fn error_with(&mut self, what: &[u8], error: Errno) {
        let message = self.system.error_message(error);
        self.error(&[what, b": ", &message]);
    }

    pub(crate) fn variable_error(&mut self, error: VariableError) {
        match error {
            VariableError::ReadOnly(name) => self.error(&[&name, b": is read only"]),
            VariableError::BadName(name) => self.error(&[&name, b": bad variable name"]),
        }
    }

    // ---- variables ----

    /// Assigns a variable, exporting it under `set -a`; reports errors.
    pub fn assign(&mut self, name: &[u8], value: &[u8]) -> Result<(), VariableError> {
        self.variables.set(name, value)?;
        if self.options.all_export {
            self.variables.export(name)?;
        }
        if name == b"PATH" {
            self.command_paths.clear();
        }
        Ok(())
    }

    pub fn is_interactive(&self) -> bool {
        self.options.interactive && !self.forked
    }

    // ---- running text ----

    /// Runs a whole text (a script, `-c`, `eval`, `.`): parses one complete
    /// command at a time and runs it, so a syntax error late in a script
    /// stops it there. A syntax error is reported and returns `Abort(2)`.
    pub fn run_text(&mut self, text: &[u8]) -> Outcome {
        let mut parser = Parser::new(text, true);
        let mut status = 0;
        loop {
            let start = parser.position();
            let parsed = parser.next_complete_command();
            if self.options.verbose {
                let read = &text[start..parser.position().min(text.len())];
                let _ = self.write_all(2, read);
            }
            let program = match parsed {
                Ok(Some(program)) => program,
                Ok(None) => return Ok(status),
                Err(error) => {
                    self.syntax_error(&error);
                    return Err(Interrupt::Abort(2));
                }
            };
            if self.options.noexec {
                continue;
            }
            status = self.run_program(&program)?;
        }
    }

    pub fn syntax_error(&mut self, error: &ParseError) {
        let message = alloc::format!("{}: {}", error.line, error);
        self.error(&[message.as_bytes()]);
    }

    /// Ends this process after its EXIT trap: the status becomes the
    /// process's exit status.
    pub fn exit_process(&mut self, status: i32) -> ! {
        let status = self.run_exit_trap(status);
        self.system.exit(status & 0xff)
    }

    /// Runs the EXIT trap, if one is set, once; returns the status the
    /// shell ends with (`exit n` inside the trap changes it).
    pub fn run_exit_trap(&mut self, status: i32) -> i32 {
        let Some(action) = self.traps.remove(&0) else { return status };
        if action.is_empty() {
            return status;
        }
        self.last_status = status;
        match self.run_text(&action) {
            Err(Interrupt::Exit(new_status)) => new_status,
            _ => status,
        }
    }

    /// Collects signals caught since last asked into `pending_signals`.
    pub(crate) fn note_signals(&mut self) -> u64 {
        self.pending_signals |= self.system.take_caught_signals();
        self.pending_signals
    }

    /// Runs the trap actions of the signals caught since the last call
    /// (between commands, as POSIX asks); `$?` is kept across them.
    pub(crate) fn run_pending_traps(&mut self) -> Result<(), Interrupt> {
        let pending = self.note_signals();
        if pending == 0 {
            return Ok(());
        }
        self.pending_signals = 0;
        // ^C without a trap abandons what an interactive shell is running
        // (a loop of builtins, or the rest of a line whose job was interrupted).
        let interrupt = 1u64 << (crate::system::signal::INTERRUPT - 1);
        if pending & interrupt != 0
            && self.is_interactive()
            && !self.traps.contains_key(&crate::system::signal::INTERRUPT)
        {
            return Err(Interrupt::Abort(128 + crate::system::signal::INTERRUPT));
        }
        for signal in 1..=64 {
            if pending & (1u64 << (signal - 1)) == 0 {
                continue;
            }
            let Some(action) = self.traps.get(&signal).cloned() else { continue };
            if action.is_empty() {
                continue;
            }
            let status = self.last_status;
            self.run_text(&action)?;
            self.last_status = status;
        }
        Ok(())
    }

    /// What a signal does in this shell without a trap: an interactive
    /// shell catches ^C and ignores SIGQUIT and SIGTERM, a job-control shell
    /// ignores the stop signals from the terminal.
    pub(crate) fn untrapped_action(&mut self, signal: i32) -> SignalAction {
        use crate::system::signal::*;
        if self.is_interactive() {
            match signal {
                INTERRUPT => return SignalAction::Catch,
                QUIT | TERMINATE => return SignalAction::Ignore,
                _ => {}
            }
        }
        if self.job_control() && matches!(signal, TERMINAL_STOP | TERMINAL_INPUT | TERMINAL_OUTPUT) {
            return SignalAction::Ignore;
        }
        SignalAction::Default
    }

    /// Runs a script file's text as the shell's main program and returns
    /// the status the shell exits with.
    pub fn run_main_text(&mut self, text: &[u8]) -> i32 {
        match self.run_text(text) {
            Ok(status) => status,
            Err(Interrupt::Exit(status) | Interrupt::Abort(status) | Interrupt::Return(status)) => status,
            Err(Interrupt::Break(_) | Interrupt::Continue(_)) => self.last_status,
        }
    }

    /// Sets up job control on the terminal on `fd` (interactive shells):
    /// waits to be in the foreground, ignores the stop signals, takes its own
    /// process group and gives it the terminal. On failure the shell runs
    /// without job control (and says so).
    pub fn enable_job_control(&mut self, fd: i32) {
        let tty = match self.system.duplicate_above(fd, 10) {
            Ok(tty) => tty,
            Err(_) => {
                self.error(&[b"cannot use the terminal: no job control"]);
                return;
            }
        };
        // Stopped in the background until the terminal's owner lets us run.
        for _ in 0..1000 {
            let foreground = self.system.terminal_process_group(tty);
            let own = self.system.process_group();
            match foreground {
                Ok(group) if group == own => break,
                Ok(_) => {
                    let _ = self.system.kill(-own, crate::system::signal::TERMINAL_INPUT);
                }
                Err(Errno::NOT_TERMINAL) if !self.has_controlling_terminal() => {
                    // A shell on a terminal but in no session that has one
                    // (init's on the console): it leads a session of its
                    // own on this terminal, as getty and login would.
                    if self.system.lead_session_on_terminal(tty).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        use crate::system::signal::*;
        for signal in [TERMINAL_STOP, TERMINAL_INPUT, TERMINAL_OUTPUT] {
            let _ = self.system.set_signal_action(signal, SignalAction::Ignore);
        }
        let pid = self.system.process_id();
        if self.system.process_group() != pid {
            let _ = self.system.set_process_group(0, 0);
        }
        let group = self.system.process_group();
        if self.system.set_terminal_process_group(tty, group).is_err() {
            self.error(&[b"cannot set the terminal's process group: no job control"]);
            let _ = self.system.close(tty);
            return;
        }
        let modes = self.system.terminal_modes(tty).ok();
        self.terminal = Some(Terminal { fd: tty, shell_group: group, modes });
        self.options.monitor = true;
    }

    /// Whether this process has a controlling terminal (`/dev/tty` opens).
    fn has_controlling_terminal(&mut self) -> bool {
        match self.system.open(b"/dev/tty", OpenMode::Read) {
            Ok(fd) => {
                let _ = self.system.close(fd);
                true
            }
            Err(_) => false,
        }
    }

    /// Job control is in effect in this process.
    pub fn job_control(&self) -> bool {
        self.options.monitor && self.terminal.is_some() && !self.forked
    }
}

fn has_dot_components(path: &[u8]) -> bool {
    path.split(|&byte| byte == b'/').any(|component| component == b"." || component == b"..")
}
