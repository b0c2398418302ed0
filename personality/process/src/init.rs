//! init's logic (the program is `src/bin/init.rs`): the command it runs
//! for `scripts/run -c`, where a command name is looked for, and the exit
//! status the machine reports.

use alloc::string::String;
use alloc::vec::Vec;

use process_core::WaitStatus;

/// Why a command line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    Empty,
    UnclosedQuote,
    /// A backslash ends the line.
    TrailingEscape,
}

/// Splits a command line into arguments the way a shell would for simple
/// words: blanks separate, `'...'` keeps everything, `"..."` keeps all
/// but `\"` and `\\`, a backslash outside quotes escapes the next byte.
pub fn split_command(line: &str) -> Result<Vec<String>, CommandError> {
    let mut arguments = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut characters = line.chars();
    while let Some(character) = characters.next() {
        match character {
            ' ' | '\t' | '\n' => {
                if in_word {
                    arguments.push(core::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some('\'') => break,
                        Some(character) => current.push(character),
                        None => return Err(CommandError::UnclosedQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match characters.next() {
                        Some('"') => break,
                        Some('\\') => match characters.next() {
                            Some(escaped @ ('"' | '\\')) => current.push(escaped),
                            Some(other) => {
                                current.push('\\');
                                current.push(other);
                            }
                            None => return Err(CommandError::UnclosedQuote),
                        },
                        Some(character) => current.push(character),
                        None => return Err(CommandError::UnclosedQuote),
                    }
                }
            }
            '\\' => {
                in_word = true;
                current.push(characters.next().ok_or(CommandError::TrailingEscape)?);
            }
            character => {
                in_word = true;
                current.push(character);
            }
        }
    }
    if in_word {
        arguments.push(current);
    }
    if arguments.is_empty() {
        return Err(CommandError::Empty);
    }
    Ok(arguments)
}

/// The shell init starts on the console: its path, and the argv[0] that
/// makes it a login shell (a leading `-`, as login(1) starts one).
pub const LOGIN_SHELL_PATH: &str = "/bin/msh";
pub const LOGIN_SHELL_NAME: &str = "-msh";

/// The environment the login shell gets: init's, without the variables a
/// login takes from the password entry of the user (HOME, USER, LOGNAME,
/// SHELL), which the login shell fills in itself (docs/msh.md). init's own
/// HOME (the process server gives `/`) is not the user's home.
pub fn login_shell_environment<'a>(environment: impl IntoIterator<Item = &'a [u8]>) -> Vec<&'a [u8]> {
    const ACCOUNT_VARIABLES: [&[u8]; 4] = [b"HOME=", b"USER=", b"LOGNAME=", b"SHELL="];
    environment
        .into_iter()
        .filter(|variable| !ACCOUNT_VARIABLES.iter().any(|prefix| variable.starts_with(prefix)))
        .collect()
}

/// Where init looks for a command: a name with a slash is a path; another
/// is looked for in `/bin`.
pub fn command_path(name: &str) -> String {
    if name.contains('/') {
        String::from(name)
    } else {
        let mut path = String::from("/bin/");
        path.push_str(name);
        path
    }
}

/// The status init reports for its command (and the machine exits with):
/// its exit code, or 128 + the signal that killed it (as a shell says).
pub fn exit_code(status: i32) -> i32 {
    match WaitStatus::decode(status) {
        Some(WaitStatus::Exited(code)) => code as i32,
        Some(WaitStatus::Signaled { signal, .. }) => 128 + signal.number() as i32,
        _ => 255,
    }
}

/// What init does when the login shell on the console ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginShellEnd {
    /// It exited (`exit`, ^D): the session is over and the machine goes
    /// off with its status, as issue 14 asks of the login shell's `exit`.
    PowerOff(i32),
    /// It was killed (a crash, or `kill -9 $$`): a new one is started, so
    /// that the console is never left without a shell. The status as a
    /// shell reports it.
    StartAgain(i32),
}

pub fn after_login_shell(status: i32) -> LoginShellEnd {
    match WaitStatus::decode(status) {
        Some(WaitStatus::Exited(code)) => LoginShellEnd::PowerOff(code as i32),
        _ => LoginShellEnd::StartAgain(exit_code(status)),
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use alloc::vec;

    fn words(line: &str) -> Vec<String> {
        split_command(line).unwrap()
    }

    #[test]
    fn command_lines_split_like_a_shell_splits_simple_words() {
        assert_eq!(words("ls -l /tmp"), vec!["ls", "-l", "/tmp"]);
        assert_eq!(
            words("  echo   'two  words' \"a \\\"quote\\\"\" x\\ y "),
            vec!["echo", "two  words", "a \"quote\"", "x y"]
        );
        assert_eq!(words("printf ''"), vec!["printf", ""]);
        assert_eq!(split_command("   "), Err(CommandError::Empty));
        assert_eq!(split_command("echo 'open"), Err(CommandError::UnclosedQuote));
        assert_eq!(split_command("echo \"open"), Err(CommandError::UnclosedQuote));
        assert_eq!(split_command("echo \\"), Err(CommandError::TrailingEscape));
    }

    #[test]
    fn the_login_shell_exiting_powers_off_and_a_killed_one_is_started_again() {
        assert_eq!(after_login_shell(0), LoginShellEnd::PowerOff(0));
        assert_eq!(after_login_shell(7 << 8), LoginShellEnd::PowerOff(7));
        assert_eq!(after_login_shell(9), LoginShellEnd::StartAgain(137));
        assert_eq!(after_login_shell(11 | 0x80), LoginShellEnd::StartAgain(139));
    }

    #[test]
    fn the_login_shell_gets_no_account_variables_from_init() {
        let environment: [&[u8]; 6] =
            [b"PATH=/bin:/sbin", b"HOME=/", b"TERM=vt100", b"USER=x", b"LOGNAME=x", b"SHELLFISH=kept"];
        assert_eq!(login_shell_environment(environment), [&b"PATH=/bin:/sbin"[..], b"TERM=vt100", b"SHELLFISH=kept"]);
        assert!(LOGIN_SHELL_NAME.starts_with('-'));
    }

    #[test]
    fn names_are_looked_for_in_bin_and_statuses_map_as_a_shell_says() {
        assert_eq!(command_path("ls"), "/bin/ls");
        assert_eq!(command_path("./a.out"), "./a.out");
        assert_eq!(command_path("/sbin/x"), "/sbin/x");
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(11 | 0x80), 139, "SIGSEGV with a core: 128 + 11");
        assert_eq!(exit_code(9), 137);
    }
}
