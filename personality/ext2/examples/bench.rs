//! Host benchmark of the ext2 library on an in-memory block device, run by
//! `scripts/benches/ext2` (release build). Prints figures only; nothing
//! here fails on a time. For reference it also times `e2fsck -fn` and a
//! debugfs listing of the same image when e2fsprogs is installed.

use std::time::{Duration, Instant};

use ext2::{format, Filesystem, FormatOptions, MemoryDevice, MountOptions, ROOT_INODE};

const MEBIBYTE: usize = 1 << 20;

fn fresh(size: usize, inodes: u32) -> Filesystem<MemoryDevice> {
    let mut device = MemoryDevice::new(size);
    let options =
        FormatOptions { block_size: 4096, inode_size: 256, inode_count: inodes, time: 1, ..FormatOptions::default() };
    format(&mut device, &options).expect("format");
    Filesystem::mount(device, MountOptions { cache_blocks: 4096, time: 2, ..MountOptions::default() }).expect("mount")
}

fn per_operation(elapsed: Duration, count: usize) -> String {
    format!(
        "{:.2} us/op ({:.0} ops/s)",
        elapsed.as_secs_f64() * 1e6 / count as f64,
        count as f64 / elapsed.as_secs_f64()
    )
}

fn throughput(elapsed: Duration, bytes: usize) -> String {
    format!("{:.0} MiB/s ({:.3} s)", bytes as f64 / MEBIBYTE as f64 / elapsed.as_secs_f64(), elapsed.as_secs_f64())
}

/// A 4 KiB-block image with /wide holding entry-00000..entry-09999,
/// indexed by e2fsck -D.
fn indexed_directory_image() -> Result<Vec<u8>, String> {
    let directory = std::env::temp_dir().join(format!("ext2-bench-htree-{}", std::process::id()));
    let tree = directory.join("tree");
    let image = directory.join("image");
    std::fs::create_dir_all(tree.join("wide")).map_err(|error| error.to_string())?;
    for index in 0..10_000 {
        std::fs::write(tree.join("wide").join(format!("entry-{index:05}")), b"").map_err(|error| error.to_string())?;
    }
    let path = "/usr/sbin:/usr/bin:/sbin:/bin";
    let run = |program: &str, arguments: &[&str]| {
        std::process::Command::new(program)
            .args(arguments)
            .env("PATH", path)
            .output()
            .map_err(|error| format!("{program}: {error}"))
    };
    let made = run(
        "mke2fs",
        &["-q", "-F", "-t", "ext2", "-b", "4096", "-d", tree.to_str().unwrap(), image.to_str().unwrap(), "64M"],
    )?;
    if !made.status.success() {
        return Err("mke2fs failed".into());
    }
    run("e2fsck", &["-fyD", image.to_str().unwrap()])?;
    let bytes = std::fs::read(&image).map_err(|error| error.to_string());
    let _ = std::fs::remove_dir_all(&directory);
    bytes
}

fn main() {
    let mut lines = Vec::new();
    let mut report = |line: String| {
        println!("{line}");
        lines.push(line);
    };
    report("ext2 library benchmark (in-memory device, 4 KiB blocks, 4096-block cache, release build)".into());

    // create + write 4 KiB + unlink
    let mut filesystem = fresh(64 * MEBIBYTE, 0);
    let data = vec![0x5Au8; 4096];
    let count = 20_000;
    let started = Instant::now();
    for index in 0..count {
        let name = format!("file-{}", index % 64);
        let file = filesystem.create(ROOT_INODE, name.as_bytes(), 0o644, 0, 0, 3).expect("create");
        filesystem.write(file, 0, &data, 3).expect("write");
        filesystem.unlink(ROOT_INODE, name.as_bytes(), 3).expect("unlink");
    }
    report(format!("create+write 4 KiB+unlink: {}", per_operation(started.elapsed(), count)));

    // sequential write and read of 64 MiB
    let mut filesystem = fresh(96 * MEBIBYTE, 0);
    let file = filesystem.create(ROOT_INODE, b"big", 0o644, 0, 0, 3).expect("create");
    let chunk = vec![0xA5u8; MEBIBYTE];
    let total = 64 * MEBIBYTE;
    let started = Instant::now();
    for offset in (0..total).step_by(MEBIBYTE) {
        filesystem.write(file, offset as u64, &chunk, 4).expect("write");
    }
    filesystem.sync().expect("sync");
    report(format!("sequential write 64 MiB (1 MiB writes, then sync): {}", throughput(started.elapsed(), total)));
    let mut buffer = vec![0u8; MEBIBYTE];
    let started = Instant::now();
    for offset in (0..total).step_by(MEBIBYTE) {
        filesystem.read(file, offset as u64, &mut buffer).expect("read");
    }
    report(format!("sequential read 64 MiB (1 MiB reads): {}", throughput(started.elapsed(), total)));

    // lookup in a directory of 10,000 entries
    let mut filesystem = fresh(64 * MEBIBYTE, 30_000);
    let directory = filesystem.make_directory(ROOT_INODE, b"wide", 0o755, 0, 0, 3).expect("mkdir");
    let started = Instant::now();
    for index in 0..10_000 {
        filesystem.create(directory, format!("entry-{index:05}").as_bytes(), 0o644, 0, 0, 3).expect("create");
    }
    report(format!("create 10,000 entries in one directory: {}", per_operation(started.elapsed(), 10_000)));
    let lookups = 10_000;
    let started = Instant::now();
    let mut state = 12345u64;
    for _ in 0..lookups {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let index = (state >> 33) % 10_000;
        filesystem.lookup(directory, format!("entry-{index:05}").as_bytes()).expect("lookup");
    }
    report(format!(
        "lookup in a directory of 10,000 entries (linear scan): {}",
        per_operation(started.elapsed(), lookups)
    ));

    // The same lookups in an htree-indexed directory, when e2fsprogs can
    // build one (mke2fs -d, then e2fsck -D).
    match indexed_directory_image() {
        Ok(image) => {
            let options = MountOptions { cache_blocks: 4096, read_only: true, ..MountOptions::default() };
            let mut filesystem = Filesystem::mount(MemoryDevice::from_bytes(image), options).expect("mount");
            let directory = filesystem.resolve(b"/wide").expect("resolve");
            let started = Instant::now();
            let mut state = 12345u64;
            for _ in 0..lookups {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let index = (state >> 33) % 10_000;
                filesystem.lookup(directory, format!("entry-{index:05}").as_bytes()).expect("lookup");
            }
            let elapsed = started.elapsed();
            let (indexed, fallbacks) = filesystem.index_statistics();
            report(format!(
                "lookup in an htree-indexed directory of 10,000 entries: {} ({indexed} indexed, {fallbacks} linear)",
                per_operation(elapsed, lookups)
            ));
        }
        Err(reason) => report(format!("htree lookup: not measured ({reason})")),
    }

    // find-style walk of a 10,000-file tree
    let mut filesystem = fresh(128 * MEBIBYTE, 30_000);
    for top in 0..100 {
        let directory =
            filesystem.make_directory(ROOT_INODE, format!("d{top:03}").as_bytes(), 0o755, 0, 0, 3).expect("mkdir");
        for index in 0..100 {
            let file = filesystem.create(directory, format!("f{index:03}").as_bytes(), 0o644, 0, 0, 3).expect("create");
            filesystem.write(file, 0, b"content\n", 3).expect("write");
        }
    }
    let device = filesystem.unmount().expect("unmount");
    let image = device.bytes().to_vec();
    let mut filesystem =
        Filesystem::mount(device, MountOptions { cache_blocks: 4096, read_only: true, ..MountOptions::default() })
            .expect("mount");
    let started = Instant::now();
    let mut pending = vec![ROOT_INODE];
    let mut seen = 0;
    while let Some(directory) = pending.pop() {
        for entry in filesystem.read_directory(directory).expect("readdir") {
            if entry.name == b"." || entry.name == b".." {
                continue;
            }
            let metadata = filesystem.metadata(entry.inode).expect("stat");
            seen += 1;
            if metadata.kind == ext2::FileKind::Directory {
                pending.push(entry.inode);
            }
        }
    }
    report(format!(
        "find-style walk (readdir + stat) of {seen} files: {:.1} ms (cold cache)",
        started.elapsed().as_secs_f64() * 1e3
    ));

    // Reference: e2fsprogs on the same image.
    let path = std::env::temp_dir().join(format!("ext2-bench-{}.img", std::process::id()));
    std::fs::write(&path, &image).expect("write image");
    let tools_path = "/usr/sbin:/usr/bin:/sbin:/bin";
    let started = Instant::now();
    match std::process::Command::new("e2fsck").arg("-fn").arg(&path).env("PATH", tools_path).output() {
        Ok(output) => report(format!(
            "reference: e2fsck -fn on that image: {:.1} ms (exit {})",
            started.elapsed().as_secs_f64() * 1e3,
            output.status.code().unwrap_or(-1)
        )),
        Err(error) => report(format!("reference: e2fsck not run ({error})")),
    }
    let commands: String = (0..100).map(|top| format!("ls -l /d{top:03}\n")).collect();
    let command_file = path.with_extension("cmds");
    std::fs::write(&command_file, commands).expect("write commands");
    let started = Instant::now();
    match std::process::Command::new("debugfs").arg("-f").arg(&command_file).arg(&path).env("PATH", tools_path).output()
    {
        Ok(output) => report(format!(
            "reference: debugfs 'ls -l' of all 100 directories: {:.1} ms ({} lines)",
            started.elapsed().as_secs_f64() * 1e3,
            output.stdout.iter().filter(|&&byte| byte == b'\n').count()
        )),
        Err(error) => report(format!("reference: debugfs not run ({error})")),
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&command_file);

    if let Some(out) = std::env::args().nth(1) {
        std::fs::write(out, lines.join("\n") + "\n").expect("write results");
    }
}
