//! The whole server core, request by request, over tmpfs and over ext2 on
//! memory disks: what each `io.defs` / `fs.defs` routine does, its errors,
//! and the waits (pipes, FIFOs, locks, poll) with their deliveries.

mod support;

use mach_vfs::node::NodeKind;
use mach_vfs::pipe::PipeRun;
use mach_vfs::server::records::{open_flags, poll_events, whence, LockRequest, F_RDLCK, F_UNLCK, F_WRLCK};
use mach_vfs::server::{Answer, Completion, Opened, ReadBuffer, WaitId, PATH_FLAG};
use mach_vfs::vfs::TimeChange;
use mach_vfs::Errno;
use support::*;

const RDONLY: u32 = open_flags::READ_ONLY;
const WRONLY: u32 = open_flags::WRITE_ONLY;
const RDWR: u32 = open_flags::READ_WRITE;
const CREAT: u32 = open_flags::CREATE;
const EXCL: u32 = open_flags::EXCLUSIVE;
const TRUNC: u32 = open_flags::TRUNCATE;
const APPEND: u32 = open_flags::APPEND;
const NONBLOCK: u32 = open_flags::NON_BLOCKING;

/// Delivers every ready completion; `accept` says whether the client takes it.
fn deliver(harness: &mut Harness, accept: impl Fn(WaitId) -> bool) -> Vec<(WaitId, String)> {
    let mut delivered = Vec::new();
    harness.server.deliver_ready(&mut |id, completion| {
        let accepted = accept(id);
        let text = match completion {
            Completion::Read(Ok(data)) => {
                let mut bytes = vec![0u8; data.len()];
                data.copy_to(&mut bytes);
                format!("read {}", String::from_utf8_lossy(&bytes))
            }
            // A run is taken out only by a client that gets it.
            Completion::ReadRun(slot) => {
                let bytes = slot.as_ref().map(|run| run.bytes().to_vec()).unwrap_or_default();
                if accepted {
                    slot.take();
                }
                format!("run {}", String::from_utf8_lossy(&bytes))
            }
            other => format!("{other:?}"),
        };
        delivered.push((id, text));
        accepted
    });
    delivered
}

#[test]
fn open_flags_follow_posix() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let file = harness.create("/tmp/a", b"hello");
    harness.server.release(file, TIME).unwrap();
    assert_eq!(harness.open("/tmp/a", CREAT | EXCL | RDWR), Err(Errno::Exists));
    assert_eq!(harness.open("/tmp/missing", RDONLY), Err(Errno::NoSuchEntry));
    assert_eq!(harness.open("/tmp/a", RDONLY | open_flags::DIRECTORY), Err(Errno::NotADirectory));
    assert_eq!(harness.open("/tmp", WRONLY), Err(Errno::IsADirectory));
    assert_eq!(harness.open("/tmp", RDONLY | CREAT), Err(Errno::IsADirectory));
    assert_eq!(harness.open("/tmp/new/", RDWR | CREAT), Err(Errno::IsADirectory));
    assert_eq!(harness.open("/tmp/a", 0o3), Err(Errno::InvalidArgument));
    assert_eq!(harness.open("/tmp/a", RDONLY | 0x8000_0000), Err(Errno::InvalidArgument));

    // O_APPEND writes at the end whatever the offset.
    let appender = harness.open("/tmp/a", WRONLY | APPEND).unwrap();
    harness.server.seek(appender, 0, whence::SET).unwrap();
    harness.server.write(&root_request(), appender, b" world").unwrap();
    assert_eq!(harness.contents("/tmp/a"), b"hello world");

    // O_TRUNC empties; access modes are enforced.
    let truncated = harness.open("/tmp/a", WRONLY | TRUNC).unwrap();
    assert_eq!(harness.contents("/tmp/a"), b"");
    let mut buffer = [0u8; 4];
    assert_eq!(harness.server.read(&root_request(), truncated, &mut buffer), Err(Errno::BadDescriptor));
    let reader = harness.open("/tmp/a", RDONLY).unwrap();
    assert_eq!(harness.server.write(&root_request(), reader, b"x"), Err(Errno::BadDescriptor));

    // Symbolic links: followed, refused with O_NOFOLLOW, opened as a path with O_PATH.
    harness.server.symlink(&root_request(), harness.root, b"/tmp/a", b"/tmp/link").unwrap();
    harness.open("/tmp/link", RDONLY).unwrap();
    assert_eq!(harness.open("/tmp/link", RDONLY | open_flags::NO_FOLLOW), Err(Errno::SymlinkLoop));
    let path = harness.open("/tmp/link", PATH_FLAG | open_flags::NO_FOLLOW).unwrap();
    assert_eq!(harness.server.stat(path).unwrap().kind(), Some(NodeKind::Symlink));
    assert_eq!(harness.server.read(&root_request(), path, &mut buffer), Err(Errno::BadDescriptor));
    // O_CREAT through a dangling link creates its target.
    harness.server.symlink(&root_request(), harness.root, b"target", b"/tmp/dangling").unwrap();
    harness.open("/tmp/dangling", CREAT | WRONLY).unwrap();
    assert_eq!(harness.server.stat_path(&root_request(), harness.root, b"/tmp/target", false).unwrap().size, 0);
    // ...but O_CREAT|O_EXCL on a link fails even when it dangles.
    harness.server.symlink(&root_request(), harness.root, b"nowhere", b"/tmp/dangling2").unwrap();
    assert_eq!(harness.open("/tmp/dangling2", CREAT | EXCL | WRONLY), Err(Errno::Exists));
}

#[test]
fn reads_writes_and_offsets() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let file = harness.create("/tmp/data", b"0123456789");
    assert_eq!(harness.server.seek(file, 0, whence::CURRENT), Ok(10));
    assert_eq!(harness.server.seek(file, -3, whence::END), Ok(7));
    let mut buffer = [0u8; 8];
    assert_eq!(harness.server.read(&request, file, &mut buffer).unwrap().now(), Some(3));
    assert_eq!(&buffer[..3], b"789");
    assert_eq!(harness.server.read_at(&request, file, 2, &mut buffer[..4]), Ok(4));
    assert_eq!(&buffer[..4], b"2345");
    assert_eq!(harness.server.seek(file, 0, whence::CURRENT), Ok(10), "pread leaves the offset");
    assert_eq!(harness.server.write_at(&request, file, 20, b"!"), Ok(1));
    assert_eq!(harness.server.stat(file).unwrap().size, 21);
    assert_eq!(harness.server.seek(file, -1, whence::SET), Err(Errno::InvalidArgument));
    assert_eq!(harness.server.seek(file, 0, 9), Err(Errno::InvalidArgument));
    assert_eq!(harness.server.seek(file, i64::MAX, whence::END), Err(Errno::Overflow));
    harness.server.truncate(&request, file, 4).unwrap();
    assert_eq!(harness.contents("/tmp/data"), b"0123");
    harness.server.sync_file(file, TIME).unwrap();
    // Flags as fcntl sees them.
    assert_eq!(harness.server.status_flags(file), Ok(RDWR));
    harness.server.set_status_flags(file, APPEND | NONBLOCK | 0o1).unwrap();
    assert_eq!(harness.server.status_flags(file), Ok(RDWR | APPEND | NONBLOCK));
}

#[test]
fn directories_list_in_pieces_with_stable_positions() {
    let mut harness = Harness::on_tmpfs(vec![]);
    harness.server.make_directory(&root_request(), harness.root, b"/tmp/d", 0o755).unwrap();
    for index in 0..100 {
        let handle = harness.create(&format!("/tmp/d/file-{index:03}"), b"");
        harness.server.release(handle, TIME).unwrap();
    }
    let directory = harness.open("/tmp/d", RDONLY | open_flags::DIRECTORY).unwrap();
    let mut names = Vec::new();
    loop {
        // A small budget: a few records per call.
        let records = harness.server.read_directory(directory, 100).unwrap();
        if records.is_empty() {
            break;
        }
        let mut offset = 0;
        while offset < records.len() {
            let length = u16::from_le_bytes([records[offset + 16], records[offset + 17]]) as usize;
            let name = &records[offset + 19..offset + length];
            let name = &name[..name.iter().position(|byte| *byte == 0).unwrap()];
            names.push(String::from_utf8(name.to_vec()).unwrap());
            offset += length;
        }
    }
    assert_eq!(names.len(), 102);
    assert_eq!(&names[..2], [".", ".."]);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 102, "no entry twice");
    assert_eq!(harness.server.read_directory(directory, 10), Err(Errno::InvalidArgument).or(Ok(vec![])));
    // Rewind and a budget too small for one record.
    harness.server.seek(directory, 0, whence::SET).unwrap();
    assert_eq!(harness.server.read_directory(directory, 10), Err(Errno::InvalidArgument));
    let mut buffer = [0u8; 4];
    assert_eq!(harness.server.read(&root_request(), directory, &mut buffer), Err(Errno::IsADirectory));
}

#[test]
fn permissions_come_from_the_credential() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let alice = request_as(1000, 1000, 10);
    let bob = request_as(1001, 1001, 11);
    let file = harness.open_as(&alice, "/tmp/alice", CREAT | WRONLY, 0o640).unwrap();
    harness.server.write(&alice, file, b"secret").unwrap();
    assert_eq!(harness.open_as(&bob, "/tmp/alice", RDONLY, 0), Err(Errno::AccessDenied));
    // Bob may not remove it from sticky /tmp, nor chmod it.
    assert_eq!(harness.server.remove(&bob, harness.root, b"/tmp/alice", false), Err(Errno::NotPermitted));
    assert_eq!(
        harness.server.change_mode_path(&bob, harness.root, b"/tmp/alice", 0o777, true),
        Err(Errno::NotPermitted)
    );
    // Nobody but root creates in /.
    assert_eq!(harness.open_as(&alice, "/x", CREAT | WRONLY, 0o644), Err(Errno::AccessDenied));
    assert_eq!(harness.server.make_directory(&alice, harness.root, b"/d", 0o755), Err(Errno::AccessDenied));
    // Search permission on every directory walked.
    harness.server.make_directory(&alice, harness.root, b"/tmp/private", 0o700).unwrap();
    harness.open_as(&alice, "/tmp/private/f", CREAT | WRONLY, 0o666).unwrap();
    assert_eq!(harness.open_as(&bob, "/tmp/private/f", RDONLY, 0), Err(Errno::AccessDenied));
    assert_eq!(harness.server.stat_path(&bob, harness.root, b"/tmp/private/f", true), Err(Errno::AccessDenied));
    // access() uses the real ids.
    assert_eq!(harness.server.access(&alice, harness.root, b"/tmp/alice", 6, false, true), Ok(()));
    assert_eq!(harness.server.access(&bob, harness.root, b"/tmp/alice", 4, false, true), Err(Errno::AccessDenied));
    // chown: only root gives files away; the owner may pick one of their groups.
    assert_eq!(harness.server.change_owner(&alice, file, 1001, u32::MAX), Err(Errno::NotPermitted));
    harness.server.change_owner(&root_request(), file, 1001, u32::MAX).unwrap();
    assert_eq!(harness.server.stat(file).unwrap().uid, 1001);
    // utimens: to now needs write permission or ownership; to a chosen time, ownership.
    let time = TimeChange::Set(mach_vfs::Timestamp::from_seconds(5));
    assert_eq!(harness.server.change_times(&alice, file, time, time), Err(Errno::NotPermitted));
    harness.server.change_times(&bob, file, time, TimeChange::Keep).unwrap();
    assert_eq!(harness.server.stat(file).unwrap().access_seconds, 5);
}

#[test]
fn writing_clears_set_id_bits_for_others() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let alice = request_as(1000, 1000, 10);
    let file = harness.create("/tmp/tool", b"#!");
    harness.server.change_mode(&root_request(), file, 0o4777).unwrap();
    let handle = harness.open_as(&alice, "/tmp/tool", WRONLY, 0).unwrap();
    harness.server.write(&alice, handle, b"x").unwrap();
    assert_eq!(harness.server.stat(file).unwrap().mode & 0o7777, 0o777);
}

#[test]
fn renames_follow_every_posix_rule() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let root = harness.root;
    for directory in ["/tmp/a", "/tmp/a/b", "/tmp/empty", "/tmp/full"] {
        harness.server.make_directory(&request, root, directory.as_bytes(), 0o755).unwrap();
    }
    let file = harness.create("/tmp/full/f", b"1");
    harness.server.release(file, TIME).unwrap();
    let file = harness.create("/tmp/g", b"2");
    harness.server.release(file, TIME).unwrap();
    let rename = |harness: &mut Harness, from: &str, to: &str| {
        harness.server.rename(&root_request(), harness.root, from.as_bytes(), harness.root, to.as_bytes())
    };
    assert_eq!(rename(&mut harness, "/tmp/a", "/tmp/a/b/c"), Err(Errno::InvalidArgument));
    assert_eq!(rename(&mut harness, "/tmp/a", "/tmp/full"), Err(Errno::DirectoryNotEmpty));
    assert_eq!(rename(&mut harness, "/tmp/g", "/tmp/empty"), Err(Errno::IsADirectory));
    assert_eq!(rename(&mut harness, "/tmp/a", "/tmp/g"), Err(Errno::NotADirectory));
    assert_eq!(rename(&mut harness, "/tmp/g", "/tmp/g/"), Err(Errno::NotADirectory));
    assert_eq!(rename(&mut harness, "/tmp/a/..", "/tmp/x"), Err(Errno::Busy));
    assert_eq!(rename(&mut harness, "/tmp", "/x"), Err(Errno::Busy), "a mount point");
    assert_eq!(rename(&mut harness, "/tmp/g", "/g"), Err(Errno::CrossDevice));
    assert_eq!(rename(&mut harness, "/tmp/missing", "/tmp/x"), Err(Errno::NoSuchEntry));
    rename(&mut harness, "/tmp/full/f", "/tmp/g").unwrap();
    assert_eq!(harness.contents("/tmp/g"), b"1", "replaced atomically");
    rename(&mut harness, "/tmp/a", "/tmp/empty").unwrap();
    assert!(harness.server.stat_path(&request, root, b"/tmp/empty/b", true).is_ok());
    rename(&mut harness, "/tmp/empty/b", "/tmp/b").unwrap();
    // rmdir and unlink keep to their kinds.
    assert_eq!(harness.server.remove(&request, root, b"/tmp/g", true), Err(Errno::NotADirectory));
    assert_eq!(harness.server.remove(&request, root, b"/tmp/b", false), Err(Errno::IsADirectory));
    assert_eq!(harness.server.remove(&request, root, b"/tmp/b/.", true), Err(Errno::InvalidArgument));
    assert_eq!(harness.server.remove(&request, root, b"/tmp", true), Err(Errno::Busy));
    harness.server.remove(&request, root, b"/tmp/b", true).unwrap();
    // Links: not to directories, not across mounts, not over a name.
    assert_eq!(harness.server.link(&request, root, b"/tmp/empty", false, root, b"/tmp/l"), Err(Errno::NotPermitted));
    assert_eq!(harness.server.link(&request, root, b"/tmp/g", false, root, b"/l"), Err(Errno::CrossDevice));
    assert_eq!(harness.server.link(&request, root, b"/tmp/g", false, root, b"/tmp/empty"), Err(Errno::Exists));
    harness.server.link(&request, root, b"/tmp/g", false, root, b"/tmp/h").unwrap();
    assert_eq!(harness.server.stat_path(&request, root, b"/tmp/g", true).unwrap().links, 2);
}

#[test]
fn an_unlinked_open_file_lives_until_its_last_close() {
    let mut harness = Harness::on_ext2(vec![SharedDevice::formatted(4 << 20)]);
    let file = harness.create("/doomed", b"still readable");
    harness.server.remove(&root_request(), harness.root, b"/doomed", false).unwrap();
    harness.server.seek(file, 0, whence::SET).unwrap();
    assert_eq!(harness.read_all(file), b"still readable");
    assert_eq!(harness.server.stat(file).unwrap().links, 0);
    let free_before = harness.server.statfs(file).unwrap().free_files;
    harness.server.release(file, TIME).unwrap();
    let free_after = harness.server.statfs(harness.root).unwrap().free_files;
    assert_eq!(free_after, free_before + 1, "the inode was freed at the last close");
}

#[test]
fn pipes_wait_deliver_and_keep_data_for_abandoned_readers() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    let mut buffer = [0u8; 16];
    let Answer::Later(first) = harness.server.read(&request, reader, &mut buffer).unwrap() else { panic!("must wait") };
    assert_eq!(harness.server.wait_count(), 1);
    assert_eq!(harness.server.write(&request, writer, b"abc").unwrap(), Answer::Now(3));
    // The reader gave up (its reply port died): the data stays.
    let delivered = deliver(&mut harness, |_| false);
    assert_eq!(delivered, [(first, "read abc".to_string())]);
    assert_eq!(harness.server.wait_count(), 0);
    assert_eq!(harness.server.read(&request, reader, &mut buffer).unwrap(), Answer::Now(3));
    assert_eq!(&buffer[..3], b"abc");
    // A waiting reader that takes it consumes it.
    let Answer::Later(third) = harness.server.read(&request, reader, &mut buffer).unwrap() else { panic!() };
    harness.server.write(&request, writer, b"xy").unwrap();
    assert_eq!(deliver(&mut harness, |_| true), [(third, "read xy".to_string())]);
    // Non-blocking: EAGAIN.
    harness.server.set_status_flags(reader, NONBLOCK).unwrap();
    assert_eq!(harness.server.read(&request, reader, &mut buffer), Err(Errno::WouldBlock));
    harness.server.set_status_flags(reader, 0).unwrap();
    // End of file when the last writer goes, waking a waiting reader.
    let Answer::Later(fourth) = harness.server.read(&request, reader, &mut buffer).unwrap() else { panic!() };
    harness.server.release(writer, TIME).unwrap();
    assert_eq!(deliver(&mut harness, |_| true), [(fourth, "read ".to_string())]);
    assert_eq!(harness.server.read(&request, reader, &mut buffer).unwrap(), Answer::Now(0));
    assert_eq!(harness.server.stat(reader).unwrap().kind(), Some(NodeKind::Fifo));
}

#[test]
fn pipe_writes_are_atomic_up_to_pipe_buf_and_break_without_readers() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    let fill = vec![1u8; 65536 - 100];
    assert_eq!(harness.server.write(&request, writer, &fill).unwrap(), Answer::Now(fill.len()));
    let mut ready = harness.server.poll(writer, poll_events::OUTPUT, false, 7).unwrap();
    assert_eq!(ready, Answer::Now(0), "less than PIPE_BUF free: not writable");
    // 200 bytes do not fit in 100: the write waits for all of it.
    let Answer::Later(waiting) = harness.server.write(&request, writer, &[2u8; 200]).unwrap() else { panic!() };
    let mut buffer = vec![0u8; 150];
    assert_eq!(harness.server.read(&request, reader, &mut buffer).unwrap(), Answer::Now(150));
    assert_eq!(deliver(&mut harness, |_| true), [(waiting, "Write(Ok(200))".to_string())]);
    // A writer that gave up before its atomic write was acknowledged leaves nothing behind.
    let Answer::Later(abandoned) = harness.server.write(&request, writer, &[3u8; 300]).unwrap() else { panic!() };
    let mut buffer = vec![0u8; 300];
    harness.server.read(&request, reader, &mut buffer).unwrap();
    assert_eq!(deliver(&mut harness, |_| false), [(abandoned, "Write(Ok(300))".to_string())]);
    let queued = harness.server.stat(reader).unwrap().size as usize;
    assert_eq!(queued, 65536 - 100 - 150 + 200 - 300);
    // Non-blocking large write takes what fits.
    harness.server.set_status_flags(writer, NONBLOCK).unwrap();
    assert_eq!(harness.server.write(&request, writer, &vec![4u8; 10_000]).unwrap(), Answer::Now(65536 - queued));
    assert_eq!(harness.server.write(&request, writer, b"z"), Err(Errno::WouldBlock));
    ready = harness.server.poll(reader, poll_events::INPUT | poll_events::READ_NORMAL, false, 7).unwrap();
    assert_eq!(ready, Answer::Now(poll_events::INPUT | poll_events::READ_NORMAL));
    // No reader: EPIPE, and POLLERR for the writer.
    harness.server.release(reader, TIME).unwrap();
    assert_eq!(harness.server.write(&request, writer, b"z"), Err(Errno::BrokenPipe));
    assert_eq!(harness.server.poll(writer, poll_events::OUTPUT, true, 1).unwrap(), Answer::Now(poll_events::ERROR));
}

#[test]
fn a_large_blocking_write_goes_in_pieces() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|value| value as u8).collect();
    let Answer::Later(wait) = harness.server.write(&request, writer, &data).unwrap() else { panic!() };
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 30_000];
    while received.len() < data.len() {
        let count = harness.server.read(&request, reader, &mut buffer).unwrap().now().unwrap();
        received.extend_from_slice(&buffer[..count]);
        let delivered = deliver(&mut harness, |_| true);
        if received.len() < data.len() - 65536 {
            assert!(delivered.is_empty(), "not done yet");
        }
    }
    assert_eq!(received, data);
    assert_eq!(harness.server.wait_count(), 0);
    let _ = wait;
}

/// A read's space that takes runs whole, as the transport's out-of-line
/// reply does (the host's runs are `Vec<u8>`).
struct RunTaker {
    bytes: Vec<u8>,
    runs: usize,
}

impl ReadBuffer for RunTaker {
    fn buffer(&mut self, length: usize) -> Result<&mut [u8], Errno> {
        self.bytes = vec![0; length];
        Ok(&mut self.bytes)
    }

    fn take_run(&mut self, run: Box<dyn PipeRun>) -> Result<(), Box<dyn PipeRun>> {
        self.bytes = *run.into_any().downcast::<Vec<u8>>().map_err(|_| Errno::InputOutput).unwrap();
        self.runs += 1;
        Ok(())
    }
}

fn pattern(length: usize, seed: u8) -> Vec<u8> {
    (0..length).map(|index| (index as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn large_writes_pass_through_a_pipe_as_runs() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    // Queued as a run, read whole as that run.
    let first = pattern(40_000, 1);
    assert_eq!(harness.server.write_run(&request, writer, Box::new(first.clone())).unwrap(), Answer::Now(40_000));
    let mut taker = RunTaker { bytes: Vec::new(), runs: 0 };
    assert_eq!(harness.server.read_with(&request, reader, 65536, &mut taker).unwrap(), Answer::Now(40_000));
    assert!(taker.runs == 1 && taker.bytes == first, "the run itself");
    // A waiting reader is offered the run; one that gave up leaves it.
    let Answer::Later(gone) = harness.server.read_with(&request, reader, 65536, &mut taker).unwrap() else {
        panic!("must wait")
    };
    let second = pattern(65536, 2);
    assert_eq!(harness.server.write_run(&request, writer, Box::new(second.clone())).unwrap(), Answer::Now(65536));
    let text = format!("run {}", String::from_utf8_lossy(&second));
    assert_eq!(deliver(&mut harness, |_| false), [(gone, text.clone())]);
    assert_eq!(harness.server.stat(reader).unwrap().size, 65536, "kept for the next reader");
    // The pipe is full: the next run waits whole, and goes in whole when a
    // read makes room for all of it.
    let third = pattern(20_000, 3);
    let Answer::Later(waiting) = harness.server.write_run(&request, writer, Box::new(third.clone())).unwrap() else {
        panic!("no room")
    };
    assert!(deliver(&mut harness, |_| true).is_empty());
    assert_eq!(harness.server.read_with(&request, reader, 65536, &mut taker).unwrap(), Answer::Now(65536));
    assert!(taker.runs == 2 && taker.bytes == second, "the run the reader who left did not get");
    assert_eq!(deliver(&mut harness, |_| true), [(waiting, "Write(Ok(20000))".to_string())]);
    // A shorter read copies from the run; the rest is copied too.
    assert_eq!(harness.server.read_with(&request, reader, 1, &mut taker).unwrap(), Answer::Now(1));
    assert!(taker.runs == 2 && taker.bytes == third[..1]);
    let mut rest = vec![0u8; 65536];
    assert_eq!(harness.server.read(&request, reader, &mut rest).unwrap(), Answer::Now(19_999));
    assert!(rest[..19_999] == third[1..]);
    // A run longer than the room goes in pieces, in order, copied.
    let big = pattern(150_000, 4);
    let Answer::Later(big_wait) = harness.server.write_run(&request, writer, Box::new(big.clone())).unwrap() else {
        panic!()
    };
    let mut received = Vec::new();
    while received.len() < big.len() {
        let count = harness.server.read(&request, reader, &mut rest).unwrap().now().unwrap();
        received.extend_from_slice(&rest[..count]);
        deliver(&mut harness, |_| true);
    }
    assert!(received == big, "in order");
    assert_eq!(harness.server.wait_count(), 0);
    let _ = big_wait;
    // Non-blocking: what fits of a run, or EAGAIN; EPIPE without readers.
    harness.server.set_status_flags(writer, NONBLOCK).unwrap();
    harness.server.write(&request, writer, &[9u8; 60_000]).unwrap();
    assert_eq!(harness.server.write_run(&request, writer, Box::new(pattern(10_000, 5))).unwrap(), Answer::Now(5536));
    assert_eq!(harness.server.write_run(&request, writer, Box::new(pattern(10_000, 5))), Err(Errno::WouldBlock));
    harness.server.release(reader, TIME).unwrap();
    assert_eq!(harness.server.write_run(&request, writer, Box::new(pattern(10_000, 5))), Err(Errno::BrokenPipe));
}

#[test]
fn a_run_written_to_a_file_is_its_bytes() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let file = harness.create("/tmp/run", b"");
    let data = pattern(12_345, 6);
    assert_eq!(harness.server.write_run(&request, file, Box::new(data.clone())).unwrap(), Answer::Now(12_345));
    assert!(harness.contents("/tmp/run") == data);
}

#[test]
fn poll_waits_and_can_be_cancelled() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    let Answer::Later(poll) = harness.server.poll(reader, poll_events::INPUT, true, 42).unwrap() else { panic!() };
    assert!(deliver(&mut harness, |_| true).is_empty());
    harness.server.write(&request, writer, b"!").unwrap();
    assert_eq!(
        deliver(&mut harness, |_| true),
        [(poll, format!("Poll({})", poll_events::INPUT))],
        "only what was asked"
    );
    let mut buffer = [0u8; 1];
    harness.server.read(&request, reader, &mut buffer).unwrap();
    let Answer::Later(poll) = harness.server.poll(reader, poll_events::INPUT, true, 43).unwrap() else { panic!() };
    harness.server.cancel_poll(reader, 99);
    assert!(deliver(&mut harness, |_| true).is_empty(), "another poll's id");
    harness.server.cancel_poll(reader, 43);
    assert_eq!(deliver(&mut harness, |_| true), [(poll, "Poll(0)".to_string())]);
    // Regular files are always ready.
    let file = harness.create("/tmp/f", b"");
    assert_eq!(
        harness.server.poll(file, poll_events::INPUT | poll_events::OUTPUT, true, 1).unwrap(),
        Answer::Now(poll_events::INPUT | poll_events::OUTPUT)
    );
}

#[test]
fn fifos_open_in_pairs() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    harness.server.make_node(&request, harness.root, b"/tmp/fifo", 0o010644, 0).unwrap();
    assert_eq!(harness.open("/tmp/fifo", WRONLY | NONBLOCK), Err(Errno::NoSuchDeviceOrAddress));
    let nonblocking_reader = harness.open("/tmp/fifo", RDONLY | NONBLOCK).unwrap();
    harness.server.release(nonblocking_reader, TIME).unwrap();
    // A blocking reader waits for a writer; the writer then opens at once.
    let reader = harness.handle();
    let Answer::Later(waiting) = harness.server.open(&request, harness.root, b"/tmp/fifo", RDONLY, 0, reader).unwrap()
    else {
        panic!("a reader waits for a writer")
    };
    let writer = harness.open("/tmp/fifo", WRONLY).unwrap();
    assert_eq!(deliver(&mut harness, |_| true), [(waiting, "Open(Ok(Fifo))".to_string())]);
    harness.server.write(&request, writer, b"through the fifo").unwrap();
    let mut buffer = [0u8; 64];
    assert_eq!(harness.server.read(&request, reader, &mut buffer).unwrap(), Answer::Now(16));
    // An opener that gave up opens nothing.
    harness.server.release(writer, TIME).unwrap();
    harness.server.release(reader, TIME).unwrap();
    let abandoned = harness.handle();
    let Answer::Later(_) = harness.server.open(&request, harness.root, b"/tmp/fifo", WRONLY, 0, abandoned).unwrap()
    else {
        panic!()
    };
    let reader = harness.open("/tmp/fifo", RDONLY | NONBLOCK).unwrap();
    deliver(&mut harness, |_| false);
    assert_eq!(harness.server.file(abandoned).err(), Some(Errno::BadDescriptor));
    assert_eq!(harness.server.read(&request, reader, &mut buffer).unwrap(), Answer::Now(0), "no writer: end of file");
}

fn lock(kind: u32, start: i64, length: i64) -> LockRequest {
    LockRequest { kind, whence: whence::SET, start, length }
}

#[test]
fn record_locks_conflict_wait_and_detect_deadlock() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let (one, two) = (request_as(0, 0, 101), request_as(0, 0, 102));
    let file = harness.create("/tmp/locked", &[0u8; 100]);
    let other = harness.open("/tmp/locked", RDWR).unwrap();
    harness.server.set_lock(&one, file, lock(F_WRLCK, 0, 10), false).unwrap();
    assert_eq!(harness.server.set_lock(&two, other, lock(F_RDLCK, 5, 1), false), Err(Errno::WouldBlock));
    let report = harness.server.test_lock(&two, other, lock(F_RDLCK, 0, 0)).unwrap();
    assert_eq!((report.kind, report.start, report.length, report.pid), (F_WRLCK, 0, 10, 101));
    assert_eq!(
        harness.server.test_lock(&one, file, lock(F_WRLCK, 0, 0)).unwrap().kind,
        F_UNLCK,
        "own locks never conflict"
    );
    // Two waits on each other: the second is a deadlock.
    harness.server.set_lock(&two, other, lock(F_WRLCK, 50, 10), false).unwrap();
    let Answer::Later(waiting) = harness.server.set_lock(&two, other, lock(F_WRLCK, 0, 1), true).unwrap() else {
        panic!()
    };
    assert_eq!(harness.server.set_lock(&one, file, lock(F_WRLCK, 55, 1), true), Err(Errno::Deadlock));
    // Unlocking lets the waiter in.
    harness.server.set_lock(&one, file, lock(F_UNLCK, 0, 0), false).unwrap();
    assert_eq!(deliver(&mut harness, |_| true), [(waiting, "Lock(Ok(()))".to_string())]);
    assert_eq!(harness.server.set_lock(&one, file, lock(F_RDLCK, 0, 1), false), Err(Errno::WouldBlock));
    // A waiter that gave up is not granted the lock.
    let Answer::Later(_) = harness.server.set_lock(&one, file, lock(F_RDLCK, 0, 1), true).unwrap() else { panic!() };
    harness.server.process_exited(102);
    deliver(&mut harness, |_| false);
    assert_eq!(harness.server.test_lock(&two, other, lock(F_WRLCK, 0, 0)).unwrap().kind, F_UNLCK);
    // Lock kinds need the matching access.
    let reader = harness.open("/tmp/locked", RDONLY).unwrap();
    assert_eq!(harness.server.set_lock(&one, reader, lock(F_WRLCK, 0, 1), false), Err(Errno::BadDescriptor));
    assert_eq!(harness.server.set_lock(&one, reader, lock(7, 0, 1), false), Err(Errno::InvalidArgument));
}

#[test]
fn flock_is_per_open_file_and_goes_with_it() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let first = harness.create("/tmp/flocked", b"");
    let second = harness.open("/tmp/flocked", RDONLY).unwrap();
    assert_eq!(harness.server.flock(first, 2), Ok(Answer::Now(())));
    assert_eq!(harness.server.flock(second, 1 | 4), Err(Errno::WouldBlock));
    let Answer::Later(waiting) = harness.server.flock(second, 1).unwrap() else { panic!() };
    harness.server.release(first, TIME).unwrap();
    assert_eq!(deliver(&mut harness, |_| true), [(waiting, "Lock(Ok(()))".to_string())]);
    assert_eq!(harness.server.flock(second, 8), Ok(Answer::Now(())));
    assert_eq!(harness.server.flock(second, 3), Err(Errno::InvalidArgument));
}

#[test]
fn the_memory_devices_behave() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    let null = harness.open("/dev/null", RDWR).unwrap();
    let mut buffer = [7u8; 32];
    assert_eq!(harness.server.read(&request, null, &mut buffer).unwrap(), Answer::Now(0));
    assert_eq!(harness.server.write(&request, null, b"gone").unwrap(), Answer::Now(4));
    let zero = harness.open("/dev/zero", RDONLY).unwrap();
    assert_eq!(harness.server.read(&request, zero, &mut buffer).unwrap(), Answer::Now(32));
    assert_eq!(buffer, [0u8; 32]);
    let full = harness.open("/dev/full", WRONLY).unwrap();
    assert_eq!(harness.server.write(&request, full, b"x"), Err(Errno::NoSpace));
    let random = harness.open("/dev/urandom", RDONLY).unwrap();
    let (mut first, mut second) = ([0u8; 64], [0u8; 64]);
    harness.server.read(&request, random, &mut first).unwrap();
    harness.server.read(&request, random, &mut second).unwrap();
    assert_ne!(first, second);
    assert_eq!(harness.server.stat(null).unwrap().special_device, 0x103);
    // The console's devices belong to another server.
    let handle = harness.handle();
    let answer = harness.server.open(&request, harness.root, b"/dev/tty", RDWR, 0, handle).unwrap();
    assert_eq!(
        answer,
        Answer::Now(Opened::Remote {
            service: "console",
            device: mach_vfs::node::DeviceNumber::new(5, 0),
            flags: RDWR
        })
    );
    assert_eq!(harness.server.file(handle).err(), Some(Errno::BadDescriptor), "nothing installed");
    // Only root makes device nodes; a number nobody serves is ENXIO.
    let alice = request_as(1000, 1000, 5);
    assert_eq!(harness.server.make_node(&alice, harness.root, b"/tmp/null", 0o020666, 0x103), Err(Errno::NotPermitted));
    harness.server.make_node(&request, harness.root, b"/tmp/nothing", 0o020666, 0x6301).unwrap();
    assert_eq!(harness.open("/tmp/nothing", RDONLY), Err(Errno::NoSuchDeviceOrAddress));
    harness.server.make_node(&request, harness.root, b"/tmp/null", 0o020666, 0x103).unwrap();
    let other_null = harness.open("/tmp/null", WRONLY).unwrap();
    assert_eq!(harness.server.write(&request, other_null, b"ok").unwrap(), Answer::Now(2));
}

#[test]
fn raw_disks_read_and_write_at_any_offset_unless_mounted() {
    let disk = SharedDevice::new(1 << 20);
    let mut harness = Harness::on_tmpfs(vec![disk.clone()]);
    let request = root_request();
    let raw = harness.open("/dev/vda", RDWR).unwrap();
    assert_eq!(harness.server.write_at(&request, raw, 1000, b"unaligned"), Ok(9));
    assert_eq!(&disk.bytes()[1000..1009], b"unaligned");
    let mut buffer = [0u8; 9];
    assert_eq!(harness.server.read_at(&request, raw, 1000, &mut buffer), Ok(9));
    assert_eq!(&buffer, b"unaligned");
    assert_eq!(harness.server.seek(raw, 0, whence::END), Ok(1 << 20));
    assert_eq!(harness.server.write_at(&request, raw, 1 << 20, b"x"), Err(Errno::NoSpace));
    // Formatted behind the server's back, then mounted: not while open for writing.
    let formatted = SharedDevice::formatted(1 << 20);
    disk.0.borrow_mut().bytes_mut().copy_from_slice(&formatted.bytes());
    harness.server.make_directory(&request, harness.root, b"/mnt", 0o755).unwrap();
    assert_eq!(harness.server.mount(&request, harness.root, b"/dev/vda", b"/mnt", b"ext2", false), Err(Errno::Busy));
    harness.server.release(raw, TIME).unwrap();
    harness.server.mount(&request, harness.root, b"/dev/vda", b"/mnt", b"ext2", false).unwrap();
    assert_eq!(harness.open("/dev/vda", RDWR), Err(Errno::Busy), "a mounted disk is not writable raw");
    harness.open("/dev/vda", RDONLY).unwrap();
}

#[test]
fn a_second_disk_mounts_and_unmounts() {
    let root = SharedDevice::formatted(8 << 20);
    let second = SharedDevice::formatted(4 << 20);
    let mut harness = Harness::on_ext2(vec![root, second.clone()]);
    let request = root_request();
    let root_handle = harness.root;
    harness.server.make_directory(&request, root_handle, b"/mnt", 0o755).unwrap();
    let alice = request_as(1000, 1000, 3);
    assert_eq!(
        harness.server.mount(&alice, root_handle, b"/dev/vdb", b"/mnt", b"ext2", false),
        Err(Errno::NotPermitted)
    );
    assert_eq!(
        harness.server.mount(&request, root_handle, b"/dev/null", b"/mnt", b"ext2", false),
        Err(Errno::NotABlockDevice)
    );
    assert_eq!(harness.server.mount(&request, root_handle, b"/dev/vda", b"/mnt", b"ext2", false), Err(Errno::Busy));
    assert_eq!(
        harness.server.mount(&request, root_handle, b"/dev/vdb", b"/mnt", b"nfs", false),
        Err(Errno::NoSuchDevice)
    );
    harness.server.mount(&request, root_handle, b"/dev/vdb", b"/mnt", b"ext2", false).unwrap();
    let file = harness.create("/mnt/on-the-second-disk", b"second");
    assert_eq!(harness.server.unmount(&request, root_handle, b"/mnt"), Err(Errno::Busy), "a file is open there");
    harness.server.release(file, TIME).unwrap();
    assert_eq!(harness.server.unmount(&alice, root_handle, b"/mnt"), Err(Errno::NotPermitted));
    assert_eq!(harness.server.unmount(&request, root_handle, b"/"), Err(Errno::Busy));
    harness.server.unmount(&request, root_handle, b"/mnt").unwrap();
    assert_eq!(
        harness.server.stat_path(&request, root_handle, b"/mnt/on-the-second-disk", true),
        Err(Errno::NoSuchEntry)
    );
    // What was written is on the second disk, clean.
    let mut filesystem = ext2::Filesystem::mount(second.clone(), ext2::MountOptions::default()).unwrap();
    let inode = filesystem.resolve(b"/on-the-second-disk").unwrap();
    let mut buffer = [0u8; 6];
    filesystem.read(inode, 0, &mut buffer).unwrap();
    assert_eq!(&buffer, b"second");
    filesystem.verify_free_counts().unwrap();
    drop(filesystem);
    // Read-only: writes refused.
    harness.server.mount(&request, root_handle, b"/dev/vdb", b"/mnt", b"ext2", true).unwrap();
    assert_eq!(harness.open("/mnt/new", CREAT | WRONLY), Err(Errno::ReadOnlyFileSystem));
    assert_eq!(harness.open("/mnt/on-the-second-disk", WRONLY), Err(Errno::ReadOnlyFileSystem));
    assert_eq!(harness.contents("/mnt/on-the-second-disk"), b"second");
    assert_eq!(harness.server.statfs_path(&request, root_handle, b"/mnt").unwrap().flags, 1);
}

#[test]
fn proc_mounts_lists_every_mount_as_they_change() {
    let root = SharedDevice::formatted(8 << 20);
    let second = SharedDevice::formatted(4 << 20);
    let mut harness = Harness::on_ext2(vec![root, second]);
    let request = root_request();
    let root_handle = harness.root;
    let standard =
        "/dev/vda / ext2 rw 0 0\ndevtmpfs /dev tmpfs rw 0 0\ntmpfs /tmp tmpfs rw 0 0\nproc /proc proc ro 0 0\n";
    assert_eq!(String::from_utf8_lossy(&harness.contents("/proc/mounts")), standard);
    harness.server.make_directory(&request, root_handle, b"/mnt", 0o755).unwrap();
    harness.server.make_directory(&request, root_handle, b"/tmp/a b", 0o755).unwrap();
    harness.server.mount(&request, root_handle, b"/dev/vdb", b"/mnt", b"ext2", true).unwrap();
    harness.server.mount(&request, root_handle, b"none", b"/tmp/a b", b"tmpfs", false).unwrap();
    let listed = String::from_utf8_lossy(&harness.contents("/proc/mounts")).into_owned();
    assert_eq!(listed, format!("{standard}/dev/vdb /mnt ext2 ro 0 0\nnone /tmp/a\\040b tmpfs rw 0 0\n"));
    assert_eq!(
        harness.server.stat_path(&request, root_handle, b"/proc/mounts", true).unwrap().size,
        listed.len() as i64
    );
    harness.server.unmount(&request, root_handle, b"/mnt").unwrap();
    let listed = String::from_utf8_lossy(&harness.contents("/proc/mounts")).into_owned();
    assert_eq!(listed, format!("{standard}none /tmp/a\\040b tmpfs rw 0 0\n"));
    // Nobody changes it, and it is no disk: statfs has no blocks.
    assert_eq!(harness.open("/proc/mounts", WRONLY), Err(Errno::ReadOnlyFileSystem));
    assert_eq!(harness.open("/proc/other", CREAT | WRONLY), Err(Errno::ReadOnlyFileSystem));
    assert_eq!(harness.server.statfs_path(&request, root_handle, b"/proc").unwrap().blocks, 0);
}

#[test]
fn paths_of_directories_and_files() {
    let mut harness = Harness::on_tmpfs(vec![]);
    let request = root_request();
    harness.server.make_directory(&request, harness.root, b"/tmp/x", 0o755).unwrap();
    harness.server.make_directory(&request, harness.root, b"/tmp/x/y", 0o755).unwrap();
    let directory = harness.open("/tmp/x/y", RDONLY).unwrap();
    assert_eq!(harness.server.path(directory).unwrap(), b"/tmp/x/y");
    assert_eq!(harness.server.path(harness.root).unwrap(), b"/");
    let file = harness.create("/tmp/x/../x/y/file", b"");
    assert_eq!(harness.server.path(file).unwrap(), b"/tmp/x/y/file");
    // Relative opens from the directory, and a chroot-style root.
    let handle = harness.handle();
    harness.server.open(&request, directory, b"../y/./file", RDONLY, 0, handle).unwrap();
    assert_eq!(harness.server.path(handle).unwrap(), b"/tmp/x/y/file");
    let jail = harness.handle();
    harness.server.open_as_root(&request, harness.root, b"/tmp/x", jail).unwrap();
    let inside = harness.handle();
    harness.server.open(&request, jail, b"/../../y", RDONLY, 0, inside).unwrap();
    assert_eq!(harness.server.path(inside).unwrap(), b"/y");
    let alice = request_as(1000, 1000, 9);
    assert_eq!(harness.server.open_as_root(&alice, harness.root, b"/tmp/x", 5555), Err(Errno::NotPermitted));
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    assert!(harness.server.path(reader).unwrap().starts_with(b"pipe:["));
    // Name operations need a directory.
    assert_eq!(harness.server.make_directory(&request, file, b"z", 0o755), Err(Errno::NotADirectory));
}

#[test]
fn sixty_five_thousand_files_open_at_once() {
    let mut harness = Harness::on_tmpfs(vec![]);
    harness.create("/tmp/shared", b"x");
    let mut handles = Vec::new();
    for _ in 0..65_536 {
        handles.push(harness.open("/tmp/shared", RDONLY).unwrap());
    }
    assert!(harness.server.open_count() > 65_536);
    let mut buffer = [0u8; 1];
    assert_eq!(harness.server.read(&root_request(), handles[65_535], &mut buffer).unwrap(), Answer::Now(1));
    for handle in handles {
        harness.server.release(handle, TIME).unwrap();
    }
    assert_eq!(harness.server.release(5, TIME), Err(Errno::BadDescriptor));
}

#[test]
fn the_ext2_root_survives_a_shutdown_clean() {
    let disk = SharedDevice::formatted(16 << 20);
    {
        let mut harness = Harness::on_ext2(vec![disk.clone()]);
        let request = root_request();
        harness.server.make_directory(&request, harness.root, b"/home", 0o755).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|value| (value % 251) as u8).collect();
        let file = harness.create("/home/big", &data);
        harness.server.release(file, TIME).unwrap();
        harness.server.symlink(&request, harness.root, b"big", b"/home/link").unwrap();
        harness.server.make_node(&request, harness.root, b"/home/fifo", 0o010600, 0).unwrap();
        assert_eq!(harness.contents("/home/link"), data);
        harness.server.shutdown(TIME).unwrap();
    }
    let superblock_state = u16::from_le_bytes([disk.bytes()[1024 + 58], disk.bytes()[1024 + 59]]);
    assert_eq!(superblock_state & 1, 1, "marked clean at shutdown");
    let mut filesystem = ext2::Filesystem::mount(disk.clone(), ext2::MountOptions::default()).unwrap();
    filesystem.verify_free_counts().unwrap();
    let inode = filesystem.resolve(b"/home/big").unwrap();
    assert_eq!(filesystem.metadata(inode).unwrap().size, 300_000);
}

#[test]
fn caches_give_memory_back() {
    let mut harness = Harness::on_ext2(vec![SharedDevice::formatted(16 << 20)]);
    let file = harness.create("/big", &vec![9u8; 2 << 20]);
    let before = harness.server.cached_bytes();
    assert!(before > 1 << 20, "{before}");
    assert!(harness.server.shrink_caches() > 0);
    assert!(harness.server.cached_bytes() < before);
    harness.server.seek(file, 0, whence::SET).unwrap();
    assert_eq!(harness.read_all(file).len(), 2 << 20);
}
