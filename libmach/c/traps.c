/* Trap wrappers of the C runtime (libmach/c), with Mach's C names, over
 * the one trap entry in <mach/mach_trap.h>. */
#include <mach/mach_runtime.h>
#include <mach/mach_trap.h>

mach_port_t mach_bootstrap_port;

static uint64_t trap0(uint64_t number) { return mach_trap(number, 0, 0, 0, 0, 0, 0); }

mach_msg_return_t mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                           mach_msg_size_t receive_size, mach_port_name_t receive_name, mach_msg_timeout_t timeout,
                           mach_port_name_t notify) {
    if (notify != MACH_PORT_NULL)
        return MACH_SEND_INVALID_NOTIFY;
    return (mach_msg_return_t)mach_trap(MACH_TRAP_MACH_MSG, (uint64_t)message, (uint32_t)option, send_size, receive_size,
                                    receive_name, timeout);
}

mach_port_t mach_reply_port(void) { return (mach_port_t)trap0(MACH_TRAP_MACH_REPLY_PORT); }
mach_port_t mach_task_self(void) { return (mach_port_t)trap0(MACH_TRAP_TASK_SELF); }
mach_port_t mach_thread_self(void) { return (mach_port_t)trap0(MACH_TRAP_THREAD_SELF); }

kern_return_t mach_port_allocate(mach_port_t task, mach_port_right_t right, mach_port_name_t *name) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_ALLOCATE, task, right, (uint64_t)name, 0, 0, 0);
}

kern_return_t mach_port_deallocate(mach_port_t task, mach_port_name_t name) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_DEALLOCATE, task, name, 0, 0, 0, 0);
}

kern_return_t mach_port_destroy(mach_port_t task, mach_port_name_t name) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_DESTROY, task, name, 0, 0, 0, 0);
}

kern_return_t mach_port_mod_refs(mach_port_t task, mach_port_name_t name, mach_port_right_t right,
                                 mach_port_delta_t delta) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_MOD_REFS, task, name, right, (uint32_t)delta, 0, 0);
}

kern_return_t mach_port_insert_right(mach_port_t task, mach_port_name_t name, mach_port_name_t right,
                                     mach_msg_type_name_t disposition) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_INSERT_RIGHT, task, name, right, disposition, 0, 0);
}

kern_return_t mach_port_move_member(mach_port_t task, mach_port_name_t member, mach_port_name_t after) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_MOVE_MEMBER, task, member, after, 0, 0, 0);
}

kern_return_t mach_port_request_notification(mach_port_t task, mach_port_name_t name, mach_msg_id_t id, uint32_t sync,
                                             mach_port_t notify, mach_msg_type_name_t notify_disposition,
                                             mach_port_t *previous) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_REQUEST_NOTIFICATION, task, name,
                                    MACH_NOTIFICATION_REQUEST((uint32_t)id, notify_disposition), sync, notify,
                                    (uint64_t)previous);
}

kern_return_t mach_vm_allocate(mach_port_t task, uint64_t *address, uint64_t size, int flags) {
    return (kern_return_t)mach_trap(MACH_TRAP_VM_ALLOCATE, task, (uint64_t)address, size, (uint32_t)flags, 0, 0);
}

kern_return_t mach_port_type(mach_port_t task, mach_port_name_t name, mach_port_type_t *type) {
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_TYPE, task, name, (uint64_t)type, 0, 0, 0);
}

kern_return_t mach_task_create(mach_port_t parent, uint64_t flags, mach_port_t *child) {
    return (kern_return_t)mach_trap(MACH_TRAP_TASK_CREATE, parent, flags, (uint64_t)child, 0, 0, 0);
}

kern_return_t mach_task_set_credential(mach_port_t host_priv, mach_port_t task, const task_credential_t *credential) {
    return (kern_return_t)mach_trap(MACH_TRAP_TASK_SET_CREDENTIAL, host_priv, task, (uint64_t)credential, 0, 0, 0);
}

kern_return_t mach_thread_abort(mach_port_t thread) {
    return (kern_return_t)mach_trap(MACH_TRAP_THREAD_ABORT, thread, 0, 0, 0, 0, 0);
}

kern_return_t mach_thread_set_tls(mach_port_t thread, uint64_t value) {
    return (kern_return_t)mach_trap(MACH_TRAP_THREAD_SET_TLS, thread, value, 0, 0, 0, 0);
}

kern_return_t mach_vm_deallocate(mach_port_t task, uint64_t address, uint64_t size) {
    return (kern_return_t)mach_trap(MACH_TRAP_VM_DEALLOCATE, task, address, size, 0, 0, 0);
}

kern_return_t mach_thread_sleep(uint64_t milliseconds) {
    return (kern_return_t)mach_trap(MACH_TRAP_THREAD_SWITCH, 0, SWITCH_OPTION_WAIT, milliseconds, 0, 0, 0);
}

uint64_t mach_clock_nanoseconds(void) {
    mach_timespec_t time = {0, 0};
    if (mach_trap(MACH_TRAP_CLOCK_GET_TIME, (uint64_t)&time, 0, 0, 0, 0, 0) != KERN_SUCCESS)
        return 0;
    return (uint64_t)time.tv_sec * 1000000000u + (uint64_t)(time.tv_nsec > 0 ? time.tv_nsec : 0);
}

kern_return_t mach_debug_print(const char *text, size_t length) {
    return (kern_return_t)mach_trap(MACH_TRAP_DEBUG_PRINT, (uint64_t)text, length, 0, 0, 0, 0);
}

int mach_argc;
char **mach_argv;
mach_port_t mach_host_port;

/* Reads argc, argv and the auxiliary vector of the start block at the top
 * of our stack: the bootstrap task's (an empty environment,
 * docs/bootstrap.md) or the process server's (an environment, the
 * descriptor table and the process's ports, docs/process-server.md). */
static void read_start_block(const uint64_t *block) {
    if (block == 0)
        return;
    uint64_t count = block[0];
    mach_argc = count > 64 ? 64 : (int)count;
    mach_argv = (char **)(block + 1);
    const uint64_t *environment = block + 1 + count + 1;
    uint64_t variables = 0;
    while (variables < 65536 && environment[variables] != 0)
        variables++;
    const uint64_t *auxiliary = environment + variables + 1;
    for (int pair = 0; pair < 64 && auxiliary[2 * pair] != AT_NULL; pair++) {
        uint64_t key = auxiliary[2 * pair], value = auxiliary[2 * pair + 1];
        if (key == AT_MACH_HOST)
            mach_host_port = (mach_port_t)value;
        else if (key == AT_MACH_BOOTSTRAP)
            mach_bootstrap_port = (mach_port_t)value;
        else
            mach_read_process_entries(key, value);
    }
}

/* Called by crt0's _start with the first two argument registers: the
 * bootstrap port (AT_MACH_BOOTSTRAP in the start block when it is there,
 * else this register) and the start block. A shell's foreground job takes
 * the terminal first (mach_take_foreground); mach_main's return value is
 * the exit status (mach_exit). */
__attribute__((noreturn)) void mach_start(uint64_t bootstrap_port, const uint64_t *start_block) {
    mach_bootstrap_port = (mach_port_t)bootstrap_port;
    read_start_block(start_block);
    mach_take_foreground();
    mach_exit(mach_main(mach_bootstrap_port));
}
