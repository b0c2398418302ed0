//! The builtins: commands the shell runs itself, because they change the
//! shell (cd, exit, set, export, jobs...) or because starting a process for
//! them would be wasteful (echo, test, true).
//!
//! Each takes the shell and its arguments (the name first) and returns its
//! status; errors are printed as `msh: name: message`. The special builtins
//! (POSIX XCU 2.14) differ in that their assignments stay, and their errors
//! end a non-interactive shell.

use alloc::vec::Vec;
use alloc::{format, vec};

use crate::execute::{Expanded, Kind};
use crate::jobs::{JobSpecError, JobState};
use crate::shell::{Interrupt, Outcome, Shell, MAX_CALL_DEPTH, OPTION_NAMES};
use crate::syntax::{is_name, SimpleCommand, RESERVED_WORDS};
use crate::system::{signal, Access, Errno, FileKind, Metadata, SignalAction, System, WaitOptions};
use crate::test_builtin::{self, FileQueries};

pub type BuiltinFunction<S> = fn(&mut Shell<S>, &[Vec<u8>]) -> Outcome;

pub struct Builtin<S: System> {
    pub name: &'static [u8],
    pub run: BuiltinFunction<S>,
    pub special: bool,
}

impl<S: System> Clone for Builtin<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: System> Copy for Builtin<S> {}

/// Every builtin's name (for completion and `type`).
pub const NAMES: &[&[u8]] = &[
    b".",
    b":",
    b"[",
    b"bg",
    b"break",
    b"cd",
    b"command",
    b"continue",
    b"echo",
    b"eval",
    b"exec",
    b"exit",
    b"export",
    b"false",
    b"fg",
    b"getopts",
    b"jobs",
    b"kill",
    b"local",
    b"pwd",
    b"read",
    b"readonly",
    b"return",
    b"set",
    b"shift",
    b"source",
    b"test",
    b"trap",
    b"true",
    b"type",
    b"umask",
    b"unset",
    b"wait",
];

pub fn find<S: System>(name: &[u8]) -> Option<Builtin<S>> {
    let (run, special): (BuiltinFunction<S>, bool) = match name {
        b":" | b"true" => (|_, _| Ok(0), name == b":"),
        b"false" => (|_, _| Ok(1), false),
        b"." => (source, true),
        b"source" => (source, false),
        b"break" => (break_loop, true),
        b"continue" => (continue_loop, true),
        b"eval" => (eval, true),
        // Its redirections apply to the shell: the interpreter runs it.
        b"exec" => (|_, _| Ok(0), true),
        b"exit" => (exit, true),
        b"export" => (export, true),
        b"readonly" => (readonly, true),
        b"return" => (return_builtin, true),
        b"set" => (set, true),
        b"shift" => (shift, true),
        b"unset" => (unset, true),
        b"trap" => (trap, true),
        b"getopts" => (getopts, false),
        b"cd" => (cd, false),
        b"pwd" => (pwd, false),
        b"echo" => (echo, false),
        b"test" | b"[" => (test, false),
        b"read" => (read, false),
        b"jobs" => (jobs, false),
        b"fg" => (fg, false),
        b"bg" => (bg, false),
        b"wait" => (wait, false),
        b"kill" => (kill, false),
        b"umask" => (umask, false),
        b"type" => (type_builtin, false),
        b"command" => (command, false),
        b"local" => (local, false),
        _ => return None,
    };
    let name = NAMES.iter().copied().find(|candidate| *candidate == name)?;
    Some(Builtin { name, run, special })
}

// ---- helpers ----

impl<S: System> Shell<S> {
    /// `msh: builtin: message`.
    fn builtin_error(&mut self, builtin: &[u8], pieces: &[&[u8]]) {
        let mut all: Vec<&[u8]> = vec![builtin, b": "];
        all.extend_from_slice(pieces);
        self.error(&all);
    }

    /// The failure of a special builtin: ends a non-interactive shell.
    fn special_failure(&mut self, status: i32) -> Outcome {
        if self.is_interactive() {
            Ok(status)
        } else {
            Err(Interrupt::Abort(status))
        }
    }

    /// Writes a builtin's output to standard output; status 1 on error.
    fn output(&mut self, builtin: &[u8], bytes: &[u8]) -> i32 {
        match self.write_all(1, bytes) {
            Ok(()) => 0,
            Err(error) => {
                let message = self.system.error_message(error);
                self.builtin_error(builtin, &[b"write error: ", &message]);
                1
            }
        }
    }
}

/// The lowest signal in a set (bit `n - 1` for signal `n`).
fn lowest_signal(set: u64) -> Option<i32> {
    (set != 0).then(|| set.trailing_zeros() as i32 + 1)
}

fn parse_number(text: &[u8]) -> Option<i64> {
    let text = core::str::from_utf8(text).ok()?;
    text.parse::<i64>().ok()
}

// ---- control flow ----

fn break_loop<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let count = loop_count(shell, arguments)?;
    if shell.loop_depth == 0 {
        return Ok(0);
    }
    Err(Interrupt::Break(count.min(shell.loop_depth)))
}

fn continue_loop<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let count = loop_count(shell, arguments)?;
    if shell.loop_depth == 0 {
        return Ok(0);
    }
    Err(Interrupt::Continue(count.min(shell.loop_depth)))
}

fn loop_count<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Result<usize, Interrupt> {
    match arguments.get(1) {
        None => Ok(1),
        Some(text) => match parse_number(text) {
            Some(count) if count >= 1 => Ok(count as usize),
            _ => {
                shell.builtin_error(&arguments[0], &[text, b": loop count out of range"]);
                shell.special_failure(1).map(|_| 0)?;
                Err(Interrupt::Abort(1))
            }
        },
    }
}

fn return_builtin<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let status = match arguments.get(1) {
        None => shell.last_status,
        Some(text) => match parse_number(text) {
            Some(status) => (status & 0xff) as i32,
            None => {
                shell.builtin_error(b"return", &[text, b": numeric argument required"]);
                return shell.special_failure(2);
            }
        },
    };
    if shell.function_depth == 0 {
        shell.builtin_error(b"return", &[b"can only be used in a function or a sourced script"]);
        return shell.special_failure(1);
    }
    Err(Interrupt::Return(status))
}

fn exit<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let status = match arguments.get(1) {
        None => shell.last_status,
        Some(text) => match parse_number(text) {
            Some(status) => (status & 0xff) as i32,
            None => {
                shell.builtin_error(b"exit", &[text, b": numeric argument required"]);
                2
            }
        },
    };
    if shell.is_interactive() && !shell.exit_warned {
        shell.reap_jobs();
        if shell.jobs.iter().any(|job| matches!(job.state(), JobState::Stopped(_))) {
            shell.exit_warned = true;
            let _ = shell.write_all(2, b"There are stopped jobs.\n");
            return Ok(1);
        }
    }
    Err(Interrupt::Exit(status))
}

fn eval<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let text = arguments[1..].join(&b' ');
    if shell.function_depth >= MAX_CALL_DEPTH {
        shell.builtin_error(b"eval", &[b"nested too deeply"]);
        return Err(Interrupt::Abort(2));
    }
    shell.function_depth += 1;
    // `eval` is not a function: `return` inside it returns from the caller.
    let result = shell.run_text(&text);
    shell.function_depth -= 1;
    result
}

fn source<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let Some(name) = arguments.get(1) else {
        shell.builtin_error(&arguments[0], &[b"filename argument required"]);
        return shell.special_failure(2);
    };
    let path = if name.contains(&b'/') {
        Some(name.clone())
    } else {
        let search = shell.variables.get(b"PATH").map_or_else(|| b"/bin:/usr/bin".to_vec(), <[u8]>::to_vec);
        let mut found = None;
        for directory in search.split(|&byte| byte == b':') {
            let mut candidate = if directory.is_empty() { b".".to_vec() } else { directory.to_vec() };
            candidate.push(b'/');
            candidate.extend_from_slice(name);
            let regular =
                matches!(shell.system.metadata(&candidate, true), Ok(metadata) if metadata.kind == FileKind::Regular);
            if regular && shell.system.access(&candidate, Access::Read) {
                found = Some(candidate);
                break;
            }
        }
        // As bash does outside POSIX mode: the current directory last.
        found.or_else(|| shell.system.access(name, Access::Read).then(|| name.clone()))
    };
    let Some(path) = path else {
        shell.builtin_error(&arguments[0], &[name, b": not found"]);
        return shell.special_failure(1);
    };
    let text = match shell.read_file(&path) {
        Ok(text) => text,
        Err(error) => {
            let message = shell.system.error_message(error);
            shell.builtin_error(&arguments[0], &[name, b": ", &message]);
            return shell.special_failure(1);
        }
    };
    if shell.function_depth >= MAX_CALL_DEPTH {
        shell.builtin_error(&arguments[0], &[b"nested too deeply"]);
        return Err(Interrupt::Abort(2));
    }
    let saved_positional =
        (arguments.len() > 2).then(|| core::mem::replace(&mut shell.positional, arguments[2..].to_vec()));
    shell.function_depth += 1;
    let result = shell.run_text(&text);
    shell.function_depth -= 1;
    if let Some(saved) = saved_positional {
        shell.positional = saved;
    }
    match result {
        Err(Interrupt::Return(status)) => Ok(status),
        other => other,
    }
}

// ---- variables and options ----

fn export<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    attribute_builtin(shell, arguments, true)
}

fn readonly<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    attribute_builtin(shell, arguments, false)
}

/// `export` and `readonly`: with names, set the attribute (and values);
/// without, or with `-p`, list the variables that have it.
fn attribute_builtin<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>], exported: bool) -> Outcome {
    let command: &[u8] = if exported { b"export" } else { b"readonly" };
    let operands: Vec<&Vec<u8>> = arguments[1..].iter().filter(|argument| argument.as_slice() != b"-p").collect();
    if operands.first().is_some_and(|first| first.as_slice() == b"--") {
        return attribute_builtin(shell, &[&arguments[..1], &arguments[2..]].concat(), exported);
    }
    if operands.is_empty() {
        let mut listing = Vec::new();
        for (name, variable) in shell.variables.iter() {
            if (exported && variable.exported) || (!exported && variable.read_only) {
                listing.extend_from_slice(command);
                listing.push(b' ');
                listing.extend_from_slice(name);
                if let Some(value) = &variable.value {
                    listing.push(b'=');
                    listing.extend_from_slice(&quote_always(value));
                }
                listing.push(b'\n');
            }
        }
        return Ok(shell.output(command, &listing));
    }
    let mut status = 0;
    for operand in operands {
        let (name, value) = match operand.iter().position(|&byte| byte == b'=') {
            Some(equals) => (&operand[..equals], Some(&operand[equals + 1..])),
            None => (operand.as_slice(), None),
        };
        let result = match value {
            Some(value) => shell.assign(name, value),
            None => Ok(()),
        }
        .and_then(|()| if exported { shell.variables.export(name) } else { shell.variables.make_read_only(name) });
        if let Err(error) = result {
            shell.variable_error(error);
            status = 1;
        }
    }
    if status != 0 {
        return shell.special_failure(status);
    }
    Ok(0)
}

/// Quoted for `export -p` and `set`: always in single quotes, as dash prints.
fn quote_always(value: &[u8]) -> Vec<u8> {
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

fn unset<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut functions = false;
    let mut index = 1;
    while let Some(argument) = arguments.get(index) {
        match argument.as_slice() {
            b"-f" => functions = true,
            b"-v" => functions = false,
            b"--" => {
                index += 1;
                break;
            }
            _ => break,
        }
        index += 1;
    }
    let mut status = 0;
    for name in &arguments[index..] {
        if functions {
            shell.functions.remove(name);
        } else if let Err(error) = shell.variables.unset(name) {
            shell.variable_error(error);
            status = 1;
        } else if name == b"PATH" {
            shell.command_paths.clear();
        }
    }
    if status != 0 {
        return shell.special_failure(status);
    }
    Ok(0)
}

fn set<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    if arguments.len() == 1 {
        let mut listing = Vec::new();
        for (name, variable) in shell.variables.iter() {
            if let Some(value) = &variable.value {
                listing.extend_from_slice(name);
                listing.push(b'=');
                listing.extend_from_slice(&quote_always(value));
                listing.push(b'\n');
            }
        }
        return Ok(shell.output(b"set", &listing));
    }
    let mut index = 1;
    while let Some(argument) = arguments.get(index) {
        let (on, letters) = match argument.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => break,
        };
        if argument.as_slice() == b"--" {
            index += 1;
            shell.positional = arguments[index..].to_vec();
            return Ok(0);
        }
        if letters.is_empty() {
            // `set -` ends the options and turns -x and -v off.
            index += 1;
            if on {
                shell.options.xtrace = false;
                shell.options.verbose = false;
                shell.positional = arguments[index..].to_vec();
                return Ok(0);
            }
            break;
        }
        for &letter in letters {
            if letter == b'o' {
                index += 1;
                let Some(name) = arguments.get(index) else {
                    let listing = option_listing(shell, on);
                    return Ok(shell.output(b"set", &listing));
                };
                let Some((letter, _)) = OPTION_NAMES.iter().find(|(_, long)| long.as_bytes() == name.as_slice()) else {
                    shell.builtin_error(b"set", &[name, b": invalid option name"]);
                    return shell.special_failure(2);
                };
                set_option(shell, *letter, on);
                continue;
            }
            if shell.options.flag_mut(letter).is_none() {
                shell.builtin_error(b"set", &[&[if on { b'-' } else { b'+' }, letter], b": invalid option"]);
                return shell.special_failure(2);
            }
            set_option(shell, letter, on);
        }
        index += 1;
    }
    if index < arguments.len() {
        shell.positional = arguments[index..].to_vec();
    }
    Ok(0)
}

fn set_option<S: System>(shell: &mut Shell<S>, letter: u8, on: bool) {
    if letter == b'm' && on && shell.terminal.is_none() && !shell.forked && shell.system.is_terminal(0) {
        shell.enable_job_control(0);
        return;
    }
    if let Some(flag) = shell.options.flag_mut(letter) {
        *flag = on;
    }
}

/// `set -o` lists options with their state; `set +o` as commands that restore them.
fn option_listing<S: System>(shell: &Shell<S>, readable: bool) -> Vec<u8> {
    let mut listing = Vec::new();
    for (letter, name) in OPTION_NAMES {
        let on = shell.options.flag(*letter);
        if readable {
            listing.extend_from_slice(format!("{:<16}{}\n", name, if on { "on" } else { "off" }).as_bytes());
        } else {
            listing.extend_from_slice(format!("set {}o {}\n", if on { '-' } else { '+' }, name).as_bytes());
        }
    }
    listing
}

fn shift<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let count = match arguments.get(1) {
        None => 1,
        Some(text) => match parse_number(text) {
            Some(count) if count >= 0 => count as usize,
            _ => {
                shell.builtin_error(b"shift", &[text, b": numeric argument required"]);
                return shell.special_failure(2);
            }
        },
    };
    if count > shell.positional.len() {
        shell.builtin_error(b"shift", &[b"can't shift that many"]);
        return shell.special_failure(2);
    }
    shell.positional.drain(..count);
    Ok(0)
}

fn local<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    if shell.local_frames.is_empty() {
        shell.builtin_error(b"local", &[b"not in a function"]);
        return Ok(1);
    }
    let mut status = 0;
    for argument in &arguments[1..] {
        let (name, value) = match argument.iter().position(|&byte| byte == b'=') {
            Some(equals) => (&argument[..equals], Some(&argument[equals + 1..])),
            None => (argument.as_slice(), None),
        };
        if !is_name(name) {
            shell.builtin_error(b"local", &[name, b": bad variable name"]);
            status = 1;
            continue;
        }
        let saved = shell.variables.variable(name).cloned();
        if let Some(frame) = shell.local_frames.last_mut() {
            if !frame.iter().any(|(saved_name, _)| saved_name == name) {
                frame.push((name.to_vec(), saved));
            }
        }
        if let Some(value) = value {
            if let Err(error) = shell.assign(name, value) {
                shell.variable_error(error);
                status = 1;
            }
        }
    }
    Ok(status)
}

// ---- traps and options ----

fn trap<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut operands = &arguments[1..];
    if operands.first().is_some_and(|first| first.as_slice() == b"--") {
        operands = &operands[1..];
    }
    match operands {
        [] => {
            let mut listing = Vec::new();
            for (signal, action) in shell.traps.clone() {
                let name = if signal == 0 { "EXIT" } else { signal::name(signal).unwrap_or("?") };
                listing.extend_from_slice(b"trap -- ");
                listing.extend_from_slice(&quote_always(&action));
                listing.push(b' ');
                listing.extend_from_slice(name.as_bytes());
                listing.push(b'\n');
            }
            return Ok(shell.output(b"trap", &listing));
        }
        [flag] if flag.as_slice() == b"-l" => {
            let mut listing = Vec::new();
            for (position, name) in signal::NAMES.iter().enumerate() {
                listing.extend_from_slice(format!("{:2}) SIG{}\n", position + 1, name).as_bytes());
            }
            return Ok(shell.output(b"trap", &listing));
        }
        _ => {}
    }
    // `trap n …` with a number first resets every condition named.
    let (action, conditions) = if !operands[0].is_empty() && operands[0].iter().all(u8::is_ascii_digit) {
        (None, operands)
    } else if operands.len() == 1 {
        shell.builtin_error(b"trap", &[b"usage: trap [action condition ...]"]);
        return shell.special_failure(2);
    } else if operands[0].as_slice() == b"-" {
        (None, &operands[1..])
    } else {
        (Some(operands[0].clone()), &operands[1..])
    };
    let mut status = 0;
    for condition in conditions {
        let Some(number) = signal::number(condition) else {
            shell.builtin_error(b"trap", &[condition, b": bad trap"]);
            status = 1;
            continue;
        };
        if number == signal::KILL || number == signal::STOP {
            shell.builtin_error(b"trap", &[condition, b": cannot be trapped"]);
            status = 1;
            continue;
        }
        // A signal ignored when a non-interactive shell started stays so.
        if number != 0 && !shell.is_interactive() && shell.system.signal_ignored_at_start(number) {
            continue;
        }
        let disposition = match &action {
            None => {
                shell.traps.remove(&number);
                shell.untrapped_action(number)
            }
            Some(action) => {
                shell.traps.insert(number, action.clone());
                if action.is_empty() {
                    SignalAction::Ignore
                } else {
                    SignalAction::Catch
                }
            }
        };
        if number != 0 {
            if let Err(error) = shell.system.set_signal_action(number, disposition) {
                shell.error_with(b"trap", error);
                status = 1;
            }
        }
    }
    if status != 0 {
        return shell.special_failure(status);
    }
    Ok(0)
}

fn getopts<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let (Some(specification), Some(name)) = (arguments.get(1), arguments.get(2)) else {
        shell.builtin_error(b"getopts", &[b"usage: getopts optstring name [arg ...]"]);
        return Ok(2);
    };
    let operands: Vec<Vec<u8>> = if arguments.len() > 3 { arguments[3..].to_vec() } else { shell.positional.clone() };
    let silent = specification.first() == Some(&b':');
    let index_text = shell.variables.get(b"OPTIND").map_or_else(|| b"1".to_vec(), <[u8]>::to_vec);
    let index = parse_number(&index_text).filter(|&index| index >= 1).unwrap_or(1) as usize;
    // The place inside a group of options (`-abc`) is valid only while
    // OPTIND is still what getopts last set it to.
    let mut position = if shell.option_position.1 == index_text { shell.option_position.0 } else { 0 };
    let finish = |shell: &mut Shell<S>, index: usize, position: usize, option: &[u8]| -> Outcome {
        let index_text = format!("{index}").into_bytes();
        shell.option_position = (position, index_text.clone());
        let result = shell.assign(b"OPTIND", &index_text).and_then(|()| shell.assign(name, option));
        if let Err(error) = result {
            shell.variable_error(error);
            return Ok(2);
        }
        Ok(0)
    };
    let Some(argument) = operands.get(index - 1) else {
        let _ = finish(shell, index, 0, b"?");
        return Ok(1);
    };
    if position == 0 {
        if argument.as_slice() == b"--" {
            let _ = finish(shell, index + 1, 0, b"?");
            return Ok(1);
        }
        if argument.len() < 2 || argument[0] != b'-' {
            let _ = finish(shell, index, 0, b"?");
            return Ok(1);
        }
        position = 1;
    }
    let option = argument[position];
    position += 1;
    let at_end = position >= argument.len();
    let known = option != b':' && specification.contains(&option);
    let takes_argument = known
        && specification
            .iter()
            .position(|&byte| byte == option)
            .is_some_and(|at| specification.get(at + 1) == Some(&b':'));
    let _ = shell.variables.unset(b"OPTARG");
    if !known {
        if silent {
            let _ = shell.assign(b"OPTARG", &[option]);
        } else {
            let program = shell.name.clone();
            let _ = shell.write_all(2, &[&program[..], b": illegal option -- ", &[option], b"\n"].concat());
        }
        let (index, position) = if at_end { (index + 1, 0) } else { (index, position) };
        return finish(shell, index, position, b"?");
    }
    if !takes_argument {
        let (index, position) = if at_end { (index + 1, 0) } else { (index, position) };
        return finish(shell, index, position, &[option]);
    }
    let value = if !at_end {
        Some((argument[position..].to_vec(), index + 1))
    } else {
        operands.get(index).map(|next| (next.clone(), index + 2))
    };
    match value {
        Some((value, next_index)) => {
            let _ = shell.assign(b"OPTARG", &value);
            finish(shell, next_index, 0, &[option])
        }
        None => {
            if silent {
                let _ = shell.assign(b"OPTARG", &[option]);
                finish(shell, index + 1, 0, b":")
            } else {
                let program = shell.name.clone();
                let _ = shell
                    .write_all(2, &[&program[..], b": option requires an argument -- ", &[option], b"\n"].concat());
                finish(shell, index + 1, 0, b"?")
            }
        }
    }
}

// ---- directories ----

fn cd<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut physical = false;
    let mut index = 1;
    while let Some(argument) = arguments.get(index) {
        match argument.as_slice() {
            b"-L" => physical = false,
            b"-P" => physical = true,
            b"--" => {
                index += 1;
                break;
            }
            _ => break,
        }
        index += 1;
    }
    let mut print = false;
    let target = match arguments.get(index).map(Vec::as_slice) {
        None => match shell.variables.get(b"HOME") {
            Some(home) if !home.is_empty() => home.to_vec(),
            _ => {
                shell.builtin_error(b"cd", &[b"HOME not set"]);
                return Ok(1);
            }
        },
        Some(b"-") => match shell.variables.get(b"OLDPWD") {
            Some(old) => {
                print = true;
                old.to_vec()
            }
            None => {
                shell.builtin_error(b"cd", &[b"OLDPWD not set"]);
                return Ok(1);
            }
        },
        Some(directory) => directory.to_vec(),
    };
    let mut candidates: Vec<(Vec<u8>, bool)> = Vec::new();
    let relative = !target.starts_with(b"/")
        && !target.starts_with(b"./")
        && !target.starts_with(b"../")
        && target != b"."
        && target != b"..";
    if relative {
        if let Some(search) = shell.variables.get(b"CDPATH").map(<[u8]>::to_vec) {
            for entry in search.split(|&byte| byte == b':') {
                if entry.is_empty() {
                    continue;
                }
                let mut candidate = entry.to_vec();
                if !candidate.ends_with(b"/") {
                    candidate.push(b'/');
                }
                candidate.extend_from_slice(&target);
                candidates.push((candidate, true));
            }
        }
    }
    candidates.push((target.clone(), false));
    let old = shell.variables.get(b"PWD").map(<[u8]>::to_vec);
    let mut last_error = Errno::NOT_FOUND;
    for (candidate, from_search) in candidates {
        let logical = if physical { None } else { Some(logical_path(old.as_deref(), &candidate)) };
        let attempt = match &logical {
            Some(path) => shell.system.change_directory(path),
            None => shell.system.change_directory(&candidate),
        };
        let attempt = match attempt {
            // A logical path through a missing `..` parent: try as written.
            Err(_) if logical.is_some() => {
                shell.system.change_directory(&candidate).map(|()| None::<Vec<u8>>).map(|_| false)
            }
            Ok(()) => Ok(true),
            Err(error) => Err(error),
        };
        match attempt {
            Ok(logical_worked) => {
                let new = match (logical_worked, logical) {
                    (true, Some(path)) => path,
                    _ => shell.system.current_directory().unwrap_or(candidate.clone()),
                };
                if let Some(old) = old {
                    let _ = shell.assign(b"OLDPWD", &old);
                }
                let _ = shell.assign(b"PWD", &new);
                if print || from_search {
                    let mut line = new.clone();
                    line.push(b'\n');
                    return Ok(shell.output(b"cd", &line));
                }
                return Ok(0);
            }
            Err(error) => last_error = error,
        }
    }
    let message = shell.system.error_message(last_error);
    shell.builtin_error(b"cd", &[&target, b": ", &message]);
    Ok(1)
}

/// `path` made absolute against `base` (PWD), with `.` and `..` removed
/// lexically (as `cd -L` does).
pub fn logical_path(base: Option<&[u8]>, path: &[u8]) -> Vec<u8> {
    let mut components: Vec<&[u8]> = Vec::new();
    if !path.starts_with(b"/") {
        if let Some(base) = base {
            components.extend(base.split(|&byte| byte == b'/').filter(|component| !component.is_empty()));
        }
    }
    for component in path.split(|&byte| byte == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                components.pop();
            }
            other => components.push(other),
        }
    }
    let mut result = Vec::new();
    for component in components {
        result.push(b'/');
        result.extend_from_slice(component);
    }
    if result.is_empty() {
        result.push(b'/');
    }
    result
}

fn pwd<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let physical = arguments[1..].iter().any(|argument| argument.as_slice() == b"-P");
    let path = match (physical, shell.variables.get(b"PWD")) {
        (false, Some(logical)) if logical.starts_with(b"/") => logical.to_vec(),
        _ => match shell.system.current_directory() {
            Ok(path) => path,
            Err(error) => {
                let message = shell.system.error_message(error);
                shell.builtin_error(b"pwd", &[&message]);
                return Ok(1);
            }
        },
    };
    let mut line = path;
    line.push(b'\n');
    Ok(shell.output(b"pwd", &line))
}

fn umask<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let symbolic = arguments.get(1).is_some_and(|argument| argument.as_slice() == b"-S");
    let operands = &arguments[1 + usize::from(symbolic)..];
    let current = shell.system.set_umask(0);
    shell.system.set_umask(current);
    let Some(mode) = operands.first() else {
        let text = if symbolic {
            let allowed = !current & 0o777;
            let part = |shift: u32| {
                let bits = (allowed >> shift) & 7;
                let mut text = alloc::string::String::new();
                if bits & 4 != 0 {
                    text.push('r');
                }
                if bits & 2 != 0 {
                    text.push('w');
                }
                if bits & 1 != 0 {
                    text.push('x');
                }
                text
            };
            format!("u={},g={},o={}\n", part(6), part(3), part(0))
        } else {
            format!("{:04o}\n", current)
        };
        return Ok(shell.output(b"umask", text.as_bytes()));
    };
    let new = if mode.first().is_some_and(u8::is_ascii_digit) {
        let parsed = core::str::from_utf8(mode)
            .ok()
            .and_then(|text| u32::from_str_radix(text, 8).ok())
            .filter(|value| *value <= 0o777);
        match parsed {
            Some(value) => value,
            None => {
                shell.builtin_error(b"umask", &[mode, b": invalid mode"]);
                return Ok(1);
            }
        }
    } else {
        match symbolic_umask(current, mode) {
            Some(value) => value,
            None => {
                shell.builtin_error(b"umask", &[mode, b": invalid mode"]);
                return Ok(1);
            }
        }
    };
    shell.system.set_umask(new);
    Ok(0)
}

/// A symbolic mode (`u=rwx,g+w,o-rwx`) applied to the permissions the mask
/// allows; returns the new mask.
pub fn symbolic_umask(mask: u32, mode: &[u8]) -> Option<u32> {
    let mut allowed = !mask & 0o777;
    for clause in mode.split(|&byte| byte == b',') {
        let who_length = clause.iter().take_while(|byte| b"ugoa".contains(byte)).count();
        let (who, rest) = clause.split_at(who_length);
        let mut who_bits = 0;
        for &letter in who {
            who_bits |= match letter {
                b'u' => 0o700,
                b'g' => 0o070,
                b'o' => 0o007,
                _ => 0o777,
            };
        }
        if who_bits == 0 {
            who_bits = 0o777;
        }
        let (&operator, permissions) = rest.split_first()?;
        let mut bits = 0;
        for &letter in permissions {
            bits |= match letter {
                b'r' => 0o444,
                b'w' => 0o222,
                b'x' => 0o111,
                _ => return None,
            };
        }
        bits &= who_bits;
        match operator {
            b'+' => allowed |= bits,
            b'-' => allowed &= !bits,
            b'=' => allowed = (allowed & !who_bits) | bits,
            _ => return None,
        }
    }
    Some(!allowed & 0o777)
}

// ---- output and input ----

fn echo<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut newline = true;
    let mut escapes = true;
    let mut index = 1;
    while let Some(argument) = arguments.get(index) {
        let is_option =
            argument.len() > 1 && argument[0] == b'-' && argument[1..].iter().all(|letter| b"neE".contains(letter));
        if !is_option {
            break;
        }
        for &letter in &argument[1..] {
            match letter {
                b'n' => newline = false,
                b'e' => escapes = true,
                _ => escapes = false,
            }
        }
        index += 1;
    }
    let mut output = Vec::new();
    'arguments: for (position, argument) in arguments[index..].iter().enumerate() {
        if position > 0 {
            output.push(b' ');
        }
        if !escapes {
            output.extend_from_slice(argument);
            continue;
        }
        let mut bytes = argument.iter().copied().peekable();
        while let Some(byte) = bytes.next() {
            if byte != b'\\' {
                output.push(byte);
                continue;
            }
            match bytes.next() {
                Some(b'a') => output.push(7),
                Some(b'b') => output.push(8),
                Some(b'c') => {
                    newline = false;
                    break 'arguments;
                }
                Some(b'e') => output.push(0x1b),
                Some(b'f') => output.push(12),
                Some(b'n') => output.push(b'\n'),
                Some(b'r') => output.push(b'\r'),
                Some(b't') => output.push(b'\t'),
                Some(b'v') => output.push(11),
                Some(b'\\') => output.push(b'\\'),
                Some(b'0') => {
                    let mut value: u32 = 0;
                    for _ in 0..3 {
                        match bytes.peek() {
                            Some(digit @ b'0'..=b'7') => {
                                value = value * 8 + u32::from(digit - b'0');
                                bytes.next();
                            }
                            _ => break,
                        }
                    }
                    output.push(value as u8);
                }
                Some(other) => {
                    output.push(b'\\');
                    output.push(other);
                }
                None => output.push(b'\\'),
            }
        }
    }
    if newline {
        output.push(b'\n');
    }
    Ok(shell.output(b"echo", &output))
}

fn test<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let name = arguments[0].clone();
    let operands = if name == b"[" {
        if arguments.last().map(Vec::as_slice) != Some(b"]") || arguments.len() < 2 {
            shell.builtin_error(b"[", &[b"missing `]'"]);
            return Ok(2);
        }
        &arguments[1..arguments.len() - 1]
    } else {
        &arguments[1..]
    };
    let mut queries = SystemFiles(&mut shell.system);
    match test_builtin::evaluate(operands, &mut queries) {
        Ok(true) => Ok(0),
        Ok(false) => Ok(1),
        Err(error) => {
            shell.builtin_error(&name, &[&error.0]);
            Ok(2)
        }
    }
}

struct SystemFiles<'s, S: System>(&'s mut S);

impl<S: System> FileQueries for SystemFiles<'_, S> {
    fn metadata(&mut self, path: &[u8], follow: bool) -> Option<Metadata> {
        if path.is_empty() {
            return None;
        }
        self.0.metadata(path, follow).ok()
    }
    fn access(&mut self, path: &[u8], access: Access) -> bool {
        !path.is_empty() && self.0.access(path, access)
    }
    fn is_terminal(&mut self, fd: i32) -> bool {
        self.0.is_terminal(fd)
    }
    fn effective_user_id(&mut self) -> u32 {
        self.0.effective_user_id()
    }
    fn effective_group_id(&mut self) -> u32 {
        self.0.effective_group_id()
    }
}

fn read<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut raw = false;
    let mut prompt: Option<Vec<u8>> = None;
    let mut index = 1;
    while let Some(argument) = arguments.get(index) {
        match argument.as_slice() {
            b"-r" => raw = true,
            b"-p" => {
                index += 1;
                prompt = arguments.get(index).cloned();
            }
            b"--" => {
                index += 1;
                break;
            }
            option if option.starts_with(b"-") && option.len() > 1 => {
                shell.builtin_error(b"read", &[option, b": invalid option"]);
                return Ok(2);
            }
            _ => break,
        }
        index += 1;
    }
    let names: Vec<Vec<u8>> =
        if index < arguments.len() { arguments[index..].to_vec() } else { vec![b"REPLY".to_vec()] };
    for name in &names {
        if !is_name(name) {
            shell.builtin_error(b"read", &[name, b": bad variable name"]);
            return Ok(2);
        }
    }
    if let Some(prompt) = prompt {
        if shell.system.is_terminal(0) {
            let _ = shell.write_all(2, &prompt);
        }
    }
    // (byte, escaped): an escaped byte is never a delimiter.
    let mut line: Vec<(u8, bool)> = Vec::new();
    let mut reader = LineReader::new(shell);
    let mut at_end = false;
    loop {
        let byte = match reader.next(shell) {
            Ok(Some(byte)) => byte,
            Ok(None) => {
                at_end = true;
                break;
            }
            Err(status) => return Ok(status),
        };
        if byte == b'\n' {
            break;
        }
        if byte == b'\\' && !raw {
            match reader.next(shell) {
                Ok(Some(b'\n')) => continue,
                Ok(Some(next)) => line.push((next, true)),
                Ok(None) => {
                    at_end = true;
                    break;
                }
                Err(status) => return Ok(status),
            }
            continue;
        }
        line.push((byte, false));
    }
    reader.finish(shell);
    let ifs = shell.variables.get(b"IFS").map_or_else(|| b" \t\n".to_vec(), <[u8]>::to_vec);
    let values = split_read_line(&line, &ifs, names.len());
    for (name, value) in names.iter().zip(values) {
        if let Err(error) = shell.assign(name, &value) {
            shell.variable_error(error);
            return Ok(2);
        }
    }
    Ok(i32::from(at_end))
}

/// Reads standard input for `read`: a byte at a time from a pipe or
/// terminal (so nothing after the line is taken from the next reader), in
/// blocks from a seekable file (seeking back over what was not used).
struct LineReader {
    seekable: bool,
    buffer: Vec<u8>,
    position: usize,
}

impl LineReader {
    fn new<S: System>(shell: &mut Shell<S>) -> Self {
        let seekable = shell.system.seek_relative(0, 0).is_ok() && !shell.system.is_terminal(0);
        LineReader { seekable, buffer: Vec::new(), position: 0 }
    }

    /// The next byte; `Err(status)` when interrupted by a signal.
    fn next<S: System>(&mut self, shell: &mut Shell<S>) -> Result<Option<u8>, i32> {
        if self.position < self.buffer.len() {
            self.position += 1;
            return Ok(Some(self.buffer[self.position - 1]));
        }
        let mut block = [0u8; 512];
        let wanted = if self.seekable { block.len() } else { 1 };
        loop {
            match shell.system.read(0, &mut block[..wanted]) {
                Ok(0) => return Ok(None),
                Ok(count) => {
                    self.buffer.clear();
                    self.buffer.extend_from_slice(&block[..count]);
                    self.position = 1;
                    return Ok(Some(self.buffer[0]));
                }
                Err(Errno::INTERRUPTED) => {
                    if let Some(signal) = lowest_signal(shell.note_signals()) {
                        return Err(128 + signal);
                    }
                }
                Err(error) => {
                    let message = shell.system.error_message(error);
                    shell.builtin_error(b"read", &[&message]);
                    return Err(2);
                }
            }
        }
    }

    /// Gives back what was read past the line.
    fn finish<S: System>(self, shell: &mut Shell<S>) {
        let unused = self.buffer.len() - self.position;
        if unused > 0 {
            let _ = shell.system.seek_relative(0, -(unused as i64));
        }
    }
}

/// Splits a line read by `read` among `count` variables: IFS splitting,
/// the last variable taking the rest of the line (less trailing IFS white space).
pub fn split_read_line(line: &[(u8, bool)], ifs: &[u8], count: usize) -> Vec<Vec<u8>> {
    let is_delimiter = |&(byte, escaped): &(u8, bool)| !escaped && ifs.contains(&byte);
    let is_white = |item: &(u8, bool)| is_delimiter(item) && matches!(item.0, b' ' | b'\t' | b'\n');
    let mut values = Vec::new();
    let mut position = 0;
    while position < line.len() && is_white(&line[position]) {
        position += 1;
    }
    for variable in 0..count {
        if variable + 1 == count {
            let mut end = line.len();
            while end > position && is_white(&line[end - 1]) {
                end -= 1;
            }
            values.push(line[position..end].iter().map(|item| item.0).collect());
            break;
        }
        let start = position;
        while position < line.len() && !is_delimiter(&line[position]) {
            position += 1;
        }
        values.push(line[start..position].iter().map(|item| item.0).collect());
        // Skip one delimiter with the white space around it.
        while position < line.len() && is_white(&line[position]) {
            position += 1;
        }
        if position < line.len() && is_delimiter(&line[position]) && !is_white(&line[position]) {
            position += 1;
            while position < line.len() && is_white(&line[position]) {
                position += 1;
            }
        }
    }
    while values.len() < count {
        values.push(Vec::new());
    }
    values
}

// ---- jobs ----

impl<S: System> Shell<S> {
    /// The job a builtin's operand names (`%spec`, or the current job).
    fn job_operand(&mut self, builtin: &[u8], operand: Option<&Vec<u8>>) -> Option<usize> {
        let specification = operand.map_or(&b"%+"[..], Vec::as_slice);
        match self.jobs.find(specification) {
            Ok(number) => Some(number),
            Err(JobSpecError::NoSuchJob) => {
                let shown: &[u8] = if operand.is_some() { specification } else { b"current" };
                self.builtin_error(builtin, &[shown, b": no such job"]);
                None
            }
            Err(JobSpecError::Ambiguous) => {
                self.builtin_error(builtin, &[specification, b": ambiguous job specification"]);
                None
            }
        }
    }

    /// Waits until a job has ended (not merely stopped) and forgets it.
    /// `Err(status)` if a signal interrupted the wait.
    fn wait_until_done(&mut self, number: usize) -> Result<i32, i32> {
        loop {
            match self.jobs.get(number).map(|job| job.state()) {
                None => return Ok(127),
                Some(JobState::Done(status)) => {
                    self.jobs.remove(number);
                    return Ok(status.shell_status());
                }
                // A stopped job cannot end by itself: waiting would never return.
                Some(JobState::Stopped(signal)) => return Ok(128 + signal),
                Some(JobState::Running) => {}
            }
            match self.system.wait(-1, WaitOptions { no_hang: false, stopped: self.job_control() }) {
                Ok(Some((pid, status))) => {
                    self.jobs.update(pid, status);
                }
                Ok(None) => {}
                Err(Errno::INTERRUPTED) => {
                    // A caught signal ends the wait (its trap runs next).
                    if let Some(signal) = lowest_signal(self.note_signals()) {
                        return Err(128 + signal);
                    }
                }
                Err(_) => {
                    self.jobs.remove(number);
                    return Ok(127);
                }
            }
        }
    }
}

fn jobs<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let pids_only = arguments[1..].iter().any(|argument| argument.as_slice() == b"-p");
    let long = arguments[1..].iter().any(|argument| argument.as_slice() == b"-l");
    let operands: Vec<&Vec<u8>> = arguments[1..].iter().filter(|argument| !argument.starts_with(b"-")).collect();
    shell.reap_jobs();
    let numbers: Vec<usize> = if operands.is_empty() {
        shell.jobs.numbers()
    } else {
        let mut numbers = Vec::new();
        for operand in operands {
            match shell.job_operand(b"jobs", Some(operand)) {
                Some(number) => numbers.push(number),
                None => return Ok(1),
            }
        }
        numbers
    };
    let mut listing = Vec::new();
    for &number in &numbers {
        let Some(job) = shell.jobs.get(number) else { continue };
        if pids_only {
            let pid = if job.process_group != 0 { job.process_group } else { job.last_pid() };
            listing.extend_from_slice(format!("{pid}\n").as_bytes());
            continue;
        }
        let line = shell.jobs.status_line(number);
        if long {
            let pid = job.processes.first().map_or(0, |process| process.pid);
            let marker_end = line.iter().position(|&byte| byte == b' ').unwrap_or(line.len());
            listing.extend_from_slice(&line[..marker_end]);
            listing.extend_from_slice(format!(" {pid}").as_bytes());
            listing.extend_from_slice(&line[marker_end..]);
        } else {
            listing.extend_from_slice(&line);
        }
        listing.push(b'\n');
    }
    let status = shell.output(b"jobs", &listing);
    // Finished jobs are forgotten once reported.
    for number in numbers {
        match shell.jobs.get(number).map(|job| job.state()) {
            Some(JobState::Done(_)) => {
                shell.jobs.remove(number);
            }
            Some(_) => {
                if let Some(job) = shell.jobs.get_mut(number) {
                    job.reported = true;
                }
            }
            None => {}
        }
    }
    Ok(status)
}

fn fg<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    if !shell.job_control() {
        shell.builtin_error(b"fg", &[b"no job control"]);
        return Ok(1);
    }
    shell.reap_jobs();
    let Some(number) = shell.job_operand(b"fg", arguments.get(1)) else { return Ok(1) };
    let Some(job) = shell.jobs.get(number) else { return Ok(1) };
    let group = job.process_group;
    let modes = job.modes.clone();
    let mut line = job.command.clone();
    line.push(b'\n');
    let _ = shell.write_all(2, &line);
    if let Some(terminal) = shell.terminal.clone() {
        if let Some(modes) = modes {
            let _ = shell.system.set_terminal_modes(terminal.fd, &modes);
        }
        let _ = shell.system.set_terminal_process_group(terminal.fd, group);
    }
    if let Err(error) = shell.system.kill(-group, signal::CONTINUE) {
        shell.error_with(b"fg", error);
    }
    shell.jobs.mark_running(number);
    Ok(shell.wait_for_job(number))
}

fn bg<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    if !shell.job_control() {
        shell.builtin_error(b"bg", &[b"no job control"]);
        return Ok(1);
    }
    shell.reap_jobs();
    let operands: Vec<Option<&Vec<u8>>> =
        if arguments.len() > 1 { arguments[1..].iter().map(Some).collect() } else { vec![None] };
    let mut status = 0;
    for operand in operands {
        let Some(number) = shell.job_operand(b"bg", operand) else {
            status = 1;
            continue;
        };
        let Some(job) = shell.jobs.get(number) else { continue };
        let group = job.process_group;
        if let Err(error) = shell.system.kill(-group, signal::CONTINUE) {
            shell.error_with(b"bg", error);
            status = 1;
            continue;
        }
        shell.jobs.mark_running(number);
        shell.jobs.make_current(number);
        let mut line = shell.jobs.status_line(number);
        // `[1]+ command &`, as other shells confirm it.
        if let Some(job) = shell.jobs.get(number) {
            line = format!("[{}]+ ", number).into_bytes();
            line.extend_from_slice(&job.command);
            line.extend_from_slice(b" &");
        }
        line.push(b'\n');
        let _ = shell.write_all(2, &line);
    }
    Ok(status)
}

fn wait<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    if arguments.len() == 1 {
        for number in shell.jobs.numbers() {
            if let Err(status) = shell.wait_until_done(number) {
                return Ok(status);
            }
        }
        return Ok(0);
    }
    let mut status = 0;
    for operand in &arguments[1..] {
        let number = if operand.starts_with(b"%") {
            match shell.job_operand(b"wait", Some(operand)) {
                Some(number) => Some(number),
                None => {
                    status = 127;
                    continue;
                }
            }
        } else {
            match parse_number(operand) {
                Some(pid) => shell.jobs.job_of_pid(pid as i32),
                None => {
                    shell.builtin_error(b"wait", &[operand, b": not a pid or valid job spec"]);
                    status = 2;
                    continue;
                }
            }
        };
        status = match number {
            Some(number) => match shell.wait_until_done(number) {
                Ok(status) => status,
                Err(status) => return Ok(status),
            },
            // Not a child of this shell (or already waited for).
            None => 127,
        };
    }
    Ok(status)
}

fn kill<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut signal_number = signal::TERMINATE;
    let mut index = 1;
    match arguments.get(1).map(Vec::as_slice) {
        Some(b"-l") | Some(b"-L") => {
            let mut listing = Vec::new();
            if let Some(operand) = arguments.get(2) {
                // `kill -l 130`: the signal that status stands for.
                let value = parse_number(operand).unwrap_or(-1);
                let number = if value > 128 { value - 128 } else { value };
                match signal::name(number as i32) {
                    Some(name) => {
                        listing.extend_from_slice(name.as_bytes());
                        listing.push(b'\n');
                    }
                    None => {
                        shell.builtin_error(b"kill", &[operand, b": invalid signal specification"]);
                        return Ok(1);
                    }
                }
            } else {
                for (position, name) in signal::NAMES.iter().enumerate() {
                    listing.extend_from_slice(format!("{:2}) SIG{}\n", position + 1, name).as_bytes());
                }
            }
            return Ok(shell.output(b"kill", &listing));
        }
        Some(b"-s") | Some(b"-n") => {
            let Some(name) = arguments.get(2) else {
                shell.builtin_error(b"kill", &[b"option requires an argument"]);
                return Ok(2);
            };
            match signal::number(name) {
                Some(number) => signal_number = number,
                None => {
                    shell.builtin_error(b"kill", &[name, b": invalid signal specification"]);
                    return Ok(1);
                }
            }
            index = 3;
        }
        Some(b"--") => index = 2,
        Some(option) if option.len() > 1 && option[0] == b'-' => {
            match signal::number(&option[1..]) {
                Some(number) => signal_number = number,
                None => {
                    shell.builtin_error(b"kill", &[&option[1..], b": invalid signal specification"]);
                    return Ok(1);
                }
            }
            index = 2;
            if arguments.get(2).map(Vec::as_slice) == Some(b"--") {
                index = 3;
            }
        }
        _ => {}
    }
    if index >= arguments.len() {
        shell.builtin_error(b"kill", &[b"usage: kill [-s signal | -signal] pid | %job ..."]);
        return Ok(2);
    }
    let mut status = 0;
    let mut continue_after = Vec::new();
    for operand in &arguments[index..] {
        let target = if operand.starts_with(b"%") {
            shell.reap_jobs();
            let Some(number) = shell.job_operand(b"kill", Some(operand)) else {
                status = 1;
                continue;
            };
            let Some(job) = shell.jobs.get(number) else { continue };
            // A stopped job acts on a signal only once continued (as bash does).
            if matches!(job.state(), JobState::Stopped(_))
                && ![signal::STOP, signal::TERMINAL_STOP, signal::CONTINUE, 0].contains(&signal_number)
            {
                continue_after.push(number);
            }
            if job.process_group != 0 {
                vec![-job.process_group]
            } else {
                job.processes.iter().map(|process| process.pid).filter(|&pid| pid != 0).collect()
            }
        } else {
            match parse_number(operand).and_then(|pid| i32::try_from(pid).ok()) {
                Some(pid) => vec![pid],
                None => {
                    shell.builtin_error(b"kill", &[operand, b": arguments must be process or job IDs"]);
                    status = 1;
                    continue;
                }
            }
        };
        for pid in target {
            if let Err(error) = shell.system.kill(pid, signal_number) {
                let message = shell.system.error_message(error);
                shell.builtin_error(b"kill", &[format!("({pid}) - ").as_bytes(), &message]);
                status = 1;
            } else if signal_number == signal::CONTINUE {
                // A continued job runs again (others report their end when reaped).
                if let Some(number) = shell.jobs.job_of_pid(pid.abs()) {
                    shell.jobs.mark_running(number);
                }
            }
        }
    }
    for number in continue_after {
        let Some(job) = shell.jobs.get(number) else { continue };
        let targets: Vec<i32> = if job.process_group != 0 {
            vec![-job.process_group]
        } else {
            job.processes.iter().map(|process| process.pid).filter(|&pid| pid != 0).collect()
        };
        for pid in targets {
            let _ = shell.system.kill(pid, signal::CONTINUE);
        }
        shell.jobs.mark_running(number);
    }
    Ok(status)
}

// ---- commands ----

fn type_builtin<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut status = 0;
    let mut listing = Vec::new();
    for name in &arguments[1..] {
        match describe(shell, name) {
            Some(description) => listing.extend_from_slice(&description),
            None => {
                let _ = shell.output(b"type", &core::mem::take(&mut listing));
                shell.builtin_error(b"type", &[name, b": not found"]);
                status = 1;
            }
        }
    }
    let written = shell.output(b"type", &listing);
    Ok(if status != 0 { status } else { written })
}

/// What `type` says about a name.
fn describe<S: System>(shell: &mut Shell<S>, name: &[u8]) -> Option<Vec<u8>> {
    let mut line = name.to_vec();
    if RESERVED_WORDS.contains(&name) {
        line.extend_from_slice(b" is a shell keyword\n");
        return Some(line);
    }
    match shell.classify(name, true) {
        Kind::SpecialBuiltin(_) => line.extend_from_slice(b" is a special shell builtin\n"),
        Kind::Builtin(_) => line.extend_from_slice(b" is a shell builtin\n"),
        Kind::Function(function) => {
            line.extend_from_slice(b" is a function\n");
            let definition = crate::syntax::FunctionDefinition { name: name.to_vec(), body: function };
            line.extend_from_slice(&crate::printer::print_function(&definition));
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
        }
        Kind::External(path) => {
            line.extend_from_slice(b" is ");
            line.extend_from_slice(&path);
            line.push(b'\n');
        }
        Kind::NotFound => return None,
    }
    Some(line)
}

fn command<S: System>(shell: &mut Shell<S>, arguments: &[Vec<u8>]) -> Outcome {
    let mut index = 1;
    let mut verbose = None;
    while let Some(argument) = arguments.get(index) {
        match argument.as_slice() {
            b"-v" => verbose = Some(false),
            b"-V" => verbose = Some(true),
            b"-p" => {}
            b"--" => {
                index += 1;
                break;
            }
            _ => break,
        }
        index += 1;
    }
    let operands = &arguments[index..];
    if operands.is_empty() {
        return Ok(0);
    }
    match verbose {
        Some(true) => {
            let mut status = 0;
            for name in operands {
                match describe(shell, name) {
                    Some(description) => status = shell.output(b"command", &description),
                    None => {
                        shell.builtin_error(b"command", &[name, b": not found"]);
                        status = 1;
                    }
                }
            }
            Ok(status)
        }
        Some(false) => {
            let mut status = 0;
            for name in operands {
                let line = if RESERVED_WORDS.contains(&name.as_slice()) {
                    Some(name.clone())
                } else {
                    match shell.classify(name, true) {
                        Kind::External(path) => Some(path),
                        Kind::NotFound => None,
                        _ => Some(name.clone()),
                    }
                };
                match line {
                    Some(mut line) => {
                        line.push(b'\n');
                        status = shell.output(b"command", &line);
                    }
                    None => status = 1,
                }
            }
            Ok(status)
        }
        None => {
            let expanded = Expanded { fields: operands.to_vec(), assignments: Vec::new() };
            shell.run_without_functions(expanded)
        }
    }
}

impl<S: System> Shell<S> {
    /// `command name args`: runs a builtin or program, never a function.
    fn run_without_functions(&mut self, expanded: Expanded) -> Outcome {
        let empty = SimpleCommand::default();
        match self.classify(&expanded.fields[0], false) {
            Kind::SpecialBuiltin(builtin) | Kind::Builtin(builtin) => {
                if builtin.name == b"exec" {
                    return self.run_expanded(&empty, expanded);
                }
                // Through `command`, a special builtin's errors are not fatal.
                match (builtin.run)(self, &expanded.fields) {
                    Err(Interrupt::Abort(status)) => Ok(status),
                    other => other,
                }
            }
            Kind::Function(_) | Kind::External(_) | Kind::NotFound => self.run_expanded_with(&empty, expanded, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_a_builtin() {
        use crate::model::ModelSystem;
        for name in NAMES {
            assert!(find::<ModelSystem>(name).is_some(), "{}", alloc::string::String::from_utf8_lossy(name));
        }
        let special: Vec<&[u8]> = NAMES
            .iter()
            .copied()
            .filter(|name| find::<ModelSystem>(name).is_some_and(|builtin| builtin.special))
            .collect();
        assert_eq!(
            special,
            [
                &b"."[..],
                b":",
                b"break",
                b"continue",
                b"eval",
                b"exec",
                b"exit",
                b"export",
                b"readonly",
                b"return",
                b"set",
                b"shift",
                b"trap",
                b"unset"
            ]
        );
    }

    #[test]
    fn logical_paths() {
        assert_eq!(logical_path(Some(b"/usr/lib"), b"../bin"), b"/usr/bin");
        assert_eq!(logical_path(Some(b"/usr"), b"/etc/./x/.."), b"/etc");
        assert_eq!(logical_path(Some(b"/"), b".."), b"/");
        assert_eq!(logical_path(Some(b"/a"), b"b//c/"), b"/a/b/c");
    }

    #[test]
    fn symbolic_masks() {
        assert_eq!(symbolic_umask(0o022, b"u=rwx,g=rx,o="), Some(0o027));
        assert_eq!(symbolic_umask(0o022, b"g+w"), Some(0o002));
        assert_eq!(symbolic_umask(0o000, b"a-x"), Some(0o111));
        assert_eq!(symbolic_umask(0o022, b"o-r"), Some(0o026));
        assert_eq!(symbolic_umask(0o022, b"u=q"), None);
    }

    fn items(text: &str) -> Vec<(u8, bool)> {
        text.bytes().map(|byte| (byte, false)).collect()
    }

    #[test]
    fn read_splits_with_the_last_variable_taking_the_rest() {
        let split = |text: &str, ifs: &str, count| -> Vec<alloc::string::String> {
            split_read_line(&items(text), ifs.as_bytes(), count)
                .into_iter()
                .map(|value| alloc::string::String::from_utf8(value).unwrap())
                .collect()
        };
        assert_eq!(split("  a b  c d  ", " \t\n", 2), ["a", "b  c d"]);
        assert_eq!(split("a", " \t\n", 3), ["a", "", ""]);
        assert_eq!(split("a:b:c", ":", 2), ["a", "b:c"]);
        assert_eq!(split("a::c", ":", 3), ["a", "", "c"]);
        assert_eq!(split("  lead", " ", 1), ["lead"]);
        assert_eq!(split("x y", "", 2), ["x y", ""]);
        let mut escaped = items("a b");
        escaped[1].1 = true;
        assert_eq!(split_read_line(&escaped, b" ", 2), [b"a b".to_vec(), Vec::new()]);
    }
}
