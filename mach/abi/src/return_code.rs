//! Return codes: `kern_return_t` and `mach_msg_return_t`, with xnu's values.

use crate::code_enum::code_enum;

code_enum! {
    /// `kern_return_t`: the result of every trap except `mach_msg`.
    ///
    /// Values are xnu's (`mach/kern_return.h`), so C code and debuggers read
    /// them as a Mach programmer expects.
    pub enum KernReturn {
        Success = 0 => "KERN_SUCCESS",
        InvalidAddress = 1 => "KERN_INVALID_ADDRESS",
        ProtectionFailure = 2 => "KERN_PROTECTION_FAILURE",
        NoSpace = 3 => "KERN_NO_SPACE",
        InvalidArgument = 4 => "KERN_INVALID_ARGUMENT",
        Failure = 5 => "KERN_FAILURE",
        ResourceShortage = 6 => "KERN_RESOURCE_SHORTAGE",
        NotReceiver = 7 => "KERN_NOT_RECEIVER",
        NoAccess = 8 => "KERN_NO_ACCESS",
        MemoryFailure = 9 => "KERN_MEMORY_FAILURE",
        MemoryError = 10 => "KERN_MEMORY_ERROR",
        AlreadyInSet = 11 => "KERN_ALREADY_IN_SET",
        NotInSet = 12 => "KERN_NOT_IN_SET",
        NameExists = 13 => "KERN_NAME_EXISTS",
        Aborted = 14 => "KERN_ABORTED",
        InvalidName = 15 => "KERN_INVALID_NAME",
        InvalidTask = 16 => "KERN_INVALID_TASK",
        InvalidRight = 17 => "KERN_INVALID_RIGHT",
        InvalidValue = 18 => "KERN_INVALID_VALUE",
        UrefsOverflow = 19 => "KERN_UREFS_OVERFLOW",
        InvalidCapability = 20 => "KERN_INVALID_CAPABILITY",
        RightExists = 21 => "KERN_RIGHT_EXISTS",
        InvalidHost = 22 => "KERN_INVALID_HOST",
        MemoryPresent = 23 => "KERN_MEMORY_PRESENT",
        InvalidProcessorSet = 26 => "KERN_INVALID_PROCESSOR_SET",
        PolicyLimit = 27 => "KERN_POLICY_LIMIT",
        InvalidPolicy = 28 => "KERN_INVALID_POLICY",
        InvalidObject = 29 => "KERN_INVALID_OBJECT",
        AlreadyWaiting = 30 => "KERN_ALREADY_WAITING",
        ExceptionProtected = 32 => "KERN_EXCEPTION_PROTECTED",
        InvalidSecurity = 35 => "KERN_INVALID_SECURITY",
        Terminated = 37 => "KERN_TERMINATED",
        NotSupported = 46 => "KERN_NOT_SUPPORTED",
        NotWaiting = 48 => "KERN_NOT_WAITING",
        OperationTimedOut = 49 => "KERN_OPERATION_TIMED_OUT",
        InsufficientBufferSize = 52 => "KERN_INSUFFICIENT_BUFFER_SIZE",
        Denied = 53 => "KERN_DENIED",
        NotFound = 56 => "KERN_NOT_FOUND",
    }
}

code_enum! {
    /// `mach_msg_return_t`: the result of the `mach_msg` trap.
    ///
    /// Values are xnu's (`mach/message.h`). Send errors are `0x1000_00xx`,
    /// receive errors `0x1000_40xx`. A receive that delivered the message but
    /// had to drop rights or memory ORs one of the `MACH_MSG_*_SPACE` bits
    /// (see [`MACH_MSG_MASK`]) into the raw value; [`MachMsgReturn::from_u32`]
    /// sees such a value only after masking with `!MACH_MSG_MASK`.
    pub enum MachMsgReturn {
        Success = 0 => "MACH_MSG_SUCCESS",
        SendInProgress = 0x1000_0001 => "MACH_SEND_IN_PROGRESS",
        SendInvalidData = 0x1000_0002 => "MACH_SEND_INVALID_DATA",
        SendInvalidDest = 0x1000_0003 => "MACH_SEND_INVALID_DEST",
        SendTimedOut = 0x1000_0004 => "MACH_SEND_TIMED_OUT",
        SendInvalidVoucher = 0x1000_0005 => "MACH_SEND_INVALID_VOUCHER",
        SendInterrupted = 0x1000_0007 => "MACH_SEND_INTERRUPTED",
        SendMsgTooSmall = 0x1000_0008 => "MACH_SEND_MSG_TOO_SMALL",
        SendInvalidReply = 0x1000_0009 => "MACH_SEND_INVALID_REPLY",
        SendInvalidRight = 0x1000_000a => "MACH_SEND_INVALID_RIGHT",
        SendInvalidNotify = 0x1000_000b => "MACH_SEND_INVALID_NOTIFY",
        SendInvalidMemory = 0x1000_000c => "MACH_SEND_INVALID_MEMORY",
        SendNoBuffer = 0x1000_000d => "MACH_SEND_NO_BUFFER",
        SendTooLarge = 0x1000_000e => "MACH_SEND_TOO_LARGE",
        SendInvalidType = 0x1000_000f => "MACH_SEND_INVALID_TYPE",
        SendInvalidHeader = 0x1000_0010 => "MACH_SEND_INVALID_HEADER",
        SendInvalidTrailer = 0x1000_0011 => "MACH_SEND_INVALID_TRAILER",
        ReceiveInProgress = 0x1000_4001 => "MACH_RCV_IN_PROGRESS",
        ReceiveInvalidName = 0x1000_4002 => "MACH_RCV_INVALID_NAME",
        ReceiveTimedOut = 0x1000_4003 => "MACH_RCV_TIMED_OUT",
        ReceiveTooLarge = 0x1000_4004 => "MACH_RCV_TOO_LARGE",
        ReceiveInterrupted = 0x1000_4005 => "MACH_RCV_INTERRUPTED",
        ReceivePortChanged = 0x1000_4006 => "MACH_RCV_PORT_CHANGED",
        ReceiveInvalidNotify = 0x1000_4007 => "MACH_RCV_INVALID_NOTIFY",
        ReceiveInvalidData = 0x1000_4008 => "MACH_RCV_INVALID_DATA",
        ReceivePortDied = 0x1000_4009 => "MACH_RCV_PORT_DIED",
        ReceiveInSet = 0x1000_400a => "MACH_RCV_IN_SET",
        ReceiveHeaderError = 0x1000_400b => "MACH_RCV_HEADER_ERROR",
        ReceiveBodyError = 0x1000_400c => "MACH_RCV_BODY_ERROR",
        ReceiveInvalidType = 0x1000_400d => "MACH_RCV_INVALID_TYPE",
        ReceiveScatterSmall = 0x1000_400e => "MACH_RCV_SCATTER_SMALL",
        ReceiveInvalidTrailer = 0x1000_400f => "MACH_RCV_INVALID_TRAILER",
    }
}

/// Bits a `mach_msg_return_t` may carry beside its code (xnu's `MACH_MSG_MASK`).
pub const MACH_MSG_MASK: u32 = 0x0000_3e00;
/// A right could not be given a name in the receiver's space and was destroyed.
pub const MACH_MSG_IPC_SPACE: u32 = 0x0000_2000;
/// Out-of-line memory could not be mapped in the receiver and was discarded.
pub const MACH_MSG_VM_SPACE: u32 = 0x0000_1000;
/// The kernel ran out of IPC resources while copying the message out.
pub const MACH_MSG_IPC_KERNEL: u32 = 0x0000_0800;
/// The kernel ran out of VM resources while copying the message out.
pub const MACH_MSG_VM_KERNEL: u32 = 0x0000_0400;

impl MachMsgReturn {
    /// Splits a raw `mach_msg` result into its code and its `MACH_MSG_MASK` bits.
    pub const fn decode(raw: u32) -> Option<(MachMsgReturn, u32)> {
        match MachMsgReturn::from_u32(raw & !MACH_MSG_MASK) {
            Some(code) => Some((code, raw & MACH_MSG_MASK)),
            None => None,
        }
    }

    /// True for the codes of the send phase (`MACH_SEND_*`).
    pub const fn is_send_error(self) -> bool {
        (self as u32) & 0xffff_c000 == 0x1000_0000 && (self as u32) != 0
    }

    /// True for the codes of the receive phase (`MACH_RCV_*`).
    pub const fn is_receive_error(self) -> bool {
        (self as u32) & 0xffff_c000 == 0x1000_4000
    }
}

impl KernReturn {
    /// `Ok(())` for `KERN_SUCCESS`, the code otherwise: lets callers use `?`.
    pub fn into_result(self) -> Result<(), KernReturn> {
        match self {
            KernReturn::Success => Ok(()),
            error => Err(error),
        }
    }
}
