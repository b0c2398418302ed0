//! The kernel command line: space-separated `key=value` options.
//!
//! Options understood today:
//! - `hz=N`: timer interrupt rate (10..=10000, default 100);
//! - `log=error|warn|info|debug|trace`: console log level (default info);
//! - `ktest.fault=KIND`: in a test build, provoke one CPU fault instead of
//!   running the test cases (see `ktest::fault`);
//! - `ktest.bench=1`: in a test build, run the kernel micro-benchmarks
//!   instead of the test cases;
//! - `ktest.modules=N`: how many `ktest-module-*` boot modules to expect;
//! - `block.bench=full`: in a test build, the virtio driver's benchmark
//!   case runs every round (scripts/benches/block) instead of a quick run;
//! - `semihosting=on` (aarch64): the host gives Arm semihosting, so a
//!   normal kernel writes its debug console there and powers off with the
//!   status through it (`scripts/run --arch aarch64`; test kernels always do).
//!
//! Unknown options are logged and ignored, as Linux does, so an old kernel
//! boots with a newer script.
#![deny(unsafe_code)]

/// Returns the value of `key` in `command_line`, if present.
pub fn option<'a>(command_line: &'a str, key: &str) -> Option<&'a str> {
    command_line
        .split_ascii_whitespace()
        .filter_map(|word| word.split_once('='))
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value)
}

/// The timer rate asked for on the command line, or the default.
pub fn timer_hz(command_line: &str) -> u32 {
    const DEFAULT_HZ: u32 = 100;
    match option(command_line, "hz").map(str::parse::<u32>) {
        None => DEFAULT_HZ,
        Some(Ok(hz)) if (10..=10_000).contains(&hz) => hz,
        Some(_) => {
            log::warn!("hz= wants a rate from 10 to 10000; using {DEFAULT_HZ}");
            DEFAULT_HZ
        }
    }
}

/// The log level asked for on the command line, or `Info`.
pub fn log_level(command_line: &str) -> log::LevelFilter {
    option(command_line, "log").and_then(|level| level.parse().ok()).unwrap_or(log::LevelFilter::Info)
}

#[cfg(feature = "ktest")]
// `ktest!` registers each case with a `link_section` static (test_case).
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use crate::{ensure, ktest};

    ktest! {
        fn finds_options() {
            let line = "quiet hz=250 log=debug";
            ensure!(option(line, "hz") == Some("250"));
            ensure!(option(line, "log") == Some("debug"));
            ensure!(option(line, "quiet").is_none());
            ensure!(option(line, "missing").is_none());
            Ok(())
        }

        fn timer_rate_is_bounded() {
            ensure!(timer_hz("") == 100);
            ensure!(timer_hz("hz=1000") == 1000);
            ensure!(timer_hz("hz=1") == 100);
            ensure!(timer_hz("hz=fast") == 100);
            Ok(())
        }
    }
}
