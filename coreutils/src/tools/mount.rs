//! mount and umount over minilibc's mount(2)/umount2 (the file server on
//! Mach_R). mount alone lists the mount table as util-linux does ("SOURCE
//! on DIR type TYPE (OPTIONS)", -t TYPE to filter); `mount [-t TYPE] [-o
//! OPTIONS] [-r|-w] SOURCE DIR` mounts, `mount --bind OLD NEW` binds, and
//! `mount DIR` or `mount SOURCE` takes the rest from /etc/fstab. umount
//! DIR|SOURCE unmounts (-f forces, -l detaches lazily).

use crate::common::{output, quote, Command, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;

const BIND: u32 = 300;

const MOUNT: Command = Command {
    usage: "[-l] [-t type]\n  or:  mount [-t type] [-o options] [-r|-w] source directory\n  or:  mount --bind olddir newdir\n  or:  mount directory|source   (from /etc/fstab)\nMount a filesystem.\n  -t, --types <list>   limit the set of filesystem types\n  -o, --options <list> comma-separated list of mount options\n  -r, --read-only      mount the filesystem read-only (same as -o ro)\n  -w, --rw             mount the filesystem read-write (default)\n  -B, --bind           mount a subtree somewhere else (same as -o bind)\n",
    specs: &[
        Spec::value(b't', "types"),
        Spec::value(b'o', "options"),
        Spec::flag(b'r', "read-only"),
        Spec::flag(b'w', "rw"),
        Spec { short: b'B', long: "bind", takes: Takes::Nothing, id: BIND },
        Spec::flag(b'l', "show-labels"),
        Spec::flag(b'v', "verbose"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

const UMOUNT: Command = Command {
    usage: "[-fl] {directory|device}...\nUnmount filesystems.\n  -f, --force   force unmount (in case of an unreachable NFS system)\n  -l, --lazy    detach the filesystem now, clean up things later\n",
    specs: &[Spec::flag(b'f', "force"), Spec::flag(b'l', "lazy"), Spec::flag(b'v', "verbose")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// Mount options as flags and the file-system-specific rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub flags: u64,
    pub data: Vec<u8>,
}

/// Splits -o's list into mount(2) flags and the data string.
pub fn parse_options(list: &[u8]) -> Options {
    let mut options = Options::default();
    for option in list.split(|&byte| byte == b',').filter(|option| !option.is_empty()) {
        let (set, clear): (u64, u64) = match option {
            b"ro" => (posix::MS_RDONLY, 0),
            b"rw" => (0, posix::MS_RDONLY),
            b"nosuid" => (posix::MS_NOSUID, 0),
            b"suid" => (0, posix::MS_NOSUID),
            b"nodev" => (posix::MS_NODEV, 0),
            b"dev" => (0, posix::MS_NODEV),
            b"noexec" => (posix::MS_NOEXEC, 0),
            b"exec" => (0, posix::MS_NOEXEC),
            b"sync" => (16, 0),
            b"async" => (0, 16),
            b"remount" => (posix::MS_REMOUNT, 0),
            b"bind" => (posix::MS_BIND, 0),
            b"rbind" => (posix::MS_BIND | 16384, 0),
            b"noatime" => (posix::MS_NOATIME, 0),
            b"atime" => (0, posix::MS_NOATIME),
            b"nodiratime" => (2048, 0),
            b"relatime" => (1 << 21, 0),
            b"strictatime" => (1 << 24, 0),
            b"lazytime" => (1 << 25, 0),
            b"defaults" | b"auto" | b"noauto" | b"user" | b"nouser" | b"users" | b"nofail" | b"_netdev" => (0, 0),
            other => {
                if !options.data.is_empty() {
                    options.data.push(b',');
                }
                options.data.extend_from_slice(other);
                (0, 0)
            }
        };
        options.flags = (options.flags | set) & !clear;
    }
    options
}

/// util-linux's words for a failed mount.
fn explain(error: posix::Errno, target: &[u8]) -> alloc::string::String {
    match error.0 {
        posix::EPERM => alloc::format!("{}: must be superuser to use mount.", Text(target)),
        posix::ENOENT => alloc::format!("{}: mount point does not exist.", Text(target)),
        posix::ENOTDIR => alloc::format!("{}: mount point is not a directory.", Text(target)),
        posix::EBUSY => alloc::format!("{}: target is busy.", Text(target)),
        _ => alloc::format!("{}: {}.", Text(target), error),
    }
}

pub fn mount_main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match MOUNT.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let kind = parsed.value(b't' as u32);
    if parsed.operands.is_empty() {
        let mounts = match posix::system::mounts() {
            Ok(mounts) => mounts,
            Err(error) => {
                complain!("cannot read the mount table: {}", error);
                return 32;
            }
        };
        let mut out = Vec::new();
        for mount in mounts {
            if kind.is_some_and(|kind| kind.split(|&byte| byte == b',').all(|wanted| wanted != mount.kind)) {
                continue;
            }
            out.extend_from_slice(&mount.source);
            out.extend_from_slice(b" on ");
            out.extend_from_slice(&mount.directory);
            out.extend_from_slice(b" type ");
            out.extend_from_slice(&mount.kind);
            out.extend_from_slice(b" (");
            out.extend_from_slice(&mount.options);
            out.extend_from_slice(b")\n");
        }
        output(&out);
        return 0;
    }
    let mut list: Vec<u8> = Vec::new();
    for found in parsed.options.iter().filter(|found| found.id == b'o' as u32) {
        if !list.is_empty() {
            list.push(b',');
        }
        list.extend_from_slice(found.value.unwrap_or(b""));
    }
    let (source, target, kind): (Vec<u8>, Vec<u8>, Option<Vec<u8>>) = match parsed.operands.as_slice() {
        [one] => {
            // From /etc/fstab: by mount point or by source.
            let table = posix::system::mount_table(c"/etc/fstab").unwrap_or_default();
            let Some(entry) = table.iter().find(|entry| entry.directory == *one || entry.source == *one) else {
                complain!("{}: can't find in /etc/fstab.", Text(one));
                return 1;
            };
            if !list.is_empty() {
                list.push(b',');
            }
            let mut merged = entry.options.clone();
            merged.push(b',');
            merged.extend_from_slice(&list);
            list = merged;
            (entry.source.clone(), entry.directory.clone(), Some(entry.kind.clone()))
        }
        [source, target] => (source.to_vec(), target.to_vec(), kind.map(<[u8]>::to_vec)),
        [_, _, extra, ..] => {
            complain!("bad usage: extra operand {}", quote(extra));
            return MOUNT.try_help();
        }
        [] => return 1,
    };
    let mut options = parse_options(&list);
    if parsed.has(b'r') {
        options.flags |= posix::MS_RDONLY;
    }
    if parsed.has(b'w') {
        options.flags &= !posix::MS_RDONLY;
    }
    if parsed.options.iter().any(|found| found.id == BIND) {
        options.flags |= posix::MS_BIND;
    }
    let bind = options.flags & posix::MS_BIND != 0;
    let kind = match (kind, bind) {
        (Some(kind), _) => kind,
        (None, true) => b"none".to_vec(),
        (None, false) => {
            complain!("{}: no file system type given (-t TYPE): probing is not supported.", Text(&target));
            return 32;
        }
    };
    let data = (!options.data.is_empty()).then_some(&options.data[..]);
    match posix::system::mount(&source, &target, &kind, options.flags, data) {
        Ok(()) => {
            if parsed.has(b'v') {
                posix::println!("mount: {} mounted on {}.", Text(&source), Text(&target));
            }
            0
        }
        Err(error) => {
            complain!("{}", explain(error, &target));
            32
        }
    }
}

pub fn umount_main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match UMOUNT.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.operands.is_empty() {
        complain!("bad usage");
        return UMOUNT.try_help();
    }
    let mut flags = 0;
    if parsed.has(b'f') {
        flags |= posix::MNT_FORCE;
    }
    if parsed.has(b'l') {
        flags |= posix::MNT_DETACH;
    }
    let mounts = posix::system::mounts().unwrap_or_default();
    let mut status = 0;
    for operand in &parsed.operands {
        // A source names its (last) mount point.
        let target: Vec<u8> = mounts
            .iter()
            .rev()
            .find(|mount| mount.source == *operand && mount.directory != *operand)
            .map_or_else(|| operand.to_vec(), |mount| mount.directory.clone());
        match posix::system::unmount(&target[..], flags) {
            Ok(()) => {
                if parsed.has(b'v') {
                    posix::println!("umount: {} unmounted", Text(&target));
                }
            }
            Err(error) => {
                let message = match error.0 {
                    posix::EINVAL => alloc::format!("{}: not mounted.", Text(&target)),
                    posix::EPERM => alloc::format!("{}: must be superuser to unmount.", Text(&target)),
                    posix::EBUSY => alloc::format!("{}: target is busy.", Text(&target)),
                    posix::ENOENT => alloc::format!("{}: no mount point specified.", Text(&target)),
                    _ => alloc::format!("{}: {}", Text(&target), error),
                };
                complain!("{}", message);
                status = 32;
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_into_flags_and_data() {
        let options = parse_options(b"ro,nosuid,size=10k,mode=755,defaults");
        assert_eq!(options.flags, posix::MS_RDONLY | posix::MS_NOSUID);
        assert_eq!(options.data, b"size=10k,mode=755");
        assert_eq!(parse_options(b"ro,rw").flags, 0);
        assert_eq!(parse_options(b"remount,bind").flags, posix::MS_REMOUNT | posix::MS_BIND);
    }
}
