/*
 * mach_idl.h: the C runtime of the client stubs mach-idl generates.
 *
 * Every generated header includes this file. It provides:
 *  - the RPC-layer return codes (MIG's values) and the reply id rule;
 *  - the transport: mach_idl_mach_msg, mach_idl_reply_port,
 *    mach_idl_port_release and mach_idl_vm_deallocate. On Mach_R x86_64
 *    they are inline traps. Define
 *    MACH_IDL_CUSTOM_TRANSPORT before including to supply them yourself
 *    (tests, other architectures): they are then declared, not defined;
 *  - a message writer and reader that check every bound (no undefined
 *    behaviour on any reply the kernel can deliver).
 *
 * Wire format (docs/idl.md): descriptors first; inline fields each start on
 * a 4-byte boundary, integers little-endian, 8/16-bit ones widened to 32,
 * byte arrays and strings as a u32 length then the bytes padded to 4. A
 * reply's inline data starts with a 32-bit return code.
 *
 * Needs -I mach/abi/include (for mach/mach_abi.h) and -I libmach/include.
 */
#ifndef MACH_IDL_H
#define MACH_IDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mach/mach_abi.h>

#define MIG_TYPE_ERROR (-300)
#define MIG_REPLY_MISMATCH (-301)
#define MIG_BAD_ID (-303)
#define MIG_BAD_ARGUMENTS (-304)
#define MIG_ARRAY_TOO_LARGE (-307)
#define MIG_SERVER_DIED (-308)

/* A reply's id is the request's id plus this. */
#define MACH_IDL_REPLY_ID_OFFSET 100

/* The transport. */
#ifdef MACH_IDL_CUSTOM_TRANSPORT
mach_msg_return_t mach_idl_mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                                    mach_msg_size_t receive_size, mach_port_name_t receive_name,
                                    mach_msg_timeout_t timeout);
mach_port_name_t mach_idl_reply_port(void);
/* Releases one right of kind `right` (MACH_PORT_RIGHT_*) under `name`. */
kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right);
/* Frees out-of-line memory a reply brought (`size` bytes at `address`). */
kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size);
#elif defined(__x86_64__)
#include "mach_trap.h"

static inline mach_msg_return_t mach_idl_mach_msg(mach_msg_header_t *message, mach_msg_option_t option,
                                                  mach_msg_size_t send_size, mach_msg_size_t receive_size,
                                                  mach_port_name_t receive_name, mach_msg_timeout_t timeout)
{
    return (mach_msg_return_t)mach_trap(MACH_TRAP_MACH_MSG, (uint64_t)(uintptr_t)message, (uint32_t)option,
                                            send_size, receive_size, receive_name, timeout);
}

static inline mach_port_name_t mach_idl_reply_port(void)
{
    return (mach_port_name_t)mach_trap(MACH_TRAP_MACH_REPLY_PORT, 0, 0, 0, 0, 0, 0);
}

/* task_self adds a user reference per call: fetch it once per program (per
 * translation unit; each keeps one reference). */
static inline mach_port_name_t mach_idl_task_self(void)
{
    static mach_port_name_t task;
    if (task == MACH_PORT_NULL)
        task = (mach_port_name_t)mach_trap(MACH_TRAP_TASK_SELF, 0, 0, 0, 0, 0, 0);
    return task;
}

static inline kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right)
{
    if (right == MACH_PORT_RIGHT_RECEIVE)
        return (kern_return_t)mach_trap(MACH_TRAP_PORT_MOD_REFS, mach_idl_task_self(), name,
                                            MACH_PORT_RIGHT_RECEIVE, (uint32_t)-1, 0, 0);
    return (kern_return_t)mach_trap(MACH_TRAP_PORT_DEALLOCATE, mach_idl_task_self(), name, 0, 0, 0, 0);
}

static inline kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size)
{
    return (kern_return_t)mach_trap(MACH_TRAP_VM_DEALLOCATE, mach_idl_task_self(), (uint64_t)(uintptr_t)address,
                                        size, 0, 0, 0);
}
#else
#error "mach_idl.h: no trap entry for this architecture; define MACH_IDL_CUSTOM_TRANSPORT and supply the transport"
#endif

/* ---- Writing a message ---- */

typedef struct {
    uint8_t *bytes;
    uint32_t capacity;
    uint32_t length;
    uint32_t descriptor_count;
    uint32_t descriptors_written;
    kern_return_t error;
} mach_idl_writer_t;

static inline void mach_idl_store_u32(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)value;
    at[1] = (uint8_t)(value >> 8);
    at[2] = (uint8_t)(value >> 16);
    at[3] = (uint8_t)(value >> 24);
}

static inline uint32_t mach_idl_load_u32(const uint8_t *at)
{
    return (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) | ((uint32_t)at[3] << 24);
}

/* Starts a message with `descriptor_count` descriptors (0: a simple message). */
static inline void mach_idl_writer_start(mach_idl_writer_t *writer, void *buffer, uint32_t capacity,
                                         uint32_t descriptor_count)
{
    writer->bytes = (uint8_t *)buffer;
    writer->capacity = capacity;
    writer->descriptor_count = descriptor_count;
    writer->descriptors_written = 0;
    writer->error = KERN_SUCCESS;
    writer->length = (uint32_t)sizeof(mach_msg_header_t);
    if (descriptor_count > 0)
        writer->length += (uint32_t)sizeof(mach_msg_body_t) + descriptor_count * 16u;
    if (writer->length > capacity)
        writer->error = MIG_ARRAY_TOO_LARGE;
}

static inline uint8_t *mach_idl_next_descriptor(mach_idl_writer_t *writer)
{
    if (writer->error != KERN_SUCCESS || writer->descriptors_written >= writer->descriptor_count) {
        writer->error = MIG_TYPE_ERROR;
        return NULL;
    }
    uint8_t *at = writer->bytes + sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t) + writer->descriptors_written * 16u;
    writer->descriptors_written++;
    for (int index = 0; index < 16; index++)
        at[index] = 0;
    return at;
}

static inline void mach_idl_put_port(mach_idl_writer_t *writer, mach_port_name_t name, uint32_t disposition)
{
    uint8_t *at = mach_idl_next_descriptor(writer);
    if (at == NULL)
        return;
    mach_idl_store_u32(at, name);
    at[10] = (uint8_t)disposition;
    at[11] = MACH_MSG_PORT_DESCRIPTOR;
}

static inline void mach_idl_put_ool(mach_idl_writer_t *writer, const void *data, uint32_t size, uint32_t bound)
{
    uint8_t *at = mach_idl_next_descriptor(writer);
    if (at == NULL)
        return;
    if (size > bound) {
        writer->error = MIG_ARRAY_TOO_LARGE;
        return;
    }
    uint64_t address = size == 0 ? 0 : (uint64_t)(uintptr_t)data;
    mach_idl_store_u32(at, (uint32_t)address);
    mach_idl_store_u32(at + 4, (uint32_t)(address >> 32));
    at[8] = 0; /* not deallocated: the caller keeps its memory */
    at[9] = MACH_MSG_PHYSICAL_COPY;
    at[11] = MACH_MSG_OOL_DESCRIPTOR;
    mach_idl_store_u32(at + 12, size);
}

static inline void mach_idl_put_raw(mach_idl_writer_t *writer, const void *data, uint32_t size)
{
    uint32_t padded = (size + 3u) & ~3u;
    if (writer->error != KERN_SUCCESS)
        return;
    if (padded < size || writer->capacity - writer->length < padded) {
        writer->error = MIG_ARRAY_TOO_LARGE;
        return;
    }
    const uint8_t *source = (const uint8_t *)data;
    for (uint32_t index = 0; index < padded; index++)
        writer->bytes[writer->length + index] = index < size ? source[index] : 0;
    writer->length += padded;
}

static inline void mach_idl_put_u32(mach_idl_writer_t *writer, uint32_t value)
{
    uint8_t bytes[4];
    mach_idl_store_u32(bytes, value);
    mach_idl_put_raw(writer, bytes, 4);
}

static inline void mach_idl_put_u64(mach_idl_writer_t *writer, uint64_t value)
{
    mach_idl_put_u32(writer, (uint32_t)value);
    mach_idl_put_u32(writer, (uint32_t)(value >> 32));
}

static inline void mach_idl_put_bytes(mach_idl_writer_t *writer, const void *data, uint32_t length, uint32_t bound)
{
    if (length > bound) {
        if (writer->error == KERN_SUCCESS)
            writer->error = MIG_ARRAY_TOO_LARGE;
        return;
    }
    mach_idl_put_u32(writer, length);
    mach_idl_put_raw(writer, data, length);
}

/* A NUL-terminated string of at most `bound` bytes (checked without reading past bound + 1). */
static inline void mach_idl_put_string(mach_idl_writer_t *writer, const char *text, uint32_t bound)
{
    uint32_t length = 0;
    if (text == NULL) {
        writer->error = MIG_BAD_ARGUMENTS;
        return;
    }
    while (length <= bound && text[length] != '\0')
        length++;
    mach_idl_put_bytes(writer, text, length, bound);
}

/* Writes the header (and body); returns the message size, 0 on error (see writer->error). */
static inline mach_msg_size_t mach_idl_writer_finish(mach_idl_writer_t *writer, mach_msg_bits_t bits,
                                                     mach_port_t remote, mach_port_t local, mach_msg_id_t id)
{
    if (writer->error == KERN_SUCCESS && writer->descriptors_written != writer->descriptor_count)
        writer->error = MIG_TYPE_ERROR;
    if (writer->error != KERN_SUCCESS)
        return 0;
    if (writer->descriptor_count > 0) {
        bits |= MACH_MSGH_BITS_COMPLEX;
        mach_idl_store_u32(writer->bytes + sizeof(mach_msg_header_t), writer->descriptor_count);
    }
    mach_idl_store_u32(writer->bytes + 0, bits);
    mach_idl_store_u32(writer->bytes + 4, writer->length);
    mach_idl_store_u32(writer->bytes + 8, remote);
    mach_idl_store_u32(writer->bytes + 12, local);
    mach_idl_store_u32(writer->bytes + 16, MACH_PORT_NULL);
    mach_idl_store_u32(writer->bytes + 20, (uint32_t)id);
    return writer->length;
}

/* ---- The call ---- */

/* Sends the request in `buffer` and receives the reply there, on *reply_port.
 * `timeout` in ms bounds each phase; 0 waits as long as it takes. After a
 * receive failure the reply port is replaced, so a late reply is never read
 * as the answer to a later call. Returns KERN_SUCCESS or the mach_msg error. */
static inline kern_return_t mach_idl_call(mach_port_t *reply_port, void *buffer, mach_msg_size_t send_size,
                                          mach_msg_size_t receive_size, mach_msg_timeout_t timeout)
{
    mach_msg_option_t option = MACH_SEND_MSG | MACH_RCV_MSG;
    if (timeout != 0)
        option |= MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT;
    mach_msg_return_t result =
        mach_idl_mach_msg((mach_msg_header_t *)buffer, option, send_size, receive_size, *reply_port, timeout);
    uint32_t code = (uint32_t)result & ~(uint32_t)MACH_MSG_MASK;
    if (result == MACH_MSG_SUCCESS || code == MACH_RCV_BODY_ERROR)
        return KERN_SUCCESS;
    if ((code & 0xffffc000u) == 0x10004000u) {
        mach_port_name_t fresh = mach_idl_reply_port();
        if (fresh != MACH_PORT_NULL) {
            mach_idl_port_release(*reply_port, MACH_PORT_RIGHT_RECEIVE);
            *reply_port = fresh;
        }
    }
    return result;
}

/* Sends a one-way message. */
static inline kern_return_t mach_idl_send(void *buffer, mach_msg_size_t size, mach_msg_timeout_t timeout)
{
    mach_msg_option_t option = MACH_SEND_MSG | (timeout != 0 ? MACH_SEND_TIMEOUT : 0);
    return mach_idl_mach_msg((mach_msg_header_t *)buffer, option, size, 0, MACH_PORT_NULL, timeout);
}

/* ---- Reading a reply ---- */

typedef struct {
    const uint8_t *bytes;
    uint32_t size;
    uint32_t offset;
    uint32_t descriptor_count;
    bool failed;
} mach_idl_reader_t;

/* Releases every right and out-of-line region a received message carries. */
static inline void mach_idl_release_received(const void *buffer, uint32_t capacity)
{
    const uint8_t *bytes = (const uint8_t *)buffer;
    if (capacity < sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t))
        return;
    if ((mach_idl_load_u32(bytes) & MACH_MSGH_BITS_COMPLEX) == 0)
        return;
    uint32_t size = mach_idl_load_u32(bytes + 4);
    uint32_t count = mach_idl_load_u32(bytes + sizeof(mach_msg_header_t));
    for (uint32_t index = 0; index < count; index++) {
        uint32_t offset = (uint32_t)(sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t)) + index * 16u;
        if (offset + 16u > size || offset + 16u > capacity)
            return;
        const uint8_t *at = bytes + offset;
        if (at[11] == MACH_MSG_OOL_DESCRIPTOR) {
            uint64_t address = (uint64_t)mach_idl_load_u32(at) | ((uint64_t)mach_idl_load_u32(at + 4) << 32);
            uint32_t region_size = mach_idl_load_u32(at + 12);
            if (address != 0 && region_size != 0)
                mach_idl_vm_deallocate((const void *)(uintptr_t)address, region_size);
            continue;
        }
        if (at[11] != MACH_MSG_PORT_DESCRIPTOR)
            continue;
        mach_port_name_t name = mach_idl_load_u32(at);
        if (name == MACH_PORT_NULL || name == MACH_PORT_DEAD)
            continue;
        mach_idl_port_release(name, at[10] == MACH_MSG_TYPE_PORT_RECEIVE ? MACH_PORT_RIGHT_RECEIVE
                                                                          : MACH_PORT_RIGHT_SEND);
    }
}

/* Checks the reply to request `request_id` in `buffer` (capacity bytes) and
 * reads its return code. A nonzero code is returned after releasing what the
 * reply carried; on success the reader stands after the code and the
 * descriptor count was checked against `descriptor_count`. */
static inline kern_return_t mach_idl_reply_start(mach_idl_reader_t *reader, const void *buffer, uint32_t capacity,
                                                 mach_msg_id_t request_id, uint32_t descriptor_count)
{
    const uint8_t *bytes = (const uint8_t *)buffer;
    reader->bytes = bytes;
    reader->failed = false;
    reader->descriptor_count = 0;
    if (capacity < sizeof(mach_msg_header_t))
        return MIG_TYPE_ERROR;
    uint32_t bits = mach_idl_load_u32(bytes);
    reader->size = mach_idl_load_u32(bytes + 4);
    /* The kernel's send-once notification (sender 0 in the trailer) instead
     * of a reply: the server destroyed the reply right without answering,
     * or its task ended. */
    if ((mach_msg_id_t)mach_idl_load_u32(bytes + 20) == MACH_NOTIFY_SEND_ONCE && reader->size <= capacity &&
        capacity - reader->size >= 16u && mach_idl_load_u32(bytes + reader->size + 12u) == 0)
        return MIG_SERVER_DIED;
    if (reader->size > capacity || reader->size < sizeof(mach_msg_header_t) + 4u) {
        return MIG_TYPE_ERROR;
    }
    if ((mach_msg_id_t)mach_idl_load_u32(bytes + 20) != request_id + MACH_IDL_REPLY_ID_OFFSET) {
        mach_idl_release_received(buffer, capacity);
        return MIG_REPLY_MISMATCH;
    }
    reader->offset = (uint32_t)sizeof(mach_msg_header_t);
    if (bits & MACH_MSGH_BITS_COMPLEX) {
        if (reader->size < reader->offset + 4u)
            return MIG_TYPE_ERROR;
        reader->descriptor_count = mach_idl_load_u32(bytes + reader->offset);
        if (reader->descriptor_count > (reader->size - reader->offset - 4u) / 16u) {
            return MIG_TYPE_ERROR;
        }
        reader->offset += 4u + reader->descriptor_count * 16u;
    }
    if (reader->size - reader->offset < 4u) {
        mach_idl_release_received(buffer, capacity);
        return MIG_TYPE_ERROR;
    }
    kern_return_t code = (kern_return_t)mach_idl_load_u32(bytes + reader->offset);
    reader->offset += 4u;
    if (code != KERN_SUCCESS) {
        mach_idl_release_received(buffer, capacity);
        return code;
    }
    if (reader->descriptor_count != descriptor_count) {
        mach_idl_release_received(buffer, capacity);
        return MIG_TYPE_ERROR;
    }
    return KERN_SUCCESS;
}

static inline uint32_t mach_idl_get_u32(mach_idl_reader_t *reader)
{
    if (reader->failed || reader->size - reader->offset < 4u) {
        reader->failed = true;
        return 0;
    }
    uint32_t value = mach_idl_load_u32(reader->bytes + reader->offset);
    reader->offset += 4u;
    return value;
}

static inline uint64_t mach_idl_get_u64(mach_idl_reader_t *reader)
{
    uint64_t low = mach_idl_get_u32(reader);
    uint64_t high = mach_idl_get_u32(reader);
    return low | (high << 32);
}

/* A small integer: `maximum` bounds the unsigned value, or for a signed type
 * (`minimum` < 0) the range [minimum, maximum] of the sign-extended value. */
static inline int64_t mach_idl_get_small(mach_idl_reader_t *reader, int64_t minimum, int64_t maximum)
{
    uint32_t raw = mach_idl_get_u32(reader);
    int64_t value = minimum < 0 ? (int64_t)(int32_t)raw : (int64_t)raw;
    if (value < minimum || value > maximum) {
        reader->failed = true;
        return 0;
    }
    return value;
}

static inline void mach_idl_get_bytes(mach_idl_reader_t *reader, uint8_t *out, uint32_t bound, uint32_t *length)
{
    uint32_t size = mach_idl_get_u32(reader);
    uint32_t padded = (size + 3u) & ~3u;
    if (reader->failed || size > bound || padded < size || reader->size - reader->offset < padded) {
        reader->failed = true;
        *length = 0;
        return;
    }
    for (uint32_t index = 0; index < size; index++)
        out[index] = reader->bytes[reader->offset + index];
    *length = size;
    reader->offset += padded;
}

/* A string into `out` (bound + 1 bytes), NUL-terminated; an embedded NUL is refused. */
static inline void mach_idl_get_string(mach_idl_reader_t *reader, char *out, uint32_t bound)
{
    uint32_t length = 0;
    mach_idl_get_bytes(reader, (uint8_t *)out, bound, &length);
    for (uint32_t index = 0; index < length; index++) {
        if (out[index] == '\0')
            reader->failed = true;
    }
    out[reader->failed ? 0 : length] = '\0';
}

/* The port right in descriptor `index`, which must have the received type `received_type`. */
static inline mach_port_t mach_idl_get_port(mach_idl_reader_t *reader, uint32_t index, uint32_t received_type)
{
    if (reader->failed || index >= reader->descriptor_count) {
        reader->failed = true;
        return MACH_PORT_NULL;
    }
    const uint8_t *at = reader->bytes + sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t) + index * 16u;
    mach_port_t name = mach_idl_load_u32(at);
    if (at[11] != MACH_MSG_PORT_DESCRIPTOR || at[10] != received_type || name == MACH_PORT_NULL) {
        reader->failed = true;
        return MACH_PORT_NULL;
    }
    return name;
}

/* The out-of-line region in descriptor `index` (at most `bound` bytes): its
 * address, and its size in *size. Free it with mach_idl_vm_deallocate. */
static inline const void *mach_idl_get_ool(mach_idl_reader_t *reader, uint32_t index, uint32_t bound, uint32_t *size)
{
    *size = 0;
    if (reader->failed || index >= reader->descriptor_count) {
        reader->failed = true;
        return NULL;
    }
    const uint8_t *at = reader->bytes + sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t) + index * 16u;
    uint64_t address = (uint64_t)mach_idl_load_u32(at) | ((uint64_t)mach_idl_load_u32(at + 4) << 32);
    uint32_t region_size = mach_idl_load_u32(at + 12);
    if (at[11] != MACH_MSG_OOL_DESCRIPTOR || region_size > bound || (address == 0 && region_size != 0)) {
        reader->failed = true;
        return NULL;
    }
    *size = region_size;
    return (const void *)(uintptr_t)address;
}

/* Ends reading: every inline byte must have been read. On failure the
 * reply's rights are released and MIG_TYPE_ERROR returned (outputs are then
 * not valid). */
static inline kern_return_t mach_idl_reply_finish(mach_idl_reader_t *reader, const void *buffer, uint32_t capacity)
{
    if (reader->failed || reader->offset != reader->size) {
        mach_idl_release_received(buffer, capacity);
        return MIG_TYPE_ERROR;
    }
    return KERN_SUCCESS;
}

#endif /* MACH_IDL_H */
