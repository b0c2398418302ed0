//! The shell as a program: its command line (`msh [options] [-c string |
//! file | -s] [arguments]`), the start-up files, reading a script from
//! standard input a command at a time, and the interactive loop with the
//! line editor, history and completion.

use alloc::vec::Vec;

use crate::completion::{self, CompletionSource};
use crate::editor::{Completer, Completion, Editor, Event};
use crate::history::History;
use crate::parser::{self, Parser};
use crate::shell::{Interrupt, Shell};
use crate::system::{signal, Access, Errno, FileKind, OpenMode, SignalAction, System};

/// Lines of history kept in memory and in the file, unless HISTSIZE says.
const HISTORY_LIMIT: usize = 1000;
/// The most HISTSIZE may ask for (the history is in memory).
const HISTORY_LIMIT_MAXIMUM: usize = 100_000;

/// Where the commands come from.
enum Source {
    String(Vec<u8>),
    File(Vec<u8>),
    StandardInput,
}

/// Runs the shell with the program's arguments (argv, `$0` first) and
/// environment; returns the exit status.
pub fn main<S: System>(system: S, arguments: &[Vec<u8>], environment: &[Vec<u8>]) -> i32 {
    let program_name = arguments.first().cloned().unwrap_or_else(|| b"msh".to_vec());
    let mut login = program_name.starts_with(b"-");
    let mut interactive = None;
    let mut monitor = None;
    let mut command_string = false;
    let mut read_standard_input = false;
    let mut settings: Vec<(u8, bool)> = Vec::new();
    let mut index = 1;
    while let Some(argument) = arguments.get(index) {
        match argument.as_slice() {
            b"--" => {
                index += 1;
                break;
            }
            b"--login" => login = true,
            b"-" => {
                index += 1;
                break;
            }
            b"-o" | b"+o" => {
                let on = argument[0] == b'-';
                index += 1;
                let Some(name) = arguments.get(index) else {
                    return usage(system, b"-o needs an option name");
                };
                match crate::shell::OPTION_NAMES.iter().find(|(_, long)| long.as_bytes() == name.as_slice()) {
                    Some((letter, _)) => settings.push((*letter, on)),
                    None => return usage(system, b"unknown option name"),
                }
            }
            option if option.len() > 1 && (option[0] == b'-' || option[0] == b'+') => {
                let on = option[0] == b'-';
                for &letter in &option[1..] {
                    match letter {
                        b'c' if on => command_string = true,
                        b's' if on => read_standard_input = true,
                        b'i' => interactive = Some(on),
                        b'l' if on => login = true,
                        b'm' => monitor = Some(on),
                        b'a' | b'C' | b'e' | b'f' | b'n' | b'u' | b'v' | b'x' => settings.push((letter, on)),
                        _ => return usage(system, &[b"unknown option -", &[letter][..]].concat()),
                    }
                }
            }
            _ => break,
        }
        index += 1;
    }
    let operands = &arguments[index.min(arguments.len())..];
    let (source, name, positional) = if command_string {
        let Some(text) = operands.first() else {
            return usage(system, b"-c needs a command string");
        };
        let name = operands.get(1).cloned().unwrap_or_else(|| program_name.clone());
        (Source::String(text.clone()), name, operands.get(2..).unwrap_or(&[]).to_vec())
    } else if !read_standard_input && !operands.is_empty() {
        (Source::File(operands[0].clone()), operands[0].clone(), operands[1..].to_vec())
    } else {
        (Source::StandardInput, program_name.clone(), operands.to_vec())
    };
    let mut shell = Shell::new(system, environment.iter().map(Vec::as_slice), name, positional);
    let on_terminal = shell.system.is_terminal(0) && shell.system.is_terminal(2);
    let interactive = interactive.unwrap_or(matches!(source, Source::StandardInput) && on_terminal);
    shell.options.interactive = interactive;
    for (letter, on) in settings {
        if let Some(flag) = shell.options.flag_mut(letter) {
            *flag = on;
        }
    }
    if interactive {
        let _ = shell.system.set_signal_action(signal::INTERRUPT, SignalAction::Catch);
        let _ = shell.system.set_signal_action(signal::QUIT, SignalAction::Ignore);
        let _ = shell.system.set_signal_action(signal::TERMINATE, SignalAction::Ignore);
        if monitor.unwrap_or(true) && shell.system.is_terminal(0) {
            shell.enable_job_control(0);
        }
    } else if monitor == Some(true) && shell.system.is_terminal(0) {
        shell.enable_job_control(0);
    }
    if login {
        login_environment(&mut shell);
        // /etc/profile first; ~/.profile only if the first did not end the shell.
        if let Some(status) = source_if_present(&mut shell, b"/etc/profile") {
            return status;
        }
        if let Some(status) = source_home_profile(&mut shell) {
            return status;
        }
    }
    if interactive {
        // $ENV names a file of commands for interactive shells (after
        // parameter expansion, as POSIX asks).
        if let Some(environment_file) = shell.variables.get(b"ENV").map(<[u8]>::to_vec) {
            let path = expand_prompt(&mut shell, &environment_file);
            if let Some(status) = source_if_present(&mut shell, &path) {
                return status;
            }
        }
    }
    let status = match source {
        Source::String(text) => shell.run_main_text(&text),
        Source::File(path) => match shell.read_file(&path) {
            Ok(text) => shell.run_main_text(&text),
            Err(error) => {
                shell.error_with(&path, error);
                if error == Errno::NOT_FOUND {
                    127
                } else {
                    126
                }
            }
        },
        Source::StandardInput if interactive => Interactive::new(&mut shell).run(),
        Source::StandardInput => read_commands(&mut shell, None),
    };
    shell.run_exit_trap(status)
}

fn usage<S: System>(mut system: S, problem: &[u8]) -> i32 {
    let mut message = b"msh: ".to_vec();
    message.extend_from_slice(problem);
    message.extend_from_slice(b"\nusage: msh [-aCefimnuvx] [-o option] [-c string [name [argument...]] | -s [argument...] | file [argument...]]\n");
    let _ = system.write(2, &message);
    2
}

/// What login(1) would have done before starting the shell, for a login
/// shell started without it (init starts msh that way on Mach_R's console):
/// HOME, USER, LOGNAME and SHELL from the password entry of the real user,
/// each only where the environment lacks it (a login that ran before, or a
/// person's `HOME=... msh -l`, wins), exported; and when HOME came from the
/// password entry, the shell starts there, as after a login.
fn login_environment<S: System>(shell: &mut Shell<S>) {
    let Some(account) = shell.system.login_account() else { return };
    let home_given = shell.variables.get(b"HOME").is_some();
    for (name, value) in [
        (&b"HOME"[..], &account.home),
        (b"USER", &account.name),
        (b"LOGNAME", &account.name),
        (b"SHELL", &account.shell),
    ] {
        if shell.variables.get(name).is_none() && !value.is_empty() {
            let _ = shell.variables.set(name, value);
            let _ = shell.variables.export(name);
        }
    }
    if !home_given && !account.home.is_empty() {
        // cd's own message if the directory is missing; the shell stays
        // where it is then (login says "No directory" and uses /).
        if let Some(cd) = crate::builtins::find::<S>(b"cd") {
            let _ = (cd.run)(shell, &[b"cd".to_vec()]);
        }
    }
}

/// Runs a start-up file if it exists; `Some(status)` when it ended the shell.
fn source_if_present<S: System>(shell: &mut Shell<S>, path: &[u8]) -> Option<i32> {
    if !shell.system.access(path, Access::Read) {
        return None;
    }
    let text = shell.read_file(path).ok()?;
    match shell.run_text(&text) {
        Err(Interrupt::Exit(status)) => Some(status),
        Err(Interrupt::Abort(status)) if !shell.is_interactive() => Some(status),
        _ => None,
    }
}

fn source_home_profile<S: System>(shell: &mut Shell<S>) -> Option<i32> {
    let mut path = shell.variables.get(b"HOME")?.to_vec();
    path.extend_from_slice(b"/.profile");
    source_if_present(shell, &path)
}

/// Reads commands from standard input a line at a time and runs each
/// complete command as soon as it is read (so a command that reads standard
/// input gets the lines after it, as in any shell). With `prompts`, writes
/// PS1 and PS2 to standard error (an interactive shell not on a terminal).
fn read_commands<S: System>(shell: &mut Shell<S>, prompts: Option<()>) -> i32 {
    let mut text = Vec::new();
    loop {
        if prompts.is_some() {
            shell.notify_jobs();
            let prompt = if text.is_empty() { primary_prompt(shell) } else { secondary_prompt(shell) };
            let _ = shell.write_all(2, &prompt);
        }
        let (line, at_end) = match read_line(shell) {
            Ok(read) => read,
            Err(_) => return shell.last_status,
        };
        if shell.options.verbose {
            let _ = shell.write_all(2, &line);
        }
        text.extend_from_slice(&line);
        if at_end && text.is_empty() {
            return shell.last_status;
        }
        let mut parser = Parser::new(&text, at_end);
        let mut programs = Vec::new();
        let mut failure = None;
        loop {
            match parser.next_complete_command() {
                Ok(Some(program)) => programs.push(program),
                Ok(None) => break,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        match failure {
            Some(error) if error.is_incomplete() && !at_end => continue,
            Some(error) => {
                shell.syntax_error(&error);
                shell.last_status = 2;
                if prompts.is_none() {
                    return 2;
                }
            }
            None => {
                for program in programs {
                    if shell.options.noexec {
                        continue;
                    }
                    match shell.run_program(&program) {
                        Ok(status) => shell.last_status = status,
                        Err(Interrupt::Exit(status)) => return status,
                        Err(Interrupt::Abort(status)) => {
                            shell.last_status = status;
                            if prompts.is_none() {
                                return status;
                            }
                            break;
                        }
                        Err(Interrupt::Return(status)) => shell.last_status = status,
                        Err(Interrupt::Break(_) | Interrupt::Continue(_)) => {}
                    }
                }
            }
        }
        text.clear();
        if at_end {
            return shell.last_status;
        }
    }
}

/// One line from standard input (with its newline) and whether input
/// ended. Nothing beyond the line is consumed: from a file, a block is read
/// and the offset moved back to just after the line; from a pipe or a
/// terminal, a byte at a time.
fn read_line<S: System>(shell: &mut Shell<S>) -> Result<(Vec<u8>, bool), Errno> {
    let mut line = Vec::new();
    let seekable = !shell.system.is_terminal(0) && shell.system.seek_relative(0, 0).is_ok();
    let mut block = [0u8; 4096];
    let wanted = if seekable { block.len() } else { 1 };
    loop {
        match shell.system.read(0, &mut block[..wanted]) {
            Ok(0) => return Ok((line, true)),
            Ok(count) => {
                let read = &block[..count];
                if let Some(end) = read.iter().position(|&byte| byte == b'\n') {
                    line.extend_from_slice(&read[..=end]);
                    let unused = count - end - 1;
                    if unused > 0 {
                        shell.system.seek_relative(0, -(unused as i64))?;
                    }
                    return Ok((line, false));
                }
                line.extend_from_slice(read);
            }
            Err(Errno::INTERRUPTED) => {
                shell.note_signals();
                shell.pending_signals &= !(1 << (signal::INTERRUPT - 1));
                if shell.is_interactive() {
                    // ^C at a prompt without a line editor: a fresh line.
                    line.clear();
                    let _ = shell.write_all(2, b"\n");
                    return Ok((line, false));
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// PS1 expanded, or `directory $ ` (`#` for root) when PS1 is unset.
fn primary_prompt<S: System>(shell: &mut Shell<S>) -> Vec<u8> {
    if let Some(value) = shell.variables.get(b"PS1").map(<[u8]>::to_vec) {
        return expand_prompt(shell, &value);
    }
    let mut prompt = shell.variables.get(b"PWD").map(<[u8]>::to_vec).unwrap_or_else(|| b"?".to_vec());
    if let Some(home) = shell.variables.get(b"HOME").filter(|home| home.len() > 1) {
        if prompt.starts_with(home) && (prompt.len() == home.len() || prompt[home.len()] == b'/') {
            let mut short = b"~".to_vec();
            short.extend_from_slice(&prompt[home.len()..]);
            prompt = short;
        }
    }
    prompt.extend_from_slice(if shell.system.effective_user_id() == 0 { b" # " } else { b" $ " });
    prompt
}

fn secondary_prompt<S: System>(shell: &mut Shell<S>) -> Vec<u8> {
    let value = shell.variables.get(b"PS2").map_or_else(|| b"> ".to_vec(), <[u8]>::to_vec);
    expand_prompt(shell, &value)
}

/// A prompt variable after parameter expansion, command substitution and
/// arithmetic (as POSIX asks for PS1); the text as is if it does not parse.
fn expand_prompt<S: System>(shell: &mut Shell<S>, value: &[u8]) -> Vec<u8> {
    let mut quoted = b"\"".to_vec();
    for &byte in value {
        if byte == b'"' || byte == b'\\' {
            quoted.push(b'\\');
        }
        quoted.push(byte);
    }
    quoted.push(b'"');
    let status = shell.last_status;
    let expanded = match parser::parse(&quoted, true) {
        Ok(program) => match program.items.first().map(|item| &item.list.first.commands[..]) {
            Some([crate::syntax::Command::Simple(simple)]) if simple.words.len() == 1 => {
                shell.expand_text(&simple.words[0]).unwrap_or_else(|_| value.to_vec())
            }
            _ => value.to_vec(),
        },
        Err(_) => value.to_vec(),
    };
    shell.last_status = status;
    expanded
}

/// The interactive loop on a terminal.
struct Interactive<'s, S: System> {
    shell: &'s mut Shell<S>,
    editor: Editor,
    history: History,
    history_path: Option<Vec<u8>>,
}

impl<'s, S: System> Interactive<'s, S> {
    fn new(shell: &'s mut Shell<S>) -> Self {
        let columns = shell.system.terminal_columns(0).unwrap_or(80);
        let limit = history_limit(shell.variables.get(b"HISTSIZE"));
        let mut interactive =
            Interactive { shell, editor: Editor::new(columns), history: History::new(limit), history_path: None };
        interactive.load_history();
        interactive
    }

    fn run(mut self) -> i32 {
        if !self.shell.system.is_terminal(0) {
            return read_commands(self.shell, Some(()));
        }
        let mut text: Vec<u8> = Vec::new();
        loop {
            if text.is_empty() {
                self.shell.notify_jobs();
            }
            let prompt = if text.is_empty() { primary_prompt(self.shell) } else { secondary_prompt(self.shell) };
            match self.edit_line(&prompt) {
                Event::Line(line) => {
                    text.extend_from_slice(&line);
                    text.push(b'\n');
                }
                Event::Interrupted => {
                    text.clear();
                    self.shell.last_status = 130;
                    continue;
                }
                Event::EndOfFile => {
                    if !text.is_empty() {
                        // ^D inside an unfinished command abandons it.
                        text.clear();
                        let _ = self.shell.write_all(2, b"\n");
                        continue;
                    }
                    if self.stopped_jobs_warning() {
                        continue;
                    }
                    let _ = self.shell.write_all(2, b"exit\n");
                    return self.shell.last_status;
                }
                Event::Continue => continue,
            }
            let parsed = parser::parse(&text, false);
            match parsed {
                Err(error) if error.is_incomplete() => continue,
                Err(error) => {
                    self.remember(&text);
                    self.shell.syntax_error(&error);
                    self.shell.last_status = 2;
                }
                Ok(program) => {
                    self.remember(&text);
                    // A ^C typed at the prompt was the editor's; forget it.
                    self.shell.note_signals();
                    self.shell.pending_signals &= !(1 << (signal::INTERRUPT - 1));
                    if self.shell.options.noexec {
                        text.clear();
                        continue;
                    }
                    match self.shell.run_program(&program) {
                        Ok(status) => self.shell.last_status = status,
                        Err(Interrupt::Exit(status)) => return status,
                        Err(Interrupt::Abort(status) | Interrupt::Return(status)) => self.shell.last_status = status,
                        Err(Interrupt::Break(_) | Interrupt::Continue(_)) => {}
                    }
                }
            }
            text.clear();
        }
    }

    /// The first ^D or `exit` with stopped jobs only warns (as other shells do).
    fn stopped_jobs_warning(&mut self) -> bool {
        self.shell.reap_jobs();
        let stopped = self.shell.jobs.iter().any(|job| matches!(job.state(), crate::jobs::JobState::Stopped(_)));
        if stopped && !self.shell.exit_warned {
            self.shell.exit_warned = true;
            let _ = self.shell.write_all(2, b"There are stopped jobs.\n");
            return true;
        }
        false
    }

    /// Reads a line with the editor, the terminal in raw mode meanwhile.
    fn edit_line(&mut self, prompt: &[u8]) -> Event {
        let saved = self.shell.system.terminal_modes(0).ok();
        if let Some(modes) = &saved {
            let raw = self.shell.system.raw_modes(modes);
            let _ = self.shell.system.set_terminal_modes(0, &raw);
        }
        if let Some(columns) = self.shell.system.terminal_columns(0) {
            self.editor.set_columns(columns);
        }
        let mut output = Vec::new();
        self.editor.start(prompt, &mut output);
        let _ = self.shell.write_all(2, &output);
        let event = loop {
            let mut byte = [0u8; 1];
            match self.shell.system.read(0, &mut byte) {
                Ok(0) => break Event::EndOfFile,
                Ok(_) => {}
                Err(Errno::INTERRUPTED) => continue,
                Err(_) => break Event::EndOfFile,
            }
            output.clear();
            let mut completer = ShellCompleter { shell: &mut *self.shell };
            let event = self.editor.feed(byte[0], &mut self.history, &mut completer, &mut output);
            let _ = self.shell.write_all(2, &output);
            if event != Event::Continue {
                break event;
            }
        };
        if let Some(modes) = &saved {
            let _ = self.shell.system.set_terminal_modes(0, modes);
        }
        event
    }

    fn load_history(&mut self) {
        if self.history.limit() == 0 {
            // HISTSIZE=0: no history, and the file is left alone.
            return;
        }
        let path = match self.shell.variables.get(b"HISTFILE") {
            Some(path) => Some(path.to_vec()),
            None => self.shell.variables.get(b"HOME").map(|home| {
                let mut path = home.to_vec();
                path.extend_from_slice(b"/.msh_history");
                path
            }),
        };
        let Some(path) = path else { return };
        if let Ok(text) = self.shell.read_file(&path) {
            self.history.load(&text);
            // Keep the file bounded: rewrite it when it grew well past the limit.
            let lines = text.iter().filter(|&&byte| byte == b'\n').count();
            if lines > 2 * self.history.limit() {
                if let Ok(fd) = self.shell.system.open(&path, OpenMode::Write) {
                    let content = self.history.file_text();
                    let _ = self.shell.write_all(fd, &content);
                    let _ = self.shell.system.close(fd);
                }
            }
        }
        self.history_path = Some(path);
    }

    /// Adds a command to the history and appends it to the history file.
    fn remember(&mut self, text: &[u8]) {
        if !self.history.add(text) {
            return;
        }
        let Some(path) = self.history_path.clone() else { return };
        let mut entry = text.to_vec();
        while entry.last() == Some(&b'\n') {
            entry.pop();
        }
        entry.push(b'\n');
        if let Ok(fd) = self.shell.system.open(&path, OpenMode::Append) {
            let _ = self.shell.write_all(fd, &entry);
            let _ = self.shell.system.close(fd);
        }
    }
}

/// The history's size from HISTSIZE (read once, when the interactive
/// shell starts, after the start-up files): a decimal number of entries, 0
/// for none; anything else (or unset) gives the default, and no more than
/// `HISTORY_LIMIT_MAXIMUM` are kept.
fn history_limit(value: Option<&[u8]>) -> usize {
    let Some(value) = value.filter(|value| !value.is_empty() && value.iter().all(u8::is_ascii_digit)) else {
        return HISTORY_LIMIT;
    };
    let mut limit: usize = 0;
    for &digit in value {
        limit = limit.saturating_mul(10).saturating_add(usize::from(digit - b'0'));
    }
    limit.min(HISTORY_LIMIT_MAXIMUM)
}

/// Completion over the shell's commands and the file system.
struct ShellCompleter<'s, S: System> {
    shell: &'s mut Shell<S>,
}

impl<S: System> Completer for ShellCompleter<'_, S> {
    fn complete(&mut self, line: &[u8], cursor: usize) -> Completion {
        let mut commands: Vec<Vec<u8>> = crate::builtins::NAMES.iter().map(|name| name.to_vec()).collect();
        commands.extend(self.shell.functions.keys().cloned());
        commands.extend(crate::syntax::RESERVED_WORDS.iter().filter(|word| word.len() > 1).map(|word| word.to_vec()));
        let path = self.shell.variables.get(b"PATH").map_or_else(|| b"/bin:/usr/bin".to_vec(), <[u8]>::to_vec);
        let home = self.shell.variables.get(b"HOME").map(<[u8]>::to_vec);
        let context = completion::Context { path: &path, commands: &commands, home: home.as_deref() };
        let mut source = SystemSource(&mut self.shell.system);
        completion::complete(line, cursor, &context, &mut source)
    }
}

struct SystemSource<'s, S: System>(&'s mut S);

impl<S: System> CompletionSource for SystemSource<'_, S> {
    fn list_directory(&mut self, path: &[u8]) -> Option<Vec<Vec<u8>>> {
        self.0.read_directory(path).ok()
    }
    fn is_directory(&mut self, path: &[u8]) -> bool {
        matches!(self.0.metadata(path, true), Ok(metadata) if metadata.kind == FileKind::Directory)
    }
    fn is_executable(&mut self, path: &[u8]) -> bool {
        matches!(self.0.metadata(path, true), Ok(metadata) if metadata.kind == FileKind::Regular)
            && self.0.access(path, Access::Execute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_size_from_histsize() {
        assert_eq!(history_limit(None), HISTORY_LIMIT);
        assert_eq!(history_limit(Some(b"")), HISTORY_LIMIT);
        assert_eq!(history_limit(Some(b"25")), 25);
        assert_eq!(history_limit(Some(b"0")), 0);
        assert_eq!(history_limit(Some(b"-3")), HISTORY_LIMIT);
        assert_eq!(history_limit(Some(b"12x")), HISTORY_LIMIT);
        assert_eq!(history_limit(Some(b"99999999999999999999999")), HISTORY_LIMIT_MAXIMUM);
    }
}
