//! Running the tree: lists, pipelines, commands, redirections, processes
//! and jobs.
//!
//! How commands become processes:
//! - an external command is started with one `spawn` (posix_spawn): its
//!   redirections are opened by the shell first (so errors name the file
//!   and nothing is half started) and handed over as file actions, its
//!   process group and the terminal's foreground group as attributes;
//! - builtins, functions and compound commands run in the shell itself,
//!   their redirections applied around them and undone after;
//! - the shell forks only where a second shell is needed: a subshell
//!   `( … )`, a command substitution, a builtin, function or compound
//!   command inside a pipeline or in the background.
//!
//! Under job control (`set -m`, on in an interactive shell on a terminal)
//! every pipeline is a job in its own process group; a foreground job gets
//! the terminal and the shell waits until it ends or stops.

use alloc::vec;
use alloc::vec::Vec;

use crate::builtins::{self, Builtin};
use crate::jobs::{JobState, Process, ProcessState};
use crate::pattern;
use crate::printer;
use crate::shell::{Function, Interrupt, Outcome, Shell, MAX_CALL_DEPTH, MAX_EXECUTION_DEPTH};
use crate::syntax::*;
use crate::system::{
    signal, Errno, FileAction, Fork, OpenMode, ProcessId, SignalAction, SpawnAttributes, System, WaitOptions,
    WaitStatus,
};
use crate::variables::SavedVariables;

/// How many times one wait continues a foreground job that the terminal
/// stopped before the shell gave it the terminal (`holds_terminal`): a
/// program stopped again and again by the terminal it holds is left
/// stopped, and reported.
const TERMINAL_RACE_CONTINUES: u32 = 8;

/// A simple command after expansion.
#[derive(Clone, Debug, Default)]
pub(crate) struct Expanded {
    pub fields: Vec<Vec<u8>>,
    pub assignments: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What a command name names.
pub(crate) enum Kind<S: System> {
    SpecialBuiltin(Builtin<S>),
    Function(Function),
    Builtin(Builtin<S>),
    /// A program, with the path to run.
    External(Vec<u8>),
    NotFound,
}

/// One redirection step, with descriptors resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Duplicate { from: i32, to: i32 },
    Close(i32),
}

impl Step {
    fn target(self) -> i32 {
        match self {
            Step::Duplicate { to, .. } => to,
            Step::Close(target) => target,
        }
    }
}

/// Redirections opened by the shell, ready to apply.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    steps: Vec<Step>,
    /// Descriptors the shell opened for them (close-on-exec, above 9): closed
    /// once the redirections are applied or handed to a new process.
    owned: Vec<i32>,
}

/// A descriptor a redirection replaced, to put back after the command.
pub(crate) struct Saved {
    target: i32,
    /// The original, moved aside; `None` if the target was closed.
    copy: Option<i32>,
}

/// Where a new process of a job goes.
#[derive(Clone, Copy)]
struct Placement {
    /// Job control: the job's process group (0: the first process makes it).
    process_group: Option<ProcessId>,
    /// Give the job the terminal.
    foreground: bool,
    /// A background command without job control: ignores SIGINT and SIGQUIT
    /// and reads /dev/null unless redirected.
    detached: bool,
}

/// Signals an interactive shell ignores or catches, which its children must
/// get back at their default action.
const SHELL_SIGNALS: [i32; 6] = [
    signal::INTERRUPT,
    signal::QUIT,
    signal::TERMINATE,
    signal::TERMINAL_STOP,
    signal::TERMINAL_INPUT,
    signal::TERMINAL_OUTPUT,
];

/// Here-documents up to this size are written into the pipe at once (a
/// pipe holds at least PIPE_BUF bytes); larger ones by a child process.
const PIPE_BUFFER: usize = 4096;

/// Finished background jobs a script remembers for `wait` (POSIX asks for
/// at least CHILD_MAX); older finished ones are forgotten.
const REMEMBERED_JOBS: usize = 1024;

impl<S: System> Shell<S> {
    // ---- lists ----

    pub fn run_program(&mut self, program: &Program) -> Outcome {
        let mut status = 0;
        for item in &program.items {
            status = if item.asynchronous { self.run_background(&item.list)? } else { self.run_and_or(&item.list)? };
        }
        Ok(status)
    }

    fn run_and_or(&mut self, list: &AndOr) -> Outcome {
        let mut status = self.run_checked(&list.first, !list.rest.is_empty())?;
        for (index, (connector, pipeline)) in list.rest.iter().enumerate() {
            let run = match connector {
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if run {
                status = self.run_checked(pipeline, index + 1 < list.rest.len())?;
            }
        }
        Ok(status)
    }

    /// Runs a pipeline, sets `$?`, and applies `set -e` unless the pipeline
    /// is tested (`in_condition`, a negation, or an enclosing condition).
    fn run_checked(&mut self, pipeline: &Pipeline, in_condition: bool) -> Outcome {
        let tested = in_condition || pipeline.negated;
        if tested {
            self.condition_depth += 1;
        }
        let result = self.run_pipeline(pipeline);
        if tested {
            self.condition_depth -= 1;
        }
        let mut status = result?;
        if pipeline.negated {
            status = i32::from(status == 0);
        }
        self.last_status = status;
        self.run_pending_traps()?;
        if status != 0 && self.options.errexit && !tested && self.condition_depth == 0 {
            return Err(Interrupt::Exit(status));
        }
        Ok(status)
    }

    /// Runs `program` as a condition (`if`, `while`): `set -e` does not apply inside.
    fn run_condition(&mut self, program: &Program) -> Outcome {
        self.condition_depth += 1;
        let result = self.run_program(program);
        self.condition_depth -= 1;
        result
    }

    fn run_pipeline(&mut self, pipeline: &Pipeline) -> Outcome {
        if let [command] = pipeline.commands.as_slice() {
            return self.run_command(command);
        }
        let job = self.start_pipeline(&pipeline.commands, false)?;
        Ok(self.wait_for_job(job))
    }

    /// `list &`: a job the shell does not wait for.
    fn run_background(&mut self, list: &AndOr) -> Outcome {
        let job = if list.rest.is_empty() && !list.first.negated {
            self.start_pipeline(&list.first.commands, true)?
        } else {
            let placement = self.placement(true, None);
            let list = list.clone();
            let command = printer::print_and_or(&list);
            let pid = self.fork_job_process(&placement, None, None, &[], move |shell| shell.run_and_or(&list));
            let process = match pid {
                Ok(pid) => Process { pid, state: ProcessState::Running },
                Err(error) => {
                    self.error_with(b"fork", error);
                    return Ok(1);
                }
            };
            if self.job_control() {
                let _ = self.system.set_process_group(process.pid, process.pid);
            }
            let group = if self.job_control() { process.pid } else { 0 };
            self.jobs.add(group, vec![process], command)
        };
        if let Some(pid) = self.jobs.get(job).map(|job| job.last_pid()) {
            self.last_background = Some(pid);
            if self.is_interactive() {
                let line = alloc::format!("[{job}] {pid}\n");
                let _ = self.write_all(2, line.as_bytes());
            }
        }
        self.jobs.make_current(job);
        self.forget_old_jobs();
        Ok(0)
    }

    fn placement(&self, background: bool, process_group: Option<ProcessId>) -> Placement {
        let job_control = self.job_control();
        Placement {
            process_group: if job_control { Some(process_group.unwrap_or(0)) } else { None },
            foreground: job_control && !background,
            detached: background && !job_control,
        }
    }

    /// Starts every command of a pipeline in its own process, connected by
    /// pipes; returns the job.
    fn start_pipeline(&mut self, commands: &[Command], background: bool) -> Result<usize, Interrupt> {
        let mut processes = Vec::new();
        let mut group = 0;
        let mut input: Option<i32> = None;
        let mut command_text = Vec::new();
        for (index, command) in commands.iter().enumerate() {
            if index > 0 {
                command_text.extend_from_slice(b" | ");
            }
            command_text.extend_from_slice(&print_command(command));
            let last = index + 1 == commands.len();
            let (next_input, output) = if last {
                (None, None)
            } else {
                match self.system.pipe() {
                    Ok((read, write)) => (Some(read), Some(write)),
                    Err(error) => {
                        self.error_with(b"pipe", error);
                        if let Some(input) = input {
                            let _ = self.system.close(input);
                        }
                        break;
                    }
                }
            };
            let placement = self.placement(background, Some(group));
            let close_in_child: Vec<i32> = next_input.into_iter().collect();
            let process = self.start_element(command, &placement, input, output, &close_in_child);
            if let Some(input) = input {
                let _ = self.system.close(input);
            }
            if let Some(output) = output {
                let _ = self.system.close(output);
            }
            input = next_input;
            if process.pid != 0 && self.job_control() {
                if group == 0 {
                    group = process.pid;
                }
                // Also here, so the group exists whichever side runs first.
                let _ = self.system.set_process_group(process.pid, group);
                if !background {
                    if let Some(terminal) = &self.terminal {
                        let fd = terminal.fd;
                        let _ = self.system.set_terminal_process_group(fd, group);
                    }
                }
            }
            processes.push(process);
        }
        Ok(self.jobs.add(group, processes, command_text))
    }

    /// Starts one pipeline element. A command that never became a process
    /// (not found, an expansion error) comes back as a finished pseudo-process.
    fn start_element(
        &mut self,
        command: &Command,
        placement: &Placement,
        input: Option<i32>,
        output: Option<i32>,
        close_in_child: &[i32],
    ) -> Process {
        let done = |status: i32| Process { pid: 0, state: ProcessState::Done(WaitStatus::Exited(status)) };
        if let Command::Simple(simple) = command {
            // Expanded here (variables kept as they were: the element is a
            // subshell), then spawned directly when it is a program.
            let saved_variables = self.variables.clone();
            let saved_status = self.last_status;
            let expanded = self.expand_simple(simple);
            self.variables = saved_variables;
            self.last_status = saved_status;
            let expanded = match expanded {
                Ok(expanded) => expanded,
                Err(Interrupt::Exit(status) | Interrupt::Abort(status) | Interrupt::Return(status)) => {
                    return done(status)
                }
                Err(_) => return done(0),
            };
            if let Some(name) = expanded.fields.first() {
                match self.classify(name, true) {
                    Kind::External(path) => {
                        return match self.spawn_external(simple, &expanded, &path, placement, input, output) {
                            Ok(pid) => Process { pid, state: ProcessState::Running },
                            Err(status) => done(status),
                        };
                    }
                    Kind::NotFound => {
                        self.error(&[name, b": command not found"]);
                        return done(127);
                    }
                    _ => {}
                }
            }
            let simple = simple.clone();
            return match self.fork_job_process(placement, input, output, close_in_child, move |shell| {
                shell.run_expanded(&simple, expanded)
            }) {
                Ok(pid) => Process { pid, state: ProcessState::Running },
                Err(error) => {
                    self.error_with(b"fork", error);
                    done(2)
                }
            };
        }
        let command = command.clone();
        match self.fork_job_process(placement, input, output, close_in_child, move |shell| shell.run_command(&command))
        {
            Ok(pid) => Process { pid, state: ProcessState::Running },
            Err(error) => {
                self.error_with(b"fork", error);
                done(2)
            }
        }
    }

    /// Forks a process of a job: in the child, joins the job's process
    /// group (and the terminal), connects the pipes, runs `body` as a
    /// subshell and exits with its status.
    fn fork_job_process(
        &mut self,
        placement: &Placement,
        input: Option<i32>,
        output: Option<i32>,
        close_in_child: &[i32],
        body: impl FnOnce(&mut Self) -> Outcome,
    ) -> Result<ProcessId, Errno> {
        match self.system.fork()? {
            Fork::Parent(pid) => Ok(pid),
            Fork::Child => {
                if let Some(group) = placement.process_group {
                    let _ = self.system.set_process_group(0, group);
                    if placement.foreground {
                        if let Some(terminal) = &self.terminal {
                            let fd = terminal.fd;
                            let own = self.system.process_group();
                            let _ = self.system.set_terminal_process_group(fd, own);
                        }
                    }
                }
                self.become_subshell();
                if placement.detached {
                    let _ = self.system.set_signal_action(signal::INTERRUPT, SignalAction::Ignore);
                    let _ = self.system.set_signal_action(signal::QUIT, SignalAction::Ignore);
                    if input.is_none() {
                        if let Ok(null) = self.system.open(b"/dev/null", OpenMode::Read) {
                            let _ = self.system.duplicate(null, 0);
                            let _ = self.system.close(null);
                        }
                    }
                }
                if let Some(input) = input {
                    let _ = self.system.duplicate(input, 0);
                    let _ = self.system.close(input);
                }
                if let Some(output) = output {
                    let _ = self.system.duplicate(output, 1);
                    let _ = self.system.close(output);
                }
                for &fd in close_in_child {
                    let _ = self.system.close(fd);
                }
                let outcome = body(self);
                let status = self.finish(outcome);
                self.exit_process(status)
            }
        }
    }

    /// Turns a freshly forked child into a subshell: no job control, no
    /// jobs of its own, the signals the interactive shell took back at
    /// their defaults.
    pub(crate) fn become_subshell(&mut self) {
        let was_interactive = self.is_interactive() || self.job_control();
        self.forked = true;
        self.jobs = Default::default();
        self.terminal = None;
        if was_interactive {
            for signal in SHELL_SIGNALS {
                let _ = self.system.set_signal_action(signal, SignalAction::Default);
            }
        }
        // Traps are not inherited, except that ignored signals stay ignored.
        let traps = core::mem::take(&mut self.traps);
        for (signal, action) in traps {
            if action.is_empty() {
                self.traps.insert(signal, action);
            } else if signal != 0 {
                let _ = self.system.set_signal_action(signal, SignalAction::Default);
            }
        }
        self.pending_signals = 0;
    }

    /// The exit status an interrupted run leaves.
    pub(crate) fn finish(&mut self, outcome: Outcome) -> i32 {
        match outcome {
            Ok(status) => status,
            Err(Interrupt::Exit(status) | Interrupt::Abort(status) | Interrupt::Return(status)) => status,
            Err(Interrupt::Break(_) | Interrupt::Continue(_)) => self.last_status,
        }
    }

    // ---- commands ----

    pub(crate) fn run_command(&mut self, command: &Command) -> Outcome {
        if self.execution_depth >= MAX_EXECUTION_DEPTH {
            self.error(&[b"commands nested too deeply"]);
            return Err(Interrupt::Abort(2));
        }
        self.execution_depth += 1;
        let result = self.run_command_at_depth(command);
        self.execution_depth -= 1;
        result
    }

    fn run_command_at_depth(&mut self, command: &Command) -> Outcome {
        match command {
            Command::Simple(simple) => self.run_simple(simple),
            Command::Compound(compound, redirections) => self.run_compound(compound, redirections),
            Command::Function(function) => {
                self.functions.insert(function.name.clone(), function.body.clone());
                Ok(0)
            }
        }
    }

    pub(crate) fn run_compound(&mut self, compound: &CompoundCommand, redirections: &[Redirection]) -> Outcome {
        if redirections.is_empty() {
            return self.run_compound_body(compound);
        }
        let Some(saved) = self.redirect_in_shell(redirections)? else { return Ok(1) };
        let result = self.run_compound_body(compound);
        self.restore_redirections(saved);
        result
    }

    fn run_compound_body(&mut self, compound: &CompoundCommand) -> Outcome {
        match compound {
            CompoundCommand::Group(program) => self.run_program(program),
            CompoundCommand::Subshell(program) => self.run_subshell(program),
            CompoundCommand::If { branches, otherwise } => {
                for (condition, body) in branches {
                    if self.run_condition(condition)? == 0 {
                        return self.run_program(body);
                    }
                }
                match otherwise {
                    Some(body) => self.run_program(body),
                    None => Ok(0),
                }
            }
            CompoundCommand::Loop { until, condition, body } => {
                self.loop_depth += 1;
                let result = self.run_loop(*until, condition, body);
                self.loop_depth -= 1;
                result
            }
            CompoundCommand::For { name, words, body } => {
                let values = match words {
                    Some(words) => self.expand_words(words)?,
                    None => self.positional.clone(),
                };
                self.loop_depth += 1;
                let result = self.run_for(name, values, body);
                self.loop_depth -= 1;
                result
            }
            CompoundCommand::Case { word, arms } => {
                let value = self.expand_text(word)?;
                for arm in arms {
                    for pattern_word in &arm.patterns {
                        let pattern = self.expand_pattern(pattern_word)?;
                        if pattern::matches(&pattern, &value) {
                            return self.run_program(&arm.body);
                        }
                    }
                }
                Ok(0)
            }
        }
    }

    fn run_loop(&mut self, until: bool, condition: &Program, body: &Program) -> Outcome {
        let mut status = 0;
        loop {
            let tested = match self.run_condition(condition) {
                Ok(tested) => tested,
                Err(Interrupt::Break(count)) => return self.leave_loop(count, status),
                Err(Interrupt::Continue(count)) if count > 1 => return Err(Interrupt::Continue(count - 1)),
                Err(Interrupt::Continue(_)) => continue,
                Err(other) => return Err(other),
            };
            if (tested == 0) == until {
                return Ok(status);
            }
            match self.run_program(body) {
                Ok(result) => status = result,
                Err(Interrupt::Break(count)) => return self.leave_loop(count, status),
                Err(Interrupt::Continue(count)) if count > 1 => return Err(Interrupt::Continue(count - 1)),
                Err(Interrupt::Continue(_)) => status = self.last_status,
                Err(other) => return Err(other),
            }
        }
    }

    fn run_for(&mut self, name: &[u8], values: Vec<Vec<u8>>, body: &Program) -> Outcome {
        let mut status = 0;
        for value in values {
            if let Err(error) = self.assign(name, &value) {
                self.variable_error(error);
                return Err(Interrupt::Abort(1));
            }
            match self.run_program(body) {
                Ok(result) => status = result,
                Err(Interrupt::Break(count)) => return self.leave_loop(count, status),
                Err(Interrupt::Continue(count)) if count > 1 => return Err(Interrupt::Continue(count - 1)),
                Err(Interrupt::Continue(_)) => status = self.last_status,
                Err(other) => return Err(other),
            }
        }
        Ok(status)
    }

    fn leave_loop(&mut self, count: usize, status: i32) -> Outcome {
        if count > 1 {
            Err(Interrupt::Break(count - 1))
        } else {
            Ok(status)
        }
    }

    /// `( program )`: in a forked child, waited for as a job.
    fn run_subshell(&mut self, program: &Program) -> Outcome {
        let placement = self.placement(false, None);
        let program_copy = program.clone();
        match self.fork_job_process(&placement, None, None, &[], move |shell| shell.run_program(&program_copy)) {
            Ok(pid) => {
                let group = if self.job_control() {
                    let _ = self.system.set_process_group(pid, pid);
                    if let Some(terminal) = &self.terminal {
                        let fd = terminal.fd;
                        let _ = self.system.set_terminal_process_group(fd, pid);
                    }
                    pid
                } else {
                    0
                };
                let mut text = b"(".to_vec();
                text.extend_from_slice(&printer::print_program(program));
                while text.last() == Some(&b'\n') {
                    text.pop();
                }
                text.extend_from_slice(b" )");
                let job = self.jobs.add(group, vec![Process { pid, state: ProcessState::Running }], text);
                Ok(self.wait_for_job(job))
            }
            Err(error) => {
                self.error_with(b"fork", error);
                Ok(2)
            }
        }
    }

    /// Expands a simple command's words and assignment values.
    pub(crate) fn expand_simple(&mut self, simple: &SimpleCommand) -> Result<Expanded, Interrupt> {
        let fields = self.expand_words(&simple.words)?;
        let mut assignments = Vec::with_capacity(simple.assignments.len());
        for assignment in &simple.assignments {
            let value = self.expand_assignment(&assignment.value)?;
            assignments.push((assignment.name.clone(), value));
        }
        Ok(Expanded { fields, assignments })
    }

    fn run_simple(&mut self, simple: &SimpleCommand) -> Outcome {
        let substitutions = self.substitutions;
        let fields = self.expand_words(&simple.words)?;
        if fields.is_empty() {
            // Assignments alone take effect one by one: each sees the ones before.
            let mut expanded = Expanded::default();
            for assignment in &simple.assignments {
                let value = self.expand_assignment(&assignment.value)?;
                if let Err(error) = self.assign(&assignment.name, &value) {
                    self.variable_error(error);
                    return if self.is_interactive() { Ok(1) } else { Err(Interrupt::Abort(1)) };
                }
                expanded.assignments.push((assignment.name.clone(), value));
            }
            return self.run_assignments_only(simple, expanded, substitutions);
        }
        let mut assignments = Vec::with_capacity(simple.assignments.len());
        for assignment in &simple.assignments {
            let value = self.expand_assignment(&assignment.value)?;
            assignments.push((assignment.name.clone(), value));
        }
        self.run_expanded(simple, Expanded { fields, assignments })
    }

    /// A command of assignments and redirections alone (the assignments
    /// already made).
    fn run_assignments_only(&mut self, simple: &SimpleCommand, expanded: Expanded, substitutions: usize) -> Outcome {
        self.trace(&expanded);
        let status = if self.substitutions != substitutions { self.last_status } else { 0 };
        if !simple.redirections.is_empty() {
            let Some(saved) = self.redirect_in_shell(&simple.redirections)? else { return Ok(1) };
            self.restore_redirections(saved);
        }
        Ok(status)
    }

    /// Runs an expanded simple command.
    pub(crate) fn run_expanded(&mut self, simple: &SimpleCommand, expanded: Expanded) -> Outcome {
        self.run_expanded_with(simple, expanded, true)
    }

    /// Runs an expanded simple command; `functions`: whether a function
    /// may answer to the name (not for `command name`).
    pub(crate) fn run_expanded_with(&mut self, simple: &SimpleCommand, expanded: Expanded, functions: bool) -> Outcome {
        if expanded.fields.is_empty() {
            for (name, value) in &expanded.assignments {
                if let Err(error) = self.assign(name, value) {
                    self.variable_error(error);
                    return if self.is_interactive() { Ok(1) } else { Err(Interrupt::Abort(1)) };
                }
            }
            return self.run_assignments_only(simple, expanded, self.substitutions);
        }
        self.trace(&expanded);
        let name = expanded.fields[0].clone();
        match self.classify(&name, functions) {
            Kind::SpecialBuiltin(builtin) => {
                for (variable, value) in &expanded.assignments {
                    if let Err(error) = self.assign(variable, value) {
                        self.variable_error(error);
                        return if self.is_interactive() { Ok(1) } else { Err(Interrupt::Abort(1)) };
                    }
                }
                if builtin.name == b"exec" {
                    return self.exec_builtin(simple, &expanded);
                }
                let Some(saved) = self.redirect_in_shell(&simple.redirections)? else {
                    // A redirection error on a special builtin ends a script.
                    return if self.is_interactive() { Ok(1) } else { Err(Interrupt::Abort(1)) };
                };
                let result = (builtin.run)(self, &expanded.fields);
                self.restore_redirections(saved);
                result
            }
            Kind::Function(function) => {
                let saved_variables = self.temporary_assignments(&expanded.assignments)?;
                let result = match self.redirect_in_shell(&simple.redirections) {
                    Ok(Some(saved)) => {
                        let result = self.call_function(&function, expanded.fields[1..].to_vec());
                        self.restore_redirections(saved);
                        result
                    }
                    Ok(None) => Ok(1),
                    Err(interrupt) => Err(interrupt),
                };
                self.restore_assignments(saved_variables);
                result
            }
            Kind::Builtin(builtin) => {
                let saved_variables = self.temporary_assignments(&expanded.assignments)?;
                let result = match self.redirect_in_shell(&simple.redirections) {
                    Ok(Some(saved)) => {
                        let result = (builtin.run)(self, &expanded.fields);
                        self.restore_redirections(saved);
                        result
                    }
                    Ok(None) => Ok(1),
                    Err(interrupt) => Err(interrupt),
                };
                self.restore_assignments(saved_variables);
                result
            }
            Kind::External(path) => {
                let placement = self.placement(false, None);
                match self.spawn_external(simple, &expanded, &path, &placement, None, None) {
                    Ok(pid) => {
                        if self.job_control() {
                            let _ = self.system.set_process_group(pid, pid);
                            if let Some(terminal) = &self.terminal {
                                let fd = terminal.fd;
                                let _ = self.system.set_terminal_process_group(fd, pid);
                            }
                        }
                        let group = if self.job_control() { pid } else { 0 };
                        let text = print_command(&Command::Simple(simple.clone()));
                        let job = self.jobs.add(group, vec![Process { pid, state: ProcessState::Running }], text);
                        Ok(self.wait_for_job(job))
                    }
                    Err(status) => Ok(status),
                }
            }
            Kind::NotFound => {
                self.error(&[&name, b": command not found"]);
                Ok(127)
            }
        }
    }

    /// What a command name runs: special builtins first, then functions
    /// (unless `functions` is false, as for `command name`), builtins, and
    /// programs in PATH.
    pub(crate) fn classify(&mut self, name: &[u8], functions: bool) -> Kind<S> {
        if let Some(builtin) = builtins::find::<S>(name) {
            if builtin.special {
                return Kind::SpecialBuiltin(builtin);
            }
        }
        if functions {
            if let Some(function) = self.functions.get(name) {
                return Kind::Function(function.clone());
            }
        }
        if let Some(builtin) = builtins::find::<S>(name) {
            return Kind::Builtin(builtin);
        }
        match self.find_program(name) {
            Some(path) => Kind::External(path),
            None => Kind::NotFound,
        }
    }

    /// The path a program name runs: itself when it has a slash, else the
    /// first executable regular file of that name in PATH.
    pub(crate) fn find_program(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        if name.contains(&b'/') {
            return Some(name.to_vec());
        }
        if name.is_empty() {
            return None;
        }
        if let Some(path) = self.command_paths.get(name) {
            return Some(path.clone());
        }
        let search = self.variables.get(b"PATH").map_or_else(|| b"/bin:/usr/bin".to_vec(), <[u8]>::to_vec);
        for directory in search.split(|&byte| byte == b':') {
            let mut candidate = if directory.is_empty() { b".".to_vec() } else { directory.to_vec() };
            candidate.push(b'/');
            candidate.extend_from_slice(name);
            let regular = matches!(self.system.metadata(&candidate, true), Ok(metadata) if metadata.kind == crate::system::FileKind::Regular);
            if regular && self.system.access(&candidate, crate::system::Access::Execute) {
                self.command_paths.insert(name.to_vec(), candidate.clone());
                return Some(candidate);
            }
        }
        None
    }

    /// Whether a job stopped by `signal` was stopped only for reaching the
    /// terminal before it was its foreground group: a terminal signal
    /// (SIGTTIN, SIGTTOU) to a job that holds the terminal now. Without the
    /// spawn attribute (`System::spawn_gives_terminal`) the shell gives the
    /// terminal after the spawn returns, and a program quick to read or set
    /// the terminal (a second shell, vi) can be stopped first.
    fn holds_terminal(&mut self, number: usize, signal: i32) -> bool {
        if signal != signal::TERMINAL_INPUT && signal != signal::TERMINAL_OUTPUT || !self.job_control() {
            return false;
        }
        let Some(fd) = self.terminal.as_ref().map(|terminal| terminal.fd) else { return false };
        let Some(group) = self.jobs.get(number).map(|job| job.process_group) else { return false };
        group != 0 && self.system.terminal_process_group(fd) == Ok(group)
    }

    /// Starts a program: its redirections opened here, then one spawn with
    /// the pipes, redirections, process group and terminal. Returns the pid,
    /// or the status of the failure (already reported).
    fn spawn_external(
        &mut self,
        simple: &SimpleCommand,
        expanded: &Expanded,
        path: &[u8],
        placement: &Placement,
        input: Option<i32>,
        output: Option<i32>,
    ) -> Result<ProcessId, i32> {
        let prepared = match self.prepare_redirections(&simple.redirections) {
            Ok(Some(prepared)) => prepared,
            Ok(None) => return Err(1),
            Err(Interrupt::Exit(status) | Interrupt::Abort(status) | Interrupt::Return(status)) => return Err(status),
            Err(_) => return Err(1),
        };
        let mut actions = Vec::new();
        let mut null = None;
        if let Some(input) = input {
            actions.push(FileAction::Duplicate { from: input, to: 0 });
        } else if placement.detached && !prepared.steps.iter().any(|step| step.target() == 0) {
            if let Ok(fd) = self.system.open(b"/dev/null", OpenMode::Read) {
                if let Ok(moved) = self.system.duplicate_above(fd, 10) {
                    actions.push(FileAction::Duplicate { from: moved, to: 0 });
                    null = Some(moved);
                }
                let _ = self.system.close(fd);
            }
        }
        if let Some(output) = output {
            actions.push(FileAction::Duplicate { from: output, to: 1 });
        }
        if let Err(fd) = self.check_duplicates(&prepared.steps) {
            self.error_with(alloc::format!("{fd}").as_bytes(), Errno::BAD_DESCRIPTOR);
            self.close_prepared(prepared);
            return Err(1);
        }
        for step in &prepared.steps {
            actions.push(match *step {
                Step::Duplicate { from, to } => FileAction::Duplicate { from, to },
                Step::Close(target) => FileAction::Close(target),
            });
        }
        let mut attributes = SpawnAttributes {
            process_group: placement.process_group,
            foreground_terminal: None,
            default_signals: Vec::new(),
            ignored_signals: Vec::new(),
        };
        if placement.foreground && self.system.spawn_gives_terminal() {
            attributes.foreground_terminal = self.terminal.as_ref().map(|terminal| terminal.fd);
        }
        if self.options.interactive {
            attributes.default_signals = SHELL_SIGNALS.to_vec();
        }
        if placement.detached {
            attributes.ignored_signals = vec![signal::INTERRUPT, signal::QUIT];
        }
        let environment = self.variables.environment(&expanded.assignments);
        let mut result = self.system.spawn(path, &expanded.fields, &environment, &actions, &attributes);
        if result == Err(Errno::NOT_FOUND)
            && !expanded.fields[0].contains(&b'/')
            && self.command_paths.remove(&expanded.fields[0]).is_some()
        {
            // The program moved since it was found: look again.
            if let Some(path) = self.find_program(&expanded.fields[0]) {
                result = self.system.spawn(&path, &expanded.fields, &environment, &actions, &attributes);
            }
        }
        if result == Err(Errno::NOT_EXECUTABLE) {
            // Not a binary and no `#!`: a shell script, run by a subshell.
            result = self.fork_script(path, expanded, &prepared, placement, input, output);
        }
        self.close_prepared(prepared);
        if let Some(null) = null {
            let _ = self.system.close(null);
        }
        match result {
            Ok(pid) => Ok(pid),
            Err(error) => {
                self.error_with(&expanded.fields[0], error);
                Err(if error == Errno::NOT_FOUND { 127 } else { 126 })
            }
        }
    }

    /// Runs a file without `#!` that the system would not execute as a
    /// script of this shell, in a forked child (as POSIX asks).
    fn fork_script(
        &mut self,
        path: &[u8],
        expanded: &Expanded,
        prepared: &Prepared,
        placement: &Placement,
        input: Option<i32>,
        output: Option<i32>,
    ) -> Result<ProcessId, Errno> {
        let steps = prepared.steps.clone();
        let path = path.to_vec();
        let expanded = expanded.clone();
        self.fork_job_process(placement, input, output, &[], move |shell| {
            for step in steps {
                match step {
                    Step::Duplicate { from, to } => {
                        let _ = shell.system.duplicate(from, to);
                    }
                    Step::Close(target) => {
                        let _ = shell.system.close(target);
                    }
                }
            }
            for (name, value) in &expanded.assignments {
                let _ = shell.assign(name, value);
                let _ = shell.variables.export(name);
            }
            // A new shell: only the environment survives.
            let environment = shell.variables.environment(&[]);
            shell.variables = crate::variables::Variables::from_environment(environment.iter().map(Vec::as_slice));
            shell.functions.clear();
            shell.options = crate::shell::Options::default();
            shell.name = path.clone();
            shell.positional = expanded.fields[1..].to_vec();
            let text = match shell.read_file(&path) {
                Ok(text) => text,
                Err(error) => {
                    shell.error_with(&path, error);
                    return Ok(126);
                }
            };
            shell.run_text(&text)
        })
    }

    /// Reads a whole file.
    pub(crate) fn read_file(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let fd = self.system.open(path, OpenMode::Read)?;
        let mut text = Vec::new();
        let mut buffer = [0u8; 4096];
        let result = loop {
            match self.system.read(fd, &mut buffer) {
                Ok(0) => break Ok(text),
                Ok(count) => text.extend_from_slice(&buffer[..count]),
                Err(Errno::INTERRUPTED) => continue,
                Err(error) => break Err(error),
            }
        };
        let _ = self.system.close(fd);
        result
    }

    /// `exec`: with a command, replaces the shell; without, applies its
    /// redirections to the shell for good.
    fn exec_builtin(&mut self, simple: &SimpleCommand, expanded: &Expanded) -> Outcome {
        let Some(prepared) = self.prepare_redirections(&simple.redirections)? else {
            return if self.is_interactive() { Ok(1) } else { Err(Interrupt::Abort(1)) };
        };
        let applied = self.apply_redirections(&prepared, false);
        self.close_prepared(prepared);
        if applied.is_none() {
            return if self.is_interactive() { Ok(1) } else { Err(Interrupt::Abort(1)) };
        }
        let arguments = &expanded.fields[1..];
        let Some(name) = arguments.first() else { return Ok(0) };
        let Some(path) = self.find_program(name) else {
            self.error(&[b"exec: ", name, b": not found"]);
            return if self.is_interactive() { Ok(127) } else { Err(Interrupt::Exit(127)) };
        };
        if let Some(terminal) = &self.terminal {
            if let Some(modes) = terminal.modes.clone() {
                let fd = terminal.fd;
                let _ = self.system.set_terminal_modes(fd, &modes);
            }
        }
        if self.options.interactive {
            for signal in SHELL_SIGNALS {
                let _ = self.system.set_signal_action(signal, SignalAction::Default);
            }
        }
        let environment = self.variables.environment(&[]);
        let error = self.system.execute(&path, arguments, &environment);
        self.error_with(name, error);
        let status = if error == Errno::NOT_FOUND { 127 } else { 126 };
        if self.is_interactive() {
            Ok(status)
        } else {
            Err(Interrupt::Exit(status))
        }
    }

    /// Sets assignments for the duration of a builtin or function (exported
    /// meanwhile); returns what to restore.
    fn temporary_assignments(&mut self, assignments: &[(Vec<u8>, Vec<u8>)]) -> Result<SavedVariables, Interrupt> {
        let mut saved = Vec::new();
        for (name, value) in assignments {
            saved.push((name.clone(), self.variables.variable(name).cloned()));
            let result = self.assign(name, value).and_then(|()| self.variables.export(name));
            if let Err(error) = result {
                self.variable_error(error);
                self.restore_assignments(saved);
                return if self.is_interactive() { Ok(Vec::new()) } else { Err(Interrupt::Abort(1)) };
            }
        }
        Ok(saved)
    }

    fn restore_assignments(&mut self, saved: SavedVariables) {
        for (name, variable) in saved.into_iter().rev() {
            if name == b"PATH" {
                self.command_paths.clear();
            }
            self.variables.restore(&name, variable);
        }
    }

    /// Calls a function with its own positional parameters.
    pub(crate) fn call_function(&mut self, function: &Function, arguments: Vec<Vec<u8>>) -> Outcome {
        if self.function_depth >= MAX_CALL_DEPTH {
            self.error(&[b"functions nested too deeply"]);
            return Err(Interrupt::Abort(2));
        }
        let saved_positional = core::mem::replace(&mut self.positional, arguments);
        let saved_loops = core::mem::replace(&mut self.loop_depth, 0);
        self.function_depth += 1;
        self.local_frames.push(Vec::new());
        let result = self.run_compound(&function.0, &function.1);
        if let Some(frame) = self.local_frames.pop() {
            for (name, variable) in frame.into_iter().rev() {
                self.variables.restore(&name, variable);
            }
        }
        self.function_depth -= 1;
        self.loop_depth = saved_loops;
        self.positional = saved_positional;
        match result {
            Err(Interrupt::Return(status)) => Ok(status),
            other => other,
        }
    }

    /// `set -x`: the command, expanded, after PS4.
    fn trace(&mut self, expanded: &Expanded) {
        if !self.options.xtrace {
            return;
        }
        let mut line = self.variables.get(b"PS4").unwrap_or(b"+ ").to_vec();
        let mut first = true;
        for (name, value) in &expanded.assignments {
            if !first {
                line.push(b' ');
            }
            first = false;
            line.extend_from_slice(name);
            line.push(b'=');
            line.extend_from_slice(&quote(value));
        }
        for field in &expanded.fields {
            if !first {
                line.push(b' ');
            }
            first = false;
            line.extend_from_slice(&quote(field));
        }
        line.push(b'\n');
        let _ = self.write_all(2, &line);
    }

    // ---- redirections ----

    /// Opens what `redirections` need. `Ok(None)`: one failed (reported).
    pub(crate) fn prepare_redirections(&mut self, redirections: &[Redirection]) -> Result<Option<Prepared>, Interrupt> {
        let mut prepared = Prepared::default();
        for redirection in redirections {
            let target = redirection.descriptor.unwrap_or(redirection.operator.default_descriptor()) as i32;
            match self.prepare_one(redirection, target, &mut prepared) {
                Ok(true) => {}
                Ok(false) => {
                    self.close_prepared(prepared);
                    return Ok(None);
                }
                Err(interrupt) => {
                    self.close_prepared(prepared);
                    return Err(interrupt);
                }
            }
        }
        Ok(Some(prepared))
    }

    fn prepare_one(
        &mut self,
        redirection: &Redirection,
        target: i32,
        prepared: &mut Prepared,
    ) -> Result<bool, Interrupt> {
        let word = match &redirection.target {
            RedirectionTarget::HereDocument(document) => {
                let body = if document.quoted {
                    document
                        .body
                        .iter()
                        .filter_map(|part| match part {
                            WordPart::Literal(text) => Some(text.as_slice()),
                            _ => None,
                        })
                        .flatten()
                        .copied()
                        .collect()
                } else {
                    self.expand_here_document(&document.body)?
                };
                return Ok(match self.here_document(&body) {
                    Ok(fd) => {
                        prepared.owned.push(fd);
                        prepared.steps.push(Step::Duplicate { from: fd, to: target });
                        true
                    }
                    Err(error) => {
                        self.error_with(b"here-document", error);
                        false
                    }
                });
            }
            RedirectionTarget::Word(word) => self.expand_text(word)?,
        };
        let mode = match redirection.operator {
            RedirectionOperator::Input => OpenMode::Read,
            RedirectionOperator::Output if self.options.noclobber => OpenMode::WriteNew,
            RedirectionOperator::Output | RedirectionOperator::Clobber => OpenMode::Write,
            RedirectionOperator::Append => OpenMode::Append,
            RedirectionOperator::ReadWrite => OpenMode::ReadWrite,
            RedirectionOperator::DuplicateInput | RedirectionOperator::DuplicateOutput => {
                if word == b"-" {
                    prepared.steps.push(Step::Close(target));
                    return Ok(true);
                }
                let number = core::str::from_utf8(&word)
                    .ok()
                    .filter(|text| text.bytes().all(|byte| byte.is_ascii_digit()))
                    .and_then(|text| text.parse::<i32>().ok());
                return Ok(match number {
                    Some(from) => {
                        prepared.steps.push(Step::Duplicate { from, to: target });
                        true
                    }
                    None => {
                        self.error(&[&word, b": bad file descriptor number"]);
                        false
                    }
                });
            }
            RedirectionOperator::HereDocument => unreachable!("here-documents have a document target"),
        };
        match self.system.open(&word, mode) {
            Ok(fd) => {
                let moved = self.system.duplicate_above(fd, 10);
                let _ = self.system.close(fd);
                match moved {
                    Ok(moved) => {
                        prepared.owned.push(moved);
                        prepared.steps.push(Step::Duplicate { from: moved, to: target });
                        Ok(true)
                    }
                    Err(error) => {
                        self.error_with(&word, error);
                        Ok(false)
                    }
                }
            }
            Err(error) => {
                if error == Errno::EXISTS && mode == OpenMode::WriteNew {
                    self.error(&[&word, b": cannot overwrite existing file"]);
                } else {
                    self.error_with(&word, error);
                }
                Ok(false)
            }
        }
    }

    /// A descriptor reading `body`: a pipe, filled now if it fits, else by a
    /// child process.
    fn here_document(&mut self, body: &[u8]) -> Result<i32, Errno> {
        let (read, write) = self.system.pipe()?;
        if body.len() <= PIPE_BUFFER {
            let written = self.write_all(write, body);
            let _ = self.system.close(write);
            if let Err(error) = written {
                let _ = self.system.close(read);
                return Err(error);
            }
        } else {
            match self.system.fork() {
                Ok(Fork::Child) => {
                    // A writer, not a shell: it ends without running traps.
                    let _ = self.system.close(read);
                    let status = i32::from(self.write_all(write, body).is_err());
                    self.system.exit(status);
                }
                Ok(Fork::Parent(_)) => {
                    let _ = self.system.close(write);
                }
                Err(error) => {
                    let _ = self.system.close(read);
                    let _ = self.system.close(write);
                    return Err(error);
                }
            }
        }
        let moved = self.system.duplicate_above(read, 10);
        let _ = self.system.close(read);
        moved
    }

    pub(crate) fn close_prepared(&mut self, prepared: Prepared) {
        for fd in prepared.owned {
            let _ = self.system.close(fd);
        }
    }

    /// Checks that every descriptor a `>&n` copies will be open in the new
    /// process (the shell's own, or one an earlier step made); returns the bad one.
    fn check_duplicates(&mut self, steps: &[Step]) -> Result<(), i32> {
        let mut made: Vec<(i32, bool)> = Vec::new();
        for step in steps {
            match *step {
                Step::Duplicate { from, to } => {
                    let open = match made.iter().rev().find(|(fd, _)| *fd == from) {
                        Some((_, open)) => *open,
                        None => self.system.descriptor_metadata(from).is_ok(),
                    };
                    if !open {
                        return Err(from);
                    }
                    made.push((to, true));
                }
                Step::Close(target) => made.push((target, false)),
            }
        }
        Ok(())
    }

    /// Applies prepared redirections to the shell itself. With `save`, the
    /// replaced descriptors are kept aside to put back. `None`: a step
    /// failed (reported; what was applied is undone).
    pub(crate) fn apply_redirections(&mut self, prepared: &Prepared, save: bool) -> Option<Vec<Saved>> {
        let mut saved: Vec<Saved> = Vec::new();
        for step in &prepared.steps {
            let target = step.target();
            if save && !saved.iter().any(|entry| entry.target == target) {
                let copy = self.system.duplicate_above(target, 10).ok();
                saved.push(Saved { target, copy });
            }
            match *step {
                Step::Duplicate { from, to } => {
                    if from != to {
                        if let Err(error) = self.system.duplicate(from, to) {
                            self.error_with(alloc::format!("{from}").as_bytes(), error);
                            self.restore_redirections(saved);
                            return None;
                        }
                    } else if self.system.descriptor_metadata(from).is_err() {
                        self.error_with(alloc::format!("{from}").as_bytes(), Errno::BAD_DESCRIPTOR);
                        self.restore_redirections(saved);
                        return None;
                    }
                }
                Step::Close(target) => {
                    let _ = self.system.close(target);
                }
            }
        }
        Some(saved)
    }

    pub(crate) fn restore_redirections(&mut self, saved: Vec<Saved>) {
        for entry in saved.into_iter().rev() {
            match entry.copy {
                Some(copy) => {
                    let _ = self.system.duplicate(copy, entry.target);
                    let _ = self.system.close(copy);
                }
                None => {
                    let _ = self.system.close(entry.target);
                }
            }
        }
    }

    /// Prepares and applies redirections around a command run in the shell.
    fn redirect_in_shell(&mut self, redirections: &[Redirection]) -> Result<Option<Vec<Saved>>, Interrupt> {
        if redirections.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let Some(prepared) = self.prepare_redirections(redirections)? else { return Ok(None) };
        let saved = self.apply_redirections(&prepared, true);
        self.close_prepared(prepared);
        Ok(saved)
    }

    // ---- jobs ----

    /// A ^C typed after a command was entered but before the shell gave its
    /// job the terminal (the spawn and the hand-off take a while on a slow
    /// or loaded machine) went to the terminal's foreground group then, the
    /// shell's, which catches it, and the job ran on as if never
    /// interrupted. Once the job holds the terminal the shell passes such a
    /// SIGINT on to it, where it was meant to go. (SIGQUIT and SIGTSTP in
    /// that window are ignored by the shell, so lost.)
    fn pass_on_early_interrupt(&mut self, number: usize) {
        let interrupt = 1u64 << (signal::INTERRUPT - 1);
        if !self.job_control() || self.note_signals() & interrupt == 0 {
            return;
        }
        let Some(fd) = self.terminal.as_ref().map(|terminal| terminal.fd) else { return };
        let Some(group) = self.jobs.get(number).map(|job| job.process_group) else { return };
        if group == 0 || self.system.terminal_process_group(fd) != Ok(group) {
            return;
        }
        if self.system.kill(-group, signal::INTERRUPT).is_ok() {
            self.pending_signals &= !interrupt;
        }
    }

    /// Waits until a job ends or stops, gives the terminal back to the shell
    /// and returns the job's status.
    pub(crate) fn wait_for_job(&mut self, number: usize) -> i32 {
        let mut continued = 0;
        loop {
            match self.jobs.get(number).map(|job| job.state()) {
                Some(JobState::Running) => {}
                Some(JobState::Stopped(signal))
                    if continued < TERMINAL_RACE_CONTINUES && self.holds_terminal(number, signal) =>
                {
                    // Stopped for touching the terminal before the shell gave
                    // it the terminal (below): it has it now, so go on.
                    continued += 1;
                    let group = self.jobs.get(number).map_or(0, |job| job.process_group);
                    if self.system.kill(-group, signal::CONTINUE).is_ok() {
                        self.jobs.mark_running(number);
                    }
                    continue;
                }
                Some(_) => break,
                None => return 0,
            }
            self.pass_on_early_interrupt(number);
            let options = WaitOptions { no_hang: false, stopped: self.job_control() };
            match self.system.wait(-1, options) {
                Ok(Some((pid, status))) => {
                    self.jobs.update(pid, status);
                }
                Ok(None) | Err(Errno::INTERRUPTED) => {}
                Err(_) => {
                    // No children left: whatever was running is gone.
                    if let Some(job) = self.jobs.get_mut(number) {
                        for process in &mut job.processes {
                            if process.state == ProcessState::Running {
                                process.state = ProcessState::Done(WaitStatus::Exited(127));
                            }
                        }
                    }
                }
            }
        }
        let state = self.jobs.get(number).map_or(JobState::Done(WaitStatus::Exited(0)), |job| job.state());
        if self.job_control() {
            if let Some(terminal) = self.terminal.clone() {
                let _ = self.system.set_terminal_process_group(terminal.fd, terminal.shell_group);
                if let JobState::Stopped(_) = state {
                    let modes = self.system.terminal_modes(terminal.fd).ok();
                    if let Some(job) = self.jobs.get_mut(number) {
                        job.modes = modes;
                    }
                }
                if let Some(modes) = &terminal.modes {
                    let _ = self.system.set_terminal_modes(terminal.fd, modes);
                }
            }
        }
        match state {
            JobState::Stopped(signal) => {
                self.jobs.make_current(number);
                if let Some(job) = self.jobs.get_mut(number) {
                    job.reported = true;
                }
                let mut line = b"\n".to_vec();
                line.extend_from_slice(&self.jobs.status_line(number));
                line.push(b'\n');
                let _ = self.write_all(2, &line);
                128 + signal
            }
            JobState::Done(status) => {
                self.jobs.remove(number);
                if let WaitStatus::Signaled { signal: number, core_dumped } = status {
                    if number == signal::INTERRUPT {
                        if self.is_interactive() {
                            let _ = self.write_all(2, b"\n");
                            // As if the shell got the ^C: the rest of the line is abandoned.
                            self.pending_signals |= 1 << (signal::INTERRUPT - 1);
                        }
                    } else if number != signal::PIPE {
                        let mut line = signal::description(number).as_bytes().to_vec();
                        if core_dumped {
                            line.extend_from_slice(b" (core dumped)");
                        }
                        line.push(b'\n');
                        let _ = self.write_all(2, &line);
                    }
                }
                status.shell_status()
            }
            JobState::Running => 0,
        }
    }

    /// Collects state changes of background jobs without blocking.
    pub fn reap_jobs(&mut self) {
        if self.jobs.is_empty() {
            return;
        }
        loop {
            let options = WaitOptions { no_hang: true, stopped: self.job_control() };
            match self.system.wait(-1, options) {
                Ok(Some((pid, status))) => {
                    self.jobs.update(pid, status);
                }
                _ => break,
            }
        }
    }

    /// Prints the jobs that finished or stopped since last told, and
    /// forgets the finished ones (an interactive shell does this before
    /// each prompt).
    pub fn notify_jobs(&mut self) {
        self.reap_jobs();
        for number in self.jobs.numbers() {
            let Some(job) = self.jobs.get(number) else { continue };
            let state = job.state();
            let reported = job.reported;
            match state {
                JobState::Done(_) => {
                    let mut line = self.jobs.status_line(number);
                    line.push(b'\n');
                    let _ = self.write_all(2, &line);
                    self.jobs.remove(number);
                }
                JobState::Stopped(_) if !reported => {
                    let mut line = self.jobs.status_line(number);
                    line.push(b'\n');
                    let _ = self.write_all(2, &line);
                    if let Some(job) = self.jobs.get_mut(number) {
                        job.reported = true;
                    }
                }
                _ => {}
            }
        }
    }

    /// A script keeps finished background jobs for `wait`; beyond a bound
    /// the oldest finished ones go.
    fn forget_old_jobs(&mut self) {
        self.reap_jobs();
        let finished: Vec<usize> =
            self.jobs.iter().filter(|job| matches!(job.state(), JobState::Done(_))).map(|job| job.number).collect();
        if finished.len() > REMEMBERED_JOBS {
            for number in &finished[..finished.len() - REMEMBERED_JOBS] {
                self.jobs.remove(*number);
            }
        }
    }

    // ---- command substitution ----

    /// `$( program )`: the program's output, trailing newlines removed. Sets `$?`.
    pub(crate) fn command_substitution(&mut self, program: &Program) -> Result<Vec<u8>, Interrupt> {
        self.substitutions += 1;
        let (read, write) = match self.system.pipe() {
            Ok(pipe) => pipe,
            Err(error) => {
                self.error_with(b"pipe", error);
                return Err(Interrupt::Abort(2));
            }
        };
        let pid = match self.system.fork() {
            Ok(Fork::Child) => {
                let _ = self.system.close(read);
                self.become_subshell();
                let _ = self.system.duplicate(write, 1);
                let _ = self.system.close(write);
                let outcome = self.run_program(program);
                let status = self.finish(outcome);
                self.exit_process(status);
            }
            Ok(Fork::Parent(pid)) => pid,
            Err(error) => {
                let _ = self.system.close(read);
                let _ = self.system.close(write);
                self.error_with(b"fork", error);
                return Err(Interrupt::Abort(2));
            }
        };
        let _ = self.system.close(write);
        let mut output = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            match self.system.read(read, &mut buffer) {
                Ok(0) => break,
                Ok(count) => output.extend_from_slice(&buffer[..count]),
                Err(Errno::INTERRUPTED) => continue,
                Err(_) => break,
            }
        }
        let _ = self.system.close(read);
        let status = loop {
            match self.system.wait(pid, WaitOptions::default()) {
                Ok(Some((_, status))) => break status.shell_status(),
                Err(Errno::INTERRUPTED) | Ok(None) => continue,
                Err(_) => break 0,
            }
        };
        self.last_status = status;
        while output.last() == Some(&b'\n') {
            output.pop();
        }
        Ok(output)
    }
}

/// A command as a job line shows it.
fn print_command(command: &Command) -> Vec<u8> {
    let list = AndOr { first: Pipeline { negated: false, commands: vec![command.clone()] }, rest: Vec::new() };
    printer::print_and_or(&list)
}

/// A value quoted for reuse as shell input (`set`, `export -p`, `set -x`):
/// unchanged when safe, else in single quotes.
pub fn quote(value: &[u8]) -> Vec<u8> {
    let safe =
        !value.is_empty() && value.iter().all(|&byte| byte.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&byte));
    if safe {
        return value.to_vec();
    }
    let mut quoted = vec![b'\''];
    for &byte in value {
        if byte == b'\'' {
            quoted.extend_from_slice(b"'\\''");
        } else {
            quoted.push(byte);
        }
    }
    quoted.push(b'\'');
    quoted
}

#[cfg(test)]
#[path = "execute_tests.rs"]
mod tests;
