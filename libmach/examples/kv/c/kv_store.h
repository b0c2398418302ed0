/*
 * kv_store.h: the kv store of the worked example, written in C over the
 * server side mach-idl generates in kv.h (the handler table kv_server_t and
 * kv_dispatch). The same store as the Rust one (libmach/examples/kv/src/
 * store.rs): entries, a watcher right, sessions found by the port a request
 * came in on and freed by their no-senders notification, a log.
 *
 * Header-only (static functions): one program includes it after kv.h and
 * defines the three platform functions declared below. It is included by
 * the host test's C server (tests/c/kv_server.c, whose "platform" is a pipe
 * to a fake kernel) and by the C server booted in QEMU
 * (personality/examples/c/kv-server-c.c, over libmach/c's traps).
 *
 * Ownership is C's: a handler owns every right and region it receives (it
 * keeps or releases it) and hands over the ones it returns.
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include "kv.h"

#define KV_STORE_CAPACITY 16
#define KV_STORE_SESSIONS 4

/* The platform: a new session port (its receive right, one send right under
 * the same name, a no-senders request on itself, in the port set the server
 * receives on); destroying one; memory for an out-of-line result. */
static kern_return_t kv_platform_session_port(mach_port_t *port);
static void kv_platform_destroy_port(mach_port_t port);
static void *kv_platform_allocate(uint32_t size);

typedef struct {
    bool used;
    char key[65];
    uint8_t value[512];
    uint32_t length;
} kv_store_entry_t;

typedef struct {
    mach_port_t port; /* MACH_PORT_NULL: a free slot */
    char label[33];
} kv_store_session_t;

typedef struct {
    kv_store_entry_t entries[KV_STORE_CAPACITY];
    mach_port_t watcher;
    kv_store_session_t sessions[KV_STORE_SESSIONS];
    uint32_t log_lines;
    char last_log[121];
} kv_store_t;

static void kv_store_copy_string(char *target, const char *source, uint32_t capacity)
{
    uint32_t index = 0;
    for (; index + 1 < capacity && source[index] != '\0'; index++)
        target[index] = source[index];
    target[index] = '\0';
}

static bool kv_store_same(const char *left, const char *right)
{
    uint32_t index = 0;
    for (; left[index] != '\0' && left[index] == right[index]; index++)
        ;
    return left[index] == right[index];
}

static uint32_t kv_store_length(const char *text)
{
    uint32_t length = 0;
    while (text[length] != '\0')
        length++;
    return length;
}

static kv_store_entry_t *kv_store_find(kv_store_t *store, const char *key)
{
    for (uint32_t index = 0; index < KV_STORE_CAPACITY; index++) {
        if (store->entries[index].used && kv_store_same(store->entries[index].key, key))
            return &store->entries[index];
    }
    return NULL;
}

static kern_return_t kv_store_set(kv_store_t *store, const char *key, const uint8_t *value, uint32_t length)
{
    kv_store_entry_t *entry = kv_store_find(store, key);
    for (uint32_t index = 0; entry == NULL && index < KV_STORE_CAPACITY; index++) {
        if (!store->entries[index].used)
            entry = &store->entries[index];
    }
    if (entry == NULL || length > sizeof entry->value)
        return KV_STORE_FULL;
    entry->used = true;
    kv_store_copy_string(entry->key, key, sizeof entry->key);
    for (uint32_t index = 0; index < length; index++)
        entry->value[index] = value[index];
    entry->length = length;
    return KERN_SUCCESS;
}

static kern_return_t kv_store_put(void *state, const mach_idl_context_t *context, const char *key,
                                  const uint8_t *value, uint32_t value_length)
{
    (void)context;
    return kv_store_set((kv_store_t *)state, key, value, value_length);
}

static kern_return_t kv_store_get(void *state, const mach_idl_context_t *context, const char *key,
                                  uint8_t value[512], uint32_t *value_length)
{
    (void)context;
    kv_store_entry_t *entry = kv_store_find((kv_store_t *)state, key);
    if (entry == NULL)
        return KV_NOT_FOUND;
    for (uint32_t index = 0; index < entry->length; index++)
        value[index] = entry->value[index];
    *value_length = entry->length;
    return KERN_SUCCESS;
}

static kern_return_t kv_store_remove(void *state, const mach_idl_context_t *context, const char *key,
                                     uint8_t value[512], uint32_t *value_length)
{
    kern_return_t result = kv_store_get(state, context, key, value, value_length);
    if (result == KERN_SUCCESS)
        kv_store_find((kv_store_t *)state, key)->used = false;
    return result;
}

static kern_return_t kv_store_count(void *state, const mach_idl_context_t *context, uint32_t *keys,
                                    uint64_t *bytes)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    *keys = 0;
    *bytes = 0;
    for (uint32_t index = 0; index < KV_STORE_CAPACITY; index++) {
        if (store->entries[index].used) {
            *keys += 1;
            *bytes += store->entries[index].length;
        }
    }
    return KERN_SUCCESS;
}

static kern_return_t kv_store_add(void *state, const mach_idl_context_t *context, const char *key, int64_t delta,
                                  int64_t *total)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    uint64_t current = 0;
    kv_store_entry_t *entry = kv_store_find(store, key);
    for (uint32_t index = 0; entry != NULL && index < 8 && index < entry->length; index++)
        current |= (uint64_t)entry->value[index] << (8 * index);
    uint64_t sum = current + (uint64_t)delta;
    uint8_t bytes[8];
    for (uint32_t index = 0; index < 8; index++)
        bytes[index] = (uint8_t)(sum >> (8 * index));
    kern_return_t result = kv_store_set(store, key, bytes, 8);
    *total = (int64_t)sum;
    return result;
}

static kern_return_t kv_store_watch(void *state, const mach_idl_context_t *context, mach_port_t watcher)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    if (store->watcher != MACH_PORT_NULL)
        mach_idl_port_release(store->watcher, MACH_PORT_RIGHT_SEND);
    store->watcher = watcher;
    return KERN_SUCCESS;
}

static kern_return_t kv_store_unwatch(void *state, const mach_idl_context_t *context, mach_port_t *watcher)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    if (store->watcher == MACH_PORT_NULL)
        return KV_NO_WATCHER;
    *watcher = store->watcher;
    store->watcher = MACH_PORT_NULL;
    return KERN_SUCCESS;
}

static kern_return_t kv_store_open_session(void *state, const mach_idl_context_t *context, const char *label,
                                           mach_port_t *session)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    for (uint32_t index = 0; index < KV_STORE_SESSIONS; index++) {
        if (store->sessions[index].port != MACH_PORT_NULL)
            continue;
        mach_port_t port;
        if (kv_platform_session_port(&port) != KERN_SUCCESS)
            return KV_STORE_FULL;
        store->sessions[index].port = port;
        kv_store_copy_string(store->sessions[index].label, label, sizeof store->sessions[index].label);
        *session = port; /* the send right goes to the client; the receive right stays */
        return KERN_SUCCESS;
    }
    return KV_STORE_FULL;
}

static kern_return_t kv_store_digest(void *state, const mach_idl_context_t *context, const void *data,
                                     uint32_t data_size, uint32_t *checksum, uint64_t *length)
{
    (void)state;
    (void)context;
    const uint8_t *bytes = (const uint8_t *)data;
    uint32_t sum = 0;
    for (uint32_t index = 0; index < data_size; index++)
        sum += bytes[index];
    *checksum = sum;
    *length = data_size;
    if (data != NULL && data_size != 0)
        mach_idl_vm_deallocate(data, data_size);
    return KERN_SUCCESS;
}

static void kv_store_log(void *state, const mach_idl_context_t *context, uint8_t level, const char *text)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    (void)level;
    store->log_lines++;
    kv_store_copy_string(store->last_log, text, sizeof store->last_log);
}

static void kv_store_put_u32(uint8_t *at, uint32_t value)
{
    for (uint32_t index = 0; index < 4; index++)
        at[index] = (uint8_t)(value >> (8 * index));
}

static kern_return_t kv_store_export(void *state, const mach_idl_context_t *context, const void **data,
                                     uint32_t *data_size)
{
    kv_store_t *store = (kv_store_t *)state;
    (void)context;
    uint32_t size = 0;
    for (uint32_t index = 0; index < KV_STORE_CAPACITY; index++) {
        const kv_store_entry_t *entry = &store->entries[index];
        if (entry->used)
            size += 8 + kv_store_length(entry->key) + entry->length;
    }
    if (size == 0) {
        *data = NULL;
        *data_size = 0;
        return KERN_SUCCESS;
    }
    uint8_t *bytes = (uint8_t *)kv_platform_allocate(size);
    if (bytes == NULL)
        return KV_STORE_FULL;
    uint32_t offset = 0;
    for (uint32_t index = 0; index < KV_STORE_CAPACITY; index++) {
        const kv_store_entry_t *entry = &store->entries[index];
        if (!entry->used)
            continue;
        uint32_t key_length = kv_store_length(entry->key);
        kv_store_put_u32(bytes + offset, key_length);
        for (uint32_t byte = 0; byte < key_length; byte++)
            bytes[offset + 4 + byte] = (uint8_t)entry->key[byte];
        offset += 4 + key_length;
        kv_store_put_u32(bytes + offset, entry->length);
        for (uint32_t byte = 0; byte < entry->length; byte++)
            bytes[offset + 4 + byte] = entry->value[byte];
        offset += 4 + entry->length;
    }
    *data = bytes;
    *data_size = size;
    return KERN_SUCCESS;
}

static kern_return_t kv_store_session_label(void *state, const mach_idl_context_t *context, char label[33])
{
    kv_store_t *store = (kv_store_t *)state;
    for (uint32_t index = 0; index < KV_STORE_SESSIONS; index++) {
        if (store->sessions[index].port != MACH_PORT_NULL && store->sessions[index].port == context->port) {
            kv_store_copy_string(label, store->sessions[index].label, 33);
            return KERN_SUCCESS;
        }
    }
    return KV_NOT_FOUND;
}

static const kv_server_t kv_store_handlers = {
    .put = kv_store_put,
    .get = kv_store_get,
    .remove = kv_store_remove,
    .count = kv_store_count,
    .add = kv_store_add,
    .watch = kv_store_watch,
    .unwatch = kv_store_unwatch,
    .open_session = kv_store_open_session,
    .digest = kv_store_digest,
    .log = kv_store_log,
    .export = kv_store_export,
    .session_label = kv_store_session_label,
};

/* A notification that arrived on the server's port set: no send right to
 * a session's port remains, so the session goes. */
static void kv_store_notified(kv_store_t *store, const mach_idl_notification_t *notification)
{
    if (notification->id == MACH_NOTIFY_NO_SENDERS) {
        for (uint32_t index = 0; index < KV_STORE_SESSIONS; index++) {
            if (store->sessions[index].port != MACH_PORT_NULL && store->sessions[index].port == notification->port) {
                kv_platform_destroy_port(store->sessions[index].port);
                store->sessions[index].port = MACH_PORT_NULL;
            }
        }
    } else if (notification->id == MACH_NOTIFY_PORT_DESTROYED) {
        mach_idl_port_release(notification->name, MACH_PORT_RIGHT_RECEIVE);
    } else if (notification->id == MACH_NOTIFY_DEAD_NAME) {
        mach_idl_port_release(notification->name, MACH_PORT_RIGHT_SEND);
    }
}

/* The server's handler (for mach_idl_serve): kv requests, then the kernel's
 * notifications; anything else is answered MIG_BAD_ID by the loop. */
static mach_idl_dispatch_t kv_store_handle(void *state, const void *request, uint32_t request_capacity, void *reply,
                                           uint32_t reply_capacity, uint32_t *reply_size)
{
    mach_idl_dispatch_t result =
        kv_dispatch(&kv_store_handlers, state, request, request_capacity, reply, reply_capacity, reply_size);
    if (result != MACH_IDL_UNKNOWN_ID)
        return result;
    mach_idl_notification_t notification;
    if (!mach_idl_read_notification(request, request_capacity, &notification))
        return MACH_IDL_UNKNOWN_ID;
    kv_store_notified((kv_store_t *)state, &notification);
    return MACH_IDL_NO_REPLY;
}

#endif /* KV_STORE_H */
