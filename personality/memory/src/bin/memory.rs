//! The memory server (docs/memory-server.md): registers `memory` and serves
//! every process's address space. Its manifest line gives it the host
//! port (for `task_set_memory_limit`); it finds the file server by name
//! when a file is first mapped.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../heap.rs"]
mod heap;

use libmach::abi::{
    vm_map_flags, KernReturn, PortName, TASK_CREATE_INHERIT_MEMORY, TASK_CREATE_INHERIT_SEND_RIGHTS, VM_FLAGS_FIXED,
    VM_INHERIT_COPY, VM_INHERIT_SHARE,
};
use libmach::message::OutOfLineData;
use libmach::trap::{vm_allocate, vm_deallocate, vm_inherit, vm_protect, vm_read, vm_write, MessageBuffer};
use libmach::{println, PortKernel, PortSet, ReceiveRight, SendRight, ServeOptions, SystemKernel};
use mach_bootstrap_core::names;
use mach_memory::{Files, MemoryServer, TaskMemory};
use memory_core::Errno;
use personality_interfaces::{io, memory};

libmach::entry!(main);

/// The VM traps on the processes' tasks.
struct KernelMemory {
    host: PortName,
}

impl TaskMemory for KernelMemory {
    fn allocate(&mut self, task: PortName, address: u64, size: u64) -> Result<(), KernReturn> {
        vm_allocate(task, address, size, VM_FLAGS_FIXED).map(|_| ())
    }
    fn map(
        &mut self,
        task: PortName,
        address: u64,
        size: u64,
        object: PortName,
        offset: u64,
        private: bool,
        protection: u32,
    ) -> Result<(), KernReturn> {
        let flags = vm_map_flags(false, private, protection);
        libmach::pager::vm_map_with(task, address, size, flags, object, offset).map(|_| ())
    }
    fn protect(&mut self, task: PortName, address: u64, size: u64, protection: u32) -> Result<(), KernReturn> {
        vm_protect(task, address, size, false, protection)
    }
    fn inherit(&mut self, task: PortName, address: u64, size: u64, share: bool) -> Result<(), KernReturn> {
        vm_inherit(task, address, size, if share { VM_INHERIT_SHARE } else { VM_INHERIT_COPY })
    }
    fn deallocate(&mut self, task: PortName, address: u64, size: u64) -> Result<(), KernReturn> {
        vm_deallocate(task, address, size)
    }
    fn write(&mut self, task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn> {
        vm_write(task, address, data)
    }
    fn read(&mut self, task: PortName, address: u64, buffer: &mut [u8]) -> Result<(), KernReturn> {
        let copy = vm_read(task, address, buffer.len() as u64)?;
        // The copy is new memory of ours, which the value unmaps when dropped.
        let data = OutOfLineData::from_received(&SystemKernel, copy, buffer.len() as u32);
        let bytes = data.bytes();
        if bytes.len() != buffer.len() {
            let _ = vm_deallocate(libmach::trap::task_self(), copy, buffer.len() as u64);
            return Err(KernReturn::InvalidAddress);
        }
        buffer.copy_from_slice(bytes);
        Ok(())
    }
    fn set_page_limit(&mut self, task: PortName, pages: Option<u64>) -> Result<(), KernReturn> {
        match pages {
            Some(pages) => libmach::trap::task_set_memory_limit(self.host, task, pages),
            // Unlimited: the kernel's default (half of the machine) stays.
            None => Ok(()),
        }
    }
    fn terminate(&mut self, task: PortName) -> Result<(), KernReturn> {
        libmach::trap::task_terminate(task)
    }
    fn fork_task(&mut self, parent: PortName) -> Result<PortName, KernReturn> {
        libmach::trap::task_create_with(parent, TASK_CREATE_INHERIT_MEMORY | TASK_CREATE_INHERIT_SEND_RIGHTS)
    }
}

/// The file server, reached through each open file's own port.
struct FileServerFiles {
    /// The one reply port of every call, kept between calls: a client
    /// made per call would allocate and destroy one (two traps, and the
    /// kernel's look at every waiter when a receive right goes) besides
    /// copying and releasing the file's right.
    reply: Option<ReceiveRight<SystemKernel>>,
}

fn io_error(error: libmach::CallError<io::Error>) -> Errno {
    match error {
        libmach::CallError::Interface(error) => Errno(error.code()),
        libmach::CallError::Rpc(_) => Errno::EBADF,
    }
}

impl FileServerFiles {
    /// Runs `call` with an io client calling `file` (the caller keeps the
    /// right: lent for the call, no reference taken or released) on the
    /// kept reply port (made on first use; a failed call's fresh one is
    /// kept instead).
    fn call<T>(
        &mut self,
        file: &SendRight<SystemKernel>,
        call: impl FnOnce(&mut io::Client<SystemKernel>) -> Result<T, libmach::CallError<io::Error>>,
    ) -> Result<T, Errno> {
        let reply = match self.reply.take() {
            Some(reply) => reply,
            None => ReceiveRight::from_name(&SystemKernel, SystemKernel.reply_port().map_err(|_| Errno::ENOMEM)?),
        };
        let lent = SendRight::from_name(&SystemKernel, file.name());
        let mut client = io::Client::with_reply_port(&SystemKernel, lent, reply);
        let result = call(&mut client);
        let (lent, reply) = client.into_parts();
        let _ = lent.into_name();
        self.reply = Some(reply);
        result.map_err(io_error)
    }
}

impl Files<SystemKernel> for FileServerFiles {
    fn access(&mut self, file: &SendRight<SystemKernel>) -> Result<(bool, bool), Errno> {
        const ACCESS_MODE: u32 = 3;
        let flags = self.call(file, |client| client.get_flags())?;
        Ok(match flags & ACCESS_MODE {
            0 => (true, false),
            1 => (false, true),
            _ => (true, true),
        })
    }
    fn map(&mut self, file: &SendRight<SystemKernel>, writable: bool) -> Result<(SendRight<SystemKernel>, u64), Errno> {
        let reply = self.call(file, |client| client.map(writable))?;
        Ok((reply.object, reply.object_size))
    }
    fn sync(
        &mut self,
        file: &SendRight<SystemKernel>,
        offset: u64,
        length: u64,
        invalidate: bool,
    ) -> Result<(), Errno> {
        self.call(file, |client| client.map_sync(offset, length, invalidate))
    }
}

fn main(bootstrap_port: u64) {
    let Some(host) = libmach::runtime::host_port() else {
        println!("memory: no host port (its manifest line must say host-port): not serving");
        return;
    };
    let started = (|| {
        let mut names =
            names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName))
                .map_err(|_| "no name service")?;
        let public = ReceiveRight::allocate(&SystemKernel).map_err(|_| "no port")?;
        names
            .register_name("memory", &public.make_send().map_err(|_| "no port")?)
            .map_err(|_| "cannot register `memory`")?;
        let set = PortSet::allocate(&SystemKernel).map_err(|_| "no port set")?;
        set.insert(&public).map_err(|_| "no port set")?;
        Ok::<_, &str>((public, set))
    })();
    let (public, set) = match started {
        Ok(ports) => ports,
        Err(why) => {
            println!("memory: {why}: not serving");
            return;
        }
    };
    let mut server = MemoryServer::new(
        SystemKernel,
        KernelMemory { host },
        FileServerFiles { reply: None },
        set.name(),
        public.name(),
    );
    let mut request = MessageBuffer::<{ memory::BUFFER_SIZE }>::new();
    let mut reply = MessageBuffer::<{ memory::BUFFER_SIZE }>::new();
    println!("memory: serving");
    let error = libmach::server::run_with(
        &SystemKernel,
        set.name(),
        ServeOptions { audit: true },
        &mut request.0,
        &mut reply.0,
        &mut |request, reply| {
            memory::dispatch(&mut server, &SystemKernel, request, reply).or_else(|| {
                libmach::notify::dispatch(&SystemKernel, request, |notification| server.notified(notification))
            })
        },
    );
    println!("memory: stopped: {error:?}");
}
