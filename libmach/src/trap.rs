//! Traps into the kernel.
//!
//! x86_64: `syscall` with the trap number in RAX and up to six arguments in
//! RDI, RSI, RDX, R10, R8, R9; the kernel's answer comes back in RAX. RCX and
//! R11 are clobbered by the instruction itself.
//! aarch64: `svc #0` with the number in x8 and the arguments in x0..x5; the
//! answer comes back in x0, and nothing else changes.

use mach_abi::{KernReturn, Trap};

/// Enters the kernel with `number` and `arguments`, returning RAX.
///
/// # Safety
/// Traps that write to memory write where the arguments say: the caller must
/// pass addresses it owns and may have overwritten (or deliberately bad
/// ones, which the kernel refuses with an error without touching them).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn raw_trap(number: u64, arguments: [u64; 6]) -> u64 {
    let result: u64;
    // SAFETY: `syscall` transfers to the kernel, which preserves every
    // register but RAX (result), RCX and R11; memory effects are the
    // caller's contract above.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => result,
            in("rdi") arguments[0],
            in("rsi") arguments[1],
            in("rdx") arguments[2],
            in("r10") arguments[3],
            in("r8") arguments[4],
            in("r9") arguments[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack)
        );
    }
    result
}

/// Enters the kernel with `number` and `arguments`, returning x0.
///
/// # Safety
/// As for the x86_64 version: the caller passes addresses it owns and may
/// have overwritten, or deliberately bad ones.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub unsafe fn raw_trap(number: u64, arguments: [u64; 6]) -> u64 {
    let result: u64;
    // SAFETY: `svc #0` transfers to the kernel, which preserves every
    // register but x0 (the result); memory effects are the caller's contract.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") number,
            inlateout("x0") arguments[0] => result,
            in("x1") arguments[1],
            in("x2") arguments[2],
            in("x3") arguments[3],
            in("x4") arguments[4],
            in("x5") arguments[5],
            options(nostack)
        );
    }
    result
}

/// The processor's free-running counter, for benchmarks: the TSC on
/// x86_64, the PMU cycle counter on aarch64 (the kernel lets user code read
/// it). Under QEMU's `-icount shift=0` both count one per instruction.
#[inline(always)]
pub fn cycle_counter() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc only reads the time-stamp counter.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(target_arch = "aarch64")]
    {
        let value: u64;
        // SAFETY: reads PMCCNTR_EL0, which the kernel opened to EL0.
        unsafe { core::arch::asm!("isb", "mrs {}, pmccntr_el0", out(reg) value, options(nomem, nostack)) };
        value
    }
}

pub(crate) fn to_result(value: u64) -> Result<(), KernReturn> {
    match u32::try_from(value).ok().and_then(KernReturn::from_u32) {
        Some(KernReturn::Success) => Ok(()),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

/// Traps with arguments that carry no pointers the kernel writes through.
fn trap(number: Trap, arguments: [u64; 6]) -> Result<(), KernReturn> {
    // SAFETY: every caller passes only values, or pointers the kernel only
    // reads (checked by the kernel), so the trap cannot write our memory.
    to_result(unsafe { raw_trap(number as u64, arguments) })
}

/// Writes `text` to the kernel console (bring-up and tests).
pub fn debug_print(text: &str) -> Result<(), KernReturn> {
    trap(Trap::DebugPrint, [text.as_ptr() as u64, text.len() as u64, 0, 0, 0, 0])
}

/// Gives the processor to another thread of the same or higher priority.
pub fn thread_yield() -> Result<(), KernReturn> {
    trap(Trap::ThreadSwitch, [0, mach_abi::SWITCH_OPTION_NONE as u64, 0, 0, 0, 0])
}

/// Sleeps for at least `milliseconds`.
pub fn thread_sleep(milliseconds: u64) -> Result<(), KernReturn> {
    trap(Trap::ThreadSwitch, [0, mach_abi::SWITCH_OPTION_WAIT as u64, milliseconds, 0, 0, 0])
}

/// Time since the kernel started, as Mach's `mach_timespec_t`.
pub fn clock_get_timespec() -> Result<mach_abi::MachTimespec, KernReturn> {
    let mut time = mach_abi::MachTimespec::default();
    // SAFETY: the kernel writes one `mach_timespec_t` (8 bytes) at the
    // address of `time`, which we own and may overwrite.
    to_result(unsafe { raw_trap(Trap::ClockGetTime as u64, [&raw mut time as u64, 0, 0, 0, 0, 0]) })?;
    Ok(time)
}

/// Nanoseconds since the kernel started.
pub fn clock_get_time() -> Result<u64, KernReturn> {
    let time = clock_get_timespec()?;
    Ok(time.seconds as u64 * 1_000_000_000 + time.nanoseconds.max(0) as u64)
}

use mach_abi::{MachMsgReturn, PortName, PortRight};

fn trap_value(number: Trap, arguments: [u64; 6]) -> u64 {
    // SAFETY: callers pass only values (names, numbers), never pointers.
    unsafe { raw_trap(number as u64, arguments) }
}

/// A send right to the caller's own task port.
pub fn task_self() -> PortName {
    trap_value(Trap::TaskSelf, [0; 6]) as PortName
}

/// A send right to the calling thread's port.
pub fn thread_self() -> PortName {
    trap_value(Trap::ThreadSelf, [0; 6]) as PortName
}

/// A send right to the host's name port (which carries no privilege).
pub fn host_self() -> PortName {
    trap_value(Trap::HostSelf, [0; 6]) as PortName
}

/// A new receive right, for replies.
pub fn mach_reply_port() -> PortName {
    trap_value(Trap::MachReplyPort, [0; 6]) as PortName
}

/// A message buffer: 8-byte aligned, as message headers and descriptors want.
#[repr(C, align(8))]
pub struct MessageBuffer<const N: usize>(pub [u8; N]);

impl<const N: usize> MessageBuffer<N> {
    pub const fn new() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> Default for MessageBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// `mach_msg` on `buffer`: sends its first `send_size` bytes (with
/// `MACH_SEND_MSG`), then receives into the whole buffer (with
/// `MACH_RCV_MSG`) from `receive_name`. `timeout` is in milliseconds and
/// only counts with `MACH_SEND_TIMEOUT` / `MACH_RCV_TIMEOUT`.
pub fn mach_msg<const N: usize>(
    buffer: &mut MessageBuffer<N>,
    option: u32,
    send_size: usize,
    receive_name: PortName,
    timeout: u32,
) -> Result<(), MachMsgReturn> {
    if send_size > N {
        return Err(MachMsgReturn::SendTooLarge);
    }
    let arguments =
        [buffer.0.as_mut_ptr() as u64, option as u64, send_size as u64, N as u64, receive_name as u64, timeout as u64];
    // SAFETY: the kernel writes at most N bytes into `buffer`, which we own
    // mutably for the call.
    let code = unsafe { raw_trap(Trap::MachMsg as u64, arguments) };
    // A receive that lost rights or memory returns MACH_RCV_BODY_ERROR with
    // MACH_MSG_*_SPACE bits or-ed in: decode them away, or the code would
    // name no variant.
    match u32::try_from(code).ok().and_then(MachMsgReturn::decode) {
        Some((MachMsgReturn::Success, _)) => Ok(()),
        Some((error, _)) => Err(error),
        None => Err(MachMsgReturn::SendInvalidHeader),
    }
}

/// `mach_msg` on a byte slice: like [`mach_msg`], receiving into the whole
/// of `buffer`. A receive that delivered the message but dropped rights or
/// memory (`MACH_RCV_BODY_ERROR` with `MACH_MSG_*_SPACE` bits) returns
/// `Err(MachMsgReturn::ReceiveBodyError)`; the message is in `buffer`.
pub fn mach_msg_bytes(
    buffer: &mut [u8],
    option: u32,
    send_size: usize,
    receive_name: PortName,
    timeout: u32,
) -> Result<(), MachMsgReturn> {
    if send_size > buffer.len() {
        return Err(MachMsgReturn::SendTooLarge);
    }
    let arguments = [
        buffer.as_mut_ptr() as u64,
        option as u64,
        send_size as u64,
        buffer.len() as u64,
        receive_name as u64,
        timeout as u64,
    ];
    // SAFETY: the kernel reads at most `send_size` and writes at most
    // `buffer.len()` bytes at `buffer`, which we borrow mutably for the call.
    let code = unsafe { raw_trap(Trap::MachMsg as u64, arguments) };
    match u32::try_from(code).ok().and_then(MachMsgReturn::decode) {
        Some((MachMsgReturn::Success, _)) => Ok(()),
        Some((error, _)) => Err(error),
        None => Err(MachMsgReturn::SendInvalidHeader),
    }
}

/// Traps that write one or two 32-bit results.
fn trap_with_outputs(number: Trap, mut arguments: [u64; 6], outputs: &[usize]) -> Result<[u32; 2], KernReturn> {
    let mut results = [0u32; 2];
    for (index, &slot) in outputs.iter().enumerate() {
        arguments[slot] = &raw mut results[index] as u64;
    }
    // SAFETY: the kernel writes 4 bytes into each of `results`' elements
    // whose addresses we placed in the output slots; nothing else.
    to_result(unsafe { raw_trap(number as u64, arguments) })?;
    Ok(results)
}

pub fn port_allocate(task: PortName, right: PortRight) -> Result<PortName, KernReturn> {
    Ok(trap_with_outputs(Trap::PortAllocate, [task as u64, right as u64, 0, 0, 0, 0], &[2])?[0])
}

pub fn port_deallocate(task: PortName, name: PortName) -> Result<(), KernReturn> {
    trap(Trap::PortDeallocate, [task as u64, name as u64, 0, 0, 0, 0])
}

pub fn port_destroy(task: PortName, name: PortName) -> Result<(), KernReturn> {
    trap(Trap::PortDestroy, [task as u64, name as u64, 0, 0, 0, 0])
}

pub fn port_mod_refs(task: PortName, name: PortName, right: PortRight, delta: i32) -> Result<(), KernReturn> {
    trap(Trap::PortModRefs, [task as u64, name as u64, right as u64, delta as u32 as u64, 0, 0])
}

pub fn port_insert_right(task: PortName, name: PortName, right: PortName, disposition: u32) -> Result<(), KernReturn> {
    trap(Trap::PortInsertRight, [task as u64, name as u64, right as u64, disposition as u64, 0, 0])
}

/// Returns the right's new name in the caller's space and its received type.
pub fn port_extract_right(task: PortName, name: PortName, disposition: u32) -> Result<(PortName, u32), KernReturn> {
    let [right, kind] =
        trap_with_outputs(Trap::PortExtractRight, [task as u64, name as u64, disposition as u64, 0, 0, 0], &[3, 4])?;
    Ok((right, kind))
}

pub fn port_move_member(task: PortName, member: PortName, after: PortName) -> Result<(), KernReturn> {
    trap(Trap::PortMoveMember, [task as u64, member as u64, after as u64, 0, 0, 0])
}

pub fn port_type(task: PortName, name: PortName) -> Result<u32, KernReturn> {
    Ok(trap_with_outputs(Trap::PortType, [task as u64, name as u64, 0, 0, 0, 0], &[2])?[0])
}

/// Reads a port attribute flavor into `words`; returns how many were written.
pub fn port_get_attributes(
    task: PortName,
    name: PortName,
    flavor: u32,
    words: &mut [u32],
) -> Result<usize, KernReturn> {
    let mut count = words.len() as u32;
    let arguments = [task as u64, name as u64, flavor as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0];
    // SAFETY: the kernel writes at most `count` (= words.len()) words into
    // `words` and one into `count`, both ours.
    to_result(unsafe { raw_trap(Trap::PortGetAttributes as u64, arguments) })?;
    Ok(count as usize)
}

pub fn port_set_attributes(task: PortName, name: PortName, flavor: u32, words: &[u32]) -> Result<(), KernReturn> {
    trap(
        Trap::PortSetAttributes,
        [task as u64, name as u64, flavor as u64, words.as_ptr() as u64, words.len() as u64, 0],
    )
}

/// Requests notification `message_id` on `name`, sent to `notify` (used with
/// `notify_disposition`); returns the previous request's send-once right.
pub fn port_request_notification(
    task: PortName,
    name: PortName,
    message_id: u32,
    sync: u32,
    notify: PortName,
    notify_disposition: u32,
) -> Result<PortName, KernReturn> {
    let request = mach_abi::pack_notification_request(message_id, notify_disposition);
    Ok(trap_with_outputs(
        Trap::PortRequestNotification,
        [task as u64, name as u64, request, sync as u64, notify as u64, 0],
        &[5],
    )?[0])
}

/// A new, empty task (no memory, no threads) whose parent is `parent`;
/// returns a send right to its task port.
pub fn task_create(parent: PortName) -> Result<PortName, KernReturn> {
    task_create_with(parent, 0)
}

/// A new task whose parent is `parent`, with `flags`
/// (`TASK_CREATE_INHERIT_SEND_RIGHTS`: every send right and dead name of
/// the parent, under the same names; `TASK_CREATE_INHERIT_MEMORY`: its
/// address space built from the parent's by each region's inheritance,
/// copy-on-write); returns a send right to its task port.
pub fn task_create_with(parent: PortName, flags: u64) -> Result<PortName, KernReturn> {
    let mut child = 0u32;
    // SAFETY: the kernel writes the new task's name into `child`, ours.
    to_result(unsafe { raw_trap(Trap::TaskCreate as u64, [parent as u64, flags, &raw mut child as u64, 0, 0, 0]) })?;
    Ok(child)
}

/// Sets who `task` acts for; needs the privileged host port `host_priv`.
/// Messages the task sends carry the credential in their audit trailer.
pub fn task_set_credential(
    host_priv: PortName,
    task: PortName,
    credential: &mach_abi::TaskCredential,
) -> Result<(), KernReturn> {
    let bytes = credential.to_bytes();
    trap(Trap::TaskSetCredential, [host_priv as u64, task as u64, bytes.as_ptr() as u64, 0, 0, 0])
}

/// Interrupts what `thread` waits for in the kernel: a blocked `mach_msg`
/// returns `MACH_SEND_INTERRUPTED` / `MACH_RCV_INTERRUPTED`, a
/// `thread_switch` wait `KERN_ABORTED`; a wait for a pager or an exception
/// reply is abandoned and the faulting instruction runs again. Works on a
/// suspended thread (which stays suspended, its registers then as the
/// trap returns them).
pub fn thread_abort(thread: PortName) -> Result<(), KernReturn> {
    trap(Trap::ThreadAbort, [thread as u64, 0, 0, 0, 0, 0])
}

/// Sets `thread`'s thread-local storage base (the FS base on x86_64).
pub fn thread_set_tls(thread: PortName, value: u64) -> Result<(), KernReturn> {
    trap(Trap::ThreadSetTls, [thread as u64, value, 0, 0, 0, 0])
}

/// Reads `thread`'s registers as `flavor` into `state`; returns how many
/// 32-bit words were written.
pub fn thread_get_state(thread: PortName, flavor: u32, state: &mut [u32]) -> Result<usize, KernReturn> {
    let mut count = state.len() as u32;
    let arguments = [thread as u64, flavor as u64, state.as_mut_ptr() as u64, &raw mut count as u64, 0, 0];
    // SAFETY: the kernel writes at most `count` (= state.len()) words into
    // `state` and one into `count`, both ours.
    to_result(unsafe { raw_trap(Trap::ThreadGetState as u64, arguments) })?;
    Ok(count as usize)
}

/// With a send right to the privileged host port: the most pages `task`
/// may be charged for (its memory, the objects it created, its page tables
/// and kernel stacks).
pub fn task_set_memory_limit(host: PortName, task: PortName, pages: u64) -> Result<(), KernReturn> {
    trap(Trap::TaskSetMemoryLimit, [host as u64, task as u64, pages, 0, 0, 0])
}

/// Names `task` (what kernel logs call it), at most `TASK_NAME_MAX` bytes.
pub fn task_set_name(task: PortName, name: &str) -> Result<(), KernReturn> {
    trap(Trap::TaskSetName, [task as u64, name.as_ptr() as u64, name.len() as u64, 0, 0, 0])
}

/// `host_power_off`: the machine goes off, QEMU told `status` where the
/// board can; returns only if it stayed on (`KERN_FAILURE`), or with
/// `KERN_INVALID_CAPABILITY` without the privileged host port.
pub fn host_power_off(host: PortName, status: u8) -> Result<(), KernReturn> {
    trap(Trap::HostPowerOff, [host as u64, status as u64, 0, 0, 0, 0])
}

/// Lets `task` (a task port we hold; `MACH_PORT_NULL`: our own task) use
/// `in`/`out` on ports `first_port .. first_port + count`. `device` names
/// a send right to the privileged host port.
pub fn io_port_access(device: PortName, first_port: u16, count: u32, task: PortName) -> Result<(), KernReturn> {
    trap(Trap::IoPortAccess, [device as u64, first_port as u64, count as u64, task as u64, 0, 0])
}

/// A new, suspended thread in `task`; returns a send right to its port.
pub fn thread_create(task: PortName) -> Result<PortName, KernReturn> {
    let mut thread = 0u32;
    // SAFETY: the kernel writes the new thread's name into `thread`, ours.
    to_result(unsafe { raw_trap(Trap::ThreadCreate as u64, [task as u64, &raw mut thread as u64, 0, 0, 0, 0]) })?;
    Ok(thread)
}

/// Sets `thread`'s registers: `state` is the `flavor`'s words (the
/// architecture's own: `x86_thread_state64_t` or `arm_thread_state64_t` as
/// 32-bit words; `mach_abi::NativeThreadState` builds them).
pub fn thread_set_state(thread: PortName, flavor: u32, state: &[u32]) -> Result<(), KernReturn> {
    let arguments = [thread as u64, flavor as u64, state.as_ptr() as u64, state.len() as u64, 0, 0];
    trap(Trap::ThreadSetState, arguments)
}

/// Where `task`'s exceptions in `mask` go (a send right the caller names;
/// `MACH_PORT_NULL` clears it).
pub fn task_set_exception_port(task: PortName, mask: u32, port: PortName) -> Result<(), KernReturn> {
    task_set_exception_port_with(task, mask, port, crate::abi::EXCEPTION_DEFAULT)
}

/// [`task_set_exception_port`] with the messages' `behavior`:
/// `EXCEPTION_DEFAULT` (the thread and task ports), `EXCEPTION_STATE` (the
/// registers in the request and the reply, no ports) or
/// `EXCEPTION_STATE_IDENTITY` (both); see `mach_abi::exception`.
pub fn task_set_exception_port_with(
    task: PortName,
    mask: u32,
    port: PortName,
    behavior: u32,
) -> Result<(), KernReturn> {
    trap(Trap::TaskSetExceptionPort, [task as u64, mask as u64, port as u64, behavior as u64, 0, 0])
}

pub fn task_terminate(task: PortName) -> Result<(), KernReturn> {
    trap(Trap::TaskTerminate, [task as u64, 0, 0, 0, 0, 0])
}

pub fn task_suspend(task: PortName) -> Result<(), KernReturn> {
    trap(Trap::TaskSuspend, [task as u64, 0, 0, 0, 0, 0])
}

pub fn task_resume(task: PortName) -> Result<(), KernReturn> {
    trap(Trap::TaskResume, [task as u64, 0, 0, 0, 0, 0])
}

pub fn thread_terminate(thread: PortName) -> Result<(), KernReturn> {
    trap(Trap::ThreadTerminate, [thread as u64, 0, 0, 0, 0, 0])
}

pub fn thread_suspend(thread: PortName) -> Result<(), KernReturn> {
    trap(Trap::ThreadSuspend, [thread as u64, 0, 0, 0, 0, 0])
}

pub fn thread_resume(thread: PortName) -> Result<(), KernReturn> {
    trap(Trap::ThreadResume, [thread as u64, 0, 0, 0, 0, 0])
}

/// `vm_allocate`: `address` is the wished-for address (with
/// `VM_FLAGS_FIXED`) or where to start looking (`VM_FLAGS_ANYWHERE`).
pub fn vm_allocate(task: PortName, address: u64, size: u64, flags: u32) -> Result<u64, KernReturn> {
    let mut address = address;
    // SAFETY: the kernel reads and writes the 8 bytes of `address`, ours.
    to_result(unsafe {
        raw_trap(Trap::VmAllocate as u64, [task as u64, &raw mut address as u64, size, flags as u64, 0, 0])
    })?;
    Ok(address)
}

pub fn vm_deallocate(task: PortName, address: u64, size: u64) -> Result<(), KernReturn> {
    trap(Trap::VmDeallocate, [task as u64, address, size, 0, 0, 0])
}

pub fn vm_protect(
    task: PortName,
    address: u64,
    size: u64,
    set_maximum: bool,
    protection: u32,
) -> Result<(), KernReturn> {
    trap(Trap::VmProtect, [task as u64, address, size, set_maximum as u64, protection as u64, 0])
}

pub fn vm_inherit(task: PortName, address: u64, size: u64, inheritance: u32) -> Result<(), KernReturn> {
    trap(Trap::VmInherit, [task as u64, address, size, inheritance as u64, 0, 0])
}

/// The first region at or above `address`: (start, size, basic info).
pub fn vm_region(task: PortName, address: u64) -> Result<(u64, u64, mach_abi::VmRegionBasicInfo), KernReturn> {
    let mut start = address;
    let mut size = 0u64;
    let mut info = mach_abi::VmRegionBasicInfo::default();
    let mut count = mach_abi::VM_REGION_BASIC_INFO_COUNT;
    let arguments = [
        task as u64,
        &raw mut start as u64,
        &raw mut size as u64,
        mach_abi::VM_REGION_BASIC_INFO as u64,
        &raw mut info as u64,
        &raw mut count as u64,
    ];
    // SAFETY: the kernel writes `start`, `size`, `info` and `count`, all ours
    // and as large as the flavor says.
    to_result(unsafe { raw_trap(Trap::VmRegion as u64, arguments) })?;
    Ok((start, size, info))
}

/// Copies `data` into `task` at `address`.
pub fn vm_write(task: PortName, address: u64, data: &[u8]) -> Result<(), KernReturn> {
    trap(Trap::VmWrite, [task as u64, address, data.as_ptr() as u64, data.len() as u64, 0, 0])
}

/// Copies `size` bytes of `task` at `address` into new memory of the
/// caller; returns its address (free it with `vm_deallocate`).
pub fn vm_read(task: PortName, address: u64, size: u64) -> Result<u64, KernReturn> {
    let mut data = 0u64;
    let mut count = 0u32;
    // SAFETY: the kernel writes 8 bytes into `data` and 4 into `count`.
    to_result(unsafe {
        raw_trap(Trap::VmRead as u64, [task as u64, address, size, &raw mut data as u64, &raw mut count as u64, 0])
    })?;
    Ok(data)
}

/// `task_info(task, TASK_BASIC_INFO)`: its threads, resident pages, port
/// names and the timer ticks its threads have run.
pub fn task_basic_info(task: PortName) -> Result<mach_abi::TaskBasicInfo, KernReturn> {
    let mut words = [0u32; mach_abi::TASK_BASIC_INFO_COUNT as usize];
    let mut count = words.len() as u32;
    let arguments =
        [task as u64, mach_abi::TASK_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0];
    // SAFETY: the kernel writes at most `count` (= words.len()) words into
    // `words` and one into `count`, both ours.
    to_result(unsafe { raw_trap(Trap::TaskInfo as u64, arguments) })?;
    let word = |index: usize| words[index];
    Ok(mach_abi::TaskBasicInfo {
        suspend_count: word(0),
        thread_count: word(1),
        resident_pages: word(2),
        port_names: word(3),
        cpu_ticks: word(4) as u64 | (word(5) as u64) << 32,
    })
}

/// `thread_info(thread, THREAD_BASIC_INFO)`: its state, priority, suspend
/// count, the timer ticks it has run and the tick's length.
pub fn thread_basic_info(thread: PortName) -> Result<mach_abi::ThreadBasicInfo, KernReturn> {
    let mut words = [0u32; mach_abi::THREAD_BASIC_INFO_COUNT as usize];
    let mut count = words.len() as u32;
    let arguments =
        [thread as u64, mach_abi::THREAD_BASIC_INFO as u64, words.as_mut_ptr() as u64, &raw mut count as u64, 0, 0];
    // SAFETY: as for `task_basic_info`.
    to_result(unsafe { raw_trap(Trap::ThreadInfo as u64, arguments) })?;
    let word = |index: usize| words[index];
    Ok(mach_abi::ThreadBasicInfo {
        run_state: word(0),
        priority: word(1),
        suspend_count: word(2),
        tick_nanoseconds: word(3),
        cpu_ticks: word(4) as u64 | (word(5) as u64) << 32,
    })
}
