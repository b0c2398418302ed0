//! touch: sets files' access and modification times (to now, or to -d
//! DATE, -t STAMP, -r FILE's), creating missing files unless -c. -a or -m
//! changes only one of the times; -h changes a link itself.

use crate::common::{quote, Command};
use crate::complain;
use crate::dates::{self, Moment};
use crate::options::{Order, Spec};
use posix::Timespec;

const COMMAND: Command = Command {
    usage: "[OPTION]... FILE...\nUpdate the access and modification times of each FILE to the current time.\n  -a                     change only the access time\n  -c, --no-create        do not create any files\n  -d, --date=STRING      parse STRING and use it instead of current time\n  -h, --no-dereference   affect each symbolic link instead of any referenced file\n  -m                     change only the modification time\n  -r, --reference=FILE   use this file's times instead of current time\n  -t STAMP               use [[CC]YY]MMDDhhmm[.ss] instead of current time\n",
    specs: &[
        Spec::flag(b'a', ""),
        Spec::flag(b'c', "no-create"),
        Spec::value(b'd', "date"),
        Spec::flag(b'h', "no-dereference"),
        Spec::flag(b'm', ""),
        Spec::value(b'r', "reference"),
        Spec::value(b't', ""),
        Spec::flag(b'f', ""),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.operands.is_empty() {
        return COMMAND.usage_error(format_args!("missing file operand"));
    }
    let now = posix::time::now();
    let now_moment = Moment { seconds: now.tv_sec, nanoseconds: now.tv_nsec };
    let mut times: Option<[Timespec; 2]> = None;
    if let Some(reference) = parsed.value(b'r' as u32) {
        let stat = if parsed.has(b'h') { posix::fs::lstat(reference) } else { posix::fs::stat(reference) };
        match stat {
            Ok(stat) => times = Some([stat.st_atim, stat.st_mtim]),
            Err(error) => {
                complain!("failed to get attributes of {}: {}", quote(reference), error);
                return 1;
            }
        }
    }
    if let Some(date) = parsed.value(b'd' as u32) {
        let base = times.map_or(now_moment, |pair| Moment { seconds: pair[1].tv_sec, nanoseconds: pair[1].tv_nsec });
        match dates::parse(date, base) {
            Ok(moment) => {
                let time = Timespec::new(moment.seconds, moment.nanoseconds);
                times = Some([time, time]);
            }
            Err(_) => {
                complain!("invalid date format {}", quote(date));
                return 1;
            }
        }
    }
    if let Some(stamp) = parsed.value(b't' as u32) {
        match dates::parse_touch_stamp(stamp, now_moment) {
            Ok(moment) => {
                let time = Timespec::new(moment.seconds, 0);
                times = Some([time, time]);
            }
            Err(_) => {
                complain!("invalid date format {}", quote(stamp));
                return 1;
            }
        }
    }
    let only_access = parsed.has(b'a') && !parsed.has(b'm');
    let only_modification = parsed.has(b'm') && !parsed.has(b'a');
    let omit = Timespec::new(0, posix::UTIME_OMIT);
    let now_marker = Timespec::new(0, posix::UTIME_NOW);
    let [mut access, mut modification] = times.unwrap_or([now_marker, now_marker]);
    if only_access {
        modification = omit;
    }
    if only_modification {
        access = omit;
    }
    let no_create = parsed.has(b'c');
    let no_dereference = parsed.has(b'h');
    let mut status = 0;
    for operand in &parsed.operands {
        if *operand == b"-" {
            // Standard output's file.
            if let Err(error) = posix::Fd::borrowed(1, |fd| fd.set_times(Some([access, modification]))) {
                complain!("setting times of {}: {}", quote(operand), error);
                status = 1;
            }
            continue;
        }
        let flags = if no_dereference { posix::AT_SYMLINK_NOFOLLOW } else { 0 };
        match posix::fs::set_times(*operand, Some([access, modification]), flags) {
            Ok(()) => {}
            Err(error) if error.0 == posix::ENOENT && !no_dereference => {
                if no_create {
                    continue;
                }
                let created = posix::fd::open(
                    *operand,
                    posix::O_WRONLY | posix::O_CREAT | posix::O_NONBLOCK | posix::O_NOCTTY | posix::O_CLOEXEC,
                    0o666,
                )
                .and_then(|fd| fd.set_times(Some([access, modification])));
                if let Err(error) = created {
                    complain!("cannot touch {}: {}", quote(operand), error);
                    status = 1;
                }
            }
            Err(error) if error.0 == posix::ENOENT && no_create => {}
            Err(error) => {
                if error.0 == posix::ENOENT {
                    complain!("cannot touch {}: {}", quote(operand), error);
                } else {
                    complain!("setting times of {}: {}", quote(operand), error);
                }
                status = 1;
            }
        }
    }
    status
}
