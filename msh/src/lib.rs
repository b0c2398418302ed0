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
//! - `pattern` (glob matching), `arithmetic` (`$(( ))`);
//! - `system` (the trait), `expand` (words to fields), `interpreter` (runs
//!   trees), `builtins`, `jobs`;
//! - `editor` (keys to a line), `history`, `completion`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(test)]
extern crate std;

pub mod parser;
pub mod printer;
pub mod syntax;
