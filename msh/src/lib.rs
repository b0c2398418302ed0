//! msh: Mach_R's shell, a POSIX shell with line editing and job control.
//!
//! This crate is the shell's portable core, `no_std` + `alloc` and free of
//! `unsafe`: the parser, the interpreter, expansions, builtins, the job
//! table and the line editor. Everything it asks of the operating system
//! goes through the `System` trait (`system`), which the program (`msh`,
//! built over minilibc's `posix` crate) implements with real system calls
//! and the host tests implement with a model. See `docs/msh.md` for the
//! language and the keys.
//!
//! Layers, each using only those listed before it:
//! - `syntax` (the tree), `parser` (text to tree), `printer` (tree to text);
//! - `pattern` (glob matching), `arithmetic` (`$(( ))`), `test_builtin`;
//! - `system` (the trait), `variables`, `jobs` (the job table);
//! - the interpreter, whose parts call one another: `shell` (state, traps,
//!   running text), `expand` (words to fields), `execute` (commands,
//!   redirections, processes, jobs), `builtins`;
//! - `history`, `editor` (keys to a line), `completion`, then
//!   `interactive` (options, start-up files, the prompt loop), which uses
//!   everything above.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(test)]
extern crate std;

pub mod arithmetic;
pub mod builtins;
pub mod completion;
pub mod editor;
pub mod execute;
pub mod expand;
pub mod history;
pub mod interactive;
pub mod jobs;
pub mod parser;
pub mod pattern;
pub mod printer;
pub mod shell;
pub mod syntax;
pub mod system;
pub mod test_builtin;
pub mod variables;

pub use interactive::main;
pub use shell::{Interrupt, Outcome, Shell};

#[cfg(test)]
mod model;
pub use system::System;
