//! mach-idl: Mach_R's interface generator (MIG's role, Hubris Idol's shape).
//!
//! An interface is written once in a `.defs` file (grammar in [`parse`],
//! guide in `docs/idl.md`): a subsystem name and first message id, error
//! codes, and routines with typed `in`/`out` arguments — fixed integers,
//! bounded byte arrays and strings, port rights with their disposition,
//! out-of-line memory. From it come:
//!
//! - Rust ([`generate_rust`]): a `Client` with one method per routine, a
//!   `Server` trait with one method per routine, a `dispatch` function that
//!   checks every request (size, descriptor count and types, bounds, UTF-8)
//!   and answers a malformed one with `MIG_BAD_ARGUMENTS`, and a `serve`
//!   loop. `no_std`, no allocation; it uses `libmach`.
//! - C ([`generate_c`]): a header with the ids, error codes and
//!   `static inline` client stubs over `mach_msg`, for programs built
//!   against minilibc (or any C compiler with `mach/abi/include`).
//!
//! Use from a `build.rs` with [`build`]: it reads the definition, writes
//! `<name>.rs` (and optionally `<name>.h`) and asks Cargo to re-run when the
//! definition changes; then `include!(concat!(env!("OUT_DIR"), "/kv.rs"))`
//! inside a module. The `mach-idl` binary does the same from a shell.
//!
//! Invariants: a definition that parses generates code that compiles
//! without warnings; every message the generated code can send fits
//! `MACH_MSG_SIZE_MAX` (checked here, refused with an error otherwise);
//! message ids are `base + index` and replies `id + 100` (so at most 100
//! ids per subsystem).
#![forbid(unsafe_code)]

pub mod c;
pub mod model;
pub mod parse;
pub mod rust;

pub use model::Interface;
pub use parse::{parse_interface, DefinitionError};

use std::path::Path;

/// The Rust code for the definition `source`; `source_name` (the file's
/// name) goes into the generated header comment.
pub fn generate_rust(source: &str, source_name: &str) -> Result<String, DefinitionError> {
    Ok(rust::generate(&parse_interface(source)?, source_name))
}

/// The C header for the definition `source`.
pub fn generate_c(source: &str, source_name: &str) -> Result<String, DefinitionError> {
    Ok(c::generate(&parse_interface(source)?, source_name))
}

/// Why [`build`] failed.
#[derive(Debug)]
pub enum BuildError {
    /// The definition file could not be read or an output written.
    Io { path: String, error: std::io::Error },
    /// The definition is wrong.
    Definition { path: String, error: DefinitionError },
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuildError::Io { path, error } => write!(formatter, "{path}: {error}"),
            BuildError::Definition { path, error } => write!(formatter, "{path}:{error}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// What [`build`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// Write `<subsystem>.rs`.
    pub rust: bool,
    /// Write `<subsystem>.h`.
    pub c: bool,
}

/// For `build.rs`: reads `definition`, writes the outputs into
/// `output_directory` (usually `OUT_DIR`) named after the subsystem, and
/// prints `cargo:rerun-if-changed`. Returns the interface.
pub fn build(definition: &Path, output_directory: &Path, outputs: Outputs) -> Result<Interface, BuildError> {
    let path = definition.display().to_string();
    println!("cargo:rerun-if-changed={path}");
    let source = std::fs::read_to_string(definition).map_err(|error| BuildError::Io { path: path.clone(), error })?;
    let interface = parse_interface(&source).map_err(|error| BuildError::Definition { path: path.clone(), error })?;
    let source_name = definition.file_name().map_or(path.clone(), |name| name.to_string_lossy().into_owned());
    let write = |extension: &str, text: String| {
        let target = output_directory.join(format!("{}.{extension}", interface.name));
        std::fs::write(&target, text).map_err(|error| BuildError::Io { path: target.display().to_string(), error })
    };
    if outputs.rust {
        write("rs", rust::generate(&interface, &source_name))?;
    }
    if outputs.c {
        write("h", c::generate(&interface, &source_name))?;
    }
    Ok(interface)
}
