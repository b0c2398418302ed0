//! The worked example's server, booted as a module by the bootstrap task:
//! the kv store of `libmach/examples/kv` (interface `kv.defs`, generated
//! server dispatch) registered as `kv` with the name service. It serves a
//! port set: the service port, every session port, and the no-senders
//! notifications that free a session when its client's last send right
//! goes (the shape of a file server's open files).
#![no_std]
#![no_main]

use libmach::trap::MessageBuffer;
use libmach::{PortSet, SystemKernel};
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
    let set = match PortSet::allocate(&SystemKernel).and_then(|set| set.insert(&port).map(|()| set)) {
        Ok(set) => set,
        Err(error) => {
            println!("kv-server: cannot make its port set: {error:?}");
            return;
        }
    };
    let mut store = Store::new(&SystemKernel);
    store.serve_sessions_in(set.name());
    let mut request = MessageBuffer::<{ kv::BUFFER_SIZE }>::new();
    let mut reply = MessageBuffer::<{ kv::BUFFER_SIZE }>::new();
    println!("kv-server: serving");
    let error = libmach::server::run(&SystemKernel, set.name(), &mut request.0, &mut reply.0, &mut |request, reply| {
        kv::dispatch(&mut store, &SystemKernel, request, reply)
            .or_else(|| libmach::notify::dispatch(&SystemKernel, request, |notification| store.notified(notification)))
    });
    println!("kv-server: stopped: {error:?}");
}
