/*
 * A C client of the kv interface, built against the generated kv.h. The
 * transport is a pipe to the Rust test (tests/c_client.rs), which performs
 * each mach_msg in a fake task of the kernel's IPC core, where the generated
 * Rust server answers. Prints one line per case on stderr, then
 * "N passed, N failed"; exits non-zero if any failed.
 *
 * Pipe protocol (little-endian u32 words, this process's native order):
 *   1 option send_size receive_size receive_name timeout, then the message,
 *     then for each out-of-line descriptor its size and bytes;
 *     answer: code, length, then `length` bytes of received message, then
 *     for each out-of-line descriptor in it its size and bytes (this side
 *     copies them into malloc'd memory and points the descriptor there);
 *   2 (reply port)            answer: name
 *   3 name right (release)    answer: kern_return
 *   4 (new port with a send right under the same name)  answer: name
 *   5 name (port type)        answer: type bits, or 0
 */
#define MACH_IDL_CUSTOM_TRANSPORT
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    uint32_t words[6] = {1, (uint32_t)option, send_size, receive_size, receive_name, timeout};
    uint32_t sent = (option & MACH_SEND_MSG) ? send_size : 0;
    words[2] = sent;
    write_all(words, sizeof words);
    write_all(message, sent);
    const uint8_t *bytes = (const uint8_t *)message;
    if (sent >= 28 && (message->msgh_bits & MACH_MSGH_BITS_COMPLEX)) {
        uint32_t count;
        memcpy(&count, bytes + 24, 4);
        for (uint32_t index = 0; index < count && 28 + (index + 1) * 16 <= sent; index++) {
            const uint8_t *descriptor = bytes + 28 + index * 16;
            if (descriptor[11] != MACH_MSG_OOL_DESCRIPTOR)
                continue;
            uint64_t address;
            uint32_t size;
            memcpy(&address, descriptor, 8);
            memcpy(&size, descriptor + 12, 4);
            write_all(&size, 4);
            write_all((const void *)(uintptr_t)address, size);
        }
    }
    fflush(stdout);
    uint32_t answer[2];
    read_all(answer, sizeof answer);
    if (answer[1] > receive_size)
        exit(5);
    read_all(message, answer[1]);
    if (answer[1] >= 28 && (message->msgh_bits & MACH_MSGH_BITS_COMPLEX)) {
        uint8_t *received = (uint8_t *)message;
        uint32_t count;
        memcpy(&count, received + 24, 4);
        for (uint32_t index = 0; index < count && 28 + (index + 1) * 16 <= answer[1]; index++) {
            uint8_t *descriptor = received + 28 + index * 16;
            if (descriptor[11] != MACH_MSG_OOL_DESCRIPTOR)
                continue;
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
    }
    return (mach_msg_return_t)answer[0];
}

kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size)
{
    (void)size;
    free((void *)(uintptr_t)address);
    return KERN_SUCCESS;
}

mach_port_name_t mach_idl_reply_port(void)
{
    uint32_t words[1] = {2};
    return request(words, 1);
}

kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right)
{
    uint32_t words[3] = {3, name, right};
    return (kern_return_t)request(words, 3);
}

static mach_port_name_t new_port(void)
{
    uint32_t words[1] = {4};
    return request(words, 1);
}

static uint32_t port_type(mach_port_name_t name)
{
    uint32_t words[2] = {5, name};
    return request(words, 2);
}

static int passed, failed;

static void check(int condition, const char *name)
{
    fprintf(stderr, "%s %s\n", condition ? "ok" : "FAIL", name);
    if (condition)
        passed++;
    else
        failed++;
}

int main(int argument_count, char **arguments)
{
    if (argument_count != 2)
        return 2;
    kv_client_t client;
    check(kv_client_init(&client, (mach_port_t)strtoul(arguments[1], NULL, 10)) == KERN_SUCCESS, "client_init");

    check(kv_put(&client, "colour", (const uint8_t *)"blue", 4) == KERN_SUCCESS, "put");
    uint8_t value[512];
    uint32_t value_length = 0;
    check(kv_get(&client, "colour", value, &value_length) == KERN_SUCCESS && value_length == 4 &&
              memcmp(value, "blue", 4) == 0,
          "get returns the value");
    check(kv_get(&client, "absent", value, &value_length) == KV_NOT_FOUND, "get of a missing key is KV_NOT_FOUND");
    check(strcmp(kv_error_string(KV_NOT_FOUND), "no value is stored under the key") == 0, "error string");

    uint32_t keys = 0;
    uint64_t bytes = 0;
    check(kv_put(&client, "big", value, 500) == KERN_SUCCESS, "put 500 bytes");
    check(kv_count(&client, &keys, &bytes) == KERN_SUCCESS && keys == 2 && bytes == 504, "count");

    int64_t total = 0;
    check(kv_add(&client, "counter", -5, &total) == KERN_SUCCESS && total == -5, "add a negative i64");
    check(kv_add(&client, "counter", INT64_MAX, &total) == KERN_SUCCESS && total == INT64_MAX - 5, "add i64 max");

    char long_key[80];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    check(kv_put(&client, long_key, value, 1) == MIG_ARRAY_TOO_LARGE, "a key over its bound is refused");
    check(kv_put(&client, "k", value, 513) == MIG_ARRAY_TOO_LARGE, "a value over its bound is refused");

    mach_port_t events = new_port();
    check(kv_watch(&client, events) == KERN_SUCCESS, "watch moves a send right");
    check(port_type(events) == MACH_PORT_TYPE_RECEIVE, "the send right left with the request");
    mach_port_t back = MACH_PORT_NULL;
    check(kv_unwatch(&client, &back) == KERN_SUCCESS && back == events, "unwatch moves it back");
    check(port_type(events) == (MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND), "the send right is back");
    check(kv_unwatch(&client, &back) == KV_NO_WATCHER, "unwatch without a watcher is KV_NO_WATCHER");

    mach_port_t session = MACH_PORT_NULL;
    check(kv_open_session(&client, "from C", &session) == KERN_SUCCESS && port_type(session) == MACH_PORT_TYPE_SEND,
          "open_session returns a send right");
    check(mach_idl_port_release(session, MACH_PORT_RIGHT_SEND) == KERN_SUCCESS, "release the session right");

    static uint8_t data[100000];
    uint32_t expected = 0;
    for (uint32_t index = 0; index < sizeof data; index++) {
        data[index] = (uint8_t)(index * 13);
        expected += data[index];
    }
    uint32_t checksum = 0;
    uint64_t length = 0;
    check(kv_digest(&client, data, sizeof data, &checksum, &length) == KERN_SUCCESS && checksum == expected &&
              length == sizeof data,
          "digest of out-of-line data");

    const void *exported = NULL;
    uint32_t exported_size = 0;
    check(kv_export(&client, &exported, &exported_size) == KERN_SUCCESS && exported_size > 12, "export returns memory");
    uint32_t first_key_length = 0;
    if (exported != NULL)
        memcpy(&first_key_length, exported, 4);
    check(first_key_length == 6 && exported != NULL && memcmp((const uint8_t *)exported + 4, "colour", 6) == 0,
          "the exported memory holds the first entry");
    check(mach_idl_vm_deallocate(exported, exported_size) == KERN_SUCCESS, "free the exported memory");

    check(kv_log(&client, 7, "hello from C") == KERN_SUCCESS, "log (one-way)");
    check(kv_put(&client, "from-c", (const uint8_t *)"yes", 3) == KERN_SUCCESS, "put after log");

    kv_client_t dead;
    check(kv_client_init(&dead, MACH_PORT_NULL) == KERN_SUCCESS, "client_init of a second client");
    check(kv_get(&dead, "colour", value, &value_length) == MACH_SEND_INVALID_DEST, "a call to no server fails to send");
    kv_client_destroy(&dead);
    kv_client_destroy(&client);

    fprintf(stderr, "%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
