//! Mapped files: the server as pager, against a model of the kernel's
//! object cache (pages the kernel holds, touched by "processes" here).

mod support;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use mach_vfs::server::mapping::{MemoryObjects, PageAnswer, PAGE_SIZE};
use mach_vfs::server::records::open_flags;
use mach_vfs::Errno;
use support::*;

/// What the kernel holds: per object, its cached pages and whether each is
/// write-locked.
#[derive(Default)]
struct Cache {
    objects: BTreeMap<u64, BTreeMap<u64, (Vec<u8>, bool)>>,
    next: u64,
    destroyed: Vec<u64>,
    /// Status pages: (change count, size) as last published.
    statuses: BTreeMap<u64, (u64, u64)>,
    /// Every (status page, change count) published, in order.
    published: Vec<(u64, u64)>,
    flushes: usize,
}

#[derive(Clone, Default)]
struct ModelKernel(Rc<RefCell<Cache>>);

impl MemoryObjects for ModelKernel {
    fn create(&mut self, _size: u64) -> Result<u64, Errno> {
        let mut cache = self.0.borrow_mut();
        cache.next += 1;
        let object = cache.next;
        cache.objects.insert(object, BTreeMap::new());
        Ok(object)
    }
    fn return_pages(&mut self, object: u64, offset: u64, buffer: &mut [u8]) -> Result<(), Errno> {
        let cache = self.0.borrow();
        let pages = cache.objects.get(&object).ok_or(Errno::Stale)?;
        for (page, (contents, _)) in pages.range(offset..offset + buffer.len() as u64) {
            let within = (page - offset) as usize;
            buffer[within..within + PAGE_SIZE as usize].copy_from_slice(contents);
        }
        Ok(())
    }
    fn flush_pages(&mut self, object: u64, offset: u64, size: u64) -> Result<(), Errno> {
        let mut cache = self.0.borrow_mut();
        cache.flushes += 1;
        let pages = cache.objects.get_mut(&object).ok_or(Errno::Stale)?;
        let doomed: Vec<u64> = pages.range(offset..offset + size).map(|(page, _)| *page).collect();
        for page in doomed {
            pages.remove(&page);
        }
        Ok(())
    }
    fn destroy(&mut self, object: u64) {
        let mut cache = self.0.borrow_mut();
        cache.objects.remove(&object);
        cache.destroyed.push(object);
    }
    fn create_status(&mut self) -> Result<u64, Errno> {
        let mut cache = self.0.borrow_mut();
        cache.next += 1;
        let page = cache.next;
        cache.statuses.insert(page, (0, 0));
        Ok(page)
    }
    fn publish_status(&mut self, status: u64, change_count: u64, size: u64) {
        let mut cache = self.0.borrow_mut();
        let entry = cache.statuses.get_mut(&status).expect("published to a live status page");
        *entry = (change_count, size);
        cache.published.push((status, change_count));
    }
    fn destroy_status(&mut self, status: u64) {
        let mut cache = self.0.borrow_mut();
        assert!(cache.statuses.remove(&status).is_some(), "a status page is destroyed once");
        cache.destroyed.push(status);
    }
}

/// A process touching byte `offset` of `object` (reading it), as the
/// kernel resolves it: from the cache, else by asking the pager.
fn touch(harness: &mut Harness, kernel: &ModelKernel, object: u64, offset: u64) -> Result<u8, Errno> {
    let page = offset / PAGE_SIZE * PAGE_SIZE;
    let cached = kernel.0.borrow().objects.get(&object).and_then(|pages| pages.get(&page).cloned());
    let contents = match cached {
        Some((contents, _)) => contents,
        None => match harness.server.page_request(object, page) {
            PageAnswer::Data { contents, write_locked } => {
                kernel
                    .0
                    .borrow_mut()
                    .objects
                    .get_mut(&object)
                    .ok_or(Errno::Stale)?
                    .insert(page, (contents.clone(), write_locked));
                contents
            }
            PageAnswer::Error(error) => return Err(error),
        },
    };
    Ok(contents[(offset - page) as usize])
}

/// A process writing byte `offset` of `object` through a shared mapping.
fn poke(harness: &mut Harness, kernel: &ModelKernel, object: u64, offset: u64, value: u8) -> Result<(), Errno> {
    touch(harness, kernel, object, offset)?;
    let page = offset / PAGE_SIZE * PAGE_SIZE;
    let locked = kernel.0.borrow().objects[&object][&page].1;
    if locked {
        harness.server.page_unlock(object, page)?;
    }
    let mut cache = kernel.0.borrow_mut();
    let entry = cache.objects.get_mut(&object).unwrap().get_mut(&page).unwrap();
    entry.1 = false;
    entry.0[(offset - page) as usize] = value;
    Ok(())
}

fn harness_with_objects() -> (Harness, ModelKernel) {
    harness_with_objects_on(8 << 20)
}

fn harness_with_objects_on(disk_bytes: usize) -> (Harness, ModelKernel) {
    let mut harness = Harness::on_ext2(vec![SharedDevice::formatted(disk_bytes)]);
    let kernel = ModelKernel::default();
    harness.server.set_memory_objects(Box::new(kernel.clone()));
    (harness, kernel)
}

#[test]
fn mappings_share_one_object_and_read_the_file() {
    let (mut harness, kernel) = harness_with_objects();
    let mut data = vec![0u8; 3 * PAGE_SIZE as usize + 10];
    for (index, byte) in data.iter_mut().enumerate() {
        *byte = (index % 253) as u8;
    }
    let file = harness.create("/mapped", &data);
    let (object, size) = harness.server.map(file, false).unwrap();
    assert_eq!(size, 1 << 30);
    let other = harness.open("/mapped", open_flags::READ_ONLY).unwrap();
    assert_eq!(harness.server.map(other, false).unwrap().0, object, "one object per file");
    assert_eq!(touch(&mut harness, &kernel, object, 5000), Ok(data[5000]));
    assert_eq!(touch(&mut harness, &kernel, object, 3 * PAGE_SIZE + 9), Ok(data[3 * 4096 + 9]));
    assert_eq!(touch(&mut harness, &kernel, object, 3 * PAGE_SIZE + 11), Ok(0), "zeros past the end");
    // A read-only object refuses writes.
    assert_eq!(poke(&mut harness, &kernel, object, 0, 1), Err(Errno::AccessDenied));
    assert_eq!(harness.server.page_request(object, 3), PageAnswer::Error(Errno::InvalidArgument));
    assert_eq!(harness.server.page_request(999, 0), PageAnswer::Error(Errno::Stale));
}

#[test]
fn shared_writes_reach_the_file_and_writes_reach_the_mapping() {
    let (mut harness, kernel) = harness_with_objects();
    let file = harness.create("/shared", &vec![b'a'; 2 * PAGE_SIZE as usize]);
    let reader = harness.open("/shared", open_flags::READ_ONLY).unwrap();
    assert_eq!(harness.server.map(reader, true), Err(Errno::AccessDenied), "writable needs a writable open");
    let (object, _) = harness.server.map(file, true).unwrap();
    poke(&mut harness, &kernel, object, 10, b'Z').unwrap();
    // read() sees the mapped write (taken back before the server reads).
    let mut buffer = [0u8; 12];
    assert_eq!(harness.server.read_at(&root_request(), reader, 0, &mut buffer), Ok(12));
    assert_eq!(&buffer[9..12], b"aZa");
    // write() reaches a mapping: the cached page goes and comes back new.
    harness.server.write_at(&root_request(), file, 4096 + 1, b"XY").unwrap();
    assert_eq!(touch(&mut harness, &kernel, object, 4097), Ok(b'X'));
    assert_eq!(touch(&mut harness, &kernel, object, 10), Ok(b'Z'), "the other page kept its write");
    // msync: to the disk.
    poke(&mut harness, &kernel, object, 20, b'Q').unwrap();
    harness.server.map_sync(file, 0, 4096, false, TIME).unwrap();
    assert_eq!(&harness.contents("/shared")[20..21], b"Q");
    // A shrinking truncate drops the pages past the end.
    harness.server.truncate(&root_request(), file, 100).unwrap();
    assert_eq!(touch(&mut harness, &kernel, object, 4097), Ok(0));
    // Mapped bytes past the end of file never grow it.
    poke(&mut harness, &kernel, object, 200, b'!').unwrap();
    harness.server.sync_all(TIME).unwrap();
    assert_eq!(harness.contents("/shared").len(), 100);
}

#[test]
fn an_object_lives_while_its_file_does() {
    let (mut harness, kernel) = harness_with_objects();
    let file = harness.create("/short-lived", b"data");
    let (object, _) = harness.server.map(file, false).unwrap();
    harness.server.remove(&root_request(), harness.root, b"/short-lived", false).unwrap();
    assert_eq!(touch(&mut harness, &kernel, object, 0), Ok(b'd'), "unlinked but open: still there");
    harness.server.release(file, TIME).unwrap();
    assert_eq!(kernel.0.borrow().destroyed, [object]);
    assert_eq!(harness.server.mapping_count(), 0);
    assert_eq!(harness.server.page_request(object, 0), PageAnswer::Error(Errno::Stale));
    // Only regular files map.
    let (reader, writer) = (harness.handle(), harness.handle());
    harness.server.pipe(reader, writer, 0).unwrap();
    assert_eq!(harness.server.map(reader, false), Err(Errno::NoSuchDevice));
    let directory = harness.open("/", open_flags::READ_ONLY).unwrap();
    assert_eq!(harness.server.map(directory, false), Err(Errno::NoSuchDevice));
}

#[test]
fn mapped_writes_survive_a_shutdown() {
    let disk = SharedDevice::formatted(8 << 20);
    let mut harness = Harness::on_ext2(vec![disk.clone()]);
    let kernel = ModelKernel::default();
    harness.server.set_memory_objects(Box::new(kernel.clone()));
    let file = harness.create("/persist", &[0u8; 8192]);
    let (object, _) = harness.server.map(file, true).unwrap();
    poke(&mut harness, &kernel, object, 8000, 77).unwrap();
    harness.server.shutdown(TIME).unwrap();
    drop(harness);
    let mut filesystem = ext2::Filesystem::mount(disk, ext2::MountOptions::default()).unwrap();
    let inode = filesystem.resolve(b"/persist").unwrap();
    let mut byte = [0u8; 1];
    filesystem.read(inode, 8000, &mut byte).unwrap();
    assert_eq!(byte, [77]);
}

/// The status page `(change count, size)` of `status` now.
fn status_of(kernel: &ModelKernel, status: u64) -> (u64, u64) {
    kernel.0.borrow().statuses[&status]
}

#[test]
fn a_reader_gets_the_object_its_status_page_and_its_offset() {
    let (mut harness, kernel) = harness_with_objects();
    let data: Vec<u8> = (0..10_000u32).map(|index| (index % 251) as u8).collect();
    harness.create("/read", &data);
    let reader = harness.open("/read", open_flags::READ_ONLY).unwrap();
    let mut buffer = [0u8; 100];
    assert_eq!(harness.server.read_at(&root_request(), reader, 0, &mut buffer), Ok(100));
    harness.server.seek(reader, 123, 0).unwrap();
    let (object, status, object_size, offset) = harness.server.map_for_reading(reader).unwrap();
    assert_eq!(offset, 123, "the open file's offset");
    assert_eq!(object_size, 1 << 30);
    assert_eq!(harness.server.map(reader, false).unwrap().0, object, "the file's one object");
    assert_eq!(status_of(&kernel, status), (0, 10_000), "even count, the size");
    assert_eq!(touch(&mut harness, &kernel, object, 5000), Ok(data[5000]));
    // Asked again (after settling): the same page.
    assert_eq!(harness.server.map_for_reading(reader).unwrap().1, status);
    assert_eq!(harness.server.status_count(), 1);
    // Only regular files open for reading.
    let writer = harness.open("/read", open_flags::WRITE_ONLY).unwrap();
    assert_eq!(harness.server.map_for_reading(writer), Err(Errno::AccessDenied));
    let directory = harness.open("/", open_flags::READ_ONLY).unwrap();
    assert_eq!(harness.server.map_for_reading(directory), Err(Errno::NoSuchDevice));
    let (pipe_reader, pipe_writer) = (harness.handle(), harness.handle());
    harness.server.pipe(pipe_reader, pipe_writer, 0).unwrap();
    assert_eq!(harness.server.map_for_reading(pipe_reader), Err(Errno::NoSuchDevice));
    assert_eq!(harness.server.status_count(), 1, "refusals make no page");
    // The page goes with the open file.
    harness.server.release(reader, TIME).unwrap();
    assert_eq!(harness.server.status_count(), 0);
    assert!(!kernel.0.borrow().statuses.contains_key(&status));
}

#[test]
fn every_change_of_the_file_moves_every_readers_count_through_odd_to_even() {
    let (mut harness, kernel) = harness_with_objects();
    let writer = harness.create("/changing", &vec![b'a'; 8192]);
    let first = harness.open("/changing", open_flags::READ_ONLY).unwrap();
    let second = harness.open("/changing", open_flags::READ_ONLY).unwrap();
    let (object, status_first, _, _) = harness.server.map_for_reading(first).unwrap();
    let (_, status_second, _, _) = harness.server.map_for_reading(second).unwrap();
    assert_ne!(status_first, status_second, "a page per open file");
    assert_eq!(touch(&mut harness, &kernel, object, 4096), Ok(b'a'));
    let published_before = kernel.0.borrow().published.len();

    // A write: odd while it is made (and the cached page flushed), then
    // even with the new size; the mapping reads the new bytes.
    harness.server.write_at(&root_request(), writer, 4096, b"new").unwrap();
    let counts: Vec<(u64, u64)> = kernel.0.borrow().published[published_before..].to_vec();
    assert_eq!(counts, [(status_first, 1), (status_second, 1), (status_first, 2), (status_second, 2)]);
    assert_eq!(status_of(&kernel, status_first), (2, 8192));
    assert_eq!(touch(&mut harness, &kernel, object, 4096), Ok(b'n'));

    // A growing write publishes the size.
    harness.server.write_at(&root_request(), writer, 10_000, b"end").unwrap();
    assert_eq!(status_of(&kernel, status_second), (4, 10_003));
    // ftruncate, truncate by path, open with O_TRUNC.
    harness.server.truncate(&root_request(), writer, 100).unwrap();
    assert_eq!(status_of(&kernel, status_first), (6, 100));
    assert_eq!(touch(&mut harness, &kernel, object, 4096), Ok(0), "the page past the end went");
    harness.server.truncate_path(&root_request(), harness.root, b"/changing", 50).unwrap();
    assert_eq!(status_of(&kernel, status_first), (8, 50));
    let truncating = harness.open("/changing", open_flags::WRITE_ONLY | open_flags::TRUNCATE).unwrap();
    assert_eq!(status_of(&kernel, status_first), (10, 0));
    // O_APPEND writes too.
    harness.server.release(truncating, TIME).unwrap();
    let appender = harness.open("/changing", open_flags::WRITE_ONLY | open_flags::APPEND).unwrap();
    harness.server.write(&root_request(), appender, b"appended").unwrap();
    assert_eq!(status_of(&kernel, status_second), (12, 8));
    // A failed change still ends even: a write to a read-only open file
    // fails before anything, a write past the file system's limit after.
    assert_eq!(harness.server.write_at(&root_request(), first, 0, b"x"), Err(Errno::BadDescriptor));
    assert_eq!(status_of(&kernel, status_first).0 % 2, 0);
    // Another file's changes leave these alone.
    let other = harness.create("/other", b"other");
    harness.server.write_at(&root_request(), other, 0, b"OTHER").unwrap();
    assert_eq!(status_of(&kernel, status_first).0, 12);
}

#[test]
fn an_open_with_o_trunc_drops_the_mapped_pages() {
    // Regression: O_TRUNC truncated the file without flushing the object's
    // cached pages, so a mapping kept reading the old bytes.
    let (mut harness, kernel) = harness_with_objects();
    let file = harness.create("/trunc", &vec![b'z'; 4096]);
    let (object, _) = harness.server.map(file, false).unwrap();
    assert_eq!(touch(&mut harness, &kernel, object, 10), Ok(b'z'));
    harness.open("/trunc", open_flags::WRITE_ONLY | open_flags::TRUNCATE).unwrap();
    assert_eq!(touch(&mut harness, &kernel, object, 10), Ok(0));
}

#[test]
fn clean_pages_past_the_bound_go_back_and_come_again() {
    use mach_vfs::server::mapping::RESIDENT_PAGES_MAX;
    let (mut harness, kernel) = harness_with_objects_on(40 << 20);
    let pages = RESIDENT_PAGES_MAX as u64 / 2 + 10;
    let first = harness.create("/first", &vec![1u8; (pages * PAGE_SIZE) as usize]);
    let second = harness.create("/second", &vec![2u8; (pages * PAGE_SIZE) as usize]);
    let (object_first, _) = harness.server.map(first, false).unwrap();
    let (object_second, _) = harness.server.map(second, false).unwrap();
    for page in 0..pages {
        assert_eq!(touch(&mut harness, &kernel, object_first, page * PAGE_SIZE), Ok(1));
    }
    assert_eq!(kernel.0.borrow().flushes, 0);
    for page in 0..pages {
        assert_eq!(touch(&mut harness, &kernel, object_second, page * PAGE_SIZE), Ok(2));
    }
    let held: usize = kernel.0.borrow().objects.values().map(BTreeMap::len).sum();
    assert!(held <= RESIDENT_PAGES_MAX, "{held} pages held");
    // Flushed pages come back from the file; a write still reaches them.
    assert_eq!(touch(&mut harness, &kernel, object_first, 0), Ok(1));
    harness.server.write_at(&root_request(), first, 0, &[9]).unwrap();
    assert_eq!(touch(&mut harness, &kernel, object_first, 0), Ok(9));
    let last = (pages - 1) * PAGE_SIZE;
    harness.server.write_at(&root_request(), second, last, &[8]).unwrap();
    assert_eq!(touch(&mut harness, &kernel, object_second, last), Ok(8), "the page being supplied is still tracked");
}

#[test]
fn writable_objects_keep_their_pages_past_the_bound() {
    use mach_vfs::server::mapping::RESIDENT_PAGES_MAX;
    let (mut harness, kernel) = harness_with_objects_on(40 << 20);
    let pages = RESIDENT_PAGES_MAX as u64 + 10;
    let file = harness.create("/writable", &vec![0u8; (pages * PAGE_SIZE) as usize]);
    let (object, _) = harness.server.map(file, true).unwrap();
    poke(&mut harness, &kernel, object, 0, 7).unwrap();
    for page in 1..pages {
        assert_eq!(touch(&mut harness, &kernel, object, page * PAGE_SIZE), Ok(0));
    }
    // Flushing a writable object's pages could lose a write made between
    // taking them back and dropping them: they stay.
    assert_eq!(kernel.0.borrow().flushes, 0);
    assert_eq!(kernel.0.borrow().objects[&object][&0].0[0], 7, "the written page is still the kernel's");
}

#[test]
fn the_mount_list_changing_moves_its_readers_and_drops_its_mapped_pages() {
    // Regression: /proc/mounts changes with every mount without a write;
    // a reader through a mapping kept reading the old list (coreutils-mach
    // "mount table" listed a read-only mount as rw).
    let (mut harness, kernel) = harness_with_objects();
    let request = root_request();
    let reader = harness.open("/proc/mounts", open_flags::READ_ONLY).unwrap();
    let (object, status, _, _) = harness.server.map_for_reading(reader).unwrap();
    let before = harness.contents("/proc/mounts");
    assert_eq!(touch(&mut harness, &kernel, object, 0), Ok(before[0]));
    let (count, size) = status_of(&kernel, status);
    assert_eq!((count, size), (0, before.len() as u64));
    harness.server.make_directory(&request, harness.root, b"/mnt", 0o755).unwrap();
    harness.server.mount(&request, harness.root, b"none", b"/mnt", b"tmpfs", true).unwrap();
    let after = harness.contents("/proc/mounts");
    assert!(after.ends_with(b"none /mnt tmpfs ro 0 0\n"));
    assert_eq!(status_of(&kernel, status), (2, after.len() as u64));
    assert!(kernel.0.borrow().objects[&object].is_empty(), "the old list's page went");
    let last = after.len() as u64 - 4;
    assert_eq!(touch(&mut harness, &kernel, object, last), Ok(after[last as usize]));
}
