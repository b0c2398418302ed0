//! init, pid 1 (docs/process-server.md, "init and the boot"): started by
//! the process server from the disk with the console as descriptors 0, 1
//! and 2. With `-c 'COMMAND LINE'` (what `scripts/run -c` gives) it has
//! msh run the line (`msh -c`), waits for it and powers the machine off
//! with its exit status; otherwise it runs `/bin/msh` on the console as a login shell
//! (argv[0] `-msh`, without init's HOME: msh takes HOME, USER, LOGNAME and
//! SHELL from /etc/passwd and reads /etc/profile and ~/.profile): when it
//! exits the machine goes off with its status, when it is killed a new one
//! starts. Either way init reaps every orphan the system gives it.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../heap.rs"]
mod heap;

use alloc::string::String;
use alloc::vec::Vec;
use libmach::abi::{PortName, AT_MACH_BOOTSTRAP, AT_MACH_CWD, AT_MACH_PROC, AT_MACH_ROOT};
use libmach::runtime::{arguments, auxiliary, descriptors, environment};
// init's lines go to the kernel log, which the console shows and the tests
// read, not to its standard output (libmach's println! in a process).
use libmach::{logln, SendRight, SystemKernel};
use mach_process::init::{
    after_login_shell, command_shell_arguments, exit_code, login_shell_environment, LoginShellEnd, COMMAND_SHELL_PATH,
    LOGIN_SHELL_NAME, LOGIN_SHELL_PATH,
};
use personality_interfaces::{fs, proc};

libmach::entry!(main);

/// What init was started with.
struct Process {
    proc: proc::Client<SystemKernel>,
    root: PortName,
    cwd: PortName,
    bootstrap: PortName,
}

fn name(key: u64) -> PortName {
    auxiliary(key).unwrap_or(0) as PortName
}

impl Process {
    /// Spawns the program at `path` with argv `words`, `environment` and
    /// init's descriptors; its pid.
    fn spawn_program(&mut self, path: &str, words: &[String], environment: &[&[u8]]) -> Result<i32, String> {
        let root = SendRight::from_name(&SystemKernel, self.root);
        let opened =
            fs::Client::new(&SystemKernel, root).map_err(|error| alloc::format!("{error:?}")).and_then(|mut client| {
                let reply = client.open(path.as_bytes(), 0, 0).map_err(|error| alloc::format!("{path}: {error:?}"));
                // The root's right is init's for good: keep its reference.
                core::mem::forget(client.into_server());
                reply
            });
        let file = opened?.file;
        let mut strings = Vec::new();
        for word in words {
            strings.extend_from_slice(word.as_bytes());
            strings.push(0);
        }
        for variable in environment {
            strings.extend_from_slice(variable);
            strings.push(0);
        }
        let keep: Vec<proc::Descriptor> = descriptors()
            .map(|descriptor| proc::Descriptor { number: descriptor.number, name: descriptor.name, flags: 0 })
            .collect();
        self.proc
            .spawn(
                &file,
                &strings,
                words.len() as u32,
                environment.len() as u32,
                &keep,
                self.root,
                self.cwd,
                self.bootstrap,
                &[],
                -1,
                false,
                -1,
                0,
                0,
                false,
                0o022,
            )
            .map_err(|error| alloc::format!("{path}: {error:?}"))
    }

    /// Waits for `pid`, reaping every other child that ends meanwhile;
    /// its status word.
    fn wait_for(&mut self, pid: i32) -> i32 {
        loop {
            match self.proc.wait(-1, 0) {
                Ok(reply) if reply.child == pid => return reply.status,
                Ok(_) => {}
                Err(error) => {
                    logln!("init: wait failed ({error:?})");
                    let _ = libmach::trap::thread_sleep(1000);
                }
            }
        }
    }

    /// Reaps orphans for ever (nothing else to run).
    fn reap(&mut self) -> ! {
        loop {
            if self.proc.wait(-1, 0).is_err() {
                // No child at all: wait a moment before asking again.
                let _ = libmach::trap::thread_sleep(1000);
            }
        }
    }
}

fn main(_bootstrap_port: u64) {
    let proc_port = name(AT_MACH_PROC);
    let proc = match proc::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, proc_port)) {
        Ok(client) => client,
        Err(error) => {
            logln!("init: no process port ({error:?})");
            return;
        }
    };
    let mut process =
        Process { proc, root: name(AT_MACH_ROOT), cwd: name(AT_MACH_CWD), bootstrap: name(AT_MACH_BOOTSTRAP) };
    let words: Vec<&[u8]> = arguments().collect();
    if words.get(1).copied() == Some(b"-c".as_slice()) {
        let line = words.get(2).map(|line| String::from_utf8_lossy(line).into_owned()).unwrap_or_default();
        let environment: Vec<&[u8]> = environment().collect();
        let code = match process.spawn_program(COMMAND_SHELL_PATH, &command_shell_arguments(&line), &environment) {
            Ok(pid) => {
                let code = exit_code(process.wait_for(pid));
                logln!("init: `{line}` exited with status {code}");
                code
            }
            Err(why) => {
                logln!("init: cannot run `{line}`: no shell ({why})");
                127
            }
        };
        match process.proc.shutdown(0, code) {
            Err(libmach::CallError::Interface(proc::Error::Enxio)) => logln!(
                "init: the machine cannot be powered off: the boot manifest grants the process server no power-off \
                 device; the system stays up"
            ),
            Err(error) => logln!("init: the machine did not go off ({error:?})"),
            Ok(()) => logln!("init: the machine did not go off"),
        }
        process.reap();
    }
    let shell = [String::from(LOGIN_SHELL_NAME)];
    let shell_environment = login_shell_environment(environment());
    loop {
        match process.spawn_program(LOGIN_SHELL_PATH, &shell, &shell_environment) {
            Ok(pid) => match after_login_shell(process.wait_for(pid)) {
                LoginShellEnd::PowerOff(code) => {
                    logln!("init: the login shell exited with status {code}; powering off");
                    let _ = process.proc.shutdown(0, code);
                    logln!("init: the machine did not go off; starting the shell again");
                }
                LoginShellEnd::StartAgain(code) => {
                    logln!("init: the login shell was killed (status {code}); starting it again");
                }
            },
            Err(why) => {
                logln!("init: cannot start the shell ({why}); reaping orphans");
                process.reap();
            }
        }
    }
}
