//! The in-kernel test runner (built with the `ktest` feature).
//!
//! Test cases sit next to the code they test, declared with [`ktest!`]:
//!
//! ```ignore
//! #[cfg(feature = "ktest")]
//! mod tests {
//!     use crate::{ensure, ktest};
//!     ktest! {
//!         fn frames_are_page_aligned() {
//!             let frame = crate::memory::frame::allocate()?;
//!             ensure!(frame.start().is_page_aligned());
//!             Ok(())
//!         }
//!     }
//! }
//! ```
//!
//! Each case becomes a [`TestCase`] record in the `.ktest_cases` link
//! section; the runner walks that section, runs every case, prints
//! `test <module>::<name> ... ok|FAILED` and a final `N passed, N failed`,
//! then leaves QEMU through `isa-debug-exit` with the overall status. A case
//! reports failure by returning `Err` (see [`ensure!`]); a case that panics
//! stops the run, and the panic handler exits QEMU with the failure status.
//!
//! A fault test cannot return, so it runs alone in its own boot: the kernel
//! command line option `ktest.fault=KIND` makes the runner provoke that
//! fault (see [`fault`]), and `scripts/test` checks the report and the status.

pub mod fault;

use crate::boot_info::BootInfo;
use alloc::string::String;
use core::fmt;

/// Why a test case failed: where, and what was expected.
pub struct Failure {
    pub file: &'static str,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "{}:{}: {}", self.file, self.line, self.message)
    }
}

pub type TestResult = Result<(), Failure>;

/// One registered test case. Lives in the `.ktest_cases` link section.
pub struct TestCase {
    pub module: &'static str,
    pub name: &'static str,
    pub run: fn() -> TestResult,
}

/// Declares kernel test cases: `ktest! { fn name() { ...; Ok(()) } ... }`.
#[macro_export]
macro_rules! ktest {
    ($($(#[$attribute:meta])* fn $name:ident() $body:block)*) => {
        $(
            $(#[$attribute])*
            fn $name() -> $crate::ktest::TestResult $body

            // A case's attributes (`#[cfg(target_arch = ...)]`) apply to its
            // registration too.
            // The one `unsafe` attribute the modules that deny unsafe code
            // take, and only here (scripts/tests/kernel-unsafe checks that
            // no other `allow(unsafe_code)` exists): placing the case in
            // the section the runner reads; a static of plain data.
            $(#[$attribute])*
            #[allow(unsafe_code)]
            const _: () = {
                #[used]
                #[unsafe(link_section = ".ktest_cases")]
                static CASE: $crate::ktest::TestCase = $crate::ktest::TestCase {
                    module: module_path!(),
                    name: stringify!($name),
                    run: $name,
                };
            };
        )*
    };
}

/// Fails the current test case unless `condition` holds.
#[macro_export]
macro_rules! ensure {
    ($condition:expr) => {
        $crate::ensure!($condition, "{}", stringify!($condition))
    };
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err($crate::ktest::Failure {
                file: file!(),
                line: line!(),
                message: alloc::format!($($message)+),
            });
        }
    };
}

/// Fails the current test case unless the two values are equal, showing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr) => {{
        let (left, right) = (&$left, &$right);
        $crate::ensure!(
            left == right,
            "{} == {}: left {:?}, right {:?}",
            stringify!($left),
            stringify!($right),
            left,
            right
        );
    }};
}

/// Lets a case use `?` on kernel errors: the error becomes the failure.
impl<E: fmt::Debug> From<E> for Failure {
    #[track_caller]
    fn from(error: E) -> Self {
        let location = core::panic::Location::caller();
        Failure { file: location.file(), line: location.line(), message: alloc::format!("unexpected error: {error:?}") }
    }
}

fn registered_cases() -> &'static [TestCase] {
    unsafe extern "C" {
        static __ktest_start: u8;
        static __ktest_end: u8;
    }
    // SAFETY: the linker script brackets the `.ktest_cases` section, which
    // holds only `TestCase` statics emitted by `ktest!`, with these two
    // symbols; the section is 8-aligned and read-only, so the records form
    // one properly aligned, immutable array for the kernel's lifetime.
    unsafe {
        let start = (&raw const __ktest_start).cast::<TestCase>();
        let end = (&raw const __ktest_end).cast::<TestCase>();
        let count = (end as usize - start as usize) / core::mem::size_of::<TestCase>();
        core::slice::from_raw_parts(start, count)
    }
}

/// Runs every registered case (or the fault the command line asks for) and
/// leaves QEMU with the overall status. Never returns.
pub fn run(boot: &BootInfo) -> ! {
    if let Some(kind) = crate::command_line::option(&boot.command_line, "ktest.fault") {
        fault::provoke(kind);
    }
    if crate::command_line::option(&boot.command_line, "ktest.bench").is_some() {
        let completed = crate::usertest::run_benchmarks();
        crate::arch::exit_qemu(if completed { crate::arch::QemuExit::Success } else { crate::arch::QemuExit::Failure });
    }
    // `ktest.filter=TEXT` runs only the cases whose path contains TEXT;
    // `ktest.filter=ONE|TWO` those whose path contains either, in the
    // order registered (to find which case disturbs another).
    let filter = crate::command_line::option(&boot.command_line, "ktest.filter").unwrap_or("");
    let cases: alloc::vec::Vec<&TestCase> = registered_cases()
        .iter()
        .filter(|case| filter.split('|').any(|text| case.module.contains(text) || case.name.contains(text)))
        .collect();
    crate::println!("running {} kernel test cases", cases.len());
    let (mut passed, mut failed) = (0usize, 0usize);
    for case in cases.iter() {
        let result = (case.run)();
        // What each case leaves taken, to find which one keeps memory.
        let (heap_used, heap_total) = crate::memory::heap::usage();
        crate::println!(
            "  memory: {} frames free, heap {} KiB ({} KiB in use)",
            crate::memory::frame::statistics().free,
            heap_total / 1024,
            heap_used / 1024
        );
        match result {
            Ok(()) => {
                passed += 1;
                crate::println!("test {}::{} ... ok", case.module, case.name);
            }
            Err(failure) => {
                failed += 1;
                crate::println!("test {}::{} ... FAILED ({failure})", case.module, case.name);
            }
        }
    }
    crate::println!("{passed} passed, {failed} failed");
    crate::arch::exit_qemu(if failed == 0 { crate::arch::QemuExit::Success } else { crate::arch::QemuExit::Failure })
}
