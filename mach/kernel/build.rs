//! Hands the per-architecture linker script, kept with the architecture's
//! code in the core (mach/kcore), to the linker.
fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap();
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let script = format!("{manifest}/../kcore/src/arch/{arch}/linker.ld");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
    println!("cargo:rustc-link-arg-bins=-znostart-stop-gc");
}
