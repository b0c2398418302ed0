//! The generated side of the stub benchmark: serves `ping.defs` (answers
//! each ping with its value) under the name `ping`.
#![no_std]
#![no_main]

use libmach::SystemKernel;
use mach_examples::{ping, println, register_service};

libmach::entry!(main);

struct Echo;

impl ping::Server for Echo {
    fn ping(&mut self, _context: &libmach::Context<'_>, value: u32) -> Result<u32, ping::Error> {
        Ok(value)
    }
}

fn main(bootstrap_port: u64) {
    let registered = register_service(bootstrap_port, "ping");
    match registered {
        Ok(port) => {
            let error = ping::serve(&mut Echo, &SystemKernel, port.name());
            println!("ping-server: stopped: {error:?}");
        }
        Err(error) => println!("ping-server: cannot register: {error:?}"),
    }
}
