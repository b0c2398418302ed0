//! The kernel log's traps: `kernel_log_read` and `kernel_log_handover`,
//! which hand the log to the console server, and who holds the serial line.
//!
//! The log itself (its ring, the debug console and serial line it writes
//! to, `print!`, the logger, the emergency console) is the core's
//! (`mach_kcore::klog`): it works from the first line of the boot and
//! needs nothing above the core. This part needs ports and user memory:
//!
//! - `kernel_log_read` (trap 52) gives the ring's numbered lines to
//!   whoever holds the privileged host port: the console server, `dmesg`;
//! - `kernel_log_handover` (trap 53) gives the serial line to the console
//!   server. From then on the kernel does not write to the UART: the
//!   console server shows new lines (it is sent a `KERNEL_LOG_MESSAGE_ID`
//!   notice when there are some) where they do not cut into what a person
//!   is typing. If the console server's port dies (it ended) or it gives
//!   the line back, the kernel writes the lines the holder had not read
//!   (at most [`TAKE_BACK_LINES`]) and goes on writing to the serial line
//!   itself.
//!
//! Locks, always in this order: the kernel objects (`with_kernel`), then
//! [`HOLDER`], then the core's `CONSOLE`. Nothing logs while holding `CONSOLE`.
#![forbid(unsafe_code)]

use crate::ipc::port_traps::caller;
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer};
use crate::task::TaskId;
use core::fmt::Write;
use core::sync::atomic::Ordering;
use mach_abi::{Disposition, KernReturn, PortName, KERNEL_LOG_LINE_MAX, KERNEL_LOG_MESSAGE_ID, MACH_PORT_NULL};
pub use mach_kcore::klog::emergency_console;
#[cfg(feature = "ktest")]
pub use mach_kcore::klog::kernel_writes_to_serial;
use mach_kcore::klog::{CONSOLE, LOG_RING_SIZE, NEW_LINES, SERIAL};
use mach_klog::{LogRead, LogReadError};

/// The most unread lines the kernel writes to the serial line when it
/// takes it back (more would keep interrupts off too long on a real UART;
/// the rest stay readable with `kernel_log_read`).
pub const TAKE_BACK_LINES: u64 = 100;

/// Who holds the serial line: the port its notices go to.
struct Holder {
    right: mach_ipc::CarriedRight,
    task: TaskId,
    /// The sequence up to which the holder has read (or the kernel wrote
    /// to the serial line before handing it over).
    shown_until: u64,
    /// A notice was sent and the holder has not read since.
    notified: bool,
}

/// Used only inside `with_kernel` (the right belongs to the IPC state).
static HOLDER: spin::Mutex<Option<Holder>> = spin::Mutex::new(None);

/// True if the holder's port can still receive.
fn holder_alive(kernel: &Kernel, holder: &Holder) -> bool {
    holder.right.port().and_then(|(port, _)| kernel.ipc.port(port)).is_some_and(|port| port.is_alive())
}

/// The kernel writes to the serial line again: first the lines the holder
/// had not read (the newest [`TAKE_BACK_LINES`] of them) and the line being
/// written, so that what the console server never showed is not lost.
fn take_back(kernel: &mut Kernel, slot: &mut Option<Holder>) {
    let Some(holder) = slot.take() else { return };
    kernel.ipc.release(holder.right);
    crate::ipc::settle(kernel);
    let ring = CONSOLE.lock();
    let next = ring.next_sequence();
    let mut sequence = holder.shown_until.max(next.saturating_sub(TAKE_BACK_LINES));
    if sequence > holder.shown_until {
        let mut notice = heapless::String::<96>::new();
        let _ = writeln!(notice, "[kernel log: {} earlier lines not shown here]", sequence - holder.shown_until);
        crate::arch::console::write_serial(&notice);
    }
    let mut buffer = [0u8; KERNEL_LOG_LINE_MAX];
    while sequence < next {
        match ring.read(sequence, &mut buffer) {
            Ok(read) if read.next > sequence => {
                crate::arch::console::write_serial_bytes(&buffer[..read.length]);
                sequence = read.next;
            }
            _ => break,
        }
    }
    crate::arch::console::write_serial_bytes(ring.partial_line());
    SERIAL.store(true, Ordering::Relaxed);
    NEW_LINES.store(false, Ordering::Relaxed);
}

/// Called on every timer tick: tells the holder of the serial line that
/// there are new lines (one notice until it reads), or takes the line back
/// if the holder is gone.
pub fn notify_reader() {
    if !NEW_LINES.load(Ordering::Relaxed) {
        return;
    }
    with_kernel(|kernel| {
        let mut slot = HOLDER.lock();
        let Some(holder) = slot.as_mut() else {
            NEW_LINES.store(false, Ordering::Relaxed);
            return;
        };
        if !holder_alive(kernel, holder) {
            take_back(kernel, &mut slot);
            return;
        }
        // Cleared before the check: a holder that was told already will
        // find these lines in its read, which sets the flag again if it
        // stopped short of the newest.
        NEW_LINES.store(false, Ordering::Relaxed);
        if holder.notified {
            return;
        }
        let next = CONSOLE.lock().next_sequence();
        let Some((port, _)) = holder.right.port() else { return };
        let Ok(destination) = kernel.ipc.make_send(port) else { return };
        let Ok(message) =
            mach_ipc::KernelMessage::from_kernel(destination, KERNEL_LOG_MESSAGE_ID, None, next.to_le_bytes().to_vec())
        else {
            return;
        };
        holder.notified = true;
        if let Some(outcome) = kernel.ipc.send_kernel_message(message) {
            crate::ipc::deliver_outcome(kernel, outcome);
        }
        crate::ipc::settle(kernel);
    });
}

/// `kernel_log_read(host, buffer, size, sequence_in_out, length_out)`:
/// copies the lines from `*sequence_in_out` on into `buffer`, whole lines
/// as many as fit, and writes the sequence to ask for next and the bytes
/// copied. Lines older than the oldest kept are skipped (the reader finds
/// how many from the numbers: the copy holds `next - lines` as its first
/// line, one line per `\n`). `size` 0 copies nothing and writes in
/// `length_out` the bytes all the lines from there take. Errors:
/// `KERN_INVALID_CAPABILITY` without the host port, `KERN_INVALID_ARGUMENT`
/// for a sequence past the newest line, `KERN_NO_SPACE` for a buffer too
/// small for the next line (`KERNEL_LOG_LINE_MAX` always suffices),
/// `KERN_INVALID_ADDRESS` for a pointer the task cannot write.
pub fn kernel_log_read([host, buffer, size, sequence_address, length_address, _]: [u64; 6]) -> Result<(), KernReturn> {
    // A read never needs more room than the ring holds.
    let size = usize::try_from(size).unwrap_or(usize::MAX).min(LOG_RING_SIZE);
    let mut bytes = alloc::vec::Vec::new();
    bytes.try_reserve_exact(size).map_err(|_| KernReturn::ResourceShortage)?;
    bytes.resize(size, 0);
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        crate::device::check_device_port(kernel, caller.space, host)?;
        let mut space = kernel.user_space(caller.task)?;
        let sequence_buffer = UserBuffer::new(sequence_address, 8);
        let length_buffer = UserBuffer::new(length_address, 8);
        user::check_writable(&mut space, sequence_buffer)?;
        user::check_writable(&mut space, length_buffer)?;
        user::check_writable(&mut space, UserBuffer::new(buffer, size))?;
        let mut sequence = [0u8; 8];
        user::copy_from_user(&mut space, sequence_buffer, &mut sequence)?;
        let sequence = u64::from_le_bytes(sequence);
        let mut slot = HOLDER.lock();
        let (read, total) = {
            let ring = CONSOLE.lock();
            let read = ring.read(sequence, &mut bytes);
            let total = if size == 0 { ring.bytes_from(sequence) } else { 0 };
            if let (Ok(read), Some(holder)) = (&read, slot.as_mut()) {
                if holder.task == caller.task && size > 0 {
                    holder.shown_until = read.next;
                    holder.notified = false;
                    NEW_LINES.store(read.next < ring.next_sequence(), Ordering::Relaxed);
                }
            }
            (read, total)
        };
        drop(slot);
        let read = read.map_err(|error| match error {
            LogReadError::Future { .. } => KernReturn::InvalidArgument,
            LogReadError::TooSmall { .. } => KernReturn::NoSpace,
        })?;
        let LogRead { next, length: copied, .. } = read;
        let (next, length) = if size == 0 { (sequence, total) } else { (next, copied) };
        user::copy_to_user(&mut space, UserBuffer::new(buffer, copied), &bytes[..copied])?;
        user::copy_to_user(&mut space, sequence_buffer, &next.to_le_bytes())?;
        user::copy_to_user(&mut space, length_buffer, &(length as u64).to_le_bytes())?;
        Ok(())
    })
}

/// `kernel_log_handover(host, port, sequence_out)`: with a port (a send
/// right the caller names), the caller takes the serial line: the kernel
/// stops writing to it and sends `KERNEL_LOG_MESSAGE_ID` notices to the
/// port when new lines come; `sequence_out` gets the first line the caller
/// must show (every earlier one is on the serial line already, or was
/// shown by the previous holder). The line being written when it is handed
/// over is ended there: its start is on the serial line, its rest comes as
/// a new line. With `MACH_PORT_NULL`, the line comes back to the kernel,
/// which writes what the holder had not read. A holder whose port dies
/// loses the line the same way at the next log line.
///
/// Errors: `KERN_INVALID_CAPABILITY` without the host port; `KERN_NO_ACCESS`
/// while another task's port still holds the line; the caller's name errors
/// for `port`; `KERN_INVALID_ADDRESS`.
pub fn kernel_log_handover([host, port, sequence_address, ..]: [u64; 6]) -> Result<(), KernReturn> {
    let port = PortName::try_from(port).map_err(|_| KernReturn::InvalidName)?;
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        crate::device::check_device_port(kernel, caller.space, host)?;
        let sequence_buffer = UserBuffer::new(sequence_address, 8);
        user::check_writable(&mut kernel.user_space(caller.task)?, sequence_buffer)?;
        let mut slot = HOLDER.lock();
        let sequence = if port == MACH_PORT_NULL {
            take_back(kernel, &mut slot);
            CONSOLE.lock().next_sequence()
        } else {
            if let Some(holder) = slot.as_ref() {
                if holder.task != caller.task && holder_alive(kernel, holder) {
                    return Err(KernReturn::NoAccess);
                }
            }
            let (right, _) = kernel.ipc.extract_right(caller.space, port, Disposition::CopySend as u32)?;
            let previous = slot.take();
            let shown_until = {
                let mut ring = CONSOLE.lock();
                let shown_until = match &previous {
                    Some(holder) => holder.shown_until,
                    None => {
                        ring.end_partial_line();
                        ring.next_sequence()
                    }
                };
                SERIAL.store(false, Ordering::Relaxed);
                NEW_LINES.store(ring.next_sequence() > shown_until, Ordering::Relaxed);
                shown_until
            };
            if let Some(previous) = previous {
                kernel.ipc.release(previous.right);
            }
            *slot = Some(Holder { right, task: caller.task, shown_until, notified: false });
            crate::ipc::settle(kernel);
            shown_until
        };
        drop(slot);
        user::copy_to_user(&mut kernel.user_space(caller.task)?, sequence_buffer, &sequence.to_le_bytes())?;
        Ok(())
    })
}
