//! `<time.h>` and `<sys/time.h>`. Times are UTC: minilibc has no time-zone
//! database, so `localtime` equals `gmtime` and `tzname` is "UTC".

use super::{c_result, c_string, set_errno, CGlobal};
use crate::calendar::{self, BrokenDownTime};
use crate::errno_table::EOVERFLOW;
use crate::format::{Output, OutputError};
use crate::platform;
use core::ptr;

/// C's `struct tm` (glibc layout).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CTime {
    second: i32,
    minute: i32,
    hour: i32,
    day_of_month: i32,
    month: i32,
    year: i32,
    day_of_week: i32,
    day_of_year: i32,
    daylight_saving: i32,
    offset_seconds: i64,
    zone: *const u8,
}

const UTC: &[u8] = b"UTC\0";
/// glibc names gmtime's zone "GMT" and a UTC local time "UTC"; we do too.
const GMT: &[u8] = b"GMT\0";

#[no_mangle]
pub static tzname: CGlobal<[*const u8; 2]> = CGlobal::new([UTC.as_ptr(), UTC.as_ptr()]);
#[no_mangle]
pub static timezone: CGlobal<i64> = CGlobal::new(0);
#[no_mangle]
pub static daylight: CGlobal<i32> = CGlobal::new(0);

#[no_mangle]
pub extern "C" fn tzset() {}

fn to_c(time: &BrokenDownTime, zone: &'static [u8]) -> CTime {
    CTime {
        second: time.second,
        minute: time.minute,
        hour: time.hour,
        day_of_month: time.day_of_month,
        month: time.month,
        year: time.year,
        day_of_week: time.day_of_week,
        day_of_year: time.day_of_year,
        daylight_saving: 0,
        offset_seconds: 0,
        zone: zone.as_ptr(),
    }
}

fn from_c(time: &CTime) -> BrokenDownTime {
    BrokenDownTime {
        second: time.second,
        minute: time.minute,
        hour: time.hour,
        day_of_month: time.day_of_month,
        month: time.month,
        year: time.year,
        day_of_week: time.day_of_week,
        day_of_year: time.day_of_year,
    }
}

#[no_mangle]
pub unsafe extern "C" fn clock_gettime(clock: i32, time: *mut i64) -> i32 {
    // SAFETY: a writable timespec.
    c_result(unsafe { platform::clock_gettime(clock, time) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn clock_getres(clock: i32, time: *mut i64) -> i32 {
    // SAFETY: null or a writable timespec.
    c_result(unsafe { platform::clock_getres(clock, time) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn nanosleep(request: *const i64, remaining: *mut i64) -> i32 {
    // SAFETY: valid timespecs.
    c_result(unsafe { platform::nanosleep(request, remaining) }) as i32
}

#[no_mangle]
pub unsafe extern "C" fn time(result: *mut i64) -> i64 {
    let mut now = [0i64; 2];
    // SAFETY: a local timespec; `result` null or writable.
    unsafe {
        if c_result(platform::clock_gettime(0, now.as_mut_ptr())) < 0 {
            return -1;
        }
        if !result.is_null() {
            *result = now[0];
        }
    }
    now[0]
}

#[no_mangle]
pub unsafe extern "C" fn gettimeofday(time: *mut i64, _zone: *mut u8) -> i32 {
    let mut now = [0i64; 2];
    // SAFETY: a local timespec; `time` null or a writable timeval.
    unsafe {
        if c_result(platform::clock_gettime(0, now.as_mut_ptr())) < 0 {
            return -1;
        }
        if !time.is_null() {
            *time = now[0];
            *time.add(1) = now[1] / 1000;
        }
    }
    0
}

/// Processor time in microseconds (CLOCKS_PER_SEC is 1000000).
#[no_mangle]
pub extern "C" fn clock() -> i64 {
    let mut now = [0i64; 2];
    // SAFETY: a local timespec; clock 2 is CLOCK_PROCESS_CPUTIME_ID.
    if unsafe { platform::clock_gettime(2, now.as_mut_ptr()) }.is_err() {
        return -1;
    }
    now[0] * 1_000_000 + now[1] / 1000
}

#[no_mangle]
pub extern "C" fn difftime(end: i64, start: i64) -> f64 {
    end as f64 - start as f64
}

/// Breaks `*time` down into `*result`, naming the zone `zone`.
///
/// # Safety
/// `time` readable, `result` a writable `struct tm`.
unsafe fn break_down_into(time: *const i64, result: *mut CTime, zone: &'static [u8]) -> *mut CTime {
    // SAFETY: readable time, writable result.
    unsafe {
        match calendar::break_down(*time) {
            Some(broken) => {
                *result = to_c(&broken, zone);
                result
            }
            None => {
                set_errno(EOVERFLOW);
                ptr::null_mut()
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn gmtime_r(time: *const i64, result: *mut CTime) -> *mut CTime {
    // SAFETY: forwarded.
    unsafe { break_down_into(time, result, GMT) }
}

static SHARED_TIME: CGlobal<CTime> = CGlobal::new(CTime {
    second: 0,
    minute: 0,
    hour: 0,
    day_of_month: 0,
    month: 0,
    year: 0,
    day_of_week: 0,
    day_of_year: 0,
    daylight_saving: 0,
    offset_seconds: 0,
    zone: ptr::null(),
});

#[no_mangle]
pub unsafe extern "C" fn gmtime(time: *const i64) -> *mut CTime {
    // SAFETY: forwarded into the static result C allows.
    unsafe { gmtime_r(time, SHARED_TIME.as_ptr()) }
}

#[no_mangle]
pub unsafe extern "C" fn localtime_r(time: *const i64, result: *mut CTime) -> *mut CTime {
    // SAFETY: forwarded (local time is UTC).
    unsafe { break_down_into(time, result, UTC) }
}

#[no_mangle]
pub unsafe extern "C" fn localtime(time: *const i64) -> *mut CTime {
    // SAFETY: forwarded into the static result C allows.
    unsafe { localtime_r(time, SHARED_TIME.as_ptr()) }
}

#[no_mangle]
pub unsafe extern "C" fn timegm(time: *mut CTime) -> i64 {
    // SAFETY: forwarded.
    unsafe { normalize(time, GMT) }
}

/// Seconds since the epoch of `*time`, which is normalized in place (as C
/// requires of mktime) and given the zone name `zone`.
///
/// # Safety
/// `time` must be a writable `struct tm`.
unsafe fn normalize(time: *mut CTime, zone: &'static [u8]) -> i64 {
    // SAFETY: a writable struct tm.
    unsafe {
        let seconds = calendar::seconds_since_epoch(&from_c(&*time));
        match calendar::break_down(seconds) {
            Some(broken) => {
                *time = to_c(&broken, zone);
                seconds
            }
            None => {
                set_errno(EOVERFLOW);
                -1
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn mktime(time: *mut CTime) -> i64 {
    // SAFETY: forwarded (local time is UTC).
    unsafe { normalize(time, UTC) }
}

struct Bounded {
    buffer: *mut u8,
    capacity: usize,
    written: usize,
    overflow: bool,
}

impl Output for Bounded {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        if self.written + bytes.len() + 1 > self.capacity {
            self.overflow = true;
            return Err(OutputError);
        }
        // SAFETY: room checked against the caller's capacity.
        unsafe { super::memory::memcpy(self.buffer.add(self.written), bytes.as_ptr(), bytes.len()) };
        self.written += bytes.len();
        Ok(())
    }
}

#[no_mangle]
pub unsafe extern "C" fn strftime(
    buffer: *mut u8,
    capacity: usize,
    format_text: *const u8,
    time: *const CTime,
) -> usize {
    let mut output = Bounded { buffer, capacity, written: 0, overflow: false };
    // SAFETY: NUL-terminated format, readable struct tm, `capacity` bytes.
    unsafe {
        let zone = if (*time).zone.is_null() { "" } else { core::str::from_utf8(c_string((*time).zone)).unwrap_or("") };
        let result = calendar::format_time(c_string(format_text), &from_c(&*time), zone, &mut output);
        if result.is_err() || output.overflow {
            return 0;
        }
        *buffer.add(output.written) = 0;
    }
    output.written
}

static ASCII_TIME: CGlobal<[u8; 32]> = CGlobal::new([0; 32]);

#[no_mangle]
pub unsafe extern "C" fn asctime_r(time: *const CTime, buffer: *mut u8) -> *mut u8 {
    // SAFETY: a readable struct tm; the buffer holds 26 bytes.
    unsafe {
        let length = strftime(buffer, 26, c"%a %b %e %H:%M:%S %Y\n".as_ptr().cast::<u8>(), time);
        if length == 0 {
            set_errno(EOVERFLOW);
            return ptr::null_mut();
        }
    }
    buffer
}

#[no_mangle]
pub unsafe extern "C" fn asctime(time: *const CTime) -> *mut u8 {
    // SAFETY: forwarded into the static buffer.
    unsafe { asctime_r(time, ASCII_TIME.as_ptr() as *mut u8) }
}

#[no_mangle]
pub unsafe extern "C" fn ctime(time: *const i64) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe {
        let broken = localtime(time);
        if broken.is_null() {
            return ptr::null_mut();
        }
        asctime(broken)
    }
}

#[no_mangle]
pub unsafe extern "C" fn ctime_r(time: *const i64, buffer: *mut u8) -> *mut u8 {
    let mut broken = SHARED_TIME.get();
    // SAFETY: forwarded.
    unsafe {
        if localtime_r(time, &mut broken).is_null() {
            return ptr::null_mut();
        }
        asctime_r(&broken, buffer)
    }
}

/// `struct tms` and `times`: user and system CPU time of the process and
/// of its waited-for children, in clock ticks (100 per second); returns the
/// elapsed ticks of the monotonic clock.
#[no_mangle]
pub unsafe extern "C" fn times(buffer: *mut i64) -> i64 {
    // struct rusage starts with ru_utime and ru_stime (two timevals).
    let ticks = |usage: &[i64; 18], index: usize| usage[index] * 100 + usage[index + 1] / 10_000;
    if !buffer.is_null() {
        let mut own = [0i64; 18];
        let mut children = [0i64; 18];
        // SAFETY: local rusage records; `buffer` is a writable struct tms (4 clock_t).
        unsafe {
            if c_result(platform::getrusage(0, own.as_mut_ptr() as *mut u8)) < 0
                || c_result(platform::getrusage(-1, children.as_mut_ptr() as *mut u8)) < 0
            {
                return -1;
            }
            *buffer = ticks(&own, 0);
            *buffer.add(1) = ticks(&own, 2);
            *buffer.add(2) = ticks(&children, 0);
            *buffer.add(3) = ticks(&children, 2);
        }
    }
    let mut now = [0i64; 2];
    // SAFETY: a local timespec; clock 1 is CLOCK_MONOTONIC.
    if c_result(unsafe { platform::clock_gettime(1, now.as_mut_ptr()) }) < 0 {
        return -1;
    }
    now[0] * 100 + now[1] / 10_000_000
}
