//! tmpfs and ext2 must be indistinguishable through the server: random
//! sequences of name and data operations (create, mkdir, unlink, rmdir,
//! rename, link, symlink, write, truncate, chmod...) run on a server whose
//! root is tmpfs and on one whose root is ext2; every answer (value or
//! errno) must agree, and so must the whole tree at the end, file contents
//! included. The ext2 image is then checked by the library's own count
//! verification, and remounted to read the same tree back.

mod support;

use mach_vfs::server::records::open_flags;
use mach_vfs::server::Answer;
use mach_vfs::Errno;
use proptest::prelude::*;
use support::*;

#[derive(Clone, Debug)]
enum Operation {
    Create(u8),
    MakeDirectory(u8),
    Unlink(u8),
    RemoveDirectory(u8),
    Rename(u8, u8),
    Link(u8, u8),
    Symlink(u8, u8),
    Write(u8, u16, u8, u16),
    Truncate(u8, u16),
    ChangeMode(u8, u16),
    Read(u8),
}

const NAMES: [&str; 10] = ["/a", "/b", "/a/c", "/a/d", "/b/e", "/a/c/f", "/g", "/b/e/h", "/a/../i", "/b/./j"];

fn name(index: u8) -> &'static str {
    NAMES[index as usize % NAMES.len()]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        3 => any::<u8>().prop_map(Operation::Create),
        2 => any::<u8>().prop_map(Operation::MakeDirectory),
        2 => any::<u8>().prop_map(Operation::Unlink),
        1 => any::<u8>().prop_map(Operation::RemoveDirectory),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(from, to)| Operation::Rename(from, to)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(from, to)| Operation::Link(from, to)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(target, at)| Operation::Symlink(target, at)),
        3 => (any::<u8>(), any::<u16>(), any::<u8>(), any::<u16>())
            .prop_map(|(file, offset, byte, length)| Operation::Write(file, offset, byte, length)),
        1 => (any::<u8>(), any::<u16>()).prop_map(|(file, size)| Operation::Truncate(file, size)),
        1 => (any::<u8>(), any::<u16>()).prop_map(|(file, mode)| Operation::ChangeMode(file, mode)),
        2 => any::<u8>().prop_map(Operation::Read),
    ]
}

/// Runs one operation; the answer as text (value or errno).
fn apply(harness: &mut Harness, operation: &Operation) -> String {
    let request = root_request();
    let root = harness.root;
    let path = |index: u8| name(index).as_bytes();
    let result: Result<String, Errno> = match *operation {
        Operation::Create(file) => {
            harness.open(name(file), open_flags::CREATE | open_flags::WRITE_ONLY).map(|handle| {
                harness.server.release(handle, TIME).unwrap();
                "created".into()
            })
        }
        Operation::MakeDirectory(directory) => {
            harness.server.make_directory(&request, root, path(directory), 0o755).map(|()| "ok".into())
        }
        Operation::Unlink(file) => harness.server.remove(&request, root, path(file), false).map(|()| "ok".into()),
        Operation::RemoveDirectory(directory) => {
            harness.server.remove(&request, root, path(directory), true).map(|()| "ok".into())
        }
        Operation::Rename(from, to) => {
            harness.server.rename(&request, root, path(from), root, path(to)).map(|()| "ok".into())
        }
        Operation::Link(from, to) => {
            harness.server.link(&request, root, path(from), false, root, path(to)).map(|()| "ok".into())
        }
        Operation::Symlink(target, at) => {
            harness.server.symlink(&request, root, path(target), path(at)).map(|()| "ok".into())
        }
        Operation::Write(file, offset, byte, length) => {
            harness.open(name(file), open_flags::WRITE_ONLY).and_then(|handle| {
                let data = vec![byte; length as usize % 3000];
                let result = harness.server.write_at(&request, handle, offset as u64 % 5000, &data);
                harness.server.release(handle, TIME).unwrap();
                result.map(|count| count.to_string())
            })
        }
        Operation::Truncate(file, size) => {
            harness.server.truncate_path(&request, root, path(file), size as u64 % 9000).map(|()| "ok".into())
        }
        Operation::ChangeMode(file, mode) => harness
            .server
            .change_mode_path(&request, root, path(file), mode as u32 & 0o7777, true)
            .map(|()| "ok".into()),
        Operation::Read(file) => harness.open(name(file), open_flags::READ_ONLY).and_then(|handle| {
            let mut buffer = vec![0u8; 10_000];
            let result = harness.server.read(&request, handle, &mut buffer);
            harness.server.release(handle, TIME).unwrap();
            result.map(|answer| match answer {
                Answer::Now(count) => format!("{:?}", &buffer[..count]),
                Answer::Later(_) => "waits".into(),
            })
        }),
    };
    match result {
        Ok(text) => text,
        Err(error) => error.name().to_string(),
    }
}

/// Every name reachable under the root, with kind, mode, size, links and
/// contents (timestamps and inode numbers differ by nature).
fn tree(harness: &mut Harness) -> Vec<String> {
    let request = root_request();
    let mut lines = Vec::new();
    let mut pending = vec!["".to_string()];
    while let Some(directory) = pending.pop() {
        let path = if directory.is_empty() { "/".to_string() } else { directory.clone() };
        let handle = harness.open(&path, open_flags::READ_ONLY | open_flags::DIRECTORY).unwrap();
        let mut names = Vec::new();
        loop {
            let records = harness.server.read_directory(handle, 4096).unwrap();
            if records.is_empty() {
                break;
            }
            let mut offset = 0;
            while offset < records.len() {
                let length = u16::from_le_bytes([records[offset + 16], records[offset + 17]]) as usize;
                let raw = &records[offset + 19..offset + length];
                names.push(String::from_utf8(raw[..raw.iter().position(|b| *b == 0).unwrap()].to_vec()).unwrap());
                offset += length;
            }
        }
        harness.server.release(handle, TIME).unwrap();
        names.sort();
        for entry in names {
            if entry == "."
                || entry == ".."
                || entry == "lost+found"
                || (directory.is_empty() && (entry == "dev" || entry == "tmp" || entry == "proc"))
            {
                continue;
            }
            let full = format!("{directory}/{entry}");
            let stat = harness.server.stat_path(&request, harness.root, full.as_bytes(), false).unwrap();
            // A directory's size is the file system's business.
            let size = if stat.mode & 0o170000 == 0o040000 { 0 } else { stat.size };
            let mut line = format!("{full} mode {:o} links {} size {size}", stat.mode, stat.links);
            match stat.mode & 0o170000 {
                0o040000 => pending.push(full.clone()),
                0o100000 => line.push_str(&format!(" {:?}", harness.contents(&full))),
                0o120000 => line.push_str(&format!(
                    " -> {}",
                    String::from_utf8_lossy(
                        &harness.server.read_link(&request, harness.root, full.as_bytes()).unwrap()
                    )
                )),
                _ => {}
            }
            lines.push(line);
        }
    }
    lines.sort();
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn tmpfs_and_ext2_agree(operations in proptest::collection::vec(operation(), 1..80)) {
        let disk = SharedDevice::formatted(8 << 20);
        let mut memory = Harness::on_tmpfs(vec![]);
        let mut ext2 = Harness::on_ext2(vec![disk.clone()]);
        for operation in &operations {
            let on_memory = apply(&mut memory, operation);
            let on_ext2 = apply(&mut ext2, operation);
            prop_assert_eq!(&on_memory, &on_ext2, "{:?}", operation);
        }
        let expected = tree(&mut memory);
        prop_assert_eq!(&expected, &tree(&mut ext2));
        ext2.server.shutdown(TIME).unwrap();
        drop(ext2);
        let mut filesystem = ext2::Filesystem::mount(disk.clone(), ext2::MountOptions::default()).unwrap();
        filesystem.verify_free_counts().unwrap();
        drop(filesystem);
        let mut again = Harness::on_ext2(vec![disk]);
        prop_assert_eq!(&expected, &tree(&mut again));
    }
}
