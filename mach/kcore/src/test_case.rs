//! How a kernel test case registers itself (feature `ktest`); the runner
//! is the kernel crate's `ktest` module.
//!
//! Test cases sit next to the code they test, in this crate and in the
//! kernel crate, declared with [`ktest!`](crate::ktest):
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
//! section, which the linker script brackets; [`registered_cases`] reads
//! it back. A case reports failure by returning `Err` (see
//! [`ensure!`](crate::ensure)).

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
///
/// The registration places a static in the section the runner reads (a
/// static of plain data): the one unsafe attribute, written here in the
/// core, so that the kernel crate's modules, which forbid unsafe code,
/// declare cases without naming it (rustc does not report a lint on what
/// another crate's macro wrote).
#[macro_export]
macro_rules! ktest {
    ($($(#[$attribute:meta])* fn $name:ident() $body:block)*) => {
        $(
            $(#[$attribute])*
            fn $name() -> $crate::test_case::TestResult $body

            // A case's attributes (`#[cfg(target_arch = ...)]`) apply to its
            // registration too.
            $(#[$attribute])*
            const _: () = {
                #[used]
                #[unsafe(link_section = ".ktest_cases")]
                static CASE: $crate::test_case::TestCase = $crate::test_case::TestCase {
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
            return Err($crate::test_case::Failure {
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

/// Every case registered, in this crate and the kernel crate (one section
/// in the linked kernel).
pub fn registered_cases() -> &'static [TestCase] {
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
