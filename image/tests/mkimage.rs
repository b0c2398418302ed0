//! mkimage end to end: build a root disk from a host tree and a device spec,
//! then check it with e2fsck and read it back with debugfs.
#![cfg(feature = "interop")]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory, removed when dropped unless the test is failing.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn scratch(name: &str) -> Scratch {
    let path = std::env::temp_dir().join(format!("mkimage-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    Scratch(path)
}

fn tool(name: &str, arguments: &[&str]) -> (bool, String) {
    let output = Command::new(name)
        .args(arguments)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap_or_else(|error| panic!("cannot run {name} (install e2fsprogs): {error}"));
    (
        output.status.success(),
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    )
}

fn build_tree(root: &Path) {
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc/init.d")).unwrap();
    std::fs::write(root.join("bin/msh"), vec![0x7Fu8; 200_000]).unwrap();
    std::fs::set_permissions(root.join("bin/msh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.join("etc/motd"), b"welcome to Mach_R\n").unwrap();
    std::fs::hard_link(root.join("bin/msh"), root.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink("../etc/motd", root.join("bin/motd-link")).unwrap();
    let sparse = std::fs::File::create(root.join("sparse")).unwrap();
    sparse.set_len(5 << 20).unwrap();
    std::fs::write(root.join("etc/init.d/rc"), b"#!/bin/msh\necho up\n").unwrap();
}

#[test]
fn mkimage_builds_a_root_disk_that_e2fsck_accepts() {
    let directory = scratch("rootfs");
    let tree = directory.join("tree");
    build_tree(&tree);
    let spec = directory.join("devices");
    std::fs::write(&spec, "# console and disks\n/dev/console c 5 1 600\n/dev/null c 1 3 666\n/dev/vda b 254 0 660\n/dev/big c 300 70000 600\n/run/initctl p 0 0 600\n").unwrap();
    for (block_size, inode_size) in [("1024", "128"), ("4096", "256")] {
        let image = directory.join(format!("root-{block_size}.img"));
        let output = Command::new(env!("CARGO_BIN_EXE_mkimage"))
            .args(["rootfs", "--size", "16M", "--block-size", block_size, "--inode-size", inode_size])
            .args([
                "--from",
                tree.to_str().unwrap(),
                "--out",
                image.to_str().unwrap(),
                "--devices",
                spec.to_str().unwrap(),
                "--time",
                "1700000000",
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "mkimage failed: {}", String::from_utf8_lossy(&output.stderr));
        let (clean, report) = tool("e2fsck", &["-fn", image.to_str().unwrap()]);
        assert!(clean, "e2fsck:\n{report}");
        let out = directory.join(format!("rdump-{block_size}"));
        std::fs::create_dir(&out).unwrap();
        let (success, report) =
            tool("debugfs", &["-R", &format!("rdump /bin /etc {}", out.display()), image.to_str().unwrap()]);
        assert!(success, "{report}");
        assert_eq!(std::fs::read(out.join("bin/msh")).unwrap(), std::fs::read(tree.join("bin/msh")).unwrap());
        assert_eq!(std::fs::read(out.join("etc/init.d/rc")).unwrap(), b"#!/bin/msh\necho up\n");
        assert_eq!(std::fs::read_link(out.join("bin/motd-link")).unwrap(), Path::new("../etc/motd"));
        let (_, listing) = tool("debugfs", &["-R", "ls -l /dev", image.to_str().unwrap()]);
        assert!(listing.contains("console") && listing.contains("vda") && listing.contains("null"), "{listing}");
        let (_, stat) = tool("debugfs", &["-R", "stat /dev/console", image.to_str().unwrap()]);
        assert!(
            stat.contains("Type: character special") && stat.contains("Device major/minor number: 05:01"),
            "{stat}"
        );
        let (_, stat) = tool("debugfs", &["-R", "stat /dev/big", image.to_str().unwrap()]);
        assert!(stat.contains("Device major/minor number: 300:70000"), "{stat}");
        let (_, stat) = tool("debugfs", &["-R", "stat /bin/msh", image.to_str().unwrap()]);
        assert!(stat.contains("Links: 2") && stat.contains("User:     0   Group:     0"), "{stat}");
        let (_, stat) = tool("debugfs", &["-R", "stat /sparse", image.to_str().unwrap()]);
        assert!(
            stat.contains("Size: 5242880") && stat.contains("Blockcount: 0"),
            "a host hole must stay a hole:\n{stat}"
        );
    }
}

#[test]
fn mkimage_reports_bad_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_mkimage")).args(["rootfs", "--size", "lots"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--size"));
    let directory = scratch("too-small");
    let image = directory.join("image");
    let output = Command::new(env!("CARGO_BIN_EXE_mkimage"))
        .args(["rootfs", "--size", "16K", "--out", image.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("too small"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
