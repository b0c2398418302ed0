//! Generates the Rust code and C headers of ../kv.defs and ../echo.defs.

fn main() {
    let output = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let outputs = mach_idl::Outputs { rust: true, c: true };
    for definition in ["../kv.defs", "../echo.defs", "../minimal.defs"] {
        if let Err(error) = mach_idl::build(std::path::Path::new(definition), &output, outputs) {
            // A build script reports failure by exiting non-zero with a message.
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}
