//! Fuzzing with corrupted images: random bit flips, truncations, and hostile
//! values written into the superblock, group descriptors, inodes and
//! directory entries. Each case mounts the image, walks and reads
//! everything, then changes it, and must end in results or errors: never a
//! panic, and (every loop in the library being bounded) always soon.
//!
//! `cargo test` runs a fixed seed range; `scripts/fuzz.d/ext2` runs
//! `fuzz_random_seeds` (ignored here) with `EXT2_FUZZ_SEED` and
//! `EXT2_FUZZ_CASES` for a long run from a random seed.

mod support;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ext2::{format, FileKind, Filesystem, FormatOptions, MemoryDevice, MountOptions, ROOT_INODE};
use support::Random;

/// Base images: several geometries, many groups, every kind of file.
fn base_images() -> Vec<Vec<u8>> {
    let geometries = [
        (1024u32, 128u32, 256u32, 1usize << 20),
        (1024, 256, 512, 1 << 20),
        (2048, 256, 512, 2 << 20),
        (4096, 128, 1024, 4 << 20),
    ];
    geometries
        .iter()
        .map(|&(block_size, inode_size, blocks_per_group, size)| {
            let mut device = MemoryDevice::new(size);
            let options = FormatOptions {
                block_size,
                inode_size,
                blocks_per_group,
                bytes_per_inode: 8192,
                time: 5,
                ..FormatOptions::default()
            };
            format(&mut device, &options).unwrap();
            let mut filesystem =
                Filesystem::mount(device, MountOptions { time: 6, ..MountOptions::default() }).unwrap();
            populate(&mut filesystem);
            let indexed = filesystem.resolve(b"/etc").unwrap();
            let mut image = filesystem.unmount().unwrap().into_bytes();
            mark_indexed(&mut image, &[ROOT_INODE, indexed]);
            image
        })
        .collect()
}

/// Sets dir_index and the index flag on these (linear) directories, so the
/// htree lookup path meets garbage where it expects an index and must fall
/// back to a linear scan.
fn mark_indexed(image: &mut [u8], directories: &[u32]) {
    let word = |image: &[u8], offset: usize| u32::from_le_bytes(image[offset..offset + 4].try_into().unwrap());
    image[1024 + 92] |= 0x20;
    let block_size = 1024usize << word(image, 1048);
    let inodes_per_group = word(image, 1064) as usize;
    let inode_size = u16::from_le_bytes([image[1112], image[1113]]) as usize;
    let table = (word(image, 1044) as usize + 1) * block_size;
    for &inode in directories {
        let group = (inode as usize - 1) / inodes_per_group;
        let index = (inode as usize - 1) % inodes_per_group;
        let inode_table = word(image, table + group * 32 + 8) as usize * block_size;
        let flags = inode_table + index * inode_size + 32;
        let value = word(image, flags) | 0x1000;
        image[flags..flags + 4].copy_from_slice(&value.to_le_bytes());
    }
}

fn populate(filesystem: &mut Filesystem<MemoryDevice>) {
    let mut random = Random::new(99);
    let directory = filesystem.make_directory(ROOT_INODE, b"etc", 0o755, 0, 0, 7).unwrap();
    let nested = filesystem.make_directory(directory, b"nested", 0o755, 0, 0, 7).unwrap();
    for index in 0..60u32 {
        let parent = if index % 2 == 0 { directory } else { nested };
        let file = filesystem.create(parent, format!("file-{index}").as_bytes(), 0o644, 0, 0, 7).unwrap();
        let length = if index < 24 { [10usize, 1500, 14_000, 80_000][index as usize % 4] } else { 0 };
        filesystem.write(file, 0, &random.bytes(length), 7).unwrap();
    }
    let sparse = filesystem.create(ROOT_INODE, b"sparse", 0o644, 0, 0, 7).unwrap();
    filesystem.write(sparse, 70 << 20, b"far", 7).unwrap();
    filesystem.symlink(ROOT_INODE, b"short", b"etc/file-0", 0, 0, 7).unwrap();
    filesystem.symlink(ROOT_INODE, b"long", &[b'y'; 300], 0, 0, 7).unwrap();
    filesystem.symlink(ROOT_INODE, b"loop", b"loop", 0, 0, 7).unwrap();
    filesystem.make_node_of_kind(ROOT_INODE, b"tty", FileKind::CharacterDevice, 0o620, (4, 1), 0, 0, 7).unwrap();
    filesystem.make_node_of_kind(ROOT_INODE, b"fifo", FileKind::Fifo, 0o600, (0, 0), 0, 0, 7).unwrap();
    let file = filesystem.resolve(b"/etc/file-0").unwrap();
    filesystem.link(file, ROOT_INODE, b"hard", 7).unwrap();
}

/// Offsets of on-disk structures worth hitting with hostile values.
fn structure_offsets(image: &[u8]) -> Vec<(usize, usize)> {
    let mut targets = Vec::new();
    // Superblock fields: (offset, width).
    for (offset, width) in [
        (0, 4),
        (4, 4),
        (12, 4),
        (16, 4),
        (20, 4),
        (24, 4),
        (32, 4),
        (40, 4),
        (58, 2),
        (76, 4),
        (84, 4),
        (88, 2),
        (92, 4),
        (96, 4),
        (100, 4),
        (206, 2),
    ] {
        targets.push((1024 + offset, width));
    }
    // The image may already be damaged: read its numbers defensively.
    let word = |offset: usize| {
        image.get(offset..offset + 4).map_or(0, |bytes| u32::from_le_bytes(bytes.try_into().unwrap()) as usize)
    };
    let half = |offset: usize| {
        image.get(offset..offset + 2).map_or(0, |bytes| u16::from_le_bytes(bytes.try_into().unwrap()) as usize)
    };
    let block_size = 1024usize << word(1048).min(2);
    let first_data_block = word(1044).min(1);
    let table = (first_data_block + 1) * block_size;
    for group in 0..4 {
        for (offset, width) in [(0, 4), (4, 4), (8, 4), (12, 2), (14, 2), (16, 2)] {
            targets.push((table + group * 32 + offset, width));
        }
    }
    let inode_table = word(table + 8).min(1 << 20) * block_size;
    let inode_size = if word(1100) == 0 { 128 } else { half(1112).clamp(128, 1024) };
    for inode in 1..40usize {
        let base = inode_table + (inode - 1) * inode_size;
        for (offset, width) in [(0, 2), (4, 4), (26, 2), (28, 4), (32, 4), (104, 4), (108, 4)] {
            targets.push((base + offset, width));
        }
        for pointer in 0..15 {
            targets.push((base + 40 + pointer * 4, 4));
        }
    }
    targets.retain(|&(offset, width)| offset + width <= image.len());
    targets
}

/// Directory entry headers anywhere in the image (found by their shape).
fn directory_entry_offsets(image: &[u8], block_size: usize) -> Vec<usize> {
    let mut offsets = Vec::new();
    for block in image.chunks(block_size).take(512) {
        let start = block.as_ptr() as usize - image.as_ptr() as usize;
        if block.len() >= 24 && &block[8..9] == b"." && &block[20..22] == b".." {
            let mut offset = 0;
            for _ in 0..64 {
                if offset + 8 > block.len() {
                    break;
                }
                offsets.push(start + offset);
                let length = u16::from_le_bytes([block[offset + 4], block[offset + 5]]) as usize;
                if length < 8 {
                    break;
                }
                offset += length;
            }
        }
    }
    offsets
}

fn hostile_value(random: &mut Random, width: usize) -> u32 {
    let choices =
        [0u32, 1, 2, 3, 7, 8, 11, 12, 255, 256, 1023, 1024, 4096, 0x7FFF, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0xFFFF_FFFF];
    let value =
        if random.below(3) == 0 { random.next() as u32 } else { choices[random.below(choices.len() as u64) as usize] };
    if width == 2 {
        value & 0xFFFF
    } else {
        value
    }
}

/// Damages one image copy according to the case's seed.
fn corrupt(image: &mut Vec<u8>, random: &mut Random) {
    let block_size = 1024usize << image.get(1048).map_or(0, |&log| log.min(2));
    for _ in 0..1 + random.below(3) {
        match random.below(5) {
            0 => {
                // Bit flips, mostly in the metadata-rich start of the image.
                let range = if random.below(2) == 0 { image.len().min(64 * block_size) } else { image.len() };
                for _ in 0..1 + random.below(40) {
                    let offset = random.below(range as u64) as usize;
                    image[offset] ^= 1 << random.below(8);
                }
            }
            1 => {
                let length = random.below(image.len() as u64) as usize;
                image.truncate(length.max(512));
            }
            2 | 3 => {
                let targets = structure_offsets(image);
                for _ in 0..1 + random.below(4) {
                    let (offset, width) = targets[random.below(targets.len() as u64) as usize];
                    let value = hostile_value(random, width);
                    image[offset..offset + width].copy_from_slice(&value.to_le_bytes()[..width]);
                }
            }
            _ => {
                let entries = directory_entry_offsets(image, block_size);
                if entries.is_empty() {
                    continue;
                }
                for _ in 0..1 + random.below(3) {
                    let offset = entries[random.below(entries.len() as u64) as usize];
                    match random.below(3) {
                        0 => image[offset..offset + 4].copy_from_slice(&hostile_value(random, 4).to_le_bytes()),
                        1 => image[offset + 4..offset + 6]
                            .copy_from_slice(&(hostile_value(random, 2) as u16).to_le_bytes()),
                        _ => image[offset + 6] = hostile_value(random, 2) as u8,
                    }
                }
            }
        }
    }
}

/// Mounts, walks, reads and modifies; every error is fine, a panic is not.
fn exercise(image: Vec<u8>, random: &mut Random) -> Outcome {
    let read_only = random.below(4) == 0;
    let options = MountOptions { read_only, cache_blocks: 32, time: 10, ..MountOptions::default() };
    let Ok(mut filesystem) = Filesystem::mount(MemoryDevice::from_bytes(image), options) else {
        return Outcome::Refused;
    };
    let _ = filesystem.statistics();
    let mut visited = HashSet::new();
    let mut pending = vec![ROOT_INODE];
    let mut files = Vec::new();
    let mut directories = Vec::new();
    let mut buffer = vec![0u8; 1 << 16];
    while let Some(directory) = pending.pop() {
        if !visited.insert(directory) || visited.len() > 2000 {
            continue;
        }
        directories.push(directory);
        let Ok(entries) = filesystem.read_directory(directory) else {
            continue;
        };
        for entry in entries {
            let Ok(metadata) = filesystem.metadata(entry.inode) else {
                continue;
            };
            match metadata.kind {
                FileKind::Directory => pending.push(entry.inode),
                FileKind::RegularFile => {
                    files.push(entry.inode);
                    let mut offset = 0u64;
                    for _ in 0..16 {
                        match filesystem.read(entry.inode, offset, &mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(count) => offset += count as u64,
                        }
                    }
                    let _ = filesystem.read(entry.inode, metadata.size.saturating_sub(10), &mut buffer);
                }
                FileKind::Symlink => {
                    let _ = filesystem.read_link(entry.inode);
                }
                _ => {}
            }
            let _ = filesystem.lookup(directory, &entry.name);
        }
    }
    if let Some(&directory) = directories.last() {
        let _ = filesystem.read_directory_from(directory, random.below(8192), 5);
    }
    let _ = filesystem.resolve(b"/etc/nested/file-1");
    let _ = filesystem.resolve(b"/loop");
    let _ = filesystem.resolve(b"/short");
    if read_only {
        return Outcome::Walked(files.len());
    }
    let time = 11;
    let pick = |random: &mut Random, list: &[u32]| {
        list.get(random.below(list.len().max(1) as u64) as usize).copied().unwrap_or(ROOT_INODE)
    };
    for _ in 0..12 {
        let directory = pick(random, &directories);
        let file = pick(random, &files);
        let name = format!("n{}", random.below(6));
        let _ = match random.below(12) {
            9 => filesystem.open_inode(file).and_then(|()| {
                let removed = match filesystem.read_directory(directory) {
                    Ok(entries) => match entries.last() {
                        Some(entry) => filesystem.unlink(directory, &entry.name, time),
                        None => Ok(()),
                    },
                    Err(error) => Err(error),
                };
                let _ = filesystem.write(file, random.below(50_000), &[2u8; 3000], time);
                filesystem.close_inode(file, time).and(removed)
            }),
            10 => filesystem.set_attributes(
                file,
                ext2::SetAttributes {
                    permissions: Some(0o600),
                    uid: Some(random.next() as u32),
                    modification_time: Some(time),
                    ..ext2::SetAttributes::default()
                },
            ),
            11 => filesystem
                .make_node_of_kind(
                    directory,
                    name.as_bytes(),
                    FileKind::BlockDevice,
                    0o600,
                    (random.below(5000) as u32, random.below(2_000_000) as u32),
                    0,
                    0,
                    time,
                )
                .map(|_| ()),
            0 => filesystem.create(directory, name.as_bytes(), 0o644, 0, 0, time).map(|_| ()),
            1 => filesystem.write(file, random.below(200_000), &[1u8; 5000], time).map(|_| ()),
            2 => filesystem.truncate(file, random.below(100_000), time),
            3 => filesystem.make_directory(directory, name.as_bytes(), 0o755, 0, 0, time).map(|_| ()),
            4 => {
                let entries = filesystem.read_directory(directory).unwrap_or_default();
                match entries.get(random.below(entries.len().max(1) as u64) as usize) {
                    Some(entry) => filesystem.unlink(directory, &entry.name, time),
                    None => Ok(()),
                }
            }
            5 => {
                let entries = filesystem.read_directory(directory).unwrap_or_default();
                match entries.get(random.below(entries.len().max(1) as u64) as usize) {
                    Some(entry) => filesystem.remove_directory(directory, &entry.name, time),
                    None => Ok(()),
                }
            }
            6 => {
                let entries = filesystem.read_directory(directory).unwrap_or_default();
                let target = pick(random, &directories);
                match entries.get(random.below(entries.len().max(1) as u64) as usize) {
                    Some(entry) => filesystem.rename(directory, &entry.name, target, name.as_bytes(), time),
                    None => Ok(()),
                }
            }
            7 => filesystem.link(file, directory, name.as_bytes(), time),
            _ => filesystem.symlink(directory, name.as_bytes(), b"target", 0, 0, time).map(|_| ()),
        };
    }
    // The long run's nearly full htree directory: enough insertions to
    // split leaves and grow the index on a damaged image.
    if let Ok(big) = filesystem.resolve(b"/big") {
        // 150 long names split leaves, add a level and split a node (on
        // the undamaged image).
        for index in 0..150 {
            let name = format!("grow-{index}-with-a-longer-name-to-fill-leaves");
            let _ = filesystem.create(big, name.as_bytes(), 0o644, 0, 0, time);
        }
    }
    let _ = filesystem.sync();
    let _ = filesystem.unmount();
    Outcome::Walked(files.len())
}

/// What a case got to do, so the run can show it reached the deep paths.
enum Outcome {
    Refused,
    Walked(usize),
}

/// Extra base images from `EXT2_FUZZ_IMAGES` (a directory): the long run
/// adds images made by mke2fs (resize_inode, dir_index, htree directories).
fn external_images() -> Vec<Vec<u8>> {
    let Ok(directory) = std::env::var("EXT2_FUZZ_IMAGES") else {
        return Vec::new();
    };
    let mut paths: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("EXT2_FUZZ_IMAGES={directory}: {error}"))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read(path).unwrap()).collect()
}

fn run_cases(first_seed: u64, cases: u64) {
    let mut bases = base_images();
    bases.extend(external_images());
    let mut failures = Vec::new();
    let (mut refused, mut files_read) = (0u64, 0usize);
    for seed in first_seed..first_seed + cases {
        let mut random = Random::new(seed);
        let mut image = bases[(seed % bases.len() as u64) as usize].clone();
        corrupt(&mut image, &mut random);
        let started = std::time::Instant::now();
        match catch_unwind(AssertUnwindSafe(|| exercise(image, &mut random))) {
            Err(_) => failures.push(seed),
            Ok(Outcome::Refused) => refused += 1,
            Ok(Outcome::Walked(files)) => files_read += files,
        }
        let elapsed = started.elapsed();
        assert!(elapsed.as_secs() < 20, "seed {seed} took {elapsed:?}: a loop is not bounded tightly enough");
    }
    eprintln!(
        "ext2 fuzz: {cases} cases, {refused} refused at mount, {files_read} files read, {} panics",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "panics for seeds {failures:?} (rerun one with EXT2_FUZZ_SEED=<seed> EXT2_FUZZ_CASES=1)"
    );
}

#[test]
fn corrupted_images_give_errors_not_panics() {
    run_cases(1, 5000);
}

#[test]
#[ignore = "long run: scripts/fuzz.d/ext2"]
fn fuzz_random_seeds() {
    let seed = std::env::var("EXT2_FUZZ_SEED").ok().and_then(|text| text.parse().ok()).unwrap_or(1_000_000);
    let cases = std::env::var("EXT2_FUZZ_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(100_000);
    eprintln!("ext2 fuzz: seeds {seed}..{}", seed + cases);
    run_cases(seed, cases);
}
