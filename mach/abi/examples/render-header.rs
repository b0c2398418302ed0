//! Writes `include/mach/mach_abi.h` from the Rust definitions.
//!
//! Run: `cargo run -p mach-abi --example render-header`

use std::path::Path;

fn main() {
    let mut header = String::new();
    mach_abi::render_c_header(&mut header).expect("rendering into a String cannot fail");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(mach_abi::C_HEADER_PATH);
    if let Err(error) = std::fs::write(&path, header) {
        eprintln!("render-header: cannot write {}: {error}", path.display());
        std::process::exit(1);
    }
    println!("wrote {}", path.display());
}
