//! `mach-idl DEFINITION [--rust FILE] [--c FILE]`: generates Rust and/or C
//! from an interface definition; with neither option, prints the Rust.

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: mach-idl DEFINITION.defs [--rust OUTPUT.rs] [--c OUTPUT.h]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some(definition) = arguments.first() else {
        return usage();
    };
    let mut rust_output = None;
    let mut c_output = None;
    let mut rest = arguments[1..].iter();
    while let Some(option) = rest.next() {
        let Some(value) = rest.next() else {
            return usage();
        };
        match option.as_str() {
            "--rust" => rust_output = Some(value.clone()),
            "--c" => c_output = Some(value.clone()),
            _ => return usage(),
        }
    }
    let source = match std::fs::read_to_string(definition) {
        Ok(source) => source,
        Err(error) => {
            eprintln!("mach-idl: {definition}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let interface = match mach_idl::parse_interface(&source) {
        Ok(interface) => interface,
        Err(error) => {
            eprintln!("{definition}:{error}");
            return ExitCode::FAILURE;
        }
    };
    let name = std::path::Path::new(definition).file_name().map_or(definition.clone(), |n| n.to_string_lossy().into());
    let mut outputs = Vec::new();
    if let Some(path) = &rust_output {
        outputs.push((path.clone(), mach_idl::rust::generate(&interface, &name)));
    }
    if let Some(path) = &c_output {
        outputs.push((path.clone(), mach_idl::c::generate(&interface, &name)));
    }
    if outputs.is_empty() {
        print!("{}", mach_idl::rust::generate(&interface, &name));
        return ExitCode::SUCCESS;
    }
    for (path, text) in outputs {
        if let Err(error) = std::fs::write(&path, text) {
            eprintln!("mach-idl: {path}: {error}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
