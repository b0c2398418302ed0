//! The trap layer: one safe function per trap, behind a thin dispatcher.
//!
//! The architecture's `syscall` entry saves the user registers and calls
//! [`dispatch`] with the trap number, six argument registers (see
//! docs/abi.md for the convention) and the saved return register. Everything
//! from here on is safe Rust: arguments are plain integers, user pointers
//! are [`UserBuffer`] allegations checked by `memory::user`, and each trap
//! returns a `Result<(), KernReturn>` turned into the value of the return
//! register.
//!
//! The result is written into the saved registers *before* the thread may
//! give up the processor on its way out (a more urgent thread, its own
//! suspension, a yield), so a thread stopped between two traps always has
//! its final user registers saved: `thread_get_state` on a suspended
//! thread sees what it will resume with. A trap whose wait was aborted
//! (`thread_abort`) had its result written by the abort; it is left alone.
//!
//! The one reserved trap this kernel does not implement (`task_set_pager`:
//! per-task default pagers are not part of this design, docs/kernel.md)
//! answers `KERN_NOT_SUPPORTED` and logs its name once per boot, so a
//! program sees a clear error, never a false success.
#![forbid(unsafe_code)]

use crate::ipc::port_traps;
use crate::kernel::with_kernel;
use crate::memory::user::{self, UserBuffer};
use crate::scheduler;
use crate::task_control::{self, Control};
use mach_abi::{KernReturn, Trap, SWITCH_OPTION_DEPRESS, SWITCH_OPTION_NONE, SWITCH_OPTION_WAIT};

/// Longest text one `debug_print` writes.
pub const DEBUG_PRINT_LIMIT: usize = 4096;
/// Bytes of each task's console output kept for inspection (kernel tests).
pub const CAPTURE_LIMIT: usize = 8192;

/// Test builds: check the IPC invariants after every trap (the adversary
/// test turns this on) and stop at the first trap that breaks them.
#[cfg(feature = "ktest")]
pub static CHECK_EVERY_TRAP: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Runs trap `number` for the current thread and writes its result into
/// `return_register` (the saved user register), then lets a more urgent
/// thread run if one is ready. Inlined into the architecture's system-call
/// handler: a call and a frame less on every trap.
#[inline(always)]
pub fn dispatch(number: u64, arguments: [u64; 6], return_register: &mut u64) {
    let Some(trap) = u32::try_from(number).ok().and_then(Trap::from_u32) else {
        // An unknown number changes nothing and wakes no one.
        *return_register = KernReturn::InvalidArgument as u64;
        return;
    };
    let mut value = dispatch_unchecked(trap, arguments);
    if value == KernReturn::MemoryFailure as u64 {
        value = wait_for_pages_and_retry(trap, arguments);
    }
    #[cfg(feature = "ktest")]
    if CHECK_EVERY_TRAP.load(core::sync::atomic::Ordering::Relaxed) {
        if let Err(violation) = with_kernel(|kernel| kernel.ipc.check_invariants()) {
            panic!("trap {number} {arguments:#x?} returned {value:#x} and broke the IPC invariants: {violation:?}");
        }
    }
    let yield_requested = number == Trap::ThreadSwitch as u64 && arguments[1] == SWITCH_OPTION_NONE as u64;
    let (result_in_frame, switch) = scheduler::leave_trap(yield_requested);
    if !result_in_frame {
        *return_register = value;
    }
    if switch {
        scheduler::reschedule();
    }
}

/// A trap answered `KERN_MEMORY_FAILURE`: if its user memory needed an
/// object page from its pager, it failed having changed nothing, so wait
/// for the page and run it again (as often as it needs pages). Off the
/// common path, so it costs the other traps nothing.
#[cold]
#[inline(never)]
fn wait_for_pages_and_retry(trap: Trap, arguments: [u64; 6]) -> u64 {
    // Only traps that answer a `kern_return_t` (not a port name; `mach_msg`
    // waits for pages itself).
    let kern_return =
        !matches!(trap, Trap::MachMsg | Trap::MachReplyPort | Trap::TaskSelf | Trap::ThreadSelf | Trap::HostSelf);
    let mut value = KernReturn::MemoryFailure as u64;
    while value == KernReturn::MemoryFailure as u64 && kern_return {
        match crate::vm_fault::wait_for_wanted_page() {
            Some(Ok(())) => value = dispatch_unchecked(trap, arguments),
            Some(Err(error)) => value = error as u64,
            None => break,
        }
    }
    value
}

#[inline(always)]
fn dispatch_unchecked(trap: Trap, arguments: [u64; 6]) -> u64 {
    let result = match trap {
        // These answer with a value, not a return code.
        Trap::MachMsg => return crate::ipc::mach_msg::mach_msg(arguments) as u64,
        Trap::MachReplyPort => return port_traps::reply_port() as u64,
        Trap::TaskSelf => return port_traps::task_self() as u64,
        Trap::ThreadSelf => return port_traps::thread_self() as u64,
        Trap::HostSelf => return port_traps::host_self() as u64,
        Trap::PortAllocate => port_traps::port_allocate(arguments),
        Trap::PortDeallocate => port_traps::port_deallocate(arguments),
        Trap::PortDestroy => port_traps::port_destroy(arguments),
        Trap::PortModRefs => port_traps::port_mod_refs(arguments),
        Trap::PortInsertRight => port_traps::port_insert_right(arguments),
        Trap::PortExtractRight => port_traps::port_extract_right(arguments),
        Trap::PortMoveMember => port_traps::port_move_member(arguments),
        Trap::PortGetAttributes => port_traps::port_get_attributes(arguments),
        Trap::PortSetAttributes => port_traps::port_set_attributes(arguments),
        Trap::PortRequestNotification => port_traps::port_request_notification(arguments),
        Trap::PortType => port_traps::port_type(arguments),
        Trap::TaskTerminate => task_control::task_control(arguments[0], Control::Terminate),
        Trap::TaskSuspend => task_control::task_control(arguments[0], Control::Suspend),
        Trap::TaskResume => task_control::task_control(arguments[0], Control::Resume),
        Trap::ThreadTerminate => task_control::thread_control(arguments[0], Control::Terminate),
        Trap::ThreadSuspend => task_control::thread_control(arguments[0], Control::Suspend),
        Trap::ThreadResume => task_control::thread_control(arguments[0], Control::Resume),
        Trap::ThreadAbort => task_control::thread_control(arguments[0], Control::Abort),
        Trap::ThreadSetTls => crate::task_traps::thread_set_tls(arguments),
        Trap::TaskCreate => crate::task_traps::task_create(arguments),
        Trap::TaskInfo => crate::task_traps::task_info(arguments),
        Trap::TaskSetName => crate::task_traps::task_set_name(arguments),
        Trap::TaskSetCredential => crate::task_traps::task_set_credential(arguments),
        Trap::ThreadCreate => crate::task_traps::thread_create(arguments),
        Trap::ThreadGetState => crate::task_traps::thread_get_state(arguments),
        Trap::ThreadSetState => crate::task_traps::thread_set_state(arguments),
        Trap::ThreadInfo => crate::task_traps::thread_info(arguments),
        Trap::TaskSetExceptionPort => {
            crate::task_traps::set_exception_port(crate::task_traps::ExceptionTarget::Task, arguments)
        }
        Trap::ThreadSetExceptionPort => {
            crate::task_traps::set_exception_port(crate::task_traps::ExceptionTarget::Thread, arguments)
        }
        Trap::TaskGetExceptionPort => {
            crate::task_traps::get_exception_port(crate::task_traps::ExceptionTarget::Task, arguments)
        }
        Trap::ThreadGetExceptionPort => {
            crate::task_traps::get_exception_port(crate::task_traps::ExceptionTarget::Thread, arguments)
        }
        Trap::DeviceMapMemory => crate::device::device_map_memory(arguments),
        Trap::DeviceDmaAllocate => crate::device::device_dma_allocate(arguments),
        Trap::InterruptBind => crate::device::interrupt_bind(arguments),
        Trap::InterruptAcknowledge => crate::device::interrupt_acknowledge(arguments),
        Trap::IoPortAccess => crate::device::io_port_access(arguments),
        Trap::InterruptBindMsi => crate::device::interrupt_bind_msi(arguments),
        Trap::HostPowerOff => crate::device::host_power_off(arguments),
        Trap::VmAllocate => crate::vm_traps::vm_allocate(arguments),
        Trap::VmDeallocate => crate::vm_traps::vm_deallocate(arguments),
        Trap::VmProtect => crate::vm_traps::vm_protect(arguments),
        Trap::VmInherit => crate::vm_traps::vm_inherit(arguments),
        Trap::VmRegion => crate::vm_traps::vm_region(arguments),
        Trap::VmRead => crate::vm_traps::vm_read(arguments),
        Trap::VmWrite => crate::vm_traps::vm_write(arguments),
        Trap::VmMap => crate::memory_object::vm_map(arguments),
        Trap::TaskSetMemoryLimit => crate::vm_traps::task_set_memory_limit(arguments),
        Trap::MemoryObjectCreate => crate::memory_object::memory_object_create(arguments),
        Trap::MemoryObjectDataSupply => crate::memory_object::memory_object_data_supply(arguments),
        Trap::MemoryObjectDataUnavailable => crate::memory_object::memory_object_data_unavailable(arguments),
        Trap::MemoryObjectDataError => crate::memory_object::memory_object_data_error(arguments),
        Trap::MemoryObjectLockRequest => crate::memory_object::memory_object_lock_request(arguments),
        Trap::MemoryObjectDestroy => crate::memory_object::memory_object_destroy(arguments),
        Trap::DebugPrint => debug_print(UserBuffer::new(arguments[0], arguments[1] as usize)),
        Trap::KernelLogRead => crate::klog::kernel_log_read(arguments),
        Trap::KernelLogHandover => crate::klog::kernel_log_handover(arguments),
        Trap::ThreadSwitch => thread_switch(arguments[1], arguments[2]),
        Trap::ClockGetTime => clock_get_time(arguments[0]),
        other => not_supported(other),
    };
    match result {
        Ok(()) => KernReturn::Success as u64,
        Err(error) => error as u64,
    }
}

fn not_supported(trap: Trap) -> Result<(), KernReturn> {
    static REPORTED: spin::Mutex<u128> = spin::Mutex::new(0);
    let bit = 1u128 << (trap as u32 % 128);
    let first_time = crate::arch::cpu::without_interrupts(|| {
        let mut reported = REPORTED.lock();
        let first = *reported & bit == 0;
        *reported |= bit;
        first
    });
    if first_time {
        log::warn!("trap {} is not implemented by this kernel yet", trap.c_name());
    }
    Err(KernReturn::NotSupported)
}

/// `debug_print(text, length)`: writes text to the kernel log (`klog`),
/// prefixed by the task's name at the start of each line: servers' and
/// tests' messages, shown on the console like the kernel's own.
fn debug_print(text: UserBuffer) -> Result<(), KernReturn> {
    if text.length > DEBUG_PRINT_LIMIT {
        return Err(KernReturn::InvalidArgument);
    }
    let mut bytes = alloc::vec![0u8; text.length];
    with_kernel(|kernel| {
        let task = kernel.current_task().ok_or(KernReturn::InvalidTask)?;
        let task = kernel.tasks.get_mut(task).ok_or(KernReturn::InvalidTask)?;
        let mut space = task.user_space().ok_or(KernReturn::InvalidTask)?;
        user::copy_from_user(&mut space, text, &mut bytes)?;
        let text = core::str::from_utf8(&bytes).map_err(|_| KernReturn::InvalidArgument)?;
        task.capture_output(text);
        for line in text.split_inclusive('\n') {
            crate::print!("[{}] {}", task.name, line);
        }
        if !text.ends_with('\n') && !text.is_empty() {
            crate::println!();
        }
        Ok(())
    })
}

/// `thread_switch(hint, option, timeout_ms)`: yield (done on the way out
/// of the trap, by [`dispatch`], once the result is saved), or sleep for
/// `timeout_ms` with `SWITCH_OPTION_WAIT` (`KERN_ABORTED` if
/// `thread_abort` ends the sleep). The hint is not used yet (it names a
/// thread to hand off to, which needs thread ports).
fn thread_switch(option: u64, timeout_milliseconds: u64) -> Result<(), KernReturn> {
    match option as u32 {
        SWITCH_OPTION_NONE => Ok(()),
        SWITCH_OPTION_WAIT => {
            let duration = core::time::Duration::from_millis(timeout_milliseconds.min(u64::MAX / 2_000_000));
            match scheduler::sleep_for(duration) {
                crate::thread::WaitResult::Aborted => Err(KernReturn::Aborted),
                _ => Ok(()),
            }
        }
        // Priority depression (the effective priority dropped for a
        // while; the split exists since priority inheritance) is not
        // implemented: refuse rather than pretend.
        SWITCH_OPTION_DEPRESS => Err(KernReturn::NotSupported),
        _ => Err(KernReturn::InvalidArgument),
    }
}

/// `clock_get_time(time_out)`: writes a `mach_timespec_t` (seconds,
/// nanoseconds) of the time since boot.
fn clock_get_time(address: u64) -> Result<(), KernReturn> {
    let now = crate::time::uptime();
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&(now.as_secs() as u32).to_le_bytes());
    bytes[4..].copy_from_slice(&(now.subsec_nanos() as i32).to_le_bytes());
    with_kernel(|kernel| {
        let task = kernel.current_task().ok_or(KernReturn::InvalidTask)?;
        let mut space = kernel.user_space(task)?;
        user::copy_to_user(&mut space, UserBuffer::new(address, 8), &bytes)?;
        Ok(())
    })
}
