//! Links the bootstrap task as a static executable at the usual base.
fn main() {
    println!("cargo:rustc-link-arg-bins=--image-base=0x400000");
    println!("cargo:rustc-link-arg-bins=-static");
}
