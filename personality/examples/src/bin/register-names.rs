//! Registers the names given as its arguments (after an optional
//! `--delay MILLISECONDS`), keeps their ports and idles: the boot-manifest
//! tests start it several times with different arguments to check start
//! order, argument passing and waiting lookups. Prints its arguments, then
//! `register-names: registered NAME` (or why not) for each.
#![no_std]
#![no_main]

use libmach::{ReceiveRight, SystemKernel};
use mach_examples::{name_service, println, serve_under};

libmach::entry!(main);

/// Most names kept.
const NAMES_MAX: usize = 8;

fn main(bootstrap_port: u64) {
    let mut arguments = libmach::runtime::arguments().skip(1).peekable();
    println!("register-names: {} argument(s)", libmach::runtime::argument_count());
    for (index, argument) in libmach::runtime::arguments().enumerate() {
        println!("register-names: argv[{index}] = {:?}", core::str::from_utf8(argument).unwrap_or("<not UTF-8>"));
    }
    if arguments.peek() == Some(&&b"--delay"[..]) {
        arguments.next();
        let delay = arguments.next().and_then(|text| core::str::from_utf8(text).ok()?.parse().ok()).unwrap_or(0);
        let _ = libmach::trap::thread_sleep(delay);
    }
    let Ok(mut names) = name_service(bootstrap_port) else {
        println!("register-names: no name service");
        return;
    };
    let mut kept: [Option<ReceiveRight<SystemKernel>>; NAMES_MAX] = Default::default();
    for (slot, argument) in kept.iter_mut().zip(arguments) {
        let name = core::str::from_utf8(argument).unwrap_or("");
        match serve_under(&mut names, name) {
            Ok(port) => {
                println!("register-names: registered {name}");
                *slot = Some(port);
            }
            Err(error) => println!("register-names: cannot register {name}: {error:?}"),
        }
    }
    // Idle with the ports alive: the names stay registered.
    libmach::runtime::park()
}
