/* The transport of mach-idl's generated C stubs (libmach/include/mach/
 * mach_idl.h) over this runtime: programs built by mach_cc define
 * MACH_IDL_CUSTOM_TRANSPORT, so the stubs call these functions and every
 * trap goes through traps.c. */
#ifndef MACH_IDL_CUSTOM_TRANSPORT
#define MACH_IDL_CUSTOM_TRANSPORT
#endif
#include <mach/mach_idl.h>
#include <mach/mach_runtime.h>

mach_msg_return_t mach_idl_mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                                    mach_msg_size_t receive_size, mach_port_name_t receive_name,
                                    mach_msg_timeout_t timeout) {
    return mach_msg(message, option, send_size, receive_size, receive_name, timeout, MACH_PORT_NULL);
}

mach_port_name_t mach_idl_reply_port(void) { return mach_reply_port(); }

/* task_self adds a user reference on each call: fetch the name once. */
static mach_port_t task_self_once(void) {
    static mach_port_t task;
    if (task == MACH_PORT_NULL)
        task = mach_task_self();
    return task;
}

/* Releases one right: a receive right is destroyed (the port dies), any
 * other loses one user reference. */
kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right) {
    mach_port_t task = task_self_once();
    if (right == MACH_PORT_RIGHT_RECEIVE)
        return mach_port_mod_refs(task, name, MACH_PORT_RIGHT_RECEIVE, -1);
    return mach_port_deallocate(task, name);
}

/* Gives back out-of-line memory a refused reply brought. */
kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size) {
    return mach_vm_deallocate(task_self_once(), (uint64_t)(uintptr_t)address, size);
}
