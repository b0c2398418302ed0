/* What a C program started by the process server (msh running it from
 * /bin) says to the personality: its end (proc.exit, so the parent's wait
 * and msh's $? see the status), its output (io.write on descriptor 1) and,
 * as a shell's foreground job, the terminal (io.set_foreground_group), as
 * libmach's Rust runtime does (libmach/src/process.rs).
 * The stubs are the ones mach-idl generates from the personality's
 * proc.defs and io.defs (the build scripts put proc.h and io.h on the
 * include path); a boot module has no process port and no descriptors. */
#include <mach/mach_runtime.h>
#include <mach/mach_trap.h>

#include "io.h"
#include "proc.h"

mach_port_t mach_process_port;

/* The descriptor table the process server wrote in the start block. */
static const process_descriptor_t *descriptor_table;
static uint64_t descriptor_count;
/* The signal mask the image starts with, and the descriptor of the
 * terminal to take (-1: none). */
static uint64_t initial_blocked;
static int64_t foreground_descriptor = -1;

void mach_read_process_entries(uint64_t key, uint64_t value) {
    if (key == AT_MACH_PROC)
        mach_process_port = (mach_port_t)value;
    else if (key == AT_MACH_FDS && value % 4 == 0)
        descriptor_table = (const process_descriptor_t *)value;
    else if (key == AT_MACH_FD_COUNT)
        descriptor_count = value;
    else if (key == AT_MACH_SIGNAL_MASK)
        initial_blocked = value;
    else if (key == AT_MACH_FOREGROUND)
        foreground_descriptor = (int64_t)value;
}

mach_port_t mach_descriptor_port(int number) {
    if (descriptor_table == 0)
        return MACH_PORT_NULL;
    for (uint64_t index = 0; index < descriptor_count && index < 65536; index++) {
        if (descriptor_table[index].number == number)
            return (mach_port_t)descriptor_table[index].name;
    }
    return MACH_PORT_NULL;
}

kern_return_t mach_write_descriptor(int number, const char *text, size_t length) {
    mach_port_t port = mach_descriptor_port(number);
    if (port == MACH_PORT_NULL)
        return KERN_INVALID_NAME;
    io_client_t client;
    kern_return_t result = io_client_init(&client, port);
    if (result != KERN_SUCCESS)
        return result;
    while (length > 0) {
        uint32_t piece = length > 8192 ? 8192 : (uint32_t)length, count = 0;
        result = io_write(&client, (const uint8_t *)text, piece, &count);
        if (result == KERN_SUCCESS && count == 0)
            result = KERN_FAILURE;
        if (result != KERN_SUCCESS)
            break;
        count = count > piece ? piece : count;
        text += count;
        length -= count;
    }
    io_client_destroy(&client);
    return result;
}

/* SIGTTOU's bit in a signal set (bit n - 1 for signal n). */
#define SIGTTOU_BIT ((uint64_t)1 << (22 - 1))

void mach_take_foreground(void) {
    if (mach_process_port == MACH_PORT_NULL || foreground_descriptor < 0 || foreground_descriptor > INT32_MAX)
        return;
    mach_port_t terminal = mach_descriptor_port((int)foreground_descriptor);
    proc_client_t process;
    if (terminal == MACH_PORT_NULL || proc_client_init(&process, mach_process_port) != KERN_SUCCESS)
        return;
    /* With SIGTTOU blocked, the console lets a background group take the
     * terminal; nothing is caught or ignored by this runtime. */
    uint64_t held = 0;
    if (proc_set_dispositions(&process, 0, 0, initial_blocked | SIGTTOU_BIT, false, false, &held) == KERN_SUCCESS) {
        int32_t group = 0, session = 0;
        io_client_t console;
        if (proc_group_of(&process, 0, &group, &session) == KERN_SUCCESS &&
            io_client_init(&console, terminal) == KERN_SUCCESS) {
            io_set_foreground_group(&console, (uint32_t)group);
            io_client_destroy(&console);
        }
        proc_set_dispositions(&process, 0, 0, initial_blocked, false, false, &held);
    }
    proc_client_destroy(&process);
}

__attribute__((noreturn)) void mach_exit(int status) {
    if (mach_process_port != MACH_PORT_NULL) {
        proc_client_t client;
        if (proc_client_init(&client, mach_process_port) == KERN_SUCCESS) {
            proc_exit(&client, status);
            proc_client_destroy(&client);
        }
        /* The process server is gone: end the task ourselves. */
        mach_trap(MACH_TRAP_TASK_TERMINATE, mach_task_self(), 0, 0, 0, 0, 0);
    }
    for (;;)
        mach_thread_sleep(UINT64_MAX / 1000000);
}
