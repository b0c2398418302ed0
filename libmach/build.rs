//! Generates the Rust clients of the routines the runtime sends when a
//! program runs as a POSIX process (`proc.exit` to end with a status its
//! parent sees, `io.write` for its standard output, and what taking the
//! terminal needs), from the personality's interface files, the one
//! definition of what a process sends (STYLE.md: generated code on both
//! sides, nothing packed by hand). Only the clients are used (`process`, compiled with
//! `runtime` and for libmach's own tests; generating them costs
//! milliseconds, so it is done for every build).
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let output = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let definitions = manifest.join("../personality/interfaces/defs");
    for name in ["proc.defs", "io.defs"] {
        let definition = definitions.join(name);
        println!("cargo:rerun-if-changed={}", definition.display());
        let outputs = mach_idl::Outputs { rust: true, c: false };
        if let Err(error) = mach_idl::build(Path::new(&definition), &output, outputs) {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}
