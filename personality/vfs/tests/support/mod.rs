//! Shared helpers for the server tests: memory disks that tests can still
//! read after the server took them, and a harness that hands out handles.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use ext2::{BlockDevice, DeviceError, FormatOptions, MemoryDevice};
use mach_vfs::node::{Creation, Timestamp};
use mach_vfs::server::records::open_flags;
use mach_vfs::server::{Answer, Disks, FileServer, Handle, Opened, Request, ServerOptions};
use mach_vfs::tmpfs::MemoryFileSystem;
use mach_vfs::{Credential, Errno};

/// A memory device several owners share (the test keeps one to inspect).
#[derive(Clone)]
pub struct SharedDevice(pub Rc<RefCell<MemoryDevice>>);

impl SharedDevice {
    pub fn new(size: usize) -> Self {
        SharedDevice(Rc::new(RefCell::new(MemoryDevice::new(size))))
    }

    /// A device holding a fresh ext2 file system.
    pub fn formatted(size: usize) -> Self {
        let device = SharedDevice::new(size);
        let options = FormatOptions { block_size: 1024, time: 1_000_000, ..FormatOptions::default() };
        ext2::format(&mut *device.0.borrow_mut(), &options).expect("format");
        device
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.borrow().bytes().to_vec()
    }
}

impl BlockDevice for SharedDevice {
    fn size(&self) -> u64 {
        self.0.borrow().size()
    }
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.0.borrow_mut().read_at(offset, buffer)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        self.0.borrow_mut().write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

/// The disks a test server sees.
pub struct MemoryDisks(pub Vec<SharedDevice>);

impl Disks for MemoryDisks {
    fn open(&mut self, index: u32) -> Result<Box<dyn BlockDevice>, Errno> {
        match self.0.get(index as usize) {
            Some(device) => Ok(Box::new(device.clone())),
            None => Err(Errno::NoSuchDeviceOrAddress),
        }
    }
}

pub const TIME: Timestamp = Timestamp { seconds: 1_700_000_000, nanoseconds: 0 };

pub fn request_as(uid: u32, gid: u32, pid: u32) -> Request {
    Request { credential: Credential::new(pid, uid, gid, &[]), task: 1000 + pid, time: TIME }
}

pub fn root_request() -> Request {
    request_as(0, 0, 1)
}

pub struct Harness {
    pub server: FileServer,
    pub root: Handle,
    next: Handle,
}

impl Harness {
    /// A server on a tmpfs root with `/dev` and `/tmp` and these disks.
    pub fn on_tmpfs(disks: Vec<SharedDevice>) -> Self {
        let root =
            MemoryFileSystem::new(64 << 20, 100_000, &Creation { permissions: 0o755, uid: 0, gid: 0, time: TIME });
        let count = disks.len() as u32;
        let server = FileServer::new(
            Box::new(root),
            b"tmpfs",
            1,
            Box::new(MemoryDisks(disks)),
            b"seed",
            ServerOptions::default(),
        );
        Harness::started(server, count)
    }

    /// A server whose root is ext2 on disk 0.
    pub fn on_ext2(disks: Vec<SharedDevice>) -> Self {
        let count = disks.len() as u32;
        let server =
            FileServer::with_root_disk(Box::new(MemoryDisks(disks)), 0, b"seed", ServerOptions::default(), TIME)
                .expect("mount the root disk");
        Harness::started(server, count)
    }

    fn started(mut server: FileServer, disks: u32) -> Self {
        server.mount_standard(disks, TIME).expect("mount /dev and /tmp");
        server.install_root(1).expect("root handle");
        Harness { server, root: 1, next: 100 }
    }

    pub fn handle(&mut self) -> Handle {
        self.next += 1;
        self.next
    }

    /// Opens from the root directory; panics if the open waits.
    pub fn open_as(&mut self, request: &Request, path: &str, flags: u32, mode: u32) -> Result<Handle, Errno> {
        let handle = self.handle();
        match self.server.open(request, self.root, path.as_bytes(), flags, mode, handle)? {
            Answer::Now(Opened::Local { .. }) => Ok(handle),
            Answer::Now(Opened::Remote { .. }) => panic!("{path} is another server's"),
            Answer::Later(_) => panic!("open of {path} waits"),
        }
    }

    pub fn open(&mut self, path: &str, flags: u32) -> Result<Handle, Errno> {
        self.open_as(&root_request(), path, flags, 0o644)
    }

    pub fn create(&mut self, path: &str, contents: &[u8]) -> Handle {
        let handle =
            self.open(path, open_flags::CREATE | open_flags::READ_WRITE | open_flags::TRUNCATE).expect("create");
        if !contents.is_empty() {
            assert_eq!(self.server.write(&root_request(), handle, contents).unwrap().now(), Some(contents.len()));
        }
        handle
    }

    pub fn read_all(&mut self, handle: Handle) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buffer = vec![0u8; 8192];
        loop {
            let count = self.server.read(&root_request(), handle, &mut buffer).unwrap().now().expect("not a pipe");
            if count == 0 {
                return out;
            }
            out.extend_from_slice(&buffer[..count]);
        }
    }

    pub fn contents(&mut self, path: &str) -> Vec<u8> {
        let handle = self.open(path, open_flags::READ_ONLY).expect("open for reading");
        let data = self.read_all(handle);
        self.server.release(handle, TIME).unwrap();
        data
    }
}
