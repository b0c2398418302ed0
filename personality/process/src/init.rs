//! init's logic (the program is `src/bin/init.rs`): the shell that runs
//! `scripts/run -c`'s command, the login shell, and the exit status the
//! machine reports.

use alloc::string::String;
use alloc::vec::Vec;

use process_core::WaitStatus;

/// The shell that runs `scripts/run -c`'s command line, and the argv it
/// gets: `msh -c LINE`, so quoting, pipes, redirections, `;`, `&&` and the
/// rest mean what they mean at the prompt, and the status is the line's (a
/// name msh cannot find is 127, as a shell says). Not a login shell: the
/// command runs as root with init's environment (PATH=/bin:/sbin, HOME=/).
pub const COMMAND_SHELL_PATH: &str = "/bin/msh";

/// The argv of the shell that runs `line`.
pub fn command_shell_arguments(line: &str) -> [String; 3] {
    [String::from("msh"), String::from("-c"), String::from(line)]
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

    #[test]
    fn a_command_line_goes_whole_to_msh() {
        let line = "cat /etc/passwd | grep 'root:' >/tmp/x && echo \"done $?\"";
        assert_eq!(command_shell_arguments(line), [String::from("msh"), String::from("-c"), String::from(line)]);
        assert_eq!(COMMAND_SHELL_PATH, LOGIN_SHELL_PATH);
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
    fn statuses_map_as_a_shell_says() {
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(11 | 0x80), 139, "SIGSEGV with a core: 128 + 11");
        assert_eq!(exit_code(9), 137);
    }
}
