//! Trap numbers and the calling convention.
//!
//! # Calling convention
//!
//! - x86_64: `syscall` with `rax` = trap number, arguments in `rdi`, `rsi`,
//!   `rdx`, `r10`, `r8`, `r9` (the Linux order: `r10` replaces `rcx`, which
//!   `syscall` clobbers with the return address); the result in `rax`. `rcx`
//!   and `r11` are clobbered, every other register is preserved.
//! - aarch64: `svc #0` with `x8` = trap number, arguments in `x0`..`x5`, the
//!   result in `x0`; every other register is preserved.
//!
//! Results are a [`crate::KernReturn`] (or [`crate::MachMsgReturn`] for
//! `mach_msg`) zero-extended to 64 bits, except the "self" traps and
//! `mach_reply_port`, which return a port name (`MACH_PORT_NULL` on failure).
//! Outputs other than the result are written through pointer arguments. An
//! unknown number, or a reserved one the running kernel does not implement
//! yet, returns `KERN_NOT_SUPPORTED`.
//!
//! Numbers are stable. Gaps are left in every group; the groups for memory,
//! pagers, exceptions and devices are reserved now ([`Trap::is_reserved`]) and
//! get their kernel implementation later without renumbering.

use crate::code_enum::code_enum;

code_enum! {
    /// The trap numbers. See `docs/abi.md` for each trap's arguments.
    pub enum Trap {
        // IPC: 1..=9
        MachMsg = 1 => "MACH_TRAP_MACH_MSG",
        MachReplyPort = 2 => "MACH_TRAP_MACH_REPLY_PORT",
        TaskSelf = 3 => "MACH_TRAP_TASK_SELF",
        ThreadSelf = 4 => "MACH_TRAP_THREAD_SELF",
        HostSelf = 5 => "MACH_TRAP_HOST_SELF",
        // Port and right management: 10..=29
        PortAllocate = 10 => "MACH_TRAP_PORT_ALLOCATE",
        PortDeallocate = 11 => "MACH_TRAP_PORT_DEALLOCATE",
        PortDestroy = 12 => "MACH_TRAP_PORT_DESTROY",
        PortModRefs = 13 => "MACH_TRAP_PORT_MOD_REFS",
        PortInsertRight = 14 => "MACH_TRAP_PORT_INSERT_RIGHT",
        PortExtractRight = 15 => "MACH_TRAP_PORT_EXTRACT_RIGHT",
        PortMoveMember = 16 => "MACH_TRAP_PORT_MOVE_MEMBER",
        PortGetAttributes = 17 => "MACH_TRAP_PORT_GET_ATTRIBUTES",
        PortSetAttributes = 18 => "MACH_TRAP_PORT_SET_ATTRIBUTES",
        PortRequestNotification = 19 => "MACH_TRAP_PORT_REQUEST_NOTIFICATION",
        PortType = 20 => "MACH_TRAP_PORT_TYPE",
        // Tasks: 30..=39
        TaskCreate = 30 => "MACH_TRAP_TASK_CREATE",
        TaskTerminate = 31 => "MACH_TRAP_TASK_TERMINATE",
        TaskSuspend = 32 => "MACH_TRAP_TASK_SUSPEND",
        TaskResume = 33 => "MACH_TRAP_TASK_RESUME",
        TaskInfo = 34 => "MACH_TRAP_TASK_INFO",
        TaskSetName = 35 => "MACH_TRAP_TASK_SET_NAME",
        TaskSetCredential = 36 => "MACH_TRAP_TASK_SET_CREDENTIAL",
        // Threads: 40..=49
        ThreadCreate = 40 => "MACH_TRAP_THREAD_CREATE",
        ThreadTerminate = 41 => "MACH_TRAP_THREAD_TERMINATE",
        ThreadSuspend = 42 => "MACH_TRAP_THREAD_SUSPEND",
        ThreadResume = 43 => "MACH_TRAP_THREAD_RESUME",
        ThreadGetState = 44 => "MACH_TRAP_THREAD_GET_STATE",
        ThreadSetState = 45 => "MACH_TRAP_THREAD_SET_STATE",
        ThreadInfo = 46 => "MACH_TRAP_THREAD_INFO",
        ThreadSwitch = 47 => "MACH_TRAP_THREAD_SWITCH",
        ThreadAbort = 48 => "MACH_TRAP_THREAD_ABORT",
        ThreadSetTls = 49 => "MACH_TRAP_THREAD_SET_TLS",
        // Time and debugging: 50..=59
        ClockGetTime = 50 => "MACH_TRAP_CLOCK_GET_TIME",
        DebugPrint = 51 => "MACH_TRAP_DEBUG_PRINT",
        KernelLogRead = 52 => "MACH_TRAP_KERNEL_LOG_READ",
        KernelLogHandover = 53 => "MACH_TRAP_KERNEL_LOG_HANDOVER",
        // Reserved, virtual memory: 60..=69
        VmAllocate = 60 => "MACH_TRAP_VM_ALLOCATE",
        VmDeallocate = 61 => "MACH_TRAP_VM_DEALLOCATE",
        VmProtect = 62 => "MACH_TRAP_VM_PROTECT",
        VmInherit = 63 => "MACH_TRAP_VM_INHERIT",
        VmRegion = 64 => "MACH_TRAP_VM_REGION",
        VmRead = 65 => "MACH_TRAP_VM_READ",
        VmWrite = 66 => "MACH_TRAP_VM_WRITE",
        VmMap = 67 => "MACH_TRAP_VM_MAP",
        TaskSetMemoryLimit = 69 => "MACH_TRAP_TASK_SET_MEMORY_LIMIT",
        // Reserved, memory objects and pagers: 70..=79
        MemoryObjectCreate = 70 => "MACH_TRAP_MEMORY_OBJECT_CREATE",
        MemoryObjectDataSupply = 71 => "MACH_TRAP_MEMORY_OBJECT_DATA_SUPPLY",
        MemoryObjectDataUnavailable = 72 => "MACH_TRAP_MEMORY_OBJECT_DATA_UNAVAILABLE",
        MemoryObjectLockRequest = 73 => "MACH_TRAP_MEMORY_OBJECT_LOCK_REQUEST",
        MemoryObjectDestroy = 74 => "MACH_TRAP_MEMORY_OBJECT_DESTROY",
        TaskSetPager = 75 => "MACH_TRAP_TASK_SET_PAGER",
        MemoryObjectDataError = 76 => "MACH_TRAP_MEMORY_OBJECT_DATA_ERROR",
        // Reserved, exception ports: 80..=89
        TaskSetExceptionPort = 80 => "MACH_TRAP_TASK_SET_EXCEPTION_PORT",
        TaskGetExceptionPort = 81 => "MACH_TRAP_TASK_GET_EXCEPTION_PORT",
        ThreadSetExceptionPort = 82 => "MACH_TRAP_THREAD_SET_EXCEPTION_PORT",
        ThreadGetExceptionPort = 83 => "MACH_TRAP_THREAD_GET_EXCEPTION_PORT",
        // Reserved, devices and interrupts: 90..=99
        DeviceMapMemory = 90 => "MACH_TRAP_DEVICE_MAP_MEMORY",
        DeviceDmaAllocate = 91 => "MACH_TRAP_DEVICE_DMA_ALLOCATE",
        InterruptBind = 92 => "MACH_TRAP_INTERRUPT_BIND",
        InterruptAcknowledge = 93 => "MACH_TRAP_INTERRUPT_ACKNOWLEDGE",
        IoPortAccess = 94 => "MACH_TRAP_IO_PORT_ACCESS",
        InterruptBindMsi = 95 => "MACH_TRAP_INTERRUPT_BIND_MSI",
        HostPowerOff = 96 => "MACH_TRAP_HOST_POWER_OFF",
    }
}

/// One past the largest trap number; the kernel's dispatch table size.
pub const MACH_TRAP_COUNT: u32 = 100;

/// Longest name `task_set_name` takes, in bytes (UTF-8).
pub const TASK_NAME_MAX: usize = 32;

/// `task_create` flag: the child's address space is the parent's, region by
/// region, by each region's inheritance (`VM_INHERIT_COPY`: copy-on-write;
/// `VM_INHERIT_SHARE`: the same memory; `VM_INHERIT_NONE`: absent); device
/// and DMA regions never pass to a child. See docs/vm.md.
pub const TASK_CREATE_INHERIT_MEMORY: u64 = 1 << 0;
/// `task_create` flag: the child's IPC space gets every send right (with its
/// user references) and dead name of the parent's space, under the same
/// names, in the one trap (all or nothing). Receive rights, send-once rights
/// and port sets are not copied.
pub const TASK_CREATE_INHERIT_SEND_RIGHTS: u64 = 1 << 1;
/// Every `task_create` flag; any other bit is `KERN_INVALID_ARGUMENT`.
pub const TASK_CREATE_FLAGS: u64 = TASK_CREATE_INHERIT_MEMORY | TASK_CREATE_INHERIT_SEND_RIGHTS;

/// `SWITCH_OPTION_NONE` for `thread_switch`: a plain yield.
pub const SWITCH_OPTION_NONE: u32 = 0;
/// `SWITCH_OPTION_DEPRESS`: run at the lowest priority for `timeout` ms.
pub const SWITCH_OPTION_DEPRESS: u32 = 1;
/// `SWITCH_OPTION_WAIT`: sleep for `timeout` ms.
pub const SWITCH_OPTION_WAIT: u32 = 2;

impl Trap {
    /// True for numbers reserved for the memory, pager, exception and device
    /// groups: listed so that they stay stable, implemented by a later kernel.
    pub const fn is_reserved(self) -> bool {
        (self as u32) >= 60
    }

    /// How many argument registers the trap reads.
    pub const fn argument_count(self) -> usize {
        self.argument_names().len()
    }

    /// The trap's arguments in register order (names as in `docs/abi.md`).
    pub const fn argument_names(self) -> &'static [&'static str] {
        match self {
            Trap::MachMsg => &["msg", "option", "send_size", "receive_size", "receive_name", "timeout"],
            Trap::MachReplyPort | Trap::TaskSelf | Trap::ThreadSelf | Trap::HostSelf => &[],
            Trap::PortAllocate => &["task", "right", "name_out"],
            Trap::PortDeallocate | Trap::PortDestroy => &["task", "name"],
            Trap::PortModRefs => &["task", "name", "right", "delta"],
            Trap::PortInsertRight => &["task", "name", "right_name", "disposition"],
            Trap::PortExtractRight => &["task", "name", "disposition", "right_out", "type_out"],
            Trap::PortMoveMember => &["task", "member", "after"],
            Trap::PortGetAttributes => &["task", "name", "flavor", "info_out", "count_in_out"],
            Trap::PortSetAttributes => &["task", "name", "flavor", "info", "count"],
            Trap::PortRequestNotification => &["task", "name", "request", "sync", "notify", "previous_out"],
            Trap::PortType => &["task", "name", "type_out"],
            Trap::TaskCreate => &["parent", "flags", "child_out"],
            Trap::TaskTerminate | Trap::TaskSuspend | Trap::TaskResume => &["task"],
            Trap::TaskInfo => &["task", "flavor", "info_out", "count_in_out"],
            Trap::TaskSetName => &["task", "name", "length"],
            Trap::TaskSetCredential => &["host_priv", "task", "credential"],
            Trap::ThreadCreate => &["task", "thread_out"],
            Trap::ThreadTerminate | Trap::ThreadSuspend | Trap::ThreadResume | Trap::ThreadAbort => &["thread"],
            Trap::ThreadGetState => &["thread", "flavor", "state_out", "count_in_out"],
            Trap::ThreadSetState => &["thread", "flavor", "state", "count"],
            Trap::ThreadInfo => &["thread", "flavor", "info_out", "count_in_out"],
            Trap::ThreadSwitch => &["thread_hint", "option", "timeout"],
            Trap::ThreadSetTls => &["thread", "value"],
            Trap::ClockGetTime => &["time_out"],
            Trap::DebugPrint => &["text", "length"],
            Trap::KernelLogRead => &["host", "buffer", "size", "sequence_in_out", "length_out"],
            Trap::KernelLogHandover => &["host", "port", "sequence_out"],
            Trap::VmAllocate => &["task", "address_in_out", "size", "flags"],
            Trap::VmDeallocate => &["task", "address", "size"],
            Trap::VmProtect => &["task", "address", "size", "set_maximum", "protection"],
            Trap::VmInherit => &["task", "address", "size", "inheritance"],
            Trap::VmRegion => &["task", "address_in_out", "size_out", "flavor", "info_out", "count_in_out"],
            Trap::VmRead => &["task", "address", "size", "data_out", "count_out"],
            Trap::VmWrite => &["task", "address", "data", "count"],
            Trap::VmMap => &["task", "address_in_out", "size", "flags", "memory_object", "offset"],
            Trap::TaskSetMemoryLimit => &["host", "task", "pages"],
            Trap::MemoryObjectCreate => &["pager", "size", "object_out"],
            Trap::MemoryObjectDataSupply => &["object", "offset", "data", "size", "lock"],
            Trap::MemoryObjectDataUnavailable => &["object", "offset", "size"],
            Trap::MemoryObjectLockRequest => &["object", "offset", "size", "lock", "flags", "return_buffer"],
            Trap::MemoryObjectDataError => &["object", "offset", "size", "error"],
            Trap::MemoryObjectDestroy => &["object", "reason"],
            Trap::TaskSetPager => &["task", "pager"],
            Trap::TaskSetExceptionPort | Trap::ThreadSetExceptionPort => {
                &["target", "exception_mask", "port", "behavior"]
            }
            Trap::TaskGetExceptionPort | Trap::ThreadGetExceptionPort => &["target", "exception", "port_out"],
            Trap::DeviceMapMemory => &["device", "physical_address", "size", "address_out"],
            Trap::DeviceDmaAllocate => &["device", "size", "address_out", "physical_out"],
            Trap::InterruptBind => &["device", "interrupt", "port"],
            Trap::InterruptAcknowledge => &["device", "interrupt"],
            Trap::IoPortAccess => &["device", "first_port", "count", "task"],
            Trap::InterruptBindMsi => &["device", "port", "address_out", "data_out"],
            Trap::HostPowerOff => &["host", "status"],
        }
    }
}

/// Packs `port_request_notification`'s third argument: the notification kind
/// (`MACH_NOTIFY_*` id) in the low 16 bits and the disposition of the notify
/// right (`MAKE_SEND_ONCE` or `MOVE_SEND_ONCE`) in bits 16..24.
///
/// xnu's routine takes seven arguments; the calling convention has six
/// registers, so the two small ones share one.
pub const fn pack_notification_request(message_id: u32, notify_disposition: u32) -> u64 {
    ((message_id & 0xffff) | ((notify_disposition & 0xff) << 16)) as u64
}

/// Splits what [`pack_notification_request`] packed: `(message_id, disposition)`.
pub const fn unpack_notification_request(request: u64) -> (u32, u32) {
    ((request & 0xffff) as u32, ((request >> 16) & 0xff) as u32)
}

/// `mach_timespec_t`, written by `clock_get_time`: time since boot.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachTimespec {
    /// Whole seconds.
    pub seconds: u32,
    /// Nanoseconds, 0..1_000_000_000.
    pub nanoseconds: i32,
}

const _: () = assert!(core::mem::size_of::<MachTimespec>() == 8);

/// Message id of an interrupt delivered to a bound port; the body is the
/// interrupt number (`u32`): the I/O APIC line (0..24), or the vector of a
/// message-signalled interrupt (what `interrupt_bind_msi` put in the data's
/// low byte). A line stays masked, and a message-signalled interrupt sends
/// no further message, until `interrupt_acknowledge`.
pub const INTERRUPT_MESSAGE_ID: i32 = 2900;

/// Message id of the kernel's "new log lines" notice to the port given to
/// `kernel_log_handover`; the body is the sequence the next line will get
/// (`u64`). One is sent at a time: the next only after the holder has read
/// with `kernel_log_read`.
pub const KERNEL_LOG_MESSAGE_ID: i32 = 2901;

/// The longest kernel log line, with its `\n`: a longer one is cut into
/// lines of this length. A `kernel_log_read` buffer of this size always
/// takes at least one line.
pub const KERNEL_LOG_LINE_MAX: usize = 512;
