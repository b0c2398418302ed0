//! The worked example's server, booted as a module by the bootstrap task:
//! the kv store of `libmach/examples/kv` (interface `kv.defs`, generated
//! server dispatch) registered as `kv` with the name service.
#![no_std]
#![no_main]

use libmach::SystemKernel;
use mach_examples::{println, register_service};
use mach_kv_example::{kv, store::Store};

libmach::entry!(main);

fn main(bootstrap_port: u64) {
    let port = match register_service(bootstrap_port, "kv") {
        Ok(port) => port,
        Err(error) => {
            println!("kv-server: cannot register: {error:?}");
            return;
        }
    };
    println!("kv-server: serving");
    let mut store = Store::new(&SystemKernel);
    let error = kv::serve(&mut store, &SystemKernel, port.name());
    println!("kv-server: stopped: {error:?}");
}
