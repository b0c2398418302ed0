//! The file server task (boot module `fs`, registered as `fs`).
//!
//! Start-up: a heap; the wall clock from the CMOS real-time clock (ports
//! 0x70/0x71, which the boot manifest grants); `/dev/urandom`'s key from
//! the `random` server; the root file system: ext2 on the `block` driver's
//! first disk (a tmpfs if it cannot be mounted, said loudly); `/dev` and
//! `/tmp`; then the root directory's port registered as `fs`, and the
//! loop: `io.defs`, `fs.defs`, the kernel's notifications and pager
//! requests, and the server's own timer ticks, all on one port set,
//! received with the audit trailer (each sender's credential).
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("fs: the file server runs on Mach_R (build it for x86_64-unknown-none)");
    std::process::exit(1);
}

#[cfg(target_os = "none")]
libmach::entry!(server::main);

#[cfg(target_os = "none")]
mod server {
    extern crate alloc;

    use alloc::boxed::Box;
    use alloc::format;

    use ext2::BlockDevice;
    use libmach::abi::{
        KernReturn, PortName, MEMORY_OBJECT_FLUSH, MEMORY_OBJECT_RETURN_ALL, VM_PROT_NONE, VM_PROT_WRITE,
    };
    use libmach::server::ServeOptions;
    use libmach::trap::{thread_sleep, MessageBuffer};
    use libmach::{PortSet, ReceiveRight, SendRight, SystemKernel};
    use mach_bootstrap_core::names;
    use mach_fs::configuration::Configuration;
    use mach_fs::disk::{random_seed, DriverDisk, ServiceLookup};
    use mach_fs::{device, fs, io, timer, Clock, FileService, KernelPager, RemoteDevices};
    use mach_vfs::clock::WallClock;
    use mach_vfs::node::{Creation, Timestamp};
    use mach_vfs::server::mapping::MemoryObjects;
    use mach_vfs::server::{Disks, FileServer, ServerOptions};
    use mach_vfs::tmpfs::MemoryFileSystem;
    use mach_vfs::Errno;

    fn log(text: &str) {
        libmach::print!("{text}");
    }

    mod heap {
        use buddy_system_allocator::LockedHeap;
        use libmach::abi::VM_FLAGS_ANYWHERE;
        use libmach::trap::{task_self, vm_allocate};

        /// Address space for the heap; pages are backed when first touched,
        /// so only what the server uses costs memory.
        const HEAP_SIZE: u64 = 256 << 20;

        #[global_allocator]
        static HEAP: LockedHeap<32> = LockedHeap::empty();

        pub fn init() -> bool {
            match vm_allocate(task_self(), 0, HEAP_SIZE, VM_FLAGS_ANYWHERE) {
                Ok(start) => {
                    // SAFETY: `vm_allocate` just gave this task `HEAP_SIZE`
                    // bytes of zeroed read-write memory at `start`, used by
                    // nothing else; the heap is initialised once, here.
                    unsafe { HEAP.lock().init(start as usize, HEAP_SIZE as usize) };
                    true
                }
                Err(_) => false,
            }
        }
    }

    fn uptime() -> u64 {
        libmach::trap::clock_get_time().unwrap_or(0)
    }

    struct RealTimeClock(WallClock);

    impl Clock for RealTimeClock {
        fn now(&self) -> Timestamp {
            self.0.at(uptime())
        }
    }

    /// How much longer than its own wait a name-service call may take
    /// before the file server gives it up.
    const NAME_SERVICE_SLACK_MILLISECONDS: u32 = 5000;

    /// The name service, asked again (with waits) for servers that restart.
    struct NameService {
        client: names::Client,
    }

    impl NameService {
        /// Looks `name` up, waiting up to `milliseconds` for it to be
        /// registered (again: a server restarting).
        ///
        /// The call itself is bounded too (the wait plus
        /// [`NAME_SERVICE_SLACK_MILLISECONDS`]): the bootstrap task is
        /// single-threaded, and while it asks this server to write
        /// everything back (a critical program ended) it answers no
        /// lookup; a lookup waiting for ever there (init's first open of
        /// /dev/console looks up `console`) held both until the bootstrap
        /// task's 30 s timeout, and the disks were not written back.
        fn find(&mut self, name: &str, milliseconds: u32) -> Result<SendRight, Errno> {
            self.client.set_timeout(Some(milliseconds.saturating_add(NAME_SERVICE_SLACK_MILLISECONDS)));
            let found = if milliseconds == 0 {
                self.client.lookup(name).map_err(|_| ())
            } else {
                self.client.lookup_wait(name, milliseconds).map_err(|_| ())
            };
            found.map_err(|()| Errno::NoSuchDevice)
        }
    }

    struct SharedNames(*mut NameService);

    impl SharedNames {
        fn names(&mut self) -> &mut NameService {
            // SAFETY: the pointer is to the `NameService` that `main` leaks
            // (it lives for the task's life); the server is single-threaded
            // (the timer thread never touches it), so no two `&mut` to it
            // are used at once: each borrow ends before the call returns.
            unsafe { &mut *self.0 }
        }
    }

    impl ServiceLookup<SystemKernel> for SharedNames {
        fn lookup(&mut self, name: &str) -> Result<SendRight, Errno> {
            // A restarting driver registers again within a few seconds.
            self.names().find(name, 10_000)
        }
    }

    /// The block driver's disks: `block` for disk 0, `blockN` for disk N.
    struct DriverDisks(*mut NameService);

    fn disk_service(index: u32) -> alloc::string::String {
        if index == 0 {
            alloc::string::String::from("block")
        } else {
            format!("block{index}")
        }
    }

    /// The disk index of a block service name (`block` 0, `blockN` N).
    fn disk_index(service: &str) -> Option<u32> {
        match service.strip_prefix("block")? {
            "" => Some(0),
            digits => digits.parse().ok(),
        }
    }

    impl Disks for DriverDisks {
        fn open(&mut self, index: u32) -> Result<Box<dyn BlockDevice>, Errno> {
            let disk = DriverDisk::open(&SystemKernel, &disk_service(index), Box::new(SharedNames(self.0)))?;
            Ok(Box::new(disk))
        }
    }

    /// Devices of other servers, opened through `device.defs`.
    struct OtherServers(*mut NameService);

    impl RemoteDevices<SystemKernel> for OtherServers {
        fn open(
            &mut self,
            service: &str,
            device: u64,
            flags: u32,
            opener: &device::Opener,
        ) -> Result<SendRight, Errno> {
            let server = SharedNames(self.0).names().find(service, 2000)?;
            let mut client = device::Client::new(&SystemKernel, server).map_err(|_| Errno::OutOfMemory)?;
            // Never wait long for another server: the whole file server waits.
            client.set_timeout(Some(5000));
            client.open(device, flags, opener).map_err(|error| match error {
                libmach::CallError::Interface(error) => Errno::from_code(error.code()).unwrap_or(Errno::InputOutput),
                libmach::CallError::Rpc(_) => Errno::NoSuchDeviceOrAddress,
            })
        }
    }

    /// The kernel's pager calls for the server's memory objects.
    struct SystemPager {
        pager_port: PortName,
        /// Status pages: the kernel object's name → where the server maps it.
        statuses: alloc::collections::BTreeMap<u64, u64>,
    }

    impl KernelPager for SystemPager {
        fn supply(&mut self, object: PortName, offset: u64, data: &[u8], write_locked: bool) -> Result<(), KernReturn> {
            let lock = if write_locked { VM_PROT_WRITE } else { VM_PROT_NONE };
            libmach::pager::data_supply(object, offset, data, lock)
        }
        fn refuse(&mut self, object: PortName, offset: u64, size: u64) -> Result<(), KernReturn> {
            libmach::pager::data_error(object, offset, size, KernReturn::Failure)
        }
        fn unlock(&mut self, object: PortName, offset: u64, size: u64) -> Result<(), KernReturn> {
            libmach::pager::lock_request(object, offset, size, VM_PROT_NONE, 0, None)
        }
    }

    impl MemoryObjects for SystemPager {
        fn create(&mut self, size: u64) -> Result<u64, Errno> {
            libmach::pager::memory_object_create(self.pager_port, size).map(u64::from).map_err(|_| Errno::OutOfMemory)
        }
        fn return_pages(&mut self, object: u64, offset: u64, buffer: &mut [u8]) -> Result<(), Errno> {
            let size = buffer.len() as u64;
            libmach::pager::lock_request(
                object as PortName,
                offset,
                size,
                VM_PROT_NONE,
                MEMORY_OBJECT_RETURN_ALL,
                Some(buffer),
            )
            .map_err(|_| Errno::InputOutput)
        }
        fn flush_pages(&mut self, object: u64, offset: u64, size: u64) -> Result<(), Errno> {
            libmach::pager::lock_request(object as PortName, offset, size, VM_PROT_NONE, MEMORY_OBJECT_FLUSH, None)
                .map_err(|_| Errno::InputOutput)
        }
        fn destroy(&mut self, object: u64) {
            let _ = libmach::pager::memory_object_destroy(object as PortName);
            let _ = libmach::trap::port_deallocate(libmach::trap::task_self(), object as PortName);
        }
        fn create_status(&mut self) -> Result<u64, Errno> {
            let page = mach_vfs::server::mapping::PAGE_SIZE;
            let object = libmach::pager::memory_object_create(0, page).map_err(|_| Errno::OutOfMemory)?;
            let task = libmach::trap::task_self();
            match libmach::pager::vm_map(task, page, object, 0) {
                Ok(address) => {
                    self.statuses.insert(u64::from(object), address);
                    Ok(u64::from(object))
                }
                Err(_) => {
                    let _ = libmach::trap::port_deallocate(task, object);
                    Err(Errno::OutOfMemory)
                }
            }
        }
        fn publish_status(&mut self, status: u64, change_count: u64, size: u64) {
            use core::sync::atomic::{AtomicU64, Ordering};
            use personality_interfaces::status_page;
            let Some(&address) = self.statuses.get(&status) else { return };
            // SAFETY: `address` is the page `create_status` mapped read-write
            // for this object and keeps mapped until `destroy_status`; both
            // fields are 8-byte aligned inside it. Clients map it read-only,
            // so only this thread writes it; atomics because they read it
            // while it is written.
            let (count, length) = unsafe {
                (
                    &*((address as usize + status_page::CHANGE_COUNT) as *const AtomicU64),
                    &*((address as usize + status_page::SIZE) as *const AtomicU64),
                )
            };
            length.store(size, Ordering::Relaxed);
            count.store(change_count, Ordering::Release);
        }
        fn destroy_status(&mut self, status: u64) {
            let task = libmach::trap::task_self();
            if let Some(address) = self.statuses.remove(&status) {
                let _ = libmach::trap::vm_deallocate(task, address, mach_vfs::server::mapping::PAGE_SIZE);
            }
            let _ = libmach::trap::port_deallocate(task, status as PortName);
        }
    }

    /// The timer thread: a tick a second to the port whose send right it
    /// was given (its argument).
    fn ticker(tick_port: usize) {
        let Ok(mut client) =
            timer::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, tick_port as PortName))
        else {
            return;
        };
        loop {
            let _ = thread_sleep(1000);
            if client.tick().is_err() {
                return;
            }
        }
    }

    /// The root file system: ext2 on the configured disk, else a tmpfs
    /// (said loudly).
    fn root_file_system(
        names: *mut NameService,
        configuration: &Configuration,
        seed: &[u8],
        time: Timestamp,
    ) -> FileServer {
        let options = ServerOptions {
            cache_bytes: configuration.cache_bytes as usize,
            temporary_capacity: configuration.temporary_size,
        };
        let tmpfs_root = |reason: &str| {
            log(&format!("fs: {reason}; / is an empty tmpfs\n"));
            let root = MemoryFileSystem::new(
                configuration.temporary_size,
                65_536,
                &Creation { permissions: 0o755, uid: 0, gid: 0, time },
            );
            FileServer::new(Box::new(root), b"tmpfs", 0x1b, Box::new(DriverDisks(names)), seed, options)
        };
        let Some(service) = configuration.root.as_deref() else {
            return tmpfs_root("no root disk asked for (--root none)");
        };
        let Some(index) = disk_index(service) else {
            return tmpfs_root(&format!("--root {service} is not a block service"));
        };
        match FileServer::with_root_disk(Box::new(DriverDisks(names)), index, seed, options, time) {
            Ok(server) => server,
            Err(error) => tmpfs_root(&format!("cannot mount the root disk ({service}): {error}")),
        }
    }

    pub fn main(bootstrap_port: u64) {
        if !heap::init() {
            log("fs: no memory for a heap\n");
            return;
        }
        let kernel = SystemKernel;
        let names = match names::Client::new(&kernel, SendRight::from_name(&kernel, bootstrap_port as PortName)) {
            Ok(client) => Box::leak(Box::new(NameService { client })) as *mut NameService,
            Err(_) => {
                log("fs: no name service\n");
                return;
            }
        };
        let configuration = match Configuration::parse(libmach::runtime::arguments().skip(1)) {
            Ok(configuration) => configuration,
            Err(error) => {
                log(&format!("fs: bad arguments: {}; using the defaults\n", error.0));
                Configuration::default()
            }
        };
        // The wall clock every program shares: the bootstrap task's one
        // reading of the CMOS clock (docs/bootstrap.md).
        let boot_time = libmach::runtime::auxiliary(libmach::abi::AT_MACH_BOOT_TIME).unwrap_or_else(|| {
            log("fs: no boot time from the bootstrap task; time starts at 1970\n");
            0
        });
        let clock = RealTimeClock(WallClock::from_boot_time(boot_time));
        let now = clock.now();
        let seed = match SharedNames(names).names().find("random", 5000).and_then(|server| random_seed(&kernel, server))
        {
            Ok(seed) => seed,
            Err(error) => {
                log(&format!("fs: no random server ({error}); /dev/urandom is keyed from the clock only\n"));
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&now.seconds.to_le_bytes());
                seed[8..16].copy_from_slice(&uptime().to_le_bytes());
                seed
            }
        };
        let mut core = root_file_system(names, &configuration, &seed, now);
        let disk_count = if SharedNames(names).names().find("block1", 0).is_ok() { 2 } else { 1 };
        if let Err(error) = core.mount_standard(disk_count, now) {
            log(&format!("fs: cannot mount /dev and /tmp: {error}\n"));
        }
        let (Ok(set), Ok(pager_port), Ok(tick_port)) =
            (PortSet::allocate(&kernel), ReceiveRight::allocate(&kernel), ReceiveRight::allocate(&kernel))
        else {
            log("fs: no ports\n");
            return;
        };
        if set.insert(&pager_port).is_err() || set.insert(&tick_port).is_err() {
            log("fs: cannot build the port set\n");
            return;
        }
        core.set_memory_objects(Box::new(SystemPager { pager_port: pager_port.name(), statuses: Default::default() }));
        let mut service = FileService::new(&kernel, core, set.name(), Box::new(clock), Box::new(OtherServers(names)));
        service.set_tick_port(tick_port.name());
        service.set_cache_budget(configuration.cache_budget as usize);
        let root = match service.root_port() {
            Ok(root) => root,
            Err(error) => {
                log(&format!("fs: no root port: {error}\n"));
                return;
            }
        };
        if let Err(error) = SharedNames(names).names().client.register_name("fs", &root) {
            log(&format!("fs: cannot register as fs: {error:?}\n"));
            return;
        }
        if let Ok(send) = tick_port.make_send() {
            if libmach::thread::spawn(ticker, send.into_name() as usize, 16 * 1024).is_err() {
                log("fs: no timer thread: no periodic write-back\n");
            }
        }
        log("fs: serving\n");
        let mut pager = SystemPager { pager_port: pager_port.name(), statuses: Default::default() };
        let mut request = Box::new(MessageBuffer::<{ BUFFER }>::new());
        let mut reply = Box::new(MessageBuffer::<{ BUFFER }>::new());
        let error = libmach::server::run_with(
            &kernel,
            set.name(),
            ServeOptions { audit: true },
            &mut request.0,
            &mut reply.0,
            &mut |request, reply| {
                let dispatch = service
                    .serve_read_now(&kernel, request, reply)
                    .or_else(|| io::dispatch(&mut service, &kernel, request, reply))
                    .or_else(|| fs::dispatch(&mut service, &kernel, request, reply))
                    .or_else(|| service.pager_message(request, &mut pager))
                    .or_else(|| timer::dispatch(&mut service, &kernel, request, reply))
                    .or_else(|| {
                        libmach::notify::dispatch(&kernel, request, |notification| service.notified(notification))
                    });
                service.deliver_ready();
                dispatch
            },
        );
        log(&format!("fs: receiving failed ({error:?}); writing everything back\n"));
        let _ = service.shut_down();
    }

    /// The receive buffers: the largest request or reply of the interfaces.
    const BUFFER: usize = max(max(io::BUFFER_SIZE, fs::BUFFER_SIZE), 4096);

    const fn max(a: usize, b: usize) -> usize {
        if a > b {
            a
        } else {
            b
        }
    }
}
