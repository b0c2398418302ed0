//! Renders `include/mach/mach_abi.h`, the C view of this crate.
//!
//! Every constant, enum value and struct layout in the header comes from the
//! Rust definitions: values are printed from the enums' `ALL` tables, struct
//! fields carry offsets measured with `offset_of!` on the Rust structs, and
//! the header `_Static_assert`s each size and offset, plus the results of the
//! C macros against the Rust `const fn`s. The test `header_is_current`
//! fails when the committed header is stale; regenerate it with
//! `cargo run -p mach-abi --example render-header`.

use core::fmt::{self, Write};
use core::mem::{offset_of, size_of};

use crate::bootstrap::*;
use crate::exception::*;
use crate::message::*;
use crate::notify::*;
use crate::pager::*;
use crate::port::*;
use crate::return_code::*;
use crate::thread_state::*;
use crate::trap::*;
use crate::vm::*;

/// Path of the generated header, relative to the crate's directory.
pub const C_HEADER_PATH: &str = "include/mach/mach_abi.h";

struct StructLayout {
    c_name: &'static str,
    rust_name: &'static str,
    size: usize,
    fields: &'static [(&'static str, &'static str, usize)],
}

const STRUCTS: &[StructLayout] = &[
    StructLayout {
        c_name: "vm_region_basic_info_data_t",
        rust_name: "VmRegionBasicInfo",
        size: size_of::<VmRegionBasicInfo>(),
        fields: &[
            ("uint32_t", "protection", offset_of!(VmRegionBasicInfo, protection)),
            ("uint32_t", "max_protection", offset_of!(VmRegionBasicInfo, max_protection)),
            ("uint32_t", "inheritance", offset_of!(VmRegionBasicInfo, inheritance)),
            ("uint32_t", "resident_pages", offset_of!(VmRegionBasicInfo, resident_pages)),
        ],
    },
    StructLayout {
        c_name: "boot_module_t",
        rust_name: "BootModule",
        size: size_of::<BootModule>(),
        fields: &[
            ("uint64_t", "address", offset_of!(BootModule, address)),
            ("uint64_t", "size", offset_of!(BootModule, size)),
            ("char", "name[BOOTSTRAP_MODULE_NAME_MAX]", offset_of!(BootModule, name)),
        ],
    },
    StructLayout {
        c_name: "bootstrap_info_t",
        rust_name: "BootstrapInfo",
        size: size_of::<BootstrapInfo>(),
        fields: &[
            ("uint32_t", "magic", offset_of!(BootstrapInfo, magic)),
            ("uint32_t", "version", offset_of!(BootstrapInfo, version)),
            ("uint32_t", "host_port", offset_of!(BootstrapInfo, host_port)),
            ("uint32_t", "module_count", offset_of!(BootstrapInfo, module_count)),
            ("boot_module_t", "modules[]", offset_of!(BootstrapInfo, modules)),
        ],
    },
    StructLayout {
        c_name: "arm_thread_state64_t",
        rust_name: "ArmThreadState64",
        size: size_of::<ArmThreadState64>(),
        fields: &[
            ("uint64_t", "__x[29]", offset_of!(ArmThreadState64, x)),
            ("uint64_t", "__fp", offset_of!(ArmThreadState64, fp)),
            ("uint64_t", "__lr", offset_of!(ArmThreadState64, lr)),
            ("uint64_t", "__sp", offset_of!(ArmThreadState64, sp)),
            ("uint64_t", "__pc", offset_of!(ArmThreadState64, pc)),
            ("uint32_t", "__cpsr", offset_of!(ArmThreadState64, cpsr)),
            ("uint32_t", "__pad", offset_of!(ArmThreadState64, pad)),
        ],
    },
    StructLayout {
        c_name: "x86_thread_state64_t",
        rust_name: "X86ThreadState64",
        size: size_of::<X86ThreadState64>(),
        fields: &[
            ("uint64_t", "__rax", offset_of!(X86ThreadState64, rax)),
            ("uint64_t", "__rbx", offset_of!(X86ThreadState64, rbx)),
            ("uint64_t", "__rcx", offset_of!(X86ThreadState64, rcx)),
            ("uint64_t", "__rdx", offset_of!(X86ThreadState64, rdx)),
            ("uint64_t", "__rdi", offset_of!(X86ThreadState64, rdi)),
            ("uint64_t", "__rsi", offset_of!(X86ThreadState64, rsi)),
            ("uint64_t", "__rbp", offset_of!(X86ThreadState64, rbp)),
            ("uint64_t", "__rsp", offset_of!(X86ThreadState64, rsp)),
            ("uint64_t", "__r8", offset_of!(X86ThreadState64, r8)),
            ("uint64_t", "__r9", offset_of!(X86ThreadState64, r9)),
            ("uint64_t", "__r10", offset_of!(X86ThreadState64, r10)),
            ("uint64_t", "__r11", offset_of!(X86ThreadState64, r11)),
            ("uint64_t", "__r12", offset_of!(X86ThreadState64, r12)),
            ("uint64_t", "__r13", offset_of!(X86ThreadState64, r13)),
            ("uint64_t", "__r14", offset_of!(X86ThreadState64, r14)),
            ("uint64_t", "__r15", offset_of!(X86ThreadState64, r15)),
            ("uint64_t", "__rip", offset_of!(X86ThreadState64, rip)),
            ("uint64_t", "__rflags", offset_of!(X86ThreadState64, rflags)),
            ("uint64_t", "__cs", offset_of!(X86ThreadState64, cs)),
            ("uint64_t", "__fs", offset_of!(X86ThreadState64, fs)),
            ("uint64_t", "__gs", offset_of!(X86ThreadState64, gs)),
        ],
    },
    StructLayout {
        c_name: "task_basic_info_data_t",
        rust_name: "TaskBasicInfo",
        size: size_of::<TaskBasicInfo>(),
        fields: &[
            ("uint32_t", "suspend_count", offset_of!(TaskBasicInfo, suspend_count)),
            ("uint32_t", "thread_count", offset_of!(TaskBasicInfo, thread_count)),
            ("uint32_t", "resident_pages", offset_of!(TaskBasicInfo, resident_pages)),
            ("uint32_t", "port_names", offset_of!(TaskBasicInfo, port_names)),
            ("uint64_t", "cpu_ticks", offset_of!(TaskBasicInfo, cpu_ticks)),
        ],
    },
    StructLayout {
        c_name: "thread_basic_info_data_t",
        rust_name: "ThreadBasicInfo",
        size: size_of::<ThreadBasicInfo>(),
        fields: &[
            ("uint32_t", "run_state", offset_of!(ThreadBasicInfo, run_state)),
            ("uint32_t", "priority", offset_of!(ThreadBasicInfo, priority)),
            ("uint32_t", "suspend_count", offset_of!(ThreadBasicInfo, suspend_count)),
            ("uint32_t", "tick_nanoseconds", offset_of!(ThreadBasicInfo, tick_nanoseconds)),
            ("uint64_t", "cpu_ticks", offset_of!(ThreadBasicInfo, cpu_ticks)),
        ],
    },
    StructLayout {
        c_name: "mach_msg_header_t",
        rust_name: "MachMsgHeader",
        size: size_of::<MachMsgHeader>(),
        fields: &[
            ("mach_msg_bits_t", "msgh_bits", offset_of!(MachMsgHeader, bits)),
            ("mach_msg_size_t", "msgh_size", offset_of!(MachMsgHeader, size)),
            ("mach_port_t", "msgh_remote_port", offset_of!(MachMsgHeader, remote_port)),
            ("mach_port_t", "msgh_local_port", offset_of!(MachMsgHeader, local_port)),
            ("mach_port_name_t", "msgh_voucher_port", offset_of!(MachMsgHeader, voucher_port)),
            ("mach_msg_id_t", "msgh_id", offset_of!(MachMsgHeader, id)),
        ],
    },
    StructLayout {
        c_name: "mach_msg_body_t",
        rust_name: "MachMsgBody",
        size: size_of::<MachMsgBody>(),
        fields: &[("mach_msg_size_t", "msgh_descriptor_count", offset_of!(MachMsgBody, descriptor_count))],
    },
    StructLayout {
        c_name: "mach_msg_port_descriptor_t",
        rust_name: "MachMsgPortDescriptor",
        size: size_of::<MachMsgPortDescriptor>(),
        fields: &[
            ("mach_port_t", "name", offset_of!(MachMsgPortDescriptor, name)),
            ("uint32_t", "pad1", offset_of!(MachMsgPortDescriptor, pad1)),
            ("uint16_t", "pad2", offset_of!(MachMsgPortDescriptor, pad2)),
            ("uint8_t", "disposition", offset_of!(MachMsgPortDescriptor, disposition)),
            ("uint8_t", "type", offset_of!(MachMsgPortDescriptor, descriptor_type)),
            ("uint32_t", "pad3", offset_of!(MachMsgPortDescriptor, pad3)),
        ],
    },
    StructLayout {
        c_name: "mach_msg_ool_descriptor_t",
        rust_name: "MachMsgOolDescriptor",
        size: size_of::<MachMsgOolDescriptor>(),
        fields: &[
            ("uint64_t", "address", offset_of!(MachMsgOolDescriptor, address)),
            ("uint8_t", "deallocate", offset_of!(MachMsgOolDescriptor, deallocate)),
            ("uint8_t", "copy", offset_of!(MachMsgOolDescriptor, copy)),
            ("uint8_t", "pad1", offset_of!(MachMsgOolDescriptor, pad1)),
            ("uint8_t", "type", offset_of!(MachMsgOolDescriptor, descriptor_type)),
            ("mach_msg_size_t", "size", offset_of!(MachMsgOolDescriptor, size)),
        ],
    },
    StructLayout {
        c_name: "mach_msg_ool_ports_descriptor_t",
        rust_name: "MachMsgOolPortsDescriptor",
        size: size_of::<MachMsgOolPortsDescriptor>(),
        fields: &[
            ("uint64_t", "address", offset_of!(MachMsgOolPortsDescriptor, address)),
            ("uint8_t", "deallocate", offset_of!(MachMsgOolPortsDescriptor, deallocate)),
            ("uint8_t", "copy", offset_of!(MachMsgOolPortsDescriptor, copy)),
            ("uint8_t", "disposition", offset_of!(MachMsgOolPortsDescriptor, disposition)),
            ("uint8_t", "type", offset_of!(MachMsgOolPortsDescriptor, descriptor_type)),
            ("mach_msg_size_t", "count", offset_of!(MachMsgOolPortsDescriptor, count)),
        ],
    },
    StructLayout {
        c_name: "mach_msg_trailer_t",
        rust_name: "MachMsgTrailer",
        size: size_of::<MachMsgTrailer>(),
        fields: &[
            ("uint32_t", "msgh_trailer_type", offset_of!(MachMsgTrailer, trailer_type)),
            ("mach_msg_size_t", "msgh_trailer_size", offset_of!(MachMsgTrailer, trailer_size)),
            ("uint32_t", "msgh_seqno", offset_of!(MachMsgTrailer, seqno)),
            ("uint32_t", "msgh_sender", offset_of!(MachMsgTrailer, sender)),
        ],
    },
    StructLayout {
        c_name: "process_descriptor_t",
        rust_name: "ProcessDescriptor",
        size: size_of::<ProcessDescriptor>(),
        fields: &[
            ("int32_t", "number", offset_of!(ProcessDescriptor, number)),
            ("uint32_t", "name", offset_of!(ProcessDescriptor, name)),
            ("uint32_t", "flags", offset_of!(ProcessDescriptor, flags)),
        ],
    },
    StructLayout {
        c_name: "task_credential_t",
        rust_name: "TaskCredential",
        size: size_of::<TaskCredential>(),
        fields: &[
            ("uint32_t", "pid", offset_of!(TaskCredential, pid)),
            ("uint32_t", "pgid", offset_of!(TaskCredential, pgid)),
            ("uint32_t", "sid", offset_of!(TaskCredential, sid)),
            ("uint32_t", "ruid", offset_of!(TaskCredential, ruid)),
            ("uint32_t", "euid", offset_of!(TaskCredential, euid)),
            ("uint32_t", "rgid", offset_of!(TaskCredential, rgid)),
            ("uint32_t", "egid", offset_of!(TaskCredential, egid)),
            ("uint32_t", "group_count", offset_of!(TaskCredential, group_count)),
            ("uint32_t", "groups[CREDENTIAL_GROUPS_MAX]", offset_of!(TaskCredential, groups)),
        ],
    },
    StructLayout {
        c_name: "mach_msg_audit_trailer_t",
        rust_name: "MachMsgAuditTrailer",
        size: size_of::<MachMsgAuditTrailer>(),
        fields: &[
            ("uint32_t", "msgh_trailer_type", offset_of!(MachMsgAuditTrailer, trailer_type)),
            ("mach_msg_size_t", "msgh_trailer_size", offset_of!(MachMsgAuditTrailer, trailer_size)),
            ("uint32_t", "msgh_seqno", offset_of!(MachMsgAuditTrailer, seqno)),
            ("uint32_t", "msgh_sender", offset_of!(MachMsgAuditTrailer, sender)),
            ("task_credential_t", "msgh_credential", offset_of!(MachMsgAuditTrailer, credential)),
        ],
    },
    StructLayout {
        c_name: "mach_port_deleted_notification_t",
        rust_name: "NameNotification",
        size: size_of::<NameNotification>(),
        fields: &[
            ("mach_msg_header_t", "not_header", offset_of!(NameNotification, header)),
            ("mach_port_name_t", "not_port", offset_of!(NameNotification, name)),
        ],
    },
    StructLayout {
        c_name: "mach_dead_name_notification_t",
        rust_name: "NameNotification",
        size: size_of::<NameNotification>(),
        fields: &[
            ("mach_msg_header_t", "not_header", offset_of!(NameNotification, header)),
            ("mach_port_name_t", "not_port", offset_of!(NameNotification, name)),
        ],
    },
    StructLayout {
        c_name: "mach_no_senders_notification_t",
        rust_name: "NoSendersNotification",
        size: size_of::<NoSendersNotification>(),
        fields: &[
            ("mach_msg_header_t", "not_header", offset_of!(NoSendersNotification, header)),
            ("uint32_t", "not_count", offset_of!(NoSendersNotification, make_send_count)),
        ],
    },
    StructLayout {
        c_name: "mach_port_destroyed_notification_t",
        rust_name: "PortDestroyedNotification",
        size: size_of::<PortDestroyedNotification>(),
        fields: &[
            ("mach_msg_header_t", "not_header", offset_of!(PortDestroyedNotification, header)),
            ("mach_msg_body_t", "not_body", offset_of!(PortDestroyedNotification, body)),
            ("mach_msg_port_descriptor_t", "not_port", offset_of!(PortDestroyedNotification, right)),
        ],
    },
    StructLayout {
        c_name: "mach_send_once_notification_t",
        rust_name: "MachMsgHeader",
        size: size_of::<MachMsgHeader>(),
        fields: &[("mach_msg_header_t", "not_header", 0)],
    },
    StructLayout {
        c_name: "mach_port_limits_t",
        rust_name: "PortLimits",
        size: size_of::<PortLimits>(),
        fields: &[("uint32_t", "mpl_qlimit", offset_of!(PortLimits, queue_limit))],
    },
    StructLayout {
        c_name: "mach_port_status_t",
        rust_name: "PortStatus",
        size: size_of::<PortStatus>(),
        fields: &[
            ("mach_port_name_t", "mps_pset", offset_of!(PortStatus, port_set)),
            ("uint32_t", "mps_seqno", offset_of!(PortStatus, seqno)),
            ("uint32_t", "mps_mscount", offset_of!(PortStatus, make_send_count)),
            ("uint32_t", "mps_qlimit", offset_of!(PortStatus, queue_limit)),
            ("uint32_t", "mps_msgcount", offset_of!(PortStatus, message_count)),
            ("uint32_t", "mps_sorights", offset_of!(PortStatus, send_once_rights)),
            ("uint32_t", "mps_srights", offset_of!(PortStatus, send_rights)),
            ("uint32_t", "mps_pdrequest", offset_of!(PortStatus, port_destroyed_request)),
            ("uint32_t", "mps_nsrequest", offset_of!(PortStatus, no_senders_request)),
            ("uint32_t", "mps_flags", offset_of!(PortStatus, flags)),
        ],
    },
    StructLayout {
        c_name: "mach_timespec_t",
        rust_name: "MachTimespec",
        size: size_of::<MachTimespec>(),
        fields: &[
            ("uint32_t", "tv_sec", offset_of!(MachTimespec, seconds)),
            ("int32_t", "tv_nsec", offset_of!(MachTimespec, nanoseconds)),
        ],
    },
];

const TYPEDEFS: &[(&str, &str)] = &[
    ("uint32_t", "mach_port_name_t"),
    ("uint32_t", "mach_port_t"),
    ("int32_t", "kern_return_t"),
    ("kern_return_t", "mach_msg_return_t"),
    ("uint32_t", "mach_msg_bits_t"),
    ("uint32_t", "mach_msg_size_t"),
    ("int32_t", "mach_msg_id_t"),
    ("int32_t", "mach_msg_option_t"),
    ("uint32_t", "mach_msg_timeout_t"),
    ("uint32_t", "mach_msg_type_name_t"),
    ("uint32_t", "mach_msg_descriptor_type_t"),
    ("uint32_t", "mach_msg_copy_options_t"),
    ("uint32_t", "mach_port_right_t"),
    ("uint32_t", "mach_port_type_t"),
    ("int32_t", "mach_port_flavor_t"),
    ("int32_t", "mach_port_delta_t"),
    ("uint32_t", "mach_port_mscount_t"),
];

/// Plain constants: name, value, whether to print in hex.
const CONSTANTS: &[(&str, u64, bool)] = &[
    ("MACH_PORT_NULL", MACH_PORT_NULL as u64, false),
    ("MACH_PORT_DEAD", MACH_PORT_DEAD as u64, true),
    ("MACH_PORT_INDEX_MAX", MACH_PORT_INDEX_MAX as u64, true),
    ("MACH_PORT_RIGHT_NUMBER", MACH_PORT_RIGHT_NUMBER as u64, false),
    ("MACH_PORT_TYPE_NONE", MACH_PORT_TYPE_NONE as u64, true),
    ("MACH_PORT_TYPE_SEND", MACH_PORT_TYPE_SEND as u64, true),
    ("MACH_PORT_TYPE_RECEIVE", MACH_PORT_TYPE_RECEIVE as u64, true),
    ("MACH_PORT_TYPE_SEND_ONCE", MACH_PORT_TYPE_SEND_ONCE as u64, true),
    ("MACH_PORT_TYPE_PORT_SET", MACH_PORT_TYPE_PORT_SET as u64, true),
    ("MACH_PORT_TYPE_DEAD_NAME", MACH_PORT_TYPE_DEAD_NAME as u64, true),
    ("MACH_PORT_TYPE_SEND_RECEIVE", MACH_PORT_TYPE_SEND_RECEIVE as u64, true),
    ("MACH_PORT_TYPE_DNREQUEST", MACH_PORT_TYPE_DNREQUEST as u64, true),
    ("MACH_MSG_TYPE_PORT_NAME", MACH_MSG_TYPE_PORT_NAME as u64, false),
    ("MACH_MSG_TYPE_PORT_RECEIVE", MACH_MSG_TYPE_PORT_RECEIVE as u64, false),
    ("MACH_MSG_TYPE_PORT_SEND", MACH_MSG_TYPE_PORT_SEND as u64, false),
    ("MACH_MSG_TYPE_PORT_SEND_ONCE", MACH_MSG_TYPE_PORT_SEND_ONCE as u64, false),
    ("MACH_MSG_MASK", MACH_MSG_MASK as u64, true),
    ("MACH_MSG_IPC_SPACE", MACH_MSG_IPC_SPACE as u64, true),
    ("MACH_MSG_VM_SPACE", MACH_MSG_VM_SPACE as u64, true),
    ("MACH_MSG_IPC_KERNEL", MACH_MSG_IPC_KERNEL as u64, true),
    ("MACH_MSG_VM_KERNEL", MACH_MSG_VM_KERNEL as u64, true),
    ("MACH_MSGH_BITS_ZERO", MACH_MSGH_BITS_ZERO as u64, true),
    ("MACH_MSGH_BITS_REMOTE_MASK", MACH_MSGH_BITS_REMOTE_MASK as u64, true),
    ("MACH_MSGH_BITS_LOCAL_MASK", MACH_MSGH_BITS_LOCAL_MASK as u64, true),
    ("MACH_MSGH_BITS_VOUCHER_MASK", MACH_MSGH_BITS_VOUCHER_MASK as u64, true),
    ("MACH_MSGH_BITS_PORTS_MASK", MACH_MSGH_BITS_PORTS_MASK as u64, true),
    ("MACH_MSGH_BITS_COMPLEX", MACH_MSGH_BITS_COMPLEX as u64, true),
    ("MACH_MSGH_BITS_USER", MACH_MSGH_BITS_USER as u64, true),
    ("MACH_MSG_OPTION_NONE", MACH_MSG_OPTION_NONE as u64, true),
    ("MACH_SEND_MSG", MACH_SEND_MSG as u64, true),
    ("MACH_RCV_MSG", MACH_RCV_MSG as u64, true),
    ("MACH_RCV_LARGE", MACH_RCV_LARGE as u64, true),
    ("MACH_SEND_TIMEOUT", MACH_SEND_TIMEOUT as u64, true),
    ("MACH_SEND_INTERRUPT", MACH_SEND_INTERRUPT as u64, true),
    ("MACH_RCV_TIMEOUT", MACH_RCV_TIMEOUT as u64, true),
    ("MACH_RCV_INTERRUPT", MACH_RCV_INTERRUPT as u64, true),
    ("MACH_RCV_TRAILER_AUDIT", MACH_RCV_TRAILER_AUDIT as u64, true),
    ("MACH_MSG_OPTION_USER", MACH_MSG_OPTION_USER as u64, true),
    ("MACH_MSG_TIMEOUT_NONE", MACH_MSG_TIMEOUT_NONE as u64, false),
    ("MACH_MSG_TRAILER_FORMAT_0", MACH_MSG_TRAILER_FORMAT_0 as u64, false),
    ("MACH_MSG_HEADER_SIZE", MACH_MSG_HEADER_SIZE as u64, false),
    ("MACH_MSG_BODY_SIZE", MACH_MSG_BODY_SIZE as u64, false),
    ("MACH_MSG_DESCRIPTOR_SIZE", MACH_MSG_DESCRIPTOR_SIZE as u64, false),
    ("MACH_MSG_TRAILER_SIZE", MACH_MSG_TRAILER_SIZE as u64, false),
    ("CREDENTIAL_GROUPS_MAX", CREDENTIAL_GROUPS_MAX as u64, false),
    ("MACH_MSG_AUDIT_TRAILER_SIZE", MACH_MSG_AUDIT_TRAILER_SIZE as u64, false),
    ("MACH_MSG_SIZE_MAX", MACH_MSG_SIZE_MAX as u64, false),
    ("MACH_MSG_SIZE_MIN", MACH_MSG_SIZE_MIN as u64, false),
    ("MACH_MSG_DESCRIPTORS_MAX", MACH_MSG_DESCRIPTORS_MAX as u64, false),
    ("MACH_MSG_OOL_PORTS_MAX", MACH_MSG_OOL_PORTS_MAX as u64, false),
    ("MACH_MSG_OOL_SIZE_MAX", MACH_MSG_OOL_SIZE_MAX, true),
    ("MACH_PORT_QLIMIT_ZERO", MACH_PORT_QLIMIT_ZERO as u64, false),
    ("MACH_PORT_QLIMIT_DEFAULT", MACH_PORT_QLIMIT_DEFAULT as u64, false),
    ("MACH_PORT_QLIMIT_MAX", MACH_PORT_QLIMIT_MAX as u64, false),
    ("MACH_PORT_LIMITS_INFO_COUNT", PORT_LIMITS_INFO_COUNT as u64, false),
    ("MACH_PORT_RECEIVE_STATUS_COUNT", PORT_RECEIVE_STATUS_COUNT as u64, false),
    ("MACH_NOTIFY_FIRST", MACH_NOTIFY_FIRST as u64, false),
    ("MACH_NOTIFY_LAST", MACH_NOTIFY_LAST as u64, false),
    ("MACH_TRAP_COUNT", MACH_TRAP_COUNT as u64, false),
    ("SWITCH_OPTION_NONE", SWITCH_OPTION_NONE as u64, false),
    ("SWITCH_OPTION_DEPRESS", SWITCH_OPTION_DEPRESS as u64, false),
    ("SWITCH_OPTION_WAIT", SWITCH_OPTION_WAIT as u64, false),
    ("INTERRUPT_MESSAGE_ID", INTERRUPT_MESSAGE_ID as u64, false),
    ("KERNEL_LOG_MESSAGE_ID", KERNEL_LOG_MESSAGE_ID as u64, false),
    ("KERNEL_LOG_LINE_MAX", KERNEL_LOG_LINE_MAX as u64, false),
    ("EXC_BAD_ACCESS", EXC_BAD_ACCESS as u64, false),
    ("EXC_BAD_INSTRUCTION", EXC_BAD_INSTRUCTION as u64, false),
    ("EXC_ARITHMETIC", EXC_ARITHMETIC as u64, false),
    ("EXC_BREAKPOINT", EXC_BREAKPOINT as u64, false),
    ("EXC_MASK_BAD_ACCESS", EXC_MASK_BAD_ACCESS as u64, false),
    ("EXC_MASK_BAD_INSTRUCTION", EXC_MASK_BAD_INSTRUCTION as u64, false),
    ("EXC_MASK_ARITHMETIC", EXC_MASK_ARITHMETIC as u64, false),
    ("EXC_MASK_BREAKPOINT", EXC_MASK_BREAKPOINT as u64, false),
    ("EXC_MASK_ALL", EXC_MASK_ALL as u64, false),
    ("EXCEPTION_RAISE_ID", EXCEPTION_RAISE_ID as u64, false),
    ("EXCEPTION_RAISE_REPLY_ID", EXCEPTION_RAISE_REPLY_ID as u64, false),
    ("EXCEPTION_RAISE_SIZE", EXCEPTION_RAISE_SIZE as u64, false),
    ("EXCEPTION_RAISE_STATE_ID", EXCEPTION_RAISE_STATE_ID as u64, false),
    ("EXCEPTION_RAISE_STATE_REPLY_ID", EXCEPTION_RAISE_STATE_REPLY_ID as u64, false),
    ("EXCEPTION_RAISE_STATE_IDENTITY_ID", EXCEPTION_RAISE_STATE_IDENTITY_ID as u64, false),
    ("EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID", EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID as u64, false),
    ("EXCEPTION_DEFAULT", EXCEPTION_DEFAULT as u64, false),
    ("EXCEPTION_STATE", EXCEPTION_STATE as u64, false),
    ("EXCEPTION_STATE_IDENTITY", EXCEPTION_STATE_IDENTITY as u64, false),
    ("BOOTSTRAP_INFO_MAGIC", BOOTSTRAP_INFO_MAGIC as u64, false),
    ("BOOTSTRAP_INFO_VERSION", BOOTSTRAP_INFO_VERSION as u64, false),
    ("BOOT_MODULES_MAX", BOOT_MODULES_MAX as u64, false),
    ("BOOTSTRAP_MODULES_MAX", BOOTSTRAP_MODULES_MAX as u64, false),
    ("BOOTSTRAP_MODULE_NAME_MAX", BOOTSTRAP_MODULE_NAME_MAX as u64, false),
    ("AT_NULL", AT_NULL, false),
    ("AT_PAGESZ", AT_PAGESZ, false),
    ("AT_MACH_BOOTSTRAP", AT_MACH_BOOTSTRAP, true),
    ("AT_MACH_HOST", AT_MACH_HOST, true),
    ("AT_MACH_IO_PORTS", AT_MACH_IO_PORTS, true),
    ("AT_MACH_DEVICE", AT_MACH_DEVICE, true),
    ("AT_MACH_POWER_OFF", AT_MACH_POWER_OFF, true),
    ("AT_PHDR", AT_PHDR, false),
    ("AT_PHENT", AT_PHENT, false),
    ("AT_PHNUM", AT_PHNUM, false),
    ("AT_ENTRY", AT_ENTRY, false),
    ("AT_UID", AT_UID, false),
    ("AT_EUID", AT_EUID, false),
    ("AT_GID", AT_GID, false),
    ("AT_EGID", AT_EGID, false),
    ("AT_SECURE", AT_SECURE, false),
    ("AT_RANDOM", AT_RANDOM, false),
    ("AT_MACH_PROC", AT_MACH_PROC, true),
    ("AT_MACH_MEMORY", AT_MACH_MEMORY, true),
    ("AT_MACH_ROOT", AT_MACH_ROOT, true),
    ("AT_MACH_CWD", AT_MACH_CWD, true),
    ("AT_MACH_FDS", AT_MACH_FDS, true),
    ("AT_MACH_FD_COUNT", AT_MACH_FD_COUNT, true),
    ("AT_MACH_SIGNAL_MASK", AT_MACH_SIGNAL_MASK, true),
    ("AT_MACH_UMASK", AT_MACH_UMASK, true),
    ("AT_MACH_PID", AT_MACH_PID, true),
    ("AT_MACH_BOOT_TIME", AT_MACH_BOOT_TIME, true),
    ("AT_MACH_FOREGROUND", AT_MACH_FOREGROUND, true),
    ("AT_MACH_SIGNAL_IGNORED", AT_MACH_SIGNAL_IGNORED, true),
    ("TASK_NAME_MAX", TASK_NAME_MAX as u64, false),
    ("TASK_CREATE_INHERIT_MEMORY", TASK_CREATE_INHERIT_MEMORY, true),
    ("TASK_CREATE_INHERIT_SEND_RIGHTS", TASK_CREATE_INHERIT_SEND_RIGHTS, true),
    ("TASK_CREATE_FLAGS", TASK_CREATE_FLAGS, true),
    ("VM_PROT_NONE", VM_PROT_NONE as u64, false),
    ("VM_PROT_READ", VM_PROT_READ as u64, false),
    ("VM_PROT_WRITE", VM_PROT_WRITE as u64, false),
    ("VM_PROT_EXECUTE", VM_PROT_EXECUTE as u64, false),
    ("VM_PROT_DEFAULT", VM_PROT_DEFAULT as u64, false),
    ("VM_PROT_ALL", VM_PROT_ALL as u64, false),
    ("VM_INHERIT_SHARE", VM_INHERIT_SHARE as u64, false),
    ("VM_INHERIT_COPY", VM_INHERIT_COPY as u64, false),
    ("VM_INHERIT_NONE", VM_INHERIT_NONE as u64, false),
    ("VM_INHERIT_DEFAULT", VM_INHERIT_DEFAULT as u64, false),
    ("MEMORY_OBJECT_DATA_REQUEST_ID", MEMORY_OBJECT_DATA_REQUEST_ID as u64, false),
    ("MEMORY_OBJECT_DATA_UNLOCK_ID", MEMORY_OBJECT_DATA_UNLOCK_ID as u64, false),
    ("MEMORY_OBJECT_RETURN_ALL", MEMORY_OBJECT_RETURN_ALL as u64, false),
    ("MEMORY_OBJECT_FLUSH", MEMORY_OBJECT_FLUSH as u64, false),
    ("MEMORY_OBJECT_SIZE_MAX", MEMORY_OBJECT_SIZE_MAX, false),
    ("VM_FLAGS_FIXED", VM_FLAGS_FIXED as u64, false),
    ("VM_FLAGS_ANYWHERE", VM_FLAGS_ANYWHERE as u64, false),
    ("VM_FLAGS_COPY", VM_FLAGS_COPY as u64, false),
    ("VM_FLAGS_PROTECTION_SHIFT", VM_FLAGS_PROTECTION_SHIFT as u64, false),
    ("VM_FLAGS_PROTECTION_MASK", VM_FLAGS_PROTECTION_MASK as u64, false),
    ("VM_MAP_FLAGS_ALL", VM_MAP_FLAGS_ALL as u64, false),
    ("VM_REGION_BASIC_INFO", VM_REGION_BASIC_INFO as u64, false),
    ("VM_REGION_BASIC_INFO_COUNT", VM_REGION_BASIC_INFO_COUNT as u64, false),
    ("x86_THREAD_STATE64", X86_THREAD_STATE64 as u64, false),
    ("x86_THREAD_STATE64_COUNT", X86_THREAD_STATE64_COUNT as u64, false),
    ("ARM_THREAD_STATE64", ARM_THREAD_STATE64 as u64, false),
    ("ARM_THREAD_STATE64_COUNT", ARM_THREAD_STATE64_COUNT as u64, false),
    ("TASK_BASIC_INFO", TASK_BASIC_INFO as u64, false),
    ("TASK_BASIC_INFO_COUNT", TASK_BASIC_INFO_COUNT as u64, false),
    ("THREAD_BASIC_INFO", THREAD_BASIC_INFO as u64, false),
    ("THREAD_BASIC_INFO_COUNT", THREAD_BASIC_INFO_COUNT as u64, false),
    ("TH_STATE_RUNNING", TH_STATE_RUNNING as u64, false),
    ("TH_STATE_STOPPED", TH_STATE_STOPPED as u64, false),
    ("TH_STATE_WAITING", TH_STATE_WAITING as u64, false),
    ("TH_STATE_HALTED", TH_STATE_HALTED as u64, false),
];

/// Function-like macros, each with a sample call whose result the header
/// checks against the Rust `const fn` of the same name.
const MACROS: &[(&str, &str)] = &[
    ("MACH_PORT_INDEX(name)", "((name) >> 8)"),
    ("MACH_PORT_GEN(name)", "((name) & 0xffu)"),
    ("MACH_PORT_MAKE(index, gen)", "(((index) << 8) | ((gen) & 0xffu))"),
    ("MACH_PORT_VALID(name)", "((name) != MACH_PORT_NULL && (name) != MACH_PORT_DEAD)"),
    ("MACH_PORT_TYPE(right)", "(1u << ((right) + 16))"),
    ("MACH_MSGH_BITS(remote, local)", "((remote) | ((local) << 8))"),
    (
        "MACH_MSGH_BITS_SET_PORTS(remote, local, voucher)",
        "(((remote) & MACH_MSGH_BITS_REMOTE_MASK) | (((local) << 8) & MACH_MSGH_BITS_LOCAL_MASK) | (((voucher) << 16) & MACH_MSGH_BITS_VOUCHER_MASK))",
    ),
    (
        "MACH_MSGH_BITS_SET(remote, local, voucher, other)",
        "(MACH_MSGH_BITS_SET_PORTS(remote, local, voucher) | ((other) & ~MACH_MSGH_BITS_PORTS_MASK))",
    ),
    ("MACH_MSGH_BITS_REMOTE(bits)", "((bits) & MACH_MSGH_BITS_REMOTE_MASK)"),
    ("MACH_MSGH_BITS_LOCAL(bits)", "(((bits) & MACH_MSGH_BITS_LOCAL_MASK) >> 8)"),
    ("MACH_MSGH_BITS_VOUCHER(bits)", "(((bits) & MACH_MSGH_BITS_VOUCHER_MASK) >> 16)"),
    ("MACH_MSGH_BITS_IS_COMPLEX(bits)", "(((bits) & MACH_MSGH_BITS_COMPLEX) != 0)"),
    ("MACH_NOTIFICATION_REQUEST(id, disposition)", "(((id) & 0xffffu) | (((disposition) & 0xffu) << 16))"),
    (
        "VM_MAP_FLAGS(anywhere, copy, protection)",
        "(((anywhere) ? VM_FLAGS_ANYWHERE : VM_FLAGS_FIXED) | ((copy) ? VM_FLAGS_COPY : 0u) | (((protection) & VM_PROT_ALL) << VM_FLAGS_PROTECTION_SHIFT))",
    ),
];

fn render_enum<W: Write, T: Copy>(
    out: &mut W,
    title: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    value: fn(T) -> u32,
    hex: bool,
) -> fmt::Result {
    writeln!(out, "/* {title} */")?;
    for &item in all {
        if hex {
            writeln!(out, "#define {} 0x{:x}", name(item), value(item))?;
        } else {
            writeln!(out, "#define {} {}", name(item), value(item))?;
        }
    }
    writeln!(out)
}

/// Writes the whole C header to `out`.
pub fn render_c_header<W: Write>(out: &mut W) -> fmt::Result {
    writeln!(out, "/* mach_abi.h: the Mach_R message and trap ABI for C.")?;
    writeln!(out, " *")?;
    writeln!(out, " * GENERATED from the mach-abi crate (mach/abi/src); do not edit.")?;
    writeln!(out, " * Regenerate: cargo run -p mach-abi --example render-header")?;
    writeln!(out, " */")?;
    writeln!(out, "#ifndef MACH_ABI_H")?;
    writeln!(out, "#define MACH_ABI_H")?;
    writeln!(out)?;
    writeln!(out, "#include <stdint.h>")?;
    writeln!(out, "#include <stddef.h>")?;
    writeln!(out)?;
    for (c_type, name) in TYPEDEFS {
        writeln!(out, "typedef {c_type} {name};")?;
    }
    writeln!(out)?;
    render_enum(out, "kern_return_t values", KernReturn::ALL, KernReturn::c_name, KernReturn::as_u32, false)?;
    render_enum(
        out,
        "mach_msg_return_t values",
        MachMsgReturn::ALL,
        MachMsgReturn::c_name,
        MachMsgReturn::as_u32,
        true,
    )?;
    render_enum(out, "Trap numbers (see docs/abi.md)", Trap::ALL, Trap::c_name, Trap::as_u32, false)?;
    render_enum(out, "mach_port_right_t", PortRight::ALL, PortRight::c_name, PortRight::as_u32, false)?;
    render_enum(
        out,
        "Dispositions (mach_msg_type_name_t)",
        Disposition::ALL,
        Disposition::c_name,
        Disposition::as_u32,
        false,
    )?;
    render_enum(out, "Descriptor types", DescriptorType::ALL, DescriptorType::c_name, DescriptorType::as_u32, false)?;
    render_enum(out, "Copy options", CopyOption::ALL, CopyOption::c_name, CopyOption::as_u32, false)?;
    render_enum(out, "Port attribute flavors", PortFlavor::ALL, PortFlavor::c_name, PortFlavor::as_u32, false)?;
    writeln!(out, "/* Notification ids (octal, as in Mach) */")?;
    for &id in NotifyId::ALL {
        writeln!(out, "#define {} 0{:o}", id.c_name(), id.as_u32())?;
    }
    writeln!(out)?;
    writeln!(out, "/* Other constants */")?;
    for &(name, value, hex) in CONSTANTS {
        if hex {
            writeln!(out, "#define {name} 0x{value:x}u")?;
        } else {
            writeln!(out, "#define {name} {value}")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "/* Macros */")?;
    for (signature, body) in MACROS {
        writeln!(out, "#define {signature} {body}")?;
    }
    writeln!(out)?;
    writeln!(out, "/* Structures: 4-byte packed like xnu, little-endian. */")?;
    writeln!(out, "#pragma pack(push, 4)")?;
    for layout in STRUCTS {
        writeln!(out, "typedef struct {{ /* Rust: {} */", layout.rust_name)?;
        for (c_type, name, _) in layout.fields {
            writeln!(out, "    {c_type} {name};")?;
        }
        writeln!(out, "}} {};", layout.c_name)?;
    }
    writeln!(out, "#pragma pack(pop)")?;
    writeln!(out)?;
    writeln!(out, "/* Layout checks: sizes and offsets measured on the Rust definitions. */")?;
    for layout in STRUCTS {
        writeln!(out, "_Static_assert(sizeof({0}) == {1}, \"sizeof({0})\");", layout.c_name, layout.size)?;
        for (_, declared, offset) in layout.fields {
            // An array field is declared `name[N]`; its offset is `name`'s.
            let name = declared.split('[').next().unwrap_or(declared);
            writeln!(
                out,
                "_Static_assert(offsetof({0}, {name}) == {offset}, \"offsetof({0}, {name})\");",
                layout.c_name
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "/* Macro checks: results computed by the Rust const fns. */")?;
    let samples: [(&str, u64); 12] = [
        ("MACH_PORT_INDEX(0x1234u)", port_index(0x1234) as u64),
        ("MACH_PORT_GEN(0x1234u)", port_generation(0x1234) as u64),
        ("MACH_PORT_MAKE(0x12u, 0x3456u)", port_make(0x12, 0x3456) as u64),
        ("MACH_PORT_TYPE(MACH_PORT_RIGHT_DEAD_NAME)", port_type_of(PortRight::DeadName) as u64),
        ("MACH_MSGH_BITS(17u, 21u)", msgh_bits(17, 21) as u64),
        ("MACH_MSGH_BITS_SET_PORTS(19u, 21u, 0u)", msgh_bits_set_ports(19, 21, 0) as u64),
        (
            "MACH_MSGH_BITS_SET(19u, 21u, 0u, MACH_MSGH_BITS_COMPLEX)",
            msgh_bits_set(19, 21, 0, MACH_MSGH_BITS_COMPLEX) as u64,
        ),
        ("MACH_MSGH_BITS_REMOTE(0x80001513u)", msgh_bits_remote(0x8000_1513) as u64),
        ("MACH_MSGH_BITS_LOCAL(0x80001513u)", msgh_bits_local(0x8000_1513) as u64),
        ("MACH_MSGH_BITS_IS_COMPLEX(0x80001513u)", msgh_bits_is_complex(0x8000_1513) as u64),
        (
            "MACH_NOTIFICATION_REQUEST(MACH_NOTIFY_DEAD_NAME, 21u)",
            pack_notification_request(NotifyId::DeadName.as_u32(), 21),
        ),
        (
            "VM_MAP_FLAGS(1, 1, VM_PROT_READ | VM_PROT_EXECUTE)",
            vm_map_flags(true, true, VM_PROT_READ | VM_PROT_EXECUTE) as u64,
        ),
    ];
    for (expression, value) in samples {
        writeln!(out, "_Static_assert({expression} == {value}u, \"{expression}\");")?;
    }
    writeln!(out)?;
    writeln!(out, "#endif /* MACH_ABI_H */")
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::CONSTANTS;
    use std::vec::Vec;

    /// A program reads its auxiliary vector by key: two entries with one
    /// key would be read as each other (AT_MACH_IO_PORTS and AT_MACH_PROC
    /// were both 0x1002).
    #[test]
    fn every_auxiliary_vector_key_is_distinct() {
        let keys: Vec<(&str, u64)> = CONSTANTS
            .iter()
            .filter(|(name, ..)| name.starts_with("AT_"))
            .map(|&(name, value, _)| (name, value))
            .collect();
        assert!(keys.len() >= 20, "the table lists the AT_* keys: {keys:?}");
        for (index, (name, value)) in keys.iter().enumerate() {
            for (other, other_value) in &keys[index + 1..] {
                assert_ne!(value, other_value, "{name} and {other} are both {value:#x}");
            }
        }
    }

    /// Every `AT_MACH_*` constant of the crate is in the table the C header
    /// and the test above come from.
    #[test]
    fn every_mach_auxiliary_key_is_in_the_table() {
        let source = include_str!("bootstrap.rs");
        let declared: Vec<&str> = source
            .lines()
            .filter_map(|line| line.strip_prefix("pub const "))
            .filter_map(|rest| rest.split(':').next())
            .filter(|name| name.starts_with("AT_"))
            .collect();
        assert!(declared.len() >= 20, "bootstrap.rs declares the AT_* keys: {declared:?}");
        for name in declared {
            assert!(CONSTANTS.iter().any(|(listed, ..)| *listed == name), "{name} is missing from CONSTANTS");
        }
    }
}
