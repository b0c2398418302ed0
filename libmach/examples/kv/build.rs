//! Generates the kv interface's Rust code and C header from ../kv.defs.

fn main() {
    let output = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let outputs = mach_idl::Outputs { rust: true, c: true };
    if let Err(error) = mach_idl::build(std::path::Path::new("../kv.defs"), &output, outputs) {
        // A build script reports failure by exiting non-zero with a message.
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
