/* mach_runtime.h: the C runtime of Mach_R user programs that run as Mach
 * tasks without minilibc (libmach/c): the program entry, the trap wrappers
 * generated C stubs call, and a small console printer.
 *
 * A program defines `int mach_main(mach_port_t bootstrap_port)`. crt0's
 * `_start` receives the send right to the task's bootstrap port (the name
 * service) in the first argument register and its start block (argc, argv,
 * the environment, the auxiliary vector) in the second, as the bootstrap
 * task (a boot module, docs/bootstrap.md) and the process server (a
 * program run from /bin, docs/process-server.md) both pass them, stores
 * them in `mach_bootstrap_port`, `mach_argc`, `mach_argv`,
 * `mach_host_port` and `mach_process_port`, and calls mach_main. What
 * mach_main returns goes to mach_exit: a process ends with that status
 * (its parent's wait, msh's $?, sees it); a boot module's thread sleeps
 * forever (there is no exit trap; a task ends when its task port is
 * terminated).
 *
 * mach_printf writes to the process's standard output (descriptor 1) when
 * it has one, else (a boot module) to the kernel log.
 *
 * Names follow Mach's C interface (mach_msg, mach_reply_port,
 * mach_port_allocate, ...) with Mach_R's trap semantics (docs/abi.md). The
 * constants and structures come from <mach/mach_abi.h>, generated from the
 * mach-abi crate. */
#ifndef MACH_RUNTIME_H
#define MACH_RUNTIME_H

#include <mach/mach_abi.h>

/* The send right to this task's bootstrap port (set by crt0). */
extern mach_port_t mach_bootstrap_port;
/* The program's arguments from its start block (argv[0] is the module's
 * name); 0 and NULL for a task started without one. */
extern int mach_argc;
extern char **mach_argv;
/* A send right to the privileged host port if the boot manifest grants
 * `host-port`, else MACH_PORT_NULL. */
extern mach_port_t mach_host_port;

/* The send right to this process's port at the process server
 * (AT_MACH_PROC), or MACH_PORT_NULL for a boot module. */
extern mach_port_t mach_process_port;

/* The program's entry, called by crt0; returns the exit status. */
int mach_main(mach_port_t bootstrap_port);

/* Ends the program with `status`: proc.exit for a process; a boot
 * module's thread sleeps forever. */
__attribute__((noreturn)) void mach_exit(int status);
/* The send right of descriptor `number` of this process, or
 * MACH_PORT_NULL (a boot module has no descriptors). */
mach_port_t mach_descriptor_port(int number);
/* Writes `length` bytes of `text` to descriptor `number` (io.write, in
 * pieces of 8 KiB); KERN_INVALID_NAME without that descriptor, else the
 * first error. */
kern_return_t mach_write_descriptor(int number, const char *text, size_t length);
/* Called by crt0 for each auxiliary vector entry it does not keep itself. */
void mach_read_process_entries(uint64_t key, uint64_t value);
/* Called by crt0 before mach_main: a process started as a shell's
 * foreground job (AT_MACH_FOREGROUND) makes its group the terminal's
 * foreground group, as posix_spawn asked. */
void mach_take_foreground(void);

/* mach_msg: an optional send of `send_size` bytes of `message`, then an
 * optional receive of up to `receive_size` bytes into it from
 * `receive_name`. `notify` must be MACH_PORT_NULL (Mach_R has no
 * MACH_RCV_NOTIFY); another value returns MACH_SEND_INVALID_NOTIFY. */
mach_msg_return_t mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                           mach_msg_size_t receive_size, mach_port_name_t receive_name, mach_msg_timeout_t timeout,
                           mach_port_name_t notify);

mach_port_t mach_reply_port(void);
mach_port_t mach_task_self(void);
mach_port_t mach_thread_self(void);

kern_return_t mach_port_allocate(mach_port_t task, mach_port_right_t right, mach_port_name_t *name);
kern_return_t mach_port_deallocate(mach_port_t task, mach_port_name_t name);
kern_return_t mach_port_destroy(mach_port_t task, mach_port_name_t name);
kern_return_t mach_port_mod_refs(mach_port_t task, mach_port_name_t name, mach_port_right_t right,
                                 mach_port_delta_t delta);
kern_return_t mach_port_insert_right(mach_port_t task, mach_port_name_t name, mach_port_name_t right,
                                     mach_msg_type_name_t disposition);
kern_return_t mach_port_type(mach_port_t task, mach_port_name_t name, mach_port_type_t *type);
/* Moves the receive right `member` into port set `after` (MACH_PORT_NULL: out of its set). */
kern_return_t mach_port_move_member(mach_port_t task, mach_port_name_t member, mach_port_name_t after);
/* Asks for notification `id` (MACH_NOTIFY_NO_SENDERS, _DEAD_NAME, _PORT_DESTROYED) about `name`, sent to
 * `notify` used with `notify_disposition` (MACH_MSG_TYPE_MAKE_SEND_ONCE...); *previous gets the replaced
 * request's send-once right (MACH_PORT_NULL if none). */
kern_return_t mach_port_request_notification(mach_port_t task, mach_port_name_t name, mach_msg_id_t id, uint32_t sync,
                                             mach_port_t notify, mach_msg_type_name_t notify_disposition,
                                             mach_port_t *previous);

/* New zeroed memory of `size` bytes (whole pages) anywhere in `task`: its address in *address.
 * `flags`: VM_FLAGS_ANYWHERE. */
kern_return_t mach_vm_allocate(mach_port_t task, uint64_t *address, uint64_t size, int flags);

/* A new task whose parent is `parent`, with `flags` (TASK_CREATE_*); the
 * name of a send right to its task port goes in *child. */
kern_return_t mach_task_create(mach_port_t parent, uint64_t flags, mach_port_t *child);
/* Sets who `task` acts for; needs the privileged host port. */
kern_return_t mach_task_set_credential(mach_port_t host_priv, mach_port_t task, const task_credential_t *credential);
/* Interrupts what `thread` waits for in the kernel (docs/abi.md). */
kern_return_t mach_thread_abort(mach_port_t thread);
/* Sets `thread`'s thread-local storage base (FS on x86_64). */
kern_return_t mach_thread_set_tls(mach_port_t thread, uint64_t value);

/* Gives back `size` bytes at `address` of `task`'s memory (whole pages). */
kern_return_t mach_vm_deallocate(mach_port_t task, uint64_t address, uint64_t size);

/* Sleeps at least `milliseconds`. */
kern_return_t mach_thread_sleep(uint64_t milliseconds);
/* Nanoseconds since the kernel started. */
uint64_t mach_clock_nanoseconds(void);

/* Writes `length` bytes of `text` to the kernel console. */
kern_return_t mach_debug_print(const char *text, size_t length);
/* printf to standard output (a process's descriptor 1; else the kernel
 * log, as text descriptor 1 refuses): %s %c %d %i %u %x %p %%, with l/ll/z
 * on the integers and a field width. One call prints at most 256 bytes. */
int mach_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The compiler may emit calls to these even in freestanding code. */
void *memcpy(void *destination, const void *source, size_t length);
void *memmove(void *destination, const void *source, size_t length);
void *memset(void *destination, int value, size_t length);
int memcmp(const void *left, const void *right, size_t length);
size_t strlen(const char *text);
int strcmp(const char *left, const char *right);

#endif
