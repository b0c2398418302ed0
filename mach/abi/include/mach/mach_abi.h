/* mach_abi.h: the Mach_R message and trap ABI for C.
 *
 * GENERATED from the mach-abi crate (mach/abi/src); do not edit.
 * Regenerate: cargo run -p mach-abi --example render-header
 */
#ifndef MACH_ABI_H
#define MACH_ABI_H

#include <stdint.h>
#include <stddef.h>

typedef uint32_t mach_port_name_t;
typedef uint32_t mach_port_t;
typedef int32_t kern_return_t;
typedef kern_return_t mach_msg_return_t;
typedef uint32_t mach_msg_bits_t;
typedef uint32_t mach_msg_size_t;
typedef int32_t mach_msg_id_t;
typedef int32_t mach_msg_option_t;
typedef uint32_t mach_msg_timeout_t;
typedef uint32_t mach_msg_type_name_t;
typedef uint32_t mach_msg_descriptor_type_t;
typedef uint32_t mach_msg_copy_options_t;
typedef uint32_t mach_port_right_t;
typedef uint32_t mach_port_type_t;
typedef int32_t mach_port_flavor_t;
typedef int32_t mach_port_delta_t;
typedef uint32_t mach_port_mscount_t;

/* kern_return_t values */
#define KERN_SUCCESS 0
#define KERN_INVALID_ADDRESS 1
#define KERN_PROTECTION_FAILURE 2
#define KERN_NO_SPACE 3
#define KERN_INVALID_ARGUMENT 4
#define KERN_FAILURE 5
#define KERN_RESOURCE_SHORTAGE 6
#define KERN_NOT_RECEIVER 7
#define KERN_NO_ACCESS 8
#define KERN_MEMORY_FAILURE 9
#define KERN_MEMORY_ERROR 10
#define KERN_ALREADY_IN_SET 11
#define KERN_NOT_IN_SET 12
#define KERN_NAME_EXISTS 13
#define KERN_ABORTED 14
#define KERN_INVALID_NAME 15
#define KERN_INVALID_TASK 16
#define KERN_INVALID_RIGHT 17
#define KERN_INVALID_VALUE 18
#define KERN_UREFS_OVERFLOW 19
#define KERN_INVALID_CAPABILITY 20
#define KERN_RIGHT_EXISTS 21
#define KERN_INVALID_HOST 22
#define KERN_MEMORY_PRESENT 23
#define KERN_INVALID_PROCESSOR_SET 26
#define KERN_POLICY_LIMIT 27
#define KERN_INVALID_POLICY 28
#define KERN_INVALID_OBJECT 29
#define KERN_ALREADY_WAITING 30
#define KERN_EXCEPTION_PROTECTED 32
#define KERN_INVALID_SECURITY 35
#define KERN_TERMINATED 37
#define KERN_NOT_SUPPORTED 46
#define KERN_NOT_WAITING 48
#define KERN_OPERATION_TIMED_OUT 49
#define KERN_INSUFFICIENT_BUFFER_SIZE 52
#define KERN_DENIED 53
#define KERN_NOT_FOUND 56

/* mach_msg_return_t values */
#define MACH_MSG_SUCCESS 0x0
#define MACH_SEND_IN_PROGRESS 0x10000001
#define MACH_SEND_INVALID_DATA 0x10000002
#define MACH_SEND_INVALID_DEST 0x10000003
#define MACH_SEND_TIMED_OUT 0x10000004
#define MACH_SEND_INVALID_VOUCHER 0x10000005
#define MACH_SEND_INTERRUPTED 0x10000007
#define MACH_SEND_MSG_TOO_SMALL 0x10000008
#define MACH_SEND_INVALID_REPLY 0x10000009
#define MACH_SEND_INVALID_RIGHT 0x1000000a
#define MACH_SEND_INVALID_NOTIFY 0x1000000b
#define MACH_SEND_INVALID_MEMORY 0x1000000c
#define MACH_SEND_NO_BUFFER 0x1000000d
#define MACH_SEND_TOO_LARGE 0x1000000e
#define MACH_SEND_INVALID_TYPE 0x1000000f
#define MACH_SEND_INVALID_HEADER 0x10000010
#define MACH_SEND_INVALID_TRAILER 0x10000011
#define MACH_RCV_IN_PROGRESS 0x10004001
#define MACH_RCV_INVALID_NAME 0x10004002
#define MACH_RCV_TIMED_OUT 0x10004003
#define MACH_RCV_TOO_LARGE 0x10004004
#define MACH_RCV_INTERRUPTED 0x10004005
#define MACH_RCV_PORT_CHANGED 0x10004006
#define MACH_RCV_INVALID_NOTIFY 0x10004007
#define MACH_RCV_INVALID_DATA 0x10004008
#define MACH_RCV_PORT_DIED 0x10004009
#define MACH_RCV_IN_SET 0x1000400a
#define MACH_RCV_HEADER_ERROR 0x1000400b
#define MACH_RCV_BODY_ERROR 0x1000400c
#define MACH_RCV_INVALID_TYPE 0x1000400d
#define MACH_RCV_SCATTER_SMALL 0x1000400e
#define MACH_RCV_INVALID_TRAILER 0x1000400f

/* Trap numbers (see docs/abi.md) */
#define MACH_TRAP_MACH_MSG 1
#define MACH_TRAP_MACH_REPLY_PORT 2
#define MACH_TRAP_TASK_SELF 3
#define MACH_TRAP_THREAD_SELF 4
#define MACH_TRAP_HOST_SELF 5
#define MACH_TRAP_PORT_ALLOCATE 10
#define MACH_TRAP_PORT_DEALLOCATE 11
#define MACH_TRAP_PORT_DESTROY 12
#define MACH_TRAP_PORT_MOD_REFS 13
#define MACH_TRAP_PORT_INSERT_RIGHT 14
#define MACH_TRAP_PORT_EXTRACT_RIGHT 15
#define MACH_TRAP_PORT_MOVE_MEMBER 16
#define MACH_TRAP_PORT_GET_ATTRIBUTES 17
#define MACH_TRAP_PORT_SET_ATTRIBUTES 18
#define MACH_TRAP_PORT_REQUEST_NOTIFICATION 19
#define MACH_TRAP_PORT_TYPE 20
#define MACH_TRAP_TASK_CREATE 30
#define MACH_TRAP_TASK_TERMINATE 31
#define MACH_TRAP_TASK_SUSPEND 32
#define MACH_TRAP_TASK_RESUME 33
#define MACH_TRAP_TASK_INFO 34
#define MACH_TRAP_TASK_SET_NAME 35
#define MACH_TRAP_TASK_SET_CREDENTIAL 36
#define MACH_TRAP_THREAD_CREATE 40
#define MACH_TRAP_THREAD_TERMINATE 41
#define MACH_TRAP_THREAD_SUSPEND 42
#define MACH_TRAP_THREAD_RESUME 43
#define MACH_TRAP_THREAD_GET_STATE 44
#define MACH_TRAP_THREAD_SET_STATE 45
#define MACH_TRAP_THREAD_INFO 46
#define MACH_TRAP_THREAD_SWITCH 47
#define MACH_TRAP_THREAD_ABORT 48
#define MACH_TRAP_THREAD_SET_TLS 49
#define MACH_TRAP_CLOCK_GET_TIME 50
#define MACH_TRAP_DEBUG_PRINT 51
#define MACH_TRAP_KERNEL_LOG_READ 52
#define MACH_TRAP_KERNEL_LOG_HANDOVER 53
#define MACH_TRAP_VM_ALLOCATE 60
#define MACH_TRAP_VM_DEALLOCATE 61
#define MACH_TRAP_VM_PROTECT 62
#define MACH_TRAP_VM_INHERIT 63
#define MACH_TRAP_VM_REGION 64
#define MACH_TRAP_VM_READ 65
#define MACH_TRAP_VM_WRITE 66
#define MACH_TRAP_VM_MAP 67
#define MACH_TRAP_TASK_SET_MEMORY_LIMIT 69
#define MACH_TRAP_MEMORY_OBJECT_CREATE 70
#define MACH_TRAP_MEMORY_OBJECT_DATA_SUPPLY 71
#define MACH_TRAP_MEMORY_OBJECT_DATA_UNAVAILABLE 72
#define MACH_TRAP_MEMORY_OBJECT_LOCK_REQUEST 73
#define MACH_TRAP_MEMORY_OBJECT_DESTROY 74
#define MACH_TRAP_TASK_SET_PAGER 75
#define MACH_TRAP_MEMORY_OBJECT_DATA_ERROR 76
#define MACH_TRAP_TASK_SET_EXCEPTION_PORT 80
#define MACH_TRAP_TASK_GET_EXCEPTION_PORT 81
#define MACH_TRAP_THREAD_SET_EXCEPTION_PORT 82
#define MACH_TRAP_THREAD_GET_EXCEPTION_PORT 83
#define MACH_TRAP_DEVICE_MAP_MEMORY 90
#define MACH_TRAP_DEVICE_DMA_ALLOCATE 91
#define MACH_TRAP_INTERRUPT_BIND 92
#define MACH_TRAP_INTERRUPT_ACKNOWLEDGE 93
#define MACH_TRAP_IO_PORT_ACCESS 94
#define MACH_TRAP_INTERRUPT_BIND_MSI 95
#define MACH_TRAP_HOST_POWER_OFF 96

/* mach_port_right_t */
#define MACH_PORT_RIGHT_SEND 0
#define MACH_PORT_RIGHT_RECEIVE 1
#define MACH_PORT_RIGHT_SEND_ONCE 2
#define MACH_PORT_RIGHT_PORT_SET 3
#define MACH_PORT_RIGHT_DEAD_NAME 4

/* Dispositions (mach_msg_type_name_t) */
#define MACH_MSG_TYPE_MOVE_RECEIVE 16
#define MACH_MSG_TYPE_MOVE_SEND 17
#define MACH_MSG_TYPE_MOVE_SEND_ONCE 18
#define MACH_MSG_TYPE_COPY_SEND 19
#define MACH_MSG_TYPE_MAKE_SEND 20
#define MACH_MSG_TYPE_MAKE_SEND_ONCE 21

/* Descriptor types */
#define MACH_MSG_PORT_DESCRIPTOR 0
#define MACH_MSG_OOL_DESCRIPTOR 1
#define MACH_MSG_OOL_PORTS_DESCRIPTOR 2

/* Copy options */
#define MACH_MSG_PHYSICAL_COPY 0
#define MACH_MSG_VIRTUAL_COPY 1

/* Port attribute flavors */
#define MACH_PORT_LIMITS_INFO 1
#define MACH_PORT_RECEIVE_STATUS 2
#define MACH_PORT_DNREQUESTS_SIZE 3

/* Notification ids (octal, as in Mach) */
#define MACH_NOTIFY_PORT_DELETED 0101
#define MACH_NOTIFY_PORT_DESTROYED 0105
#define MACH_NOTIFY_NO_SENDERS 0106
#define MACH_NOTIFY_SEND_ONCE 0107
#define MACH_NOTIFY_DEAD_NAME 0110

/* Other constants */
#define MACH_PORT_NULL 0
#define MACH_PORT_DEAD 0xffffffffu
#define MACH_PORT_INDEX_MAX 0xfffffeu
#define MACH_PORT_RIGHT_NUMBER 5
#define MACH_PORT_TYPE_NONE 0x0u
#define MACH_PORT_TYPE_SEND 0x10000u
#define MACH_PORT_TYPE_RECEIVE 0x20000u
#define MACH_PORT_TYPE_SEND_ONCE 0x40000u
#define MACH_PORT_TYPE_PORT_SET 0x80000u
#define MACH_PORT_TYPE_DEAD_NAME 0x100000u
#define MACH_PORT_TYPE_SEND_RECEIVE 0x30000u
#define MACH_PORT_TYPE_DNREQUEST 0x80000000u
#define MACH_MSG_TYPE_PORT_NAME 15
#define MACH_MSG_TYPE_PORT_RECEIVE 16
#define MACH_MSG_TYPE_PORT_SEND 17
#define MACH_MSG_TYPE_PORT_SEND_ONCE 18
#define MACH_MSG_MASK 0x3e00u
#define MACH_MSG_IPC_SPACE 0x2000u
#define MACH_MSG_VM_SPACE 0x1000u
#define MACH_MSG_IPC_KERNEL 0x800u
#define MACH_MSG_VM_KERNEL 0x400u
#define MACH_MSGH_BITS_ZERO 0x0u
#define MACH_MSGH_BITS_REMOTE_MASK 0x1fu
#define MACH_MSGH_BITS_LOCAL_MASK 0x1f00u
#define MACH_MSGH_BITS_VOUCHER_MASK 0x1f0000u
#define MACH_MSGH_BITS_PORTS_MASK 0x1f1f1fu
#define MACH_MSGH_BITS_COMPLEX 0x80000000u
#define MACH_MSGH_BITS_USER 0x801f1f1fu
#define MACH_MSG_OPTION_NONE 0x0u
#define MACH_SEND_MSG 0x1u
#define MACH_RCV_MSG 0x2u
#define MACH_RCV_LARGE 0x4u
#define MACH_SEND_TIMEOUT 0x10u
#define MACH_SEND_INTERRUPT 0x40u
#define MACH_RCV_TIMEOUT 0x100u
#define MACH_RCV_INTERRUPT 0x400u
#define MACH_RCV_TRAILER_AUDIT 0x3000000u
#define MACH_MSG_OPTION_USER 0x3000557u
#define MACH_MSG_TIMEOUT_NONE 0
#define MACH_MSG_TRAILER_FORMAT_0 0
#define MACH_MSG_HEADER_SIZE 24
#define MACH_MSG_BODY_SIZE 4
#define MACH_MSG_DESCRIPTOR_SIZE 16
#define MACH_MSG_TRAILER_SIZE 16
#define CREDENTIAL_GROUPS_MAX 16
#define MACH_MSG_AUDIT_TRAILER_SIZE 112
#define MACH_MSG_SIZE_MAX 65536
#define MACH_MSG_SIZE_MIN 24
#define MACH_MSG_DESCRIPTORS_MAX 256
#define MACH_MSG_OOL_PORTS_MAX 1024
#define MACH_MSG_OOL_SIZE_MAX 0x40000000u
#define MACH_PORT_QLIMIT_ZERO 0
#define MACH_PORT_QLIMIT_DEFAULT 5
#define MACH_PORT_QLIMIT_MAX 1024
#define MACH_PORT_LIMITS_INFO_COUNT 1
#define MACH_PORT_RECEIVE_STATUS_COUNT 10
#define MACH_NOTIFY_FIRST 64
#define MACH_NOTIFY_LAST 127
#define MACH_TRAP_COUNT 100
#define SWITCH_OPTION_NONE 0
#define SWITCH_OPTION_DEPRESS 1
#define SWITCH_OPTION_WAIT 2
#define INTERRUPT_MESSAGE_ID 2900
#define KERNEL_LOG_MESSAGE_ID 2901
#define KERNEL_LOG_LINE_MAX 512
#define EXC_BAD_ACCESS 1
#define EXC_BAD_INSTRUCTION 2
#define EXC_ARITHMETIC 3
#define EXC_BREAKPOINT 6
#define EXC_MASK_BAD_ACCESS 2
#define EXC_MASK_BAD_INSTRUCTION 4
#define EXC_MASK_ARITHMETIC 8
#define EXC_MASK_BREAKPOINT 64
#define EXC_MASK_ALL 78
#define EXCEPTION_RAISE_ID 2401
#define EXCEPTION_RAISE_REPLY_ID 2501
#define EXCEPTION_RAISE_SIZE 84
#define EXCEPTION_RAISE_STATE_ID 2402
#define EXCEPTION_RAISE_STATE_REPLY_ID 2502
#define EXCEPTION_RAISE_STATE_IDENTITY_ID 2403
#define EXCEPTION_RAISE_STATE_IDENTITY_REPLY_ID 2503
#define EXCEPTION_DEFAULT 1
#define EXCEPTION_STATE 2
#define EXCEPTION_STATE_IDENTITY 3
#define BOOTSTRAP_INFO_MAGIC 1229083213
#define BOOTSTRAP_INFO_VERSION 3
#define BOOT_MODULES_MAX 256
#define BOOTSTRAP_MODULES_MAX 255
#define BOOTSTRAP_MODULE_NAME_MAX 48
#define AT_NULL 0
#define AT_PAGESZ 6
#define AT_MACH_BOOTSTRAP 0x1000u
#define AT_MACH_HOST 0x1001u
#define AT_MACH_IO_PORTS 0x100eu
#define AT_MACH_DEVICE 0x100fu
#define AT_MACH_POWER_OFF 0x1010u
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_MACH_PROC 0x1002u
#define AT_MACH_MEMORY 0x1003u
#define AT_MACH_ROOT 0x1004u
#define AT_MACH_CWD 0x1005u
#define AT_MACH_FDS 0x1006u
#define AT_MACH_FD_COUNT 0x1007u
#define AT_MACH_SIGNAL_MASK 0x1008u
#define AT_MACH_UMASK 0x1009u
#define AT_MACH_PID 0x100au
#define AT_MACH_BOOT_TIME 0x100bu
#define AT_MACH_FOREGROUND 0x100cu
#define AT_MACH_SIGNAL_IGNORED 0x100du
#define TASK_NAME_MAX 32
#define TASK_CREATE_INHERIT_MEMORY 0x1u
#define TASK_CREATE_INHERIT_SEND_RIGHTS 0x2u
#define TASK_CREATE_FLAGS 0x3u
#define VM_PROT_NONE 0
#define VM_PROT_READ 1
#define VM_PROT_WRITE 2
#define VM_PROT_EXECUTE 4
#define VM_PROT_DEFAULT 3
#define VM_PROT_ALL 7
#define VM_INHERIT_SHARE 0
#define VM_INHERIT_COPY 1
#define VM_INHERIT_NONE 2
#define VM_INHERIT_DEFAULT 1
#define MEMORY_OBJECT_DATA_REQUEST_ID 2200
#define MEMORY_OBJECT_DATA_UNLOCK_ID 2201
#define MEMORY_OBJECT_RETURN_ALL 1
#define MEMORY_OBJECT_FLUSH 2
#define MEMORY_OBJECT_SIZE_MAX 1073741824
#define VM_FLAGS_FIXED 0
#define VM_FLAGS_ANYWHERE 1
#define VM_FLAGS_COPY 2
#define VM_FLAGS_PROTECTION_SHIFT 8
#define VM_FLAGS_PROTECTION_MASK 1792
#define VM_MAP_FLAGS_ALL 1795
#define VM_REGION_BASIC_INFO 10
#define VM_REGION_BASIC_INFO_COUNT 4
#define x86_THREAD_STATE64 4
#define x86_THREAD_STATE64_COUNT 42
#define ARM_THREAD_STATE64 6
#define ARM_THREAD_STATE64_COUNT 68
#define TASK_BASIC_INFO 5
#define TASK_BASIC_INFO_COUNT 6
#define THREAD_BASIC_INFO 3
#define THREAD_BASIC_INFO_COUNT 6
#define TH_STATE_RUNNING 1
#define TH_STATE_STOPPED 2
#define TH_STATE_WAITING 3
#define TH_STATE_HALTED 5

/* Macros */
#define MACH_PORT_INDEX(name) ((name) >> 8)
#define MACH_PORT_GEN(name) ((name) & 0xffu)
#define MACH_PORT_MAKE(index, gen) (((index) << 8) | ((gen) & 0xffu))
#define MACH_PORT_VALID(name) ((name) != MACH_PORT_NULL && (name) != MACH_PORT_DEAD)
#define MACH_PORT_TYPE(right) (1u << ((right) + 16))
#define MACH_MSGH_BITS(remote, local) ((remote) | ((local) << 8))
#define MACH_MSGH_BITS_SET_PORTS(remote, local, voucher) (((remote) & MACH_MSGH_BITS_REMOTE_MASK) | (((local) << 8) & MACH_MSGH_BITS_LOCAL_MASK) | (((voucher) << 16) & MACH_MSGH_BITS_VOUCHER_MASK))
#define MACH_MSGH_BITS_SET(remote, local, voucher, other) (MACH_MSGH_BITS_SET_PORTS(remote, local, voucher) | ((other) & ~MACH_MSGH_BITS_PORTS_MASK))
#define MACH_MSGH_BITS_REMOTE(bits) ((bits) & MACH_MSGH_BITS_REMOTE_MASK)
#define MACH_MSGH_BITS_LOCAL(bits) (((bits) & MACH_MSGH_BITS_LOCAL_MASK) >> 8)
#define MACH_MSGH_BITS_VOUCHER(bits) (((bits) & MACH_MSGH_BITS_VOUCHER_MASK) >> 16)
#define MACH_MSGH_BITS_IS_COMPLEX(bits) (((bits) & MACH_MSGH_BITS_COMPLEX) != 0)
#define MACH_NOTIFICATION_REQUEST(id, disposition) (((id) & 0xffffu) | (((disposition) & 0xffu) << 16))
#define VM_MAP_FLAGS(anywhere, copy, protection) (((anywhere) ? VM_FLAGS_ANYWHERE : VM_FLAGS_FIXED) | ((copy) ? VM_FLAGS_COPY : 0u) | (((protection) & VM_PROT_ALL) << VM_FLAGS_PROTECTION_SHIFT))

/* Structures: 4-byte packed like xnu, little-endian. */
#pragma pack(push, 4)
typedef struct { /* Rust: VmRegionBasicInfo */
    uint32_t protection;
    uint32_t max_protection;
    uint32_t inheritance;
    uint32_t resident_pages;
} vm_region_basic_info_data_t;
typedef struct { /* Rust: BootModule */
    uint64_t address;
    uint64_t size;
    char name[BOOTSTRAP_MODULE_NAME_MAX];
} boot_module_t;
typedef struct { /* Rust: BootstrapInfo */
    uint32_t magic;
    uint32_t version;
    uint32_t host_port;
    uint32_t module_count;
    boot_module_t modules[];
} bootstrap_info_t;
typedef struct { /* Rust: ArmThreadState64 */
    uint64_t __x[29];
    uint64_t __fp;
    uint64_t __lr;
    uint64_t __sp;
    uint64_t __pc;
    uint32_t __cpsr;
    uint32_t __pad;
} arm_thread_state64_t;
typedef struct { /* Rust: X86ThreadState64 */
    uint64_t __rax;
    uint64_t __rbx;
    uint64_t __rcx;
    uint64_t __rdx;
    uint64_t __rdi;
    uint64_t __rsi;
    uint64_t __rbp;
    uint64_t __rsp;
    uint64_t __r8;
    uint64_t __r9;
    uint64_t __r10;
    uint64_t __r11;
    uint64_t __r12;
    uint64_t __r13;
    uint64_t __r14;
    uint64_t __r15;
    uint64_t __rip;
    uint64_t __rflags;
    uint64_t __cs;
    uint64_t __fs;
    uint64_t __gs;
} x86_thread_state64_t;
typedef struct { /* Rust: TaskBasicInfo */
    uint32_t suspend_count;
    uint32_t thread_count;
    uint32_t resident_pages;
    uint32_t port_names;
    uint64_t cpu_ticks;
} task_basic_info_data_t;
typedef struct { /* Rust: ThreadBasicInfo */
    uint32_t run_state;
    uint32_t priority;
    uint32_t suspend_count;
    uint32_t tick_nanoseconds;
    uint64_t cpu_ticks;
} thread_basic_info_data_t;
typedef struct { /* Rust: MachMsgHeader */
    mach_msg_bits_t msgh_bits;
    mach_msg_size_t msgh_size;
    mach_port_t msgh_remote_port;
    mach_port_t msgh_local_port;
    mach_port_name_t msgh_voucher_port;
    mach_msg_id_t msgh_id;
} mach_msg_header_t;
typedef struct { /* Rust: MachMsgBody */
    mach_msg_size_t msgh_descriptor_count;
} mach_msg_body_t;
typedef struct { /* Rust: MachMsgPortDescriptor */
    mach_port_t name;
    uint32_t pad1;
    uint16_t pad2;
    uint8_t disposition;
    uint8_t type;
    uint32_t pad3;
} mach_msg_port_descriptor_t;
typedef struct { /* Rust: MachMsgOolDescriptor */
    uint64_t address;
    uint8_t deallocate;
    uint8_t copy;
    uint8_t pad1;
    uint8_t type;
    mach_msg_size_t size;
} mach_msg_ool_descriptor_t;
typedef struct { /* Rust: MachMsgOolPortsDescriptor */
    uint64_t address;
    uint8_t deallocate;
    uint8_t copy;
    uint8_t disposition;
    uint8_t type;
    mach_msg_size_t count;
} mach_msg_ool_ports_descriptor_t;
typedef struct { /* Rust: MachMsgTrailer */
    uint32_t msgh_trailer_type;
    mach_msg_size_t msgh_trailer_size;
    uint32_t msgh_seqno;
    uint32_t msgh_sender;
} mach_msg_trailer_t;
typedef struct { /* Rust: ProcessDescriptor */
    int32_t number;
    uint32_t name;
    uint32_t flags;
} process_descriptor_t;
typedef struct { /* Rust: TaskCredential */
    uint32_t pid;
    uint32_t pgid;
    uint32_t sid;
    uint32_t ruid;
    uint32_t euid;
    uint32_t rgid;
    uint32_t egid;
    uint32_t group_count;
    uint32_t groups[CREDENTIAL_GROUPS_MAX];
} task_credential_t;
typedef struct { /* Rust: MachMsgAuditTrailer */
    uint32_t msgh_trailer_type;
    mach_msg_size_t msgh_trailer_size;
    uint32_t msgh_seqno;
    uint32_t msgh_sender;
    task_credential_t msgh_credential;
} mach_msg_audit_trailer_t;
typedef struct { /* Rust: NameNotification */
    mach_msg_header_t not_header;
    mach_port_name_t not_port;
} mach_port_deleted_notification_t;
typedef struct { /* Rust: NameNotification */
    mach_msg_header_t not_header;
    mach_port_name_t not_port;
} mach_dead_name_notification_t;
typedef struct { /* Rust: NoSendersNotification */
    mach_msg_header_t not_header;
    uint32_t not_count;
} mach_no_senders_notification_t;
typedef struct { /* Rust: PortDestroyedNotification */
    mach_msg_header_t not_header;
    mach_msg_body_t not_body;
    mach_msg_port_descriptor_t not_port;
} mach_port_destroyed_notification_t;
typedef struct { /* Rust: MachMsgHeader */
    mach_msg_header_t not_header;
} mach_send_once_notification_t;
typedef struct { /* Rust: PortLimits */
    uint32_t mpl_qlimit;
} mach_port_limits_t;
typedef struct { /* Rust: PortStatus */
    mach_port_name_t mps_pset;
    uint32_t mps_seqno;
    uint32_t mps_mscount;
    uint32_t mps_qlimit;
    uint32_t mps_msgcount;
    uint32_t mps_sorights;
    uint32_t mps_srights;
    uint32_t mps_pdrequest;
    uint32_t mps_nsrequest;
    uint32_t mps_flags;
} mach_port_status_t;
typedef struct { /* Rust: MachTimespec */
    uint32_t tv_sec;
    int32_t tv_nsec;
} mach_timespec_t;
#pragma pack(pop)

/* Layout checks: sizes and offsets measured on the Rust definitions. */
_Static_assert(sizeof(vm_region_basic_info_data_t) == 16, "sizeof(vm_region_basic_info_data_t)");
_Static_assert(offsetof(vm_region_basic_info_data_t, protection) == 0, "offsetof(vm_region_basic_info_data_t, protection)");
_Static_assert(offsetof(vm_region_basic_info_data_t, max_protection) == 4, "offsetof(vm_region_basic_info_data_t, max_protection)");
_Static_assert(offsetof(vm_region_basic_info_data_t, inheritance) == 8, "offsetof(vm_region_basic_info_data_t, inheritance)");
_Static_assert(offsetof(vm_region_basic_info_data_t, resident_pages) == 12, "offsetof(vm_region_basic_info_data_t, resident_pages)");
_Static_assert(sizeof(boot_module_t) == 64, "sizeof(boot_module_t)");
_Static_assert(offsetof(boot_module_t, address) == 0, "offsetof(boot_module_t, address)");
_Static_assert(offsetof(boot_module_t, size) == 8, "offsetof(boot_module_t, size)");
_Static_assert(offsetof(boot_module_t, name) == 16, "offsetof(boot_module_t, name)");
_Static_assert(sizeof(bootstrap_info_t) == 16, "sizeof(bootstrap_info_t)");
_Static_assert(offsetof(bootstrap_info_t, magic) == 0, "offsetof(bootstrap_info_t, magic)");
_Static_assert(offsetof(bootstrap_info_t, version) == 4, "offsetof(bootstrap_info_t, version)");
_Static_assert(offsetof(bootstrap_info_t, host_port) == 8, "offsetof(bootstrap_info_t, host_port)");
_Static_assert(offsetof(bootstrap_info_t, module_count) == 12, "offsetof(bootstrap_info_t, module_count)");
_Static_assert(offsetof(bootstrap_info_t, modules) == 16, "offsetof(bootstrap_info_t, modules)");
_Static_assert(sizeof(arm_thread_state64_t) == 272, "sizeof(arm_thread_state64_t)");
_Static_assert(offsetof(arm_thread_state64_t, __x) == 0, "offsetof(arm_thread_state64_t, __x)");
_Static_assert(offsetof(arm_thread_state64_t, __fp) == 232, "offsetof(arm_thread_state64_t, __fp)");
_Static_assert(offsetof(arm_thread_state64_t, __lr) == 240, "offsetof(arm_thread_state64_t, __lr)");
_Static_assert(offsetof(arm_thread_state64_t, __sp) == 248, "offsetof(arm_thread_state64_t, __sp)");
_Static_assert(offsetof(arm_thread_state64_t, __pc) == 256, "offsetof(arm_thread_state64_t, __pc)");
_Static_assert(offsetof(arm_thread_state64_t, __cpsr) == 264, "offsetof(arm_thread_state64_t, __cpsr)");
_Static_assert(offsetof(arm_thread_state64_t, __pad) == 268, "offsetof(arm_thread_state64_t, __pad)");
_Static_assert(sizeof(x86_thread_state64_t) == 168, "sizeof(x86_thread_state64_t)");
_Static_assert(offsetof(x86_thread_state64_t, __rax) == 0, "offsetof(x86_thread_state64_t, __rax)");
_Static_assert(offsetof(x86_thread_state64_t, __rbx) == 8, "offsetof(x86_thread_state64_t, __rbx)");
_Static_assert(offsetof(x86_thread_state64_t, __rcx) == 16, "offsetof(x86_thread_state64_t, __rcx)");
_Static_assert(offsetof(x86_thread_state64_t, __rdx) == 24, "offsetof(x86_thread_state64_t, __rdx)");
_Static_assert(offsetof(x86_thread_state64_t, __rdi) == 32, "offsetof(x86_thread_state64_t, __rdi)");
_Static_assert(offsetof(x86_thread_state64_t, __rsi) == 40, "offsetof(x86_thread_state64_t, __rsi)");
_Static_assert(offsetof(x86_thread_state64_t, __rbp) == 48, "offsetof(x86_thread_state64_t, __rbp)");
_Static_assert(offsetof(x86_thread_state64_t, __rsp) == 56, "offsetof(x86_thread_state64_t, __rsp)");
_Static_assert(offsetof(x86_thread_state64_t, __r8) == 64, "offsetof(x86_thread_state64_t, __r8)");
_Static_assert(offsetof(x86_thread_state64_t, __r9) == 72, "offsetof(x86_thread_state64_t, __r9)");
_Static_assert(offsetof(x86_thread_state64_t, __r10) == 80, "offsetof(x86_thread_state64_t, __r10)");
_Static_assert(offsetof(x86_thread_state64_t, __r11) == 88, "offsetof(x86_thread_state64_t, __r11)");
_Static_assert(offsetof(x86_thread_state64_t, __r12) == 96, "offsetof(x86_thread_state64_t, __r12)");
_Static_assert(offsetof(x86_thread_state64_t, __r13) == 104, "offsetof(x86_thread_state64_t, __r13)");
_Static_assert(offsetof(x86_thread_state64_t, __r14) == 112, "offsetof(x86_thread_state64_t, __r14)");
_Static_assert(offsetof(x86_thread_state64_t, __r15) == 120, "offsetof(x86_thread_state64_t, __r15)");
_Static_assert(offsetof(x86_thread_state64_t, __rip) == 128, "offsetof(x86_thread_state64_t, __rip)");
_Static_assert(offsetof(x86_thread_state64_t, __rflags) == 136, "offsetof(x86_thread_state64_t, __rflags)");
_Static_assert(offsetof(x86_thread_state64_t, __cs) == 144, "offsetof(x86_thread_state64_t, __cs)");
_Static_assert(offsetof(x86_thread_state64_t, __fs) == 152, "offsetof(x86_thread_state64_t, __fs)");
_Static_assert(offsetof(x86_thread_state64_t, __gs) == 160, "offsetof(x86_thread_state64_t, __gs)");
_Static_assert(sizeof(task_basic_info_data_t) == 24, "sizeof(task_basic_info_data_t)");
_Static_assert(offsetof(task_basic_info_data_t, suspend_count) == 0, "offsetof(task_basic_info_data_t, suspend_count)");
_Static_assert(offsetof(task_basic_info_data_t, thread_count) == 4, "offsetof(task_basic_info_data_t, thread_count)");
_Static_assert(offsetof(task_basic_info_data_t, resident_pages) == 8, "offsetof(task_basic_info_data_t, resident_pages)");
_Static_assert(offsetof(task_basic_info_data_t, port_names) == 12, "offsetof(task_basic_info_data_t, port_names)");
_Static_assert(offsetof(task_basic_info_data_t, cpu_ticks) == 16, "offsetof(task_basic_info_data_t, cpu_ticks)");
_Static_assert(sizeof(thread_basic_info_data_t) == 24, "sizeof(thread_basic_info_data_t)");
_Static_assert(offsetof(thread_basic_info_data_t, run_state) == 0, "offsetof(thread_basic_info_data_t, run_state)");
_Static_assert(offsetof(thread_basic_info_data_t, priority) == 4, "offsetof(thread_basic_info_data_t, priority)");
_Static_assert(offsetof(thread_basic_info_data_t, suspend_count) == 8, "offsetof(thread_basic_info_data_t, suspend_count)");
_Static_assert(offsetof(thread_basic_info_data_t, tick_nanoseconds) == 12, "offsetof(thread_basic_info_data_t, tick_nanoseconds)");
_Static_assert(offsetof(thread_basic_info_data_t, cpu_ticks) == 16, "offsetof(thread_basic_info_data_t, cpu_ticks)");
_Static_assert(sizeof(mach_msg_header_t) == 24, "sizeof(mach_msg_header_t)");
_Static_assert(offsetof(mach_msg_header_t, msgh_bits) == 0, "offsetof(mach_msg_header_t, msgh_bits)");
_Static_assert(offsetof(mach_msg_header_t, msgh_size) == 4, "offsetof(mach_msg_header_t, msgh_size)");
_Static_assert(offsetof(mach_msg_header_t, msgh_remote_port) == 8, "offsetof(mach_msg_header_t, msgh_remote_port)");
_Static_assert(offsetof(mach_msg_header_t, msgh_local_port) == 12, "offsetof(mach_msg_header_t, msgh_local_port)");
_Static_assert(offsetof(mach_msg_header_t, msgh_voucher_port) == 16, "offsetof(mach_msg_header_t, msgh_voucher_port)");
_Static_assert(offsetof(mach_msg_header_t, msgh_id) == 20, "offsetof(mach_msg_header_t, msgh_id)");
_Static_assert(sizeof(mach_msg_body_t) == 4, "sizeof(mach_msg_body_t)");
_Static_assert(offsetof(mach_msg_body_t, msgh_descriptor_count) == 0, "offsetof(mach_msg_body_t, msgh_descriptor_count)");
_Static_assert(sizeof(mach_msg_port_descriptor_t) == 16, "sizeof(mach_msg_port_descriptor_t)");
_Static_assert(offsetof(mach_msg_port_descriptor_t, name) == 0, "offsetof(mach_msg_port_descriptor_t, name)");
_Static_assert(offsetof(mach_msg_port_descriptor_t, pad1) == 4, "offsetof(mach_msg_port_descriptor_t, pad1)");
_Static_assert(offsetof(mach_msg_port_descriptor_t, pad2) == 8, "offsetof(mach_msg_port_descriptor_t, pad2)");
_Static_assert(offsetof(mach_msg_port_descriptor_t, disposition) == 10, "offsetof(mach_msg_port_descriptor_t, disposition)");
_Static_assert(offsetof(mach_msg_port_descriptor_t, type) == 11, "offsetof(mach_msg_port_descriptor_t, type)");
_Static_assert(offsetof(mach_msg_port_descriptor_t, pad3) == 12, "offsetof(mach_msg_port_descriptor_t, pad3)");
_Static_assert(sizeof(mach_msg_ool_descriptor_t) == 16, "sizeof(mach_msg_ool_descriptor_t)");
_Static_assert(offsetof(mach_msg_ool_descriptor_t, address) == 0, "offsetof(mach_msg_ool_descriptor_t, address)");
_Static_assert(offsetof(mach_msg_ool_descriptor_t, deallocate) == 8, "offsetof(mach_msg_ool_descriptor_t, deallocate)");
_Static_assert(offsetof(mach_msg_ool_descriptor_t, copy) == 9, "offsetof(mach_msg_ool_descriptor_t, copy)");
_Static_assert(offsetof(mach_msg_ool_descriptor_t, pad1) == 10, "offsetof(mach_msg_ool_descriptor_t, pad1)");
_Static_assert(offsetof(mach_msg_ool_descriptor_t, type) == 11, "offsetof(mach_msg_ool_descriptor_t, type)");
_Static_assert(offsetof(mach_msg_ool_descriptor_t, size) == 12, "offsetof(mach_msg_ool_descriptor_t, size)");
_Static_assert(sizeof(mach_msg_ool_ports_descriptor_t) == 16, "sizeof(mach_msg_ool_ports_descriptor_t)");
_Static_assert(offsetof(mach_msg_ool_ports_descriptor_t, address) == 0, "offsetof(mach_msg_ool_ports_descriptor_t, address)");
_Static_assert(offsetof(mach_msg_ool_ports_descriptor_t, deallocate) == 8, "offsetof(mach_msg_ool_ports_descriptor_t, deallocate)");
_Static_assert(offsetof(mach_msg_ool_ports_descriptor_t, copy) == 9, "offsetof(mach_msg_ool_ports_descriptor_t, copy)");
_Static_assert(offsetof(mach_msg_ool_ports_descriptor_t, disposition) == 10, "offsetof(mach_msg_ool_ports_descriptor_t, disposition)");
_Static_assert(offsetof(mach_msg_ool_ports_descriptor_t, type) == 11, "offsetof(mach_msg_ool_ports_descriptor_t, type)");
_Static_assert(offsetof(mach_msg_ool_ports_descriptor_t, count) == 12, "offsetof(mach_msg_ool_ports_descriptor_t, count)");
_Static_assert(sizeof(mach_msg_trailer_t) == 16, "sizeof(mach_msg_trailer_t)");
_Static_assert(offsetof(mach_msg_trailer_t, msgh_trailer_type) == 0, "offsetof(mach_msg_trailer_t, msgh_trailer_type)");
_Static_assert(offsetof(mach_msg_trailer_t, msgh_trailer_size) == 4, "offsetof(mach_msg_trailer_t, msgh_trailer_size)");
_Static_assert(offsetof(mach_msg_trailer_t, msgh_seqno) == 8, "offsetof(mach_msg_trailer_t, msgh_seqno)");
_Static_assert(offsetof(mach_msg_trailer_t, msgh_sender) == 12, "offsetof(mach_msg_trailer_t, msgh_sender)");
_Static_assert(sizeof(process_descriptor_t) == 12, "sizeof(process_descriptor_t)");
_Static_assert(offsetof(process_descriptor_t, number) == 0, "offsetof(process_descriptor_t, number)");
_Static_assert(offsetof(process_descriptor_t, name) == 4, "offsetof(process_descriptor_t, name)");
_Static_assert(offsetof(process_descriptor_t, flags) == 8, "offsetof(process_descriptor_t, flags)");
_Static_assert(sizeof(task_credential_t) == 96, "sizeof(task_credential_t)");
_Static_assert(offsetof(task_credential_t, pid) == 0, "offsetof(task_credential_t, pid)");
_Static_assert(offsetof(task_credential_t, pgid) == 4, "offsetof(task_credential_t, pgid)");
_Static_assert(offsetof(task_credential_t, sid) == 8, "offsetof(task_credential_t, sid)");
_Static_assert(offsetof(task_credential_t, ruid) == 12, "offsetof(task_credential_t, ruid)");
_Static_assert(offsetof(task_credential_t, euid) == 16, "offsetof(task_credential_t, euid)");
_Static_assert(offsetof(task_credential_t, rgid) == 20, "offsetof(task_credential_t, rgid)");
_Static_assert(offsetof(task_credential_t, egid) == 24, "offsetof(task_credential_t, egid)");
_Static_assert(offsetof(task_credential_t, group_count) == 28, "offsetof(task_credential_t, group_count)");
_Static_assert(offsetof(task_credential_t, groups) == 32, "offsetof(task_credential_t, groups)");
_Static_assert(sizeof(mach_msg_audit_trailer_t) == 112, "sizeof(mach_msg_audit_trailer_t)");
_Static_assert(offsetof(mach_msg_audit_trailer_t, msgh_trailer_type) == 0, "offsetof(mach_msg_audit_trailer_t, msgh_trailer_type)");
_Static_assert(offsetof(mach_msg_audit_trailer_t, msgh_trailer_size) == 4, "offsetof(mach_msg_audit_trailer_t, msgh_trailer_size)");
_Static_assert(offsetof(mach_msg_audit_trailer_t, msgh_seqno) == 8, "offsetof(mach_msg_audit_trailer_t, msgh_seqno)");
_Static_assert(offsetof(mach_msg_audit_trailer_t, msgh_sender) == 12, "offsetof(mach_msg_audit_trailer_t, msgh_sender)");
_Static_assert(offsetof(mach_msg_audit_trailer_t, msgh_credential) == 16, "offsetof(mach_msg_audit_trailer_t, msgh_credential)");
_Static_assert(sizeof(mach_port_deleted_notification_t) == 28, "sizeof(mach_port_deleted_notification_t)");
_Static_assert(offsetof(mach_port_deleted_notification_t, not_header) == 0, "offsetof(mach_port_deleted_notification_t, not_header)");
_Static_assert(offsetof(mach_port_deleted_notification_t, not_port) == 24, "offsetof(mach_port_deleted_notification_t, not_port)");
_Static_assert(sizeof(mach_dead_name_notification_t) == 28, "sizeof(mach_dead_name_notification_t)");
_Static_assert(offsetof(mach_dead_name_notification_t, not_header) == 0, "offsetof(mach_dead_name_notification_t, not_header)");
_Static_assert(offsetof(mach_dead_name_notification_t, not_port) == 24, "offsetof(mach_dead_name_notification_t, not_port)");
_Static_assert(sizeof(mach_no_senders_notification_t) == 28, "sizeof(mach_no_senders_notification_t)");
_Static_assert(offsetof(mach_no_senders_notification_t, not_header) == 0, "offsetof(mach_no_senders_notification_t, not_header)");
_Static_assert(offsetof(mach_no_senders_notification_t, not_count) == 24, "offsetof(mach_no_senders_notification_t, not_count)");
_Static_assert(sizeof(mach_port_destroyed_notification_t) == 44, "sizeof(mach_port_destroyed_notification_t)");
_Static_assert(offsetof(mach_port_destroyed_notification_t, not_header) == 0, "offsetof(mach_port_destroyed_notification_t, not_header)");
_Static_assert(offsetof(mach_port_destroyed_notification_t, not_body) == 24, "offsetof(mach_port_destroyed_notification_t, not_body)");
_Static_assert(offsetof(mach_port_destroyed_notification_t, not_port) == 28, "offsetof(mach_port_destroyed_notification_t, not_port)");
_Static_assert(sizeof(mach_send_once_notification_t) == 24, "sizeof(mach_send_once_notification_t)");
_Static_assert(offsetof(mach_send_once_notification_t, not_header) == 0, "offsetof(mach_send_once_notification_t, not_header)");
_Static_assert(sizeof(mach_port_limits_t) == 4, "sizeof(mach_port_limits_t)");
_Static_assert(offsetof(mach_port_limits_t, mpl_qlimit) == 0, "offsetof(mach_port_limits_t, mpl_qlimit)");
_Static_assert(sizeof(mach_port_status_t) == 40, "sizeof(mach_port_status_t)");
_Static_assert(offsetof(mach_port_status_t, mps_pset) == 0, "offsetof(mach_port_status_t, mps_pset)");
_Static_assert(offsetof(mach_port_status_t, mps_seqno) == 4, "offsetof(mach_port_status_t, mps_seqno)");
_Static_assert(offsetof(mach_port_status_t, mps_mscount) == 8, "offsetof(mach_port_status_t, mps_mscount)");
_Static_assert(offsetof(mach_port_status_t, mps_qlimit) == 12, "offsetof(mach_port_status_t, mps_qlimit)");
_Static_assert(offsetof(mach_port_status_t, mps_msgcount) == 16, "offsetof(mach_port_status_t, mps_msgcount)");
_Static_assert(offsetof(mach_port_status_t, mps_sorights) == 20, "offsetof(mach_port_status_t, mps_sorights)");
_Static_assert(offsetof(mach_port_status_t, mps_srights) == 24, "offsetof(mach_port_status_t, mps_srights)");
_Static_assert(offsetof(mach_port_status_t, mps_pdrequest) == 28, "offsetof(mach_port_status_t, mps_pdrequest)");
_Static_assert(offsetof(mach_port_status_t, mps_nsrequest) == 32, "offsetof(mach_port_status_t, mps_nsrequest)");
_Static_assert(offsetof(mach_port_status_t, mps_flags) == 36, "offsetof(mach_port_status_t, mps_flags)");
_Static_assert(sizeof(mach_timespec_t) == 8, "sizeof(mach_timespec_t)");
_Static_assert(offsetof(mach_timespec_t, tv_sec) == 0, "offsetof(mach_timespec_t, tv_sec)");
_Static_assert(offsetof(mach_timespec_t, tv_nsec) == 4, "offsetof(mach_timespec_t, tv_nsec)");

/* Macro checks: results computed by the Rust const fns. */
_Static_assert(MACH_PORT_INDEX(0x1234u) == 18u, "MACH_PORT_INDEX(0x1234u)");
_Static_assert(MACH_PORT_GEN(0x1234u) == 52u, "MACH_PORT_GEN(0x1234u)");
_Static_assert(MACH_PORT_MAKE(0x12u, 0x3456u) == 4694u, "MACH_PORT_MAKE(0x12u, 0x3456u)");
_Static_assert(MACH_PORT_TYPE(MACH_PORT_RIGHT_DEAD_NAME) == 1048576u, "MACH_PORT_TYPE(MACH_PORT_RIGHT_DEAD_NAME)");
_Static_assert(MACH_MSGH_BITS(17u, 21u) == 5393u, "MACH_MSGH_BITS(17u, 21u)");
_Static_assert(MACH_MSGH_BITS_SET_PORTS(19u, 21u, 0u) == 5395u, "MACH_MSGH_BITS_SET_PORTS(19u, 21u, 0u)");
_Static_assert(MACH_MSGH_BITS_SET(19u, 21u, 0u, MACH_MSGH_BITS_COMPLEX) == 2147489043u, "MACH_MSGH_BITS_SET(19u, 21u, 0u, MACH_MSGH_BITS_COMPLEX)");
_Static_assert(MACH_MSGH_BITS_REMOTE(0x80001513u) == 19u, "MACH_MSGH_BITS_REMOTE(0x80001513u)");
_Static_assert(MACH_MSGH_BITS_LOCAL(0x80001513u) == 21u, "MACH_MSGH_BITS_LOCAL(0x80001513u)");
_Static_assert(MACH_MSGH_BITS_IS_COMPLEX(0x80001513u) == 1u, "MACH_MSGH_BITS_IS_COMPLEX(0x80001513u)");
_Static_assert(MACH_NOTIFICATION_REQUEST(MACH_NOTIFY_DEAD_NAME, 21u) == 1376328u, "MACH_NOTIFICATION_REQUEST(MACH_NOTIFY_DEAD_NAME, 21u)");
_Static_assert(VM_MAP_FLAGS(1, 1, VM_PROT_READ | VM_PROT_EXECUTE) == 1283u, "VM_MAP_FLAGS(1, 1, VM_PROT_READ | VM_PROT_EXECUTE)");

#endif /* MACH_ABI_H */
