//! du: disk usage of files and directories, in 1K blocks (or -h human
//! sizes, -b bytes), each directory after its contents. -a lists files
//! too, -s only the operands, -c adds a total, -d N stops listing below
//! depth N, -x stays on one file system, --apparent-size counts sizes
//! instead of blocks. Hard links are counted once.

use crate::common::{human_size, quote, Command};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;

const APPARENT_SIZE: u32 = 300;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nSummarize device usage of the set of FILEs, recursively for directories.\n  -a, --all             write counts for all files, not just directories\n      --apparent-size   print apparent sizes rather than device usage\n  -b, --bytes           equivalent to '--apparent-size --block-size=1'\n  -c, --total           produce a grand total\n  -d, --max-depth=N     print the total for a directory only if it is N or fewer levels below the command line argument\n  -h, --human-readable  print sizes in human readable format (e.g., 1K 234M 2G)\n  -k                    like --block-size=1K\n  -L, --dereference     dereference all symbolic links\n  -s, --summarize       display only a total for each argument\n  -x, --one-file-system skip directories on different file systems\n",
    specs: &[
        Spec::flag(b'a', "all"),
        Spec::long("apparent-size", Takes::Nothing, APPARENT_SIZE),
        Spec::flag(b'b', "bytes"),
        Spec::flag(b'c', "total"),
        Spec::value(b'd', "max-depth"),
        Spec::flag(b'h', "human-readable"),
        Spec::flag(b'k', ""),
        Spec::flag(b'L', "dereference"),
        Spec::flag(b's', "summarize"),
        Spec::flag(b'x', "one-file-system"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

struct Walker {
    all: bool,
    apparent: bool,
    bytes: bool,
    human: bool,
    maximum_depth: Option<usize>,
    follow: bool,
    one_file_system: bool,
    seen: Vec<(u64, u64)>,
    status: i32,
    out: Vec<u8>,
}

impl Walker {
    fn size_of(&self, stat: &posix::Stat) -> u64 {
        if self.apparent || self.bytes {
            stat.st_size.max(0) as u64
        } else {
            stat.st_blocks.max(0) as u64 * 512
        }
    }

    fn show(&mut self, size: u64, path: &[u8]) {
        let text = if self.human {
            human_size(size)
        } else if self.bytes {
            alloc::format!("{}", size)
        } else {
            alloc::format!("{}", size.div_ceil(1024))
        };
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'\t');
        self.out.extend_from_slice(path);
        self.out.push(b'\n');
        if self.out.len() > 32 * 1024 {
            crate::common::output(&self.out);
            self.out.clear();
        }
    }

    /// The size of `path` and what lies below it; lists as it goes.
    fn walk(&mut self, path: &[u8], depth: usize, device: Option<u64>) -> u64 {
        let stat = if self.follow { posix::fs::stat(path) } else { posix::fs::lstat(path) };
        let stat = match stat {
            Ok(stat) => stat,
            Err(error) => {
                complain!("cannot access {}: {}", quote(path), error);
                self.status = 1;
                return 0;
            }
        };
        if self.one_file_system && device.is_some_and(|device| device != stat.st_dev) {
            return 0;
        }
        if stat.st_nlink > 1 && !stat.is_directory() {
            let key = (stat.st_dev, stat.st_ino);
            if self.seen.contains(&key) {
                return 0;
            }
            self.seen.push(key);
        }
        let mut total = self.size_of(&stat);
        let listed = self.maximum_depth.is_none_or(|maximum| depth <= maximum);
        if stat.is_directory() {
            match posix::fs::read_directory(path) {
                Ok(entries) => {
                    for entry in entries {
                        let child = posix::path::join(path, &entry.name);
                        total += self.walk(&child, depth + 1, Some(stat.st_dev));
                    }
                }
                Err(error) => {
                    complain!("cannot read directory {}: {}", quote(path), error);
                    self.status = 1;
                }
            }
            if listed {
                self.show(total, path);
            }
        } else if (self.all || depth == 0) && listed {
            self.show(total, path);
        }
        total
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut maximum_depth = match parsed.value(b'd' as u32) {
        None => None,
        Some(text) => match crate::common::parse_integer(text) {
            Some(depth) if depth >= 0 => Some(depth as usize),
            _ => {
                complain!("invalid maximum depth {}", quote(text));
                return COMMAND.try_help();
            }
        },
    };
    if parsed.has(b's') && parsed.has(b'a') {
        complain!("cannot both summarize and show all entries");
        return COMMAND.try_help();
    }
    if parsed.has(b's') {
        match maximum_depth {
            Some(0) => complain!("warning: summarizing is the same as using --max-depth=0"),
            Some(depth) => {
                complain!("warning: summarizing conflicts with --max-depth={}", depth);
                return COMMAND.try_help();
            }
            None => {}
        }
        maximum_depth = Some(0);
    }
    let mut walker = Walker {
        all: parsed.has(b'a'),
        apparent: parsed.options.iter().any(|found| found.id == APPARENT_SIZE),
        bytes: parsed.has(b'b'),
        human: parsed.has(b'h'),
        maximum_depth,
        follow: parsed.has(b'L'),
        one_file_system: parsed.has(b'x'),
        seen: Vec::new(),
        status: 0,
        out: Vec::new(),
    };
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"."] } else { parsed.operands.clone() };
    let mut total = 0;
    for operand in operands {
        total += walker.walk(operand, 0, None);
    }
    if parsed.has(b'c') {
        walker.show(total, b"total");
    }
    crate::common::output(&walker.out);
    walker.status
}
