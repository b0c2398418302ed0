//! ls: lists directories and files. -l long format (mode, links, owner and
//! group from the account files, size, time, link target), -a/-A hidden
//! files, -R recursion, -1/-C/-x layouts (columns laid out and indented
//! with tabs as GNU's ls does; one per line when output is not a
//! terminal), -h human sizes, -i inodes, -s blocks, -n numeric ids, -d
//! directories themselves, -F/-p indicators, -r/-t/-S/-U orderings, -c/-u
//! change or access time, -L to follow links. Names are printed as they
//! are (no quoting or colour).

use crate::common::{human_size, mode_string, quote, Command, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use posix::fs::FileType;
use posix::Stat;

const COLOR: u32 = 300;
const GROUP_DIRECTORIES_FIRST: u32 = 301;
const FULL_TIME: u32 = 302;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nList information about the FILEs (the current directory by default).\n  -a, --all                  do not ignore entries starting with .\n  -A, --almost-all           do not list implied . and ..\n  -c                         with -lt: sort by, and show, ctime\n  -C                         list entries by columns\n  -d, --directory            list directories themselves, not their contents\n  -F, --classify             append indicator (one of */=@|) to entries\n  -h, --human-readable       with -l and -s, print sizes like 1K 234M 2G etc.\n  -i, --inode                print the index number of each file\n  -l                         use a long listing format\n  -L, --dereference          show information for the file a link references\n  -n, --numeric-uid-gid      like -l, but list numeric user and group IDs\n  -p                         append / indicator to directories\n  -r, --reverse              reverse order while sorting\n  -R, --recursive            list subdirectories recursively\n  -s, --size                 print the allocated size of each file, in blocks\n  -S                         sort by file size, largest first\n  -t                         sort by time, newest first\n  -T, --tabsize=COLS         assume tab stops at each COLS instead of 8\n  -u                         with -lt: sort by, and show, access time\n  -U                         do not sort; list entries in directory order\n  -w, --width=COLS           set output width to COLS (0 means no limit)\n  -x                         list entries by lines instead of by columns\n  -1                         list one file per line\n      --full-time            like -l with full times\n      --group-directories-first  group directories before files\n      --color[=WHEN]         accepted; output is never coloured\n",
    specs: &[
        Spec::flag(b'a', "all"),
        Spec::flag(b'A', "almost-all"),
        Spec::flag(b'c', ""),
        Spec::flag(b'C', ""),
        Spec::flag(b'd', "directory"),
        Spec::flag(b'F', "classify"),
        Spec::flag(b'f', ""),
        Spec::flag(b'g', ""),
        Spec::flag(b'h', "human-readable"),
        Spec::flag(b'i', "inode"),
        Spec::flag(b'l', ""),
        Spec::flag(b'L', "dereference"),
        Spec::flag(b'n', "numeric-uid-gid"),
        Spec::flag(b'o', ""),
        Spec::flag(b'p', ""),
        Spec::flag(b'r', "reverse"),
        Spec::flag(b'R', "recursive"),
        Spec::flag(b's', "size"),
        Spec::flag(b'S', ""),
        Spec::flag(b't', ""),
        Spec::value(b'T', "tabsize"),
        Spec::flag(b'u', ""),
        Spec::flag(b'U', ""),
        Spec::value(b'w', "width"),
        Spec::flag(b'x', ""),
        Spec::flag(b'1', ""),
        Spec::long("color", Takes::OptionalValue, COLOR),
        Spec::long("colour", Takes::OptionalValue, COLOR),
        Spec::long("group-directories-first", Takes::Nothing, GROUP_DIRECTORIES_FIRST),
        Spec::long("full-time", Takes::Nothing, FULL_TIME),
    ],
    order: Order::Gnu,
    usage_status: 2,
    try_with_name: false,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Long,
    OnePerLine,
    Columns,
    Across,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sorting {
    Name,
    Time,
    Size,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Modification,
    Change,
    Access,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hidden {
    Hide,
    AlmostAll,
    All,
}

/// Everything that shapes the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub layout: Layout,
    pub hidden: Hidden,
    pub sorting: Sorting,
    pub reverse: bool,
    pub recursive: bool,
    pub directories_themselves: bool,
    pub classify: bool,
    pub slash: bool,
    pub human: bool,
    pub inode: bool,
    pub blocks: bool,
    pub numeric: bool,
    pub show_owner: bool,
    pub show_group: bool,
    pub dereference: bool,
    pub time: Which,
    pub full_time: bool,
    pub width: usize,
    pub tab_size: usize,
    pub directories_first: bool,
    /// The current time (for the six-month rule of -l dates).
    pub now: (i64, i64),
}

/// One thing to list: the name shown, the path to reach it, its status
/// (None when it could not be read) and a link's target.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: Vec<u8>,
    pub path: Vec<u8>,
    pub stat: Option<Stat>,
    pub target: Option<Vec<u8>>,
    /// For -F on a link shown in long form: the kind of what it points to.
    pub target_stat: Option<Stat>,
    /// What the directory said about it (for an entry whose status failed).
    pub kind: FileType,
    pub inode: u64,
}

impl Entry {
    fn is_directory(&self) -> bool {
        self.stat.as_ref().is_some_and(|stat| stat.is_directory())
    }

    fn time(&self, which: Which) -> (i64, i64) {
        match &self.stat {
            Some(stat) => {
                let time = match which {
                    Which::Modification => stat.st_mtim,
                    Which::Change => stat.st_ctim,
                    Which::Access => stat.st_atim,
                };
                (time.tv_sec, time.tv_nsec)
            }
            None => (0, 0),
        }
    }
}

/// Sorts entries as GNU's ls does (names by bytes; time and size
/// descending with names breaking ties; -r reverses the whole order).
pub fn sort_entries(entries: &mut [Entry], settings: &Settings) {
    match settings.sorting {
        Sorting::None => {}
        Sorting::Name => entries.sort_by(|a, b| a.name.cmp(&b.name)),
        Sorting::Time => {
            entries.sort_by(|a, b| b.time(settings.time).cmp(&a.time(settings.time)).then_with(|| a.name.cmp(&b.name)))
        }
        Sorting::Size => entries.sort_by(|a, b| {
            let size = |entry: &Entry| entry.stat.as_ref().map_or(0, |stat| stat.st_size);
            size(b).cmp(&size(a)).then_with(|| a.name.cmp(&b.name))
        }),
    }
    if settings.reverse && settings.sorting != Sorting::None {
        entries.reverse();
    }
    if settings.directories_first {
        // Stable: the chosen order holds within each group.
        let (mut directories, mut others): (Vec<Entry>, Vec<Entry>) = (Vec::new(), Vec::new());
        for entry in entries.iter().cloned() {
            let directory = entry.is_directory() || entry.target_stat.as_ref().is_some_and(|stat| stat.is_directory());
            if directory {
                directories.push(entry);
            } else {
                others.push(entry);
            }
        }
        directories.append(&mut others);
        entries.clone_from_slice(&directories);
    }
}

/// The -F/-p indicator of an entry.
fn indicator(entry: &Entry, settings: &Settings) -> Option<u8> {
    let stat = entry.stat.as_ref()?;
    if settings.slash {
        return (stat.file_type() == FileType::Directory).then_some(b'/');
    }
    if !settings.classify {
        return None;
    }
    match stat.file_type() {
        FileType::Directory => Some(b'/'),
        FileType::Symlink => {
            // GNU: in long format the link itself gets no '@' (the target shows after ->).
            if settings.layout == Layout::Long {
                None
            } else {
                Some(b'@')
            }
        }
        FileType::Fifo => Some(b'|'),
        FileType::Socket => Some(b'='),
        FileType::Regular if stat.st_mode & 0o111 != 0 => Some(b'*'),
        _ => None,
    }
}

/// "Mar  1  2024" or "Mar  1 12:34" (six-month rule), or the full form.
pub fn format_date(seconds: i64, nanoseconds: i64, now: (i64, i64), full: bool) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = seconds.div_euclid(86400);
    let within = seconds.rem_euclid(86400);
    let (year, month, day) = crate::dates::civil_from_days(days);
    if full {
        return alloc::format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:09} +0000",
            year,
            month,
            day,
            within / 3600,
            within % 3600 / 60,
            within % 60,
            nanoseconds
        );
    }
    let six_months_ago = (now.0 - 31_556_952 / 2, now.1);
    let recent = (seconds, nanoseconds) > six_months_ago && (seconds, nanoseconds) < now;
    let month_name = MONTHS[(month - 1) as usize];
    if recent {
        alloc::format!("{} {:>2} {:02}:{:02}", month_name, day, within / 3600, within % 3600 / 60)
    } else {
        alloc::format!("{} {:>2}  {}", month_name, day, year)
    }
}

/// Caches of user and group names (each looked up once per run).
#[derive(Default)]
pub struct Names {
    users: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
}

impl Names {
    fn user(&mut self, uid: u32, numeric: bool) -> String {
        if numeric {
            return alloc::format!("{}", uid);
        }
        self.users
            .entry(uid)
            .or_insert_with(|| {
                posix::accounts::user_by_id(uid)
                    .map(|user| String::from_utf8_lossy(&user.name).into_owned())
                    .unwrap_or_else(|| alloc::format!("{}", uid))
            })
            .clone()
    }

    fn group(&mut self, gid: u32, numeric: bool) -> String {
        if numeric {
            return alloc::format!("{}", gid);
        }
        self.groups
            .entry(gid)
            .or_insert_with(|| {
                posix::accounts::group_by_id(gid)
                    .map(|group| String::from_utf8_lossy(&group.name).into_owned())
                    .unwrap_or_else(|| alloc::format!("{}", gid))
            })
            .clone()
    }
}

fn digits(value: u64) -> usize {
    let mut count = 1;
    let mut rest = value;
    while rest >= 10 {
        rest /= 10;
        count += 1;
    }
    count
}

/// Allocated size in 1K units (GNU rounds each file up).
fn kilobytes(stat: &Stat) -> u64 {
    (stat.st_blocks.max(0) as u64 * 512).div_ceil(1024)
}

fn block_text(stat: &Stat, settings: &Settings) -> String {
    if settings.human {
        human_size(stat.st_blocks.max(0) as u64 * 512)
    } else {
        alloc::format!("{}", kilobytes(stat))
    }
}

/// The long-format lines of `entries`, columns aligned across them.
pub fn long_lines(entries: &[Entry], settings: &Settings, names: &mut Names) -> Vec<u8> {
    struct Row {
        inode: String,
        blocks: String,
        mode: String,
        links: String,
        owner: String,
        group: String,
        size: String,
        major: String,
        minor: String,
        date: String,
    }
    let mut rows = Vec::new();
    for entry in entries {
        let Some(stat) = &entry.stat else {
            rows.push(None);
            continue;
        };
        let (major, minor, size) = match stat.file_type() {
            FileType::CharacterDevice | FileType::BlockDevice => {
                let (major, minor) = stat.device_numbers();
                (alloc::format!("{}", major), alloc::format!("{}", minor), String::new())
            }
            _ => {
                let size = if settings.human {
                    human_size(stat.st_size.max(0) as u64)
                } else {
                    alloc::format!("{}", stat.st_size)
                };
                (String::new(), String::new(), size)
            }
        };
        let (seconds, nanoseconds) = entry.time(settings.time);
        // A time after "now" may be a file changed since we read the clock: read it again (as GNU does).
        let mut now = settings.now;
        if (seconds, nanoseconds) > now {
            let fresh = posix::time::now();
            now = (fresh.tv_sec, fresh.tv_nsec);
        }
        rows.push(Some(Row {
            inode: alloc::format!("{}", stat.st_ino),
            blocks: block_text(stat, settings),
            mode: alloc::format!("{}", Text(&mode_string(stat.st_mode))),
            links: alloc::format!("{}", stat.st_nlink),
            owner: names.user(stat.st_uid, settings.numeric),
            group: names.group(stat.st_gid, settings.numeric),
            size,
            major,
            minor,
            date: format_date(seconds, nanoseconds, now, settings.full_time),
        }));
    }
    let width = |field: fn(&Row) -> &String| rows.iter().flatten().map(|row| field(row).len()).max().unwrap_or(0);
    let inode_width = width(|row| &row.inode);
    let blocks_width = width(|row| &row.blocks);
    let links_width = width(|row| &row.links);
    let owner_width = width(|row| &row.owner);
    let group_width = width(|row| &row.group);
    let major_width = width(|row| &row.major);
    let minor_width = width(|row| &row.minor);
    let device_width = if major_width > 0 { major_width + 2 + minor_width } else { 0 };
    let size_width = width(|row| &row.size).max(device_width);
    let mut out = Vec::new();
    let date_width = width(|row| &row.date);
    for (entry, row) in entries.iter().zip(rows) {
        let Some(row) = row else {
            // What GNU shows of an entry whose status failed: its type, then '?'s.
            let kind = match entry.kind {
                FileType::Directory => 'd',
                FileType::Symlink => 'l',
                FileType::CharacterDevice => 'c',
                FileType::BlockDevice => 'b',
                FileType::Fifo => 'p',
                FileType::Socket => 's',
                _ => '-',
            };
            let mut line = String::new();
            if settings.inode {
                line.push_str(&alloc::format!("{:>width$} ", entry.inode, width = inode_width));
            }
            if settings.blocks {
                line.push_str(&alloc::format!("{:>width$} ", "?", width = blocks_width));
            }
            line.push(kind);
            line.push_str("?????????");
            line.push_str(&alloc::format!(" {:>width$}", "?", width = links_width));
            if settings.show_owner {
                line.push_str(&alloc::format!(" {:<width$}", "?", width = owner_width));
            }
            if settings.show_group {
                line.push_str(&alloc::format!(" {:<width$}", "?", width = group_width));
            }
            line.push_str(&alloc::format!(" {:>width$}", "?", width = size_width));
            line.push_str(&alloc::format!(" {:>width$} ", "?", width = date_width));
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(&entry.name);
            out.push(b'\n');
            continue;
        };
        let mut line = String::new();
        if settings.inode {
            line.push_str(&alloc::format!("{:>width$} ", row.inode, width = inode_width));
        }
        if settings.blocks {
            line.push_str(&alloc::format!("{:>width$} ", row.blocks, width = blocks_width));
        }
        line.push_str(&row.mode);
        line.push_str(&alloc::format!(" {:>width$}", row.links, width = links_width));
        if settings.show_owner {
            line.push_str(&alloc::format!(" {:<width$}", row.owner, width = owner_width));
        }
        if settings.show_group {
            line.push_str(&alloc::format!(" {:<width$}", row.group, width = group_width));
        }
        if !row.major.is_empty() {
            let device = alloc::format!(
                "{:>major$}, {:>minor$}",
                row.major,
                row.minor,
                major = major_width,
                minor = minor_width
            );
            line.push_str(&alloc::format!(" {:>width$}", device, width = size_width));
        } else {
            line.push_str(&alloc::format!(" {:>width$}", row.size, width = size_width));
        }
        line.push(' ');
        line.push_str(&row.date);
        line.push(' ');
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(&entry.name);
        if let Some(target) = &entry.target {
            out.extend_from_slice(b" -> ");
            out.extend_from_slice(target);
            if settings.classify {
                if let Some(target_stat) = &entry.target_stat {
                    let pseudo = Entry {
                        name: Vec::new(),
                        path: Vec::new(),
                        stat: Some(*target_stat),
                        target: None,
                        target_stat: None,
                        kind: FileType::Unknown,
                        inode: 0,
                    };
                    let short = Settings { layout: Layout::OnePerLine, ..settings.clone() };
                    if let Some(mark) = indicator(&pseudo, &short) {
                        out.push(mark);
                    }
                }
            }
        } else if let Some(mark) = indicator(entry, settings) {
            out.push(mark);
        }
        out.push(b'\n');
    }
    out
}

/// Moves the output position from `from` to `to` as GNU's ls does: tabs
/// where a whole tab stop fits (when `tab_size` is not 0), then spaces.
fn indent(out: &mut Vec<u8>, mut from: usize, to: usize, tab_size: usize) {
    while from < to {
        if tab_size != 0 && to / tab_size > (from + 1) / tab_size {
            out.push(b'\t');
            from += tab_size - from % tab_size;
        } else {
            out.push(b' ');
            from += 1;
        }
    }
}

/// Column layout (-C down columns, -x across) as GNU's ls computes it:
/// the most columns whose widths (widest entry + 2, the last without the 2)
/// fit in `width`.
pub fn column_lines(cells: &[Vec<u8>], across: bool, width: usize, tab_size: usize) -> Vec<u8> {
    const MINIMUM_COLUMN: usize = 3;
    let count = cells.len();
    let mut out = Vec::new();
    if count == 0 {
        return out;
    }
    if width == 0 {
        // No line limit: one line, two spaces between names (GNU's print_with_separator).
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                out.extend_from_slice(b"  ");
            }
            out.extend_from_slice(cell);
        }
        out.push(b'\n');
        return out;
    }
    let line_length = width;
    let maximum_columns = (line_length / MINIMUM_COLUMN).max(1).min(count);
    // For each candidate column count: the column widths and whether it fits.
    let mut candidates: Vec<(bool, usize, Vec<usize>)> = (0..maximum_columns)
        .map(|index| (true, (index + 1) * MINIMUM_COLUMN, alloc::vec![MINIMUM_COLUMN; index + 1]))
        .collect();
    for (position, cell) in cells.iter().enumerate() {
        let name_length = cell.len();
        for (index, candidate) in candidates.iter_mut().enumerate() {
            if !candidate.0 {
                continue;
            }
            let column = if across { position % (index + 1) } else { position / count.div_ceil(index + 1) };
            let real_length = name_length + if column == index { 0 } else { 2 };
            if candidate.2[column] < real_length {
                candidate.1 += real_length - candidate.2[column];
                candidate.2[column] = real_length;
                candidate.0 = candidate.1 < line_length;
            }
        }
    }
    let chosen = candidates.iter().rposition(|candidate| candidate.0).unwrap_or(0);
    let columns = chosen + 1;
    let widths = &candidates[chosen].2;
    if across {
        let mut position = 0;
        for (index, cell) in cells.iter().enumerate() {
            let column = index % columns;
            if column == 0 && index > 0 {
                out.push(b'\n');
                position = 0;
            }
            out.extend_from_slice(cell);
            if column + 1 < columns && index + 1 < count {
                let target = position + widths[column];
                indent(&mut out, position + cell.len(), target, tab_size);
                position = target;
            }
        }
        out.push(b'\n');
        return out;
    }
    let rows = count.div_ceil(columns);
    for row in 0..rows {
        let mut position = 0;
        let mut column = 0;
        let mut index = row;
        loop {
            let cell = &cells[index];
            out.extend_from_slice(cell);
            index += rows;
            if index >= count {
                break;
            }
            let target = position + widths[column];
            indent(&mut out, position + cell.len(), target, tab_size);
            position = target;
            column += 1;
        }
        out.push(b'\n');
    }
    out
}

/// The short-format cells (inode and blocks prefixes, indicators).
fn short_cells(entries: &[Entry], settings: &Settings) -> Vec<Vec<u8>> {
    let inode_width = entries.iter().filter_map(|entry| entry.stat.map(|stat| digits(stat.st_ino))).max().unwrap_or(0);
    let block_width =
        entries.iter().filter_map(|entry| entry.stat.map(|stat| block_text(&stat, settings).len())).max().unwrap_or(0);
    entries
        .iter()
        .map(|entry| {
            let mut cell = Vec::new();
            if settings.inode {
                let text = entry.stat.map_or_else(|| String::from("?"), |stat| alloc::format!("{}", stat.st_ino));
                cell.extend_from_slice(alloc::format!("{:>width$} ", text, width = inode_width).as_bytes());
            }
            if settings.blocks {
                let text = entry.stat.map_or_else(|| String::from("?"), |stat| block_text(&stat, settings));
                cell.extend_from_slice(alloc::format!("{:>width$} ", text, width = block_width).as_bytes());
            }
            cell.extend_from_slice(&entry.name);
            if let Some(mark) = indicator(entry, settings) {
                cell.push(mark);
            }
            cell
        })
        .collect()
}

/// The listing of `entries` in the chosen layout.
pub fn render(entries: &[Entry], settings: &Settings, names: &mut Names) -> Vec<u8> {
    match settings.layout {
        Layout::Long => long_lines(entries, settings, names),
        Layout::OnePerLine => {
            let mut out = Vec::new();
            for cell in short_cells(entries, settings) {
                out.extend_from_slice(&cell);
                out.push(b'\n');
            }
            out
        }
        Layout::Columns | Layout::Across => column_lines(
            &short_cells(entries, settings),
            settings.layout == Layout::Across,
            settings.width,
            settings.tab_size,
        ),
    }
}

/// Reads one entry's status (and a link's target in long format).
fn load(name: Vec<u8>, path: Vec<u8>, settings: &Settings, follow: bool) -> Result<Entry, posix::Errno> {
    let stat = if follow || settings.dereference { posix::fs::stat(&path[..]) } else { posix::fs::lstat(&path[..]) };
    let stat = match stat {
        Ok(stat) => stat,
        // A dangling command-line link followed: show the link itself, as GNU does.
        Err(_) if follow => posix::fs::lstat(&path[..])?,
        Err(error) => return Err(error),
    };
    let mut entry = Entry {
        name,
        path,
        stat: Some(stat),
        target: None,
        target_stat: None,
        kind: stat.file_type(),
        inode: stat.st_ino,
    };
    if stat.is_symlink() && settings.layout == Layout::Long {
        entry.target = posix::fs::read_link(&entry.path[..]).ok();
        entry.target_stat = posix::fs::stat(&entry.path[..]).ok();
    }
    Ok(entry)
}

struct Lister {
    settings: Settings,
    names: Names,
    status: i32,
    /// Whether anything was printed yet (blank lines between sections).
    printed: bool,
}

impl Lister {
    fn list_directory(&mut self, path: &[u8], header: bool) {
        let directory = match posix::fs::Directory::open(path, self.settings.hidden == Hidden::All) {
            Ok(directory) => directory,
            Err(error) => {
                complain!("cannot open directory {}: {}", quote(path), error);
                self.status = self.status.max(if header && self.printed { 1 } else { 2 });
                return;
            }
        };
        let mut entries = Vec::new();
        for item in directory {
            let item = match item {
                Ok(item) => item,
                Err(error) => {
                    complain!("reading directory {}: {}", quote(path), error);
                    self.status = self.status.max(1);
                    break;
                }
            };
            if self.settings.hidden == Hidden::Hide && item.name.first() == Some(&b'.') {
                continue;
            }
            let child = posix::path::join(path, &item.name);
            match load(item.name.clone(), child.clone(), &self.settings, false) {
                Ok(entry) => entries.push(entry),
                Err(error) => {
                    // A short listing that needs no status (GNU uses the directory's type) stays quiet.
                    let needs_status = self.settings.layout == Layout::Long
                        || self.settings.blocks
                        || self.settings.classify
                        || matches!(self.settings.sorting, Sorting::Time | Sorting::Size);
                    if needs_status {
                        complain!("cannot access {}: {}", quote(&child), error);
                        self.status = self.status.max(1);
                    }
                    entries.push(Entry {
                        name: item.name,
                        path: child,
                        stat: None,
                        target: None,
                        target_stat: None,
                        kind: item.file_type,
                        inode: item.inode,
                    });
                }
            }
        }
        sort_entries(&mut entries, &self.settings);
        let mut out = Vec::new();
        if header {
            if self.printed {
                out.push(b'\n');
            }
            out.extend_from_slice(path);
            out.extend_from_slice(b":\n");
        }
        if self.settings.layout == Layout::Long || self.settings.blocks {
            let total: u64 =
                entries.iter().filter_map(|entry| entry.stat.as_ref()).map(|stat| stat.st_blocks.max(0) as u64).sum();
            let text = if self.settings.human {
                human_size(total * 512)
            } else {
                alloc::format!("{}", entries.iter().filter_map(|entry| entry.stat.as_ref()).map(kilobytes).sum::<u64>())
            };
            out.extend_from_slice(alloc::format!("total {}\n", text).as_bytes());
        }
        out.extend_from_slice(&render(&entries, &self.settings, &mut self.names));
        crate::common::output(&out);
        self.printed = true;
        if self.settings.recursive {
            for entry in &entries {
                let directory = entry.stat.as_ref().is_some_and(|stat| stat.is_directory());
                if directory && entry.name != b"." && entry.name != b".." {
                    self.list_directory(&entry.path.clone(), true);
                }
            }
        }
    }
}

fn parse_settings(parsed: &crate::options::Parsed<'_>) -> Result<Settings, i32> {
    let terminal = posix::fd::is_terminal(1);
    let mut settings = Settings {
        layout: if terminal { Layout::Columns } else { Layout::OnePerLine },
        hidden: Hidden::Hide,
        sorting: Sorting::Name,
        reverse: false,
        recursive: false,
        directories_themselves: false,
        classify: false,
        slash: false,
        human: false,
        inode: false,
        blocks: false,
        numeric: false,
        show_owner: true,
        show_group: true,
        dereference: false,
        time: Which::Modification,
        full_time: false,
        width: 80,
        tab_size: 8,
        directories_first: false,
        now: {
            let now = posix::time::now();
            (now.tv_sec, now.tv_nsec)
        },
    };
    if let Some(columns) = posix::environment::get("COLUMNS").and_then(|text| crate::common::parse_integer(&text)) {
        if columns > 0 {
            settings.width = columns as usize;
        }
    } else if terminal {
        if let Ok(size) = posix::terminal::window_size(1) {
            if size.ws_col > 0 {
                settings.width = size.ws_col as usize;
            }
        }
    }
    let mut explicit_sort = false;
    for found in &parsed.options {
        let letter = if found.id < 256 { found.id as u8 } else { 0 };
        match letter {
            b'a' => settings.hidden = Hidden::All,
            b'A' => settings.hidden = Hidden::AlmostAll,
            b'c' => settings.time = Which::Change,
            b'u' => settings.time = Which::Access,
            b'C' => settings.layout = Layout::Columns,
            b'x' => settings.layout = Layout::Across,
            b'1' => {
                if settings.layout != Layout::Long {
                    settings.layout = Layout::OnePerLine
                }
            }
            b'l' => settings.layout = Layout::Long,
            b'g' => {
                settings.layout = Layout::Long;
                settings.show_owner = false;
            }
            b'o' => {
                settings.layout = Layout::Long;
                settings.show_group = false;
            }
            b'n' => {
                settings.layout = Layout::Long;
                settings.numeric = true;
            }
            b'd' => settings.directories_themselves = true,
            b'F' => settings.classify = true,
            b'p' => settings.slash = true,
            b'f' => {
                settings.hidden = Hidden::All;
                settings.sorting = Sorting::None;
                explicit_sort = true;
            }
            b'h' => settings.human = true,
            b'i' => settings.inode = true,
            b'L' => settings.dereference = true,
            b'r' => settings.reverse = true,
            b'R' => settings.recursive = true,
            b's' => settings.blocks = true,
            b'S' => {
                settings.sorting = Sorting::Size;
                explicit_sort = true;
            }
            b't' => {
                settings.sorting = Sorting::Time;
                explicit_sort = true;
            }
            b'U' => {
                settings.sorting = Sorting::None;
                explicit_sort = true;
            }
            b'T' | b'w' => {
                let value = found.value.unwrap_or(b"");
                let Some(number) = crate::common::parse_integer(value).filter(|&number| number >= 0) else {
                    let what = if letter == b'T' { "tab size" } else { "line width" };
                    complain!("invalid {}: {}", what, quote(value));
                    return Err(2);
                };
                if letter == b'T' {
                    settings.tab_size = number as usize;
                } else {
                    settings.width = number as usize;
                }
            }
            _ => match found.id {
                GROUP_DIRECTORIES_FIRST => settings.directories_first = true,
                FULL_TIME => {
                    settings.layout = Layout::Long;
                    settings.full_time = true;
                }
                COLOR => match found.value {
                    None | Some(b"never") | Some(b"no") | Some(b"none") | Some(b"auto") | Some(b"tty")
                    | Some(b"if-tty") => {}
                    Some(b"always") | Some(b"yes") | Some(b"force") => {
                        complain!("colour output is not supported");
                        return Err(2);
                    }
                    Some(other) => {
                        complain!("invalid argument {} for '--color'", quote(other));
                        posix::eprintln!(
                            "Valid arguments are:\n  - 'always', 'yes', 'force'\n  - 'never', 'no', 'none'\n  - 'auto', 'tty', 'if-tty'"
                        );
                        // A bad argument value exits 1 (GNU's argmatch_die), not ls's usual 2.
                        COMMAND.try_help();
                        return Err(1);
                    }
                },
                _ => {}
            },
        }
    }
    // -c/-u sort by that time unless -l says otherwise (GNU's rule).
    if !explicit_sort && settings.time != Which::Modification && settings.layout != Layout::Long {
        settings.sorting = Sorting::Time;
    }
    Ok(settings)
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let settings = match parse_settings(&parsed) {
        Ok(settings) => settings,
        Err(status) => return status,
    };
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"."] } else { parsed.operands.clone() };
    let mut lister = Lister { settings: settings.clone(), names: Names::default(), status: 0, printed: false };
    // Command-line links to directories are followed unless -l, -d or -F say otherwise.
    let follow_arguments = !(settings.layout == Layout::Long || settings.directories_themselves || settings.classify);
    let mut files = Vec::new();
    let mut directories = Vec::new();
    for operand in &operands {
        let entry = match load(operand.to_vec(), operand.to_vec(), &settings, false) {
            Ok(entry) => entry,
            Err(error) => {
                complain!("cannot access {}: {}", quote(operand), error);
                lister.status = 2;
                continue;
            }
        };
        let is_link_to_directory = entry.stat.is_some_and(|stat| stat.is_symlink())
            && follow_arguments
            && posix::fs::stat(*operand).is_ok_and(|stat| stat.is_directory());
        if (entry.is_directory() || is_link_to_directory) && !settings.directories_themselves {
            directories.push(operand.to_vec());
        } else {
            files.push(entry);
        }
    }
    sort_entries(&mut files, &settings);
    if !files.is_empty() {
        let out = render(&files, &settings, &mut lister.names);
        crate::common::output(&out);
        lister.printed = true;
    }
    let mut directory_entries: Vec<Entry> = directories
        .into_iter()
        .map(|path| {
            let stat = posix::fs::stat(&path[..]).ok();
            Entry {
                name: path.clone(),
                path,
                stat,
                target: None,
                target_stat: None,
                kind: FileType::Directory,
                inode: 0,
            }
        })
        .collect();
    sort_entries(&mut directory_entries, &settings);
    let headers = settings.recursive || operands.len() > 1;
    for entry in directory_entries {
        lister.list_directory(&entry.path, headers);
    }
    lister.status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_of(mode: u32, size: i64, mtime: i64) -> Stat {
        Stat {
            st_mode: mode,
            st_size: size,
            st_nlink: 1,
            st_mtim: posix::Timespec::new(mtime, 0),
            st_blocks: (size + 511) / 512,
            ..Stat::default()
        }
    }

    fn entry(name: &str, stat: Stat) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            path: name.as_bytes().to_vec(),
            stat: Some(stat),
            target: None,
            target_stat: None,
            kind: stat.file_type(),
            inode: 0,
        }
    }

    fn settings() -> Settings {
        Settings {
            layout: Layout::Long,
            hidden: Hidden::Hide,
            sorting: Sorting::Name,
            reverse: false,
            recursive: false,
            directories_themselves: false,
            classify: false,
            slash: false,
            human: false,
            inode: false,
            blocks: false,
            numeric: true,
            show_owner: true,
            show_group: true,
            dereference: false,
            time: Which::Modification,
            full_time: false,
            width: 80,
            tab_size: 8,
            directories_first: false,
            now: (1_800_000_000, 0),
        }
    }

    #[test]
    fn dates_follow_the_six_month_rule() {
        let now = (1_709_296_496, 0); // 2024-03-01 12:34:56
        assert_eq!(format_date(now.0 - 3600, 0, now, false), "Mar  1 11:34");
        assert_eq!(format_date(now.0 - 200 * 86400, 0, now, false), "Aug 14  2023");
        assert_eq!(format_date(now.0 + 86400, 0, now, false), "Mar  2  2024");
        assert_eq!(format_date(0, 5, now, true), "1970-01-01 00:00:00.000000005 +0000");
    }

    #[test]
    fn long_lines_align_their_columns() {
        let entries = [entry("a", stat_of(0o100644, 5, 0)), entry("bigger", stat_of(0o040755, 4096, 0))];
        let out = long_lines(&entries, &settings(), &mut Names::default());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-rw-r--r-- 1 0 0    5 Jan  1  1970 a\ndrwxr-xr-x 1 0 0 4096 Jan  1  1970 bigger\n"
        );
    }

    #[test]
    fn sorting_by_time_size_and_reverse() {
        let mut entries = alloc::vec![
            entry("b", stat_of(0o100644, 10, 5)),
            entry("a", stat_of(0o100644, 30, 5)),
            entry("c", stat_of(0o100644, 20, 9)),
        ];
        let mut by_time = Settings { sorting: Sorting::Time, ..settings() };
        sort_entries(&mut entries, &by_time);
        assert_eq!(
            entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
            [b"c".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
        by_time.reverse = true;
        sort_entries(&mut entries, &by_time);
        assert_eq!(entries[0].name, b"b");
        sort_entries(&mut entries, &Settings { sorting: Sorting::Size, ..settings() });
        assert_eq!(entries[0].name, b"a");
    }

    #[test]
    fn columns_match_gnu_ls() {
        // What GNU's ls -C / -x print for these names (checked on the host).
        let cells: Vec<Vec<u8>> =
            ["five", "four", "one", "three", "two"].iter().map(|name| name.as_bytes().to_vec()).collect();
        assert_eq!(column_lines(&cells, false, 20, 8), b"five  one    two\nfour  three\n");
        assert_eq!(column_lines(&cells, true, 20, 0), b"five   four  one\nthree  two\n");
        assert_eq!(column_lines(&cells, false, 0, 8), b"five  four  one  three  two\n");
        let long: Vec<Vec<u8>> = ["a-rather-long-name", "b", "c"].iter().map(|name| name.as_bytes().to_vec()).collect();
        assert_eq!(column_lines(&long, false, 30, 8), b"a-rather-long-name  b  c\n");
    }
}
