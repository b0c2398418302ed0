//! Links the program as a static executable at the conventional base.
fn main() {
    println!("cargo:rustc-link-arg-bins=--image-base=0x400000");
    println!("cargo:rustc-link-arg-bins=-static");
}
