//! env: runs a command in a changed environment, or prints the
//! environment. -i starts empty, -u NAME removes NAME, NAME=VALUE sets it,
//! -C DIR changes directory first, -0 ends printed lines with NUL.

use crate::common::{output, quote, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[OPTION]... [-] [NAME=VALUE]... [COMMAND [ARG]...]\nSet each NAME to VALUE in the environment and run COMMAND.\n  -i, --ignore-environment  start with an empty environment\n  -0, --null           end each output line with NUL, not newline\n  -u, --unset=NAME     remove variable from the environment\n  -C, --chdir=DIR      change working directory to DIR\n",
    specs: &[
        Spec::flag(b'i', "ignore-environment"),
        Spec::flag(b'0', "null"),
        Spec::value(b'u', "unset"),
        Spec::value(b'C', "chdir"),
    ],
    order: Order::Posix,
    usage_status: 125,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut operands: &[&[u8]] = &parsed.operands;
    let mut clear = parsed.has(b'i');
    if operands.first() == Some(&&b"-"[..]) {
        clear = true;
        operands = &operands[1..];
    }
    if clear {
        for entry in posix::environment::current() {
            let (name, _) = posix::environment::split_entry(&entry);
            let _ = posix::environment::unset(name);
        }
    }
    for found in &parsed.options {
        if found.id == b'u' as u32 {
            let name = found.value.unwrap_or(b"");
            if name.is_empty() || name.contains(&b'=') {
                complain!("cannot unset {}: Invalid argument", quote(name));
                return 125;
            }
            let _ = posix::environment::unset(name);
        }
    }
    while let Some(first) = operands.first() {
        let Some(equals) = first.iter().position(|&byte| byte == b'=') else { break };
        if let Err(error) = posix::environment::set(&first[..equals], &first[equals + 1..]) {
            complain!("cannot set {}: {}", quote(first), error);
            return 125;
        }
        operands = &operands[1..];
    }
    let null = parsed.has(b'0');
    if let Some(directory) = parsed.value(b'C' as u32) {
        if operands.is_empty() {
            complain!("must specify command with --chdir (-C)");
            return COMMAND.try_help();
        }
        if let Err(error) = posix::fs::change_directory(directory) {
            complain!("cannot change directory to {}: {}", quote(directory), error);
            return 125;
        }
    }
    if operands.is_empty() {
        let mut out = Vec::new();
        for entry in posix::environment::current() {
            out.extend_from_slice(&entry);
            out.push(if null { 0 } else { b'\n' });
        }
        output(&out);
        return 0;
    }
    if null {
        complain!("cannot specify --null (-0) with command");
        return COMMAND.try_help();
    }
    let arguments = match posix::process::CStringArray::new(operands.iter()) {
        Ok(arguments) => arguments,
        Err(error) => {
            complain!("{}", error);
            return 125;
        }
    };
    let error = posix::process::execute_searching(operands[0], &arguments);
    complain!("{}: {}", quote(operands[0]), error);
    if error.0 == posix::ENOENT {
        127
    } else {
        126
    }
}
