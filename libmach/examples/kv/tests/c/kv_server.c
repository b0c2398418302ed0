/*
 * A C kv server, built against the generated kv.h's server side and the C
 * store (../../c/kv_store.h), driven by the Rust test tests/c_server.rs: the
 * test's fake kernel receives each request on the server's port set (where
 * generated Rust clients send them) and pipes it here; this program
 * dispatches it with kv_dispatch (or reads it as a notification) and pipes
 * the reply back, which the fake sends. Every kernel call the C side makes
 * while handling a request is piped to the test too, which performs it in
 * the server's fake task.
 *
 * Pipe protocol (little-endian u32 words):
 *   test -> here: 10 capacity, then `capacity` bytes of receive buffer
 *     (message and trailer), then for each out-of-line descriptor in it its
 *     size and bytes (copied here, the descriptor pointed at the copy);
 *   here -> test, while handling: 3 name right (release) -> kern_return;
 *     6 (new session port) -> name; 7 name (destroy the port) -> nothing;
 *     1 (mach_msg) is refused: kv has no deferred reply;
 *   here -> test, when done: 11 result reply_size, the reply's bytes, then
 *     for each out-of-line descriptor in it its size and bytes.
 */
#define MACH_IDL_CUSTOM_TRANSPORT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "kv_store.h"

static void write_all(const void *data, size_t size)
{
    if (size > 0 && fwrite(data, 1, size, stdout) != size)
        exit(3);
}

static void read_all(void *data, size_t size)
{
    if (size > 0 && fread(data, 1, size, stdin) != size)
        exit(4);
}

static uint32_t request(const uint32_t *words, size_t count)
{
    write_all(words, count * 4);
    fflush(stdout);
    uint32_t answer;
    read_all(&answer, 4);
    return answer;
}

mach_msg_return_t mach_idl_mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                                    mach_msg_size_t receive_size, mach_port_name_t receive_name,
                                    mach_msg_timeout_t timeout)
{
    (void)message;
    (void)option;
    (void)send_size;
    (void)receive_size;
    (void)receive_name;
    (void)timeout;
    fprintf(stderr, "kv_server: unexpected mach_msg (kv has no deferred reply)\n");
    exit(5);
}

mach_port_name_t mach_idl_reply_port(void)
{
    fprintf(stderr, "kv_server: unexpected reply port request\n");
    exit(5);
}

kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right)
{
    uint32_t words[3] = {3, name, right};
    return (kern_return_t)request(words, 3);
}

kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size)
{
    (void)size;
    free((void *)(uintptr_t)address);
    return KERN_SUCCESS;
}

static kern_return_t kv_platform_session_port(mach_port_t *port)
{
    uint32_t words[1] = {6};
    *port = request(words, 1);
    return *port == MACH_PORT_NULL ? KERN_RESOURCE_SHORTAGE : KERN_SUCCESS;
}

static void kv_platform_destroy_port(mach_port_t port)
{
    uint32_t words[2] = {7, port};
    write_all(words, sizeof words);
    fflush(stdout);
}

static void *kv_platform_allocate(uint32_t size)
{
    return calloc(1, size);
}

/* The out-of-line descriptors of the message in `bytes` (`size` long): calls
 * `each(descriptor)` for each. */
static void each_region(uint8_t *bytes, uint32_t size, void (*each)(uint8_t *descriptor))
{
    uint32_t bits, count;
    memcpy(&bits, bytes, 4);
    if (!(bits & MACH_MSGH_BITS_COMPLEX) || size < 28)
        return;
    memcpy(&count, bytes + 24, 4);
    for (uint32_t index = 0; index < count && 28 + (index + 1) * 16 <= size; index++) {
        uint8_t *descriptor = bytes + 28 + index * 16;
        if (descriptor[11] == MACH_MSG_OOL_DESCRIPTOR)
            each(descriptor);
    }
}

static void receive_region(uint8_t *descriptor)
{
    uint32_t size;
    read_all(&size, 4);
    uint64_t address = 0;
    if (size > 0) {
        void *copy = malloc(size);
        if (copy == NULL)
            exit(6);
        read_all(copy, size);
        address = (uint64_t)(uintptr_t)copy;
    }
    memcpy(descriptor, &address, 8);
}

static void send_region(uint8_t *descriptor)
{
    uint64_t address;
    uint32_t size;
    memcpy(&address, descriptor, 8);
    memcpy(&size, descriptor + 12, 4);
    write_all(&size, 4);
    write_all((const void *)(uintptr_t)address, size);
}

/* A moved region left with the reply: this side's copy goes. */
static void free_moved_region(uint8_t *descriptor)
{
    uint64_t address;
    memcpy(&address, descriptor, 8);
    if (descriptor[8] != 0)
        free((void *)(uintptr_t)address);
}

int main(void)
{
    static kv_store_t store;
    uint32_t operation;
    while (fread(&operation, 4, 1, stdin) == 1) {
        if (operation != 10)
            return 7;
        uint32_t capacity;
        read_all(&capacity, 4);
        if (capacity > 1u << 20)
            return 8;
        uint8_t *buffer = calloc(1, capacity);
        uint8_t *reply = calloc(1, KV_BUFFER_SIZE);
        if (buffer == NULL || reply == NULL)
            return 6;
        read_all(buffer, capacity);
        uint32_t message_size;
        memcpy(&message_size, buffer + 4, 4);
        if (message_size <= capacity)
            each_region(buffer, message_size, receive_region);
        uint32_t reply_size = 0;
        mach_idl_dispatch_t result = kv_store_handle(&store, buffer, capacity, reply, KV_BUFFER_SIZE, &reply_size);
        uint32_t done[3] = {11, (uint32_t)result, result == MACH_IDL_REPLY ? reply_size : 0};
        write_all(done, sizeof done);
        if (result == MACH_IDL_REPLY) {
            write_all(reply, reply_size);
            each_region(reply, reply_size, send_region);
            each_region(reply, reply_size, free_moved_region);
        }
        fflush(stdout);
        free(buffer);
        free(reply);
    }
    fprintf(stderr, "kv_server: %u log lines, last \"%s\"\n", store.log_lines, store.last_log);
    return 0;
}
