//! The coreutils program: one binary, the tool chosen by the name it was
//! run as (see `coreutils::run`).
#![no_std]
#![no_main]

posix::entry!(main);

fn main(arguments: posix::Args, environment: posix::Env) -> i32 {
    coreutils::run(&arguments, &environment)
}
