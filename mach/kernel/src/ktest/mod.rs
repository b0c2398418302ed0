//! The in-kernel test runner (built with the `ktest` feature).
//!
//! Test cases sit next to the code they test, in the kernel crate and in
//! the core, declared with `ktest!` (the core's `test_case`, which says
//! how). The runner walks every registered case, runs it, prints
//! `test <module>::<name> ... ok|FAILED` and a final `N passed, N failed`,
//! then leaves QEMU through `isa-debug-exit` with the overall status. A case
//! reports failure by returning `Err` (see `ensure!`); a case that panics
//! stops the run, and the panic handler exits QEMU with the failure status.
//!
//! A fault test cannot return, so it runs alone in its own boot: the kernel
//! command line option `ktest.fault=KIND` makes the runner provoke that
//! fault (see [`fault`]), and `scripts/test` checks the report and the status.
#![forbid(unsafe_code)]

pub mod fault;

use crate::boot_info::BootInfo;
pub use mach_kcore::test_case::{registered_cases, Failure, TestCase};

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
