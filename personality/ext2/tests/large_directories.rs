//! Large directories without an htree index, which the library indexes in
//! memory (name → block, room per block): random creations, removals,
//! renames within and across directories, hard links and lookups on
//! thousands of names must agree with a model at every step and after a
//! remount (the in-memory index starts over), listings must hold exactly
//! the model's names, and the free counts must stay exact.

use std::collections::BTreeMap;

use ext2::{format, Filesystem, FormatOptions, MemoryDevice, MountOptions, ROOT_INODE};

/// xorshift64*: a failure is found again from its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

fn name(index: u64) -> Vec<u8> {
    // Lengths vary so records differ in size and blocks fill unevenly.
    format!("entry-{index}-{}", "x".repeat((index % 23) as usize)).into_bytes()
}

fn listing(filesystem: &mut Filesystem<MemoryDevice>, directory: u32) -> BTreeMap<Vec<u8>, u32> {
    filesystem
        .read_directory(directory)
        .unwrap()
        .into_iter()
        .filter(|entry| entry.name != b"." && entry.name != b"..")
        .map(|entry| (entry.name, entry.inode))
        .collect()
}

fn run(seed: u64, steps: usize) {
    let mut device = MemoryDevice::new(32 << 20);
    format(&mut device, &FormatOptions { block_size: 1024, inode_count: 16384, time: 1, ..FormatOptions::default() })
        .unwrap();
    let mut filesystem = Filesystem::mount(device, MountOptions { time: 2, ..MountOptions::default() }).unwrap();
    let big = filesystem.make_directory(ROOT_INODE, b"big", 0o755, 0, 0, 2).unwrap();
    let other = filesystem.make_directory(ROOT_INODE, b"other", 0o755, 0, 0, 2).unwrap();
    // The model: name → inode, for both directories.
    let mut model: [BTreeMap<Vec<u8>, u32>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let directories = [big, other];
    let mut random = Random(seed | 1);
    // Fill the big directory first so it spans many blocks.
    for index in 0..2500 {
        let inode = filesystem.create(big, &name(index), 0o644, 0, 0, 3).unwrap();
        model[0].insert(name(index), inode);
    }
    for step in 0..steps {
        let which = (random.below(10) == 0) as usize;
        let directory = directories[which];
        let candidate = name(random.below(4000));
        match random.below(6) {
            0 | 1 => {
                let result = filesystem.create(directory, &candidate, 0o644, 0, 0, 4);
                match model[which].get(&candidate) {
                    Some(_) => assert_eq!(result, Err(ext2::Error::AlreadyExists), "step {step}"),
                    None => {
                        model[which].insert(candidate, result.unwrap());
                    }
                }
            }
            2 => {
                let result = filesystem.unlink(directory, &candidate, 5);
                match model[which].remove(&candidate) {
                    Some(_) => result.unwrap(),
                    None => assert_eq!(result, Err(ext2::Error::NotFound), "step {step}"),
                }
            }
            3 => {
                let target = (random.below(3) == 0) as usize;
                let new_name = name(random.below(4000));
                let result = filesystem.rename(directory, &candidate, directories[target], &new_name, 6);
                match model[which].get(&candidate).copied() {
                    None => assert_eq!(result, Err(ext2::Error::NotFound), "step {step}"),
                    Some(inode) => {
                        result.unwrap();
                        if !(which == target && candidate == new_name) {
                            model[which].remove(&candidate);
                            model[target].insert(new_name, inode);
                        }
                    }
                }
            }
            4 => {
                if let Some(inode) = model[which].get(&candidate).copied() {
                    let new_name = name(random.below(4000));
                    let target = (random.below(2)) as usize;
                    let result = filesystem.link(inode, directories[target], &new_name, 7);
                    match model[target].get(&new_name) {
                        Some(_) => assert_eq!(result, Err(ext2::Error::AlreadyExists), "step {step}"),
                        None => {
                            result.unwrap();
                            model[target].insert(new_name, inode);
                        }
                    }
                }
            }
            _ => {
                let expected = model[which].get(&candidate).copied();
                assert_eq!(filesystem.lookup(directory, &candidate).ok(), expected, "step {step}");
            }
        }
        if step % 997 == 500 {
            // A remount: the in-memory index is gone and is built again.
            let device = filesystem.unmount().unwrap();
            filesystem = Filesystem::mount(device, MountOptions { time: 8, ..MountOptions::default() }).unwrap();
        }
    }
    for which in 0..2 {
        assert_eq!(listing(&mut filesystem, directories[which]), model[which], "final listing");
        for (name, inode) in &model[which] {
            assert_eq!(filesystem.lookup(directories[which], name).unwrap(), *inode);
        }
    }
    filesystem.verify_free_counts().unwrap();
    #[cfg(feature = "interop")]
    {
        let bytes = filesystem.unmount().unwrap().into_bytes();
        let image = std::env::temp_dir().join(format!("ext2-large-directories-{seed}-{}", std::process::id()));
        std::fs::write(&image, bytes).unwrap();
        let output = std::process::Command::new("e2fsck")
            .args(["-fn", image.to_str().unwrap()])
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&image);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    }
}

#[test]
fn large_linear_directories_agree_with_a_model() {
    for seed in [1, 2, 3] {
        run(seed, 6000);
    }
}
