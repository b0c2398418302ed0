//! The kv example: the interface generated from `libmach/examples/kv.defs`
//! ([`kv`]) and a server implementing it ([`store::Store`]). `no_std`, no
//! allocation: the same code runs in a Mach_R task.
#![no_std]
#![forbid(unsafe_code)]

/// The generated interface: `kv::Client`, `kv::Server`, `kv::dispatch`,
/// `kv::serve`, `kv::Error`, `kv::id`.
pub mod kv {
    include!(concat!(env!("OUT_DIR"), "/kv.rs"));
}

/// The generated `echo` interface (every argument type), for the property
/// tests of the generated code.
pub mod echo {
    include!(concat!(env!("OUT_DIR"), "/echo.rs"));
}

/// The smallest interface: no errors, no results.
pub mod minimal {
    include!(concat!(env!("OUT_DIR"), "/minimal.rs"));
}

/// The generated C header of `minimal`.
pub const MINIMAL_C_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/minimal.h"));

/// The generated C header of `echo`, for tests that compile it.
pub const ECHO_C_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/echo.h"));

/// The generated C header's text, for tests that compile it.
pub const C_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/kv.h"));

pub mod store;
