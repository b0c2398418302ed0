/* c-checks: a C program running as a Mach task under the bootstrap task,
 * with libmach/c's runtime only. It checks that crt0 passed the bootstrap
 * port and the start block (the kernel test's manifest line is
 * `c-checks -- first "second word"`), that the trap wrappers work (ports, a message to itself through
 * mach_msg, an RPC-shaped send+receive in one call) and that the printer
 * formats; it prints "c-checks: N passed, N failed". */
#include <mach/mach_runtime.h>
#include <mach/mach_trap.h>

static int passed, failed;

static void check(const char *name, long long got, long long expected) {
    if (got == expected) {
        passed++;
    } else {
        failed++;
        mach_printf("check %s FAILED: got %lld, expected %lld\n", name, got, expected);
    }
}

typedef struct {
    mach_msg_header_t header;
    uint32_t words[4];
    mach_msg_trailer_t trailer;
} message_t;

int mach_main(mach_port_t bootstrap_port) {
    mach_printf("c-checks: started with bootstrap port 0x%x\n", bootstrap_port);
    check("bootstrap port from the first argument", bootstrap_port, MACH_PORT_MAKE(1, 0));
    check("and stored by crt0", mach_bootstrap_port, bootstrap_port);
    mach_port_type_t type = 0;
    check("port_type of the bootstrap port", mach_port_type(mach_task_self(), bootstrap_port, &type), KERN_SUCCESS);
    check("it is a send right", type, MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND));
    check("argc", mach_argc, 3);
    check("argv[0] is the module", mach_argc > 0 && strcmp(mach_argv[0], "c-checks") == 0, 1);
    check("argv[1]", mach_argc > 1 && strcmp(mach_argv[1], "first") == 0, 1);
    check("argv[2], quoted in the manifest", mach_argc > 2 && strcmp(mach_argv[2], "second word") == 0, 1);
    check("argv ends with NULL", mach_argc == 3 && mach_argv[3] == 0, 1);
    check("no host port without host-port", mach_host_port, MACH_PORT_NULL);

    mach_port_name_t port = MACH_PORT_NULL;
    check("port_allocate", mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port), KERN_SUCCESS);
    message_t message;
    memset(&message, 0, sizeof message);
    message.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
    message.header.msgh_size = sizeof message.header + sizeof message.words;
    message.header.msgh_remote_port = port;
    message.header.msgh_id = 1234;
    for (int index = 0; index < 4; index++)
        message.words[index] = 0x1000u + (unsigned)index;
    /* Send to ourselves and receive it back in the same call. */
    check("mach_msg send+receive",
          mach_msg(&message.header, MACH_SEND_MSG | MACH_RCV_MSG, message.header.msgh_size, sizeof message, port, 0,
                   MACH_PORT_NULL),
          MACH_MSG_SUCCESS);
    check("received id", message.header.msgh_id, 1234);
    check("received size", message.header.msgh_size, sizeof message.header + sizeof message.words);
    check("received words", message.words[3], 0x1003);
    check("received on our port", message.header.msgh_local_port, port);
    check("a receive with a timeout on an empty port",
          mach_msg(&message.header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof message, port, 10, MACH_PORT_NULL),
          MACH_RCV_TIMED_OUT);
    check("notify must be null", mach_msg(&message.header, MACH_RCV_MSG, 0, sizeof message, port, 0, port),
          MACH_SEND_INVALID_NOTIFY);
    check("port_destroy", mach_port_destroy(mach_task_self(), port), KERN_SUCCESS);
    check("a destroyed name is gone", mach_port_type(mach_task_self(), port, &type), KERN_INVALID_NAME);
    mach_port_t reply = mach_reply_port();
    check("reply port", MACH_PORT_VALID(reply), 1);
    uint64_t before = mach_clock_nanoseconds();
    check("sleep", mach_thread_sleep(20), KERN_SUCCESS);
    check("the clock moved at least 20 ms", mach_clock_nanoseconds() - before >= 20000000u, 1);
    check("printf length", mach_printf("c-checks: %s %d %u %x %5d|%c|%%\n", "text", -42, 42u, 0xbeefu, 7, 'z'), 37);
    /* The personality's traps. */
    mach_port_t child = MACH_PORT_NULL;
    check("task_create inheriting send rights",
          mach_task_create(mach_task_self(), TASK_CREATE_INHERIT_SEND_RIGHTS, &child), KERN_SUCCESS);
    check("the child has the bootstrap port under its name", mach_port_type(child, bootstrap_port, &type), KERN_SUCCESS);
    check("as a send right", type, MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND));
    check("the child ends", mach_trap(MACH_TRAP_TASK_TERMINATE, child, 0, 0, 0, 0, 0), KERN_SUCCESS);
    task_credential_t credential = {0};
    check("no credential without the privileged host port",
          mach_task_set_credential(mach_task_self(), mach_task_self(), &credential), KERN_INVALID_HOST);
    check("abort: nothing to interrupt in the caller", mach_thread_abort(mach_thread_self()), KERN_SUCCESS);
    check("thread-local storage base", mach_thread_set_tls(mach_thread_self(), 0), KERN_SUCCESS);
    mach_printf("c-checks: %d passed, %d failed\n", passed, failed);
    return 0;
}
