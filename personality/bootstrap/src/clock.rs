//! The wall clock every program shares: the real-time clock (the PC's CMOS
//! clock on x86_64, QEMU virt's PL031 on aarch64) read once, here, before
//! anything is started, and handed to each program as
//! the wall time at the kernel clock's zero (`AT_MACH_BOOT_TIME`,
//! nanoseconds since the epoch). The file server's time stamps and every
//! process's `time()` then come from one base and one kernel clock, so a
//! file just written is never after `time()`. (When the file server and
//! the process server each read the RTC, whose resolution is a second, at
//! their own start, their clocks differed by the time between the two
//! readings: a fresh tmpfs file was 20-40 ms in the future.)

use libmach::abi::PortName;
use libmach::trap::clock_get_time;

/// The wall time at the kernel clock's zero from a reading of `seconds`
/// since the epoch taken now.
fn at_boot(seconds: i64) -> u64 {
    let uptime = clock_get_time().unwrap_or(0);
    (seconds.max(0) as u64 * 1_000_000_000).saturating_sub(uptime)
}

/// The PL031 real-time clock the kernel found in the device tree (its data
/// register counts seconds since the epoch), mapped with the host port.
#[cfg(target_arch = "aarch64")]
pub fn boot_time(host: PortName, devices: &[libmach::abi::BootDevice]) -> u64 {
    let Some(clock) = devices.iter().find(|device| device.kind == libmach::abi::BOOT_DEVICE_RTC) else {
        crate::report(format_args!(
            "bootstrap: the device tree names no PL031 clock: the wall clock starts at the epoch"
        ));
        return 0;
    };
    let seconds = libmach::device::map_memory(host, clock.address, 4096).and_then(|clock| {
        let seconds = clock.read_u32(0);
        let _ = libmach::trap::vm_deallocate(libmach::trap::task_self(), clock.address(), 4096);
        seconds
    });
    match seconds {
        Ok(seconds) => at_boot(i64::from(seconds)),
        Err(error) => {
            crate::report(format_args!("bootstrap: no PL031 clock ({error:?}): the wall clock starts at the epoch"));
            0
        }
    }
}

#[cfg(target_arch = "x86_64")]
use libmach::{abi::MACH_PORT_NULL, trap::io_port_access};
#[cfg(target_arch = "x86_64")]
use mach_vfs::clock::{register, RtcReading};

/// The CMOS index and data ports.
#[cfg(target_arch = "x86_64")]
const CMOS_PORTS: u16 = 0x70;

/// Reads CMOS register `index`.
#[cfg(target_arch = "x86_64")]
fn cmos(index: u8) -> u8 {
    let value: u8;
    // SAFETY: `boot_time` opened ports 0x70-0x71 to this task with the host
    // port first; selecting a register and reading it changes nothing but
    // the index latch (bit 7, NMI masking, is kept clear) and touches no
    // memory.
    unsafe {
        core::arch::asm!("out dx, al", in("dx") CMOS_PORTS, in("al") index & 0x7f, options(nomem, nostack));
        core::arch::asm!("in al, dx", in("dx") CMOS_PORTS + 1, out("al") value, options(nomem, nostack));
    }
    value
}

/// One consistent reading: no update in progress, and the same twice.
#[cfg(target_arch = "x86_64")]
fn read_rtc() -> RtcReading {
    let read = || {
        for _ in 0..100_000 {
            if cmos(register::STATUS_A) & 0x80 == 0 {
                break;
            }
        }
        RtcReading {
            seconds: cmos(register::SECONDS),
            minutes: cmos(register::MINUTES),
            hours: cmos(register::HOURS),
            day: cmos(register::DAY_OF_MONTH),
            month: cmos(register::MONTH),
            year: cmos(register::YEAR),
            century: cmos(register::CENTURY),
            status_b: cmos(register::STATUS_B),
        }
    };
    let mut previous = read();
    for _ in 0..10 {
        let next = read();
        if next == previous {
            break;
        }
        previous = next;
    }
    previous
}

/// The wall time at the kernel clock's zero, in nanoseconds since the
/// epoch: the RTC read now, less the time since boot. 0 (the epoch), said
/// on the console, when the RTC cannot be read or says nonsense.
#[cfg(target_arch = "x86_64")]
pub fn boot_time(host: PortName, _devices: &[libmach::abi::BootDevice]) -> u64 {
    if let Err(error) = io_port_access(host, CMOS_PORTS, 2, MACH_PORT_NULL) {
        crate::report(format_args!("bootstrap: no CMOS clock ports ({error:?}): the wall clock starts at the epoch"));
        return 0;
    }
    let reading = read_rtc();
    match reading.unix_seconds() {
        Ok(seconds) => at_boot(seconds),
        Err(error) => {
            crate::report(format_args!(
                "bootstrap: the CMOS clock reads {reading:?} ({error:?}): the wall clock starts at the epoch"
            ));
            0
        }
    }
}
