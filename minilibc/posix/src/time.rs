//! Time: clocks, sleeping, broken-down time and strftime.

use crate::error::{check, Errno, Result};
use crate::ffi;
use crate::path::CPath;
use crate::types::{Timespec, Tm};
use alloc::vec::Vec;

/// `clock_gettime(clock)` (`CLOCK_REALTIME`, `CLOCK_MONOTONIC`).
pub fn clock(clock: i32) -> Result<Timespec> {
    let mut time = Timespec::default();
    // SAFETY: a writable record.
    check(unsafe { ffi::clock_gettime(clock, &mut time) })?;
    Ok(time)
}

/// The time of day (`CLOCK_REALTIME`).
pub fn now() -> Timespec {
    clock(crate::CLOCK_REALTIME).unwrap_or_default()
}

/// Sleeps for `duration`, resuming after signals whose handlers return;
/// `Err(EINTR)` is never returned, other errors are (EINVAL for a bad duration).
pub fn sleep(duration: Timespec) -> Result<()> {
    let mut request = duration;
    loop {
        let mut remaining = Timespec::default();
        // SAFETY: valid records.
        if unsafe { ffi::nanosleep(&request, &mut remaining) } == 0 {
            return Ok(());
        }
        let error = Errno::last();
        if error.0 != crate::EINTR {
            return Err(error);
        }
        request = remaining;
    }
}

/// `localtime_r` (minilibc: UTC, as it has no time zones).
pub fn local_time(seconds: i64) -> Result<Tm> {
    let mut broken = Tm::default();
    // SAFETY: valid records.
    if unsafe { ffi::localtime_r(&seconds, &mut broken) }.is_null() {
        return Err(Errno::last());
    }
    Ok(broken)
}

/// `gmtime_r`.
pub fn universal_time(seconds: i64) -> Result<Tm> {
    let mut broken = Tm::default();
    // SAFETY: valid records.
    if unsafe { ffi::gmtime_r(&seconds, &mut broken) }.is_null() {
        return Err(Errno::last());
    }
    Ok(broken)
}

/// `mktime`: seconds since the epoch of a local broken-down time (normalised in place).
pub fn make_time(broken: &mut Tm) -> i64 {
    // SAFETY: a valid record.
    unsafe { ffi::mktime(broken) }
}

/// `timegm`: as `make_time` for a UTC broken-down time.
pub fn make_universal_time(broken: &mut Tm) -> i64 {
    // SAFETY: a valid record.
    unsafe { ffi::timegm(broken) }
}

/// `strftime(format, time)`, however long the result.
pub fn format_time<F: CPath + ?Sized>(format: &F, time: &Tm) -> Result<Vec<u8>> {
    format.with_c_path(|format| {
        // An empty result is ambiguous in C (too small, or really empty), so
        // grow up to a generous limit before believing it.
        let mut capacity = 256;
        loop {
            let mut buffer = alloc::vec![0u8; capacity];
            // SAFETY: a writable buffer, a NUL-terminated format, a valid record.
            let length = unsafe { ffi::strftime(buffer.as_mut_ptr(), capacity, format.as_ptr().cast(), time) };
            if length > 0 || capacity >= 64 * 1024 || format.to_bytes().is_empty() {
                buffer.truncate(length);
                return buffer;
            }
            capacity *= 8;
        }
    })
}

impl Timespec {
    /// Whole seconds and nanoseconds.
    pub fn new(seconds: i64, nanoseconds: i64) -> Timespec {
        Timespec { tv_sec: seconds, tv_nsec: nanoseconds }
    }

    /// The time from `earlier` to `self`, in nanoseconds.
    pub fn nanoseconds_since(&self, earlier: &Timespec) -> i128 {
        (self.tv_sec as i128 - earlier.tv_sec as i128) * 1_000_000_000 + (self.tv_nsec - earlier.tv_nsec) as i128
    }
}
