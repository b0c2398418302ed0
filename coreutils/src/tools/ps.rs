//! ps: lists processes (from minilibc's getprocinfo: the process server
//! on Mach_R, /proc on Linux) in procps's layouts: the default (PID TTY
//! TIME CMD of the processes with our user and terminal), -f (full),
//! -o FIELD,... (pid ppid pgid sid uid user gid group tty stat s time
//! etime stime c comm args cmd rss vsz ni nlwp; "field=" hides a header).
//! -e/-A select every process, -a those with a terminal (not session
//! leaders), -p PIDS and -u USERS select by id. STAT's '+' marks a
//! process in the foreground group of its terminal when that terminal is
//! ps's own (a standard descriptor of ours: `tcgetpgrp`); the listing
//! carries no terminal's foreground group, so processes on other
//! terminals get no '+'.

use crate::common::{output, quote, Command};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use posix::types::Procinfo;

const NO_HEADERS: u32 = 300;

const COMMAND: Command = Command {
    usage: "[options]\nReport a snapshot of the current processes.\n  -e, -A     all processes\n  -a         all with a terminal, except session leaders\n  -f         full-format listing\n  -o FORMAT  user-defined format (pid,ppid,pgid,sid,uid,user,gid,group,tty,stat,s,time,etime,stime,c,comm,args,cmd,rss,vsz,ni,nlwp)\n  -p PIDS    processes with these ids\n  -u USERS   processes of these users\n      --no-headers  print no header line\n",
    specs: &[
        Spec::flag(b'e', ""),
        Spec { short: b'A', long: "", takes: Takes::Nothing, id: b'e' as u32 },
        Spec::flag(b'a', ""),
        Spec::flag(b'f', ""),
        Spec::value(b'o', "format"),
        Spec::value(b'p', "pid"),
        Spec::value(b'u', "user"),
        Spec::long("no-headers", Takes::Nothing, NO_HEADERS),
        Spec { short: 0, long: "no-heading", takes: Takes::Nothing, id: NO_HEADERS },
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// A column: its header, width and alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Pid,
    ParentPid,
    Group,
    Session,
    Uid,
    User,
    Gid,
    GroupName,
    Terminal,
    Stat,
    State,
    Time,
    Elapsed,
    StartTime,
    Cpu,
    Command,
    Arguments,
    Resident,
    Virtual,
    Nice,
    Threads,
}

impl Field {
    pub fn parse(name: &[u8]) -> Option<Field> {
        Some(match name {
            b"pid" => Field::Pid,
            b"ppid" => Field::ParentPid,
            b"pgid" | b"pgrp" => Field::Group,
            b"sid" | b"sess" => Field::Session,
            b"uid" | b"euid" => Field::Uid,
            b"user" | b"euser" | b"uname" => Field::User,
            b"gid" | b"egid" => Field::Gid,
            b"group" | b"egroup" => Field::GroupName,
            b"tty" | b"tt" | b"tname" => Field::Terminal,
            b"stat" => Field::Stat,
            b"s" | b"state" => Field::State,
            b"time" | b"cputime" => Field::Time,
            b"etime" => Field::Elapsed,
            b"stime" | b"start_time" => Field::StartTime,
            b"c" => Field::Cpu,
            b"comm" | b"ucomm" => Field::Command,
            b"args" | b"cmd" | b"command" => Field::Arguments,
            b"rss" | b"rssize" => Field::Resident,
            b"vsz" | b"vsize" => Field::Virtual,
            b"ni" | b"nice" => Field::Nice,
            b"nlwp" | b"thcount" => Field::Threads,
            _ => return None,
        })
    }

    /// procps's header, width and left alignment.
    fn layout(self, pid_width: usize) -> (&'static str, usize, bool) {
        match self {
            Field::Pid => ("PID", pid_width, false),
            Field::ParentPid => ("PPID", pid_width, false),
            Field::Group => ("PGID", pid_width, false),
            Field::Session => ("SID", pid_width, false),
            Field::Uid => ("UID", 5, false),
            Field::User => ("USER", 8, true),
            Field::Gid => ("GID", 5, false),
            Field::GroupName => ("GROUP", 8, true),
            Field::Terminal => ("TT", 8, true),
            Field::Stat => ("STAT", 4, true),
            Field::State => ("S", 1, true),
            Field::Time => ("TIME", 8, false),
            Field::Elapsed => ("ELAPSED", 11, false),
            Field::StartTime => ("STIME", 5, true),
            Field::Cpu => ("C", 2, false),
            Field::Command => ("COMMAND", 15, true),
            Field::Arguments => ("COMMAND", 27, true),
            Field::Resident => ("RSS", 5, false),
            Field::Virtual => ("VSZ", 6, false),
            Field::Nice => ("NI", 3, false),
            Field::Threads => ("NLWP", 4, false),
        }
    }
}

/// What the listing knows besides the records.
pub struct Context {
    pub now: i64,
    /// Terminal device to its foreground process group (our own terminal's).
    pub foreground: BTreeMap<u64, i32>,
    pub terminals: BTreeMap<u64, String>,
    pub users: BTreeMap<u32, String>,
    pub groups: BTreeMap<u32, String>,
}

fn text_of(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&byte| byte == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// [DD-]HH:MM:SS.
pub fn cpu_time(seconds: u64) -> String {
    let days = seconds / 86400;
    let rest = seconds % 86400;
    let clock = alloc::format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 {
        alloc::format!("{}-{}", days, clock)
    } else {
        clock
    }
}

/// [[DD-]HH:]MM:SS.
pub fn elapsed(seconds: u64) -> String {
    let days = seconds / 86400;
    let hours = seconds % 86400 / 3600;
    let minutes = seconds % 3600 / 60;
    let rest = seconds % 60;
    if days > 0 {
        alloc::format!("{}-{:02}:{:02}:{:02}", days, hours, minutes, rest)
    } else if hours > 0 {
        alloc::format!("{:02}:{:02}:{:02}", hours, minutes, rest)
    } else {
        alloc::format!("{:02}:{:02}", minutes, rest)
    }
}

/// STIME: HH:MM today, MonDD this year, else the year.
pub fn start_time(start: i64, now: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (year, month, day) = crate::dates::civil_from_days(start.div_euclid(86400));
    let (now_year, _, _) = crate::dates::civil_from_days(now.div_euclid(86400));
    if start.div_euclid(86400) == now.div_euclid(86400) {
        let within = start.rem_euclid(86400);
        alloc::format!("{:02}:{:02}", within / 3600, within % 3600 / 60)
    } else if year == now_year {
        alloc::format!("{}{:02}", MONTHS[month as usize - 1], day)
    } else {
        alloc::format!("{}", year)
    }
}

impl Context {
    fn terminal(&self, device: u64) -> String {
        if device == 0 {
            return String::from("?");
        }
        self.terminals.get(&device).cloned().unwrap_or_else(|| {
            let (major, minor) = posix::fs::split_device(device);
            alloc::format!("{},{}", major, minor)
        })
    }

    fn cell(&self, field: Field, process: &Procinfo) -> String {
        let seconds = process.pi_cpu_us / 1_000_000;
        let age = (self.now - process.pi_start).max(0) as u64;
        match field {
            Field::Pid => alloc::format!("{}", process.pi_pid),
            Field::ParentPid => alloc::format!("{}", process.pi_ppid),
            Field::Group => alloc::format!("{}", process.pi_pgid),
            Field::Session => alloc::format!("{}", process.pi_sid),
            Field::Uid => alloc::format!("{}", process.pi_uid),
            Field::User => {
                self.users.get(&process.pi_uid).cloned().unwrap_or_else(|| alloc::format!("{}", process.pi_uid))
            }
            Field::Gid => alloc::format!("{}", process.pi_gid),
            Field::GroupName => {
                self.groups.get(&process.pi_gid).cloned().unwrap_or_else(|| alloc::format!("{}", process.pi_gid))
            }
            Field::Terminal => self.terminal(process.pi_tty),
            Field::State => String::from(process.pi_state as char),
            Field::Stat => {
                let mut stat = String::from(process.pi_state as char);
                if process.pi_nice < 0 {
                    stat.push('<');
                } else if process.pi_nice > 0 {
                    stat.push('N');
                }
                if process.pi_pid == process.pi_sid {
                    stat.push('s');
                }
                if process.pi_threads > 1 {
                    stat.push('l');
                }
                if process.pi_tty != 0 && self.foreground.get(&process.pi_tty) == Some(&process.pi_pgid) {
                    stat.push('+');
                }
                stat
            }
            Field::Time => cpu_time(seconds),
            Field::Elapsed => elapsed(age),
            Field::StartTime => start_time(process.pi_start, self.now),
            Field::Cpu => {
                let percent = (seconds * 100).checked_div(age).unwrap_or(0);
                alloc::format!("{}", percent.min(99))
            }
            Field::Command => text_of(&process.pi_comm),
            Field::Arguments => {
                let arguments = text_of(&process.pi_args);
                if arguments.is_empty() {
                    alloc::format!("[{}]", text_of(&process.pi_comm))
                } else {
                    arguments
                }
            }
            Field::Resident => alloc::format!("{}", process.pi_resident / 1024),
            Field::Virtual => alloc::format!("{}", process.pi_size / 1024),
            Field::Nice => alloc::format!("{}", process.pi_nice),
            Field::Threads => alloc::format!("{}", process.pi_threads),
        }
    }
}

/// The listing: a header (unless `headers` is false or every header was
/// emptied) and one line per process, columns as procps pads them.
pub fn render(processes: &[Procinfo], columns: &[(Field, Option<String>)], context: &Context, headers: bool) -> String {
    let pid_width =
        processes.iter().map(|process| alloc::format!("{}", process.pi_pid).len()).max().unwrap_or(1).max(5);
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let mut text = String::new();
        for (index, ((field, _), cell)) in columns.iter().zip(cells).enumerate() {
            let (_, width, left) = field.layout(pid_width);
            if index > 0 {
                text.push(' ');
            }
            let last = index + 1 == columns.len();
            if left && last {
                text.push_str(&cell);
            } else if left {
                text.push_str(&alloc::format!("{:<width$}", cell, width = width));
            } else {
                text.push_str(&alloc::format!("{:>width$}", cell, width = width));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    let show_header = headers && columns.iter().any(|(_, header)| header.as_deref() != Some(""));
    if show_header {
        let cells = columns
            .iter()
            .map(|(field, header)| header.clone().unwrap_or_else(|| String::from(field.layout(pid_width).0)))
            .collect();
        line(cells, &mut out);
    }
    for process in processes {
        let cells = columns.iter().map(|(field, _)| context.cell(*field, process)).collect();
        line(cells, &mut out);
    }
    out
}

/// The names of terminals by device number, from /dev and /dev/pts.
fn terminal_names() -> BTreeMap<u64, String> {
    let mut names = BTreeMap::new();
    for (directory, prefix) in [(&b"/dev/pts"[..], "pts/"), (&b"/dev"[..], "")] {
        let Ok(entries) = posix::fs::read_directory(directory) else { continue };
        for entry in entries {
            let path = posix::path::join(directory, &entry.name);
            let Ok(stat) = posix::fs::stat(&path[..]) else { continue };
            if stat.file_type() == posix::fs::FileType::CharacterDevice {
                let name = alloc::format!("{}{}", prefix, String::from_utf8_lossy(&entry.name));
                names.entry(stat.st_rdev).or_insert(name);
            }
        }
    }
    names
}

/// The foreground group of each terminal among our standard descriptors.
fn own_foreground_groups() -> BTreeMap<u64, i32> {
    let mut groups = BTreeMap::new();
    for fd in 0..3 {
        if !posix::fd::is_terminal(fd) {
            continue;
        }
        let device = posix::fd::Fd::borrowed(fd, |descriptor| descriptor.stat().map(|status| status.st_rdev));
        if let (Ok(device), Ok(group)) = (device, posix::terminal::foreground_group(fd)) {
            groups.entry(device).or_insert(group);
        }
    }
    groups
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if let Some(extra) = parsed.operands.first() {
        complain!("unsupported option or operand {}", quote(extra));
        return COMMAND.try_help();
    }
    let mut columns: Vec<(Field, Option<String>)> = Vec::new();
    for found in parsed.options.iter().filter(|found| found.id == b'o' as u32) {
        for item in
            found.value.unwrap_or(b"").split(|&byte| byte == b',' || byte == b' ').filter(|item| !item.is_empty())
        {
            let (name, header) = match item.iter().position(|&byte| byte == b'=') {
                Some(equals) => (&item[..equals], Some(String::from_utf8_lossy(&item[equals + 1..]).into_owned())),
                None => (item, None),
            };
            match Field::parse(name) {
                Some(field) => columns.push((field, header)),
                None => {
                    complain!("error: unknown user-defined format specifier {}", quote(name));
                    return COMMAND.try_help();
                }
            }
        }
    }
    if columns.is_empty() {
        let fields: &[Field] = if parsed.has(b'f') {
            &[
                Field::User,
                Field::Pid,
                Field::ParentPid,
                Field::Cpu,
                Field::StartTime,
                Field::Terminal,
                Field::Time,
                Field::Arguments,
            ]
        } else {
            &[Field::Pid, Field::Terminal, Field::Time, Field::Command]
        };
        for &field in fields {
            let header = match field {
                Field::User if parsed.has(b'f') => Some(String::from("UID")),
                Field::Terminal => Some(String::from("TTY")),
                Field::Command | Field::Arguments => Some(String::from("CMD")),
                _ => None,
            };
            columns.push((field, header));
        }
    }
    let mut processes = match posix::system::processes() {
        Ok(processes) => processes,
        Err(error) => {
            complain!("cannot list processes: {}", error);
            return 1;
        }
    };
    processes.sort_by_key(|process| process.pi_pid);
    let ours = posix::process::process_id();
    let own = processes.iter().find(|process| process.pi_pid == ours).copied();
    let euid = posix::process::effective_user_id();
    let pids: Option<Vec<i32>> = parsed.value(b'p' as u32).map(|list| {
        list.split(|&byte| byte == b',' || byte == b' ')
            .filter_map(crate::common::parse_integer)
            .map(|pid| pid as i32)
            .collect()
    });
    let users: Option<Vec<u32>> = parsed.value(b'u' as u32).map(|list| {
        list.split(|&byte| byte == b',')
            .filter_map(|name| {
                posix::accounts::user_by_name(name)
                    .map(|user| user.uid)
                    .or_else(|| crate::common::parse_integer(name).map(|uid| uid as u32))
            })
            .collect()
    });
    let everything = parsed.has(b'e');
    let with_terminal = parsed.has(b'a');
    processes.retain(|process| {
        if everything {
            return true;
        }
        let mut chosen = false;
        let mut selected_by_option = false;
        if let Some(pids) = &pids {
            selected_by_option = true;
            chosen |= pids.contains(&process.pi_pid);
        }
        if let Some(users) = &users {
            selected_by_option = true;
            chosen |= users.contains(&process.pi_uid);
        }
        if with_terminal {
            selected_by_option = true;
            chosen |= process.pi_tty != 0 && process.pi_pid != process.pi_sid;
        }
        if selected_by_option {
            return chosen;
        }
        // procps's default: our effective user and our terminal.
        process.pi_uid == euid && own.is_some_and(|own| own.pi_tty == process.pi_tty)
    });
    let mut context = Context {
        now: posix::time::now().tv_sec,
        foreground: BTreeMap::new(),
        terminals: BTreeMap::new(),
        users: BTreeMap::new(),
        groups: BTreeMap::new(),
    };
    if columns.iter().any(|(field, _)| *field == Field::Terminal) {
        context.terminals = terminal_names();
    }
    if columns.iter().any(|(field, _)| *field == Field::Stat) {
        context.foreground = own_foreground_groups();
    }
    for process in &processes {
        if columns.iter().any(|(field, _)| *field == Field::User) && !context.users.contains_key(&process.pi_uid) {
            if let Some(user) = posix::accounts::user_by_id(process.pi_uid) {
                context.users.insert(process.pi_uid, String::from_utf8_lossy(&user.name).into_owned());
            }
        }
        if columns.iter().any(|(field, _)| *field == Field::GroupName) && !context.groups.contains_key(&process.pi_gid)
        {
            if let Some(group) = posix::accounts::group_by_id(process.pi_gid) {
                context.groups.insert(process.pi_gid, String::from_utf8_lossy(&group.name).into_owned());
            }
        }
    }
    let headers = !parsed.options.iter().any(|found| found.id == NO_HEADERS);
    output(render(&processes, &columns, &context, headers).as_bytes());
    i32::from(processes.is_empty() && (pids.is_some() || users.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: i32, comm: &str, args: &str) -> Procinfo {
        let mut record = Procinfo::EMPTY;
        record.pi_pid = pid;
        record.pi_ppid = 1;
        record.pi_sid = pid;
        record.pi_state = b'S';
        record.pi_threads = 1;
        record.pi_cpu_us = 42_000_000;
        record.pi_start = 1_000;
        record.pi_comm[..comm.len()].copy_from_slice(comm.as_bytes());
        record.pi_args[..args.len()].copy_from_slice(args.as_bytes());
        record
    }

    #[test]
    fn layouts_match_procps() {
        let context = Context {
            now: 5_000,
            foreground: BTreeMap::new(),
            terminals: BTreeMap::new(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        let processes = [process(1, "init", "/sbin/init"), process(1234, "sh", "")];
        let default = [
            (Field::Pid, None),
            (Field::Terminal, Some(String::from("TTY"))),
            (Field::Time, None),
            (Field::Command, Some(String::from("CMD"))),
        ];
        assert_eq!(
            render(&processes, &default, &context, true),
            "  PID TTY          TIME CMD\n    1 ?        00:00:42 init\n 1234 ?        00:00:42 sh\n"
        );
        let custom = [
            (Field::Pid, Some(String::new())),
            (Field::Stat, Some(String::new())),
            (Field::Arguments, Some(String::new())),
        ];
        assert_eq!(render(&processes, &custom, &context, true), "    1 Ss   /sbin/init\n 1234 Ss   [sh]\n");
    }

    #[test]
    fn the_foreground_group_of_our_terminal_is_marked() {
        let mut context = Context {
            now: 5_000,
            foreground: BTreeMap::new(),
            terminals: BTreeMap::new(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        context.foreground.insert(0x0501, 40);
        let mut shell = process(30, "msh", "msh");
        shell.pi_tty = 0x0501;
        shell.pi_pgid = 30;
        let mut job = process(40, "ps", "ps");
        job.pi_tty = 0x0501;
        job.pi_pgid = 40;
        job.pi_sid = 30;
        job.pi_state = b'R';
        let mut elsewhere = process(50, "vi", "vi");
        elsewhere.pi_tty = 0x8800;
        elsewhere.pi_pgid = 40;
        elsewhere.pi_sid = 49;
        let columns = [(Field::Pid, Some(String::new())), (Field::Stat, Some(String::new()))];
        assert_eq!(render(&[shell, job, elsewhere], &columns, &context, true), "   30 Ss\n   40 R+\n   50 S\n");
    }

    #[test]
    fn times_format_as_procps() {
        assert_eq!(cpu_time(42), "00:00:42");
        assert_eq!(cpu_time(90061), "1-01:01:01");
        assert_eq!(elapsed(65), "01:05");
        assert_eq!(elapsed(3661), "01:01:01");
        assert_eq!(elapsed(90061), "1-01:01:01");
        assert_eq!(start_time(1_709_296_496, 1_709_296_500), "12:34");
        assert_eq!(start_time(1_709_296_496, 1_709_296_496 + 86400 * 3), "Mar01");
        assert_eq!(start_time(1_609_296_496, 1_709_296_496), "2020");
    }
}
