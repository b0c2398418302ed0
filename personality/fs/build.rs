//! Links the server as a static executable at the conventional base, and
//! generates its private timer interface (`timer.defs`).
fn main() {
    println!("cargo:rustc-link-arg-bins=--image-base=0x400000");
    println!("cargo:rustc-link-arg-bins=-static");
    println!("cargo:rerun-if-changed=timer.defs");
    let output = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let outputs = mach_idl::Outputs { rust: true, c: false };
    if let Err(error) = mach_idl::build(std::path::Path::new("timer.defs"), &output, outputs) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
