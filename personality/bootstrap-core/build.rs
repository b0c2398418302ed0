//! Generates the name service's Rust client, server trait and dispatch, and
//! its C header, from names.defs.

fn main() {
    let output = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let outputs = mach_idl::Outputs { rust: true, c: true };
    if let Err(error) = mach_idl::build(std::path::Path::new("names.defs"), &output, outputs) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
