//! Parsing of Linux's `/proc/PID/stat` and `/proc/PID/status` for the
//! Linux back end's process listing (`getprocinfo`). The Mach_R back end
//! asks the process server instead; both fill the same record.
#![forbid(unsafe_code)]

/// What `/proc/PID/stat` tells (times in clock ticks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFields<'a> {
    pub pid: i32,
    pub command: &'a [u8],
    pub state: u8,
    pub parent: i32,
    pub group: i32,
    pub session: i32,
    pub terminal: i32,
    pub user_ticks: u64,
    pub system_ticks: u64,
    pub nice: i32,
    pub threads: i32,
    pub start_ticks: u64,
    pub virtual_bytes: u64,
    pub resident_pages: u64,
}

/// Parses a stat line: "PID (COMMAND) S PPID PGRP SESSION TTY ...". The
/// command may hold spaces and parentheses; it ends at the last ')'.
pub fn parse_stat(line: &[u8]) -> Option<StatFields<'_>> {
    let open = line.iter().position(|&byte| byte == b'(')?;
    let close = line.iter().rposition(|&byte| byte == b')')?;
    if close < open {
        return None;
    }
    let pid = number(trim(&line[..open]))?;
    let command = &line[open + 1..close];
    let mut fields = line[close + 1..].split(|&byte| byte == b' ').filter(|field| !field.is_empty());
    // Fields after the command, numbered from 3 as in proc(5).
    let mut next = || fields.next();
    let state = *next()?.first()?;
    let parent = number(next()?)?;
    let group = number(next()?)?;
    let session = number(next()?)?;
    let terminal = number(next()?)?;
    let _terminal_group = next()?;
    let _flags = next()?;
    for _ in 0..4 {
        next()?; // minflt cminflt majflt cmajflt
    }
    let user_ticks = unsigned(next()?)?;
    let system_ticks = unsigned(next()?)?;
    next()?; // cutime
    next()?; // cstime
    next()?; // priority
    let nice = number(next()?)?;
    let threads = number(next()?)?;
    next()?; // itrealvalue
    let start_ticks = unsigned(next()?)?;
    let virtual_bytes = unsigned(next()?)?;
    let resident_pages = unsigned(trim(next()?))?;
    Some(StatFields {
        pid,
        command,
        state,
        parent,
        group,
        session,
        terminal,
        user_ticks,
        system_ticks,
        nice,
        threads,
        start_ticks,
        virtual_bytes,
        resident_pages,
    })
}

/// The real user and group ids from `/proc/PID/status` ("Uid:\tR\tE\tS\tF").
pub fn parse_status_ids(status: &[u8]) -> (Option<u32>, Option<u32>) {
    let mut user = None;
    let mut group = None;
    for line in status.split(|&byte| byte == b'\n') {
        let first_number = |rest: &[u8]| {
            rest.split(|&byte| byte == b'\t' || byte == b' ')
                .find(|field| !field.is_empty())
                .and_then(|field| core::str::from_utf8(field).ok()?.parse().ok())
        };
        if let Some(rest) = line.strip_prefix(b"Uid:") {
            user = first_number(rest);
        } else if let Some(rest) = line.strip_prefix(b"Gid:") {
            group = first_number(rest);
        }
    }
    (user, group)
}

/// The boot time ("btime SECONDS") from `/proc/stat`.
pub fn parse_boot_time(stat: &[u8]) -> Option<i64> {
    stat.split(|&byte| byte == b'\n')
        .find_map(|line| line.strip_prefix(b"btime "))
        .and_then(|rest| core::str::from_utf8(trim(rest)).ok()?.parse().ok())
}

fn trim(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(text.len());
    let end = text.iter().rposition(|byte| !byte.is_ascii_whitespace()).map_or(start, |end| end + 1);
    &text[start..end.max(start)]
}

fn number(text: &[u8]) -> Option<i32> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

fn unsigned(text: &[u8]) -> Option<u64> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &[u8] = b"1234 (my (odd) prog) S 1 1234 1234 34816 1234 4194560 100 0 0 0 7 3 0 0 20 0 1 0 5000 10485760 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";

    #[test]
    fn stat_lines_parse_with_odd_names() {
        let fields = parse_stat(LINE).unwrap();
        assert_eq!(fields.pid, 1234);
        assert_eq!(fields.command, b"my (odd) prog");
        assert_eq!(
            (fields.state, fields.parent, fields.group, fields.session, fields.terminal),
            (b'S', 1, 1234, 1234, 34816)
        );
        assert_eq!((fields.user_ticks, fields.system_ticks, fields.nice, fields.threads), (7, 3, 0, 1));
        assert_eq!((fields.start_ticks, fields.virtual_bytes, fields.resident_pages), (5000, 10485760, 300));
        assert_eq!(parse_stat(b"12 (short) S 1"), None);
        assert_eq!(parse_stat(b"garbage"), None);
    }

    #[test]
    fn status_and_boot_time() {
        assert_eq!(
            parse_status_ids(b"Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n"),
            (Some(1000), Some(100))
        );
        assert_eq!(parse_boot_time(b"cpu 1 2\nbtime 1700000000\nprocesses 5\n"), Some(1_700_000_000));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_stat(&line);
            let _ = parse_status_ids(&line);
            let _ = parse_boot_time(&line);
        }
    }
}
