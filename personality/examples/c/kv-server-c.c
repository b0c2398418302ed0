/* kv-server-c: the worked example's server written in C, a Mach task
 * started by the bootstrap task. It registers `kv` with the name service
 * (bootstrap_names.h, the generated C client) and serves the C kv store
 * (libmach/examples/kv/c/kv_store.h, over kv.h's generated server side: the
 * handler table, kv_dispatch with the Rust dispatch's checks, mach_idl_serve)
 * on a port set holding the service port, every session port and the
 * no-senders notifications that free a session. The Rust kv-client calls it
 * exactly as it calls the Rust kv-server. Prints "kv-server-c: serving". */
#include <mach/mach_runtime.h>

#include "bootstrap_names.h"
#include "kv.h"

#include "../../../libmach/examples/kv/c/kv_store.h"

/* task_self adds a user reference per call: fetch the name once. */
static mach_port_t task(void) {
    static mach_port_t self;
    if (self == MACH_PORT_NULL)
        self = mach_task_self();
    return self;
}

static mach_port_t port_set;

static kern_return_t kv_platform_session_port(mach_port_t *port) {
    mach_port_t name = MACH_PORT_NULL, previous = MACH_PORT_NULL;
    kern_return_t result = mach_port_allocate(task(), MACH_PORT_RIGHT_RECEIVE, &name);
    if (result != KERN_SUCCESS)
        return result;
    result = mach_port_insert_right(task(), name, name, MACH_MSG_TYPE_MAKE_SEND);
    if (result == KERN_SUCCESS)
        result = mach_port_request_notification(task(), name, MACH_NOTIFY_NO_SENDERS, 1, name,
                                                MACH_MSG_TYPE_MAKE_SEND_ONCE, &previous);
    if (result == KERN_SUCCESS)
        result = mach_port_move_member(task(), name, port_set);
    if (result != KERN_SUCCESS) {
        mach_port_destroy(task(), name);
        return result;
    }
    *port = name;
    return KERN_SUCCESS;
}

static void kv_platform_destroy_port(mach_port_t port) {
    mach_port_mod_refs(task(), port, MACH_PORT_RIGHT_RECEIVE, -1);
}

static void *kv_platform_allocate(uint32_t size) {
    uint64_t address = 0;
    if (mach_vm_allocate(task(), &address, size, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
        return NULL;
    return (void *)(uintptr_t)address;
}

int mach_main(mach_port_t bootstrap_port) {
    mach_port_t service = MACH_PORT_NULL;
    if (mach_port_allocate(task(), MACH_PORT_RIGHT_RECEIVE, &service) != KERN_SUCCESS ||
        mach_port_insert_right(task(), service, service, MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS ||
        mach_port_allocate(task(), MACH_PORT_RIGHT_PORT_SET, &port_set) != KERN_SUCCESS ||
        mach_port_move_member(task(), service, port_set) != KERN_SUCCESS) {
        mach_printf("kv-server-c: cannot make its ports\n");
        return 1;
    }
    bootstrap_names_client_t names;
    kern_return_t result = bootstrap_names_client_init(&names, bootstrap_port);
    if (result == KERN_SUCCESS)
        result = bootstrap_names_register_name(&names, "kv", service);
    if (result != KERN_SUCCESS) {
        mach_printf("kv-server-c: cannot register: 0x%x\n", (unsigned)result);
        return 1;
    }
    /* The name service copied the send right: ours can go. */
    mach_port_deallocate(task(), service);
    bootstrap_names_client_destroy(&names);
    static kv_store_t store;
    static union {
        mach_msg_header_t header;
        uint8_t bytes[KV_BUFFER_SIZE];
    } first, second;
    mach_printf("kv-server-c: serving\n");
    mach_msg_return_t error =
        mach_idl_serve(port_set, MACH_RCV_MSG, first.bytes, second.bytes, KV_BUFFER_SIZE, kv_store_handle, &store);
    mach_printf("kv-server-c: stopped: 0x%x\n", (unsigned)error);
    return 0;
}
