//! mkimage: builds Mach_R's ext2 root disk from a host directory tree with
//! the project's own ext2 library (no mke2fs involved).
//!
//! ```text
//! mkimage rootfs --size 64M --from <dir> --out <file>
//!         [--block-size 1024|2048|4096] [--inode-size 128|256]
//!         [--inodes N] [--devices <spec>] [--label NAME] [--time SECONDS]
//! mkimage update --image <file> [--keep <dir>]... [--replace <dir>]...
//!         [--label NAME] [--time SECONDS]
//! ```
//! `update` changes an existing root disk in place (`scripts/run`'s
//! persistent disk): what `--keep` trees have that the image lacks is
//! added, what the image has stays; `--replace` trees' files and symbolic
//! links replace the image's where they differ (rebuilt programs), in the
//! order given. The image must be ext2 with the volume label NAME (default
//! `mach_r-root`): anything else is refused, not written. Without trees,
//! `update` only checks that (read-only).
//! Every file is owned by uid 0 / gid 0; permission bits come from the host.
//! The image gets one inode per 4 KiB, or twice the tree's entries plus 256
//! if that is more, or `--inodes`.
//! Host hard links stay hard links, holes (all-zero blocks) stay holes, and
//! symbolic links, FIFOs and device nodes are copied as they are. Because a
//! non-root user cannot make /dev nodes on the host, `--devices` names a
//! spec file of lines `path type major minor mode` (type `c` character
//! device, `b` block device, `p` FIFO; mode in octal; `#` starts a comment;
//! missing parent directories are made with mode 0755). Time stamps are
//! `--time`, else `SOURCE_DATE_EPOCH`, else now, so builds can be reproducible.
#![forbid(unsafe_code)]

mod file_device;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;

use ext2::{format, Filesystem, FormatOptions, MountOptions};

use crate::file_device::FileDevice;
use crate::tree::Existing;

/// Parsed command line of `mkimage update`.
#[derive(Debug)]
struct UpdateArguments {
    image: PathBuf,
    /// The trees to copy, each with what it does to names the image has.
    trees: Vec<(PathBuf, Existing)>,
    label: String,
    time: u32,
}

/// The volume label `rootfs` gives and `update` expects unless told.
const DEFAULT_LABEL: &str = "mach_r-root";

/// Parsed command line of `mkimage rootfs`.
#[derive(Debug)]
struct RootfsArguments {
    size: u64,
    block_size: u32,
    inode_size: u32,
    inodes: u32,
    from: Option<PathBuf>,
    out: PathBuf,
    devices: Option<PathBuf>,
    label: String,
    time: u32,
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match run(&arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mkimage: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    "usage: mkimage rootfs --size SIZE[K|M|G] --out FILE [--from DIR] [--block-size 1024|2048|4096] \
     [--inode-size 128|256] [--inodes N] [--devices SPEC] [--label NAME] [--time SECONDS]\n       \
     mkimage update --image FILE [--keep DIR]... [--replace DIR]... [--label NAME] [--time SECONDS]"
        .to_string()
}

fn run(arguments: &[String]) -> Result<(), String> {
    match arguments.first().map(String::as_str) {
        Some("rootfs") => build_rootfs(&parse_rootfs_arguments(&arguments[1..])?),
        Some("update") => update(&parse_update_arguments(&arguments[1..])?),
        Some("--help") | Some("-h") => {
            println!("{}", usage());
            Ok(())
        }
        _ => Err(usage()),
    }
}

fn parse_rootfs_arguments(arguments: &[String]) -> Result<RootfsArguments, String> {
    let mut size = None;
    let mut out = None;
    let mut parsed = RootfsArguments {
        size: 0,
        block_size: 1024,
        inode_size: 256,
        inodes: 0,
        from: None,
        out: PathBuf::new(),
        devices: None,
        label: DEFAULT_LABEL.to_string(),
        time: default_time(),
    };
    let mut position = 0;
    while position < arguments.len() {
        let option = arguments[position].as_str();
        let value = arguments.get(position + 1).ok_or_else(|| format!("{option} needs a value\n{}", usage()))?;
        match option {
            "--size" => size = Some(parse_size(value)?),
            "--block-size" => parsed.block_size = parse_number(option, value)?,
            "--inode-size" => parsed.inode_size = parse_number(option, value)?,
            "--inodes" => parsed.inodes = parse_number(option, value)?,
            "--from" => parsed.from = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--devices" => parsed.devices = Some(PathBuf::from(value)),
            "--label" => parsed.label = value.clone(),
            "--time" => parsed.time = parse_number(option, value)?,
            _ => return Err(format!("unknown option {option}\n{}", usage())),
        }
        position += 2;
    }
    parsed.size = size.ok_or_else(|| format!("--size is required\n{}", usage()))?;
    parsed.out = out.ok_or_else(|| format!("--out is required\n{}", usage()))?;
    Ok(parsed)
}

fn parse_update_arguments(arguments: &[String]) -> Result<UpdateArguments, String> {
    let mut image = None;
    let mut parsed = UpdateArguments {
        image: PathBuf::new(),
        trees: Vec::new(),
        label: DEFAULT_LABEL.to_string(),
        time: default_time(),
    };
    let mut position = 0;
    while position < arguments.len() {
        let option = arguments[position].as_str();
        let value = arguments.get(position + 1).ok_or_else(|| format!("{option} needs a value\n{}", usage()))?;
        match option {
            "--image" => image = Some(PathBuf::from(value)),
            "--keep" => parsed.trees.push((PathBuf::from(value), Existing::Keep)),
            "--replace" => parsed.trees.push((PathBuf::from(value), Existing::Replace)),
            "--label" => parsed.label = value.clone(),
            "--time" => parsed.time = parse_number(option, value)?,
            _ => return Err(format!("unknown option {option}\n{}", usage())),
        }
        position += 2;
    }
    parsed.image = image.ok_or_else(|| format!("--image is required\n{}", usage()))?;
    Ok(parsed)
}

/// The volume label of the ext2 image at `path` (the superblock's
/// `s_volume_name`, up to its first NUL), or why there is none.
fn volume_label(path: &std::path::Path) -> Result<String, String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(|error| format!("{}: {error}", path.display()))?;
    // The superblock is at byte 1024: the magic at 56, the name at 120.
    let mut superblock = [0u8; 136];
    file.seek(SeekFrom::Start(1024))
        .and_then(|_| file.read_exact(&mut superblock))
        .map_err(|_| format!("{}: too short to be an ext2 disk", path.display()))?;
    if superblock[56..58] != [0x53, 0xef] {
        return Err(format!("{}: not an ext2 disk (no ext2 magic)", path.display()));
    }
    let name = &superblock[120..136];
    let end = name.iter().position(|&byte| byte == 0).unwrap_or(name.len());
    Ok(String::from_utf8_lossy(&name[..end]).into_owned())
}

fn update(arguments: &UpdateArguments) -> Result<(), String> {
    let path = &arguments.image;
    let label = volume_label(path)?;
    if label != arguments.label {
        return Err(format!(
            "{}: a disk labelled '{label}', not a Mach_R root disk ('{}'): not changed",
            path.display(),
            arguments.label
        ));
    }
    let device = FileDevice::open(path).map_err(|error| format!("{}: {error}", path.display()))?;
    // Without trees it only checks that the disk mounts, and writes nothing.
    let read_only = arguments.trees.is_empty();
    let mount = MountOptions { time: arguments.time, cache_blocks: 4096, read_only, ..MountOptions::default() };
    let mut filesystem =
        Filesystem::mount(device, mount).map_err(|error| format!("{}: cannot mount: {error}", path.display()))?;
    if read_only {
        println!("mkimage: {}: a Mach_R root disk ('{label}'), mounts", path.display());
        return Ok(());
    }
    if filesystem.is_read_only() {
        return Err(format!(
            "{}: the ext2 library mounts it read-only (a feature it lacks): not changed",
            path.display()
        ));
    }
    let mut copier = tree::Copier::new(&mut filesystem, arguments.time);
    for (tree, existing) in &arguments.trees {
        copier.set_existing(*existing);
        copier.copy_tree(tree)?;
    }
    let counts = copier.counts();
    filesystem.unmount().map_err(|error| format!("{}: unmount: {error}", path.display()))?;
    println!(
        "mkimage: {}: {} replaced, {} added, {} as they were",
        path.display(),
        counts.replaced,
        counts.directories + counts.files + counts.symlinks + counts.special - counts.replaced,
        counts.kept
    );
    Ok(())
}

fn parse_number(option: &str, value: &str) -> Result<u32, String> {
    value.parse().map_err(|_| format!("{option}: '{value}' is not a number"))
}

/// "64M", "512K", "1G" or a plain byte count.
fn parse_size(value: &str) -> Result<u64, String> {
    let (digits, multiplier) = match value.chars().last() {
        Some('K') | Some('k') => (&value[..value.len() - 1], 1u64 << 10),
        Some('M') | Some('m') => (&value[..value.len() - 1], 1 << 20),
        Some('G') | Some('g') => (&value[..value.len() - 1], 1 << 30),
        _ => (value, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(multiplier))
        .ok_or_else(|| format!("--size: '{value}' is not a size like 64M"))
}

fn default_time() -> u32 {
    if let Some(seconds) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|text| text.parse().ok()) {
        return seconds;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs().min(u32::MAX as u64) as u32)
}

/// A UUID derived from the build's inputs, so equal inputs give equal images.
fn derive_uuid(arguments: &RootfsArguments) -> [u8; 16] {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |bytes: &[u8]| {
        for &byte in bytes {
            state ^= byte as u64;
            state = state.wrapping_mul(0x0100_0000_01b3);
        }
        state
    };
    let first = mix(&arguments.time.to_le_bytes());
    let second = mix(arguments.label.as_bytes()) ^ arguments.size;
    let mut uuid = [0u8; 16];
    uuid[..8].copy_from_slice(&first.to_le_bytes());
    uuid[8..].copy_from_slice(&second.to_le_bytes());
    uuid[6] = (uuid[6] & 0x0F) | 0x40;
    uuid[8] = (uuid[8] & 0x3F) | 0x80;
    uuid
}

fn build_rootfs(arguments: &RootfsArguments) -> Result<(), String> {
    let mut device = FileDevice::create(&arguments.out, arguments.size)
        .map_err(|error| format!("{}: {error}", arguments.out.display()))?;
    let mut volume_name = [0u8; 16];
    let label = arguments.label.as_bytes();
    volume_name[..label.len().min(16)].copy_from_slice(&label[..label.len().min(16)]);
    // Enough inodes for the tree and the device nodes, with room to grow.
    let needed = match &arguments.from {
        Some(from) => tree::count_entries(from)?,
        None => 0,
    };
    let inode_count = arguments.inodes.max(needed.saturating_mul(2).saturating_add(256).min(u32::MAX as u64) as u32);
    let options = FormatOptions {
        block_size: arguments.block_size,
        inode_size: arguments.inode_size,
        inode_count,
        volume_name,
        uuid: derive_uuid(arguments),
        time: arguments.time,
        ..FormatOptions::default()
    };
    format(&mut device, &options).map_err(|error| format!("format: {error}"))?;
    let mount = MountOptions { time: arguments.time, cache_blocks: 4096, ..MountOptions::default() };
    let mut filesystem = Filesystem::mount(device, mount).map_err(|error| format!("mount: {error}"))?;
    let mut copier = tree::Copier::new(&mut filesystem, arguments.time);
    if let Some(from) = &arguments.from {
        copier.copy_tree(from)?;
    }
    if let Some(devices) = &arguments.devices {
        copier.add_device_nodes(devices)?;
    }
    let counts = copier.counts();
    let statistics = filesystem.statistics();
    filesystem.unmount().map_err(|error| format!("unmount: {error}"))?;
    println!(
        "mkimage: {}: {} directories, {} files, {} symlinks, {} special files; {}/{} blocks and {}/{} inodes free",
        arguments.out.display(),
        counts.directories,
        counts.files,
        counts.symlinks,
        counts.special,
        statistics.free_blocks,
        statistics.blocks,
        statistics.free_inodes,
        statistics.inodes
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(arguments: &[&str]) -> Vec<String> {
        arguments.iter().map(|text| text.to_string()).collect()
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999999G").is_err());
    }

    #[test]
    fn rootfs_arguments_parse_and_require_size_and_out() {
        let parsed = parse_rootfs_arguments(&strings(&[
            "--size",
            "8M",
            "--out",
            "disk.img",
            "--block-size",
            "4096",
            "--inode-size",
            "128",
            "--time",
            "7",
            "--label",
            "root",
        ]))
        .unwrap();
        assert_eq!((parsed.size, parsed.block_size, parsed.inode_size, parsed.time), (8 << 20, 4096, 128, 7));
        assert_eq!(parsed.out, PathBuf::from("disk.img"));
        assert!(parse_rootfs_arguments(&strings(&["--out", "disk.img"])).unwrap_err().contains("--size"));
        assert!(parse_rootfs_arguments(&strings(&["--size", "8M"])).unwrap_err().contains("--out"));
        assert!(parse_rootfs_arguments(&strings(&["--size"])).unwrap_err().contains("needs a value"));
        assert!(parse_rootfs_arguments(&strings(&["--colour", "red"])).unwrap_err().contains("unknown option"));
    }

    #[test]
    fn equal_inputs_give_equal_uuids() {
        let parsed = parse_rootfs_arguments(&strings(&["--size", "8M", "--out", "a", "--time", "5"])).unwrap();
        let again = parse_rootfs_arguments(&strings(&["--size", "8M", "--out", "b", "--time", "5"])).unwrap();
        assert_eq!(derive_uuid(&parsed), derive_uuid(&again));
        let later = parse_rootfs_arguments(&strings(&["--size", "8M", "--out", "a", "--time", "6"])).unwrap();
        assert_ne!(derive_uuid(&parsed), derive_uuid(&later));
    }

    #[test]
    fn an_update_refuses_what_is_not_a_mach_r_root_disk_and_changes_nothing() {
        let directory = std::env::temp_dir().join(format!("mkimage-update-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).unwrap();
        let image = directory.join("disk.img");
        let update_of = |label: &str| {
            update(&UpdateArguments { image: image.clone(), trees: Vec::new(), label: label.to_string(), time: 1 })
        };
        std::fs::write(&image, vec![0u8; 1 << 20]).unwrap();
        assert!(update_of("mach-root").unwrap_err().contains("not an ext2 disk"));
        std::fs::write(&image, b"short").unwrap();
        assert!(update_of("mach-root").unwrap_err().contains("too short"));
        let arguments = strings(&["--size", "2M", "--out", image.to_str().unwrap(), "--label", "someone-else"]);
        build_rootfs(&parse_rootfs_arguments(&arguments).unwrap()).unwrap();
        let before = std::fs::read(&image).unwrap();
        let error = update_of("mach-root").unwrap_err();
        assert!(error.contains("labelled 'someone-else'"), "{error}");
        assert_eq!(std::fs::read(&image).unwrap(), before, "a refused disk is not written");
        // Without trees: a check that writes nothing.
        update_of("someone-else").unwrap();
        assert_eq!(std::fs::read(&image).unwrap(), before, "a check does not write");
        // A corrupt superblock (the block count beyond the device): refused.
        let mut corrupt = std::fs::read(&image).unwrap();
        corrupt[1024 + 4..1024 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&image, &corrupt).unwrap();
        assert!(update_of("someone-else").unwrap_err().contains("cannot mount"));
        assert!(parse_update_arguments(&strings(&["--keep", "x"])).unwrap_err().contains("--image"));
        let parsed = parse_update_arguments(&strings(&["--image", "d", "--keep", "a", "--replace", "b"])).unwrap();
        assert_eq!(
            parsed.trees,
            [(PathBuf::from("a"), tree::Existing::Keep), (PathBuf::from("b"), tree::Existing::Replace)]
        );
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
