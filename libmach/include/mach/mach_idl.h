/*
 * mach_idl.h: the C runtime of the client stubs and server dispatch
 * mach-idl generates.
 *
 * Every generated header includes this file. It provides:
 *  - the RPC-layer return codes (MIG's values) and the reply id rule;
 *  - the transport: mach_idl_mach_msg, mach_idl_reply_port,
 *    mach_idl_port_release and mach_idl_vm_deallocate. On Mach_R x86_64
 *    they are inline traps. Define
 *    MACH_IDL_CUSTOM_TRANSPORT before including to supply them yourself
 *    (tests, other architectures): they are then declared, not defined;
 *  - a message writer and reader that check every bound (no undefined
 *    behaviour on any message the kernel can deliver, or any bytes at all);
 *  - for servers: the request checks (mach_idl_request_start), the request
 *    context (mach_idl_context_t: the port, the sender, its credential, the
 *    reply right), replies and error replies, deferred replies, and the
 *    receive loop (mach_idl_serve).
 *
 * Wire format (docs/idl.md): descriptors first; inline fields each start on
 * a 4-byte boundary, integers little-endian, 8/16-bit ones widened to 32,
 * byte arrays and strings as a u32 length then the bytes padded to 4,
 * arrays of integers as a u32 count then the elements packed at their size
 * and padded to 4, structures field by field. A reply's inline data starts
 * with a 32-bit return code.
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
/* A deferrable routine's handler kept the reply right (context->reply) and
 * answers later: the dispatch sends nothing. */
#define MIG_NO_REPLY (-305)
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
#elif defined(__x86_64__) || defined(__aarch64__)
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

/* `count` integers of `element_size` bytes (1, 2, 4 or 8) at `values`,
 * packed little-endian and padded to 4 (a fixed array: no count). */
static inline void mach_idl_put_packed(mach_idl_writer_t *writer, const void *values, uint32_t count,
                                       uint32_t element_size)
{
    uint64_t length = (uint64_t)count * element_size;
    uint64_t padded = (length + 3u) & ~(uint64_t)3u;
    if (writer->error != KERN_SUCCESS)
        return;
    if (padded > writer->capacity - writer->length) {
        writer->error = MIG_ARRAY_TOO_LARGE;
        return;
    }
    uint8_t *at = writer->bytes + writer->length;
    for (uint32_t index = 0; index < count; index++) {
        uint64_t value;
        switch (element_size) {
        case 1:
            value = ((const uint8_t *)values)[index];
            break;
        case 2:
            value = ((const uint16_t *)values)[index];
            break;
        case 4:
            value = ((const uint32_t *)values)[index];
            break;
        default:
            value = ((const uint64_t *)values)[index];
            break;
        }
        for (uint32_t byte = 0; byte < element_size; byte++)
            at[index * element_size + byte] = (uint8_t)(value >> (8 * byte));
    }
    for (uint64_t index = length; index < padded; index++)
        at[index] = 0;
    writer->length += (uint32_t)padded;
}

/* An array's count, refused (MIG_ARRAY_TOO_LARGE) over `bound`. */
static inline void mach_idl_put_count(mach_idl_writer_t *writer, uint32_t count, uint32_t bound)
{
    if (count > bound) {
        if (writer->error == KERN_SUCCESS)
            writer->error = MIG_ARRAY_TOO_LARGE;
        return;
    }
    mach_idl_put_u32(writer, count);
}

/* An array of at most `bound` integers: the count, then packed. */
static inline void mach_idl_put_packed_array(mach_idl_writer_t *writer, const void *values, uint32_t count,
                                             uint32_t bound, uint32_t element_size)
{
    mach_idl_put_count(writer, count, bound);
    mach_idl_put_packed(writer, values, count, element_size);
}

/* Out-of-line memory a server's reply moves to the client (its pages leave
 * this task: deallocate, virtual copy). */
static inline void mach_idl_put_ool_move(mach_idl_writer_t *writer, const void *data, uint32_t size, uint32_t bound)
{
    mach_idl_put_ool(writer, data, size, bound);
    if (writer->error != KERN_SUCCESS || writer->descriptors_written == 0)
        return;
    uint8_t *at = writer->bytes + sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t) +
                  (writer->descriptors_written - 1) * 16u;
    at[8] = size != 0;
    at[9] = MACH_MSG_VIRTUAL_COPY;
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

/* A port right in descriptor `index` that may be absent: MACH_PORT_NULL is
 * accepted (whatever disposition came with it), any other name must have
 * the received type `received_type`. */
static inline mach_port_t mach_idl_get_optional_port(mach_idl_reader_t *reader, uint32_t index,
                                                     uint32_t received_type)
{
    if (reader->failed || index >= reader->descriptor_count) {
        reader->failed = true;
        return MACH_PORT_NULL;
    }
    const uint8_t *at = reader->bytes + sizeof(mach_msg_header_t) + sizeof(mach_msg_body_t) + index * 16u;
    mach_port_t name = mach_idl_load_u32(at);
    if (at[11] != MACH_MSG_PORT_DESCRIPTOR || (name != MACH_PORT_NULL && at[10] != received_type)) {
        reader->failed = true;
        return MACH_PORT_NULL;
    }
    return name;
}

/* `count` integers of `element_size` bytes, packed and padded to 4, into
 * `out`; `is_bool`: each must be 0 or 1. */
static inline void mach_idl_get_packed(mach_idl_reader_t *reader, void *out, uint32_t count, uint32_t element_size,
                                       bool is_bool)
{
    uint64_t length = (uint64_t)count * element_size;
    uint64_t padded = (length + 3u) & ~(uint64_t)3u;
    if (reader->failed || padded > reader->size - reader->offset) {
        reader->failed = true;
        return;
    }
    const uint8_t *at = reader->bytes + reader->offset;
    for (uint32_t index = 0; index < count; index++) {
        uint64_t value = 0;
        for (uint32_t byte = 0; byte < element_size; byte++)
            value |= (uint64_t)at[index * element_size + byte] << (8 * byte);
        switch (element_size) {
        case 1:
            if (is_bool && value > 1)
                reader->failed = true;
            ((uint8_t *)out)[index] = (uint8_t)value;
            break;
        case 2:
            ((uint16_t *)out)[index] = (uint16_t)value;
            break;
        case 4:
            ((uint32_t *)out)[index] = (uint32_t)value;
            break;
        default:
            ((uint64_t *)out)[index] = value;
            break;
        }
    }
    reader->offset += (uint32_t)padded;
}

/* An array's count: refused (and 0) over `bound`. */
static inline uint32_t mach_idl_get_count(mach_idl_reader_t *reader, uint32_t bound)
{
    uint32_t count = mach_idl_get_u32(reader);
    if (count > bound) {
        reader->failed = true;
        return 0;
    }
    return reader->failed ? 0 : count;
}

/* An array of at most `bound` integers into `out` (room for `bound`); its
 * count in *count (0 on failure). */
static inline void mach_idl_get_packed_array(mach_idl_reader_t *reader, void *out, uint32_t bound,
                                             uint32_t element_size, bool is_bool, uint32_t *count)
{
    *count = mach_idl_get_count(reader, bound);
    mach_idl_get_packed(reader, out, *count, element_size, is_bool);
    if (reader->failed)
        *count = 0;
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

/* ---- The server side ---- */

/* Zeroes `size` bytes at `object` (a result structure before its handler fills it). */
static inline void mach_idl_zero(void *object, uint32_t size)
{
    uint8_t *bytes = (uint8_t *)object;
    for (uint32_t index = 0; index < size; index++)
        bytes[index] = 0;
}

/* UTF-8 as Rust's str accepts it: no overlong forms, no surrogates, at most
 * U+10FFFF. The Rust and C servers refuse the same strings. */
static inline bool mach_idl_utf8_valid(const uint8_t *bytes, uint32_t length)
{
    uint32_t index = 0;
    while (index < length) {
        uint8_t first = bytes[index];
        uint32_t extra;
        uint32_t low = 0x80, high = 0xbf;
        if (first < 0x80) {
            index++;
            continue;
        } else if (first >= 0xc2 && first <= 0xdf) {
            extra = 1;
        } else if (first >= 0xe0 && first <= 0xef) {
            extra = 2;
            if (first == 0xe0)
                low = 0xa0;
            if (first == 0xed)
                high = 0x9f;
        } else if (first >= 0xf0 && first <= 0xf4) {
            extra = 3;
            if (first == 0xf0)
                low = 0x90;
            if (first == 0xf4)
                high = 0x8f;
        } else {
            return false;
        }
        if (length - index <= extra)
            return false;
        for (uint32_t next = 1; next <= extra; next++) {
            uint8_t byte = bytes[index + next];
            if (byte < (next == 1 ? low : 0x80) || byte > (next == 1 ? high : 0xbf))
                return false;
        }
        index += extra + 1;
    }
    return true;
}

/* A request's string (at most `bound` bytes, UTF-8, no NUL) into `out`
 * (bound + 1 bytes), NUL-terminated. */
static inline void mach_idl_get_request_string(mach_idl_reader_t *reader, char *out, uint32_t bound)
{
    uint32_t length = 0;
    mach_idl_get_string(reader, out, bound);
    if (reader->failed)
        return;
    while (out[length] != '\0')
        length++;
    if (!mach_idl_utf8_valid((const uint8_t *)out, length)) {
        reader->failed = true;
        out[0] = '\0';
    }
}

/* A request's byte array (at most `bound` bytes), left in the request
 * buffer: returns where it starts, its length in *length. */
static inline const uint8_t *mach_idl_get_bytes_in_place(mach_idl_reader_t *reader, uint32_t bound,
                                                        uint32_t *length)
{
    uint32_t size = mach_idl_get_u32(reader);
    uint32_t padded = (size + 3u) & ~3u;
    *length = 0;
    if (reader->failed || size > bound || padded < size || reader->size - reader->offset < padded) {
        reader->failed = true;
        return reader->bytes;
    }
    const uint8_t *at = reader->bytes + reader->offset;
    *length = size;
    reader->offset += padded;
    return at;
}

/* A reply right a handler may keep to answer later. */
typedef struct {
    mach_port_t port;       /* the send-once right (a dead name once the client gave up) */
    mach_msg_bits_t bits;   /* the reply header's bits (the right's disposition) */
    mach_msg_id_t id;       /* the reply's id: the request's + 100 */
} mach_idl_reply_t;

/* What a handler knows of its request besides the arguments. */
typedef struct {
    mach_port_t port;              /* the receive right the request arrived on */
    mach_msg_id_t id;              /* the request's id */
    uint32_t sender;               /* the sending task's id; 0: the kernel */
    uint32_t seqno;                /* the port's sequence number for it */
    bool has_credential;           /* the loop asked for the audit trailer and got one */
    task_credential_t credential;  /* the sender's credential when it sent (if has_credential) */
    mach_idl_reply_t reply;        /* port MACH_PORT_NULL: no reply right */
} mach_idl_context_t;

/* What a dispatch function did with a request. */
typedef enum {
    MACH_IDL_REPLY = 1,      /* a reply of *reply_size bytes is in the reply buffer */
    MACH_IDL_NO_REPLY = 2,   /* nothing to send */
    MACH_IDL_UNKNOWN_ID = 3, /* not this interface's id: untouched, another may take it */
} mach_idl_dispatch_t;

static inline bool mach_idl_disposition_valid(uint32_t value)
{
    return value >= MACH_MSG_TYPE_MOVE_RECEIVE && value <= MACH_MSG_TYPE_MAKE_SEND_ONCE;
}

/* Checks a received request in `buffer` (`capacity` bytes, message and
 * trailer) as the Rust side's parse_received does: sizes, header bits and
 * dispositions, no voucher, each descriptor well-formed. */
static inline bool mach_idl_request_valid(const void *buffer, uint32_t capacity)
{
    const uint8_t *bytes = (const uint8_t *)buffer;
    if (capacity < sizeof(mach_msg_header_t) + MACH_MSG_TRAILER_SIZE)
        return false;
    uint32_t bits = mach_idl_load_u32(bytes);
    uint32_t size = mach_idl_load_u32(bytes + 4);
    if (size < sizeof(mach_msg_header_t) || size > MACH_MSG_SIZE_MAX || size % 4 != 0 ||
        size > capacity - MACH_MSG_TRAILER_SIZE)
        return false;
    if ((bits & ~(uint32_t)MACH_MSGH_BITS_USER) != 0)
        return false;
    uint32_t remote = MACH_MSGH_BITS_REMOTE(bits), local = MACH_MSGH_BITS_LOCAL(bits);
    if ((remote != 0 && !(remote >= MACH_MSG_TYPE_MOVE_SEND && remote <= MACH_MSG_TYPE_MAKE_SEND_ONCE)) ||
        (local != 0 && !(local >= MACH_MSG_TYPE_MOVE_SEND && local <= MACH_MSG_TYPE_MAKE_SEND_ONCE)))
        return false;
    if (MACH_MSGH_BITS_VOUCHER(bits) != 0 || mach_idl_load_u32(bytes + 16) != MACH_PORT_NULL)
        return false;
    if ((bits & MACH_MSGH_BITS_COMPLEX) == 0)
        return true;
    if (size < sizeof(mach_msg_header_t) + 4u)
        return false;
    uint32_t count = mach_idl_load_u32(bytes + sizeof(mach_msg_header_t));
    if (count > MACH_MSG_DESCRIPTORS_MAX || count > (size - sizeof(mach_msg_header_t) - 4u) / 16u)
        return false;
    for (uint32_t index = 0; index < count; index++) {
        const uint8_t *at = bytes + sizeof(mach_msg_header_t) + 4u + index * 16u;
        switch (at[11]) {
        case MACH_MSG_PORT_DESCRIPTOR:
            if (!mach_idl_disposition_valid(at[10]))
                return false;
            break;
        case MACH_MSG_OOL_DESCRIPTOR:
            if (at[9] > MACH_MSG_VIRTUAL_COPY || mach_idl_load_u32(at + 12) > MACH_MSG_OOL_SIZE_MAX)
                return false;
            break;
        case MACH_MSG_OOL_PORTS_DESCRIPTOR:
            if (at[9] > MACH_MSG_VIRTUAL_COPY || !mach_idl_disposition_valid(at[10]) ||
                mach_idl_load_u32(at + 12) > MACH_MSG_OOL_PORTS_MAX)
                return false;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* The context of a valid request: its port, id, reply right, and what the
 * trailer says (the credential only from an audit trailer the kernel wrote:
 * its trailer_size says so). */
static inline void mach_idl_context_init(mach_idl_context_t *context, const void *buffer, uint32_t capacity)
{
    const uint8_t *bytes = (const uint8_t *)buffer;
    uint32_t bits = mach_idl_load_u32(bytes);
    uint32_t size = mach_idl_load_u32(bytes + 4);
    const uint8_t *trailer = bytes + size;
    uint32_t trailer_size = mach_idl_load_u32(trailer + 4);
    context->port = mach_idl_load_u32(bytes + 12);
    context->id = (mach_msg_id_t)mach_idl_load_u32(bytes + 20);
    context->seqno = mach_idl_load_u32(trailer + 8);
    context->sender = mach_idl_load_u32(trailer + 12);
    context->has_credential = false;
    uint32_t *words = (uint32_t *)&context->credential;
    for (uint32_t index = 0; index < sizeof context->credential / 4u; index++)
        words[index] = 0;
    if (trailer_size == MACH_MSG_AUDIT_TRAILER_SIZE && capacity - size >= MACH_MSG_AUDIT_TRAILER_SIZE &&
        mach_idl_load_u32(trailer) == MACH_MSG_TRAILER_FORMAT_0) {
        for (uint32_t index = 0; index < sizeof context->credential / 4u; index++)
            words[index] = mach_idl_load_u32(trailer + MACH_MSG_TRAILER_SIZE + 4u * index);
        context->has_credential = context->credential.group_count <= CREDENTIAL_GROUPS_MAX;
    }
    context->reply.port = MACH_MSGH_BITS_REMOTE(bits) != 0 ? mach_idl_load_u32(bytes + 8) : MACH_PORT_NULL;
    if (context->reply.port == MACH_PORT_DEAD)
        context->reply.port = MACH_PORT_NULL;
    context->reply.bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(bits), 0);
    context->reply.id = context->id + MACH_IDL_REPLY_ID_OFFSET;
}

/* Starts reading a valid request's arguments: checks its descriptor count
 * and positions the reader on the inline data. */
static inline bool mach_idl_request_start(mach_idl_reader_t *reader, const void *buffer, uint32_t descriptor_count)
{
    const uint8_t *bytes = (const uint8_t *)buffer;
    uint32_t bits = mach_idl_load_u32(bytes);
    reader->bytes = bytes;
    reader->size = mach_idl_load_u32(bytes + 4);
    reader->failed = false;
    reader->descriptor_count = 0;
    reader->offset = (uint32_t)sizeof(mach_msg_header_t);
    if (bits & MACH_MSGH_BITS_COMPLEX) {
        reader->descriptor_count = mach_idl_load_u32(bytes + reader->offset);
        reader->offset += 4u + reader->descriptor_count * 16u;
    }
    return reader->descriptor_count == descriptor_count;
}

/* Every inline byte of the request was read and every check passed. */
static inline bool mach_idl_request_finished(const mach_idl_reader_t *reader)
{
    return !reader->failed && reader->offset == reader->size;
}

/* Writes into `reply` an answer carrying only `code` to the request
 * `context` describes; without a reply right, nothing. */
static inline mach_idl_dispatch_t mach_idl_reply_code(const mach_idl_context_t *context, kern_return_t code,
                                                      void *reply, uint32_t reply_capacity, uint32_t *reply_size)
{
    if (context->reply.port == MACH_PORT_NULL)
        return MACH_IDL_NO_REPLY;
    mach_idl_writer_t writer;
    mach_idl_writer_start(&writer, reply, reply_capacity, 0);
    mach_idl_put_u32(&writer, (uint32_t)code);
    *reply_size = mach_idl_writer_finish(&writer, context->reply.bits, context->reply.port, MACH_PORT_NULL,
                                         context->reply.id);
    if (*reply_size == 0) {
        /* A buffer too small for a code: give the right back, so the client hears. */
        mach_idl_port_release(context->reply.port, MACH_PORT_RIGHT_SEND_ONCE);
        return MACH_IDL_NO_REPLY;
    }
    return MACH_IDL_REPLY;
}

/* Refuses a request: releases every right and region it carried, and
 * answers `code` if it has a reply right. Bytes that are no valid request
 * at all (the kernel never delivers them) release nothing. */
static inline mach_idl_dispatch_t mach_idl_refuse(const void *request, uint32_t request_capacity, kern_return_t code,
                                                  void *reply, uint32_t reply_capacity, uint32_t *reply_size)
{
    mach_idl_context_t context;
    if (!mach_idl_request_valid(request, request_capacity)) {
        const uint8_t *bytes = (const uint8_t *)request;
        if (request_capacity < sizeof(mach_msg_header_t))
            return MACH_IDL_NO_REPLY;
        uint32_t bits = mach_idl_load_u32(bytes);
        context.reply.port = MACH_MSGH_BITS_REMOTE(bits) != 0 ? mach_idl_load_u32(bytes + 8) : MACH_PORT_NULL;
        if (context.reply.port == MACH_PORT_DEAD)
            context.reply.port = MACH_PORT_NULL;
        context.reply.bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(bits), 0);
        context.reply.id = (mach_msg_id_t)mach_idl_load_u32(bytes + 20) + MACH_IDL_REPLY_ID_OFFSET;
        return mach_idl_reply_code(&context, MIG_BAD_ARGUMENTS, reply, reply_capacity, reply_size);
    }
    mach_idl_release_received(request, request_capacity);
    mach_idl_context_init(&context, request, request_capacity);
    return mach_idl_reply_code(&context, code, reply, reply_capacity, reply_size);
}

/* Gives back a reply right nobody will answer through: the client's call
 * ends with a send-once notification instead of waiting. */
static inline void mach_idl_discard_reply(const mach_idl_context_t *context)
{
    if (context->reply.port != MACH_PORT_NULL)
        mach_idl_port_release(context->reply.port, MACH_PORT_RIGHT_SEND_ONCE);
}

/* Releases what a reply that could not be sent carried: the rights it
 * moved, the memory it moved, and the reply right it went through. */
static inline void mach_idl_release_unsent(const void *buffer, uint32_t size)
{
    const uint8_t *bytes = (const uint8_t *)buffer;
    if (size < sizeof(mach_msg_header_t))
        return;
    uint32_t bits = mach_idl_load_u32(bytes);
    if ((bits & MACH_MSGH_BITS_COMPLEX) && size >= sizeof(mach_msg_header_t) + 4u) {
        uint32_t count = mach_idl_load_u32(bytes + sizeof(mach_msg_header_t));
        for (uint32_t index = 0; index < count && sizeof(mach_msg_header_t) + 4u + (index + 1) * 16u <= size;
             index++) {
            const uint8_t *at = bytes + sizeof(mach_msg_header_t) + 4u + index * 16u;
            mach_port_t name = mach_idl_load_u32(at);
            if (at[11] == MACH_MSG_OOL_DESCRIPTOR && at[8] != 0) {
                uint64_t address = (uint64_t)name | ((uint64_t)mach_idl_load_u32(at + 4) << 32);
                if (address != 0 && mach_idl_load_u32(at + 12) != 0)
                    mach_idl_vm_deallocate((const void *)(uintptr_t)address, mach_idl_load_u32(at + 12));
            } else if (at[11] == MACH_MSG_PORT_DESCRIPTOR && name != MACH_PORT_NULL && name != MACH_PORT_DEAD) {
                if (at[10] == MACH_MSG_TYPE_MOVE_RECEIVE)
                    mach_idl_port_release(name, MACH_PORT_RIGHT_RECEIVE);
                else if (at[10] == MACH_MSG_TYPE_MOVE_SEND || at[10] == MACH_MSG_TYPE_MOVE_SEND_ONCE)
                    mach_idl_port_release(name, MACH_PORT_RIGHT_SEND);
            }
        }
    }
    mach_port_t reply = mach_idl_load_u32(bytes + 8);
    if (reply != MACH_PORT_NULL && reply != MACH_PORT_DEAD)
        mach_idl_port_release(reply, MACH_PORT_RIGHT_SEND_ONCE);
}

/* Sends a deferred reply (written by a generated <prefix>_<routine>_reply):
 * never waits. On failure (MACH_SEND_INVALID_DEST: the client is gone)
 * nothing was sent, the reply right is released, and the rights and
 * memory the reply would have moved stay the caller's. */
static inline kern_return_t mach_idl_send_reply(const mach_idl_reply_t *reply, void *buffer, mach_msg_size_t size)
{
    mach_msg_return_t result =
        mach_idl_mach_msg((mach_msg_header_t *)buffer, MACH_SEND_MSG | MACH_SEND_TIMEOUT, size, 0, MACH_PORT_NULL, 0);
    if (result != MACH_MSG_SUCCESS)
        mach_idl_port_release(reply->port, MACH_PORT_RIGHT_SEND_ONCE);
    return result;
}

/* A kernel notification (docs/idl.md, "Notifications"). */
typedef struct {
    mach_msg_id_t id;          /* MACH_NOTIFY_*; 0: a kernel message of no known shape (its rights were released) */
    mach_port_t port;          /* the receive right it arrived on: for no-senders, the port it is about
                                  when requested on the port itself */
    mach_port_t name;          /* dead-name and port-deleted: the name; port-destroyed: the receive right
                                  coming back (now the handler's) */
    uint32_t make_send_count;  /* no-senders: the port's make-send count */
} mach_idl_notification_t;

/* Decodes `request` if it is a notification the kernel sent (trailer
 * sender 0): returns true and fills *notification. A message with a
 * notification id from a task is no notification (false: the loop answers
 * it MIG_BAD_ID and releases what it carried). A dead-name notification
 * adds a reference to the dead name: release it with mach_idl_port_release
 * once done. */
static inline bool mach_idl_read_notification(const void *request, uint32_t request_capacity,
                                              mach_idl_notification_t *notification)
{
    if (!mach_idl_request_valid(request, request_capacity))
        return false;
    mach_idl_context_t context;
    mach_idl_context_init(&context, request, request_capacity);
    if (context.id < MACH_NOTIFY_FIRST || context.id > MACH_NOTIFY_LAST || context.sender != 0)
        return false;
    notification->id = context.id;
    notification->port = context.port;
    notification->name = MACH_PORT_NULL;
    notification->make_send_count = 0;
    mach_idl_reader_t reader;
    bool valid;
    switch (context.id) {
    case MACH_NOTIFY_PORT_DESTROYED:
        valid = mach_idl_request_start(&reader, request, 1);
        notification->name = mach_idl_get_port(&reader, 0, MACH_MSG_TYPE_PORT_RECEIVE);
        break;
    case MACH_NOTIFY_NO_SENDERS:
        valid = mach_idl_request_start(&reader, request, 0);
        notification->make_send_count = mach_idl_get_u32(&reader);
        break;
    case MACH_NOTIFY_DEAD_NAME:
    case MACH_NOTIFY_PORT_DELETED:
        valid = mach_idl_request_start(&reader, request, 0);
        notification->name = mach_idl_get_u32(&reader);
        break;
    case MACH_NOTIFY_SEND_ONCE:
        valid = mach_idl_request_start(&reader, request, 0);
        break;
    default:
        valid = false;
        break;
    }
    if (!valid || !mach_idl_request_finished(&reader)) {
        mach_idl_release_received(request, request_capacity);
        notification->id = 0;
        notification->name = MACH_PORT_NULL;
    }
    return true;
}

/* A dispatch function bound to its argument (see mach_idl_serve). */
typedef mach_idl_dispatch_t (*mach_idl_handler_t)(void *argument, const void *request, uint32_t request_capacity,
                                                   void *reply, uint32_t reply_capacity, uint32_t *reply_size);

/* Serves `receive_name` (a receive right or port set) forever: receives
 * with `receive_options` (MACH_RCV_MSG, | MACH_RCV_TRAILER_AUDIT for
 * credentials) into one of the two `buffer_size`-byte buffers, lets
 * `handler` answer into the other, and sends each reply together with the
 * next receive, as the Rust loop does. An id no handler knows is answered
 * MIG_BAD_ID. Returns the receive error that ends it (the port or set is
 * gone, or the kernel refused the options). */
static inline mach_msg_return_t mach_idl_serve(mach_port_t receive_name, mach_msg_option_t receive_options,
                                               void *first_buffer, void *second_buffer, uint32_t buffer_size,
                                               mach_idl_handler_t handler, void *argument)
{
    uint8_t *incoming = (uint8_t *)first_buffer, *outgoing = (uint8_t *)second_buffer;
    uint32_t pending = 0;
    for (;;) {
        mach_msg_return_t received;
        if (pending != 0) {
            received = mach_idl_mach_msg((mach_msg_header_t *)outgoing,
                                         MACH_SEND_MSG | MACH_SEND_TIMEOUT | receive_options, pending, buffer_size,
                                         receive_name, 0);
            uint32_t code = (uint32_t)received & ~(uint32_t)MACH_MSG_MASK;
            if (received != MACH_MSG_SUCCESS && (code & 0xffffc000u) == 0x10000000u) {
                /* Nothing was sent nor received: release the reply, receive alone. */
                mach_idl_release_unsent(outgoing, pending);
                received = mach_idl_mach_msg((mach_msg_header_t *)incoming, receive_options, 0, buffer_size,
                                             receive_name, 0);
            } else {
                uint8_t *swap = incoming;
                incoming = outgoing;
                outgoing = swap;
            }
            pending = 0;
        } else {
            received = mach_idl_mach_msg((mach_msg_header_t *)incoming, receive_options, 0, buffer_size, receive_name,
                                         0);
        }
        uint32_t code = (uint32_t)received & ~(uint32_t)MACH_MSG_MASK;
        if (code == MACH_RCV_TOO_LARGE || code == MACH_RCV_INTERRUPTED)
            continue;
        if (received != MACH_MSG_SUCCESS && code != MACH_RCV_BODY_ERROR)
            return received;
        uint32_t reply_size = 0;
        mach_idl_dispatch_t result = handler(argument, incoming, buffer_size, outgoing, buffer_size, &reply_size);
        if (result == MACH_IDL_UNKNOWN_ID)
            result = mach_idl_refuse(incoming, buffer_size, MIG_BAD_ID, outgoing, buffer_size, &reply_size);
        if (result == MACH_IDL_REPLY)
            pending = reply_size;
    }
}

#endif /* MACH_IDL_H */
