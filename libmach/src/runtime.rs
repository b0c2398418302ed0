//! Program entry and panic handling for Rust programs without minilibc.
//!
//! A program is started one of two ways, and `libmach::entry!(main)` runs
//! it the same way under both:
//!
//! - as a **boot module**, by the bootstrap task (docs/bootstrap.md): the
//!   first argument register holds its bootstrap port's name, the second
//!   its start block (`argc`, `argv`, an empty environment, the auxiliary
//!   vector);
//! - as a **process**, by the process server's exec or spawn (msh running
//!   a command from /bin; docs/process-server.md): the same two registers,
//!   the start block then with an environment, the descriptor table and
//!   the process's ports (`AT_MACH_PROC`, `AT_MACH_FDS`...).
//!
//! `_start` keeps the start block ([`start`]; a shell's foreground job
//! takes the terminal there, as posix_spawn asked), calls `main` with the
//! bootstrap port (`AT_MACH_BOOTSTRAP` when the start block has it, else
//! the first argument: a task the kernel started without a start block),
//! and ends with what `main` returned ([`exit`]): a process tells the
//! process server (`proc.exit`), so its parent sees the status (msh's
//! `$?`); a boot module parks its thread (there is no exit trap: a task
//! ends when its task port is terminated, by itself or by its parent, and
//! the bootstrap task restarts a server that ends).
//!
//! Output: `print!`/`println!` go to the process's standard output
//! (descriptor 1) when there is one, `eprint!`/`eprintln!` and a panic's
//! message to its standard error (descriptor 2); otherwise (a boot module)
//! to the kernel log, as `log!`/`logln!` always do (crate::print).
//!
//! [`arguments`], [`environment`], [`descriptors`], [`auxiliary`] and
//! [`host_port`] read the start block; a task started without one has no
//! arguments.
//!
//! The panic handler is only for the bare-metal target, so a crate with
//! this feature on still builds its library and host tests with `std`.

pub use crate::process::WriteFailure;
use core::sync::atomic::{AtomicU64, Ordering};
use mach_abi::{
    PortName, AT_MACH_BOOTSTRAP, AT_MACH_FOREGROUND, AT_MACH_HOST, AT_MACH_PROC, AT_MACH_SIGNAL_MASK, AT_NULL,
};

/// Defines the program entry point: `libmach::entry!(main)` with
/// `fn main(bootstrap_port: u64)` returning `()` (status 0) or an `i32`
/// exit status (see [`ExitStatus`]).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        extern "C" fn _start(argument: u64, start_block: u64) -> ! {
            let bootstrap_port = $crate::runtime::start(argument, start_block);
            $crate::runtime::exit($crate::runtime::ExitStatus::status($main(bootstrap_port)))
        }
    };
}

/// What `main` may return: its exit status.
pub trait ExitStatus {
    /// The status the parent's `wait` sees (its low 8 bits).
    fn status(self) -> i32;
}

impl ExitStatus for () {
    fn status(self) -> i32 {
        0
    }
}

impl ExitStatus for i32 {
    fn status(self) -> i32 {
        self
    }
}

/// Called by `entry!` with the two argument registers: keeps the start
/// block and returns the bootstrap port's name.
#[doc(hidden)]
pub fn start(argument: u64, start_block: u64) -> u64 {
    set_start_block(start_block);
    if let (Some(process), Some(number)) = (process_port(), auxiliary(AT_MACH_FOREGROUND)) {
        let terminal = descriptors().find(|descriptor| i64::from(descriptor.number) == number as i64);
        if let Some(terminal) = terminal.filter(|terminal| terminal.name != 0) {
            let blocked = auxiliary(AT_MACH_SIGNAL_MASK).unwrap_or(0);
            crate::process::take_foreground(&crate::SystemKernel, process, terminal.name as PortName, blocked);
        } else {
            crate::process::started(&crate::SystemKernel, process);
        }
    }
    auxiliary(AT_MACH_BOOTSTRAP).unwrap_or(argument)
}

/// Whether the process server started this program (its start block names
/// a process port), rather than the bootstrap task or the kernel.
pub fn is_process() -> bool {
    process_port().is_some()
}

/// The name of our send right to our process port at the process server.
fn process_port() -> Option<PortName> {
    auxiliary(AT_MACH_PROC).filter(|&name| name != 0).map(|name| name as PortName)
}

/// Ends the program with `status`: a process asks the process server to
/// end it (its parent's `wait` sees the status); a boot module parks its
/// thread (the bootstrap task sees a server that returned as one still
/// running; there is no exit trap).
pub fn exit(status: i32) -> ! {
    if let Some(process) = process_port() {
        crate::process::exit(&crate::SystemKernel, process, status);
        // The process server is gone: end the task ourselves.
        let _ = crate::trap::task_terminate(crate::trap::task_self());
    }
    park()
}

/// Writes `text` to descriptor `number` of this process, keeping the
/// descriptor.
pub fn write_descriptor(number: i32, text: &[u8]) -> Result<(), WriteFailure> {
    let descriptor = descriptors().find(|descriptor| descriptor.number == number);
    let port = descriptor.ok_or(WriteFailure::NoDescriptor)?.name;
    if port == 0 {
        return Err(WriteFailure::NoDescriptor);
    }
    crate::process::write_all(&crate::SystemKernel, port as PortName, text)
}

/// The start block's address (0: none): the bootstrap task's, or the
/// process server's (which has an environment, docs/process-server.md).
static START_BLOCK: AtomicU64 = AtomicU64::new(0);

/// Most arguments read: a process's whole argument list fits (ARG_MAX is
/// 256 KiB of strings, so fewer than this many pointers).
const ARGUMENTS_MAX: u64 = 1 << 18;
/// Most bytes read of one argument.
const ARGUMENT_LENGTH_MAX: usize = 4096;
/// Most auxiliary vector entries read.
const AUXILIARY_MAX: u64 = 64;

/// Called by `entry!` with the second argument register.
#[doc(hidden)]
pub fn set_start_block(address: u64) {
    if address != 0 && address.is_multiple_of(8) {
        START_BLOCK.store(address, Ordering::Relaxed);
    }
}

/// The word at `index` of the start block.
fn word(index: u64) -> Option<u64> {
    let block = START_BLOCK.load(Ordering::Relaxed);
    if block == 0 {
        return None;
    }
    // SAFETY: `set_start_block` kept the address of the start block the
    // bootstrap task (or the process server) wrote at the top of our
    // stack, above where `_start`'s frame begins, so it stays intact for
    // the task's life; the callers only read within its layout (argc,
    // argv + NULL, envp up to its NULL, auxv pairs up to AT_NULL), each
    // index bounded.
    Some(unsafe { ((block + index * 8) as *const u64).read() })
}

/// How many arguments the program has (`argc`; 0 without a start block).
pub fn argument_count() -> usize {
    word(0).map_or(0, |count| count.min(ARGUMENTS_MAX) as usize)
}

/// Argument `index` (`argv[index]`; `argv[0]` is the module's name), as bytes.
pub fn argument(index: usize) -> Option<&'static [u8]> {
    if index >= argument_count() {
        return None;
    }
    let address = word(1 + index as u64)?;
    if address == 0 {
        return None;
    }
    Some(string_at(address))
}

/// The program's arguments, as bytes.
pub fn arguments() -> impl Iterator<Item = &'static [u8]> {
    (0..argument_count()).filter_map(argument)
}

/// Most environment pointers skipped to find the auxiliary vector.
const ENVIRONMENT_MAX: u64 = 65_536;

/// The value of auxiliary vector entry `key` (`mach_abi::AT_*`).
pub fn auxiliary(key: u64) -> Option<u64> {
    let count = word(0)?;
    // argc, argv[count], NULL, envp... NULL, then the pairs. The bootstrap
    // task gives an empty environment; the process server a real one.
    let environment = 1 + count + 1;
    let length = (0..ENVIRONMENT_MAX).find(|&index| word(environment + index) == Some(0))?;
    let start = environment + length + 1;
    for pair in 0..AUXILIARY_MAX {
        let entry = word(start + pair * 2)?;
        if entry == AT_NULL {
            return None;
        }
        if entry == key {
            return word(start + pair * 2 + 1);
        }
    }
    None
}

/// The environment (`envp`), as bytes: empty for a program the bootstrap
/// task started, the process's for one the process server started.
pub fn environment() -> impl Iterator<Item = &'static [u8]> {
    let start = 1 + word(0).unwrap_or(0) + 1;
    (0..ENVIRONMENT_MAX).map_while(move |index| word(start + index).filter(|&address| address != 0)).map(string_at)
}

/// A NUL-terminated string of the start block, at most
/// `ARGUMENT_LENGTH_MAX` bytes.
fn string_at(address: u64) -> &'static [u8] {
    // SAFETY: the start block's writer put a NUL-terminated string at each
    // argv and envp pointer inside the block (see `word`); we read at most
    // ARGUMENT_LENGTH_MAX bytes up to the NUL.
    let length = (0..ARGUMENT_LENGTH_MAX)
        .find(|&offset| unsafe { ((address as usize + offset) as *const u8).read() } == 0)
        .unwrap_or(ARGUMENT_LENGTH_MAX);
    // SAFETY: those `length` bytes were just read one by one, and the block
    // is never written again.
    unsafe { core::slice::from_raw_parts(address as *const u8, length) }
}

/// The descriptor table the process server gave (`AT_MACH_FDS`,
/// `AT_MACH_FD_COUNT`; docs/process-server.md): empty for a program the
/// bootstrap task started.
pub fn descriptors() -> impl Iterator<Item = mach_abi::ProcessDescriptor> {
    let table = auxiliary(mach_abi::AT_MACH_FDS).unwrap_or(0);
    let count =
        if table == 0 || !table.is_multiple_of(4) { 0 } else { auxiliary(mach_abi::AT_MACH_FD_COUNT).unwrap_or(0) };
    (0..count.min(DESCRIPTORS_MAX)).map(move |index| {
        let record = table + index * core::mem::size_of::<mach_abi::ProcessDescriptor>() as u64;
        // SAFETY: the process server wrote `count` records of this type at
        // `table`, inside the start block at the top of our stack, which
        // stays intact for the task's life (see `word`); `table` is 4-byte
        // aligned, as the record's fields need.
        unsafe { (record as *const mach_abi::ProcessDescriptor).read() }
    })
}

/// Most descriptor records read.
const DESCRIPTORS_MAX: u64 = 65_536;

/// The name of our send right to the privileged host port, if the boot
/// manifest gave us one (`host-port`).
pub fn host_port() -> Option<PortName> {
    auxiliary(AT_MACH_HOST).map(|name| name as PortName)
}

/// The I/O port ranges the boot manifest grants us (`io-ports=`), as
/// `(first, count)`: the ports `in`/`out` may touch without faulting.
pub fn io_port_ranges() -> impl Iterator<Item = (u16, u32)> {
    auxiliary_values(mach_abi::AT_MACH_IO_PORTS).map(mach_abi::io_port_range_of)
}

/// Whether the boot manifest grants us `power-off`: the machine's power
/// is ours to cut (with the host port, `host_power_off`). Holding the host
/// port alone does not make it so.
pub fn power_off_granted() -> bool {
    auxiliary(mach_abi::AT_MACH_POWER_OFF) == Some(1)
}

/// The devices of the board the bootstrap task tells us about (with the
/// host port only; aarch64's, from the device tree; none on x86_64).
pub fn devices() -> impl Iterator<Item = mach_abi::BootDevice> {
    auxiliary_values(mach_abi::AT_MACH_DEVICE).map(mach_abi::device_entry_of)
}

/// The first device of `kind` (`mach_abi::BOOT_DEVICE_*`) we were told of.
pub fn device(kind: u32) -> Option<mach_abi::BootDevice> {
    devices().find(|device| device.kind == kind)
}

/// Whether the boot manifest grants us every port of `first..first + count`.
pub fn io_ports_granted(first: u16, count: u32) -> bool {
    let last = first as u32 + count;
    (first as u32..last)
        .all(|port| io_port_ranges().any(|(start, length)| (start as u32..start as u32 + length).contains(&port)))
}

/// Every value of the auxiliary vector's entries with `key`, in order.
fn auxiliary_values(key: u64) -> impl Iterator<Item = u64> {
    let start = word(0).and_then(|count| {
        let environment = 1 + count + 1;
        let length = (0..ENVIRONMENT_MAX).find(|&index| word(environment + index) == Some(0))?;
        Some(environment + length + 1)
    });
    (0..AUXILIARY_MAX)
        .map_while(move |pair| {
            let start = start?;
            let entry = word(start + pair * 2).filter(|&entry| entry != AT_NULL)?;
            Some((entry, word(start + pair * 2 + 1)))
        })
        .filter_map(move |(entry, value)| if entry == key { value } else { None })
}

/// Sleeps forever.
pub fn park() -> ! {
    loop {
        let _ = crate::trap::thread_sleep(u64::MAX / 1_000_000);
    }
}

/// The status a process ends with when it panics (as Rust's `std` does).
#[cfg(target_os = "none")]
const PANIC_STATUS: i32 = 101;

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::print::print_to(crate::print::Stream::Error, format_args!("panic: {}\n", info.message()));
    exit(PANIC_STATUS)
}
