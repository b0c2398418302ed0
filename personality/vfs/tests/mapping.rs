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
    let mut harness = Harness::on_ext2(vec![SharedDevice::formatted(8 << 20)]);
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
