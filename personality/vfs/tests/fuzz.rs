//! Corrupted disks under the whole server: a good image with files,
//! directories, links and a large file is damaged (bytes of the
//! superblock, group descriptors, inode table, directory blocks and block
//! maps changed, or the image cut short), then mounted as the root and
//! used: walked, read, written, renamed, removed, synced, shut down. The
//! mount may fail and operations may fail (EIO, ENOENT...); nothing may
//! panic, hang or loop. `MACH_FUZZ_CASES` raises the case count
//! (scripts/fuzz.d).

mod support;

use mach_vfs::server::records::open_flags;
use mach_vfs::server::{Answer, FileServer, ServerOptions};
use mach_vfs::Errno;
use support::*;

/// A small deterministic generator (xorshift64*), so a failing case is
/// found again from its seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// The image every case starts from (built once).
fn pristine() -> Vec<u8> {
    let disk = SharedDevice::formatted(2 << 20);
    {
        let mut harness = Harness::on_ext2(vec![disk.clone()]);
        let request = root_request();
        let root = harness.root;
        for directory in ["/a", "/a/b", "/c"] {
            harness.server.make_directory(&request, root, directory.as_bytes(), 0o755).unwrap();
        }
        for index in 0..40 {
            let handle = harness.create(&format!("/a/file{index}"), format!("contents of file {index}\n").as_bytes());
            harness.server.release(handle, TIME).unwrap();
        }
        let big: Vec<u8> = (0..300_000u32).map(|value| (value * 7) as u8).collect();
        let handle = harness.create("/c/big", &big);
        harness.server.release(handle, TIME).unwrap();
        harness.server.symlink(&request, root, b"/c/big", b"/a/b/link").unwrap();
        harness.server.link(&request, root, b"/a/file1", false, root, b"/c/hard").unwrap();
        harness.server.shutdown(TIME).unwrap();
    }
    disk.bytes()
}

/// Damages `image` in one of the ways a hostile disk would.
fn corrupt(image: &mut Vec<u8>, random: &mut Random) {
    let block = 1024u64;
    let length = image.len() as u64;
    let regions: [(u64, u64); 5] = [
        (1024, 1024),              // the superblock
        (2048, 1024),              // the group descriptors
        (5 * block, 64 * block),   // inode tables and bitmaps of group 0
        (64 * block, 256 * block), // directory and data blocks, indirect blocks
        (0, length),               // anywhere
    ];
    let flips = 1 + random.below(16);
    for _ in 0..flips {
        let (start, size) = regions[random.below(regions.len() as u64) as usize];
        let offset = (start + random.below(size)).min(length - 1) as usize;
        match random.below(4) {
            0 => image[offset] ^= 1 << random.below(8),
            1 => image[offset] = random.next() as u8,
            2 => image[offset] = 0xff,
            _ => image[offset] = 0,
        }
    }
    if random.below(20) == 0 {
        let keep = random.below(length) as usize;
        image.truncate(keep.max(1024));
    }
}

/// Mounts and exercises the damaged image; returns whether it mounted.
fn exercise(image: Vec<u8>) -> bool {
    let disk = SharedDevice(std::rc::Rc::new(std::cell::RefCell::new(ext2::MemoryDevice::from_bytes(image))));
    let server =
        FileServer::with_root_disk(Box::new(MemoryDisks(vec![disk])), 0, b"seed", ServerOptions::default(), TIME);
    let Ok(mut server) = server else { return false };
    let _ = server.mount_standard(1, TIME);
    if server.install_root(1).is_err() {
        return true;
    }
    let request = root_request();
    let mut next_handle = 100;
    let mut open = |server: &mut FileServer, path: &str, flags: u32| -> Result<u64, Errno> {
        next_handle += 1;
        match server.open(&request, 1, path.as_bytes(), flags, 0o644, next_handle)? {
            Answer::Now(_) => Ok(next_handle),
            Answer::Later(_) => Err(Errno::WouldBlock),
        }
    };
    // Walk the tree: list every directory, read every file.
    let mut pending = vec!["/".to_string()];
    let mut visited = 0;
    while let Some(directory) = pending.pop() {
        visited += 1;
        if visited > 200 {
            break;
        }
        let Ok(handle) = open(&mut server, &directory, open_flags::READ_ONLY | open_flags::DIRECTORY) else { continue };
        for _ in 0..64 {
            let Ok(records) = server.read_directory(handle, 4096) else { break };
            if records.is_empty() {
                break;
            }
            let mut offset = 0;
            while offset + 19 < records.len() {
                let length = u16::from_le_bytes([records[offset + 16], records[offset + 17]]) as usize;
                if length == 0 {
                    break;
                }
                let raw = &records[offset + 19..(offset + length).min(records.len())];
                let name =
                    String::from_utf8_lossy(&raw[..raw.iter().position(|b| *b == 0).unwrap_or(raw.len())]).to_string();
                let kind = records[offset + 18];
                offset += length;
                if name == "." || name == ".." || name == "dev" || name == "tmp" {
                    continue;
                }
                let path = if directory == "/" { format!("/{name}") } else { format!("{directory}/{name}") };
                if kind == 4 {
                    pending.push(path);
                } else if let Ok(file) = open(&mut server, &path, open_flags::READ_ONLY) {
                    let mut buffer = vec![0u8; 65536];
                    for _ in 0..16 {
                        match server.read(&request, file, &mut buffer) {
                            Ok(Answer::Now(count)) if count > 0 => {}
                            _ => break,
                        }
                    }
                    let _ = server.stat(file);
                    let _ = server.release(file, TIME);
                }
            }
        }
        let _ = server.release(handle, TIME);
    }
    // Change things.
    let root = 1;
    let _ = server.make_directory(&request, root, b"/new", 0o755);
    if let Ok(file) = open(&mut server, "/new/file", open_flags::CREATE | open_flags::READ_WRITE) {
        let _ = server.write(&request, file, &vec![5u8; 20_000]);
        let _ = server.truncate(&request, file, 100);
        let _ = server.release(file, TIME);
    }
    let _ = server.rename(&request, root, b"/a/file3", root, b"/c/renamed");
    let _ = server.remove(&request, root, b"/a/file4", false);
    let _ = server.remove(&request, root, b"/a/b", true);
    let _ = server.link(&request, root, b"/c/big", false, root, b"/a/again");
    let _ = server.stat_path(&request, root, b"/a/b/link", true);
    let _ = server.sync_all(TIME);
    let _ = server.shutdown(TIME);
    true
}

#[test]
fn corrupted_images_never_crash_the_server() {
    let cases: u64 = std::env::var("MACH_FUZZ_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(300);
    let seed: u64 = std::env::var("MACH_FUZZ_SEED").ok().and_then(|text| text.parse().ok()).unwrap_or(0x5eed_f11e);
    let base = pristine();
    assert!(exercise(base.clone()), "the undamaged image mounts");
    let mut mounted = 0;
    for case in 0..cases {
        let mut random = Random(seed ^ (case.wrapping_add(1)).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut image = base.clone();
        corrupt(&mut image, &mut random);
        let outcome = std::panic::catch_unwind(|| exercise(image));
        match outcome {
            Ok(true) => mounted += 1,
            Ok(false) => {}
            Err(_) => panic!("case {case} (seed {seed:#x}) panicked"),
        }
    }
    // Most damage leaves the image mountable: the walk did run.
    assert!(mounted > cases / 4, "only {mounted} of {cases} mounted");
}
