//! coreutils: Mach_R's utilities as one multi-call program.
//!
//! The binary is installed once and linked under each tool's name in /bin
//! (as BusyBox is): `run` picks the tool from the name it was run as
//! (argv[0]'s last component), or from the first argument when run as
//! `coreutils` (`coreutils ls -l`; `coreutils --list` prints the names).
//! One binary rather than fifty: each static program would carry its own
//! copy of minilibc and the Rust runtime (a few hundred KiB apiece on the
//! disk image and in memory), while the multi-call binary's text is shared
//! by every tool that runs.
//!
//! Each tool is a module of `tools` with `fn main(arguments) -> i32`
//! (the arguments after its name). Logic worth testing lives in pure
//! functions beside it (or in `regex`, `editor`...), tested on the host;
//! `scripts/tests/coreutils` runs the real binary against GNU's tools.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod common;
pub mod dates;
pub mod diff_algorithm;
pub mod editor;
pub mod files;
pub mod glob;
pub mod options;
pub mod pager;
pub mod printf_format;
pub mod regex;
pub mod tools;

use posix::{eprintln, println, Args, Env};

/// A tool: its name and entry point.
pub struct Tool {
    pub name: &'static str,
    pub main: fn(&[&'static [u8]]) -> i32,
}

/// Runs the tool named by argv[0] (or argv[1] after "coreutils").
pub fn run(arguments: &Args, environment: &Env) -> i32 {
    let _ = environment;
    let all = arguments.as_slice();
    let invoked = posix::path::base_name(arguments.program());
    if let Some(tool) = find(invoked) {
        return start(tool, &all[1..]);
    }
    match all.get(1).copied() {
        Some(b"--list") => {
            for tool in tools::ALL {
                println!("{}", tool.name);
            }
            0
        }
        Some(name) if !name.starts_with(b"-") => match find(name) {
            Some(tool) => start(tool, &all[2..]),
            None => {
                eprintln!("coreutils: {}: no such tool (coreutils --list names them)", common::Text(name));
                127
            }
        },
        _ => {
            eprintln!("usage: coreutils TOOL [ARGUMENT]... (or run it as TOOL; coreutils --list names them)");
            1
        }
    }
}

fn find(name: &[u8]) -> Option<&'static Tool> {
    tools::ALL.iter().find(|tool| tool.name.as_bytes() == name)
}

fn start(tool: &'static Tool, arguments: &[&'static [u8]]) -> i32 {
    posix::io::set_program_name(tool.name.as_bytes());
    (tool.main)(arguments)
}
