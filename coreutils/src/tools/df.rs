//! df: file system space (statvfs) for every mounted file system (the
//! mount table) or for those holding FILEs. -h human sizes, -k 1K blocks
//! (the default), -P POSIX columns, -T the type, -i inodes, -a also
//! pseudo file systems (no blocks) and repeated mounts. Columns are sized
//! to their contents as GNU's df sizes them. Also the statfs side of
//! `stat -f`.

use crate::common::{human_size, quote, Command, Text};
use crate::complain;
use crate::options::{Order, Spec};
use crate::tools::stat::{pad_number, pad_text, FormatSpec};
use alloc::string::String;
use alloc::vec::Vec;
use posix::system::Mount;
use posix::types::Statfs;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nShow information about the file system on which each FILE resides, or all file systems by default.\n  -a, --all             include pseudo, duplicate, inaccessible file systems\n  -h, --human-readable  print sizes in powers of 1024 (e.g., 1023M)\n  -i, --inodes          list inode information instead of block usage\n  -k                    like --block-size=1K\n  -P, --portability     use the POSIX output format\n  -T, --print-type      print file system type\n",
    specs: &[
        Spec::flag(b'a', "all"),
        Spec::flag(b'h', "human-readable"),
        Spec::flag(b'i', "inodes"),
        Spec::flag(b'k', ""),
        Spec::flag(b'P', "portability"),
        Spec::flag(b'T', "print-type"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// Lays rows out as GNU's df does: each column as wide as its widest cell
/// (and at least its minimum), one space between, the last unpadded;
/// `left[column]` aligns a column left.
pub fn layout(rows: &[Vec<String>], minimums: &[usize], left: &[bool]) -> String {
    let columns = minimums.len();
    let mut widths: Vec<usize> = minimums.to_vec();
    for row in rows {
        for (column, cell) in row.iter().enumerate().take(columns) {
            widths[column] = widths[column].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column > 0 {
                line.push(' ');
            }
            let padding = widths[column].saturating_sub(cell.chars().count());
            if column + 1 == row.len() {
                line.push_str(cell);
            } else if left[column] {
                line.push_str(cell);
                line.push_str(&" ".repeat(padding));
            } else {
                line.push_str(&" ".repeat(padding));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Use% as GNU computes it: used / (used + available), rounded up; "-" when empty.
pub fn percent(used: u64, available: u64) -> String {
    let total = used as u128 + available as u128;
    if total == 0 {
        return String::from("-");
    }
    let value = (used as u128 * 100).div_ceil(total);
    alloc::format!("{}%", value)
}

struct Settings {
    human: bool,
    inodes: bool,
    posix: bool,
    types: bool,
}

fn row(mount: &Mount, sizes: &posix::types::Statvfs, settings: &Settings) -> Vec<String> {
    let mut cells = Vec::new();
    cells.push(alloc::format!("{}", Text(&mount.source)));
    if settings.types {
        cells.push(alloc::format!("{}", Text(&mount.kind)));
    }
    if settings.inodes {
        let total = sizes.f_files;
        let free = sizes.f_ffree;
        let used = total.saturating_sub(free);
        let show = |value: u64| if settings.human { human_size(value) } else { alloc::format!("{}", value) };
        cells.push(show(total));
        cells.push(show(used));
        cells.push(show(free));
        cells.push(percent(used, free));
    } else {
        let unit = sizes.f_frsize.max(1);
        let total = sizes.f_blocks.saturating_mul(unit);
        let used = sizes.f_blocks.saturating_sub(sizes.f_bfree).saturating_mul(unit);
        let available = sizes.f_bavail.saturating_mul(unit);
        let show = |bytes: u64| {
            if settings.human {
                human_size(bytes)
            } else {
                alloc::format!("{}", bytes.div_ceil(1024))
            }
        };
        cells.push(show(total));
        cells.push(show(used));
        cells.push(show(available));
        cells.push(percent(used / unit, available / unit));
    }
    cells.push(alloc::format!("{}", Text(&mount.directory)));
    cells
}

/// The mount holding `path`: the mount whose directory is the longest
/// prefix of its canonical path and whose device matches.
fn mount_of(path: &[u8], mounts: &[Mount]) -> Option<Mount> {
    let canonical = posix::fs::canonical_path(path).ok()?;
    let device = posix::fs::stat(path).ok()?.st_dev;
    let mut best: Option<&Mount> = None;
    for mount in mounts {
        let directory = &mount.directory;
        let contains = crate::files::is_within(&canonical, directory);
        if !contains {
            continue;
        }
        let same_device = posix::fs::stat(&mount.directory[..]).is_ok_and(|stat| stat.st_dev == device);
        if !same_device {
            continue;
        }
        if best.is_none_or(|known| directory.len() >= known.directory.len()) {
            best = Some(mount);
        }
    }
    best.cloned()
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let settings = Settings {
        human: parsed.has(b'h'),
        inodes: parsed.has(b'i'),
        posix: parsed.has(b'P'),
        types: parsed.has(b'T'),
    };
    let all = parsed.has(b'a');
    let mounts = match posix::system::mounts() {
        Ok(mounts) => mounts,
        Err(error) => {
            complain!("cannot read table of mounted file systems: {}", error);
            return 1;
        }
    };
    let mut status = 0;
    let mut chosen: Vec<(Mount, posix::types::Statvfs)> = Vec::new();
    if parsed.operands.is_empty() {
        // Without -a: no pseudo file systems, and one line per device
        // (the shortest mount point; the last mount over the same point).
        let mut seen: Vec<(u64, usize)> = Vec::new();
        for mount in &mounts {
            let Ok(sizes) = posix::system::file_system_sizes(&mount.directory[..]) else { continue };
            if all {
                chosen.push((mount.clone(), sizes));
                continue;
            }
            if sizes.f_blocks == 0 {
                continue;
            }
            let device = posix::fs::stat(&mount.directory[..]).map(|stat| stat.st_dev).unwrap_or(0);
            match seen.iter().position(|&(known, _)| known == device) {
                Some(index) => {
                    let slot = seen[index].1;
                    if mount.directory.len() <= chosen[slot].0.directory.len() {
                        chosen[slot] = (mount.clone(), sizes);
                    }
                }
                None => {
                    seen.push((device, chosen.len()));
                    chosen.push((mount.clone(), sizes));
                }
            }
        }
    } else {
        for operand in &parsed.operands {
            if let Err(error) = posix::fs::stat(*operand) {
                complain!("{}: {}", Text(operand), error);
                status = 1;
                continue;
            }
            let Some(mount) = mount_of(operand, &mounts) else {
                complain!("{}: can't find mount point", Text(operand));
                status = 1;
                continue;
            };
            match posix::system::file_system_sizes(&mount.directory[..]) {
                Ok(sizes) => chosen.push((mount, sizes)),
                Err(error) => {
                    complain!("{}: {}", quote(operand), error);
                    status = 1;
                }
            }
        }
    }
    if chosen.is_empty() && status == 0 {
        complain!("no file systems processed");
        return 1;
    }
    if chosen.is_empty() {
        return status;
    }
    let mut header: Vec<String> = alloc::vec![String::from("Filesystem")];
    let mut minimums = alloc::vec![14usize];
    let mut aligns = alloc::vec![true];
    if settings.types {
        header.push(String::from("Type"));
        minimums.push(4);
        aligns.push(true);
    }
    if settings.inodes {
        for name in ["Inodes", "IUsed", "IFree", "IUse%"] {
            header.push(String::from(name));
            minimums.push(5);
            aligns.push(false);
        }
    } else {
        let size = if settings.human {
            "Size"
        } else if settings.posix {
            "1024-blocks"
        } else {
            "1K-blocks"
        };
        header.push(String::from(size));
        header.push(String::from("Used"));
        header.push(String::from(if settings.human { "Avail" } else { "Available" }));
        header.push(String::from(if settings.posix { "Capacity" } else { "Use%" }));
        minimums.extend_from_slice(&[5, 5, 5, 4]);
        aligns.extend_from_slice(&[false, false, false, false]);
    }
    header.push(String::from("Mounted on"));
    minimums.push(0);
    aligns.push(true);
    let mut rows = alloc::vec![header];
    for (mount, sizes) in &chosen {
        rows.push(row(mount, sizes, &settings));
    }
    crate::common::output(layout(&rows, &minimums, &aligns).as_bytes());
    status
}

/// statfs for `stat -f`.
pub fn file_system_status(path: &[u8]) -> posix::Result<Statfs> {
    posix::system::file_system(path)
}

/// The name GNU's stat gives a file system type number.
pub fn type_name(kind: i64) -> String {
    let name = match kind as u64 & 0xffff_ffff {
        0xef53 => "ext2/ext3",
        0x0102_1994 => "tmpfs",
        0x9fa0 => "proc",
        0x6265_6572 => "sysfs",
        0x1cd1 => "devpts",
        0x8584_58f6 => "ramfs",
        0x2fc1_2fc1 => "zfs",
        0x5846_5342 => "xfs",
        0x9123_683e => "btrfs",
        0x6969 => "nfs",
        0x4d44 => "msdos",
        0x0027_e0eb => "cgroupfs",
        0x6367_7270 => "cgroup2fs",
        0x794c_7630 => "overlayfs",
        0x7363_6673 => "securityfs",
        0x6462_6720 => "debugfs",
        0x6573_5546 => "fuseblk",
        0x6573_5543 => "fusectl",
        0x4244 => "hfs",
        _ => return alloc::format!("UNKNOWN (0x{:x})", kind as u64 & 0xffff_ffff),
    };
    String::from(name)
}

/// One `stat -f` directive.
pub fn file_system_directive(spec: &FormatSpec, letters: &[u8], name: &[u8], info: &Statfs) -> Option<String> {
    let identifier = ((info.f_fsid[0] as u32 as u64) << 32) | info.f_fsid[1] as u32 as u64;
    let fragment = if info.f_frsize != 0 { info.f_frsize } else { info.f_bsize };
    Some(match letters {
        b"a" => pad_number(info.f_bavail, 10, spec),
        b"b" => pad_number(info.f_blocks, 10, spec),
        b"c" => pad_number(info.f_files, 10, spec),
        b"d" => pad_number(info.f_ffree, 10, spec),
        b"f" => pad_number(info.f_bfree, 10, spec),
        b"i" => pad_number(identifier, 16, spec),
        b"l" => pad_number(info.f_namelen as u64, 10, spec),
        b"n" => pad_text(&alloc::format!("{}", Text(name)), spec),
        b"s" => pad_number(info.f_bsize as u64, 10, spec),
        b"S" => pad_number(fragment as u64, 10, spec),
        b"t" => pad_number(info.f_type as u64 & 0xffff_ffff, 16, spec),
        b"T" => pad_text(&type_name(info.f_type), spec),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up() {
        assert_eq!(percent(0, 0), "-");
        assert_eq!(percent(0, 10), "0%");
        assert_eq!(percent(1, 199), "1%");
        assert_eq!(percent(25, 75), "25%");
        assert_eq!(percent(251, 749), "26%");
    }

    #[test]
    fn columns_fit_their_contents() {
        let rows = alloc::vec![
            alloc::vec![String::from("Filesystem"), String::from("1K-blocks"), String::from("Mounted on")],
            alloc::vec![String::from("/dev/vda"), String::from("100"), String::from("/")],
        ];
        assert_eq!(
            layout(&rows, &[14, 5, 0], &[true, false, true]),
            "Filesystem     1K-blocks Mounted on\n/dev/vda             100 /\n"
        );
    }
}
