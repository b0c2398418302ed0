/*
 * Feeds the generated kv C stubs random and mutated replies through a fake
 * transport, built with -fsanitize=address,undefined by tests/c_client.rs:
 * whatever bytes come back, the stubs must return an error code (or
 * success) without reading or writing out of bounds. Exits 0 when every
 * call returned; prints how many replies were accepted.
 */
#define MACH_IDL_CUSTOM_TRANSPORT
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15u;

static uint32_t next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

/* The reply the transport delivers next: a plausible reply to request id
 * `reply_to`, then damaged at random. */
static mach_msg_id_t reply_to;

mach_msg_return_t mach_idl_mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                                    mach_msg_size_t receive_size, mach_port_name_t receive_name,
                                    mach_msg_timeout_t timeout)
{
    (void)send_size;
    (void)receive_name;
    (void)timeout;
    if (!(option & MACH_RCV_MSG))
        return MACH_MSG_SUCCESS;
    reply_to = message->msgh_id;
    uint8_t *bytes = (uint8_t *)message;
    uint32_t choice = next_random() % 4;
    for (uint32_t index = 0; index < receive_size; index++)
        bytes[index] = (uint8_t)next_random();
    if (choice > 0) {
        /* A header that passes the first checks, so the readers get exercised. */
        uint32_t size = 24 + 4 * (next_random() % ((receive_size - 16) / 4 - 5));
        uint32_t bits = (next_random() % 2) ? MACH_MSGH_BITS_COMPLEX : 0;
        uint32_t id = (uint32_t)(reply_to + 100);
        memcpy(bytes, &bits, 4);
        memcpy(bytes + 4, &size, 4);
        memcpy(bytes + 20, &id, 4);
        if (bits) {
            uint32_t count = next_random() % 3;
            memcpy(bytes + 24, &count, 4);
            if (choice == 2 && size >= 28 + count * 16 + 4) {
                uint32_t zero = 0;
                memcpy(bytes + 28 + count * 16, &zero, 4);
            }
        } else if (choice == 2 && size >= 28) {
            uint32_t zero = 0;
            memcpy(bytes + 24, &zero, 4);
        }
        if (choice == 3) {
            uint32_t notify = MACH_NOTIFY_SEND_ONCE, header_size = 24, sender = 0;
            memcpy(bytes + 20, &notify, 4);
            memcpy(bytes + 4, &header_size, 4);
            memcpy(bytes + 24 + 12, &sender, 4);
        }
    }
    return MACH_MSG_SUCCESS;
}

mach_port_name_t mach_idl_reply_port(void)
{
    return 0x100;
}

kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right)
{
    (void)name;
    (void)right;
    return KERN_SUCCESS;
}

kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size)
{
    /* Garbage addresses: never touched. */
    (void)address;
    (void)size;
    return KERN_SUCCESS;
}

int main(int argument_count, char **arguments)
{
    long rounds = argument_count > 1 ? strtol(arguments[1], NULL, 10) : 2000;
    kv_client_t client;
    if (kv_client_init(&client, 0x200) != KERN_SUCCESS)
        return 2;
    long accepted = 0;
    for (long round = 0; round < rounds; round++) {
        uint8_t value[512];
        uint32_t value_length = 0, keys = 0, checksum = 0;
        uint64_t bytes = 0, length = 0;
        int64_t total = 0;
        mach_port_t port = MACH_PORT_NULL;
        const void *data = NULL;
        uint32_t data_size = 0;
        kern_return_t results[9] = {
            kv_get(&client, "key", value, &value_length),
            kv_remove(&client, "key", value, &value_length),
            kv_count(&client, &keys, &bytes),
            kv_add(&client, "key", 1, &total),
            kv_unwatch(&client, &port),
            kv_open_session(&client, "label", &port),
            kv_digest(&client, "abc", 3, &checksum, &length),
            kv_export(&client, &data, &data_size),
            kv_put(&client, "key", (const uint8_t *)"v", 1),
        };
        for (int index = 0; index < 9; index++)
            accepted += results[index] == KERN_SUCCESS;
        if (value_length > 512)
            return 3;
    }
    fprintf(stderr, "%ld rounds, %ld replies accepted\n", rounds, accepted);
    return 0;
}
