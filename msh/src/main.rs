//! The msh program: the shell library over minilibc (`posix`).
//!
//! Built by `build_minilibc_program msh` (scripts/lib/common.sh) as a
//! static no_std program; the same binary linked against minilibc's Linux
//! back end runs on the host, which is how scripts/tests/msh tests it.
#![no_std]
#![no_main]

extern crate alloc;

mod posix_system;

posix::entry!(main);

fn main(arguments: posix::Args, environment: posix::Env) -> i32 {
    let arguments: alloc::vec::Vec<alloc::vec::Vec<u8>> = arguments.iter().map(|argument| argument.to_vec()).collect();
    let environment: alloc::vec::Vec<alloc::vec::Vec<u8>> =
        environment.entries().iter().map(|entry| entry.to_vec()).collect();
    let status = msh::main(posix_system::PosixSystem::new(), &arguments, &environment);
    posix::process::exit(status)
}
