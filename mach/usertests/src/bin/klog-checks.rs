//! The kernel log traps from a task holding the privileged host port (named
//! by its argument): `kernel_log_read` (52) and `kernel_log_handover` (53).
//! Prints `klog-checks: N passed, N failed`, then `klog-checks: holding the
//! serial line` and keeps holding it, so that the kernel test can check
//! that the kernel takes the line back when this task ends.
#![no_std]
#![no_main]

use libmach::abi::{
    Disposition, KernReturn, PortName, PortRight, Trap, KERNEL_LOG_LINE_MAX, KERNEL_LOG_MESSAGE_ID, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT,
};
use libmach::kernel_log;
use libmach::trap::*;
use mach_usertests::{message, println, Checks};

libmach::entry!(main);

/// Reads every line from `sequence` on; returns the text (its newest
/// `text.len()` bytes: the log may hold more, and the checks look at its
/// end) and the next sequence.
fn read_to_end(host: PortName, mut sequence: u64, text: &mut [u8]) -> (usize, u64) {
    let mut length = 0;
    let mut buffer = [0u8; 2048];
    while let Ok(read) = kernel_log::read(host, &mut buffer, sequence) {
        if read.length == 0 {
            break;
        }
        let overflow = (length + read.length).saturating_sub(text.len());
        text.copy_within(overflow..length, 0);
        length -= overflow;
        text[length..length + read.length].copy_from_slice(&buffer[..read.length]);
        length += read.length;
        sequence = read.next;
    }
    (length, sequence)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Waits up to `milliseconds` for a notice on `port`; returns its sequence.
fn notice(port: PortName, milliseconds: u32) -> Option<u64> {
    let mut buffer = MessageBuffer::<64>::new();
    mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, milliseconds).ok()?;
    if message::id(&buffer) != KERNEL_LOG_MESSAGE_ID {
        return None;
    }
    Some(message::word(&buffer, 6) as u64 | (message::word(&buffer, 7) as u64) << 32)
}

fn raw(arguments: [u64; 6], trap: Trap) -> Result<(), KernReturn> {
    // SAFETY: every pointer argument is either a local the kernel may write
    // or a deliberately bad address the kernel must refuse.
    let code = unsafe { raw_trap(trap as u64, arguments) };
    match KernReturn::from_u32(code as u32) {
        Some(KernReturn::Success) => Ok(()),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

fn main(host: u64) {
    let host = host as PortName;
    let task = task_self();
    let mut checks = Checks::new("klog-checks");
    let mut buffer = [0u8; KERNEL_LOG_LINE_MAX];

    checks.equal(
        "read without the host port",
        kernel_log::read(task, &mut buffer, 0).map(|_| ()),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal(
        "hand over without the host port",
        kernel_log::handover(task, task),
        Err(KernReturn::InvalidCapability),
    );

    println!("klog-checks: marker one");
    let mut text = [0u8; 16384];
    let (length, next) = read_to_end(host, 0, &mut text);
    checks.equal("our line is in the log", contains(&text[..length], b"[klog-checks] klog-checks: marker one\n"), true);
    checks.equal("whole lines", text[..length].last(), Some(&b'\n'));
    checks.equal("nothing after the newest", kernel_log::read(host, &mut buffer, next).map(|read| read.length), Ok(0));
    checks.equal("nothing to size after the newest", kernel_log::size_from(host, next), Ok(0));
    let last_line = text[..length - 1].iter().rposition(|&byte| byte == b'\n').map_or(length, |at| length - at - 1);
    checks.equal("the size of the last line", kernel_log::size_from(host, next - 1), Ok(last_line));
    checks.equal(
        "a sequence from the future",
        kernel_log::read(host, &mut buffer, next + 5).map(|_| ()),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "a buffer too small for a line",
        kernel_log::read(host, &mut buffer[..3], next - 1).map(|_| ()),
        Err(KernReturn::NoSpace),
    );

    let mut sequence = next - 1;
    let mut written = 0u64;
    checks.equal(
        "a buffer the task cannot write",
        raw([host as u64, 0x10, 64, &raw mut sequence as u64, &raw mut written as u64, 0], Trap::KernelLogRead),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal(
        "a sequence the task cannot read",
        raw([host as u64, buffer.as_mut_ptr() as u64, 64, 0x10, &raw mut written as u64, 0], Trap::KernelLogRead),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal(
        "a length the task cannot write",
        raw(
            [host as u64, buffer.as_mut_ptr() as u64, 64, &raw mut sequence as u64, 0xffff_8000_0000_0000, 0],
            Trap::KernelLogRead,
        ),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal("the refused read wrote no sequence", sequence, next - 1);

    // Taking the serial line: a notice when a line comes, one until we read.
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, port, port, Disposition::MakeSend as u32);
    checks.equal(
        "hand over a name that is no right",
        kernel_log::handover(host, 0x7777_0000),
        Err(KernReturn::InvalidName),
    );
    let start = kernel_log::handover(host, port);
    checks.equal("hand over", start.is_ok(), true);
    let start = start.unwrap_or(0);
    checks.equal("no notice before a line", notice(port, 100), None);
    println!("klog-checks: after the handover");
    let told = notice(port, 2000);
    checks.equal("a notice for the new line", told.is_some_and(|sequence| sequence > start), true);
    println!("klog-checks: two");
    println!("klog-checks: three");
    checks.equal("one notice until we read", notice(port, 200), None);
    let (length, next) = read_to_end(host, start, &mut text);
    let read = &text[..length];
    checks.equal("the lines since the handover", contains(read, b"klog-checks: after the handover\n"), true);
    checks.equal("all of them", contains(read, b"klog-checks: three\n"), true);
    println!("klog-checks: after reading");
    checks.equal("a notice again after reading", notice(port, 2000).is_some_and(|sequence| sequence > next), true);
    let (_, next) = read_to_end(host, next, &mut text);
    checks.equal("handing over again starts where we read", kernel_log::handover(host, port), Ok(next));

    checks.equal("give the line back", kernel_log::give_back(host).is_ok(), true);
    println!("klog-checks: after giving it back");
    checks.equal("no notice once given back", notice(port, 300), None);

    checks.equal("hand over for the kernel test", kernel_log::handover(host, port).is_ok(), true);
    checks.finish();
    println!("klog-checks: holding the serial line");
    loop {
        let _ = thread_sleep(1000);
    }
}
