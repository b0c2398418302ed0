//! The process server (docs/process-server.md): registers `proc`, starts
//! init (pid 1) from the file server's disk and serves every process. Its
//! manifest line gives it the host port (task credentials) and the ports
//! of the power-off devices; the wall clock every process gets is the
//! bootstrap task's (`AT_MACH_BOOT_TIME`); its arguments are init's path
//! and init's arguments.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../heap.rs"]
mod heap;

use alloc::vec::Vec;
use libmach::abi::{Disposition, KernReturn, PortName, TaskCredential, EXC_MASK_ALL};
#[cfg(target_arch = "x86_64")]
use libmach::runtime::io_ports_granted;
use libmach::runtime::power_off_granted;
use libmach::trap::{
    clock_get_time, port_deallocate, port_destroy, port_extract_right, port_insert_right, task_basic_info,
    task_create_with, task_resume, task_self, task_set_credential, task_set_exception_port, task_suspend,
    task_terminate, thread_basic_info, thread_create, thread_resume, thread_self, thread_set_state, thread_set_tls,
    vm_write,
};
use libmach::{println, PortKernel, PortSet, ReceiveRight, SendRight, ServeOptions, SystemKernel};
use mach_bootstrap_core::names;
use mach_process::{
    right_copy_errno, Console, FileService, FileStatus, Power, ProcessServer, Registers, TaskInfo, Tasks,
};
use mach_vfs::server::device::RandomGenerator;
use personality_interfaces::{fs, io, memory, proc, random, tty};
use process_core::table::Pid;
use process_core::Errno;

libmach::entry!(main);

/// QEMU's isa-debug-exit, q35's ACPI PM1a control and reset control ports.
#[cfg(target_arch = "x86_64")]
const DEBUG_EXIT: u16 = 0xf4;
#[cfg(target_arch = "x86_64")]
const ACPI_CONTROL: u16 = 0x604;
#[cfg(target_arch = "x86_64")]
const RESET_CONTROL: u16 = 0xcf9;

/// Writes `value` to I/O port `port` (the power-off devices the manifest grants).
#[cfg(target_arch = "x86_64")]
fn port_write(port: u16, value: u16, wide: bool) {
    // SAFETY: the callers checked that the manifest grants these ports
    // (`io_ports_granted`), so `out` there is allowed; no memory is touched.
    unsafe {
        if wide {
            core::arch::asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack));
        } else {
            core::arch::asm!("out dx, al", in("dx") port, in("al") value as u8, options(nomem, nostack));
        }
    }
}

/// The wall clock at the kernel clock's zero, nanoseconds since the epoch:
/// the bootstrap task's one reading of the CMOS clock, which the file
/// server's time stamps share (docs/bootstrap.md).
fn boot_time() -> u64 {
    libmach::runtime::auxiliary(libmach::abi::AT_MACH_BOOT_TIME).unwrap_or_else(|| {
        println!("proc: no boot time from the bootstrap task: the wall clock starts at the epoch");
        0
    })
}

/// How long a scheduler tick is, in microseconds, as the kernel reports it
/// beside a thread's ticks (`ThreadBasicInfo::tick_nanoseconds`). (It once
/// spun on `thread_basic_info` for 6 to 9 ticks to measure it: 60 % of the
/// boot's instructions.) Without it, CPU times in `ps` are unknown: said
/// once, and counted at the default 100 Hz.
fn tick_microseconds() -> u64 {
    let thread = thread_self();
    let reported = thread_basic_info(thread).map(|info| info.tick_nanoseconds);
    let _ = port_deallocate(task_self(), thread);
    match reported {
        Ok(nanoseconds) if nanoseconds >= 1000 => u64::from(nanoseconds) / 1000,
        other => {
            println!("proc: the kernel reports no tick length ({other:?}): CPU times assume 100 Hz");
            10_000
        }
    }
}

/// The kernel calls on the processes' tasks.
struct KernelTasks {
    host: PortName,
    boot_time: u64,
    tick_microseconds: u64,
    random: Option<random::Client<SystemKernel>>,
    /// AT_RANDOM's source: ChaCha20 keyed from `random` (the file server's
    /// /dev/urandom generator), with fast key erasure.
    generator: RandomGenerator,
    draws: u64,
}

/// How many AT_RANDOM draws one key from the entropy device serves.
const RESEED_AFTER: u64 = 1024;

impl KernelTasks {
    /// Mixes 32 bytes from the `random` server into the generator's key
    /// (the clock if there is none: weak, said once at start).
    fn reseed(&mut self) {
        if let Some(client) = self.random.as_mut() {
            if let Ok(data) = client.read_random(32) {
                if data.as_slice().len() == 32 {
                    self.generator.mix(data.as_slice());
                    return;
                }
            }
        }
        self.generator.mix(&clock_get_time().unwrap_or(0).to_le_bytes());
    }
}

impl Tasks<SystemKernel> for KernelTasks {
    fn now(&self) -> u64 {
        clock_get_time().unwrap_or(0) / 1_000_000
    }
    fn boot_time(&self) -> u64 {
        self.boot_time
    }
    fn create(&mut self) -> Result<SendRight<SystemKernel>, KernReturn> {
        Ok(SendRight::from_name(&SystemKernel, task_create_with(task_self(), 0)?))
    }
    fn terminate(&mut self, task: PortName) -> Result<(), KernReturn> {
        task_terminate(task)
    }
    fn suspend(&mut self, task: PortName) -> Result<(), KernReturn> {
        task_suspend(task)
    }
    fn resume(&mut self, task: PortName) -> Result<(), KernReturn> {
        task_resume(task)
    }
    fn set_credential(&mut self, task: PortName, credential: &TaskCredential) -> Result<(), KernReturn> {
        task_set_credential(self.host, task, credential)
    }
    fn set_exception_port(&mut self, task: PortName, port: PortName) -> Result<(), KernReturn> {
        // The kernel copies a send right the caller names: make one, give
        // it, drop ours.
        port_insert_right(task_self(), port, port, Disposition::MakeSend as u32)?;
        let set = task_set_exception_port(task, EXC_MASK_ALL, port);
        let _ = port_deallocate(task_self(), port);
        set
    }
    fn create_thread(&mut self, task: PortName) -> Result<SendRight<SystemKernel>, KernReturn> {
        Ok(SendRight::from_name(&SystemKernel, thread_create(task)?))
    }
    fn start_thread(&mut self, thread: PortName, registers: &Registers) -> Result<(), KernReturn> {
        let (flavor, words) = thread_state(registers);
        thread_set_state(thread, flavor, &words)?;
        thread_set_tls(thread, registers.thread_pointer)?;
        thread_resume(thread)
    }
    fn insert_right(
        &mut self,
        task: PortName,
        name: PortName,
        right: PortName,
        disposition: Disposition,
    ) -> Result<(), KernReturn> {
        port_insert_right(task, name, right, disposition as u32)
    }
    fn replace_right(
        &mut self,
        task: PortName,
        name: PortName,
        right: PortName,
        disposition: Disposition,
    ) -> Result<(), KernReturn> {
        match port_destroy(task, name) {
            Ok(()) | Err(KernReturn::InvalidName) => {}
            Err(error) => return Err(error),
        }
        port_insert_right(task, name, right, disposition as u32)
    }
    fn copy_right(&mut self, task: PortName, name: PortName) -> Result<SendRight<SystemKernel>, KernReturn> {
        let (right, _) = port_extract_right(task, name, Disposition::CopySend as u32)?;
        Ok(SendRight::from_name(&SystemKernel, right))
    }
    fn write(&mut self, task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn> {
        vm_write(task, address, data)
    }
    fn info(&mut self, task: PortName) -> Result<TaskInfo, KernReturn> {
        let info = task_basic_info(task)?;
        Ok(TaskInfo {
            threads: info.thread_count,
            resident_pages: info.resident_pages as u64,
            cpu_microseconds: info.cpu_ticks * self.tick_microseconds,
            suspended: info.suspend_count > 0,
        })
    }
    fn set_name(&mut self, task: PortName, name: &str) -> Result<(), KernReturn> {
        libmach::trap::task_set_name(task, name)
    }
    fn thread_waiting(&mut self, thread: PortName) -> Result<bool, KernReturn> {
        Ok(thread_basic_info(thread)?.run_state == libmach::abi::TH_STATE_WAITING)
    }
    fn land_memory_error(&mut self, thread: PortName) -> bool {
        let Ok(mut state) = libmach::thread::get_state(thread) else { return false };
        personality_interfaces::memory_error_landing::land(&mut state)
            && libmach::thread::set_state(thread, &state).is_ok()
    }
    fn random(&mut self) -> [u8; 16] {
        // A keystream keyed from the entropy device, fetched again every
        // RESEED_AFTER draws: an exec never waits for the device.
        if self.draws.is_multiple_of(RESEED_AFTER) {
            self.reseed();
        }
        self.draws += 1;
        let mut bytes = [0u8; 16];
        self.generator.fill(&mut bytes);
        bytes
    }
    #[cfg(target_arch = "aarch64")]
    fn can_power(&mut self, action: Power) -> bool {
        // The kernel's host_power_off (PSCI's SYSTEM_OFF) with the host
        // port, where the manifest grants power-off (the host port alone
        // would let it: a system inside a test machine holds one too); the
        // board has no restart the kernel makes.
        matches!(action, Power::Off | Power::Halt) && power_off_granted()
    }
    #[cfg(target_arch = "aarch64")]
    fn power(&mut self, action: Power, status: i32) {
        if self.can_power(action) {
            if let Err(error) = libmach::trap::host_power_off(self.host, status as u8) {
                println!("proc: host_power_off refused ({error:?})");
            }
        }
        println!("proc: the machine did not go off");
    }
    #[cfg(target_arch = "x86_64")]
    fn can_power(&mut self, action: Power) -> bool {
        match action {
            Power::Off | Power::Halt => {
                io_ports_granted(DEBUG_EXIT, 1) || io_ports_granted(ACPI_CONTROL, 2) || power_off_granted()
            }
            Power::Restart => io_ports_granted(RESET_CONTROL, 1),
        }
    }
    #[cfg(target_arch = "x86_64")]
    fn power(&mut self, action: Power, status: i32) {
        // Only the ports the manifest grants (an ungranted one faults).
        match action {
            Power::Off | Power::Halt => {
                // QEMU's isa-debug-exit (exit status (value << 1) | 1), then ACPI (q35's PM1a control).
                if io_ports_granted(DEBUG_EXIT, 1) {
                    port_write(DEBUG_EXIT, status as u16 & 0xff, false);
                }
                if io_ports_granted(ACPI_CONTROL, 2) {
                    port_write(ACPI_CONTROL, 0x2000, true);
                }
                // Or the kernel, which writes the same registers.
                if power_off_granted() {
                    if let Err(error) = libmach::trap::host_power_off(self.host, status as u8) {
                        println!("proc: host_power_off refused ({error:?})");
                    }
                }
            }
            Power::Restart => {
                if io_ports_granted(RESET_CONTROL, 1) {
                    port_write(RESET_CONTROL, 0x06, false);
                }
            }
        }
        println!("proc: the machine did not go off");
    }
}

/// `registers` as this architecture's thread state: its flavor and words.
#[cfg(target_arch = "x86_64")]
fn thread_state(registers: &Registers) -> (u32, [u32; libmach::abi::X86_THREAD_STATE64_COUNT as usize]) {
    let [rbx, rbp, r12, r13, r14, r15, ..] = registers.saved;
    let state = libmach::abi::X86ThreadState64 {
        rip: registers.pc,
        rsp: registers.sp,
        rdi: registers.arguments[0],
        rsi: registers.arguments[1],
        rbx,
        rbp,
        r12,
        r13,
        r14,
        r15,
        rflags: registers.flags,
        ..Default::default()
    };
    (libmach::abi::X86_THREAD_STATE64, state.to_words())
}

/// `registers` as this architecture's thread state: its flavor and words
/// (x0 and x1 the arguments, x19..x28, fp and lr the saved registers).
#[cfg(target_arch = "aarch64")]
fn thread_state(registers: &Registers) -> (u32, [u32; libmach::abi::ARM_THREAD_STATE64_COUNT as usize]) {
    let mut state = libmach::abi::ArmThreadState64 {
        pc: registers.pc,
        sp: registers.sp,
        fp: registers.saved[10],
        lr: registers.saved[11],
        cpsr: registers.flags as u32,
        ..Default::default()
    };
    state.x[..2].copy_from_slice(&registers.arguments);
    state.x[19..29].copy_from_slice(&registers.saved[..10]);
    (libmach::abi::ARM_THREAD_STATE64, state.to_words())
}

/// The file server, through its root directory's port and each open file's.
struct FileServer {
    root: SendRight<SystemKernel>,
    /// The one reply port of every call to the file server, kept between
    /// calls: a client made per call would allocate and destroy one (two
    /// traps, and the kernel's look at every waiter when a receive right
    /// goes) besides copying and releasing the right it calls.
    reply: Option<ReceiveRight<SystemKernel>>,
}

fn io_failure(error: libmach::CallError<io::Error>) -> Errno {
    match error {
        libmach::CallError::Interface(error) => Errno(error.code()),
        libmach::CallError::Rpc(_) => Errno::EIO,
    }
}

fn fs_failure(error: libmach::CallError<fs::Error>) -> Errno {
    match error {
        libmach::CallError::Interface(error) => Errno(error.code()),
        libmach::CallError::Rpc(_) => Errno::EIO,
    }
}

/// Ends a client whose server right was lent: forgets the right (the
/// lender keeps its reference) and gives back the reply port.
macro_rules! lent_parts {
    ($client:expr) => {{
        let (lent, reply) = $client.into_parts();
        let _ = lent.into_name();
        reply
    }};
}

impl FileServer {
    /// The kept reply port (made on first use).
    fn take_reply(&mut self) -> Result<ReceiveRight<SystemKernel>, Errno> {
        match self.reply.take() {
            Some(reply) => Ok(reply),
            None => SystemKernel
                .reply_port()
                .map(|name| ReceiveRight::from_name(&SystemKernel, name))
                .map_err(|_| Errno::ENOMEM),
        }
    }

    /// Runs `call` with an io client calling `server` (a right the caller
    /// keeps, lent for the call: no reference taken or released) on the
    /// kept reply port (a failed call's fresh one is kept instead).
    fn io_call<T>(
        &mut self,
        server: PortName,
        call: impl FnOnce(&mut io::Client<SystemKernel>) -> T,
    ) -> Result<T, Errno> {
        let reply = self.take_reply()?;
        let mut client = io::Client::with_reply_port(&SystemKernel, SendRight::from_name(&SystemKernel, server), reply);
        let result = call(&mut client);
        self.reply = Some(lent_parts!(client));
        Ok(result)
    }

    /// `io_call` for an fs client.
    fn fs_call<T>(
        &mut self,
        server: PortName,
        call: impl FnOnce(&mut fs::Client<SystemKernel>) -> T,
    ) -> Result<T, Errno> {
        let reply = self.take_reply()?;
        let mut client = fs::Client::with_reply_port(&SystemKernel, SendRight::from_name(&SystemKernel, server), reply);
        let result = call(&mut client);
        self.reply = Some(lent_parts!(client));
        Ok(result)
    }
}

impl FileService<SystemKernel> for FileServer {
    fn stat(&mut self, file: &SendRight<SystemKernel>) -> Result<FileStatus, Errno> {
        let status = self.io_call(file.name(), |client| client.stat())?.map_err(io_failure)?;
        Ok(FileStatus { mode: status.mode, owner: status.uid, group: status.gid, size: status.file_size.max(0) as u64 })
    }
    fn read_at(&mut self, file: &SendRight<SystemKernel>, offset: u64, buffer: &mut [u8]) -> Result<usize, Errno> {
        self.io_call(file.name(), |client| {
            let mut done = 0;
            while done < buffer.len() {
                let count = (buffer.len() - done).min(8192) as u32;
                let data = client.read_at(offset + done as u64, count).map_err(io_failure)?;
                let bytes = data.as_slice();
                if bytes.is_empty() {
                    break;
                }
                buffer[done..done + bytes.len()].copy_from_slice(bytes);
                done += bytes.len();
            }
            Ok::<usize, Errno>(done)
        })?
    }
    fn open(
        &mut self,
        directory: &SendRight<SystemKernel>,
        path: &[u8],
        flags: u32,
    ) -> Result<SendRight<SystemKernel>, Errno> {
        let reply = self.fs_call(directory.name(), |client| client.open(path, flags, 0))?.map_err(fs_failure)?;
        Ok(reply.file)
    }
    fn root(&mut self) -> Result<SendRight<SystemKernel>, Errno> {
        self.root.try_clone().map_err(right_copy_errno)
    }
    fn process_exited(&mut self, pid: Pid) {
        let _ = self.fs_call(self.root.name(), |client| client.process_exited(pid));
    }
    fn shutdown(&mut self) -> Result<(), Errno> {
        self.fs_call(self.root.name(), |client| client.shutdown())?.map_err(fs_failure)
    }
}

/// The console server (`tty.defs` on the port registered as `console`),
/// looked up when first needed: a system without one still runs.
struct ConsoleServer {
    names: names::Client<SystemKernel>,
    tty: Option<tty::Client<SystemKernel>>,
}

impl Console for ConsoleServer {
    fn session_ended(&mut self, session: Pid) {
        if self.tty.is_none() {
            self.tty =
                self.names.lookup_wait("console", 0).ok().and_then(|port| tty::Client::new(&SystemKernel, port).ok());
        }
        match self.tty.as_mut() {
            Some(client) => {
                if client.session_ended(session).is_err() {
                    // A restarted console registers a new port.
                    self.tty = None;
                }
            }
            None => println!("proc: session {session} ended; no console server to tell"),
        }
    }
}

fn main(bootstrap_port: u64) {
    let Some(host) = libmach::runtime::host_port() else {
        println!("proc: no host port (its manifest line must say host-port): not serving");
        return;
    };
    let mut names =
        match names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName)) {
            Ok(names) => names,
            Err(error) => {
                println!("proc: no name service ({error:?}): not serving");
                return;
            }
        };
    let looked_up = |names: &mut names::Client, name: &str, wait: u32| names.lookup_wait(name, wait).ok();
    let (Some(root), Some(memory_port)) =
        (looked_up(&mut names, "fs", 60_000), looked_up(&mut names, "memory", 60_000))
    else {
        println!("proc: the file server or the memory server is not there: not serving");
        return;
    };
    let random = looked_up(&mut names, "random", 0).and_then(|port| random::Client::new(&SystemKernel, port).ok());
    if random.is_none() {
        println!("proc: no `random` server: AT_RANDOM comes from the clock (weak)");
    }
    let started = (|| {
        let public = ReceiveRight::allocate(&SystemKernel).map_err(|_| "no port")?;
        let notify = ReceiveRight::allocate(&SystemKernel).map_err(|_| "no port")?;
        let set = PortSet::allocate(&SystemKernel).map_err(|_| "no port set")?;
        set.insert(&public).map_err(|_| "no port set")?;
        set.insert(&notify).map_err(|_| "no port set")?;
        names
            .register_name("proc", &public.make_send().map_err(|_| "no port")?)
            .map_err(|_| "cannot register `proc`")?;
        Ok::<_, &str>((public, notify, set))
    })();
    let (public, notify, set) = match started {
        Ok(ports) => ports,
        Err(why) => {
            println!("proc: {why}: not serving");
            return;
        }
    };
    let memory = match memory::Client::new(&SystemKernel, memory_port) {
        Ok(client) => client,
        Err(error) => {
            println!("proc: no client for the memory server ({error:?}): not serving");
            return;
        }
    };
    // A second reference to the bootstrap port for the console's lookups.
    if let Err(error) =
        libmach::trap::port_mod_refs(task_self(), bootstrap_port as PortName, libmach::abi::PortRight::Send, 1)
    {
        println!("proc: no second reference to the bootstrap port ({error:?}): not serving");
        return;
    }
    let console_names =
        match names::Client::new(&SystemKernel, SendRight::from_name(&SystemKernel, bootstrap_port as PortName)) {
            Ok(client) => client,
            Err(error) => {
                println!("proc: no name service ({error:?}): not serving");
                return;
            }
        };
    let tasks = KernelTasks {
        host,
        boot_time: boot_time(),
        tick_microseconds: tick_microseconds(),
        random,
        generator: RandomGenerator::new(&clock_get_time().unwrap_or(0).to_le_bytes()),
        draws: 0,
    };
    let mut server = ProcessServer::new(
        SystemKernel,
        tasks,
        memory,
        FileServer { root, reply: None },
        ConsoleServer { names: console_names, tty: None },
        set.name(),
        public.name(),
        notify.name(),
    );

    // init: the first argument is its path, the rest its arguments.
    let arguments: Vec<&[u8]> = libmach::runtime::arguments().skip(1).collect();
    let path: &[u8] = arguments.first().copied().unwrap_or(b"/sbin/init");
    let rest = arguments.get(1..).unwrap_or(&[]);
    match server.start_init(path, rest, Some(bootstrap_port as PortName)) {
        Ok(()) => println!("proc: serving; init started from {}", core::str::from_utf8(path).unwrap_or("?")),
        Err(errno) => println!(
            "proc: cannot start init from {} (errno {}): serving without it",
            core::str::from_utf8(path).unwrap_or("?"),
            errno.0
        ),
    }
    let mut request = alloc::vec![0u8; proc::BUFFER_SIZE];
    let mut reply = alloc::vec![0u8; proc::BUFFER_SIZE];
    // Each reply goes out with the next receive, in one trap.
    let mut serving = libmach::server::ServerLoop::new(&mut request, &mut reply);
    while !server.stopped() {
        let timeout = server.next_deadline().map(|deadline| {
            let now = clock_get_time().unwrap_or(0) / 1_000_000;
            deadline.saturating_sub(now).min(u32::MAX as u64) as u32
        });
        let handled = serving.handle_one(
            &SystemKernel,
            set.name(),
            ServeOptions { audit: true },
            timeout,
            &mut |request, reply| server.handle(request, reply),
        );
        match handled {
            Ok(_)
            | Err(libmach::abi::MachMsgReturn::ReceiveTimedOut)
            | Err(libmach::abi::MachMsgReturn::ReceiveInterrupted) => {}
            Err(error) => {
                println!("proc: receiving failed for good ({error:?}): stopping");
                break;
            }
        }
        // Only timers and queued signals need the tick (and its clock read).
        if server.has_work_between_requests() {
            let _ = serving.flush(&SystemKernel);
            server.tick();
        }
    }
    let _ = serving.flush(&SystemKernel);
    drop((public, notify, set));
    println!("proc: stopped");
}
