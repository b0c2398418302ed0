/*
 * Feeds the generated echo C server (echo_dispatch, every argument type:
 * integers, strings, bytes, ports of every disposition, optional ports,
 * out-of-line memory, structs, arrays, a deferrable routine) random and
 * damaged requests, built with -fsanitize=address,undefined by
 * tests/c_server.rs. Whatever arrives, the dispatch must answer or refuse it
 * without reading or writing out of bounds, and release each out-of-line
 * region it refuses exactly once (a double free would stop the sanitizer).
 *
 * The requests start as what the generated C client stubs send (captured by
 * this program's transport), then pass through "the kernel": port
 * dispositions become the received types, names become this task's, each
 * out-of-line region is copied into memory this task owns, the header gets
 * the service port and a reply right, and a trailer (sometimes the audit
 * trailer) follows. Some are then damaged, some are random bytes.
 * This task's memory is a registry: freeing a region it does not hold
 * stops the program, and after each well-formed request every region the
 * request brought must be gone (released by the dispatch, or by a handler
 * that was given it).
 * Prints "N requests, N answered, N refused" on stderr; exits 0.
 */
#define MACH_IDL_CUSTOM_TRANSPORT
#include "echo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545f4914f6cdd1du;

static uint32_t next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

/* ---- The transport: captures what the client stubs send ---- */

static uint8_t captured[4096];
static uint32_t captured_size;
static uint32_t deferred_answers, released_rights;

mach_msg_return_t mach_idl_mach_msg(mach_msg_header_t *message, mach_msg_option_t option, mach_msg_size_t send_size,
                                    mach_msg_size_t receive_size, mach_port_name_t receive_name,
                                    mach_msg_timeout_t timeout)
{
    (void)receive_size;
    (void)receive_name;
    (void)timeout;
    if (option & MACH_RCV_MSG) {
        /* A client stub: keep its request, and let the call fail. */
        if (send_size > sizeof captured)
            exit(3);
        memcpy(captured, message, send_size);
        captured_size = send_size;
        return MACH_RCV_TIMED_OUT;
    }
    /* A deferred reply: "sent". Its moved regions leave this task. */
    deferred_answers++;
    return MACH_MSG_SUCCESS;
}

mach_port_name_t mach_idl_reply_port(void)
{
    return 0x1003;
}

kern_return_t mach_idl_port_release(mach_port_name_t name, mach_port_right_t right)
{
    (void)name;
    (void)right;
    released_rights++;
    return KERN_SUCCESS;
}

/* ---- This task's memory ---- */

static void *regions[64];
static uint32_t region_count;

static void *region_allocate(uint32_t size)
{
    void *memory = calloc(1, size);
    if (memory == NULL || region_count == 64)
        exit(6);
    regions[region_count++] = memory;
    return memory;
}

static void region_free(const void *address)
{
    for (uint32_t index = 0; index < region_count; index++) {
        if (regions[index] == address) {
            free(regions[index]);
            regions[index] = regions[--region_count];
            return;
        }
    }
    fprintf(stderr, "fuzz_server: %p freed but not held (freed twice?)\n", address);
    exit(10);
}

/* Frees every region still held; returns how many there were. */
static uint32_t region_free_all(void)
{
    uint32_t count = region_count;
    while (region_count > 0)
        free(regions[--region_count]);
    return count;
}

kern_return_t mach_idl_vm_deallocate(const void *address, uint32_t size)
{
    (void)size;
    region_free(address);
    return KERN_SUCCESS;
}

/* ---- The server: echoes, keeps `wait`s for `release` ---- */

static mach_idl_reply_t waiting[8];
static uint32_t waiting_count;

static kern_return_t integers(void *state_pointer, const mach_idl_context_t *context, uint8_t a, uint16_t b,
                              uint32_t c, uint64_t d, int8_t e, int16_t f, int32_t g, int64_t h, bool i, uint8_t *ra,
                              uint16_t *rb, uint32_t *rc, uint64_t *rd, int8_t *re, int16_t *rf, int32_t *rg,
                              int64_t *rh, bool *ri)
{
    (void)state_pointer;
    (void)context;
    *ra = a, *rb = b, *rc = c, *rd = d, *re = e, *rf = f, *rg = g, *rh = h, *ri = i;
    return KERN_SUCCESS;
}

static kern_return_t texts(void *state_pointer, const mach_idl_context_t *context, const char *text,
                           const uint8_t *data, uint32_t data_length, char rtext[101], uint8_t rdata[100],
                           uint32_t *rdata_length)
{
    (void)state_pointer;
    (void)context;
    strcpy(rtext, text);
    memcpy(rdata, data, data_length);
    *rdata_length = data_length;
    return KERN_SUCCESS;
}

static kern_return_t nothing(void *state_pointer, const mach_idl_context_t *context)
{
    (void)state_pointer;
    (void)context;
    return KERN_SUCCESS;
}

static kern_return_t rights(void *state_pointer, const mach_idl_context_t *context, mach_port_t made,
                            mach_port_t copied, mach_port_t made_once, mach_port_t moved_once,
                            mach_port_t moved_receive, mach_port_t *back_send, mach_port_t *back_once,
                            mach_port_t *back_receive)
{
    (void)state_pointer;
    (void)context;
    mach_idl_port_release(copied, MACH_PORT_RIGHT_SEND);
    mach_idl_port_release(moved_once, MACH_PORT_RIGHT_SEND_ONCE);
    *back_send = made, *back_once = made_once, *back_receive = moved_receive;
    return KERN_SUCCESS;
}

static kern_return_t even(void *state_pointer, const mach_idl_context_t *context, uint32_t number, uint32_t *half)
{
    (void)state_pointer;
    (void)context;
    if (number % 2 == 1)
        return ECHO_ODD;
    *half = number / 2;
    return KERN_SUCCESS;
}

static kern_return_t after_skip(void *state_pointer, const mach_idl_context_t *context, int32_t *id)
{
    (void)state_pointer;
    *id = context->id;
    return KERN_SUCCESS;
}

static void note(void *state_pointer, const mach_idl_context_t *context, uint64_t value)
{
    (void)state_pointer;
    (void)context;
    (void)value;
}

static kern_return_t reflect(void *state_pointer, const mach_idl_context_t *context, const void *data,
                             uint32_t data_size, const void **copy, uint32_t *copy_size)
{
    (void)state_pointer;
    (void)context;
    void *memory = data_size == 0 ? NULL : region_allocate(data_size);
    if (data_size != 0)
        memcpy(memory, data, data_size);
    if (data != NULL && data_size != 0)
        mach_idl_vm_deallocate(data, data_size);
    *copy = memory;
    *copy_size = data_size;
    return KERN_SUCCESS;
}

static kern_return_t records(void *state_pointer, const mach_idl_context_t *context, const echo_record_t *one,
                             const echo_record_t *many, uint32_t many_count, echo_record_t *rone,
                             echo_record_t rmany[4], uint32_t *rmany_count)
{
    (void)state_pointer;
    (void)context;
    *rone = *one;
    for (uint32_t index = 0; index < many_count; index++)
        rmany[index] = many[index];
    *rmany_count = many_count;
    return KERN_SUCCESS;
}

static kern_return_t arrays(void *state_pointer, const mach_idl_context_t *context, const uint8_t *small,
                            uint32_t small_count, const int16_t *halves, uint32_t halves_count,
                            const uint32_t *words, uint32_t words_count, const int64_t *longs, uint32_t longs_count,
                            const bool *flags, uint32_t flags_count, uint8_t rsmall[9], uint32_t *rsmall_count,
                            int16_t rhalves[7], uint32_t *rhalves_count, uint32_t rwords[5], uint32_t *rwords_count,
                            int64_t rlongs[3], uint32_t *rlongs_count, bool rflags[6], uint32_t *rflags_count)
{
    (void)state_pointer;
    (void)context;
    memcpy(rsmall, small, small_count * sizeof *small), *rsmall_count = small_count;
    memcpy(rhalves, halves, halves_count * sizeof *halves), *rhalves_count = halves_count;
    memcpy(rwords, words, words_count * sizeof *words), *rwords_count = words_count;
    memcpy(rlongs, longs, longs_count * sizeof *longs), *rlongs_count = longs_count;
    memcpy(rflags, flags, flags_count * sizeof *flags), *rflags_count = flags_count;
    return KERN_SUCCESS;
}

static kern_return_t optional_rights(void *state_pointer, const mach_idl_context_t *context, mach_port_t maybe_moved,
                                     mach_port_t maybe_made, mach_port_t maybe_copied, mach_port_t *back,
                                     uint32_t *present)
{
    (void)state_pointer;
    (void)context;
    *present = (maybe_moved != MACH_PORT_NULL) + (maybe_made != MACH_PORT_NULL) + (maybe_copied != MACH_PORT_NULL);
    if (maybe_made != MACH_PORT_NULL)
        mach_idl_port_release(maybe_made, MACH_PORT_RIGHT_SEND);
    if (maybe_copied != MACH_PORT_NULL)
        mach_idl_port_release(maybe_copied, MACH_PORT_RIGHT_SEND);
    *back = maybe_moved;
    return KERN_SUCCESS;
}

static kern_return_t whoami(void *state_pointer, const mach_idl_context_t *context, uint32_t claimed_uid,
                            uint32_t *port, uint32_t *sender, bool *audited, uint32_t *euid, uint32_t groups[16],
                            uint32_t *groups_count)
{
    (void)state_pointer;
    (void)claimed_uid;
    *port = context->port, *sender = context->sender, *audited = context->has_credential;
    *euid = context->has_credential ? context->credential.euid : UINT32_MAX;
    *groups_count = context->has_credential ? context->credential.group_count : 0;
    for (uint32_t index = 0; index < *groups_count; index++)
        groups[index] = context->credential.groups[index];
    return KERN_SUCCESS;
}

static kern_return_t wait_handler(void *state_pointer, const mach_idl_context_t *context, uint32_t key,
                                  uint64_t *value, mach_port_t *token)
{
    (void)state_pointer;
    (void)key;
    (void)token;
    if (key % 2 == 0 || waiting_count == 8) {
        *value = key;
        return KERN_SUCCESS;
    }
    waiting[waiting_count++] = context->reply;
    return MIG_NO_REPLY;
}

static void release(void *state_pointer, const mach_idl_context_t *context, uint32_t key, uint64_t value)
{
    (void)state_pointer;
    (void)context;
    (void)key;
    if (waiting_count > 0)
        echo_wait_reply(&waiting[--waiting_count], KERN_SUCCESS, value, MACH_PORT_NULL);
}

static const echo_server_t handlers = {
    .integers = integers,
    .texts = texts,
    .nothing = nothing,
    .rights = rights,
    .even = even,
    .after_skip = after_skip,
    .note = note,
    .reflect = reflect,
    .records = records,
    .arrays = arrays,
    .optional_rights = optional_rights,
    .whoami = whoami,
    .wait = wait_handler,
    .release = release,
};

/* ---- Requests ---- */

static echo_client_t client;

/* Has the client stubs send a valid request of routine `choice`. */
static void valid_request(uint32_t choice)
{
    uint8_t bytes[100], rbytes[100];
    char text[101], rtext[101];
    uint32_t length = next_random() % 100, count = 0, number = 0;
    uint64_t wide = 0;
    int64_t signed_wide = 0;
    for (uint32_t index = 0; index < length; index++) {
        bytes[index] = (uint8_t)next_random();
        text[index] = (char)('a' + next_random() % 26);
    }
    text[length] = '\0';
    echo_record_t record, records_out[4], record_out;
    memset(&record, 0, sizeof record);
    record.half = (uint16_t)next_random();
    record.inner.flag = next_random() % 2;
    record.flags[1] = true;
    record.pairs[1].wide = -5;
    echo_record_t many[4] = {record, record, record, record};
    static uint8_t region[3000];
    const void *copy;
    uint32_t copy_size;
    uint8_t small[9] = {1, 2, 3}, rsmall[9];
    int16_t halves[7] = {-1, 2}, rhalves[7];
    uint32_t words[5] = {7}, rwords[5];
    int64_t longs[3] = {-9}, rlongs[3];
    bool flags[6] = {true, false, true}, rflags[6];
    uint32_t counts[5];
    uint32_t groups[16];
    mach_port_t ports[3];
    bool flag;
    uint8_t small_value;
    uint16_t half_value;
    int8_t tiny;
    int16_t short_value;
    int32_t id;
    captured_size = 0;
    switch (choice % 15) {
    case 0:
        echo_integers(&client, 1, 2, 3, 4, -5, -6, -7, -8, true, &small_value, &half_value, &number, &wide, &tiny,
                      &short_value, &id, &signed_wide, &flag);
        break;
    case 1:
        echo_texts(&client, text, bytes, length, rtext, rbytes, &count);
        break;
    case 2:
        echo_nothing(&client);
        break;
    case 3:
        echo_rights(&client, 0x2003, 0x2103, 0x2203, 0x2303, 0x2403, &ports[0], &ports[1], &ports[2]);
        break;
    case 4:
        echo_even(&client, next_random(), &number);
        break;
    case 5:
        echo_after_skip(&client, &id);
        break;
    case 6:
        echo_note(&client, 5);
        break;
    case 7:
        echo_reflect(&client, region, next_random() % sizeof region, &copy, &copy_size);
        break;
    case 8:
        echo_records(&client, &record, many, next_random() % 5, &record_out, records_out, &count);
        break;
    case 9:
        echo_arrays(&client, small, next_random() % 10, halves, next_random() % 8, words, next_random() % 6, longs,
                    next_random() % 4, flags, next_random() % 7, rsmall, &counts[0], rhalves, &counts[1], rwords,
                    &counts[2], rlongs, &counts[3], rflags, &counts[4]);
        break;
    case 10:
        echo_optional_rights(&client, next_random() % 2 ? 0x2503 : MACH_PORT_NULL,
                             next_random() % 2 ? 0x2603 : MACH_PORT_NULL, MACH_PORT_NULL, &ports[0], &number);
        break;
    case 11:
        echo_whoami(&client, 0, &number, &number, &flag, &number, groups, &count);
        break;
    case 12:
    case 13:
        echo_wait(&client, next_random(), &wide, &ports[0]);
        break;
    default:
        echo_release(&client, next_random(), 9);
        break;
    }
}

static uint32_t load(const uint8_t *at)
{
    uint32_t value;
    memcpy(&value, at, 4);
    return value;
}

static void store(uint8_t *at, uint32_t value)
{
    memcpy(at, &value, 4);
}

/* Makes the captured request look delivered by the kernel into `buffer`
 * (`capacity` bytes): dispositions become received types, out-of-line
 * regions become memory of this task (`owned`: whether each was made). */
static void deliver(uint8_t *buffer, uint32_t capacity, bool owned[256])
{
    memset(buffer, 0, capacity);
    uint32_t size = captured_size < capacity - 104 ? captured_size : 0;
    memcpy(buffer, captured, size);
    uint32_t bits = load(buffer);
    uint32_t local = MACH_MSGH_BITS_LOCAL(bits);
    uint32_t received_reply = local == MACH_MSG_TYPE_MAKE_SEND_ONCE || local == MACH_MSG_TYPE_MOVE_SEND_ONCE
                                  ? MACH_MSG_TYPE_PORT_SEND_ONCE
                                  : (local != 0 ? MACH_MSG_TYPE_PORT_SEND : 0);
    store(buffer, (bits & MACH_MSGH_BITS_COMPLEX) | MACH_MSGH_BITS(received_reply, MACH_MSG_TYPE_PORT_SEND));
    store(buffer + 8, received_reply != 0 ? 0x3003 : MACH_PORT_NULL);
    store(buffer + 12, 0x1103);
    memset(owned, 0, 256);
    if ((bits & MACH_MSGH_BITS_COMPLEX) && size >= 28) {
        uint32_t count = load(buffer + 24);
        for (uint32_t index = 0; index < count && index < 256 && 28 + (index + 1) * 16 <= size; index++) {
            uint8_t *descriptor = buffer + 28 + index * 16;
            if (descriptor[11] == MACH_MSG_PORT_DESCRIPTOR) {
                uint32_t disposition = descriptor[10];
                descriptor[10] = disposition == MACH_MSG_TYPE_MOVE_RECEIVE ? MACH_MSG_TYPE_PORT_RECEIVE
                                 : disposition == MACH_MSG_TYPE_MOVE_SEND_ONCE ||
                                         disposition == MACH_MSG_TYPE_MAKE_SEND_ONCE
                                     ? MACH_MSG_TYPE_PORT_SEND_ONCE
                                     : MACH_MSG_TYPE_PORT_SEND;
                if (load(descriptor) != MACH_PORT_NULL)
                    store(descriptor, 0x4003 + index * 0x100);
            } else if (descriptor[11] == MACH_MSG_OOL_DESCRIPTOR) {
                uint32_t region_size = load(descriptor + 12);
                void *memory = region_size == 0 ? NULL : region_allocate(region_size);
                uint64_t address = (uint64_t)(uintptr_t)memory;
                memcpy(descriptor, &address, 8);
                descriptor[8] = 0;
                descriptor[9] = MACH_MSG_VIRTUAL_COPY;
                owned[index] = memory != NULL;
            }
        }
    }
    /* The trailer, plain or audit. */
    uint8_t *trailer = buffer + size;
    bool audit = next_random() % 3 == 0;
    store(trailer, MACH_MSG_TRAILER_FORMAT_0);
    store(trailer + 4, audit ? MACH_MSG_AUDIT_TRAILER_SIZE : MACH_MSG_TRAILER_SIZE);
    store(trailer + 8, next_random());
    store(trailer + 12, 7);
    if (audit) {
        for (uint32_t word = 0; word < 22; word++)
            store(trailer + 16 + 4 * word, next_random() % 40);
    }
}

/* Damages the delivered request: bytes of its inline data, its size or
 * descriptor count, or the id. Regions stay owned by the descriptors that
 * still describe them; one whose descriptor was damaged is freed here. */
static void damage(uint8_t *buffer, uint32_t capacity, bool owned[256])
{
    uint32_t size = load(buffer + 4);
    uint32_t kind = next_random() % 6;
    if (kind == 0) {
        store(buffer + 20, ECHO_SUBSYSTEM_BASE + next_random() % (ECHO_ID_COUNT + 2));
    } else if (kind == 1 && size > 24) {
        store(buffer + 4, 24 + 4 * (next_random() % ((capacity - 200) / 4)));
    } else if (kind == 2 && size >= 28 && (load(buffer) & MACH_MSGH_BITS_COMPLEX)) {
        store(buffer + 24, load(buffer + 24) + (next_random() % 3) - 1);
    } else if (size > 24) {
        uint32_t changes = 1 + next_random() % 3;
        for (uint32_t change = 0; change < changes; change++) {
            uint32_t position = 24 + next_random() % (size - 24);
            /* Descriptor bytes holding a region's address are left alone:
             * the kernel, not the sender, writes those. */
            if ((load(buffer) & MACH_MSGH_BITS_COMPLEX) && position >= 28 &&
                position < 28 + 16 * (load(buffer + 24) < 256 ? load(buffer + 24) : 0)) {
                uint32_t index = (position - 28) / 16;
                if (owned[index]) {
                    uint64_t address;
                    memcpy(&address, buffer + 28 + index * 16, 8);
                    region_free((const void *)(uintptr_t)address);
                    owned[index] = false;
                    memset(buffer + 28 + index * 16, 0, 12);
                }
            }
            buffer[position] = (uint8_t)next_random();
        }
    }
    /* Whatever the damage, the trailer follows the message where its size
     * says (a too-large size leaves none: the buffer is zero there). */
}

static bool region_held(uint64_t address)
{
    for (uint32_t index = 0; index < region_count; index++) {
        if ((uint64_t)(uintptr_t)regions[index] == address)
            return true;
    }
    return false;
}

/* What the kernel does to every out-of-line descriptor it delivers, damaged
 * or not: the memory it describes is mapped in this task, and no other
 * region came with the message (one whose descriptor the damage removed
 * never existed). */
static void redeliver(uint8_t *buffer, uint32_t capacity)
{
    uint32_t size = load(buffer + 4);
    uint32_t count = 0;
    if ((load(buffer) & MACH_MSGH_BITS_COMPLEX) && size >= 28 && size <= capacity)
        count = load(buffer + 24);
    for (uint32_t region = 0; region < region_count;) {
        bool described = false;
        for (uint32_t index = 0; index < count && index < 256 && 28 + (index + 1) * 16 <= size; index++) {
            const uint8_t *descriptor = buffer + 28 + index * 16;
            uint64_t address;
            memcpy(&address, descriptor, 8);
            described |= descriptor[11] == MACH_MSG_OOL_DESCRIPTOR && address == (uint64_t)(uintptr_t)regions[region];
        }
        if (described)
            region++;
        else
            region_free(regions[region]);
    }
    for (uint32_t index = 0; index < count && index < 256 && 28 + (index + 1) * 16 <= size; index++) {
        uint8_t *descriptor = buffer + 28 + index * 16;
        uint64_t address;
        memcpy(&address, descriptor, 8);
        if (descriptor[11] != MACH_MSG_OOL_DESCRIPTOR || address == 0 || region_held(address))
            continue;
        uint32_t region_size = load(descriptor + 12);
        if (region_size > 65536) {
            region_size = 0;
            store(descriptor + 12, 0);
        }
        void *memory = region_size == 0 ? NULL : region_allocate(region_size);
        address = (uint64_t)(uintptr_t)memory;
        memcpy(descriptor, &address, 8);
    }
}

/* A reply that was "sent": the regions it moved leave this task. */
static void free_moved(const uint8_t *reply, uint32_t size)
{
    if (size < 28 || !(load(reply) & MACH_MSGH_BITS_COMPLEX))
        return;
    uint32_t count = load(reply + 24);
    for (uint32_t index = 0; index < count && 28 + (index + 1) * 16 <= size; index++) {
        const uint8_t *descriptor = reply + 28 + index * 16;
        if (descriptor[11] == MACH_MSG_OOL_DESCRIPTOR && descriptor[8] != 0) {
            uint64_t address;
            memcpy(&address, descriptor, 8);
            region_free((const void *)(uintptr_t)address);
        }
    }
}

int main(int argc, char **argv)
{
    uint32_t rounds = argc > 1 ? (uint32_t)atoi(argv[1]) : 2000;
    static uint8_t buffer[ECHO_BUFFER_SIZE + 8192];
    static uint8_t reply[ECHO_BUFFER_SIZE];
    bool owned[256];
    uint32_t answered = 0, refused = 0;
    echo_client_init(&client, 0x1203);
    for (uint32_t round = 0; round < rounds; round++) {
        uint32_t capacity = ECHO_BUFFER_SIZE;
        if (round % 5 == 4) {
            /* Random bytes with a header that gets past the first checks. */
            for (uint32_t index = 0; index < capacity; index++)
                buffer[index] = (uint8_t)next_random();
            store(buffer, next_random() % 2 ? MACH_MSGH_BITS_COMPLEX | 0x1112 : 0x1112);
            store(buffer + 4, 24 + 4 * (next_random() % 60));
            store(buffer + 16, 0);
            store(buffer + 20, ECHO_SUBSYSTEM_BASE + next_random() % ECHO_ID_COUNT);
            store(buffer + 24, next_random() % 4);
            memset(owned, 0, sizeof owned);
            redeliver(buffer, capacity);
        } else {
            valid_request(next_random());
            deliver(buffer, capacity, owned);
            if (round % 5 != 0)
                damage(buffer, capacity, owned);
            redeliver(buffer, capacity);
        }
        uint32_t reply_size = 0;
        bool well_formed = mach_idl_request_valid(buffer, capacity);
        mach_idl_dispatch_t result = echo_dispatch(&handlers, NULL, buffer, capacity, reply, sizeof reply, &reply_size);
        if (result == MACH_IDL_REPLY) {
            if (reply_size < 28 || reply_size > sizeof reply)
                return 9;
            if (load(reply + reply_size - 4) == (uint32_t)MIG_BAD_ARGUMENTS && reply_size == 28)
                refused++;
            else
                answered++;
            free_moved(reply, reply_size);
        }
        /* A well-formed request of the interface leaves nothing behind; one
         * outside it is untouched, and bytes no kernel delivers release
         * nothing (the test frees those itself). */
        uint32_t left = region_free_all();
        if (left != 0 && well_formed && result != MACH_IDL_UNKNOWN_ID) {
            fprintf(stderr, "fuzz_server: round %u left %u region(s) unreleased\n", round, left);
            return 11;
        }
    }
    while (waiting_count > 0)
        echo_wait_reply(&waiting[--waiting_count], ECHO_REFUSED, 0, MACH_PORT_NULL);
    fprintf(stderr, "%u requests, %u answered, %u refused, %u deferred answers, %u rights released\n", rounds,
            answered, refused, deferred_answers, released_rights);
    return 0;
}
