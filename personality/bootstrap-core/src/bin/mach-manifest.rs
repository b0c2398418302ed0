//! `mach-manifest`: checks and assembles boot manifests on the host, with
//! the parser the bootstrap task runs, so a mistake is reported at build
//! time with its file, line and column (scripts/lib/common.sh uses it).
//!
//! ```text
//! mach-manifest combine OUTPUT [--modules DIRECTORY] FILE...
//!     checks FILE... together as one manifest (each program's module must
//!     be a file in DIRECTORY, if given), writes it to OUTPUT and prints
//!     the modules it starts, one a line, each once
//! mach-manifest order FILE...
//!     prints the programs in the order they start
//! ```

use mach_bootstrap_core::manifest::{ErrorKind, Manifest};
use std::process::ExitCode;

/// The files put together, and where each starts in the combined text.
struct Combined {
    text: String,
    /// (first line in `text`, path), in order.
    parts: Vec<(usize, String)>,
}

fn combine(paths: &[String]) -> Result<Combined, String> {
    let mut combined = Combined { text: String::new(), parts: Vec::new() };
    for path in paths {
        let contents = std::fs::read(path).map_err(|error| format!("{path}: {error}"))?;
        let contents = String::from_utf8(contents).map_err(|error| {
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
            format!("{path}:{line}: the manifest is not UTF-8")
        })?;
        combined.text.push_str(&format!("# from {path}\n"));
        let first_line = combined.text.lines().count() + 1;
        combined.parts.push((first_line, path.clone()));
        combined.text.push_str(&contents);
        if !combined.text.ends_with('\n') {
            combined.text.push('\n');
        }
    }
    Ok(combined)
}

impl Combined {
    /// `FILE:LINE` of `line` of the combined text.
    fn locate(&self, line: usize) -> String {
        match self.parts.iter().rev().find(|(first, _)| *first <= line) {
            Some((first, path)) => format!("{path}:{}", line - first + 1),
            None => format!("<combined>:{line}"),
        }
    }

    fn parse(&self) -> Result<Manifest<'_>, String> {
        Manifest::parse(&self.text).map_err(|error| {
            // Errors that point at another line say which file it is in.
            let what = match error.kind {
                ErrorKind::RegisteredTwice { name, first_line } => {
                    format!("`{name}` is registered by the program at {} already", self.locate(first_line))
                }
                ErrorKind::Cycle { name, provider_line } => format!(
                    "needs `{name}`, whose program ({}) waits, through its own needs, for this one: neither would start",
                    self.locate(provider_line)
                ),
                kind => kind.to_string(),
            };
            format!("{}:{}: {what}", self.locate(error.line), error.column)
        })
    }
}

fn run(arguments: &[String]) -> Result<(), String> {
    match arguments {
        [command, output, rest @ ..] if command == "combine" => {
            let (modules, files) = match rest {
                [flag, directory, files @ ..] if flag == "--modules" => (Some(directory), files),
                files => (None, files),
            };
            if files.is_empty() {
                return Err(usage());
            }
            let combined = combine(files)?;
            let manifest = combined.parse()?;
            if let Some(directory) = modules {
                for program in manifest.programs() {
                    let path = std::path::Path::new(directory).join(program.module());
                    if !path.is_file() {
                        return Err(format!(
                            "{}: no program called `{}` was built ({} does not exist)",
                            combined.locate(program.line()),
                            program.module(),
                            path.display()
                        ));
                    }
                }
            }
            std::fs::write(output, &combined.text).map_err(|error| format!("{output}: {error}"))?;
            let mut printed: Vec<&str> = Vec::new();
            for program in manifest.programs() {
                if !printed.contains(&program.module()) {
                    println!("{}", program.module());
                    printed.push(program.module());
                }
            }
            Ok(())
        }
        [command, files @ ..] if command == "order" && !files.is_empty() => {
            let combined = combine(files)?;
            let manifest = combined.parse()?;
            let (order, count) = manifest.start_order();
            for &index in &order[..count] {
                if let Some(program) = manifest.program(index) {
                    println!("{} ({})", program.module(), combined.locate(program.line()));
                }
            }
            Ok(())
        }
        _ => Err(usage()),
    }
}

fn usage() -> String {
    "usage: mach-manifest combine OUTPUT [--modules DIRECTORY] FILE... | mach-manifest order FILE...".into()
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match run(&arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
